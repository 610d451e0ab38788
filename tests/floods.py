#!/usr/bin/env python3
"""Flood tests: hostile traffic against the sensor's bounds and its memory formula.

Generates six captures (seeded: every run writes the same bytes) into a
temporary directory and runs the sensor on each with small bounds
(flow.max_flows 4096, flow.max_fragments 512, dns.cache_size 1024,
alerts.max_tracked 256):

  syn     50000 TCP SYNs from random sources, inside and outside home_net,
          to random ports on a few servers: one new flow per packet;
  udp     50000 UDP datagrams with random payloads to random ports: the
          same, with nDPI state held by every flow (one packet is never
          enough to classify);
  frag    20000 IPv4 first fragments with random identifications, 30%
          completed at once, 10% completed 2000 trains later, the rest
          never; and later fragments whose first fragment never came;
  dns     20000 DNS queries from one inside client, each answered with one
          or two A (or AAAA) records binding a random name to random
          addresses, with random TTLs;
  alerts  an alert storm: 2000 inside hosts each open a connection to a
          FortiGuard Distribution Server (a low-confidence signature), then
          the last 100 of them again, so the de-duplication keys overflow;
  tls     2000 TLS connections open at once, each client announcing a
          65520-byte handshake record and sending 12 full segments of it:
          nDPI's reassembly buffer of every flow grows (flow.dpi_packets.tcp
          is 16 here, which bounds that growth).

Into each capture, at its start, middle and end, the flows of
pcaps/detect/vendor-fortinet.pcap are copied (timestamps moved onto the
flood's timeline, each copy from its own inside hosts), and into the DNS
flood also those of pcaps/detect/feature-dns-binding.pcap, whose alerts
depend on bindings learned from DNS answers. Their alerts, as listed in
tests/detection.json, must all come out, and no other alert.

Checked from --stats: the flow table never holds more than flow.max_flows
flows and evicts with reason "table-full" (every ended flow is counted
under one reason); at most max_flows nDPI states; the fragment table's
first, later, attributed, orphaned, evicted and expired counts equal those
of an exact model of a max_fragments-train LRU table; every DNS response
and binding is counted; de-duplication keys are evicted and counted and
repeats of tracked keys suppressed; no decode error on these well-formed
packets; and the peak RSS is within the formula of README "Memory bound and
floods", with the base measured here on an empty capture. The syn, udp,
frag and dns floods run again with four times the bounds: peak RSS must
grow, by no more than the formula's terms grow, and stay within the
formula.

A figure --stats does not give is printed as a TODO line, not counted as
passed. Prints a table, then "N passed, M failed"; exits 1 on any failure.

  python3 tests/floods.py --sensor build/egress-sensor --geo build/tests/geo
  python3 tests/floods.py ... --scale 10 --no-rerun   # benchmark size
"""

import argparse
import collections
import heapq
import ipaddress
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from testlib import cfg_str  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DETECT = os.path.join(ROOT, "pcaps", "detect")
MANIFEST = os.path.join(HERE, "detection.json")
SIGNATURES = os.path.join(ROOT, "config", "signatures")

SEED = 20231114
T0_US = 1700000000 * 1000000  # 2023-11-14 22:13:20 UTC, as the detection captures

# The test's bounds (x4 for the second run of each flood).
BOUNDS = {"max_flows": 4096, "max_fragments": 512, "dns_cache": 1024, "max_tracked": 256}

# Flood sizes at --scale 1, and packet rates (packet time).
N_SYN = 50000
N_UDP = 50000
N_FRAG = 20000
N_DNS = 20000
N_STORM_HOSTS = 2000
N_STORM_REPEAT = 100
RATE_PPS = 10000
FRAG_TIMEOUT_S = 30  # sensor/pipeline.c FRAG_TIMEOUT_S

# ---------------------------------------------------------------- memory formula
#
# Bytes per unit of each bounded structure, from the code (README "Memory
# bound and floods" derives each one). The flow term comes from --stats
# (flows.bytes_per_flow); the lru-map terms depend on the bucket count.
B_DPI_STATE = 688 + 16        # struct ndpi_flow_struct (nDPI 4.2) + malloc header
TLS_BUF0 = 2048 + 16          # nDPI's TLS reassembly buffer as first allocated
TLS_RECORD_MAX = 65535 + 5    # the longest TLS record nDPI reassembles
B_DNS = 324                   # dns_cache_entry_bytes(): entry 312 + heap 4 + buckets 8
LRU_HDR = 16                  # struct ent_hdr in sensor/lru-map.c
FRAG_KEY, FRAG_VAL = 40, 16   # struct frag_key, struct frag_val (sensor/frag.c)
DEDUP_KEY, DEDUP_VAL = 24, 16  # struct dedup_key, struct dedup_val (sensor/alerts.c)
HOST_KEY, HOST_VAL = 20, 2112  # struct host_key, struct host_rec (sensor/assets.c)
ASSETS_MAX_HOSTS = 16384      # sensor/main.c
JA4_POOL_BUFS = 256           # sensor/ja4.h, one worker
JA4_MIN_PER_WORKER = 64       # pipeline_new_share(): SHARE_MIN_FLOWS
B_HELLO = 16568               # ja4_buf_bytes(): one JA4 assembly buffer
# Each worker beyond the first (README "Memory bound"): its own nDPI
# detection module, classifier and detector (B_WORKER, measured: the peak
# RSS of an empty capture grows by about 5.7 MiB a worker), and, reading
# files, its eight 512 KiB frame batches (B_BATCHES).
B_WORKER_KB = 6144
B_BATCHES_KB = 8 * 512
N_WORKERS = 8                 # the floods run again with this many workers
# Headroom over the formula: the heap's own bookkeeping and fragmentation
# (glibc keeps freed chunks for reuse, so nDPI's short-lived allocations
# leave some resident), page rounding of each pool, stdio buffers of the
# outputs, and the geo database pages lookups touch, which the
# empty-capture base does not see.
MARGIN_KB = 2048
MARGIN_FRAC = 0.05


