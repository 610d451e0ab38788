/* test_fleet.c -- the fleet view: records as the sensors write them to
 * Redis made into the report's data; damaged records refused whole;
 * heartbeat states; the bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "evidence.h"
#include "fleet.h"
#include "output-report.h"

/* An inventory record of 10.1.1.5 as assets.c writes it: a FortiGate
 * seen by its certificate, then updates. */
static const char host_a[] =
    "{\"host\":\"10.1.1.5\",\"first_seen\":\"2023-11-14T22:13:20.000000+0000\","
    "\"last_seen\":\"2023-11-14T22:15:00.500000+0000\",\"flows\":3,\"bytes_out\":4096,"
    "\"alerts\":2,\"device\":{\"serial\":\"FGT60FTK21000001\",\"model\":\"FortiGate 60F\"},"
    "\"countries\":[\"US\"],\"products\":[{\"vendor\":\"Fortinet\",\"product\":\"FortiGate\","
    "\"relation\":\"is\",\"evidence\":{\"kind\":\"cert_subject\",\"value\":\"CN=FGT60FTK21000001\"}"
    ","
    "\"categories\":[\"update\",\"remote-access\"],\"countries\":[\"US\"],\"flows\":3,"
    "\"bytes_out\":4096,\"first_seen\":\"2023-11-14T22:13:20.000000+0000\","
    "\"last_seen\":\"2023-11-14T22:15:00.500000+0000\"}]}";

/* A second sensor's host, IPv6, running an agent; a field it does not
 * document (a newer sensor's) is ignored. */
static const char host_b[] =
    "{\"host\":\"2001:db8::7\",\"first_seen\":\"2023-11-15T08:00:00.000000+0000\","
    "\"last_seen\":\"2023-11-15T08:00:00.000000+0000\",\"flows\":1,\"bytes_out\":300,"
    "\"alerts\":1,\"countries\":[\"RU\"],\"version\":2,\"products\":[{\"vendor\":\"Kaspersky\","
    "\"product\":\"Endpoint Security\",\"relation\":\"runs\",\"categories\":[\"telemetry\"],"
    "\"countries\":[\"RU\"],\"flows\":1,\"bytes_out\":300}]}";

/* An alert of host_a (its flat event_type is passed apart). */
static char *alert_json(const char *sensor, const char *src, const char *ts, const char *sev,
                        const char *value)
{
    char *s = NULL;
    int n = asprintf(
        &s,
        "{\"timestamp\":\"%s\",\"event_type\":\"alert\",\"alert_id\":\"id-%s\",\"sensor\":\"%s\","
        "\"src_ip\":\"%s\",\"src_port\":51514,\"dest_ip\":\"208.91.112.55\",\"dest_port\":443,"
        "\"proto\":\"TCP\",\"app\":\"TLS\",\"host\":\"%s\",\"community_id\":\"1:x\","
        "\"dest_geo\":{\"country_code\":\"US\",\"asn\":40934,\"as_org\":\"Fortinet Inc.\"},"
        "\"alert\":{\"signature_id\":\"fortinet-fortiguard-update\",\"signature\":\"...\","
        "\"vendor\":\"Fortinet\",\"product\":\"FortiGate\",\"category\":\"update\","
        "\"severity\":\"%s\",\"confidence\":\"high\",\"source\":\"https://example.test\","
        "\"evidence\":[{\"kind\":\"tls_sni\",\"value\":\"%s\",\"pattern\":\"*.fortiguard.net\"}]},"
        "\"flow\":{\"pkts_toserver\":4,\"pkts_toclient\":3,\"bytes_toserver\":517,"
        "\"bytes_toclient\":1840,\"start\":\"%s\"}}",
        ts, ts, sensor, src, value, sev, value, ts);
    assert_true(n > 0);
    return s;
}

static const char event_json[] =
    "{\"timestamp\":\"2023-11-14T22:14:02.000000+0000\",\"event_type\":\"asset\","
    "\"asset_id\":\"9f3a\",\"sensor\":\"gw2\",\"asset_ip\":\"2001:db8::7\","
    "\"community_id\":\"1:y\",\"asset\":{\"vendor\":\"Kaspersky\",\"product\":\"Endpoint "
    "Security\",\"relation\":\"runs\",\"end\":\"client\",\"signature_id\":\"kaspersky-ksn\","
    "\"category\":\"telemetry\",\"confidence\":\"high\",\"source\":\"https://example.test\","
    "\"evidence\":[{\"kind\":\"tls_sni\",\"value\":\"ksn.kaspersky.com\",\"pattern\":\"*\"}]}}";

