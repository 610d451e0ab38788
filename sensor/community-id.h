/* community-id.h -- Community ID flow hash, version 1.
 *
 * The flow hash shared by Zeek, Suricata and Arkime: base64 of SHA-1 over
 * seed, ordered addresses, protocol, padding and ordered ports, prefixed "1:".
 * Specification: https://github.com/corelight/community-id-spec */
#ifndef COMMUNITY_ID_H
#define COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_LEN 31

/* Compute the Community ID v1 of a flow. af is 4 or 6; addresses are in
 * network byte order (4 or 16 bytes); ports in host order. For ICMP and
 * ICMPv6 pass the type as sport and the code as dport: the spec's
 * request/reply mapping is applied here. For protocols without ports pass 0.
 * Writes a NUL-terminated string to out (at least COMMUNITY_ID_LEN bytes).
 * Returns 0, or -1 when the hash could not be computed (out is then ""). */
int community_id_v1(uint16_t seed, int af, const uint8_t *saddr, const uint8_t *daddr,
                    uint8_t proto, uint16_t sport, uint16_t dport, char *out, size_t outlen);

/* The same in two steps, for a flow that keeps the hash (20 bytes) and
 * writes the text only when a record needs it. community_id_v1_hash()
 * returns 0, or -1 (md zeroed) on a bad address family or a libcrypto
 * failure; community_id_encode() writes "1:<base64>" (out: at least
 * COMMUNITY_ID_LEN bytes; "" for an all-zero hash) and cannot fail. */
#define COMMUNITY_ID_HASH_LEN 20
int community_id_v1_hash(uint16_t seed, int af, const uint8_t *saddr, const uint8_t *daddr,
                         uint8_t proto, uint16_t sport, uint16_t dport,
                         uint8_t md[COMMUNITY_ID_HASH_LEN]);
void community_id_encode(const uint8_t md[COMMUNITY_ID_HASH_LEN], char out[COMMUNITY_ID_LEN]);

#endif
