#!/usr/bin/env python3
"""The fleet view (--from-redis) against a real Redis, in a real browser.

One redis-server, started here on a unix socket in a temporary folder and
protected by a password, takes what TWO sensors push to it: gw-east reads
the Fortinet, Kaspersky and Check Point captures of pcaps/detect/, gw-west
the Palo Alto, Sophos, ESET and IPv6 ones, each with --alerts beside its
--redis (the password from EGRESS_SENSOR_REDIS_PASSWORD). Then, as any
other consumer could, the test adds what a fleet also holds: a damaged
inventory record, a sensor that left only its counters (silent: no
heartbeat) and one whose heartbeat is fresh (running). The sensor, with
--from-redis and no traffic, writes the fleet's report, and the test
checks:

  - exit 0, the damaged record named on standard error with its key and
    field, and counted in the report; the file 0644, no temporary file
    left, the data valid against sensor/report/report-data.schema.json
    and escaped;
  - the sensors section: both sensors stopped (a clean stop), the silent
    and the running one; every alerted (sensor, host) of each sensor's
    --alerts has a finding naming that sensor, with its samples; the
    window holds every alert and asset event;
  - the page in headless Chromium, every request but the page blocked: no
    console error or script error, both sensors, every alerted host,
    vendor and destination country in its text, a drawn chart; the
    findings filtered by one sensor's name leave that sensor's findings;
    screenshots OUT/report-fleet.png and OUT/report-fleet-full.png;
  - errors: Redis not listening (exit 1 naming the server, no report), a
    wrong password (exit 1 saying WRONGPASS, no report), --from-redis with
    -r (exit 2).

Needs redis-server, Chromium, node and playwright-core (make report-test
installs them); without one the test is skipped, except under CI=true,
where it fails (tests/testlib.py).
"""

import argparse
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_test as rt  # noqa: E402
import testlib  # noqa: E402
from redis_test import RedisServer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PASSWORD = "fleet-test-pw"
SENSORS = {
    "gw-east": ("vendor-fortinet.pcap", "vendor-kaspersky.pcap", "vendor-checkpoint.pcap"),
    "gw-west": ("vendor-paloalto.pcap", "vendor-sophos.pcap", "vendor-eset.pcap",
                "feature-ipv6.pcap"),
}
DAMAGED_HOST = "10.99.99.99"


def write_config(path, name, geo, signatures, template, spool=None):
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write("sensor_name = %s;\n" % testlib.cfg_str(name))
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (testlib.cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    testlib.cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % testlib.cfg_str(os.path.abspath(signatures)))
        fp.write("report = { template = %s; };\n" % testlib.cfg_str(os.path.abspath(template)))
        fp.write("redis = { connect_timeout_ms = 1000; command_timeout_ms = 2000; "
                 "flush_timeout = 5; stats_interval = 5;%s };\n"
                 % (" spool_dir = %s;" % testlib.cfg_str(spool) if spool else ""))


def run(cmd, env=None, timeout=120):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       check=False, env=dict(os.environ, **(env or {})))
    return p.returncode, p.stderr.decode(errors="replace")


