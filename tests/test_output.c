/* test_output.c -- flow records: EVE field names, escaping, times, geo and TLS parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "classify.h"
#include "config.h"
#include "enrich.h"
#include "flow.h"
#include "output-json-flow.h"
#include "output-json.h"

/* The view every output reads, from the real enrichment step: the
 * default home_net, no geo databases (the test sets the server's). */
static struct sensor_config cfg;
static struct classifier *cl;

static void fill(struct flow_info *fi, struct flow *f)
{
    char err[256];
    if (cl == NULL) {
        assert_int_equal(config_init_defaults(&cfg), 0);
        struct classify_config cc = {8, 8, 8};
        cl = classify_new(&cc, err, sizeof(err));
        assert_non_null(cl);
    }
    f->flags &= (uint8_t)~FLOW_F_ENRICHED;
    flow_enrich(f, cfg.home_net, NULL);
    flow_info_fill(fi, f, cl);
}

/* Format fi and parse the line back with jansson (which also proves it is
 * valid JSON). */
static json_t *record(const struct flow_info *fi)
{
    char buf[16384];
    size_t n = out_flow_format(fi, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(buf[n - 1], '\n');
    json_error_t je;
    json_t *o = json_loadb(buf, n, 0, &je);
    if (o == NULL)
        fail_msg("invalid JSON: %s: %.*s", je.text, (int)n, buf);
    return o;
}

static void test_time_format(void **state)
{
    (void)state;
    char buf[40];
    jw_format_time(1700000000123456ull, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14T22:13:20.123456+0000");
    jw_format_time(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000000+0000");
    /* leap day, end of a leap year, a century that is not a leap year */
    jw_format_time(951782400000001ull, buf, sizeof(buf));
    assert_string_equal(buf, "2000-02-29T00:00:00.000001+0000");
    jw_format_time(1735689599999999ull, buf, sizeof(buf));
    assert_string_equal(buf, "2024-12-31T23:59:59.999999+0000");
    jw_format_time(4107542400000000ull, buf, sizeof(buf));
    assert_string_equal(buf, "2100-03-01T00:00:00.000000+0000");
    /* the same as gmtime over a span of days */
    for (uint64_t t = 0; t < 4200000000ull; t += 86399 * 97) {
        char ref[40];
        time_t sec = (time_t)t;
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(ref, sizeof(ref), "%Y-%m-%dT%H:%M:%S.000000+0000", &tm);
        jw_format_time(t * 1000000ull, buf, sizeof(buf));
        assert_string_equal(buf, ref);
    }
}

static void test_escaping(void **state)
{
    (void)state;
    char buf[256];
    struct jw w;
    jw_init(&w, buf, sizeof(buf));
    jw_object(&w, NULL);
    /* a server name with a quote, a backslash, a control byte and two bytes
     * that are not UTF-8 (0xff, and 0xc3 cut short at the end) */
    jw_str(&w, "a", "ev\"il\\\x01host\xff.example\xc3");
    jw_str(&w, "b", "caf\xc3\xa9"); /* valid UTF-8 stays as it is */
    jw_str(&w, "c", "");            /* empty: left out */
    jw_u64(&w, "n", 18446744073709551615ull);
    jw_array(&w, "l");
    jw_u64(&w, NULL, 0);
    jw_bool(&w, NULL, true);
    jw_end_array(&w);
    jw_end_object(&w);
    size_t n = jw_finish(&w);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "{\"a\":\"ev\\\"il\\\\\\u0001host\xc3\xbf.example\xc3\x83\","
                             "\"b\":\"caf\xc3\xa9\",\"n\":18446744073709551615,\"l\":[0,true]}\n");

    /* too small a buffer is an error, never a cut record */
    char small[16];
    jw_init(&w, small, sizeof(small));
    jw_object(&w, NULL);
    jw_str(&w, "host", "a-rather-long-server-name.example");
    jw_end_object(&w);
    assert_int_equal(jw_finish(&w), 0);
    /* unbalanced nesting is an error */
    jw_init(&w, buf, sizeof(buf));
    jw_object(&w, NULL);
    assert_int_equal(jw_finish(&w), 0);
}

static void test_record_fields(void **state)
{
    (void)state;
    struct flow f;
    memset(&f, 0, sizeof(f));
    /* 10.1.1.1:40000 -> 208.91.112.55:443 TCP */
    f.key.ipver = 4, f.key.proto = 6;
    f.key.src[0] = 10, f.key.src[1] = 1, f.key.src[2] = 1, f.key.src[3] = 1;
    f.key.dst[0] = 208, f.key.dst[1] = 91, f.key.dst[2] = 112, f.key.dst[3] = 55;
    f.key.sport = 40000, f.key.dport = 443;
    f.first_us = 1700000000000000ull, f.last_us = 1700000002500000ull;
    f.pkts[0] = 5, f.pkts[1] = 4, f.bytes[0] = 700, f.bytes[1] = 5000;
    f.tcp_flags[0] = 0x1b, f.tcp_flags[1] = 0x13;
    f.end_reason = FLOW_END_TCP_FIN;
    f.master_proto = 91; /* NDPI_PROTOCOL_TLS */
    flow_meta_set(&f, FLOW_META_HOST, "update.fortiguard.net");
    flow_fp_set_ja3(&f, 0, "e4d448cdfe06dc1243c1eb026c74ac9a");

    struct flow_info fi;
    fill(&fi, &f);
    /* as the ASN database would give it: a name borrowed, not terminated */
    static const char org[] = "Fortinet Inc.xyz";
    strcpy(f.dst_geo.country, "US");
    f.dst_geo.asn = 40934;
    f.dst_geo.as_org = org;
    f.dst_geo.as_org_len = 13;
    flow_info_fill(&fi, &f, cl);

    json_t *o = record(&fi);
    assert_string_equal(json_string_value(json_object_get(o, "event_type")), "flow");
    assert_int_equal(json_integer_value(json_object_get(o, "schema_version")), OUT_SCHEMA_FLOW);
    assert_string_equal(json_string_value(json_object_get(o, "src_ip")), "10.1.1.1");
    assert_int_equal(json_integer_value(json_object_get(o, "src_port")), 40000);
    assert_string_equal(json_string_value(json_object_get(o, "dest_ip")), "208.91.112.55");
    assert_int_equal(json_integer_value(json_object_get(o, "dest_port")), 443);
    assert_string_equal(json_string_value(json_object_get(o, "proto")), "TCP");
    assert_string_equal(json_string_value(json_object_get(o, "direction")), "egress");
    assert_string_equal(json_string_value(json_object_get(o, "host")), "update.fortiguard.net");
    json_t *fl = json_object_get(o, "flow");
    assert_int_equal(json_integer_value(json_object_get(fl, "pkts_toserver")), 5);
    assert_int_equal(json_integer_value(json_object_get(fl, "bytes_toclient")), 5000);
    assert_string_equal(json_string_value(json_object_get(fl, "reason")), "tcp-fin");
    assert_string_equal(json_string_value(json_object_get(fl, "end")),
                        "2023-11-14T22:13:22.500000+0000");
    json_t *g = json_object_get(o, "dest_geo");
    assert_string_equal(json_string_value(json_object_get(g, "country_code")), "US");
    assert_int_equal(json_integer_value(json_object_get(g, "asn")), 40934);
    assert_string_equal(json_string_value(json_object_get(g, "as_org")), "Fortinet Inc.");
    assert_string_equal(json_string_value(json_object_get(o, "app")), "TLS");
    assert_memory_equal(json_string_value(json_object_get(o, "community_id")), "1:", 2);
    json_t *t = json_object_get(o, "tls");
    assert_string_equal(json_string_value(json_object_get(t, "sni")), "update.fortiguard.net");
    assert_string_equal(json_string_value(json_object_get(t, "ja3")),
                        "e4d448cdfe06dc1243c1eb026c74ac9a");
    assert_null(json_object_get(o, "http"));
    assert_null(json_object_get(o, "dns"));
    assert_null(json_object_get(o, "src_geo"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "tcp"), "tcp_flags")),
                        "1b");
    json_decref(o);

    /* ICMP has no ports but a type and code */
    f.key.proto = 1, f.icmp_type = 8;
    fill(&fi, &f);
    o = record(&fi);
    assert_null(json_object_get(o, "src_port"));
    assert_string_equal(json_string_value(json_object_get(o, "proto")), "ICMP");
    assert_int_equal(json_integer_value(json_object_get(o, "icmp_type")), 8);
    json_decref(o);
}

