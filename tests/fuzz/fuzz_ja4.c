/* fuzz_ja4.c -- the ClientHello parser, the record and DTLS finders, QUIC Initial
 * decryption and the per-flow assembler behind the JA4.
 *
 * Input: one selector byte, then the bytes.
 *
 *   bits 2..0  0: a handshake message, JA4 with protocol t, q or d (bits 4..3)
 *              1: a TLS client stream (records), then its message's JA4
 *              2: a DTLS datagram, then its message's JA4
 *              3: a QUIC datagram, decrypted with keys from its own DCID
 *              4: TCP segments to the flow hook: each is [offset byte,
 *                 length byte, bytes], offset x 64 from the stream start
 *              5: UDP datagrams to the flow hook: [length hi, length lo, bytes]
 *
 * Checked besides memory errors: every result is one of its enum; a JA4 is
 * 36 characters of the alphabet it is written in; a message found in
 * records fits TLS_HELLO_MAX and lies in the input or the joining buffer;
 * CRYPTO frames lie inside the decrypted packet; the assembler never holds
 * more buffers than its pool and gives every one back when the flow ends.
 * make_seeds.py writes the selector byte. */
#include <netinet/in.h>

#include "decode.h"
#include "flow.h"
#include "fuzz-util.h"
#include "ja4.h"
#include "quic-initial.h"
#include "tls-hello.h"

static struct tls_hello_ctx *hctx;
static struct quic_ctx *qctx;
static struct ja4_engine *eng;
static struct ja4_stats st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[128];
    (void)argc;
    (void)argv;
    hctx = tls_hello_ctx_new();
    qctx = quic_ctx_new();
    eng = ja4_new(2, &st, err, sizeof(err));
    FUZZ_CHECK(hctx != NULL && qctx != NULL && eng != NULL);
    return 0;
}

static void check_ja4(const uint8_t *msg, size_t len, int proto)
{
    char out[JA4_LEN + 1];
    int r = tls_hello_ja4(hctx, msg, len, proto, out);
    FUZZ_CHECK(r == TLS_HELLO_OK || r == TLS_HELLO_TRUNCATED || r == TLS_HELLO_INVALID ||
               r == TLS_HELLO_TOO_BIG);
    if (r != TLS_HELLO_OK) {
        FUZZ_CHECK(out[0] == '\0');
        return;
    }
    FUZZ_CHECK(strlen(out) == JA4_LEN && out[0] == proto && out[10] == '_' && out[23] == '_');
    for (int i = 11; i < JA4_LEN; i++)
        FUZZ_CHECK(i == 23 || (out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
}

static void on_crypto(uint64_t off, const uint8_t *data, size_t len, void *ud)
{
    (void)off;
    (void)ud;
    fuzz_touch(data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    static const int protos[4] = {JA4_TLS, JA4_QUIC, JA4_DTLS, JA4_TLS};
    const uint8_t *msg;
    size_t len, need;
    int r;

    switch (sel & 7) {
    case 0:
        check_ja4(p, n, protos[(sel >> 3) & 3]);
        break;
    case 1:
        r = tls_hello_from_records(hctx, p, n, &msg, &len, &need);
        FUZZ_CHECK(r == TLS_HELLO_OK || r == TLS_HELLO_TRUNCATED || r == TLS_HELLO_INVALID ||
                   r == TLS_HELLO_TOO_BIG);
        if (r == TLS_HELLO_TRUNCATED)
            FUZZ_CHECK(need > n);
        if (r == TLS_HELLO_OK) {
            FUZZ_CHECK(len <= TLS_HELLO_MAX);
            fuzz_touch(msg, len);
            check_ja4(msg, len, JA4_TLS);
        }
        break;
    case 2:
        r = tls_hello_from_dtls(p, n, &msg, &len);
        if (r == TLS_HELLO_OK) {
            FUZZ_CHECK(msg >= p && msg + len <= p + n);
            check_ja4(msg, len, JA4_DTLS);
        }
        break;
    case 3: {
        struct quic_keys k;
        bool have = false;
        r = quic_datagram(qctx, p, n, &k, &have, on_crypto, NULL);
        FUZZ_CHECK(r == QUIC_OK || r == QUIC_NO_INITIAL || r == QUIC_UNDECRYPTABLE ||
                   r == QUIC_BAD_FRAMES);
        break;
    }
    case 4:
    case 5: {
        struct flow f;
        memset(&f, 0, sizeof(f));
        size_t off = 0;
        while (off + 2 <= n) {
            struct packet pkt;
            memset(&pkt, 0, sizeof(pkt));
            size_t seg;
            if ((sel & 7) == 4) {
                pkt.l4proto = IPPROTO_TCP;
                pkt.tcp_seq = 1000u + (uint32_t)p[off] * 64u;
                seg = p[off + 1];
            } else {
                pkt.l4proto = IPPROTO_UDP;
                seg = (size_t)p[off] << 8 | p[off + 1];
            }
            off += 2;
            if (seg > n - off)
                seg = n - off;
            pkt.payload = p + off;
            pkt.payload_len = seg;
            ja4_packet(eng, &f, &pkt, FLOW_TOSERVER);
            FUZZ_CHECK(ja4_pool_in_use(eng) <= 1);
            off += seg;
        }
        char ja4[FLOW_JA4_TEXT];
        flow_fp_ja4(&f, ja4);
        FUZZ_CHECK(ja4[0] == '\0' || strlen(ja4) == JA4_LEN);
        ja4_flow_end(eng, &f);
        FUZZ_CHECK(ja4_pool_in_use(eng) == 0);
        break;
    }
    default:
        break;
    }
    return 0;
}
