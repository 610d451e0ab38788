/* assets.h -- the asset inventory: which internal hosts run which foreign
 * security products, what they send, where, and when.
 *
 * One record per internal host (bounded; when full the least recently seen
 * host is dropped and counted), each with up to ASSETS_MAX_PRODUCTS
 * (vendor, product) entries and up to ASSETS_MAX_COUNTRIES destination
 * countries. Vendor and product names are copied, so a signature pack can
 * be replaced while the inventory lives on. Not thread-safe: the alert sink
 * serialises access. */
#ifndef ASSETS_H
#define ASSETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"

struct assets;
struct signature;

#define ASSETS_MAX_PRODUCTS 8
#define ASSETS_MAX_COUNTRIES 8

#define ASSETS_COUNTERS(X, T)                                                                      \
    X(T, hosts, "detection.assets.hosts", CTR_GAUGE, "internal hosts in the inventory")            \
    X(T, hosts_evicted, "detection.assets.hosts_evicted", CTR_COUNTER,                             \
      "hosts dropped from a full inventory")                                                       \
    X(T, products_dropped, "detection.assets.products_dropped", CTR_COUNTER,                       \
      "products not recorded: the host already had the most a host keeps")

struct assets_stats {
    ASSETS_COUNTERS(CTR_FIELD, struct assets_stats)
};
extern const struct ctr_table assets_counters;

/* Create an inventory for at most max_hosts hosts. NULL on allocation
 * failure. Free with assets_free(); NULL is a no-op there. */
struct assets *assets_new(uint32_t max_hosts);
void assets_free(struct assets *a);

/* A flow from host (af 4/6, network order) matched signature sig; the
 * server is in country cc ("" unknown) at ts_us. Call once per flow and
 * matching signature, with first_of_flow set on the first call of a flow
 * (the host's flow count counts flows, not signatures). */
void assets_note(struct assets *a, int af, const uint8_t *host, const struct signature *sig,
                 const char *cc, uint64_t ts_us, int first_of_flow);

/* bytes the host sent in a flow that matched sig (called when the flow ends). */
void assets_add_bytes(struct assets *a, int af, const uint8_t *host, const struct signature *sig,
                      uint64_t bytes);

/* Count alerts raised for a host (for the inventory's alert column). */
void assets_note_alert(struct assets *a, int af, const uint8_t *host);

/* Write the inventory as one JSON document (hosts sorted by address).
 * Returns 0, or -1 with a message in errbuf. path "-" is standard output. */
int assets_write_json(const struct assets *a, const char *sensor, const char *path, char *errbuf,
                      size_t errlen);

/* The current record of one host as JSON (no newline) into buf, and its
 * address as text into addr. Returns the length, 0 when the host is unknown
 * or buf is too small. */
int assets_host_json(struct assets *a, int af, const uint8_t *host, char *buf, size_t cap,
                     char *addr, size_t addrlen);

/* A read-only view of one host's record, for assets_foreach(). Pointers
 * borrow the inventory's storage: valid during the callback. */
struct assets_product_view {
    const char *vendor, *product;
    unsigned categories; /* bit per enum sig_category */
    const char (*countries)[2];
    unsigned n_countries;
    uint64_t flows, bytes_out, first_us, last_us;
};

struct assets_host_view {
    int af;              /* 4 or 6 */
    const uint8_t *addr; /* network order */
    uint64_t first_us, last_us, flows, bytes_out, alerts;
    const char (*countries)[2];
    unsigned n_countries, n_products;
    struct assets_product_view products[ASSETS_MAX_PRODUCTS];
};

/* Call cb for every host, sorted by address (as assets_write_json()).
 * Returns 0, or -1 when out of memory for the sort (cb not called). */
int assets_foreach(const struct assets *a, void (*cb)(const struct assets_host_view *h, void *ud),
                   void *ud);

/* Print the "foreign security products found" table. */
void assets_print_table(const struct assets *a, FILE *fp);

const struct assets_stats *assets_stats(const struct assets *a);

#endif
