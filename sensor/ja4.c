/* ja4.c -- the JA4 of each flow's client hello: TCP and QUIC assembly, the pipeline hook.
 *
 * Formats: FoxIO's JA4 specification,
 * https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md;
 * RFC 8446 section 5.1 (records), RFC 6347 section 4.1 (DTLS records),
 * RFC 9000 section 19.6 (CRYPTO frames). */
#include "ja4.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "decode.h"
#include "flow.h"
#include "quic-initial.h"
#include "tls-hello.h"

#define TCP_SYN 0x02

/* Bytes one buffer assembles: a TLS_HELLO_MAX hello and the headers of the
 * records it may be spread over. */
#define BUF_BYTES (TLS_HELLO_MAX + 64)
/* Disjoint byte ranges a buffer tracks: enough for a hello whose segments
 * or frames arrive in any order, a few at a time. */
#define MAX_RANGES 8

/* flow.hello_state */
enum {
    HS_NEW = 0, /* nothing seen yet */
    HS_OPEN,    /* looking: hello_seq is the client stream's first byte (TCP) */
    HS_DONE,    /* fingerprinted, or given up: nothing more to do */
};

struct range {
    uint32_t lo, hi; /* [lo, hi) */
};

struct hello_buf {
    uint8_t nranges;
    bool have_keys;             /* QUIC: keys holds the client's Initial keys */
    struct range r[MAX_RANGES]; /* sorted, disjoint, not adjacent */
    struct quic_keys keys;
    uint8_t data[BUF_BYTES];
};

struct ja4_engine {
    struct tls_hello_ctx *hello;
    struct quic_ctx *quic;
    struct ja4_stats *st;
    struct hello_buf *bufs; /* pages become resident only as buffers are used */
    uint16_t *free_stack;   /* indexes of free buffers */
    unsigned nbufs, nfree;
};

/* In enum order: element id of struct ja4_stats.ctr is named here. */
static const struct ctr_desc ja4_desc[JA4C_MAX] = {
#define JA4_DESC(id, name, help)                                                                   \
    [id] = {name, help, CTR_COUNTER, offsetof(struct ja4_stats, ctr) + (id) * sizeof(uint64_t),    \
            NULL, NULL},
    JA4_COUNTERS(JA4_DESC)
#undef JA4_DESC
};
const struct ctr_table ja4_counters = {ja4_desc, JA4C_MAX};

const char *ja4_counter_name(int c)
{
    return c >= 0 && c < JA4C_MAX ? ja4_desc[c].name : "ja4.unknown";
}

struct ja4_engine *ja4_new(unsigned nbufs, struct ja4_stats *st, char *errbuf, size_t errlen)
{
    if (nbufs > UINT16_MAX)
        nbufs = UINT16_MAX;
    struct ja4_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    e->st = st;
    e->nbufs = nbufs;
    e->hello = tls_hello_ctx_new();
    e->quic = quic_ctx_new();
    if (e->hello == NULL || e->quic == NULL) {
        snprintf(errbuf, errlen, "JA4: cannot set up SHA-256, HKDF or AES from libcrypto");
        goto fail;
    }
    if (nbufs > 0) {
        e->bufs = calloc(nbufs, sizeof(*e->bufs));
        e->free_stack = calloc(nbufs, sizeof(*e->free_stack));
        if (e->bufs == NULL || e->free_stack == NULL) {
            snprintf(errbuf, errlen, "cannot allocate %u JA4 assembly buffers", nbufs);
            goto fail;
        }
    }
    for (unsigned i = 0; i < nbufs; i++)
        e->free_stack[e->nfree++] = (uint16_t)(nbufs - 1 - i);
    return e;

fail:
    ja4_free(e);
    return NULL;
}

void ja4_free(struct ja4_engine *e)
{
    if (e == NULL)
        return;
    tls_hello_ctx_free(e->hello);
    quic_ctx_free(e->quic);
    free(e->bufs);
    free(e->free_stack);
    free(e);
}

unsigned ja4_pool_in_use(const struct ja4_engine *e)
{
    return e->nbufs - e->nfree;
}

size_t ja4_buf_bytes(void)
{
    return sizeof(struct hello_buf);
}

static void count(struct ja4_engine *e, int c)
{
    e->st->ctr[c]++;
}

/* ------------------------------------------------------------ the pool */

static struct hello_buf *buf_of(struct ja4_engine *e, const struct flow *f)
{
    return f->hello_buf ? &e->bufs[f->hello_buf - 1] : NULL;
}

/* Take a buffer for f; NULL (counted) when the pool is empty. */
static struct hello_buf *buf_take(struct ja4_engine *e, struct flow *f)
{
    if (e->nfree == 0) {
        count(e, JA4C_POOL_EMPTY);
        return NULL;
    }
    uint16_t i = e->free_stack[--e->nfree];
    struct hello_buf *b = &e->bufs[i];
    b->nranges = 0;
    b->have_keys = false;
    f->hello_buf = (uint16_t)(i + 1);
    return b;
}

