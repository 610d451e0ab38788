/* classify.c -- nDPI classification of flows, state held only while classifying.
 *
 * The packet budget and the stop rule follow ndpiReader's (nDPI's reference
 * reader) so labels agree with it: a flow is inspected until nDPI names an
 * application and has no extra dissection pending (certificate, server
 * hello...), or until it has seen more than the budget of packets; an
 * unlabelled flow is then settled by ndpi_detection_giveup() with guessing.
 *
 * nDPI flow structures come from a free list: once the pool has grown to the
 * number of flows classified at the same time, classification allocates
 * nothing of its own (nDPI's dissectors may still allocate internally). */
#include "classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "decode.h"
#include "ndpi-caches.h"
#include "flow.h"
#include "util.h"

static const struct ctr_desc classify_desc[] = {CLASSIFY_COUNTERS(CTR_DESC, struct classify_stats)};
const struct ctr_table classify_counters = {classify_desc, ARRAY_SIZE(classify_desc)};

/* A free nDPI flow structure; the link overlays its first bytes. */
struct dpi_free {
    struct dpi_free *next;
};

struct classifier {
    struct ndpi_detection_module_struct *mod;
    struct classify_config cfg;
    struct dpi_free *pool;
    struct classify_stats st;
};

/* A detection module with every protocol on; NULL on failure. */
static struct ndpi_detection_module_struct *module_new(void)
{
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m == NULL)
        return NULL;
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(m, &all);
    ndpi_finalize_initialization(m);
    return m;
}

struct classifier *classify_new(const struct classify_config *cfg, char *errbuf, size_t errlen)
{
    struct classifier *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->mod = module_new();
    if (c->mod == NULL) {
        snprintf(errbuf, errlen, "nDPI: cannot initialise the detection module");
        free(c);
        return NULL;
    }
    return c;
}

int classify_restart(struct classifier *c, char *errbuf, size_t errlen)
{
    if (ndpi_caches_reset(c->mod) == 0)
        return 0;
    struct ndpi_detection_module_struct *fresh = module_new(); /* about 10 ms */
    if (fresh == NULL) {
        snprintf(errbuf, errlen, "nDPI: cannot initialise the detection module");
        return -1;
    }
    ndpi_exit_detection_module(c->mod);
    c->mod = fresh;
    return 0;
}

void classify_free(struct classifier *c)
{
    if (c == NULL)
        return;
    while (c->pool) {
        struct dpi_free *n = c->pool->next;
        ndpi_flow_free(c->pool);
        c->pool = n;
    }
    if (c->mod)
        ndpi_exit_detection_module(c->mod);
    free(c);
}

static struct ndpi_flow_struct *dpi_get(struct classifier *c)
{
    void *p;
    if (c->pool) {
        p = c->pool;
        c->pool = c->pool->next;
    } else {
        p = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
        if (p == NULL)
            return NULL;
    }
    memset(p, 0, SIZEOF_FLOW_STRUCT);
    return p;
}

static void dpi_put(struct classifier *c, struct ndpi_flow_struct *d)
{
    ndpi_free_flow_data(d);
    /* nDPI leaves the freed pointers in place; clear them so the final
     * ndpi_flow_free() in classify_free() frees nothing twice. */
    memset(d, 0, SIZEOF_FLOW_STRUCT);
    struct dpi_free *fr = (struct dpi_free *)(void *)d;
    fr->next = c->pool;
    c->pool = fr;
}

static int is_proto(const struct flow *f, uint16_t id)
{
    return f->master_proto == id || f->app_proto == id;
}

int classify_is(const struct flow *f, int family)
{
    switch (family) {
    case CLASSIFY_IS_TLS:
        return is_proto(f, NDPI_PROTOCOL_TLS) || is_proto(f, NDPI_PROTOCOL_DTLS);
    case CLASSIFY_IS_QUIC:
        return is_proto(f, NDPI_PROTOCOL_QUIC);
    case CLASSIFY_IS_HTTP:
        return is_proto(f, NDPI_PROTOCOL_HTTP) || is_proto(f, NDPI_PROTOCOL_HTTP_CONNECT) ||
               is_proto(f, NDPI_PROTOCOL_HTTP_PROXY);
    case CLASSIFY_IS_DNS:
        return is_proto(f, NDPI_PROTOCOL_DNS);
    default:
        return 0;
    }
}

