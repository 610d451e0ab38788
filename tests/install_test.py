#!/usr/bin/env python3
"""make install, and the installed sensor run from /.

  - make install PREFIX=<a temporary folder> puts every file where
    config/install.mk says, with the installed paths in the configuration,
    the unit and the man pages;
  - the installed program, run from / with its installed configuration and
    with an empty one (its built-in defaults alone), finds the signature
    pack, the report template and the geo databases (the test databases of
    build/tests/geo, copied where it looks): the alerts of
    pcaps/detect/vendor-fortinet.pcap carry a country, the report is
    written; build/egress-sensor keeps the repository's relative defaults;
  - man -l renders both installed pages without a warning;
  - systemd-analyze verify passes on the installed unit and
    systemd-analyze security --offline=true scores it 2.5 or less;
  - a second make install keeps a changed configuration (the new one goes
    beside it); make DESTDIR=... install under the default prefix puts the
    configuration in etc/ and the state in var/lib/ of DESTDIR;
  - make uninstall removes what install wrote but the changed
    configuration and the state folder.

Without man or systemd-analyze the suite is skipped, except under CI=true
(tests/testlib.py). Needs no root.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import testlib
from testlib import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CAPTURE = os.path.join(ROOT, "pcaps", "detect", "vendor-fortinet.pcap")


def run(cmd, cwd=None, env=None, timeout=600):
    """(exit code, standard output, standard error)."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def make(args):
    """make in the repository, outside any make that started this test."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return run(["make", "--no-print-directory", "-j2"] + args, cwd=ROOT, env=env, timeout=900)


def alerts_of(path):
    with open(path) as fp:
        return [json.loads(line) for line in fp if line.strip()]


def check_sensor_run(prog, prefix, tmp, label, conf_args):
    """The installed program on the Fortinet capture, from /."""
    alerts = os.path.join(tmp, label + "-alerts.json")
    report = os.path.join(tmp, label + "-report.html")
    rc, out, err = run([prog] + conf_args + ["--no-progress", "-r", CAPTURE,
                                             "--alerts", alerts, "--report", report], cwd="/")
    if not check("%s: exit 0 from /" % label, rc == 0, "exit %d: %s" % (rc, err)):
        return
    got = alerts_of(alerts)
    check("%s: the pack is found (alerts)" % label, len(got) >= 5, "%d alerts" % len(got))
    located = [a for a in got if a.get("dest_geo", {}).get("country_code")]
    check("%s: the geo databases are found (every alert has a country)" % label,
          got and len(located) == len(got), "%d of %d alerts located" % (len(located), len(got)))
    check("%s: the report template is found (report written)" % label,
          os.path.getsize(report) > 10000 if os.path.exists(report) else False, err)
    check("%s: no warning" % label, "warning:" not in err, err)


def check_installed_text(prefix):
    """The installed configuration, unit and man pages name the installed
    paths, not the default install's."""
    files = {
        "sensor.conf": os.path.join(prefix, "etc/egress-sensor/sensor.conf"),
        "unit": os.path.join(prefix, "lib/systemd/system/egress-sensor.service"),
        "logrotate": os.path.join(prefix, "etc/logrotate.d/egress-sensor"),
        "man8": os.path.join(prefix, "share/man/man8/egress-sensor.8"),
        "man5": os.path.join(prefix, "share/man/man5/egress-sensor.conf.5"),
    }
    for what, path in files.items():
        # roff comments aside; a roff path writes its hyphens "\-"
        text = "".join(l for l in open(path).read().replace("\\-", "-").splitlines(True)
                       if not l.startswith('.\\"'))
        marked = text.replace(prefix, "@P@")
        stale = sorted(set(re.findall(r"(?<!@P@)(?:/usr/local|/etc/egress|/var/lib/egress)[\w./-]*",
                                      marked)))
        check("%s names the installed paths" % what, not stale and prefix in text,
              "%s still names %s" % (path, ", ".join(stale)))
    conf = open(files["sensor.conf"]).read()
    check("sensor.conf: pack, template and geo at their installed places",
          '"%s/share/egress-sensor/signatures"' % prefix in conf and
          '"%s/share/egress-sensor/report-template.html"' % prefix in conf and
          '"%s/var/lib/egress-sensor/geo/asn.mmdb"' % prefix in conf and
          re.search(r"^# sensor_name = ", conf, re.M) is not None,
          "paths or sensor_name not as expected")


def check_unit(unit, prefix):
    env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"))
    rc, out, err = run(["systemd-analyze", "verify", unit], env=env)
    check("systemd-analyze verify: clean", rc == 0 and not (out + err).strip(),
          "exit %d: %s" % (rc, (out + err).strip()))
    rc, out, err = run(["systemd-analyze", "security", "--offline=true", "--threshold=25", unit])
    score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out + err)
    check("systemd-analyze security: 2.5 or less",
          rc == 0 and score is not None and float(score.group(1)) <= 2.5,
          "exit %d, score %s" % (rc, score.group(1) if score else (out + err)[-400:]))


