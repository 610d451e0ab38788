/* test_config.c -- unit tests for sensor/config.c.
 *
 * Data files are under $TEST_SRCDIR/data/config (TEST_SRCDIR defaults to
 * "tests", i.e. running from the repository root). Every bad-*.conf holds one
 * mistake; the tests check the exact "FILE:LINE: message" it produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "netset.h"

static char errbuf[2048];

static const char *srcdir(void)
{
    const char *d = getenv("TEST_SRCDIR");

    return d != NULL && d[0] != '\0' ? d : "tests";
}

/* $TEST_SRCDIR/data/config/name, in a static buffer. */
static const char *data_path(const char *name)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/data/config/%s", srcdir(), name);
    return path;
}

/* Load one data file over the defaults, expecting success. */
static void load_good(struct sensor_config *c, const char *name)
{
    assert_int_equal(config_init_defaults(c), 0);
    errbuf[0] = '\0';
    if (config_load(c, data_path(name), errbuf, sizeof(errbuf)) != 0)
        fail_msg("%s: %s", name, errbuf);
    assert_string_equal(c->source, data_path(name));
}

/* Load one data file over the defaults, expecting -1 and the message
 * "<path>:<rest>"; c is finished afterwards. */
static void expect_error(const char *name, const char *rest)
{
    struct sensor_config c;
    char want[2048];

    assert_int_equal(config_init_defaults(&c), 0);
    errbuf[0] = '\0';
    assert_int_equal(config_load(&c, data_path(name), errbuf, sizeof(errbuf)), -1);
    snprintf(want, sizeof(want), "%s:%s", data_path(name), rest);
    assert_string_equal(errbuf, want);
    config_fini(&c);
}

static int is_home(const struct sensor_config *c, const char *addr)
{
    uint8_t a[16];

    if (inet_pton(AF_INET, addr, a) == 1)
        return netset_lookup(c->home_net, 4, a, NULL) != NULL;
    assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
    return netset_lookup(c->home_net, 6, a, NULL) != NULL;
}

