/* test_dns.c -- DNS response parser: bindings, CNAME chains, compression
 * bounds, label validation, truncation at every length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"

/* ------------------------------------------------------------ captured bindings */

#define MAX_SEEN 128

struct binding {
    char name[DNS_NAME_MAX];
    int af;
    uint8_t addr[16];
    uint32_t ttl;
};

struct seen {
    struct binding b[MAX_SEEN];
    size_t n;
};

static void collect(const char *name, int af, const uint8_t *addr, uint32_t ttl, void *ud)
{
    struct seen *s = ud;
    assert_true(s->n < MAX_SEEN);
    struct binding *b = &s->b[s->n++];
    assert_true(strlen(name) < sizeof(b->name));
    strcpy(b->name, name);
    b->af = af;
    memset(b->addr, 0, sizeof(b->addr));
    memcpy(b->addr, addr, af == 4 ? 4 : 16);
    b->ttl = ttl;
}

static int parse(const uint8_t *msg, size_t len, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    return dis_dns_parse_response(msg, len, collect, s);
}

static void assert_v4(const struct binding *b, const char *name, uint8_t a, uint8_t b1, uint8_t c,
                      uint8_t d, uint32_t ttl)
{
    const uint8_t want[4] = {a, b1, c, d};
    assert_string_equal(b->name, name);
    assert_int_equal(b->af, 4);
    assert_memory_equal(b->addr, want, 4);
    assert_int_equal(b->ttl, ttl);
}

/* ------------------------------------------------------------ real messages
 * Generated with scapy (DNS(...).compress()), so names are compressed as a
 * resolver would send them. */

/* DNS response: update.fortiguard.net A 208.91.112.55 (TTL 60) */
static const uint8_t resp_a[] = {
    0x10, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x06, 0x75,
    0x70, 0x64, 0x61, 0x74, 0x65, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67, 0x75, 0x61,
    0x72, 0x64, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xd0, 0x5b, 0x70, 0x37,
};

/* DNS response: update.fortiguard.net CNAME x.fortinet.net (TTL 300), x.fortinet.net A
 * 208.91.112.55 (TTL 60) */
static const uint8_t resp_cname[] = {
    0x10, 0x02, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x06, 0x75, 0x70, 0x64,
    0x61, 0x74, 0x65, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67, 0x75, 0x61, 0x72, 0x64, 0x03, 0x6e,
    0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01,
    0x2c, 0x00, 0x0d, 0x01, 0x78, 0x08, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x6e, 0x65, 0x74, 0xc0, 0x1e,
    0xc0, 0x33, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xd0, 0x5b, 0x70, 0x37,
};

/* DNS response: globalupdate.fortinet.net AAAA 2001:db8::55 (TTL 120) */
static const uint8_t resp_aaaa[] = {
    0x10, 0x03, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x67, 0x6c,
    0x6f, 0x62, 0x61, 0x6c, 0x75, 0x70, 0x64, 0x61, 0x74, 0x65, 0x08, 0x66, 0x6f, 0x72, 0x74,
    0x69, 0x6e, 0x65, 0x74, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x55,
};

/* DNS response: service.fortiguard.net CNAME a.fgd.fortinet.net CNAME b.fgd.fortinet.net;
 * b.fgd.fortinet.net A 96.45.33.64, A 96.45.33.65, AAAA 2001:db8::64; plus an unrelated A for
 * ns.other.example */
static const uint8_t resp_multi[] = {
    0x10, 0x04, 0x81, 0x80, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x07, 0x73, 0x65,
    0x72, 0x76, 0x69, 0x63, 0x65, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67, 0x75, 0x61, 0x72,
    0x64, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00,
    0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x11, 0x01, 0x61, 0x03, 0x66, 0x67, 0x64, 0x08, 0x66,
    0x6f, 0x72, 0x74, 0x69, 0x6e, 0x65, 0x74, 0xc0, 0x1f, 0xc0, 0x34, 0x00, 0x05, 0x00, 0x01,
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x01, 0x62, 0xc0, 0x36, 0xc0, 0x51, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x04, 0x60, 0x2d, 0x21, 0x40, 0xc0, 0x51, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x04, 0x60, 0x2d, 0x21, 0x41, 0xc0, 0x51, 0x00,
    0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x02, 0x6e, 0x73, 0x05, 0x6f,
    0x74, 0x68, 0x65, 0x72, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x21, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x01,
};

