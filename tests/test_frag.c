/* test_frag.c -- fragment attribution: first/later matching, bounds, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "frag.h"

/* A UDP fragment 10.0.0.1 -> 192.0.2.9, IP id `id`; ports only on the first. */
static struct packet frag(uint32_t id, int first)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.ipver = 4;
    p.l4proto = 17;
    p.src[0] = 10, p.src[3] = 1;
    p.dst[0] = 192, p.dst[2] = 2, p.dst[3] = 9;
    p.frag = first ? PKT_FRAG_FIRST : PKT_FRAG_LATER;
    p.frag_id = id;
    if (first)
        p.sport = 5353, p.dport = 8888;
    return p;
}

static void test_first_then_later(void **state)
{
    (void)state;
    struct frag_table *ft = frag_table_new(8, 30);
    assert_non_null(ft);
    struct packet a = frag(77, 1), b = frag(77, 0), c = frag(78, 0);
    frag_note_first(ft, &a, 1000);
    assert_int_equal(frag_attribute(ft, &b, 2000), 0);
    assert_int_equal(b.sport, 5353);
    assert_int_equal(b.dport, 8888);
    /* another datagram id is not attributed */
    assert_int_equal(frag_attribute(ft, &c, 2000), -1);
    assert_int_equal(c.sport, 0);
    const struct frag_stats *st = frag_table_stats(ft);
    assert_int_equal(st->first, 1);
    assert_int_equal(st->later, 2);
    assert_int_equal(st->matched, 1);
    assert_int_equal(st->orphans, 1);
    frag_table_free(ft);
}

static void test_expiry(void **state)
{
    (void)state;
    struct frag_table *ft = frag_table_new(8, 30);
    struct packet a = frag(1, 1), b = frag(1, 0);
    frag_note_first(ft, &a, 0);
    assert_int_equal(frag_attribute(ft, &b, 31 * 1000000ull), -1);
    assert_int_equal(frag_table_stats(ft)->expired, 1);
    assert_int_equal(frag_table_stats(ft)->active, 0);
    frag_table_free(ft);
}

static void test_bounded(void **state)
{
    (void)state;
    struct frag_table *ft = frag_table_new(4, 30);
    for (uint32_t id = 0; id < 100; id++) {
        struct packet a = frag(id, 1);
        frag_note_first(ft, &a, id);
        assert_true(frag_table_stats(ft)->active <= 4);
    }
    assert_int_equal(frag_table_stats(ft)->evicted, 96);
    /* the newest four are still attributed, the oldest are not */
    struct packet b = frag(99, 0), c = frag(0, 0);
    assert_int_equal(frag_attribute(ft, &b, 200), 0);
    assert_int_equal(frag_attribute(ft, &c, 200), -1);
    frag_table_free(ft);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_then_later),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests_name("frag", tests, NULL, NULL);
}
