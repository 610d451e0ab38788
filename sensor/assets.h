/* assets.h -- the asset inventory: which internal hosts are, run or use
 * which foreign security products, on what evidence, what they send, where,
 * and when.
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
struct sig_evidence;
struct dev_info;

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

/* One identification: a signature's evidence names host, one end of a
 * flow, as the device or as running or using the product. */
struct assets_ident {
    int af;                        /* 4 or 6 */
    const uint8_t *host;           /* network order */
    const struct signature *sig;   /* vendor, product, category, relation */
    const char *peer_cc;           /* country of the flow's other end when outside, "" */
    uint64_t ts_us;                /* packet time of the match */
    int first_of_flow;             /* the host's first identification in this flow */
    const struct sig_evidence *ev; /* the evidence the match rests on (its first) */
    const struct dev_info *dev;    /* what it tells about the device, or NULL */
};

/* Record an identification (call once per flow, matching signature and
 * identified end). The host's device facts fill in what was not known.
 * Returns 1 when the (host, vendor, product) pair is new -- the first
 * identification, which raises an asset event --, 0 when it was known, -1
 * when it could not be recorded (the host keeps ASSETS_MAX_PRODUCTS
 * already: counted). */
int assets_identify(struct assets *a, const struct assets_ident *id);

/* bytes the host sent out of the network (to an end outside home_net) in
 * a flow that identified it as sig's product; called when the flow ends. */
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
    int relation;         /* enum sig_relation: the strongest seen (is, runs, uses) */
    int ev_kind;          /* enum sig_ev_kind of the first evidence */
    const char *ev_value; /* and its value */
    unsigned categories;  /* bit per enum sig_category */
    const char (*countries)[2];
    unsigned n_countries;
    uint64_t flows, bytes_out, first_us, last_us;
};

struct assets_host_view {
    int af;              /* 4 or 6 */
    const uint8_t *addr; /* network order */
    uint64_t first_us, last_us, flows, bytes_out, alerts;
    const struct dev_info *dev; /* what is known of the device (fields "" when not) */
    const char (*countries)[2];
    unsigned n_countries, n_products;
    struct assets_product_view products[ASSETS_MAX_PRODUCTS];
};

/* Call cb for every host, sorted by address (as assets_write_json()).
 * Returns 0, or -1 when out of memory for the sort (cb not called). */
int assets_foreach(const struct assets *a, void (*cb)(const struct assets_host_view *h, void *ud),
                   void *ud);

/* The "device" object of a record (serial, model, name, vlan: what is
 * known), nothing when nothing is. For the inventory and the asset event. */
struct jw;
void assets_device_json(struct jw *w, const struct dev_info *d);

/* Print the "foreign security products found" table. */
void assets_print_table(const struct assets *a, FILE *fp);

const struct assets_stats *assets_stats(const struct assets *a);

#endif