/* DNS response: question guard.fortinet.com, answers other.example CNAME x.example, x.example
 * A 192.0.2.7 (a chain that does not start at the question: no binding) */
static const uint8_t resp_unrelated_chain[] = {
    0x10, 0x05, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x05, 0x67,
    0x75, 0x61, 0x72, 0x64, 0x08, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x6e, 0x65, 0x74, 0x03,
    0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x05, 0x6f, 0x74, 0x68, 0x65, 0x72,
    0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x05, 0x00, 0x01, 0x00,
    0x00, 0x01, 0x2c, 0x00, 0x04, 0x01, 0x78, 0xc0, 0x2a, 0xc0, 0x3d, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x07,
};

/* DNS response with EDNS0 OPT in the additional section: Devices.Confer.NET A 192.0.2.80
 * (question in mixed case) */
static const uint8_t resp_edns[] = {
    0x10, 0x06, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x44, 0x65, 0x76,
    0x69, 0x63, 0x65, 0x73, 0x06, 0x43, 0x6f, 0x6e, 0x66, 0x65, 0x72, 0x03, 0x4e, 0x45, 0x54, 0x00,
    0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x04,
    0xc0, 0x00, 0x02, 0x50, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* DNS query: update.fortiguard.net A */
static const uint8_t query_a[] = {
    0x20, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
    0x75, 0x70, 0x64, 0x61, 0x74, 0x65, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67,
    0x75, 0x61, 0x72, 0x64, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};

/* DNS response NXDOMAIN: nx.fortiguard.net A, no answers */
static const uint8_t resp_nx[] = {
    0x20, 0x02, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x6e, 0x78, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67, 0x75, 0x61,
    0x72, 0x64, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};

/* ------------------------------------------------------------ a message builder
 * For the hostile and the bulky cases: names are written uncompressed
 * unless a test writes a pointer itself. */

struct msg {
    uint8_t b[8192];
    size_t n;
};

static void put8(struct msg *m, uint8_t v)
{
    assert_true(m->n < sizeof(m->b));
    m->b[m->n++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
    put8(m, (uint8_t)(v >> 8));
    put8(m, (uint8_t)v);
}

static void put32(struct msg *m, uint32_t v)
{
    put16(m, (uint16_t)(v >> 16));
    put16(m, (uint16_t)v);
}

/* "a.b.c" as length-prefixed labels and the root octet. */
static void put_name(struct msg *m, const char *name)
{
    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (uint8_t)n);
        for (size_t i = 0; i < n; i++)
            put8(m, (uint8_t)name[i]);
        name += n;
        if (*name == '.')
            name++;
    }
    put8(m, 0);
}

static void put_header(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                       uint16_t ar)
{
    m->n = 0;
    put16(m, 0xbeef);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

static void put_question(struct msg *m, const char *name)
{
    put_name(m, name);
    put16(m, 1); /* A */
    put16(m, 1); /* IN */
}

static void put_a(struct msg *m, const char *owner, uint32_t ttl, uint8_t last)
{
    put_name(m, owner);
    put16(m, 1);
    put16(m, 1);
    put32(m, ttl);
    put16(m, 4);
    put8(m, 192), put8(m, 0), put8(m, 2), put8(m, last);
}

static void put_cname(struct msg *m, const char *owner, const char *target)
{
    put_name(m, owner);
    put16(m, 5);
    put16(m, 1);
    put32(m, 300);
    size_t at = m->n;
    put16(m, 0);
    put_name(m, target);
    size_t rdlen = m->n - at - 2;
    m->b[at] = (uint8_t)(rdlen >> 8);
    m->b[at + 1] = (uint8_t)rdlen;
}

#define RESP 0x8180 /* QR, RD, RA, NOERROR */

/* ------------------------------------------------------------ bindings */

static void test_a(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse(resp_a, sizeof(resp_a), &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_v4(&s.b[0], "update.fortiguard.net", 208, 91, 112, 55, 60);
}

static void test_cname(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse(resp_cname, sizeof(resp_cname), &s), DNS_OK);
    assert_int_equal(s.n, 1);
    /* the binding is the question's name, with the A record's TTL */
    assert_v4(&s.b[0], "update.fortiguard.net", 208, 91, 112, 55, 60);
}

static void test_aaaa(void **state)
{
    (void)state;
    struct seen s;
    const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55};
    assert_int_equal(parse(resp_aaaa, sizeof(resp_aaaa), &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.b[0].name, "globalupdate.fortinet.net");
    assert_int_equal(s.b[0].af, 6);
    assert_memory_equal(s.b[0].addr, want, 16);
    assert_int_equal(s.b[0].ttl, 120);
}

static void test_multi(void **state)
{
    (void)state;
    struct seen s;
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64};
    assert_int_equal(parse(resp_multi, sizeof(resp_multi), &s), DNS_OK);
    /* two CNAME steps, then two A and one AAAA; ns.other.example is not on
     * the chain */
    assert_int_equal(s.n, 3);
    assert_v4(&s.b[0], "service.fortiguard.net", 96, 45, 33, 64, 30);
    assert_v4(&s.b[1], "service.fortiguard.net", 96, 45, 33, 65, 31);
    assert_string_equal(s.b[2].name, "service.fortiguard.net");
    assert_int_equal(s.b[2].af, 6);
    assert_memory_equal(s.b[2].addr, v6, 16);
    assert_int_equal(s.b[2].ttl, 32);
}

