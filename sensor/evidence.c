/* evidence.c -- per (host, product) indicators, networks and sample
 * alerts, and per product timelines, for the report. */
#include "evidence.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "alerts.h"
#include "flow.h"
#include "lru-map.h"
#include "signature.h"

/* A pair is found by host and a hash of its names; the names in the value
 * settle a collision (the hit is then counted as dropped). */
struct pair_key {
    uint8_t af;
    uint8_t pad[7];
    uint64_t names;
    uint8_t host[16];
};

struct evidence {
    struct lru_map *pairs; /* pair_key -> struct evidence_pair */
    uint32_t max_pairs;
    size_t n_timelines;
    struct evidence_timeline timelines[EVIDENCE_MAX_PRODUCTS];
    struct evidence_stats st;
};

struct evidence *evidence_new(uint32_t max_pairs)
{
    if (max_pairs == 0)
        return NULL;
    struct evidence *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->max_pairs = max_pairs;
    e->pairs = lru_map_new(max_pairs, sizeof(struct pair_key), sizeof(struct evidence_pair));
    if (e->pairs == NULL) {
        free(e);
        return NULL;
    }
    return e;
}

static void free_pair(const void *key, void *val, void *ud)
{
    struct evidence_pair *p = val;
    (void)key;
    (void)ud;
    for (unsigned i = 0; i < p->n_indicators; i++) {
        free(p->indicators[i].value);
        free(p->indicators[i].pattern);
        free(p->indicators[i].signature_id);
    }
}

void evidence_free(struct evidence *e)
{
    if (e == NULL)
        return;
    lru_map_foreach(e->pairs, free_pair, NULL);
    lru_map_free(e->pairs);
    free(e);
}

const struct evidence_stats *evidence_stats(const struct evidence *e)
{
    return &e->st;
}

/* The names as a pair keeps them (truncated to its fields, as the
 * inventory truncates them), so a look-up by the inventory's names finds
 * the pair. */
static uint64_t names_hash(const char *vendor, const char *product)
{
    struct evidence_pair *p = NULL;
    char buf[sizeof(p->vendor) + sizeof(p->product)];
    int n = snprintf(buf, sizeof(buf), "%.*s%c%.*s", (int)sizeof(p->vendor) - 1, vendor, '\0',
                     (int)sizeof(p->product) - 1, product);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    return XXH3_64bits(buf, (size_t)n);
}

static void make_key(struct pair_key *k, int af, const uint8_t *host, const char *vendor,
                     const char *product)
{
    memset(k, 0, sizeof(*k));
    k->af = (uint8_t)af;
    k->names = names_hash(vendor, product);
    memcpy(k->host, host, af == 6 ? 16 : 4);
}

/* The names as the pair stores them (truncated to fit, like assets.c). */
static int same_names(const struct evidence_pair *p, const char *vendor, const char *product)
{
    return strncmp(p->vendor, vendor, sizeof(p->vendor) - 1) == 0 &&
           strncmp(p->product, product, sizeof(p->product) - 1) == 0;
}

/* The pair of the host and sig's product, created when there is room;
 * NULL (counted) when there is none. */
static struct evidence_pair *pair_get(struct evidence *e, int af, const uint8_t *host,
                                      const struct signature *sig)
{
    struct pair_key k;
    make_key(&k, af, host, sig->vendor, sig->product);
    struct evidence_pair *p = lru_map_get(e->pairs, &k);
    if (p == NULL) {
        if (lru_map_count(e->pairs) >= e->max_pairs) {
            e->st.pairs_dropped++;
            return NULL;
        }
        bool created, evicted;
        p = lru_map_put(e->pairs, &k, &created, &evicted);
        p->af = (uint8_t)af;
        memcpy(p->host, host, af == 6 ? 16 : 4);
        snprintf(p->vendor, sizeof(p->vendor), "%s", sig->vendor);
        snprintf(p->product, sizeof(p->product), "%s", sig->product);
        p->max_severity = p->max_confidence = -1;
        e->st.pairs = lru_map_count(e->pairs);
    } else if (!same_names(p, sig->vendor, sig->product)) {
        e->st.pairs_dropped++;
        return NULL;
    }
    return p;
}

const struct evidence_pair *evidence_find(struct evidence *e, int af, const uint8_t *host,
                                          const char *vendor, const char *product)
{
    struct pair_key k;
    make_key(&k, af, host, vendor, product);
    const struct evidence_pair *p = lru_map_get(e->pairs, &k);
    return p != NULL && same_names(p, vendor, product) ? p : NULL;
}

/* ---------------------------------------------------------------- timelines */

