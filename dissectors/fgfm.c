/* fgfm.c -- FGFM, the FortiGate to FortiManager / FortiAnalyzer management
 * channel, TCP 541 (IPv4) and 542 (IPv6).
 *
 * Source: the vendor catalogue (shared VENDORS.md, sections 1.1 and 2):
 * Fortinet's FortiManager ports pages and community troubleshooting notes
 * (the FortiGate opens the connection, over SSL/TLS), and for the inner
 * frame three public tools quoted there (an FGFM probe helper that packs
 * the magic 0x36E01100 and length + 8, notes from the Metasploit module
 * for CVE-2024-47575, the watchTowr "FortiJump" proof of concept). No
 * vendor specification of the frame exists; from those:
 *
 *    0               1               2               3
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  0x36    0xE0    0x11    0x00 |  total length, big endian     |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  "key=value\r\n" text lines ... "\r\n\r\n\0"                  |
 *   +---------------------------------------------------------------+
 *   total length counts the 8-byte header, so it is at least 8.
 *
 * What is accepted, on the client's first payload: a TLS ClientHello
 * record (dis_tls_client_hello(), the normal case), or the frame above in
 * the clear with 8 <= total length <= FGFM_MAX_FRAME (the bound is ours:
 * the messages seen are short text; a bigger value is not this protocol).
 * While the client has sent nothing, NEED_MORE. */
#include "dissector.h"

#include <netinet/in.h>

#include "rd.h"

#define FGFM_MAGIC 0x36E01100u
#define FGFM_HDR_LEN 8
#define FGFM_MAX_FRAME (1u << 20)

static int fgfm_cleartext(const uint8_t *p, size_t len)
{
    struct rd r;
    rd_init(&r, p, len);
    uint32_t magic = rd_be32(&r);
    uint32_t total = rd_be32(&r);
    if (r.err)
        return 0;
    return magic == FGFM_MAGIC && total >= FGFM_HDR_LEN && total <= FGFM_MAX_FRAME;
}

static int fgfm_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_TCP)
        return DIS_NOT_MINE;
    if (!pkt->to_server || pkt->len == 0)
        return DIS_NEED_MORE; /* the FortiGate speaks first */
    if (dis_tls_client_hello(pkt->payload, pkt->len) || fgfm_cleartext(pkt->payload, pkt->len))
        return DIS_MATCH;
    return DIS_NOT_MINE;
}

/* The "fortinet-fgfm" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_fgfm = {
    .name = "fortinet-fgfm",
    .summary = "FortiGate to FortiManager/FortiAnalyzer FGFM: TLS or FGFM frame on TCP 541/542",
    .proto = IPPROTO_TCP,
    .ports = {541, 542},
    .max_packets = 3,
    .dissect = fgfm_dissect,
};