static void test_unrelated_chain(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse(resp_unrelated_chain, sizeof(resp_unrelated_chain), &s), DNS_OK);
    assert_int_equal(s.n, 0);
}

static void test_lower_case_and_edns(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse(resp_edns, sizeof(resp_edns), &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_v4(&s.b[0], "devices.confer.net", 192, 0, 2, 80, 20);
}

/* The answer's owner differs from the question only in case. */
static void test_owner_case_insensitive(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    put_header(&m, RESP, 1, 1, 0, 0);
    put_question(&m, "fds1.fortinet.com");
    put_a(&m, "FDS1.Fortinet.COM", 77, 9);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_v4(&s.b[0], "fds1.fortinet.com", 192, 0, 2, 9, 77);
}

/* CNAMEs listed out of chain order still chain. */
static void test_cname_out_of_order(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    put_header(&m, RESP, 1, 3, 0, 0);
    put_question(&m, "a.example");
    put_a(&m, "c.example", 60, 3);
    put_cname(&m, "b.example", "c.example");
    put_cname(&m, "a.example", "b.example");
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_v4(&s.b[0], "a.example", 192, 0, 2, 3, 60);
}

/* a -> b -> a: the loop ends the chain, the A of b still binds to a. */
static void test_cname_loop(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    put_header(&m, RESP, 1, 3, 0, 0);
    put_question(&m, "a.example");
    put_cname(&m, "a.example", "b.example");
    put_cname(&m, "b.example", "a.example");
    put_a(&m, "b.example", 60, 4);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_v4(&s.b[0], "a.example", 192, 0, 2, 4, 60);
}

/* A chain of `steps` CNAMEs n0 -> n1 -> ... then an A for the last name. */
static void build_chain(struct msg *m, int steps)
{
    char from[32], to[32];
    put_header(m, RESP, 1, (uint16_t)(steps + 1), 0, 0);
    put_question(m, "n0.example");
    for (int i = 0; i < steps; i++) {
        snprintf(from, sizeof(from), "n%d.example", i);
        snprintf(to, sizeof(to), "n%d.example", i + 1);
        put_cname(m, from, to);
    }
    snprintf(to, sizeof(to), "n%d.example", steps);
    put_a(m, to, 60, 5);
}

static void test_chain_bound(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    build_chain(&m, 16); /* the most followed */
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.b[0].name, "n0.example");
    build_chain(&m, 17); /* one step too many: no binding */
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0);
}

/* 100 A records: the first 63 (64 records with the question) are read. */
static void test_record_bound(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    put_header(&m, RESP, 1, 100, 0, 0);
    put_question(&m, "many.example");
    for (int i = 0; i < 100; i++)
        put_a(&m, "many.example", 60, (uint8_t)i);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 63);
    assert_int_equal(s.b[62].addr[3], 62);
}

