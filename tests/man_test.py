#!/usr/bin/env python3
"""The man pages stay true: egress-sensor(8) and egress-sensor.conf(5).

  - every option the program accepts -- the long options of the table in
    sensor/options.c, the short ones of its getopt string, and every
    --option its --help prints (with --sensor) -- is an item of the OPTIONS
    section of egress-sensor.8, and every item there is an option the
    program accepts;
  - every key of cfg_keys[] in sensor/config.c is an item of the KEYS
    section of egress-sensor.conf.5 (a group may be a subsection heading
    instead), and every key-like item there is a key;
  - man renders both pages with every groff warning on
    (MANWIDTH=80 man --warnings=w -l PAGE) and says nothing on standard
    error, no rendered line is wider than 80 columns, and lexgrog finds
    each page's NAME line (what whatis and apropos show).

A failure names the option or key, so that whoever adds one knows what to
write. Without man or lexgrog the suite is skipped, except under CI=true
(tests/testlib.py).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

import testlib
from testlib import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def program_options(sensor):
    """(long options, short options) the program accepts: options.c's
    table and getopt string, and the --options of --help when sensor is
    given."""
    src = open(os.path.join(ROOT, "sensor", "options.c")).read()
    longs = set(re.findall(r'\{"([a-z0-9-]+)",\s*(?:no|required|optional)_argument', src))
    m = re.search(r'getopt_long\([^,]+,[^,]+,\s*"([^"]*)"', src)
    shorts = set(re.sub(r"[:+-]", "", m.group(1))) if m else set()
    if sensor:
        p = subprocess.run([sensor, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           check=False)
        longs |= set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", p.stdout.decode()))
    return longs, shorts


def config_keys():
    """(every key path of cfg_keys[], the group keys among them)."""
    src = open(os.path.join(ROOT, "sensor", "config.c")).read()
    table = re.search(r"cfg_keys\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    body = table.group(1) if table else ""
    keys = re.findall(r'KEY_[A-Z0-9]+\(\s*"([^"]+)"', body)
    groups = set(re.findall(r'KEY_GROUP\(\s*"([^"]+)"', body))
    return keys, groups


def plain(line):
    """A roff line as text: no macro name, font escapes or quotes; roff's
    minus written as '-'."""
    line = re.sub(r"^\.[A-Za-z]+\s*", "", line)
    line = re.sub(r"\\f[BIRP]|\\f\[[A-Z]*\]|\\%|\\&|\\\|", "", line)
    return line.replace("\\-", "-").replace('"', "")


def sections(path):
    """{section name: [lines]} of a man page source, comments dropped."""
    out, name = {}, ""
    for line in open(path, encoding="ascii").read().splitlines():
        if line.startswith('.\\"'):
            continue
        m = re.match(r"^\.SH\s+\"?([^\"]+)\"?", line)
        if m:
            name = m.group(1).strip()
        out.setdefault(name, []).append(line)
    return out


def tags(lines):
    """The item tags of .TP/.TQ lists, as text."""
    found = []
    for i, line in enumerate(lines):
        if line in (".TP", ".TQ") or line.startswith(".TP "):
            j = i + 1
            while j < len(lines) and lines[j].startswith('.\\"'):
                j += 1
            if j < len(lines):
                found.append(plain(lines[j]))
    return found


def subsection_heads(lines):
    return [plain(l).split()[0] for l in lines if l.startswith(".SS") and plain(l).split()]


def check_page8(page, longs, shorts):
    items = tags(sections(page).get("OPTIONS", []))
    text = " ".join(items)
    doc_longs = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", text))
    doc_shorts = set(re.findall(r"(?<![\w-])-([A-Za-z0-9])\b", text))
    missing = sorted("--" + o for o in longs - doc_longs) + \
        sorted("-" + o for o in shorts - doc_shorts)
    check("egress-sensor.8 documents every option (%d long, %d short)" % (len(longs), len(shorts)),
          len(longs) >= 15 and not missing,
          "options with no item in the OPTIONS section of %s: %s" % (page, ", ".join(missing)))
    stale = sorted("--" + o for o in doc_longs - longs) + \
        sorted("-" + o for o in doc_shorts - shorts)
    check("egress-sensor.8 documents no option the program lacks", not stale,
          "items of the OPTIONS section the program does not accept: %s" % ", ".join(stale))


def check_page5(page, keys, groups):
    sec = sections(page).get("KEYS", [])
    items = set()
    for t in tags(sec):
        items |= set(re.findall(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*", t.split(" ")[0]))
    heads = set(subsection_heads(sec))
    missing = [k for k in keys if k not in items and not (k in groups and k in heads)]
    check("egress-sensor.conf.5 documents every key (%d in cfg_keys[])" % len(keys),
          len(keys) >= 40 and not missing,
          "keys with no item in the KEYS section of %s: %s" % (page, ", ".join(missing)))
    stale = sorted(i for i in items if "." in i or i in ("sensor_name", "home_net",
                                                         "home_countries"))
    stale = [i for i in stale if i not in keys]
    check("egress-sensor.conf.5 documents no key the program lacks", not stale,
          "items of the KEYS section that are not keys of cfg_keys[]: %s" % ", ".join(stale))


def check_render(page):
    name = os.path.basename(page)
    env = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    p = subprocess.run(["man", "--warnings=w", "-l", page], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, check=False)
    err = p.stderr.decode(errors="replace").strip()
    out = p.stdout.decode(errors="replace")
    check("%s renders without a warning" % name, p.returncode == 0 and not err and len(out) > 500,
          "man exit %d: %s" % (p.returncode, err or "(nothing rendered)"))
    wide = [l for l in out.splitlines() if len(l) > 80]
    check("%s fits in 80 columns" % name, not wide,
          "%d lines wider than 80 columns, the first: %r" % (len(wide), wide[0] if wide else ""))
    p = subprocess.run(["lexgrog", page], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    check("%s has a NAME line whatis can read" % name, p.returncode == 0,
          (p.stdout + p.stderr).decode(errors="replace").strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", help="the built program, to read its --help too")
    ap.add_argument("--page8", default=os.path.join(ROOT, "config", "man", "egress-sensor.8"))
    ap.add_argument("--page5", default=os.path.join(ROOT, "config", "man", "egress-sensor.conf.5"))
    args = ap.parse_args()

    missing = [t for t in ("man", "lexgrog") if shutil.which(t) is None]
    if missing:
        return testlib.cannot_run("man-test", "%s not installed (Debian package man-db; make deps "
                                  "installs it)" % " and ".join(missing), 8)

    longs, shorts = program_options(args.sensor)
    keys, groups = config_keys()
    check_page8(args.page8, longs, shorts)
    check_page5(args.page5, keys, groups)
    for page in (args.page8, args.page5):
        check_render(page)

    return testlib.summary("man-test")


if __name__ == "__main__":
    sys.exit(main())
