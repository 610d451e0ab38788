/* test_dns_cache.c -- (client, address) -> name cache: TTL expiry and
 * clamping, the bound and who is evicted, per-client keys, mixed families,
 * and the whole policy against a plain model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns-cache.h"

#define SEC 1000000ull

/* Clients 10.0.0.<n> and addresses 192.0.2.<n>, network order. */
static const uint8_t *v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t out[4])
{
    out[0] = a, out[1] = b, out[2] = c, out[3] = d;
    return out;
}

/* 2001:db8::<n> */
static const uint8_t *v6(uint16_t n, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
    out[14] = (uint8_t)(n >> 8), out[15] = (uint8_t)n;
    return out;
}

static void test_put_get(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(16, 0, 3600);
    assert_non_null(c);
    dns_cache_put(c, 4, v4(10, 0, 0, 1, cl), 4, v4(208, 91, 112, 55, ad), "update.fortiguard.net",
                  60, 0);
    assert_string_equal(dns_cache_get(c, 4, cl, 4, ad, 1 * SEC), "update.fortiguard.net");
    assert_null(dns_cache_get(c, 4, cl, 4, v4(208, 91, 112, 56, ad), 1 * SEC));
    const struct dns_cache_stats *st = dns_cache_stats(c);
    assert_int_equal(st->inserts, 1);
    assert_int_equal(st->hits, 1);
    assert_int_equal(st->misses, 1);
    assert_int_equal(st->entries, 1);
    dns_cache_free(c);
    dns_cache_free(NULL);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(16, 0, 3600);
    v4(10, 0, 0, 1, cl), v4(192, 0, 2, 1, ad);
    dns_cache_put(c, 4, cl, 4, ad, "a.example", 60, 100 * SEC);
    assert_non_null(dns_cache_get(c, 4, cl, 4, ad, 160 * SEC - 1));
    assert_null(dns_cache_get(c, 4, cl, 4, ad, 160 * SEC));
    const struct dns_cache_stats *st = dns_cache_stats(c);
    assert_int_equal(st->expired, 1);
    assert_int_equal(st->entries, 0);
    /* freed, so it does not come back either */
    assert_null(dns_cache_get(c, 4, cl, 4, ad, 100 * SEC));
    dns_cache_free(c);
}

static void test_ttl_clamp(void **state)
{
    (void)state;
    uint8_t cl[4], a1[4], a2[4];
    struct dns_cache *c = dns_cache_new(16, 30, 600);
    v4(10, 0, 0, 1, cl);
    dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, 1, a1), "short.example", 1, 0);
    dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, 2, a2), "long.example", 86400, 0);
    /* raised to the 30 s floor */
    assert_non_null(dns_cache_get(c, 4, cl, 4, a1, 29 * SEC));
    assert_null(dns_cache_get(c, 4, cl, 4, a1, 30 * SEC));
    /* cut to the 600 s ceiling */
    assert_non_null(dns_cache_get(c, 4, cl, 4, a2, 599 * SEC));
    assert_null(dns_cache_get(c, 4, cl, 4, a2, 600 * SEC));
    dns_cache_free(c);

    /* a ceiling below the floor: the floor wins */
    c = dns_cache_new(4, 100, 10);
    dns_cache_put(c, 4, cl, 4, a1, "x.example", 0, 0);
    assert_non_null(dns_cache_get(c, 4, cl, 4, a1, 99 * SEC));
    assert_null(dns_cache_get(c, 4, cl, 4, a1, 100 * SEC));
    dns_cache_free(c);
}

static void test_update(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(16, 0, 3600);
    v4(10, 0, 0, 1, cl), v4(192, 0, 2, 1, ad);
    dns_cache_put(c, 4, cl, 4, ad, "old.example", 600, 0);
    dns_cache_put(c, 4, cl, 4, ad, "new.example", 10, 5 * SEC);
    const struct dns_cache_stats *st = dns_cache_stats(c);
    assert_int_equal(st->inserts, 1);
    assert_int_equal(st->updates, 1);
    assert_int_equal(st->entries, 1);
    assert_string_equal(dns_cache_get(c, 4, cl, 4, ad, 6 * SEC), "new.example");
    /* the new, shorter TTL counts */
    assert_null(dns_cache_get(c, 4, cl, 4, ad, 15 * SEC));
    dns_cache_free(c);
}

/* Full: the least recently used entry is the one replaced, whatever its
 * TTL -- a flood of long-TTL answers cannot push out a fresh binding ahead
 * of older ones. */
