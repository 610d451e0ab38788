/* test_enrich.c -- a flow's facts settled once: direction, each outside end's
 * geo, the Community ID (ICMP type and code mapped), and the view every
 * output reads. Geo from the test databases in TEST_GEO_DIR (tests/geo.mk,
 * built from tests/geo-test.csv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "classify.h"
#include "community-id.h"
#include "config.h"
#include "enrich.h"
#include "flow.h"
#include "geo.h"

static struct sensor_config cfg; /* the default home_net */
static struct geo *geo;
static struct classifier *cl;

static int setup(void **state)
{
    char err[256], c[512], a[512];
    (void)state;
    const char *dir = getenv("TEST_GEO_DIR");
    if (dir == NULL) {
        fprintf(stderr, "test_enrich: TEST_GEO_DIR is not set (make unit sets it)\n");
        return -1;
    }
    snprintf(c, sizeof(c), "%s/country-dbip.mmdb", dir);
    snprintf(a, sizeof(a), "%s/asn.mmdb", dir);
    geo = geo_open(c, a, err, sizeof(err));
    struct classify_config cc = {8, 8, 8};
    cl = classify_new(&cc, err, sizeof(err));
    return config_init_defaults(&cfg) == 0 && geo_has_asn(geo) && cl != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    classify_free(cl);
    geo_free(geo);
    config_fini(&cfg);
    return 0;
}

static void mkflow(struct flow *f, uint8_t proto, const char *src, uint16_t sp, const char *dst,
                   uint16_t dp)
{
    memset(f, 0, sizeof(*f));
    f->key.ipver = strchr(src, ':') ? 6 : 4;
    f->key.proto = proto;
    int af = f->key.ipver == 6 ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(af, src, f->key.src), 1);
    assert_int_equal(inet_pton(af, dst, f->key.dst), 1);
    f->key.sport = sp, f->key.dport = dp;
}

static void test_directions_and_geo(void **state)
{
    struct flow f;
    struct flow_info fi;
    (void)state;

    /* egress: the server is located (geo-test.csv: Fortinet, AS40934, US) */
    mkflow(&f, 6, "10.1.1.10", 40000, "208.91.112.55", 443);
    flow_enrich(&f, cfg.home_net, geo);
    assert_int_equal(f.direction, FLOW_DIR_EGRESS);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "egress");
    assert_non_null(fi.dest_geo);
    assert_null(fi.src_geo); /* the client is inside: not looked up */
    assert_string_equal(fi.dest_geo->country, "US");
    assert_int_equal(fi.dest_geo->asn, 40934);
    assert_int_equal(fi.dest_geo->as_org_len, 13);
    assert_memory_equal(fi.dest_geo->as_org, "Fortinet Inc.", 13);
    assert_string_equal(fi.proto, "TCP");
    assert_true(fi.has_ports);
    assert_false(fi.is_icmp);
    assert_string_equal(fi.app, "Unknown");

    /* ingress: the client is the outside end */
    mkflow(&f, 6, "208.91.112.55", 51000, "10.1.1.10", 443);
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "ingress");
    assert_null(fi.dest_geo);
    assert_non_null(fi.src_geo);
    assert_int_equal(fi.src_geo->asn, 40934);

    /* internal: nothing outside, nothing looked up */
    mkflow(&f, 17, "10.1.1.10", 5353, "192.168.1.1", 53);
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "internal");
    assert_null(fi.dest_geo);
    assert_null(fi.src_geo);

    /* external: both ends (v6 documentation range: Fortinet in the test data) */
    mkflow(&f, 6, "2001:db8:de::1", 40000, "2001:db8:40::55", 443);
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "external");
    assert_non_null(fi.src_geo);
    assert_non_null(fi.dest_geo);
    assert_int_equal(fi.src_geo->asn, 64500);
    assert_int_equal(fi.dest_geo->asn, 40934);

    /* an outside address no database knows: no geo, and no NULL dereference */
    mkflow(&f, 6, "10.1.1.10", 40000, "100.100.100.100", 443);
    flow_enrich(&f, NULL, NULL); /* no home_net, no geo: everything outside */
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "external");
    assert_null(fi.dest_geo);
}

