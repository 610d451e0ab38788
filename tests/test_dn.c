/* test_dn.c -- certificate names as nDPI 4.2 prints them, read attribute
 * by attribute (sensor/dn.c), on names from real captures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dn.h"

/* ------------------------------------------------------------ DN attributes */

/* dn_get(dn, key): found (value) or not (NULL). */
static void expect_attr(const char *dn, const char *key, bool found, const char *value)
{
    char out[256];
    strcpy(out, "stale");
    const char *v = dn_get(dn, key, out, sizeof(out));
    if (!found) {
        assert_null(v);
        return;
    }
    assert_ptr_equal(v, out);
    assert_string_equal(out, value);
}

/* Subjects and issuers as the sensor reports them (nDPI 4.2), from the
 * shared corpus and nDPI's forticlient.pcap result. */
static const char fortigate_subject[] =
    "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, CN=FWF60E4Q16012050";
static const char fortigate_issuer[] =
    "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=support";
/* long_tls_certificate.pcap */
static const char aliyun_subject[] =
    "C=CN, ST=ZheJiang, L=HangZhou, O=Alibaba (China) Technology Co., Ltd., CN=*.aliyun.com";
/* anyconnect-vpn.pcap: two OUs, ", " inside values */
static const char entrust_issuer[] =
    "C=US, O=Entrust, Inc., OU=See www.entrust.net/legal-terms, OU=(c) 2012 Entrust, Inc. - "
    "for authorized use only, CN=Entrust Certification Authority - L1K";
/* anyconnect-vpn.pcap: certificate order is not always C first */
static const char code42_subject[] = "CN=813845657003339838, O=Code42, OU=TEST, ST=MN, C=US";
/* selfsigned.pcap: no CN at all */
static const char ntop_subject[] = "C=IT, ST=Some-State, O=ntop.org";
/* whois.pcapng: the same CN twice */
static const char whois_subject[] = "CN=10.17.51.7, CN=10.17.51.7";
/* netflix.pcap: a string the sensor cut (its per-flow text budget) */
static const char netflix_issuer[] = "C=US, O=Symantec Corporation, OU=Symantec Trust Network,";

static void test_dn_corpus(void **state)
{
    (void)state;
    expect_attr(fortigate_subject, "CN", true, "FWF60E4Q16012050");
    expect_attr(fortigate_subject, "OU", true, "FortiGate");
    expect_attr(fortigate_subject, "O", true, "Fortinet");
    expect_attr(fortigate_subject, "C", true, "US");
    expect_attr(fortigate_subject, "ST", true, "California");
    expect_attr(fortigate_subject, "L", true, "Sunnyvale");
    expect_attr(fortigate_issuer, "OU", true, "Certificate Authority");
    expect_attr(fortigate_issuer, "CN", true, "support");

    expect_attr(aliyun_subject, "O", true, "Alibaba (China) Technology Co., Ltd.");
    expect_attr(aliyun_subject, "CN", true, "*.aliyun.com");
    expect_attr(aliyun_subject, "L", true, "HangZhou");

    expect_attr(entrust_issuer, "O", true, "Entrust, Inc.");
    expect_attr(entrust_issuer, "OU", true, "See www.entrust.net/legal-terms"); /* the first */
    expect_attr(entrust_issuer, "CN", true, "Entrust Certification Authority - L1K");

    expect_attr(code42_subject, "CN", true, "813845657003339838");
    expect_attr(code42_subject, "C", true, "US");
    expect_attr(code42_subject, "ST", true, "MN");

    expect_attr(ntop_subject, "CN", false, "");
    expect_attr(ntop_subject, "O", true, "ntop.org");
    expect_attr(whois_subject, "CN", true, "10.17.51.7");
    expect_attr(netflix_issuer, "OU", true, "Symantec Trust Network,");
    expect_attr(netflix_issuer, "CN", false, "");
}

