/* decode.c -- link layers, EtherType dispatch and the decoder entry point.
 *
 * Link types follow the pcap LINKTYPE registry (tcpdump.org/linktypes.html).
 * Everything below the EtherType (IP, transport, tunnels) lives in
 * decode-ip.c and decode-tunnel.c; the conventions shared by the three files
 * are described in decode-int.h. */
#include "decode.h"

#include <string.h>

#include "decode-int.h"
#include "rd.h"

/* pcap link types (DLT_* / LINKTYPE_* values). */
enum {
    DLT_NULL_ = 0,
    DLT_EN10MB_ = 1,
    DLT_PPP_ = 9,
    DLT_RAW_BSD12_ = 12,
    DLT_RAW_BSD14_ = 14,
    DLT_PPP_SERIAL_ = 50,
    DLT_RAW_ = 101,
    DLT_C_HDLC_ = 104,
    DLT_LOOP_ = 108,
    DLT_LINUX_SLL_ = 113,
    DLT_IPV4_ = 228,
    DLT_IPV6_ = 229,
    DLT_LINUX_SLL2_ = 276,
};

/* Address families seen in DLT_NULL / DLT_LOOP headers. AF_INET6 differs
 * between systems: 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS. */
enum {
    BSD_AF_INET = 2,
    BSD_AF_INET6_NETBSD = 24,
    BSD_AF_INET6_FREEBSD = 28,
    BSD_AF_INET6_DARWIN = 30,
};

/* PPP protocol numbers (RFC 1661, assigned numbers). */
enum {
    PPP_IPV4 = 0x0021,
    PPP_IPV6 = 0x0057,
    PPP_MPLS_UC = 0x0281,
    PPP_MPLS_MC = 0x0283,
};

/* Linux cooked capture: protocol value meaning "802.2 LLC frame follows". */
#define SLL_P_802_2 0x0004

/* In enum order: element id of struct decode_stats.ctr is named here. */
static const struct ctr_desc decode_desc[DEC_MAX] = {
#define DEC_DESC(id, text)                                                                         \
    [id] = {.name = text,                                                                          \
            .help = "frames not analysed, by reason",                                              \
            .kind = CTR_COUNTER,                                                                   \
            .off = offsetof(struct decode_stats, ctr) + (id) * sizeof(uint64_t),                   \
            .family = "decode",                                                                    \
            .label = "reason"},
    DECODE_COUNTERS(DEC_DESC)
#undef DEC_DESC
};
const struct ctr_table decode_counters = {decode_desc, DEC_MAX};

/* Return the stats name of counter c; "decode.unknown" when c is out of
 * range. Cannot fail. */
const char *decode_counter_name(int c)
{
    if (c < 0 || c >= DEC_MAX)
        return "decode.unknown";
    return decode_desc[c].name;
}

/* Return 1 when dlt is one of the link types decode_packet() handles. */
int decode_link_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL_:
    case DLT_EN10MB_:
    case DLT_PPP_:
    case DLT_RAW_BSD12_:
    case DLT_RAW_BSD14_:
    case DLT_PPP_SERIAL_:
    case DLT_RAW_:
    case DLT_C_HDLC_:
    case DLT_LOOP_:
    case DLT_LINUX_SLL_:
    case DLT_IPV4_:
    case DLT_IPV6_:
    case DLT_LINUX_SLL2_:
        return 1;
    default:
        return 0;
    }
}

/* See decode-int.h. Cannot fail other than by DEC_TOO_DEEP. */
int decode_layer(struct packet *pkt, int tun)
{
    if (pkt->depth >= DECODE_MAX_LAYERS)
        return DEC_ERR(DEC_TOO_DEEP);
    pkt->depth++;
    pkt->tunnels |= (uint8_t)tun;
    return 0;
}

/* IEEE 802.2 LLC header, with SNAP when DSAP = SSAP = 0xaa and the control
 * field is UI. Only SNAP carries an EtherType we can follow; other SAPs
 * (spanning tree, NetBIOS, ...) are not IP. */
