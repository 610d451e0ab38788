/* frag.c -- IP fragment attribution: a small bounded table keyed by
 * (addresses, protocol, identification), with one LRU list for expiry. */
#include "frag.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "decode.h"

struct frag_key {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t ipver, proto;
    uint8_t pad[2];
};

struct frag_ent {
    struct frag_key key;
    uint64_t last_us;
    uint32_t hnext, prev, next; /* index + 1, 0 = none */
    uint16_t sport, dport;
};

struct frag_table {
    struct frag_ent *ents;
    uint32_t *buckets;
    uint32_t nbuckets, max, used, free_head;
    uint32_t head, tail; /* LRU, oldest first */
    uint64_t timeout_us;
    struct frag_stats st;
};

struct frag_table *frag_table_new(uint32_t max, uint32_t timeout_s)
{
    struct frag_table *ft = calloc(1, sizeof(*ft));
    if (ft == NULL)
        return NULL;
    ft->max = max ? max : 1;
    ft->nbuckets = 64;
    while (ft->nbuckets < ft->max)
        ft->nbuckets <<= 1;
    ft->ents = calloc(ft->max, sizeof(*ft->ents));
    ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
    if (ft->ents == NULL || ft->buckets == NULL) {
        frag_table_free(ft);
        return NULL;
    }
    ft->timeout_us = (uint64_t)timeout_s * 1000000u;
    return ft;
}

void frag_table_free(struct frag_table *ft)
{
    if (ft == NULL)
        return;
    free(ft->ents);
    free(ft->buckets);
    free(ft);
}

static void make_key(const struct packet *pkt, struct frag_key *k)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->src, pkt->src, 16);
    memcpy(k->dst, pkt->dst, 16);
    k->id = pkt->frag_id;
    k->ipver = pkt->ipver;
    k->proto = pkt->l4proto;
}

static uint32_t bucket_of(const struct frag_table *ft, const struct frag_key *k)
{
    return (uint32_t)XXH3_64bits(k, sizeof(*k)) & (ft->nbuckets - 1);
}

static struct frag_ent *ent(struct frag_table *ft, uint32_t i1)
{
    return &ft->ents[i1 - 1];
}

static void lru_unlink(struct frag_table *ft, struct frag_ent *e)
{
    if (e->prev)
        ent(ft, e->prev)->next = e->next;
    else
        ft->head = e->next;
    if (e->next)
        ent(ft, e->next)->prev = e->prev;
    else
        ft->tail = e->prev;
    e->prev = e->next = 0;
}

static void lru_append(struct frag_table *ft, struct frag_ent *e)
{
    uint32_t i = (uint32_t)(e - ft->ents) + 1;
    e->next = 0;
    e->prev = ft->tail;
    if (ft->tail)
        ent(ft, ft->tail)->next = i;
    else
        ft->head = i;
    ft->tail = i;
}

static void remove_ent(struct frag_table *ft, struct frag_ent *e)
{
    uint32_t i = (uint32_t)(e - ft->ents) + 1;
    uint32_t *pp = &ft->buckets[bucket_of(ft, &e->key)];
    while (*pp && *pp != i)
        pp = &ent(ft, *pp)->hnext;
    if (*pp == i)
        *pp = e->hnext;
    lru_unlink(ft, e);
    memset(e, 0, sizeof(*e));
    e->hnext = ft->free_head;
    ft->free_head = i;
    ft->st.active--;
}

static void expire(struct frag_table *ft, uint64_t now_us)
{
    while (ft->head) {
        struct frag_ent *e = ent(ft, ft->head);
        if (e->last_us + ft->timeout_us > now_us)
            break;
        remove_ent(ft, e);
        ft->st.expired++;
    }
}

static struct frag_ent *find(struct frag_table *ft, const struct frag_key *k)
{
    for (uint32_t i = ft->buckets[bucket_of(ft, k)]; i; i = ent(ft, i)->hnext)
        if (memcmp(&ent(ft, i)->key, k, sizeof(*k)) == 0)
            return ent(ft, i);
    return NULL;
}

void frag_note_first(struct frag_table *ft, const struct packet *pkt, uint64_t now_us)
{
    struct frag_key k;
    make_key(pkt, &k);
    ft->st.first++;
    expire(ft, now_us);
    struct frag_ent *e = find(ft, &k);
    if (e == NULL) {
        if (ft->free_head) {
            e = ent(ft, ft->free_head);
            ft->free_head = e->hnext;
        } else if (ft->used < ft->max) {
            e = &ft->ents[ft->used++];
        } else {
            remove_ent(ft, ent(ft, ft->head));
            ft->st.evicted++;
            e = ent(ft, ft->free_head);
            ft->free_head = e->hnext;
        }
        memset(e, 0, sizeof(*e));
        e->key = k;
        uint32_t b = bucket_of(ft, &k);
        e->hnext = ft->buckets[b];
        ft->buckets[b] = (uint32_t)(e - ft->ents) + 1;
        ft->st.active++;
    } else {
        lru_unlink(ft, e);
    }
    e->sport = pkt->sport;
    e->dport = pkt->dport;
    e->last_us = now_us;
    lru_append(ft, e);
}

int frag_attribute(struct frag_table *ft, struct packet *pkt, uint64_t now_us)
{
    struct frag_key k;
    make_key(pkt, &k);
    ft->st.later++;
    expire(ft, now_us);
    struct frag_ent *e = find(ft, &k);
    if (e == NULL) {
        ft->st.orphans++;
        return -1;
    }
    pkt->sport = e->sport;
    pkt->dport = e->dport;
    e->last_us = now_us;
    lru_unlink(ft, e);
    lru_append(ft, e);
    ft->st.matched++;
    return 0;
}

const struct frag_stats *frag_table_stats(const struct frag_table *ft)
{
    return &ft->st;
}
