/* config.c -- sensor configuration: a libconfig file into struct sensor_config.
 *
 * config_load() works in three steps:
 *
 *   1. libconfig parses the text (syntax errors, duplicate keys);
 *   2. a scan of the raw text rejects integers too large for a 32-bit int,
 *      which libconfig 1.5 would otherwise wrap silently;
 *   3. a walk of the parsed tree looks every setting up in cfg_keys[], one
 *      table of {path, handler, min, max, offset}, and applies it.
 *
 * A new key is one line in cfg_keys[] (plus its field in config.h); a key of
 * a new shape is one handler. Anything not in the table is an error, with a
 * suggestion when the name is close to a known one.
 *
 * @include paths are resolved by libconfig, relative to the working
 * directory; step 2 only sees the top-level file. */
#include "config.h"
#include "conf-file.h"
#include "netset.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest configuration file we read; anything bigger is surely a mistake. */
#define CFG_FILE_MAX (16u << 20)

/* Longest dotted key path we build while walking the tree. */
#define CFG_KEYPATH_MAX 256

/* Built-in home networks: RFC 1918, RFC 6598 (carrier-grade NAT), unique
 * local IPv6 (RFC 4193) and link-local (RFC 3927, RFC 4291). */
static const char *const cfg_default_home_net[] = {
    "10.0.0.0/8", "172.16.0.0/12",  "192.168.0.0/16", "100.64.0.0/10",
    "fc00::/7",   "169.254.0.0/16", "fe80::/10",
};

/* The value stored with every home_net prefix: the set only answers "home or
 * not", and netset values must not be NULL. */
static int cfg_home_marker;

/* ---------------------------------------------------------------- errors */

/* State of one config_load() call, passed to every handler. */
struct cfg_load {
    struct sensor_config *c;
    const char *file; /* for messages about the top-level file */
    char *errbuf;
    size_t errlen;
};

/* An error about setting s, at the file and line it came from. Returns -1.
 *
 * Errors about an element of an array or list are reported at the line of
 * the key and name the element by index: libconfig 1.5 records for an element
 * the line of the token after it, so a last element followed by a newline
 * would be reported on the line of the closing bracket. */
#define cfg_err(ld, s, ...) cf_setting_err((ld)->errbuf, (ld)->errlen, (ld)->file, (s), __VA_ARGS__)

