/* decode-ip.c -- IPv4 (RFC 791), IPv6 (RFC 8200) and the transport headers
 * TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443) and SCTP
 * (RFC 9260 common header).
 *
 * Lengths: l3_len is the IP datagram as captured, never past the IP length
 * (so Ethernet padding is excluded) nor past the captured bytes (so a
 * snaplen cut is not an error as long as the headers fit). A transport
 * header is checked against two lengths: what the IP header says the
 * segment is on the wire (a header longer than that is invalid) and what
 * was captured (a header longer than that is truncated). */
#include "decode-int.h"

#include <string.h>

#include "rd.h"

/* Forget everything a previous (outer) datagram left in pkt, keeping the
 * encapsulation fields depth, tunnels and vlan. */
static void l3_reset(struct packet *pkt, uint8_t ipver)
{
    pkt->ipver = ipver;
    pkt->l4proto = 0;
    pkt->tcp_flags = 0;
    pkt->frag = PKT_FRAG_NONE;
    pkt->icmp_type = 0;
    pkt->icmp_code = 0;
    pkt->sport = 0;
    pkt->dport = 0;
    pkt->frag_id = 0;
    pkt->tcp_seq = 0;
    memset(pkt->src, 0, sizeof(pkt->src));
    memset(pkt->dst, 0, sizeof(pkt->dst));
    pkt->l3 = NULL;
    pkt->l3_len = 0;
    pkt->payload = NULL;
    pkt->payload_len = 0;
    pkt->ip_len = 0;
}

static int decode_tcp(struct rd *r, size_t wire, struct packet *pkt)
{
    pkt->sport = rd_be16(r);
    pkt->dport = rd_be16(r);
    pkt->tcp_seq = rd_be32(r);
    rd_skip(r, 4); /* acknowledgement number */
    uint8_t off = rd_u8(r);
    pkt->tcp_flags = rd_u8(r);
    if (r->err)
        return DEC_ERR(DEC_TCP_TRUNCATED);
    size_t hlen = (size_t)(off >> 4) * 4;
    if (hlen < 20 || hlen > wire)
        return DEC_ERR(DEC_TCP_BAD_OFFSET);
    rd_skip(r, hlen - 14); /* window, checksum, urgent pointer, options */
    if (r->err)
        return DEC_ERR(DEC_TCP_TRUNCATED);
    pkt->payload = rd_ptr(r);
    pkt->payload_len = rd_left(r);
    return 0;
}

static int decode_udp(struct rd *r, struct packet *pkt)
{
    pkt->sport = rd_be16(r);
    pkt->dport = rd_be16(r);
    uint16_t ulen = rd_be16(r);
    rd_skip(r, 2); /* checksum */
    if (r->err)
        return DEC_ERR(DEC_UDP_TRUNCATED);
    if (ulen < 8)
        return DEC_ERR(DEC_UDP_BAD_LEN);
    pkt->payload = rd_ptr(r);
    pkt->payload_len = rd_left(r);
    if ((size_t)ulen - 8 < pkt->payload_len)
        pkt->payload_len = (size_t)ulen - 8;

    /* Tunnels are not looked for inside fragments: the fragment module
     * reassembles the outer datagram first. */
    if (pkt->frag == PKT_FRAG_NONE &&
        (pkt->dport == DEC_PORT_VXLAN || pkt->sport == DEC_PORT_GTPU ||
         pkt->dport == DEC_PORT_GTPU)) {
        int rc = decode_tunnel_udp(pkt->payload, pkt->payload_len, pkt);
        if (rc <= 0)
            return rc;
    }
    return 0;
}

/* ICMP and ICMPv6: type, code, checksum and the 4-byte rest of header that
 * every message type has. */
static int decode_icmp(struct rd *r, struct packet *pkt)
{
    pkt->icmp_type = rd_u8(r);
    pkt->icmp_code = rd_u8(r);
    rd_skip(r, 6);
    if (r->err)
        return DEC_ERR(DEC_ICMP_TRUNCATED);
    pkt->payload = rd_ptr(r);
    pkt->payload_len = rd_left(r);
    return 0;
}

