#!/usr/bin/env python3
"""Write the small captures in pcaps/: one per link type, layer or tunnel the
decoder handles, plus example.pcap, the office egress capture of the quick
start.

Usage: python3 pcaps/gen_pcaps.py [OUTDIR]     (default: this directory)

The output is deterministic: fixed timestamps from 1700000000.0, fixed
addresses, ports, sequence numbers and TLS random bytes. Captures are written
here with struct (pcap and pcapng), so any link type is possible; scapy only
builds the packets.

Addresses. Inside clients are 192.168.x, 10.x and fd00::/8. Outside servers
are in the test geo database: 96.45.33.64 and 208.91.112.55 (US, AS40934
Fortinet), 185.60.216.35 (DE, AS64500), 8.8.8.8 (US, AS15169) and
2001:db8:40::10. example.pcap uses real-world vendor addresses instead.
"""

import os
import struct
import sys

from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRROPT, EDNS0TLV
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert
from scapy.layers.inet import IPOption_RR, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, ICMPv6EchoReply
from scapy.layers.inet6 import ICMPv6EchoRequest, PadN, RouterAlert, fragment6
from scapy.layers.l2 import GRE, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.layers.ppp import PPPoE
from scapy.layers.sctp import SCTP, SCTPChunkCookieAck, SCTPChunkCookieEcho
from scapy.layers.sctp import SCTPChunkData, SCTPChunkInit, SCTPChunkInitAck
from scapy.layers.sctp import SCTPChunkParamStateCookie, SCTPChunkSACK
from scapy.layers.sctp import SCTPChunkShutdown, SCTPChunkShutdownAck
from scapy.layers.sctp import SCTPChunkShutdownComplete
from scapy.layers.vxlan import VXLAN

# pcap link types
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

START_US = 1_700_000_000_000_000

# Addresses used across the feature captures.
CLIENT4 = "192.168.1.10"
CLIENT6 = "fd00::10"
FORTI_A = "96.45.33.64"
FORTI_B = "208.91.112.55"
TRANSIT = "185.60.216.35"
GOOGLE_DNS = "8.8.8.8"
SERVER6 = "2001:db8:40::10"
CLIENT_MAC = "00:50:56:0a:01:0a"
GW_MAC = "00:1b:17:00:01:01"


# ---------------------------------------------------------------- payloads

def http_get(host, path="/", agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n" % (path, host, agent)).encode()


def http_ok(body=b"OK\n", ctype="text/plain"):
    return (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: " + ctype.encode() +
            b"\r\nContent-Length: " + str(len(body)).encode() +
            b"\r\nConnection: close\r\n\r\n" + body)


FORTI_HTTP_REQ = http_get("update.fortiguard.net", "/get_update?ver=7.2.5",
                          "FortiGate (7.2.5) fgt-update")


def dns_query(qid, name, qtype="A"):
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def dns_answer(qid, name, addr, qtype="A"):
    return bytes(DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype),
                     an=DNSRR(rrname=name, type=qtype, ttl=300, rdata=addr)))


def fixed_bytes(seed, n):
    return bytes((seed * 31 + i * 17 + 7) & 0xFF for i in range(n))


def _ext(etype, data):
    return struct.pack("!HH", etype, len(data)) + data


def _vec8(data):
    return struct.pack("!B", len(data)) + data


def _vec16(data):
    return struct.pack("!H", len(data)) + data


