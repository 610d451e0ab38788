#!/usr/bin/env python3
"""The live report: --report with -i, rewritten while the sensor captures.

As tests/live_test.py does, the test makes a network namespace with a
veth pair, starts the sensor with -i on the host end, and replays vendor
captures of pcaps/detect/ into the other end with tcpreplay. The
configuration says report.interval = 3600 and the command line
--report-interval 1s, which overrides it. While the sensor runs, a reader
opens the report 20 times a second, as a web server would, and the test
checks:

  - the report appears within a few seconds of the start, and is replaced
    (a new inode: renamed over) at least twice while capturing;
  - every read of it, all through the run, is a whole page: it exists, ends
    with </html>, and its data parses -- never half a report;
  - a rewrite during the run holds a finding for every host the replay
    alerted (the same state the final report is made from), with run.mode
    live and the interface;
  - after SIGTERM, exit 0, the final report valid against
    sensor/report/report-data.schema.json, no temporary file left beside
    it; opened in headless Chromium with every request blocked, no console
    error, the alerted hosts and "live on IFACE" in its text; a screenshot,
    OUT/report-live.png.

Needs root, ip, tcpreplay, Chromium, node and playwright-core: without
them the test is skipped, except under CI=true, where it fails
(tests/testlib.py). Traffic only goes through the pair made here.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
import report_test as rt  # noqa: E402
import testlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPLAYED = ("vendor-fortinet.pcap", "vendor-checkpoint.pcap")


class Reader(threading.Thread):
    """Reads the report as a web server would, 20 times a second, and
    keeps what each read saw."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.reads = 0
        self.bad = []  # what was wrong with a read
        self.inodes = []  # each inode seen, in order
        self.latest = None  # the data of the last whole read

    def run(self):
        seen = False
        while not self.stop.is_set():
            try:
                with open(self.path, encoding="utf-8") as fp:
                    ino = os.fstat(fp.fileno()).st_ino
                    html = fp.read()
            except FileNotFoundError:
                if seen:
                    self.bad.append("the report was missing for a moment")
                time.sleep(0.05)
                continue
            seen = True
            self.reads += 1
            if not self.inodes or self.inodes[-1] != ino:
                self.inodes.append(ino)
            m = rt.DATA_RE.search(html)
            try:
                if not html.rstrip().endswith("</html>") or m is None:
                    raise ValueError("a page cut short (%d bytes)" % len(html))
                self.latest = json.loads(m.group(1))
            except ValueError as e:
                self.bad.append(str(e)[:120])
            time.sleep(0.05)


