/* run-fleet.c -- --from-redis: read the fleet, write its report. */
#include "run-fleet.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fleet.h"
#include "log.h"
#include "output-redis.h"
#include "output-report.h"
#include "redis-url.h"
#include "run.h"
#include "source-redis.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each damaged record the reading skipped, named, then how many more. */
static void log_damage(const struct fleet *f)
{
    const char *key, *field, *why;
    size_t i;
    for (i = 0; (key = fleet_damage_at(f, i, &field, &why)) != NULL; i++)
        log_msg(LOG_WARNING, "%s%s%s%s: %s; skipped", key, field[0] ? " (" : "", field,
                field[0] ? ")" : "", why);
    if (fleet_damaged(f) > i)
        log_msg(LOG_WARNING, "%llu more damaged records skipped (the report counts them)",
                (unsigned long long)(fleet_damaged(f) - i));
}

int run_fleet(const struct run_fleet_config *c)
{
    char err[1024], where[1024];
    const struct sensor_config *cfg = c->cfg;
    struct fleet_source src = {0};
    json_t *doc = NULL;
    int rc = EXIT_RUNTIME;

    /* a report that cannot be written is found before any work */
    if (out_report_check_template(cfg->report_template, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return EXIT_RUNTIME;
    }
    struct fleet *f = fleet_new();
    if (f == NULL) {
        log_msg(LOG_ERR, "out of memory");
        return EXIT_RUNTIME;
    }
    if (c->n_sentinels > 0)
        redis_url_describe_sentinels(where, sizeof(where), c->master_name, c->sentinels,
                                     c->n_sentinels);
    else
        redis_url_describe(c->url, where, sizeof(where));
    struct source_redis_config rc_cfg = {
        .url = c->url,
        .sentinels = c->sentinels,
        .n_sentinels = c->n_sentinels,
        .master_name = c->master_name,
        .connect_ms = cfg->redis_connect_timeout_ms,
        .command_ms = cfg->redis_command_timeout_ms,
        .key_prefix = cfg->redis_key_prefix,
        .stream = cfg->redis_stream,
        .window = c->window,
        .stop = &run_stop,
    };
    double t0 = now_s();
    if (source_redis_fleet(&rc_cfg, f, &src, err, sizeof(err)) < 0) {
        bool auth = strstr(err, "NOAUTH") != NULL || strstr(err, "WRONGPASS") != NULL ||
                    strstr(err, "AUTH failed") != NULL;
        log_msg(LOG_ERR, "%s%s; no report written", err,
                auth ? " (the password: in the URL, " OUT_REDIS_PASSWORD_ENV
                       ", redis.password_file or redis.password)"
                     : "");
        goto done;
    }
    log_damage(f);
    src.redis = where;
    src.key_prefix = cfg->redis_key_prefix;
    src.stream = cfg->redis_stream;
    src.window_max = c->window;
    src.elapsed_s = now_s() - t0;
    struct out_report_src setup = {.cfg = cfg, .pack = c->pack};
    doc = fleet_data(f, &src, &setup);
    if (out_report_write_doc(c->report_path, cfg->report_template, doc, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        goto done;
    }
    if (!c->quiet)
        fprintf(stderr,
                "fleet report %s: %zu sensors, %zu hosts; %llu stream entries read of %llu%s; "
                "%llu damaged records skipped; from %s in %.2f s\n",
                c->report_path, fleet_sensors(f), fleet_hosts(f), (unsigned long long)src.entries,
                (unsigned long long)src.stream_length, src.complete ? " (all)" : "",
                (unsigned long long)fleet_damaged(f), where, src.elapsed_s);
    rc = 0;
done:
    json_decref(doc);
    fleet_free(f);
    return rc;
}
