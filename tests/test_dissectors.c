/* test_dissectors.c -- the vendor dissectors and their registry: what each
 * accepts and refuses, and every truncation of every sample. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "dissector.h"

/* ------------------------------------------------------------ samples */

/* TLS 1.2 ClientHello as sent by OpenSSL (Python ssl module), SNI
 * dev-prod05.conferdeploy.net: record 16 03 01 00a7, handshake type 01. */
static const uint8_t tls_client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0xa7, 0x01, 0x00, 0x00, 0xa3, 0x03, 0x03, 0xb9, 0xf7, 0x5f, 0x1f, 0x9f,
    0x90, 0x27, 0xea, 0x04, 0x40, 0x05, 0xba, 0x2e, 0x15, 0x82, 0x3f, 0x53, 0x77, 0xd7, 0x97, 0xdd,
    0x70, 0xef, 0xe2, 0x30, 0xb0, 0xae, 0x03, 0xd9, 0xd4, 0x90, 0xf6, 0x00, 0x00, 0x04, 0xc0, 0x2f,
    0x00, 0xff, 0x01, 0x00, 0x00, 0x76, 0x00, 0x00, 0x00, 0x20, 0x00, 0x1e, 0x00, 0x00, 0x1b, 0x64,
    0x65, 0x76, 0x2d, 0x70, 0x72, 0x6f, 0x64, 0x30, 0x35, 0x2e, 0x63, 0x6f, 0x6e, 0x66, 0x65, 0x72,
    0x64, 0x65, 0x70, 0x6c, 0x6f, 0x79, 0x2e, 0x6e, 0x65, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00,
    0x01, 0x02, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19,
    0x00, 0x18, 0x00, 0x23, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d,
    0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09,
    0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01,
    0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02,
};

/* FGFM frame in the clear, laid out as the catalogue describes it (magic
 * 36 E0 11 00, big-endian total length 0x76 = 118 including the 8-byte
 * header, key=value lines ending \r\n\r\n\0): "get auth", a FortiGate-VM
 * serial, mgmtid and platform. No capture of the real thing is public. */
static const uint8_t fgfm_frame[] = {
    0x36, 0xe0, 0x11, 0x00, 0x00, 0x00, 0x00, 0x76, 0x67, 0x65, 0x74, 0x20, 0x61, 0x75, 0x74,
    0x68, 0x0d, 0x0a, 0x73, 0x65, 0x72, 0x69, 0x61, 0x6c, 0x6e, 0x6f, 0x3d, 0x46, 0x47, 0x56,
    0x4d, 0x30, 0x32, 0x54, 0x4d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x0d, 0x0a,
    0x6d, 0x67, 0x6d, 0x74, 0x69, 0x64, 0x3d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
    0x2d, 0x30, 0x30, 0x30, 0x30, 0x2d, 0x30, 0x30, 0x30, 0x30, 0x2d, 0x30, 0x30, 0x30, 0x30,
    0x2d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x0d, 0x0a,
    0x70, 0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72, 0x6d, 0x3d, 0x46, 0x6f, 0x72, 0x74, 0x69, 0x47,
    0x61, 0x74, 0x65, 0x2d, 0x56, 0x4d, 0x36, 0x34, 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
};

/* Stand-in for a legacy FortiGuard rating query: the text
 * "SN=FGT60E4Q16012050|URL=http://example.com/index.html|" XORed with an
 * arbitrary 16-byte key. The real layout and key are not public; what
 * matters here is that it is neither DNS nor any excluded protocol. */
static const uint8_t fgd_query[] = {
    0x09, 0x5d, 0xfa, 0xce, 0x66, 0xca, 0x72, 0xc0, 0x4e, 0x59, 0xe3, 0x06, 0xdf, 0x41,
    0x33, 0x9e, 0x6a, 0x26, 0xf7, 0xf4, 0x74, 0xcc, 0x08, 0xcd, 0x63, 0x19, 0xc6, 0x47,
    0xd3, 0x5e, 0x2d, 0xc9, 0x22, 0x72, 0xaa, 0xf8, 0x4d, 0xfb, 0x6a, 0x93, 0x64, 0x00,
    0x9d, 0x5e, 0x87, 0x15, 0x67, 0xd4, 0x74, 0x7b, 0xb3, 0xe5, 0x4d, 0xe2,
};

/* DNS query: update.fortiguard.net A (scapy). */
static const uint8_t dns_query[] = {
    0x20, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
    0x75, 0x70, 0x64, 0x61, 0x74, 0x65, 0x0a, 0x66, 0x6f, 0x72, 0x74, 0x69, 0x67,
    0x75, 0x61, 0x72, 0x64, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};

/* STUN Binding Request (RFC 8489): type 0001, length 16, magic cookie
 * 2112A442, transaction id 10..1b, SOFTWARE "egress-tests". */
static const uint8_t stun_binding[] = {
    0x00, 0x01, 0x00, 0x10, 0x21, 0x12, 0xa4, 0x42, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x80, 0x22, 0x00, 0x0c,
    0x65, 0x67, 0x72, 0x65, 0x73, 0x73, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x73,
};

