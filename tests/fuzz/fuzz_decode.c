/* fuzz_decode.c -- decode_packet() on every link type it supports.
 *
 * Input: one byte that selects the link type, then the frame. The byte
 * indexes (modulo their number) the link types decode_link_supported()
 * accepts, in increasing DLT order: 0 NULL, 1 Ethernet, 9 PPP, 12 and 14
 * raw IP, 50 PPP-in-HDLC, 101 raw IP, 104 Cisco HDLC, 108 LOOP, 113 Linux
 * SLL, 228 IPv4, 229 IPv6, 276 Linux SLL2 (make_seeds.py writes the same
 * index). The frame is the rest of the input, so it ends where libFuzzer's
 * buffer ends and ASan sees the first byte read past it.
 *
 * Beyond memory errors, the contract of decode.h is checked: a failure
 * bumps exactly one counter, a success none; what a success describes lies
 * inside the frame (l3 within the frame, the payload within l3), IPv4
 * addresses are zero past their 4 bytes, the depth is bounded. */
#include <string.h>

#include "decode.h"
#include "fuzz-util.h"

/* Highest DLT probed for support: LINKTYPE values in use stay below it. */
#define DLT_PROBE_MAX 1024

static int dlts[64];
static size_t n_dlts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int d = 0; d < DLT_PROBE_MAX && n_dlts < sizeof(dlts) / sizeof(dlts[0]); d++)
        if (decode_link_supported(d))
            dlts[n_dlts++] = d;
    FUZZ_CHECK(n_dlts > 0);
    return 0;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return p >= base && (size_t)(p - base) <= len && n <= len - (size_t)(p - base);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % n_dlts];
    const uint8_t *frame = data + 1;
    size_t caplen = size - 1;
    struct packet pkt;
    struct decode_stats st;
    memset(&st, 0, sizeof(st));

    int rc = decode_packet(dlt, frame, caplen, &pkt, &st);

    uint64_t counted = 0;
    for (int i = 0; i < DEC_MAX; i++)
        counted += st.ctr[i];
    if (rc < 0) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(counted == 1);
        return 0;
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(counted == 0);
    FUZZ_CHECK(pkt.ipver == 4 || pkt.ipver == 6);
    FUZZ_CHECK(pkt.depth <= DECODE_MAX_LAYERS);
    FUZZ_CHECK(pkt.frag <= PKT_FRAG_LATER);
    if (pkt.ipver == 4) {
        FUZZ_CHECK(all_zero(pkt.src + 4, 12));
        FUZZ_CHECK(all_zero(pkt.dst + 4, 12));
    }
    if (pkt.frag == PKT_FRAG_LATER)
        FUZZ_CHECK(pkt.sport == 0 && pkt.dport == 0);
    FUZZ_CHECK(pkt.l3 != NULL && inside(pkt.l3, pkt.l3_len, frame, caplen));
    FUZZ_CHECK(pkt.payload_len == 0 || inside(pkt.payload, pkt.payload_len, pkt.l3, pkt.l3_len));
    fuzz_touch(pkt.l3, pkt.l3_len);
    fuzz_touch(pkt.payload, pkt.payload_len);
    return 0;
}
