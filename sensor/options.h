/* options.h -- the command line of egress-sensor. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdio.h>

#include "source-pcap-live.h"

#define OPT_SNAPLEN_DEFAULT 65535
#define OPT_BUFFER_MB_DEFAULT 64
#define OPT_STATS_INTERVAL_DEFAULT 10

struct options {
    const char **inputs; /* -r and the arguments after the options: files, folders, "-" */
    unsigned n_inputs, cap_inputs;
    const char *ifaces[SRC_LIVE_MAX_IFACES]; /* -i: live capture (never with -r) */
    unsigned n_ifaces;
    int snaplen;             /* --snaplen, bytes */
    unsigned buffer_mb;      /* --buffer-mb, kernel buffer per interface */
    unsigned stats_interval; /* --stats-interval, s; 0 = no periodic line */
    const char *user;        /* --user: switch to this user before the first packet */
    int use_syslog;          /* --syslog: log lines to syslog, not standard error */
    unsigned workers;        /* --workers: analysis threads */
    const char *bpf;
    const char *config;
    const char *flows;
    const char *alerts;
    const char *assets;
    const char *stats;
    const char *metrics;
    const char *report; /* --report: the HTML report, written at the end */
    unsigned
        report_interval; /* --report-interval, s: live, rewrite it this often (0: at the end) */
    int report_interval_given; /* else report.interval applies */
    const char *redis;         /* --redis: redis_url below, the password blanked in argv */
    const char *spool_dir;     /* --spool-dir: overrides redis.spool_dir */
    char redis_url[2050];      /* a copy of the --redis URL (longer ones are refused) */
    const char *from_redis;    /* --from-redis: the fleet report from this Redis; no traffic */
    char from_redis_url[2050]; /* its copy, as redis_url */
    long stream_window;        /* --stream-window: stream entries read; -1 not given */
    int check_config;
    int list_signatures;
    const char *list_vendor; /* --list-signatures=VENDOR: only this vendor's */
    int json;                /* --json: --list-signatures as one JSON document */
    int quiet;
    int truncate; /* --truncate: empty the flows and alerts files at start */
    int progress; /* -1 auto, 0 off, 1 on */
};

/* What parse_options() asks the caller to do. */
enum { OPT_RUN = 0, OPT_EXIT_OK, OPT_VERSION };

/* Parse argv into o. Returns OPT_RUN, OPT_EXIT_OK (--help was printed) or
 * OPT_VERSION, or -1 after printing a usage error to standard error. The
 * strings in o point into argv, but for the --redis URL: o keeps a copy,
 * and the password in argv is overwritten with '*' so that ps and
 * /proc/PID/cmdline do not show it. */
int parse_options(int argc, char **argv, struct options *o);

/* Release what parse_options() allocated in o. */
void options_free(struct options *o);

#endif
