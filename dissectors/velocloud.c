/* velocloud.c -- VeloCloud (Arista / VMware SD-WAN) VCMP overlay tunnels,
 * UDP 2426.
 *
 * Source: Broadcom KB 312353 ("Inbound/outbound ports and protocols for
 * VMware SD-WAN"), via the vendor catalogue (shared VENDORS.md, sections
 * 1.4 and 2): Edges reach Gateways over VCMP on UDP 2426, outbound, and
 * inbound for hubs, dynamic branch-to-branch and NAT traversal. VCMP is
 * proprietary; no header layout was found in public code (no Wireshark,
 * Zeek or nDPI dissector, no plugin) or documents, and its payload is
 * encrypted, so there are no magic bytes to check.
 *
 * The heuristic, per payload packet:
 *
 *   UDP port 2426 and VCMP_MIN_LEN <= length <= VCMP_MAX_LEN
 *   and not all bytes equal
 *   and not a DNS message
 *   and sent by the server (a reply): the tunnel is two-way
 *
 * Why: an overlay packet carries at least a tunnel header and an
 * authenticated (encrypted) body, so it is never a few bytes; it carries
 * at most one 1500-byte underlay packet plus the tunnel overhead
 * (VCMP_MAX_LEN leaves room for that). Port scanners' probes are empty,
 * zero-filled or DNS-shaped. A packet outside the size window is
 * NEED_MORE (keepalives may be small; the next packet decides), at most
 * max_packets times. A plausible packet from the client waits for the
 * server's answer (NEED_MORE): a gateway answers its edge, while a flood of
 * random datagrams to port 2426 never gets a reply and must not be taken
 * for an SD-WAN edge. */
#include "dissector.h"

#include <netinet/in.h>

#include "dns.h"
#include "rd.h"

#define VCMP_MIN_LEN 20
#define VCMP_MAX_LEN 2000

static int all_same(const uint8_t *p, size_t len)
{
    struct rd r;
    rd_init(&r, p, len);
    uint8_t first = rd_u8(&r);
    while (rd_left(&r) > 0)
        if (rd_u8(&r) != first)
            return 0;
    return 1;
}

static int velocloud_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_UDP)
        return DIS_NOT_MINE;
    if (pkt->len < VCMP_MIN_LEN || pkt->len > VCMP_MAX_LEN)
        return DIS_NEED_MORE;
    if (all_same(pkt->payload, pkt->len) || dis_dns_looks_like_dns(pkt->payload, pkt->len))
        return DIS_NOT_MINE;
    return pkt->to_server ? DIS_NEED_MORE : DIS_MATCH;
}

/* The "velocloud-vcmp" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_velocloud_vcmp = {
    .name = "velocloud-vcmp",
    .summary = "VeloCloud SD-WAN VCMP overlay: UDP 2426, plausible tunnel packets both ways",
    .proto = IPPROTO_UDP,
    .ports = {2426},
    .max_packets = 8,
    .dissect = velocloud_dissect,
};
