#!/usr/bin/env python3
"""Live capture integration tests: the real sensor on a veth pair.

Each test creates a network namespace (named with this process's id) and a
veth pair with one end inside it, starts build/egress-sensor with -i on the
host end, replays vendor captures from pcaps/detect/ into the other end
with tcpreplay from inside the namespace, and checks what the sensor
reported:

  - capture: the alerts tests/detection.json expects for the captures
    replayed (same vendor, category, src_ip, dest_ip) and no other, flow
    records, every flow ended by the wall clock on the quiet link (short
    idle timeouts) before SIGTERM, the switch to --user nobody
    (/proc/PID/status while it runs),
    the periodic status line, capture counters and drops in the summary and
    --stats, exit 0 after SIGTERM; with redis-server installed, the same
    run delivering to Redis on loopback through a spool nobody created;
  - reload (1 and 2 workers): SIGHUP while Check Point flows are open
    brings a pack grown by two vendor files that moves every Check Point
    signature; the open flows keep their match (their bytes reach the
    inventory) and the next Fortinet replay raises its alerts; a pack with
    a broken file and a configuration with an unknown key are refused,
    naming file and line, while the running pack keeps matching; a new
    home_net applies; a changed flow.max_flows is reported as waiting for
    a restart;
  - an interface that does not exist: exit 1, the message names it;
  - the veth deleted while the sensor runs: exit 1, the message names it,
    the records of what was captured are written; a run as root without
    --user warns once;
  - -i with -r: exit 2;
  - --syslog, in a private mount namespace whose /dev/log is a socket this
    script reads: a truncated capture's warning and a missing file's error
    reach it (facility daemon, tagged egress-sensor[PID]) and not standard
    error.

Traffic only ever goes through the veth pair this script creates; the pair
and the namespace are removed whatever happens. Needs root, ip (iproute2)
and tcpreplay (and redis-server): without them every test is skipped and the
script exits 0, except under CI=true, where it fails (tests/testlib.py).
Python standard library only. Prints "N passed, M failed" at the end and
exits 1 on any failure.
"""

import argparse
import collections
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import netns

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps", "detect")
MANIFEST = os.path.join(HERE, "detection.json")
SIGNATURES = os.path.join(ROOT, "config", "signatures")
REPLAYED = ("vendor-fortinet.pcap", "vendor-checkpoint.pcap")
IDLE_TIMEOUT = 2  # seconds, every flow class
TESTS = ("capture", "capture, 2 workers", "reload", "reload, 2 workers", "no such interface",
         "interface deleted", "-i with -r", "--syslog", "rotation")


TestFailure = netns.Failure


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


wait_for = netns.wait_for
run = netns.run


def norm_ip(text):
    return ipaddress.ip_address(text).compressed


class Veth(netns.Veth):
    def __init__(self, tag):
        super().__init__("live", tag)

    def replay(self, pcap):
        self.tcpreplay(pcap, ["--pps=2000"], timeout=20)


class Sensor(netns.Sensor):
    def __init__(self, sensor, args, tmp, name):
        super().__init__([sensor] + args, tmp, name)


def read_alerts(path):
    """The alerts of an alert output (its asset events left out)."""
    return [r for r in read_json_lines(path) if r.get("event_type") == "alert"]


def read_json_lines(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as fp:
        for n, line in enumerate(fp, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    raise TestFailure("%s line %d is not JSON: %s" % (path, n, e))
    return out


def alert_keys(alerts):
    keys = set()
    for rec in alerts:
        a = rec.get("alert", {})
        keys.add((a.get("vendor"), a.get("category"), norm_ip(rec["src_ip"]),
                  norm_ip(rec["dest_ip"])))
    return keys


def expected_keys(names):
    with open(MANIFEST) as fp:
        manifest = json.load(fp)
    return {(a["vendor"], a["category"], norm_ip(a["src_ip"]), norm_ip(a["dest_ip"]))
            for n in names for a in manifest[n]["alerts"]}


def pcap_packets(path):
    """Records in a classic pcap file."""
    with open(path, "rb") as fp:
        data = fp.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    n, off = 0, 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    return n


def proc_uids(pid):
    with open("/proc/%d/status" % pid) as fp:
        for line in fp:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a free loopback port in its own directory."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "redis")
        os.mkdir(self.dir)
        self.port = free_port()
        self.p = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind",
                                   "127.0.0.1", "--dir", self.dir, "--save", "",
                                   "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("redis-server on port %d" % self.port, self.ping, 10)

    def cli(self, *args):
        p = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10,
                           check=False)
        return p.stdout.decode(errors="replace").strip()

    def ping(self):
        return self.cli("PING") == "PONG"

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)


