/* ndpi-caches.h -- emptying what an nDPI detection module learnt from
 * earlier flows. */
#ifndef NDPI_CACHES_H
#define NDPI_CACHES_H

struct ndpi_detection_module_struct;

/* Empty m's address caches (Ookla, BitTorrent, Zoom, STUN, TLS
 * certificates, mining, Teams), which nDPI 4.2 creates when first needed
 * (protocols/ookla.c, bittorrent.c, zoom.c, stun.c, tls.c, mining.c,
 * teams.c) and reads to label later flows. Returns 0, or -1 when it cannot
 * be done here -- the module's layout in this build's headers is not the
 * library's, or tinc's cache (not an LRU cache: no public call frees it)
 * is in use -- and the caller must start a fresh module instead. */
int ndpi_caches_reset(struct ndpi_detection_module_struct *m);

#endif
