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

#include "counters.h"
#include "decode.h"
#include "ja4.h"

struct sensor_config;
struct geo;
struct out_flows;
struct pipeline;
struct flow_table_stats;

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
    const char *org; /* borrowed from the ASN database (geo.h), org_len bytes */
    uint32_t asn;    /* 0: empty slot */
    uint8_t org_len;
    uint64_t flows;
    uint64_t bytes_out;
};

#define PIPELINE_COUNTERS(X, T)                                                                    \
    X(T, packets, "packets.total", CTR_COUNTER, "frames read")                                     \
    X(T, bytes, "packets.bytes", CTR_COUNTER, "frame bytes on the wire")                           \
    X(T, ip_packets, "packets.ip", CTR_COUNTER, "frames that decoded to an IP packet")             \
    X(T, time_backwards, "packets.time_backwards", CTR_COUNTER,                                    \
      "packets older than the clock (their time was clamped)")                                     \
    X(T, bytes_out, "packets.bytes_out", CTR_COUNTER,                                              \
      "IP bytes sent from home_net to outside, counted as flows end")                              \
    X(T, unknown_country_bytes_out, "packets.bytes_out_unlocated", CTR_COUNTER,                    \
      "of those, bytes sent to addresses the country database does not locate")                    \
    X(T, app_overflow, "flows.app_table_full", CTR_COUNTER,                                        \
      "flows left out of the per-application tallies: the table was full")                         \
    X(T, as_overflow_flows, "flows.as_table_full", CTR_COUNTER,                                    \
      "egress flows left out of the per-AS tallies: the table was full")                           \
    X(T, as_overflow_bytes_out, "packets.bytes_out_as_table_full", CTR_COUNTER,                    \
      "bytes out of those flows")                                                                  \
    X(T, unknown_as_flows, "flows.egress_unknown_as", CTR_COUNTER,                                 \
      "egress flows to an address the ASN database does not know")                                 \
    X(T, unknown_as_bytes_out, "packets.bytes_out_unknown_as", CTR_COUNTER,                        \
      "bytes out of those flows")

/* One pipeline's packet counters and tallies. The counters are named by
 * PIPELINE_COUNTERS and flows_by_dir (pipeline_counters); the packet times
 * and the tallies are merged by pipeline_stats_add(). */
struct pipeline_stats {
    PIPELINE_COUNTERS(CTR_FIELD, struct pipeline_stats)
    uint64_t flows_by_dir[4];   /* by enum flow_direction */
    uint64_t first_us, last_us; /* packet times: the first and the last */
    struct decode_stats dec;    /* decode_counters */
    struct ja4_stats ja4;       /* ja4_counters */
    struct app_tally apps[STATS_APP_SLOTS];
    /* per destination country (index (c0-'A')*26 + (c1-'A')), bytes out and flows */
    uint64_t country_bytes_out[26 * 26];
    uint64_t country_flows[26 * 26];
    struct as_tally ases[STATS_AS_SLOTS]; /* per destination AS, egress */
};
extern const struct ctr_table pipeline_counters;

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
 * of the first packet of file i, and names[i] its path as the input list
 * holds it, for the first *n files; the reader sets starts[i] and
 * names[i], then stores n = i + 1 (release) before file i's first packet,
 * and never changes an entry again. A new flow is stamped with its first
 * packet's file (flow.input), once per flow; its records name the file
 * (pcap_filename). Call before traffic starts; all three must outlive pl. */
void pipeline_set_inputs(struct pipeline *pl, const uint64_t *starts, const char *const *names,
                         const atomic_uint *n);

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

/* This pipeline's packet counters and tallies, and its flow table's
 * counters (for progress and status lines). Never NULL. */
/* The capture that follows does not continue the one before (reading
 * files): every flow ends (end-of-input) at stream position order, and the
 * clock, the fragment trains, the DNS bindings and nDPI's caches start
 * afresh, so that the next capture's flows come out as they would read
 * alone. Returns 0, or -1 with a message in errbuf (nDPI could not start
 * again: the old module is kept). */
int pipeline_restart(struct pipeline *pl, uint64_t order, char *errbuf, size_t errlen);

/* The stream position just before this pipeline's next packet (its own
 * clock: reading files with one worker). */
uint64_t pipeline_next_order(const struct pipeline *pl);

const struct pipeline_stats *pipeline_stats(const struct pipeline *pl);
const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pl);
size_t pipeline_bytes_per_flow(const struct pipeline *pl);

/* Add src's counters to dst by name (pipeline_counters, decode_counters),
 * the packet times (the earliest first, the latest last) and the tallies
 * (by application, by country). Cannot fail. */
void pipeline_stats_add(struct pipeline_stats *dst, const struct pipeline_stats *src);

/* Add every counter of pl -- packets and tallies, flow table,
 * classification, fragments, detection, DNS cache -- to rc (stats.h), by
 * name. Cannot fail. */
struct run_counters;
void pipeline_counters_add(const struct pipeline *pl, struct run_counters *rc);

#endif
