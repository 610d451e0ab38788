/* dns-cache.h -- which name each client resolved to an address.
 *
 * Filled from DNS answers (dissectors/dns.h): (client, address) -> name,
 * kept for the record's TTL (clamped to [min_ttl, max_ttl]). A later flow
 * from that client to that address without a server name of its own (TLS
 * without SNI, ECH, UDP rating queries) is attributed to the name. Bounded:
 * at most max entries; when full, expired entries go first, then the least
 * recently used entry is replaced (counted). Time is packet time, as
 * everywhere in the pipeline. */
#ifndef DNS_CACHE_H
#define DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct dns_cache;

#define DNS_CACHE_COUNTERS(X, T)                                                                   \
    X(T, inserts, "detection.dns_cache.inserts", CTR_COUNTER, "new (client, address) bindings")    \
    X(T, updates, "detection.dns_cache.updates", CTR_COUNTER,                                      \
      "bindings seen again (same client and address)")                                             \
    X(T, evicted, "detection.dns_cache.evicted", CTR_COUNTER,                                      \
      "bindings replaced because the cache was full")                                              \
    X(T, expired, "detection.dns_cache.expired", CTR_COUNTER, "bindings past their TTL")           \
    X(T, hits, "detection.dns_cache.hits", CTR_COUNTER, "flows that found the name they resolved") \
    X(T, misses, "detection.dns_cache.misses", CTR_COUNTER, "flows with no name in the cache")     \
    X(T, entries, "detection.dns_cache.entries", CTR_GAUGE, "bindings held now")                   \
    X(T, peak_entries, "detection.dns_cache.peak_entries", CTR_PEAK, "most bindings held at once")

struct dns_cache_stats {
    DNS_CACHE_COUNTERS(CTR_FIELD, struct dns_cache_stats)
};
extern const struct ctr_table dns_cache_counters;

/* Create a cache of at most max entries. NULL on allocation failure. */
struct dns_cache *dns_cache_new(uint32_t max, uint32_t min_ttl, uint32_t max_ttl);

/* Free it. NULL is a no-op. */
void dns_cache_free(struct dns_cache *c);

/* Record that client (af 4/6, network order) resolved name to addr (af 4/6)
 * with ttl seconds, at now_us. The name is copied (truncated to 255 bytes).
 * Never allocates after dns_cache_new(). */
void dns_cache_put(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                   const uint8_t *addr, const char *name, uint32_t ttl, uint64_t now_us);

/* The name client resolved to addr, or NULL when none is known or it has
 * expired at now_us. The pointer is valid until the next put. */
const char *dns_cache_get(struct dns_cache *c, int client_af, const uint8_t *client, int addr_af,
                          const uint8_t *addr, uint64_t now_us);

const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *c);

/* Forget every binding (a capture that does not continue the previous
 * one); the statistics are kept. */
void dns_cache_clear(struct dns_cache *c);

/* Bytes of memory one entry costs (for the memory formula). */
size_t dns_cache_entry_bytes(void);

#endif
