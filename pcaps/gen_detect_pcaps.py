#!/usr/bin/env python3
"""Write the detection test captures in pcaps/detect/: the phone-home traffic
of foreign security products (one capture per vendor, plus captures for the
evidence paths: DNS answers, IPv6, VLAN tags, certificates), devices naming
themselves to whoever talks to them (factory certificates, FortiClient's
hello, ClusterXL's CCP), and decoys that must stay silent.

Usage: python3 pcaps/gen_detect_pcaps.py [OUTDIR]   (default: pcaps/detect)
       python3 pcaps/gen_detect_pcaps.py --ja3       (print the JA3 of each
                                                      ClientHello profile,
                                                      FortiClient's included)

The expected alerts and identifications of every capture are in
tests/detection.json and the captures are described in
pcaps/detect/README.md; change the three together.

The output is deterministic: timestamps from 1700000000.0, fixed addresses,
ports, sequence numbers, and payload bytes derived from fixed labels with
SHA-256 (no randomness). Captures are written with struct as Ethernet pcap
files; scapy only builds the packets.

Addresses. Inside hosts are in the sensor's default home_net (10/8,
172.16/12, 192.168/16, 100.64/10, fd00::/8), and every phone-home flow of a
capture comes from its own inside host, so each expected alert has its own
de-duplication key (internal host, signature, country). Outside servers are
in tests/geo-test.csv, which maps them to the vendors' real AS numbers
(Fortinet AS40934, Check Point AS25046/AS31997, Palo Alto Networks AS54538,
VMware AS203239, ...) or to the clouds and CDNs that host the vendors'
services (Google Cloud, AWS, Akamai, Cloudflare).

TLS (RFC 5246; RFC 8446 for the TLS 1.3 hello). Appliances send TLS 1.2
ClientHellos in an OpenSSL-like profile, Windows agents in a Schannel-like
one, FortiClient the two hellos of nDPI's FortiClient capture, rebuilt
field by field (FORTICLIENT_HELLOS). A flow whose certificate matters
does the full handshake (ServerHello, Certificate, ServerKeyExchange,
ServerHelloDone); the others resume a session (ServerHello, ChangeCipherSpec,
Finished), as periodic check-ins do, so no certificate is on the wire. The
embedded certificates below are real DER made once with `openssl ca` (EC
P-256, fixed validity 2023-03-01 to 2033-03-01) by a throw-away CA; the
device certificates (Fortinet factory, ESXi, VMCA, look-alikes) are built
by x509_cert() with stand-in keys and signatures. All are test data and
chain to nothing real.
"""

import hashlib
import ipaddress
import logging
import os
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.dns import DNS, DNSQR, DNSRR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6  # noqa: E402
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether  # noqa: E402

LINKTYPE_ETHERNET = 1
START_US = 1_700_000_000_000_000

HERE = os.path.dirname(os.path.abspath(__file__))

# Certificates as nDPI prints their names. The Fortinet ones follow the
# factory-certificate pattern in VENDORS.md section 2.
#
# Subject: C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=support
# Issuer : the same (self-signed)
CERT_FORTINET_CA = bytes.fromhex(
    "30820227308201cea00302010202021000300a06082a8648ce3d040302307b310b3009060355040613025553"
    "3113301106035504080c0a43616c69666f726e69613112301006035504070c0953756e6e7976616c65311130"
    "0f060355040a0c08466f7274696e6574311e301c060355040b0c15436572746966696361746520417574686f"
    "726974793110300e06035504030c07737570706f7274301e170d3232303130313030303030305a170d333730"
    "3130313030303030305a307b310b30090603550406130255533113301106035504080c0a43616c69666f726e"
    "69613112301006035504070c0953756e6e7976616c653111300f060355040a0c08466f7274696e6574311e30"
    "1c060355040b0c15436572746966696361746520417574686f726974793110300e06035504030c0773757070"
    "6f72743059301306072a8648ce3d020106082a8648ce3d0301070342000403120f57ca80a11e4a6ba81e89dc"
    "7c007254ca6d2798afec66765aecfe86b7c8cde96ceaf31f6ef2a35f8c38535d7ecdcb9ba0300a7ad3b2df35"
    "4316b5d5dc98a3423040300f0603551d130101ff040530030101ff300e0603551d0f0101ff04040302010630"
    "1d0603551d0e04160414584367f1196b0695be95abc78cdddf156c58a7ea300a06082a8648ce3d0403020347"
    "003044022026f8aad2fb91956d7275893720077eb3b5cb3710a5906817f2f50f1e430c662902206529abb363"
    "d7b98c081b9f327b2cb98f03dddfcaf4e72fcdf866c4e654e23107"
)

# Subject: C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiManager, CN=FMG-VMTM23000001
# Issuer : C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=support
CERT_FORTIMANAGER = bytes.fromhex(
    "308202643082020ba00302010202021001300a06082a8648ce3d040302307b310b3009060355040613025553"
    "3113301106035504080c0a43616c69666f726e69613112301006035504070c0953756e6e7976616c65311130"
    "0f060355040a0c08466f7274696e6574311e301c060355040b0c15436572746966696361746520417574686f"
    "726974793110300e06035504030c07737570706f7274301e170d3233303330313030303030305a170d333330"
    "3330313030303030305a307b310b30090603550406130255533113301106035504080c0a43616c69666f726e"
    "69613112301006035504070c0953756e6e7976616c653111300f060355040a0c08466f7274696e6574311530"
    "13060355040b0c0c466f7274694d616e616765723119301706035504030c10464d472d564d544d3233303030"
    "3030313059301306072a8648ce3d020106082a8648ce3d03010703420004063043fe2d0327e205321c9add2c"
    "0a8eaa52afc70075eba1449e8de5c3ebac1a343277f4c99c82f1d3e4cf15b35685392ab295ec38d5a3f5052b"
    "5b851d183770a37f307d300c0603551d130101ff04023000300e0603551d0f0101ff040403020780301d0603"
    "551d250416301406082b0601050507030106082b06010505070302301d0603551d0e04160414804844a9bc32"
    "371818571b279950564090ff3f25301f0603551d23041830168014584367f1196b0695be95abc78cdddf156c"
    "58a7ea300a06082a8648ce3d0403020347003044022006520541899744844789b7d130854ece333ac6d2f481"
    "055fbdf2381f8dacebbc0220384b395814d7f98e8034c67ad32ebf2ef04a5843e1be6c0ca62b72c527e3247a"
)

# Subject: C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiAnalyzer, CN=FAZVMSTM23000001
# Issuer : C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=support
CERT_FORTIANALYZER = bytes.fromhex(
    "308202663082020ca00302010202021002300a06082a8648ce3d040302307b310b3009060355040613025553"
    "3113301106035504080c0a43616c69666f726e69613112301006035504070c0953756e6e7976616c65311130"
    "0f060355040a0c08466f7274696e6574311e301c060355040b0c15436572746966696361746520417574686f"
    "726974793110300e06035504030c07737570706f7274301e170d3233303330313030303030305a170d333330"
    "3330313030303030305a307c310b30090603550406130255533113301106035504080c0a43616c69666f726e"
    "69613112301006035504070c0953756e6e7976616c653111300f060355040a0c08466f7274696e6574311630"
    "14060355040b0c0d466f727469416e616c797a65723119301706035504030c1046415a564d53544d32333030"
    "303030313059301306072a8648ce3d020106082a8648ce3d03010703420004068d7a07e0258e94ff630b0560"
    "a4634eb4bbdcdad7e3fa4233f80a18f8f238a0650ec3399a730f93c95fb25c45d60df1df95468d8666cd7225"
    "d123fe4f4acebca37f307d300c0603551d130101ff04023000300e0603551d0f0101ff040403020780301d06"
    "03551d250416301406082b0601050507030106082b06010505070302301d0603551d0e0416041438be74fbfc"
    "bc1d5a223d214bf3f493be50b711d9301f0603551d23041830168014584367f1196b0695be95abc78cdddf15"
    "6c58a7ea300a06082a8648ce3d0403020348003045022100d3edc186d62a5f22064d5b0e2c1dfdfd972ed6ae"
    "f44967fc7a5d0760ab04a49c02201fdc3d03c2588b029ad9fe47c62d542f3f0bf7fc5c52f72c343779e3bcf9"
    "4fff"
)

# Subject: C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, CN=FGT60F0000000001
# Issuer : C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=Certificate Authority, CN=support
CERT_FORTIGATE = bytes.fromhex(
    "3082026230820208a00302010202021003300a06082a8648ce3d040302307b310b3009060355040613025553"
    "3113301106035504080c0a43616c69666f726e69613112301006035504070c0953756e6e7976616c65311130"
    "0f060355040a0c08466f7274696e6574311e301c060355040b0c15436572746966696361746520417574686f"
    "726974793110300e06035504030c07737570706f7274301e170d3233303330313030303030305a170d333330"
    "3330313030303030305a3078310b30090603550406130255533113301106035504080c0a43616c69666f726e"
    "69613112301006035504070c0953756e6e7976616c653111300f060355040a0c08466f7274696e6574311230"
    "10060355040b0c09466f727469476174653119301706035504030c1046475436304630303030303030303031"
    "3059301306072a8648ce3d020106082a8648ce3d0301070342000495813bacbbcb72fca628af6dc2daaeea2c"
    "79f70314067d63e1a53a114ef176dfa5cd965c316cae1da6f36f6d424f52a34edbd28147d88203b068a457b6"
    "545a32a37f307d300c0603551d130101ff04023000300e0603551d0f0101ff040403020780301d0603551d25"
    "0416301406082b0601050507030106082b06010505070302301d0603551d0e04160414f1cb4d979805a32ec0"
    "c94ca0a1b9c1759bff8d10301f0603551d23041830168014584367f1196b0695be95abc78cdddf156c58a7ea"
    "300a06082a8648ce3d0403020348003045022100f821f41a5bb8ea6c36ebb0caf0092b347562539fc9ffe9c5"
    "4f0ffdde29efe20f022026a2341602512430770e84db31c82c407117c88fb3317278541223e65486310d"
)

# Subject: C=US, O=DigiCert Inc, CN=DigiCert TLS Hybrid ECC SHA384 2020 CA1
# Issuer : the same (a stand-in for the real intermediate, self-signed here)
CERT_DIGICERT_ECC_CA = bytes.fromhex(
    "308201dd30820184a00302010202021004300a06082a8648ce3d0403023056310b3009060355040613025553"
    "31153013060355040a0c0c446967694365727420496e633130302e06035504030c2744696769436572742054"
    "4c53204879627269642045434320534841333834203230323020434131301e170d3232303130313030303030"
    "305a170d3337303130313030303030305a3056310b300906035504061302555331153013060355040a0c0c44"
    "6967694365727420496e633130302e06035504030c27446967694365727420544c5320487962726964204543"
    "43205348413338342032303230204341313059301306072a8648ce3d020106082a8648ce3d03010703420004"
    "1b0076525ec78cb65d9738fd86509eb622ff56a5dbb581723beb4255d1a9aff119610d939df6da79e18f3eff"
    "0eba869fd046f9596ef6e3d7d332605c517dbe0fa3423040300f0603551d130101ff040530030101ff300e06"
    "03551d0f0101ff040403020106301d0603551d0e04160414b4cb7bdef3b507de6ae22fc5c530fc5af8f28a96"
    "300a06082a8648ce3d040302034700304402200c112dba5022a58447957c19bd876bdf42eb90dcd03e8ad92b"
    "4467ba66ef839b0220084426ee797faefb590fc79f2c5903c2ab44638cc1eb4cabc7f3539b3edd414b"
)

# Subject: C=US, ST=California, L=Sunnyvale, O=CrowdStrike, Inc.,
#          CN=ts01-gyr-maverick.cloudsink.net
# Issuer : C=US, O=DigiCert Inc, CN=DigiCert TLS Hybrid ECC SHA384 2020 CA1
CERT_CROWDSTRIKE = bytes.fromhex(
    "30820240308201e7a00302010202021005300a06082a8648ce3d0403023056310b3009060355040613025553"
    "31153013060355040a0c0c446967694365727420496e633130302e06035504030c2744696769436572742054"
    "4c53204879627269642045434320534841333834203230323020434131301e170d3233303330313030303030"
    "305a170d3333303330313030303030305a307c310b30090603550406130255533113301106035504080c0a43"
    "616c69666f726e69613112301006035504070c0953756e6e7976616c65311a3018060355040a0c1143726f77"
    "64537472696b652c20496e632e3128302606035504030c1f747330312d6779722d6d6176657269636b2e636c"
    "6f756473696e6b2e6e65743059301306072a8648ce3d020106082a8648ce3d0301070342000430feefc2715e"
    "ce70f525af19e443c24c3055d5a2621d27e5650b29c2d1ee4e8e2e224f2be5d05a237f0c241cb1bc9e2840e4"
    "6893f9214d1ccbd440743d558fd2a37f307d300c0603551d130101ff04023000300e0603551d0f0101ff0404"
    "03020780301d0603551d250416301406082b0601050507030106082b06010505070302301d0603551d0e0416"
    "0414253353f04c72486a625d6d4c920729e23588ba2c301f0603551d23041830168014b4cb7bdef3b507de6a"
    "e22fc5c530fc5af8f28a96300a06082a8648ce3d0403020347003044022067aea6a5f898d0855790f0ea67c5"
    "74e5562074065eb5ee4e2336f3fdb828e47102206aba19d48de70ef599dd430b93a2dc10fa620b887e7195b5"
    "09987815739a28cb"
)

