/* decode-int.h -- declarations shared by decode.c, decode-ip.c and
 * decode-tunnel.c. Not part of the public API: only the decoder includes it.
 *
 * Internal return convention. Every function below returns 0 on success or
 * DEC_ERR(reason), a negative value that names exactly one counter of
 * DECODE_COUNTERS. Only decode_packet() turns that value into a counter bump,
 * so a failed frame is counted once however deep the failure happened, and a
 * tunnel that falls back to its outer packet (see below) leaves no trace in
 * the statistics.
 *
 * Layers. decode_layer() is called once per encapsulation removed: each
 * 802.1Q/802.1ad tag, each MPLS label, the PPPoE header, and each tunnel
 * header (GRE, ERSPAN, VXLAN, GTP-U, IP-in-IP). GRE carrying ERSPAN is two
 * layers. Beyond DECODE_MAX_LAYERS the frame fails with DEC_TOO_DEEP.
 *
 * Tunnels. The decapsulating functions in decode-tunnel.c return
 * DEC_NOT_TUNNEL (positive) when they leave the packet as it was: the outer
 * datagram is then reported with its own protocol and ports. That happens
 * when the inner part does not parse, except for DEC_TOO_DEEP (always fatal)
 * and DEC_NOT_IP from a well-formed inner Ethernet frame (an ARP inside an
 * ERSPAN session is not IP, and the session itself is not a flow). */
#ifndef DECODE_INT_H
#define DECODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Internal error value for counter c, and back. */
#define DEC_ERR(c) (-1 - (int)(c))
#define DEC_REASON(rc) (-1 - (rc))

/* Returned by the tunnel functions when nothing was decapsulated. */
#define DEC_NOT_TUNNEL 1

/* IP protocol numbers used across the decoder. */
enum {
    DEC_IPPROTO_HOPOPTS = 0,
    DEC_IPPROTO_ICMP = 1,
    DEC_IPPROTO_IPIP = 4,
    DEC_IPPROTO_TCP = 6,
    DEC_IPPROTO_UDP = 17,
    DEC_IPPROTO_IPV6 = 41,
    DEC_IPPROTO_ROUTING = 43,
    DEC_IPPROTO_FRAGMENT = 44,
    DEC_IPPROTO_GRE = 47,
    DEC_IPPROTO_ESP = 50,
    DEC_IPPROTO_AH = 51,
    DEC_IPPROTO_ICMPV6 = 58,
    DEC_IPPROTO_DSTOPTS = 60,
    DEC_IPPROTO_SCTP = 132,
};

/* EtherType values the decoder acts on. */
enum {
    DEC_ETH_IPV4 = 0x0800,
    DEC_ETH_IPV6 = 0x86dd,
    DEC_ETH_VLAN = 0x8100,
    DEC_ETH_QINQ = 0x88a8,
    DEC_ETH_QINQ_OLD = 0x9100,
    DEC_ETH_MPLS_UC = 0x8847,
    DEC_ETH_MPLS_MC = 0x8848,
    DEC_ETH_PPPOE_SESS = 0x8864,
    DEC_ETH_TEB = 0x6558,      /* transparent Ethernet bridging (GRE) */
    DEC_ETH_ERSPAN_2 = 0x88be, /* ERSPAN type I and II (GRE) */
    DEC_ETH_ERSPAN_3 = 0x22eb, /* ERSPAN type III (GRE) */
};

/* UDP ports that announce a tunnel. */
#define DEC_PORT_VXLAN 4789
#define DEC_PORT_GTPU 2152

/* Count one more encapsulation layer and set tunnel bits tun (PKT_TUN_*,
 * may be 0). Returns 0, or DEC_ERR(DEC_TOO_DEEP) past DECODE_MAX_LAYERS. */
int decode_layer(struct packet *pkt, int tun);

/* Decode an Ethernet II / 802.3 frame of len bytes at p (decode.c). */
int decode_ether(const uint8_t *p, size_t len, struct packet *pkt);

/* Decode what follows an EtherType: IP, VLAN tags, MPLS, PPPoE (decode.c).
 * Unknown types return DEC_ERR(DEC_NOT_IP). */
int decode_ethertype(uint16_t type, const uint8_t *p, size_t len, struct packet *pkt);

/* Decode an IPv4 or IPv6 datagram at p; the version nibble decides
 * (decode-ip.c). An empty buffer is DEC_IPV4_TRUNCATED, another version
 * DEC_IPV4_BAD_VERSION. */
int decode_ip(const uint8_t *p, size_t len, struct packet *pkt);

/* Decode an IPv4 / IPv6 datagram and its transport header (decode-ip.c).
 * They overwrite every per-datagram field of pkt (addresses, ports, l3,
 * payload, ...) but keep depth, tunnels and vlan. */
int decode_ipv4(const uint8_t *p, size_t len, struct packet *pkt);
int decode_ipv6(const uint8_t *p, size_t len, struct packet *pkt);

/* Decapsulate the payload of IP protocol proto (GRE 47, IPv4 4, IPv6 41)
 * found at p, len captured bytes (decode-tunnel.c). Returns 0 with pkt
 * describing the inner datagram, DEC_NOT_TUNNEL with pkt untouched, or
 * DEC_ERR(reason) when the tunnel header itself is truncated or invalid, or
 * the inner frame hits one of the fatal reasons above. */
int decode_tunnel_ip(uint8_t proto, const uint8_t *p, size_t len, struct packet *pkt);

/* Try VXLAN (destination port 4789) and GTP-U (port 2152 either side) on a
 * UDP payload; pkt holds the outer UDP datagram (decode-tunnel.c). Same
 * returns as decode_tunnel_ip(), except that a missing or malformed tunnel
 * header is DEC_NOT_TUNNEL: a port number is only a guess. */
int decode_tunnel_udp(const uint8_t *p, size_t len, struct packet *pkt);

#endif
