#!/usr/bin/env python3
"""Redis output integration tests: the real sensor against real Redis servers.

Every test starts its own redis-server (on a free loopback port or a unix
socket, in a fresh temporary directory), runs build/egress-sensor on the
detection captures in pcaps/detect/ with a configuration that points its
Redis output there, and checks what arrived: the alerts stream (one entry per
alert the sensor wrote to --alerts in the same run, same alert_ids, flat
fields as documented in sensor/output-redis.h), the asset hash, the stats
hash, the heartbeat and its TTL, and what stays in the spool when Redis
cannot take the alerts (down, killed mid-run, out of memory, wrong password,
a port nobody answers on), and that the next run delivers it.

Fake servers written here (FakeRedis and its kin) misbehave on purpose:
they trickle replies, declare huge ones, refuse alerts for good, count
round trips. Only loopback addresses and unix sockets are ever contacted.
Python standard library only: Redis is spoken to with a small RESP client
below. The disk-full test mounts a small tmpfs: it needs root, and is never
skipped when CI=true. Prints "N passed, M failed" at the end and exits 1 on
any failure; when redis-server is not installed every test is skipped (and
counted so), except under CI=true, where that fails (tests/testlib.py).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PCAPS = os.path.join(ROOT, "pcaps", "detect")
SIGNATURES = os.path.join(ROOT, "config", "signatures")

STREAM = "egress:alerts"
SENSOR_NAME = "rtest"
FLAT_FIELDS = ("event_type", "alert_id", "timestamp", "sensor", "severity", "vendor", "product",
               "category",
               "signature_id", "confidence", "src_ip", "dest_ip", "dest_port", "proto", "app",
               "country_code", "asn", "host", "community_id", "pcap_filename")
# An asset event (the first identification of a host as a product) shares
# the stream: its flat fields.
ASSET_FIELDS = ("event_type", "asset_id", "timestamp", "sensor", "asset_ip", "vendor", "product",
                "relation", "signature_id", "confidence", "evidence", "device", "community_id",
                "pcap_filename")


def rec_id(rec):
    """The id of a record of the alert output or the stream: an alert's
    alert_id, an asset event's asset_id."""
    return rec.get("alert_id") or rec.get("asset_id")


# The stats hash: the run's counters by their dotted names (as in --stats),
# the output's own as redis.NAME.
STATS_FIELDS = ("packets.total", "flows.total", "detection.alerts", "detection.suppressed",
                "capture.kernel_drops", "capture.if_drops", "redis.queue_depth",
                "redis.spool_pending", "redis.spool_bytes", "redis.delivered", "redis.spooled",
                "redis.spool_refused", "redis.reconnects", "redis.state", "redis.lost", "updated")
EXIT_UNDELIVERED = 3
OUT_ENV = "EGRESS_SENSOR_REDIS_PASSWORD"
FLUSH_TIMEOUT = 2      # seconds, for the runs that are meant to leave alerts behind
STATS_INTERVAL = 5


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(what, fn, timeout=5.0, step=0.05):
    """Poll fn() until it returns a true value; TestFailure after timeout s."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (OSError, RespError) as e:
            last_exc = e
        time.sleep(step)
    raise TestFailure("timed out after %.1f s waiting for %s%s"
                      % (timeout, what, " (%s)" % last_exc if last_exc else ""))


# ---------------------------------------------------------------- RESP client

class RespError(Exception):
    """An error reply (-ERR ...) from Redis."""


class Resp:
    """A minimal blocking RESP2 client: one connection, one command at a time."""

    def __init__(self, port=None, path=None, timeout=5.0):
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.fp = self.sock.makefile("rb")

    def close(self):
        try:
            self.fp.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def read(self):
        line = self.fp.readline()
        if not line.endswith(b"\r\n"):
            raise OSError("connection closed by Redis")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.fp.read(n + 2)
            if len(data) != n + 2:
                raise OSError("short read from Redis")
            return data[:-2].decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise OSError("bad RESP reply %r" % line[:40])

    def cmd(self, *args):
        self.send(*args)
        return self.read()


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2])) if flat else {}


# ---------------------------------------------------------------- servers

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server (or Sentinel) child process in its own directory."""

    def __init__(self, binary, workdir, port=None, unix=None, args=(), password=None,
                 sentinel_conf=None):
        self.binary = binary
        self.dir = workdir
        self.port = port if port is not None else (0 if unix else free_port())
        self.unix = unix
        self.args = list(args)
        self.password = password
        self.sentinel_conf = sentinel_conf
        self.proc = None
        self.log = os.path.join(workdir, "redis-%s.log" % (self.port or "unix"))

    def start(self):
        if self.sentinel_conf:
            cmd = [self.binary, self.sentinel_conf, "--sentinel", "--port", str(self.port),
                   "--bind", "127.0.0.1", "--dir", self.dir, "--logfile", self.log]
        else:
            cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", self.dir, "--logfile", self.log]
            if self.unix:
                cmd += ["--unixsocket", self.unix, "--unixsocketperm", "700"]
        cmd += self.args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                raise TestFailure("redis-server exited at start (%s): %s"
                                  % (self.proc.returncode, self.tail_log()))
            c = self.client(timeout=1.0, auth=False)
            try:
                c.cmd("PING")
            except RespError as e:  # NOAUTH: up, just protected
                if "NOAUTH" not in str(e):
                    raise
            finally:
                c.close()
            return True

        wait_for("redis-server on %s" % (self.unix or self.port), up, timeout=10.0)
        return self

    def tail_log(self):
        try:
            with open(self.log, errors="replace") as fp:
                return " | ".join(fp.read().splitlines()[-3:])
        except OSError:
            return "(no log)"

    def client(self, timeout=5.0, auth=True):
        c = Resp(port=None if self.unix and not self.port else self.port,
                 path=self.unix if self.unix and not self.port else None, timeout=timeout)
        if auth and self.password:
            c.cmd("AUTH", self.password)
        return c

    def stop(self, kill=False):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


