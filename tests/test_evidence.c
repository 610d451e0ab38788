/* test_evidence.c -- the report's evidence store: indicators, networks,
 * samples and their bounds, names cut like the inventory's, timelines that
 * widen without losing a count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alerts.h"
#include "evidence.h"
#include "flow.h"
#include "signature.h"

#define S 1000000ull /* one second in microseconds */

static struct signature sig_update = {.id = "fortinet-test-update",
                                      .vendor = "Fortinet",
                                      .product = "FortiGate",
                                      .category = SIG_CAT_UPDATE,
                                      .severity = SIG_SEV_MEDIUM};

/* SIG_PRODUCT_MAX (63) characters: the longest name a pack may hold. */
static struct signature sig_long = {
    .id = "checkpoint-test-long",
    .vendor = "Check Point",
    .product = "Quantum Security Gateway / Smart-1 Cloud / Harmony Connect SASE",
    .category = SIG_CAT_MANAGEMENT,
    .severity = SIG_SEV_HIGH};

/* 10.1.1.<host>:40000 -> 208.91.112.55:443, TLS update.fortiguard.net */
static void mkflow(struct flow *f, uint8_t host, uint64_t start_us)
{
    memset(f, 0, sizeof(*f));
    f->key.ipver = 4, f->key.proto = 6;
    f->key.src[0] = 10, f->key.src[1] = 1, f->key.src[2] = 1, f->key.src[3] = host;
    f->key.dst[0] = 208, f->key.dst[1] = 91, f->key.dst[2] = 112, f->key.dst[3] = 55;
    f->key.sport = 40000, f->key.dport = 443;
    f->first_us = f->last_us = start_us;
    f->bytes[FLOW_TOSERVER] = 517;
    f->input = 2;
    flow_meta_set(f, FLOW_META_HOST, "update.fortiguard.net");
}

static void mkhit(struct sig_hit *h, const struct signature *sig, const char *sni)
{
    memset(h, 0, sizeof(*h));
    h->sig = sig;
    h->confidence = SIG_CONF_HIGH;
    h->n_ev = 1;
    h->ev[0].kind = SIG_EV_TLS_SNI;
    h->ev[0].value = sni;
    h->ev[0].pattern = "*.fortiguard.net";
}

/* What detection offers: the flow's facts (enrich.h) as flow_info_fill()
 * gives them, the server in Fortinet's AS in the US. */
static const struct geo_result fortinet_us = {"Fortinet Inc.", 40934, "US", 13};

static void mkaf(struct alert_flow *af, struct flow_info *fi, const struct flow *f, uint64_t ts_us)
{
    memset(fi, 0, sizeof(*fi));
    fi->f = f;
    strcpy(fi->app, "TLS");
    strcpy(fi->proto, "TCP");
    fi->has_ports = true;
    fi->direction = "egress";
    strcpy(fi->community_id, "1:abcdefghijklmnopqrstuvwxyz0=");
    fi->dest_geo = &fortinet_us;
    memset(af, 0, sizeof(*af));
    af->fi = fi;
    af->ts_us = ts_us;
}

static void alert(struct evidence *e, const struct alert_flow *af, const struct sig_hit *h,
                  uint8_t severity)
{
    struct alert_rec a = {.sensor = "t", .af = af, .hit = h, .severity = severity};
    strcpy(a.alert_id, "0123456789abcdef0123456789abcdef");
    evidence_note_alert(e, &a);
}

