/* sig-load.c -- the signature pack: loading, validation, compiling.
 *
 * Loading (sig_pack_load) reads every *.conf file of a folder in name order,
 * in three steps per file, like config.c:
 *
 *   1. libconfig parses the text (syntax errors, duplicate keys);
 *   2. a scan of the raw text rejects integer literals outside
 *      0..4294967295, since libconfig 1.5 wraps an unsuffixed literal into a
 *      32-bit int (the only integers of a pack are AS numbers);
 *   3. a walk of the tree checks every key against sig_keys[] and compiles
 *      each indicator as it goes.
 *
 * The format and the matching rules are in config/signatures/README.md.
 * What loading builds, for n signatures:
 *
 *   dm[0], dm[1]   domain matchers for `domains` and `http_host`; the value
 *                  of each pattern is the sorted list of signatures naming it;
 *   cidrs          a netset whose value for each prefix lists the signatures
 *                  of that prefix and of every shorter prefix containing it
 *                  (each with its own most specific prefix), since a lookup
 *                  returns only the longest match;
 *   asns           (asn, signature) pairs sorted for binary search;
 *   meta[]         per metadata kind (path, user agent, certificate subject
 *                  and issuer, dissector, JA3), the signatures that use it:
 *                  a flow without that metadata does no work for them.
 * */
#include "signature.h"
#include "sig-int.h"
#include "dn.h"
#include "conf-file.h"
#include "match-domain.h"
#include "netset.h"
#include "output-json.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
/* Largest pack file we read; anything bigger is surely a mistake. */
#define SIG_FILE_MAX (16u << 20)

/* Longest signature id and dissector name. */
#define SIG_ID_MAX 64

#define SIG_ASN_MAX 4294967295LL

/* Attributes a certificate name pattern may list. */
#define SIG_CERT_ATTRS_MAX 8

#define SIG_STR_(x) #x
#define SIG_STR(x) SIG_STR_(x)

/* Value stored with every prefix while loading; replaced by the lists. */
static int sig_cidr_marker;

/* Make room for one element more than n in the array whose pointer is at
 * parray (elements of size bytes, *cap allocated). Returns 0, or -1 with
 * the array unchanged. The pointer is read and written with memcpy() so
 * that any element type can share this function. */
static int sig_grow(void *parray, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *old, *nv;

    if (n < *cap)
        return 0;
    ncap = *cap == 0 ? 8 : *cap * 2;
    if (ncap > SIZE_MAX / size)
        return -1;
    memcpy(&old, parray, sizeof(old));
    nv = realloc(old, ncap * size);
    if (nv == NULL)
        return -1;
    memcpy(parray, &nv, sizeof(nv));
    *cap = ncap;
    return 0;
}

static int sig_idx_push(struct sig_idx *l, uint32_t si)
{
    if (l->n > 0 && l->v[l->n - 1] == si)
        return 0;
    if (sig_grow(&l->v, &l->cap, l->n, sizeof(l->v[0])) < 0)
        return -1;
    l->v[l->n++] = si;
    return 0;
}

/* ---------------------------------------------------------------- errors */

/* State of loading one file. */
struct sig_load {
    struct sig_pack *p;
    const char *file; /* for messages, when libconfig names no file */
    char *errbuf;
    size_t errlen;
};

/* An error about setting s, at the file and line it came from. Returns -1.
 * As in config.c, errors about an element of an array or list are reported
 * at the line of its key, naming the element by index: libconfig 1.5 gives
 * an element the line of the token after it. */
#define sig_err(ld, s, ...) cf_setting_err((ld)->errbuf, (ld)->errlen, (ld)->file, (s), __VA_ARGS__)

/* ASCII only: the pack is not locale dependent. */
static int sig_is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int sig_has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- unknown keys */

/* Case-insensitive edit distance counting a swap of two neighbours as one
 * edit (as config.c). Names longer than 63 are never close. */