class SilentServer:
    """A loopback port that accepts TCP connections and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def stop(self):
        self.sock.close()


class GarbageServer:
    """A loopback port whose every connection is answered with bytes that
    are not RESP (or RESP that lies about its lengths), in a thread."""

    REPLIES = (b"\x00\xff garbage \r\n", b"$99999999999\r\nab", b"*-7\r\n", b"+OK\r\n:x\r\n",
               b"HTTP/1.1 200 OK\r\n\r\n")

    def __init__(self):
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            reply = self.REPLIES[self.accepted % len(self.REPLIES)]
            self.accepted += 1
            try:
                c.settimeout(1.0)
                c.recv(65536)
                c.sendall(reply)
            except OSError:
                pass
            finally:
                c.close()

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class FakeRedis:
    """A loopback server speaking enough RESP for the sensor, in a thread:
    it parses every command, answers what it can (AUTH, SELECT, PING, ROLE,
    XADD, HSET, HMGET, SET, PUBLISH...), records the XADDs and HSETs, and
    counts its turns: reads that brought at least one XADD, each answered
    at once (a pipeline arrives in few turns, one command per round trip in
    as many turns as commands). Misbehaviours are hooks:

      send(conn, data)   how replies go out (default: all at once)
      xadd_reply(fields) the reply to one XADD (default: a new entry id)
      first_reply        bytes sent instead of the reply to the first
                         command of every connection, once per connection
    """

    def __init__(self):
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.xadds, self.hsets, self.sets, self.turns, self.accepted = [], {}, [], 0, 0
        self.first_reply = None
        self.running = True
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def send(self, conn, data):
        conn.sendall(data)

    def xadd_reply(self, fields):
        return b"+%d-0\r\n" % (len(self.xadds) + 1)

    def _serve(self):
        import threading
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    @staticmethod
    def _parse(buf):
        """(commands, rest): complete RESP arrays of bulk strings in buf."""
        cmds, off = [], 0
        while True:
            if off >= len(buf) or buf[off:off + 1] != b"*":
                return cmds, buf[off:]
            end = buf.find(b"\r\n", off)
            if end < 0:
                return cmds, buf[off:]
            n, pos, args = int(buf[off + 1:end]), end + 2, []
            for _ in range(n):
                e = buf.find(b"\r\n", pos)
                if e < 0 or buf[pos:pos + 1] != b"$":
                    return cmds, buf[off:]
                ln = int(buf[pos + 1:e])
                if e + 2 + ln + 2 > len(buf):
                    return cmds, buf[off:]
                args.append(buf[e + 2:e + 2 + ln])
                pos = e + 2 + ln + 2
            cmds.append(args)
            off = pos

    def _answer(self, args):
        name = args[0].upper()
        if name == b"XADD":
            i = args.index(b"*") + 1
            fields = dict(zip((a.decode() for a in args[i::2]),
                              (a.decode(errors="replace") for a in args[i + 1::2])))
            with self.lock:
                reply = self.xadd_reply(fields)
                if reply.startswith(b"+"):
                    self.xadds.append(fields)
            return reply
        if name == b"HSET":
            with self.lock:
                h = self.hsets.setdefault(args[1].decode(), {})
                for k, v in zip(args[2::2], args[3::2]):
                    h[k.decode()] = v.decode(errors="replace")
            return b":1\r\n"
        if name == b"HMGET":
            return b"*%d\r\n" % (len(args) - 2) + b"$-1\r\n" * (len(args) - 2)
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"ROLE":
            return b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
        if name in (b"PUBLISH", b"DEL", b"EXPIRE", b"PERSIST"):
            return b":0\r\n"
        if name == b"SET":
            with self.lock:
                self.sets.append([a.decode(errors="replace") for a in args[1:]])
        return b"+OK\r\n"

    def _conn(self, c):
        buf, first = b"", True
        c.settimeout(0.5)
        while self.running:
            try:
                data = c.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            cmds, buf = self._parse(buf + data)
            if not cmds:
                continue
            out = []
            for args in cmds:
                if first and self.first_reply is not None:
                    out.append(self.first_reply)
                else:
                    out.append(self._answer(args))
                first = False
            if any(a[0].upper() == b"XADD" for a in cmds):
                with self.lock:
                    self.turns += 1
            try:
                self.send(c, b"".join(out))
            except OSError:
                break
        c.close()

    def stop(self):
        self.running = False
        self.thread.join(2)
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


class TrickleRedis(FakeRedis):
    """A FakeRedis that answers the handshake (PING) at once and everything
    after it one byte every `gap` seconds."""

    def __init__(self, gap=1.5):
        self.gap = gap
        super().__init__()

    def send(self, conn, data):
        if data.startswith(b"+PONG"):
            conn.sendall(data)
            return
        for i in range(len(data)):
            if not self.running:
                return
            conn.sendall(data[i:i + 1])
            time.sleep(self.gap)


# ---------------------------------------------------------------- the sensor


def cfg_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[ %s ]" % ", ".join(cfg_value(x) for x in v)
    return cfg_str(str(v))


class Env:
    """One test's temporary directory, servers and sensor runs."""

    def __init__(self, args, name):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="redis_test.%s." % name)
        self.spool = os.path.join(self.tmp, "spool")
        self.servers = []
        self.runs = 0

    def close(self):
        for s in self.servers:
            s.stop(kill=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def redis(self, **kw):
        wd = tempfile.mkdtemp(prefix="redis.", dir=self.tmp)
        s = RedisServer(self.args.redis_server, wd, **kw)
        self.servers.append(s)
        return s.start()

    def config(self, url, **redis):
        """A sensor configuration with the test geo databases, the signature
        pack and a redis group (url plus the given keys)."""
        self.runs += 1
        path = os.path.join(self.tmp, "sensor-%d.conf" % self.runs)
        geo = os.path.abspath(self.args.geo)
        r = {"url": url, "stream": STREAM, "maxlen": 100000, "channel": "", "flows_stream": "",
             "spool_dir": self.spool, "spool_max_bytes": 104857600, "queue_size": 4096,
             "connect_timeout_ms": 1000, "command_timeout_ms": 2000,
             "stats_interval": STATS_INTERVAL, "flush_timeout": FLUSH_TIMEOUT,
             "key_prefix": "egress"}
        r.update(redis)
        with open(path, "w") as fp:
            fp.write("sensor_name = %s;\n" % cfg_str(SENSOR_NAME))
            fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                     % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                        cfg_str(os.path.join(geo, "asn.mmdb"))))
            fp.write("home_countries = [ \"CN\" ];\n")
            fp.write("signatures = { dir = %s; };\n" % cfg_str(os.path.abspath(self.args.signatures)))
            fp.write("redis = {\n")
            for k, v in r.items():
                fp.write("  %s = %s;\n" % (k, cfg_value(v)))
            fp.write("};\n")
        return path

    def sensor_cmd(self, conf, pcaps, extra=()):
        alerts = os.path.join(self.tmp, "alerts-%d.json" % self.runs)
        cmd = [self.args.sensor, "-c", conf, "--no-progress", "--truncate", "--alerts", alerts]
        for p in pcaps:
            cmd += ["-r", p]
        return cmd + list(extra), alerts

    def run(self, conf, pcaps, extra=(), timeout=60, environ=None):
        """Run the sensor (environ: variables to add); returns (exit code,
        stderr text, alerts, seconds)."""
        cmd, alerts_path = self.sensor_cmd(conf, pcaps, extra)
        t0 = time.monotonic()
        envp = dict(os.environ, **environ) if environ else None
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=timeout, check=False, env=envp)
        except subprocess.TimeoutExpired:
            raise TestFailure("sensor did not finish within %d s: %s" % (timeout, " ".join(cmd)))
        return p.returncode, p.stderr.decode(errors="replace"), read_alerts(alerts_path), \
            time.monotonic() - t0


