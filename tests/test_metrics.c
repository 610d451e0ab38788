/* test_metrics.c -- the metrics file: names, types, labels and escaping of
 * the exposition, the counters left out as --stats leaves them, and the
 * atomic replacement (no temporary file left, the old file kept whole when
 * a write fails). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>

#include <cmocka.h>

#include "output-metrics.h"
#include "output-redis.h"
#include "signature.h"
#include "stats.h"

static struct run_counters rc; /* large: not on a stack */

/* The exposition of src for sensor, as a string the caller frees. */
static char *format(const char *sensor, const struct out_metrics_src *src)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    assert_int_equal(out_metrics_format(fp, sensor, src), 0);
    assert_int_equal(fclose(fp), 0);
    return text;
}

static void assert_has(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("no \"%s\" in:\n%s", line, text);
}

static void test_names_types_labels(void **state)
{
    (void)state;
    memset(&rc, 0, sizeof(rc));
    rc.ps.packets = 1400;
    rc.ft.created = 144;
    rc.ft.peak_active = 90;
    rc.ft.ended[FLOW_END_IDLE] = 7;
    rc.ps.flows_by_dir[FLOW_DIR_EGRESS] = 112;
    rc.ps.dec.ctr[DEC_IPV4_BAD_IHL] = 3;
    rc.al.by_severity[SIG_SEV_CRITICAL] = 40;
    rc.det.flows_hit = 82;
    rc.cap.drops = 5;
    struct out_metrics_src src = {.c = &rc, .detection = true, .live = true};
    char *t = format("gw1", &src);

    assert_has(t, "# TYPE egress_sensor_info gauge\n"
                  "egress_sensor_info{sensor=\"gw1\",version=\"" SENSOR_VERSION "\"} 1\n");
    /* a counter named *.total keeps one _total; the others get it */
    assert_has(t, "# HELP egress_sensor_packets_total frames read\n"
                  "# TYPE egress_sensor_packets_total counter\n"
                  "egress_sensor_packets_total{sensor=\"gw1\"} 1400\n");
    assert_has(t, "# TYPE egress_sensor_flows_total counter\n"
                  "egress_sensor_flows_total{sensor=\"gw1\"} 144\n");
    assert_has(t, "# TYPE egress_sensor_flows_lookups_total counter\n");
    /* gauges and peaks: no suffix */
    assert_has(t, "# TYPE egress_sensor_flows_active gauge\n");
    assert_has(t, "# TYPE egress_sensor_flows_peak_active gauge\n"
                  "egress_sensor_flows_peak_active{sensor=\"gw1\"} 90\n");
    /* families: one metric, the dimension a label, HELP and TYPE once */
    assert_has(t,
               "# HELP egress_sensor_flows_end_reason_total flows ended, by the reason they "
               "ended\n# TYPE egress_sensor_flows_end_reason_total counter\n"
               "egress_sensor_flows_end_reason_total{sensor=\"gw1\",end_reason=\"tcp-fin\"} 0\n");
    assert_has(t, "egress_sensor_flows_end_reason_total{sensor=\"gw1\",end_reason=\"idle\"} 7\n");
    assert_has(t, "egress_sensor_flows_direction_total{sensor=\"gw1\",direction=\"egress\"} 112\n");
    assert_has(t, "egress_sensor_decode_total{sensor=\"gw1\",reason=\"ipv4_bad_ihl\"} 3\n");
    assert_has(t, "egress_sensor_detection_by_severity_total{sensor=\"gw1\",severity=\"critical\"}"
                  " 40\n");
    assert_has(t, "egress_sensor_detection_flows_hit_total{sensor=\"gw1\"} 82\n");
    assert_has(t, "egress_sensor_capture_kernel_drops_total{sensor=\"gw1\"} 5\n");
    const char *p = strstr(t, "# TYPE egress_sensor_decode_total");
    assert_non_null(p);
    assert_null(strstr(p + 1, "# TYPE egress_sensor_decode_total"));
    assert_null(strstr(t, "redis")); /* no Redis output */
    free(t);
}

/* As --stats: detection.* only with a pack, capture.* only live; the
 * Redis output's counters with it, its losses a family by reason. */
