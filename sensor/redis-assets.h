/* redis-assets.h -- the inventory records on their way to Redis: the
 * hosts waiting for the next write, their baselines, and the merge.
 *
 * The Redis output writes each host's inventory record (assets.h, one JSON
 * object) to <prefix>:assets:<sensor>. A run starts from nothing, while the
 * hash holds what earlier runs saw; so the first time a run writes a host,
 * the record Redis holds for it is kept as its baseline, and every record
 * of the host written after is the run's merged with that baseline:
 *
 *   first_seen   the earlier of the two; last_seen the later
 *   numbers      added (flows, bytes_out, alerts)
 *   lists        united, the baseline's first (countries, categories)
 *   products     matched by vendor and product and merged by these rules;
 *                the others kept, the baseline's first
 *   anything else  the run's (the baseline's when the run's has none)
 *
 * A host seen again in a later run thus keeps its first sighting and adds
 * up its counts. Running the same capture twice counts it twice. */
#ifndef REDIS_ASSETS_H
#define REDIS_ASSETS_H

#include <stddef.h>

#define ASSETS_MAX_PENDING 65536 /* hosts waiting for a write; and baselines kept */

/* The latest inventory record of one host, waiting for the next flush. */
struct asset_ent {
    struct asset_ent *next;
    char *json;
    size_t len;
    char host[];
};

/* Chained hash table host -> record; grows by doubling. */
struct asset_map {
    struct asset_ent **b;
    size_t nb, n;
};

/* The slot of host in m: *slot is its entry, or NULL when m does not
 * hold it (insert there with asset_map_insert()). NULL when m is empty. */
struct asset_ent **asset_map_slot(struct asset_map *m, const char *host);

/* Insert e, whose host is not in m. Returns 0, or -1 (m holds
 * ASSETS_MAX_PENDING hosts, or no memory; e is not taken). */
int asset_map_insert(struct asset_map *m, struct asset_ent *e);

/* Detach every entry into a list linked by next; m is left empty. */
struct asset_ent *asset_map_take_all(struct asset_map *m);

/* Free every entry and the table; m is left empty. */
void asset_map_fini(struct asset_map *m);

/* Free e and its record; NULL is a no-op. */
void asset_ent_free(struct asset_ent *e);

/* The run's record of a host (json, len bytes) merged with base (the
 * record Redis held before the run, NUL-terminated; NULL when it held
 * none). Returns a new string (free() it), or NULL -- no baseline, either
 * side not a JSON object, no memory -- meaning: write json as it is. */
char *redis_assets_merge(const char *base, const char *json, size_t len);

#endif
