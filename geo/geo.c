/* geo.c -- destination country and autonomous system lookups (libmaxminddb).
 *
 * Both databases are memory-mapped read-only, so one handle serves every
 * thread. Lookups use MMDB_aget_value() with static paths: MMDB_get_value()
 * would calloc() a copy of its variadic path on every call. Record layouts
 * understood (the first that yields a value wins):
 *
 *   country   country.iso_code               GeoLite2 / GeoIP2 Country, City
 *             country_code                   DB-IP lite, ip-location-db
 *             registered_country.iso_code    GeoLite2, when country is absent
 *   ASN       autonomous_system_number       GeoLite2-ASN, ip-location-db
 *             autonomous_system_organization
 *
 * With no ASN database loaded, the ASN keys are read from the country
 * database (a combined file). */

#include "geo.h"
#include "util.h"

#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct geo {
    MMDB_s db[2]; /* [0] country, [1] ASN */
    bool loaded[2];
};

enum { GEO_COUNTRY = 0, GEO_ASN = 1 };

static const char *const geo_path_country_iso[] = {"country", "iso_code", NULL};
static const char *const geo_path_country_code[] = {"country_code", NULL};
static const char *const geo_path_registered_iso[] = {"registered_country", "iso_code", NULL};
static const char *const geo_path_asn[] = {"autonomous_system_number", NULL};
static const char *const geo_path_as_org[] = {"autonomous_system_organization", NULL};

/* Append "; " (when not first) and a formatted message to warnbuf. */
static void geo_warn(char *warnbuf, size_t warnlen, const char *role, const char *path, int status,
                     int err)
{
    size_t used;

    if (warnbuf == NULL || warnlen == 0)
        return;
    used = strnlen(warnbuf, warnlen);
    if (used + 1 >= warnlen)
        return;
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && err != 0)
        snprintf(warnbuf + used, warnlen - used, "%s%s database \"%s\" not loaded: %s (%s)",
                 used > 0 ? "; " : "", role, path, MMDB_strerror(status), strerror(err));
    else
        snprintf(warnbuf + used, warnlen - used, "%s%s database \"%s\" not loaded: %s",
                 used > 0 ? "; " : "", role, path, MMDB_strerror(status));
}

/* Open one database into g->db[which]; a failure only leaves it unloaded. */
static void geo_open_one(struct geo *g, int which, const char *path, char *warnbuf, size_t warnlen)
{
    static const char *const roles[2] = {"country", "ASN"};

    if (path == NULL || path[0] == '\0')
        return;
    errno = 0;
    int status = MMDB_open(path, MMDB_MODE_MMAP, &g->db[which]);
    int err = errno;
    if (status != MMDB_SUCCESS) {
        /* MMDB_open() has already released what it allocated. */
        memset(&g->db[which], 0, sizeof(g->db[which]));
        geo_warn(warnbuf, warnlen, roles[which], path, status, err);
        return;
    }
    g->loaded[which] = true;
}

/* Open both databases (mmap'ed, shared read-only). A file that cannot be
 * opened leaves its lookup disabled and adds a warning naming it and the
 * libmaxminddb reason to warnbuf (messages joined with "; ", truncated to
 * warnlen; warnbuf is "" when all is well). NULL only when out of memory.
 * Free with geo_free(). */
struct geo *geo_open(const char *country_db, const char *asn_db, char *warnbuf, size_t warnlen)
{
    struct geo *g;

    if (warnbuf != NULL && warnlen > 0)
        warnbuf[0] = '\0';
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    geo_open_one(g, GEO_COUNTRY, country_db, warnbuf, warnlen);
    geo_open_one(g, GEO_ASN, asn_db, warnbuf, warnlen);
    return g;
}

/* Unmap the databases and free the handle. NULL is a no-op. */
void geo_free(struct geo *g)
{
    if (g == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        if (g->loaded[i])
            MMDB_close(&g->db[i]);
    }
    free(g);
}

/* Copy the UTF-8 string at path into out (NUL-terminated, truncated at a
 * character boundary). Returns the number of bytes copied, 0 if absent. */
static size_t geo_get_string(MMDB_entry_s *entry, const char *const *path, char *out, size_t outlen)
{
    MMDB_entry_data_s data;

    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING)
        return 0;
    size_t n = data.data_size;
    if (n >= outlen) {
        n = outlen - 1;
        /* Do not cut a multi-byte character in two. */
        while (n > 0 && ((const unsigned char *)data.utf8_string)[n] >= 0x80 &&
               ((const unsigned char *)data.utf8_string)[n] < 0xc0)
            n--;
    }
    memcpy(out, data.utf8_string, n);
    out[n] = '\0';
    return n;
}

