#!/usr/bin/env python3
"""Command-line behaviour: exit codes, messages, inputs, outputs.

Runs the built sensor as a user would and checks what it says and returns:
  - exit 0 on a good capture; 1 with the file named for a missing, empty,
    non-capture or unsupported-link-type input (the other inputs still run);
  - a truncated capture is a warning naming the file, what was read counts;
  - exit 2 for an unknown option, a bad filter, a bad configuration line;
  - '-' reads standard input; several -r files keep flow state across them
    (a capture split in two gives the same flows as the whole), and each
    record's pcap_filename names the file of its flow's first packet, as
    given ('-' for standard input), with one worker or three;
  - --stats writes valid JSON with the counters the summary shows;
  - --help documents every long option the program accepts;
  - --list-signatures=VENDOR and --json: every signature of the vendor with
    its indicators, checked against the pack file's text; an unknown vendor
    is exit 2 naming the pack's vendors;
  - hostile input: a capture damaged mid-file (exit 1, file and packet
    named), a FIFO or a NUL byte in the configuration or the pack (exit 2
    at the file and line, never a hang), an oversized pack string, an alert
    file on a full disk or a closed pipe (exit 1, counted), two outputs in
    one file, --user root, control characters in a file name (escaped).
"""

import argparse
import calendar
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import testlib  # noqa: E402
from testlib import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps")


def run(sensor, args, stdin=None, conf=os.devnull, timeout=120):
    """(exit code, stdout, stderr); exit -9 and "timed out" when the sensor
    did not end within timeout seconds (it is killed)."""
    cmd = [sensor, "-c", conf, "--no-progress"] + args
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -9, "", "timed out after %d s" % timeout
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def damage_record(src, dst, index):
    """src with the captured length of record index set to 0xfffffff0: a
    bad record header with the rest of the capture after it."""
    data = bytearray(open(src, "rb").read())
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        if n == index:
            data[off + 8:off + 12] = struct.pack(endian + "I", 0xfffffff0)
            break
        off, n = off + 16 + incl, n + 1
    open(dst, "wb").write(data)


