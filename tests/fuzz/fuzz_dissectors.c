/* fuzz_dissectors.c -- every vendor dissector of dis_registry, and the TLS
 * ClientHello check they share.
 *
 * Input: one selector byte, then the payload.
 *
 *   bit 7..6   index: which payload packet of the flow this is (0..3)
 *   bit 5      direction: 0 client -> server, 1 server -> client
 *   bit 4..0   registry entry (modulo dis_registry_len)
 *
 * The packet carries the entry's own transport and one of its declared
 * server ports (chosen by the index), as detect.c would hand it over; a
 * UDP entry also gets that port as the client port (peer protocols such as
 * ClusterXL CCP use it on both ends), a TCP entry 49152. The payload ends
 * where libFuzzer's buffer ends. The answer must be one of the three enum
 * dis_result values, and the detail buffer a NUL-terminated string within
 * its bounds. make_seeds.py writes the same byte. */
#include "dissector.h"
#include "fuzz-util.h"

#include <netinet/in.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(dis_registry_len > 0 && dis_registry_len <= 32);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t entry = (size_t)(sel & 0x1f) % dis_registry_len;
    const struct dissector *d = dis_registry[entry];

    size_t nports = 0;
    while (nports < DIS_MAX_PORTS && d->ports[nports] != 0)
        nports++;
    uint16_t dport = nports ? d->ports[(sel >> 6) % nports] : 0;
    char detail[DIS_DETAIL_MAX];
    detail[0] = '\0';
    struct dis_packet pkt = {
        .payload = data + 1,
        .len = size - 1,
        .proto = d->proto,
        .to_server = (sel & 0x20) == 0,
        .sport = d->proto == IPPROTO_UDP ? dport : 49152,
        .dport = dport,
        .index = (uint32_t)(sel >> 6),
        .detail = detail,
        .detail_len = sizeof(detail),
    };
    if (pkt.dport != 0)
        FUZZ_CHECK(dis_interest(d->proto, pkt.dport) & (1u << entry));

    int r = d->dissect(&pkt);
    FUZZ_CHECK(r == DIS_NOT_MINE || r == DIS_NEED_MORE || r == DIS_MATCH);
    FUZZ_CHECK(memchr(detail, '\0', sizeof(detail)) != NULL);
    FUZZ_CHECK(r == DIS_MATCH || detail[0] == '\0');
    FUZZ_CHECK(dis_find(d->name) >= 0);

    int hello = dis_tls_client_hello(pkt.payload, pkt.len);
    FUZZ_CHECK(hello == 0 || hello == 1);
    return 0;
}
