/* enrich.h -- what is known about a flow, computed once, read by every output.
 *
 * flow_enrich() settles a flow's facts the first time anything needs them
 * -- detection, once the flow's metadata is complete, or the flow's end,
 * whichever comes first -- and keeps them in the flow (FLOW_F_ENRICHED):
 *   - its direction relative to home_net;
 *   - the country and autonomous system of each end outside home_net (one
 *     geo lookup per such end, per flow);
 *   - its Community ID v1 hash, ICMP types and codes mapped as the
 *     specification says.
 * flow_info_fill() then gives every consumer -- the alert, the flow record,
 * the asset inventory -- one view of the flow, with the names a record
 * shows (protocol, application, direction) and the Community ID text. No
 * output looks any of this up or computes it on its own, so an alert and
 * its flow record always agree. */
#ifndef ENRICH_H
#define ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "community-id.h"
#include "geo.h"

struct flow;
struct netset;
struct classifier;

/* Settle f's direction (home_net: the inside, a netset whose values are
 * non-NULL markers), geo (geo may be NULL: nothing is located) and
 * Community ID, unless f is enriched already. Per flow, not per packet.
 * Never allocates; cannot fail (what cannot be found stays empty). */
void flow_enrich(struct flow *f, const struct netset *home_net, const struct geo *geo);

/* The view of an enriched flow that records are written from. */
struct flow_info {
    const struct flow *f;
    const struct geo_result *dest_geo; /* NULL: the server is inside or not located */
    const struct geo_result *src_geo;  /* NULL: the client is inside or not located */
    const char *direction;             /* "egress", "ingress", "internal", "external" */
    char proto[12];                    /* "TCP", "UDP", "ICMP", "IPv6-ICMP", ... or the number */
    bool has_ports;                    /* TCP, UDP, SCTP: the ports mean something */
    bool is_icmp;                      /* ICMP, ICMPv6: the flow's first type and code do */
    char community_id[COMMUNITY_ID_LEN];
    char app[48]; /* nDPI's label in ndpiReader's form: "TLS.Google", "Unknown" */
    /* Reading files: the -r input of the flow's first packet, as the run's
     * input list names it (borrowed from that list); NULL live. */
    const char *pcap_filename;
};

/* Fill fi from f (which must outlive fi; enriched first, else the facts
 * read as empty) and cl, which names the application. Cannot fail. */
void flow_info_fill(struct flow_info *fi, const struct flow *f, const struct classifier *cl);

/* Name the input fi's flow came from: names[f->input - 1], the run's
 * input list (NULL, or a flow without an input: live, none). Every record
 * writes it as pcap_filename. Cannot fail. */
void flow_info_set_input(struct flow_info *fi, const char *const *names);

/* After f has been copied (with fi, a plain struct copy): point fi at the
 * copy, whose geo names stay valid as long as the databases are open.
 * Cannot fail. */
void flow_info_rebase(struct flow_info *fi, const struct flow *copy);

/* The name of IP protocol p as EVE writes it ("TCP", "ICMP", "IPv6-ICMP",
 * "SCTP", "GRE", ...) or its number written into buf. Cannot fail. */
const char *flow_proto_name(uint8_t p, char buf[4]);

#endif