def read_alerts(path):
    """[(id, raw line, parsed)] from a --alerts file: its alerts and asset
    events, which the stream carries alike (rec_id())."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as fp:
        for line in fp:
            line = line.rstrip("\n")
            if line:
                rec = json.loads(line)
                out.append((rec_id(rec), line, rec))
    return out


def vendor_pcaps(args):
    return sorted(os.path.join(args.pcaps, f) for f in os.listdir(args.pcaps)
                  if f.startswith("vendor-") and f.endswith(".pcap"))


def decoy_pcap(args):
    return os.path.join(args.pcaps, "decoy-dns-only.pcap")


def stream_entries(c, key=STREAM):
    """[(entry id, {field: value})], oldest first."""
    return [(e[0], pairs(e[1])) for e in c.cmd("XRANGE", key, "-", "+")]


def stream_ids(c, key=STREAM):
    return [rec_id(f) for _, f in stream_entries(c, key)]


def expect_all_delivered(c, alerts, what):
    """Every alert_id of alerts is in the stream; returns the duplicates."""
    ids = stream_ids(c)
    missing = [a for a, _, _ in alerts if a not in ids]
    check(not missing, "%s: %d of %d alerts missing from the stream, e.g. %s"
          % (what, len(missing), len(alerts), missing[:3]))
    return len(ids) - len(set(ids))


def expect_rc(rc, want, err):
    check(rc == want, "exit %d, expected %d; stderr: %s" % (rc, want, err.strip()[-800:]))


def expect_left_in_spool(rc, err, n):
    expect_rc(rc, EXIT_UNDELIVERED, err)
    check(("%d NOT delivered" % n) in err,
          "the summary does not say \"%d NOT delivered\": %s" % (n, summary_line(err)))


def summary_line(err):
    lines = [l.strip() for l in err.splitlines() if l.strip().startswith("redis")]
    return lines[0] if lines else err.strip()[-400:]


def decode_record(rec):
    """(fields, json text) of a queued/spooled alert record (format 1 in
    sensor/output-redis.h), or ({}, text) for a JSON-only record of an older
    spool."""
    if rec[:1] == b"{":
        return {}, rec.decode(errors="replace")
    if rec[:1] != b"\xa1" or len(rec) < 2:
        raise TestFailure("spool record of unknown format: %r" % rec[:16])
    n, off, fields = rec[1], 2, {}
    for _ in range(n):
        nl = rec[off]
        name = rec[off + 1:off + 1 + nl].decode()
        off += 1 + nl
        (vl,) = struct.unpack_from("<I", rec, off)
        fields[name] = rec[off + 4:off + 4 + vl].decode(errors="replace")
        off += 4 + vl
    return fields, rec[off:].decode(errors="replace")


def spool_frames(data):
    """[(offset, payload)] of the intact-looking frames of a spool segment
    (formats in sensor/spool.h: 2, 16-byte header with a magic; 1, 8-byte
    header), in order, up to the first damage."""
    out, off = [], 0
    v2 = data[:4] == b"\xffSR2"
    hl = 16 if v2 else 8
    while off + hl <= len(data):
        if v2:
            if data[off:off + 4] != b"\xffSR2":
                break
            (n,) = struct.unpack_from("<I", data, off + 4)
        else:
            (n,) = struct.unpack_from("<I", data, off)
        if n == 0 or off + hl + n > len(data):
            break
        out.append((off, data[off + hl:off + hl + n]))
        off += hl + n
    return out


def spool_segments(spool_dir):
    return sorted(os.path.join(spool_dir, n) for n in os.listdir(spool_dir)
                  if n.startswith("spool-") and n.endswith(".log"))


def spool_records(spool_dir):
    """The alerts' JSON lines in the spool segments: every record,
    acknowledged or not -- use only when nothing was delivered."""
    recs = []
    for path in spool_segments(spool_dir):
        with open(path, "rb") as fp:
            recs += [decode_record(p)[1] for _, p in spool_frames(fp.read())]
    return recs

def crc32c(data):
    """CRC-32C (Castagnoli), as the spool frames records."""
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


crc32c.table = None


def write_v1_segment(spool_dir, seg_id, payloads):
    """A spool segment as the first spool format wrote it: each record
    framed u32 length | u32 CRC-32C | payload (little-endian)."""
    os.makedirs(spool_dir, mode=0o700, exist_ok=True)
    path = os.path.join(spool_dir, "spool-%010d.log" % seg_id)
    with open(path, "wb") as fp:
        for p in payloads:
            fp.write(struct.pack("<II", len(p), crc32c(p)) + p)
    os.chmod(path, 0o600)
    return path


def run_stats(env, conf, pcaps, extra=()):
    """Run with --stats; returns (exit code, stderr, alerts, the stats JSON)."""
    path = os.path.join(env.tmp, "stats-%d.json" % env.runs)
    rc, err, alerts, _ = env.run(conf, pcaps, extra=["--stats", path] + list(extra))
    try:
        with open(path) as fp:
            st = json.load(fp)
    except (OSError, ValueError):
        st = {}
    return rc, err, alerts, st


# ---------------------------------------------------------------- tests

def t_delivery(env):
    """All vendor captures: one stream entry per alert with the documented
    flat fields; PUBLISH per alert; flow records; assets, stats, heartbeat."""
    srv = env.redis()
    c = srv.client()
    sub = srv.client()
    sub.cmd("SUBSCRIBE", "egress:live")
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port, channel="egress:live",
                      flows_stream="egress:flows")
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args))
    expect_rc(rc, 0, err)
    check(len(alerts) >= 30, "only %d alerts from the vendor captures" % len(alerts))
    check("nothing left in the spool" in err, "summary: %s" % summary_line(err))

    entries = stream_entries(c)
    by_id = {a: (line, rec) for a, line, rec in alerts}
    got = [rec_id(f) for _, f in entries]
    check(len(entries) == len(alerts), "%d stream entries for %d alerts" % (len(entries), len(alerts)))
    check(sorted(got) == sorted(by_id), "alert_ids differ: only in the stream %s, only in the file %s"
          % (sorted(set(got) - set(by_id))[:3], sorted(set(by_id) - set(got))[:3]))
    check([a for a, _, _ in alerts] == got, "stream order differs from the alert order")
    for eid, f in entries:
        line, rec = by_id[rec_id(f)]
        check(f["json"] == line, "entry %s: json differs from the alert line" % eid)
        if f.get("event_type") == "asset":
            check(set(f) == set(ASSET_FIELDS) | {"json"},
                  "entry %s: fields %s" % (eid, sorted(set(f) ^ (set(ASSET_FIELDS) | {"json"}))))
            a = rec["asset"]
            want = {"asset_id": rec["asset_id"], "timestamp": rec["timestamp"],
                    "sensor": SENSOR_NAME, "asset_ip": rec["asset_ip"], "vendor": a["vendor"],
                    "product": a["product"], "relation": a["relation"],
                    "signature_id": a["signature_id"], "confidence": a["confidence"],
                    "evidence": a["evidence"][0]["kind"],
                    "community_id": rec.get("community_id", ""),
                    "pcap_filename": rec["pcap_filename"]}
            for k, v in want.items():
                check(f[k] == v, "entry %s: %s = %r, expected %r" % (eid, k, f[k], v))
            continue
        check(set(f) == set(FLAT_FIELDS) | {"json"},
              "entry %s: fields %s" % (eid, sorted(set(f) ^ (set(FLAT_FIELDS) | {"json"}))))
        geo = rec.get("dest_geo") or {}
        want = {
            "event_type": "alert",
            "alert_id": rec["alert_id"], "timestamp": rec["timestamp"], "sensor": SENSOR_NAME,
            "severity": rec["alert"]["severity"], "vendor": rec["alert"]["vendor"],
            "product": rec["alert"]["product"], "category": rec["alert"]["category"],
            "signature_id": rec["alert"]["signature_id"],
            "confidence": rec["alert"]["confidence"], "proto": rec["proto"], "app": rec["app"],
            "src_ip": rec["src_ip"], "dest_ip": rec["dest_ip"],
            "dest_port": str(rec["dest_port"]) if "dest_port" in rec else "",
            "country_code": geo.get("country_code", ""),
            "asn": str(geo["asn"]) if "asn" in geo else "",
            "host": rec.get("host", ""), "community_id": rec.get("community_id", ""),
            "pcap_filename": rec["pcap_filename"],
        }
        for k, v in want.items():
            check(f[k] == v, "entry %s: %s = %r, expected %r" % (eid, k, f[k], v))
    check(any(f.get("event_type") == "asset" for _, f in entries),
          "no asset event in the stream")
    entries = [(eid, f) for eid, f in entries if f.get("event_type") == "alert"]
    check(any(f["host"] == "" for _, f in entries) and any(f["host"] for _, f in entries),
          "expected alerts both with and without a host name")

    # live channel: one message per alert, the alert itself
    sub.sock.settimeout(3.0)
    msgs = []
    try:
        while len(msgs) < len(alerts):
            m = sub.read()
            if isinstance(m, list) and m and m[0] == "message":
                msgs.append(m[2])
    except (OSError, socket.timeout):
        pass
    check(sorted(rec_id(json.loads(m)) for m in msgs) == sorted(by_id),
          "%d PUBLISH messages on egress:live for %d alerts" % (len(msgs), len(alerts)))

    nflows = c.cmd("XLEN", "egress:flows")
    n_alerts = sum(1 for _, _, r in alerts if r.get("event_type") == "alert")
    check(nflows >= n_alerts, "flows stream egress:flows has %d entries for %d alerts (does the "
          "sensor hand its flow records to out_redis_submit_flow()?)" % (nflows, n_alerts))

    assets = pairs(c.cmd("HGETALL", "egress:assets:%s" % SENSOR_NAME))
    hosts = {rec["src_ip"] for _, _, rec in alerts}
    check(set(assets) == hosts, "asset hash hosts %s, alert sources %s"
          % (sorted(set(assets) ^ hosts)[:4], len(hosts)))
    for h, v in assets.items():
        check(json.loads(v).get("host") == h, "asset record of %s names another host" % h)

    stats = pairs(c.cmd("HGETALL", "egress:stats:%s" % SENSOR_NAME))
    missing = [f for f in STATS_FIELDS if f not in stats]
    check(not missing, "stats hash lacks %s" % missing)
    n_assets = len(alerts) - n_alerts
    check(int(stats["packets.total"]) > 0 and int(stats["detection.alerts"]) == n_alerts
          and int(stats["detection.asset_events"]) == n_assets,
          "stats: packets %s, alerts %s, asset events %s (expected %d and %d)"
          % (stats["packets.total"], stats["detection.alerts"], stats["detection.asset_events"],
             n_alerts, n_assets))
    check(int(stats["redis.delivered"]) == len(alerts) and int(stats["redis.spool_pending"]) == 0,
          "stats: delivered %s, spool_pending %s"
          % (stats["redis.delivered"], stats["redis.spool_pending"]))
    hb = "egress:heartbeat:%s" % SENSOR_NAME
    check((c.cmd("GET", hb) or "").startswith("stopped "), "heartbeat %s after a clean stop: %r"
          % (hb, c.cmd("GET", hb)))
    check(c.cmd("TTL", hb) == -1, "heartbeat TTL %s after a clean stop, expected none" % c.cmd("TTL", hb))
    sub.close()
    c.close()
    return "%d alerts, %d hosts, %d published, %d flow records" % (len(alerts), len(assets),
                                                                   len(msgs), nflows)


def t_down_at_start(env):
    """No Redis: exit 3, the spool holds every alert; Redis up, a run on a
    capture without alerts delivers them all."""
    port = free_port()
    conf = env.config("redis://127.0.0.1:%d/0" % port)
    rc, err, alerts, secs = env.run(conf, vendor_pcaps(env.args)[:5])
    check(alerts, "no alerts to deliver")
    expect_left_in_spool(rc, err, len(alerts))
    check("127.0.0.1:%d" % port in err, "stderr does not name 127.0.0.1:%d: %s" % (port, summary_line(err)))
    spooled = sorted(rec_id(json.loads(r)) for r in spool_records(env.spool))
    check(spooled == sorted(a for a, _, _ in alerts),
          "the spool holds %d records for %d alerts" % (len(spooled), len(alerts)))

    srv = env.redis(port=port)
    rc, err, none, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 0, err)
    check(not none, "the decoy raised alerts")
    c = srv.client()
    dups = expect_all_delivered(c, alerts, "after restart")
    check(stream_ids(c) == [a for a, _, _ in alerts], "replayed out of order")
    c.close()
    return "%d alerts spooled in %.1f s, then delivered (%d duplicates)" % (len(alerts), secs, dups)


def pcap_stream(paths, gap_s=10):
    """One pcap byte stream from several (Ethernet, microsecond) captures,
    capture i shifted gap_s * i seconds so time only moves forward. Returns
    (header, [records of capture 0], [records of capture 1], ...)."""
    header, caps = None, []
    for i, p in enumerate(paths):
        with open(p, "rb") as fp:
            data = fp.read()
        check(data[:4] == b"\xd4\xc3\xb2\xa1", "%s: not a little-endian pcap" % p)
        if header is None:
            header = data[:24]
        recs, off = [], 24
        while off + 16 <= len(data):
            sec, usec, incl, orig = struct.unpack_from("<IIII", data, off)
            recs.append(struct.pack("<IIII", sec + gap_s * i, usec, incl, orig)
                        + data[off + 16:off + 16 + incl])
            off += 16 + incl
        caps.append(recs)
    return header, caps


def t_killed_midway(env):
    """Redis killed (SIGKILL) after the first alerts arrived and restarted on
    the same port and data while the sensor runs: every alert arrives at
    least once. The sensor reads one pcap stream from a pipe, so the test
    decides when its packets come."""
    aof = ["--appendonly", "yes", "--appendfsync", "always"]  # survive the kill
    srv = env.redis(args=aof)
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port, flush_timeout=10,
                      command_timeout_ms=500)
    pcaps = vendor_pcaps(env.args)
    half = len(pcaps) // 2
    header, caps = pcap_stream(pcaps)
    cmd, alerts_path = env.sensor_cmd(conf, ["-"])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        c = srv.client()
        proc.stdin.write(header + b"".join(b"".join(r) for r in caps[:half]))
        proc.stdin.flush()
        before = wait_for("the first alerts in the stream", lambda: c.cmd("XLEN", STREAM), 10.0)
        c.close()
        srv.stop(kill=True)
        for recs in caps[half:]:  # these alerts meet a dead server
            proc.stdin.write(b"".join(recs))
            proc.stdin.flush()
            time.sleep(0.05)
        time.sleep(0.3)
        srv.start()  # same port, same directory: the AOF brings the old entries back
        _, err = proc.communicate(timeout=30)  # closes stdin: end of capture
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = err.decode(errors="replace")
    alerts = read_alerts(alerts_path)
    expect_rc(proc.returncode, 0, err)
    check(len(alerts) > before, "no alerts after the kill (%d before, %d in all)"
          % (before, len(alerts)))
    c = srv.client()
    ids = stream_ids(c)
    stats = pairs(c.cmd("HGETALL", "egress:stats:%s" % SENSOR_NAME))
    c.close()
    check(int(stats.get("redis.spooled", 0)) > 0, "nothing was spooled: the kill was not noticed")
    missing = [a for a, _, _ in alerts if a not in ids]
    check(not missing, "%d of %d alerts lost, e.g. %s" % (len(missing), len(alerts), missing[:3]))
    m = re.search(r"(\d+) reconnects", err)
    check(m and int(m.group(1)) >= 1, "no reconnect reported: %s" % summary_line(err))
    return "%d alerts, %d in Redis before the kill, %s spooled, %d reconnects, %d duplicates" % (
        len(alerts), before, stats["redis.spooled"], int(m.group(1)), len(ids) - len(set(ids)))


def t_oom(env):
    """maxmemory reached with noeviction: writes fail with OOM, the
    connection stays, alerts are spooled (exit 3); with room, delivered."""
    srv = env.redis(args=["--maxmemory-policy", "noeviction"])
    c = srv.client()
    c.cmd("SET", "filler", "x" * 100000)
    c.cmd("CONFIG", "SET", "maxmemory", "1")
    try:
        c.cmd("SET", "probe", "1")
        raise TestFailure("writes still succeed with maxmemory 1")
    except RespError as e:
        check("OOM" in str(e), "unexpected error %s" % e)
    conns = int(pairs_info(c.cmd("INFO", "stats"))["total_connections_received"])
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args)[:4])
    check(alerts, "no alerts")
    expect_left_in_spool(rc, err, len(alerts))
    check("OOM" in err, "stderr does not report OOM: %s" % summary_line(err))
    conns2 = int(pairs_info(c.cmd("INFO", "stats"))["total_connections_received"])
    check(conns2 - conns == 1, "the sensor connected %d times; an error reply must not drop "
          "the connection" % (conns2 - conns))
    check(c.cmd("EXISTS", STREAM) == 0, "alerts were written despite OOM")

    c.cmd("CONFIG", "SET", "maxmemory", "0")
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 0, err)
    dups = expect_all_delivered(c, alerts, "after raising maxmemory")
    c.close()
    return "%d alerts spooled on OOM over one connection, then delivered (%d duplicates)" % (
        len(alerts), dups)


def pairs_info(text):
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def t_wrong_password(env):
    """requirepass: a wrong password and none at all both name the server
    and the reason, spool, exit 3; the right one delivers the spool."""
    srv = env.redis(args=["--requirepass", "right-pw"], password="right-pw")
    url = "127.0.0.1:%d" % srv.port
    pcaps = vendor_pcaps(env.args)[:3]
    conf = env.config("redis://:wrong-pw@%s/0" % url)
    rc, err, alerts, _ = env.run(conf, pcaps)
    check(alerts, "no alerts")
    expect_left_in_spool(rc, err, len(alerts))
    check(url in err and "WRONGPASS" in err, "no clear error naming %s: %s" % (url, summary_line(err)))
    check("wrong-pw" not in err, "the password appears on stderr (print out_redis_describe(), "
          "not the URL): %s" % summary_line(err).replace("wrong-pw", "<password>"))

    conf = env.config("redis://%s/0" % url)
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_left_in_spool(rc, err, len(alerts))
    check(url in err and "NOAUTH" in err, "no clear error naming %s: %s" % (url, summary_line(err)))

    conf = env.config("redis://:right-pw@%s/0" % url)
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 0, err)
    c = srv.client()
    dups = expect_all_delivered(c, alerts, "with the right password")
    c.close()
    return "WRONGPASS and NOAUTH reported, %d alerts delivered after (%d duplicates)" % (
        len(alerts), dups)


def t_unreachable(env):
    """A closed loopback port, and a port that accepts but never answers:
    each run ends within flush_timeout + a few seconds, the spool is kept."""
    out = []
    closed = free_port()
    silent = SilentServer()
    try:
        for what, port in (("closed port", closed), ("silent server", silent.port)):
            conf = env.config("redis://127.0.0.1:%d/0" % port, connect_timeout_ms=500,
                              command_timeout_ms=500)
            rc, err, alerts, secs = env.run(conf, vendor_pcaps(env.args)[:2], timeout=30)
            check(alerts, "no alerts")
            expect_rc(rc, EXIT_UNDELIVERED, err)
            check(secs <= FLUSH_TIMEOUT + 4, "%s: the run took %.1f s (flush_timeout %d s)"
                  % (what, secs, FLUSH_TIMEOUT))
            check("127.0.0.1:%d" % port in err, "%s: stderr does not name the server: %s"
                  % (what, summary_line(err)))
            out.append("%s %.1f s" % (what, secs))
    finally:
        silent.stop()
    n = len(spool_records(env.spool))
    check(n > 0, "the spool is empty")
    return ", ".join(out) + ", %d records kept" % n


def t_garbage(env):
    """A server that answers with bytes that are not RESP: the sensor keeps
    going, names the server, keeps every alert in the spool (exit 3); a real
    Redis on the same spool then receives them all."""
    g = GarbageServer()
    try:
        conf = env.config("redis://127.0.0.1:%d/0" % g.port, connect_timeout_ms=500,
                          command_timeout_ms=500)
        rc, err, alerts, secs = env.run(conf, vendor_pcaps(env.args)[:2], timeout=30)
    finally:
        g.stop()
    check(alerts, "no alerts")
    expect_rc(rc, EXIT_UNDELIVERED, err)
    check("127.0.0.1:%d" % g.port in err, "stderr does not name the server: %s" % summary_line(err))
    check(g.accepted > 0, "the sensor never connected")
    srv = env.redis()
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 0, err)
    c = srv.client()
    dups = expect_all_delivered(c, alerts, "after the garbage server")
    c.close()
    return "%d connections answered with garbage in %.1f s, then %d alerts delivered (%d duplicates)" % (
        g.accepted, secs, len(alerts), dups)


def t_acl_user(env):
    """An ACL user limited to egress:* keys logs in with AUTH user pass."""
    srv = env.redis()
    c = srv.client()
    c.cmd("ACL", "SETUSER", "sensor", "on", ">pw", "~egress:*", "+@all")
    conf = env.config("redis://sensor:pw@127.0.0.1:%d/0" % srv.port)
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args)[:3])
    expect_rc(rc, 0, err)
    check(alerts, "no alerts")
    dups = expect_all_delivered(c, alerts, "as ACL user sensor")
    check(c.cmd("EXISTS", "egress:stats:%s" % SENSOR_NAME) == 1, "no stats hash")
    conf = env.config("redis://sensor:nope@127.0.0.1:%d/0" % srv.port)
    rc, err, _, _ = env.run(conf, vendor_pcaps(env.args)[:1])
    expect_rc(rc, EXIT_UNDELIVERED, err)
    check("WRONGPASS" in err and "sensor" in err, "bad ACL password: %s" % summary_line(err))
    c.close()
    return "%d alerts as user sensor (%d duplicates); bad password refused" % (len(alerts), dups)


def t_unix_socket(env):
    """unix:///path?db=2, given with --redis over a redis.url that points
    nowhere: alerts in database 2 over the socket."""
    sock = os.path.join(env.tmp, "redis.sock")
    srv = env.redis(unix=sock)
    conf = env.config("redis://127.0.0.1:%d/0" % free_port())
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args)[:3],
                                 extra=["--redis", "unix://%s?db=2" % sock])
    expect_rc(rc, 0, err)
    c = srv.client()
    c.cmd("SELECT", "2")
    dups = expect_all_delivered(c, alerts, "over %s" % sock)
    c.cmd("SELECT", "0")
    check(c.cmd("EXISTS", STREAM) == 0, "alerts written to database 0")
    c.close()
    return "%d alerts in db 2 via --redis (%d duplicates)" % (len(alerts), dups)


def t_sentinel(env):
    """Sentinel discovery: the first sentinel is down, the second names the
    master; alerts arrive there."""
    master = env.redis()
    sentinel = start_sentinel(env, master.port)
    s = sentinel.client()
    wait_for("Sentinel to know mymaster",
             lambda: s.cmd("SENTINEL", "get-master-addr-by-name", "mymaster"), 10.0)
    s.close()
    dead = free_port()
    conf = env.config("redis://127.0.0.1:%d/0" % dead,
                      sentinels=["127.0.0.1:%d" % dead, "127.0.0.1:%d" % sentinel.port],
                      master_name="mymaster")
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args)[:3])
    expect_rc(rc, 0, err)
    c = master.client()
    dups = expect_all_delivered(c, alerts, "via Sentinel")
    c.close()
    # The fleet view reads back through the same sentinels. A template
    # holding only the data (the page itself is report-test's).
    tpl = os.path.join(env.tmp, "template.html")
    with open(tpl, "w") as fp:
        fp.write('<script type="application/json" id="report-data">@@REPORT_DATA@@</script>\n')
    with open(conf, "a") as fp:
        fp.write("report = { template = %s; };\n" % cfg_str(tpl))
    page = os.path.join(env.tmp, "fleet.html")
    p = subprocess.run([env.args.sensor, "-c", conf, "--from-redis",
                        "redis://127.0.0.1:%d/0" % dead, "--report", page],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30, check=False)
    err = p.stderr.decode(errors="replace")
    expect_rc(p.returncode, 0, err)
    with open(page) as fp:
        text = fp.read()
    doc = json.loads(text[text.index(">") + 1:text.rindex("</script>")])
    window = doc.get("fleet", {}).get("window", {})
    got = window.get("alerts", 0) + window.get("asset_events", 0)
    check(doc["run"]["mode"] == "fleet" and [x["name"] for x in doc["sensors"]] == [SENSOR_NAME]
          and got == len(alerts),
          "the fleet view through Sentinel reads sensor %s and its %d records: %s, %d"
          % (SENSOR_NAME, len(alerts), [x["name"] for x in doc.get("sensors", [])], got))
    check("Sentinel master mymaster via" in err, "the fleet summary names Sentinel: %s" % err[-300:])
    return ("%d alerts to the master named by Sentinel (%d duplicates); the fleet view read "
            "them back through Sentinel" % (len(alerts), dups))


def start_sentinel(env, master_port, replicas=()):
    sport = free_port()
    sdir = tempfile.mkdtemp(prefix="sentinel.", dir=env.tmp)
    sconf = os.path.join(sdir, "sentinel.conf")
    with open(sconf, "w") as fp:
        fp.write("sentinel monitor mymaster 127.0.0.1 %d 1\n" % master_port)
        fp.write("sentinel down-after-milliseconds mymaster 5000\n")
        fp.write("sentinel failover-timeout mymaster 10000\n")
        for r in replicas:
            fp.write("sentinel known-replica mymaster 127.0.0.1 %d\n" % r)
    sentinel = RedisServer(env.args.redis_server, sdir, port=sport, sentinel_conf=sconf)
    env.servers.append(sentinel)
    sentinel.start()
    return sentinel


def t_sentinel_failover(env):
    """A forced failover in the middle of a run: the old master turns
    replica (READONLY), the sensor asks Sentinel again and writes to the new
    master; every alert is there."""
    m1 = env.redis()
    m2 = env.redis(args=["--replicaof", "127.0.0.1", str(m1.port)])
    c1 = m1.client()
    wait_for("the replica to sync",
             lambda: "connected_slaves:1" in c1.cmd("INFO", "replication"), 10.0)
    sentinel = start_sentinel(env, m1.port, [m2.port])
    s = sentinel.client()

    def replica_ready():
        reps = [pairs(r) for r in s.cmd("SENTINEL", "replicas", "mymaster")]
        return any(r.get("flags") == "slave" and r.get("master-link-status") == "ok"
                   for r in reps)

    wait_for("Sentinel to see the replica in sync", replica_ready, 15.0)
    conf = env.config("redis://127.0.0.1:%d/0" % m1.port,
                      sentinels=["127.0.0.1:%d" % sentinel.port], master_name="mymaster",
                      flush_timeout=10, command_timeout_ms=500)
    pcaps = vendor_pcaps(env.args)
    half = len(pcaps) // 2
    header, caps = pcap_stream(pcaps)
    cmd, alerts_path = env.sensor_cmd(conf, ["-"])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write(header + b"".join(b"".join(r) for r in caps[:half]))
        proc.stdin.flush()
        wait_for("the first alerts on the old master", lambda: c1.cmd("XLEN", STREAM), 10.0)
        # Writes after the promotion would be lost with the old master's data
        # (Redis replication is asynchronous): let the first half settle.
        seen = []

        def settled():
            seen.append(c1.cmd("XLEN", STREAM))
            return len(seen) >= 4 and seen[-1] == seen[-4]

        wait_for("the first half to settle", settled, 10.0, step=0.1)
        before = seen[-1]
        def failover():
            try:
                return s.cmd("SENTINEL", "FAILOVER", "mymaster")
            except RespError as e:  # NOGOODSLAVE until Sentinel has fresh replica info
                if "NOGOODSLAVE" in str(e):
                    return None
                raise

        wait_for("Sentinel to accept the failover", failover, 10.0, step=0.2)
        wait_for("Sentinel to name the new master",
                 lambda: s.cmd("SENTINEL", "get-master-addr-by-name", "mymaster")[1]
                 == str(m2.port), 15.0)
        # Sentinel turns the old master into a replica only at its next INFO
        # round (10 s); do what it will do, now.
        c1.close()
        c = m1.client()
        c.cmd("REPLICAOF", "127.0.0.1", str(m2.port))
        c.close()

        def demoted():
            c = m1.client(timeout=1.0)
            try:
                return "role:slave" in c.cmd("INFO", "replication")
            finally:
                c.close()

        wait_for("the old master to turn replica", demoted, 15.0)
        for recs in caps[half:]:
            proc.stdin.write(b"".join(recs))
            proc.stdin.flush()
        _, err = proc.communicate(timeout=30)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = err.decode(errors="replace")
    alerts = read_alerts(alerts_path)
    expect_rc(proc.returncode, 0, err)
    check(len(alerts) > before, "no alerts after the failover")
    m = re.search(r"(\d+) reconnects", err)
    check(m and int(m.group(1)) >= 1, "no reconnect reported: %s" % summary_line(err))
    c2 = m2.client()
    dups = expect_all_delivered(c2, alerts, "on the new master")
    c2.close()
    s.close()
    return "%d alerts, %d before the failover, all on the new master (%d duplicates)" % (
        len(alerts), before, dups)


def t_legacy_spool(env):
    """A spool left by a version that kept JSON lines only: its records are
    delivered in order with their json field alone, counted in
    legacy_records."""
    recs = [json.dumps({"alert_id": "legacy-%d" % i, "event_type": "alert"},
                       separators=(",", ":")).encode() for i in range(5)]
    write_v1_segment(env.spool, 1, recs)
    srv = env.redis()
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    rc, err, _, st = run_stats(env, conf, [decoy_pcap(env.args)])
    expect_rc(rc, 0, err)
    c = srv.client()
    entries = stream_entries(c)
    c.close()
    check([f for _, f in entries] == [{"json": r.decode()} for r in recs],
          "stream: %s" % entries[:2])
    rd = st.get("redis", {})
    check(rd.get("legacy_records") == 5 and rd.get("delivered") == 5,
          "--stats redis: %s" % {k: rd.get(k) for k in ("legacy_records", "delivered")})
    check("older spool" in err, "the summary does not mention the older records: %s"
          % summary_line(err))
    return "5 JSON-only records delivered with their json field, counted"


def t_spool_damage(env):
    """Four bytes overwritten in the middle of a spool segment: every other
    alert is delivered, in order; the loss is counted and located in the
    summary, --stats and the stats hash; exit 4."""
    port = free_port()
    conf = env.config("redis://127.0.0.1:%d/0" % port)
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args))
    expect_left_in_spool(rc, err, len(alerts))
    segs = spool_segments(env.spool)
    check(len(segs) == 1, "expected one segment, found %s" % segs)
    with open(segs[0], "rb") as fp:
        frames = spool_frames(fp.read())
    check(len(frames) == len(alerts), "%d frames for %d alerts" % (len(frames), len(alerts)))
    k = len(frames) // 2
    off = frames[k][0] + 16 + 40
    with open(segs[0], "r+b") as fp:
        fp.seek(off)
        fp.write(b"XXXX")
    lost_id = alerts[k][0]

    srv = env.redis(port=port)
    rc, err, _, st = run_stats(env, conf, [decoy_pcap(env.args)])
    expect_rc(rc, 4, err)
    c = srv.client()
    ids = stream_ids(c)
    hash_ = pairs(c.cmd("HGETALL", "egress:stats:%s" % SENSOR_NAME))
    c.close()
    want = [a for a, _, _ in alerts if a != lost_id]
    check(ids == want, "stream: %d alerts (want %d, in order), the damaged one %s"
          % (len(ids), len(want), "present" if lost_id in ids else "absent"))
    where = "spool-0000000001.log at offset %d" % frames[k][0]
    check("1 alerts LOST" in err and "lost to damage in the spool" in err and where in err,
          "the summary does not report the loss at %s: %s" % (where, err[-600:]))
    rd = st.get("redis", {})
    check(rd.get("spool_damaged") == 1 and rd.get("lost") == 1 and where in rd.get("spool_damage", ""),
          "--stats redis: %s" % {k2: rd.get(k2) for k2 in ("spool_damaged", "lost", "spool_damage")})
    check(hash_.get("redis.spool_damaged") == "1" and hash_.get("redis.lost") == "1",
          "stats hash: spool_damaged %s, lost %s"
          % (hash_.get("redis.spool_damaged"), hash_.get("redis.lost")))
    return "%d of %d alerts delivered around the damage at %s; exit 4" % (len(ids), len(alerts), where)


def t_replay_pipelined(env):
    """Alerts spooled while Redis was down are replayed in pipelined
    batches, as live delivery is, in order: a server that counts its turns
    (reads bringing XADDs, each answered at once) sees a few, not one per
    alert."""
    port = free_port()
    conf = env.config("redis://127.0.0.1:%d/0" % port)
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args))
    expect_left_in_spool(rc, err, len(alerts))
    fake = FakeRedis()
    try:
        conf = env.config("redis://127.0.0.1:%d/0" % fake.port)
        rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    finally:
        fake.stop()
    expect_rc(rc, 0, err)
    got = [rec_id(f) for f in fake.xadds]
    check(got == [a for a, _, _ in alerts], "replayed %d of %d alerts, or out of order"
          % (len(got), len(alerts)))
    # a turn is one read of up to 64 KiB: the count follows the alerts'
    # size, so the bound is on alerts per turn, far from one each
    check(fake.turns * 10 <= len(alerts), "%d alerts replayed in %d round trips (fewer than 10 "
          "a round trip)" % (len(alerts), fake.turns))
    return "%d alerts replayed in %d round trips" % (len(alerts), fake.turns)


def spool_ids(spool_dir):
    return [rec_id(json.loads(r)) for r in spool_records(spool_dir)]


def t_trickle(env):
    """A server that answers one byte every 1.5 s, with flush_timeout = 3:
    the run ends within flush_timeout + 3 s (every exchange has a total
    deadline, not a per-read one), every alert in the spool, exit 3."""
    fake = TrickleRedis(1.5)
    try:
        conf = env.config("redis://127.0.0.1:%d/0" % fake.port, flush_timeout=3)
        rc, err, alerts, secs = env.run(conf, vendor_pcaps(env.args)[:4], timeout=60)
    finally:
        fake.stop()
    check(alerts, "no alerts")
    expect_rc(rc, EXIT_UNDELIVERED, err)
    check(secs <= 3 + 3, "the run took %.1f s with flush_timeout = 3" % secs)
    check(sorted(spool_ids(env.spool)) == sorted(a for a, _, _ in alerts),
          "the spool holds %d records for %d alerts" % (len(spool_records(env.spool)), len(alerts)))
    check(fake.xadds, "the sensor never sent an alert to the trickling server")
    return "%d alerts: %.1f s, all in the spool" % (len(alerts), secs)


def t_huge_reply(env):
    """Replies that declare 2147483647 elements, or a 100 GB string: the
    sensor refuses them at once (bounded sizes), names the server, keeps
    every alert in the spool, ends within flush_timeout + 3 s."""
    out = []
    for reply in (b"*2147483647\r\n", b"$99999999999\r\nab"):
        fake = FakeRedis()
        fake.first_reply = reply
        try:
            conf = env.config("redis://127.0.0.1:%d/0" % fake.port, flush_timeout=3)
            rc, err, alerts, secs = env.run(conf, vendor_pcaps(env.args)[:2], timeout=60)
        finally:
            fake.stop()
        check(alerts, "no alerts")
        expect_rc(rc, EXIT_UNDELIVERED, err)
        check(secs <= 3 + 3, "%r: the run took %.1f s" % (reply[:12], secs))
        check("127.0.0.1:%d" % fake.port in err and "declares" in err,
              "%r: no clear error: %s" % (reply[:12], summary_line(err)))
        out.append("%s refused in %.1f s" % (reply[:12].decode().strip(), secs))
        shutil.rmtree(env.spool)
    return ", ".join(out)


def t_sigterm(env):
    """SIGTERM, then SIGINT, while Redis trickles its replies: an offline
    run ends within a few seconds, every alert in the spool (flush_timeout
    is 60 s: the signal, not the timeout, ends the wait); as root, a live
    capture on lo too."""
    out = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        fake = TrickleRedis(1.5)
        try:
            conf = env.config("redis://127.0.0.1:%d/0" % fake.port, flush_timeout=60)
            header, caps = pcap_stream(vendor_pcaps(env.args)[:4])
            cmd, alerts_path = env.sensor_cmd(conf, ["-"])
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            try:
                proc.stdin.write(header + b"".join(b"".join(r) for r in caps))
                proc.stdin.flush()
                wait_for("the sensor to connect", lambda: fake.accepted, 10.0)
                time.sleep(1.0)  # alerts queued, an exchange in progress
                t0 = time.monotonic()
                proc.send_signal(sig)
                try:
                    _, err = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    raise TestFailure("%s: still running 30 s after the signal" % sig.name)
                secs = time.monotonic() - t0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        finally:
            fake.stop()
        err = err.decode(errors="replace")
        alerts = read_alerts(alerts_path)
        check(alerts, "no alerts")
        check(secs <= 5, "%s: the sensor took %.1f s to end" % (sig.name, secs))
        expect_rc(proc.returncode, EXIT_UNDELIVERED, err)
        spooled = sorted(spool_ids(env.spool))
        check(spooled == sorted(a for a, _, _ in alerts),
              "%s: the spool holds %d records for %d alerts" % (sig.name, len(spooled), len(alerts)))
        out.append("%s: %.1f s, %d alerts spooled" % (sig.name, secs, len(alerts)))
        shutil.rmtree(env.spool)
    if os.geteuid() == 0:  # live capture on lo: the same bound
        fake = TrickleRedis(1.5)
        try:
            conf = env.config("redis://127.0.0.1:%d/0" % fake.port, flush_timeout=60)
            cmd = [env.args.sensor, "-c", conf, "-i", "lo", "--stats-interval", "0"]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            try:
                wait_for("the live sensor to connect", lambda: fake.accepted, 10.0)
                time.sleep(1.0)
                t0 = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                try:
                    _, err = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    raise TestFailure("live: still running 30 s after SIGTERM")
                secs = time.monotonic() - t0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        finally:
            fake.stop()
        check(secs <= 5, "live: the sensor took %.1f s to end after SIGTERM" % secs)
        check(proc.returncode in (0, EXIT_UNDELIVERED), "live: exit %d: %s"
              % (proc.returncode, err.decode(errors="replace")[-400:]))
        out.append("live SIGTERM: %.1f s" % secs)
    return ", ".join(out)


def t_disk_full(env):
    """The spool's file system full (a 256 KiB tmpfs the test mounts): a run
    says so, naming the path (not "spool full"), counts the refused alerts
    and exits 4; the next start does not fail on it: it delivers the spool
    and frees the space. Needs root (CI runs as root: never skipped there)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            raise TestFailure("needs root to mount a tmpfs, and CI must run this test")
        return "skipped: not root"
    fs = os.path.join(env.tmp, "fs")
    os.mkdir(fs)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", fs],
                       stderr=subprocess.PIPE, check=False)
    check(r.returncode == 0, "mount tmpfs: %s" % r.stderr.decode(errors="replace").strip())
    try:
        spool = os.path.join(fs, "spool")
        port = free_port()
        conf = env.config("redis://127.0.0.1:%d/0" % port, spool_dir=spool)
        rc, err, first, _ = env.run(conf, vendor_pcaps(env.args))
        expect_left_in_spool(rc, err, len(first))
        fd = os.open(os.path.join(fs, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # the rest of the disk
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        rc, err, more, st = run_stats(env, conf, vendor_pcaps(env.args)[:3])
        expect_rc(rc, 4, err)
        check(more, "no alerts in the second run")
        check("No space left on device" in err and spool in err,
              "no disk-full error naming %s: %s" % (spool, err[-800:]))
        check("spool_max_bytes" not in err and "full spool" not in err,
              "a full disk reported as a full spool: %s" % err[-800:])
        rd = st.get("redis", {})
        refused = rd.get("spool_disk_full", 0)
        check(refused > 0 and refused + rd.get("spooled", 0) == len(more)
              and rd.get("spool_refused") == 0,
              "--stats redis: spool_disk_full %s, spooled %s, spool_refused %s for %d alerts"
              % (refused, rd.get("spooled"), rd.get("spool_refused"), len(more)))

        free_before = os.statvfs(fs).f_bfree
        srv = env.redis(port=port)
        rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
        expect_rc(rc, 0, err)
        c = srv.client()
        dups = expect_all_delivered(c, first, "from the full disk")
        c.close()
        freed = (os.statvfs(fs).f_bfree - free_before) * os.statvfs(fs).f_frsize
        check(freed > 0 and not any(n.endswith(".log") for n in os.listdir(spool)),
              "the spool was not freed: %s, %d bytes freed" % (os.listdir(spool), freed))
    finally:
        subprocess.run(["umount", "-l", fs], check=False)
    return "%d of %d alerts refused on a full disk (exit 4), then %d delivered (%d duplicates), " \
        "%d KiB freed" % (refused, len(more), len(first), dups, freed // 1024)


class RefusingRedis(FakeRedis):
    """A FakeRedis that refuses for good (as Redis does an argument above
    proto-max-bulk-len) the XADD of every alert whose id ends in 0 or 8."""

    def xadd_reply(self, fields):
        if (rec_id(fields) or "")[-1:] in ("0", "8"):
            return b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        return FakeRedis.xadd_reply(self, fields)


def t_refused_by_redis(env):
    """Alerts Redis refuses for good are not retried forever nor lost
    silently: counted (redis_refused, lost) in the summary, --stats and the
    stats hash, exit 4; the others delivered in order; nothing spooled."""
    fake = RefusingRedis()
    try:
        conf = env.config("redis://127.0.0.1:%d/0" % fake.port)
        rc, err, alerts, st = run_stats(env, conf, vendor_pcaps(env.args))
    finally:
        fake.stop()
    refused = [a for a, _, _ in alerts if a[-1:] in ("0", "8")]
    check(refused, "no alert id ends in 0 or 8: pick other digits")
    expect_rc(rc, 4, err)
    got = [rec_id(f) for f in fake.xadds]
    check(got == [a for a, _, _ in alerts if a not in refused],
          "the stream holds %d alerts, expected the %d not refused, in order"
          % (len(got), len(alerts) - len(refused)))
    rd = st.get("redis", {})
    check(rd.get("redis_refused") == len(refused) and rd.get("lost") == len(refused)
          and rd.get("undelivered") == 0,
          "--stats redis: %s" % {k: rd.get(k) for k in ("redis_refused", "lost", "undelivered")})
    check("%d alerts LOST" % len(refused) in err and "refused by Redis for good" in err,
          "the summary does not report them: %s" % err[-600:])
    h = fake.hsets.get("egress:stats:%s" % SENSOR_NAME, {})
    check(h.get("redis.redis_refused") == str(len(refused))
          and h.get("redis.lost") == str(len(refused)),
          "stats hash: redis_refused %s, lost %s"
          % (h.get("redis.redis_refused"), h.get("redis.lost")))
    check(not spool_records(env.spool) if os.path.isdir(env.spool) else True,
          "refused alerts were spooled (they would be retried forever)")
    return "%d of %d alerts refused by Redis, counted; exit 4" % (len(refused), len(alerts))


def t_oversized_alert(env):
    """An alert too large to format (a 40000-byte product name) is counted
    as lost (refused_large) in the summary, --stats and the stats hash, and
    the run fails (exit 1: the --alerts file could not take it either, which
    comes before 4); the other alerts are delivered."""
    sigs = os.path.join(env.tmp, "signatures")
    shutil.copytree(env.args.signatures, sigs)
    path = os.path.join(sigs, "avast.conf")
    with open(path) as fp:
        text = fp.read()
    text = re.sub(r'product = "[^"]*";', 'product = "%s";' % ("A" * 40000), text, count=1)
    with open(path, "w") as fp:
        fp.write(text)
    srv = env.redis()
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    with open(conf) as fp:
        text = fp.read().replace(cfg_str(os.path.abspath(env.args.signatures)), cfg_str(sigs))
    with open(conf, "w") as fp:
        fp.write(text)
    pcaps = [p for p in vendor_pcaps(env.args) if "avast" in p or "eset" in p]
    rc, err, alerts, st = run_stats(env, conf, pcaps)
    if rc == 2:
        return "the pack is refused at load (strings bounded there): %s" % err.strip()[-120:]
    check(rc in (1, 4), "exit %d, expected 1 or 4: %s" % (rc, err[-400:]))
    rd = st.get("redis", {})
    big = rd.get("refused_large", 0)
    check(big >= 1 and rd.get("lost") == big,
          "--stats redis: %s" % {k: rd.get(k) for k in ("refused_large", "lost", "delivered")})
    check("alerts LOST" in err and "too large" in err, "summary: %s" % err[-600:])
    c = srv.client()
    h = pairs(c.cmd("HGETALL", "egress:stats:%s" % SENSOR_NAME))
    n = c.cmd("XLEN", STREAM)
    c.close()
    check(h.get("redis.refused_large") == str(big),
          "stats hash refused_large %s" % h.get("redis.refused_large"))
    check(n == len(alerts) and n > 0, "%d alerts in the stream, %d in the file" % (n, len(alerts)))
    return "%d oversized alerts counted as lost, %d delivered; exit %d" % (big, n, rc)


def t_closed_pipe(env):
    """--alerts - into a pipe whose reader is gone (as `| head`): the run
    is not killed by SIGPIPE; it says so and exits 1, and every alert still
    reaches Redis, the same ones as a run that writes its file."""
    pcaps = vendor_pcaps(env.args)
    ref = env.redis()
    rc, err, alerts, _ = env.run(env.config("redis://127.0.0.1:%d/0" % ref.port), pcaps)
    expect_rc(rc, 0, err)
    c = ref.client()
    want = sorted((f["product"], f["category"], f["src_ip"], f["dest_ip"])
                  for _, f in stream_entries(c) if f.get("event_type") != "asset")
    c.close()
    n_alerts = sum(1 for _, _, r in alerts if r.get("event_type") == "alert")
    check(len(want) == n_alerts and want, "reference: %d in Redis, %d in the file"
          % (len(want), n_alerts))
    srv = env.redis()
    cmd, _ = env.sensor_cmd(env.config("redis://127.0.0.1:%d/0" % srv.port), pcaps)
    cmd[cmd.index("--alerts") + 1] = "-"
    rd, wr = os.pipe()
    os.close(rd)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=wr, stderr=subprocess.PIPE,
                           timeout=60, check=False)
    finally:
        os.close(wr)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 1 and "standard output" in err,
          "exit %d (1 expected, naming standard output): %s" % (p.returncode, err[-400:]))
    c = srv.client()
    got = sorted((f["product"], f["category"], f["src_ip"], f["dest_ip"])
                 for _, f in stream_entries(c) if f.get("event_type") != "asset")
    c.close()
    check(got == want, "%d alerts in Redis, %d expected" % (len(got), len(want)))
    return "exit 1 naming standard output; %d of %d alerts in Redis" % (len(got), len(want))


def t_password_cmdline(env):
    """The password in --redis does not show in /proc/PID/cmdline (ps) while
    the sensor runs, and still authenticates."""
    srv = env.redis(args=["--requirepass", "right-pw"], password="right-pw")
    conf = env.config("redis://127.0.0.1:%d/0" % free_port())
    header, caps = pcap_stream(vendor_pcaps(env.args)[:3])
    cmd, alerts_path = env.sensor_cmd(conf, ["-"], ["--redis", "redis://:right-pw@127.0.0.1:%d/0"
                                                    % srv.port])
    check("right-pw" in " ".join(cmd), "the test lost its password")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write(header + b"".join(b"".join(r) for r in caps[:1]))
        proc.stdin.flush()
        c = srv.client()
        wait_for("the sensor to connect",
                 lambda: int(pairs_info(c.cmd("INFO", "clients"))["connected_clients"]) > 1, 10.0)
        with open("/proc/%d/cmdline" % proc.pid, "rb") as fp:
            cmdline = fp.read()
        for recs in caps[1:]:
            proc.stdin.write(b"".join(recs))
        _, err = proc.communicate(timeout=30)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = err.decode(errors="replace")
    check(b"right-pw" not in cmdline, "the password shows in /proc/PID/cmdline: %r"
          % cmdline.replace(b"\0", b" "))
    check(b"redis://:********@127.0.0.1" in cmdline, "cmdline: %r" % cmdline.replace(b"\0", b" "))
    expect_rc(proc.returncode, 0, err)
    dups = expect_all_delivered(c, read_alerts(alerts_path), "with the scrubbed URL")
    c.close()
    return "cmdline shows redis://:********@..., alerts delivered (%d duplicates)" % dups


def t_password_sources(env):
    """The password from the environment, redis.password and
    redis.password_file; files open to others refused (exit 2, named); the
    precedence: --redis's, the environment's, the configuration's, redis.url's."""
    srv = env.redis(args=["--requirepass", "right-pw"], password="right-pw")
    url = "redis://127.0.0.1:%d/0" % srv.port
    pcaps = vendor_pcaps(env.args)[:2]
    out = []

    def delivered(rc, err, alerts, what):
        expect_rc(rc, 0, err)
        c = srv.client()
        expect_all_delivered(c, alerts, what)
        c.close()
        out.append(what)

    env_pw = {OUT_ENV: "right-pw"}
    rc, err, alerts, _ = env.run(env.config(url), pcaps, environ=env_pw)
    delivered(rc, err, alerts, "environment")
    # the environment's beats redis.url's, --redis's beats the environment's
    rc, err, alerts, _ = env.run(env.config("redis://:wrong@127.0.0.1:%d/0" % srv.port), pcaps,
                                 environ=env_pw)
    delivered(rc, err, alerts, "environment over redis.url")
    rc, err, _, _ = env.run(env.config(url), pcaps, environ=env_pw,
                            extra=["--redis", "redis://:wrong@127.0.0.1:%d/0" % srv.port])
    check(rc == EXIT_UNDELIVERED and "WRONGPASS" in err, "--redis's password did not win: exit "
          "%d, %s" % (rc, summary_line(err)))
    shutil.rmtree(env.spool)

    conf = env.config(url, password="right-pw")
    os.chmod(conf, 0o600)
    rc, err, alerts, _ = env.run(conf, pcaps)
    delivered(rc, err, alerts, "redis.password")
    os.chmod(conf, 0o644)
    rc, err, _, _ = env.run(conf, pcaps)
    expect_rc(rc, 2, err)
    check(conf in err and "open to others" in err, "no clear refusal: %s" % err.strip())

    pwfile = os.path.join(env.tmp, "redis.pw")
    with open(pwfile, "w") as fp:
        fp.write("right-pw\n")
    os.chmod(pwfile, 0o640)
    conf = env.config(url, password_file=pwfile)
    rc, err, alerts, _ = env.run(conf, pcaps)
    delivered(rc, err, alerts, "redis.password_file")
    os.chmod(pwfile, 0o644)
    rc, err, _, _ = env.run(conf, pcaps)
    expect_rc(rc, 2, err)
    check(pwfile in err and "open to others" in err, "no clear refusal: %s" % err.strip())
    return ", ".join(out) + "; files open to others refused"


def t_config_errors(env):
    """A spool folder that cannot be created: exit 2 naming it and where it
    was set (FILE:LINE: redis.spool_dir, or --spool-dir); a sensor_name
    that would break key names: exit 2 with FILE:LINE."""
    bad = "/proc/egress-sensor-test/spool"
    conf = env.config("redis://127.0.0.1:%d/0" % free_port(), spool_dir=bad)
    with open(conf) as fp:
        line = 1 + fp.read().split("\n").index("  spool_dir = %s;" % cfg_str(bad))
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 2, err)
    where = "%s:%d: redis.spool_dir" % (conf, line)
    check(bad in err and where in err, "no folder and origin (%s) in: %s" % (where, err.strip()))
    rc, err, _, _ = env.run(env.config("redis://127.0.0.1:%d/0" % free_port()),
                            [decoy_pcap(env.args)], extra=["--spool-dir", bad])
    expect_rc(rc, 2, err)
    check(bad in err and "--spool-dir" in err, "no folder and origin in: %s" % err.strip())

    conf = env.config("redis://127.0.0.1:%d/0" % free_port())
    with open(conf) as fp:
        text = fp.read()
    with open(conf, "w") as fp:
        fp.write(text.replace('sensor_name = "%s";' % SENSOR_NAME, 'sensor_name = "gw:1 *";'))
    rc, err, _, _ = env.run(conf, [decoy_pcap(env.args)])
    expect_rc(rc, 2, err)
    check("%s:1: sensor_name" % conf in err, "no FILE:LINE for sensor_name: %s" % err.strip())
    return "spool folder named with its origin; sensor_name refused at %s:1" % os.path.basename(conf)