def write_config(tmp, geo, spool=None, port=None, sigs=SIGNATURES, idle=IDLE_TIMEOUT, closed=1,
                 flow_extra="", extra=""):
    path = os.path.join(tmp, "live.conf")
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write('sensor_name = "live";\n')
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % cfg_str(sigs))
        # Short idle timeouts: on a quiet link, flows end by the wall clock.
        fp.write("flow = { timeouts = { tcp = %d; tcp_closed = %d; udp = %d; icmp = %d; "
                 "other = %d; }; %s};\n" % (idle, closed, idle, idle, idle, flow_extra))
        fp.write(extra)
        if spool is not None:
            fp.write("redis = { url = %s; spool_dir = %s; flush_timeout = 5; "
                     "stats_interval = 1; };\n"
                     % (cfg_str("redis://127.0.0.1:%d/0" % port), cfg_str(spool)))
    return path


def test_capture(a, tmp, workers=1):
    nobody = pwd.getpwnam("nobody")
    # Outputs and the spool are opened after the switch, as nobody.
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    redis = None
    if shutil.which("redis-server") and shutil.which("redis-cli"):
        redis = Redis(tmp)
        conf = write_config(tmp, a.geo, os.path.join(out, "spool"), redis.port)
    else:
        print("       (redis-server or redis-cli missing: the Redis part is skipped)")
        conf = write_config(tmp, a.geo)
    alerts, flows, stats = (os.path.join(out, "alerts.json"), os.path.join(out, "flows.json"),
                            os.path.join(out, "stats.json"))
    sensor = None
    try:
        with Veth("a") as v:
            sensor = Sensor(a.sensor, ["-c", conf, "-i", v.host, "--truncate", "--alerts", alerts, "--flows",
                                       flows, "--stats", stats, "--user", "nobody",
                                       "--stats-interval", "1", "--no-progress",
                                       "--workers", str(workers)], tmp, "capture")
            sensor.wait_capturing()
            uids = proc_uids(sensor.p.pid)
            check(uids == [nobody.pw_uid] * 4,
                  "after start the sensor runs as uids %s, not nobody (%d)" % (uids, nobody.pw_uid))
            before = len(sensor.stderr())
            for name in REPLAYED:
                v.replay(os.path.join(PCAPS, name))
            # No packet after the replay: the once-a-second tick ends every
            # flow by the wall clock, and a status line says none is left.
            wait_for("a status line with 0 flows active after the replay",
                     lambda: re.search(r"status: [1-9]\d* packets .* 0 flows active",
                                       sensor.stderr()[before:]), IDLE_TIMEOUT + 8)
            rc = sensor.stop()
        err = sensor.stderr()
        check(rc == 0, "exit %d after SIGTERM: %s" % (rc, err[-800:]))
        # A warning is the real cause of what follows (a geo database the
        # dropped user could not read loses the AS-matched alerts): say it.
        warns = [ln for ln in err.splitlines() if "warning" in ln and "running as root" not in ln]
        check(not warns, "the sensor warned: %s" % " | ".join(warns)[:800])
        want, got = expected_keys(REPLAYED), alert_keys(read_alerts(alerts))
        missing, extra = sorted(want - got), sorted(got - want)
        check(not missing, "expected alerts missing: %s" % missing)
        check(not extra, "alerts not in tests/detection.json: %s" % extra)
        recs = read_json_lines(flows)
        srcs = {norm_ip(r.get("src_ip", "::")) for r in recs if r.get("event_type") == "flow"}
        check(len(recs) >= len(want) and all(k[2] in srcs for k in want),
              "flow records: %d, missing clients %s"
              % (len(recs), sorted(k[2] for k in want if k[2] not in srcs)))
        live_named = [r for r in recs + read_json_lines(alerts) if "pcap_filename" in r]
        check(not live_named, "live records with a pcap_filename: %s" % live_named[:1])
        reasons = collections.Counter(r.get("flow", {}).get("reason") for r in recs)
        check(reasons.get("end-of-input", 0) == 0,
              "flows still open at SIGTERM despite the idle timeouts: %s" % dict(reasons))
        check(re.search(r"status: \d+ packets .*dropped \(kernel \d+, interface \d+\)", err),
              "no status line with drops: %s" % err[-800:])
        check(re.search(r"capture +\d+ received, \d+ dropped by the kernel, \d+ dropped by "
                        r"the interface", err), "no capture line in the summary: %s" % err[-800:])
        with open(stats) as fp:
            st = json.load(fp)
        cap = st.get("capture", {})
        npk = sum(pcap_packets(os.path.join(PCAPS, n)) for n in REPLAYED)
        check(all(k in cap for k in ("received", "kernel_drops", "if_drops")) and
              cap.get("interfaces") == [v.host] and st["packets"]["total"] >= npk,
              "--stats capture section: %s, %d packets (replayed %d)"
              % (cap, st["packets"]["total"], npk))
        check(err.count("running as root") == 0, "warned about root despite --user")
        if redis is not None:
            xlen = redis.cli("XLEN", "egress:alerts")
            n_alerts = len(read_json_lines(alerts))  # the stream has both kinds
            check(xlen == str(n_alerts), "Redis stream has %s entries, --alerts %d"
                  % (xlen, n_alerts))
            fields = redis.cli("HGETALL", "egress:stats:live").split("\n")
            check("capture.kernel_drops" in fields and "capture.if_drops" in fields,
                  "Redis stats hash without drops: %s" % fields)
        ends = ", ".join("%s %d" % kv for kv in sorted(reasons.items()))
        counters = {k: cap.get(k) for k in ("received", "kernel_drops", "if_drops")}
        check(st.get("run", {}).get("workers") == workers,
              "--stats run.workers is %s, not %d" % (st.get("run", {}).get("workers"), workers))
        return "%d alerts, %d flow records (%s), capture %s%s" % (
            len(got), len(recs), ends, counters,
            "; Redis took every alert" if redis is not None else "")
    finally:
        if sensor is not None:
            sensor.kill()
        if redis is not None:
            redis.stop()


