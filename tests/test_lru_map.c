/* test_lru_map.c -- bounded LRU hash map: get/put, eviction order, delete, reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lru-map.h"

struct key {
    uint32_t a, b;
};
struct val {
    uint64_t n;
};

static struct key K(uint32_t a) {
    struct key k = {a, a * 7u};
    return k;
}

static void
test_put_get(void **state)
{
    (void)state;
    struct lru_map *m = lru_map_new(4, sizeof(struct key), sizeof(struct val));
    bool c, e;
    struct key k1 = K(1), k2 = K(2);
    struct val *v = lru_map_put(m, &k1, &c, &e);
    assert_true(c);
    assert_false(e);
    assert_int_equal(v->n, 0);
    v->n = 11;
    v = lru_map_put(m, &k1, &c, &e);
    assert_false(c);
    assert_int_equal(v->n, 11);
    assert_null(lru_map_get(m, &k2));
    assert_int_equal(lru_map_count(m), 1);
    lru_map_free(m);
}

static void test_eviction_order(void **state)
{
    (void)state;
    struct lru_map *m = lru_map_new(3, sizeof(struct key), sizeof(struct val));
    bool c, e;
    for (uint32_t i = 1; i <= 3; i++) {
        struct key k = K(i);
        ((struct val *)lru_map_put(m, &k, &c, &e))->n = i;
    }
    struct key k1 = K(1);
    assert_non_null(lru_map_get(m, &k1)); /* 1 is now the most recent: 2 is oldest */
    const void *ok;
    struct val *ov = lru_map_oldest(m, &ok);
    assert_int_equal(ov->n, 2);
    struct key k4 = K(4);
    lru_map_put(m, &k4, &c, &e);
    assert_true(e);
    struct key k2 = K(2), k3 = K(3);
    assert_null(lru_map_get(m, &k2));
    assert_non_null(lru_map_get(m, &k3));
    assert_int_equal(lru_map_count(m), 3);
    assert_int_equal(lru_map_del(m, &k3), 1);
    assert_int_equal(lru_map_del(m, &k3), 0);
    assert_int_equal(lru_map_count(m), 2);
    /* the freed slot is reused without evicting */
    struct key k5 = K(5);
    lru_map_put(m, &k5, &c, &e);
    assert_true(c);
    assert_false(e);
    lru_map_free(m);
}

static void count_cb(const void *key, void *val, void *ud)
{
    (void)key;
    (void)val;
    (*(int *)ud)++;
}

static void test_many(void **state)
{
    (void)state;
    struct lru_map *m = lru_map_new(1000, sizeof(struct key), sizeof(struct val));
    bool c, e;
    int evictions = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        struct key k = K(i);
        ((struct val *)lru_map_put(m, &k, &c, &e))->n = i;
        evictions += e;
    }
    assert_int_equal(evictions, 4000);
    for (uint32_t i = 4000; i < 5000; i++) {
        struct key k = K(i);
        struct val *v = lru_map_get(m, &k);
        assert_non_null(v);
        assert_int_equal(v->n, i);
    }
    int n = 0;
    lru_map_foreach(m, count_cb, &n);
    assert_int_equal(n, 1000);
    assert_null(lru_map_new(0, 8, 8));
    lru_map_free(m);
    lru_map_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests_name("lru_map", tests, NULL, NULL);
}
