/* quic-initial.c -- decryption of QUIC client Initial packets and their CRYPTO frames.
 *
 * Formats: RFC 9000 sections 12.2, 16, 17.2 and 19; RFC 9001 section 5 and
 * Appendix A; RFC 9369 section 3; the Initial salts of drafts 22, 23 and 29
 * of draft-ietf-quic-tls and of Google's T050/T051. */
#include "quic-initial.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "rd.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu
#define QUIC_T050 0x54303530u
#define QUIC_T051 0x54303531u
#define QUIC_MVFST_22 0xfaceb001u
#define QUIC_MVFST_27 0xfaceb002u
#define QUIC_MVFST_EXP 0xfaceb00eu

#define MAX_COALESCED 8
#define PLAIN_MAX 65536 /* the largest UDP payload fits */
#define AEAD_TAG 16
#define HP_SAMPLE 16

/* RFC 9001 section 5.2 */
static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
/* RFC 9369 section 3.3.1 */
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
/* draft-ietf-quic-tls-29 to -32 */
static const uint8_t salt_d29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                     0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
/* draft-ietf-quic-tls-23 to -28 */
static const uint8_t salt_d23[20] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                     0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
/* draft-ietf-quic-tls-22 and earlier */
static const uint8_t salt_d22[20] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                     0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
/* Google QUIC T050 and T051 (TLS inside IETF-style Initial packets) */
static const uint8_t salt_t50[20] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                     0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
static const uint8_t salt_t51[20] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                     0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

struct quic_ctx {
    EVP_KDF_CTX *kdf;
    EVP_CIPHER_CTX *gcm;
    EVP_CIPHER_CTX *ecb;
    EVP_CIPHER *aes_gcm;
    EVP_CIPHER *aes_ecb;
    uint8_t plain[PLAIN_MAX];
};

struct quic_ctx *quic_ctx_new(void)
{
    struct quic_ctx *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf != NULL)
        q->kdf = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf); /* the context holds its own reference */
    q->gcm = EVP_CIPHER_CTX_new();
    q->ecb = EVP_CIPHER_CTX_new();
    q->aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    q->aes_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    if (q->kdf == NULL || q->gcm == NULL || q->ecb == NULL || q->aes_gcm == NULL ||
        q->aes_ecb == NULL)
        goto fail;
    /* Bind the algorithms once; each packet then only sets key and IV. */
    if (EVP_DecryptInit_ex(q->gcm, q->aes_gcm, NULL, NULL, NULL) != 1 ||
        EVP_EncryptInit_ex(q->ecb, q->aes_ecb, NULL, NULL, NULL) != 1)
        goto fail;
    EVP_CIPHER_CTX_set_padding(q->ecb, 0);
    return q;

fail:
    quic_ctx_free(q);
    return NULL;
}

void quic_ctx_free(struct quic_ctx *q)
{
    if (q == NULL)
        return;
    EVP_KDF_CTX_free(q->kdf);
    EVP_CIPHER_CTX_free(q->gcm);
    EVP_CIPHER_CTX_free(q->ecb);
    EVP_CIPHER_free(q->aes_gcm);
    EVP_CIPHER_free(q->aes_ecb);
    free(q);
}

/* The Initial salt of a version, NULL when its Initial packets are not
 * ones this file can read. */
static const uint8_t *version_salt(uint32_t v)
{
    if (v == QUIC_V1)
        return salt_v1;
    if (v == QUIC_V2)
        return salt_v2;
    if (v == QUIC_T050)
        return salt_t50;
    if (v == QUIC_T051)
        return salt_t51;
    if (v == QUIC_MVFST_22)
        return salt_d22;
    if (v == QUIC_MVFST_27 || v == QUIC_MVFST_EXP)
        return salt_d23;
    if ((v >> 8) == 0xff0000u) { /* IETF draft N */
        uint32_t d = v & 0xff;
        if (d >= 33 && d <= 34)
            return salt_v1;
        if (d >= 29 && d <= 32)
            return salt_d29;
        if (d >= 23 && d <= 28)
            return salt_d23;
        if (d >= 17 && d <= 22)
            return salt_d22; /* header protection exists since draft 17 */
    }
    return NULL;
}

