/* redis-link.c -- one connection to Redis: connect, handshake, Sentinel,
 * pipelined exchanges, backoff, error classes. */
#include "redis-link.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define SENTINEL_DEFAULT_PORT 26379
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define READ_CHUNK 16384
/* Bounds on what a server may declare in a reply (hiredis 0.14 has none:
 * "*2147483647" would have it allocate 16 GiB) and on one reply's bytes. */
#define REPLY_BULK_MAX (16u << 20)
#define REPLY_ELEMENTS_MAX 65536
#define REPLY_LINE_MAX 65536
#define REPLY_BYTES_MAX (64u << 20)

/* A check of the bytes a server sends, before hiredis parses them: every
 * header line (+ - : $ *) is checked and the sizes it declares bounded. */
struct scan {
    uint64_t skip; /* bulk bytes (and their CRLF) still to pass */
    char type;     /* of the line being read; 0 between lines */
    char num[24];  /* the number of a : $ * line */
    size_t n;      /* bytes of the line so far */
};

struct redis_link {
    /* Configuration, copied by redis_link_new(). */
    struct redis_url url;
    struct redis_url *sentinels;
    size_t n_sentinels;
    char *master_name;
    uint32_t connect_ms, command_ms;
    void (*on_error)(void *ud, const char *peer, const char *msg);
    void *ud;
    int abort_fd; /* readable: give up every wait now */
    bool aborted;
    uint64_t limit; /* no deadline later than this (0: none) */

    redisContext *c;
    struct scan scan;              /* of what c received */
    char peer[REDIS_URL_PEER_LEN]; /* of c, or of the last attempt */
    size_t next_sentinel;          /* the one that answered last is asked first */
    uint64_t retry_at;             /* no connect and no write before */
    uint32_t backoff_ms;           /* the next delay, before jitter */
    uint64_t rng;
};

uint64_t redis_link_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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

