#!/usr/bin/env python3
"""Robustness: every corpus capture and corrupted copies of them.

Runs the sensor (built with ASan+UBSan by `make asan`) over:
  - every capture in the corpus, as it is;
  - truncated copies (cut inside the file header, inside a record header,
    inside packet data at several points);
  - copies with bytes flipped (deterministic pseudo-random positions past the
    file header, so the packets themselves are damaged);
  - copies with record lengths rewritten to absurd values.
The sensor may reject a damaged file (exit 1 with a message naming it) but must
never crash, hang or produce a sanitizer report. Files are given many at a time
(-r A -r B ...) so the suite stays quick; a failing batch is re-run file by file
to name the capture that breaks it.
"""

import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile

BATCH = 200
SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"runtime error:", b"ERROR: LeakSanitizer",
                   b"UndefinedBehaviorSanitizer")


def run(sensor, files, timeout):
    args = [sensor, "-c", os.devnull, "-q", "--no-progress", "--flows", os.devnull]
    for f in files:
        args += ["-r", f]
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "exitcode=99:detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:exitcode=98:print_stacktrace=1"
    try:
        p = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "hang (no exit within %ds)" % timeout
    if p.returncode < 0:
        return "killed by signal %d" % -p.returncode
    if p.returncode not in (0, 1):
        return "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:])
    if any(m in p.stderr for m in SANITIZER_MARKS):
        return "sanitizer report: %s" % p.stderr.decode(errors="replace")[-2000:]
    return None


def corrupt(src, dst_dir, rng):
    """Write damaged copies of src into dst_dir, return their paths."""
    data = open(src, "rb").read()
    base = os.path.basename(src)
    out = []

    def put(tag, blob):
        path = os.path.join(dst_dir, "%s.%s" % (base, tag))
        with open(path, "wb") as fp:
            fp.write(blob)
        out.append(path)

    n = len(data)
    for cut in sorted({10, 24 + 7, 24 + 16 + 5, n // 3, n // 2, n - 1}):
        if 0 < cut < n:
            put("cut%d" % cut, data[:cut])
    if n > 64:
        b = bytearray(data)
        for _ in range(max(4, n // 200)):
            i = rng.randrange(24, n)
            b[i] ^= 1 << rng.randrange(8)
        put("flip", bytes(b))
        b = bytearray(data)
        for _ in range(max(2, n // 50)):
            i = rng.randrange(24, n)
            b[i] = rng.randrange(256)
        put("noise", bytes(b))
    if n > 40 and data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        b = bytearray(data)
        struct.pack_into(endian + "II", b, 24 + 8, 0x7fffffff, 0xffffffff)
        put("hugelen", bytes(b))
    return out


def check(sensor, files, timeout, label):
    failures = []
    for i in range(0, len(files), BATCH):
        batch = files[i:i + BATCH]
        why = run(sensor, batch, timeout * len(batch))
        if why is None:
            continue
        before = len(failures)
        for f in batch:
            why1 = run(sensor, [f], timeout)
            if why1 is not None:
                failures.append((f, why1))
        if len(failures) == before:
            failures.append(("batch of %d %s files" % (len(batch), label), why))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sensor")
    ap.add_argument("corpus")
    ap.add_argument("--extra", action="append", default=[], help="more capture folders")
    ap.add_argument("--timeout", type=int, default=20, help="seconds per capture")
    args = ap.parse_args()

    dirs = [args.corpus] + args.extra
    pcaps = []
    for d in dirs:
        if not os.path.isdir(d):
            print("robustness: capture folder %s is absent" % d)
            print("0 passed, 1 failed")
            return 1
        pcaps += sorted(os.path.join(d, f) for f in os.listdir(d)
                        if f.endswith((".pcap", ".pcapng", ".cap")))
    rng = random.Random(20261121)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        failures += check(args.sensor, pcaps, args.timeout, "original")
        damaged = []
        for p in pcaps:
            damaged += corrupt(p, tmp, rng)
        failures += check(args.sensor, damaged, args.timeout, "damaged")
        total = len(pcaps) + len(damaged)
    for f, why in failures:
        print("  FAIL %s: %s" % (f, why))
    print("robustness: %d captures (%d originals, %d damaged copies), %d failures"
          % (total, len(pcaps), total - len(pcaps), len(failures)))
    print("%d passed, %d failed" % (total - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
