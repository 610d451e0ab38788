/* main.c -- egress-sensor: options, wiring of the stages, the run loop.
 *
 * Exit codes: 0 done; 1 runtime failure (an input could not be read, an
 * output could not be written); 2 usage or configuration error. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "alerts.h"
#include "assets.h"
#include "classify.h"
#include "config.h"
#include "detect.h"
#include "flow.h"
#include "frag.h"
#include "geo.h"
#include "output-json-flow.h"
#include "pipeline.h"
#include "signature.h"
#include "source-pcap-file.h"
#include "stats.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_INPUTS 256
#define ASSETS_MAX_HOSTS 16384

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct options {
    const char *inputs[MAX_INPUTS];
    unsigned n_inputs;
    const char *bpf;
    const char *config;
    const char *flows;
    const char *alerts;
    const char *assets;
    const char *stats;
    int check_config;
    int list_signatures;
    int quiet;
    int progress; /* -1 auto, 0 off, 1 on */
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: egress-sensor [options] -r FILE [-r FILE ...]\n"
            "\n"
            "Classify every flow in the given captures by application (nDPI), destination\n"
            "country and autonomous system; recognise the phone-home traffic of foreign\n"
            "security products (signature pack) and report it as alerts and an inventory\n"
            "of the internal hosts that run them.\n"
            "\n"
            "Input:\n"
            "  -r, --read FILE       read a pcap or pcapng file; '-' reads standard input.\n"
            "                        Repeat to read several files in order; flow state is\n"
            "                        kept across them.\n"
            "  -f, --filter BPF      only analyse packets matching this BPF expression\n"
            "\n"
            "Configuration:\n"
            "  -c, --config FILE     configuration file (default: " CONFIG_DEFAULT_FILE
            " when it\n"
            "                        exists, otherwise built-in defaults)\n"
            "      --check-config    validate the configuration, print a summary, exit 0 when\n"
            "                        valid or 2 when not\n"
            "\n"
            "      --list-signatures print the signature pack and exit\n"
            "\n"
            "Output (PATH '-' is standard output; each overrides output.* in the\n"
            "configuration; with none of them alerts go to standard output):\n"
            "      --alerts PATH     write alerts (JSON lines): egress flows that match a\n"
            "                        signature of the pack, one per (internal host,\n"
            "                        signature, destination country) per suppression window\n"
            "      --assets PATH     write the asset inventory (JSON) at the end: per internal\n"
            "                        host, the vendors, products and categories seen\n"
            "      --flows PATH      write flow records (JSON lines)\n"
            "      --stats PATH      write the end-of-run statistics as JSON\n"
            "  -q, --quiet           no summary and no progress on standard error\n"
            "      --progress        always show the progress line\n"
            "      --no-progress     never show it (default: shown when standard error is\n"
            "                        a terminal)\n"
            "\n"
            "Information:\n"
            "  -h, --help            this text\n"
            "  -V, --version         versions of the sensor, nDPI, libpcap and the geo\n"
            "                        databases\n"
            "\n"
            "Exit status: 0 done; 1 an input could not be read or an output not written;\n"
            "2 usage or configuration error.\n");
}

enum {
    OPT_FLOWS = 256,
    OPT_ALERTS,
    OPT_ASSETS,
    OPT_STATS,
    OPT_CHECK,
    OPT_LIST_SIGS,
    OPT_PROGRESS,
    OPT_NO_PROGRESS
};