int quic_version_supported(uint32_t version)
{
    return version_salt(version) != NULL;
}

/* Long-header packet types: RFC 9000 17.2 and, permuted, RFC 9369 3.2. */
static int type_initial(uint32_t v)
{
    return v == QUIC_V2 ? 1 : 0;
}

static int type_retry(uint32_t v)
{
    return v == QUIC_V2 ? 0 : 3;
}

/* ------------------------------------------------------------ keys */

static char digest_name[] = "SHA256";

/* One HKDF step (RFC 5869) with SHA-256: extract (ikm, salt) or expand
 * (prk, info). Inputs are copied, since OSSL_PARAM takes non-const data. */
static int hkdf(struct quic_ctx *q, int mode, const uint8_t *key, size_t klen,
                const uint8_t *salt_or_info, size_t slen, uint8_t *out, size_t olen)
{
    uint8_t kbuf[64], sbuf[128];
    if (klen > sizeof(kbuf) || slen > sizeof(sbuf))
        return -1;
    memcpy(kbuf, key, klen);
    memcpy(sbuf, salt_or_info, slen);
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
    params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, kbuf, klen);
    params[3] = OSSL_PARAM_construct_octet_string(
        mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO, sbuf,
        slen);
    params[4] = OSSL_PARAM_construct_end();
    return EVP_KDF_derive(q->kdf, out, olen, params) == 1 ? 0 : -1;
}

/* HKDF-Expand-Label of RFC 8446 section 7.1 with an empty context. */
static int expand_label(struct quic_ctx *q, const uint8_t *secret, const char *label, uint8_t *out,
                        size_t olen)
{
    uint8_t info[2 + 1 + 6 + 32 + 1];
    size_t ll = strlen(label);
    if (ll > 32)
        return -1;
    info[0] = (uint8_t)(olen >> 8);
    info[1] = (uint8_t)olen;
    info[2] = (uint8_t)(6 + ll);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, ll);
    info[9 + ll] = 0; /* context length */
    return hkdf(q, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, 32, info, 10 + ll, out, olen);
}

