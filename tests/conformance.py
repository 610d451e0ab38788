#!/usr/bin/env python3
"""Conformance with nDPI's reference reader over the shared corpus.

For every capture in the corpus, run ndpiReader (Debian package libndpi-bin,
same nDPI version as the sensor links) and the sensor, then compare:

  flows  share of ndpiReader's flows (by 5-tuple, either orientation) that
         the sensor also reports;
  labels share of those matched flows whose application label is the same.

Both figures are printed; the test fails when either is below its threshold
(98% by default). Captures whose flows disagree are listed with the first few
differences so a regression can be traced to a capture.

ndpiReader's output depends only on the capture and the nDPI version, so it
is kept (--cache, default build/ndpi-ref/<nDPI version>/<capture>.csv) and
computed again only when the version or the capture changes. Captures are
compared --jobs at a time; the sensor reads them --batch at a time, in one
run each (see sensor_flows()).
"""

import argparse
import concurrent.futures
import csv
import hashlib
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPv6-ICMP": 58, "SCTP": 132, "GRE": 47,
             "ESP": 50, "AH": 51}


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s


def key(proto, a, pa, b, pb):
    e1, e2 = (norm_ip(a), int(pa)), (norm_ip(b), int(pb))
    return (int(proto),) + (tuple(sorted([e1, e2])))


