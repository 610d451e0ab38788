/* test_spool.c -- durable spool: order, persistence, cursor, damaged
 * segments, bound, rollover, junk in the directory, concurrency, limits. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

#define KIB 1024u
#define REC_LEN 1000u                   /* payload size used to fill segments */
#define FRAME (REC_LEN + SPOOL_HDR_LEN) /* on disk: header + payload */
#define SMALL_MAX (256u * KIB)          /* max_bytes giving 64 KiB segments */
#define PER_SEG (65536u / FRAME)        /* records of REC_LEN in one 64 KiB segment: 64 */
#define F100 (100 + SPOOL_HDR_LEN)      /* a 100-byte record on disk */

struct fx {
    char dir[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/test_spool.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

/* rm -r of the test directory (two levels are enough here). */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[512];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rm_tree(f->dir);
    free(f);
    return 0;
}

static struct spool *open_ok(const char *dir, uint64_t max)
{
    char err[512];
    struct spool *s = spool_open(dir, max, err, sizeof(err));
    if (s == NULL)
        fail_msg("spool_open: %s", err);
    return s;
}

static void seg_path(char *out, size_t len, const char *dir, uint64_t id)
{
    snprintf(out, len, "%s/spool-%010" PRIu64 ".log", dir, id);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static long file_size(const char *p)
{
    struct stat st;
    if (stat(p, &st) < 0)
        return -1;
    return (long)st.st_size;
}

/* The path of the newest segment in dir into out; -1 when there is none. */
static int newest_seg(char *out, size_t len, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[256] = "";
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "spool-", 6) == 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", de->d_name);
    closedir(d);
    snprintf(out, len, "%s/%s", dir, best);
    return best[0] ? 0 : -1;
}

static int seg_exists(const char *dir, uint64_t id)
{
    char p[256];
    seg_path(p, sizeof(p), dir, id);
    return file_exists(p);
}

/* Record i: "rec-<i>" then filler up to len bytes. */
static void mkrec(char *buf, size_t len, unsigned i)
{
    memset(buf, 'a' + (int)(i % 26), len);
    char head[32];
    int n = snprintf(head, sizeof(head), "rec-%06u|", i);
    memcpy(buf, head, (size_t)n < len ? (size_t)n : len);
}

static void append_n(struct spool *s, unsigned from, unsigned n, size_t len)
{
    char *buf = malloc(len);
    for (unsigned i = from; i < from + n; i++) {
        mkrec(buf, len, i);
        assert_int_equal(spool_append(s, buf, len), 0);
    }
    free(buf);
}

/* Peek and ack one record and check it is record i of length len. */
static void expect_rec(struct spool *s, unsigned i, size_t len)
{
    char *want = malloc(len), *got = malloc(len);
    mkrec(want, len, i);
    long n = spool_peek(s, got, len);
    if (n != (long)len || memcmp(want, got, len) != 0)
        fail_msg("expected record %u (%zu bytes), got %ld bytes: %.12s", i, len, n,
                 n > 0 ? got : "");
    assert_int_equal(spool_ack(s), 0);
    free(want);
    free(got);
}

static void expect_empty(struct spool *s)
{
    char buf[16];
    assert_int_equal(spool_peek(s, buf, sizeof(buf)), 0);
}

static struct spool_stats stats(struct spool *s)
{
    struct spool_stats st;
    spool_get_stats(s, &st);
    return st;
}

/* Bitwise CRC-32C, independent of the module's table. */
static uint32_t ref_crc32c(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Write a cursor file with a valid CRC naming (id, off). */
static void write_cursor_file(const char *dir, uint64_t id, uint64_t off)
{
    uint8_t b[24];
    char p[256];
    memcpy(b, "SPC1", 4);
    put_le(b + 4, id, 8);
    put_le(b + 12, off, 8);
    put_le(b + 20, ref_crc32c(b, 20), 4);
    snprintf(p, sizeof(p), "%s/spool.cursor", dir);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, sizeof(b), fp), sizeof(b));
    fclose(fp);
}

static void write_bytes_at(const char *path, long off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    close(fd);
}

static void append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* ---------------------------------------------------------------- tests */

