#!/usr/bin/env python3
"""Command-line behaviour: exit codes, messages, inputs, outputs.

Runs the built sensor as a user would and checks what it says and returns:
  - exit 0 on a good capture; 1 with the file named for a missing, empty,
    non-capture or unsupported-link-type input (the other inputs still run);
  - a truncated capture is a warning naming the file, what was read counts;
  - exit 2 for an unknown option, a bad filter, a bad configuration line;
  - '-' reads standard input; several -r files keep flow state across them
    (a capture split in two gives the same flows as the whole);
  - --stats writes valid JSON with the counters the summary shows;
  - --help documents every long option the program accepts.
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps")

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print("  %s %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ": " + detail))


def run(sensor, args, stdin=None, conf=os.devnull):
    cmd = [sensor, "-c", conf, "--no-progress"] + args
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, check=False)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


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

        rc, out2, _ = run(s, ["-q", "-r", "-", "--flows", "-"], stdin=open(example, "rb").read())
        check("'-' reads standard input", rc == 0 and flows_of(out2) == whole)

        a, b = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
        split_pcap(example, a, b)
        rc, out3, _ = run(s, ["-q", "-r", a, "-r", b, "--flows", "-"])
        check("flow state kept across files", rc == 0 and flows_of(out3) == whole,
              "split capture gives %d flows, whole %d" % (len(flows_of(out3)), len(whole)))

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

    failed = sum(1 for _, ok in results if not ok)
    print("cli: %d passed, %d failed" % (len(results) - failed, failed))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
