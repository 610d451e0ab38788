/* dns-cache.c -- (client, address) -> name, kept for the answer's TTL, in a
 * pool sized once.
 *
 * Layout: `ent` is a pool of max entries reserved at creation (calloc, so
 * the kernel maps pages only as entries are used); nothing is allocated
 * after dns_cache_new(). Lookup: `buckets` is a power-of-two array of chain
 * heads, hashed with XXH3 and a random seed over (client af + address,
 * address af + address) so an outsider cannot choose colliding keys;
 * chains and the free list hold entry index + 1 so that 0 means "none".
 * Expiry: `heap` is a binary min-heap of entry indexes ordered by expiry
 * time, and each entry knows its position in it. Its root is both the next
 * entry to expire and, when the pool is full, the one replaced: the exact
 * soonest-to-expire entry, found in O(1) and removed in O(log max). No
 * operation scans the table.
 *
 * Expired entries are freed lazily: by dns_cache_get() when it meets one,
 * and by dns_cache_put(), which first pops at most DNS_CACHE_REAP expired
 * roots off the heap. stats.entries therefore counts entries not yet
 * reaped as well. */
#include "dns-cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <xxhash.h>

#define DNS_CACHE_REAP 8 /* expired entries a put may free besides its own */
#define NAME_LEN_MAX 255

struct entry {
    uint8_t client[16]; /* network order; IPv4 in the first 4 bytes, rest 0 */
    uint8_t addr[16];   /* same */
    uint64_t expire_us; /* packet time after which the entry is gone */
    uint32_t hash;      /* bucket hash, kept for unlinking */
    uint32_t hnext;     /* bucket chain or free list, index + 1 */
    uint32_t heap_pos;  /* position in c->heap */
    uint8_t client_af;  /* 4 or 6 */
    uint8_t addr_af;    /* 4 or 6 */
    char name[NAME_LEN_MAX + 1];
};

struct dns_cache {
    struct entry *ent;
    uint32_t *buckets;
    uint32_t *heap;    /* entry indexes; c->st.entries of them are live */
    uint32_t nbuckets; /* power of two */
    uint32_t max;
    uint32_t free_head;   /* freed entries, through hnext, index + 1 */
    uint32_t next_unused; /* entries never used yet start here */
    uint32_t min_ttl, max_ttl;
    uint64_t seed;
    struct dns_cache_stats st;
};

/* The hashed and compared part of an entry. */
struct key {
    uint8_t client[16];
    uint8_t addr[16];
    uint8_t client_af, addr_af;
};

/* Create a cache of at most max entries; all its memory is taken here.
 * max 0 gives a cache that stores nothing. A max_ttl below min_ttl is
 * raised to min_ttl. Free with dns_cache_free(). Returns NULL when an
 * allocation fails, with nothing left allocated. */
struct dns_cache *dns_cache_new(uint32_t max, uint32_t min_ttl, uint32_t max_ttl)
{
    struct dns_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->max = max;
    c->min_ttl = min_ttl;
    c->max_ttl = max_ttl < min_ttl ? min_ttl : max_ttl; /* the floor wins */
    uint32_t nb = 16;
    while (nb < max && nb < (1u << 31))
        nb <<= 1;
    c->nbuckets = nb;
    c->ent = calloc(max ? max : 1, sizeof(*c->ent));
    c->heap = calloc(max ? max : 1, sizeof(*c->heap));
    c->buckets = calloc(nb, sizeof(*c->buckets));
    if (c->ent == NULL || c->heap == NULL || c->buckets == NULL)
        goto fail;
    if (getrandom(&c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed))
        c->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
    return c;

fail:
    dns_cache_free(c);
    return NULL;
}

/* Free the cache and every name in it; pointers from dns_cache_get() die
 * with it. NULL is a no-op. */
void dns_cache_free(struct dns_cache *c)
{
    if (c == NULL)
        return;
    free(c->ent);
    free(c->heap);
    free(c->buckets);
    free(c);
}

