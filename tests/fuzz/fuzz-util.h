/* fuzz-util.h -- what the fuzz targets share: the libFuzzer entry points,
 * a check that aborts with its place (so a broken invariant is a crash the
 * fuzzer keeps), and a private temporary folder for the targets whose API
 * reads files (configuration, signature pack, pcap).
 *
 * Header-only: every target is one .c file that includes it once, linked
 * with build/fuzz/libsensor.a and nothing else. Not part of the sensor. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Leaks LeakSanitizer is told to ignore, one per line, each with its
 * reason. Keep the list short and specific: a pattern matches any frame of
 * an allocation's stack.
 *
 *   strbuf_append, libconfig_yylex
 *       libconfig 1.5 (Debian's libconfig9 1.5-0.4) drops the text of a
 *       string token when a syntax error follows it, e.g.
 *       `home_net "10.0.0.0/8";` (no '='): its grammar has no %destructor
 *       for TOK_STRING. The text comes from strbuf_append(), or straight
 *       from the scanner for "". Fixed upstream by hyperrealm/libconfig
 *       PR #155 (issue #142). Only the scanner's allocations are matched,
 *       so a config_t we forget to config_destroy() still shows through
 *       its settings (allocated by the parser).
 *       Regressions: regressions/{config,signatures}/libconfig-*. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n"
           "leak:libconfig_yylex\n";
}

/* An invariant of the API under test. A failure is reported like a
 * sanitizer finding: message on stderr, then abort(), which libFuzzer turns
 * into a crash artifact. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Read every byte of [p, p + n) so that AddressSanitizer sees a pointer the
 * API handed back that does not point into live memory. */
static inline void fuzz_touch(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc ^= b[i];
    (void)acc;
}

/* The process's temporary folder, created once by fuzz_tmpdir() under
 * $TMPDIR, else /dev/shm when there is one (a file written per input costs
 * half as much in memory as on disk), else /tmp; removed with the one file
 * in it at exit. A crash leaves it behind: it is small, and mkdtemp()
 * never reuses a name. */
static char fuzz_dir[512];
static char fuzz_file[600];

static void fuzz_tmpdir_remove(void)
{
    if (fuzz_file[0])
        unlink(fuzz_file);
    if (fuzz_dir[0])
        rmdir(fuzz_dir);
}

/* Create the folder and set fuzz_file, the path of the one file the target
 * writes in it (name: e.g. "sensor.conf"). Returns the folder, or exits: a target that
 * cannot write its input cannot run at all. */
static inline const char *fuzz_tmpdir(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/egress-fuzz-XXXXXX", tmp);
    if (mkdtemp(fuzz_dir) == NULL) {
        fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir, strerror(errno));
        exit(1);
    }
    snprintf(fuzz_file, sizeof(fuzz_file), "%s/%s", fuzz_dir, name);
    atexit(fuzz_tmpdir_remove);
    return fuzz_dir;
}

/* Replace the contents of the file fuzz_tmpdir() named with data. Returns
 * 0, or -1 when the file could not be written (the run is then skipped). */
static inline int fuzz_write_input(const uint8_t *data, size_t size)
{
    int fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        data += w;
        size -= (size_t)w;
    }
    return close(fd);
}

#endif