static void test_order(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    char buf[64];

    expect_empty(s);
    assert_int_equal(spool_ack(s), -1); /* nothing peeked */
    append_n(s, 0, 10, 40);
    assert_int_equal(stats(s).pending, 10);
    assert_int_equal(stats(s).bytes, 10 * (40 + SPOOL_HDR_LEN));
    /* Repeated peeks without an ack return the same record. */
    assert_int_equal(spool_peek(s, buf, sizeof(buf)), 40);
    assert_memory_equal(buf, "rec-000000|", 11);
    assert_int_equal(spool_peek(s, buf, sizeof(buf)), 40);
    assert_memory_equal(buf, "rec-000000|", 11);
    assert_int_equal(spool_ack(s), 0);
    assert_int_equal(spool_ack(s), -1); /* one ack per peek */
    for (unsigned i = 1; i < 10; i++)
        expect_rec(s, i, 40);
    expect_empty(s);
    struct spool_stats st = stats(s);
    assert_int_equal(st.appended, 10);
    assert_int_equal(st.acked, 10);
    assert_int_equal(st.pending, 0);
    /* Appends after a drain are read next. */
    append_n(s, 10, 2, 40);
    expect_rec(s, 10, 40);
    expect_rec(s, 11, 40);
    expect_empty(s);
    spool_close(s);
    spool_close(NULL);
}

static void test_reopen_replays_pending(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 10, 100);
    for (unsigned i = 0; i < 3; i++)
        expect_rec(s, i, 100);
    spool_close(s);

    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 7);
    assert_int_equal(stats(s).torn, 0);
    for (unsigned i = 3; i < 10; i++)
        expect_rec(s, i, 100);
    expect_empty(s);
    spool_close(s);

    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 0);
    expect_empty(s);
    spool_close(s);
}

/* The crashed child's spool, never closed; kept here so a leak checker
 * following the child sees it reachable. */
static struct spool *volatile crashed;

/* A child appends n, acks `acked` records, syncs after `synced` of them
 * (when >= 0), and dies without closing. */
static void crash_child(const char *dir, unsigned n, unsigned acked, int synced)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256], buf[128];
        struct spool *s = spool_open(dir, 1024 * KIB, err, sizeof(err));
        crashed = s;
        if (s == NULL)
            _exit(2);
        for (unsigned i = 0; i < n; i++) {
            mkrec(buf, 100, i);
            if (spool_append(s, buf, 100) != 0)
                _exit(3);
        }
        for (unsigned i = 0; i < acked; i++) {
            if ((int)i == synced && spool_sync(s) != 0)
                _exit(4);
            if (spool_peek(s, buf, sizeof(buf)) != 100 || spool_ack(s) != 0)
                _exit(5);
        }
        _exit(0); /* no spool_close(): a crash */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static unsigned first_index(struct spool *s)
{
    char buf[128];
    assert_int_equal(spool_peek(s, buf, sizeof(buf)), 100);
    return (unsigned)strtoul(buf + 4, NULL, 10);
}

static void test_sync_then_crash(void **state)
{
    struct fx *f = *state;
    /* 300 acked and synced, 100 more acked: nothing synced is replayed, and
     * the 100 after the sync are (fewer than SPOOL_CURSOR_EVERY). */
    crash_child(f->dir, 600, 400, 300);
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(first_index(s), 300);
    assert_int_equal(stats(s).pending, 300);
    for (unsigned i = 300; i < 600; i++)
        expect_rec(s, i, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_crash_window_bounded(void **state)
{
    struct fx *f = *state;
    /* No sync at all: at most SPOOL_CURSOR_EVERY acked records come back. */
    crash_child(f->dir, 700, 600, -1);
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    unsigned first = first_index(s);
    assert_true(first <= 600);
    assert_true(600 - first < SPOOL_CURSOR_EVERY);
    assert_int_equal(stats(s).pending, 700 - first);
    for (unsigned i = first; i < 700; i++)
        expect_rec(s, i, 100);
    spool_close(s);
}

static void test_torn_tail_truncated(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 3, 100);
    spool_close(s);

    seg_path(p, sizeof(p), f->dir, 1);
    assert_int_equal(file_size(p), 3 * F100);
    assert_int_equal(truncate(p, 2 * F100 + 50), 0); /* record 2 cut mid-payload */

    s = open_ok(f->dir, 1024 * KIB);
    struct spool_stats st = stats(s);
    assert_int_equal(st.torn, 1);
    assert_int_equal(st.pending, 2);
    assert_int_equal(st.bytes, 2 * F100);
    assert_int_equal(file_size(p), 2 * F100);
    append_n(s, 3, 1, 100); /* appends continue after the cut */
    expect_rec(s, 0, 100);
    expect_rec(s, 1, 100);
    expect_rec(s, 3, 100);
    expect_empty(s);
    spool_close(s);

    /* A header alone, cut inside it (segment 1 was drained and removed:
     * this record starts a new segment). */
    assert_false(seg_exists(f->dir, 1));
    s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 4, 1, 100);
    spool_close(s);
    assert_int_equal(newest_seg(p, sizeof(p), f->dir), 0);
    long sz = file_size(p);
    assert_int_equal(truncate(p, sz - 100 - 3), 0);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).torn, 1);
    assert_int_equal(stats(s).pending, 0);
    assert_int_equal(file_size(p), sz - F100);
    spool_close(s);
}

