/* flow.h -- bidirectional flow table.
 *
 * A fixed pool of flows sized by configuration, a seeded symmetric hash
 * (both directions of a conversation land in the same bucket; the flow keeps
 * its initiator's orientation), and one LRU list per timeout class, so expiry
 * looks only at list heads and never scans the table.
 *
 * The table owns the flows. A flow handed to the expiry callback is valid
 * until the callback returns; the slot is then reused. */
#ifndef FLOW_H
#define FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "community-id.h"
#include "counters.h"
#include "geo.h"

struct ndpi_flow_struct;

/* The 5-tuple plus VLAN, in the initiator's orientation. Addresses in
 * network byte order (IPv4 in the first 4 bytes), ports in host order. */
struct flow_key {
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t sport;
    uint16_t dport;
    uint16_t vlan;
    uint8_t ipver;
    uint8_t proto;
};

/* The key of a decoded packet, in its own orientation (source first). */
struct packet;
void flow_key_from_packet(struct flow_key *k, const struct packet *pkt);

/* Why a flow ended (keep flow_end_name() in step). */
enum flow_end {
    FLOW_END_NONE = 0,
    FLOW_END_TCP_FIN,
    FLOW_END_TCP_RST,
    FLOW_END_IDLE,
    FLOW_END_TABLE_FULL,
    FLOW_END_EOF, /* end of input */
    FLOW_END_MAX
};

/* Timeout classes, one LRU list each. */
enum flow_tclass {
    FLOW_TC_TCP = 0,
    FLOW_TC_TCP_CLOSED,
    FLOW_TC_UDP,
    FLOW_TC_ICMP,
    FLOW_TC_OTHER,
    FLOW_TC_MAX
};

/* The timeout class of a new flow of IP protocol proto (TCP, UDP, ICMP
 * and ICMPv6, other); a TCP flow moves to FLOW_TC_TCP_CLOSED once it has
 * seen a RST or both FINs. Cannot fail. */
int flow_tclass_of(uint8_t proto);

/* Metadata strings a flow keeps after classification, packed into one
 * buffer (flow.meta) in this order, each NUL-terminated. */
enum flow_meta {
    FLOW_META_HOST = 0, /* TLS/QUIC SNI, HTTP Host, DNS query name */
    FLOW_META_UA,       /* HTTP User-Agent */
    FLOW_META_ALPN,
    FLOW_META_SUBJECT, /* TLS server certificate subject */
    FLOW_META_ISSUER,
    FLOW_META_PATH,    /* HTTP request path */
    FLOW_META_DNSNAME, /* name the client resolved to the server, at flow start */
    FLOW_META_DETAIL,  /* what the dissector that matched said about the device */
    FLOW_META_MAX
};

#define FLOW_META_BYTES 256

/* The hello fingerprints, kept in binary (struct flow.fp): JA3 and JA3S
 * (MD5 of the hello's fields, 16 bytes), JA4 (part a, 10 characters, and
 * the 6-byte truncated hashes of parts b and c). Written as text only when
 * a record or a match needs them. */
#define FLOW_JA3_TEXT 33 /* 32 hex digits and NUL */
#define FLOW_JA4_TEXT 37 /* "t13d1516h2_8daaf6152771_e5627efa2ab1" and NUL */
struct flow_fp {
    uint8_t ja3[16], ja3s[16]; /* all zero: none */
    char ja4_a[10];            /* "t13d1516h2"; [0] == 0: none */
    uint8_t ja4_b[6], ja4_c[6];
};

/* Keep a fingerprint given as text: 32 hex digits for JA3/JA3S (which:
 * 0 client, 1 server), a JA4 string for JA4. Returns 0, or -1 (nothing
 * kept) when the text is not of that form. */
struct flow;
int flow_fp_set_ja3(struct flow *f, int which, const char *hex);
int flow_fp_set_ja4(struct flow *f, const char *ja4);

/* The fingerprint as text into buf (FLOW_JA3_TEXT / FLOW_JA4_TEXT bytes);
 * "" when the flow has none. Returns buf. Cannot fail. */
const char *flow_fp_ja3(const struct flow *f, int which, char buf[FLOW_JA3_TEXT]);
const char *flow_fp_ja4(const struct flow *f, char buf[FLOW_JA4_TEXT]);

