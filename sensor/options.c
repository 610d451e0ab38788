/* options.c -- the command line of egress-sensor: getopt_long and --help. */
#include "options.h"

#include "workers.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fleet.h"
#include "redis-url.h"

/* Append an input (a file, a folder, "-"). Returns 0, or -1 (printed). */
static int add_input(struct options *o, const char *path)
{
    if (o->n_inputs == o->cap_inputs) {
        unsigned cap = o->cap_inputs ? o->cap_inputs * 2 : 16;
        const char **v = realloc(o->inputs, cap * sizeof(*v));
        if (v == NULL) {
            fprintf(stderr, "egress-sensor: out of memory\n");
            return -1;
        }
        o->inputs = v;
        o->cap_inputs = cap;
    }
    o->inputs[o->n_inputs++] = path;
    return 0;
}

void options_free(struct options *o)
{
    free(o->inputs);
    o->inputs = NULL;
    o->n_inputs = o->cap_inputs = 0;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: egress-sensor [options] -r PATH [-r PATH ...] [PATH ...]\n"
            "       egress-sensor [options] -i IFACE [-i IFACE ...]\n"
            "       egress-sensor [options] --report FILE --from-redis URL\n"
            "\n"
            "Classify every flow in the given captures by application (nDPI), destination\n"
            "country and autonomous system; recognise the phone-home traffic of foreign\n"
            "security products (signature pack) and report it as alerts and an inventory\n"
            "of the internal hosts that run them.\n"
            "\n"
            "Input:\n"
            "  -r, --read PATH       read a pcap or pcapng file, or every capture in a\n"
            "                        folder and its subfolders (sorted by path); '-'\n"
            "                        reads standard input. Repeat, or name more files\n"
            "                        after the options (-r *.pcap), to read them in\n"
            "                        order: a file that continues the previous one in\n"
            "                        time keeps its flows; one that does not (time going\n"
            "                        back, or a gap longer than the shortest flow\n"
            "                        timeout, 30 s by default) ends them and starts\n"
            "                        afresh, as if read alone.\n"
            "  -i, --interface IFACE capture live on this network interface (promiscuous);\n"
            "                        repeat for several (each read by every worker). Not\n"
            "                        with -r.\n"
            "                        Runs until SIGTERM or SIGINT, then finishes every\n"
            "                        flow; exit 1 when every interface has gone away.\n"
            "                        SIGHUP reloads the signature pack and the config's\n"
            "                        home_net, home_countries, signatures.dir and\n"
            "                        alerts.suppress_window, keeping every flow; a file\n"
            "                        with a mistake is refused (logged with its line) and\n"
            "                        the running ones stay\n"
            "  -f, --filter BPF      only analyse packets matching this BPF expression\n"
            "  -w, --workers N       analyse on N threads, each owning the flows that hash\n"
            "                        to it (1 to 64, default 1). Reading files, the\n"
            "                        reading thread decodes each packet and hands it to\n"
            "                        its flow's worker, and is itself the first worker\n"
            "                        (with a smaller share); the alerts and flow records\n"
            "                        are the same as with one.\n"
            "                        Live, each worker has its own socket per interface in\n"
            "                        a PACKET_FANOUT group (hash mode; IP fragments go by\n"
            "                        address pair) and the workers share the DNS cache.\n"
            "                        Each worker's flow and fragment tables are its share\n"
            "                        of flow.max_flows and flow.max_fragments\n"
            "\n"
            "Live capture:\n"
            "      --snaplen N       bytes kept per packet (default 65535)\n"
            "      --buffer-mb N     kernel capture buffer per interface, MiB (default 64)\n"
            "      --user NAME       once the interfaces are open, switch to this user for\n"
            "                        good; outputs, the Redis spool, the geo databases and\n"
            "                        -r files are opened as this user. Live capture as\n"
            "                        root without --user warns that it runs as root\n"
            "      --stats-interval S\n"
            "                        log a one-line status every S seconds: packets, rate,\n"
            "                        drops, active flows, alerts, the Redis output's state\n"
            "                        (default 10; 0: never)\n"
            "      --syslog          log lines (start, warnings, errors, the status line)\n"
            "                        go to syslog (facility daemon), not standard error\n"
            "\n"
            "Configuration:\n"
            "  -c, --config FILE     configuration file (default: " CONFIG_DEFAULT_FILE " when it\n"
            "                        exists, otherwise built-in defaults)\n"
            "      --check-config    check the configuration, the pack, the geo databases,\n"
            "                        the Redis settings and spool folder and the outputs\n"
            "                        as a run would; print a summary, exit 0 when valid\n"
            "                        or 2 (naming the file and line) when not\n"
            "\n"
            "      --list-signatures[=VENDOR]\n"
            "                        print the signature pack (only VENDOR's signatures,\n"
            "                        the name in any case) and exit; an unknown vendor is\n"
            "                        exit 2, naming the pack's vendors\n"
            "      --json            with --list-signatures: one JSON document, every\n"
            "                        signature with its indicators (schema_version 1)\n"
            "\n"
            "Output (PATH '-' is standard output; each overrides output.* in the\n"
            "configuration; with none of them alerts go to standard output):\n"
            "      --alerts PATH     write alerts and asset events (JSON lines): egress\n"
            "                        flows whose client a signature names, one per\n"
            "                        (internal host, signature, destination country) per\n"
            "                        suppression window; the first identification of each\n"
            "                        internal host as a product, in any direction\n"
            "      --assets PATH     write the asset inventory (JSON) at the end: per internal\n"
            "                        host, the vendors, products and categories seen\n"
            "      --flows PATH      write flow records (JSON lines)\n"
            "                        Flows and alerts are appended to their files;\n"
            "                        SIGUSR1 (and SIGHUP, live) closes and reopens them,\n"
            "                        for log rotation\n"
            "      --truncate        empty the flows and alerts files at start instead of\n"
            "                        appending (output.truncate)\n"
            "      --redis URL       also deliver alerts, inventory and health to Redis:\n"
            "                        redis://[user[:password]@]host:port/db or\n"
            "                        unix:///path/to/socket (overrides redis.url). Alerts\n"
            "                        Redis cannot take wait in the spool (redis.spool_dir)\n"
            "                        and are delivered later, in order. A password here is\n"
            "                        blanked from the command line at start, but ps may\n"
            "                        have seen it: give it in EGRESS_SENSOR_REDIS_PASSWORD,\n"
            "                        redis.password_file or redis.password instead\n"
            "      --spool-dir DIR   the Redis spool directory (overrides redis.spool_dir)\n"
            "      --stats PATH      write the end-of-run statistics as JSON\n"
            "      --report FILE     write the HTML report at the end: the foreign security\n"
            "                        products found per host with their evidence, egress by\n"
            "                        country, network and application, timelines, what was\n"
            "                        read. One self-contained page (no network needed to\n"
            "                        view it), made from report.template (make report\n"
            "                        builds it), replaced atomically; not '-'. Live, it is\n"
            "                        written when the capture stops\n"
            "      --report-interval MIN\n"
            "                        live: also rewrite the report every MIN minutes while\n"
            "                        capturing, for a web server to serve (30s, 5m, 1h\n"
            "                        also work; default report.interval, 0: at the end only)\n"
            "      --metrics FILE    keep every counter of --stats in FILE as Prometheus\n"
            "                        text for node_exporter's textfile collector (name it\n"
            "                        *.prom in the collector's folder): replaced atomically\n"
            "                        every output.metrics_interval seconds on a live run\n"
            "                        (default 10) and at the end of every run; not '-'\n"
            "  -q, --quiet           no summary and no progress on standard error (exit 3\n"
            "                        and 4 still print one line)\n"
            "      --progress        always show the progress line\n"
            "      --no-progress     never show it (default: shown when standard error is\n"
            "                        a terminal)\n"
            "\n"
            "Fleet view (no traffic read; not with -r, -i or another output):\n"
            "      --from-redis URL  write the report (--report FILE) of every sensor that\n"
            "                        pushes to this Redis (URL and password as for --redis):\n"
            "                        their inventory hashes, stats hashes and heartbeats\n"
            "                        under redis.key_prefix, and the newest entries of the\n"
            "                        alerts stream (redis.stream); which sensor saw what.\n"
            "                        Damaged records are skipped, counted and named; exit\n"
            "                        1 when Redis cannot be read or the report written\n"
            "      --stream-window N read at most the newest N entries of the alerts stream\n"
            "                        (0 to 1000000; default redis.maxlen, at most 1000000)\n"
            "\n"
            "Information:\n"
            "  -h, --help            this text\n"
            "  -V, --version         versions of the sensor, nDPI, libpcap and the geo\n"
            "                        databases\n"
            "\n"
            "Exit status: 0 done; 1 an input could not be read (an interface could not\n"
            "be opened or every one went away), an output not written, or with\n"
            "--from-redis Redis not read (no report written); 2 usage or configuration\n"
            "error; 3 alerts were left in the Redis spool (not yet delivered when\n"
            "redis.flush_timeout ran out); 4 alerts were lost by the Redis output\n"
            "(refused: too large, spool or disk full; or damaged in the spool), counted\n"
            "in the summary and --stats; 4 takes precedence over 3.\n");
}