def udp_pcap(path, pairs):
    """A pcap of one UDP datagram per (src, dst) IPv4 pair (Ethernet, RFC 768
    header, no checksum)."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i, (src, dst) in enumerate(pairs):
        payload = b"x" * 16
        udp = struct.pack("!HHHH", 40000 + i, 9999, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame)
    with open(path, "wb") as fp:
        fp.write(b"".join(out))


def external_warning(s, tmp):
    """A site whose addresses home_net does not hold (public IPv4 here, or
    global IPv6 with the default list): every flow external, none can
    alert. The sensor says so, naming the setting; with home_net right it
    does not."""
    cap = os.path.join(tmp, "public.pcap")
    udp_pcap(cap, [("198.51.100.%d" % (i % 200 + 1), "203.0.113.9") for i in range(60)])
    rc, _, err = run(s, ["-r", cap, "--alerts", os.devnull])
    check("most flows external: a warning naming home_net",
          rc == 0 and "60 of 60 flows (100%) have neither end in home_net" in err
          and "home_net (the default)" in err, "exit %d: %s" % (rc, err[-400:]))
    conf = os.path.join(tmp, "public.conf")
    open(conf, "w").write('home_net = [ "198.51.100.0/24" ];\n')
    rc, _, err = run(s, ["-r", cap, "--alerts", os.devnull], conf=conf)
    check("home_net holding the site: no such warning", rc == 0 and "neither end" not in err,
          "exit %d: %s" % (rc, err[-400:]))


def appending(s, tmp):
    """Flows and alerts are appended to across runs (a restarted service
    keeps its history); --truncate empties them first."""
    vendor = os.path.join(PCAPS, "detect", "vendor-fortinet.pcap")
    alerts, flows = os.path.join(tmp, "app-alerts.json"), os.path.join(tmp, "app-flows.json")

    def lines(p):
        return sum(1 for _ in open(p))
    counts = []
    for extra in ([], [], ["--truncate"]):
        rc, _, err = run(s, ["-q", "-r", vendor, "--alerts", alerts, "--flows", flows] + extra)
        counts.append((rc, lines(alerts), lines(flows)))
    (r1, a1, f1), (r2, a2, f2), (r3, a3, f3) = counts
    check("a second run appends to the flows and alerts files; --truncate empties them",
          r1 == r2 == r3 == 0 and a1 > 0 and f1 > 0 and (a2, f2) == (2 * a1, 2 * f1)
          and (a3, f3) == (a1, f1), str(counts))


def hostile_inputs(s, tmp, example):
    """What a careless operator or a hostile network hands the sensor: it
    ends within seconds, says what and where, and exits with the right
    code."""
    vendor = os.path.join(PCAPS, "detect", "vendor-fortinet.pcap")
    sigs = os.path.join(ROOT, "config", "signatures")

    # a damaged record in the middle of a capture: exit 1, file and packet named
    dmg = os.path.join(tmp, "damaged.pcap")
    damage_record(vendor, dmg, 40)
    rc, out, err = run(s, ["-r", dmg, "--alerts", "-"])
    check("damaged capture: exit 1 naming the file and the packet",
          rc == 1 and dmg in err and "damaged after packet 40" in err, "exit %d: %s" % (rc, err))
    check("damaged capture: what was read is reported", "summary" in err and out.strip() != "",
          err[-300:])
    rc, _, err = run(s, ["-r", "-", "-q", "--alerts", os.devnull],
                     stdin=open(dmg, "rb").read())
    check("damaged capture on standard input: exit 1", rc == 1 and "damaged" in err,
          "exit %d: %s" % (rc, err))

    # a FIFO named like a pack file, a FIFO as the configuration: refused at once
    fifo_pack = os.path.join(tmp, "fifo-pack")
    os.mkdir(fifo_pack)
    for f in os.listdir(sigs):
        if f.endswith(".conf"):
            shutil.copy(os.path.join(sigs, f), fifo_pack)
    os.mkfifo(os.path.join(fifo_pack, "zz-fifo.conf"))
    conf = os.path.join(tmp, "fifo-pack.conf")
    open(conf, "w").write('signatures = { dir = "%s"; };\n' % fifo_pack)
    rc, _, err = run(s, ["--check-config"], conf=conf, timeout=10)
    check("a FIFO in the signature folder: exit 2, not a regular file",
          rc == 2 and "zz-fifo.conf: not a regular file" in err, "exit %d: %s" % (rc, err))
    fifo_conf = os.path.join(tmp, "fifo.conf")
    os.mkfifo(fifo_conf)
    rc, _, err = run(s, ["--check-config"], conf=fifo_conf, timeout=10)
    check("a FIFO as the configuration: exit 2, not a regular file",
          rc == 2 and "not a regular file" in err, "exit %d: %s" % (rc, err))

    # a NUL byte hides the rest of a file from the parser: an error at its line
    nul = os.path.join(tmp, "nul.conf")
    open(nul, "wb").write(b'sensor_name = "x";\nhome_countries = [ "CN" ];\0garbage;\n')
    rc, _, err = run(s, ["--check-config"], conf=nul)
    check("a NUL byte in the configuration: exit 2 at its line",
          rc == 2 and ("%s:2:" % nul) in err, "exit %d: %s" % (rc, err))
    nul_pack = os.path.join(tmp, "nul-pack")
    os.mkdir(nul_pack)
    shutil.copy(os.path.join(sigs, "fortinet.conf"), nul_pack)
    open(os.path.join(nul_pack, "zz.conf"), "wb").write(
        b'vendor = "X";\n\0signatures = ( { id = "x-y"; } );\n')
    conf = os.path.join(tmp, "nul-pack.conf")
    open(conf, "w").write('signatures = { dir = "%s"; };\n' % nul_pack)
    rc, _, err = run(s, ["--check-config"], conf=conf)
    check("a NUL byte in a pack file: exit 2 at its line",
          rc == 2 and "zz.conf:2:" in err, "exit %d: %s" % (rc, err))

    # --check-config checks what the run would refuse, naming file and line
    afile = os.path.join(tmp, "not-a-folder")
    open(afile, "w").close()
    bad_db = os.path.join(tmp, "bad.mmdb")
    open(bad_db, "wb").write(b"not a MaxMind database\n" * 10)
    for what, text, line, key in (
            ("a URL of another scheme",
             'sensor_name = "x";\nredis = {\n  url = "http://x";\n};\n', 3, "redis.url"),
            ("a spool folder that is a file",
             'redis = {\n  url = "redis://127.0.0.1:1/0";\n  spool_dir = "%s/spool";\n};\n'
             % afile, 3, "redis.spool_dir"),
            ("a geo database that cannot be opened",
             'geo = {\n  asn_db = "%s";\n};\n' % bad_db, 2, "geo.asn_db"),
            ("an output folder that does not exist",
             'output = {\n\n  flows = "%s/none/flows.json";\n};\n' % tmp, 3, "output.flows")):
        conf = os.path.join(tmp, "ready.conf")
        open(conf, "w").write(text)
        want = "%s:%d: %s: " % (conf, line, key)
        for args in (["--check-config"], ["-q", "-r", example, "--alerts", os.devnull]):
            rc, _, err = run(s, args, conf=conf)
            code = 2 if args[0] == "--check-config" or key != "output.flows" else 1
            check("%s: %s exits %d naming %s:%d" % (what, args[0], code, key, line),
                  rc == code and (want in err or key == "output.flows" and args[0] == "-q"),
                  "exit %d: %s" % (rc, err))

    # pack strings are bounded at load time: an alert always fits every output
    big = os.path.join(tmp, "big-pack")
    os.mkdir(big)
    open(os.path.join(big, "big.conf"), "w").write(
        'vendor = "X";\nsignatures = (\n  { id = "x-big"; product = "%s";\n'
        '    category = "update"; severity = "low"; source = "s"; domains = [ "a.example" ]; }\n'
        ');\n' % ("P" * 40000))
    conf = os.path.join(tmp, "big-pack.conf")
    open(conf, "w").write('signatures = { dir = "%s"; };\n' % big)
    rc, _, err = run(s, ["--check-config"], conf=conf)
    check("a 40,000-byte product name: exit 2 at its file and line",
          rc == 2 and "big.conf:3:" in err and "product" in err, "exit %d: %s" % (rc, err[:300]))

    # the alert file cannot be written: exit 1, named, counted
    rc, _, err = run(s, ["-r", vendor, "-q", "--alerts", "/dev/full"])
    check("alerts to a full disk: exit 1 naming it with the count",
          rc == 1 and re.search(r"/dev/full: \d+ of \d+ alerts not written", err),
          "exit %d: %s" % (rc, err))

    # a closed output pipe: an output error, the run finishes and says so
    # (the reader is gone before the first alert, so no alert can slip
    # into the pipe's buffer first and the outcome does not race)
    rd, wr = os.pipe()
    os.close(rd)
    p1 = subprocess.Popen([s, "-c", os.devnull, "--no-progress", "-r", vendor, "-r", vendor,
                           "--alerts", "-", "--flows", os.path.join(tmp, "pipe-flows.json")],
                          stdout=wr, stderr=subprocess.PIPE)
    os.close(wr)
    err = p1.stderr.read().decode(errors="replace")
    rc = p1.wait(timeout=60)
    nflows = sum(1 for _ in open(os.path.join(tmp, "pipe-flows.json")))
    check("a closed alert pipe: exit 1 naming standard output, summary printed, flows all out",
          rc == 1 and "standard output" in err and "summary" in err and nflows > 0,
          "exit %d, %d flow records: %s" % (rc, nflows, err[-400:]))

    # two outputs in one file would overwrite each other
    same = os.path.join(tmp, "same.json")
    rc, _, err = run(s, ["-q", "-r", example, "--alerts", same, "--flows",
                         os.path.join(tmp, ".", "same.json")])
    check("two outputs in one file: exit 2 naming both",
          rc == 2 and "flows and alerts" in err, "exit %d: %s" % (rc, err))

    rc, _, err = run(s, ["-q", "-r", example, "--alerts", os.devnull, "--flows", os.devnull])
    check("/dev/null for two outputs is not a clash", rc == 0, "exit %d: %s" % (rc, err))

    # --user root would drop nothing
    rc, _, err = run(s, ["-q", "-r", example, "--user", "root"])
    check("--user root: exit 2", rc == 2 and "root" in err, "exit %d: %s" % (rc, err))

    # a file name with an escape sequence is not written raw into the log
    rc, _, err = run(s, ["-q", "-r", os.path.join(tmp, "x\x1b[31mred\nline.pcap")])
    check("a file name's control characters are escaped in messages",
          rc == 1 and "\x1b" not in err and "\\x1b[31mred\\x0aline.pcap" in err,
          "exit %d: %r" % (rc, err))


def flows_of(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            r = json.loads(line)
            out.append((r["proto"], r["src_ip"], r.get("src_port"), r["dest_ip"],
                        r.get("dest_port"), r["app"], r["flow"]["pkts_toserver"],
                        r["flow"]["pkts_toclient"], r["flow"]["bytes_toserver"],
                        r["flow"]["bytes_toclient"]))
    return sorted(out)


def first_time(path):
    """The time of the first record of a pcap file, in microseconds."""
    data = open(path, "rb").read(40)
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    sec, usec = struct.unpack_from(endian + "II", data, 24)
    return sec * 1000000 + usec


def record_time(text):
    """A record's time (2023-11-14T22:13:20.123456+0000) in microseconds."""
    whole, frac = text[:19], text[20:26]
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 1000000 + int(frac)