/* An unsigned number at path, or 0 when absent or out of range. */
static uint32_t geo_get_u32(MMDB_entry_s *entry, const char *const *path)
{
    MMDB_entry_data_s data;

    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data)
        return 0;
    switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
        return data.uint16;
    case MMDB_DATA_TYPE_UINT32:
        return data.uint32;
    case MMDB_DATA_TYPE_INT32:
        return data.int32 > 0 ? (uint32_t)data.int32 : 0;
    case MMDB_DATA_TYPE_UINT64:
        return data.uint64 <= UINT32_MAX ? (uint32_t)data.uint64 : 0;
    default:
        return 0;
    }
}

/* Fill res->country from entry; a code that is not two characters is
 * ignored. */
static void geo_get_country(MMDB_entry_s *entry, struct geo_result *res)
{
    const char *const *const paths[] = {geo_path_country_iso, geo_path_country_code,
                                        geo_path_registered_iso};
    char cc[4];

    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        if (geo_get_string(entry, paths[i], cc, sizeof(cc)) == 2) {
            memcpy(res->country, cc, 3);
            return;
        }
    }
}

/* The UTF-8 string at path, borrowed from the mapped database: *len bytes,
 * cut at a character boundary to 255 at most. NULL when absent. */
static const char *geo_ref_string(MMDB_entry_s *entry, const char *const *path, uint8_t *len)
{
    MMDB_entry_data_s data;

    *len = 0;
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size == 0)
        return NULL;
    const unsigned char *s = (const unsigned char *)data.utf8_string;
    size_t n = data.data_size;
    if (n > UINT8_MAX) {
        n = UINT8_MAX;
        while (n > 0 && s[n] >= 0x80 && s[n] < 0xc0) /* not in a character */
            n--;
    }
    *len = (uint8_t)n;
    return n > 0 ? data.utf8_string : NULL;
}

static void geo_get_asn(MMDB_entry_s *entry, struct geo_result *res)
{
    res->asn = geo_get_u32(entry, geo_path_asn);
    res->as_org = geo_ref_string(entry, geo_path_as_org, &res->as_org_len);
}

/* Look addr up in db; true when a record was found (*entry then set). */
static bool geo_find(const MMDB_s *db, const struct sockaddr *sa, MMDB_entry_s *entry)
{
    int mmdb_err = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, sa, &mmdb_err);

    if (mmdb_err != MMDB_SUCCESS || !r.found_entry)
        return false;
    *entry = r.entry;
    return true;
}

/* Fill *res for addr (af 4 or 6, network byte order; ::ffff:a.b.c.d is
 * looked up as a.b.c.d). Returns 0 when any field was found, else -1 with
 * *res empty; bad arguments count as not found. Reads the mapped files only:
 * no allocation, no shared state written, safe from many threads at once. */
int geo_lookup(const struct geo *g, int af, const uint8_t *addr, struct geo_result *res)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    MMDB_entry_s entry;

    if (res == NULL)
        return -1;
    memset(res, 0, sizeof(*res));
    if (g == NULL || addr == NULL)
        return -1;

    /* ::ffff:a.b.c.d is looked up as a.b.c.d: not every database aliases
     * the IPv4-mapped range to its IPv4 data. */
    if (af == 6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
        af = 4;
        addr += 12;
    }
    if (af == 4) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&sin;
    } else if (af == 6) {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&sin6;
    } else {
        return -1;
    }

    if (g->loaded[GEO_COUNTRY] && geo_find(&g->db[GEO_COUNTRY], sa, &entry)) {
        geo_get_country(&entry, res);
        if (!g->loaded[GEO_ASN])
            geo_get_asn(&entry, res);
    }
    if (g->loaded[GEO_ASN] && geo_find(&g->db[GEO_ASN], sa, &entry))
        geo_get_asn(&entry, res);

    return res->country[0] != '\0' || res->asn != 0 || res->as_org != NULL ? 0 : -1;
}

/* Whether the country database is loaded; 0 for NULL. */
int geo_has_country(const struct geo *g)
{
    return g != NULL && g->loaded[GEO_COUNTRY];
}

/* Whether the ASN database is loaded; 0 for NULL. */
int geo_has_asn(const struct geo *g)
{
    return g != NULL && g->loaded[GEO_ASN];
}

/* "<database_type> built YYYY-MM-DD" (build_epoch as a UTC date) or "not
 * loaded" into buf, truncated to len. Cannot fail. */
void geo_describe(const struct geo *g, int which, char *buf, size_t len)
{
    char date[16] = "unknown date";
    struct tm tm;

    if (buf == NULL || len == 0)
        return;
    if (g == NULL || (which != GEO_COUNTRY && which != GEO_ASN) || !g->loaded[which]) {
        snprintf(buf, len, "not loaded");
        return;
    }
    const MMDB_s *db = &g->db[which];
    time_t t = (time_t)db->metadata.build_epoch;
    if (gmtime_r(&t, &tm) != NULL)
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    snprintf(buf, len, "%s built %s",
             db->metadata.database_type != NULL ? db->metadata.database_type : "unknown", date);
}
