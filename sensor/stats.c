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
#include "output-json-flow.h"
#include "pipeline.h"

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
    while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0]))
        v /= 1000.0, u++;
    if (u == 0)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.*f%s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
    return buf;
}

static const char *human_bytes(double v, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0]))
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

void stats_print_summary(FILE *fp, const struct run_report *r)
{
    const struct pipeline_stats *ps = r->ps;
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
                (unsigned long long)r->cap_received, (unsigned long long)r->cap_drops,
                (unsigned long long)r->cap_if_drops);
    } else {
        fprintf(fp, "  input       %u file(s) read", r->files_read);
        if (r->files_truncated)
            fprintf(fp, ", %u truncated", r->files_truncated);
        if (r->files_failed)
            fprintf(fp, ", %u FAILED", r->files_failed);
        fprintf(fp, "; capture spans %.1f s\n", span);
    }
    fprintf(fp, "  packets     %llu (%s), %s on the wire; %llu IP, %llu not IP, %llu malformed\n",
            (unsigned long long)ps->packets, stats_human((double)ps->packets, a, sizeof(a)),
            human_bytes((double)ps->bytes, b, sizeof(b)), (unsigned long long)ps->ip_packets,
            (unsigned long long)ps->dec.ctr[DEC_NOT_IP], (unsigned long long)dec_err);
    fprintf(fp, "  flows       %llu: %llu egress, %llu ingress, %llu internal, %llu external\n",
            (unsigned long long)r->fts->created, (unsigned long long)ps->flows_by_dir[DIR_EGRESS],
            (unsigned long long)ps->flows_by_dir[DIR_INGRESS],
            (unsigned long long)ps->flows_by_dir[DIR_INTERNAL],
            (unsigned long long)ps->flows_by_dir[DIR_EXTERNAL]);
    fprintf(fp, "  flow ends  ");
    for (int i = 1; i < FLOW_END_MAX; i++)
        fprintf(fp, " %s %llu", flow_end_name(i), (unsigned long long)r->fts->ended[i]);
    fprintf(fp, "\n  classified  %llu by inspection, %llu settled at give-up (%llu guessed)\n",
            (unsigned long long)r->cs->classified, (unsigned long long)r->cs->gave_up,
            (unsigned long long)r->cs->guessed);
    if (r->ds != NULL)
        fprintf(fp,
                "  detection   %llu egress flows matched, %llu hit a signature; %llu alerts "
                "(%llu critical, %llu high, %llu medium, %llu low), %llu repeats suppressed\n"
                "              %llu DNS bindings learned, %llu flows named by a vendor dissector\n",
                (unsigned long long)r->ds->flows_matched, (unsigned long long)r->ds->flows_hit,
                (unsigned long long)r->as.alerts,
                (unsigned long long)r->as.by_severity[SIG_SEV_CRITICAL],
                (unsigned long long)r->as.by_severity[SIG_SEV_HIGH],
                (unsigned long long)r->as.by_severity[SIG_SEV_MEDIUM],
                (unsigned long long)r->as.by_severity[SIG_SEV_LOW],
                (unsigned long long)r->as.suppressed, (unsigned long long)r->ds->dns_bindings,
                (unsigned long long)r->ds->dis_verdicts);
    if (r->rs != NULL)
        out_redis_print_summary(fp, r->rs, r->redis_url, r->redis_spool_dir);
    fprintf(fp, "  memory      %zu bytes per tracked flow, peak %llu flows, peak RSS %s\n",
            r->bytes_per_flow, (unsigned long long)r->fts->peak_active,
            human_bytes((double)r->peak_rss_kb * 1024.0, c, sizeof(c)));
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
    if (r->frs->first || r->frs->later)
        fprintf(fp, "  fragments   %llu first, %llu later (%llu attributed, %llu orphaned)\n",
                (unsigned long long)r->frs->first, (unsigned long long)r->frs->later,
                (unsigned long long)r->frs->matched, (unsigned long long)r->frs->orphans);

    size_t n = top_apps(ps, idx, top);
    if (n) {
        fprintf(fp, "\n  top applications by bytes out   %12s %12s %8s\n", "bytes out", "bytes",
                "flows");
        for (size_t i = 0; i < n; i++) {
            const struct app_tally *t = &ps->apps[idx[i]];
            fprintf(fp, "    %-30s %12s %12s %8llu\n", t->name,
                    human_bytes((double)t->bytes_out, a, sizeof(a)),
                    human_bytes((double)t->bytes, b, sizeof(b)), (unsigned long long)t->flows);
        }
    }
    n = top_countries(ps, idx, top);
    fprintf(fp, "\n  top destination countries by bytes out (egress)\n");
    if (n == 0)
        fprintf(fp, "    (none: no egress flow to a located address)\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "    %c%c  %12s %8llu flows\n", (int)('A' + idx[i] / 26),
                (int)('A' + idx[i] % 26),
                human_bytes((double)ps->country_bytes_out[idx[i]], a, sizeof(a)),
                (unsigned long long)ps->country_flows[idx[i]]);
    }
    if (ps->unknown_country_bytes_out)
        fprintf(fp, "    ??  %12s (not located)\n",
                human_bytes((double)ps->unknown_country_bytes_out, a, sizeof(a)));
    fprintf(fp, "\n");
}

