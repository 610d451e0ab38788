/* reload.c -- SIGHUP: configuration and signature pack, one generation at
 * a time. */
#include "reload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "config.h"
#include "pipeline.h"
#include "signature.h"

struct generation {
    const struct sensor_config *cfg;
    struct sensor_config *own_cfg; /* NULL for the caller's */
    struct sig_pack *pack;
};

struct reloader {
    pthread_mutex_t mu; /* guards cur and prev */
    struct generation cur, prev;
    atomic_uint gen; /* published generation */
    unsigned n;
    atomic_uint *seen; /* generation worker i runs */
    int announced;     /* the newest generation was reported taken */
};

static void generation_free(struct generation *g)
{
    if (g->own_cfg != NULL) {
        config_fini(g->own_cfg);
        free(g->own_cfg);
    }
    sig_pack_free(g->pack);
    memset(g, 0, sizeof(*g));
}

struct reloader *reloader_new(const struct sensor_config *cfg, struct sig_pack *pack, unsigned n)
{
    struct reloader *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->seen = calloc(n ? n : 1, sizeof(*r->seen))) == NULL) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->cur.cfg = cfg;
    r->cur.pack = pack;
    r->n = n;
    for (unsigned i = 0; i < n; i++)
        atomic_init(&r->seen[i], 0);
    atomic_init(&r->gen, 0);
    r->announced = 1;
    return r;
}

void reloader_free(struct reloader *r)
{
    if (r == NULL)
        return;
    generation_free(&r->prev);
    generation_free(&r->cur);
    pthread_mutex_destroy(&r->mu);
    free(r->seen);
    free(r);
}

/* Whether every worker runs the newest generation. */
static int all_seen(struct reloader *r)
{
    unsigned g = atomic_load(&r->gen);
    for (unsigned i = 0; i < r->n; i++)
        if (atomic_load(&r->seen[i]) != g)
            return 0;
    return 1;
}

void reloader_current(const struct reloader *r, const struct sensor_config **cfg,
                      const struct sig_pack **pack)
{
    /* cur is written only by the thread that calls reloader_load() */
    *cfg = r->cur.cfg;
    *pack = r->cur.pack;
}

int reloader_collect(struct reloader *r)
{
    if (r == NULL || !all_seen(r))
        return 0;
    pthread_mutex_lock(&r->mu);
    generation_free(&r->prev);
    pthread_mutex_unlock(&r->mu);
    int first = !r->announced;
    r->announced = 1;
    return first;
}

int reloader_load(struct reloader *r, struct alert_sink *sink, char *msg, size_t msg_len,
                  char *restart, size_t restart_len)
{
    char err[1024];
    if (restart_len > 0)
        restart[0] = '\0';
    if (!all_seen(r)) {
        snprintf(msg, msg_len, "the previous reload is still being applied");
        return RELOAD_BUSY;
    }
    reloader_collect(r);

    /* Only the thread that takes the signal writes cur: no lock to read. */
    const struct sensor_config *running = r->cur.cfg;
    struct sensor_config *loaded = calloc(1, sizeof(*loaded));
    struct sensor_config *next = calloc(1, sizeof(*next));
    struct sig_pack *pack = NULL;
    if (loaded == NULL || next == NULL || config_init_defaults(loaded) < 0) {
        snprintf(msg, msg_len, "out of memory");
        goto refuse;
    }
    if (running->source[0] && config_load(loaded, running->source, err, sizeof(err)) < 0) {
        snprintf(msg, msg_len, "%s", err);
        goto refuse;
    }
    if (loaded->signatures_dir[0]) {
        pack = sig_pack_load(loaded->signatures_dir, err, sizeof(err));
        if (pack == NULL) {
            snprintf(msg, msg_len, "signature pack: %s", err);
            goto refuse;
        }
    }
    config_reload_merge(next, running, loaded, restart, restart_len);
    config_fini(loaded);
    free(loaded);

    pthread_mutex_lock(&r->mu);
    r->prev = r->cur;
    r->cur.cfg = r->cur.own_cfg = next;
    r->cur.pack = pack;
    atomic_fetch_add(&r->gen, 1);
    pthread_mutex_unlock(&r->mu);
    r->announced = 0;
    alert_sink_reconfigure(sink, next);

    if (pack != NULL)
        snprintf(msg, msg_len, "%s: %zu signatures in %zu vendor files (%s)",
                 next->source[0] ? next->source : "built-in defaults", sig_pack_count(pack),
                 sig_pack_files(pack), next->signatures_dir);
    else
        snprintf(msg, msg_len, "%s: no signatures, detection is off",
                 next->source[0] ? next->source : "built-in defaults");
    return RELOAD_DONE;

refuse:
    config_fini(loaded);
    free(loaded);
    free(next);
    return RELOAD_REFUSED;
}

void reloader_apply(struct reloader *r, unsigned i, struct pipeline *pl)
{
    if (r == NULL)
        return;
    unsigned g = atomic_load(&r->gen);
    if (atomic_load_explicit(&r->seen[i], memory_order_relaxed) == g)
        return;
    pthread_mutex_lock(&r->mu);
    g = atomic_load(&r->gen);
    pipeline_reconfigure(pl, r->cur.cfg, r->cur.pack);
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->seen[i], g);
}