/* WireGuard handshake initiation shape: type 1, three zero bytes, sender
 * index 0x1a2b3c4d (LE), then 140 bytes standing in for the ephemeral key,
 * encrypted static, timestamp and MACs; 148 bytes in all. */
static const uint8_t wg_init[] = {
    0x01, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0xa5, 0x4d, 0xca, 0x18, 0x25, 0x30, 0xbb,
    0x1d, 0x6d, 0x13, 0x2c, 0xde, 0xd6, 0x23, 0x7b, 0x2e, 0xd9, 0x1e, 0x3f, 0x72, 0x1f, 0xcb,
    0x19, 0x71, 0x17, 0x44, 0x94, 0xd6, 0x49, 0x3c, 0x9d, 0x5c, 0x34, 0x60, 0xbe, 0x31, 0x20,
    0x1e, 0x69, 0xfe, 0xda, 0xa0, 0xee, 0xe8, 0xb9, 0x99, 0x7f, 0x5c, 0x7c, 0x29, 0x99, 0xfd,
    0xaf, 0xe5, 0x93, 0x25, 0x3c, 0xd6, 0x54, 0xaf, 0x4d, 0xfa, 0xd7, 0x14, 0x27, 0xa0, 0xae,
    0xb3, 0xfe, 0xe9, 0x23, 0x2f, 0x8a, 0xf2, 0x21, 0x1f, 0x9e, 0xe4, 0x91, 0xc5, 0xb1, 0x0b,
    0xec, 0xb5, 0x56, 0x3b, 0xfc, 0x1e, 0x6f, 0x93, 0x42, 0x7e, 0xcb, 0xc8, 0xfe, 0x29, 0x55,
    0xe5, 0xcd, 0x8e, 0x46, 0xdc, 0x8e, 0xd4, 0xb7, 0xc2, 0x76, 0x4d, 0x2a, 0x5a, 0x4d, 0x76,
    0x77, 0x06, 0xf8, 0x5d, 0x86, 0x90, 0x02, 0x4a, 0xd6, 0xbd, 0xa3, 0x40, 0x1b, 0xe9, 0xc8,
    0xcb, 0xcc, 0xc9, 0x35, 0xf6, 0xcd, 0x1f, 0x61, 0x22, 0x6a, 0xe1, 0x53, 0x38,
};

/* Stand-in for a VCMP overlay packet: 120 bytes of pseudo-random data (the
 * payload is encrypted and no layout or capture is public). */
static const uint8_t vcmp_sample[] = {
    0xe7, 0xee, 0xe7, 0x61, 0x5e, 0xf3, 0x5f, 0x30, 0xe4, 0x9b, 0x48, 0x2e, 0x15, 0xca, 0xe7,
    0x50, 0x07, 0x20, 0x1e, 0x12, 0x61, 0x7b, 0x0f, 0xed, 0xa7, 0xe1, 0x64, 0x77, 0x96, 0xff,
    0x02, 0x2b, 0xea, 0x8e, 0xd0, 0x2a, 0x82, 0xa1, 0x75, 0x93, 0x0f, 0x23, 0x37, 0xcd, 0x37,
    0x94, 0xc5, 0x22, 0x08, 0x00, 0x6d, 0x6b, 0x1a, 0xf0, 0xc0, 0xcb, 0xd6, 0x25, 0x65, 0x8a,
    0xac, 0x2c, 0x9f, 0xaa, 0x07, 0xd1, 0x3c, 0x44, 0x7e, 0x33, 0x05, 0x1e, 0xee, 0xf9, 0x5a,
    0x60, 0xe5, 0x61, 0x43, 0xd6, 0xc4, 0x3b, 0xca, 0xd7, 0x6c, 0x00, 0x8a, 0x9b, 0x0a, 0x6b,
    0x5f, 0xc9, 0x33, 0x15, 0x4a, 0x6d, 0xe2, 0x84, 0x04, 0xa8, 0x97, 0xc5, 0x25, 0x26, 0x2e,
    0x6a, 0x7c, 0x07, 0xbc, 0xbe, 0xe8, 0x41, 0xf7, 0x45, 0xc5, 0x5d, 0x4e, 0x9f, 0x74, 0x7f,
};

/* Check Point ClusterXL CCP, the one datagram of the shared corpus's
 * cpha.pcap: 0.0.0.0:8116 -> 172.21.3.0:8116, VLAN 21, source MAC
 * 00:00:00:00:01:01, 50 bytes. Header (Wireshark's names): magic 1a90,
 * version 0x0c31 = 3121, cluster number 0x2785 = 10117, opcode 1
 * FWHA_MY_STATE, source interface 22, random ID 0x793e, source machine ID
 * 1, destination machine ID 0xfffe, policy ID 0xe04a, filler 0x0100; then
 * 30 bytes of FWHA_MY_STATE body. */
static const uint8_t ccp_my_state[] = {
    0x1a, 0x90, 0x0c, 0x31, 0x27, 0x85, 0x00, 0x01, 0x00, 0x16, 0x79, 0x3e, 0x00,
    0x01, 0xff, 0xfe, 0xe0, 0x4a, 0x01, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
    0x08, 0x0a, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x02, 0x04, 0x09,
    0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
};