int quic_client_keys(struct quic_ctx *q, uint32_t version, const uint8_t *dcid, size_t dcid_len,
                     struct quic_keys *k)
{
    const uint8_t *salt = version_salt(version);
    if (salt == NULL || dcid_len == 0 || dcid_len > QUIC_MAX_CID)
        return -1;
    uint8_t initial[32], client[32];
    bool v2 = version == QUIC_V2;
    k->version = version;
    if (hkdf(q, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dcid_len, salt, 20, initial, 32) != 0 ||
        expand_label(q, initial, "client in", client, 32) != 0 ||
        expand_label(q, client, v2 ? "quicv2 key" : "quic key", k->key, 16) != 0 ||
        expand_label(q, client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) != 0 ||
        expand_label(q, client, v2 ? "quicv2 hp" : "quic hp", k->hp, 16) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ packets */

static uint64_t rd_varint(struct rd *r)
{
    uint8_t b = rd_u8(r);
    size_t len = (size_t)1 << (b >> 6);
    uint64_t v = b & 0x3f;
    for (size_t i = 1; i < len; i++)
        v = v << 8 | rd_u8(r);
    return v;
}

/* Remove header protection and decrypt the packet pkt[0..end), whose
 * packet number starts at pn_off. On success the frames are in q->plain
 * and *plen says how many. Returns 0, or -1 when the packet does not
 * authenticate with k (or is too short to be protected). */
static int decrypt(struct quic_ctx *q, const struct quic_keys *k, const uint8_t *pkt, size_t pn_off,
                   size_t end, size_t *plen)
{
    if (end < pn_off + 4 + HP_SAMPLE)
        return -1;
    uint8_t mask[HP_SAMPLE];
    int outl = 0;
    if (EVP_EncryptInit_ex(q->ecb, NULL, NULL, k->hp, NULL) != 1 ||
        EVP_EncryptUpdate(q->ecb, mask, &outl, pkt + pn_off + 4, HP_SAMPLE) != 1 ||
        outl != HP_SAMPLE)
        return -1;
    uint8_t b0 = (uint8_t)(pkt[0] ^ (mask[0] & 0x0f));
    size_t pn_len = (size_t)(b0 & 3) + 1;
    uint8_t pnb[4];
    uint64_t pn = 0;
    for (size_t i = 0; i < pn_len; i++) {
        pnb[i] = (uint8_t)(pkt[pn_off + i] ^ mask[1 + i]);
        pn = pn << 8 | pnb[i];
    }
    size_t body = pn_off + pn_len;
    if (end - body <= AEAD_TAG || end - body - AEAD_TAG > PLAIN_MAX)
        return -1;
    size_t ct_len = end - body - AEAD_TAG;

    /* The nonce is the IV with the packet number XORed into its end. The
     * packet number is taken as sent: a client's first Initial packets
     * number from 0, far below any truncation ambiguity. */
    uint8_t nonce[12], tag[AEAD_TAG];
    memcpy(nonce, k->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    memcpy(tag, pkt + end - AEAD_TAG, AEAD_TAG);

    /* The associated data is the unprotected header, fed in three parts. */
    if (EVP_DecryptInit_ex(q->gcm, NULL, NULL, k->key, nonce) != 1 ||
        EVP_DecryptUpdate(q->gcm, NULL, &outl, &b0, 1) != 1 ||
        EVP_DecryptUpdate(q->gcm, NULL, &outl, pkt + 1, (int)(pn_off - 1)) != 1 ||
        EVP_DecryptUpdate(q->gcm, NULL, &outl, pnb, (int)pn_len) != 1 ||
        EVP_DecryptUpdate(q->gcm, q->plain, &outl, pkt + body, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(q->gcm, EVP_CTRL_GCM_SET_TAG, AEAD_TAG, tag) != 1)
        return -1;
    int fin = 0;
    if (EVP_DecryptFinal_ex(q->gcm, q->plain + outl, &fin) != 1)
        return -1;
    *plen = (size_t)outl + (size_t)fin;
    return 0;
}

/* Frames an Initial packet may carry (RFC 9000 section 12.4, table 3):
 * PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE. Anything else is an error.
 * Google's T050/T051 number the CRYPTO frame 0x08 (same layout). */
static int walk_frames(uint32_t version, const uint8_t *p, size_t n, quic_crypto_fn fn, void *ud)
{
    uint64_t crypto = version == QUIC_T050 || version == QUIC_T051 ? 0x08 : 0x06;
    struct rd r;
    rd_init(&r, p, n);
    while (rd_left(&r) > 0) {
        uint64_t type = rd_varint(&r);
        switch (type) {
        case 0x00: /* PADDING */
        case 0x01: /* PING */
            break;
        case 0x02: /* ACK */
        case 0x03: {
            rd_varint(&r); /* largest acknowledged */
            rd_varint(&r); /* delay */
            uint64_t ranges = rd_varint(&r);
            rd_varint(&r); /* first range */
            /* Each range takes at least two bytes: the loop ends with the packet. */
            for (uint64_t i = 0; i < ranges && !r.err; i++) {
                rd_varint(&r);
                rd_varint(&r);
            }
            if (type == 0x03) {
                rd_varint(&r);
                rd_varint(&r);
                rd_varint(&r);
            }
            break;
        }
        case 0x06: /* CRYPTO */
        case 0x08: {
            if (type != crypto)
                return QUIC_BAD_FRAMES;
            uint64_t off = rd_varint(&r);
            uint64_t len = rd_varint(&r);
            if (r.err || len > rd_left(&r))
                return QUIC_BAD_FRAMES;
            if (fn != NULL && len > 0)
                fn(off, rd_ptr(&r), (size_t)len, ud);
            rd_skip(&r, (size_t)len);
            break;
        }
        case 0x1c: /* CONNECTION_CLOSE: nothing after it matters */
            return QUIC_OK;
        default:
            return QUIC_BAD_FRAMES;
        }
        if (r.err)
            return QUIC_BAD_FRAMES;
    }
    return QUIC_OK;
}

/* The cleartext long header of the packet at r: fills the fields and
 * leaves r at the packet number. Returns 0, or -1 when this is not a
 * long-header packet of a supported version with a Length field. */
struct long_hdr {
    uint32_t version;
    int type;
    const uint8_t *dcid;
    size_t dcid_len;
    size_t end; /* offset of the packet's end, from its first byte */
};

static int long_header(struct rd *r, struct long_hdr *h)
{
    uint8_t b0 = rd_u8(r);
    h->version = rd_be32(r);
    h->dcid_len = rd_u8(r);
    if (r->err || !(b0 & 0x80) || h->dcid_len > QUIC_MAX_CID)
        return -1;
    h->dcid = rd_ptr(r);
    rd_skip(r, h->dcid_len);
    size_t scid_len = rd_u8(r);
    if (r->err || scid_len > QUIC_MAX_CID || !quic_version_supported(h->version))
        return -1;
    rd_skip(r, scid_len);
    h->type = (b0 >> 4) & 3;
    if (h->type == type_retry(h->version))
        return -1; /* no Length field; nothing to read in it */
    if (h->type == type_initial(h->version)) {
        uint64_t token = rd_varint(r);
        if (r->err || token > rd_left(r))
            return -1;
        rd_skip(r, (size_t)token);
    }
    uint64_t len = rd_varint(r);
    if (r->err || len > rd_left(r))
        return -1;
    h->end = r->off + (size_t)len;
    return 0;
}

int quic_is_initial(const uint8_t *p, size_t n)
{
    struct rd r;
    struct long_hdr h;
    rd_init(&r, p, n);
    return long_header(&r, &h) == 0 && h.type == type_initial(h.version);
}

int quic_datagram(struct quic_ctx *q, const uint8_t *p, size_t n, struct quic_keys *k,
                  bool *have_keys, quic_crypto_fn fn, void *ud)
{
    size_t off = 0;
    int found = 0, decrypted = 0, bad = 0;
    for (int i = 0; i < MAX_COALESCED && off < n; i++) {
        const uint8_t *pkt = p + off;
        struct rd r;
        struct long_hdr h;
        rd_init(&r, pkt, n - off);
        if (long_header(&r, &h) != 0)
            break; /* a short header, padding, or something else: the rest is not ours */
        size_t pn_off = r.off;
        if (h.type == type_initial(h.version)) {
            found++;
            size_t plen = 0;
            int rc = -1;
            if (*have_keys && k->version == h.version)
                rc = decrypt(q, k, pkt, pn_off, h.end, &plen);
            if (rc != 0) {
                struct quic_keys nk;
                if (quic_client_keys(q, h.version, h.dcid, h.dcid_len, &nk) == 0 &&
                    decrypt(q, &nk, pkt, pn_off, h.end, &plen) == 0) {
                    *k = nk;
                    *have_keys = true;
                    rc = 0;
                }
            }
            if (rc == 0) {
                decrypted++;
                if (walk_frames(h.version, q->plain, plen, fn, ud) != QUIC_OK)
                    bad++;
            }
        }
        off += h.end;
    }
    if (decrypted > bad)
        return QUIC_OK;
    if (bad > 0)
        return QUIC_BAD_FRAMES;
    return found > 0 ? QUIC_UNDECRYPTABLE : QUIC_NO_INITIAL;
}
