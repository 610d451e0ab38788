/* dissector.h -- protocols the sensor parses itself: one file per protocol,
 * one registry.
 *
 * A vendor-protocol dissector looks at the first payload packets of a flow
 * whose server port is one it declares, and answers DIS_MATCH (the flow
 * speaks that protocol: its verdict name becomes evidence for signatures),
 * DIS_NEED_MORE (undecided: show me the next payload packet) or
 * DIS_NOT_MINE. Dissectors are stateless between calls, never allocate,
 * print or exit, and read packet bytes only through struct rd (sensor/rd.h).
 * On a match a dissector may also describe the device in one line (struct
 * dis_packet's detail).
 *
 * Adding one touches its own file, one line in the registry
 * (dissectors/registry.c), the Makefile source list and its test. */
#ifndef DISSECTOR_H
#define DISSECTOR_H

#include <stddef.h>
#include <stdint.h>

enum dis_result {
    DIS_NOT_MINE = 0,
    DIS_NEED_MORE = 1,
    DIS_MATCH = 2,
};

/* One payload packet of a flow, oriented: to_server is 1 for client ->
 * server. Ports in host order. The payload is borrowed for the call.
 *
 * detail is an optional output: the caller's buffer of detail_len bytes,
 * or NULL (detail_len 0) when it does not want one. A dissector that
 * answers DIS_MATCH may write there, with dis_detail(), one NUL-terminated
 * line describing the device in the words of the format's source ("ClusterXL
 * CCP version 3121, cluster number 10117, source machine ID 1"): only what
 * the bytes say, never a guess. It writes nothing for the other answers and
 * may write nothing at all, so the caller sets detail[0] = '\0' before the
 * call. DIS_DETAIL_MAX is enough for every dissector's line; a shorter
 * buffer gets it cut. */
struct dis_packet {
    const uint8_t *payload;
    size_t len;
    uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
    uint8_t to_server;
    uint16_t sport; /* client port */
    uint16_t dport; /* server port */
    uint32_t index; /* 0 for the flow's first payload packet, 1 for the next... */
    char *detail;   /* out, optional: see above */
    size_t detail_len;
};

#define DIS_DETAIL_MAX 128

#define DIS_MAX_PORTS 8

struct dissector {
    const char *name;              /* verdict name used by signatures, e.g. "fortiguard-rating" */
    const char *summary;           /* one line for --list-signatures and the README */
    uint8_t proto;                 /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t ports[DIS_MAX_PORTS]; /* server ports it inspects (0 = unused slot) */
    uint8_t max_packets;           /* payload packets it may ask for before giving up */
    int (*dissect)(const struct dis_packet *pkt);
};

/* The registry: every dissector, in a fixed order. */
extern const struct dissector *const dis_registry[];
extern const size_t dis_registry_len;

/* Index in dis_registry of the dissector named name, or -1. */
int dis_find(const char *name);

/* Bitmask of the registry entries interested in a flow (bit i = entry i),
 * from its transport and server port. 0 when none: the common case, decided
 * once per flow. */
uint32_t dis_interest(uint8_t proto, uint16_t dport);

/* Whether a client's first payload starts with a TLS handshake record
 * (RFC 8446 5.1, RFC 5246 6.2.1) carrying a ClientHello: content type 22,
 * record version 3.0-3.4, record length 4..16384, handshake type 1, a body
 * long enough for the fixed ClientHello fields, client version 3.0-3.4.
 * Needs the first 11 bytes; fewer is 0. Returns 1 or 0, never fails. */
int dis_tls_client_hello(const uint8_t *payload, size_t len);

/* Write the printf-style line fmt into pkt->detail (see struct dis_packet),
 * cut to fit detail_len and always NUL-terminated. Does nothing when the
 * caller passed no buffer (detail NULL or detail_len 0). Never fails; for
 * dissectors, on the DIS_MATCH path only. */
void dis_detail(const struct dis_packet *pkt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
