/* dn.c -- certificate names read attribute by attribute (see dn.h). */
#include "dn.h"

#include <stdio.h>
#include <string.h>

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The keys nDPI 4.2 writes (protocols/tls.c, processCertificateElements:
 * OIDs 2.5.4.3, .6, .7, .8, .10 and .11), longest first where one is the
 * start of another. */
static const char *const dn_keys[] = {"CN", "C", "L", "ST", "OU", "O"};

/* Length of "KEY" when p starts with one of dn_keys and '=', else 0. */
static size_t key_at(const char *p)
{
    for (size_t i = 0; i < sizeof(dn_keys) / sizeof(dn_keys[0]); i++) {
        size_t k = strlen(dn_keys[i]);
        if (strncmp(p, dn_keys[i], k) == 0 && p[k] == '=')
            return k;
    }
    return 0;
}

/* The next ", " at or after p that starts an attribute, or NULL. */
static const char *next_sep(const char *p)
{
    for (const char *sep = strstr(p, ", "); sep != NULL; sep = strstr(sep + 1, ", "))
        if (key_at(sep + 2) != 0)
            return sep;
    return NULL;
}

size_t dn_parse(const char *dn, struct dn_attr *out, size_t max)
{
    size_t n = 0;
    if (dn == NULL)
        return 0;
    const char *p = dn;
    if (key_at(p) == 0) { /* text before the first attribute is not one */
        const char *sep = next_sep(p);
        if (sep == NULL)
            return 0;
        p = sep + 2;
    }
    while (*p != '\0' && n < max) {
        struct dn_attr *a = &out[n++];
        a->key = p;
        a->key_len = key_at(p);
        a->val = p + a->key_len + 1;
        const char *sep = next_sep(a->val);
        a->val_len = sep != NULL ? (size_t)(sep - a->val) : strlen(a->val);
        if (sep == NULL)
            break;
        p = sep + 2;
    }
    return n;
}

static bool same_ci(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return false;
    for (size_t i = 0; i < al; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* The value v against the pattern value p: "*.name", "prefix*" or whole. */
static bool value_match(const char *p, size_t pl, const char *v, size_t vl)
{
    if (pl >= 2 && p[0] == '*' && p[1] == '.') {
        const char *name = p + 2;
        size_t nl = pl - 2;
        if (same_ci(name, nl, v, vl))
            return true;
        return vl > nl + 1 && v[vl - nl - 1] == '.' && same_ci(name, nl, v + vl - nl, nl);
    }
    if (pl >= 1 && p[pl - 1] == '*')
        return vl >= pl - 1 && same_ci(p, pl - 1, v, pl - 1);
    return same_ci(p, pl, v, vl);
}

bool dn_match(const struct dn_attr *pat, size_t n, const struct dn_attr *name, size_t m)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        for (; j < m; j++)
            if (same_ci(pat[i].key, pat[i].key_len, name[j].key, name[j].key_len) &&
                value_match(pat[i].val, pat[i].val_len, name[j].val, name[j].val_len))
                break;
        if (j == m)
            return false;
    }
    return true;
}

const char *dn_get(const char *dn, const char *key, char *buf, size_t len)
{
    struct dn_attr a[32];
    size_t n = dn_parse(dn, a, 32), kl = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (a[i].key_len == kl && memcmp(a[i].key, key, kl) == 0) {
            snprintf(buf, len, "%.*s", (int)a[i].val_len, a[i].val);
            return buf;
        }
    return NULL;
}
