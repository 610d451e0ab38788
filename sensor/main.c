/* main.c -- egress-sensor: options, configuration, and the wiring of the
 * stages; run.c runs them.
 *
 * Exit codes: 0 done; 1 runtime failure (an input could not be read, an
 * interface could not be opened or went away, an output could not be
 * written); 2 usage or configuration error; 3 alerts left in the Redis
 * spool; 4 alerts lost by the Redis output (refused, or damaged in the
 * spool), which takes precedence over 3. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "alerts.h"
#include "assets.h"
#include "classify.h"
#include "config.h"
#include "evidence.h"
#include "fleet.h"
#include "geo.h"
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
#include "redis-url.h"
#include "run-fleet.h"
#include "run.h"
#include "signature.h"
#include "util.h"
#include "workers.h"

#define ASSETS_MAX_HOSTS 16384

/* Not an exit code: go on to the next step. */
#define GO (-1)

/* Everything main() opens, closed in reverse by close_all(). */
struct sensor {
    struct options o;
    struct sensor_config cfg;
    struct privs_user user;
    struct sig_pack *pack; /* main's until a reloader takes it */
    struct geo *geo;
    struct stages st;
    char redis_desc[512];
    const char *spool_dir; /* --spool-dir, else redis.spool_dir */
    struct input_list in;  /* reading files: the captures -r names */
};

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        atomic_store(&run_reopen, 1);
    } else if (sig == SIGHUP && atomic_load(&run_capturing)) { /* reload, and rotate */
        atomic_store(&run_hup, 1);
        atomic_store(&run_reopen, 1);
    } else {
        atomic_store(&run_stop, 1);
    }
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

static void print_config(const struct sensor *s)
{
    const struct sensor_config *cfg = &s->cfg;
    const struct sig_pack *pack = s->pack;
    const char *url = s->o.redis ? s->o.redis : cfg->redis_url;
    char buf[256];
    printf("%s: configuration valid\n", cfg->source[0] ? cfg->source : "built-in defaults");
    printf("  sensor_name     %s\n", cfg->sensor_name);
    printf("  home_net        ");
    for (unsigned i = 0; i < cfg->n_home_net; i++)
        printf("%s%s", i ? ", " : "", cfg->home_net_text[i]);
    printf("\n  home_countries  ");
    for (unsigned i = 0; i < cfg->n_home_countries; i++)
        printf("%s%s", i ? ", " : "", cfg->home_countries[i]);
    printf("%s\n", cfg->n_home_countries ? "" : "(none)");
    geo_describe(s->geo, 0, buf, sizeof(buf));
    printf("  geo             country %s (%s)\n", cfg->country_db[0] ? cfg->country_db : "-", buf);
    geo_describe(s->geo, 1, buf, sizeof(buf));
    printf("                  asn %s (%s)\n", cfg->asn_db[0] ? cfg->asn_db : "-", buf);
    printf("  flows           max %u; timeouts tcp %us, closed %us, udp %us, icmp %us, other %us\n",
           cfg->max_flows, cfg->timeout_tcp, cfg->timeout_tcp_closed, cfg->timeout_udp,
           cfg->timeout_icmp, cfg->timeout_other);
    if (pack != NULL)
        printf("  signatures      %zu in %zu vendor files (%s)\n", sig_pack_count(pack),
               sig_pack_files(pack), cfg->signatures_dir);
    else
        printf("  signatures      none: detection is off (signatures.dir is \"\")\n");
    printf("  alerts          one per host, signature and country per %us\n", cfg->suppress_window);
    if (url[0])
        printf("  redis           spool %s (usable)\n", s->spool_dir);
    else
        printf("  redis           off\n");
}
/* A bad filter is a usage error, found before any work. Returns 0 or -1
 * (logged). */
