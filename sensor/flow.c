/* flow.c -- bidirectional flow table: pool, symmetric hash, per-class LRU expiry.
 *
 * Layout: `slots` is a pool of max_flows struct flow, reserved once (calloc,
 * so the kernel maps pages only as flows are used). `buckets` is a power of
 * two array of chain heads; chains and lists hold slot indexes + 1 so that 0
 * means "none" and a zeroed slot is a valid empty one. Each timeout class
 * keeps its flows in a doubly-linked list ordered by last packet time: a
 * packet moves its flow to the tail, expiry pops from the head. */
#include "flow.h"
#include "decode.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <xxhash.h>
#include "util.h"

#define END(i, n)                                                                                  \
    CTR_ELEM(struct flow_table_stats, ended, i, "flows.end_reason", "end_reason", n, CTR_COUNTER,  \
             "flows ended, by the reason they ended")
static const struct ctr_desc flow_table_desc[] = {
    FLOW_TABLE_COUNTERS(CTR_DESC, struct flow_table_stats) END(FLOW_END_TCP_FIN, "tcp-fin")
        END(FLOW_END_TCP_RST, "tcp-rst") END(FLOW_END_IDLE, "idle")
            END(FLOW_END_TABLE_FULL, "table-full") END(FLOW_END_EOF, "end-of-input")};
#undef END
const struct ctr_table flow_table_counters = {flow_table_desc, ARRAY_SIZE(flow_table_desc)};

struct lru {
    uint32_t head, tail; /* slot index + 1 */
};

struct flow_table {
    struct flow *slots;
    uint32_t *buckets;
    uint32_t nbuckets; /* power of two */
    uint32_t max_flows;
    uint32_t free_head;   /* free list through hnext, index + 1 */
    uint32_t next_unused; /* slots never used yet start here */
    struct lru lru[FLOW_TC_MAX];
    uint64_t timeout_us[FLOW_TC_MAX];
    uint64_t seed;
    flow_end_cb end_cb;
    void *ud;
    struct flow_table_stats st;
};

static const char *const end_names[FLOW_END_MAX] = {
    [FLOW_END_NONE] = "none", [FLOW_END_TCP_FIN] = "tcp-fin",       [FLOW_END_TCP_RST] = "tcp-rst",
    [FLOW_END_IDLE] = "idle", [FLOW_END_TABLE_FULL] = "table-full", [FLOW_END_EOF] = "end-of-input",
};

const char *flow_end_name(int reason)
{
    if (reason < 0 || reason >= FLOW_END_MAX)
        return "unknown";
    return end_names[reason];
}

const char *flow_direction_name(int d)
{
    static const char *const names[FLOW_DIR_MAX] = {"egress", "ingress", "internal", "external"};
    return d >= 0 && d < FLOW_DIR_MAX ? names[d] : "unknown";
}

static inline struct flow *slot(const struct flow_table *t, uint32_t idx1)
{
    return &t->slots[idx1 - 1];
}

static inline uint32_t idx_of(const struct flow_table *t, const struct flow *f)
{
    return (uint32_t)(f - t->slots) + 1;
}

struct flow_table *flow_table_new(const struct flow_table_config *cfg, flow_end_cb end_cb, void *ud)
{
    struct flow_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->max_flows = cfg->max_flows;
    uint32_t nb = 1024;
    while (nb < cfg->max_flows && nb < (1u << 31))
        nb <<= 1;
    t->nbuckets = nb;
    t->slots = calloc(cfg->max_flows ? cfg->max_flows : 1, sizeof(struct flow));
    t->buckets = calloc(nb, sizeof(uint32_t));
    if (t->slots == NULL || t->buckets == NULL)
        goto fail;
    for (int i = 0; i < FLOW_TC_MAX; i++)
        t->timeout_us[i] = (uint64_t)cfg->timeout[i] * 1000000u;
    t->seed = cfg->seed;
    if (t->seed == 0 && getrandom(&t->seed, sizeof(t->seed), 0) != (ssize_t)sizeof(t->seed))
        t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
    t->end_cb = end_cb;
    t->ud = ud;
    return t;

fail:
    flow_table_free(t);
    return NULL;
}

void flow_table_free(struct flow_table *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t->buckets);
    free(t);
}

/* Canonical (orientation-free) form of a key for hashing. */
struct canon {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    uint16_t vlan;
    uint8_t ipver, proto;
};

