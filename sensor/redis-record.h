/* redis-record.h -- an alert as the Redis output queues and spools it: its
 * flat stream fields and its JSON line in one compact, versioned encoding
 * (format 1, documented in output-redis.h), and back. Pure functions: no
 * allocation, no I/O. */
#ifndef REDIS_RECORD_H
#define REDIS_RECORD_H

#include <stddef.h>

#include "output-redis.h"

/* The first byte of a format 1 record; a JSON-only record of an older
 * spool starts with '{'. */
#define REDIS_RECORD_FORMAT1 0xA1

/* A record decoded: pointers into its bytes, valid while they are. */
struct redis_record {
    size_t nf;
    const char *name[OUT_REDIS_FIELDS_MAX], *val[OUT_REDIS_FIELDS_MAX];
    size_t name_len[OUT_REDIS_FIELDS_MAX], val_len[OUT_REDIS_FIELDS_MAX];
    const char *json;
    size_t json_len;
};

/* redis_record_decode() results. */
enum { REDIS_RECORD_OK, REDIS_RECORD_LEGACY, REDIS_RECORD_BAD };

/* The encoded size of (fields, json) into *size. Returns 0; -1 when the
 * fields cannot be encoded (more than OUT_REDIS_FIELDS_MAX, a name empty or
 * longer than 255 bytes, a NULL value with a length); -2 when the record
 * would be larger than OUT_REDIS_RECORD_MAX. */
int redis_record_size(const struct out_redis_field *f, size_t n, size_t json_len, size_t *size);

/* Encode (fields, json) into out, which holds redis_record_size() bytes.
 * Never fails. */
void redis_record_encode(char *out, const struct out_redis_field *f, size_t n, const char *json,
                         size_t json_len);

/* Decode len bytes at data into *rec. Returns REDIS_RECORD_OK,
 * REDIS_RECORD_LEGACY (a JSON line alone: no fields, json the whole
 * record) or REDIS_RECORD_BAD (neither form, or cut short inside its
 * fields; *rec is then unusable). A record cut inside its JSON decodes
 * with a shorter JSON: the spool's CRC is what finds damage. */
int redis_record_decode(const char *data, size_t len, struct redis_record *rec);

#endif
