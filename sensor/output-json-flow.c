/* output-json-flow.c -- EVE-style flow records, one JSON object per line. */
#include "output-json-flow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "classify.h"
#include "flow.h"

struct out_flows {
    FILE *fp;
    bool is_stdout;
    uint64_t written;
    uint64_t errors;
    int first_errno;
    char path[1024];
};

static const char *const dir_names[DIR_MAX] = {"egress", "ingress", "internal", "external"};

const char *out_direction_name(int d)
{
    return d >= 0 && d < DIR_MAX ? dir_names[d] : "unknown";
}

struct out_flows *out_flows_open(const char *path, char *errbuf, size_t errlen)
{
    struct out_flows *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    snprintf(o->path, sizeof(o->path), "%s", path);
    if (strcmp(path, "-") == 0) {
        o->fp = stdout;
        o->is_stdout = true;
    } else {
        o->fp = fopen(path, "w");
        if (o->fp == NULL) {
            snprintf(errbuf, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
            free(o);
            return NULL;
        }
    }
    return o;
}

int out_flows_close(struct out_flows *o, char *errbuf, size_t errlen)
{
    if (o == NULL)
        return 0;
    int rc = 0;
    if (fflush(o->fp) != 0 && o->errors == 0) {
        o->errors++;
        o->first_errno = errno;
    }
    if (!o->is_stdout && fclose(o->fp) != 0 && o->errors == 0) {
        o->errors++;
        o->first_errno = errno;
    }
    if (o->errors) {
        snprintf(errbuf, errlen, "%s: %llu flow records not written: %s", o->path,
                 (unsigned long long)o->errors, strerror(o->first_errno));
        rc = -1;
    }
    free(o);
    return rc;
}

void out_format_time(uint64_t us, char *buf, size_t len)
{
    time_t sec = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06u+0000", base, (unsigned)(us % 1000000u));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void out_json_set_str(json_t *obj, const char *key, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i, n;
    for (i = 0; i < len && (n = utf8_seq(u + i)) != 0; i += n)
        ;
    if (i == len) { /* valid UTF-8: the common case */
        json_object_set_new(obj, key, json_stringn(s, len));
        return;
    }
    char *buf = calloc(1, len * 2 + 1);
    if (buf == NULL)
        return;
    size_t o = 0;
    for (i = 0; i < len;) {
        n = utf8_seq(u + i);
        if (n == 0) { /* carry the byte as U+0080..U+00FF */
            buf[o++] = (char)(0xc0 | (u[i] >> 6));
            buf[o++] = (char)(0x80 | (u[i] & 0x3f));
            i++;
        } else {
            memcpy(buf + o, u + i, n);
            o += n;
            i += n;
        }
    }
    json_object_set_new(obj, key, json_stringn(buf, o));
    free(buf);
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
    switch (p) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "IPv6-ICMP";
    case 132:
        return "SCTP";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    case 51:
        return "AH";
    default:
        snprintf(buf, len, "%u", p);
        return buf;
    }
}

static void set_addr(json_t *o, const char *key, int ipver, const uint8_t *a)
{
    char s[INET6_ADDRSTRLEN];
    inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, a, s, sizeof(s));
    json_object_set_new(o, key, json_string(s));
}

static json_t *geo_json(const struct geo_result *g)
{
    json_t *o = json_object();
    out_json_set_str(o, "country_code", g->country);
    if (g->asn)
        json_object_set_new(o, "asn", json_integer(g->asn));
    out_json_set_str(o, "as_org", g->as_org);
    return o;
}