def tls_client_hello(sni, seed):
    """A TLS 1.2 ClientHello record with SNI, ALPN and the usual extensions."""
    ciphers = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
               0x009C, 0x009D, 0x002F, 0x0035]
    name = sni.encode()
    exts = b"".join([
        _ext(0x0000, _vec16(b"\x00" + _vec16(name))),              # server_name
        _ext(0x0017, b""),                                         # extended_master_secret
        _ext(0xFF01, b"\x00"),                                     # renegotiation_info
        _ext(0x000A, _vec16(struct.pack("!HHH", 0x001D, 0x0017, 0x0018))),  # groups
        _ext(0x000B, _vec8(b"\x00")),                              # ec_point_formats
        _ext(0x0023, b""),                                         # session_ticket
        _ext(0x0010, _vec16(_vec8(b"h2") + _vec8(b"http/1.1"))),   # ALPN
        _ext(0x0005, b"\x01\x00\x00\x00\x00"),                     # status_request
        _ext(0x000D, _vec16(struct.pack("!8H", 0x0403, 0x0804, 0x0401, 0x0503,
                                        0x0805, 0x0501, 0x0806, 0x0601))),  # sig algs
    ])
    body = (b"\x03\x03" + fixed_bytes(seed, 32) + _vec8(b"") +
            _vec16(b"".join(struct.pack("!H", c) for c in ciphers)) +
            _vec8(b"\x00") + _vec16(exts))
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + _vec16(hs)


def tls_server_hello(seed):
    """A TLS 1.2 ServerHello (ECDHE-RSA-AES128-GCM-SHA256) and ServerHelloDone."""
    exts = _ext(0xFF01, b"\x00") + _ext(0x0017, b"")
    body = (b"\x03\x03" + fixed_bytes(seed + 100, 32) + _vec8(fixed_bytes(seed + 200, 32)) +
            b"\xc0\x2f" + b"\x00" + _vec16(exts))
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    hs += b"\x0e\x00\x00\x00"
    return b"\x16\x03\x03" + _vec16(hs)


def ntp_packet(mode, seed):
    """NTPv4 client (mode 3) or server (mode 4) packet with fixed timestamps."""
    ts = (3_908_988_800 + seed) << 32  # 2023-11-14 in NTP era 0
    if mode == 3:
        return struct.pack("!BBbbII4sQQQQ", 0x23, 0, 0, -24, 0, 0, b"\0\0\0\0", 0, 0, 0, ts)
    return struct.pack("!BBbbII4sQQQQ", 0x24, 3, 0, -24, 0x50, 0x90, b"\xa2\x9f\xc8\x7b",
                       ts - (1 << 32), ts, ts + 0x100000, ts + 0x200000)


# ------------------------------------------------------------ conversations

class Clock:
    """Capture time in microseconds."""

    def __init__(self):
        self.us = START_US

    def step(self, us):
        self.us += us
        return self.us


def _ip(src, dst, ipid, ttl=64):
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=ttl)
    return IP(src=src, dst=dst, id=ipid, ttl=ttl)


def tcp_conversation(clock, cli, srv, sport, dport, request, response, isn=1000,
                     rtt=20000, response2=None):
    """SYN, SYN-ACK, ACK, request, response (+ACK), FIN/ACK both ways, last ACK.
    Returns [(time_us, client_to_server, packet)]."""
    c_seq, s_seq = isn * 1000 + 1, isn * 2000 + 7
    cid, sid = isn & 0x7FFF, 0x8000 + (isn & 0x3FFF)
    out = []

    def c2s(flags, payload=b"", opts=None, gap=300):
        nonlocal c_seq, cid
        cid += 1
        t = TCP(sport=sport, dport=dport, flags=flags, seq=c_seq, ack=s_seq if "A" in flags else 0,
                window=64240 if "S" in flags else 502, options=opts or [])
        out.append((clock.step(gap), True, _ip(cli, srv, cid) / t / payload if payload
                    else _ip(cli, srv, cid) / t))
        c_seq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    def s2c(flags, payload=b"", opts=None, gap=rtt):
        nonlocal s_seq, sid
        sid += 1
        t = TCP(sport=dport, dport=sport, flags=flags, seq=s_seq, ack=c_seq,
                window=65160 if "S" in flags else 509, options=opts or [])
        out.append((clock.step(gap), False, _ip(srv, cli, sid, 54) / t / payload if payload
                    else _ip(srv, cli, sid, 54) / t))
        s_seq += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    syn_opts = [("MSS", 1460), ("NOP", None), ("WScale", 7), ("NOP", None), ("NOP", None),
                ("SAckOK", b"")]
    c2s("S", opts=syn_opts, gap=1000)
    s2c("SA", opts=syn_opts)
    c2s("A")
    c2s("PA", request, gap=150)
    s2c("A")
    s2c("PA", response, gap=2000)
    if response2 is not None:
        c2s("PA", response2, gap=5000)
        s2c("A")
    c2s("A")
    c2s("FA", gap=50000)
    s2c("FA")
    c2s("A")
    return out


