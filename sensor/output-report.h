/* output-report.h -- the HTML report (--report FILE).
 *
 * One self-contained page a reviewer opens from disk: which internal hosts
 * run which foreign security products, with the evidence, where their
 * traffic went and when, and what the run read. The page is a template
 * (sensor/report/, built by "make report" with its styles, scripts and
 * chart library inlined) holding the placeholder OUT_REPORT_PLACEHOLDER
 * inside <script type="application/json" id="report-data">; the writer
 * puts there the run's data, one JSON document whose schema is
 * sensor/report/report-data.schema.json, escaped so that no string can end
 * the script element. The file is replaced atomically (a temporary file in
 * the same folder, written, synced, renamed), so a reader or a web server
 * never sees half a report. */
#ifndef OUTPUT_REPORT_H
#define OUTPUT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct run_report;
struct sensor_config;
struct sig_pack;
struct geo;
struct evidence;
struct assets;
struct as_tally;
struct app_tally;

/* The text the template holds where the data goes. */
#define OUT_REPORT_PLACEHOLDER "@@REPORT_DATA@@"

/* report_version of the data document; raised when a field changes
 * meaning or goes away (new fields do not raise it). */
#define OUT_REPORT_VERSION 1

/* Largest template read (it is about 250 KB). */
#define OUT_REPORT_TEMPLATE_MAX (16u << 20)

/* What the report is made of; every pointer is borrowed for the call. */
struct out_report_src {
    const struct run_report *rep;    /* end-of-run figures, the -r inputs */
    const struct sensor_config *cfg; /* sensor name, home_net, paths */
    const struct sig_pack *pack;     /* NULL: detection off */
    const struct geo *geo;           /* NULL: no geo databases */
    struct evidence *ev;             /* NULL: no evidence kept */
    const struct assets *assets;     /* NULL: no inventory */
    uint64_t generated_us;           /* wall-clock time of the report; 0: now */
};

/* Egress tallies for out_report_egress(): a run's (pipeline.h) or the
 * fleet window's. Pointers are borrowed for the call. */
struct out_report_egress {
    uint64_t flows, bytes_out;
    const uint64_t *cc_flows, *cc_bytes_out; /* [26 * 26], by country code */
    uint64_t unknown_cc_bytes_out;           /* to addresses no country locates */
    const struct as_tally **ases;            /* n_ases, any order: sorted in place */
    size_t n_ases;
    uint64_t other_as_flows, other_as_bytes_out;     /* the AS table was full */
    uint64_t unknown_as_flows, unknown_as_bytes_out; /* to addresses no AS locates */
};

/* The data document's "egress" object (countries and networks, most bytes
 * out first). */
json_t *out_report_egress(const struct out_report_egress *e);

/* The data document's "apps" array from n application tallies (v is
 * sorted in place: most bytes out first). */
json_t *out_report_apps(const struct app_tally **v, size_t n);

/* Check that the template at path can be read and is one (holds the
 * placeholder exactly once). Returns 0, or -1 with "PATH: message" in
 * errbuf (a missing file says to run make report). Cannot change anything. */
int out_report_check_template(const char *path, char *errbuf, size_t errlen);

/* The report's data document. Returns a new reference (json_decref()),
 * or NULL when out of memory. Reads src->assets and src->ev: the caller
 * keeps them from changing meanwhile (alert_sink_locked()). */
json_t *out_report_data(const struct out_report_src *src);

/* The sections of the document that do not come from the traffic:
 * report_version, generated, sensor, config, signature_pack and geo (from
 * src's cfg, pack and geo; src->rep, ev and assets are not read), with run
 * (taken over, even on failure) between sensor and config. For a document
 * made from something else than one run (the fleet view, fleet.h).
 * Returns a new object, or NULL when out of memory. */
json_t *out_report_setup(const struct out_report_src *src, json_t *run);

/* A time as the document writes it: RFC 3339 UTC with microseconds
 * ("2023-11-14T22:13:20.123456Z"), null for 0 (never seen). A new
 * reference; NULL when out of memory. */
json_t *out_report_time(uint64_t us);

/* The inventory and the evidence keep vendor and product names cut to
 * their fields (31 and 39 bytes); a signature of pack (may be NULL) whose
 * names those are, whole or cut, gives them whole into *v and *p; without
 * one, vendor and product themselves. Cannot fail. */
void out_report_whole_names(const struct sig_pack *pack, const char *vendor, const char *product,
                            const char **v, const char **p);

/* Add the signature id of pack to sigs (the document's "signatures"
 * object) unless it is there already, or pack is NULL or lacks it. An
 * allocation failure leaves it out. */
void out_report_note_signature(json_t *sigs, const struct sig_pack *pack, const char *id);

/* json (len bytes of JSON text) made safe inside a script element: '<',
 * '>', '&', U+2028 and U+2029 written as \uXXXX escapes (they only occur
 * inside strings, where the escape means the same character). Returns a
 * NUL-terminated copy the caller frees with free(), its length in
 * *out_len; NULL when out of memory. */
char *out_report_escape(const char *json, size_t len, size_t *out_len);

/* Write the report to path: the template at template_path with the data
 * of src in place of the placeholder, into a temporary file in path's
 * folder that is synced and renamed over path. Returns 0, or -1 with
 * "FILE: message" in errbuf; path is then left as it was and the
 * temporary file removed. */
int out_report_write(const char *path, const char *template_path, const struct out_report_src *src,
                     char *errbuf, size_t errlen);

/* The same with a data document made already (out_report_data(), or the
 * fleet view's), which is only read. Returns 0, or -1 with "FILE:
 * message" in errbuf (doc NULL counts as out of memory); path is then left
 * as it was. */
int out_report_write_doc(const char *path, const char *template_path, const json_t *doc,
                         char *errbuf, size_t errlen);

#endif