/* A temporary file holding text; the caller unlinks path. */
static void write_temp(char *path, size_t len, const char *text)
{
    const char *tmp = getenv("TMPDIR");
    FILE *f;
    int fd;

    snprintf(path, len, "%s/test_config.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* ---------------------------------------------------------------- good */

static void test_defaults(void **state)
{
    static const char *const nets[] = {"10.0.0.0/8",    "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10", "fc00::/7",      "169.254.0.0/16",
                                       "fe80::/10"};
    struct sensor_config c;
    char host[256];
    unsigned i;

    (void)state;
    assert_int_equal(config_init_defaults(&c), 0);

    assert_string_equal(c.source, "");
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    host[sizeof(c.sensor_name) - 1] = '\0';
    assert_string_equal(c.sensor_name, host);

    assert_int_equal(c.n_home_net, 7);
    for (i = 0; i < 7; i++)
        assert_string_equal(c.home_net_text[i], nets[i]);
    assert_non_null(c.home_net);
    assert_int_equal(netset_count(c.home_net), 7);
    assert_true(is_home(&c, "10.1.2.3"));
    assert_true(is_home(&c, "172.31.255.255"));
    assert_true(is_home(&c, "192.168.1.1"));
    assert_true(is_home(&c, "100.127.0.1"));
    assert_true(is_home(&c, "169.254.10.10"));
    assert_true(is_home(&c, "fd12::1"));
    assert_true(is_home(&c, "fe80::1"));
    assert_false(is_home(&c, "8.8.8.8"));
    assert_false(is_home(&c, "172.32.0.1"));
    assert_false(is_home(&c, "2001:db8::1"));

    assert_int_equal(c.n_home_countries, 0);
    assert_false(config_is_home_country(&c, "CN"));

    assert_string_equal(c.country_db, "geo/data/dbip-country.mmdb");
    assert_string_equal(c.asn_db, "geo/data/asn.mmdb");
    assert_int_equal(c.max_flows, 262144);
    assert_int_equal(c.max_fragments, 8192);
    assert_int_equal(c.timeout_tcp, 300);
    assert_int_equal(c.timeout_tcp_closed, 10);
    assert_int_equal(c.timeout_udp, 60);
    assert_int_equal(c.timeout_icmp, 30);
    assert_int_equal(c.timeout_other, 60);
    assert_int_equal(c.dpi_packets_tcp, 80);
    assert_int_equal(c.dpi_packets_udp, 24);
    assert_int_equal(c.dpi_packets_other, 8);
    assert_string_equal(c.flows_path, "");
    assert_string_equal(c.stats_path, "");
    config_fini(&c);
}

/* The shipped example must load and say what the defaults say, apart from
 * the values it sets on purpose. */
static void test_example_file(void **state)
{
    struct sensor_config c, d;
    char path[1024];
    unsigned i;

    (void)state;
    snprintf(path, sizeof(path), "%s/../config/sensor.conf", srcdir());
    assert_int_equal(config_init_defaults(&c), 0);
    assert_int_equal(config_init_defaults(&d), 0);
    if (config_load(&c, path, errbuf, sizeof(errbuf)) != 0)
        fail_msg("%s", errbuf);
    assert_string_equal(c.source, path);

    assert_string_equal(c.sensor_name, "gw1");
    /* home_countries changes severities: the example explains it and
     * leaves it to the operator */
    assert_int_equal(c.n_home_countries, 0);
    assert_int_equal(c.flow_ja4, 1);

    /* Same prefixes as the defaults, maybe in another order. */
    assert_int_equal(c.n_home_net, d.n_home_net);
    assert_int_equal(netset_count(c.home_net), d.n_home_net);
    for (i = 0; i < d.n_home_net; i++) {
        unsigned j;
        int found = 0;

        for (j = 0; j < c.n_home_net; j++)
            found |= strcmp(c.home_net_text[j], d.home_net_text[i]) == 0;
        if (!found)
            fail_msg("default %s missing from the example", d.home_net_text[i]);
    }

    assert_string_equal(c.country_db, d.country_db);
    assert_string_equal(c.asn_db, d.asn_db);
    assert_int_equal(c.max_flows, d.max_flows);
    assert_int_equal(c.max_fragments, d.max_fragments);
    assert_int_equal(c.timeout_tcp, d.timeout_tcp);
    assert_int_equal(c.timeout_tcp_closed, d.timeout_tcp_closed);
    assert_int_equal(c.timeout_udp, d.timeout_udp);
    assert_int_equal(c.timeout_icmp, d.timeout_icmp);
    assert_int_equal(c.timeout_other, d.timeout_other);
    assert_int_equal(c.dpi_packets_tcp, d.dpi_packets_tcp);
    assert_int_equal(c.dpi_packets_udp, d.dpi_packets_udp);
    assert_int_equal(c.dpi_packets_other, d.dpi_packets_other);
    assert_string_equal(c.flows_path, d.flows_path);
    assert_string_equal(c.stats_path, d.stats_path);
    config_fini(&c);
    config_fini(&d);
}

static void test_partial_keeps_defaults(void **state)
{
    struct sensor_config c;

    (void)state;
    load_good(&c, "good-partial.conf");
    assert_string_equal(c.sensor_name, "edge-7");
    assert_int_equal(c.max_flows, 1000);
    assert_int_equal(c.timeout_udp, 120);
    assert_string_equal(c.flows_path, "-");
    /* untouched */
    assert_int_equal(c.max_fragments, 8192);
    assert_int_equal(c.timeout_tcp, 300);
    assert_int_equal(c.dpi_packets_udp, 24);
    assert_string_equal(c.stats_path, "");
    assert_int_equal(c.n_home_net, 7);
    assert_true(is_home(&c, "10.1.2.3"));
    config_fini(&c);
}

static void test_home_net_replaces_defaults(void **state)
{
    struct sensor_config c;

    (void)state;
    load_good(&c, "good-home-net.conf");
    assert_int_equal(c.n_home_net, 2);
    assert_string_equal(c.home_net_text[0], "192.0.2.0/24");
    assert_string_equal(c.home_net_text[1], "2001:db8::/32");
    assert_int_equal(netset_count(c.home_net), 2);
    assert_true(is_home(&c, "192.0.2.77"));
    assert_true(is_home(&c, "2001:db8:1::1"));
    assert_false(is_home(&c, "10.1.2.3"));
    assert_false(is_home(&c, "192.168.1.1"));
    assert_false(is_home(&c, "fe80::1"));
    config_fini(&c);
}

static void check_cn_hk_mo(const char *name)
{
    struct sensor_config c;

    load_good(&c, name);
    assert_int_equal(c.n_home_countries, 3);
    assert_string_equal(c.home_countries[0], "CN");
    assert_string_equal(c.home_countries[1], "HK");
    assert_string_equal(c.home_countries[2], "MO");
    assert_true(config_is_home_country(&c, "CN"));
    assert_true(config_is_home_country(&c, "cn"));
    assert_true(config_is_home_country(&c, "hK"));
    assert_true(config_is_home_country(&c, "MO"));
    assert_false(config_is_home_country(&c, "TW"));
    assert_false(config_is_home_country(&c, "C"));
    assert_false(config_is_home_country(&c, "CNN"));
    assert_false(config_is_home_country(&c, ""));
    assert_false(config_is_home_country(&c, NULL));
    config_fini(&c);
}

static void test_countries_array(void **state)
{
    (void)state;
    check_cn_hk_mo("good-countries-array.conf");
}

static void test_countries_string(void **state)
{
    (void)state;
    check_cn_hk_mo("good-countries-string.conf");
}

static void test_countries_single_and_none(void **state)
{
    struct sensor_config c;

    (void)state;
    load_good(&c, "good-countries-single.conf");
    assert_int_equal(c.n_home_countries, 1);
    assert_string_equal(c.home_countries[0], "TW");
    assert_true(config_is_home_country(&c, "tw"));
    config_fini(&c);

    load_good(&c, "good-countries-none.conf");
    assert_int_equal(c.n_home_countries, 0);
    assert_false(config_is_home_country(&c, "TW"));
    config_fini(&c);
}

static void test_int64_and_hex(void **state)
{
    struct sensor_config c;

    (void)state;
    load_good(&c, "good-int64.conf");
    assert_int_equal(c.max_flows, 500000);
    assert_int_equal(c.max_fragments, 256);
    config_fini(&c);
}

/* ---------------------------------------------------------------- bad */

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("bad-unknown-key.conf",
                 "5: unknown key \"flow.timeouts.tpc\" (did you mean \"flow.timeouts.tcp\"?)");
    expect_error("bad-unknown-top.conf", "2: unknown key \"colour\"");
    expect_error("bad-misplaced-key.conf",
                 "2: unknown key \"max_flows\" (did you mean \"flow.max_flows\"?)");
    expect_error("bad-unknown-group.conf", "4: unknown key \"kafka\"");
    expect_error("bad-redis-sentinel.conf", "3: redis.sentinels[1]: \"no-port\" is not host:port");
    expect_error("bad-dns-ttl.conf", "2: dns.min_ttl (600) is greater than dns.max_ttl (60)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("bad-wrong-type.conf", "2: flow.max_flows: expected an integer, found a string");
    expect_error("bad-float.conf", "3: flow.timeouts.udp: expected an integer, found a float");
    expect_error("bad-bool.conf", "2: flow.dpi_packets.tcp: expected an integer, found a boolean");
    expect_error("bad-string-type.conf", "2: geo.asn_db: expected a string, found an integer");
    expect_error("bad-group-type.conf", "2: flow: expected a group { ... }, found an integer");
    expect_error("bad-home-net-type.conf",
                 "1: home_net: expected an array of strings, found a string");
    expect_error("bad-home-net-elem.conf", "1: home_net[1]: expected a string, found an integer");
    expect_error("bad-country-type.conf",
                 "1: home_countries: expected an array of strings or a string, found an integer");
}

static void test_out_of_range(void **state)
{
    (void)state;
    expect_error("bad-range-high.conf", "4: flow.dpi_packets.udp: 256 is out of range 1..255");
    expect_error("bad-range-zero.conf", "2: flow.max_flows: 0 is out of range 1..100000000");
    expect_error("bad-negative.conf", "3: flow.timeouts.icmp: -30 is out of range 1..86400");
    expect_error("bad-int64-range.conf",
                 "2: flow.max_flows: 5000000000 is out of range 1..100000000");
    /* libconfig alone would read 1 here */
    expect_error("bad-overflow.conf", "3: integer 4294967297 does not fit in 32 bits");
}

/* The reason comes from netset_add(): check the part config.c writes, and
 * that the bad prefix is named. */
static void expect_cidr_error(const char *name, const char *rest, const char *prefix)
{
    struct sensor_config c;
    char want[2048];

    assert_int_equal(config_init_defaults(&c), 0);
    assert_int_equal(config_load(&c, data_path(name), errbuf, sizeof(errbuf)), -1);
    snprintf(want, sizeof(want), "%s:%s", data_path(name), rest);
    if (strncmp(errbuf, want, strlen(want)) != 0 || strstr(errbuf + strlen(want), prefix) == NULL)
        fail_msg("got \"%s\", want \"%s<reason naming %s>\"", errbuf, want, prefix);
    /* the defaults are still in place */
    assert_int_equal(c.n_home_net, 7);
    assert_int_equal(netset_count(c.home_net), 7);
    config_fini(&c);
}

static void test_bad_cidr(void **state)
{
    (void)state;
    expect_cidr_error("bad-cidr.conf", "1: home_net[2]: ", "10.1.2.0/33");
    expect_cidr_error("bad-cidr-text.conf", "1: home_net[1]: ", "not-a-network");
    expect_error("bad-home-net-dup.conf",
                 "1: home_net[2]: \"10.0.0.0/8\" repeats an earlier entry");
    expect_error("bad-home-net-empty.conf",
                 "1: home_net: empty (leave the key out for the defaults)");
}

static void test_bad_country(void **state)
{
    (void)state;
    expect_error("bad-country.conf",
                 "1: home_countries[1]: \"CHN\" is not a two-letter country code");
    expect_error("bad-country-digit.conf",
                 "1: home_countries[0]: \"C1\" is not a two-letter country code");
    expect_error("bad-country-string.conf",
                 "2: home_countries: \"\" is not a two-letter country code");
    expect_error("bad-country-trailing.conf",
                 "1: home_countries: \"\" is not a two-letter country code");
    expect_error("bad-country-dup.conf", "1: home_countries: \"CN\" listed twice");
}

static void test_bad_name(void **state)
{
    (void)state;
    expect_error("bad-empty-name.conf", "2: sensor_name: must not be empty");
    expect_error("bad-long-name.conf", "1: sensor_name: longer than 63 bytes");
}

/* libconfig's own errors keep the FILE:LINE form. */
static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("bad-duplicate-key.conf", "4: duplicate setting name");
    expect_error("bad-syntax.conf", "3: syntax error");
}

static void test_missing_file(void **state)
{
    struct sensor_config c;
    char want[2048];
    const char *path = data_path("no-such-file.conf");

    (void)state;
    assert_int_equal(config_init_defaults(&c), 0);
    assert_int_equal(config_load(&c, path, errbuf, sizeof(errbuf)), -1);
    snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
    assert_string_equal(errbuf, want);
    config_fini(&c);

    /* a directory opens but cannot be read as a file */
    path = data_path("");
    assert_int_equal(config_init_defaults(&c), 0);
    assert_int_equal(config_load(&c, path, errbuf, sizeof(errbuf)), -1);
    snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(EISDIR));
    assert_string_equal(errbuf, want);
    config_fini(&c);
}