/* The counters, owned by the cache and updated in place. */
const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *c)
{
    return &c->st;
}

/* Bytes one entry costs, for the memory formula. */
size_t dns_cache_entry_bytes(void)
{
    /* the entry, its heap slot, and at most two bucket heads (the bucket
     * count is the power of two at or above max) */
    return sizeof(struct entry) + sizeof(uint32_t) + 2 * sizeof(uint32_t);
}

/* ------------------------------------------------------------ the heap */

static bool earlier(const struct dns_cache *c, uint32_t i, uint32_t j)
{
    return c->ent[c->heap[i]].expire_us < c->ent[c->heap[j]].expire_us;
}

static void heap_swap(struct dns_cache *c, uint32_t i, uint32_t j)
{
    uint32_t t = c->heap[i];
    c->heap[i] = c->heap[j];
    c->heap[j] = t;
    c->ent[c->heap[i]].heap_pos = i;
    c->ent[c->heap[j]].heap_pos = j;
}

static void sift_up(struct dns_cache *c, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!earlier(c, i, parent))
            break;
        heap_swap(c, i, parent);
        i = parent;
    }
}

static void sift_down(struct dns_cache *c, uint32_t i)
{
    uint32_t n = (uint32_t)c->st.entries;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && earlier(c, l, m))
            m = l;
        if (r < n && earlier(c, r, m))
            m = r;
        if (m == i)
            break;
        heap_swap(c, i, m);
        i = m;
    }
}

/* Re-place heap slot i after its entry's expiry changed either way. */
static void heap_fix(struct dns_cache *c, uint32_t i)
{
    uint32_t idx = c->heap[i];
    sift_up(c, i);
    sift_down(c, c->ent[idx].heap_pos);
}

static void heap_push(struct dns_cache *c, uint32_t idx)
{
    uint32_t i = (uint32_t)c->st.entries++;
    c->heap[i] = idx;
    c->ent[idx].heap_pos = i;
    sift_up(c, i);
}

static void heap_remove(struct dns_cache *c, uint32_t i)
{
    uint32_t last = (uint32_t)--c->st.entries;
    if (i != last) {
        heap_swap(c, i, last);
        sift_up(c, i);
        sift_down(c, i);
    }
}

/* ------------------------------------------------------------ entries */

static int make_key(struct key *k, int client_af, const uint8_t *client, int addr_af,
                    const uint8_t *addr)
{
    if ((client_af != 4 && client_af != 6) || (addr_af != 4 && addr_af != 6) || client == NULL ||
        addr == NULL)
        return -1;
    memset(k, 0, sizeof(*k));
    memcpy(k->client, client, client_af == 4 ? 4 : 16);
    memcpy(k->addr, addr, addr_af == 4 ? 4 : 16);
    k->client_af = (uint8_t)client_af;
    k->addr_af = (uint8_t)addr_af;
    return 0;
}

static uint32_t key_hash(const struct dns_cache *c, const struct key *k)
{
    return (uint32_t)XXH3_64bits_withSeed(k, sizeof(*k), c->seed);
}

static bool key_match(const struct entry *e, const struct key *k)
{
    return e->client_af == k->client_af && e->addr_af == k->addr_af &&
           memcmp(e->client, k->client, 16) == 0 && memcmp(e->addr, k->addr, 16) == 0;
}

/* Index + 1 of the entry with key k, or 0. */
static uint32_t find(const struct dns_cache *c, const struct key *k, uint32_t h)
{
    for (uint32_t i1 = c->buckets[h & (c->nbuckets - 1)]; i1 != 0; i1 = c->ent[i1 - 1].hnext)
        if (key_match(&c->ent[i1 - 1], k))
            return i1;
    return 0;
}

/* Take entry idx out of its chain and the heap, onto the free list. */
static void release(struct dns_cache *c, uint32_t idx)
{
    struct entry *e = &c->ent[idx];
    uint32_t *link = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*link != 0 && *link != idx + 1)
        link = &c->ent[*link - 1].hnext;
    if (*link == idx + 1)
        *link = e->hnext;
    heap_remove(c, e->heap_pos);
    e->hnext = c->free_head;
    c->free_head = idx + 1;
}