/* SCTP common header: ports, verification tag, checksum. */
static int decode_sctp(struct rd *r, struct packet *pkt)
{
    pkt->sport = rd_be16(r);
    pkt->dport = rd_be16(r);
    rd_skip(r, 8);
    if (r->err)
        return DEC_ERR(DEC_SCTP_TRUNCATED);
    pkt->payload = rd_ptr(r);
    pkt->payload_len = rd_left(r);
    return 0;
}

/* Transport layer of protocol proto: p holds the captured bytes of the
 * segment, wire its length according to the IP header. */
static int decode_l4(uint8_t proto, const uint8_t *p, size_t len, size_t wire, struct packet *pkt)
{
    struct rd r;
    int rc;

    pkt->l4proto = proto;
    pkt->payload = p;
    pkt->payload_len = len;
    if (pkt->frag == PKT_FRAG_LATER)
        return 0; /* fragment data, no transport header */

    rd_init(&r, p, len);
    switch (proto) {
    case DEC_IPPROTO_TCP:
        return decode_tcp(&r, wire, pkt);
    case DEC_IPPROTO_UDP:
        return decode_udp(&r, pkt);
    case DEC_IPPROTO_ICMP:
    case DEC_IPPROTO_ICMPV6:
        return decode_icmp(&r, pkt);
    case DEC_IPPROTO_SCTP:
        return decode_sctp(&r, pkt);
    case DEC_IPPROTO_GRE:
    case DEC_IPPROTO_IPIP:
    case DEC_IPPROTO_IPV6:
        if (pkt->frag != PKT_FRAG_NONE)
            return 0;
        rc = decode_tunnel_ip(proto, p, len, pkt);
        return rc < 0 ? rc : 0;
    default:
        return 0; /* ESP, OSPF, ...: no ports */
    }
}

/* IPv4 header, options skipped, then the transport layer. Fails on a bad
 * version, IHL or total length, or a header that was not captured. */
int decode_ipv4(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t vihl = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_IPV4_TRUNCATED);
    if (vihl >> 4 != 4)
        return DEC_ERR(DEC_IPV4_BAD_VERSION);
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if (len < 20)
        return DEC_ERR(DEC_IPV4_TRUNCATED);
    if (hlen < 20)
        return DEC_ERR(DEC_IPV4_BAD_IHL);
    if (hlen > len)
        return DEC_ERR(DEC_IPV4_TRUNCATED);

    rd_skip(&r, 1); /* type of service */
    uint16_t total = rd_be16(&r);
    uint16_t id = rd_be16(&r);
    uint16_t frag = rd_be16(&r);
    rd_skip(&r, 1); /* time to live */
    uint8_t proto = rd_u8(&r);
    rd_skip(&r, 2); /* header checksum */
    if (r.err)
        return DEC_ERR(DEC_IPV4_TRUNCATED);
    if (total < hlen)
        return DEC_ERR(DEC_IPV4_BAD_LEN);

    l3_reset(pkt, 4);
    rd_copy(&r, pkt->src, 4);
    rd_copy(&r, pkt->dst, 4);
    rd_skip(&r, hlen - 20); /* options */
    if (r.err)
        return DEC_ERR(DEC_IPV4_TRUNCATED);

    pkt->l3 = p;
    pkt->l3_len = total < len ? total : len;
    pkt->ip_len = total;
    if (frag & 0x1fff)
        pkt->frag = PKT_FRAG_LATER;
    else if (frag & 0x2000)
        pkt->frag = PKT_FRAG_FIRST;
    if (pkt->frag != PKT_FRAG_NONE)
        pkt->frag_id = id;

    return decode_l4(proto, rd_ptr(&r), pkt->l3_len - hlen, total - hlen, pkt);
}

