/* bench_redis.c -- alerts per second delivered to a Redis server through the
 * output thread (queue, pipelining, XADD with flat fields), live from the
 * queue or replayed from the spool. A benchmark, run by `make bench`; never
 * a pass/fail test.
 *
 * usage: bench_redis live|replay URL SPOOL_DIR [COUNT]
 *
 *   live    submit COUNT alerts, time until Redis has them all
 *   replay  spool COUNT alerts (the output pointed at a closed port), then
 *           time a new output on URL until it has replayed them all
 *
 * Prints one JSON object: alerts, seconds, alerts_per_s, undelivered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output-redis.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct out_redis *start(const char *url, const char *spool)
{
    char err[512];
    struct out_redis_config cfg = {
        .url = url,
        .sensor = "bench",
        .key_prefix = "bench",
        .stream = "bench:alerts",
        .maxlen = 1000000,
        .channel = "",
        .flows_stream = "",
        .master_name = "",
        .spool_dir = spool,
        .spool_max_bytes = 1u << 30,
        .queue_size = 65536,
        .connect_timeout_ms = 1000,
        .command_timeout_ms = 5000,
        .stats_interval_s = 5,
        .quiet = true,
    };
    struct out_redis *r = out_redis_start(&cfg, err, sizeof(err));
    if (r == NULL)
        fprintf(stderr, "bench_redis: %s\n", err);
    return r;
}

static struct out_redis_field field(const char *name, const char *value)
{
    return (struct out_redis_field){name, value, strlen(value)};
}

/* A realistic alert (about 1.3 KB) and its flat fields, alert i. */
static void submit(struct out_redis *r, long i)
{
    static const char tmpl[] =
        "{\"timestamp\":\"2023-11-14T22:13:20.530050+0000\",\"event_type\":\"alert\","
        "\"alert_id\":\"%032lx\",\"sensor\":\"bench\",\"src_ip\":\"192.168.10.1\","
        "\"src_port\":43000,\"dest_ip\":\"96.45.33.64\",\"dest_port\":443,\"proto\":\"TCP\","
        "\"app\":\"TLS\",\"host\":\"globalupdate.fortinet.net\",\"community_id\":"
        "\"1:MFgojXlLM7d2kO+MwuxWFZVsEs4=\",\"dest_geo\":{\"country_code\":\"US\",\"asn\":40934,"
        "\"as_org\":\"Fortinet Inc.\"},\"alert\":{\"signature_id\":\"fortinet-fortiguard-update\","
        "\"signature\":\"Fortinet FortiGate / FortiGuard update: FortiGuard AV/IPS and firmware "
        "update servers\",\"vendor\":\"Fortinet\",\"product\":\"FortiGate / FortiGuard\","
        "\"category\":\"update\",\"severity\":\"high\",\"confidence\":\"high\",\"source\":"
        "\"https://docs.fortinet.com/document/fortigate/7.0.0/new-features/326523\","
        "\"evidence\":[{\"kind\":\"tls_sni\",\"value\":\"globalupdate.fortinet.net\","
        "\"pattern\":\"globalupdate.fortinet.net\"}]},\"flow\":{\"pkts_toserver\":6,"
        "\"pkts_toclient\":4,\"bytes_toserver\":440,\"bytes_toclient\":266,\"start\":"
        "\"2023-11-14T22:13:20.474299+0000\"}}";
    char buf[2048], id[40];
    int n = snprintf(buf, sizeof(buf), tmpl, (unsigned long)i);
    snprintf(id, sizeof(id), "%032lx", (unsigned long)i);
    struct out_redis_field f[] = {
        field("alert_id", id),
        field("timestamp", "2023-11-14T22:13:20.530050+0000"),
        field("sensor", "bench"),
        field("severity", "high"),
        field("vendor", "Fortinet"),
        field("product", "FortiGate / FortiGuard"),
        field("category", "update"),
        field("src_ip", "192.168.10.1"),
        field("dest_ip", "96.45.33.64"),
        field("dest_port", "443"),
        field("country_code", "US"),
        field("asn", "40934"),
        field("host", "globalupdate.fortinet.net"),
        field("community_id", "1:MFgojXlLM7d2kO+MwuxWFZVsEs4="),
    };
    out_redis_submit_alert(r, f, sizeof(f) / sizeof(f[0]), buf, (size_t)n);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "live") != 0 && strcmp(argv[1], "replay") != 0)) {
        fprintf(stderr, "usage: bench_redis live|replay URL SPOOL_DIR [COUNT]\n");
        return 2;
    }
    int replay = strcmp(argv[1], "replay") == 0;
    long count = argc > 4 ? atol(argv[4]) : 100000;
    struct out_redis *r;
    if (replay) { /* fill the spool: nobody listens on port 1 */
        if ((r = start("redis://127.0.0.1:1/0", argv[3])) == NULL)
            return 1;
        for (long i = 0; i < count; i++)
            submit(r, i);
        out_redis_stop(r);
    }
    if ((r = start(argv[2], argv[3])) == NULL)
        return 1;
    double t0 = now_s();
    if (!replay)
        for (long i = 0; i < count; i++)
            submit(r, i);
    uint64_t left = out_redis_drain(r, 300000, NULL);
    double t1 = now_s();
    struct out_redis_stats st;
    out_redis_stats(r, &st);
    out_redis_stop(r);
    printf("{\"mode\": \"%s\", \"alerts\": %ld, \"seconds\": %.3f, \"alerts_per_s\": %.0f, "
           "\"undelivered\": %llu, \"spooled\": %llu}\n",
           argv[1], count, t1 - t0, (double)count / (t1 - t0), (unsigned long long)left,
           (unsigned long long)st.spooled);
    return left ? 1 : 0;
}
