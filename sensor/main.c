/* main.c -- egress-sensor: options, wiring of the stages, the run loop.
 *
 * Exit codes: 0 done; 1 runtime failure (an input could not be read, an
 * interface could not be opened or went away, an output could not be
 * written); 2 usage or configuration error; 3 alerts left in the Redis
 * spool. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "alerts.h"
#include "assets.h"
#include "classify.h"
#include "config.h"
#include "decode.h"
#include "detect.h"
#include "dns-cache.h"
#include "flow.h"
#include "frag.h"
#include "geo.h"
#include "options.h"
#include "output-json-flow.h"
#include "output-redis.h"
#include "pipeline.h"
#include "privs.h"
#include "reload.h"
#include "signature.h"
#include "source-pcap-file.h"
#include "source-pcap-live.h"
#include "stats.h"
#include "workers.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_UNDELIVERED 3
#define ASSETS_MAX_HOSTS 16384

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hup_received;
static int log_to_syslog; /* --syslog */

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        hup_received = 1;
    else
        stop_requested = 1;
}

/* One log line: "egress-sensor: [warning: ]msg" on standard error, or the
 * message at priority prio to syslog with --syslog. */
static void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_msg(int prio, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_to_syslog)
        syslog(prio, "%s", msg);
    else
        fprintf(stderr, "egress-sensor: %s%s\n", prio == LOG_WARNING ? "warning: " : "", msg);
}

static void on_source_log(void *ud, int prio, const char *msg)
{
    (void)ud;
    log_msg(prio, "%s", msg);
}

static void print_version(const struct sensor_config *cfg)
{
    char buf[256];
    printf("egress-sensor %s\n", SENSOR_VERSION);
    printf("nDPI %s\n", classify_ndpi_version());
    printf("%s\n", pcap_lib_version());
    struct geo *g = geo_open(cfg->country_db, cfg->asn_db, NULL, 0);
    geo_describe(g, 0, buf, sizeof(buf));
    printf("country database: %s (%s)\n", buf, cfg->country_db[0] ? cfg->country_db : "none");
    geo_describe(g, 1, buf, sizeof(buf));
    printf("ASN database: %s (%s)\n", buf, cfg->asn_db[0] ? cfg->asn_db : "none");
    geo_free(g);
}

