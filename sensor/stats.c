/* stats.c -- end-of-run summary and its JSON twin. */
#include "stats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "classify.h"
#include "decode.h"
#include "assets.h"
#include "detect.h"
#include "dns-cache.h"
#include "signature.h"
#include "flow.h"
#include "frag.h"
#include "ja4.h"
#include "output-json-flow.h"
#include "output-json.h"
#include "pipeline.h"
#include "term.h"
#include "util.h"

long stats_peak_rss_kb(void)
{
    /* VmHWM is this process's own high-water mark; getrusage()'s ru_maxrss
     * can carry the parent's across exec (a sensor started from a large
     * process would report the parent's size). */
    FILE *fp = fopen("/proc/self/status", "r");
    if (fp != NULL) {
        char line[256];
        long kb = 0;
        while (fgets(line, sizeof(line), fp) != NULL)
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                break;
        fclose(fp);
        if (kb > 0)
            return kb;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss;
}

const char *stats_human(double v, char *buf, size_t len)
{
    static const char *const units[] = {"", "k", "M", "G", "T", "P"};
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units))
        v /= 1000.0, u++;
    if (u == 0)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.*f%s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
    return buf;
}

const char *stats_bytes(double v, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units))
        v /= 1024.0, u++;
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* Indexes of the top n apps, by bytes out then bytes. */
static size_t top_apps(const struct pipeline_stats *ps, size_t *idx, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < STATS_APP_SLOTS; i++) {
        if (!ps->apps[i].used)
            continue;
        const struct app_tally *a = &ps->apps[i];
        size_t j = k < n ? k++ : n;
        while (j > 0) {
            const struct app_tally *b = &ps->apps[idx[j - 1]];
            if (b->bytes_out > a->bytes_out ||
                (b->bytes_out == a->bytes_out && b->bytes >= a->bytes))
                break;
            if (j < n)
                idx[j] = idx[j - 1];
            j--;
        }
        if (j < n)
            idx[j] = i;
    }
    return k;
}

static size_t top_countries(const struct pipeline_stats *ps, size_t *idx, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < 26 * 26; i++) {
        if (ps->country_flows[i] == 0)
            continue;
        size_t j = k < n ? k++ : n;
        while (j > 0 && ps->country_bytes_out[idx[j - 1]] < ps->country_bytes_out[i]) {
            if (j < n)
                idx[j] = idx[j - 1];
            j--;
        }
        if (j < n)
            idx[j] = i;
    }
    return k;
}

/* The modules' counter tables, in the order --stats writes them. The
 * first three are the pipeline's own (pipeline_stats_add() sums them). */
static const struct group {
    size_t off; /* of the module's struct in struct run_counters */
    const struct ctr_table *t;
} groups[] = {
    {offsetof(struct run_counters, ps), &pipeline_counters},
    {offsetof(struct run_counters, ps) + offsetof(struct pipeline_stats, dec), &decode_counters},
    {offsetof(struct run_counters, ps) + offsetof(struct pipeline_stats, ja4), &ja4_counters},
    {offsetof(struct run_counters, ft), &flow_table_counters},
    {offsetof(struct run_counters, cl), &classify_counters},
    {offsetof(struct run_counters, fr), &frag_counters},
    {offsetof(struct run_counters, det), &detect_counters},
    {offsetof(struct run_counters, al), &alert_counters},
    {offsetof(struct run_counters, dns), &dns_cache_counters},
    {offsetof(struct run_counters, as), &assets_counters},
    {offsetof(struct run_counters, cap), &capture_counters},
};

void run_counters_add(struct run_counters *dst, const struct run_counters *src)
{
    /* the first three groups, with the packet times and the tallies */
    pipeline_stats_add(&dst->ps, &src->ps);
    for (size_t g = 3; g < ARRAY_SIZE(groups); g++)
        ctr_add(groups[g].t, (char *)dst + groups[g].off, (const char *)src + groups[g].off);
}

