/* ja4.h -- the JA4 of each flow's client hello: TCP and QUIC assembly, the pipeline hook.
 *
 * Formats: FoxIO's JA4,
 * https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md
 * (tls-hello.h computes it); the TLS record layer of RFC 8446 section 5.1;
 * QUIC Initial packets of RFC 9000/9001/9369 (quic-initial.h).
 *
 * The pipeline shows this module every client packet of a flow whose hello
 * is not settled yet. A hello that fits in the first client segment (or
 * the first QUIC Initial) is fingerprinted straight from the packet. One
 * that does not takes an assembly buffer from a pool the engine reserves
 * at start: TCP segments are placed by sequence number (out-of-order and
 * retransmitted segments included), QUIC CRYPTO frames by offset, until
 * the ClientHello is whole. The buffer goes back to the pool when the
 * hello is fingerprinted, when the flow gives up (JA4_MAX_PKTS client
 * payload packets) and when the flow ends. An empty pool is counted
 * (ja4.pool_empty) and that flow gets no JA4.
 *
 * A flow keeps 8 bytes of state (struct flow hello_*) and, once found, the
 * JA4 in binary (struct flow_fp). Nothing here allocates or
 * logs on the packet path; inside libcrypto 3.0, a SHA-256 init and an
 * HKDF derivation allocate and free scratch of their own (a JA4 is
 * computed once per flow, QUIC keys derived once per flow unless they
 * fail to authenticate). */
#ifndef JA4_H
#define JA4_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

/* Assembly buffers a pipeline reserves by default (shared out between
 * workers like the flow table), and the client payload packets a flow
 * may take to complete its hello. */
#define JA4_POOL_BUFS 256
#define JA4_MAX_PKTS 16

/* Counters: X(identifier, "name shown in stats", "help"). */
#define JA4_COUNTERS(X)                                                                            \
    X(JA4C_TLS, "ja4.tls", "TLS-over-TCP client hellos fingerprinted")                             \
    X(JA4C_QUIC, "ja4.quic", "QUIC client hellos fingerprinted")                                   \
    X(JA4C_DTLS, "ja4.dtls", "DTLS client hellos fingerprinted")                                   \
    X(JA4C_REASSEMBLED, "ja4.reassembled", "of those, hellos that needed an assembly buffer")      \
    X(JA4C_POOL_EMPTY, "ja4.pool_empty", "hellos skipped: no assembly buffer was free")            \
    X(JA4C_INVALID, "ja4.invalid", "client hellos that did not parse")                             \
    X(JA4C_TOO_BIG, "ja4.too_big", "client hellos larger than an assembly buffer")                 \
    X(JA4C_GAVE_UP, "ja4.gave_up", "flows whose hello was still incomplete at the packet budget")  \
    X(JA4C_OUT_OF_WINDOW, "ja4.out_of_window",                                                     \
      "hello bytes beyond the buffer, or too many holes in the stream")                            \
    X(JA4C_UNDECRYPTABLE, "ja4.quic_undecryptable",                                                \
      "QUIC Initial packets that did not authenticate")

enum ja4_counter {
#define JA4_ENUM(id, name, help) id,
    JA4_COUNTERS(JA4_ENUM)
#undef JA4_ENUM
        JA4C_MAX
};

struct ja4_stats {
    uint64_t ctr[JA4C_MAX]; /* by enum ja4_counter; see ja4_counters */
};
extern const struct ctr_table ja4_counters;

/* Name of counter c as shown in stats ("ja4.pool_empty"); never NULL. */
const char *ja4_counter_name(int c);

struct ja4_engine;
struct flow;
struct packet;

/* Create an engine with a pool of nbufs assembly buffers (about 16.5 KiB
 * each, reserved now, resident only once used) and the parsing and crypto
 * contexts. Counters are added to *st, which must outlive the engine.
 * Returns NULL with a message in errbuf on failure. Free with ja4_free(). */
struct ja4_engine *ja4_new(unsigned nbufs, struct ja4_stats *st, char *errbuf, size_t errlen);

/* Free the engine and its pool. Flows still holding a buffer must not be
 * shown to another engine afterwards. NULL is a no-op. */
void ja4_free(struct ja4_engine *e);

/* One packet of flow f, dir its direction (FLOW_TOSERVER from the
 * client). Looks only at client TCP and UDP payloads while the flow's
 * hello is unsettled: a cheap no-op otherwise. Never fails: outcomes are
 * counted. */
void ja4_packet(struct ja4_engine *e, struct flow *f, const struct packet *pkt, int dir);

/* The flow ends: give back its buffer, if it holds one. Cannot fail. */
void ja4_flow_end(struct ja4_engine *e, struct flow *f);

/* Buffers in use now, and the size of one (for tests and the memory bound). */
unsigned ja4_pool_in_use(const struct ja4_engine *e);
size_t ja4_buf_bytes(void);

#endif
