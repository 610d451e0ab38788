/* run.h -- the run loop: reading the -r files, or capturing live on the
 * -i interfaces, with the progress line, the periodic status line, the
 * Redis health and, live, SIGHUP reloads (reload.h).
 *
 * main() opens the sources and builds the stages, fills a struct run, and
 * calls run_files() or run_live(), which return when the input is done, a
 * signal asks to stop, or capture fails. Flows are finished by the caller. */
#ifndef RUN_H
#define RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "source-pcap-live.h"

struct options;
struct pipeline;
struct workers;
struct out_flows;
struct alert_sink;
struct out_redis;
struct reloader;
struct run_report;

/* Exit codes (see --help). */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_UNDELIVERED = 3, EXIT_LOST = 4 };

/* Set from signal handlers: SIGINT/SIGTERM (finish and exit), SIGHUP
 * (reload; live runs only). */
extern volatile sig_atomic_t run_stop;
extern volatile sig_atomic_t run_hup;

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

/* What a run works with; main() fills it in. */
struct run {
    struct pipeline *pl;     /* the first (the only one with one worker) */
    unsigned n;              /* workers */
    struct workers *workers; /* reading files with several */
    struct live_worker *lws; /* capturing with several */
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

/* Counters of the whole run so far, whichever thread does the work. */
struct run_totals {
    uint64_t packets, flows, active;
    struct source_live_stats ls; /* live capture */
};

/* Seconds on the monotonic clock. */
double run_now(void);

/* Read the -r files in order into r->pl (or r->workers). Returns 0 or
 * EXIT_RUNTIME (a file could not be read; logged). */
int run_files(const struct options *o, struct run *r, struct run_report *rep);

/* Capture until a signal, or until every interface is gone: on this
 * thread with one worker, else on one thread per worker while this one
 * keeps the clock (outputs, health, the status line, reloads). Returns 0
 * or EXIT_RUNTIME; fills rep's capture figures. */
int run_live(const struct options *o, struct run *r, struct run_report *rep);

/* Hand t to the Redis output as the sensor's health (its thread writes). */
void run_push_health(struct run *r, const struct run_totals *t);

#endif
