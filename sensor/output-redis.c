/* output-redis.c -- alerts, inventory and health into Redis, at least once.
 *
 * Threads and ownership. Producers call out_redis_submit_alert() and
 * friends; they take the mutex for a few pointer moves (and, when the queue
 * is full, one spool append) and never touch the Redis connection. One
 * output thread owns the connection (redis-link.h); it takes records out of
 * the queue, sends them, and frees them once Redis has answered OK (or
 * writes them to the spool).
 *
 * A cycle of the output thread, at least once a second:
 *
 *   connect when due   (Sentinel discovery first when sentinels are given)
 *   replay the spool   a batch read ahead (spool_read), pipelined XADDs,
 *                      spool_ack of the records taken, oldest first
 *   the alert queue    pipelined XADDs when the spool is empty and writes
 *                      are allowed; otherwise appended to the spool behind
 *                      what is already there
 *   the flow queue     pipelined XADDs (never spooled)
 *   assets             HMGET of the hosts new to this run (their baseline,
 *                      redis-assets.h), then HSETs of the merged records
 *   stats              HSET of the counters, the heartbeat SET ... EX
 *   the log            what changed: connected, lost, spooling, replaying,
 *                      alerts lost (say(), rate-limited)
 *
 * Order. Delivery follows submission: the queue is sent only while the
 * spool is empty, and a producer that finds the queue full moves the
 * oldest queued alert to the spool, not its own. Only a batch that fails
 * while producers overflow can land behind newer alerts. Appends to the
 * spool are ordered by spool_mu (taken before mu, never the other way).
 *
 * Failures. A broken connection closes the link and schedules a reconnect;
 * an error reply to an XADD (OOM, MISCONF, WRONGTYPE...) keeps the
 * connection and pauses alert writes; an error reply saying the record can
 * never be taken (too large for this Redis) drops that alert, counted.
 * Auth and role errors (NOAUTH, WRONGPASS, READONLY, MASTERDOWN) close the
 * connection: only a new handshake, or a new master from Sentinel, cures
 * them. One backoff for all: 100 ms doubling to 30 s, +-25% jitter, reset
 * by the next success, and at most 1 s apart while out_redis_drain() waits.
 * No exchange lasts past its deadline (redis-link.h); a stop gives the last
 * flush STOP_GRACE_MS, then ends every wait through a pipe the link polls.
 *
 * Nothing is lost without a count: every alert refused (by the queue, the
 * spool, or Redis) or lost in the spool lands in one of OUT_REDIS_LOSSES. */
#include "output-redis.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "log.h"
#include "redis-assets.h"
#include "redis-link.h"
#include "redis-record.h"
#include "redis-url.h"
#include "spool.h"
#include "util.h"
#define DEFAULT_QUEUE_SIZE 4096
#define DEFAULT_CONNECT_MS 1000
#define DEFAULT_COMMAND_MS 2000
#define DEFAULT_STATS_S 5
#define DEFAULT_SPOOL_BYTES (100ull << 20)

#define BATCH_MAX 256            /* records pipelined per round trip */
#define REPLAY_CHUNK 4096        /* spool records replayed per cycle */
#define REPLAY_BUF (512u * 1024) /* bytes read ahead for a batch (grows for a larger record) */
#define FLUSH_MS 1000            /* longest sleep of the output thread */
#define DRAIN_RETRY_MS 1000      /* reconnect at least this often while draining */
#define STOP_GRACE_MS 1500       /* the last flush before a stop, at most */
#define LOG_BURST 10             /* state lines logged in a row before the rate limit */
#define LOG_EVERY_MS 6000        /* then one per this */

#define ASSETS_PER_HSET 256 /* hosts per HMGET and HSET */

/* What the output thread knows of Redis, for the log and the status line. */
enum { ST_START, ST_UP, ST_DOWN };

/* The loss counters, numbered (OUT_REDIS_LOSSES), and how often the log
 * speaks of one that keeps growing. */
#define LOSS_INDEX(name, phrase) LOSS_##name,
enum { OUT_REDIS_LOSSES(LOSS_INDEX) LOSS_N };

#undef LOSS_INDEX
#define LOSS_LOG_MS 60000

/* ------------------------------------------------------------ records */

/* One queued record: an alert encoded (output-redis.h), or a flow
 * record's JSON (NUL-terminated). */
struct rec {
    size_t len;
    char data[];
};

/* A bounded FIFO of owned records. */
struct ring {
    struct rec **v;
    uint32_t cap, head, n;
};

static struct rec *rec_new(const char *data, size_t len)
{
    struct rec *x = malloc(sizeof(*x) + len + 1);
    if (x == NULL)
        return NULL;
    x->len = len;
    memcpy(x->data, data, len);
    x->data[len] = '\0';
    return x;
}

static int ring_init(struct ring *q, uint32_t cap)
{
    q->v = calloc(cap, sizeof(*q->v));
    q->cap = cap;
    q->head = q->n = 0;
    return q->v ? 0 : -1;
}

static bool ring_push(struct ring *q, struct rec *x)
{
    if (q->n == q->cap)
        return false;
    q->v[(q->head + q->n) % q->cap] = x;
    q->n++;
    return true;
}

static struct rec *ring_pop(struct ring *q)
{
    if (q->n == 0)
        return NULL;
    struct rec *x = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return x;
}

static void ring_fini(struct ring *q)
{
    struct rec *x;
    if (q->v == NULL)
        return;
    while ((x = ring_pop(q)) != NULL)
        free(x);
    free(q->v);
    q->v = NULL;
}

/* ------------------------------------------------------------ the output */

struct out_redis {
    /* Configuration, copied by out_redis_start(); read-only afterwards. */
    struct redis_url url;
    struct redis_url *sentinels; /* host and port only */
    size_t n_sentinels;
    char *master_name, *sensor, *stream, *channel, *flows_stream;
    char *stats_key, *assets_key, *heartbeat_key;
    char maxlen[24]; /* "" = no trimming */
    uint32_t stats_interval_s;
    struct spool *spool;

    pthread_t thread;
    bool thread_started;
    int abort_rd, abort_wr;   /* a pipe: a byte written ends every wait of the link */
    pthread_mutex_t spool_mu; /* orders appends to the spool; taken before mu */
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* to the output thread: work, stop, drain */
    pthread_cond_t progress; /* from it: something was delivered or spooled */

    /* Under mu. */
    struct ring alerts, flows;
    struct asset_map assets;
    struct out_redis_health health;
    uint64_t inflight; /* alerts taken from the queue, not yet settled */
    bool stopping, draining, idle;
    bool finished;    /* the thread has done its last flush */
    uint64_t stop_at; /* monotonic ms: the last flush ends by then */
    struct out_redis_stats st;

    /* Under mu: what the log and the status line say of Redis. */
    int state;            /* ST_* */
    uint64_t state_since; /* monotonic ms */
    bool spooling, replaying;

    /* The output thread's alone. */
    struct asset_map bases; /* host -> its record in Redis before this run (json NULL: none) */
    struct redis_link *link;
    char *spool_dir;
    bool quiet;                    /* log warnings only */
    double tokens;                 /* log lines allowed now (rate limit) */
    uint64_t tokens_at;            /* monotonic ms of the last refill */
    unsigned unlogged;             /* lines dropped by the rate limit since the last one */
    struct out_redis_stats told;   /* the losses the log has reported */
    size_t damage_told;            /* spool damage regions logged */
    uint64_t loss_told_at[LOSS_N]; /* monotonic ms of the last line about each loss */
    uint64_t next_stats;           /* monotonic ms */
    uint64_t assets_at;            /* monotonic ms: no asset write before (after an error) */
    bool ever_connected;
    char *buf; /* spool replay buffer */
    size_t cap;
    struct redis_record *items; /* BATCH_MAX, decoded for a pipeline */
};

