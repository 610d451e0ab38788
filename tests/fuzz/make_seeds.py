#!/usr/bin/env python3
"""make_seeds.py -- seed corpora for the fuzz targets in tests/fuzz/.

Reads the captures of pcaps/, pcaps/detect/ and the shared corpus (pcap and
pcapng, parsed here with the standard library only) and the configuration
and signature files, and writes one folder of seed inputs per target:

  fuzz_decode      link-type index byte + one frame (see fuzz_decode.c); a
                   few IP packets per capture are also framed for the link
                   types no capture here uses (LOOP, HDLC, raw IPv6, ...)
  fuzz_dissectors  selector byte + one TCP/UDP payload (see fuzz_dissectors.c)
  fuzz_dns         UDP payloads to or from port 53 (and mDNS/LLMNR)
  fuzz_config      config/sensor.conf, tests/data/config/*.conf
  fuzz_signatures  config/signatures/*.conf, tests/data/signatures/**/*.conf
  fuzz_ja4         client hellos: TLS records, handshake messages, DTLS and
                   QUIC datagrams, TCP segments (see fuzz_ja4.c)
  fuzz_pcap        captures under 64 KB as they are, and the first packets
                   of larger ones rewritten as a small pcap

Seeds are named by the SHA-1 of their content, as libFuzzer names what it
keeps, so duplicates collapse. Every run replaces the target folders.

usage: make_seeds.py --out DIR [--corpus DIR] [--root DIR]
"""

import argparse
import hashlib
import os
import shutil
import struct
import sys

TARGETS = ("decode", "dissectors", "dns", "config", "signatures", "pcap", "ja4")

# Link types decode_link_supported() accepts, in increasing order: the
# first byte of a fuzz_decode input is an index into this list.
SUPPORTED_DLTS = (0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 276)

# dis_registry order (dissectors/registry.c): transport and server ports.
REGISTRY = (
    (17, (8888, 53)),                                                # fortiguard-rating
    (6, (541, 542)),                                                 # fortinet-fgfm
    (6, (18191, 18192, 18210, 18211, 18264, 257, 256, 18190)),      # checkpoint-mgmt
    (17, (2426,)),                                                   # velocloud-vcmp
    (6, (54443,)),                                                   # carbonblack-backup
    (17, (8116,)),                                                   # checkpoint-ccp
    (6, (80,)),                                                      # avast-nosa
)

DNS_PORTS = (53, 5353, 5355)

# Bounds: seeds beyond these add start-up time, not coverage.
PER_CAPTURE = {"decode": 16, "wrapped": 1, "dissectors": 16, "dns": 48, "ja4": 8}
TOTAL = {"decode": 8000, "dissectors": 4000, "dns": 3000, "pcap": 400, "ja4": 1500}
PCAP_SMALL = 64 * 1024      # captures below this are seeds as they are
PCAP_HEAD_BYTES = 16 * 1024  # larger ones give their first packets, this much
PCAP_HEAD_PACKETS = 64


# ------------------------------------------------------------ capture files

def read_capture(data):
    """Yield (linktype, frame) for every packet of a pcap or pcapng file.
    Stops quietly at the first damaged record; None for anything else."""
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return _read_pcap(data, "<")
    if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return _read_pcap(data, ">")
    if magic == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(data)
    return None


def _read_pcap(data, e):
    linktype = struct.unpack_from(e + "I", data, 20)[0] & 0x03FFFFFF
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from(e + "I", data, off + 8)[0]
        off += 16
        if caplen > len(data) - off:
            return
        yield linktype, data[off:off + caplen]
        off += caplen


