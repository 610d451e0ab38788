/* test_device.c -- Fortinet serial numbers, certificate host names and
 * distinguished-name attributes (sensor/device.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "device.h"
#include "dn.h"

/* ------------------------------------------------------------ Fortinet serials */

static void expect_model(const char *serial, int level, const char *name)
{
    char out[64];
    memset(out, 'x', sizeof(out));
    assert_int_equal(dev_fortinet_model(serial, out, sizeof(out)), level);
    assert_string_equal(out, name);
}

static void test_fortinet_models(void **state)
{
    (void)state;
    /* the factory certificate CN in nDPI's forticlient.pcap result */
    expect_model("FWF60E4Q16012050", DEV_FORTI_MODEL, "FortiWiFi 60E");
    /* serials published next to their model, and the FortiFlex codes */
    expect_model("FG100D3G12801361", DEV_FORTI_MODEL, "FortiGate 100D");
    expect_model("FGT60FTK00000000", DEV_FORTI_MODEL, "FortiGate 60F");
    expect_model("FGT70FTK22000001", DEV_FORTI_MODEL, "FortiGate 70F");
    expect_model("FG100FTK19000001", DEV_FORTI_MODEL, "FortiGate 100F");
    expect_model("FGT60FTK2109XXXX", DEV_FORTI_MODEL, "FortiGate 60F");
    expect_model("FG121GTK25004672", DEV_FORTI_MODEL, "FortiGate 121G");
    expect_model("FG181FTK22901387", DEV_FORTI_MODEL, "FortiGate 1801F");
    expect_model("FG4H0FTK20000001", DEV_FORTI_MODEL, "FortiGate 400F");
    expect_model("F2K60FTK20000001", DEV_FORTI_MODEL, "FortiGate 2600F");
    expect_model("FD4H1ETK20000001", DEV_FORTI_MODEL, "FortiGate 401E DC");
    expect_model("FR70FBTK20000001", DEV_FORTI_MODEL, "FortiGateRugged 70F");
    expect_model("FGR60FTK20000001", DEV_FORTI_MODEL, "FortiGateRugged 60F");
    expect_model("FW81FPTK20000001", DEV_FORTI_MODEL, "FortiWiFi 81F-2R-PoE");
    expect_model("F6KF01TK20000001", DEV_FORTI_MODEL, "FortiGate 6001F");
    /* virtual machines, whatever the licence characters after the code */
    expect_model("FGVM02TM21000001", DEV_FORTI_MODEL, "FortiGate-VM");
    expect_model("FGVM02TM2100XXXX", DEV_FORTI_MODEL, "FortiGate-VM");
    expect_model("FGVM000000117994", DEV_FORTI_MODEL, "FortiGate-VM");
    expect_model("FGVMEVYYQT3AB5352", DEV_FORTI_MODEL, "FortiGate-VM"); /* 17: evaluation */
    expect_model("FMG-VMTM23000001", DEV_FORTI_MODEL, "FortiManager-VM");
    expect_model("FMG-VM0000000000", DEV_FORTI_MODEL, "FortiManager-VM");
    expect_model("FAZ-VMTM22012345", DEV_FORTI_MODEL, "FortiAnalyzer-VM");
    expect_model("FAZ-VM0000000001", DEV_FORTI_MODEL, "FortiAnalyzer-VM");
}

