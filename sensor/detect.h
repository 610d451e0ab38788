/* detect.h -- the detection stage: vendor dissectors, DNS answers, and one
 * signature match per flow.
 *
 * Per packet, only two things happen here: DNS responses feed the DNS cache
 * (every response carries new bindings), and a flow whose server port a
 * vendor dissector declared shows that dissector its first payload packets.
 * When a flow's metadata is complete -- nDPI is done and no dissector is
 * waiting -- detector_flow() runs once: the signature match, with the
 * flow's direction and geo already settled (enrich.h). Every flow is
 * matched, in every direction; the hits that name an internal end of the
 * flow (alert_ends()) go to the alert sink, which identifies and alerts. */
#ifndef DETECT_H
#define DETECT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct flow;
struct packet;
struct classifier;
struct sensor_config;
struct sig_pack;
struct alert_sink;
struct dns_cache;
struct detector;

#define DETECT_COUNTERS(X, T)                                                                      \
    X(T, flows_matched, "detection.flows_matched", CTR_COUNTER,                                    \
      "flows run through the signatures (every direction)")                                        \
    X(T, flows_hit, "detection.flows_hit", CTR_COUNTER, "of which matched a signature")            \
    X(T, flows_identified, "detection.flows_identified", CTR_COUNTER,                              \
      "of which named an internal end (the others: the signature's end is outside)")               \
    X(T, dns_responses, "detection.dns_responses", CTR_COUNTER, "DNS responses parsed")            \
    X(T, dns_bindings, "detection.dns_bindings", CTR_COUNTER, "address bindings learned from DNS") \
    X(T, dns_bad, "detection.dns_bad", CTR_COUNTER, "DNS responses that did not parse")            \
    X(T, dis_packets, "detection.dissector_packets", CTR_COUNTER,                                  \
      "payload packets shown to vendor dissectors")                                                \
    X(T, dis_verdicts, "detection.dissector_verdicts", CTR_COUNTER,                                \
      "flows a vendor dissector recognised")

struct detect_stats {
    DETECT_COUNTERS(CTR_FIELD, struct detect_stats)
};
extern const struct ctr_table detect_counters;

/* Create a detector for one pipeline. pack may be NULL (no detection);
 * sink may be NULL. Returns NULL with a message in errbuf. Free with
 * detector_free(); NULL is a no-op there. */
struct detector *detector_new(const struct sensor_config *cfg, const struct sig_pack *pack,
                              struct alert_sink *sink, char *errbuf, size_t errlen);
void detector_free(struct detector *d);

/* Use c, shared with other workers under lock, instead of this detector's
 * own DNS cache (live capture with several workers: the answer and the
 * flow it names may reach different workers). c and lock outlive d. */
void detector_share_dns(struct detector *d, struct dns_cache *c, pthread_mutex_t *lock);

/* A reload: match with pack (NULL: detection off) from now on; it must
 * outlive d or the next call. The DNS cache is kept (its size is not
 * reloaded). Flows that hold an index into the old pack are the caller's
 * to translate (pipeline_reconfigure()). */
void detector_reconfigure(struct detector *d, const struct sig_pack *pack);
const struct sig_pack *detector_pack(const struct detector *d);

/* Reading files: the run's input list (flow.input names an entry), for
 * the pcap_filename of alerts and asset events; it must outlive d. NULL
 * (the default): live. */
void detector_set_inputs(struct detector *d, const char *const *names);

/* The position in the packet stream of what is being processed now; it
 * orders the alerts raised meanwhile (struct alert_flow). */
void detector_set_order(struct detector *d, uint64_t order);

/* A packet, before its flow is looked up: a DNS response (UDP from port
 * 53) feeds its bindings for the client (the packet's destination) into
 * the cache. Every response carries new bindings, so they are read for as
 * long as a flow lives. count: 0 when this worker only keeps its cache up
 * to date with an answer that belongs to another worker's flow (not
 * counted in the statistics). */
void detector_dns(struct detector *d, const struct packet *pkt, uint64_t ts_us, int count);

/* A new flow (orientation settled) at ts_us: decide which dissectors want
 * it, and note the name its client resolved to the server now -- the DNS
 * answer is freshest then, before a flood of answers can push it out. */
void detector_flow_new(struct detector *d, struct flow *f, uint64_t ts_us);

/* Per packet of flow f (dir: FLOW_TOSERVER / FLOW_TOCLIENT). Cheap unless
 * the packet is a DNS response or the flow has an interested dissector. */
void detector_packet(struct detector *d, struct flow *f, const struct packet *pkt, int dir,
                     uint64_t ts_us);

/* Whether f's metadata is complete and it has not been matched yet. */
int detector_ready(const struct flow *f);

/* Match f once (no-op when already done), enriched first (flow_enrich());
 * cl names the application. Call when detector_ready() turns true. */
void detector_flow(struct detector *d, struct flow *f, const struct classifier *cl, uint64_t ts_us);

/* f ends (enriched, its classification settled): dissectors still
 * undecided give no verdict, f is matched if it was not yet, and the bytes
 * the ends its strongest match names sent out count in the inventory. */
void detector_flow_end(struct detector *d, struct flow *f, const struct classifier *cl);

/* A capture that does not continue the previous one: forget the DNS
 * bindings (the detector's own cache; a shared one is left alone). */
void detector_restart(struct detector *d);

const struct detect_stats *detector_stats(const struct detector *d);
/* The detector's own DNS cache; NULL while it shares another's. */
const struct dns_cache *detector_dns_cache(const struct detector *d);

#endif
