/* alerts.c -- the alert sink: severity, de-duplication, ids, output. */
#include "alerts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "assets.h"
#include "config.h"
#include "device.h"
#include "evidence.h"
#include "flow.h"
#include "log.h"
#include "lru-map.h"
#include "output-json-flow.h"
#include "output-json.h"
#include "output-redis.h"
#include "signature.h"
#include "util.h"

#define SEV(i, n)                                                                                  \
    CTR_ELEM(struct alert_stats, by_severity, i, "detection.by_severity", "severity", n,           \
             CTR_COUNTER, "alerts raised, by severity")
static const struct ctr_desc alert_desc[] = {
    ALERT_COUNTERS(CTR_DESC, struct alert_stats) SEV(SIG_SEV_LOW, "low")
        SEV(SIG_SEV_MEDIUM, "medium") SEV(SIG_SEV_HIGH, "high") SEV(SIG_SEV_CRITICAL, "critical")};
#undef SEV
const struct ctr_table alert_counters = {alert_desc, ARRAY_SIZE(alert_desc)};

/* De-duplication key: one alert per (internal host, signature, country).
 * The signature is named by a hash of its id, not its place in the pack, so
 * a window outlives a reload that reorders the pack. */
struct dedup_key {
    uint8_t af;
    char country[2];
    uint8_t pad[5];
    uint64_t sig;
    uint8_t host[16];
};

struct dedup_val {
    uint64_t window_start_us; /* time of the alert that opened the window */
    uint64_t suppressed;      /* repeats since */
};

struct alert_sink {
    pthread_mutex_t lock;
    const struct sensor_config *cfg;
    struct assets *assets;
    struct lru_map *dedup;
    uint64_t window_us;
    FILE *fp;
    bool own_fp;
    struct out_redis *redis;
    struct evidence *evidence; /* the report's, or NULL */
    char path[1024];
    int first_errno;
    struct alert_stats st;
    /* ordered mode: offers held until released */
    bool ordered;
    atomic_size_t n_pending; /* n_held, readable without the lock */
    struct held **held;
    size_t n_held, cap_held;
    char buf[16384];
};

enum { HELD_OFFER, HELD_BYTES, HELD_RESTART };

static void flow_bytes_locked(struct alert_sink *s, const struct flow *f,
                              const struct signature *sig);

/* An offer held in ordered mode: copies of everything it points to. */
struct held {
    int kind;                    /* HELD_OFFER or HELD_BYTES */
    const struct signature *sig; /* HELD_BYTES: the flow's strongest match */
    struct flow f;
    struct flow_info fi;
    struct alert_flow af;
    size_t n;
    struct sig_hit *hits;
    char *arena; /* the evidence values */
};