static int decode_llc(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t dsap = rd_u8(&r);
    uint8_t ssap = rd_u8(&r);
    uint8_t ctrl = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    if (dsap != 0xaa || ssap != 0xaa || ctrl != 0x03)
        return DEC_ERR(DEC_NOT_IP);
    rd_skip(&r, 3); /* OUI */
    uint16_t type = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    return decode_ethertype(type, rd_ptr(&r), rd_left(&r), pkt);
}

/* A type/length field: EtherType from 0x0600, 802.3 length up to 1500
 * (then an LLC header follows, limited to that length), invalid between. */
static int decode_type_or_len(uint16_t tl, const uint8_t *p, size_t len, struct packet *pkt)
{
    if (tl >= 0x0600)
        return decode_ethertype(tl, p, len, pkt);
    if (tl <= 1500)
        return decode_llc(p, tl < len ? tl : len, pkt);
    return DEC_ERR(DEC_NOT_IP);
}

/* Ethernet II or IEEE 802.3: destination, source, type/length. */
int decode_ether(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    rd_skip(&r, 12); /* destination and source MAC */
    uint16_t tl = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    return decode_type_or_len(tl, rd_ptr(&r), rd_left(&r), pkt);
}

/* One 802.1Q / 802.1ad tag: TCI, then the next type/length field. */
static int decode_vlan(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint16_t tci = rd_be16(&r);
    uint16_t tl = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_VLAN_TRUNCATED);
    int rc = decode_layer(pkt, PKT_TUN_VLAN);
    if (rc < 0)
        return rc;
    pkt->vlan = tci & 0x0fff;
    return decode_type_or_len(tl, rd_ptr(&r), rd_left(&r), pkt);
}

/* MPLS label stack (RFC 3032). The payload type is not signalled: after
 * the bottom-of-stack label, version nibble 4 or 6 means IP, 0 means a
 * pseudowire control word (RFC 4385) followed by Ethernet (RFC 4448). */
static int decode_mpls(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;
    uint32_t entry;
    int rc;

    rd_init(&r, p, len);
    do {
        entry = rd_be32(&r);
        if (r.err)
            return DEC_ERR(DEC_MPLS_TRUNCATED);
        rc = decode_layer(pkt, PKT_TUN_MPLS);
        if (rc < 0)
            return rc;
    } while (!(entry & 0x100));

    const uint8_t *q = rd_ptr(&r);
    size_t qlen = rd_left(&r);
    uint8_t first = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_MPLS_TRUNCATED);
    switch (first >> 4) {
    case 4:
        return decode_ipv4(q, qlen, pkt);
    case 6:
        return decode_ipv6(q, qlen, pkt);
    case 0:
        rd_skip(&r, 3); /* rest of the control word */
        if (r.err)
            return DEC_ERR(DEC_MPLS_TRUNCATED);
        return decode_ether(rd_ptr(&r), rd_left(&r), pkt);
    default:
        return DEC_ERR(DEC_NOT_IP);
    }
}

/* PPP protocol field: two bytes, or one when compressed (RFC 1661 6.5:
 * the compressed form is recognised by its odd first byte). */
static uint16_t rd_ppp_proto(struct rd *r)
{
    uint8_t b = rd_u8(r);
    if (b & 1)
        return b;
    return (uint16_t)(b << 8 | rd_u8(r));
}

/* PPP protocol field to the network layer. Control protocols (LCP, IPCP,
 * authentication: 0x8000 and up) are not IP; network protocols we cannot
 * read (compressed TCP/IP, IPX, ...) are counted as unsupported. */
static int decode_ppp_proto(uint16_t proto, const uint8_t *p, size_t len, struct packet *pkt)
{
    switch (proto) {
    case PPP_IPV4:
        return decode_ipv4(p, len, pkt);
    case PPP_IPV6:
        return decode_ipv6(p, len, pkt);
    case PPP_MPLS_UC:
    case PPP_MPLS_MC:
        return decode_mpls(p, len, pkt);
    default:
        if (proto >= 0x8000)
            return DEC_ERR(DEC_NOT_IP);
        return DEC_ERR(DEC_PPP_UNSUPPORTED);
    }
}

