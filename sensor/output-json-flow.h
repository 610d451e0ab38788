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
#include <stdio.h>

#include "enrich.h"

struct out_flows;
struct jw;

/* The members every record about a flow starts with -- the flow record,
 * the alert, the asset event -- written the same way from the same facts:
 * src_ip, src_port, dest_ip, dest_port (ports for TCP, UDP and SCTP only),
 * proto, icmp_type and icmp_code (ICMP), vlan, app, app_guessed, host,
 * direction, community_id, pcap_filename (reading files). Cannot fail (a
 * full buffer marks w). */
void out_json_flow_tuple(struct jw *w, const struct flow_info *fi);

/* An end's location as the object key: country_code, asn, as_org. */
void out_json_geo(struct jw *w, const char *key, const struct geo_result *g);

/* Open path for writing flow records ("-" = standard output, "" = no file:
 * records go only to the Redis flows stream, see out_flows_set_redis()),
 * appending, or emptied first when truncate (out_lines_open()). Returns
 * NULL with a message in errbuf on failure. Close with out_flows_close(). */
struct out_flows *out_flows_open(const char *path, bool truncate, char *errbuf, size_t errlen);

/* Rotation: close the file and open its path again for appending, between
 * two records. Returns 0, or -1 with the reason in errbuf (the old file is
 * kept when the new one cannot be opened). NULL is a no-op. */
int out_flows_reopen(struct out_flows *o, char *errbuf, size_t errlen);

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