/* The name of names[] closest to name, if close enough; else NULL. */
static const char *sig_suggest(const char *name, const char *const *names, size_t n)
{
    size_t len = strlen(name), i;
    unsigned best_d = len <= 3 ? 2 : len <= 6 ? 3 : 4; /* one more than the edits accepted */
    const char *best = NULL;

    for (i = 0; i < n; i++) {
        unsigned d = cf_distance(name, len, names[i], strlen(names[i]));

        if (d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

/* ---------------------------------------------------------------- values */

/* A copy of s; lower-cased when lower; without one trailing dot when dot. */
static char *sig_copy(const char *s, int lower, int dot)
{
    size_t len = strlen(s), i;
    char *c;

    if (dot && len > 0 && s[len - 1] == '.')
        len--;
    c = malloc(len + 1);
    if (c == NULL)
        return NULL;
    for (i = 0; i < len; i++)
        c[i] = lower ? sig_lower(s[i]) : s[i];
    c[len] = '\0';
    return c;
}

/* [a-z0-9-]+ (and '_' when underscore), 1..SIG_ID_MAX bytes. */
static int sig_valid_name(const char *s, int underscore)
{
    size_t len = strlen(s);

    if (len == 0 || len > SIG_ID_MAX)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || sig_is_digit(*s) || *s == '-' ||
              (underscore && *s == '_')))
            return 0;
    return 1;
}

static int sig_valid_ja3(const char *s)
{
    size_t i;

    for (i = 0; i < 32; i++)
        if (!(sig_is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[32] == '\0';
}

/* "tcp/N" or "udp/N", N 1..65535 without leading zeros. */
/* A JA4: part a (10 characters: t/q/d, version, d/i, two counts, ALPN),
 * '_', and the two 12-digit truncated hashes in lower-case hex. */
static int sig_valid_ja4(const char *s)
{
    if (strlen(s) != 36 || s[10] != '_' || s[23] != '_' || strchr("tqd", s[0]) == NULL)
        return 0;
    for (int i = 11; i < 36; i++)
        if (i != 23 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    for (int i = 1; i < 10; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')))
            return 0;
    return 1;
}

/* An nDPI protocol name as it labels flows: letters, digits, '_' and '-'. */
static int sig_valid_app(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* A certificate name pattern read into its attributes: each KEY=value
 * with a value; returns a heap array the pattern keeps (n set), or NULL
 * when the text is not such a pattern (or out of memory). The attributes
 * point into v: the caller reads them again from its own copy. */
static struct dn_attr *sig_cert_pattern(const char *v, size_t *n)
{
    struct dn_attr a[SIG_CERT_ATTRS_MAX];
    size_t m = dn_parse(v, a, SIG_CERT_ATTRS_MAX), used = 0;
    if (m == 0 || a[0].key != v) /* it must start with an attribute */
        return NULL;
    for (size_t i = 0; i < m; i++) {
        if (a[i].val_len == 0)
            return NULL;
        used = (size_t)(a[i].val + a[i].val_len - v);
    }
    if (used != strlen(v)) /* something after the attributes that is not one */
        return NULL;
    struct dn_attr *out = calloc(m, sizeof(*out));
    if (out != NULL)
        *n = m;
    return out;
}

static int sig_parse_port(const char *s, struct sig_port *out)
{
    unsigned long v = 0;
    const char *p;

    if (strncmp(s, "tcp/", 4) == 0)
        out->proto = IPPROTO_TCP;
    else if (strncmp(s, "udp/", 4) == 0)
        out->proto = IPPROTO_UDP;
    else
        return -1;
    p = s + 4;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p != '\0'; p++) {
        if (!sig_is_digit(*p))
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return -1;
    }
    out->port = (uint16_t)v;
    return 0;
}

/* Binary form of a prefix netset_add() has accepted. */
static void sig_parse_cidr(const char *text, struct sig_cidr_raw *r)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);

    memset(r->key, 0, sizeof(r->key));
    if (alen >= sizeof(addr))
        alen = sizeof(addr) - 1;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, r->key) == 1) {
        r->af = 4;
        r->plen = 32;
    } else {
        inet_pton(AF_INET6, addr, r->key);
        r->af = 6;
        r->plen = 128;
    }
    if (slash != NULL)
        r->plen = (uint8_t)strtoul(slash + 1, NULL, 10);
}

/* ---------------------------------------------------------------- key handlers */

struct sig_key;
typedef int (*sig_apply_fn)(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                            uint32_t si);

struct sig_key {
    const char *name;
    sig_apply_fn apply;
    int arg; /* which text field, or which indicator list */
    int required;
};

enum { F_PRODUCT, F_SOURCE, F_NOTE };

static int sig_get_string(const struct sig_load *ld, const config_setting_t *s, const char *key,
                          const char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return sig_err(ld, s, "%s: expected a string, found %s", key, cf_type_name(s));
    *out = config_setting_get_string(s);
    if (sig_has_control(*out))
        return sig_err(ld, s, "%s: contains a control character", key);
    return 0;
}

static int sig_apply_id(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                        uint32_t si)
{
    struct sig_pack *p = ld->p;
    const char *v;
    size_t i;

    if (sig_get_string(ld, s, k->name, &v) < 0)
        return -1;
    if (!sig_valid_name(v, 0))
        return sig_err(ld, s,
                       "id: \"%.80s\" is not a valid id (1..%d lower-case letters, digits "
                       "and '-')",
                       v, SIG_ID_MAX);
    for (i = 0; i < si; i++)
        if (strcmp(p->sigs[i].id, v) == 0)
            return sig_err(ld, s, "duplicate signature id \"%s\" (first defined at %s:%d)", v,
                           p->sigs[i].file, p->sigs[i].line);
    p->data[si].id = sig_copy(v, 0, 0);
    if (p->data[si].id == NULL)
        return sig_err(ld, s, "out of memory");
    p->sigs[si].id = p->data[si].id;
    p->sigs[si].line = config_setting_source_line(s);
    return 0;
}

static int sig_apply_text(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                          uint32_t si)
{
    struct sig_data *d = &ld->p->data[si];
    struct signature *sig = &ld->p->sigs[si];
    const char *v;
    char *c;

    if (sig_get_string(ld, s, k->name, &v) < 0)
        return -1;
    if (v[0] == '\0' && k->required)
        return sig_err(ld, s, "%s: must not be empty", k->name);
    size_t max = k->arg == F_PRODUCT  ? SIG_PRODUCT_MAX
                 : k->arg == F_SOURCE ? SIG_SOURCE_MAX
                                      : SIG_NOTE_MAX;
    if (strlen(v) > max)
        return sig_err(ld, s, "%s: %zu bytes, more than the %zu a %s may have", k->name, strlen(v),
                       max, k->name);
    if (sig_has_control(v))
        return sig_err(ld, s, "%s: contains a control character", k->name);
    c = sig_copy(v, 0, 0);
    if (c == NULL)
        return sig_err(ld, s, "out of memory");
    switch (k->arg) {
    case F_PRODUCT:
        d->product = c;
        sig->product = c;
        break;
    case F_SOURCE:
        d->source = c;
        sig->source = c;
        break;
    default:
        free(d->note);
        d->note = c;
        sig->note = c;
        break;
    }
    return 0;
}

/* A string that must be one of names[0..n), listed in the message. */
static int sig_apply_enum(struct sig_load *ld, const config_setting_t *s, const char *key,
                          const char *const *names, size_t n, uint8_t *out)
{
    char allowed[160];
    size_t i, used = 0;
    const char *v;

    if (sig_get_string(ld, s, key, &v) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    allowed[0] = '\0';
    for (i = 0; i < n && used < sizeof(allowed); i++) {
        int w =
            snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i > 0 ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return sig_err(ld, s, "%s: \"%.80s\" is not one of %s", key, v, allowed);
}

static int sig_apply_category(struct sig_load *ld, const config_setting_t *s,
                              const struct sig_key *k, uint32_t si)
{
    return sig_apply_enum(ld, s, k->name, sig_cat_names, SIG_CAT_MAX, &ld->p->sigs[si].category);
}

static int sig_apply_severity(struct sig_load *ld, const config_setting_t *s,
                              const struct sig_key *k, uint32_t si)
{
    return sig_apply_enum(ld, s, k->name, sig_sev_names, SIG_SEV_BASE_MAX + 1,
                          &ld->p->sigs[si].severity);
}

static int sig_apply_role(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                          uint32_t si)
{
    return sig_apply_enum(ld, s, k->name, sig_role_names, SIG_ROLE_MAX, &ld->p->sigs[si].role);
}

static int sig_apply_relation(struct sig_load *ld, const config_setting_t *s,
                              const struct sig_key *k, uint32_t si)
{
    return sig_apply_enum(ld, s, k->name, sig_rel_names, SIG_REL_MAX, &ld->p->sigs[si].relation);
}

static const char *const sig_dev_names[SIG_DEV_MAX] = {"none", "fortinet-serial", "cert-hostname",
                                                       "dissector"};

static int sig_apply_device(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                            uint32_t si)
{
    return sig_apply_enum(ld, s, k->name, sig_dev_names, SIG_DEV_MAX, &ld->p->sigs[si].device);
}

static int sig_apply_bool(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                          uint32_t si)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return sig_err(ld, s, "%s: expected true or false, found %s", k->name, cf_type_name(s));
    ld->p->sigs[si].app_guessed = (uint8_t)config_setting_get_bool(s);
    return 0;
}

/* Add text and fold (owned; fold may be NULL) to the signature's list ind,
 * or free both and fail. */
static int sig_list_push(struct sig_data *d, int ind, char *text, char *fold)
{
    struct sig_strlist *l = &d->ind[ind];

    if (sig_grow(&l->v, &l->cap, l->n, sizeof(l->v[0])) < 0) {
        free(text);
        free(fold);
        return -1;
    }
    l->v[l->n] = (struct sig_pat){.text = text, .fold = fold};
    l->n++;
    return 0;
}

/* Compile a domain pattern for signature si into dm[which]. */
static int sig_add_domain(struct sig_load *ld, const config_setting_t *s, const char *key, int idx,
                          int which, const char *pattern, uint32_t si)
{
    struct sig_pack *p = ld->p;
    struct sig_idx *val = dm_get(p->dm[which], pattern);
    char msg[200];

    if (val == NULL) {
        val = calloc(1, sizeof(*val));
        if (val == NULL ||
            sig_grow(&p->dm_vals, &p->cap_dm_vals, p->n_dm_vals, sizeof(p->dm_vals[0])) < 0) {
            free(val);
            return sig_err(ld, s, "out of memory");
        }
        msg[0] = '\0';
        if (dm_add(p->dm[which], pattern, val, msg, sizeof(msg)) != 0) {
            free(val);
            return sig_err(ld, s, "%s[%d]: %s", key, idx, msg[0] ? msg : "invalid domain pattern");
        }
        p->dm_vals[p->n_dm_vals++] = val;
    }
    if (sig_idx_push(val, si) < 0)
        return sig_err(ld, s, "out of memory");
    return 0;
}

/* One AS number of the asns list. */
static int sig_add_asn(struct sig_load *ld, const config_setting_t *s, const config_setting_t *e,
                       int idx, uint32_t si)
{
    struct sig_pack *p = ld->p;
    struct sig_data *d = &p->data[si];
    char text[16], *c;
    long long v;
    size_t i;

    /* An unsuffixed literal is a wrapped 32-bit int in libconfig 1.5; the
     * raw-text scan has rejected anything outside 0..4294967295, so the
     * unsigned reading of the bits is the literal. */
    if (config_setting_type(e) == CONFIG_TYPE_INT)
        v = (long long)(uint32_t)config_setting_get_int(e);
    else if (config_setting_type(e) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(e);
    else
        return sig_err(ld, s, "asns[%d]: expected an integer, found %s", idx, cf_type_name(e));
    if (v < 1 || v > SIG_ASN_MAX)
        return sig_err(ld, s, "asns[%d]: %lld is out of range 1..%lld", idx, v, SIG_ASN_MAX);
    snprintf(text, sizeof(text), "AS%lld", v);
    for (i = 0; i < d->ind[IND_ASNS].n; i++)
        if (strcmp(d->ind[IND_ASNS].v[i].text, text) == 0)
            return sig_err(ld, s, "asns[%d]: %lld repeats an earlier entry", idx, v);
    c = sig_copy(text, 0, 0);
    if (c == NULL || sig_list_push(d, IND_ASNS, c, NULL) < 0 ||
        sig_grow(&p->asns, &p->cap_asns, p->n_asns, sizeof(p->asns[0])) < 0)
        return sig_err(ld, s, "out of memory");
    p->asns[p->n_asns].asn = (uint32_t)v;
    p->asns[p->n_asns].sig = si;
    p->asns[p->n_asns].text = c;
    p->n_asns++;
    return 0;
}

/* One string of an indicator list: check, normalise, compile. */
static int sig_add_string(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                          int idx, const char *v, uint32_t si)
{
    struct sig_pack *p = ld->p;
    struct sig_data *d = &p->data[si];
    const char *key = k->name;
    struct sig_cidr_raw raw;
    struct sig_port port;
    char msg[200];
    char *c, *fold = NULL;
    struct dn_attr *attrs = NULL;
    size_t i, n_attrs = 0;

    if (v[0] == '\0')
        return sig_err(ld, s, "%s[%d]: empty string", key, idx);
    if (strlen(v) > SIG_PATTERN_MAX)
        return sig_err(ld, s, "%s[%d]: %zu bytes, more than the %d an indicator may have", key, idx,
                       strlen(v), SIG_PATTERN_MAX);
    if (sig_has_control(v))
        return sig_err(ld, s, "%s[%d]: contains a control character", key, idx);

    switch (k->arg) {
    case IND_DOMAINS:
    case IND_HTTP_HOST:
        c = sig_copy(v, 1, 1);
        break;
    case IND_CERT_SUBJECT:
    case IND_CERT_ISSUER:
        if ((attrs = sig_cert_pattern(v, &n_attrs)) == NULL)
            return sig_err(ld, s,
                           "%s[%d]: \"%.80s\" is not a certificate name pattern: attributes "
                           "KEY=value joined by \", \" (O=Fortinet, OU=FortiGate), KEY one of "
                           "C, ST, L, O, OU, CN, a value whole, *.name or ending in *",
                           key, idx, v);
        /* fall through */
    case IND_HTTP_UA:
        c = sig_copy(v, 0, 0);
        fold = sig_copy(v, 1, 0);
        if (fold == NULL) {
            free(c);
            c = NULL;
        }
        break;
    case IND_JA3:
    case IND_JA3S:
        if (!sig_valid_ja3(v))
            return sig_err(ld, s, "%s[%d]: \"%.80s\" is not 32 lower-case hex digits", key, idx, v);
        c = sig_copy(v, 0, 0);
        break;
    case IND_JA4:
        if (!sig_valid_ja4(v))
            return sig_err(ld, s,
                           "ja4[%d]: \"%.80s\" is not a JA4 (t13d1516h2_8daaf6152771_e5627efa2ab1: "
                           "10 characters, '_', 12 and 12 lower-case hex digits)",
                           idx, v);
        c = sig_copy(v, 0, 0);
        break;
    case IND_APP:
        if (!sig_valid_app(v))
            return sig_err(ld, s,
                           "app[%d]: \"%.80s\" is not an nDPI protocol name (letters, digits, "
                           "'_', '-', at most 63)",
                           idx, v);
        c = sig_copy(v, 0, 0);
        break;
    case IND_DISSECTOR:
        if (!sig_valid_name(v, 1))
            return sig_err(ld, s,
                           "dissector[%d]: \"%.80s\" is not a dissector name (1..%d lower-case "
                           "letters, digits, '-' and '_')",
                           idx, v, SIG_ID_MAX);
        c = sig_copy(v, 0, 0);
        break;
    case IND_PORTS:
        if (sig_parse_port(v, &port) < 0)
            return sig_err(ld, s, "ports[%d]: \"%.80s\" is not tcp/N or udp/N with N 1..65535", idx,
                           v);
        c = sig_copy(v, 0, 0);
        break;
    case IND_CIDRS:
        msg[0] = '\0';
        if (netset_add(p->cidrs, v, &sig_cidr_marker, msg, sizeof(msg)) < 0)
            return sig_err(ld, s, "cidrs[%d]: %s", idx, msg[0] ? msg : "invalid prefix");
        sig_parse_cidr(v, &raw);
        for (i = 0; i < p->n_raw; i++)
            if (p->raw[i].sig == si && p->raw[i].af == raw.af && p->raw[i].plen == raw.plen &&
                memcmp(p->raw[i].key, raw.key, sizeof(raw.key)) == 0)
                return sig_err(ld, s, "cidrs[%d]: \"%.80s\" repeats an earlier entry", idx, v);
        c = sig_copy(v, 0, 0);
        break;
    default: /* IND_HTTP_PATH: prefix, case-sensitive */
        c = sig_copy(v, 0, 0);
        break;
    }
    if (c == NULL)
        return sig_err(ld, s, "out of memory");
    if (k->arg != IND_CIDRS) {
        for (i = 0; i < d->ind[k->arg].n; i++) {
            const struct sig_pat *e = &d->ind[k->arg].v[i];

            if (fold != NULL ? strcmp(e->fold, fold) == 0 : strcmp(e->text, c) == 0) {
                sig_err(ld, s, "%s[%d]: \"%.80s\" repeats an earlier entry", key, idx, v);
                free(c);
                free(fold);
                free(attrs);
                return -1;
            }
        }
    }
    if (sig_list_push(d, k->arg, c, fold) < 0) {
        free(attrs);
        return sig_err(ld, s, "out of memory");
    }
    if (attrs != NULL) {
        /* read again from the pack's own copy, which they point into */
        struct sig_pat *pat = &d->ind[k->arg].v[d->ind[k->arg].n - 1];
        n_attrs = dn_parse(pat->text, attrs, n_attrs);
        pat->attrs = attrs;
        pat->n_attrs = n_attrs;
    }

    /* The matchers normalise and validate patterns themselves: give them the
     * text as written, so that their messages quote it. */
    switch (k->arg) {
    case IND_DOMAINS:
        return sig_add_domain(ld, s, key, idx, 0, v, si);
    case IND_HTTP_HOST:
        return sig_add_domain(ld, s, key, idx, 1, v, si);
    case IND_PORTS:
        /* ports[] follows the text list, one entry per port. */
        if (sig_grow(&d->ports, &d->cap_ports, d->ind[IND_PORTS].n - 1, sizeof(d->ports[0])) < 0)
            return sig_err(ld, s, "out of memory");
        d->ports[d->ind[IND_PORTS].n - 1] = port;
        return 0;
    case IND_CIDRS:
        if (sig_grow(&p->raw, &p->cap_raw, p->n_raw, sizeof(p->raw[0])) < 0)
            return sig_err(ld, s, "out of memory");
        raw.sig = si;
        raw.text = c;
        p->raw[p->n_raw++] = raw;
        return 0;
    default:
        return 0;
    }
}

/* An indicator list: an array [ ... ] or list ( ... ), not empty. */
static int sig_apply_list(struct sig_load *ld, const config_setting_t *s, const struct sig_key *k,
                          uint32_t si)
{
    int i, n;

    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return sig_err(ld, s, "%s: expected an array [ ... ], found %s", k->name, cf_type_name(s));
    n = config_setting_length(s);
    if (n == 0)
        return sig_err(ld, s, "%s: empty (leave the key out)", k->name);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (k->arg == IND_ASNS) {
            if (sig_add_asn(ld, s, e, i, si) < 0)
                return -1;
            continue;
        }
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return sig_err(ld, s, "%s[%d]: expected a string, found %s", k->name, i,
                           cf_type_name(e));
        if (sig_add_string(ld, s, k, i, config_setting_get_string(e), si) < 0)
            return -1;
    }
    return 0;
}

/* The keys of a signature. Required ones first, in the order their absence
 * is reported. */
static const struct sig_key sig_keys[] = {
    {"id", sig_apply_id, 0, 1},
    {"product", sig_apply_text, F_PRODUCT, 1},
    {"category", sig_apply_category, 0, 1},
    {"severity", sig_apply_severity, 0, 1},
    {"source", sig_apply_text, F_SOURCE, 1},
    {"note", sig_apply_text, F_NOTE, 0},
    {"domains", sig_apply_list, IND_DOMAINS, 0},
    {"http_host", sig_apply_list, IND_HTTP_HOST, 0},
    {"http_path", sig_apply_list, IND_HTTP_PATH, 0},
    {"http_user_agent", sig_apply_list, IND_HTTP_UA, 0},
    {"cert_subject", sig_apply_list, IND_CERT_SUBJECT, 0},
    {"cert_issuer", sig_apply_list, IND_CERT_ISSUER, 0},
    {"ja3", sig_apply_list, IND_JA3, 0},
    {"dissector", sig_apply_list, IND_DISSECTOR, 0},
    {"app", sig_apply_list, IND_APP, 0},
    {"app_guessed", sig_apply_bool, 0, 0},
    {"ja4", sig_apply_list, IND_JA4, 0},
    {"ja3s", sig_apply_list, IND_JA3S, 0},
    {"role", sig_apply_role, 0, 0},
    {"relation", sig_apply_relation, 0, 0},
    {"device", sig_apply_device, 0, 0},
    {"cidrs", sig_apply_list, IND_CIDRS, 0},
    {"asns", sig_apply_list, IND_ASNS, 0},
    {"ports", sig_apply_list, IND_PORTS, 0},
};

#define SIG_NKEYS ARRAY_SIZE(sig_keys)

static const char *const sig_top_keys[] = {"vendor", "signatures"};

static int sig_unknown_in_signature(const struct sig_load *ld, const config_setting_t *s,
                                    const char *name)
{
    const char *names[SIG_NKEYS], *best;
    size_t i;

    for (i = 0; i < SIG_NKEYS; i++)
        names[i] = sig_keys[i].name;
    best = sig_suggest(name, names, SIG_NKEYS);
    if (best != NULL)
        return sig_err(ld, s, "unknown key \"%s\" (did you mean \"%s\"?)", name, best);
    if (sig_suggest(name, sig_top_keys, 2) != NULL)
        return sig_err(ld, s,
                       "unknown key \"%s\" (vendor and signatures are set once per file, "
                       "at the top)",
                       name);
    return sig_err(ld, s, "unknown key \"%s\"", name);
}

static int sig_unknown_at_top(const struct sig_load *ld, const config_setting_t *s,
                              const char *name)
{
    const char *best = sig_suggest(name, sig_top_keys, 2);
    size_t i;

    if (best != NULL)
        return sig_err(ld, s, "unknown key \"%s\" (did you mean \"%s\"?)", name, best);
    for (i = 0; i < SIG_NKEYS; i++)
        if (cf_distance(name, strlen(name), sig_keys[i].name, strlen(sig_keys[i].name)) == 0)
            return sig_err(ld, s,
                           "unknown key \"%s\" (it belongs in a signature, inside "
                           "signatures = ( { ... } ))",
                           name);
    return sig_err(ld, s, "unknown key \"%s\"", name);
}

/* ---------------------------------------------------------------- loading */

/* Append an empty signature for file f; its index in *si. */
static int sig_new_signature(struct sig_pack *p, const struct sig_file *f, int line, uint32_t *si)
{
    struct signature *sig;

    if (p->n_sigs >= UINT32_MAX ||
        sig_grow(&p->sigs, &p->cap_sigs, p->n_sigs, sizeof(p->sigs[0])) < 0 ||
        sig_grow(&p->data, &p->cap_data, p->n_sigs, sizeof(p->data[0])) < 0)
        return -1;
    *si = (uint32_t)p->n_sigs;
    sig = &p->sigs[p->n_sigs];
    memset(sig, 0, sizeof(*sig));
    memset(&p->data[p->n_sigs], 0, sizeof(p->data[0]));
    p->n_sigs++;
    sig->index = *si;
    sig->vendor = f->vendor;
    sig->file = f->path;
    sig->line = line;
    sig->note = "";
    sig->relation = SIG_REL_MAX; /* unset: the role's default, at the end */
    return 0;
}

/* One element of the signatures list. */
static int sig_load_signature(struct sig_load *ld, const config_setting_t *list, int idx,
                              const struct sig_file *f)
{
    const config_setting_t *g = config_setting_get_elem(list, (unsigned)idx);
    struct sig_pack *p = ld->p;
    unsigned char seen[SIG_NKEYS] = {0};
    const struct sig_data *d;
    char where[SIG_ID_MAX + 32];
    uint32_t si;
    int i, n, any = 0, r;
    size_t k;

    if (!config_setting_is_group(g))
        return sig_err(ld, list, "signatures[%d]: expected a group { ... }, found %s", idx,
                       cf_type_name(g));
    if (sig_new_signature(p, f, config_setting_source_line(g), &si) < 0)
        return sig_err(ld, g, "out of memory");
    n = config_setting_length(g);
    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);

        if (name == NULL)
            name = "";
        for (k = 0; k < SIG_NKEYS; k++)
            if (strcmp(sig_keys[k].name, name) == 0)
                break;
        if (k == SIG_NKEYS)
            return sig_unknown_in_signature(ld, s, name);
        seen[k] = 1;
        if (sig_keys[k].apply(ld, s, &sig_keys[k], si) < 0)
            return -1;
    }

    d = &p->data[si];
    if (d->id != NULL)
        snprintf(where, sizeof(where), "signature \"%s\"", d->id);
    else
        snprintf(where, sizeof(where), "signatures[%d]", idx);
    for (k = 0; k < SIG_NKEYS; k++)
        if (sig_keys[k].required && !seen[k])
            return sig_err(ld, g, "%s: missing required key \"%s\"", where, sig_keys[k].name);
    for (k = 0; k < IND_MAX; k++)
        if (k != IND_PORTS && d->ind[k].n > 0)
            any = 1;
    if (!any)
        return sig_err(ld, g, "%s: %s; add one of %s", where,
                       d->ind[IND_PORTS].n > 0 ? "ports alone do not identify a flow"
                                               : "no identifying indicator",
                       "domains, http_host, http_path, http_user_agent, cert_subject, "
                       "cert_issuer, ja3, ja4, ja3s, app, dissector, cidrs, asns");
    struct signature *sig = &p->sigs[si];
    if (sig->relation == SIG_REL_MAX) /* the host runs what phones home; a server is the device */
        sig->relation = sig->role == SIG_ROLE_CLIENT ? SIG_REL_RUNS : SIG_REL_IS;
    if (sig->app_guessed && d->ind[IND_APP].n == 0)
        return sig_err(ld, g, "%s: app_guessed without app", where);
    if (sig->device == SIG_DEV_DISSECTOR && d->ind[IND_DISSECTOR].n == 0)
        return sig_err(ld, g, "%s: device = \"dissector\" without dissector", where);
    if ((sig->device == SIG_DEV_FORTINET_SERIAL || sig->device == SIG_DEV_CERT_HOSTNAME) &&
        d->ind[IND_CERT_SUBJECT].n == 0 && d->ind[IND_CERT_ISSUER].n == 0)
        return sig_err(ld, g,
                       "%s: device = \"%s\" reads the certificate: add cert_subject or "
                       "cert_issuer",
                       where, sig_dev_names[sig->device]);

    for (r = R_META_FIRST; r < R_META_FIRST + R_META_N; r++)
        if (d->ind[sig_src[r].ind].n > 0 && sig_idx_push(&p->meta[r - R_META_FIRST], si) < 0)
            return sig_err(ld, g, "out of memory");
    return 0;
}

