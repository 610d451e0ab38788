/* test_term.c -- text for the terminal: durations, counts, lines wrapped
 * at words, tables laid out from their content and the width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "term.h"

static void test_durations(void **state)
{
    (void)state;
    char b[48];
    assert_string_equal(term_duration(0.0042, b, sizeof(b)), "4 ms");
    assert_string_equal(term_duration(4.25, b, sizeof(b)), "4.2 s");
    assert_string_equal(term_duration(185, b, sizeof(b)), "3 min 5 s");
    assert_string_equal(term_duration(119.6, b, sizeof(b)), "2 min 0 s"); /* never "1 min 60 s" */
    assert_string_equal(term_duration(2 * 3600 + 14 * 60 + 9, b, sizeof(b)), "2 h 14 min");
    assert_string_equal(term_duration(86400 + 3 * 3600, b, sizeof(b)), "1 day 3 h");
    assert_string_equal(term_duration(148168102.3, b, sizeof(b)), "4.7 years");
    assert_string_equal(term_count(1, "flow", "flows", b, sizeof(b)), "1 flow");
    assert_string_equal(term_count(0, "flow", "flows", b, sizeof(b)), "0 flows");
}

/* What was printed, and its widest line. */
static char *printed(void (*fn)(FILE *, void *), void *ud, size_t *widest)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    fn(mem, ud);
    fclose(mem);
    *widest = 0;
    for (const char *p = buf; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > *widest)
            *widest = n;
        p += n + (p[n] == '\n');
    }
    return buf;
}

static void line_40(FILE *fp, void *ud)
{
    (void)ud;
    term_line(fp, 40, "detection",
              "3525 flows matched, 12 named an internal host; 9 alerts (2 critical, 7 high), "
              "supercalifragilisticexpialidocious-name");
}

static void test_lines(void **state)
{
    (void)state;
    size_t w;
    char *s = printed(line_40, NULL, &w);
    /* wrapped under the text, whole words only, the long one whole */
    assert_non_null(strstr(s, "  detection   3525 flows matched, 12\n"));
    assert_non_null(strstr(s, "\n              supercalifragilisticexpialidocious-name\n"));
    assert_null(strstr(s, "matche\n"));
    free(s);
}

static const char *const head[] = {"host", "product", "flows", "seen"};
static const char *const rows[][4] = {
    {"10.1.0.16", "FortiGate / FortiManager / FortiAnalyzer", "12",
     "2023-11-14 22:13:20 .. 2023-11-14 22:13:21"},
    {"10.1.0.17", "FortiGate Cloud", "1", "2023-11-14 22:13:20 .. 2023-11-14 22:13:20"},
};

static void table_at(FILE *fp, void *ud)
{
    unsigned width = *(unsigned *)ud;
    struct term_table *t = term_table_new(4, head, "lwrw");
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(term_table_add(t, rows[i]), 0);
    term_table_print(t, fp, width, 4);
    term_table_free(t);
}

static void test_tables(void **state)
{
    (void)state;
    size_t w;
    unsigned width = 200;
    char *s = printed(table_at, &width, &w);
    /* wide enough: one line per row, columns from the content */
    assert_non_null(strstr(s, "    host       product                                   flows  seen\n"));
    assert_non_null(strstr(s, "    10.1.0.17  FortiGate Cloud                               1  2023"));
    assert_int_equal(w, 4 + 9 + 2 + 40 + 2 + 5 + 2 + 42);
    free(s);

    width = 90; /* narrowed: text wraps at spaces, never before a lone "/" */
    s = printed(table_at, &width, &w);
    assert_true(w <= 90);
    assert_null(strstr(s, " /\n"));
    assert_null(strstr(s, "Forti\n"));
    assert_non_null(strstr(s, "   12  ")); /* numbers keep their column */
    free(s);

    width = 50; /* too narrow for a table: one record per row */
    s = printed(table_at, &width, &w);
    assert_true(w <= 50);
    assert_non_null(strstr(s, "    host 10.1.0.16\n"));
    assert_non_null(strstr(s, "product: FortiGate / FortiManager /"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests_name("term", tests, NULL, NULL);
}