# ------------------------------------------------------------------ bytes


def prand(label, n):
    """n pseudo-random bytes, a fixed function of label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


def _vec8(data):
    return struct.pack("!B", len(data)) + data


def _vec16(data):
    return struct.pack("!H", len(data)) + data


def _vec24(data):
    return struct.pack("!I", len(data))[1:] + data


def _ext(etype, data):
    return struct.pack("!HH", etype, len(data)) + data


def _u16s(values):
    return b"".join(struct.pack("!H", v) for v in values)


def tls_record(ctype, body, version=0x0303):
    return struct.pack("!BHH", ctype, version, len(body)) + body


def tls_handshake(htype, body):
    return tls_record(22, struct.pack("!B", htype) + _vec24(body))


# ------------------------------------------------------ X.509 certificates

# The certificates of the device captures are built here, field by field,
# rather than embedded: X.509 v3 (RFC 5280 section 4.1) in DER (ITU-T X.690
# section 10). Like the embedded ones above they are test data: the keys
# (RSA-2048 moduli) and signatures are bytes derived from labels with
# prand(), so every certificate parses as X.509 and verifies against
# nothing. What the tests read is the names, and nDPI 4.2 prints six
# attributes of them (C, ST, L, O, OU, CN; protocols/tls.c,
# processCertificateElements); emailAddress, DC and unstructuredName are
# encoded as the real certificates carry them and nDPI leaves them out.

OID_ATTR = {  # RFC 5280 appendix A.1; PKCS #9 (RFC 2985) 5.2.1, 5.2.2; RFC 4519 2.4
    "C": "2.5.4.6", "ST": "2.5.4.8", "L": "2.5.4.7", "O": "2.5.4.10", "OU": "2.5.4.11",
    "CN": "2.5.4.3", "emailAddress": "1.2.840.113549.1.9.1",
    "unstructuredName": "1.2.840.113549.1.9.2", "DC": "0.9.2342.19200300.100.1.25",
}
OID_RSA = "1.2.840.113549.1.1.1"             # rsaEncryption, RFC 8017 appendix A.1
OID_SHA256_RSA = "1.2.840.113549.1.1.11"     # sha256WithRSAEncryption, RFC 8017 A.2.4
OID_BASIC_CONSTRAINTS = "2.5.29.19"          # RFC 5280 4.2.1.9
OID_KEY_USAGE = "2.5.29.15"                  # RFC 5280 4.2.1.3
OID_SAN = "2.5.29.17"                        # RFC 5280 4.2.1.6


def _der(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def _der_seq(*items):
    return _der(0x30, b"".join(items))


def _der_int(value):
    if isinstance(value, bytes):  # a big unsigned integer (a modulus)
        return _der(0x02, (b"\x00" if value[0] & 0x80 else b"") + value)
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _der_oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.insert(0, 0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(chunk)
    return _der(0x06, out)


def _der_name(attrs):
    """A Name (RFC 5280 4.1.2.4) from [(key, value)] in certificate order:
    C as PrintableString, emailAddress, DC and unstructuredName as
    IA5String, the rest as UTF8String (as OpenSSL writes them)."""
    rdns = b""
    for key, value in attrs:
        tag = 0x13 if key == "C" else 0x16 if key in ("emailAddress", "DC",
                                                       "unstructuredName") else 0x0C
        rdns += _der(0x31, _der_seq(_der_oid(OID_ATTR[key]), _der(tag, value.encode())))
    return _der(0x30, rdns)


def dn_text(attrs):
    """The name as nDPI 4.2 prints it: its C, ST, L, O, OU and CN joined
    by ", " in certificate order."""
    return ", ".join("%s=%s" % (k, v) for k, v in attrs if k in ("C", "ST", "L", "O", "OU", "CN"))


def x509_cert(label, serial, issuer, subject, not_before, not_after, ca=False, san=()):
    """A DER X.509 v3 certificate: issuer and subject as [(key, value)],
    validity as UTCTime text ("230301000000Z"), an RSA-2048 key and a
    sha256WithRSAEncryption signature made of bytes derived from label,
    basicConstraints, keyUsage and, for a server, subjectAltName DNS names."""
    alg = _der_seq(_der_oid(OID_SHA256_RSA), b"\x05\x00")
    modulus = bytearray(prand(label + "/modulus", 256))
    modulus[0] |= 0x80
    modulus[-1] |= 0x01
    spki = _der_seq(_der_seq(_der_oid(OID_RSA), b"\x05\x00"),
                    _der(0x03, b"\x00" + _der_seq(_der_int(bytes(modulus)), _der_int(65537))))
    exts = [_der_seq(_der_oid(OID_BASIC_CONSTRAINTS), b"\x01\x01\xff",
                     _der(0x04, _der_seq(b"\x01\x01\xff" if ca else b""))),
            _der_seq(_der_oid(OID_KEY_USAGE), b"\x01\x01\xff",
                     _der(0x04, _der(0x03, b"\x01\x06" if ca else b"\x05\xa0")))]
    if san:
        names = b"".join(_der(0x82, n.encode()) for n in san)
        exts.append(_der_seq(_der_oid(OID_SAN), _der(0x04, _der_seq(names))))
    tbs = _der_seq(_der(0xA0, _der_int(2)), _der_int(serial), alg, _der_name(issuer),
                   _der_seq(_der(0x17, not_before.encode()), _der(0x17, not_after.encode())),
                   _der_name(subject), spki, _der(0xA3, _der_seq(*exts)))
    return _der_seq(tbs, alg, _der(0x03, b"\x00" + prand(label + "/signature", 256)))


# Fortinet factory certificates (VENDORS.md section 6): subject C=US,
# ST=California, L=Sunnyvale, O=Fortinet, OU=<product>, CN=<serial number>;
# issuer one of Fortinet's factory CAs, O=Fortinet, OU=Certificate
# Authority, CN=support (the FortiWiFi 60E of nDPI's
# tests/cfgs/default/pcap/forticlient.pcap, commit 3b1286ab, valid from
# 2016-09-12 to 2038-01-19 03:14:07) or CN=fortinet-subca2001 (later
# devices; the FG200F in an openfortivpn log, VENDORS.md section 6), and
# that CA's own issuer CN=fortinet-ca2. The e-mail address is the one of
# Fortinet's CA names. Serials: product code and unit number as
# sensor/device.c describes them (FGT60F, FG100F and FWF60E are in its
# table; FWF60E4Q16012050 is the unit of nDPI's capture).
FORTI_DN = [("C", "US"), ("ST", "California"), ("L", "Sunnyvale"), ("O", "Fortinet")]
FORTI_CA_SUPPORT = FORTI_DN + [("OU", "Certificate Authority"), ("CN", "support"),
                               ("emailAddress", "support@fortinet.com")]
FORTI_CA_SUBCA2001 = FORTI_DN + [("OU", "Certificate Authority"),
                                 ("CN", "fortinet-subca2001"),
                                 ("emailAddress", "support@fortinet.com")]
FORTI_CA_CA2 = FORTI_DN + [("OU", "Certificate Authority"), ("CN", "fortinet-ca2"),
                           ("emailAddress", "support@fortinet.com")]
FORTI_NOT_AFTER = "380119031407Z"


def forti_factory(product, serial, issuer=None, not_before="210602091533Z"):
    """The factory certificate of a Fortinet appliance and its CA chain."""
    issuer = issuer or FORTI_CA_SUPPORT
    leaf = x509_cert("forti/" + serial, int.from_bytes(prand("forti-sn/" + serial, 3), "big"),
                     issuer, FORTI_DN + [("OU", product), ("CN", serial),
                                         ("emailAddress", "support@fortinet.com")],
                     not_before, FORTI_NOT_AFTER)
    if issuer is FORTI_CA_SUBCA2001:
        ca = x509_cert("forti-ca/subca2001", 0x2001, FORTI_CA_CA2, FORTI_CA_SUBCA2001,
                       "150101000000Z", FORTI_NOT_AFTER, ca=True)
    else:
        ca = x509_cert("forti-ca/support", 0x1000, FORTI_CA_SUPPORT, FORTI_CA_SUPPORT,
                       "000101000000Z", FORTI_NOT_AFTER, ca=True)
    return [leaf, ca]


SERIAL_FGT60F = "FGT60FTK21009876"      # FortiGate 60F
SERIAL_FG100F = "FG100FTK20012345"      # FortiGate 100F
SERIAL_FWF60E = "FWF60E4Q16012050"      # FortiWiFi 60E, nDPI's forticlient.pcap
SERIAL_FGT61F = "FGT61FTK22003141"      # FortiGate 61F
SERIAL_FGT80F = "FGT80FTK22004321"      # FortiGate 80F (a partner's, outside)
SERIAL_FMG_VM = "FMG-VMTM23008765"      # FortiManager-VM
SERIAL_FAZ_VM = "FAZ-VMTM22004567"      # FortiAnalyzer-VM

CHAIN_FGT60F = forti_factory("FortiGate", SERIAL_FGT60F)
CHAIN_FG100F = forti_factory("FortiGate", SERIAL_FG100F, FORTI_CA_SUBCA2001, "200817120000Z")
CHAIN_FWF60E = forti_factory("FortiGate", SERIAL_FWF60E, not_before="160912100620Z")
CHAIN_FGT61F = forti_factory("FortiGate", SERIAL_FGT61F, FORTI_CA_SUBCA2001, "220301080000Z")
CHAIN_FGT80F = forti_factory("FortiGate", SERIAL_FGT80F, FORTI_CA_SUBCA2001, "220405080000Z")
CHAIN_FMG_VM = forti_factory("FortiManager", SERIAL_FMG_VM, not_before="230110101010Z")
CHAIN_FAZ_VM = forti_factory("FortiAnalyzer", SERIAL_FAZ_VM, not_before="221020101010Z")

# ESXi's self-signed default certificate (a host never joined to a vCenter,
# or older than vSphere 6.0): subject C=US, ST=California, L=Palo Alto,
# O=VMware, Inc, OU=VMware ESX Server Default Certificate,
# emailAddress=ssl-certificates@vmware.com, CN=<host name, or
# localhost.localdomain when none was set>, unstructuredName=<number>,
# 564d7761726520496e632e ("VMware Inc." in hex), as Metasploit's
# vmauthd_version module prints it (rapid7/metasploit-framework,
# documentation/modules/auxiliary/scanner/vmware/vmauthd_version.md); issuer
# O=VMware Installer (the most frequent issuer of the Zeek x509.log that
# brimdata/zed's documentation counts in its uniq example).
ESXI_ISSUER = [("O", "VMware Installer")]


def esxi_default(host, number):
    subject = [("C", "US"), ("ST", "California"), ("L", "Palo Alto"), ("O", "VMware, Inc"),
               ("OU", "VMware ESX Server Default Certificate"),
               ("emailAddress", "ssl-certificates@vmware.com"), ("CN", host),
               ("unstructuredName", "%d,564d7761726520496e632e" % number)]
    return [x509_cert("esxi/" + host + "/%d" % number, number & 0xFFFFFF, ESXI_ISSUER, subject,
                      "210915081200Z", "330916081200Z")]


# Certificates from vCenter's CA (VMCA), the default for hosts a vCenter
# manages since vSphere 6.0: subject C=US, ST=California, L=Palo Alto,
# O=VMware, OU=VMware Engineering, emailAddress=vmca@vmware.com, CN=<host
# name> (the "ESXi CSR settings" defaults, VMware vSphere Security, VENDORS.md
# section 6); issuer VMCA's root, CN=CA, DC=vsphere, DC=local, C=US,
# ST=California, O=<vCenter name>, OU=VMware Engineering. vCenter's own
# machine certificate carries only CN and C.
VCENTER = "vcsa-01.corp.example.com"
VMCA_ROOT = [("CN", "CA"), ("DC", "vsphere"), ("DC", "local"), ("C", "US"),
             ("ST", "California"), ("O", VCENTER), ("OU", "VMware Engineering")]


def vmca_issued(host, subject=None):
    subject = subject or [("C", "US"), ("ST", "California"), ("L", "Palo Alto"),
                          ("O", "VMware"), ("OU", "VMware Engineering"),
                          ("emailAddress", "vmca@vmware.com"), ("CN", host)]
    leaf = x509_cert("vmca/" + host, int.from_bytes(prand("vmca-sn/" + host, 8), "big") >> 1,
                     VMCA_ROOT, subject, "230612093000Z", "280611093000Z", san=(host,))
    root = x509_cert("vmca/root", 0xCA01, VMCA_ROOT, VMCA_ROOT, "230612090000Z",
                     "330609090000Z", ca=True)
    return [leaf, root]


def plain_cert(label, issuer, subject, san=(), ca_name=None):
    """A server certificate and its issuer's certificate, for the decoys."""
    leaf = x509_cert(label, int.from_bytes(prand(label + "/sn", 4), "big"), issuer, subject,
                     "230301000000Z", "250301000000Z", san=san)
    root = x509_cert(label + "/ca", 0x0100, issuer, issuer, "200101000000Z", "300101000000Z",
                     ca=True)
    return [leaf, root]