static int parse_options(int argc, char **argv, struct options *o, int *exit_now)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"filter", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"alerts", required_argument, NULL, OPT_ALERTS},
        {"assets", required_argument, NULL, OPT_ASSETS},
        {"list-signatures", no_argument, NULL, OPT_LIST_SIGS},
        {"stats", required_argument, NULL, OPT_STATS},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"quiet", no_argument, NULL, 'q'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof(*o));
    o->progress = -1;
    *exit_now = -1;
    while ((c = getopt_long(argc, argv, "r:f:c:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_inputs == MAX_INPUTS) {
                fprintf(stderr, "egress-sensor: at most %d input files\n", MAX_INPUTS);
                return -1;
            }
            o->inputs[o->n_inputs++] = optarg;
            break;
        case 'f':
            o->bpf = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case OPT_FLOWS:
            o->flows = optarg;
            break;
        case OPT_ALERTS:
            o->alerts = optarg;
            break;
        case OPT_ASSETS:
            o->assets = optarg;
            break;
        case OPT_LIST_SIGS:
            o->list_signatures = 1;
            break;
        case OPT_STATS:
            o->stats = optarg;
            break;
        case OPT_CHECK:
            o->check_config = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case OPT_PROGRESS:
            o->progress = 1;
            break;
        case OPT_NO_PROGRESS:
            o->progress = 0;
            break;
        case 'h':
            usage(stdout);
            *exit_now = 0;
            return 0;
        case 'V':
            *exit_now = 'V';
            return 0;
        default:
            fprintf(stderr, "Try 'egress-sensor --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "egress-sensor: unexpected argument '%s' (inputs are given with -r)\n",
                argv[optind]);
        return -1;
    }
    return 0;
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
        fprintf(stderr, "egress-sensor: out of memory\n");
        return -1;
    }
    const char *path = o->config;
    if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
        path = CONFIG_DEFAULT_FILE;
    if (path != NULL && config_load(cfg, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "egress-sensor: %s\n", err);
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

struct progress {
    struct pipeline *pl;
    double start, last;
    const char *file;
    uint64_t base_packets;
};

static void on_progress(double frac, const struct source_file_stats *fs, void *ud)
{
    struct progress *pr = ud;
    double t = now_s();
    if (t - pr->last < 0.25)
        return;
    pr->last = t;
    const struct pipeline_stats *ps = pipeline_stats(pr->pl);
    const struct flow_table_stats *fts = pipeline_flow_stats(pr->pl);
    char a[16], b[16], c[16];
    fprintf(stderr, "\r  %s: ", pr->file);
    if (frac >= 0)
        fprintf(stderr, "%3.0f%%  ", frac * 100.0);
    fprintf(stderr, "%s packets  %s pkt/s  %s flows   ", stats_human((double)ps->packets, a, 16),
            stats_human((double)ps->packets / (t - pr->start), b, 16),
            stats_human((double)fts->created, c, 16));
    (void)fs;
}

int main(int argc, char **argv)
{
    struct options o;
    struct sensor_config cfg;
    struct geo *geo = NULL;
    struct out_flows *flows = NULL;
    struct pipeline *pl = NULL;
    struct sig_pack *pack = NULL;
    struct assets *assets = NULL;
    struct alert_sink *sink = NULL;
    char err[1024];
    int exit_now, rc = 0;

    memset(&cfg, 0, sizeof(cfg));
    if (parse_options(argc, argv, &o, &exit_now) < 0)
        return EXIT_USAGE;
    if (exit_now == 0)
        return 0;
    if (load_config(&o, &cfg) < 0) {
        config_fini(&cfg);
        return EXIT_USAGE;
    }
    if (exit_now == 'V') {
        print_version(&cfg);
        config_fini(&cfg);
        return 0;
    }
    /* signatures.dir = "" turns detection off (flows only). */
    pack = cfg.signatures_dir[0] ? sig_pack_load(cfg.signatures_dir, err, sizeof(err)) : NULL;
    if (pack == NULL && cfg.signatures_dir[0]) {
        fprintf(stderr, "egress-sensor: signature pack: %s\n", err);
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
    if (o.n_inputs == 0) {
        fprintf(stderr, "egress-sensor: no input; give one or more -r FILE (see --help)\n");
        sig_pack_free(pack);
        config_fini(&cfg);
        return EXIT_USAGE;
    }

    if (o.bpf != NULL) { /* a bad filter is a usage error, found before any work */
        struct bpf_program prog;
        pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
        int bad = dead == NULL || pcap_compile(dead, &prog, o.bpf, 1, PCAP_NETMASK_UNKNOWN) < 0;
        if (bad)
            fprintf(stderr, "egress-sensor: filter \"%s\": %s\n", o.bpf,
                    dead ? pcap_geterr(dead) : "cannot check");
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

    const char *flows_path = o.flows ? o.flows : cfg.flows_path;
    const char *alerts_path = o.alerts ? o.alerts : cfg.alerts_path;
    const char *assets_path = o.assets ? o.assets : cfg.assets_path;
    const char *stats_path = o.stats ? o.stats : cfg.stats_path;
    if (!flows_path[0] && !alerts_path[0] && !assets_path[0] && !stats_path[0])
        alerts_path = "-"; /* an analyst's default: what phones home */

    err[0] = '\0';
    geo = geo_open(cfg.country_db, cfg.asn_db, err, sizeof(err));
    if (err[0] && !o.quiet)
        fprintf(stderr, "egress-sensor: warning: %s\n", err);
    if (flows_path[0]) {
        flows = out_flows_open(flows_path, err, sizeof(err));
        if (flows == NULL) {
            fprintf(stderr, "egress-sensor: %s\n", err);
            rc = EXIT_RUNTIME;
            goto done;
        }
    }
    assets = assets_new(ASSETS_MAX_HOSTS);
    sink = assets ? alert_sink_new(&cfg, pack, alerts_path, assets, err, sizeof(err)) : NULL;
    if (sink == NULL) {
        fprintf(stderr, "egress-sensor: %s\n", assets ? err : "out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    pl = pipeline_new(&cfg, geo, flows, pack, sink, err, sizeof(err));
    if (pl == NULL) {
        fprintf(stderr, "egress-sensor: %s\n", err);
        rc = EXIT_RUNTIME;
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int show_progress = o.progress < 0 ? (!o.quiet && isatty(STDERR_FILENO)) : o.progress;
    struct progress pr = {.pl = pl, .start = now_s()};
    struct run_report rep = {.top_n = 10};
    for (unsigned i = 0; i < o.n_inputs && !stop_requested; i++) {
        struct source_file_stats fs;
        pr.file = o.inputs[i];
        int r = source_pcap_file_run(o.inputs[i], o.bpf, pl, &stop_requested,
                                     show_progress ? on_progress : NULL, &pr, &fs, err,
                                     sizeof(err));
        if (show_progress)
            fprintf(stderr, "\r%*s\r", 79, "");
        if (r == SRC_FILE_ERROR) {
            fprintf(stderr, "egress-sensor: %s\n", err);
            rep.files_failed++;
            rc = EXIT_RUNTIME;
        } else if (r == SRC_FILE_TRUNCATED) {
            fprintf(stderr, "egress-sensor: warning: %s\n", err);
            rep.files_truncated++;
            rep.files_read++;
        } else {
            rep.files_read++;
        }
    }
    if (stop_requested && !o.quiet)
        fprintf(stderr, "egress-sensor: interrupted; finishing flows\n");
    pipeline_flush(pl);

    rep.ps = pipeline_stats(pl);
    rep.fts = pipeline_flow_stats(pl);
    rep.cs = pipeline_classify_stats(pl);
    rep.frs = pipeline_frag_stats(pl);
    rep.ds = pipeline_detect_stats(pl);
    alert_sink_stats(sink, &rep.as);
    rep.assets = assets;
    rep.bytes_per_flow = pipeline_bytes_per_flow(pl);
    rep.elapsed_s = now_s() - pr.start;
    rep.peak_rss_kb = stats_peak_rss_kb();

    if (out_flows_close(flows, err, sizeof(err)) < 0) {
        fprintf(stderr, "egress-sensor: %s\n", err);
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
        fprintf(stderr, "egress-sensor: %s\n", err);
        rc = EXIT_RUNTIME;
    }
    if (stats_path[0] && stats_write_json(stats_path, &rep, err, sizeof(err)) < 0) {
        fprintf(stderr, "egress-sensor: %s\n", err);
        rc = EXIT_RUNTIME;
    }

done:
    if (flows != NULL)
        out_flows_close(flows, err, sizeof(err));
    pipeline_free(pl);
    if (alert_sink_close(sink, err, sizeof(err)) < 0) {
        fprintf(stderr, "egress-sensor: %s\n", err);
        rc = EXIT_RUNTIME;
    }
    assets_free(assets);
    sig_pack_free(pack);
    geo_free(geo);
    config_fini(&cfg);
    return rc;
}
