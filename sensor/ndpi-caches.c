/* ndpi-caches.c -- emptying nDPI's address caches (ndpi-caches.h).
 *
 * The detection module's fields are declared by ndpi_typedefs.h only for
 * the library's own compilation; this file alone reads them, and only
 * after checking that the structure it sees has the size the library
 * reports (ndpi_get_ndpi_detection_module_size()): the same header and the
 * same build options. Otherwise it does nothing and says so. */
#define NDPI_LIB_COMPILATION
#include <ndpi_api.h>

#include "ndpi-caches.h"

static void lru_reset(struct ndpi_lru_cache **lru)
{
    if (*lru != NULL)
        ndpi_lru_free_cache(*lru);
    *lru = NULL;
}

int ndpi_caches_reset(struct ndpi_detection_module_struct *m)
{
    if (sizeof(*m) != ndpi_get_ndpi_detection_module_size() || m->tinc_cache != NULL)
        return -1;
    lru_reset(&m->ookla_cache);
    lru_reset(&m->bittorrent_cache);
    lru_reset(&m->zoom_cache);
    lru_reset(&m->stun_cache);
    lru_reset(&m->tls_cert_cache);
    lru_reset(&m->mining_cache);
    lru_reset(&m->msteams_cache);
    return 0;
}