def _read_pcapng(data):
    off = 0
    e = "<"
    links = []
    while off + 12 <= len(data):
        btype = struct.unpack_from(e + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # section header: byte order, new interfaces
            bom = data[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack_from(e + "I", data, off + 4)[0]
        if blen < 12 or blen % 4 or off + blen > len(data):
            return
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:  # interface description
            links.append(struct.unpack_from(e + "H", body, 0)[0])
        elif btype == 6 and len(body) >= 20:  # enhanced packet
            ifid, _, _, caplen = struct.unpack_from(e + "IIII", body, 0)
            if ifid < len(links) and caplen <= len(body) - 20:
                yield links[ifid], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and links:  # simple packet
            origlen = struct.unpack_from(e + "I", body, 0)[0]
            yield links[0], body[4:4 + min(origlen, len(body) - 4)]
        elif btype == 2 and len(body) >= 20:  # obsolete packet block
            ifid = struct.unpack_from(e + "H", body, 0)[0]
            caplen = struct.unpack_from(e + "I", body, 12)[0]
            if ifid < len(links) and caplen <= len(body) - 20:
                yield links[ifid], body[20:20 + caplen]
        off += blen


def write_pcap(linktype, frames):
    """A classic little-endian microsecond pcap holding frames."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000 + i // 10, (i % 10) * 100000, len(f), len(f)))
        out.append(f)
    return b"".join(out)


# ------------------------------------------------------------ a small decoder

def _ip(b, off):
    """(proto, src, dst, l4 offset) of the IP packet at b[off:], or None.
    Later fragments are skipped (no transport header)."""
    if off >= len(b):
        return None
    ver = b[off] >> 4
    if ver == 4 and off + 20 <= len(b):
        ihl = (b[off] & 15) * 4
        frag = struct.unpack_from(">H", b, off + 6)[0] & 0x1FFF
        if ihl < 20 or frag:
            return None
        return b[off + 9], b[off + 12:off + 16], b[off + 16:off + 20], off + ihl
    if ver == 6 and off + 40 <= len(b):
        nxt = b[off + 6]
        src, dst = b[off + 8:off + 24], b[off + 24:off + 40]
        off += 40
        for _ in range(8):
            if nxt in (0, 43, 60) and off + 2 <= len(b):
                nxt, off = b[off], off + 8 * (b[off + 1] + 1)
            elif nxt == 44 and off + 8 <= len(b):
                if struct.unpack_from(">H", b, off + 2)[0] & 0xFFF8:
                    return None
                nxt, off = b[off], off + 8
            else:
                break
        return nxt, src, dst, off
    return None


def _l3_offset(linktype, b):
    """Offset of the IP header in a frame of this link type, or None."""
    if linktype == 1:  # Ethernet, 802.1Q / 802.1ad tags
        off = 12
        while off + 2 <= len(b):
            et = struct.unpack_from(">H", b, off)[0]
            if et in (0x8100, 0x88A8, 0x9100):
                off += 4
                continue
            return off + 2 if et in (0x0800, 0x86DD) else None
        return None
    if linktype in (0, 108):
        return 4
    if linktype in (12, 14, 101, 228, 229):
        return 0
    if linktype == 113:
        return 16
    if linktype == 276:
        return 20
    if linktype in (9, 50, 104):
        return 4
    return None


def transport(linktype, b):
    """(proto, sport, dport, payload, flow key) of a TCP/UDP frame, or None."""
    off = _l3_offset(linktype, b)
    if off is None:
        return None
    ip = _ip(b, off)
    if ip is None:
        return None
    proto, src, dst, l4 = ip
    if proto == 17 and l4 + 8 <= len(b):
        sp, dp = struct.unpack_from(">HH", b, l4)
        payload = b[l4 + 8:]
    elif proto == 6 and l4 + 20 <= len(b):
        sp, dp = struct.unpack_from(">HH", b, l4)
        doff = (b[l4 + 12] >> 4) * 4
        if doff < 20:
            return None
        payload = b[l4 + doff:]
    else:
        return None
    key = (proto,) + tuple(sorted(((src, sp), (dst, dp))))
    return proto, sp, dp, payload, key


# ------------------------------------------------------------ seed writers

class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {t: 0 for t in TARGETS}
        self.seen = {t: set() for t in TARGETS}
        for t in TARGETS:
            d = os.path.join(out, t)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)

    def full(self, target):
        return target in TOTAL and self.count[target] >= TOTAL[target]

    def add(self, target, data):
        """Write one seed; False when it was a duplicate or the target is full."""
        if self.full(target):
            return False
        h = hashlib.sha1(data).hexdigest()
        if h in self.seen[target]:
            return False
        self.seen[target].add(h)
        with open(os.path.join(self.out, target, h), "wb") as f:
            f.write(data)
        self.count[target] += 1
        return True


def dissector_selector(proto, sport, dport, index):
    """Selector byte for a payload whose ports a registry entry declares."""
    for i, (p, ports) in enumerate(REGISTRY):
        if p != proto:
            continue
        if dport in ports:
            return i | min(index, 3) << 6
        if sport in ports:
            return i | 0x20 | min(index, 3) << 6
    return None


def wrap_ip(ip):
    """The IP packet ip as a frame of each link type no bundled capture
    uses, with its fuzz_decode index byte: (index, frame) pairs."""
    v6 = ip[0] >> 4 == 6
    af, ppp, et = (24 if v6 else 2), (0x0057 if v6 else 0x0021), (0x86DD if v6 else 0x0800)
    frames = {
        12: ip, 14: ip, 229 if v6 else 228: ip,
        108: struct.pack(">I", af) + ip,                       # LOOP: AF in network order
        0: struct.pack("<I", af) + ip,                         # NULL: AF in host order
        50: b"\xff\x03" + struct.pack(">H", ppp) + ip,          # PPP in HDLC framing
        9: struct.pack(">H", ppp) + ip,                        # PPP without address/control
        104: b"\x0f\x00" + struct.pack(">H", et) + ip,          # Cisco HDLC
    }
    return [(SUPPORTED_DLTS.index(d), f) for d, f in sorted(frames.items())]


def ja4_seeds(seeds, proto, payload):
    """fuzz_ja4 inputs (see fuzz_ja4.c for the selector) from one client
    hello payload: TLS records, the bare message, a DTLS datagram, a QUIC
    datagram, and the same bytes as TCP segments or UDP datagrams for the
    flow hook. Returns how many were added."""
    added = 0
    if proto == 6 and len(payload) > 9 and payload[0] == 22 and payload[1] == 3 and payload[5] == 1:
        added += seeds.add("ja4", b"\x01" + payload)
        added += seeds.add("ja4", b"\x00" + payload[5:])
        half = len(payload) // 2 // 64 * 64
        if 0 < half < 255 * 64:
            segs = (bytes([0, min(255, half)]) + payload[:min(255, half)] +
                    bytes([half // 64, min(255, len(payload) - half)]) +
                    payload[half:half + min(255, len(payload) - half)])
            added += seeds.add("ja4", b"\x04" + segs)
    elif proto == 17 and len(payload) > 13 and payload[0] == 22 and payload[1] in (0xFE, 0x01):
        added += seeds.add("ja4", b"\x02" + payload)
    elif proto == 17 and len(payload) >= 1200 and payload[0] & 0xC0 == 0xC0:
        added += seeds.add("ja4", b"\x03" + payload)
        added += seeds.add("ja4", b"\x05" + struct.pack(">H", len(payload)) + payload)
    return added


def seeds_from_capture(seeds, path, data):
    packets = read_capture(data)
    if packets is None:
        return
    n = {"decode": 0, "wrapped": 0, "dissectors": 0, "dns": 0, "ja4": 0}
    flow_payloads = {}
    linktypes = set()
    frames = []
    try:
        for linktype, frame in packets:
            linktypes.add(linktype)
            if len(frames) < PCAP_HEAD_PACKETS:
                frames.append(frame)
            if linktype in SUPPORTED_DLTS and n["decode"] < PER_CAPTURE["decode"]:
                sel = SUPPORTED_DLTS.index(linktype)
                n["decode"] += seeds.add("decode", bytes([sel]) + frame)
                off = _l3_offset(linktype, frame)
                if off is not None and off < len(frame) and n["wrapped"] < PER_CAPTURE["wrapped"]:
                    n["wrapped"] += 1
                    for sel, f in wrap_ip(frame[off:]):
                        seeds.add("decode", bytes([sel]) + f)
            t = transport(linktype, frame)
            if t is None:
                continue
            proto, sp, dp, payload, key = t
            if not payload:
                continue
            index = flow_payloads.get(key, 0)
            flow_payloads[key] = index + 1
            if proto == 17 and (sp in DNS_PORTS or dp in DNS_PORTS) and n["dns"] < PER_CAPTURE["dns"]:
                n["dns"] += seeds.add("dns", payload)
            if n["ja4"] < PER_CAPTURE["ja4"]:
                n["ja4"] += ja4_seeds(seeds, proto, payload)
            if n["dissectors"] < PER_CAPTURE["dissectors"]:
                sel = dissector_selector(proto, sp, dp, index)
                if sel is None and index == 0:
                    # any flow's first payload, shown to an entry of its transport
                    entries = [i for i, (p, _) in enumerate(REGISTRY) if p == proto]
                    sel = entries[len(payload) % len(entries)] if entries else None
                if sel is not None:
                    n["dissectors"] += seeds.add("dissectors", bytes([sel]) + payload)
    except (struct.error, IndexError):
        pass  # a damaged capture: keep what was read
    if len(data) < PCAP_SMALL:
        seeds.add("pcap", data)
    elif frames and len(linktypes) == 1:
        head, size = [], 24
        for f in frames:
            if size + 16 + len(f) > PCAP_HEAD_BYTES and head:
                break
            head.append(f)
            size += 16 + len(f)
        seeds.add("pcap", write_pcap(linktypes.pop(), head))


def files_under(root, suffixes):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.join(d, n) for n in names if n.endswith(suffixes)]
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="seed folder (one sub-folder per target)")
    ap.add_argument("--corpus", help="shared capture corpus (skipped when absent)")
    ap.add_argument("--root", default=".", help="source tree (default: .)")
    a = ap.parse_args()
    root = a.root
    seeds = Seeds(a.out)

    captures = files_under(os.path.join(root, "pcaps"), (".pcap", ".pcapng"))
    if a.corpus:
        if os.path.isdir(a.corpus):
            captures += files_under(a.corpus, (".pcap", ".pcapng", ".cap"))
        else:
            print("make_seeds: no corpus at %s: seeds from pcaps/ only" % a.corpus)
    # Small captures first: they are the pcap seeds and the cheapest frames.
    captures.sort(key=lambda p: (os.path.getsize(p), p))
    for path in captures:
        with open(path, "rb") as f:
            seeds_from_capture(seeds, path, f.read())

    confs = [os.path.join(root, "config", "sensor.conf")]
    confs += files_under(os.path.join(root, "tests", "data", "config"), (".conf",))
    for path in confs:
        if os.path.isfile(path):
            with open(path, "rb") as f:
                seeds.add("config", f.read())
    sigs = files_under(os.path.join(root, "config", "signatures"), (".conf",))
    sigs += files_under(os.path.join(root, "tests", "data", "signatures"), (".conf",))
    for path in sigs:
        with open(path, "rb") as f:
            seeds.add("signatures", f.read())

    print("make_seeds: %d captures -> %s" % (
        len(captures), ", ".join("%s %d" % (t, seeds.count[t]) for t in TARGETS)))
    empty = [t for t in TARGETS if seeds.count[t] == 0]
    if empty:
        print("make_seeds: no seeds for %s" % ", ".join(empty), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