def vendor_count(path, vendor):
    return sum(1 for r in read_alerts(path) if r.get("alert", {}).get("vendor") == vendor)


def test_reload(a, tmp, workers=1):
    """SIGHUP while flows are open: a new pack takes effect and the open
    flows keep their state and their match; a broken pack or config is
    refused and the running one stays; a new home_net applies."""
    nobody = pwd.getpwnam("nobody")
    sigs = os.path.join(tmp, "sigs")
    os.mkdir(sigs)
    # Without avast.conf (sorted before checkpoint.conf) and fortinet.conf:
    # adding them back moves every Check Point signature to a new index.
    later = ("avast.conf", "fortinet.conf")
    for name in os.listdir(SIGNATURES):
        if name.endswith(".conf") and name not in later:
            shutil.copy(os.path.join(SIGNATURES, name), sigs)
    idle = 4
    window = "alerts = { suppress_window = 1; };\n"
    # Closed flows linger as long as idle ones: those of step 1 must still
    # be open when the workers take the reload.
    def config(**kw):
        return write_config(tmp, a.geo, sigs=sigs, idle=idle, closed=idle, **kw)
    conf = config(extra=window)
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    alerts, flows, assets = (os.path.join(out, n) for n in ("alerts.json", "flows.json",
                                                            "assets.json"))
    cp, ft = (os.path.join(PCAPS, n) for n in ("vendor-checkpoint.pcap", "vendor-fortinet.pcap"))
    sensor = None
    try:
        with Veth("r") as v:
            sensor = Sensor(a.sensor, ["-c", conf, "-i", v.host, "--truncate", "--alerts", alerts, "--flows",
                                       flows, "--assets", assets, "--user", "nobody",
                                       "--stats-interval", "1", "--no-progress",
                                       "--workers", str(workers)], tmp, "reload")
            sensor.wait_capturing()

            def hup(expect, what):
                before = len(sensor.stderr())
                sensor.p.send_signal(signal.SIGHUP)
                try:
                    wait_for(what, lambda: re.search(expect, sensor.stderr()[before:]), 10)
                except TestFailure as e:
                    raise TestFailure("%s: %s" % (e, sensor.stderr()[before:][:1500]))
                return sensor.stderr()[before:]

            sent = [0]

            def replay(pcap):
                v.replay(pcap)
                sent[0] += pcap_packets(pcap)

            def quiet(before):
                # A status line that counts every packet sent so far (with
                # several workers, counters are published once a second)
                # and no flow left.
                def done():
                    for m in re.finditer(r"status: (\d+) packets .* (\d+) flows active",
                                         sensor.stderr()[before:]):
                        if int(m.group(1)) >= sent[0] and m.group(2) == "0":
                            return True
                    return False
                wait_for("a status line with %d packets and 0 flows active" % sent[0], done,
                         idle + 8)

            # 1. Check Point flows open, then the pack grows under them.
            before = len(sensor.stderr())
            replay(cp)
            config(extra=window, flow_extra="max_flows = 5000; ")
            for name in later:
                shutil.copy(os.path.join(SIGNATURES, name), sigs)
            log = hup(r"reloaded .*live\.conf: \d+ signatures in \d+ vendor files",
                      "the 'reloaded' line")
            check(re.search(r"flow\.max_flows changed; the new value takes effect at the next "
                            r"start", sensor.stderr()[-2000:]),
                  "no warning that flow.max_flows waits for a restart: %s" % log)
            quiet(before)
            n_cp = vendor_count(alerts, "Check Point")
            check(n_cp == len(expected_keys(["vendor-checkpoint.pcap"])) and
                  vendor_count(alerts, "Fortinet") == 0,
                  "before the new pack was used: %d Check Point alerts, %d Fortinet"
                  % (n_cp, vendor_count(alerts, "Fortinet")))

            # 2. The new pack matches.
            before = len(sensor.stderr())
            replay(ft)
            quiet(before)
            want = expected_keys(["vendor-fortinet.pcap"])
            got = {k for k in alert_keys(read_alerts(alerts)) if k[0] == "Fortinet"}
            check(got == want, "after the reload, Fortinet alerts missing %s, extra %s"
                  % (sorted(want - got), sorted(got - want)))
            n_ft = vendor_count(alerts, "Fortinet")

            # 3. A broken pack (and fortinet.conf gone) is refused: the
            #    running pack keeps matching Fortinet.
            with open(os.path.join(sigs, "zz-broken.conf"), "w") as fp:
                fp.write("vendor = \"Broken\";\nsignatures = ( { id = ; } );\n")
            os.unlink(os.path.join(sigs, "fortinet.conf"))
            log = hup(r"reload refused: .*zz-broken\.conf:2: .*still running the previous",
                      "the 'reload refused' line naming zz-broken.conf:2")
            before = len(sensor.stderr())
            replay(ft)
            quiet(before)
            check(vendor_count(alerts, "Fortinet") == 2 * n_ft,
                  "after a refused reload: %d Fortinet alerts, not %d"
                  % (vendor_count(alerts, "Fortinet"), 2 * n_ft))

            # 4. A broken configuration is refused too.
            os.unlink(os.path.join(sigs, "zz-broken.conf"))
            shutil.copy(os.path.join(SIGNATURES, "fortinet.conf"), sigs)
            config(extra=window + "flows = 3;\n")
            hup(r"reload refused: .*live\.conf:\d+: unknown key \"flows\"",
                "the 'reload refused' line naming live.conf")

            # 5. A new home_net: Check Point's 172.16.2.x clients are no
            #    longer inside, so their flows are not egress any more.
            config(extra=window + 'home_net = [ "10.0.0.0/8" ];\n')
            hup(r"reloaded .*live\.conf", "the 'reloaded' line")
            before = len(sensor.stderr())
            replay(cp)
            replay(ft)
            quiet(before)
            check(vendor_count(alerts, "Check Point") == n_cp and
                  vendor_count(alerts, "Fortinet") == 3 * n_ft,
                  "with home_net 10.0.0.0/8: %d Check Point alerts (want %d), %d Fortinet "
                  "(want %d)" % (vendor_count(alerts, "Check Point"), n_cp,
                                 vendor_count(alerts, "Fortinet"), 3 * n_ft))
            rc = sensor.stop()
        err = sensor.stderr()
        check(rc == 0, "exit %d after SIGTERM: %s" % (rc, err[-800:]))
        # The Check Point flows of step 1 ended after the reload: their
        # bytes reach the inventory only if their match was carried over to
        # the new pack (where every Check Point signature moved).
        with open(assets) as fp:
            hosts = {h["host"]: h for h in json.load(fp)["hosts"]}
        cp_hosts = sorted({k[2] for k in expected_keys(["vendor-checkpoint.pcap"])})
        no_bytes = [h for h in cp_hosts
                    if not any(p["vendor"] == "Check Point" and p["bytes_out"] > 0
                               for p in hosts.get(h, {}).get("products", []))]
        check(not no_bytes, "Check Point hosts whose flows lost their match in the reload "
              "(no bytes_out in the inventory): %s" % no_bytes)
        recs = [r for r in read_json_lines(flows) if r.get("event_type") == "flow"]
        keys = collections.Counter((r["src_ip"], r.get("src_port"), r["dest_ip"],
                                    r.get("dest_port"), r.get("proto")) for r in recs
                                   if norm_ip(r["src_ip"]) in cp_hosts)
        # Replayed twice (steps 1 and 5): each flow has one record per replay.
        check(keys and set(keys.values()) == {2},
              "Check Point flows should have 2 records each (one per replay): %s"
              % sorted(kv for kv in keys.items() if kv[1] != 2)[:5])
        return "%d reloads applied, 2 refused; %d Check Point and %d Fortinet alerts" % (
            err.count("reloaded "), vendor_count(alerts, "Check Point"),
            vendor_count(alerts, "Fortinet"))
    finally:
        if sensor is not None:
            sensor.kill()


