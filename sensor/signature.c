/* signature.c -- matching a flow against the signature pack, and the
 * pack's names.
 *
 * Matching (sig_match) enumerates candidate signatures from those sources in
 * a fixed order (the "ranks" below) and evaluates each candidate completely.
 * A signature reached through several sources is counted at the first of
 * them only: its evaluation says which source comes first, so no per-call
 * memory is needed to remember what was seen. All state lives on the stack
 * and in the caller's hits[], the pack is only read: sig_match is
 * thread-safe on a shared pack. */
#include "signature.h"
#include "sig-int.h"
#include "dn.h"
#include "match-domain.h"
#include "netset.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

const char *const sig_ind_key[IND_MAX] = {
    "domains",      "http_host",   "http_path", "http_user_agent",
    "cert_subject", "cert_issuer", "ja3",       "dissector",
    "app",          "ja4",         "ja3s",      "cidrs",
    "asns",         "ports",
};

/* For each rank, the evidence kind it produces and the indicator list it
 * checks. */
const struct sig_src_ent sig_src[R_MAX] = {
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
    [R_APP] = {SIG_EV_APP, IND_APP},
    [R_JA3] = {SIG_EV_JA3, IND_JA3},
    [R_JA4] = {SIG_EV_JA4, IND_JA4},
    [R_JA3S] = {SIG_EV_JA3S, IND_JA3S},
    [R_CIDR] = {SIG_EV_CIDR, IND_CIDRS},
    [R_ASN] = {SIG_EV_ASN, IND_ASNS},
};

const char *const sig_cat_names[SIG_CAT_MAX] = {
    "update", "telemetry", "threat-lookup", "licensing", "management", "remote-access",
};

const char *const sig_sev_names[SIG_SEV_MAX] = {"low", "medium", "high", "critical"};

const char *const sig_conf_names[3] = {"low", "medium", "high"};

const char *const sig_ev_names[SIG_EV_MAX] = {
    "tls_sni",      "quic_sni",    "http_host", "dns_name",  "http_path", "http_user_agent",
    "cert_subject", "cert_issuer", "ja3",       "dissector", "app",       "ja4",
    "ja3s",         "cidr",        "asn",       "port",
};

const char *const sig_role_names[SIG_ROLE_MAX] = {"client", "server", "peers"};
const char *const sig_rel_names[SIG_REL_MAX] = {"is", "runs", "uses"};
/* Whether the sorted list holds si. */
int sig_idx_has(const struct sig_idx *l, uint32_t si)
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

/* ---------------------------------------------------------------- matching */

/* State of one sig_match() call. */
/* Attributes read from a certificate name; more are left out. */
#define SIG_DN_ATTRS 24

struct sig_ctx {
    const struct sig_pack *p;
    const struct sig_flow *in;
    const char *text[R_MAX];          /* the flow's value per rank, "" if none */
    const struct sig_cidr_list *cidr; /* signatures around the address */
    const struct sig_asn *asn;        /* pairs of the flow's AS */
    size_t n_asn;
    struct sig_hit *hits;
    size_t max, n_hits, total;
    /* the certificate names, attribute by attribute (dn.h) */
    struct dn_attr subject[SIG_DN_ATTRS], issuer[SIG_DN_ATTRS];
    size_t n_subject, n_issuer;
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

/* Whether the flow's text for metadata rank r (not the dissector, not the
 * label) matches pattern pat: a prefix for the path, the whole hash for
 * the fingerprints, attribute by attribute for a certificate name, else a
 * case-insensitive substring. */
static int sig_meta_match(const struct sig_ctx *c, int r, const char *text,
                          const struct sig_pat *pat)
{
    switch (r) {
    case R_HTTP_PATH:
        return strncmp(text, pat->text, strlen(pat->text)) == 0;
    case R_JA3:
    case R_JA4:
    case R_JA3S:
        return strcmp(text, pat->text) == 0;
    case R_CERT_SUBJECT:
        return dn_match(pat->attrs, pat->n_attrs, c->subject, c->n_subject);
    case R_CERT_ISSUER:
        return dn_match(pat->attrs, pat->n_attrs, c->issuer, c->n_issuer);
    default:
        return sig_contains_ci(text, pat->fold);
    }
}

/* Whether the flow's nDPI label matches pattern (either part, exactly),
 * counting a guessed label only when the signature says so. */
static const char *sig_app_match(const struct sig_ctx *c, const struct signature *sig,
                                 const char *pattern)
{
    const struct sig_flow *in = c->in;
    if (in->app_guessed && !sig->app_guessed)
        return NULL;
    if (in->app_master != NULL && strcmp(in->app_master, pattern) == 0)
        return in->app_master;
    if (in->app != NULL && strcmp(in->app, pattern) == 0)
        return in->app;
    return NULL;
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
            } else if (r == R_APP) {
                value = sig_app_match(c, h->sig, l->v[i].text);
            } else if (sig_meta_match(c, r, c->text[r], &l->v[i])) {
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
    else if (pats[R_JA3] != NULL || pats[R_JA4] != NULL || pats[R_JA3S] != NULL ||
             (pats[R_CIDR] != NULL && port_pat != NULL))
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
    c.text[R_JA4] = sig_str(in->ja4);
    c.text[R_JA3S] = sig_str(in->ja3s);
    c.text[R_APP] = in->app_master != NULL && in->app_master[0] != '\0' ? "*" : "";
    /* certificate names, read once for every pattern */
    c.n_subject = dn_parse(c.text[R_CERT_SUBJECT], c.subject, SIG_DN_ATTRS);
    c.n_issuer = dn_parse(c.text[R_CERT_ISSUER], c.issuer, SIG_DN_ATTRS);
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

const char *sig_role_name(int r)
{
    return r >= 0 && r < SIG_ROLE_MAX ? sig_role_names[r] : "unknown";
}

const char *sig_relation_name(int r)
{
    return r >= 0 && r < SIG_REL_MAX ? sig_rel_names[r] : "unknown";
}