enum {
    OPT_FLOWS = 256,
    OPT_REDIS,
    OPT_ALERTS,
    OPT_ASSETS,
    OPT_STATS,
    OPT_REPORT,
    OPT_METRICS,
    OPT_CHECK,
    OPT_LIST_SIGS,
    OPT_JSON,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_SNAPLEN,
    OPT_BUFFER_MB,
    OPT_USER,
    OPT_STATS_INTERVAL,
    OPT_SYSLOG,
    OPT_SPOOL_DIR,
    OPT_TRUNCATE,
    OPT_REPORT_INTERVAL,
    OPT_FROM_REDIS,
    OPT_STREAM_WINDOW
};

/* A whole decimal number in [lo, hi], or -1 after a usage message. */
static long number_arg(const char *opt, const char *arg, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "egress-sensor: %s: '%s' is not a number from %ld to %ld\n", opt, arg, lo,
                hi);
        return -1;
    }
    return v;
}

/* --report-interval: whole minutes, or a number with the unit s, m or h,
 * up to 7 days (0: at the end only). The seconds, or -1 after a usage
 * message. */
static long interval_arg(const char *opt, const char *arg)
{
    char *end;
    long unit = 60; /* minutes when no unit is given */
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end != arg && end[0] != '\0' && end[1] == '\0') {
        unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 0;
        end++;
    }
    if (errno != 0 || end == arg || *end != '\0' || unit == 0 || v < 0 || v > 7 * 86400 / unit) {
        fprintf(stderr,
                "egress-sensor: %s: '%s' is not a time up to 7 days (minutes, or 30s, 5m, "
                "1h)\n",
                opt, arg);
        return -1;
    }
    return v * unit;
}

