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
#define BATCHES 8          /* per worker */
#define SYNC_EVERY 8192    /* frames between two syncs */
#define FRAG_TIMEOUT_S 30  /* as the pipelines' */
#define HASH_SEED 0x5eed0f10c0ffee11ull

enum { REC_PACKET, REC_DNS, REC_TICK };

/* One record in a batch, followed by caplen bytes of frame, padded to 8. */
struct rec {
    uint64_t order;
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wirelen;
    int32_t dlt;
    uint32_t kind;
};

struct batch {
    size_t len;    /* bytes of records */
    uint64_t upto; /* every record of this worker up to this order is in here or before */
    uint8_t data[BATCH_BYTES];
};

struct worker {
    struct workers *w;
    struct pipeline *pl;
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
    struct batch *cur;    /* being filled by the reader */
    _Atomic uint64_t done; /* every record up to this order is processed */
    _Atomic uint64_t packets, flows; /* for progress lines, after each batch */
    struct batch *pool;
};

struct workers {
    struct worker *ws;
    unsigned n;
    struct alert_sink *sink;
    struct frag_table *frags;
    struct decode_stats dec; /* scratch: the owning worker counts */
    uint64_t seq, clock_us, next_expire_us, last_order;
    uint64_t since_sync;
    uint64_t time_backwards;
};

static void *worker_main(void *arg);

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
    for (unsigned i = 0; i < n; i++) {
        struct worker *k = &w->ws[i];
        k->w = w;
        k->pl = pls[i];
        pthread_mutex_init(&k->mu, NULL);
        pthread_cond_init(&k->has_work, NULL);
        pthread_cond_init(&k->has_free, NULL);
    }
    for (unsigned i = 0; i < n; i++) {
        struct worker *k = &w->ws[i];
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

static void put(struct workers *w, struct worker *k, int kind, uint64_t order, int dlt,
                uint64_t ts_us, const uint8_t *frame, size_t caplen, size_t wirelen)
{
    if (caplen > BATCH_BYTES - sizeof(struct rec))
        caplen = BATCH_BYTES - sizeof(struct rec);
    size_t need = rec_size(caplen);
    if (k->cur->len + need > BATCH_BYTES)
        hand_over(w, k);
    struct rec *r = (struct rec *)(void *)(k->cur->data + k->cur->len);
    r->order = order;
    r->ts_us = ts_us;
    r->caplen = (uint32_t)caplen;
    r->wirelen = (uint32_t)wirelen;
    r->dlt = dlt;
    r->kind = (uint32_t)kind;
    if (caplen)
        memcpy(r + 1, frame, caplen);
    k->cur->len += need;
}

/* The worker of a frame: its flow's, or the first for what has no flow. */
static unsigned owner_of(struct workers *w, int dlt, const uint8_t *frame, size_t caplen,
                         uint64_t ts_us, int *dns)
{
    struct packet pkt;
    *dns = 0;
    if (w->n == 1 || decode_packet(dlt, frame, caplen, &pkt, &w->dec) < 0)
        return 0;
    if (pkt.frag == PKT_FRAG_FIRST)
        frag_note_first(w->frags, &pkt, ts_us);
    else if (pkt.frag == PKT_FRAG_LATER && frag_attribute(w->frags, &pkt, ts_us) < 0)
        return 0; /* an orphan: whoever gets it counts and drops it */
    *dns = pkt.l4proto == IPPROTO_UDP && pkt.sport == 53 && pkt.payload_len > 0 &&
           pkt.frag != PKT_FRAG_LATER;
    struct flow_key k;
    memcpy(k.src, pkt.src, 16);
    memcpy(k.dst, pkt.dst, 16);
    k.sport = pkt.sport;
    k.dport = pkt.dport;
    k.vlan = pkt.vlan;
    k.ipver = pkt.ipver;
    k.proto = pkt.l4proto;
    return flow_key_hash(&k, HASH_SEED) % w->n;
}

void workers_packet(struct workers *w, int dlt, uint64_t ts_us, const uint8_t *frame,
                    size_t caplen, size_t wirelen)
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
            put(w, &w->ws[i], REC_TICK, w->last_order, 0, ts_us, NULL, 0, 0);
        w->next_expire_us = ts_us + PIPELINE_EXPIRE_US;
    }
    int dns;
    unsigned o = owner_of(w, dlt, frame, caplen, ts_us, &dns);
    w->last_order = PIPELINE_ORDER(w->seq, 1);
    if (dns)
        for (unsigned i = 0; i < w->n; i++)
            if (i != o)
                put(w, &w->ws[i], REC_DNS, w->last_order, dlt, ts_us, frame, caplen, wirelen);
    put(w, &w->ws[o], REC_PACKET, w->last_order, dlt, ts_us, frame, caplen, wirelen);
    if (++w->since_sync >= SYNC_EVERY)
        workers_sync(w);
}

void workers_sync(struct workers *w)
{
    uint64_t horizon = UINT64_MAX;
    w->since_sync = 0;
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (k->cur->len > 0 || k->cur->upto != w->last_order)
            hand_over(w, k);
        uint64_t d = atomic_load_explicit(&k->done, memory_order_acquire);
        if (d < horizon)
            horizon = d;
    }
    if (w->sink != NULL && horizon > 0)
        alert_sink_release(w->sink, horizon + 1);
}

static void run_batch(struct worker *k, const struct batch *b)
{
    size_t off = 0;
    while (off < b->len) {
        const struct rec *r = (const struct rec *)(const void *)(b->data + off);
        const uint8_t *frame = (const uint8_t *)(r + 1);
        switch (r->kind) {
        case REC_PACKET:
            pipeline_packet_at(k->pl, r->order, r->dlt, r->ts_us, frame, r->caplen, r->wirelen);
            break;
        case REC_DNS:
            pipeline_dns_only(k->pl, r->dlt, r->ts_us, frame, r->caplen);
            break;
        default:
            pipeline_tick_at(k->pl, r->order, r->ts_us);
            break;
        }
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
        atomic_store_explicit(&k->flows, pipeline_flow_stats(k->pl)->created,
                              memory_order_relaxed);
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
    for (unsigned i = 0; i < w->n; i++) {
        struct worker *k = &w->ws[i];
        if (!k->started)
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
        *packets += atomic_load_explicit(&w->ws[i].packets, memory_order_relaxed);
        *flows += atomic_load_explicit(&w->ws[i].flows, memory_order_relaxed);
    }
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
