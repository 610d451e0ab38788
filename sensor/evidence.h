/* evidence.h -- what the report keeps of detections beyond the inventory.
 *
 * The asset inventory (assets.h) says which host runs which product and
 * counts its flows and bytes; a reviewer also wants to see why. For each
 * (internal host, vendor, product) this keeps:
 *
 *   - the indicators that matched, each with its signature and the number
 *     of flows it matched (at most EVIDENCE_MAX_INDICATORS);
 *   - the destination networks (AS number and organisation, at most
 *     EVIDENCE_MAX_NETWORKS);
 *   - copies of the first EVIDENCE_SAMPLES alerts raised, with the
 *     capture file their flow started in, and the count of alerts and the
 *     highest severity and confidence;
 *
 * and for each (vendor, product), over all hosts, a timeline: flows,
 * alerts and bytes out per time bucket, in at most EVIDENCE_BUCKETS
 * buckets whose width grows (1 s, 5 s, 10 s, 30 s, 1 min, ... 1 day, 1
 * week, then 4 weeks at a time) as the run grows, so memory stays fixed.
 *
 * It is fed by the alert sink, once per signature hit, once per alert and
 * once per matching flow's end, never per packet; it is not thread-safe:
 * the sink calls it under its lock. Bounded: at most max_pairs (host,
 * product) pairs and EVIDENCE_MAX_PRODUCTS timelines; what does not fit is
 * counted (evidence_stats()). Vendor and product names are copied, so the
 * signature pack may be replaced while this lives on. */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "community-id.h"
#include "geo.h"
#include "signature.h"

struct alert_flow;
struct alert_rec;
struct flow;
struct sig_hit;
struct signature;

#define EVIDENCE_SAMPLES 5
#define EVIDENCE_MAX_INDICATORS 16
#define EVIDENCE_MAX_NETWORKS 8
#define EVIDENCE_MAX_PRODUCTS 256
#define EVIDENCE_BUCKETS 64

/* One indicator that matched: kind (enum sig_ev_kind), what the flow had,
 * the signature's pattern and the signature's id. Strings owned by the
 * evidence. */
struct evidence_indicator {
    uint8_t kind;
    char *value;
    char *pattern;
    char *signature_id;
    uint64_t flows;
};

struct evidence_network {
    struct geo_result geo; /* the AS's organisation borrowed from the database */
    uint64_t flows;
};

/* A copy of what an alert said. */
struct evidence_sample {
    char alert_id[33];
    uint64_t ts_us;         /* packet time of the match */
    uint64_t flow_start_us; /* the flow's first packet */
    uint32_t input;         /* -r file of the flow's first packet, index + 1; 0 live */
    uint8_t ipver;
    bool has_ports;           /* the ports mean something (TCP, UDP, SCTP) */
    char proto[12];           /* as the flow record names it */
    uint8_t src[16], dst[16]; /* network order */
    uint16_t sport, dport;
    char app[48];
    char server_name[128]; /* TLS/QUIC SNI, HTTP Host or DNS name; "" */
    char community_id[COMMUNITY_ID_LEN];
    struct geo_result geo; /* the server's; borrowed organisation name */
    char signature_id[72];
    uint8_t category, severity, confidence;
    uint64_t pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient; /* at the match */
};

/* What is kept of one (host, vendor, product). */
struct evidence_pair {
    uint8_t af; /* 4 or 6 */
    uint8_t host[16];
    char vendor[SIG_VENDOR_MAX + 1];
    char product[SIG_PRODUCT_MAX + 1];
    uint64_t hits;                       /* signature hits, repeats included */
    uint64_t alerts;                     /* alerts raised */
    int8_t max_severity, max_confidence; /* -1 before the first */
    unsigned n_indicators, n_networks, n_samples;
    struct evidence_indicator indicators[EVIDENCE_MAX_INDICATORS];
    struct evidence_network networks[EVIDENCE_MAX_NETWORKS];
    struct evidence_sample samples[EVIDENCE_SAMPLES];
};

struct evidence_bucket {
    uint64_t flows, alerts, bytes_out;
};

/* The timeline of one (vendor, product): buckets of width_us, the absolute
 * bucket numbers lo..hi (time / width_us) in use. */
struct evidence_timeline {
    char vendor[SIG_VENDOR_MAX + 1];
    char product[SIG_PRODUCT_MAX + 1];
    uint64_t width_us; /* 0 while empty */
    uint64_t lo, hi;
    struct evidence_bucket b[EVIDENCE_BUCKETS]; /* bucket n at b[n % EVIDENCE_BUCKETS] */
};

struct evidence_stats {
    uint64_t pairs;              /* (host, product) pairs kept */
    uint64_t pairs_dropped;      /* hits for a pair that found no room */
    uint64_t indicators_dropped; /* distinct indicators beyond the bound */
    uint64_t networks_dropped;
    uint64_t samples_dropped;  /* alerts beyond EVIDENCE_SAMPLES per pair */
    uint64_t products_dropped; /* timeline events for a product beyond the bound */
};

struct evidence;

/* Create an evidence store for at most max_pairs (host, product) pairs.
 * NULL on allocation failure or max_pairs 0. Free with evidence_free();
 * NULL is a no-op there. */
struct evidence *evidence_new(uint32_t max_pairs);
void evidence_free(struct evidence *e);

/* A signature hit on an egress flow (repeats included): the flow's client
 * is the host. Counts the indicators, the network and the product's flow.
 * Cannot fail: what does not fit is counted. */
void evidence_note_hit(struct evidence *e, const struct alert_flow *af, const struct sig_hit *hit);

/* An alert was raised: kept as a sample while the pair has room; counted
 * in the product's timeline. Cannot fail. */
void evidence_note_alert(struct evidence *e, const struct alert_rec *a);

/* A flow whose strongest match was sig ended having sent bytes_out:
 * counted in the product's timeline at the flow's start. Cannot fail. */
void evidence_note_bytes(struct evidence *e, const struct flow *f, const struct signature *sig,
                         uint64_t bytes_out);

/* The pair of host (af 4/6, network order), vendor and product, or NULL.
 * Borrowed: valid until the next note or evidence_free(). (Not const: a
 * look-up reorders the store's recency list.) */
const struct evidence_pair *evidence_find(struct evidence *e, int af, const uint8_t *host,
                                          const char *vendor, const char *product);

/* Every (vendor, product) timeline, n of them (in no particular order).
 * Borrowed, as above. Cannot fail. */
const struct evidence_timeline *evidence_timelines(const struct evidence *e, size_t *n);

/* Bucket width that follows w on the ladder (1 s, 5 s, 10 s, 30 s, 1 min,
 * 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 1 day, 1 week, then times 4);
 * every width divides the next, so buckets merge exactly. Cannot fail. */
uint64_t evidence_next_width(uint64_t width_us);

/* Copy of src re-bucketed to width_us (a width src's divides, from the
 * ladder); -1 (dst untouched) when the buckets would span more than
 * EVIDENCE_BUCKETS. */
int evidence_timeline_widen(struct evidence_timeline *dst, const struct evidence_timeline *src,
                            uint64_t width_us);

/* The counters, borrowed (valid until evidence_free()). Cannot fail. */
const struct evidence_stats *evidence_stats(const struct evidence *e);

#endif
