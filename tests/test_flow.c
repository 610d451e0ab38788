/* test_flow.c -- flow table: hash symmetry, orientation, expiry order, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"

#define MAX_ENDED 64

struct ended {
    size_t n;
    struct flow_key key[MAX_ENDED];
    int reason[MAX_ENDED];
    uint64_t pkts[MAX_ENDED][2];
};

static void on_end(struct flow *f, void *ud)
{
    struct ended *e = ud;
    if (e->n < MAX_ENDED) {
        e->key[e->n] = f->key;
        e->reason[e->n] = f->end_reason;
        e->pkts[e->n][0] = f->pkts[0];
        e->pkts[e->n][1] = f->pkts[1];
        e->n++;
    }
}

/* 10.0.0.<c>:<sp> -> 192.0.2.<s>:<dp>, protocol p */
static struct flow_key mk(uint8_t c, uint16_t sp, uint8_t s, uint16_t dp, uint8_t p)
{
    struct flow_key k;
    memset(&k, 0, sizeof(k));
    k.src[0] = 10, k.src[3] = c;
    k.dst[0] = 192, k.dst[2] = 2, k.dst[3] = s;
    k.sport = sp, k.dport = dp;
    k.ipver = 4, k.proto = p;
    return k;
}

static struct flow_key rev(struct flow_key k)
{
    struct flow_key r = k;
    memcpy(r.src, k.dst, 16), memcpy(r.dst, k.src, 16);
    r.sport = k.dport, r.dport = k.sport;
    return r;
}

static struct flow_table *table(uint32_t max, struct ended *e)
{
    struct flow_table_config c = {.max_flows = max, .seed = 0x1234};
    c.timeout[FLOW_TC_TCP] = 300;
    c.timeout[FLOW_TC_TCP_CLOSED] = 10;
    c.timeout[FLOW_TC_UDP] = 60;
    c.timeout[FLOW_TC_ICMP] = 30;
    c.timeout[FLOW_TC_OTHER] = 45;
    memset(e, 0, sizeof(*e));
    return flow_table_new(&c, on_end, e);
}

static void test_hash_symmetric(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(16, &e);
    struct flow_key k = mk(1, 40000, 7, 443, 6);
    struct flow_key r = rev(k);
    assert_int_equal(flow_hash(t, &k), flow_hash(t, &r));
    /* a different port is a different flow, almost surely a different hash */
    struct flow_key k2 = mk(1, 40001, 7, 443, 6);
    assert_int_not_equal(flow_hash(t, &k), flow_hash(t, &k2));
    /* the seed changes the hash */
    struct flow_table_config c = {.max_flows = 16, .seed = 0x9999};
    struct flow_table *t2 = flow_table_new(&c, NULL, NULL);
    assert_int_not_equal(flow_hash(t, &k), flow_hash(t2, &k));
    flow_table_free(t2);
    flow_table_free(t);
}

/* The dispatch hash: equal both ways, and it spreads flows evenly over
 * the 256 slots the workers share (every slot within 25% of the mean over
 * 64k flows from one client to many servers and ports). */
static void test_key_hash_spreads(void **state)
{
    (void)state;
    unsigned slots[256] = {0};
    for (uint32_t i = 0; i < 65536; i++) {
        struct flow_key k = mk(7, (uint16_t)(32768 + (i & 1023)), (uint8_t)(1 + (i >> 10)), 443, 6);
        struct flow_key r = rev(k);
        uint32_t h = flow_key_hash(&k, 0x5eed);
        assert_int_equal(h, flow_key_hash(&r, 0x5eed));
        slots[h % 256]++;
    }
    for (unsigned s = 0; s < 256; s++) {
        if (slots[s] < 256 * 3 / 4 || slots[s] > 256 * 5 / 4)
            fail_msg("slot %u has %u of 65536 flows (mean 256)", s, slots[s]);
    }
}

