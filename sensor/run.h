/* run.h -- the run: reading the -r files, or capturing live on the -i
 * interfaces, then finishing (flows, counters, Redis, summary, outputs).
 *
 * main() opens the stages (struct stages) and calls run_files() or
 * run_live(), which return when the input is done, a signal asks to stop,
 * or capture fails, then run_finish(). What the loops keep for themselves
 * (the progress and status timers) is private to run.c. */
#ifndef RUN_H
#define RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "workers.h"

struct options;
struct sensor_config;
struct geo;
struct pipeline;
struct live_workers;
struct out_flows;
struct alert_sink;
struct assets;
struct out_redis;
struct out_metrics;
struct reloader;
struct sig_pack;
struct evidence;
struct input_list;

/* Exit codes (see --help). */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_UNDELIVERED = 3, EXIT_LOST = 4 };

/* Set from signal handlers (lock-free atomics, which C11 lets a handler
 * write): stop, for SIGINT and SIGTERM (finish and exit); hup, for SIGHUP
 * (reload; live runs only). Read by every thread. */
extern atomic_int run_stop;
extern atomic_int run_hup;
/* reopen: SIGUSR1 (and SIGHUP, live): the outputs are closed and opened
 * again (log rotation). capturing: a live run (a SIGHUP reloads). */
extern atomic_int run_reopen;
extern atomic_int run_capturing;

/* The stages of a run, as main() opened them. */
struct stages {
    const struct sensor_config *cfg;
    unsigned n;                        /* workers */
    struct pipeline *pls[WORKERS_MAX]; /* reading files: n of them */
    struct workers *workers;           /* reading files with several */
    struct live_workers *live;         /* capturing live */
    struct out_flows *flows;           /* may be NULL */
    struct alert_sink *sink;
    struct assets *assets;
    struct out_redis *redis; /* may be NULL */
    struct reloader *reload; /* live: SIGHUP */
    const char *assets_path; /* "" none */
    const char *stats_path;  /* "" none */
    const char *redis_desc;  /* the Redis URL without credentials */
    const char *spool_dir;   /* the Redis spool's folder */
    bool detection;          /* a signature pack is loaded */
    /* --report: the page, and what it is made of */
    const char *report_path;     /* "" none */
    const struct input_list *in; /* reading files: the captures, in order */
    unsigned report_every_s;     /* live: rewrite it this often; 0 at the end only */
    const struct sig_pack *pack;
    const struct geo *geo;
    struct evidence *evidence;
    /* the metrics file (--metrics, output.metrics); may be NULL */
    struct out_metrics *metrics;
};

/* Read the -r files in order. Returns 0 or EXIT_RUNTIME (a file could not
 * be read; logged). */
int run_files(const struct options *o, struct stages *st);

/* Capture until a signal, or until every interface is gone. Returns 0 or
 * EXIT_RUNTIME. */
int run_live(const struct options *o, struct stages *st);

/* After the input: finish every flow, let out every alert, sum the
 * counters, wait (bounded) for Redis, print the summary, write the
 * inventory, the statistics and the metrics file. rc is the run's exit
 * code so far; returns the final one. */
int run_finish(const struct options *o, struct stages *st, int rc);

#endif
