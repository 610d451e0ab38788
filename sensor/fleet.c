/* fleet.c -- the fleet view: the sensors' records in Redis made into the
 * report's data document.
 *
 * Every record is checked field by field against what the README
 * documents before anything of it is kept (struct chk: the first problem
 * is remembered and every later read returns a harmless default), so a
 * damaged record leaves nothing half added. */
#include "fleet.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "output-json.h"
#include "output-report.h"
#include "pipeline.h"
#include "signature.h"
#include "util.h"

#define SENSOR_NAME_MAX 255
/* Egress tallies of the window's alerts (as the run's: stats.h). */
#define FLEET_AS_SLOTS 1024
#define FLEET_APP_SLOTS 256
/* Entries in a record's lists (countries, categories) taken at most. */
#define FLEET_LIST_MAX 64

enum { HB_SILENT, HB_RUNNING, HB_STOPPED };

struct sensor_rec {
    char *name;
    json_t *counters; /* dotted name -> integer, from the stats hash */
    json_t *text;     /* updated, redis.state, redis.last_error -> string */
    int hb;           /* HB_* */
    uint64_t hb_us;   /* the heartbeat's time, or when it stopped */
    uint64_t hosts, findings, alerts, events;
};

/* One (sensor, host, vendor, product) of the inventories. */
struct finding {
    int sensor;
    int af;
    uint8_t addr[16];
    json_t *obj; /* the "products" entry, evidence added by fleet_data() */
    json_t *indicators, *networks, *samples;
    uint64_t alerts;
    int max_sev, max_conf; /* -1 before the first alert */
};

struct host_rec {
    int sensor;
    int af;
    uint8_t addr[16];
    json_t *obj; /* the "hosts" entry */
};

/* An alert of the window, for the timeline. */
struct tl_rec {
    uint32_t series;
    uint64_t ts_us, bytes_out;
};

struct damage {
    char *key, *field, *why;
};

struct fleet {
    struct sensor_rec *sensors;
    size_t n_sensors;
    json_t *sensor_idx; /* name -> index */
    uint64_t sensors_dropped;

    struct host_rec *hosts;
    size_t n_hosts, cap_hosts;
    struct finding *findings;
    size_t n_findings, cap_findings;
    json_t *host_idx;    /* sensor \x1f host -> 1 */
    json_t *finding_idx; /* sensor \x1f host \x1f vendor \x1f product -> index */
    uint64_t hosts_dropped, products_dropped, findings_dropped;
    uint64_t first_us, last_us; /* traffic times the records name */

    /* the window */
    uint64_t alerts, events, others, alerts_without_finding, events_omitted;
    json_t *events_arr;
    uint64_t cc_flows[26 * 26], cc_bytes[26 * 26];
    uint64_t unknown_cc_flows, unknown_cc_bytes, bytes_out, flows_out;
    struct as_tally *ases;
    char (*as_orgs)[UINT8_MAX + 1]; /* the names ases[i].org points to */
    size_t n_ases;
    json_t *as_idx; /* "asn" -> index */
    uint64_t as_other_flows, as_other_bytes, unknown_as_flows, unknown_as_bytes;
    struct app_tally *apps;
    size_t n_apps;
    json_t *app_idx; /* name -> index */
    uint64_t app_other_flows;
    struct tl_rec *tl;
    size_t n_tl, cap_tl;
    json_t *series;     /* [[vendor, product], ...] */
    json_t *series_idx; /* vendor \x1f product -> index */
    uint64_t timeline_dropped, indicators_dropped, networks_dropped;

    uint64_t damaged;
    struct damage damage[FLEET_DAMAGE_KEPT];
    size_t n_damage;
};

/* ---------------------------------------------------------------- checks */

/* Reading a record: the first problem is kept in why, and every read after
 * it returns a default, so a caller checks once, at the end. */
struct chk {
    char *why;
    size_t len;
    bool bad;
};

static void bad(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad(struct chk *c, const char *fmt, ...)
{
    va_list ap;
    if (c->bad)
        return;
    c->bad = true;
    va_start(ap, fmt);
    vsnprintf(c->why, c->len, fmt, ap);
    va_end(ap);
}

/* key of o as a string; "" when absent (a problem when need). */
static const char *c_str(struct chk *c, const json_t *o, const char *key, bool need)
{
    const json_t *v = json_object_get(o, key);
    if (c->bad)
        return "";
    if (v == NULL || json_is_null(v)) {
        if (need)
            bad(c, "no \"%s\"", key);
        return "";
    }
    if (!json_is_string(v)) {
        bad(c, "\"%s\" is not a string", key);
        return "";
    }
    return json_string_value(v);
}

/* key of o as a count (an integer >= 0); 0 when absent. */
static uint64_t c_count(struct chk *c, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (c->bad || v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        bad(c, "\"%s\" is not a count", key);
        return 0;
    }
    return (uint64_t)json_integer_value(v);
}

/* key of o as a time (fleet_parse_time()); 0 when absent. */
static uint64_t c_time(struct chk *c, const json_t *o, const char *key, bool need)
{
    const char *s = c_str(c, o, key, need);
    uint64_t us = 0;
    if (s[0] && fleet_parse_time(s, &us) < 0)
        bad(c, "\"%s\" is not a time", key);
    return us;
}

/* key of o as one of the n names name(0..n-1): its index; -1 when
 * absent (a problem when need) or not one of them. */
static int c_enum(struct chk *c, const json_t *o, const char *key, const char *(*name)(int), int n,
                  bool need)
{
    const char *s = c_str(c, o, key, need);
    if (!s[0])
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(s, name(i)) == 0)
            return i;
    bad(c, "\"%s\": \"%.40s\" is not one the report knows", key, s);
    return -1;
}

/* key of o, of type want (JSON_OBJECT or JSON_ARRAY); NULL when absent
 * (a problem when need). Borrowed. */
static json_t *c_sub(struct chk *c, const json_t *o, const char *key, json_type want, bool need)
{
    json_t *v = json_object_get(o, key);
    if (c->bad)
        return NULL;
    if (v == NULL || json_is_null(v)) {
        if (need)
            bad(c, "no \"%s\"", key);
        return NULL;
    }
    if (json_typeof(v) != want) {
        bad(c, "\"%s\" is not %s", key, want == JSON_OBJECT ? "an object" : "an array");
        return NULL;
    }
    return v;
}

/* An address as text into af and addr (network order). */
static bool parse_addr(const char *s, int *af, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, s, addr) == 1) {
        *af = 4;
        return true;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        *af = 6;
        return true;
    }
    return false;
}

static bool is_country(const char *s)
{
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

/* key of o, an array of country codes ("" entries skipped), as a new
 * array (at most FLEET_LIST_MAX). */
static json_t *c_countries(struct chk *c, const json_t *o, const char *key)
{
    json_t *in = c_sub(c, o, key, JSON_ARRAY, false), *out = json_array(), *v;
    size_t i;
    json_array_foreach(in, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (s == NULL || (s[0] && !is_country(s))) {
            bad(c, "\"%s\" holds something else than a country code", key);
            break;
        }
        if (s[0] && json_array_size(out) < FLEET_LIST_MAX)
            json_array_append_new(out, json_string(s));
    }
    return out;
}

int fleet_parse_time(const char *s, uint64_t *us)
{
    struct tm tm;
    unsigned frac = 0, digits = 0;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 6)
                frac = frac * 10 + (unsigned)(*p - '0'), digits++;
        if (digits == 0)
            return -1;
        for (; digits < 6; digits++)
            frac *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+0000") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    time_t t = timegm(&tm);
    if (t < 0)
        return -1;
    *us = (uint64_t)t * 1000000u + frac;
    return 0;
}