def read_records(path):
    out = []
    with open(path) as fp:
        for line in fp:
            if line.strip():
                out.append(json.loads(line))
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True, help="folder with the test geo databases")
    ap.add_argument("--template", required=True, help="the report template (make report)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "report"),
                    help="where the report and screenshots are kept (default build/report)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--signatures", default=rt.SIGNATURES)
    ap.add_argument("--pcaps", default=rt.PCAPS)
    ap.add_argument("--redis-server", default=shutil.which("redis-server"))
    args = ap.parse_args()

    missing = []
    if not args.redis_server or not os.access(args.redis_server, os.X_OK):
        missing.append("redis-server (Debian package redis-server)")
    if not os.access(args.chromium, os.X_OK):
        missing.append("%s (Debian package chromium)" % args.chromium)
    if shutil.which("node") is None:
        missing.append("node")
    if not os.path.isdir(rt.PLAYWRIGHT):
        missing.append("tests/node_modules/playwright-core (cd tests && npm ci)")
    if missing:
        return testlib.cannot_run("report-fleet-test", "missing %s; make report-test installs "
                                  "them" % ", ".join(missing))

    t_start = time.monotonic()
    c = rt.Checks()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-fleet-test.") as tmp:
        sock = os.path.join(tmp, "redis.sock")
        rdir = os.path.join(tmp, "redis")
        os.mkdir(rdir)
        srv = RedisServer(args.redis_server, rdir, unix=sock,
                          args=["--requirepass", PASSWORD], password=PASSWORD)
        try:
            srv.start()
            rc = fleet(args, tmp, srv, sock, c)
        finally:
            srv.stop()
    print("report-fleet-test: %.1f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed or rc else 0


def fleet(args, tmp, srv, sock, c):
    url = "unix://%s" % sock
    pw = {"EGRESS_SENSOR_REDIS_PASSWORD": PASSWORD}
    expected = {}  # sensor -> (alerts, asset events) of its --alerts
    for name, captures in SENSORS.items():
        conf = os.path.join(tmp, name + ".conf")
        write_config(conf, name, args.geo, args.signatures, args.template,
                     spool=os.path.join(tmp, "spool-" + name))
        out = os.path.join(tmp, name + "-alerts.json")
        cmd = [args.sensor, "-c", conf, "-q", "--no-progress", "--redis", url, "--alerts", out]
        for cap in captures:
            cmd += ["-r", os.path.join(args.pcaps, cap)]
        rc, err = run(cmd, pw)
        if not c.check(rc == 0, "sensor %s pushed %d captures to Redis" % (name, len(captures)),
                       "exit %d: %s" % (rc, err[-600:])):
            return 1
        recs = read_records(out)
        expected[name] = ([r for r in recs if r.get("event_type") == "alert"],
                          [r for r in recs if r.get("event_type") == "asset"])
        c.check(expected[name][0], "sensor %s raised alerts" % name, "none")

    # What else a fleet holds: a damaged record, a silent and a running sensor.
    r = srv.client()
    r.cmd("HSET", "egress:assets:gw-east", DAMAGED_HOST, "{\"host\": \"10.99.99.99\", trunc")
    r.cmd("HSET", "egress:stats:gw-north", "updated", "2023-11-14T22:00:00.000000+0000",
          "packets.total", "7")
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+0000", time.gmtime())
    r.cmd("HSET", "egress:stats:gw-south", "updated", now, "packets.total", "9")
    r.cmd("SET", "egress:heartbeat:gw-south", now, "EX", "60")
    r.close()

    conf = os.path.join(tmp, "reader.conf")
    write_config(conf, "fleet-reader", args.geo, args.signatures, args.template)
    page = os.path.join(tmp, "out", "fleet.html")
    os.mkdir(os.path.dirname(page))
    t0 = time.monotonic()
    rc, err = run([args.sensor, "-c", conf, "--from-redis", url, "--report", page], pw)
    took = time.monotonic() - t0
    if not c.check(rc == 0 and os.path.exists(page), "--from-redis wrote the fleet report",
                   "exit %d: %s" % (rc, err[-800:])):
        return 1
    size = os.path.getsize(page)
    print("report-fleet-test: fleet report %d bytes, written in %.2f s" % (size, took))
    c.check("egress:assets:gw-east" in err and DAMAGED_HOST in err and "skipped" in err,
            "the damaged record is named on standard error with its key and field", err[-600:])
    c.check(PASSWORD not in err, "the password is not on standard error")
    mode = stat.S_IMODE(os.stat(page).st_mode)
    c.check(mode == 0o644, "the report is readable by all (0644)", oct(mode))
    c.check(os.listdir(os.path.dirname(page)) == ["fleet.html"],
            "no temporary file left beside the report", str(os.listdir(os.path.dirname(page))))

    raw, data = rt.report_data(page)
    with open(rt.SCHEMA) as fp:
        schema = json.load(fp)
    errors = rt.validate(data, schema, schema)
    c.check(not errors, "the data document follows report-data.schema.json", "; ".join(errors[:10]))
    bad = [ch for ch in ("<", ">", "&", "\u2028", "\u2029") if ch in raw]
    c.check(not bad, "the data holds no < > & U+2028 U+2029 unescaped", repr(bad))
    c.check(data["run"]["mode"] == "fleet", "run.mode is fleet", data["run"]["mode"])

    states = {s["name"]: s["state"] for s in data.get("sensors", [])}
    c.check(states == {"gw-east": "stopped", "gw-west": "stopped", "gw-north": "silent",
                       "gw-south": "running"},
            "the sensors and their states: stopped, silent, running", str(states))
    fl = data.get("fleet", {})
    c.check(fl.get("records_damaged") == 1 and fl["damaged"][0]["key"] == "egress:assets:gw-east"
            and fl["damaged"][0]["field"] == DAMAGED_HOST,
            "the damaged record is counted and named in the report", json.dumps(fl)[:400])
    n_alerts = sum(len(a) for a, _ in expected.values())
    n_events = sum(len(e) for _, e in expected.values())
    w = fl.get("window", {})
    c.check(w.get("alerts") == n_alerts and w.get("asset_events") == n_events and w.get("complete"),
            "the window holds every alert (%d) and asset event (%d)" % (n_alerts, n_events),
            json.dumps(w))
    findings = {(p["sensor"], p["host"]) for p in data["products"]}
    want = {(name, a["src_ip"]) for name, (alerts, _) in expected.items() for a in alerts}
    c.check(want <= findings, "every alerted (sensor, host) has a finding naming its sensor",
            str(sorted(want - findings))[:400])
    sampled = {(p["sensor"], s["alert_id"]) for p in data["products"] for s in p["samples"]}
    ids = {(name, a["alert_id"]) for name, (alerts, _) in expected.items() for a in alerts}
    c.check(ids <= sampled, "every alert is a sample of its finding (one alert per finding here)",
            str(sorted(ids - sampled))[:400])
    files = {(p["sensor"], s["capture_file"]) for p in data["products"] for s in p["samples"]}
    bad = sorted((n, f) for n, f in files if f not in SENSORS.get(n, ()))
    c.check(files and not bad, "every sample names the capture file its sensor read",
            str(bad)[:400])

    hosts = sorted({h for _, h in want})
    vendors = sorted({a["alert"]["vendor"] for al, _ in expected.values() for a in al})
    countries = sorted({a["dest_geo"]["country_code"] for al, _ in expected.values() for a in al
                        if a.get("dest_geo", {}).get("country_code")})
    shutil.copyfile(page, os.path.join(args.out, "report-fleet.html"))
    shot = os.path.join(args.out, "report-fleet.png")
    try:
        b = rt.browse(page, shot, "gw-west")
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
        c.check(False, "the browser opened the fleet report", str(e)[-1500:])
        return 1
    rt.common_page_checks(c, "fleet report", page, b)
    text = b["text"]
    for kind, wanted in (("sensor", sorted(SENSORS)), ("internal host", hosts),
                         ("vendor", vendors), ("destination country", countries)):
        absent = [x for x in wanted if x not in text]
        c.check(not absent, "the page shows every %s (%d)" % (kind, len(wanted)),
                ", ".join(absent))
    c.check("Foreign security products across the fleet" in text and "silent" in text and
            "running" in text, "the page is the fleet's: title, sensor states", text[:300])
    drawn = [cv for cv in b["canvases"] if cv["drawn"] > 0]
    c.check(drawn, "a chart canvas is drawn", json.dumps(b["canvases"]))
    ev = b.get("evidence") or {}
    etext = ev.get("text") or ""
    named = [(n, f) for n, caps in SENSORS.items() for f in caps if n in etext and f in etext]
    c.check(ev.get("expanded") == "true" and named,
            "the first finding's evidence names its sensor and that sensor's capture file",
            "%s; %r" % (ev.get("expanded"), etext[:400]))
    west = sorted({h for s, h in findings if s == "gw-west"})
    c.check(sorted(set(b["filter"]["hosts"])) == west,
            "typing gw-west leaves gw-west's findings",
            "shown %s, expected %s" % (b["filter"]["hosts"][:8], west[:8]))
    c.check(os.path.getsize(shot) > 10000, "screenshot written: %s" % os.path.relpath(shot))
    print("report-fleet-test: screenshots %s (%d bytes), %s (%d bytes)"
          % (os.path.relpath(shot), os.path.getsize(shot),
             os.path.relpath(shot.replace(".png", "-full.png")),
             os.path.getsize(shot.replace(".png", "-full.png"))))

    # Errors: nobody listening, a wrong password, traffic as well.
    never = os.path.join(tmp, "never.html")
    port = free_port()
    rc, err = run([args.sensor, "-c", conf, "--from-redis", "redis://127.0.0.1:%d/0" % port,
                   "--report", never])
    c.check(rc == 1 and "127.0.0.1:%d" % port in err and not os.path.exists(never),
            "Redis not listening: exit 1 naming it, no report", "exit %d: %s" % (rc, err.strip()))
    rc, err = run([args.sensor, "-c", conf, "--from-redis", url, "--report", never],
                  {"EGRESS_SENSOR_REDIS_PASSWORD": "not-the-password"})
    c.check(rc == 1 and "WRONGPASS" in err and sock in err and "not-the-password" not in err and
            not os.path.exists(never),
            "a wrong password: exit 1 naming the server, no report", "exit %d: %s"
            % (rc, err.strip()))
    rc, err = run([args.sensor, "-c", conf, "--from-redis", url, "--report", never, "-r",
                   os.path.join(args.pcaps, SENSORS["gw-east"][0])])
    c.check(rc == 2 and "-r" in err, "--from-redis with -r: exit 2", "exit %d: %s"
            % (rc, err.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
