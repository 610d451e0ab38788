/* decode-tunnel.c -- tunnels a mirror port or an operator network delivers:
 * GRE (RFC 2784, RFC 2890) with IP, transparent Ethernet bridging or ERSPAN
 * (types I, II and III, draft-foschiano-erspan), VXLAN (RFC 7348), GTP-U
 * (3GPP TS 29.281) and IP-in-IP / 6in4 / 4in6 / 6in6 (RFC 2003, RFC 4213,
 * RFC 2473).
 *
 * Each function saves the outer packet, decodes the inner one into pkt and
 * puts the outer packet back when the inner one does not parse (see
 * decode-int.h for which failures are final). */
#include "decode-int.h"

#include "rd.h"

/* GRE flags and version (first 16 bits of the header). */
enum {
    GRE_C = 0x8000,     /* checksum present */
    GRE_R = 0x4000,     /* routing present (RFC 1701, deprecated) */
    GRE_K = 0x2000,     /* key present */
    GRE_S = 0x1000,     /* sequence number present */
    GRE_SSR = 0x0800,   /* strict source route (RFC 1701) */
    GRE_RECUR = 0x0700, /* recursion control (RFC 1701) */
    GRE_VER = 0x0007,
};

/* GTP-U header fields (TS 29.281 5.1). */
enum {
    GTP_VERSION_1 = 1,
    GTP_PT = 0x10,   /* protocol type: GTP, not GTP' */
    GTP_OPT = 0x07,  /* E, S or PN: the 4 optional bytes are present */
    GTP_E = 0x04,    /* extension header chain follows */
    GTP_TPDU = 0xff, /* message type carrying user data */
};

#define VXLAN_FLAG_I 0x08

/* Finish a decapsulation: success, a fatal inner failure, or a fallback to
 * the outer packet saved in *outer. */
static int tunnel_done(int rc, const struct packet *outer, struct packet *pkt)
{
    if (rc >= 0)
        return 0;
    if (rc == DEC_ERR(DEC_TOO_DEEP) || rc == DEC_ERR(DEC_NOT_IP))
        return rc;
    *pkt = *outer;
    return DEC_NOT_TUNNEL;
}

/* ERSPAN type III header: version, VLAN, COS/BSO/T, session id, timestamp,
 * SGT, P, frame type, hardware id, direction, granularity, O (an 8-byte
 * platform specific subheader follows). Frame type 0 is Ethernet, 2 IP. */
static int decode_erspan3(struct rd *r, struct packet *outer, struct packet *pkt)
{
    rd_skip(r, 10);
    uint8_t b10 = rd_u8(r);
    uint8_t b11 = rd_u8(r);
    if (b11 & 0x01)
        rd_skip(r, 8);
    if (r->err)
        return DEC_ERR(DEC_ERSPAN_TRUNCATED);
    int rc = decode_layer(pkt, PKT_TUN_ERSPAN);
    if (rc < 0)
        return rc;
    switch ((b10 >> 2) & 0x1f) {
    case 0:
        rc = decode_ether(rd_ptr(r), rd_left(r), pkt);
        break;
    case 2:
        rc = decode_ip(rd_ptr(r), rd_left(r), pkt);
        break;
    default:
        *pkt = *outer;
        return DEC_NOT_TUNNEL;
    }
    return tunnel_done(rc, outer, pkt);
}

/* GRE header, its optional checksum, key and sequence fields, then the
 * payload named by the protocol type. ERSPAN type II is told from type I
 * by the GRE sequence number: type I has neither it nor an ERSPAN header.
 * GRE version 1 (PPTP) carries PPP, normally encrypted: not decapsulated. */
static int decode_gre(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct packet outer = *pkt;
    struct rd r;
    int rc;

    rd_init(&r, p, len);
    uint16_t flags = rd_be16(&r);
    uint16_t proto = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_GRE_TRUNCATED);
    if ((flags & GRE_VER) == 1)
        return DEC_NOT_TUNNEL;
    if ((flags & GRE_VER) != 0 || (flags & (GRE_R | GRE_SSR | GRE_RECUR)))
        return DEC_ERR(DEC_GRE_BAD); /* RFC 2784 2.3: must be discarded */
    if (flags & GRE_C)
        rd_skip(&r, 4);
    if (flags & GRE_K)
        rd_skip(&r, 4);
    if (flags & GRE_S)
        rd_skip(&r, 4);
    if (r.err)
        return DEC_ERR(DEC_GRE_TRUNCATED);

    switch (proto) {
    case DEC_ETH_IPV4:
    case DEC_ETH_IPV6:
    case DEC_ETH_MPLS_UC:
    case DEC_ETH_MPLS_MC:
    case DEC_ETH_TEB:
    case DEC_ETH_ERSPAN_2:
    case DEC_ETH_ERSPAN_3:
        break;
    default:
        return DEC_NOT_TUNNEL; /* WCCP, keepalives, ...: reported as GRE */
    }

    rc = decode_layer(pkt, PKT_TUN_GRE);
    if (rc < 0)
        return rc;
    switch (proto) {
    case DEC_ETH_TEB:
        rc = decode_ether(rd_ptr(&r), rd_left(&r), pkt);
        break;
    case DEC_ETH_ERSPAN_2:
        if (flags & GRE_S) {
            rd_skip(&r, 8); /* type II header: version, VLAN, session, index */
            if (r.err)
                return DEC_ERR(DEC_ERSPAN_TRUNCATED);
        }
        rc = decode_layer(pkt, PKT_TUN_ERSPAN);
        if (rc < 0)
            return rc;
        rc = decode_ether(rd_ptr(&r), rd_left(&r), pkt);
        break;
    case DEC_ETH_ERSPAN_3:
        return decode_erspan3(&r, &outer, pkt);
    default:
        rc = decode_ethertype(proto, rd_ptr(&r), rd_left(&r), pkt);
        break;
    }
    return tunnel_done(rc, &outer, pkt);
}

