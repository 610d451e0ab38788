/* test_report.c -- the HTML report writer: escaping for a script element,
 * template errors, the atomic write, and the data document built from an
 * inventory, evidence and the -r inputs. */
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

#include <cmocka.h>
#include <jansson.h>

#include "alerts.h"
#include "assets.h"
#include "config.h"
#include "evidence.h"
#include "flow.h"
#include "output-report.h"
#include "pipeline.h"
#include "run.h"
#include "signature.h"
#include "stats.h"

#define S 1000000ull

/* A pack with a product name longer than the inventory keeps. */
static const char pack_text[] =
    "vendor = \"Check Point\";\n"
    "signatures = (\n"
    "  { id = \"checkpoint-test-mgmt\"; product = \"Quantum Security Gateway / Smart-1 Cloud\";\n"
    "    category = \"management\"; severity = \"medium\"; source = \"https://example.test/doc\";\n"
    "    note = \"Smart-1 Cloud <management> & logs\"; domains = [ \"*.checkpoint.com\" ]; }\n"
    ");\n";

struct fixture {
    char dir[64];
    char path[128];
    char tpl[128];
    struct sensor_config cfg;
    struct sig_pack *pack;
};

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "r");
    static char buf[1 << 20];
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256], pack_path[128];
    strcpy(fx->dir, "/tmp/test_report.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(pack_path, sizeof(pack_path), "%s/checkpoint.conf", fx->dir);
    write_file(pack_path, pack_text);
    fx->pack = sig_pack_load(fx->dir, err, sizeof(err));
    if (fx->pack == NULL)
        fail_msg("%s", err);
    unlink(pack_path);
    snprintf(fx->path, sizeof(fx->path), "%s/report.html", fx->dir);
    snprintf(fx->tpl, sizeof(fx->tpl), "%s/template.html", fx->dir);
    write_file(fx->tpl, "<html><p>before</p><script type=\"application/json\" "
                        "id=\"report-data\">" OUT_REPORT_PLACEHOLDER "</script><p>after</p>\n");
    assert_int_equal(config_init_defaults(&fx->cfg), 0);
    strcpy(fx->cfg.sensor_name, "unit");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    struct dirent *de;
    char p[384];
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
            continue;
        snprintf(p, sizeof(p), "%s/%s", fx->dir, de->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(fx->dir);
    sig_pack_free(fx->pack);
    config_fini(&fx->cfg);
    free(fx);
    return 0;
}

static void test_escape(void **state)
{
    (void)state;
    /* a server name that would end the script element, and the two line
     * separators JavaScript once refused in strings */
    json_t *s = json_string("</script><b>&amp;\xe2\x80\xa8\xe2\x80\xa9 caf\xc3\xa9");
    char *dump = json_dumps(s, JSON_ENCODE_ANY);
    size_t n;
    char *out = out_report_escape(dump, strlen(dump), &n);
    assert_non_null(out);
    assert_int_equal(strlen(out), n);
    assert_null(strchr(out, '<'));
    assert_null(strchr(out, '>'));
    assert_null(strchr(out, '&'));
    assert_null(strstr(out, "\xe2\x80\xa8"));
    assert_null(strstr(out, "\xe2\x80\xa9"));
    assert_non_null(strstr(out, "\\u003c/script\\u003e"));
    assert_non_null(strstr(out, "caf\xc3\xa9")); /* other text stays as it was */
    json_error_t je;
    json_t *back = json_loads(out, JSON_DECODE_ANY, &je);
    assert_non_null(back);
    assert_true(json_equal(back, s));
    json_decref(back);
    json_decref(s);
    free(dump);
    free(out);
}

static void test_template_errors(void **state)
{
    struct fixture *fx = *state;
    char err[512], p[160];
    snprintf(p, sizeof(p), "%s/missing.html", fx->dir);
    assert_int_equal(out_report_check_template(p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "make report"));
    snprintf(p, sizeof(p), "%s/plain.html", fx->dir);
    write_file(p, "<html></html>\n");
    assert_int_equal(out_report_check_template(p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a report template"));
    write_file(p, OUT_REPORT_PLACEHOLDER OUT_REPORT_PLACEHOLDER);
    assert_int_equal(out_report_check_template(p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(out_report_check_template(fx->tpl, err, sizeof(err)), 0);
}

/* An empty run: what every report has. */
static void empty_src(struct out_report_src *src, struct run_report *rep, struct sensor_config *cfg)
{
    static struct run_counters rc;
    memset(&rc, 0, sizeof(rc));
    memset(rep, 0, sizeof(*rep));
    rep->c = &rc;
    memset(src, 0, sizeof(*src));
    src->rep = rep;
    src->cfg = cfg;
    src->generated_us = 1700000000 * S;
}

static json_t *data_of(const char *html)
{
    const char *a = strstr(html, "id=\"report-data\">");
    assert_non_null(a);
    a += strlen("id=\"report-data\">");
    const char *b = strstr(a, "</script>");
    assert_non_null(b);
    json_error_t je;
    json_t *d = json_loadb(a, (size_t)(b - a), 0, &je);
    if (d == NULL)
        fail_msg("report data: %s", je.text);
    return d;
}

static void test_write(void **state)
{
    struct fixture *fx = *state;
    struct out_report_src src;
    struct run_report rep;
    struct stat st;
    char err[512];
    empty_src(&src, &rep, &fx->cfg);
    assert_int_equal(out_report_write(fx->path, fx->tpl, &src, err, sizeof(err)), 0);
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    const char *html = read_all(fx->path);
    assert_non_null(strstr(html, "<p>before</p>"));
    assert_non_null(strstr(html, "<p>after</p>"));
    assert_null(strstr(html, OUT_REPORT_PLACEHOLDER));
    json_t *d = data_of(html);
    assert_int_equal(json_integer_value(json_object_get(d, "report_version")), 1);
    assert_string_equal(json_string_value(json_object_get(d, "generated")),
                        "2023-11-14T22:13:20.000000Z");
    assert_int_equal(json_array_size(json_object_get(d, "products")), 0);
    assert_true(json_is_null(json_object_get(d, "signature_pack")));
    json_decref(d);

    /* a failure leaves the old report and no temporary file */
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/no-such-dir/report.html", fx->dir);
    assert_int_equal(out_report_write(sub, fx->tpl, &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, sub));
    snprintf(sub, sizeof(sub), "%s/a-dir", fx->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(out_report_write(sub, fx->tpl, &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot replace"));
    rmdir(sub);
    DIR *dir = opendir(fx->dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.' || (de->d_name[1] != '\0' && strcmp(de->d_name, "..") != 0))
            files++;
    closedir(dir);
    assert_int_equal(files, 2); /* template.html and report.html */
    snprintf(sub, sizeof(sub), "%s/missing.html", fx->dir);
    assert_int_equal(out_report_write(fx->path, sub, &src, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "make report"));
}

/* An inventory and evidence for one host: the finding carries the whole
 * product name, its indicator, network and sample with its capture file;
 * the signature's note is escaped in the page. */
static void test_findings(void **state)
{
    struct fixture *fx = *state;
    const struct signature *sig = sig_pack_get(fx->pack, 0);
    struct assets *assets = assets_new(8);
    struct evidence *ev = evidence_new(8);
    struct flow f;
    struct alert_flow af;
    struct sig_hit h;
    struct out_report_src src;
    struct run_report rep;
    char err[512];

    memset(&f, 0, sizeof(f));
    f.key.ipver = 4, f.key.proto = 6, f.key.sport = 40000, f.key.dport = 443;
    memcpy(f.key.src, "\x0a\x06\x00\x0f", 4);
    memcpy(f.key.dst, "\xc2\x1d\x24\x0b", 4);
    f.first_us = f.last_us = 1700000000 * S;
    f.input = 2;
    flow_meta_set(&f, FLOW_META_HOST, "cloud.checkpoint.com");
    static const struct geo_result cp_il = {"Check Point Software Technologies Inc.", 31997, "IL",
                                            38};
    struct flow_info fi;
    memset(&fi, 0, sizeof(fi));
    fi.f = &f;
    strcpy(fi.app, "TLS");
    strcpy(fi.proto, "TCP");
    fi.has_ports = true;
    fi.direction = "egress";
    strcpy(fi.community_id, "1:xyz=");
    fi.dest_geo = &cp_il;
    memset(&af, 0, sizeof(af));
    af.fi = &fi;
    af.ts_us = f.first_us;
    memset(&h, 0, sizeof(h));
    h.sig = sig;
    h.confidence = SIG_CONF_HIGH;
    h.n_ev = 1;
    h.ev[0].kind = SIG_EV_TLS_SNI;
    h.ev[0].value = "cloud.checkpoint.com";
    h.ev[0].pattern = "*.checkpoint.com";
    struct assets_ident id = {4, f.key.src, sig, "IL", af.ts_us, 1, &h.ev[0], NULL};
    assert_int_equal(assets_identify(assets, &id), 1);
    assets_note_alert(assets, 4, f.key.src);
    assets_add_bytes(assets, 4, f.key.src, sig, 1234);
    evidence_note_hit(ev, &af, &h);
    struct alert_rec a = {.sensor = "unit", .af = &af, .hit = &h, .severity = SIG_SEV_HIGH};
    strcpy(a.alert_id, "00112233445566778899aabbccddeeff");
    evidence_note_alert(ev, &a);

    struct run_input inputs[2] = {{.path = "caps/one.pcap", .packets = 1},
                                  {.path = "caps/two.pcap", .packets = 2}};
    empty_src(&src, &rep, &fx->cfg);
    rep.inputs = inputs;
    rep.n_inputs = 2;
    src.pack = fx->pack;
    src.assets = assets;
    src.ev = ev;
    assert_int_equal(out_report_write(fx->path, fx->tpl, &src, err, sizeof(err)), 0);
    const char *html = read_all(fx->path);
    assert_null(strstr(html, "<management>")); /* the note is escaped */
    json_t *d = data_of(html);
    json_t *p = json_array_get(json_object_get(d, "products"), 0);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "host")), "10.6.0.15");
    assert_string_equal(json_string_value(json_object_get(p, "product")),
                        "Quantum Security Gateway / Smart-1 Cloud");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "relation"), 0)),
                        "runs");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "identified_by"), "value")),
        "cloud.checkpoint.com");
    assert_int_equal(json_integer_value(json_object_get(p, "bytes_out")), 1234);
    assert_int_equal(json_integer_value(json_object_get(p, "alerts")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "high");
    json_t *net = json_array_get(json_object_get(p, "networks"), 0);
    assert_int_equal(json_integer_value(json_object_get(net, "asn")), 31997);
    json_t *ind = json_array_get(json_object_get(p, "indicators"), 0);
    assert_string_equal(json_string_value(json_object_get(ind, "kind")), "tls_sni");
    assert_string_equal(json_string_value(json_object_get(ind, "pattern")), "*.checkpoint.com");
    json_t *s = json_array_get(json_object_get(p, "samples"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "capture_file")), "two.pcap");
    assert_string_equal(json_string_value(json_object_get(s, "community_id")), "1:xyz=");
    assert_string_equal(json_string_value(json_object_get(s, "dest_ip")), "194.29.36.11");
    assert_string_equal(json_string_value(json_object_get(s, "timestamp")),
                        "2023-11-14T22:13:20.000000Z");
    json_t *sigs = json_object_get(d, "signatures");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sigs, sig->id), "note")),
                        "Smart-1 Cloud <management> & logs");
    json_t *tl = json_object_get(d, "timeline");
    assert_int_equal(json_integer_value(json_object_get(tl, "buckets")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(tl, "series"), 0), "product")),
                        "Quantum Security Gateway / Smart-1 Cloud");
    json_t *files = json_object_get(json_object_get(d, "run"), "inputs");
    assert_string_equal(json_string_value(json_object_get(json_array_get(files, 1), "name")),
                        "two.pcap");
    json_decref(d);
    assets_free(assets);
    evidence_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test_setup_teardown(test_template_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_findings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