void run_counters_foreach(const struct run_counters *c, run_counter_fn fn, void *ud)
{
    for (size_t g = 0; g < ARRAY_SIZE(groups); g++)
        for (size_t i = 0; i < groups[g].t->n; i++)
            fn(&groups[g].t->d[i], ctr_get(&groups[g].t->d[i], (const char *)c + groups[g].off),
               ud);
}

/* The input line: the interfaces, or the files and what became of them. */
static void summary_input(FILE *fp, unsigned width, const struct run_report *r, double span)
{
    const struct run_counters *rc = r->c;
    char d[48], n[48], text[1024];
    size_t k = 0;
    term_duration(span, d, sizeof(d));
    if (r->n_ifaces > 0) {
        k += (size_t)snprintf(text + k, sizeof(text) - k, "live on");
        for (unsigned i = 0; i < r->n_ifaces && k < sizeof(text); i++)
            k += (size_t)snprintf(text + k, sizeof(text) - k, "%s %s", i ? "," : "", r->ifaces[i]);
        if (r->ifaces_lost && k < sizeof(text))
            k += (size_t)snprintf(text + k, sizeof(text) - k, " (%u LOST during the run)",
                                  r->ifaces_lost);
        term_line(fp, width, "input", "%s; capture spans %s", text, d);
        term_line(fp, width, "capture",
                  "%llu received, %llu dropped by the kernel, %llu dropped by the interface",
                  (unsigned long long)rc->cap.received, (unsigned long long)rc->cap.drops,
                  (unsigned long long)rc->cap.if_drops);
        return;
    }
    k += (size_t)snprintf(text, sizeof(text), "%s read",
                          term_count(r->files_read, "file", "files", n, sizeof(n)));
    if (r->files_truncated)
        k += (size_t)snprintf(text + k, sizeof(text) - k, ", %u truncated", r->files_truncated);
    if (r->files_damaged && k < sizeof(text))
        k += (size_t)snprintf(text + k, sizeof(text) - k, ", %u DAMAGED", r->files_damaged);
    if (r->files_failed && k < sizeof(text))
        k += (size_t)snprintf(text + k, sizeof(text) - k, ", %u FAILED", r->files_failed);
    if (r->files_skipped && k < sizeof(text))
        k += (size_t)snprintf(text + k, sizeof(text) - k, ", %u not captures skipped",
                              r->files_skipped);
    if (r->time_restarts && k < sizeof(text))
        k += (size_t)snprintf(text + k, sizeof(text) - k,
                              "; %u did not continue the one before and started afresh",
                              r->time_restarts);
    term_line(fp, width, "input", "%s; capture spans %s", text, d);
}

/* The top applications and destination countries, as tables. */
static void summary_tops(FILE *fp, unsigned width, const struct run_report *r)
{
    const struct pipeline_stats *ps = &r->c->ps;
    unsigned top = r->top_n ? r->top_n : 10;
    size_t idx[64];
    char a[32], b[32], c[32], cc[3];
    if (top > 64)
        top = 64;
    size_t n = top_apps(ps, idx, top);
    if (n) {
        static const char *const h[] = {"application", "bytes out", "bytes", "flows"};
        struct term_table *t = term_table_new(4, h, "lrrr");
        for (size_t i = 0; t != NULL && i < n; i++) {
            const struct app_tally *ap = &ps->apps[idx[i]];
            snprintf(c, sizeof(c), "%llu", (unsigned long long)ap->flows);
            const char *row[] = {ap->name, stats_bytes((double)ap->bytes_out, a, sizeof(a)),
                                 stats_bytes((double)ap->bytes, b, sizeof(b)), c};
            term_table_add(t, row);
        }
        fprintf(fp, "\n  top applications by bytes out\n");
        if (t != NULL)
            term_table_print(t, fp, width, 4);
        term_table_free(t);
    }
    n = top_countries(ps, idx, top);
    fprintf(fp, "\n  top destination countries by bytes out (egress)\n");
    if (n == 0 && !ps->unknown_country_bytes_out) {
        fprintf(fp, "    (none: no egress flow to a located address)\n");
        return;
    }
    static const char *const h[] = {"country", "bytes out", "flows"};
    struct term_table *t = term_table_new(3, h, "lrr");
    for (size_t i = 0; t != NULL && i < n; i++) {
        cc[0] = (char)('A' + idx[i] / 26), cc[1] = (char)('A' + idx[i] % 26), cc[2] = '\0';
        snprintf(c, sizeof(c), "%llu", (unsigned long long)ps->country_flows[idx[i]]);
        const char *row[] = {cc, stats_bytes((double)ps->country_bytes_out[idx[i]], a, sizeof(a)),
                             c};
        term_table_add(t, row);
    }
    if (t != NULL && ps->unknown_country_bytes_out) {
        const char *row[] = {"not located",
                             stats_bytes((double)ps->unknown_country_bytes_out, a, sizeof(a)), ""};
        term_table_add(t, row);
    }
    if (t != NULL)
        term_table_print(t, fp, width, 4);
    term_table_free(t);
}