static void test_orientation(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(16, &e);
    struct flow_key k = mk(1, 40000, 7, 443, 6), r = rev(k);
    int dir;
    bool created;
    struct flow *f = flow_lookup_create(t, &k, 1000, &dir, &created);
    assert_non_null(f);
    assert_true(created);
    assert_int_equal(dir, FLOW_TOSERVER);
    struct flow *g = flow_lookup_create(t, &r, 2000, &dir, &created);
    assert_ptr_equal(f, g);
    assert_false(created);
    assert_int_equal(dir, FLOW_TOCLIENT);
    /* the flow keeps the initiator's orientation */
    assert_memory_equal(f->key.src, k.src, 16);
    assert_int_equal(f->key.sport, 40000);
    /* swap: the responder becomes the client */
    f->pkts[FLOW_TOSERVER] = 3;
    flow_swap(f);
    assert_memory_equal(f->key.src, r.src, 16);
    assert_int_equal(f->pkts[FLOW_TOCLIENT], 3);
    assert_int_equal(f->pkts[FLOW_TOSERVER], 0);
    assert_non_null(flow_lookup(t, &k, &dir));
    assert_int_equal(dir, FLOW_TOCLIENT);
    /* VLAN is part of the key */
    struct flow_key kv = k;
    kv.vlan = 10;
    assert_null(flow_lookup(t, &kv, &dir));
    flow_table_free(t);
}

static void test_expiry_order(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(16, &e);
    int dir;
    bool created;
    const uint64_t s = 1000000;
    /* TCP at 0 s (timeout 300), UDP at 10 s (60), ICMP at 20 s (30), UDP at 40 s */
    struct flow_key a = mk(1, 1000, 1, 80, 6), b = mk(2, 2000, 2, 53, 17), c = mk(3, 0, 3, 0, 1),
                    d = mk(4, 4000, 4, 123, 17);
    struct flow *fa = flow_lookup_create(t, &a, 0, &dir, &created);
    struct flow *fb = flow_lookup_create(t, &b, 10 * s, &dir, &created);
    struct flow *fc = flow_lookup_create(t, &c, 20 * s, &dir, &created);
    struct flow *fd = flow_lookup_create(t, &d, 40 * s, &dir, &created);
    assert_non_null(fa), assert_non_null(fb), assert_non_null(fc), assert_non_null(fd);
    /* b seen again at 45 s: it now expires after d */
    flow_touch(t, fb, 45 * s, FLOW_TC_UDP);

    assert_int_equal(flow_expire(t, 49 * s), 0);
    assert_int_equal(flow_expire(t, 50 * s), 1); /* ICMP c: 20 + 30 */
    assert_int_equal(e.key[0].src[3], 3);
    assert_int_equal(e.reason[0], FLOW_END_IDLE);
    assert_int_equal(flow_expire(t, 100 * s), 1); /* UDP d: 40 + 60 */
    assert_int_equal(e.key[1].src[3], 4);
    assert_int_equal(flow_expire(t, 105 * s), 1); /* UDP b: 45 + 60 */
    assert_int_equal(e.key[2].src[3], 2);
    assert_int_equal(flow_expire(t, 299 * s), 0);
    assert_int_equal(flow_expire(t, 300 * s), 1); /* TCP a */
    assert_int_equal(flow_table_stats(t)->active, 0);
    assert_int_equal(flow_table_stats(t)->ended[FLOW_END_IDLE], 4);
    flow_table_free(t);
}

