/* test_ja4.c -- JA4 of TLS/QUIC/DTLS client hellos: FoxIO's example, GREASE, the
 * ALPN rules, empty lists, truncation at every length, TCP assembly (split,
 * out of order, retransmitted, pool exhausted), QUIC Initial decryption
 * (RFC 9001 and RFC 9369 test vectors) and a corpus QUIC capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "decode.h"
#include "flow.h"
#include "ja4.h"
#include "quic-initial.h"
#include "tls-hello.h"

/* ------------------------------------------------------------ building hellos */

struct buf {
    uint8_t b[20000];
    size_t n;
};

/* The JA4 a flow keeps, as text ("" none). */
static const char *ja4_text(const struct flow *f)
{
    static char buf[FLOW_JA4_TEXT];
    return flow_fp_ja4(f, buf);
}

static void put8(struct buf *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put24(struct buf *b, size_t v)
{
    put8(b, (unsigned)(v >> 16));
    put16(b, (unsigned)v);
}

static void putn(struct buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

/* One extension: type and body. */
struct ext {
    uint16_t type;
    struct buf body;
};

static void ext_u16_list(struct ext *e, uint16_t type, int len_bytes, const uint16_t *v, size_t n)
{
    e->type = type;
    e->body.n = 0;
    if (len_bytes == 1)
        put8(&e->body, (unsigned)(2 * n));
    else
        put16(&e->body, (unsigned)(2 * n));
    for (size_t i = 0; i < n; i++)
        put16(&e->body, v[i]);
}

static void ext_sni(struct ext *e, const char *name)
{
    size_t n = strlen(name);
    e->type = 0x0000;
    e->body.n = 0;
    put16(&e->body, (unsigned)(n + 3));
    put8(&e->body, 0); /* host_name */
    put16(&e->body, (unsigned)n);
    putn(&e->body, name, n);
}

/* ALPN protocol names, each given with its length (they may hold any byte). */
static void ext_alpn(struct ext *e, const char *const *names, const size_t *lens, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += 1 + lens[i];
    e->type = 0x0010;
    e->body.n = 0;
    put16(&e->body, (unsigned)total);
    for (size_t i = 0; i < count; i++) {
        put8(&e->body, (unsigned)lens[i]);
        putn(&e->body, names[i], lens[i]);
    }
}

static void ext_raw(struct ext *e, uint16_t type, size_t len)
{
    e->type = type;
    e->body.n = len;
    memset(e->body.b, 0, len);
}

/* A ClientHello handshake message (type 1, 24-bit length, body). */
static void build_hello(struct buf *out, uint16_t legacy, const uint16_t *ciphers, size_t nc,
                        const struct ext *exts, size_t ne, int with_ext_block)
{
    struct buf body = {.n = 0};
    put16(&body, legacy);
    for (int i = 0; i < 32; i++)
        put8(&body, (unsigned)i); /* random */
    put8(&body, 0);               /* session id */
    put16(&body, (unsigned)(2 * nc));
    for (size_t i = 0; i < nc; i++)
        put16(&body, ciphers[i]);
    put8(&body, 1); /* compression: null */
    put8(&body, 0);
    if (with_ext_block) {
        size_t total = 0;
        for (size_t i = 0; i < ne; i++)
            total += 4 + exts[i].body.n;
        put16(&body, (unsigned)total);
        for (size_t i = 0; i < ne; i++) {
            put16(&body, exts[i].type);
            put16(&body, (unsigned)exts[i].body.n);
            putn(&body, exts[i].body.b, exts[i].body.n);
        }
    }
    out->n = 0;
    put8(out, 1);
    put24(out, body.n);
    putn(out, body.b, body.n);
}

/* The hello of FoxIO's JA4 example (technical_details/JA4.md): its 15
 * ciphers and 16 extensions in the order the specification lists them,
 * its 8 signature algorithms, ALPN h2 then http/1.1, plus one GREASE
 * cipher, one GREASE extension and a GREASE supported version, which must
 * all be ignored. Padding (0x0015) of pad bytes makes it as long as wanted. */
static struct ext foxio_exts[17];

static void foxio_hello(struct buf *out, size_t pad)
{
    static const uint16_t ciphers[] = {0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                       0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                       0x009c, 0x009d, 0x002f, 0x0035};
    static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                       0x0805, 0x0501, 0x0806, 0x0601};
    static const uint16_t versions[] = {0x3a3a, 0x0304, 0x0303};
    static const uint16_t groups[] = {0x001d, 0x0017};
    static const char *const alpn[] = {"h2", "http/1.1"};
    static const size_t alpn_len[] = {2, 8};
    struct ext *e = foxio_exts;
    size_t n = 0;
    ext_raw(&e[n++], 0x0a0a, 0); /* GREASE */
    ext_raw(&e[n++], 0x001b, 3);
    ext_sni(&e[n++], "example.com");
    ext_raw(&e[n++], 0x0033, 2);
    ext_alpn(&e[n++], alpn, alpn_len, 2);
    ext_raw(&e[n++], 0x4469, 0);
    ext_raw(&e[n++], 0x0017, 0);
    ext_raw(&e[n++], 0x002d, 2);
    ext_u16_list(&e[n++], 0x000d, 2, sigalgs, 8);
    ext_raw(&e[n++], 0x0005, 5);
    ext_raw(&e[n++], 0x0023, 0);
    ext_raw(&e[n++], 0x0012, 0);
    ext_u16_list(&e[n++], 0x002b, 1, versions, 3);
    ext_raw(&e[n++], 0xff01, 1);
    ext_raw(&e[n++], 0x000b, 2);
    ext_u16_list(&e[n++], 0x000a, 2, groups, 2);
    ext_raw(&e[n++], 0x0015, pad);
    build_hello(out, 0x0303, ciphers, 16, e, n, 1);
}

#define FOXIO_JA4 "t13d1516h2_8daaf6152771_e5627efa2ab1"

static struct tls_hello_ctx *hctx;

static int setup(void **state)
{
    (void)state;
    hctx = tls_hello_ctx_new();
    return hctx == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_hello_ctx_free(hctx);
    return 0;
}

static int ja4_of(const struct buf *h, int proto, char *out)
{
    return tls_hello_ja4(hctx, h->b, h->n, proto, out);
}

/* ------------------------------------------------------------ the fingerprint */

static void test_foxio_example(void **state)
{
    (void)state;
    struct buf h;
    char out[JA4_LEN + 1];
    foxio_hello(&h, 0);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    assert_string_equal(out, FOXIO_JA4);
    assert_int_equal(ja4_of(&h, JA4_QUIC, out), TLS_HELLO_OK);
    assert_string_equal(out, "q13d1516h2_8daaf6152771_e5627efa2ab1");
}

/* The hello carried in the CRYPTO frame of RFC 9001 Appendix A.2 (and of
 * RFC 9369 A.2): ciphers 1301 1302; extensions sni, ff01, 000a, alpn
 * ("alpn"), 0005, 0033, 002b (0304), 000d (0403 0503 0603 0203 0804 0805
 * 0806), 002d, 001c, 0039. Hashes computed from those lists as the
 * specification states them. */
static const char rfc_hello_hex[] =
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c0000041301130201"
    "0000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f"
    "1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00"
    "024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8"
    "f03e51570806048000ffff";
#define RFC_HELLO_JA4 "q13d0211an_62ed6f6ca7ad_4d634acda6c0"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; hex[i] && hex[i + 1] && n < cap; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void test_rfc9001_hello(void **state)
{
    (void)state;
    struct buf h;
    char out[JA4_LEN + 1];
    h.n = unhex(rfc_hello_hex, h.b, sizeof(h.b));
    assert_int_equal(h.n, 4 + 0xed);
    assert_int_equal(ja4_of(&h, JA4_QUIC, out), TLS_HELLO_OK);
    assert_string_equal(out, RFC_HELLO_JA4);
}

/* A small hello: ciphers 002f 0035, the extensions given. */
static void small_hello(struct buf *out, uint16_t legacy, const struct ext *e, size_t n)
{
    static const uint16_t ciphers[] = {0x002f, 0x0035};
    build_hello(out, legacy, ciphers, 2, e, n, 1);
}

static void test_no_sni_no_alpn(void **state)
{
    (void)state;
    static const uint16_t sig[] = {0x0401};
    struct ext e[1];
    struct buf h;
    char out[JA4_LEN + 1];
    ext_u16_list(&e[0], 0x000d, 2, sig, 1);
    small_hello(&h, 0x0303, e, 1);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    /* sha256("002f,0035") and sha256("000d_0401"), first 12 hex digits */
    assert_string_equal(out, "t12i020100_f54dd463d39b_032c60bb0d32");
}

static void test_alpn_rules(void **state)
{
    (void)state;
    /* The specification's examples, then single characters and empty. */
    static const struct {
        const char *value;
        size_t len;
        const char *want;
    } cases[] = {
        {"\xab", 1, "ab"},
        {"\xab\xcd", 2, "ad"},
        {"\x30\xab", 2, "3b"},
        {"\x30\x31\xab\xcd", 4, "3d"},
        {"\x30\xab\xcd\x31", 4, "01"},
        {"x", 1, "xx"},
        {"http/1.1", 8, "h1"},
        {"h3-29", 5, "h9"},
        {"", 0, "00"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *names[1] = {cases[i].value};
        size_t lens[1] = {cases[i].len};
        struct ext e[1];
        struct buf h;
        char out[JA4_LEN + 1];
        ext_alpn(&e[0], names, lens, 1);
        small_hello(&h, 0x0303, e, 1);
        assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
        assert_memory_equal(out + 8, cases[i].want, 2);
    }
}

static void test_empty_lists(void **state)
{
    (void)state;
    struct buf h;
    char out[JA4_LEN + 1];
    /* No ciphers, no extension block at all (legal before TLS 1.3). */
    build_hello(&h, 0x0301, NULL, 0, NULL, 0, 0);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    assert_string_equal(out, "t10i000000_000000000000_000000000000");
    /* SNI and ALPN only: counted, but the hashed list is empty. */
    static const char *const names[] = {"h2"};
    static const size_t lens[] = {2};
    struct ext e[2];
    ext_sni(&e[0], "a.example");
    ext_alpn(&e[1], names, lens, 1);
    small_hello(&h, 0x0303, e, 2);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    assert_string_equal(out, "t12d0202h2_f54dd463d39b_000000000000");
}

static void test_grease_only_and_caps(void **state)
{
    (void)state;
    /* 120 ciphers: the count shows 99, the hash covers all of them. */
    uint16_t ciphers[121];
    ciphers[0] = 0xfafa;
    for (int i = 1; i <= 120; i++)
        ciphers[i] = (uint16_t)(0x0100 + i);
    struct buf h;
    char out[JA4_LEN + 1];
    build_hello(&h, 0x0303, ciphers, 121, NULL, 0, 1);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    assert_memory_equal(out, "t12i990000_", 11);
    assert_memory_not_equal(out + 11, "000000000000", 12);
    /* A GREASE-only supported_versions falls back to the legacy version. */
    static const uint16_t grease_v[] = {0x1a1a};
    struct ext e[1];
    ext_u16_list(&e[0], 0x002b, 1, grease_v, 1);
    small_hello(&h, 0x0302, e, 1);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);
    assert_memory_equal(out, "t11i0201", 8);
}

static void test_not_hello_and_malformed(void **state)
{
    (void)state;
    struct buf h;
    char out[JA4_LEN + 1];
    foxio_hello(&h, 0);
    h.b[0] = 2; /* ServerHello */
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_INVALID);
    assert_string_equal(out, "");
    foxio_hello(&h, 0);
    h.b[4 + 2 + 32] = 33; /* session id longer than 32 */
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_INVALID);
    foxio_hello(&h, 0);
    h.b[4 + 2 + 32 + 1 + 1] = 0x21; /* odd cipher list length */
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_INVALID);
    /* A message longer than TLS_HELLO_MAX. */
    foxio_hello(&h, 17000);
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_TOO_BIG);
}