def t_outage_logged(env):
    """Redis killed while the sensor runs, then back: the sensor logs each
    change when it happens (connected, lost, spooling, back, replaying,
    spool empty), not only at exit; at the end every alert is delivered, the
    summary and --stats count them all and show the last error as past."""
    import threading
    srv = env.redis(args=["--appendonly", "yes", "--appendfsync", "always"])  # survives the kill
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port, flush_timeout=10,
                      command_timeout_ms=500)
    header, caps = pcap_stream(vendor_pcaps(env.args))
    half = len(caps) // 2
    stats_path = os.path.join(env.tmp, "stats-outage.json")
    cmd, alerts_path = env.sensor_cmd(conf, ["-"], ["--stats", stats_path])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    lines = []

    def reader():
        for raw in proc.stderr:
            lines.append(raw.decode(errors="replace").rstrip("\n"))

    t = threading.Thread(target=reader, daemon=True)
    t.start()

    def logged(word):
        return any("redis:" in l and word in l for l in lines)

    try:
        c = srv.client()
        proc.stdin.write(header + b"".join(b"".join(r) for r in caps[:half]))
        proc.stdin.flush()
        wait_for("the first alerts", lambda: c.cmd("XLEN", STREAM), 10.0)
        c.close()
        check(logged("connected to"), "no \"connected\" line while running: %s" % lines)
        srv.stop(kill=True)
        for recs in caps[half:]:
            proc.stdin.write(b"".join(recs))
            proc.stdin.flush()
            time.sleep(0.05)
        wait_for("a \"lost\" line while the sensor runs", lambda: logged(" lost "), 10.0)
        wait_for("a spooling line", lambda: logged("alerts go to the spool"), 10.0)
        srv.start()
        wait_for("a \"connected again\" line", lambda: logged("again, after"), 10.0)
        wait_for("a replay line", lambda: logged("replaying"), 10.0)
        proc.stdin.close()
        proc.wait(timeout=30)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    t.join(5)
    err = "\n".join(lines)
    expect_rc(proc.returncode, 0, err)
    check(logged("the spool is empty again"), "no \"spool empty\" line: %s" % lines)
    alerts = read_alerts(alerts_path)
    c = srv.client()
    ids = stream_ids(c)
    c.close()
    check(not [a for a, _, _ in alerts if a not in ids], "alerts missing from the stream")
    with open(stats_path) as fp:
        rd = json.load(fp)["redis"]
    check(rd["delivered"] >= len(alerts) and rd["undelivered"] == 0 and rd["lost"] == 0,
          "--stats redis: %s" % {k: rd[k] for k in ("delivered", "undelivered", "lost")})
    check(rd["last_error"] and rd["last_error_past"] is True,
          "--stats: last error %r not marked past" % rd["last_error"])
    check("nothing left in the spool" in err and "(past: delivery worked after it)" in err,
          "summary: %s" % [l for l in lines if "redis" in l or "last error" in l])
    order = [w for w in ("connected to", " lost ", "alerts go to the spool", "again, after",
                         "replaying", "the spool is empty again") if logged(w)]
    return "logged while running: %s" % " / ".join(w.strip() for w in order)