static void test_indicators_networks_samples(void **state)
{
    (void)state;
    struct evidence *e = evidence_new(16);
    struct flow f;
    struct alert_flow af;
    struct flow_info fi;
    struct sig_hit h1, h2;
    assert_non_null(e);
    mkflow(&f, 10, 1700000000 * S);
    mkaf(&af, &fi, &f, f.first_us);
    mkhit(&h1, &sig_update, "update.fortiguard.net");
    mkhit(&h2, &sig_update, "service.fortiguard.net");
    for (int i = 0; i < 7; i++) {
        evidence_note_hit(e, &af, i < 5 ? &h1 : &h2);
        alert(e, &af, &h1, i == 3 ? SIG_SEV_CRITICAL : SIG_SEV_HIGH);
    }
    const struct evidence_pair *p = evidence_find(e, 4, f.key.src, "Fortinet", "FortiGate");
    assert_non_null(p);
    assert_int_equal(p->hits, 7);
    assert_int_equal(p->alerts, 7);
    assert_int_equal(p->max_severity, SIG_SEV_CRITICAL);
    assert_int_equal(p->max_confidence, SIG_CONF_HIGH);
    /* two distinct indicators, counted by flow */
    assert_int_equal(p->n_indicators, 2);
    assert_string_equal(p->indicators[0].value, "update.fortiguard.net");
    assert_string_equal(p->indicators[0].pattern, "*.fortiguard.net");
    assert_string_equal(p->indicators[0].signature_id, "fortinet-test-update");
    assert_int_equal(p->indicators[0].flows, 5);
    assert_int_equal(p->indicators[1].flows, 2);
    assert_int_equal(p->n_networks, 1);
    assert_int_equal(p->networks[0].geo.asn, 40934);
    assert_int_equal(p->networks[0].geo.as_org_len, 13);
    assert_memory_equal(p->networks[0].geo.as_org, "Fortinet Inc.", 13);
    assert_int_equal(p->networks[0].flows, 7);
    /* the first samples kept, the others counted */
    assert_int_equal(p->n_samples, EVIDENCE_SAMPLES);
    assert_int_equal(evidence_stats(e)->samples_dropped, 7 - EVIDENCE_SAMPLES);
    const struct evidence_sample *s = &p->samples[0];
    assert_string_equal(s->server_name, "update.fortiguard.net");
    assert_string_equal(s->community_id, "1:abcdefghijklmnopqrstuvwxyz0=");
    assert_string_equal(s->geo.country, "US");
    assert_string_equal(s->proto, "TCP");
    assert_string_equal(s->signature_id, "fortinet-test-update");
    assert_int_equal(s->input, 2);
    assert_int_equal(s->bytes_toserver, 517);
    assert_int_equal(s->dport, 443);
    /* another host, another product: not found */
    assert_null(evidence_find(e, 4, f.key.dst, "Fortinet", "FortiGate"));
    assert_null(evidence_find(e, 4, f.key.src, "Fortinet", "FortiManager"));
    evidence_free(e);
}

static void test_bounds(void **state)
{
    (void)state;
    struct evidence *e = evidence_new(2);
    struct flow f;
    struct alert_flow af;
    struct flow_info fi;
    struct sig_hit h;
    char sni[64];
    mkhit(&h, &sig_update, "update.fortiguard.net");
    for (uint8_t host = 1; host <= 3; host++) {
        mkflow(&f, host, 1700000000 * S);
        mkaf(&af, &fi, &f, f.first_us);
        evidence_note_hit(e, &af, &h);
    }
    assert_int_equal(evidence_stats(e)->pairs, 2);
    assert_int_equal(evidence_stats(e)->pairs_dropped, 1);
    /* distinct indicators beyond the bound are counted, not kept */
    mkflow(&f, 1, 1700000000 * S);
    mkaf(&af, &fi, &f, f.first_us);
    for (int i = 0; i < EVIDENCE_MAX_INDICATORS + 3; i++) {
        snprintf(sni, sizeof(sni), "u%d.fortiguard.net", i);
        mkhit(&h, &sig_update, sni);
        evidence_note_hit(e, &af, &h);
    }
    const struct evidence_pair *p = evidence_find(e, 4, f.key.src, "Fortinet", "FortiGate");
    assert_non_null(p);
    assert_int_equal(p->n_indicators, EVIDENCE_MAX_INDICATORS);
    assert_int_equal(evidence_stats(e)->indicators_dropped, 4); /* 3 + the first flow's one */
    evidence_free(e);
    assert_null(evidence_new(0));
    evidence_free(NULL);
}