/* Every prefix of a real hello is truncated, never a fingerprint. */
static void test_truncation_every_length(void **state)
{
    (void)state;
    struct buf h;
    char out[JA4_LEN + 1];
    foxio_hello(&h, 300);
    for (size_t n = 0; n < h.n; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, h.b, n);
        assert_int_equal(tls_hello_ja4(hctx, copy, n, JA4_TLS, out), TLS_HELLO_TRUNCATED);
        free(copy);
    }
    assert_int_equal(ja4_of(&h, JA4_TLS, out), TLS_HELLO_OK);

    /* The same through the record layer. */
    struct buf rec = {.n = 0};
    put8(&rec, 22);
    put16(&rec, 0x0301);
    put16(&rec, (unsigned)h.n);
    putn(&rec, h.b, h.n);
    for (size_t n = 0; n < rec.n; n++) {
        const uint8_t *msg;
        size_t len, need;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, rec.b, n);
        assert_int_equal(tls_hello_from_records(hctx, copy, n, &msg, &len, &need),
                         TLS_HELLO_TRUNCATED);
        assert_true(need > n);
        free(copy);
    }
}

static void test_records_joined(void **state)
{
    (void)state;
    struct buf h, rec = {.n = 0};
    char out[JA4_LEN + 1];
    foxio_hello(&h, 500);
    /* The message in two records of 300 and the rest. */
    put8(&rec, 22);
    put16(&rec, 0x0301);
    put16(&rec, 300);
    putn(&rec, h.b, 300);
    put8(&rec, 22);
    put16(&rec, 0x0301);
    put16(&rec, (unsigned)(h.n - 300));
    putn(&rec, h.b + 300, h.n - 300);
    const uint8_t *msg;
    size_t len, need;
    assert_int_equal(tls_hello_from_records(hctx, rec.b, rec.n, &msg, &len, &need), TLS_HELLO_OK);
    assert_int_equal(len, h.n);
    assert_memory_equal(msg, h.b, h.n);
    assert_int_equal(tls_hello_ja4(hctx, msg, len, JA4_TLS, out), TLS_HELLO_OK);
    assert_string_equal(out, FOXIO_JA4);
    /* An application-data record is not a hello. */
    rec.b[0] = 23;
    assert_int_equal(tls_hello_from_records(hctx, rec.b, rec.n, &msg, &len, &need),
                     TLS_HELLO_INVALID);
}

