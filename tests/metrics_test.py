#!/usr/bin/env python3
"""The metrics file (--metrics) against --stats of the same run.

The file is parsed with the Prometheus text parser of Debian's
python3-prometheus-client (prometheus_client.parser), and:

  - every counter --stats writes is one sample of it, with the same value,
    and it has nothing else but egress_sensor_info: the metric named after
    the dotted name ('.' and '-' as '_', "egress_sensor_" before), a counter
    ending in _total and typed counter, a gauge or peak typed gauge; a
    family (flows.end_reason.*, flows.direction.*, decode.*,
    detection.by_severity.*, the Redis losses) one metric with its
    dimension as a label; every family with a HELP text and TYPE once;
    every sample labelled sensor=<sensor_name>, without a timestamp (the
    textfile collector refuses them); the kinds are read from the
    counters' declarations in sensor/*.h, not from the file;
  - over the detection captures with the Redis output at a closed port
    (the redis counters), with detection off (no detection_*), and live on
    the loopback interface as root (the capture_* counters);
  - live, with output.metrics_interval = 1, a reader polls the file while
    traffic flows and must only ever see it whole (every read parses, ends
    with a newline and holds every family of the run) and replaced (its
    inode changes, the packet count grows); any other file seen in the
    folder is the writer's temporary file, PATH.tmp.XXXXXX; the check of a
    whole file rejects a copy cut in two (so it can fail); the final file
    equals --stats;
  - the file is mode 0644 and no temporary file is left; --metrics - and
    output.metrics = "-" are usage errors (exit 2); a folder that cannot
    take the file stops the run at once (exit 1, named) and --check-config
    names output.metrics.

Without python3-prometheus-client the suite is skipped, except under CI=true
(tests/testlib.py); run it with Debian's python3 (make metrics-test does).
Without root the live part is skipped the same way.
"""

import argparse
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

import testlib
from testlib import cfg_str, check  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DETECT = os.path.join(ROOT, "pcaps", "detect")
SIGNATURES = os.path.join(ROOT, "config", "signatures")
SENSOR_NAME = "metrics-test"

# Families: their dotted name and the dimension (README "Metrics").
FAMILIES = {"flows.end_reason": "end_reason", "flows.direction": "direction",
            "decode": "reason", "detection.by_severity": "severity"}
REDIS_LOSSES = ("refused_large", "refused_other", "spool_refused", "spool_disk_full",
                "spool_write_errors", "redis_refused", "spool_damaged", "spool_torn",
                "spool_bad_records")
# Members of --stats that are not counters.
NOT_COUNTERS = ("schema_version", "flows.bytes_per_flow", "capture.interfaces",
                "capture.interfaces_lost", "redis.spool_damaged_bytes", "redis.lost",
                "redis.undelivered", "redis.state", "redis.last_error", "redis.last_error_past",
                "redis.spool_damage", "redis.spool_error")
NOT_COUNTER_GROUPS = ("apps", "dest_countries", "run")


def gauges():
    """The dotted names of the gauges and peaks, from their declarations:
    X(T, field, "name", CTR_GAUGE or CTR_PEAK, ...) in sensor/*.h, and the
    Redis output's X(name, CTR_GAUGE, ...)."""
    names = set()
    for f in os.listdir(os.path.join(ROOT, "sensor")):
        if not f.endswith(".h"):
            continue
        text = open(os.path.join(ROOT, "sensor", f)).read().replace("\\\n", " ")
        names |= set(re.findall(r'X\(T, \w+, "([^"]+)",\s*CTR_(?:GAUGE|PEAK)', text))
        names |= {"redis." + n for n in re.findall(r"X\((\w+), CTR_GAUGE,", text)}
    return names


def expected(stats, gauge_names):
    """{(metric name, labels tuple): (value, type)} the file must hold for
    the --stats document stats."""
    want = {}

    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, path + (k,))
            return
        name = ".".join(path)
        if path[0] in NOT_COUNTER_GROUPS or name in NOT_COUNTERS:
            return
        labels = [("sensor", SENSOR_NAME)]
        family, value_of = name, None
        for fam, label in FAMILIES.items():
            if name.startswith(fam + ".") and "." not in name[len(fam) + 1:]:
                family, value_of = fam, (label, path[-1])
        if path[0] == "redis" and path[-1] in REDIS_LOSSES:
            family, value_of = "redis.lost", ("reason", path[-1])
        if value_of:
            labels.append(value_of)
        kind = "gauge" if name in gauge_names else "counter"
        metric = "egress_sensor_" + re.sub(r"[^A-Za-z0-9_]", "_", family)
        if kind == "counter" and not metric.endswith("_total"):
            metric += "_total"
        want[(metric, tuple(sorted(labels)))] = (o, kind)

    walk(stats, ())
    return want


