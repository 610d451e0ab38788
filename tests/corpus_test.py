#!/usr/bin/env python3
"""Corpus identifications: what the sensor names in the shared corpus of
real captures, against the reviewed manifest tests/corpus.json.

The sensor runs once per capture of the corpus folder (every *.pcap,
*.pcapng and *.cap file; default ../shared/corpus beside the repository)
with its default home_net, the test geo databases and the signature pack,
writing its alert output (alerts and asset events) and its inventory
(--assets). The manifest maps each capture in which the sensor names a
product to an object with two lists:

  "assets": the identifications, as {"host", "vendor", "product",
    "relation", "why"} objects, optionally with "device": the host's
    device facts (tests/identlib.py);
  "alerts": the alerts, as {"src_ip", "vendor", "category", "why"}
    objects: alerts are compared by (src_ip, vendor, category), since a
    real capture reaches a service at many addresses.

A listed capture passes when its identifications and asset events pass
identlib.compare() (none missing, none unexpected, the same relations,
exactly one asset event per inventory entry, the listed device facts) and
its alerts' keys are exactly the listed ones. Every capture not listed
must name nothing: no alert, no asset event, an empty inventory. The run
fails (exit 1) on any of that, when the sensor exits non-zero on a
capture, when the manifest is not in this form, and when it lists a
capture the corpus folder does not hold. The manifest is written by hand
from what each capture is, never from sensor output.

Captures run --jobs at a time (default 3); the run time is printed. A
missing corpus folder skips the suite, and fails it under CI=true
(testlib.cannot_run).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

import identlib
import testlib
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
MANIFEST = os.path.join(HERE, "corpus.json")
SIGNATURES = os.path.join(ROOT, "config", "signatures")
CAPTURE_EXTS = (".pcap", ".pcapng", ".cap")
ALERT_FIELDS = ("src_ip", "vendor", "category", "why")


def show(path):
    """path relative to the source tree when inside it."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return path if rel.startswith("..") else rel


def load_manifest(path):
    """{capture: {"assets": OrderedDict (identlib.check_entries()),
    "alerts": {(src_ip, vendor, category): why}}}; raises ValueError naming
    the first problem."""
    with open(path) as fp:
        data = json.load(fp, object_pairs_hook=collections.OrderedDict)
    if not isinstance(data, dict):
        raise ValueError("%s: the top level must be an object" % path)
    out = collections.OrderedDict()
    for cap, entry in data.items():
        where = "%s: %s" % (path, cap)
        if not isinstance(entry, dict) or sorted(entry) != ["alerts", "assets"]:
            raise ValueError("%s: expected an object with \"alerts\" and \"assets\" "
                             "(and nothing else)" % where)
        assets = identlib.check_entries(entry["assets"], where)
        if not assets:
            raise ValueError("%s: a listed capture names something: \"assets\" is empty"
                             % where)
        if not isinstance(entry["alerts"], list):
            raise ValueError("%s: \"alerts\" must be a list" % where)
        alerts = collections.OrderedDict()
        for i, a in enumerate(entry["alerts"]):
            w = "%s: alert %d" % (where, i)
            if not isinstance(a, dict) or sorted(a) != sorted(ALERT_FIELDS) or \
                    not all(isinstance(a[f], str) and a[f] for f in ALERT_FIELDS):
                raise ValueError("%s: needs exactly %s (strings)" % (w, ", ".join(ALERT_FIELDS)))
            try:
                k = (identlib.norm_ip(a["src_ip"]), a["vendor"], a["category"])
            except ValueError as e:
                raise ValueError("%s: %s" % (w, e))
            if k in alerts:
                raise ValueError("%s: listed twice" % w)
            alerts[k] = a["why"]
        out[cap] = {"assets": assets, "alerts": alerts}
    return out


def write_config(tmp, geo, signatures):
    """The default home_net (no key for it), the test databases, the pack."""
    path = os.path.join(tmp, "corpus.conf")
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write("sensor_name = \"corpus\";\n")
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write("signatures = { dir = %s; };\n" % cfg_str(os.path.abspath(signatures)))
    return path


