/* stats.h -- the end-of-run summary (for a person) and the same as JSON. */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pipeline_stats;
struct flow_table_stats;
struct classify_stats;
struct frag_stats;
struct detect_stats;
struct assets;
struct assets_stats;
struct dns_cache_stats;
struct run_input;

#include "alerts.h"
#include "output-redis.h"

/* Everything the summary reports; pointers are borrowed. */
struct run_report {
    const struct pipeline_stats *ps;
    const struct flow_table_stats *fts;
    const struct classify_stats *cs;
    const struct frag_stats *frs;
    const struct detect_stats *ds; /* may be NULL */
    struct alert_stats as;
    const struct assets *assets;       /* may be NULL */
    const struct dns_cache_stats *dcs; /* may be NULL */
    const struct assets_stats *ast;    /* may be NULL */
    const struct out_redis_stats *rs;  /* NULL when Redis is off */
    const char *redis_url;
    const char *redis_spool_dir;
    uint64_t redis_undelivered;
    size_t bytes_per_flow;
    double elapsed_s;    /* wall-clock seconds */
    unsigned workers;    /* analysis threads (0 is shown as 1) */
    long peak_rss_kb;    /* 0 when unknown */
    unsigned files_read; /* inputs fully read */
    unsigned files_truncated;
    unsigned files_failed;
    unsigned top_n; /* rows in the top tables */
    /* The -r inputs as read (run.h), in order; NULL for a live run. */
    const struct run_input *inputs;
    unsigned n_inputs;
    /* Live capture (n_ifaces > 0): the interfaces and pcap_stats() summed
     * over them; zero for an offline run. */
    const char *const *ifaces;
    unsigned n_ifaces;
    unsigned ifaces_lost;  /* stopped by an error during the run */
    uint64_t cap_received; /* ps_recv */
    uint64_t cap_drops;    /* ps_drop: no room in the kernel buffer */
    uint64_t cap_if_drops; /* ps_ifdrop: dropped by the interface or driver */
};

/* Print the summary a person reads at a glance. Cannot fail. */
void stats_print_summary(FILE *fp, const struct run_report *r);

/* Write the same as one JSON object to path ("-" = standard output).
 * Returns 0, or -1 with a message in errbuf. */
int stats_write_json(const char *path, const struct run_report *r, char *errbuf, size_t errlen);

/* Peak resident set size of this process in KiB (0 when unknown). */
long stats_peak_rss_kb(void);

/* Human-readable count: 1234567 -> "1.23M" into buf. Returns buf. */
const char *stats_human(double v, char *buf, size_t len);

#endif
