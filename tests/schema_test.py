#!/usr/bin/env python3
"""The JSON Schemas of config/schema/ against the sensor's real output.

Each record and document the sensor writes has a schema (JSON Schema draft
2020-12): flow.schema.json (--flows), alert.schema.json and
asset-event.schema.json (--alerts), stats.schema.json (--stats),
inventory.schema.json (--assets), signatures.schema.json
(--list-signatures --json). This suite, with Debian's python3-jsonschema
and its format checker (addresses):

  - checks every schema, and the report's sensor/report/report-data.schema.json,
    against the draft's meta-schema;
  - runs the sensor over every capture of pcaps/detect/ and a ClusterXL
    capture written here (the pack plus a test file: a CIDR-only signature
    for ICMP alerts, a server signature reading a FortiGate's serial from
    its certificate, a CCP one reading a cluster member, one with every
    indicator kind), with the Redis output pointed at a closed port (the
    "redis" object of --stats); over vendor-fortinet.pcap read three times,
    shifted in time, so that an alert carries repeats_suppressed; over
    every capture of pcaps/ with two workers; with detection off; and, as
    root, live on the loopback interface (the "capture" object); then
    validates every line and document written;
  - fails when a member a schema describes never appears in that output,
    unless it is listed in UNSEEN with the reason no capture can show it
    (a schema must not drift from what the sensor writes);
  - shows that validation can fail: mutated copies of real records (a
    required member removed, a wrong type, an unknown member, another
    schema_version, a value outside its enum or format, ports on ICMP, no
    tcp object on TCP) must each be rejected;
  - checks that what the record schemas share (the flow tuple, and every
    $defs entry of the same name) is written the same in each file.

Without python3-jsonschema the suite is skipped, except under CI=true
(tests/testlib.py); run it with Debian's python3 (make schema-test does).
"""

import argparse
import copy
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import testlib
from testlib import cfg_str, check  # noqa: E402

try:
    import jsonschema
except ImportError:
    jsonschema = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCHEMAS = os.path.join(ROOT, "config", "schema")
REPORT_SCHEMA = os.path.join(ROOT, "sensor", "report", "report-data.schema.json")
PCAPS = os.path.join(ROOT, "pcaps")
DETECT = os.path.join(PCAPS, "detect")
SIGNATURES = os.path.join(ROOT, "config", "signatures")
KINDS = ("flow", "alert", "asset-event", "stats", "inventory", "signatures")

# Schema members the test's captures cannot show, with why. Anything else
# a schema describes must appear in the output validated.
UNSEEN = {
    ("alert", "alert.device.serial"): "a serial is read from a certificate, the server's, and an "
                                      "alert names a client (asset events show $defs/device "
                                      "with a serial)",
    ("alert", "alert.device.model"): "as alert.device.serial",
    ("alert", "alert.device.named_by"): "only a sender from 0.0.0.0 is named by its network, "
                                        "never the client of an egress flow",
}

TEST_PACK = """vendor = "Schema Test";
signatures = (
  { id = "schema-test-cidr-only"; product = "Pinged"; category = "update";
    severity = "low"; source = "tests/schema_test.py";
    cidrs = [ "208.91.112.0/22", "2001:db8:40::/48" ]; },
  { id = "schema-test-fortigate-serial"; product = "FortiGate"; category = "remote-access";
    severity = "medium"; source = "tests/schema_test.py"; role = "server";
    device = "fortinet-serial"; cert_subject = [ "O=Fortinet, OU=FortiGate" ]; },
  { id = "schema-test-ccp"; product = "ClusterXL"; category = "management";
    severity = "low"; source = "tests/schema_test.py"; role = "peers";
    device = "dissector"; dissector = [ "checkpoint-ccp" ]; },
  { id = "schema-test-every-indicator"; product = "Nothing"; category = "telemetry";
    severity = "low"; source = "tests/schema_test.py"; note = "matches nothing";
    http_host = [ "schema-test.invalid" ]; ja3 = [ "00000000000000000000000000000000" ];
    ja4 = [ "t13d0000h2_000000000000_000000000000" ];
    ja3s = [ "00000000000000000000000000000000" ]; app = [ "SchemaTestNothing" ]; }
);
"""