static void iso_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06ld+0000", ts.tv_nsec / 1000);
}

static char *xstrdup(const char *s, const char *dflt)
{
    return strdup(s != NULL && s[0] ? s : dflt);
}

/* Record an error as "peer: message" and count it. */
static void set_error(struct out_redis *r, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct out_redis *r, const char *peer, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->mu);
    snprintf(r->st.last_error, sizeof(r->st.last_error), "%s: %s", peer, msg);
    r->st.last_error_at = (int64_t)time(NULL);
    r->st.last_error_past = 0;
    r->st.errors++;
    pthread_mutex_unlock(&r->mu);
}

static uint64_t spool_pending(struct out_redis *r)
{
    struct spool_stats ss;
    spool_get_stats(r->spool, &ss);
    return ss.pending;
}

/* A snapshot of the counters, the queue and the spool into *out. */
static void snapshot(struct out_redis *r, struct out_redis_stats *out)
{
    struct spool_stats ss;
    static const char *const names[] = {"connecting", "up", "down"};
    pthread_mutex_lock(&r->mu);
    *out = r->st;
    out->queue_depth = r->alerts.n + r->inflight;
    snprintf(out->state, sizeof(out->state), "%s%s", names[r->state],
             r->replaying  ? ", replaying"
             : r->spooling ? ", spooling"
                           : "");
    pthread_mutex_unlock(&r->mu);
    spool_get_stats(r->spool, &ss);
    out->spool_pending = ss.pending;
    out->spool_bytes = ss.bytes;
    out->spool_torn = ss.torn;
    out->spool_damaged = ss.damaged;
    out->spool_damaged_bytes = ss.damaged_bytes;
    spool_last_error(r->spool, out->spool_error, sizeof(out->spool_error));
    struct spool_damage d;
    if (spool_damage(r->spool, 0, &d) == 0) {
        int n = snprintf(out->damage, sizeof(out->damage),
                         "spool-%010" PRIu64 ".log at offset %" PRIu64 " (%" PRIu64
                         " bytes, at least %" PRIu64 " alert%s)",
                         d.segment, d.offset, d.bytes, d.records, d.records == 1 ? "" : "s");
        if (ss.damaged_regions > 1 && n > 0 && (size_t)n < sizeof(out->damage))
            snprintf(out->damage + n, sizeof(out->damage) - (size_t)n,
                     " and %" PRIu64 " more region%s", ss.damaged_regions - 1,
                     ss.damaged_regions > 2 ? "s" : "");
    }
}

/* A state line through the sensor's log, from the output thread,
 * rate-limited (LOG_BURST in a row, then one per LOG_EVERY_MS; the lines
 * dropped are counted in the next one). Informational lines are skipped
 * when quiet. */
static void say(struct out_redis *r, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct out_redis *r, int prio, const char *fmt, ...)
{
    char msg[600];
    uint64_t now = redis_link_now_ms();
    if (r->quiet && prio > LOG_WARNING)
        return;
    r->tokens += (double)(now - r->tokens_at) / LOG_EVERY_MS;
    if (r->tokens > LOG_BURST)
        r->tokens = LOG_BURST;
    r->tokens_at = now;
    if (r->tokens < 1.0) {
        r->unlogged++;
        return;
    }
    r->tokens -= 1.0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->unlogged > 0)
        log_msg(prio, "redis: %s (%u earlier lines not logged)", msg, r->unlogged);
    else
        log_msg(prio, "redis: %s", msg);
    r->unlogged = 0;
}

static void set_state(struct out_redis *r, int state)
{
    pthread_mutex_lock(&r->mu);
    r->state = state;
    r->state_since = redis_link_now_ms();
    pthread_mutex_unlock(&r->mu);
}

static int get_state(struct out_redis *r, uint64_t *since)
{
    pthread_mutex_lock(&r->mu);
    int st = r->state;
    if (since != NULL)
        *since = r->state_since;
    pthread_mutex_unlock(&r->mu);
    return st;
}

/* The last error, for a log line. */
static void last_error(struct out_redis *r, char *buf, size_t len)
{
    pthread_mutex_lock(&r->mu);
    snprintf(buf, len, "%s", r->st.last_error[0] ? r->st.last_error : "unknown error");
    pthread_mutex_unlock(&r->mu);
}

/* Redis took a write: the last error is past; after an outage, say so. */
static void note_write_ok(struct out_redis *r)
{
    uint64_t since;
    int st = get_state(r, &since);
    pthread_mutex_lock(&r->mu);
    if (r->st.last_error[0])
        r->st.last_error_past = 1;
    pthread_mutex_unlock(&r->mu);
    if (st == ST_DOWN) {
        say(r, LOG_NOTICE, "%s takes writes again, after %llu s", redis_link_peer(r->link),
            (unsigned long long)((redis_link_now_ms() - since) / 1000));
        set_state(r, ST_UP);
    }
}

/* Writes failed (the connection broke, or Redis answered an error): once
 * per outage, say so. */
static void note_write_failed(struct out_redis *r, bool broken)
{
    char why[300];
    if (get_state(r, NULL) == ST_DOWN)
        return;
    last_error(r, why, sizeof(why));
    say(r, LOG_WARNING, "%s %s; alerts wait in the spool %s",
        broken ? "lost" : "refuses writes:", why, r->spool_dir);
    set_state(r, ST_DOWN);
}

/* The log's account of a replay: when it begins, and when the spool is
 * empty again. */
static void replay_begins(struct out_redis *r)
{
    pthread_mutex_lock(&r->mu);
    bool begin = !r->replaying;
    r->replaying = true;
    pthread_mutex_unlock(&r->mu);
    if (begin)
        say(r, LOG_INFO, "replaying %" PRIu64 " spooled alerts, in order", spool_pending(r));
}

static void replay_done(struct out_redis *r)
{
    pthread_mutex_lock(&r->mu);
    bool was = r->replaying || r->spooling;
    r->replaying = r->spooling = false;
    pthread_mutex_unlock(&r->mu);
    if (was)
        say(r, LOG_NOTICE, "the spool is empty again");
}

/* What the log says after each cycle: the spool filling and emptying, a
 * replay starting, alerts lost (by reason, with the spool's error or damage
 * where there is one: at once when a loss starts, then at most once a
 * minute while it goes on, and what is left untold at the end). */
