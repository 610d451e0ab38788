/* fuzz_pcap.c -- a whole capture file through the offline reader and the
 * full pipeline: libpcap, decode, fragments, flow table, nDPI, detection
 * (DNS cache, vendor dissectors, the shipped signature pack), alerts, the
 * asset inventory and flow records.
 *
 * Input: a pcap or pcapng file, written to one file in a temporary folder
 * made once per process and read with source_pcap_file_run(), as main.c
 * does for -r. Flow records and alerts are formatted in full and written
 * to /dev/null; geo lookups are off.
 *
 * State. The configuration and the signature pack (config/signatures, or
 * $FUZZ_SIGNATURES) are loaded once. The pipeline, alert sink and
 * inventory are built in LLVMFuzzerInitialize() and reused; every run ends
 * with pipeline_flush(), so no flow outlives its input and memory stays
 * bounded by the small tables configured below. What does carry over from
 * one run to the next is the pipeline's packet clock (it never goes back),
 * the DNS cache and alert suppression; so that one input with a far-future
 * timestamp cannot freeze the clock for the rest of a long run, the
 * pipeline is rebuilt every REBUILD_EVERY runs and whenever its clock has
 * passed CLOCK_LIMIT_US. A crash found here replays alone from its file. */
#include <string.h>

#include "alerts.h"
#include "assets.h"
#include "config.h"
#include "fuzz-util.h"
#include "output-json-flow.h"
#include "pipeline.h"
#include "signature.h"
#include "source-pcap-file.h"

#ifndef FUZZ_SIGNATURES_DIR
#define FUZZ_SIGNATURES_DIR "config/signatures"
#endif

#define REBUILD_EVERY 2048
#define CLOCK_LIMIT_US (4102444800ull * 1000000u) /* 2100-01-01 */

/* Small tables: a fuzz input holds a few hundred flows at most. */
#define FUZZ_MAX_FLOWS 1024
#define FUZZ_MAX_FRAGMENTS 256
#define FUZZ_MAX_KEYS 1024
#define FUZZ_MAX_HOSTS 256

static struct sensor_config cfg;
static struct sig_pack *pack;
static struct out_flows *flows;
static struct assets *assets;
static struct alert_sink *sink;
static struct pipeline *pl;
static unsigned long runs_since_build;

static void rig_free(void)
{
    char err[256];
    pipeline_free(pl);
    alert_sink_close(sink, err, sizeof(err));
    assets_free(assets);
    pl = NULL;
    sink = NULL;
    assets = NULL;
}

/* (Re)build the per-run state. Exits on failure: nothing can be fuzzed. */
static void rig_build(void)
{
    char err[1024] = "out of memory";
    assets = assets_new(FUZZ_MAX_HOSTS);
    sink = assets ? alert_sink_new(&cfg, "/dev/null", true, assets, err, sizeof(err)) : NULL;
    pl = sink ? pipeline_new(&cfg, NULL, flows, pack, sink, err, sizeof(err)) : NULL;
    if (pl == NULL) {
        fprintf(stderr, "fuzz_pcap: %s\n", err);
        exit(1);
    }
    runs_since_build = 0;
}

static void rig_fini(void)
{
    char err[256];
    rig_free();
    out_flows_close(flows, err, sizeof(err));
    sig_pack_free(pack);
    config_fini(&cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[1024];
    (void)argc;
    (void)argv;

    fuzz_tmpdir("input.pcap");
    if (config_init_defaults(&cfg) < 0) {
        fprintf(stderr, "fuzz_pcap: out of memory\n");
        exit(1);
    }
    cfg.country_db[0] = '\0';
    cfg.asn_db[0] = '\0';
    cfg.max_flows = FUZZ_MAX_FLOWS;
    cfg.max_fragments = FUZZ_MAX_FRAGMENTS;
    cfg.max_alert_keys = FUZZ_MAX_KEYS;
    cfg.dns_cache_size = FUZZ_MAX_KEYS;

    const char *dir = getenv("FUZZ_SIGNATURES");
    if (dir == NULL || dir[0] == '\0')
        dir = FUZZ_SIGNATURES_DIR;
    pack = sig_pack_load(dir, err, sizeof(err));
    if (pack == NULL) {
        fprintf(stderr, "fuzz_pcap: signature pack: %s\n", err);
        exit(1);
    }
    flows = out_flows_open("/dev/null", true, err, sizeof(err));
    if (flows == NULL) {
        fprintf(stderr, "fuzz_pcap: %s\n", err);
        exit(1);
    }
    rig_build();
    atexit(rig_fini);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    struct source_file_stats fs;

    if (runs_since_build++ >= REBUILD_EVERY || pipeline_stats(pl)->last_us > CLOCK_LIMIT_US) {
        rig_free();
        rig_build();
    }
    if (fuzz_write_input(data, size) < 0)
        return 0;
    err[0] = '\0';
    int rc = source_pcap_file_run(fuzz_file, NULL, pl, NULL, NULL, NULL, &fs, err, sizeof(err));
    FUZZ_CHECK(rc == SRC_FILE_OK || rc == SRC_FILE_TRUNCATED || rc == SRC_FILE_DAMAGED ||
               rc == SRC_FILE_ERROR);
    if (rc != SRC_FILE_OK)
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
    pipeline_flush(pl);
    return 0;
}