uint64_t evidence_next_width(uint64_t width_us)
{
    static const uint64_t ladder_s[] = {1,    5,    10,    30,    60,    300,   600,
                                        1800, 3600, 10800, 21600, 86400, 604800};
    for (size_t i = 0; i < sizeof(ladder_s) / sizeof(ladder_s[0]); i++)
        if (ladder_s[i] * 1000000u > width_us)
            return ladder_s[i] * 1000000u;
    return width_us * 4u;
}

/* Re-bucket t into width w (a multiple of its own), in place. */
static void widen(struct evidence_timeline *t, uint64_t w)
{
    struct evidence_bucket nb[EVIDENCE_BUCKETS];
    uint64_t f = w / t->width_us;
    memset(nb, 0, sizeof(nb));
    for (uint64_t i = t->lo; i <= t->hi; i++) {
        const struct evidence_bucket *b = &t->b[i % EVIDENCE_BUCKETS];
        struct evidence_bucket *d = &nb[(i / f) % EVIDENCE_BUCKETS];
        d->flows += b->flows;
        d->alerts += b->alerts;
        d->bytes_out += b->bytes_out;
    }
    memcpy(t->b, nb, sizeof(nb));
    t->lo /= f;
    t->hi /= f;
    t->width_us = w;
}

int evidence_timeline_widen(struct evidence_timeline *dst, const struct evidence_timeline *src,
                            uint64_t width_us)
{
    if (src->width_us == 0) {
        *dst = *src;
        return 0;
    }
    if (width_us < src->width_us || width_us % src->width_us != 0)
        return -1;
    uint64_t f = width_us / src->width_us;
    if (src->hi / f - src->lo / f >= EVIDENCE_BUCKETS)
        return -1;
    *dst = *src;
    if (f > 1)
        widen(dst, width_us);
    return 0;
}

/* The bucket of time ts in t, widening t until it spans ts. */
static struct evidence_bucket *bucket_at(struct evidence_timeline *t, uint64_t ts_us)
{
    if (t->width_us == 0) {
        t->width_us = evidence_next_width(0);
        t->lo = t->hi = ts_us / t->width_us;
    }
    for (;;) {
        uint64_t n = ts_us / t->width_us;
        uint64_t lo = n < t->lo ? n : t->lo, hi = n > t->hi ? n : t->hi;
        if (hi - lo < EVIDENCE_BUCKETS) {
            /* buckets entering the window were last used by others: clear */
            for (uint64_t i = lo; i < t->lo; i++)
                memset(&t->b[i % EVIDENCE_BUCKETS], 0, sizeof(t->b[0]));
            for (uint64_t i = t->hi + 1; i <= hi; i++)
                memset(&t->b[i % EVIDENCE_BUCKETS], 0, sizeof(t->b[0]));
            t->lo = lo;
            t->hi = hi;
            return &t->b[n % EVIDENCE_BUCKETS];
        }
        widen(t, evidence_next_width(t->width_us));
    }
}

/* The timeline of sig's product; NULL (counted) when there is no room. */
static struct evidence_timeline *timeline_get(struct evidence *e, const struct signature *sig)
{
    for (size_t i = 0; i < e->n_timelines; i++) {
        struct evidence_timeline *t = &e->timelines[i];
        if (strncmp(t->vendor, sig->vendor, sizeof(t->vendor) - 1) == 0 &&
            strncmp(t->product, sig->product, sizeof(t->product) - 1) == 0)
            return t;
    }
    if (e->n_timelines == EVIDENCE_MAX_PRODUCTS) {
        e->st.products_dropped++;
        return NULL;
    }
    struct evidence_timeline *t = &e->timelines[e->n_timelines++];
    snprintf(t->vendor, sizeof(t->vendor), "%s", sig->vendor);
    snprintf(t->product, sizeof(t->product), "%s", sig->product);
    return t;
}

const struct evidence_timeline *evidence_timelines(const struct evidence *e, size_t *n)
{
    *n = e->n_timelines;
    return e->timelines;
}

/* ---------------------------------------------------------------- notes */

static void note_indicator(struct evidence *e, struct evidence_pair *p, const struct signature *sig,
                           const struct sig_evidence *ev)
{
    const char *value = ev->value ? ev->value : "";
    const char *pattern = ev->pattern ? ev->pattern : "";
    for (unsigned i = 0; i < p->n_indicators; i++) {
        struct evidence_indicator *d = &p->indicators[i];
        if (d->kind == ev->kind && strcmp(d->value, value) == 0 &&
            strcmp(d->pattern, pattern) == 0 && strcmp(d->signature_id, sig->id) == 0) {
            d->flows++;
            return;
        }
    }
    if (p->n_indicators == EVIDENCE_MAX_INDICATORS) {
        e->st.indicators_dropped++;
        return;
    }
    struct evidence_indicator *d = &p->indicators[p->n_indicators];
    d->value = strdup(value);
    d->pattern = strdup(pattern);
    d->signature_id = strdup(sig->id);
    if (d->value == NULL || d->pattern == NULL || d->signature_id == NULL) {
        free(d->value);
        free(d->pattern);
        free(d->signature_id);
        memset(d, 0, sizeof(*d));
        e->st.indicators_dropped++;
        return;
    }
    d->kind = ev->kind;
    d->flows = 1;
    p->n_indicators++;
}

