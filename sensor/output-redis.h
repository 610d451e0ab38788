/* output-redis.h -- alerts, inventory and health into Redis, at least once.
 *
 * A dedicated output thread owns the Redis connection (redis-link.h).
 * Producers (the alert sink on the packet path) never wait for Redis:
 * out_redis_submit_alert() puts the record in a bounded in-memory queue and
 * returns; when the queue is full the oldest queued record goes to the
 * durable spool (spool.h). The thread pipelines XADDs (MAXLEN ~ N) and
 * flushes at least every second; an alert leaves the queue or the spool
 * only once Redis has answered OK. Anything Redis does not take --
 * unreachable, slow, OOM, NOAUTH/WRONGPASS, an error reply -- goes to the
 * spool, which is replayed in order, in pipelined batches, as soon as writes
 * succeed again, and at the next start. Reconnects back off exponentially
 * with jitter (100 ms .. 30 s). Every exchange has a total deadline; a stop
 * takes at most 1.5 s once the wait for delivery is over.
 *
 * Nothing is lost without a count: an alert refused (too large, bad
 * fields, a full spool or disk, refused by Redis for good) or lost in the
 * spool (damage, a torn tail) is counted by reason (OUT_REDIS_LOSSES), in
 * the summary, --stats and the stats hash. The thread logs each change of
 * state once, when it happens (connected, lost, spooling, replaying, alerts
 * lost), through the sensor's log.
 *
 * Keys (all prefixed with the configured key prefix, default "egress"):
 *   <stream>                  alerts stream (default "egress:alerts"), one
 *                             entry per alert: the flat fields the producer
 *                             gives (alerts.c: alert_id, timestamp, sensor,
 *                             severity, vendor, product, category, src_ip,
 *                             dest_ip, dest_port, country_code, asn, host,
 *                             community_id, pcap_filename when reading
 *                             files), and json (the whole alert)
 *   <prefix>:assets:<sensor>  hash: field = internal host, value = its
 *                             inventory record (JSON), merged across runs
 *                             (redis-assets.h)
 *   <prefix>:stats:<sensor>   hash: the health (packets, drops, if_drops,
 *                             flows, alerts, suppressed), every counter of
 *                             OUT_REDIS_COUNTERS and OUT_REDIS_LOSSES, lost,
 *                             state, last_error, updated; every stats
 *                             interval and at a clean stop
 *   <prefix>:heartbeat:<sensor> the time of the last update, with a TTL of 3
 *                             stats intervals while running (gone: dead or
 *                             cut off); "stopped <time>" without a TTL after
 *                             a clean stop
 *   optional: PUBLISH of each alert to a channel; flow records to their own
 *   stream (off by default). */
#ifndef OUTPUT_REDIS_H
#define OUTPUT_REDIS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "spool.h"

struct out_redis;

/* The environment variable that may hold the Redis password. */
#define OUT_REDIS_PASSWORD_ENV "EGRESS_SENSOR_REDIS_PASSWORD"

/* The password used, first found (README "Redis"): the one in url when
 * url_from_cli (--redis), password_env, password (redis.password_file or
 * redis.password), the one in url. */
struct out_redis_config {
    const char *url;          /* redis://[user:password@]host:port/db or unix:///path */
    bool url_from_cli;        /* url is --redis's, not redis.url's */
    const char *password_env; /* getenv(OUT_REDIS_PASSWORD_ENV), or NULL */
    const char *password;     /* the configuration's, or NULL or "" */
    const char **sentinels;   /* "host:port" list for Sentinel discovery, or NULL */
    size_t n_sentinels;
    const char *master_name;  /* Sentinel master name (with sentinels) */
    const char *sensor;       /* sensor name, in keys and records */
    const char *key_prefix;   /* "egress" */
    const char *stream;       /* alerts stream key, "egress:alerts" */
    uint64_t maxlen;          /* XADD MAXLEN ~ maxlen */
    const char *channel;      /* PUBLISH channel for live viewers, "" = off */
    const char *flows_stream; /* flow records stream, "" = off */
    const char *spool_dir;    /* durable spool directory */
    const char *spool_origin; /* where spool_dir was set, for messages: "--spool-dir"... */
    uint64_t spool_max_bytes;
    uint32_t queue_size; /* records in the in-memory queue */
    uint32_t connect_timeout_ms;
    uint32_t command_timeout_ms;
    uint32_t stats_interval_s; /* health hash and heartbeat period */
    bool quiet;                /* log only warnings (not "connected", "replaying"...) */
};

