/* signature.c -- the signature pack: loading, validation, compiled matching.
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
 *
 * Matching (sig_match) enumerates candidate signatures from those sources in
 * a fixed order (the "ranks" below) and evaluates each candidate completely.
 * A signature reached through several sources is counted at the first of
 * them only: its evaluation says which source comes first, so no per-call
 * memory is needed to remember what was seen. All state lives on the stack
 * and in the caller's hits[], the pack is only read: sig_match is
 * thread-safe on a shared pack. */
#include "signature.h"
#include "conf-file.h"
#include "match-domain.h"
#include "netset.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Largest pack file we read; anything bigger is surely a mistake. */
#define SIG_FILE_MAX (16u << 20)

/* Longest signature id and dissector name. */
#define SIG_ID_MAX 64

#define SIG_ASN_MAX 4294967295LL

/* ---------------------------------------------------------------- tables */

/* The indicator lists of a signature, in the order of sig_ind_key[]. */
enum sig_ind {
    IND_DOMAINS = 0,
    IND_HTTP_HOST,
    IND_HTTP_PATH,
    IND_HTTP_UA,
    IND_CERT_SUBJECT,
    IND_CERT_ISSUER,
    IND_JA3,
    IND_DISSECTOR,
    IND_CIDRS,
    IND_ASNS,
    IND_PORTS,
    IND_MAX
};

static const char *const sig_ind_key[IND_MAX] = {
    "domains",   "http_host", "http_path", "http_user_agent", "cert_subject", "cert_issuer", "ja3",
    "dissector", "cidrs",     "asns",      "ports",
};

/* The sources candidates come from, in the order sig_match() visits them:
 * strongest evidence first. Also the order of a hit's evidence. */
enum sig_rank {
    R_TLS_SNI = 0,
    R_QUIC_SNI,
    R_HOST_DOMAINS,   /* HTTP Host against `domains` */
    R_HOST_HTTP_HOST, /* HTTP Host against `http_host` */
    R_DNS_NAME,
    R_HTTP_PATH, /* first metadata rank */
    R_HTTP_UA,
    R_CERT_SUBJECT,
    R_CERT_ISSUER,
    R_DISSECTOR,
    R_JA3, /* last metadata rank */
    R_CIDR,
    R_ASN,
    R_MAX
};

#define R_META_FIRST R_HTTP_PATH
#define R_META_N (R_JA3 - R_HTTP_PATH + 1)

/* For each rank, the evidence kind it produces and the indicator list it
 * checks. */
static const struct {
    uint8_t ev;
    uint8_t ind;
} sig_src[R_MAX] = {
    [R_TLS_SNI] = {SIG_EV_TLS_SNI, IND_DOMAINS},
    [R_QUIC_SNI] = {SIG_EV_QUIC_SNI, IND_DOMAINS},
    [R_HOST_DOMAINS] = {SIG_EV_HTTP_HOST, IND_DOMAINS},
    [R_HOST_HTTP_HOST] = {SIG_EV_HTTP_HOST, IND_HTTP_HOST},
    [R_DNS_NAME] = {SIG_EV_DNS_NAME, IND_DOMAINS},
    [R_HTTP_PATH] = {SIG_EV_HTTP_PATH, IND_HTTP_PATH},
    [R_HTTP_UA] = {SIG_EV_HTTP_UA, IND_HTTP_UA},
    [R_CERT_SUBJECT] = {SIG_EV_CERT_SUBJECT, IND_CERT_SUBJECT},
    [R_CERT_ISSUER] = {SIG_EV_CERT_ISSUER, IND_CERT_ISSUER},
    [R_DISSECTOR] = {SIG_EV_DISSECTOR, IND_DISSECTOR},
    [R_JA3] = {SIG_EV_JA3, IND_JA3},
    [R_CIDR] = {SIG_EV_CIDR, IND_CIDRS},
    [R_ASN] = {SIG_EV_ASN, IND_ASNS},
};

