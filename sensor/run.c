/* run.c -- the run loop: files or live capture, progress, status, reload. */
#include "run.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "flow.h"
#include "log.h"
#include "options.h"
#include "output-json-flow.h"
#include "output-redis.h"
#include "pipeline.h"
#include "privs.h"
#include "reload.h"
#include "source-pcap-file.h"
#include "stats.h"
#include "workers.h"

volatile sig_atomic_t run_stop;
volatile sig_atomic_t run_hup;

double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void get_totals(struct run *pr, struct run_totals *t)
{
    memset(t, 0, sizeof(*t));
    if (pr->lws != NULL) {
        for (unsigned i = 0; i < pr->n; i++) {
            struct live_worker *lw = &pr->lws[i];
            pthread_mutex_lock(&lw->mu);
            t->ls.packets += lw->ls.packets;
            t->ls.bytes += lw->ls.bytes;
            t->ls.received += lw->ls.received;
            t->ls.drops += lw->ls.drops;
            t->ls.if_drops += lw->ls.if_drops;
            t->ls.ifaces = lw->ls.ifaces;
            if (lw->ls.lost > t->ls.lost)
                t->ls.lost = lw->ls.lost;
            t->flows += lw->flows_created;
            t->active += lw->flows_active;
            pthread_mutex_unlock(&lw->mu);
        }
        t->packets = t->ls.packets;
        return;
    }
    if (pr->workers != NULL) {
        workers_progress(pr->workers, &t->packets, &t->flows);
        return;
    }
    t->packets = pipeline_stats(pr->pl)->packets;
    t->flows = pipeline_flow_stats(pr->pl)->created;
    t->active = pipeline_flow_stats(pr->pl)->active;
    if (pr->live != NULL) {
        source_live_stats(pr->live, &t->ls);
        t->packets = t->ls.packets;
    }
}

void run_push_health(struct run *pr, const struct run_totals *t)
{
    struct out_redis_health h;
    struct alert_stats as;
    alert_sink_stats(pr->sink, &as);
    memset(&h, 0, sizeof(h));
    h.packets = t->packets;
    h.flows = t->flows;
    h.alerts = as.alerts;
    h.suppressed = as.suppressed;
    h.drops = t->ls.drops;
    h.if_drops = t->ls.if_drops;
    out_redis_health(pr->redis, &h);
}

/* At time t: the Redis health once a second, and the totals when a line
 * is due (line). Returns line, with *tot filled when it is set. */
static int health_and_totals(struct run *pr, double t, int line, struct run_totals *tot)
{
    int health = pr->redis != NULL && t - pr->last_health >= 1.0;
    if (!health && !line)
        return 0;
    get_totals(pr, tot);
    if (health) {
        pr->last_health = t;
        run_push_health(pr, tot);
    }
    return line;
}

/* Called every few thousand packets: the progress line, Redis health. */
static void on_progress(double frac, const struct source_file_stats *fs, void *ud)
{
    struct run *pr = ud;
    struct run_totals tot;
    double t = run_now();
    (void)fs;
    if (!health_and_totals(pr, t, pr->show && t - pr->last >= 0.25, &tot))
        return;
    pr->last = t;
    char a[16], b[16], c[16];
    fprintf(stderr, "\r  %s: ", pr->file);
    if (frac >= 0)
        fprintf(stderr, "%3.0f%%  ", frac * 100.0);
    fprintf(stderr, "%s packets  %s pkt/s  %s flows   ", stats_human((double)tot.packets, a, 16),
            stats_human((double)tot.packets / (t - pr->start), b, 16),
            stats_human((double)tot.flows, c, 16));
}

/* SIGHUP: load the configuration and the pack again; the workers switch
 * at their next tick (this one's own pipeline, with one worker, now). */
