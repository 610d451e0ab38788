/* test_output_redis.c -- the Redis output without a Redis: what it refuses
 * and counts, the record format it spools (output-redis.h, redis-record.h:
 * every truncation), the summary and the JSON of its counters, the
 * inventory merge (redis-assets.h). Redis is a closed loopback port (1):
 * every alert accepted goes to the spool. */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "output-redis.h"
#include "redis-assets.h"
#include "redis-record.h"
#include "spool.h"

#define NOWHERE "redis://127.0.0.1:1/0"

struct fx {
    char dir[64];
    char spool[96];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/test_output_redis.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->spool);
    struct dirent *de;
    char p[512];
    while (d != NULL && (de = readdir(d)) != NULL) {
        snprintf(p, sizeof(p), "%s/%s", f->spool, de->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->spool);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct out_redis *start(const char *spool, uint64_t spool_max, uint32_t queue)
{
    char err[512];
    struct out_redis_config cfg = {
        .url = NOWHERE,
        .sensor = "t",
        .spool_dir = spool,
        .spool_max_bytes = spool_max,
        .queue_size = queue,
        .connect_timeout_ms = 200,
        .command_timeout_ms = 200,
    };
    struct out_redis *r = out_redis_start(&cfg, err, sizeof(err));
    if (r == NULL)
        fail_msg("out_redis_start: %s", err);
    return r;
}

/* Alert i: two fields and a JSON line of about len bytes. */
static int submit(struct out_redis *r, unsigned i, size_t len)
{
    char id[16], *json = malloc(len + 1);
    snprintf(id, sizeof(id), "a%u", i);
    memset(json, 'x', len);
    int n = snprintf(json, len, "{\"alert_id\":\"%s\",\"pad\":\"", id);
    json[len - 2] = '"';
    json[len - 1] = '}';
    (void)n;
    struct out_redis_field f[] = {{"alert_id", id, strlen(id)}, {"empty", NULL, 0}};
    int rc = out_redis_submit_alert(r, f, 2, json, len);
    free(json);
    return rc;
}

static void test_refused(void **state)
{
    struct fx *f = *state;
    struct out_redis *r = start(f->spool, 8u << 20, 64);
    struct out_redis_field many[OUT_REDIS_FIELDS_MAX + 1];
    char longname[300];
    for (size_t i = 0; i < OUT_REDIS_FIELDS_MAX + 1; i++)
        many[i] = (struct out_redis_field){"f", "v", 1};
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct out_redis_field bad_name[] = {{longname, "v", 1}}, no_name[] = {{"", "v", 1}};
    size_t big = OUT_REDIS_RECORD_MAX + 1;
    char *huge = calloc(1, big);

    assert_int_equal(out_redis_submit_alert(r, many, OUT_REDIS_FIELDS_MAX + 1, "{}", 2), -1);
    assert_int_equal(out_redis_submit_alert(r, bad_name, 1, "{}", 2), -1);
    assert_int_equal(out_redis_submit_alert(r, no_name, 1, "{}", 2), -1);
    assert_int_equal(out_redis_submit_alert(r, many, 1, NULL, 0), -1); /* not formatted */
    assert_int_equal(out_redis_submit_alert(r, many, 1, huge, big), -1);
    assert_int_equal(out_redis_submit_alert(r, many, OUT_REDIS_FIELDS_MAX, "{}", 2), 0);
    free(huge);

    struct out_redis_stats st;
    assert_int_equal(out_redis_finish(r, 0, NULL), 1);
    out_redis_stats(r, &st);
    assert_int_equal(st.submitted, 6);
    assert_int_equal(st.refused_other, 3);
    assert_int_equal(st.refused_large, 2);
    assert_int_equal(st.spooled, 1);
    assert_int_equal(out_redis_lost(&st), 5);
    out_redis_stop(r);
}

/* A spool of 64 KiB behind a queue of 16: what neither takes is counted. */
static void test_spool_full(void **state)
{
    struct fx *f = *state;
    struct out_redis *r = start(f->spool, 64u << 10, 16);
    for (unsigned i = 0; i < 200; i++)
        (void)submit(r, i, 1300);
    char status[160];
    out_redis_status(r, status, sizeof(status));
    if (strncmp(status, "redis ", 6) != 0 || strstr(status, " spooled") == NULL ||
        strstr(status, " LOST") == NULL)
        fail_msg("status line: \"%s\"", status);
    out_redis_status(NULL, status, sizeof(status));
    assert_string_equal(status, "");
    struct out_redis_stats st;
    uint64_t left = out_redis_finish(r, 0, NULL);
    out_redis_stats(r, &st);
    assert_int_equal(st.submitted, 200);
    assert_true(st.spool_refused > 0);
    assert_int_equal(st.spooled + st.spool_refused, 200);
    assert_int_equal(left, st.spooled);
    assert_int_equal(out_redis_lost(&st), st.spool_refused);

    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    out_redis_print_summary(fp, &st, "redis://127.0.0.1:1/0", f->spool);
    fclose(fp);
    char want[64];
    snprintf(want, sizeof(want), "%" PRIu64 " alerts LOST", st.spool_refused);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "refused by a full spool (see redis.spool_max_bytes)"));
    snprintf(want, sizeof(want), "%" PRIu64 " NOT delivered", st.spooled);
    assert_non_null(strstr(text, want));
    free(text);

    json_t *o = out_redis_stats_json(&st);
    assert_int_equal(json_integer_value(json_object_get(o, "spool_refused")), st.spool_refused);
    assert_int_equal(json_integer_value(json_object_get(o, "lost")), st.spool_refused);
    assert_int_equal(json_integer_value(json_object_get(o, "undelivered")), st.spooled);
    json_decref(o);
    out_redis_stop(r);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The spooled record is format 1 of output-redis.h, fields in order. */
