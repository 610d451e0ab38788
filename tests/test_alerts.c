/* test_alerts.c -- alert sink: severity rule, de-duplication window, stable
 * ids, record fields; asset inventory. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alerts.h"
#include "assets.h"
#include "classify.h"
#include "config.h"
#include "device.h"
#include "enrich.h"
#include "flow.h"
#include "output-json.h"
#include "pipeline.h"
#include "signature.h"

/* A one-vendor pack written to a temporary folder. */
static const char pack_text[] =
    "vendor = \"Fortinet\";\n"
    "signatures = (\n"
    "  { id = \"fortinet-test-update\"; product = \"FortiGate\"; category = \"update\";\n"
    "    severity = \"medium\"; source = \"test\"; domains = [ \"*.fortiguard.net\" ]; },\n"
    "  { id = \"fortinet-test-fgfm\"; product = \"FortiGate\"; category = \"management\";\n"
    "    severity = \"high\"; source = \"test\"; dissector = [ \"fortinet-fgfm\" ];\n"
    "    ports = [ \"tcp/541\" ]; },\n"
    "  { id = \"fortinet-test-factory-cert\"; product = \"FortiGate\"; category = \"management\";\n"
    "    severity = \"low\"; source = \"test\"; role = \"server\"; device = \"fortinet-serial\";\n"
    "    cert_subject = [ \"O=Fortinet, OU=FortiGate\" ]; },\n"
    "  { id = \"fortinet-test-cluster\"; product = \"Cluster\"; category = \"management\";\n"
    "    severity = \"low\"; source = \"test\"; role = \"peers\"; device = \"dissector\";\n"
    "    dissector = [ \"checkpoint-ccp\" ]; }\n"
    ");\n";

struct fixture {
    char dir[64];
    char pack_path[96];
    char out_path[96];
    struct sensor_config cfg;
    struct sig_pack *pack;
    struct assets *assets;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];
    strcpy(fx->dir, "/tmp/test_alerts.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->pack_path, sizeof(fx->pack_path), "%s/fortinet.conf", fx->dir);
    FILE *fp = fopen(fx->pack_path, "w");
    fputs(pack_text, fp);
    fclose(fp);
    snprintf(fx->out_path, sizeof(fx->out_path), "%s/alerts.json", fx->dir);
    assert_int_equal(config_init_defaults(&fx->cfg), 0);
    strcpy(fx->cfg.sensor_name, "test-sensor");
    strcpy(fx->cfg.home_countries[0], "CN");
    fx->cfg.n_home_countries = 1;
    fx->pack = sig_pack_load(fx->dir, err, sizeof(err));
    if (fx->pack == NULL)
        fail_msg("%s", err);
    fx->assets = assets_new(16);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    sig_pack_free(fx->pack);
    assets_free(fx->assets);
    config_fini(&fx->cfg);
    unlink(fx->pack_path);
    unlink(fx->out_path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* 10.1.1.<host>:40000 -> 208.91.112.55:443 TLS update.fortiguard.net */
static void mkflow(struct flow *f, uint8_t host, uint64_t start_us)
{
    memset(f, 0, sizeof(*f));
    f->key.ipver = 4, f->key.proto = 6;
    f->key.src[0] = 10, f->key.src[1] = 1, f->key.src[2] = 1, f->key.src[3] = host;
    f->key.dst[0] = 208, f->key.dst[1] = 91, f->key.dst[2] = 112, f->key.dst[3] = 55;
    f->key.sport = 40000, f->key.dport = 443;
    f->first_us = f->last_us = start_us;
    flow_meta_set(f, FLOW_META_HOST, "update.fortiguard.net");
}

static size_t hits_for(struct fixture *fx, const struct flow *f, struct sig_hit *hits)
{
    const char *none = "";
    struct sig_flow in = {.ipver = 4,
                          .proto = 6,
                          .dport = f->key.dport,
                          .daddr = f->key.dst,
                          .tls_sni = "update.fortiguard.net",
                          .quic_sni = none,
                          .http_host = none,
                          .http_path = none,
                          .http_ua = none,
                          .dns_name = none,
                          .cert_subject = none,
                          .cert_issuer = none,
                          .ja3 = none};
    return sig_match(fx->pack, &in, hits, 4);
}

/* The records of the alert output whose event_type is type ("alert",
 * "asset"), in order. */
static json_t **read_events(const char *path, const char *type, size_t *n)
{
    static json_t *v[32];
    char line[16384];
    FILE *fp = fopen(path, "r");
    *n = 0;
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) && *n < 32) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        if (r == NULL)
            fail_msg("invalid JSON: %s: %s", je.text, line);
        if (strcmp(json_string_value(json_object_get(r, "event_type")), type) == 0)
            v[(*n)++] = r;
        else
            json_decref(r);
    }
    fclose(fp);
    return v;
}

