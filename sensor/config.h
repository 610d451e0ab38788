/* config.h -- sensor configuration (libconfig syntax), validated on load.
 *
 * config_load() reads one file and checks every key: an unknown key, a value
 * of the wrong type or out of range is an error naming the file and line. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct netset;

#define CONFIG_PATH_MAX 1024
#define CONFIG_MAX_COUNTRIES 64
#define CONFIG_MAX_HOME_NET 256
#define CONFIG_MAX_SENTINELS 8
#define CONFIG_MAX_KEYS 64 /* keys the file format has, at most */
/* key_line[]: set in a file that the source @includes, line unknown */
#define CONFIG_LINE_INCLUDED 0xffffffffu

/* Default paths. The build tree's program finds its files relative to the
 * repository's root, where it is run from. "make install" builds it with
 * SENSOR_SYSCONFDIR, SENSOR_DATADIR and SENSOR_LOCALSTATEDIR, the install's
 * sysconfdir, datadir and localstatedir (/etc, /usr/share, /var), so that
 * the installed program runs from any folder. */
#if defined(SENSOR_SYSCONFDIR) && defined(SENSOR_DATADIR) && defined(SENSOR_LOCALSTATEDIR)
#define CONFIG_DEFAULT_FILE SENSOR_SYSCONFDIR "/egress-sensor/sensor.conf"
#define CONFIG_DEFAULT_SIGNATURES_DIR SENSOR_DATADIR "/egress-sensor/signatures"
#define CONFIG_DEFAULT_REPORT_TEMPLATE SENSOR_DATADIR "/egress-sensor/report-template.html"
#define CONFIG_DEFAULT_GEO_DIR SENSOR_LOCALSTATEDIR "/lib/egress-sensor/geo"
#define CONFIG_DEFAULT_SPOOL_DIR SENSOR_LOCALSTATEDIR "/lib/egress-sensor/spool"
#else
#define CONFIG_DEFAULT_FILE "config/sensor.conf"
#define CONFIG_DEFAULT_SIGNATURES_DIR "config/signatures"
#define CONFIG_DEFAULT_REPORT_TEMPLATE "build/report/report-template.html" /* make report */
#define CONFIG_DEFAULT_GEO_DIR "geo/data"                                  /* make geo */
#define CONFIG_DEFAULT_SPOOL_DIR "/var/lib/egress-sensor/spool"
#endif
#define CONFIG_DEFAULT_COUNTRY_DB CONFIG_DEFAULT_GEO_DIR "/dbip-country.mmdb"
#define CONFIG_DEFAULT_ASN_DB CONFIG_DEFAULT_GEO_DIR "/asn.mmdb"

struct sensor_config {
    char source[CONFIG_PATH_MAX]; /* file it was read from, "" for built-in defaults */
    char sensor_name[64];         /* default: the host name */

    /* home_net: the prefixes as written (for --check-config and stats) and
     * the compiled set (owned; values are non-NULL markers). */
    char home_net_text[CONFIG_MAX_HOME_NET][64];
    unsigned n_home_net;
    struct netset *home_net;

    /* ISO 3166-1 alpha-2 codes, upper case. */
    char home_countries[CONFIG_MAX_COUNTRIES][3];
    unsigned n_home_countries;

    /* geo databases ("" = disabled) */
    char country_db[CONFIG_PATH_MAX];
    char asn_db[CONFIG_PATH_MAX];

    /* flow table */
    uint32_t max_flows;          /* tracked flows at most */
    uint32_t max_fragments;      /* IPv4/IPv6 fragment trains tracked at most */
    uint32_t timeout_tcp;        /* idle seconds, established TCP */
    uint32_t timeout_tcp_closed; /* seconds after FIN/RST before the flow ends */
    uint32_t timeout_udp;
    uint32_t timeout_icmp;
    uint32_t timeout_other;
    uint32_t dpi_packets_tcp; /* packets given to nDPI before giving up */
    uint32_t dpi_packets_udp;
    uint32_t dpi_packets_other;
    uint32_t flow_ja4; /* compute the JA4 of client hellos (1, the default) */

