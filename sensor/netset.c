/* netset.c -- a set of IPv4/IPv6 prefixes with longest-prefix match.
 *
 * One path-compressed binary tree (a PATRICIA tree) per address family. Every
 * node holds a full prefix (key bits beyond plen are zero) and at most two
 * children, whose prefixes extend the node's by at least one bit; the bit
 * right after the node's prefix says which child. A node with a NULL value
 * is a branch point only, created when two prefixes diverge. A lookup walks
 * one root-to-leaf path, so it costs at most one node per bit of the
 * address, whatever the number of prefixes. */

#include "netset.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ns_node {
    struct ns_node *child[2];
    void *value;     /* caller's; NULL for a branch-only node */
    uint8_t key[16]; /* network byte order, bits beyond plen zero */
    uint8_t plen;
};

struct netset {
    struct ns_node *root[2]; /* [0] IPv4, [1] IPv6 */
    size_t count;
};

/* Bit i (0 = most significant of the first byte) of addr. */
static unsigned ns_bit(const uint8_t *addr, unsigned i)
{
    return (addr[i >> 3] >> (7 - (i & 7))) & 1u;
}

/* Number of leading bits a and b share, at most limit. */
static unsigned ns_common(const uint8_t *a, const uint8_t *b, unsigned limit)
{
    unsigned n = 0;

    while (n < limit) {
        uint8_t diff = a[n >> 3] ^ b[n >> 3];
        if (diff == 0) {
            n += 8;
            continue;
        }
        while (!(diff & 0x80)) {
            diff <<= 1;
            n++;
        }
        break;
    }
    return n < limit ? n : limit;
}

/* Clear the bits of key beyond the first plen. */
static void ns_mask(uint8_t *key, size_t alen, unsigned plen)
{
    for (size_t i = 0; i < alen; i++) {
        unsigned lo = (unsigned)i * 8;
        if (lo >= plen)
            key[i] = 0;
        else if (plen - lo < 8)
            key[i] &= (uint8_t)(0xff << (8 - (plen - lo)));
    }
}