static struct fleet *two_sensors(int *a, int *b)
{
    char why[256];
    struct fleet *f = fleet_new();
    assert_non_null(f);
    *b = fleet_sensor(f, "gw2");
    *a = fleet_sensor(f, "gw1");
    assert_int_equal(*a, 1);
    assert_int_equal(fleet_sensor(f, "gw1"), 1); /* the same one again */
    assert_int_equal(fleet_asset(f, *a, "10.1.1.5", host_a, strlen(host_a), why, sizeof(why)),
                     FLEET_OK);
    assert_int_equal(fleet_asset(f, *b, "2001:db8::7", host_b, strlen(host_b), why, sizeof(why)),
                     FLEET_OK);
    return f;
}

static json_t *data(struct fleet *f)
{
    struct sensor_config cfg;
    assert_int_equal(config_init_defaults(&cfg), 0);
    struct fleet_source src = {.redis = "redis://127.0.0.1:6379/0",
                               .key_prefix = "egress",
                               .stream = "egress:alerts",
                               .window_max = 100,
                               .stream_length = 3,
                               .entries = 3,
                               .first_ms = 1700000000000,
                               .last_ms = 1700000001000,
                               .complete = true};
    struct out_report_src setup = {.cfg = &cfg, .generated_us = 1700000000000000ull};
    json_t *d = fleet_data(f, &src, &setup);
    config_fini(&cfg);
    assert_non_null(d);
    return d;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    assert_non_null(s);
    return s;
}

static json_int_t num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_parse_time(void **state)
{
    (void)state;
    uint64_t us = 0;
    assert_int_equal(fleet_parse_time("2023-11-14T22:13:20.123456+0000", &us), 0);
    assert_int_equal(us, 1700000000123456ull);
    assert_int_equal(fleet_parse_time("2023-11-14T22:13:20Z", &us), 0);
    assert_int_equal(us, 1700000000000000ull);
    assert_int_equal(fleet_parse_time("2023-11-14T22:13:20.5+00:00", &us), 0);
    assert_int_equal(us, 1700000000500000ull);
    const char *bad[] = {"",
                         "2023-11-14",
                         "2023-11-14T22:13:20",
                         "2023-11-14T22:13:20.+0000",
                         "2023-11-14T22:13:20+0100",
                         "2023-11-14T22:13:20Zjunk",
                         "yesterday"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fleet_parse_time(bad[i], &us), -1);
}

/* Two sensors' inventories, stats and heartbeats: the findings say which
 * sensor saw what; the run sums the sensors' counters. */
