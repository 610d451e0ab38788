/* frag.h -- IP fragment attribution.
 *
 * The first fragment of a datagram carries the transport header; the later
 * ones do not. The first fragment's ports are remembered under (addresses,
 * protocol, identification) so later fragments are counted against their
 * flow. Bounded: at most max trains, each forgotten after timeout seconds;
 * when full, the oldest train is dropped and counted. No reassembly. */
#ifndef FRAG_H
#define FRAG_H

#include <stdint.h>

#include "counters.h"

struct packet;
struct frag_table;

/* Seconds a fragment train is remembered (RFC 791's reassembly timer is
 * a local choice; Linux uses 30 s, ipfrag_time). */
#define FRAG_TIMEOUT_S 30

#define FRAG_COUNTERS(X, T)                                                                        \
    X(T, first, "fragments.first", CTR_COUNTER, "first fragments seen (they carry the ports)")     \
    X(T, later, "fragments.later", CTR_COUNTER, "later fragments seen")                            \
    X(T, matched, "fragments.attributed", CTR_COUNTER,                                             \
      "later fragments counted against their flow")                                                \
    X(T, orphans, "fragments.orphans", CTR_COUNTER,                                                \
      "later fragments whose first fragment was not seen")                                         \
    X(T, evicted, "fragments.evicted", CTR_COUNTER, "trains dropped because the table was full")   \
    X(T, expired, "fragments.expired", CTR_COUNTER, "trains forgotten after the timeout")          \
    X(T, active, "fragments.active", CTR_GAUGE, "trains tracked now")                              \
    X(T, peak_active, "fragments.peak_active", CTR_PEAK, "most trains tracked at once")

struct frag_stats {
    FRAG_COUNTERS(CTR_FIELD, struct frag_stats)
};
extern const struct ctr_table frag_counters;

/* Create a table for max trains. Returns NULL on allocation failure. Free
 * with frag_table_free(); NULL is a no-op there. */
struct frag_table *frag_table_new(uint32_t max, uint32_t timeout_s);
void frag_table_free(struct frag_table *ft);

/* Remember the ports of a PKT_FRAG_FIRST packet. Never allocates. */
void frag_note_first(struct frag_table *ft, const struct packet *pkt, uint64_t now_us);

/* For a PKT_FRAG_LATER packet, set pkt->sport/dport from its first
 * fragment. Returns 0 when found, -1 (counted as orphan) otherwise. */
int frag_attribute(struct frag_table *ft, struct packet *pkt, uint64_t now_us);

const struct frag_stats *frag_table_stats(const struct frag_table *ft);

/* Forget every train (a capture that does not continue the previous one);
 * the statistics are kept. */
void frag_table_clear(struct frag_table *ft);

#endif
