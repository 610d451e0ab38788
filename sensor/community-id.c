/* community-id.c -- Community ID flow hash, version 1.
 *
 * Follows https://github.com/corelight/community-id-spec (README "Pseudo
 * code" and the reference community-id.py). The SHA-1 input is, all in
 * network byte order:
 *
 *   seed (2) | lower addr (4/16) | higher addr (4/16) | proto (1) | 0 (1)
 *   | lower-side port (2) | higher-side port (2)
 *
 * The ports are present only for TCP, UDP, SCTP, ICMP and ICMPv6. ICMP types
 * are mapped to port equivalents the way Zeek does it (pycommunityid's
 * icmp.py and icmp6.py): a request/reply type becomes (type, counterpart
 * type), so both directions hash alike; any other type is one-way and keeps
 * (type, code) and its direction, without ordering. */

#include "community-id.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#define CID_PROTO_ICMP 1
#define CID_PROTO_TCP 6
#define CID_PROTO_UDP 17
#define CID_PROTO_ICMP6 58
#define CID_PROTO_SCTP 132

#define CID_SHA1_LEN 20

/* The counterpart of a two-way ICMP type, or -1 for a one-way type. */
static int cid_icmp4_counterpart(uint16_t type)
{
    switch (type) {
    case 8: /* echo */
        return 0;
    case 0: /* echo reply */
        return 8;
    case 13: /* timestamp */
        return 14;
    case 14: /* timestamp reply */
        return 13;
    case 15: /* information request */
        return 16;
    case 16: /* information reply */
        return 15;
    case 10: /* router solicitation */
        return 9;
    case 9: /* router advertisement */
        return 10;
    case 17: /* address mask request */
        return 18;
    case 18: /* address mask reply */
        return 17;
    default:
        return -1;
    }
}

/* The same for ICMPv6. */
static int cid_icmp6_counterpart(uint16_t type)
{
    switch (type) {
    case 128: /* echo request */
        return 129;
    case 129: /* echo reply */
        return 128;
    case 130: /* MLD listener query */
        return 131;
    case 131: /* MLD listener report */
        return 130;
    case 133: /* router solicitation */
        return 134;
    case 134: /* router advertisement */
        return 133;
    case 135: /* neighbor solicitation */
        return 136;
    case 136: /* neighbor advertisement */
        return 135;
    case 139: /* node information (who are you) query */
        return 140;
    case 140: /* node information reply */
        return 139;
    case 144: /* home agent address discovery request */
        return 145;
    case 145: /* home agent address discovery reply */
        return 144;
    default:
        return -1;
    }
}

static bool cid_has_ports(uint8_t proto)
{
    return proto == CID_PROTO_TCP || proto == CID_PROTO_UDP || proto == CID_PROTO_SCTP ||
           proto == CID_PROTO_ICMP || proto == CID_PROTO_ICMP6;
}

static void cid_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int community_id_v1_hash(uint16_t seed, int af, const uint8_t *saddr, const uint8_t *daddr,
                         uint8_t proto, uint16_t sport, uint16_t dport,
                         uint8_t md[COMMUNITY_ID_HASH_LEN])
{
    uint8_t buf[2 + 16 + 16 + 1 + 1 + 2 + 2];
    uint8_t full[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t alen, n = 0;
    bool one_way = false;

    memset(md, 0, COMMUNITY_ID_HASH_LEN);
    if (saddr == NULL || daddr == NULL)
        return -1;
    if (af == 4)
        alen = 4;
    else if (af == 6)
        alen = 16;
    else
        return -1;

    if (proto == CID_PROTO_ICMP || proto == CID_PROTO_ICMP6) {
        int peer =
            proto == CID_PROTO_ICMP ? cid_icmp4_counterpart(sport) : cid_icmp6_counterpart(sport);
        if (peer >= 0)
            dport = (uint16_t)peer; /* the code does not count */
        else
            one_way = true;
    }

    /* The smaller address (then the smaller port) goes first. */
    if (!one_way) {
        int cmp = memcmp(saddr, daddr, alen);
        if (cmp > 0 || (cmp == 0 && sport > dport)) {
            const uint8_t *ta = saddr;
            uint16_t tp = sport;
            saddr = daddr;
            daddr = ta;
            sport = dport;
            dport = tp;
        }
    }

    cid_put16(buf + n, seed);
    n += 2;
    memcpy(buf + n, saddr, alen);
    n += alen;
    memcpy(buf + n, daddr, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    if (cid_has_ports(proto)) {
        cid_put16(buf + n, sport);
        n += 2;
        cid_put16(buf + n, dport);
        n += 2;
    }

    if (EVP_Digest(buf, n, full, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != CID_SHA1_LEN)
        return -1;
    memcpy(md, full, COMMUNITY_ID_HASH_LEN);
    return 0;
}

void community_id_encode(const uint8_t md[COMMUNITY_ID_HASH_LEN], char out[COMMUNITY_ID_LEN])
{
    static const uint8_t zero[COMMUNITY_ID_HASH_LEN];
    out[0] = '\0';
    if (memcmp(md, zero, sizeof(zero)) == 0)
        return;
    /* 20 bytes encode to 28 base64 characters plus the NUL EVP writes. */
    out[0] = '1';
    out[1] = ':';
    if (EVP_EncodeBlock((unsigned char *)out + 2, md, COMMUNITY_ID_HASH_LEN) != 28)
        out[0] = '\0';
}

/* Write "1:<base64 SHA-1>" for the flow to out. Nothing is allocated and
 * nothing is kept. Returns -1, with out set to "" when there is room for
 * it, on a bad address family, NULL pointers, outlen < COMMUNITY_ID_LEN or a
 * libcrypto failure. */
int community_id_v1(uint16_t seed, int af, const uint8_t *saddr, const uint8_t *daddr,
                    uint8_t proto, uint16_t sport, uint16_t dport, char *out, size_t outlen)
{
    uint8_t md[COMMUNITY_ID_HASH_LEN];

    if (out == NULL || outlen == 0)
        return -1;
    out[0] = '\0';
    if (outlen < COMMUNITY_ID_LEN)
        return -1;
    if (community_id_v1_hash(seed, af, saddr, daddr, proto, sport, dport, md) < 0)
        return -1;
    community_id_encode(md, out);
    return out[0] != '\0' ? 0 : -1;
}