/* Classification state. */
enum flow_dpi {
    FLOW_DPI_NEW = 0, /* no nDPI state yet */
    FLOW_DPI_ACTIVE,  /* nDPI state held, packets being inspected */
    FLOW_DPI_DONE,    /* classified (or given up); nDPI state freed */
};

/* Where a flow goes relative to home_net (enrich.h settles it). */
enum flow_direction {
    FLOW_DIR_EGRESS = 0, /* client inside, server outside */
    FLOW_DIR_INGRESS,    /* client outside, server inside */
    FLOW_DIR_INTERNAL,   /* both inside */
    FLOW_DIR_EXTERNAL,   /* both outside */
    FLOW_DIR_MAX
};

/* "egress", "ingress", "internal", "external"; "unknown" out of range. */
const char *flow_direction_name(int d);

/* Direction index for per-direction counters. */
enum { FLOW_TOSERVER = 0, FLOW_TOCLIENT = 1 };

struct flow {
    struct flow_key key; /* initiator (client) -> responder (server) */

    /* table links: slot indexes + 1, 0 = none */
    uint32_t hnext;
    uint32_t lru_prev, lru_next;
    uint32_t hash;

    uint64_t first_us, last_us; /* packet time, microseconds since epoch */
    uint64_t pkts[2];           /* [FLOW_TOSERVER], [FLOW_TOCLIENT] */
    uint64_t bytes[2];          /* IP bytes on the wire, per direction */

    uint64_t risk;                /* nDPI risk bitmask */
    struct ndpi_flow_struct *dpi; /* only while dpi_state == FLOW_DPI_ACTIVE */

    uint16_t master_proto, app_proto; /* nDPI ids */
    uint16_t category;
    uint16_t dpi_pkts; /* packets given to nDPI */

    uint8_t tcp_flags[2];         /* OR of TCP flags seen per direction */
    uint8_t tclass;               /* enum flow_tclass */
    uint8_t end_reason;           /* enum flow_end */
    uint8_t dpi_state;            /* enum flow_dpi */
    uint8_t fin_seen;             /* bit 0: client FIN, bit 1: server FIN */
    uint8_t icmp_type, icmp_code; /* of the first packet (Community ID) */
    uint8_t meta_truncated;
    uint8_t flags;       /* FLOW_F_* */
    uint8_t dis_verdict; /* dissector registry index + 1 that matched, 0 none */
    uint8_t dis_pkts;    /* payload packets shown to dissectors */
    uint32_t dis_mask;   /* dissectors still interested (registry bits) */
    uint32_t input;      /* -r file of the flow's first packet, index + 1; 0 live */
    uint16_t sig_best;   /* strongest matching signature index + 1, 0 none */
    /* client hello assembly for the JA4 (sensor/ja4.c); zero in a new flow */
    uint16_t hello_buf;  /* assembly buffer index + 1, 0 none */
    uint32_t hello_seq;  /* TCP: sequence number of the client stream's first byte */
    uint8_t hello_state; /* looking, or settled */
    uint8_t hello_pkts;  /* client payload packets looked at */
    uint16_t meta_used;
    uint16_t meta_off[FLOW_META_MAX]; /* offset + 1 into meta, 0 = absent */
    char meta[FLOW_META_BYTES];
    struct flow_fp fp;

    /* What flow_enrich() (enrich.h) settled, once: valid with FLOW_F_ENRICHED. */
    uint8_t direction;                  /* enum flow_direction */
    uint8_t cid[COMMUNITY_ID_HASH_LEN]; /* Community ID v1 hash */
    struct geo_result dst_geo, src_geo; /* ends outside home_net; zero inside */
};

#define FLOW_F_GUESSED 0x01  /* protocol guessed by nDPI at give-up */
#define FLOW_F_SWAPPED 0x02  /* orientation fixed after the first packet (SYN-ACK first) */
#define FLOW_F_DETECTED 0x04 /* signatures matched (once per flow) */
#define FLOW_F_ENRICHED 0x08 /* direction, geo and Community ID settled (enrich.h) */

