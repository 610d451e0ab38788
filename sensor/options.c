/* options.c -- the command line of egress-sensor: getopt_long and --help. */
#include "options.h"

#include <getopt.h>
#include <string.h>

#include "config.h"

void usage(FILE *fp)
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
            "      --redis URL       also deliver alerts, inventory and health to Redis:\n"
            "                        redis://[user:password@]host:port/db or\n"
            "                        unix:///path/to/socket (overrides redis.url). Alerts\n"
            "                        Redis cannot take wait in the spool (redis.spool_dir)\n"
            "                        and are delivered later, in order\n"
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
            "2 usage or configuration error; 3 alerts were left in the Redis spool (not\n"
            "yet delivered when redis.flush_timeout ran out).\n");
}

enum {
    OPT_FLOWS = 256,
    OPT_REDIS,
    OPT_ALERTS,
    OPT_ASSETS,
    OPT_STATS,
    OPT_CHECK,
    OPT_LIST_SIGS,
    OPT_PROGRESS,
    OPT_NO_PROGRESS
};

int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"filter", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"alerts", required_argument, NULL, OPT_ALERTS},
        {"redis", required_argument, NULL, OPT_REDIS},
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
    while ((c = getopt_long(argc, argv, "r:f:c:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_inputs == OPT_MAX_INPUTS) {
                fprintf(stderr, "egress-sensor: at most %d input files\n", OPT_MAX_INPUTS);
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
        case OPT_REDIS:
            o->redis = optarg;
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
            return OPT_EXIT_OK;
        case 'V':
            return OPT_VERSION;
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