/* Whether the integer literal in [p, end) is outside what an AS number
 * list can hold (0..4294967295 as written; 0 itself is refused later with
 * its key). A float or an L-suffixed 64-bit literal is left alone: libconfig
 * reads those faithfully. */
static int sig_int_bad(const char *p, const char *end)
{
    unsigned long long v;
    int neg;

    if (!cf_int_literal(p, end, &v, &neg))
        return 0;
    return neg || v > 0xffffffffull;
}

/* Step 2: integer literals outside comments and strings that libconfig 1.5
 * would have wrapped, or that are negative. Runs only on text libconfig has
 * parsed without error (the scan of config.c, with another range). */
static int sig_scan_ints(const struct sig_load *ld, const char *text)
{
    unsigned line;
    const char *start;
    size_t len;

    if (!cf_find_int(text, sig_int_bad, &line, &start, &len))
        return 0;
    return cf_msg(ld->errbuf, ld->errlen, ld->file, line, "integer %.*s is out of range 1..%lld",
                  (int)(len > 40 ? 40 : len), start, SIG_ASN_MAX);
}

/* The whole file into a NUL-terminated heap buffer (caller frees). */

/* Step 3 for one parsed file: vendor, then each signature. */
static int sig_walk_file(struct sig_load *ld, const config_setting_t *root)
{
    struct sig_pack *p = ld->p;
    const config_setting_t *vendor = NULL, *list = NULL;
    struct sig_file *f;
    const char *v;
    int i, n = config_setting_length(root);

    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);

        if (name == NULL)
            name = "";
        if (strcmp(name, "vendor") == 0)
            vendor = s;
        else if (strcmp(name, "signatures") == 0)
            list = s;
        else
            return sig_unknown_at_top(ld, s, name);
    }
    if (vendor == NULL)
        return cf_msg(ld->errbuf, ld->errlen, ld->file, 0, "missing required key \"vendor\"");
    if (sig_get_string(ld, vendor, "vendor", &v) < 0)
        return -1;
    if (v[0] == '\0')
        return sig_err(ld, vendor, "vendor: must not be empty");
    if (strlen(v) > SIG_VENDOR_MAX || sig_has_control(v))
        return sig_err(ld, vendor, "vendor: %s",
                       sig_has_control(v) ? "contains a control character"
                                          : "more than " SIG_STR(SIG_VENDOR_MAX) " bytes");
    if (list == NULL)
        return cf_msg(ld->errbuf, ld->errlen, ld->file, 0, "missing required key \"signatures\"");
    if (!config_setting_is_list(list))
        return sig_err(ld, list, "signatures: expected a list ( { ... }, ... ), found %s",
                       cf_type_name(list));
    n = config_setting_length(list);
    if (n == 0)
        return sig_err(ld, list, "signatures: empty list");

    if (sig_grow(&p->files, &p->cap_files, p->n_files, sizeof(p->files[0])) < 0)
        return cf_msg(ld->errbuf, ld->errlen, ld->file, 0, "out of memory");
    f = &p->files[p->n_files];
    f->path = sig_copy(ld->file, 0, 0);
    f->vendor = sig_copy(v, 0, 0);
    if (f->path == NULL || f->vendor == NULL) {
        free(f->path);
        free(f->vendor);
        return cf_msg(ld->errbuf, ld->errlen, ld->file, 0, "out of memory");
    }
    p->n_files++;

    for (i = 0; i < n; i++)
        if (sig_load_signature(ld, list, i, f) < 0)
            return -1;
    return 0;
}

