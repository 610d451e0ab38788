/* redis-link.c -- one connection to Redis: connect, handshake, Sentinel,
 * pipelined exchanges, backoff, error classes. */
#include "redis-link.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define SENTINEL_DEFAULT_PORT 26379
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define PEER_LEN 300

struct redis_link {
    /* Configuration, copied by redis_link_new(). */
    struct redis_url url;
    struct redis_url *sentinels;
    size_t n_sentinels;
    char *master_name;
    uint32_t connect_ms, command_ms;
    void (*on_error)(void *ud, const char *peer, const char *msg);
    void *ud;

    redisContext *c;
    char peer[PEER_LEN];  /* of c, or of the last attempt */
    size_t next_sentinel; /* the one that answered last is asked first */
    uint64_t retry_at;    /* no connect and no write before */
    uint32_t backoff_ms;  /* the next delay, before jitter */
    uint64_t rng;
};

uint64_t redis_link_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct timeval ms_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static void report(struct redis_link *l, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct redis_link *l, const char *peer, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (l->on_error != NULL)
        l->on_error(l->ud, peer, msg);
}

/* hiredis's ctx->err/errstr in our words: a read that timed out says so. */
static void ctx_error(const struct redis_link *l, const redisContext *c, char *buf, size_t len)
{
    if (c->err == REDIS_ERR_IO && strstr(c->errstr, "temporarily unavailable") != NULL)
        snprintf(buf, len, "no reply within %u ms", l->command_ms);
    else if (c->err == REDIS_ERR_EOF)
        snprintf(buf, len, "connection closed by the server");
    else
        snprintf(buf, len, "%s", c->errstr[0] ? c->errstr : "connection error");
}

/* A write to a closed socket raises SIGPIPE on this thread, which blocks
 * every signal; discard it so it is never delivered. */
static void clear_sigpipe(void)
{
    sigset_t set;
    struct timespec zero = {0, 0};
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
        ;
}

static void free_ctx(redisContext *c)
{
    if (c != NULL)
        redisFree(c);
    clear_sigpipe();
}

/* ------------------------------------------------------------ backoff */

static uint32_t jitter(struct redis_link *l, uint32_t ms)
{
    l->rng ^= l->rng << 13; /* xorshift64 */
    l->rng ^= l->rng >> 7;
    l->rng ^= l->rng << 17;
    return (uint32_t)((uint64_t)ms * (75 + l->rng % 51) / 100); /* +-25% */
}