/* ASCII only: the configuration is not locale dependent. */
static int cfg_is_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static char cfg_upper(char ch)
{
    return (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
}

/* ---------------------------------------------------------------- key table */

struct cfg_key;
typedef int (*cfg_apply_fn)(struct cfg_load *ld, const config_setting_t *s,
                            const struct cfg_key *k);

struct cfg_key {
    const char *path;   /* dotted, from the top level */
    cfg_apply_fn apply; /* NULL: a group, whose members are looked up in turn */
    long long min, max; /* integers: the range; strings: the length in bytes */
    size_t off;         /* offsetof() the field in struct sensor_config */
};

static int cfg_apply_u32(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k);
static int cfg_apply_str(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k);
static int cfg_apply_bool(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k);
static int cfg_apply_home_net(struct cfg_load *ld, const config_setting_t *s,
                              const struct cfg_key *k);
static int cfg_apply_countries(struct cfg_load *ld, const config_setting_t *s,
                               const struct cfg_key *k);
static int cfg_apply_sentinels(struct cfg_load *ld, const config_setting_t *s,
                               const struct cfg_key *k);

#define CFG_FIELD_SIZE(field) sizeof(((struct sensor_config *)0)->field)
/* offsetof(field), failing to compile unless the field is 4 bytes wide. */
#define CFG_OFF_U32(field)                                                                         \
    (offsetof(struct sensor_config, field) +                                                       \
     0 * sizeof(char[CFG_FIELD_SIZE(field) == sizeof(uint32_t) ? 1 : -1]))

/* clang-format off */
#define KEY_GROUP(path) {path, NULL, 0, 0, 0}
#define KEY_U32(path, field, lo, hi) {path, cfg_apply_u32, lo, hi, CFG_OFF_U32(field)}
#define KEY_STR(path, field, minlen)                                                               \
    {path, cfg_apply_str, minlen, CFG_FIELD_SIZE(field) - 1, offsetof(struct sensor_config, field)}
#define KEY_FN(path, fn) {path, fn, 0, 0, 0}
#define KEY_BOOL(path, field) {path, cfg_apply_bool, 0, 1, CFG_OFF_U32(field)}
/* clang-format on */

static const struct cfg_key cfg_keys[] = {
    KEY_STR("sensor_name", sensor_name, 1),
    KEY_FN("home_net", cfg_apply_home_net),
    KEY_FN("home_countries", cfg_apply_countries),

    KEY_GROUP("geo"),
    KEY_STR("geo.country_db", country_db, 0),
    KEY_STR("geo.asn_db", asn_db, 0),

    KEY_GROUP("flow"),
    KEY_U32("flow.max_flows", max_flows, 1, 100000000),
    KEY_U32("flow.max_fragments", max_fragments, 1, 10000000),
    KEY_GROUP("flow.timeouts"),
    KEY_U32("flow.timeouts.tcp", timeout_tcp, 1, 86400),
    KEY_U32("flow.timeouts.tcp_closed", timeout_tcp_closed, 1, 86400),
    KEY_U32("flow.timeouts.udp", timeout_udp, 1, 86400),
    KEY_U32("flow.timeouts.icmp", timeout_icmp, 1, 86400),
    KEY_U32("flow.timeouts.other", timeout_other, 1, 86400),
    KEY_GROUP("flow.dpi_packets"),
    KEY_U32("flow.dpi_packets.tcp", dpi_packets_tcp, 1, 255),
    KEY_U32("flow.dpi_packets.udp", dpi_packets_udp, 1, 255),
    KEY_U32("flow.dpi_packets.other", dpi_packets_other, 1, 255),
    KEY_BOOL("flow.ja4", flow_ja4),

    KEY_GROUP("signatures"),
    KEY_STR("signatures.dir", signatures_dir, 0),

    KEY_GROUP("alerts"),
    KEY_U32("alerts.suppress_window", suppress_window, 1, 604800),
    KEY_U32("alerts.max_tracked", max_alert_keys, 1, 10000000),

    KEY_GROUP("dns"),
    KEY_U32("dns.cache_size", dns_cache_size, 1, 10000000),
    KEY_U32("dns.min_ttl", dns_min_ttl, 0, 604800),
    KEY_U32("dns.max_ttl", dns_max_ttl, 1, 604800),

    KEY_GROUP("redis"),
    KEY_STR("redis.url", redis_url, 0),
    KEY_STR("redis.stream", redis_stream, 1),
    KEY_U32("redis.maxlen", redis_maxlen, 1, 1000000000),
    KEY_STR("redis.channel", redis_channel, 0),
    KEY_STR("redis.flows_stream", redis_flows_stream, 0),
    KEY_STR("redis.key_prefix", redis_key_prefix, 1),
    KEY_STR("redis.spool_dir", redis_spool_dir, 1),
    KEY_U32("redis.spool_max_bytes", redis_spool_max_bytes, 1048576, 4294967295u),
    KEY_U32("redis.queue_size", redis_queue_size, 16, 10000000),
    KEY_U32("redis.connect_timeout_ms", redis_connect_timeout_ms, 10, 600000),
    KEY_U32("redis.command_timeout_ms", redis_command_timeout_ms, 10, 600000),
    KEY_U32("redis.stats_interval", redis_stats_interval, 1, 3600),
    KEY_U32("redis.flush_timeout", redis_flush_timeout, 0, 86400),
    KEY_FN("redis.sentinels", cfg_apply_sentinels),
    KEY_STR("redis.master_name", redis_master_name, 0),
    KEY_STR("redis.password", redis_password, 1),
    KEY_STR("redis.password_file", redis_password_file, 1),

    KEY_GROUP("output"),
    KEY_STR("output.flows", flows_path, 0),
    KEY_STR("output.alerts", alerts_path, 0),
    KEY_STR("output.assets", assets_path, 0),
    KEY_STR("output.stats", stats_path, 0),
    KEY_BOOL("output.truncate", output_truncate),
    KEY_STR("output.metrics", metrics_path, 0),
    KEY_U32("output.metrics_interval", metrics_interval, 1, 3600),

    KEY_GROUP("report"),
    KEY_STR("report.template", report_template, 1),
    KEY_U32("report.interval", report_interval, 0, 604800),
};

#define CFG_NKEYS ARRAY_SIZE(cfg_keys)
_Static_assert(ARRAY_SIZE(cfg_keys) <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

static const struct cfg_key *cfg_find_key(const char *path)
{
    size_t i;

    for (i = 0; i < CFG_NKEYS; i++)
        if (strcmp(cfg_keys[i].path, path) == 0)
            return &cfg_keys[i];
    return NULL;
}

/* Case-insensitive edit distance counting a swap of two neighbours as one
 * edit ("tpc" -> "tcp" is 1). Names longer than 63 are never close. */

/* Split a dotted path into its parent length and its last component. */
static const char *cfg_leaf(const char *path, size_t *parent_len)
{
    const char *dot = strrchr(path, '.');

    *parent_len = dot != NULL ? (size_t)(dot - path) : 0;
    return dot != NULL ? dot + 1 : path;
}

/* A known key the unknown path was probably meant to be: a close name in the
 * same group, else the same name in another group. NULL if none. */
static const struct cfg_key *cfg_suggest(const char *path)
{
    size_t plen, klen, i, leaf_len;
    const char *leaf = cfg_leaf(path, &plen);
    const struct cfg_key *best = NULL;
    unsigned best_d;

    leaf_len = strlen(leaf);
    best_d = leaf_len <= 3 ? 2 : leaf_len <= 6 ? 3 : 4; /* one more than the edits accepted */
    for (i = 0; i < CFG_NKEYS; i++) {
        const char *kleaf = cfg_leaf(cfg_keys[i].path, &klen);
        unsigned d;

        if (klen != plen || strncmp(cfg_keys[i].path, path, plen) != 0)
            continue;
        d = cf_distance(leaf, leaf_len, kleaf, strlen(kleaf));
        if (d < best_d) {
            best = &cfg_keys[i];
            best_d = d;
        }
    }
    if (best != NULL)
        return best;
    for (i = 0; i < CFG_NKEYS; i++) {
        const char *kleaf = cfg_leaf(cfg_keys[i].path, &klen);

        if (strlen(kleaf) == leaf_len && cf_distance(leaf, leaf_len, kleaf, leaf_len) == 0)
            return &cfg_keys[i];
    }
    return NULL;
}

static int cfg_unknown(const struct cfg_load *ld, const config_setting_t *s, const char *path)
{
    const struct cfg_key *k = cfg_suggest(path);

    if (k != NULL)
        return cfg_err(ld, s, "unknown key \"%s\" (did you mean \"%s\"?)", path, k->path);
    return cfg_err(ld, s, "unknown key \"%s\"", path);
}

/* ---------------------------------------------------------------- handlers */

static int cfg_apply_u32(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k)
{
    long long v;
    uint32_t u;

    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return cfg_err(ld, s, "%s: expected an integer, found %s", k->path, cf_type_name(s));
    v = config_setting_get_int64(s);
    if (v < k->min || v > k->max)
        return cfg_err(ld, s, "%s: %lld is out of range %lld..%lld", k->path, v, k->min, k->max);
    u = (uint32_t)v;
    memcpy((char *)ld->c + k->off, &u, sizeof(u));
    return 0;
}

/* true or false, into a uint32_t field (1 or 0). */
static int cfg_apply_bool(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k)
{
    uint32_t u;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return cfg_err(ld, s, "%s: expected true or false, found %s", k->path, cf_type_name(s));
    u = config_setting_get_bool(s) ? 1u : 0u;
    memcpy((char *)ld->c + k->off, &u, sizeof(u));
    return 0;
}

/* A string of min..max bytes, without control characters, copied into a
 * char array of max + 1 bytes. */
static int cfg_apply_str(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k)
{
    const char *v, *p;
    size_t len;

    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return cfg_err(ld, s, "%s: expected a string, found %s", k->path, cf_type_name(s));
    v = config_setting_get_string(s);
    len = strlen(v);
    if (len == 0 && k->min > 0)
        return cfg_err(ld, s, "%s: must not be empty", k->path);
    if ((long long)len > k->max)
        return cfg_err(ld, s, "%s: longer than %lld bytes", k->path, k->max);
    for (p = v; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return cfg_err(ld, s, "%s: contains a control character", k->path);
    memcpy((char *)ld->c + k->off, v, len + 1);
    return 0;
}

/* home_net: an array or list of prefixes, replacing the whole set. The new set
 * is built aside and swapped in only when every entry is good. */
static int cfg_apply_home_net(struct cfg_load *ld, const config_setting_t *s,
                              const struct cfg_key *k)
{
    struct sensor_config *c = ld->c;
    struct netset *ns = NULL;
    char msg[160];
    int n, i;

    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return cfg_err(ld, s, "%s: expected an array of strings, found %s", k->path,
                       cf_type_name(s));
    n = config_setting_length(s);
    if (n == 0)
        return cfg_err(ld, s, "%s: empty (leave the key out for the defaults)", k->path);
    if (n > CONFIG_MAX_HOME_NET)
        return cfg_err(ld, s, "%s: more than %d entries", k->path, CONFIG_MAX_HOME_NET);

    ns = netset_new();
    if (ns == NULL) {
        cfg_err(ld, s, "%s: out of memory", k->path);
        goto fail;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *text;

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cfg_err(ld, s, "%s[%d]: expected a string, found %s", k->path, i, cf_type_name(e));
            goto fail;
        }
        text = config_setting_get_string(e);
        if (strlen(text) >= sizeof(c->home_net_text[0])) {
            cfg_err(ld, s, "%s[%d]: longer than %zu bytes", k->path, i,
                    sizeof(c->home_net_text[0]) - 1);
            goto fail;
        }
        msg[0] = '\0';
        if (netset_add(ns, text, &cfg_home_marker, msg, sizeof(msg)) < 0) {
            /* netset's message names the prefix and the reason */
            if (msg[0] != '\0')
                cfg_err(ld, s, "%s[%d]: %s", k->path, i, msg);
            else
                cfg_err(ld, s, "%s[%d]: invalid prefix \"%s\"", k->path, i, text);
            goto fail;
        }
        if (netset_count(ns) != (size_t)i + 1) {
            cfg_err(ld, s, "%s[%d]: \"%s\" repeats an earlier entry", k->path, i, text);
            goto fail;
        }
    }

    for (i = 0; i < n; i++) {
        const char *text = config_setting_get_string_elem(s, i);

        memcpy(c->home_net_text[i], text, strlen(text) + 1);
    }
    c->n_home_net = (unsigned)n;
    netset_free(c->home_net);
    c->home_net = ns;
    return 0;

fail:
    netset_free(ns);
    return -1;
}

/* Append one country code (len bytes at item) to cc[*n], upper-cased. idx is
 * the element's index for messages, or -1 for an item of the string form. */
static int cfg_add_country(const struct cfg_load *ld, const config_setting_t *s,
                           const struct cfg_key *k, int idx, char cc[][3], unsigned *n,
                           const char *item, size_t len)
{
    char where[64], up[3];
    unsigned i;

    if (idx >= 0)
        snprintf(where, sizeof(where), "%s[%d]", k->path, idx);
    else
        snprintf(where, sizeof(where), "%s", k->path);
    if (len != 2 || !cfg_is_alpha(item[0]) || !cfg_is_alpha(item[1]))
        return cfg_err(ld, s, "%s: \"%.*s\" is not a two-letter country code", where,
                       (int)(len > 16 ? 16 : len), item);
    up[0] = cfg_upper(item[0]);
    up[1] = cfg_upper(item[1]);
    up[2] = '\0';
    for (i = 0; i < *n; i++)
        if (memcmp(cc[i], up, 3) == 0)
            return cfg_err(ld, s, "%s: \"%s\" listed twice", where, up);
    if (*n >= CONFIG_MAX_COUNTRIES)
        return cfg_err(ld, s, "%s: more than %d entries", k->path, CONFIG_MAX_COUNTRIES);
    memcpy(cc[(*n)++], up, 3);
    return 0;
}

/* home_countries: an array or list of codes, or one string "CN,HK,MO". */
static int cfg_apply_countries(struct cfg_load *ld, const config_setting_t *s,
                               const struct cfg_key *k)
{
    char cc[CONFIG_MAX_COUNTRIES][3];
    unsigned n = 0;

    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        const char *p = config_setting_get_string(s);

        /* One comma-separated item per turn. A blank string is no country at
         * all; an empty item ("CN,,HK", "CN,") is an error. */
        while (*p == ' ' || *p == '\t')
            p++;
        while (*p != '\0') {
            const char *start = p, *end;

            while (*p != '\0' && *p != ',')
                p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if (cfg_add_country(ld, s, k, -1, cc, &n, start, (size_t)(end - start)) < 0)
                return -1;
            if (*p == ',') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if (*p == '\0') /* "CN,": an empty last item */
                    return cfg_add_country(ld, s, k, -1, cc, &n, p, 0);
            }
        }
    } else if (config_setting_is_array(s) || config_setting_is_list(s)) {
        int i, len = config_setting_length(s);

        for (i = 0; i < len; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            const char *v;

            if (config_setting_type(e) != CONFIG_TYPE_STRING)
                return cfg_err(ld, s, "%s[%d]: expected a string, found %s", k->path, i,
                               cf_type_name(e));
            v = config_setting_get_string(e);
            if (cfg_add_country(ld, s, k, i, cc, &n, v, strlen(v)) < 0)
                return -1;
        }
    } else {
        return cfg_err(ld, s, "%s: expected an array of strings or a string, found %s", k->path,
                       cf_type_name(s));
    }

    memcpy(ld->c->home_countries, cc, sizeof(cc[0]) * n);
    ld->c->n_home_countries = n;
    return 0;
}