/* PPPoE session stage (RFC 2516): version/type 0x11, code 0, session id,
 * length, then the PPP protocol field. */
static int decode_pppoe(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t vt = rd_u8(&r);
    uint8_t code = rd_u8(&r);
    rd_skip(&r, 2); /* session id */
    size_t plen = rd_be16(&r);
    size_t start = r.off;
    uint16_t proto = rd_ppp_proto(&r);
    if (r.err)
        return DEC_ERR(DEC_PPPOE_TRUNCATED);
    size_t flen = r.off - start;
    if (vt != 0x11 || code != 0 || plen < flen)
        return DEC_ERR(DEC_PPPOE_BAD);
    int rc = decode_layer(pkt, PKT_TUN_PPPOE);
    if (rc < 0)
        return rc;
    /* The PPPoE length bounds the PPP payload (Ethernet padding follows). */
    size_t n = rd_left(&r);
    if (plen - flen < n)
        n = plen - flen;
    return decode_ppp_proto(proto, rd_ptr(&r), n, pkt);
}

/* Dispatch on an EtherType (also used for SLL, Cisco HDLC and GRE protocol
 * fields). Unknown types are not IP. */
int decode_ethertype(uint16_t type, const uint8_t *p, size_t len, struct packet *pkt)
{
    switch (type) {
    case DEC_ETH_IPV4:
        return decode_ipv4(p, len, pkt);
    case DEC_ETH_IPV6:
        return decode_ipv6(p, len, pkt);
    case DEC_ETH_VLAN:
    case DEC_ETH_QINQ:
    case DEC_ETH_QINQ_OLD:
        return decode_vlan(p, len, pkt);
    case DEC_ETH_MPLS_UC:
    case DEC_ETH_MPLS_MC:
        return decode_mpls(p, len, pkt);
    case DEC_ETH_PPPOE_SESS:
        return decode_pppoe(p, len, pkt);
    default:
        return DEC_ERR(DEC_NOT_IP);
    }
}

/* Cisco HDLC: address 0x0f (unicast) or 0x8f (broadcast), control,
 * EtherType. */
static int decode_chdlc(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t addr = rd_u8(&r);
    rd_skip(&r, 1); /* control */
    uint16_t type = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    if (addr != 0x0f && addr != 0x8f)
        return DEC_ERR(DEC_NOT_IP);
    return decode_ethertype(type, rd_ptr(&r), rd_left(&r), pkt);
}

/* PPP (RFC 1661/1662): optional ff 03 address and control, then the
 * protocol field. With serial set, Cisco HDLC framing is accepted too
 * (LINKTYPE_PPP_HDLC carries both). */
