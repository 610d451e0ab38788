/* detect.c -- vendor dissectors, DNS answers into the cache, one signature
 * match per flow, in every direction. */
#include "detect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "alerts.h"
#include "classify.h"
#include "config.h"
#include "decode.h"
#include "dissector.h"
#include "dns-cache.h"
#include "dns.h"
#include "flow.h"
#include "enrich.h"
#include "signature.h"
#include "util.h"

static const struct ctr_desc detect_desc[] = {DETECT_COUNTERS(CTR_DESC, struct detect_stats)};
const struct ctr_table detect_counters = {detect_desc, ARRAY_SIZE(detect_desc)};

#define DETECT_MAX_HITS 8

struct detector {
    const struct sig_pack *pack;
    struct alert_sink *sink;
    struct dns_cache *dns;
    struct dns_cache *own_dns;      /* NULL while sharing another's */
    pthread_mutex_t *dns_lock;      /* taken around the cache when shared */
    uint64_t order;                 /* position in the packet stream (alerts.h) */
    const char *const *input_names; /* reading files: the run's inputs */
    struct detect_stats st;
};

struct detector *detector_new(const struct sensor_config *cfg, const struct sig_pack *pack,
                              struct alert_sink *sink, char *errbuf, size_t errlen)
{
    struct detector *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    d->pack = pack;
    d->sink = sink;
    d->dns = d->own_dns = dns_cache_new(cfg->dns_cache_size, cfg->dns_min_ttl, cfg->dns_max_ttl);
    if (d->dns == NULL) {
        snprintf(errbuf, errlen, "cannot allocate a DNS cache of %u entries", cfg->dns_cache_size);
        free(d);
        return NULL;
    }
    return d;
}

void detector_free(struct detector *d)
{
    if (d == NULL)
        return;
    dns_cache_free(d->own_dns);
    free(d);
}

void detector_share_dns(struct detector *d, struct dns_cache *c, pthread_mutex_t *lock)
{
    dns_cache_free(d->own_dns);
    d->own_dns = NULL;
    d->dns = c;
    d->dns_lock = lock;
}

void detector_reconfigure(struct detector *d, const struct sig_pack *pack)
{
    d->pack = pack;
}

const struct sig_pack *detector_pack(const struct detector *d)
{
    return d->pack;
}

void detector_set_inputs(struct detector *d, const char *const *names)
{
    d->input_names = names;
}

void detector_set_order(struct detector *d, uint64_t order)
{
    d->order = order;
}

/* The name client resolved to addr, copied into buf (another worker may
 * replace the entry as soon as the lock is dropped), or NULL. */
static const char *dns_lookup(struct detector *d, const struct flow_key *k, uint64_t ts_us,
                              char *buf, size_t len)
{
    int af = k->ipver == 6 ? 6 : 4;
    if (d->dns_lock)
        pthread_mutex_lock(d->dns_lock);
    const char *name = dns_cache_get(d->dns, af, k->src, af, k->dst, ts_us);
    if (name != NULL)
        snprintf(buf, len, "%s", name);
    if (d->dns_lock)
        pthread_mutex_unlock(d->dns_lock);
    return name != NULL ? buf : NULL;
}

/* Longer names are not kept with the flow: the metadata buffer is small and
 * the cache is asked again when the flow is matched. */
#define DNSNAME_KEEP_MAX 128
#define DNS_NAME_BUF 256