def parse(text):
    """{(sample name, labels tuple): (value, family type)}, the family
    names, and the problems found (raises ValueError on a bad line)."""
    got, families, problems = {}, [], []
    for fam in text_string_to_metric_families(text):
        families.append(fam.name)
        if not fam.documentation:
            problems.append("%s: no HELP" % fam.name)
        for s in fam.samples:
            if s.timestamp is not None:
                problems.append("%s: a timestamp" % s.name)
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in got:
                problems.append("%s %s twice" % key)
            got[key] = (s.value, fam.type)
    dup = sorted({f for f in families if families.count(f) > 1})
    if dup:
        problems.append("families split or repeated: %s" % dup)
    return got, families, problems


def whole(text, families_wanted):
    """Whether text is a whole metrics file: it parses, ends with a newline
    and holds every family of families_wanted. Returns the problem or ""."""
    if not text.endswith("\n"):
        return "does not end with a newline"
    try:
        _, families, _ = parse(text)
    except ValueError as e:
        return "does not parse: %s" % e
    missing = sorted(set(families_wanted) - set(families))
    return "families missing: %s" % missing[:5] if missing else ""


def compare(label, metrics_path, stats_path, gauge_names, extra_checks=None):
    """The file at metrics_path against the --stats at stats_path."""
    text = open(metrics_path).read()
    stats = json.load(open(stats_path))
    try:
        got, families, problems = parse(text)
    except ValueError as e:
        check("%s: the file parses" % label, False, str(e))
        return None
    check("%s: every family has HELP and TYPE once, no sample a timestamp" % label,
          not problems, "; ".join(problems[:5]))
    info = [k for k in got if k[0] == "egress_sensor_info"]
    check("%s: egress_sensor_info names the sensor and its version" % label,
          len(info) == 1 and dict(info[0][1]).get("sensor") == SENSOR_NAME and
          dict(info[0][1]).get("version"), str(info))
    for k in info:
        got.pop(k)
    bad_names = sorted(k[0] for k in got if not k[0].startswith("egress_sensor_") or
                       ("sensor", SENSOR_NAME) not in k[1])
    check("%s: every sample is egress_sensor_*, labelled sensor=%s" % (label, SENSOR_NAME),
          not bad_names, str(bad_names[:5]))
    want = expected(stats, gauge_names)
    missing = sorted("%s%s" % k for k in want if k not in got)
    extra = sorted("%s%s" % k for k in got if k not in want)
    check("%s: one sample per counter of --stats (%d), nothing else" % (label, len(want)),
          len(want) > 50 and not missing and not extra,
          "missing: %s; not in --stats: %s" % (missing[:5], extra[:5]))
    wrong = ["%s%s: %s %s, --stats %s %s" % (k + got[k] + v) for k, v in want.items()
             if k in got and (got[k][0] != v[0] or got[k][1] != v[1])]
    check("%s: the values and types of --stats" % label, not wrong, "; ".join(wrong[:5]))
    suffix = [k[0] for k, v in got.items() if (v[1] == "counter") != k[0].endswith("_total")]
    check("%s: counters and only counters end in _total" % label, not suffix, str(suffix[:5]))
    mode = stat.S_IMODE(os.stat(metrics_path).st_mode)
    folder = os.path.dirname(metrics_path)
    left = [f for f in os.listdir(folder) if ".tmp." in f]
    check("%s: mode 0644, no temporary file left" % label, mode == 0o644 and not left,
          "mode %o, left: %s" % (mode, left))
    return families


def write_config(path, geo, signatures, extra=""):
    with open(path, "w") as fp:
        fp.write("sensor_name = %s;\n" % cfg_str(SENSOR_NAME))
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write("signatures = { dir = %s; };\n" % cfg_str(signatures))
        fp.write(extra)
    return path