def round8(n):
    return (n + 7) & ~7


def pow2_at_least(n, floor):
    nb = floor
    while nb < n and nb < (1 << 31):
        nb <<= 1
    return nb


def lru_entry_bytes(max_entries, key_len, val_len):
    """Bytes of one sensor/lru-map.c entry: header, key and value rounded to 8,
    and its share of the bucket array (a power of two, at least 16)."""
    ent = round8(LRU_HDR) + round8(key_len) + round8(val_len)
    return ent + pow2_at_least(max_entries, 16) * 4 / max_entries


def flow_entry_bytes(max_flows):
    """flow_bytes_per_flow() of sensor/flow.c (struct flow is 544 bytes)."""
    return 544 + pow2_at_least(max_flows, 1024) * 4 / max_flows


def tls_buf_max(dpi_packets_tcp, payload):
    """The most one flow's TLS reassembly buffer can hold: it grows by one
    packet at a time while nDPI inspects the flow, and no further than one
    record plus the packet that completes it."""
    return min(TLS_RECORD_MAX + payload + 1, TLS_BUF0 + dpi_packets_tcp * (payload + 1))


def formula_terms(b, bytes_per_flow=None, tls_buf=TLS_BUF0, workers=1):
    """The configurable terms of the bound, in bytes, by name. tls_buf is
    what one flow's TLS reassembly buffer is taken to hold. Reading files
    with several workers, each worker keeps a DNS cache of its own (every
    answer reaches every worker) and at least 64 JA4 buffers."""
    bpf = bytes_per_flow if bytes_per_flow else flow_entry_bytes(b["max_flows"])
    ja4 = JA4_POOL_BUFS if workers == 1 else JA4_POOL_BUFS + JA4_MIN_PER_WORKER * workers
    return collections.OrderedDict([
        ("workers", (workers - 1) * (B_WORKER_KB + B_BATCHES_KB) * 1024),
        ("flows", b["max_flows"] * bpf),
        ("dpi", b["max_flows"] * (B_DPI_STATE + tls_buf)),
        ("dns", b["dns_cache"] * B_DNS * workers),
        ("frag", b["max_fragments"] * lru_entry_bytes(b["max_fragments"], FRAG_KEY, FRAG_VAL)),
        ("dedup", b["max_tracked"] * lru_entry_bytes(b["max_tracked"], DEDUP_KEY, DEDUP_VAL)),
        ("hosts", ASSETS_MAX_HOSTS * lru_entry_bytes(ASSETS_MAX_HOSTS, HOST_KEY, HOST_VAL)),
        ("ja4", ja4 * B_HELLO),
    ])


def formula_kb(base_kb, b, bytes_per_flow=None, tls_buf=TLS_BUF0, workers=1):
    return base_kb + sum(formula_terms(b, bytes_per_flow, tls_buf, workers).values()) / 1024.0


def allowed_kb(base_kb, b, bytes_per_flow=None, tls_buf=TLS_BUF0, workers=1):
    return formula_kb(base_kb, b, bytes_per_flow, tls_buf, workers) * (1 + MARGIN_FRAC) + MARGIN_KB


# ---------------------------------------------------------------- pcap files


class PcapWriter:
    """Classic pcap, Ethernet, microsecond timestamps."""

    def __init__(self, path):
        self.fp = open(path, "wb")
        self.fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.count = 0

    def write(self, ts_us, frame):
        self.fp.write(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(frame),
                                  len(frame)))
        self.fp.write(frame)
        self.count += 1

    def close(self):
        self.fp.close()


