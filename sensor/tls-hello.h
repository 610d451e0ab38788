/* tls-hello.h -- TLS ClientHello parsing and its JA4 fingerprint.
 *
 * Formats: the ClientHello of RFC 8446 section 4.1.2 (and of RFC 5246 for
 * older versions), its DTLS form with a cookie (RFC 6347 section 4.2.1), the
 * TLS record layer of RFC 8446 section 5.1, and FoxIO's JA4 (BSD 3-Clause):
 * https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md
 *
 * A JA4 looks like "t13d1516h2_8daaf6152771_e5627efa2ab1": protocol (t TLS
 * over TCP, q QUIC, d DTLS), version, d/i for SNI present or not, cipher and
 * extension counts (GREASE excluded, capped at 99), the first and last
 * characters of the first ALPN value, then the first 12 hex digits of the
 * SHA-256 of the sorted cipher list and of the sorted extension list (SNI and
 * ALPN left out) followed by the signature algorithms in their order.
 *
 * This file allocates nothing once the context exists; the digest is
 * libcrypto's SHA-256 through an EVP context the tls_hello_ctx keeps
 * (libcrypto 3.0 itself re-creates its provider state at each
 * EVP_DigestInit_ex: one small allocation per digest, two per JA4). */
#ifndef TLS_HELLO_H
#define TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* Characters of a JA4, without the terminating NUL. */
#define JA4_LEN 36

/* The longest ClientHello handshake message fingerprinted (header
 * included): one full TLS record's worth. Longer ones are TLS_HELLO_TOO_BIG. */
#define TLS_HELLO_MAX (16384 + 4)

/* Outcomes. Truncated means more bytes could make it whole; invalid means
 * no more bytes will (not a handshake, not a ClientHello, a length that
 * does not fit). */
enum tls_hello_result {
    TLS_HELLO_OK = 0,
    TLS_HELLO_TRUNCATED = -1,
    TLS_HELLO_INVALID = -2,
    TLS_HELLO_TOO_BIG = -3,
};

/* The first character of a JA4. */
enum ja4_proto { JA4_TLS = 't', JA4_QUIC = 'q', JA4_DTLS = 'd' };

struct tls_hello_ctx;

/* Create the working state of the parser: sort space for the lists of the
 * largest hello, a record-joining buffer and a SHA-256 context (about
 * 64 KiB). Returns NULL when out of memory. Free with tls_hello_ctx_free().
 * One context per thread. */
struct tls_hello_ctx *tls_hello_ctx_new(void);

/* Free the context; NULL is a no-op. */
void tls_hello_ctx_free(struct tls_hello_ctx *c);

/* Compute the JA4 of a ClientHello handshake message: msg starts at the
 * handshake type (4-byte header for TLS and QUIC, the 12-byte DTLS header
 * when proto is JA4_DTLS) and holds len bytes, of which the message may use
 * fewer. On TLS_HELLO_OK, out receives JA4_LEN characters and a NUL; on any
 * other result out is an empty string. msg is only read during the call. */
int tls_hello_ja4(struct tls_hello_ctx *c, const uint8_t *msg, size_t len, int proto,
                  char out[JA4_LEN + 1]);

/* Find the ClientHello message at the start of a TLS-over-TCP client
 * stream: p holds the first n bytes of the stream (records). On
 * TLS_HELLO_OK, *msg and *msglen give the whole handshake message, either
 * inside p (one record) or in c's joining buffer (a message spread over
 * several records), valid until the next call with c. TLS_HELLO_TRUNCATED:
 * more stream bytes are needed; *need then says how many stream bytes the
 * next known boundary requires (at least n + 1). Invalid when the stream
 * does not start with a handshake record carrying a ClientHello; too big
 * when the message exceeds TLS_HELLO_MAX. */
int tls_hello_from_records(struct tls_hello_ctx *c, const uint8_t *p, size_t n, const uint8_t **msg,
                           size_t *msglen, size_t *need);

/* The same for one DTLS datagram (RFC 6347 section 4.1): the first record
 * must be an unfragmented ClientHello (fragment offset 0, fragment length
 * equal to the message length). *msg points into p. */
int tls_hello_from_dtls(const uint8_t *p, size_t n, const uint8_t **msg, size_t *msglen);

/* 1 when v is a GREASE value (RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa). */
int tls_is_grease(uint16_t v);

#endif
