/* counters.c -- reading and summing named counters by their descriptors. */
#include "counters.h"

#include <string.h>

uint64_t ctr_get(const struct ctr_desc *d, const void *s)
{
    uint64_t v;
    memcpy(&v, (const unsigned char *)s + d->off, sizeof(v));
    return v;
}

uint64_t *ctr_ptr(const struct ctr_desc *d, void *s)
{
    return (uint64_t *)(void *)((unsigned char *)s + d->off);
}

void ctr_add(const struct ctr_table *t, void *dst, const void *src)
{
    for (size_t i = 0; i < t->n; i++)
        *ctr_ptr(&t->d[i], dst) += ctr_get(&t->d[i], src);
}

const char *ctr_kind_name(int kind)
{
    return kind == CTR_COUNTER ? "counter" : "gauge";
}

const char *ctr_label_value(const struct ctr_desc *d)
{
    const char *dot = strrchr(d->name, '.');
    return dot != NULL ? dot + 1 : d->name;
}
