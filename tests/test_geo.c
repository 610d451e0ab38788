/* test_geo.c -- country and ASN lookups against the test databases.
 *
 * The databases are built from tests/geo-test.csv by tests/build-test-mmdb.sh
 * (make builds them; see tests/geo.mk) into the directory named by the
 * environment variable TEST_GEO_DIR:
 *   country-dbip.mmdb     {country_code}            "DBIP-Country-Lite"
 *   country-geolite.mmdb  {country: {iso_code}}     "GeoLite2-Country"
 *   asn.mmdb              {autonomous_system_*}     "ip-location-db-asn"
 * all IPv6 databases holding the IPv4 rows at ::/96, built 2026-06-01. */

#include "geo.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char *geo_dir;

/* The path of a file in TEST_GEO_DIR (a static buffer per slot). */
static const char *db_path(int slot, const char *name)
{
    static char paths[4][4096];

    snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", geo_dir, name);
    return paths[slot];
}

static int setup(void **state)
{
    (void)state;
    geo_dir = getenv("TEST_GEO_DIR");
    if (geo_dir == NULL || geo_dir[0] == '\0') {
        fprintf(stderr, "test_geo: TEST_GEO_DIR is not set; it must name the directory "
                        "holding the test databases (make unit sets it to "
                        "$(B)/tests/geo after building them)\n");
        return -1;
    }
    if (access(db_path(0, "asn.mmdb"), R_OK) != 0) {
        fprintf(stderr, "test_geo: cannot read %s; build it with make %s\n", db_path(0, "asn.mmdb"),
                db_path(1, "asn.mmdb"));
        return -1;
    }
    return 0;
}

static struct geo *open_ok(const char *country, const char *asn)
{
    char warn[512] = "x";
    struct geo *g = geo_open(country, asn, warn, sizeof(warn));

    assert_non_null(g);
    if (warn[0] != '\0')
        fail_msg("unexpected warning: %s", warn);
    return g;
}

static int lookup(const struct geo *g, const char *addr, struct geo_result *res)
{
    uint8_t bin[16];

    memset(res, 0x55, sizeof(*res)); /* geo_lookup must clear it */
    if (strchr(addr, ':') != NULL) {
        assert_int_equal(inet_pton(AF_INET6, addr, bin), 1);
        return geo_lookup(g, 6, bin, res);
    }
    assert_int_equal(inet_pton(AF_INET, addr, bin), 1);
    return geo_lookup(g, 4, bin, res);
}

/* Expect a full answer: country, AS number and organization. */
static void expect(const struct geo *g, const char *addr, const char *cc, uint32_t asn,
                   const char *org)
{
    struct geo_result res;
    int rc = lookup(g, addr, &res);

    if (rc != 0 || strcmp(res.country, cc) != 0 || res.asn != asn ||
        res.as_org_len != strlen(org) ||
        (res.as_org_len && memcmp(res.as_org, org, res.as_org_len)))
        fail_msg("%s: rc %d, got %s AS%u \"%.*s\", want %s AS%u \"%s\"", addr, rc, res.country,
                 res.asn, (int)res.as_org_len, res.as_org ? res.as_org : "", cc, asn, org);
}

static void expect_none(const struct geo *g, const char *addr)
{
    struct geo_result res;

    assert_int_equal(lookup(g, addr, &res), -1);
    assert_string_equal(res.country, "");
    assert_int_equal(res.asn, 0);
    assert_null(res.as_org);
    assert_int_equal(res.as_org_len, 0);
}

