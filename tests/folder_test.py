#!/usr/bin/env python3
"""Reading a folder of captures: every flow as reading its capture alone.

1. corpus folder: a folder holding every capture of the shared corpus
   (links to them) and five of them a second time under other names is
   read in one run (-r FOLDER, one worker). Each capture is also read
   alone. Every flow record of the folder run must equal, field for field,
   one record of reading its capture alone -- times, counts, end reason,
   application -- and name that capture (pcap_filename), and the number of
   records per capture must match. The folder run's captures that do not
   continue one another start afresh (run.time_restarts in --stats).
2. split capture: a capture cut in pieces by editcap -c (its pieces
   continue one another) read as a folder gives the flows of the whole,
   with no restart; the pieces named after the options (-r a b c, as a
   shell glob gives them) give the same.
3. order and errors: a folder's captures are read sorted by path, files
   that are not captures are skipped and counted, a folder without any
   capture is exit 2 naming it, standard input named twice is exit 2.

Under CI=true a missing corpus or editcap fails the suite (testlib).
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import testlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DUPLICATES = 5
SPLIT = "teams.pcap"  # the capture cut in pieces

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("  ok   %s" % name)
    else:
        failed += 1
        print("  FAIL %s%s" % (name, (": " + detail) if detail else ""))


def run(sensor, args, timeout=600):
    p = subprocess.run([sensor, "-c", os.devnull, "-q", "--no-progress"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       check=False)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def read_flows(path):
    with open(path) as fp:
        return [json.loads(line) for line in fp if line.strip()]


def is_capture(path):
    """Whether path is a file beginning with a pcap or pcapng magic number."""
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as fp:
        head = fp.read(4)
    return head in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                    b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")


def canon(rec, drop=("pcap_filename",)):
    """A record as text, without the fields that name where it came from."""
    return json.dumps({k: v for k, v in rec.items() if k not in drop}, sort_keys=True)


def alone(sensor, path, tmp, i):
    out = os.path.join(tmp, "alone-%d.json" % i)
    rc, _, err = run(sensor, ["-r", path, "--flows", out])
    return path, rc, err, read_flows(out) if os.path.exists(out) else []


def corpus_folder(sensor, corpus, tmp):
    names = sorted(f for f in os.listdir(corpus)
                   if not f.startswith(".") and is_capture(os.path.join(corpus, f)))
    folder = os.path.join(tmp, "captures")
    os.mkdir(folder)
    for f in names:
        os.symlink(os.path.abspath(os.path.join(corpus, f)), os.path.join(folder, f))
    # the same captures again under other names, in a subfolder: read twice
    dups = [f for f in names if f.endswith(".pcap")][:: max(1, len(names) // DUPLICATES)]
    dups = dups[:DUPLICATES]
    os.mkdir(os.path.join(folder, "again"))
    for f in dups:
        shutil.copy(os.path.join(corpus, f), os.path.join(folder, "again", "copy-of-" + f))
    open(os.path.join(folder, "README.txt"), "w").write("not a capture\n")

    flows = os.path.join(tmp, "folder.json")
    stats = os.path.join(tmp, "folder-stats.json")
    rc, _, err = run(sensor, ["-r", folder, "--flows", flows, "--stats", stats])
    check("the folder is read (exit 0, or 1 for a damaged capture in it)", rc in (0, 1),
          "exit %d: %s" % (rc, err[-300:]))
    got = read_flows(flows)
    st = json.load(open(stats))["run"]
    want_files = len(names) + len(dups)
    check("every capture of the folder and its subfolder is read, the other file skipped",
          st["files_read"] + st["files_failed"] == want_files and st["files_skipped"] == 1,
          "%s (expected %d captures, 1 skipped)" % (st, want_files))

    # every capture alone
    paths = [os.path.join(folder, f) for f in names] + \
        [os.path.join(folder, "again", "copy-of-" + f) for f in dups]
    with ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(lambda a: alone(sensor, a[1], tmp, a[0]), enumerate(paths)))
    by_file = collections.defaultdict(collections.Counter)
    for path, rc, err, recs in results:
        for r in recs:
            by_file[path][canon(r)] += 1
    got_by_file = collections.defaultdict(collections.Counter)
    unnamed = 0
    for r in got:
        p = r.get("pcap_filename")
        if p is None:
            unnamed += 1
        got_by_file[p][canon(r)] += 1
    check("every record names its capture (pcap_filename)", unnamed == 0,
          "%d of %d records without one" % (unnamed, len(got)))
    differ = []
    for path in paths:
        a, b = by_file[path], got_by_file[path]
        if a != b:
            differ.append((path, sum((a - b).values()), sum((b - a).values()),
                           list((a - b).elements())[:1], list((b - a).elements())[:1]))
    n_alone = sum(sum(c.values()) for c in by_file.values())
    check("every flow record equals reading its capture alone (%d records, %d captures)"
          % (n_alone, len(paths)), not differ and n_alone == len(got),
          "%d captures differ, e.g. %s: %d only alone, %d only in the folder run; alone %s; "
          "folder %s" % ((len(differ),) + differ[0]) if differ else
          "%d records alone, %d in the folder run" % (n_alone, len(got)))
    check("captures that do not continue one another start afresh (run.time_restarts %d)"
          % st["time_restarts"], st["time_restarts"] > len(names) // 2, str(st))
    n = sum(1 for p in paths if by_file[p])
    for p in (os.path.join(folder, "again", "copy-of-" + f) for f in dups):
        orig = os.path.join(folder, os.path.basename(p)[len("copy-of-"):])
        if got_by_file[p] and canon_set(got_by_file[p]) != canon_set(got_by_file[orig]):
            check("a capture read twice gives the same records twice: %s" % p, False)
    return n


def canon_set(counter):
    return sorted(counter.elements())


def split_capture(sensor, editcap, src, tmp):
    whole = os.path.join(tmp, "whole.json")
    rc, _, err = run(sensor, ["-r", src, "--flows", whole])
    check("the whole capture is read", rc == 0, err[-300:])
    parts = os.path.join(tmp, "parts")
    os.mkdir(parts)
    subprocess.run([editcap, "-F", "pcap", "-c", "200", src, os.path.join(parts, "part.pcap")],
                   check=True, stdout=subprocess.DEVNULL)
    pieces = sorted(os.listdir(parts))
    check("editcap cut the capture in several pieces (%d)" % len(pieces), len(pieces) >= 3)
    want = collections.Counter(canon(r) for r in read_flows(whole))
    for how, args in (("as a folder", ["-r", parts]),
                      ("named after the options", ["-r"] + [os.path.join(parts, p)
                                                            for p in pieces])):
        # each its own file: outputs are appended to
        out = os.path.join(tmp, "split-%s.json" % how.replace(" ", "-"))
        stats = os.path.join(tmp, "split-stats-%s.json" % how.replace(" ", "-"))
        rc, _, err = run(sensor, args + ["--flows", out, "--stats", stats])
        got = collections.Counter(canon(r) for r in read_flows(out))
        st = json.load(open(stats))["run"]
        check("the pieces %s give the flows of the whole (%d), without a restart"
              % (how, sum(want.values())),
              rc == 0 and got == want and st["time_restarts"] == 0,
              "exit %d, restarts %d, %d only whole, %d only pieces: %s"
              % (rc, st["time_restarts"], sum((want - got).values()),
                 sum((got - want).values()), list((want - got).elements())[:1]))
        names = {r["pcap_filename"] for r in read_flows(out)}
        check("their records name the pieces %s" % how,
              names <= {os.path.join(parts, p) for p in pieces} and len(names) > 1,
              str(sorted(names))[:300])


def order_and_errors(sensor, src, tmp):
    d = os.path.join(tmp, "order")
    os.makedirs(os.path.join(d, "b"))
    for name in ("c.pcap", "a.pcap", os.path.join("b", "z.pcap"), ".hidden.pcap"):
        shutil.copy(src, os.path.join(d, name))
    stats = os.path.join(tmp, "order-stats.json")
    report = os.path.join(tmp, "order.json")
    rc, _, err = run(sensor, ["-r", d, "--stats", stats, "--flows", report])
    files = [r["pcap_filename"] for r in read_flows(report)]
    seen = list(dict.fromkeys(files))
    want = [os.path.join(d, n) for n in ("a.pcap", os.path.join("b", "z.pcap"), "c.pcap")]
    check("a folder is read sorted by path, hidden names skipped", seen == want,
          "%s, expected %s" % (seen, want))
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    open(os.path.join(empty, "notes.txt"), "w").write("x\n")
    rc, _, err = run(sensor, ["-r", empty])
    check("a folder without a capture: exit 2 naming it", rc == 2 and empty in err,
          "exit %d: %s" % (rc, err))
    rc, _, err = run(sensor, ["-r", "-", "-r", "-"])
    check("standard input twice: exit 2", rc == 2 and "standard input" in err,
          "exit %d: %s" % (rc, err))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus"))
    args = ap.parse_args()
    sensor = os.path.abspath(args.sensor)
    if not os.path.isdir(args.corpus):
        return testlib.cannot_run("folder", "no corpus at %s" % args.corpus)
    editcap = shutil.which("editcap")
    if editcap is None:
        return testlib.cannot_run("folder", "editcap (Debian package wireshark-common) is "
                                  "missing")
    tmp = tempfile.mkdtemp(prefix="folder_test.")
    try:
        corpus_folder(sensor, args.corpus, tmp)
        # 83 flows over 2,000 packets, no pause of 30 s: its pieces continue
        split_capture(sensor, editcap, os.path.join(args.corpus, SPLIT), tmp)
        order_and_errors(sensor, os.path.join(ROOT, "pcaps", "example.pcap"), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("folder: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
