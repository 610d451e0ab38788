/* source-pcap-file.h -- read pcap and pcapng files (or standard input) into a pipeline. */
#ifndef SOURCE_PCAP_FILE_H
#define SOURCE_PCAP_FILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct pipeline;

/* Outcome of reading one file. */
enum {
    SRC_FILE_OK = 0,
    SRC_FILE_TRUNCATED = 1, /* the last record was cut off: read up to it */
    SRC_FILE_DAMAGED = 2,   /* a damaged record with more after it: read up to it */
    SRC_FILE_ERROR = -1,    /* not opened or not usable (message in errbuf) */
};

struct source_file_stats {
    uint64_t packets;
    uint64_t bytes;
    uint64_t file_size;         /* 0 when unknown (standard input) */
    uint64_t first_us, last_us; /* earliest and latest packet time, as read */
    int dlt;
};

/* Progress callback, called every few thousand packets: fraction of the file
 * read (negative when unknown). */
typedef void (*source_progress_cb)(double fraction, const struct source_file_stats *fs, void *ud);

/* Read path ("-" = standard input) to the end, feeding every packet to pl.
 * bpf (may be NULL) filters packets. Stops early when *stop becomes non-zero.
 * Returns SRC_FILE_OK, SRC_FILE_TRUNCATED or SRC_FILE_DAMAGED (message in
 * errbuf, the packets before the damage were processed) or SRC_FILE_ERROR
 * (message in errbuf: missing file, not a capture, unsupported link type,
 * bad filter). */
int source_pcap_file_run(const char *path, const char *bpf, struct pipeline *pl, atomic_int *stop,
                         source_progress_cb progress, void *ud, struct source_file_stats *fs,
                         char *errbuf, size_t errlen);

/* The same, handing every frame to packet(packet_ud, ...) instead of a
 * pipeline (the dispatcher of several workers). */
typedef void (*source_packet_cb)(void *packet_ud, int dlt, uint64_t ts_us, const uint8_t *frame,
                                 size_t caplen, size_t wirelen);
int source_pcap_file_read(const char *path, const char *bpf, source_packet_cb packet,
                          void *packet_ud, atomic_int *stop, source_progress_cb progress, void *ud,
                          struct source_file_stats *fs, char *errbuf, size_t errlen);

#endif
