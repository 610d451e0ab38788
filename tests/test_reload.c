/* test_reload.c -- SIGHUP's generation switch: a good configuration and
 * pack are published, each worker takes them at its own tick, the previous
 * generation is freed only once every worker has left it, a second reload
 * waits for the first, and a bad file changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alerts.h"
#include "assets.h"
#include "config.h"
#include "pipeline.h"
#include "reload.h"
#include "signature.h"

#define WORKERS 2

/* One Fortinet signature; the second version adds a Check Point file. */
static const char fortinet_conf[] =
    "vendor = \"Fortinet\";\n"
    "signatures = (\n"
    "  { id = \"fortinet-test-update\"; product = \"FortiGate\"; category = \"update\";\n"
    "    severity = \"medium\"; source = \"test\"; domains = [ \"*.fortiguard.net\" ]; }\n"
    ");\n";
static const char checkpoint_conf[] =
    "vendor = \"Check Point\";\n"
    "signatures = (\n"
    "  { id = \"checkpoint-test-update\"; product = \"Quantum\"; category = \"update\";\n"
    "    severity = \"medium\"; source = \"test\"; domains = [ \"updates.checkpoint.com\" ]; }\n"
    ");\n";

struct fixture {
    char dir[64], sigs[96], conf[96];
    struct sensor_config cfg;
    struct sig_pack *pack;
    struct assets *assets;
    struct alert_sink *sink;
    struct pipeline *pls[WORKERS];
    struct reloader *r;
};

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[512], p[160], conf[256];
    strcpy(fx->dir, "/tmp/test_reload.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    path_in(fx->sigs, sizeof(fx->sigs), fx->dir, "sigs");
    assert_int_equal(mkdir(fx->sigs, 0700), 0);
    path_in(p, sizeof(p), fx->sigs, "fortinet.conf");
    write_file(p, fortinet_conf);
    path_in(fx->conf, sizeof(fx->conf), fx->dir, "sensor.conf");
    snprintf(conf, sizeof(conf),
             "sensor_name = \"reload\";\nsignatures = { dir = \"%s\"; };\n"
             "geo = { country_db = \"\"; asn_db = \"\"; };\nflow = { max_flows = 256; };\n",
             fx->sigs);
    write_file(fx->conf, conf);
    assert_int_equal(config_init_defaults(&fx->cfg), 0);
    if (config_load(&fx->cfg, fx->conf, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    fx->pack = sig_pack_load(fx->sigs, err, sizeof(err));
    if (fx->pack == NULL)
        fail_msg("%s", err);
    fx->assets = assets_new(16);
    fx->sink = alert_sink_new(&fx->cfg, "", true, fx->assets, err, sizeof(err));
    assert_non_null(fx->sink);
    for (int i = 0; i < WORKERS; i++) {
        fx->pls[i] = pipeline_new_share(&fx->cfg, NULL, NULL, fx->pack, fx->sink, 1, WORKERS, err,
                                        sizeof(err));
        assert_non_null(fx->pls[i]);
    }
    fx->r = reloader_new(&fx->cfg, fx->pack, WORKERS); /* takes the pack over */
    assert_non_null(fx->r);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char err[256], p[160];
    for (int i = 0; i < WORKERS; i++) {
        pipeline_flush(fx->pls[i]);
        pipeline_free(fx->pls[i]);
    }
    alert_sink_close(fx->sink, err, sizeof(err));
    reloader_free(fx->r);
    assets_free(fx->assets);
    config_fini(&fx->cfg);
    const char *names[] = {"fortinet.conf", "checkpoint.conf", "zz-broken.conf"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        path_in(p, sizeof(p), fx->sigs, names[i]);
        unlink(p);
    }
    rmdir(fx->sigs);
    unlink(fx->conf);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static int load(struct fixture *fx, char *msg, size_t len)
{
    char restart[256];
    return reloader_load(fx->r, fx->sink, msg, len, restart, sizeof(restart));
}

static void test_generation_switch(void **state)
{
    struct fixture *fx = *state;
    char msg[1536], p[160];

    const struct sensor_config *cfg;
    const struct sig_pack *pack;

    /* nothing new yet: taking it is a no-op, nothing to announce */
    reloader_apply(fx->r, 0, fx->pls[0]);
    assert_int_equal(reloader_collect(fx->r), 0);
    reloader_current(fx->r, &cfg, &pack);
    assert_ptr_equal(cfg, &fx->cfg);
    assert_ptr_equal(pack, fx->pack);

    path_in(p, sizeof(p), fx->sigs, "checkpoint.conf");
    write_file(p, checkpoint_conf);
    assert_int_equal(load(fx, msg, sizeof(msg)), RELOAD_DONE);
    assert_non_null(strstr(msg, "2 signatures in 2 vendor files"));
    /* the newest generation at once, before any worker takes it */
    reloader_current(fx->r, &cfg, &pack);
    assert_ptr_not_equal(cfg, &fx->cfg);
    assert_int_equal(sig_pack_count(pack), 2);

    /* worker 0 has switched, worker 1 not yet: not in effect, and a second
     * reload waits (the previous pack is still in use by worker 1) */
    reloader_apply(fx->r, 0, fx->pls[0]);
    assert_int_equal(reloader_collect(fx->r), 0);
    assert_int_equal(load(fx, msg, sizeof(msg)), RELOAD_BUSY);

    /* both have switched: announced once, and the old pack can go */
    reloader_apply(fx->r, 1, fx->pls[1]);
    assert_int_equal(reloader_collect(fx->r), 1);
    assert_int_equal(reloader_collect(fx->r), 0);
    reloader_apply(fx->r, 1, fx->pls[1]); /* again: a no-op */

    /* now a reload is taken again */
    assert_int_equal(load(fx, msg, sizeof(msg)), RELOAD_DONE);
    for (int i = 0; i < WORKERS; i++)
        reloader_apply(fx->r, (unsigned)i, fx->pls[i]);
    assert_int_equal(reloader_collect(fx->r), 1);
}

static void test_refused(void **state)
{
    struct fixture *fx = *state;
    char msg[1536], p[160];

    /* a broken pack file: refused with its file and line */
    path_in(p, sizeof(p), fx->sigs, "zz-broken.conf");
    write_file(p, "vendor = \"X\";\nsignatures = ( { id = 1; } );\n");
    assert_int_equal(load(fx, msg, sizeof(msg)), RELOAD_REFUSED);
    assert_non_null(strstr(msg, "zz-broken.conf:2"));
    unlink(p);

    /* a broken configuration: refused naming it */
    write_file(fx->conf, "sensor_name = \"reload\";\nno_such_key = 1;\n");
    assert_int_equal(load(fx, msg, sizeof(msg)), RELOAD_REFUSED);
    assert_non_null(strstr(msg, "sensor.conf:2"));

    /* nothing was published: no worker has anything to take */
    for (int i = 0; i < WORKERS; i++)
        reloader_apply(fx->r, (unsigned)i, fx->pls[i]);
    assert_int_equal(reloader_collect(fx->r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generation_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
