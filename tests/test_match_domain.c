/* test_match_domain.c -- unit tests for sensor/match-domain.c.
 *
 * Label boundaries, case, trailing dots, the order of several matches,
 * pattern validation, and names as hostile as the network can send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match-domain.h"

/* What dm_match() reported, in order. */
struct seen {
    size_t n;
    const char *pattern[16];
    void *value[16];
};

static void record(void *value, const char *pattern, void *ud)
{
    struct seen *s = ud;

    if (s->n < 16) {
        s->pattern[s->n] = pattern;
        s->value[s->n] = value;
    }
    s->n++;
}

/* Values are the addresses of these, so that a test can tell them apart. */
static int v1, v2, v3, v4, v5;

static struct domain_matcher *matcher_of(const char *const *patterns, void *const *values, size_t n)
{
    struct domain_matcher *m = dm_new();
    char err[256];
    size_t i;

    assert_non_null(m);
    for (i = 0; i < n; i++) {
        err[0] = '\0';
        if (dm_add(m, patterns[i], values[i], err, sizeof(err)) != 0)
            fail_msg("dm_add(%s): %s", patterns[i], err);
    }
    return m;
}

/* Number of matches of name, with the first pattern in *first (or NULL). */
static size_t match1(const struct domain_matcher *m, const char *name, const char **first)
{
    struct seen s = {0};
    size_t n = dm_match(m, name, record, &s);

    assert_int_equal(n, s.n);
    if (first != NULL)
        *first = s.n > 0 ? s.pattern[0] : NULL;
    return n;
}

static void test_label_boundaries(void **state)
{
    static const char *const pats[] = {"*.fortiguard.net", "fortinet.com"};
    void *const vals[] = {&v1, &v2};
    struct domain_matcher *m = matcher_of(pats, vals, 2);
    const char *first;

    (void)state;
    assert_int_equal(match1(m, "update.fortiguard.net", &first), 1);
    assert_string_equal(first, "*.fortiguard.net");
    assert_int_equal(match1(m, "a.b.c.fortiguard.net", NULL), 1);
    /* "*.x" matches x itself */
    assert_int_equal(match1(m, "fortiguard.net", &first), 1);
    assert_string_equal(first, "*.fortiguard.net");
    /* not on a label boundary */
    assert_int_equal(match1(m, "myfortiguard.net", NULL), 0);
    assert_int_equal(match1(m, "update.myfortiguard.net", NULL), 0);
    assert_int_equal(match1(m, "fortiguard.net.example.org", NULL), 0);
    assert_int_equal(match1(m, "fortiguard.network", NULL), 0);
    assert_int_equal(match1(m, "net", NULL), 0);
    /* an exact pattern matches that name only */
    assert_int_equal(match1(m, "fortinet.com", &first), 1);
    assert_string_equal(first, "fortinet.com");
    assert_int_equal(match1(m, "www.fortinet.com", NULL), 0);
    assert_int_equal(match1(m, "fortinet.com.example.org", NULL), 0);
    assert_int_equal(match1(m, "myfortinet.com", NULL), 0);
    assert_int_equal(match1(m, "com", NULL), 0);
    dm_free(m);
}

static void test_case_and_trailing_dot(void **state)
{
    static const char *const pats[] = {"*.FortiGuard.NET.", "Service.Example.COM"};
    void *const vals[] = {&v1, &v2};
    struct domain_matcher *m = matcher_of(pats, vals, 2);
    struct seen s = {0};
    const char *first;

    (void)state;
    /* patterns are stored normalised */
    assert_int_equal(match1(m, "UPDATE.fortiguard.Net", &first), 1);
    assert_string_equal(first, "*.fortiguard.net");
    assert_int_equal(match1(m, "update.fortiguard.net.", NULL), 1);
    assert_int_equal(match1(m, "FORTIGUARD.NET.", NULL), 1);
    assert_int_equal(match1(m, "service.example.com.", &first), 1);
    assert_string_equal(first, "service.example.com");
    assert_int_equal(dm_match(m, "SERVICE.EXAMPLE.COM", record, &s), 1);
    assert_ptr_equal(s.value[0], &v2);
    /* only one trailing dot is a trailing dot */
    assert_int_equal(match1(m, "service.example.com..", NULL), 0);
    assert_int_equal(match1(m, ".service.example.com", NULL), 0);
    dm_free(m);
}

