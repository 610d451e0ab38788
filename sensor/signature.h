/* signature.h -- the signature pack: loading, validation, compiled matching.
 *
 * A pack is every *.conf file of a folder (config/signatures/), one vendor
 * per file; the format is documented in config/signatures/README.md. Loading
 * validates the whole pack (errors name file and line) and compiles the
 * indicators once into structures fit for the packet rate: a domain suffix
 * matcher, a prefix tree of CIDRs (netset), a set of AS numbers. The pack is
 * read-only after loading; matching takes no locks and never allocates. */
#ifndef SIGNATURE_H
#define SIGNATURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sig_category {
    SIG_CAT_UPDATE = 0,
    SIG_CAT_TELEMETRY,
    SIG_CAT_THREAT_LOOKUP,
    SIG_CAT_LICENSING,
    SIG_CAT_MANAGEMENT,
    SIG_CAT_REMOTE_ACCESS,
    SIG_CAT_MAX
};

enum sig_severity { SIG_SEV_LOW = 0, SIG_SEV_MEDIUM, SIG_SEV_HIGH, SIG_SEV_CRITICAL, SIG_SEV_MAX };

enum sig_confidence { SIG_CONF_LOW = 0, SIG_CONF_MEDIUM, SIG_CONF_HIGH };

/* Which end of a flow a signature's evidence identifies. */
enum sig_role {
    SIG_ROLE_CLIENT = 0, /* the client: an agent or appliance phoning home */
    SIG_ROLE_SERVER,     /* the server: a device presenting its own certificate */
    SIG_ROLE_PEERS,      /* both: members of a cluster talking to each other */
    SIG_ROLE_MAX
};

/* How the identified host relates to the product. */
enum sig_relation {
    SIG_REL_IS = 0, /* the host is the appliance (a FortiGate, an ESXi host) */
    SIG_REL_RUNS,   /* the host runs the software (FortiClient, an AV agent) */
    SIG_REL_USES,   /* the host uses the vendor's service (a filtering DNS) */
    SIG_REL_MAX
};

/* What a signature can read about the device from its evidence. */
enum sig_device {
    SIG_DEV_NONE = 0,
    SIG_DEV_FORTINET_SERIAL, /* certificate CN: a Fortinet serial number, and its model */
    SIG_DEV_CERT_HOSTNAME,   /* certificate CN: the host's name (ESXi, vCenter) */
    SIG_DEV_DISSECTOR,       /* what the dissector said (a cluster and member) */
    SIG_DEV_MAX
};

/* Longest texts a pack may hold, in bytes: what an alert, the inventory
 * and the Redis stream carry is bounded by them (a longer one is an error
 * naming its file and line when the pack is loaded). */
#define SIG_VENDOR_MAX 31
#define SIG_PRODUCT_MAX 63
#define SIG_NOTE_MAX 160
#define SIG_SOURCE_MAX 400
#define SIG_PATTERN_MAX 255 /* one indicator */

/* One signature as loaded (strings owned by the pack). */
struct signature {
    uint32_t index; /* position in the pack, 0..n-1 */
    const char *id;
    const char *vendor;
    const char *product;
    const char *source;
    const char *note; /* "" when absent */
    const char *file; /* file and line it was defined at */
    int line;
    uint8_t category;    /* enum sig_category */
    uint8_t severity;    /* enum sig_severity (base level) */
    uint8_t role;        /* enum sig_role */
    uint8_t relation;    /* enum sig_relation */
    uint8_t device;      /* enum sig_device */
    uint8_t app_guessed; /* an nDPI label nDPI only guessed counts too */
};

/* Kinds of evidence a match can rest on. */
enum sig_ev_kind {
    SIG_EV_TLS_SNI = 0,
    SIG_EV_QUIC_SNI,
    SIG_EV_HTTP_HOST,
    SIG_EV_DNS_NAME, /* name the client resolved to the destination */
    SIG_EV_HTTP_PATH,
    SIG_EV_HTTP_UA,
    SIG_EV_CERT_SUBJECT,
    SIG_EV_CERT_ISSUER,
    SIG_EV_JA3,
    SIG_EV_DISSECTOR,
    SIG_EV_APP,  /* nDPI's application label */
    SIG_EV_JA4,  /* JA4 of the client hello */
    SIG_EV_JA3S, /* JA3 of the server hello */
    SIG_EV_CIDR,
    SIG_EV_ASN,
    SIG_EV_PORT,
    SIG_EV_MAX
};

