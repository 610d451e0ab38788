/* pipeline.c -- one worker's packet pipeline.
 *
 * Per packet: decode, attribute fragments, one flow lookup, counters, and
 * (only while the flow is unclassified) nDPI. What is known about a flow --
 * direction, geo, Community ID -- is settled once (enrich.h), when its
 * metadata is complete or when it ends, whichever is first; detection and
 * the flow record both read it. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "classify.h"
#include "alerts.h"
#include "config.h"
#include "detect.h"
#include "dns-cache.h"
#include "flow.h"
#include "frag.h"
#include "geo.h"
#include "enrich.h"
#include "ja4.h"
#include "output-json-flow.h"
#include "stats.h"
#include "signature.h"
#include "util.h"

struct pipeline {
    const struct sensor_config *cfg;
    const struct geo *geo;
    struct out_flows *out;
    struct flow_table *ft;
    struct frag_table *frags;
    struct classifier *cl;
    struct detector *det;
    struct alert_sink *sink;
    struct ja4_engine *ja4;
    uint64_t clock_us;       /* latest packet time seen */
    uint64_t next_expire_us; /* next expiry pass, packet time */
    uint64_t seq;            /* packets so far (own clock) */
    uint64_t order;          /* stream position now: PIPELINE_ORDER() */
    int ext_clock;           /* a dispatcher drives time and order */

    /* reading files: where each starts (pipeline_set_inputs()), and the
     * file of the current packet, index + 1 */
    const uint64_t *input_starts;
    const char *const *input_names;
    const atomic_uint *n_inputs;
    unsigned input;

    struct pipeline_stats st;
};

static void on_flow_end(struct flow *f, void *ud);

struct pipeline *pipeline_new(const struct sensor_config *cfg, const struct geo *geo,
                              struct out_flows *out, const struct sig_pack *pack,
                              struct alert_sink *sink, char *errbuf, size_t errlen)
{
    return pipeline_new_share(cfg, geo, out, pack, sink, 1, 1, errbuf, errlen);
}

/* parts/whole of n, rounded up, at least SHARE_MIN_FLOWS (or n if less). */
static uint32_t share_of(uint32_t n, unsigned parts, unsigned whole)
{
    uint64_t v = ((uint64_t)n * parts + whole - 1) / whole;
    uint32_t floor = n < SHARE_MIN_FLOWS ? n : SHARE_MIN_FLOWS;
    return v < floor ? floor : (uint32_t)v;
}