static json_t **read_alerts(const char *path, size_t *n)
{
    return read_events(path, "alert", n);
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    if (b != NULL)
        x = json_object_get(x, b);
    return json_string_value(x);
}

static struct classifier *cl; /* names the application */

/* Offer f's hits as detection does: f enriched (home_net from the
 * fixture), the server located in cc (NULL: not located). */
static void offer_at(struct alert_sink *s, struct flow *f, const char *cc, uint64_t ts,
                     uint64_t order, struct sig_hit *hits, size_t n);

static void offer(struct alert_sink *s, struct flow *f, const char *cc, uint64_t ts,
                  struct sig_hit *hits, size_t n)
{
    offer_at(s, f, cc, ts, 0, hits, n);
}

/* The same at stream position order (ordered sinks). */
static void offer_at(struct alert_sink *s, struct flow *f, const char *cc, uint64_t ts,
                     uint64_t order, struct sig_hit *hits, size_t n)
{
    static struct sensor_config cfg;
    char err[256];
    if (cl == NULL) {
        struct classify_config cc8 = {8, 8, 8};
        assert_int_equal(config_init_defaults(&cfg), 0);
        cl = classify_new(&cc8, err, sizeof(err));
        assert_non_null(cl);
    }
    f->flags &= (uint8_t)~FLOW_F_ENRICHED;
    flow_enrich(f, cfg.home_net, NULL);
    if (cc) {
        strcpy(f->dst_geo.country, cc);
        f->dst_geo.asn = 40934;
        f->dst_geo.as_org = "Fortinet Inc.";
        f->dst_geo.as_org_len = 13;
    }
    struct flow_info fi;
    flow_info_fill(&fi, f, cl);
    struct alert_flow af = {.fi = &fi, .ts_us = ts, .order = order};
    alert_sink_offer(s, &af, hits, n);
}

static void test_dedup_and_severity(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct alert_sink *s =
        alert_sink_new(&fx->cfg, fx->out_path, true, fx->assets, err, sizeof(err));
    assert_non_null(s);
    struct flow f;
    struct sig_hit hits[4];
    const uint64_t sec = 1000000, t0 = 1700000000ull * sec;

    mkflow(&f, 5, t0);
    size_t n = hits_for(fx, &f, hits);
    assert_int_equal(n, 1);
    offer(s, &f, "US", t0, hits, n); /* alert 1: foreign, medium -> high */
    mkflow(&f, 5, t0 + 10 * sec);
    offer(s, &f, "US", t0 + 10 * sec, hits, n); /* same key inside the window: counted */
    mkflow(&f, 5, t0 + 20 * sec);
    offer(s, &f, "CN", t0 + 20 * sec, hits, n); /* other country: alert 2, home: medium */
    mkflow(&f, 6, t0 + 30 * sec);
    offer(s, &f, NULL, t0 + 30 * sec, hits, n); /* other host, country unknown: alert 3 */
    mkflow(&f, 5, t0 + 3700 * sec);
    offer(s, &f, "US", t0 + 3700 * sec, hits, n); /* window over: alert 4 with 1 repeat */

    struct alert_stats st;
    alert_sink_stats(s, &st);
    assert_int_equal(st.hits, 5);
    assert_int_equal(st.alerts, 4);
    assert_int_equal(st.suppressed, 1);
    assert_int_equal(alert_sink_close(s, err, sizeof(err)), 0);

    size_t na;
    json_t **a = read_alerts(fx->out_path, &na);
    assert_int_equal(na, 4);
    assert_string_equal(str_at(a[0], "event_type", NULL), "alert");
    assert_int_equal(json_integer_value(json_object_get(a[0], "schema_version")), OUT_SCHEMA_ALERT);
    assert_string_equal(str_at(a[0], "sensor", NULL), "test-sensor");
    assert_string_equal(str_at(a[0], "src_ip", NULL), "10.1.1.5");
    assert_string_equal(str_at(a[0], "dest_ip", NULL), "208.91.112.55");
    assert_string_equal(str_at(a[0], "alert", "vendor"), "Fortinet");
    assert_string_equal(str_at(a[0], "alert", "signature_id"), "fortinet-test-update");
    assert_string_equal(str_at(a[0], "alert", "category"), "update");
    assert_string_equal(str_at(a[0], "alert", "confidence"), "high");
    assert_string_equal(str_at(a[0], "alert", "severity"), "high");
    assert_string_equal(str_at(a[1], "alert", "severity"), "medium");
    assert_string_equal(str_at(a[2], "alert", "severity"), "medium");
    assert_string_equal(str_at(a[2], "src_ip", NULL), "10.1.1.6");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(a[3], "alert"), "repeats_suppressed")),
        1);
    json_t *ev = json_array_get(json_object_get(json_object_get(a[0], "alert"), "evidence"), 0);
    assert_string_equal(str_at(ev, "kind", NULL), "tls_sni");
    assert_string_equal(str_at(ev, "value", NULL), "update.fortiguard.net");
    assert_string_equal(str_at(ev, "pattern", NULL), "*.fortiguard.net");
    assert_string_equal(str_at(a[0], "dest_geo", "country_code"), "US");
    /* ids: 32 hex digits, all different */
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(strlen(str_at(a[i], "alert_id", NULL)), 32);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(str_at(a[i], "alert_id", NULL), str_at(a[j], "alert_id", NULL));
    }
    for (size_t i = 0; i < na; i++)
        json_decref(a[i]);
}