static const char *const sig_cat_names[SIG_CAT_MAX] = {
    "update", "telemetry", "threat-lookup", "licensing", "management", "remote-access",
};

static const char *const sig_sev_names[SIG_SEV_MAX] = {"low", "medium", "high", "critical"};

/* A signature's base severity goes up to "high"; "critical" is reached only
 * by raising an alert (README, "Severity"). */
#define SIG_SEV_BASE_MAX SIG_SEV_HIGH

static const char *const sig_conf_names[] = {"low", "medium", "high"};

static const char *const sig_ev_names[SIG_EV_MAX] = {
    "tls_sni",      "quic_sni",    "http_host", "dns_name",  "http_path", "http_user_agent",
    "cert_subject", "cert_issuer", "ja3",       "dissector", "cidr",      "asn",
    "port",
};

/* ---------------------------------------------------------------- the pack */

/* One pattern of an indicator list: as written (normalised for names), and
 * for the case-insensitive substring keys a lower-case copy to match with. */
struct sig_pat {
    char *text;
    char *fold; /* NULL for the other keys */
};

struct sig_strlist {
    struct sig_pat *v;
    size_t n, cap;
};

struct sig_port {
    uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t port;
};

/* What a signature owns beyond struct signature. */
struct sig_data {
    char *id, *product, *source, *note;
    struct sig_strlist ind[IND_MAX]; /* every indicator, in file order */
    struct sig_port *ports;          /* parsed ind[IND_PORTS], same order */
    size_t cap_ports;
};

/* A sorted list of signature indexes. */
struct sig_idx {
    uint32_t *v;
    size_t n, cap;
};

struct sig_cidr_ent {
    uint32_t sig;
    const char *prefix; /* the signature's own prefix text */
};

/* The value of a prefix in the netset. */
struct sig_cidr_list {
    struct sig_cidr_ent *e;
    size_t n;
};

/* A prefix as loaded, until the netset values are built. */
struct sig_cidr_raw {
    uint8_t key[16];
    uint8_t af, plen;
    uint32_t sig;
    const char *text;
};

struct sig_asn {
    uint32_t asn;
    uint32_t sig;
    const char *text; /* "AS40934", owned by the signature */
};

struct sig_file {
    char *path;
    char *vendor;
};

struct sig_pack {
    struct signature *sigs;
    struct sig_data *data; /* parallel to sigs */
    size_t n_sigs, cap_sigs, cap_data;

    struct sig_file *files;
    size_t n_files, cap_files;

    struct domain_matcher *dm[2]; /* [0] domains, [1] http_host */
    struct sig_idx **dm_vals;     /* every value of dm[], owned here */
    size_t n_dm_vals, cap_dm_vals;

    struct netset *cidrs;
    struct sig_cidr_list *cidr_lists;
    size_t n_cidr_lists;
    struct sig_cidr_raw *raw; /* load time only */
    size_t n_raw, cap_raw;

    struct sig_asn *asns;
    size_t n_asns, cap_asns;

    struct sig_idx meta[R_META_N];
};

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

/* Whether the sorted list holds si. */
static int sig_idx_has(const struct sig_idx *l, uint32_t si)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->v[mid] == si)
            return 1;
        if (l->v[mid] < si)
            lo = mid + 1;
        else
            hi = mid;
    }
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

static char sig_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
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
    l->v[l->n].text = text;
    l->v[l->n].fold = fold;
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
    size_t i;

    if (v[0] == '\0')
        return sig_err(ld, s, "%s[%d]: empty string", key, idx);
    if (sig_has_control(v))
        return sig_err(ld, s, "%s[%d]: contains a control character", key, idx);

    switch (k->arg) {
    case IND_DOMAINS:
    case IND_HTTP_HOST:
        c = sig_copy(v, 1, 1);
        break;
    case IND_HTTP_UA:
    case IND_CERT_SUBJECT:
    case IND_CERT_ISSUER:
        c = sig_copy(v, 0, 0);
        fold = sig_copy(v, 1, 0);
        if (fold == NULL) {
            free(c);
            c = NULL;
        }
        break;
    case IND_JA3:
        if (!sig_valid_ja3(v))
            return sig_err(ld, s, "ja3[%d]: \"%.80s\" is not 32 lower-case hex digits", idx, v);
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
                return -1;
            }
        }
    }
    if (sig_list_push(d, k->arg, c, fold) < 0)
        return sig_err(ld, s, "out of memory");

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
                       "cert_issuer, ja3, dissector, cidrs, asns");

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