static void test_inventories(void **state)
{
    (void)state;
    char why[256];
    int a, b;
    struct fleet *f = two_sensors(&a, &b);
    fleet_stat(f, a, "packets.total", "100");
    fleet_stat(f, b, "packets.total", "23");
    fleet_stat(f, a, "detection.alerts", "2");
    fleet_stat(f, a, "decode.not_ip", "9");
    fleet_stat(f, a, "decode.ipv4_bad_ihl", "1");
    fleet_stat(f, a, "redis.state", "up");
    fleet_stat(f, a, "updated", "2023-11-14T22:16:00.000000+0000");
    fleet_stat(f, a, "packets.bytes", "not a number"); /* not a count: left out */
    assert_int_equal(
        fleet_heartbeat(f, a, "stopped 2023-11-14T22:16:00.000000+0000", why, sizeof(why)),
        FLEET_OK);
    assert_int_equal(fleet_heartbeat(f, b, "2023-11-15T08:00:05.000000+0000", why, sizeof(why)),
                     FLEET_OK);
    int c = fleet_sensor(f, "gw3"); /* stats only, no heartbeat: silent */
    assert_int_equal(fleet_heartbeat(f, c, NULL, why, sizeof(why)), FLEET_OK);
    /* the same host again (HSCAN may repeat a field): ignored */
    assert_int_equal(fleet_asset(f, a, "10.1.1.5", host_a, strlen(host_a), why, sizeof(why)),
                     FLEET_OK);
    assert_int_equal(fleet_hosts(f), 2);

    json_t *d = data(f);
    const json_t *run = json_object_get(d, "run");
    assert_string_equal(str(run, "mode"), "fleet");
    assert_int_equal(num(run, "packets"), 123);
    assert_int_equal(num(run, "malformed_packets"), 1);
    assert_int_equal(num(run, "alerts"), 2);
    assert_string_equal(str(run, "first_seen"), "2023-11-14T22:13:20.000000Z");
    assert_string_equal(str(run, "last_seen"), "2023-11-15T08:00:00.000000Z");

    const json_t *sensors = json_object_get(d, "sensors");
    assert_int_equal(json_array_size(sensors), 3);
    const json_t *s1 = json_array_get(sensors, 0), *s2 = json_array_get(sensors, 1);
    assert_string_equal(str(s1, "name"), "gw1"); /* by name */
    assert_string_equal(str(s1, "state"), "stopped");
    assert_string_equal(str(s1, "stopped_at"), "2023-11-14T22:16:00.000000Z");
    assert_string_equal(str(s1, "last_update"), "2023-11-14T22:16:00.000000Z");
    assert_string_equal(str(s1, "redis_state"), "up");
    assert_int_equal(num(json_object_get(s1, "counters"), "packets.total"), 100);
    assert_null(json_object_get(json_object_get(s1, "counters"), "packets.bytes"));
    assert_int_equal(num(s1, "hosts"), 1);
    assert_string_equal(str(s2, "state"), "running");
    assert_string_equal(str(s2, "heartbeat"), "2023-11-15T08:00:05.000000Z");
    assert_string_equal(str(json_array_get(sensors, 2), "state"), "silent");

    /* findings and hosts: IPv4 first, each naming its sensor */
    const json_t *products = json_object_get(d, "products");
    assert_int_equal(json_array_size(products), 2);
    const json_t *p = json_array_get(products, 0);
    assert_string_equal(str(p, "host"), "10.1.1.5");
    assert_string_equal(str(p, "sensor"), "gw1");
    assert_string_equal(str(p, "vendor"), "Fortinet");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "relation"), 0)), "is");
    assert_string_equal(str(json_object_get(p, "identified_by"), "kind"), "cert_subject");
    assert_string_equal(str(json_object_get(p, "device"), "model"), "FortiGate 60F");
    assert_int_equal(num(p, "alerts"), 0); /* none in the window */
    assert_true(json_is_null(json_object_get(p, "severity")));
    assert_string_equal(str(json_array_get(products, 1), "sensor"), "gw2");
    const json_t *hosts = json_object_get(d, "hosts");
    assert_int_equal(json_array_size(hosts), 2);
    assert_string_equal(str(json_array_get(hosts, 1), "host"), "2001:db8::7");
    assert_int_equal(num(json_array_get(hosts, 0), "alerts"), 2);
    assert_string_equal(str(json_object_get(d, "fleet"), "redis"), "redis://127.0.0.1:6379/0");
    json_decref(d);
    fleet_free(f);
}

/* A record that is not what the README documents is refused whole: no
 * host, no finding of it; reading goes on. */
