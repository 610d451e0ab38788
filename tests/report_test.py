#!/usr/bin/env python3
"""The HTML report (--report) in a real browser.

The sensor reads every capture of pcaps/detect/ in one run, with the test
geo databases and the signature pack, writing --alerts and --report. The
report is checked as a file (mode, no temporary file left, the data
document valid against sensor/report/report-data.schema.json and escaped
so no string can end its script element) and then opened from disk in
Debian's headless Chromium, driven by playwright-core
(tests/report_browser.js), with every request but the page itself
recorded and blocked. It fails on:

  - any console error or warning, or script error;
  - any request other than the page itself;
  - page text that lacks an internal host, a vendor or a destination
    country found in the alerts output;
  - no chart canvas with drawn pixels;
  - the findings table not sorting when its Host header is clicked (and
    the applications table by Flows), or not filtering when text is typed
    (and saying so when nothing matches);
  - the first finding's evidence not opening with its Community ID and
    capture file.

A run over a decoy capture alone must say "No foreign security product was
seen", and a run whose report.template is missing must stop before reading
with exit 1, naming the file and "make report". Screenshots for a person:
OUT/report.png (the top of the page, the first finding's evidence open),
OUT/report-full.png, and OUT/report-empty.png.

Chromium (/usr/bin/chromium), node and tests/node_modules/playwright-core
must be there ("make report-test" installs them); when one is missing the
test is skipped, except under CI=true, where it fails.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps", "detect")
SIGNATURES = os.path.join(ROOT, "config", "signatures")
SCHEMA = os.path.join(ROOT, "sensor", "report", "report-data.schema.json")
DRIVER = os.path.join(HERE, "report_browser.js")
PLAYWRIGHT = os.path.join(HERE, "node_modules", "playwright-core")
DATA_RE = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("  ok    %s" % what)
        else:
            self.failed += 1
            print("  FAIL  %s%s" % (what, (": " + detail) if detail else ""))
        return ok


def write_config(path, geo, signatures, template):
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write('sensor_name = "report-test";\n')
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % cfg_str(os.path.abspath(signatures)))
        fp.write("report = { template = %s; };\n" % cfg_str(os.path.abspath(template)))


def run_sensor(sensor, conf, pcaps, report, alerts=None):
    cmd = [sensor, "-c", conf, "-q", "--no-progress", "--report", report]
    if alerts:
        cmd += ["--truncate", "--alerts", alerts]
    for p in pcaps:
        cmd += ["-r", p]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                          check=False)


def report_data(path):
    with open(path, encoding="utf-8") as fp:
        html = fp.read()
    m = DATA_RE.search(html)
    if m is None:
        raise ValueError("no report-data script element")
    return m.group(1), json.loads(m.group(1))


# A JSON Schema subset, enough for report-data.schema.json: type, required,
# properties, additionalProperties (false or a schema), items, enum,
# minimum, $ref to #/$defs/NAME.
def validate(value, schema, root, where="$"):
    errors = []
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return validate(value, root["$defs"][name], root, where)
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        kinds = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
        }
        if not any(kinds[t](value) for t in types):
            return ["%s: %r is not %s" % (where, value, "/".join(types))]
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %s" % (where, value, schema["enum"]))
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        errors.append("%s: %r < %r" % (where, value, schema["minimum"]))
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errors.append("%s: missing %s" % (where, k))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errors += validate(v, props[k], root, "%s.%s" % (where, k))
            elif extra is False:
                errors.append("%s: unexpected key %s" % (where, k))
            elif isinstance(extra, dict):
                errors += validate(v, extra, root, "%s.%s" % (where, k))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += validate(v, schema["items"], root, "%s[%d]" % (where, i))
    return errors


def ip_sorted(values, reverse=False):
    keys = [ipaddress.ip_address(v) for v in values]
    want = sorted(keys, key=lambda a: (a.version, a), reverse=reverse)
    return keys == want


def to_int(text):
    return int(text.replace(",", "")) if re.fullmatch(r"[\d,]+", text or "") else None


def browse(page, shot, filter_text):
    p = subprocess.run(["node", DRIVER, "--page", page, "--screenshot", shot,
                        "--filter", filter_text],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180, check=False)
    if p.returncode != 0:
        raise RuntimeError("report_browser.js exit %d: %s"
                           % (p.returncode, p.stderr.decode(errors="replace").strip()))
    return json.loads(p.stdout)


def common_page_checks(c, label, page, b):
    url = "file://" + os.path.abspath(page)
    noisy = [m for m in b["console"] if m["type"] in ("error", "warning", "assert")]
    c.check(not noisy, "%s: no console error or warning" % label, json.dumps(noisy)[:800])
    c.check(not b["page_errors"], "%s: no script error" % label, "; ".join(b["page_errors"])[:800])
    others = [u for u in b["requests"] if u != url]
    c.check(not others and not b["blocked"] and not b["websockets"],
            "%s: no request but the page itself" % label,
            json.dumps({"requests": others, "blocked": b["blocked"],
                        "websockets": b["websockets"]})[:800])
    c.check(not b.get("load_error"), "%s: the data loaded" % label, b.get("load_error", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True, help="folder with the test geo databases")
    ap.add_argument("--template", required=True, help="the report template (make report)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "report"),
                    help="where the report and screenshots are kept (default build/report)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--signatures", default=SIGNATURES)
    ap.add_argument("--pcaps", default=PCAPS)
    args = ap.parse_args()

    missing = []
    if not os.access(args.chromium, os.X_OK):
        missing.append("%s (Debian package chromium)" % args.chromium)
    if shutil.which("node") is None:
        missing.append("node")
    if not os.path.isdir(PLAYWRIGHT):
        missing.append("tests/node_modules/playwright-core (cd tests && npm ci)")
    if missing:
        return testlib.cannot_run("report-test", "missing %s; make report-test installs them"
                                  % ", ".join(missing))

    c = Checks()
    pcaps = sorted(os.path.join(args.pcaps, f) for f in os.listdir(args.pcaps)
                   if f.endswith((".pcap", ".pcapng")))
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-test.") as tmp:
        conf = os.path.join(tmp, "sensor.conf")
        write_config(conf, args.geo, args.signatures, args.template)
        page = os.path.join(tmp, "report.html")
        alerts_path = os.path.join(tmp, "alerts.json")

        print("report-test: the sensor over %d captures of %s" % (len(pcaps), args.pcaps))
        p = run_sensor(args.sensor, conf, pcaps, page, alerts_path)
        if not c.check(p.returncode == 0 and os.path.exists(page), "the sensor wrote the report",
                       "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-800:])):
            print("%d passed, %d failed" % (c.passed, c.failed))
            return 1
        size = os.path.getsize(page)
        print("report-test: report %d bytes" % size)
        mode = stat.S_IMODE(os.stat(page).st_mode)
        c.check(mode == 0o644, "the report is readable by all (0644)", oct(mode))
        c.check(sorted(os.listdir(tmp)) == ["alerts.json", "report.html", "sensor.conf"],
                "no temporary file left beside the report", ", ".join(os.listdir(tmp)))

        alerts = []
        with open(alerts_path) as fp:
            for line in fp:
                if line.strip():
                    r = json.loads(line)
                    if r.get("event_type") == "alert":
                        alerts.append(r)
        c.check(len(alerts) > 0, "the captures raised alerts", "none")
        hosts = sorted({a["src_ip"] for a in alerts})
        vendors = sorted({a["alert"]["vendor"] for a in alerts})
        countries = sorted({a["dest_geo"]["country_code"] for a in alerts
                            if a.get("dest_geo", {}).get("country_code")})

        raw, data = report_data(page)
        with open(SCHEMA) as fp:
            schema = json.load(fp)
        errors = validate(data, schema, schema)
        c.check(not errors, "the data document follows report-data.schema.json",
                "; ".join(errors[:10]))
        bad = [ch for ch in ("<", ">", "&", "\u2028", "\u2029") if ch in raw]
        c.check(not bad, "the data holds no < > & U+2028 U+2029 unescaped", repr(bad))
        c.check(len(data.get("products", [])) >= len(hosts),
                "a finding per alerted host at least",
                "%d findings, %d hosts" % (len(data.get("products", [])), len(hosts)))
        samples = [s for pr in data.get("products", []) for s in pr.get("samples", [])]
        names = {os.path.basename(x) for x in pcaps}
        c.check(samples and all(s.get("capture_file") in names for s in samples),
                "every sample flow names its capture file",
                str([s.get("capture_file") for s in samples][:5]))

        shot = os.path.join(args.out, "report.png")
        shutil.copyfile(page, os.path.join(args.out, "report-detection.html"))
        filter_vendor = "Kaspersky" if "Kaspersky" in vendors else vendors[0]
        try:
            b = browse(page, shot, filter_vendor)
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            c.check(False, "the browser opened the report", str(e)[-1500:])
            print("%d passed, %d failed" % (c.passed, c.failed))
            return 1
        common_page_checks(c, "detection report", page, b)
        text = b["text"]
        for kind, wanted in (("internal host", hosts), ("vendor", vendors),
                             ("destination country", countries)):
            absent = [w for w in wanted if w not in text]
            c.check(not absent, "the page shows every alerted %s (%d)" % (kind, len(wanted)),
                    ", ".join(absent))
        drawn = [cv for cv in b["canvases"] if cv["drawn"] > 0]
        c.check(drawn, "a chart canvas is drawn",
                json.dumps(b["canvases"]))
        print("        canvases drawn: %s" % ", ".join("%s (%d px)" % (cv["id"], cv["drawn"])
                                                     for cv in drawn))

        s = b["sort"]
        c.check(s["host_first_click"] == "descending" and
                ip_sorted(s["hosts_after_first_click"], reverse=True) and
                s["hosts_after_first_click"] != s["initial_hosts"],
                "clicking Host sorts the findings by address, descending",
                "%s %s" % (s["host_first_click"], s["hosts_after_first_click"][:5]))
        c.check(s["host_second_click"] == "ascending" and
                ip_sorted(s["hosts_after_second_click"]),
                "clicking Host again sorts them ascending",
                "%s %s" % (s["host_second_click"], s["hosts_after_second_click"][:5]))
        flows = [to_int(v) for v in s["app_flows"] or []]
        c.check(s["flows_click"] == "descending" and flows and None not in flows and
                flows == sorted(flows, reverse=True),
                "clicking Flows sorts the applications by flows", str(s["app_flows"][:8]))

        f = b["filter"]
        want = sorted({pr["host"] for pr in data["products"] if pr["vendor"] == filter_vendor})
        c.check(sorted(set(f["hosts"])) == want and len(f["hosts"]) ==
                sum(1 for pr in data["products"] if pr["vendor"] == filter_vendor),
                "typing %r leaves that vendor's findings" % filter_vendor,
                "shown %s, expected %s" % (f["hosts"], want))
        c.check(f["none_hosts"] == [] and "No row matches" in (f["none_message"] or ""),
                "a text nothing matches leaves no row, and says so",
                "%s %r" % (f["none_hosts"], f["none_message"]))
        c.check(len(f["all_hosts"]) == len(data["products"]),
                "clearing the filter shows every finding again", str(len(f["all_hosts"])))

        ev = b["evidence"]
        first = sorted(data["products"], key=lambda pr: (ipaddress.ip_address(pr["host"]).version,
                                                        ipaddress.ip_address(pr["host"])))[0]
        need = [x["community_id"] for x in first["samples"][:1]] + \
               [x["capture_file"] for x in first["samples"][:1]] + ["Community ID"]
        c.check(ev.get("expanded") == "true" and all(n in (ev.get("text") or "") for n in need),
                "the first finding's evidence opens with its Community ID and capture file",
                "%s; wanted %s in %r" % (ev.get("expanded"), need, (ev.get("text") or "")[:300]))
        c.check(os.path.getsize(shot) > 10000, "screenshot written: %s" % os.path.relpath(shot),
                "")

        # Empty state: a decoy alone.
        decoy = [x for x in pcaps if os.path.basename(x) == "decoy-browsing.pcap"] or pcaps[:1]
        empty = os.path.join(tmp, "empty.html")
        p = run_sensor(args.sensor, conf, decoy, empty)
        if c.check(p.returncode == 0, "the sensor wrote a report of a decoy",
                   p.stderr.decode(errors="replace")[-500:]):
            try:
                b = browse(empty, os.path.join(args.out, "report-empty.png"), "x")
                common_page_checks(c, "empty report", empty, b)
                c.check("No foreign security product was seen" in b["text"],
                        "the empty report says no foreign security product was seen")
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                c.check(False, "the browser opened the empty report", str(e)[-1500:])

        # A missing template stops the run before any work.
        conf2 = os.path.join(tmp, "missing.conf")
        missing_tpl = os.path.join(tmp, "no-such-template.html")
        write_config(conf2, args.geo, args.signatures, missing_tpl)
        out2 = os.path.join(tmp, "never.html")
        p = run_sensor(args.sensor, conf2, pcaps[:1], out2)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 1 and missing_tpl in err and "make report" in err and
                not os.path.exists(out2),
                "a missing template: exit 1 naming it and make report, no report",
                "exit %d: %s" % (p.returncode, err.strip()))

        # So does a report whose folder does not exist: no alert file is
        # even opened.
        out3 = os.path.join(tmp, "no-such-folder", "r.html")
        alerts3 = os.path.join(tmp, "never-alerts.json")
        p = run_sensor(args.sensor, conf, pcaps, out3, alerts=alerts3)
        err = p.stderr.decode(errors="replace")
        c.check(p.returncode == 1 and out3 in err and not os.path.exists(alerts3),
                "a report folder that does not exist: exit 1 naming it, before any work",
                "exit %d, alerts written %s: %s" % (p.returncode, os.path.exists(alerts3),
                                                    err.strip()))

    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
