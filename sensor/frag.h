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

struct packet;
struct frag_table;

/* Seconds a fragment train is remembered (RFC 791's reassembly timer is
 * a local choice; Linux uses 30 s, ipfrag_time). */
#define FRAG_TIMEOUT_S 30

struct frag_stats {
    uint64_t first;   /* first fragments seen */
    uint64_t later;   /* later fragments seen */
    uint64_t matched; /* later fragments attributed to a flow */
    uint64_t orphans; /* later fragments whose first fragment was not seen */
    uint64_t evicted; /* trains dropped because the table was full */
    uint64_t expired; /* trains forgotten after the timeout */
    uint64_t active;
    uint64_t peak_active;
};

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

#endif