static void test_damaged_assets(void **state)
{
    (void)state;
    char why[256];
    struct {
        const char *host, *json, *why;
    } cases[] = {
        {"10.9.9.9", "{not json", "not a JSON object"},
        {"10.9.9.9", "[1,2]", "not a JSON object"},
        {"10.9.9.9", "{\"flows\":1}", "no \"products\""},
        {"not-an-address", host_a, "not an address"},
        {"10.9.9.9", "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"owns\"}]}",
         "relation"},
        {"10.9.9.9", "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\"}]}", "no \"relation\""},
        {"10.9.9.9",
         "{\"flows\":-1,\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"is\"}]}",
         "not a count"},
        {"10.9.9.9",
         "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"is\","
         "\"categories\":[\"mining\"]}]}",
         "category"},
        {"10.9.9.9",
         "{\"first_seen\":\"last week\",\"products\":[{\"vendor\":\"V\",\"product\":\"P\","
         "\"relation\":\"is\"}]}",
         "not a time"},
        {"10.9.9.9",
         "{\"countries\":[\"usa\"],\"products\":[{\"vendor\":\"V\",\"product\":\"P\","
         "\"relation\":\"is\"}]}",
         "country"},
        /* a good product, then a bad one: nothing of the record is kept */
        {"10.9.9.9",
         "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"is\"},"
         "{\"vendor\":7,\"product\":\"Q\",\"relation\":\"is\"}]}",
         "\"vendor\" is not a string"},
    };
    struct fleet *f = fleet_new();
    int s = fleet_sensor(f, "gw1");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why[0] = '\0';
        assert_int_equal(fleet_asset(f, s, cases[i].host, cases[i].json, strlen(cases[i].json), why,
                                     sizeof(why)),
                         FLEET_DAMAGED);
        if (strstr(why, cases[i].why) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, why, cases[i].why);
        fleet_damage(f, "egress:assets:gw1", cases[i].host, why);
    }
    assert_int_equal(fleet_hosts(f), 0);
    assert_int_equal(fleet_damaged(f), sizeof(cases) / sizeof(cases[0]));
    const char *field, *w;
    assert_string_equal(fleet_damage_at(f, 0, &field, &w), "egress:assets:gw1");
    assert_string_equal(field, "10.9.9.9");
    json_t *d = data(f);
    assert_int_equal(json_array_size(json_object_get(d, "products")), 0);
    const json_t *fl = json_object_get(d, "fleet");
    assert_int_equal(num(fl, "records_damaged"), sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(json_array_size(json_object_get(fl, "damaged")),
                     sizeof(cases) / sizeof(cases[0]));
    json_decref(d);

    /* names the keys cannot hold are no sensor's */
    assert_int_equal(fleet_sensor(f, ""), -1);
    assert_int_equal(fleet_sensor(f, "a:b"), -1);
    assert_int_equal(fleet_heartbeat(f, s, "soon", why, sizeof(why)), FLEET_DAMAGED);
    fleet_free(f);
}

/* The window's alerts, newest first: the finding keeps the first five as
 * samples, each indicator once with its count, the highest severity; an
 * alert of a host no inventory holds is counted. */
static void test_alerts(void **state)
{
    (void)state;
    char why[256], ts[40];
    int a, b;
    struct fleet *f = two_sensors(&a, &b);
    for (int i = 6; i >= 0; i--) { /* newest first, as XREVRANGE reads */
        snprintf(ts, sizeof(ts), "2023-11-14T22:13:%02d.000000+0000", 20 + i);
        char *j = alert_json("gw1", "10.1.1.5", ts, i == 3 ? "critical" : "high",
                             i % 2 ? "update.fortiguard.net" : "service.fortiguard.net");
        if (i == 1) { /* read from a file: the sample names it, without its folder */
            char *k = NULL;
            assert_true(asprintf(&k, "{\"pcap_filename\":\"/cases/day 1/gw1.pcap\",%s", j + 1) > 0);
            free(j);
            j = k;
        }
        assert_int_equal(fleet_entry(f, "alert", j, strlen(j), why, sizeof(why)), FLEET_OK);
        free(j);
    }
    char *j = alert_json("gw9", "10.7.7.7", "2023-11-14T22:13:19.000000+0000", "low", "x");
    assert_int_equal(fleet_entry(f, NULL, j, strlen(j), why, sizeof(why)), FLEET_OK);
    free(j);
    /* damaged: a severity the report does not know; no json at all */
    j = alert_json("gw1", "10.1.1.5", "2023-11-14T22:13:19.000000+0000", "apocalyptic", "x");
    assert_int_equal(fleet_entry(f, "alert", j, strlen(j), why, sizeof(why)), FLEET_DAMAGED);
    assert_non_null(strstr(why, "severity"));
    free(j);
    assert_int_equal(fleet_entry(f, "alert", NULL, 0, why, sizeof(why)), FLEET_DAMAGED);
    assert_int_equal(fleet_entry(f, "asset", event_json, strlen(event_json), why, sizeof(why)),
                     FLEET_OK);
    assert_int_equal(fleet_entry(f, "flow", "{}", 2, why, sizeof(why)), FLEET_DROPPED);

    json_t *d = data(f);
    const json_t *p = json_array_get(json_object_get(d, "products"), 0);
    assert_int_equal(num(p, "alerts"), 7);
    assert_string_equal(str(p, "severity"), "critical");
    const json_t *samples = json_object_get(p, "samples");
    assert_int_equal(json_array_size(samples), EVIDENCE_SAMPLES);
    assert_string_equal(str(json_array_get(samples, 0), "timestamp"),
                        "2023-11-14T22:13:20.000000Z"); /* the oldest first */
    assert_int_equal(num(p, "samples_omitted"), 2);
    assert_true(json_is_null(json_object_get(json_array_get(samples, 0), "capture_file")));
    assert_string_equal(str(json_array_get(samples, 1), "capture_file"), "gw1.pcap");
    const json_t *ind = json_object_get(p, "indicators");
    assert_int_equal(json_array_size(ind), 2);
    assert_int_equal(num(json_array_get(ind, 0), "flows") + num(json_array_get(ind, 1), "flows"),
                     7);
    assert_int_equal(num(json_array_get(json_object_get(p, "networks"), 0), "asn"), 40934);

    const json_t *fl = json_object_get(d, "fleet"), *w = json_object_get(fl, "window");
    assert_int_equal(num(w, "alerts"), 8);
    assert_int_equal(num(w, "asset_events"), 1);
    assert_int_equal(num(w, "other_entries"), 1);
    assert_int_equal(num(fl, "alerts_without_finding"), 1);
    const json_t *ev = json_array_get(json_object_get(d, "asset_events"), 0);
    assert_string_equal(str(ev, "sensor"), "gw2");
    assert_string_equal(str(ev, "host"), "2001:db8::7");
    assert_string_equal(str(json_object_get(ev, "evidence"), "value"), "ksn.kaspersky.com");

    /* egress and the timeline from the window's alerts */
    const json_t *eg = json_object_get(d, "egress");
    assert_int_equal(num(eg, "flows"), 8);
    assert_string_equal(str(json_array_get(json_object_get(eg, "countries"), 0), "country_code"),
                        "US");
    const json_t *tl = json_object_get(d, "timeline");
    assert_int_equal(num(tl, "bucket_s"), 1);
    assert_int_equal(num(tl, "buckets"), 8); /* 22:13:19 .. 22:13:26 */
    assert_int_equal(json_array_size(json_object_get(tl, "series")), 1);
    /* the sensor named only by the stream is there, silent */
    const json_t *sensors = json_object_get(d, "sensors");
    assert_int_equal(json_array_size(sensors), 3);
    assert_string_equal(str(json_array_get(sensors, 2), "name"), "gw9");
    assert_int_equal(num(json_array_get(sensors, 0), "alerts_in_window"), 7);
    json_decref(d);
    fleet_free(f);
}

