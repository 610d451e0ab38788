/* decode.h -- packet decoder: link layer down to the innermost transport header.
 *
 * decode_packet() takes one captured frame and fills a struct packet that
 * describes the innermost IP datagram (tunnels a SPAN port delivers are
 * removed), its transport ports and its payload. Pointers in struct packet are
 * borrowed from the frame and valid only while the caller holds that frame.
 * The decoder never allocates, prints or exits: a bad frame bumps one counter
 * in struct decode_stats and returns a negative value. */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

/* Maximum number of encapsulations (VLAN tags, MPLS labels, tunnels) one
 * frame may carry before it is dropped as decode.too_deep. */
#define DECODE_MAX_LAYERS 16

/* Counter table: X(identifier, "name shown in stats").
 * truncated = a header did not fit in the captured bytes;
 * the rest are invalid or unsupported contents. */
#define DECODE_COUNTERS(X)                                                                         \
    X(DEC_NOT_IP, "decode.not_ip")                                                                 \
    X(DEC_UNSUPPORTED_LINK, "decode.unsupported_link")                                             \
    X(DEC_LINK_TRUNCATED, "decode.link_truncated")                                                 \
    X(DEC_VLAN_TRUNCATED, "decode.vlan_truncated")                                                 \
    X(DEC_MPLS_TRUNCATED, "decode.mpls_truncated")                                                 \
    X(DEC_PPPOE_TRUNCATED, "decode.pppoe_truncated")                                               \
    X(DEC_PPPOE_BAD, "decode.pppoe_bad")                                                           \
    X(DEC_PPP_UNSUPPORTED, "decode.ppp_unsupported")                                               \
    X(DEC_IPV4_TRUNCATED, "decode.ipv4_truncated")                                                 \
    X(DEC_IPV4_BAD_VERSION, "decode.ipv4_bad_version")                                             \
    X(DEC_IPV4_BAD_IHL, "decode.ipv4_bad_ihl")                                                     \
    X(DEC_IPV4_BAD_LEN, "decode.ipv4_bad_len")                                                     \
    X(DEC_IPV6_TRUNCATED, "decode.ipv6_truncated")                                                 \
    X(DEC_IPV6_BAD_VERSION, "decode.ipv6_bad_version")                                             \
    X(DEC_IPV6_BAD_EXTHDR, "decode.ipv6_bad_exthdr")                                               \
    X(DEC_TCP_TRUNCATED, "decode.tcp_truncated")                                                   \
    X(DEC_TCP_BAD_OFFSET, "decode.tcp_bad_offset")                                                 \
    X(DEC_UDP_TRUNCATED, "decode.udp_truncated")                                                   \
    X(DEC_UDP_BAD_LEN, "decode.udp_bad_len")                                                       \
    X(DEC_ICMP_TRUNCATED, "decode.icmp_truncated")                                                 \
    X(DEC_SCTP_TRUNCATED, "decode.sctp_truncated")                                                 \
    X(DEC_GRE_TRUNCATED, "decode.gre_truncated")                                                   \
    X(DEC_GRE_BAD, "decode.gre_bad")                                                               \
    X(DEC_ERSPAN_TRUNCATED, "decode.erspan_truncated")                                             \
    X(DEC_VXLAN_TRUNCATED, "decode.vxlan_truncated")                                               \
    X(DEC_GTP_TRUNCATED, "decode.gtp_truncated")                                                   \
    X(DEC_GTP_BAD, "decode.gtp_bad")                                                               \
    X(DEC_TOO_DEEP, "decode.too_deep")

enum decode_counter {
#define DEC_ENUM(id, name) id,
    DECODE_COUNTERS(DEC_ENUM)
#undef DEC_ENUM
        DEC_MAX
};

struct decode_stats {
    uint64_t ctr[DEC_MAX]; /* by enum decode_counter; see decode_counters */
};
extern const struct ctr_table decode_counters;

/* Name of counter c as shown in stats ("decode.ipv4_bad_ihl"); never NULL. */
const char *decode_counter_name(int c);

/* TCP flag bits of struct packet.tcp_flags (RFC 9293 3.1). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Fragment state of the innermost IPv4/IPv6 datagram. */
enum {
    PKT_FRAG_NONE = 0,  /* not fragmented */
    PKT_FRAG_FIRST = 1, /* offset 0, more fragments follow: ports are valid */
    PKT_FRAG_LATER = 2, /* offset > 0: no transport header, ports are 0 */
};

/* Tunnel kinds seen on the way in (bit set in struct packet.tunnels). */
enum {
    PKT_TUN_VLAN = 1 << 0,
    PKT_TUN_MPLS = 1 << 1,
    PKT_TUN_PPPOE = 1 << 2,
    PKT_TUN_GRE = 1 << 3,
    PKT_TUN_ERSPAN = 1 << 4,
    PKT_TUN_VXLAN = 1 << 5,
    PKT_TUN_IPIP = 1 << 6, /* IPv4-in-IPv4, 6in4, 4in6, 6in6 */
    PKT_TUN_GTP = 1 << 7,
};

/* The decoded view of one frame. Addresses are in network byte order; an
 * IPv4 address occupies the first 4 bytes of src/dst, the rest zero. Ports
 * are in host byte order (0 for protocols without ports). */
struct packet {
    uint8_t ipver;     /* 4 or 6 */
    uint8_t l4proto;   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... */
    uint8_t tcp_flags; /* TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 ...), 0 otherwise */
    uint8_t frag;      /* PKT_FRAG_* */
    uint8_t icmp_type; /* ICMP / ICMPv6 type and code, 0 otherwise */
    uint8_t icmp_code;
    uint8_t depth;   /* encapsulation layers removed */
    uint8_t tunnels; /* PKT_TUN_* bits */
    uint16_t vlan;   /* innermost 802.1Q VLAN id, 0 if none */
    uint16_t sport, dport;
    uint32_t frag_id; /* IPv4 identification or IPv6 fragment id when frag != NONE */
    uint32_t tcp_seq; /* TCP sequence number (host order), 0 otherwise */
    uint8_t src[16], dst[16];
    /* The innermost IP header through the end of the datagram (trimmed to
     * the IP length, and to the captured bytes). This is what nDPI reads. */
    const uint8_t *l3;
    size_t l3_len;
    /* Transport payload (after the TCP/UDP/... header), may be length 0. */
    const uint8_t *payload;
    size_t payload_len;
    /* Bytes of the innermost IP datagram on the wire (its IP total length). */
    uint32_t ip_len;
};

/* Supported link types (pcap DLT values): Ethernet (1), BSD loopback NULL (0)
 * and LOOP (108), PPP (9), PPP-in-HDLC (50), Cisco HDLC (104), raw IP (12, 14,
 * 101), IPv4 (228), IPv6 (229), Linux cooked v1 (113) and v2 (276).
 * Returns 1 when dlt is supported, 0 otherwise. Cannot fail. */
int decode_link_supported(int dlt);

/* Decode one frame of link type dlt, caplen captured bytes at frame.
 * On success returns 0 and fills *pkt. On failure returns -1, counts the
 * reason in st (DEC_NOT_IP for well-formed frames that carry no IP, e.g. ARP)
 * and leaves *pkt unspecified. Never allocates. */
int decode_packet(int dlt, const uint8_t *frame, size_t caplen, struct packet *pkt,
                  struct decode_stats *st);

#endif
