/* run.c -- the run: files or live capture, progress and status, reload, finish. */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "assets.h"
#include "config.h"
#include "flow.h"
#include "inputs.h"
#include "live-workers.h"
#include "log.h"
#include "options.h"
#include "output-json-flow.h"
#include "output-metrics.h"
#include "output-redis.h"
#include "output-report.h"
#include "pipeline.h"
#include "privs.h"
#include "reload.h"
#include "source-pcap-file.h"
#include "stats.h"
#include "util.h"

atomic_int run_stop;
atomic_int run_hup;
atomic_int run_reopen;
atomic_int run_capturing;

/* What the loops keep between calls: one run per process, driven by the
 * main thread only. */
static struct {
    const struct options *o;
    struct stages *st;
    double start;
    double last_progress, last_health, last_line; /* run_now() */
    uint64_t last_packets;
    const char *file;
    bool show;         /* the progress line (reading files) */
    unsigned interval; /* the status line (live), seconds; 0 none */
    char reload_msg[1536];
    double next_report;  /* live: when the report is rewritten next */
    bool report_failing; /* live: the last rewrite failed (logged once) */
    /* reading files: each input as read, and where each starts in the
     * packet stream (the pipelines stamp flows with their file) */
    struct run_input *inputs;
    uint64_t *input_starts;
    atomic_uint n_inputs_started;
    unsigned cur;        /* the input being read, index */
    uint64_t done_bytes; /* sizes of the inputs before it */
    uint64_t clock_us;   /* latest packet time since the last restart; 0 none */
    uint64_t max_gap_us; /* continue_gap_us() */
    bool boundary;       /* the next packet is an input's first */
    struct run_report rep;
    struct run_counters totals; /* large: not on a stack */
} R;

/* Seconds on the monotonic clock. */
static double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_begin(const struct options *o, struct stages *st)
{
    R.o = o;
    R.st = st;
    R.start = run_now();
    R.last_line = R.start;
    R.show = o->progress < 0 ? (!o->quiet && isatty(STDERR_FILENO)) : o->progress;
    R.interval = o->quiet ? 0 : o->stats_interval;
    R.next_report = R.start + st->report_every_s;
}

/* Every counter of the run so far into R.totals. While several workers
 * read files, their pipelines are theirs: only the progress figures are
 * read then (final: every thread is done). */
static const struct run_counters *collect(bool final)
{
    struct stages *st = R.st;
    struct run_counters *rc = &R.totals;
    memset(rc, 0, sizeof(*rc));
    if (st->live != NULL) {
        live_workers_counters(st->live, rc);
    } else if (st->workers != NULL && !final) {
        workers_progress(st->workers, &rc->ps.packets, &rc->ft.created);
    } else {
        for (unsigned i = 0; i < st->n; i++)
            pipeline_counters_add(st->pls[i], rc);
    }
    if (st->workers != NULL && final) { /* the dispatcher decodes and keeps the clock */
        rc->ps.time_backwards += workers_time_backwards(st->workers);
        ctr_add(&decode_counters, &rc->ps.dec, workers_decode_stats(st->workers));
    }
    alert_sink_stats(st->sink, &rc->al);
    if (st->assets != NULL)
        rc->as = *assets_stats(st->assets);
    return rc;
}

static void add_health(const struct ctr_desc *d, uint64_t value, void *ud)
{
    struct out_redis_health *h = ud;
    if (h->n < OUT_REDIS_HEALTH_MAX) {
        h->name[h->n] = d->name;
        h->value[h->n++] = value;
    }
}

/* Hand every counter of the run to the Redis output, by name (its thread
 * writes them into the stats hash). */
static void push_health(const struct run_counters *rc)
{
    static struct out_redis_health h; /* the main thread's alone */
    h.n = 0;
    run_counters_foreach(rc, add_health, &h);
    out_redis_health(R.st->redis, &h);
}

/* The metrics file (output-metrics.h) with the counters rc and the Redis
 * output's own, at time t; final: the end of the run. Returns 0 or -1
 * (logged). */
static int write_metrics(const struct run_counters *rc, double t, bool final)
{
    struct out_redis_stats rs;
    if (R.st->redis != NULL)
        out_redis_stats(R.st->redis, &rs);
    struct out_metrics_src src = {.c = rc,
                                  .rs = R.st->redis != NULL ? &rs : NULL,
                                  .detection = R.st->detection,
                                  .live = R.st->live != NULL};
    return out_metrics_write(R.st->metrics, &src, t, final);
}

/* At time t: the Redis health once a second, and the totals when a line
 * is due. Returns the totals when either was due, else NULL. */
