#!/usr/bin/env python3
"""Golden tests: each capture in pcaps/ against its reviewed expected records.

For pcaps/NAME.pcap (or .pcapng) the expected flow records are in
tests/expected/NAME.pcap.flows.json, one JSON object per line, in output order.
Records are compared field by field; every difference is reported with its
path (e.g. `record 2: flow.bytes_toserver: expected 120, got 124`).

A capture without an expected file FAILS: write one with
`make golden-update`, read it, and commit it only once it is right.

The sensor runs in the source tree's root and reads pcaps/NAME by that
relative path, so the records' pcap_filename is "pcaps/NAME" wherever the
tree is and whatever folder the test was started from.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps")
EXPECTED = os.path.join(HERE, "expected")


def diff(path, exp, got, out):
    if isinstance(exp, dict) and isinstance(got, dict):
        for k in exp:
            if k not in got:
                out.append("%s%s: missing (expected %s)" % (path, k, json.dumps(exp[k])))
            else:
                diff("%s%s." % (path, k), exp[k], got[k], out)
        for k in got:
            if k not in exp:
                out.append("%s%s: unexpected %s" % (path, k, json.dumps(got[k])))
    elif isinstance(exp, list) and isinstance(got, list) and len(exp) == len(got):
        for i, (e, g) in enumerate(zip(exp, got)):
            diff("%s%d." % (path, i), e, g, out)
    elif exp != got or type(exp) is not type(got):
        out.append("%s: expected %s, got %s" % (path.rstrip("."), json.dumps(exp),
                                                json.dumps(got)))


def write_config(tmp, geo):
    path = os.path.join(tmp, "golden.conf")
    with open(path, "w") as fp:
        fp.write('sensor_name = "golden";\n')
        fp.write('geo = { country_db = "%s/country-dbip.mmdb"; asn_db = "%s/asn.mmdb"; };\n'
                 % (os.path.abspath(geo), os.path.abspath(geo)))
    return path


def run_sensor(sensor, conf, name, tmp):
    """The records of pcaps/name, read by that path from the tree's root."""
    out = os.path.join(tmp, "flows.json")
    pcap = os.path.relpath(os.path.join(PCAPS, name), ROOT)
    p = subprocess.run([os.path.abspath(sensor), "-c", conf, "-q", "--no-progress", "-r", pcap,
                        "--truncate", "--flows", out], cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120, check=False)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip())
    with open(out) as fp:
        return [json.loads(line) for line in fp if line.strip()], None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--geo", required=True, help="folder of the test geo databases")
    ap.add_argument("--update", action="store_true",
                    help="write expected files for review instead of comparing")
    ap.add_argument("names", nargs="*", help="only these captures")
    args = ap.parse_args()

    pcaps = sorted(f for f in os.listdir(PCAPS) if f.endswith((".pcap", ".pcapng")))
    if args.names:
        pcaps = [p for p in pcaps if os.path.splitext(p)[0] in args.names or p in args.names]
    if not pcaps:
        print("golden: no captures in %s" % PCAPS)
        print("0 passed, 1 failed")
        return 1
    os.makedirs(EXPECTED, exist_ok=True)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        conf = write_config(tmp, args.geo)
        for name in pcaps:
            exp_path = os.path.join(EXPECTED, name + ".flows.json")
            got, err = run_sensor(args.sensor, conf, name, tmp)
            if err:
                print("  FAIL %s: %s" % (name, err))
                failed += 1
                continue
            if args.update:
                with open(exp_path, "w") as fp:
                    for rec in got:
                        fp.write(json.dumps(rec, sort_keys=False) + "\n")
                print("  wrote %s (%d records): review it before committing"
                      % (os.path.relpath(exp_path, ROOT), len(got)))
                continue
            if not os.path.exists(exp_path):
                print("  FAIL %s: no expected file %s (write one with `make golden-update`, "
                      "review it, commit it)" % (name, os.path.relpath(exp_path, ROOT)))
                failed += 1
                continue
            with open(exp_path) as fp:
                exp = [json.loads(line) for line in fp if line.strip()]
            problems = []
            if len(exp) != len(got):
                problems.append("expected %d records, got %d" % (len(exp), len(got)))
            for i, (e, g) in enumerate(zip(exp, got)):
                diff("record %d: " % i, e, g, problems)
            if problems:
                failed += 1
                print("  FAIL %s" % name)
                for p in problems[:20]:
                    print("      " + p)
            else:
                passed += 1
                print("  ok   %s (%d records)" % (name, len(got)))
    if args.update:
        return 0
    print("golden: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