/* Beyond FLEET_MAX_HOSTS host records or FLEET_MAX_FINDINGS findings,
 * the rest are counted, not kept. */
static void test_host_bound(void **state)
{
    (void)state;
    char why[256], host[32];
    const char *rec = "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"runs\"}]}";
    struct fleet *f = fleet_new();
    int s = fleet_sensor(f, "gw1");
    for (unsigned i = 0; i < FLEET_MAX_HOSTS + 3; i++) {
        snprintf(host, sizeof(host), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        int rc = fleet_asset(f, s, host, rec, strlen(rec), why, sizeof(why));
        assert_int_equal(rc, i < FLEET_MAX_HOSTS ? FLEET_OK : FLEET_DROPPED);
    }
    assert_int_equal(fleet_hosts(f), FLEET_MAX_HOSTS);
    json_t *d = data(f);
    assert_int_equal(num(json_object_get(d, "fleet"), "hosts_dropped"), 3);
    json_decref(d);
    fleet_free(f);

    /* two products a host: the findings' bound comes first */
    const char *two = "{\"products\":[{\"vendor\":\"V\",\"product\":\"P\",\"relation\":\"runs\"},"
                      "{\"vendor\":\"V\",\"product\":\"Q\",\"relation\":\"runs\"}]}";
    f = fleet_new();
    s = fleet_sensor(f, "gw1");
    for (unsigned i = 0; i < FLEET_MAX_FINDINGS / 2 + 8; i++) {
        snprintf(host, sizeof(host), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        assert_int_equal(fleet_asset(f, s, host, two, strlen(two), why, sizeof(why)), FLEET_OK);
    }
    d = data(f);
    assert_int_equal(json_array_size(json_object_get(d, "products")), FLEET_MAX_FINDINGS);
    assert_int_equal(num(json_object_get(d, "fleet"), "findings_dropped"), 16);
    /* a second document is the same */
    json_t *again = data(f);
    assert_true(json_equal(json_object_get(d, "products"), json_object_get(again, "products")));
    json_decref(again);
    json_decref(d);
    fleet_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),     cmocka_unit_test(test_inventories),
        cmocka_unit_test(test_damaged_assets), cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_host_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