struct alert_sink *alert_sink_new(const struct sensor_config *cfg, const char *alerts_path,
                                  bool truncate, struct assets *assets, char *errbuf, size_t errlen)
{
    struct alert_sink *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->cfg = cfg;
    s->assets = assets;
    s->window_us = (uint64_t)cfg->suppress_window * 1000000u;
    s->dedup = lru_map_new(cfg->max_alert_keys, sizeof(struct dedup_key), sizeof(struct dedup_val));
    if (s->dedup == NULL) {
        snprintf(errbuf, errlen, "out of memory for %u alert keys", cfg->max_alert_keys);
        goto fail;
    }
    snprintf(s->path, sizeof(s->path), "%s", alerts_path ? alerts_path : "");
    if (s->path[0] == '\0') {
        s->fp = NULL;
    } else if (strcmp(s->path, "-") == 0) {
        s->fp = stdout;
    } else {
        s->fp = out_lines_open(s->path, truncate, errbuf, errlen);
        if (s->fp == NULL)
            goto fail;
        s->own_fp = true;
    }
    return s;

fail:
    lru_map_free(s->dedup);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

static void held_free(struct held *h)
{
    if (h == NULL)
        return;
    free(h->hits);
    free(h->arena);
    free(h);
}

/* The alert file: what to call it in messages. */
static const char *file_name(const struct alert_sink *s)
{
    return strcmp(s->path, "-") == 0 ? "standard output" : s->path;
}

int alert_sink_close(struct alert_sink *s, char *errbuf, size_t errlen)
{
    if (s == NULL)
        return 0;
    int rc = 0;
    if (s->fp != NULL) {
        if (fflush(s->fp) != 0 && s->st.write_errors++ == 0)
            s->first_errno = errno;
        if (s->own_fp && fclose(s->fp) != 0 && s->st.write_errors++ == 0)
            s->first_errno = errno;
    }
    if (s->st.write_errors) {
        snprintf(errbuf, errlen, "alerts: %s: %llu of %llu alerts not written: %s", file_name(s),
                 (unsigned long long)s->st.write_errors, (unsigned long long)s->st.alerts,
                 strerror(s->first_errno));
        rc = -1;
    }
    for (size_t i = 0; i < s->n_held; i++)
        held_free(s->held[i]);
    free(s->held);
    lru_map_free(s->dedup);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}

/* Stable id: the same flow and signature give the same id on every run,
 * so a consumer can drop a duplicate delivered twice. */
static void make_alert_id(const struct alert_sink *s, const struct alert_flow *af,
                          const struct signature *sig, char out[33])
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s|%s|%llu|%s", s->cfg->sensor_name, af->fi->community_id,
                     (unsigned long long)af->fi->f->first_us, sig->id);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    XXH128_hash_t h = XXH3_128bits(buf, (size_t)n);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* Stable id of an asset: the same sensor, host and product give the same
 * id on every run, so a dashboard can tell a device it knows. */
static void make_asset_id(const struct alert_sink *s, const char *host, const struct signature *sig,
                          char out[33])
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s|%s|%s|%s", s->cfg->sensor_name, host, sig->vendor,
                     sig->product);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    XXH128_hash_t h = XXH3_128bits(buf, (size_t)n);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

unsigned alert_ends(const struct signature *sig, const struct flow *f)
{
    static const uint8_t zero[16];
    const struct flow_key *k = &f->key;
    size_t alen = k->ipver == 6 ? 16 : 4;
    int d = f->direction;
    unsigned ends = 0;
    if ((sig->role == SIG_ROLE_CLIENT || sig->role == SIG_ROLE_PEERS) &&
        (d == FLOW_DIR_EGRESS || d == FLOW_DIR_INTERNAL) && memcmp(k->src, zero, alen) != 0)
        ends |= ALERT_END_CLIENT;
    if ((sig->role == SIG_ROLE_SERVER || sig->role == SIG_ROLE_PEERS) &&
        (d == FLOW_DIR_INGRESS || d == FLOW_DIR_INTERNAL) && memcmp(k->dst, zero, alen) != 0)
        ends |= ALERT_END_SERVER;
    return ends;
}

void alert_sink_set_redis(struct alert_sink *s, struct out_redis *r)
{
    s->redis = r;
}

void alert_sink_set_evidence(struct alert_sink *s, struct evidence *e)
{
    s->evidence = e;
}

void alert_sink_reconfigure(struct alert_sink *s, const struct sensor_config *cfg)
{
    pthread_mutex_lock(&s->lock);
    s->cfg = cfg;
    s->window_us = (uint64_t)cfg->suppress_window * 1000000u;
    pthread_mutex_unlock(&s->lock);
}

/* An alert could not be written to the file: counted; the first failure
 * is logged as it happens (the other outputs go on), the total at close. */
static void file_error(struct alert_sink *s, int err)
{
    if (s->st.write_errors++ == 0) {
        s->first_errno = err;
        log_msg(LOG_ERR, "alerts: %s: %s; alerts are counted as not written from now on%s",
                file_name(s), strerror(err), s->redis ? " (they still go to Redis)" : "");
    }
    clearerr(s->fp);
}

static struct out_redis_field field(const char *name, const char *value)
{
    return (struct out_redis_field){name, value, strlen(value)};
}

/* Hand one alert to Redis: its flat stream fields, formatted from the
 * record and its flow's facts (README "Keys and fields"), and its JSON
 * line (NULL when it could not be formatted: the output counts it as
 * refused). */