static int check_filter(const char *bpf)
{
    struct bpf_program prog;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    int bad = dead == NULL || pcap_compile(dead, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0;
    if (bad)
        log_msg(LOG_ERR, "filter \"%s\": %s", bpf, dead ? pcap_geterr(dead) : "cannot check");
    else
        pcap_freecode(&prog);
    if (dead)
        pcap_close(dead);
    return bad ? -1 : 0;
}

/* The geo databases. One the configuration names that cannot be opened
 * is a configuration error (exit 2); a default one missing is a warning,
 * and the run goes on without that lookup. Returns GO or an exit code. */
static int open_geo(struct sensor *s)
{
    char err[1024], where[CONFIG_PATH_MAX + 64];
    const struct sensor_config *cfg = &s->cfg;
    err[0] = '\0';
    s->geo = geo_open(cfg->country_db, cfg->asn_db, err, sizeof(err));
    if (s->geo == NULL) {
        log_msg(LOG_ERR, "out of memory");
        return EXIT_RUNTIME;
    }
    const char *bad =
        cfg->country_db[0] && !geo_has_country(s->geo) && config_is_set(cfg, "geo.country_db")
            ? "geo.country_db"
        : cfg->asn_db[0] && !geo_has_asn(s->geo) && config_is_set(cfg, "geo.asn_db") ? "geo.asn_db"
                                                                                     : NULL;
    if (bad != NULL) { /* its own message, without the other's */
        bool country = strcmp(bad, "geo.country_db") == 0;
        geo_free(
            geo_open(country ? cfg->country_db : "", country ? "" : cfg->asn_db, err, sizeof(err)));
        log_msg(LOG_ERR, "%s: %s", config_where(cfg, bad, where, sizeof(where)), err);
        return EXIT_USAGE;
    }
    if (err[0] && !s->o.quiet)
        log_msg(LOG_WARNING, "%s", err);
    return GO;
}

/* What needs privileges, first: the capture sockets, the geo databases
 * (the pack is loaded already). Then switch to --user (or warn that live
 * capture keeps running as root), before any output is created and any
 * packet read. Returns GO or an exit code. */
static int open_privileged(struct sensor *s)
{
    char err[1024];
    if (s->o.n_ifaces > 0) {
        struct source_live_config lc = {
            .ifaces = s->o.ifaces,
            .n_ifaces = s->o.n_ifaces,
            .bpf = s->o.bpf,
            .snaplen = s->o.snaplen,
            .buffer_mb = s->o.buffer_mb,
        };
        s->st.live = live_workers_open(&lc, s->o.workers, err, sizeof(err));
        if (s->st.live == NULL) {
            log_msg(LOG_ERR, "%s", err);
            return EXIT_RUNTIME;
        }
    }
    int go = open_geo(s);
    if (go != GO)
        return go;
    if (s->o.user == NULL) {
        if (s->st.live != NULL && privs_running_as_root())
            log_msg(LOG_WARNING, "running as root; give --user NAME to switch to an "
                                 "unprivileged user once the interfaces are open");
    } else if (privs_drop(&s->user, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return EXIT_RUNTIME;
    }
    return GO;
}

/* Where key's value came from, for a message about it: the option or
 * variable that overrides it, else the configuration's "FILE:LINE: key". */
static const char *where_of(const struct sensor *s, const char *key, char *buf, size_t len)
{
    if (strcmp(key, "redis.url") == 0 && s->o.from_redis != NULL)
        return "--from-redis";
    if (strcmp(key, "redis.url") == 0 && s->o.redis != NULL)
        return "--redis";
    if (strcmp(key, "redis.spool_dir") == 0 && s->o.spool_dir != NULL)
        return "--spool-dir";
    if (strcmp(key, "redis.password") == 0 && getenv(OUT_REDIS_PASSWORD_ENV) != NULL)
        return OUT_REDIS_PASSWORD_ENV;
    if (strcmp(key, "redis.password") == 0 && config_is_set(&s->cfg, "redis.password_file"))
        key = "redis.password_file";
    return config_where(&s->cfg, key, buf, len);
}

/* The Redis output's settings, from the file and the options; rc points
 * into s and sentinels (CONFIG_MAX_SENTINELS), origin (len bytes). */
static void redis_settings(struct sensor *s, const char *url, struct out_redis_config *rc,
                           const char **sentinels, char *origin, size_t len)
{
    const struct sensor_config *cfg = &s->cfg;
    for (unsigned i = 0; i < cfg->n_redis_sentinels; i++)
        sentinels[i] = cfg->redis_sentinels[i];
    s->spool_dir = s->o.spool_dir ? s->o.spool_dir : cfg->redis_spool_dir;
    *rc = (struct out_redis_config){
        .url = url,
        .url_from_cli = s->o.redis != NULL,
        .password_env = getenv(OUT_REDIS_PASSWORD_ENV),
        .password = cfg->redis_password,
        .sentinels = cfg->n_redis_sentinels ? sentinels : NULL,
        .n_sentinels = cfg->n_redis_sentinels,
        .master_name = cfg->redis_master_name,
        .sensor = cfg->sensor_name,
        .key_prefix = cfg->redis_key_prefix,
        .stream = cfg->redis_stream,
        .maxlen = cfg->redis_maxlen,
        .channel = cfg->redis_channel,
        .flows_stream = cfg->redis_flows_stream,
        .spool_dir = s->spool_dir,
        .spool_origin = where_of(s, "redis.spool_dir", origin, len),
        .spool_max_bytes = cfg->redis_spool_max_bytes,
        .queue_size = cfg->redis_queue_size,
        .connect_timeout_ms = cfg->redis_connect_timeout_ms,
        .command_timeout_ms = cfg->redis_command_timeout_ms,
        .stats_interval_s = cfg->redis_stats_interval,
        .quiet = s->o.quiet,
    };
}

/* Check the Redis settings as a run would before reading traffic. Returns
 * GO, or EXIT_USAGE with the message logged, naming where the value at
 * fault was set. */
static int check_redis(struct sensor *s, const char *url)
{
    char err[1024], where[CONFIG_PATH_MAX + 64], origin[CONFIG_PATH_MAX + 64];
    const char *sentinels[CONFIG_MAX_SENTINELS];
    struct out_redis_config rc;
    redis_settings(s, url, &rc, sentinels, origin, sizeof(origin));
    const char *key = out_redis_check(&rc, err, sizeof(err));
    if (key == NULL)
        return GO;
    log_msg(LOG_ERR, "%s: %s", where_of(s, key, where, sizeof(where)), err);
    return EXIT_USAGE;
}

/* The Redis output, configured from the file and --redis. Returns GO or
 * an exit code. */
static int open_redis(struct sensor *s, const char *url)
{
    char err[1024], origin[CONFIG_PATH_MAX + 64];
    const char *sentinels[CONFIG_MAX_SENTINELS];
    struct out_redis_config rc;
    int go = check_redis(s, url);
    if (go != GO)
        return go;
    redis_settings(s, url, &rc, sentinels, origin, sizeof(origin));
    s->st.redis = out_redis_start(&rc, err, sizeof(err));
    if (s->st.redis == NULL) {
        log_msg(LOG_ERR, "redis: %s", err);
        return EXIT_USAGE;
    }
    out_redis_describe(s->st.redis, s->redis_desc, sizeof(s->redis_desc));
    s->st.redis_desc = s->redis_desc; /* without credentials */
    s->st.spool_dir = s->spool_dir;
    return GO;
}

/* path with its folder resolved (the file itself may not exist yet) into
 * buf (PATH_MAX bytes). Returns buf; path itself when it cannot tell. */
static const char *canonical(const char *path, char *buf)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
    char *real = realpath(dir, NULL);
    if (real == NULL)
        return path;
    snprintf(buf, PATH_MAX, "%s/%s", real, base);
    free(real);
    return buf;
}

/* Whether two output paths name the same file (whose records would mix):
 * the same path, or the same regular file. "-" (the standard output,
 * written a whole record at a time), "" and devices (/dev/null) never
 * clash. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char ca[PATH_MAX], cb[PATH_MAX];
    if (!a[0] || !b[0] || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return false;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) /* /dev/null twice is fine */
        return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(canonical(a, ca), canonical(b, cb)) == 0;
}

