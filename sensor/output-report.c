/* output-report.c -- the HTML report: the data document and the page.
 *
 * The data document (sensor/report/report-data.schema.json) is built with
 * jansson from what the run already has: the end-of-run figures (stats.h),
 * the asset inventory, the evidence the alert sink kept (evidence.h), the
 * configuration, the signature pack and the geo databases. Nothing here is
 * computed from another output's text. Times are UTC, RFC 3339
 * ("2023-11-14T22:13:20.123456Z"). */
#include "output-report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "assets.h"
#include "classify.h"
#include "config.h"
#include "decode.h"
#include "device.h"
#include "evidence.h"
#include "flow.h"
#include "geo.h"
#include "output-json-flow.h"
#include "output-json.h"
#include "pipeline.h"
#include "run.h"
#include "signature.h"
#include "source-pcap-file.h"
#include "stats.h"

/* Buckets of the report's timeline at most (the evidence keeps as many per
 * product; products active at different times share the axis). */
#define REPORT_MAX_BUCKETS EVIDENCE_BUCKETS

/* ---------------------------------------------------------------- values */

static json_t *jstr(const char *s)
{
    return jw_json_string(s != NULL ? s : "");
}

/* A name borrowed from a geo database: len bytes, not NUL-terminated. */
static json_t *jstrn(const char *s, size_t len)
{
    char buf[256];
    if (s == NULL)
        len = 0;
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, s != NULL ? s : "", len);
    buf[len] = '\0';
    return jstr(buf);
}

static json_t *ju64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *out_report_time(uint64_t us)
{
    char buf[80];
    struct tm tm;
    time_t t = (time_t)(us / 1000000u);
    if (us == 0 || gmtime_r(&t, &tm) == NULL)
        return json_null();
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(us % 1000000u));
    return json_string(buf);
}

static json_t *jtime(uint64_t us)
{
    return out_report_time(us);
}

static json_t *jip(int af, const uint8_t *addr)
{
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(af == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf)) == NULL)
        buf[0] = '\0';
    return json_string(buf);
}

static json_t *jcc(const char cc[2])
{
    char buf[3] = {cc[0], cc[1], '\0'};
    return jstr(buf);
}

static void set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

/* ---------------------------------------------------------------- inputs */

static const char *input_status(int status)
{
    return status == SRC_FILE_OK          ? "read"
           : status == SRC_FILE_TRUNCATED ? "truncated"
           : status == SRC_FILE_DAMAGED   ? "damaged"
                                          : "failed";
}

static json_t *run_section(const struct out_report_src *src)
{
    const struct run_report *rep = src->rep;
    const struct pipeline_stats *ps = &rep->c->ps;
    json_t *run = json_object();

    set(run, "mode", json_string(rep->n_ifaces > 0 ? "live" : "offline"));
    json_t *inputs = json_array();
    for (unsigned i = 0; rep->inputs != NULL && i < rep->n_inputs; i++) {
        const struct run_input *in = &rep->inputs[i];
        json_t *o = json_object();
        set(o, "path", jstr(in->path));
        set(o, "name", jstr(strcmp(in->path, "-") == 0 ? "(standard input)" : base_name(in->path)));
        set(o, "status", json_string(input_status(in->status)));
        set(o, "packets", ju64(in->packets));
        set(o, "bytes", ju64(in->bytes));
        set(o, "first_seen", jtime(in->first_us));
        set(o, "last_seen", jtime(in->last_us));
        json_array_append_new(inputs, o);
    }
    set(run, "inputs", inputs);
    json_t *ifaces = json_array();
    for (unsigned i = 0; i < rep->n_ifaces; i++)
        json_array_append_new(ifaces, jstr(rep->ifaces[i]));
    set(run, "interfaces", ifaces);
    set(run, "first_seen", jtime(ps->first_us));
    set(run, "last_seen", jtime(ps->last_us));
    set(run, "packets", ju64(ps->packets));
    set(run, "bytes", ju64(ps->bytes));
    uint64_t malformed = 0;
    for (int i = 0; i < DEC_MAX; i++)
        if (i != DEC_NOT_IP)
            malformed += ps->dec.ctr[i];
    set(run, "malformed_packets", ju64(malformed));
    set(run, "flows", ju64(rep->c->ft.created));
    json_t *dir = json_object();
    for (int i = 0; i < FLOW_DIR_MAX; i++)
        set(dir, flow_direction_name(i), ju64(ps->flows_by_dir[i]));
    set(run, "flows_by_direction", dir);
    set(run, "bytes_out", ju64(ps->bytes_out));
    set(run, "alerts", ju64(rep->c->al.alerts));
    set(run, "alerts_suppressed", ju64(rep->c->al.suppressed));
    json_t *sev = json_object();
    for (int i = SIG_SEV_MAX; i-- > 0;)
        set(sev, sig_severity_name(i), ju64(rep->c->al.by_severity[i]));
    set(run, "alerts_by_severity", sev);
    set(run, "files_read", ju64(rep->files_read));
    set(run, "files_truncated", ju64(rep->files_truncated));
    set(run, "files_damaged", ju64(rep->files_damaged));
    set(run, "files_failed", ju64(rep->files_failed));
    set(run, "elapsed_s", json_real(rep->elapsed_s));
    set(run, "workers", ju64(rep->workers ? rep->workers : 1));
    if (rep->n_ifaces > 0) {
        set(run, "capture_drops", ju64(rep->c->cap.drops));
        set(run, "capture_if_drops", ju64(rep->c->cap.if_drops));
    }
    return run;
}