def check_man(page):
    """Every groff warning on, on 160 columns: the test prefix makes the
    paths longer than an 80-column line can hold (man-test and deb-test
    render the pages on 80 with the real paths)."""
    env = dict(os.environ, MANWIDTH="160", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    rc, out, err = run(["man", "--warnings=w", "-l", page], env=env)
    check("man -l %s: renders without a warning" % os.path.basename(page),
          rc == 0 and not err.strip() and "egress" in out, "exit %d: %s" % (rc, err.strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the build tree's program")
    ap.add_argument("--geo", required=True, help="the test geo databases (build/tests/geo)")
    args = ap.parse_args()

    missing = [t for t in ("man", "systemd-analyze", "make") if shutil.which(t) is None]
    if missing:
        return testlib.cannot_run("install-test", "%s not installed (make deps installs them)"
                                  % ", ".join(missing), 30)

    tmp = tempfile.mkdtemp(prefix="egress-install.")
    try:
        prefix = os.path.join(tmp, "prefix")
        rc, out, err = make(["install", "PREFIX=" + prefix, "DESTDIR="])
        if not check("make install PREFIX=%s" % prefix, rc == 0, (out + err)[-1500:]):
            return finish()
        expect = ["bin/egress-sensor", "etc/egress-sensor/sensor.conf",
                  "share/egress-sensor/report-template.html",
                  "share/egress-sensor/report-template.NOTICE",
                  "share/egress-sensor/geo/fetch-geo.sh", "share/egress-sensor/geo/build-mmdb.pl",
                  "share/egress-sensor/schema/flow.schema.json",
                  "share/egress-sensor/schema/alert.schema.json",
                  "share/egress-sensor/schema/asset-event.schema.json",
                  "share/egress-sensor/schema/stats.schema.json",
                  "share/egress-sensor/schema/inventory.schema.json",
                  "share/egress-sensor/schema/signatures.schema.json",
                  "share/egress-sensor/schema/report-data.schema.json",
                  "share/man/man8/egress-sensor.8", "share/man/man5/egress-sensor.conf.5",
                  "lib/systemd/system/egress-sensor.service", "lib/sysusers.d/egress-sensor.conf",
                  "etc/logrotate.d/egress-sensor", "share/doc/egress-sensor/README.md",
                  "var/lib/egress-sensor/geo"]
        absent = [f for f in expect if not os.path.exists(os.path.join(prefix, f))]
        pack = glob.glob(os.path.join(prefix, "share/egress-sensor/signatures/*.conf"))
        check("every file in its place", not absent and len(pack) >= 10,
              "missing: %s; %d pack files" % (", ".join(absent), len(pack)))
        check_installed_text(prefix)

        geo_dir = os.path.join(prefix, "var/lib/egress-sensor/geo")
        shutil.copy(os.path.join(args.geo, "country-dbip.mmdb"),
                    os.path.join(geo_dir, "dbip-country.mmdb"))
        shutil.copy(os.path.join(args.geo, "asn.mmdb"), os.path.join(geo_dir, "asn.mmdb"))
        prog = os.path.join(prefix, "bin", "egress-sensor")
        check_sensor_run(prog, prefix, tmp, "installed configuration", [])
        empty = os.path.join(tmp, "empty.conf")
        open(empty, "w").close()
        check_sensor_run(prog, prefix, tmp, "built-in defaults", ["-c", empty])
        rc, out, err = run([prog, "-c", empty, "--version"], cwd="/")
        check("--version: the geo databases under the prefix, loaded",
              rc == 0 and out.count(geo_dir) == 2 and "not loaded" not in out, out + err)
        rc, out, err = run([args.sensor, "-c", empty, "--version"], cwd=ROOT)
        check("build/egress-sensor keeps its relative defaults",
              rc == 0 and "(geo/data/dbip-country.mmdb)" in out, out + err)

        for page in ("share/man/man8/egress-sensor.8", "share/man/man5/egress-sensor.conf.5"):
            check_man(os.path.join(prefix, page))
        check_unit(os.path.join(prefix, "lib/systemd/system/egress-sensor.service"), prefix)

        conf = os.path.join(prefix, "etc/egress-sensor/sensor.conf")
        with open(conf, "a") as fp:
            fp.write("# changed by the operator\n")
        rc, out, err = make(["install", "PREFIX=" + prefix])
        check("a second make install keeps a changed configuration",
              rc == 0 and open(conf).read().endswith("# changed by the operator\n") and
              os.path.exists(conf + ".new"), (out + err)[-800:])

        rc, out, err = make(["uninstall", "PREFIX=" + prefix])
        left = sorted(os.path.relpath(os.path.join(d, f), prefix)
                      for d, _, fs in os.walk(prefix) for f in fs)
        check("make uninstall leaves only the changed configuration and the state",
              rc == 0 and left == ["etc/egress-sensor/sensor.conf",
                                   "var/lib/egress-sensor/geo/asn.mmdb",
                                   "var/lib/egress-sensor/geo/dbip-country.mmdb"],
              "exit %d, left: %s %s" % (rc, left, err[-400:]))

        dest = os.path.join(tmp, "dest")
        rc, out, err = make(["install", "DESTDIR=" + dest])
        check("make install DESTDIR=...: /usr/local, /etc and /var/lib under DESTDIR",
              rc == 0 and all(os.path.exists(os.path.join(dest, f)) for f in (
                  "usr/local/bin/egress-sensor", "etc/egress-sensor/sensor.conf",
                  "usr/local/share/egress-sensor/report-template.html",
                  "usr/local/lib/systemd/system/egress-sensor.service",
                  "usr/local/lib/sysusers.d/egress-sensor.conf", "etc/logrotate.d/egress-sensor",
                  "var/lib/egress-sensor/geo")),
              (out + err)[-800:])
        rc, out, err = run([os.path.join(dest, "usr/local/bin/egress-sensor"), "-c", empty,
                            "--version"], cwd="/")
        check("... and the program there reads /var/lib/egress-sensor/geo",
              "(/var/lib/egress-sensor/geo/asn.mmdb)" in out, out + err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def finish():
    return testlib.summary("install-test")


if __name__ == "__main__":
    sys.exit(main())