def t_heartbeat(env):
    """While the sensor runs the heartbeat is its time with a TTL of three
    stats intervals (it expires when the sensor dies); a clean stop leaves
    "stopped <time>" without a TTL."""
    srv = env.redis()
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    header, caps = pcap_stream(vendor_pcaps(env.args)[:2])
    cmd, _ = env.sensor_cmd(conf, ["-"])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    hb = "egress:heartbeat:%s" % SENSOR_NAME
    c = srv.client()
    try:
        proc.stdin.write(header + b"".join(b"".join(r) for r in caps))
        proc.stdin.flush()
        wait_for("the heartbeat", lambda: c.cmd("GET", hb), 10.0)
        running, ttl = c.cmd("GET", hb), c.cmd("TTL", hb)
        _, err = proc.communicate(timeout=30)  # closes stdin: end of the capture
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    expect_rc(proc.returncode, 0, err.decode(errors="replace"))
    check(re.match(r"\d{4}-\d\d-\d\dT", running) and 0 < ttl <= 3 * STATS_INTERVAL,
          "while running: %r, TTL %s" % (running, ttl))
    stopped, ttl2 = c.cmd("GET", hb), c.cmd("TTL", hb)
    c.close()
    check(stopped.startswith("stopped ") and ttl2 == -1, "after the stop: %r, TTL %s"
          % (stopped, ttl2))
    return "running: TTL %d s; stopped: %r, no TTL" % (ttl, stopped)