static void test_query_and_errors(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(parse(query_a, sizeof(query_a), &s), DNS_NOT_RESPONSE);
    assert_int_equal(s.n, 0);
    assert_int_equal(parse(resp_nx, sizeof(resp_nx), &s), DNS_OK);
    assert_int_equal(s.n, 0);
    /* a response to another opcode (NOTIFY) */
    struct msg m;
    put_header(&m, 0x8000 | 4 << 11, 1, 0, 0, 0);
    put_question(&m, "zone.example");
    assert_int_equal(parse(m.b, m.n, &s), DNS_NOT_RESPONSE);
    assert_int_equal(parse(NULL, 0, &s), DNS_TRUNCATED);
}

/* ------------------------------------------------------------ label bytes */

static void test_bad_chars(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    /* a question with a space: well-formed, but nothing is bound to it */
    put_header(&m, RESP, 1, 1, 0, 0);
    put_question(&m, "bad name.example");
    put_a(&m, "bad name.example", 60, 1);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0);
    /* a CNAME target with '@' ends the chain */
    put_header(&m, RESP, 1, 2, 0, 0);
    put_question(&m, "ok.example");
    put_cname(&m, "ok.example", "b@d.example");
    put_a(&m, "b@d.example", 60, 2);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0);
    /* a NUL and a dot inside a label */
    put_header(&m, RESP, 1, 1, 0, 0);
    put8(&m, 3), put8(&m, 'a'), put8(&m, 0), put8(&m, 'b'), put8(&m, 0);
    put16(&m, 1), put16(&m, 1);
    put8(&m, 3), put8(&m, 'a'), put8(&m, '.'), put8(&m, 'b'), put8(&m, 0);
    put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 4), put32(&m, 0xc0000201);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0);
    /* underscores and hyphens are fine */
    put_header(&m, RESP, 1, 1, 0, 0);
    put_question(&m, "_svc.my-host.example");
    put_a(&m, "_svc.my-host.example", 60, 6);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 1);
}

/* ------------------------------------------------------------ hostile compression */

/* Header for one question and one answer, then the question a.example. */
static void hostile_start(struct msg *m)
{
    put_header(m, RESP, 1, 1, 0, 0);
    put_question(m, "a.example");
}

static void put_a_tail(struct msg *m)
{
    put16(m, 1), put16(m, 1), put32(m, 60), put16(m, 4), put32(m, 0xc0000201);
}

static void test_pointer_loop(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    /* question name: label "a", then a pointer to its own start (12) */
    put_header(&m, RESP, 1, 0, 0, 0);
    put8(&m, 1), put8(&m, 'a'), put8(&m, 0xc0), put8(&m, 12);
    put16(&m, 1), put16(&m, 1);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    assert_int_equal(dis_dns_looks_like_dns(m.b, m.n), 0);

    /* answer owner: a pointer to itself */
    hostile_start(&m);
    size_t at = m.n;
    put8(&m, 0xc0), put8(&m, (uint8_t)at);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);

    /* two names pointing at each other: owner 1 = "x" + pointer to owner
     * 2, owner 2 = "y" + pointer back to owner 1 */
    put_header(&m, RESP, 1, 2, 0, 0);
    put_question(&m, "a.example");
    size_t o1 = m.n;
    size_t o2 = o1 + 4 + 14; /* after "x" + pointer and the A's fixed part + rdata */
    put8(&m, 1), put8(&m, 'x'), put8(&m, 0xc0), put8(&m, (uint8_t)o2);
    put_a_tail(&m);
    assert_int_equal(m.n, o2);
    put8(&m, 1), put8(&m, 'y'), put8(&m, 0xc0), put8(&m, (uint8_t)o1);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    assert_int_equal(s.n, 0);
}

/* A two-step backward loop that would defeat a "points before the
 * pointer" rule alone: each pointer is backwards from where it sits, but
 * the second one points to (not before) the start of the run it is in. */
static void test_pointer_backward_loop(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    hostile_start(&m);
    size_t run = m.n; /* "r" then pointer to run (itself) */
    put8(&m, 1), put8(&m, 'r'), put8(&m, 0xc0), put8(&m, (uint8_t)run);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);

    /* owner = "s" + pointer to 12 (the question, legal), question name
     * itself ends normally: this one is fine */
    hostile_start(&m);
    put8(&m, 1), put8(&m, 's'), put8(&m, 0xc0), put8(&m, 12);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0); /* s.a.example is not the question */
}