def test_no_such_interface(a, tmp):
    name = "nosuch%d" % (os.getpid() % 100000)
    try:
        p = subprocess.run([a.sensor, "-c", write_config(tmp, a.geo), "-i", name, "--truncate", "--alerts",
                            os.path.join(tmp, "none.json")], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        raise TestFailure("timed out")
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 1 and name in err and "no such device" in err,
          "exit %d: %s" % (p.returncode, err.strip()))
    return err.strip()


def test_interface_deleted(a, tmp):
    conf = write_config(tmp, a.geo)
    alerts, flows = os.path.join(tmp, "del-alerts.json"), os.path.join(tmp, "del-flows.json")
    sensor = None
    try:
        with Veth("d") as v:
            sensor = Sensor(a.sensor, ["-c", conf, "-i", v.host, "--truncate", "--alerts", alerts, "--flows",
                                       flows, "-q"], tmp, "deleted")
            sensor.wait_capturing()
            v.replay(os.path.join(PCAPS, REPLAYED[0]))
            time.sleep(0.5)
            run(["ip", "link", "del", v.host])
            rc = sensor.wait_exit(15)
        err = sensor.stderr()
        check(rc == 1, "exit %d after the interface was deleted: %s" % (rc, err[-800:]))
        check(re.search(re.escape(v.host) + r": capture stopped", err),
              "no message naming %s: %s" % (v.host, err[-800:]))
        want, got = expected_keys(REPLAYED[:1]), alert_keys(read_alerts(alerts))
        check(not (want - got), "alerts missing: %s" % sorted(want - got))
        check(len(read_json_lines(flows)) >= len(want), "flow records not written")
        check(err.count("running as root") == 1,
              "a run as root without --user warns %d times" % err.count("running as root"))
        return [l for l in err.split("\n") if "capture stopped" in l][0]
    finally:
        if sensor is not None:
            sensor.kill()


