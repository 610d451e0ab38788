/* test_netset.c -- prefix set: longest-prefix match, parsing, replacement. */

#include "netset.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Distinct value pointers; the set never looks behind them. */
static int val_a, val_b, val_c, val_d, val_e;

static struct netset *new_set(void)
{
    struct netset *ns = netset_new();
    assert_non_null(ns);
    return ns;
}

static void add_ok(struct netset *ns, const char *cidr, void *value)
{
    char err[128] = "";

    if (netset_add(ns, cidr, value, err, sizeof(err)) != 0)
        fail_msg("netset_add(\"%s\") failed: %s", cidr, err);
}

/* Look up a textual address; returns the value and sets *plen. */
static void *find(const struct netset *ns, const char *addr, unsigned *plen)
{
    uint8_t bin[16];

    if (strchr(addr, ':') != NULL) {
        assert_int_equal(inet_pton(AF_INET6, addr, bin), 1);
        return netset_lookup(ns, 6, bin, plen);
    }
    assert_int_equal(inet_pton(AF_INET, addr, bin), 1);
    return netset_lookup(ns, 4, bin, plen);
}

/* Expect addr to match value with prefix length plen (value NULL: no match). */
static void expect(const struct netset *ns, const char *addr, void *value, unsigned plen)
{
    unsigned got_len = 999;
    void *got = find(ns, addr, &got_len);

    if (got != value)
        fail_msg("lookup %s: got %p, want %p", addr, got, value);
    if (value != NULL && got_len != plen)
        fail_msg("lookup %s: matched /%u, want /%u", addr, got_len, plen);
}

static void test_v4_basic(void **state)
{
    struct netset *ns = new_set();

    (void)state;
    assert_int_equal(netset_count(ns), 0);
    expect(ns, "10.1.2.3", NULL, 0);

    add_ok(ns, "10.0.0.0/8", &val_a);
    assert_int_equal(netset_count(ns), 1);
    expect(ns, "10.0.0.0", &val_a, 8);
    expect(ns, "10.1.2.3", &val_a, 8);
    expect(ns, "10.255.255.255", &val_a, 8);
    /* Just outside both ends. */
    expect(ns, "9.255.255.255", NULL, 0);
    expect(ns, "11.0.0.0", NULL, 0);
    /* An IPv4 prefix never matches an IPv6 address. */
    expect(ns, "::a00:1", NULL, 0);
    expect(ns, "::ffff:10.0.0.1", NULL, 0);

    /* A NULL plen pointer is allowed. */
    assert_ptr_equal(find(ns, "10.9.9.9", NULL), &val_a);
    netset_free(ns);
}

/* 10/8 and 10.1/16: the most specific prefix wins, in either insert order. */
static void test_overlap(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct netset *ns = new_set();

        if (order == 0) {
            add_ok(ns, "10.0.0.0/8", &val_a);
            add_ok(ns, "10.1.0.0/16", &val_b);
            add_ok(ns, "10.1.2.0/24", &val_c);
        } else {
            add_ok(ns, "10.1.2.0/24", &val_c);
            add_ok(ns, "10.1.0.0/16", &val_b);
            add_ok(ns, "10.0.0.0/8", &val_a);
        }
        add_ok(ns, "10.2.0.0/16", &val_d); /* a sibling of 10.1/16 */
        assert_int_equal(netset_count(ns), 4);

        expect(ns, "10.1.0.0", &val_b, 16);
        expect(ns, "10.1.255.255", &val_b, 16);
        expect(ns, "10.1.2.0", &val_c, 24);
        expect(ns, "10.1.2.255", &val_c, 24);
        expect(ns, "10.1.1.255", &val_b, 16); /* just below the /24 */
        expect(ns, "10.1.3.0", &val_b, 16);   /* just above it */
        expect(ns, "10.0.255.255", &val_a, 8);
        expect(ns, "10.2.0.0", &val_d, 16);
        expect(ns, "10.2.255.255", &val_d, 16);
        expect(ns, "10.3.0.0", &val_a, 8);
        expect(ns, "10.255.255.255", &val_a, 8);
        expect(ns, "11.1.2.3", NULL, 0);
        netset_free(ns);
    }
}