static void test_evicts_least_recent(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(8, 0, 86400);
    v4(10, 0, 0, 1, cl);
    /* addresses 0..7 in that order; 3 has the shortest TTL */
    for (uint8_t i = 0; i < 8; i++)
        dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, i, ad), "n.example", i == 3 ? 50 : 100u * (i + 1),
                      i);
    /* a lookup refreshes address 0: address 1 is now the least recent */
    assert_non_null(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 0, ad), 10));
    dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, 100, ad), "new.example", 86400, 1 * SEC);
    const struct dns_cache_stats *st = dns_cache_stats(c);
    assert_int_equal(st->evicted, 1);
    assert_int_equal(st->entries, 8);
    assert_null(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 1, ad), 2 * SEC));
    /* the short-TTL entry stays until it expires */
    assert_string_equal(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 3, ad), 2 * SEC), "n.example");
    assert_string_equal(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 100, ad), 2 * SEC), "new.example");
    /* long-TTL newcomers replace the least recent ones, in order */
    dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, 101, ad), "b.example", 86400, 3 * SEC);
    assert_null(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 2, ad), 4 * SEC));
    assert_non_null(dns_cache_get(c, 4, cl, 4, v4(192, 0, 2, 4, ad), 4 * SEC));
    assert_int_equal(st->evicted, 2);
    dns_cache_free(c);
}

static void test_bound(void **state)
{
    (void)state;
    uint8_t cl[4], ad[16];
    struct dns_cache *c = dns_cache_new(8, 0, 3600);
    const struct dns_cache_stats *st = dns_cache_stats(c);
    v4(10, 0, 0, 1, cl);
    for (uint16_t i = 0; i < 100; i++) {
        dns_cache_put(c, 4, cl, 6, v6(i, ad), "many.example", 600, i * SEC);
        assert_true(st->entries <= 8);
    }
    assert_int_equal(st->inserts, 100);
    assert_int_equal(st->evicted, 92);
    assert_int_equal(st->entries, 8);
    /* the newest eight are the ones kept */
    for (uint16_t i = 92; i < 100; i++)
        assert_non_null(dns_cache_get(c, 4, cl, 6, v6(i, ad), 100 * SEC));
    assert_null(dns_cache_get(c, 4, cl, 6, v6(91, ad), 100 * SEC));
    dns_cache_free(c);
}

/* A full cache whose entries have expired reuses them as expired, not
 * evicted. */
static void test_full_of_expired(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(4, 0, 3600);
    v4(10, 0, 0, 1, cl);
    for (uint8_t i = 0; i < 4; i++)
        dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, i, ad), "old.example", 10, 0);
    dns_cache_put(c, 4, cl, 4, v4(192, 0, 2, 9, ad), "new.example", 10, 20 * SEC);
    const struct dns_cache_stats *st = dns_cache_stats(c);
    assert_int_equal(st->evicted, 0);
    assert_int_equal(st->expired, 4);
    assert_int_equal(st->entries, 1);
    dns_cache_free(c);
}

/* Client A's answer does not name client B's flow. */
static void test_per_client(void **state)
{
    (void)state;
    uint8_t ca[4], cb[4], ad[4];
    struct dns_cache *c = dns_cache_new(16, 0, 3600);
    v4(10, 0, 0, 1, ca), v4(10, 0, 0, 2, cb), v4(192, 0, 2, 1, ad);
    dns_cache_put(c, 4, ca, 4, ad, "guard.fortinet.com", 60, 0);
    assert_string_equal(dns_cache_get(c, 4, ca, 4, ad, 1), "guard.fortinet.com");
    assert_null(dns_cache_get(c, 4, cb, 4, ad, 1));
    /* B resolving another name for the same address keeps both apart */
    dns_cache_put(c, 4, cb, 4, ad, "other.example", 60, 0);
    assert_string_equal(dns_cache_get(c, 4, ca, 4, ad, 1), "guard.fortinet.com");
    assert_string_equal(dns_cache_get(c, 4, cb, 4, ad, 1), "other.example");
    dns_cache_free(c);
}

static void test_families(void **state)
{
    (void)state;
    uint8_t cl4[4], cl6[16], ad4[4], ad6[16];
    struct dns_cache *c = dns_cache_new(16, 0, 3600);
    v4(10, 0, 0, 1, cl4), v6(1, cl6), v4(192, 0, 2, 1, ad4), v6(0x55, ad6);
    /* a v4 client that asked for AAAA */
    dns_cache_put(c, 4, cl4, 6, ad6, "globalupdate.fortinet.net", 60, 0);
    assert_string_equal(dns_cache_get(c, 4, cl4, 6, ad6, 1), "globalupdate.fortinet.net");
    /* a v6 client that asked for A */
    dns_cache_put(c, 6, cl6, 4, ad4, "update.fortiguard.net", 60, 0);
    assert_string_equal(dns_cache_get(c, 6, cl6, 4, ad4, 1), "update.fortiguard.net");
    /* the same leading bytes in another family are another key */
    uint8_t pref[16];
    memset(pref, 0, sizeof(pref));
    memcpy(pref, ad4, 4);
    assert_null(dns_cache_get(c, 6, cl6, 6, pref, 1));
    assert_null(dns_cache_get(c, 4, cl4, 4, ad6, 1));
    /* families other than 4 and 6 are ignored */
    dns_cache_put(c, 5, cl4, 4, ad4, "bad.example", 60, 0);
    assert_null(dns_cache_get(c, 5, cl4, 4, ad4, 1));
    assert_int_equal(dns_cache_stats(c)->entries, 2);
    dns_cache_free(c);
}