static void test_pointer_bounds(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    /* past the end of the message */
    hostile_start(&m);
    put8(&m, 0xc0 | 0x3f), put8(&m, 0xff);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* forward, still inside the message */
    hostile_start(&m);
    put8(&m, 0xc0), put8(&m, (uint8_t)(m.n + 4));
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* into the header */
    hostile_start(&m);
    put8(&m, 0xc0), put8(&m, 2);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* the reserved label types 0x40 and 0x80 */
    hostile_start(&m);
    put8(&m, 0x41), put8(&m, 'a'), put8(&m, 0);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    hostile_start(&m);
    put8(&m, 0x81), put8(&m, 'a'), put8(&m, 0);
    put_a_tail(&m);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    assert_int_equal(s.n, 0);
}

/* A question, then n answers each "x" + pointer to the previous owner:
 * answer i's owner is reached through i + 1 pointers, each legal alone. */
static void build_jumps(struct msg *m, int n)
{
    put_header(m, RESP, 1, (uint16_t)n, 0, 0);
    put_question(m, "a");
    size_t prev = 12;
    for (int i = 0; i < n; i++) {
        size_t here = m->n;
        put8(m, 1), put8(m, 'x'), put8(m, (uint8_t)(0xc0 | prev >> 8)), put8(m, (uint8_t)prev);
        put_a_tail(m);
        prev = here;
    }
}

static void test_too_many_jumps(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    build_jumps(&m, 32); /* 32 pointers: the most followed */
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    build_jumps(&m, 33);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
}

static void test_name_too_long(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    /* four 63-byte labels: 4 * 64 + 1 = 257 encoded bytes */
    put_header(&m, RESP, 1, 0, 0, 0);
    for (int l = 0; l < 4; l++) {
        put8(&m, 63);
        for (int i = 0; i < 63; i++)
            put8(&m, 'a');
    }
    put8(&m, 0);
    put16(&m, 1), put16(&m, 1);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* three 63-byte labels and one of 61: 255 bytes, the longest legal */
    put_header(&m, RESP, 1, 0, 0, 0);
    for (int l = 0; l < 4; l++) {
        int n = l < 3 ? 63 : 61;
        put8(&m, (uint8_t)n);
        for (int i = 0; i < n; i++)
            put8(&m, 'a');
    }
    put8(&m, 0);
    put16(&m, 1), put16(&m, 1);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
}

static void test_bad_rdata(void **state)
{
    (void)state;
    struct msg m;
    struct seen s;
    /* an A record with 5 bytes of rdata */
    hostile_start(&m);
    put_name(&m, "a.example");
    put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 5), put32(&m, 0xc0000201), put8(&m, 0);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* rdlength past the end */
    hostile_start(&m);
    put_name(&m, "a.example");
    put16(&m, 1), put16(&m, 1), put32(&m, 60), put16(&m, 400), put32(&m, 0xc0000201);
    assert_int_equal(parse(m.b, m.n, &s), DNS_TRUNCATED);
    /* a CNAME whose target runs past its rdata */
    hostile_start(&m);
    put_name(&m, "a.example");
    put16(&m, 5), put16(&m, 1), put32(&m, 60), put16(&m, 2);
    put8(&m, 1), put8(&m, 'b'), put8(&m, 0);
    assert_int_equal(parse(m.b, m.n, &s), DNS_INVALID);
    /* an A of class CH is no binding */
    hostile_start(&m);
    put_name(&m, "a.example");
    put16(&m, 1), put16(&m, 3), put32(&m, 60), put16(&m, 4), put32(&m, 0xc0000201);
    assert_int_equal(parse(m.b, m.n, &s), DNS_OK);
    assert_int_equal(s.n, 0);
}

/* ------------------------------------------------------------ truncation */

struct sample {
    const uint8_t *p;
    size_t len;
};

#define SAMPLE(a)                                                                                  \
    {                                                                                              \
        a, sizeof(a)                                                                               \
    }

static const struct sample responses[] = {
    SAMPLE(resp_a),     SAMPLE(resp_cname),           SAMPLE(resp_aaaa),
    SAMPLE(resp_multi), SAMPLE(resp_unrelated_chain), SAMPLE(resp_edns),
    SAMPLE(resp_nx),
};