static const struct run_counters *health_and_totals(double t, bool line)
{
    bool health = R.st->redis != NULL && t - R.last_health >= 1.0;
    if (!health && !line)
        return NULL;
    const struct run_counters *rc = collect(false);
    if (health) {
        R.last_health = t;
        push_health(rc);
    }
    return rc;
}

/* Most flows external: home_net does not hold the site's addresses (a
 * site numbered in global IPv6 or public IPv4 with the default list), and
 * no flow can be egress, so nothing can alert. Said once, naming where
 * home_net was set, when at least EXTERNAL_MIN flows were seen. */
#define EXTERNAL_MIN 50
static void warn_external(const struct run_counters *rc)
{
    static bool said;
    char where[CONFIG_PATH_MAX + 64];
    uint64_t ext = rc->ps.flows_by_dir[FLOW_DIR_EXTERNAL], all = 0;
    for (int d = 0; d < FLOW_DIR_MAX; d++)
        all += rc->ps.flows_by_dir[d];
    if (said || all < EXTERNAL_MIN || ext * 2 <= all)
        return;
    said = true;
    log_msg(LOG_WARNING,
            "%llu of %llu flows (%.0f%%) have neither end in home_net, so they can never "
            "alert: does %s hold this site's addresses (its public or global IPv6 prefixes)?",
            (unsigned long long)ext, (unsigned long long)all, 100.0 * (double)ext / (double)all,
            config_where(R.st->cfg, "home_net", where, sizeof(where)));
}

/* SIGUSR1 (or SIGHUP, live): the flows and alerts files are closed and
 * their paths opened again, between two records, so that nothing is lost
 * or written twice across a rotation. */
static void reopen(void)
{
    char err[1200];
    if (!atomic_exchange(&run_reopen, 0))
        return;
    int bad = 0;
    if (out_flows_reopen(R.st->flows, err, sizeof(err)) < 0)
        bad = 1, log_msg(LOG_ERR, "flows: %s", err);
    if (alert_sink_reopen(R.st->sink, err, sizeof(err)) < 0)
        bad = 1, log_msg(LOG_ERR, "alerts: %s", err);
    if (!bad)
        log_msg(LOG_NOTICE, "outputs reopened");
}

/* The width of the terminal on standard error, 80 when it is not one. */
static unsigned term_cols(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* Called every few thousand packets: the progress line, Redis health. The
 * line: which input of how many, how far through the whole set (bytes),
 * the rate, packets and flows; then the file's name, cut from the left to
 * what the terminal leaves. */
static void on_progress(double frac, const struct source_file_stats *fs, void *ud)
{
    double t = run_now();
    (void)ud;
    reopen();
    const struct run_counters *rc = health_and_totals(t, R.show && t - R.last_progress >= 0.25);
    if (rc == NULL || !R.show)
        return;
    R.last_progress = t;
    const struct input_list *in = R.st->in;
    char a[16], b[16], c[16], d[16], line[256];
    double el = t - R.start;
    uint64_t done =
        R.done_bytes + (fs->file_size && frac >= 0 ? (uint64_t)(frac * (double)fs->file_size) : 0);
    int n = snprintf(line, sizeof(line), "  [%u/%u]", R.cur + 1, in->n);
    if (in->total_size > 0)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %3.0f%% of %s",
                      100.0 * (double)done / (double)in->total_size,
                      stats_bytes((double)in->total_size, a, sizeof(a)));
    n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s/s  %s packets  %s flows",
                  stats_bytes(el > 0 ? (double)done / el : 0, b, sizeof(b)),
                  stats_human((double)rc->ps.packets, c, sizeof(c)),
                  stats_human((double)rc->ft.created, d, sizeof(d)));
    size_t cols = term_cols() - 1, len = strlen(R.file);
    size_t room = (size_t)n + 10 < cols ? cols - (size_t)n - 2 : 0;
    if (room > 0)
        fprintf(stderr, "\r%s  %s%s\033[K", line, len > room ? "..." : "",
                len > room ? R.file + len - (room - 3) : R.file);
    else
        fprintf(stderr, "\r%.*s\033[K", (int)cols, line);
}

/* The input about to be read does not continue the previous one: its
 * flows end and every stage starts afresh (pipeline_restart()). */
static void restart(struct stages *st)
{
    char err[256];
    R.rep.time_restarts++;
    R.clock_us = 0;
    uint64_t order;
    if (st->workers != NULL) {
        order = workers_restart(st->workers);
    } else {
        order = pipeline_next_order(st->pls[0]);
        if (pipeline_restart(st->pls[0], order, err, sizeof(err)) < 0) {
            R.rep.restart_errors++;
            log_msg(LOG_WARNING, "%s: %s; nDPI's caches carry over from the previous capture",
                    R.file, err);
        }
    }
    alert_sink_restart(st->sink, order);
}

