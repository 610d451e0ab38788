#!/usr/bin/env python3
"""The Debian package make deb builds: contents, lintian, and (as root) a
real install and purge.

  - dpkg-deb -c: the program in /usr/bin, /etc/egress-sensor/sensor.conf a
    conffile, the pack, the report template and its notice under
    /usr/share/egress-sensor, the unit, the sysusers and logrotate files,
    both man pages; no geo database; Depends from ${shlibs:Depends} (libpcap,
    nDPI, ...) and systemd-sysusers;
  - lintian: no error (warnings and information tags are printed);
  - as root, from a copy in a temporary folder, apt-get install ./*.deb:
    the egress-sensor user exists (no login shell), the unit is neither
    enabled nor started, the installed program run from / finds its
    configuration and pack and alerts on pcaps/detect/vendor-fortinet.pcap,
    warning once that the geo databases are absent; systemd-analyze verify
    passes on /lib/systemd/system/egress-sensor.service and
    systemd-analyze security --offline=true scores it 2.5 or less;
    man renders both pages; logrotate -d reads its file; then apt-get purge
    removes every file, and the user is removed again if this test created
    it.

The install part is skipped when not root or when egress-sensor is already
installed here (the test would remove it). Without dpkg-deb, lintian or
systemd-analyze the suite is skipped, except under CI=true
(tests/testlib.py).
"""

import argparse
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
UNIT = "/lib/systemd/system/egress-sensor.service"