/* Avast agent, shared corpus avast.pcap, 192.168.2.100:64357 ->
 * 5.62.54.29:80: the client's first payload, "NOSA", length 0x0060 = 96 =
 * the whole payload, then 90 bytes of body. */
static const uint8_t avast_client[] = {
    0x4e, 0x4f, 0x53, 0x41, 0x00, 0x60, 0x01, 0x01, 0x00, 0x00, 0x03, 0x01, 0x08, 0xb2, 0x5a, 0x29,
    0x42, 0x52, 0x45, 0x14, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x2e, 0xb3, 0xa6, 0xae, 0xc4, 0x31, 0x43,
    0x91, 0xf9, 0x1f, 0xf0, 0xdc, 0x39, 0xb4, 0x22, 0x8f, 0x65, 0x6c, 0x10, 0x4c, 0x49, 0x43, 0x14,
    0x2e, 0x22, 0x9d, 0xcf, 0xea, 0x64, 0xfd, 0xad, 0x51, 0x67, 0x61, 0x60, 0x0e, 0xcb, 0xdc, 0x90,
    0xed, 0xbb, 0x2f, 0xee, 0x2e, 0x27, 0xaf, 0x34, 0x4c, 0x55, 0x4e, 0x10, 0x02, 0xc6, 0x4b, 0xde,
    0x00, 0x96, 0x0f, 0x8c, 0x74, 0xa3, 0x7d, 0x16, 0x95, 0x54, 0x5a, 0xc9, 0x85, 0xfd, 0x08, 0x50,
};

/* The server's answer on the same connection: "NOSA", length 0x0010 = 16. */
static const uint8_t avast_server[] = {
    0x4e, 0x4f, 0x53, 0x41, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0xe8, 0xe6, 0x7a, 0x0c,
};

/* Later messages of the capture: a client one of 40 bytes
 * (192.168.2.100:64903 -> 5.62.53.53:80) and a server one of 86
 * (5.62.53.131:80 -> 192.168.2.100:62741). */
static const uint8_t avast_client40[] = {
    0x4e, 0x4f, 0x53, 0x41, 0x00, 0x28, 0x01, 0x04, 0x00, 0x00, 0x01, 0x00, 0x3c, 0x79,
    0xbf, 0xe0, 0x42, 0x52, 0x45, 0x14, 0xf8, 0x2e, 0xb3, 0xa6, 0xae, 0xc4, 0x31, 0x43,
    0x91, 0xf9, 0x1f, 0xf0, 0xdc, 0x39, 0xb4, 0x22, 0x8f, 0x65, 0x6c, 0x10,
};

static const uint8_t avast_server86[] = {
    0x4e, 0x4f, 0x53, 0x41, 0x00, 0x56, 0x01, 0x02, 0x00, 0x00, 0x01, 0x00, 0x02, 0xe6, 0x86,
    0x0a, 0x4c, 0x55, 0x4e, 0x10, 0x02, 0xf1, 0x6d, 0x5c, 0x26, 0x00, 0x00, 0x00, 0x62, 0xce,
    0xaf, 0xd5, 0x00, 0x96, 0x0f, 0x8c, 0x74, 0xa3, 0x7d, 0x16, 0x95, 0x54, 0x5a, 0xc9, 0x85,
    0xfd, 0x08, 0x50, 0x00, 0x11, 0x3e, 0x7f, 0x8f, 0x43, 0xb6, 0x4c, 0x0d, 0x88, 0x4d, 0x00,
    0xa3, 0x0f, 0xe8, 0x5a, 0x60, 0x30, 0x88, 0x48, 0xd8, 0xfb, 0x9f, 0xad, 0x5f, 0x23, 0x11,
    0x5f, 0x2b, 0x9f, 0x53, 0x55, 0xc7, 0xf0, 0x67, 0x04, 0x0c, 0x08,
};

/* ------------------------------------------------------------ helpers */

static const struct dissector *get(const char *name)
{
    int i = dis_find(name);
    assert_true(i >= 0);
    return dis_registry[i];
}

/* The client port of a test flow to dport: ClusterXL members talk from
 * 8116 to 8116, everything else from an ephemeral port. */
static uint16_t client_port(const struct dissector *d, uint16_t dport)
{
    return strcmp(d->name, "checkpoint-ccp") == 0 ? dport : 50123;
}

/* Run d on payload p as packet `index` of a flow to its first port. */
static int run(const struct dissector *d, const uint8_t *p, size_t len, int to_server,
               uint32_t index)
{
    struct dis_packet pkt = {
        .payload = p,
        .len = len,
        .proto = d->proto,
        .to_server = (uint8_t)to_server,
        .sport = client_port(d, d->ports[0]),
        .dport = d->ports[0],
        .index = index,
    };
    return d->dissect(&pkt);
}

