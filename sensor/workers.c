/* workers.c -- the offline dispatcher and its worker threads.
 *
 * Per frame, the reading thread decodes the headers (to find the flow),
 * hashes the flow key and copies the frame into the owning worker's
 * current batch. A batch is a few hundred KiB of records; a full batch is
 * queued to its worker under a mutex, so the lock is taken once per
 * thousand frames or so, and each worker has a fixed pool of batches: the
 * memory is bounded and a slow worker stalls the reader instead of losing
 * frames. */
#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "alerts.h"
#include "decode.h"
#include "flow.h"
#include "frag.h"
#include "pipeline.h"

#define BATCH_BYTES (512u * 1024u)
#define BATCHES 8       /* per worker */
#define SYNC_EVERY 8192 /* frames between two syncs */
#define HASH_SEED 0x5eed0f10c0ffee11ull
#define SLOTS WORKERS_SLOTS /* hash slots shared out among the workers */
/* Reading and dispatching cost about this share of what analysing every
 * packet costs (the benchmark capture: read, decode, hash, copy against
 * flow lookup, nDPI, detection, records), so the reading thread analyses
 * that much less than a worker thread. Set where, with 2 workers, the two
 * threads' CPU time came out even (0.20 left the reader the busier, 0.28
 * the worker). */
#define READ_COST 0.24

enum { REC_PACKET, REC_DNS, REC_TICK, REC_RESTART };

/* One record in a batch, followed by caplen bytes of frame, padded to 8.
 * The reader has decoded the frame: pkt is its result, with the two
 * pointers into the frame kept as offsets (the worker points them into
 * its copy). */
struct rec {
    uint64_t order;
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wirelen;
    uint32_t kind;
    uint32_t ip;                  /* 1: pkt holds the decoded packet; 0: not IP or malformed */
    uint32_t l3_off, payload_off; /* + 1; 0 for NULL */
    struct packet pkt;
};

struct batch {
    size_t len;    /* bytes of records */
    uint64_t upto; /* every record of this worker up to this order is in here or before */
    uint8_t data[BATCH_BYTES];
};

struct worker {
    struct workers *w;
    struct pipeline *pl;
    bool inline_; /* run by the reading thread itself: no thread, no batches */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t has_work; /* to the worker */
    pthread_cond_t has_free; /* to the reader */
    struct batch *queue[BATCHES];
    unsigned qhead, qlen;
    struct batch *free[BATCHES];
    unsigned nfree;
    bool eof;
    struct batch *cur;               /* being filled by the reader */
    _Atomic uint64_t done;           /* every record up to this order is processed */
    _Atomic uint64_t packets, flows; /* for progress lines, after each batch */
    _Atomic uint64_t restart_failures;
    struct batch *pool;
};

struct workers {
    struct worker *ws;
    unsigned n;
    uint8_t owner[SLOTS]; /* hash slot -> worker */
    struct alert_sink *sink;
    struct frag_table *frags;
    struct decode_stats dec; /* every frame is decoded once, here */
    uint64_t seq, clock_us, next_expire_us, last_order;
    uint64_t since_sync;
    uint64_t time_backwards;
};

static void *worker_main(void *arg);

/* Share the hash slots out: worker 0 is run by the reading thread, which
 * also reads and dispatches every frame, so it takes fewer flows, and the
 * rest go evenly to the others; with many workers the reading thread
 * takes none. The same n always gives the same table. */
static void share_slots(uint8_t owner[SLOTS], unsigned n)
{
    double first = n > 1 ? (1.0 - READ_COST * (double)(n - 1)) / (double)n : 1.0;
    if (first < 0)
        first = 0;
    unsigned own = (unsigned)(first * SLOTS + 0.5), rest = SLOTS - own;
    for (unsigned s = 0; s < SLOTS; s++)
        owner[s] = (uint8_t)(s < own || n == 1 ? 0 : 1 + (s - own) * (n - 1) / rest);
}

static size_t rec_size(size_t caplen)
{
    return (sizeof(struct rec) + caplen + 7u) & ~(size_t)7u;
}