static void test_v6(void **state)
{
    struct netset *ns = new_set();

    (void)state;
    add_ok(ns, "2001:db8::/32", &val_a);
    add_ok(ns, "2001:db8:40::/48", &val_b);
    add_ok(ns, "fc00::/7", &val_c);
    assert_int_equal(netset_count(ns), 3);

    expect(ns, "2001:db8::1", &val_a, 32);
    expect(ns, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &val_a, 32);
    expect(ns, "2001:db8:40::", &val_b, 48);
    expect(ns, "2001:db8:40:ffff:ffff:ffff:ffff:ffff", &val_b, 48);
    expect(ns, "2001:db8:3f:ffff:ffff:ffff:ffff:ffff", &val_a, 32);
    expect(ns, "2001:db8:41::", &val_a, 32);
    expect(ns, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL, 0);
    expect(ns, "2001:db9::", NULL, 0);
    expect(ns, "fc00::1", &val_c, 7);
    expect(ns, "fdff:ffff::1", &val_c, 7);
    expect(ns, "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, 0);
    expect(ns, "fe00::", NULL, 0);
    /* IPv6 prefixes never match IPv4 addresses. */
    expect(ns, "32.1.13.184", NULL, 0);
    netset_free(ns);
}

/* /0 matches everything of its family; /32 and /128 match one address. */
static void test_zero_and_host(void **state)
{
    struct netset *ns = new_set();

    (void)state;
    add_ok(ns, "0.0.0.0/0", &val_a);
    add_ok(ns, "192.0.2.1", &val_b); /* no length: /32 */
    add_ok(ns, "198.51.100.7/32", &val_c);
    add_ok(ns, "::/0", &val_d);
    add_ok(ns, "2001:db8::1", &val_e); /* no length: /128 */
    assert_int_equal(netset_count(ns), 5);

    expect(ns, "0.0.0.0", &val_a, 0);
    expect(ns, "255.255.255.255", &val_a, 0);
    expect(ns, "192.0.2.1", &val_b, 32);
    expect(ns, "192.0.2.0", &val_a, 0);
    expect(ns, "192.0.2.2", &val_a, 0);
    expect(ns, "198.51.100.7", &val_c, 32);
    expect(ns, "198.51.100.6", &val_a, 0);
    expect(ns, "::", &val_d, 0);
    expect(ns, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &val_d, 0);
    expect(ns, "2001:db8::1", &val_e, 128);
    expect(ns, "2001:db8::", &val_d, 0);
    expect(ns, "2001:db8::2", &val_d, 0);
    netset_free(ns);

    /* A host route alone, and an explicit /128. */
    ns = new_set();
    add_ok(ns, "2001:db8::ff/128", &val_a);
    expect(ns, "2001:db8::ff", &val_a, 128);
    expect(ns, "2001:db8::fe", NULL, 0);
    expect(ns, "2001:db8::100", NULL, 0);
    netset_free(ns);
}

static void test_duplicate_replaces(void **state)
{
    struct netset *ns = new_set();

    (void)state;
    add_ok(ns, "10.0.0.0/8", &val_a);
    add_ok(ns, "10.1.0.0/16", &val_b);
    add_ok(ns, "10.0.0.0/8", &val_c);
    assert_int_equal(netset_count(ns), 2);
    expect(ns, "10.9.9.9", &val_c, 8);
    expect(ns, "10.1.9.9", &val_b, 16);

    /* The same prefix spelled differently is the same prefix. */
    add_ok(ns, "2001:db8::/32", &val_a);
    add_ok(ns, "2001:0DB8:0:0::/32", &val_d);
    assert_int_equal(netset_count(ns), 3);
    expect(ns, "2001:db8::1", &val_d, 32);

    /* Two diverging prefixes make a branch point; giving that point a value
     * later turns it into a prefix of its own. */
    add_ok(ns, "172.16.0.0/16", &val_a);
    add_ok(ns, "172.17.0.0/16", &val_b);
    assert_int_equal(netset_count(ns), 5);
    expect(ns, "172.18.0.0", NULL, 0);
    add_ok(ns, "172.16.0.0/15", &val_e);
    assert_int_equal(netset_count(ns), 6);
    expect(ns, "172.16.1.1", &val_a, 16);
    expect(ns, "172.17.1.1", &val_b, 16);
    add_ok(ns, "172.16.0.0/14", &val_c);
    expect(ns, "172.18.0.0", &val_c, 14);
    assert_int_equal(netset_count(ns), 7);
    netset_free(ns);
}

static void test_bad_input(void **state)
{
    static const struct {
        const char *cidr;
        const char *msg; /* expected errbuf, or NULL to only require a message */
    } bad[] = {
        {"10.0.0.1/8", "invalid prefix \"10.0.0.1/8\": host bits set beyond /8"},
        {"11.0.0.0/7", "invalid prefix \"11.0.0.0/7\": host bits set beyond /7"},
        {"2001:db8::1/64", "invalid prefix \"2001:db8::1/64\": host bits set beyond /64"},
        {"1.2.3.0/33", "invalid prefix \"1.2.3.0/33\": prefix length /33 exceeds /32 for IPv4"},
        {"::/129", "invalid prefix \"::/129\": prefix length /129 exceeds /128 for IPv6"},
        {"0.0.0.0/4294967328", NULL},
        {"garbage", "invalid prefix \"garbage\": not an IPv4 or IPv6 address"},
        {"", "invalid prefix \"\": empty"},
        {"/8", NULL},
        {"10.0.0.0/", NULL},
        {"10.0.0.0/-1", NULL},
        {"10.0.0.0/+8", NULL},
        {"10.0.0.0/8x", NULL},
        {"10.0.0.0/ 8", NULL},
        {" 10.0.0.0/8", NULL},
        {"10.0.0.0/8/8", NULL},
        {"10.0.0/8", NULL},
        {"10.0.0.256", NULL},
        {"2001:db8:::/48", NULL},
        {"2001:db8::/3x", NULL},
        {"fe80::1%eth0", NULL},
        {"0000000000000000000000000000000000000000000000000000000000000000000000", NULL},
    };
    struct netset *ns = new_set();
    char err[128];

    (void)state;
    add_ok(ns, "192.0.2.0/24", &val_a);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(err, 0, sizeof(err));
        if (netset_add(ns, bad[i].cidr, &val_b, err, sizeof(err)) != -1)
            fail_msg("netset_add(\"%s\") accepted a bad prefix", bad[i].cidr);
        if (bad[i].msg != NULL)
            assert_string_equal(err, bad[i].msg);
        else if (strncmp(err, "invalid prefix \"", 16) != 0)
            fail_msg("netset_add(\"%s\"): unexpected message \"%s\"", bad[i].cidr, err);
    }

    /* A NULL value is refused; a NULL or short errbuf is fine. */
    assert_int_equal(netset_add(ns, "10.0.0.0/8", NULL, err, sizeof(err)), -1);
    assert_true(err[0] != '\0');
    assert_int_equal(netset_add(ns, "10.0.0.1/8", &val_b, NULL, 0), -1);
    assert_int_equal(netset_add(ns, "10.0.0.1/8", &val_b, err, 8), -1);
    assert_int_equal(strlen(err), 7);
    assert_int_equal(netset_add(NULL, "10.0.0.0/8", &val_b, NULL, 0), -1);

    /* Failures leave the set as it was. */
    assert_int_equal(netset_count(ns), 1);
    expect(ns, "192.0.2.9", &val_a, 24);
    expect(ns, "10.0.0.1", NULL, 0);
    netset_free(ns);
}