static void test_long_name(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    char name[300];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    struct dns_cache *c = dns_cache_new(2, 0, 3600);
    dns_cache_put(c, 4, v4(10, 0, 0, 1, cl), 4, v4(192, 0, 2, 1, ad), name, 60, 0);
    const char *got = dns_cache_get(c, 4, cl, 4, ad, 1);
    assert_non_null(got);
    assert_int_equal(strlen(got), 255);
    assert_int_equal(strncmp(got, name, 255), 0);
    dns_cache_free(c);
}

static void test_zero_and_size(void **state)
{
    (void)state;
    uint8_t cl[4], ad[4];
    struct dns_cache *c = dns_cache_new(0, 0, 3600);
    assert_non_null(c);
    dns_cache_put(c, 4, v4(10, 0, 0, 1, cl), 4, v4(192, 0, 2, 1, ad), "x.example", 60, 0);
    assert_null(dns_cache_get(c, 4, cl, 4, ad, 1));
    assert_int_equal(dns_cache_stats(c)->entries, 0);
    dns_cache_free(c);
    assert_true(dns_cache_entry_bytes() >= 256 + 32);
    assert_true(dns_cache_entry_bytes() <= 512);
}

/* ------------------------------------------------------------ against a model
 * The same operations on a plain array with the documented policy: every
 * put and every successful get makes the entry the most recent; a new key
 * first frees up to 8 expired entries from the least recent end (stopping
 * at the first live one), then replaces the least recent entry when still
 * full; a get frees an expired entry. */

#define MODEL_MAX 16
#define MODEL_KEYS 40

struct model {
    int key[MODEL_MAX];
    uint64_t exp[MODEL_MAX];
    uint64_t used[MODEL_MAX]; /* larger = more recent */
    int n;
    uint64_t clock;
    uint64_t evicted, expired;
};

static int model_find(const struct model *m, int key)
{
    for (int i = 0; i < m->n; i++)
        if (m->key[i] == key)
            return i;
    return -1;
}

static int model_lru(const struct model *m)
{
    int best = 0;
    for (int i = 1; i < m->n; i++)
        if (m->used[i] < m->used[best])
            best = i;
    return best;
}

static void model_drop(struct model *m, int i)
{
    m->key[i] = m->key[m->n - 1];
    m->exp[i] = m->exp[m->n - 1];
    m->used[i] = m->used[m->n - 1];
    m->n--;
}

static void model_put(struct model *m, int key, uint64_t exp, uint64_t now)
{
    int i = model_find(m, key);
    if (i >= 0) {
        m->exp[i] = exp;
        m->used[i] = ++m->clock;
        return;
    }
    for (int k = 0; k < 8 && m->n > 0; k++) {
        int s = model_lru(m);
        if (m->exp[s] > now)
            break;
        model_drop(m, s);
        m->expired++;
    }
    if (m->n == MODEL_MAX) {
        model_drop(m, model_lru(m));
        m->evicted++;
    }
    m->key[m->n] = key;
    m->exp[m->n] = exp;
    m->used[m->n] = ++m->clock;
    m->n++;
}

static int model_get(struct model *m, int key, uint64_t now)
{
    int i = model_find(m, key);
    if (i < 0)
        return 0;
    if (now >= m->exp[i]) {
        model_drop(m, i);
        m->expired++;
        return 0;
    }
    m->used[i] = ++m->clock;
    return 1;
}

static void test_against_model(void **state)
{
    (void)state;
    uint8_t cl[4], ad[16];
    struct dns_cache *c = dns_cache_new(MODEL_MAX, 0, 100000);
    const struct dns_cache_stats *st = dns_cache_stats(c);
    struct model m;
    memset(&m, 0, sizeof(m));
    v4(10, 0, 0, 1, cl);
    uint32_t x = 12345;
    uint64_t now = 0;
    for (int op = 0; op < 20000; op++) {
        x = x * 1103515245u + 12345u;
        int key = (int)((x >> 8) % MODEL_KEYS);
        uint32_t ttl = 1 + (x >> 20) % 20;
        now += 1 + ((x >> 4) & 1) * 700000; /* sometimes far enough to expire things */
        if ((x >> 16) & 1) {
            dns_cache_put(c, 4, cl, 6, v6((uint16_t)key, ad), "k.example", ttl, now);
            model_put(&m, key, now + ttl * SEC, now);
        } else {
            int want = model_get(&m, key, now);
            const char *got = dns_cache_get(c, 4, cl, 6, v6((uint16_t)key, ad), now);
            assert_int_equal(got != NULL, want);
        }
        assert_int_equal(st->entries, (uint64_t)m.n);
        assert_int_equal(st->evicted, m.evicted);
        assert_int_equal(st->expired, m.expired);
    }
    /* both ways out were taken, many times */
    assert_true(m.evicted > 100);
    assert_true(m.expired > 100);
    dns_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_ttl_clamp),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_evicts_least_recent),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_full_of_expired),
        cmocka_unit_test(test_per_client),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_zero_and_size),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests_name("dns-cache", tests, NULL, NULL);
}