/* redis.sentinels: a list of "host:port" strings (at most
 * CONFIG_MAX_SENTINELS). The form is checked here; reachability at run time. */
static int cfg_apply_sentinels(struct cfg_load *ld, const config_setting_t *s,
                               const struct cfg_key *k)
{
    int i, n;

    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return cfg_err(ld, s, "%s: expected an array of \"host:port\" strings, found %s", k->path,
                       cf_type_name(s));
    n = config_setting_length(s);
    if (n > CONFIG_MAX_SENTINELS)
        return cfg_err(ld, s, "%s: at most %d entries", k->path, CONFIG_MAX_SENTINELS);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *v, *colon;
        char *end;
        long port;

        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return cfg_err(ld, s, "%s[%d]: expected a string, found %s", k->path, i,
                           cf_type_name(e));
        v = config_setting_get_string(e);
        colon = strrchr(v, ':');
        port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (colon == NULL || colon == v || colon[1] == '\0' || *end != '\0' || port < 1 ||
            port > 65535 || strlen(v) >= sizeof(ld->c->redis_sentinels[0]))
            return cfg_err(ld, s, "%s[%d]: \"%.100s\" is not host:port", k->path, i, v);
        snprintf(ld->c->redis_sentinels[i], sizeof(ld->c->redis_sentinels[i]), "%s", v);
    }
    ld->c->n_redis_sentinels = (unsigned)n;
    return 0;
}