def run(sensor, args, timeout=120):
    p = subprocess.run([sensor, "-q", "--no-progress"] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout, check=False)
    return p.returncode, p.stderr.decode(errors="replace")


def offline(a, tmp, gauge_names):
    detect = sorted(os.path.join(DETECT, f) for f in os.listdir(DETECT) if f.endswith(".pcap"))
    inputs = sum((["-r", p] for p in detect), [])
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    out = os.path.join(tmp, "offline")
    os.mkdir(out)
    conf = write_config(os.path.join(tmp, "redis.conf"), a.geo, SIGNATURES,
                        'redis = { url = "redis://127.0.0.1:%d/0"; spool_dir = %s; '
                        'flush_timeout = 0; };\n' % (port, cfg_str(os.path.join(tmp, "spool"))))
    m, st = os.path.join(out, "sensor.prom"), os.path.join(tmp, "stats.json")
    rc, err = run(a.sensor, ["-c", conf, "-w", "2"] + inputs + ["--metrics", m, "--stats", st,
                                                               "--alerts", os.devnull])
    if check("detection captures, Redis down: exit 3 (alerts in the spool)", rc == 3,
             "exit %d: %s" % (rc, err[-500:])):
        compare("detection captures", m, st, gauge_names)
        text = open(m).read()
        check("detection captures: the Redis counters and losses are there",
              "egress_sensor_redis_spooled_total{" in text and
              'egress_sensor_redis_lost_total{reason="spool_torn"' in text.replace(
                  'sensor="%s",' % SENSOR_NAME, ""), text[-300:])

    conf = write_config(os.path.join(tmp, "off.conf"), a.geo, "")
    m2, st2 = os.path.join(out, "off.prom"), os.path.join(tmp, "off-stats.json")
    rc, err = run(a.sensor, ["-c", conf, "-r", detect[0], "--metrics", m2, "--stats", st2])
    if check("detection off: exit 0", rc == 0, "exit %d: %s" % (rc, err[-500:])):
        compare("detection off", m2, st2, gauge_names)
        text = open(m2).read()
        check("detection off: no detection_* metric",
              "egress_sensor_detection_" not in text and "egress_sensor_capture_" not in text,
              "found in the file")


def errors(a, tmp):
    example = os.path.join(ROOT, "pcaps", "example.pcap")
    rc, err = run(a.sensor, ["-c", os.devnull, "-r", example, "--metrics", "-"])
    check("--metrics -: exit 2", rc == 2 and "--metrics" in err, "exit %d: %s" % (rc, err))
    conf = os.path.join(tmp, "dash.conf")
    open(conf, "w").write('output = { metrics = "-"; };\n')
    rc, err = run(a.sensor, ["-c", conf, "-r", example])
    check("output.metrics = \"-\": exit 2 naming the key", rc == 2 and "output.metrics" in err,
          "exit %d: %s" % (rc, err))
    rc, err = run(a.sensor, ["-c", conf, "--check-config"])
    check("output.metrics = \"-\": --check-config exit 2 naming the key",
          rc == 2 and "output.metrics" in err, "exit %d: %s" % (rc, err))
    gone = os.path.join(tmp, "no-such-folder", "sensor.prom")
    st = os.path.join(tmp, "never-stats.json")
    rc, err = run(a.sensor, ["-c", os.devnull, "-r", example, "--metrics", gone, "--stats", st])
    check("a folder that cannot take the file: exit 1 at once, naming it",
          rc == 1 and gone in err and not os.path.exists(st), "exit %d: %s" % (rc, err))
    conf = os.path.join(tmp, "gone.conf")
    open(conf, "w").write("output = { metrics = %s; };\n" % cfg_str(gone))
    rc, err = run(a.sensor, ["-c", conf, "--check-config"])
    check("--check-config: exit 2 naming output.metrics", rc == 2 and "output.metrics" in err,
          "exit %d: %s" % (rc, err))


