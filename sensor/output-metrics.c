/* output-metrics.c -- the run's counters as a Prometheus text file, replaced atomically. */
#include "output-metrics.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counters.h"
#include "log.h"
#include "output-redis.h"
#include "stats.h"

#define METRIC_PREFIX "egress_sensor_"

struct out_metrics {
    char path[PATH_MAX];
    char sensor[64];
    double interval_s;
    double last; /* time of the last write attempt */
    bool written;
    bool failing; /* the last write failed (logged once) */
};

/* ---------------------------------------------------------------- format */

/* A descriptor's metric name: the prefix, its family's or its own dotted
 * name with every character outside [A-Za-z0-9_] as '_', and "_total" for
 * a counter. */
static void metric_name(const struct ctr_desc *d, char *buf, size_t len)
{
    const char *base = d->family != NULL ? d->family : d->name;
    size_t n = strlen(METRIC_PREFIX);
    memcpy(buf, METRIC_PREFIX, n);
    for (const char *p = base; *p && n + 1 < len; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        buf[n++] = ok ? c : '_';
    }
    buf[n] = '\0';
    static const char total[] = "_total";
    if (d->kind == CTR_COUNTER &&
        (n < sizeof(total) - 1 || strcmp(buf + n - (sizeof(total) - 1), total) != 0) &&
        n + sizeof(total) <= len)
        memcpy(buf + n, total, sizeof(total));
}

/* s as a HELP text (label == false: '\\' and newline escaped) or a label
 * value (also '"'). */
static void put_escaped(FILE *fp, const char *s, bool label)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", fp);
        else if (*s == '\n')
            fputs("\\n", fp);
        else if (label && *s == '"')
            fputs("\\\"", fp);
        else
            fputc(*s, fp);
    }
}

struct fmt {
    FILE *fp;
    const char *sensor;
    const struct out_metrics_src *src;
    char last[160]; /* the metric whose HELP and TYPE were written last */
};

static void put_sample(const struct ctr_desc *d, uint64_t value, void *ud)
{
    struct fmt *f = ud;
    char name[160];
    if ((!f->src->detection && strncmp(d->name, "detection.", 10) == 0) ||
        (!f->src->live && strncmp(d->name, "capture.", 8) == 0))
        return; /* as --stats: not part of this run */
    metric_name(d, name, sizeof(name));
    if (strcmp(name, f->last) != 0) { /* a family's members come together */
        fprintf(f->fp, "# HELP %s ", name);
        put_escaped(f->fp, d->help, false);
        fprintf(f->fp, "\n# TYPE %s %s\n", name, ctr_kind_name(d->kind));
        snprintf(f->last, sizeof(f->last), "%s", name);
    }
    fprintf(f->fp, "%s{sensor=\"", name);
    put_escaped(f->fp, f->sensor, true);
    if (d->label != NULL) {
        fprintf(f->fp, "\",%s=\"", d->label);
        put_escaped(f->fp, ctr_label_value(d), true);
    }
    fprintf(f->fp, "\"} %llu\n", (unsigned long long)value);
}

int out_metrics_format(FILE *fp, const char *sensor, const struct out_metrics_src *src)
{
    struct fmt f = {.fp = fp, .sensor = sensor, .src = src};
    fprintf(fp, "# HELP " METRIC_PREFIX "info The sensor writing this file: its name and "
                "version.\n# TYPE " METRIC_PREFIX "info gauge\n" METRIC_PREFIX "info{sensor=\"");
    put_escaped(fp, sensor, true);
    fprintf(fp, "\",version=\"%s\"} 1\n", SENSOR_VERSION);
    run_counters_foreach(src->c, put_sample, &f);
    for (size_t i = 0; src->rs != NULL && i < out_redis_counters.n; i++)
        put_sample(&out_redis_counters.d[i], ctr_get(&out_redis_counters.d[i], src->rs), &f);
    return ferror(fp) ? -1 : 0;
}

/* ---------------------------------------------------------------- file */

/* A temporary file beside path, open for writing: its name into tmp
 * (PATH_MAX bytes). Returns the descriptor or -1 (errno set). */
static int open_temp(const char *path, char *tmp)
{
    if (snprintf(tmp, PATH_MAX, "%s.tmp.XXXXXX", path) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkstemp(tmp);
}

int out_metrics_new(struct out_metrics **out, const char *path, const char *sensor,
                    unsigned interval_s, char *errbuf, size_t errlen)
{
    char tmp[PATH_MAX];
    *out = NULL;
    if (path[0] == '\0' || strcmp(path, "-") == 0) {
        snprintf(errbuf, errlen,
                 "the metrics file needs a file name: it is replaced atomically, "
                 "not written to standard output");
        return -EINVAL;
    }
    int fd = open_temp(path, tmp);
    if (fd < 0) {
        int e = errno;
        snprintf(errbuf, errlen, "%s: cannot create a file in its folder: %s", path, strerror(e));
        return -e;
    }
    close(fd);
    unlink(tmp);
    struct out_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(m->path, sizeof(m->path), "%s", path);
    snprintf(m->sensor, sizeof(m->sensor), "%s", sensor);
    m->interval_s = interval_s;
    *out = m;
    return 0;
}

bool out_metrics_due(const struct out_metrics *m, double now)
{
    return m != NULL && (!m->written || now - m->last >= m->interval_s);
}

/* Write src into a temporary file beside the path, sync it, and rename it
 * over the path. Returns 0 or an errno value (nothing left behind). */
static int replace_file(const struct out_metrics *m, const struct out_metrics_src *src)
{
    char tmp[PATH_MAX];
    int fd = open_temp(m->path, tmp);
    if (fd < 0)
        return errno;
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return e;
    }
    int e = 0;
    if (out_metrics_format(fp, m->sensor, src) < 0 || fflush(fp) != 0)
        e = errno ? errno : EIO;
    /* readable by the collector, which runs as its own user */
    if (e == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
        e = errno;
    if (fclose(fp) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, m->path) != 0)
        e = errno;
    if (e != 0)
        unlink(tmp);
    return e;
}

int out_metrics_write(struct out_metrics *m, const struct out_metrics_src *src, double now,
                      bool final)
{
    if (m == NULL)
        return 0;
    m->last = now;
    m->written = true;
    errno = 0;
    int e = replace_file(m, src);
    if (e != 0) {
        if (!m->failing || final)
            log_msg(LOG_ERR, "metrics: %s: %s%s", m->path, strerror(e),
                    final ? " (at the end of the run)" : "; trying again every interval");
        m->failing = true;
        return -1;
    }
    if (m->failing)
        log_msg(LOG_NOTICE, "metrics: %s written again", m->path);
    m->failing = false;
    return 0;
}

void out_metrics_free(struct out_metrics *m)
{
    free(m);
}
