/* fuzz_signatures.c -- sig_pack_load() on an arbitrary vendor file, and
 * sig_match() on what it compiled.
 *
 * Input: the text of one vendor .conf file, written as the only file of a
 * temporary folder made once per process; the folder is loaded as a pack.
 * When it loads, the pack is printed (to /dev/null) and a fixed set of flows
 * is matched against it: names, addresses, ports, AS numbers and verdicts
 * taken from the shipped pack's indicators, plus odd shapes (upper case,
 * trailing dot, empty labels, a long name), so that mutated patterns near
 * real ones are compared with real-looking metadata. Checked: the pack
 * lists its signatures in index order; every hit names a signature of the
 * pack, its evidence is bounded and non-NULL, and sig_match() counts the
 * same matches whether or not it has room to fill hits. */
#include <netinet/in.h>
#include <string.h>

#include "fuzz-util.h"
#include "signature.h"

#define MAX_HITS 4

static FILE *devnull;

static const uint8_t addr_fortinet[4] = {208, 91, 112, 55};
static const uint8_t addr_public[4] = {93, 184, 216, 34};
static const uint8_t addr_private[4] = {10, 0, 0, 1};
static const uint8_t addr_v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x40, 0, 0,
                                    0,    0,    0,    0,    0,    0,    0, 1};
static const uint8_t addr_v6_any[16] = {0};

static const char *const all_verdicts[] = {
    "fortiguard-rating", "fortinet-fgfm", "checkpoint-mgmt", "velocloud-vcmp", "carbonblack-backup",
};
static const char *const odd_verdicts[] = {"", "FORTINET-FGFM", "fortinet-fgfm-"};

static const char long_name[] = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z."
                                "aa.bb.cc.dd.ee.ff.gg.hh.ii.jj.kk.ll.mm.nn.oo.pp.qq.rr."
                                "update-with-a-rather-long-label-that-is-still-legal-0123456."
                                "fortiguard.net";

/* The flows matched against every pack that loads. Strings left out are
 * set to "" by LLVMFuzzerInitialize(): sig_match() takes "" for absent. */
static struct sig_flow flows[] = {
    {
        .ipver = 4,
        .proto = IPPROTO_TCP,
        .dport = 443,
        .daddr = addr_fortinet,
        .asn = 40934,
        .tls_sni = "update.fortiguard.net",
        .dns_name = "service.fortiguard.net",
        .cert_subject = "CN=ts01.cloudsink.net, O=CrowdStrike",
        .cert_issuer = "C=US, O=Fortinet, OU=Certificate Authority, CN=support",
        .ja3 = "e4d448cdfe06dc1243c1eb026c74ac9a",
        .verdicts = all_verdicts,
        .n_verdicts = 2,
    },
    {
        .ipver = 4,
        .proto = IPPROTO_TCP,
        .dport = 80,
        .daddr = addr_public,
        .asn = 15169,
        .http_host = "Service.FortiGuard.NET.",
        .http_path = "/fgdsvc?x=1",
        .http_ua = "ESS Update (Windows; U; 64bit)",
        .dns_name = "dc-01.traps.paloaltonetworks.com",
    },
    {
        .ipver = 6,
        .proto = IPPROTO_UDP,
        .dport = 8888,
        .daddr = addr_v6,
        .asn = 4294967295u,
        .quic_sni = "x..fortiguard.net",
        .http_ua = "SophosUpdateManager",
        .dns_name = long_name,
        .ja3 = "E4D448CDFE06DC1243C1EB026C74AC9A",
        .verdicts = all_verdicts,
        .n_verdicts = sizeof(all_verdicts) / sizeof(all_verdicts[0]),
    },
    {
        .ipver = 4,
        .proto = IPPROTO_TCP,
        .dport = 541,
        .daddr = addr_private,
        .tls_sni = ".",
        .http_host = "*",
        .http_path = "/",
        .dns_name = "*.fortiguard.net",
        .cert_subject = "O=Fortinet",
        .verdicts = odd_verdicts,
        .n_verdicts = sizeof(odd_verdicts) / sizeof(odd_verdicts[0]),
    },
    {
        .ipver = 6,
        .proto = IPPROTO_TCP,
        .dport = 18191,
        .daddr = addr_v6_any,
        .asn = 1,
    },
};

