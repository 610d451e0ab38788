/* dn.c -- certificate names read attribute by attribute (see dn.h). */
#include "dn.h"

#include <stdio.h>
#include <string.h>

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_key_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '.';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Length of "KEY=" at p (letters, digits, dots after a leading letter or
 * digit), 0 when p does not start an attribute. */
static size_t key_at(const char *p)
{
    size_t n = 0;
    if (!is_key_char(p[0]) || p[0] == '.')
        return 0;
    while (is_key_char(p[n]))
        n++;
    return p[n] == '=' ? n : 0;
}

size_t dn_parse(const char *dn, struct dn_attr *out, size_t max)
{
    size_t n = 0;
    if (dn == NULL)
        return 0;
    const char *p = dn;
    while (*p == ' ')
        p++;
    while (*p != '\0' && n < max) {
        size_t kl = key_at(p);
        if (kl == 0)
            break; /* not a name of attributes: nothing more to read */
        struct dn_attr *a = &out[n++];
        a->key = p;
        a->key_len = kl;
        a->val = p + kl + 1;
        const char *q = a->val;
        for (;;) {
            const char *sep = strstr(q, ", ");
            if (sep == NULL) {
                q += strlen(q);
                break;
            }
            if (key_at(sep + 2) != 0) {
                q = sep;
                break;
            }
            q = sep + 2; /* ", " inside a value */
        }
        a->val_len = (size_t)(q - a->val);
        p = *q != '\0' ? q + 2 : q;
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
        if (same_ci(a[i].key, a[i].key_len, key, kl)) {
            snprintf(buf, len, "%.*s", (int)a[i].val_len, a[i].val);
            return buf;
        }
    return NULL;
}