static void test_record_format(void **state)
{
    struct fx *f = *state;
    struct out_redis *r = start(f->spool, 8u << 20, 64);
    struct out_redis_field fl[] = {{"alert_id", "x1", 2}, {"dest_port", "443", 3}};
    assert_int_equal(out_redis_submit_alert(r, fl, 2, "{\"a\":1}", 7), 0);
    out_redis_stop(r);

    char err[256];
    uint8_t buf[256];
    struct spool *s = spool_open(f->spool, 8u << 20, err, sizeof(err));
    assert_non_null(s);
    long n = spool_peek(s, buf, sizeof(buf));
    static const uint8_t want_head[] = {0xA1, 2, 8, 'a', 'l', 'e', 'r', 't', '_', 'i', 'd'};
    assert_int_equal(n, 2 + (1 + 8 + 4 + 2) + (1 + 9 + 4 + 3) + 7);
    assert_memory_equal(buf, want_head, sizeof(want_head));
    assert_int_equal(le32(buf + 11), 2);
    assert_memory_equal(buf + 15, "x1", 2);
    assert_int_equal(buf[17], 9);
    assert_memory_equal(buf + 18, "dest_port", 9);
    assert_int_equal(le32(buf + 27), 3);
    assert_memory_equal(buf + 31, "443", 3);
    assert_memory_equal(buf + 34, "{\"a\":1}", 7);
    spool_close(s);
}

/* A record cut at every length: inside its fields it is refused, inside
 * its JSON it decodes with a shorter JSON; never a read past the end. */
static void test_record_truncated(void **state)
{
    (void)state;
    struct out_redis_field f[] = {{"alert_id", "abc", 3}, {"x", "", 0}, {"host", "h.example", 9}};
    const char *json = "{\"alert_id\":\"abc\"}";
    size_t n;
    assert_int_equal(redis_record_size(f, 3, strlen(json), &n), 0);
    char *buf = malloc(n);
    redis_record_encode(buf, f, 3, json, strlen(json));
    size_t fields_end = n - strlen(json);
    struct redis_record rec;
    assert_int_equal(redis_record_decode(buf, n, &rec), REDIS_RECORD_OK);
    assert_int_equal(rec.nf, 3);
    assert_memory_equal(rec.name[2], "host", 4);
    assert_memory_equal(rec.val[2], "h.example", 9);
    assert_int_equal(rec.val_len[1], 0);
    assert_int_equal(rec.json_len, strlen(json));
    for (size_t len = 0; len < n; len++) {
        char *cut = malloc(len ? len : 1); /* exactly len bytes: valgrind sees an overread */
        memcpy(cut, buf, len);
        int rc = redis_record_decode(cut, len, &rec);
        if (len < fields_end)
            assert_int_equal(rc, REDIS_RECORD_BAD);
        else
            assert_true(rc == REDIS_RECORD_OK && rec.json_len == len - fields_end);
        free(cut);
    }
    /* a JSON-only record of an older spool; a record of neither form */
    assert_int_equal(redis_record_decode("{\"a\":1}", 7, &rec), REDIS_RECORD_LEGACY);
    assert_int_equal(rec.nf, 0);
    assert_int_equal(rec.json_len, 7);
    assert_int_equal(redis_record_decode("\xA2\x00{}", 4, &rec), REDIS_RECORD_BAD);
    assert_int_equal(redis_record_decode("\xA1\x21", 2, &rec), REDIS_RECORD_BAD); /* 33 fields */
    free(buf);
}