static void test_torn_tail_garbage(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 3, 100);
    spool_close(s);
    seg_path(p, sizeof(p), f->dir, 1);

    /* A plausible header (length 5) with a wrong CRC, then its payload. */
    static const uint8_t bad_crc[] = {5, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 'h', 'e', 'l', 'l', 'o'};
    append_bytes(p, bad_crc, sizeof(bad_crc));
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).torn, 1);
    assert_int_equal(stats(s).pending, 3);
    assert_int_equal(file_size(p), 3 * F100);
    spool_close(s);

    /* A length of 4 GiB - 1, then noise. */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    append_bytes(p, huge, sizeof(huge));
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).torn, 1);
    assert_int_equal(file_size(p), 3 * F100);
    spool_close(s);

    /* A zero length. */
    static const uint8_t zero[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    append_bytes(p, zero, sizeof(zero));
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).torn, 1);
    append_n(s, 3, 1, 100);
    for (unsigned i = 0; i < 4; i++)
        expect_rec(s, i, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_crc_mismatch_old_segment(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    append_n(s, 0, 150, REC_LEN); /* segments of 64, 64 and 22 records */
    assert_true(seg_exists(f->dir, 1) && seg_exists(f->dir, 2) && seg_exists(f->dir, 3));
    assert_false(seg_exists(f->dir, 4));
    spool_close(s);

    /* Flip a payload byte of record 10, in the middle of segment 1: only
     * that record is lost, everything after it in the segment is kept. */
    seg_path(p, sizeof(p), f->dir, 1);
    long size1 = file_size(p);
    write_bytes_at(p, 10 * FRAME + SPOOL_HDR_LEN + 500, "X", 1);

    s = open_ok(f->dir, SMALL_MAX);
    struct spool_stats st = stats(s);
    assert_int_equal(st.torn, 0);
    assert_int_equal(st.damaged, 1);
    assert_int_equal(st.damaged_regions, 1);
    assert_int_equal(st.damaged_bytes, FRAME);
    assert_int_equal(st.pending, 149);
    struct spool_damage d;
    assert_int_equal(spool_damage(s, 0, &d), 0);
    assert_int_equal(d.segment, 1);
    assert_int_equal(d.offset, 10 * FRAME);
    assert_int_equal(d.records, 1);
    assert_int_equal(spool_damage(s, 1, &d), -1);
    assert_int_equal(file_size(p), size1); /* not cut: only a torn tail is */
    for (unsigned i = 0; i < 150; i++)
        if (i != 10)
            expect_rec(s, i, REC_LEN);
    expect_empty(s);
    assert_false(seg_exists(f->dir, 1));
    assert_false(seg_exists(f->dir, 2));
    assert_int_equal(stats(s).damaged, 1); /* counted once */
    spool_close(s);
}

static void test_peek_finds_damage(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 3, 100);
    /* Damage record 1 under the open spool. */
    seg_path(p, sizeof(p), f->dir, 1);
    write_bytes_at(p, F100 + SPOOL_HDR_LEN + 10, "X", 1);
    expect_rec(s, 0, 100);
    expect_rec(s, 2, 100); /* record 1 is skipped, found even with a small buffer */
    expect_empty(s);
    assert_int_equal(stats(s).damaged, 1);
    assert_int_equal(stats(s).pending, 0);
    /* Appends go on. */
    append_n(s, 3, 1, 100);
    expect_rec(s, 3, 100);
    expect_empty(s);
    assert_int_equal(stats(s).damaged, 1);
    spool_close(s);
}

