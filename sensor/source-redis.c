/* source-redis.c -- the fleet view's input: the sensors' keys in Redis,
 * read back. */
#include "source-redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fleet.h"
#include "redis-link.h"
#include "redis-url.h"

/* Keys asked of SCAN, fields of HSCAN and entries of XREVRANGE per
 * exchange: small replies, well inside the link's bounds. */
#define SCAN_COUNT "1000"
#define HSCAN_COUNT "200"
#define XRANGE_PAGE 200

enum { K_ASSETS = 1, K_STATS = 2, K_HEARTBEAT = 4 };

struct reader {
    const struct source_redis_config *c;
    struct fleet *f;
    struct redis_link *link;
    char link_err[512]; /* the first error the link reported: "PEER: message" */
    char *errbuf;
    size_t errlen;
    uint8_t kinds[FLEET_MAX_SENSORS]; /* K_* keys found, by fleet index */
};

static void on_link_error(void *ud, const char *peer, const char *msg)
{
    struct reader *r = ud;
    if (!r->link_err[0])
        snprintf(r->link_err, sizeof(r->link_err), "%s: %s", peer, msg);
}

/* Run one command: its reply (freeReplyObject()), an error reply
 * included, or NULL with the message in r->errbuf. */
static redisReply *command(struct reader *r, int argc, const char **argv)
{
    if (r->c->stop != NULL && atomic_load(r->c->stop)) {
        snprintf(r->errbuf, r->errlen, "redis %s: interrupted", redis_link_peer(r->link));
        return NULL;
    }
    redisReply *rep = NULL;
    if (redis_link_append(r->link, argc, argv, NULL) == 0)
        rep = redis_link_reply(r->link, redis_link_deadline(r->link));
    if (rep == NULL)
        snprintf(r->errbuf, r->errlen, "redis %s",
                 r->link_err[0] ? r->link_err : "connection lost");
    return rep;
}

/* An error reply or a reply of the wrong shape to cmd on key: the end of
 * reading, with a message. Frees rep. Returns -1. */
static int refused(struct reader *r, redisReply *rep, const char *cmd, const char *key)
{
    if (rep->type == REDIS_REPLY_ERROR)
        snprintf(r->errbuf, r->errlen, "redis %s: %s %s: %s", redis_link_peer(r->link), cmd, key,
                 rep->str);
    else
        snprintf(r->errbuf, r->errlen, "redis %s: %s %s: unexpected reply (type %d)",
                 redis_link_peer(r->link), cmd, key, rep->type);
    freeReplyObject(rep);
    return -1;
}

/* Whether rep is a WRONGTYPE error: key holds another type than the
 * sensor writes there (counted as damage, not fatal). */
static bool wrong_type(struct reader *r, redisReply *rep, const char *key, const char *want)
{
    if (rep->type != REDIS_REPLY_ERROR || strncmp(rep->str, "WRONGTYPE", 9) != 0)
        return false;
    char why[64];
    snprintf(why, sizeof(why), "not a %s", want);
    fleet_damage(r->f, key, "", why);
    return true;
}

/* A cursor reply of SCAN or HSCAN: [cursor, [items...]]. */
static bool cursor_reply(const redisReply *rep)
{
    return rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
           rep->element[0]->type == REDIS_REPLY_STRING &&
           rep->element[1]->type == REDIS_REPLY_ARRAY;
}

/* prefix with the glob characters of SCAN's MATCH escaped, then ":*". */
static char *match_pattern(const char *prefix)
{
    size_t n = strlen(prefix);
    char *p = malloc(2 * n + 3), *o = p;
    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strchr("*?[]\\", prefix[i]) != NULL)
            *o++ = '\\';
        *o++ = prefix[i];
    }
    memcpy(o, ":*", 3);
    return p;
}

/* A key the sensors write: <prefix>:<kind>:<sensor>. */
static void classify_key(struct reader *r, const char *key, size_t len)
{
    static const struct {
        const char *name;
        uint8_t kind;
    } kinds[] = {{"assets:", K_ASSETS}, {"stats:", K_STATS}, {"heartbeat:", K_HEARTBEAT}};
    size_t pl = strlen(r->c->key_prefix);
    if (len <= pl + 1 || memcmp(key, r->c->key_prefix, pl) != 0 || key[pl] != ':' ||
        memchr(key, '\0', len) != NULL)
        return;
    const char *rest = key + pl + 1;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t kl = strlen(kinds[i].name);
        if (strncmp(rest, kinds[i].name, kl) != 0)
            continue;
        int s = fleet_sensor(r->f, rest + kl); /* -1: not a sensor's name, or too many */
        if (s >= 0)
            r->kinds[s] |= kinds[i].kind;
        return;
    }
}