static void test_alert_id_stable(void **state)
{
    struct fixture *fx = *state;
    char err[256], id1[64], id2[64];
    struct flow f;
    struct sig_hit hits[4];
    mkflow(&f, 7, 1700000000000000ull);
    size_t n = hits_for(fx, &f, hits);
    for (int round = 0; round < 2; round++) {
        struct alert_sink *s = alert_sink_new(&fx->cfg, fx->out_path, true, NULL, err, sizeof(err));
        offer(s, &f, "US", f.first_us, hits, n);
        assert_int_equal(alert_sink_close(s, err, sizeof(err)), 0);
        size_t na;
        json_t **a = read_alerts(fx->out_path, &na);
        assert_int_equal(na, 1);
        strcpy(round ? id2 : id1, str_at(a[0], "alert_id", NULL));
        json_decref(a[0]);
    }
    assert_string_equal(id1, id2);
}

static void test_assets(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    char path[128];
    snprintf(path, sizeof(path), "%s/assets.json", fx->dir);
    const struct signature *upd = sig_pack_get(fx->pack, 0), *mgmt = sig_pack_get(fx->pack, 1);
    uint8_t host[4] = {10, 1, 1, 9};
    struct sig_evidence ev = {.kind = SIG_EV_TLS_SNI, .value = "update.fortiguard.net"};
    struct sig_evidence ev2 = {.kind = SIG_EV_DISSECTOR, .value = "fortinet-fgfm"};
    struct dev_info dev = {.serial = "FGT60FTK21000001", .model = "FortiGate 60F"};
    struct dev_info dev2 = {.serial = "FGT60FTK29999999", .name = "fw.example"};
    struct assets_ident id = {4, host, upd, "US", 1700000000000000ull, 1, &ev, NULL};
    assert_int_equal(assets_identify(fx->assets, &id), 1); /* new: an asset event */
    id = (struct assets_ident){4, host, mgmt, "US", 1700000100000000ull, 1, &ev2, &dev};
    assert_int_equal(assets_identify(fx->assets, &id), 0); /* the same product */
    id = (struct assets_ident){4, host, upd, "DE", 1700000200000000ull, 1, &ev2, &dev2};
    assert_int_equal(assets_identify(fx->assets, &id), 0);
    assets_add_bytes(fx->assets, 4, host, upd, 1000);
    assets_note_alert(fx->assets, 4, host);
    assert_int_equal(assets_write_json(fx->assets, "test-sensor", path, err, sizeof(err)), 0);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("invalid JSON: %s", je.text);
    assert_string_equal(str_at(doc, "sensor", NULL), "test-sensor");
    json_t *h = json_array_get(json_object_get(doc, "hosts"), 0);
    assert_string_equal(str_at(h, "host", NULL), "10.1.1.9");
    assert_int_equal(json_integer_value(json_object_get(h, "flows")), 3);
    assert_int_equal(json_integer_value(json_object_get(h, "bytes_out")), 1000);
    assert_int_equal(json_integer_value(json_object_get(h, "alerts")), 1);
    assert_int_equal(json_array_size(json_object_get(h, "countries")), 2);
    json_t *products = json_object_get(h, "products");
    assert_int_equal(json_array_size(products), 1); /* one (vendor, product) */
    json_t *p = json_array_get(products, 0);
    assert_string_equal(str_at(p, "vendor", NULL), "Fortinet");
    assert_string_equal(str_at(p, "relation", NULL), "runs");
    /* the first evidence stays; the device facts fill in, the first kept */
    assert_string_equal(str_at(p, "evidence", "kind"), "tls_sni");
    assert_string_equal(str_at(p, "evidence", "value"), "update.fortiguard.net");
    assert_string_equal(str_at(h, "device", "serial"), "FGT60FTK21000001");
    assert_string_equal(str_at(h, "device", "model"), "FortiGate 60F");
    assert_string_equal(str_at(h, "device", "name"), "fw.example");
    assert_int_equal(json_array_size(json_object_get(p, "categories")), 2);
    assert_int_equal(json_integer_value(json_object_get(p, "flows")), 3);
    json_decref(doc);
    unlink(path);
    /* the table a person reads */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    setenv("COLUMNS", "200", 1); /* not a terminal: the width it would have */
    assets_print_table(fx->assets, mem);
    fclose(mem);
    assert_non_null(strstr(buf, "foreign security products found"));
    assert_non_null(strstr(buf, "10.1.1.9"));
    assert_non_null(strstr(buf, "update, management"));
    free(buf);
}