/* Generated files: limits too big to write out by hand. */
static void expect_temp_error(const char *text, const char *rest)
{
    struct sensor_config c;
    char path[1024], want[2048];

    write_temp(path, sizeof(path), text);
    assert_int_equal(config_init_defaults(&c), 0);
    assert_int_equal(config_load(&c, path, errbuf, sizeof(errbuf)), -1);
    snprintf(want, sizeof(want), "%s:%s", path, rest);
    unlink(path);
    assert_string_equal(errbuf, want);
    config_fini(&c);
}

static void test_too_many_and_too_long(void **state)
{
    static char text[40000];
    size_t off;
    unsigned i;

    (void)state;

    /* 257 prefixes 10.0.0.0/24 .. 10.1.0.0/24, one per line from line 2 */
    off = (size_t)snprintf(text, sizeof(text), "home_net = [\n");
    for (i = 0; i < CONFIG_MAX_HOME_NET + 1; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "  \"10.%u.%u.0/24\",\n", i / 256,
                                i % 256);
    snprintf(text + off - 2, sizeof(text) - off + 2, "\n];\n");
    expect_temp_error(text, "1: home_net: more than 256 entries");

    /* 65 distinct codes AA, AB, ..., one per line */
    off = (size_t)snprintf(text, sizeof(text), "home_countries = [\n");
    for (i = 0; i < CONFIG_MAX_COUNTRIES + 1; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "  \"%c%c\"%s\n", 'A' + i / 26,
                                'A' + i % 26, i < CONFIG_MAX_COUNTRIES ? "," : "");
    snprintf(text + off, sizeof(text) - off, "];\n");
    expect_temp_error(text, "1: home_countries: more than 64 entries");

    /* a path of CONFIG_PATH_MAX bytes, one more than fits */
    off = (size_t)snprintf(text, sizeof(text), "geo = {\n  country_db = \"");
    memset(text + off, 'x', CONFIG_PATH_MAX);
    off += CONFIG_PATH_MAX;
    snprintf(text + off, sizeof(text) - off, "\";\n};\n");
    expect_temp_error(text, "2: geo.country_db: longer than 1023 bytes");

    /* ... while CONFIG_PATH_MAX - 1 bytes fit */
    {
        struct sensor_config c;
        char path[1024];

        off = (size_t)snprintf(text, sizeof(text), "output = { stats = \"");
        memset(text + off, 'y', CONFIG_PATH_MAX - 1);
        off += CONFIG_PATH_MAX - 1;
        snprintf(text + off, sizeof(text) - off, "\"; };\n");
        write_temp(path, sizeof(path), text);
        assert_int_equal(config_init_defaults(&c), 0);
        assert_int_equal(config_load(&c, path, errbuf, sizeof(errbuf)), 0);
        unlink(path);
        assert_int_equal(strlen(c.stats_path), CONFIG_PATH_MAX - 1);
        config_fini(&c);
    }
}