/* ------------------------------------------------------------ TCP assembly */

static struct ja4_stats st;

static struct ja4_engine *engine(unsigned bufs)
{
    char err[128];
    memset(&st, 0, sizeof(st));
    struct ja4_engine *e = ja4_new(bufs, &st, err, sizeof(err));
    assert_non_null(e);
    return e;
}

/* The FoxIO hello in a record, padded to about 1800 bytes (a hello with a
 * post-quantum key share is that long), as a client TCP stream. */
static struct buf stream;

static void make_stream(void)
{
    struct buf h;
    foxio_hello(&h, 1650);
    stream.n = 0;
    put8(&stream, 22);
    put16(&stream, 0x0301);
    put16(&stream, (unsigned)h.n);
    putn(&stream, h.b, h.n);
    assert_true(stream.n > 1460 && stream.n < 2000);
}

#define ISN 4000000000u /* the client's initial sequence number: wraps past 2^32 */

static void tcp_seg(struct ja4_engine *e, struct flow *f, uint8_t flags, size_t off, size_t len)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.ipver = 4;
    p.l4proto = IPPROTO_TCP;
    p.tcp_flags = flags;
    p.tcp_seq = (uint32_t)(ISN + 1 + off);
    if (flags & 0x02)
        p.tcp_seq = ISN;
    p.payload = stream.b + off;
    p.payload_len = len;
    ja4_packet(e, f, &p, FLOW_TOSERVER);
}

