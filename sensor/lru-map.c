/* lru-map.c -- bounded hash map, fixed-size entries, LRU eviction.
 *
 * Entries live in one array: a header (chain link, LRU links) followed by
 * the key and the value, each rounded up to 8 bytes. Buckets and links hold
 * entry index + 1, so 0 means none. Keys are hashed with a random seed: they
 * may come off the wire, and an outsider must not be able to pile them into
 * one bucket. */
#include "lru-map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <xxhash.h>

struct ent_hdr {
    uint32_t hnext, prev, next;
    uint32_t hash;
};

struct lru_map {
    uint8_t *ents;
    size_t ent_size, key_len, val_len, key_off, val_off;
    uint32_t *buckets;
    uint32_t nbuckets, max, used, count, free_head;
    uint32_t head, tail; /* least / most recently used */
    uint64_t seed;       /* random: keys may come off the wire */
};

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

struct lru_map *lru_map_new(uint32_t max, size_t key_len, size_t val_len)
{
    if (max == 0 || key_len == 0)
        return NULL;
    struct lru_map *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->key_len = key_len;
    m->val_len = val_len;
    m->key_off = round8(sizeof(struct ent_hdr));
    m->val_off = m->key_off + round8(key_len);
    m->ent_size = m->val_off + round8(val_len);
    m->max = max;
    m->nbuckets = 16;
    while (m->nbuckets < max && m->nbuckets < (1u << 31))
        m->nbuckets <<= 1;
    if (getrandom(&m->seed, sizeof(m->seed), 0) != (ssize_t)sizeof(m->seed))
        m->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)m;
    m->ents = calloc(max, m->ent_size);
    m->buckets = calloc(m->nbuckets, sizeof(uint32_t));
    if (m->ents == NULL || m->buckets == NULL) {
        lru_map_free(m);
        return NULL;
    }
    return m;
}

void lru_map_free(struct lru_map *m)
{
    if (m == NULL)
        return;
    free(m->ents);
    free(m->buckets);
    free(m);
}

static struct ent_hdr *ent(const struct lru_map *m, uint32_t i1)
{
    return (struct ent_hdr *)(void *)(m->ents + (size_t)(i1 - 1) * m->ent_size);
}

static uint8_t *key_of(const struct lru_map *m, struct ent_hdr *e)
{
    return (uint8_t *)e + m->key_off;
}

static uint8_t *val_of(const struct lru_map *m, struct ent_hdr *e)
{
    return (uint8_t *)e + m->val_off;
}

static uint32_t idx(const struct lru_map *m, const struct ent_hdr *e)
{
    return (uint32_t)(((const uint8_t *)e - m->ents) / m->ent_size) + 1;
}

static void unlink_lru(struct lru_map *m, struct ent_hdr *e)
{
    if (e->prev)
        ent(m, e->prev)->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        ent(m, e->next)->prev = e->prev;
    else
        m->tail = e->prev;
    e->prev = e->next = 0;
}

static void append_lru(struct lru_map *m, struct ent_hdr *e)
{
    uint32_t i = idx(m, e);
    e->next = 0;
    e->prev = m->tail;
    if (m->tail)
        ent(m, m->tail)->next = i;
    else
        m->head = i;
    m->tail = i;
}

static struct ent_hdr *find(const struct lru_map *m, const void *key, uint32_t h)
{
    for (uint32_t i = m->buckets[h & (m->nbuckets - 1)]; i; i = ent(m, i)->hnext) {
        struct ent_hdr *e = ent(m, i);
        if (e->hash == h && memcmp(key_of(m, e), key, m->key_len) == 0)
            return e;
    }
    return NULL;
}

static void remove_ent(struct lru_map *m, struct ent_hdr *e)
{
    uint32_t i = idx(m, e);
    uint32_t *pp = &m->buckets[e->hash & (m->nbuckets - 1)];
    while (*pp && *pp != i)
        pp = &ent(m, *pp)->hnext;
    if (*pp == i)
        *pp = e->hnext;
    unlink_lru(m, e);
    memset(e, 0, m->ent_size);
    e->hnext = m->free_head;
    m->free_head = i;
    m->count--;
}

void *lru_map_get(struct lru_map *m, const void *key)
{
    struct ent_hdr *e = find(m, key, (uint32_t)XXH3_64bits_withSeed(key, m->key_len, m->seed));
    if (e == NULL)
        return NULL;
    unlink_lru(m, e);
    append_lru(m, e);
    return val_of(m, e);
}

void *lru_map_put(struct lru_map *m, const void *key, bool *created, bool *evicted)
{
    uint32_t h = (uint32_t)XXH3_64bits_withSeed(key, m->key_len, m->seed);
    struct ent_hdr *e = find(m, key, h);
    *created = *evicted = false;
    if (e != NULL) {
        unlink_lru(m, e);
        append_lru(m, e);
        return val_of(m, e);
    }
    if (m->free_head == 0 && m->used == m->max) {
        remove_ent(m, ent(m, m->head));
        *evicted = true;
    }
    if (m->free_head) {
        e = ent(m, m->free_head);
        m->free_head = e->hnext;
    } else {
        e = ent(m, ++m->used);
    }
    memset(e, 0, m->ent_size);
    e->hash = h;
    memcpy(key_of(m, e), key, m->key_len);
    uint32_t *b = &m->buckets[h & (m->nbuckets - 1)];
    e->hnext = *b;
    *b = idx(m, e);
    append_lru(m, e);
    m->count++;
    *created = true;
    return val_of(m, e);
}

void *lru_map_oldest(struct lru_map *m, const void **key)
{
    if (m->head == 0)
        return NULL;
    struct ent_hdr *e = ent(m, m->head);
    if (key)
        *key = key_of(m, e);
    return val_of(m, e);
}

int lru_map_del(struct lru_map *m, const void *key)
{
    struct ent_hdr *e = find(m, key, (uint32_t)XXH3_64bits_withSeed(key, m->key_len, m->seed));
    if (e == NULL)
        return 0;
    remove_ent(m, e);
    return 1;
}

uint32_t lru_map_count(const struct lru_map *m)
{
    return m->count;
}

void lru_map_foreach(struct lru_map *m, lru_map_visit_cb cb, void *ud)
{
    for (uint32_t i = m->head; i; i = ent(m, i)->next) {
        struct ent_hdr *e = ent(m, i);
        cb(key_of(m, e), val_of(m, e), ud);
    }
}

void lru_map_clear(struct lru_map *m)
{
    memset(m->buckets, 0, m->nbuckets * sizeof(uint32_t));
    m->used = m->count = m->free_head = 0;
    m->head = m->tail = 0;
}