static int run_port(const struct dissector *d, uint16_t dport, const uint8_t *p, size_t len)
{
    struct dis_packet pkt = {
        .payload = p,
        .len = len,
        .proto = d->proto,
        .to_server = 1,
        .sport = client_port(d, dport),
        .dport = dport,
    };
    return d->dissect(&pkt);
}

/* Run d on p (client to server, first packet) with a detail buffer of
 * detail_len bytes at detail, cleared first as callers must. */
static int run_detail(const struct dissector *d, const uint8_t *p, size_t len, char *detail,
                      size_t detail_len)
{
    if (detail_len > 0)
        detail[0] = '\0';
    struct dis_packet pkt = {
        .payload = p,
        .len = len,
        .proto = d->proto,
        .to_server = 1,
        .sport = client_port(d, d->ports[0]),
        .dport = d->ports[0],
        .detail = detail,
        .detail_len = detail_len,
    };
    return d->dissect(&pkt);
}

/* ------------------------------------------------------------ registry */

static void test_registry(void **state)
{
    (void)state;
    assert_true(dis_registry_len >= 7);
    assert_true(dis_registry_len <= 32);
    for (size_t i = 0; i < dis_registry_len; i++) {
        const struct dissector *d = dis_registry[i];
        assert_non_null(d->name);
        assert_non_null(d->summary);
        assert_non_null(d->dissect);
        assert_true(d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP);
        assert_true(d->ports[0] != 0);
        assert_true(d->max_packets > 0);
        assert_int_equal(dis_find(d->name), (int)i);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(dis_registry[j]->name, d->name);
    }
    assert_int_equal(dis_find("no-such-protocol"), -1);
    assert_int_equal(dis_find(NULL), -1);
}

static uint32_t bit(const char *name)
{
    return (uint32_t)1 << dis_find(name);
}

static void test_interest(void **state)
{
    (void)state;
    assert_int_equal(dis_interest(IPPROTO_UDP, 8888), bit("fortiguard-rating"));
    assert_int_equal(dis_interest(IPPROTO_UDP, 53), bit("fortiguard-rating"));
    assert_int_equal(dis_interest(IPPROTO_TCP, 53), 0);
    assert_int_equal(dis_interest(IPPROTO_TCP, 541), bit("fortinet-fgfm"));
    assert_int_equal(dis_interest(IPPROTO_TCP, 542), bit("fortinet-fgfm"));
    const uint16_t cp[] = {18191, 18192, 18210, 18211, 18264, 257, 256, 18190};
    for (size_t i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
        assert_int_equal(dis_interest(IPPROTO_TCP, cp[i]), bit("checkpoint-mgmt"));
    assert_int_equal(dis_interest(IPPROTO_UDP, 18191), 0);
    assert_int_equal(dis_interest(IPPROTO_UDP, 2426), bit("velocloud-vcmp"));
    assert_int_equal(dis_interest(IPPROTO_TCP, 54443), bit("carbonblack-backup"));
    assert_int_equal(dis_interest(IPPROTO_UDP, 8116), bit("checkpoint-ccp"));
    assert_int_equal(dis_interest(IPPROTO_TCP, 8116), 0);
    assert_int_equal(dis_interest(IPPROTO_TCP, 80), bit("avast-nosa"));
    assert_int_equal(dis_interest(IPPROTO_UDP, 80), 0);
    assert_int_equal(dis_interest(IPPROTO_TCP, 443), 0);
    assert_int_equal(dis_interest(IPPROTO_TCP, 0), 0);
    assert_int_equal(dis_interest(IPPROTO_UDP, 0), 0);
    assert_int_equal(dis_interest(1, 8888), 0); /* ICMP */
}

static void test_tls_helper(void **state)
{
    (void)state;
    uint8_t b[sizeof(tls_client_hello)];
    assert_int_equal(dis_tls_client_hello(tls_client_hello, sizeof(tls_client_hello)), 1);
    /* 11 bytes are enough, 10 are not */
    assert_int_equal(dis_tls_client_hello(tls_client_hello, 11), 1);
    assert_int_equal(dis_tls_client_hello(tls_client_hello, 10), 0);
    /* not a handshake record (application data) */
    memcpy(b, tls_client_hello, sizeof(b));
    b[0] = 0x17;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    /* record version 3.5 */
    memcpy(b, tls_client_hello, sizeof(b));
    b[2] = 0x05;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    /* record length 0 and 16385 */
    memcpy(b, tls_client_hello, sizeof(b));
    b[3] = 0, b[4] = 0;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    b[3] = 0x40, b[4] = 0x01;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    /* a ServerHello */
    memcpy(b, tls_client_hello, sizeof(b));
    b[5] = 2;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    /* a body too short for a ClientHello */
    memcpy(b, tls_client_hello, sizeof(b));
    b[6] = 0, b[7] = 0, b[8] = 40;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    /* client version 2.0 */
    memcpy(b, tls_client_hello, sizeof(b));
    b[9] = 2;
    assert_int_equal(dis_tls_client_hello(b, sizeof(b)), 0);
    assert_int_equal(dis_tls_client_hello(NULL, 0), 0);
}

/* ------------------------------------------------------------ FortiGuard */

static void test_fortiguard(void **state)
{
    (void)state;
    const struct dissector *d = get("fortiguard-rating");
    /* an obfuscated query on 8888 and on 53 */
    assert_int_equal(run_port(d, 8888, fgd_query, sizeof(fgd_query)), DIS_MATCH);
    assert_int_equal(run_port(d, 53, fgd_query, sizeof(fgd_query)), DIS_MATCH);
    /* real DNS is not, on either port */
    assert_int_equal(run_port(d, 53, dns_query, sizeof(dns_query)), DIS_NOT_MINE);
    assert_int_equal(run_port(d, 8888, dns_query, sizeof(dns_query)), DIS_NOT_MINE);
    /* nor STUN or WireGuard tunnelled over 53 */
    assert_int_equal(run_port(d, 53, stun_binding, sizeof(stun_binding)), DIS_NOT_MINE);
    assert_int_equal(run_port(d, 53, wg_init, sizeof(wg_init)), DIS_NOT_MINE);
    /* too short to carry a serial number and a URL */
    assert_int_equal(run_port(d, 8888, fgd_query, 31), DIS_NOT_MINE);
    assert_int_equal(run_port(d, 8888, fgd_query, 32), DIS_MATCH);
    /* judged on the client's payload only */
    assert_int_equal(run(d, fgd_query, sizeof(fgd_query), 0, 0), DIS_NEED_MORE);
    /* UDP only */
    struct dis_packet pkt = {.payload = fgd_query,
                             .len = sizeof(fgd_query),
                             .proto = IPPROTO_TCP,
                             .to_server = 1,
                             .dport = 8888};
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
}

/* ------------------------------------------------------------ FGFM */

static void test_fgfm(void **state)
{
    (void)state;
    const struct dissector *d = get("fortinet-fgfm");
    uint8_t b[sizeof(fgfm_frame)];
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, fgfm_frame, sizeof(fgfm_frame), 1, 0), DIS_MATCH);
    assert_int_equal(run_port(d, 542, fgfm_frame, sizeof(fgfm_frame)), DIS_MATCH);
    /* the header alone is enough */
    assert_int_equal(run(d, fgfm_frame, 8, 1, 0), DIS_MATCH);
    /* length below the header's own 8 bytes, and absurdly long */
    memcpy(b, fgfm_frame, sizeof(b));
    b[7] = 7;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    b[4] = 0x7f;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    /* wrong magic */
    memcpy(b, fgfm_frame, sizeof(b));
    b[1] = 0xe1;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    /* something else entirely: HTTP */
    const uint8_t http[] = "GET / HTTP/1.1\r\nHost: fmg.example\r\n\r\n";
    assert_int_equal(run(d, http, sizeof(http) - 1, 1, 0), DIS_NOT_MINE);
    /* the client has not spoken yet */
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
    assert_int_equal(run(d, fgfm_frame, sizeof(fgfm_frame), 0, 0), DIS_NEED_MORE);
}