static void test_tcp_one_segment(void **state)
{
    (void)state;
    struct ja4_engine *e = engine(4);
    struct flow f;
    memset(&f, 0, sizeof(f));
    make_stream();
    tcp_seg(e, &f, 0x02, 0, 0);
    tcp_seg(e, &f, 0x18, 0, stream.n);
    assert_string_equal(ja4_text(&f), FOXIO_JA4);
    assert_int_equal(st.ctr[JA4C_TLS], 1);
    assert_int_equal(st.ctr[JA4C_REASSEMBLED], 0);
    assert_int_equal(ja4_pool_in_use(e), 0);
    ja4_free(e);
}

static void test_tcp_two_segments(void **state)
{
    (void)state;
    struct ja4_engine *e = engine(4);
    struct flow f;
    memset(&f, 0, sizeof(f));
    make_stream();
    tcp_seg(e, &f, 0x02, 0, 0);
    tcp_seg(e, &f, 0x10, 0, 1448);
    assert_string_equal(ja4_text(&f), "");
    assert_int_equal(ja4_pool_in_use(e), 1);
    tcp_seg(e, &f, 0x18, 1448, stream.n - 1448);
    assert_string_equal(ja4_text(&f), FOXIO_JA4);
    assert_int_equal(st.ctr[JA4C_REASSEMBLED], 1);
    assert_int_equal(ja4_pool_in_use(e), 0);
    ja4_free(e);
}

