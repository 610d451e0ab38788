#!/usr/bin/env python3
"""One worker or several: the same capture gives the same output.

Runs build/egress-sensor over every capture of the shared corpus, the
detection captures (pcaps/detect/) and the bundled captures (pcaps/), once
with --workers 1 and once with --workers N (3 by default: an odd number, so
flows do not split evenly by a power of two), and compares:

  - the alerts, line for line and in the same order (alerts are decided in
    stream order whatever the number of workers);
  - the flow records, as sorted lists (workers end flows in their own
    order, the records themselves must be equal), except for the
    application label of the few flows nDPI labels from caches it keeps
    across flows (each worker has its own nDPI module): those are listed
    and must stay under 1% of the flows;
  - the asset inventory, byte for byte;
  - the counters of --stats that do not depend on threads: packets, bytes,
    flows created and ended by reason, alerts, suppressed repeats,
    applications and countries.

The runs with several workers must say so in --stats (run.workers).

The captures are read in batches of BATCH files, one run per batch and
per number of workers (a sensor starts once per batch, not once per
capture: under the sanitizers most of a run is its start). A capture that
does not continue the one before it starts afresh (README, "Reading files
and folders"; tests/folder_test.py shows it gives every flow the record it
has read alone), and every record names its capture (pcap_filename), so
the alerts and flow records are compared capture by capture; exit status,
inventory and counters batch by batch.

Also: every file of the corpus in one run (-r repeated; flow state is kept
across files that continue one another), 1 vs N.

Python standard library only. Prints "N passed, M failed" and exits 1 on
any failure.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402

def run(sensor, files, workers, outdir, tag, config):
    out = {k: os.path.join(outdir, "%s.%s" % (tag, k)) for k in ("alerts", "flows", "assets", "stats")}
    cmd = [sensor, "-q", "--workers", str(workers)]
    if config:
        cmd += ["-c", config]
    for f in files:
        cmd += ["-r", f]
    cmd += ["--truncate", "--alerts", out["alerts"], "--flows", out["flows"], "--assets", out["assets"],
            "--stats", out["stats"]]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    res = {"rc": p.returncode, "stderr": p.stderr.decode(errors="replace")}
    for k, path in out.items():
        try:
            with open(path, "rb") as fp:
                res[k] = fp.read()
        except OSError:
            res[k] = b""
    return res


# What nDPI says of a flow: where its caches across flows may decide.
NDPI_FIELDS = ("app", "app_guessed", "risk", "host", "http", "dns", "tls")

# At most this share of flow labels may differ (see compare()).
MAX_LABEL_DIFF = 0.01


def stable_stats(raw):
    """The counters that must not depend on the number of workers."""
    try:
        st = json.loads(raw)
    except ValueError:
        return None
    drop = {
        # table peaks and sizes depend on how the tables are split
        "flows": ("peak_active", "bytes_per_flow", "collisions"),
        "classification": ("dpi_active_peak",),
        # fragment trains expire lazily, when their own table is touched
        "fragments": ("active", "peak_active", "expired"),
        # every worker keeps a DNS cache of its own
        "detection": ("dns_cache",),
    }
    keep = {}
    # "classification" and "apps" follow the labels: see compare()
    for section in ("packets", "decode", "flows", "detection", "fragments",
                    "dest_countries"):
        v = st.get(section)
        if isinstance(v, dict):
            v = {k: x for k, x in v.items() if k not in drop.get(section, ())}
        elif isinstance(v, list):
            v = sorted(json.dumps(x, sort_keys=True) for x in v)
        keep[section] = v
    return keep


def first_difference(a, b, workers):
    for x, y in zip(a, b):
        if x != y:
            return "  first difference:\n    1: %s\n    %d: %s" % (
                x[:300].decode(errors="replace"), workers, y[:300].decode(errors="replace"))
    return "  one list is a prefix of the other"


def by_file(raw):
    """Lines of a JSON lines output by their pcap_filename, in order."""
    out = {}
    for line in raw.splitlines():
        out.setdefault(json.loads(line).get("pcap_filename"), []).append(line)
    return out


def compare_records(name, a1, an, fl1, fln, workers):
    """One capture's alerts and flow records (lists of lines), 1 vs N."""
    errs = []
    if a1 != an:
        errs.append("alerts differ: %d lines vs %d" % (len(a1), len(an)))
        errs.append(first_difference(a1, an, workers))
    # Flow records: equal but for the application label (with what nDPI
    # derives along with it: risks, host name, TLS details). nDPI keeps a few
    # caches across flows in its module (STUN, Zoom, tinc, Telegram calls:
    # a peer seen in one flow labels the next), and each worker has its own
    # module, so a label that comes from such a cache may differ. Everything
    # else in the record must be equal; the labels that differ are counted.
    def parse(lines):
        recs = {}
        for line in lines:
            r = json.loads(line)
            key = (r["community_id"], r["flow"]["start"], r["src_ip"], r.get("src_port"))
            recs.setdefault(key, []).append(r)
        return recs

    def strip(r):
        r = dict(r)
        for k in NDPI_FIELDS:
            r.pop(k, None)
        return json.dumps(r, sort_keys=True)

    def label(r):
        return json.dumps([r.get(k) for k in NDPI_FIELDS], sort_keys=True)

    f1 = sorted(strip(json.loads(x)) for x in fl1)
    fn = sorted(strip(json.loads(x)) for x in fln)
    labels = 0
    if f1 != fn:
        only1 = set(f1) - set(fn)
        onlyn = set(fn) - set(f1)
        errs.append("flow records differ: %d vs %d; %d only with 1 worker, %d only with %d" % (
            len(f1), len(fn), len(only1), len(onlyn), workers))
        for x in list(only1)[:1]:
            errs.append("  only with 1: %s" % x[:400])
        for x in list(onlyn)[:1]:
            errs.append("  only with %d: %s" % (workers, x[:400]))
    else:
        p1, pn = parse(fl1), parse(fln)
        for key, rs in p1.items():
            a = sorted(label(r) for r in rs)
            b = sorted(label(r) for r in pn.get(key, []))
            if a != b:
                labels += 1
                print("       label %s %s:%s: %s with 1 worker, %s with %d" % (
                    name, rs[0]["dest_ip"], rs[0].get("dest_port"), a, b, workers))
    return errs, labels, len(f1)


