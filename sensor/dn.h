/* dn.h -- distinguished names as nDPI prints a certificate's subject and
 * issuer, read attribute by attribute.
 *
 * nDPI 4.2 writes a certificate name as "KEY=value" attributes joined by
 * ", " (C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate,
 * CN=FGT60E...), without escaping: a value may itself hold ", " (O=VMware,
 * Inc.). An attribute therefore starts at the beginning of the text and
 * after every ", " that is followed by KEY= (KEY: a letter, then letters,
 * digits or dots, as the short names C, ST, L, O, OU, CN, emailAddress and
 * dotted OIDs are); any other ", " belongs to the value.
 *
 * Matching is attribute by attribute: the pattern "O=Fortinet, OU=FortiGate"
 * matches a name holding an attribute O whose whole value is Fortinet and an
 * attribute OU whose whole value is FortiGate, in any order -- not
 * O=Fortinet Sales Ltd, and not a CN that merely mentions Fortinet. Keys and
 * values compare without regard to ASCII case. A value pattern may be
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

/* The value of attribute key in dn into buf (NUL-terminated, truncated to
 * len); returns buf, or NULL when dn has no such attribute. */
const char *dn_get(const char *dn, const char *key, char *buf, size_t len);

#endif