static void test_bound(void **state)
{
    struct fx *f = *state;
    char buf[REC_LEN];
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    unsigned n = 0;
    for (;;) {
        mkrec(buf, REC_LEN, n);
        int rc = spool_append(s, buf, REC_LEN);
        if (rc == -1)
            break;
        assert_int_equal(rc, 0);
        n++;
        assert_true(n < 1000);
    }
    assert_int_equal(n, SMALL_MAX / FRAME);
    struct spool_stats st = stats(s);
    assert_int_equal(st.refused_full, 1);
    assert_true(st.bytes <= SMALL_MAX);
    assert_true(st.bytes + FRAME > SMALL_MAX);
    assert_int_equal(spool_append(s, buf, REC_LEN), -1);
    assert_int_equal(stats(s).refused_full, 2);
    assert_int_equal(stats(s).write_errors, 0);
    /* A smaller record that still fits is taken. */
    uint64_t room = SMALL_MAX - stats(s).bytes;
    if (room > SPOOL_HDR_LEN) {
        assert_int_equal(
            spool_append(s, "tiny", room - SPOOL_HDR_LEN < 4 ? room - SPOOL_HDR_LEN : 4), 0);
        (void)spool_peek(s, buf, 0);
    }
    spool_close(s);

    /* What is there is kept, oldest first, across a reopen. */
    s = open_ok(f->dir, SMALL_MAX);
    for (unsigned i = 0; i < n; i++)
        expect_rec(s, i, REC_LEN);
    if (room > SPOOL_HDR_LEN) {
        assert_int_equal(spool_peek(s, buf, sizeof(buf)) > 0, 1);
        assert_int_equal(spool_ack(s), 0);
    }
    expect_empty(s);
    /* Acknowledged segments are gone, so there is room again. */
    assert_true(stats(s).bytes <= 65536);
    append_n(s, 1000, 1, REC_LEN);
    expect_rec(s, 1000, REC_LEN);
    spool_close(s);
}

static void test_rollover_unlink(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct stat st;
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    append_n(s, 0, 150, REC_LEN);

    assert_int_equal(stat(f->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    for (uint64_t id = 1; id <= 3; id++) {
        seg_path(p, sizeof(p), f->dir, id);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_true(st.st_size <= 65536);
    }
    seg_path(p, sizeof(p), f->dir, 1);
    assert_int_equal(file_size(p), PER_SEG * FRAME);
    snprintf(p, sizeof(p), "%s/spool.cursor", f->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stats(s).bytes, 150 * FRAME);

    /* Acking all but the last record of segment 1 keeps it. */
    for (unsigned i = 0; i < PER_SEG - 1; i++)
        expect_rec(s, i, REC_LEN);
    assert_true(seg_exists(f->dir, 1));
    expect_rec(s, PER_SEG - 1, REC_LEN);
    assert_false(seg_exists(f->dir, 1));
    assert_true(seg_exists(f->dir, 2));
    assert_int_equal(stats(s).bytes, (150 - PER_SEG) * FRAME);
    for (unsigned i = PER_SEG; i < 150; i++)
        expect_rec(s, i, REC_LEN);
    assert_false(seg_exists(f->dir, 2));
    assert_false(seg_exists(f->dir, 3)); /* drained: no segment left */
    assert_int_equal(stats(s).bytes, 0);
    spool_close(s);

    s = open_ok(f->dir, SMALL_MAX);
    expect_empty(s);
    append_n(s, 150, 70, REC_LEN); /* starts a new segment, rolls to another */
    char a[256], b[256];
    assert_int_equal(newest_seg(b, sizeof(b), f->dir), 0);
    for (unsigned i = 150; i < 150 + PER_SEG; i++)
        expect_rec(s, i, REC_LEN);
    assert_int_equal(newest_seg(a, sizeof(a), f->dir), 0);
    assert_string_equal(a, b); /* the first of them is gone */
    for (unsigned i = 150 + PER_SEG; i < 220; i++)
        expect_rec(s, i, REC_LEN);
    assert_int_equal(newest_seg(a, sizeof(a), f->dir), -1);
    spool_close(s);
}

static void touch(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_junk_ignored(void **state)
{
    struct fx *f = *state;
    static const char *junk[] = {"notes.txt",   "spool-abc.log",         "spool-0000000001.log.bak",
                                 "spool-1.log", "spool-00000000012.log", "spool.cursor.tmp"};
    char p[256];
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        touch(f->dir, junk[i], "\xff\xff\xff\xff garbage");
    /* Empty segments, and a directory named like a segment. */
    touch(f->dir, "spool-0000000001.log", "");
    touch(f->dir, "spool-0000000002.log", "");
    snprintf(p, sizeof(p), "%s/spool-0000000009.log", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);

    struct spool *s = open_ok(f->dir, 1024 * KIB);
    struct spool_stats st = stats(s);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.torn, 0);
    assert_int_equal(st.bytes, 0);
    assert_false(seg_exists(f->dir, 1)); /* an empty old segment is done */
    append_n(s, 0, 3, 50);
    spool_close(s);

    s = open_ok(f->dir, 1024 * KIB);
    for (unsigned i = 0; i < 3; i++)
        expect_rec(s, i, 50);
    expect_empty(s);
    spool_close(s);
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]) - 1; i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, junk[i]);
        assert_true(file_exists(p));
        assert_int_equal(file_size(p), 12);
    }
}

