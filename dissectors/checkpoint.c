/* checkpoint.c -- Check Point gateway to management traffic (SIC, CPD, ICA,
 * logs, policy) on its dedicated TCP ports.
 *
 * Source: the vendor catalogue (shared VENDORS.md, sections 1.3 and 2):
 * Check Point's predefined service objects as dumped in public code and
 * sk52421-derived port tables: 18191 CPD (SIC), 18192 CPD_amon, 18210
 * FW1_ica_pull, 18211 FW1_ica_push, 18264 FW1_ica_services, 257 FW1_log,
 * 256 FW1 (policy), 18190 CPMI. SIC ("Secure Internal Communication") is
 * certificate-based SSL between components whose certificates the
 * management's internal CA issued (community notes, e.g.
 * https://grimoire.jamesfraze.com/firewalls/check-point/how-to-troubleshoot-sic-on-check-point-firewall).
 *
 * Format: Check Point publishes no wire format for SIC or CPD, and none
 * could be found in public code: Wireshark has no dissector for them (its
 * packet-fw1.c decodes "fw monitor" captures, packet-cpha.c the ClusterXL
 * LAN protocol), and the public scanners that fingerprint these ports
 * (fingerprintx's checkpoint_sic plugin) simply open TLS to them. So the
 * only accepted payload is what any TLS client sends first:
 *
 *   client's first payload is a TLS ClientHello record
 *   (dis_tls_client_hello(): 16 03 0x len len 01 ...)
 *
 * on one of the ports above. 256 and 18190 are included: no other common
 * service uses them, and a TLS ClientHello is required there too. A first
 * payload that is not TLS is NOT_MINE (if SIC has a cleartext preamble on
 * some versions, the port-only signature rules still see the flow); while
 * the client has sent nothing, NEED_MORE. */
#include "dissector.h"

#include <netinet/in.h>

static int checkpoint_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_TCP)
        return DIS_NOT_MINE;
    if (!pkt->to_server || pkt->len == 0)
        return DIS_NEED_MORE;
    return dis_tls_client_hello(pkt->payload, pkt->len) ? DIS_MATCH : DIS_NOT_MINE;
}

/* The "checkpoint-mgmt" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_checkpoint_mgmt = {
    .name = "checkpoint-mgmt",
    .summary = "Check Point SIC/CPD/ICA/log management: TLS on TCP 18191, 18192, 18210, 18211, "
               "18264, 257, 256, 18190",
    .proto = IPPROTO_TCP,
    .ports = {18191, 18192, 18210, 18211, 18264, 257, 256, 18190},
    .max_packets = 3,
    .dissect = checkpoint_dissect,
};