/* ------------------------------------------------------------ Check Point */

static void test_checkpoint(void **state)
{
    (void)state;
    const struct dissector *d = get("checkpoint-mgmt");
    for (size_t i = 0; i < DIS_MAX_PORTS && d->ports[i] != 0; i++)
        assert_int_equal(run_port(d, d->ports[i], tls_client_hello, sizeof(tls_client_hello)),
                         DIS_MATCH);
    assert_int_equal(run(d, fgfm_frame, sizeof(fgfm_frame), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, vcmp_sample, sizeof(vcmp_sample), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 0, 0), DIS_NEED_MORE);
    /* the client's ClientHello after a server banner still counts */
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 1, 1), DIS_MATCH);
}

/* ------------------------------------------------------------ VeloCloud */

static void test_velocloud(void **state)
{
    (void)state;
    const struct dissector *d = get("velocloud-vcmp");
    uint8_t zeros[64], big[3000];
    memset(zeros, 0, sizeof(zeros));
    memset(big, 0x5a, sizeof(big));
    /* the edge's packet waits for the gateway's answer; the answer matches
     * (a one-way flood to port 2426 never does) */
    assert_int_equal(run(d, vcmp_sample, sizeof(vcmp_sample), 1, 0), DIS_NEED_MORE);
    assert_int_equal(run(d, vcmp_sample, sizeof(vcmp_sample), 0, 1), DIS_MATCH);
    /* too small or too large: look at the next one */
    assert_int_equal(run(d, vcmp_sample, 19, 0, 1), DIS_NEED_MORE);
    assert_int_equal(run(d, vcmp_sample, 20, 0, 1), DIS_MATCH);
    assert_int_equal(run(d, big, sizeof(big), 0, 1), DIS_NEED_MORE);
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
    /* scanner probes */
    assert_int_equal(run(d, zeros, sizeof(zeros), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, dns_query, sizeof(dns_query), 1, 0), DIS_NOT_MINE);
    /* UDP only */
    struct dis_packet pkt = {.payload = vcmp_sample,
                             .len = sizeof(vcmp_sample),
                             .proto = IPPROTO_TCP,
                             .to_server = 1,
                             .dport = 2426};
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
}