static void test_tcp_out_of_order_and_retransmitted(void **state)
{
    (void)state;
    struct ja4_engine *e = engine(4);
    struct flow f;
    memset(&f, 0, sizeof(f));
    make_stream();
    tcp_seg(e, &f, 0x02, 0, 0);
    tcp_seg(e, &f, 0x18, 1000, stream.n - 1000); /* the second segment first */
    tcp_seg(e, &f, 0x18, 1000, stream.n - 1000); /* and again */
    tcp_seg(e, &f, 0x10, 500, 600);              /* the middle, overlapping it */
    assert_string_equal(ja4_text(&f), "");
    tcp_seg(e, &f, 0x10, 0, 700); /* the start closes the hole */
    assert_string_equal(ja4_text(&f), FOXIO_JA4);
    assert_int_equal(ja4_pool_in_use(e), 0);

    /* Without the SYN: the first segment seen starts the stream, and a
     * retransmission of it changes nothing. */
    memset(&f, 0, sizeof(f));
    tcp_seg(e, &f, 0x10, 0, 1448);
    tcp_seg(e, &f, 0x10, 0, 1448);
    tcp_seg(e, &f, 0x18, 1448, stream.n - 1448);
    assert_string_equal(ja4_text(&f), FOXIO_JA4);
    assert_int_equal(st.ctr[JA4C_TLS], 2);
    ja4_free(e);
}

static void test_tcp_pool_exhausted(void **state)
{
    (void)state;
    struct ja4_engine *e = engine(1);
    struct flow f1, f2, f3;
    memset(&f1, 0, sizeof(f1));
    memset(&f2, 0, sizeof(f2));
    memset(&f3, 0, sizeof(f3));
    make_stream();
    tcp_seg(e, &f1, 0x10, 0, 1000); /* holds the only buffer */
    tcp_seg(e, &f2, 0x10, 0, 1000); /* finds none */
    assert_int_equal(st.ctr[JA4C_POOL_EMPTY], 1);
    tcp_seg(e, &f2, 0x18, 1000, stream.n - 1000);
    assert_string_equal(ja4_text(&f2), ""); /* given up */
    ja4_flow_end(e, &f1);                   /* f1 ends: its buffer goes back */
    assert_int_equal(ja4_pool_in_use(e), 0);
    tcp_seg(e, &f3, 0x10, 0, 1000);
    tcp_seg(e, &f3, 0x18, 1000, stream.n - 1000);
    assert_string_equal(ja4_text(&f3), FOXIO_JA4);
    ja4_free(e);
}