/* The longest names a pack may hold are kept whole, and a look-up by a
 * shorter name does not find them. */
static void test_cut_names(void **state)
{
    (void)state;
    struct evidence *e = evidence_new(4);
    struct flow f;
    struct alert_flow af;
    struct flow_info fi;
    struct sig_hit h;
    char cut[SIG_PRODUCT_MAX];
    mkflow(&f, 7, 1700000000 * S);
    mkaf(&af, &fi, &f, f.first_us);
    mkhit(&h, &sig_long, "x.checkpoint.com");
    evidence_note_hit(e, &af, &h);
    assert_int_equal(strlen(sig_long.product), SIG_PRODUCT_MAX);
    const struct evidence_pair *p = evidence_find(e, 4, f.key.src, "Check Point", sig_long.product);
    assert_non_null(p);
    assert_string_equal(p->product, sig_long.product);
    snprintf(cut, sizeof(cut), "%s", sig_long.product);
    assert_null(evidence_find(e, 4, f.key.src, "Check Point", cut));
    evidence_free(e);
}

static uint64_t total(const struct evidence_timeline *t, int what)
{
    uint64_t n = 0;
    for (uint64_t i = t->lo; t->width_us && i <= t->hi; i++) {
        const struct evidence_bucket *b = &t->b[i % EVIDENCE_BUCKETS];
        n += what == 0 ? b->flows : what == 1 ? b->alerts : b->bytes_out;
    }
    return n;
}

static void test_ladder(void **state)
{
    (void)state;
    static const uint64_t want[] = {1,    5,    10,    30,    60,    300,    600,
                                    1800, 3600, 10800, 21600, 86400, 604800, 2419200};
    uint64_t w = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint64_t next = evidence_next_width(w);
        assert_int_equal(next, want[i] * S);
        if (w != 0)
            assert_int_equal(next % w, 0); /* buckets merge exactly */
        w = next;
    }
}

static void test_timeline(void **state)
{
    (void)state;
    struct evidence *e = evidence_new(4);
    struct flow f;
    struct alert_flow af;
    struct flow_info fi;
    struct sig_hit h;
    size_t n;
    uint64_t t0 = 1700000000 * S;
    mkhit(&h, &sig_update, "update.fortiguard.net");
    /* a flow every 10 s for 20 minutes, then one an hour before the first */
    for (int i = 0; i < 120; i++) {
        mkflow(&f, 1, t0 + (uint64_t)i * 10 * S);
        mkaf(&af, &fi, &f, f.first_us);
        evidence_note_hit(e, &af, &h);
        evidence_note_bytes(e, &f, &sig_update, 100);
    }
    const struct evidence_timeline *t = evidence_timelines(e, &n);
    assert_int_equal(n, 1);
    assert_string_equal(t->product, "FortiGate");
    assert_int_equal(t->width_us, 30 * S); /* 1200 s in at most 64 buckets */
    assert_true(t->hi - t->lo < EVIDENCE_BUCKETS);
    assert_int_equal(total(t, 0), 120);
    assert_int_equal(total(t, 2), 12000);
    mkflow(&f, 1, t0 - 3600 * S);
    mkaf(&af, &fi, &f, f.first_us);
    evidence_note_hit(e, &af, &h);
    t = evidence_timelines(e, &n);
    assert_int_equal(t->width_us, 300 * S);
    assert_int_equal(total(t, 0), 121);
    assert_int_equal(total(t, 2), 12000);
    assert_int_equal(t->lo, (t0 - 3600 * S) / t->width_us);

    /* re-bucketed to a wider column: the same totals; too narrow: refused */
    struct evidence_timeline wide;
    assert_int_equal(evidence_timeline_widen(&wide, t, 3600 * S), 0);
    assert_int_equal(wide.width_us, 3600 * S);
    assert_int_equal(total(&wide, 0), 121);
    assert_int_equal(evidence_timeline_widen(&wide, t, 60 * S), -1);
    evidence_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators_networks_samples),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_cut_names),
        cmocka_unit_test(test_ladder),
        cmocka_unit_test(test_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
