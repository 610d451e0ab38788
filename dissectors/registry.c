/* registry.c -- the dissector registry, the port interest mask, the TLS
 * ClientHello check the TCP dissectors share, and the detail-line writer.
 *
 * Adding a dissector: one extern line and one array entry here. The array
 * is walked with ARRAY_SIZE(), never terminated by a sentinel. */
#include "dissector.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rd.h"
#include "util.h"

extern const struct dissector dis_fortiguard_rating;  /* fortiguard.c */
extern const struct dissector dis_fgfm;               /* fgfm.c */
extern const struct dissector dis_checkpoint_mgmt;    /* checkpoint.c */
extern const struct dissector dis_velocloud_vcmp;     /* velocloud.c */
extern const struct dissector dis_carbonblack_backup; /* carbonblack.c */
extern const struct dissector dis_checkpoint_ccp;     /* checkpoint-ccp.c */
extern const struct dissector dis_avast_nosa;         /* avast.c */

const struct dissector *const dis_registry[] = {
    &dis_fortiguard_rating,  /* UDP 8888, 53 */
    &dis_fgfm,               /* TCP 541, 542 */
    &dis_checkpoint_mgmt,    /* TCP 18191, 18192, 18210, 18211, 18264, 257, 256, 18190 */
    &dis_velocloud_vcmp,     /* UDP 2426 */
    &dis_carbonblack_backup, /* TCP 54443 */
    &dis_checkpoint_ccp,     /* UDP 8116 */
    &dis_avast_nosa,         /* TCP 80 */
};

/* dis_interest() answers with one bit per entry. */
_Static_assert(ARRAY_SIZE(dis_registry) <= 32, "the interest mask has 32 bits");

const size_t dis_registry_len = ARRAY_SIZE(dis_registry);

/* Index of the dissector whose verdict name is name, or -1 when there is
 * none (or name is NULL). Never fails otherwise. */
int dis_find(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(dis_registry); i++)
        if (strcmp(dis_registry[i]->name, name) == 0)
            return (int)i;
    return -1;
}

/* Bit i set when dis_registry[i] inspects proto to server port dport.
 * Port 0 is never a match (it marks an unused slot). */
uint32_t dis_interest(uint8_t proto, uint16_t dport)
{
    uint32_t mask = 0;
    if (dport == 0)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(dis_registry); i++) {
        const struct dissector *d = dis_registry[i];
        if (d->proto != proto)
            continue;
        for (size_t j = 0; j < DIS_MAX_PORTS; j++)
            if (d->ports[j] == dport) {
                mask |= (uint32_t)1 << i;
                break;
            }
    }
    return mask;
}

/* TLS record and handshake constants (RFC 8446 sections 4 and 5.1). */
#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_RECORD_MAX 16384 /* 2^14: a plaintext record, which a handshake is */
/* version(2) random(32) session_id length(1) cipher_suites length(2) one
 * suite(2) compression length(1) one method(1) */
#define TLS_CLIENT_HELLO_MIN 41

static int tls_version_ok(uint8_t major, uint8_t minor)
{
    return major == 3 && minor <= 4;
}

/* See dissector.h. */
int dis_tls_client_hello(const uint8_t *payload, size_t len)
{
    struct rd r;
    rd_init(&r, payload, len);
    uint8_t type = rd_u8(&r);
    uint8_t rec_major = rd_u8(&r);
    uint8_t rec_minor = rd_u8(&r);
    uint16_t rec_len = rd_be16(&r);
    uint8_t hs_type = rd_u8(&r);
    uint32_t hs_len = (uint32_t)rd_u8(&r) << 16;
    hs_len |= rd_be16(&r);
    uint8_t cl_major = rd_u8(&r);
    uint8_t cl_minor = rd_u8(&r);
    if (r.err)
        return 0;
    /* a ClientHello may be split over several records, so its length is
     * only checked against the minimum, not against this record's */
    return type == TLS_CT_HANDSHAKE && tls_version_ok(rec_major, rec_minor) && rec_len >= 4 &&
           rec_len <= TLS_RECORD_MAX && hs_type == TLS_HS_CLIENT_HELLO &&
           hs_len >= TLS_CLIENT_HELLO_MIN && tls_version_ok(cl_major, cl_minor);
}

/* See dissector.h. */
void dis_detail(const struct dis_packet *pkt, const char *fmt, ...)
{
    if (pkt->detail == NULL || pkt->detail_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(pkt->detail, pkt->detail_len, fmt, ap);
    va_end(ap);
    if (n < 0)
        pkt->detail[0] = '\0';
}