static void test_empty_middle_segment(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    append_n(s, 0, 70, REC_LEN); /* segments 1 (65) and 2 (5) */
    spool_close(s);
    /* An empty segment 2 between 1 and 3. */
    char p[256];
    seg_path(p, sizeof(p), f->dir, 2);
    assert_int_equal(truncate(p, 0), 0);
    touch(f->dir, "spool-0000000003.log", "");
    s = open_ok(f->dir, SMALL_MAX);
    assert_int_equal(stats(s).pending, PER_SEG);
    append_n(s, 100, 1, REC_LEN);
    for (unsigned i = 0; i < PER_SEG; i++)
        expect_rec(s, i, REC_LEN);
    expect_rec(s, 100, REC_LEN);
    expect_empty(s);
    spool_close(s);
}

static void test_peek_small_buffer(void **state)
{
    struct fx *f = *state;
    char buf[64];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(spool_append(s, "hello world", 11), 0);
    assert_int_equal(spool_append(s, "next", 4), 0);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(spool_peek(s, buf, 4), 11); /* too small: nothing consumed */
    assert_memory_equal(buf, "hell", 4);
    assert_int_equal(buf[4], 0);
    assert_int_equal(spool_peek(s, NULL, 0), 11);
    assert_int_equal(stats(s).pending, 2);
    assert_int_equal(spool_peek(s, buf, sizeof(buf)), 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(spool_ack(s), 0);
    /* A record too large to read can still be dropped with an ack. */
    assert_int_equal(spool_peek(s, buf, 2), 4);
    assert_int_equal(spool_ack(s), 0);
    expect_empty(s);
    spool_close(s);
}

#define THREADS 4
#define PER_THREAD 2000

struct worker {
    struct spool *s;
    int id;
    int failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char buf[64];
    memset(buf, '.', sizeof(buf));
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf(buf, sizeof(buf), "t%d-%06d.", w->id, i) - 1; /* "t0-000001" */
        if (spool_append(w->s, buf, (size_t)n + (size_t)(i % 17)) != 0)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent_appends(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 64 * 1024 * KIB);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){.s = s, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }
    assert_int_equal(stats(s).pending, THREADS * PER_THREAD);
    spool_close(s);

    /* After a reopen: every record exactly once, each thread's in order. */
    s = open_ok(f->dir, 64 * 1024 * KIB);
    static unsigned char seen[THREADS][PER_THREAD];
    int next[THREADS] = {0};
    memset(seen, 0, sizeof(seen));
    char buf[64];
    long n;
    while ((n = spool_peek(s, buf, sizeof(buf) - 1)) > 0) {
        int t, i;
        buf[n] = '\0';
        assert_int_equal(sscanf(buf, "t%d-%d", &t, &i), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < PER_THREAD);
        assert_int_equal(seen[t][i], 0);
        assert_int_equal(i, next[t]);
        assert_int_equal(n, 9 + i % 17);
        seen[t][i] = 1;
        next[t]++;
        assert_int_equal(spool_ack(s), 0);
    }
    assert_int_equal(n, 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(next[t], PER_THREAD);
    spool_close(s);
}

static void test_record_limit(void **state)
{
    struct fx *f = *state;
    size_t big = SPOOL_RECORD_MAX;
    char *buf = malloc(big + 1), *got = malloc(big + 1);
    for (size_t i = 0; i <= big; i++)
        buf[i] = (char)(i * 7);
    struct spool *s = open_ok(f->dir, 8 * 1024 * KIB);
    assert_int_equal(spool_append(s, buf, big), 0);
    assert_int_equal(spool_append(s, buf, big + 1), -2);
    assert_int_equal(spool_append(s, buf, 0), -2);
    assert_int_equal(spool_append(s, NULL, 5), -2);
    assert_int_equal(stats(s).write_errors, 3);
    assert_int_equal(stats(s).appended, 1);
    assert_int_equal(spool_append(s, "after", 5), 0); /* in a new segment */
    spool_close(s);

    s = open_ok(f->dir, 8 * 1024 * KIB);
    assert_int_equal(stats(s).torn, 0);
    assert_int_equal(stats(s).pending, 2);
    assert_int_equal(spool_peek(s, got, big + 1), (long)big);
    assert_memory_equal(got, buf, big);
    assert_int_equal(spool_ack(s), 0);
    assert_int_equal(spool_peek(s, got, big), 5);
    assert_memory_equal(got, "after", 5);
    assert_int_equal(spool_ack(s), 0);
    spool_close(s);
    free(buf);
    free(got);
}

static void test_crc32c_on_disk(void **state)
{
    struct fx *f = *state;
    char p[256];
    uint8_t hdr[SPOOL_HDR_LEN];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(spool_append(s, "123456789", 9), 0);
    spool_close(s);
    seg_path(p, sizeof(p), f->dir, 1);
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(hdr, 1, sizeof(hdr), fp), sizeof(hdr));
    fclose(fp);
    /* magic, length 9, then CRC-32C("123456789") = 0xE3069283, then the
     * CRC-32C of those 12 bytes, little-endian */
    static const uint8_t want[12] = {0xff, 'S', 'R', '2', 9, 0, 0, 0, 0x83, 0x92, 0x06, 0xe3};
    assert_memory_equal(hdr, want, 12);
    uint8_t crc[4];
    put_le(crc, ref_crc32c(want, 12), 4);
    assert_memory_equal(hdr + 12, crc, 4);
    assert_int_equal(ref_crc32c("123456789", 9), 0xE3069283u);
}