def udp_exchange(clock, cli, srv, sport, dport, request, response, rtt=15000, ipid=100):
    req = _ip(cli, srv, ipid) / UDP(sport=sport, dport=dport) / request
    resp = _ip(srv, cli, 0x8000 + ipid, 54) / UDP(sport=dport, dport=sport) / response
    return [(clock.step(1000), True, req), (clock.step(rtt), False, resp)]


def dns_exchange(clock, cli, srv, sport, qid, name, addr, qtype="A"):
    return udp_exchange(clock, cli, srv, sport, 53, dns_query(qid, name, qtype),
                        dns_answer(qid, name, addr, qtype))


def tls_conversation(clock, cli, srv, sport, sni, seed):
    return tcp_conversation(clock, cli, srv, sport, 443, tls_client_hello(sni, seed),
                            tls_server_hello(seed), isn=seed)


def forti_http(clock, cli=CLIENT4, sport=51000):
    return tcp_conversation(clock, cli, FORTI_B, sport, 80, FORTI_HTTP_REQ,
                            http_ok(b"<updates/>\n", "text/xml"), isn=11)


def forti_dns(clock, cli=CLIENT4, sport=53001, srv=GOOGLE_DNS):
    return dns_exchange(clock, cli, srv, sport, 0x1A2B, "update.fortiguard.net", FORTI_B)


def forti_tls(clock, cli=CLIENT4, srv=FORTI_A, sport=51010):
    return tls_conversation(clock, cli, srv, sport, "update.fortiguard.net", 21)


# ------------------------------------------------------------------ writers

def write_pcap(path, linktype, records, snaplen=65535):
    """records: [(time_us, bytes)]"""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for t, data in records:
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(data), len(data)))
            f.write(data)


def _pad4(b):
    return b + b"\0" * (-len(b) % 4)