static json_t *u64(uint64_t v)
{
    return json_integer((json_int_t)v);
}

int stats_write_json(const char *path, const struct run_report *r, char *errbuf, size_t errlen)
{
    const struct pipeline_stats *ps = r->ps;
    json_t *o = json_object();
    json_t *pk = json_object();
    json_object_set_new(pk, "total", u64(ps->packets));
    json_object_set_new(pk, "ip", u64(ps->ip_packets));
    json_object_set_new(pk, "not_ip", u64(ps->dec.ctr[DEC_NOT_IP]));
    json_object_set_new(pk, "bytes", u64(ps->bytes));
    json_object_set_new(pk, "bytes_out", u64(ps->bytes_out));
    json_object_set_new(pk, "time_backwards", u64(ps->time_backwards));
    json_object_set_new(o, "packets", pk);

    json_t *de = json_object();
    for (int i = 0; i < DEC_MAX; i++)
        if (i != DEC_NOT_IP)
            json_object_set_new(de, decode_counter_name(i), u64(ps->dec.ctr[i]));
    json_object_set_new(o, "decode_errors", de);

    json_t *fl = json_object();
    json_object_set_new(fl, "total", u64(r->fts->created));
    json_object_set_new(fl, "peak_active", u64(r->fts->peak_active));
    json_object_set_new(fl, "bytes_per_flow", u64(r->bytes_per_flow));
    json_t *dir = json_object();
    for (int i = 0; i < DIR_MAX; i++)
        json_object_set_new(dir, out_direction_name(i), u64(ps->flows_by_dir[i]));
    json_object_set_new(fl, "direction", dir);
    json_t *ends = json_object();
    for (int i = 1; i < FLOW_END_MAX; i++)
        json_object_set_new(ends, flow_end_name(i), u64(r->fts->ended[i]));
    json_object_set_new(fl, "end_reason", ends);
    json_object_set_new(o, "flows", fl);

    json_t *cl = json_object();
    json_object_set_new(cl, "classified", u64(r->cs->classified));
    json_object_set_new(cl, "gave_up", u64(r->cs->gave_up));
    json_object_set_new(cl, "guessed", u64(r->cs->guessed));
    json_object_set_new(cl, "dpi_packets", u64(r->cs->dpi_packets));
    json_object_set_new(cl, "dpi_active_peak", u64(r->cs->dpi_active_peak));
    json_object_set_new(cl, "dpi_alloc_fail", u64(r->cs->dpi_alloc_fail));
    json_object_set_new(o, "classification", cl);

    if (r->ds != NULL) {
        json_t *dt = json_object();
        json_object_set_new(dt, "flows_matched", u64(r->ds->flows_matched));
        json_object_set_new(dt, "flows_hit", u64(r->ds->flows_hit));
        json_object_set_new(dt, "alerts", u64(r->as.alerts));
        json_object_set_new(dt, "suppressed", u64(r->as.suppressed));
        json_t *sev = json_object();
        for (int i = 0; i < SIG_SEV_MAX; i++)
            json_object_set_new(sev, sig_severity_name(i), u64(r->as.by_severity[i]));
        json_object_set_new(dt, "by_severity", sev);
        json_object_set_new(dt, "dedup_keys_evicted", u64(r->as.keys_evicted));
        json_object_set_new(dt, "alert_write_errors", u64(r->as.write_errors));
        json_object_set_new(dt, "dns_responses", u64(r->ds->dns_responses));
        json_object_set_new(dt, "dns_bindings", u64(r->ds->dns_bindings));
        json_object_set_new(dt, "dns_bad", u64(r->ds->dns_bad));
        json_object_set_new(dt, "dissector_packets", u64(r->ds->dis_packets));
        json_object_set_new(dt, "dissector_verdicts", u64(r->ds->dis_verdicts));
        if (r->dcs != NULL) {
            json_t *dc = json_object();
            json_object_set_new(dc, "entries", u64(r->dcs->entries));
            json_object_set_new(dc, "peak_entries", u64(r->dcs->peak_entries));
            json_object_set_new(dc, "inserts", u64(r->dcs->inserts));
            json_object_set_new(dc, "updates", u64(r->dcs->updates));
            json_object_set_new(dc, "evicted", u64(r->dcs->evicted));
            json_object_set_new(dc, "expired", u64(r->dcs->expired));
            json_object_set_new(dc, "hits", u64(r->dcs->hits));
            json_object_set_new(dc, "misses", u64(r->dcs->misses));
            json_object_set_new(dt, "dns_cache", dc);
        }
        if (r->ast != NULL) {
            json_t *as = json_object();
            json_object_set_new(as, "hosts", u64(r->ast->hosts));
            json_object_set_new(as, "hosts_evicted", u64(r->ast->hosts_evicted));
            json_object_set_new(as, "products_dropped", u64(r->ast->products_dropped));
            json_object_set_new(dt, "assets", as);
        }
        json_object_set_new(o, "detection", dt);
    }

    if (r->rs != NULL)
        json_object_set_new(o, "redis", out_redis_stats_json(r->rs));

    json_t *fr = json_object();
    json_object_set_new(fr, "first", u64(r->frs->first));
    json_object_set_new(fr, "later", u64(r->frs->later));
    json_object_set_new(fr, "attributed", u64(r->frs->matched));
    json_object_set_new(fr, "orphans", u64(r->frs->orphans));
    json_object_set_new(fr, "evicted", u64(r->frs->evicted));
    json_object_set_new(fr, "expired", u64(r->frs->expired));
    json_object_set_new(fr, "active", u64(r->frs->active));
    json_object_set_new(fr, "peak_active", u64(r->frs->peak_active));
    json_object_set_new(o, "fragments", fr);

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
        json_t *cap = json_object();
        json_t *names = json_array();
        for (unsigned i = 0; i < r->n_ifaces; i++)
            json_array_append_new(names, json_string(r->ifaces[i]));
        json_object_set_new(cap, "interfaces", names);
        json_object_set_new(cap, "interfaces_lost", u64(r->ifaces_lost));
        json_object_set_new(cap, "received", u64(r->cap_received));
        json_object_set_new(cap, "kernel_drops", u64(r->cap_drops));
        json_object_set_new(cap, "if_drops", u64(r->cap_if_drops));
        json_object_set_new(o, "capture", cap);
    }

    json_t *run = json_object();
    json_object_set_new(run, "files_read", u64(r->files_read));
    json_object_set_new(run, "files_truncated", u64(r->files_truncated));
    json_object_set_new(run, "files_failed", u64(r->files_failed));
    json_object_set_new(run, "elapsed_s", json_real(r->elapsed_s));
    json_object_set_new(run, "workers", u64(r->workers ? r->workers : 1));
    json_object_set_new(run, "packets_per_s",
                        json_real(r->elapsed_s > 0 ? (double)ps->packets / r->elapsed_s : 0));
    json_object_set_new(run, "peak_rss_kb", u64((uint64_t)r->peak_rss_kb));
    json_object_set_new(o, "run", run);

    int rc = 0;
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (fp == NULL) {
        snprintf(errbuf, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
        rc = -1;
    } else {
        if (json_dumpf(o, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', fp) == EOF)
            rc = -1;
        if (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0)
            rc = -1;
        if (rc < 0)
            snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
    }
    json_decref(o);
    return rc;
}