class Poller(threading.Thread):
    """Reads the metrics file as fast as it can while the sensor runs."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.folder = path, os.path.dirname(path)
        self.stop = threading.Event()
        self.reads, self.inodes, self.packets, self.others = [], set(), [], set()

    def run(self):
        base = os.path.basename(self.path)
        while not self.stop.is_set():
            try:
                with open(self.path) as fp:
                    ino = os.fstat(fp.fileno()).st_ino
                    text = fp.read()
                self.reads.append(text)
                self.inodes.add(ino)
                m = re.search(r"^egress_sensor_packets_total\{[^}]*\} (\d+)", text, re.M)
                if m:
                    self.packets.append(int(m.group(1)))
            except FileNotFoundError:
                pass
            self.others |= {f for f in os.listdir(self.folder) if f != base}
            time.sleep(0.002)


def live(a, tmp, gauge_names):
    if os.geteuid() != 0:
        return "not root: the live part (capture on lo, the file polled) did not run"
    out = os.path.join(tmp, "live")
    os.mkdir(out)
    m, st = os.path.join(out, "sensor.prom"), os.path.join(tmp, "live-stats.json")
    conf = write_config(os.path.join(tmp, "live.conf"), a.geo, SIGNATURES,
                        "output = { metrics_interval = 1; };\n")
    poller = Poller(m)
    p = subprocess.Popen([a.sensor, "-q", "-c", conf, "-i", "lo", "-f", "udp port 9",
                          "--metrics", m, "--stats", st, "--stats-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        poller.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            end = time.monotonic() + 4.0
            i = 0
            while time.monotonic() < end:
                s.sendto(b"metrics %d" % i, ("127.0.0.1", 9))
                i += 1
                time.sleep(0.01)
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    finally:
        poller.stop.set()
        if p.poll() is None:
            p.kill()
            p.wait()
        poller.join(5)
    err = err.decode(errors="replace") if isinstance(err, bytes) else ""
    if not check("live on lo: exit 0 after SIGTERM", p.returncode == 0,
                 "exit %s: %s" % (p.returncode, err[-500:])):
        return None
    families = compare("live on lo, the final file", m, st, gauge_names)
    if families is None:
        return None
    text = open(m).read()
    check("live on lo: the capture counters are there",
          "egress_sensor_capture_received_total{" in text, text[:300])
    broken = [(i, whole(t, families)) for i, t in enumerate(poller.reads)]
    broken = [(i, w) for i, w in broken if w]
    check("live: %d reads during the run, each a whole file" % len(poller.reads),
          len(poller.reads) >= 100 and not broken,
          "%d reads; not whole: %s" % (len(poller.reads), broken[:3]))
    check("live: the file was replaced while read (%d files seen), the packet count grew"
          % len(poller.inodes), len(poller.inodes) >= 3 and len(poller.packets) > 1 and
          poller.packets[-1] > poller.packets[0],
          "inodes %d, packets %s..%s" % (len(poller.inodes), poller.packets[:1],
                                         poller.packets[-1:]))
    base = os.path.basename(m)
    strays = sorted(f for f in poller.others if not re.match(re.escape(base) +
                                                             r"\.tmp\.[A-Za-z0-9]{6}$", f))
    check("live: nothing else in the folder but the writer's %s.tmp.XXXXXX" % base,
          not strays, str(strays))
    cut = text[:len(text) // 2]
    check("the check of a whole file rejects one cut in two", whole(cut, families) != "",
          "a half file passed")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--geo", required=True, help="the test geo databases (build/tests/geo)")
    args = ap.parse_args()
    args.sensor = os.path.abspath(args.sensor)
    args.geo = os.path.abspath(args.geo)
    if text_string_to_metric_families is None:
        return testlib.cannot_run("metrics-test", "python3-prometheus-client not installed for "
                                  "%s (make deps installs it for Debian's /usr/bin/python3)"
                                  % sys.executable, 20)
    started = time.monotonic()
    gauge_names = gauges()
    check("the gauges are read from the declarations", len(gauge_names) >= 10,
          str(sorted(gauge_names)))
    with tempfile.TemporaryDirectory(prefix="egress-metrics.") as tmp:
        offline(args, tmp, gauge_names)
        errors(args, tmp)
        note = live(args, tmp, gauge_names)
    if note:
        if testlib.under_ci():
            check("the live part ran", False, note + " (CI=true)")
        else:
            print("  skip %s" % note)
    return testlib.summary("metrics-test", " (%.1f s)" % (time.monotonic() - started))


if __name__ == "__main__":
    sys.exit(main())
