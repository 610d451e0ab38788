#!/usr/bin/env python3
"""ja4_compare.py -- the sensor's JA4 against the values nDPI publishes for the corpus.

nDPI (4.10 and later) lists, per flow, a "[JA4: t13d...]" in the result
files of its test suite (tests/cfgs/default/result/NAME.out in the ntop/nDPI
repository). Extract those files for the corpus captures into a folder of
your own outside this tree (they are nDPI's, not ours: never commit them),
then:

  python3 tests/ja4_compare.py --sensor build/egress-sensor \\
      --corpus ../shared/corpus --ndpi-results /tmp/ndpi-results [-v]

The sensor runs over every capture that has a result file (no
configuration: -c /dev/null), its flow records are matched to nDPI's flows
by protocol and the two endpoints (either orientation), and the script
prints:

  coverage   nDPI flows with a JA4 for which the sensor has a JA4 too
  agreement  of those, the same value

and every disagreement, each with the part of the fingerprint that differs
and, where one applies, the known deviation of nDPI from FoxIO's
specification (https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md)
that explains it. The sensor follows the specification; nDPI's
ndpi_compute_ja4() (src/lib/protocols/tls.c) departs from it in these ways,
each of which the script checks against the flow's fields in nDPI's line:

  sni    nDPI writes "i" only when the SNI is a numeric IP address (its
         NUMERIC_IP_HOST risk) and "d" otherwise, a hello without SNI
         included; the specification: "d" when the SNI extension exists.
  alpn   nDPI joins the advertised ALPN values with commas, cuts the last
         character of the joined string and takes its first two
         characters: "h3" alone gives "h0", "http/1.1" gives "ht",
         "h3-29" gives "h3"; the specification takes the first and last
         characters of the first value ("h3", "h1", "h9"), in hex when
         they are not alphanumeric.
  empty  for a hello without ciphers or without extensions (SNI and ALPN
         aside), nDPI hashes the empty string (e3b0c44298fc); the
         specification writes 000000000000.
  version
         nDPI names 0x0100, the pre-RFC DTLS version OpenSSL and Cisco
         AnyConnect speak, "s3"; the specification knows no such version
         ("00").
  proto  nDPI marks every non-QUIC hello over UDP "d" (DTLS) and uses the
         QUIC marker only when it dissected QUIC; the specification asks
         which protocol carried the hello.

Exit status: 0 when every disagreement is explained, 1 otherwise, 2 on a
usage error. Nothing is compared for captures without a result file.
"""

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

FLOW_RE = re.compile(r"^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+(?:<->|->|<-)\s+(\S+)\s+(.*)$")
JA4_RE = re.compile(r"\[JA4: ([^\]]+)\]")
SNI_RE = re.compile(r"\[Hostname/SNI: ([^\]]*)\]")
ALPN_RE = re.compile(r"\[\(Advertised\) ALPNs: ([^\]]*)\]")
NUMERIC_IP_RE = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$")


def split_endpoint(s):
    """'1.2.3.4:443' or '[::1]:443' -> ('1.2.3.4', 443)."""
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        host = host.lower()  # nDPI misprints some IPv6 addresses ("2600:1901::7a0b::")
    return host, int(port)


def ports_key(key):
    """The endpoint key without addresses: a fallback for misprinted ones."""
    return (key[0],) + tuple(sorted([key[1][1], key[2][1]]))


def endpoint_key(proto, a, b):
    return (proto,) + tuple(sorted([a, b]))