/* No two outputs into one file. Returns GO or EXIT_USAGE (logged). */
static int check_outputs(const char *const *paths, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (same_file(paths[i], paths[j])) {
                log_msg(LOG_ERR, "%s and %s name the same file, %s: each needs its own", names[i],
                        names[j], paths[i]);
                return EXIT_USAGE;
            }
    return GO;
}

/* Whether path could be written by a run: "-" and "" always; an existing
 * file writable; else its folder. Returns 0, or -1 with why in err. */
static int output_writable(const char *path, char *err, size_t len)
{
    char dir[PATH_MAX];
    if (!path[0] || strcmp(path, "-") == 0 || access(path, W_OK) == 0)
        return 0;
    if (errno != ENOENT) {
        snprintf(err, len, "%s: %s", path, strerror(errno));
        return -1;
    }
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    if (access(dir, W_OK | X_OK) == 0)
        return 0;
    snprintf(err, len, "%s: cannot be created in its folder: %s", path, strerror(errno));
    return -1;
}

/* --check-config: what a run checks before it reads traffic, beyond the
 * file and the pack (loaded already): the geo databases, the Redis
 * settings and spool folder, the outputs, the report template. Prints the
 * summary when all is well. Returns 0 or an exit code (2: the message
 * names the file and line, or the option, at fault). */
