/* output-metrics.h -- the run's counters as a Prometheus text file.
 *
 * For node_exporter's textfile collector (no HTTP server here): the file
 * holds every counter --stats writes, in the Prometheus text exposition
 * format 0.0.4, and is replaced whole each time -- written to a temporary
 * file in the same folder (PATH.tmp.XXXXXX, which the collector, reading
 * only *.prom, skips), flushed to disk, mode 0644, then renamed over PATH
 * -- so a reader sees the previous file or the new one, never a part.
 *
 * Names follow the Prometheus conventions from the counters' dotted names
 * (counters.h): "egress_sensor_" and the name with '.' and '-' as '_', and
 * "_total" for a counter (packets.total is egress_sensor_packets_total,
 * flows.lookups egress_sensor_flows_lookups_total); a gauge or a peak is a
 * gauge without it. A family (flows.end_reason.*, flows.direction.*,
 * decode.*, detection.by_severity.*, redis.lost's reasons) is one metric
 * named after the family with its dimension as a label:
 * egress_sensor_flows_end_reason_total{end_reason="idle"}. Every sample
 * carries sensor="<sensor_name>", so that several sensors on one host can
 * share the collector's folder; egress_sensor_info{sensor,version} is 1.
 * HELP is the counter's description; values are counts and bytes, the base
 * units. As --stats does, the capture.* counters are left out unless
 * capturing live, detection.* when detection is off, and redis.* without
 * the Redis output. */
#ifndef OUTPUT_METRICS_H
#define OUTPUT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct run_counters;
struct out_redis_stats;
struct out_metrics;

/* What one write of the file reports; pointers are borrowed. */
struct out_metrics_src {
    const struct run_counters *c;
    const struct out_redis_stats *rs; /* NULL: no Redis output */
    bool detection;                   /* the detection.* counters: a pack is loaded */
    bool live;                        /* the capture.* counters: capturing live */
};

/* Set up the metrics file path for sensor (the name in every sample),
 * written every interval_s seconds (out_metrics_due()). The folder is
 * checked by creating and removing a temporary file in it, so a file that
 * could never be written stops the run before it starts. Returns 0 with
 * *out set (free with out_metrics_free()); -EINVAL when path is "" or "-"
 * (the file is replaced, it cannot be standard output); another negative
 * errno when the folder cannot take the file; both with a message in
 * errbuf. */
int out_metrics_new(struct out_metrics **out, const char *path, const char *sensor,
                    unsigned interval_s, char *errbuf, size_t errlen);

/* Whether a write is due at now (seconds, any monotonic clock): the first
 * call, then every interval_s. NULL is never due. */
bool out_metrics_due(const struct out_metrics *m, double now);

/* Replace the file with src's counters, at now. Returns 0, or -1 when it
 * could not be written (the previous file, if any, is left whole and no
 * temporary file stays). A failure is logged when it starts and the
 * recovery when the file is written again, not at every interval; final
 * (the end of the run) logs a failure whatever came before. NULL is a
 * no-op returning 0. */
int out_metrics_write(struct out_metrics *m, const struct out_metrics_src *src, double now,
                      bool final);

/* Free m; the file stays. NULL is a no-op. */
void out_metrics_free(struct out_metrics *m);

/* Write the exposition of src for sensor to fp (what out_metrics_write()
 * puts in the file). Returns 0, or -1 when fp reports an error. */
int out_metrics_format(FILE *fp, const char *sensor, const struct out_metrics_src *src);

#endif
