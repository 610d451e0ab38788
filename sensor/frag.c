/* frag.c -- IP fragment attribution: a bounded lru-map keyed by
 * (addresses, protocol, identification); the oldest train is also the first
 * to expire, so expiry looks only at the LRU head. */
#include "frag.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "lru-map.h"
#include "util.h"

static const struct ctr_desc frag_desc[] = {FRAG_COUNTERS(CTR_DESC, struct frag_stats)};
const struct ctr_table frag_counters = {frag_desc, ARRAY_SIZE(frag_desc)};

struct frag_key {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t ipver, proto;
    uint8_t pad[2];
};

struct frag_val {
    uint64_t last_us;
    uint16_t sport, dport;
};

struct frag_table {
    struct lru_map *map;
    uint64_t timeout_us;
    struct frag_stats st;
};

struct frag_table *frag_table_new(uint32_t max, uint32_t timeout_s)
{
    struct frag_table *ft = calloc(1, sizeof(*ft));
    if (ft == NULL)
        return NULL;
    ft->map = lru_map_new(max ? max : 1, sizeof(struct frag_key), sizeof(struct frag_val));
    if (ft->map == NULL) {
        free(ft);
        return NULL;
    }
    ft->timeout_us = (uint64_t)timeout_s * 1000000u;
    return ft;
}

void frag_table_free(struct frag_table *ft)
{
    if (ft == NULL)
        return;
    lru_map_free(ft->map);
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

static void expire(struct frag_table *ft, uint64_t now_us)
{
    const void *key;
    struct frag_val *v;
    while ((v = lru_map_oldest(ft->map, &key)) != NULL && v->last_us + ft->timeout_us <= now_us) {
        lru_map_del(ft->map, key);
        ft->st.expired++;
    }
    ft->st.active = lru_map_count(ft->map);
}

void frag_note_first(struct frag_table *ft, const struct packet *pkt, uint64_t now_us)
{
    struct frag_key k;
    bool created, evicted;
    make_key(pkt, &k);
    ft->st.first++;
    expire(ft, now_us);
    struct frag_val *v = lru_map_put(ft->map, &k, &created, &evicted);
    if (evicted)
        ft->st.evicted++;
    v->sport = pkt->sport;
    v->dport = pkt->dport;
    v->last_us = now_us;
    ft->st.active = lru_map_count(ft->map);
    if (ft->st.active > ft->st.peak_active)
        ft->st.peak_active = ft->st.active;
}

int frag_attribute(struct frag_table *ft, struct packet *pkt, uint64_t now_us)
{
    struct frag_key k;
    make_key(pkt, &k);
    ft->st.later++;
    expire(ft, now_us);
    struct frag_val *v = lru_map_get(ft->map, &k);
    if (v == NULL) {
        ft->st.orphans++;
        return -1;
    }
    pkt->sport = v->sport;
    pkt->dport = v->dport;
    v->last_us = now_us;
    ft->st.matched++;
    return 0;
}

const struct frag_stats *frag_table_stats(const struct frag_table *ft)
{
    return &ft->st;
}

void frag_table_clear(struct frag_table *ft)
{
    lru_map_clear(ft->map);
    ft->st.active = 0;
}
