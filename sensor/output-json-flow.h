/* output-json-flow.h -- one JSON object per line per finished flow (EVE style).
 *
 * Field names follow Suricata's EVE where one exists. String values are
 * encoded by jansson (see output-json.h), so every byte of a server name or
 * user agent is escaped; bytes that are not valid UTF-8 are carried as the
 * code point of the same value (U+0080..U+00FF), never dropped. */
#ifndef OUTPUT_JSON_FLOW_H
#define OUTPUT_JSON_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "community-id.h"
#include "geo.h"

struct flow;
struct out_flows;

/* Direction of a flow relative to home_net. */
enum flow_direction { DIR_EGRESS = 0, DIR_INGRESS, DIR_INTERNAL, DIR_EXTERNAL, DIR_MAX };
const char *out_direction_name(int d);

/* The flow record's name of IP protocol p ("TCP", "UDP", "ICMP", ...), or
 * its number written into buf. Cannot fail. */
const char *out_proto_name(uint8_t p, char *buf, size_t len);

/* Everything a flow record says beyond the flow itself, computed once when
 * the flow ends. */
struct flow_info {
    const struct flow *f;
    const char *app; /* nDPI name form */
    int direction;   /* enum flow_direction */
    char community_id[COMMUNITY_ID_LEN];
    struct geo_result dest_geo; /* server side */
    struct geo_result src_geo;  /* client side (used when has_src_geo) */
    bool has_dest_geo, has_src_geo;
    const char *risks[64]; /* nDPI risk names */
    size_t n_risks;
};

/* Open path for writing flow records ("-" = standard output, "" = no file:
 * records go only to the Redis flows stream, see out_flows_set_redis()).
 * Returns NULL with a message in errbuf on failure. Close with
 * out_flows_close(). */
struct out_flows *out_flows_open(const char *path, char *errbuf, size_t errlen);

/* Also hand every record to the Redis output's flows stream (NULL to stop). */
struct out_redis;
void out_flows_set_redis(struct out_flows *o, struct out_redis *r);

/* Write one record. Returns 0, or -1 on a write error (counted; the record
 * is lost and the error is reported once by out_flows_close()). */
int out_flows_write(struct out_flows *o, const struct flow_info *fi);

/* Push buffered records to the file now (live runs call it once a second).
 * NULL is a no-op. */
void out_flows_flush(struct out_flows *o);

/* Flush and close. Returns 0, or -1 with a message in errbuf if any write
 * failed. NULL is a no-op returning 0. */
int out_flows_close(struct out_flows *o, char *errbuf, size_t errlen);

/* Format the record of fi as one line of JSON (with '\n') into buf. Returns
 * its length, or 0 when cap is too small. Used by writers and tests. */
size_t out_flow_format(const struct flow_info *fi, char *buf, size_t cap);

#endif