# Runs inside a private mount namespace: a tmpfs on /dev, where a datagram
# socket at /dev/log stands in for the system logger while the sensor runs.
SYSLOG_PROBE = r"""
import json, os, socket, stat, subprocess, sys
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/dev"], check=True)
os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")
runs = []
for cmd in json.loads(sys.argv[1]):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    msgs = []
    log.settimeout(0.5)
    while True:
        try:
            msgs.append(log.recv(8192).decode(errors="replace"))
        except socket.timeout:
            break
    runs.append({"rc": p.returncode, "stderr": p.stderr.decode(errors="replace"), "log": msgs})
print(json.dumps(runs))
"""


def test_syslog(a, tmp):
    """--syslog: warnings and errors reach the system logger (facility
    daemon, tagged with the program name and pid), not standard error."""
    trunc = os.path.join(tmp, "cut.pcap")
    with open(os.path.join(ROOT, "pcaps", "example.pcap"), "rb") as fp:
        data = fp.read()
    with open(trunc, "wb") as fp:
        fp.write(data[:len(data) * 2 // 3])
    missing = os.path.join(tmp, "missing.pcap")
    base = [a.sensor, "-c", write_config(tmp, a.geo), "--syslog", "-q", "--truncate", "--alerts",
            os.path.join(tmp, "alerts.json")]
    cmds = [base + ["-r", trunc], base + ["-r", missing]]
    out = run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c",
               SYSLOG_PROBE, json.dumps(cmds)], timeout=90)
    cut, miss = json.loads(out)
    # <28>: daemon (3) * 8 + warning (4); <27>: daemon, error (3)
    warn = [m for m in cut["log"] if m.startswith("<28>") and "egress-sensor[" in m and
            trunc in m and "truncated" in m]
    check(cut["rc"] == 0 and warn and "truncated" not in cut["stderr"],
          "truncated capture with --syslog: exit %d, logged %s, stderr %r"
          % (cut["rc"], cut["log"], cut["stderr"][-300:]))
    err = [m for m in miss["log"] if m.startswith("<27>") and missing in m]
    check(miss["rc"] == 1 and err and missing not in miss["stderr"],
          "missing file with --syslog: exit %d, logged %s, stderr %r"
          % (miss["rc"], miss["log"], miss["stderr"][-300:]))
    return "%s | %s" % (warn[0].strip(), err[0].strip())