/* --redis URL (--from-redis URL): keep a copy in copy (2050 bytes), and
 * overwrite the password in argv itself so that it does not show in ps
 * for the whole run. A URL too long for the copy is kept as it is: the URL
 * parser refuses it. Returns the URL to use. */
static const char *redis_arg(char *copy, size_t cap, char *arg)
{
    size_t off, len;
    const char *url = arg;
    if (strlen(arg) < cap) {
        memcpy(copy, arg, strlen(arg) + 1);
        url = copy;
    }
    if (redis_url_password_span(arg, &off, &len) == 0)
        memset(arg + off, '*', len);
    return url;
}

/* --from-redis reads no traffic and writes the report only: what it
 * cannot go with, or NULL. */
static const char *fleet_conflict(const struct options *o, int live_only)
{
    return o->n_inputs                ? "-r"
           : o->n_ifaces              ? "-i"
           : o->bpf                   ? "--filter"
           : o->workers > 1           ? "--workers"
           : o->flows                 ? "--flows"
           : o->alerts                ? "--alerts"
           : o->assets                ? "--assets"
           : o->stats                 ? "--stats"
           : o->metrics               ? "--metrics"
           : o->redis                 ? "--redis"
           : o->spool_dir             ? "--spool-dir"
           : o->user                  ? "--user"
           : o->report_interval_given ? "--report-interval"
           : live_only                ? "--snaplen, --buffer-mb and --stats-interval"
                                      : NULL;
}