/* ---------------------------------------------------------------- life */

struct fleet *fleet_new(void)
{
    struct fleet *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->sensors = calloc(FLEET_MAX_SENSORS, sizeof(*f->sensors));
    f->ases = calloc(FLEET_AS_SLOTS, sizeof(*f->ases));
    f->as_orgs = calloc(FLEET_AS_SLOTS, sizeof(*f->as_orgs));
    f->apps = calloc(FLEET_APP_SLOTS, sizeof(*f->apps));
    f->sensor_idx = json_object();
    f->host_idx = json_object();
    f->finding_idx = json_object();
    f->events_arr = json_array();
    f->as_idx = json_object();
    f->app_idx = json_object();
    f->series = json_array();
    f->series_idx = json_object();
    if (!f->sensors || !f->ases || !f->as_orgs || !f->apps || !f->sensor_idx || !f->host_idx ||
        !f->finding_idx || !f->events_arr || !f->as_idx || !f->app_idx || !f->series ||
        !f->series_idx) {
        fleet_free(f);
        return NULL;
    }
    return f;
}

void fleet_free(struct fleet *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; f->sensors != NULL && i < f->n_sensors; i++) {
        free(f->sensors[i].name);
        json_decref(f->sensors[i].counters);
        json_decref(f->sensors[i].text);
    }
    for (size_t i = 0; i < f->n_findings; i++) {
        json_decref(f->findings[i].obj);
        json_decref(f->findings[i].indicators);
        json_decref(f->findings[i].networks);
        json_decref(f->findings[i].samples);
    }
    for (size_t i = 0; i < f->n_hosts; i++)
        json_decref(f->hosts[i].obj);
    for (size_t i = 0; i < f->n_damage; i++) {
        free(f->damage[i].key);
        free(f->damage[i].field);
        free(f->damage[i].why);
    }
    free(f->sensors);
    free(f->findings);
    free(f->hosts);
    free(f->ases);
    free(f->as_orgs);
    free(f->apps);
    free(f->tl);
    json_decref(f->sensor_idx);
    json_decref(f->host_idx);
    json_decref(f->finding_idx);
    json_decref(f->events_arr);
    json_decref(f->as_idx);
    json_decref(f->app_idx);
    json_decref(f->series);
    json_decref(f->series_idx);
    free(f);
}

/* Room for element n (and those before it) in *arr, of *cap elements of
 * size bytes. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c <= n)
        c *= 2;
    void *p = realloc(*arr, c * size);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* A map key of parts joined with \x1f (no name of the records holds one
 * that matters), into buf; false when it does not fit. */
static bool join_key(char *buf, size_t len, const char *a, const char *b, const char *c,
                     const char *d)
{
    int n = snprintf(buf, len, "%s\x1f%s\x1f%s\x1f%s", a, b, c ? c : "", d ? d : "");
    return n >= 0 && (size_t)n < len;
}

static void note_time(struct fleet *f, uint64_t us)
{
    if (us == 0)
        return;
    if (f->first_us == 0 || us < f->first_us)
        f->first_us = us;
    if (us > f->last_us)
        f->last_us = us;
}

/* ---------------------------------------------------------------- sensors */

int fleet_sensor(struct fleet *f, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SENSOR_NAME_MAX || strchr(name, ':') != NULL)
        return -1;
    json_t *i = json_object_get(f->sensor_idx, name);
    if (i != NULL)
        return (int)json_integer_value(i);
    if (f->n_sensors == FLEET_MAX_SENSORS) {
        f->sensors_dropped++;
        return -1;
    }
    struct sensor_rec *s = &f->sensors[f->n_sensors];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    s->counters = json_object();
    s->text = json_object();
    if (s->name == NULL || s->counters == NULL || s->text == NULL ||
        json_object_set_new(f->sensor_idx, name, json_integer((json_int_t)f->n_sensors)) < 0) {
        free(s->name);
        json_decref(s->counters);
        json_decref(s->text);
        return -1;
    }
    return (int)f->n_sensors++;
}

void fleet_stat(struct fleet *f, int sensor, const char *name, const char *value)
{
    if (sensor < 0 || (size_t)sensor >= f->n_sensors)
        return;
    struct sensor_rec *s = &f->sensors[sensor];
    char *end;
    if (strcmp(name, "updated") == 0 || strcmp(name, "redis.state") == 0 ||
        strcmp(name, "redis.last_error") == 0) {
        json_object_set_new(s->text, name, jw_json_string(value));
        return;
    }
    if (value[0] < '0' || value[0] > '9')
        return;
    unsigned long long v = strtoull(value, &end, 10);
    if (*end == '\0' && v <= INT64_MAX)
        json_object_set_new(s->counters, name, json_integer((json_int_t)v));
}

int fleet_heartbeat(struct fleet *f, int sensor, const char *value, char *why, size_t whylen)
{
    if (sensor < 0 || (size_t)sensor >= f->n_sensors)
        return FLEET_OK;
    struct sensor_rec *s = &f->sensors[sensor];
    uint64_t us = 0;
    if (value == NULL) {
        s->hb = HB_SILENT;
        return FLEET_OK;
    }
    bool stopped = strncmp(value, "stopped ", 8) == 0;
    s->hb = stopped ? HB_STOPPED : HB_RUNNING;
    if (fleet_parse_time(stopped ? value + 8 : value, &us) < 0) {
        snprintf(why, whylen, "not a time nor \"stopped <time>\"");
        return FLEET_DAMAGED;
    }
    s->hb_us = us;
    return FLEET_OK;
}

/* ---------------------------------------------------------------- inventory */

/* The device facts of a host record, as a new object (NULL: none known). */
static json_t *device_of(struct chk *c, const json_t *host)
{
    json_t *d = c_sub(c, host, "device", JSON_OBJECT, false);
    if (d == NULL)
        return NULL;
    json_t *o = json_object();
    const char *names[] = {"serial", "model", "name"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *s = c_str(c, d, names[i], false);
        if (s[0])
            json_object_set_new(o, names[i], json_string(s));
    }
    if (json_object_get(d, "vlan") != NULL)
        json_object_set_new(o, "vlan", json_integer((json_int_t)c_count(c, d, "vlan")));
    const char *by = c_str(c, d, "named_by", false);
    if (strcmp(by, "network") == 0)
        json_object_set_new(o, "named_by", json_string(by));
    else if (by[0])
        bad(c, "\"named_by\": \"%.40s\" is not one the report knows", by);
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* One product of a host record as the finding's entry (without its
 * evidence), or NULL when damaged (c says why). */