def ndpi_version(reader):
    """"4.2.0", from the banner ndpiReader prints; "unknown" when it does
    not say."""
    p = subprocess.run([reader, "-h"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30, check=False)
    for line in p.stdout.decode(errors="replace").splitlines():
        if "nDPI" in line and any(c.isdigit() for c in line):
            return line.split("nDPI", 1)[1].strip().split()[0]
    return "unknown"


def ref_csv(reader, pcap, cache):
    """ndpiReader's CSV for pcap, from the cache when it was made from the
    same capture (by size, time and a hash of its first MiB), else made
    now and kept."""
    st = os.stat(pcap)
    with open(pcap, "rb") as fp:
        head = hashlib.sha256(fp.read(1 << 20)).hexdigest()[:16]
    tag = "%d-%d-%s" % (st.st_size, int(st.st_mtime), head)
    out = os.path.join(cache, os.path.basename(pcap) + ".csv")
    stamp = out + ".source"
    try:
        with open(stamp) as fp:
            if fp.read().strip() == tag and os.path.exists(out):
                return out
    except OSError:
        pass
    tmp = "%s.%d.tmp" % (out, os.getpid())  # the sanitizer run may fill the cache too
    if os.path.exists(tmp):
        os.unlink(tmp)
    subprocess.run([reader, "-q", "-i", pcap, "-C", tmp, "-v", "0"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300, check=False)
    if not os.path.exists(tmp):  # nothing to report: an empty result, kept as such
        open(tmp, "w").close()
    os.replace(tmp, out)
    with open(stamp + ".%d.tmp" % os.getpid(), "w") as fp:
        fp.write(tag + "\n")
    os.replace(stamp + ".%d.tmp" % os.getpid(), stamp)
    return out


def ref_flows(reader, pcap, cache):
    out = ref_csv(reader, pcap, cache)
    flows = {}
    if not os.path.exists(out):
        return flows
    with open(out, newline="", errors="replace") as fp:
        rows = csv.reader(fp)
        header = next(rows, None)
        if not header:
            return flows
        header[0] = header[0].lstrip("#")
        col = {name: i for i, name in enumerate(header)}
        for r in rows:
            if len(r) <= col["ndpi_proto"]:
                continue
            k = key(r[col["protocol"]], r[col["src_ip"]], r[col["src_port"]], r[col["dst_ip"]],
                    r[col["dst_port"]])
            flows.setdefault(k, set()).add(r[col["ndpi_proto"]])
    return flows


def sensor_flows(sensor, pcaps, tmpdir):
    """The sensor's flows of a batch of captures read in one run, by
    capture: {pcap: {5-tuple key: set of labels}}. A capture that does not
    continue the one before it starts afresh (README, "Reading files and
    folders"), so each capture's flows are those it gives read alone
    (tests/folder_test.py); one start per batch, not per capture, is what
    makes the sanitizer run affordable."""
    out = os.path.join(tmpdir, os.path.basename(pcaps[0]) + ".flows.json")
    cmd = [sensor, "-c", os.devnull, "-q", "--no-progress", "--truncate", "--flows", out]
    for pcap in pcaps:
        cmd += ["-r", pcap]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600,
                       check=False)
    if p.returncode not in (0,):
        # A capture the sensor rejects still counts: its flows are missing.
        sys.stderr.write("  note: the batch from %s: exit %d: %s\n" % (
            os.path.basename(pcaps[0]), p.returncode, p.stderr.decode(errors="replace").strip()))
    flows = {pcap: {} for pcap in pcaps}
    if not os.path.exists(out):
        return flows
    with open(out) as fp:
        for line in fp:
            rec = json.loads(line)
            proto = rec["proto"]
            pnum = PROTO_NUM.get(proto, int(proto) if proto.isdigit() else -1)
            k = key(pnum, rec["src_ip"], rec.get("src_port", 0), rec["dest_ip"],
                    rec.get("dest_port", 0))
            flows.setdefault(rec.get("pcap_filename"), {}).setdefault(k, set()).add(
                rec.get("app", ""))
    return flows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--reader", default="ndpiReader")
    ap.add_argument("--min-flows", type=float, default=98.0)
    ap.add_argument("--min-labels", type=float, default=98.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every difference")
    ap.add_argument("--cache", default=os.path.join("build", "ndpi-ref"),
                    help="folder for ndpiReader's results, per nDPI version")
    ap.add_argument("--jobs", type=int, default=2, help="captures compared at once")
    ap.add_argument("--batch", type=int, default=24,
                    help="captures the sensor reads in one run (default 24)")
    args = ap.parse_args()

    if not os.path.isdir(args.corpus):
        print("conformance: corpus folder %s is absent: cannot compare with ndpiReader"
              % args.corpus)
        print("0 passed, 1 failed")
        return 1
    pcaps = sorted(os.path.join(args.corpus, f) for f in os.listdir(args.corpus)
                   if f.endswith((".pcap", ".pcapng", ".cap")))
    total_ref = matched = same = 0
    bad_files = []
    cache = os.path.join(args.cache, ndpi_version(args.reader))
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        ours_by_file = {}
        batches = [pcaps[i:i + args.batch] for i in range(0, len(pcaps), args.batch)]
        for res in pool.map(lambda b: sensor_flows(args.sensor, b, tmp), batches):
            ours_by_file.update(res)
        refs = pool.map(lambda pcap: ref_flows(args.reader, pcap, cache), pcaps)
        for pcap, ref in zip(pcaps, refs):
            ours = ours_by_file.get(pcap, {})
            missing, differ = [], []
            for k, labels in ref.items():
                total_ref += 1
                if k not in ours:
                    missing.append(k)
                    continue
                matched += 1
                if labels & ours[k]:
                    same += 1
                else:
                    differ.append((k, sorted(labels), sorted(ours[k])))
            if missing or differ:
                bad_files.append((os.path.basename(pcap), len(ref), missing, differ))

    for name, n, missing, differ in bad_files:
        print("  %-40s %4d flows, %3d missing, %3d labelled differently"
              % (name, n, len(missing), len(differ)))
        limit = None if args.verbose else 3
        for k in missing[:limit]:
            print("      missing  %s" % (k,))
        for k, r, o in differ[:limit]:
            print("      label    %s ndpiReader=%s sensor=%s" % (k, ",".join(r), ",".join(o)))

    flow_pct = 100.0 * matched / total_ref if total_ref else 0.0
    label_pct = 100.0 * same / matched if matched else 0.0
    print("conformance over %d captures: %d ndpiReader flows, %d found by the sensor (%.2f%%), "
          "%d with the same label (%.2f%%)" % (len(pcaps), total_ref, matched, flow_pct, same,
                                               label_pct))
    ok_flows = flow_pct >= args.min_flows
    ok_labels = label_pct >= args.min_labels
    print("  flows  %.2f%% (need %.0f%%): %s" % (flow_pct, args.min_flows,
                                                 "ok" if ok_flows else "FAIL"))
    print("  labels %.2f%% (need %.0f%%): %s" % (label_pct, args.min_labels,
                                                 "ok" if ok_labels else "FAIL"))
    passed = int(ok_flows) + int(ok_labels)
    print("%d passed, %d failed" % (passed, 2 - passed))
    return 0 if passed == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
