/* test_signature.c -- unit tests for sensor/signature.c.
 *
 * Packs are folders under $TEST_SRCDIR/data/signatures (TEST_SRCDIR defaults
 * to "tests"): good/ holds two files used by the matching tests, every
 * bad-* folder one mistake whose exact "FILE:LINE: message" is checked here.
 * Smaller variants are written to a temporary folder by the test itself.
 * Addresses are documentation ranges (RFC 5737, RFC 3849). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "output-json.h"
#include "signature.h"

static char errbuf[2048];

static const char *srcdir(void)
{
    const char *d = getenv("TEST_SRCDIR");

    return d != NULL && d[0] != '\0' ? d : "tests";
}

/* $TEST_SRCDIR/data/signatures/name, in one of two static buffers (so that
 * two paths can be used together). */
static const char *data_path(const char *name)
{
    static char path[2][1024];
    static int turn;

    turn ^= 1;
    snprintf(path[turn], sizeof(path[turn]), "%s/data/signatures/%s", srcdir(), name);
    return path[turn];
}

static struct sig_pack *load_good(void)
{
    struct sig_pack *p;

    errbuf[0] = '\0';
    p = sig_pack_load(data_path("good"), errbuf, sizeof(errbuf));
    if (p == NULL)
        fail_msg("%s", errbuf);
    return p;
}

