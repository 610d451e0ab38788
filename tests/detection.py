#!/usr/bin/env python3
"""Detection tests: the alerts and identifications of each capture in
pcaps/detect/ against the reviewed expectations in tests/detection.json.

The manifest maps each capture's file name to an object with two lists:

  "alerts": the alerts it must raise, as {"vendor", "category", "src_ip",
    "dest_ip"} objects (other keys, such as "why", are notes for the
    reader);
  "assets": the identifications it must make, as {"host", "vendor",
    "product", "relation", "why"} objects, optionally with "device": the
    host's device facts (tests/identlib.py).

A decoy's lists are empty. The sensor runs once per capture with the test
geo databases, the signature pack and home_countries = CN, writing its
alert output (alerts and asset events), its inventory (--assets) and its
flow records. A capture passes when:

  - alerts, compared by (vendor, category, src_ip, dest_ip) (several
    alerts with one key, two signatures of one vendor and category on one
    flow, count once): none expected is missing and none is raised that
    the manifest does not list; and every alert joins the flow record of
    its flow: the same community_id, proto, addresses and ports (or ICMP
    type and code), so a SOC can join the two (and either to Zeek or
    Suricata);
  - identifications, the inventory's (host, vendor, product, relation):
    none expected is missing, none is there that the manifest does not
    list, and none has another relation;
  - asset events: each one's (asset_ip, vendor, product) is in the
    inventory, with a relation no stronger than the inventory's; each
    inventory entry has exactly one; each event's asset_ip is the end of
    the flow it says (src_ip for "client", dest_ip for "server");
  - device facts, where the manifest lists them: the inventory's device
    object of the host is exactly the one listed, and an asset event of
    that identification that carries device facts carries those values.

A last case matches decoy-icmp-vendor.pcap with the pack plus a test
signature that lists only the vendor's CIDRs: its ICMP and ICMPv6 alerts
must join their flow records too. The run fails (exit 1) on any of the
above, when the sensor fails on a capture, when the manifest is not in
this form, when a capture listed in the manifest is absent, and when a
capture in pcaps/detect/ is not in the manifest. Captures come from
pcaps/gen_detect_pcaps.py; the manifest is written by hand from what the
traffic is, never from sensor output.
"""

import argparse
import collections
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

import identlib
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps", "detect")
MANIFEST = os.path.join(HERE, "detection.json")
SIGNATURES = os.path.join(ROOT, "config", "signatures")

CATEGORIES = ("update", "telemetry", "threat-lookup", "licensing", "management",
              "remote-access")
FIELDS = ("vendor", "category", "src_ip", "dest_ip")


def norm_ip(text):
    return ipaddress.ip_address(text).compressed


def key_of(obj):
    return (obj["vendor"], obj["category"], norm_ip(obj["src_ip"]), norm_ip(obj["dest_ip"]))