/* Every prefix of a valid response is "truncated" and reports nothing. */
static void test_truncation(void **state)
{
    (void)state;
    struct seen s;
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
        const struct sample *r = &responses[i];
        for (size_t len = 0; len < r->len; len++) {
            uint8_t copy[512]; /* exactly len bytes, so ASan sees overreads */
            assert_true(r->len <= sizeof(copy));
            memcpy(copy, r->p, len);
            const uint8_t *p = len ? copy : NULL;
            int rc = parse(p, len, &s);
            if (rc != DNS_TRUNCATED)
                fail_msg("sample %zu cut at %zu: %d", i, len, rc);
            assert_int_equal(s.n, 0);
            (void)dis_dns_looks_like_dns(p, len);
        }
        assert_int_equal(parse(r->p, r->len, &s), DNS_OK);
    }
    /* a query cut anywhere is "truncated" or, once the flags are in,
     * "not a response" */
    for (size_t len = 0; len < sizeof(query_a); len++) {
        int rc = parse(query_a, len, &s);
        assert_true(rc == DNS_TRUNCATED || rc == DNS_NOT_RESPONSE);
    }
}

/* Prefixes on the heap with nothing after them: ASan catches any read
 * past len. */
static void test_truncation_heap(void **state)
{
    (void)state;
    struct seen s;
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
        const struct sample *r = &responses[i];
        for (size_t len = 1; len <= r->len; len++) {
            uint8_t *p = test_malloc(len);
            memcpy(p, r->p, len);
            int rc = parse(p, len, &s);
            assert_int_equal(rc, len == r->len ? DNS_OK : DNS_TRUNCATED);
            (void)dis_dns_looks_like_dns(p, len);
            test_free(p);
        }
    }
}

/* ------------------------------------------------------------ looks like DNS */

static void test_looks_like_dns(void **state)
{
    (void)state;
    assert_int_equal(dis_dns_looks_like_dns(query_a, sizeof(query_a)), 1);
    assert_int_equal(dis_dns_looks_like_dns(resp_multi, sizeof(resp_multi)), 1);
    assert_int_equal(dis_dns_looks_like_dns(resp_nx, sizeof(resp_nx)), 1);
    for (size_t len = 0; len < sizeof(query_a); len++)
        assert_int_equal(dis_dns_looks_like_dns(query_a, len), 0);
    /* 48 bytes of pseudo-random data (an obfuscated rating query shape) */
    uint8_t junk[48];
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    assert_int_equal(dis_dns_looks_like_dns(junk, sizeof(junk)), 0);
    /* a DNS header with two questions, and one with an unknown opcode */
    uint8_t two[sizeof(query_a)];
    memcpy(two, query_a, sizeof(two));
    two[5] = 2;
    assert_int_equal(dis_dns_looks_like_dns(two, sizeof(two)), 0);
    memcpy(two, query_a, sizeof(two));
    two[2] = 0x78; /* opcode 15 */
    assert_int_equal(dis_dns_looks_like_dns(two, sizeof(two)), 0);
    /* class 7 is not one a question carries */
    memcpy(two, query_a, sizeof(two));
    two[sizeof(two) - 1] = 7;
    assert_int_equal(dis_dns_looks_like_dns(two, sizeof(two)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_aaaa),
        cmocka_unit_test(test_multi),
        cmocka_unit_test(test_unrelated_chain),
        cmocka_unit_test(test_lower_case_and_edns),
        cmocka_unit_test(test_owner_case_insensitive),
        cmocka_unit_test(test_cname_out_of_order),
        cmocka_unit_test(test_cname_loop),
        cmocka_unit_test(test_chain_bound),
        cmocka_unit_test(test_record_bound),
        cmocka_unit_test(test_query_and_errors),
        cmocka_unit_test(test_bad_chars),
        cmocka_unit_test(test_pointer_loop),
        cmocka_unit_test(test_pointer_backward_loop),
        cmocka_unit_test(test_pointer_bounds),
        cmocka_unit_test(test_too_many_jumps),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_bad_rdata),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_truncation_heap),
        cmocka_unit_test(test_looks_like_dns),
    };
    return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