def input_problems(text, a, b):
    """Records of a run over -r a -r b whose pcap_filename is not the file
    of their flow's first packet: a for a flow that started before b's
    first packet, b for one that started after it."""
    t_b = first_time(b)
    bad, seen = [], set()
    for line in text.splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        t = record_time(r["flow"]["start"])
        want = a if t < t_b else b if t > t_b else r.get("pcap_filename")
        seen.add(r.get("pcap_filename"))
        if r.get("pcap_filename") != want:
            bad.append("%s %s: pcap_filename %r, expected %r"
                       % (r["flow"]["start"], r.get("community_id"), r.get("pcap_filename"), want))
    if seen != {a, b}:
        bad.append("pcap_filename values %s, expected both files" % sorted(map(str, seen)))
    return bad


def split_pcap(src, a, b):
    """Write the first half of src's records to a, the rest to b."""
    data = open(src, "rb").read()
    hdr, off, recs = data[:24], 24, []
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    while off + 16 <= len(data):
        caplen = struct.unpack_from(endian + "I", data, off + 8)[0]
        recs.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    half = len(recs) // 2
    open(a, "wb").write(hdr + b"".join(recs[:half]))
    open(b, "wb").write(hdr + b"".join(recs[half:]))


IND_KEYS = ("domains", "http_host", "http_path", "http_user_agent", "cert_subject",
            "cert_issuer", "ja3", "dissector", "app", "ja4", "ja3s", "cidrs", "asns", "ports")