static int sig_load_file(struct sig_pack *p, const char *path, char *errbuf, size_t errlen)
{
    struct sig_load ld = {p, path, errbuf, errlen};
    config_t lc;
    char *text = NULL;
    int ret = -1;

    if (cf_parse_file(path, &lc, &text, errbuf, errlen) < 0)
        return -1;
    if (sig_scan_ints(&ld, text) < 0)
        goto out;
    if (sig_walk_file(&ld, config_root_setting(&lc)) < 0)
        goto out;
    ret = 0;

out:
    config_destroy(&lc);
    free(text);
    return ret;
}

/* ---------------------------------------------------------------- compiling */

static int sig_raw_cmp(const void *a, const void *b)
{
    const struct sig_cidr_raw *x = a, *y = b;
    int c;

    if (x->af != y->af)
        return x->af < y->af ? -1 : 1;
    c = memcmp(x->key, y->key, sizeof(x->key));
    if (c != 0)
        return c;
    if (x->plen != y->plen)
        return x->plen < y->plen ? -1 : 1;
    return x->sig < y->sig ? -1 : x->sig > y->sig;
}

static int sig_raw_same(const struct sig_cidr_raw *x, const struct sig_cidr_raw *y)
{
    return x->af == y->af && x->plen == y->plen && memcmp(x->key, y->key, sizeof(x->key)) == 0;
}