static int endpoint_cmp(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
    int c = memcmp(a, b, 16);
    if (c != 0)
        return c;
    return (int)pa - (int)pb;
}

uint32_t flow_hash(const struct flow_table *t, const struct flow_key *k)
{
    struct canon c;
    memset(&c, 0, sizeof(c));
    if (endpoint_cmp(k->src, k->sport, k->dst, k->dport) <= 0) {
        memcpy(c.a, k->src, 16), memcpy(c.b, k->dst, 16);
        c.pa = k->sport, c.pb = k->dport;
    } else {
        memcpy(c.a, k->dst, 16), memcpy(c.b, k->src, 16);
        c.pa = k->dport, c.pb = k->sport;
    }
    c.vlan = k->vlan;
    c.ipver = k->ipver;
    c.proto = k->proto;
    return (uint32_t)XXH3_64bits_withSeed(&c, sizeof(c), t->seed);
}

uint32_t flow_key_hash(const struct flow_key *k, uint64_t seed)
{
    struct {
        uint64_t addr[2];
        uint16_t ports, vlan;
        uint8_t ipver, proto, pad[2];
    } x;
    uint64_t s[2], d[2];
    memcpy(s, k->src, 16);
    memcpy(d, k->dst, 16);
    x.addr[0] = s[0] ^ d[0];
    x.addr[1] = s[1] ^ d[1];
    x.ports = (uint16_t)(k->sport ^ k->dport);
    x.vlan = k->vlan;
    x.ipver = k->ipver;
    x.proto = k->proto;
    x.pad[0] = x.pad[1] = 0;
    return (uint32_t)XXH3_64bits_withSeed(&x, sizeof(x), seed);
}

/* 1: same orientation, -1: reversed, 0: different flow. */
static int key_match(const struct flow_key *fk, const struct flow_key *k)
{
    if (fk->proto != k->proto || fk->ipver != k->ipver || fk->vlan != k->vlan)
        return 0;
    if (fk->sport == k->sport && fk->dport == k->dport && memcmp(fk->src, k->src, 16) == 0 &&
        memcmp(fk->dst, k->dst, 16) == 0)
        return 1;
    if (fk->sport == k->dport && fk->dport == k->sport && memcmp(fk->src, k->dst, 16) == 0 &&
        memcmp(fk->dst, k->src, 16) == 0)
        return -1;
    return 0;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
    struct lru *l = &t->lru[f->tclass];
    if (f->lru_prev)
        slot(t, f->lru_prev)->lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next)
        slot(t, f->lru_next)->lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = 0;
}

static void lru_append(struct flow_table *t, struct flow *f, int tc)
{
    struct lru *l = &t->lru[tc];
    uint32_t i = idx_of(t, f);
    f->tclass = (uint8_t)tc;
    f->lru_next = 0;
    f->lru_prev = l->tail;
    if (l->tail)
        slot(t, l->tail)->lru_next = i;
    else
        l->head = i;
    l->tail = i;
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
    uint32_t i = idx_of(t, f);
    uint32_t *pp = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*pp && *pp != i)
        pp = &slot(t, *pp)->hnext;
    if (*pp == i)
        *pp = f->hnext;
    f->hnext = 0;
}

/* Remove f from the table, report it, and put its slot on the free list. */
static void end_flow(struct flow_table *t, struct flow *f, int reason)
{
    f->end_reason = (uint8_t)reason;
    hash_unlink(t, f);
    lru_unlink(t, f);
    if (t->end_cb)
        t->end_cb(f, t->ud);
    t->st.ended[reason]++;
    t->st.active--;
    memset(f, 0, sizeof(*f));
    f->hnext = t->free_head;
    t->free_head = idx_of(t, f);
}

void flow_end(struct flow_table *t, struct flow *f, int reason)
{
    end_flow(t, f, reason);
}

/* The least recently seen flow over all classes. */
static struct flow *lru_oldest(struct flow_table *t)
{
    struct flow *best = NULL;
    for (int c = 0; c < FLOW_TC_MAX; c++) {
        if (t->lru[c].head == 0)
            continue;
        struct flow *f = slot(t, t->lru[c].head);
        if (best == NULL || f->last_us < best->last_us)
            best = f;
    }
    return best;
}