static void redis_alert(struct alert_sink *s, const struct alert_rec *a, const char *json,
                        size_t len)
{
    const struct flow_info *fi = a->af->fi;
    const struct flow_key *k = &fi->f->key;
    const struct signature *sig = a->hit->sig;
    const struct geo_result *g = fi->dest_geo;
    char ts[40], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], port[8] = "", asn[16] = "";
    jw_format_time(a->af->ts_us, ts, sizeof(ts));
    inet_ntop(k->ipver == 6 ? AF_INET6 : AF_INET, k->src, src, sizeof(src));
    inet_ntop(k->ipver == 6 ? AF_INET6 : AF_INET, k->dst, dst, sizeof(dst));
    if (fi->has_ports)
        snprintf(port, sizeof(port), "%u", (unsigned)k->dport);
    if (g != NULL && g->asn)
        snprintf(asn, sizeof(asn), "%u", (unsigned)g->asn);
    const struct out_redis_field f[] = {
        field("event_type", "alert"),
        field("alert_id", a->alert_id),
        field("timestamp", ts),
        field("sensor", a->sensor),
        field("severity", sig_severity_name(a->severity)),
        field("vendor", sig->vendor),
        field("product", sig->product),
        field("category", sig_category_name(sig->category)),
        field("signature_id", sig->id),
        field("confidence", sig_confidence_name(a->hit->confidence)),
        field("src_ip", src),
        field("dest_ip", dst),
        field("dest_port", port),
        field("proto", fi->proto),
        field("app", fi->app),
        field("country_code", g != NULL ? g->country : ""),
        field("asn", asn),
        field("host", flow_meta_get(fi->f, FLOW_META_HOST)),
        field("community_id", fi->community_id),
        field("pcap_filename", fi->pcap_filename ? fi->pcap_filename : ""), /* last */
    };
    /* reading files only: a live alert has no pcap_filename field */
    out_redis_submit_alert(s->redis, f, ARRAY_SIZE(f) - (fi->pcap_filename ? 0 : 1), json, len);
}

/* Write one formatted record (n bytes of s->buf, 0: it did not fit) to
 * the alert file. */
static void write_record(struct alert_sink *s, size_t n)
{
    if (n == 0) {
        if (s->st.write_errors++ == 0)
            s->first_errno = EMSGSIZE;
        return;
    }
    if (s->fp == NULL)
        return;
    /* Alerts are few and matter: flush each one so a reader sees it now,
     * and so a write that fails (a full disk, a reader gone from the pipe)
     * is known at once and counted against this alert. */
    if (fwrite(s->buf, 1, n, s->fp) != n || fflush(s->fp) != 0)
        file_error(s, errno ? errno : EIO);
}

static void write_alert(struct alert_sink *s, const struct alert_rec *a)
{
    if (s->fp == NULL && s->redis == NULL)
        return;
    size_t n = out_alert_format(a, s->buf, sizeof(s->buf));
    /* The Redis output copies the record and never blocks on Redis; what
     * it cannot queue or spool it counts itself. */
    if (s->redis != NULL)
        redis_alert(s, a, n ? s->buf : NULL, n ? n - 1 : 0);
    write_record(s, n);
}

/* Hand one asset event to Redis, as an alert: its flat fields and JSON. */
static void redis_asset_event(struct alert_sink *s, const struct asset_rec *r, const char *json,
                              size_t len)
{
    const struct flow_info *fi = r->af->fi;
    const struct signature *sig = r->hit->sig;
    char ts[40], dev[224] = "";
    jw_format_time(r->af->ts_us, ts, sizeof(ts));
    if (r->dev != NULL)
        snprintf(dev, sizeof(dev), "%s%s%s%s%s", r->dev->model, r->dev->model[0] ? " " : "",
                 r->dev->serial, r->dev->serial[0] && r->dev->name[0] ? " " : "", r->dev->name);
    const struct out_redis_field f[] = {
        field("event_type", "asset"),
        field("asset_id", r->asset_id),
        field("timestamp", ts),
        field("sensor", r->sensor),
        field("asset_ip", r->host),
        field("vendor", sig->vendor),
        field("product", sig->product),
        field("relation", sig_relation_name(sig->relation)),
        field("signature_id", sig->id),
        field("confidence", sig_confidence_name(r->hit->confidence)),
        field("evidence", r->hit->n_ev ? sig_evidence_name(r->hit->ev[0].kind) : ""),
        field("device", dev),
        field("community_id", fi->community_id),
        field("pcap_filename", fi->pcap_filename ? fi->pcap_filename : ""), /* last */
    };
    out_redis_submit_alert(s->redis, f, ARRAY_SIZE(f) - (fi->pcap_filename ? 0 : 1), json, len);
}