/* Decapsulate the payload of IP protocol GRE, IPv4 (IP-in-IP, 4in6) or
 * IPv6 (6in4, 6in6). On DEC_NOT_TUNNEL pkt is unchanged. */
int decode_tunnel_ip(uint8_t proto, const uint8_t *p, size_t len, struct packet *pkt)
{
    struct packet outer;
    int rc;

    switch (proto) {
    case DEC_IPPROTO_GRE:
        return decode_gre(p, len, pkt);
    case DEC_IPPROTO_IPIP:
    case DEC_IPPROTO_IPV6:
        outer = *pkt;
        rc = decode_layer(pkt, PKT_TUN_IPIP);
        if (rc < 0)
            return rc;
        if (proto == DEC_IPPROTO_IPIP)
            rc = decode_ipv4(p, len, pkt);
        else
            rc = decode_ipv6(p, len, pkt);
        return tunnel_done(rc, &outer, pkt);
    default:
        return DEC_NOT_TUNNEL;
    }
}

/* VXLAN: flags (I set), 3 reserved bytes, VNI, 1 reserved byte, then an
 * Ethernet frame. A non-IP inner frame is final only when the header is
 * exactly the RFC 7348 one; otherwise the guess may be wrong and the
 * datagram is kept as UDP. */
static int decode_vxlan(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct packet outer = *pkt;
    struct rd r;

    rd_init(&r, p, len);
    uint32_t w1 = rd_be32(&r); /* flags, reserved */
    uint32_t w2 = rd_be32(&r); /* VNI, reserved */
    uint32_t flags = w1 >> 24;
    int canonical = flags == VXLAN_FLAG_I && (w1 & 0xffffff) == 0 && (w2 & 0xff) == 0;
    if (r.err || !(flags & VXLAN_FLAG_I))
        return DEC_NOT_TUNNEL;
    int rc = decode_layer(pkt, PKT_TUN_VXLAN);
    if (rc < 0)
        return rc;
    rc = decode_ether(rd_ptr(&r), rd_left(&r), pkt);
    if (rc == DEC_ERR(DEC_NOT_IP) && !canonical) {
        *pkt = outer;
        return DEC_NOT_TUNNEL;
    }
    return tunnel_done(rc, &outer, pkt);
}

/* GTP-U version 1 T-PDU: flags, message type, length (of what follows the
 * first 8 bytes), TEID; when E, S or PN is set, sequence number, N-PDU
 * number and next extension header type; then the extension headers, each
 * a length in 4-byte units, contents, and the next type (0 ends the chain).
 * The user data is an IPv4 or IPv6 datagram. */
static int decode_gtpu(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct packet outer = *pkt;
    struct rd r;

    rd_init(&r, p, len);
    uint8_t flags = rd_u8(&r);
    uint8_t type = rd_u8(&r);
    uint16_t glen = rd_be16(&r);
    rd_skip(&r, 4); /* TEID */
    if (r.err || flags >> 5 != GTP_VERSION_1 || !(flags & GTP_PT) || type != GTP_TPDU)
        return DEC_NOT_TUNNEL; /* echo, end marker, GTP', or not GTP at all */
    if (flags & GTP_OPT) {
        rd_skip(&r, 3); /* sequence number, N-PDU number */
        uint8_t next = rd_u8(&r);
        while ((flags & GTP_E) && next != 0 && !r.err) {
            size_t elen = (size_t)rd_u8(&r) * 4;
            if (elen == 0)
                return DEC_NOT_TUNNEL;
            rd_skip(&r, elen - 2);
            next = rd_u8(&r);
        }
        if (r.err)
            return DEC_NOT_TUNNEL;
    }
    size_t end = 8 + (size_t)glen;
    if (end < r.off)
        return DEC_NOT_TUNNEL;
    size_t n = rd_left(&r);
    if (end - r.off < n)
        n = end - r.off;

    int rc = decode_layer(pkt, PKT_TUN_GTP);
    if (rc < 0)
        return rc;
    rc = decode_ip(rd_ptr(&r), n, pkt);
    return tunnel_done(rc, &outer, pkt);
}

/* Try the tunnels that are recognised by UDP port. pkt holds the outer UDP
 * datagram; it is kept (DEC_NOT_TUNNEL) unless the payload decapsulates. */
int decode_tunnel_udp(const uint8_t *p, size_t len, struct packet *pkt)
{
    if (pkt->dport == DEC_PORT_VXLAN) {
        int rc = decode_vxlan(p, len, pkt);
        if (rc != DEC_NOT_TUNNEL)
            return rc;
    }
    if (pkt->sport == DEC_PORT_GTPU || pkt->dport == DEC_PORT_GTPU)
        return decode_gtpu(p, len, pkt);
    return DEC_NOT_TUNNEL;
}