def _block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, linktype, records, ifname="eth0"):
    """One section, one interface (microsecond timestamps), enhanced packet blocks."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    name = ifname.encode()
    opts = struct.pack("<HH", 2, len(name)) + _pad4(name) + struct.pack("<HH", 0, 0)
    idb = _block(0x00000001, struct.pack("<HHI", linktype, 0, 65535) + opts)
    with open(path, "wb") as f:
        f.write(shb + idb)
        for t, data in records:
            body = struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(data), len(data))
            f.write(_block(0x00000006, body + _pad4(data)))


# ------------------------------------------------------------------ framing

def ether(pkts, cmac=CLIENT_MAC, smac=GW_MAC, tags=()):
    """Ethernet frames, client MAC towards the gateway and back; tags is a
    list of scapy tag layers inserted after the Ethernet header."""
    recs = []
    for t, c2s, p in pkts:
        e = Ether(src=cmac, dst=smac) if c2s else Ether(src=smac, dst=cmac)
        for tag in tags:
            e = e / tag.copy()
        recs.append((t, bytes(e / p)))
    return recs


def plain(pkts):
    return [(t, bytes(p)) for t, _, p in pkts]


def sll(pkts):
    recs = []
    for t, c2s, p in pkts:
        hdr = CookedLinux(pkttype=4 if c2s else 0, lladdrtype=1, lladdrlen=6,
                          src=(b"\x00\x50\x56\x0a\x01\x0a" if c2s else
                               b"\x00\x1b\x17\x00\x01\x01") + b"\0\0",
                          proto=0x86DD if p.version == 6 else 0x0800)
        recs.append((t, bytes(hdr / p)))
    return recs


def sll2(pkts):
    recs = []
    for t, c2s, p in pkts:
        hdr = CookedLinuxV2(proto=0x86DD if p.version == 6 else 0x0800, ifindex=2, lladdrtype=1,
                            pkttype=4 if c2s else 0, lladdrlen=6,
                            src=(b"\x00\x50\x56\x0a\x01\x0a" if c2s else
                                 b"\x00\x1b\x17\x00\x01\x01") + b"\0\0")
        recs.append((t, bytes(hdr / p)))
    return recs


def bsd_null(pkts):
    """DLT_NULL from a little-endian macOS host: AF_INET 2, AF_INET6 30."""
    return [(t, struct.pack("<I", 30 if p.version == 6 else 2) + bytes(p)) for t, _, p in pkts]


def ppp(pkts):
    return [(t, b"\xff\x03" + (b"\x00\x57" if p.version == 6 else b"\x00\x21") + bytes(p))
            for t, _, p in pkts]


def pppoe(pkts):
    recs = []
    for t, c2s, p in pkts:
        proto = b"\x00\x57" if p.version == 6 else b"\x00\x21"
        e = Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x8864) if c2s else \
            Ether(src=GW_MAC, dst=CLIENT_MAC, type=0x8864)
        recs.append((t, bytes(e / PPPoE(sessionid=0x2A) / (proto + bytes(p)))))
    return recs


def mpls(pkts):
    recs = []
    for t, c2s, p in pkts:
        labels = MPLS(label=1001, s=0, ttl=63) / MPLS(label=16001 if c2s else 16002, s=1, ttl=63)
        e = Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x8847) if c2s else \
            Ether(src=GW_MAC, dst=CLIENT_MAC, type=0x8847)
        recs.append((t, bytes(e / labels / p)))
    return recs


def outer(c2s, a, b, ipid, **kw):
    """Outer IP header between tunnel endpoints a (client side) and b."""
    src, dst = (a, b) if c2s else (b, a)
    if ":" in a:
        return IPv6(src=src, dst=dst, hlim=64)
    return IP(src=src, dst=dst, id=ipid, ttl=64, **kw)


def tunnel(pkts, wrap):
    """wrap(index, client_to_server, packet) -> scapy outer layers + packet."""
    return [(t, bytes(Ether(src=CLIENT_MAC, dst=GW_MAC) / wrap(i, c2s, p)))
            for i, (t, c2s, p) in enumerate(pkts)]


def mirrored(i, c2s, p):
    """The Ethernet frame a switch would see for packet p."""
    return Ether(src=CLIENT_MAC, dst=GW_MAC) / p if c2s else Ether(src=GW_MAC, dst=CLIENT_MAC) / p


# ------------------------------------------------------------------ captures

def cap_link_ethernet(out, c):
    recs = ether(forti_dns(c) + forti_http(c))
    write_pcap(os.path.join(out, "link-ethernet.pcap"), LINKTYPE_ETHERNET, recs)
    c2 = Clock()
    recs = ether(forti_dns(c2) + forti_http(c2))
    write_pcapng(os.path.join(out, "link-ethernet.pcapng"), LINKTYPE_ETHERNET, recs)


def cap_link_sll(out, c):
    write_pcap(os.path.join(out, "link-sll.pcap"), LINKTYPE_LINUX_SLL,
               sll(forti_dns(c) + forti_tls(c)))


def cap_link_sll2(out, c):
    pkts = dns_exchange(c, CLIENT6, SERVER6, 53002, 0x2B3C, "update.fortiguard.net", SERVER6,
                        "AAAA")
    pkts += tls_conversation(c, CLIENT6, SERVER6, 51020, "update.fortiguard.net", 22)
    write_pcap(os.path.join(out, "link-sll2.pcap"), LINKTYPE_LINUX_SLL2, sll2(pkts))


def cap_link_raw4(out, c):
    write_pcap(os.path.join(out, "link-raw4.pcap"), LINKTYPE_RAW, plain(forti_http(c)))


def cap_link_raw6(out, c):
    pkts = tls_conversation(c, CLIENT6, SERVER6, 51021, "update.fortiguard.net", 23)
    write_pcap(os.path.join(out, "link-raw6.pcap"), LINKTYPE_RAW, plain(pkts))


def cap_link_null(out, c):
    pkts = forti_tls(c, sport=51011)
    pkts += dns_exchange(c, CLIENT6, SERVER6, 53003, 0x3C4D, "update.fortiguard.net",
                         SERVER6, "AAAA")
    write_pcap(os.path.join(out, "link-null.pcap"), LINKTYPE_NULL, bsd_null(pkts))


def cap_link_ppp(out, c):
    write_pcap(os.path.join(out, "link-ppp.pcap"), LINKTYPE_PPP, ppp(forti_http(c)))


def cap_layer_vlan(out, c):
    write_pcap(os.path.join(out, "layer-vlan.pcap"), LINKTYPE_ETHERNET,
               ether(forti_http(c), tags=[Dot1Q(vlan=100)]))


def cap_layer_qinq(out, c):
    recs = []
    for t, c2s, p in forti_tls(c):
        e = Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x88A8) if c2s else \
            Ether(src=GW_MAC, dst=CLIENT_MAC, type=0x88A8)
        recs.append((t, bytes(e / Dot1AD(vlan=200) / Dot1Q(vlan=100) / p)))
    write_pcap(os.path.join(out, "layer-qinq.pcap"), LINKTYPE_ETHERNET, recs)


def cap_layer_mpls(out, c):
    write_pcap(os.path.join(out, "layer-mpls.pcap"), LINKTYPE_ETHERNET,
               mpls(forti_dns(c) + forti_tls(c)))


def cap_layer_pppoe(out, c):
    write_pcap(os.path.join(out, "layer-pppoe.pcap"), LINKTYPE_ETHERNET,
               pppoe(forti_dns(c) + forti_http(c)))


def cap_layer_ipv4_options(out, c):
    pkts = []
    for t, c2s, p in forti_dns(c):
        p[IP].options = [IPOption_Router_Alert(), IPOption_RR(routers=["0.0.0.0"] * 2)]
        pkts.append((t, c2s, p))
    write_pcap(os.path.join(out, "layer-ipv4-options.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_layer_ipv4_frag(out, c):
    """A DNS query padded (EDNS0 padding, RFC 7830) to 1200 bytes, sent in
    three fragments over a 576-byte path, and its unfragmented answer."""
    q = DNS(id=0x4D5E, rd=1, qd=DNSQR(qname="update.fortiguard.net"),
            ar=DNSRROPT(rclass=1232, rdata=[EDNS0TLV(optcode=12, optdata=b"\0" * 1120)]))
    big = IP(src=CLIENT4, dst=GOOGLE_DNS, id=0x4242, ttl=64) / UDP(sport=53004, dport=53) / q
    pkts = [(c.step(200), True, f) for f in fragment(big, fragsize=512)]
    assert len(pkts) == 3
    ans = dns_answer(0x4D5E, "update.fortiguard.net", FORTI_B)
    pkts.append((c.step(15000), False, IP(src=GOOGLE_DNS, dst=CLIENT4, id=0x9999, ttl=120) /
                 UDP(sport=53, dport=53004) / ans))
    write_pcap(os.path.join(out, "layer-ipv4-frag.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_layer_ipv6_ext(out, c):
    """TLS over IPv6 with hop-by-hop and destination options headers on the
    client side, and a padded DNS query in two fragments with its answer."""
    pkts = []
    for t, c2s, p in tls_conversation(c, CLIENT6, SERVER6, 51022, "update.fortiguard.net", 24):
        if c2s:
            l4 = p[IPv6].payload
            p = (IPv6(src=CLIENT6, dst=SERVER6, hlim=64) /
                 IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) /
                 IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / l4)
        pkts.append((t, c2s, p))
    q = DNS(id=0x5E6F, rd=1, qd=DNSQR(qname="update.fortiguard.net", qtype="AAAA"),
            ar=DNSRROPT(rclass=1232, rdata=[EDNS0TLV(optcode=12, optdata=b"\0" * 700)]))
    big = (IPv6(src=CLIENT6, dst=SERVER6, hlim=64) / IPv6ExtHdrFragment(id=0xABCD0001) /
           UDP(sport=53005, dport=53) / q)
    frags = fragment6(big, 560)
    assert len(frags) == 2
    pkts += [(c.step(200), True, f) for f in frags]
    pkts.append((c.step(15000), False, IPv6(src=SERVER6, dst=CLIENT6, hlim=60) /
                 UDP(sport=53, dport=53005) /
                 dns_answer(0x5E6F, "update.fortiguard.net", SERVER6, "AAAA")))
    write_pcap(os.path.join(out, "layer-ipv6-ext.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_layer_icmp(out, c):
    pkts = []
    for seq in (1, 2, 3):
        data = fixed_bytes(seq, 32)
        pkts.append((c.step(1_000_000), True, IP(src=CLIENT4, dst=GOOGLE_DNS, id=200 + seq) /
                     ICMP(type=8, id=0x77, seq=seq) / data))
        pkts.append((c.step(12000), False, IP(src=GOOGLE_DNS, dst=CLIENT4, id=0x8200 + seq,
                                             ttl=118) / ICMP(type=0, id=0x77, seq=seq) / data))
    write_pcap(os.path.join(out, "layer-icmp.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_layer_icmpv6(out, c):
    pkts = []
    for seq in (1, 2, 3):
        data = fixed_bytes(seq, 32)
        pkts.append((c.step(1_000_000), True, IPv6(src=CLIENT6, dst=SERVER6) /
                     ICMPv6EchoRequest(id=0x78, seq=seq, data=data)))
        pkts.append((c.step(12000), False, IPv6(src=SERVER6, dst=CLIENT6, hlim=58) /
                     ICMPv6EchoReply(id=0x78, seq=seq, data=data)))
    write_pcap(os.path.join(out, "layer-icmpv6.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_layer_sctp(out, c):
    """An SCTP association (Diameter port 3868): setup, one DATA and its SACK,
    shutdown."""
    a, b = (CLIENT4, 5000), (TRANSIT, 3868)
    cookie = SCTPChunkParamStateCookie(cookie=fixed_bytes(9, 24))
    steps = [
        (True, 0, SCTPChunkInit(init_tag=0x11111111, a_rwnd=106496, n_out_streams=10,
                                n_in_streams=10, init_tsn=1000)),
        (False, 0x11111111, SCTPChunkInitAck(init_tag=0x22222222, a_rwnd=106496,
                                             n_out_streams=10, n_in_streams=10, init_tsn=5000,
                                             params=[cookie])),
        (True, 0x22222222, SCTPChunkCookieEcho(cookie=fixed_bytes(9, 24))),
        (False, 0x11111111, SCTPChunkCookieAck()),
        (True, 0x22222222, SCTPChunkData(tsn=1000, stream_id=0, stream_seq=0, proto_id=46,
                                         data=fixed_bytes(5, 20))),
        (False, 0x11111111, SCTPChunkSACK(cumul_tsn_ack=1000, a_rwnd=106496)),
        (True, 0x22222222, SCTPChunkShutdown(cumul_tsn_ack=4999)),
        (False, 0x11111111, SCTPChunkShutdownAck()),
        (True, 0x22222222, SCTPChunkShutdownComplete()),
    ]
    pkts = []
    for i, (c2s, tag, chunk) in enumerate(steps):
        s, d = (a, b) if c2s else (b, a)
        pkts.append((c.step(10000), c2s, IP(src=s[0], dst=d[0], id=300 + i) /
                     SCTP(sport=s[1], dport=d[1], tag=tag) / chunk))
    write_pcap(os.path.join(out, "layer-sctp.pcap"), LINKTYPE_ETHERNET, ether(pkts))


def cap_tun_gre(out, c):
    def wrap(i, c2s, p):
        return outer(c2s, "172.16.0.1", "172.16.0.2", 400 + i) / GRE(proto=0x0800) / p
    write_pcap(os.path.join(out, "tun-gre.pcap"), LINKTYPE_ETHERNET,
               tunnel(forti_dns(c) + forti_http(c), wrap))


def cap_tun_erspan(out, c):
    # Mirror sessions: switch 10.10.0.1 sends to collector 10.10.0.100.
    def wrap1(i, c2s, p):
        return (IP(src="10.10.0.1", dst="10.10.0.100", id=500 + i, ttl=64) / GRE(proto=0x88BE) /
                mirrored(i, c2s, p))

    def wrap2(i, c2s, p):
        return (IP(src="10.10.0.1", dst="10.10.0.100", id=600 + i, ttl=64) /
                GRE(proto=0x88BE, seqnum_present=1, sequence_number=i) /
                ERSPAN_II(ver=1, vlan=10, session_id=2, index=3) / mirrored(i, c2s, p))

    def wrap3(i, c2s, p):
        return (IP(src="10.10.0.1", dst="10.10.0.100", id=700 + i, ttl=64) /
                GRE(proto=0x22EB, seqnum_present=1, sequence_number=i) /
                ERSPAN_III(ver=2, vlan=10, session_id=3, timestamp=0x10000 + i * 100, o=1) /
                ERSPAN_PlatformSpecific(platf_id=3, info1=0, info2=0) / mirrored(i, c2s, p))

    write_pcap(os.path.join(out, "tun-erspan1.pcap"), LINKTYPE_ETHERNET,
               tunnel(forti_http(c), wrap1))
    c = Clock()
    write_pcap(os.path.join(out, "tun-erspan2.pcap"), LINKTYPE_ETHERNET,
               tunnel(forti_tls(c), wrap2))
    c = Clock()
    write_pcap(os.path.join(out, "tun-erspan3.pcap"), LINKTYPE_ETHERNET,
               tunnel(forti_dns(c) + forti_tls(c, sport=51012), wrap3))


def cap_tun_vxlan(out, c):
    def wrap(i, c2s, p):
        return (outer(c2s, "10.20.0.1", "10.20.0.2", 800 + i) /
                UDP(sport=50100 if c2s else 50200, dport=4789) / VXLAN(flags=0x08, vni=5000) /
                mirrored(i, c2s, p))
    write_pcap(os.path.join(out, "tun-vxlan.pcap"), LINKTYPE_ETHERNET,
               tunnel(forti_dns(c) + forti_tls(c), wrap))


def cap_tun_ipip(out, c):
    def wrap(i, c2s, p):
        return outer(c2s, "172.16.0.1", "172.16.0.2", 900 + i) / p
    write_pcap(os.path.join(out, "tun-ipip.pcap"), LINKTYPE_ETHERNET, tunnel(forti_http(c), wrap))


def cap_tun_6in4(out, c):
    def wrap(i, c2s, p):
        return outer(c2s, "172.16.0.1", "172.16.0.2", 1000 + i) / p
    pkts = tls_conversation(c, CLIENT6, SERVER6, 51023, "update.fortiguard.net", 25)
    write_pcap(os.path.join(out, "tun-6in4.pcap"), LINKTYPE_ETHERNET, tunnel(pkts, wrap))


def cap_tun_4in6(out, c):
    def wrap(i, c2s, p):
        return outer(c2s, "2001:db8:ffff::1", "2001:db8:ffff::2", 0) / p
    write_pcap(os.path.join(out, "tun-4in6.pcap"), LINKTYPE_ETHERNET, tunnel(forti_http(c), wrap))


def cap_tun_gtpu(out, c):
    """GTP-U between an eNodeB/gNodeB (10.30.0.1) and the UPF (10.30.0.2):
    UE 10.45.0.2, uplink TEID 0x100, downlink 0x200, every T-PDU with a PDU
    session container (QFI 9)."""
    ue = "10.45.0.2"

    def wrap(i, c2s, p):
        gtp = GTP_U_Header(teid=0x100 if c2s else 0x200, E=1, next_ex=0x85)
        ext = GTPPDUSessionContainer(type=1 if c2s else 0, QFI=9)
        return outer(c2s, "10.30.0.1", "10.30.0.2", 1100 + i) / UDP(sport=2152, dport=2152) / \
            gtp / ext / p
    pkts = forti_dns(c, cli=ue) + forti_tls(c, cli=ue)
    write_pcap(os.path.join(out, "tun-gtpu.pcap"), LINKTYPE_ETHERNET, tunnel(pkts, wrap))


def cap_example(out, c):
    """A small office behind one egress link: workstations 192.168.10.21-23,
    a firewall management address 192.168.10.1, an intranet web server
    192.168.10.5 and a public SSH server 192.168.10.80 (port forwarded)."""
    ws1, ws2, ws3, fw = "192.168.10.21", "192.168.10.22", "192.168.10.23", "192.168.10.1"
    dns = "8.8.8.8"
    macs = {ws1: "00:50:56:10:00:21", ws2: "00:50:56:10:00:22", ws3: "00:50:56:10:00:23",
            fw: "00:09:0f:10:00:01", "192.168.10.5": "00:50:56:10:00:05",
            "192.168.10.80": "00:50:56:10:00:80", "fd00:10::21": "00:50:56:10:00:21"}
    router = "00:1b:17:00:10:fe"  # every outside address is behind it
    flows = []

    def add(pkts):
        flows.append(pkts)
        c.step(400_000)  # think time between flows

    lookups = [
        (fw, 0x0101, "globalupdate.fortinet.net", "96.45.33.64"),
        (fw, 0x0102, "updates.paloaltonetworks.com", "34.107.151.202"),
        (ws1, 0x0103, "www.google.com", "142.250.185.68"),
        (fw, 0x0104, "sc1.checkpoint.com", "194.29.36.43"),
        (fw, 0x0105, "cws.checkpoint.com", "194.29.36.43"),
        (ws2, 0x0106, "www.wikipedia.org", "185.15.59.224"),
    ]
    for n, (host, qid, name, addr) in enumerate(lookups):
        add(dns_exchange(c, host, dns, 40000 + n * 111, qid, name, addr))
        if name == "cws.checkpoint.com":
            req = http_get(name, "/Malware/SystemStatus/type/short",
                           "Check Point Gaia R81.20 (cpwd_admin)")
            add(tcp_conversation(c, host, addr, 43000 + n, 80, req,
                                 http_ok(b"status=ok\n"), isn=30 + n))
        else:
            add(tls_conversation(c, host, addr, 43000 + n, name, 30 + n))
    # NTP from the firewall.
    add(udp_exchange(c, fw, "162.159.200.1", 123, 123, ntp_packet(3, 1), ntp_packet(4, 1)))
    # IPv6 browsing from a workstation.
    add(dns_exchange(c, ws1, dns, 40999, 0x0107, "www.google.com", "2a00:1450:4001:82b::2004",
                     "AAAA"))
    add(tls_conversation(c, "fd00:10::21", "2a00:1450:4001:82b::2004", 43010, "www.google.com",
                         40))
    # Inbound: an outside host opens SSH to the forwarded server.
    add(tcp_conversation(c, "203.0.113.45", "192.168.10.80", 55123, 22,
                         b"SSH-2.0-PuTTY_Release_0.78\r\n",
                         b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1\r\n", isn=50))
    # Internal: a workstation to the intranet server.
    add(tcp_conversation(c, ws3, "192.168.10.5", 43020, 80, http_get("intranet.office.lan", "/"),
                         http_ok(b"<html>intranet</html>\n", "text/html"), isn=60))

    recs = []
    for pkts in flows:
        for t, _, p in pkts:
            e = Ether(src=macs.get(p.src, router), dst=macs.get(p.dst, router))
            recs.append((t, bytes(e / p)))
    recs.sort(key=lambda r: r[0])
    write_pcap(os.path.join(out, "example.pcap"), LINKTYPE_ETHERNET, recs)


CAPTURES = [
    cap_link_ethernet, cap_link_sll, cap_link_sll2, cap_link_raw4, cap_link_raw6,
    cap_link_null, cap_link_ppp, cap_layer_vlan, cap_layer_qinq, cap_layer_mpls,
    cap_layer_pppoe, cap_layer_ipv4_options, cap_layer_ipv4_frag, cap_layer_ipv6_ext,
    cap_layer_icmp, cap_layer_icmpv6, cap_layer_sctp, cap_tun_gre, cap_tun_erspan,
    cap_tun_vxlan, cap_tun_ipip, cap_tun_6in4, cap_tun_4in6, cap_tun_gtpu, cap_example,
]


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for cap in CAPTURES:
        cap(out, Clock())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