/* ------------------------------------------------------------ Carbon Black */

static void test_carbonblack(void **state)
{
    (void)state;
    const struct dissector *d = get("carbonblack-backup");
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, fgfm_frame, sizeof(fgfm_frame), 1, 0), DIS_NOT_MINE);
    const uint8_t http[] = "POST /update2 HTTP/1.1\r\n\r\n";
    assert_int_equal(run(d, http, sizeof(http) - 1, 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
    struct dis_packet pkt = {.payload = tls_client_hello,
                             .len = sizeof(tls_client_hello),
                             .proto = IPPROTO_UDP,
                             .to_server = 1,
                             .dport = 54443};
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
}

/* ------------------------------------------------------------ ClusterXL CCP */

/* A pseudo-random generator for look-alike datagrams (xorshift32): the
 * same sequence on every run. */
static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_ccp(void **state)
{
    (void)state;
    const struct dissector *d = get("checkpoint-ccp");
    uint8_t b[sizeof(ccp_my_state)];
    char detail[DIS_DETAIL_MAX];

    /* the corpus datagram, in either direction, and what it says */
    assert_int_equal(run(d, ccp_my_state, sizeof(ccp_my_state), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, ccp_my_state, sizeof(ccp_my_state), 0, 1), DIS_MATCH);
    assert_int_equal(run_detail(d, ccp_my_state, sizeof(ccp_my_state), detail, sizeof(detail)),
                     DIS_MATCH);
    assert_string_equal(detail, "ClusterXL CCP version 3121, cluster number 10117, source "
                                "machine ID 1 (FWHA_MY_STATE)");
    /* no buffer, or a short one: the answer is the same, the line cut */
    assert_int_equal(run_detail(d, ccp_my_state, sizeof(ccp_my_state), NULL, 0), DIS_MATCH);
    assert_int_equal(run_detail(d, ccp_my_state, sizeof(ccp_my_state), detail, 10), DIS_MATCH);
    assert_string_equal(detail, "ClusterXL");
    /* the 20-byte header is enough; 19 bytes is not yet */
    assert_int_equal(run(d, ccp_my_state, 20, 1, 0), DIS_MATCH);
    assert_int_equal(run(d, ccp_my_state, 19, 1, 0), DIS_NEED_MORE);

    /* version 1 (FW-1 4.1) has a 16-byte header */
    memcpy(b, ccp_my_state, sizeof(b));
    b[2] = 0, b[3] = 1;
    assert_int_equal(run(d, b, 16, 1, 0), DIS_MATCH);
    assert_int_equal(run(d, b, 15, 1, 0), DIS_NEED_MORE);
    /* the Scalable Platform numbering (R76SP 62700) */
    b[2] = 0xf4, b[3] = 0xec;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_MATCH);

    /* implausible versions: 0, 4096, 0xffff */
    const uint16_t bad_versions[] = {0, 4096, 62699, 63000, 0xffff};
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
        memcpy(b, ccp_my_state, sizeof(b));
        b[2] = (uint8_t)(bad_versions[i] >> 8), b[3] = (uint8_t)bad_versions[i];
        assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
        /* decided as soon as the version is there */
        assert_int_equal(run(d, b, 4, 1, 0), DIS_NOT_MINE);
    }
    /* opcodes outside 1..10 */
    memcpy(b, ccp_my_state, sizeof(b));
    b[7] = 0;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    b[7] = 11;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, b, 8, 1, 0), DIS_NOT_MINE);
    b[7] = 10;
    assert_int_equal(run_detail(d, b, sizeof(b), detail, sizeof(detail)), DIS_MATCH);
    assert_non_null(strstr(detail, "(FWHAP_SYNC)"));
    /* a wrong magic, byte by byte */
    memcpy(b, ccp_my_state, sizeof(b));
    b[0] = 0x1b;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, b, 1, 1, 0), DIS_NOT_MINE);
    memcpy(b, ccp_my_state, sizeof(b));
    b[1] = 0x91;
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, b, 2, 1, 0), DIS_NOT_MINE);

    /* look-alikes on UDP 8116, all of which nDPI 4.2 calls CPHA by port */
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, dns_query, sizeof(dns_query), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, stun_binding, sizeof(stun_binding), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, wg_init, sizeof(wg_init), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, vcmp_sample, sizeof(vcmp_sample), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, fgd_query, sizeof(fgd_query), 1, 0), DIS_NOT_MINE);
    /* 20000 random datagrams of 21..120 bytes: not one is taken, and one in
     * 256 of them is given the magic so the later checks are exercised */
    uint32_t x = 0x2545f491;
    uint8_t rnd[120];
    for (int n = 0; n < 20000; n++) {
        size_t len = 21 + xorshift(&x) % 100;
        for (size_t i = 0; i < len; i++)
            rnd[i] = (uint8_t)xorshift(&x);
        if (n % 256 == 0)
            rnd[0] = 0x1a, rnd[1] = 0x90;
        assert_int_equal(run(d, rnd, len, 1, 0), DIS_NOT_MINE);
    }

    /* the ports: 8116 on both ends, UDP only */
    struct dis_packet pkt = {.payload = ccp_my_state,
                             .len = sizeof(ccp_my_state),
                             .proto = IPPROTO_UDP,
                             .to_server = 1,
                             .sport = 50123,
                             .dport = 8116};
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
    pkt.sport = 8116;
    assert_int_equal(d->dissect(&pkt), DIS_MATCH);
    pkt.proto = IPPROTO_TCP;
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
    /* nothing yet */
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
}

