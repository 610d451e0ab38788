/* tls-hello.c -- TLS ClientHello parsing and its JA4 fingerprint.
 *
 * Formats: RFC 8446 sections 4.1.2 (ClientHello), 4.2 (extensions) and 5.1
 * (records); RFC 6347 section 4.2.1 (the DTLS cookie); RFC 8701 (GREASE);
 * FoxIO's JA4 specification,
 * https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md */
#include "tls-hello.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rd.h"

/* Largest counts a TLS_HELLO_MAX message can carry: 2 bytes a cipher or a
 * signature algorithm, 4 bytes an extension. */
#define MAX_CIPHERS (TLS_HELLO_MAX / 2)
#define MAX_EXTS (TLS_HELLO_MAX / 4)
#define MAX_SIGALGS (TLS_HELLO_MAX / 2)

#define HS_CLIENT_HELLO 1
#define REC_HANDSHAKE 22
#define EXT_SNI 0x0000
#define EXT_SIGALGS 0x000d
#define EXT_ALPN 0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

struct tls_hello_ctx {
    EVP_MD_CTX *md;
    EVP_MD *sha256;
    uint16_t ciphers[MAX_CIPHERS];
    uint16_t exts[MAX_EXTS];
    uint16_t sigalgs[MAX_SIGALGS];
    uint8_t joined[TLS_HELLO_MAX]; /* a message spread over several records */
};

struct tls_hello_ctx *tls_hello_ctx_new(void)
{
    struct tls_hello_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->md = EVP_MD_CTX_new();
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (c->md == NULL || c->sha256 == NULL) {
        tls_hello_ctx_free(c);
        return NULL;
    }
    return c;
}

void tls_hello_ctx_free(struct tls_hello_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
    EVP_MD_free(c->sha256);
    free(c);
}

int tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ------------------------------------------------------------ parsing */

/* What JA4 takes from a ClientHello. The lists live in the context. */
struct hello {
    uint16_t legacy_version;
    uint16_t best_version; /* highest non-GREASE supported_versions entry, 0 none */
    bool sni;
    const uint8_t *alpn; /* first ALPN protocol name, NULL none */
    size_t alpn_len;
    size_t n_ciphers, n_exts, n_sigalgs;
};

static int parse_alpn(struct rd *r, struct hello *h)
{
    size_t list = rd_be16(r);
    if (r->err || list > rd_left(r))
        return TLS_HELLO_INVALID;
    if (list == 0)
        return TLS_HELLO_OK;
    size_t n = rd_u8(r);
    if (r->err || n + 1 > list)
        return TLS_HELLO_INVALID;
    h->alpn = rd_ptr(r);
    h->alpn_len = n;
    return TLS_HELLO_OK;
}

static int parse_sigalgs(struct tls_hello_ctx *c, struct rd *r, struct hello *h)
{
    size_t len = rd_be16(r);
    if (r->err || len > rd_left(r) || len % 2 != 0)
        return TLS_HELLO_INVALID;
    /* A repeated extension: the last list wins, as it would in a dissector
     * that stores the field once. */
    h->n_sigalgs = 0;
    for (size_t i = 0; i < len / 2; i++) {
        uint16_t v = rd_be16(r);
        if (!tls_is_grease(v) && h->n_sigalgs < MAX_SIGALGS)
            c->sigalgs[h->n_sigalgs++] = v;
    }
    return TLS_HELLO_OK;
}

static int parse_versions(struct rd *r, struct hello *h)
{
    size_t len = rd_u8(r);
    if (r->err || len > rd_left(r) || len % 2 != 0)
        return TLS_HELLO_INVALID;
    for (size_t i = 0; i < len / 2; i++) {
        uint16_t v = rd_be16(r);
        if (!tls_is_grease(v) && v > h->best_version)
            h->best_version = v;
    }
    return TLS_HELLO_OK;
}

