/* source-redis.h -- the fleet view's input: what the sensors pushed to one
 * Redis, read back as a consumer reads it.
 *
 * Over one connection (redis-link.h: the URL forms, the handshake with
 * AUTH and SELECT, and the bounds on every exchange and reply that the
 * Redis output has), it finds the sensors by their keys -- SCAN for
 * <prefix>:assets:*, <prefix>:stats:* and <prefix>:heartbeat:* (one SCAN
 * of <prefix>:*, the prefix's glob characters escaped) -- then reads each
 * sensor's stats hash (HGETALL), heartbeat (GET) and inventory hash
 * (HSCAN, a page at a time), and the newest entries of the alerts stream
 * (XLEN, then XREVRANGE a page at a time, at most window entries), and
 * hands every record to the fleet (fleet.h). It writes nothing to Redis.
 *
 * A key of the wrong type, or a record the fleet finds damaged, is
 * counted and named in the fleet (fleet_damage()) and reading goes on.
 * Redis unreachable, refusing the password or a command (an ACL without
 * SCAN, say), or a reply out of bounds or of the wrong shape ends it. */
#ifndef SOURCE_REDIS_H
#define SOURCE_REDIS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redis_url;
struct fleet;
struct fleet_source;

struct source_redis_config {
    const struct redis_url *url;       /* the server, its password settled */
    const struct redis_url *sentinels; /* n_sentinels: ask them for the master; or NULL */
    size_t n_sentinels;
    const char *master_name; /* with sentinels */
    uint32_t connect_ms;     /* bound on the connect */
    uint32_t command_ms;     /* bound on the handshake and on each exchange */
    const char *key_prefix;  /* redis.key_prefix: "egress" */
    const char *stream;      /* the alerts stream's key: "egress:alerts" */
    uint64_t window;         /* stream entries to read at most, newest first; 0 none */
    atomic_int *stop;        /* set (a signal): give up before the next exchange; or NULL */
};

/* Read what c names into f; what the stream gave into src's
 * stream_length, entries, first_ms, last_ms and complete (the caller sets
 * the rest). Returns 0 (damaged records are in f), or -1 with "redis PEER:
 * message" in errbuf (PEER: host:port, [v6]:port or the socket path; the
 * password never) -- f then holds what was read before. */
int source_redis_fleet(const struct source_redis_config *c, struct fleet *f,
                       struct fleet_source *src, char *errbuf, size_t errlen);

#endif