struct pipeline *pipeline_new_share(const struct sensor_config *cfg, const struct geo *geo,
                                    struct out_flows *out, const struct sig_pack *pack,
                                    struct alert_sink *sink, unsigned parts, unsigned whole,
                                    char *errbuf, size_t errlen)
{
    if (whole == 0 || parts > whole)
        parts = whole = 1;
    struct pipeline *pl = calloc(1, sizeof(*pl));
    if (pl == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    pl->cfg = cfg;
    pl->geo = geo;
    pl->out = out;

    /* each worker owns its share of the tables */
    struct flow_table_config fc = {.max_flows = share_of(cfg->max_flows, parts, whole)};
    fc.timeout[FLOW_TC_TCP] = cfg->timeout_tcp;
    fc.timeout[FLOW_TC_TCP_CLOSED] = cfg->timeout_tcp_closed;
    fc.timeout[FLOW_TC_UDP] = cfg->timeout_udp;
    fc.timeout[FLOW_TC_ICMP] = cfg->timeout_icmp;
    fc.timeout[FLOW_TC_OTHER] = cfg->timeout_other;
    pl->ft = flow_table_new(&fc, on_flow_end, pl);
    pl->frags = frag_table_new(share_of(cfg->max_fragments, parts, whole), FRAG_TIMEOUT_S);
    if (pl->ft == NULL || pl->frags == NULL) {
        snprintf(errbuf, errlen, "cannot allocate a flow table of %u flows", fc.max_flows);
        goto fail;
    }
    struct classify_config cc = {
        .max_packets_tcp = cfg->dpi_packets_tcp,
        .max_packets_udp = cfg->dpi_packets_udp,
        .max_packets_other = cfg->dpi_packets_other,
    };
    pl->cl = classify_new(&cc, errbuf, errlen);
    if (pl->cl == NULL)
        goto fail;
    pl->sink = sink;
    pl->det = detector_new(cfg, pack, sink, errbuf, errlen);
    if (pl->det == NULL)
        goto fail;
    if (cfg->flow_ja4) {
        pl->ja4 = ja4_new(share_of(JA4_POOL_BUFS, parts, whole), &pl->st.ja4, errbuf, errlen);
        if (pl->ja4 == NULL)
            goto fail;
    }
    return pl;

fail:
    pipeline_free(pl);
    return NULL;
}

void pipeline_free(struct pipeline *pl)
{
    if (pl == NULL)
        return;
    flow_table_free(pl->ft);
    frag_table_free(pl->frags);
    classify_free(pl->cl);
    detector_free(pl->det);
    ja4_free(pl->ja4);
    free(pl);
}

/* A reload's translation of the flows' strongest match from the old pack
 * to the new one, by signature id. */
struct remap {
    const struct sig_pack *from, *to;
    size_t kept, dropped;
};

static void remap_flow(struct flow *f, void *ud)
{
    struct remap *r = ud;
    if (f->sig_best == 0)
        return;
    const struct signature *old = sig_pack_get(r->from, f->sig_best - 1u);
    const struct signature *now = old != NULL ? sig_pack_find(r->to, old->id) : NULL;
    f->sig_best = now != NULL ? (uint16_t)(now->index + 1) : 0;
    if (now != NULL)
        r->kept++;
    else
        r->dropped++;
}

void pipeline_reconfigure(struct pipeline *pl, const struct sensor_config *cfg,
                          const struct sig_pack *pack)
{
    struct remap r = {detector_pack(pl->det), pack, 0, 0};
    if (r.from != pack)
        flow_table_foreach(pl->ft, remap_flow, &r);
    pl->cfg = cfg;
    detector_reconfigure(pl->det, pack);
}

void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
    flow_expire(pl->ft, now_us);
}

void pipeline_share_dns(struct pipeline *pl, struct dns_cache *c, pthread_mutex_t *lock)
{
    detector_share_dns(pl->det, c, lock);
}

void pipeline_set_dispatched(struct pipeline *pl)
{
    pl->ext_clock = 1;
}

static void set_order(struct pipeline *pl, uint64_t order)
{
    pl->order = order;
    detector_set_order(pl->det, order);
}

void pipeline_tick_at(struct pipeline *pl, uint64_t order, uint64_t now_us)
{
    set_order(pl, order);
    flow_expire(pl->ft, now_us);
}

void pipeline_dns_only(struct pipeline *pl, uint64_t ts_us, const struct packet *pkt)
{
    if (pkt->frag != PKT_FRAG_LATER)
        detector_dns(pl->det, pkt, ts_us, 0);
}

static void packet_count(struct pipeline *pl, uint64_t ts_us, size_t wirelen);
static void packet_ip(struct pipeline *pl, uint64_t ts_us, struct packet *pkt);

void pipeline_packet(struct pipeline *pl, int dlt, uint64_t ts_us, const uint8_t *frame,
                     size_t caplen, size_t wirelen)
{
    struct pipeline_stats *st = &pl->st;
    /* Flow time only moves forward; a capture with a step back in time is
     * clamped rather than expiring flows backwards. */
    if (ts_us < pl->clock_us) {
        st->time_backwards++;
        ts_us = pl->clock_us;
    }
    pl->seq++;
    if (!pl->ext_clock && ts_us >= pl->next_expire_us) {
        set_order(pl, PIPELINE_ORDER(pl->seq, 0));
        flow_expire(pl->ft, ts_us);
        pl->next_expire_us = ts_us + PIPELINE_EXPIRE_US;
    }
    set_order(pl, PIPELINE_ORDER(pl->seq, 1));
    packet_count(pl, ts_us, wirelen);
    struct packet pkt;
    if (decode_packet(dlt, frame, caplen, &pkt, &st->dec) == 0)
        packet_ip(pl, ts_us, &pkt);
    /* An ordered sink (reading files) holds what this packet raised until
     * the packet is done: alone, this pipeline can let it out now. */
    if (pl->sink != NULL && alert_sink_pending(pl->sink) != 0)
        alert_sink_release(pl->sink, pl->order + 1u);
}

