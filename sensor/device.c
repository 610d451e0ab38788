/* device.c -- what devices say about themselves: Fortinet serial numbers,
 * certificate host names, distinguished-name attributes. See device.h. */
#include "device.h"

#include "dn.h"
#include "signature.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ------------------------------------------------------------ output */

/* Copy n bytes of s into out as a string. 0, or -ENOSPC with out "". */
static int put(char *out, size_t len, const char *s, size_t n)
{
    if (out == NULL || len == 0)
        return -ENOSPC;
    if (n + 1 > len) {
        out[0] = '\0';
        return -ENOSPC;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static void clear(char *out, size_t len)
{
    if (out != NULL && len > 0)
        out[0] = '\0';
}

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

/* ------------------------------------------------------------ Fortinet serials */

/* A Fortinet serial number is a six-character product code and a unit
 * number: FWF60E 4Q16012050, FG100F TK19000001, FGVM02 TM22024054,
 * FMG-VM TM23000001. That the code leads the serial is shown by serials
 * published next to the model they belong to:
 *
 *   FG100D3G12801361, "Model name: FortiGate-100D" (FortiOS 6.0.5 CLI
 *     Reference, "get mgmt-data status",
 *     https://docs.fortinet.com/document/fortigate/6.0.5/cli-reference/275281);
 *   FGT60FTK00000000, FGT70FTK22000001 as FortiGate hardware serials in
 *     Fortinet's FortiFlex Terraform provider (fortinetdev/
 *     terraform-provider-fortiflexvm, website/docs/r/
 *     fortiflexvm_entitlements_hardware.markdown);
 *   FWF60E4Q16012050 in a FortiGate's factory certificate (nDPI,
 *     tests/cfgs/default/result/forticlient.pcap.out);
 *   FMG-VM0000000000 on a FortiManager-VM64 (FortiManager 5.6.9 CLI
 *     Reference, "get system status",
 *     https://docs.fortinet.com/document/fortimanager/5.6.9/cli-reference/96969);
 *   FAZ-VM0000000001 on a FortiAnalyzer-VM64 (FortiAnalyzer 6.0.0 CLI
 *     Reference, "get system status",
 *     https://docs.fortinet.com/document/fortianalyzer/6.0.0/cli-reference/458701);
 *   FGVM000000117994 on "FortiGate-VM64" (Fortinet's FortiManager Ansible
 *     examples, ftntcorecse/ftnt-ansible-docs, fmgr_provisioning), and the
 *     17-character evaluation serial FGVMEVYYQT3AB5352 (fortinet.fortios
 *     Ansible collection, sample return value "serial").
 *
 * A code may stand for more than one model: the FortiOS 6.0.0 CLI
 * Reference's "get system status" shows a FortiGate-620B whose serial
 * starts FG600B (https://docs.fortinet.com/document/fortigate/6.0.0/
 * cli-reference/869664). So a code is listed only as a source names it,
 * and any other code gives at most the family. */

#define FORTI_CODE_LEN 6
#define FORTI_SERIAL_MIN 16
#define FORTI_SERIAL_MAX 17

struct forti_code {
    char code[FORTI_CODE_LEN + 1];
    const char *model;
};

/* Model names are written one way throughout ("FortiWiFi", "PoE", " DC"),
 * whatever the spelling of the source. */
static const struct forti_code forti_codes[] = {
    /* FortiGate hardware device models of Fortinet's FortiFlex service, as
     * its Terraform provider lists them (fortinetdev/
     * terraform-provider-fortiflexvm, website/docs/r/
     * fortiflexvm_config.html.markdown, fgt_hw.device_model) and its
     * Ansible collection (fortinet.fortiflexvm, module
     * fortiflexvm_configs_create, fortiGateHardware.model). */
    {"FGT40F", "FortiGate 40F"},
    {"FWF40F", "FortiWiFi 40F"},
    {"FGT60E", "FortiGate 60E"},
    {"FGT60F", "FortiGate 60F"},
    {"FWF60F", "FortiWiFi 60F"},
    {"FGR60F", "FortiGateRugged 60F"},
    {"FGT61F", "FortiGate 61F"},
    {"FGT70F", "FortiGate 70F"},
    {"FR70FB", "FortiGateRugged 70F"},
    {"FGT80F", "FortiGate 80F"},
    {"FGT81F", "FortiGate 81F"},
    {"FG100E", "FortiGate 100E"},
    {"FG100F", "FortiGate 100F"},
    {"FG101E", "FortiGate 101E"},
    {"FG101F", "FortiGate 101F"},
    {"FG200E", "FortiGate 200E"},
    {"FG200F", "FortiGate 200F"},
    {"FG201F", "FortiGate 201F"},
    {"FG4H0F", "FortiGate 400F"},
    {"FG4H1F", "FortiGate 401F"},
    {"FG6H0F", "FortiGate 600F"},
    {"FG1K0F", "FortiGate 1000F"},
    {"FG180F", "FortiGate 1800F"},
    {"F2K60F", "FortiGate 2600F"},
    {"FG3K0F", "FortiGate 3000F"},
    {"FG3K1F", "FortiGate 3001F"},
    {"FG3K2F", "FortiGate 3200F"},
    {"FG40FI", "FortiGate 40F-3G4G"},
    {"FW40FI", "FortiWiFi 40F-3G4G"},
    {"FWF61F", "FortiWiFi 61F"},
    {"FR60FI", "FortiGateRugged 60F 3G4G"},
    {"FGT71F", "FortiGate 71F"},
    {"FG80FP", "FortiGate 80F-PoE"},
    {"FG80FB", "FortiGate 80F-Bypass"},
    {"FG80FD", "FortiGate 80F DSL"},
    {"FWF80F", "FortiWiFi 80F-2R"},
    {"FW80FS", "FortiWiFi 80F-2R-3G4G-DSL"},
    {"FWF81F", "FortiWiFi 81F-2R"},
    {"FW81FS", "FortiWiFi 81F-2R-3G4G-DSL"},
    {"FW81FD", "FortiWiFi 81F-2R-3G4G-PoE"},
    {"FW81FP", "FortiWiFi 81F-2R-PoE"},
    {"FG81FP", "FortiGate 81F-PoE"},
    {"FGT90G", "FortiGate 90G"},
    {"FGT91G", "FortiGate 91G"},
    {"FG201E", "FortiGate 201E"},
    {"FG4H0E", "FortiGate 400E"},
    {"FG4HBE", "FortiGate 400E Bypass"},
    {"FG4H1E", "FortiGate 401E"},
    {"FD4H1E", "FortiGate 401E DC"},
    {"FG6H0E", "FortiGate 600E"},
    {"FG6H1E", "FortiGate 601E"},
    {"FG6H1F", "FortiGate 601F"},
    {"FG9H0G", "FortiGate 900G"},
    {"FG9H1G", "FortiGate 901G"},
    {"FG1K1F", "FortiGate 1001F"},
    {"FG181F", "FortiGate 1801F"},
    {"FG3K7F", "FortiGate 3700F"},
    {"FG39E6", "FortiGate 3960E"},
    {"FG441F", "FortiGate 4401F"},
    /* More FortiFlex device models, listed by later releases of the same
     * Ansible collection (fortiflexvm_configs_create, fortiGateHardware.model:
     * "Possible values include ..."). */
    {"FGR35D", "FortiGateRugged 35D"},
    {"FR70FM", "FortiGateRugged 70F 3G4G"},
    {"FG60EV", "FortiGate 60E DSL"},
    {"FG60EP", "FortiGate 60E-PoE"},
    {"FGT61E", "FortiGate 61E"},
    {"FGT80E", "FortiGate 80E"},
    {"FG80EP", "FortiGate 80E-PoE"},
    {"FGT81E", "FortiGate 81E"},
    {"FG81EP", "FortiGate 81E-PoE"},
    {"FGT90E", "FortiGate 90E"},
    {"FGT91E", "FortiGate 91E"},
    {"FG3H0E", "FortiGate 300E"},
    {"FG3H1E", "FortiGate 301E"},
    {"FG10E0", "FortiGate 1100E"},
    {"FD10E0", "FortiGate 1100E DC"},
    {"FG10E1", "FortiGate 1101E"},
    {"FD180F", "FortiGate 1800F DC"},
    {"FD181F", "FortiGate 1801F DC"},
    {"FG2K2E", "FortiGate 2200E"},
    {"FG22E1", "FortiGate 2201E"},
    {"FD260F", "FortiGate 2600F DC"},
    {"F2K61F", "FortiGate 2601F"},
    {"FD261F", "FortiGate 2601F DC"},
    {"FD3K0F", "FortiGate 3000F DC"},
    {"FD3K1F", "FortiGate 3001F DC"},
    {"FG32F1", "FortiGate 3201F"},
    {"FG3K3E", "FortiGate 3300E"},
    {"FG33E1", "FortiGate 3301E"},
    {"FG3K4E", "FortiGate 3400E"},
    {"FD3K4E", "FortiGate 3400E DC"},
    {"FG34E1", "FortiGate 3401E"},
    {"FD34E1", "FortiGate 3401E DC"},
    {"FG3K5F", "FortiGate 3500F"},
    {"FG35F1", "FortiGate 3501F"},
    {"FG3K6E", "FortiGate 3600E"},
    {"FD3K6E", "FortiGate 3600E DC"},
    {"FG36E1", "FortiGate 3601E"},
    {"FG37F1", "FortiGate 3701F"},
    {"FG39E8", "FortiGate 3980E"},
    {"FGD398", "FortiGate 3980E DC"},
    {"FG420F", "FortiGate 4200F"},
    {"FD420F", "FortiGate 4200F DC"},
    {"FG421F", "FortiGate 4201F"},
    {"FD421F", "FortiGate 4201F DC"},
    {"FG440F", "FortiGate 4400F"},
    {"FD440F", "FortiGate 4400F DC"},
    {"FD441F", "FortiGate 4401F DC"},
    {"FG480F", "FortiGate 4800F"},
    {"FD480F", "FortiGate 4800F DC"},
    {"FG481F", "FortiGate 4801F"},
    {"FD481F", "FortiGate 4801F DC"},
    {"FGT2KE", "FortiGate 2000E"},
    {"FG2K5E", "FortiGate 2500E"},
    {"FG120G", "FortiGate 120G"},
    {"FG121G", "FortiGate 121G"},
    {"FGT30E", "FortiGate 30E"},
    {"FG30EG", "FortiGate 30E-3G4G-GBL"},
    {"FGT50E", "FortiGate 50E"},
    {"FGT51E", "FortiGate 51E"},
    {"FG60EJ", "FortiGate 60E DSLJ"},
    {"FG1HEF", "FortiGate 100EF"},
    {"F140EP", "FortiGate 140E-PoE"},
    {"FG5H0E", "FortiGate 500E"},
    {"FG5H1E", "FortiGate 501E"},
    {"FGD396", "FortiGate 3960E DC"},
    {"FWF30E", "FortiWiFi 30E"},
    {"FWF50E", "FortiWiFi 50E"},
    {"FW502R", "FortiWiFi 50E-2R"},
    {"FWF51E", "FortiWiFi 51E"},
    {"FWF60E", "FortiWiFi 60E"},
    {"FW60EV", "FortiWiFi 60E DSL"},
    {"FW60EJ", "FortiWiFi 60E DSLJ"},
    {"FWF61E", "FortiWiFi 61E"},
    {"FW50GD", "FortiWiFi 50G-DSL"},
    {"FW50GS", "FortiWiFi 50G-SFP"},
    {"FG50GD", "FortiGate 50G-DSL"},
    {"FG50GS", "FortiGate 50G-SFP"},
    {"FG50GP", "FortiGate 50G-SFP-PoE"},
    {"FG51GP", "FortiGate 51G-SFP-PoE"},
    {"FG2H0G", "FortiGate 200G"},
    {"FG2H1G", "FortiGate 201G"},
    {"FGT30G", "FortiGate 30G"},
    {"FGT50G", "FortiGate 50G"},
    {"FG50G5", "FortiGate 50G-5G"},
    {"FGT51G", "FortiGate 51G"},
    {"FG51G5", "FortiGate 51G-5G"},
    {"FGT70G", "FortiGate 70G"},
    {"FGT71G", "FortiGate 71G"},
    {"FD9H0G", "FortiGate 900G DC"},
    {"FD9H1G", "FortiGate 901G DC"},
    {"F6KF01", "FortiGate 6001F"},
    /* FortiOS 6.0.5 CLI Reference, "get mgmt-data status": the unit
     * FG100D3G12801361 reports "Model name: FortiGate-100D". */
    {"FG100D", "FortiGate 100D"},
    /* Virtual machines: the code names the product, the two characters
     * after it the licence (FGVM02, FGVMEV...). Sources above. */
    {"FMG-VM", "FortiManager-VM"},
    {"FAZ-VM", "FortiAnalyzer-VM"},
};

/* Products whose codes share leading letters: a code not in the table
 * still names its family. Longest prefix first. Sources: the table above
 * (every FortiGate code starts FG or FGT, FortiGateRugged ones FGR, all
 * FWF ones are FortiWiFi; the FortiGate-VM serials start FGVM), the
 * FortiManager and FortiAnalyzer serials above. Codes that start otherwise
 * (F2K60F, FD4H1E, FR70FB, FW40FI...) are known only one by one. */
static const struct forti_family {
    const char *prefix;
    const char *name;
    int level;
} forti_families[] = {
    {"FGVM", "FortiGate-VM", DEV_FORTI_MODEL},  {"FGR", "FortiGateRugged", DEV_FORTI_FAMILY},
    {"FWF", "FortiWiFi", DEV_FORTI_FAMILY},     {"FMG", "FortiManager", DEV_FORTI_FAMILY},
    {"FAZ", "FortiAnalyzer", DEV_FORTI_FAMILY}, {"FG", "FortiGate", DEV_FORTI_FAMILY},
};

/* Whether s has the shape of a Fortinet serial number (see device.h). */
static int forti_serial_ok(const char *s)
{
    size_t n = strnlen(s, FORTI_SERIAL_MAX + 1);
    if (n < FORTI_SERIAL_MIN || n > FORTI_SERIAL_MAX || s[0] != 'F')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_upper(c) || is_digit(c) || (c == '-' && i == 3))
            continue;
        return 0;
    }
    return 1;
}