/* Whether the first plen bits of addr equal those of key. */
static bool ns_match(const uint8_t *key, unsigned plen, const uint8_t *addr)
{
    unsigned full = plen >> 3, rest = plen & 7;

    if (memcmp(key, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return ((key[full] ^ addr[full]) & mask) == 0;
}

/* Index into root[] and address length in bytes for af (4 or 6); -1 if bad. */
static int ns_family(int af, size_t *alen)
{
    if (af == 4) {
        *alen = 4;
        return 0;
    }
    if (af == 6) {
        *alen = 16;
        return 1;
    }
    return -1;
}

static struct ns_node *ns_node_new(const uint8_t *addr, size_t alen, unsigned plen, void *value)
{
    struct ns_node *n = calloc(1, sizeof(*n));

    if (n == NULL)
        return NULL;
    memcpy(n->key, addr, alen);
    n->plen = (uint8_t)plen;
    n->value = value;
    return n;
}

static void ns_free_tree(struct ns_node *n)
{
    /* Depth is bounded by the address length (129 levels), so recursion is
     * safe here. */
    if (n == NULL)
        return;
    ns_free_tree(n->child[0]);
    ns_free_tree(n->child[1]);
    free(n);
}

/* Create an empty set; NULL when out of memory. Free with netset_free(). */
struct netset *netset_new(void)
{
    return calloc(1, sizeof(struct netset));
}

/* Free the set and its nodes; the values stay the caller's. NULL is a no-op. */
void netset_free(struct netset *ns)
{
    if (ns == NULL)
        return;
    ns_free_tree(ns->root[0]);
    ns_free_tree(ns->root[1]);
    free(ns);
}

/* Add addr/plen (af 4 or 6) with value, replacing the value of an equal
 * prefix. Host bits beyond plen are ignored. Returns 0, or -1 on bad
 * arguments or when out of memory; the set is then unchanged (all nodes are
 * allocated before the tree is touched). The value is borrowed, never freed. */
int netset_add_bin(struct netset *ns, int af, const uint8_t *addr, unsigned plen, void *value)
{
    size_t alen;
    int fam = ns_family(af, &alen);
    uint8_t key[16] = {0};

    if (ns == NULL || fam < 0 || addr == NULL || value == NULL || plen > alen * 8)
        return -1;

    /* Store only the prefix bits, so that keys compare byte-wise. */
    memcpy(key, addr, alen);
    ns_mask(key, alen, plen);

    struct ns_node **slot = &ns->root[fam];
    for (;;) {
        struct ns_node *n = *slot;

        if (n == NULL) {
            struct ns_node *leaf = ns_node_new(key, alen, plen, value);
            if (leaf == NULL)
                return -1;
            *slot = leaf;
            ns->count++;
            return 0;
        }

        unsigned limit = plen < n->plen ? plen : n->plen;
        unsigned common = ns_common(key, n->key, limit);

        if (common == n->plen) {
            if (plen == n->plen) {
                /* The same prefix: set or replace its value. */
                if (n->value == NULL)
                    ns->count++;
                n->value = value;
                return 0;
            }
            /* n's prefix contains ours: go down. */
            slot = &n->child[ns_bit(key, n->plen)];
            continue;
        }

        /* The prefixes diverge (or ours is shorter) within n's prefix. */
        if (common == plen) {
            /* Ours contains n: the new node becomes n's parent. */
            struct ns_node *parent = ns_node_new(key, alen, plen, value);
            if (parent == NULL)
                return -1;
            parent->child[ns_bit(n->key, plen)] = n;
            *slot = parent;
            ns->count++;
            return 0;
        }

        /* Neither contains the other: a branch node at the common bits. */
        struct ns_node *leaf = ns_node_new(key, alen, plen, value);
        struct ns_node *branch = ns_node_new(key, alen, common, NULL);
        if (leaf == NULL || branch == NULL) {
            free(leaf);
            free(branch);
            return -1;
        }
        ns_mask(branch->key, alen, common);
        branch->child[ns_bit(key, common)] = leaf;
        branch->child[ns_bit(n->key, common)] = n;
        *slot = branch;
        ns->count++;
        return 0;
    }
}

/* Write "invalid prefix "<text>": <why>" to errbuf, when there is one. */
static int ns_fail(char *errbuf, size_t errlen, const char *cidr, const char *why)
{
    if (errbuf != NULL && errlen > 0)
        snprintf(errbuf, errlen, "invalid prefix \"%.64s\": %s", cidr, why);
    return -1;
}

/* Parse cidr ("10.0.0.0/8", "2001:db8::1") and add it with value. Returns
 * 0, or -1 with a message in errbuf (when errbuf is not NULL) naming the text
 * and what is wrong with it; the set is unchanged on failure. */
int netset_add(struct netset *ns, const char *cidr, void *value, char *errbuf, size_t errlen)
{
    char addrtext[INET6_ADDRSTRLEN + 1];
    char why[96];
    uint8_t addr[16];
    unsigned plen, maxlen;
    int af;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (cidr == NULL)
        cidr = "";
    if (ns == NULL || value == NULL)
        return ns_fail(errbuf, errlen, cidr, "no set or no value given");
    if (cidr[0] == '\0')
        return ns_fail(errbuf, errlen, cidr, "empty");

    const char *slash = strchr(cidr, '/');
    size_t alen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
    if (alen == 0)
        return ns_fail(errbuf, errlen, cidr, "no address before '/'");
    if (alen >= sizeof(addrtext))
        return ns_fail(errbuf, errlen, cidr, "not an IPv4 or IPv6 address");
    memcpy(addrtext, cidr, alen);
    addrtext[alen] = '\0';

    if (inet_pton(AF_INET, addrtext, addr) == 1) {
        af = 4;
        maxlen = 32;
    } else if (inet_pton(AF_INET6, addrtext, addr) == 1) {
        af = 6;
        maxlen = 128;
    } else {
        return ns_fail(errbuf, errlen, cidr, "not an IPv4 or IPv6 address");
    }

    plen = maxlen;
    if (slash != NULL) {
        const char *p = slash + 1;
        size_t ndig = strspn(p, "0123456789");
        if (ndig == 0 || p[ndig] != '\0')
            return ns_fail(errbuf, errlen, cidr, "prefix length is not a number");
        if (ndig > 3 || (plen = (unsigned)strtoul(p, NULL, 10)) > maxlen) {
            snprintf(why, sizeof(why), "prefix length /%.8s exceeds /%u for IPv%d", p, maxlen, af);
            return ns_fail(errbuf, errlen, cidr, why);
        }
    }

    /* Host bits beyond the prefix must be zero. */
    for (unsigned i = plen; i < maxlen; i++) {
        if (ns_bit(addr, i)) {
            snprintf(why, sizeof(why), "host bits set beyond /%u", plen);
            return ns_fail(errbuf, errlen, cidr, why);
        }
    }

    if (netset_add_bin(ns, af, addr, plen, value) < 0) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "cannot add prefix \"%.64s\": out of memory", cidr);
        return -1;
    }
    return 0;
}

/* Longest-prefix match: the value of the most specific prefix holding addr,
 * or NULL. Walks one path of the tree, so the cost is bounded by the address
 * length; never allocates, never writes to the set, cannot fail. */
void *netset_lookup(const struct netset *ns, int af, const uint8_t *addr, unsigned *plen)
{
    size_t alen;
    int fam = ns_family(af, &alen);
    void *best = NULL;
    unsigned best_len = 0;

    if (ns == NULL || fam < 0 || addr == NULL)
        return NULL;

    const struct ns_node *n = ns->root[fam];
    while (n != NULL && ns_match(n->key, n->plen, addr)) {
        if (n->value != NULL) {
            best = n->value;
            best_len = n->plen;
        }
        if (n->plen >= alen * 8)
            break;
        n = n->child[ns_bit(addr, n->plen)];
    }
    if (best != NULL && plen != NULL)
        *plen = best_len;
    return best;
}

/* Number of prefixes (branch-only nodes not counted); 0 for NULL. */
size_t netset_count(const struct netset *ns)
{
    return ns != NULL ? ns->count : 0;
}
