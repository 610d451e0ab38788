#!/usr/bin/env python3
"""make bench: packet rate and peak memory of the sensor against ndpiReader.

Builds one large Ethernet capture from the shared corpus: every Ethernet
capture is appended COPIES times, each copy with its IPv4/IPv6 addresses
shifted (so every copy makes new flows) and its timestamps moved onto a
running clock (gaps capped at one second, so flows expire as in real
traffic). Then both programs read that file on one core (taskset -c 0), and
GNU time reports wall time and peak resident memory. Then the sensor reads it
with --workers 1 and --workers 2 on every core, alternately, five times
each: the best run of each gives the speed-up, and the medians are
reported too. After each pair, two independent busy loops are timed
against one: on a shared virtual machine that ratio, the parallel capacity
the machine gave at that moment, is the ceiling for the speed-up.

Nothing here is pass/fail: the figures are printed and written to
build/bench/results.json.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import socket
import struct
import subprocess
import sys
import tempfile
import time

PCAP_MAGIC_US = 0xa1b2c3d4
PCAP_MAGIC_NS = 0xa1b23c4d


def read_pcap(path):
    """Yield (ts_us, caplen, wirelen, data) from a classic pcap; skip others."""
    with open(path, "rb") as fp:
        hdr = fp.read(24)
        if len(hdr) < 24:
            return
        for endian in ("<", ">"):
            magic, _, _, _, _, snap, dlt = struct.unpack(endian + "IHHiIII", hdr)
            if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
                break
        else:
            return
        if dlt != 1:
            return
        div = 1000 if magic == PCAP_MAGIC_NS else 1
        while True:
            rh = fp.read(16)
            if len(rh) < 16:
                return
            sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", rh)
            if caplen > 262144:
                return
            data = fp.read(caplen)
            if len(data) < caplen:
                return
            yield sec * 1000000 + frac // div, caplen, wirelen, data


def shift(data, copy):
    """Change one byte of both addresses so each copy is a different set of flows."""
    if len(data) < 14:
        return data
    off = 12
    etype = struct.unpack_from(">H", data, off)[0]
    while etype == 0x8100 and len(data) >= off + 6:
        off += 4
        etype = struct.unpack_from(">H", data, off)[0]
    ip = off + 2
    b = bytearray(data)
    if etype == 0x0800 and len(b) >= ip + 20:
        b[ip + 14] ^= copy & 0xff   # third octet of the source
        b[ip + 18] ^= copy & 0xff   # and of the destination
    elif etype == 0x86dd and len(b) >= ip + 40:
        b[ip + 8 + 13] ^= copy & 0xff
        b[ip + 24 + 13] ^= copy & 0xff
    return bytes(b)


def build(corpus, out, copies):
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus)
                   if f.endswith((".pcap", ".cap")))
    # read once into memory (the corpus is small)
    packets = []
    for f in files:
        packets.append(list(read_pcap(f)))
    clock = 1700000000 * 1000000
    n = 0
    with open(out, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 262144, 1))
        for c in range(1, copies + 1):
            for pk in packets:
                prev = None
                for ts, caplen, wirelen, data in pk:
                    gap = 0 if prev is None else min(max(ts - prev, 0), 1000000)
                    prev = ts
                    clock += gap
                    fp.write(struct.pack("<IIII", clock // 1000000, clock % 1000000, caplen,
                                         wirelen))
                    fp.write(shift(data, c))
                    n += 1
                clock += 1000
    return n


def measure(cmd, pin=True):
    """Run cmd under GNU time (on core 0 when pin); return (wall seconds, peak RSS KiB, output)."""
    full = ["/usr/bin/time", "-v"]
    if pin and shutil.which("taskset"):
        full += ["taskset", "-c", "0"]
    full += cmd
    t0 = time.monotonic()
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    wall = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss = int(m.group(1)) if m else 0
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err)
    if m:
        wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    if p.returncode != 0:
        sys.stderr.write("bench: %s exited %d\n%s\n" % (cmd[0], p.returncode, err[-2000:]))
    return wall, rss, p.stdout.decode(errors="replace") + err


SPIN = "sum(range(25000000))"


def parallel_capacity():
    """How much two CPU-bound processes get done at once, against one alone
    (2.0 on two idle cores). A shared machine's neighbours take some of it:
    this is the ceiling for the speed-up of 2 workers at that moment."""
    def spin(n):
        t0 = time.monotonic()
        ps = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n)]
        for p in ps:
            p.wait()
        return time.monotonic() - t0
    one = spin(1)
    two = spin(2)
    return 2 * one / two if two > 0 else 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp, fsync_always=False):
    """A redis-server on a free loopback port in tmp, optionally with its
    append-only file fsynced at every write; (process, url) or (None, None)."""
    if not shutil.which("redis-server"):
        return None, None
    port = free_port()
    aof = ["--appendonly", "yes", "--appendfsync", "always"] if fsync_always else \
        ["--appendonly", "no"]
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--dir", tmp] + aof,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p, "redis://127.0.0.1:%d/0" % port
        except OSError:
            time.sleep(0.05)
    p.kill()
    return None, None


def bench_redis_run(prog, mode, url, spool, count):
    r = subprocess.run([prog, mode, url, spool, str(count)], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=False)
    try:
        return json.loads(r.stdout.decode())
    except ValueError:
        return None


def redis_delivery(args, count=20000):
    """Alerts/s through the output thread, live from the queue and replayed
    from the spool, into a Redis without persistence and into one that
    fsyncs its append-only file at every write; best of three each."""
    out = {}
    if not args.bench_redis:
        return out
    for fsync in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start_redis(tmp, fsync)
            if proc is None:
                print("  redis: redis-server not available, skipped")
                return out
            try:
                for mode in ("live", "replay"):
                    runs = [bench_redis_run(args.bench_redis, mode, url,
                                            os.path.join(tmp, "spool-%s-%d" % (mode, i)), count)
                            for i in range(3)]
                    runs = [r for r in runs if r]
                    if runs:
                        key = "%s%s" % (mode, "_fsync_always" if fsync else "")
                        out[key] = max(runs, key=lambda r: r["alerts_per_s"])
            finally:
                proc.terminate()
                proc.wait()
    return out


def print_redis_delivery(red):
    for fsync in (False, True):
        live = red.get("live%s" % ("_fsync_always" if fsync else ""))
        replay = red.get("replay%s" % ("_fsync_always" if fsync else ""))
        if live and replay:
            print("  redis%s: %d alerts delivered live at %.0f alerts/s, replayed from the spool "
                  "at %.0f alerts/s (%.0f%% of live)"
                  % (" (appendfsync always)" if fsync else "", live["alerts"],
                     live["alerts_per_s"], replay["alerts_per_s"],
                     100.0 * replay["alerts_per_s"] / live["alerts_per_s"]))


def redis_figures(args, cap, n, sensor_cmd):
    """Alerts/s through the output thread, and the packet rate with --redis."""
    out = redis_delivery(args)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_redis(tmp)
        if proc is None:
            return out
        try:
            conf = os.path.join(tmp, "redis.conf")
            with open(conf, "w") as fp:
                fp.write('redis = { url = "%s"; spool_dir = "%s"; };\n'
                         % (url, os.path.join(tmp, "sensor-spool")))
            r_wall, _, _ = min(measure(sensor_cmd + ["-c", conf]) for _ in range(3))
            out["sensor_with_redis"] = {"seconds": r_wall, "packets_per_s": n / r_wall}
        finally:
            proc.terminate()
            proc.wait()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--copies", type=int, default=64)
    ap.add_argument("--reader", default="ndpiReader")
    ap.add_argument("--bench-redis", help="the bench_redis program (alerts/s)")
    ap.add_argument("--redis-only", action="store_true",
                    help="only the Redis delivery figures (live and replayed)")
    ap.add_argument("--config", default=os.devnull,
                    help="configuration for the main run (default: built-in defaults)")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    if args.redis_only:
        red = redis_delivery(args)
        with open(os.path.join(args.out, "redis.json"), "w") as fp:
            json.dump(red, fp, indent=2)
        print_redis_delivery(red)
        return 0
    cap = os.path.join(args.out, "bench.pcap")
    stamp = os.path.join(args.out, "bench.copies")
    if not (os.path.exists(cap) and os.path.exists(stamp)
            and open(stamp).read().strip() == str(args.copies)):
        print("bench: building %s from %s (%d copies)..." % (cap, args.corpus, args.copies))
        n = build(args.corpus, cap, args.copies)
        with open(stamp, "w") as fp:
            fp.write(str(args.copies))
    else:
        n = sum(1 for _ in read_pcap(cap))
    size = os.path.getsize(cap)
    print("bench: %s: %d packets, %.0f MiB" % (cap, n, size / 1048576))

    # warm the page cache so both programs read from memory
    with open(cap, "rb") as fp:
        while fp.read(1 << 24):
            pass

    stats = os.path.join(args.out, "sensor-stats.json")
    sensor_cmd = [args.sensor, "-q", "--no-progress", "-r", cap, "--flows", os.devnull,
                  "--alerts", os.devnull]
    # Best of three for each program: the machine may be busy.
    s_wall, s_rss, _ = min(measure(sensor_cmd + ["-c", args.config, "--stats", stats])
                           for _ in range(3))
    r_wall, r_rss, _ = min(measure([args.reader, "-q", "-i", cap, "-v", "0"]) for _ in range(2))
    # The same run with identification and JA4 off (signatures.dir = "",
    # flow.ja4 = false), for their cost.
    nodet = os.path.join(args.out, "no-detection.conf")
    with open(nodet, "w") as fp:
        fp.write('signatures = { dir = ""; };\nflow = { ja4 = false; };\n')
    n_wall, _, _ = min(measure(sensor_cmd + ["-c", nodet]) for _ in range(3))
    red = redis_figures(args, cap, n, sensor_cmd)
    # Workers: 1 and 2 on every core (not pinned), alternately, best of five
    # (a shared machine's neighbours slow some runs), with the medians too.
    wk = {1: [], 2: []}
    capacity = []
    for _ in range(5):
        for w in (1, 2):
            wk[w].append(measure(sensor_cmd + ["-c", args.config, "--workers", str(w)],
                                 pin=False)[0])
        capacity.append(parallel_capacity())
    w1, w2 = min(wk[1]), min(wk[2])
    m1, m2 = statistics.median(wk[1]), statistics.median(wk[2])
    with open(stats) as fp:
        st = json.load(fp)
    flows = st["flows"]["total"]
    s_pps, r_pps = n / s_wall, n / r_wall
    res = {
        "packets": n, "flows": flows,
        "sensor": {"seconds": s_wall, "packets_per_s": s_pps, "peak_rss_kib": s_rss,
                   "bytes_per_flow": st["flows"]["bytes_per_flow"]},
        "ndpiReader": {"seconds": r_wall, "packets_per_s": r_pps, "peak_rss_kib": r_rss},
        "rate_ratio": s_pps / r_pps, "memory_ratio": s_rss / r_rss if r_rss else None,
        "no_detection": {"seconds": n_wall, "packets_per_s": n / n_wall},
        "detection_cost": 1.0 - (n / s_wall) / (n / n_wall),
        "redis": red,
        "workers": {"cores": os.cpu_count(), "one_packets_per_s": n / w1,
                    "two_packets_per_s": n / w2, "speedup": w1 / w2,
                    "one_seconds": wk[1], "two_seconds": wk[2],
                    "speedup_of_medians": m1 / m2,
                    "parallel_capacity": capacity},
    }
    with open(os.path.join(args.out, "results.json"), "w") as fp:
        json.dump(res, fp, indent=2)
    print("")
    print("  %-12s %12s %14s %14s" % ("", "seconds", "packets/s", "peak RSS"))
    print("  %-12s %12.2f %14.0f %11.1f MiB" % ("egress-sensor", s_wall, s_pps, s_rss / 1024))
    print("  %-12s %12.2f %14.0f %11.1f MiB" % ("ndpiReader", r_wall, r_pps, r_rss / 1024))
    print("")
    print("  rate: sensor is %.2fx ndpiReader (target >= 2x)" % res["rate_ratio"])
    print("  workers (%d cores, not pinned): 1 worker %.0f packets/s, 2 workers %.0f "
          "packets/s, %.2fx (target >= 1.7x); medians %.2f s and %.2f s, %.2fx"
          % (os.cpu_count(), n / w1, n / w2, w1 / w2, m1, m2, m1 / m2))
    print("    the machine's own ceiling meanwhile: two independent busy loops ran at %.2fx "
          "of one (best %.2fx, each round: %s)"
          % (statistics.median(capacity), max(capacity),
             " ".join("%.2f" % c for c in capacity)))
    if r_rss:
        print("  memory: sensor uses %.2f of ndpiReader's peak (target <= 0.20)"
              % res["memory_ratio"])
    print("  flows: %d, %d bytes of table memory per flow" % (flows, st["flows"]["bytes_per_flow"]))
    print("  identification and JA4 (signatures in every direction, dissectors, DNS cache, "
          "JA4): %.0f packets/s without them, so they cost %.1f%% of the rate (target <= 10%%)"
          % (n / n_wall, 100.0 * res["detection_cost"]))
    print_redis_delivery(red)
    if "sensor_with_redis" in red:
        w = red["sensor_with_redis"]["packets_per_s"]
        print("  redis: %.0f packets/s with --redis, %.1f%% of the rate without (target >= 95%%)"
              % (w, 100.0 * w / s_pps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