def test_rotation(a, tmp):
    """Log rotation under traffic: the alert and flow files are moved away
    and SIGUSR1, then SIGHUP, sent while tcpreplay sends; every alert and
    asset event lands in exactly one of the three files (none lost, none
    twice: their number is the sensor's own count), every line whole; what
    the first file held before the start is kept (appending). SIGUSR2 then
    ends the sensor as SIGTERM does: exit 0, the summary written."""
    conf = write_config(tmp, a.geo, extra="alerts = { suppress_window = 1; };\n")
    alerts, flows, stats = (os.path.join(tmp, n) for n in ("alerts.json", "flows.json",
                                                           "stats.json"))
    with open(alerts, "w") as fp:
        fp.write('{"event_type":"earlier","note":"written before the sensor started"}\n')
    pcap = os.path.join(PCAPS, REPLAYED[0])
    sensor = None
    try:
        with Veth("r") as v:
            sensor = Sensor(a.sensor, ["-c", conf, "-i", v.host, "--alerts", alerts, "--flows",
                                       flows, "--stats", stats, "--no-progress", "--workers",
                                       "2"], tmp, "rotation")
            sensor.wait_capturing()
            for n, sig in ((1, signal.SIGUSR1), (2, signal.SIGHUP)):
                # the replay runs while the files move and the signal comes
                rp = subprocess.Popen(v.inside + ["tcpreplay", "-q", "--intf1=" + v.inner,
                                                  "--pps=300", "--loop=3", pcap],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.6)
                before = sensor.stderr().count("outputs reopened")
                os.rename(alerts, "%s.%d" % (alerts, n))
                os.rename(flows, "%s.%d" % (flows, n))
                sensor.p.send_signal(sig)
                wait_for("'outputs reopened' after signal %d" % sig,
                         lambda: sensor.stderr().count("outputs reopened") > before, 10)
                rp.wait(timeout=30)
            v.replay(pcap)
            time.sleep(IDLE_TIMEOUT + 2)
            sensor.p.send_signal(signal.SIGUSR2)
            rc = sensor.wait_exit(20)
        err = sensor.stderr()
        check(rc == 0 and "summary" in err,
              "SIGUSR2 did not end the sensor as SIGTERM does: exit %d: %s" % (rc, err[-400:]))
        files = ["%s.1" % alerts, "%s.2" % alerts, alerts]
        recs, torn = [], 0
        for f in files:
            check(os.path.exists(f), "%s missing" % f)
            with open(f) as fp:
                for line in fp:
                    try:
                        recs.append((f, json.loads(line)))
                    except ValueError:
                        torn += 1
        check(torn == 0, "%d torn lines" % torn)
        check(recs and recs[0][1].get("event_type") == "earlier",
              "the line written before the start is gone: %s" % (recs[:1],))
        events = [(f, r) for f, r in recs if r.get("event_type") in ("alert", "asset")]
        ids = [r.get("alert_id") or r.get("asset_id") for _, r in events]
        with open(stats) as fp:
            det = json.load(fp)["detection"]
        want = det["alerts"] + det["asset_events"]
        check(len(ids) == want and len(set(ids)) == len(ids),
              "%d records in the three files (%d distinct), the sensor counted %d"
              % (len(ids), len(set(ids)), want))
        per = collections.Counter(f for f, r in events if r.get("event_type") == "alert")
        check(all(per[f] > 0 for f in files), "alerts per file: %s" % dict(per))
        nflows = sum(1 for f in ("%s.1" % flows, "%s.2" % flows, flows)
                     for line in open(f) if line.strip())
        return "%d alerts and asset events over 3 files (%s), %d flow records; SIGUSR2: exit 0" % (
            len(ids), ", ".join(str(per[f]) for f in files), nflows)
    finally:
        if sensor is not None:
            sensor.kill()