/* ---------------------------------------------------------------- setup */

static json_t *sensor_section(const struct out_report_src *src)
{
    json_t *o = json_object();
    set(o, "name", jstr(src->cfg->sensor_name));
    set(o, "version", json_string(SENSOR_VERSION));
    set(o, "ndpi", jstr(classify_ndpi_version()));
    set(o, "libpcap", jstr(pcap_lib_version()));
    return o;
}

static json_t *config_section(const struct out_report_src *src)
{
    const struct sensor_config *cfg = src->cfg;
    json_t *o = json_object();
    set(o, "file", cfg->source[0] ? jstr(cfg->source) : json_null());
    json_t *hn = json_array();
    for (unsigned i = 0; i < cfg->n_home_net; i++)
        json_array_append_new(hn, jstr(cfg->home_net_text[i]));
    set(o, "home_net", hn);
    json_t *hc = json_array();
    for (unsigned i = 0; i < cfg->n_home_countries; i++)
        json_array_append_new(hc, jstr(cfg->home_countries[i]));
    set(o, "home_countries", hc);
    set(o, "suppress_window_s", ju64(cfg->suppress_window));
    return o;
}

static json_t *pack_section(const struct out_report_src *src)
{
    const struct sig_pack *pack = src->pack;
    if (pack == NULL)
        return json_null();
    json_t *o = json_object();
    set(o, "dir", jstr(src->cfg->signatures_dir));
    set(o, "signatures", ju64(sig_pack_count(pack)));
    json_t *files = json_array();
    json_t *last = NULL;
    const char *last_file = NULL;
    for (size_t i = 0; i < sig_pack_count(pack); i++) {
        const struct signature *s = sig_pack_get(pack, i);
        if (last == NULL || strcmp(s->file, last_file) != 0) {
            last = json_object();
            last_file = s->file;
            set(last, "file", jstr(base_name(s->file)));
            set(last, "vendor", jstr(s->vendor));
            set(last, "signatures", json_integer(0));
            json_array_append_new(files, last);
        }
        json_int_t n = json_integer_value(json_object_get(last, "signatures"));
        set(last, "signatures", json_integer(n + 1));
    }
    set(o, "files", files);
    return o;
}

static json_t *geo_one(const struct geo *g, int which, const char *path)
{
    char desc[256];
    json_t *o = json_object();
    int loaded = g != NULL && (which == 0 ? geo_has_country(g) : geo_has_asn(g));
    geo_describe(g, which, desc, sizeof(desc));
    set(o, "path", path[0] ? jstr(path) : json_null());
    set(o, "loaded", json_boolean(loaded));
    set(o, "description", jstr(desc));
    return o;
}

