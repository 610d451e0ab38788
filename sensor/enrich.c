/* enrich.c -- a flow's direction, geo and Community ID, once; its record view. */
#include "enrich.h"

#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "classify.h"
#include "flow.h"
#include "netset.h"

void flow_enrich(struct flow *f, const struct netset *home_net, const struct geo *geo)
{
    if (f->flags & FLOW_F_ENRICHED)
        return;
    f->flags |= FLOW_F_ENRICHED;

    const struct flow_key *k = &f->key;
    int af = k->ipver == 6 ? 6 : 4;
    bool src_in = netset_lookup(home_net, af, k->src, NULL) != NULL;
    bool dst_in = netset_lookup(home_net, af, k->dst, NULL) != NULL;
    f->direction = (uint8_t)(src_in ? (dst_in ? FLOW_DIR_INTERNAL : FLOW_DIR_EGRESS)
                                    : (dst_in ? FLOW_DIR_INGRESS : FLOW_DIR_EXTERNAL));

    memset(&f->dst_geo, 0, sizeof(f->dst_geo));
    memset(&f->src_geo, 0, sizeof(f->src_geo));
    if (geo != NULL && !dst_in)
        geo_lookup(geo, af, k->dst, &f->dst_geo);
    if (geo != NULL && !src_in)
        geo_lookup(geo, af, k->src, &f->src_geo);

    /* For ICMP the specification hashes the type and code as ports. */
    uint16_t sp = k->sport, dp = k->dport;
    if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6)
        sp = f->icmp_type, dp = f->icmp_code;
    community_id_v1_hash(0, af, k->src, k->dst, k->proto, sp, dp, f->cid);
}

static bool located(const struct geo_result *g)
{
    return g->country[0] != '\0' || g->asn != 0 || g->as_org != NULL;
}

const char *flow_proto_name(uint8_t p, char buf[4])
{
    switch (p) {
    case IPPROTO_ICMP:
        return "ICMP";
    case IPPROTO_TCP:
        return "TCP";
    case IPPROTO_UDP:
        return "UDP";
    case IPPROTO_ICMPV6:
        return "IPv6-ICMP";
    case IPPROTO_SCTP:
        return "SCTP";
    case IPPROTO_GRE:
        return "GRE";
    case IPPROTO_ESP:
        return "ESP";
    case IPPROTO_AH:
        return "AH";
    default:
        snprintf(buf, 4, "%u", p);
        return buf;
    }
}

void flow_info_fill(struct flow_info *fi, const struct flow *f, const struct classifier *cl)
{
    const struct flow_key *k = &f->key;
    memset(fi, 0, sizeof(*fi));
    fi->f = f;
    char num[4];
    snprintf(fi->proto, sizeof(fi->proto), "%s", flow_proto_name(k->proto, num));
    fi->has_ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP;
    fi->is_icmp = k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;
    if (f->flags & FLOW_F_ENRICHED) {
        fi->direction = flow_direction_name(f->direction);
        fi->dest_geo = located(&f->dst_geo) ? &f->dst_geo : NULL;
        fi->src_geo = located(&f->src_geo) ? &f->src_geo : NULL;
        community_id_encode(f->cid, fi->community_id);
    } else {
        fi->direction = "";
    }
    classify_app_name(cl, f, fi->app, sizeof(fi->app));
}

void flow_info_set_input(struct flow_info *fi, const char *const *names)
{
    fi->pcap_filename = names != NULL && fi->f->input > 0 ? names[fi->f->input - 1] : NULL;
}

void flow_info_rebase(struct flow_info *fi, const struct flow *copy)
{
    fi->f = copy;
    fi->dest_geo = fi->dest_geo != NULL ? &copy->dst_geo : NULL;
    fi->src_geo = fi->src_geo != NULL ? &copy->src_geo : NULL;
}