static json_t *finding_of(struct chk *c, const json_t *p, const char *host, const char *sensor,
                          json_t *device)
{
    const char *vendor = c_str(c, p, "vendor", true);
    const char *product = c_str(c, p, "product", true);
    int rel = c_enum(c, p, "relation", sig_relation_name, SIG_REL_MAX, true);
    json_t *ev = c_sub(c, p, "evidence", JSON_OBJECT, false);
    const char *ev_kind = ev ? c_str(c, ev, "kind", false) : "";
    const char *ev_value = ev ? c_str(c, ev, "value", false) : "";
    json_t *cats_in = c_sub(c, p, "categories", JSON_ARRAY, false);
    json_t *cats = json_array(), *v;
    size_t i;
    json_array_foreach(cats_in, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        int k = -1;
        for (int j = 0; j < SIG_CAT_MAX; j++)
            if (strcmp(s, sig_category_name(j)) == 0)
                k = j;
        if (k < 0) {
            bad(c, "\"categories\" holds \"%.40s\", not a category the report knows", s);
            break;
        }
        if (json_array_size(cats) < FLEET_LIST_MAX)
            json_array_append_new(cats, json_string(s));
    }
    json_t *countries = c_countries(c, p, "countries");
    uint64_t flows = c_count(c, p, "flows"), bytes_out = c_count(c, p, "bytes_out");
    uint64_t first = c_time(c, p, "first_seen", false), last = c_time(c, p, "last_seen", false);
    if (c->bad) {
        json_decref(cats);
        json_decref(countries);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "host", json_string(host));
    json_object_set_new(o, "sensor", jw_json_string(sensor));
    json_object_set_new(o, "vendor", json_string(vendor));
    json_object_set_new(o, "product", json_string(product));
    json_t *ra = json_array();
    json_array_append_new(ra, json_string(sig_relation_name(rel)));
    json_object_set_new(o, "relation", ra);
    if (ev_kind[0]) {
        json_t *id = json_object();
        json_object_set_new(id, "kind", json_string(ev_kind));
        json_object_set_new(id, "value", json_string(ev_value));
        json_object_set_new(o, "identified_by", id);
    }
    if (device != NULL)
        json_object_set(o, "device", device);
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "countries", countries);
    json_object_set_new(o, "first_seen", out_report_time(first));
    json_object_set_new(o, "last_seen", out_report_time(last));
    json_object_set_new(o, "flows", json_integer((json_int_t)flows));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)bytes_out));
    return o;
}

int fleet_asset(struct fleet *f, int sensor, const char *host, const char *json, size_t len,
                char *why, size_t whylen)
{
    struct chk c = {why, whylen, false};
    char key[512];
    json_error_t jerr;
    json_t *rec = NULL, *device = NULL, *products = NULL, *names = NULL;
    int af;
    uint8_t addr[16];

    if (sensor < 0 || (size_t)sensor >= f->n_sensors)
        return FLEET_DROPPED;
    const char *sname = f->sensors[sensor].name;
    if (!parse_addr(host, &af, addr)) {
        snprintf(why, whylen, "the field is not an address");
        return FLEET_DAMAGED;
    }
    if (!join_key(key, sizeof(key), sname, host, NULL, NULL) ||
        json_object_get(f->host_idx, key) != NULL)
        return FLEET_OK; /* met again (HSCAN may repeat a field) */
    if (f->n_hosts == FLEET_MAX_HOSTS) {
        f->hosts_dropped++;
        return FLEET_DROPPED;
    }
    rec = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (rec == NULL || !json_is_object(rec)) {
        snprintf(why, whylen, "not a JSON object%s%s", rec == NULL ? ": " : "",
                 rec == NULL ? jerr.text : "");
        json_decref(rec);
        return FLEET_DAMAGED;
    }
    uint64_t first = c_time(&c, rec, "first_seen", false);
    uint64_t last = c_time(&c, rec, "last_seen", false);
    uint64_t flows = c_count(&c, rec, "flows"), bytes_out = c_count(&c, rec, "bytes_out");
    uint64_t alerts = c_count(&c, rec, "alerts");
    json_t *countries = c_countries(&c, rec, "countries");
    device = device_of(&c, rec);
    json_t *pin = c_sub(&c, rec, "products", JSON_ARRAY, true), *p;
    products = json_array();
    names = json_array();
    size_t i, dropped = 0;
    json_array_foreach(pin, i, p)
    {
        if (!json_is_object(p)) {
            bad(&c, "\"products\" holds something else than objects");
            break;
        }
        if (json_array_size(products) == FLEET_MAX_PRODUCTS) {
            dropped++;
            continue;
        }
        json_t *o = finding_of(&c, p, host, sname, device);
        if (o == NULL)
            break;
        json_array_append_new(products, o);
    }
    if (c.bad || countries == NULL || products == NULL || names == NULL)
        goto damaged;

    /* whole and sound: keep it */
    if (grow((void **)&f->hosts, &f->cap_hosts, f->n_hosts, sizeof(*f->hosts)) < 0 ||
        grow((void **)&f->findings, &f->cap_findings, f->n_findings + json_array_size(products),
             sizeof(*f->findings)) < 0)
        goto oom;
    json_array_foreach(products, i, p)
    {
        char fk[1024];
        const char *v = json_string_value(json_object_get(p, "vendor"));
        const char *pr = json_string_value(json_object_get(p, "product"));
        if (!join_key(fk, sizeof(fk), sname, host, v, pr) ||
            json_object_get(f->finding_idx, fk) != NULL) {
            f->products_dropped++; /* the same product twice: the first stands */
            continue;
        }
        if (f->n_findings == FLEET_MAX_FINDINGS) {
            f->findings_dropped++;
            continue;
        }
        struct finding *fd = &f->findings[f->n_findings];
        memset(fd, 0, sizeof(*fd));
        fd->sensor = sensor;
        fd->af = af;
        memcpy(fd->addr, addr, 16);
        fd->obj = json_incref(p);
        fd->indicators = json_array();
        fd->networks = json_array();
        fd->samples = json_array();
        fd->max_sev = fd->max_conf = -1;
        json_object_set_new(f->finding_idx, fk, json_integer((json_int_t)f->n_findings));
        f->n_findings++;
        json_t *n = json_object();
        json_object_set(n, "vendor", json_object_get(p, "vendor"));
        json_object_set(n, "product", json_object_get(p, "product"));
        json_array_append_new(names, n);
        f->sensors[sensor].findings++;
    }
    f->products_dropped += dropped;

    json_t *h = json_object();
    json_object_set_new(h, "host", json_string(host));
    json_object_set_new(h, "sensor", jw_json_string(sname));
    json_object_set_new(h, "first_seen", out_report_time(first));
    json_object_set_new(h, "last_seen", out_report_time(last));
    json_object_set_new(h, "flows", json_integer((json_int_t)flows));
    json_object_set_new(h, "bytes_out", json_integer((json_int_t)bytes_out));
    json_object_set_new(h, "alerts", json_integer((json_int_t)alerts));
    json_object_set_new(h, "countries", countries);
    json_object_set_new(h, "products", names);
    f->hosts[f->n_hosts++] = (struct host_rec){sensor, af, {0}, h};
    memcpy(f->hosts[f->n_hosts - 1].addr, addr, 16);
    json_object_set_new(f->host_idx, key, json_true());
    f->sensors[sensor].hosts++;
    note_time(f, first);
    note_time(f, last);
    json_decref(products);
    json_decref(device);
    json_decref(rec);
    return FLEET_OK;

oom:
    snprintf(why, whylen, "out of memory");
damaged:
    json_decref(countries);
    json_decref(products);
    json_decref(names);
    json_decref(device);
    json_decref(rec);
    return FLEET_DAMAGED;
}