static json_t *geo_section(const struct out_report_src *src)
{
    json_t *o = json_object();
    set(o, "country", geo_one(src->geo, 0, src->cfg->country_db));
    set(o, "asn", geo_one(src->geo, 1, src->cfg->asn_db));
    return o;
}

/* ---------------------------------------------------------------- verdict */

/* See output-report.h. */
void out_report_whole_names(const struct sig_pack *pack, const char *vendor, const char *product,
                            const char **v, const char **p)
{
    size_t lv = strlen(vendor), lp = strlen(product);
    *v = vendor;
    *p = product;
    for (size_t i = 0; pack != NULL && i < sig_pack_count(pack); i++) {
        const struct signature *s = sig_pack_get(pack, i);
        if (strncmp(s->vendor, vendor, lv) == 0 && (s->vendor[lv] == '\0' || lv == 31) &&
            strncmp(s->product, product, lp) == 0 && (s->product[lp] == '\0' || lp == 39)) {
            *v = s->vendor;
            *p = s->product;
            return;
        }
    }
}

static json_t *categories(unsigned cats)
{
    json_t *a = json_array();
    for (int c = 0; c < SIG_CAT_MAX; c++)
        if (cats & 1u << c)
            json_array_append_new(a, json_string(sig_category_name(c)));
    return a;
}

static json_t *countries(const char (*cc)[2], unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, jcc(cc[i]));
    return a;
}

static json_t *sample_json(const struct out_report_src *src, const struct evidence_sample *s)
{
    json_t *o = json_object();
    const struct run_report *rep = src->rep;
    long in =
        s->input > 0 && rep->inputs != NULL && s->input <= rep->n_inputs ? (long)s->input - 1 : -1;
    set(o, "alert_id", jstr(s->alert_id));
    set(o, "timestamp", jtime(s->ts_us));
    set(o, "flow_start", jtime(s->flow_start_us));
    set(o, "src_ip", jip(s->ipver, s->src));
    set(o, "src_port", s->has_ports ? json_integer(s->sport) : json_null());
    set(o, "dest_ip", jip(s->ipver, s->dst));
    set(o, "dest_port", s->has_ports ? json_integer(s->dport) : json_null());
    set(o, "proto", jstr(s->proto));
    set(o, "app", jstr(s->app));
    set(o, "server_name", jstr(s->server_name));
    set(o, "community_id", jstr(s->community_id));
    set(o, "country_code", jstr(s->geo.country));
    set(o, "asn", s->geo.asn ? ju64(s->geo.asn) : json_null());
    set(o, "as_org", jstrn(s->geo.as_org, s->geo.as_org_len));
    set(o, "signature_id", jstr(s->signature_id));
    set(o, "category", json_string(sig_category_name(s->category)));
    set(o, "severity", json_string(sig_severity_name(s->severity)));
    set(o, "confidence", json_string(sig_confidence_name(s->confidence)));
    set(o, "pkts_toserver", ju64(s->pkts_toserver));
    set(o, "pkts_toclient", ju64(s->pkts_toclient));
    set(o, "bytes_toserver", ju64(s->bytes_toserver));
    set(o, "bytes_toclient", ju64(s->bytes_toclient));
    set(o, "capture_file", in >= 0 ? jstr(base_name(rep->inputs[in].path)) : json_null());
    return o;
}

struct verdict_ctx {
    const struct out_report_src *src;
    json_t *products, *hosts;
    json_t *sigs; /* signature id -> description, for those the report names */
};

void out_report_note_signature(json_t *sigs, const struct sig_pack *pack, const char *id)
{
    if (pack == NULL || json_object_get(sigs, id) != NULL)
        return;
    const struct signature *s = sig_pack_find(pack, id);
    if (s == NULL)
        return;
    json_t *o = json_object();
    set(o, "vendor", jstr(s->vendor));
    set(o, "product", jstr(s->product));
    set(o, "category", json_string(sig_category_name(s->category)));
    set(o, "severity", json_string(sig_severity_name(s->severity)));
    set(o, "note", jstr(s->note));
    set(o, "source", jstr(s->source));
    set(o, "file", jstr(base_name(s->file)));
    json_object_set_new(sigs, id, o);
}