/* ------------------------------------------------------------ Avast */

static void test_avast(void **state)
{
    (void)state;
    const struct dissector *d = get("avast-nosa");
    uint8_t b[sizeof(avast_client)];
    char detail[DIS_DETAIL_MAX];

    /* the corpus messages, from either side */
    assert_int_equal(run(d, avast_client, sizeof(avast_client), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, avast_server, sizeof(avast_server), 0, 1), DIS_MATCH);
    assert_int_equal(run(d, avast_client40, sizeof(avast_client40), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, avast_server86, sizeof(avast_server86), 0, 1), DIS_MATCH);
    /* no source names a field worth a detail line */
    assert_int_equal(run_detail(d, avast_client, sizeof(avast_client), detail, sizeof(detail)),
                     DIS_MATCH);
    assert_string_equal(detail, "");

    /* two and three whole messages back to back in one segment */
    uint8_t two[sizeof(avast_server) + sizeof(avast_client40) + sizeof(avast_server)];
    memcpy(two, avast_server, sizeof(avast_server));
    memcpy(two + sizeof(avast_server), avast_client40, sizeof(avast_client40));
    assert_int_equal(run(d, two, sizeof(avast_server) + sizeof(avast_client40), 1, 0), DIS_MATCH);
    memcpy(two + sizeof(avast_server) + sizeof(avast_client40), avast_server, sizeof(avast_server));
    assert_int_equal(run(d, two, sizeof(two), 1, 0), DIS_MATCH);
    /* ... but not a whole message followed by something else */
    two[sizeof(avast_server)] = 'X';
    assert_int_equal(run(d, two, sizeof(two), 1, 0), DIS_NOT_MINE);
    /* nor nine messages (more than a segment of this protocol carries) */
    uint8_t nine[9 * sizeof(avast_server)];
    for (size_t i = 0; i < 9; i++)
        memcpy(nine + i * sizeof(avast_server), avast_server, sizeof(avast_server));
    assert_int_equal(run(d, nine, 8 * sizeof(avast_server), 1, 0), DIS_MATCH);
    assert_int_equal(run(d, nine, sizeof(nine), 1, 0), DIS_NOT_MINE);

    /* "NOSA" with a length that is absurd or does not fit the payload */
    const uint16_t bad_lengths[] = {0, 5, 95, 97, 0x6000, 0xffff};
    for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
        memcpy(b, avast_client, sizeof(b));
        b[4] = (uint8_t)(bad_lengths[i] >> 8), b[5] = (uint8_t)bad_lengths[i];
        assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    }
    /* the bare header: length 6, nothing after it */
    const uint8_t bare[] = {'N', 'O', 'S', 'A', 0x00, 0x06};
    assert_int_equal(run(d, bare, sizeof(bare), 1, 0), DIS_MATCH);
    /* a "NOSA" text that is not this protocol */
    const uint8_t text[] = "NOSA is not an agent\r\n";
    assert_int_equal(run(d, text, sizeof(text) - 1, 1, 0), DIS_NOT_MINE);
    /* a wrong magic; HTTP, the port's usual tenant; TLS */
    memcpy(b, avast_client, sizeof(b));
    b[3] = 'B';
    assert_int_equal(run(d, b, sizeof(b), 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, b, 4, 1, 0), DIS_NOT_MINE);
    const uint8_t http[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    assert_int_equal(run(d, http, sizeof(http) - 1, 1, 0), DIS_NOT_MINE);
    assert_int_equal(run(d, tls_client_hello, sizeof(tls_client_hello), 1, 0), DIS_NOT_MINE);
    /* a header cut short is undecided while it is a prefix of "NOSA" */
    assert_int_equal(run(d, avast_client, 3, 1, 0), DIS_NEED_MORE);
    assert_int_equal(run(d, avast_client, 5, 1, 0), DIS_NEED_MORE);
    assert_int_equal(run(d, NULL, 0, 1, 0), DIS_NEED_MORE);
    /* TCP only */
    struct dis_packet pkt = {.payload = avast_client,
                             .len = sizeof(avast_client),
                             .proto = IPPROTO_UDP,
                             .to_server = 1,
                             .dport = 80};
    assert_int_equal(d->dissect(&pkt), DIS_NOT_MINE);
}

/* ------------------------------------------------------------ detail */

/* dis_detail() writes only into a buffer the caller gave; the dissectors
 * that have nothing to say leave it as it was. */