static void buf_put(struct ja4_engine *e, struct flow *f)
{
    if (f->hello_buf == 0)
        return;
    e->free_stack[e->nfree++] = (uint16_t)(f->hello_buf - 1);
    f->hello_buf = 0;
}

/* Place len bytes at offset off. Returns 0, or -1 when they start beyond
 * the buffer or would make too many holes (nothing is placed then). Bytes
 * past the end of the buffer are dropped: the parser then finds the hello
 * too big or incomplete. */
static int buf_add(struct hello_buf *b, uint64_t off, const uint8_t *data, size_t len)
{
    if (off >= BUF_BYTES)
        return -1;
    if (len > BUF_BYTES - off)
        len = BUF_BYTES - (size_t)off;
    if (len == 0)
        return 0;
    struct range nr = {(uint32_t)off, (uint32_t)(off + len)};
    struct range out[MAX_RANGES + 1];
    size_t n = 0;
    bool placed = false;
    for (size_t i = 0; i < b->nranges; i++) {
        struct range r = b->r[i];
        if (r.hi < nr.lo) {
            out[n++] = r;
        } else if (nr.hi < r.lo) {
            if (!placed) {
                out[n++] = nr;
                placed = true;
            }
            out[n++] = r;
        } else { /* overlapping or adjacent: merge */
            nr.lo = r.lo < nr.lo ? r.lo : nr.lo;
            nr.hi = r.hi > nr.hi ? r.hi : nr.hi;
        }
    }
    if (!placed)
        out[n++] = nr;
    if (n > MAX_RANGES)
        return -1;
    memcpy(b->data + off, data, len);
    memcpy(b->r, out, n * sizeof(out[0]));
    b->nranges = (uint8_t)n;
    return 0;
}

/* Bytes held from offset 0 without a hole. */
static size_t buf_contiguous(const struct hello_buf *b)
{
    return b->nranges > 0 && b->r[0].lo == 0 ? b->r[0].hi : 0;
}

/* ------------------------------------------------------------ settling */

static void finish(struct ja4_engine *e, struct flow *f)
{
    buf_put(e, f);
    f->hello_state = HS_DONE;
}

/* Fingerprint a whole handshake message and settle the flow. rc is an
 * enum tls_hello_result from finding the message; on TLS_HELLO_TRUNCATED
 * nothing happens (the flow waits for more). */
static void settle(struct ja4_engine *e, struct flow *f, const uint8_t *msg, size_t len, int proto)
{
    char ja4[JA4_LEN + 1];
    int rc = tls_hello_ja4(e->hello, msg, len, proto, ja4);
    if (rc == TLS_HELLO_TRUNCATED)
        return;
    if (rc == TLS_HELLO_OK) {
        count(e, proto == JA4_QUIC ? JA4C_QUIC : proto == JA4_DTLS ? JA4C_DTLS : JA4C_TLS);
        if (f->hello_buf)
            count(e, JA4C_REASSEMBLED);
        flow_fp_set_ja4(f, ja4);
    } else {
        count(e, rc == TLS_HELLO_TOO_BIG ? JA4C_TOO_BIG : JA4C_INVALID);
    }
    finish(e, f);
}

/* ------------------------------------------------------------ TCP */

/* The stream bytes from offset 0 are in p[0..n): fingerprint them if the
 * hello is whole. Returns TLS_HELLO_TRUNCATED when more is needed, or
 * TLS_HELLO_INVALID when the stream is not a TLS handshake (the flow is
 * not settled then: the caller decides). */
static int tcp_try(struct ja4_engine *e, struct flow *f, const uint8_t *p, size_t n)
{
    const uint8_t *msg;
    size_t len, need;
    int rc = tls_hello_from_records(e->hello, p, n, &msg, &len, &need);
    if (rc == TLS_HELLO_OK) {
        settle(e, f, msg, len, JA4_TLS);
    } else if (rc == TLS_HELLO_TOO_BIG) {
        count(e, JA4C_TOO_BIG);
        finish(e, f);
    }
    return rc;
}

/* A TLS handshake record header followed by a ClientHello message type. */
static bool opens_hello(const uint8_t *p, size_t n)
{
    return n >= 6 && p[0] == 22 && p[1] == 3 && p[2] <= 4 && p[5] == 1;
}