/* A flow a -> b (IPv4, last octets in the 4-byte arrays), proto and
 * server port, with a certificate subject or a dissector's verdict. */
static void mkflow2(struct flow *f, const uint8_t a[4], const uint8_t b[4], uint8_t proto,
                    uint16_t dport, const char *subject, const char *detail, uint64_t t)
{
    memset(f, 0, sizeof(*f));
    f->key.ipver = 4, f->key.proto = proto;
    memcpy(f->key.src, a, 4);
    memcpy(f->key.dst, b, 4);
    f->key.sport = 40000, f->key.dport = dport;
    f->first_us = f->last_us = t;
    if (subject != NULL)
        flow_meta_set(f, FLOW_META_SUBJECT, subject);
    if (detail != NULL)
        flow_meta_set(f, FLOW_META_DETAIL, detail);
}

static size_t hits_of(struct fixture *fx, const struct flow *f, const char *verdict,
                      struct sig_hit *hits)
{
    const char *none = "";
    struct sig_flow in = {.ipver = 4,
                          .proto = f->key.proto,
                          .dport = f->key.dport,
                          .daddr = f->key.dst,
                          .tls_sni = none,
                          .quic_sni = none,
                          .http_host = none,
                          .http_path = none,
                          .http_ua = none,
                          .dns_name = none,
                          .cert_subject = flow_meta_get(f, FLOW_META_SUBJECT),
                          .cert_issuer = none,
                          .ja3 = none,
                          .ja4 = none,
                          .ja3s = none,
                          .app_master = none,
                          .app = none,
                          .verdicts = verdict ? &verdict : NULL,
                          .n_verdicts = verdict ? 1 : 0};
    return sig_match(fx->pack, &in, hits, 4);
}

/* Roles: a server presenting its certificate is named on an ingress or
 * internal flow, never when it is outside; cluster peers by their
 * network when they send from 0.0.0.0; the client of an egress flow is
 * named and alerted on. The first identification of a (host, product) is
 * an asset event; only the egress client's hit is an alert. */