# ------------------------------------------------------------- TLS hellos

# ClientHello profiles. "openssl": OpenSSL 1.1.1 limited to TLS 1.2, as
# appliances (FortiOS, PAN-OS, Gaia, vCenter, SD-WAN edges) send it.
# "schannel": Windows 10 Schannel, as endpoint agents send it.
PROFILES = {
    "openssl": {
        "ciphers": [0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA, 0xC02B, 0xC02F, 0x009E,
                    0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067, 0xC00A, 0xC014, 0x0039,
                    0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F,
                    0x00FF],
        "exts": ["server_name", "ec_point_formats", "supported_groups", "session_ticket",
                 "encrypt_then_mac", "extended_master_secret", "signature_algorithms"],
        "groups": [0x001D, 0x0017, 0x001E, 0x0019, 0x0018],
        "sigalgs": [0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0804,
                    0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201,
                    0x0302, 0x0202, 0x0402, 0x0502, 0x0602],
        "alpn": [],
    },
    "schannel": {
        "ciphers": [0xC02C, 0xC02B, 0xC030, 0xC02F, 0x009F, 0x009E, 0xC024, 0xC023, 0xC028,
                    0xC027, 0xC00A, 0xC009, 0xC014, 0xC013, 0x009D, 0x009C, 0x003D, 0x003C,
                    0x0035, 0x002F, 0x000A],
        "exts": ["server_name", "status_request", "supported_groups", "ec_point_formats",
                 "signature_algorithms", "session_ticket", "alpn", "extended_master_secret",
                 "renegotiation_info"],
        "groups": [0x001D, 0x0017, 0x0018],
        "sigalgs": [0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203,
                    0x0202, 0x0601, 0x0603],
        "alpn": [b"http/1.1"],
    },
}

EXT_IDS = {"server_name": 0x0000, "status_request": 0x0005, "supported_groups": 0x000A,
           "ec_point_formats": 0x000B, "signature_algorithms": 0x000D, "alpn": 0x0010,
           "encrypt_then_mac": 0x0016, "extended_master_secret": 0x0017,
           "session_ticket": 0x0023, "renegotiation_info": 0xFF01}


def client_hello(sni, label, profile="openssl", session_id=b""):
    """A TLS 1.2 ClientHello record; sni None leaves out server_name."""
    prof = PROFILES[profile]
    exts = b""
    for name in prof["exts"]:
        if name == "server_name":
            if sni is None:
                continue
            data = _vec16(b"\x00" + _vec16(sni.encode()))
        elif name == "status_request":
            data = b"\x01\x00\x00\x00\x00"
        elif name == "supported_groups":
            data = _vec16(_u16s(prof["groups"]))
        elif name == "ec_point_formats":
            data = _vec8(b"\x00")
        elif name == "signature_algorithms":
            data = _vec16(_u16s(prof["sigalgs"]))
        elif name == "alpn":
            data = _vec16(b"".join(_vec8(p) for p in prof["alpn"]))
        elif name == "renegotiation_info":
            data = b"\x00"
        else:
            data = b""
        exts += _ext(EXT_IDS[name], data)
    body = (b"\x03\x03" + prand(label + "/client-random", 32) + _vec8(session_id) +
            _vec16(_u16s(prof["ciphers"])) + _vec8(b"\x00") + _vec16(exts))
    return tls_handshake(1, body)


# FortiClient's two client hellos, field by field as nDPI's capture of
# FortiClient SSL-VPN to a FortiWiFi 60E on TCP 10443 carries them
# (ntop/nDPI tests/cfgs/default/pcap/forticlient.pcap, commit 3b1286ab;
# its result file gives the fingerprints). "tls12": a TLS 1.2 hello,
# record version 1.0 (RFC 5246 appendix E.1), 22 cipher suites with the
# renegotiation SCSV first (RFC 5746 3.3), seven extensions: server_name
# holding the gateway's address as text (RFC 6066 section 3 allows host
# names only; FortiClient sends what was configured), supported_groups and
# ec_point_formats (RFC 8422 5.1), signature_algorithms (RFC 5246
# 7.4.1.4.1), status_request (RFC 6066 section 8), signed_certificate_
# timestamp (RFC 6962 3.3.1), extended_master_secret (RFC 7627); JA3
# e4d448cdfe06dc1243c1eb026c74ac9a, JA4 t12d220700_0d4ca5d4ec72_3304d8368043
# (nDPI's result file prints t12i...: it writes "i" for an SNI holding an
# address, FoxIO's JA4 specification "d" for any SNI extension). "tls13": an
# OpenSSL 1.1.1 hello offering TLS 1.3 (RFC 8446 4.1.2): 31 suites, ten
# extensions with supported_versions 1.3 to 1.0, psk_key_exchange_modes
# psk_dhe_ke and an X25519 key share, a 32-byte legacy session id (RFC 8446
# D.4); JA3 40adfd923eb82b89d8836ba37a19bca1, JA4
# t13d311000_e8f1e7e78f70_5ac7197df9d2 (nDPI: t13i...).
FORTICLIENT_HELLOS = {
    "tls12": {
        "ciphers": [0x00FF, 0xC02C, 0xC02B, 0xC024, 0xC023, 0xC00A, 0xC009, 0xC008, 0xC030,
                    0xC02F, 0xC028, 0xC027, 0xC014, 0xC013, 0xC012, 0x009D, 0x009C, 0x003D,
                    0x003C, 0x0035, 0x002F, 0x000A],
        "exts": [(0x0000, None),
                 (0x000A, _vec16(_u16s([0x0017, 0x0018, 0x0019]))),
                 (0x000B, _vec8(b"\x00")),
                 (0x000D, _vec16(_u16s([0x0401, 0x0201, 0x0501, 0x0601, 0x0403, 0x0203, 0x0503,
                                        0x0603]))),
                 (0x0005, b"\x01\x00\x00\x00\x00"),
                 (0x0012, b""),
                 (0x0017, b"")],
        "session_id": False,
    },
    "tls13": {
        "ciphers": [0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA,
                    0xC02B, 0xC02F, 0x009E, 0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067,
                    0xC00A, 0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D,
                    0x003C, 0x0035, 0x002F, 0x00FF],
        "exts": [(0x0000, None),
                 (0x000B, _vec8(b"\x00\x01\x02")),
                 (0x000A, _vec16(_u16s([0x001D, 0x0017, 0x001E, 0x0019, 0x0018]))),
                 (0x0023, b""),
                 (0x0016, b""),
                 (0x0017, b""),
                 (0x000D, _vec16(_u16s([0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809,
                                        0x080A, 0x080B, 0x0804, 0x0805, 0x0806, 0x0401,
                                        0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201,
                                        0x0302, 0x0202, 0x0402, 0x0502, 0x0602]))),
                 (0x002B, _vec8(_u16s([0x0304, 0x0303, 0x0302, 0x0301]))),
                 (0x002D, _vec8(b"\x01")),
                 (0x0033, "key_share")],
        "session_id": True,
    },
}


def forticlient_hello(kind, sni, label):
    """FortiClient's client hello record (FORTICLIENT_HELLOS[kind])."""
    prof = FORTICLIENT_HELLOS[kind]
    exts = b""
    for etype, data in prof["exts"]:
        if data is None:
            data = _vec16(b"\x00" + _vec16(sni.encode()))
        elif data == "key_share":
            data = _vec16(struct.pack("!HH", 0x001D, 32) + prand(label + "/x25519", 32))
        exts += _ext(etype, data)
    sid = prand(label + "/legacy-sid", 32) if prof["session_id"] else b""
    body = (b"\x03\x03" + prand(label + "/client-random", 32) + _vec8(sid) +
            _vec16(_u16s(prof["ciphers"])) + _vec8(b"\x00") + _vec16(exts))
    return tls_record(22, struct.pack("!B", 1) + _vec24(body), version=0x0301)


def forticlient_ja3_string(kind):
    prof = FORTICLIENT_HELLOS[kind]
    groups = {"tls12": [23, 24, 25], "tls13": [29, 23, 30, 25, 24]}[kind]
    pfs = {"tls12": "0", "tls13": "0-1-2"}[kind]
    return "771,%s,%s,%s,%s" % ("-".join(str(c) for c in prof["ciphers"]),
                                "-".join(str(e) for e, _ in prof["exts"]),
                                "-".join(str(g) for g in groups), pfs)


def ja3_string(profile, sni=True):
    prof = PROFILES[profile]
    exts = [EXT_IDS[e] for e in prof["exts"] if sni or e != "server_name"]
    return "771,%s,%s,%s,0" % ("-".join(str(c) for c in prof["ciphers"]),
                               "-".join(str(e) for e in exts),
                               "-".join(str(g) for g in prof["groups"]))


def server_hello(label, session_id, cipher):
    exts = _ext(0xFF01, b"\x00") + _ext(0x0017, b"") + _ext(0x000B, _vec8(b"\x00"))
    body = (b"\x03\x03" + prand(label + "/server-random", 32) + _vec8(session_id) +
            struct.pack("!HB", cipher, 0) + _vec16(exts))
    return tls_handshake(2, body)


def encrypted(ctype, label, n):
    """A record of n opaque (encrypted) bytes."""
    return tls_record(ctype, prand(label, n))


CCS = tls_record(20, b"\x01")


def tls_full(label, chain, sni, profile, request, response, key="ecdsa"):
    """Full TLS 1.2 handshake with the server's certificate chain in the
    clear, then application data. key "ecdsa": ECDHE-ECDSA-AES128-GCM-SHA256
    (the embedded certificates); "rsa": ECDHE-RSA-AES256-GCM-SHA384 over
    secp256r1, the certificates built by x509_cert() (RFC 5246 7.4.2-7.4.3,
    RFC 8422 5.4), without a session ticket. profile "forticlient-tls12" or
    "forticlient-tls13" sends FortiClient's hello, answered in TLS 1.2 as
    the FortiWiFi of nDPI's capture answers both. Returns
    [(client_to_server, bytes)]."""
    sid = prand(label + "/sid", 32)
    cert = tls_handshake(11, _vec24(b"".join(_vec24(c) for c in chain)))
    if key == "rsa":
        hello = (forticlient_hello(profile[len("forticlient-"):], sni, label)
                 if profile.startswith("forticlient-") else client_hello(sni, label, profile))
        ske = tls_handshake(12, b"\x03\x00\x17" + _vec8(b"\x04" + prand(label + "/ske-pub", 64))
                            + b"\x04\x01" + _vec16(prand(label + "/ske-sig", 256)))
        return [
            (True, hello),
            (False, server_hello(label, sid, 0xC030) + cert + ske + tls_handshake(14, b"")),
            (True, tls_handshake(16, _vec8(b"\x04" + prand(label + "/cke", 64))) + CCS +
             encrypted(22, label + "/cfin", 40)),
            (False, CCS + encrypted(22, label + "/sfin", 40)),
            (True, encrypted(23, label + "/req", request)),
            (False, encrypted(23, label + "/resp", response)),
            (True, encrypted(21, label + "/close", 26)),
        ]
    ske = tls_handshake(12, b"\x03\x00\x1d" + _vec8(prand(label + "/ske-pub", 32)) +
                        b"\x04\x03" + _vec16(b"\x30\x45" + prand(label + "/ske-sig", 69)))
    return [
        (True, client_hello(sni, label, profile)),
        (False, server_hello(label, sid, 0xC02B) + cert + ske + tls_handshake(14, b"")),
        (True, tls_handshake(16, _vec8(prand(label + "/cke", 32))) + CCS +
         encrypted(22, label + "/cfin", 40)),
        (False, tls_handshake(4, struct.pack("!I", 7200) + _vec16(prand(label + "/ticket", 160)))
         + CCS + encrypted(22, label + "/sfin", 40)),
        (True, encrypted(23, label + "/req", request)),
        (False, encrypted(23, label + "/resp", response)),
        (True, encrypted(21, label + "/close", 26)),
    ]


def tls_resumed(label, sni, profile, request, response):
    """Abbreviated TLS 1.2 handshake (session resumption): no certificate
    on the wire. Returns [(client_to_server, bytes)]."""
    sid = prand(label + "/sid", 32)
    return [
        (True, client_hello(sni, label, profile, session_id=sid)),
        (False, server_hello(label, sid, 0xC02F) + CCS + encrypted(22, label + "/sfin", 40)),
        (True, CCS + encrypted(22, label + "/cfin", 40) + encrypted(23, label + "/req", request)),
        (False, encrypted(23, label + "/resp", response)),
        (True, encrypted(21, label + "/close", 26)),
    ]


# ------------------------------------------------------------ cleartext

def http_request(method, host, path, headers=(), body=b""):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
    lines += ["%s: %s" % h for h in headers]
    if body or method == "POST":
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_response(body, ctype="text/plain", status="200 OK", server="nginx"):
    return (("HTTP/1.1 %s\r\nServer: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
             "Connection: close\r\n\r\n") % (status, server, ctype, len(body))).encode() + body


