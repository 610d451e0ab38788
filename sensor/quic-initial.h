/* quic-initial.h -- decryption of QUIC client Initial packets and their CRYPTO frames.
 *
 * Formats: RFC 9000 sections 12.2 (coalesced packets), 16 (variable-length
 * integers), 17.2 (long header) and 19 (frames); RFC 9001 section 5
 * (Initial secrets, AEAD_AES_128_GCM payload protection, AES-ECB header
 * protection) and its Appendix A; RFC 9369 section 3 (QUIC version 2:
 * packet types, salt, "quicv2" labels). Draft versions 22 to 34, Facebook's
 * mvfst versions and Google's T050/T051 use the salts their drafts defined.
 *
 * Only what a passive observer can read is read: the client's Initial
 * packets, protected with keys derived from the Destination Connection ID
 * of its first Initial. Crypto goes through libcrypto's EVP interfaces,
 * with contexts created once by quic_ctx_new() and reused. */
#ifndef QUIC_INITIAL_H
#define QUIC_INITIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_MAX_CID 20

/* The keys that protect one direction's Initial packets. */
struct quic_keys {
    uint32_t version;
    uint8_t key[16];
    uint8_t iv[12];
    uint8_t hp[16];
};

struct quic_ctx;

/* Create the crypto contexts (HKDF, AES-128-GCM, AES-128-ECB) and a
 * plaintext buffer for one datagram. Returns NULL when libcrypto cannot
 * provide them or memory is short. Free with quic_ctx_free(). One
 * context per thread. */
struct quic_ctx *quic_ctx_new(void);

/* Free the context; NULL is a no-op. */
void quic_ctx_free(struct quic_ctx *q);

/* 1 when a client Initial of this version can be decrypted here. */
int quic_version_supported(uint32_t version);

/* 1 when the datagram p[0..n) starts with a long-header Initial packet of a
 * supported version (a cheap look at the cleartext header, no crypto). */
int quic_is_initial(const uint8_t *p, size_t n);

/* Derive the client's Initial keys of version from the client's first
 * Destination Connection ID. Returns 0, or -1 (unsupported version, a
 * libcrypto failure) leaving *k unspecified. */
int quic_client_keys(struct quic_ctx *q, uint32_t version, const uint8_t *dcid, size_t dcid_len,
                     struct quic_keys *k);

/* Called for each CRYPTO frame of a decrypted Initial packet: offset in the
 * crypto stream and the frame's bytes (borrowed: valid during the call). */
typedef void (*quic_crypto_fn)(uint64_t offset, const uint8_t *data, size_t len, void *ud);

/* Outcome of quic_datagram(). */
enum quic_result {
    QUIC_OK = 0,             /* at least one Initial packet decrypted */
    QUIC_NO_INITIAL = -1,    /* no client Initial packet of a supported version */
    QUIC_UNDECRYPTABLE = -2, /* Initial packets found, none authenticated */
    QUIC_BAD_FRAMES = -3,    /* a decrypted packet whose frames do not parse */
};

/* Walk the packets coalesced in one client datagram p[0..n) (at most 8,
 * a bounded amount of work) and decrypt every Initial packet. The keys in
 * *k are tried first when *have_keys is set; otherwise, or when they do
 * not authenticate the packet, keys are derived from the packet's own
 * Destination Connection ID, and on success stored in *k with *have_keys
 * set. fn is called for every CRYPTO frame, in packet order. Never
 * allocates; p is only read. Returns an enum quic_result. */
int quic_datagram(struct quic_ctx *q, const uint8_t *p, size_t n, struct quic_keys *k,
                  bool *have_keys, quic_crypto_fn fn, void *ud);

#endif