/* Health numbers the sensor hands to the output thread for the stats hash. */
/* The run's counters, by their dotted names (counters.h): names are
 * static strings the caller keeps. */
#define OUT_REDIS_HEALTH_MAX 256
struct out_redis_health {
    size_t n;
    const char *name[OUT_REDIS_HEALTH_MAX];
    uint64_t value[OUT_REDIS_HEALTH_MAX];
};

/* The output's counters, name, kind (counters.h) and meaning: one list
 * generates the struct, the summary, the "redis" object of --stats, the
 * stats hash and the metrics file (out_redis_counters). */
#define OUT_REDIS_COUNTERS(X)                                                                      \
    X(submitted, CTR_COUNTER, "alerts handed to the output")                                       \
    X(delivered, CTR_COUNTER, "alerts Redis acknowledged, from the queue or the spool")            \
    X(spooled, CTR_COUNTER, "alerts written to the spool")                                         \
    X(legacy_records, CTR_COUNTER,                                                                 \
      "spooled JSON-only alerts of an older spool, delivered with json alone")                     \
    X(reconnects, CTR_COUNTER, "connections opened after the first")                               \
    X(errors, CTR_COUNTER, "error replies and failed connections or exchanges")                    \
    X(publish_errors, CTR_COUNTER, "PUBLISH answered with an error (not retried)")                 \
    X(flows_sent, CTR_COUNTER, "flow records Redis acknowledged")                                  \
    X(flows_dropped, CTR_COUNTER, "flow records dropped: queue full or not sent (never spooled)")  \
    X(assets_written, CTR_COUNTER, "inventory records written")                                    \
    X(assets_dropped, CTR_COUNTER, "inventory updates dropped: too many hosts waiting")            \
    X(queue_depth, CTR_GAUGE, "alerts in the queue now")                                           \
    X(spool_pending, CTR_GAUGE, "alerts in the spool now")                                         \
    X(spool_bytes, CTR_GAUGE, "bytes of the spool on disk now")

/* Alerts lost, by reason (each with the phrase the summary uses): their
 * sum is out_redis_lost(). */
#define OUT_REDIS_LOSSES(X)                                                                        \
    X(refused_large, "too large (over 1 MiB encoded, or not formatted)")                           \
    X(refused_other, "refused (bad fields, or no memory for a copy)")                              \
    X(spool_refused, "refused by a full spool (see redis.spool_max_bytes)")                        \
    X(spool_disk_full, "refused: the disk holding the spool is full")                              \
    X(spool_write_errors, "refused: the spool could not be written")                               \
    X(redis_refused, "refused by Redis for good (too large for it)")                               \
    X(spool_damaged, "lost to damage in the spool")                                                \
    X(spool_torn, "torn at the end of the spool by a crash")                                       \
    X(spool_bad_records, "spooled in a format this version does not know")

struct out_redis_stats {
#define OUT_REDIS_FIELD(name, kind, help) uint64_t name;
#define OUT_REDIS_LOSS_FIELD(name, phrase) uint64_t name;
    OUT_REDIS_COUNTERS(OUT_REDIS_FIELD)
    OUT_REDIS_LOSSES(OUT_REDIS_LOSS_FIELD)
#undef OUT_REDIS_FIELD
#undef OUT_REDIS_LOSS_FIELD
    uint64_t spool_damaged_bytes; /* bytes of damaged spool skipped */
    int connected;
    char state[64];                    /* "connected", "down, spooling", ... (out_redis_status()) */
    char last_error[256];              /* "host:port: message", "" when none */
    int64_t last_error_at;             /* its time (seconds since the epoch), 0 when none */
    int last_error_past;               /* delivery has worked since it happened */
    char damage[200];                  /* where the spool was first found damaged, "" when not */
    char spool_error[SPOOL_ERROR_LEN]; /* the spool's last I/O error: "path: error", or "" */
};