def test_live_and_files(a, tmp):
    p = subprocess.run([a.sensor, "-i", "lo", "-r", os.path.join(PCAPS, REPLAYED[0])],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 2 and "-i" in err and "-r" in err,
          "exit %d: %s" % (p.returncode, err.strip()))
    return err.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True,
                    help="folder with the test databases country-dbip.mmdb and asn.mmdb")
    args = ap.parse_args()

    why = None
    if os.geteuid() != 0:
        why = "needs root"
    elif not (shutil.which("ip") and shutil.which("tcpreplay")):
        why = "needs ip and tcpreplay"
    if not why and not (shutil.which("redis-server") and shutil.which("redis-cli")):
        why = "needs redis-server and redis-cli (the capture test delivers to Redis)"
    if why:
        return testlib.cannot_run("live capture test", why, len(TESTS))

    args.sensor = os.path.abspath(args.sensor)
    funcs = collections.OrderedDict(zip(TESTS, (test_capture,
                                                lambda a, t: test_capture(a, t, workers=2),
                                                test_reload,
                                                lambda a, t: test_reload(a, t, workers=2),
                                                test_no_such_interface,
                                                test_interface_deleted, test_live_and_files,
                                                test_syslog, test_rotation)))
    passed = failed = 0
    start = time.monotonic()
    for name, fn in funcs.items():
        tmp = tempfile.mkdtemp(prefix="live.")
        os.chmod(tmp, 0o711)  # nobody reaches its output folder and the config
        try:
            note = fn(args, tmp)
            passed += 1
            print("  ok   %s%s" % (name, ": " + note if note else ""))
        except TestFailure as e:
            failed += 1
            print("  FAIL %s: %s" % (name, e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("(%.1f s)" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