def run(cmd, cwd=None, env=None, timeout=600):
    """(exit code, standard output, standard error)."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check_contents(deb):
    rc, out, err = run(["dpkg-deb", "-c", deb])
    paths = set()
    for line in out.splitlines():
        name = line.split()[-1] if line.split() else ""
        paths.add(name[1:] if name.startswith("./") else name)
    want = ["usr/bin/egress-sensor", "etc/egress-sensor/sensor.conf",
            "usr/share/egress-sensor/report-template.html",
            "usr/share/egress-sensor/report-template.NOTICE",
            "usr/share/egress-sensor/signatures/fortinet.conf",
            "usr/share/egress-sensor/schema/alert.schema.json",
            "usr/share/egress-sensor/schema/stats.schema.json", UNIT[1:],
            "usr/lib/sysusers.d/egress-sensor.conf", "etc/logrotate.d/egress-sensor",
            "usr/share/man/man8/egress-sensor.8.gz", "usr/share/man/man5/egress-sensor.conf.5.gz",
            "usr/share/doc/egress-sensor/copyright"]
    missing = [p for p in want if "/" + p not in paths and p not in paths]
    check("dpkg-deb -c: every file in its place", rc == 0 and not missing,
          "exit %d, missing: %s" % (rc, ", ".join(missing)))
    pack = [p for p in paths if re.search(r"usr/share/egress-sensor/signatures/[^/]+\.conf$", p)]
    check("dpkg-deb -c: the whole pack", len(pack) >= 10, "%d pack files" % len(pack))
    geo = [p for p in paths if p.endswith(".mmdb")]
    check("dpkg-deb -c: no geo database", not geo, ", ".join(geo))

    rc, out, err = run(["dpkg-deb", "-f", deb, "Depends"])
    check("Depends: the shared libraries and systemd-sysusers",
          all(lib in out for lib in ("libpcap", "libndpi", "libmaxminddb", "libhiredis",
                                     "libjansson", "libconfig", "libxxhash", "libssl",
                                     "systemd-sysusers")), out)
    ctl = tempfile.mkdtemp(prefix="egress-deb-ctl.")
    try:
        run(["dpkg-deb", "-e", deb, ctl])
        conffiles = open(os.path.join(ctl, "conffiles")).read().split() \
            if os.path.exists(os.path.join(ctl, "conffiles")) else []
        postinst = open(os.path.join(ctl, "postinst")).read() \
            if os.path.exists(os.path.join(ctl, "postinst")) else ""
    finally:
        shutil.rmtree(ctl, ignore_errors=True)
    check("conffiles: sensor.conf and the logrotate file",
          "/etc/egress-sensor/sensor.conf" in conffiles and
          "/etc/logrotate.d/egress-sensor" in conffiles, conffiles)
    # The only enable is the one re-enabling a unit the admin had enabled
    # (an upgrade); the only (re)start is try-restart, of a running unit.
    unguarded = re.sub(r"if deb-systemd-helper --quiet was-enabled.*?\bfi\b", "", postinst,
                       flags=re.S)
    check("postinst: creates the user, enables and starts nothing",
          "systemd-sysusers" in postinst and "egress-sensor.conf" in postinst and
          "deb-systemd-helper enable" not in unguarded and
          not re.search(r"deb-systemd-invoke (start|restart)\b", postinst),
          postinst[-1500:])


def check_lintian(changes):
    rc, out, err = run(["lintian", "--pedantic", "--info", "--display-experimental", changes],
                       timeout=900)
    tags = [l for l in (out + err).splitlines() if re.match(r"^[EWIPX]: ", l)]
    for t in tags:
        print("    lintian " + t)
    errors = [t for t in tags if t.startswith("E: ")]
    check("lintian: no error (%d warnings, %d other tags)"
          % (sum(t.startswith("W: ") for t in tags), sum(not t[:2] in ("E:", "W:") for t in tags)),
          rc in (0, 1) and not errors and "E:" not in err, "\n".join(errors) or err[-800:])


def user_exists(name):
    return run(["getent", "passwd", name])[0] == 0


def check_install(deb):
    user_before = user_exists("egress-sensor")
    tmp = tempfile.mkdtemp(prefix="egress-deb.")
    os.chmod(tmp, 0o755)  # apt reads the file as its own user, _apt
    local = os.path.join(tmp, os.path.basename(deb))
    shutil.copy(deb, local)
    os.chmod(local, 0o644)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        rc, out, err = run(["apt-get", "install", "-y", "--no-install-recommends",
                            "./" + os.path.basename(deb)], cwd=tmp, env=env, timeout=900)
        if not check("apt-get install ./%s" % os.path.basename(deb), rc == 0,
                     "exit %d: %s" % (rc, (out + err)[-1500:])):
            return
        summary = [l for l in out.splitlines() if re.match(
            r"^(Setting up|Creating (user|group)|The following NEW|\d+ upgraded)", l)]
        for l in summary:
            print("    apt: " + l)

        rc, out, _ = run(["getent", "passwd", "egress-sensor"])
        f = out.strip().split(":")
        check("the egress-sensor user exists, system, no login shell",
              rc == 0 and len(f) == 7 and 0 < int(f[2]) < 1000 and f[6].endswith("nologin"),
              out)
        rc, out, err = run(["systemctl", "is-enabled", "egress-sensor.service"])
        wants = [os.path.join(d, "egress-sensor.service") for d in (
            "/etc/systemd/system/multi-user.target.wants",)]
        check("the unit is not enabled", out.strip() == "disabled" and
              not any(os.path.lexists(w) for w in wants), (out + err).strip())
        rc, out, err = run(["systemctl", "is-active", "egress-sensor.service"])
        check("the unit is not started", out.strip() != "active", out.strip())

        rc, out, err = run(["/usr/bin/egress-sensor", "--check-config"], cwd="/")
        check("from /: the configuration and pack are found",
              rc == 0 and "/etc/egress-sensor/sensor.conf: configuration valid" in out and
              "(/usr/share/egress-sensor/signatures)" in out, "exit %d: %s %s" % (rc, out, err))
        alerts = os.path.join(tmp, "alerts.json")
        rc, out, err = run(["/usr/bin/egress-sensor", "--no-progress", "-r", CAPTURE,
                            "--alerts", alerts], cwd="/")
        n = sum(1 for line in open(alerts) if line.strip()) if os.path.exists(alerts) else 0
        check("from /: alerts on the Fortinet capture", rc == 0 and n >= 5,
              "exit %d, %d alerts: %s" % (rc, n, err))
        check("without geo databases: one warning naming them",
              err.count("warning:") == 1 and "/var/lib/egress-sensor/geo/dbip-country.mmdb" in err,
              err)

        rc, out, err = run(["systemd-analyze", "verify", UNIT])
        check("systemd-analyze verify %s: clean" % UNIT, rc == 0 and not (out + err).strip(),
              "exit %d: %s" % (rc, (out + err).strip()))
        rc, out, err = run(["systemd-analyze", "security", "--offline=true", "--threshold=25",
                            UNIT])
        score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out + err)
        check("systemd-analyze security: %s (2.5 or less)" % (score.group(1) if score else "?"),
              rc == 0 and score is not None and float(score.group(1)) <= 2.5,
              "exit %d: %s" % (rc, (out + err)[-600:]))
        menv = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        for page in ("egress-sensor.8", "egress-sensor.conf.5"):
            rc, out, err = run(["man", "--warnings=w", page.rsplit(".", 1)[1],
                                page.rsplit(".", 1)[0]], env=menv)
            check("man %s: renders without a warning" % page,
                  rc == 0 and not err.strip() and "egress" in out, err)
        if shutil.which("logrotate"):
            state = os.path.join(tmp, "logrotate.state")
            rc, out, err = run(["logrotate", "-d", "-s", state, "/etc/logrotate.d/egress-sensor"])
            check("logrotate -d reads /etc/logrotate.d/egress-sensor",
                  rc == 0 and "error" not in (out + err).lower(), (out + err)[-800:])
        else:
            check("logrotate installed", not testlib.under_ci(), "logrotate missing")
    finally:
        rc, out, err = run(["apt-get", "purge", "-y", "egress-sensor"], env=env, timeout=600)
        left = [p for p in ("/usr/bin/egress-sensor", "/etc/egress-sensor", UNIT,
                            "/usr/share/egress-sensor", "/usr/lib/sysusers.d/egress-sensor.conf",
                            "/etc/logrotate.d/egress-sensor") if os.path.lexists(p)]
        check("apt-get purge egress-sensor removes every file", rc == 0 and not left,
              "exit %d, left: %s %s" % (rc, left, err[-400:]))
        if not user_before and user_exists("egress-sensor"):
            run(["userdel", "egress-sensor"])
            run(["groupdel", "egress-sensor"])
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deb", required=True, help="the package (build/deb/egress-sensor_*.deb)")
    args = ap.parse_args()

    missing = [t for t in ("dpkg-deb", "lintian", "systemd-analyze", "man")
               if shutil.which(t) is None]
    if missing:
        return testlib.cannot_run("deb-test", "%s not installed (make deps installs them)"
                                  % ", ".join(missing), 20)
    changes = re.sub(r"\.deb$", ".changes", args.deb)
    check_contents(args.deb)
    check_lintian(changes if os.path.exists(changes) else args.deb)

    why = None
    if os.geteuid() != 0:
        why = "installing the package needs root"
    elif shutil.which("apt-get") is None:
        why = "apt-get is missing"
    elif run(["dpkg-query", "-W", "-f", "${Status}", "egress-sensor"])[1].endswith("installed"):
        why = "egress-sensor is installed on this machine; the test would remove it"
    if why:
        if testlib.under_ci():
            check("apt-get install and purge", False, why)
        else:
            print("  skip apt-get install and purge: %s" % why)
    else:
        check_install(args.deb)

    return testlib.summary("deb-test")


if __name__ == "__main__":
    sys.exit(main())
