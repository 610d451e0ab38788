/* carbonblack.c -- Carbon Black Cloud sensor traffic on its backup port,
 * TCP 54443.
 *
 * Source: VMware Carbon Black Cloud sensor installation guide (network
 * requirements: sensor to backend on TCP 443, TCP 54443 as the backup
 * port), via the vendor catalogue (shared VENDORS.md, sections 1.4 and 2).
 * The backup port carries the same TLS as 443, so the accepted payload is:
 *
 *   client's first payload is a TLS ClientHello record
 *   (dis_tls_client_hello(): 16 03 0x len len 01 ...)
 *
 * Anything else first is NOT_MINE; while the client has sent nothing,
 * NEED_MORE. The SNI (*.conferdeploy.net, devices.confer.net, ...) is for
 * the TLS layer to read, not for this file. */
#include "dissector.h"

#include <netinet/in.h>

static int carbonblack_dissect(const struct dis_packet *pkt)
{
    if (pkt->proto != IPPROTO_TCP)
        return DIS_NOT_MINE;
    if (!pkt->to_server || pkt->len == 0)
        return DIS_NEED_MORE;
    return dis_tls_client_hello(pkt->payload, pkt->len) ? DIS_MATCH : DIS_NOT_MINE;
}

/* The "carbonblack-backup" descriptor, listed in dis_registry (registry.c). Its
 * dissect function is stateless and never fails: it reads the payload
 * through struct rd and answers an enum dis_result. */
const struct dissector dis_carbonblack_backup = {
    .name = "carbonblack-backup",
    .summary = "Carbon Black Cloud sensor on its backup port: TLS ClientHello on TCP 54443",
    .proto = IPPROTO_TCP,
    .ports = {54443},
    .max_packets = 3,
    .dissect = carbonblack_dissect,
};