def xor(data, key):
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data))


# The legacy FortiGuard query is XOR-obfuscated with a static key
# (CVE-2018-9195); its cleartext layout is unpublished. These payloads carry
# a plausible cleartext (serial number, rated URL) under a made-up key, so
# they are opaque, non-DNS, and long enough to hold a serial and a URL.
FGD_KEY = prand("fortiguard-static-key", 16)


def fortiguard_query(serial, url, seq):
    text = "FGDQ ver=3 sn=%s seq=%d type=wf url=%s" % (serial, seq, url)
    return b"\x00\x01" + xor(text.encode(), FGD_KEY)


def fortiguard_reply(seq, category):
    text = "FGDR ver=3 seq=%d rc=0 cat=%d ttl=3600" % (seq, category)
    return b"\x00\x02" + xor(text.encode(), FGD_KEY)


def dns_query(qid, name, qtype="A"):
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def dns_response(qid, name, answers, qtype="A", ttl=300):
    """answers: [(owner, type, rdata)], e.g. a CNAME chain then addresses."""
    an = None
    for owner, rtype, rdata in answers:
        rr = DNSRR(rrname=owner, type=rtype, ttl=ttl, rdata=rdata)
        an = rr if an is None else an / rr
    return bytes(DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=an,
                     ancount=len(answers)))


# ---------------------------------------------------------------- packets

HOME = [ipaddress.ip_network(n) for n in
        ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
         "fe80::/10", "169.254.0.0/16")]
ROUTER_MAC = "00:00:5e:00:01:01"  # the default gateway (VRRP virtual MAC)


def inside(addr):
    a = ipaddress.ip_address(addr)
    return any(a.version == n.version and a in n for n in HOME)


def host_mac(addr):
    h = hashlib.sha256(addr.encode()).digest()
    return "00:50:56:%02x:%02x:%02x" % (h[0] & 0x3F, h[1], h[2])


class Capture:
    """One capture file: Ethernet frames with capture times in microseconds."""

    def __init__(self, name):
        self.name = name
        self.us = START_US
        self.recs = []
        self.ipid = {}

    def step(self, us):
        self.us += us
        return self.us

    def pause(self, seconds):
        self.us += int(seconds * 1_000_000)

    def _ip(self, src, dst):
        if ":" in src:
            return IPv6(src=src, dst=dst, hlim=64 if inside(src) else 56)
        n = self.ipid.get(src, int.from_bytes(prand("ipid/" + src, 2), "big") & 0x7FFF)
        self.ipid[src] = (n + 1) & 0xFFFF
        return IP(src=src, dst=dst, id=n, ttl=64 if inside(src) else 52, flags="DF")

    def frame(self, src, dst, l4, vlan=None):
        smac = host_mac(src) if inside(src) else ROUTER_MAC
        dmac = host_mac(dst) if inside(dst) else ROUTER_MAC
        e = Ether(src=smac, dst=dmac)
        if isinstance(vlan, tuple):
            e.type = 0x88A8
            e = e / Dot1AD(vlan=vlan[0]) / Dot1Q(vlan=vlan[1])
        elif vlan is not None:
            e = e / Dot1Q(vlan=vlan)
        self.recs.append((self.us, bytes(e / self._ip(src, dst) / l4)))

    def tcp(self, cli, srv, sport, dport, msgs, rtt_ms=30, vlan=None):
        """A whole TCP connection: handshake, msgs [(client_to_server, bytes)]
        in MSS-sized segments, each message acknowledged, FIN both ways."""
        rtt = rtt_ms * 1000
        mss = 1440 if ":" in cli else 1460
        seq = {True: int.from_bytes(prand("isn/%s/%d" % (cli, sport), 4), "big"),
               False: int.from_bytes(prand("isn/%s/%d" % (srv, dport), 4), "big")}
        ends = {True: (cli, srv, sport, dport), False: (srv, cli, dport, sport)}
        win = {True: 502, False: 501}

        def send(c2s, flags, payload=b"", opts=None, window=None):
            s, d, sp, dp = ends[c2s]
            t = TCP(sport=sp, dport=dp, flags=flags, seq=seq[c2s],
                    ack=seq[not c2s] if "A" in flags else 0,
                    window=window or win[c2s], options=opts or [])
            self.frame(s, d, t / payload if payload else t, vlan)
            seq[c2s] = (seq[c2s] + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) \
                & 0xFFFFFFFF

        syn_opts = [("MSS", mss), ("NOP", None), ("WScale", 7), ("NOP", None), ("NOP", None),
                    ("SAckOK", b"")]
        self.step(2000)
        send(True, "S", opts=syn_opts, window=64240)
        self.step(rtt)
        send(False, "SA", opts=syn_opts, window=65160)
        self.step(150)
        send(True, "A")
        prev = True
        for i, (c2s, data) in enumerate(msgs):
            self.step(300 if c2s == prev else (rtt if not c2s else 800))
            for off in range(0, len(data), mss):
                send(c2s, "PA" if off + mss >= len(data) else "A", data[off:off + mss])
                self.step(40)
            nxt = msgs[i + 1][0] if i + 1 < len(msgs) else True
            if nxt == c2s:  # the peer has nothing to say yet: a bare ACK
                self.step(rtt // 2)
                send(not c2s, "A")
            prev = c2s
        self.step(20000)
        send(True, "FA")
        self.step(rtt)
        send(False, "FA")
        self.step(150)
        send(True, "A")

    def udp(self, cli, srv, sport, dport, msgs, rtt_ms=25, vlan=None):
        """UDP datagrams [(client_to_server, bytes)]; a reply follows after
        one round trip, a datagram in the same direction 1 ms later."""
        prev = True
        for c2s, data in msgs:
            self.step(1000 if c2s == prev else rtt_ms * 1000)
            if c2s:
                self.frame(cli, srv, UDP(sport=sport, dport=dport) / data, vlan)
            else:
                self.frame(srv, cli, UDP(sport=dport, dport=sport) / data, vlan)
            prev = c2s

    def syn(self, cli, srv, sport, dport):
        """A TCP SYN (RFC 9293 3.5) that nothing answers, sent again after a
        second, as a port scanner sends it."""
        for n in range(2):
            self.step(1_000_000 if n else 3000)
            self.frame(cli, srv, TCP(sport=sport, dport=dport, flags="S",
                                     seq=int.from_bytes(prand("syn/%s/%d" % (cli, sport), 4),
                                                        "big"),
                                     window=1024, options=[("MSS", 1460)]))

    def probe_udp(self, cli, srv, sport, dport):
        """An empty UDP datagram (a scanner's probe of a closed or silent
        port)."""
        self.step(3000)
        self.frame(cli, srv, UDP(sport=sport, dport=dport))

    def ping(self, cli, srv, ident, count=3, rtt_ms=20):
        """ICMP echo requests and their replies (RFC 792; ICMPv6, RFC 4443
        section 4.1-4.2), one a second, 56 bytes of data as ping(8) sends."""
        for n in range(count):
            data = prand("ping/%s/%d" % (cli, n), 56)
            if ":" in cli:
                req = ICMPv6EchoRequest(id=ident, seq=n + 1, data=data)
                rep = ICMPv6EchoReply(id=ident, seq=n + 1, data=data)
            else:
                req = ICMP(type=8, code=0, id=ident, seq=n + 1) / data
                rep = ICMP(type=0, code=0, id=ident, seq=n + 1) / data
            self.step(1_000_000 if n else 2000)
            self.frame(cli, srv, req)
            self.step(rtt_ms * 1000)
            self.frame(srv, cli, rep)

    # -------------------------------------------------------- conversations

    def tls(self, cli, srv, sport, sni, dport=443, chain=None, profile="openssl", request=420,
            response=980, vlan=None, label=None, key="ecdsa"):
        label = label or "%s/%s/%d/%s" % (self.name, cli, sport, sni)
        if chain:
            msgs = tls_full(label, chain, sni, profile, request, response, key)
        else:
            msgs = tls_resumed(label, sni, profile, request, response)
        self.tcp(cli, srv, sport, dport, msgs, vlan=vlan)

    def http(self, cli, srv, sport, request, response, dport=80, vlan=None):
        self.tcp(cli, srv, sport, dport, [(True, request), (False, response)], vlan=vlan)

    def dns(self, cli, resolver, sport, qid, name, answers, qtype="A", vlan=None):
        self.udp(cli, resolver, sport, 53,
                 [(True, dns_query(qid, name, qtype)),
                  (False, dns_response(qid, name, answers, qtype))], rtt_ms=12, vlan=vlan)

    def write(self, outdir):
        path = os.path.join(outdir, self.name + ".pcap")
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
            for t, data in self.recs:
                f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(data), len(data)))
                f.write(data)
        return path


RESOLVER = "10.0.0.53"      # the site's resolver (inside)
PUBLIC_DNS = "8.8.8.8"      # Google Public DNS

UA_BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/119.0.0.0 Safari/537.36")

FORTI_CHAIN_FMG = [CERT_FORTIMANAGER, CERT_FORTINET_CA]
FORTI_CHAIN_FAZ = [CERT_FORTIANALYZER, CERT_FORTINET_CA]
FORTI_CHAIN_FGT = [CERT_FORTIGATE, CERT_FORTINET_CA]
CROWDSTRIKE_CHAIN = [CERT_CROWDSTRIKE, CERT_DIGICERT_ECC_CA]

# ============================================================ vendor captures


def vendor_fortinet():
    """FortiGates (10.1.0.x management addresses) phoning home."""
    c = Capture("vendor-fortinet")
    # update: FortiGuard anycast update server (AS40934).
    c.tls("10.1.0.11", "96.45.33.64", 40111, "globalupdate.fortinet.net", request=380,
          response=2900)
    # threat-lookup: FortiGuard rating over HTTPS (anycast guard service).
    c.tls("10.1.0.12", "96.45.33.73", 40112, "globalguardservice.fortinet.net", request=310,
          response=260)
    # threat-lookup: legacy rating on UDP 8888, no name anywhere.
    c.udp("10.1.0.13", "208.91.112.53", 1031, 8888,
          [(True, fortiguard_query("FGT60F0000000013", "www.example.net/index.html", 1)),
           (False, fortiguard_reply(1, 52)),
           (True, fortiguard_query("FGT60F0000000013", "news.example.org/today", 2)),
           (False, fortiguard_reply(2, 36))])
    # threat-lookup: legacy rating on UDP 53, not DNS.
    c.udp("10.1.0.14", "208.91.112.54", 1032, 53,
          [(True, fortiguard_query("FGT80F0000000014", "shop.example.com/cart", 1)),
           (False, fortiguard_reply(1, 41))])
    # threat-lookup: legacy rating over cleartext HTTP POST /fgdsvc.
    body = fortiguard_query("FGT40F0000000015", "mail.example.com/login", 7)
    c.http("10.1.0.15", "208.91.112.60", 40115,
           http_request("POST", "guard.fortinet.com", "/fgdsvc",
                        [("Content-Type", "application/octet-stream"), ("Connection", "close")],
                        body),
           http_response(fortiguard_reply(7, 33), "application/octet-stream"))
    # management: FGFM to FortiManager Cloud on TCP 541, its certificate.
    c.tls("10.1.0.16", "208.91.113.80", 40116, None, dport=541, chain=FORTI_CHAIN_FMG,
          request=620, response=340)
    # telemetry: FortiGate Cloud log upload.
    c.tls("10.1.0.17", "208.91.113.93", 40117, "logctrl1.fortinet.com", request=5200,
          response=220)
    # telemetry: OFTP log upload to FortiAnalyzer Cloud, TCP 514 (TLS).
    c.tls("10.1.0.18", "208.91.114.20", 40118, None, dport=514, chain=FORTI_CHAIN_FAZ,
          request=6400, response=180)
    # update: FortiGuard Distribution Server on TCP 8890, address only.
    c.tls("10.1.0.19", "208.91.112.70", 40119, None, dport=8890, request=350, response=3100)
    # licensing: FortiManager's map-server licence check.
    c.tls("10.1.0.20", "96.45.33.80", 40120, "mapserver.fortinet.com", request=280,
          response=400)
    # management: FortiGate Cloud management channel.
    c.tls("10.1.0.21", "96.45.33.90", 40121, "globalmgrctrl.fortinet.net", request=300,
          response=700)
    return c


