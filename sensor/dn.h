/* dn.h -- distinguished names as nDPI prints a certificate's subject and
 * issuer, read attribute by attribute.
 *
 * nDPI 4.2 writes a certificate name as "KEY=value" attributes joined by
 * ", ", in certificate order, without escaping, and only six keys: C, ST,
 * L, O, OU and CN (protocols/tls.c, processCertificateElements). A value
 * may itself hold ", " (O=VMware, Inc.), so an attribute starts only at
 * the beginning of the text or after a ", " followed by one of the six
 * keys in upper case and '='; any other ", " belongs to the value ("O=Acme,
 * DC=local" is one attribute). Text before the first attribute is not
 * one. Keys repeat (two OUs; the first wins for dn_get()). nDPI cannot
 * tell an attribute from a value that imitates one ("O=x, CN=y"); neither
 * can anything reading its text.
 *
 * Matching is attribute by attribute: the pattern "O=Fortinet, OU=FortiGate"
 * matches a name holding an attribute O whose whole value is Fortinet and an
 * attribute OU whose whole value is FortiGate, in any order -- not
 * O=Fortinet Sales Ltd, and not a CN that merely mentions Fortinet. Values
 * compare without regard to ASCII case. A value pattern may be
 * "*.name" (name itself or any name ending in ".name", for a CN) or end in
 * "*" (a prefix). */
#ifndef DN_H
#define DN_H

#include <stdbool.h>
#include <stddef.h>

/* One attribute: pointers into the text it was read from. */
struct dn_attr {
    const char *key;
    size_t key_len;
    const char *val;
    size_t val_len;
};

/* The attributes of dn, in order, into out[] (at most max; the rest are
 * left out). Returns the number found; 0 for NULL or "". Never allocates;
 * out points into dn. */
size_t dn_parse(const char *dn, struct dn_attr *out, size_t max);

/* Whether every attribute of the pattern pat (n of them, from dn_parse())
 * is in name (m attributes). Cannot fail. */
bool dn_match(const struct dn_attr *pat, size_t n, const struct dn_attr *name, size_t m);

/* The value of the first attribute key (compared exactly: "CN") in dn
 * into buf (NUL-terminated, truncated to len); returns buf, or NULL when dn
 * has no such attribute. */
const char *dn_get(const char *dn, const char *key, char *buf, size_t len);

#endif