/* The rows of geo-test.csv, looked up inside, at and just past their ends. */
static void check_rows(const struct geo *g)
{
    /* IPv4 */
    expect(g, "96.45.32.0", "US", 40934, "Fortinet Inc.");
    expect(g, "96.45.33.1", "US", 40934, "Fortinet Inc.");
    expect(g, "96.45.35.255", "US", 40934, "Fortinet Inc.");
    expect_none(g, "96.45.31.255");
    expect_none(g, "96.45.36.0");
    expect(g, "208.91.112.55", "US", 40934, "Fortinet Inc.");
    expect(g, "185.60.216.35", "DE", 64500, "Example Transit");
    expect(g, "8.8.8.8", "US", 15169, "Google LLC");
    expect(g, "34.107.130.1", "US", 396982, "Google LLC");
    expect(g, "142.250.0.1", "US", 15169, "Google LLC");
    expect(g, "142.251.255.255", "US", 15169, "Google LLC");
    expect_none(g, "142.252.0.0");
    expect(g, "194.29.36.10", "IL", 25046, "Check Point Software Technologies LTD");
    expect(g, "203.0.113.7", "CN", 64501, "Example CN Net");
    expect(g, "198.51.100.7", "HK", 64502, "Example HK Net");
    /* 192.0.2.16 - 192.0.2.47 is not one CIDR block */
    expect(g, "192.0.2.16", "JP", 64503, "Example \"Range\", Inc.");
    expect(g, "192.0.2.47", "JP", 64503, "Example \"Range\", Inc.");
    expect_none(g, "192.0.2.15");
    expect_none(g, "192.0.2.48");

    /* IPv6 */
    expect(g, "2001:db8:40::1", "US", 40934, "Fortinet Inc.");
    expect(g, "2001:db8:40:ffff:ffff:ffff:ffff:ffff", "US", 40934, "Fortinet Inc.");
    expect(g, "2001:db8:de::35", "DE", 64500, "Example Transit");
    expect_none(g, "2001:db8:3f:ffff:ffff:ffff:ffff:ffff");
    expect_none(g, "2001:db8:41::");

    /* IPv4-mapped IPv6 finds the IPv4 row. */
    expect(g, "::ffff:8.8.8.8", "US", 15169, "Google LLC");
    expect(g, "::ffff:208.91.112.55", "US", 40934, "Fortinet Inc.");
}

static void test_dbip_layout(void **state)
{
    (void)state;
    struct geo *g = open_ok(db_path(0, "country-dbip.mmdb"), db_path(1, "asn.mmdb"));
    assert_true(geo_has_country(g));
    assert_true(geo_has_asn(g));
    check_rows(g);
    geo_free(g);
}

static void test_geolite_layout(void **state)
{
    (void)state;
    struct geo *g = open_ok(db_path(0, "country-geolite.mmdb"), db_path(1, "asn.mmdb"));
    check_rows(g);
    geo_free(g);
}

