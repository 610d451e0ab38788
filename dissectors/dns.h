/* dns.h -- DNS response parser: the address bindings a response carries.
 *
 * Format: RFC 1035 (message, name compression), RFC 3596 (AAAA). For each A
 * or AAAA record that belongs to the question's name -- directly or through
 * a chain of CNAME records in the same answer section -- the parser reports
 * (question name, address, TTL). Names are returned lower case without the
 * trailing dot. Compression loops, pointers out of bounds and names longer
 * than 255 bytes are rejected. Never allocates. */
#ifndef DIS_DNS_H
#define DIS_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 256

enum dns_result {
    DNS_OK = 0,       /* a response; zero or more bindings reported */
    DNS_NOT_RESPONSE, /* a well-formed query, or not a response */
    DNS_TRUNCATED,    /* ended before a header, question or record did */
    DNS_INVALID,      /* malformed: bad pointer, loop, bad lengths */
};

/* One binding: af is 4 or 6, addr in network order. */
typedef void (*dns_binding_cb)(const char *name, int af, const uint8_t *addr, uint32_t ttl,
                               void *ud);

/* Parse a DNS message (UDP payload; for TCP strip the 2-byte length first).
 * Calls cb for every binding, returns an enum dns_result. */
int dis_dns_parse_response(const uint8_t *msg, size_t len, dns_binding_cb cb, void *ud);

/* Whether a UDP payload looks like a DNS message at all (header sane, the
 * question parses). Used to tell non-DNS payloads on port 53 apart. */
int dis_dns_looks_like_dns(const uint8_t *msg, size_t len);

#endif