static void note_network(struct evidence *e, struct evidence_pair *p, const struct alert_flow *af)
{
    const struct geo_result *g = af->fi->dest_geo;
    if (g == NULL || g->asn == 0)
        return;
    for (unsigned i = 0; i < p->n_networks; i++) {
        if (p->networks[i].geo.asn == g->asn) {
            p->networks[i].flows++;
            return;
        }
    }
    if (p->n_networks == EVIDENCE_MAX_NETWORKS) {
        e->st.networks_dropped++;
        return;
    }
    struct evidence_network *n = &p->networks[p->n_networks++];
    n->geo = *g;
    n->flows = 1;
}

void evidence_note_hit(struct evidence *e, const struct alert_flow *af, const struct sig_hit *hit)
{
    const struct flow_key *k = &af->fi->f->key;
    const struct signature *sig = hit->sig;
    struct evidence_pair *p = pair_get(e, k->ipver == 6 ? 6 : 4, k->src, sig);
    if (p != NULL) {
        p->hits++;
        for (size_t i = 0; i < hit->n_ev; i++)
            note_indicator(e, p, sig, &hit->ev[i]);
        note_network(e, p, af);
    }
    struct evidence_timeline *t = timeline_get(e, sig);
    if (t != NULL)
        bucket_at(t, af->ts_us)->flows++;
}

void evidence_note_alert(struct evidence *e, const struct alert_rec *a)
{
    const struct alert_flow *af = a->af;
    const struct flow_info *fi = af->fi;
    const struct flow *f = fi->f;
    const struct flow_key *k = &f->key;
    const struct signature *sig = a->hit->sig;
    struct evidence_timeline *t = timeline_get(e, sig);
    if (t != NULL)
        bucket_at(t, af->ts_us)->alerts++;
    struct evidence_pair *p = pair_get(e, k->ipver == 6 ? 6 : 4, k->src, sig);
    if (p == NULL)
        return;
    p->alerts++;
    if (a->severity > p->max_severity)
        p->max_severity = (int8_t)a->severity;
    if (a->hit->confidence > p->max_confidence)
        p->max_confidence = (int8_t)a->hit->confidence;
    if (p->n_samples == EVIDENCE_SAMPLES) {
        e->st.samples_dropped++;
        return;
    }
    struct evidence_sample *s = &p->samples[p->n_samples++];
    memset(s, 0, sizeof(*s));
    snprintf(s->alert_id, sizeof(s->alert_id), "%s", a->alert_id);
    s->ts_us = af->ts_us;
    s->flow_start_us = f->first_us;
    s->input = f->input;
    s->ipver = k->ipver;
    s->has_ports = fi->has_ports;
    snprintf(s->proto, sizeof(s->proto), "%s", fi->proto);
    memcpy(s->src, k->src, sizeof(s->src));
    memcpy(s->dst, k->dst, sizeof(s->dst));
    s->sport = k->sport;
    s->dport = k->dport;
    snprintf(s->app, sizeof(s->app), "%s", fi->app);
    snprintf(s->server_name, sizeof(s->server_name), "%s", flow_meta_get(f, FLOW_META_HOST));
    memcpy(s->community_id, fi->community_id, sizeof(s->community_id));
    if (fi->dest_geo != NULL)
        s->geo = *fi->dest_geo;
    snprintf(s->signature_id, sizeof(s->signature_id), "%s", sig->id);
    s->category = sig->category;
    s->severity = a->severity;
    s->confidence = a->hit->confidence;
    s->pkts_toserver = f->pkts[FLOW_TOSERVER];
    s->pkts_toclient = f->pkts[FLOW_TOCLIENT];
    s->bytes_toserver = f->bytes[FLOW_TOSERVER];
    s->bytes_toclient = f->bytes[FLOW_TOCLIENT];
}

void evidence_note_bytes(struct evidence *e, const struct flow *f, const struct signature *sig,
                         uint64_t bytes_out)
{
    struct evidence_timeline *t = timeline_get(e, sig);
    if (t != NULL)
        bucket_at(t, f->first_us)->bytes_out += bytes_out;
}