/* Print the pack to fp: vendors in the order they first appear, each with
 * its signatures and their indicators. Output errors are the caller's to
 * check with ferror(fp). */
void sig_pack_print(FILE *fp, const struct sig_pack *p)
{
    size_t i, j, k, n;

    if (fp == NULL || p == NULL)
        return;
    for (i = 0; i < p->n_sigs; i++) {
        const char *vendor = p->sigs[i].vendor;

        for (j = 0; j < i; j++)
            if (strcmp(p->sigs[j].vendor, vendor) == 0)
                break;
        if (j < i)
            continue; /* printed with its vendor */
        for (n = 0, j = i; j < p->n_sigs; j++)
            n += strcmp(p->sigs[j].vendor, vendor) == 0;
        fprintf(fp, "%s (%zu signature%s)\n", vendor, n, n == 1 ? "" : "s");
        for (j = i; j < p->n_sigs; j++) {
            const struct signature *s = &p->sigs[j];
            const struct sig_data *d = &p->data[j];

            if (strcmp(s->vendor, vendor) != 0)
                continue;
            fprintf(fp, "  %s  (%s:%d)\n", s->id, s->file, s->line);
            fprintf(fp, "    %-16s %s\n", "product", s->product);
            fprintf(fp, "    %-16s %s\n", "category", sig_category_name(s->category));
            fprintf(fp, "    %-16s %s\n", "severity", sig_severity_name(s->severity));
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

/* ---------------------------------------------------------------- matching */

/* State of one sig_match() call. */
struct sig_ctx {
    const struct sig_pack *p;
    const struct sig_flow *in;
    const char *text[R_MAX];          /* the flow's value per rank, "" if none */
    const struct sig_cidr_list *cidr; /* signatures around the address */
    const struct sig_asn *asn;        /* pairs of the flow's AS */
    size_t n_asn;
    struct sig_hit *hits;
    size_t max, n_hits, total;
};

/* dm_match() callback: the first (most specific) pattern listing sig. */
struct sig_find {
    uint32_t sig;
    const char *pattern;
};

static void sig_find_cb(void *value, const char *pattern, void *ud)
{
    struct sig_find *f = ud;

    if (f->pattern == NULL && sig_idx_has(value, f->sig))
        f->pattern = pattern;
}

/* Case-insensitive substring; needle is lower case already. */
static int sig_contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);

    for (; *hay != '\0'; hay++) {
        size_t i;

        for (i = 0; i < nl && hay[i] != '\0' && sig_lower(hay[i]) == needle[i]; i++)
            ;
        if (i == nl)
            return 1;
        if (hay[i] == '\0')
            return 0; /* fewer bytes left than the needle has */
    }
    return nl == 0;
}

/* Whether the flow's text for metadata rank r (not the dissector) matches
 * pattern pat: a prefix for the path, the whole hash for JA3, else a
 * case-insensitive substring. */
static int sig_meta_match(int r, const char *text, const struct sig_pat *pat)
{
    if (r == R_HTTP_PATH)
        return strncmp(text, pat->text, strlen(pat->text)) == 0;
    if (r == R_JA3)
        return strcmp(text, pat->text) == 0;
    return sig_contains_ci(text, pat->fold);
}

/* Append evidence to h when there is room. */
static struct sig_evidence *sig_ev_add(struct sig_hit *h, int kind, const char *value,
                                       const char *pattern)
{
    struct sig_evidence *ev;

    if (h->n_ev >= SIG_MAX_EVIDENCE)
        return NULL;
    ev = &h->ev[h->n_ev++];
    ev->kind = (uint8_t)kind;
    ev->value = value;
    ev->pattern = pattern;
    ev->text[0] = '\0';
    return ev;
}

/* Evaluate signature si against the flow: fill h and pats[] (the pattern
 * behind each rank that matched, NULL for the others) and return the first
 * rank that matched, or -1 when si is no hit (nothing identifying matched,
 * or it lists ports and the flow's is not among them). */
static int sig_eval(const struct sig_ctx *c, uint32_t si, struct sig_hit *h,
                    const char *pats[R_MAX])
{
    const struct sig_pack *p = c->p;
    const struct sig_data *d = &p->data[si];
    const struct sig_flow *in = c->in;
    const char *port_pat = NULL;
    struct sig_evidence *ev;
    int r, first = -1, high = 0;
    size_t i, j;

    for (r = 0; r < R_MAX; r++)
        pats[r] = NULL;
    h->sig = &p->sigs[si];
    h->n_ev = 0;

    /* The port rule first: it is cheap and may rule the signature out. */
    if (d->ind[IND_PORTS].n > 0) {
        for (i = 0; i < d->ind[IND_PORTS].n; i++)
            if (d->ports[i].proto == in->proto && d->ports[i].port == in->dport)
                break;
        if (i == d->ind[IND_PORTS].n)
            return -1;
        port_pat = d->ind[IND_PORTS].v[i].text;
    }

    /* Names: the signature's most specific pattern for each. */
    for (r = R_TLS_SNI; r <= R_DNS_NAME; r++) {
        struct sig_find f = {si, NULL};
        int which = sig_src[r].ind == IND_DOMAINS ? 0 : 1;

        if (d->ind[sig_src[r].ind].n == 0 || c->text[r][0] == '\0')
            continue;
        if (r == R_HOST_HTTP_HOST && pats[R_HOST_DOMAINS] != NULL)
            continue; /* the Host matched through domains already */
        dm_match(p->dm[which], c->text[r], sig_find_cb, &f);
        if (f.pattern != NULL) {
            pats[r] = f.pattern;
            sig_ev_add(h, sig_src[r].ev, c->text[r], f.pattern);
        }
    }

    /* Metadata: the first pattern of the list that matches. */
    for (r = R_META_FIRST; r < R_META_FIRST + R_META_N; r++) {
        const struct sig_strlist *l = &d->ind[sig_src[r].ind];
        const char *value = NULL;

        if (l->n == 0 || c->text[r][0] == '\0')
            continue;
        for (i = 0; i < l->n; i++) {
            if (r == R_DISSECTOR) {
                for (j = 0; j < in->n_verdicts && value == NULL; j++)
                    if (in->verdicts[j] != NULL && strcmp(in->verdicts[j], l->v[i].text) == 0)
                        value = in->verdicts[j];
            } else if (sig_meta_match(r, c->text[r], &l->v[i])) {
                value = c->text[r];
            }
            if (value != NULL)
                break;
        }
        if (value != NULL) {
            pats[r] = l->v[i].text;
            sig_ev_add(h, sig_src[r].ev, value, l->v[i].text);
        }
    }

    if (c->cidr != NULL) {
        for (i = 0; i < c->cidr->n; i++) {
            if (c->cidr->e[i].sig != si)
                continue;
            pats[R_CIDR] = c->cidr->e[i].prefix;
            ev = sig_ev_add(h, SIG_EV_CIDR, NULL, pats[R_CIDR]);
            if (ev != NULL) {
                inet_ntop(in->ipver == 4 ? AF_INET : AF_INET6, in->daddr, ev->text,
                          sizeof(ev->text));
                ev->value = ev->text;
            }
            break;
        }
    }
    for (i = 0; i < c->n_asn; i++) {
        if (c->asn[i].sig != si)
            continue;
        pats[R_ASN] = c->asn[i].text;
        ev = sig_ev_add(h, SIG_EV_ASN, NULL, pats[R_ASN]);
        if (ev != NULL) {
            snprintf(ev->text, sizeof(ev->text), "AS%lu", (unsigned long)in->asn);
            ev->value = ev->text;
        }
        break;
    }

    for (r = 0; r < R_MAX && first < 0; r++)
        if (pats[r] != NULL)
            first = r;
    if (first < 0)
        return -1;

    if (port_pat != NULL) {
        /* The port explains the confidence of a CIDR match: keep it, in
         * the last slot if the evidence is full. */
        if (h->n_ev >= SIG_MAX_EVIDENCE)
            h->n_ev = SIG_MAX_EVIDENCE - 1;
        ev = sig_ev_add(h, SIG_EV_PORT, NULL, port_pat);
        snprintf(ev->text, sizeof(ev->text), "%s/%u", in->proto == IPPROTO_TCP ? "tcp" : "udp",
                 (unsigned)in->dport);
        ev->value = ev->text;
    }

    for (r = 0; r < R_JA3; r++) /* the ranks before JA3 are the strong ones */
        high |= pats[r] != NULL;
    if (high)
        h->confidence = SIG_CONF_HIGH;
    else if (pats[R_JA3] != NULL || (pats[R_CIDR] != NULL && port_pat != NULL))
        h->confidence = SIG_CONF_MEDIUM;
    else
        h->confidence = SIG_CONF_LOW;
    return first;
}

/* Whether hit a goes before hit b: higher confidence, then pack order. */
static int sig_before(const struct sig_hit *a, const struct sig_hit *b)
{
    if (a->confidence != b->confidence)
        return a->confidence > b->confidence;
    return a->sig->index < b->sig->index;
}

/* Put h at its place in the caller's hits[]; when they are full, the
 * weakest falls off the end. */
static void sig_insert(struct sig_ctx *c, const struct sig_hit *h)
{
    size_t pos = c->n_hits, i;

    while (pos > 0 && sig_before(h, &c->hits[pos - 1]))
        pos--;
    if (pos >= c->max)
        return;
    i = c->n_hits < c->max ? c->n_hits++ : c->max - 1;
    for (; i > pos; i--)
        sig_hit_copy(&c->hits[i], &c->hits[i - 1]);
    sig_hit_copy(&c->hits[pos], h);
}

/* Signature si came up through rank (and pattern, for names): record it if
 * it is a hit and this is the first source it matches through. */
static void sig_consider(struct sig_ctx *c, uint32_t si, int rank, const char *pattern)
{
    const char *pats[R_MAX];
    struct sig_hit h;

    if (sig_eval(c, si, &h, pats) != rank)
        return;
    if (pattern != NULL && pats[rank] != pattern)
        return; /* a less specific pattern of the same signature */
    c->total++;
    sig_insert(c, &h);
}

/* dm_match() callback of the enumeration: every signature of the pattern. */
struct sig_enum {
    struct sig_ctx *c;
    int rank;
};

static void sig_enum_cb(void *value, const char *pattern, void *ud)
{
    const struct sig_enum *e = ud;
    const struct sig_idx *l = value;
    size_t i;

    for (i = 0; i < l->n; i++)
        sig_consider(e->c, l->v[i], e->rank, pattern);
}

static const char *sig_str(const char *s)
{
    return s != NULL ? s : "";
}

/* Copy a hit, keeping evidence values that point into the hit's own text[]
 * pointing into the copy's. Cannot fail. */
void sig_hit_copy(struct sig_hit *dst, const struct sig_hit *src)
{
    size_t i;

    if (dst == src)
        return;
    *dst = *src;
    for (i = 0; i < src->n_ev && i < SIG_MAX_EVIDENCE; i++)
        if (src->ev[i].value == src->ev[i].text)
            dst->ev[i].value = dst->ev[i].text;
}

/* Match in against p; up to max hits into hits[], strongest first (ties in
 * pack order). Returns the number of matching signatures, which may exceed
 * max. Uses only the stack and hits[]: never allocates, never writes to the
 * pack, so threads may share a pack. 0 for a NULL pack or flow. */
size_t sig_match(const struct sig_pack *p, const struct sig_flow *in, struct sig_hit *hits,
                 size_t max)
{
    struct sig_ctx c;
    int r;

    if (p == NULL || in == NULL)
        return 0;
    memset(&c, 0, sizeof(c));
    c.p = p;
    c.in = in;
    c.hits = hits;
    c.max = hits != NULL ? max : 0;
    c.text[R_TLS_SNI] = sig_str(in->tls_sni);
    c.text[R_QUIC_SNI] = sig_str(in->quic_sni);
    c.text[R_HOST_DOMAINS] = sig_str(in->http_host);
    c.text[R_HOST_HTTP_HOST] = sig_str(in->http_host);
    c.text[R_DNS_NAME] = sig_str(in->dns_name);
    c.text[R_HTTP_PATH] = sig_str(in->http_path);
    c.text[R_HTTP_UA] = sig_str(in->http_ua);
    c.text[R_CERT_SUBJECT] = sig_str(in->cert_subject);
    c.text[R_CERT_ISSUER] = sig_str(in->cert_issuer);
    c.text[R_DISSECTOR] = in->n_verdicts > 0 && in->verdicts != NULL ? "*" : "";
    c.text[R_JA3] = sig_str(in->ja3);
    c.text[R_CIDR] = "";
    c.text[R_ASN] = "";

    if (in->daddr != NULL && (in->ipver == 4 || in->ipver == 6))
        c.cidr = netset_lookup(p->cidrs, in->ipver, in->daddr, NULL);
    if (in->asn != 0 && p->n_asns > 0) {
        size_t lo = 0, hi = p->n_asns;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (p->asns[mid].asn < in->asn)
                lo = mid + 1;
            else
                hi = mid;
        }
        c.asn = &p->asns[lo];
        while (lo + c.n_asn < p->n_asns && p->asns[lo + c.n_asn].asn == in->asn)
            c.n_asn++;
    }

    for (r = R_TLS_SNI; r <= R_DNS_NAME; r++) {
        struct sig_enum e = {&c, r};

        if (c.text[r][0] != '\0')
            dm_match(p->dm[sig_src[r].ind == IND_DOMAINS ? 0 : 1], c.text[r], sig_enum_cb, &e);
    }
    for (r = R_META_FIRST; r < R_META_FIRST + R_META_N; r++) {
        const struct sig_idx *l = &p->meta[r - R_META_FIRST];
        size_t i;

        if (c.text[r][0] == '\0')
            continue;
        for (i = 0; i < l->n; i++)
            sig_consider(&c, l->v[i], r, NULL);
    }
    if (c.cidr != NULL) {
        size_t i;

        for (i = 0; i < c.cidr->n; i++)
            sig_consider(&c, c.cidr->e[i].sig, R_CIDR, NULL);
    }
    if (c.n_asn > 0) {
        size_t i;

        for (i = 0; i < c.n_asn; i++)
            sig_consider(&c, c.asn[i].sig, R_ASN, NULL);
    }
    return c.total;
}

/* ---------------------------------------------------------------- names */

/* Each returns a static string, "unknown" when out of range. */
const char *sig_category_name(int c)
{
    return c >= 0 && c < SIG_CAT_MAX ? sig_cat_names[c] : "unknown";
}

const char *sig_severity_name(int s)
{
    return s >= 0 && s < SIG_SEV_MAX ? sig_sev_names[s] : "unknown";
}

const char *sig_confidence_name(int c)
{
    return c >= 0 && c <= SIG_CONF_HIGH ? sig_conf_names[c] : "unknown";
}

const char *sig_evidence_name(int k)
{
    return k >= 0 && k < SIG_EV_MAX ? sig_ev_names[k] : "unknown";
}