static void test_left_out(void **state)
{
    (void)state;
    memset(&rc, 0, sizeof(rc));
    struct out_redis_stats rs;
    memset(&rs, 0, sizeof(rs));
    rs.delivered = 12;
    rs.spool_bytes = 4096;
    rs.spool_refused = 2;
    struct out_metrics_src src = {.c = &rc, .rs = &rs, .detection = false, .live = false};
    char *t = format("gw1", &src);
    assert_null(strstr(t, "egress_sensor_detection_"));
    assert_null(strstr(t, "egress_sensor_capture_"));
    assert_has(t, "# TYPE egress_sensor_redis_delivered_total counter\n"
                  "egress_sensor_redis_delivered_total{sensor=\"gw1\"} 12\n");
    assert_has(t, "# TYPE egress_sensor_redis_spool_bytes gauge\n"
                  "egress_sensor_redis_spool_bytes{sensor=\"gw1\"} 4096\n");
    assert_has(t, "# TYPE egress_sensor_redis_lost_total counter\n");
    assert_has(t, "egress_sensor_redis_lost_total{sensor=\"gw1\",reason=\"spool_refused\"} 2\n");
    free(t);
}

/* A sensor name is a label value: '\\', '"' and newline escaped. */
static void test_escaping(void **state)
{
    (void)state;
    memset(&rc, 0, sizeof(rc));
    struct out_metrics_src src = {.c = &rc};
    char *t = format("a\"b\\c\nd", &src);
    assert_has(t, "egress_sensor_packets_total{sensor=\"a\\\"b\\\\c\\nd\"} 0\n");
    free(t);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The file is replaced whole, mode 0644, nothing else left in its folder;
 * a folder that cannot take the file is refused at the start, and a write
 * that fails later leaves the previous file as it was. */
static void test_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_metrics.XXXXXX", path[128], err[256], buf[65536];
    struct out_metrics *m;
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sensor.prom", dir);
    memset(&rc, 0, sizeof(rc));
    struct out_metrics_src src = {.c = &rc};

    assert_int_equal(out_metrics_new(&m, "-", "gw1", 10, err, sizeof(err)), -EINVAL);
    assert_null(m);
    assert_int_equal(out_metrics_new(&m, "/nonexistent-folder/x.prom", "gw1", 10, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-folder/x.prom"));

    assert_int_equal(out_metrics_new(&m, path, "gw1", 10, err, sizeof(err)), 0);
    assert_int_equal(count_entries(dir), 0); /* the check leaves nothing */
    assert_true(out_metrics_due(m, 100.0));  /* the first write is due at once */
    rc.ps.packets = 1;
    assert_int_equal(out_metrics_write(m, &src, 100.0, false), 0);
    assert_false(out_metrics_due(m, 105.0));
    assert_true(out_metrics_due(m, 110.0));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    ino_t first = st.st_ino;
    rc.ps.packets = 2;
    assert_int_equal(out_metrics_write(m, &src, 110.0, false), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_not_equal(st.st_ino, first); /* a new file renamed over it */
    assert_int_equal(count_entries(dir), 1);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_has(buf, "egress_sensor_packets_total{sensor=\"gw1\"} 2\n");

    /* the folder goes read-only (as root: gone): the write fails, the
     * previous file stays whole */
    char moved[160];
    snprintf(moved, sizeof(moved), "%s.moved", dir);
    assert_int_equal(rename(dir, moved), 0);
    rc.ps.packets = 3;
    assert_int_equal(out_metrics_write(m, &src, 120.0, false), -1);
    assert_int_equal(out_metrics_write(m, &src, 130.0, true), -1);
    assert_int_equal(rename(moved, dir), 0);
    assert_int_equal(count_entries(dir), 1);
    fp = fopen(path, "r");
    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_has(buf, "egress_sensor_packets_total{sensor=\"gw1\"} 2\n");
    assert_int_equal(out_metrics_write(m, &src, 140.0, false), 0); /* and again */

    out_metrics_free(m);
    out_metrics_free(NULL);
    assert_false(out_metrics_due(NULL, 0));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_types_labels),
        cmocka_unit_test(test_left_out),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
