/* redis-stats.c -- what the Redis output tells of itself: its counters
 * (named, for --stats, the metrics and the stats hash), the end-of-run
 * summary and the JSON of --stats. Reads only struct out_redis_stats, a
 * snapshot the output took (out_redis_stats()). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "output-redis.h"
#include "util.h"

#define DESC(name, kind, help)                                                                     \
    {"redis." #name, help, kind, offsetof(struct out_redis_stats, name), NULL, NULL},
#define LOSS_DESC(name, phrase)                                                                    \
    {"redis." #name, "alerts lost, by reason",                                                     \
     CTR_COUNTER,    offsetof(struct out_redis_stats, name),                                       \
     "redis.lost",   "reason"},
static const struct ctr_desc out_redis_desc[] = {OUT_REDIS_COUNTERS(DESC)
                                                     OUT_REDIS_LOSSES(LOSS_DESC)};
#undef DESC
#undef LOSS_DESC
const struct ctr_table out_redis_counters = {out_redis_desc, ARRAY_SIZE(out_redis_desc)};
_Static_assert(ARRAY_SIZE(out_redis_desc) <= OUT_REDIS_COUNTERS_MAX,
               "raise OUT_REDIS_COUNTERS_MAX");

/* See output-redis.h. */
uint64_t out_redis_lost(const struct out_redis_stats *st)
{
    uint64_t n = 0;
#define ADD(name, phrase) n += st->name;
    OUT_REDIS_LOSSES(ADD)
#undef ADD
    return n;
}

/* See output-redis.h. */
void out_redis_print_summary(FILE *fp, const struct out_redis_stats *st, const char *where,
                             const char *spool_dir)
{
    uint64_t left = st->queue_depth + st->spool_pending, lost = out_redis_lost(st);
    char when[32] = "";
    if (st->last_error_at > 0) {
        struct tm tm;
        time_t t = (time_t)st->last_error_at;
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%H:%M:%S", &tm);
    }
    fprintf(fp, "  redis       %s: %" PRIu64 " alerts delivered, %" PRIu64 " reconnects; ", where,
            st->delivered, st->reconnects);
    if (left)
        fprintf(fp, "%" PRIu64 " NOT delivered, kept in the spool %s\n", left, spool_dir);
    else
        fprintf(fp, "nothing left in the spool\n");
    if (st->last_error[0])
        fprintf(fp, "              last error%s%s%s: %s\n", when[0] ? " at " : "", when,
                st->last_error_past ? " (past: delivery worked after it)" : "", st->last_error);
    if (lost) {
        fprintf(fp, "              %" PRIu64 " alerts LOST:", lost);
        const char *sep = " ";
#define LINE(name, phrase)                                                                         \
    if (st->name) {                                                                                \
        fprintf(fp, "%s%" PRIu64 " %s", sep, st->name, phrase);                                    \
        sep = "; ";                                                                                \
    }
        OUT_REDIS_LOSSES(LINE)
#undef LINE
        fprintf(fp, "\n");
        if (st->damage[0])
            fprintf(fp, "              spool damage: %s\n", st->damage);
        if (st->spool_error[0] && (st->spool_disk_full || st->spool_write_errors))
            fprintf(fp, "              spool: %s\n", st->spool_error);
    }
    if (st->legacy_records)
        fprintf(fp,
                "              %" PRIu64 " alerts from an older spool delivered with their "
                "json field only\n",
                st->legacy_records);
}

/* See output-redis.h. */
struct json_t *out_redis_stats_json(const struct out_redis_stats *st)
{
    json_t *o = json_object();
    for (size_t i = 0; i < out_redis_counters.n; i++) {
        const struct ctr_desc *d = &out_redis_counters.d[i];
        json_object_set_new(o, ctr_label_value(d), json_integer((json_int_t)ctr_get(d, st)));
    }
    json_object_set_new(o, "spool_damaged_bytes",
                        json_integer((json_int_t)st->spool_damaged_bytes));
    json_object_set_new(o, "lost", json_integer((json_int_t)out_redis_lost(st)));
    json_object_set_new(o, "undelivered",
                        json_integer((json_int_t)(st->queue_depth + st->spool_pending)));
    json_object_set_new(o, "state", json_string(st->state));
    json_object_set_new(o, "last_error", json_string(st->last_error));
    json_object_set_new(o, "last_error_past", json_boolean(st->last_error_past));
    json_object_set_new(o, "spool_damage", json_string(st->damage));
    json_object_set_new(o, "spool_error", json_string(st->spool_error));
    return o;
}
