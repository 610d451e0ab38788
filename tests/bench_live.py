#!/usr/bin/env python3
"""make bench: the highest packet rate the live sensor follows with < 0.1% drops.

Creates a network namespace (named with this process's id) and a veth pair
with one end inside it, and writes the first --packets records of the bench
capture (tests/bench.py builds it from the corpus) to a temporary pcap. Each
trial starts build/egress-sensor with -i on the host end (built-in
configuration, so the signature pack in config/signatures and the geo
databases in geo/data are loaded and detection runs as in production; alerts
and flow records go to /dev/null), replays the prefix into the other end with
tcpreplay from inside the namespace at a fixed rate (--preload-pcap, so
reading the file does not slow the replayer), waits until the sensor has
taken every packet or its count stops moving, stops it with SIGTERM and
reads its --stats file.

IPv4 fragments (about 0.1% of the bench capture) are replayed like any
other packet; --no-fragments leaves them out of the prefix.

A trial sends min(prefix, rate x --seconds) packets. Its drop ratio is

    dropped / offered, dropped = max(offered - analysed, kernel + interface drops)

where offered is what tcpreplay sent successfully, analysed is the sensor's
packets.total, and the kernel and interface drops are the sensor's own
capture counters (they are reported too). The first trial runs at
tcpreplay's top speed: when the sensor keeps up there, the answer is "no
drops up to the replayer's maximum". Otherwise the rate starts at
--start-pps and doubles until a trial drops 0.1% or more, then a few
bisection steps narrow the limit. One trial per rate: the figure is an
estimate, not a guarantee. The capture buffer (--buffer-mb) absorbs a
burst, so a trial without drops only shows that the sensor took at least
(offered - packets the buffer holds) / T packets per second while the
replay ran; that bound is printed with the results.

With --workers (a list such as 1,2) each count is measured in turn when the
sensor has the option; without it, 1 and 2 when it has, otherwise the
sensor's default.

Traffic only ever goes through the veth pair this script creates; the pair,
the namespace and the temporary pcap are removed whatever happens. Needs
root, ip (iproute2) and tcpreplay: without them it prints why it is skipped
and exits 0. Figures only, never pass/fail: results go to
build/bench/live.json and standard output; exit 1 only when the benchmark
cannot be set up. Python standard library only.
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import netns

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DROP_LIMIT = 0.001      # a trial passes below 0.1% dropped
MIN_PPS = 1000          # the search does not go below this rate
TPACKET_OVERHEAD = 80   # bytes per packet in the capture ring beyond its data (approx.)


SetupError = netns.Failure
run = netns.run


def ipv4_fragment(data):
    """Whether an Ethernet frame (802.1Q tags allowed) is an IPv4 fragment."""
    off = 12
    while len(data) >= off + 2:
        etype = struct.unpack_from(">H", data, off)[0]
        if etype not in (0x8100, 0x88a8):
            break
        off += 4
    else:
        return False
    ip = off + 2
    if etype != 0x0800 or len(data) < ip + 20 or data[ip] >> 4 != 4:
        return False
    return struct.unpack_from(">H", data, ip + 6)[0] & 0x3fff != 0


def write_prefix(src, dst, count, keep_fragments):
    """Copy the global header and the first count records of a classic pcap,
    leaving out IPv4 fragments of an Ethernet capture unless keep_fragments.

    Returns (records written, bytes of packet data written, fragments left
    out); SetupError when src is not a classic pcap.
    """
    with open(src, "rb") as fp, open(dst, "wb") as out:
        hdr = fp.read(24)
        if len(hdr) < 24:
            raise SetupError("%s: not a pcap file" % src)
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            endian = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            endian = ">"
        else:
            raise SetupError("%s: not a classic pcap file (magic %08x)" % (src, magic))
        ethernet = struct.unpack(endian + "I", hdr[20:24])[0] & 0xffff == 1
        out.write(hdr)
        n = size = left_out = 0
        while n + left_out < count:
            rh = fp.read(16)
            if len(rh) < 16:
                break
            incl = struct.unpack(endian + "I", rh[8:12])[0]
            data = fp.read(incl)
            if len(data) < incl:
                break
            if ethernet and not keep_fragments and ipv4_fragment(data):
                left_out += 1
                continue
            out.write(rh)
            out.write(data)
            n += 1
            size += incl
    return n, size, left_out


class Veth(netns.Veth):
    # The capture holds frames larger than 1500 bytes (taken after
    # segmentation offload); the largest veth MTU lets them all through.
    def __init__(self):
        super().__init__("bench", "", mtu=65535)

    def replay(self, pcap, pps, limit):
        """Send limit packets of pcap into the pair at pps (None: top speed).

        Returns {"sent", "failed", "seconds", "pps"} from tcpreplay's report.
        """
        rate = ["--topspeed"] if pps is None else ["--pps=%d" % pps]
        # Preloading the prefix takes a few seconds before the clock starts.
        timeout = 120 + (limit / pps * 2 if pps else 30)
        out = self.tcpreplay(pcap, ["--preload-pcap", "--limit=%d" % limit] + rate, timeout)
        m = re.search(r"Actual: (\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds", out)
        ok = re.search(r"Successful packets:\s+(\d+)", out)
        bad = re.search(r"Failed packets:\s+(\d+)", out)
        if not (m and ok and bad):
            raise SetupError("cannot read tcpreplay's report: %s" % out.strip()[-500:])
        sent, secs = int(ok.group(1)), float(m.group(2))
        return {"sent": sent, "failed": int(bad.group(1)), "seconds": secs,
                "pps": sent / secs if secs > 0 else 0.0}


class Sensor(netns.Sensor):
    """The sensor capturing on one interface."""

    def __init__(self, args, iface, tmp, workers):
        self.stats_path = os.path.join(tmp, "stats.json")
        if os.path.exists(self.stats_path):
            os.unlink(self.stats_path)
        cmd = [args.sensor, "-c", args.config, "-i", iface, "--buffer-mb", str(args.buffer_mb),
               "--no-progress", "--stats-interval", "1", "--alerts", os.devnull,
               "--flows", os.devnull, "--stats", self.stats_path]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        # Relative paths in the built-in configuration (config/signatures,
        # geo/data) are taken from the repository root.
        super().__init__(cmd, tmp, "sensor", cwd=ROOT)

    def wait_capturing(self, timeout=30):
        super().wait_capturing(timeout)

    def packets(self):
        """The packet count of the latest status line, or -1 before the first."""
        found = re.findall(r"status: (\d+) packets", self.stderr())
        return int(found[-1]) if found else -1

    def drain(self, offered, settle, timeout=30):
        """Wait until the sensor has taken offered packets, or its count has
        stopped moving for two status lines, then settle seconds more."""
        deadline = time.monotonic() + timeout
        last, since = -2, time.monotonic()
        while time.monotonic() < deadline:
            n = self.packets()
            if n >= offered:
                break
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since > 2.2:
                break
            time.sleep(0.2)
        time.sleep(settle)

    def stop(self, timeout=120):
        """SIGTERM, wait, and return the --stats document."""
        rc = super().stop(timeout)
        if rc != 0:
            raise SetupError("sensor exited %d: %s" % (rc, self.stderr().strip()[-800:]))
        try:
            with open(self.stats_path) as fp:
                return json.load(fp)
        except (OSError, ValueError) as e:
            raise SetupError("cannot read the sensor's --stats file: %s" % e)


def trial(args, veth, tmp, prefix_n, workers, pps):
    """One replay at pps (None: top speed) with the sensor capturing."""
    limit = prefix_n if pps is None else max(1, min(prefix_n, int(pps * args.seconds)))
    sensor = Sensor(args, veth.host, tmp, workers)
    try:
        sensor.wait_capturing()
        rep = veth.replay(args.prefix, pps, limit)
        sensor.drain(rep["sent"], args.settle)
        st = sensor.stop()
    finally:
        sensor.kill()
    cap = st.get("capture", {})
    analysed = st.get("packets", {}).get("total", 0)
    kdrops, idrops = cap.get("kernel_drops", 0), cap.get("if_drops", 0)
    dropped = max(rep["sent"] - analysed, kdrops + idrops, 0)
    ratio = dropped / rep["sent"] if rep["sent"] else 1.0
    t = {"requested_pps": pps, "achieved_pps": round(rep["pps"]), "offered": rep["sent"],
         "send_failures": rep["failed"], "seconds": rep["seconds"], "analysed": analysed,
         "received": cap.get("received"), "kernel_drops": kdrops, "if_drops": idrops,
         "dropped": dropped, "drop_ratio": ratio, "ok": ratio < DROP_LIMIT}
    print("    %-10s %10d %10d %10d %9d %9d %9d %8.3f%%  %s"
          % ("top speed" if pps is None else "%d" % pps, t["achieved_pps"], t["offered"],
             analysed, kdrops, idrops, dropped, 100.0 * ratio, "ok" if t["ok"] else "DROPS"))
    sys.stdout.flush()
    return t


def search(args, veth, tmp, prefix_n, workers):
    """Top speed first; then double from --start-pps and bisect."""
    print("    %-10s %10s %10s %10s %9s %9s %9s %9s"
          % ("rate", "achieved", "offered", "analysed", "kernel", "iface", "dropped", "drops"))
    top = trial(args, veth, tmp, prefix_n, workers, None)
    trials = [top]
    res = {"workers": workers, "top_speed": top, "trials": trials}
    if top["ok"]:
        res.update(max_pps=top["achieved_pps"], limited_by_replayer=True, first_bad=None,
                   sustained_pps_at_least=sustained(top, args.ring))
        return res
    good, bad = None, top          # bad: the lowest rate seen dropping
    bad_rate = top["achieved_pps"]
    rate = args.start_pps
    while rate < bad_rate * 0.95:
        t = trial(args, veth, tmp, prefix_n, workers, rate)
        trials.append(t)
        if not t["ok"]:
            bad, bad_rate = t, rate
            break
        good = t
        rate *= 2
    if good is None:                # drops at the starting rate: go down
        rate = bad_rate // 2
        while rate >= MIN_PPS:
            t = trial(args, veth, tmp, prefix_n, workers, rate)
            trials.append(t)
            if t["ok"]:
                good = t
                break
            bad, bad_rate = t, rate
            rate //= 2
    if good is not None:
        lo = good["requested_pps"]
        for _ in range(args.steps):
            if (bad_rate - lo) / bad_rate < 0.05:
                break
            mid = int(round((lo + bad_rate) / 2, -3)) or (lo + bad_rate) // 2
            t = trial(args, veth, tmp, prefix_n, workers, mid)
            trials.append(t)
            if t["ok"]:
                good, lo = t, mid
            else:
                bad, bad_rate = t, mid
    res.update(max_pps=good["achieved_pps"] if good else None, limited_by_replayer=False,
               first_bad={"pps": bad["achieved_pps"], "drop_ratio": bad["drop_ratio"]},
               sustained_pps_at_least=sustained(good, args.ring) if good else None)
    return res


def sustained(t, ring):
    """What a trial without drops shows the sensor took while the replay ran:
    all it was offered but what the capture buffer can hold."""
    return round(max(t["offered"] - ring, 0) / t["seconds"]) if t["seconds"] > 0 else 0


def sensor_has_workers(sensor):
    p = subprocess.run([sensor, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=10, check=False)
    return "--workers" in p.stdout.decode(errors="replace")


def signatures_line(args):
    """The sensor's own account of the signatures it loads, for the report."""
    p = subprocess.run([args.sensor, "-c", args.config, "--check-config"], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False)
    m = re.search(r"^\s*signatures\s+(.*)$", p.stdout.decode(errors="replace"), re.M)
    if p.returncode != 0 or not m:
        raise SetupError("the configuration %s is not usable: %s"
                         % (args.config, p.stdout.decode(errors="replace").strip()[-500:]))
    return m.group(1).strip()


