/* avast.c -- the Avast agent's "NOSA" messages to Avast's servers.
 *
 * Sources: nDPI's protocols/avast.c (added after nDPI 4.2: a TCP payload
 * that starts with "NOSA" and whose big-endian 16-bit value at offset 4
 * equals the payload's length; no default port, plus Avast's address block
 * AS198605), and the capture in the shared corpus (avast.pcap: ten agent
 * connections to 5.62.53.x and 5.62.54.x on TCP 80). Avast publishes no
 * format. Every message in the capture fills its TCP segment exactly, and
 * the length counts the whole message, header included: the agent's first
 * message is 96 bytes ("NOSA" 00 60), the server's answer 16 ("NOSA" 00 10),
 * later ones 40 and 86.
 *
 *    0               1               2               3
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  'N'     'O'     'S'     'A'  |  message length, big endian   |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  body (length - 6 bytes; no public source names its fields)   |
 *
 * What is accepted, from either side: a payload made of one or more whole
 * messages, each starting with "NOSA" and a length of at least 6 that ends
 * it exactly at a message boundary (one message per segment is what nDPI
 * accepts and what the capture shows; a few back to back are accepted
 * too). A payload shorter than the 6-byte header that is a prefix of one is
 * NEED_MORE; anything else, a length below 6 or one that does not end at
 * the payload's end, is NOT_MINE. A message split over segments is not
 * recognised (nDPI does not either; the capture has none).
 *
 * Ports: TCP 80, the only one the sources show (nDPI declares none and
 * matches on the payload alone). No detail line: the sources name no field
 * beyond the magic and the length. */
#include "dissector.h"

#include <netinet/in.h>
#include <string.h>

#include "rd.h"

#define AVAST_HDR_LEN 6
#define AVAST_MAX_MESSAGES 8 /* back to back in one segment; the bound is ours */

static const uint8_t avast_magic[4] = {'N', 'O', 'S', 'A'};

/* DIS_MATCH when p holds whole messages back to back, DIS_NEED_MORE when it
 * is a prefix of a message header, DIS_NOT_MINE otherwise. */
static int avast_messages(const uint8_t *p, size_t len)
{
    struct rd r;
    rd_init(&r, p, len);
    if (len < AVAST_HDR_LEN) {
        uint8_t head[AVAST_HDR_LEN];
        size_t n = len < sizeof(avast_magic) ? len : sizeof(avast_magic);
        rd_copy(&r, head, n);
        return !r.err && memcmp(head, avast_magic, n) == 0 ? DIS_NEED_MORE : DIS_NOT_MINE;
    }
    for (int i = 0; i < AVAST_MAX_MESSAGES; i++) {
        size_t start = r.off;
        uint8_t magic[sizeof(avast_magic)];
        rd_copy(&r, magic, sizeof(magic));
        uint16_t msg_len = rd_be16(&r);
        if (r.err || memcmp(magic, avast_magic, sizeof(magic)) != 0 || msg_len < AVAST_HDR_LEN)
            return DIS_NOT_MINE;
        if (msg_len > len - start)
            return DIS_NOT_MINE; /* runs past the payload */
        rd_skip(&r, msg_len - AVAST_HDR_LEN);
        if (rd_left(&r) == 0)
            return DIS_MATCH;
    }
    return DIS_NOT_MINE;
}

static int avast_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_TCP)
        return DIS_NOT_MINE;
    if (pkt->len == 0)
        return DIS_NEED_MORE;
    return avast_messages(pkt->payload, pkt->len);
}

/* The "avast-nosa" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_avast_nosa = {
    .name = "avast-nosa",
    .summary = "Avast agent NOSA messages: \"NOSA\" + message length on TCP 80",
    .proto = IPPROTO_TCP,
    .ports = {80},
    .max_packets = 2,
    .dissect = avast_dissect,
};
