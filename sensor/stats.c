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
#include "pipeline.h"
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

void stats_print_summary(FILE *fp, const struct run_report *r)
{
    const struct run_counters *rc = r->c;
    const struct pipeline_stats *ps = &rc->ps;
    char a[32], b[32], c[32];
    unsigned top = r->top_n ? r->top_n : 10;
    size_t idx[64];
    if (top > 64)
        top = 64;

    uint64_t dec_err = 0;
    for (int i = 0; i < DEC_MAX; i++)
        if (i != DEC_NOT_IP)
            dec_err += ps->dec.ctr[i];
    double span = ps->last_us > ps->first_us ? (double)(ps->last_us - ps->first_us) / 1e6 : 0;
    double rate = r->elapsed_s > 0 ? (double)ps->packets / r->elapsed_s : 0;

    fprintf(fp, "\n== egress-sensor summary ==\n");
    if (r->n_ifaces > 0) {
        fprintf(fp, "  input       live on");
        for (unsigned i = 0; i < r->n_ifaces; i++)
            fprintf(fp, "%s %s", i ? "," : "", r->ifaces[i]);
        if (r->ifaces_lost)
            fprintf(fp, " (%u LOST during the run)", r->ifaces_lost);
        fprintf(fp, "; capture spans %.1f s\n", span);
        fprintf(fp,
                "  capture     %llu received, %llu dropped by the kernel, %llu dropped by the "
                "interface\n",
                (unsigned long long)rc->cap.received, (unsigned long long)rc->cap.drops,
                (unsigned long long)rc->cap.if_drops);
    } else {
        fprintf(fp, "  input       %u file(s) read", r->files_read);
        if (r->files_truncated)
            fprintf(fp, ", %u truncated", r->files_truncated);
        if (r->files_damaged)
            fprintf(fp, ", %u DAMAGED", r->files_damaged);
        if (r->files_failed)
            fprintf(fp, ", %u FAILED", r->files_failed);
        fprintf(fp, "; capture spans %.1f s\n", span);
    }
    fprintf(fp, "  packets     %llu (%s), %s on the wire; %llu IP, %llu not IP, %llu malformed\n",
            (unsigned long long)ps->packets, stats_human((double)ps->packets, a, sizeof(a)),
            stats_bytes((double)ps->bytes, b, sizeof(b)), (unsigned long long)ps->ip_packets,
            (unsigned long long)ps->dec.ctr[DEC_NOT_IP], (unsigned long long)dec_err);
    fprintf(fp, "  flows       %llu: %llu egress, %llu ingress, %llu internal, %llu external\n",
            (unsigned long long)rc->ft.created,
            (unsigned long long)ps->flows_by_dir[FLOW_DIR_EGRESS],
            (unsigned long long)ps->flows_by_dir[FLOW_DIR_INGRESS],
            (unsigned long long)ps->flows_by_dir[FLOW_DIR_INTERNAL],
            (unsigned long long)ps->flows_by_dir[FLOW_DIR_EXTERNAL]);
    fprintf(fp, "  flow ends  ");
    for (int i = 1; i < FLOW_END_MAX; i++)
        fprintf(fp, " %s %llu", flow_end_name(i), (unsigned long long)rc->ft.ended[i]);
    fprintf(fp, "\n  classified  %llu by inspection, %llu settled at give-up (%llu guessed)\n",
            (unsigned long long)rc->cl.classified, (unsigned long long)rc->cl.gave_up,
            (unsigned long long)rc->cl.guessed);
    const uint64_t *jc = ps->ja4.ctr;
    if (jc[JA4C_TLS] || jc[JA4C_QUIC] || jc[JA4C_DTLS] || jc[JA4C_POOL_EMPTY])
        fprintf(fp,
                "  ja4         %llu TLS, %llu QUIC, %llu DTLS client hellos (%llu reassembled); "
                "%llu skipped for want of a buffer\n",
                (unsigned long long)jc[JA4C_TLS], (unsigned long long)jc[JA4C_QUIC],
                (unsigned long long)jc[JA4C_DTLS], (unsigned long long)jc[JA4C_REASSEMBLED],
                (unsigned long long)jc[JA4C_POOL_EMPTY]);
    if (r->detection)
        fprintf(fp,
                "  detection   %llu egress flows matched, %llu hit a signature; %llu alerts "
                "(%llu critical, %llu high, %llu medium, %llu low), %llu repeats suppressed\n"
                "              %llu DNS bindings learned, %llu flows named by a vendor dissector\n",
                (unsigned long long)rc->det.flows_matched, (unsigned long long)rc->det.flows_hit,
                (unsigned long long)rc->al.alerts,
                (unsigned long long)rc->al.by_severity[SIG_SEV_CRITICAL],
                (unsigned long long)rc->al.by_severity[SIG_SEV_HIGH],
                (unsigned long long)rc->al.by_severity[SIG_SEV_MEDIUM],
                (unsigned long long)rc->al.by_severity[SIG_SEV_LOW],
                (unsigned long long)rc->al.suppressed, (unsigned long long)rc->det.dns_bindings,
                (unsigned long long)rc->det.dis_verdicts);
    if (r->rs != NULL)
        out_redis_print_summary(fp, r->rs, r->redis_url, r->redis_spool_dir);
    fprintf(fp, "  memory      %zu bytes per tracked flow, peak %llu flows, peak RSS %s\n",
            r->bytes_per_flow, (unsigned long long)rc->ft.peak_active,
            stats_bytes((double)r->peak_rss_kb * 1024.0, c, sizeof(c)));
    fprintf(fp, "  time        %.2f s, %s packets/s, %u %s\n", r->elapsed_s,
            stats_human(rate, a, sizeof(a)), r->workers > 1 ? r->workers : 1u,
            r->workers > 1 ? "workers" : "worker");

    if (dec_err) {
        fprintf(fp, "\n  decode errors\n");
        for (int i = 0; i < DEC_MAX; i++)
            if (i != DEC_NOT_IP && ps->dec.ctr[i])
                fprintf(fp, "    %-28s %llu\n", decode_counter_name(i),
                        (unsigned long long)ps->dec.ctr[i]);
    }
    if (rc->fr.first || rc->fr.later)
        fprintf(fp, "  fragments   %llu first, %llu later (%llu attributed, %llu orphaned)\n",
                (unsigned long long)rc->fr.first, (unsigned long long)rc->fr.later,
                (unsigned long long)rc->fr.matched, (unsigned long long)rc->fr.orphans);

    size_t n = top_apps(ps, idx, top);
    if (n) {
        fprintf(fp, "\n  top applications by bytes out   %12s %12s %8s\n", "bytes out", "bytes",
                "flows");
        for (size_t i = 0; i < n; i++) {
            const struct app_tally *t = &ps->apps[idx[i]];
            fprintf(fp, "    %-30s %12s %12s %8llu\n", t->name,
                    stats_bytes((double)t->bytes_out, a, sizeof(a)),
                    stats_bytes((double)t->bytes, b, sizeof(b)), (unsigned long long)t->flows);
        }
    }
    n = top_countries(ps, idx, top);
    fprintf(fp, "\n  top destination countries by bytes out (egress)\n");
    if (n == 0)
        fprintf(fp, "    (none: no egress flow to a located address)\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "    %c%c  %12s %8llu flows\n", (int)('A' + idx[i] / 26),
                (int)('A' + idx[i] % 26),
                stats_bytes((double)ps->country_bytes_out[idx[i]], a, sizeof(a)),
                (unsigned long long)ps->country_flows[idx[i]]);
    }
    if (ps->unknown_country_bytes_out)
        fprintf(fp, "    ??  %12s (not located)\n",
                stats_bytes((double)ps->unknown_country_bytes_out, a, sizeof(a)));
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