static void test_fortinet_families(void **state)
{
    (void)state;
    /* FG600B covers more than one model (a FortiGate-620B in Fortinet's
     * CLI reference): the family only */
    expect_model("FG600B3908600705", DEV_FORTI_FAMILY, "FortiGate");
    /* codes no source names: the leading letters, never a guess at the
     * model from the digits */
    expect_model("FGT60D4613053009", DEV_FORTI_FAMILY, "FortiGate");
    expect_model("FG999ZTK20000001", DEV_FORTI_FAMILY, "FortiGate");
    expect_model("FGR99ZTK20000001", DEV_FORTI_FAMILY, "FortiGateRugged");
    expect_model("FWF99ZTK20000001", DEV_FORTI_FAMILY, "FortiWiFi");
    expect_model("FMG-2KTK20000001", DEV_FORTI_FAMILY, "FortiManager");
    expect_model("FAZ3KDTK20000001", DEV_FORTI_FAMILY, "FortiAnalyzer");
    /* unknown leading letters: nothing */
    expect_model("FD999ZTK20000001", DEV_FORTI_UNKNOWN, "");
    expect_model("FW999ZTK20000001", DEV_FORTI_UNKNOWN, "");
    expect_model("FP231FTF20000001", DEV_FORTI_UNKNOWN, ""); /* a FortiAP code */
    expect_model("FADVMSTM22000199", DEV_FORTI_UNKNOWN, "");
}

static void test_fortinet_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "FGT60F",                  /* a model code, not a serial */
        "FGT60FTK210900",          /* 14 */
        "FGT60FTK2109000",         /* 15 */
        "FGT60FTK2109000001",      /* 18 */
        "fgt60ftk21090001",        /* lower case */
        "FGT60FTK2109 001",        /* space */
        "FGT60F-K21090001",        /* '-' elsewhere than the fourth place */
        "FG-VMTM23000001-",        /* two of them */
        "GGT60FTK21090001",        /* not an 'F' first */
        "FGT60FTK2109000\xc3\xa9", /* not ASCII */
        "support",
        "localhost.localdomain",
        "FGT60FTK21090001\n",
    };
    char out[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "stale");
        assert_int_equal(dev_fortinet_model(bad[i], out, sizeof(out)), -EINVAL);
        assert_string_equal(out, "");
    }
    assert_int_equal(dev_fortinet_model(NULL, out, sizeof(out)), -EINVAL);
    /* a buffer too small for the name, and none at all */
    char small[8];
    assert_int_equal(dev_fortinet_model("FWF60E4Q16012050", small, sizeof(small)), -ENOSPC);
    assert_string_equal(small, "");
    /* "FortiWiFi 60E" needs 14 bytes */
    char fit[14];
    assert_int_equal(dev_fortinet_model("FWF60E4Q16012050", fit, sizeof(fit)), DEV_FORTI_MODEL);
    assert_string_equal(fit, "FortiWiFi 60E");
    assert_int_equal(dev_fortinet_model("FWF60E4Q16012050", fit, sizeof(fit) - 1), -ENOSPC);
    assert_int_equal(dev_fortinet_model("FWF60E4Q16012050", NULL, 0), -ENOSPC);
}

/* ------------------------------------------------------------ host names */

static void expect_host(const char *cn, int rc, const char *name)
{
    char out[300];
    strcpy(out, "stale");
    assert_int_equal(dev_cert_hostname(cn, out, sizeof(out)), rc);
    assert_string_equal(out, name);
}