static void test_cursor_damage(void **state)
{
    struct fx *f = *state;
    char p[256];
    snprintf(p, sizeof(p), "%s/spool.cursor", f->dir);

    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 5, 100);
    for (unsigned i = 0; i < 3; i++)
        expect_rec(s, i, 100);
    spool_close(s);

    /* Missing: replay from the oldest record. */
    assert_int_equal(unlink(p), 0);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 5);
    for (unsigned i = 0; i < 3; i++)
        expect_rec(s, i, 100);
    spool_close(s);

    /* Damaged (one byte flipped): the same. */
    write_bytes_at(p, 13, "\x55", 1);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 5);
    for (unsigned i = 0; i < 3; i++)
        expect_rec(s, i, 100);
    spool_close(s);

    /* Short file. */
    assert_int_equal(truncate(p, 10), 0);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 5);
    spool_close(s);

    /* Intact, but not on a record boundary. */
    write_cursor_file(f->dir, 1, 3 * F100 + 1);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 5);
    expect_rec(s, 0, 100);
    spool_close(s);

    /* On a boundary: taken as is. */
    write_cursor_file(f->dir, 1, 3 * F100);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 2);
    expect_rec(s, 3, 100);
    expect_rec(s, 4, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_cursor_past_end(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 2, 100);
    spool_close(s);
    /* The segment lost its tail after the cursor was written: the cursor
     * says 5 records were acknowledged, 2 are on disk. */
    seg_path(p, sizeof(p), f->dir, 1);
    write_cursor_file(f->dir, 1, 5 * F100);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 0);
    assert_int_equal(stats(s).torn, 0);
    expect_empty(s);
    append_n(s, 5, 1, 100);
    expect_rec(s, 5, 100);
    spool_close(s);

    /* A cursor far past the end of everything. */
    write_cursor_file(f->dir, 1, UINT64_C(1) << 40);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 0);
    append_n(s, 6, 1, 100);
    expect_rec(s, 6, 100);
    spool_close(s);

    /* A cursor naming a segment newer than any: all on disk is done, and
     * the next segment id is above the cursor's. */
    s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 7, 2, 100);
    spool_close(s);
    write_cursor_file(f->dir, 50, 0);
    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 0);
    assert_false(seg_exists(f->dir, 1));
    append_n(s, 9, 1, 100); /* the first append creates the segment */
    assert_true(seg_exists(f->dir, 51));
    expect_rec(s, 9, 100);
    spool_close(s);
}

static void test_write_error_rolls_back(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct rlimit old, lim;
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 2, 100);
    seg_path(p, sizeof(p), f->dir, 1);

    /* Files may not grow past 2 records + 20 bytes: the next append is
     * written in part, then fails with EFBIG. */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 2 * F100 + 20;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char buf[100];
    mkrec(buf, sizeof(buf), 2);
    int rc = spool_append(s, buf, sizeof(buf));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);

    assert_int_equal(rc, -2);
    assert_int_equal(stats(s).write_errors, 1);
    assert_int_equal(file_size(p), 2 * F100); /* the partial record is gone */
    char err[256];
    spool_last_error(s, err, sizeof(err));
    assert_non_null(strstr(err, p));
    append_n(s, 3, 1, 100);
    spool_close(s);

    s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).torn, 0);
    expect_rec(s, 0, 100);
    expect_rec(s, 1, 100);
    expect_rec(s, 3, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_open_errors(void **state)
{
    struct fx *f = *state;
    char err[512], p[256];

    /* Parents are created, 0700. */
    snprintf(p, sizeof(p), "%s/a/b/spool", f->dir);
    struct spool *s = open_ok(p, 1024 * KIB);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* A second opener of the same directory is refused. */
    assert_null(spool_open(p, 1024 * KIB, err, sizeof(err)));
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "in use"));
    spool_close(s);
    s = open_ok(p, 1024 * KIB); /* released by close */
    spool_close(s);

    /* A regular file where the directory should be. */
    touch(f->dir, "file", "x");
    snprintf(p, sizeof(p), "%s/file", f->dir);
    assert_null(spool_open(p, 1024 * KIB, err, sizeof(err)));
    assert_non_null(strstr(err, p));
    snprintf(p, sizeof(p), "%s/file/sub", f->dir);
    assert_null(spool_open(p, 1024 * KIB, err, sizeof(err)));
    assert_non_null(strstr(err, "file"));

    assert_null(spool_open("", 1024 * KIB, err, sizeof(err)));
    assert_true(err[0] != '\0');
}