static void write_asset_event(struct alert_sink *s, const struct asset_rec *r)
{
    s->st.asset_events++;
    if (s->fp == NULL && s->redis == NULL)
        return;
    size_t n = out_asset_format(r, s->buf, sizeof(s->buf));
    if (s->redis != NULL)
        redis_asset_event(s, r, n ? s->buf : NULL, n ? n - 1 : 0);
    write_record(s, n);
}

/* Hand the host's updated inventory record to Redis. */
static void push_asset(struct alert_sink *s, int fam, const uint8_t *host)
{
    char addr[64];
    if (s->redis == NULL || s->assets == NULL)
        return;
    int n = assets_host_json(s->assets, fam, host, s->buf, sizeof(s->buf), addr, sizeof(addr));
    if (n > 0)
        out_redis_asset(s->redis, addr, s->buf, (size_t)n);
}

/* The device facts the hit's evidence gives, into d; NULL when none. */
static const struct dev_info *hit_device(const struct sig_hit *h, const struct flow *f,
                                         struct dev_info *d)
{
    static const uint8_t zero[16];
    if (h->sig->device == SIG_DEV_NONE ||
        !dev_describe(h->sig->device, flow_meta_get(f, FLOW_META_SUBJECT),
                      flow_meta_get(f, FLOW_META_DETAIL), f->key.vlan, d))
        return NULL;
    /* ClusterXL members send from 0.0.0.0 to their network's address: the
     * cluster is known by that network and its VLAN, not by a member */
    if (h->sig->device == SIG_DEV_DISSECTOR &&
        memcmp(f->key.src, zero, f->key.ipver == 6 ? 16 : 4) == 0)
        d->by_network = 1;
    return d;
}

/* What dev says of the device at end e: a dissector describes the sender
 * of what it read, the client, so a peer at the server end gets nothing of
 * it (its own datagrams name it in its own flow) -- unless the client is
 * the unspecified address: then it describes the cluster the network is. */
static const struct dev_info *end_device(const struct sig_hit *h, unsigned e,
                                         const struct dev_info *dev)
{
    if (dev != NULL && h->sig->device == SIG_DEV_DISSECTOR && e == ALERT_END_SERVER &&
        !dev->by_network)
        return NULL;
    return dev;
}

/* The hit names the internal host at end (ALERT_END_*) of the flow: into
 * the inventory, and an asset event the first time. */
static void identify(struct alert_sink *s, const struct alert_flow *af, const struct sig_hit *h,
                     unsigned end, int first_of_flow, const struct dev_info *dev)
{
    const struct flow_info *fi = af->fi;
    const struct flow_key *k = &fi->f->key;
    const uint8_t *host = end == ALERT_END_CLIENT ? k->src : k->dst;
    const struct geo_result *peer = end == ALERT_END_CLIENT ? fi->dest_geo : fi->src_geo;
    int fam = k->ipver == 6 ? 6 : 4;
    s->st.identified++;
    if (s->assets == NULL)
        return;
    struct assets_ident id = {
        .af = fam,
        .host = host,
        .sig = h->sig,
        .peer_cc = peer != NULL ? peer->country : "",
        .ts_us = af->ts_us,
        .first_of_flow = first_of_flow,
        .ev = h->n_ev ? &h->ev[0] : NULL,
        .dev = dev,
    };
    if (assets_identify(s->assets, &id) != 1)
        return;
    struct asset_rec r = {
        .sensor = s->cfg->sensor_name, .af = af, .hit = h, .end = end, .dev = dev};
    inet_ntop(fam == 6 ? AF_INET6 : AF_INET, host, r.host, sizeof(r.host));
    make_asset_id(s, r.host, h->sig, r.asset_id);
    write_asset_event(s, &r);
}