/* Whether prefix outer contains prefix inner. */
static int sig_raw_contains(const struct sig_cidr_raw *outer, const struct sig_cidr_raw *inner)
{
    unsigned full = outer->plen / 8u, rest = outer->plen % 8u;

    if (outer->af != inner->af || outer->plen > inner->plen)
        return 0;
    if (memcmp(outer->key, inner->key, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((outer->key[full] ^ inner->key[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Give every prefix its list: its own signatures, then those of the nearest
 * containing prefix that it does not already have (that list holds the
 * prefixes around it in turn). Sorted by address then length, a prefix
 * comes after every prefix containing it, and those still open form a
 * stack. */
static int sig_build_cidrs(struct sig_pack *p)
{
    size_t *first = NULL, *stack = NULL, n_groups = 0, depth = 0, i, g;
    int ret = -1;

    if (p->n_raw == 0)
        return 0;
    qsort(p->raw, p->n_raw, sizeof(p->raw[0]), sig_raw_cmp);
    for (i = 0; i < p->n_raw; i++)
        if (i == 0 || !sig_raw_same(&p->raw[i - 1], &p->raw[i]))
            n_groups++;
    first = calloc(n_groups + 1, sizeof(*first));
    stack = calloc(n_groups, sizeof(*stack));
    p->cidr_lists = calloc(n_groups, sizeof(p->cidr_lists[0]));
    if (first == NULL || stack == NULL || p->cidr_lists == NULL)
        goto out;
    p->n_cidr_lists = n_groups;
    for (i = 0, g = 0; i < p->n_raw; i++)
        if (i == 0 || !sig_raw_same(&p->raw[i - 1], &p->raw[i]))
            first[g++] = i;
    first[n_groups] = p->n_raw;

    for (g = 0; g < n_groups; g++) {
        const struct sig_cidr_raw *r = &p->raw[first[g]];
        struct sig_cidr_list *l = &p->cidr_lists[g];
        const struct sig_cidr_list *parent;
        size_t own = first[g + 1] - first[g], j, k;

        while (depth > 0 && !sig_raw_contains(&p->raw[first[stack[depth - 1]]], r))
            depth--;
        parent = depth > 0 ? &p->cidr_lists[stack[depth - 1]] : NULL;
        l->e = calloc(own + (parent != NULL ? parent->n : 0), sizeof(l->e[0]));
        if (l->e == NULL)
            goto out;
        for (j = 0; j < own; j++) {
            l->e[l->n].sig = p->raw[first[g] + j].sig;
            l->e[l->n].prefix = p->raw[first[g] + j].text;
            l->n++;
        }
        for (j = 0; parent != NULL && j < parent->n; j++) {
            for (k = 0; k < own; k++)
                if (l->e[k].sig == parent->e[j].sig)
                    break;
            if (k == own)
                l->e[l->n++] = parent->e[j];
        }
        if (netset_add_bin(p->cidrs, r->af, r->key, r->plen, l) < 0)
            goto out;
        stack[depth++] = g;
    }
    ret = 0;

out:
    free(first);
    free(stack);
    free(p->raw);
    p->raw = NULL;
    p->n_raw = p->cap_raw = 0;
    return ret;
}

static int sig_asn_cmp(const void *a, const void *b)
{
    const struct sig_asn *x = a, *y = b;

    if (x->asn != y->asn)
        return x->asn < y->asn ? -1 : 1;
    return x->sig < y->sig ? -1 : x->sig > y->sig;
}

static int sig_conf_filter(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

/* ---------------------------------------------------------------- public: pack */

/* Load every *.conf of dir, in alphasort order, as one pack. Returns the
 * pack (free with sig_pack_free()), or NULL with "FILE:LINE: message",
 * "FILE: message" or "DIR: message" in errbuf; nothing is left allocated
 * then. dir and errbuf stay the caller's. */
struct sig_pack *sig_pack_load(const char *dir, char *errbuf, size_t errlen)
{
    struct dirent **names = NULL;
    struct sig_pack *p = NULL;
    char path[4096];
    int n = -1, i;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (dir == NULL || dir[0] == '\0') {
        cf_msg(errbuf, errlen, "(none)", 0, "no signature folder given");
        return NULL;
    }
    n = scandir(dir, &names, sig_conf_filter, alphasort);
    if (n < 0) {
        cf_msg(errbuf, errlen, dir, 0, "cannot read the signature folder: %s", strerror(errno));
        return NULL;
    }
    if (n == 0) {
        cf_msg(errbuf, errlen, dir, 0, "no *.conf file in the signature folder");
        goto fail;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto nomem;
    p->dm[0] = dm_new();
    p->dm[1] = dm_new();
    p->cidrs = netset_new();
    if (p->dm[0] == NULL || p->dm[1] == NULL || p->cidrs == NULL)
        goto nomem;

    for (i = 0; i < n; i++) {
        size_t dl = strlen(dir);
        int w = snprintf(path, sizeof(path), "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/",
                         names[i]->d_name);

        if (w < 0 || (size_t)w >= sizeof(path)) {
            cf_msg(errbuf, errlen, dir, 0, "path of %s too long", names[i]->d_name);
            goto fail;
        }
        if (sig_load_file(p, path, errbuf, errlen) < 0)
            goto fail;
    }
    if (sig_build_cidrs(p) < 0)
        goto nomem;
    if (p->n_asns > 0)
        qsort(p->asns, p->n_asns, sizeof(p->asns[0]), sig_asn_cmp);

    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return p;

nomem:
    cf_msg(errbuf, errlen, dir, 0, "out of memory");
fail:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    sig_pack_free(p);
    return NULL;
}

/* Free p and everything it owns. NULL is a no-op. Cannot fail. */
void sig_pack_free(struct sig_pack *p)
{
    size_t i, j;

    if (p == NULL)
        return;
    for (i = 0; i < p->n_sigs; i++) {
        struct sig_data *d = &p->data[i];

        free(d->id);
        free(d->product);
        free(d->source);
        free(d->note);
        for (j = 0; j < IND_MAX; j++) {
            size_t k;

            for (k = 0; k < d->ind[j].n; k++) {
                free(d->ind[j].v[k].text);
                free(d->ind[j].v[k].fold);
                free(d->ind[j].v[k].attrs);
            }
            free(d->ind[j].v);
        }
        free(d->ports);
    }
    free(p->sigs);
    free(p->data);
    for (i = 0; i < p->n_files; i++) {
        free(p->files[i].path);
        free(p->files[i].vendor);
    }
    free(p->files);
    dm_free(p->dm[0]);
    dm_free(p->dm[1]);
    for (i = 0; i < p->n_dm_vals; i++) {
        free(p->dm_vals[i]->v);
        free(p->dm_vals[i]);
    }
    free(p->dm_vals);
    netset_free(p->cidrs);
    for (i = 0; i < p->n_cidr_lists; i++)
        free(p->cidr_lists[i].e);
    free(p->cidr_lists);
    free(p->raw);
    free(p->asns);
    for (i = 0; i < R_META_N; i++)
        free(p->meta[i].v);
    free(p);
}

/* Number of signatures; 0 for NULL. */
size_t sig_pack_count(const struct sig_pack *p)
{
    return p != NULL ? p->n_sigs : 0;
}

/* Signature i (pack-owned, valid until sig_pack_free()), or NULL when i is
 * out of range. */
const struct signature *sig_pack_get(const struct sig_pack *p, size_t i)
{
    return p != NULL && i < p->n_sigs ? &p->sigs[i] : NULL;
}

/* The signature with this id, or NULL (also for a NULL pack). A linear
 * scan: it serves a reload, never a packet. */
const struct signature *sig_pack_find(const struct sig_pack *p, const char *id)
{
    for (size_t i = 0; p != NULL && i < p->n_sigs; i++)
        if (strcmp(p->sigs[i].id, id) == 0)
            return &p->sigs[i];
    return NULL;
}

/* Number of files loaded; 0 for NULL. */
size_t sig_pack_files(const struct sig_pack *p)
{
    return p != NULL ? p->n_files : 0;
}

/* Whether signature s belongs to vendor (NULL: every vendor), its name
 * compared without regard to case. */
static bool sig_of_vendor(const struct signature *s, const char *vendor)
{
    return vendor == NULL || strcasecmp(s->vendor, vendor) == 0;
}

/* Whether signature i is the first of its vendor in the pack. */
static bool sig_first_of_vendor(const struct sig_pack *p, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->sigs[j].vendor, p->sigs[i].vendor) == 0)
            return false;
    return true;
}

void sig_pack_vendors(const struct sig_pack *p, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; p != NULL && i < p->n_sigs && used < len; i++) {
        if (!sig_first_of_vendor(p, i))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", p->sigs[i].vendor);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* The text form: one block per signature with its indicators, under a line
 * per vendor. */
static void sig_print_text(FILE *fp, const struct sig_pack *p, const char *vendor)
{
    size_t i, j, k, n;

    for (i = 0; i < p->n_sigs; i++) {
        const char *name = p->sigs[i].vendor;

        if (!sig_first_of_vendor(p, i) || !sig_of_vendor(&p->sigs[i], vendor))
            continue; /* printed with its vendor, or not asked for */
        for (n = 0, j = i; j < p->n_sigs; j++)
            n += strcmp(p->sigs[j].vendor, name) == 0;
        fprintf(fp, "%s (%zu signature%s)\n", name, n, n == 1 ? "" : "s");
        for (j = i; j < p->n_sigs; j++) {
            const struct signature *s = &p->sigs[j];
            const struct sig_data *d = &p->data[j];

            if (strcmp(s->vendor, name) != 0)
                continue;
            fprintf(fp, "  %s  (%s:%d)\n", s->id, s->file, s->line);
            fprintf(fp, "    %-16s %s\n", "product", s->product);
            fprintf(fp, "    %-16s %s\n", "category", sig_category_name(s->category));
            fprintf(fp, "    %-16s %s\n", "severity", sig_severity_name(s->severity));
            fprintf(fp, "    %-16s %s (the host %s it)\n", "role", sig_role_name(s->role),
                    sig_relation_name(s->relation));
            if (s->device != SIG_DEV_NONE)
                fprintf(fp, "    %-16s %s\n", "device", sig_dev_names[s->device]);
            if (s->app_guessed)
                fprintf(fp, "    %-16s %s\n", "app_guessed", "true");
            fprintf(fp, "    %-16s %s\n", "source", s->source);
            if (s->note[0] != '\0')
                fprintf(fp, "    %-16s %s\n", "note", s->note);
            for (k = 0; k < IND_MAX; k++) {
                size_t e;

                if (d->ind[k].n == 0)
                    continue;
                fprintf(fp, "    %-16s", sig_ind_key[k]);
                for (e = 0; e < d->ind[k].n; e++)
                    fprintf(fp, "%s%s", e == 0 ? " " : ", ", d->ind[k].v[e].text);
                fputc('\n', fp);
            }
        }
        fputc('\n', fp);
    }
}

/* One signature as the JSON form writes it (signatures.schema.json). */
static json_t *sig_json(const struct signature *s, const struct sig_data *d)
{
    json_t *o = json_object(), *ind = json_object();

    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "vendor", json_string(s->vendor));
    json_object_set_new(o, "product", json_string(s->product));
    json_object_set_new(o, "category", json_string(sig_category_name(s->category)));
    json_object_set_new(o, "severity", json_string(sig_severity_name(s->severity)));
    json_object_set_new(o, "role", json_string(sig_role_name(s->role)));
    json_object_set_new(o, "relation", json_string(sig_relation_name(s->relation)));
    if (s->device != SIG_DEV_NONE)
        json_object_set_new(o, "device", json_string(sig_dev_names[s->device]));
    json_object_set_new(o, "app_guessed", json_boolean(s->app_guessed));
    json_object_set_new(o, "source", json_string(s->source));
    if (s->note[0] != '\0')
        json_object_set_new(o, "note", json_string(s->note));
    json_object_set_new(o, "file", json_string(s->file));
    json_object_set_new(o, "line", json_integer(s->line));
    for (size_t k = 0; k < IND_MAX; k++) {
        if (d->ind[k].n == 0)
            continue;
        json_t *v = json_array();
        for (size_t e = 0; e < d->ind[k].n; e++)
            json_array_append_new(v, json_string(d->ind[k].v[e].text));
        json_object_set_new(ind, sig_ind_key[k], v);
    }
    json_object_set_new(o, "indicators", ind);
    return o;
}

/* The JSON form: one document, the vendors listed and every signature
 * with its indicators, in pack order. */
static int sig_print_json(FILE *fp, const struct sig_pack *p, const char *vendor)
{
    json_t *doc = json_object(), *vendors = json_array(), *sigs = json_array();

    json_object_set_new(doc, "schema_version", json_integer(OUT_SCHEMA_SIGNATURES));
    for (size_t i = 0; p != NULL && i < p->n_sigs; i++) {
        if (!sig_of_vendor(&p->sigs[i], vendor))
            continue;
        if (sig_first_of_vendor(p, i))
            json_array_append_new(vendors, json_string(p->sigs[i].vendor));
        json_array_append_new(sigs, sig_json(&p->sigs[i], &p->data[i]));
    }
    json_object_set_new(doc, "vendors", vendors);
    json_object_set_new(doc, "signatures", sigs);
    int rc =
        json_dumpf(doc, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', fp) != EOF
            ? 0
            : -EIO;
    json_decref(doc);
    return rc;
}

int sig_pack_print(FILE *fp, const struct sig_pack *p, const char *vendor, int format)
{
    bool known = vendor == NULL;

    if (fp == NULL)
        return 0;
    for (size_t i = 0; !known && p != NULL && i < p->n_sigs; i++)
        known = sig_of_vendor(&p->sigs[i], vendor);
    if (!known)
        return -ENOENT;
    if (format == SIG_PRINT_JSON)
        return sig_print_json(fp, p, vendor);
    if (p != NULL)
        sig_print_text(fp, p, vendor);
    return 0;
}