def run_one(sensor, conf, pcap, tmp):
    """(records of the alert output, inventory, devices, None), or
    (None, None, None, error text)."""
    d = tempfile.mkdtemp(dir=tmp)
    alerts, assets = os.path.join(d, "alerts.json"), os.path.join(d, "assets.json")
    cmd = [sensor, "-c", conf, "-r", pcap, "--alerts", alerts, "--assets", assets, "-q",
           "--no-progress"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300,
                           check=False)
    except subprocess.TimeoutExpired:
        return None, None, None, "timed out after 300 s"
    if p.returncode != 0:
        return None, None, None, "exit %d: %s" % (p.returncode,
                                                  p.stderr.decode(errors="replace").strip())
    try:
        records = []
        if os.path.exists(alerts):
            with open(alerts) as fp:
                records = [json.loads(line) for line in fp if line.strip()]
        inventory, devices = identlib.read_inventory(assets)
    except (OSError, ValueError, KeyError) as e:
        return None, None, None, "reading the outputs: %s" % e
    return records, inventory, devices, None


def check(cap, expected, records, inventory, devices):
    """Problem lines of one capture (expected None: it must name nothing)."""
    alerts = [r for r in records if r.get("event_type") == "alert"]
    events = identlib.asset_events(records)
    lines = []
    if expected is None:
        for k, rel in inventory.items():
            lines.append("names %s" % identlib.fmt_ident(k, rel))
        for ev in events:
            if identlib.event_key(ev) not in inventory:
                lines.append("asset event for %s" % identlib.fmt_ident(identlib.event_key(ev)))
        for a in alerts:
            lines.append("alert %s %s -> %s (%s)" % (a.get("alert", {}).get("signature_id", "?"),
                                                     a.get("src_ip"), a.get("dest_ip"),
                                                     a.get("alert", {}).get("category", "?")))
        return lines
    for sect, probs in identlib.compare(expected["assets"], inventory, devices,
                                        events).items():
        lines.extend("%s: %s" % (sect, p) for p in probs)
    got = collections.Counter()
    for a in alerts:
        got[(identlib.norm_ip(a.get("src_ip", "0.0.0.0")), a.get("alert", {}).get("vendor"),
             a.get("alert", {}).get("category"))] += 1
    for k, why in expected["alerts"].items():
        if k not in got:
            lines.append("alert missing: %s %s %s (%s)" % (k + (why,)))
    for k, n in got.items():
        if k not in expected["alerts"]:
            lines.append("alert not expected: %s %s %s (%d)" % (k + (n,)))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True,
                    help="folder with the test databases country-dbip.mmdb and asn.mmdb")
    ap.add_argument("--corpus", default=CORPUS,
                    help="the corpus folder (default: ../shared/corpus beside the repository)")
    ap.add_argument("--signatures", default=SIGNATURES,
                    help="signature pack folder (default: config/signatures)")
    ap.add_argument("--manifest", default=MANIFEST,
                    help="what the corpus names (default: tests/corpus.json)")
    ap.add_argument("--jobs", type=int, default=3, help="captures run at once (default 3)")
    args = ap.parse_args()

    if not os.path.isdir(args.corpus):
        return testlib.cannot_run("corpus", "the shared corpus %s is absent" % args.corpus)
    try:
        manifest = load_manifest(args.manifest)
    except (OSError, ValueError) as e:
        print("corpus: %s" % e)
        print("0 passed, 1 failed")
        return 1
    caps = sorted(f for f in os.listdir(args.corpus) if f.endswith(CAPTURE_EXTS))
    problems = ["%s: listed in %s but absent from %s" % (c, show(args.manifest), args.corpus)
                for c in manifest if c not in caps]

    t0 = time.monotonic()
    passed = failed = 0
    named = 0
    with tempfile.TemporaryDirectory(prefix="corpus.") as tmp:
        conf = write_config(tmp, args.geo, args.signatures)

        def one(cap):
            return cap, run_one(args.sensor, conf, os.path.join(args.corpus, cap), tmp)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for cap, (records, inventory, devices, err) in pool.map(one, caps):
                if err:
                    lines = ["sensor: %s" % err]
                else:
                    lines = check(cap, manifest.get(cap), records, inventory, devices)
                    named += bool(inventory)
                if lines:
                    failed += 1
                    print("  FAIL %s" % cap)
                    for line in lines:
                        print("       %s" % line)
                elif cap in manifest:
                    passed += 1
                    print("  ok   %s (%d identifications, %d alert keys)"
                          % (cap, len(manifest[cap]["assets"]), len(manifest[cap]["alerts"])))
                else:
                    passed += 1
    secs = time.monotonic() - t0
    for line in problems:
        print("  FAIL %s" % line)
    failed += len(problems)
    print("corpus: %d captures in %.1f s, %d at a time; %d name a product, %d listed in %s"
          % (len(caps), secs, max(1, args.jobs), named, len(manifest),
             show(args.manifest)))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
