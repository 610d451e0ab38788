/* pipeline.h -- one worker's packet pipeline: decode -> flow -> classify -> output.
 *
 * A pipeline owns its flow table, fragment table and classifier; the
 * configuration, geo databases and output are shared and read-only (the
 * output is called from the thread that drives this pipeline). Offline
 * reading and live capture feed packets through the same pipeline_packet(). */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
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

#define STATS_AS_SLOTS 1024

/* Per destination autonomous system tallies of egress flows. */
struct as_tally {
    uint32_t asn; /* 0: empty slot */
    char org[60]; /* truncated */
    uint64_t flows;
    uint64_t bytes_out;
};

struct pipeline_stats {
    uint64_t packets;    /* frames read */
    uint64_t bytes;      /* frame bytes on the wire (pcap len) */
    uint64_t ip_packets; /* frames that decoded to an IP packet */
    uint64_t first_us, last_us;
    uint64_t time_backwards; /* packets older than the clock (clamped) */
    uint64_t flows_by_dir[4];
    uint64_t bytes_out; /* from home_net to outside */
    struct decode_stats dec;
    struct app_tally apps[STATS_APP_SLOTS];
    uint64_t app_overflow;
    /* per destination country (index (c0-'A')*26 + (c1-'A')), bytes out and flows */
    uint64_t country_bytes_out[26 * 26];
    uint64_t country_flows[26 * 26];
    uint64_t unknown_country_bytes_out;
    /* per destination AS (egress), like the countries; flows to an AS
     * that found no slot, or to no known AS, are counted apart */
    struct as_tally ases[STATS_AS_SLOTS];
    uint64_t as_overflow_flows, as_overflow_bytes_out;
    uint64_t unknown_as_flows, unknown_as_bytes_out;
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

/* The same for one of several pipelines sharing the traffic, this one
 * taking parts/whole of the flows: the flow and fragment tables get that
 * share of the configured sizes (at least SHARE_MIN_FLOWS flows and
 * fragment trains, for the DNS answers and ticks every worker sees). */
#define SHARE_MIN_FLOWS 64
struct pipeline *pipeline_new_share(const struct sensor_config *cfg, const struct geo *geo,
                                    struct out_flows *out, const struct sig_pack *pack,
                                    struct alert_sink *sink, unsigned parts, unsigned whole,
                                    char *errbuf, size_t errlen);

/* Process one frame of link type dlt. ts_us is the capture time, caplen
 * the captured bytes, wirelen the frame's length on the wire. Never fails:
 * bad frames are counted. */
void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *frame,
                     size_t caplen, size_t wirelen);

/* Stream order. Every packet and every expiry pass has a position in the
 * packet stream: the packet with sequence number seq (1, 2, ...) is
 * PIPELINE_ORDER(seq, 1), an expiry pass run just before it
 * PIPELINE_ORDER(seq, 0), the final flush PIPELINE_ORDER_EOF. Alerts carry
 * the position at which they were raised (alerts.h), which is the same
 * whether one pipeline reads a capture or several share it. */
#define PIPELINE_ORDER(seq, phase) ((uint64_t)(seq)*2u + (phase))
#define PIPELINE_ORDER_EOF (UINT64_MAX - 1u)
#define PIPELINE_EXPIRE_US 1000000u /* expiry passes, in packet time */

/* The stream position of the packet or pass processed last. */
uint64_t pipeline_order(const struct pipeline *pl);

/* A reload (SIGHUP), on the thread that runs pl: match with pack from now
 * on (NULL: detection off), home_net from cfg. Flows in the table keep
 * their state; the strongest match each one holds is translated to the
 * new pack by signature id (dropped when the signature is gone). cfg and
 * pack must outlive pl or the next call; the old ones are no longer used
 * once this returns. */
void pipeline_reconfigure(struct pipeline *pl, const struct sensor_config *cfg,
                          const struct sig_pack *pack);

/* Live capture with several workers: use the DNS cache c, shared under
 * lock, instead of this pipeline's own (detector_share_dns()). */
struct dns_cache;
void pipeline_share_dns(struct pipeline *pl, struct dns_cache *c, pthread_mutex_t *lock);

/* This pipeline is one of several fed by a dispatcher (workers.h), which
 * owns the clock: it clamps packet time, numbers the packets and decides
 * when expiry passes run (pipeline_tick_at()); pipeline_packet() is not
 * used. Call before the first packet. */
void pipeline_set_dispatched(struct pipeline *pl);

/* A packet from the dispatcher, at stream position order, already
 * decoded there: pkt, or NULL when it is not IP or is malformed (the
 * dispatcher counts why: workers_decode_stats()). A later fragment gets
 * its datagram's ports in *pkt. */
struct packet;
void pipeline_packet_at(struct pipeline *pl, uint64_t order, uint64_t ts_us, struct packet *pkt,
                        size_t wirelen);

/* Reading files: starts[i] is the sequence number (PIPELINE_ORDER's seq)
 * of the first packet of file i, for the first *n files; the reader sets
 * starts[i] and then stores n = i + 1 (release) before file i's first
 * packet, and never changes an entry again. A new flow is stamped with its
 * first packet's file (flow.input), once per flow. Call before traffic
 * starts; both must outlive pl. */
void pipeline_set_inputs(struct pipeline *pl, const uint64_t *starts, const atomic_uint *n);

/* An expiry pass from the dispatcher at stream position order. */
void pipeline_tick_at(struct pipeline *pl, uint64_t order, uint64_t now_us);

/* A DNS response that belongs to another pipeline's flow: only its
 * bindings are read, into this pipeline's DNS cache, so every pipeline
 * knows every name a client resolved. Nothing is counted. */
void pipeline_dns_only(struct pipeline *pl, uint64_t ts_us, const struct packet *pkt);

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

/* Add src's counters to dst (times: the earliest first, the latest last;
 * application tallies by application). */
void pipeline_stats_add(struct pipeline_stats *dst, const struct pipeline_stats *src);

/* Every counter of n pipelines, summed, into the given structures (the
 * peaks are sums of each pipeline's peak: an upper bound). */
void pipeline_stats_sum(struct pipeline *const *pls, unsigned n, struct pipeline_stats *ps,
                        struct flow_table_stats *fts, struct classify_stats *cs,
                        struct frag_stats *frs, struct detect_stats *ds,
                        struct dns_cache_stats *dcs);

#endif
