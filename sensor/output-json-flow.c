/* output-json-flow.c -- EVE-style flow records, one JSON object per line. */
#include "output-json-flow.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "classify.h"
#include "flow.h"
#include "output-json.h"
#include "output-redis.h"
#include "util.h"

struct out_flows {
    pthread_mutex_t lock; /* workers write records concurrently */
    FILE *fp;             /* NULL: no file */
    struct out_redis *redis;
    bool is_stdout;
    uint64_t written;
    uint64_t errors;
    int first_errno;
    char path[1024];
};

#define FLOW_RECORD_MAX 16384

struct out_flows *out_flows_open(const char *path, bool truncate, char *errbuf, size_t errlen)
{
    struct out_flows *o = calloc(1, sizeof(*o));
    if (o != NULL)
        pthread_mutex_init(&o->lock, NULL);
    if (o == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    snprintf(o->path, sizeof(o->path), "%s", path);
    if (path[0] == '\0') {
        o->fp = NULL;
    } else if (strcmp(path, "-") == 0) {
        o->fp = stdout;
        o->is_stdout = true;
    } else {
        o->fp = out_lines_open(path, truncate, errbuf, errlen);
        if (o->fp == NULL) {
            pthread_mutex_destroy(&o->lock);
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
    if (o->fp != NULL && fflush(o->fp) != 0 && o->errors == 0) {
        o->errors++;
        o->first_errno = errno;
    }
    if (o->fp != NULL && !o->is_stdout && fclose(o->fp) != 0 && o->errors == 0) {
        o->errors++;
        o->first_errno = errno;
    }
    if (o->errors) {
        snprintf(errbuf, errlen, "%s: %llu flow records not written: %s", o->path,
                 (unsigned long long)o->errors, strerror(o->first_errno));
        rc = -1;
    }
    pthread_mutex_destroy(&o->lock);
    free(o);
    return rc;
}

void out_json_geo(struct jw *w, const char *key, const struct geo_result *g)
{
    jw_object(w, key);
    jw_str(w, "country_code", g->country);
    if (g->asn)
        jw_u64(w, "asn", g->asn);
    jw_strn(w, "as_org", g->as_org, g->as_org_len);
    jw_end_object(w);
}

void out_json_flow_tuple(struct jw *w, const struct flow_info *fi)
{
    const struct flow *f = fi->f;
    const struct flow_key *k = &f->key;

    jw_ip(w, "src_ip", k->ipver, k->src);
    if (fi->has_ports)
        jw_u64(w, "src_port", k->sport);
    jw_ip(w, "dest_ip", k->ipver, k->dst);
    if (fi->has_ports)
        jw_u64(w, "dest_port", k->dport);
    jw_str(w, "proto", fi->proto);
    if (fi->is_icmp) {
        jw_u64(w, "icmp_type", f->icmp_type);
        jw_u64(w, "icmp_code", f->icmp_code);
    }
    if (k->vlan) {
        jw_array(w, "vlan");
        jw_u64(w, NULL, k->vlan);
        jw_end_array(w);
    }
    jw_str(w, "app", fi->app);
    if (f->flags & FLOW_F_GUESSED)
        jw_bool(w, "app_guessed", true);
    jw_str(w, "host", flow_meta_get(f, FLOW_META_HOST));
    jw_str(w, "direction", fi->direction);
    jw_str(w, "community_id", fi->community_id);
    jw_str(w, "pcap_filename", fi->pcap_filename);
}

static const char hexdig[] = "0123456789abcdef";

static void put_hex8(struct jw *w, const char *key, uint8_t v)
{
    char h[3] = {hexdig[v >> 4], hexdig[v & 15], 0};
    jw_str(w, key, h);
}

size_t out_flow_format(const struct flow_info *fi, char *buf, size_t cap)
{
    const struct flow *f = fi->f;
    const struct flow_key *k = &f->key;
    const char *risks[64];
    struct jw w;

    jw_init(&w, buf, cap);
    jw_object(&w, NULL);
    jw_time(&w, "timestamp", f->first_us);
    jw_str(&w, "event_type", "flow");
    jw_u64(&w, "schema_version", OUT_SCHEMA_FLOW);
    out_json_flow_tuple(&w, fi);
    const char *host = flow_meta_get(f, FLOW_META_HOST);

    jw_object(&w, "flow");
    jw_u64(&w, "pkts_toserver", f->pkts[FLOW_TOSERVER]);
    jw_u64(&w, "pkts_toclient", f->pkts[FLOW_TOCLIENT]);
    jw_u64(&w, "bytes_toserver", f->bytes[FLOW_TOSERVER]);
    jw_u64(&w, "bytes_toclient", f->bytes[FLOW_TOCLIENT]);
    jw_time(&w, "start", f->first_us);
    jw_time(&w, "end", f->last_us);
    jw_u64(&w, "age", (f->last_us - f->first_us) / 1000000u);
    jw_str(&w, "reason", flow_end_name(f->end_reason));
    jw_end_object(&w);

    if (k->proto == 6) {
        jw_object(&w, "tcp");
        put_hex8(&w, "tcp_flags", (uint8_t)(f->tcp_flags[0] | f->tcp_flags[1]));
        put_hex8(&w, "tcp_flags_ts", f->tcp_flags[0]);
        put_hex8(&w, "tcp_flags_tc", f->tcp_flags[1]);
        jw_end_object(&w);
    }
    if (fi->dest_geo != NULL)
        out_json_geo(&w, "dest_geo", fi->dest_geo);
    if (fi->src_geo != NULL)
        out_json_geo(&w, "src_geo", fi->src_geo);

    char ja3[FLOW_JA3_TEXT], ja3s[FLOW_JA3_TEXT], ja4[FLOW_JA4_TEXT];
    flow_fp_ja4(f, ja4);
    if (classify_is(f, CLASSIFY_IS_TLS) || classify_is(f, CLASSIFY_IS_QUIC) || ja4[0]) {
        jw_object(&w, "tls");
        jw_str(&w, "sni", host);
        jw_str(&w, "ja3", flow_fp_ja3(f, 0, ja3));
        jw_str(&w, "ja3s", flow_fp_ja3(f, 1, ja3s));
        jw_str(&w, "ja4", ja4);
        jw_str(&w, "alpn", flow_meta_get(f, FLOW_META_ALPN));
        jw_str(&w, "subject", flow_meta_get(f, FLOW_META_SUBJECT));
        jw_str(&w, "issuer", flow_meta_get(f, FLOW_META_ISSUER));
        jw_end_object(&w);
    }
    int is_http = classify_is(f, CLASSIFY_IS_HTTP);
    const char *ua = flow_meta_get(f, FLOW_META_UA);
    if ((is_http && host[0]) || ua[0]) {
        jw_object(&w, "http");
        if (is_http)
            jw_str(&w, "host", host);
        jw_str(&w, "user_agent", ua);
        jw_end_object(&w);
    }
    if (classify_is(f, CLASSIFY_IS_DNS) && host[0]) {
        jw_object(&w, "dns");
        jw_str(&w, "query", host);
        jw_end_object(&w);
    }
    size_t n_risks = classify_risk_names(f->risk, risks, ARRAY_SIZE(risks));
    if (n_risks) {
        jw_array(&w, "risk");
        for (size_t i = 0; i < n_risks; i++)
            jw_str(&w, NULL, risks[i]);
        jw_end_array(&w);
    }
    jw_end_object(&w);
    return jw_finish(&w);
}

int out_flows_reopen(struct out_flows *o, char *errbuf, size_t errlen)
{
    int rc = 0;
    if (o == NULL)
        return 0;
    pthread_mutex_lock(&o->lock);
    if (o->fp != NULL && !o->is_stdout && out_lines_reopen(&o->fp, o->path, errbuf, errlen) < 0)
        rc = -1;
    pthread_mutex_unlock(&o->lock);
    return rc;
}

void out_flows_flush(struct out_flows *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->lock);
    if (o->fp != NULL && fflush(o->fp) != 0 && o->errors++ == 0)
        o->first_errno = errno;
    pthread_mutex_unlock(&o->lock);
}

void out_flows_set_redis(struct out_flows *o, struct out_redis *r)
{
    if (o != NULL)
        o->redis = r;
}

int out_flows_write(struct out_flows *o, const struct flow_info *fi)
{
    char buf[FLOW_RECORD_MAX];
    int rc = 0;
    size_t n = out_flow_format(fi, buf, sizeof(buf));
    pthread_mutex_lock(&o->lock);
    if (n > 0 && o->redis != NULL)
        out_redis_submit_flow(o->redis, buf, n - 1);
    if (n > 0 && (o->fp == NULL || fwrite(buf, 1, n, o->fp) == n)) {
        o->written++;
    } else {
        if (o->errors++ == 0)
            o->first_errno = n == 0 ? EMSGSIZE : errno ? errno : EIO;
        rc = -1;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}