/* Copy what the flow keeps out of nDPI's state, then release the state. */
static void settle(struct classifier *c, struct flow *f, ndpi_protocol p, int give_up)
{
    struct ndpi_flow_struct *d = f->dpi;

    if (give_up) {
        uint8_t guessed = 0;
        p = ndpi_detection_giveup(c->mod, d, 1, &guessed);
        c->st.gave_up++;
        if (guessed) {
            c->st.guessed++;
            f->flags |= FLOW_F_GUESSED;
        }
    } else {
        c->st.classified++;
    }
    f->master_proto = p.master_protocol;
    f->app_proto = p.app_protocol;
    f->category = (uint16_t)p.category;
    f->risk = d->risk;

    flow_meta_set(f, FLOW_META_HOST, d->host_server_name);
    if (d->http.user_agent)
        flow_meta_set(f, FLOW_META_UA, d->http.user_agent);
    if (d->http.url) {
        /* nDPI keeps Host + path, or the whole URL when sent to a proxy. */
        const char *u = d->http.url;
        if (strncmp(u, "http://", 7) == 0)
            u += 7;
        const char *path = strchr(u, '/');
        if (path != NULL)
            flow_meta_set(f, FLOW_META_PATH, path);
    }
    if (classify_is(f, CLASSIFY_IS_TLS) || classify_is(f, CLASSIFY_IS_QUIC)) {
        flow_fp_set_ja3(f, 0, d->protos.tls_quic.ja3_client);
        flow_fp_set_ja3(f, 1, d->protos.tls_quic.ja3_server);
        flow_meta_set(f, FLOW_META_ALPN, d->protos.tls_quic.alpn);
        flow_meta_set(f, FLOW_META_SUBJECT, d->protos.tls_quic.subjectDN);
        flow_meta_set(f, FLOW_META_ISSUER, d->protos.tls_quic.issuerDN);
    }

    dpi_put(c, d);
    f->dpi = NULL;
    f->dpi_state = FLOW_DPI_DONE;
    c->st.dpi_active--;
}

void classify_packet(struct classifier *c, struct flow *f, const struct packet *pkt,
                     uint64_t time_ms)
{
    if (f->dpi_state == FLOW_DPI_DONE)
        return;
    if (f->dpi_state == FLOW_DPI_NEW) {
        f->dpi = dpi_get(c);
        if (f->dpi == NULL) {
            c->st.dpi_alloc_fail++;
            f->dpi_state = FLOW_DPI_DONE;
            return;
        }
        f->dpi_state = FLOW_DPI_ACTIVE;
        if (++c->st.dpi_active > c->st.dpi_active_peak)
            c->st.dpi_active_peak = c->st.dpi_active;
    }

    size_t len = pkt->l3_len > 65535 ? 65535 : pkt->l3_len;
    ndpi_protocol p =
        ndpi_detection_process_packet(c->mod, f->dpi, pkt->l3, (unsigned short)len, time_ms);
    c->st.dpi_packets++;
    f->dpi_pkts++;

    uint32_t budget = pkt->l4proto == IPPROTO_TCP   ? c->cfg.max_packets_tcp
                      : pkt->l4proto == IPPROTO_UDP ? c->cfg.max_packets_udp
                                                    : c->cfg.max_packets_other;
    int enough = f->dpi_pkts > budget;
    if (!enough && p.app_protocol == NDPI_PROTOCOL_UNKNOWN)
        return;
    if (!enough && ndpi_extra_dissection_possible(c->mod, f->dpi))
        return; /* labelled, but more metadata may follow */
    settle(c, f, p, p.app_protocol == NDPI_PROTOCOL_UNKNOWN);
}

void classify_finish(struct classifier *c, struct flow *f)
{
    if (f->dpi_state != FLOW_DPI_ACTIVE)
        return;
    /* As the reference reader does at the end of a flow: give up, which
     * keeps a label already found and guesses a missing one. */
    ndpi_protocol p = {NDPI_PROTOCOL_UNKNOWN, NDPI_PROTOCOL_UNKNOWN,
                       NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
    settle(c, f, p, 1);
}

const char *classify_app_name(const struct classifier *c, const struct flow *f, char *buf,
                              size_t len)
{
    ndpi_protocol p = {f->master_proto, f->app_proto, (ndpi_protocol_category_t)f->category};
    ndpi_protocol2name(c->mod, p, buf, (u_int)len);
    return buf;
}

/* nDPI's name of protocol id, "" when unknown. */
static const char *proto_name(const struct classifier *c, uint16_t id)
{
    if (id == NDPI_PROTOCOL_UNKNOWN)
        return "";
    const char *n = ndpi_get_proto_name(c->mod, id);
    return n != NULL ? n : "";
}

void classify_app_parts(const struct classifier *c, const struct flow *f, const char **master,
                        const char **app)
{
    uint16_t m = f->master_proto, a = f->app_proto;
    if (m == NDPI_PROTOCOL_UNKNOWN || m == a) { /* a one-part label */
        m = a;
        a = NDPI_PROTOCOL_UNKNOWN;
    }
    *master = proto_name(c, m);
    *app = proto_name(c, a);
}

size_t classify_risk_names(uint64_t mask, const char **names, size_t max)
{
    size_t n = 0;
    for (int r = 1; r < NDPI_MAX_RISK && r < 64 && n < max; r++)
        if (mask & (1ull << r))
            names[n++] = ndpi_risk2str((ndpi_risk_enum)r);
    return n;
}

const struct classify_stats *classify_stats(const struct classifier *c)
{
    return &c->st;
}

const char *classify_ndpi_version(void)
{
    return ndpi_revision();
}