static void tcp_packet(struct ja4_engine *e, struct flow *f, const struct packet *pkt)
{
    uint32_t seq = pkt->tcp_seq;
    if (pkt->tcp_flags & TCP_SYN)
        seq++; /* the SYN takes one sequence number; data after it is the stream */
    if (f->hello_state == HS_NEW) {
        f->hello_seq = seq;
        f->hello_state = HS_OPEN;
    }
    if (pkt->payload_len == 0)
        return;

    const uint8_t *data = pkt->payload;
    size_t len = pkt->payload_len;
    struct hello_buf *b = buf_of(e, f);
    /* A segment that opens a ClientHello record starts the stream, wherever
     * the sequence numbers said it would: bytes before it (a bogus payload
     * on an ACK, clear-text STARTTLS talk) were not the hello. */
    if (b == NULL && opens_hello(data, len))
        f->hello_seq = seq;
    uint32_t rel = seq - f->hello_seq;
    if (rel >= 0x80000000u) { /* begins before the stream start: keep what follows it */
        uint32_t back = 0u - rel;
        if (back >= len)
            goto budget;
        data += back;
        len -= back;
        rel = 0;
    }

    if (b == NULL && rel == 0) {
        int rc = tcp_try(e, f, data, len);
        if (f->hello_state == HS_DONE)
            return;
        if (rc == TLS_HELLO_INVALID) {
            /* Not TLS (yet): a STARTTLS protocol talks in clear first. Look
             * again at the segment that follows this one. */
            f->hello_seq = seq + (uint32_t)pkt->payload_len;
            goto budget;
        }
    }
    if (b == NULL && (b = buf_take(e, f)) == NULL) {
        finish(e, f);
        return;
    }
    if (buf_add(b, rel, data, len) != 0) {
        count(e, JA4C_OUT_OF_WINDOW);
        finish(e, f);
        return;
    }
    size_t have = buf_contiguous(b);
    if (have > 0 && tcp_try(e, f, b->data, have) == TLS_HELLO_INVALID && f->hello_buf) {
        finish(e, f); /* a later segment came first, and the start is not TLS */
        return;
    }
    if (f->hello_state == HS_DONE)
        return;

budget:
    if (++f->hello_pkts >= JA4_MAX_PKTS) {
        if (f->hello_buf)
            count(e, JA4C_GAVE_UP);
        finish(e, f);
    }
}

/* ------------------------------------------------------------ QUIC */

struct crypto_sink {
    struct ja4_engine *e;
    struct flow *f;
    struct hello_buf *b;
};

/* One CRYPTO frame of the client's Initial packets. */
static void on_crypto(uint64_t off, const uint8_t *data, size_t len, void *ud)
{
    struct crypto_sink *s = ud;
    struct flow *f = s->f;
    if (f->hello_state == HS_DONE)
        return;
    if (s->b == NULL && off == 0) {
        /* The common case: the whole hello in the first frame. */
        settle(s->e, f, data, len, JA4_QUIC);
        if (f->hello_state == HS_DONE)
            return;
    }
    if (s->b == NULL && (s->b = buf_take(s->e, f)) == NULL) {
        finish(s->e, f);
        return;
    }
    if (buf_add(s->b, off, data, len) != 0) {
        count(s->e, JA4C_OUT_OF_WINDOW);
        finish(s->e, f);
        s->b = NULL;
    }
}

static void quic_packet(struct ja4_engine *e, struct flow *f, const struct packet *pkt)
{
    struct crypto_sink s = {e, f, buf_of(e, f)};
    struct quic_keys keys = {0};
    bool have = false;
    if (s.b != NULL && s.b->have_keys) {
        keys = s.b->keys;
        have = true;
    }
    int rc = quic_datagram(e->quic, pkt->payload, pkt->payload_len, &keys, &have, on_crypto, &s);
    if (rc == QUIC_UNDECRYPTABLE)
        count(e, JA4C_UNDECRYPTABLE);
    if (f->hello_state == HS_DONE)
        return;
    s.b = buf_of(e, f);
    if (s.b == NULL)
        return;
    if (have) {
        s.b->keys = keys;
        s.b->have_keys = true;
    }
    size_t n = buf_contiguous(s.b);
    if (n > 0)
        settle(e, f, s.b->data, n, JA4_QUIC);
}

/* ------------------------------------------------------------ UDP */

static void udp_packet(struct ja4_engine *e, struct flow *f, const struct packet *pkt)
{
    const uint8_t *p = pkt->payload;
    size_t n = pkt->payload_len;
    if (n == 0)
        return;
    f->hello_state = HS_OPEN;
    if ((p[0] & 0x80) && (f->hello_buf || quic_is_initial(p, n))) {
        quic_packet(e, f, pkt);
    } else if (n >= 13 && p[0] == 22 && (p[1] == 0xfe || (p[1] == 1 && p[2] == 0))) {
        const uint8_t *msg;
        size_t len;
        /* WebRTC sends STUN first, and a fragmented hello is not joined:
         * either way the budget below ends the wait. */
        if (tls_hello_from_dtls(p, n, &msg, &len) == TLS_HELLO_OK)
            settle(e, f, msg, len, JA4_DTLS);
    }
    if (f->hello_state != HS_DONE && ++f->hello_pkts >= JA4_MAX_PKTS) {
        if (f->hello_buf)
            count(e, JA4C_GAVE_UP);
        finish(e, f);
    }
}

/* ------------------------------------------------------------ the hook */

void ja4_packet(struct ja4_engine *e, struct flow *f, const struct packet *pkt, int dir)
{
    if (f->hello_state == HS_DONE || dir != FLOW_TOSERVER || pkt->frag == PKT_FRAG_LATER)
        return;
    if (pkt->l4proto == IPPROTO_TCP)
        tcp_packet(e, f, pkt);
    else if (pkt->l4proto == IPPROTO_UDP)
        udp_packet(e, f, pkt);
    else
        f->hello_state = HS_DONE;
}

void ja4_flow_end(struct ja4_engine *e, struct flow *f)
{
    buf_put(e, f);
}