/* Every frame goes to the workers or the one pipeline through here: the
 * first of each input decides whether the input continues the previous
 * one in time. */
static void on_packet(void *ud, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                      size_t wirelen)
{
    struct stages *st = ud;
    if (R.boundary) {
        R.boundary = false;
        if (R.clock_us != 0 && (ts_us < R.clock_us || ts_us - R.clock_us > R.max_gap_us))
            restart(st);
    }
    if (ts_us > R.clock_us)
        R.clock_us = ts_us;
    if (st->workers != NULL)
        workers_packet(st->workers, dlt, ts_us, frame, caplen, wirelen);
    else
        pipeline_packet(st->pls[0], dlt, ts_us, frame, caplen, wirelen);
}

/* How far after the previous capture's last packet the next capture may
 * begin and still continue it: the shortest idle timeout of an open flow
 * (ICMP's 30 s by default). A rotated or split capture ("tcpdump -G",
 * "editcap -c") goes on within a packet's gap; captures taken apart do
 * not, and read as one they would end each other's flows ("idle" instead
 * of "end-of-input") and share nDPI's and the DNS cache's memory. */
static uint64_t continue_gap_us(const struct sensor_config *c)
{
    uint32_t t[] = {c->timeout_tcp, c->timeout_udp, c->timeout_icmp, c->timeout_other};
    uint32_t m = t[0];
    for (size_t i = 1; i < ARRAY_SIZE(t); i++)
        if (t[i] < m)
            m = t[i];
    return (uint64_t)m * 1000000u;
}

int run_files(const struct options *o, struct stages *st)
{
    char err[1024];
    int rc = 0;
    uint64_t seq = 0;
    const struct input_list *in = st->in;
    run_begin(o, st);
    R.inputs = calloc(in->n ? in->n : 1, sizeof(*R.inputs));
    R.input_starts = calloc(in->n ? in->n : 1, sizeof(*R.input_starts));
    if (R.inputs == NULL || R.input_starts == NULL) {
        log_msg(LOG_ERR, "out of memory for %u inputs", in->n);
        return EXIT_RUNTIME;
    }
    R.max_gap_us = continue_gap_us(st->cfg);
    R.rep.files_skipped = in->skipped;
    for (unsigned i = 0; i < st->n; i++) /* flows know their file */
        pipeline_set_inputs(st->pls[i], R.input_starts, (const char *const *)in->paths,
                            &R.n_inputs_started);
    R.rep.inputs = R.inputs;
    for (unsigned i = 0; i < in->n && !atomic_load(&run_stop); i++) {
        struct source_file_stats fs;
        R.cur = i;
        R.file = in->paths[i];
        R.boundary = true;
        R.input_starts[i] = seq + 1;
        atomic_store_explicit(&R.n_inputs_started, i + 1, memory_order_release);
        int r = source_pcap_file_read(in->paths[i], o->bpf, on_packet, st, &run_stop, on_progress,
                                      NULL, &fs, err, sizeof(err));
        if (R.show)
            fprintf(stderr, "\r\033[K");
        seq += fs.packets;
        R.done_bytes += in->sizes[i];
        R.inputs[i] = (struct run_input){.path = in->paths[i],
                                         .status = r,
                                         .packets = fs.packets,
                                         .bytes = fs.bytes,
                                         .first_us = fs.first_us,
                                         .last_us = fs.last_us};
        R.rep.n_inputs = i + 1;
        if (r == SRC_FILE_ERROR) {
            log_msg(LOG_ERR, "%s", err);
            R.rep.files_failed++;
            rc = EXIT_RUNTIME;
        } else if (r == SRC_FILE_DAMAGED) {
            log_msg(LOG_ERR, "%s", err);
            R.rep.files_damaged++;
            R.rep.files_read++;
            rc = EXIT_RUNTIME;
        } else if (r == SRC_FILE_TRUNCATED) {
            log_msg(LOG_WARNING, "%s", err);
            R.rep.files_truncated++;
            R.rep.files_read++;
        } else {
            R.rep.files_read++;
        }
    }
    if (st->workers != NULL)
        R.rep.restart_errors += (unsigned)workers_restart_failures(st->workers);
    if (atomic_load(&run_stop) && !o->quiet)
        log_msg(LOG_NOTICE, "interrupted; finishing flows");
    return rc;
}

/* SIGHUP: load the configuration and the pack again; the workers switch
 * at their next tick. */
