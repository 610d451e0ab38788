/* classify.h -- application classification of flows with nDPI.
 *
 * One classifier per worker (an nDPI detection module is not shared between
 * threads). A flow gets nDPI state on its first packet; packets are given to
 * nDPI until it has a label and no more metadata to extract, or until the
 * per-protocol packet budget is spent, then ndpi_detection_giveup() settles
 * the label. What the flow keeps (label ids, risk, host, TLS and HTTP
 * fields) is copied into the flow and the nDPI state is freed, so a
 * classified flow costs only its table slot. */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct flow;
struct packet;
struct classifier;

struct classify_config {
    uint32_t max_packets_tcp; /* packets per flow given to nDPI */
    uint32_t max_packets_udp;
    uint32_t max_packets_other;
};

#define CLASSIFY_COUNTERS(X, T)                                                                    \
    X(T, classified, "classification.classified", CTR_COUNTER, "flows labelled by inspection")     \
    X(T, gave_up, "classification.gave_up", CTR_COUNTER,                                           \
      "flows settled when inspection gave up (ndpi_detection_giveup)")                             \
    X(T, guessed, "classification.guessed", CTR_COUNTER, "of those, labelled by nDPI's guess")     \
    X(T, dpi_packets, "classification.dpi_packets", CTR_COUNTER, "packets given to nDPI")          \
    X(T, dpi_alloc_fail, "classification.dpi_alloc_fail", CTR_COUNTER,                             \
      "flows left unclassified for lack of memory")                                                \
    X(T, dpi_active, "classification.dpi_active", CTR_GAUGE, "flows holding nDPI state now")       \
    X(T, dpi_active_peak, "classification.dpi_active_peak", CTR_PEAK,                              \
      "most flows holding nDPI state at once")

struct classify_stats {
    CLASSIFY_COUNTERS(CTR_FIELD, struct classify_stats)
};
extern const struct ctr_table classify_counters;

/* Create a classifier. Returns NULL with a message in errbuf on failure.
 * Free with classify_free(). */
struct classifier *classify_new(const struct classify_config *cfg, char *errbuf, size_t errlen);

/* Free the classifier and its nDPI module. Flows still holding nDPI state
 * must have been released with classify_release() first. NULL is a no-op. */
void classify_free(struct classifier *c);

/* A fresh nDPI detection module for c, so that nothing nDPI learnt from
 * earlier flows (its address caches) labels the next: for a capture that
 * does not continue the previous one. No flow may be being classified.
 * The statistics are kept. Returns 0, or -1 with a message in errbuf (c
 * keeps its module). */
int classify_restart(struct classifier *c, char *errbuf, size_t errlen);

/* Give one packet of flow f to nDPI (if the flow is still being classified).
 * time_ms is the packet time. Cheap no-op once the flow is classified. */
void classify_packet(struct classifier *c, struct flow *f, const struct packet *pkt,
                     uint64_t time_ms);

/* Settle the label of a flow that ends while still being classified (give
 * up with guessing), copy its metadata and free its nDPI state. No-op for a
 * classified flow. */
void classify_finish(struct classifier *c, struct flow *f);

/* Write the application name of f in nDPI's form ("TLS.Google", "DNS",
 * "Unknown") to buf. Returns buf. */
const char *classify_app_name(const struct classifier *c, const struct flow *f, char *buf,
                              size_t len);

/* The two parts of f's label as nDPI names them, for matching: *master
 * ("TLS", "DNS") and *app ("Google"); "" for a part that is unknown or
 * absent (a one-part label has only *master). The names are nDPI's own
 * storage, valid as long as c. Cannot fail. */
void classify_app_parts(const struct classifier *c, const struct flow *f, const char **master,
                        const char **app);

/* Whether the flow's label involves protocol family p ("TLS", "HTTP",
 * "DNS", "QUIC"). */
enum { CLASSIFY_IS_TLS = 1, CLASSIFY_IS_HTTP, CLASSIFY_IS_DNS, CLASSIFY_IS_QUIC };
int classify_is(const struct flow *f, int family);

/* Names of the risks set in mask, one call per risk: fills names[] with up
 * to max entries, returns the count. */
size_t classify_risk_names(uint64_t mask, const char **names, size_t max);

const struct classify_stats *classify_stats(const struct classifier *c);

/* nDPI's version string ("4.2.0"). */
const char *classify_ndpi_version(void);

#endif