/* ---------------------------------------------------------------- lifetime */

static void test_fini_twice(void **state)
{
    struct sensor_config c;

    (void)state;
    assert_int_equal(config_init_defaults(&c), 0);
    config_fini(&c);
    assert_null(c.home_net);
    config_fini(&c);

    memset(&c, 0, sizeof(c));
    config_fini(&c);
    config_fini(NULL);
}

/* Failures at each stage, then config_fini(): run under valgrind to see that
 * nothing leaks (the half-built home_net set in particular). */
static void test_failure_then_fini(void **state)
{
    static const char *const bad[] = {
        "bad-cidr.conf",     "bad-home-net-dup.conf", "bad-syntax.conf",  "bad-duplicate-key.conf",
        "bad-overflow.conf", "bad-country.conf",      "no-such-file.conf"};
    struct sensor_config c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(config_init_defaults(&c), 0);
        assert_int_equal(config_load(&c, data_path(bad[i]), errbuf, sizeof(errbuf)), -1);
        config_fini(&c);
    }

    /* a good home_net replaces the default set, then a bad load, then fini */
    load_good(&c, "good-home-net.conf");
    assert_int_equal(config_load(&c, data_path("bad-cidr.conf"), errbuf, sizeof(errbuf)), -1);
    assert_int_equal(c.n_home_net, 2);
    config_fini(&c);
}

