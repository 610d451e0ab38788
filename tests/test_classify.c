/* test_classify.c -- nDPI classification: labels, metadata, packet budget, state release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "decode.h"
#include "flow.h"

/* Build an IPv4 datagram 10.1.1.1:sport -> server_addr:dport (or the reverse
 * when reply is set) carrying payload over UDP or TCP, into buf, and describe
 * it in *pkt the way the decoder would. */
static uint16_t udp_server_port = 53;
static uint8_t server_addr[4] = {208, 91, 112, 55};

static void build(uint8_t *buf, struct packet *pkt, int tcp, int reply, uint8_t flags, uint32_t seq,
                  uint32_t ack, const void *payload, size_t plen)
{
    static const uint8_t client[4] = {10, 1, 1, 1};
    const uint8_t *server = server_addr;
    size_t l4 = tcp ? 20 : 8;
    size_t tot = 20 + l4 + plen;
    memset(buf, 0, 20 + l4);
    buf[0] = 0x45; /* IPv4, IHL 5 */
    buf[2] = (uint8_t)(tot >> 8), buf[3] = (uint8_t)tot;
    buf[8] = 64; /* TTL */
    buf[9] = tcp ? 6 : 17;
    memcpy(buf + 12, reply ? server : client, 4);
    memcpy(buf + 16, reply ? client : server, 4);
    uint16_t cport = 40000, sport = tcp ? 80 : udp_server_port;
    uint16_t s = reply ? sport : cport, d = reply ? cport : sport;
    uint8_t *t = buf + 20;
    t[0] = (uint8_t)(s >> 8), t[1] = (uint8_t)s, t[2] = (uint8_t)(d >> 8), t[3] = (uint8_t)d;
    if (tcp) {
        t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8),
        t[7] = (uint8_t)seq;
        t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16), t[10] = (uint8_t)(ack >> 8),
        t[11] = (uint8_t)ack;
        t[12] = 0x50; /* data offset 5 */
        t[13] = flags;
        t[14] = 0xff, t[15] = 0xff; /* window */
    } else {
        t[4] = (uint8_t)((8 + plen) >> 8), t[5] = (uint8_t)(8 + plen);
    }
    memcpy(buf + 20 + l4, payload, plen);

    memset(pkt, 0, sizeof(*pkt));
    pkt->ipver = 4;
    pkt->l4proto = tcp ? 6 : 17;
    pkt->tcp_flags = tcp ? flags : 0;
    memcpy(pkt->src, buf + 12, 4), memcpy(pkt->dst, buf + 16, 4);
    pkt->sport = s, pkt->dport = d;
    pkt->l3 = buf, pkt->l3_len = tot, pkt->ip_len = (uint32_t)tot;
    pkt->payload = buf + 20 + l4, pkt->payload_len = plen;
}

static struct classifier *mk(void)
{
    struct classify_config cc = {
        .max_packets_tcp = 80, .max_packets_udp = 24, .max_packets_other = 8};
    char err[256];
    struct classifier *c = classify_new(&cc, err, sizeof(err));
    assert_non_null(c);
    return c;
}

/* DNS query: id 0x1234, RD, one question update.fortiguard.net A IN */
static const uint8_t dns_query[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 6,    'u',  'p',  'd',  'a',  't',  'e',  10,
                                    'f',  'o',  'r',  't',  'i',  'g',  'u',  'a',  'r',  'd',
                                    3,    'n',  'e',  't',  0,    0x00, 0x01, 0x00, 0x01};

/* DNS response to it: answer update.fortiguard.net A 208.91.112.55, TTL 300 */
static const uint8_t dns_response[] = {
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 6,    'u',
    'p',  'd',  'a',  't',  'e',  10,   'f',  'o',  'r',  't',  'i',  'g',  'u',  'a',
    'r',  'd',  3,    'n',  'e',  't',  0,    0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 208,  91,   112,  55};

static void test_dns(void **state)
{
    (void)state;
    struct classifier *c = mk();
    struct flow f;
    struct packet pkt;
    uint8_t buf[256];
    char name[64];
    memset(&f, 0, sizeof(f));
    build(buf, &pkt, 0, 0, 0, 0, 0, dns_query, sizeof(dns_query));
    classify_packet(c, &f, &pkt, 1000);
    build(buf, &pkt, 0, 1, 0, 0, 0, dns_response, sizeof(dns_response));
    classify_packet(c, &f, &pkt, 1001);
    classify_finish(c, &f);
    assert_int_equal(f.dpi_state, FLOW_DPI_DONE);
    assert_null(f.dpi);
    assert_string_equal(classify_app_name(c, &f, name, sizeof(name)), "DNS");
    assert_string_equal(flow_meta_get(&f, FLOW_META_HOST), "update.fortiguard.net");
    assert_true(classify_is(&f, CLASSIFY_IS_DNS));
    assert_false(classify_is(&f, CLASSIFY_IS_TLS));
    assert_int_equal(classify_stats(c)->dpi_active, 0);
    classify_free(c);
}

