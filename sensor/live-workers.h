/* live-workers.h -- live capture on N worker threads, from open to join.
 *
 * Each worker has its own capture set (one socket per interface; with
 * several workers the sockets of one interface form a PACKET_FANOUT hash
 * group, so both directions of a flow reach the same worker), its own
 * pipeline with 1/N of the flow and fragment tables, and its own thread.
 * With several workers they share one DNS cache under a lock, since a DNS
 * answer and the flow it names may be hashed to different workers. Every
 * worker applies a pending reload at its once-a-second tick and publishes
 * a snapshot of its counters then; the main thread reads the sum
 * (live_workers_counters()) for the status line and the Redis health.
 *
 * Life cycle, in the order the privileges allow:
 *   live_workers_open()   as root (CAP_NET_RAW): the capture sockets;
 *   live_workers_setup()  after dropping privileges: tables and pipelines;
 *   live_workers_start()  the threads;
 *   live_workers_join()   after *stop is set (or a worker ended): every
 *                         worker stops capturing, finishes its flows
 *                         (end-of-input records, alerts) and is joined;
 *   live_workers_free(). */
#ifndef LIVE_WORKERS_H
#define LIVE_WORKERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "source-pcap-live.h"

struct live_workers;
struct sensor_config;
struct geo;
struct out_flows;
struct sig_pack;
struct alert_sink;
struct reloader;
struct run_counters;

/* Open n capture sets on lc's interfaces (lc's strings must outlive the
 * result). Returns NULL with a message naming the interface in errbuf,
 * after closing what was opened. Free with live_workers_free(). */
struct live_workers *live_workers_open(const struct source_live_config *lc, unsigned n,
                                       char *errbuf, size_t errlen);

/* Build each worker's pipeline and tables (cfg, geo, flows, pack and sink
 * as pipeline_new_share() takes them; reload switches them at each tick, may
 * be NULL). Returns 0, or -1 with a message in errbuf (out of memory);
 * live_workers_free() then frees what was built. */
int live_workers_setup(struct live_workers *lw, const struct sensor_config *cfg,
                       const struct geo *geo, struct out_flows *flows, const struct sig_pack *pack,
                       struct alert_sink *sink, struct reloader *reload, char *errbuf,
                       size_t errlen);

/* Start one thread per worker, capturing until *stop is set or every
 * interface of that worker is gone. The threads block every signal.
 * Returns 0, or -1 with a message in errbuf (the workers that started are
 * still to be joined). */
int live_workers_start(struct live_workers *lw, atomic_int *stop, char *errbuf, size_t errlen);

/* Whether every started worker is still capturing. Cannot fail. */
bool live_workers_running(struct live_workers *lw);

/* Set *stop (as given to live_workers_start()), wait for every worker to
 * finish its flows and end. Returns the worst outcome: SRC_LIVE_FAILED,
 * else SRC_LIVE_ALL_LOST, else SRC_LIVE_STOPPED. Cannot fail otherwise. */
int live_workers_join(struct live_workers *lw);

/* Add the workers' counters to rc: the snapshots they published at their
 * last tick (while running), or their final counters (after join). The
 * shared DNS cache is counted once. Cannot fail. */
void live_workers_counters(struct live_workers *lw, struct run_counters *rc);

/* Interfaces that stopped during the run (the most any worker lost: each
 * worker has a socket on every interface). Cannot fail. */
unsigned live_workers_lost(struct live_workers *lw);

/* The interfaces, "eth1, eth2", into buf (truncated to len). */
void live_workers_names(const struct live_workers *lw, char *buf, size_t len);

/* Bytes of table memory one tracked flow costs. */
size_t live_workers_bytes_per_flow(const struct live_workers *lw);

/* Close the capture sets and free the pipelines (after join, or before
 * start). NULL is a no-op. */
void live_workers_free(struct live_workers *lw);

#endif