static void test_add_bin(void **state)
{
    static const uint8_t v4[4] = {198, 51, 100, 77};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xde};
    struct netset *ns = new_set();
    unsigned plen = 0;

    (void)state;
    assert_int_equal(netset_add_bin(ns, 4, v4, 24, &val_a), 0);
    assert_int_equal(netset_add_bin(ns, 6, v6, 48, &val_b), 0);
    assert_int_equal(netset_add_bin(ns, 4, v4, 33, &val_c), -1);
    assert_int_equal(netset_add_bin(ns, 6, v6, 129, &val_c), -1);
    assert_int_equal(netset_add_bin(ns, 5, v4, 8, &val_c), -1);
    assert_int_equal(netset_add_bin(ns, 2, v4, 8, &val_c), -1); /* AF_INET is not 4 */
    assert_int_equal(netset_add_bin(ns, 4, v4, 8, NULL), -1);
    assert_int_equal(netset_add_bin(ns, 4, NULL, 8, &val_c), -1);
    assert_int_equal(netset_count(ns), 2);

    /* Host bits of a binary prefix are ignored: 198.51.100.77/24 is .0/24. */
    expect(ns, "198.51.100.0", &val_a, 24);
    expect(ns, "198.51.100.255", &val_a, 24);
    expect(ns, "198.51.101.0", NULL, 0);
    expect(ns, "2001:db8:de:1::1", &val_b, 48);
    expect(ns, "2001:db8:df::", NULL, 0);

    assert_null(netset_lookup(ns, 5, v4, &plen));
    assert_null(netset_lookup(ns, 4, NULL, &plen));
    assert_null(netset_lookup(NULL, 4, v4, &plen));
    assert_int_equal(netset_count(NULL), 0);
    netset_free(ns);
    netset_free(NULL);
}