static void test_closed_and_flush(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(16, &e);
    int dir;
    bool created;
    const uint64_t s = 1000000;
    struct flow_key a = mk(1, 1000, 1, 80, 6), b = mk(2, 2000, 2, 443, 6),
                    c = mk(3, 3000, 3, 53, 17);
    struct flow *fa = flow_lookup_create(t, &a, 0, &dir, &created);
    struct flow *fb = flow_lookup_create(t, &b, 1 * s, &dir, &created);
    flow_lookup_create(t, &c, 2 * s, &dir, &created);
    fa->tcp_flags[0] = 0x11; /* FIN ACK */
    flow_touch(t, fa, 3 * s, FLOW_TC_TCP_CLOSED);
    fb->tcp_flags[1] = 0x04; /* RST */
    flow_touch(t, fb, 4 * s, FLOW_TC_TCP_CLOSED);
    assert_int_equal(flow_expire(t, 13 * s), 1); /* a: closed at 3 s + 10 s */
    assert_int_equal(e.reason[0], FLOW_END_TCP_FIN);
    /* end of input: b keeps its close reason, c ends with end-of-input */
    assert_int_equal(flow_flush(t, FLOW_END_EOF), 2);
    assert_int_equal(e.key[1].src[3], 3); /* oldest first: c last seen 2 s */
    assert_int_equal(e.reason[1], FLOW_END_EOF);
    assert_int_equal(e.reason[2], FLOW_END_TCP_RST);
    assert_string_equal(flow_end_name(FLOW_END_EOF), "end-of-input");
    assert_string_equal(flow_end_name(FLOW_END_TABLE_FULL), "table-full");
    flow_table_free(t);
}

static void test_table_full(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(3, &e);
    int dir;
    bool created;
    for (uint8_t i = 1; i <= 3; i++) {
        struct flow_key k = mk(i, 1000, 1, 53, 17);
        assert_non_null(flow_lookup_create(t, &k, i * 1000u, &dir, &created));
    }
    /* refresh flow 1, so flow 2 is now the least recently seen */
    struct flow_key k1 = mk(1, 1000, 1, 53, 17);
    flow_touch(t, flow_lookup(t, &k1, &dir), 5000, FLOW_TC_UDP);
    struct flow_key k4 = mk(4, 1000, 1, 53, 17);
    struct flow *f4 = flow_lookup_create(t, &k4, 6000, &dir, &created);
    assert_non_null(f4);
    assert_true(created);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.key[0].src[3], 2);
    assert_int_equal(e.reason[0], FLOW_END_TABLE_FULL);
    assert_int_equal(flow_table_stats(t)->ended[FLOW_END_TABLE_FULL], 1);
    assert_int_equal(flow_table_stats(t)->active, 3);
    assert_int_equal(flow_table_stats(t)->peak_active, 3);
    /* the evicted flow is gone, the others are still found */
    struct flow_key k2 = mk(2, 1000, 1, 53, 17);
    assert_null(flow_lookup(t, &k2, &dir));
    assert_non_null(flow_lookup(t, &k1, &dir));
    flow_table_free(t);
}

static void test_many_flows_chains(void **state)
{
    (void)state;
    struct ended e;
    struct flow_table *t = table(5000, &e);
    int dir;
    bool created;
    for (uint16_t i = 0; i < 5000; i++) {
        struct flow_key k = mk((uint8_t)(i & 0xff), (uint16_t)(1024 + i), 9, 443, 6);
        assert_non_null(flow_lookup_create(t, &k, 1, &dir, &created));
        assert_true(created);
    }
    for (uint16_t i = 0; i < 5000; i++) {
        struct flow_key k = rev(mk((uint8_t)(i & 0xff), (uint16_t)(1024 + i), 9, 443, 6));
        struct flow *f = flow_lookup(t, &k, &dir);
        assert_non_null(f);
        assert_int_equal(dir, FLOW_TOCLIENT);
        assert_int_equal(f->key.sport, 1024 + i);
    }
    assert_int_equal(e.n, 0);
    flow_table_free(t);
}