/* ---------------------------------------------------------------- the stream */

static int confidence_count(void)
{
    return SIG_CONF_HIGH + 1;
}

static int ev_kind_known(const char *s)
{
    for (int k = 0; k < SIG_EV_MAX; k++)
        if (strcmp(s, sig_evidence_name(k)) == 0)
            return 1;
    return 0;
}

/* The window's egress tallies: country, network and application. */
static void tally_egress(struct fleet *f, const char *cc, uint64_t asn, const char *org,
                         const char *app, uint64_t out, uint64_t in)
{
    char k[32];
    f->flows_out++;
    f->bytes_out += out;
    if (is_country(cc)) {
        size_t i = (size_t)(cc[0] - 'A') * 26 + (size_t)(cc[1] - 'A');
        f->cc_flows[i]++;
        f->cc_bytes[i] += out;
    } else {
        f->unknown_cc_flows++;
        f->unknown_cc_bytes += out;
    }
    if (asn == 0) {
        f->unknown_as_flows++;
        f->unknown_as_bytes += out;
    } else {
        snprintf(k, sizeof(k), "%llu", (unsigned long long)asn);
        json_t *i = json_object_get(f->as_idx, k);
        struct as_tally *s = NULL;
        if (i != NULL) {
            s = &f->ases[json_integer_value(i)];
        } else if (f->n_ases < FLEET_AS_SLOTS &&
                   json_object_set_new(f->as_idx, k, json_integer((json_int_t)f->n_ases)) == 0) {
            s = &f->ases[f->n_ases++];
            s->asn = (uint32_t)asn;
            s->org_len = (uint8_t)strnlen(org, UINT8_MAX);
            s->org = memcpy(f->as_orgs[s - f->ases], org, s->org_len);
        }
        if (s != NULL) {
            s->flows++;
            s->bytes_out += out;
        } else {
            f->as_other_flows++;
            f->as_other_bytes += out;
        }
    }
    json_t *i = json_object_get(f->app_idx, app);
    struct app_tally *a = NULL;
    if (i != NULL) {
        a = &f->apps[json_integer_value(i)];
    } else if (f->n_apps < FLEET_APP_SLOTS &&
               json_object_set_new(f->app_idx, app, json_integer((json_int_t)f->n_apps)) == 0) {
        a = &f->apps[f->n_apps++];
        a->used = 1;
        snprintf(a->name, sizeof(a->name), "%s", app);
    }
    if (a != NULL) {
        a->flows++;
        a->bytes += out + in;
        a->bytes_out += out;
    } else {
        f->app_other_flows++;
    }
}

/* The alert in the product's timeline. */
static void tally_timeline(struct fleet *f, const char *vendor, const char *product, uint64_t ts,
                           uint64_t out)
{
    char k[512];
    if (!join_key(k, sizeof(k), vendor, product, NULL, NULL))
        return;
    json_t *i = json_object_get(f->series_idx, k);
    size_t s;
    if (i != NULL) {
        s = (size_t)json_integer_value(i);
    } else if (json_array_size(f->series) < EVIDENCE_MAX_PRODUCTS) {
        s = json_array_size(f->series);
        json_t *pair = json_array();
        json_array_append_new(pair, json_string(vendor));
        json_array_append_new(pair, json_string(product));
        if (json_array_append_new(f->series, pair) < 0 ||
            json_object_set_new(f->series_idx, k, json_integer((json_int_t)s)) < 0)
            return;
    } else {
        f->timeline_dropped++;
        return;
    }
    if (grow((void **)&f->tl, &f->cap_tl, f->n_tl, sizeof(*f->tl)) < 0)
        return;
    f->tl[f->n_tl++] = (struct tl_rec){(uint32_t)s, ts, out};
}

/* The alert's evidence for its finding: indicators, network, a sample. */
static void add_evidence(struct fleet *f, struct finding *fd, const json_t *a, json_t *sample,
                         int sev, int conf, uint64_t asn, const char *org)
{
    const json_t *al = json_object_get(a, "alert");
    const char *sig = json_string_value(json_object_get(al, "signature_id"));
    json_t *evs = json_object_get(al, "evidence"), *e;
    size_t i, k;
    fd->alerts++;
    if (sev > fd->max_sev)
        fd->max_sev = sev;
    if (conf > fd->max_conf)
        fd->max_conf = conf;
    json_array_foreach(evs, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *value = json_string_value(json_object_get(e, "value"));
        const char *pattern = json_string_value(json_object_get(e, "pattern"));
        json_t *x;
        bool found = false;
        json_array_foreach(fd->indicators, k, x)
        {
            if (strcmp(json_string_value(json_object_get(x, "kind")), kind) == 0 &&
                strcmp(json_string_value(json_object_get(x, "value")), value) == 0 &&
                strcmp(json_string_value(json_object_get(x, "pattern")), pattern) == 0 &&
                strcmp(json_string_value(json_object_get(x, "signature_id")), sig) == 0) {
                json_int_t n = json_integer_value(json_object_get(x, "flows"));
                json_object_set_new(x, "flows", json_integer(n + 1));
                found = true;
                break;
            }
        }
        if (found)
            continue;
        if (json_array_size(fd->indicators) == EVIDENCE_MAX_INDICATORS) {
            f->indicators_dropped++;
            continue;
        }
        x = json_object();
        json_object_set_new(x, "kind", json_string(kind));
        json_object_set_new(x, "value", json_string(value));
        json_object_set_new(x, "pattern", json_string(pattern));
        json_object_set_new(x, "signature_id", json_string(sig));
        json_object_set_new(x, "flows", json_integer(1));
        json_array_append_new(fd->indicators, x);
    }
    if (asn != 0) {
        json_t *x;
        bool found = false;
        json_array_foreach(fd->networks, k, x)
        {
            if ((uint64_t)json_integer_value(json_object_get(x, "asn")) == asn) {
                json_int_t n = json_integer_value(json_object_get(x, "flows"));
                json_object_set_new(x, "flows", json_integer(n + 1));
                found = true;
                break;
            }
        }
        if (!found && json_array_size(fd->networks) < EVIDENCE_MAX_NETWORKS) {
            x = json_object();
            json_object_set_new(x, "asn", json_integer((json_int_t)asn));
            json_object_set_new(x, "as_org", json_string(org));
            json_object_set_new(x, "flows", json_integer(1));
            json_array_append_new(fd->networks, x);
        } else if (!found) {
            f->networks_dropped++;
        }
    }
    /* newest first in, so each alert is older than those kept: the
     * samples are the window's first EVIDENCE_SAMPLES alerts */
    json_array_insert(fd->samples, 0, sample);
    if (json_array_size(fd->samples) > EVIDENCE_SAMPLES)
        json_array_remove(fd->samples, EVIDENCE_SAMPLES);
}