static void test_hostnames(void **state)
{
    (void)state;
    /* what ESXi and vCenter put in the CN: a name or an address */
    expect_host("esxi01.lab.example.com", 1, "esxi01.lab.example.com");
    expect_host("VCSA-01.Corp.Example.NET", 1, "vcsa-01.corp.example.net");
    expect_host("esxi01.localdomain", 1, "esxi01.localdomain");
    expect_host("10.17.51.7", 1, "10.17.51.7"); /* whois.pcapng's self-signed CN */
    expect_host("192.0.2.10", 1, "192.0.2.10");
    expect_host("2001:DB8::0:1", 1, "2001:db8::1");
    expect_host("www.repstatic.it", 1, "www.repstatic.it"); /* tls_long_cert.pcap */
    expect_host("a.b", 1, "a.b");
    expect_host("1a.example", 1, "1a.example");
    expect_host("x.123a", 1, "x.123a");

    /* not names worth reporting */
    expect_host("localhost.localdomain", 0, ""); /* ESXi's default certificate */
    expect_host("LOCALHOST.localdomain", 0, "");
    expect_host("localhost", 0, "");
    expect_host("localhost.example.com", 0, "");
    expect_host("*.aliyun.com", 0, ""); /* long_tls_certificate.pcap */
    expect_host("*", 0, "");
    expect_host("support", 0, ""); /* Fortinet's issuer CN */
    expect_host("CA", 0, "");      /* vCenter's VMCA */
    expect_host("FWF60E4Q16012050", 0, "");
    expect_host("Microsoft Secure Server CA 2011", 0, "");
    expect_host("AnyDesk Client", 0, "");
    expect_host("", 0, "");
    expect_host(".", 0, "");
    expect_host("example.com.", 0, ""); /* trailing dot */
    expect_host(".example.com", 0, "");
    expect_host("a..example.com", 0, "");
    expect_host("-a.example.com", 0, "");
    expect_host("a-.example.com", 0, "");
    expect_host("under_score.example.com", 0, "");
    expect_host("host.example.com:443", 0, "");
    expect_host("1.2.3", 0, "");     /* not an address, and its last label is digits */
    expect_host("1.2.3.256", 0, ""); /* likewise */
    expect_host("01.2.3.4", 0, "");  /* inet_pton refuses the leading zero */
    expect_host("0.0.0.0", 0, "");
    expect_host("127.0.0.1", 0, "");
    expect_host("127.1.2.3", 0, "");
    expect_host("255.255.255.255", 0, "");
    expect_host("::", 0, "");
    expect_host("::1", 0, "");
    expect_host("caf\xc3\xa9.example.com", 0, "");

    /* label and name lengths: 63 and 253 are the most */
    char name[300];
    memset(name, 'a', 63);
    strcpy(name + 63, ".com");
    expect_host(name, 1, name);
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    expect_host(name, 0, "");
    /* 4 labels of 63 and a dot between: 255; trimmed to 253 */
    for (int i = 0; i < 4; i++) {
        memset(name + i * 64, 'b', 63);
        name[i * 64 + 63] = '.';
    }
    name[255] = '\0';
    expect_host(name, 0, "");
    name[253] = '\0'; /* last label now 61 */
    expect_host(name, 1, name);

    /* the caller's mistakes */
    char small[8];
    assert_int_equal(dev_cert_hostname("esxi01.example.com", small, sizeof(small)), -ENOSPC);
    assert_string_equal(small, "");
    assert_int_equal(dev_cert_hostname("2001:db8::1", small, sizeof(small)), -ENOSPC);
    assert_int_equal(dev_cert_hostname(NULL, small, sizeof(small)), -EINVAL);
    assert_int_equal(dev_cert_hostname("a.b", small, 0), -ENOSPC);
}

/* The three together, as a consumer would use them on a FortiGate's
 * factory certificate and an ESXi host's. */
static void test_together(void **state)
{
    (void)state;
    /* nDPI's forticlient.pcap result */
    const char fortigate_subject[] =
        "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, CN=FWF60E4Q16012050";
    char cn[64], model[64], host[256];
    assert_non_null(dn_get(fortigate_subject, "CN", cn, sizeof(cn)));
    assert_int_equal(dev_fortinet_model(cn, model, sizeof(model)), DEV_FORTI_MODEL);
    assert_string_equal(model, "FortiWiFi 60E");
    assert_int_equal(dev_cert_hostname(cn, host, sizeof(host)), 0);

    const char esxi[] =
        "C=US, ST=California, L=Palo Alto, O=VMware, OU=VMware Engineering, CN=esx01.lab.example";
    assert_non_null(dn_get(esxi, "CN", cn, sizeof(cn)));
    assert_int_equal(dev_cert_hostname(cn, host, sizeof(host)), 1);
    assert_string_equal(host, "esx01.lab.example");
    assert_int_equal(dev_fortinet_model(cn, model, sizeof(model)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fortinet_models),  cmocka_unit_test(test_fortinet_families),
        cmocka_unit_test(test_fortinet_refused), cmocka_unit_test(test_hostnames),
        cmocka_unit_test(test_together),
    };
    return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