def write_config(path, geo, signatures, template):
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write('sensor_name = "live-report";\n')
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (testlib.cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    testlib.cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % testlib.cfg_str(os.path.abspath(signatures)))
        fp.write("flow = { timeouts = { tcp = 2; tcp_closed = 1; udp = 2; icmp = 2; other = 2; }; "
                 "};\n")
        fp.write("report = { template = %s; interval = 3600; };\n"
                 % testlib.cfg_str(os.path.abspath(template)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True, help="folder with the test geo databases")
    ap.add_argument("--template", required=True, help="the report template (make report)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "report"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--signatures", default=rt.SIGNATURES)
    ap.add_argument("--pcaps", default=rt.PCAPS)
    args = ap.parse_args()

    why = []
    if os.geteuid() != 0:
        why.append("root (a veth pair in a namespace)")
    for tool in ("ip", "tcpreplay", "node"):
        if shutil.which(tool) is None:
            why.append(tool)
    if not os.access(args.chromium, os.X_OK):
        why.append(args.chromium)
    if not os.path.isdir(rt.PLAYWRIGHT):
        why.append("tests/node_modules/playwright-core")
    if why:
        return testlib.cannot_run("report-live-test", "needs %s" % ", ".join(why))

    t_start = time.monotonic()
    c = rt.Checks()
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="report-live-test.")
    sensor = None
    try:
        conf = os.path.join(tmp, "live.conf")
        write_config(conf, args.geo, args.signatures, args.template)
        out = os.path.join(tmp, "www")
        os.mkdir(out)
        page = os.path.join(out, "index.html")
        alerts_path = os.path.join(tmp, "alerts.json")
        reader = Reader(page)
        with netns.Veth("rep", "r") as v:
            sensor = netns.Sensor([os.path.abspath(args.sensor), "-c", conf, "-i", v.host,
                                   "--report", page, "--report-interval", "1s", "--alerts",
                                   alerts_path, "--stats-interval", "0"], tmp, "sensor")
            sensor.wait_capturing()
            reader.start()
            netns.wait_for("the report to appear", lambda: reader.reads > 0, 5)
            c.check(True, "the report appeared while capturing")
            for name in REPLAYED:
                v.tcpreplay(os.path.join(args.pcaps, name), ["--pps=2000"], timeout=20)
            def alerted():
                return sorted({a["src_ip"] for a in rt_records(alerts_path)
                               if a.get("event_type") == "alert"})

            def rewritten():
                d, hosts = reader.latest, alerted()
                return d is not None and hosts and \
                    set(hosts) <= {p["host"] for p in d.get("products", [])}
            # the replay's alerts, once no more come: a flow that ends idle (2 s,
            # by the wall clock) may match only then
            last = {"hosts": None, "since": time.monotonic()}

            def settled():
                h = alerted()
                if h != last["hosts"]:
                    last["hosts"], last["since"] = h, time.monotonic()
                return h and time.monotonic() - last["since"] >= 4
            netns.wait_for("the replay's alerts", settled, 15)
            try:
                netns.wait_for("a rewrite holding every alerted host", rewritten, 15)
                d = reader.latest
                c.check(d["run"]["mode"] == "live" and d["run"]["interfaces"] == [v.host],
                        "a rewrite while capturing holds every alerted host (%d), live on %s"
                        % (len(alerted()), v.host), json.dumps(d["run"])[:300])
            except netns.Failure as e:
                c.check(False, "a rewrite while capturing holds every alerted host", str(e))
            n_before = len(reader.inodes)
            netns.wait_for("one more rewrite", lambda: len(reader.inodes) > n_before, 5)
            rc = sensor.stop()
            reader.stop.set()
            reader.join(5)
        err = sensor.stderr()
        c.check(rc == 0, "exit 0 after SIGTERM", "exit %s: %s" % (rc, err[-600:]))
        c.check(len(reader.inodes) >= 3, "the report was replaced (renamed over) while capturing",
                "%d versions seen" % len(reader.inodes))
        c.check(reader.reads > 20 and not reader.bad,
                "every one of %d reads saw a whole report" % reader.reads,
                "; ".join(reader.bad[:5]))
        c.check(os.listdir(out) == ["index.html"], "no temporary file left beside the report",
                str(os.listdir(out)))
        hosts = sorted({a["src_ip"] for a in rt_records(alerts_path)
                        if a.get("event_type") == "alert"})
        raw, data = rt.report_data(page)
        with open(rt.SCHEMA) as fp:
            schema = json.load(fp)
        errors = rt.validate(data, schema, schema)
        c.check(not errors, "the final report follows report-data.schema.json",
                "; ".join(errors[:10]))
        shot = os.path.join(args.out, "report-live.png")
        try:
            b = rt.browse(page, shot, hosts[0] if hosts else "x")
            rt.common_page_checks(c, "live report", page, b)
            absent = [h for h in hosts if h not in b["text"]]
            c.check(not absent and "live on " + v.host in b["text"],
                    "the page shows every alerted host (%d) and live on %s" % (len(hosts), v.host),
                    ", ".join(absent))
            c.check(os.path.getsize(shot) > 10000, "screenshot written: %s"
                    % os.path.relpath(shot))
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            c.check(False, "the browser opened the live report", str(e)[-1500:])
        print("report-live-test: %d versions of the report seen in %d reads; final %d bytes"
              % (len(reader.inodes), reader.reads, os.path.getsize(page)))
    except netns.Failure as e:
        c.check(False, "the live run", str(e))
    finally:
        if sensor is not None:
            sensor.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("report-live-test: %.1f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


def rt_records(path):
    out = []
    if os.path.exists(path):
        with open(path) as fp:
            for line in fp:
                if line.strip():
                    out.append(json.loads(line))
    return out


if __name__ == "__main__":
    sys.exit(main())