def vendor_paloalto():
    """PAN-OS firewalls (192.168.3.1-19) and Cortex XDR endpoints (.50-59)."""
    c = Capture("vendor-paloalto")
    # update: content/software update server (Google Cloud).
    c.tls("192.168.3.11", "34.107.151.202", 41011, "updates.paloaltonetworks.com",
          request=520, response=3600)
    # threat-lookup: PAN-DB URL cloud.
    c.tls("192.168.3.12", "35.244.229.101", 41012, "s0000.urlcloud.paloaltonetworks.com",
          request=300, response=240)
    # threat-lookup: DNS Security cloud.
    c.tls("192.168.3.13", "34.107.190.15", 41013, "dns.service.paloaltonetworks.com",
          request=340, response=210)
    # threat-lookup: WildFire file verdicts.
    c.tls("192.168.3.14", "34.107.200.20", 41014, "wildfire.paloaltonetworks.com",
          request=4800, response=300)
    # management: firewall to a cloud-hosted Panorama, TCP 3978, address only.
    c.tls("192.168.3.1", "65.154.226.10", 41001, None, dport=3978, request=900, response=600)
    # management: Cortex XDR agent registration.
    c.tls("192.168.3.50", "35.223.6.69", 50050, "distributions.traps.paloaltonetworks.com",
          profile="schannel", request=700, response=500)
    # telemetry: Cortex XDR EDR data upload.
    c.tls("192.168.3.51", "34.98.77.240", 50051, "dc-acme4c1d.traps.paloaltonetworks.com",
          profile="schannel", request=7000, response=200)
    # remote-access: Cortex XDR live terminal.
    c.tls("192.168.3.52", "34.98.80.5", 50052, "lrc-us.paloaltonetworks.com",
          profile="schannel", request=1200, response=1500)
    # remote-access: GlobalProtect to a Prisma Access portal.
    c.tls("192.168.3.53", "34.107.210.30", 50053, "acme-corp.gpcloudservice.com",
          profile="schannel", request=650, response=900)
    return c


def vendor_checkpoint():
    """Check Point gateways and a management server (172.16.2.x)."""
    c = Capture("vendor-checkpoint")
    # threat-lookup: Anti-Bot cloud probe over cleartext HTTP.
    c.http("172.16.2.11", "194.29.36.43", 42011,
           http_request("GET", "cws.checkpoint.com", "/Malware/SystemStatus/type/short",
                        [("User-Agent", "curl/7.63.0"), ("Accept", "*/*")]),
           http_response(b"status=ok\n"))
    # update: signature list over cleartext HTTP.
    c.http("172.16.2.12", "209.87.209.20", 42012,
           http_request("GET", "sigcheck.checkpoint.com", "/Siglist2.txt",
                        [("User-Agent", "curl/7.63.0"), ("Accept", "*/*")]),
           http_response(b"AV_SIG 2023111401\nURLF_SIG 2023111403\n"))
    # update: IPS / Updatable Objects over TLS.
    c.tls("172.16.2.13", "209.87.209.24", 42013, "updates.checkpoint.com", request=450,
          response=3400)
    # licensing: contract coverage service over TLS.
    c.tls("172.16.2.14", "209.87.209.30", 42014, "productcoverage.checkpoint.com",
          request=600, response=800)
    # licensing: UserCenter coverage service over cleartext HTTP (path).
    c.http("172.16.2.20", "194.29.36.50", 42020,
           http_request("POST", "usercenter.checkpoint.com",
                        "/usercenter/services/ProductCoverageService",
                        [("User-Agent", "cpd"), ("Content-Type", "text/xml; charset=utf-8")],
                        b"<?xml version=\"1.0\"?><GetCoverage><CK>8a1f2c3d4e5f</CK>"
                        b"</GetCoverage>\n"),
           http_response(b"<Coverage><Status>valid</Status></Coverage>\n", "text/xml"))
    # threat-lookup: Threat Emulation cloud.
    c.tls("172.16.2.15", "209.87.209.35", 42015, "te.checkpoint.com", request=5200,
          response=350)
    # management: SIC/CPD to a remote management server, TCP 18191.
    c.tls("172.16.2.16", "209.87.212.52", 42016, None, dport=18191, request=800, response=700)
    # management: ICA services (certificate and CRL), TCP 18264.
    c.tls("172.16.2.17", "209.87.212.53", 42017, None, dport=18264, request=300, response=900)
    # telemetry: FW1_log, gateway logs to a remote log server, TCP 257.
    c.tls("172.16.2.18", "209.87.212.54", 42018, None, dport=257, request=7200, response=150)
    # management: Smart-1 Cloud service by name (AWS Frankfurt).
    c.tls("172.16.2.19", "3.121.40.10", 42019, "acme-5f2b9c31.maas.checkpoint.com",
          request=700, response=900)
    return c


def vendor_vmware():
    """vCenter, NSX, Carbon Black sensors, VeloCloud edges (10.4.0.x)."""
    c = Capture("vendor-vmware")
    # telemetry: CEIP / VMware Analytics Cloud from vCenter.
    c.tls("10.4.0.10", "146.247.46.20", 43010, "vcsa.vmware.com", request=3800, response=180)
    # update: vCenter appliance update repository.
    c.tls("10.4.0.11", "146.247.46.21", 43011, "vapp-updates.vmware.com", request=380,
          response=3200)
    # licensing: VCF licensing service (Akamai).
    c.tls("10.4.0.12", "23.50.10.20", 43012, "vcf.broadcom.com", request=520, response=640)
    # update: NSX IDS/IPS signatures (NTICS) (AWS).
    c.tls("10.4.0.13", "52.33.10.40", 43013, "api.prod.nsxti.vmware.com", request=400,
          response=3000)
    # threat-lookup: NSX ATP cloud (Lastline).
    c.tls("10.4.0.14", "52.33.10.41", 43014, "nsx.lastline.com", request=2500, response=300)
    # update: old Carbon Black sensor signature download over cleartext HTTP.
    c.http("10.4.0.30", "52.33.10.20", 43030,
           http_request("GET", "updates2.cdc.carbonblack.io",
                        "/update2/avupdate/AVUpdate.ini",
                        [("User-Agent", "CbDefense/3.2.0.84"), ("Accept", "*/*")]),
           http_response(b"[Update]\nVersion=8.15.0.1\n", server="AmazonS3"))
    # telemetry: Carbon Black Cloud sensor on the backup port TCP 54443 (EU).
    c.tls("10.4.0.31", "3.120.50.60", 49731, "dev-prod06.conferdeploy.net", dport=54443,
          profile="schannel", request=4200, response=400)
    # telemetry: Carbon Black Cloud sensor on 443.
    c.tls("10.4.0.32", "3.120.50.61", 49732, "dev-prod06.conferdeploy.net",
          profile="schannel", request=3900, response=420)
    # remote-access: VeloCloud edge VCMP tunnel to a gateway, UDP 2426.
    vcmp = []
    for i in range(4):
        vcmp.append((True, prand("vcmp/up/%d" % i, 96 + 40 * i)))
        vcmp.append((False, prand("vcmp/down/%d" % i, 80 + 52 * i)))
    c.udp("10.4.0.40", "146.247.46.40", 2426, 2426, vcmp)
    # management: VeloCloud edge to its Orchestrator.
    c.tls("10.4.0.41", "146.247.46.41", 43041, "veco12-kiad1.velocloud.net", request=700,
          response=1100)
    # management: Workspace ONE UEM enrolment/check-in.
    c.tls("10.4.0.50", "52.33.10.50", 49750, "cn1506.awmdm.com", profile="schannel",
          request=900, response=1300)
    return c


def vendor_crowdstrike():
    """Falcon sensors on Windows workstations (192.168.50.x); the cloud is
    on AWS us-west-2."""
    c = Capture("vendor-crowdstrike")
    # telemetry: sensor to the Falcon cloud, full handshake with its certificate.
    c.tls("192.168.50.11", "52.34.20.10", 50111, "ts01-gyr-maverick.cloudsink.net",
          chain=CROWDSTRIKE_CHAIN, profile="schannel", request=3600, response=500)
    # telemetry: large-file upload server.
    c.tls("192.168.50.12", "52.34.20.11", 50112, "lfoup01-b.cloudsink.net", profile="schannel",
          request=6500, response=200)
    return c


def vendor_sophos():
    """Sophos endpoints (10.50.0.x)."""
    c = Capture("vendor-sophos")
    # update: Sophos AutoUpdate over cleartext HTTP (CloudFront).
    c.http("10.50.0.11", "13.224.60.20", 50211,
           http_request("GET", "dci.sophosupd.com",
                        "/update/3a/4f/3a4f0b2c9d8e7f6a5b4c3d2e1f0a9b8c.dat",
                        [("User-Agent", "SophosUpdateManager/1.6.1.67 SophosAgent/1.0 "
                                        "(Windows NT 10.0.19045; x64)"),
                         ("Accept", "*/*"), ("Connection", "close")]),
           http_response(prand("sophos-dat", 900), "application/octet-stream", server="AmazonS3"))
    # threat-lookup: Live Protection (SXL4) lookups over TLS.
    c.tls("10.50.0.12", "3.122.30.40", 50212, "4.sophosxl.net", profile="schannel",
          request=380, response=260)
    return c


def vendor_trendmicro():
    """Apex One / Deep Security agents (172.20.0.x)."""
    c = Capture("vendor-trendmicro")
    # update: ActiveUpdate over cleartext HTTP (Akamai).
    c.http("172.20.0.11", "23.50.20.30", 50311,
           http_request("GET", "osce14-p.activeupdate.trendmicro.com",
                        "/activeupdate/server.ini",
                        [("User-Agent", "Mozilla/4.0 (compatible; MSIE 8.0; Win32)"),
                         ("Accept", "*/*"), ("Connection", "close")]),
           http_response(b"[Server]\nMaxDownloadRetry=3\n[PATTERN]\nP.4=pattern/lpt$vpn.863\n",
                         server="AkamaiGHost"))
    # threat-lookup: web reputation query over cleartext HTTP.
    c.http("172.20.0.12", "150.70.172.10", 50312,
           http_request("GET", "osce14-0-en.url.trendmicro.com",
                        "/T/152/Rw3ce4wQ8bZvK2mGgA1Zpg==",
                        [("User-Agent", "Mozilla/4.0 (compatible; MSIE 8.0; Win32)"),
                         ("Connection", "close")]),
           http_response(b"\x01\x00\x47", "application/octet-stream", server="Apache"))
    # telemetry: XDR telemetry (AWS).
    c.tls("172.20.0.13", "52.34.20.40", 50313, "api-nabu.aot.trendmicro.com",
          profile="schannel", request=5600, response=240)
    return c


def vendor_kaspersky():
    """Kaspersky endpoints behind carrier-grade NAT space (100.64.7.x)."""
    c = Capture("vendor-kaspersky")
    # update: database update over cleartext HTTP.
    c.http("100.64.7.11", "77.74.177.10", 50411,
           http_request("GET", "dnl-01.geo.kaspersky.com",
                        "/diffs/bases/av/kdb/i386/kdb-i386-0607g.xml.dif",
                        [("Accept", "*/*"), ("Connection", "close")]),
           http_response(prand("kaspersky-dif", 1200), "application/octet-stream"))
    # licensing: activation service.
    c.tls("100.64.7.12", "77.74.178.20", 50412, "activation-v2.kaspersky.com",
          profile="schannel", request=900, response=1400)
    # telemetry: crash dump upload.
    c.tls("100.64.7.13", "77.74.178.21", 50413, "kavdumps.kaspersky.com", profile="schannel",
          request=8000, response=150)
    return c


ESET_UA = ("ESS Update (Windows; U; 64bit; BPC 16.2.15.0; OS: 10.0.19045 SP 0.0 NT; "
           "TDB 28213; CL 1.1.1; x64c; APP eavbe; PX 0; PUA 1; CD 0; RA 0; PLOC en_us; "
           "PCODE 107.0.0; PAR -1; ATH -1; DC 0; PLID 335)")
ESET_AUTH = "Basic RUFWLTAxMjM0NTY3ODk6czNjcjN0cDRzcw=="  # EAV-0123456789:s3cr3tp4ss


def vendor_eset():
    """ESET endpoints (192.168.60.x)."""
    c = Capture("vendor-eset")
    # update: update.eset.com over cleartext HTTP, licence credentials in
    # Basic authentication.
    c.http("192.168.60.11", "91.228.167.21", 50511,
           http_request("GET", "update.eset.com", "/eset_upd/v16/dll/update.ver",
                        [("User-Agent", ESET_UA), ("Authorization", ESET_AUTH),
                         ("Accept", "*/*"), ("Connection", "close")]),
           http_response(b"[HOSTS]\nOther=200@http://91.228.166.13/eset_upd/\n",
                         server="Apache"))
    # update: the same client software against an update server by address
    # (no ESET name anywhere): only the User-Agent says ESET.
    c.http("192.168.60.12", "91.228.166.13", 50512,
           http_request("GET", "91.228.166.13", "/v3-rel-sta/mod_000_loader_1299/em000_64_l0.nup",
                        [("User-Agent", ESET_UA), ("Authorization", ESET_AUTH),
                         ("Accept", "*/*"), ("Connection", "close")]),
           http_response(prand("eset-nup", 1100), "application/octet-stream", server="Apache"))
    # licensing: licence expiry check.
    c.tls("192.168.60.13", "91.228.167.30", 50513, "expire.eset.com", profile="schannel",
          request=350, response=300)
    return c


def vendor_mcafee():
    """McAfee / Trellix endpoints (10.70.0.x)."""
    c = Capture("vendor-mcafee")
    # update: repository catalogue over cleartext HTTP.
    c.http("10.70.0.11", "161.69.12.10", 50611,
           http_request("GET", "update.nai.com", "/Products/CommonUpdater/catalog.z",
                        [("Accept", "*/*"), ("Connection", "close")]),
           http_response(prand("mcafee-catalog", 800), "application/octet-stream"))
    return c