static void test_most_specific_first(void **state)
{
    static const char *const pats[] = {"*.net", "*.fortiguard.net", "update.fortiguard.net",
                                       "*.update.fortiguard.net", "other.fortiguard.net"};
    void *const vals[] = {&v1, &v2, &v3, &v4, &v5};
    struct domain_matcher *m = matcher_of(pats, vals, 5);
    struct seen s = {0};

    (void)state;
    assert_int_equal(dm_match(m, "update.fortiguard.net", record, &s), 4);
    assert_string_equal(s.pattern[0], "update.fortiguard.net");
    assert_ptr_equal(s.value[0], &v3);
    assert_string_equal(s.pattern[1], "*.update.fortiguard.net");
    assert_ptr_equal(s.value[1], &v4);
    assert_string_equal(s.pattern[2], "*.fortiguard.net");
    assert_ptr_equal(s.value[2], &v2);
    assert_string_equal(s.pattern[3], "*.net");
    assert_ptr_equal(s.value[3], &v1);

    memset(&s, 0, sizeof(s));
    assert_int_equal(dm_match(m, "a.update.fortiguard.net", record, &s), 3);
    assert_string_equal(s.pattern[0], "*.update.fortiguard.net");
    assert_string_equal(s.pattern[1], "*.fortiguard.net");
    assert_string_equal(s.pattern[2], "*.net");

    /* cb may be NULL: only the count */
    assert_int_equal(dm_match(m, "x.other.fortiguard.net", NULL, NULL), 2);
    assert_int_equal(dm_match(m, "other.fortiguard.net", NULL, NULL), 3);
    assert_int_equal(dm_match(m, "example.org", NULL, NULL), 0);
    dm_free(m);
}

static void test_duplicates_and_get(void **state)
{
    struct domain_matcher *m = dm_new();
    char err[256];

    (void)state;
    assert_non_null(m);
    assert_int_equal(dm_add(m, "*.example.com", &v1, err, sizeof(err)), 0);
    assert_int_equal(dm_add(m, "example.com", &v2, err, sizeof(err)), 0);
    /* the same pattern, spelt differently: kept with its first value */
    assert_int_equal(dm_add(m, "*.EXAMPLE.com.", &v3, err, sizeof(err)), 1);
    assert_int_equal(dm_add(m, "Example.Com", &v3, err, sizeof(err)), 1);
    assert_ptr_equal(dm_get(m, "*.example.com"), &v1);
    assert_ptr_equal(dm_get(m, "*.Example.COM."), &v1);
    assert_ptr_equal(dm_get(m, "example.com"), &v2);
    assert_null(dm_get(m, "www.example.com"));
    assert_null(dm_get(m, "com"));
    assert_null(dm_get(m, "*.com"));
    assert_null(dm_get(m, "a..b"));
    assert_null(dm_get(NULL, "example.com"));
    assert_null(dm_get(m, NULL));
    /* a NULL value is refused */
    assert_int_equal(dm_add(m, "x.example.com", NULL, err, sizeof(err)), -1);
    dm_free(m);
    dm_free(NULL);
}

