/* match-domain.c -- case-insensitive domain matching on label boundaries.
 *
 * A trie of labels read from the right: the root's children are top-level
 * labels ("net"), theirs the next labels ("fortiguard"), and so on. A node
 * can carry two patterns: the exact name it spells ("fortiguard.net") and
 * the suffix pattern for it ("*.fortiguard.net"), and label-prefix patterns
 * ("dc-*.traps.paloaltonetworks.com": one more label, starting with "dc-",
 * the form the catalogue writes as "dc-<tenant>"). Children are kept sorted,
 * so a lookup costs one binary search per label of the name, whatever the
 * number of patterns.
 *
 * Names and patterns are ASCII: letters, digits, '-' and '_' (seen in real
 * host names), labels of 1..63 bytes, at most 253 bytes without the trailing
 * dot (RFC 1035 limits; for a suffix pattern the limit applies to the name
 * after "*."). Labels are stored lower-cased; names are lower-cased while
 * they are read. A name from the network that breaks these rules matches
 * nothing: no pattern could spell it. */
#include "match-domain.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DM_NAME_MAX 253
#define DM_LABEL_MAX 63
#define DM_MAX_LABELS ((DM_NAME_MAX + 1) / 2) /* "a.b.c..." */

/* "PREFIX*.name" hung on the node of "name". */
struct dm_prefix {
    char *prefix; /* lower case */
    size_t len;
    void *val;
    char *pat;
};

struct dm_node {
    char *label; /* lower case, NUL-terminated; NULL at the root */
    size_t len;
    struct dm_node **kids; /* sorted with dm_cmp() */
    size_t n_kids, cap_kids;
    void *exact_val; /* "x.y", NULL when none */
    char *exact_pat;
    void *suffix_val; /* "*.x.y", NULL when none */
    char *suffix_pat;
    struct dm_prefix *prefixes; /* "p*.x.y" */
    size_t n_prefixes;
};

struct domain_matcher {
    struct dm_node root;
};

/* A name or pattern split into labels: lower-cased text without the
 * trailing dot, and where each label starts and how long it is. */
struct dm_name {
    char text[DM_NAME_MAX + 1];
    size_t len;
    unsigned n;
    uint8_t off[DM_MAX_LABELS];
    uint8_t llen[DM_MAX_LABELS];
};

enum dm_err {
    DM_OK = 0,
    DM_E_EMPTY,
    DM_E_LONG,
    DM_E_LABEL_EMPTY,
    DM_E_LABEL_LONG,
    DM_E_STAR,
    DM_E_CHAR,
};

static int dm_is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Split s into out. Returns DM_OK or the first rule it breaks; *bad gets
 * the offending byte for DM_E_STAR and DM_E_CHAR. Reads at most
 * DM_NAME_MAX + 2 bytes of s, so a long hostile name costs nothing more. */