static void reload(struct run *pr)
{
    char restart[512];
    char *msg = pr->reload_msg;
    if (run_hup) {
        run_hup = 0;
        int r = reloader_load(pr->reload, pr->sink, msg, sizeof(pr->reload_msg), restart,
                              sizeof(restart));
        if (r == RELOAD_BUSY) {
            run_hup = 1; /* again at the next tick */
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
    if (pr->lws == NULL)
        reloader_apply(pr->reload, 0, pr->pl);
    if (reloader_collect(pr->reload)) /* every worker has switched */
        log_msg(LOG_NOTICE, "reloaded %s", msg);
}

/* Called once a second by the capture loop (by the main thread, five
 * times a second, with several workers): Redis health, the status line, a
 * SIGHUP. */
static void on_live_tick(void *ud, uint64_t wall_us)
{
    struct run *pr = ud;
    double t = run_now();
    (void)wall_us;
    reload(pr);
    /* A live run's records should reach their file while it runs. */
    out_flows_flush(pr->flows);
    struct run_totals tot;
    int line = pr->interval != 0 && t - pr->last_line >= (double)pr->interval;
    if (!health_and_totals(pr, t, line, &tot))
        return;
    const struct source_live_stats *ls = &tot.ls;
    struct alert_stats as;
    char a[16], rs[160];
    alert_sink_stats(pr->sink, &as);
    out_redis_status(pr->redis, rs, sizeof(rs)); /* "" without Redis */
    double rate = (double)(ls->packets - pr->last_packets) / (t - pr->last_line);
    log_msg(LOG_INFO,
            "status: %llu packets (%s/s), %llu dropped (kernel %llu, interface %llu), "
            "%llu flows active, %llu alerts%s%s",
            (unsigned long long)ls->packets, stats_human(rate, a, sizeof(a)),
            (unsigned long long)(ls->drops + ls->if_drops), (unsigned long long)ls->drops,
            (unsigned long long)ls->if_drops, (unsigned long long)tot.active,
            (unsigned long long)as.alerts, rs[0] ? "; " : "", rs);
    pr->last_line = t;
    pr->last_packets = ls->packets;
}

static void to_workers(void *w, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                       size_t wirelen)
{
    workers_packet(w, dlt, ts_us, frame, caplen, wirelen);
}

/* Read the -r files in order into the pipeline (or the workers). Returns
 * the exit code. */
int run_files(const struct options *o, struct run *pr, struct run_report *rep)
{
    char err[1024];
    int rc = 0;
    for (unsigned i = 0; i < o->n_inputs && !run_stop; i++) {
        struct source_file_stats fs;
        pr->file = o->inputs[i];
        int r = pr->workers != NULL
                    ? source_pcap_file_read(o->inputs[i], o->bpf, to_workers, pr->workers,
                                            &run_stop, on_progress, pr, &fs, err, sizeof(err))
                    : source_pcap_file_run(o->inputs[i], o->bpf, pr->pl, &run_stop, on_progress, pr,
                                           &fs, err, sizeof(err));
        if (pr->show)
            fprintf(stderr, "\r%*s\r", 79, "");
        if (r == SRC_FILE_ERROR) {
            log_msg(LOG_ERR, "%s", err);
            rep->files_failed++;
            rc = EXIT_RUNTIME;
        } else if (r == SRC_FILE_TRUNCATED) {
            log_msg(LOG_WARNING, "%s", err);
            rep->files_truncated++;
            rep->files_read++;
        } else {
            rep->files_read++;
        }
    }
    if (run_stop && !o->quiet)
        log_msg(LOG_NOTICE, "interrupted; finishing flows");
    return rc;
}

/* A live worker's second: publish its counters for the status line. */
static void on_worker_tick(void *ud, uint64_t wall_us)
{
    struct live_worker *lw = ud;
    struct source_live_stats ls;
    (void)wall_us;
    reloader_apply(lw->reload, lw->index, lw->pl);
    source_live_stats(lw->src, &ls);
    const struct flow_table_stats *fts = pipeline_flow_stats(lw->pl);
    pthread_mutex_lock(&lw->mu);
    lw->ls = ls;
    lw->flows_created = fts->created;
    lw->flows_active = fts->active;
    pthread_mutex_unlock(&lw->mu);
}

static void *live_worker_main(void *arg)
{
    struct live_worker *lw = arg;
    lw->rc = source_live_run(lw->src, lw->pl, &run_stop, on_worker_tick, lw);
    source_live_stop(lw->src);
    on_worker_tick(lw, 0);
    atomic_store(&lw->running, 0);
    return NULL;
}

/* Capture on the open interfaces until a signal or until every one is
 * gone. With several workers, each captures on its own thread and this
 * one keeps the clock: outputs, health, the status line. Returns the exit
 * code. */
int run_live(const struct options *o, struct run *pr, struct run_report *rep)
{
    char names[512];
    int rc = 0, r = SRC_LIVE_STOPPED;
    struct source_live_stats ls;
    source_live_names(pr->live, names, sizeof(names));
    const char *who = o->user ? o->user : privs_running_as_root() ? "root" : "an unprivileged user";
    log_msg(LOG_INFO, "capturing on %s as %s (snaplen %d, buffer %u MiB per interface, %u %s)",
            names, who, o->snaplen, o->buffer_mb, pr->n, pr->n == 1 ? "worker" : "workers");
    pr->last_line = run_now();
    if (pr->lws == NULL) {
        r = source_live_run(pr->live, pr->pl, &run_stop, on_live_tick, pr);
        source_live_stop(pr->live);
        source_live_stats(pr->live, &ls);
    } else {
        /* the workers never take a signal: this thread does */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        for (unsigned i = 0; i < pr->n; i++) {
            struct live_worker *lw = &pr->lws[i];
            atomic_store(&lw->running, 1);
            int e = pthread_create(&lw->thread, NULL, live_worker_main, lw);
            if (e != 0) {
                atomic_store(&lw->running, 0);
                log_msg(LOG_ERR, "cannot start worker %u: %s", i + 1, strerror(e));
                run_stop = 1;
                r = SRC_LIVE_FAILED;
                break;
            }
            lw->started = 1;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        for (;;) {
            struct timespec nap = {0, 200 * 1000 * 1000};
            nanosleep(&nap, NULL); /* a signal cuts it short */
            unsigned alive = 0;
            for (unsigned i = 0; i < pr->n; i++)
                alive += (unsigned)atomic_load(&pr->lws[i].running);
            if (run_stop || alive < pr->n)
                break;
            on_live_tick(pr, 0);
        }
        run_stop = 1; /* one worker ended: the others stop too */
        memset(&ls, 0, sizeof(ls));
        for (unsigned i = 0; i < pr->n; i++) {
            struct live_worker *lw = &pr->lws[i];
            if (lw->started)
                pthread_join(lw->thread, NULL);
            lw->started = 0;
            if (lw->rc == SRC_LIVE_FAILED || (lw->rc == SRC_LIVE_ALL_LOST && r == SRC_LIVE_STOPPED))
                r = lw->rc;
        }
        struct run_totals tot;
        get_totals(pr, &tot);
        ls = tot.ls;
    }

    rep->ifaces = o->ifaces;
    rep->n_ifaces = o->n_ifaces;
    rep->ifaces_lost = ls.lost;
    rep->cap_received = ls.received;
    rep->cap_drops = ls.drops;
    rep->cap_if_drops = ls.if_drops;
    if (r == SRC_LIVE_ALL_LOST)
        log_msg(LOG_ERR, "no interface left to capture on; finishing flows");
    else if (r == SRC_LIVE_FAILED)
        log_msg(LOG_ERR, "capture failed; finishing flows");
    else
        log_msg(LOG_NOTICE, "stopping on a signal; finishing flows");
    if (ls.lost || r == SRC_LIVE_FAILED)
        rc = EXIT_RUNTIME;
    return rc;
}