def read_pcap(path):
    """[(ts_us, frame)] of a classic pcap file with Ethernet frames."""
    with open(path, "rb") as fp:
        data = fp.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
        magic = struct.unpack(">I", data[:4])[0]
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    nsec = magic == 0xA1B23C4D
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, expected Ethernet" % (path, linktype))
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:
            raise ValueError("%s: truncated record" % path)
        out.append((sec * 1000000 + (frac // 1000 if nsec else frac), frame))
    return out


# ---------------------------------------------------------------- packets

MAC_GW = bytes.fromhex("00005e000101")
MAC_HOST = bytes.fromhex("005056329e72")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(src, dst, proto, seg):
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    c = csum(pseudo + seg)
    return c if c or proto != 17 else 0xFFFF


def eth(payload, ethertype=0x0800):
    return MAC_GW + MAC_HOST + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=0, frag=0x4000):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                      src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, src, dst) + payload


def tcp_seg(src, dst, sport, dport, seq, ack, flags, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload
    return seg[:16] + struct.pack("!H", l4_csum(src, dst, 6, seg)) + seg[18:]


def udp_seg(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(src, dst, 17, seg)
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def ip_packet(src, dst, proto, seg):
    if len(src) == 4:
        return eth(ipv4(src, dst, proto, seg))
    return eth(ipv6(src, dst, proto, seg), 0x86DD)


def syn(src, dst, sport, dport, seq):
    return ip_packet(src, dst, 6, tcp_seg(src, dst, sport, dport, seq, 0, 0x02))


def udp(src, dst, sport, dport, payload):
    return ip_packet(src, dst, 17, udp_seg(src, dst, sport, dport, payload))


# ---------------------------------------------------------------- DNS


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def dns_query(ident, name, qtype):
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + dns_name(name) + \
        struct.pack("!HH", qtype, 1)


def dns_response(ident, name, qtype, answers):
    """answers: [(ttl, rdata)] of type qtype, owned by the question's name."""
    msg = struct.pack("!HHHHHH", ident, 0x8180, 1, len(answers), 0, 0) + dns_name(name) + \
        struct.pack("!HH", qtype, 1)
    for ttl, rdata in answers:
        msg += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, ttl, len(rdata)) + rdata
    return msg


# ---------------------------------------------------------------- addresses

HOME_NET = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")]
SERVERS = [ipaddress.ip_address(a).packed for a in (
    "10.9.0.1", "10.9.0.2", "198.51.100.10", "203.0.113.20")]
RESOLVER = ipaddress.ip_address("10.0.0.53").packed
DNS_CLIENT = ipaddress.ip_address("10.3.0.10").packed
FDS_SERVER = ipaddress.ip_address("208.91.112.70").packed  # Fortinet AS40934, TCP 8890


def rand_outside(rng):
    while True:
        a = ipaddress.ip_address(rng.getrandbits(32))
        if 1 <= a.packed[0] <= 223 and a.packed[0] != 127 and \
                not any(a in n for n in HOME_NET):
            return a.packed


def rand_inside(rng):
    # 10.32.0.0-10.255.255.255: clear of the resolver (10.0), the copied
    # phone-home hosts (10.1, 10.6), the DNS client (10.3), the alert storm
    # (10.4) and the servers (10.9).
    return bytes([10, rng.randrange(32, 256), rng.randrange(256), rng.randrange(1, 255)])


def rand_source(rng):
    return rand_inside(rng) if rng.random() < 0.5 else rand_outside(rng)


# ---------------------------------------------------------------- phone-home copies


def remap_v4(a, copy):
    """10.1.0.x and 10.6.0.x (the capture's inside hosts) -> 10.1.C.x, 10.6.C.x."""
    if a[0] == 10 and a[1] in (1, 6) and a[2] == 0:
        return bytes([10, a[1], 10 + copy, a[3]])
    return a


def remap_v6(a, copy):
    """fd00:6::/64 -> fd00:6:0:C::/64."""
    if a[:8] == bytes.fromhex("fd00000600000000"):
        return a[:6] + struct.pack("!H", 10 + copy) + a[8:]
    return a


def remap_text(text, copy):
    a = ipaddress.ip_address(text)
    b = remap_v4(a.packed, copy) if a.version == 4 else remap_v6(a.packed, copy)
    return ipaddress.ip_address(b).compressed


def rewrite(frame, copy):
    """The frame with its inside hosts moved to copy's addresses, checksums
    recomputed. Plain Ethernet, IPv4 or IPv6 without extension headers."""
    etype = struct.unpack("!H", frame[12:14])[0]
    ip = bytearray(frame[14:])
    if etype == 0x0800:
        ihl = (ip[0] & 15) * 4
        src, dst = remap_v4(bytes(ip[12:16]), copy), remap_v4(bytes(ip[16:20]), copy)
        ip[12:16], ip[16:20] = src, dst
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", csum(bytes(ip[:ihl])))
        proto, l4 = ip[9], ihl
        total = struct.unpack("!H", ip[2:4])[0]
        fragmented = struct.unpack("!H", ip[6:8])[0] & 0x3FFF
    elif etype == 0x86DD:
        src, dst = remap_v6(bytes(ip[8:24]), copy), remap_v6(bytes(ip[24:40]), copy)
        ip[8:24], ip[24:40] = src, dst
        proto, l4 = ip[6], 40
        total = 40 + struct.unpack("!H", ip[4:6])[0]
        fragmented = 0
    else:
        raise ValueError("unexpected ethertype 0x%04x in a phone-home capture" % etype)
    off = l4 + (16 if proto == 6 else 6)  # the TCP or UDP checksum
    no_udp_sum = proto == 17 and etype == 0x0800 and ip[off:off + 2] == b"\0\0"
    if proto in (6, 17) and not fragmented and not no_udp_sum:
        ip[off:off + 2] = b"\0\0"
        ip[off:off + 2] = struct.pack("!H", l4_csum(src, dst, proto, bytes(ip[l4:total])))
    return frame[:14] + bytes(ip)


class PhoneHome:
    """A detection capture and the alerts it must raise, copied into floods."""

    def __init__(self, name, manifest):
        self.name = name
        self.packets = read_pcap(os.path.join(DETECT, name))
        self.expected = manifest[name]["alerts"]
        self.span_us = self.packets[-1][0] - self.packets[0][0]

    def copy(self, copy, start_us):
        """[(ts_us, frame)] of copy number `copy` starting at start_us."""
        t0 = self.packets[0][0]
        return [(start_us + ts - t0, rewrite(fr, copy)) for ts, fr in self.packets]

    def keys(self, copy):
        return {(a["vendor"], a["category"], remap_text(a["src_ip"], copy),
                 ipaddress.ip_address(a["dest_ip"]).compressed) for a in self.expected}


def place_copies(phs, start_us, end_us, first_copy=0):
    """Copies of each capture at the start, middle and end of [start, end).
    Returns (packets sorted by time, expected alert keys)."""
    pkts, keys = [], set()
    copy = first_copy
    for ph in phs:
        for at in (start_us + 20000, (start_us + end_us) // 2,
                   max(start_us, end_us - ph.span_us - 20000)):
            pkts.extend(ph.copy(copy, at))
            keys |= ph.keys(copy)
            copy += 1
    pkts.sort(key=lambda p: p[0])
    return pkts, keys


# ---------------------------------------------------------------- floods
#
# Each flood is a generator of (ts_us, frame) in time order, and fills
# `info` with what the checks need.


def gen_new_flows(rng, n, info, proto):
    """n packets, each opening a flow of its own (distinct 5-tuples): TCP
    SYNs, or UDP datagrams with 8 to 64 random bytes."""
    seen = set()
    for i in range(n):
        while True:
            src, dst = rand_source(rng), rng.choice(SERVERS)
            sport, dport = rng.randrange(1024, 65536), rng.randrange(1, 65536)
            if (src, dst, sport, dport) not in seen and src != dst:
                break
        seen.add((src, dst, sport, dport))
        if proto == 6:
            frame = syn(src, dst, sport, dport, rng.getrandbits(32))
        else:
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randrange(8, 65)))
            frame = udp(src, dst, sport, dport, payload)
        yield T0_US + i * 1000000 // RATE_PPS, frame
    info["flows"] = len(seen)