void pipeline_set_inputs(struct pipeline *pl, const uint64_t *starts, const char *const *names,
                         const atomic_uint *n)
{
    pl->input_starts = starts;
    pl->input_names = names;
    detector_set_inputs(pl->det, names);
    pl->n_inputs = n;
}

/* The file (index + 1) of the packet being processed; 0 when live. Called
 * once per new flow; packets come in stream order, so the file only moves
 * forward. */
static uint32_t input_now(struct pipeline *pl)
{
    if (pl->input_starts == NULL)
        return 0;
    uint64_t seq = pl->order / 2u;
    unsigned n = atomic_load_explicit(pl->n_inputs, memory_order_acquire);
    if (pl->input == 0 && n > 0)
        pl->input = 1;
    while (pl->input < n && seq >= pl->input_starts[pl->input])
        pl->input++;
    return pl->input;
}

void pipeline_packet_at(struct pipeline *pl, uint64_t order, uint64_t ts_us, struct packet *pkt,
                        size_t wirelen)
{
    if (ts_us < pl->clock_us) /* the dispatcher clamps; this cannot happen */
        ts_us = pl->clock_us;
    set_order(pl, order);
    packet_count(pl, ts_us, wirelen);
    if (pkt != NULL)
        packet_ip(pl, ts_us, pkt);
}

/* Every frame, decoded or not: the packet counters and the clock. */
static void packet_count(struct pipeline *pl, uint64_t ts_us, size_t wirelen)
{
    struct pipeline_stats *st = &pl->st;
    st->packets++;
    st->bytes += wirelen;
    if (st->first_us == 0)
        st->first_us = ts_us;
    pl->clock_us = ts_us;
    st->last_us = ts_us;
}

/* A decoded IP packet: DNS answers, fragments, its flow, inspection. A
 * later fragment gets its datagram's ports in *pp. */