static void watch(struct out_redis *r, bool final)
{
    uint64_t now = redis_link_now_ms();
    struct out_redis_stats st;
    snapshot(r, &st);
    pthread_mutex_lock(&r->mu);
    bool start = st.spool_pending > 0 && !r->spooling && !r->replaying;
    if (st.spool_pending > 0)
        r->spooling = true;
    pthread_mutex_unlock(&r->mu);
    if (start)
        say(r, LOG_NOTICE, "alerts go to the spool %s (%" PRIu64 " there now)", r->spool_dir,
            st.spool_pending);
    if (st.spool_pending == 0)
        replay_done(r);
#define LOSS(name, phrase)                                                                         \
    if (st.name > r->told.name && (final || r->loss_told_at[LOSS_##name] == 0 ||                   \
                                   now - r->loss_told_at[LOSS_##name] >= LOSS_LOG_MS)) {           \
        r->loss_told_at[LOSS_##name] = now;                                                        \
        bool io =                                                                                  \
            strcmp(#name, "spool_disk_full") == 0 || strcmp(#name, "spool_write_errors") == 0;     \
        say(r, LOG_WARNING, "%" PRIu64 " alerts lost: %s (%" PRIu64 " in all)%s%s",                \
            st.name - r->told.name, phrase, st.name, io && st.spool_error[0] ? "; " : "",          \
            io ? st.spool_error : "");                                                             \
        r->told.name = st.name;                                                                    \
    }
    OUT_REDIS_LOSSES(LOSS)
#undef LOSS
    struct spool_damage d;
    for (; spool_damage(r->spool, r->damage_told, &d) == 0; r->damage_told++)
        say(r, LOG_WARNING,
            "spool %s/spool-%010" PRIu64 ".log: damaged at offset %" PRIu64 " (%" PRIu64
            " bytes, at least %" PRIu64 " alerts) skipped; the records after it are kept",
            r->spool_dir, d.segment, d.offset, d.bytes, d.records);
}

/* The link's error callback. */
static void on_link_error(void *ud, const char *peer, const char *msg)
{
    set_error(ud, peer, "%s", msg);
}

/* The backoff after a failure: at most DRAIN_RETRY_MS while
 * out_redis_drain() waits. */
static void backoff_fail(struct out_redis *r)
{
    pthread_mutex_lock(&r->mu);
    bool draining = r->draining;
    pthread_mutex_unlock(&r->mu);
    redis_link_fail(r->link, draining ? DRAIN_RETRY_MS : 0);
}

static void set_connected(struct out_redis *r, int up)
{
    pthread_mutex_lock(&r->mu);
    r->st.connected = up;
    pthread_mutex_unlock(&r->mu);
}

/* A broken connection: closed, and the backoff starts. */
static void link_broken(struct out_redis *r)
{
    redis_link_close(r->link);
    set_connected(r, 0);
    backoff_fail(r);
    if (!redis_link_aborted(r->link))
        note_write_failed(r, true);
}

static void link_connect(struct out_redis *r)
{
    char why[300];
    uint64_t since;
    if (redis_link_connect(r->link) < 0) {
        backoff_fail(r);
        if (get_state(r, NULL) == ST_START && !redis_link_aborted(r->link)) {
            last_error(r, why, sizeof(why));
            say(r, LOG_WARNING, "cannot connect: %s; alerts wait in the spool %s until it answers",
                why, r->spool_dir);
            set_state(r, ST_DOWN);
        }
        return;
    }
    r->next_stats = 0; /* health right away: a short run gets one too */
    pthread_mutex_lock(&r->mu);
    r->st.connected = 1;
    if (r->ever_connected)
        r->st.reconnects++;
    pthread_mutex_unlock(&r->mu);
    if (get_state(r, &since) == ST_DOWN)
        say(r, LOG_NOTICE, "connected to %s%s, after %llu s without it", redis_link_peer(r->link),
            r->ever_connected ? " again" : "",
            (unsigned long long)((redis_link_now_ms() - since) / 1000));
    else
        say(r, LOG_INFO, "connected to %s", redis_link_peer(r->link));
    set_state(r, ST_UP);
    r->ever_connected = true;
}

/* ------------------------------------------------------------ commands */

/* XADD <stream> [MAXLEN ~ n] * <fields...> json <record>: the arguments,
 * borrowed from the item and the configuration. */
#define XADD_MAX_ARGS (7 + 2 * OUT_REDIS_FIELDS_MAX + 2)

struct xadd {
    int argc;
    const char *argv[XADD_MAX_ARGS];
    size_t len[XADD_MAX_ARGS];
};

static void xadd_arg(struct xadd *c, const char *s, size_t len)
{
    c->argv[c->argc] = s;
    c->len[c->argc++] = len;
}

static void build_xadd(const struct out_redis *r, const char *stream, const struct redis_record *it,
                       struct xadd *c)
{
    c->argc = 0;
    xadd_arg(c, "XADD", 4);
    xadd_arg(c, stream, strlen(stream));
    if (r->maxlen[0]) {
        xadd_arg(c, "MAXLEN", 6);
        xadd_arg(c, "~", 1);
        xadd_arg(c, r->maxlen, strlen(r->maxlen));
    }
    xadd_arg(c, "*", 1);
    for (size_t i = 0; i < it->nf; i++) {
        xadd_arg(c, it->name[i], it->name_len[i]);
        xadd_arg(c, it->val[i], it->val_len[i]);
    }
    xadd_arg(c, "json", 4);
    xadd_arg(c, it->json, it->json_len);
}

/* What became of a record sent. */
enum { SENT_NOT, SENT_OK, SENT_REFUSED };

/* Pipeline the XADDs of n records (alerts, each followed by its PUBLISH when
 * a channel is set, or flow records), then read every reply, within one
 * deadline. res[i] says what became of record i: taken, not taken (retry
 * it later), or refused for good by an error reply that says the record
 * itself can never be taken (too large for this Redis: counted in
 * redis_refused by the caller, not retried). A broken connection is closed
 * and starts the backoff; so does another error reply to an alert (the
 * connection stays unless it cannot write any more). Returns the number
 * taken. */
static size_t send_records(struct out_redis *r, const struct redis_record *it, size_t n, bool alert,
                           int *res)
{
    bool publish = alert && r->channel[0];
    bool broken = false, reconnect = false;
    char first_err[160] = "", refused_err[160] = "";
    size_t n_ok = 0, pub_err = 0;
    struct xadd cmd;

    for (size_t i = 0; i < n && !broken; i++) {
        build_xadd(r, alert ? r->stream : r->flows_stream, &it[i], &cmd);
        int rc = redis_link_append(r->link, cmd.argc, cmd.argv, cmd.len);
        if (rc == 0 && publish) {
            const char *pargv[] = {"PUBLISH", r->channel, it[i].json};
            size_t plen[] = {7, strlen(r->channel), it[i].json_len};
            rc = redis_link_append(r->link, 3, pargv, plen);
        }
        broken = rc < 0;
    }
    uint64_t deadline = redis_link_deadline(r->link);
    for (size_t i = 0; i < n; i++) {
        res[i] = SENT_NOT;
        for (int k = 0; k < (publish ? 2 : 1) && !broken; k++) {
            redisReply *rep = redis_link_reply(r->link, deadline);
            if (rep == NULL) {
                broken = true;
                break;
            }
            if (rep->type != REDIS_REPLY_ERROR) {
                if (k == 0) {
                    res[i] = SENT_OK;
                    n_ok++;
                }
            } else if (k > 0) {
                pub_err++;
            } else if (redis_link_error_kind(rep->str) == REDIS_ERR_REFUSED) {
                res[i] = SENT_REFUSED;
                snprintf(refused_err, sizeof(refused_err), "%s", rep->str);
            } else {
                if (!first_err[0])
                    snprintf(first_err, sizeof(first_err), "%s", rep->str);
                reconnect |= redis_link_error_kind(rep->str) == REDIS_ERR_RECONNECT;
            }
            freeReplyObject(rep);
        }
    }
    pthread_mutex_lock(&r->mu);
    r->st.publish_errors += pub_err;
    pthread_mutex_unlock(&r->mu);
    if (refused_err[0])
        set_error(r, redis_link_peer(r->link), "%s %s: refused for good: %s",
                  alert ? "alert" : "flow", alert ? r->stream : r->flows_stream, refused_err);
    if (broken) {
        link_broken(r);
    } else if (first_err[0]) {
        set_error(r, redis_link_peer(r->link), "%s %s: %s", alert ? "alert" : "flow",
                  alert ? r->stream : r->flows_stream, first_err);
        if (reconnect) {
            link_broken(r);
        } else if (alert) { /* failed flow records are dropped, not retried */
            backoff_fail(r);
            note_write_failed(r, false);
        }
    } else if (n_ok > 0 && alert) {
        redis_link_ok(r->link);
        note_write_ok(r);
    }
    return n_ok;
}

/* Whether a stop was asked for. */
static bool stopping(struct out_redis *r)
{
    pthread_mutex_lock(&r->mu);
    bool stop = r->stopping;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* Whether records may be written now (connected, not pausing). */
static bool can_write(const struct out_redis *r)
{
    return redis_link_ready(r->link);
}

/* Append to the spool, counting. Returns 0 or -1 (refused, counted). */
static int spool_put(struct out_redis *r, const char *data, size_t len)
{
    int rc = spool_append(r->spool, data, len);
    pthread_mutex_lock(&r->mu);
    if (rc == SPOOL_OK)
        r->st.spooled++;
    else if (rc == SPOOL_FULL)
        r->st.spool_refused++;
    else if (rc == SPOOL_NOSPACE)
        r->st.spool_disk_full++;
    else
        r->st.spool_write_errors++;
    pthread_mutex_unlock(&r->mu);
    return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ the cycle */

/* Read up to BATCH_MAX spooled records ahead into r->buf, decoded into
 * r->items (kind[] says how each decoded). Returns the number read, 0 when
 * the spool is empty, -1 on an error (recorded). */
static long replay_read(struct out_redis *r, int *kind)
{
    size_t n = 0, used = 0;
    spool_rewind(r->spool);
    while (n < BATCH_MAX) {
        long len = spool_read(r->spool, r->buf + used, r->cap - used);
        if (len == 0)
            break;
        if (len < 0) {
            char err[SPOOL_ERROR_LEN];
            spool_last_error(r->spool, err, sizeof(err));
            set_error(r, "spool", "cannot read a spooled record: %s", err);
            return -1;
        }
        if ((size_t)len > r->cap - used) {
            if (n > 0)
                break; /* in the next batch */
            char *nb = realloc(r->buf, (size_t)len);
            if (nb == NULL) {
                set_error(r, "spool", "out of memory for a %ld byte record", len);
                return -1;
            }
            r->buf = nb; /* nothing points into it yet */
            r->cap = (size_t)len;
            continue;
        }
        kind[n] = redis_record_decode(r->buf + used, (size_t)len, &r->items[n]);
        used += (size_t)len;
        n++;
    }
    return (long)n;
}

/* Replay up to max spooled alerts, oldest first, in pipelined batches as
 * live delivery does: read a batch ahead, send it, release the records
 * from the oldest up to the first Redis did not take (a record of an
 * unknown format is released and counted), then start again from the
 * first not released. Order is kept; at least once. */
static void replay_spool(struct out_redis *r, size_t max)
{
    int kind[BATCH_MAX], res[BATCH_MAX];
    struct redis_record send[BATCH_MAX];
    size_t done = 0;
    while (done < max && can_write(r) && !stopping(r)) {
        long n = replay_read(r, kind);
        if (n <= 0) {
            if (n < 0)
                backoff_fail(r);
            else
                replay_done(r);
            break;
        }
        replay_begins(r);
        size_t m = 0;
        for (long i = 0; i < n; i++)
            if (kind[i] != REDIS_RECORD_BAD)
                send[m++] = r->items[i];
        if (m > 0)
            (void)send_records(r, send, m, true, res);
        size_t k = 0, j = 0, delivered = 0, legacy = 0, bad = 0, refused = 0;
        for (; k < (size_t)n; k++) {
            if (kind[k] == REDIS_RECORD_BAD) {
                bad++;
            } else if (res[j] == SENT_OK) {
                delivered++;
                legacy += kind[k] == REDIS_RECORD_LEGACY;
                j++;
            } else if (res[j] == SENT_REFUSED) {
                refused++;
                j++;
            } else {
                break;
            }
            if (spool_ack(r->spool) < 0)
                set_error(r, "spool", "cannot release a delivered record (it may be sent twice)");
        }
        done += k;
        pthread_mutex_lock(&r->mu);
        r->st.delivered += delivered;
        r->st.legacy_records += legacy;
        r->st.spool_bad_records += bad;
        r->st.redis_refused += refused;
        pthread_cond_broadcast(&r->progress);
        pthread_mutex_unlock(&r->mu);
        if (k < (size_t)n)
            break; /* Redis did not take one: backoff started */
    }
    spool_rewind(r->spool);
}

/* Take up to BATCH_MAX alerts from the queue; send them when the spool is
 * empty and writes are allowed, else spool them behind what is there.
 * Returns the number taken. */
static size_t alert_batch(struct out_redis *r)
{
    struct rec *x[BATCH_MAX];
    int res[BATCH_MAX];
    size_t n = 0, sent = 0, refused = 0;

    /* Popped under spool_mu: a producer's overflow (out_redis_submit_alert())
     * spools the oldest queued alert, and must not land between the spool
     * check and the pop, nor between the pop and our appends. */
    pthread_mutex_lock(&r->spool_mu);
    pthread_mutex_lock(&r->mu);
    while (n < BATCH_MAX && (x[n] = ring_pop(&r->alerts)) != NULL)
        n++;
    r->inflight += n;
    pthread_mutex_unlock(&r->mu);
    bool direct = n > 0 && can_write(r) && spool_pending(r) == 0;
    if (direct)
        pthread_mutex_unlock(&r->spool_mu); /* no producer waits on Redis */
    for (size_t i = 0; i < n; i++)
        (void)redis_record_decode(x[i]->data, x[i]->len,
                                  &r->items[i]); /* encoded here: it decodes */
    if (direct) {
        sent = send_records(r, r->items, n, true, res);
        if (sent < n)
            pthread_mutex_lock(&r->spool_mu);
    }
    for (size_t i = 0; i < n; i++) {
        if (direct && res[i] == SENT_REFUSED)
            refused++;
        else if (!direct || res[i] == SENT_NOT)
            (void)spool_put(r, x[i]->data, x[i]->len);
        free(x[i]);
    }
    if (!direct || sent < n)
        pthread_mutex_unlock(&r->spool_mu);
    if (n == 0)
        return 0;
    pthread_mutex_lock(&r->mu);
    r->inflight -= n;
    r->st.delivered += sent;
    r->st.redis_refused += refused;
    pthread_cond_broadcast(&r->progress);
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Flow records: sent when writes are allowed, dropped (counted) on failure
 * or, when final, if they cannot be sent. */
static void flow_batches(struct out_redis *r, bool final)
{
    struct rec *x[BATCH_MAX];
    int res[BATCH_MAX];
    for (;;) {
        size_t n = 0, sent = 0;
        if (!final && !can_write(r))
            return;
        pthread_mutex_lock(&r->mu);
        while (n < BATCH_MAX && (x[n] = ring_pop(&r->flows)) != NULL)
            n++;
        pthread_mutex_unlock(&r->mu);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            r->items[i] = (struct redis_record){.json = x[i]->data, .json_len = x[i]->len};
        if (can_write(r))
            sent = send_records(r, r->items, n, false, res);
        for (size_t i = 0; i < n; i++)
            free(x[i]);
        pthread_mutex_lock(&r->mu);
        r->st.flows_sent += sent;
        r->st.flows_dropped += n - sent;
        pthread_mutex_unlock(&r->mu);
    }
}

/* Read the replies of n pipelined commands (stats, assets). Returns 0 when
 * all were OK, 1 after an error reply (recorded; the connection is closed
 * only when it cannot write any more, and alert writes do not pause), -1
 * when the connection broke (closed, backoff started). */
static int read_replies(struct out_redis *r, size_t n, const char *what)
{
    int rc = 0;
    bool reconnect = false;
    uint64_t deadline = redis_link_deadline(r->link);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = redis_link_reply(r->link, deadline);
        if (rep == NULL) {
            link_broken(r);
            return -1;
        }
        if (rep->type == REDIS_REPLY_ERROR && rc == 0) {
            set_error(r, redis_link_peer(r->link), "%s: %s", what, rep->str);
            reconnect = redis_link_error_kind(rep->str) == REDIS_ERR_RECONNECT;
            rc = 1;
        }
        freeReplyObject(rep);
    }
    if (reconnect)
        link_broken(r);
    return rc;
}

/* ------------------------------------------------------------ inventory */

/* Read, with one HMGET, what Redis holds for the hosts in [from, to)
 * without a baseline yet, and keep it as their baselines (an empty one
 * when Redis has none). Returns 0, or -1 (recorded; the link is closed
 * when broken). */
static int fetch_baselines(struct out_redis *r, struct asset_ent *from, struct asset_ent *to)
{
    const char *argv[2 + ASSETS_PER_HSET];
    size_t lens[2 + ASSETS_PER_HSET], n = 0;
    struct asset_ent *who[ASSETS_PER_HSET];
    argv[0] = "HMGET";
    lens[0] = 5;
    argv[1] = r->assets_key;
    lens[1] = strlen(r->assets_key);
    for (struct asset_ent *e = from; e != to && n < ASSETS_PER_HSET; e = e->next) {
        struct asset_ent **pp = asset_map_slot(&r->bases, e->host);
        if (pp != NULL && *pp != NULL)
            continue;
        who[n] = e;
        argv[2 + n] = e->host;
        lens[2 + n++] = strlen(e->host);
    }
    if (n == 0)
        return 0;
    if (redis_link_append(r->link, (int)(2 + n), argv, lens) < 0) {
        link_broken(r);
        return -1;
    }
    redisReply *rep = redis_link_reply(r->link, redis_link_deadline(r->link));
    if (rep == NULL) {
        link_broken(r);
        return -1;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        set_error(r, redis_link_peer(r->link), "assets: HMGET: %s",
                  rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        bool reconnect = rep->type == REDIS_REPLY_ERROR &&
                         redis_link_error_kind(rep->str) == REDIS_ERR_RECONNECT;
        freeReplyObject(rep);
        if (reconnect)
            link_broken(r);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *v = rep->element[i];
        size_t hl = strlen(who[i]->host);
        struct asset_ent *b = calloc(1, sizeof(*b) + hl + 1);
        if (b == NULL)
            break;
        memcpy(b->host, who[i]->host, hl + 1);
        if (v->type == REDIS_REPLY_STRING && (b->json = malloc(v->len + 1)) != NULL) {
            memcpy(b->json, v->str, v->len);
            b->json[v->len] = '\0';
            b->len = v->len;
        }
        if (asset_map_insert(&r->bases, b) < 0) /* too many hosts: written unmerged */
            asset_ent_free(b);
    }
    freeReplyObject(rep);
    return 0;
}

/* HSET <prefix>:assets:<sensor> host json ..., ASSETS_PER_HSET hosts per
 * command, each record merged with the host's baseline (read first when
 * the host is new to this run). What Redis did not take goes back unless a
 * newer record of the host arrived meanwhile. */
static void flush_assets(struct out_redis *r)
{
    const char *argv[2 + 2 * ASSETS_PER_HSET];
    size_t lens[2 + 2 * ASSETS_PER_HSET];
    char *merged[ASSETS_PER_HSET];
    struct asset_ent *list, *chunk;
    size_t written = 0;

    if (!can_write(r) || redis_link_now_ms() < r->assets_at)
        return;
    pthread_mutex_lock(&r->mu);
    list = r->assets.n ? asset_map_take_all(&r->assets) : NULL;
    pthread_mutex_unlock(&r->mu);

    while (list != NULL && can_write(r)) {
        int argc = 2;
        size_t nm = 0;
        argv[0] = "HSET";
        lens[0] = 4;
        argv[1] = r->assets_key;
        lens[1] = strlen(r->assets_key);
        chunk = list;
        struct asset_ent *end = list;
        for (size_t k = 0; end != NULL && k < ASSETS_PER_HSET; k++)
            end = end->next;
        int rc = fetch_baselines(r, chunk, end);
        for (struct asset_ent *e = chunk; rc == 0 && e != end; e = e->next) {
            struct asset_ent **pp = asset_map_slot(&r->bases, e->host);
            char *m =
                pp != NULL && *pp != NULL ? redis_assets_merge((*pp)->json, e->json, e->len) : NULL;
            merged[nm++] = m;
            argv[argc] = e->host;
            lens[argc++] = strlen(e->host);
            argv[argc] = m != NULL ? m : e->json;
            lens[argc++] = m != NULL ? strlen(m) : e->len;
        }
        list = end;
        if (rc == 0)
            rc = redis_link_append(r->link, argc, argv, lens) == 0 ? read_replies(r, 1, "assets")
                                                                   : -1;
        for (size_t k = 0; k < nm; k++)
            free(merged[k]);
        if (rc != 0) {
            if (rc < 0 && redis_link_up(r->link))
                link_broken(r);
            /* an error reply: try again with the next health record */
            r->assets_at = redis_link_now_ms() + (uint64_t)r->stats_interval_s * 1000u;
            list = chunk; /* this chunk and the rest go back */
            break;
        }
        for (struct asset_ent *e = chunk, *next; e != list; e = next) {
            next = e->next;
            asset_ent_free(e);
            written++;
        }
    }
    pthread_mutex_lock(&r->mu);
    r->st.assets_written += written;
    for (struct asset_ent *e = list, *next; e != NULL; e = next) {
        next = e->next;
        struct asset_ent **pp = asset_map_slot(&r->assets, e->host);
        if (pp != NULL && *pp != NULL) {
            asset_ent_free(e); /* a newer record is waiting */
        } else if (asset_map_insert(&r->assets, e) < 0) {
            asset_ent_free(e);
            r->st.assets_dropped++;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* HSET <prefix>:stats:<sensor> <health> <counters> state last_error updated,
 * and SET <prefix>:heartbeat:<sensor> <time> EX 3 x interval, pipelined; at
 * a clean stop (final), the heartbeat is "stopped <time>" without a TTL. */
static void write_stats(struct out_redis *r, bool final)
{
    static struct out_redis_health h; /* the output thread's alone */
    struct out_redis_stats st;
    char now[40], ex[16], lost[24], stopped[48];
    static char v[OUT_REDIS_HEALTH_MAX + OUT_REDIS_COUNTERS_MAX][24];
    static const char *argv[2 + 2 * (OUT_REDIS_HEALTH_MAX + OUT_REDIS_COUNTERS_MAX) + 8];
    int argc = 0, nv = 0;

    r->next_stats = redis_link_now_ms() + (uint64_t)r->stats_interval_s * 1000u;
    pthread_mutex_lock(&r->mu);
    h = r->health;
    pthread_mutex_unlock(&r->mu);
    snapshot(r, &st);
    iso_now(now, sizeof(now));

    argv[argc++] = "HSET";
    argv[argc++] = r->stats_key;
    /* the run's counters by their dotted names, then the output's own as
     * redis.NAME: the same names as --stats */
    for (size_t i = 0; i < h.n; i++) {
        snprintf(v[nv], sizeof(v[nv]), "%" PRIu64, h.value[i]);
        argv[argc++] = h.name[i];
        argv[argc++] = v[nv++];
    }
    for (size_t i = 0; i < out_redis_counters.n; i++) {
        const struct ctr_desc *d = &out_redis_counters.d[i];
        snprintf(v[nv], sizeof(v[nv]), "%" PRIu64, ctr_get(d, &st));
        argv[argc++] = d->name;
        argv[argc++] = v[nv++];
    }
    snprintf(lost, sizeof(lost), "%" PRIu64, out_redis_lost(&st));
    argv[argc++] = "redis.lost";
    argv[argc++] = lost;
    argv[argc++] = "redis.state";
    argv[argc++] = st.state;
    argv[argc++] = "redis.last_error";
    argv[argc++] = st.last_error;
    argv[argc++] = "updated";
    argv[argc++] = now;
    snprintf(ex, sizeof(ex), "%u", 3 * r->stats_interval_s);
    snprintf(stopped, sizeof(stopped), "stopped %s", now);
    const char *hb[] = {"SET", r->heartbeat_key, final ? stopped : now, "EX", ex};
    if (redis_link_append(r->link, argc, argv, NULL) < 0 ||
        redis_link_append(r->link, final ? 3 : 5, hb, NULL) < 0) {
        link_broken(r);
        return;
    }
    if (read_replies(r, 2, "stats") == 0)
        note_write_ok(r);
}

/* Whether the output thread has something to do now (under mu). */
static bool has_work(struct out_redis *r, uint64_t now)
{
    bool up = redis_link_up(r->link);
    bool writable = up && now >= redis_link_retry_at(r->link);
    if (r->alerts.n > 0)
        return true; /* sent or spooled */
    if (!up)
        return now >= redis_link_retry_at(r->link); /* time to reconnect */
    if (r->next_stats <= now)
        return true;
    return writable &&
           (r->flows.n > 0 || (r->assets.n > 0 && now >= r->assets_at) || spool_pending(r) > 0);
}

static void cycle(struct out_redis *r)
{
    if (!redis_link_up(r->link) && redis_link_now_ms() >= redis_link_retry_at(r->link))
        link_connect(r);
    replay_spool(r, REPLAY_CHUNK);
    for (int k = 0; k < 16 && !stopping(r) && alert_batch(r) > 0; k++)
        ;
    flow_batches(r, false);
    flush_assets(r);
    if (redis_link_up(r->link) && redis_link_now_ms() >= r->next_stats)
        write_stats(r, false);
    watch(r, false);
}

/* Before the thread ends, within the stop's grace (no wait of the link
 * lasts past r->stop_at, and out_redis_stop() aborts them all once it has
 * passed): the queue goes to Redis if it can, the spool otherwise; then
 * flows, assets and a last health record. No reconnect. */
static void final_flush(struct out_redis *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t stop_at = r->stop_at;
    pthread_mutex_unlock(&r->mu);
    redis_link_limit(r->link, stop_at);
    while (alert_batch(r) > 0)
        ;
    flow_batches(r, true);
    flush_assets(r);
    if (redis_link_up(r->link))
        write_stats(r, true);
    watch(r, true);
}

static void *thread_main(void *arg)
{
    struct out_redis *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        for (;;) {
            uint64_t now = redis_link_now_ms();
            if (r->draining)
                redis_link_retry_by(r->link, now + DRAIN_RETRY_MS);
            if (r->stopping || has_work(r, now))
                break;
            uint64_t until = now + FLUSH_MS, retry = redis_link_retry_at(r->link);
            if (retry > now && retry < until)
                until = retry;
            if (redis_link_up(r->link) && r->next_stats < until)
                until = r->next_stats;
            struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                                  .tv_nsec = (long)(until % 1000) * 1000000L};
            r->idle = true;
            pthread_cond_timedwait(&r->wake, &r->mu, &ts);
            r->idle = false;
            if (redis_link_now_ms() >= until)
                break; /* the one-second flush */
        }
        bool stop = r->stopping;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        cycle(r);
    }
    final_flush(r);
    redis_link_close(r->link);
    set_connected(r, 0);
    pthread_mutex_lock(&r->mu);
    r->finished = true;
    pthread_cond_broadcast(&r->progress);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ------------------------------------------------------------ public API */

static void out_redis_free(struct out_redis *r)
{
    if (r == NULL)
        return;
    ring_fini(&r->alerts);
    ring_fini(&r->flows);
    asset_map_fini(&r->assets);
    asset_map_fini(&r->bases);
    spool_close(r->spool);
    free(r->sentinels);
    free(r->master_name);
    free(r->sensor);
    free(r->stream);
    free(r->channel);
    free(r->flows_stream);
    free(r->stats_key);
    free(r->assets_key);
    free(r->heartbeat_key);
    free(r->spool_dir);
    free(r->buf);
    free(r->items);
    redis_link_free(r->link);
    if (r->abort_rd >= 0)
        close(r->abort_rd);
    if (r->abort_wr >= 0)
        close(r->abort_wr);
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->progress);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->spool_mu);
    free(r);
}

static char *key_join(const char *prefix, const char *kind, const char *sensor)
{
    size_t n = strlen(prefix) + strlen(kind) + strlen(sensor) + 3;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s:%s:%s", prefix, kind, sensor);
    return k;
}

const char *out_redis_target(const struct out_redis_config *cfg, struct redis_url *url,
                             char *errbuf, size_t errlen)
{
    if (redis_url_parse(cfg->url, url, errbuf, errlen) < 0)
        return "redis.url";
    const char *pw = NULL, *pw_from = NULL;
    if (url->password[0] && cfg->url_from_cli)
        pw = NULL; /* --redis's own */
    else if (cfg->password_env != NULL && cfg->password_env[0])
        pw = cfg->password_env, pw_from = OUT_REDIS_PASSWORD_ENV;
    else if (cfg->password != NULL && cfg->password[0])
        pw = cfg->password, pw_from = "the configured password";
    if (pw != NULL) {
        if (strlen(pw) >= sizeof(url->password)) {
            snprintf(errbuf, errlen, "%s: longer than %zu bytes", pw_from,
                     sizeof(url->password) - 1);
            return "redis.password";
        }
        snprintf(url->password, sizeof(url->password), "%s", pw);
    }
    if (url->user[0] && !url->password[0]) {
        snprintf(errbuf, errlen,
                 "redis URL: user \"%s\" needs a password: in the URL, %s, redis.password_file "
                 "or redis.password",
                 url->user, OUT_REDIS_PASSWORD_ENV);
        return "redis.url";
    }
    return NULL;
}

/* See output-redis.h. */
const char *out_redis_endpoints(const struct out_redis_config *cfg, struct redis_url *url,
                                struct redis_url *sentinels, char *errbuf, size_t errlen)
{
    char msg[600];
    const char *key = out_redis_target(cfg, url, errbuf, errlen);
    if (key != NULL)
        return key;
    if (cfg->n_sentinels > 0 && (cfg->master_name == NULL || !cfg->master_name[0])) {
        snprintf(errbuf, errlen, "Sentinel discovery needs a master name");
        return "redis.master_name";
    }
    for (size_t i = 0; i < cfg->n_sentinels; i++) {
        struct redis_url one, *s = sentinels != NULL ? &sentinels[i] : &one;
        const char *text = cfg->sentinels[i] ? cfg->sentinels[i] : "";
        memset(s, 0, sizeof(*s));
        if (redis_url_hostport(text, strlen(text), s->host, sizeof(s->host), &s->port, msg,
                               sizeof(msg)) < 0) {
            snprintf(errbuf, errlen, "sentinel \"%.64s\": %s", text, msg);
            return "redis.sentinels";
        }
    }
    return NULL;
}

/* out_redis_endpoints(), and a spool folder named. Returns NULL, or the
 * configuration key at fault with a message in errbuf. */
static const char *settle(const struct out_redis_config *cfg, struct redis_url *url,
                          struct redis_url *sentinels, char *errbuf, size_t errlen)
{
    const char *key = out_redis_endpoints(cfg, url, sentinels, errbuf, errlen);
    if (key != NULL)
        return key;
    if (cfg->spool_dir == NULL || !cfg->spool_dir[0]) {
        snprintf(errbuf, errlen, "the Redis output needs a spool directory");
        return "redis.spool_dir";
    }
    return NULL;
}

const char *out_redis_check(const struct out_redis_config *cfg, char *errbuf, size_t errlen)
{
    struct redis_url url;
    char msg[600];
    const char *key = settle(cfg, &url, NULL, errbuf, errlen);
    if (key == NULL && spool_check(cfg->spool_dir, msg, sizeof(msg)) < 0) {
        snprintf(errbuf, errlen, "cannot use the spool folder %s: %s", cfg->spool_dir, msg);
        key = "redis.spool_dir";
    }
    explicit_bzero(url.password, sizeof(url.password));
    return key;
}

/* Check cfg, copy what it points to (cfg may go away afterwards), open the
 * spool and start the output thread. Redis being down is not an error. On
 * failure returns NULL with "redis URL: ...", "sentinel ...: ..." or the
 * spool's message in errbuf; nothing is left running. Stop and free with
 * out_redis_stop(). */
struct out_redis *out_redis_start(const struct out_redis_config *cfg, char *errbuf, size_t errlen)
{
    struct out_redis *r = calloc(1, sizeof(*r));
    pthread_condattr_t ca;
    char msg[600];

    if (r == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    r->abort_rd = r->abort_wr = -1;
    pthread_mutex_init(&r->spool_mu, NULL);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_cond_init(&r->progress, &ca);
    pthread_condattr_destroy(&ca);

    if (cfg->n_sentinels > 0 &&
        (r->sentinels = calloc(cfg->n_sentinels, sizeof(*r->sentinels))) == NULL)
        goto oom;
    if (settle(cfg, &r->url, r->sentinels, errbuf, errlen) != NULL)
        goto fail;
    r->n_sentinels = cfg->n_sentinels;
    const char *prefix = cfg->key_prefix && cfg->key_prefix[0] ? cfg->key_prefix : "egress";
    const char *sensor = cfg->sensor && cfg->sensor[0] ? cfg->sensor : "sensor";
    r->master_name = xstrdup(cfg->master_name, "");
    r->sensor = xstrdup(sensor, "");
    r->stream = xstrdup(cfg->stream, "egress:alerts");
    r->channel = xstrdup(cfg->channel, "");
    r->flows_stream = xstrdup(cfg->flows_stream, "");
    r->stats_key = key_join(prefix, "stats", sensor);
    r->assets_key = key_join(prefix, "assets", sensor);
    r->heartbeat_key = key_join(prefix, "heartbeat", sensor);
    r->spool_dir = xstrdup(cfg->spool_dir, "");
    if (!r->master_name || !r->sensor || !r->stream || !r->channel || !r->flows_stream ||
        !r->stats_key || !r->assets_key || !r->heartbeat_key || !r->spool_dir)
        goto oom;
    r->quiet = cfg->quiet;
    r->tokens = LOG_BURST;
    r->tokens_at = redis_link_now_ms();
    r->state_since = r->tokens_at;
    if (cfg->maxlen > 0)
        snprintf(r->maxlen, sizeof(r->maxlen), "%" PRIu64, cfg->maxlen);
    r->stats_interval_s = cfg->stats_interval_s ? cfg->stats_interval_s : DEFAULT_STATS_S;
    uint32_t qsize = cfg->queue_size ? cfg->queue_size : DEFAULT_QUEUE_SIZE;
    if (ring_init(&r->alerts, qsize) < 0 || ring_init(&r->flows, qsize) < 0)
        goto oom;
    r->cap = REPLAY_BUF;
    r->buf = malloc(r->cap);
    r->items = calloc(BATCH_MAX, sizeof(*r->items));
    if (r->buf == NULL || r->items == NULL)
        goto oom;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(errbuf, errlen, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    r->abort_rd = pfd[0];
    r->abort_wr = pfd[1];
    struct redis_link_config lc = {
        .url = &r->url,
        .sentinels = r->sentinels,
        .n_sentinels = r->n_sentinels,
        .master_name = r->master_name,
        .connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : DEFAULT_CONNECT_MS,
        .command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : DEFAULT_COMMAND_MS,
        .abort_fd = r->abort_rd,
        .on_error = on_link_error,
        .ud = r,
    };
    r->link = redis_link_new(&lc);
    if (r->link == NULL)
        goto oom;

    r->spool = spool_open(cfg->spool_dir,
                          cfg->spool_max_bytes ? cfg->spool_max_bytes : DEFAULT_SPOOL_BYTES, msg,
                          sizeof(msg));
    if (r->spool == NULL) {
        snprintf(errbuf, errlen, "cannot use the spool folder %s (%s): %s", cfg->spool_dir,
                 cfg->spool_origin ? cfg->spool_origin : "redis.spool_dir", msg);
        goto fail;
    }

    /* The thread takes no signals: they stay with the main thread, and a
     * SIGPIPE from a dead socket is discarded by the link. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, thread_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot start the Redis output thread: %s", strerror(rc));
        goto fail;
    }
    r->thread_started = true;
    return r;
oom:
    snprintf(errbuf, errlen, "out of memory");
fail:
    out_redis_free(r);
    return NULL;
}

/* Queue one alert, encoded (see output-redis.h). When the queue is full,
 * the oldest queued alert moves to the spool (written from this thread) to
 * make room, so that the order of delivery stays the order of submission.
 * Never waits for Redis, only for one spool write when the queue is full.
 * Returns 0, or -1 when a record was refused (counted: by the spool, or
 * this alert for its fields or its size, or without memory for its copy).
 * The caller keeps fields and json. */
int out_redis_submit_alert(struct out_redis *r, const struct out_redis_field *fields, size_t n,
                           const char *json, size_t json_len)
{
    size_t need = 0;
    if (r == NULL)
        return -1;
    int sz = json == NULL ? -2 : redis_record_size(fields, n, json_len, &need);
    struct rec *x = sz == 0 ? malloc(sizeof(*x) + need) : NULL, *old = NULL;
    pthread_mutex_lock(&r->mu);
    r->st.submitted++;
    if (x == NULL) {
        if (sz == -2)
            r->st.refused_large++;
        else
            r->st.refused_other++;
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    pthread_mutex_unlock(&r->mu);
    x->len = need;
    redis_record_encode(x->data, fields, n, json, json_len);

    pthread_mutex_lock(&r->mu);
    if (ring_push(&r->alerts, x)) {
        if (r->idle)
            pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    pthread_mutex_unlock(&r->mu);

    /* The slow path: spool_mu first (see alert_batch()), then look again. */
    int rc = 0;
    pthread_mutex_lock(&r->spool_mu);
    pthread_mutex_lock(&r->mu);
    if (!ring_push(&r->alerts, x)) {
        old = ring_pop(&r->alerts);
        ring_push(&r->alerts, x);
    }
    if (r->idle)
        pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    if (old != NULL)
        rc = spool_put(r, old->data, old->len);
    pthread_mutex_unlock(&r->spool_mu);
    free(old);
    return rc;
}

/* Queue a copy of one flow record when a flows stream is configured. Never
 * fails from the caller's point of view: a record that does not fit is
 * dropped and counted (flows_dropped). The caller keeps json. */
void out_redis_submit_flow(struct out_redis *r, const char *json, size_t len)
{
    if (r == NULL || json == NULL || len == 0 || !r->flows_stream[0])
        return;
    struct rec *x = rec_new(json, len);
    pthread_mutex_lock(&r->mu);
    if (x != NULL && ring_push(&r->flows, x)) {
        x = NULL;
        if (r->idle)
            pthread_cond_signal(&r->wake);
    } else {
        r->st.flows_dropped++;
    }
    pthread_mutex_unlock(&r->mu);
    free(x);
}

/* Keep a copy of host's latest inventory record for the next flush,
 * replacing one still waiting. At most ASSETS_MAX_PENDING hosts wait; a new
 * host beyond that (or without memory) is dropped and counted
 * (assets_dropped) -- its next update gets another chance. The caller keeps
 * host and json. */
void out_redis_asset(struct out_redis *r, const char *host, const char *json, size_t len)
{
    if (r == NULL || host == NULL || json == NULL)
        return;
    size_t hlen = strlen(host);
    struct asset_ent *e = malloc(sizeof(*e) + hlen + 1);
    char *copy = malloc(len + 1);
    if (e == NULL || copy == NULL) {
        free(e);
        free(copy);
        pthread_mutex_lock(&r->mu);
        r->st.assets_dropped++;
        pthread_mutex_unlock(&r->mu);
        return;
    }
    memcpy(e->host, host, hlen + 1);
    memcpy(copy, json, len);
    copy[len] = '\0';
    e->json = copy;
    e->len = len;
    pthread_mutex_lock(&r->mu);
    struct asset_ent **pp = asset_map_slot(&r->assets, host);
    if (pp != NULL && *pp != NULL) {
        struct asset_ent *old = *pp;
        e->next = old->next;
        *pp = e;
        e = old; /* freed below */
    } else if (asset_map_insert(&r->assets, e) == 0) {
        e = NULL;
    } else {
        r->st.assets_dropped++;
    }
    pthread_mutex_unlock(&r->mu);
    asset_ent_free(e);
}

/* Copy the health numbers for the next stats record. Never fails. */
void out_redis_health(struct out_redis *r, const struct out_redis_health *h)
{
    if (r == NULL || h == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->health = *h;
    pthread_mutex_unlock(&r->mu);
}

static uint64_t undelivered_locked(struct out_redis *r)
{
    return r->alerts.n + r->inflight + spool_pending(r);
}

/* Wait up to timeout_ms until every alert handed in (and every one spooled
 * by an earlier run) is in Redis. While waiting, reconnects are tried at
 * least every DRAIN_RETRY_MS. A stop request ends the wait: when *cancel
 * is set at the call, the wait is at most OUT_REDIS_STOP_WAIT_MS; when it
 * becomes set during the wait, the wait ends (cancel may be NULL). Returns
 * the number still in the queue or the spool; 0 when all were delivered.
 * Never fails; NULL r returns 0. */
uint64_t out_redis_drain(struct out_redis *r, uint32_t timeout_ms, atomic_int *cancel)
{
    if (r == NULL)
        return 0;
    bool was = cancel != NULL && *cancel;
    if (was && timeout_ms > OUT_REDIS_STOP_WAIT_MS)
        timeout_ms = OUT_REDIS_STOP_WAIT_MS;
    uint64_t deadline = redis_link_now_ms() + timeout_ms, left;
    pthread_mutex_lock(&r->mu);
    r->draining = true;
    pthread_cond_signal(&r->wake);
    for (;;) {
        uint64_t now = redis_link_now_ms();
        left = undelivered_locked(r);
        if (left == 0 || now >= deadline || r->finished || (cancel && *cancel && !was))
            break;
        uint64_t until = now + 100 < deadline ? now + 100 : deadline;
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&r->progress, &r->mu, &ts);
    }
    r->draining = false;
    pthread_mutex_unlock(&r->mu);
    return left;
}

/* Stop the output thread: its last flush gets STOP_GRACE_MS, then every
 * wait of the link is aborted, and the thread puts what is left into the
 * spool. Returns once the thread has ended. */
static void stop_thread(struct out_redis *r)
{
    if (!r->thread_started)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    r->stop_at = redis_link_now_ms() + STOP_GRACE_MS;
    pthread_cond_signal(&r->wake);
    while (!r->finished) {
        uint64_t now = redis_link_now_ms();
        if (now >= r->stop_at) {
            ssize_t w = write(r->abort_wr, "x", 1); /* ends every wait of the link */
            (void)w;
            break;
        }
        struct timespec ts = {.tv_sec = (time_t)(r->stop_at / 1000),
                              .tv_nsec = (long)(r->stop_at % 1000) * 1000000L};
        pthread_cond_timedwait(&r->progress, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    r->thread_started = false;
}

/* See output-redis.h. */
uint64_t out_redis_finish(struct out_redis *r, uint32_t timeout_ms, atomic_int *cancel)
{
    struct out_redis_stats st;
    if (r == NULL)
        return 0;
    (void)out_redis_drain(r, timeout_ms, cancel);
    stop_thread(r);
    (void)spool_sync(r->spool);
    snapshot(r, &st);
    return st.queue_depth + st.spool_pending;
}

/* A snapshot of the counters, the queue and the spool into *out. Never
 * fails; NULL r gives zeros. */
void out_redis_stats(struct out_redis *r, struct out_redis_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (r != NULL)
        snapshot(r, out);
}

/* See output-redis.h. */
void out_redis_status(struct out_redis *r, char *buf, size_t len)
{
    struct out_redis_stats st;
    uint64_t since;
    if (len == 0)
        return;
    buf[0] = '\0';
    if (r == NULL)
        return;
    snapshot(r, &st);
    int state = get_state(r, &since);
    int n = snprintf(buf, len, "redis %s", st.state);
    if (state == ST_DOWN && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " for %llu s",
                      (unsigned long long)((redis_link_now_ms() - since) / 1000));
    if (n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ", %" PRIu64 " queued, %" PRIu64 " spooled",
                      st.queue_depth, st.spool_pending);
    if (out_redis_lost(&st) > 0 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", %" PRIu64 " LOST", out_redis_lost(&st));
}

/* See output-redis.h: the target without user name or password. */
void out_redis_describe(const struct out_redis *r, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (r == NULL)
        return;
    if (r->n_sentinels > 0)
        redis_url_describe_sentinels(buf, len, r->master_name, r->sentinels, r->n_sentinels);
    else
        redis_url_describe(&r->url, buf, len);
}

/* Stop the output thread (as out_redis_finish() with no wait, when it was
 * not called), sync and close the spool, and free everything. Call it
 * after the last producer call. NULL is a no-op. */
void out_redis_stop(struct out_redis *r)
{
    if (r == NULL)
        return;
    stop_thread(r);
    (void)spool_sync(r->spool);
    out_redis_free(r);
}