def frag_packets(src, dst, ident, sport, dport, data):
    """First fragment (UDP header + 56 bytes, MF) and the last (offset 64)."""
    first_data, rest = data[:56], data[56:]
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)  # no UDP checksum
    first = eth(ipv4(src, dst, 17, hdr + first_data, ident=ident, frag=0x2000))
    later = eth(ipv4(src, dst, 17, rest, ident=ident, frag=64 // 8))
    return first, later


class FragModel:
    """sensor/frag.c on sensor/lru-map.c: an LRU of at most `max` trains,
    each forgotten FRAG_TIMEOUT_S after it was last seen."""

    def __init__(self, max_trains):
        self.max = max_trains
        self.d = collections.OrderedDict()
        self.st = collections.Counter()

    def _expire(self, now):
        while self.d:
            k, last = next(iter(self.d.items()))
            if last + FRAG_TIMEOUT_S * 1000000 > now:
                break
            del self.d[k]
            self.st["expired"] += 1

    def first(self, key, now):
        self.st["first"] += 1
        self._expire(now)
        if key in self.d:
            self.d.move_to_end(key)
        elif len(self.d) == self.max:
            self.d.popitem(last=False)
            self.st["evicted"] += 1
        self.d[key] = now

    def later(self, key, now):
        self.st["later"] += 1
        self._expire(now)
        if key not in self.d:
            self.st["orphans"] += 1
            return
        self.d.move_to_end(key)
        self.d[key] = now
        self.st["attributed"] += 1


def gen_frag(rng, n, info, models):
    """n trains: 30% completed at once, 10% completed after 2000 more trains,
    60% never; and one later fragment in 20 without any first fragment."""
    seen, tuples = set(), set()
    late = collections.deque()  # (due train index, key, later frame)
    t = T0_US
    step = 1000000 // RATE_PPS

    def out(ts, frame, kind, key):
        for m in models:
            (m.first if kind == "first" else m.later)(key, ts)
        return ts, frame

    for i in range(n):
        while late and late[0][0] <= i:
            _, key, later = late.popleft()
            t += step
            yield out(t, later, "later", key)
        while True:
            src, dst, ident = rand_source(rng), rng.choice(SERVERS), rng.randrange(65536)
            if (src, dst, ident) not in seen and src != dst:
                break
        seen.add((src, dst, ident))
        data = bytes(rng.getrandbits(8) for _ in range(96))
        sport, dport = rng.randrange(1024, 65536), rng.randrange(1, 65536)
        tuples.add((src, dst, sport, dport))
        first, later = frag_packets(src, dst, ident, sport, dport, data)
        key = (src, dst, ident)
        t += step
        yield out(t, first, "first", key)
        fate = rng.random()
        if fate < 0.30:
            t += step
            yield out(t, later, "later", key)
        elif fate < 0.40:
            late.append((i + 2000, key, later))
        if rng.random() < 0.05:
            while True:
                osrc, oid = rand_source(rng), rng.randrange(65536)
                okey = (osrc, dst, oid)
                if okey not in seen and osrc != dst:
                    break
            seen.add(okey)
            _, orphan = frag_packets(osrc, dst, oid, 0, 0, data)
            t += step
            yield out(t, orphan, "later", okey)
    while late:
        _, key, later = late.popleft()
        t += step
        yield out(t, later, "later", key)
    info["flows"] = len(tuples)


def rand_label(rng, lo, hi):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(lo, hi + 1)))


def gen_dns(rng, n, info):
    """n queries from DNS_CLIENT to RESOLVER, each answered 100 us later with
    one or two A (or AAAA, one in ten) records for a random name."""
    info["responses"] = info["bindings"] = 0
    step = 2 * 1000000 // RATE_PPS
    for i in range(n):
        t = T0_US + i * step
        name = "%s.%s.%s" % (rand_label(rng, 3, 12), rand_label(rng, 3, 12),
                             rng.choice(("com", "net", "org", "example")))
        sport, ident = rng.randrange(1024, 65536), rng.randrange(65536)
        v6 = rng.random() < 0.1
        qtype = 28 if v6 else 1
        answers = []
        for _ in range(rng.randrange(1, 3)):
            if v6:
                rdata = bytes([0x2A, 0x00]) + bytes(rng.getrandbits(8) for _ in range(14))
            else:
                rdata = rand_outside(rng)
            answers.append((rng.randrange(30, 86401), rdata))
        yield t, udp(DNS_CLIENT, RESOLVER, sport, 53, dns_query(ident, name, qtype))
        yield t + step // 2, udp(RESOLVER, DNS_CLIENT, 53, sport,
                            dns_response(ident, name, qtype, answers))
        info["responses"] += 1
        info["bindings"] += len(answers)