def t_inventory_merge(env):
    """The inventory hash merges across runs: a host seen again keeps its
    first_seen, its counts add up, its products and countries unite; a
    host of an earlier run only is kept. --assets stays the run's own."""
    srv = env.redis()
    conf = env.config("redis://127.0.0.1:%d/0" % srv.port)
    pcaps = vendor_pcaps(env.args)
    key = "egress:assets:%s" % SENSOR_NAME
    c = srv.client()
    rc, err, _, _ = env.run(conf, pcaps[:3])
    expect_rc(rc, 0, err)
    first = {h: json.loads(v) for h, v in pairs(c.cmd("HGETALL", key)).items()}
    check(first, "no inventory after the first run")
    assets2 = os.path.join(env.tmp, "assets2.json")
    rc, err, _, _ = env.run(conf, pcaps[:3] + pcaps[3:5], extra=["--assets", assets2])
    expect_rc(rc, 0, err)
    second = {h: json.loads(v) for h, v in pairs(c.cmd("HGETALL", key)).items()}
    c.close()
    with open(assets2) as fp:
        run2 = {h["host"]: h for h in json.load(fp)["hosts"]}
    check(set(first) <= set(second) and len(second) > len(first),
          "hosts: %d then %d" % (len(first), len(second)))
    for h, rec in first.items():
        got, own = second[h], run2[h]
        for k in ("flows", "bytes_out", "alerts"):
            check(got[k] == rec[k] + own[k], "%s %s: %s, expected %s + %s" % (h, k, got[k], rec[k], own[k]))
        check(got["first_seen"] == min(rec["first_seen"], own["first_seen"]),
              "%s first_seen %s" % (h, got["first_seen"]))
        check(own["flows"] == rec["flows"], "%s: --assets is not the run's own" % h)
        for p in got["products"]:
            old = [q for q in rec["products"] if (q["vendor"], q["product"]) == (p["vendor"], p["product"])]
            if old:
                check(p["flows"] == 2 * old[0]["flows"], "%s %s flows %s" % (h, p["product"], p["flows"]))
    return "%d hosts merged (counts added, first_seen kept), %d new" % (
        len(first), len(second) - len(first))


