/* checkpoint-ccp.c -- Check Point ClusterXL Control Protocol (CCP, "CPHA"),
 * the LAN protocol cluster members speak to each other on UDP 8116.
 *
 * Sources: Wireshark's CPHA dissector (epan/dissectors/packet-cpha.c: field
 * names, the header layout, the opcode and version tables), nDPI's
 * protocols/cpha.c (magic 1a 90, UDP 8116 both ways, from 0.0.0.0), Check
 * Point's ClusterXL admin guides (CCP runs on UDP 8116 between members),
 * and the capture in the shared corpus (cpha.pcap: one FWHA_MY_STATE
 * datagram, 0.0.0.0:8116 -> 172.21.3.0:8116, version 3121). Check Point
 * publishes no specification. The header, all fields big endian:
 *
 *    0               1               2               3
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  magic 0x1A90                 |  protocol version             |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  cluster number               |  HA opcode (1..10)            |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  source interface             |  random ID                    |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  source machine ID            |  destination machine ID       |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  policy ID                    |  filler                       |  (not in version 1)
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  opcode-specific payload ...
 *
 * 20 bytes (16 for version 1, FW-1 4.1). What is accepted: the magic, a version in
 * the ranges Wireshark's table and the capture show (1..4095 for the main
 * line, which numbers releases from 1 for 4.1 to 2920..2922 for R77.30, and
 * 3121 in the capture; 62700..62999 for the Scalable Platform line, 627xx in the
 * table; 0 and anything else refused), an opcode Wireshark names (1
 * FWHA_MY_STATE .. 10 FWHAP_SYNC), the whole header present, and source and
 * destination port both 8116. nDPI 4.2 labels any UDP 8116 datagram CPHA by
 * port alone; here a datagram on 8116 without this header is NOT_MINE. A
 * datagram cut inside the header, with what is there plausible, is
 * NEED_MORE (the next one decides).
 *
 * Detail on a match: the version, cluster number, source machine ID and
 * opcode name, as Wireshark names them. The opcode-specific payload is not
 * read: the capture's FWHA_MY_STATE body is longer than Wireshark's layout,
 * so its meaning in current versions is unknown. The member's MAC address
 * (00:00:00:00:<magic>:<member ID> per Check Point's guides) is below what
 * a dissector sees. */
#include "dissector.h"

#include <netinet/in.h>

#include "rd.h"

#define CCP_PORT 8116
#define CCP_MAGIC0 0x1a
#define CCP_MAGIC1 0x90
#define CCP_OPCODE_MAX 10

/* Opcode names, Wireshark's opcode table. */
static const char *const ccp_opcodes[CCP_OPCODE_MAX + 1] = {
    [1] = "FWHA_MY_STATE",       [2] = "FWHA_QUERY_STATE", [3] = "FWHA_IF_PROBE_REQ",
    [4] = "FWHA_IF_PROBE_REPLY", [5] = "FWHA_IFCONF_REQ",  [6] = "FWHA_IFCONF_REPLY",
    [7] = "FWHA_LB_CONF",        [8] = "FWHA_LB_CONFIRM",  [9] = "FWHA_POLICY_CHANGE",
    [10] = "FWHAP_SYNC",
};

static int ccp_version_ok(uint16_t v)
{
    return (v >= 1 && v <= 4095) || (v >= 62700 && v <= 62999);
}

static int ccp_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_UDP || pkt->sport != CCP_PORT || pkt->dport != CCP_PORT)
        return DIS_NOT_MINE;
    struct rd r;
    rd_init(&r, pkt->payload, pkt->len);

    /* each field is judged as soon as it is there: a cut header is
     * NEED_MORE only while what it holds is plausible */
    uint8_t m0 = rd_u8(&r);
    if (r.err)
        return DIS_NEED_MORE;
    if (m0 != CCP_MAGIC0)
        return DIS_NOT_MINE;
    uint8_t m1 = rd_u8(&r);
    if (r.err)
        return DIS_NEED_MORE;
    if (m1 != CCP_MAGIC1)
        return DIS_NOT_MINE;
    uint16_t version = rd_be16(&r);
    if (r.err)
        return DIS_NEED_MORE;
    if (!ccp_version_ok(version))
        return DIS_NOT_MINE;
    uint16_t cluster = rd_be16(&r);
    uint16_t opcode = rd_be16(&r);
    if (r.err)
        return DIS_NEED_MORE;
    if (opcode == 0 || opcode > CCP_OPCODE_MAX)
        return DIS_NOT_MINE;
    rd_skip(&r, 4); /* source interface, random ID */
    uint16_t src_machine = rd_be16(&r);
    rd_skip(&r, 2);     /* destination machine ID */
    if (version != 1)   /* FW-1 4.1 has no policy ID and filler */
        rd_skip(&r, 4); /* policy ID, filler */
    if (r.err)
        return DIS_NEED_MORE;

    dis_detail(pkt, "ClusterXL CCP version %u, cluster number %u, source machine ID %u (%s)",
               (unsigned)version, (unsigned)cluster, (unsigned)src_machine, ccp_opcodes[opcode]);
    return DIS_MATCH;
}

/* The "checkpoint-ccp" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_checkpoint_ccp = {
    .name = "checkpoint-ccp",
    .summary = "Check Point ClusterXL CCP between cluster members: magic 1a90 on UDP 8116",
    .proto = IPPROTO_UDP,
    .ports = {CCP_PORT},
    .max_packets = 2,
    .dissect = ccp_dissect,
};
