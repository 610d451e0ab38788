/* dns-cache.c -- (client, address) -> name, kept for the answer's TTL.
 *
 * An lru-map (fixed pool, seeded hash, LRU order) of (client, address)
 * keys. A lookup refreshes the entry; a put of a new key first frees up to
 * DNS_CACHE_REAP expired entries from the least recently used end, then,
 * if the cache is still full, replaces the least recently used entry
 * (counted as evicted).
 *
 * Why least recently used and not "closest to expiry": the TTLs come off
 * the wire. Under a flood of long-TTL answers, replacing the entry closest
 * to expiry would throw out every fresh, ordinary binding (TTL 300) at
 * once, and with it the attribution of the flow that follows it; in LRU
 * order a binding survives as many later answers as the cache holds. */
#include "dns-cache.h"

#include <stdlib.h>
#include <string.h>

#include "lru-map.h"
#include "util.h"

static const struct ctr_desc dns_cache_desc[] = {
    DNS_CACHE_COUNTERS(CTR_DESC, struct dns_cache_stats)};
const struct ctr_table dns_cache_counters = {dns_cache_desc, ARRAY_SIZE(dns_cache_desc)};

#define DNS_CACHE_REAP 8 /* expired entries a put may free besides its own */
#define NAME_LEN_MAX 255

struct dc_key {
    uint8_t client_af, addr_af; /* 4 or 6 */
    uint8_t pad[2];
    uint8_t client[16]; /* network order; IPv4 in the first 4 bytes, rest 0 */
    uint8_t addr[16];
};

struct dc_val {
    uint64_t expire_us; /* packet time from which the entry is gone */
    char name[NAME_LEN_MAX + 1];
};

struct dns_cache {
    struct lru_map *map; /* NULL for a cache of size 0 */
    uint64_t min_ttl_us, max_ttl_us;
    struct dns_cache_stats st;
};

struct dns_cache *dns_cache_new(uint32_t max, uint32_t min_ttl, uint32_t max_ttl)
{
    struct dns_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (max_ttl < min_ttl)
        max_ttl = min_ttl;
    c->min_ttl_us = (uint64_t)min_ttl * 1000000u;
    c->max_ttl_us = (uint64_t)max_ttl * 1000000u;
    if (max > 0) {
        c->map = lru_map_new(max, sizeof(struct dc_key), sizeof(struct dc_val));
        if (c->map == NULL) {
            free(c);
            return NULL;
        }
    }
    return c;
}

void dns_cache_free(struct dns_cache *c)
{
    if (c == NULL)
        return;
    lru_map_free(c->map);
    free(c);
}

/* Fill k; returns 0, or -1 for a family other than 4 and 6. */
static int make_key(struct dc_key *k, int client_af, const uint8_t *client, int addr_af,
                    const uint8_t *addr)
{
    if ((client_af != 4 && client_af != 6) || (addr_af != 4 && addr_af != 6))
        return -1;
    memset(k, 0, sizeof(*k));
    k->client_af = (uint8_t)client_af;
    k->addr_af = (uint8_t)addr_af;
    memcpy(k->client, client, client_af == 6 ? 16 : 4);
    memcpy(k->addr, addr, addr_af == 6 ? 16 : 4);
    return 0;
}

void dns_cache_put(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                   const uint8_t *addr, const char *name, uint32_t ttl, uint64_t now_us)
{
    struct dc_key k;
    if (c->map == NULL || make_key(&k, client_af, client, addr_af, addr) < 0)
        return;
    uint64_t life = (uint64_t)ttl * 1000000u;
    if (life < c->min_ttl_us)
        life = c->min_ttl_us;
    if (life > c->max_ttl_us)
        life = c->max_ttl_us;

    bool created, evicted;
    struct dc_val *v = lru_map_get(c->map, &k);
    if (v == NULL) {
        /* Free expired entries at the old end first (a bounded amount of
         * work per put), so room comes from them before a live one goes. */
        const void *old;
        struct dc_val *ov;
        for (int i = 0; i < DNS_CACHE_REAP && (ov = lru_map_oldest(c->map, &old)) != NULL &&
                        ov->expire_us <= now_us;
             i++) {
            lru_map_del(c->map, old);
            c->st.expired++;
        }
        v = lru_map_put(c->map, &k, &created, &evicted);
        if (evicted)
            c->st.evicted++;
        c->st.inserts++;
    } else {
        c->st.updates++;
    }
    size_t n = strnlen(name, NAME_LEN_MAX);
    memcpy(v->name, name, n);
    v->name[n] = '\0';
    v->expire_us = now_us + life;
    c->st.entries = lru_map_count(c->map);
    if (c->st.entries > c->st.peak_entries)
        c->st.peak_entries = c->st.entries;
}

const char *dns_cache_get(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                          const uint8_t *addr, uint64_t now_us)
{
    struct dc_key k;
    if (c->map == NULL || make_key(&k, client_af, client, addr_af, addr) < 0) {
        c->st.misses++;
        return NULL;
    }
    struct dc_val *v = lru_map_get(c->map, &k);
    if (v != NULL && v->expire_us <= now_us) {
        lru_map_del(c->map, &k);
        c->st.expired++;
        c->st.entries = lru_map_count(c->map);
        v = NULL;
    }
    if (v == NULL) {
        c->st.misses++;
        return NULL;
    }
    c->st.hits++;
    return v->name;
}

const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *c)
{
    return &c->st;
}

size_t dns_cache_entry_bytes(void)
{
    /* lru-map entry: 16-byte header, key and value rounded to 8, and up to
     * two 4-byte buckets per entry (the bucket array is a power of two). */
    return 16 + ((sizeof(struct dc_key) + 7) & ~(size_t)7) +
           ((sizeof(struct dc_val) + 7) & ~(size_t)7) + 8;
}

void dns_cache_clear(struct dns_cache *c)
{
    if (c->map != NULL)
        lru_map_clear(c->map);
    c->st.entries = 0;
}
