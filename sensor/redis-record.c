/* redis-record.c -- the Redis output's alert record: fields and JSON in
 * one encoding (format 1, output-redis.h), and back. */
#include "redis-record.h"

#include <stdint.h>
#include <string.h>

#define NAME_MAX_LEN 255 /* a field name: one length byte */

/* See redis-record.h. */
int redis_record_size(const struct out_redis_field *f, size_t n, size_t json_len, size_t *size)
{
    if (n > OUT_REDIS_FIELDS_MAX || (n > 0 && f == NULL))
        return -1;
    size_t sz = 2;
    for (size_t i = 0; i < n; i++) {
        size_t nl = f[i].name ? strlen(f[i].name) : 0;
        if (nl == 0 || nl > NAME_MAX_LEN || (f[i].value == NULL && f[i].len > 0))
            return -1;
        if (f[i].len > OUT_REDIS_RECORD_MAX)
            return -2;
        sz += 1 + nl + 4 + f[i].len;
    }
    if (json_len > OUT_REDIS_RECORD_MAX || sz + json_len > OUT_REDIS_RECORD_MAX)
        return -2;
    *size = sz + json_len;
    return 0;
}

/* See redis-record.h. */
void redis_record_encode(char *out, const struct out_redis_field *f, size_t n, const char *json,
                         size_t json_len)
{
    uint8_t *p = (uint8_t *)out;
    *p++ = REDIS_RECORD_FORMAT1;
    *p++ = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(f[i].name);
        *p++ = (uint8_t)nl;
        memcpy(p, f[i].name, nl);
        p += nl;
        for (int k = 0; k < 4; k++)
            *p++ = (uint8_t)(f[i].len >> (8 * k));
        if (f[i].len > 0)
            memcpy(p, f[i].value, f[i].len);
        p += f[i].len;
    }
    memcpy(p, json, json_len);
}

/* Decode a queued or spooled record. Returns REC_OK, REDIS_RECORD_LEGACY (a JSON
 * line alone: no fields) or REDIS_RECORD_BAD (neither; *it untouched). */
int redis_record_decode(const char *data, size_t len, struct redis_record *it)
{
    const uint8_t *p = (const uint8_t *)data;
    if (len > 0 && p[0] == '{') {
        it->nf = 0;
        it->json = data;
        it->json_len = len;
        return REDIS_RECORD_LEGACY;
    }
    if (len < 2 || p[0] != REDIS_RECORD_FORMAT1 || p[1] > OUT_REDIS_FIELDS_MAX)
        return REDIS_RECORD_BAD;
    size_t nf = p[1], off = 2;
    for (size_t i = 0; i < nf; i++) {
        if (len - off < 1)
            return REDIS_RECORD_BAD;
        size_t nl = p[off++];
        if (nl == 0 || len - off < nl + 4)
            return REDIS_RECORD_BAD;
        it->name[i] = data + off;
        it->name_len[i] = nl;
        off += nl;
        size_t vl = (size_t)p[off] | (size_t)p[off + 1] << 8 | (size_t)p[off + 2] << 16 |
                    (size_t)p[off + 3] << 24;
        off += 4;
        if (vl > len - off)
            return REDIS_RECORD_BAD;
        it->val[i] = data + off;
        it->val_len[i] = vl;
        off += vl;
    }
    it->nf = nf;
    it->json = data + off;
    it->json_len = len - off;
    return REDIS_RECORD_OK;
}