void stats_print_summary(FILE *fp, const struct run_report *r)
{
    const struct run_counters *rc = r->c;
    const struct pipeline_stats *ps = &rc->ps;
    unsigned width = term_width(fp);
    char a[32], b[32], c[32], d[48], text[1024];

    uint64_t dec_err = 0;
    for (int i = 0; i < DEC_MAX; i++)
        if (i != DEC_NOT_IP)
            dec_err += ps->dec.ctr[i];
    double span = ps->last_us > ps->first_us ? (double)(ps->last_us - ps->first_us) / 1e6 : 0;
    double rate = r->elapsed_s > 0 ? (double)ps->packets / r->elapsed_s : 0;

    fprintf(fp, "\n== egress-sensor summary ==\n");
    summary_input(fp, width, r, span);
    term_line(fp, width, "packets",
              "%llu (%s), %s on the wire; %llu IP, %llu not IP, %llu malformed",
              (unsigned long long)ps->packets, stats_human((double)ps->packets, a, sizeof(a)),
              stats_bytes((double)ps->bytes, b, sizeof(b)), (unsigned long long)ps->ip_packets,
              (unsigned long long)ps->dec.ctr[DEC_NOT_IP], (unsigned long long)dec_err);
    term_line(fp, width, "flows", "%llu: %llu egress, %llu ingress, %llu internal, %llu external",
              (unsigned long long)rc->ft.created,
              (unsigned long long)ps->flows_by_dir[FLOW_DIR_EGRESS],
              (unsigned long long)ps->flows_by_dir[FLOW_DIR_INGRESS],
              (unsigned long long)ps->flows_by_dir[FLOW_DIR_INTERNAL],
              (unsigned long long)ps->flows_by_dir[FLOW_DIR_EXTERNAL]);
    size_t k = 0;
    for (int i = 1; i < FLOW_END_MAX && k < sizeof(text); i++)
        k += (size_t)snprintf(text + k, sizeof(text) - k, "%s%s %llu", i > 1 ? ", " : "",
                              flow_end_name(i), (unsigned long long)rc->ft.ended[i]);
    term_line(fp, width, "flow ends", "%s", text);
    term_line(fp, width, "classified", "%llu by inspection, %llu settled at give-up (%llu guessed)",
              (unsigned long long)rc->cl.classified, (unsigned long long)rc->cl.gave_up,
              (unsigned long long)rc->cl.guessed);
    const uint64_t *jc = ps->ja4.ctr;
    if (jc[JA4C_TLS] || jc[JA4C_QUIC] || jc[JA4C_DTLS] || jc[JA4C_POOL_EMPTY])
        term_line(fp, width, "ja4",
                  "%llu TLS, %llu QUIC, %llu DTLS client hellos (%llu reassembled); %llu skipped "
                  "for want of a buffer",
                  (unsigned long long)jc[JA4C_TLS], (unsigned long long)jc[JA4C_QUIC],
                  (unsigned long long)jc[JA4C_DTLS], (unsigned long long)jc[JA4C_REASSEMBLED],
                  (unsigned long long)jc[JA4C_POOL_EMPTY]);
    if (r->detection) {
        term_line(
            fp, width, "detection",
            "%llu flows matched, %llu named an internal host (%llu identifications, %llu new: "
            "asset events); %llu alerts (%llu critical, %llu high, %llu medium, %llu low), "
            "%llu repeats suppressed; %llu DNS bindings learned, %llu flows named by a "
            "vendor dissector",
            (unsigned long long)rc->det.flows_matched, (unsigned long long)rc->det.flows_identified,
            (unsigned long long)rc->al.identified, (unsigned long long)rc->al.asset_events,
            (unsigned long long)rc->al.alerts,
            (unsigned long long)rc->al.by_severity[SIG_SEV_CRITICAL],
            (unsigned long long)rc->al.by_severity[SIG_SEV_HIGH],
            (unsigned long long)rc->al.by_severity[SIG_SEV_MEDIUM],
            (unsigned long long)rc->al.by_severity[SIG_SEV_LOW],
            (unsigned long long)rc->al.suppressed, (unsigned long long)rc->det.dns_bindings,
            (unsigned long long)rc->det.dis_verdicts);
    }
    if (r->rs != NULL)
        out_redis_print_summary(fp, r->rs, r->redis_url, r->redis_spool_dir);
    term_line(fp, width, "memory", "%zu bytes per tracked flow, peak %llu flows, peak RSS %s",
              r->bytes_per_flow, (unsigned long long)rc->ft.peak_active,
              stats_bytes((double)r->peak_rss_kb * 1024.0, c, sizeof(c)));
    term_line(fp, width, "time", "%s, %s packets/s, %u %s",
              term_duration(r->elapsed_s, d, sizeof(d)), stats_human(rate, a, sizeof(a)),
              r->workers > 1 ? r->workers : 1u, r->workers > 1 ? "workers" : "worker");
    if (rc->fr.first || rc->fr.later)
        term_line(fp, width, "fragments", "%llu first, %llu later (%llu attributed, %llu orphaned)",
                  (unsigned long long)rc->fr.first, (unsigned long long)rc->fr.later,
                  (unsigned long long)rc->fr.matched, (unsigned long long)rc->fr.orphans);
    if (dec_err) {
        static const char *const h[] = {"decode error", "packets"};
        struct term_table *t = term_table_new(2, h, "lr");
        for (int i = 0; t != NULL && i < DEC_MAX; i++)
            if (i != DEC_NOT_IP && ps->dec.ctr[i]) {
                snprintf(a, sizeof(a), "%llu", (unsigned long long)ps->dec.ctr[i]);
                const char *row[] = {decode_counter_name(i), a};
                term_table_add(t, row);
            }
        fprintf(fp, "\n");
        if (t != NULL)
            term_table_print(t, fp, width, 4);
        term_table_free(t);
    }
    summary_tops(fp, width, r);
    fprintf(fp, "\n");
}