static struct flow *alloc_slot(struct flow_table *t)
{
    if (t->free_head) {
        struct flow *f = slot(t, t->free_head);
        t->free_head = f->hnext;
        f->hnext = 0;
        return f;
    }
    if (t->next_unused < t->max_flows)
        return &t->slots[t->next_unused++];
    return NULL;
}

struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k, int *dir)
{
    uint32_t h = flow_hash(t, k);
    t->st.lookups++;
    for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i; i = slot(t, i)->hnext) {
        struct flow *f = slot(t, i);
        if (f->hash != h) {
            t->st.collisions++;
            continue;
        }
        int m = key_match(&f->key, k);
        if (m != 0) {
            *dir = m > 0 ? FLOW_TOSERVER : FLOW_TOCLIENT;
            return f;
        }
        t->st.collisions++;
    }
    return NULL;
}

int flow_tclass_of(uint8_t proto)
{
    switch (proto) {
    case 6:
        return FLOW_TC_TCP;
    case 17:
        return FLOW_TC_UDP;
    case 1:
    case 58:
        return FLOW_TC_ICMP;
    default:
        return FLOW_TC_OTHER;
    }
}

struct flow *flow_lookup_create(struct flow_table *t, const struct flow_key *k, uint64_t now_us,
                                int *dir, bool *created)
{
    *created = false;
    struct flow *f = flow_lookup(t, k, dir);
    if (f != NULL)
        return f;
    if (t->max_flows == 0)
        return NULL;
    f = alloc_slot(t);
    if (f == NULL) {
        end_flow(t, lru_oldest(t), FLOW_END_TABLE_FULL);
        f = alloc_slot(t);
    }
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->hash = flow_hash(t, k);
    f->first_us = f->last_us = now_us;
    uint32_t *b = &t->buckets[f->hash & (t->nbuckets - 1)];
    f->hnext = *b;
    *b = idx_of(t, f);
    lru_append(t, f, flow_tclass_of(k->proto));
    t->st.created++;
    if (++t->st.active > t->st.peak_active)
        t->st.peak_active = t->st.active;
    *dir = FLOW_TOSERVER;
    *created = true;
    return f;
}

void flow_touch(struct flow_table *t, struct flow *f, uint64_t now_us, int tc)
{
    if (now_us > f->last_us)
        f->last_us = now_us;
    if (t->lru[f->tclass].tail == idx_of(t, f) && f->tclass == tc)
        return;
    lru_unlink(t, f);
    lru_append(t, f, tc);
}

void flow_swap(struct flow *f)
{
    struct flow_key *k = &f->key;
    uint8_t tmp[16];
    memcpy(tmp, k->src, 16);
    memcpy(k->src, k->dst, 16);
    memcpy(k->dst, tmp, 16);
    uint16_t p = k->sport;
    k->sport = k->dport;
    k->dport = p;
    uint64_t v = f->pkts[0];
    f->pkts[0] = f->pkts[1], f->pkts[1] = v;
    v = f->bytes[0];
    f->bytes[0] = f->bytes[1], f->bytes[1] = v;
    uint8_t fl = f->tcp_flags[0];
    f->tcp_flags[0] = f->tcp_flags[1], f->tcp_flags[1] = fl;
    f->flags ^= FLOW_F_SWAPPED;
}

/* The reason an expiring flow ended, given its class. */
static int expiry_reason(const struct flow *f)
{
    if (f->tclass != FLOW_TC_TCP_CLOSED)
        return FLOW_END_IDLE;
    if ((f->tcp_flags[0] | f->tcp_flags[1]) & 0x04)
        return FLOW_END_TCP_RST;
    return FLOW_END_TCP_FIN;
}

size_t flow_expire(struct flow_table *t, uint64_t now_us)
{
    size_t n = 0;
    for (int c = 0; c < FLOW_TC_MAX; c++) {
        while (t->lru[c].head) {
            struct flow *f = slot(t, t->lru[c].head);
            if (f->last_us + t->timeout_us[c] > now_us)
                break;
            end_flow(t, f, expiry_reason(f));
            n++;
        }
    }
    return n;
}