/* A small deterministic generator (xorshift32) for the cross-check. */
static uint32_t rng_state = 2463534242u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

struct ref_prefix {
    uint8_t addr[16];
    unsigned plen;
    int *value;
};

static int ref_contains(const struct ref_prefix *p, const uint8_t *addr)
{
    for (unsigned i = 0; i < p->plen; i++) {
        unsigned bit = 0x80u >> (i & 7);
        if ((p->addr[i >> 3] & bit) != (addr[i >> 3] & bit))
            return 0;
    }
    return 1;
}

/* Random prefixes clustered in a few networks, so that they nest and
 * diverge at all depths, checked against a linear scan. */
static void test_random_against_linear(void **state)
{
    enum { NPREFIX = 600, NLOOKUP = 20000 };
    static struct ref_prefix ref[2][NPREFIX];
    static int values[2][NPREFIX];
    struct netset *ns = new_set();
    size_t nref[2] = {0, 0};

    (void)state;
    for (int fam = 0; fam < 2; fam++) {
        unsigned bits = fam == 0 ? 32 : 128;
        for (int i = 0; i < NPREFIX; i++) {
            struct ref_prefix p = {{0}, 0, &values[fam][i]};
            /* Only the first 3 bytes vary much: lots of overlap. */
            p.addr[0] = (uint8_t)(0x20 | (rng() & 3));
            p.addr[1] = (uint8_t)(rng() & 0x0f);
            p.addr[2] = (uint8_t)rng();
            for (unsigned b = 3; b < bits / 8; b++)
                p.addr[b] = (uint8_t)(rng() & 0x81);
            p.plen = rng() % (bits + 1);
            for (unsigned b = p.plen; b < bits; b++)
                p.addr[b >> 3] &= (uint8_t) ~(0x80u >> (b & 7));
            assert_int_equal(netset_add_bin(ns, fam == 0 ? 4 : 6, p.addr, p.plen, p.value), 0);

            /* A re-added prefix replaces the earlier value. */
            size_t j;
            for (j = 0; j < nref[fam]; j++) {
                if (ref[fam][j].plen == p.plen && memcmp(ref[fam][j].addr, p.addr, 16) == 0)
                    break;
            }
            ref[fam][j] = p;
            if (j == nref[fam])
                nref[fam]++;
        }
    }
    assert_int_equal(netset_count(ns), nref[0] + nref[1]);

    for (int i = 0; i < NLOOKUP; i++) {
        int fam = i & 1;
        unsigned bits = fam == 0 ? 32 : 128;
        uint8_t addr[16] = {0};
        const struct ref_prefix *base = &ref[fam][rng() % nref[fam]];

        /* Near a stored prefix, with some random low bits flipped. */
        memcpy(addr, base->addr, 16);
        for (int k = 0; k < 3; k++) {
            unsigned b = rng() % bits;
            addr[b >> 3] ^= (uint8_t)(0x80u >> (b & 7));
        }

        const struct ref_prefix *best = NULL;
        for (size_t j = 0; j < nref[fam]; j++) {
            if (ref_contains(&ref[fam][j], addr) && (best == NULL || ref[fam][j].plen > best->plen))
                best = &ref[fam][j];
        }
        unsigned plen = 999;
        void *got = netset_lookup(ns, fam == 0 ? 4 : 6, addr, &plen);
        if (best == NULL) {
            assert_null(got);
        } else {
            assert_ptr_equal(got, best->value);
            assert_int_equal(plen, best->plen);
        }
    }
    netset_free(ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_basic),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_v6),
        cmocka_unit_test(test_zero_and_host),
        cmocka_unit_test(test_duplicate_replaces),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_add_bin),
        cmocka_unit_test(test_random_against_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