/* What a flow offers to the matcher, gathered once per flow. Strings are
 * NUL-terminated, "" (never NULL) when absent; borrowed for the call. */
struct sig_flow {
    uint8_t ipver;        /* 4 or 6 */
    uint8_t proto;        /* IPPROTO_TCP, IPPROTO_UDP, ... */
    uint16_t dport;       /* server port, host order */
    const uint8_t *daddr; /* server address, network order (4 or 16 bytes) */
    uint32_t asn;         /* server AS, 0 when unknown */
    const char *tls_sni;
    const char *quic_sni;
    const char *http_host;
    const char *http_path;
    const char *http_ua;
    const char *dns_name;
    const char *cert_subject;
    const char *cert_issuer;
    const char *ja3;
    const char *ja4;
    const char *ja3s;
    const char *app_master;      /* nDPI's label, its two parts: "TLS" */
    const char *app;             /* and "Google"; "" when one-part */
    uint8_t app_guessed;         /* nDPI guessed the label (by port) */
    const char *const *verdicts; /* dissector verdict names */
    size_t n_verdicts;
};

#define SIG_MAX_EVIDENCE 8

struct sig_evidence {
    uint8_t kind;        /* enum sig_ev_kind */
    const char *value;   /* what the flow had (borrowed from the input, or
                          * formatted into text[] for CIDR/ASN/port) */
    const char *pattern; /* the signature's indicator that matched (pack-owned) */
    char text[48];
};

struct sig_hit {
    const struct signature *sig;
    uint8_t confidence; /* enum sig_confidence */
    size_t n_ev;
    struct sig_evidence ev[SIG_MAX_EVIDENCE];
};

struct sig_pack;

/* Load every *.conf file of dir (in name order) as one pack. Returns NULL
 * with "FILE:LINE: message" in errbuf on the first error (unknown key, bad
 * value, missing required key, duplicate id -- naming both places, a
 * signature without an identifying indicator, no file at all...). Free with
 * sig_pack_free(). */
struct sig_pack *sig_pack_load(const char *dir, char *errbuf, size_t errlen);

/* Free a pack. NULL is a no-op. */
void sig_pack_free(struct sig_pack *p);

size_t sig_pack_count(const struct sig_pack *p);
const struct signature *sig_pack_get(const struct sig_pack *p, size_t i);

/* The signature with this id, or NULL. Not for the packet path. */
const struct signature *sig_pack_find(const struct sig_pack *p, const char *id);

/* Number of vendor files loaded. */
size_t sig_pack_files(const struct sig_pack *p);

/* Print the pack for --list-signatures: every signature with its
 * indicators, or only vendor's (NULL: every vendor; the name is compared
 * without regard to case), in one of two forms: SIG_PRINT_TEXT, a block per
 * signature grouped by vendor, for people; SIG_PRINT_JSON, one JSON
 * document (config/schema/signatures.schema.json). p may be NULL (no pack:
 * nothing, or an empty document). Returns 0; -ENOENT when vendor names no
 * vendor of the pack (nothing is printed); -EIO when the JSON form could
 * not be written. Other output errors are the caller's to check with
 * ferror(fp). */
enum { SIG_PRINT_TEXT = 0, SIG_PRINT_JSON };
int sig_pack_print(FILE *fp, const struct sig_pack *p, const char *vendor, int format);

/* The pack's vendors in the order they first appear, ", " between them,
 * into buf (len bytes, cut short when too small; "" for a NULL pack). For
 * a message naming the vendors there are. Cannot fail. */
void sig_pack_vendors(const struct sig_pack *p, char *buf, size_t len);

/* Match a flow against the pack. Fills up to max hits (one per matching
 * signature, with its evidence and confidence, strongest first) and returns
 * how many signatures matched (may exceed max). Never allocates. */
size_t sig_match(const struct sig_pack *p, const struct sig_flow *in, struct sig_hit *hits,
                 size_t max);

/* Copy a hit. Evidence values formatted into the hit's own text[] (CIDR,
 * ASN, port) point into that hit, so a plain struct copy would leave them
 * pointing into the source: use this to move hits around. Cannot fail. */
void sig_hit_copy(struct sig_hit *dst, const struct sig_hit *src);

/* Names: "update", "threat-lookup", ...; "low".."critical"; "low".."high";
 * "tls_sni", "dns_name", ... (the JSON evidence kind). */
const char *sig_category_name(int c);
const char *sig_severity_name(int s);
const char *sig_confidence_name(int c);
const char *sig_evidence_name(int k);
const char *sig_role_name(int r);
const char *sig_relation_name(int r);

#endif