static void test_http(void **state)
{
    (void)state;
    static const char req[] = "GET /fgdsvc HTTP/1.1\r\nHost: update.fortiguard.net\r\n"
                              "User-Agent: FortiGate/7.0 (test)\r\nAccept: */*\r\n\r\n";
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    struct classifier *c = mk();
    struct flow f;
    struct packet pkt;
    uint8_t buf[512];
    char name[64];
    memset(&f, 0, sizeof(f));
    build(buf, &pkt, 1, 0, 0x02, 100, 0, "", 0); /* SYN */
    classify_packet(c, &f, &pkt, 1000);
    build(buf, &pkt, 1, 1, 0x12, 500, 101, "", 0); /* SYN-ACK */
    classify_packet(c, &f, &pkt, 1001);
    build(buf, &pkt, 1, 0, 0x10, 101, 501, "", 0); /* ACK */
    classify_packet(c, &f, &pkt, 1002);
    build(buf, &pkt, 1, 0, 0x18, 101, 501, req, sizeof(req) - 1); /* PSH ACK request */
    classify_packet(c, &f, &pkt, 1003);
    build(buf, &pkt, 1, 1, 0x18, 501, 101 + sizeof(req) - 1, rsp, sizeof(rsp) - 1);
    classify_packet(c, &f, &pkt, 1004);
    classify_finish(c, &f);
    classify_app_name(c, &f, name, sizeof(name));
    assert_non_null(strstr(name, "HTTP"));
    assert_true(classify_is(&f, CLASSIFY_IS_HTTP));
    assert_string_equal(flow_meta_get(&f, FLOW_META_HOST), "update.fortiguard.net");
    assert_string_equal(flow_meta_get(&f, FLOW_META_UA), "FortiGate/7.0 (test)");
    assert_string_equal(flow_meta_get(&f, FLOW_META_PATH), "/fgdsvc");
    classify_free(c);
}

static void test_budget_gives_up(void **state)
{
    (void)state;
    /* 30 UDP packets of the same opaque bytes between 10.1.1.1:40000 and
     * 192.0.2.55:45678 (an address nDPI knows nothing of): nDPI never labels
     * the flow; the budget (24) ends inspection. */
    static const uint8_t junk[16] = {0x5a, 0x17, 0x3c, 0x81, 0x02, 0x99, 0xe4, 0x10,
                                     0x7b, 0x33, 0x0f, 0xc8, 0x61, 0x2d, 0xb5, 0x4e};
    struct classifier *c = mk();
    struct flow f;
    struct packet pkt;
    uint8_t buf[128];
    memset(&f, 0, sizeof(f));
    udp_server_port = 45678;
    memcpy(server_addr, (uint8_t[4]){192, 0, 2, 55}, 4);
    int i;
    for (i = 0; i < 30 && f.dpi_state != FLOW_DPI_DONE; i++) {
        build(buf, &pkt, 0, i & 1, 0, 0, 0, junk, sizeof(junk));
        classify_packet(c, &f, &pkt, 1000 + (uint64_t)i);
    }
    assert_int_equal(f.dpi_state, FLOW_DPI_DONE);
    assert_true(i <= 25); /* budget + 1 */
    assert_int_equal(classify_stats(c)->gave_up, 1);
    assert_int_equal(classify_stats(c)->dpi_active, 0);
    /* once done, packets are not inspected any more */
    uint64_t before = classify_stats(c)->dpi_packets;
    classify_packet(c, &f, &pkt, 2000);
    assert_int_equal(classify_stats(c)->dpi_packets, before);
    udp_server_port = 53;
    memcpy(server_addr, (uint8_t[4]){208, 91, 112, 55}, 4);
    classify_free(c);
}

static void test_pool_reuse(void **state)
{
    (void)state;
    struct classifier *c = mk();
    struct packet pkt;
    uint8_t buf[256];
    for (int i = 0; i < 100; i++) {
        struct flow f;
        memset(&f, 0, sizeof(f));
        build(buf, &pkt, 0, 0, 0, 0, 0, dns_query, sizeof(dns_query));
        classify_packet(c, &f, &pkt, 1000);
        classify_finish(c, &f);
        assert_int_equal(f.dpi_state, FLOW_DPI_DONE);
    }
    assert_int_equal(classify_stats(c)->dpi_active_peak, 1);
    assert_int_equal(classify_stats(c)->dpi_active, 0);
    classify_free(c);
}

static void test_risk_names(void **state)
{
    (void)state;
    const char *names[8];
    assert_int_equal(classify_risk_names(0, names, 8), 0);
    size_t n = classify_risk_names((1ull << 1) | (1ull << 2), names, 8);
    assert_int_equal(n, 2);
    assert_non_null(names[0]);
    assert_true(strlen(names[0]) > 0);
    assert_int_equal(classify_risk_names((1ull << 1) | (1ull << 2), names, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_budget_gives_up),
        cmocka_unit_test(test_pool_reuse),
        cmocka_unit_test(test_risk_names),
    };
    return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