static void packet_ip(struct pipeline *pl, uint64_t ts_us, struct packet *pkt)
{
    struct pipeline_stats *st = &pl->st;
    st->ip_packets++;
    if (pkt->frag != PKT_FRAG_LATER)
        detector_dns(pl->det, pkt, ts_us, 1);
    if (pkt->frag == PKT_FRAG_FIRST)
        frag_note_first(pl->frags, pkt, ts_us);
    else if (pkt->frag == PKT_FRAG_LATER && frag_attribute(pl->frags, pkt, ts_us) < 0)
        return;

    struct flow_key k;
    flow_key_from_packet(&k, pkt);

    int dir;
    bool created;
    struct flow *f = flow_lookup_create(pl->ft, &k, ts_us, &dir, &created);
    if (f == NULL)
        return;
    if (pkt->l4proto == IPPROTO_TCP && !created && f->tclass == FLOW_TC_TCP_CLOSED &&
        (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        /* A new connection reusing the 5-tuple of a closed one. */
        flow_end(pl->ft, f,
                 (f->tcp_flags[0] | f->tcp_flags[1]) & TCP_RST ? FLOW_END_TCP_RST
                                                               : FLOW_END_TCP_FIN);
        f = flow_lookup_create(pl->ft, &k, ts_us, &dir, &created);
    }
    if (created) {
        f->icmp_type = pkt->icmp_type;
        f->icmp_code = pkt->icmp_code;
        f->input = input_now(pl);
        /* First packet is the server's SYN-ACK: the sender is the server. */
        if (pkt->l4proto == IPPROTO_TCP &&
            (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
            flow_swap(f);
            dir = FLOW_TOCLIENT;
        }
        detector_flow_new(pl->det, f, ts_us);
    }

    f->pkts[dir]++;
    f->bytes[dir] += pkt->ip_len;

    int tc = flow_tclass_of(pkt->l4proto);
    if (pkt->l4proto == IPPROTO_TCP) {
        f->tcp_flags[dir] |= pkt->tcp_flags;
        if (pkt->tcp_flags & TCP_FIN)
            f->fin_seen |= (uint8_t)(1u << dir);
        if ((pkt->tcp_flags & TCP_RST) || f->fin_seen == 3 || f->tclass == FLOW_TC_TCP_CLOSED)
            tc = FLOW_TC_TCP_CLOSED;
    }
    flow_touch(pl->ft, f, ts_us, tc);

    if (pkt->frag == PKT_FRAG_LATER)
        return;
    if (pl->ja4 != NULL)
        ja4_packet(pl->ja4, f, pkt, dir);
    classify_packet(pl->cl, f, pkt, ts_us / 1000u);
    detector_packet(pl->det, f, pkt, dir, ts_us);
    if (detector_ready(f)) {
        flow_enrich(f, pl->cfg->home_net, pl->geo);
        detector_flow(pl->det, f, pl->cl, ts_us);
    }
}

void pipeline_flush(struct pipeline *pl)
{
    set_order(pl, PIPELINE_ORDER_EOF);
    flow_flush(pl->ft, FLOW_END_EOF);
}

int pipeline_restart(struct pipeline *pl, uint64_t order, char *errbuf, size_t errlen)
{
    set_order(pl, order);
    flow_flush(pl->ft, FLOW_END_EOF);
    frag_table_clear(pl->frags);
    detector_restart(pl->det);
    pl->clock_us = 0;
    pl->next_expire_us = 0;
    return classify_restart(pl->cl, errbuf, errlen);
}

uint64_t pipeline_next_order(const struct pipeline *pl)
{
    return PIPELINE_ORDER(pl->seq + 1u, 0);
}

static struct app_tally *app_slot(struct pipeline_stats *st, uint32_t key)
{
    uint32_t h = (key * 2654435761u) & (STATS_APP_SLOTS - 1);
    for (uint32_t i = 0; i < STATS_APP_SLOTS; i++) {
        struct app_tally *a = &st->apps[(h + i) & (STATS_APP_SLOTS - 1)];
        if (!a->used || a->key == key)
            return a;
    }
    return NULL;
}

static struct as_tally *as_slot(struct pipeline_stats *st, uint32_t asn)
{
    uint32_t h = (asn * 2654435761u) & (STATS_AS_SLOTS - 1);
    for (uint32_t i = 0; i < STATS_AS_SLOTS; i++) {
        struct as_tally *a = &st->ases[(h + i) & (STATS_AS_SLOTS - 1)];
        if (a->asn == 0 || a->asn == asn)
            return a;
    }
    return NULL;
}

/* Egress flows to asn (0: unknown) sent out bytes. */
static void as_add(struct pipeline_stats *st, uint32_t asn, const char *org, uint8_t org_len,
                   uint64_t flows, uint64_t out)
{
    struct as_tally *a = asn ? as_slot(st, asn) : NULL;
    if (asn == 0) {
        st->unknown_as_flows += flows;
        st->unknown_as_bytes_out += out;
    } else if (a == NULL) {
        st->as_overflow_flows += flows;
        st->as_overflow_bytes_out += out;
    } else {
        if (a->asn == 0) {
            a->asn = asn;
            a->org = org;
            a->org_len = org_len;
        }
        a->flows += flows;
        a->bytes_out += out;
    }
}

static int country_index(const char *cc)
{
    if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
        return -1;
    return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

/* Once per flow: settle the label and the facts, detect, tally, write
 * the record. */
static void on_flow_end(struct flow *f, void *ud)
{
    struct pipeline *pl = ud;
    struct pipeline_stats *st = &pl->st;
    struct flow_info fi;

    classify_finish(pl->cl, f);
    if (pl->ja4 != NULL)
        ja4_flow_end(pl->ja4, f);
    flow_enrich(f, pl->cfg->home_net, pl->geo);
    detector_flow_end(pl->det, f, pl->cl);
    flow_info_fill(&fi, f, pl->cl);
    flow_info_set_input(&fi, pl->input_names);
    st->flows_by_dir[f->direction]++;

    /* bytes leaving home_net */
    uint64_t out = 0;
    if (f->direction == FLOW_DIR_EGRESS)
        out = f->bytes[FLOW_TOSERVER];
    else if (f->direction == FLOW_DIR_INGRESS)
        out = f->bytes[FLOW_TOCLIENT];
    st->bytes_out += out;

    uint32_t key = (uint32_t)f->master_proto << 16 | f->app_proto;
    struct app_tally *a = app_slot(st, key);
    if (a != NULL) {
        if (!a->used) {
            a->used = 1;
            a->key = key;
            snprintf(a->name, sizeof(a->name), "%s", fi.app);
        }
        a->flows++;
        a->bytes += f->bytes[0] + f->bytes[1];
        a->bytes_out += out;
    } else {
        st->app_overflow++;
    }
    if (f->direction == FLOW_DIR_EGRESS) {
        int ci = country_index(f->dst_geo.country);
        if (ci >= 0) {
            st->country_bytes_out[ci] += out;
            st->country_flows[ci]++;
        } else {
            st->unknown_country_bytes_out += out;
        }
        as_add(st, f->dst_geo.asn, f->dst_geo.as_org, f->dst_geo.as_org_len, 1, out);
    }

    if (pl->out != NULL)
        out_flows_write(pl->out, &fi);
}

#define DIR(i, n)                                                                                  \
    CTR_ELEM(struct pipeline_stats, flows_by_dir, i, "flows.direction", "direction", n,            \
             CTR_COUNTER, "flows ended, by direction relative to home_net")
static const struct ctr_desc pipeline_desc[] = {
    PIPELINE_COUNTERS(CTR_DESC, struct pipeline_stats) DIR(FLOW_DIR_EGRESS, "egress")
        DIR(FLOW_DIR_INGRESS, "ingress") DIR(FLOW_DIR_INTERNAL, "internal")
            DIR(FLOW_DIR_EXTERNAL, "external")};
#undef DIR
const struct ctr_table pipeline_counters = {pipeline_desc, ARRAY_SIZE(pipeline_desc)};

void pipeline_stats_add(struct pipeline_stats *dst, const struct pipeline_stats *src)
{
    ctr_add(&pipeline_counters, dst, src);
    ctr_add(&decode_counters, &dst->dec, &src->dec);
    ctr_add(&ja4_counters, &dst->ja4, &src->ja4);
    if (src->first_us != 0 && (dst->first_us == 0 || src->first_us < dst->first_us))
        dst->first_us = src->first_us;
    if (src->last_us > dst->last_us)
        dst->last_us = src->last_us;
    for (size_t i = 0; i < 26 * 26; i++) {
        dst->country_bytes_out[i] += src->country_bytes_out[i];
        dst->country_flows[i] += src->country_flows[i];
    }
    for (size_t i = 0; i < STATS_AS_SLOTS; i++) {
        const struct as_tally *a = &src->ases[i];
        if (a->asn != 0)
            as_add(dst, a->asn, a->org, a->org_len, a->flows, a->bytes_out);
    }
    for (size_t i = 0; i < STATS_APP_SLOTS; i++) {
        const struct app_tally *a = &src->apps[i];
        if (!a->used)
            continue;
        struct app_tally *d = app_slot(dst, a->key);
        if (d == NULL) {
            dst->app_overflow += a->flows;
            continue;
        }
        if (!d->used)
            *d = (struct app_tally){.key = a->key, .used = 1};
        if (d->name[0] == '\0')
            memcpy(d->name, a->name, sizeof(d->name));
        d->flows += a->flows;
        d->bytes += a->bytes;
        d->bytes_out += a->bytes_out;
    }
}

void pipeline_counters_add(const struct pipeline *pl, struct run_counters *rc)
{
    pipeline_stats_add(&rc->ps, &pl->st);
    ctr_add(&flow_table_counters, &rc->ft, flow_table_stats(pl->ft));
    ctr_add(&classify_counters, &rc->cl, classify_stats(pl->cl));
    ctr_add(&frag_counters, &rc->fr, frag_table_stats(pl->frags));
    ctr_add(&detect_counters, &rc->det, detector_stats(pl->det));
    const struct dns_cache *dns = detector_dns_cache(pl->det);
    if (dns != NULL) /* a cache shared with other workers is counted by its owner */
        ctr_add(&dns_cache_counters, &rc->dns, dns_cache_stats(dns));
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pl)
{
    return &pl->st;
}

const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pl)
{
    return flow_table_stats(pl->ft);
}

size_t pipeline_bytes_per_flow(const struct pipeline *pl)
{
    return flow_bytes_per_flow(pl->ft);
}
