/* device.h -- what devices say about themselves: a Fortinet serial number's
 * product and model, a certificate common name worth reporting as a host
 * name (a certificate's attributes: dn.h).
 *
 * Pure functions on strings: no allocation, no state, no locale. Every
 * output goes to the caller's buffer and is NUL-terminated whenever the
 * buffer has room for one byte; on any answer but success it is "". */
#ifndef DEVICE_H
#define DEVICE_H

#include <stddef.h>
#include <stdint.h>

/* What dev_fortinet_model() could tell. */
enum dev_fortinet {
    DEV_FORTI_UNKNOWN = 0, /* a well-formed serial whose product code no source names */
    DEV_FORTI_FAMILY = 1,  /* only the product family: "FortiGate" */
    DEV_FORTI_MODEL = 2,   /* the model: "FortiWiFi 60E", "FortiGate-VM" */
};

/* The product and model a Fortinet serial number names, e.g.
 * "FWF60E4Q16012050" -> "FortiWiFi 60E", "FG100FTK19000001" -> "FortiGate
 * 100F", "FGVM02TM21000001" -> "FortiGate-VM", "FMG-VMTM23000001" ->
 * "FortiManager-VM". The serial's first six characters are a product code;
 * the table of codes (device.c) comes from public Fortinet sources, each
 * row citing its own.
 *
 * serial must have the shape of one: 16 or 17 characters, 'F' first, upper
 * case letters and digits, and '-' only as the fourth character (FMG-VM,
 * FAZ-VM); anything else is refused. A well-formed serial whose code is not
 * in the table still names its family when its leading letters do (FGT, FG
 * -> FortiGate, FGR -> FortiGateRugged, FWF -> FortiWiFi, FMG ->
 * FortiManager, FAZ -> FortiAnalyzer); otherwise nothing. A model is never
 * guessed from the digits.
 *
 * Returns DEV_FORTI_MODEL or DEV_FORTI_FAMILY with the name in out,
 * DEV_FORTI_UNKNOWN with out "", -EINVAL when serial is NULL or not a
 * serial, -ENOSPC when out (len bytes) cannot hold the name (out is then ""
 * if len > 0). Cannot fail otherwise. */
int dev_fortinet_model(const char *serial, char *out, size_t len);

/* Whether a certificate common name is a host name worth reporting, as
 * ESXi and vCenter put the host's name or address in theirs: either a
 * fully qualified name (RFC 1123 labels of letters, digits and inner
 * hyphens, 1 to 63 characters, at least two labels, 253 characters at
 * most, no trailing dot, a last label that is not all digits), or an IPv4
 * or IPv6 address. Not names: a single label ("support", "CA"), a wildcard
 * ("*.example.com"), anything with spaces or other characters, a name whose
 * first label is "localhost" ("localhost.localdomain", ESXi's default), and
 * the unspecified, loopback and broadcast addresses.
 *
 * Returns 1 with the name in out, lower-cased (an address in its canonical
 * text form), 0 when cn is not such a name (out ""), -EINVAL when cn is
 * NULL, -ENOSPC when out (len bytes) cannot hold it (out "" if len > 0).
 * Note that nDPI 4.2 keeps at most 63 characters of an attribute value: a
 * CN of exactly 63 characters may have been cut. */
int dev_cert_hostname(const char *cn, char *out, size_t len);

/* What a signature's evidence tells about the device (enum sig_device). */
struct dev_info {
    char serial[20];    /* a Fortinet serial number, from the certificate CN */
    char model[40];     /* its model ("FortiWiFi 60E") or family ("FortiGate") */
    char name[128];     /* the host name the certificate names, or the dissector's description */
    uint16_t vlan;      /* the flow's VLAN, 0 none (with the dissector's description) */
    uint8_t by_network; /* the host is the network address a cluster sends to, from 0.0.0.0 */
};

/* Fill out for a signature whose device kind is kind (enum sig_device)
 * from the flow's certificate subject, its dissector's description and its
 * VLAN (strings may be NULL or ""). Returns 1 when something is known
 * (out has it), else 0 with out all empty. Cannot fail. */
int dev_describe(int kind, const char *subject, const char *detail, uint16_t vlan,
                 struct dev_info *out);

#endif
