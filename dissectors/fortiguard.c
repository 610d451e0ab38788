/* fortiguard.c -- legacy FortiGuard rating queries (web filter, antispam,
 * antivirus) over UDP 8888 and UDP 53.
 *
 * Source: the vendor catalogue (shared VENDORS.md, sections 1.1 and 2),
 * from Fortinet's "FortiGuard open ports" page for FortiOS 6.4 (UDP 53 and
 * UDP 8888 for rating queries, 8888 by default) and the SEC Consult
 * advisory for CVE-2018-9195 (FortiOS < 6.0.7 / 6.2.0, FortiClient < 6.2.0
 * Windows / 6.2.2 macOS): the query is XOR-obfuscated with a static key and
 * carries the product serial number and the URL being rated. No public
 * description of the cleartext layout exists, and the obfuscation hides
 * any constant bytes behind an unpublished key, so there is no magic to
 * match. Current releases use HTTPS and are left to the SNI rules.
 *
 * What is accepted, per flow, on the client's first payload:
 *
 *   UDP, server port 8888 or 53, client -> server, and
 *   - the payload is at least FGD_MIN_LEN bytes: a 16-character serial
 *     number (e.g. FGT60E4Q16012050) plus the rated URL and the message's
 *     own framing cannot be shorter, while probes, NAT keepalives and
 *     empty datagrams are;
 *   - it is not a DNS message (dis_dns_looks_like_dns()): real DNS on 53,
 *     and resolvers that listen on 8888, are the common case here;
 *   - it is not STUN (RFC 8489: two zero top bits, magic cookie 0x2112A442
 *     at offset 4) and not a WireGuard handshake or data message (type
 *     1-4 then three zero bytes, with that type's exact or minimum size):
 *     both structures are too specific to hide in an XOR-obfuscated query
 *     by chance, and both are found tunnelled over port 53.
 *
 * Known false positives: any other non-DNS UDP protocol on 53 or 8888
 * (OpenVPN on 53 to pass firewalls, for one; its opcode is a single byte,
 * too weak to exclude without missing obfuscated queries). Signatures
 * should combine this verdict with a Fortinet destination (AS40934,
 * service.fortiguard.net / guard.fortinet.com from the DNS cache). */
#include "dissector.h"

#include <netinet/in.h>

#include "dns.h"
#include "rd.h"

#define FGD_MIN_LEN 32

/* RFC 8489 section 5: 00 type(14 bits) length(16) cookie(32) txid(96). */
static int is_stun(const uint8_t *p, size_t len)
{
    struct rd r;
    rd_init(&r, p, len);
    uint16_t type = rd_be16(&r);
    uint16_t mlen = rd_be16(&r);
    uint32_t cookie = rd_be32(&r);
    if (r.err || len < 20)
        return 0;
    return (type & 0xC000) == 0 && cookie == 0x2112A442u && (size_t)mlen + 20 == len;
}

/* WireGuard (whitepaper section 5.4): type(1) reserved zero(3), then the
 * handshake initiation is 148 bytes, the response 92, the cookie reply 64
 * and a transport data message at least 32. */
static int is_wireguard(const uint8_t *p, size_t len)
{
    struct rd r;
    rd_init(&r, p, len);
    uint8_t type = rd_u8(&r);
    uint8_t z0 = rd_u8(&r), z1 = rd_u8(&r), z2 = rd_u8(&r);
    if (r.err || z0 != 0 || z1 != 0 || z2 != 0)
        return 0;
    switch (type) {
    case 1:
        return len == 148;
    case 2:
        return len == 92;
    case 3:
        return len == 64;
    case 4:
        return len >= 32;
    default:
        return 0;
    }
}

static int fortiguard_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_UDP)
        return DIS_NOT_MINE;
    if (!pkt->to_server)
        return DIS_NEED_MORE; /* judged on what the client sends */
    if (pkt->len < FGD_MIN_LEN)
        return DIS_NOT_MINE;
    if (dis_dns_looks_like_dns(pkt->payload, pkt->len))
        return DIS_NOT_MINE;
    if (is_stun(pkt->payload, pkt->len) || is_wireguard(pkt->payload, pkt->len))
        return DIS_NOT_MINE;
    return DIS_MATCH;
}

/* The "fortiguard-rating" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_fortiguard_rating = {
    .name = "fortiguard-rating",
    .summary = "legacy FortiGuard rating query: non-DNS UDP payload to port 8888 or 53",
    .proto = IPPROTO_UDP,
    .ports = {8888, 53},
    .max_packets = 2,
    .dissect = fortiguard_dissect,
};
