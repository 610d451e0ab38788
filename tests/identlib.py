"""identlib.py -- what the detection and corpus tests share about
identifications: reading the sensor's asset events and inventory, checking
a manifest's "assets" entries, and comparing the two.

An identification is a (host, vendor, product, relation): the sensor named
an internal host as being (is), running (runs) or using (uses) a vendor's
product. The sensor reports each one twice, and the two must agree:

  the inventory (--assets FILE): per host, "products" [{vendor, product,
    relation}], relation the strongest seen (is, then runs, then uses), and
    the host's "device" facts {serial, model, name, vlan, named_by};
  asset events in the alert output ("event_type": "asset"): one the first
    time a (host, vendor, product) is identified in a run, with asset_ip,
    the flow's addresses and asset {vendor, product, relation, end,
    device}.

A manifest lists the identifications it expects as objects {"host",
"vendor", "product", "relation", "why"}, optionally with "device": the
host's device facts in the inventory, exactly (a subset of the keys
serial, model, name, vlan, named_by).
"""

import collections
import ipaddress
import json

RELATIONS = ("is", "runs", "uses")
DEVICE_KEYS = ("serial", "model", "name", "vlan", "named_by")
ENTRY_KEYS = ("host", "vendor", "product", "relation", "why", "device")
STRENGTH = {r: i for i, r in enumerate(RELATIONS)}  # lower is stronger


def norm_ip(text):
    return ipaddress.ip_address(text).compressed


def fmt_ident(k, relation=None):
    """"10.11.0.1 is Fortinet: FortiGate" (or "10.11.0.1 Fortinet: ...")."""
    return "%s %s%s: %s" % (k[0], relation + " " if relation else "", k[1], k[2])


def check_entries(entries, where):
    """The "assets" list of a manifest entry, checked: an OrderedDict
    {(host, vendor, product): entry}. Raises ValueError naming the first
    problem (where says whose list it is)."""
    if not isinstance(entries, list):
        raise ValueError("%s: \"assets\" must be a list" % where)
    out = collections.OrderedDict()
    devices = {}
    for i, e in enumerate(entries):
        w = "%s: asset %d" % (where, i)
        if not isinstance(e, dict):
            raise ValueError("%s: expected an object" % w)
        for f in ("host", "vendor", "product", "relation", "why"):
            if not isinstance(e.get(f), str) or not e[f]:
                raise ValueError("%s: needs %s (a string)" % (w, f))
        extra = [k for k in e if k not in ENTRY_KEYS]
        if extra:
            raise ValueError("%s: unknown key %s" % (w, ", ".join(sorted(extra))))
        if e["relation"] not in RELATIONS:
            raise ValueError("%s: relation %r is not one of %s"
                             % (w, e["relation"], ", ".join(RELATIONS)))
        try:
            host = norm_ip(e["host"])
        except ValueError as err:
            raise ValueError("%s: %s" % (w, err))
        k = (host, e["vendor"], e["product"])
        if k in out:
            raise ValueError("%s: listed twice: %s" % (w, fmt_ident(k)))
        if "device" in e:
            d = e["device"]
            if not isinstance(d, dict) or not d or any(x not in DEVICE_KEYS for x in d):
                raise ValueError("%s: device must be an object with some of %s"
                                 % (w, ", ".join(DEVICE_KEYS)))
            if host in devices and devices[host] != d:
                raise ValueError("%s: device differs from another entry of host %s"
                                 % (w, host))
            devices[host] = d
        out[k] = e
    return out


def read_inventory(path):
    """({(host, vendor, product): relation}, {host: device facts}) from the
    sensor's --assets file; raises ValueError when it is not the expected
    JSON."""
    with open(path) as fp:
        doc = json.load(fp)
    idents, devices = collections.OrderedDict(), {}
    for h in doc.get("hosts", []):
        host = norm_ip(h["host"])
        if "device" in h:
            devices[host] = h["device"]
        for p in h.get("products", []):
            idents[(host, p["vendor"], p["product"])] = p.get("relation", "?")
    return idents, devices


def asset_events(records):
    """The asset events of the alert output's records."""
    return [r for r in records if r.get("event_type") == "asset"]


def event_key(ev):
    a = ev.get("asset", {})
    return (norm_ip(ev.get("asset_ip", "0.0.0.0")), a.get("vendor", "?"), a.get("product", "?"))


def compare(expected, inventory, devices, events):
    """Compare the expected identifications (check_entries()) with the
    sensor's inventory and asset events. Returns an OrderedDict of problem
    lists: "missing" (expected, not in the inventory), "unexpected" (in the
    inventory, not expected), "relation" (both, another relation),
    "events" (asset events that disagree with the inventory: an event
    without an inventory entry, an entry without exactly one event, an
    event whose asset_ip is not the end it names) and "device" (the host's
    device facts are not the ones listed)."""
    out = collections.OrderedDict((k, []) for k in ("missing", "unexpected", "relation",
                                                     "events", "device"))
    for k, e in expected.items():
        if k not in inventory:
            out["missing"].append("%s (%s)" % (fmt_ident(k, e["relation"]), e["why"]))
        elif inventory[k] != e["relation"]:
            out["relation"].append("%s: relation %s, expected %s (%s)"
                                   % (fmt_ident(k), inventory[k], e["relation"], e["why"]))
    for k, rel in inventory.items():
        if k not in expected:
            out["unexpected"].append(fmt_ident(k, rel))

    counts = collections.Counter()
    for ev in events:
        k = event_key(ev)
        counts[k] += 1
        a = ev.get("asset", {})
        if k not in inventory:
            out["events"].append("asset event for %s, which the inventory does not hold"
                                 % fmt_ident(k, a.get("relation")))
        end = a.get("end")
        ip = ev.get("src_ip") if end == "client" else ev.get("dest_ip") if end == "server" \
            else None
        if ip is None or norm_ip(ip) != k[0]:
            out["events"].append("asset event for %s: end %r is %s, not the asset"
                                 % (fmt_ident(k), end, ip))
        if a.get("relation") not in RELATIONS:
            out["events"].append("asset event for %s: relation %r"
                                 % (fmt_ident(k), a.get("relation")))
        elif k in inventory and inventory[k] in STRENGTH and \
                STRENGTH[a["relation"]] < STRENGTH[inventory[k]]:
            out["events"].append("asset event for %s says %s, the inventory the weaker %s"
                                 % (fmt_ident(k), a["relation"], inventory[k]))
        want = expected.get(k, {}).get("device")
        got = a.get("device")
        if want is not None and got is not None and \
                any(got.get(f) != want.get(f) for f in got):
            out["events"].append("asset event for %s: device %s, expected %s"
                                 % (fmt_ident(k), json.dumps(got, sort_keys=True),
                                    json.dumps(want, sort_keys=True)))
    for k in inventory:
        if counts[k] != 1:
            out["events"].append("%s: %d asset events, expected exactly one"
                                 % (fmt_ident(k, inventory[k]), counts[k]))

    seen = set()
    for k, e in expected.items():
        if "device" not in e or k[0] in seen:
            continue
        seen.add(k[0])
        got = devices.get(k[0])
        if got != e["device"]:
            out["device"].append("%s: device %s, expected %s"
                                 % (k[0], json.dumps(got, sort_keys=True),
                                    json.dumps(e["device"], sort_keys=True)))
    return out