/* pcap_filename: the input list's entry the flow's input names, as given;
 * no member live (no list) or for a flow without an input. */
static void test_pcap_filename(void **state)
{
    (void)state;
    static const char *const inputs[] = {"first.pcap", "captures/second.pcapng"};
    struct flow f;
    struct flow_info fi;
    memset(&f, 0, sizeof(f));
    /* 10.1.1.1:40000 -> 10.1.1.2:53 UDP */
    f.key.ipver = 4, f.key.proto = 17;
    f.key.src[0] = 10, f.key.src[1] = 1, f.key.src[2] = 1, f.key.src[3] = 1;
    f.key.dst[0] = 10, f.key.dst[1] = 1, f.key.dst[2] = 1, f.key.dst[3] = 2;
    f.key.sport = 40000, f.key.dport = 53;

    f.input = 2;
    fill(&fi, &f);
    flow_info_set_input(&fi, inputs);
    json_t *o = record(&fi);
    assert_string_equal(json_string_value(json_object_get(o, "pcap_filename")),
                        "captures/second.pcapng");
    json_decref(o);

    f.input = 1;
    flow_info_set_input(&fi, inputs);
    o = record(&fi);
    assert_string_equal(json_string_value(json_object_get(o, "pcap_filename")), "first.pcap");
    json_decref(o);

    flow_info_set_input(&fi, NULL); /* live */
    o = record(&fi);
    assert_null(json_object_get(o, "pcap_filename"));
    json_decref(o);

    f.input = 0;
    flow_info_set_input(&fi, inputs);
    o = record(&fi);
    assert_null(json_object_get(o, "pcap_filename"));
    json_decref(o);
}

static void test_write_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_output.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char err[256];
    struct out_flows *w = out_flows_open(path, true, err, sizeof(err));
    assert_non_null(w);
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.key.ipver = 6, f.key.proto = 17, f.key.src[0] = 0xfd, f.key.dst[0] = 0x20,
    f.key.dst[1] = 0x01;
    struct flow_info fi;
    fill(&fi, &f);
    assert_int_equal(out_flows_write(w, &fi), 0);
    assert_int_equal(out_flows_write(w, &fi), 0);
    assert_int_equal(out_flows_close(w, err, sizeof(err)), 0);
    FILE *fp = fdopen(fd, "r");
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof(line), fp)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "src_ip")), "fd00::");
        json_decref(o);
        n++;
    }
    fclose(fp);
    unlink(path);
    assert_int_equal(n, 2);
    /* an unwritable path is an error naming it */
    assert_null(out_flows_open("/nonexistent/dir/flows.json", false, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/dir/flows.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_format),   cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_record_fields), cmocka_unit_test(test_pcap_filename),
        cmocka_unit_test(test_write_file),
    };
    int rc = cmocka_run_group_tests_name("output", tests, NULL, NULL);
    classify_free(cl);
    config_fini(&cfg);
    return rc;
}