/* IPv6 header and extension headers (hop-by-hop, routing, fragment,
 * destination options, AH) up to the transport layer. ESP and unknown next
 * headers end the walk successfully with no ports. */
int decode_ipv6(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t v = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_IPV6_TRUNCATED);
    if (v >> 4 != 6)
        return DEC_ERR(DEC_IPV6_BAD_VERSION);
    if (len < 40)
        return DEC_ERR(DEC_IPV6_TRUNCATED);
    rd_skip(&r, 3); /* traffic class, flow label */
    uint16_t plen = rd_be16(&r);
    uint8_t nh = rd_u8(&r);
    rd_skip(&r, 1); /* hop limit */

    l3_reset(pkt, 6);
    rd_copy(&r, pkt->src, 16);
    rd_copy(&r, pkt->dst, 16);
    if (r.err)
        return DEC_ERR(DEC_IPV6_TRUNCATED);

    /* Payload length 0 is a jumbogram or a sender that did not fill it in
     * (segmentation offload): take the datagram to the end of capture. */
    size_t total = plen ? 40 + (size_t)plen : len;
    pkt->l3 = p;
    pkt->l3_len = total < len ? total : len;
    pkt->ip_len = (uint32_t)total;

    rd_init(&r, p, pkt->l3_len);
    rd_skip(&r, 40);
    for (int first = 1;; first = 0) {
        uint8_t next;
        size_t ehlen;

        switch (nh) {
        case DEC_IPPROTO_HOPOPTS:
        case DEC_IPPROTO_ROUTING:
        case DEC_IPPROTO_DSTOPTS:
        case DEC_IPPROTO_AH:
            if (nh == DEC_IPPROTO_HOPOPTS && !first)
                return DEC_ERR(DEC_IPV6_BAD_EXTHDR); /* RFC 8200 4.1: first only */
            next = rd_u8(&r);
            ehlen = rd_u8(&r);
            if (r.err)
                return DEC_ERR(DEC_IPV6_TRUNCATED);
            if (nh == DEC_IPPROTO_AH) {
                if (ehlen < 1)
                    return DEC_ERR(DEC_IPV6_BAD_EXTHDR); /* shorter than AH itself */
                ehlen = (ehlen + 2) * 4;
            } else {
                ehlen = (ehlen + 1) * 8;
            }
            rd_skip(&r, ehlen - 2);
            if (r.err)
                return DEC_ERR(DEC_IPV6_TRUNCATED);
            nh = next;
            break;
        case DEC_IPPROTO_FRAGMENT: {
            next = rd_u8(&r);
            rd_skip(&r, 1);
            uint16_t offm = rd_be16(&r);
            uint32_t id = rd_be32(&r);
            if (r.err)
                return DEC_ERR(DEC_IPV6_TRUNCATED);
            if (pkt->frag != PKT_FRAG_NONE)
                return DEC_ERR(DEC_IPV6_BAD_EXTHDR); /* second fragment header */
            if (offm & 0xfff8)
                pkt->frag = PKT_FRAG_LATER;
            else if (offm & 1)
                pkt->frag = PKT_FRAG_FIRST;
            /* else an atomic fragment (RFC 6946): a whole datagram */
            if (pkt->frag != PKT_FRAG_NONE)
                pkt->frag_id = id;
            nh = next;
            if (pkt->frag == PKT_FRAG_LATER) /* the rest is fragment data */
                return decode_l4(nh, rd_ptr(&r), rd_left(&r), total - r.off, pkt);
            break;
        }
        default:
            return decode_l4(nh, rd_ptr(&r), rd_left(&r), total - r.off, pkt);
        }
    }
}

/* IPv4 or IPv6 by the version nibble. */
int decode_ip(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t v = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_IPV4_TRUNCATED);
    switch (v >> 4) {
    case 4:
        return decode_ipv4(p, len, pkt);
    case 6:
        return decode_ipv6(p, len, pkt);
    default:
        return DEC_ERR(DEC_IPV4_BAD_VERSION);
    }
}