/* The extensions block: r is bounded to it. */
static int parse_extensions(struct tls_hello_ctx *c, struct rd *r, struct hello *h)
{
    while (rd_left(r) > 0) {
        uint16_t type = rd_be16(r);
        size_t len = rd_be16(r);
        if (r->err || len > rd_left(r))
            return TLS_HELLO_INVALID;
        struct rd e;
        rd_init(&e, rd_ptr(r), len);
        rd_skip(r, len);
        if (tls_is_grease(type))
            continue;
        if (h->n_exts >= MAX_EXTS)
            return TLS_HELLO_INVALID; /* cannot happen within TLS_HELLO_MAX */
        c->exts[h->n_exts++] = type;
        int rc = TLS_HELLO_OK;
        switch (type) {
        case EXT_SNI:
            h->sni = true;
            break;
        case EXT_ALPN:
            if (h->alpn == NULL)
                rc = parse_alpn(&e, h);
            break;
        case EXT_SIGALGS:
            rc = parse_sigalgs(c, &e, h);
            break;
        case EXT_SUPPORTED_VERSIONS:
            rc = parse_versions(&e, h);
            break;
        default:
            break;
        }
        if (rc != TLS_HELLO_OK)
            return rc;
    }
    return TLS_HELLO_OK;
}

static int parse_hello(struct tls_hello_ctx *c, const uint8_t *msg, size_t len, bool dtls,
                       struct hello *h)
{
    struct rd r;
    rd_init(&r, msg, len);
    uint8_t type = rd_u8(&r);
    uint32_t body = (uint32_t)rd_u8(&r) << 16;
    body |= rd_be16(&r);
    if (dtls)
        rd_skip(&r, 8); /* message_seq, fragment_offset, fragment_length */
    if (r.err)
        return TLS_HELLO_TRUNCATED;
    if (type != HS_CLIENT_HELLO)
        return TLS_HELLO_INVALID;
    if ((size_t)body + (dtls ? 12 : 4) > TLS_HELLO_MAX)
        return TLS_HELLO_TOO_BIG;
    if (body > rd_left(&r))
        return TLS_HELLO_TRUNCATED;

    /* From here on the message is whole: running out of it is invalid. */
    struct rd b;
    rd_init(&b, rd_ptr(&r), body);
    memset(h, 0, sizeof(*h));
    h->legacy_version = rd_be16(&b);
    rd_skip(&b, 32); /* random */
    size_t sid = rd_u8(&b);
    if (sid > 32)
        return TLS_HELLO_INVALID;
    rd_skip(&b, sid);
    if (dtls)
        rd_skip(&b, rd_u8(&b)); /* cookie */
    size_t clen = rd_be16(&b);
    if (b.err || clen % 2 != 0 || clen > rd_left(&b))
        return TLS_HELLO_INVALID;
    for (size_t i = 0; i < clen / 2; i++) {
        uint16_t v = rd_be16(&b);
        if (!tls_is_grease(v))
            c->ciphers[h->n_ciphers++] = v;
    }
    rd_skip(&b, rd_u8(&b)); /* compression methods */
    if (b.err)
        return TLS_HELLO_INVALID;
    if (rd_left(&b) == 0)
        return TLS_HELLO_OK; /* no extensions at all (allowed before TLS 1.3) */
    size_t elen = rd_be16(&b);
    if (b.err || elen > rd_left(&b))
        return TLS_HELLO_INVALID;
    struct rd e;
    rd_init(&e, rd_ptr(&b), elen);
    return parse_extensions(c, &e, h);
}

/* ------------------------------------------------------------ fingerprint */

/* In-place heapsort: no allocation, O(n log n) whatever the input. */
static void sift_down(uint16_t *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[root] >= a[child])
            return;
        uint16_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void sort_u16(uint16_t *a, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        uint16_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

static const char hexdig[] = "0123456789abcdef";

/* Text for the digest, fed in chunks so no list is ever formatted whole. */
struct feed {
    EVP_MD_CTX *md;
    bool ok;
    size_t n;
    char buf[512];
};

static void feed_flush(struct feed *f)
{
    if (f->n > 0 && EVP_DigestUpdate(f->md, f->buf, f->n) != 1)
        f->ok = false;
    f->n = 0;
}

/* sep (0: none), then v as 4 lower-case hex digits. */
static void feed_u16(struct feed *f, char sep, uint16_t v)
{
    if (f->n + 5 > sizeof(f->buf))
        feed_flush(f);
    if (sep)
        f->buf[f->n++] = sep;
    f->buf[f->n++] = hexdig[v >> 12];
    f->buf[f->n++] = hexdig[(v >> 8) & 15];
    f->buf[f->n++] = hexdig[(v >> 4) & 15];
    f->buf[f->n++] = hexdig[v & 15];
}

static int feed_begin(struct tls_hello_ctx *c, struct feed *f)
{
    f->md = c->md;
    f->n = 0;
    f->ok = EVP_DigestInit_ex(c->md, c->sha256, NULL) == 1;
    return f->ok ? 0 : -1;
}

/* Finish the digest and write its first 12 hex digits at out. */
static int feed_end(struct feed *f, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    feed_flush(f);
    if (!f->ok || EVP_DigestFinal_ex(f->md, d, &dlen) != 1 || dlen < 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        out[2 * i] = hexdig[d[i] >> 4];
        out[2 * i + 1] = hexdig[d[i] & 15];
    }
    return 0;
}

static const char *version_code(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    default:
        return "00";
    }
}

