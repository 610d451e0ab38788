/* test_redis_url.c -- redis_url_parse(): the URL forms, defaults, and
 * clear errors for the bad ones (which never repeat the password). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "redis-url.h"

static struct redis_url parse_ok(const char *url)
{
    struct redis_url u;
    char err[256] = "";
    int rc = redis_url_parse(url, &u, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: unexpected error: %s", url, err);
    return u;
}

/* Expect an error whose message contains want. */
static void parse_bad(const char *url, const char *want)
{
    struct redis_url u;
    char err[256] = "";
    int rc = redis_url_parse(url, &u, err, sizeof(err));
    if (rc != -1)
        fail_msg("%s: accepted, expected an error containing \"%s\"", url, want);
    if (strstr(err, want) == NULL)
        fail_msg("%s: error \"%s\" does not say \"%s\"", url, err, want);
    assert_non_null(strstr(err, "redis URL"));
    /* after an error *u holds the defaults, never half a URL */
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_string_equal(u.password, "");
}

static void test_host_port_db(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://10.0.0.5:6380/2");
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_string_equal(u.path, "");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");

    u = parse_ok("redis://redis.example.internal:1/15");
    assert_string_equal(u.host, "redis.example.internal");
    assert_int_equal(u.port, 1);
    assert_int_equal(u.db, 15);

    u = parse_ok("redis://127.0.0.1:65535");
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.db, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://127.0.0.1");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);

    u = parse_ok("redis://localhost/");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);

    /* no URL at all: the local default */
    u = parse_ok("");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    u = parse_ok(NULL);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
}

static void test_auth(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://sensor:s3cret@127.0.0.1:6379/1");
    assert_string_equal(u.user, "sensor");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.db, 1);

    /* a password alone (requirepass), default port */
    u = parse_ok("redis://:pw@db.local");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.host, "db.local");
    assert_int_equal(u.port, 6379);

    /* percent-escapes: "p@ss:w/rd" */
    u = parse_ok("redis://:p%40ss%3Aw%2Frd@127.0.0.1");
    assert_string_equal(u.password, "p@ss:w/rd");

    /* empty user and password: no AUTH */
    u = parse_ok("redis://:@127.0.0.1");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");

    /* a user whose password is given elsewhere */
    u = parse_ok("redis://sensor@127.0.0.1");
    assert_string_equal(u.user, "sensor");
    assert_string_equal(u.password, "");
    u = parse_ok("redis://sensor:@127.0.0.1");
    assert_string_equal(u.user, "sensor");
    assert_string_equal(u.password, "");
}