static void reload(void)
{
    char restart[512];
    char *msg = R.reload_msg;
    if (atomic_exchange(&run_hup, 0)) {
        int r = reloader_load(R.st->reload, R.st->sink, msg, sizeof(R.reload_msg), restart,
                              sizeof(restart));
        if (r == RELOAD_BUSY) {
            atomic_store(&run_hup, 1); /* again at the next tick */
        } else if (r == RELOAD_REFUSED) {
            log_msg(LOG_ERR,
                    "reload refused: %s; still running the previous configuration "
                    "and signatures",
                    msg);
        } else if (restart[0]) {
            log_msg(LOG_WARNING,
                    "reload: %s changed; the new value takes effect at the "
                    "next start",
                    restart);
        }
    }
    if (reloader_collect(R.st->reload)) /* every worker has switched */
        log_msg(LOG_NOTICE, "reloaded %s", msg);
}

/* The report's data, made under the alert sink's lock. */
struct report_job {
    struct out_report_src src;
    json_t *doc;
};

static int build_report(void *ud)
{
    struct report_job *j = ud;
    j->doc = out_report_data(&j->src);
    return j->doc != NULL ? 0 : -1;
}

/* The report (--report) of the run so far, rep: its data built under the
 * alert sink's lock (the inventory and the evidence stand still while the
 * workers wait), the file written after it. A live run's configuration and
 * pack are the newest a SIGHUP brought. Returns 0, or -1 with the message
 * in errbuf. */
static int write_report(struct stages *st, const struct run_report *rep, char *errbuf,
                        size_t errlen)
{
    struct report_job j = {.src = {.rep = rep,
                                   .cfg = st->cfg,
                                   .pack = st->pack,
                                   .geo = st->geo,
                                   .ev = st->evidence,
                                   .assets = st->assets}};
    if (st->reload != NULL)
        reloader_current(st->reload, &j.src.cfg, &j.src.pack);
    alert_sink_locked(st->sink, build_report, &j);
    int rc = out_report_write_doc(st->report_path, st->cfg->report_template, j.doc, errbuf, errlen);
    json_decref(j.doc);
    return rc;
}

/* Live with --report-interval: rewrite the report when it is due, for a
 * web server to serve (the file is replaced atomically). A failure is
 * logged when it starts and when it ends, not at every rewrite. */
static void report_tick(double t)
{
    struct stages *st = R.st;
    char err[1024];
    if (st->report_every_s == 0 || !st->report_path[0] || t < R.next_report)
        return;
    R.next_report = t + st->report_every_s;
    struct run_report rep = {.c = collect(false),
                             .detection = st->detection,
                             .assets = st->assets,
                             .workers = st->n,
                             .elapsed_s = t - R.start,
                             .ifaces = R.o->ifaces,
                             .n_ifaces = R.o->n_ifaces};
    if (write_report(st, &rep, err, sizeof(err)) < 0) {
        if (!R.report_failing)
            log_msg(LOG_ERR, "%s; trying again in %u s", err, st->report_every_s);
        R.report_failing = true;
    } else if (R.report_failing) {
        log_msg(LOG_NOTICE, "%s: written again", st->report_path);
        R.report_failing = false;
    }
}

/* The main thread's tick while the workers capture (five times a second):
 * a SIGHUP, the flow records' file, Redis health, the report, the status
 * line. */
static void live_tick(void)
{
    double t = run_now();
    reload();
    reopen();
    report_tick(t);
    /* A live run's records should reach their file while it runs. */
    out_flows_flush(R.st->flows);
    if (out_metrics_due(R.st->metrics, t))
        write_metrics(collect(false), t, false);
    bool line = R.interval != 0 && t - R.last_line >= (double)R.interval;
    const struct run_counters *rc = health_and_totals(t, line);
    if (rc == NULL || !line)
        return;
    warn_external(rc);
    char a[16], rs[160];
    out_redis_status(R.st->redis, rs, sizeof(rs)); /* "" without Redis */
    double rate = (double)(rc->ps.packets - R.last_packets) / (t - R.last_line);
    log_msg(LOG_INFO,
            "status: %llu packets (%s/s), %llu dropped (kernel %llu, interface %llu), "
            "%llu flows active, %llu alerts%s%s",
            (unsigned long long)rc->ps.packets, stats_human(rate, a, sizeof(a)),
            (unsigned long long)(rc->cap.drops + rc->cap.if_drops),
            (unsigned long long)rc->cap.drops, (unsigned long long)rc->cap.if_drops,
            (unsigned long long)rc->ft.active, (unsigned long long)rc->al.alerts, rs[0] ? "; " : "",
            rs);
    R.last_line = t;
    R.last_packets = rc->ps.packets;
}

