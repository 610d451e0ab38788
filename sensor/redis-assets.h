/* redis-assets.h -- the inventory hash merges across runs.
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

/* The run's record of a host (json, len bytes) merged with base (the
 * record Redis held before the run, NUL-terminated; NULL when it held
 * none). Returns a new string (free() it), or NULL -- no baseline, either
 * side not a JSON object, no memory -- meaning: write json as it is. */
char *redis_assets_merge(const char *base, const char *json, size_t len);

#endif