/* dm_add's message for an invalid pattern, which dm_valid must refuse too. */
static void expect_invalid(const char *pattern, const char *why)
{
    struct domain_matcher *m = dm_new();
    char err[512], want[512];

    assert_non_null(m);
    assert_int_equal(dm_valid(pattern), 0);
    assert_int_equal(dm_add(m, pattern, &v1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "invalid domain pattern \"%.80s\": %s", pattern, why);
    assert_string_equal(err, want);
    /* a failed add leaves nothing that matches */
    assert_int_equal(dm_match(m, "a.b", NULL, NULL), 0);
    dm_free(m);
}

static void test_invalid_patterns(void **state)
{
    char long_name[300], long_label[80];

    (void)state;
    expect_invalid("", "empty");
    expect_invalid(".", "empty");
    expect_invalid("*", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("*.", "no name after \"*.\"");
    expect_invalid("*.*.com", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("foo.*.com", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("*foo.com", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("foo*bar.com", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("foo*", "'*' is allowed only as \"*.name\" or \"prefix*.name\"");
    expect_invalid("foo*.", "empty");
    expect_invalid("a..b", "empty label");
    expect_invalid(".a.b", "empty label");
    expect_invalid("a.b..", "empty label");
    expect_invalid("*..com", "empty label");
    expect_invalid("foo bar.com", "byte 0x20 is not allowed");
    expect_invalid(" foo.com", "byte 0x20 is not allowed");
    expect_invalid("foo.com/x", "character '/' is not allowed");
    expect_invalid("foo:443", "character ':' is not allowed");
    expect_invalid("caf\xc3\xa9.com", "byte 0xc3 is not allowed");

    /* 254 bytes: one too many */
    memset(long_name, 'a', sizeof(long_name));
    for (size_t i = 63; i < 254; i += 64)
        long_name[i] = '.';
    long_name[254] = '\0';
    expect_invalid(long_name, "longer than 253 bytes");
    long_name[299] = '\0';
    expect_invalid(long_name, "longer than 253 bytes");
    memset(long_label, 'b', 64);
    memcpy(long_label + 64, ".com", 5);
    expect_invalid(long_label, "label longer than 63 bytes");

    /* valid ones */
    assert_true(dm_valid("foo*.com"));
    assert_true(dm_valid("dc-*.traps.paloaltonetworks.com"));
    assert_true(dm_valid("a"));
    assert_true(dm_valid("a-b.c-d.example"));
    assert_true(dm_valid("-leading-.and-trailing-.example"));
    assert_true(dm_valid("_dmarc.example.com"));
    assert_true(dm_valid("*.com"));
    assert_true(dm_valid("example.com."));
    assert_true(dm_valid("*.example.com."));
    assert_true(dm_valid("0.1.2.example"));
    long_name[253] = '\0'; /* 253 bytes exactly */
    assert_true(dm_valid(long_name));
    long_name[253] = '.'; /* 253 and a trailing dot */
    long_name[254] = '\0';
    assert_true(dm_valid(long_name));
    memcpy(long_label + 63, ".com", 5); /* a 63-byte label */
    assert_true(dm_valid(long_label));
    assert_false(dm_valid(NULL));
}

static void test_hyphen_labels(void **state)
{
    static const char *const pats[] = {"*.forti-guard.net", "a-b.example"};
    void *const vals[] = {&v1, &v2};
    struct domain_matcher *m = matcher_of(pats, vals, 2);

    (void)state;
    assert_int_equal(match1(m, "x-y.forti-guard.net", NULL), 1);
    assert_int_equal(match1(m, "forti-guard.net", NULL), 1);
    assert_int_equal(match1(m, "fortiguard.net", NULL), 0);
    assert_int_equal(match1(m, "x.forti-guard-net", NULL), 0);
    assert_int_equal(match1(m, "a-b.example", NULL), 1);
    assert_int_equal(match1(m, "a.b.example", NULL), 0);
    assert_int_equal(match1(m, "a-b-example", NULL), 0);
    dm_free(m);
}

static void test_hostile_names(void **state)
{
    static const char *const pats[] = {"*.fortiguard.net", "*.net", "net", "a.net"};
    void *const vals[] = {&v1, &v2, &v3, &v4};
    struct domain_matcher *m = matcher_of(pats, vals, 4);
    char name[1024];
    unsigned b;
    size_t i;

    (void)state;
    assert_int_equal(match1(m, "", NULL), 0);
    assert_int_equal(match1(m, ".", NULL), 0);
    assert_int_equal(match1(m, "..", NULL), 0);
    assert_int_equal(match1(m, "....net", NULL), 0);
    assert_int_equal(match1(m, ".net", NULL), 0);
    assert_int_equal(match1(m, "*.net", NULL), 0);
    assert_int_equal(match1(m, "x .net", NULL), 0);
    assert_int_equal(dm_match(m, NULL, record, NULL), 0);
    assert_int_equal(dm_match(NULL, "a.net", NULL, NULL), 0);

    /* every byte value as a label: only name characters can match */
    for (b = 1; b < 256; b++) {
        size_t n;

        snprintf(name, sizeof(name), "%c.fortiguard.net", (char)b);
        n = dm_match(m, name, NULL, NULL);
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
            b == '-' || b == '_')
            assert_int_equal(n, 2);
        else
            assert_int_equal(n, 0);
    }
    /* bytes 0x80-0xff in the middle and the end */
    assert_int_equal(match1(m, "\x80\xff.fortiguard.net", NULL), 0);
    assert_int_equal(match1(m, "update.fortiguard.n\xe9t", NULL), 0);
    assert_int_equal(match1(m, "\xff\xff\xff", NULL), 0);

    /* only dots, and long names of every kind */
    memset(name, '.', 300);
    name[300] = '\0';
    assert_int_equal(match1(m, name, NULL), 0);
    memset(name, 'a', 300);
    assert_int_equal(match1(m, name, NULL), 0);
    for (i = 1; i < 300; i += 2)
        name[i] = '.';
    assert_int_equal(match1(m, name, NULL), 0); /* 300 bytes, 150 labels */
    memcpy(name + 296, ".net", 5);
    assert_int_equal(match1(m, name, NULL), 0);
    /* 253 bytes of one-byte labels ending in .net: valid, matches "*.net" */
    memset(name, 'a', sizeof(name));
    for (i = 1; i < 250; i += 2)
        name[i] = '.';
    memcpy(name + 250, "net", 4);
    assert_int_equal(strlen(name), 253);
    assert_int_equal(match1(m, name, NULL), 1);
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(match1(m, name, NULL), 0);
    dm_free(m);
}

static void test_empty_matcher(void **state)
{
    struct domain_matcher *m = dm_new();

    (void)state;
    assert_non_null(m);
    assert_int_equal(dm_match(m, "example.com", NULL, NULL), 0);
    dm_free(m);
}

static void test_label_prefix(void **state)
{
    (void)state;
    struct domain_matcher *m = dm_new();
    char err[128];
    assert_int_equal(dm_add(m, "dc-*.traps.paloaltonetworks.com", &v1, err, sizeof(err)), 0);
    assert_int_equal(dm_add(m, "*.traps.paloaltonetworks.com", &v2, err, sizeof(err)), 0);
    assert_int_equal(dm_add(m, "DC-*.traps.paloaltonetworks.com", &v3, err, sizeof(err)), 1);
    assert_ptr_equal(dm_get(m, "dc-*.traps.paloaltonetworks.com"), &v1);
    assert_null(dm_get(m, "cc-*.traps.paloaltonetworks.com"));

    struct seen s = {0};
    /* the tenant label: prefix first, then the suffix */
    assert_int_equal(dm_match(m, "DC-Acme4c1d.traps.paloaltonetworks.com.", record, &s), 2);
    assert_string_equal(s.pattern[0], "dc-*.traps.paloaltonetworks.com");
    assert_ptr_equal(s.value[0], &v1);
    assert_string_equal(s.pattern[1], "*.traps.paloaltonetworks.com");
    /* the bare prefix is a match too ("*" may be empty) */
    assert_int_equal(dm_match(m, "dc-.traps.paloaltonetworks.com", NULL, NULL), 2);
    /* another prefix, a deeper name, the parent itself: only the suffix */
    memset(&s, 0, sizeof(s));
    assert_int_equal(dm_match(m, "ch-acme.traps.paloaltonetworks.com", record, &s), 1);
    assert_string_equal(s.pattern[0], "*.traps.paloaltonetworks.com");
    assert_int_equal(dm_match(m, "x.dc-acme.traps.paloaltonetworks.com", NULL, NULL), 1);
    assert_int_equal(dm_match(m, "traps.paloaltonetworks.com", NULL, NULL), 1);
    /* look-alikes never match */
    assert_int_equal(dm_match(m, "dc-acme.traps.paloaltonetworks.com.evil.example", NULL, NULL), 0);
    assert_int_equal(dm_match(m, "dc-acme.mytraps.paloaltonetworks.com", NULL, NULL), 0);
    dm_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_prefix),          cmocka_unit_test(test_label_boundaries),
        cmocka_unit_test(test_case_and_trailing_dot), cmocka_unit_test(test_most_specific_first),
        cmocka_unit_test(test_duplicates_and_get),    cmocka_unit_test(test_invalid_patterns),
        cmocka_unit_test(test_hyphen_labels),         cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_empty_matcher),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