/* Fingerprints are kept in binary and given back as the same text. */
static void test_fingerprints(void **state)
{
    (void)state;
    struct flow f;
    char a[FLOW_JA3_TEXT], b[FLOW_JA4_TEXT];
    memset(&f, 0, sizeof(f));
    assert_string_equal(flow_fp_ja3(&f, 0, a), "");
    assert_string_equal(flow_fp_ja4(&f, b), "");
    /* FortiClient's JA3 and JA4 (VENDORS.md) */
    assert_int_equal(flow_fp_set_ja3(&f, 0, "e4d448cdfe06dc1243c1eb026c74ac9a"), 0);
    assert_int_equal(flow_fp_set_ja4(&f, "t12i220700_0d4ca5d4ec72_3304d8368043"), 0);
    assert_string_equal(flow_fp_ja3(&f, 0, a), "e4d448cdfe06dc1243c1eb026c74ac9a");
    assert_string_equal(flow_fp_ja3(&f, 1, a), "");
    assert_string_equal(flow_fp_ja4(&f, b), "t12i220700_0d4ca5d4ec72_3304d8368043");
    /* not of the form: nothing kept */
    assert_int_equal(flow_fp_set_ja3(&f, 1, "E4D448CDFE06DC1243C1EB026C74AC9A"), -1);
    assert_int_equal(flow_fp_set_ja3(&f, 1, "e4d448cd"), -1);
    assert_int_equal(flow_fp_set_ja3(&f, 1, "g4d448cdfe06dc1243c1eb026c74ac9a"), -1);
    assert_int_equal(flow_fp_set_ja4(&f, "t12i220700-0d4ca5d4ec72_3304d8368043"), -1);
    assert_int_equal(flow_fp_set_ja4(&f, "t12i220700_0d4ca5d4ec72_3304d836804"), -1);
    assert_string_equal(flow_fp_ja3(&f, 1, a), "");
    assert_string_equal(flow_fp_ja4(&f, b), "t12i220700_0d4ca5d4ec72_3304d8368043");
}

static void test_memory_per_flow(void **state)
{
    (void)state;
    struct ended e;
    /* struct flow (544 bytes: key, counters, metadata, fingerprints, enriched facts)
     * and its share of the buckets; README "Memory bound" gives B_flow */
    struct flow_table *t = table(262144, &e);
    assert_true(flow_bytes_per_flow(t) <= 552);
    flow_table_free(t);
    t = table(1000, &e); /* buckets rounded up to a power of two */
    assert_true(flow_bytes_per_flow(t) <= 552);
    flow_table_free(t);
}

static void test_meta(void **state)
{
    (void)state;
    struct flow f;
    memset(&f, 0, sizeof(f));
    assert_string_equal(flow_meta_get(&f, FLOW_META_HOST), "");
    flow_meta_set(&f, FLOW_META_HOST, "update.fortiguard.net");
    flow_meta_set(&f, FLOW_META_ALPN, "h2");
    flow_meta_set(&f, FLOW_META_HOST, "second.example"); /* first one stays */
    assert_string_equal(flow_meta_get(&f, FLOW_META_HOST), "update.fortiguard.net");
    assert_string_equal(flow_meta_get(&f, FLOW_META_ALPN), "h2");
    assert_string_equal(flow_meta_get(&f, FLOW_META_UA), "");
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    flow_meta_set(&f, FLOW_META_SUBJECT, big);
    assert_int_equal(f.meta_truncated, 1);
    assert_true(strlen(flow_meta_get(&f, FLOW_META_SUBJECT)) < sizeof(f.meta));
    assert_int_equal(f.meta_used, sizeof(f.meta));
    flow_meta_set(&f, FLOW_META_ISSUER, "x"); /* no room left */
    assert_string_equal(flow_meta_get(&f, FLOW_META_ISSUER), "");
    assert_int_equal(f.meta_truncated, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_symmetric),    cmocka_unit_test(test_key_hash_spreads),
        cmocka_unit_test(test_orientation),       cmocka_unit_test(test_expiry_order),
        cmocka_unit_test(test_closed_and_flush),  cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_many_flows_chains), cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_memory_per_flow),   cmocka_unit_test(test_meta),
    };
    return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