/* See device.h. */
int dev_fortinet_model(const char *serial, char *out, size_t len)
{
    clear(out, len);
    if (serial == NULL || !forti_serial_ok(serial))
        return -EINVAL;
    for (size_t i = 0; i < ARRAY_SIZE(forti_codes); i++) {
        const struct forti_code *c = &forti_codes[i];
        if (memcmp(serial, c->code, FORTI_CODE_LEN) == 0) {
            int rc = put(out, len, c->model, strlen(c->model));
            return rc < 0 ? rc : DEV_FORTI_MODEL;
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(forti_families); i++) {
        const struct forti_family *f = &forti_families[i];
        if (strncmp(serial, f->prefix, strlen(f->prefix)) == 0) {
            int rc = put(out, len, f->name, strlen(f->name));
            return rc < 0 ? rc : f->level;
        }
    }
    return DEV_FORTI_UNKNOWN;
}

/* ------------------------------------------------------------ host names */

#define HOST_MAX 253
#define LABEL_MAX 63

/* Whether s (n bytes) is a fully qualified host name by the rules in
 * device.h. */
static int host_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > HOST_MAX)
        return 0;
    size_t labels = 0, start = 0;
    int all_digits = 1;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t l = i - start;
            if (l == 0 || l > LABEL_MAX || s[start] == '-' || s[i - 1] == '-')
                return 0;
            if (labels == 0 && l == 9 && strncasecmp(s, "localhost", 9) == 0)
                return 0;
            labels++;
            if (i == n)
                break;
            start = i + 1;
            all_digits = 1;
            continue;
        }
        char c = s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-')
            return 0;
        if (!is_digit(c))
            all_digits = 0;
    }
    /* RFC 1123 2.1: a name is told from a dotted address by its last
     * label, which is never all digits */
    return labels >= 2 && !all_digits;
}