/* Raise the alert of hit h (an egress flow's client named by it), unless
 * it repeats one inside the suppression window. */
static void raise_alert(struct alert_sink *s, const struct alert_flow *af, const struct sig_hit *h,
                        const struct dev_info *dev)
{
    const struct flow_key *k = &af->fi->f->key;
    const struct signature *sig = h->sig;
    int fam = k->ipver == 6 ? 6 : 4;
    const char *cc = af->fi->dest_geo != NULL ? af->fi->dest_geo->country : "";

    struct dedup_key dk;
    memset(&dk, 0, sizeof(dk));
    dk.af = (uint8_t)fam;
    if (cc[0] && cc[1])
        dk.country[0] = cc[0], dk.country[1] = cc[1];
    dk.sig = XXH3_64bits(sig->id, strlen(sig->id));
    memcpy(dk.host, k->src, fam == 6 ? 16 : 4);
    bool created, evicted;
    struct dedup_val *v = lru_map_put(s->dedup, &dk, &created, &evicted);
    if (evicted)
        s->st.keys_evicted++;
    if (!created && af->ts_us < v->window_start_us + s->window_us) {
        v->suppressed++;
        s->st.suppressed++;
        return;
    }

    struct alert_rec a = {.sensor = s->cfg->sensor_name, .af = af, .hit = h, .dev = dev};
    a.severity = sig->severity;
    if (cc[0] && !config_is_home_country(s->cfg, cc) && a.severity < SIG_SEV_CRITICAL)
        a.severity++;
    a.repeats = created ? 0 : v->suppressed;
    make_alert_id(s, af, sig, a.alert_id);
    v->window_start_us = af->ts_us;
    v->suppressed = 0;

    s->st.alerts++;
    s->st.by_severity[a.severity]++;
    if (s->assets)
        assets_note_alert(s->assets, fam, k->src);
    if (s->evidence)
        evidence_note_alert(s->evidence, &a);
    write_alert(s, &a);
}

/* Decide and write one offer; the lock is held. Each hit names the
 * internal ends its role points at (the inventory, and an asset event the
 * first time); a hit that names the client of an egress flow raises an
 * alert: what the product sends out of the network. */
static void offer_locked(struct alert_sink *s, const struct alert_flow *af,
                         const struct sig_hit *hits, size_t n)
{
    const struct flow *f = af->fi->f;
    const struct flow_key *k = &f->key;
    int fam = k->ipver == 6 ? 6 : 4;
    unsigned named = 0; /* ends already named in this flow */

    for (size_t i = 0; i < n; i++) {
        const struct sig_hit *h = &hits[i];
        unsigned ends = alert_ends(h->sig, f);
        struct dev_info dbuf;
        const struct dev_info *dev = hit_device(h, f, &dbuf);
        s->st.hits++;
        if (ends == 0)
            continue;
        for (unsigned e = ALERT_END_CLIENT; e <= ALERT_END_SERVER; e <<= 1)
            if (ends & e)
                identify(s, af, h, e, !(named & e), end_device(h, e, dev));
        named |= ends;
        if (s->evidence)
            evidence_note_hit(s->evidence, af, h);
        if (f->direction == FLOW_DIR_EGRESS && (ends & ALERT_END_CLIENT))
            raise_alert(s, af, h, dev);
    }
    if (named & ALERT_END_CLIENT)
        push_asset(s, fam, k->src);
    if (named & ALERT_END_SERVER)
        push_asset(s, fam, k->dst);
}

/* Copy an offer: the flow may be reused and the evidence values borrowed
 * from it or from the DNS cache once the caller returns. NULL when out of
 * memory. */
