/* output-json.h -- compact JSON records for the outputs (flows, alerts, stats).
 *
 * A record is written into a caller's buffer as one line of JSON. Keys are
 * the program's own constants. A string value that needs escaping -- any
 * byte outside printable ASCII, a quote or a backslash, in a server name, a
 * user agent, a certificate name -- is encoded by jansson, so escaping is
 * the library's (printable ASCII is its own encoding and is copied as it
 * is). Bytes that are not UTF-8
 * are carried as the code point of the same value (U+0080..U+00FF) rather
 * than dropped. Numbers are formatted here, without printf. No allocation
 * except jansson's for string values. */
#ifndef OUTPUT_JSON_H
#define OUTPUT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

/* The version of each format the sensor writes: the schema_version member
 * of every record and document, and the "const" of that member in its JSON
 * Schema (config/schema/NAME.schema.json). A format's version is raised when
 * one of its members changes meaning or type, or goes away; a new member
 * does not raise it (a consumer ignores the members it does not know). */
#define OUT_SCHEMA_FLOW 1        /* flow.schema.json: --flows */
#define OUT_SCHEMA_ALERT 1       /* alert.schema.json: alerts in --alerts */
#define OUT_SCHEMA_ASSET_EVENT 1 /* asset-event.schema.json: asset events in --alerts */
#define OUT_SCHEMA_STATS 1       /* stats.schema.json: --stats */
#define OUT_SCHEMA_INVENTORY 1   /* inventory.schema.json: --assets */
#define OUT_SCHEMA_SIGNATURES 1  /* signatures.schema.json: --list-signatures --json */

struct jw {
    char *buf;
    size_t cap, len;
    int depth;
    bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
    bool overflow;            /* the buffer was too small: record invalid */
};

/* Start a record in buf (cap bytes). */
void jw_init(struct jw *w, char *buf, size_t cap);

/* Open an object or array; key is NULL at the top level or inside an array. */
void jw_object(struct jw *w, const char *key);
void jw_array(struct jw *w, const char *key);
void jw_end_object(struct jw *w);
void jw_end_array(struct jw *w);

/* Members. key is NULL inside an array. jw_str writes nothing for NULL or ""
 * (optional fields are left out rather than empty). */
void jw_str(struct jw *w, const char *key, const char *s);

/* The same for len bytes at s, not NUL-terminated (a name borrowed from a
 * geo database): at most 255 bytes are written. Nothing for len 0. */
void jw_strn(struct jw *w, const char *key, const char *s, size_t len);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_bool(struct jw *w, const char *key, bool v);

/* An address as text: IPv4 (ipver 4, the first 4 bytes) or IPv6. */
void jw_ip(struct jw *w, const char *key, int ipver, const uint8_t *addr);

/* A time (microseconds since the epoch) as EVE writes it. */
void jw_time(struct jw *w, const char *key, uint64_t us);

/* Format microseconds since the epoch as EVE does:
 * "2023-11-14T22:13:20.123456+0000". buf needs 32 bytes (else "" is
 * written). Without gmtime or strftime: cheap enough for every record. */
void jw_format_time(uint64_t us, char *buf, size_t len);

/* s as a jansson string, with the rule above for bytes that are not UTF-8
 * (for outputs built with jansson, such as the report). A new reference
 * (json_decref()); NULL when out of memory. */
struct json_t;
struct json_t *jw_json_string(const char *s);

/* Open path for JSON lines, written a whole record at a time: appending
 * (O_APPEND, so that after logrotate's copytruncate the next line goes to
 * the file's new end, not past a hole of zeros), or emptied first when
 * truncate. Returns the stream, or NULL with "PATH: cannot open for
 * writing: reason" in errbuf. */
#include <stdio.h>
FILE *out_lines_open(const char *path, bool truncate, char *errbuf, size_t errlen);

/* Rotation: flush and close *fp, then open path again for appending (a new
 * file when it was moved away). When the new file cannot be opened, *fp is
 * reopened on nothing: the old stream is kept, so no record is lost, and
 * -1 is returned with the reason in errbuf. A flush that fails is
 * reported the same way (the stream is still swapped). */
int out_lines_reopen(FILE **fp, const char *path, char *errbuf, size_t errlen);

/* Finish: appends '\n' and NUL. Returns the record length (with '\n'), or 0
 * when the buffer was too small or the nesting is unbalanced. */
size_t jw_finish(struct jw *w);

#endif