static enum dm_err dm_parse(const char *s, struct dm_name *out, unsigned char *bad)
{
    size_t len = strnlen(s, DM_NAME_MAX + 2), i, start = 0;

    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0)
        return DM_E_EMPTY;
    if (len > DM_NAME_MAX)
        return DM_E_LONG;
    out->n = 0;
    for (i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : '.';

        if (c == '.') {
            if (i == start)
                return DM_E_LABEL_EMPTY;
            if (i - start > DM_LABEL_MAX)
                return DM_E_LABEL_LONG;
            /* 253 bytes hold at most 127 labels, so n stays in bounds. */
            out->off[out->n] = (uint8_t)start;
            out->llen[out->n] = (uint8_t)(i - start);
            out->n++;
            start = i + 1;
            if (i < len)
                out->text[i] = '.';
            continue;
        }
        if (c == '*') {
            *bad = c;
            return DM_E_STAR;
        }
        if (!dm_is_name_char(c)) {
            *bad = c;
            return DM_E_CHAR;
        }
        out->text[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    out->text[len] = '\0';
    out->len = len;
    return DM_OK;
}

/* Kinds of pattern. */
enum { DM_EXACT = 0, DM_SUFFIX = 1, DM_LABEL_PREFIX = 2 };

/* Parse a pattern: "*.name" (DM_SUFFIX), "prefix*.name" (DM_LABEL_PREFIX:
 * the prefix, 1..62 name characters, goes to prefix[]) or a name. */
static enum dm_err dm_parse_pattern(const char *pattern, struct dm_name *nm, int *kind,
                                    unsigned char *bad, char prefix[DM_LABEL_MAX + 1])
{
    if (pattern[0] == '*' && pattern[1] == '.') {
        *kind = DM_SUFFIX;
        return dm_parse(pattern + 2, nm, bad);
    }
    size_t i;
    for (i = 0; i < DM_LABEL_MAX && dm_is_name_char((unsigned char)pattern[i]); i++)
        prefix[i] =
            (pattern[i] >= 'A' && pattern[i] <= 'Z') ? (char)(pattern[i] - 'A' + 'a') : pattern[i];
    if (i > 0 && pattern[i] == '*' && pattern[i + 1] == '.') {
        prefix[i] = '\0';
        *kind = DM_LABEL_PREFIX;
        return dm_parse(pattern + i + 2, nm, bad);
    }
    *kind = DM_EXACT;
    return dm_parse(pattern, nm, bad);
}

/* Order of children: by length, then bytes. Any total order would do; this
 * one decides most comparisons on the length alone. */
static int dm_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* Binary search of node's children for label. Returns the child, or NULL
 * with *pos set to where it would be inserted. */
static struct dm_node *dm_find(const struct dm_node *node, const char *label, size_t len,
                               size_t *pos)
{
    size_t lo = 0, hi = node->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct dm_node *k = node->kids[mid];
        int c = dm_cmp(label, len, k->label, k->len);

        if (c == 0)
            return node->kids[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (pos != NULL)
        *pos = lo;
    return NULL;
}

/* The child of node for label, created when missing. NULL when out of
 * memory. */
static struct dm_node *dm_child(struct dm_node *node, const char *label, size_t len)
{
    size_t pos = 0;
    struct dm_node *k = dm_find(node, label, len, &pos);

    if (k != NULL)
        return k;
    if (node->n_kids == node->cap_kids) {
        size_t cap = node->cap_kids == 0 ? 4 : node->cap_kids * 2;
        struct dm_node **nk = realloc(node->kids, cap * sizeof(*nk));

        if (nk == NULL)
            return NULL;
        node->kids = nk;
        node->cap_kids = cap;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->label = malloc(len + 1);
    if (k->label == NULL) {
        free(k);
        return NULL;
    }
    memcpy(k->label, label, len);
    k->label[len] = '\0';
    k->len = len;
    memmove(&node->kids[pos + 1], &node->kids[pos], (node->n_kids - pos) * sizeof(node->kids[0]));
    node->kids[pos] = k;
    node->n_kids++;
    return k;
}

static void dm_node_free(struct dm_node *n)
{
    size_t i;

    /* Depth is bounded by DM_MAX_LABELS, so recursion is safe here. */
    for (i = 0; i < n->n_kids; i++) {
        dm_node_free(n->kids[i]);
        free(n->kids[i]);
    }
    free(n->kids);
    for (i = 0; i < n->n_prefixes; i++) {
        free(n->prefixes[i].prefix);
        free(n->prefixes[i].pat);
    }
    free(n->prefixes);
    free(n->label);
    free(n->exact_pat);
    free(n->suffix_pat);
}

/* The node spelling nm, or NULL when the trie has none. */
static const struct dm_node *dm_walk(const struct domain_matcher *m, const struct dm_name *nm)
{
    const struct dm_node *node = &m->root;
    unsigned i;

    for (i = nm->n; i > 0 && node != NULL; i--)
        node = dm_find(node, nm->text + nm->off[i - 1], nm->llen[i - 1], NULL);
    return node;
}

/* Create an empty matcher; NULL when out of memory. Free with dm_free(). */
struct domain_matcher *dm_new(void)
{
    return calloc(1, sizeof(struct domain_matcher));
}

/* Free the matcher, its nodes and pattern copies; the values stay the
 * caller's. NULL is a no-op. */
void dm_free(struct domain_matcher *m)
{
    if (m == NULL)
        return;
    dm_node_free(&m->root);
    free(m);
}

/* Add pattern with value. Returns 0; 1 (value not stored) when the same
 * pattern is already there; -1 with "invalid domain pattern "...": why" or
 * "out of memory" in errbuf (when not NULL). On failure the patterns already
 * added stay and still match; at worst a few empty nodes are left over. */
int dm_add(struct domain_matcher *m, const char *pattern, void *value, char *errbuf, size_t errlen)
{
    struct dm_name nm;
    struct dm_node *node;
    unsigned char bad = 0;
    char why[64], prefix[DM_LABEL_MAX + 1];
    int kind, suffix;
    unsigned i;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (m == NULL || pattern == NULL || value == NULL) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "no matcher, pattern or value given");
        return -1;
    }
    enum dm_err perr = dm_parse_pattern(pattern, &nm, &kind, &bad, prefix);
    suffix = kind == DM_SUFFIX;
    switch (perr) {
    case DM_OK:
        why[0] = '\0';
        break;
    case DM_E_EMPTY:
        snprintf(why, sizeof(why), "%s", suffix ? "no name after \"*.\"" : "empty");
        break;
    case DM_E_LONG:
        snprintf(why, sizeof(why), "longer than %d bytes", DM_NAME_MAX);
        break;
    case DM_E_LABEL_EMPTY:
        snprintf(why, sizeof(why), "empty label");
        break;
    case DM_E_LABEL_LONG:
        snprintf(why, sizeof(why), "label longer than %d bytes", DM_LABEL_MAX);
        break;
    case DM_E_STAR:
        snprintf(why, sizeof(why), "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
        break;
    case DM_E_CHAR:
    default:
        if (bad > 0x20 && bad < 0x7f)
            snprintf(why, sizeof(why), "character '%c' is not allowed", bad);
        else
            snprintf(why, sizeof(why), "byte 0x%02x is not allowed", bad);
        break;
    }
    if (why[0] != '\0') {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "invalid domain pattern \"%.80s\": %s", pattern, why);
        return -1;
    }

    node = &m->root;
    for (i = nm.n; i > 0; i--) {
        node = dm_child(node, nm.text + nm.off[i - 1], nm.llen[i - 1]);
        if (node == NULL)
            goto nomem;
    }
    if (kind == DM_LABEL_PREFIX) {
        size_t plen = strlen(prefix);
        for (i = 0; i < node->n_prefixes; i++)
            if (node->prefixes[i].len == plen &&
                memcmp(node->prefixes[i].prefix, prefix, plen) == 0)
                return 1;
        struct dm_prefix *np = realloc(node->prefixes, (node->n_prefixes + 1) * sizeof(*np));
        if (np == NULL)
            goto nomem;
        node->prefixes = np;
        struct dm_prefix *e = &np[node->n_prefixes];
        e->prefix = strdup(prefix);
        e->pat = malloc(plen + 2 + nm.len + 1);
        if (e->prefix == NULL || e->pat == NULL) {
            free(e->prefix);
            free(e->pat);
            goto nomem;
        }
        e->len = plen;
        snprintf(e->pat, plen + 2 + nm.len + 1, "%s*.%s", prefix, nm.text);
        e->val = value;
        node->n_prefixes++;
        return 0;
    }
    if ((suffix ? node->suffix_val : node->exact_val) != NULL)
        return 1;
    if (suffix) {
        node->suffix_pat = malloc(nm.len + 3);
        if (node->suffix_pat == NULL)
            goto nomem;
        memcpy(node->suffix_pat, "*.", 2);
        memcpy(node->suffix_pat + 2, nm.text, nm.len + 1);
        node->suffix_val = value;
    } else {
        node->exact_pat = malloc(nm.len + 1);
        if (node->exact_pat == NULL)
            goto nomem;
        memcpy(node->exact_pat, nm.text, nm.len + 1);
        node->exact_val = value;
    }
    return 0;

nomem:
    if (errbuf != NULL && errlen > 0)
        snprintf(errbuf, errlen, "cannot add domain pattern \"%.80s\": out of memory", pattern);
    return -1;
}

/* Match name (any bytes; an invalid name matches nothing) and report every
 * matching pattern through cb (may be NULL): the exact name first, then the
 * suffix patterns from the longest to the shortest. The pattern passed to
 * cb is the matcher's normalised copy, valid until dm_free(). Returns the
 * number of matches. Never allocates; reentrant (cb may call dm_match). */
size_t dm_match(const struct domain_matcher *m, const char *name, dm_cb cb, void *ud)
{
    const struct dm_node *sfx[DM_MAX_LABELS];
    const struct dm_node *node, *exact = NULL;
    struct dm_name nm;
    unsigned char bad;
    size_t n_sfx = 0, count = 0;
    unsigned i;

    if (m == NULL || name == NULL || dm_parse(name, &nm, &bad) != DM_OK)
        return 0;
    const struct dm_node *pfx = NULL; /* node whose prefixes apply to label 0 */
    node = &m->root;
    for (i = nm.n; i > 0; i--) {
        if (i == 1 && node->n_prefixes > 0 && node != &m->root)
            pfx = node;
        node = dm_find(node, nm.text + nm.off[i - 1], nm.llen[i - 1], NULL);
        if (node == NULL)
            break;
        if (node->suffix_val != NULL)
            sfx[n_sfx++] = node;
        if (i == 1 && node->exact_val != NULL)
            exact = node;
    }
    if (exact != NULL) {
        if (cb != NULL)
            cb(exact->exact_val, exact->exact_pat, ud);
        count++;
    }
    if (pfx != NULL) { /* the leftmost label against "prefix*." patterns */
        const char *l0 = nm.text + nm.off[0];
        size_t l0len = nm.llen[0];
        for (i = 0; i < pfx->n_prefixes; i++) {
            const struct dm_prefix *e = &pfx->prefixes[i];
            if (e->len <= l0len && memcmp(l0, e->prefix, e->len) == 0) {
                if (cb != NULL)
                    cb(e->val, e->pat, ud);
                count++;
            }
        }
    }
    while (n_sfx > 0) {
        node = sfx[--n_sfx];
        if (cb != NULL)
            cb(node->suffix_val, node->suffix_pat, ud);
        count++;
    }
    return count;
}

/* 1 when pattern is valid for dm_add(), else 0. Cannot fail. */
int dm_valid(const char *pattern)
{
    struct dm_name nm;
    unsigned char bad;
    char prefix[DM_LABEL_MAX + 1];
    int kind;

    return pattern != NULL && dm_parse_pattern(pattern, &nm, &kind, &bad, prefix) == DM_OK;
}

/* The value stored for pattern, or NULL. Never allocates, cannot fail. */
void *dm_get(const struct domain_matcher *m, const char *pattern)
{
    const struct dm_node *node;
    struct dm_name nm;
    unsigned char bad;
    char prefix[DM_LABEL_MAX + 1];
    int kind;

    if (m == NULL || pattern == NULL ||
        dm_parse_pattern(pattern, &nm, &kind, &bad, prefix) != DM_OK)
        return NULL;
    node = dm_walk(m, &nm);
    if (node == NULL)
        return NULL;
    if (kind == DM_LABEL_PREFIX) {
        size_t plen = strlen(prefix);
        for (size_t i = 0; i < node->n_prefixes; i++)
            if (node->prefixes[i].len == plen &&
                memcmp(node->prefixes[i].prefix, prefix, plen) == 0)
                return node->prefixes[i].val;
        return NULL;
    }
    return kind == DM_SUFFIX ? node->suffix_val : node->exact_val;
}