struct workers *workers_start(struct pipeline *const *pls, unsigned n, struct alert_sink *sink,
                              uint32_t max_fragments, char *errbuf, size_t errlen)
{
    if (n == 0 || n > WORKERS_MAX) {
        snprintf(errbuf, errlen, "between 1 and %d workers", WORKERS_MAX);
        return NULL;
    }
    struct workers *w = calloc(1, sizeof(*w));
    if (w == NULL || (w->ws = calloc(n, sizeof(*w->ws))) == NULL ||
        (w->frags = frag_table_new(max_fragments, FRAG_TIMEOUT_S)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        if (w != NULL)
            free(w->ws);
        free(w);
        return NULL;
    }
    w->n = n;
    w->sink = sink;
    share_slots(w->owner, n);
    for (unsigned i = 0; i < n; i++) {
        struct worker *k = &w->ws[i];
        k->w = w;
        k->pl = pls[i];
        k->inline_ = i == 0;
        pthread_mutex_init(&k->mu, NULL);
        pthread_cond_init(&k->has_work, NULL);
        pthread_cond_init(&k->has_free, NULL);
    }
    for (unsigned i = 0; i < n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_)
            continue;
        k->pool = malloc(BATCHES * sizeof(struct batch));
        if (k->pool == NULL) {
            snprintf(errbuf, errlen, "out of memory for %u capture batches", BATCHES);
            goto fail;
        }
        for (unsigned b = 0; b < BATCHES; b++)
            k->free[k->nfree++] = &k->pool[b];
        k->cur = k->free[--k->nfree];
        k->cur->len = 0;
        k->cur->upto = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_)
            continue;
        int e = pthread_create(&k->thread, NULL, worker_main, k);
        if (e != 0) {
            snprintf(errbuf, errlen, "cannot start worker %u: %s", i + 1, strerror(e));
            goto fail;
        }
        k->started = true;
    }
    return w;

fail:
    workers_finish(w);
    workers_free(w);
    return NULL;
}

/* Worker k's pipeline starts afresh (workers_restart()). nDPI failing to
 * start again is counted (the old module goes on). */
static void restart(struct worker *k, uint64_t order)
{
    char err[256];
    if (pipeline_restart(k->pl, order, err, sizeof(err)) < 0)
        atomic_fetch_add_explicit(&k->restart_failures, 1, memory_order_relaxed);
}

/* Queue k's current batch to it and take a fresh one (waiting for one). */
static void hand_over(struct workers *w, struct worker *k)
{
    struct batch *b = k->cur;
    b->upto = w->last_order;
    pthread_mutex_lock(&k->mu);
    k->queue[(k->qhead + k->qlen) % BATCHES] = b;
    k->qlen++;
    pthread_cond_signal(&k->has_work);
    while (k->nfree == 0)
        pthread_cond_wait(&k->has_free, &k->mu);
    k->cur = k->free[--k->nfree];
    pthread_mutex_unlock(&k->mu);
    k->cur->len = 0;
    k->cur->upto = 0;
}

/* Hand worker k a record: run it now when k is the reading thread's own,
 * else copy it into k's batch. pkt: the decoded frame, or NULL. */
static void put(struct workers *w, struct worker *k, int kind, uint64_t order, uint64_t ts_us,
                const uint8_t *frame, size_t caplen, size_t wirelen, const struct packet *pkt)
{
    if (k->inline_) {
        struct packet copy; /* the worker may fill a fragment's ports */
        if (pkt != NULL)
            copy = *pkt;
        if (kind == REC_PACKET)
            pipeline_packet_at(k->pl, order, ts_us, pkt ? &copy : NULL, wirelen);
        else if (kind == REC_DNS)
            pipeline_dns_only(k->pl, ts_us, pkt);
        else if (kind == REC_RESTART)
            restart(k, order);
        else
            pipeline_tick_at(k->pl, order, ts_us);
        return;
    }
    /* a frame too large for a batch cannot have been decoded whole; one
     * that is not IP is only counted: its bytes are not needed */
    if (caplen > BATCH_BYTES - sizeof(struct rec))
        pkt = NULL;
    if (pkt == NULL)
        caplen = 0;
    size_t need = rec_size(caplen);
    if (k->cur->len + need > BATCH_BYTES)
        hand_over(w, k);
    struct rec *r = (struct rec *)(void *)(k->cur->data + k->cur->len);
    r->order = order;
    r->ts_us = ts_us;
    r->caplen = (uint32_t)caplen;
    r->wirelen = (uint32_t)wirelen;
    r->kind = (uint32_t)kind;
    r->ip = pkt != NULL;
    if (pkt != NULL) {
        r->pkt = *pkt;
        r->l3_off = pkt->l3 ? (uint32_t)(pkt->l3 - frame) + 1u : 0;
        r->payload_off = pkt->payload ? (uint32_t)(pkt->payload - frame) + 1u : 0;
        memcpy(r + 1, frame, caplen);
    }
    k->cur->len += need;
}