/* The inventory merge: the rule of redis-assets.h. */
static void test_assets_merge(void **state)
{
    (void)state;
    const char *base =
        "{\"host\":\"10.0.0.1\",\"first_seen\":\"2023-01-01T00:00:00.000000+0000\","
        "\"last_seen\":\"2023-01-02T00:00:00.000000+0000\",\"flows\":3,\"bytes_out\":100,"
        "\"alerts\":2,\"countries\":[\"US\"],\"products\":[{\"vendor\":\"A\",\"product\":\"P\","
        "\"categories\":[\"update\"],\"countries\":[\"US\"],\"flows\":3,\"bytes_out\":100,"
        "\"first_seen\":\"2023-01-01T00:00:00.000000+0000\","
        "\"last_seen\":\"2023-01-02T00:00:00.000000+0000\"}],\"old_only\":1}";
    const char *cur =
        "{\"host\":\"10.0.0.1\",\"first_seen\":\"2023-02-01T00:00:00.000000+0000\","
        "\"last_seen\":\"2023-02-02T00:00:00.000000+0000\",\"flows\":1,\"bytes_out\":10,"
        "\"alerts\":1,\"countries\":[\"CN\",\"US\"],\"products\":[{\"vendor\":\"B\",\"product\":"
        "\"Q\",\"categories\":[\"telemetry\"],\"countries\":[\"CN\"],\"flows\":1,\"bytes_out\":10,"
        "\"first_seen\":\"2023-02-01T00:00:00.000000+0000\","
        "\"last_seen\":\"2023-02-02T00:00:00.000000+0000\"},{\"vendor\":\"A\",\"product\":\"P\","
        "\"categories\":[\"licensing\"],\"countries\":[\"US\"],\"flows\":2,\"bytes_out\":5,"
        "\"first_seen\":\"2023-02-01T00:00:00.000000+0000\","
        "\"last_seen\":\"2023-02-03T00:00:00.000000+0000\"}]}";
    char *m = redis_assets_merge(base, cur, strlen(cur));
    assert_non_null(m);
    json_t *o = json_loads(m, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "first_seen")),
                        "2023-01-01T00:00:00.000000+0000");
    assert_string_equal(json_string_value(json_object_get(o, "last_seen")),
                        "2023-02-02T00:00:00.000000+0000");
    assert_int_equal(json_integer_value(json_object_get(o, "flows")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "bytes_out")), 110);
    assert_int_equal(json_integer_value(json_object_get(o, "alerts")), 3);
    assert_int_equal(json_integer_value(json_object_get(o, "old_only")), 1);
    json_t *cc = json_object_get(o, "countries");
    assert_int_equal(json_array_size(cc), 2);
    assert_string_equal(json_string_value(json_array_get(cc, 0)), "US");
    json_t *pr = json_object_get(o, "products");
    assert_int_equal(json_array_size(pr), 2);
    json_t *a = json_array_get(pr, 0), *b = json_array_get(pr, 1);
    assert_string_equal(json_string_value(json_object_get(a, "vendor")), "A");
    assert_int_equal(json_integer_value(json_object_get(a, "flows")), 5);
    assert_int_equal(json_array_size(json_object_get(a, "categories")), 2);
    assert_string_equal(json_string_value(json_object_get(a, "last_seen")),
                        "2023-02-03T00:00:00.000000+0000");
    assert_string_equal(json_string_value(json_object_get(b, "vendor")), "B");
    json_decref(o);
    free(m);
    /* nothing to merge with, or not JSON objects: written as they are */
    assert_null(redis_assets_merge(NULL, cur, strlen(cur)));
    assert_null(redis_assets_merge("not json", cur, strlen(cur)));
    assert_null(redis_assets_merge(base, "[1]", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_format, setup, teardown),
        cmocka_unit_test(test_record_truncated),
        cmocka_unit_test(test_assets_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
