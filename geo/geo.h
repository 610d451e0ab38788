/* geo.h -- destination country and autonomous system lookups (libmaxminddb).
 *
 * Reads two MaxMind DB files: a country database and an ASN database. Both
 * the GeoLite2/GeoIP2 layout (country.iso_code, autonomous_system_number,
 * autonomous_system_organization) and the DB-IP / ip-location-db layout
 * (country_code, and the same ASN keys) are understood. One database may
 * serve both roles (a file holding country and ASN data). */
#ifndef GEO_H
#define GEO_H

#include <stddef.h>
#include <stdint.h>

struct geo;

/* What the databases say of one address: 16 bytes, kept with each flow. */
struct geo_result {
    /* The AS's organisation, borrowed from the mapped database (valid until
     * geo_free()): as_org_len bytes of UTF-8, NOT NUL-terminated (cut at a
     * character boundary to 255 bytes at most); NULL when unknown. */
    const char *as_org;
    uint32_t asn;       /* 0 when unknown */
    char country[3];    /* ISO 3166-1 alpha-2, "" when unknown */
    uint8_t as_org_len; /* 0 when unknown */
};

/* Open the databases. Either path may be NULL or "" (that lookup is then
 * disabled). A file that cannot be opened is not an error: a warning naming
 * the file and the libmaxminddb reason is written to warnbuf (if non-NULL)
 * and that lookup is disabled. Returns a handle (never NULL unless out of
 * memory); free with geo_free(). */
struct geo *geo_open(const char *country_db, const char *asn_db, char *warnbuf, size_t warnlen);

/* Close the databases. geo_free(NULL) is a no-op. */
void geo_free(struct geo *g);

/* Look up addr (af 4 or 6, network byte order). Fills *res; fields that are
 * not found are left empty. Returns 0 when anything was found, -1 otherwise.
 * Thread-safe on a shared handle; never allocates. */
int geo_lookup(const struct geo *g, int af, const uint8_t *addr, struct geo_result *res);

/* Whether the country / ASN database is loaded. */
int geo_has_country(const struct geo *g);
int geo_has_asn(const struct geo *g);

/* Describe a loaded database for --version: "<database_type> built
 * YYYY-MM-DD" into buf, or "not loaded". which: 0 country, 1 asn. */
void geo_describe(const struct geo *g, int which, char *buf, size_t len);

#endif