static void test_tcp_not_tls_and_budget(void **state)
{
    (void)state;
    struct ja4_engine *e = engine(2);
    struct flow f;
    memset(&f, 0, sizeof(f));
    make_stream();
    /* STARTTLS: clear text first, then the hello. */
    static const uint8_t ehlo[] = "STARTTLS\r\n";
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.l4proto = IPPROTO_TCP;
    p.tcp_seq = 100;
    p.payload = ehlo;
    p.payload_len = sizeof(ehlo) - 1;
    ja4_packet(e, &f, &p, FLOW_TOSERVER);
    p.tcp_seq = 100 + (uint32_t)(sizeof(ehlo) - 1);
    p.payload = stream.b;
    p.payload_len = stream.n;
    ja4_packet(e, &f, &p, FLOW_TOSERVER);
    assert_string_equal(ja4_text(&f), FOXIO_JA4);

    /* A hello that never completes gives its buffer back after the budget. */
    memset(&f, 0, sizeof(f));
    tcp_seg(e, &f, 0x10, 0, 1000);
    for (int i = 0; i < JA4_MAX_PKTS; i++)
        tcp_seg(e, &f, 0x10, 0, 10); /* retransmissions of the start */
    assert_int_equal(ja4_pool_in_use(e), 0);
    assert_int_equal(st.ctr[JA4C_GAVE_UP], 1);
    /* Server packets are never looked at. */
    memset(&f, 0, sizeof(f));
    p.tcp_seq = 1;
    ja4_packet(e, &f, &p, FLOW_TOCLIENT);
    assert_string_equal(ja4_text(&f), "");
    ja4_free(e);
}

/* ------------------------------------------------------------ QUIC */

/* RFC 9001 Appendix A.2: the client's protected Initial packet (1200
 * bytes, DCID 8394c8f03e515708, packet number 2), split for reading. */
static const char *const rfc9001_initial_hex[] = {
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec"
    "356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cad"
    "b8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028c"
    "ea7f7fb5ff89eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021"
    "a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a"
    "6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3d"
    "d60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b43"
    "78e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4"
    "faddfcefc5266ba6611722395c906556be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d5411"
    "9c7468449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923"
    "037c227a33cdd5ec281ca3f79c44546b9d90ca00f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b"
    "9c5927726632291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57"
    "a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0fe"
    "b85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f"
    "9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de37252d"
    "6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450efc60ac47683d7b8d0f811365565f"
    "d98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb"
    "5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2162f40a29f0c3c8745c0"
    "f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499dbd49adabc8676eef"
    "023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e8f2e6ff58001"
    "75f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8"
    "078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d"
    "58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905dd"
    "f3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd468"
    "40647e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e"
    "194cd934",
    NULL};

