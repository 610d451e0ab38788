/* redis-assets.c -- the hosts waiting for a write to the inventory hash,
 * and a record merged with the one Redis held for the host before this run
 * (the rule is in redis-assets.h). */
#include "redis-assets.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static bool is_key(const char *k, const char *want)
{
    return strcmp(k, want) == 0;
}

/* The union of two arrays of strings: old's, then cur's not in old. */
static json_t *merge_strings(json_t *old, json_t *cur)
{
    json_t *out = json_deep_copy(old), *v, *w;
    size_t i, k;
    json_array_foreach(cur, i, v)
    {
        bool seen = false;
        json_array_foreach(out, k, w) seen |= json_equal(v, w);
        if (!seen)
            json_array_append(out, v);
    }
    return out;
}

static json_t *merge_record(json_t *old, json_t *cur);

/* Whether two products are the same one: same vendor and product. */
static bool same_product(json_t *a, json_t *b)
{
    return json_equal(json_object_get(a, "vendor"), json_object_get(b, "vendor")) &&
           json_equal(json_object_get(a, "product"), json_object_get(b, "product"));
}

/* Products: matched by vendor and product and merged; the others kept,
 * old's first. */
static json_t *merge_products(json_t *old, json_t *cur)
{
    json_t *out = json_array(), *o, *c;
    size_t i, k;
    json_array_foreach(old, i, o)
    {
        json_t *m = NULL;
        json_array_foreach(cur, k, c) if (m == NULL && same_product(o, c)) m = c;
        json_array_append_new(out, m != NULL ? merge_record(o, m) : json_deep_copy(o));
    }
    json_array_foreach(cur, k, c)
    {
        bool seen = false;
        json_array_foreach(old, i, o) seen |= same_product(o, c);
        if (!seen)
            json_array_append(out, c);
    }
    return out;
}

/* The strength of a relation: is, runs, uses, then anything else. */
static int rel_rank(json_t *v)
{
    static const char *const order[] = {"is", "runs", "uses"};
    for (int i = 0; i < 3; i++)
        if (strcmp(json_string_value(v), order[i]) == 0)
            return i;
    return 3;
}

/* One record (a host's, or a product's in it) merged: first_seen the
 * earlier, last_seen the later, integers summed, arrays of strings united,
 * products merged, the stronger relation, the first evidence, the device
 * facts of both (old's first); anything else this run's (old's when this
 * run has none). A new reference. */
static json_t *merge_record(json_t *old, json_t *cur)
{
    json_t *out = json_deep_copy(cur), *ov;
    const char *k;
    if (!json_is_object(old))
        return out;
    json_object_foreach(old, k, ov)
    {
        json_t *cv = json_object_get(cur, k), *m = NULL;
        if (cv == NULL)
            m = json_deep_copy(ov);
        else if (json_is_string(ov) && json_is_string(cv) &&
                 (is_key(k, "first_seen") || is_key(k, "last_seen")))
            m = json_deep_copy((strcmp(json_string_value(ov), json_string_value(cv)) < 0) ==
                                       is_key(k, "first_seen")
                                   ? ov
                                   : cv);
        else if (json_is_integer(ov) && json_is_integer(cv))
            m = json_integer(json_integer_value(ov) + json_integer_value(cv));
        else if (is_key(k, "evidence")) /* the first identification's */
            m = json_deep_copy(ov);
        else if (is_key(k, "relation") && json_is_string(ov) && json_is_string(cv))
            m = json_deep_copy(rel_rank(ov) <= rel_rank(cv) ? ov : cv);
        else if (is_key(k, "device") && json_is_object(ov) && json_is_object(cv)) {
            m = json_deep_copy(ov); /* what was known, and what this run adds */
            json_object_update_missing(m, cv);
        } else if (is_key(k, "products") && json_is_array(ov) && json_is_array(cv))
            m = merge_products(ov, cv);
        else if (json_is_array(ov) && json_is_array(cv))
            m = merge_strings(ov, cv);
        if (m != NULL)
            json_object_set_new(out, k, m);
    }
    return out;
}

/* See redis-assets.h. */
char *redis_assets_merge(const char *base, const char *json, size_t len)
{
    if (base == NULL)
        return NULL;
    json_t *old = json_loads(base, 0, NULL), *cur = json_loadb(json, len, 0, NULL);
    char *out = NULL;
    if (json_is_object(old) && json_is_object(cur)) {
        json_t *m = merge_record(old, cur);
        out = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(m);
    }
    json_decref(old);
    json_decref(cur);
    return out;
}

/* ------------------------------------------------------------ pending hosts */

static size_t host_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

/* See redis-assets.h. */
struct asset_ent **asset_map_slot(struct asset_map *m, const char *host)
{
    if (m->nb == 0)
        return NULL;
    struct asset_ent **pp = &m->b[host_hash(host) & (m->nb - 1)];
    while (*pp != NULL && strcmp((*pp)->host, host) != 0)
        pp = &(*pp)->next;
    return pp;
}

static int asset_map_grow(struct asset_map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    struct asset_ent **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        struct asset_ent *e = m->b[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            size_t k = host_hash(e->host) & (nb - 1);
            e->next = b[k];
            b[k] = e;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

/* See redis-assets.h. */
int asset_map_insert(struct asset_map *m, struct asset_ent *e)
{
    if (m->n >= ASSETS_MAX_PENDING)
        return -1;
    if (m->n >= m->nb && asset_map_grow(m) < 0)
        return -1;
    size_t k = host_hash(e->host) & (m->nb - 1);
    e->next = m->b[k];
    m->b[k] = e;
    m->n++;
    return 0;
}

/* See redis-assets.h. */
void asset_ent_free(struct asset_ent *e)
{
    if (e != NULL)
        free(e->json);
    free(e);
}

/* See redis-assets.h. */
struct asset_ent *asset_map_take_all(struct asset_map *m)
{
    struct asset_ent *list = NULL;
    for (size_t i = 0; i < m->nb; i++) {
        struct asset_ent *e = m->b[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            e->next = list;
            list = e;
        }
    }
    free(m->b);
    memset(m, 0, sizeof(*m));
    return list;
}

/* See redis-assets.h. */
void asset_map_fini(struct asset_map *m)
{
    struct asset_ent *e = asset_map_take_all(m), *next;
    for (; e != NULL; e = next) {
        next = e->next;
        asset_ent_free(e);
    }
}