int run_live(const struct options *o, struct stages *st)
{
    char names[512], err[512];
    int rc = 0, r;
    run_begin(o, st);
    live_workers_names(st->live, names, sizeof(names));
    const char *who = o->user ? o->user : privs_running_as_root() ? "root" : "an unprivileged user";
    log_msg(LOG_INFO, "capturing on %s as %s (snaplen %d, buffer %u MiB per interface, %u %s)",
            names, who, o->snaplen, o->buffer_mb, st->n, st->n == 1 ? "worker" : "workers");
    if (live_workers_start(st->live, &run_stop, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        r = SRC_LIVE_FAILED;
    } else {
        while (!atomic_load(&run_stop) && live_workers_running(st->live)) {
            struct timespec nap = {0, 200 * 1000 * 1000};
            nanosleep(&nap, NULL); /* a signal cuts it short */
            live_tick();
        }
        r = SRC_LIVE_STOPPED;
    }
    int j = live_workers_join(st->live); /* one worker ended: the others stop too */
    if (r == SRC_LIVE_STOPPED)
        r = j;
    unsigned lost = live_workers_lost(st->live);
    R.rep.ifaces_lost = lost;
    if (r == SRC_LIVE_ALL_LOST)
        log_msg(LOG_ERR, "no interface left to capture on; finishing flows");
    else if (r == SRC_LIVE_FAILED)
        log_msg(LOG_ERR, "capture failed; finishing flows");
    else
        log_msg(LOG_NOTICE, "stopping on a signal; finishing flows");
    if (lost || r == SRC_LIVE_FAILED)
        rc = EXIT_RUNTIME;
    return rc;
}

int run_finish(const struct options *o, struct stages *st, int rc)
{
    char err[1024];
    struct run_report *rep = &R.rep;

    if (st->workers != NULL)
        workers_finish(st->workers); /* each worker flushes its own flows */
    else if (st->live == NULL)
        for (unsigned i = 0; i < st->n; i++)
            pipeline_flush(st->pls[i]);
    alert_sink_release(st->sink, UINT64_MAX);

    rep->c = collect(true);
    if (!o->quiet)
        warn_external(rep->c);
    rep->detection = st->detection;
    rep->assets = st->assets;
    rep->workers = st->n;
    rep->top_n = 10;
    rep->bytes_per_flow = st->live != NULL ? live_workers_bytes_per_flow(st->live)
                                           : pipeline_bytes_per_flow(st->pls[0]);
    rep->elapsed_s = run_now() - R.start;
    rep->peak_rss_kb = stats_peak_rss_kb();
    if (st->live != NULL) {
        rep->ifaces = o->ifaces;
        rep->n_ifaces = o->n_ifaces;
    }

    /* Redis: the last health numbers, then wait (bounded) for delivery. */
    struct out_redis_stats rst;
    if (st->redis != NULL) {
        push_health(rep->c);
        rep->redis_undelivered =
            out_redis_finish(st->redis, st->cfg->redis_flush_timeout * 1000u, &run_stop);
        out_redis_stats(st->redis, &rst);
        rep->rs = &rst;
        rep->redis_url = st->redis_desc;
        rep->redis_spool_dir = st->spool_dir;
        uint64_t lost = out_redis_lost(&rst);
        if (lost > 0 && rc == 0)
            rc = EXIT_LOST;
        else if (rep->redis_undelivered > 0 && rc == 0)
            rc = EXIT_UNDELIVERED;
        if (o->quiet && rep->redis_undelivered > 0) /* exit 3 says why, even quiet */
            log_msg(LOG_WARNING, "redis: %llu alerts left in the spool %s",
                    (unsigned long long)rep->redis_undelivered, st->spool_dir);
        if (o->quiet && lost > 0)
            log_msg(LOG_WARNING, "redis: %llu alerts lost (see --stats)", (unsigned long long)lost);
    }

    if (st->metrics != NULL && write_metrics(rep->c, run_now(), true) < 0)
        rc = EXIT_RUNTIME;
    if (out_flows_close(st->flows, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    st->flows = NULL;
    if (!o->quiet) {
        stats_print_summary(stderr, rep);
        assets_print_table(st->assets, stderr);
        fprintf(stderr, "\n");
    }
    if (st->assets_path[0] && assets_write_json(st->assets, st->cfg->sensor_name, st->assets_path,
                                                err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    if (st->stats_path[0] && stats_write_json(st->stats_path, rep, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    if (st->report_path[0] && write_report(st, rep, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    return rc;
}
