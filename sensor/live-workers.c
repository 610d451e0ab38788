/* live-workers.c -- live capture workers: sockets, pipelines, threads, counters. */
#include "live-workers.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns-cache.h"
#include "flow.h"
#include "log.h"
#include "pipeline.h"
#include "reload.h"
#include "stats.h"

struct live_worker {
    struct live_workers *lw;
    unsigned index;
    struct source_live *src;
    struct pipeline *pl;
    pthread_t thread;
    bool started;
    int rc; /* SRC_LIVE_* once ended */
    atomic_bool running;
    pthread_mutex_t mu;        /* guards snap */
    struct run_counters *snap; /* published at each tick */
};

struct live_workers {
    unsigned n;
    struct live_worker *ws;
    struct dns_cache *shared_dns; /* n > 1 */
    pthread_mutex_t dns_lock;
    struct reloader *reload;
    atomic_int *stop;
    bool joined;
};

struct live_workers *live_workers_open(const struct source_live_config *lc, unsigned n,
                                       char *errbuf, size_t errlen)
{
    struct source_live_config c = *lc;
    struct live_workers *lw = calloc(1, sizeof(*lw));
    if (lw == NULL || n == 0 || (lw->ws = calloc(n, sizeof(*lw->ws))) == NULL) {
        snprintf(errbuf, errlen, n == 0 ? "no worker" : "out of memory");
        free(lw);
        return NULL;
    }
    lw->n = n;
    pthread_mutex_init(&lw->dns_lock, NULL);
    for (unsigned i = 0; i < n; i++) {
        pthread_mutex_init(&lw->ws[i].mu, NULL);
        atomic_init(&lw->ws[i].running, false);
        lw->ws[i].lw = lw;
        lw->ws[i].index = i;
    }
    /* One fanout group per interface, with ids this process is unlikely
     * to share with another. */
    if (n > 1)
        c.fanout_group = ((unsigned)getpid() % 1000u) * SRC_LIVE_MAX_IFACES + 1u;
    for (unsigned i = 0; i < n; i++) {
        lw->ws[i].src = source_live_open(&c, log_source, NULL, errbuf, errlen);
        if (lw->ws[i].src == NULL) {
            live_workers_free(lw);
            return NULL;
        }
    }
    return lw;
}