def t_quiet_left(env):
    """With -q, exit 3 still says in one line how many alerts were left in
    which spool."""
    conf = env.config("redis://127.0.0.1:%d/0" % free_port())
    rc, err, alerts, _ = env.run(conf, vendor_pcaps(env.args)[:2], extra=["-q"])
    expect_rc(rc, EXIT_UNDELIVERED, err)
    want = "%d alerts left in the spool %s" % (len(alerts), env.spool)
    line = [l for l in err.splitlines() if want in l]
    check(len(line) == 1, "no line \"%s\" in: %s" % (want, err.strip()))
    return line[0]

TESTS = [
    ("delivery", t_delivery),
    ("down-at-start", t_down_at_start),
    ("killed-midway", t_killed_midway),
    ("oom", t_oom),
    ("wrong-password", t_wrong_password),
    ("unreachable", t_unreachable),
    ("garbage", t_garbage),
    ("acl-user", t_acl_user),
    ("unix-socket", t_unix_socket),
    ("sentinel", t_sentinel),
    ("sentinel-failover", t_sentinel_failover),
    ("legacy-spool", t_legacy_spool),
    ("spool-damage", t_spool_damage),
    ("replay-pipelined", t_replay_pipelined),
    ("trickle", t_trickle),
    ("huge-reply", t_huge_reply),
    ("sigterm", t_sigterm),
    ("disk-full", t_disk_full),
    ("refused-by-redis", t_refused_by_redis),
    ("oversized-alert", t_oversized_alert),
    ("closed-pipe", t_closed_pipe),
    ("password-cmdline", t_password_cmdline),
    ("password-sources", t_password_sources),
    ("config-errors", t_config_errors),
    ("outage-logged", t_outage_logged),
    ("heartbeat", t_heartbeat),
    ("inventory-merge", t_inventory_merge),
    ("quiet-left", t_quiet_left),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", default=os.path.join(ROOT, "build", "egress-sensor"),
                    help="the egress-sensor binary (default: build/egress-sensor)")
    ap.add_argument("--geo", default=os.path.join(ROOT, "build", "tests", "geo"),
                    help="folder with the test databases (default: build/tests/geo)")
    ap.add_argument("--signatures", default=SIGNATURES, help="signature pack folder")
    ap.add_argument("--pcaps", default=PCAPS, help="capture folder (default: pcaps/detect)")
    ap.add_argument("--redis-server", default=shutil.which("redis-server"),
                    help="the redis-server binary (default: from PATH)")
    ap.add_argument("names", nargs="*", help="only these tests")
    args = ap.parse_args()

    todo = [(n, f) for n, f in TESTS if not args.names or n in args.names]
    if not args.redis_server or not os.access(args.redis_server, os.X_OK):
        return testlib.cannot_run("redis", "redis-server is not installed (apt-get install "
                                  "redis-server)", len(todo))
    problems = []
    if not os.access(args.sensor, os.X_OK):
        problems.append("%s: not found (run make)" % args.sensor)
    for f in ("country-dbip.mmdb", "asn.mmdb"):
        if not os.path.exists(os.path.join(args.geo, f)):
            problems.append("%s: missing (make builds it)" % os.path.join(args.geo, f))
    if problems:
        for p in problems:
            print("redis: %s" % p)
        print("0 passed, %d failed" % len(todo))
        return 1

    passed = failed = 0
    t_all = time.monotonic()
    for name, fn in todo:
        env = Env(args, name)
        t0 = time.monotonic()
        try:
            detail = fn(env)
            passed += 1
            print("  ok   %-15s %s (%.1f s)" % (name, detail, time.monotonic() - t0))
        except TestFailure as e:
            failed += 1
            print("  FAIL %-15s %s" % (name, e))
        except Exception as e:  # a broken test is a failure, not a crash
            failed += 1
            print("  FAIL %-15s %s: %s" % (name, type(e).__name__, e))
        finally:
            env.close()
        sys.stdout.flush()
    print()
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t_all))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
