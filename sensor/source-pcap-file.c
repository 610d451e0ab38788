/* source-pcap-file.c -- offline capture reader (pcap, pcapng, standard input). */
#include "source-pcap-file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "decode.h"
#include "pipeline.h"

#define PROGRESS_EVERY 8192
#define READ_BUFFER (1u << 20) /* bytes of stdio buffer on a capture file */

static void to_pipeline(void *pl, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
                        size_t wirelen)
{
    pipeline_packet(pl, dlt, ts_us, frame, caplen, wirelen);
}

/* Whether the record libpcap could not read has more of the capture after
 * it (damage) rather than being the cut-off end of it. *at: the offset in
 * the file where reading stopped, -1 for a pipe. */
static bool damaged(pcap_t *p, uint64_t file_size, long *at)
{
    FILE *f = pcap_file(p);
    *at = -1;
    if (f == NULL)
        return false;
    if (file_size != 0) {
        *at = ftell(f);
        return *at >= 0 && (uint64_t)*at < file_size;
    }
    return getc(f) != EOF; /* standard input: anything left? */
}

int source_pcap_file_run(const char *path, const char *bpf, struct pipeline *pl, atomic_int *stop,
                         source_progress_cb progress, void *ud, struct source_file_stats *fs,
                         char *errbuf, size_t errlen)
{
    return source_pcap_file_read(path, bpf, to_pipeline, pl, stop, progress, ud, fs, errbuf,
                                 errlen);
}

int source_pcap_file_read(const char *path, const char *bpf, source_packet_cb packet,
                          void *packet_ud, atomic_int *stop, source_progress_cb progress, void *ud,
                          struct source_file_stats *fs, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = NULL;
    int rc = SRC_FILE_OK;
    FILE *fp = NULL;

    memset(fs, 0, sizeof(*fs));
    if (strcmp(path, "-") == 0) {
        p = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    } else {
        struct stat sb;
        if (stat(path, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                snprintf(errbuf, errlen, "%s: is a directory", path);
                return SRC_FILE_ERROR;
            }
            fs->file_size = (uint64_t)sb.st_size;
        }
        /* Our own stream, with a large buffer: stdio's default would take
         * one read() per few KiB of capture. libpcap closes it. */
        fp = fopen(path, "rb");
        if (fp == NULL) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
            return SRC_FILE_ERROR;
        }
        setvbuf(fp, NULL, _IOFBF, READ_BUFFER);
        /* only this thread reads it: no lock around each of libpcap's
         * two fread() calls per packet */
        __fsetlocking(fp, FSETLOCKING_BYCALLER);
        p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
        if (p == NULL)
            fclose(fp);
    }
    if (p == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, pcap_err[0] ? pcap_err : "cannot open");
        return SRC_FILE_ERROR;
    }
    fs->dlt = pcap_datalink(p);
    if (!decode_link_supported(fs->dlt)) {
        const char *name = pcap_datalink_val_to_name(fs->dlt);
        snprintf(errbuf, errlen, "%s: unsupported link type %d (%s)", path, fs->dlt,
                 name ? name : "unknown");
        rc = SRC_FILE_ERROR;
        goto out;
    }
    if (bpf != NULL && bpf[0] != '\0') {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(errbuf, errlen, "filter \"%s\": %s", bpf, pcap_geterr(p));
            rc = SRC_FILE_ERROR;
            goto out;
        }
        int r = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (r < 0) {
            snprintf(errbuf, errlen, "filter \"%s\": %s", bpf, pcap_geterr(p));
            rc = SRC_FILE_ERROR;
            goto out;
        }
    }
    fp = fs->file_size ? pcap_file(p) : NULL;

    struct pcap_pkthdr *h;
    const u_char *data;
    int r = 1;
    while ((stop == NULL || !*stop) && (r = pcap_next_ex(p, &h, &data)) == 1) {
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        packet(packet_ud, fs->dlt, ts, data, h->caplen, h->len);
        if (fs->packets == 0 || ts < fs->first_us)
            fs->first_us = ts;
        if (ts > fs->last_us)
            fs->last_us = ts;
        fs->packets++;
        fs->bytes += h->len;
        if (progress != NULL && fs->packets % PROGRESS_EVERY == 0) {
            double frac = -1.0;
            if (fp != NULL && fs->file_size) {
                long pos = ftell(fp);
                if (pos >= 0)
                    frac = (double)pos / (double)fs->file_size;
            }
            progress(frac, fs, ud);
        }
    }
    if ((stop == NULL || !*stop) && r == PCAP_ERROR) {
        /* libpcap reports a cut-off or damaged record here; everything
         * before it has been processed. Cut off at the end (a capture
         * stopped mid-write) is expected; damage with more after it is
         * not, and what follows it is lost. */
        long at = -1;
        if (damaged(p, fs->file_size, &at)) {
            snprintf(errbuf, errlen,
                     "%s: damaged after packet %llu%s%.0ld: %s; the packets before it were "
                     "analysed, the rest of the file was not",
                     path, (unsigned long long)fs->packets, at >= 0 ? ", at byte " : "",
                     at >= 0 ? at : 0L, pcap_geterr(p));
            rc = SRC_FILE_DAMAGED;
        } else {
            snprintf(errbuf, errlen, "%s: %s after %llu packets", path, pcap_geterr(p),
                     (unsigned long long)fs->packets);
            rc = SRC_FILE_TRUNCATED;
        }
    }
out:
    pcap_close(p);
    return rc;
}