def uncomment(text):
    """libconfig text without its comments (#, //, /* */), strings kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 2 if text.find("*/", i) >= 0 else n
        else:
            out.append(c)
            i += 1
    return "".join(out)


def pack_file_signatures(path):
    """{id: {indicator key: number of values}} of a pack file, read from its
    text here (not by the sensor): each signature's block runs from its
    `id = "..."` to the next."""
    text = uncomment(open(path).read())
    parts = re.split(r'\bid\s*=\s*"([^"]+)"', text)
    sigs = {}
    for i in range(1, len(parts), 2):
        block = parts[i + 1]
        inds = {}
        for m in re.finditer(r"\b(%s)\s*=\s*" % "|".join(IND_KEYS), block):
            value = re.match(r'(?:"(?:[^"\\]|\\.)*"|[^;"])*', block[m.end():]).group(0)
            inds[m.group(1)] = len(re.findall(r'"(?:[^"\\]|\\.)*"|\b\d+\b', value))
        sigs[parts[i]] = inds
    return sigs


def list_signatures_tests(s, tmp):
    """--list-signatures=VENDOR and --json: the JSON parses and holds every
    signature of the vendor's pack file with its indicators (checked
    against the file's text); the filter keeps that vendor alone; an
    unknown vendor is exit 2 naming every vendor of the pack."""
    sigs_dir = os.path.join(ROOT, "config", "signatures")
    conf = os.path.join(tmp, "list.conf")
    open(conf, "w").write('signatures = { dir = "%s"; };\n' % sigs_dir)
    vendors = {}
    for name in sorted(os.listdir(sigs_dir)):
        if name.endswith(".conf"):
            m = re.search(r'^vendor\s*=\s*"([^"]+)"', open(os.path.join(sigs_dir, name)).read(), re.M)
            vendors[m.group(1)] = os.path.join(sigs_dir, name)

    rc, out, err = run(s, ["--list-signatures=Fortinet", "--json"], conf=conf)
    try:
        doc = json.loads(out)
    except ValueError as e:
        doc = {}
        check("--list-signatures=Fortinet --json is JSON", False, "%s: %s" % (e, out[:200]))
    want = pack_file_signatures(vendors["Fortinet"])
    got = {g.get("id"): g for g in doc.get("signatures", [])}
    check("--list-signatures=Fortinet --json: exit 0, schema_version 1, vendor Fortinet alone",
          rc == 0 and doc.get("schema_version") == 1 and doc.get("vendors") == ["Fortinet"] and
          all(g.get("vendor") == "Fortinet" for g in got.values()),
          "exit %d: %s %s" % (rc, err, str(doc)[:300]))
    check("--list-signatures=Fortinet --json: every signature of fortinet.conf (%d)" % len(want),
          len(want) >= 10 and sorted(got) == sorted(want) and
          len(got) == len(doc.get("signatures", [])),
          "only in the file: %s; only in the output: %s"
          % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
    text = open(vendors["Fortinet"]).read().lower()
    bad = []
    for sid, inds in want.items():
        have = (got.get(sid) or {}).get("indicators", {})
        if {k: len(v) for k, v in have.items()} != inds:
            bad.append("%s: file %s, output %s" % (sid, inds, {k: len(v) for k, v in have.items()}))
        for k, values in have.items():
            for v in values:
                if (v[2:] if k == "asns" else v).lower() not in text:
                    bad.append("%s: %s %r is not in the file" % (sid, k, v))
    check("--list-signatures=Fortinet --json: each signature's indicators as in the file",
          not bad, "; ".join(bad[:4]))

    rc, out, err = run(s, ["--list-signatures", "--json"], conf=conf)
    try:
        whole = json.loads(out)
    except ValueError:
        whole = {}
    n_file = sum(len(pack_file_signatures(p)) for p in vendors.values())
    check("--list-signatures --json: the whole pack (%d signatures, %d vendors)"
          % (n_file, len(vendors)),
          rc == 0 and len(whole.get("signatures", [])) == n_file and
          sorted(whole.get("vendors", [])) == sorted(vendors),
          "exit %d, %d signatures, vendors %s" % (rc, len(whole.get("signatures", [])),
                                                   whole.get("vendors")))

    rc, out, err = run(s, ["--list-signatures=check point"], conf=conf)
    heads = re.findall(r"^(\S.*) \((\d+) signatures?\)$", out, re.M)
    check("--list-signatures='check point': Check Point's block alone, any case",
          rc == 0 and heads == [("Check Point", str(len(pack_file_signatures(
              vendors["Check Point"]))))], "exit %d: %s %s" % (rc, heads, err))

    rc, out, err = run(s, ["--list-signatures=Nobody", "--json"], conf=conf)
    missing = [v for v in vendors if v not in err]
    check("--list-signatures=Nobody: exit 2 naming every vendor of the pack",
          rc == 2 and out == "" and "Nobody" in err and not missing,
          "exit %d, vendors not named: %s: %s" % (rc, missing, err))
    rc, _, err = run(s, ["--list-signatures", "Fortinet"], conf=conf)
    check("--list-signatures VENDOR (a space): exit 2 saying --list-signatures=VENDOR",
          rc == 2 and "--list-signatures=VENDOR" in err, "exit %d: %s" % (rc, err))
    rc, _, err = run(s, ["--json", "-r", os.path.join(PCAPS, "example.pcap")], conf=conf)
    check("--json without --list-signatures: exit 2", rc == 2 and "--json" in err,
          "exit %d: %s" % (rc, err))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    args = ap.parse_args()
    s = args.sensor
    example = os.path.join(PCAPS, "example.pcap")

    with tempfile.TemporaryDirectory() as tmp:
        rc, out, err = run(s, ["-q", "-r", example, "--flows", "-"])
        whole = flows_of(out)
        check("good capture exits 0", rc == 0, "exit %d: %s" % (rc, err))
        check("good capture has flows", len(whole) >= 10, "%d flows" % len(whole))

        check("pcap_filename: the -r path as given", all(
            json.loads(l).get("pcap_filename") == example for l in out.splitlines() if l.strip()),
            out[:300])

        rc, out2, _ = run(s, ["-q", "-r", "-", "--flows", "-"], stdin=open(example, "rb").read())
        check("'-' reads standard input", rc == 0 and flows_of(out2) == whole)
        check("pcap_filename of standard input: '-'", all(
            json.loads(l).get("pcap_filename") == "-" for l in out2.splitlines() if l.strip()),
            out2[:300])

        a, b = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
        split_pcap(example, a, b)
        rc, out3, _ = run(s, ["-q", "-r", a, "-r", b, "--flows", "-"])
        check("flow state kept across files", rc == 0 and flows_of(out3) == whole,
              "split capture gives %d flows, whole %d" % (len(flows_of(out3)), len(whole)))
        bad = input_problems(out3, a, b)
        check("pcap_filename: the file of each flow's first packet", not bad, "; ".join(bad[:3]))
        rc, out3w, _ = run(s, ["-q", "-w", "3", "-r", a, "-r", b, "--flows", "-"])
        bad = input_problems(out3w, a, b)
        check("pcap_filename with 3 workers: the file of each flow's first packet",
              rc == 0 and not bad, "; ".join(bad[:3]))

        missing = os.path.join(tmp, "nope.pcap")
        rc, out4, err = run(s, ["-q", "-r", missing, "-r", example, "--flows", "-"])
        check("missing file: exit 1", rc == 1, "exit %d" % rc)
        check("missing file: message names it", missing in err, err)
        check("missing file: other inputs still read", flows_of(out4) == whole)

        empty = os.path.join(tmp, "empty.pcap")
        open(empty, "wb").close()
        rc, _, err = run(s, ["-q", "-r", empty])
        check("empty file: exit 1 naming it", rc == 1 and empty in err, "exit %d: %s" % (rc, err))

        text = os.path.join(tmp, "notes.txt")
        open(text, "w").write("this is not a capture\n" * 10)
        rc, _, err = run(s, ["-q", "-r", text])
        check("not a capture: exit 1 naming it", rc == 1 and text in err, "exit %d: %s" % (rc, err))

        # a pcap of link type 147 (USER0), which no decoder handles
        odd = os.path.join(tmp, "user0.pcap")
        open(odd, "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147))
        rc, _, err = run(s, ["-q", "-r", odd])
        check("unsupported link type: exit 1, named", rc == 1 and odd in err and "147" in err,
              "exit %d: %s" % (rc, err))

        data = open(example, "rb").read()
        cut = os.path.join(tmp, "cut.pcap")
        open(cut, "wb").write(data[:len(data) * 2 // 3])
        rc, out5, err = run(s, ["-r", cut, "--flows", "-"])
        check("truncated capture: exit 0 with a warning naming it",
              rc == 0 and "warning" in err and cut in err, "exit %d: %s" % (rc, err))
        check("truncated capture: what was read is reported", 0 < len(flows_of(out5)) <= len(whole))

        rc, _, err = run(s, ["-q", "-r", example, "--bogus"])
        check("unknown option: exit 2", rc == 2, "exit %d" % rc)
        rc, _, err = run(s, ["-q", "-r", example, "-f", "tcp port"])
        check("bad filter: exit 2 with a message", rc == 2 and "filter" in err,
              "exit %d: %s" % (rc, err))
        rc, out6, _ = run(s, ["-q", "-r", example, "-f", "udp", "--flows", "-"])
        only_udp = flows_of(out6)
        check("filter applies", rc == 0 and only_udp and all(f[0] == "UDP" for f in only_udp))

        bad = os.path.join(tmp, "bad.conf")
        open(bad, "w").write('sensor_name = "x";\nflow = {\n  max_flows = -1;\n};\n')
        rc, _, err = run(s, ["--check-config"], conf=bad)
        check("bad config: exit 2 naming file:line", rc == 2 and ("%s:3:" % bad) in err,
              "exit %d: %s" % (rc, err))
        rc, _, err = run(s, ["--check-config"], conf=os.path.join(tmp, "absent.conf"))
        check("missing config: exit 2", rc == 2, "exit %d" % rc)
        rc, _, _ = run(s, ["-q"])
        check("no input: exit 2", rc == 2, "exit %d" % rc)

        st = os.path.join(tmp, "stats.json")
        rc, _, err = run(s, ["-r", example, "--flows", os.devnull, "--stats", st])
        try:
            j = json.load(open(st))
            ok = (j["packets"]["total"] > 0 and j["flows"]["total"] == len(whole)
                  and j["flows"]["bytes_per_flow"] <= 552 and "not_ip" in j["decode"]
                  and sum(j["flows"]["direction"].values()) == len(whole)
                  and sum(j["flows"]["end_reason"].values()) == len(whole)
                  and j["ja4"]["tls"] >= 0)
        except (OSError, ValueError, KeyError) as e:
            ok, j = False, str(e)
        check("--stats is valid JSON with the counters", ok, str(j)[:300])
        check("summary on standard error", "summary" in err and "packets" in err, err[:300])

        rc, out, _ = run(s, ["--help"])
        src = open(os.path.join(ROOT, "sensor", "options.c")).read()
        longopts = set(re.findall(r'\{"([a-z-]+)", (?:no|required)_argument', src))
        undocumented = sorted(o for o in longopts if "--" + o not in out)
        check("--help documents every option", rc == 0 and len(longopts) >= 15 and not undocumented,
              "%d options found in options.c; missing from --help: %s"
              % (len(longopts), undocumented))
        rc, out, _ = run(s, ["--version"])
        check("--version names nDPI and libpcap", rc == 0 and "nDPI" in out and "libpcap" in out,
              out)

        list_signatures_tests(s, tmp)
        hostile_inputs(s, tmp, example)
        appending(s, tmp)
        external_warning(s, tmp)

    return testlib.summary("cli")


if __name__ == "__main__":
    sys.exit(main())