/* ---------------------------------------------------------------- secrets */

/* Whether a file holding a password is closed enough: nothing for others,
 * at most read for the group. Writes why not into why. */
static int cfg_secret_mode_ok(const struct stat *st, const char *file, char *why, size_t len)
{
    if ((st->st_mode & (S_IRWXO | S_IWGRP | S_IXGRP)) == 0)
        return 1;
    snprintf(why, len,
             "%s is %s (mode %04o): a file with a password must be 0600, or 0640 for a "
             "group that reads it (chmod o-rwx,g-wx %s)",
             file, (st->st_mode & S_IRWXO) ? "open to others" : "writable by its group",
             (unsigned)(st->st_mode & 07777), file);
    return 0;
}

/* redis.password_file: the first line of the file (checked as above) into
 * c->redis_password. Returns 0, or -1 with the reason in why. */
static int cfg_read_password_file(struct sensor_config *c, char *why, size_t len)
{
    const char *f = c->redis_password_file;
    char buf[sizeof(c->redis_password) + 3];
    struct stat st;
    int fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) {
        snprintf(why, len, "%s: %s", f, strerror(errno));
        return -1;
    }
    ssize_t n = -1;
    if (fstat(fd, &st) < 0)
        snprintf(why, len, "%s: %s", f, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(why, len, "%s: not a regular file", f);
    else if (cfg_secret_mode_ok(&st, f, why, len) && (n = read(fd, buf, sizeof(buf) - 1)) < 0)
        snprintf(why, len, "%s: %s", f, strerror(errno));
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    size_t l = strcspn(buf, "\r\n");
    if (buf[l] == '\r' && buf[l + 1] == '\n')
        buf[l + 1] = '\0';
    if (buf[l] != '\0' && buf[l + 1] != '\0')
        return snprintf(why, len, "%s: more than one line", f), -1;
    buf[l] = '\0';
    if (l == 0 || l >= sizeof(c->redis_password))
        return snprintf(why, len, "%s: the password must be 1 to %zu bytes on one line", f,
                        sizeof(c->redis_password) - 1),
               -1;
    for (size_t i = 0; i < l; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            return snprintf(why, len, "%s: a control character in the password", f), -1;
    memcpy(c->redis_password, buf, l + 1);
    return 0;
}

/* What config_load() checks once every key is read: the password's files,
 * the sensor name. */
static int cfg_check_redis(struct cfg_load *ld, config_t *lc)
{
    struct sensor_config *c = ld->c;
    const config_setting_t *pw = config_lookup(lc, "redis.password");
    const config_setting_t *pf = config_lookup(lc, "redis.password_file");
    const config_setting_t *sn = config_lookup(lc, "sensor_name");
    char why[CONFIG_PATH_MAX * 2 + 200];
    struct stat st;

    for (const char *p = c->sensor_name; sn != NULL && *p; p++)
        if (*p == ':' || *p == '*' || *p == ' ' || *p == '\t' || (unsigned char)*p < 0x20 ||
            *p == 0x7f)
            return cfg_err(ld, sn,
                           "sensor_name: \"%s\" contains '%c': the name is part of Redis key "
                           "names (<prefix>:stats:<name>), where ':' separates, '*' matches and "
                           "spaces or control characters do not belong",
                           c->sensor_name, (unsigned char)*p >= 0x20 ? *p : '?');
    if (pw != NULL && pf != NULL)
        return cfg_err(ld, pf, "redis.password_file: redis.password is set too; keep one");
    if (pw != NULL) {
        if (stat(ld->file, &st) < 0)
            return cfg_err(ld, pw, "redis.password: %s: %s", ld->file, strerror(errno));
        if (!cfg_secret_mode_ok(&st, ld->file, why, sizeof(why)))
            return cfg_err(ld, pw, "redis.password: %s", why);
    }
    if (pf != NULL && cfg_read_password_file(c, why, sizeof(why)) < 0)
        return cfg_err(ld, pf, "redis.password_file: %s", why);
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* Remember where k was set, for config_where(). */
static void cfg_note_line(struct cfg_load *ld, const config_setting_t *s, const struct cfg_key *k)
{
    const char *file = config_setting_source_file(s);
    unsigned line = (unsigned)config_setting_source_line(s);
    ld->c->key_line[k - cfg_keys] =
        file == NULL || strcmp(file, ld->file) == 0 ? (line ? line : 1) : CONFIG_LINE_INCLUDED;
}

/* Check and apply every member of group, whose dotted path is prefix ("" for
 * the top level). Stops at the first error. */
static int cfg_walk(struct cfg_load *ld, const config_setting_t *group, const char *prefix)
{
    int i, n = config_setting_length(group);

    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct cfg_key *k;
        char path[CFG_KEYPATH_MAX];

        if (prefix[0] != '\0')
            snprintf(path, sizeof(path), "%s.%s", prefix, name != NULL ? name : "");
        else
            snprintf(path, sizeof(path), "%s", name != NULL ? name : "");
        k = cfg_find_key(path);
        if (k == NULL)
            return cfg_unknown(ld, s, path);
        cfg_note_line(ld, s, k);
        if (k->apply != NULL) {
            if (k->apply(ld, s, k) < 0)
                return -1;
        } else if (!config_setting_is_group(s)) {
            return cfg_err(ld, s, "%s: expected a group { ... }, found %s", path, cf_type_name(s));
        } else if (cfg_walk(ld, s, path) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Whether the integer literal in [p, end) would not survive libconfig 1.5,
 * which reads a literal without an L suffix into an int, wrapping it. */
static int cfg_int_overflows(const char *p, const char *end)
{
    unsigned long long v;
    int neg, hex = (end - p > 2 && (p[1] == 'x' || p[1] == 'X'));

    if (!cf_int_literal(p, end, &v, &neg))
        return 0;
    return v > (hex ? 0xffffffffull : neg ? 2147483648ull : 2147483647ull);
}

/* Step 2: find integer literals outside comments and strings that libconfig
 * has wrapped. Runs only on text libconfig has parsed without error. */
static int cfg_scan_ints(const struct cfg_load *ld, const char *text)
{
    unsigned line;
    const char *start;
    size_t len;

    if (!cf_find_int(text, cfg_int_overflows, &line, &start, &len))
        return 0;
    return cf_msg(ld->errbuf, ld->errlen, ld->file, line, "integer %.*s does not fit in 32 bits",
                  (int)(len > 40 ? 40 : len), start);
}

/* The whole file into a NUL-terminated heap buffer (caller frees). */

/* ---------------------------------------------------------------- public API */

/* Fill c with the built-in defaults. Returns 0, or -1 on allocation failure
 * with c->home_net NULL; either way c is ready for config_fini(). */
int config_init_defaults(struct sensor_config *c)
{
    char host[256];
    size_t i, n = ARRAY_SIZE(cfg_default_home_net);

    memset(c, 0, sizeof(*c));

    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    snprintf(c->sensor_name, sizeof(c->sensor_name), "%.*s", (int)sizeof(c->sensor_name) - 1, host);

    c->home_net = netset_new();
    if (c->home_net == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        const char *text = cfg_default_home_net[i];
        char msg[128];

        if (netset_add(c->home_net, text, &cfg_home_marker, msg, sizeof(msg)) < 0) {
            netset_free(c->home_net);
            c->home_net = NULL;
            c->n_home_net = 0;
            return -1;
        }
        snprintf(c->home_net_text[i], sizeof(c->home_net_text[i]), "%s", text);
        c->n_home_net++;
    }

    snprintf(c->country_db, sizeof(c->country_db), "%s", CONFIG_DEFAULT_COUNTRY_DB);
    snprintf(c->asn_db, sizeof(c->asn_db), "%s", CONFIG_DEFAULT_ASN_DB);

    snprintf(c->signatures_dir, sizeof(c->signatures_dir), "%s", CONFIG_DEFAULT_SIGNATURES_DIR);
    snprintf(c->report_template, sizeof(c->report_template), "%s", CONFIG_DEFAULT_REPORT_TEMPLATE);
    c->suppress_window = 3600;
    c->max_alert_keys = 65536;
    c->dns_cache_size = 65536;
    c->dns_min_ttl = 60;
    c->dns_max_ttl = 86400;

    snprintf(c->redis_stream, sizeof(c->redis_stream), "%s", "egress:alerts");
    snprintf(c->redis_key_prefix, sizeof(c->redis_key_prefix), "%s", "egress");
    snprintf(c->redis_spool_dir, sizeof(c->redis_spool_dir), "%s", CONFIG_DEFAULT_SPOOL_DIR);
    c->redis_maxlen = 100000;
    c->redis_spool_max_bytes = 1073741824u;
    c->redis_queue_size = 4096;
    c->redis_connect_timeout_ms = 1000;
    c->redis_command_timeout_ms = 2000;
    c->redis_stats_interval = 5;
    c->redis_flush_timeout = 10;
    c->metrics_interval = 10;

    c->max_flows = 262144;
    c->max_fragments = 8192;
    c->timeout_tcp = 300;
    c->timeout_tcp_closed = 10;
    c->timeout_udp = 60;
    c->timeout_icmp = 30;
    c->timeout_other = 60;
    c->dpi_packets_tcp = 80;
    c->dpi_packets_udp = 24;
    c->dpi_packets_other = 8;
    c->flow_ja4 = 1;
    return 0;
}

/* Read path over the values already in c. Returns 0 with c->source set to
 * path. On error returns -1 with "FILE:LINE: message" (or "FILE: message"
 * when the file cannot be read) in errbuf; c then holds a mix of old and new
 * values, every owned pointer in it valid, fit only for config_fini(). Owns
 * nothing of path or errbuf after returning. */
int config_load(struct sensor_config *c, const char *path, char *errbuf, size_t errlen)
{
    struct cfg_load ld = {c, path, errbuf, errlen};
    config_t lc;
    char *text = NULL;
    int ret = -1;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (cf_parse_file(path, &lc, &text, errbuf, errlen) < 0)
        return -1;
    if (cfg_scan_ints(&ld, text) < 0)
        goto out;
    if (cfg_walk(&ld, config_root_setting(&lc), "") < 0)
        goto out;
    if (cfg_check_redis(&ld, &lc) < 0)
        goto out;
    if (c->dns_min_ttl > c->dns_max_ttl) {
        config_setting_t *st = config_lookup(&lc, "dns.min_ttl");
        if (st == NULL)
            st = config_lookup(&lc, "dns.max_ttl");
        cf_msg(errbuf, errlen, path, st ? (unsigned)config_setting_source_line(st) : 0,
               "dns.min_ttl (%u) is greater than dns.max_ttl (%u)", c->dns_min_ttl, c->dns_max_ttl);
        goto out;
    }
    snprintf(c->source, sizeof(c->source), "%s", path);
    ret = 0;

out:
    config_destroy(&lc);
    free(text);
    return ret;
}

/* Free the home_net set and zero c. Cannot fail; a second call is a no-op. */
void config_fini(struct sensor_config *c)
{
    if (c == NULL)
        return;
    netset_free(c->home_net);
    memset(c, 0, sizeof(*c));
}

/* 1 if cc is exactly two characters matching a home country in any case,
 * else 0. Cannot fail. */
int config_is_home_country(const struct sensor_config *c, const char *cc)
{
    unsigned i;

    if (c == NULL || cc == NULL || cc[0] == '\0' || cc[1] == '\0' || cc[2] != '\0')
        return 0;
    for (i = 0; i < c->n_home_countries; i++)
        if (c->home_countries[i][0] == cfg_upper(cc[0]) &&
            c->home_countries[i][1] == cfg_upper(cc[1]))
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- reload */

/* The keys a running sensor applies on a reload; every other one sizes or
 * opens something at start. */
static const char *const cfg_reloadable[] = {
    "home_net",
    "home_countries",
    "signatures.dir",
    "alerts.suppress_window",
};

static int cfg_is_reloadable(const char *path)
{
    for (size_t i = 0; i < ARRAY_SIZE(cfg_reloadable); i++)
        if (strcmp(cfg_reloadable[i], path) == 0)
            return 1;
    return 0;
}

/* Whether key k has the same value in a and b. */
static int cfg_same(const struct cfg_key *k, const struct sensor_config *a,
                    const struct sensor_config *b)
{
    const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;

    if (k->apply == cfg_apply_u32 || k->apply == cfg_apply_bool)
        return memcmp(pa, pb, sizeof(uint32_t)) == 0;
    if (k->apply == cfg_apply_str)
        return strcmp(pa, pb) == 0;
    if (k->apply == cfg_apply_sentinels)
        return a->n_redis_sentinels == b->n_redis_sentinels &&
               memcmp(a->redis_sentinels, b->redis_sentinels, sizeof(a->redis_sentinels)) == 0;
    return 1;
}

int config_reload_merge(struct sensor_config *next, const struct sensor_config *running,
                        struct sensor_config *loaded, char *restart, size_t restart_len)
{
    size_t used = 0, i;
    int n = 0;

    if (restart_len > 0)
        restart[0] = '\0';
    for (i = 0; i < CFG_NKEYS; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (k->apply == NULL || cfg_is_reloadable(k->path) || cfg_same(k, running, loaded))
            continue;
        if (used < restart_len) {
            int w = snprintf(restart + used, restart_len - used, "%s%s", n ? ", " : "", k->path);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }

    memcpy(next, running, sizeof(*next));
    memcpy(next->source, loaded->source, sizeof(next->source));
    memcpy(next->home_net_text, loaded->home_net_text, sizeof(next->home_net_text));
    next->n_home_net = loaded->n_home_net;
    next->home_net = loaded->home_net; /* next owns it now */
    loaded->home_net = NULL;
    memcpy(next->home_countries, loaded->home_countries, sizeof(next->home_countries));
    next->n_home_countries = loaded->n_home_countries;
    memcpy(next->signatures_dir, loaded->signatures_dir, sizeof(next->signatures_dir));
    next->suppress_window = loaded->suppress_window;
    memcpy(next->key_line, loaded->key_line, sizeof(next->key_line));
    return n;
}

const char *config_where(const struct sensor_config *c, const char *key, char *buf, size_t len)
{
    const struct cfg_key *k = cfg_find_key(key);
    unsigned line = k != NULL ? c->key_line[k - cfg_keys] : 0;
    if (line == 0)
        snprintf(buf, len, "%s (the default)", key);
    else if (line == CONFIG_LINE_INCLUDED)
        snprintf(buf, len, "%s (in a file %s includes)", key, c->source);
    else
        snprintf(buf, len, "%s:%u: %s", c->source, line, key);
    return buf;
}

int config_is_set(const struct sensor_config *c, const char *key)
{
    const struct cfg_key *k = cfg_find_key(key);
    return k != NULL && c->key_line[k - cfg_keys] != 0;
}