/* RFC 9369 Appendix A.2: the same hello in a QUIC version 2 Initial. */
static const char *const rfc9369_initial_hex[] = {
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071bf03dceebfa162e7"
    "5d6c96058bdbfb127cdfcbf903388e99ad049f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d"
    "21f57c5d250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a12834e3f249a78d395e0"
    "d18f4d766004f1a2674802a747eaa901c3f10cda5500cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea"
    "40afb6ef5253cd6818f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff3312ae50b187c1"
    "433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3d396ae5a3fb512384b2fdd851f784a65e03f2c4f"
    "be11a53c7777c023462239dd6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520bcfb"
    "7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045636e7c0c0fe4eb0f697545460c806910"
    "d2c355f1d253bc9d2452aaa549e27a1fac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de"
    "7c1216ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e54df16efaf6ddea94e2c50b4c"
    "d1dfe06017e0e9d02900cffe1935e0491d77ffb4fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb"
    "08b847741c3b8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de714d19d61370f8149"
    "748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff99c63a344d6a2ae8aa8e51b7b90a4a806105fcbca3150"
    "6c446151adfeceb51b91abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd80bf4dc8"
    "b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db848265e3e5eb72dfe8299ad7481a408322ca"
    "c55786e52f633b2fb6b614eaed18d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc7e27a096d37a1a86952ec71bd89a"
    "3e9a30a2a26162984d7740f81193e8238e61f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cf"
    "a1e7071010d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b3d6758158197107c14eb"
    "b193230cd1157380aa79cae1374a7c1e5bbcb80ee23e06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6"
    "adc38b7ca7331dce8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d134b90c9058f8"
    "632c798d4490da4987307cba922d61c39805d072b589bd52fdf1e86215c2d54e6670e07383a27bbffb5addf47d66"
    "aa85a0c6f9f32e59d85a44dd5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e38d20"
    "9d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89d5974ee12e5cf7d5da4d6a31123041f3"
    "3e61407e76cffcdcfd7e19ba58cf4b536f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85"
    "cb199a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96ba18b2faa745b6fe189cf772a"
    "9f84cbfc",
    NULL};

static size_t unhex_parts(const char *const *parts, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; parts[i] != NULL; i++)
        n += unhex(parts[i], out + n, cap - n);
    return n;
}

struct frames {
    int count;
    uint64_t off;
    uint8_t data[2048];
    size_t len;
};

static void collect(uint64_t off, const uint8_t *data, size_t len, void *ud)
{
    struct frames *fr = ud;
    fr->count++;
    fr->off = off;
    assert_true(len <= sizeof(fr->data));
    memcpy(fr->data, data, len);
    fr->len = len;
}

static void check_vector(uint32_t version, const char *const *packet_hex, const char *key,
                         const char *iv, const char *hp)
{
    static const uint8_t dcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    struct quic_ctx *q = quic_ctx_new();
    assert_non_null(q);
    struct quic_keys k;
    uint8_t want[16];
    assert_int_equal(quic_client_keys(q, version, dcid, sizeof(dcid), &k), 0);
    assert_memory_equal(k.key, want, unhex(key, want, sizeof(want)));
    assert_memory_equal(k.iv, want, unhex(iv, want, sizeof(want)));
    assert_memory_equal(k.hp, want, unhex(hp, want, sizeof(want)));

    static uint8_t pkt[1200];
    assert_int_equal(unhex_parts(packet_hex, pkt, sizeof(pkt)), 1200);
    assert_true(quic_is_initial(pkt, sizeof(pkt)));
    struct frames fr = {0};
    struct quic_keys got;
    bool have = false;
    assert_int_equal(quic_datagram(q, pkt, sizeof(pkt), &got, &have, collect, &fr), QUIC_OK);
    assert_true(have);
    assert_memory_equal(got.key, k.key, 16);
    /* One CRYPTO frame at offset 0: the hello of the appendix, 0xf1 bytes. */
    uint8_t hello[512];
    size_t hn = unhex(rfc_hello_hex, hello, sizeof(hello));
    assert_int_equal(fr.count, 1);
    assert_int_equal(fr.off, 0);
    assert_int_equal(fr.len, hn);
    assert_memory_equal(fr.data, hello, hn);

    /* A flipped ciphertext bit fails authentication. */
    pkt[600] ^= 1;
    have = false;
    assert_int_equal(quic_datagram(q, pkt, sizeof(pkt), &got, &have, collect, &fr),
                     QUIC_UNDECRYPTABLE);
    pkt[600] ^= 1;
    /* Truncated at every length: never a frame, never a crash. */
    for (size_t n = 0; n < sizeof(pkt); n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, pkt, n);
        fr.count = 0;
        have = false;
        int rc = quic_datagram(q, copy, n, &got, &have, collect, &fr);
        assert_true(rc == QUIC_NO_INITIAL || rc == QUIC_UNDECRYPTABLE);
        assert_int_equal(fr.count, 0);
        free(copy);
    }
    quic_ctx_free(q);

    /* Through the flow hook: the JA4 of that hello. */
    struct ja4_engine *e = engine(2);
    struct flow f;
    struct packet p;
    memset(&f, 0, sizeof(f));
    memset(&p, 0, sizeof(p));
    p.l4proto = IPPROTO_UDP;
    p.payload = pkt;
    p.payload_len = sizeof(pkt);
    ja4_packet(e, &f, &p, FLOW_TOSERVER);
    assert_string_equal(ja4_text(&f), RFC_HELLO_JA4);
    assert_int_equal(st.ctr[JA4C_QUIC], 1);
    ja4_free(e);
}