/* See device.h. */
int dev_cert_hostname(const char *cn, char *out, size_t len)
{
    clear(out, len);
    if (cn == NULL)
        return -EINVAL;
    size_t n = strnlen(cn, HOST_MAX + 1);
    if (n > HOST_MAX)
        return 0;

    struct in_addr a4;
    struct in6_addr a6;
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, cn, &a4) == 1) {
        uint32_t a = ntohl(a4.s_addr);
        if (a == 0 || (a >> 24) == 127 || a == 0xffffffffu)
            return 0; /* unspecified, loopback, broadcast */
        if (inet_ntop(AF_INET, &a4, text, sizeof(text)) == NULL)
            return 0;
        int rc = put(out, len, text, strlen(text));
        return rc < 0 ? rc : 1;
    }
    if (inet_pton(AF_INET6, cn, &a6) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6))
            return 0;
        if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) == NULL)
            return 0;
        int rc = put(out, len, text, strlen(text));
        return rc < 0 ? rc : 1;
    }
    if (!host_name_ok(cn, n))
        return 0;
    int rc = put(out, len, cn, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    return 1;
}

/* See device.h. */
int dev_describe(int kind, const char *subject, const char *detail, uint16_t vlan,
                 struct dev_info *out)
{
    char cn[64];
    memset(out, 0, sizeof(*out));
    switch (kind) {
    case SIG_DEV_FORTINET_SERIAL:
        if (subject == NULL || dn_get(subject, "CN", cn, sizeof(cn)) == NULL ||
            dev_fortinet_model(cn, out->model, sizeof(out->model)) < 0)
            return 0;
        snprintf(out->serial, sizeof(out->serial), "%.19s", cn);
        return 1;
    case SIG_DEV_CERT_HOSTNAME:
        return subject != NULL && dn_get(subject, "CN", cn, sizeof(cn)) != NULL &&
               dev_cert_hostname(cn, out->name, sizeof(out->name)) == 1;
    case SIG_DEV_DISSECTOR:
        if (detail == NULL || detail[0] == '\0')
            return 0;
        snprintf(out->name, sizeof(out->name), "%s", detail);
        out->vlan = vlan;
        return 1;
    default:
        return 0;
    }
}