/* A short errbuf gets a truncated, terminated message; a NULL one none. */
static void test_small_errbuf(void **state)
{
    struct sensor_config c;
    char small[8];

    (void)state;
    assert_int_equal(config_init_defaults(&c), 0);
    memset(small, 'z', sizeof(small));
    assert_int_equal(config_load(&c, data_path("bad-syntax.conf"), small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(config_load(&c, data_path("bad-negative.conf"), NULL, 0), -1);
    config_fini(&c);
}

/* ---------------------------------------------------------------- reload */

/* A reload takes home_net, home_countries, signatures.dir and the
 * suppression window; every other change is listed as waiting for a
 * restart and the running value is kept. */
static void test_reload_merge(void **state)
{
    struct sensor_config run, loaded, next;
    char path[1024], restart[256];

    (void)state;
    const char *first = "sensor_name = \"gw\";\nflow = { max_flows = 100; };\n";
    assert_int_equal(config_init_defaults(&run), 0);
    write_temp(path, sizeof(path), first);
    assert_int_equal(config_load(&run, path, errbuf, sizeof(errbuf)), 0);
    unlink(path);

    assert_int_equal(config_init_defaults(&loaded), 0);
    write_temp(path, sizeof(path),
               "sensor_name = \"other\";\n"
               "home_net = [ \"192.0.2.0/24\" ];\n"
               "home_countries = [ \"FR\" ];\n"
               "signatures = { dir = \"/srv/pack\"; };\n"
               "alerts = { suppress_window = 60; };\n"
               "flow = { max_flows = 200; timeouts = { udp = 7; }; };\n"
               "redis = { sentinels = [ \"h:1\" ]; };\n");
    assert_int_equal(config_load(&loaded, path, errbuf, sizeof(errbuf)), 0);
    unlink(path);

    assert_int_equal(config_reload_merge(&next, &run, &loaded, restart, sizeof(restart)), 4);
    assert_string_equal(restart, "sensor_name, flow.max_flows, flow.timeouts.udp, "
                                 "redis.sentinels");
    /* reloaded */
    assert_string_equal(next.signatures_dir, "/srv/pack");
    assert_int_equal(next.suppress_window, 60);
    assert_true(config_is_home_country(&next, "FR"));
    assert_int_equal(next.n_home_net, 1);
    assert_true(is_home(&next, "192.0.2.1"));
    assert_false(is_home(&next, "10.1.2.3"));
    /* kept */
    assert_string_equal(next.sensor_name, "gw");
    assert_int_equal(next.max_flows, 100);
    assert_int_equal(next.timeout_udp, run.timeout_udp);
    assert_int_equal(next.n_redis_sentinels, 0);
    assert_true(is_home(&run, "10.1.2.3")); /* the running set is untouched */

    /* the same file again: nothing waits for a restart */
    struct sensor_config again, next2;
    assert_int_equal(config_init_defaults(&again), 0);
    write_temp(path, sizeof(path), first);
    assert_int_equal(config_load(&again, path, errbuf, sizeof(errbuf)), 0);
    unlink(path);
    assert_int_equal(config_reload_merge(&next2, &run, &again, restart, sizeof(restart)), 0);
    assert_string_equal(restart, "");
    assert_true(is_home(&next2, "10.1.2.3"));
    config_fini(&next2);
    config_fini(&again); /* its home_net went to next2 */
    config_fini(&next);
    config_fini(&loaded);
    config_fini(&run);
}

/* Load text from a temporary file of the given mode; returns config_load()'s
 * result, c loaded (or finished, on error), errbuf holding the message
 * without the file name. */
static int load_text(struct sensor_config *c, const char *text, mode_t mode, char *path, size_t len)
{
    write_temp(path, len, text);
    assert_int_equal(chmod(path, mode), 0);
    assert_int_equal(config_init_defaults(c), 0);
    errbuf[0] = '\0';
    int rc = config_load(c, path, errbuf, sizeof(errbuf));
    if (rc < 0)
        config_fini(c);
    return rc;
}

static void expect_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void test_redis_password(void **state)
{
    struct sensor_config c;
    char path[256], pwpath[256], text[600];
    (void)state;

    /* redis.password: the file must be closed to others */
    static const char pw[] = "sensor_name = \"gw1\";\nredis = {\n  password = \"s3cret\";\n};\n";
    assert_int_equal(load_text(&c, pw, 0600, path, sizeof(path)), 0);
    assert_string_equal(c.redis_password, "s3cret");
    config_fini(&c);
    unlink(path);
    assert_int_equal(load_text(&c, pw, 0640, path, sizeof(path)), 0);
    config_fini(&c);
    unlink(path);
    assert_int_equal(load_text(&c, pw, 0644, path, sizeof(path)), -1);
    expect_in(errbuf, ":3: redis.password: ");
    expect_in(errbuf, "is open to others (mode 0644)");
    expect_in(errbuf, path);
    unlink(path);
    assert_int_equal(load_text(&c, pw, 0660, path, sizeof(path)), -1);
    expect_in(errbuf, "writable by its group (mode 0660)");
    unlink(path);

    /* redis.password_file: its first line; the same rule for it */
    write_temp(pwpath, sizeof(pwpath), "from-file\n");
    snprintf(text, sizeof(text), "redis = {\n  password_file = \"%s\";\n};\n", pwpath);
    assert_int_equal(load_text(&c, text, 0644, path, sizeof(path)), 0);
    assert_string_equal(c.redis_password, "from-file");
    config_fini(&c);
    unlink(path);
    assert_int_equal(chmod(pwpath, 0604), 0);
    assert_int_equal(load_text(&c, text, 0644, path, sizeof(path)), -1);
    expect_in(errbuf, ":2: redis.password_file: ");
    expect_in(errbuf, pwpath);
    expect_in(errbuf, "open to others");
    unlink(path);
    unlink(pwpath);
    write_temp(pwpath, sizeof(pwpath), "two\nlines\n");
    snprintf(text, sizeof(text), "redis = {\n  password_file = \"%s\";\n};\n", pwpath);
    assert_int_equal(load_text(&c, text, 0600, path, sizeof(path)), -1);
    expect_in(errbuf, "more than one line");
    unlink(path);
    unlink(pwpath);
    snprintf(text, sizeof(text), "redis = {\n  password_file = \"%s\";\n};\n", pwpath);
    assert_int_equal(load_text(&c, text, 0600, path, sizeof(path)), -1);
    expect_in(errbuf, "No such file or directory");
    unlink(path);

    /* not both */
    snprintf(text, sizeof(text),
             "redis = {\n  password = \"a\";\n  password_file = \"/etc/hostname\";\n};\n");
    assert_int_equal(load_text(&c, text, 0600, path, sizeof(path)), -1);
    expect_in(errbuf, ":3: redis.password_file: redis.password is set too; keep one");
    unlink(path);
}

static void test_sensor_name_and_spool_dir(void **state)
{
    struct sensor_config c;
    char path[256];
    static const char *const bad[] = {"gw:1", "gw*", "gw 1"}; /* control characters: any string */
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "\nsensor_name = \"%s\";\n", bad[i]);
        assert_int_equal(load_text(&c, text, 0600, path, sizeof(path)), -1);
        expect_in(errbuf, ":2: sensor_name: ");
        expect_in(errbuf, "Redis key names");
        unlink(path);
    }
    assert_int_equal(
        load_text(&c, "sensor_name = \"gw-1.lan\";\nredis = {\n\n  spool_dir = \"/x\";\n};\n", 0600,
                  path, sizeof(path)),
        0);
    char where[CONFIG_PATH_MAX + 64], want[CONFIG_PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s:4: redis.spool_dir", path);
    assert_string_equal(config_where(&c, "redis.spool_dir", where, sizeof(where)), want);
    assert_true(config_is_set(&c, "redis.spool_dir"));
    assert_string_equal(config_where(&c, "redis.url", where, sizeof(where)),
                        "redis.url (the default)");
    assert_false(config_is_set(&c, "redis.url"));
    config_fini(&c);
    unlink(path);
    assert_int_equal(config_init_defaults(&c), 0);
    assert_false(config_is_set(&c, "redis.spool_dir"));
    config_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_partial_keeps_defaults),
        cmocka_unit_test(test_home_net_replaces_defaults),
        cmocka_unit_test(test_countries_array),
        cmocka_unit_test(test_countries_string),
        cmocka_unit_test(test_countries_single_and_none),
        cmocka_unit_test(test_int64_and_hex),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_cidr),
        cmocka_unit_test(test_bad_country),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_too_many_and_too_long),
        cmocka_unit_test(test_fini_twice),
        cmocka_unit_test(test_failure_then_fini),
        cmocka_unit_test(test_small_errbuf),
        cmocka_unit_test(test_reload_merge),
        cmocka_unit_test(test_redis_password),
        cmocka_unit_test(test_sensor_name_and_spool_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