def gen_alerts(rng, n_hosts, n_repeat, info):
    """SYNs to a FortiGuard Distribution Server from n_hosts inside hosts,
    then from the last n_repeat of them again (new source ports)."""
    hosts = [bytes([10, 4, 1 + i // 250, 1 + i % 250]) for i in range(n_hosts)]
    t = T0_US
    step = 1000000 // RATE_PPS
    for h in hosts + hosts[n_hosts - n_repeat:]:
        t += step
        yield t, syn(h, FDS_SERVER, rng.randrange(1024, 65536), 8890, rng.getrandbits(32))
    info["keys"] = {("Fortinet", "update", ipaddress.ip_address(h).compressed,
                     ipaddress.ip_address(FDS_SERVER).compressed) for h in hosts}


def gen_tls(rng, n_flows, n_segs, payload, info):
    """n_flows TLS connections from inside hosts, all open at once; each
    client starts a handshake record announcing 65520 bytes and sends n_segs
    segments of `payload` bytes, round robin over the flows, so nDPI's
    reassembly buffer of every flow grows by a packet at a time."""
    srv = SERVERS[2]
    t = T0_US
    flows = []
    for i in range(n_flows):
        cli = bytes([10, 5, 1 + i // 250, 1 + i % 250])
        sport = rng.randrange(1024, 65536)
        flows.append((cli, sport))
        for src, dst, sp, dp, seq, ack, flags in ((cli, srv, sport, 443, 1000, 0, 0x02),
                                                  (srv, cli, 443, sport, 5000, 1001, 0x12),
                                                  (cli, srv, sport, 443, 1001, 5001, 0x10)):
            t += 20
            yield t, ip_packet(src, dst, 6, tcp_seg(src, dst, sp, dp, seq, ack, flags))
    first = bytes([0x16, 0x03, 0x01, 0xFF, 0xF0, 0x01, 0x00, 0xFF, 0xEC])
    for n in range(n_segs):
        for cli, sport in flows:
            body = (first if n == 0 else b"") + bytes(payload - (len(first) if n == 0 else 0))
            t += 20
            yield t, ip_packet(cli, srv, 6, tcp_seg(cli, srv, sport, 443, 1001 + n * payload,
                                                        5001, 0x18, body))
    info["flows"] = n_flows


def dns_answers(frames):
    """(packets the sensor counts as DNS responses, A/AAAA records in them)
    among frames: every UDP payload from port 53 (the server side of a DNS
    flow), and the address records of those that are DNS responses."""
    responses = records = 0
    for fr in frames:
        etype = struct.unpack("!H", fr[12:14])[0]
        if etype == 0x0800:
            proto, l4 = fr[23], 14 + (fr[14] & 15) * 4
        elif etype == 0x86DD:
            proto, l4 = fr[20], 54
        else:
            continue
        msg = fr[l4 + 8:]
        if proto != 17 or struct.unpack("!H", fr[l4:l4 + 2])[0] != 53 or not msg:
            continue
        responses += 1
        if len(msg) < 12 or not msg[2] & 0x80:
            continue
        qd, an = struct.unpack("!HH", msg[4:8])

        def skip_name(off):
            while msg[off] != 0:
                if msg[off] & 0xC0 == 0xC0:
                    return off + 2
                off += msg[off] + 1
            return off + 1
        off = 12
        for _ in range(qd):
            off = skip_name(off) + 4
        for _ in range(an):
            off = skip_name(off)
            rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            records += rtype in (1, 28)
            off += 10 + rdlen
    return responses, records


def write_flood(path, flood_iter, extra):
    """Merge the flood with the copied phone-home packets into one pcap."""
    w = PcapWriter(path)
    for ts, frame in heapq.merge(flood_iter, iter(extra), key=lambda p: p[0]):
        w.write(ts, frame)
    w.close()
    return w.count


# ---------------------------------------------------------------- the sensor


def write_config(path, geo, b, dpi_tcp=None):
    geo = os.path.abspath(geo)
    with open(path, "w") as fp:
        fp.write('sensor_name = "floods";\n')
        fp.write("geo = { country_db = %s; asn_db = %s; };\n"
                 % (cfg_str(os.path.join(geo, "country-dbip.mmdb")),
                    cfg_str(os.path.join(geo, "asn.mmdb"))))
        fp.write('home_countries = [ "CN" ];\n')
        fp.write("signatures = { dir = %s; };\n" % cfg_str(SIGNATURES))
        fp.write("flow = { max_flows = %d; max_fragments = %d;%s };\n"
                 % (b["max_flows"], b["max_fragments"],
                    " dpi_packets = { tcp = %d; };" % dpi_tcp if dpi_tcp else ""))
        fp.write("dns = { cache_size = %d; };\n" % b["dns_cache"])
        fp.write("alerts = { max_tracked = %d; };\n" % b["max_tracked"])


def run_sensor(sensor, conf, pcap, tmp, tag, workers=1):
    """Returns (stats, alerts) or raises RuntimeError."""
    stats_p = os.path.join(tmp, tag + ".stats.json")
    alerts_p = os.path.join(tmp, tag + ".alerts.json")
    # Through a shell that forks: on Linux the high-water mark getrusage()
    # reports survives execve(), so a sensor started straight from this
    # (large) Python process would report Python's RSS as its own peak.
    cmd = ["/bin/sh", "-c", '"$0" "$@"; exit $?', sensor, "-c", conf, "-q", "--no-progress",
           "-r", pcap, "--truncate", "--alerts", alerts_p, "--stats", stats_p, "--workers", str(workers)]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600,
                           check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError("timed out after 600 s")
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")
                                            .strip()))
    with open(stats_p) as fp:
        stats = json.load(fp)
    alerts = []
    if os.path.exists(alerts_p):
        with open(alerts_p) as fp:
            alerts = [r for r in (json.loads(line) for line in fp if line.strip())
                      if r.get("event_type") == "alert"]
    return stats, alerts


def alert_key(rec):
    a = rec.get("alert", {})
    return (a.get("vendor"), a.get("category"), ipaddress.ip_address(rec["src_ip"]).compressed,
            ipaddress.ip_address(rec["dest_ip"]).compressed)


# ---------------------------------------------------------------- checks


class Report:
    def __init__(self):
        self.passed = self.failed = self.todo = 0

    def check(self, flood, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("  %-4s %-7s %s%s" % ("ok" if ok else "FAIL", flood, what,
                                    ": " + detail if detail else ""))

    def todo_line(self, flood, what):
        self.todo += 1
        print("  TODO %-7s %s" % (flood, what))


def bounds_x(b, k):
    return {n: v * k for n, v in b.items()}


def fmt_keys(keys):
    return "; ".join("%s %s %s -> %s" % k for k in sorted(keys)[:4]) + \
        (" ..." if len(keys) > 4 else "")


def check_flows(rep, name, st, b, info, npkts):
    fl = st["flows"]
    ends = fl["end_reason"]
    rep.check(name, "packets read", st["packets"]["total"] == npkts,
              "%d of %d" % (st["packets"]["total"], npkts))
    bad = {k: v for k, v in st["decode"].items() if v and k != "not_ip"}
    rep.check(name, "no decode errors", not bad, json.dumps(bad) if bad else "")
    rep.check(name, "flows.peak_active <= max_flows", fl["peak_active"] <= b["max_flows"],
              "%d <= %d" % (fl["peak_active"], b["max_flows"]))
    rep.check(name, "every ended flow counted under one reason",
              fl["total"] == sum(ends.values()),
              "total %d, reasons %s" % (fl["total"], json.dumps(ends)))
    rep.check(name, "flows left at end of input <= max_flows",
              ends.get("end-of-input", 0) <= b["max_flows"],
              "%d" % ends.get("end-of-input", 0))
    cl = st["classification"]
    rep.check(name, "nDPI states held <= max_flows", cl["dpi_active_peak"] <= b["max_flows"],
              "dpi_active_peak %d" % cl["dpi_active_peak"])
    if info.get("flows", 0) > b["max_flows"]:
        others = sum(v for k, v in ends.items() if k not in ("table-full", "end-of-input"))
        need = info["flows"] - b["max_flows"] - others
        rep.check(name, "table-full evictions counted",
                  ends.get("table-full", 0) > 0 and ends.get("table-full", 0) >= need,
                  "%d (at least %d)" % (ends.get("table-full", 0), need))
        rep.check(name, "table filled to max_flows", fl["peak_active"] == b["max_flows"],
                  "%d" % fl["peak_active"])


def check_alerts(rep, name, alerts, expected):
    """expected: {what: keys}; every key must come out, and nothing else."""
    got = set(alert_key(a) for a in alerts)
    everything = set()
    for what, keys in expected.items():
        everything |= keys
        miss = keys - got
        rep.check(name, "%s: all out" % what, not miss,
                  "%d of %d%s" % (len(keys) - len(miss), len(keys),
                                  "; missed " + fmt_keys(miss) if miss else ""))
    false = got - everything
    rep.check(name, "no other alert", not false,
              "%d distinct alerts%s" % (len(got), "; false " + fmt_keys(false) if false else ""))


def check_rss(rep, name, st, b, base_kb, tls_buf=TLS_BUF0, workers=1):
    rss = st["run"]["peak_rss_kb"]
    bpf = st["flows"]["bytes_per_flow"]
    lim = allowed_kb(base_kb, b, bpf, tls_buf, workers)
    rep.check(name, "peak RSS within the formula", rss <= lim,
              "%d kB <= %.0f kB (formula %.0f kB + %.0f%% + %d kB)"
              % (rss, lim, formula_kb(base_kb, b, bpf, tls_buf, workers), MARGIN_FRAC * 100,
                 MARGIN_KB))


def check_frag(rep, name, st, model, expect_evictions=True):
    fr = st["fragments"]
    exp = model.st
    for k in ("first", "later", "attributed", "orphans", "evicted", "expired"):
        rep.check(name, "fragments.%s as modelled" % k, fr[k] == exp[k],
                  "%d, model %d" % (fr[k], exp[k]))
    if expect_evictions:
        rep.check(name, "fragment evictions counted", fr["evicted"] > 0, "%d" % fr["evicted"])
    # Trains held = first fragments - evicted - expired: no train leaves the
    # table any other way.
    rep.check(name, "trains held at the end <= max_fragments",
              fr["first"] - fr["evicted"] - fr["expired"] <= model.max,
              "%d <= %d" % (fr["first"] - fr["evicted"] - fr["expired"], model.max))
    if expect_evictions and "active" not in fr and "peak_active" not in fr:
        rep.todo_line(name, "trains held during the run not checked: --stats has no "
                      "fragments.active / fragments.peak_active")


def check_dns(rep, name, st, info, b, workers=1):
    """DNS counters; with several workers reading files each keeps its own
    cache (the counters are their sum), each at most dns.cache_size."""
    dt = st["detection"]
    rep.check(name, "DNS responses counted", dt["dns_responses"] == info["responses"],
              "%d, sent %d" % (dt["dns_responses"], info["responses"]))
    rep.check(name, "DNS bindings learned", dt["dns_bindings"] == info["bindings"],
              "%d, sent %d A/AAAA records" % (dt["dns_bindings"], info["bindings"]))
    rep.check(name, "no DNS response rejected", dt["dns_bad"] == 0, "%d" % dt["dns_bad"])
    cache = dt.get("dns_cache")
    if isinstance(cache, dict) and "evicted" in cache and \
            ("peak_entries" in cache or "entries" in cache):
        held = cache.get("peak_entries", cache.get("entries"))
        rep.check(name, "DNS cache entries <= dns.cache_size a worker",
                  held <= b["dns_cache"] * workers, json.dumps(cache))
        rep.check(name, "DNS cache evictions counted", cache["evicted"] > 0,
                  "%d" % cache["evicted"])
    else:
        rep.todo_line(name, "DNS cache size and evictions not checked: --stats has no "
                      "detection.dns_cache {entries, peak_entries, inserts, evicted, expired}")


def check_storm(rep, name, st, info, b):
    dt = st["detection"]
    n_keys = len(info["keys"])
    rep.check(name, "de-duplication keys evicted and counted",
              dt["dedup_keys_evicted"] >= n_keys - b["max_tracked"] > 0,
              "%d (at least %d)" % (dt["dedup_keys_evicted"], n_keys - b["max_tracked"]))
    rep.check(name, "repeats of still-tracked keys suppressed",
              dt["suppressed"] == N_STORM_REPEAT,
              "%d, expected %d" % (dt["suppressed"], N_STORM_REPEAT))


# ---------------------------------------------------------------- main

FLOODS = ("syn", "udp", "frag", "dns", "alerts", "tls")
RERUN = ("syn", "udp", "frag", "dns")  # run again with four times the bounds
WORKER_RUNS = ("syn", "dns")  # run again with N_WORKERS workers
TLS_FLOWS, TLS_SEGS, TLS_PAYLOAD, TLS_DPI_TCP = 2000, 12, 1460, 16


def build(tmp, name, scale, phs, models):
    """Write flood `name`; returns (path, packet count, info, {what: expected keys})."""
    rng = random.Random("%s-%s" % (SEED, name))
    info = {}
    fortinet = [phs["vendor-fortinet.pcap"]]
    step = 1000000 // RATE_PPS
    if name == "syn":
        n = N_SYN * scale
        it, end = gen_new_flows(rng, n, info, 6), T0_US + n * step
    elif name == "udp":
        n = N_UDP * scale
        it, end = gen_new_flows(rng, n, info, 17), T0_US + n * step
    elif name == "frag":
        n = N_FRAG * scale  # about 1.45 packets per train
        it, end = gen_frag(rng, n, info, models), T0_US + n * 145 * step // 100
    elif name == "dns":
        n = N_DNS * scale
        it, end = gen_dns(rng, n, info), T0_US + n * 2 * step
    elif name == "alerts":
        it = gen_alerts(rng, N_STORM_HOSTS, N_STORM_REPEAT, info)
        end = T0_US + (N_STORM_HOSTS + N_STORM_REPEAT) * step
    else:
        it = gen_tls(rng, TLS_FLOWS, TLS_SEGS, TLS_PAYLOAD, info)
        end = T0_US + TLS_FLOWS * (3 + TLS_SEGS) * 20
    extra, keys = place_copies(fortinet, T0_US, end)
    expected = collections.OrderedDict([("Fortinet phone-home alerts", keys)])
    if name == "dns":
        more, keys = place_copies([phs["feature-dns-binding.pcap"]], T0_US, end, first_copy=3)
        extra = sorted(extra + more, key=lambda p: p[0])
        expected["DNS-attributed phone-home alerts"] = keys
    path = os.path.join(tmp, "flood-%s.pcap" % name)
    npkts = write_flood(path, it, extra)
    if name == "alerts":
        expected["alert storm"] = info["keys"]
    if name == "dns":
        r, b = dns_answers(fr for _, fr in extra)
        info["responses"] += r
        info["bindings"] += b
    return path, npkts, info, expected


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", required=True, help="the egress-sensor binary")
    ap.add_argument("--geo", required=True,
                    help="folder with the test databases country-dbip.mmdb and asn.mmdb")
    ap.add_argument("--scale", type=int, default=1,
                    help="multiply the sizes of the syn, udp, frag and dns floods "
                    "(benchmark: 10); the bounds stay the same")
    ap.add_argument("--no-rerun", action="store_true",
                    help="skip the runs with four times the bounds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("floods", nargs="*", help="only these floods (%s)" % " ".join(FLOODS))
    args = ap.parse_args()
    todo_floods = args.floods or list(FLOODS)
    for f in todo_floods:
        if f not in FLOODS:
            ap.error("unknown flood %r" % f)

    rep = Report()
    with open(MANIFEST) as fp:
        manifest = json.load(fp)
    phs = {n: PhoneHome(n, manifest) for n in ("vendor-fortinet.pcap",
                                               "feature-dns-binding.pcap")}
    tmp = tempfile.mkdtemp(prefix="floods.")
    rows = []
    t_all = time.monotonic()
    try:
        confs, base = {}, {}
        empty = os.path.join(tmp, "empty.pcap")
        PcapWriter(empty).close()
        for k in (1, 4, "tls"):
            confs[k] = os.path.join(tmp, "x%s.conf" % k)
            write_config(confs[k], args.geo, bounds_x(BOUNDS, 1 if k == "tls" else k),
                         TLS_DPI_TCP if k == "tls" else None)
            try:
                st, _ = run_sensor(args.sensor, confs[k], empty, tmp, "empty-%s" % k)
            except RuntimeError as e:
                rep.check("base", "sensor ran on an empty capture", False, str(e))
                todo_floods = []
                break
            base[k] = st["run"]["peak_rss_kb"]
        if todo_floods:
            print("base, an empty capture: %d kB (test bounds), %d kB (x4)"
                  % (base[1], base[4]))
            # what a worker costs before any traffic: within the documented term
            st, _ = run_sensor(args.sensor, confs[1], empty, tmp, "empty-w", N_WORKERS)
            per = (st["run"]["peak_rss_kb"] - base[1]) / float(N_WORKERS - 1)
            rep.check("base", "each worker's fixed cost within B_worker (%d kB)" % B_WORKER_KB,
                      per <= B_WORKER_KB, "%.0f kB a worker (%d kB with %d workers)"
                      % (per, st["run"]["peak_rss_kb"], N_WORKERS))

        for name in todo_floods:
            ks = (1, 4) if name in RERUN and not args.no_rerun else (1,)
            models = {k: FragModel(BOUNDS["max_fragments"] * k) for k in ks}
            path, npkts, info, expected = build(tmp, name, args.scale, phs,
                                                list(models.values()))
            rss = {}
            for k in ks:
                b = bounds_x(BOUNDS, k)
                ck = "tls" if name == "tls" else k
                label = name if k == 1 else name + "x4"
                try:
                    st, alerts = run_sensor(args.sensor, confs[ck], path, tmp, label)
                except RuntimeError as e:
                    rep.check(label, "sensor ran", False, str(e))
                    continue
                check_flows(rep, label, st, b, info, npkts)
                check_alerts(rep, label, alerts, expected)
                if name == "tls":
                    # the hostile case: every flow's reassembly buffer grows
                    tb = tls_buf_max(TLS_DPI_TCP, TLS_PAYLOAD)
                    check_rss(rep, label, st, b, base[ck], tb)
                    held = st["run"]["peak_rss_kb"] - base[ck]
                    per = st["flows"]["peak_active"] * \
                        (st["flows"]["bytes_per_flow"] + B_DPI_STATE + tb) / 1024.0
                    rep.check(label, "memory held per flow within flow + nDPI state + TLS buffer",
                              held <= per * (1 + MARGIN_FRAC) + MARGIN_KB,
                              "+%d kB over the base for %d flows, formula +%.0f kB"
                              % (held, st["flows"]["peak_active"], per))
                else:
                    check_rss(rep, label, st, b, base[ck])
                if name == "frag":
                    check_frag(rep, label, st, models[k])
                else:
                    check_frag(rep, label, st, FragModel(b["max_fragments"]), False)
                if name == "dns":
                    check_dns(rep, label, st, info, b)
                if name == "alerts":
                    check_storm(rep, label, st, info, b)
                rss[k] = (st["run"]["peak_rss_kb"], st["flows"]["bytes_per_flow"])
                rows.append((label, npkts, st, base[ck], b,
                             tls_buf_max(TLS_DPI_TCP, TLS_PAYLOAD) if name == "tls"
                             else TLS_BUF0, 1))
            if name in WORKER_RUNS:
                # the same flood with several workers, against the formula
                # with its per-worker terms and the one-worker base
                label = "%s-w%d" % (name, N_WORKERS)
                try:
                    st, alerts = run_sensor(args.sensor, confs[1], path, tmp, label, N_WORKERS)
                except RuntimeError as e:
                    rep.check(label, "sensor ran", False, str(e))
                else:
                    check_flows(rep, label, st, BOUNDS, info, npkts)
                    check_alerts(rep, label, alerts, expected)
                    if name == "dns":
                        check_dns(rep, label, st, info, BOUNDS, N_WORKERS)
                    check_rss(rep, label, st, BOUNDS, base[1], workers=N_WORKERS)
                    rows.append((label, npkts, st, base[1], BOUNDS, TLS_BUF0, N_WORKERS))
            if 1 in rss and 4 in rss:
                # No flood here carries TLS but the few copied flows, so the
                # growth is the flow table and nDPI's per-flow state.
                grow = rss[4][0] - rss[1][0]
                fgrow = (formula_kb(base[4], bounds_x(BOUNDS, 4), rss[4][1], 0) -
                         formula_kb(base[1], BOUNDS, rss[1][1], 0))
                rep.check(name, "peak RSS grows with x4 bounds", grow > 0,
                          "%d kB -> %d kB" % (rss[1][0], rss[4][0]))
                rep.check(name, "growth within the formula's (no TLS buffers)",
                          grow <= fgrow * (1 + MARGIN_FRAC) + MARGIN_KB,
                          "+%d kB, formula +%.0f kB" % (grow, fgrow))

        if not rows:
            return finish(rep, t_all, args.scale)
        print()
        print("%-8s %7s %6s %6s %6s %6s %6s %6s %6s %6s %6s %7s %7s %6s"
              % ("flood", "packets", "flows", "peak", "t-full", "dpi", "frags", "f-evict",
                 "dnsbind", "alerts", "dd-evict", "RSS kB", "bound", "time s"))
        for label, npkts, st, bkb, b, tls_buf, workers in rows:
            fl, dt, fr = st["flows"], st["detection"], st["fragments"]
            print("%-8s %7d %6d %6d %6d %6d %6d %6d %6d %6d %6d %7d %7.0f %6.2f"
                  % (label, npkts, fl["total"], fl["peak_active"],
                     fl["end_reason"].get("table-full", 0),
                     st["classification"]["dpi_active_peak"], fr["first"], fr["evicted"],
                     dt["dns_bindings"], dt["alerts"], dt["dedup_keys_evicted"],
                     st["run"]["peak_rss_kb"],
                     allowed_kb(bkb, b, fl["bytes_per_flow"], tls_buf, workers),
                     st["run"]["elapsed_s"]))
        print("\nformula (test bounds): base %d kB + %s kB"
              % (base[1], " + ".join("%s %.0f" % (n, v / 1024.0)
                                     for n, v in formula_terms(BOUNDS).items())))
        print("not in --stats, so not checked: DNS cache entries and evictions, trains held "
              "during the run, asset inventory hosts and evictions")
    finally:
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish(rep, t_all, args.scale)


def finish(rep, t_all, scale):
    print("%.1f s, scale %d" % (time.monotonic() - t_all, scale))
    print()
    print("%d passed, %d failed%s" % (rep.passed, rep.failed,
                                      ", %d TODO (not checked)" % rep.todo if rep.todo else ""))
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