static void test_password_span(void **state)
{
    (void)state;
    size_t off, len;
    const char *url = "redis://sensor:p%40ss@127.0.0.1:6379/2";
    assert_int_equal(redis_url_password_span(url, &off, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(url + off, "p%40ss", 6);
    url = "unix://:pw@/run/redis.sock?db=1";
    assert_int_equal(redis_url_password_span(url, &off, &len), 0);
    assert_memory_equal(url + off, "pw", len);
    assert_int_equal(redis_url_password_span("redis://sensor@h", &off, &len), -1);
    assert_int_equal(redis_url_password_span("redis://:@h", &off, &len), -1);
    assert_int_equal(redis_url_password_span("redis://h:6379/0", &off, &len), -1);
    assert_int_equal(redis_url_password_span("nonsense", &off, &len), -1);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://[::1]:6380");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);

    u = parse_ok("redis://:pw@[fe80::1%eth0]/3");
    assert_string_equal(u.host, "fe80::1%eth0");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.password, "pw");
}

static void test_unix(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("unix:///var/run/redis/redis.sock");
    assert_string_equal(u.path, "/var/run/redis/redis.sock");
    assert_int_equal(u.db, 0);

    u = parse_ok("unix:///tmp/r.sock?db=2");
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_int_equal(u.db, 2);

    u = parse_ok("unix://:pw@/tmp/r.sock");
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_string_equal(u.password, "pw");

    u = parse_ok("unix://sensor:pw@/tmp/r.sock?db=4");
    assert_string_equal(u.user, "sensor");
    assert_int_equal(u.db, 4);

    /* ?db= works for TCP too */
    u = parse_ok("redis://127.0.0.1:6379?db=7");
    assert_int_equal(u.db, 7);
}

/* What a report or a message shows of a URL: never the user or password. */
static void test_describe(void **state)
{
    (void)state;
    char buf[REDIS_URL_PEER_LEN + 32];
    struct redis_url u = parse_ok("redis://sensor:secret@[::1]:6380/2");
    redis_url_describe(&u, buf, sizeof(buf));
    assert_string_equal(buf, "redis://[::1]:6380/2");
    u = parse_ok("unix://:secret@/tmp/r.sock?db=4");
    redis_url_describe(&u, buf, sizeof(buf));
    assert_string_equal(buf, "unix:///tmp/r.sock?db=4");
    u = parse_ok("");
    redis_url_describe(&u, buf, sizeof(buf));
    assert_string_equal(buf, "redis://127.0.0.1:6379/0");
}

static void test_bad_scheme(void **state)
{
    (void)state;
    parse_bad("http://127.0.0.1:6379", "unknown scheme \"http\"");
    parse_bad("127.0.0.1:6379", "expected redis://");
    parse_bad("rediss://127.0.0.1:6380", "TLS");
    parse_bad("REDIS-x://h", "unknown scheme");
}

static void test_bad_port(void **state)
{
    (void)state;
    parse_bad("redis://127.0.0.1:0", "port 0 out of range");
    parse_bad("redis://127.0.0.1:65536", "port 65536 out of range");
    parse_bad("redis://127.0.0.1:99999999999999999999", "out of range");
    parse_bad("redis://127.0.0.1:http", "port \"http\" is not a number");
    parse_bad("redis://127.0.0.1:-1", "not a number");
    parse_bad("redis://127.0.0.1:/0", "empty port");
    parse_bad("redis://[::1]x", "unexpected");
}

static void test_bad_host(void **state)
{
    (void)state;
    parse_bad("redis://", "empty host");
    parse_bad("redis://:6379/0", "empty host");
    parse_bad("redis://:pw@:6379", "empty host");
    parse_bad("redis://[]:6379", "empty host");
    parse_bad("redis://[::1:6379", "unterminated IPv6");
    parse_bad("redis://::1:6379", "brackets");
    parse_bad("redis://[1.2.3.4]:6379", "not an IPv6 address");
    parse_bad("redis://bad host:6379", "bad character ' '");
    parse_bad("unix://host/tmp/r.sock", "no host");
    parse_bad("unix://", "absolute socket path");
    parse_bad("unix://relative.sock", "no host");
}

static void test_bad_db_and_options(void **state)
{
    (void)state;
    parse_bad("redis://127.0.0.1:6379/x", "bad database number \"x\"");
    parse_bad("redis://127.0.0.1:6379/-1", "bad database number");
    parse_bad("redis://127.0.0.1:6379/1/2", "bad database number");
    parse_bad("redis://127.0.0.1:6379/1234567890", "bad database number");
    parse_bad("redis://127.0.0.1/1?db=2", "database given twice");
    parse_bad("unix:///tmp/r.sock?timeout=3", "unknown option \"timeout=3\"");
    parse_bad("unix:///tmp/r.sock?db=x", "bad database number");
    parse_bad("redis://127.0.0.1/0#frag", "'#'");
}

static void test_bad_auth(void **state)
{
    (void)state;
    parse_bad("redis://:p%4@127.0.0.1", "bad %-escape in the password");
    parse_bad("redis://s%zz@127.0.0.1", "bad %-escape in the user name");
    parse_bad("redis://:p%00@127.0.0.1", "%00");

    /* the password never appears in a message */
    struct redis_url u;
    char err[256];
    assert_int_equal(redis_url_parse("redis://:hunter2@127.0.0.1:0", &u, err, sizeof(err)), -1);
    assert_null(strstr(err, "hunter2"));
}

static void test_overlong(void **state)
{
    (void)state;
    char url[4096], big[1024];

    memset(big, 'a', 300);
    big[300] = '\0';
    snprintf(url, sizeof(url), "redis://%s:6379", big); /* host: 255 at most */
    parse_bad(url, "host name longer than 255 bytes");

    memset(big, 'u', 200);
    big[200] = '\0';
    snprintf(url, sizeof(url), "redis://%s:pw@127.0.0.1", big);
    parse_bad(url, "user name longer than 127 bytes");

    memset(big, 'p', 400);
    big[400] = '\0';
    snprintf(url, sizeof(url), "redis://:%s@127.0.0.1", big);
    parse_bad(url, "password longer than 255 bytes");

    memset(big, 'd', 200); /* sun_path holds 107 bytes and the NUL */
    big[200] = '\0';
    snprintf(url, sizeof(url), "unix:///%s", big);
    parse_bad(url, "socket path longer than 107 bytes");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(url, sizeof(url), "redis://127.0.0.1/%s%s%s", big, big, big);
    parse_bad(url, "longer than 2048 bytes");

    /* exactly at the limits is fine */
    memset(big, 'h', 255);
    big[255] = '\0';
    snprintf(url, sizeof(url), "redis://%s", big);
    struct redis_url u = parse_ok(url);
    assert_int_equal(strlen(u.host), 255);
    memset(big, 'p', 255);
    snprintf(url, sizeof(url), "redis://:%s@h", big);
    u = parse_ok(url);
    assert_int_equal(strlen(u.password), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_port_db),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_password_span),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_bad_scheme),
        cmocka_unit_test(test_bad_port),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test(test_bad_db_and_options),
        cmocka_unit_test(test_bad_auth),
        cmocka_unit_test(test_overlong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
