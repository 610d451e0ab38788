/* inputs.h -- what -r names, as the list of captures a run reads.
 *
 * Each -r argument (and each name after the options) is a capture file, a
 * folder, or "-" (standard input, at most once). A folder stands for every
 * capture under it, recursively, sorted by path byte by byte -- a rotated
 * series named by time or by number ("tcpdump -G", "editcap -c") reads in
 * order -- as Suricata's pcap-file mode reads a folder. In a folder, a file
 * is a capture when it begins with a pcap or pcapng magic number; other
 * files, names beginning with '.', and symbolic links to folders are
 * skipped (counted); a file that cannot be opened is kept, so that the run
 * reports it. A file named directly is always kept. There is no limit on
 * the number of inputs. */
#ifndef INPUTS_H
#define INPUTS_H

#include <stddef.h>
#include <stdint.h>

struct input_list {
    char **paths;        /* the captures, in reading order (owned) */
    uint64_t *sizes;     /* their sizes in bytes, 0 when unknown (standard input) */
    unsigned n;          /* how many */
    unsigned skipped;    /* files in folders that are not captures */
    uint64_t total_size; /* the sum of sizes */
};

/* Expand the n arguments args into out. Returns 0, or -1 with a message
 * naming the argument in errbuf: a folder without any capture, a folder
 * that cannot be read, "-" given twice, out of memory. Release with
 * inputs_free() either way. */
int inputs_expand(const char *const *args, unsigned n, struct input_list *out, char *errbuf,
                  size_t errlen);

void inputs_free(struct input_list *l);

#endif