static json_t *port_or_null(const json_t *a, const char *key)
{
    const json_t *v = json_object_get(a, key);
    return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static int take_alert(struct fleet *f, const json_t *a, struct chk *c)
{
    const char *sensor = c_str(c, a, "sensor", true);
    const char *src = c_str(c, a, "src_ip", true);
    uint64_t ts = c_time(c, a, "timestamp", true);
    json_t *al = c_sub(c, a, "alert", JSON_OBJECT, true);
    const char *vendor = c_str(c, al, "vendor", true);
    const char *product = c_str(c, al, "product", true);
    const char *sig = c_str(c, al, "signature_id", true);
    int cat = c_enum(c, al, "category", sig_category_name, SIG_CAT_MAX, true);
    int sev = c_enum(c, al, "severity", sig_severity_name, SIG_SEV_MAX, true);
    int conf = c_enum(c, al, "confidence", sig_confidence_name, confidence_count(), true);
    json_t *evs = c_sub(c, al, "evidence", JSON_ARRAY, false), *e;
    size_t i;
    json_array_foreach(evs, i, e)
    {
        if (!json_is_object(e)) {
            bad(c, "\"evidence\" holds something else than objects");
            break;
        }
        const char *kind = c_str(c, e, "kind", true);
        c_str(c, e, "value", true);
        c_str(c, e, "pattern", true);
        if (!c->bad && !ev_kind_known(kind))
            bad(c, "evidence kind \"%.40s\" is not one the report knows", kind);
    }
    json_t *geo = c_sub(c, a, "dest_geo", JSON_OBJECT, false);
    const char *cc = geo ? c_str(c, geo, "country_code", false) : "";
    uint64_t asn = geo ? c_count(c, geo, "asn") : 0;
    const char *org = geo ? c_str(c, geo, "as_org", false) : "";
    json_t *flow = c_sub(c, a, "flow", JSON_OBJECT, false);
    uint64_t start = flow ? c_time(c, flow, "start", false) : 0;
    uint64_t out = flow ? c_count(c, flow, "bytes_toserver") : 0;
    uint64_t in = flow ? c_count(c, flow, "bytes_toclient") : 0;
    const char *app = c_str(c, a, "app", false);
    const char *alert_id = c_str(c, a, "alert_id", false);
    const char *dest = c_str(c, a, "dest_ip", false);
    const char *proto = c_str(c, a, "proto", false);
    const char *server = c_str(c, a, "host", false);
    const char *cid = c_str(c, a, "community_id", false);
    const char *file = c_str(c, a, "pcap_filename", false);
    uint64_t pkts_out = flow ? c_count(c, flow, "pkts_toserver") : 0;
    uint64_t pkts_in = flow ? c_count(c, flow, "pkts_toclient") : 0;
    int af;
    uint8_t addr[16];
    if (!c->bad && !parse_addr(src, &af, addr))
        bad(c, "\"src_ip\" is not an address");
    if (!c->bad && cc[0] && !is_country(cc))
        bad(c, "\"country_code\" is not a country code");
    if (c->bad)
        return FLEET_DAMAGED;

    int s = fleet_sensor(f, sensor);
    f->alerts++;
    if (s >= 0)
        f->sensors[s].alerts++;
    note_time(f, ts);
    tally_egress(f, cc, asn, org, app[0] ? app : "Unknown", out, in);
    tally_timeline(f, vendor, product, ts, out);

    char k[1024];
    json_t *idx = join_key(k, sizeof(k), sensor, src, vendor, product)
                      ? json_object_get(f->finding_idx, k)
                      : NULL;
    if (idx == NULL) {
        f->alerts_without_finding++;
        return FLEET_OK;
    }
    json_t *o = json_object();
    json_object_set_new(o, "alert_id", json_string(alert_id));
    json_object_set_new(o, "timestamp", out_report_time(ts));
    json_object_set_new(o, "flow_start", out_report_time(start ? start : ts));
    json_object_set_new(o, "src_ip", json_string(src));
    json_object_set_new(o, "src_port", port_or_null(a, "src_port"));
    json_object_set_new(o, "dest_ip", json_string(dest));
    json_object_set_new(o, "dest_port", port_or_null(a, "dest_port"));
    json_object_set_new(o, "proto", json_string(proto));
    json_object_set_new(o, "app", json_string(app));
    json_object_set_new(o, "server_name", json_string(server));
    json_object_set_new(o, "community_id", json_string(cid));
    json_object_set_new(o, "country_code", json_string(cc));
    json_object_set_new(o, "asn", asn ? json_integer((json_int_t)asn) : json_null());
    json_object_set_new(o, "as_org", json_string(org));
    json_object_set_new(o, "signature_id", json_string(sig));
    json_object_set_new(o, "category", json_string(sig_category_name(cat)));
    json_object_set_new(o, "severity", json_string(sig_severity_name(sev)));
    json_object_set_new(o, "confidence", json_string(sig_confidence_name(conf)));
    json_object_set_new(o, "pkts_toserver", json_integer((json_int_t)pkts_out));
    json_object_set_new(o, "pkts_toclient", json_integer((json_int_t)pkts_in));
    json_object_set_new(o, "bytes_toserver", json_integer((json_int_t)out));
    json_object_set_new(o, "bytes_toclient", json_integer((json_int_t)in));
    /* the file's name, as a report of a run shows it; a live alert has none */
    const char *slash = strrchr(file, '/');
    json_object_set_new(o, "capture_file",
                        file[0] ? json_string(slash && slash[1] ? slash + 1 : file) : json_null());
    add_evidence(f, &f->findings[json_integer_value(idx)], a, o, sev, conf, asn, org);
    json_decref(o);
    return FLEET_OK;
}

static int take_event(struct fleet *f, const json_t *a, struct chk *c)
{
    const char *sensor = c_str(c, a, "sensor", true);
    uint64_t ts = c_time(c, a, "timestamp", true);
    const char *ip = c_str(c, a, "asset_ip", true);
    json_t *as = c_sub(c, a, "asset", JSON_OBJECT, true);
    const char *vendor = c_str(c, as, "vendor", true);
    const char *product = c_str(c, as, "product", true);
    int rel = c_enum(c, as, "relation", sig_relation_name, SIG_REL_MAX, true);
    const char *end = c_str(c, as, "end", false);
    int cat = c_enum(c, as, "category", sig_category_name, SIG_CAT_MAX, false);
    int conf = c_enum(c, as, "confidence", sig_confidence_name, confidence_count(), false);
    const char *sig = c_str(c, as, "signature_id", false);
    json_t *evs = c_sub(c, as, "evidence", JSON_ARRAY, false);
    json_t *ev0 = json_array_get(evs, 0);
    const char *ev_kind = json_is_object(ev0) ? c_str(c, ev0, "kind", false) : "";
    const char *ev_value = json_is_object(ev0) ? c_str(c, ev0, "value", false) : "";
    json_t *device = device_of(c, as);
    const char *cid = c_str(c, a, "community_id", false);
    int af;
    uint8_t addr[16];
    if (!c->bad && !parse_addr(ip, &af, addr))
        bad(c, "\"asset_ip\" is not an address");
    if (!c->bad && end[0] && strcmp(end, "client") != 0 && strcmp(end, "server") != 0)
        bad(c, "\"end\": \"%.40s\" is not client or server", end);
    if (c->bad) {
        json_decref(device);
        return FLEET_DAMAGED;
    }
    int s = fleet_sensor(f, sensor);
    f->events++;
    if (s >= 0)
        f->sensors[s].events++;
    note_time(f, ts);
    if (json_array_size(f->events_arr) == FLEET_MAX_EVENTS) {
        f->events_omitted++;
        json_decref(device);
        return FLEET_DROPPED;
    }
    json_t *o = json_object();
    json_object_set_new(o, "sensor", jw_json_string(sensor));
    json_object_set_new(o, "timestamp", out_report_time(ts));
    json_object_set_new(o, "host", json_string(ip));
    json_object_set_new(o, "vendor", json_string(vendor));
    json_object_set_new(o, "product", json_string(product));
    json_object_set_new(o, "relation", json_string(sig_relation_name(rel)));
    json_object_set_new(o, "end", end[0] ? json_string(end) : json_null());
    json_object_set_new(o, "signature_id", json_string(sig));
    json_object_set_new(o, "category",
                        cat >= 0 ? json_string(sig_category_name(cat)) : json_null());
    json_object_set_new(o, "confidence",
                        conf >= 0 ? json_string(sig_confidence_name(conf)) : json_null());
    if (ev_kind[0]) {
        json_t *e = json_object();
        json_object_set_new(e, "kind", json_string(ev_kind));
        json_object_set_new(e, "value", json_string(ev_value));
        json_object_set_new(o, "evidence", e);
    } else {
        json_object_set_new(o, "evidence", json_null());
    }
    if (device != NULL)
        json_object_set_new(o, "device", device);
    json_object_set_new(o, "community_id", json_string(cid));
    json_array_append_new(f->events_arr, o);
    return FLEET_OK;
}

int fleet_entry(struct fleet *f, const char *event_type, const char *json, size_t len, char *why,
                size_t whylen)
{
    struct chk c = {why, whylen, false};
    json_error_t jerr;
    if (json == NULL) {
        snprintf(why, whylen, "no json field");
        return FLEET_DAMAGED;
    }
    json_t *a = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (a == NULL || !json_is_object(a)) {
        snprintf(why, whylen, "json is not a JSON object%s%s", a == NULL ? ": " : "",
                 a == NULL ? jerr.text : "");
        json_decref(a);
        return FLEET_DAMAGED;
    }
    const char *type = event_type != NULL ? event_type : c_str(&c, a, "event_type", true);
    int rc;
    if (c.bad)
        rc = FLEET_DAMAGED;
    else if (strcmp(type, "alert") == 0)
        rc = take_alert(f, a, &c);
    else if (strcmp(type, "asset") == 0)
        rc = take_event(f, a, &c);
    else
        f->others++, rc = FLEET_DROPPED;
    json_decref(a);
    return rc;
}

/* ---------------------------------------------------------------- damage */

void fleet_damage(struct fleet *f, const char *key, const char *field, const char *why)
{
    f->damaged++;
    if (f->n_damage == FLEET_DAMAGE_KEPT)
        return;
    struct damage *d = &f->damage[f->n_damage];
    d->key = strdup(key);
    d->field = strdup(field);
    d->why = strdup(why);
    if (d->key == NULL || d->field == NULL || d->why == NULL) {
        free(d->key);
        free(d->field);
        free(d->why);
        return;
    }
    f->n_damage++;
}

uint64_t fleet_damaged(const struct fleet *f)
{
    return f->damaged;
}

const char *fleet_damage_at(const struct fleet *f, size_t i, const char **field, const char **why)
{
    if (i >= f->n_damage)
        return NULL;
    *field = f->damage[i].field;
    *why = f->damage[i].why;
    return f->damage[i].key;
}

size_t fleet_sensors(const struct fleet *f)
{
    return f->n_sensors;
}

size_t fleet_hosts(const struct fleet *f)
{
    return f->n_hosts;
}

const char *fleet_sensor_name(const struct fleet *f, size_t i)
{
    return i < f->n_sensors ? f->sensors[i].name : NULL;
}

/* ---------------------------------------------------------------- document */

static json_t *jcount(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static void set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

/* The sum of a counter over every sensor's stats hash. */
static uint64_t sum(const struct fleet *f, const char *name)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->n_sensors; i++)
        n += (uint64_t)json_integer_value(json_object_get(f->sensors[i].counters, name));
    return n;
}