def vendor_symantec():
    """Symantec Endpoint Protection clients (10.80.0.x)."""
    c = Capture("vendor-symantec")
    # update: LiveUpdate over cleartext HTTP (Akamai).
    c.http("10.80.0.11", "23.50.30.40", 50711,
           http_request("GET", "liveupdate.symantecliveupdate.com", "/minitri.flg",
                        [("Accept", "*/*"), ("Connection", "close")]),
           http_response(b" ", "application/octet-stream", server="AkamaiGHost"))
    # update: LiveUpdate over TLS.
    c.tls("10.80.0.12", "23.50.30.41", 50712, "liveupdate.symantec.com", profile="schannel",
          request=400, response=2600)
    return c


def vendor_juniper():
    """An SRX gateway (172.31.0.1) fetching IDP and AppID signatures."""
    c = Capture("vendor-juniper")
    # update: signature download (the device serial is in the query string,
    # inside TLS).
    c.tls("172.31.0.1", "66.129.230.10", 50801, "signatures.juniper.net", request=520,
          response=3800)
    return c


def vendor_cisco():
    """Cisco devices (10.90.0.x) and an Umbrella DNS forwarder."""
    c = Capture("vendor-cisco")
    # licensing: Smart Licensing.
    c.tls("10.90.0.11", "72.163.15.144", 50911, "smartreceiver.cisco.com", request=1500,
          response=900)
    # telemetry: Smart Call Home over cleartext HTTP.
    c.http("10.90.0.12", "72.163.4.161", 50912,
           http_request("POST", "tools.cisco.com", "/its/service/oddce/services/DDCEService",
                        [("Content-Type", "text/xml; charset=utf-8"), ("Connection", "close")],
                        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap-env:Envelope>"
                        b"<ch:Event><ch:Type>inventory</ch:Type><ch:SerialNumber>FOC2234X0AB"
                        b"</ch:SerialNumber></ch:Event></soap-env:Envelope>\n"),
           http_response(b"<ok/>\n", "text/xml"))
    # threat-lookup: a forwarder sending the site's DNS to Umbrella.
    c.dns("10.90.0.13", "208.67.222.222", 50913, 0x5101, "intranet-proxy.example.com",
          [("intranet-proxy.example.com", "A", "198.51.100.20")])
    return c


def vendor_sentinelone():
    """SentinelOne agents (192.168.91.x)."""
    c = Capture("vendor-sentinelone")
    # management: agent to its management console (AWS).
    c.tls("192.168.91.11", "52.34.20.50", 51011, "usea1-007.sentinelone.net",
          profile="schannel", request=2400, response=1800)
    return c


def nosa(label, length):
    """An Avast agent message (dissectors/avast.c after nDPI's
    protocols/avast.c, and the corpus's avast.pcap): "NOSA", the message's
    length in 16 bits (header included), a body no public source describes.
    The agent writes first (96 bytes), the server answers 16, later
    messages are 40 and 86 bytes, one message per TCP segment."""
    return b"NOSA" + struct.pack("!H", length) + prand(label, length - 6)


def securedns_cert_query(qid, name):
    """A DNSCrypt certificate request (DNSCrypt version 2 protocol,
    DNSCrypt/dnscrypt-protocol DNSCRYPT-V2-PROTOCOL.txt, "Certificates"): a
    TXT query (RFC 1035 4.1) for the provider name, sent in the clear; the
    corpus's avast_securedns.pcapng asks for 2.securedns.avast.com on UDP
    443 in mixed case (DNS 0x20). nDPI 4.2 labels the flow AVASTSecureDNS
    when its first datagram holds 00 01 32 09 at offset 11 (the last byte
    of ARCOUNT, then the labels "2" and a 9-byte one) and "securedns" at
    offset 15 (protocols/avast_securedns.c)."""
    qname = b"".join(_vec8(part.encode()) for part in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 16, 1)


def securedns_cert_answer(qid, name, label):
    """The answer: one TXT record holding the resolver's certificate, "DNSC",
    es-version 1 (X25519-XSalsa20Poly1305), minor version 0, a 64-byte
    signature, the 32-byte resolver key, the 8-byte client magic, serial,
    start and end times (124 bytes, as in the corpus capture)."""
    q = securedns_cert_query(qid, name)
    cert = (b"DNSC" + struct.pack("!HH", 1, 0) + prand(label + "/sig", 64) +
            prand(label + "/pk", 32) + prand(label + "/magic", 8) +
            struct.pack("!III", 1625097600, 1625097600, 1656633600))
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 0, len(cert) + 1) + _vec8(cert)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q[12:] + rr


def vendor_avast():
    """Avast endpoints (10.95.0.x)."""
    c = Capture("vendor-avast")
    # update: virus definition update from Avast's CDN.
    c.tls("10.95.0.11", "5.62.53.40", 51111, "honzik.avcdn.net", profile="schannel",
          request=420, response=3300)
    # telemetry: the agent's NOSA messages on TCP 80 to Avast (AS198605).
    c.tcp("10.95.0.12", "5.62.53.53", 64357, 80,
          [(True, nosa("nosa/hello", 96)), (False, nosa("nosa/ack", 16)),
           (True, nosa("nosa/2", 40)), (False, nosa("nosa/3", 16)),
           (True, nosa("nosa/4", 86))])
    # threat-lookup: SecureDNS, a DNSCrypt certificate query to Avast's
    # resolver (hosted at Hivelocity, not in Avast's AS), twice.
    for n, (sport, qid, name) in enumerate([(57970, 0x48C4, "2.SeCUreDnS.aVAst.cOm"),
                                           (61201, 0xD373, "2.sECuRedNS.AvASt.CoM")]):
        c.udp("10.95.0.13", "181.214.35.149", sport, 443,
              [(True, securedns_cert_query(qid, name)),
               (False, securedns_cert_answer(qid, name, "securedns/%d" % n))], rtt_ms=110)
        c.pause(2)
    return c


# =========================================================== feature captures


def feature_dns_binding():
    """Flows without a server name of their own, attributed through a DNS
    answer the same client received earlier."""
    c = Capture("feature-dns-binding")
    # update: PAN-OS resolves its update server through the site resolver,
    # then connects without SNI.
    c.dns("10.6.0.11", RESOLVER, 52011, 0x6011, "updates.paloaltonetworks.com",
          [("updates.paloaltonetworks.com", "A", "34.107.151.203")])
    c.tls("10.6.0.11", "34.107.151.203", 41611, None, request=500, response=3500)
    # update: a Sophos client resolves its update host through a CNAME
    # chain (public resolver), then connects without SNI.
    c.dns("10.6.0.12", PUBLIC_DNS, 52012, 0x6012, "dci.sophosupd.com",
          [("dci.sophosupd.com", "CNAME", "d1y0ttgfvhn7n5.cloudfront.net"),
           ("d1y0ttgfvhn7n5.cloudfront.net", "A", "13.224.60.21")])
    c.tls("10.6.0.12", "13.224.60.21", 50612, None, profile="schannel", request=400,
          response=2400)
    # threat-lookup: a FortiGate resolves its rating server, then sends a
    # legacy rating query on UDP 8888.
    c.dns("10.6.0.13", RESOLVER, 52013, 0x6013, "service.fortiguard.net",
          [("service.fortiguard.net", "A", "208.91.112.198")])
    c.udp("10.6.0.13", "208.91.112.198", 1041, 8888,
          [(True, fortiguard_query("FGT60E0000000613", "portal.example.net/", 1)),
           (False, fortiguard_reply(1, 49))])
    # telemetry: a Falcon sensor on IPv6 resolves its cloud (AAAA), then
    # connects without SNI.
    c.dns("fd00:6::14", RESOLVER6, 52014, 0x6014, "ts01-b.cloudsink.net",
          [("ts01-b.cloudsink.net", "AAAA", "2600:1f14:a2f:9e00::10")], qtype="AAAA")
    c.tls("fd00:6::14", "2600:1f14:a2f:9e00::10", 50614, None, profile="schannel",
          request=2600, response=400)
    # management: a Check Point gateway resolves its Smart-1 Cloud service,
    # then opens SIC (TLS, no SNI) on TCP 18191.
    c.dns("10.6.0.15", RESOLVER, 52015, 0x6015, "acme-5f2b9c31.maas.checkpoint.com",
          [("acme-5f2b9c31.maas.checkpoint.com", "A", "3.121.40.11")])
    c.tls("10.6.0.15", "3.121.40.11", 42615, None, dport=18191, request=800, response=700)
    # silent: another host connects to the PAN-OS update address without
    # SNI and never resolved it (the binding belongs to 10.6.0.11 only).
    c.tls("10.6.0.20", "34.107.151.203", 41620, None, request=500, response=3500)
    return c


RESOLVER6 = "fd00::53"


def feature_ipv6():
    """Phone-home over IPv6 from unique-local addresses."""
    c = Capture("feature-ipv6")
    # update: PAN-OS to the static-update IPv6 back-end (Google Cloud).
    c.tls("fd00:3::11", "2600:1901:0:669::", 41711, "updates.paloaltonetworks.com",
          request=500, response=3400)
    # management: FGFM over IPv6 uses TCP 542; FortiManager's certificate.
    c.tls("fd00:1::16", "2001:db8:40::542", 40716, None, dport=542, chain=FORTI_CHAIN_FMG,
          request=620, response=340)
    return c


def feature_vlan():
    """Phone-home in 802.1Q VLAN-tagged and QinQ (802.1ad) frames."""
    c = Capture("feature-vlan")
    # update: ESET on VLAN 120.
    c.http("10.120.0.11", "91.228.167.22", 50811,
           http_request("GET", "update.eset.com", "/eset_upd/v16/dll/update.ver",
                        [("User-Agent", ESET_UA), ("Authorization", ESET_AUTH),
                         ("Accept", "*/*"), ("Connection", "close")]),
           http_response(b"[HOSTS]\nOther=200@http://91.228.166.13/eset_upd/\n",
                         server="Apache"), vlan=120)
    # management: Check Point SIC on VLAN 30.
    c.tls("172.16.30.5", "209.87.212.55", 42805, None, dport=18191, request=800,
          response=700, vlan=30)
    # update: Kaspersky in QinQ, service VLAN 200, customer VLAN 120.
    c.http("10.120.0.12", "77.74.177.11", 50812,
           http_request("GET", "dnl-01.geo.kaspersky.com", "/diffs/bases/av/kdb/i386/"
                        "kdb-i386-0607g.xml.dif", [("Accept", "*/*"), ("Connection", "close")]),
           http_response(prand("kaspersky-dif-2", 1200), "application/octet-stream"),
           vlan=(200, 120))
    return c


def feature_cert():
    """The server certificate as the only evidence: no SNI, no DNS."""
    c = Capture("feature-cert")
    # telemetry: a Falcon sensor without SNI; the certificate names the cloud.
    c.tls("192.168.50.20", "52.34.20.30", 50120, None, chain=CROWDSTRIKE_CHAIN,
          profile="schannel", request=3000, response=500)
    # management: FGFM to a FortiManager run by a service provider on AWS
    # (not Fortinet address space): the Fortinet CA issued its certificate.
    c.tls("10.1.0.30", "3.122.8.9", 40130, None, dport=541, chain=FORTI_CHAIN_FMG,
          request=620, response=340)
    return c


# ===================================================================== decoys


def decoy_lookalike():
    """Names that contain a vendor's domain but are not the vendor's."""
    c = Capture("decoy-lookalike")
    c.tls("10.7.0.11", "104.21.32.10", 44011, "myfortiguard.net", profile="schannel")
    c.tls("10.7.0.12", "104.21.32.20", 44012, "fortiguard.net.example.org",
          profile="schannel")
    c.tls("10.7.0.13", "104.21.32.11", 44013, "paloaltonetworks.com.evil.example",
          profile="schannel")
    c.http("10.7.0.14", "104.21.32.21", 44014,
           http_request("GET", "checkpoint.com-login.example", "/cws.checkpoint.com/login",
                        [("User-Agent", UA_BROWSER), ("Accept", "text/html")]),
           http_response(b"<html>sign in</html>\n", "text/html"))
    c.tls("10.7.0.15", "104.21.32.12", 44015, "updates-paloaltonetworks.com",
          profile="schannel")
    c.tls("10.7.0.16", "104.21.32.13", 44016, "cloudsink.net.example.com", profile="schannel")
    c.http("10.7.0.17", "104.21.32.22", 44017,
           http_request("GET", "update.eset.com.mirror.example", "/v16/update.ver",
                        [("User-Agent", "Wget/1.21.3"), ("Accept", "*/*")]),
           http_response(b"[HOSTS]\n"))
    # A look-alike resolved first, then reached without SNI.
    c.dns("10.7.0.18", RESOLVER, 44018, 0x7018, "myfortiguard.net",
          [("myfortiguard.net", "A", "104.21.32.14")])
    c.tls("10.7.0.18", "104.21.32.14", 44118, None, profile="schannel")
    return c