int live_workers_setup(struct live_workers *lw, const struct sensor_config *cfg,
                       const struct geo *geo, struct out_flows *flows, const struct sig_pack *pack,
                       struct alert_sink *sink, struct reloader *reload, char *errbuf,
                       size_t errlen)
{
    lw->reload = reload;
    if (lw->n > 1) {
        lw->shared_dns = dns_cache_new(cfg->dns_cache_size, cfg->dns_min_ttl, cfg->dns_max_ttl);
        if (lw->shared_dns == NULL) {
            snprintf(errbuf, errlen, "cannot allocate a DNS cache of %u entries",
                     cfg->dns_cache_size);
            return -1;
        }
    }
    for (unsigned i = 0; i < lw->n; i++) {
        struct live_worker *w = &lw->ws[i];
        /* the kernel spreads the flows evenly: 1/n of the tables each */
        w->pl = pipeline_new_share(cfg, geo, flows, pack, sink, 1, lw->n, errbuf, errlen);
        if (w->pl == NULL)
            return -1;
        w->snap = calloc(1, sizeof(*w->snap));
        if (w->snap == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
        if (lw->shared_dns != NULL)
            pipeline_share_dns(w->pl, lw->shared_dns, &lw->dns_lock);
    }
    return 0;
}

/* The worker's counters now (on its own thread, or after it ended). */
static void worker_counters(struct live_worker *w, struct run_counters *rc)
{
    memset(rc, 0, sizeof(*rc));
    pipeline_counters_add(w->pl, rc);
    source_live_stats(w->src, &rc->cap);
}

/* A worker's second: take a pending reload, publish its counters. */
static void on_tick(void *ud, uint64_t wall_us)
{
    struct live_worker *w = ud;
    (void)wall_us;
    if (w->lw->reload != NULL)
        reloader_apply(w->lw->reload, w->index, w->pl);
    pthread_mutex_lock(&w->mu);
    worker_counters(w, w->snap);
    pthread_mutex_unlock(&w->mu);
}

static void *worker_main(void *arg)
{
    struct live_worker *w = arg;
    w->rc = source_live_run(w->src, w->pl, w->lw->stop, on_tick, w);
    source_live_stop(w->src);
    /* the worker ends its own flows: records and alerts from this thread */
    pipeline_flush(w->pl);
    on_tick(w, 0);
    atomic_store(&w->running, false);
    return NULL;
}

int live_workers_start(struct live_workers *lw, atomic_int *stop, char *errbuf, size_t errlen)
{
    sigset_t block, old;
    int rc = 0;
    lw->stop = stop;
    sigfillset(&block); /* the workers never take a signal */
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (unsigned i = 0; i < lw->n; i++) {
        struct live_worker *w = &lw->ws[i];
        atomic_store(&w->running, true);
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            atomic_store(&w->running, false);
            snprintf(errbuf, errlen, "cannot start worker %u: %s", i + 1, strerror(e));
            rc = -1;
            break;
        }
        w->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

bool live_workers_running(struct live_workers *lw)
{
    for (unsigned i = 0; i < lw->n; i++)
        if (lw->ws[i].started && !atomic_load(&lw->ws[i].running))
            return false;
    return true;
}

int live_workers_join(struct live_workers *lw)
{
    int r = SRC_LIVE_STOPPED;
    if (lw->stop != NULL)
        atomic_store(lw->stop, 1);
    for (unsigned i = 0; i < lw->n; i++) {
        struct live_worker *w = &lw->ws[i];
        if (!w->started)
            continue;
        pthread_join(w->thread, NULL);
        w->started = false;
        if (w->rc == SRC_LIVE_FAILED || (w->rc == SRC_LIVE_ALL_LOST && r == SRC_LIVE_STOPPED))
            r = w->rc;
    }
    lw->joined = true;
    return r;
}

void live_workers_counters(struct live_workers *lw, struct run_counters *rc)
{
    for (unsigned i = 0; i < lw->n; i++) {
        struct live_worker *w = &lw->ws[i];
        if (w->snap == NULL)
            continue;
        pthread_mutex_lock(&w->mu);
        run_counters_add(rc, w->snap);
        pthread_mutex_unlock(&w->mu);
    }
    if (lw->shared_dns != NULL) { /* one cache, not one per worker */
        pthread_mutex_lock(&lw->dns_lock);
        ctr_add(&dns_cache_counters, &rc->dns, dns_cache_stats(lw->shared_dns));
        pthread_mutex_unlock(&lw->dns_lock);
    }
}

unsigned live_workers_lost(struct live_workers *lw)
{
    unsigned lost = 0;
    for (unsigned i = 0; i < lw->n; i++) {
        struct source_live_stats ls;
        pthread_mutex_lock(&lw->ws[i].mu);
        ls = lw->ws[i].snap != NULL ? lw->ws[i].snap->cap : (struct source_live_stats){0};
        pthread_mutex_unlock(&lw->ws[i].mu);
        if (ls.lost > lost)
            lost = ls.lost;
    }
    return lost;
}

void live_workers_names(const struct live_workers *lw, char *buf, size_t len)
{
    source_live_names(lw->ws[0].src, buf, len);
}

size_t live_workers_bytes_per_flow(const struct live_workers *lw)
{
    return lw->ws[0].pl != NULL ? pipeline_bytes_per_flow(lw->ws[0].pl) : 0;
}

void live_workers_free(struct live_workers *lw)
{
    if (lw == NULL)
        return;
    for (unsigned i = 0; i < lw->n; i++) {
        struct live_worker *w = &lw->ws[i];
        source_live_free(w->src);
        pipeline_free(w->pl);
        free(w->snap);
        pthread_mutex_destroy(&w->mu);
    }
    dns_cache_free(lw->shared_dns);
    pthread_mutex_destroy(&lw->dns_lock);
    free(lw->ws);
    free(lw);
}