static void note_signature(struct verdict_ctx *v, const char *id)
{
    out_report_note_signature(v->sigs, v->src->pack, id);
}

static void product_evidence(struct verdict_ctx *v, json_t *o, const struct evidence_pair *ep)
{
    json_t *ind = json_array(), *nets = json_array(), *samples = json_array();
    if (ep != NULL) {
        for (unsigned i = 0; i < ep->n_indicators; i++) {
            const struct evidence_indicator *e = &ep->indicators[i];
            json_t *x = json_object();
            set(x, "kind", json_string(sig_evidence_name(e->kind)));
            set(x, "value", jstr(e->value));
            set(x, "pattern", jstr(e->pattern));
            set(x, "signature_id", jstr(e->signature_id));
            set(x, "flows", ju64(e->flows));
            json_array_append_new(ind, x);
            note_signature(v, e->signature_id);
        }
        for (unsigned i = 0; i < ep->n_networks; i++) {
            json_t *x = json_object();
            const struct geo_result *g = &ep->networks[i].geo;
            set(x, "asn", ju64(g->asn));
            set(x, "as_org", jstrn(g->as_org, g->as_org_len));
            set(x, "flows", ju64(ep->networks[i].flows));
            json_array_append_new(nets, x);
        }
        for (unsigned i = 0; i < ep->n_samples; i++) {
            json_array_append_new(samples, sample_json(v->src, &ep->samples[i]));
            note_signature(v, ep->samples[i].signature_id);
        }
    }
    set(o, "networks", nets);
    set(o, "alerts", ju64(ep != NULL ? ep->alerts : 0));
    set(o, "severity",
        ep != NULL && ep->max_severity >= 0 ? json_string(sig_severity_name(ep->max_severity))
                                            : json_null());
    set(o, "confidence",
        ep != NULL && ep->max_confidence >= 0 ? json_string(sig_confidence_name(ep->max_confidence))
                                              : json_null());
    set(o, "indicators", ind);
    set(o, "samples", samples);
    set(o, "samples_omitted",
        ju64(ep != NULL && ep->alerts > ep->n_samples ? ep->alerts - ep->n_samples : 0));
    set(o, "evidence_kept", json_boolean(ep != NULL));
}

static void verdict_host(const struct assets_host_view *h, void *ud)
{
    struct verdict_ctx *v = ud;
    json_t *host = json_object();
    set(host, "host", jip(h->af, h->addr));
    set(host, "first_seen", jtime(h->first_us));
    set(host, "last_seen", jtime(h->last_us));
    set(host, "flows", ju64(h->flows));
    set(host, "bytes_out", ju64(h->bytes_out));
    set(host, "alerts", ju64(h->alerts));
    set(host, "countries", countries(h->countries, h->n_countries));
    json_t *names = json_array();
    for (unsigned i = 0; i < h->n_products; i++) {
        const struct assets_product_view *p = &h->products[i];
        const char *vendor, *product;
        out_report_whole_names(v->src->pack, p->vendor, p->product, &vendor, &product);
        json_t *o = json_object();
        set(o, "host", jip(h->af, h->addr));
        set(o, "vendor", jstr(vendor));
        set(o, "product", jstr(product));
        json_t *rel = json_array();
        json_array_append_new(rel, jstr(sig_relation_name(p->relation)));
        set(o, "relation", rel);
        json_t *ev = json_object();
        set(ev, "kind", jstr(sig_evidence_name(p->ev_kind)));
        set(ev, "value", jstr(p->ev_value));
        set(o, "identified_by", ev);
        if (h->dev != NULL && (h->dev->serial[0] || h->dev->model[0] || h->dev->name[0])) {
            json_t *d = json_object();
            if (h->dev->serial[0])
                set(d, "serial", jstr(h->dev->serial));
            if (h->dev->model[0])
                set(d, "model", jstr(h->dev->model));
            if (h->dev->name[0])
                set(d, "name", jstr(h->dev->name));
            if (h->dev->vlan)
                set(d, "vlan", ju64(h->dev->vlan));
            if (h->dev->by_network)
                set(d, "named_by", jstr("network"));
            set(o, "device", d);
        }
        set(o, "categories", categories(p->categories));
        set(o, "countries", countries(p->countries, p->n_countries));
        set(o, "first_seen", jtime(p->first_us));
        set(o, "last_seen", jtime(p->last_us));
        set(o, "flows", ju64(p->flows));
        set(o, "bytes_out", ju64(p->bytes_out));
        const struct evidence_pair *ep =
            v->src->ev ? evidence_find(v->src->ev, h->af, h->addr, p->vendor, p->product) : NULL;
        product_evidence(v, o, ep);
        json_array_append_new(v->products, o);
        json_t *n = json_object();
        set(n, "vendor", jstr(vendor));
        set(n, "product", jstr(product));
        json_array_append_new(names, n);
    }
    set(host, "products", names);
    json_array_append_new(v->hosts, host);
}