/* Settled once: a later call with another home_net changes nothing. */
static void test_once(void **state)
{
    struct flow f;
    (void)state;
    mkflow(&f, 6, "10.1.1.10", 40000, "208.91.112.55", 443);
    flow_enrich(&f, cfg.home_net, geo);
    uint8_t cid[COMMUNITY_ID_HASH_LEN];
    memcpy(cid, f.cid, sizeof(cid));
    flow_enrich(&f, NULL, NULL);
    assert_int_equal(f.direction, FLOW_DIR_EGRESS);
    assert_int_equal(f.dst_geo.asn, 40934);
    assert_memory_equal(f.cid, cid, sizeof(cid));
    assert_true(f.flags & FLOW_F_ENRICHED);
}

/* The Community ID is the specification's: ICMP type and code hashed as
 * ports, so the echo and its reply share it (community-id-spec, the ICMP
 * mapping), and an output that writes the flow writes exactly that. */
static void test_community_id(void **state)
{
    struct flow f, r;
    struct flow_info fi, ri;
    char want[COMMUNITY_ID_LEN];
    (void)state;

    mkflow(&f, 1, "192.168.0.89", 0, "192.168.0.1", 0);
    f.icmp_type = 8; /* echo request */
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    community_id_v1(0, 4, f.key.src, f.key.dst, 1, 8, 0, want, sizeof(want));
    assert_string_equal(fi.community_id, want);
    assert_string_equal(fi.proto, "ICMP");
    assert_false(fi.has_ports);
    assert_true(fi.is_icmp);

    /* the reply, seen as a flow of its own, joins it */
    mkflow(&r, 1, "192.168.0.1", 0, "192.168.0.89", 0);
    r.icmp_type = 0;
    flow_enrich(&r, cfg.home_net, geo);
    flow_info_fill(&ri, &r, cl);
    assert_string_equal(ri.community_id, fi.community_id);

    /* ICMPv6 is named as EVE names it */
    mkflow(&f, 58, "fd00::1", 0, "2001:db8:40::55", 0);
    f.icmp_type = 128;
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.proto, "IPv6-ICMP");
    assert_memory_equal(fi.community_id, "1:", 2);

    /* a protocol without a name: its number */
    mkflow(&f, 253, "10.0.0.1", 0, "10.0.0.2", 0);
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.proto, "253");
}

/* A copy of the flow (the ordered alert sink holds one) keeps its facts. */
static void test_rebase(void **state)
{
    struct flow f, copy;
    struct flow_info fi, held;
    (void)state;
    mkflow(&f, 6, "10.1.1.10", 40000, "208.91.112.55", 443);
    flow_enrich(&f, cfg.home_net, geo);
    flow_info_fill(&fi, &f, cl);
    copy = f;
    held = fi;
    flow_info_rebase(&held, &copy);
    memset(&f, 0xa5, sizeof(f)); /* the table reuses the slot */
    assert_ptr_equal(held.f, &copy);
    assert_ptr_equal(held.dest_geo, &copy.dst_geo);
    assert_int_equal(held.dest_geo->asn, 40934);
    assert_string_equal(held.community_id, fi.community_id);
    assert_string_equal(held.proto, "TCP");
}

/* Not yet enriched: the view says nothing rather than something wrong. */
static void test_not_enriched(void **state)
{
    struct flow f;
    struct flow_info fi;
    (void)state;
    mkflow(&f, 6, "10.1.1.10", 40000, "208.91.112.55", 443);
    flow_info_fill(&fi, &f, cl);
    assert_string_equal(fi.direction, "");
    assert_string_equal(fi.community_id, "");
    assert_null(fi.dest_geo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directions_and_geo), cmocka_unit_test(test_once),
        cmocka_unit_test(test_community_id),       cmocka_unit_test(test_rebase),
        cmocka_unit_test(test_not_enriched),
    };
    return cmocka_run_group_tests_name("enrich", tests, setup, teardown);
}