def show(path):
    """path relative to the source tree when inside it."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return path if rel.startswith("..") else rel


def fmt_key(k):
    return "%s %s %s -> %s" % k


def load_manifest(path):
    """{capture: {"alerts": [expected alert objects], "assets":
    OrderedDict from identlib.check_entries()}}; raises ValueError naming
    the first problem."""
    with open(path) as fp:
        data = json.load(fp, object_pairs_hook=collections.OrderedDict)
    if not isinstance(data, dict):
        raise ValueError("%s: the top level must be an object" % path)
    out = collections.OrderedDict()
    for cap, entry in data.items():
        if not isinstance(entry, dict) or sorted(entry) != ["alerts", "assets"]:
            raise ValueError("%s: %s: expected an object with \"alerts\" and \"assets\" "
                             "(and nothing else)" % (path, cap))
        alerts = entry["alerts"]
        if not isinstance(alerts, list):
            raise ValueError("%s: %s: \"alerts\" must be a list" % (path, cap))
        seen = set()
        for i, a in enumerate(alerts):
            where = "%s: %s: alert %d" % (path, cap, i)
            if not isinstance(a, dict) or any(f not in a for f in FIELDS):
                raise ValueError("%s: needs %s" % (where, ", ".join(FIELDS)))
            if a["category"] not in CATEGORIES:
                raise ValueError("%s: unknown category %r" % (where, a["category"]))
            try:
                k = key_of(a)
            except ValueError as e:
                raise ValueError("%s: %s" % (where, e))
            if k in seen:
                raise ValueError("%s: listed twice: %s" % (where, fmt_key(k)))
            seen.add(k)
        assets = identlib.check_entries(entry["assets"], "%s: %s" % (path, cap))
        out[cap] = {"alerts": alerts, "assets": assets}
    return out


def write_config(tmp, geo, signatures):
    path = os.path.join(tmp, "detection.conf")
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write("sensor_name = \"detection\";\n")
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write("home_countries = [ \"CN\" ];\n")
        fp.write("signatures = { dir = %s; };\n" % cfg_str(os.path.abspath(signatures)))
    return path


def read_lines(path):
    """JSON records of a JSON-lines file; raises ValueError naming the line."""
    recs = []
    if not os.path.exists(path):
        return recs
    with open(path) as fp:
        for n, line in enumerate(fp, 1):
            if line.strip():
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    raise ValueError("%s line %d is not JSON: %s" % (os.path.basename(path), n, e))
    return recs


JOIN_FIELDS = ("proto", "src_ip", "src_port", "dest_ip", "dest_port", "icmp_type", "icmp_code")


def join_problems(alerts, flows):
    """Alerts that do not join a flow record: none has their community_id,
    or the one that has it disagrees on the protocol, an address, a port or
    the ICMP type and code."""
    by_cid = collections.defaultdict(list)
    for f in flows:
        by_cid[f.get("community_id")].append(f)
    bad = []
    for a in alerts:
        cands = by_cid.get(a.get("community_id")) or []
        if not a.get("community_id") or not cands:
            bad.append("%s: no flow record with community_id %r"
                       % (describe_alert(a), a.get("community_id")))
            continue
        if not any(all(a.get(k) == f.get(k) for k in JOIN_FIELDS) for f in cands):
            f = cands[0]
            diff = ", ".join("%s %r vs %r" % (k, a.get(k), f.get(k))
                             for k in JOIN_FIELDS if a.get(k) != f.get(k))
            bad.append("%s: differs from its flow record: %s" % (describe_alert(a), diff))
    return bad


def run_sensor(sensor, conf, pcap, tmp):
    """Returns ({"alerts", "events", "flows", "inventory", "devices"}, None)
    or (None, error text)."""
    out = os.path.join(tmp, "alerts.json")
    flows = os.path.join(tmp, "flows.json")
    assets = os.path.join(tmp, "assets.json")
    for p in (out, flows, assets):
        if os.path.exists(p):
            os.unlink(p)
    cmd = [sensor, "-c", conf, "-r", pcap, "--alerts", out, "--flows", flows, "--assets",
           assets, "-q", "--no-progress"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                           check=False)
    except subprocess.TimeoutExpired:
        return None, "timed out after 120 s"
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()
        hint = ""
        if "alerts" in err or "assets" in err:
            hint = " (does this build accept --alerts and --assets?)"
        elif "signatures" in err:
            hint = " (does this build accept the signatures.dir configuration key?)"
        return None, "exit %d%s: %s" % (p.returncode, hint, err)
    try:
        records = read_lines(out)
        inventory, devices = identlib.read_inventory(assets)
        return {"alerts": [r for r in records if r.get("event_type") == "alert"],
                "events": identlib.asset_events(records), "flows": read_lines(flows),
                "inventory": inventory, "devices": devices}, None
    except (OSError, ValueError, KeyError) as e:
        return None, "reading the outputs: %s" % e


def alert_key(rec):
    a = rec.get("alert", {})
    return (a.get("vendor", "?"), a.get("category", "?"), norm_ip(rec["src_ip"]),
            norm_ip(rec["dest_ip"]))


def describe_alert(rec):
    a = rec.get("alert", {})
    ev = ", ".join("%s=%s" % (e.get("kind"), e.get("value")) for e in a.get("evidence", []))
    return "%s (%s confidence; %s/%s; %s)" % (a.get("signature_id", "?"), a.get("confidence", "?"),
                                              rec.get("proto", "?"), rec.get("dest_port", "?"),
                                              ev or "no evidence")


# A signature naming only the FortiGuard update servers' addresses (the
# test geo rows of 208.91.112.0/22 and 2001:db8:40::/48): a CIDR without
# ports, which the real pack never uses, so an ICMP echo matches it.
CIDR_ONLY_PACK = """vendor = "Fortinet";
signatures = (
  { id = "test-fortinet-cidr-only"; product = "FortiGate"; category = "update";
    severity = "low"; source = "tests/detection.py"; cidrs = [ "208.91.112.0/22", "2001:db8:40::/48" ]; }
);
"""


def icmp_join_case(args, tmp):
    """decoy-icmp-vendor.pcap against the pack and a CIDR-only signature:
    one alert per ping flow (v4 and v6), each joining its flow record."""
    pack = os.path.join(tmp, "pack-cidr-only")
    os.makedirs(pack, exist_ok=True)
    for name in os.listdir(args.signatures):
        if name.endswith(".conf"):
            with open(os.path.join(args.signatures, name), "rb") as src, \
                    open(os.path.join(pack, name), "wb") as dst:
                dst.write(src.read())
    with open(os.path.join(pack, "zz-test-cidr-only.conf"), "w") as fp:
        fp.write(CIDR_ONLY_PACK)
    conf = write_config(tmp, args.geo, pack)
    cap = "decoy-icmp-vendor.pcap"
    res, err = run_sensor(args.sensor, conf, os.path.join(args.pcaps, cap), tmp)
    if err:
        print("  FAIL %s with a CIDR-only signature: sensor: %s" % (cap, err))
        return False, []
    alerts, flows = res["alerts"], res["flows"]
    icmp = sorted(a.get("proto", "?") for a in alerts)
    lines = ["%s (CIDR-only signature): %s" % (cap, b) for b in join_problems(alerts, flows)]
    if icmp != ["ICMP", "IPv6-ICMP"]:
        lines.append("%s (CIDR-only signature): alerts by protocol %s, expected one ICMP and one "
                     "IPv6-ICMP" % (cap, icmp))
    if any(a.get("icmp_type") not in (8, 128) for a in alerts):
        lines.append("%s (CIDR-only signature): an alert without the echo request type" % cap)
    ok = not lines
    print("  %s %s with a CIDR-only signature (%d alerts, %d flow records)"
          % ("ok  " if ok else "FAIL", cap, len(alerts), len(flows)))
    return ok, lines


ID_SECTIONS = (
    ("missing", "identifications missed (expected, not in the inventory)"),
    ("unexpected", "identifications not expected (in the inventory, not in the manifest)"),
    ("relation", "identifications with another relation"),
    ("events", "asset events that disagree with the inventory"),
    ("device", "device facts other than the manifest's"),
)


def print_table(title, rows):
    print("%-20s %8s %6s %7s %7s %6s" % (title, "expected", "found", "missed", "recall",
                                          "false"))
    tot = {"expected": 0, "found": 0, "missed": 0, "false": 0}
    for v in sorted(rows, key=str.lower):
        r = rows[v]
        for f in tot:
            tot[f] += r[f]
        recall = "%.1f%%" % (100.0 * r["found"] / r["expected"]) if r["expected"] else "-"
        print("%-20s %8d %6d %7d %7s %6d" % (v, r["expected"], r["found"], r["missed"], recall,
                                              r["false"]))
    recall = "%.1f%%" % (100.0 * tot["found"] / tot["expected"]) if tot["expected"] else "-"
    print("%-20s %8d %6d %7d %7s %6d" % ("total", tot["expected"], tot["found"], tot["missed"],
                                          recall, tot["false"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True,
                    help="folder with the test databases country-dbip.mmdb and asn.mmdb")
    ap.add_argument("--signatures", default=SIGNATURES,
                    help="signature pack folder (default: config/signatures)")
    ap.add_argument("--pcaps", default=PCAPS, help="capture folder (default: pcaps/detect)")
    ap.add_argument("--manifest", default=MANIFEST,
                    help="expected alerts and identifications (default: tests/detection.json)")
    ap.add_argument("names", nargs="*", help="only these captures (file name, with or "
                    "without .pcap); the presence checks still cover all")
    args = ap.parse_args()

    try:
        manifest = load_manifest(args.manifest)
    except (OSError, ValueError) as e:
        print("detection: %s" % e)
        print("0 passed, 1 failed")
        return 1

    problems = []  # run-level failures, each also counted as a failed capture
    present = sorted(f for f in os.listdir(args.pcaps)
                     if f.endswith((".pcap", ".pcapng"))) if os.path.isdir(args.pcaps) else []
    for cap in manifest:
        if cap not in present:
            problems.append("%s: listed in %s but absent from %s"
                            % (cap, show(args.manifest), show(args.pcaps)))
    for cap in present:
        if cap not in manifest:
            problems.append("%s: in %s but not in %s (add its expected alerts and "
                            "identifications, empty lists for a decoy)"
                            % (cap, show(args.pcaps), show(args.manifest)))

    todo = [c for c in manifest if c in present]
    if args.names:
        want = set(args.names) | {n + ".pcap" for n in args.names}
        todo = [c for c in todo if c in want]

    per_vendor, per_vendor_ids = collections.OrderedDict(), collections.OrderedDict()

    def row(table, v):
        return table.setdefault(v, {"expected": 0, "found": 0, "missed": 0, "false": 0})

    missed_lines, false_lines, join_lines = [], [], []
    id_lines = collections.OrderedDict((k, []) for k, _ in ID_SECTIONS)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="detection.") as tmp:
        conf = write_config(tmp, args.geo, args.signatures)
        for cap in todo:
            expected = collections.OrderedDict((key_of(a), a) for a in manifest[cap]["alerts"])
            exp_ids = manifest[cap]["assets"]
            for k in expected:
                row(per_vendor, k[0])["expected"] += 1
            for k in exp_ids:
                row(per_vendor_ids, k[1])["expected"] += 1
            res, err = run_sensor(args.sensor, conf, os.path.join(args.pcaps, cap), tmp)
            if err:
                failed += 1
                for k in expected:
                    row(per_vendor, k[0])["missed"] += 1
                for k in exp_ids:
                    row(per_vendor_ids, k[1])["missed"] += 1
                print("  FAIL %s: sensor: %s" % (cap, err))
                missed_lines.append("%s: not run (sensor failed), %d expected alerts and %d "
                                    "identifications unchecked"
                                    % (cap, len(expected), len(exp_ids)))
                continue
            alerts = res["alerts"]
            got = collections.OrderedDict()
            for rec in alerts:
                got.setdefault(alert_key(rec), []).append(rec)
            miss = [k for k in expected if k not in got]
            false = [k for k in got if k not in expected]
            for k in expected:
                row(per_vendor, k[0])["found" if k in got else "missed"] += 1
            for k in false:
                row(per_vendor, k[0])["false"] += 1
            for k in miss:
                why = expected[k].get("why")
                missed_lines.append("%s: %s%s" % (cap, fmt_key(k), " (%s)" % why if why else ""))
            for k in false:
                for rec in got[k]:
                    false_lines.append("%s: %s: %s" % (cap, fmt_key(k), describe_alert(rec)))
            unjoined = join_problems(alerts, res["flows"])
            join_lines.extend("%s: %s" % (cap, b) for b in unjoined)

            idp = identlib.compare(exp_ids, res["inventory"], res["devices"], res["events"])
            for k in exp_ids:
                row(per_vendor_ids, k[1])["found" if k in res["inventory"] else "missed"] += 1
            for k in res["inventory"]:
                if k not in exp_ids:
                    row(per_vendor_ids, k[1])["false"] += 1
            for sect, lines in idp.items():
                id_lines[sect].extend("%s: %s" % (cap, line) for line in lines)
            n_id = sum(len(v) for v in idp.values())

            if miss or false or unjoined or n_id:
                failed += 1
                print("  FAIL %s: alerts: %d expected, %d missed, %d false, %d not joining "
                      "their flow; identifications: %d expected, %d missed, %d not expected, "
                      "%d other problems" % (cap, len(expected), len(miss), len(false),
                                             len(unjoined), len(exp_ids), len(idp["missing"]),
                                             len(idp["unexpected"]),
                                             n_id - len(idp["missing"]) -
                                             len(idp["unexpected"])))
            else:
                passed += 1
                print("  ok   %s (%d alerts, %d identifications)"
                      % (cap, len(expected), len(exp_ids)))

        if not args.names or "decoy-icmp-vendor" in " ".join(args.names):
            ok, lines = icmp_join_case(args, tmp)
            join_lines.extend(lines)
            passed, failed = passed + ok, failed + (not ok)

    print()
    print_table("alerts by vendor", per_vendor)
    print()
    print_table("identifications", per_vendor_ids)
    if missed_lines:
        print("\nmissed (expected, not raised):")
        for line in missed_lines:
            print("  " + line)
    if false_lines:
        print("\nfalse (raised, not expected):")
        for line in false_lines:
            print("  " + line)
    if join_lines:
        print("\nalerts that do not join their flow record:")
        for line in join_lines:
            print("  " + line)
    for sect, title in ID_SECTIONS:
        if id_lines[sect]:
            print("\n%s:" % title)
            for line in id_lines[sect]:
                print("  " + line)
    if problems:
        print("\ncaptures and manifest disagree:")
        for line in problems:
            print("  " + line)
        failed += len(problems)
    print()
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