def decoy_inbound():
    """Connections opened from vendor address space to inside servers: the
    client is outside, so nothing phones home."""
    c = Capture("decoy-inbound")
    # A host in Fortinet space browses the site's public web server.
    c.tls("208.91.112.77", "10.9.0.10", 51777, "www.example-corp.com", profile="schannel")
    # FortiManager Cloud opens FGFM to a FortiGate (TCP 541).
    c.tls("96.45.33.64", "10.9.0.11", 52541, None, dport=541, chain=FORTI_CHAIN_FGT,
          request=300, response=620)
    # FortiGuard push notification to a FortiGate (UDP 9443).
    c.udp("208.91.112.53", "10.9.0.12", 1043, 9443,
          [(True, prand("fortiguard-push", 64))])
    # A Check Point management server opens SIC to a gateway (TCP 18191).
    c.tls("209.87.209.40", "192.168.9.5", 52191, None, dport=18191, request=800,
          response=700)
    # A rating query from Fortinet space to an inside host on UDP 8888.
    c.udp("208.91.112.54", "10.9.0.13", 1044, 8888,
          [(True, fortiguard_query("FGT60F0000009999", "www.example-corp.com/", 1))])
    return c


def decoy_internal_fds():
    """An on-site FortiManager (10.10.0.5) serving FortiGuard updates and
    ratings to the site's FortiGates, and an on-site Check Point management
    server: all internal, nothing leaves."""
    c = Capture("decoy-internal-fds")
    c.tls("10.20.0.11", "10.10.0.5", 40211, "update.fortiguard.net", dport=8890,
          request=350, response=3100)
    c.tls("10.20.0.12", "10.10.0.5", 40212, "globalupdate.fortinet.net", request=350,
          response=3100)
    c.udp("10.20.0.13", "10.10.0.5", 1051, 8888,
          [(True, fortiguard_query("FGT60F0000002013", "www.example.net/", 1)),
           (False, fortiguard_reply(1, 52))])
    c.udp("10.20.0.15", "10.10.0.5", 1052, 53,
          [(True, fortiguard_query("FGT60F0000002015", "www.example.org/", 1)),
           (False, fortiguard_reply(1, 41))])
    c.tls("10.20.0.14", "10.10.0.5", 40214, None, dport=541, chain=FORTI_CHAIN_FMG,
          request=620, response=340)
    c.tls("172.16.40.2", "172.16.40.10", 40240, None, dport=18191, request=800, response=700)
    c.tls("172.16.40.2", "172.16.40.10", 40241, None, dport=257, request=6000, response=150)
    return c


def decoy_cityofpaloalto():
    """The City of Palo Alto's network (AS397295): a name match on "Palo
    Alto" would flag it."""
    c = Capture("decoy-cityofpaloalto")
    c.dns("192.168.80.11", RESOLVER, 44811, 0x8011, "www.cityofpaloalto.org",
          [("www.cityofpaloalto.org", "A", "199.33.32.10")])
    c.tls("192.168.80.11", "199.33.32.10", 44911, "www.cityofpaloalto.org", profile="schannel")
    c.http("192.168.80.12", "199.33.32.10", 44812,
           http_request("GET", "www.cityofpaloalto.org", "/",
                        [("User-Agent", UA_BROWSER), ("Accept", "text/html")]),
           http_response(b"", "text/html", status="301 Moved Permanently"))
    # An application of the city's on UDP 8888 (opaque datagrams).
    c.udp("192.168.80.13", "199.33.33.20", 50813, 8888,
          [(True, prand("city-app-req", 64)), (False, prand("city-app-resp", 120)),
           (True, prand("city-app-req2", 64)), (False, prand("city-app-resp2", 120))])
    return c


def decoy_domestic():
    """Domestic security vendors (360 / Qihoo, Neusoft) are not foreign."""
    c = Capture("decoy-domestic")
    c.tls("10.30.0.11", "180.163.238.10", 45011, "sdup.360.cn", profile="schannel",
          request=400, response=2600)
    c.http("10.30.0.12", "180.163.238.11", 45012,
           http_request("GET", "sdup.360.cn", "/v3/update/libdefa.ini",
                        [("User-Agent", "360safe"), ("Accept", "*/*")]),
           http_response(b"[lib]\nver=2023.11.14\n"))
    c.tls("10.30.0.13", "180.163.238.12", 45013, "cloud.qihoo.net", profile="schannel")
    c.tls("10.30.0.14", "203.0.113.50", 45014, "update.neusoft.com", request=400,
          response=2600)
    c.http("10.30.0.15", "203.0.113.51", 45015,
           http_request("GET", "www.neusoft.com", "/",
                        [("User-Agent", UA_BROWSER), ("Accept", "text/html")]),
           http_response(b"<html>Neusoft</html>\n", "text/html"))
    return c


def decoy_browsing():
    """Ordinary browsing, including vendors' public web sites: looking at a
    vendor's product pages is not phone-home."""
    c = Capture("decoy-browsing")
    sites = [
        ("192.168.100.11", "www.google.com", "142.250.72.100"),
        ("192.168.100.12", "www.baidu.com", "110.242.68.66"),
        ("192.168.100.13", "www.fortinet.com", "23.55.120.10"),
        ("192.168.100.14", "docs.fortinet.com", "23.55.120.11"),
        ("192.168.100.15", "www.paloaltonetworks.com", "23.55.121.20"),
        ("192.168.100.16", "www.checkpoint.com", "104.18.20.30"),
        ("192.168.100.17", "www.crowdstrike.com", "104.18.20.31"),
        ("192.168.100.18", "www.kaspersky.com", "23.55.122.30"),
        ("192.168.100.19", "www.eset.com", "23.55.122.31"),
        ("192.168.100.20", "www.vmware.com", "23.55.122.32"),
    ]
    for n, (cli, name, addr) in enumerate(sites):
        c.dns(cli, RESOLVER, 45100 + n, 0x9100 + n, name, [(name, "A", addr)])
        c.tls(cli, addr, 46100 + n, name, profile="schannel", request=600, response=1800)
    # Cleartext product page request (redirected to HTTPS).
    c.http("192.168.100.13", "23.55.120.10", 46200,
           http_request("GET", "www.fortinet.com", "/products/next-generation-firewall",
                        [("User-Agent", UA_BROWSER), ("Accept", "text/html")]),
           http_response(b"", "text/html", status="301 Moved Permanently",
                         server="AkamaiGHost"))
    return c


def decoy_dns_only():
    """Clients look vendor names up and never connect: a lookup alone is
    not phone-home."""
    c = Capture("decoy-dns-only")
    names = [
        ("10.8.0.11", PUBLIC_DNS, "update.fortiguard.net", "208.91.112.55"),
        ("10.8.0.11", PUBLIC_DNS, "globalguardservice.fortinet.net", "96.45.33.73"),
        ("10.8.0.12", RESOLVER, "updates.paloaltonetworks.com", "34.107.151.202"),
        ("10.8.0.13", RESOLVER, "cws.checkpoint.com", "194.29.36.43"),
        ("10.8.0.14", PUBLIC_DNS, "ts01-b.cloudsink.net", "52.34.20.10"),
        ("10.8.0.15", RESOLVER, "update.eset.com", "91.228.167.21"),
        ("10.8.0.16", PUBLIC_DNS, "vcsa.vmware.com", "146.247.46.20"),
        ("10.8.0.17", RESOLVER, "dnl-01.geo.kaspersky.com", "77.74.177.10"),
    ]
    for n, (cli, resolver, name, addr) in enumerate(names):
        c.dns(cli, resolver, 47000 + n, 0xA000 + n, name, [(name, "A", addr)])
        c.pause(0.5)
    return c


def decoy_sslvpn():
    """FortiClient SSL-VPN from a laptop to a partner's FortiGate: the
    FortiGate presents its Fortinet factory certificate, but this is a VPN
    to somebody's firewall, not the vendor's cloud."""
    c = Capture("decoy-sslvpn")
    c.tls("192.168.77.20", "198.51.100.77", 53020, "vpn.partner.example", dport=10443,
          chain=FORTI_CHAIN_FGT, profile="schannel", request=1400, response=2200)
    c.tls("192.168.77.21", "198.51.100.77", 53021, None, chain=FORTI_CHAIN_FGT,
          profile="schannel", request=1400, response=2200)
    return c


def decoy_icmp_vendor():
    """Pings to Fortinet addresses (the FortiGuard update servers, v4 and
    v6): reachability tests carry nothing. The pack never alerts on address
    space without the vendor's service ports; tests/detection.py also
    matches this capture with a CIDR-only test signature, to check that an
    ICMP alert joins its flow record (same Community ID, protocol, type)."""
    c = Capture("decoy-icmp-vendor")
    c.ping("10.50.0.11", "208.91.112.55", 0x1d01)
    c.ping("fd00:50::11", "2001:db8:40::55", 0x1d02)
    return c


# ============================================================ device captures
#
# A device names itself to whoever talks to it: the certificate a FortiGate,
# FortiManager, FortiAnalyzer, ESXi host or vCenter presents (role server),
# FortiClient's client hello (role client), the CCP ClusterXL members
# exchange (role peers). Each case comes in the directions it exists in:
# ingress (from outside to the device), internal, and egress (a local host
# to someone else's device outside, which names nothing here).


def device_fortigate():
    """FortiGates (10.11.0.1-4) presenting their factory certificates."""
    c = Capture("device-fortigate")
    # ingress: a remote user's FortiClient to the SSL-VPN on 10443 (the
    # client is outside: only the FortiGate is named).
    c.tls("203.0.113.45", "10.11.0.1", 51845, "10.11.0.1", dport=10443, chain=CHAIN_FGT60F,
          profile="forticlient-tls12", key="rsa", request=1400, response=1400)
    # ingress: a browser to the SSL-VPN web portal on 443 of a FortiGate 100F
    # whose certificate comes from fortinet-subca2001.
    c.tls("198.51.100.23", "10.11.0.2", 52023, "vpn.example-corp.com", chain=CHAIN_FG100F,
          profile="schannel", key="rsa", request=900, response=1500)
    # internal: an administrator's browser to the FortiGate 60F's GUI.
    c.tls("10.11.5.20", "10.11.0.1", 53020, "10.11.0.1", chain=CHAIN_FGT60F,
          profile="schannel", key="rsa", request=700, response=1600)
    # internal: a FortiManager (10.11.0.5) opens FGFM to the FortiGate 100F
    # on TCP 541 (adding a device from the FortiManager).
    c.tls("10.11.0.5", "10.11.0.2", 40541, None, dport=541, chain=CHAIN_FG100F, key="rsa",
          request=620, response=340)
    # internal: an administrator to a FortiWiFi 60E's GUI (nDPI's serial).
    c.tls("10.11.5.21", "10.11.0.4", 53021, "10.11.0.4", chain=CHAIN_FWF60E,
          profile="schannel", key="rsa", request=700, response=1600)
    # egress: a laptop to a partner's FortiGate portal outside: its
    # certificate names a device that is not ours.
    c.tls("10.11.5.22", "198.51.100.80", 53022, "portal.partner.example", chain=CHAIN_FGT80F,
          profile="schannel", key="rsa", request=900, response=1500)
    return c


def device_fortimanager():
    """A FortiManager-VM (10.13.0.5) presenting its factory certificate."""
    c = Capture("device-fortimanager")
    # internal: an administrator's browser to the GUI.
    c.tls("10.13.5.20", "10.13.0.5", 53120, "10.13.0.5", chain=CHAIN_FMG_VM,
          profile="schannel", key="rsa", request=800, response=1800)
    # internal: a FortiGate opens FGFM to its FortiManager (TCP 541).
    c.tls("10.13.0.11", "10.13.0.5", 40611, None, dport=541, chain=CHAIN_FMG_VM, key="rsa",
          request=620, response=340)
    # ingress: a branch FortiGate across the Internet opens FGFM to it.
    c.tls("198.51.100.31", "10.13.0.5", 40631, None, dport=541, chain=CHAIN_FMG_VM,
          key="rsa", request=620, response=340)
    return c


def device_fortianalyzer():
    """A FortiAnalyzer-VM (10.14.0.6) presenting its factory certificate."""
    c = Capture("device-fortianalyzer")
    # internal: a FortiGate sends its logs over OFTP (TLS on TCP 514).
    c.tls("10.14.0.11", "10.14.0.6", 40714, None, dport=514, chain=CHAIN_FAZ_VM, key="rsa",
          request=2400, response=180)
    # internal: an administrator's browser to the GUI.
    c.tls("10.14.5.20", "10.14.0.6", 53220, "10.14.0.6", chain=CHAIN_FAZ_VM,
          profile="schannel", key="rsa", request=800, response=1800)
    return c