static void test_detail(void **state)
{
    (void)state;
    char buf[16];
    struct dis_packet pkt = {.detail = buf, .detail_len = sizeof(buf)};
    dis_detail(&pkt, "%s %d", "member", 2);
    assert_string_equal(buf, "member 2");
    dis_detail(&pkt, "%s", "a line longer than sixteen bytes");
    assert_string_equal(buf, "a line longer t");
    pkt.detail_len = 1;
    dis_detail(&pkt, "%s", "cut");
    assert_string_equal(buf, "");
    struct dis_packet none = {.detail = NULL, .detail_len = 0};
    dis_detail(&none, "%s", "nowhere"); /* a no-op, not a crash */
    buf[0] = 'x';
    struct dis_packet zero = {.detail = buf, .detail_len = 0};
    dis_detail(&zero, "%s", "nowhere");
    assert_int_equal(buf[0], 'x');

    char detail[DIS_DETAIL_MAX];
    assert_int_equal(
        run_detail(get("fortinet-fgfm"), fgfm_frame, sizeof(fgfm_frame), detail, sizeof(detail)),
        DIS_MATCH);
    assert_string_equal(detail, "");
    assert_int_equal(run_detail(get("checkpoint-mgmt"), tls_client_hello, sizeof(tls_client_hello),
                                detail, sizeof(detail)),
                     DIS_MATCH);
    assert_string_equal(detail, "");
}

/* ------------------------------------------------------------ truncation */

struct sample {
    const char *dissector;
    const uint8_t *p;
    size_t len;
    size_t min_match; /* shortest prefix that may match */
};

static const struct sample samples[] = {
    {"fortiguard-rating", fgd_query, sizeof(fgd_query), 32},
    {"fortinet-fgfm", tls_client_hello, sizeof(tls_client_hello), 11},
    {"fortinet-fgfm", fgfm_frame, sizeof(fgfm_frame), 8},
    {"checkpoint-mgmt", tls_client_hello, sizeof(tls_client_hello), 11},
    {"velocloud-vcmp", vcmp_sample, sizeof(vcmp_sample), 20},
    {"carbonblack-backup", tls_client_hello, sizeof(tls_client_hello), 11},
    {"checkpoint-ccp", ccp_my_state, sizeof(ccp_my_state), 20},
    {"avast-nosa", avast_client, sizeof(avast_client), sizeof(avast_client)},
    {"avast-nosa", avast_server86, sizeof(avast_server86), sizeof(avast_server86)},
};

static int clean(int rc)
{
    return rc == DIS_NOT_MINE || rc == DIS_NEED_MORE || rc == DIS_MATCH;
}

/* Every prefix of every sample, copied to the heap with nothing after it
 * (ASan sees any overread), in both directions: a clean answer, and no
 * match before enough bytes are there to decide. */
static void test_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        const struct dissector *d = get(s->dissector);
        /* VCMP matches on the server's answer, the others on the client */
        int match_dir = strcmp(s->dissector, "velocloud-vcmp") == 0 ? 0 : 1;
        assert_int_equal(run(d, s->p, s->len, match_dir, 0), DIS_MATCH);
        for (size_t len = 0; len < s->len; len++) {
            uint8_t *p = len ? test_malloc(len) : NULL;
            if (p != NULL)
                memcpy(p, s->p, len);
            for (int dir = 0; dir < 2; dir++) {
                int rc = run(d, p, len, dir, 0);
                assert_true(clean(rc));
                if (len < s->min_match)
                    assert_int_not_equal(rc, DIS_MATCH);
            }
            test_free(p);
        }
    }
}

/* Every dissector on every prefix of every sample: never a crash. */
static void test_cross_truncation(void **state)
{
    (void)state;
    for (size_t k = 0; k < dis_registry_len; k++) {
        const struct dissector *d = dis_registry[k];
        for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
            const struct sample *s = &samples[i];
            for (size_t len = 0; len <= s->len; len++) {
                uint8_t *p = len ? test_malloc(len) : NULL;
                if (p != NULL)
                    memcpy(p, s->p, len);
                for (size_t j = 0; j < DIS_MAX_PORTS && d->ports[j] != 0; j++) {
                    char detail[DIS_DETAIL_MAX] = "";
                    struct dis_packet pkt = {.payload = p,
                                             .len = len,
                                             .proto = d->proto,
                                             .to_server = 1,
                                             .sport = client_port(d, d->ports[j]),
                                             .dport = d->ports[j],
                                             .detail = detail,
                                             .detail_len = sizeof(detail)};
                    int rc = d->dissect(&pkt);
                    assert_true(clean(rc));
                    assert_non_null(memchr(detail, '\0', sizeof(detail)));
                    if (rc != DIS_MATCH)
                        assert_string_equal(detail, "");
                }
                test_free(p);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_interest),
        cmocka_unit_test(test_tls_helper),
        cmocka_unit_test(test_fortiguard),
        cmocka_unit_test(test_fgfm),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_velocloud),
        cmocka_unit_test(test_carbonblack),
        cmocka_unit_test(test_ccp),
        cmocka_unit_test(test_avast),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_cross_truncation),
    };
    return cmocka_run_group_tests_name("dissectors", tests, NULL, NULL);
}