static int check_config(struct sensor *s)
{
    char err[1024], where[CONFIG_PATH_MAX + 64];
    const struct sensor_config *cfg = &s->cfg;
    const struct options *o = &s->o;
    const char *url = o->redis ? o->redis : cfg->redis_url;
    const char *metrics = o->metrics ? o->metrics : cfg->metrics_path;
    const char *paths[] = {o->flows ? o->flows : cfg->flows_path,
                           o->alerts ? o->alerts : cfg->alerts_path,
                           o->assets ? o->assets : cfg->assets_path,
                           o->stats ? o->stats : cfg->stats_path,
                           o->report ? o->report : "",
                           metrics};
    const char *names[] = {"flows", "alerts", "assets", "stats", "report", "metrics"};
    const char *keys[] = {"output.flows", "output.alerts", "output.assets", "output.stats",
                          NULL,           "output.metrics"};
    const bool given[] = {o->flows, o->alerts, o->assets, o->stats, o->report, o->metrics};
    int rc = open_geo(s);
    if (rc == GO && url[0])
        rc = check_redis(s, url);
    if (rc == GO)
        rc = check_outputs(paths, names, ARRAY_SIZE(paths));
    for (size_t i = 0; rc == GO && i < ARRAY_SIZE(paths); i++)
        if (output_writable(paths[i], err, sizeof(err)) < 0) {
            log_msg(LOG_ERR, "%s: %s",
                    given[i] ? names[i] : config_where(cfg, keys[i], where, sizeof(where)), err);
            rc = EXIT_USAGE;
        }
    if (rc == GO && strcmp(metrics, "-") == 0) { /* replaced whole, not written as it goes */
        log_msg(LOG_ERR, "%s: the metrics file cannot be standard output",
                config_where(cfg, "output.metrics", where, sizeof(where)));
        rc = EXIT_USAGE;
    }
    if (rc == GO && (o->report || config_is_set(cfg, "report.template")) &&
        out_report_check_template(cfg->report_template, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s: %s", config_where(cfg, "report.template", where, sizeof(where)), err);
        rc = EXIT_USAGE;
    }
    if (rc != GO)
        return rc;
    print_config(s);
    return 0;
}

/* --list-signatures[=VENDOR] [--json]. Returns an exit code: 2 for a
 * vendor the pack does not have (the message names those it has), 1 when
 * standard output could not be written. */
static int list_signatures(const struct sensor *s)
{
    char vendors[1024];
    const char *vendor = s->o.list_vendor;
    errno = 0;
    int rc = sig_pack_print(stdout, s->pack, vendor, s->o.json ? SIG_PRINT_JSON : SIG_PRINT_TEXT);
    if (rc == -ENOENT) {
        sig_pack_vendors(s->pack, vendors, sizeof(vendors));
        if (s->pack == NULL)
            log_msg(LOG_ERR, "--list-signatures=%s: no signature pack (signatures.dir is \"\")",
                    vendor);
        else
            log_msg(LOG_ERR, "--list-signatures=%s: no such vendor in %s; its vendors: %s", vendor,
                    s->cfg.signatures_dir, vendors);
        return EXIT_USAGE;
    }
    if (rc < 0 || fflush(stdout) != 0 || ferror(stdout)) {
        log_msg(LOG_ERR, "--list-signatures: standard output: %s", strerror(errno ? errno : EIO));
        return EXIT_RUNTIME;
    }
    return 0;
}

/* Options, configuration, signature pack, and the actions that stop there
 * (--version, --check-config, --list-signatures). Returns GO or an exit
 * code. */
static int configure(struct sensor *s, int argc, char **argv)
{
    char err[1024];
    int action = parse_options(argc, argv, &s->o);
    if (action < 0)
        return EXIT_USAGE;
    if (action == OPT_EXIT_OK)
        return 0;
    if (s->o.use_syslog)
        log_use_syslog();
    if (load_config(&s->o, &s->cfg) < 0)
        return EXIT_USAGE;
    if (action == OPT_VERSION) {
        print_version(&s->cfg);
        return 0;
    }
    /* signatures.dir = "" turns detection off (flows only). */
    if (s->cfg.signatures_dir[0] &&
        (s->pack = sig_pack_load(s->cfg.signatures_dir, err, sizeof(err))) == NULL) {
        log_msg(LOG_ERR, "signature pack: %s", err);
        return EXIT_USAGE;
    }
    if (s->o.list_signatures)
        return list_signatures(s);
    if (s->o.check_config)
        return check_config(s);
    if (s->o.n_inputs == 0 && s->o.n_ifaces == 0 && s->o.from_redis == NULL) {
        log_msg(LOG_ERR, "no input; give one or more -r FILE or -i IFACE (see --help)");
        return EXIT_USAGE;
    }
    if (s->o.n_inputs > 0 &&
        inputs_expand(s->o.inputs, s->o.n_inputs, &s->in, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return EXIT_USAGE;
    }
    if (s->in.skipped > 0 && !s->o.quiet)
        log_msg(LOG_NOTICE, "%u %s in the folders read: skipped", s->in.skipped,
                s->in.skipped == 1 ? "file is hidden or not a pcap or pcapng capture"
                                   : "files are hidden or not pcap or pcapng captures");
    s->st.in = &s->in;
    if (s->o.user != NULL && privs_lookup(s->o.user, &s->user, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return EXIT_USAGE;
    }
    if (s->o.bpf != NULL && check_filter(s->o.bpf) < 0)
        return EXIT_USAGE;
    return GO;
}

static void install_signals(bool live);

/* --from-redis: the fleet's report, from the Redis it names with its
 * password settled as the output's; through Sentinel, as the output, when
 * redis.sentinels is set. Returns an exit code. */
static int fleet_report(struct sensor *s)
{
    char err[1024], where[CONFIG_PATH_MAX + 64], origin[CONFIG_PATH_MAX + 64];
    const char *sentinels[CONFIG_MAX_SENTINELS];
    struct out_redis_config rc;
    struct redis_url url, sentinel_at[CONFIG_MAX_SENTINELS];
    redis_settings(s, s->o.from_redis, &rc, sentinels, origin, sizeof(origin));
    rc.url_from_cli = true;
    const char *key = out_redis_endpoints(&rc, &url, sentinel_at, err, sizeof(err));
    if (key != NULL) {
        log_msg(LOG_ERR, "%s: %s", where_of(s, key, where, sizeof(where)), err);
        return EXIT_USAGE;
    }
    uint32_t maxlen =
        s->cfg.redis_maxlen < FLEET_WINDOW_MAX ? s->cfg.redis_maxlen : FLEET_WINDOW_MAX;
    struct run_fleet_config fc = {
        .report_path = s->o.report,
        .cfg = &s->cfg,
        .pack = s->pack,
        .url = &url,
        .sentinels = rc.n_sentinels ? sentinel_at : NULL,
        .n_sentinels = rc.n_sentinels,
        .master_name = rc.master_name,
        .window = s->o.stream_window >= 0 ? (uint64_t)s->o.stream_window : maxlen,
        .quiet = s->o.quiet,
    };
    /* a report that cannot be written is found before Redis is read */
    if (output_writable(s->o.report, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "report: %s", err);
        return EXIT_RUNTIME;
    }
    install_signals(false);
    int code = run_fleet(&fc);
    explicit_bzero(url.password, sizeof(url.password));
    return code;
}

/* The outputs, as --user: flow records, the alert sink and the inventory,
 * Redis. Returns GO or an exit code. */
static int open_outputs(struct sensor *s)
{
    char err[1024];
    const struct options *o = &s->o;
    const struct sensor_config *cfg = &s->cfg;
    struct stages *st = &s->st;
    const char *flows_path = o->flows ? o->flows : cfg->flows_path;
    const char *alerts_path = o->alerts ? o->alerts : cfg->alerts_path;
    const char *redis_url = o->redis ? o->redis : cfg->redis_url;
    st->assets_path = o->assets ? o->assets : cfg->assets_path;
    st->stats_path = o->stats ? o->stats : cfg->stats_path;
    st->report_path = o->report ? o->report : "";
    if (o->n_ifaces > 0) /* live: also rewritten while capturing */
        st->report_every_s = o->report_interval_given ? o->report_interval : cfg->report_interval;
    const char *metrics_path = o->metrics ? o->metrics : cfg->metrics_path;
    if (!flows_path[0] && !alerts_path[0] && !st->assets_path[0] && !st->stats_path[0] &&
        !redis_url[0] && !st->report_path[0] && !metrics_path[0])
        alerts_path = "-"; /* an analyst's default: what phones home */
    const char *paths[] = {flows_path,     alerts_path,     st->assets_path,
                           st->stats_path, st->report_path, metrics_path};
    const char *names[] = {"flows", "alerts", "assets", "stats", "report", "metrics"};
    if (check_outputs(paths, names, ARRAY_SIZE(paths)) != GO)
        return EXIT_USAGE;
    if (metrics_path[0]) {
        int r = out_metrics_new(&st->metrics, metrics_path, cfg->sensor_name, cfg->metrics_interval,
                                err, sizeof(err));
        if (r < 0) {
            log_msg(LOG_ERR, "%s: %s", o->metrics ? "--metrics" : "output.metrics", err);
            return r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
        }
    }
    /* a report that cannot be written is found before any work */
    if (st->report_path[0] &&
        (out_report_check_template(cfg->report_template, err, sizeof(err)) < 0 ||
         output_writable(st->report_path, err, sizeof(err)) < 0)) {
        log_msg(LOG_ERR, "report: %s", err);
        return EXIT_RUNTIME;
    }

    bool flows_to_redis = redis_url[0] && cfg->redis_flows_stream[0];
    bool truncate = o->truncate || cfg->output_truncate; /* --truncate, output.truncate */
    if (flows_path[0] || flows_to_redis) {
        st->flows = out_flows_open(flows_path, truncate, err, sizeof(err));
        if (st->flows == NULL) {
            log_msg(LOG_ERR, "%s", err);
            return EXIT_RUNTIME;
        }
    }
    st->assets = assets_new(ASSETS_MAX_HOSTS);
    st->sink = st->assets ? alert_sink_new(cfg, alerts_path, truncate, st->assets, err, sizeof(err))
                          : NULL;
    if (st->sink == NULL) {
        log_msg(LOG_ERR, "%s", st->assets ? err : "out of memory");
        return EXIT_RUNTIME;
    }
    if (st->report_path[0]) {
        st->evidence = evidence_new(ASSETS_MAX_HOSTS);
        if (st->evidence == NULL) {
            log_msg(LOG_ERR, "out of memory");
            return EXIT_RUNTIME;
        }
        alert_sink_set_evidence(st->sink, st->evidence);
        st->pack = s->pack;
        st->geo = s->geo;
    }
    if (redis_url[0]) {
        int rc = open_redis(s, redis_url);
        if (rc != GO)
            return rc;
        alert_sink_set_redis(st->sink, st->redis);
        if (flows_to_redis)
            out_flows_set_redis(st->flows, st->redis);
    }
    return GO;
}

/* The workers: live ones (with the reloader, which takes the pack over),
 * or pipelines for reading files, with the dispatcher when several.
 * Returns GO or an exit code. */
static int open_workers(struct sensor *s)
{
    char err[1024];
    struct stages *st = &s->st;
    st->cfg = &s->cfg;
    st->n = s->o.workers;
    st->detection = s->pack != NULL;
    if (st->live != NULL) {
        /* SIGHUP swaps the pack: from here the reloader owns it. */
        st->reload = reloader_new(&s->cfg, s->pack, st->n);
        if (st->reload == NULL) {
            log_msg(LOG_ERR, "out of memory");
            return EXIT_RUNTIME;
        }
        const struct sig_pack *pack = s->pack;
        s->pack = NULL;
        if (live_workers_setup(st->live, &s->cfg, s->geo, st->flows, pack, st->sink, st->reload,
                               err, sizeof(err)) < 0) {
            log_msg(LOG_ERR, "%s", err);
            return EXIT_RUNTIME;
        }
        return GO;
    }
    /* Reading files, alerts are decided in stream order, so the same
     * capture gives the same alerts whatever the number of workers. */
    alert_sink_set_ordered(st->sink, true);
    for (unsigned i = 0; i < st->n; i++) {
        /* the reading thread, also a worker, takes a smaller share */
        st->pls[i] = pipeline_new_share(&s->cfg, s->geo, st->flows, s->pack, st->sink,
                                        st->n > 1 ? workers_slots(st->n, i) : 1,
                                        st->n > 1 ? WORKERS_SLOTS : 1, err, sizeof(err));
        if (st->pls[i] == NULL) {
            log_msg(LOG_ERR, "%s", err);
            return EXIT_RUNTIME;
        }
        if (st->n > 1)
            pipeline_set_dispatched(st->pls[i]);
    }
    if (st->n > 1) {
        sigset_t block, old; /* the workers never take a signal */
        sigfillset(&block);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        st->workers =
            workers_start(st->pls, st->n, st->sink, s->cfg.max_fragments, err, sizeof(err));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (st->workers == NULL) {
            log_msg(LOG_ERR, "%s", err);
            return EXIT_RUNTIME;
        }
    }
    return GO;
}

/* Signals: SIGUSR1 reopens the outputs (log rotation); SIGHUP, live,
 * reloads and reopens (reading files it ends the run, as a terminal's
 * hang-up); every other signal whose default would end the process ends
 * it cleanly, as SIGTERM does: flows finished, records and the summary
 * written, Redis flushed. */
static void install_signals(bool live)
{
    static const int stop[] = {SIGINT,    SIGTERM, SIGQUIT, SIGUSR2, SIGALRM,
                               SIGVTALRM, SIGPROF, SIGPWR,  SIGIO,   SIGSTKFLT};
    struct sigaction sa;
    /* A reader gone from an output pipe is an output error (EPIPE: counted,
     * reported, exit 1), not a reason to die with the Redis queue unsent;
     * a file grown past RLIMIT_FSIZE is a write error (EFBIG), the same. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    atomic_store(&run_capturing, live);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    for (size_t i = 0; i < ARRAY_SIZE(stop); i++)
        sigaction(stop[i], &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Close everything s holds, in reverse order of opening; the sink's
 * final flush may turn rc into EXIT_RUNTIME. Returns the exit code. */
static int close_all(struct sensor *s, int rc)
{
    char err[1024];
    struct stages *st = &s->st;
    if (st->flows != NULL) /* run_finish() closes it on the way out */
        out_flows_close(st->flows, err, sizeof(err));
    workers_free(st->workers);
    live_workers_free(st->live);
    for (unsigned i = 0; i < st->n && i < WORKERS_MAX; i++)
        pipeline_free(st->pls[i]);
    out_redis_stop(st->redis); /* pending alerts stay in the spool */
    if (alert_sink_close(st->sink, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        rc = EXIT_RUNTIME;
    }
    assets_free(st->assets);
    evidence_free(st->evidence);
    out_metrics_free(st->metrics);
    reloader_free(st->reload);
    sig_pack_free(s->pack);
    geo_free(s->geo);
    config_fini(&s->cfg);
    inputs_free(&s->in);
    options_free(&s->o);
    log_close();
    return rc;
}

int main(int argc, char **argv)
{
    static struct sensor s; /* zeroed; large */
    int rc = configure(&s, argc, argv);
    if (rc == GO && s.o.from_redis != NULL)
        rc = fleet_report(&s);
    if (rc == GO)
        rc = open_privileged(&s);
    if (rc == GO)
        rc = open_outputs(&s);
    if (rc == GO)
        rc = open_workers(&s);
    if (rc == GO) {
        install_signals(s.st.live != NULL);
        rc = s.st.live != NULL ? run_live(&s.o, &s.st) : run_files(&s.o, &s.st);
        rc = run_finish(&s.o, &s.st, rc);
    }
    return close_all(&s, rc);
}