/* The sum of every counter whose name starts with prefix, but skip. */
static uint64_t sum_prefix(const struct fleet *f, const char *prefix, const char *skip)
{
    uint64_t n = 0;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < f->n_sensors; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(f->sensors[i].counters, k, v)
        {
            if (strncmp(k, prefix, plen) == 0 && strcmp(k, skip) != 0)
                n += (uint64_t)json_integer_value(v);
        }
    }
    return n;
}

static bool any_counter(const struct fleet *f, const char *name)
{
    for (size_t i = 0; i < f->n_sensors; i++)
        if (json_object_get(f->sensors[i].counters, name) != NULL)
            return true;
    return false;
}

static json_t *run_section(const struct fleet *f, const struct fleet_source *src)
{
    json_t *run = json_object();
    set(run, "mode", json_string("fleet"));
    set(run, "inputs", json_array());
    set(run, "interfaces", json_array());
    set(run, "first_seen", out_report_time(f->first_us));
    set(run, "last_seen", out_report_time(f->last_us));
    set(run, "packets", jcount(sum(f, "packets.total")));
    set(run, "bytes", jcount(sum(f, "packets.bytes")));
    set(run, "malformed_packets", jcount(sum_prefix(f, "decode.", "decode.not_ip")));
    set(run, "flows", jcount(sum(f, "flows.total")));
    json_t *dir = json_object();
    const char *dirs[] = {"egress", "ingress", "internal", "external"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        char k[64];
        snprintf(k, sizeof(k), "flows.direction.%s", dirs[i]);
        set(dir, dirs[i], jcount(sum(f, k)));
    }
    set(run, "flows_by_direction", dir);
    set(run, "bytes_out", jcount(sum(f, "packets.bytes_out")));
    set(run, "alerts", jcount(sum(f, "detection.alerts")));
    set(run, "alerts_suppressed", jcount(sum(f, "detection.suppressed")));
    json_t *sev = json_object();
    for (int i = SIG_SEV_MAX; i-- > 0;) {
        char k[64];
        snprintf(k, sizeof(k), "detection.by_severity.%s", sig_severity_name(i));
        set(sev, sig_severity_name(i), jcount(sum(f, k)));
    }
    set(run, "alerts_by_severity", sev);
    set(run, "files_read", json_integer(0));
    set(run, "files_truncated", json_integer(0));
    set(run, "files_damaged", json_integer(0));
    set(run, "files_failed", json_integer(0));
    set(run, "elapsed_s", json_real(src->elapsed_s));
    set(run, "workers", json_integer(0));
    if (any_counter(f, "capture.kernel_drops") || any_counter(f, "capture.if_drops")) {
        set(run, "capture_drops", jcount(sum(f, "capture.kernel_drops")));
        set(run, "capture_if_drops", jcount(sum(f, "capture.if_drops")));
    }
    return run;
}

/* The counters a fleet's reader looks at first, as the sensors section
 * gives them. */
static const char *const key_counters[] = {
    "packets.total",    "packets.bytes",        "packets.bytes_out",    "flows.total",
    "detection.alerts", "detection.suppressed", "capture.kernel_drops", "capture.if_drops",
    "redis.delivered",  "redis.spool_pending",  "redis.lost",
};

static int cmp_sensor(const void *a, const void *b, void *ud)
{
    const struct fleet *f = ud;
    return strcmp(f->sensors[*(const size_t *)a].name, f->sensors[*(const size_t *)b].name);
}

