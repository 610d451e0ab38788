/* workers.h -- offline reading with several workers.
 *
 * The reading thread hands each frame to workers_packet(), which numbers
 * it, moves the flow clock, and sends it to the worker that owns its flow:
 * the symmetric flow hash of its 5-tuple (after tunnels, with fragments
 * attributed to their datagram) picks one of n pipelines, each run by its
 * own thread. Both directions of a flow therefore meet in one pipeline and
 * per-packet work needs no lock.
 *
 * What a worker sees does not depend on how many there are:
 *   - time: the dispatcher clamps packet time and decides when expiry
 *     passes run; every worker runs every pass, at the same point of the
 *     stream (pipeline_tick_at());
 *   - DNS: a response is sent to its flow's worker, and its bindings to
 *     every other worker too (pipeline_dns_only()), in stream order, so each
 *     worker's DNS cache holds what one worker's would;
 *   - alerts: the sink is ordered (alert_sink_set_ordered()); the dispatcher
 *     lets out the alerts raised before the point every worker has passed.
 * So one capture gives the same alerts and flow records with 1 or n workers
 * (only the order of flow records differs), unless a table fills up: each
 * worker has 1/n of the flow and fragment tables.
 *
 * Frames travel in batches (no lock per packet); a worker that falls
 * behind makes the reader wait (no frame is dropped). */
#ifndef WORKERS_H
#define WORKERS_H

#include <stddef.h>
#include <stdint.h>

struct pipeline;
struct alert_sink;
struct workers;

#define WORKERS_MAX 64

/* Start one thread per pipeline (n of them, each set up with
 * pipeline_set_dispatched()). max_fragments bounds the dispatcher's own
 * fragment table. sink may be NULL. Signals should be blocked by the caller
 * around this call so that the workers never take them. Returns NULL with a
 * message in errbuf. */
struct workers *workers_start(struct pipeline *const *pls, unsigned n, struct alert_sink *sink,
                              uint32_t max_fragments, char *errbuf, size_t errlen);

/* One frame read at ts_us (the reading thread only). */
void workers_packet(struct workers *w, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                    size_t wirelen);

/* Hand every partial batch over and let out the alerts every worker has
 * passed (called every few thousand frames by the reader, and on its
 * progress ticks). */
void workers_sync(struct workers *w);

/* End of input: every worker finishes its batches and flushes its flows
 * (end-of-input), the threads are joined and every alert is let out. */
void workers_finish(struct workers *w);

/* The next frame begins a capture that does not continue the previous
 * one: every worker, in stream order, ends its flows and starts afresh
 * (pipeline_restart()); the dispatcher's clock and fragment trains too.
 * Returns the stream position of the restart. */
uint64_t workers_restart(struct workers *w);

/* Restarts in which a worker's nDPI could not start again (its old module
 * went on). */
uint64_t workers_restart_failures(struct workers *w);

/* Packets and flows the workers have handled so far (a progress line). */
void workers_progress(struct workers *w, uint64_t *packets, uint64_t *flows);

/* Packets whose time went backwards (clamped by the dispatcher). */
uint64_t workers_time_backwards(const struct workers *w);

/* The share of the flows worker i of n takes reading files: slots out of
 * WORKERS_SLOTS (size its pipeline with pipeline_new_share()). */
#define WORKERS_SLOTS 256
unsigned workers_slots(unsigned n, unsigned i);

/* What decoding found (the reading thread decodes every frame once; the
 * pipelines count none of it). */
struct decode_stats;
const struct decode_stats *workers_decode_stats(const struct workers *w);

/* Free (after workers_finish()). NULL is a no-op. */
void workers_free(struct workers *w);

#endif
