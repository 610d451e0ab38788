/* netset.h -- a set of IPv4/IPv6 prefixes with longest-prefix match.
 *
 * A binary prefix tree per address family. Built once at start (or reload),
 * then read-only: lookups take no locks and never allocate. Each prefix
 * carries a caller-owned value pointer. */
#ifndef NETSET_H
#define NETSET_H

#include <stddef.h>
#include <stdint.h>

struct netset;

/* Create an empty set. Returns NULL on allocation failure.
 * Free with netset_free(). */
struct netset *netset_new(void);

/* Free the set and its nodes (not the values). netset_free(NULL) is a no-op. */
void netset_free(struct netset *ns);

/* Add the prefix given as text ("10.0.0.0/8", "fc00::/7", "192.0.2.1" meaning
 * /32, "2001:db8::1" meaning /128) with value (must not be NULL). Host bits
 * beyond the prefix length must be zero. Adding the same prefix twice replaces
 * the value. Returns 0, or -1 with a message in errbuf (for a malformed
 * prefix) or on allocation failure; the set is unchanged on failure. */
int netset_add(struct netset *ns, const char *cidr, void *value, char *errbuf, size_t errlen);

/* Add a prefix in binary form: af is 4 or 6, addr in network byte order
 * (4 or 16 bytes), plen 0..32 or 0..128. Returns 0 or -1 (bad args, ENOMEM). */
int netset_add_bin(struct netset *ns, int af, const uint8_t *addr, unsigned plen, void *value);

/* Longest-prefix match of addr (af 4 or 6, network byte order). Returns the
 * value of the most specific prefix containing addr, or NULL. If plen is not
 * NULL it receives the matched prefix length. Cannot fail. */
void *netset_lookup(const struct netset *ns, int af, const uint8_t *addr, unsigned *plen);

/* Number of prefixes in the set. */
size_t netset_count(const struct netset *ns);

#endif