def ndpi_flows(path):
    """nDPI's flows with a JA4: a list of dicts."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fp:
        for line in fp:
            m = FLOW_RE.match(line)
            if not m:
                continue
            j = JA4_RE.search(m.group(4))
            if not j:
                continue
            sni = SNI_RE.search(m.group(4))
            alpn = ALPN_RE.search(m.group(4))
            a, b = split_endpoint(m.group(2)), split_endpoint(m.group(3))
            out.append({
                "key": endpoint_key(m.group(1), a, b),
                "ja4": j.group(1),
                "sni": sni.group(1) if sni else "",
                "alpns": alpn.group(1).split(";") if alpn else [],
                "line": line.strip()[:160],
            })
    return out


def sensor_flows(sensor, capture):
    """The sensor's JA4 per endpoint key: {key: [ja4, ...]}."""
    with tempfile.TemporaryDirectory() as tmp:
        flows = os.path.join(tmp, "flows.json")
        subprocess.run([sensor, "-c", "/dev/null", "-r", capture, "--truncate", "--flows", flows],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        got = {}
        if not os.path.exists(flows):
            return got
        with open(flows, encoding="utf-8") as fp:
            for line in fp:
                rec = json.loads(line)
                ja4 = rec.get("tls", {}).get("ja4")
                if not ja4 or "src_port" not in rec:
                    continue
                a = (str(ipaddress.ip_address(rec["src_ip"])), rec["src_port"])
                b = (str(ipaddress.ip_address(rec["dest_ip"])), rec["dest_port"])
                got.setdefault(endpoint_key(rec["proto"], a, b), []).append(ja4)
        return got


# ---------------------------------------------------------------- nDPI's rules


def ndpi_alpn(alpns):
    """nDPI's two ALPN characters from the advertised values."""
    joined = ",".join(alpns)
    if joined:
        joined = joined[:-1]
    first = joined[0] if len(joined) > 0 else "0"
    second = joined[1] if len(joined) > 1 else "0"
    return first + second


def ndpi_sni(sni):
    return "i" if sni and NUMERIC_IP_RE.match(sni) else "d"


ZEROS = "000000000000"
EMPTY_SHA256 = "e3b0c44298fc"


def explain(ours, theirs, nf):
    """Why nDPI's value differs from ours: a list of (part, reason), the
    reason None when no known deviation accounts for it."""
    if len(ours) != len(theirs) or ours.count("_") != 2 or theirs.count("_") != 2:
        return [("shape", None)]
    oa, ob, oc = ours.split("_")
    ta, tb, tc = theirs.split("_")
    parts = []
    if oa[0] != ta[0]:
        parts.append(("proto", "nDPI marks UDP hellos d, QUIC q only when dissected"
                      if ta[0] in "dq" else None))
    if oa[1:3] != ta[1:3]:
        parts.append(("version", "nDPI names version 0x0100 (pre-RFC DTLS) s3"
                      if oa[1:3] == "00" and ta[1:3] == "s3" else None))
    if oa[3] != ta[3]:
        parts.append(("sni", "nDPI: i only for a numeric-IP SNI"
                      if ta[3] == ndpi_sni(nf["sni"]) else None))
    if oa[4:8] != ta[4:8]:
        parts.append(("counts", None))
    if oa[8:10] != ta[8:10]:
        parts.append(("alpn", "nDPI: first two characters of the joined ALPN list minus its last"
                      if ta[8:10] == ndpi_alpn(nf["alpns"]) else None))
    if ob != tb:
        parts.append(("ciphers", None))
    if oc != tc:
        parts.append(("extensions", "nDPI hashes an empty list (e3b0c44298fc, SHA-256 of nothing)"
                      if oc == ZEROS and tc == EMPTY_SHA256 else None))
    if ob != tb and ob == ZEROS and tb == EMPTY_SHA256:
        parts[[p for p, _ in parts].index("ciphers")] = (
            "ciphers", "nDPI hashes an empty list (e3b0c44298fc, SHA-256 of nothing)")
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", default="build/egress-sensor")
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--ndpi-results", required=True,
                    help="folder of nDPI's NAME.out result files (not in this tree)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = ap.parse_args()
    if not os.path.isdir(args.ndpi_results) or not os.path.isdir(args.corpus):
        print("ja4_compare: no such folder: %s or %s" % (args.ndpi_results, args.corpus),
              file=sys.stderr)
        return 2

    total = covered = agreed = 0
    classes = {}
    unexplained = []
    missing = []
    for name in sorted(os.listdir(args.corpus)):
        res = os.path.join(args.ndpi_results, name + ".out")
        if not os.path.exists(res):
            continue
        theirs = ndpi_flows(res)
        if not theirs:
            continue
        ours = sensor_flows(args.sensor, os.path.join(args.corpus, name))
        for nf in theirs:
            total += 1
            cands = ours.get(nf["key"], [])
            if not cands:
                same_ports = [v for k, v in ours.items() if ports_key(k) == ports_key(nf["key"])]
                cands = same_ports[0] if len(same_ports) == 1 else []
            if not cands:
                missing.append((name, nf))
                continue
            covered += 1
            if nf["ja4"] in cands:
                agreed += 1
                continue
            why = explain(cands[0], nf["ja4"], nf)
            label = "+".join(p for p, _ in why)
            explained = all(r is not None for _, r in why)
            classes.setdefault((label, explained), []).append((name, cands[0], nf))
            if not explained:
                unexplained.append((name, cands[0], nf))

    pct = lambda a, b: 100.0 * a / b if b else 0.0
    print("nDPI flows with a JA4: %d" % total)
    print("coverage:  %d (%.1f%%) have a JA4 from the sensor" % (covered, pct(covered, total)))
    print("agreement: %d of %d (%.1f%%) the same value" % (agreed, covered, pct(agreed, covered)))
    for (label, explained), rows in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        reasons = sorted({r for _, r in explain(rows[0][1], rows[0][2]["ja4"], rows[0][2]) if r})
        print("  %4d differ in %-22s %s" % (len(rows), label,
                                           "; ".join(reasons) if explained else "UNEXPLAINED"))
        if args.verbose or not explained:
            for name, o, nf in rows:
                print("       %-48s ours %s nDPI %s" % (name, o, nf["ja4"]))
    if missing:
        print("  %4d without a JA4 from the sensor" % len(missing))
        if args.verbose:
            for name, nf in missing:
                print("       %-48s nDPI %s  %s" % (name, nf["ja4"], nf["line"][:90]))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