static json_t *sensors_section(const struct fleet *f)
{
    json_t *arr = json_array();
    size_t *idx = malloc((f->n_sensors + 1) * sizeof(*idx));
    if (idx == NULL)
        return arr;
    for (size_t i = 0; i < f->n_sensors; i++)
        idx[i] = i;
    qsort_r(idx, f->n_sensors, sizeof(*idx), cmp_sensor, (void *)(uintptr_t)f);
    for (size_t n = 0; n < f->n_sensors; n++) {
        const struct sensor_rec *s = &f->sensors[idx[n]];
        json_t *o = json_object(), *c = json_object();
        const char *updated = json_string_value(json_object_get(s->text, "updated"));
        const char *state = json_string_value(json_object_get(s->text, "redis.state"));
        const char *err = json_string_value(json_object_get(s->text, "redis.last_error"));
        uint64_t up = 0;
        set(o, "name", jw_json_string(s->name));
        set(o, "state",
            json_string(s->hb == HB_RUNNING   ? "running"
                        : s->hb == HB_STOPPED ? "stopped"
                                              : "silent"));
        set(o, "last_update",
            updated && fleet_parse_time(updated, &up) == 0 ? out_report_time(up) : json_null());
        set(o, "heartbeat", s->hb == HB_RUNNING ? out_report_time(s->hb_us) : json_null());
        set(o, "stopped_at", s->hb == HB_STOPPED ? out_report_time(s->hb_us) : json_null());
        set(o, "hosts", jcount(s->hosts));
        set(o, "findings", jcount(s->findings));
        set(o, "alerts_in_window", jcount(s->alerts));
        set(o, "asset_events_in_window", jcount(s->events));
        for (size_t i = 0; i < ARRAY_SIZE(key_counters); i++) {
            json_t *v = json_object_get(s->counters, key_counters[i]);
            if (v != NULL)
                set(c, key_counters[i], json_incref(v));
        }
        set(o, "counters", c);
        set(o, "redis_state", state ? json_string(state) : json_null());
        set(o, "redis_last_error", err && err[0] ? json_string(err) : json_null());
        json_array_append_new(arr, o);
    }
    free(idx);
    return arr;
}

/* Findings and hosts in address order (IPv4 first), then by sensor. */
static int cmp_addr(int af1, const uint8_t *a1, int s1, int af2, const uint8_t *a2, int s2,
                    const struct fleet *f)
{
    if (af1 != af2)
        return af1 < af2 ? -1 : 1;
    int c = memcmp(a1, a2, 16);
    if (c != 0)
        return c;
    return strcmp(f->sensors[s1].name, f->sensors[s2].name);
}

static int cmp_finding(const void *a, const void *b, void *ud)
{
    const struct fleet *f = ud;
    const struct finding *x = &f->findings[*(const size_t *)a];
    const struct finding *y = &f->findings[*(const size_t *)b];
    int c = cmp_addr(x->af, x->addr, x->sensor, y->af, y->addr, y->sensor, f);
    return c != 0 ? c
                  : (*(const size_t *)a > *(const size_t *)b) -
                        (*(const size_t *)a < *(const size_t *)b);
}

static int cmp_host(const void *a, const void *b, void *ud)
{
    const struct fleet *f = ud;
    const struct host_rec *x = &f->hosts[*(const size_t *)a];
    const struct host_rec *y = &f->hosts[*(const size_t *)b];
    return cmp_addr(x->af, x->addr, x->sensor, y->af, y->addr, y->sensor, f);
}

/* vendor and product of o made whole from the pack. */
static void whole(json_t *o, const struct out_report_src *setup)
{
    const char *v, *p;
    const char *vendor = json_string_value(json_object_get(o, "vendor"));
    const char *product = json_string_value(json_object_get(o, "product"));
    if (vendor == NULL || product == NULL)
        return;
    out_report_whole_names(setup->pack, vendor, product, &v, &p);
    if (v != vendor)
        set(o, "vendor", json_string(v));
    if (p != product)
        set(o, "product", json_string(p));
}

static json_t *findings_section(struct fleet *f, const struct out_report_src *setup, json_t *sigs)
{
    json_t *arr = json_array();
    size_t *idx = malloc((f->n_findings + 1) * sizeof(*idx));
    if (idx == NULL)
        return arr;
    for (size_t i = 0; i < f->n_findings; i++)
        idx[i] = i;
    qsort_r(idx, f->n_findings, sizeof(*idx), cmp_finding, f);
    for (size_t n = 0; n < f->n_findings; n++) {
        struct finding *fd = &f->findings[idx[n]];
        json_t *o = json_incref(fd->obj), *x; /* completed in place */
        size_t i;
        if (o == NULL)
            continue;
        whole(o, setup);
        set(o, "networks", json_incref(fd->networks));
        set(o, "alerts", jcount(fd->alerts));
        set(o, "severity",
            fd->max_sev >= 0 ? json_string(sig_severity_name(fd->max_sev)) : json_null());
        set(o, "confidence",
            fd->max_conf >= 0 ? json_string(sig_confidence_name(fd->max_conf)) : json_null());
        set(o, "indicators", json_incref(fd->indicators));
        set(o, "samples", json_incref(fd->samples));
        set(o, "samples_omitted", jcount(fd->alerts - json_array_size(fd->samples)));
        set(o, "evidence_kept", json_true());
        json_array_foreach(fd->indicators, i, x) out_report_note_signature(
            sigs, setup->pack, json_string_value(json_object_get(x, "signature_id")));
        json_array_foreach(fd->samples, i, x) out_report_note_signature(
            sigs, setup->pack, json_string_value(json_object_get(x, "signature_id")));
        json_array_append_new(arr, o);
    }
    free(idx);
    return arr;
}

static json_t *hosts_section(struct fleet *f, const struct out_report_src *setup)
{
    json_t *arr = json_array();
    size_t *idx = malloc((f->n_hosts + 1) * sizeof(*idx));
    if (idx == NULL)
        return arr;
    for (size_t i = 0; i < f->n_hosts; i++)
        idx[i] = i;
    qsort_r(idx, f->n_hosts, sizeof(*idx), cmp_host, f);
    for (size_t n = 0; n < f->n_hosts; n++) {
        json_t *o = json_incref(f->hosts[idx[n]].obj), *p;
        size_t i;
        if (o == NULL)
            continue;
        json_array_foreach(json_object_get(o, "products"), i, p) whole(p, setup);
        json_array_append_new(arr, o);
    }
    free(idx);
    return arr;
}

static json_t *egress_section(struct fleet *f)
{
    const struct as_tally **as = malloc((f->n_ases + 1) * sizeof(*as));
    struct out_report_egress e = {
        .flows = f->flows_out,
        .bytes_out = f->bytes_out,
        .cc_flows = f->cc_flows,
        .cc_bytes_out = f->cc_bytes,
        .unknown_cc_bytes_out = f->unknown_cc_bytes,
        .ases = as,
        .n_ases = as != NULL ? f->n_ases : 0,
        .other_as_flows = f->as_other_flows,
        .other_as_bytes_out = f->as_other_bytes,
        .unknown_as_flows = f->unknown_as_flows,
        .unknown_as_bytes_out = f->unknown_as_bytes,
    };
    for (size_t i = 0; i < e.n_ases; i++)
        as[i] = &f->ases[i];
    json_t *o = out_report_egress(&e);
    free(as);
    return o;
}