    /* detection */
    char signatures_dir[CONFIG_PATH_MAX]; /* the signature pack folder */
    uint32_t suppress_window;             /* seconds: one alert per (host, signature, country) */
    uint32_t max_alert_keys;              /* de-duplication entries tracked at most */
    uint32_t dns_cache_size;              /* (client, address) -> name entries */
    uint32_t dns_min_ttl;                 /* seconds: answers are kept at least this long */
    uint32_t dns_max_ttl;                 /* and at most this long */

    /* Redis output ("" url = off) */
    char redis_url[CONFIG_PATH_MAX];
    char redis_stream[128];
    char redis_channel[128];
    char redis_flows_stream[128];
    char redis_key_prefix[64];
    char redis_spool_dir[CONFIG_PATH_MAX];
    char redis_master_name[128];
    char redis_sentinels[CONFIG_MAX_SENTINELS][128]; /* "host:port" */
    unsigned n_redis_sentinels;
    uint32_t redis_maxlen;
    uint32_t redis_spool_max_bytes;
    uint32_t redis_queue_size;
    uint32_t redis_connect_timeout_ms;
    uint32_t redis_command_timeout_ms;
    uint32_t redis_stats_interval; /* seconds */
    uint32_t redis_flush_timeout;  /* seconds an offline run waits for delivery */
    char redis_password[256];      /* redis.password, or the first line of redis.password_file */
    char redis_password_file[CONFIG_PATH_MAX];

    /* outputs ("" = off, "-" = standard output) */
    char flows_path[CONFIG_PATH_MAX];
    char alerts_path[CONFIG_PATH_MAX];
    char assets_path[CONFIG_PATH_MAX];
    char stats_path[CONFIG_PATH_MAX];
    uint32_t output_truncate; /* flows and alerts: truncate at start (1), else append (0) */
    char metrics_path[CONFIG_PATH_MAX]; /* the Prometheus text file (output-metrics.h) */
    uint32_t metrics_interval;          /* seconds between its writes on a live run */

    /* the report (--report): the page template it is written from */
    char report_template[CONFIG_PATH_MAX];
    uint32_t report_interval; /* live: rewrite the report every this many s; 0 at the end only */

    /* where each key was set in source (config_where()), by its index in
     * the table of keys: 0 for a default */
    unsigned key_line[CONFIG_MAX_KEYS];
};

/* Fill c with the built-in defaults (home_net = RFC 1918, RFC 6598, fc00::/7,
 * link-local; no home countries; the CONFIG_DEFAULT_* paths). Returns 0, or -1
 * on allocation failure. Release with config_fini(). */
int config_init_defaults(struct sensor_config *c);

/* Read path over the defaults already in c. Returns 0 on success. On error
 * returns -1 with "FILE:LINE: message" in errbuf and c holding the defaults
 * or partly applied values: the caller must not use it except to
 * config_fini() it. A file that sets redis.password, and the file named by
 * redis.password_file (whose first line is read into redis_password), must
 * not be readable by others nor writable by the group: 0600, or 0640 for a
 * group that reads it. sensor_name may not hold ':', '*', whitespace or
 * control characters (it is part of Redis key names). */
int config_load(struct sensor_config *c, const char *path, char *errbuf, size_t errlen);

/* Release what c owns. Safe on a zeroed or already finished struct. */
void config_fini(struct sensor_config *c);

/* A reload (SIGHUP). A running sensor applies home_net, home_countries,
 * signatures.dir and alerts.suppress_window; every other key sizes or opens
 * something at start. Fill next with running's values, except those four
 * taken from loaded (a config_load() that succeeded): next takes over
 * loaded's home_net set, so config_fini() both. Returns the number of keys
 * whose new value waits for a restart, and their names, comma separated, in
 * restart. */
int config_reload_merge(struct sensor_config *next, const struct sensor_config *running,
                        struct sensor_config *loaded, char *restart, size_t restart_len);

/* Where key (a dotted path, "redis.url") got its value, for a message
 * about that value: "FILE:LINE: key" when the file set it, "key (the
 * default)" when nothing did, "key (in a file FILE includes)". Writes at
 * most len bytes into buf; returns buf. */
const char *config_where(const struct sensor_config *c, const char *key, char *buf, size_t len);

/* Whether key was set by the file (not left at its default). */
int config_is_set(const struct sensor_config *c, const char *key);

/* Whether cc (two letters, any case) is one of the home countries. */
int config_is_home_country(const struct sensor_config *c, const char *cc);

#endif