def free_port():
    """A loopback TCP port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(path, geo, pack, extra=""):
    with open(path, "w") as fp:
        fp.write('sensor_name = "schema";\n')
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % cfg_str(pack))
        fp.write(extra)
    return path


def ccp_capture(path):
    """Two ClusterXL CCP datagrams (dissectors/checkpoint-ccp.c), in
    VLAN 42: a member sending from 0.0.0.0 to its network 10.77.0.0 (an
    asset named by its network), and 10.77.0.5 to 203.0.113.9 (an egress
    flow: an alert with the device)."""
    def frame(src, dst):
        # CCP: magic 1a90, version 3121, cluster 1, opcode 1 (FWHA_MY_STATE),
        # source interface, random id, source machine 2, destination
        # machine, policy id, filler; then 8 bytes of state
        ccp = struct.pack(">HHHHHHHHI", 0x1A90, 3121, 1, 1, 0, 0, 2, 0, 0) + bytes(8)
        udp = struct.pack(">HHHH", 8116, 8116, 8 + len(ccp), 0) + ccp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst)) + udp
        # Ethernet, 802.1Q tag VLAN 42, IPv4
        return (bytes.fromhex("0000000a1a90") + bytes.fromhex("00000000a1a9") +
                struct.pack(">HHH", 0x8100, 42, 0x0800) + ip)
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (src, dst) in enumerate((("0.0.0.0", "10.77.0.0"), ("10.77.0.5", "203.0.113.9"))):
            f = frame(src, dst)
            fp.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)


def shifted(src, dst, seconds):
    """A copy of the pcap src with every packet seconds later."""
    data = bytearray(open(src, "rb").read())
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl = struct.unpack_from(endian + "III", data, off)
        struct.pack_into(endian + "I", data, off, sec + seconds)
        off += 16 + incl
    open(dst, "wb").write(data)


def span_s(path):
    """Seconds from the first packet of a pcap to its last."""
    data = open(path, "rb").read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, first, last = 24, None, 0
    while off + 16 <= len(data):
        sec, _, incl = struct.unpack_from(endian + "III", data, off)
        first = sec if first is None else first
        last = sec
        off += 16 + incl
    return last - (first or 0)


def run(sensor, args, ok_codes=(0,), timeout=180):
    p = subprocess.run([sensor, "--no-progress", "-q"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, cwd=ROOT, check=False)
    err = p.stderr.decode(errors="replace")
    if p.returncode not in ok_codes:
        raise RuntimeError("exit %d (expected %s): %s: %s"
                           % (p.returncode, ok_codes, " ".join(args)[:200], err[-600:]))
    return p.stdout.decode(errors="replace")


def lines(path):
    with open(path) as fp:
        return [json.loads(line) for line in fp if line.strip()]


class Output:
    """The records and documents written, by schema."""

    def __init__(self):
        self.docs = {k: [] for k in KINDS}

    def add_lines(self, path, where):
        for i, r in enumerate(lines(path)):
            kind = r.get("event_type")
            kind = {"asset": "asset-event"}.get(kind, kind)
            if kind not in ("flow", "alert", "asset-event"):
                kind = "flow"  # an unknown event_type fails the flow schema
            self.docs[kind].append(("%s line %d" % (where, i + 1), r))

    def add_doc(self, kind, path, where):
        with open(path) as fp:
            self.docs[kind].append((where, json.load(fp)))


def produce(a, tmp, out):
    """Run the sensor as the docstring says; fills out. Returns the notes of
    what could not run."""
    notes = []
    pack = os.path.join(tmp, "pack")
    os.mkdir(pack)
    for name in os.listdir(SIGNATURES):
        if name.endswith(".conf"):
            with open(os.path.join(SIGNATURES, name), "rb") as s, \
                    open(os.path.join(pack, name), "wb") as d:
                d.write(s.read())
    with open(os.path.join(pack, "zz-schema-test.conf"), "w") as fp:
        fp.write(TEST_PACK)
    detect = sorted(os.path.join(DETECT, f) for f in os.listdir(DETECT) if f.endswith(".pcap"))
    detect.append(os.path.join(tmp, "ccp.pcap"))
    ccp_capture(detect[-1])
    inputs = sum((["-r", p] for p in detect), [])

    # 1. the detection captures, Redis at a closed port (exit 3: left in the spool)
    redis = 'redis = { url = "redis://127.0.0.1:%d/0"; spool_dir = %s; flush_timeout = 0; };\n' \
        % (free_port(), cfg_str(os.path.join(tmp, "spool")))
    conf = write_config(os.path.join(tmp, "detect.conf"), a.geo, pack, redis)
    d = os.path.join(tmp, "detect")
    os.mkdir(d)
    run(a.sensor, ["-c", conf] + inputs + [
        "--alerts", os.path.join(d, "alerts.json"), "--flows", os.path.join(d, "flows.json"),
        "--assets", os.path.join(d, "assets.json"), "--stats", os.path.join(d, "stats.json")],
        ok_codes=(3,))
    out.add_lines(os.path.join(d, "alerts.json"), "detect alerts")
    out.add_lines(os.path.join(d, "flows.json"), "detect flows")
    out.add_doc("inventory", os.path.join(d, "assets.json"), "detect --assets")
    out.add_doc("stats", os.path.join(d, "stats.json"), "detect --stats (with redis)")

    # 2. one capture three times, the second copy inside the suppression
    # window of the first's alerts, the third after it: repeats_suppressed
    src = os.path.join(DETECT, "vendor-fortinet.pcap")
    span = span_s(src)
    window = span + 3
    b, c = os.path.join(tmp, "again-b.pcap"), os.path.join(tmp, "again-c.pcap")
    shifted(src, b, span + 1)
    shifted(src, c, span + 1 + 2 * window)
    conf = write_config(os.path.join(tmp, "repeat.conf"), a.geo, pack,
                        "alerts = { suppress_window = %d; };\n" % window)
    r = os.path.join(tmp, "repeat-alerts.json")
    run(a.sensor, ["-c", conf, "-r", src, "-r", b, "-r", c, "--alerts", r])
    out.add_lines(r, "repeated capture alerts")

    # 3. every capture of pcaps/, two workers
    conf = write_config(os.path.join(tmp, "layers.conf"), a.geo, pack)
    d = os.path.join(tmp, "layers")
    os.mkdir(d)
    caps = sorted(os.path.join(PCAPS, f) for f in os.listdir(PCAPS)
                  if f.endswith((".pcap", ".pcapng")))
    run(a.sensor, ["-c", conf, "-w", "2"] + sum((["-r", p] for p in caps), []) + [
        "--flows", os.path.join(d, "flows.json"), "--alerts", os.path.join(d, "alerts.json"),
        "--assets", os.path.join(d, "assets.json"), "--stats", os.path.join(d, "stats.json")])
    out.add_lines(os.path.join(d, "flows.json"), "pcaps/ flows")
    out.add_lines(os.path.join(d, "alerts.json"), "pcaps/ alerts")
    out.add_doc("inventory", os.path.join(d, "assets.json"), "pcaps/ --assets")
    out.add_doc("stats", os.path.join(d, "stats.json"), "pcaps/ --stats (2 workers)")

    # 4. detection off: no detection object, an empty inventory
    conf = write_config(os.path.join(tmp, "off.conf"), a.geo, "")
    st, inv = os.path.join(tmp, "off-stats.json"), os.path.join(tmp, "off-assets.json")
    run(a.sensor, ["-c", conf, "-r", os.path.join(PCAPS, "example.pcap"), "--stats", st,
                   "--assets", inv])
    out.add_doc("stats", st, "--stats, detection off")
    out.add_doc("inventory", inv, "--assets, detection off")

    # 5. the signature listings: the whole pack, one vendor, no pack
    listing = write_config(os.path.join(tmp, "list.conf"), a.geo, pack)
    for args, where in (([listing, "--list-signatures"], "the whole pack"),
                        ([listing, "--list-signatures=fortinet"], "Fortinet"),
                        ([conf, "--list-signatures"], "no pack")):
        path = os.path.join(tmp, "list-%d.json" % len(out.docs["signatures"]))
        open(path, "w").write(run(a.sensor, ["-c"] + args + ["--json"]))
        out.add_doc("signatures", path, "--list-signatures --json, " + where)

    # 6. live on the loopback interface (root): the capture object
    if os.geteuid() != 0:
        notes.append("not root: the live run (the capture object of --stats) did not run")
        return notes
    conf = write_config(os.path.join(tmp, "live.conf"), a.geo, pack)
    st, fl = os.path.join(tmp, "live-stats.json"), os.path.join(tmp, "live-flows.json")
    p = subprocess.Popen([a.sensor, "-q", "-c", conf, "-i", "lo", "--stats", st, "--flows", fl,
                          "-f", "udp port 9", "--stats-interval", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(5):
                s.sendto(b"schema test %d" % i, ("127.0.0.1", 9))
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        raise RuntimeError("live run on lo: exit %d: %s" % (p.returncode, err.decode()[-600:]))
    out.add_doc("stats", st, "live --stats")
    out.add_lines(fl, "live flows")
    return notes


def validators():
    """{kind: validator}, checking each schema against the meta-schema."""
    v = {}
    for kind in KINDS:
        path = os.path.join(SCHEMAS, kind + ".schema.json")
        with open(path) as fp:
            schema = json.load(fp)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
            ok, why = True, ""
        except jsonschema.SchemaError as e:
            ok, why = False, e.message
        check("%s.schema.json is a valid draft 2020-12 schema" % kind,
              ok and schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
              why or schema.get("$schema", "no $schema"))
        v[kind] = jsonschema.Draft202012Validator(schema,
                                                  format_checker=jsonschema.FormatChecker())
    with open(REPORT_SCHEMA) as fp:
        report = json.load(fp)
    try:
        jsonschema.Draft202012Validator.check_schema(report)
        why = ""
    except jsonschema.SchemaError as e:
        why = e.message
    check("report-data.schema.json is a valid draft 2020-12 schema too", not why, why)
    unknown = sorted(f for f in os.listdir(SCHEMAS) if f.endswith(".json")
                     and f[:-len(".schema.json")] not in KINDS)
    check("config/schema/ holds the schemas of this suite only", not unknown,
          "not validated here: %s" % unknown)
    return v


def errors_of(validator, doc):
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message[:200])
            for e in validator.iter_errors(doc)]


def paths(doc, prefix=()):
    """Every member path of doc ("[]" for an array's items)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,)
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for v in doc:
            yield from paths(v, prefix + ("[]",))


def schema_paths(s, root, prefix=()):
    """Every member path a schema describes, through its $defs."""
    if "$ref" in s:
        s = root["$defs"][s["$ref"].split("/")[-1]]
    for k, v in s.get("properties", {}).items():
        yield prefix + (k,)
        yield from schema_paths(v, root, prefix + (k,))
    if isinstance(s.get("items"), dict):
        yield from schema_paths(s["items"], root, prefix + ("[]",))


def validate_all(v, out):
    minimum = {"flow": 150, "alert": 60, "asset-event": 60, "stats": 3, "inventory": 3,
               "signatures": 3}
    for kind in KINDS:
        docs = out.docs[kind]
        bad = []
        for where, doc in docs:
            bad += ["%s: %s" % (where, e) for e in errors_of(v[kind], doc)]
        check("%s: every one of %d %s valid" % (kind, len(docs),
                                                "records" if kind in ("flow", "alert",
                                                                      "asset-event")
                                                else "documents"),
              len(docs) >= minimum[kind] and not bad,
              "%d (at least %d expected); %d errors, the first: %s"
              % (len(docs), minimum[kind], len(bad), "; ".join(bad[:3])))


def coverage(v, out, live_ran):
    for kind in KINDS:
        seen = set()
        for _, doc in out.docs[kind]:
            seen.update(paths(doc))
        schema = v[kind].schema
        missing = []
        for p in schema_paths(schema, schema):
            name = ".".join(p)
            if p in seen or (kind, name) in UNSEEN:
                continue
            if not live_ran and kind == "stats" and name.split(".")[0] == "capture":
                continue  # reported as not run
            missing.append(name)
        check("%s: every member the schema describes appears in the output" % kind,
              not missing, "never written: %s (a member the sensor no longer writes, or one "
              "the captures cannot show: then list it in UNSEEN with the reason)"
              % ", ".join(missing))


def first(out, kind, pred=lambda r: True):
    for _, doc in out.docs[kind]:
        if pred(doc):
            return copy.deepcopy(doc)
    raise LookupError("no %s record to mutate" % kind)


def mutations(out):
    """(name, kind, mutated document) triples; each must be rejected."""
    m = []

    def mutate(name, kind, pred, fn):
        doc = first(out, kind, pred)
        fn(doc)
        m.append((name, kind, doc))

    tcp = lambda r: r.get("proto") == "TCP"
    udp = lambda r: r.get("proto") == "UDP"
    icmp = lambda r: r.get("proto") == "ICMP"
    mutate("flow without schema_version", "flow", tcp, lambda r: r.pop("schema_version"))
    mutate("flow with schema_version 2", "flow", tcp, lambda r: r.update(schema_version=2))
    mutate("flow with schema_version \"1\"", "flow", tcp,
           lambda r: r.update(schema_version="1"))
    mutate("flow without flow.reason", "flow", tcp, lambda r: r["flow"].pop("reason"))
    mutate("flow with pkts_toserver \"3\"", "flow", tcp,
           lambda r: r["flow"].update(pkts_toserver="3"))
    mutate("flow with an unknown member", "flow", tcp, lambda r: r.update(bogus=1))
    mutate("flow with an unknown member in flow", "flow", tcp, lambda r: r["flow"].update(x=1))
    mutate("TCP flow without src_port", "flow", tcp, lambda r: r.pop("src_port"))
    mutate("TCP flow without its tcp object", "flow", tcp, lambda r: r.pop("tcp"))
    mutate("UDP flow with a tcp object", "flow", udp,
           lambda r: r.update(tcp={"tcp_flags": "00", "tcp_flags_ts": "00",
                                   "tcp_flags_tc": "00"}))
    mutate("ICMP flow with ports", "flow", icmp, lambda r: r.update(src_port=1, dest_port=2))
    mutate("ICMP flow without icmp_type", "flow", icmp, lambda r: r.pop("icmp_type"))
    mutate("flow with direction outbound", "flow", tcp, lambda r: r.update(direction="outbound"))
    mutate("flow with src_ip 10.0.0.300", "flow", tcp, lambda r: r.update(src_ip="10.0.0.300"))
    mutate("flow with a bad timestamp", "flow", tcp,
           lambda r: r.update(timestamp="2023-11-14 22:13:20"))
    mutate("flow with an empty pcap_filename", "flow", tcp, lambda r: r.update(pcap_filename=""))
    mutate("alert with severity urgent", "alert", lambda r: True,
           lambda r: r["alert"].update(severity="urgent"))
    mutate("alert without alert.evidence", "alert", lambda r: True,
           lambda r: r["alert"].pop("evidence"))
    mutate("alert with an evidence kind unknown", "alert", lambda r: True,
           lambda r: r["alert"]["evidence"][0].update(kind="smell"))
    mutate("alert without alert_id", "alert", lambda r: True, lambda r: r.pop("alert_id"))
    mutate("alert with event_type asset", "alert", lambda r: True,
           lambda r: r.update(event_type="asset"))
    mutate("asset event without asset_ip", "asset-event", lambda r: True,
           lambda r: r.pop("asset_ip"))
    mutate("asset event with relation owns", "asset-event", lambda r: True,
           lambda r: r["asset"].update(relation="owns"))
    mutate("asset event with an empty device", "asset-event", lambda r: "device" in r["asset"],
           lambda r: r["asset"].update(device={}))
    mutate("stats without packets.total", "stats", lambda r: True,
           lambda r: r["packets"].pop("total"))
    mutate("stats with an unknown counter", "stats", lambda r: True,
           lambda r: r["flows"].update(teleported=0))
    mutate("stats with a negative counter", "stats", lambda r: True,
           lambda r: r["decode"].update(not_ip=-1))
    mutate("stats without schema_version", "stats", lambda r: True,
           lambda r: r.pop("schema_version"))
    mutate("inventory with a host of 9 products", "inventory", lambda r: r["hosts"],
           lambda r: r["hosts"][0].update(products=r["hosts"][0]["products"] * 9))
    mutate("inventory with a country code us", "inventory", lambda r: r["hosts"],
           lambda r: r["hosts"][0].update(countries=["us"]))
    mutate("signature listing with no indicator", "signatures", lambda r: r["signatures"],
           lambda r: r["signatures"][0].update(indicators={}))
    mutate("signature listing with severity critical", "signatures", lambda r: r["signatures"],
           lambda r: r["signatures"][0].update(severity="critical"))
    return m


def rejected(v, out):
    try:
        cases = mutations(out)
    except LookupError as e:
        check("mutated records", False, str(e))
        return
    accepted = [name for name, kind, doc in cases if not errors_of(v[kind], doc)]
    check("%d mutated copies of real records are each rejected" % len(cases), not accepted,
          "accepted: %s" % "; ".join(accepted))


def shared_parts(v):
    """The flow tuple and the $defs are copied into each schema: the copies
    must be equal."""
    flow, alert, asset = (v[k].schema for k in ("flow", "alert", "asset-event"))
    tuple_members = ("src_ip", "src_port", "dest_ip", "dest_port", "proto", "icmp_type",
                     "icmp_code", "vlan", "app", "app_guessed", "host", "direction",
                     "community_id", "pcap_filename")
    differ = [m for m in tuple_members
              if not flow["properties"][m] == alert["properties"][m] == asset["properties"][m]]
    check("the flow tuple is the same in the flow, alert and asset event schemas", not differ,
          "members that differ: %s" % differ)
    defs = {}
    for kind in KINDS:
        for name, d in v[kind].schema.get("$defs", {}).items():
            defs.setdefault(name, []).append((kind, d))
    differ = [name for name, copies in defs.items()
              if any(d != copies[0][1] for _, d in copies)]
    check("each $defs entry is the same in every schema that has it", not differ,
          "differing: %s" % differ)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--geo", required=True, help="the test geo databases (build/tests/geo)")
    args = ap.parse_args()
    args.sensor = os.path.abspath(args.sensor)
    args.geo = os.path.abspath(args.geo)
    if jsonschema is None:
        return testlib.cannot_run("schema-test", "python3-jsonschema not installed for %s "
                                  "(make deps installs it for Debian's /usr/bin/python3)"
                                  % sys.executable, 12)
    started = time.monotonic()
    v = validators()
    shared_parts(v)
    out = Output()
    with tempfile.TemporaryDirectory(prefix="egress-schema.") as tmp:
        try:
            notes = produce(args, tmp, out)
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            check("the sensor's runs", False, str(e))
            notes = []
    for n in notes:
        if testlib.under_ci():
            check("every run of the suite ran", False, n + " (CI=true)")
        else:
            print("  note %s" % n)
    live_ran = not notes
    validate_all(v, out)
    coverage(v, out, live_ran)
    rejected(v, out)

    return testlib.summary("schema-test", " (%.1f s)" % (time.monotonic() - started))


if __name__ == "__main__":
    sys.exit(main())
