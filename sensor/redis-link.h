/* redis-link.h -- one connection to Redis, as the output thread uses it.
 *
 * A link knows where Redis is (a URL, or Sentinel discovery), connects with
 * the handshake (AUTH, SELECT, then ROLE behind Sentinel, else PING), sends
 * pipelined commands and reads their replies. It also keeps the backoff
 * between failed attempts: 100 ms doubling to 30 s, +-25% jitter, reset by
 * the next success.
 *
 * Nothing waits without a bound. The socket is non-blocking and every wait
 * is a poll() against a total deadline, not a per-read timeout, so a server
 * that trickles its reply a byte at a time cannot hold an exchange longer:
 * a connect takes at most connect_ms, the handshake at most command_ms, an
 * exchange at most until the deadline its caller gives. What a server sends
 * is checked before hiredis parses it: it must be RESP, and a reply may
 * declare at most a 16 MiB string and 65536 elements, and take at most
 * 64 MiB (hiredis 0.14 has no such bounds: "*2147483647" would have it
 * allocate 16 GiB). The owner can end every wait at once: abort_fd readable
 * (the write end of a pipe it writes to) fails the exchange in progress and
 * every later one. Only name resolution (getaddrinfo() of a host name, not
 * of an address) is not bounded here.
 *
 * Errors are reported through the on_error callback as (peer, message),
 * where peer is "host:port", "[v6]:port" or the socket path; messages never
 * contain the password. A link is used by one thread; nothing here takes a
 * lock. */
#ifndef REDIS_LINK_H
#define REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis-url.h"

struct redis_link;
struct redisReply;

struct redis_link_config {
    const struct redis_url *url;       /* where Redis is (copied) */
    const struct redis_url *sentinels; /* host and port of each sentinel, or NULL (copied) */
    size_t n_sentinels;
    const char *master_name; /* with sentinels (copied) */
    uint32_t connect_ms;     /* bound on a connect */
    uint32_t command_ms;     /* bound on the handshake and on each exchange */
    int abort_fd;            /* readable: give up every wait now; -1 for none */
    /* Called for every error, with the server it concerns. */
    void (*on_error)(void *ud, const char *peer, const char *msg);
    void *ud;
};

/* Create a link (not connected) from cfg, which may go away afterwards.
 * Returns NULL when out of memory. Free with redis_link_free(). */
struct redis_link *redis_link_new(const struct redis_link_config *cfg);

/* Close the connection, if any, and free l. NULL is a no-op. */
void redis_link_free(struct redis_link *l);

/* Connect and shake hands: through Sentinel when sentinels are configured
 * (each in turn, the one that answered last first; the master's role is
 * checked), else to the URL. Returns 0 when connected (the backoff is
 * reset), or -1 with every error reported (the caller starts the backoff:
 * redis_link_fail()). */
int redis_link_connect(struct redis_link *l);

/* Whether a connection is open. */
bool redis_link_up(const struct redis_link *l);

/* Close the connection (commands appended and not answered are lost).
 * Never fails. */
void redis_link_close(struct redis_link *l);

/* The server of the open connection, or of the last attempt: "host:port",
 * "[v6]:port" or the socket path; "" before any. */
const char *redis_link_peer(const struct redis_link *l);

/* Append one command (argc strings of lens[i] bytes; lens NULL for
 * NUL-terminated strings) to the output buffer; nothing is sent yet. The
 * strings are copied. Returns 0, or -1 (not connected, or out of memory:
 * the link is closed then). */
int redis_link_append(struct redis_link *l, int argc, const char **argv, const size_t *lens);

/* Send what was appended and return the next reply, waiting until
 * deadline_ms (redis_link_now_ms() clock) at most, in total. The caller
 * frees the reply with freeReplyObject(). Returns NULL when the connection
 * failed, the reply broke the bounds, the deadline passed or the owner
 * aborted: the error is reported (not an abort) and the link closed. */
struct redisReply *redis_link_reply(struct redis_link *l, uint64_t deadline_ms);

/* The deadline of an exchange starting now: now + command_ms, or the
 * limit when that is sooner. */
uint64_t redis_link_deadline(const struct redis_link *l);

/* No wait may last past at_ms from now on (0: no such limit): the last
 * flush before a stop. */
void redis_link_limit(struct redis_link *l, uint64_t at_ms);

/* Whether abort_fd has been seen readable (every exchange fails now). */
bool redis_link_aborted(const struct redis_link *l);

/* A failure: no connect and no write for the next backoff step (at most
 * cap_ms when cap_ms > 0), and the step after doubles. */
void redis_link_fail(struct redis_link *l, uint32_t cap_ms);

/* A success: the backoff starts over. */
void redis_link_ok(struct redis_link *l);

/* When the backoff allows the next connect or write (redis_link_now_ms()
 * clock); 0 when it allows them now. */
uint64_t redis_link_retry_at(const struct redis_link *l);

/* Allow the next attempt no later than at. */
void redis_link_retry_by(struct redis_link *l, uint64_t at);

/* Whether commands may be sent now: connected, and no backoff running. */
bool redis_link_ready(const struct redis_link *l);

/* What an error reply means for the one who sent the command. */
enum redis_err_kind {
    REDIS_ERR_PAUSE,     /* Redis cannot take writes now (OOM, MISCONF, LOADING...): retry later */
    REDIS_ERR_RECONNECT, /* this connection cannot write (NOAUTH, READONLY...): handshake again */
    REDIS_ERR_REFUSED,   /* this command can never succeed (too large): do not retry it */
};
enum redis_err_kind redis_link_error_kind(const char *msg);

/* Milliseconds on the monotonic clock. */
uint64_t redis_link_now_ms(void);

#endif