int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"snaplen", required_argument, NULL, OPT_SNAPLEN},
        {"buffer-mb", required_argument, NULL, OPT_BUFFER_MB},
        {"user", required_argument, NULL, OPT_USER},
        {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"syslog", no_argument, NULL, OPT_SYSLOG},
        {"workers", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"alerts", required_argument, NULL, OPT_ALERTS},
        {"redis", required_argument, NULL, OPT_REDIS},
        {"spool-dir", required_argument, NULL, OPT_SPOOL_DIR},
        {"truncate", no_argument, NULL, OPT_TRUNCATE},
        {"assets", required_argument, NULL, OPT_ASSETS},
        {"list-signatures", optional_argument, NULL, OPT_LIST_SIGS},
        {"json", no_argument, NULL, OPT_JSON},
        {"stats", required_argument, NULL, OPT_STATS},
        {"report", required_argument, NULL, OPT_REPORT},
        {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
        {"from-redis", required_argument, NULL, OPT_FROM_REDIS},
        {"stream-window", required_argument, NULL, OPT_STREAM_WINDOW},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"quiet", no_argument, NULL, 'q'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c, live_only = 0;
    long v;
    memset(o, 0, sizeof(*o));
    o->progress = -1;
    o->snaplen = OPT_SNAPLEN_DEFAULT;
    o->buffer_mb = OPT_BUFFER_MB_DEFAULT;
    o->stats_interval = OPT_STATS_INTERVAL_DEFAULT;
    o->workers = 1;
    o->stream_window = -1;
    while ((c = getopt_long(argc, argv, "r:i:f:c:w:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (add_input(o, optarg) < 0)
                return -1;
            break;
        case 'i':
            if (o->n_ifaces == SRC_LIVE_MAX_IFACES) {
                fprintf(stderr, "egress-sensor: at most %d interfaces\n", SRC_LIVE_MAX_IFACES);
                return -1;
            }
            if (optarg[0] == '\0') {
                fprintf(stderr, "egress-sensor: -i: an interface name is needed\n");
                return -1;
            }
            for (unsigned i = 0; i < o->n_ifaces; i++) {
                if (strcmp(o->ifaces[i], optarg) == 0) {
                    fprintf(stderr, "egress-sensor: -i %s: given twice\n", optarg);
                    return -1;
                }
            }
            o->ifaces[o->n_ifaces++] = optarg;
            break;
        case OPT_SNAPLEN:
            if ((v = number_arg("--snaplen", optarg, 64, 262144)) < 0)
                return -1;
            o->snaplen = (int)v;
            live_only = 1;
            break;
        case OPT_BUFFER_MB:
            if ((v = number_arg("--buffer-mb", optarg, 1, 2047)) < 0)
                return -1;
            o->buffer_mb = (unsigned)v;
            live_only = 1;
            break;
        case OPT_STATS_INTERVAL:
            if ((v = number_arg("--stats-interval", optarg, 0, 86400)) < 0)
                return -1;
            o->stats_interval = (unsigned)v;
            live_only = 1;
            break;
        case 'w':
            if ((v = number_arg("--workers", optarg, 1, WORKERS_MAX)) < 0)
                return -1;
            o->workers = (unsigned)v;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_SYSLOG:
            o->use_syslog = 1;
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
        case OPT_REDIS:
            o->redis = redis_arg(o->redis_url, sizeof(o->redis_url), optarg);
            break;
        case OPT_FROM_REDIS:
            o->from_redis = redis_arg(o->from_redis_url, sizeof(o->from_redis_url), optarg);
            break;
        case OPT_STREAM_WINDOW:
            if ((v = number_arg("--stream-window", optarg, 0, FLEET_WINDOW_MAX)) < 0)
                return -1;
            o->stream_window = v;
            break;
        case OPT_SPOOL_DIR:
            if (optarg[0] == '\0') {
                fprintf(stderr, "egress-sensor: --spool-dir: a directory is needed\n");
                return -1;
            }
            o->spool_dir = optarg;
            break;
        case OPT_ASSETS:
            o->assets = optarg;
            break;
        case OPT_LIST_SIGS:
            o->list_signatures = 1;
            if (optarg != NULL && optarg[0] == '\0') {
                fprintf(stderr, "egress-sensor: --list-signatures=: a vendor name is needed\n");
                return -1;
            }
            o->list_vendor = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_STATS:
            o->stats = optarg;
            break;
        case OPT_TRUNCATE:
            o->truncate = 1;
            break;
        case OPT_REPORT:
            if (optarg[0] == '\0' || strcmp(optarg, "-") == 0) {
                fprintf(stderr, "egress-sensor: --report needs a file name (the report is "
                                "written to a file, atomically, not to standard output)\n");
                return -1;
            }
            o->report = optarg;
            break;
        case OPT_REPORT_INTERVAL:
            if ((v = interval_arg("--report-interval", optarg)) < 0)
                return -1;
            o->report_interval = (unsigned)v;
            o->report_interval_given = 1;
            break;
        case OPT_METRICS:
            if (optarg[0] == '\0' || strcmp(optarg, "-") == 0) {
                fprintf(stderr, "egress-sensor: --metrics needs a file name (the file is "
                                "replaced atomically, not written to standard output)\n");
                return -1;
            }
            o->metrics = optarg;
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
            return OPT_EXIT_OK;
        case 'V':
            return OPT_VERSION;
        default:
            fprintf(stderr, "Try 'egress-sensor --help'.\n");
            return -1;
        }
    }
    /* "-r *.pcap": the shell's other names come after the options */
    if (optind < argc && o->n_inputs == 0) {
        fprintf(stderr, "egress-sensor: unexpected argument '%s' (%s)\n", argv[optind],
                o->list_signatures ? "a vendor is given as --list-signatures=VENDOR"
                                   : "inputs are given with -r or -i");
        return -1;
    }
    if (o->json && !o->list_signatures) {
        fprintf(stderr, "egress-sensor: --json applies to --list-signatures\n");
        return -1;
    }
    for (; optind < argc; optind++)
        if (add_input(o, argv[optind]) < 0)
            return -1;
    if (o->from_redis != NULL && fleet_conflict(o, live_only) != NULL) {
        fprintf(stderr,
                "egress-sensor: --from-redis reads no traffic and writes only the report: not "
                "with %s\n",
                fleet_conflict(o, live_only));
        return -1;
    }
    if (o->from_redis != NULL && o->report == NULL) {
        fprintf(stderr, "egress-sensor: --from-redis makes the fleet's report: give --report "
                        "FILE\n");
        return -1;
    }
    if (o->stream_window >= 0 && o->from_redis == NULL) {
        fprintf(stderr, "egress-sensor: --stream-window applies to --from-redis\n");
        return -1;
    }
    if (o->n_ifaces > 0 && o->n_inputs > 0) {
        fprintf(stderr, "egress-sensor: -i and -r cannot be combined: capture live or read "
                        "files\n");
        return -1;
    }
    if (o->report_interval_given && (o->report == NULL || o->n_ifaces == 0)) {
        fprintf(stderr, "egress-sensor: --report-interval rewrites the report (--report FILE) "
                        "of a live capture (-i)\n");
        return -1;
    }
    if (live_only && o->n_ifaces == 0 && o->n_inputs > 0) {
        fprintf(stderr, "egress-sensor: --snaplen, --buffer-mb and --stats-interval apply to "
                        "live capture (-i)\n");
        return -1;
    }
    return 0;
}