static json_t *apps_section(struct fleet *f)
{
    const struct app_tally **v = malloc((f->n_apps + 1) * sizeof(*v));
    if (v == NULL)
        return json_array();
    for (size_t i = 0; i < f->n_apps; i++)
        v[i] = &f->apps[i];
    json_t *arr = out_report_apps(v, f->n_apps);
    free(v);
    return arr;
}

/* One axis for every product: the narrowest bucket of the evidence
 * store's ladder that fits the window's alerts in EVIDENCE_BUCKETS. */
static json_t *timeline_section(struct fleet *f, const struct out_report_src *setup)
{
    json_t *o = json_object(), *series = json_array();
    uint64_t lo = UINT64_MAX, hi = 0, w = 1000000;
    for (size_t i = 0; i < f->n_tl; i++) {
        lo = f->tl[i].ts_us < lo ? f->tl[i].ts_us : lo;
        hi = f->tl[i].ts_us > hi ? f->tl[i].ts_us : hi;
    }
    if (f->n_tl == 0) {
        set(o, "bucket_s", json_integer(0));
        set(o, "start", json_null());
        set(o, "buckets", json_integer(0));
        set(o, "series", series);
        return o;
    }
    while (hi / w - lo / w >= EVIDENCE_BUCKETS)
        w = evidence_next_width(w);
    uint64_t first = lo / w, nb = hi / w - first + 1;
    size_t ns = json_array_size(f->series);
    uint64_t(*counts)[EVIDENCE_BUCKETS][2] = calloc(ns + 1, sizeof(*counts));
    if (counts == NULL) {
        json_decref(o);
        json_decref(series);
        return NULL;
    }
    for (size_t i = 0; i < f->n_tl; i++) {
        uint64_t b = f->tl[i].ts_us / w - first;
        counts[f->tl[i].series][b][0]++;
        counts[f->tl[i].series][b][1] += f->tl[i].bytes_out;
    }
    for (size_t s = 0; s < ns; s++) {
        json_t *pair = json_array_get(f->series, s), *x = json_object();
        json_t *flows = json_array(), *alerts = json_array(), *bytes = json_array();
        json_t *vp = json_object();
        set(vp, "vendor", json_incref(json_array_get(pair, 0)));
        set(vp, "product", json_incref(json_array_get(pair, 1)));
        whole(vp, setup);
        set(x, "vendor", json_incref(json_object_get(vp, "vendor")));
        set(x, "product", json_incref(json_object_get(vp, "product")));
        json_decref(vp);
        for (uint64_t b = 0; b < nb; b++) {
            json_array_append_new(flows, jcount(counts[s][b][0]));
            json_array_append_new(alerts, jcount(counts[s][b][0]));
            json_array_append_new(bytes, jcount(counts[s][b][1]));
        }
        set(x, "flows", flows);
        set(x, "alerts", alerts);
        set(x, "bytes_out", bytes);
        json_array_append_new(series, x);
    }
    free(counts);
    set(o, "bucket_s", jcount(w / 1000000u));
    set(o, "start", out_report_time(first != 0 ? first * w : 1));
    set(o, "buckets", jcount(nb));
    set(o, "series", series);
    return o;
}

static json_t *limits_section(const struct fleet *f)
{
    json_t *o = json_object();
    set(o, "hosts_evicted", jcount(sum(f, "detection.assets.hosts_evicted")));
    set(o, "products_dropped",
        jcount(sum(f, "detection.assets.products_dropped") + f->products_dropped));
    set(o, "evidence_pairs_dropped", json_integer(0));
    set(o, "indicators_dropped", jcount(f->indicators_dropped));
    set(o, "networks_dropped", jcount(f->networks_dropped));
    set(o, "timeline_products_dropped", jcount(f->timeline_dropped));
    set(o, "samples_per_product", json_integer(EVIDENCE_SAMPLES));
    set(o, "networks_other_flows", jcount(f->as_other_flows));
    set(o, "applications_other_flows", jcount(f->app_other_flows));
    return o;
}

static json_t *fleet_section(const struct fleet *f, const struct fleet_source *src)
{
    json_t *o = json_object(), *w = json_object(), *d = json_array();
    set(o, "redis", json_string(src->redis));
    set(o, "key_prefix", jw_json_string(src->key_prefix));
    set(o, "stream", jw_json_string(src->stream));
    set(w, "max", jcount(src->window_max));
    set(w, "stream_length", jcount(src->stream_length));
    set(w, "entries", jcount(src->entries));
    set(w, "alerts", jcount(f->alerts));
    set(w, "asset_events", jcount(f->events));
    set(w, "other_entries", jcount(f->others));
    set(w, "first", out_report_time(src->first_ms * 1000u));
    set(w, "last", out_report_time(src->last_ms * 1000u));
    set(w, "complete", json_boolean(src->complete));
    set(o, "window", w);
    set(o, "alerts_without_finding", jcount(f->alerts_without_finding));
    set(o, "asset_events_omitted", jcount(f->events_omitted));
    set(o, "records_damaged", jcount(f->damaged));
    for (size_t i = 0; i < f->n_damage; i++) {
        json_t *x = json_object();
        set(x, "key", jw_json_string(f->damage[i].key));
        set(x, "field", jw_json_string(f->damage[i].field));
        set(x, "reason", jw_json_string(f->damage[i].why));
        json_array_append_new(d, x);
    }
    set(o, "damaged", d);
    set(o, "hosts_max", json_integer(FLEET_MAX_HOSTS));
    set(o, "hosts_dropped", jcount(f->hosts_dropped));
    set(o, "findings_max", json_integer(FLEET_MAX_FINDINGS));
    set(o, "findings_dropped", jcount(f->findings_dropped));
    set(o, "sensors_max", json_integer(FLEET_MAX_SENSORS));
    set(o, "sensors_dropped", jcount(f->sensors_dropped));
    set(o, "asset_events_max", json_integer(FLEET_MAX_EVENTS));
    return o;
}

json_t *fleet_data(struct fleet *f, const struct fleet_source *src,
                   const struct out_report_src *setup)
{
    json_t *o = out_report_setup(setup, run_section(f, src));
    json_t *sigs = json_object();
    if (o == NULL || sigs == NULL) {
        json_decref(o);
        json_decref(sigs);
        return NULL;
    }
    set(o, "sensors", sensors_section(f));
    set(o, "fleet", fleet_section(f, src));
    set(o, "products", findings_section(f, setup, sigs));
    set(o, "hosts", hosts_section(f, setup));
    set(o, "signatures", sigs);
    json_t *ev = json_incref(f->events_arr), *e;
    size_t i;
    json_array_foreach(ev, i, e) whole(e, setup);
    set(o, "asset_events", ev != NULL ? ev : json_array());
    set(o, "egress", egress_section(f));
    set(o, "applications", apps_section(f));
    set(o, "timeline", timeline_section(f, setup));
    set(o, "limits", limits_section(f));
    /* a section that could not be made is missing: out of memory */
    const char *need[] = {"run",    "sensors",  "fleet",  "products",     "hosts",
                          "egress", "timeline", "limits", "applications", "asset_events"};
    for (size_t k = 0; k < ARRAY_SIZE(need); k++)
        if (json_object_get(o, need[k]) == NULL) {
            json_decref(o);
            return NULL;
        }
    return o;
}