static uint64_t expiry(const struct dns_cache *c, uint32_t ttl, uint64_t now_us)
{
    if (ttl < c->min_ttl)
        ttl = c->min_ttl;
    if (ttl > c->max_ttl)
        ttl = c->max_ttl;
    uint64_t d = (uint64_t)ttl * 1000000u;
    return now_us > UINT64_MAX - d ? UINT64_MAX : now_us + d;
}

static void set_name(struct entry *e, const char *name)
{
    size_t n = name == NULL ? 0 : strnlen(name, NAME_LEN_MAX);
    if (n > 0)
        memcpy(e->name, name, n);
    e->name[n] = '\0';
}

/* Record (client, addr) -> name until now_us + clamped ttl. An existing
 * key is updated in place (name and expiry, counted as an update). A new
 * key may first free up to DNS_CACHE_REAP expired entries; if the pool is
 * still full, the entry closest to expiry is replaced (counted as
 * evicted). Families other than 4 and 6 are ignored. name is copied, at
 * most 255 bytes of it. Never allocates, never fails. */
void dns_cache_put(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                   const uint8_t *addr, const char *name, uint32_t ttl, uint64_t now_us)
{
    struct key k;
    if (c->max == 0 || make_key(&k, client_af, client, addr_af, addr) != 0)
        return;
    uint32_t h = key_hash(c, &k);
    uint32_t i1 = find(c, &k, h);
    if (i1 != 0) {
        struct entry *e = &c->ent[i1 - 1];
        set_name(e, name);
        e->expire_us = expiry(c, ttl, now_us);
        heap_fix(c, e->heap_pos);
        c->st.updates++;
        return;
    }

    /* a few expired entries go first, so that a full pool evicts live ones
     * only when it has to */
    for (int n = 0; n < DNS_CACHE_REAP && c->st.entries > 0; n++) {
        uint32_t root = c->heap[0];
        if (c->ent[root].expire_us > now_us)
            break;
        release(c, root);
        c->st.expired++;
    }

    if (c->free_head == 0 && c->next_unused >= c->max) {
        /* full and nothing expired: replace the entry closest to expiry */
        release(c, c->heap[0]);
        c->st.evicted++;
    }
    uint32_t idx;
    if (c->free_head != 0) {
        idx = c->free_head - 1;
        c->free_head = c->ent[idx].hnext;
    } else {
        idx = c->next_unused++;
    }

    struct entry *e = &c->ent[idx];
    memcpy(e->client, k.client, 16);
    memcpy(e->addr, k.addr, 16);
    e->client_af = k.client_af;
    e->addr_af = k.addr_af;
    set_name(e, name);
    e->expire_us = expiry(c, ttl, now_us);
    e->hash = h;
    uint32_t *head = &c->buckets[h & (c->nbuckets - 1)];
    e->hnext = *head;
    *head = idx + 1;
    heap_push(c, idx);
    c->st.inserts++;
}

/* The name client resolved to addr, or NULL (a miss). An entry found
 * expired at now_us is freed here and counted. The string belongs to the
 * cache and stays valid until the next dns_cache_put() or
 * dns_cache_free(). */
const char *dns_cache_get(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                          const uint8_t *addr, uint64_t now_us)
{
    struct key k;
    if (make_key(&k, client_af, client, addr_af, addr) != 0) {
        c->st.misses++;
        return NULL;
    }
    uint32_t i1 = find(c, &k, key_hash(c, &k));
    if (i1 == 0) {
        c->st.misses++;
        return NULL;
    }
    struct entry *e = &c->ent[i1 - 1];
    if (now_us >= e->expire_us) {
        release(c, i1 - 1);
        c->st.expired++;
        c->st.misses++;
        return NULL;
    }
    c->st.hits++;
    return e->name;
}