def compare_run(one, many, workers):
    """What a run says as a whole, 1 vs N: exit status, the alerts in
    their order, the inventory, the counters that do not depend on
    threads."""
    errs = []
    if one["rc"] != many["rc"]:
        errs.append("exit %d with 1 worker, %d with %d" % (one["rc"], many["rc"], workers))
    if one["alerts"] != many["alerts"]:
        a1, an = one["alerts"].splitlines(), many["alerts"].splitlines()
        errs.append("the alerts' order differs: %d lines vs %d" % (len(a1), len(an)))
        errs.append(first_difference(a1, an, workers))
    if one["assets"] != many["assets"]:
        errs.append("asset inventories differ")
    s1, sn = stable_stats(one["stats"]), stable_stats(many["stats"])
    if s1 is None or sn is None:
        errs.append("stats not written or not JSON")
    elif s1 != sn:
        for k in s1:
            if s1[k] != sn.get(k):
                errs.append("stats section '%s' differs" % k)
    try:
        if workers > 1 and json.loads(many["stats"])["run"]["workers"] != workers:
            errs.append("stats run.workers is not %d" % workers)
    except (ValueError, KeyError, TypeError):
        errs.append("stats run.workers missing")
    return errs


def compare(name, one, many, workers):
    """A whole run, 1 vs N, its records as one capture's."""
    errs = compare_run(one, many, workers)
    rerrs, labels, nflows = compare_records(name, one["alerts"].splitlines(),
                                            many["alerts"].splitlines(),
                                            one["flows"].splitlines(),
                                            many["flows"].splitlines(), workers)
    return errs + rerrs, labels, nflows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensor", default="build/egress-sensor")
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=24, help="captures per run (default 24)")
    ap.add_argument("--config", default="", help="configuration file (default: the sensor's)")
    args = ap.parse_args()

    if not os.path.isdir(args.corpus):
        return testlib.cannot_run("workers", "the shared corpus %s is absent" % args.corpus)
    files = sorted(glob.glob(os.path.join(args.corpus, "*.pcap")) +
                   glob.glob(os.path.join(args.corpus, "*.pcapng")))
    files += sorted(glob.glob("pcaps/detect/*.pcap")) + sorted(glob.glob("pcaps/*.pcap"))
    if not files:
        print("workers: no captures found", file=sys.stderr)
        return 1
    passed = failed = 0
    alerts_seen = 0
    label_diffs = flows_seen = 0
    with tempfile.TemporaryDirectory(prefix="workers-") as tmp:
        def one_batch(i_b):
            i, batch = i_b
            d = os.path.join(tmp, str(i))
            os.mkdir(d)
            r1 = run(args.sensor, batch, 1, d, "one", args.config)
            rn = run(args.sensor, batch, args.workers, d, "many", args.config)
            return batch, r1, rn

        batches = [files[i:i + args.batch] for i in range(0, len(files), args.batch)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for batch, r1, rn in ex.map(one_batch, enumerate(batches)):
                errs = compare_run(r1, rn, args.workers)
                if errs:
                    failed += 1
                    print("  FAIL the batch of %d captures from %s" % (len(batch), batch[0]))
                    for e in errs:
                        print("       " + e)
                else:
                    passed += 1
                try:
                    a1, an = by_file(r1["alerts"]), by_file(rn["alerts"])
                    fl1, fln = by_file(r1["flows"]), by_file(rn["flows"])
                except (ValueError, KeyError) as e:
                    failed += 1
                    print("  FAIL the batch from %s: a record is not JSON: %s" % (batch[0], e))
                    continue
                unnamed = (set(a1) | set(an) | set(fl1) | set(fln)) - set(batch)
                if unnamed:
                    failed += 1
                    print("  FAIL records name no capture of the batch: %s" % sorted(
                        str(x) for x in unnamed)[:3])
                for f in batch:
                    errs, labels, nf = compare_records(os.path.basename(f), a1.get(f, []),
                                                       an.get(f, []), fl1.get(f, []),
                                                       fln.get(f, []), args.workers)
                    label_diffs += labels
                    flows_seen += nf
                    alerts_seen += len(a1.get(f, []))
                    if errs:
                        failed += 1
                        print("  FAIL %s" % f)
                        for e in errs:
                            print("       " + e)
                    else:
                        passed += 1

        # every corpus file in one run: captures that start afresh (time
        # going back, or a gap) and ones that continue, in one stream
        corpus = [f for f in files if f.startswith(args.corpus)]
        d = os.path.join(tmp, "all")
        os.mkdir(d)
        r1 = run(args.sensor, corpus, 1, d, "one", args.config)
        rn = run(args.sensor, corpus, args.workers, d, "many", args.config)
        errs, all_labels, _ = compare("corpus", r1, rn, args.workers)
        nflows = len(r1["flows"].splitlines())
        if nflows < 1000:
            errs.append("only %d flow records from the whole corpus" % nflows)
        if all_labels > nflows * MAX_LABEL_DIFF:
            errs.append("%d of %d labels differ" % (all_labels, nflows))
        if errs:
            failed += 1
            print("  FAIL all %d corpus files in one run" % len(corpus))
            for e in errs:
                print("       " + e)
        else:
            passed += 1
            print("  ok   all %d corpus files in one run: %d flow records, %d alerts" % (
                len(corpus), nflows, len(r1["alerts"].splitlines())))

    print("workers: %d of %d flow labels differ (nDPI's caches across flows)" % (
        label_diffs, flows_seen))
    if label_diffs > flows_seen * MAX_LABEL_DIFF:
        print("  FAIL more than %.1f%% of the labels differ" % (MAX_LABEL_DIFF * 100))
        failed += 1
    if alerts_seen == 0:
        print("  FAIL no capture raised an alert: nothing was compared")
        failed += 1
    print("workers: %d captures compared with 1 and %d workers, %d alerts and asset events in all" % (
        len(files), args.workers, alerts_seen))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