/* See redis-link.h. */
void redis_link_fail(struct redis_link *l, uint32_t cap_ms)
{
    uint32_t d = jitter(l, l->backoff_ms);
    if (cap_ms > 0 && d > cap_ms)
        d = cap_ms;
    l->retry_at = redis_link_now_ms() + d;
    l->backoff_ms = l->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

/* See redis-link.h. */
void redis_link_ok(struct redis_link *l)
{
    l->backoff_ms = BACKOFF_MIN_MS;
    l->retry_at = 0;
}

/* See redis-link.h. */
uint64_t redis_link_retry_at(const struct redis_link *l)
{
    return l->retry_at;
}

/* See redis-link.h. */
void redis_link_retry_by(struct redis_link *l, uint64_t at)
{
    if (l->retry_at > at)
        l->retry_at = at;
}

/* See redis-link.h. */
bool redis_link_ready(const struct redis_link *l)
{
    return l->c != NULL && redis_link_now_ms() >= l->retry_at;
}

/* ------------------------------------------------------------ connection */

/* Connect with the connect timeout, then set the command timeout. Returns
 * the context, or NULL with the error reported against peer. */
static redisContext *open_ctx(struct redis_link *l, const char *host, int port, const char *path,
                              const char *peer)
{
    char msg[160];
    struct timeval tv = ms_tv(l->connect_ms);
    redisContext *c =
        path[0] ? redisConnectUnixWithTimeout(path, tv) : redisConnectWithTimeout(host, port, tv);
    if (c == NULL) {
        report(l, peer, "out of memory");
        return NULL;
    }
    if (c->err) {
        ctx_error(l, c, msg, sizeof(msg));
        goto fail;
    }
    if (redisSetTimeout(c, ms_tv(l->command_ms)) != REDIS_OK) {
        snprintf(msg, sizeof(msg), "cannot set the command timeout: %s", c->errstr);
        goto fail;
    }
    if (!path[0])
        (void)redisEnableKeepAlive(c); /* best effort: finds dead peers sooner */
    return c;
fail:
    report(l, peer, "%s", msg);
    free_ctx(c);
    return NULL;
}

/* Run one command on c and wait for its reply. Returns the reply (free it
 * with freeReplyObject()), or NULL after a connection error, which is
 * reported; c is unusable then. */
static redisReply *command(struct redis_link *l, redisContext *c, const char *peer, int argc,
                           const char **argv)
{
    char msg[160];
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    if (rep == NULL) {
        ctx_error(l, c, msg, sizeof(msg));
        report(l, peer, "%s", msg);
    }
    return rep;
}

/* AUTH, SELECT, then ROLE (must be master) or PING. Returns 0, or -1 with
 * the error reported (the caller frees c). */
static int handshake(struct redis_link *l, redisContext *c, const char *peer, bool need_master)
{
    const struct redis_url *u = &l->url;
    char db[16];
    const char *argv[3];
    redisReply *rep;

    if (u->password[0]) {
        int n = 0;
        argv[n++] = "AUTH";
        if (u->user[0])
            argv[n++] = u->user;
        argv[n++] = u->password;
        if ((rep = command(l, c, peer, n, argv)) == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR) {
            report(l, peer, "AUTH%s%s failed: %s", u->user[0] ? " as " : "", u->user, rep->str);
            freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
    }
    if (u->db != 0) {
        snprintf(db, sizeof(db), "%d", u->db);
        argv[0] = "SELECT";
        argv[1] = db;
        if ((rep = command(l, c, peer, 2, argv)) == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR) {
            report(l, peer, "SELECT %d: %s", u->db, rep->str);
            freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
    }
    argv[0] = need_master ? "ROLE" : "PING";
    if ((rep = command(l, c, peer, 1, argv)) == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ERROR) {
        /* a user without ROLE rights cannot check: trust Sentinel then */
        if (!need_master || strncmp(rep->str, "NOPERM", 6) != 0) {
            report(l, peer, "%s", rep->str);
            rc = -1;
        }
    } else if (need_master) {
        const char *role = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                                   rep->element[0]->type == REDIS_REPLY_STRING
                               ? rep->element[0]->str
                               : "?";
        if (strcmp(role, "master") != 0) {
            report(l, peer, "not a master (role %s); asking Sentinel again", role);
            rc = -1;
        }
    }
    freeReplyObject(rep);
    return rc;
}

/* Ask the sentinels in turn where the master is, connect to it and check
 * its role. Returns the context or NULL (errors reported). */
static redisContext *discover(struct redis_link *l)
{
    for (size_t k = 0; k < l->n_sentinels; k++) {
        size_t i = (l->next_sentinel + k) % l->n_sentinels;
        const struct redis_url *s = &l->sentinels[i];
        char speer[PEER_LEN], host[256] = "";
        int port = 0;
        redis_url_peer(speer, sizeof(speer), s->host, s->port, NULL);
        snprintf(l->peer, sizeof(l->peer), "%s", speer);
        redisContext *sc = open_ctx(l, s->host, s->port, "", speer);
        if (sc == NULL)
            continue;
        const char *argv[] = {"SENTINEL", "get-master-addr-by-name", l->master_name};
        redisReply *rep = command(l, sc, speer, 3, argv);
        if (rep == NULL) {
            /* reported */
        } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                   rep->element[0]->type == REDIS_REPLY_STRING &&
                   rep->element[1]->type == REDIS_REPLY_STRING) {
            snprintf(host, sizeof(host), "%s", rep->element[0]->str);
            port = atoi(rep->element[1]->str);
        } else if (rep->type == REDIS_REPLY_ERROR) {
            report(l, speer, "Sentinel: %s", rep->str);
        } else if (rep->type == REDIS_REPLY_NIL) {
            report(l, speer, "Sentinel knows no master named \"%s\"", l->master_name);
        } else {
            report(l, speer, "Sentinel: unexpected reply to get-master-addr-by-name");
        }
        if (rep != NULL)
            freeReplyObject(rep);
        free_ctx(sc);
        if (!host[0] || port <= 0 || port > 65535)
            continue;
        redis_url_peer(l->peer, sizeof(l->peer), host, port, NULL);
        redisContext *c = open_ctx(l, host, port, "", l->peer);
        if (c == NULL)
            continue;
        if (handshake(l, c, l->peer, true) == 0) {
            l->next_sentinel = i;
            return c;
        }
        free_ctx(c);
    }
    return NULL;
}

/* See redis-link.h. */
int redis_link_connect(struct redis_link *l)
{
    redisContext *c;
    redis_link_close(l);
    if (l->n_sentinels > 0) {
        c = discover(l);
    } else {
        const struct redis_url *u = &l->url;
        redis_url_peer(l->peer, sizeof(l->peer), u->host, u->port, u->path);
        c = open_ctx(l, u->host, u->port, u->path, l->peer);
        if (c != NULL && handshake(l, c, l->peer, false) < 0) {
            free_ctx(c);
            c = NULL;
        }
    }
    if (c == NULL) {
        redis_link_fail(l, 0);
        return -1;
    }
    l->c = c;
    redis_link_ok(l);
    return 0;
}

/* See redis-link.h. */
bool redis_link_up(const struct redis_link *l)
{
    return l->c != NULL;
}

/* See redis-link.h. */
void redis_link_close(struct redis_link *l)
{
    if (l->c != NULL) {
        free_ctx(l->c);
        l->c = NULL;
    }
}

/* See redis-link.h. */
const char *redis_link_peer(const struct redis_link *l)
{
    return l->peer;
}

/* ------------------------------------------------------------ exchanges */

/* See redis-link.h. */
int redis_link_append(struct redis_link *l, int argc, const char **argv, const size_t *lens)
{
    char msg[160];
    if (l->c == NULL)
        return -1;
    if (redisAppendCommandArgv(l->c, argc, argv, lens) != REDIS_OK) {
        ctx_error(l, l->c, msg, sizeof(msg));
        report(l, l->peer, "%s", msg);
        redis_link_close(l);
        return -1;
    }
    return 0;
}

/* See redis-link.h. */
struct redisReply *redis_link_reply(struct redis_link *l, uint64_t deadline_ms)
{
    char msg[160];
    void *v = NULL;
    (void)deadline_ms;
    if (l->c == NULL)
        return NULL;
    if (redisGetReply(l->c, &v) != REDIS_OK || v == NULL) {
        ctx_error(l, l->c, msg, sizeof(msg));
        report(l, l->peer, "%s", msg);
        redis_link_close(l);
        return NULL;
    }
    return v;
}

/* See redis-link.h. */
uint64_t redis_link_deadline(const struct redis_link *l)
{
    return redis_link_now_ms() + l->command_ms;
}

/* ------------------------------------------------------------ errors */

/* See redis-link.h. */
enum redis_err_kind redis_link_error_kind(const char *msg)
{
    static const char *const reconnect[] = {"NOAUTH", "WRONGPASS", "READONLY", "MASTERDOWN"};
    for (size_t i = 0; i < sizeof(reconnect) / sizeof(reconnect[0]); i++)
        if (strncmp(msg, reconnect[i], strlen(reconnect[i])) == 0)
            return REDIS_ERR_RECONNECT;
    return REDIS_ERR_PAUSE;
}

/* ------------------------------------------------------------ life */

/* See redis-link.h. */
struct redis_link *redis_link_new(const struct redis_link_config *cfg)
{
    struct redis_link *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->url = *cfg->url;
    l->master_name = strdup(cfg->master_name ? cfg->master_name : "");
    if (l->master_name == NULL)
        goto fail;
    if (cfg->n_sentinels > 0) {
        l->sentinels = calloc(cfg->n_sentinels, sizeof(*l->sentinels));
        if (l->sentinels == NULL)
            goto fail;
        memcpy(l->sentinels, cfg->sentinels, cfg->n_sentinels * sizeof(*l->sentinels));
        l->n_sentinels = cfg->n_sentinels;
        for (size_t i = 0; i < l->n_sentinels; i++)
            if (l->sentinels[i].port == 0)
                l->sentinels[i].port = SENTINEL_DEFAULT_PORT;
    }
    l->connect_ms = cfg->connect_ms;
    l->command_ms = cfg->command_ms;
    l->on_error = cfg->on_error;
    l->ud = cfg->ud;
    l->backoff_ms = BACKOFF_MIN_MS;
    l->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)l;
    if (l->rng == 0)
        l->rng = 88172645463325252ull;
    return l;
fail:
    redis_link_free(l);
    return NULL;
}

/* See redis-link.h. */
void redis_link_free(struct redis_link *l)
{
    if (l == NULL)
        return;
    redis_link_close(l);
    free(l->sentinels);
    free(l->master_name);
    free(l);
}