static int scan_keys(struct reader *r)
{
    char cursor[32] = "0";
    char *pattern = match_pattern(r->c->key_prefix);
    if (pattern == NULL) {
        snprintf(r->errbuf, r->errlen, "out of memory");
        return -1;
    }
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT};
        redisReply *rep = command(r, 6, argv);
        if (rep == NULL || !cursor_reply(rep) || rep->element[0]->len >= sizeof(cursor)) {
            free(pattern);
            return rep ? refused(r, rep, "SCAN", "MATCH") : -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            if (keys->element[i]->type == REDIS_REPLY_STRING)
                classify_key(r, keys->element[i]->str, keys->element[i]->len);
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    free(pattern);
    return 0;
}

static char *key_of(const struct reader *r, const char *kind, const char *sensor)
{
    size_t n = strlen(r->c->key_prefix) + strlen(kind) + strlen(sensor) + 3;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s:%s:%s", r->c->key_prefix, kind, sensor);
    return k;
}

static int read_stats(struct reader *r, int s, const char *key)
{
    const char *argv[] = {"HGETALL", key};
    redisReply *rep = command(r, 2, argv);
    if (rep == NULL)
        return -1;
    if (wrong_type(r, rep, key, "hash")) {
        freeReplyObject(rep);
        return 0;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0)
        return refused(r, rep, "HGETALL", key);
    for (size_t i = 0; i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING)
            fleet_stat(r->f, s, rep->element[i]->str, rep->element[i + 1]->str);
    freeReplyObject(rep);
    return 0;
}

static int read_heartbeat(struct reader *r, int s, const char *key)
{
    char why[128];
    const char *argv[] = {"GET", key};
    redisReply *rep = command(r, 2, argv);
    if (rep == NULL)
        return -1;
    if (wrong_type(r, rep, key, "string")) {
        freeReplyObject(rep);
        return 0;
    }
    if (rep->type != REDIS_REPLY_NIL && rep->type != REDIS_REPLY_STRING)
        return refused(r, rep, "GET", key);
    if (fleet_heartbeat(r->f, s, rep->type == REDIS_REPLY_NIL ? NULL : rep->str, why,
                        sizeof(why)) != FLEET_OK)
        fleet_damage(r->f, key, "", why);
    freeReplyObject(rep);
    return 0;
}

static int read_assets(struct reader *r, int s, const char *key)
{
    char cursor[32] = "0", why[256];
    do {
        const char *argv[] = {"HSCAN", key, cursor, "COUNT", HSCAN_COUNT};
        redisReply *rep = command(r, 5, argv);
        if (rep == NULL)
            return -1;
        if (wrong_type(r, rep, key, "hash")) {
            freeReplyObject(rep);
            return 0;
        }
        if (!cursor_reply(rep) || rep->element[0]->len >= sizeof(cursor) ||
            rep->element[1]->elements % 2 != 0)
            return refused(r, rep, "HSCAN", key);
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        const redisReply *kv = rep->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2) {
            const redisReply *field = kv->element[i], *value = kv->element[i + 1];
            if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
                continue;
            if (fleet_asset(r->f, s, field->str, value->str, value->len, why, sizeof(why)) ==
                FLEET_DAMAGED)
                fleet_damage(r->f, key, field->str, why);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* A stream entry id "ms-seq" into *ms and *seq; false when id is not
 * one. */
static bool parse_id(const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end;
    if (id[0] < '0' || id[0] > '9')
        return false;
    unsigned long long m = strtoull(id, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return false;
    unsigned long long q = strtoull(end + 1, &end, 10);
    if (*end != '\0')
        return false;
    *ms = m;
    *seq = q;
    return true;
}

/* The entry's value of field name, or NULL. */
static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, name) == 0 &&
            fields->element[i + 1]->type == REDIS_REPLY_STRING)
            return fields->element[i + 1];
    return NULL;
}