/* The worker of a decoded frame: its flow's, or the first for an orphan
 * fragment. */
static unsigned owner_of(struct workers *w, const struct packet *pkt, uint64_t ts_us, int *dns)
{
    struct packet later; /* ports filled in; the worker attributes on its own */
    *dns = 0;
    if (pkt->frag == PKT_FRAG_FIRST) {
        frag_note_first(w->frags, pkt, ts_us);
    } else if (pkt->frag == PKT_FRAG_LATER) {
        later = *pkt;
        if (frag_attribute(w->frags, &later, ts_us) < 0)
            return 0; /* an orphan: whoever gets it counts and drops it */
        pkt = &later;
    }
    *dns = pkt->l4proto == IPPROTO_UDP && pkt->sport == 53 && pkt->payload_len > 0 &&
           pkt->frag != PKT_FRAG_LATER;
    struct flow_key k;
    flow_key_from_packet(&k, pkt);
    return w->owner[flow_key_hash(&k, HASH_SEED) % SLOTS];
}

void workers_packet(struct workers *w, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                    size_t wirelen)
{
    /* the clock: as a single pipeline keeps it (pipeline_packet()) */
    if (ts_us < w->clock_us) {
        w->time_backwards++;
        ts_us = w->clock_us;
    }
    w->clock_us = ts_us;
    w->seq++;
    if (ts_us >= w->next_expire_us) {
        w->last_order = PIPELINE_ORDER(w->seq, 0);
        for (unsigned i = 0; i < w->n; i++)
            put(w, &w->ws[i], REC_TICK, w->last_order, ts_us, NULL, 0, 0, NULL);
        w->next_expire_us = ts_us + PIPELINE_EXPIRE_US;
    }
    struct packet pkt;
    int dns = 0;
    int ip = decode_packet(dlt, frame, caplen, &pkt, &w->dec) == 0;
    unsigned o = ip ? owner_of(w, &pkt, ts_us, &dns) : 0;
    w->last_order = PIPELINE_ORDER(w->seq, 1);
    if (dns)
        for (unsigned i = 0; i < w->n; i++)
            if (i != o)
                put(w, &w->ws[i], REC_DNS, w->last_order, ts_us, frame, caplen, wirelen, &pkt);
    put(w, &w->ws[o], REC_PACKET, w->last_order, ts_us, frame, caplen, wirelen, ip ? &pkt : NULL);
    if (++w->since_sync >= SYNC_EVERY)
        workers_sync(w);
}

uint64_t workers_restart(struct workers *w)
{
    /* the position just before the next frame, as an expiry pass's */
    w->last_order = PIPELINE_ORDER(w->seq + 1u, 0);
    for (unsigned i = 0; i < w->n; i++)
        put(w, &w->ws[i], REC_RESTART, w->last_order, 0, NULL, 0, 0, NULL);
    frag_table_clear(w->frags);
    w->clock_us = 0;
    w->next_expire_us = 0;
    return w->last_order;
}

uint64_t workers_restart_failures(struct workers *w)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < w->n; i++)
        n += atomic_load_explicit(&w->ws[i].restart_failures, memory_order_relaxed);
    return n;
}

void workers_sync(struct workers *w)
{
    uint64_t horizon = UINT64_MAX;
    w->since_sync = 0;
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_)
            continue; /* done up to last_order */
        if (k->cur->len > 0 || k->cur->upto != w->last_order)
            hand_over(w, k);
        uint64_t d = atomic_load_explicit(&k->done, memory_order_acquire);
        if (d < horizon)
            horizon = d;
    }
    if (horizon == UINT64_MAX)
        horizon = w->last_order;
    if (w->sink != NULL && horizon > 0)
        alert_sink_release(w->sink, horizon + 1);
}

