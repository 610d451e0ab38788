/* fleet.h -- the fleet view: one report from what many sensors pushed to
 * one Redis.
 *
 * The reader (source-redis.h) hands over what it finds under the keys the
 * README documents ("Keys and fields"), record by record: each sensor's
 * inventory hash (<prefix>:assets:<sensor>: field = internal host, value =
 * its inventory record), its stats hash and its heartbeat, and the newest
 * entries of the alerts stream, alerts and asset events, newest first.
 * Records are read only through their documented fields; one that is not
 * what the README says (not JSON, a field of the wrong type, a severity or
 * relation the report does not know) is damage: skipped, counted and
 * named, never fatal. Fields a newer sensor adds are ignored.
 *
 * fleet_data() then makes the report's data document
 * (sensor/report/report-data.schema.json) with run.mode "fleet": one
 * finding per (sensor, host, vendor, product) of the inventories, its
 * indicators, networks and sample alerts from the alerts of the window, a
 * "sensors" section (state, last update, key counters), the asset events
 * of the window, and egress by country, network and application and the
 * timeline made from the window's alerts; run's counters are the sums of
 * the sensors' stats hashes.
 *
 * Bounded: FLEET_MAX_SENSORS sensors, FLEET_MAX_HOSTS host records and
 * FLEET_MAX_FINDINGS findings over all sensors, FLEET_MAX_PRODUCTS
 * products per host, FLEET_MAX_EVENTS asset events, and per finding the bounds of the evidence
 * store (evidence.h); the window itself is bounded by the reader (FLEET_WINDOW_MAX), and costs 24
 * bytes per alert for the timeline. What does not fit is counted, and the report says so. Not
 * thread-safe. */
#ifndef FLEET_H
#define FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct out_report_src;

#define FLEET_MAX_SENSORS 1024
#define FLEET_MAX_HOSTS 16384
#define FLEET_MAX_PRODUCTS 64
/* (sensor, host, product) findings over all sensors, as many as the
 * sensor's own evidence store keeps: with their samples, the bulk of the
 * memory (about 20 KiB each with five samples) */
#define FLEET_MAX_FINDINGS 16384
#define FLEET_MAX_EVENTS 1000
#define FLEET_WINDOW_MAX 1000000
/* Damaged records named in the report (all are counted). */
#define FLEET_DAMAGE_KEPT 20

/* What fleet_asset() and fleet_entry() made of a record. */
enum {
    FLEET_OK = 0,
    FLEET_DAMAGED = -1, /* not what the README documents: skipped (why says what) */
    FLEET_DROPPED = 1,  /* beyond a bound: skipped and counted */
};

struct fleet;

/* An empty fleet. NULL when out of memory. Free with fleet_free(); NULL
 * is a no-op there. */
struct fleet *fleet_new(void);
void fleet_free(struct fleet *f);

/* The sensor called name, found by one of its keys or named by a stream
 * entry: its index, created the first time. -1 for one beyond
 * FLEET_MAX_SENSORS (counted), a name the keys cannot hold (empty, longer
 * than 255 bytes, with ':'), or no memory. */
int fleet_sensor(struct fleet *f, const char *name);

/* One field of the sensor's stats hash (<prefix>:stats:<sensor>): the
 * counters by their dotted names, redis.state, redis.last_error, updated.
 * A value that is not a count is kept only for the names the README gives
 * as text. Cannot fail (no memory: left out). */
void fleet_stat(struct fleet *f, int sensor, const char *name, const char *value);

/* The sensor's heartbeat (<prefix>:heartbeat:<sensor>): value NULL when
 * the key is missing (the sensor is silent: dead, or cut off), "stopped
 * <time>" after a clean stop, else the time of its last update (running).
 * Returns FLEET_OK, or FLEET_DAMAGED with why (the state is then
 * "running": the key is there). */
int fleet_heartbeat(struct fleet *f, int sensor, const char *value, char *why, size_t whylen);

/* One field of the sensor's inventory hash: host (the field: an address)
 * and its record (len bytes of JSON). A host met again for the same
 * sensor is ignored. Returns FLEET_OK, FLEET_DAMAGED (why) or
 * FLEET_DROPPED (FLEET_MAX_HOSTS reached). */
int fleet_asset(struct fleet *f, int sensor, const char *host, const char *json, size_t len,
                char *why, size_t whylen);

/* One entry of the alerts stream, newest first: event_type (the flat
 * field, NULL without one: the record's own then) and json (the entry's
 * json field, len bytes; NULL when it has none). An alert feeds its
 * finding's evidence (or is counted as without one, when no inventory
 * holds its host and product) and the egress tallies; an asset event is
 * kept for the report while FLEET_MAX_EVENTS allow; another event_type is
 * counted and skipped. Returns FLEET_OK, FLEET_DAMAGED (why) or
 * FLEET_DROPPED. */
int fleet_entry(struct fleet *f, const char *event_type, const char *json, size_t len, char *why,
                size_t whylen);

/* A damaged record, found at key (and field: a hash field or a stream
 * entry id, "" for the key itself): counted; the first FLEET_DAMAGE_KEPT
 * are named in the report. */
void fleet_damage(struct fleet *f, const char *key, const char *field, const char *why);

/* Records damaged so far, and the i-th kept (key, field, why) for a
 * message; NULL beyond those kept. */
uint64_t fleet_damaged(const struct fleet *f);
const char *fleet_damage_at(const struct fleet *f, size_t i, const char **field, const char **why);

/* How many sensors and host records were taken, and sensor i's name
 * (borrowed; NULL beyond them). */
size_t fleet_sensors(const struct fleet *f);
size_t fleet_hosts(const struct fleet *f);
const char *fleet_sensor_name(const struct fleet *f, size_t i);

/* Where the fleet was read, for the report. */
struct fleet_source {
    const char *redis;      /* the server, without credentials (redis_url_describe()) */
    const char *key_prefix; /* redis.key_prefix */
    const char *stream;     /* the alerts stream's key */
    uint64_t window_max;    /* entries asked for (--stream-window) */
    uint64_t stream_length; /* XLEN when read */
    uint64_t entries;       /* entries read */
    uint64_t first_ms;      /* the oldest entry read: its id's time (ms), 0 none */
    uint64_t last_ms;       /* the newest */
    bool complete;          /* the window reached the stream's oldest entry */
    double elapsed_s;       /* reading took */
};

/* The report's data document for the fleet read so far (the findings,
 * hosts and events kept are completed in place and shared with it, so a
 * second call gives the same document): the sections
 * that do not come from traffic from setup (out_report_setup(): the
 * reading sensor's version, configuration and signature pack, which gives
 * the findings' vendor and product names whole and their signatures'
 * notes), the rest from the fleet. Returns a new reference, or NULL when
 * out of memory. */
json_t *fleet_data(struct fleet *f, const struct fleet_source *src,
                   const struct out_report_src *setup);

/* Parse a record's time: "2023-11-14T22:13:20.123456+0000" (as the
 * records write it), with "Z" or "+00:00" for the zone, the fraction
 * optional, into microseconds since the epoch. Returns 0, or -1 when s is
 * not such a time. */
int fleet_parse_time(const char *s, uint64_t *us);

#endif