static int read_stream(struct reader *r, struct fleet_source *src)
{
    const char *key = r->c->stream;
    char end[48] = "+", count[24], why[256];
    const char *xlen[] = {"XLEN", key};
    redisReply *rep = command(r, 2, xlen);
    if (rep == NULL)
        return -1;
    if (wrong_type(r, rep, key, "stream")) {
        freeReplyObject(rep);
        return 0;
    }
    if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0)
        return refused(r, rep, "XLEN", key);
    src->stream_length = (uint64_t)rep->integer;
    freeReplyObject(rep);
    src->complete = src->stream_length == 0;
    while (src->entries < r->c->window && !src->complete) {
        uint64_t want = r->c->window - src->entries, ms = 0, seq = 0;
        if (want > XRANGE_PAGE)
            want = XRANGE_PAGE;
        snprintf(count, sizeof(count), "%" PRIu64, want);
        const char *argv[] = {"XREVRANGE", key, end, "-", "COUNT", count};
        if ((rep = command(r, 6, argv)) == NULL)
            return -1;
        if (wrong_type(r, rep, key, "stream")) {
            freeReplyObject(rep);
            return 0;
        }
        if (rep->type != REDIS_REPLY_ARRAY)
            return refused(r, rep, "XREVRANGE", key);
        for (size_t i = 0; i < rep->elements; i++) {
            const redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING ||
                e->element[1]->type != REDIS_REPLY_ARRAY ||
                !parse_id(e->element[0]->str, &ms, &seq))
                return refused(r, rep, "XREVRANGE", key);
            src->entries++;
            if (src->last_ms == 0)
                src->last_ms = ms;
            src->first_ms = ms;
            const redisReply *type = entry_field(e->element[1], "event_type");
            const redisReply *json = entry_field(e->element[1], "json");
            if (fleet_entry(r->f, type ? type->str : NULL, json ? json->str : NULL,
                            json ? json->len : 0, why, sizeof(why)) == FLEET_DAMAGED)
                fleet_damage(r->f, key, e->element[0]->str, why);
        }
        /* a short page, or the oldest id there can be: the stream's start */
        if (rep->elements < want || (ms == 0 && seq == 0))
            src->complete = true;
        else if (seq > 0)
            snprintf(end, sizeof(end), "%" PRIu64 "-%" PRIu64, ms, seq - 1);
        else
            snprintf(end, sizeof(end), "%" PRIu64 "-%" PRIu64, ms - 1, UINT64_MAX);
        freeReplyObject(rep);
    }
    if (src->entries >= src->stream_length)
        src->complete = true;
    return 0;
}

/* One sensor's stats hash, heartbeat and inventory hash. */
static int read_sensor(struct reader *r, int s)
{
    const char *name = fleet_sensor_name(r->f, (size_t)s);
    char *stats = key_of(r, "stats", name), *hb = key_of(r, "heartbeat", name);
    char *assets = key_of(r, "assets", name);
    int rc = -1;
    if (stats == NULL || hb == NULL || assets == NULL)
        snprintf(r->errbuf, r->errlen, "out of memory");
    else if ((!(r->kinds[s] & K_STATS) || read_stats(r, s, stats) == 0) &&
             read_heartbeat(r, s, hb) == 0 &&
             (!(r->kinds[s] & K_ASSETS) || read_assets(r, s, assets) == 0))
        rc = 0;
    free(stats);
    free(hb);
    free(assets);
    return rc;
}

int source_redis_fleet(const struct source_redis_config *c, struct fleet *f,
                       struct fleet_source *src, char *errbuf, size_t errlen)
{
    struct reader *r = calloc(1, sizeof(*r));
    int rc = -1;
    if (r == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    r->c = c;
    r->f = f;
    r->errbuf = errbuf;
    r->errlen = errlen;
    struct redis_link_config lc = {
        .url = c->url,
        .sentinels = c->sentinels,
        .n_sentinels = c->n_sentinels,
        .master_name = c->master_name,
        .connect_ms = c->connect_ms,
        .command_ms = c->command_ms,
        .abort_fd = -1,
        .on_error = on_link_error,
        .ud = r,
    };
    r->link = redis_link_new(&lc);
    if (r->link == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto done;
    }
    if (redis_link_connect(r->link) < 0) {
        snprintf(errbuf, errlen, "redis %s", r->link_err[0] ? r->link_err : "cannot connect");
        goto done;
    }
    if (scan_keys(r) < 0)
        goto done;
    /* the inventories before the stream: an alert finds its finding */
    size_t n = fleet_sensors(f);
    for (size_t s = 0; s < n; s++)
        if (read_sensor(r, (int)s) < 0)
            goto done;
    if (c->window > 0 && read_stream(r, src) < 0)
        goto done;
    rc = 0;
done:
    redis_link_free(r->link);
    free(r);
    return rc;
}