static void run_batch(struct worker *k, const struct batch *b)
{
    size_t off = 0;
    while (off < b->len) {
        const struct rec *r = (const struct rec *)(const void *)(b->data + off);
        const uint8_t *frame = (const uint8_t *)(r + 1);
        struct packet pkt;
        if (r->ip) {
            pkt = r->pkt;
            pkt.l3 = r->l3_off ? frame + r->l3_off - 1 : NULL;
            pkt.payload = r->payload_off ? frame + r->payload_off - 1 : NULL;
        }
        if (r->kind == REC_PACKET)
            pipeline_packet_at(k->pl, r->order, r->ts_us, r->ip ? &pkt : NULL, r->wirelen);
        else if (r->kind == REC_DNS && r->ip)
            pipeline_dns_only(k->pl, r->ts_us, &pkt);
        else if (r->kind == REC_RESTART)
            restart(k, r->order);
        else if (r->kind == REC_TICK)
            pipeline_tick_at(k->pl, r->order, r->ts_us);
        off += rec_size(r->caplen);
    }
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    for (;;) {
        pthread_mutex_lock(&k->mu);
        while (k->qlen == 0 && !k->eof)
            pthread_cond_wait(&k->has_work, &k->mu);
        if (k->qlen == 0) { /* eof and nothing left */
            pthread_mutex_unlock(&k->mu);
            break;
        }
        struct batch *b = k->queue[k->qhead];
        k->qhead = (k->qhead + 1) % BATCHES;
        k->qlen--;
        pthread_mutex_unlock(&k->mu);

        run_batch(k, b);
        atomic_store_explicit(&k->packets, pipeline_stats(k->pl)->packets, memory_order_relaxed);
        atomic_store_explicit(&k->flows, pipeline_flow_stats(k->pl)->created, memory_order_relaxed);
        atomic_store_explicit(&k->done, b->upto, memory_order_release);

        pthread_mutex_lock(&k->mu);
        k->free[k->nfree++] = b;
        pthread_cond_signal(&k->has_free);
        pthread_mutex_unlock(&k->mu);
    }
    pipeline_flush(k->pl);
    return NULL;
}

void workers_finish(struct workers *w)
{
    if (w == NULL)
        return;
    /* the threads first, so that they finish while this one flushes */
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_ || !k->started)
            continue;
        if (k->cur != NULL && k->cur->len > 0)
            hand_over(w, k);
        pthread_mutex_lock(&k->mu);
        k->eof = true;
        pthread_cond_signal(&k->has_work);
        pthread_mutex_unlock(&k->mu);
    }
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_ && k->pl != NULL) {
            pipeline_flush(k->pl);
            k->pl = NULL; /* once */
        }
    }
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->started)
            pthread_join(k->thread, NULL);
        k->started = false;
    }
    if (w->sink != NULL)
        alert_sink_release(w->sink, UINT64_MAX);
}

void workers_progress(struct workers *w, uint64_t *packets, uint64_t *flows)
{
    *packets = *flows = 0;
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->inline_ && k->pl != NULL) { /* this thread's own */
            *packets += pipeline_stats(k->pl)->packets;
            *flows += pipeline_flow_stats(k->pl)->created;
            continue;
        }
        *packets += atomic_load_explicit(&k->packets, memory_order_relaxed);
        *flows += atomic_load_explicit(&k->flows, memory_order_relaxed);
    }
}

unsigned workers_slots(unsigned n, unsigned i)
{
    uint8_t owner[SLOTS];
    unsigned k = 0;
    if (n == 0 || n > WORKERS_MAX)
        return 0;
    share_slots(owner, n);
    for (unsigned s = 0; s < SLOTS; s++)
        k += owner[s] == i;
    return k;
}

const struct decode_stats *workers_decode_stats(const struct workers *w)
{
    return &w->dec;
}

uint64_t workers_time_backwards(const struct workers *w)
{
    return w->time_backwards;
}

void workers_free(struct workers *w)
{
    if (w == NULL)
        return;
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        free(k->pool);
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->has_work);
        pthread_cond_destroy(&k->has_free);
    }
    frag_table_free(w->frags);
    free(w->ws);
    free(w);
}