#define N_FLOWS (sizeof(flows) / sizeof(flows[0]))

static void absent_is_empty(const char **s)
{
    if (*s == NULL)
        *s = "";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tmpdir("vendor.conf");
    devnull = fopen("/dev/null", "w");
    FUZZ_CHECK(devnull != NULL);
    for (size_t i = 0; i < N_FLOWS; i++) {
        struct sig_flow *f = &flows[i];
        absent_is_empty(&f->tls_sni);
        absent_is_empty(&f->quic_sni);
        absent_is_empty(&f->http_host);
        absent_is_empty(&f->http_path);
        absent_is_empty(&f->http_ua);
        absent_is_empty(&f->dns_name);
        absent_is_empty(&f->cert_subject);
        absent_is_empty(&f->cert_issuer);
        absent_is_empty(&f->ja3);
    }
    return 0;
}

static void check_hits(const struct sig_pack *p, const struct sig_hit *hits, size_t filled)
{
    size_t count = sig_pack_count(p);
    for (size_t i = 0; i < filled; i++) {
        const struct sig_hit *h = &hits[i];
        FUZZ_CHECK(h->sig != NULL && h->sig->index < count &&
                   sig_pack_get(p, h->sig->index) == h->sig);
        FUZZ_CHECK(h->confidence <= SIG_CONF_HIGH);
        FUZZ_CHECK(h->n_ev >= 1 && h->n_ev <= SIG_MAX_EVIDENCE);
        for (size_t j = 0; j < h->n_ev; j++) {
            const struct sig_evidence *e = &h->ev[j];
            FUZZ_CHECK(e->kind < SIG_EV_MAX && e->value != NULL && e->pattern != NULL);
            fuzz_touch(e->value, strlen(e->value));
            fuzz_touch(e->pattern, strlen(e->pattern));
        }
        struct sig_hit copy;
        sig_hit_copy(&copy, h);
        FUZZ_CHECK(copy.sig == h->sig && copy.n_ev == h->n_ev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (fuzz_write_input(data, size) < 0)
        return 0;
    err[0] = '\0';
    struct sig_pack *p = sig_pack_load(fuzz_dir, err, sizeof(err));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (p == NULL) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    size_t count = sig_pack_count(p);
    FUZZ_CHECK(count > 0 && sig_pack_files(p) == 1);
    for (size_t i = 0; i < count; i++) {
        const struct signature *s = sig_pack_get(p, i);
        FUZZ_CHECK(s != NULL && s->index == i && s->id != NULL && s->vendor != NULL &&
                   s->note != NULL && s->category < SIG_CAT_MAX && s->severity < SIG_SEV_MAX);
    }
    sig_pack_print(devnull, p, NULL, SIG_PRINT_TEXT);
    FUZZ_CHECK(sig_pack_print(devnull, p, NULL, SIG_PRINT_JSON) == 0);
    FUZZ_CHECK(sig_pack_print(devnull, p, sig_pack_get(p, 0)->vendor, SIG_PRINT_TEXT) == 0);

    struct sig_hit hits[MAX_HITS];
    for (size_t f = 0; f < N_FLOWS; f++) {
        size_t n = sig_match(p, &flows[f], hits, MAX_HITS);
        FUZZ_CHECK(n <= count);
        FUZZ_CHECK(sig_match(p, &flows[f], NULL, 0) == n);
        check_hits(p, hits, n < MAX_HITS ? n : MAX_HITS);
    }
    sig_pack_free(p);
    return 0;
}