/* ---------------------------------------------------------------- egress */

static int cmp_country(const void *a, const void *b, void *ud)
{
    const struct out_report_egress *e = ud;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (e->cc_bytes_out[x] != e->cc_bytes_out[y])
        return e->cc_bytes_out[x] > e->cc_bytes_out[y] ? -1 : 1;
    if (e->cc_flows[x] != e->cc_flows[y])
        return e->cc_flows[x] > e->cc_flows[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int cmp_as(const void *a, const void *b)
{
    const struct as_tally *x = *(const struct as_tally *const *)a;
    const struct as_tally *y = *(const struct as_tally *const *)b;
    if (x->bytes_out != y->bytes_out)
        return x->bytes_out > y->bytes_out ? -1 : 1;
    if (x->flows != y->flows)
        return x->flows > y->flows ? -1 : 1;
    return x->asn < y->asn ? -1 : x->asn > y->asn;
}

static int cmp_app(const void *a, const void *b)
{
    const struct app_tally *x = *(const struct app_tally *const *)a;
    const struct app_tally *y = *(const struct app_tally *const *)b;
    if (x->bytes_out != y->bytes_out)
        return x->bytes_out > y->bytes_out ? -1 : 1;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static json_t *flows_bytes_out(uint64_t flows, uint64_t bytes_out)
{
    json_t *o = json_object();
    set(o, "flows", ju64(flows));
    set(o, "bytes_out", ju64(bytes_out));
    return o;
}

/* See output-report.h. */
json_t *out_report_egress(const struct out_report_egress *e)
{
    json_t *o = flows_bytes_out(e->flows, e->bytes_out);
    size_t idx[26 * 26], n = 0;
    for (size_t i = 0; i < 26 * 26; i++)
        if (e->cc_flows[i] != 0)
            idx[n++] = i;
    qsort_r(idx, n, sizeof(idx[0]), cmp_country, (void *)(uintptr_t)e);
    json_t *cs = json_array();
    for (size_t i = 0; i < n; i++) {
        char cc[2] = {(char)('A' + idx[i] / 26), (char)('A' + idx[i] % 26)};
        json_t *c = json_object();
        set(c, "country_code", jcc(cc));
        set(c, "flows", ju64(e->cc_flows[idx[i]]));
        set(c, "bytes_out", ju64(e->cc_bytes_out[idx[i]]));
        json_array_append_new(cs, c);
    }
    set(o, "countries", cs);
    set(o, "unknown_country_bytes_out", ju64(e->unknown_cc_bytes_out));

    qsort(e->ases, e->n_ases, sizeof(e->ases[0]), cmp_as);
    json_t *nets = json_array();
    for (size_t i = 0; i < e->n_ases; i++) {
        json_t *a = json_object();
        set(a, "asn", ju64(e->ases[i]->asn));
        set(a, "as_org", jstrn(e->ases[i]->org, e->ases[i]->org_len));
        set(a, "flows", ju64(e->ases[i]->flows));
        set(a, "bytes_out", ju64(e->ases[i]->bytes_out));
        json_array_append_new(nets, a);
    }
    set(o, "networks", nets);
    set(o, "other_networks", flows_bytes_out(e->other_as_flows, e->other_as_bytes_out));
    set(o, "unknown_network", flows_bytes_out(e->unknown_as_flows, e->unknown_as_bytes_out));
    return o;
}

/* See output-report.h. */
json_t *out_report_apps(const struct app_tally **v, size_t n)
{
    qsort(v, n, sizeof(v[0]), cmp_app);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        set(o, "app", jstr(v[i]->name));
        set(o, "flows", ju64(v[i]->flows));
        set(o, "bytes", ju64(v[i]->bytes));
        set(o, "bytes_out", ju64(v[i]->bytes_out));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *egress_section(const struct out_report_src *src)
{
    const struct pipeline_stats *ps = &src->rep->c->ps;
    const struct as_tally *as[STATS_AS_SLOTS];
    struct out_report_egress e = {
        .flows = ps->flows_by_dir[FLOW_DIR_EGRESS],
        .bytes_out = ps->bytes_out,
        .cc_flows = ps->country_flows,
        .cc_bytes_out = ps->country_bytes_out,
        .unknown_cc_bytes_out = ps->unknown_country_bytes_out,
        .ases = as,
        .other_as_flows = ps->as_overflow_flows,
        .other_as_bytes_out = ps->as_overflow_bytes_out,
        .unknown_as_flows = ps->unknown_as_flows,
        .unknown_as_bytes_out = ps->unknown_as_bytes_out,
    };
    for (size_t i = 0; i < STATS_AS_SLOTS; i++)
        if (ps->ases[i].asn != 0)
            as[e.n_ases++] = &ps->ases[i];
    return out_report_egress(&e);
}

static json_t *apps_section(const struct out_report_src *src)
{
    const struct pipeline_stats *ps = &src->rep->c->ps;
    const struct app_tally *v[STATS_APP_SLOTS];
    size_t n = 0;
    for (size_t i = 0; i < STATS_APP_SLOTS; i++)
        if (ps->apps[i].used)
            v[n++] = &ps->apps[i];
    return out_report_apps(v, n);
}

/* ---------------------------------------------------------------- timeline */

/* One axis for every product: the widest bucket any of them uses, widened
 * further until the whole span fits REPORT_MAX_BUCKETS. */
static json_t *timeline_section(const struct out_report_src *src)
{
    json_t *o = json_object();
    json_t *series = json_array();
    size_t n = 0;
    const struct evidence_timeline *tl = src->ev ? evidence_timelines(src->ev, &n) : NULL;
    uint64_t w = 0, lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++)
        if (tl[i].width_us > w)
            w = tl[i].width_us;
    for (; w != 0; w = evidence_next_width(w)) {
        lo = UINT64_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            if (tl[i].width_us == 0)
                continue;
            uint64_t f = w / tl[i].width_us, l = tl[i].lo / f, h = tl[i].hi / f;
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
        }
        if (hi - lo < REPORT_MAX_BUCKETS)
            break;
    }
    if (w == 0 || lo == UINT64_MAX) {
        set(o, "bucket_s", json_integer(0));
        set(o, "start", json_null());
        set(o, "buckets", json_integer(0));
        set(o, "series", series);
        return o;
    }
    size_t nb = (size_t)(hi - lo + 1);
    for (size_t i = 0; i < n; i++) {
        struct evidence_timeline t;
        if (tl[i].width_us == 0 || evidence_timeline_widen(&t, &tl[i], w) < 0)
            continue;
        json_t *s = json_object(), *fl = json_array(), *al = json_array(), *by = json_array();
        const char *vendor, *product;
        out_report_whole_names(src->pack, t.vendor, t.product, &vendor, &product);
        set(s, "vendor", jstr(vendor));
        set(s, "product", jstr(product));
        for (size_t k = 0; k < nb; k++) {
            uint64_t b = lo + k;
            const struct evidence_bucket *e = &t.b[b % EVIDENCE_BUCKETS];
            int in = b >= t.lo && b <= t.hi;
            json_array_append_new(fl, ju64(in ? e->flows : 0));
            json_array_append_new(al, ju64(in ? e->alerts : 0));
            json_array_append_new(by, ju64(in ? e->bytes_out : 0));
        }
        set(s, "flows", fl);
        set(s, "alerts", al);
        set(s, "bytes_out", by);
        json_array_append_new(series, s);
    }
    set(o, "bucket_s", ju64(w / 1000000u));
    set(o, "start", jtime(lo != 0 ? lo * w : 1)); /* 0 would read "never" */
    set(o, "buckets", ju64(nb));
    set(o, "series", series);
    return o;
}

/* ---------------------------------------------------------------- document */

static json_t *limits_section(const struct out_report_src *src)
{
    json_t *o = json_object();
    const struct assets_stats *ast = &src->rep->c->as;
    const struct evidence_stats *es = src->ev ? evidence_stats(src->ev) : NULL;
    set(o, "hosts_evicted", ju64(ast ? ast->hosts_evicted : 0));
    set(o, "products_dropped", ju64(ast ? ast->products_dropped : 0));
    set(o, "evidence_pairs_dropped", ju64(es ? es->pairs_dropped : 0));
    set(o, "indicators_dropped", ju64(es ? es->indicators_dropped : 0));
    set(o, "networks_dropped", ju64(es ? es->networks_dropped : 0));
    set(o, "timeline_products_dropped", ju64(es ? es->products_dropped : 0));
    set(o, "samples_per_product", json_integer(EVIDENCE_SAMPLES));
    set(o, "networks_other_flows", ju64(src->rep->c->ps.as_overflow_flows));
    set(o, "applications_other_flows", ju64(src->rep->c->ps.app_overflow));
    return o;
}

static uint64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

json_t *out_report_setup(const struct out_report_src *src, json_t *run)
{
    json_t *o = json_object();
    if (o == NULL) {
        json_decref(run);
        return NULL;
    }
    set(o, "report_version", json_integer(OUT_REPORT_VERSION));
    set(o, "generated", jtime(src->generated_us ? src->generated_us : now_us()));
    set(o, "sensor", sensor_section(src));
    set(o, "run", run);
    set(o, "config", config_section(src));
    set(o, "signature_pack", pack_section(src));
    set(o, "geo", geo_section(src));
    return o;
}

json_t *out_report_data(const struct out_report_src *src)
{
    struct verdict_ctx v = {src, json_array(), json_array(), json_object()};
    json_t *o = out_report_setup(src, run_section(src));
    if (o == NULL || v.products == NULL || v.hosts == NULL || v.sigs == NULL)
        goto fail;
    if (src->assets != NULL && assets_foreach(src->assets, verdict_host, &v) < 0)
        goto fail;
    set(o, "products", v.products);
    set(o, "hosts", v.hosts);
    set(o, "signatures", v.sigs);
    v.products = v.hosts = v.sigs = NULL;
    set(o, "egress", egress_section(src));
    set(o, "applications", apps_section(src));
    set(o, "timeline", timeline_section(src));
    set(o, "limits", limits_section(src));
    return o;

fail:
    json_decref(v.products);
    json_decref(v.hosts);
    json_decref(v.sigs);
    json_decref(o);
    return NULL;
}

/* ---------------------------------------------------------------- page */

char *out_report_escape(const char *json, size_t len, size_t *out_len)
{
    size_t extra = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c == '<' || c == '>' || c == '&')
            extra += 5; /* 1 byte -> \u003c */
        else if (c == 0xe2 && i + 2 < len && (unsigned char)json[i + 1] == 0x80 &&
                 ((unsigned char)json[i + 2] == 0xa8 || (unsigned char)json[i + 2] == 0xa9))
            extra += 3; /* 3 bytes -> \u2028 */
    }
    char *out = malloc(len + extra + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c == '<' || c == '>' || c == '&') {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else if (c == 0xe2 && i + 2 < len && (unsigned char)json[i + 1] == 0x80 &&
                   ((unsigned char)json[i + 2] == 0xa8 || (unsigned char)json[i + 2] == 0xa9)) {
            o +=
                (size_t)sprintf(out + o, "\\u%04x", 0x2000u | ((unsigned char)json[i + 2] & 0x3fu));
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* The template's text into *text (free()) and its length; -1 with a
 * message naming path. */
static int read_template(const char *path, char **text, size_t *len, char *errbuf, size_t errlen)
{
    const char *hint = " (make report builds it; report.template in the configuration names it)";
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    if (fp == NULL) {
        snprintf(errbuf, errlen, "%s: cannot read the report template: %s%s", path, strerror(errno),
                 errno == ENOENT ? hint : "");
        return -1;
    }
    buf = malloc(OUT_REPORT_TEMPLATE_MAX + 1);
    if (buf == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        goto fail;
    }
    size_t n = fread(buf, 1, OUT_REPORT_TEMPLATE_MAX + 1, fp);
    if (ferror(fp)) {
        snprintf(errbuf, errlen, "%s: cannot read the report template: %s", path, strerror(errno));
        goto fail;
    }
    if (n > OUT_REPORT_TEMPLATE_MAX) {
        snprintf(errbuf, errlen, "%s: larger than %u bytes: not a report template", path,
                 OUT_REPORT_TEMPLATE_MAX);
        goto fail;
    }
    buf[n] = '\0';
    const char *p = strstr(buf, OUT_REPORT_PLACEHOLDER);
    if (p == NULL || strstr(p + 1, OUT_REPORT_PLACEHOLDER) != NULL) {
        snprintf(errbuf, errlen, "%s: not a report template (the placeholder %s is %s)%s", path,
                 OUT_REPORT_PLACEHOLDER, p == NULL ? "missing" : "there twice", hint);
        goto fail;
    }
    fclose(fp);
    *text = buf;
    *len = n;
    return 0;

fail:
    free(buf);
    fclose(fp);
    return -1;
}

int out_report_check_template(const char *path, char *errbuf, size_t errlen)
{
    char *text;
    size_t len;
    if (read_template(path, &text, &len, errbuf, errlen) < 0)
        return -1;
    free(text);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sync the folder holding path, so the rename itself is durable. Errors
 * are ignored: some file systems cannot sync a folder. */
static void sync_dir(const char *path)
{
    char dir[CONFIG_PATH_MAX + 8];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int out_report_write_doc(const char *path, const char *template_path, const json_t *doc,
                         char *errbuf, size_t errlen)
{
    char *tpl = NULL, *dump = NULL, *safe = NULL;
    char tmp[CONFIG_PATH_MAX + 32];
    size_t tlen, slen;
    int fd = -1;

    tmp[0] = '\0';
    if (read_template(template_path, &tpl, &tlen, errbuf, errlen) < 0)
        return -1;
    dump = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    safe = dump ? out_report_escape(dump, strlen(dump), &slen) : NULL;
    if (safe == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory for the report data", path);
        goto fail;
    }
    /* ".NAME.XXXXXX" beside the report: the rename stays in one file system */
    const char *name = base_name(path);
    int n = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(name - path), path, name);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(errbuf, errlen, "%s: path too long", path);
        tmp[0] = '\0';
        goto fail;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "%s: cannot create a temporary file beside it: %s", path,
                 strerror(errno));
        tmp[0] = '\0';
        goto fail;
    }
    /* a report is for reading: by a web server too (mkstemp gives 0600) */
    const char *p = strstr(tpl, OUT_REPORT_PLACEHOLDER);
    size_t head = (size_t)(p - tpl), ph = strlen(OUT_REPORT_PLACEHOLDER);
    if (fchmod(fd, 0644) != 0 || write_all(fd, tpl, head) < 0 || write_all(fd, safe, slen) < 0 ||
        write_all(fd, p + ph, tlen - head - ph) < 0 || fsync(fd) != 0) {
        snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(errbuf, errlen, "%s: cannot replace it: %s", path, strerror(errno));
        goto fail;
    }
    sync_dir(path);
    free(tpl);
    free(dump);
    free(safe);
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    free(tpl);
    free(dump);
    free(safe);
    return -1;
}

int out_report_write(const char *path, const char *template_path, const struct out_report_src *src,
                     char *errbuf, size_t errlen)
{
    json_t *doc = out_report_data(src);
    if (doc == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory for the report data", path);
        return -1;
    }
    int rc = out_report_write_doc(path, template_path, doc, errbuf, errlen);
    json_decref(doc);
    return rc;
}