/* Loading folder must fail with "<folder>/<file>:<rest>". */
static void expect_error(const char *folder, const char *file, const char *rest)
{
    char want[2048];

    errbuf[0] = '\0';
    assert_null(sig_pack_load(data_path(folder), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s/%s:%s", data_path(folder), file, rest);
    assert_string_equal(errbuf, want);
}

/* A temporary folder holding test.conf with text; the caller removes it
 * with remove_temp(). */
static void write_temp(char *dir, size_t len, const char *text)
{
    const char *tmp = getenv("TMPDIR");
    char path[1100];
    FILE *f;

    snprintf(dir, len, "%s/test_signature.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/test.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void remove_temp(const char *dir)
{
    char path[1100];

    snprintf(path, sizeof(path), "%s/test.conf", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* The head of every inline pack: a good signature up to its last key,
 * which the test supplies (lines 1-9; the supplied text starts at line 10). */
#define PACK_HEAD                                                                                  \
    "vendor = \"Test\";\n"                                                                         \
    "signatures = (\n"                                                                             \
    "  {\n"                                                                                        \
    "    id = \"t-one\";\n"                                                                        \
    "    product = \"Product\";\n"                                                                 \
    "    category = \"update\";\n"                                                                 \
    "    severity = \"low\";\n"                                                                    \
    "    source = \"https://example.com/doc\";\n"                                                  \
    "    domains = [ \"a.example.com\" ];\n"
#define PACK_TAIL "  }\n);\n"

/* Load PACK_HEAD + body + PACK_TAIL; expect "<dir>/test.conf:<rest>", or
 * success when rest is NULL. */
static void expect_inline(const char *body, const char *rest)
{
    char dir[1024], text[4096], want[2048];
    struct sig_pack *p;

    snprintf(text, sizeof(text), "%s%s%s", PACK_HEAD, body, PACK_TAIL);
    write_temp(dir, sizeof(dir), text);
    errbuf[0] = '\0';
    p = sig_pack_load(dir, errbuf, sizeof(errbuf));
    if (rest == NULL) {
        if (p == NULL)
            fail_msg("%s", errbuf);
    } else {
        assert_null(p);
        snprintf(want, sizeof(want), "%s/test.conf:%s", dir, rest);
        assert_string_equal(errbuf, want);
    }
    sig_pack_free(p);
    remove_temp(dir);
}

/* Same for a whole file. */
static void expect_file(const char *text, const char *rest)
{
    char dir[1024], want[2048];
    struct sig_pack *p;

    write_temp(dir, sizeof(dir), text);
    errbuf[0] = '\0';
    p = sig_pack_load(dir, errbuf, sizeof(errbuf));
    assert_null(p);
    snprintf(want, sizeof(want), "%s/test.conf:%s", dir, rest);
    assert_string_equal(errbuf, want);
    remove_temp(dir);
}

/* ---------------------------------------------------------------- loading */

static void test_load_good(void **state)
{
    struct sig_pack *p = load_good();
    const struct signature *s;
    char file[1100];
    size_t i;

    (void)state;
    assert_int_equal(sig_pack_count(p), 10);
    assert_int_equal(sig_pack_files(p), 2);
    for (i = 0; i < 10; i++)
        assert_int_equal(sig_pack_get(p, i)->index, i);
    assert_null(sig_pack_get(p, 10));

    /* the first signature of the first file */
    s = sig_pack_get(p, 0);
    snprintf(file, sizeof(file), "%s/10-fortinet.conf", data_path("good"));
    assert_string_equal(s->id, "fn-update");
    assert_string_equal(s->vendor, "Fortinet");
    assert_string_equal(s->product, "FortiGate");
    assert_string_equal(s->source, "https://docs.example.com/fortiguard");
    assert_string_equal(s->note, "FortiGuard packages");
    assert_string_equal(s->file, file);
    assert_int_equal(s->line, 7);
    assert_int_equal(s->category, SIG_CAT_UPDATE);
    assert_int_equal(s->severity, SIG_SEV_MEDIUM);

    s = sig_pack_get(p, 2);
    assert_string_equal(s->id, "fn-mgmt");
    assert_int_equal(s->line, 26);
    assert_int_equal(s->category, SIG_CAT_MANAGEMENT);
    assert_int_equal(s->severity, SIG_SEV_HIGH);
    assert_string_equal(s->note, "");
    assert_string_equal(sig_pack_get(p, 4)->id, "fn-ja3");
    assert_int_equal(sig_pack_get(p, 4)->category, SIG_CAT_REMOTE_ACCESS);

    /* the second file: vendor set after the list */
    s = sig_pack_get(p, 6);
    snprintf(file, sizeof(file), "%s/20-checkpoint.conf", data_path("good"));
    assert_string_equal(s->id, "cp-cloud");
    assert_string_equal(s->vendor, "Check Point");
    assert_string_equal(s->file, file);
    assert_int_equal(s->line, 4);
    assert_int_equal(s->category, SIG_CAT_THREAT_LOOKUP);
    assert_string_equal(sig_pack_get(p, 9)->id, "cp-big-asn");
    assert_int_equal(sig_pack_get(p, 9)->line, 34);
    sig_pack_free(p);
    sig_pack_free(NULL);
}

static void test_print(void **state)
{
    struct sig_pack *p = load_good();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    assert_int_equal(sig_pack_print(f, p, NULL, SIG_PRINT_TEXT), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(text, "Fortinet (6 signatures)\n  fn-update  ("));
    assert_non_null(strstr(text, "10-fortinet.conf:7)\n"
                                 "    product          FortiGate\n"
                                 "    category         update\n"
                                 "    severity         medium\n"
                                 "    role             client (the host runs it)\n"
                                 "    source           https://docs.example.com/fortiguard\n"
                                 "    note             FortiGuard packages\n"
                                 "    domains          update.fortiguard.net, *.fortiguard.net\n"));
    assert_non_null(strstr(text, "    ports            udp/8888, udp/53\n"));
    assert_non_null(strstr(text, "\nCheck Point (4 signatures)\n  cp-cloud  ("));
    assert_non_null(strstr(text, "    http_user_agent  ESS Update (\n"));
    assert_non_null(strstr(text, "    asns             AS40934, AS4294967295\n"));
    assert_null(strstr(text, "note             \n")); /* no empty note line */
    /* Fortinet's block comes whole before Check Point's */
    assert_true(strstr(text, "fn-wide") < strstr(text, "Check Point"));
    free(text);
    sig_pack_free(p);
}

/* Print p for vendor in format into a string (freed by the caller);
 * *rc is sig_pack_print()'s result. */
static char *print_to_string(const struct sig_pack *p, const char *vendor, int format, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *rc = sig_pack_print(f, p, vendor, format);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* --list-signatures=VENDOR: that vendor's block alone, the name matched
 * without regard to case; an unknown vendor prints nothing. */
static void test_print_vendor(void **state)
{
    struct sig_pack *p = load_good();
    char vendors[256];
    int rc;
    (void)state;

    char *text = print_to_string(p, "check point", SIG_PRINT_TEXT, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "Check Point (4 signatures)\n  cp-cloud  ("));
    assert_null(strstr(text, "Fortinet"));
    free(text);

    text = print_to_string(p, "Nobody", SIG_PRINT_TEXT, &rc);
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(text, "");
    free(text);
    text = print_to_string(p, "Nobody", SIG_PRINT_JSON, &rc);
    assert_int_equal(rc, -ENOENT);
    assert_string_equal(text, "");
    free(text);

    sig_pack_vendors(p, vendors, sizeof(vendors));
    assert_string_equal(vendors, "Fortinet, Check Point");
    sig_pack_vendors(p, vendors, 12); /* cut short, terminated */
    assert_string_equal(vendors, "Fortinet, C");
    sig_pack_vendors(NULL, vendors, sizeof(vendors));
    assert_string_equal(vendors, "");
    sig_pack_free(p);
}

/* The JSON form: one document, every signature of the vendor asked for
 * with its indicators as the pack has them. */
static void test_print_json(void **state)
{
    struct sig_pack *p = load_good();
    json_error_t je;
    int rc;
    (void)state;

    char *text = print_to_string(p, NULL, SIG_PRINT_JSON, &rc);
    assert_int_equal(rc, 0);
    json_t *doc = json_loads(text, 0, &je);
    if (doc == NULL)
        fail_msg("invalid JSON: %s: %s", je.text, text);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")),
                     OUT_SCHEMA_SIGNATURES);
    json_t *sigs = json_object_get(doc, "signatures");
    assert_int_equal(json_array_size(sigs), sig_pack_count(p));
    assert_int_equal(json_array_size(json_object_get(doc, "vendors")), 2);
    json_t *s0 = json_array_get(sigs, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "id")), "fn-update");
    assert_string_equal(json_string_value(json_object_get(s0, "category")), "update");
    assert_string_equal(json_string_value(json_object_get(s0, "note")), "FortiGuard packages");
    assert_true(json_is_false(json_object_get(s0, "app_guessed")));
    assert_int_equal(json_integer_value(json_object_get(s0, "line")), 7);
    json_t *dom = json_object_get(json_object_get(s0, "indicators"), "domains");
    assert_int_equal(json_array_size(dom), 2);
    assert_string_equal(json_string_value(json_array_get(dom, 1)), "*.fortiguard.net");
    json_decref(doc);

    text = print_to_string(p, "CHECK POINT", SIG_PRINT_JSON, &rc);
    assert_int_equal(rc, 0);
    doc = json_loads(text, 0, &je);
    assert_non_null(doc);
    free(text);
    sigs = json_object_get(doc, "signatures");
    assert_int_equal(json_array_size(sigs), 4);
    for (size_t i = 0; i < json_array_size(sigs); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(sigs, i), "vendor")),
                            "Check Point");
    json_decref(doc);

    /* no pack (signatures.dir = ""): an empty document */
    text = print_to_string(NULL, NULL, SIG_PRINT_JSON, &rc);
    assert_int_equal(rc, 0);
    doc = json_loads(text, 0, &je);
    assert_non_null(doc);
    free(text);
    assert_int_equal(json_array_size(json_object_get(doc, "signatures")), 0);
    json_decref(doc);
    sig_pack_free(p);
}

static void test_errors_in_files(void **state)
{
    (void)state;
    expect_error("bad-unknown-key", "test.conf",
                 "11: unknown key \"domain\" (did you mean \"domains\"?)");
    expect_error("bad-unknown-top", "test.conf",
                 "2: unknown key \"vendr\" (did you mean \"vendor\"?)");
    expect_error("bad-type", "test.conf", "7: product: expected a string, found an integer");
    expect_error("bad-list-type", "test.conf",
                 "11: domains: expected an array [ ... ], found a string");
    /* the element is on line 12; errors about elements name the key's line */
    expect_error("bad-element-type", "test.conf",
                 "11: domains[1]: expected a string, found an integer");
    expect_error("bad-category", "test.conf",
                 "8: category: \"updates\" is not one of update, telemetry, threat-lookup, "
                 "licensing, management, remote-access");
    expect_error("bad-severity", "test.conf",
                 "9: severity: \"critical\" is not one of low, medium, high");
    expect_error("bad-id", "test.conf",
                 "6: id: \"Test_One\" is not a valid id (1..64 lower-case letters, digits and "
                 "'-')");
    expect_error("bad-domain", "test.conf",
                 "11: domains[1]: invalid domain pattern \"a..example.com\": empty label");
    expect_error("bad-cidr", "test.conf",
                 "11: cidrs[0]: invalid prefix \"192.0.2.1/24\": host bits set beyond /24");
    expect_error("bad-asn", "test.conf", "11: asns[0]: 0 is out of range 1..4294967295");
    expect_error("bad-asn-range", "test.conf",
                 "11: integer 4294967296 is out of range 1..4294967295");
    expect_error("bad-port", "test.conf",
                 "12: ports[1]: \"tcp/65536\" is not tcp/N or udp/N with N 1..65535");
    expect_error("bad-ja3", "test.conf",
                 "11: ja3[0]: \"E4D448CDFE06DC1243C1EB026C74AC9A\" is not 32 lower-case hex "
                 "digits");
    expect_error("bad-empty-string", "test.conf", "11: cert_subject[1]: empty string");
    expect_error("bad-only-ports", "test.conf",
                 "5: signature \"t-one\": ports alone do not identify a flow; add one of "
                 "domains, http_host, http_path, http_user_agent, cert_subject, cert_issuer, "
                 "ja3, ja4, ja3s, app, dissector, cidrs, asns");
    expect_error("bad-no-indicator", "test.conf",
                 "5: signature \"t-one\": no identifying indicator; add one of domains, "
                 "http_host, http_path, http_user_agent, cert_subject, cert_issuer, ja3, "
                 "ja4, ja3s, app, dissector, cidrs, asns");
    expect_error("bad-missing-key", "test.conf",
                 "5: signature \"t-one\": missing required key \"source\"");
    expect_error("bad-missing-id", "test.conf", "13: signatures[1]: missing required key \"id\"");
    expect_error("bad-empty-signatures", "test.conf", "4: signatures: empty list");
    expect_error("bad-not-group", "test.conf",
                 "4: signatures[0]: expected a group { ... }, found a string");
    expect_error("bad-syntax", "test.conf", "7: syntax error");
}

static void test_errors_without_line(void **state)
{
    char want[2048];

    (void)state;
    /* a missing top-level key has no line */
    errbuf[0] = '\0';
    assert_null(sig_pack_load(data_path("bad-no-vendor"), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s/test.conf: missing required key \"vendor\"",
             data_path("bad-no-vendor"));
    assert_string_equal(errbuf, want);
    assert_null(sig_pack_load(data_path("bad-no-signatures"), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s/test.conf: missing required key \"signatures\"",
             data_path("bad-no-signatures"));
    assert_string_equal(errbuf, want);

    /* a folder without *.conf, a missing folder, a file for a folder */
    assert_null(sig_pack_load(data_path("empty"), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s: no *.conf file in the signature folder", data_path("empty"));
    assert_string_equal(errbuf, want);
    assert_null(sig_pack_load(data_path("no-such-folder"), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s: cannot read the signature folder: No such file or directory",
             data_path("no-such-folder"));
    assert_string_equal(errbuf, want);
    assert_null(sig_pack_load(data_path("good/10-fortinet.conf"), errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want), "%s: cannot read the signature folder: Not a directory",
             data_path("good/10-fortinet.conf"));
    assert_string_equal(errbuf, want);
    assert_null(sig_pack_load("", errbuf, sizeof(errbuf)));
    assert_null(sig_pack_load(NULL, errbuf, sizeof(errbuf)));
    /* no errbuf at all is fine */
    assert_null(sig_pack_load(data_path("bad-id"), NULL, 0));
}

static void test_duplicate_ids(void **state)
{
    char rest[1200];

    (void)state;
    snprintf(rest, sizeof(rest),
             "14: duplicate signature id \"t-one\" (first defined at %s/a.conf:6)",
             data_path("bad-duplicate-id"));
    expect_error("bad-duplicate-id", "b.conf", rest);
}

/* What the loader says a certificate name pattern is. */
#define CERT_PATTERN_HELP                                                                          \
    "attributes KEY=value joined by \", \" (O=Fortinet, OU=FortiGate), KEY one of C, ST, L, O, "   \
    "OU, CN, a value whole, *.name or ending in *"

static void test_errors_inline(void **state)
{
    char dir[1024], rest[1200];

    (void)state;
    /* ports */
    expect_inline("    ports = [ \"tcp/0\" ];\n",
                  "10: ports[0]: \"tcp/0\" is not tcp/N or udp/N with N 1..65535");
    expect_inline("    ports = [ \"sctp/5\" ];\n",
                  "10: ports[0]: \"sctp/5\" is not tcp/N or udp/N with N 1..65535");
    expect_inline("    ports = [ \"TCP/80\" ];\n",
                  "10: ports[0]: \"TCP/80\" is not tcp/N or udp/N with N 1..65535");
    expect_inline("    ports = [ \"tcp/\" ];\n",
                  "10: ports[0]: \"tcp/\" is not tcp/N or udp/N with N 1..65535");
    expect_inline("    ports = [ \"tcp/080\" ];\n",
                  "10: ports[0]: \"tcp/080\" is not tcp/N or udp/N with N 1..65535");
    expect_inline("    ports = [ \"udp/1\", \"tcp/65535\" ];\n", NULL);
    expect_inline("    ports = [ 443 ];\n", "10: ports[0]: expected a string, found an integer");

    /* AS numbers */
    expect_inline("    asns = [ -1 ];\n", "10: integer -1 is out of range 1..4294967295");
    expect_inline("    asns = [ 99999999999 ];\n",
                  "10: integer 99999999999 is out of range 1..4294967295");
    expect_inline("    asns = [ 4294967296L ];\n",
                  "10: asns[0]: 4294967296 is out of range 1..4294967295");
    expect_inline("    asns = [ -5L ];\n", "10: asns[0]: -5 is out of range 1..4294967295");
    expect_inline("    asns = [ \"40934\" ];\n",
                  "10: asns[0]: expected an integer, found a string");
    expect_inline("    asns = ( 1, 2.5 );\n", "10: asns[1]: expected an integer, found a float");
    expect_inline("    asns = [ 1, 4294967295, 0xFFFFFFFE ];\n", NULL);
    expect_inline("    asns = [ 1L, 4294967295L ];\n", NULL);
    expect_inline("    asns = [ 7, 7 ];\n", "10: asns[1]: 7 repeats an earlier entry");

    /* strings and lists */
    expect_inline("    ja3 = [ \"e4d448cdfe06dc1243c1eb026c74ac9\" ];\n",
                  "10: ja3[0]: \"e4d448cdfe06dc1243c1eb026c74ac9\" is not 32 lower-case hex "
                  "digits");
    expect_inline("    ja3 = [ \"e4d448cdfe06dc1243c1eb026c74ac9ag\" ];\n",
                  "10: ja3[0]: \"e4d448cdfe06dc1243c1eb026c74ac9ag\" is not 32 lower-case hex "
                  "digits");
    expect_inline("    dissector = [ \"Forti Guard\" ];\n",
                  "10: dissector[0]: \"Forti Guard\" is not a dissector name (1..64 lower-case "
                  "letters, digits, '-' and '_')");
    expect_inline("    http_host = [ \"*.*.example.com\" ];\n",
                  "10: http_host[0]: invalid domain pattern \"*.*.example.com\": '*' is "
                  "allowed only as \"*.name\" or \"prefix*.name\"");
    expect_inline("    http_host = [ \"a b.com\" ];\n",
                  "10: http_host[0]: invalid domain pattern \"a b.com\": byte 0x20 is not "
                  "allowed");
    expect_inline("    cidrs = [ \"2001:db8::/129\" ];\n",
                  "10: cidrs[0]: invalid prefix \"2001:db8::/129\": prefix length /129 exceeds "
                  "/128 for IPv6");
    expect_inline("    cidrs = [ \"\" ];\n", "10: cidrs[0]: empty string");
    expect_inline("    http_path = [ ];\n", "10: http_path: empty (leave the key out)");
    expect_inline("    http_user_agent = [ \"a\\tb\" ];\n",
                  "10: http_user_agent[0]: contains a control character");
    expect_inline("    note = 5;\n", "10: note: expected a string, found an integer");
    expect_inline("    note = \"\";\n", NULL);
    expect_inline("    cert_issuer = { cn = \"x\"; };\n",
                  "10: cert_issuer: expected an array [ ... ], found a group");

    /* repeats within one list, after normalisation */
    expect_inline("    http_host = [ \"a.example.com\", \"A.Example.COM.\" ];\n",
                  "10: http_host[1]: \"A.Example.COM.\" repeats an earlier entry");
    expect_inline("    cidrs = [ \"192.0.2.0/24\", \"192.0.2.0/024\" ];\n",
                  "10: cidrs[1]: \"192.0.2.0/024\" repeats an earlier entry");
    expect_inline("    cert_subject = [ \"o=Fortinet\" ];\n",
                  "10: cert_subject[0]: \"o=Fortinet\" is not a certificate name "
                  "pattern: " CERT_PATTERN_HELP);
    expect_inline("    cert_subject = [ \"O=X\", \"O=x\" ];\n",
                  "10: cert_subject[1]: \"O=x\" repeats an earlier entry");
    /* the same pattern in domains and http_host, or in two signatures: fine */
    expect_inline("    http_host = [ \"a.example.com\" ];\n", NULL);

    /* keys out of place */
    expect_inline("    vendor = \"Test\";\n",
                  "10: unknown key \"vendor\" (vendor and signatures are set once per file, at "
                  "the top)");
    expect_inline("    ja5 = [ \"x\" ];\n", "10: unknown key \"ja5\" (did you mean \"ja3\"?)");
    expect_inline("    ja4 = [ \"x\" ];\n",
                  "10: ja4[0]: \"x\" is not a JA4 (t13d1516h2_8daaf6152771_e5627efa2ab1: 10 "
                  "characters, '_', 12 and 12 lower-case hex digits)");
    expect_inline("    ja4 = [ \"t12i220700_0D4CA5D4EC72_3304d8368043\" ];\n",
                  "10: ja4[0]: \"t12i220700_0D4CA5D4EC72_3304d8368043\" is not a JA4 "
                  "(t13d1516h2_8daaf6152771_e5627efa2ab1: 10 characters, '_', 12 and 12 "
                  "lower-case hex digits)");
    expect_inline("    ja4 = [ \"t12i220700_0d4ca5d4ec72_3304d8368043\" ];\n", NULL);
    expect_inline("    ja3s = [ \"0DEBD3853F330C574B05E0B6D882DC27\" ];\n",
                  "10: ja3s[0]: \"0DEBD3853F330C574B05E0B6D882DC27\" is not 32 lower-case hex "
                  "digits");
    expect_inline("    app = [ \"Forti Client\" ];\n",
                  "10: app[0]: \"Forti Client\" is not an nDPI protocol name (letters, digits, "
                  "'_', '-', at most 63)");
    expect_inline("    app = [ \"FortiClient\" ];\n    app_guessed = true;\n", NULL);
    expect_inline("    app_guessed = \"yes\";\n",
                  "10: app_guessed: expected true or false, found a string");
    expect_inline("    app_guessed = true;\n", "3: signature \"t-one\": app_guessed without app");
    expect_inline("    role = \"gateway\";\n",
                  "10: role: \"gateway\" is not one of client, server, peers");
    expect_inline("    relation = \"owns\";\n",
                  "10: relation: \"owns\" is not one of is, runs, uses");
    expect_inline("    device = \"fortinet-serial\";\n",
                  "3: signature \"t-one\": device = \"fortinet-serial\" reads the certificate: "
                  "add cert_subject or cert_issuer");
    expect_inline("    device = \"dissector\";\n",
                  "3: signature \"t-one\": device = \"dissector\" without dissector");
    /* certificate patterns are attributes, not substrings */
    expect_inline("    cert_subject = [ \".cloudsink.net\" ];\n",
                  "10: cert_subject[0]: \".cloudsink.net\" is not a certificate name "
                  "pattern: " CERT_PATTERN_HELP);
    expect_inline(
        "    cert_subject = [ \"O=\" ];\n",
        "10: cert_subject[0]: \"O=\" is not a certificate name pattern: " CERT_PATTERN_HELP);
    expect_inline("    cert_subject = [ \"O=VMware, Inc., OU=VMware ESX Server Default "
                  "Certificate\" ];\n",
                  NULL);
    expect_inline("    colour = \"blue\";\n", "10: unknown key \"colour\"");
    expect_file("vendor = \"Test\";\ndomains = [ \"a.example.com\" ];\n",
                "2: unknown key \"domains\" (it belongs in a signature, inside signatures = ( { "
                "... } ))");
    expect_file("vendor = \"\";\nsignatures = ( );\n", "1: vendor: must not be empty");
    expect_file("vendor = \"Test\";\nsignatures = [ ];\n",
                "2: signatures: expected a list ( { ... }, ... ), found an array");
    expect_file("vendor = \"Test\";\nsignatures = { };\n",
                "2: signatures: expected a list ( { ... }, ... ), found a group");
    expect_file(PACK_HEAD "    product = \"Again\";\n" PACK_TAIL, "10: duplicate setting name");

    /* ids */
    write_temp(dir, sizeof(dir), "vendor = \"Test\";\nsignatures = ( { id = \"\"; } );\n");
    assert_null(sig_pack_load(dir, errbuf, sizeof(errbuf)));
    snprintf(rest, sizeof(rest),
             "%s/test.conf:2: id: \"\" is not a valid id (1..64 lower-case letters, digits and "
             "'-')",
             dir);
    assert_string_equal(errbuf, rest);
    remove_temp(dir);
    write_temp(dir, sizeof(dir),
               "vendor = \"Test\";\nsignatures = ( { id = "
               "\"a123456789b123456789c123456789d123456789e123456789f123456789g1234\"; } );\n");
    assert_null(sig_pack_load(dir, errbuf, sizeof(errbuf)));
    assert_non_null(strstr(errbuf, "test.conf:2: id: \"a123456789"));
    remove_temp(dir);
}

/* The duplicate in one file names the line of the first. */
static void test_duplicate_id_same_file(void **state)
{
    char dir[1024], want[4096];

    (void)state;
    write_temp(dir, sizeof(dir),
               PACK_HEAD "  },\n  {\n    id = \"t-one\";\n    product = \"P\";\n" PACK_TAIL);
    assert_null(sig_pack_load(dir, errbuf, sizeof(errbuf)));
    snprintf(want, sizeof(want),
             "%s/test.conf:12: duplicate signature id \"t-one\" (first defined at "
             "%s/test.conf:4)",
             dir, dir);
    assert_string_equal(errbuf, want);
    remove_temp(dir);
}

/* The real pack, once there is one. */
static void test_shipped_pack(void **state)
{
    char dir[1024];
    struct sig_pack *p;
    struct dirent *e;
    DIR *d;
    int any = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/../config/signatures", srcdir());
    d = opendir(dir);
    if (d == NULL)
        skip();
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);

        if (n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0)
            any = 1;
    }
    closedir(d);
    if (!any)
        skip();
    p = sig_pack_load(dir, errbuf, sizeof(errbuf));
    if (p == NULL)
        fail_msg("%s", errbuf);
    assert_true(sig_pack_count(p) > 0);
    sig_pack_free(p);
}

/* ---------------------------------------------------------------- matching */

static uint8_t addr_buf[16];

/* A flow with nothing known: TCP to port 443, no address, no metadata. */
static struct sig_flow flow_none(void)
{
    struct sig_flow f;

    memset(&f, 0, sizeof(f));
    f.ipver = 4;
    f.proto = IPPROTO_TCP;
    f.dport = 443;
    f.tls_sni = f.quic_sni = f.http_host = f.http_path = f.http_ua = "";
    f.dns_name = f.cert_subject = f.cert_issuer = f.ja3 = "";
    return f;
}

static void set_addr(struct sig_flow *f, const char *text)
{
    if (inet_pton(AF_INET, text, addr_buf) == 1) {
        f->ipver = 4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, addr_buf), 1);
        f->ipver = 6;
    }
    f->daddr = addr_buf;
}

static void set_port(struct sig_flow *f, uint8_t proto, uint16_t port)
{
    f->proto = proto;
    f->dport = port;
}

static void expect_hit(const struct sig_hit *h, const char *id, int confidence, size_t n_ev)
{
    assert_non_null(h->sig);
    assert_string_equal(h->sig->id, id);
    assert_string_equal(sig_confidence_name(h->confidence), sig_confidence_name(confidence));
    assert_int_equal(h->n_ev, n_ev);
}

static void expect_ev(const struct sig_hit *h, size_t i, int kind, const char *value,
                      const char *pattern)
{
    assert_true(i < h->n_ev);
    assert_string_equal(sig_evidence_name(h->ev[i].kind), sig_evidence_name(kind));
    assert_string_equal(h->ev[i].value, value);
    assert_string_equal(h->ev[i].pattern, pattern);
}

static void test_match_name_sources(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f;

    (void)state;
    f = flow_none();
    f.tls_sni = "update.fortiguard.net";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-update", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_TLS_SNI, "update.fortiguard.net", "update.fortiguard.net");

    f = flow_none();
    f.quic_sni = "X.FortiGuard.net";
    set_port(&f, IPPROTO_UDP, 443);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-update", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_QUIC_SNI, "X.FortiGuard.net", "*.fortiguard.net");

    f = flow_none();
    f.http_host = "fortiguard.net";
    set_port(&f, IPPROTO_TCP, 80);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-update", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_HTTP_HOST, "fortiguard.net", "*.fortiguard.net");

    f = flow_none();
    f.dns_name = "update.fortiguard.net.";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-update", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_DNS_NAME, "update.fortiguard.net.", "update.fortiguard.net");

    /* several sources: one hit, one piece of evidence per source */
    f = flow_none();
    f.tls_sni = "update.fortiguard.net";
    f.dns_name = "cdn.fortiguard.net";
    f.http_host = "myfortiguard.net";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-update", SIG_CONF_HIGH, 2);
    expect_ev(&h[0], 0, SIG_EV_TLS_SNI, "update.fortiguard.net", "update.fortiguard.net");
    expect_ev(&h[0], 1, SIG_EV_DNS_NAME, "cdn.fortiguard.net", "*.fortiguard.net");

    /* http_host is checked against the HTTP Host only */
    f = flow_none();
    f.http_host = "CWS.checkpoint.com";
    set_port(&f, IPPROTO_TCP, 80);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-cloud", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_HTTP_HOST, "CWS.checkpoint.com", "cws.checkpoint.com");
    f = flow_none();
    f.tls_sni = "cws.checkpoint.com";
    f.dns_name = "cws.checkpoint.com";
    set_port(&f, IPPROTO_TCP, 8443);
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* no match off label boundaries */
    f = flow_none();
    f.tls_sni = "myfortiguard.net";
    f.dns_name = "fortiguard.net.example.org";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    sig_pack_free(p);
}

static void test_match_ports(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f = flow_none();

    (void)state;
    /* cp-tls lists tcp/443, cp-telemetry no ports */
    f.tls_sni = "telemetry.checkpoint.com";
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_hit(&h[0], "cp-telemetry", SIG_CONF_HIGH, 1);
    expect_hit(&h[1], "cp-tls", SIG_CONF_HIGH, 2);
    expect_ev(&h[1], 0, SIG_EV_TLS_SNI, "telemetry.checkpoint.com", "*.checkpoint.com");
    expect_ev(&h[1], 1, SIG_EV_PORT, "tcp/443", "tcp/443");

    set_port(&f, IPPROTO_TCP, 8443);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-telemetry", SIG_CONF_HIGH, 1);
    set_port(&f, IPPROTO_UDP, 443); /* the port, but not the transport */
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-telemetry", SIG_CONF_HIGH, 1);
    set_port(&f, IPPROTO_ICMP, 0);
    assert_int_equal(sig_match(p, &f, h, 4), 1);

    /* dissector verdict on a listed port (fn-rating: udp/8888, udp/53) */
    f = flow_none();
    f.verdicts = (const char *const[]){"other", "fortiguard-rating"};
    f.n_verdicts = 2;
    set_port(&f, IPPROTO_UDP, 8888);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-rating", SIG_CONF_HIGH, 2);
    expect_ev(&h[0], 0, SIG_EV_DISSECTOR, "fortiguard-rating", "fortiguard-rating");
    expect_ev(&h[0], 1, SIG_EV_PORT, "udp/8888", "udp/8888");
    set_port(&f, IPPROTO_TCP, 8888);
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    sig_pack_free(p);
}

static void test_match_confidence(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f;

    (void)state;
    /* JA3: medium */
    f = flow_none();
    f.ja3 = "e4d448cdfe06dc1243c1eb026c74ac9a";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-ja3", SIG_CONF_MEDIUM, 1);
    expect_ev(&h[0], 0, SIG_EV_JA3, "e4d448cdfe06dc1243c1eb026c74ac9a",
              "e4d448cdfe06dc1243c1eb026c74ac9a");
    f.ja3 = "E4D448CDFE06DC1243C1EB026C74AC9A"; /* exact */
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* CIDR and a listed port: medium; a CIDR of a signature without ports:
     * low, with its most specific prefix */
    f = flow_none();
    set_addr(&f, "192.0.2.10");
    set_port(&f, IPPROTO_TCP, 541);
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_hit(&h[0], "fn-mgmt", SIG_CONF_MEDIUM, 2);
    expect_ev(&h[0], 0, SIG_EV_CIDR, "192.0.2.10", "192.0.2.0/24");
    expect_ev(&h[0], 1, SIG_EV_PORT, "tcp/541", "tcp/541");
    expect_hit(&h[1], "fn-wide", SIG_CONF_LOW, 1);
    expect_ev(&h[1], 0, SIG_EV_CIDR, "192.0.2.10", "192.0.0.0/16");
    set_addr(&f, "192.0.2.200");
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_ev(&h[0], 0, SIG_EV_CIDR, "192.0.2.200", "192.0.2.0/24");
    expect_ev(&h[1], 0, SIG_EV_CIDR, "192.0.2.200", "192.0.2.128/25");
    set_port(&f, IPPROTO_TCP, 80); /* fn-mgmt needs tcp/541 */
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-wide", SIG_CONF_LOW, 1);
    set_addr(&f, "192.0.3.1");
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-wide", SIG_CONF_LOW, 1);
    set_addr(&f, "192.1.0.1");
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* a CIDR and a dissector of one signature: high, all the evidence */
    f = flow_none();
    set_addr(&f, "198.51.100.7");
    set_port(&f, IPPROTO_UDP, 53);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-rating", SIG_CONF_MEDIUM, 2);
    f.verdicts = (const char *const[]){"fortiguard-rating"};
    f.n_verdicts = 1;
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-rating", SIG_CONF_HIGH, 3);
    expect_ev(&h[0], 0, SIG_EV_DISSECTOR, "fortiguard-rating", "fortiguard-rating");
    expect_ev(&h[0], 1, SIG_EV_CIDR, "198.51.100.7", "198.51.100.0/24");
    expect_ev(&h[0], 2, SIG_EV_PORT, "udp/53", "udp/53");

    /* AS number: low; two signatures share AS40934 */
    f = flow_none();
    f.asn = 40934;
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_hit(&h[0], "fn-asn", SIG_CONF_LOW, 1);
    expect_ev(&h[0], 0, SIG_EV_ASN, "AS40934", "AS40934");
    expect_hit(&h[1], "cp-telemetry", SIG_CONF_LOW, 1);
    f.asn = 40935; /* another AS */
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.asn = 4294967295u;
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_hit(&h[0], "cp-telemetry", SIG_CONF_LOW, 1);
    expect_ev(&h[0], 0, SIG_EV_ASN, "AS4294967295", "AS4294967295");
    expect_hit(&h[1], "cp-big-asn", SIG_CONF_LOW, 1);
    f.asn = 2147483648u;
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-big-asn", SIG_CONF_LOW, 1);
    sig_pack_free(p);
}

static void test_match_http_and_cert(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f;

    (void)state;
    f = flow_none();
    set_port(&f, IPPROTO_TCP, 80);
    f.http_path = "/fgdsvc/v2?q=1";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-cloud", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_HTTP_PATH, "/fgdsvc/v2?q=1", "/fgdsvc");
    f.http_path = "/FGDSVC"; /* case-sensitive */
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.http_path = "/x/fgdsvc"; /* a prefix */
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    f = flow_none();
    f.http_ua = "Mozilla/5.0 ess UPDATE (Windows)";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_ev(&h[0], 0, SIG_EV_HTTP_UA, "Mozilla/5.0 ess UPDATE (Windows)", "ESS Update (");
    f.http_ua = "ESS Update";
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    f = flow_none();
    f.cert_subject = "C=IL, O=CHECK POINT, CN=x"; /* the attribute, whole, in any case */
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_ev(&h[0], 0, SIG_EV_CERT_SUBJECT, "C=IL, O=CHECK POINT, CN=x", "O=Check Point");
    f.cert_subject = "O=CheckPoint";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* a company whose name merely begins with the vendor's is not the vendor */
    f.cert_subject = "C=IL, O=Check Point Software Look-alike Ltd, CN=x";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* nor a host name that mentions it */
    f.cert_subject = "C=US, CN=O=Check Point.example.com";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f = flow_none();
    f.cert_issuer = "C=IL, O=check point, OU=certificate authority, CN=y";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_ev(&h[0], 0, SIG_EV_CERT_ISSUER, f.cert_issuer,
              "O=Check Point, OU=Certificate Authority");

    /* everything at once: one hit, evidence in a fixed order */
    f = flow_none();
    set_port(&f, IPPROTO_TCP, 80);
    f.http_host = "cws.checkpoint.com";
    f.http_path = "/fgdsvc";
    f.http_ua = "ESS Update (1)";
    f.cert_subject = "O=Check Point";
    f.cert_issuer = "O=Check Point, OU=Certificate Authority";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cp-cloud", SIG_CONF_HIGH, 5);
    expect_ev(&h[0], 0, SIG_EV_HTTP_HOST, "cws.checkpoint.com", "cws.checkpoint.com");
    expect_ev(&h[0], 1, SIG_EV_HTTP_PATH, "/fgdsvc", "/fgdsvc");
    expect_ev(&h[0], 2, SIG_EV_HTTP_UA, "ESS Update (1)", "ESS Update (");
    expect_ev(&h[0], 3, SIG_EV_CERT_SUBJECT, "O=Check Point", "O=Check Point");
    expect_ev(&h[0], 4, SIG_EV_CERT_ISSUER, f.cert_issuer, f.cert_issuer);
    sig_pack_free(p);
}

static void test_match_cidr_overlap(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f = flow_none();

    (void)state;
    /* IPv6: 2001:db8:40::/48 (fn-mgmt, tcp/541) inside 2001:db8::/32 */
    set_addr(&f, "2001:db8:40::1");
    set_port(&f, IPPROTO_TCP, 541);
    assert_int_equal(sig_match(p, &f, h, 4), 2);
    expect_hit(&h[0], "fn-mgmt", SIG_CONF_MEDIUM, 2);
    expect_ev(&h[0], 0, SIG_EV_CIDR, "2001:db8:40::1", "2001:db8:40::/48");
    expect_hit(&h[1], "fn-wide", SIG_CONF_LOW, 1);
    expect_ev(&h[1], 0, SIG_EV_CIDR, "2001:db8:40::1", "2001:db8::/32");
    set_addr(&f, "2001:db8:41::1");
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-wide", SIG_CONF_LOW, 1);
    set_addr(&f, "2001:db9::1");
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* the IPv4 prefixes are not IPv6 ones */
    set_addr(&f, "::ffff:192.0.2.10");
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    sig_pack_free(p);
}

static void test_match_nothing(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f = flow_none();

    (void)state;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    set_addr(&f, "203.0.113.9");
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.asn = 64500;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* NULL strings are taken as absent */
    f.tls_sni = f.quic_sni = f.http_host = f.http_path = f.http_ua = NULL;
    f.dns_name = f.cert_subject = f.cert_issuer = f.ja3 = NULL;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    assert_int_equal(sig_match(NULL, &f, h, 4), 0);
    assert_int_equal(sig_match(p, NULL, h, 4), 0);
    sig_pack_free(p);
}

static void test_match_order_and_max(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[8], small[3];
    struct sig_flow f = flow_none();
    size_t i, j;

    (void)state;
    /* cp-telemetry and cp-tls by name (high), fn-ja3 (medium), fn-asn and
     * fn-wide (low); cp-telemetry also by AS; fn-mgmt is not on tcp/443 */
    f.tls_sni = "telemetry.checkpoint.com";
    f.ja3 = "e4d448cdfe06dc1243c1eb026c74ac9a";
    f.asn = 40934;
    set_addr(&f, "192.0.2.10");
    memset(h, 0xa5, sizeof(h));
    assert_int_equal(sig_match(p, &f, h, 8), 5);
    expect_hit(&h[0], "cp-telemetry", SIG_CONF_HIGH, 2);
    expect_ev(&h[0], 0, SIG_EV_TLS_SNI, "telemetry.checkpoint.com", "telemetry.checkpoint.com");
    expect_ev(&h[0], 1, SIG_EV_ASN, "AS40934", "AS40934");
    expect_hit(&h[1], "cp-tls", SIG_CONF_HIGH, 2);
    expect_hit(&h[2], "fn-ja3", SIG_CONF_MEDIUM, 1);
    expect_hit(&h[3], "fn-asn", SIG_CONF_LOW, 1);
    expect_hit(&h[4], "fn-wide", SIG_CONF_LOW, 1);
    expect_ev(&h[4], 0, SIG_EV_CIDR, "192.0.2.10", "192.0.0.0/16");
    /* formatted values live in the hit that holds them, even after moves */
    for (i = 0; i < 5; i++)
        for (j = 0; j < h[i].n_ev; j++)
            if (h[i].ev[j].kind == SIG_EV_CIDR || h[i].ev[j].kind == SIG_EV_ASN ||
                h[i].ev[j].kind == SIG_EV_PORT)
                assert_ptr_equal(h[i].ev[j].value, h[i].ev[j].text);
    /* slots beyond the hits are not written */
    assert_int_equal(((unsigned char *)&h[5])[0], 0xa5);

    /* fewer slots than hits: the strongest, and the count of all */
    memset(small, 0, sizeof(small));
    assert_int_equal(sig_match(p, &f, small, 3), 5);
    expect_hit(&small[0], "cp-telemetry", SIG_CONF_HIGH, 2);
    expect_hit(&small[1], "cp-tls", SIG_CONF_HIGH, 2);
    expect_hit(&small[2], "fn-ja3", SIG_CONF_MEDIUM, 1);
    assert_ptr_equal(small[0].ev[1].value, small[0].ev[1].text);
    assert_int_equal(sig_match(p, &f, small, 1), 5);
    expect_hit(&small[0], "cp-telemetry", SIG_CONF_HIGH, 2);
    assert_int_equal(sig_match(p, &f, NULL, 0), 5);
    assert_int_equal(sig_match(p, &f, NULL, 3), 5);

    /* without the name, ja3 leads */
    f.tls_sni = "";
    assert_int_equal(sig_match(p, &f, small, 3), 4);
    expect_hit(&small[0], "fn-ja3", SIG_CONF_MEDIUM, 1);
    expect_hit(&small[1], "fn-asn", SIG_CONF_LOW, 1);
    expect_hit(&small[2], "fn-wide", SIG_CONF_LOW, 1); /* ties in pack order */
    sig_pack_free(p);
}

static void test_hit_copy(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[2], copy;
    struct sig_flow f = flow_none();

    (void)state;
    set_addr(&f, "192.0.2.10");
    set_port(&f, IPPROTO_TCP, 541);
    assert_int_equal(sig_match(p, &f, h, 2), 2);
    sig_hit_copy(&copy, &h[0]);
    assert_ptr_equal(copy.ev[0].value, copy.ev[0].text);
    assert_string_equal(copy.ev[0].value, "192.0.2.10");
    assert_ptr_equal(copy.ev[0].pattern, h[0].ev[0].pattern);
    sig_hit_copy(&copy, &copy);
    assert_string_equal(copy.ev[1].value, "tcp/541");
    sig_pack_free(p);
}

static void test_hostile_flow(void **state)
{
    struct sig_pack *p = load_good();
    struct sig_hit h[4];
    struct sig_flow f = flow_none();
    char big[4096];
    unsigned b;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    f.tls_sni = f.quic_sni = f.http_host = f.http_path = f.http_ua = big;
    f.dns_name = f.cert_subject = f.cert_issuer = f.ja3 = big;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    for (b = 1; b < 256; b++) {
        memset(big, (int)b, 300);
        big[300] = '\0';
        sig_match(p, &f, h, 4);
        snprintf(big, sizeof(big), "%c.fortiguard.net", (char)b);
        sig_match(p, &f, h, 4);
    }
    strcpy(big, "\xff\x80.fortiguard.net");
    f = flow_none();
    f.tls_sni = big;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* an unknown IP version, or no address, is no address */
    f = flow_none();
    f.ipver = 5;
    f.daddr = addr_buf;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.ipver = 4;
    f.daddr = NULL;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.verdicts = (const char *const[]){NULL, ""};
    f.n_verdicts = 2;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    /* a count without an array is no verdict, even for a candidate found by
     * its address */
    f.verdicts = NULL;
    f.n_verdicts = 3;
    set_addr(&f, "198.51.100.7");
    set_port(&f, IPPROTO_UDP, 8888);
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fn-rating", SIG_CONF_MEDIUM, 2);
    sig_pack_free(p);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sig_category_name(SIG_CAT_UPDATE), "update");
    assert_string_equal(sig_category_name(SIG_CAT_TELEMETRY), "telemetry");
    assert_string_equal(sig_category_name(SIG_CAT_THREAT_LOOKUP), "threat-lookup");
    assert_string_equal(sig_category_name(SIG_CAT_LICENSING), "licensing");
    assert_string_equal(sig_category_name(SIG_CAT_MANAGEMENT), "management");
    assert_string_equal(sig_category_name(SIG_CAT_REMOTE_ACCESS), "remote-access");
    assert_string_equal(sig_category_name(SIG_CAT_MAX), "unknown");
    assert_string_equal(sig_category_name(-1), "unknown");
    assert_string_equal(sig_severity_name(SIG_SEV_LOW), "low");
    assert_string_equal(sig_severity_name(SIG_SEV_MEDIUM), "medium");
    assert_string_equal(sig_severity_name(SIG_SEV_HIGH), "high");
    assert_string_equal(sig_severity_name(SIG_SEV_CRITICAL), "critical");
    assert_string_equal(sig_severity_name(SIG_SEV_MAX), "unknown");
    assert_string_equal(sig_confidence_name(SIG_CONF_LOW), "low");
    assert_string_equal(sig_confidence_name(SIG_CONF_MEDIUM), "medium");
    assert_string_equal(sig_confidence_name(SIG_CONF_HIGH), "high");
    assert_string_equal(sig_confidence_name(3), "unknown");
    assert_string_equal(sig_evidence_name(SIG_EV_TLS_SNI), "tls_sni");
    assert_string_equal(sig_evidence_name(SIG_EV_QUIC_SNI), "quic_sni");
    assert_string_equal(sig_evidence_name(SIG_EV_HTTP_HOST), "http_host");
    assert_string_equal(sig_evidence_name(SIG_EV_DNS_NAME), "dns_name");
    assert_string_equal(sig_evidence_name(SIG_EV_HTTP_PATH), "http_path");
    assert_string_equal(sig_evidence_name(SIG_EV_HTTP_UA), "http_user_agent");
    assert_string_equal(sig_evidence_name(SIG_EV_CERT_SUBJECT), "cert_subject");
    assert_string_equal(sig_evidence_name(SIG_EV_CERT_ISSUER), "cert_issuer");
    assert_string_equal(sig_evidence_name(SIG_EV_JA3), "ja3");
    assert_string_equal(sig_evidence_name(SIG_EV_DISSECTOR), "dissector");
    assert_string_equal(sig_evidence_name(SIG_EV_CIDR), "cidr");
    assert_string_equal(sig_evidence_name(SIG_EV_ASN), "asn");
    assert_string_equal(sig_evidence_name(SIG_EV_PORT), "port");
    assert_string_equal(sig_evidence_name(SIG_EV_MAX), "unknown");
}

/* A pack of the identification evidence: roles, nDPI labels, JA4 and
 * JA3S, certificate attributes (FortiGate, ESXi, CrowdStrike's CN). */
static const char ident_pack[] =
    "vendor = \"Fortinet\";\n"
    "signatures = (\n"
    "  { id = \"fgt-cert\"; product = \"FortiGate\"; category = \"management\";\n"
    "    severity = \"medium\"; source = \"t\"; role = \"server\"; device = "
    "\"fortinet-serial\";\n"
    "    cert_subject = [ \"O=Fortinet, OU=FortiGate\" ]; },\n"
    "  { id = \"fct\"; product = \"FortiClient\"; category = \"remote-access\";\n"
    "    severity = \"medium\"; source = \"t\";\n"
    "    ja4 = [ \"t12i220700_0d4ca5d4ec72_3304d8368043\" ];\n"
    "    app = [ \"FortiClient\" ]; },\n"
    "  { id = \"ccp\"; product = \"ClusterXL\"; category = \"management\";\n"
    "    severity = \"low\"; source = \"t\"; role = \"peers\"; relation = \"is\";\n"
    "    app = [ \"CPHA\" ]; },\n"
    "  { id = \"esxi\"; product = \"ESXi\"; category = \"management\";\n"
    "    severity = \"low\"; source = \"t\"; role = \"server\";\n"
    "    cert_subject = [ \"O=VMware, Inc., OU=VMware ESX Server Default Certificate\" ]; },\n"
    "  { id = \"cs\"; product = \"Falcon\"; category = \"telemetry\";\n"
    "    severity = \"low\"; source = \"t\";\n"
    "    cert_subject = [ \"CN=*.cloudsink.net\" ]; ja3s = [ "
    "\"0debd3853f330c574b05e0b6d882dc27\" ]; }\n"
    ");\n";

static void test_match_identification(void **state)
{
    char dir[1024];
    struct sig_hit h[4];
    struct sig_flow f;
    (void)state;
    write_temp(dir, sizeof(dir), ident_pack);
    struct sig_pack *p = sig_pack_load(dir, errbuf, sizeof(errbuf));
    if (p == NULL)
        fail_msg("%s", errbuf);
    const struct signature *s = sig_pack_find(p, "fgt-cert");
    assert_int_equal(s->role, SIG_ROLE_SERVER);
    assert_int_equal(s->relation, SIG_REL_IS); /* a server is the device */
    assert_int_equal(s->device, SIG_DEV_FORTINET_SERIAL);
    assert_int_equal(sig_pack_find(p, "fct")->relation, SIG_REL_RUNS); /* a client runs it */
    assert_int_equal(sig_pack_find(p, "ccp")->role, SIG_ROLE_PEERS);
    assert_string_equal(sig_role_name(SIG_ROLE_PEERS), "peers");
    assert_string_equal(sig_relation_name(SIG_REL_USES), "uses");

    /* the factory certificate of a FortiWiFi (nDPI's forticlient.pcap.out) */
    f = flow_none();
    f.cert_subject = "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, "
                     "CN=FWF60E4Q16012050, emailAddress=support@fortinet.com";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fgt-cert", SIG_CONF_HIGH, 1);
    /* look-alikes: another company, an OU that only begins the same way */
    f.cert_subject = "C=US, O=Fortinet Security Consulting GmbH, OU=FortiGate, CN=x";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.cert_subject = "C=US, O=Fortinet, OU=FortiGate Lab, CN=x";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.cert_subject = "CN=fortinet-fortigate.example.com";
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* a value with ", " inside: O=VMware, Inc. */
    f = flow_none();
    f.cert_subject = "C=US, ST=California, L=Palo Alto, O=VMware, Inc., OU=VMware ESX Server "
                     "Default Certificate, CN=localhost.localdomain";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "esxi", SIG_CONF_HIGH, 1);
    f.cert_subject = "O=VMware, OU=VMware ESX Server Default Certificate";
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* *.name in a value: the name itself or below it, labels whole */
    f = flow_none();
    f.cert_subject = "O=CrowdStrike, Inc., CN=ts01-b.cloudsink.net";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cs", SIG_CONF_HIGH, 1);
    f.cert_subject = "CN=ts01-b.notcloudsink.net";
    assert_int_equal(sig_match(p, &f, h, 4), 0);

    /* JA4 and JA3S: medium confidence */
    f = flow_none();
    f.ja4 = "t12i220700_0d4ca5d4ec72_3304d8368043";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fct", SIG_CONF_MEDIUM, 1);
    expect_ev(&h[0], 0, SIG_EV_JA4, f.ja4, f.ja4);
    f = flow_none();
    f.ja3s = "0debd3853f330c574b05e0b6d882dc27";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "cs", SIG_CONF_MEDIUM, 1);

    /* nDPI's label, either part, exactly; a guess by port is no evidence */
    f = flow_none();
    f.app_master = "FortiClient";
    f.app = "";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "fct", SIG_CONF_HIGH, 1);
    expect_ev(&h[0], 0, SIG_EV_APP, "FortiClient", "FortiClient");
    f.app_master = "TLS";
    f.app = "FortiClient";
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    f.app_master = "FortiClientX";
    f.app = "";
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f = flow_none();
    f.app_master = "CPHA";
    f.app_guessed = 1;
    assert_int_equal(sig_match(p, &f, h, 4), 0);
    f.app_guessed = 0;
    assert_int_equal(sig_match(p, &f, h, 4), 1);
    expect_hit(&h[0], "ccp", SIG_CONF_HIGH, 1);
    sig_pack_free(p);
    remove_temp(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_print_vendor),
        cmocka_unit_test(test_print_json),
        cmocka_unit_test(test_errors_in_files),
        cmocka_unit_test(test_errors_without_line),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_errors_inline),
        cmocka_unit_test(test_duplicate_id_same_file),
        cmocka_unit_test(test_shipped_pack),
        cmocka_unit_test(test_match_name_sources),
        cmocka_unit_test(test_match_ports),
        cmocka_unit_test(test_match_confidence),
        cmocka_unit_test(test_match_http_and_cert),
        cmocka_unit_test(test_match_identification),
        cmocka_unit_test(test_match_cidr_overlap),
        cmocka_unit_test(test_match_nothing),
        cmocka_unit_test(test_match_order_and_max),
        cmocka_unit_test(test_hit_copy),
        cmocka_unit_test(test_hostile_flow),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
