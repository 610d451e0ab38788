/* pipeline.h -- one worker's packet pipeline: decode -> flow -> classify -> output.
 *
 * A pipeline owns its flow table, fragment table and classifier; the
 * configuration, geo databases and output are shared and read-only (the
 * output is called from the thread that drives this pipeline). Offline
 * reading and live capture feed packets through the same pipeline_packet(). */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct sensor_config;
struct geo;
struct out_flows;
struct pipeline;
struct flow_table_stats;
struct classify_stats;
struct frag_stats;

#define STATS_APP_SLOTS 1024

/* Per application (nDPI master/app pair) tallies. */
struct app_tally {
    uint32_t key; /* master << 16 | app, 0 = empty slot... see used */
    uint8_t used;
    char name[48];
    uint64_t flows;
    uint64_t bytes;     /* both directions */
    uint64_t bytes_out; /* from home_net to outside */
};

struct pipeline_stats {
    uint64_t packets;      /* frames read */
    uint64_t bytes;        /* frame bytes on the wire (pcap len) */
    uint64_t ip_packets;   /* frames that decoded to an IP packet */
    uint64_t first_us, last_us;
    uint64_t time_backwards; /* packets older than the clock (clamped) */
    uint64_t flows_by_dir[4];
    uint64_t bytes_out;    /* from home_net to outside */
    struct decode_stats dec;
    struct app_tally apps[STATS_APP_SLOTS];
    uint64_t app_overflow;
    /* per destination country (index (c0-'A')*26 + (c1-'A')), bytes out and flows */
    uint64_t country_bytes_out[26 * 26];
    uint64_t country_flows[26 * 26];
    uint64_t unknown_country_bytes_out;
};

/* Create a pipeline. geo, out, pack and sink may be NULL (no lookups, no
 * flow records, no detection, no alerts). Returns NULL with a message in
 * errbuf on failure. Free with pipeline_free() after pipeline_flush(). */
struct sig_pack;
struct alert_sink;
struct detect_stats;
struct pipeline *pipeline_new(const struct sensor_config *cfg, const struct geo *geo,
                              struct out_flows *out, const struct sig_pack *pack,
                              struct alert_sink *sink, char *errbuf, size_t errlen);
void pipeline_free(struct pipeline *pl);

/* Process one frame of link type dlt. ts_us is the capture time, caplen
 * the captured bytes, wirelen the frame's length on the wire. Never fails:
 * bad frames are counted. */
void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *frame,
                     size_t caplen, size_t wirelen);

/* Expire idle flows as of now_us (also done by pipeline_packet once a
 * second of packet time; live capture calls this on wall-clock ticks). */
void pipeline_tick(struct pipeline *pl, uint64_t now_us);

/* End every flow (reason end-of-input) and write its record. */
void pipeline_flush(struct pipeline *pl);

const struct pipeline_stats *pipeline_stats(const struct pipeline *pl);
const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pl);
const struct classify_stats *pipeline_classify_stats(const struct pipeline *pl);
const struct frag_stats *pipeline_frag_stats(const struct pipeline *pl);
const struct detect_stats *pipeline_detect_stats(const struct pipeline *pl);
struct dns_cache_stats;
const struct dns_cache_stats *pipeline_dns_cache_stats(const struct pipeline *pl);
size_t pipeline_bytes_per_flow(const struct pipeline *pl);

#endif
