/* source-pcap-live.h -- live capture from network interfaces into one pipeline.
 *
 * A capture set is one or more interfaces read by one thread: each is
 * opened with libpcap (promiscuous, non-blocking), and the loop poll()s
 * their selectable descriptors and hands every packet to pipeline_packet(),
 * exactly as the offline reader does. Several workers each open their own
 * capture set, joined per interface in a PACKET_FANOUT group
 * (live-workers.h); nothing here is global.
 *
 * Life cycle: source_live_open() (needs CAP_NET_RAW: run it before dropping
 * privileges), source_live_run() (after dropping them), source_live_stop()
 * when done, source_live_free(); source_live_stats() at any time. */
#ifndef SOURCE_PCAP_LIVE_H
#define SOURCE_PCAP_LIVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct pipeline;
struct source_live;

#define SRC_LIVE_MAX_IFACES 64

/* How the interfaces are opened. */
struct source_live_config {
    const char *const *ifaces; /* names, n_ifaces of them */
    unsigned n_ifaces;
    const char *bpf;    /* NULL or "": no filter */
    int snaplen;        /* bytes kept per packet */
    unsigned buffer_mb; /* kernel ring per interface, MiB */
    /* Several workers: each opens its own capture set with the same
     * fanout_group, and interface i joins PACKET_FANOUT group
     * fanout_group + i in hash mode. 0: no fanout (one reader). */
    unsigned fanout_group;
};

/* Messages the source has for the operator; priority is a syslog(3) level
 * (LOG_ERR, LOG_WARNING, LOG_INFO). msg names the interface. */
typedef void (*source_live_log_cb)(void *ud, int priority, const char *msg);

/* Called once a second of wall-clock time from the capture loop, after the
 * pipeline's tick (counters, health, the periodic stats line). */
typedef void (*source_live_tick_cb)(void *ud, uint64_t now_us);

/* Capture counters, summed over the interfaces (including those lost).
 * From pcap_stats(): received is ps_recv, drops ps_drop (no room in the
 * kernel ring), if_drops ps_ifdrop (dropped by the interface or driver). */
#define CAPTURE_COUNTERS(X, T)                                                                     \
    X(T, received, "capture.received", CTR_COUNTER,                                                \
      "packets the kernel received on the interfaces (pcap_stats ps_recv)")                        \
    X(T, drops, "capture.kernel_drops", CTR_COUNTER,                                               \
      "packets dropped for want of room in the capture buffer (ps_drop)")                          \
    X(T, if_drops, "capture.if_drops", CTR_COUNTER,                                                \
      "packets dropped by the interface or its driver (ps_ifdrop)")

struct source_live_stats {
    CAPTURE_COUNTERS(CTR_FIELD, struct source_live_stats)
    uint64_t packets; /* handed to the pipeline */
    uint64_t bytes;   /* their length on the wire */
    unsigned ifaces;  /* opened */
    unsigned lost;    /* stopped by a read error (the interface vanished) */
};
extern const struct ctr_table capture_counters;

/* Outcome of source_live_run(). */
enum {
    SRC_LIVE_STOPPED = 0,  /* *stop became non-zero */
    SRC_LIVE_ALL_LOST = 1, /* every interface failed (each was logged) */
    SRC_LIVE_FAILED = -1,  /* the loop itself failed (poll(); logged) */
};

/* Open and activate every interface of cfg: snap length, promiscuous mode,
 * kernel buffer, 100 ms read timeout, non-blocking, the BPF filter. A
 * warning from libpcap (promiscuous mode not supported, ...) goes to log.
 * Returns the capture set, or NULL with a message naming the interface in
 * errbuf (no such device, permission denied, interface down, unsupported
 * link type, bad filter) after closing what was opened. cfg's strings must
 * outlive the set. Free with source_live_free(). */
struct source_live *source_live_open(const struct source_live_config *cfg, source_live_log_cb log,
                                     void *ud, char *errbuf, size_t errlen);

/* Capture until *stop becomes non-zero or every interface has failed,
 * feeding each packet to pl and calling pipeline_tick() once a second so
 * that idle flows end on a quiet link. An interface whose read fails (it
 * vanished or went down) is logged, closed and left out; the others go on.
 * tick may be NULL. Returns SRC_LIVE_STOPPED, SRC_LIVE_ALL_LOST or
 * SRC_LIVE_FAILED. Does not flush the pipeline: the caller does. */
int source_live_run(struct source_live *s, struct pipeline *pl, atomic_int *stop,
                    source_live_tick_cb tick, void *ud);

/* Current counters into st (reads pcap_stats() of the open interfaces).
 * Cannot fail; an interface whose statistics cannot be read keeps its last
 * values. */
void source_live_stats(struct source_live *s, struct source_live_stats *st);

/* Stop capturing: read the counters a last time and close every interface.
 * source_live_stats() still answers (with the final counters) afterwards.
 * Cannot fail; calling it twice is harmless. */
void source_live_stop(struct source_live *s);

/* The interface names, ", "-separated, into buf. Returns buf. */
const char *source_live_names(const struct source_live *s, char *buf, size_t len);

/* Close every interface and free s. NULL is a no-op. */
void source_live_free(struct source_live *s);

#endif