/* The descriptors of struct out_redis_stats's counters (counters.h):
 * OUT_REDIS_COUNTERS as redis.NAME, and the losses as redis.NAME too, each
 * a value of the family redis.lost (dimension reason). The stats hash,
 * --stats and the metrics file read them. */
extern const struct ctr_table out_redis_counters;
#define OUT_REDIS_COUNTERS_MAX 64 /* out_redis_counters.n, at most */

/* Where cfg says Redis is, into *url: the URL parsed and the password
 * settled as the output settles it (the one in url when url_from_cli,
 * else password_env, else password, else the URL's own); only url,
 * url_from_cli, password_env and password are read. For a reader of what
 * the sensors wrote (the fleet view), which must clear url->password when
 * done. Returns NULL, or the configuration key at fault ("redis.url",
 * "redis.password") with a message in errbuf (never the password). */
struct redis_url;
const char *out_redis_target(const struct out_redis_config *cfg, struct redis_url *url,
                             char *errbuf, size_t errlen);

/* Where cfg points: its URL with the password settled, as
 * out_redis_target(), and the sentinels' host and port into sentinels
 * (cfg->n_sentinels of them; NULL to check only). For the output and for
 * a reader of what the sensors wrote (the fleet view). Returns NULL, or
 * the configuration key at fault ("redis.url", "redis.password",
 * "redis.master_name", "redis.sentinels") with a message in errbuf. */
const char *out_redis_endpoints(const struct out_redis_config *cfg, struct redis_url *url,
                                struct redis_url *sentinels, char *errbuf, size_t errlen);

/* Check cfg as out_redis_start() would, without starting anything or
 * taking the spool's lock (--check-config): the URL, its password, the
 * sentinels, the spool folder usable (spool_check()). Returns NULL, or the
 * configuration key at fault ("redis.url", "redis.spool_dir", ...) with a
 * message in errbuf. */
const char *out_redis_check(const struct out_redis_config *cfg, char *errbuf, size_t errlen);

/* Parse and check cfg (URL form, password, spool directory usable), copy
 * what it points to (cfg may go away afterwards), open the spool (replaying
 * starts as soon as Redis answers) and start the thread. Does not fail when
 * Redis is down: that is normal operation. Returns NULL, nothing left
 * running, with a message in errbuf: "redis URL: ...", "sentinel ...: ...",
 * or "cannot use the spool folder DIR (ORIGIN): ...". Stop and free with
 * out_redis_stop() (after out_redis_finish() for final counters). */
struct out_redis *out_redis_start(const struct out_redis_config *cfg, char *errbuf, size_t errlen);

/* One flat field of an alert's stream entry: name (NUL-terminated, 1..255
 * bytes) and len bytes of value (any bytes; value may be NULL when len is
 * 0). */
struct out_redis_field {
    const char *name;
    const char *value;
    size_t len;
};

/* At most this many flat fields per alert. */
#define OUT_REDIS_FIELDS_MAX 32

/* Largest alert record the output takes (flat fields and JSON encoded as
 * below); the spool's record limit. */
#define OUT_REDIS_RECORD_MAX (1u << 20)

/* Hand over one alert: its flat stream fields, formatted by the producer
 * from what it knows (nothing here parses the JSON), and its JSON line
 * (json_len bytes, without the newline). Never blocks on Redis; copies
 * what it needs, the caller keeps fields and json. Thread-safe.
 *
 * Returns 0, or -1 when the alert was refused, which is counted: more than
 * OUT_REDIS_FIELDS_MAX fields, a field name empty or longer than 255
 * bytes, no JSON (json NULL: the producer could not format the alert;
 * counted as too large), an encoding larger than OUT_REDIS_RECORD_MAX, or
 * refused by the spool when the queue overflowed.
 *
 * The queue item, and the spool record when it is spooled, is a compact
 * binary encoding of (fields, json), format 1:
 *     u8 0xA1 (format 1) | u8 number of fields
 *     per field: u8 name length | name | u32 value length (LE) | value
 *     the JSON line: the rest of the record
 * A spool written before format 1 holds JSON lines only (they start with
 * '{'): such a record is delivered with its json field alone and counted in
 * legacy_records. A spooled record of neither form is dropped and counted
 * in spool_bad_records. */
