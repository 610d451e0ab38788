/* run-fleet.h -- --from-redis: the report of a fleet, made from what its
 * sensors pushed to one Redis (source-redis.h reads it, fleet.h makes the
 * report's data of it); no traffic is read and nothing is written to
 * Redis. */
#ifndef RUN_FLEET_H
#define RUN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sensor_config;
struct sig_pack;
struct redis_url;

struct run_fleet_config {
    const char *report_path;         /* --report */
    const struct sensor_config *cfg; /* report.template, redis.key_prefix, redis.stream, timeouts */
    const struct sig_pack *pack;     /* whole names and notes of the signatures; may be NULL */
    const struct redis_url *url;     /* where, the password settled (out_redis_endpoints()) */
    const struct redis_url *sentinels; /* n_sentinels to ask for the master, or NULL */
    size_t n_sentinels;
    const char *master_name; /* with sentinels */
    uint64_t window;         /* stream entries to read at most */
    bool quiet;              /* no summary line */
};

/* Check the template, read the fleet, log each damaged record it skipped
 * (the first FLEET_DAMAGE_KEPT, then their count), write the report and,
 * unless quiet, a summary line on standard error. Returns the exit code:
 * 0, or EXIT_RUNTIME when the template is missing, Redis cannot be read
 * (down, the password refused, a command refused, interrupted) or the
 * report cannot be written (the message names the file or the server). */
int run_fleet(const struct run_fleet_config *c);

#endif