def parse_workers(text):
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a list of worker counts, e.g. 1,2")
    return counts


def kpps(v):
    return "%.0fk" % (v / 1000.0) if v >= 10000 else "%d" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--capture", default=os.path.join(ROOT, "build", "bench", "bench.pcap"),
                    help="Ethernet capture to replay a prefix of (tests/bench.py builds it)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"),
                    help="folder for live.json")
    ap.add_argument("--packets", type=int, default=2000000,
                    help="records of the capture in the replayed prefix (default 2000000)")
    ap.add_argument("--seconds", type=float, default=6.0,
                    help="target length of a rate-limited trial (default 6)")
    ap.add_argument("--buffer-mb", type=int, default=64,
                    help="the sensor's --buffer-mb (default 64, the sensor's own default)")
    ap.add_argument("--start-pps", type=int, default=50000, help="first rate tried (default 50000)")
    ap.add_argument("--steps", type=int, default=4, help="bisection steps at most (default 4)")
    ap.add_argument("--settle", type=float, default=1.5,
                    help="seconds to wait after the sensor has drained (default 1.5)")
    ap.add_argument("--workers", type=parse_workers,
                    help="worker counts to measure, e.g. 1,2 (when the sensor has --workers)")
    ap.add_argument("--no-fragments", dest="keep_fragments", action="store_false",
                    help="leave IPv4 fragments out of the replayed prefix")
    ap.add_argument("--config", default=os.devnull,
                    help="sensor configuration (default: built-in defaults, detection on)")
    args = ap.parse_args()

    why = None
    if os.geteuid() != 0:
        why = "needs root"
    elif not (shutil.which("ip") and shutil.which("tcpreplay")):
        why = "needs ip (iproute2) and tcpreplay"
    if why:
        print("live bench skipped: %s" % why)
        return 0

    args.sensor = os.path.abspath(args.sensor)
    args.config = os.path.abspath(args.config)
    if not os.path.exists(args.capture):
        print("live bench: %s does not exist; tests/bench.py builds it (make bench)"
              % args.capture, file=sys.stderr)
        return 1
    has_workers = sensor_has_workers(args.sensor)
    if has_workers:
        counts = args.workers or [1, 2]
    else:
        if args.workers:
            print("live bench: %s has no --workers option; measuring its default only"
                  % args.sensor)
        counts = [None]

    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="bench_live.")
    try:
        sigs = signatures_line(args)
        args.prefix = os.path.join(tmp, "prefix.pcap")
        prefix_n, prefix_bytes, frags = write_prefix(args.capture, args.prefix, args.packets,
                                                     args.keep_fragments)
        avg = prefix_bytes / prefix_n if prefix_n else 0
        ring = int(args.buffer_mb * 1048576 / (avg + TPACKET_OVERHEAD)) if prefix_n else 0
        args.ring = ring
        print("live bench: %d packets from the start of %s (%.0f MiB, %.0f bytes on average, "
              "%d IPv4 fragments left out), %d MiB capture buffer (about %d packets), %d CPUs"
              % (prefix_n, args.capture, prefix_bytes / 1048576.0, avg, frags, args.buffer_mb,
                 ring, os.cpu_count() or 0))
        print("  detection: %s" % sigs)
        res = {"capture": args.capture, "prefix_packets": prefix_n, "prefix_bytes": prefix_bytes,
               "ipv4_fragments_left_out": frags,
               "buffer_mb": args.buffer_mb, "buffer_packets_approx": ring,
               "trial_seconds": args.seconds, "drop_limit": DROP_LIMIT,
               "cpus": os.cpu_count(), "config": args.config, "signatures": sigs,
               "workers_option": has_workers, "runs": []}
        with Veth() as v:
            free = v.replay(args.prefix, None, prefix_n)
            res["replayer_top_pps_no_listener"] = round(free["pps"])
            print("  tcpreplay top speed into the veth, nothing capturing: %d pps"
                  % free["pps"])
            for w in counts:
                print("  workers: %s" % ("sensor default" if w is None else w))
                res["runs"].append(search(args, v, tmp, prefix_n, w))
    except SetupError as e:
        print("live bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["elapsed_s"] = round(time.monotonic() - start, 1)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "live.json"), "w") as fp:
        json.dump(res, fp, indent=2)
        fp.write("\n")
    print("")
    print("  live capture, highest rate with < %.1f%% dropped (%s packets/trial at most, "
          "%.0f s at the rate):" % (100 * DROP_LIMIT, kpps(prefix_n), args.seconds))
    for r in res["runs"]:
        who = "default" if r["workers"] is None else "%d worker%s" % (
            r["workers"], "" if r["workers"] == 1 else "s")
        top = r["top_speed"]
        if r["limited_by_replayer"]:
            print("    %-10s %s up to the replayer's maximum of %d pps (%d of %d dropped at "
                  "top speed)" % (who, "no drops" if top["dropped"] == 0 else
                                  "under %.1f%% dropped" % (100 * DROP_LIMIT),
                                  top["achieved_pps"], top["dropped"], top["offered"]))
        elif r["max_pps"] is None:
            print("    %-10s %.3f%% dropped even at %d pps (replayer top speed %d pps)"
                  % (who, 100 * r["first_bad"]["drop_ratio"], r["first_bad"]["pps"],
                     top["achieved_pps"]))
            continue
        else:
            print("    %-10s %d pps (%.3f%% dropped at %d pps; replayer top speed %d pps)"
                  % (who, r["max_pps"], 100 * r["first_bad"]["drop_ratio"],
                     r["first_bad"]["pps"], top["achieved_pps"]))
        print("    %-10s the sensor took at least %d pps while that replay ran (all it was "
              "offered but the %d the buffer holds)" % ("", r["sustained_pps_at_least"], ring))
    print("  tcpreplay alone, nothing capturing, reaches %d pps on this veth (%.0f s in all; "
          "results in %s)" % (res["replayer_top_pps_no_listener"], res["elapsed_s"],
                              os.path.join(args.out, "live.json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