void detector_flow_new(struct detector *d, struct flow *f, uint64_t ts_us)
{
    const struct flow_key *k = &f->key;
    if (d->pack == NULL || (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
        return;
    f->dis_mask = dis_interest(k->proto, k->dport);
    char buf[DNS_NAME_BUF];
    const char *name = dns_lookup(d, k, ts_us, buf, sizeof(buf));
    if (name != NULL && strlen(name) < DNSNAME_KEEP_MAX)
        flow_meta_set(f, FLOW_META_DNSNAME, name);
}

struct dns_ctx {
    struct detector *d;
    const struct packet *pkt;
    uint64_t ts_us;
    int count;
};

static void on_binding(const char *name, int af, const uint8_t *addr, uint32_t ttl, void *ud)
{
    struct dns_ctx *c = ud;
    const struct packet *p = c->pkt; /* the answer goes to the client */
    dns_cache_put(c->d->dns, p->ipver == 6 ? 6 : 4, p->dst, af, addr, name, ttl, c->ts_us);
    if (c->count)
        c->d->st.dns_bindings++;
}

void detector_dns(struct detector *d, const struct packet *pkt, uint64_t ts_us, int count)
{
    if (d->pack == NULL || pkt->l4proto != IPPROTO_UDP || pkt->sport != 53 || pkt->payload_len == 0)
        return;
    struct dns_ctx c = {d, pkt, ts_us, count};
    if (count)
        d->st.dns_responses++;
    if (d->dns_lock)
        pthread_mutex_lock(d->dns_lock);
    int r = dis_dns_parse_response(pkt->payload, pkt->payload_len, on_binding, &c);
    if (d->dns_lock)
        pthread_mutex_unlock(d->dns_lock);
    if (count && (r == DNS_TRUNCATED || r == DNS_INVALID))
        d->st.dns_bad++;
}

static void run_dissectors(struct detector *d, struct flow *f, const struct packet *pkt, int dir)
{
    char detail[DIS_DETAIL_MAX];
    detail[0] = '\0';
    struct dis_packet dp = {
        .detail = detail,
        .detail_len = sizeof(detail),
        .payload = pkt->payload,
        .len = pkt->payload_len,
        .proto = f->key.proto,
        .to_server = dir == FLOW_TOSERVER,
        .sport = f->key.sport,
        .dport = f->key.dport,
        .index = f->dis_pkts,
    };
    d->st.dis_packets++;
    for (size_t i = 0; i < dis_registry_len && f->dis_mask; i++) {
        if (!(f->dis_mask & (1u << i)))
            continue;
        const struct dissector *ds = dis_registry[i];
        int r = ds->dissect(&dp);
        if (r == DIS_MATCH) {
            f->dis_verdict = (uint8_t)(i + 1);
            if (detail[0])
                flow_meta_set(f, FLOW_META_DETAIL, detail);
            f->dis_mask = 0;
            d->st.dis_verdicts++;
            break;
        }
        if (r == DIS_NOT_MINE || (uint32_t)f->dis_pkts + 1 >= ds->max_packets)
            f->dis_mask &= ~(1u << i);
    }
    if (f->dis_pkts < 255)
        f->dis_pkts++;
}

void detector_packet(struct detector *d, struct flow *f, const struct packet *pkt, int dir,
                     uint64_t ts_us)
{
    (void)ts_us;
    if (pkt->payload_len == 0)
        return;
    if (f->dis_mask)
        run_dissectors(d, f, pkt, dir);
}

int detector_ready(const struct flow *f)
{
    return !(f->flags & FLOW_F_DETECTED) && f->dpi_state == FLOW_DPI_DONE && f->dis_mask == 0;
}

void detector_flow(struct detector *d, struct flow *f, const struct classifier *cl, uint64_t ts_us)
{
    if (f->flags & FLOW_F_DETECTED)
        return;
    f->flags |= FLOW_F_DETECTED;
    if (d->pack == NULL)
        return;

    const struct flow_key *k = &f->key;
    const char *host = flow_meta_get(f, FLOW_META_HOST);
    int tls = classify_is(f, CLASSIFY_IS_TLS), quic = classify_is(f, CLASSIFY_IS_QUIC);
    int http = classify_is(f, CLASSIFY_IS_HTTP);
    const char *dns_name = flow_meta_get(f, FLOW_META_DNSNAME);
    char dns_buf[DNS_NAME_BUF], ja3[FLOW_JA3_TEXT], ja3s[FLOW_JA3_TEXT], ja4[FLOW_JA4_TEXT];
    if (dns_name[0] == '\0')
        dns_name = dns_lookup(d, k, ts_us, dns_buf, sizeof(dns_buf));
    const char *verdict = f->dis_verdict ? dis_registry[f->dis_verdict - 1]->name : NULL;
    const char *app_master = "", *app = "";
    if (cl != NULL)
        classify_app_parts(cl, f, &app_master, &app);
    struct sig_flow in = {
        .ipver = k->ipver,
        .proto = k->proto,
        .dport = k->dport,
        .daddr = k->dst,
        .asn = f->dst_geo.asn,
        .tls_sni = tls ? host : "",
        .quic_sni = quic ? host : "",
        .http_host = http ? host : "",
        .http_path = flow_meta_get(f, FLOW_META_PATH),
        .http_ua = flow_meta_get(f, FLOW_META_UA),
        .dns_name = dns_name ? dns_name : "",
        .cert_subject = flow_meta_get(f, FLOW_META_SUBJECT),
        .cert_issuer = flow_meta_get(f, FLOW_META_ISSUER),
        .ja3 = flow_fp_ja3(f, 0, ja3),
        .ja4 = flow_fp_ja4(f, ja4),
        .ja3s = flow_fp_ja3(f, 1, ja3s),
        .app_master = app_master,
        .app = app,
        .app_guessed = (f->flags & FLOW_F_GUESSED) != 0,
        .verdicts = verdict ? &verdict : NULL,
        .n_verdicts = verdict ? 1 : 0,
    };
    struct sig_hit hits[DETECT_MAX_HITS];
    d->st.flows_matched++;
    size_t n = sig_match(d->pack, &in, hits, DETECT_MAX_HITS);
    if (n == 0)
        return;
    if (n > DETECT_MAX_HITS)
        n = DETECT_MAX_HITS;
    d->st.flows_hit++;
    /* Only the hits that name an internal end of the flow go on: a
     * partner's FortiGate that a laptop connects to names nothing here. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (alert_ends(hits[i].sig, f) != 0) {
            if (kept != i)
                sig_hit_copy(&hits[kept], &hits[i]);
            kept++;
        }
    if (kept == 0)
        return;
    d->st.flows_identified++;
    f->sig_best = (uint16_t)(hits[0].sig->index + 1);
    if (d->sink == NULL)
        return;

    struct flow_info fi;
    flow_info_fill(&fi, f, cl);
    flow_info_set_input(&fi, d->input_names);
    struct alert_flow alf = {.fi = &fi, .ts_us = ts_us, .order = d->order};
    alert_sink_offer(d->sink, &alf, hits, kept);
}

void detector_flow_end(struct detector *d, struct flow *f, const struct classifier *cl)
{
    f->dis_mask = 0; /* dissectors still undecided: no verdict */
    detector_flow(d, f, cl, f->last_us);
    if (f->sig_best && d->sink != NULL)
        alert_sink_flow_bytes(d->sink, f, sig_pack_get(d->pack, f->sig_best - 1u), d->order);
}

void detector_restart(struct detector *d)
{
    if (d->own_dns != NULL)
        dns_cache_clear(d->own_dns);
}

const struct detect_stats *detector_stats(const struct detector *d)
{
    return &d->st;
}

const struct dns_cache *detector_dns_cache(const struct detector *d)
{
    return d->own_dns;
}