/* Addresses in no range: -1 and an empty result. */
static void test_not_found(void **state)
{
    static const uint8_t v4[4] = {10, 0, 0, 1};
    struct geo_result res;

    (void)state;
    struct geo *g = open_ok(db_path(0, "country-dbip.mmdb"), db_path(1, "asn.mmdb"));
    expect_none(g, "10.0.0.1");
    expect_none(g, "0.0.0.0");
    expect_none(g, "255.255.255.255");
    expect_none(g, "2001:db8:99::1");
    expect_none(g, "::1");
    expect_none(g, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

    /* Bad arguments are answered like a miss. */
    assert_int_equal(geo_lookup(g, 5, v4, &res), -1);
    assert_string_equal(res.country, "");
    assert_int_equal(geo_lookup(g, 4, NULL, &res), -1);
    assert_int_equal(geo_lookup(NULL, 4, v4, &res), -1);
    assert_int_equal(geo_lookup(g, 4, v4, NULL), -1);
    geo_free(g);
}

static void test_missing_file(void **state)
{
    char warn[512];
    struct geo_result res;

    (void)state;
    /* Country file missing, ASN fine. */
    const char *missing = db_path(0, "no-such-country.mmdb");
    struct geo *g = geo_open(missing, db_path(1, "asn.mmdb"), warn, sizeof(warn));
    assert_non_null(g);
    assert_non_null(strstr(warn, missing));
    assert_non_null(strstr(warn, "country"));
    assert_non_null(strstr(warn, "Error opening the specified MaxMind DB file"));
    assert_non_null(strstr(warn, "No such file or directory"));
    assert_false(geo_has_country(g));
    assert_true(geo_has_asn(g));
    assert_int_equal(lookup(g, "8.8.8.8", &res), 0);
    assert_string_equal(res.country, "");
    assert_int_equal(res.asn, 15169);
    geo_free(g);

    /* Both missing: both named, every lookup a miss. */
    const char *missing_asn = db_path(1, "no-such-asn.mmdb");
    g = geo_open(missing, missing_asn, warn, sizeof(warn));
    assert_non_null(g);
    assert_non_null(strstr(warn, missing));
    assert_non_null(strstr(warn, missing_asn));
    assert_false(geo_has_country(g));
    assert_false(geo_has_asn(g));
    expect_none(g, "8.8.8.8");
    expect_none(g, "2001:db8:40::1");
    geo_free(g);

    /* Not a database: this file's directory, and a file of text. */
    g = geo_open(geo_dir, NULL, warn, sizeof(warn));
    assert_non_null(g);
    assert_non_null(strstr(warn, geo_dir));
    assert_false(geo_has_country(g));
    expect_none(g, "8.8.8.8");
    geo_free(g);

    char junk[] = "/tmp/test_geo.XXXXXX";
    int fd = mkstemp(junk);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a database\n", 15), 15);
    close(fd);
    g = geo_open(NULL, junk, warn, sizeof(warn));
    unlink(junk);
    assert_non_null(g);
    assert_non_null(strstr(warn, junk));
    assert_non_null(strstr(warn, "ASN"));
    assert_false(geo_has_asn(g));
    expect_none(g, "8.8.8.8");
    geo_free(g);

    /* A NULL warnbuf, and one too small for the message, are fine. */
    g = geo_open(missing, missing_asn, NULL, 0);
    assert_non_null(g);
    geo_free(g);
    g = geo_open(missing, missing_asn, warn, 16);
    assert_non_null(g);
    assert_int_equal(strlen(warn), 15);
    geo_free(g);
}

/* NULL or "" disables a lookup without a warning. */
static void test_disabled(void **state)
{
    struct geo_result res;

    (void)state;
    struct geo *g = open_ok(NULL, "");
    assert_false(geo_has_country(g));
    assert_false(geo_has_asn(g));
    expect_none(g, "8.8.8.8");
    geo_free(g);

    /* Only the country database: no ASN data in it. */
    g = open_ok(db_path(0, "country-geolite.mmdb"), NULL);
    assert_int_equal(lookup(g, "8.8.8.8", &res), 0);
    assert_string_equal(res.country, "US");
    assert_int_equal(res.asn, 0);
    assert_null(res.as_org);
    geo_free(g);

    /* Only the ASN database. */
    g = open_ok(NULL, db_path(1, "asn.mmdb"));
    assert_int_equal(lookup(g, "2001:db8:de::1", &res), 0);
    assert_string_equal(res.country, "");
    assert_int_equal(res.asn, 64500);
    geo_free(g);

    geo_free(NULL);
}

/* With no ASN database, ASN keys are read from the country database. */
static void test_combined_database(void **state)
{
    struct geo_result res;

    (void)state;
    struct geo *g = open_ok(db_path(0, "asn.mmdb"), NULL);
    assert_int_equal(lookup(g, "8.8.8.8", &res), 0);
    assert_string_equal(res.country, "");
    assert_int_equal(res.asn, 15169);
    assert_int_equal(res.as_org_len, 10);
    assert_memory_equal(res.as_org, "Google LLC", 10);
    geo_free(g);
}

/* An organization name longer than 255 bytes is cut there, before a
 * character that would straddle the cut (geo-test.csv: U+00E9 at bytes
 * 254-255). */
static void test_long_org(void **state)
{
    static const char full[] = "Example Long Name Networks Association for the Testing of "
                               "Truncation of Organization Names in Results";
    struct geo_result res;

    (void)state;
    struct geo *g = open_ok(db_path(0, "country-dbip.mmdb"), db_path(1, "asn.mmdb"));
    assert_int_equal(lookup(g, "192.0.2.130", &res), 0);
    assert_string_equal(res.country, "FR");
    assert_int_equal(res.asn, 64504);
    assert_int_equal(res.as_org_len, 254);
    assert_memory_equal(res.as_org, full, sizeof(full) - 1);
    for (size_t i = 0; i < res.as_org_len; i++) /* the padding up to the cut: ASCII */
        assert_true((unsigned char)res.as_org[i] < 0x80);
    geo_free(g);
}

static void test_describe(void **state)
{
    char buf[128], small[8];

    (void)state;
    struct geo *g = open_ok(db_path(0, "country-dbip.mmdb"), db_path(1, "asn.mmdb"));
    geo_describe(g, 0, buf, sizeof(buf));
    assert_string_equal(buf, "DBIP-Country-Lite built 2026-06-01");
    geo_describe(g, 1, buf, sizeof(buf));
    assert_string_equal(buf, "ip-location-db-asn built 2026-06-01");
    geo_describe(g, 2, buf, sizeof(buf));
    assert_string_equal(buf, "not loaded");
    geo_describe(g, 0, small, sizeof(small));
    assert_string_equal(small, "DBIP-Co");
    geo_free(g);

    g = open_ok(db_path(0, "country-geolite.mmdb"), NULL);
    geo_describe(g, 0, buf, sizeof(buf));
    assert_string_equal(buf, "GeoLite2-Country built 2026-06-01");
    geo_describe(g, 1, buf, sizeof(buf));
    assert_string_equal(buf, "not loaded");
    geo_free(g);

    geo_describe(NULL, 0, buf, sizeof(buf));
    assert_string_equal(buf, "not loaded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dbip_layout), cmocka_unit_test(test_geolite_layout),
        cmocka_unit_test(test_not_found),   cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_disabled),    cmocka_unit_test(test_combined_database),
        cmocka_unit_test(test_long_org),    cmocka_unit_test(test_describe),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
