/* alerts.h -- from signature hits to identifications and alerts.
 *
 * The alert sink takes every signature hit of a flow. Each hit names the
 * internal ends of the flow its signature's role points at: they enter the
 * asset inventory, and the first identification of a (host, vendor,
 * product) is written as an asset event. A hit that names the client of an
 * egress flow -- what a product sends out of the network -- is an alert,
 * and the sink decides:
 * the alert's severity (raised one level when the destination country is
 * known and not a home country), whether it is a repeat of an alert already
 * raised for the same (internal host, signature, destination country) within
 * the suppression window (counted, and reported with the next alert of that
 * key), its stable alert_id, and where it goes (the alert output and the
 * asset inventory). Thread-safe: workers may offer hits concurrently. */
#ifndef ALERTS_H
#define ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "enrich.h"

struct flow;
struct sig_hit;
struct assets;
struct sensor_config;
struct alert_sink;

/* A flow as it matches: its facts (enrich.h: fi->f is the flow), when,
 * and where in the packet stream. */
struct alert_flow {
    const struct flow_info *fi;
    uint64_t ts_us; /* packet time of the match */
    uint64_t order; /* position in the packet stream (ordered sinks) */
};

struct dev_info;

/* One alert as written (see out_alert_format()). */
struct alert_rec {
    char alert_id[33];
    const char *sensor;
    const struct alert_flow *af;
    const struct sig_hit *hit;
    const struct dev_info *dev; /* what the evidence tells of the device, or NULL */
    uint8_t severity;           /* after the country rule */
    uint64_t repeats;           /* suppressed since the previous alert of this key */
};

/* The ends of a flow a signature's evidence names (its role: the client,
 * the server, both for peers), when inside home_net and not the
 * unspecified address (ClusterXL sends from 0.0.0.0). */
enum { ALERT_END_CLIENT = 1, ALERT_END_SERVER = 2 };
struct signature;
unsigned alert_ends(const struct signature *sig, const struct flow *f);

/* One asset event as written (see out_asset_format()): the first
 * identification of (host, vendor, product). */
struct asset_rec {
    char asset_id[33];
    char host[46]; /* the identified host's address */
    const char *sensor;
    const struct alert_flow *af;
    const struct sig_hit *hit;
    unsigned end;               /* ALERT_END_CLIENT or ALERT_END_SERVER: the host's end */
    const struct dev_info *dev; /* or NULL */
};

#define ALERT_COUNTERS(X, T)                                                                       \
    X(T, hits, "detection.hits", CTR_COUNTER, "signature hits offered to the alert sink")          \
    X(T, alerts, "detection.alerts", CTR_COUNTER, "alerts raised")                                 \
    X(T, suppressed, "detection.suppressed", CTR_COUNTER, "repeats inside the suppression window") \
    X(T, keys_evicted, "detection.dedup_keys_evicted", CTR_COUNTER,                                \
      "de-duplication keys dropped for room")                                                      \
    X(T, write_errors, "detection.alert_write_errors", CTR_COUNTER,                                \
      "alerts and asset events that could not be written to the alert output")                     \
    X(T, identified, "detection.identified", CTR_COUNTER,                                          \
      "identifications: a hit naming an internal end of its flow")                                 \
    X(T, asset_events, "detection.asset_events", CTR_COUNTER,                                      \
      "asset events: a (host, vendor, product) identified for the first time")

struct alert_stats {
    ALERT_COUNTERS(CTR_FIELD, struct alert_stats)
    uint64_t by_severity[4]; /* enum sig_severity; see alert_counters */
};
extern const struct ctr_table alert_counters;

/* Create a sink. alerts_path: "" for no alert output, "-" for standard
 * output, else a file, appended to (emptied first when truncate). assets may be NULL. cfg gives
 * the sensor name, the home countries and the suppression window. Returns
 * NULL with a message in errbuf. Close with alert_sink_close(). */
struct alert_sink *alert_sink_new(const struct sensor_config *cfg, const char *alerts_path,
                                  bool truncate, struct assets *assets, char *errbuf,
                                  size_t errlen);

/* A reload: take the home countries and the suppression window from cfg
 * (which must outlive the sink or the next call). The sensor name and the
 * number of de-duplication keys stay as they were. Open windows are kept:
 * they are keyed by signature id, not by the place in the pack. */
void alert_sink_reconfigure(struct alert_sink *s, const struct sensor_config *cfg);

/* Also hand every alert and every changed inventory record to the Redis
 * output (NULL to stop). Call before traffic starts. */
struct out_redis;
void alert_sink_set_redis(struct alert_sink *s, struct out_redis *r);

/* Also keep evidence for the report (indicators, sample alerts,
 * timelines; evidence.h) in e, which must outlive the sink (NULL to stop).
 * Call before traffic starts. */
struct evidence;
void alert_sink_set_evidence(struct alert_sink *s, struct evidence *e);

/* Ordered mode (offline reading). Workers offer hits as they go, so two
 * workers' alerts reach the sink in no fixed order, while de-duplication
 * keeps the first alert of a key. In ordered mode an offer is only copied;
 * alert_sink_release() decides and writes, in the order of the packet
 * stream (alert_flow.order, then the flow's start time, Community ID and
 * signature), every offer made before position horizon. The same capture
 * then gives the same alerts with one worker or several. Call before
 * traffic starts. */
void alert_sink_set_ordered(struct alert_sink *s, bool on);

/* Decide and write every held offer whose order is below horizon
 * (UINT64_MAX: all of them). No-op unless ordered. */
void alert_sink_release(struct alert_sink *s, uint64_t horizon);

/* How many offers are held (cheap, no lock). */
size_t alert_sink_pending(struct alert_sink *s);

/* Offer the hits of one flow (all of them at once, strongest first). */
void alert_sink_offer(struct alert_sink *s, const struct alert_flow *af, const struct sig_hit *hits,
                      size_t n);

/* A flow whose strongest identifying match was sig ended: the bytes each
 * end sig names sent out of the network go to the inventory, at stream
 * position order (ordered mode: sig must then stay valid until released). */
void alert_sink_flow_bytes(struct alert_sink *s, const struct flow *f, const struct signature *sig,
                           uint64_t order);

/* Rotation (SIGUSR1, SIGHUP): close the alert file and open its path
 * again for appending, between two records. Returns 0, or -1 with the
 * reason in errbuf (the file could not be reopened: the old one is kept). */
int alert_sink_reopen(struct alert_sink *s, char *errbuf, size_t errlen);

/* A capture that does not continue the previous one begins at stream
 * position order: the de-duplication windows start afresh there (its
 * alerts are those it raises read alone). The inventory is kept. */
void alert_sink_restart(struct alert_sink *s, uint64_t order);

/* Snapshot of the counters. */
void alert_sink_stats(struct alert_sink *s, struct alert_stats *out);

/* Call fn(ud) with the sink's lock held: the asset inventory and the
 * evidence it feeds do not change until fn returns, while workers may be
 * offering hits (they wait). For reading them on another thread (the live
 * report); fn must not call the sink. Returns what fn returns. */
int alert_sink_locked(struct alert_sink *s, int (*fn)(void *ud), void *ud);

/* Flush and free. Returns 0, or -1 with a message in errbuf when alerts
 * could not be written. NULL is a no-op returning 0. */
int alert_sink_close(struct alert_sink *s, char *errbuf, size_t errlen);

/* Format a record as one JSON line into buf; returns its length or 0. */
size_t out_alert_format(const struct alert_rec *a, char *buf, size_t cap);
size_t out_asset_format(const struct asset_rec *r, char *buf, size_t cap);

#endif