int out_redis_submit_alert(struct out_redis *r, const struct out_redis_field *fields, size_t n,
                           const char *json, size_t json_len);

/* Queue a copy of a flow record for the flows stream, when one is
 * configured; the caller keeps json. Never fails: a record that does not
 * fit the queue, or that Redis does not take, is dropped and counted
 * (flows_dropped; flow records are not spooled). NULL r is a no-op.
 * Thread-safe. */
void out_redis_submit_flow(struct out_redis *r, const char *json, size_t len);

/* Keep a copy of host's latest inventory record (JSON) for the next flush,
 * replacing one still waiting; the caller keeps host and json. Never
 * fails: a new host beyond 65536 waiting (or without memory) is dropped
 * and counted (assets_dropped), and gets another chance with its next
 * update. NULL r is a no-op. Thread-safe. */
void out_redis_asset(struct out_redis *r, const char *host, const char *json, size_t len);

/* Copy the latest health numbers for the stats hash. Never fails; NULL r
 * is a no-op. Thread-safe. */
void out_redis_health(struct out_redis *r, const struct out_redis_health *h);

/* Wait up to timeout_ms for the queue and the spool to drain into Redis.
 * cancel (may be NULL) is a stop request, set by a signal handler: when it
 * is set at the call, the wait is at most OUT_REDIS_STOP_WAIT_MS; when it
 * becomes set during the wait, the wait ends. Returns the number of alerts
 * still undelivered (0 = all delivered). Never fails. */
uint64_t out_redis_drain(struct out_redis *r, uint32_t timeout_ms, atomic_int *cancel);

/* The end of a run: out_redis_drain(), then stop the output thread -- its
 * last flush (the queue, assets, health) gets at most 1.5 s, then every
 * exchange is cut and what is undelivered goes to the spool -- and sync the
 * spool. Returns the number of alerts left in the spool. Returns within
 * timeout_ms (2 s after a stop request) + 1.5 s + the spool's fsync,
 * whatever Redis does. Counters read after it are final. NULL returns 0. */
uint64_t out_redis_finish(struct out_redis *r, uint32_t timeout_ms, atomic_int *cancel);

/* The longest wait for delivery once a stop was requested, ms. */
#define OUT_REDIS_STOP_WAIT_MS 2000

/* The output's state for a status line, into buf (truncated to len): "redis
 * up, 0 queued, 0 spooled", "redis down for 35 s, 12 queued, 1234 spooled,
 * 3 LOST"... "" for NULL r. Never fails. */
void out_redis_status(struct out_redis *r, char *buf, size_t len);

/* A snapshot of the counters into *out (zeros for NULL r). Never fails. */
void out_redis_stats(struct out_redis *r, struct out_redis_stats *out);

/* Alerts lost for good: the sum of the OUT_REDIS_LOSSES counters. */
uint64_t out_redis_lost(const struct out_redis_stats *st);

/* The summary's lines about Redis: where (out_redis_describe()), delivered,
 * what is left in spool_dir, the last error, what was lost and why. Never
 * fails. */
void out_redis_print_summary(FILE *fp, const struct out_redis_stats *st, const char *where,
                             const char *spool_dir);

/* The same as a new JSON object (every counter, lost, undelivered, state,
 * last_error); the caller owns it (json_decref()). NULL when out of
 * memory. */
struct json_t;
struct json_t *out_redis_stats_json(const struct out_redis_stats *st);

/* Stop the thread, as out_redis_finish() does when it was not called,
 * close the spool (pending records stay on disk for the next start) and
 * free r. Returns within 1.5 s + the spool's fsync. NULL is a no-op. */
void out_redis_stop(struct out_redis *r);

/* Where the output writes, for messages, without credentials:
 * "redis://127.0.0.1:6379/0", "unix:///run/redis.sock?db=2" or "Sentinel
 * master mymaster via 127.0.0.1:26379, ...". Never fails (truncates to
 * len); NULL r gives "". */
void out_redis_describe(const struct out_redis *r, char *buf, size_t len);

#endif