static void test_quic_rfc9001(void **state)
{
    (void)state;
    check_vector(0x00000001, rfc9001_initial_hex, "1f369613dd76d5467730efcbe3b1a22d",
                 "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2");
}

static void test_quic_rfc9369(void **state)
{
    (void)state;
    check_vector(0x6b3343cf, rfc9369_initial_hex, "8b1a0bc121284290a29e0971b5cd045d",
                 "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9");
}

/* Corpus captures: the client's packets of the first UDP flow, through the
 * hook. The expected values are nDPI's published JA4 with its ALPN and
 * SNI deviations from the specification undone (tests/ja4_compare.py). */
static void corpus_quic(const char *name, const char *want)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof(path), "%s/%s",
             getenv("TEST_CORPUS") ? getenv("TEST_CORPUS") : "../shared/corpus", name);
    pcap_t *pc = pcap_open_offline(path, err);
    if (pc == NULL) {
        printf("  (skipped: %s)\n", err);
        return;
    }
    struct ja4_engine *e = engine(4);
    struct flow f;
    memset(&f, 0, sizeof(f));
    struct decode_stats ds = {0};
    uint16_t client_port = 0;
    struct pcap_pkthdr *hdr;
    const u_char *frame;
    while (pcap_next_ex(pc, &hdr, &frame) == 1) {
        struct packet p;
        if (decode_packet(pcap_datalink(pc), frame, hdr->caplen, &p, &ds) != 0 ||
            p.l4proto != IPPROTO_UDP)
            continue;
        if (client_port == 0)
            client_port = p.sport;
        if (p.sport == client_port)
            ja4_packet(e, &f, &p, FLOW_TOSERVER);
    }
    pcap_close(pc);
    assert_string_equal(ja4_text(&f), want);
    ja4_free(e);
}

static void test_quic_corpus(void **state)
{
    (void)state;
    /* nDPI: q13d0310h0_55b375c5d22e_0a3b52e28cea (ALPN "h3" shown as h0) */
    corpus_quic("quic-v2.pcapng", "q13d0310h3_55b375c5d22e_0a3b52e28cea");
    /* The hello spread over several Initial packets. nDPI:
     * q00d0307h3_55b375c5d22e_af0a630e9e67 (no SNI shown as d, "h3-24"-style ALPN) */
    corpus_quic("quic_frags_ch_in_multiple_packets.pcapng", "q00i0307h4_55b375c5d22e_af0a630e9e67");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foxio_example),
        cmocka_unit_test(test_rfc9001_hello),
        cmocka_unit_test(test_no_sni_no_alpn),
        cmocka_unit_test(test_alpn_rules),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_grease_only_and_caps),
        cmocka_unit_test(test_not_hello_and_malformed),
        cmocka_unit_test(test_truncation_every_length),
        cmocka_unit_test(test_records_joined),
        cmocka_unit_test(test_tcp_one_segment),
        cmocka_unit_test(test_tcp_two_segments),
        cmocka_unit_test(test_tcp_out_of_order_and_retransmitted),
        cmocka_unit_test(test_tcp_pool_exhausted),
        cmocka_unit_test(test_tcp_not_tls_and_budget),
        cmocka_unit_test(test_quic_rfc9001),
        cmocka_unit_test(test_quic_rfc9369),
        cmocka_unit_test(test_quic_corpus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