def device_forticlient():
    """Laptops running FortiClient (10.12.5.31-34), by their client hello
    to a FortiGate's SSL-VPN on TCP 10443: nDPI's capture's two hellos."""
    c = Capture("device-forticlient")
    # internal: to the site's FortiGate 61F, the TLS 1.2 hello and the TLS
    # 1.3 one (answered in TLS 1.2).
    c.tls("10.12.5.31", "10.12.0.1", 61805, "10.12.0.1", dport=10443, chain=CHAIN_FGT61F,
          profile="forticlient-tls12", key="rsa", request=1300, response=1400)
    c.tls("10.12.5.32", "10.12.0.1", 61820, "10.12.0.1", dport=10443, chain=CHAIN_FGT61F,
          profile="forticlient-tls13", key="rsa", request=1500, response=2400)
    # egress: to a FortiGate outside (head office, reached over the
    # Internet): the hello leaves the network.
    c.tls("10.12.5.33", "198.51.100.90", 61811, "198.51.100.90", dport=10443,
          chain=CHAIN_FGT80F, profile="forticlient-tls12", key="rsa", request=1300,
          response=1400)
    c.tls("10.12.5.34", "198.51.100.90", 61812, "198.51.100.90", dport=10443,
          chain=CHAIN_FGT80F, profile="forticlient-tls13", key="rsa", request=1500,
          response=2400)
    return c


def ccp_header(version, cluster, opcode, src_if, random_id, src_id, dst_id, policy_id):
    """The 20-byte CCP header of Wireshark's packet-cpha.c (struct
    cpha_hdr, version != 1): magic 0x1A90, protocol version, cluster number,
    opcode, source interface, random ID, source and destination machine IDs,
    policy ID, filler; all big endian."""
    return struct.pack("!HHHHHHHHHH", 0x1A90, version, cluster, opcode, src_if, random_id,
                       src_id, dst_id, policy_id, 0)


def ccp_my_state(version, cluster, src_id, states, seq):
    """FWHA_MY_STATE (opcode 1), packet-cpha.c dissect_my_state(): number
    of IDs, report code 3 (machine states and interface states present),
    HA mode 4 (FWHA_ONE_UP_MODE), time unit 100 ms, one state byte per
    member (5 active, 3 standby), the four interface counts and one
    "last seen" byte per member."""
    body = struct.pack("!HHHH", len(states), 3, 4, 100) + bytes(states)
    body += bytes([3, 3, 3, 3]) + bytes(0 if i + 1 == src_id else 1 for i in range(len(states)))
    return ccp_header(version, cluster, 1, 2, seq, src_id, 0xFFFE, 0xE04A) + body


def ccp_probe(version, cluster, src_id, dst_id, opcode, ifn, seq):
    """FWHA_IF_PROBE_REQ (3) or _REPLY (4): the interface number, 32 bits."""
    return ccp_header(version, cluster, opcode, ifn, seq, src_id, dst_id, 0xE04A) + \
        struct.pack("!I", ifn)


# CCP in the corpus capture (cpha.pcap, from nDPI's tests): version 3121,
# sent from 0.0.0.0 to the cluster network's address on VLAN 21, UDP 8116
# both ways, TTL 255, IP ID 0, from MAC 00:00:00:00:01:01 (member 1) to a
# multicast MAC, 01:00:5e and the address's second and third bytes.
CCP_VERSION = 3121


def device_clusterxl():
    """Check Point ClusterXL members talking CCP: in the default multicast
    mode from 0.0.0.0 to the network's address (VLAN 30), and unicast
    between two members' sync addresses (10.40.0.2, 10.40.0.3)."""
    c = Capture("device-clusterxl")
    net = "172.21.30.0"
    for n in range(3):
        for member in (1, 2):
            payload = ccp_my_state(CCP_VERSION, 10130, member, [5, 3], 0x793E + 2 * n + member)
            frame = (Ether(src="00:00:00:00:01:%02x" % member, dst="01:00:5e:15:1e:01") /
                     Dot1Q(vlan=30) / IP(src="0.0.0.0", dst=net, id=0, ttl=255) /
                     UDP(sport=8116, dport=8116) / payload)
            c.step(50_000 if member == 2 else 100_000)
            c.recs.append((c.us, bytes(frame)))
    # unicast CCP on the sync network: state reports and interface probes.
    msgs = []
    for n in range(2):
        msgs.append((True, ccp_my_state(CCP_VERSION, 10140, 1, [5, 3], 0x1100 + n)))
        msgs.append((False, ccp_my_state(CCP_VERSION, 10140, 2, [5, 3], 0x2200 + n)))
    msgs.append((True, ccp_probe(CCP_VERSION, 10140, 1, 2, 3, 4, 0x1180)))
    msgs.append((False, ccp_probe(CCP_VERSION, 10140, 2, 1, 4, 4, 0x2280)))
    c.udp("10.40.0.2", "10.40.0.3", 8116, 8116, msgs, rtt_ms=1)
    return c


def device_vmware():
    """ESXi hosts and a vCenter (10.41.0.x) presenting their certificates."""
    c = Capture("device-vmware")
    # ingress: from outside to an ESXi host's HTTPS (443) that still has
    # the self-signed default certificate, CN=localhost.localdomain.
    c.tls("203.0.113.47", "10.41.0.11", 52047, None, chain=esxi_default(
        "localhost.localdomain", 1631693520), profile="schannel", key="rsa", request=600,
        response=3000)
    # internal: vCenter to a host whose default certificate was made after
    # its name was set.
    c.tls(VCENTER_IP, "10.41.0.12", 44312, "esx-12.corp.example.com",
          chain=esxi_default("esx-12.corp.example.com", 1631697845), key="rsa", request=900,
          response=2200)
    # internal: an administrator to a host with its VMCA certificate.
    c.tls("10.41.5.20", "10.41.0.13", 53320, "esx-13.corp.example.com",
          chain=vmca_issued("esx-13.corp.example.com"), profile="schannel", key="rsa",
          request=700, response=4800)
    # internal: an administrator to vCenter itself (its machine
    # certificate, CN and C only, issued by VMCA).
    c.tls("10.41.5.20", VCENTER_IP, 53321, VCENTER,
          chain=vmca_issued(VCENTER, [("CN", VCENTER), ("C", "US")]), profile="schannel",
          key="rsa", request=700, response=1800)
    # egress: a laptop to an ESXi host of a hosting provider, outside.
    c.tls("10.41.5.21", "198.51.100.120", 53322, None,
          chain=esxi_default("localhost.localdomain", 1598012345), profile="schannel",
          key="rsa", request=600, response=3000)
    return c


VCENTER_IP = "10.41.0.5"


def decoy_cert_lookalike():
    """Internal servers whose certificates look like a vendor's and are not:
    an organisation whose name begins with the vendor's, a host name that
    mentions a product, a FortiGate's deep-inspection CA re-signing an
    intranet site."""
    c = Capture("decoy-cert-lookalike")
    sales = [("C", "GB"), ("L", "London"), ("O", "Fortinet Sales Ltd")]
    c.tls("10.60.5.20", "10.60.0.11", 54011, "10.60.0.11", key="rsa", profile="schannel",
          chain=plain_cert("lookalike/sales", sales + [("OU", "Certificate Authority"),
                                                       ("CN", "support")],
                           sales + [("OU", "FortiGate"), ("CN", "FGT60FTK21000077")]))
    # the same look-alike reached from outside
    c.tls("203.0.113.50", "10.60.0.11", 54111, None, key="rsa", profile="schannel",
          chain=plain_cert("lookalike/sales", sales + [("OU", "Certificate Authority"),
                                                       ("CN", "support")],
                           sales + [("OU", "FortiGate"), ("CN", "FGT60FTK21000077")]))
    x = [("C", "US"), ("O", "FortinetX")]
    c.tls("10.60.5.20", "10.60.0.12", 54012, "10.60.0.12", dport=10443, key="rsa",
          profile="schannel",
          chain=plain_cert("lookalike/x", x + [("OU", "Certificate Authority"),
                                               ("CN", "fortinet-subca2001")],
                           x + [("OU", "FortiGate"), ("CN", "FGT60FTK21000078")]))
    example = [("C", "US"), ("O", "Example")]
    c.tls("10.60.5.20", "10.60.0.13", 54013, "fortigate.example.com", key="rsa",
          profile="schannel",
          chain=plain_cert("lookalike/fortigate-name", example + [("CN", "Example Issuing CA")],
                           example + [("CN", "fortigate.example.com")],
                           san=("fortigate.example.com",)))
    c.tls("10.60.5.20", "10.60.0.14", 54014, "esxi.example.com", key="rsa", profile="schannel",
          chain=plain_cert("lookalike/esxi-name", example + [("CN", "Example Issuing CA")],
                           example + [("OU", "Virtualisation"), ("CN", "esxi.example.com")],
                           san=("esxi.example.com",)))
    reseller = [("C", "US"), ("O", "VMware Inc. Reseller"), ("OU", "VMware Engineering")]
    c.tls("10.60.5.20", "10.60.0.15", 54015, "shop.vmware-reseller.example", key="rsa",
          profile="schannel",
          chain=plain_cert("lookalike/reseller", reseller + [("CN", "Reseller CA")],
                           reseller + [("CN", "shop.vmware-reseller.example")],
                           san=("shop.vmware-reseller.example",)))
    # A FortiGate doing deep inspection re-signs an intranet site with its
    # own CA ("Fortinet_CA_SSL": O=Fortinet, OU=Certificate Authority, CN=
    # the FortiGate's serial): the site is not a Fortinet appliance.
    inspect = FORTI_DN + [("OU", "Certificate Authority"), ("CN", "FG100FTK20099999"),
                          ("emailAddress", "support@fortinet.com")]
    c.tls("10.60.5.21", "10.60.0.16", 54016, "intranet.example-corp.com", key="rsa",
          profile="schannel",
          chain=plain_cert("lookalike/inspected", inspect,
                           [("C", "US"), ("O", "Example Corp"),
                            ("CN", "intranet.example-corp.com")],
                           san=("intranet.example-corp.com",)))
    return c


def decoy_udp_8116():
    """UDP datagrams on port 8116 that are not CCP: nDPI 4.2 labels them
    CPHA by port (a guess)."""
    c = Capture("decoy-udp-8116")
    # between two internal hosts, both ports 8116, opaque payload
    c.udp("10.42.0.5", "10.42.0.6", 8116, 8116,
          [(True, prand("udp8116/a", 72)), (False, prand("udp8116/b", 72)),
           (True, prand("udp8116/c", 40))])
    # an application whose server listens on 8116
    c.udp("10.42.0.7", "10.42.0.8", 50116, 8116,
          [(True, prand("udp8116/d", 120)), (False, prand("udp8116/e", 300))])
    # CCP's magic without the rest of a header: version 0 (refused)
    c.udp("10.42.0.9", "10.42.0.10", 8116, 8116,
          [(True, b"\x1a\x90\x00\x00" + prand("udp8116/f", 40))])
    # to a server outside on 8116
    c.udp("10.42.0.11", "198.51.100.99", 51116, 8116,
          [(True, prand("udp8116/g", 64)), (False, prand("udp8116/h", 64))])
    return c


def decoy_vendor_port_scan():
    """A scan from outside of the ports vendors' devices listen on (TCP
    10443, 541, 8116, 443 and UDP 8116), which nothing answers."""
    c = Capture("decoy-vendor-port-scan")
    for i, host in enumerate(["10.11.0.1", "10.13.0.5", "172.21.30.1"]):
        for j, port in enumerate([10443, 541, 8116, 443]):
            c.syn("203.0.113.66", host, 40000 + 10 * i + j, port)
        c.probe_udp("203.0.113.66", host, 40100 + i, 8116)
    return c


CAPTURES = [
    vendor_fortinet, vendor_paloalto, vendor_checkpoint, vendor_vmware, vendor_crowdstrike,
    vendor_sophos, vendor_trendmicro, vendor_kaspersky, vendor_eset, vendor_mcafee,
    vendor_symantec, vendor_juniper, vendor_cisco, vendor_sentinelone, vendor_avast,
    feature_dns_binding, feature_ipv6, feature_vlan, feature_cert,
    decoy_lookalike, decoy_inbound, decoy_internal_fds, decoy_cityofpaloalto, decoy_domestic,
    decoy_browsing, decoy_dns_only, decoy_sslvpn, decoy_icmp_vendor,
    device_fortigate, device_fortimanager, device_fortianalyzer, device_forticlient,
    device_clusterxl, device_vmware,
    decoy_cert_lookalike, decoy_udp_8116, decoy_vendor_port_scan,
]


def main(argv):
    if len(argv) > 1 and argv[1] == "--ja3":
        for name in sorted(PROFILES):
            for sni in (True, False):
                s = ja3_string(name, sni)
                print("%-9s %-7s %s  %s" % (name, "sni" if sni else "no-sni",
                                            hashlib.md5(s.encode()).hexdigest(), s))
        for kind in sorted(FORTICLIENT_HELLOS):
            s = forticlient_ja3_string(kind)
            print("%-17s %s  %s" % ("forticlient-" + kind, hashlib.md5(s.encode()).hexdigest(),
                                    s))
        return 0
    out = argv[1] if len(argv) > 1 else os.path.join(HERE, "detect")
    os.makedirs(out, exist_ok=True)
    for make in CAPTURES:
        cap = make()
        path = cap.write(out)
        size = os.path.getsize(path)
        assert size < 50 * 1024, "%s is %d bytes" % (path, size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