static void test_sync(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    append_n(s, 0, 100, REC_LEN); /* two segments, both written */
    assert_int_equal(spool_sync(s), 0);
    assert_int_equal(spool_sync(s), 0); /* nothing new: still fine */
    char err[64];
    spool_last_error(s, err, sizeof(err));
    assert_string_equal(err, "");
    spool_close(s);
}

/* Read every pending record, in order, and check they are records 0 ..
 * n-1 of len bytes but those in skip[]. */
static void expect_all_but(struct spool *s, unsigned n, size_t len, const unsigned *skip,
                           size_t nskip)
{
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (k < nskip && skip[k] == i) {
            k++;
            continue;
        }
        expect_rec(s, i, len);
    }
    expect_empty(s);
}

#define MANY 22000          /* records in the damage tests */
#define MANY_LEN 200u       /* bytes each */
#define MANY_MAX (8u << 20) /* max_bytes: 2 MiB segments */
#define MANY_FRAME (MANY_LEN + SPOOL_HDR_LEN)
#define MANY_PER_SEG ((2u << 20) / MANY_FRAME)

/* Four bytes overwritten in the middle of a segment of a 22000-record
 * spool: only the record they hit is lost; the damage is counted and
 * located. */
static void test_damage_mid_segment(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, MANY_MAX);
    append_n(s, 0, MANY, MANY_LEN);
    spool_close(s);
    assert_true(seg_exists(f->dir, 3));

    unsigned k = MANY_PER_SEG / 2; /* in segment 1 */
    seg_path(p, sizeof(p), f->dir, 1);
    write_bytes_at(p, (long)(k * MANY_FRAME + SPOOL_HDR_LEN + 100), "XXXX", 4);

    s = open_ok(f->dir, MANY_MAX);
    struct spool_stats st = stats(s);
    assert_int_equal(st.pending, MANY - 1);
    assert_int_equal(st.damaged, 1);
    assert_int_equal(st.torn, 0);
    struct spool_damage d;
    assert_int_equal(spool_damage(s, 0, &d), 0);
    assert_int_equal(d.segment, 1);
    assert_int_equal(d.offset, k * MANY_FRAME);
    assert_int_equal(d.bytes, MANY_FRAME);
    assert_int_equal(d.records, 1);
    expect_all_but(s, MANY, MANY_LEN, &k, 1);
    spool_close(s);
}

/* The first header of a segment damaged (its magic and length), and the
 * length of a record in the last segment: each loses one record. */
static void test_damage_headers(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, MANY_MAX);
    append_n(s, 0, MANY, MANY_LEN);
    spool_close(s);

    unsigned skip[2] = {MANY_PER_SEG, 2 * MANY_PER_SEG + 7};
    seg_path(p, sizeof(p), f->dir, 2);
    write_bytes_at(p, 0, "\0\0\0\0\0\0\0\0", 8);
    seg_path(p, sizeof(p), f->dir, 3);
    write_bytes_at(p, (long)(7 * MANY_FRAME + 4), "\x10\x27\0\0", 4); /* length 10000 */

    long size3 = file_size(p);
    s = open_ok(f->dir, MANY_MAX);
    assert_int_equal(stats(s).pending, MANY - 2);
    assert_int_equal(stats(s).damaged, 2);
    assert_int_equal(stats(s).torn, 0);
    assert_int_equal(file_size(p), size3); /* damage mid-segment is not a torn tail */
    expect_all_but(s, MANY, MANY_LEN, skip, 2);
    spool_close(s);
}

/* Several records damaged in a row, and damage found while reading, after
 * a rewind: the records after it come, the region is counted once. */
