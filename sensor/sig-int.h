/* sig-int.h -- the signature pack's private layout, shared by loading
 * (sig-load.c) and matching (signature.c); nothing else includes it. */
#ifndef SIG_INT_H
#define SIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "signature.h"

struct domain_matcher;
struct netset;
struct dn_attr;

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
    IND_APP,
    IND_JA4,
    IND_JA3S,
    IND_CIDRS,
    IND_ASNS,
    IND_PORTS,
    IND_MAX
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
    R_APP, /* the last strong one */
    R_JA3,
    R_JA4,
    R_JA3S, /* last metadata rank */
    R_CIDR,
    R_ASN,
    R_MAX
};

#define R_META_FIRST R_HTTP_PATH
#define R_META_N (R_JA3S - R_HTTP_PATH + 1)

/* A signature's base severity goes up to "high"; "critical" is reached only
 * by raising an alert (README, "Severity"). */
#define SIG_SEV_BASE_MAX SIG_SEV_HIGH

/* For each rank, the evidence kind it produces and the indicator list it
 * checks; and the names of indicator keys, categories, severities,
 * confidences and evidence kinds (signature.c). */
struct sig_src_ent {
    uint8_t ev;
    uint8_t ind;
};
extern const struct sig_src_ent sig_src[R_MAX];
extern const char *const sig_ind_key[IND_MAX];
extern const char *const sig_cat_names[SIG_CAT_MAX];
extern const char *const sig_sev_names[SIG_SEV_MAX];
extern const char *const sig_conf_names[3];
extern const char *const sig_ev_names[SIG_EV_MAX];
extern const char *const sig_role_names[SIG_ROLE_MAX];
extern const char *const sig_rel_names[SIG_REL_MAX];

/* One pattern of an indicator list: as written (normalised for names), and
 * for the case-insensitive substring keys a lower-case copy to match with. */
struct sig_pat {
    char *text;
    char *fold;            /* NULL for the other keys */
    struct dn_attr *attrs; /* certificate patterns: text's attributes (dn.h) */
    size_t n_attrs;
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

/* ASCII lower case (names and the substring keys fold this way, never
 * by locale). */
static inline char sig_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Whether the sorted index list l holds si. */
int sig_idx_has(const struct sig_idx *l, uint32_t si);

#endif