static bool is_alnum(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* The two ALPN characters: first and last of the first value, or, when
 * either is not alphanumeric, the first and last hex digit of its bytes. */
static void alpn_chars(const struct hello *h, char *out)
{
    if (h->alpn == NULL || h->alpn_len == 0) {
        out[0] = out[1] = '0';
        return;
    }
    uint8_t first = h->alpn[0], last = h->alpn[h->alpn_len - 1];
    if (is_alnum(first) && is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hexdig[first >> 4];
        out[1] = hexdig[last & 15];
    }
}

static void two_digits(char *out, size_t n)
{
    if (n > 99)
        n = 99;
    out[0] = (char)('0' + n / 10);
    out[1] = (char)('0' + n % 10);
}

static int format_ja4(struct tls_hello_ctx *c, const struct hello *h, int proto, char *out)
{
    char *p = out;
    *p++ = (char)proto;
    const char *ver = version_code(h->best_version ? h->best_version : h->legacy_version);
    *p++ = ver[0];
    *p++ = ver[1];
    *p++ = h->sni ? 'd' : 'i';
    two_digits(p, h->n_ciphers);
    p += 2;
    two_digits(p, h->n_exts);
    p += 2;
    alpn_chars(h, p);
    p += 2;
    *p++ = '_';

    struct feed f;
    sort_u16(c->ciphers, h->n_ciphers);
    if (h->n_ciphers == 0) {
        memset(p, '0', 12);
    } else {
        if (feed_begin(c, &f) != 0)
            return -1;
        for (size_t i = 0; i < h->n_ciphers; i++)
            feed_u16(&f, i ? ',' : 0, c->ciphers[i]);
        if (feed_end(&f, p) != 0)
            return -1;
    }
    p += 12;
    *p++ = '_';

    /* Extensions without SNI and ALPN, sorted; then the signature
     * algorithms as sent. The extension list is sorted in place, which
     * is fine: the counts are already taken. */
    size_t n = 0;
    for (size_t i = 0; i < h->n_exts; i++)
        if (c->exts[i] != EXT_SNI && c->exts[i] != EXT_ALPN)
            c->exts[n++] = c->exts[i];
    sort_u16(c->exts, n);
    if (n == 0) {
        memset(p, '0', 12);
    } else {
        if (feed_begin(c, &f) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            feed_u16(&f, i ? ',' : 0, c->exts[i]);
        for (size_t i = 0; i < h->n_sigalgs; i++)
            feed_u16(&f, i ? ',' : '_', c->sigalgs[i]);
        if (feed_end(&f, p) != 0)
            return -1;
    }
    p += 12;
    *p = '\0';
    return 0;
}

int tls_hello_ja4(struct tls_hello_ctx *c, const uint8_t *msg, size_t len, int proto,
                  char out[JA4_LEN + 1])
{
    struct hello h;
    out[0] = '\0';
    int rc = parse_hello(c, msg, len, proto == JA4_DTLS, &h);
    if (rc != TLS_HELLO_OK)
        return rc;
    /* h.n_exts counts every non-GREASE extension; the JA4 counts too. */
    if (format_ja4(c, &h, proto, out) != 0) {
        out[0] = '\0';
        return TLS_HELLO_INVALID; /* the digest failed: nothing to say */
    }
    return TLS_HELLO_OK;
}

/* ------------------------------------------------------------ records */

/* A record header that can start or continue a ClientHello: handshake
 * type, version 3.x (SSL 3.0 to TLS 1.3 all write 0x03 first), a length a
 * TLS 1.3 or 1.2 peer would accept (2^14 plus the compression allowance). */
static bool record_ok(const uint8_t *hdr, size_t len)
{
    return hdr[0] == REC_HANDSHAKE && hdr[1] == 3 && len > 0 && len <= 16384 + 2048;
}

int tls_hello_from_records(struct tls_hello_ctx *c, const uint8_t *p, size_t n, const uint8_t **msg,
                           size_t *msglen, size_t *need)
{
    *msg = NULL;
    *msglen = 0;
    *need = n + 1;

    /* The common case: the whole message in the first record. */
    if (n < 5) {
        if (n >= 1 && p[0] != REC_HANDSHAKE)
            return TLS_HELLO_INVALID;
        if (n >= 2 && p[1] != 3)
            return TLS_HELLO_INVALID;
        *need = 5;
        return TLS_HELLO_TRUNCATED;
    }
    size_t rlen = (size_t)p[3] << 8 | p[4];
    if (!record_ok(p, rlen))
        return TLS_HELLO_INVALID;
    if (rlen < 4)
        return TLS_HELLO_INVALID; /* a message header split over records: not seen in practice */
    if (n >= 6 && p[5] != HS_CLIENT_HELLO)
        return TLS_HELLO_INVALID;
    if (n < 9) {
        *need = 9;
        return TLS_HELLO_TRUNCATED;
    }
    size_t mlen = 4 + ((size_t)p[6] << 16 | (size_t)p[7] << 8 | p[8]);
    if (mlen > TLS_HELLO_MAX)
        return TLS_HELLO_TOO_BIG;
    if (mlen <= rlen) {
        if (n < 5 + mlen) {
            *need = 5 + mlen;
            return TLS_HELLO_TRUNCATED;
        }
        *msg = p + 5;
        *msglen = mlen;
        return TLS_HELLO_OK;
    }

    /* The message continues in further handshake records: join their
     * payloads. Each record adds at least one byte, so the loop is bounded
     * by the message length. */
    size_t have = 0, off = 0;
    while (have < mlen) {
        if (n - off < 5) {
            *need = off + 5;
            return TLS_HELLO_TRUNCATED;
        }
        const uint8_t *hdr = p + off;
        rlen = (size_t)hdr[3] << 8 | hdr[4];
        if (!record_ok(hdr, rlen))
            return TLS_HELLO_INVALID;
        size_t take = rlen < mlen - have ? rlen : mlen - have;
        if (n - off - 5 < take) {
            *need = off + 5 + take;
            return TLS_HELLO_TRUNCATED;
        }
        memcpy(c->joined + have, hdr + 5, take);
        have += take;
        off += 5 + rlen; /* <= n while have < mlen: the whole record was taken */
    }
    *msg = c->joined;
    *msglen = mlen;
    return TLS_HELLO_OK;
}

int tls_hello_from_dtls(const uint8_t *p, size_t n, const uint8_t **msg, size_t *msglen)
{
    struct rd r;
    rd_init(&r, p, n);
    *msg = NULL;
    *msglen = 0;
    uint8_t type = rd_u8(&r);
    uint8_t major = rd_u8(&r);
    rd_skip(&r, 1 + 2 + 6); /* minor version, epoch, sequence number */
    size_t rlen = rd_be16(&r);
    if (r.err)
        return TLS_HELLO_TRUNCATED;
    /* DTLS 1.0 and later write 0xfe first; 0x0100 is the version of
     * OpenSSL's pre-RFC DTLS, still spoken by Cisco AnyConnect. */
    if (type != REC_HANDSHAKE || (major != 0xfe && major != 0x01))
        return TLS_HELLO_INVALID;
    if (rlen > rd_left(&r))
        return TLS_HELLO_TRUNCATED;
    struct rd h;
    rd_init(&h, rd_ptr(&r), rlen);
    uint8_t ht = rd_u8(&h);
    uint32_t mlen = (uint32_t)rd_u8(&h) << 16;
    mlen |= rd_be16(&h);
    rd_skip(&h, 2); /* message_seq */
    uint32_t foff = (uint32_t)rd_u8(&h) << 16;
    foff |= rd_be16(&h);
    uint32_t flen = (uint32_t)rd_u8(&h) << 16;
    flen |= rd_be16(&h);
    if (h.err)
        return TLS_HELLO_INVALID;
    if (ht != HS_CLIENT_HELLO || foff != 0 || flen != mlen || (size_t)mlen > rd_left(&h))
        return TLS_HELLO_INVALID; /* fragmented hellos are not joined */
    if ((size_t)mlen + 12 > TLS_HELLO_MAX)
        return TLS_HELLO_TOO_BIG;
    *msg = rd_ptr(&r);
    *msglen = (size_t)mlen + 12;
    return TLS_HELLO_OK;
}