static void test_damage_region(void **state)
{
    struct fx *f = *state;
    char p[256], *zero = calloc(1, 3 * F100);
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 20, 100);
    seg_path(p, sizeof(p), f->dir, 1);
    /* records 5, 6 and 7 zeroed, from the middle of 5 to the middle of 8 */
    write_bytes_at(p, 5 * F100 + 50, zero, 3 * F100);
    char buf[128];
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(spool_read(s, buf, sizeof(buf)), 100);
        assert_int_equal((unsigned)strtoul(buf + 4, NULL, 10), i);
    }
    spool_rewind(s);
    unsigned skip[] = {5, 6, 7, 8};
    expect_all_but(s, 20, 100, skip, 4);
    assert_int_equal(stats(s).damaged_regions, 1);
    struct spool_damage d;
    assert_int_equal(spool_damage(s, 0, &d), 0);
    assert_int_equal(d.offset, 5 * F100);
    assert_int_equal(d.bytes, 4 * F100);
    assert_true(d.records >= 1);
    spool_close(s);
    free(zero);
}

/* A segment of format 1 (earlier versions): read, with damage skipped;
 * appends go to a new format 2 segment; the old one goes once replayed. */
static void test_format1_segment(void **state)
{
    struct fx *f = *state;
    char p[256], rec[100];
    uint8_t hdr[8];
    seg_path(p, sizeof(p), f->dir, 4);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    for (unsigned i = 0; i < 10; i++) {
        mkrec(rec, sizeof(rec), i);
        if (i == 3)
            rec[50] = '!'; /* record 3 damaged: its CRC is of the original */
        put_le(hdr, sizeof(rec), 4);
        mkrec(rec, sizeof(rec), i);
        put_le(hdr + 4, ref_crc32c(rec, sizeof(rec)), 4);
        if (i == 3)
            rec[50] = '!';
        assert_int_equal(fwrite(hdr, 1, 8, fp), 8);
        assert_int_equal(fwrite(rec, 1, sizeof(rec), fp), sizeof(rec));
    }
    fclose(fp);
    chmod(p, 0600);

    struct spool *s = open_ok(f->dir, 1024 * KIB);
    assert_int_equal(stats(s).pending, 9);
    assert_int_equal(stats(s).damaged, 1);
    append_n(s, 10, 2, 100);
    assert_true(seg_exists(f->dir, 5)); /* not appended to the old format */
    unsigned skip = 3;
    expect_all_but(s, 12, 100, &skip, 1);
    assert_false(seg_exists(f->dir, 4));
    spool_close(s);
}

/* Read ahead in batches across segments; ack a prefix, rewind, read again. */
static void test_read_ahead(void **state)
{
    struct fx *f = *state;
    char buf[REC_LEN];
    struct spool *s = open_ok(f->dir, SMALL_MAX);
    append_n(s, 0, 150, REC_LEN);
    for (unsigned i = 0; i < 100; i++) { /* into segment 2 */
        assert_int_equal(spool_read(s, buf, sizeof(buf)), REC_LEN);
        assert_int_equal((unsigned)strtoul(buf + 4, NULL, 10), i);
    }
    for (unsigned i = 0; i < 70; i++)
        assert_int_equal(spool_ack(s), 0);
    assert_false(seg_exists(f->dir, 1));
    assert_int_equal(stats(s).pending, 80);
    spool_rewind(s); /* 70 .. 99 were read, not acked: read again */
    for (unsigned i = 70; i < 150; i++) {
        assert_int_equal(spool_read(s, buf, sizeof(buf)), REC_LEN);
        assert_int_equal((unsigned)strtoul(buf + 4, NULL, 10), i);
    }
    assert_int_equal(spool_read(s, buf, sizeof(buf)), 0);
    /* a record too large for the buffer is not taken */
    append_n(s, 150, 1, REC_LEN);
    assert_int_equal(spool_read(s, buf, 10), REC_LEN);
    assert_int_equal(spool_read(s, buf, sizeof(buf)), REC_LEN);
    for (unsigned i = 70; i < 151; i++)
        assert_int_equal(spool_ack(s), 0);
    assert_int_equal(spool_ack(s), -1);
    assert_int_equal(stats(s).pending, 0);
    spool_close(s);
}

/* A cursor that cannot be written (a full disk, here a directory in its
 * way) does not stop the spool from opening and delivering. */
static void test_open_without_cursor_write(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct spool *s = open_ok(f->dir, 1024 * KIB);
    append_n(s, 0, 5, 100);
    spool_close(s);
    snprintf(p, sizeof(p), "%s/spool.cursor.tmp", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    s = open_ok(f->dir, 1024 * KIB);
    char err[256];
    spool_last_error(s, err, sizeof(err));
    assert_non_null(strstr(err, "spool.cursor.tmp"));
    for (unsigned i = 0; i < 5; i++)
        expect_rec(s, i, 100);
    spool_close(s);
    rmdir(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_replays_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_then_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_window_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_mismatch_old_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_finds_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover_unlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_junk_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_middle_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_small_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc32c_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_past_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_error_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_mid_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format1_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_without_cursor_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