static void test_roles(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct flow f;
    struct sig_hit hits[4];
    const uint64_t sec = 1000000, t0 = 1700000000ull * sec;
    const char *cert = "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, "
                       "CN=FGT60FTK21000001";
    const uint8_t fw[4] = {10, 1, 1, 20}, lan[4] = {10, 1, 1, 22}, out[4] = {198, 51, 100, 7},
                  partner[4] = {203, 0, 113, 9}, any[4] = {0}, net[4] = {10, 1, 3, 0};

    struct alert_sink *s =
        alert_sink_new(&fx->cfg, fx->out_path, true, fx->assets, err, sizeof(err));
    assert_non_null(s);
    /* an SSL-VPN user from outside reaches the internal FortiGate */
    mkflow2(&f, out, fw, 6, 10443, cert, NULL, t0);
    size_t n = hits_of(fx, &f, NULL, hits);
    assert_int_equal(n, 1);
    offer(s, &f, NULL, t0, hits, n);
    /* an admin on the LAN: the same device, no new event */
    mkflow2(&f, lan, fw, 6, 443, cert, NULL, t0 + sec);
    offer(s, &f, NULL, t0 + sec, hits, hits_of(fx, &f, NULL, hits));
    /* a laptop on a partner's FortiGate: the device is outside, nothing */
    mkflow2(&f, lan, partner, 6, 443, cert, NULL, t0 + 2 * sec);
    offer(s, &f, "US", t0 + 2 * sec, hits, hits_of(fx, &f, NULL, hits));
    /* a cluster heartbeat from 0.0.0.0 to the cluster's network */
    mkflow2(&f, any, net, 17, 8116, NULL, "ClusterXL CCP version 3121", t0 + 3 * sec);
    f.key.sport = 8116;
    f.key.vlan = 21;
    n = hits_of(fx, &f, "checkpoint-ccp", hits);
    assert_int_equal(n, 1);
    offer(s, &f, NULL, t0 + 3 * sec, hits, n);
    /* unicast between two members: both named; the description is the
     * sender's, the client's */
    const uint8_t m1[4] = {10, 40, 0, 2}, m2[4] = {10, 40, 0, 3};
    mkflow2(&f, m1, m2, 17, 8116, NULL, "ClusterXL CCP, source machine ID 1", t0 + 3 * sec);
    f.key.sport = 8116;
    offer(s, &f, NULL, t0 + 3 * sec, hits, hits_of(fx, &f, "checkpoint-ccp", hits));
    /* a FortiGate phoning home: named, and an alert */
    mkflow(&f, 5, t0 + 4 * sec);
    offer(s, &f, "US", t0 + 4 * sec, hits, hits_for(fx, &f, hits));

    struct alert_stats st;
    alert_sink_stats(s, &st);
    assert_int_equal(st.identified, 6);
    assert_int_equal(st.asset_events, 5);
    assert_int_equal(st.alerts, 1);
    assert_int_equal(alert_sink_close(s, err, sizeof(err)), 0);

    size_t na;
    json_t **a = read_events(fx->out_path, "asset", &na);
    assert_int_equal(na, 5);
    assert_string_equal(str_at(a[0], "asset_ip", NULL), "10.1.1.20");
    assert_int_equal(json_integer_value(json_object_get(a[0], "schema_version")),
                     OUT_SCHEMA_ASSET_EVENT);
    assert_string_equal(str_at(a[0], "asset", "end"), "server");
    assert_string_equal(str_at(a[0], "asset", "relation"), "is");
    assert_string_equal(str_at(a[0], "direction", NULL), "ingress");
    json_t *dev = json_object_get(json_object_get(a[0], "asset"), "device");
    assert_string_equal(str_at(dev, "serial", NULL), "FGT60FTK21000001");
    assert_string_equal(str_at(dev, "model", NULL), "FortiGate 60F");
    assert_int_equal(strlen(str_at(a[0], "asset_id", NULL)), 32);
    assert_string_equal(str_at(a[1], "asset_ip", NULL), "10.1.3.0");
    assert_string_equal(str_at(a[1], "asset", "product"), "Cluster");
    dev = json_object_get(json_object_get(a[1], "asset"), "device");
    assert_non_null(strstr(str_at(dev, "name", NULL), "ClusterXL CCP version 3121"));
    assert_string_equal(str_at(dev, "named_by", NULL), "network");
    assert_int_equal(json_integer_value(json_object_get(dev, "vlan")), 21);
    assert_string_equal(str_at(a[2], "asset_ip", NULL), "10.40.0.2");
    dev = json_object_get(json_object_get(a[2], "asset"), "device");
    assert_string_equal(str_at(dev, "name", NULL), "ClusterXL CCP, source machine ID 1");
    assert_string_equal(str_at(a[3], "asset_ip", NULL), "10.40.0.3");
    assert_null(json_object_get(json_object_get(a[3], "asset"), "device"));
    assert_string_equal(str_at(a[4], "asset_ip", NULL), "10.1.1.5");
    assert_string_equal(str_at(a[4], "asset", "end"), "client");
    assert_string_equal(str_at(a[4], "asset", "relation"), "runs");
    for (size_t i = 0; i < na; i++)
        json_decref(a[i]);
    a = read_alerts(fx->out_path, &na);
    assert_int_equal(na, 1);
    assert_string_equal(str_at(a[0], "src_ip", NULL), "10.1.1.5");
    json_decref(a[0]);
}

