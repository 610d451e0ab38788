/* stats.h -- the end-of-run summary (for a person) and the same as JSON. */
#ifndef STATS_H
#define STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alerts.h"
#include "assets.h"
#include "classify.h"
#include "detect.h"
#include "dns-cache.h"
#include "flow.h"
#include "frag.h"
#include "output-redis.h"
#include "pipeline.h"
#include "source-pcap-live.h"

/* Every counter of a run, its workers summed. One struct per module, each
 * named by its module's counter list (counters.h): the summary, --stats,
 * the Redis stats hash and the metrics file all read this. */
struct run_counters {
    struct pipeline_stats ps; /* with the decode counters and the tallies */
    struct flow_table_stats ft;
    struct classify_stats cl;
    struct frag_stats fr;
    struct detect_stats det;
    struct dns_cache_stats dns;
    struct alert_stats al;
    struct assets_stats as;
    struct source_live_stats cap; /* live capture; zero reading files */
};

/* Add src's counters to dst, by name (counters.h), and merge the packet
 * times (the earliest first, the latest last) and the tallies (by
 * application, by country). Cannot fail. */
void run_counters_add(struct run_counters *dst, const struct run_counters *src);

/* Call fn for every named counter of c, in a fixed order (the order of
 * --stats): its descriptor and value. Cannot fail. */
typedef void (*run_counter_fn)(const struct ctr_desc *d, uint64_t value, void *ud);
void run_counters_foreach(const struct run_counters *c, run_counter_fn fn, void *ud);

struct assets;

/* One -r input as it was read: its outcome and what it held. */
struct run_input {
    const char *path; /* as given, or as found in a -r folder */
    int status;       /* SRC_FILE_OK, _TRUNCATED, _DAMAGED or _ERROR */
    uint64_t packets, bytes;
    uint64_t first_us, last_us; /* packet times as read; 0 without packets */
};

/* Everything the summary reports; pointers are borrowed. */
struct run_report {
    const struct run_counters *c;
    bool detection;                   /* a signature pack was loaded */
    const struct assets *assets;      /* may be NULL */
    const struct out_redis_stats *rs; /* NULL when Redis is off */
    const char *redis_url;
    const char *redis_spool_dir;
    uint64_t redis_undelivered;
    size_t bytes_per_flow;
    double elapsed_s;         /* wall-clock seconds */
    unsigned workers;         /* analysis threads (0 is shown as 1) */
    long peak_rss_kb;         /* 0 when unknown */
    unsigned files_read;      /* inputs fully read */
    unsigned files_truncated; /* the last record cut off: a warning */
    unsigned files_damaged;   /* damage with more after it: an error */
    unsigned files_failed;
    unsigned files_skipped;  /* files in -r folders that are not captures */
    unsigned time_restarts;  /* captures that did not continue the previous one */
    unsigned restart_errors; /* of which nDPI could not start afresh */
    unsigned top_n;          /* rows in the top tables */
    /* The -r inputs as read, in order; NULL for a live run. */
    const struct run_input *inputs;
    unsigned n_inputs;
    /* Live capture (n_ifaces > 0): the interfaces; their counters are in
     * c->cap. */
    const char *const *ifaces;
    unsigned n_ifaces;
    unsigned ifaces_lost; /* stopped by an error during the run */
};

/* Print the summary a person reads at a glance. Cannot fail. */
void stats_print_summary(FILE *fp, const struct run_report *r);

/* Write the same as one JSON object to path ("-" = standard output).
 * Returns 0, or -1 with a message in errbuf. */
int stats_write_json(const char *path, const struct run_report *r, char *errbuf, size_t errlen);

/* Peak resident set size of this process in KiB (0 when unknown). */
long stats_peak_rss_kb(void);

/* Human-readable bytes: 1536 -> "1.5 KiB" into buf. Returns buf. */
const char *stats_bytes(double v, char *buf, size_t len);

/* Human-readable count: 1234567 -> "1.23M" into buf. Returns buf. */
const char *stats_human(double v, char *buf, size_t len);

#endif
