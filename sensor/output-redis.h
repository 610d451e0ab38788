/* output-redis.h -- alerts, inventory and health into Redis, at least once.
 *
 * A dedicated output thread owns the Redis connection. Producers (the alert
 * sink on the packet path) never wait for Redis: out_redis_submit() puts the
 * record in a bounded in-memory queue and returns; when the queue is full
 * the record goes straight to the durable spool (spool.h) instead. The
 * thread pipelines XADDs (MAXLEN ~ N) and flushes at least every second;
 * an alert leaves the queue or the spool only once Redis has answered OK.
 * Anything Redis does not take -- unreachable, slow, OOM, NOAUTH/WRONGPASS,
 * an error reply -- goes to the spool, which is replayed in order as soon
 * as writes succeed again, and at the next start. Reconnects back off
 * exponentially with jitter (100 ms .. 30 s).
 *
 * Keys (all prefixed with the configured key prefix, default "egress"):
 *   <stream>                  alerts stream (default "egress:alerts"), one
 *                             entry per alert: flat fields alert_id,
 *                             timestamp, sensor, severity, vendor, product,
 *                             category, src_ip, dest_ip, dest_port,
 *                             country_code, asn, host, community_id, and json
 *                             (the whole alert)
 *   <prefix>:assets:<sensor>  hash: field = internal host, value = its
 *                             inventory record (JSON), kept current
 *   <prefix>:stats:<sensor>   hash: packets, drops, flows, alerts, queue
 *                             depth, spool size, reconnects..., every few s
 *   <prefix>:heartbeat:<sensor> string with a TTL (3 x the stats interval)
 *   optional: PUBLISH of each alert to a channel; flow records to their own
 *   stream (off by default). */
#ifndef OUTPUT_REDIS_H
#define OUTPUT_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct out_redis;

struct out_redis_config {
    const char *url;        /* redis://[user:password@]host:port/db or unix:///path */
    const char **sentinels; /* "host:port" list for Sentinel discovery, or NULL */
    size_t n_sentinels;
    const char *master_name;  /* Sentinel master name (with sentinels) */
    const char *sensor;       /* sensor name, in keys and records */
    const char *key_prefix;   /* "egress" */
    const char *stream;       /* alerts stream key, "egress:alerts" */
    uint64_t maxlen;          /* XADD MAXLEN ~ maxlen */
    const char *channel;      /* PUBLISH channel for live viewers, "" = off */
    const char *flows_stream; /* flow records stream, "" = off */
    const char *spool_dir;    /* durable spool directory */
    uint64_t spool_max_bytes;
    uint32_t queue_size; /* records in the in-memory queue */
    uint32_t connect_timeout_ms;
    uint32_t command_timeout_ms;
    uint32_t stats_interval_s; /* health hash and heartbeat period */
};

/* Health numbers the sensor hands to the output thread for the stats hash. */
struct out_redis_health {
    uint64_t packets, drops, if_drops, flows, alerts, suppressed;
};

struct out_redis_stats {
    uint64_t submitted;     /* alerts handed in */
    uint64_t delivered;     /* acknowledged by Redis (from queue or spool) */
    uint64_t spooled;       /* written to the spool */
    uint64_t spool_refused; /* refused by a full spool (counted, reported) */
    uint64_t queue_depth;   /* now */
    uint64_t spool_pending; /* now, records on disk */
    uint64_t spool_bytes;
    uint64_t reconnects;
    uint64_t errors; /* error replies and connection failures */
    int connected;
    char last_error[256];       /* "host:port: message", "" when none */
    uint64_t legacy_records;    /* JSON-only spool records delivered with their json alone */
    uint64_t refused_large;     /* alerts refused: too large, or not formatted */
    uint64_t refused_other;     /* alerts refused: bad fields, or no memory for a copy */
    uint64_t spool_bad_records; /* spooled records of an unknown format, dropped */
    uint64_t publish_errors;    /* PUBLISH answered with an error (not retried) */
    uint64_t flows_sent;        /* flow records acknowledged by Redis */
    uint64_t flows_dropped;     /* flow records dropped: queue full or not sent */
    uint64_t assets_written;    /* inventory records written */
    uint64_t assets_dropped;    /* inventory updates dropped: too many pending */
};

/* Parse and check cfg (URL form, spool directory usable), open the spool
 * (replaying starts as soon as Redis answers) and start the thread. Does
 * not fail when Redis is down: that is normal operation. Returns NULL with
 * a message in errbuf for a bad URL or an unusable spool. */
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

/* Optional flow record for the flows stream (dropped, counted, when the
 * queue is full: flow records are not spooled). */
void out_redis_submit_flow(struct out_redis *r, const char *json, size_t len);

/* Replace the inventory record of one host (JSON); written on the next
 * flush. Thread-safe. */
void out_redis_asset(struct out_redis *r, const char *host, const char *json, size_t len);

/* Latest health numbers (copied). */
void out_redis_health(struct out_redis *r, const struct out_redis_health *h);

/* Wait up to timeout_ms for the queue and the spool to drain into Redis.
 * Returns the number of alerts still undelivered (0 = all delivered). */
uint64_t out_redis_drain(struct out_redis *r, uint32_t timeout_ms);

void out_redis_stats(struct out_redis *r, struct out_redis_stats *out);

/* Stop the thread (after a last flush attempt), close the spool (pending
 * records stay on disk for the next start). NULL is a no-op. */
void out_redis_stop(struct out_redis *r);

/* Where the output writes, for messages, without credentials:
 * "redis://127.0.0.1:6379/0", "unix:///run/redis.sock?db=2" or "Sentinel
 * master mymaster via 127.0.0.1:26379, ...". Never fails (truncates to
 * len); NULL r gives "". */
void out_redis_describe(const struct out_redis *r, char *buf, size_t len);

#endif