#define FLOW_TABLE_COUNTERS(X, T)                                                                  \
    X(T, created, "flows.total", CTR_COUNTER, "flows created")                                     \
    X(T, active, "flows.active", CTR_GAUGE, "flows in the table now")                              \
    X(T, peak_active, "flows.peak_active", CTR_PEAK, "most flows in the table at once")            \
    X(T, lookups, "flows.lookups", CTR_COUNTER, "flow table lookups")                              \
    X(T, collisions, "flows.collisions", CTR_COUNTER,                                              \
      "hash chain steps beyond the first entry of a bucket")

struct flow_table_stats {
    FLOW_TABLE_COUNTERS(CTR_FIELD, struct flow_table_stats)
    uint64_t ended[FLOW_END_MAX]; /* by enum flow_end; see flow_table_counters */
};
extern const struct ctr_table flow_table_counters;

/* Called for every flow that ends, before its slot is reused. */
typedef void (*flow_end_cb)(struct flow *f, void *ud);

struct flow_table;

struct flow_table_config {
    uint32_t max_flows;
    uint32_t timeout[FLOW_TC_MAX]; /* seconds per class */
    uint64_t seed;                 /* hash seed; 0 = pick one at random */
};

/* Create a table for at most cfg->max_flows flows. The pool is reserved up
 * front (pages are touched only as flows are used). end_cb is called for
 * every flow that ends (idle, closed, evicted, flushed). Returns NULL on
 * allocation failure. Free with flow_table_free(). */
struct flow_table *flow_table_new(const struct flow_table_config *cfg, flow_end_cb end_cb,
                                  void *ud);

/* Free the table. Flows still in it are dropped without the callback:
 * call flow_table_flush() first to export them. NULL is a no-op. */
void flow_table_free(struct flow_table *t);

/* Symmetric hash of a key (same value for both orientations). */
uint32_t flow_hash(const struct flow_table *t, const struct flow_key *k);

/* A cheaper symmetric hash, for spreading flows over workers (workers.c):
 * the two endpoints are folded together with XOR, so no ordering step is
 * needed, and the 24-byte result is hashed with seed. Equal for both
 * directions of a flow. Flows whose endpoints XOR alike collide whatever
 * the seed, which only puts them on the same worker: it is no table hash
 * (flow_hash() is, keyed by the table's random seed). */
uint32_t flow_key_hash(const struct flow_key *k, uint64_t seed);

/* Find the flow of key k (either orientation) or create it with k's
 * orientation. *dir receives FLOW_TOSERVER when k is the flow's own
 * orientation, FLOW_TOCLIENT otherwise; *created is set when the flow is new.
 * When the table is full the least recently seen flow is ended with
 * FLOW_END_TABLE_FULL to make room. now_us is the packet time. Never
 * allocates. Returns NULL only if max_flows is 0. */
struct flow *flow_lookup_create(struct flow_table *t, const struct flow_key *k, uint64_t now_us,
                                int *dir, bool *created);

/* Find without creating; NULL when absent. */
struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k, int *dir);

/* Mark f seen at now_us and move it to the tail of the list of class tc
 * (O(1)). Called once per packet by the pipeline. */
void flow_touch(struct flow_table *t, struct flow *f, uint64_t now_us, int tc);

/* End and remove one flow now with the given reason (callback is called). */
void flow_end(struct flow_table *t, struct flow *f, int reason);

/* Swap the orientation of a flow whose first packet came from the server. */
void flow_swap(struct flow *f);

/* End every flow whose class timeout has passed at now_us. Looks only at
 * list heads. Returns the number of flows ended. */
size_t flow_expire(struct flow_table *t, uint64_t now_us);

/* End every flow with the given reason (end of input, shutdown). */
size_t flow_flush(struct flow_table *t, int reason);

/* Call fn for every flow in the table (in no particular order). fn must
 * not end or create flows. */
void flow_table_foreach(struct flow_table *t, void (*fn)(struct flow *f, void *ud), void *ud);

const struct flow_table_stats *flow_table_stats(const struct flow_table *t);

/* Bytes of table memory one tracked flow costs (slot + hash bucket). */
size_t flow_bytes_per_flow(const struct flow_table *t);

/* "tcp-fin", "tcp-rst", "idle", "table-full", "end-of-input". */
const char *flow_end_name(int reason);

/* Metadata strings: set copies s (truncated to fit; meta_truncated counts
 * it); get returns "" when absent. Setting a field twice keeps the first. */
void flow_meta_set(struct flow *f, int which, const char *s);
const char *flow_meta_get(const struct flow *f, int which);

#endif