static int load_config(const struct options *o, struct sensor_config *cfg)
{
    char err[512];
    if (config_init_defaults(cfg) < 0) {
        log_msg(LOG_ERR, "out of memory");
        return -1;
    }
    const char *path = o->config;
    if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
        path = CONFIG_DEFAULT_FILE;
    if (path != NULL && config_load(cfg, path, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return -1;
    }
    return 0;
}

static void print_config(const struct sensor_config *cfg, const struct sig_pack *pack)
{
    printf("%s: configuration valid\n", cfg->source[0] ? cfg->source : "built-in defaults");
    printf("  sensor_name     %s\n", cfg->sensor_name);
    printf("  home_net        ");
    for (unsigned i = 0; i < cfg->n_home_net; i++)
        printf("%s%s", i ? ", " : "", cfg->home_net_text[i]);
    printf("\n  home_countries  ");
    for (unsigned i = 0; i < cfg->n_home_countries; i++)
        printf("%s%s", i ? ", " : "", cfg->home_countries[i]);
    printf("%s\n", cfg->n_home_countries ? "" : "(none)");
    printf("  geo             country %s, asn %s\n", cfg->country_db[0] ? cfg->country_db : "-",
           cfg->asn_db[0] ? cfg->asn_db : "-");
    printf("  flows           max %u; timeouts tcp %us, closed %us, udp %us, icmp %us, other %us\n",
           cfg->max_flows, cfg->timeout_tcp, cfg->timeout_tcp_closed, cfg->timeout_udp,
           cfg->timeout_icmp, cfg->timeout_other);
    if (pack != NULL)
        printf("  signatures      %zu in %zu vendor files (%s)\n", sig_pack_count(pack),
               sig_pack_files(pack), cfg->signatures_dir);
    else
        printf("  signatures      none: detection is off (signatures.dir is \"\")\n");
    printf("  alerts          one per host, signature and country per %us\n",
           cfg->suppress_window);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A live worker: its capture set (one socket per interface in a fanout
 * group), its pipeline, and counters it publishes once a second. */
struct live_worker {
    struct source_live *src;
    struct pipeline *pl;
    struct reloader *reload;
    unsigned index;
    pthread_t thread;
    int started;
    int rc;
    atomic_int running;
    pthread_mutex_t mu; /* guards what follows */
    struct source_live_stats ls;
    uint64_t flows_created, flows_active;
};

struct progress {
    struct pipeline *pl;      /* the first (the only one with one worker) */
    unsigned n;               /* workers */
    struct workers *workers;  /* reading files with several */
    struct live_worker *lws;  /* capturing with several */
    struct out_flows *flows; /* may be NULL */
    struct alert_sink *sink;
    struct out_redis *redis;
    struct source_live *live; /* NULL reading files */
    struct reloader *reload;  /* live: SIGHUP */
    char reload_msg[1536];    /* what a reload brings, until every worker has it */
    int show;
    double start, last, last_health;
    const char *file;
    /* live: the periodic status line */
    unsigned interval;
    double last_line;
    uint64_t last_packets;
};

/* Hand the current counters to the Redis output (its thread writes them). */
/* Counters of the whole run so far, whichever thread does the work. */
struct totals {
    uint64_t packets, flows, active;
    struct source_live_stats ls; /* live capture */
};

static void get_totals(struct progress *pr, struct totals *t)
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

static void push_health(struct progress *pr, const struct totals *t)
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

/* Called every few thousand packets: the progress line, Redis health. */
static void on_progress(double frac, const struct source_file_stats *fs, void *ud)
{
    struct progress *pr = ud;
    struct totals tot;
    double t = now_s();
    (void)fs;
    int health = pr->redis != NULL && t - pr->last_health >= 1.0;
    int line = pr->show && t - pr->last >= 0.25;
    if (!health && !line)
        return;
    get_totals(pr, &tot);
    if (health) {
        pr->last_health = t;
        push_health(pr, &tot);
    }
    if (!line)
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
static void reload(struct progress *pr)
{
    char restart[512];
    char *msg = pr->reload_msg;
    if (hup_received) {
        hup_received = 0;
        int r = reloader_load(pr->reload, pr->sink, msg, sizeof(pr->reload_msg), restart,
                              sizeof(restart));
        if (r == RELOAD_BUSY) {
            hup_received = 1; /* again at the next tick */
        } else if (r == RELOAD_REFUSED) {
            log_msg(LOG_ERR, "reload refused: %s; still running the previous configuration "
                             "and signatures", msg);
        } else if (restart[0]) {
            log_msg(LOG_WARNING, "reload: %s changed; the new value takes effect at the "
                                 "next start", restart);
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
    struct progress *pr = ud;
    double t = now_s();
    (void)wall_us;
    reload(pr);
    /* A live run's records should reach their file while it runs. */
    out_flows_flush(pr->flows);
    int health = pr->redis != NULL && t - pr->last_health >= 1.0;
    int line = pr->interval != 0 && t - pr->last_line >= (double)pr->interval;
    if (!health && !line)
        return;
    struct totals tot;
    get_totals(pr, &tot);
    if (health) {
        pr->last_health = t;
        push_health(pr, &tot);
    }
    if (!line)
        return;
    const struct source_live_stats *ls = &tot.ls;
    struct alert_stats as;
    char a[16];
    alert_sink_stats(pr->sink, &as);
    double rate = (double)(ls->packets - pr->last_packets) / (t - pr->last_line);
    log_msg(LOG_INFO,
            "status: %llu packets (%s/s), %llu dropped (kernel %llu, interface %llu), "
            "%llu flows active, %llu alerts",
            (unsigned long long)ls->packets, stats_human(rate, a, sizeof(a)),
            (unsigned long long)(ls->drops + ls->if_drops), (unsigned long long)ls->drops,
            (unsigned long long)ls->if_drops, (unsigned long long)tot.active,
            (unsigned long long)as.alerts);
    pr->last_line = t;
    pr->last_packets = ls->packets;
}

/* Switch to --user (when given), or warn once that live capture keeps
 * running as root. Returns 0 or -1 (logged). */
static int drop_privileges(const struct options *o, const struct privs_user *u, int live)
{
    char err[512];
    if (o->user == NULL) {
        if (live && privs_running_as_root())
            log_msg(LOG_WARNING, "running as root; give --user NAME to switch to an "
                                 "unprivileged user once the interfaces are open");
        return 0;
    }
    if (privs_drop(u, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return -1;
    }
    return 0;
}

static void to_workers(void *w, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                       size_t wirelen)
{
    workers_packet(w, dlt, ts_us, frame, caplen, wirelen);
}

/* Read the -r files in order into the pipeline (or the workers). Returns
 * the exit code. */
static int run_files(const struct options *o, struct progress *pr, struct run_report *rep)
{
    char err[1024];
    int rc = 0;
    for (unsigned i = 0; i < o->n_inputs && !stop_requested; i++) {
        struct source_file_stats fs;
        pr->file = o->inputs[i];
        int r = pr->workers != NULL
                    ? source_pcap_file_read(o->inputs[i], o->bpf, to_workers, pr->workers,
                                            &stop_requested, on_progress, pr, &fs, err,
                                            sizeof(err))
                    : source_pcap_file_run(o->inputs[i], o->bpf, pr->pl, &stop_requested,
                                           on_progress, pr, &fs, err, sizeof(err));
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
    if (stop_requested && !o->quiet)
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
    lw->rc = source_live_run(lw->src, lw->pl, &stop_requested, on_worker_tick, lw);
    source_live_stop(lw->src);
    on_worker_tick(lw, 0);
    atomic_store(&lw->running, 0);
    return NULL;
}

/* Capture on the open interfaces until a signal or until every one is
 * gone. With several workers, each captures on its own thread and this
 * one keeps the clock: outputs, health, the status line. Returns the exit
 * code. */
static int run_live(const struct options *o, struct progress *pr, struct run_report *rep)
{
    char names[512];
    int rc = 0, r = SRC_LIVE_STOPPED;
    struct source_live_stats ls;
    source_live_names(pr->live, names, sizeof(names));
    log_msg(LOG_INFO, "capturing on %s as %s (snaplen %d, buffer %u MiB per interface, %u %s)",
            names,
            o->user ? o->user : privs_running_as_root() ? "root" : "an unprivileged user",
            o->snaplen, o->buffer_mb, pr->n, pr->n == 1 ? "worker" : "workers");
    pr->last_line = now_s();
    if (pr->lws == NULL) {
        r = source_live_run(pr->live, pr->pl, &stop_requested, on_live_tick, pr);
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
                stop_requested = 1;
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
            if (stop_requested || alive < pr->n)
                break;
            on_live_tick(pr, 0);
        }
        stop_requested = 1; /* one worker ended: the others stop too */
        memset(&ls, 0, sizeof(ls));
        for (unsigned i = 0; i < pr->n; i++) {
            struct live_worker *lw = &pr->lws[i];
            if (lw->started)
                pthread_join(lw->thread, NULL);
            lw->started = 0;
            if (lw->rc == SRC_LIVE_FAILED || (lw->rc == SRC_LIVE_ALL_LOST && r == SRC_LIVE_STOPPED))
                r = lw->rc;
        }
        struct totals tot;
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

int main(int argc, char **argv)
{
    struct options o;
    struct sensor_config cfg;
    struct privs_user user;
    struct geo *geo = NULL;
    struct out_flows *flows = NULL;
    struct pipeline *pl = NULL;
    struct pipeline *pls[OPT_MAX_WORKERS];
    struct live_worker *lws = NULL;
    struct workers *workers = NULL;
    struct dns_cache *shared_dns = NULL;
    pthread_mutex_t dns_lock = PTHREAD_MUTEX_INITIALIZER;
    unsigned nw;
    struct sig_pack *pack = NULL;
    struct assets *assets = NULL;
    struct alert_sink *sink = NULL;
    struct out_redis *redis = NULL;
    struct source_live *live = NULL;
    struct reloader *reloader = NULL;
    char err[1024];
    int action, rc = 0;

    memset(&cfg, 0, sizeof(cfg));
    memset(&user, 0, sizeof(user));
    memset(pls, 0, sizeof(pls));
    action = parse_options(argc, argv, &o);
    if (action < 0)
        return EXIT_USAGE;
    nw = o.workers;
    if (action == OPT_EXIT_OK)
        return 0;
    if (o.use_syslog) {
        openlog("egress-sensor", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_to_syslog = 1;
    }
    if (load_config(&o, &cfg) < 0) {
        config_fini(&cfg);
        return EXIT_USAGE;
    }
    if (action == OPT_VERSION) {
        print_version(&cfg);
        config_fini(&cfg);
        return 0;
    }
    /* signatures.dir = "" turns detection off (flows only). */
    pack = cfg.signatures_dir[0] ? sig_pack_load(cfg.signatures_dir, err, sizeof(err)) : NULL;
    if (pack == NULL && cfg.signatures_dir[0]) {
        log_msg(LOG_ERR, "signature pack: %s", err);
        config_fini(&cfg);
        return EXIT_USAGE;
    }
    if (o.check_config || o.list_signatures) {
        if (o.list_signatures)
            sig_pack_print(stdout, pack);
        else
            print_config(&cfg, pack);
        sig_pack_free(pack);
        config_fini(&cfg);
        return 0;
    }
    if (o.n_inputs == 0 && o.n_ifaces == 0) {
        log_msg(LOG_ERR, "no input; give one or more -r FILE or -i IFACE (see --help)");
        sig_pack_free(pack);
        config_fini(&cfg);
        return EXIT_USAGE;
    }
    if (o.user != NULL && privs_lookup(o.user, &user, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        sig_pack_free(pack);
        config_fini(&cfg);
        return EXIT_USAGE;
    }

    if (o.bpf != NULL) { /* a bad filter is a usage error, found before any work */
        struct bpf_program prog;
        pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
        int bad = dead == NULL || pcap_compile(dead, &prog, o.bpf, 1, PCAP_NETMASK_UNKNOWN) < 0;
        if (bad)
            log_msg(LOG_ERR, "filter \"%s\": %s", o.bpf, dead ? pcap_geterr(dead) : "cannot check");
        else
            pcap_freecode(&prog);
        if (dead)
            pcap_close(dead);
        if (bad) {
            sig_pack_free(pack);
            config_fini(&cfg);
            return EXIT_USAGE;
        }
    }

    /* Live capture: open every interface first, while privileged, and
     * before any output is created. */
    if (o.n_ifaces > 0) {
        struct source_live_config lc = {
            .ifaces = o.ifaces,
            .n_ifaces = o.n_ifaces,
            .bpf = o.bpf,
            .snaplen = o.snaplen,
            .buffer_mb = o.buffer_mb,
        };
        if (nw > 1) {
            /* one capture set per worker, in per-interface fanout groups
             * whose ids this process is unlikely to share with another */
            lc.fanout_group = ((unsigned)getpid() % 1000u) * OPT_MAX_IFACES + 1u;
            lws = calloc(nw, sizeof(*lws));
            for (unsigned i = 0; lws != NULL && i < nw; i++) {
                pthread_mutex_init(&lws[i].mu, NULL);
                lws[i].src = source_live_open(&lc, on_source_log, NULL, err, sizeof(err));
                if (lws[i].src == NULL)
                    break;
            }
            live = lws != NULL ? lws[0].src : NULL;
            if (lws != NULL && lws[nw - 1].src == NULL) {
                for (unsigned i = 0; i < nw; i++)
                    source_live_free(lws[i].src);
                live = NULL;
            }
            if (lws == NULL)
                snprintf(err, sizeof(err), "out of memory");
        } else {
            live = source_live_open(&lc, on_source_log, NULL, err, sizeof(err));
        }
        if (live == NULL) {
            log_msg(LOG_ERR, "%s", err);
            free(lws);
            sig_pack_free(pack);
            config_fini(&cfg);
            return EXIT_RUNTIME;
        }
    }
    /* Nothing else needs root: outputs, the Redis spool and the geo
     * databases are opened as --user, and no packet has been read yet. */
    if (drop_privileges(&o, &user, live != NULL) < 0) {
        for (unsigned i = 0; lws != NULL && i < nw; i++)
            source_live_free(lws[i].src);
        if (lws == NULL)
            source_live_free(live);
        free(lws);
        sig_pack_free(pack);
        config_fini(&cfg);
        return EXIT_RUNTIME;
    }

    const char *flows_path = o.flows ? o.flows : cfg.flows_path;
    const char *alerts_path = o.alerts ? o.alerts : cfg.alerts_path;
    const char *assets_path = o.assets ? o.assets : cfg.assets_path;
    const char *stats_path = o.stats ? o.stats : cfg.stats_path;
    const char *redis_url = o.redis ? o.redis : cfg.redis_url;
    if (!flows_path[0] && !alerts_path[0] && !assets_path[0] && !stats_path[0] && !redis_url[0])
        alerts_path = "-"; /* an analyst's default: what phones home */

    err[0] = '\0';
    geo = geo_open(cfg.country_db, cfg.asn_db, err, sizeof(err));
    if (err[0] && !o.quiet)
        log_msg(LOG_WARNING, "%s", err);
    int flows_to_redis = redis_url[0] && cfg.redis_flows_stream[0];
    if (flows_path[0] || flows_to_redis) {
        flows = out_flows_open(flows_path, err, sizeof(err));
        if (flows == NULL) {
            log_msg(LOG_ERR, "%s", err);
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    assets = assets_new(ASSETS_MAX_HOSTS);
    sink = assets ? alert_sink_new(&cfg, alerts_path, assets, err, sizeof(err)) : NULL;
    if (sink == NULL) {
        log_msg(LOG_ERR, "%s", assets ? err : "out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (redis_url[0]) {
        const char *sentinels[CONFIG_MAX_SENTINELS];
        for (unsigned i = 0; i < cfg.n_redis_sentinels; i++)
            sentinels[i] = cfg.redis_sentinels[i];
        struct out_redis_config rcfg = {
            .url = redis_url,
            .sentinels = cfg.n_redis_sentinels ? sentinels : NULL,
            .n_sentinels = cfg.n_redis_sentinels,
            .master_name = cfg.redis_master_name,
            .sensor = cfg.sensor_name,
            .key_prefix = cfg.redis_key_prefix,
            .stream = cfg.redis_stream,
            .maxlen = cfg.redis_maxlen,
            .channel = cfg.redis_channel,
            .flows_stream = cfg.redis_flows_stream,
            .spool_dir = cfg.redis_spool_dir,
            .spool_max_bytes = cfg.redis_spool_max_bytes,
            .queue_size = cfg.redis_queue_size,
            .connect_timeout_ms = cfg.redis_connect_timeout_ms,
            .command_timeout_ms = cfg.redis_command_timeout_ms,
            .stats_interval_s = cfg.redis_stats_interval,
        };
        redis = out_redis_start(&rcfg, err, sizeof(err));
        if (redis == NULL) {
            log_msg(LOG_ERR, "redis: %s", err);
            rc = EXIT_USAGE;
            goto done;
        }
        alert_sink_set_redis(sink, redis);
        if (flows_to_redis)
            out_flows_set_redis(flows, redis);
    }
    for (unsigned i = 0; i < nw; i++) {
        /* live, the kernel spreads flows evenly; reading files, the
         * reading thread, also a worker, takes a smaller share */
        int files = live == NULL && nw > 1;
        pls[i] = pipeline_new_share(&cfg, geo, flows, pack, sink,
                                    files ? workers_slots(nw, i) : 1, files ? WORKERS_SLOTS : nw,
                                    err, sizeof(err));
        if (pls[i] == NULL) {
            log_msg(LOG_ERR, "%s", err);
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    pl = pls[0];
    if (live != NULL) {
        /* SIGHUP swaps the pack: from here the reloader owns it. */
        reloader = reloader_new(&cfg, pack, nw);
        if (reloader == NULL) {
            log_msg(LOG_ERR, "out of memory");
            rc = EXIT_RUNTIME;
            goto done;
        }
        pack = NULL;
        for (unsigned i = 0; lws != NULL && i < nw; i++) {
            lws[i].reload = reloader;
            lws[i].index = i;
        }
    }
    /* Reading files, alerts are decided in stream order, so the same
     * capture gives the same alerts whatever the number of workers. */
    alert_sink_set_ordered(sink, live == NULL);
    if (lws != NULL) {
        /* A DNS answer and the flow it names may reach different workers. */
        shared_dns = dns_cache_new(cfg.dns_cache_size, cfg.dns_min_ttl, cfg.dns_max_ttl);
        if (shared_dns == NULL) {
            log_msg(LOG_ERR, "cannot allocate a DNS cache of %u entries", cfg.dns_cache_size);
            rc = EXIT_RUNTIME;
            goto done;
        }
        for (unsigned i = 0; i < nw; i++) {
            pipeline_share_dns(pls[i], shared_dns, &dns_lock);
            lws[i].pl = pls[i];
        }
    } else if (nw > 1) {
        for (unsigned i = 0; i < nw; i++)
            pipeline_set_dispatched(pls[i]);
        sigset_t block, old; /* the workers never take a signal */
        sigfillset(&block);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        workers = workers_start(pls, nw, sink, cfg.max_fragments, err, sizeof(err));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (workers == NULL) {
            log_msg(LOG_ERR, "%s", err);
            rc = EXIT_RUNTIME;
            goto done;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (live != NULL) /* a daemon's reload request must not kill it */
        sigaction(SIGHUP, &sa, NULL);

    int show_progress = o.progress < 0 ? (!o.quiet && isatty(STDERR_FILENO)) : o.progress;
    struct progress pr = {.pl = pl,
                          .n = nw,
                          .workers = workers,
                          .lws = lws,
                          .flows = flows,
                          .sink = sink,
                          .redis = redis,
                          .live = live,
                          .reload = reloader,
                          .show = live ? 0 : show_progress,
                          .start = now_s(),
                          .interval = o.quiet ? 0 : o.stats_interval};
    struct run_report rep = {.top_n = 10};
    rc = live != NULL ? run_live(&o, &pr, &rep) : run_files(&o, &pr, &rep);
    if (workers != NULL)
        workers_finish(workers); /* each worker flushes its own flows */
    else
        for (unsigned i = 0; i < nw; i++)
            pipeline_flush(pls[i]);
    alert_sink_release(sink, UINT64_MAX);

    static struct pipeline_stats ps; /* large: not on the stack */
    struct flow_table_stats fts;
    struct classify_stats cs;
    struct frag_stats frs;
    struct detect_stats ds;
    struct dns_cache_stats dcs;
    pipeline_stats_sum(pls, nw, &ps, &fts, &cs, &frs, &ds, &dcs);
    if (workers != NULL) {
        ps.time_backwards += workers_time_backwards(workers);
        ps.dec = *workers_decode_stats(workers); /* decoded there, once */
    }
    if (shared_dns != NULL) /* one cache, not one per worker */
        dcs = *dns_cache_stats(shared_dns);
    rep.workers = nw;
    rep.ps = &ps;
    rep.fts = &fts;
    rep.cs = &cs;
    rep.frs = &frs;
    rep.ds = &ds;
    rep.dcs = &dcs;
    rep.ast = assets_stats(assets);
    alert_sink_stats(sink, &rep.as);
    rep.assets = assets;
    rep.bytes_per_flow = pipeline_bytes_per_flow(pl);
    rep.elapsed_s = now_s() - pr.start;
    rep.peak_rss_kb = stats_peak_rss_kb();

    /* Redis: the last health numbers, then wait (bounded) for delivery. */
    struct out_redis_stats rst;
    char redis_desc[512];
    if (redis != NULL) {
        struct totals tot;
        memset(&tot, 0, sizeof(tot));
        tot.packets = ps.packets;
        tot.flows = fts.created;
        tot.ls.drops = rep.cap_drops;
        tot.ls.if_drops = rep.cap_if_drops;
        push_health(&pr, &tot);
        rep.redis_undelivered = out_redis_drain(redis, cfg.redis_flush_timeout * 1000u);
        out_redis_stats(redis, &rst);
        rep.rs = &rst;
        out_redis_describe(redis, redis_desc, sizeof(redis_desc));
        rep.redis_url = redis_desc; /* without credentials */
        rep.redis_spool_dir = cfg.redis_spool_dir;
        if (rep.redis_undelivered > 0 && rc == 0)
            rc = EXIT_UNDELIVERED;
    }

    if (out_flows_close(flows, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    flows = NULL;
    if (!o.quiet) {
        stats_print_summary(stderr, &rep);
        assets_print_table(assets, stderr);
        fprintf(stderr, "\n");
    }
    if (assets_path[0] && assets_write_json(assets, cfg.sensor_name, assets_path, err,
                                            sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    if (stats_path[0] && stats_write_json(stats_path, &rep, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }

done:
    if (flows != NULL)
        out_flows_close(flows, err, sizeof(err));
    workers_free(workers);
    if (lws != NULL) {
        for (unsigned i = 0; i < nw; i++) {
            source_live_free(lws[i].src);
            pthread_mutex_destroy(&lws[i].mu);
        }
        free(lws);
    } else {
        source_live_free(live);
    }
    for (unsigned i = 0; i < nw; i++)
        pipeline_free(pls[i]);
    dns_cache_free(shared_dns);
    out_redis_stop(redis); /* pending alerts stay in the spool */
    if (alert_sink_close(sink, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    assets_free(assets);
    reloader_free(reloader);
    sig_pack_free(pack);
    geo_free(geo);
    config_fini(&cfg);
    if (log_to_syslog)
        closelog();
    return rc;
}