/* hiredis's ctx->err/errstr in our words. */
static void ctx_error(const redisContext *c, char *buf, size_t len)
{
    if (c->err == REDIS_ERR_EOF)
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

/* ------------------------------------------------------------ replies */

static int scan_fail(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int scan_fail(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* The number of a : $ * line ("-1", "42"), or -2 when it is not one. */
static long long scan_number(const char *s, size_t n)
{
    long long v = 0;
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == n)
        return -2;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -2;
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

/* Check len bytes a server sent, continuing sc. Returns 0, or -1 with what
 * is wrong in msg: not RESP, or a size above the bounds. */
static int scan_feed(struct scan *sc, const char *p, size_t len, char *msg, size_t msglen)
{
    for (size_t i = 0; i < len;) {
        if (sc->skip > 0) {
            size_t k = sc->skip < len - i ? (size_t)sc->skip : len - i;
            sc->skip -= k;
            i += k;
            continue;
        }
        char ch = p[i++];
        if (sc->type == 0) {
            if (ch == '\0' || strchr("+-:$*", ch) == NULL)
                return scan_fail(msg, msglen, "not a Redis reply (byte 0x%02x)", (unsigned char)ch);
            sc->type = ch;
            sc->n = 0;
            continue;
        }
        if (ch != '\n') {
            if (++sc->n > REPLY_LINE_MAX)
                return scan_fail(msg, msglen, "a reply line longer than %u bytes", REPLY_LINE_MAX);
            if (sc->type != '+' && sc->type != '-') {
                if (sc->n > sizeof(sc->num))
                    return scan_fail(msg, msglen, "not a Redis reply (a number too long)");
                sc->num[sc->n - 1] = ch;
            }
            continue;
        }
        char type = sc->type;
        sc->type = 0;
        if (type == '+' || type == '-')
            continue;
        size_t n = sc->n > 0 && sc->num[sc->n - 1] == '\r' ? sc->n - 1 : sc->n;
        long long v = scan_number(sc->num, n);
        if (v < -1 && !(type == ':' && v != -2))
            return scan_fail(msg, msglen, "not a Redis reply (bad %c length)", type);
        if (type == '$' && v > (long long)REPLY_BULK_MAX)
            return scan_fail(msg, msglen, "a reply declares a %lld-byte string (at most %u)", v,
                             REPLY_BULK_MAX);
        if (type == '*' && v > REPLY_ELEMENTS_MAX)
            return scan_fail(msg, msglen, "a reply declares %lld elements (at most %d)", v,
                             REPLY_ELEMENTS_MAX);
        if (type == '$' && v >= 0)
            sc->skip = (uint64_t)v + 2;
    }
    return 0;
}

/* Wait until fd is ready for ev, deadline passes (0), the owner aborts
 * (-2, sticky) or poll fails (-1). 1 when ready. */
static int wait_fd(struct redis_link *l, int fd, short ev, uint64_t deadline)
{
    if (l->aborted)
        return -2;
    if (l->limit > 0 && deadline > l->limit)
        deadline = l->limit;
    for (;;) {
        uint64_t now = redis_link_now_ms();
        if (now >= deadline)
            return 0;
        struct pollfd p[2] = {{.fd = fd, .events = ev}, {.fd = l->abort_fd, .events = POLLIN}};
        uint64_t left = deadline - now;
        int rc = poll(p, l->abort_fd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        if (l->abort_fd >= 0 && p[1].revents != 0) {
            l->aborted = true;
            return -2;
        }
        if (rc > 0 && p[0].revents != 0)
            return 1;
    }
}

/* A failed wait, in words: reported unless the owner aborted. */
static void wait_error(struct redis_link *l, const char *peer, int w, uint64_t start,
                       const char *doing)
{
    if (w == -2)
        return; /* the owner stops: not the server's fault */
    if (w == 0)
        report(l, peer, "no %s within %llu ms", doing,
               (unsigned long long)(redis_link_now_ms() - start));
    else
        report(l, peer, "%s", strerror(errno));
}

/* Send what was appended to c, then return its next reply, all before
 * deadline. NULL when that fails (reported, except when aborted): c is
 * unusable then. */
static redisReply *exchange(struct redis_link *l, redisContext *c, struct scan *sc,
                            const char *peer, uint64_t deadline)
{
    char msg[160], buf[READ_CHUNK];
    uint64_t start = redis_link_now_ms(), got = 0;
    int w;
    for (;;) {
        int done = 0;
        if (redisBufferWrite(c, &done) != REDIS_OK) {
            ctx_error(c, msg, sizeof(msg));
            report(l, peer, "%s", msg);
            return NULL;
        }
        if (done)
            break;
        if ((w = wait_fd(l, c->fd, POLLOUT, deadline)) <= 0) {
            wait_error(l, peer, w, start, "room to send");
            return NULL;
        }
    }
    for (;;) {
        void *rep = NULL;
        if (redisGetReply(c, &rep) != REDIS_OK) {
            ctx_error(c, msg, sizeof(msg));
            report(l, peer, "%s", msg);
            return NULL;
        }
        if (rep != NULL)
            return rep;
        if ((w = wait_fd(l, c->fd, POLLIN, deadline)) <= 0) {
            wait_error(l, peer, w, start, "reply");
            return NULL;
        }
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n <= 0) {
            report(l, peer, "%s", n == 0 ? "connection closed by the server" : strerror(errno));
            return NULL;
        }
        got += (uint64_t)n;
        if (got > REPLY_BYTES_MAX) {
            report(l, peer, "a reply larger than %u bytes", REPLY_BYTES_MAX);
            return NULL;
        }
        if (scan_feed(sc, buf, (size_t)n, msg, sizeof(msg)) < 0) {
            report(l, peer, "%s", msg);
            return NULL;
        }
        if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
            report(l, peer, "out of memory");
            return NULL;
        }
    }
}

/* ------------------------------------------------------------ connection */

/* Connect, without blocking past the connect timeout, and leave the
 * context non-blocking: every exchange waits in poll() against its own
 * deadline. Returns the context, or NULL with the error reported against
 * peer. *sc is reset. */
static redisContext *open_ctx(struct redis_link *l, const char *host, int port, const char *path,
                              const char *peer, struct scan *sc)
{
    char msg[160];
    uint64_t start = redis_link_now_ms();
    if (l->aborted)
        return NULL;
    memset(sc, 0, sizeof(*sc));
    redisContext *c = path[0] ? redisConnectUnixNonBlock(path) : redisConnectNonBlock(host, port);
    if (c == NULL) {
        report(l, peer, "out of memory");
        return NULL;
    }
    if (c->err) {
        ctx_error(c, msg, sizeof(msg));
        report(l, peer, "%s", msg);
        goto fail;
    }
    int w = wait_fd(l, c->fd, POLLOUT, start + l->connect_ms);
    if (w <= 0) {
        if (w == 0)
            report(l, peer, "no connection within %u ms", l->connect_ms);
        else
            wait_error(l, peer, w, start, "connection");
        goto fail;
    }
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err != 0) {
        report(l, peer, "%s", strerror(err));
        goto fail;
    }
    if (!path[0])
        (void)redisEnableKeepAlive(c); /* best effort: finds dead peers sooner */
    return c;
fail:
    free_ctx(c);
    return NULL;
}

/* Run one command on c and return its reply (free it with
 * freeReplyObject()), or NULL after a failure, which is reported; c is
 * unusable then. */
static redisReply *command(struct redis_link *l, redisContext *c, struct scan *sc, const char *peer,
                           int argc, const char **argv, uint64_t deadline)
{
    char msg[160];
    if (redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK) {
        ctx_error(c, msg, sizeof(msg));
        report(l, peer, "%s", msg);
        return NULL;
    }
    return exchange(l, c, sc, peer, deadline);
}

/* AUTH, SELECT, then ROLE (must be master) or PING, all within the command
 * timeout. Returns 0, or -1 with the error reported (the caller frees c). */
static int handshake(struct redis_link *l, redisContext *c, struct scan *sc, const char *peer,
                     bool need_master)
{
    const struct redis_url *u = &l->url;
    uint64_t deadline = redis_link_deadline(l);
    char db[16];
    const char *argv[3];
    redisReply *rep;

    if (u->password[0]) {
        int n = 0;
        argv[n++] = "AUTH";
        if (u->user[0])
            argv[n++] = u->user;
        argv[n++] = u->password;
        if ((rep = command(l, c, sc, peer, n, argv, deadline)) == NULL)
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
        if ((rep = command(l, c, sc, peer, 2, argv, deadline)) == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_ERROR) {
            report(l, peer, "SELECT %d: %s", u->db, rep->str);
            freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
    }
    argv[0] = need_master ? "ROLE" : "PING";
    if ((rep = command(l, c, sc, peer, 1, argv, deadline)) == NULL)
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
 * its role. Returns the context (with l->scan reset for it) or NULL
 * (errors reported). */
static redisContext *discover(struct redis_link *l)
{
    for (size_t k = 0; k < l->n_sentinels && !l->aborted; k++) {
        size_t i = (l->next_sentinel + k) % l->n_sentinels;
        const struct redis_url *s = &l->sentinels[i];
        char speer[REDIS_URL_PEER_LEN], host[256] = "";
        struct scan ssc;
        int port = 0;
        redis_url_peer(speer, sizeof(speer), s->host, s->port, NULL);
        snprintf(l->peer, sizeof(l->peer), "%s", speer);
        redisContext *sc = open_ctx(l, s->host, s->port, "", speer, &ssc);
        if (sc == NULL)
            continue;
        const char *argv[] = {"SENTINEL", "get-master-addr-by-name", l->master_name};
        redisReply *rep = command(l, sc, &ssc, speer, 3, argv, redis_link_deadline(l));
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
        redisContext *c = open_ctx(l, host, port, "", l->peer, &l->scan);
        if (c == NULL)
            continue;
        if (handshake(l, c, &l->scan, l->peer, true) == 0) {
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
        c = open_ctx(l, u->host, u->port, u->path, l->peer, &l->scan);
        if (c != NULL && handshake(l, c, &l->scan, l->peer, false) < 0) {
            free_ctx(c);
            c = NULL;
        }
    }
    if (c == NULL)
        return -1;
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
        ctx_error(l->c, msg, sizeof(msg));
        report(l, l->peer, "%s", msg);
        redis_link_close(l);
        return -1;
    }
    return 0;
}

/* See redis-link.h. */
struct redisReply *redis_link_reply(struct redis_link *l, uint64_t deadline_ms)
{
    if (l->c == NULL)
        return NULL;
    redisReply *rep = exchange(l, l->c, &l->scan, l->peer, deadline_ms);
    if (rep == NULL)
        redis_link_close(l);
    return rep;
}

/* See redis-link.h. */
uint64_t redis_link_deadline(const struct redis_link *l)
{
    uint64_t d = redis_link_now_ms() + l->command_ms;
    return l->limit > 0 && d > l->limit ? l->limit : d;
}

/* See redis-link.h. */
void redis_link_limit(struct redis_link *l, uint64_t at_ms)
{
    l->limit = at_ms;
}

/* See redis-link.h. */
bool redis_link_aborted(const struct redis_link *l)
{
    return l->aborted;
}

/* ------------------------------------------------------------ errors */

/* See redis-link.h. */
enum redis_err_kind redis_link_error_kind(const char *msg)
{
    static const char *const reconnect[] = {"NOAUTH", "WRONGPASS", "READONLY", "MASTERDOWN"};
    /* What Redis says of a command it will never take, whatever its state:
     * an argument above proto-max-bulk-len, or a request it cannot parse
     * (it then closes the connection too). */
    static const char *const refused[] = {"exceeds maximum allowed size", "invalid bulk length",
                                          "invalid multibulk length", "too large"};
    for (size_t i = 0; i < sizeof(reconnect) / sizeof(reconnect[0]); i++)
        if (strncmp(msg, reconnect[i], strlen(reconnect[i])) == 0)
            return REDIS_ERR_RECONNECT;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (strstr(msg, refused[i]) != NULL)
            return REDIS_ERR_REFUSED;
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
    l->abort_fd = cfg->abort_fd;
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