/* Ordered mode (several workers reading files): offers are held, then
 * decided in stream order whatever order they came in, so de-duplication
 * keeps the alert of the earlier packet. The flows are copied: the caller
 * may reuse its flow as soon as the offer returns. */
static void test_ordered_sink(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct flow fa, fb;
    struct sig_hit hits[4];
    const uint64_t sec = 1000000, t0 = 1700000000ull * sec;

    struct alert_sink *s =
        alert_sink_new(&fx->cfg, fx->out_path, true, fx->assets, err, sizeof(err));
    assert_non_null(s);
    alert_sink_set_ordered(s, true);
    mkflow(&fa, 5, t0);
    mkflow(&fb, 5, t0 + sec); /* the same host, signature, country: one dedup key */
    size_t n = hits_for(fx, &fa, hits);
    assert_int_equal(n, 1);
    offer_at(s, &fa, "US", t0, PIPELINE_ORDER(10, 1), hits, n);      /* worker 2, later packet */
    offer_at(s, &fb, "US", t0 + sec, PIPELINE_ORDER(4, 1), hits, n); /* worker 1, earlier */
    memset(&fa, 0, sizeof(fa));                                      /* reused by the flow table */
    memset(&fb, 0, sizeof(fb));
    assert_int_equal(alert_sink_pending(s), 2);

    struct alert_stats st;
    alert_sink_release(s, PIPELINE_ORDER(5, 0)); /* every worker has passed packet 4 */
    assert_int_equal(alert_sink_pending(s), 1);
    alert_sink_stats(s, &st);
    assert_int_equal(st.alerts, 1);
    alert_sink_release(s, UINT64_MAX);
    assert_int_equal(alert_sink_pending(s), 0);
    alert_sink_stats(s, &st);
    assert_int_equal(st.alerts, 1);
    assert_int_equal(st.suppressed, 1); /* packet 10's flow, a repeat of packet 4's */
    assert_int_equal(alert_sink_close(s, err, sizeof(err)), 0);

    size_t na;
    json_t **a = read_alerts(fx->out_path, &na);
    assert_int_equal(na, 1);
    /* the alert is packet 4's flow (it started a second later) */
    assert_string_equal(str_at(a[0], "flow", "start"), "2023-11-14T22:13:21.000000+0000");
    assert_string_equal(str_at(a[0], "src_ip", NULL), "10.1.1.5");
    json_decref(a[0]);

    /* Unordered, the first offer wins: the other flow's alert. */
    s = alert_sink_new(&fx->cfg, fx->out_path, true, fx->assets, err, sizeof(err));
    mkflow(&fa, 5, t0);
    mkflow(&fb, 5, t0 + sec);
    offer(s, &fa, "US", t0, hits, n);
    offer(s, &fb, "US", t0 + sec, hits, n);
    assert_int_equal(alert_sink_close(s, err, sizeof(err)), 0);
    a = read_alerts(fx->out_path, &na);
    assert_int_equal(na, 1);
    assert_string_equal(str_at(a[0], "flow", "start"), "2023-11-14T22:13:20.000000+0000");
    json_decref(a[0]);
}

/* alert_sink_locked(): the sink's lock is held while fn runs, so a
 * worker's call waits for it (whatever the timing, it cannot have finished
 * while fn runs). */
struct locked_probe {
    struct alert_sink *s;
    pthread_t t;
    atomic_int done;
    int done_inside;
};

static void *probe_thread(void *arg)
{
    struct locked_probe *p = arg;
    struct alert_stats st;
    alert_sink_stats(p->s, &st); /* takes the lock */
    atomic_store(&p->done, 1);
    return NULL;
}

static int probe_inside(void *ud)
{
    struct locked_probe *p = ud;
    struct timespec nap = {0, 20 * 1000 * 1000};
    assert_int_equal(pthread_create(&p->t, NULL, probe_thread, p), 0);
    nanosleep(&nap, NULL);
    p->done_inside = atomic_load(&p->done);
    return 7;
}

static void test_locked(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct locked_probe p = {.s = alert_sink_new(&fx->cfg, "", true, fx->assets, err, sizeof(err))};
    assert_non_null(p.s);
    atomic_init(&p.done, 0);
    assert_int_equal(alert_sink_locked(p.s, probe_inside, &p), 7);
    pthread_join(p.t, NULL);
    assert_int_equal(p.done_inside, 0);
    assert_int_equal(atomic_load(&p.done), 1);
    assert_int_equal(alert_sink_close(p.s, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_and_severity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_id_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
    classify_free(cl);
    return rc;
}
