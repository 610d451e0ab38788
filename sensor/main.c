/* main.c -- egress-sensor: options, wiring of the stages (the loop is in
 * run.c).
 *
 * Exit codes: 0 done; 1 runtime failure (an input could not be read, an
 * interface could not be opened or went away, an output could not be
 * written); 2 usage or configuration error; 3 alerts left in the Redis
 * spool; 4 alerts lost by the Redis output (refused, or damaged in the
 * spool), which takes precedence over 3. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "log.h"
#include "options.h"
#include "output-json-flow.h"
#include "output-redis.h"
#include "pipeline.h"
#include "privs.h"
#include "reload.h"
#include "run.h"
#include "signature.h"
#include "source-pcap-file.h"
#include "source-pcap-live.h"
#include "stats.h"
#include "workers.h"

#define ASSETS_MAX_HOSTS 16384

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        run_hup = 1;
    else
        run_stop = 1;
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
    printf("  alerts          one per host, signature and country per %us\n", cfg->suppress_window);
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
        log_use_syslog();
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
                lws[i].src = source_live_open(&lc, log_source, NULL, err, sizeof(err));
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
            live = source_live_open(&lc, log_source, NULL, err, sizeof(err));
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
    const char *spool_dir = o.spool_dir ? o.spool_dir : cfg.redis_spool_dir;
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
        char spool_origin[CONFIG_PATH_MAX + 64] = "the default redis.spool_dir";
        for (unsigned i = 0; i < cfg.n_redis_sentinels; i++)
            sentinels[i] = cfg.redis_sentinels[i];
        if (o.spool_dir)
            snprintf(spool_origin, sizeof(spool_origin), "--spool-dir");
        else if (cfg.redis_spool_dir_line)
            snprintf(spool_origin, sizeof(spool_origin), "redis.spool_dir in %s:%u", cfg.source,
                     cfg.redis_spool_dir_line);
        struct out_redis_config rcfg = {
            .url = redis_url,
            .url_from_cli = o.redis != NULL,
            .password_env = getenv(OUT_REDIS_PASSWORD_ENV),
            .password = cfg.redis_password,
            .sentinels = cfg.n_redis_sentinels ? sentinels : NULL,
            .n_sentinels = cfg.n_redis_sentinels,
            .master_name = cfg.redis_master_name,
            .sensor = cfg.sensor_name,
            .key_prefix = cfg.redis_key_prefix,
            .stream = cfg.redis_stream,
            .maxlen = cfg.redis_maxlen,
            .channel = cfg.redis_channel,
            .flows_stream = cfg.redis_flows_stream,
            .spool_dir = spool_dir,
            .spool_origin = spool_origin,
            .spool_max_bytes = cfg.redis_spool_max_bytes,
            .queue_size = cfg.redis_queue_size,
            .connect_timeout_ms = cfg.redis_connect_timeout_ms,
            .command_timeout_ms = cfg.redis_command_timeout_ms,
            .stats_interval_s = cfg.redis_stats_interval,
            .quiet = o.quiet,
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
        pls[i] = pipeline_new_share(&cfg, geo, flows, pack, sink, files ? workers_slots(nw, i) : 1,
                                    files ? WORKERS_SLOTS : nw, err, sizeof(err));
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
    struct run pr = {.pl = pl,
                     .n = nw,
                     .workers = workers,
                     .lws = lws,
                     .flows = flows,
                     .sink = sink,
                     .redis = redis,
                     .live = live,
                     .reload = reloader,
                     .show = live ? 0 : show_progress,
                     .start = run_now(),
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
    rep.elapsed_s = run_now() - pr.start;
    rep.peak_rss_kb = stats_peak_rss_kb();

    /* Redis: the last health numbers, then wait (bounded) for delivery. */
    struct out_redis_stats rst;
    char redis_desc[512];
    if (redis != NULL) {
        struct run_totals tot;
        memset(&tot, 0, sizeof(tot));
        tot.packets = ps.packets;
        tot.flows = fts.created;
        tot.ls.drops = rep.cap_drops;
        tot.ls.if_drops = rep.cap_if_drops;
        run_push_health(&pr, &tot);
        rep.redis_undelivered = out_redis_finish(redis, cfg.redis_flush_timeout * 1000u, &run_stop);
        out_redis_stats(redis, &rst);
        rep.rs = &rst;
        out_redis_describe(redis, redis_desc, sizeof(redis_desc));
        rep.redis_url = redis_desc; /* without credentials */
        rep.redis_spool_dir = spool_dir;
        if (out_redis_lost(&rst) > 0 && rc == 0)
            rc = EXIT_LOST;
        else if (rep.redis_undelivered > 0 && rc == 0)
            rc = EXIT_UNDELIVERED;
        if (o.quiet && rep.redis_undelivered > 0) /* exit 3 says why, even quiet */
            log_msg(LOG_WARNING, "redis: %llu alerts left in the spool %s",
                    (unsigned long long)rep.redis_undelivered, spool_dir);
        if (o.quiet && out_redis_lost(&rst) > 0)
            log_msg(LOG_WARNING, "redis: %llu alerts lost (see --stats)",
                    (unsigned long long)out_redis_lost(&rst));
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
    if (assets_path[0] &&
        assets_write_json(assets, cfg.sensor_name, assets_path, err, sizeof(err)) < 0) {
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
    log_close();
    return rc;
}