static void test_dn_rules(void **state)
{
    (void)state;
    /* VMware's self-signed ESXi default: "O=VMware, Inc." keeps its comma */
    const char esxi[] = "C=US, ST=California, L=Palo Alto, O=VMware, Inc., OU=VMware ESX Server "
                        "Default Certificate, CN=localhost.localdomain";
    expect_attr(esxi, "O", true, "VMware, Inc.");
    expect_attr(esxi, "OU", true, "VMware ESX Server Default Certificate");
    expect_attr(esxi, "CN", true, "localhost.localdomain");
    /* ", " followed by text that is not one of nDPI's six keys stays in the
     * value: lower case, other keys, no '=' */
    expect_attr("O=Acme, Inc=x, CN=a.example", "O", true, "Acme, Inc=x");
    expect_attr("O=Acme, cn=x, CN=a.example", "O", true, "Acme, cn=x");
    expect_attr("O=Acme, DC=local, CN=a.example", "O", true, "Acme, DC=local");
    expect_attr("O=Acme, CN, CN=a.example", "O", true, "Acme, CN");
    expect_attr("O=A,CN=b", "O", true, "A,CN=b"); /* nDPI always writes ", " */
    /* keys compare whole and exactly */
    expect_attr(fortigate_subject, "cn", false, "");
    expect_attr(fortigate_subject, "OU=", false, "");
    expect_attr(fortigate_subject, "", false, "");
    expect_attr(fortigate_subject, "DC", false, "");
    expect_attr("OU=x, O=y", "O", true, "y");
    expect_attr("O=y, OU=x", "OU", true, "x");
    expect_attr("ST=x, C=y", "C", true, "y");
    /* empty values, and text before the first key */
    expect_attr("CN=, O=x", "CN", true, "");
    expect_attr("O=x, CN=", "CN", true, "");
    expect_attr("junk, CN=a", "CN", true, "a");
    expect_attr("junk CN=a", "CN", false, "");
    expect_attr("", "CN", false, "");
    /* a value that ends in ", " (a cut string) */
    expect_attr("O=x, ", "O", true, "x, ");
    /* nDPI cannot tell an injected attribute from a real one: the first
     * wins, as documented */
    expect_attr("O=Evil, CN=FGT60FTK21090001, CN=real.example", "CN", true, "FGT60FTK21090001");

    /* a value longer than the buffer is cut, still terminated */
    char small[4];
    assert_non_null(dn_get(fortigate_subject, "CN", small, sizeof(small)));
    assert_string_equal(small, "FWF");
    assert_null(dn_get(NULL, "CN", small, sizeof(small)));
}

/* Patterns against names: attribute by attribute, in any order, values
 * whole (ASCII case aside), *.name or a prefix. */
static bool matches(const char *pattern, const char *name)
{
    struct dn_attr p[16], n[32];
    size_t np = dn_parse(pattern, p, 16), nn = dn_parse(name, n, 32);
    return dn_match(p, np, n, nn);
}

static void test_dn_match(void **state)
{
    (void)state;
    assert_true(matches("O=Fortinet, OU=FortiGate", fortigate_subject));
    assert_true(matches("OU=FortiGate, O=Fortinet", fortigate_subject));
    assert_true(matches("o=fortinet", fortigate_subject) == false); /* keys are upper case */
    assert_true(matches("O=fortinet", fortigate_subject));
    assert_false(matches("O=Fortinet Sales", fortigate_subject));
    assert_false(matches("O=Fortinet, OU=FortiManager", fortigate_subject));
    assert_true(matches("CN=FWF60E*", fortigate_subject));
    assert_false(matches("CN=FGT*", fortigate_subject));
    assert_true(matches("CN=*.aliyun.com", aliyun_subject)); /* the literal "*.aliyun.com" */
    assert_true(matches("O=Entrust, Inc.", entrust_issuer));
    assert_true(matches("OU=(c) 2012 Entrust, Inc. - for authorized use only", entrust_issuer));
    /* a CN that only mentions a vendor is not its O */
    assert_false(matches("O=Fortinet", "CN=fortinet.example.com, O=Example Ltd"));
    assert_false(matches("", fortigate_subject));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dn_corpus),
        cmocka_unit_test(test_dn_rules),
        cmocka_unit_test(test_dn_match),
    };
    return cmocka_run_group_tests_name("dn", tests, NULL, NULL);
}
