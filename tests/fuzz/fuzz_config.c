/* fuzz_config.c -- config_load() on arbitrary configuration files.
 *
 * Input: the whole text of a sensor configuration (libconfig syntax),
 * written to one file in a temporary folder made once per process, then
 * config_init_defaults() + config_load() + config_fini(), as main.c does.
 * Checked: the result is 0 or -1, an error always leaves a message, a
 * success records the file as its source and keeps the values in range
 * (the TTL bounds ordered, lists within their arrays). */
#include <string.h>

#include "config.h"
#include "fuzz-util.h"

static struct sensor_config cfg; /* large: static rather than on the stack */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tmpdir("sensor.conf");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (fuzz_write_input(data, size) < 0)
        return 0;
    FUZZ_CHECK(config_init_defaults(&cfg) == 0);
    err[0] = 'x';
    err[1] = '\0';
    int rc = config_load(&cfg, fuzz_file, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (rc < 0) {
        FUZZ_CHECK(err[0] != '\0');
    } else {
        FUZZ_CHECK(strcmp(cfg.source, fuzz_file) == 0);
        FUZZ_CHECK(cfg.dns_min_ttl <= cfg.dns_max_ttl);
        FUZZ_CHECK(cfg.n_home_net <= CONFIG_MAX_HOME_NET);
        FUZZ_CHECK(cfg.n_home_countries <= CONFIG_MAX_COUNTRIES);
        FUZZ_CHECK(cfg.n_redis_sentinels <= CONFIG_MAX_SENTINELS);
        FUZZ_CHECK(cfg.max_flows >= 1);
        for (unsigned i = 0; i < cfg.n_home_countries; i++)
            FUZZ_CHECK(config_is_home_country(&cfg, cfg.home_countries[i]));
    }
    config_fini(&cfg);
    return 0;
}