size_t flow_flush(struct flow_table *t, int reason)
{
    size_t n = 0;
    /* End flows oldest first across classes, so output order is by age. */
    for (struct flow *f = lru_oldest(t); f != NULL; f = lru_oldest(t)) {
        int r = reason;
        if (f->tclass == FLOW_TC_TCP_CLOSED && reason == FLOW_END_EOF)
            r = expiry_reason(f);
        end_flow(t, f, r);
        n++;
    }
    return n;
}

void flow_key_from_packet(struct flow_key *k, const struct packet *pkt)
{
    memcpy(k->src, pkt->src, 16);
    memcpy(k->dst, pkt->dst, 16);
    k->sport = pkt->sport;
    k->dport = pkt->dport;
    k->vlan = pkt->vlan;
    k->ipver = pkt->ipver;
    k->proto = pkt->l4proto;
}

void flow_table_foreach(struct flow_table *t, void (*fn)(struct flow *f, void *ud), void *ud)
{
    for (int tc = 0; tc < FLOW_TC_MAX; tc++)
        for (uint32_t i = t->lru[tc].head; i != 0;) {
            struct flow *f = slot(t, i);
            i = f->lru_next;
            fn(f, ud);
        }
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *t)
{
    return &t->st;
}

size_t flow_bytes_per_flow(const struct flow_table *t)
{
    return sizeof(struct flow) +
           (size_t)t->nbuckets * sizeof(uint32_t) / (t->max_flows ? t->max_flows : 1);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* n bytes from 2n lower-case hex digits; -1 on anything else. */
static int unhex(uint8_t *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static char *tohex(char *p, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *p++ = digits[in[i] >> 4];
        *p++ = digits[in[i] & 15];
    }
    *p = '\0';
    return p;
}

int flow_fp_set_ja3(struct flow *f, int which, const char *hex)
{
    uint8_t md[16];
    if (hex == NULL || strlen(hex) != 32 || unhex(md, hex, 16) < 0)
        return -1;
    memcpy(which ? f->fp.ja3s : f->fp.ja3, md, 16);
    return 0;
}

int flow_fp_set_ja4(struct flow *f, const char *ja4)
{
    struct flow_fp fp;
    if (ja4 == NULL || strlen(ja4) != FLOW_JA4_TEXT - 1 || ja4[10] != '_' || ja4[23] != '_' ||
        unhex(fp.ja4_b, ja4 + 11, 6) < 0 || unhex(fp.ja4_c, ja4 + 24, 6) < 0)
        return -1;
    memcpy(f->fp.ja4_a, ja4, 10);
    memcpy(f->fp.ja4_b, fp.ja4_b, 6);
    memcpy(f->fp.ja4_c, fp.ja4_c, 6);
    return 0;
}

const char *flow_fp_ja3(const struct flow *f, int which, char buf[FLOW_JA3_TEXT])
{
    static const uint8_t none[16];
    const uint8_t *md = which ? f->fp.ja3s : f->fp.ja3;
    buf[0] = '\0';
    if (memcmp(md, none, 16) != 0)
        tohex(buf, md, 16);
    return buf;
}

const char *flow_fp_ja4(const struct flow *f, char buf[FLOW_JA4_TEXT])
{
    buf[0] = '\0';
    if (f->fp.ja4_a[0] == '\0')
        return buf;
    memcpy(buf, f->fp.ja4_a, 10);
    buf[10] = '_';
    tohex(buf + 11, f->fp.ja4_b, 6);
    buf[23] = '_';
    tohex(buf + 24, f->fp.ja4_c, 6);
    return buf;
}

void flow_meta_set(struct flow *f, int which, const char *s)
{
    if (which < 0 || which >= FLOW_META_MAX || s == NULL || s[0] == '\0' || f->meta_off[which])
        return;
    size_t room = FLOW_META_BYTES - f->meta_used;
    if (room < 2) {
        f->meta_truncated++;
        return;
    }
    size_t n = strlen(s);
    if (n + 1 > room) {
        n = room - 1;
        f->meta_truncated++;
    }
    memcpy(f->meta + f->meta_used, s, n);
    f->meta[f->meta_used + n] = '\0';
    f->meta_off[which] = (uint16_t)(f->meta_used + 1);
    f->meta_used = (uint16_t)(f->meta_used + n + 1);
}

const char *flow_meta_get(const struct flow *f, int which)
{
    if (which < 0 || which >= FLOW_META_MAX || f->meta_off[which] == 0)
        return "";
    return f->meta + f->meta_off[which] - 1;
}
