/* counters.h -- named counters: one list per module, read by every consumer.
 *
 * A module declares its counters once, as an X-macro list of
 *
 *     X(type, field, "dotted.name", kind, "help")
 *
 * for example
 *
 *     #define FRAG_COUNTERS(X, T)                                           \
 *         X(T, first, "fragments.first", CTR_COUNTER, "first fragments") \
 *         ...
 *     struct frag_stats { FRAG_COUNTERS(CTR_FIELD, struct frag_stats) };
 *
 * and defines its descriptor table in its .c file with CTR_DESC:
 *
 *     const struct ctr_desc frag_counters[] = {
 *         FRAG_COUNTERS(CTR_DESC, struct frag_stats)};
 *
 * Every consumer walks the descriptors: the summing of workers
 * (ctr_add()), --stats (the dotted name is the JSON path), the Redis stats
 * hash and the metrics file. A new counter is one line in its module's
 * list. Every counter is a uint64_t named by its field; nothing reads a
 * stats struct as an array of integers.
 *
 * A family is a set of counters that split one count along a dimension --
 * flows ended, by reason: flows.end_reason.idle, flows.end_reason.tcp-fin,
 * ... Each of its descriptors names the family ("flows.end_reason") and the
 * dimension ("end_reason"); the last part of its name is the dimension's
 * value. --stats nests them by name as any other; the metrics file writes
 * one metric per family with the dimension as a label. CTR_ELEM declares
 * the elements of an array member this way.
 *
 * Summing workers: a counter and a gauge add up (a gauge is a level now,
 * such as the flows held: the total over workers is the sensor's level);
 * a peak adds up too, which gives an upper bound of the sensor's peak (the
 * workers' peaks need not coincide). */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stddef.h>
#include <stdint.h>

enum ctr_kind {
    CTR_COUNTER = 0, /* only grows over a run */
    CTR_GAUGE,       /* a level now: rises and falls */
    CTR_PEAK,        /* the highest level reached */
};

struct ctr_desc {
    const char *name;   /* dotted path, e.g. "flows.end_reason.idle" */
    const char *help;   /* one line for people (metrics HELP); a family's is the family's */
    uint8_t kind;       /* enum ctr_kind */
    size_t off;         /* offsetof the uint64_t in its struct */
    const char *family; /* in a family: its dotted name, "flows.end_reason"; else NULL */
    const char *label;  /* in a family: the dimension's name, "end_reason"; else NULL */
};

/* A module's descriptors. */
struct ctr_table {
    const struct ctr_desc *d;
    size_t n;
};

/* X-macro expanders: a struct member, and a descriptor initialiser. */
#define CTR_FIELD(type, field, name, kind, help) uint64_t field;
#define CTR_DESC(type, field, name, kind, help)                                                    \
    {name, help, kind, offsetof(type, field), NULL, NULL},
/* A descriptor for element idx of an array member (declared by hand): the
 * value value (a string literal) of the dimension label of family, whose
 * help describes the whole family. Its name is family "." value. */
#define CTR_ELEM(type, arr, idx, family, label, value, kind, help)                                 \
    {family "." value, help, kind, offsetof(type, arr) + (idx) * sizeof(uint64_t), family, label},

/* The value of counter d in the struct s it describes. Cannot fail. */
uint64_t ctr_get(const struct ctr_desc *d, const void *s);

/* A pointer to counter d in the struct s. Cannot fail. */
uint64_t *ctr_ptr(const struct ctr_desc *d, void *s);

/* Add every counter of t from src into dst (two structs of t's type).
 * Cannot fail. */
void ctr_add(const struct ctr_table *t, void *dst, const void *src);

/* "counter", "gauge" (a peak is reported as a gauge by metrics). */
const char *ctr_kind_name(int kind);

/* The value of d's dimension: the last part of its dotted name. Cannot
 * fail. */
const char *ctr_label_value(const struct ctr_desc *d);

#endif