static json_t *u64(uint64_t v)
{
    return json_integer((json_int_t)v);
}

/* The object at the dotted path name (all but its last part), created as
 * needed under root; *leaf is the last part. */
static json_t *path_parent(json_t *root, const char *name, const char **leaf)
{
    json_t *o = root;
    const char *p = name, *dot;
    char part[64];
    while ((dot = strchr(p, '.')) != NULL) {
        size_t n = (size_t)(dot - p) < sizeof(part) - 1 ? (size_t)(dot - p) : sizeof(part) - 1;
        memcpy(part, p, n);
        part[n] = '\0';
        json_t *next = json_object_get(o, part);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(o, part, next);
        }
        o = next;
        p = dot + 1;
    }
    *leaf = p;
    return o;
}

static void put_counter(const struct ctr_desc *d, uint64_t v, void *ud)
{
    const char *leaf;
    json_t *parent = path_parent(ud, d->name, &leaf);
    json_object_set_new(parent, leaf, u64(v));
}

int stats_write_json(const char *path, const struct run_report *r, char *errbuf, size_t errlen)
{
    const struct run_counters *rc = r->c;
    const struct pipeline_stats *ps = &rc->ps;
    json_t *o = json_object();
    const char *leaf;

    json_object_set_new(o, "schema_version", json_integer(OUT_SCHEMA_STATS));
    /* every named counter, nested by its dotted name */
    run_counters_foreach(rc, put_counter, o);
    json_t *flows = path_parent(o, "flows.bytes_per_flow", &leaf);
    json_object_set_new(flows, leaf, u64(r->bytes_per_flow));
    if (!r->detection)
        json_object_del(o, "detection");

    if (r->rs != NULL)
        json_object_set_new(o, "redis", out_redis_stats_json(r->rs));

    size_t idx[STATS_APP_SLOTS];
    size_t n = top_apps(ps, idx, STATS_APP_SLOTS);
    json_t *apps = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct app_tally *t = &ps->apps[idx[i]];
        json_t *a = json_object();
        json_object_set_new(a, "app", json_string(t->name));
        json_object_set_new(a, "flows", u64(t->flows));
        json_object_set_new(a, "bytes", u64(t->bytes));
        json_object_set_new(a, "bytes_out", u64(t->bytes_out));
        json_array_append_new(apps, a);
    }
    json_object_set_new(o, "apps", apps);

    n = top_countries(ps, idx, 26 * 26);
    json_t *cs = json_array();
    for (size_t i = 0; i < n; i++) {
        char cc[3] = {(char)('A' + idx[i] / 26), (char)('A' + idx[i] % 26), 0};
        json_t *a = json_object();
        json_object_set_new(a, "country_code", json_string(cc));
        json_object_set_new(a, "flows", u64(ps->country_flows[idx[i]]));
        json_object_set_new(a, "bytes_out", u64(ps->country_bytes_out[idx[i]]));
        json_array_append_new(cs, a);
    }
    json_object_set_new(o, "dest_countries", cs);

    if (r->n_ifaces > 0) {
        json_t *cap = path_parent(o, "capture.interfaces", &leaf);
        json_t *names = json_array();
        for (unsigned i = 0; i < r->n_ifaces; i++)
            json_array_append_new(names, json_string(r->ifaces[i]));
        json_object_set_new(cap, "interfaces", names);
        json_object_set_new(cap, "interfaces_lost", u64(r->ifaces_lost));
    } else {
        json_object_del(o, "capture");
    }

    json_t *run = json_object();
    json_object_set_new(run, "files_read", u64(r->files_read));
    json_object_set_new(run, "files_truncated", u64(r->files_truncated));
    json_object_set_new(run, "files_damaged", u64(r->files_damaged));
    json_object_set_new(run, "files_failed", u64(r->files_failed));
    json_object_set_new(run, "files_skipped", u64(r->files_skipped));
    json_object_set_new(run, "time_restarts", u64(r->time_restarts));
    json_object_set_new(run, "restart_errors", u64(r->restart_errors));
    json_object_set_new(run, "elapsed_s", json_real(r->elapsed_s));
    json_object_set_new(run, "workers", u64(r->workers ? r->workers : 1));
    json_object_set_new(run, "packets_per_s",
                        json_real(r->elapsed_s > 0 ? (double)ps->packets / r->elapsed_s : 0));
    json_object_set_new(run, "peak_rss_kb", u64((uint64_t)r->peak_rss_kb));
    json_object_set_new(o, "run", run);

    int rc_ = 0;
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (fp == NULL) {
        snprintf(errbuf, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
        rc_ = -1;
    } else {
        if (json_dumpf(o, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', fp) == EOF)
            rc_ = -1;
        if (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0)
            rc_ = -1;
        if (rc_ < 0)
            snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
    }
    json_decref(o);
    return rc_;
}