json_t *out_flow_json(const struct flow_info *fi)
{
    const struct flow *f = fi->f;
    const struct flow_key *k = &f->key;
    char tbuf[40], pbuf[8];
    json_t *o = json_object();
    if (o == NULL)
        return NULL;

    out_format_time(f->first_us, tbuf, sizeof(tbuf));
    json_object_set_new(o, "timestamp", json_string(tbuf));
    json_object_set_new(o, "event_type", json_string("flow"));
    bool ports = k->proto == 6 || k->proto == 17 || k->proto == 132;
    set_addr(o, "src_ip", k->ipver, k->src);
    if (ports)
        json_object_set_new(o, "src_port", json_integer(k->sport));
    set_addr(o, "dest_ip", k->ipver, k->dst);
    if (ports)
        json_object_set_new(o, "dest_port", json_integer(k->dport));
    json_object_set_new(o, "proto", json_string(proto_name(k->proto, pbuf, sizeof(pbuf))));
    if (k->proto == 1 || k->proto == 58) {
        json_object_set_new(o, "icmp_type", json_integer(f->icmp_type));
        json_object_set_new(o, "icmp_code", json_integer(f->icmp_code));
    }
    if (k->vlan) {
        json_t *v = json_array();
        json_array_append_new(v, json_integer(k->vlan));
        json_object_set_new(o, "vlan", v);
    }
    out_json_set_str(o, "app", fi->app);
    if (f->flags & FLOW_F_GUESSED)
        json_object_set_new(o, "app_guessed", json_true());
    out_json_set_str(o, "host", flow_meta_get(f, FLOW_META_HOST));
    json_object_set_new(o, "direction", json_string(out_direction_name(fi->direction)));
    out_json_set_str(o, "community_id", fi->community_id);

    json_t *fl = json_object();
    json_object_set_new(fl, "pkts_toserver", json_integer((json_int_t)f->pkts[FLOW_TOSERVER]));
    json_object_set_new(fl, "pkts_toclient", json_integer((json_int_t)f->pkts[FLOW_TOCLIENT]));
    json_object_set_new(fl, "bytes_toserver", json_integer((json_int_t)f->bytes[FLOW_TOSERVER]));
    json_object_set_new(fl, "bytes_toclient", json_integer((json_int_t)f->bytes[FLOW_TOCLIENT]));
    out_format_time(f->first_us, tbuf, sizeof(tbuf));
    json_object_set_new(fl, "start", json_string(tbuf));
    out_format_time(f->last_us, tbuf, sizeof(tbuf));
    json_object_set_new(fl, "end", json_string(tbuf));
    json_object_set_new(fl, "age", json_integer((json_int_t)((f->last_us - f->first_us) / 1000000u)));
    json_object_set_new(fl, "reason", json_string(flow_end_name(f->end_reason)));
    json_object_set_new(o, "flow", fl);

    if (k->proto == 6) {
        char h[4];
        json_t *t = json_object();
        snprintf(h, sizeof(h), "%02x", f->tcp_flags[0] | f->tcp_flags[1]);
        json_object_set_new(t, "tcp_flags", json_string(h));
        snprintf(h, sizeof(h), "%02x", f->tcp_flags[0]);
        json_object_set_new(t, "tcp_flags_ts", json_string(h));
        snprintf(h, sizeof(h), "%02x", f->tcp_flags[1]);
        json_object_set_new(t, "tcp_flags_tc", json_string(h));
        json_object_set_new(o, "tcp", t);
    }

    if (fi->has_dest_geo)
        json_object_set_new(o, "dest_geo", geo_json(&fi->dest_geo));
    if (fi->has_src_geo)
        json_object_set_new(o, "src_geo", geo_json(&fi->src_geo));

    const char *host = flow_meta_get(f, FLOW_META_HOST);
    if (classify_is(f, CLASSIFY_IS_TLS) || classify_is(f, CLASSIFY_IS_QUIC)) {
        json_t *t = json_object();
        out_json_set_str(t, "sni", host);
        out_json_set_str(t, "ja3", flow_meta_get(f, FLOW_META_JA3));
        out_json_set_str(t, "alpn", flow_meta_get(f, FLOW_META_ALPN));
        out_json_set_str(t, "subject", flow_meta_get(f, FLOW_META_SUBJECT));
        out_json_set_str(t, "issuer", flow_meta_get(f, FLOW_META_ISSUER));
        if (json_object_size(t))
            json_object_set_new(o, "tls", t);
        else
            json_decref(t);
    }
    if (classify_is(f, CLASSIFY_IS_HTTP) || flow_meta_get(f, FLOW_META_UA)[0]) {
        json_t *h = json_object();
        if (classify_is(f, CLASSIFY_IS_HTTP))
            out_json_set_str(h, "host", host);
        out_json_set_str(h, "user_agent", flow_meta_get(f, FLOW_META_UA));
        if (json_object_size(h))
            json_object_set_new(o, "http", h);
        else
            json_decref(h);
    }
    if (classify_is(f, CLASSIFY_IS_DNS) && host[0]) {
        json_t *d = json_object();
        out_json_set_str(d, "query", host);
        json_object_set_new(o, "dns", d);
    }
    if (fi->n_risks) {
        json_t *r = json_array();
        for (size_t i = 0; i < fi->n_risks; i++)
            json_array_append_new(r, json_string(fi->risks[i]));
        json_object_set_new(o, "risk", r);
    }
    return o;
}

int out_flows_write(struct out_flows *o, const struct flow_info *fi)
{
    json_t *j = out_flow_json(fi);
    int rc = -1;
    if (j != NULL && json_dumpf(j, o->fp, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
        fputc('\n', o->fp) != EOF) {
        o->written++;
        rc = 0;
    } else if (o->errors++ == 0) {
        o->first_errno = errno ? errno : EIO;
    }
    json_decref(j);
    return rc;
}
