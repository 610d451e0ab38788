/* lru-map.h -- a bounded hash map of fixed-size keys and values, in LRU order.
 *
 * All memory is reserved at creation; puts and gets never allocate. When
 * the map is full, putting a new key drops the least recently used entry
 * (the caller learns of it, to count it). Keys are compared as bytes, so a
 * key struct must have no uninitialised padding (memset it). Not
 * thread-safe. */
#ifndef LRU_MAP_H
#define LRU_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru_map;

/* Create a map of at most max entries with key_len-byte keys and
 * val_len-byte values. NULL on allocation failure or zero sizes. Free with
 * lru_map_free(); NULL is a no-op there. */
struct lru_map *lru_map_new(uint32_t max, size_t key_len, size_t val_len);
void lru_map_free(struct lru_map *m);

/* The value of key, made most recently used; NULL when absent. */
void *lru_map_get(struct lru_map *m, const void *key);

/* The value of key, created zeroed when absent (*created set). When a new
 * entry needs room, the least recently used one is dropped first (*evicted
 * set). Returns the value, most recently used. Never NULL. */
void *lru_map_put(struct lru_map *m, const void *key, bool *created, bool *evicted);

/* The least recently used entry (key and value), or NULL when empty. */
void *lru_map_oldest(struct lru_map *m, const void **key);

/* Remove key if present. Returns 1 when removed. */
int lru_map_del(struct lru_map *m, const void *key);

/* Entries now. */
uint32_t lru_map_count(const struct lru_map *m);

/* Remove every entry (the storage is kept). */
void lru_map_clear(struct lru_map *m);

/* Visit every entry, least recently used first. */
typedef void (*lru_map_visit_cb)(const void *key, void *val, void *ud);
void lru_map_foreach(struct lru_map *m, lru_map_visit_cb cb, void *ud);

#endif