static int decode_ppp(const uint8_t *p, size_t len, struct packet *pkt, int serial)
{
    struct rd r;

    rd_init(&r, p, len);
    uint8_t b = rd_u8(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    if (serial && (b == 0x0f || b == 0x8f))
        return decode_chdlc(p, len, pkt);
    if (b == 0xff) {
        uint8_t ctrl = rd_u8(&r);
        if (r.err)
            return DEC_ERR(DEC_LINK_TRUNCATED);
        if (ctrl != 0x03)
            return DEC_ERR(DEC_PPP_UNSUPPORTED);
    } else {
        rd_init(&r, p, len); /* address and control compressed away */
    }
    uint16_t proto = rd_ppp_proto(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    return decode_ppp_proto(proto, rd_ptr(&r), rd_left(&r), pkt);
}

/* BSD loopback. DLT_NULL stores the address family in the byte order of
 * the capturing host, so both orders are tried; DLT_LOOP uses network
 * order. */
static int decode_loopback(const uint8_t *p, size_t len, struct packet *pkt, int net_order)
{
    struct rd r;

    rd_init(&r, p, len);
    uint32_t be = rd_be32(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    uint32_t le = (be >> 24) | ((be >> 8) & 0xff00) | ((be << 8) & 0xff0000) | (be << 24);
    uint32_t fam = (net_order || be < 256) ? be : le;
    switch (fam) {
    case BSD_AF_INET:
        return decode_ipv4(rd_ptr(&r), rd_left(&r), pkt);
    case BSD_AF_INET6_NETBSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
        return decode_ipv6(rd_ptr(&r), rd_left(&r), pkt);
    default:
        return DEC_ERR(DEC_NOT_IP);
    }
}

/* Linux cooked capture v1: packet type, ARPHRD type, address length,
 * 8 bytes of address, protocol (an EtherType, or 0x0004 for LLC). */
static int decode_sll(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    rd_skip(&r, 14);
    uint16_t proto = rd_be16(&r);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    if (proto == SLL_P_802_2)
        return decode_llc(rd_ptr(&r), rd_left(&r), pkt);
    return decode_ethertype(proto, rd_ptr(&r), rd_left(&r), pkt);
}

/* Linux cooked capture v2: protocol first, then reserved, interface index,
 * ARPHRD type, packet type, address length and 8 bytes of address. */
static int decode_sll2(const uint8_t *p, size_t len, struct packet *pkt)
{
    struct rd r;

    rd_init(&r, p, len);
    uint16_t proto = rd_be16(&r);
    rd_skip(&r, 18);
    if (r.err)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    if (proto == SLL_P_802_2)
        return decode_llc(rd_ptr(&r), rd_left(&r), pkt);
    return decode_ethertype(proto, rd_ptr(&r), rd_left(&r), pkt);
}

/* Raw IP link: the version nibble picks IPv4 or IPv6. */
static int decode_raw(const uint8_t *p, size_t len, struct packet *pkt)
{
    if (len == 0)
        return DEC_ERR(DEC_LINK_TRUNCATED);
    return decode_ip(p, len, pkt);
}

static int decode_link(int dlt, const uint8_t *p, size_t len, struct packet *pkt)
{
    switch (dlt) {
    case DLT_EN10MB_:
        return decode_ether(p, len, pkt);
    case DLT_LINUX_SLL_:
        return decode_sll(p, len, pkt);
    case DLT_LINUX_SLL2_:
        return decode_sll2(p, len, pkt);
    case DLT_RAW_BSD12_:
    case DLT_RAW_BSD14_:
    case DLT_RAW_:
        return decode_raw(p, len, pkt);
    case DLT_IPV4_:
        return decode_ipv4(p, len, pkt);
    case DLT_IPV6_:
        return decode_ipv6(p, len, pkt);
    case DLT_NULL_:
        return decode_loopback(p, len, pkt, 0);
    case DLT_LOOP_:
        return decode_loopback(p, len, pkt, 1);
    case DLT_PPP_:
        return decode_ppp(p, len, pkt, 0);
    case DLT_PPP_SERIAL_:
        return decode_ppp(p, len, pkt, 1);
    case DLT_C_HDLC_:
        return decode_chdlc(p, len, pkt);
    default:
        return DEC_ERR(DEC_UNSUPPORTED_LINK);
    }
}

/* Decode one frame. pkt is cleared first; on success its pointers borrow
 * from frame. On failure exactly one counter of st (which may be NULL) is
 * incremented and -1 returned. Never allocates, cannot crash on any input
 * of caplen readable bytes. */
int decode_packet(int dlt, const uint8_t *frame, size_t caplen, struct packet *pkt,
                  struct decode_stats *st)
{
    memset(pkt, 0, sizeof(*pkt));
    if (frame == NULL)
        caplen = 0;
    int rc = decode_link(dlt, frame, caplen, pkt);
    if (rc >= 0)
        return 0;
    int reason = DEC_REASON(rc);
    if (reason < 0 || reason >= DEC_MAX)
        reason = DEC_LINK_TRUNCATED; /* not reached: every path returns DEC_ERR() */
    if (st != NULL)
        st->ctr[reason]++;
    return -1;
}