static struct held *hold(const struct alert_flow *af, const struct sig_hit *hits, size_t n)
{
    struct held *h = calloc(1, sizeof(*h));
    size_t need = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < hits[i].n_ev; e++)
            need += strlen(hits[i].ev[e].value) + 1;
    if (h == NULL || (h->hits = calloc(n ? n : 1, sizeof(*hits))) == NULL ||
        (h->arena = malloc(need)) == NULL) {
        held_free(h);
        return NULL;
    }
    h->f = *af->fi->f;
    h->fi = *af->fi;
    flow_info_rebase(&h->fi, &h->f);
    h->af = *af;
    h->af.fi = &h->fi;
    h->n = n;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        h->hits[i] = hits[i];
        for (size_t e = 0; e < hits[i].n_ev; e++) {
            size_t len = strlen(hits[i].ev[e].value);
            memcpy(h->arena + off, hits[i].ev[e].value, len + 1);
            h->hits[i].ev[e].value = h->arena + off;
            off += len + 1;
        }
    }
    return h;
}

/* Append h to the held offers; -1 when out of memory (h not taken). */
static int held_push(struct alert_sink *s, struct held *h)
{
    if (s->n_held == s->cap_held) {
        size_t cap = s->cap_held ? s->cap_held * 2 : 64;
        struct held **v = realloc(s->held, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        s->held = v;
        s->cap_held = cap;
    }
    s->held[s->n_held++] = h;
    atomic_store_explicit(&s->n_pending, s->n_held, memory_order_relaxed);
    return 0;
}

void alert_sink_offer(struct alert_sink *s, const struct alert_flow *af, const struct sig_hit *hits,
                      size_t n)
{
    pthread_mutex_lock(&s->lock);
    if (!s->ordered) {
        offer_locked(s, af, hits, n);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    struct held *h = hold(af, hits, n);
    if (h == NULL || held_push(s, h) < 0) {
        held_free(h); /* no memory to hold it: decide now rather than lose it */
        offer_locked(s, af, hits, n);
    }
    pthread_mutex_unlock(&s->lock);
}

size_t alert_sink_pending(struct alert_sink *s)
{
    return atomic_load_explicit(&s->n_pending, memory_order_relaxed);
}

void alert_sink_set_ordered(struct alert_sink *s, bool on)
{
    s->ordered = on;
}

static int key_cmp(const struct flow_key *a, const struct flow_key *b)
{
    int c = memcmp(a->src, b->src, 16);
    if (c == 0)
        c = memcmp(a->dst, b->dst, 16);
    if (c == 0 && a->sport != b->sport)
        c = a->sport < b->sport ? -1 : 1;
    if (c == 0 && a->dport != b->dport)
        c = a->dport < b->dport ? -1 : 1;
    if (c == 0 && a->proto != b->proto)
        c = a->proto < b->proto ? -1 : 1;
    if (c == 0 && a->vlan != b->vlan)
        c = a->vlan < b->vlan ? -1 : 1;
    return c;
}

/* Stream order, then the flow (start time, then key), then the match
 * before the flow's end, then the signature. A restart comes after
 * everything at its position: the flows it ended are the previous
 * capture's. */
static int held_cmp(const void *a, const void *b)
{
    const struct held *x = *(struct held *const *)a, *y = *(struct held *const *)b;
    if (x->af.order != y->af.order)
        return x->af.order < y->af.order ? -1 : 1;
    if ((x->kind == HELD_RESTART) != (y->kind == HELD_RESTART))
        return x->kind == HELD_RESTART ? 1 : -1;
    if (x->f.first_us != y->f.first_us)
        return x->f.first_us < y->f.first_us ? -1 : 1;
    int c = key_cmp(&x->f.key, &y->f.key);
    if (c != 0)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    uint32_t sx = x->n ? x->hits[0].sig->index : 0, sy = y->n ? y->hits[0].sig->index : 0;
    return sx < sy ? -1 : sx > sy;
}

void alert_sink_release(struct alert_sink *s, uint64_t horizon)
{
    pthread_mutex_lock(&s->lock);
    if (s->n_held == 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    qsort(s->held, s->n_held, sizeof(*s->held), held_cmp);
    size_t i = 0;
    for (; i < s->n_held && s->held[i]->af.order < horizon; i++) {
        struct held *h = s->held[i];
        if (h->kind == HELD_OFFER)
            offer_locked(s, &h->af, h->hits, h->n);
        else if (h->kind == HELD_BYTES)
            flow_bytes_locked(s, &h->f, h->sig);
        else
            lru_map_clear(s->dedup);
        held_free(h);
    }
    memmove(s->held, s->held + i, (s->n_held - i) * sizeof(*s->held));
    s->n_held -= i;
    atomic_store_explicit(&s->n_pending, s->n_held, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
}

/* The bytes each end that sig names sent out of the network in f: the
 * client's when the server is outside, the server's when the client is. */
static void flow_bytes_locked(struct alert_sink *s, const struct flow *f,
                              const struct signature *sig)
{
    int fam = f->key.ipver == 6 ? 6 : 4;
    unsigned ends = alert_ends(sig, f);
    if ((ends & ALERT_END_CLIENT) && f->direction == FLOW_DIR_EGRESS) {
        assets_add_bytes(s->assets, fam, f->key.src, sig, f->bytes[FLOW_TOSERVER]);
        if (s->evidence)
            evidence_note_bytes(s->evidence, f, sig, f->bytes[FLOW_TOSERVER]);
        push_asset(s, fam, f->key.src);
    }
    if ((ends & ALERT_END_SERVER) && f->direction == FLOW_DIR_INGRESS) {
        assets_add_bytes(s->assets, fam, f->key.dst, sig, f->bytes[FLOW_TOCLIENT]);
        push_asset(s, fam, f->key.dst);
    }
}

void alert_sink_flow_bytes(struct alert_sink *s, const struct flow *f, const struct signature *sig,
                           uint64_t order)
{
    if (s->assets == NULL || sig == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    struct held *h = s->ordered ? calloc(1, sizeof(*h)) : NULL;
    if (h != NULL && held_push(s, h) == 0) {
        h->kind = HELD_BYTES;
        h->sig = sig;
        h->f = *f;
        h->fi.f = &h->f;
        h->af.fi = &h->fi;
        h->af.order = order;
    } else {
        free(h);
        flow_bytes_locked(s, f, sig);
    }
    pthread_mutex_unlock(&s->lock);
}

int alert_sink_reopen(struct alert_sink *s, char *errbuf, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (s->own_fp && out_lines_reopen(&s->fp, s->path, errbuf, errlen) < 0)
        rc = -1;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void alert_sink_restart(struct alert_sink *s, uint64_t order)
{
    pthread_mutex_lock(&s->lock);
    struct held *h = s->ordered ? calloc(1, sizeof(*h)) : NULL;
    if (h != NULL && held_push(s, h) == 0) {
        h->kind = HELD_RESTART;
        h->fi.f = &h->f;
        h->af.fi = &h->fi;
        h->af.order = order;
    } else {
        free(h);
        lru_map_clear(s->dedup);
    }
    pthread_mutex_unlock(&s->lock);
}

void alert_sink_stats(struct alert_sink *s, struct alert_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->st;
    pthread_mutex_unlock(&s->lock);
}

int alert_sink_locked(struct alert_sink *s, int (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&s->lock);
    int rc = fn(ud);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---------------------------------------------------------------- output */

/* The hit's evidence as the records write it. */
static void evidence_json(struct jw *w, const struct sig_hit *h)
{
    jw_array(w, "evidence");
    for (size_t i = 0; i < h->n_ev; i++) {
        const struct sig_evidence *e = &h->ev[i];
        jw_object(w, NULL);
        jw_str(w, "kind", sig_evidence_name(e->kind));
        jw_str(w, "value", e->value);
        jw_str(w, "pattern", e->pattern);
        jw_end_object(w);
    }
    jw_end_array(w);
}

size_t out_asset_format(const struct asset_rec *r, char *buf, size_t cap)
{
    const struct alert_flow *af = r->af;
    const struct signature *sig = r->hit->sig;
    char t[40];
    struct jw w;

    jw_init(&w, buf, cap);
    jw_object(&w, NULL);
    jw_format_time(af->ts_us, t, sizeof(t));
    jw_str(&w, "timestamp", t);
    jw_str(&w, "event_type", "asset");
    jw_u64(&w, "schema_version", OUT_SCHEMA_ASSET_EVENT);
    jw_str(&w, "asset_id", r->asset_id);
    jw_str(&w, "sensor", r->sensor);
    jw_str(&w, "asset_ip", r->host);
    out_json_flow_tuple(&w, af->fi);
    if (af->fi->dest_geo != NULL)
        out_json_geo(&w, "dest_geo", af->fi->dest_geo);
    if (af->fi->src_geo != NULL)
        out_json_geo(&w, "src_geo", af->fi->src_geo);

    jw_object(&w, "asset");
    jw_str(&w, "vendor", sig->vendor);
    jw_str(&w, "product", sig->product);
    jw_str(&w, "relation", sig_relation_name(sig->relation));
    jw_str(&w, "end", r->end == ALERT_END_CLIENT ? "client" : "server");
    jw_str(&w, "signature_id", sig->id);
    jw_str(&w, "category", sig_category_name(sig->category));
    jw_str(&w, "confidence", sig_confidence_name(r->hit->confidence));
    jw_str(&w, "source", sig->source);
    evidence_json(&w, r->hit);
    if (r->dev != NULL)
        assets_device_json(&w, r->dev);
    jw_end_object(&w);
    jw_end_object(&w);
    return jw_finish(&w);
}

size_t out_alert_format(const struct alert_rec *a, char *buf, size_t cap)
{
    const struct alert_flow *af = a->af;
    const struct flow *f = af->fi->f;
    const struct signature *sig = a->hit->sig;
    char t[40], sigtext[256];
    struct jw w;

    jw_init(&w, buf, cap);
    jw_object(&w, NULL);
    jw_format_time(af->ts_us, t, sizeof(t));
    jw_str(&w, "timestamp", t);
    jw_str(&w, "event_type", "alert");
    jw_u64(&w, "schema_version", OUT_SCHEMA_ALERT);
    jw_str(&w, "alert_id", a->alert_id);
    jw_str(&w, "sensor", a->sensor);
    out_json_flow_tuple(&w, af->fi);
    if (af->fi->dest_geo != NULL)
        out_json_geo(&w, "dest_geo", af->fi->dest_geo);

    jw_object(&w, "alert");
    jw_str(&w, "signature_id", sig->id);
    snprintf(sigtext, sizeof(sigtext), "%s %s %s%s%s", sig->vendor, sig->product,
             sig_category_name(sig->category), sig->note[0] ? ": " : "", sig->note);
    jw_str(&w, "signature", sigtext);
    jw_str(&w, "vendor", sig->vendor);
    jw_str(&w, "product", sig->product);
    jw_str(&w, "category", sig_category_name(sig->category));
    jw_str(&w, "severity", sig_severity_name(a->severity));
    jw_str(&w, "confidence", sig_confidence_name(a->hit->confidence));
    jw_str(&w, "source", sig->source);
    evidence_json(&w, a->hit);
    if (a->repeats)
        jw_u64(&w, "repeats_suppressed", a->repeats);
    if (a->dev != NULL)
        assets_device_json(&w, a->dev);
    jw_end_object(&w);

    jw_object(&w, "flow");
    jw_u64(&w, "pkts_toserver", f->pkts[FLOW_TOSERVER]);
    jw_u64(&w, "pkts_toclient", f->pkts[FLOW_TOCLIENT]);
    jw_u64(&w, "bytes_toserver", f->bytes[FLOW_TOSERVER]);
    jw_u64(&w, "bytes_toclient", f->bytes[FLOW_TOCLIENT]);
    jw_format_time(f->first_us, t, sizeof(t));
    jw_str(&w, "start", t);
    jw_end_object(&w);
    jw_end_object(&w);
    return jw_finish(&w);
}
