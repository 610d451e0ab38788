/* spool.c -- durable on-disk spool: numbered append-only segments and a
 * cursor, behind one mutex.
 *
 * In memory: `seg` lists the segments on disk, oldest first. seg[0] is the
 * head, the segment the reader is in (rd_off is the offset of the first
 * record not acknowledged, rd_rec the number of records before it); the
 * last entry is the segment appends go to (wr_fd, opened O_APPEND). There
 * is always at least one segment. For each segment, `end` is the end of
 * its last valid record and `nrec` the number of valid records before
 * `end`; `size` is its length on disk (larger than `end` only for an older
 * segment with a damaged part, or after a failed append that could not be
 * undone, which forces the next append into a new segment). The reader
 * never reads past `end`; when it reaches the end of a segment that is not
 * the last, the segment is unlinked and the next one becomes the head.
 * Pending records are the sum of nrec minus rd_rec.
 *
 * Every function takes the mutex for its whole run, so appends from
 * several threads land whole and in some order, and the reader sees a
 * record only once its write() has returned. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define HDR_LEN 8                       /* u32 length | u32 CRC-32C */
#define SEG_MIN (64u * 1024)            /* smallest segment size */
#define SEG_MAX (16u * 1024 * 1024)     /* largest segment size */
#define SEG_ID_MAX UINT64_C(9999999999) /* ten digits in the file name */
#define SEG_NAME_LEN 20                 /* "spool-" 10 digits ".log" */
#define SCAN_BUF (2u * 1024 * 1024)     /* holds any whole record */
#define CURSOR_NAME "spool.cursor"
#define CURSOR_TMP "spool.cursor.tmp"
#define CURSOR_LEN 24 /* "SPC1" u64 id u64 off u32 crc */
#define ERR_LEN 320

struct seg {
    uint64_t id;
    uint64_t size; /* bytes on disk */
    uint64_t end;  /* end of the last valid record */
    uint64_t nrec; /* valid records before end */
    bool dirty;    /* written since the last fsync */
};

struct spool {
    pthread_mutex_t mu;
    char *dir;
    int dirfd; /* the spool directory, flock()ed */
    uint64_t max_bytes;
    uint64_t seg_max;
    struct seg *seg; /* oldest first; seg[0] is the head, the last is written */
    size_t nseg, capseg;
    uint64_t next_id; /* above every segment-like name seen, and the cursor's */
    uint64_t bytes;   /* sum of seg[].size */
    int wr_fd;        /* last segment, O_APPEND */
    bool wr_broken;   /* the last segment has a tail we could not undo */
    int rd_fd;        /* head segment for reading, or -1 */
    uint64_t rd_id;   /* segment rd_fd is open on */
    uint64_t rd_off, rd_rec;
    bool peeked; /* spool_peek() returned a record not yet acked */
    uint32_t peek_len;
    uint32_t acks_since_cursor;
    uint64_t skipped;
    struct spool_stats st; /* appended, acked, refused_full, write_errors, torn */
    char err[ERR_LEN];
};

/* ---------------------------------------------------------------- CRC-32C */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one table. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

/* Continue a CRC: start with crc 0, feed the data in pieces. */
static uint32_t crc32c_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = crc ^ 0xFFFFFFFFu;
    while (len--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t crc32c(const void *data, size_t len)
{
    return crc32c_update(0, data, len);
}

/* ---------------------------------------------------------------- helpers */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

__attribute__((format(printf, 2, 3))) static void set_err(struct spool *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

static void seg_name(char *out, size_t len, uint64_t id)
{
    snprintf(out, len, "spool-%010" PRIu64 ".log", id);
}

/* The id of a segment file name, or -1 when name is not one. */
static int parse_seg_name(const char *name, uint64_t *id)
{
    if (strlen(name) != SEG_NAME_LEN || strncmp(name, "spool-", 6) != 0 ||
        strcmp(name + 16, ".log") != 0)
        return -1;
    uint64_t v = 0;
    for (int i = 6; i < 16; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *id = v;
    return 0;
}

/* Read up to n bytes at off; returns the count (short only at end of
 * file) or -1 with errno set. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(fd, (const uint8_t *)buf + done, n - done);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = ENOSPC;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

/* mkdir -p, every directory created 0700. */
static int mkdir_p(const char *dir, char *errbuf, size_t errlen)
{
    char *p = strdup(dir);
    if (p == NULL) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(ENOMEM));
        return -1;
    }
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            snprintf(errbuf, errlen, "%s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        p[i] = c;
    }
    free(p);
    return 0;
}

/* ---------------------------------------------------------------- cursor */

/* Replace the cursor with (head segment, rd_off); durable adds fsync of
 * the file and the directory. Returns 0 or -1 (s->err set). */
static int write_cursor(struct spool *s, bool durable)
{
    uint8_t b[CURSOR_LEN];
    memcpy(b, "SPC1", 4);
    put_le64(b + 4, s->seg[0].id);
    put_le64(b + 12, s->rd_off);
    put_le32(b + 20, crc32c(b, 20));

    int fd =
        openat(s->dirfd, CURSOR_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto fail;
    if (write_full(fd, b, sizeof(b)) < 0 || (durable && fsync(fd) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        goto fail;
    }
    if (close(fd) < 0)
        goto fail;
    if (renameat(s->dirfd, CURSOR_TMP, s->dirfd, CURSOR_NAME) < 0)
        goto fail;
    if (durable && fsync(s->dirfd) < 0) {
        set_err(s, "%s: %s", s->dir, strerror(errno));
        return -1;
    }
    s->acks_since_cursor = 0;
    return 0;
fail:
    set_err(s, "%s/%s: %s", s->dir, CURSOR_TMP, strerror(errno));
    return -1;
}

/* Read the cursor; 0 when it is present and intact, -1 otherwise. */
static int read_cursor(struct spool *s, uint64_t *id, uint64_t *off)
{
    uint8_t b[CURSOR_LEN + 1];
    int fd = openat(s->dirfd, CURSOR_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = pread_full(fd, b, sizeof(b), 0);
    close(fd);
    if (n != CURSOR_LEN || memcmp(b, "SPC1", 4) != 0 || get_le32(b + 20) != crc32c(b, 20))
        return -1;
    *id = get_le64(b + 4);
    *off = get_le64(b + 12);
    return *id <= SEG_ID_MAX ? 0 : -1;
}

/* ---------------------------------------------------------------- segments */

/* Open a segment by id; returns the fd or -1 (s->err set). */
static int open_seg(struct spool *s, uint64_t id, int flags)
{
    char name[32];
    seg_name(name, sizeof(name), id);
    int fd = openat(s->dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        set_err(s, "%s/%s: %s", s->dir, name, strerror(errno));
    return fd;
}

static int seg_reserve(struct spool *s, size_t n)
{
    if (n <= s->capseg)
        return 0;
    size_t cap = s->capseg ? s->capseg * 2 : 8;
    while (cap < n)
        cap *= 2;
    struct seg *g = realloc(s->seg, cap * sizeof(*g));
    if (g == NULL)
        return -1;
    s->seg = g;
    s->capseg = cap;
    return 0;
}

/* Unlink seg[0] and drop it from the list. */
static void drop_head(struct spool *s)
{
    char name[32];
    seg_name(name, sizeof(name), s->seg[0].id);
    if (s->rd_fd >= 0 && s->rd_id == s->seg[0].id) {
        close(s->rd_fd);
        s->rd_fd = -1;
    }
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
        set_err(s, "%s/%s: %s", s->dir, name, strerror(errno));
    s->bytes -= s->seg[0].size;
    memmove(&s->seg[0], &s->seg[1], (s->nseg - 1) * sizeof(s->seg[0]));
    s->nseg--;
    s->rd_off = 0;
    s->rd_rec = 0;
}

/* Unlink every head segment the reader is done with; the last stays. */
static void advance_head(struct spool *s)
{
    while (s->nseg > 1 && s->rd_off >= s->seg[0].end)
        drop_head(s);
}

/* Start a new last segment (id s->next_id), open for appends. Returns 0
 * or -1 (s->err set, nothing changed). */
static int add_segment(struct spool *s)
{
    uint64_t id = s->next_id;
    char name[32];
    seg_name(name, sizeof(name), id);
    if (id > SEG_ID_MAX) {
        set_err(s, "%s: segment ids exhausted", s->dir);
        return -1;
    }
    if (seg_reserve(s, s->nseg + 1) < 0) {
        set_err(s, "%s/%s: %s", s->dir, name, strerror(ENOMEM));
        return -1;
    }
    int fd = open_seg(s, id, O_WRONLY | O_CREAT | O_EXCL | O_APPEND);
    if (fd < 0)
        return -1;
    if (s->wr_fd >= 0)
        close(s->wr_fd);
    s->wr_fd = fd;
    s->wr_broken = false;
    s->seg[s->nseg++] = (struct seg){.id = id, .dirty = true};
    s->next_id = id + 1;
    return 0;
}

/* The reader met damage at rd_off in the head segment: give up the rest of
 * it. When it is also the last segment, appends move to a new one. */
static void skip_rest(struct spool *s)
{
    struct seg *h = &s->seg[0];
    h->end = s->rd_off;
    h->nrec = s->rd_rec;
    if (s->nseg == 1)
        s->wr_broken = true;
    s->skipped++;
}

/* Validate segment fd: sets *end and *nrec to the end of, and number of,
 * the valid records from the start. When mark is a record boundary,
 * *mark_rec is set to the number of records before it and *mark_ok to
 * true. Returns 0, or -1 on a read error (errno set). */
static int scan_segment(int fd, uint8_t *buf, uint64_t *end, uint64_t *nrec, uint64_t mark,
                        bool *mark_ok, uint64_t *mark_rec)
{
    uint64_t base = 0; /* file offset of buf[0] */
    size_t have = 0, pos = 0;
    bool eof = false;
    uint64_t n = 0;

    *mark_ok = false;
    for (;;) {
        if (base + pos == mark) {
            *mark_ok = true;
            *mark_rec = n;
        }
        size_t need = HDR_LEN;
        uint32_t len = 0;
        for (int pass = 0; pass < 2; pass++) {
            while (have - pos < need && !eof) {
                if (pos > 0) {
                    memmove(buf, buf + pos, have - pos);
                    base += pos;
                    have -= pos;
                    pos = 0;
                }
                ssize_t r = read(fd, buf + have, SCAN_BUF - have);
                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    return -1;
                }
                if (r == 0)
                    eof = true;
                have += (size_t)r;
            }
            if (have - pos < need)
                goto done; /* clean end (nothing left) or short record */
            if (pass == 0) {
                len = get_le32(buf + pos);
                if (len == 0 || len > SPOOL_RECORD_MAX)
                    goto done;
                need = HDR_LEN + (size_t)len;
            }
        }
        if (crc32c(buf + pos + HDR_LEN, len) != get_le32(buf + pos + 4))
            goto done;
        pos += HDR_LEN + (size_t)len;
        n++;
    }
done:
    *end = base + pos;
    *nrec = n;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The ids of the regular files named like segments, sorted, into *ids_out
 * (caller frees) and *n_out; *max_id is the largest id of any entry named
 * like a segment, regular or not. Returns 0 or -1 (s->err set). */
static int list_segments(struct spool *s, uint64_t **ids_out, size_t *n_out, uint64_t *max_id)
{
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int fd = dup(s->dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        set_err(s, "%s: %s", s->dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    struct dirent *de;
    *max_id = 0;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL)
            break;
        uint64_t id;
        struct stat st;
        if (parse_seg_name(de->d_name, &id) < 0)
            continue;
        if (id > *max_id)
            *max_id = id; /* never reuse the name, whatever it is */
        if (fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *ni = realloc(ids, nc * sizeof(*ni));
            if (ni == NULL) {
                errno = ENOMEM;
                goto fail;
            }
            ids = ni;
            cap = nc;
        }
        ids[n++] = id;
    }
    if (errno != 0)
        goto fail;
    closedir(d);
    if (n > 0)
        qsort(ids, n, sizeof(*ids), cmp_u64);
    *ids_out = ids;
    *n_out = n;
    return 0;
fail:
    set_err(s, "%s: %s", s->dir, strerror(errno));
    closedir(d);
    free(ids);
    return -1;
}

/* Load and validate what the directory holds, cut a damaged tail of the
 * last segment, and place the reader from the cursor. Returns 0 or -1
 * (s->err set). */
static int load(struct spool *s)
{
    uint64_t *ids = NULL;
    size_t nids = 0;
    uint64_t max_id = 0, c_id = 0, c_off = 0;
    uint8_t *buf = NULL;
    int fd = -1;

    bool c_ok = read_cursor(s, &c_id, &c_off) == 0;
    if (list_segments(s, &ids, &nids, &max_id) < 0)
        goto fail;
    if (seg_reserve(s, nids + 1) < 0 || (buf = malloc(SCAN_BUF)) == NULL) {
        set_err(s, "%s: %s", s->dir, strerror(ENOMEM));
        goto fail;
    }

    size_t head = 0;
    bool head_found = !c_ok; /* no cursor: the oldest segment, offset 0 */
    bool bad_cursor = false;
    for (size_t i = 0; i < nids; i++) {
        struct seg *g = &s->seg[s->nseg];
        struct stat st;
        bool mark_ok = false;
        uint64_t mark_rec = 0;
        bool last = i + 1 == nids;
        uint64_t mark = c_ok && ids[i] == c_id ? c_off : UINT64_MAX;

        fd = open_seg(s, ids[i], last ? O_RDWR : O_RDONLY);
        if (fd < 0)
            goto fail;
        *g = (struct seg){.id = ids[i]};
        if (fstat(fd, &st) < 0 ||
            scan_segment(fd, buf, &g->end, &g->nrec, mark, &mark_ok, &mark_rec) < 0) {
            set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, ids[i], strerror(errno));
            goto fail;
        }
        g->size = (uint64_t)st.st_size;
        if (g->end < g->size) {
            if (last) {
                if (ftruncate(fd, (off_t)g->end) < 0) {
                    set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, ids[i], strerror(errno));
                    goto fail;
                }
                g->size = g->end;
                s->st.torn++;
            } else {
                s->skipped++;
            }
        }
        close(fd);
        fd = -1;
        s->bytes += g->size;

        if (!head_found && ids[i] >= c_id) {
            head_found = true;
            head = s->nseg;
            if (ids[i] == c_id) {
                if (mark_ok) {
                    s->rd_off = c_off;
                    s->rd_rec = mark_rec;
                } else if (c_off >= g->end) {
                    s->rd_off = g->end; /* its lost tail lay before the cursor */
                    s->rd_rec = g->nrec;
                } else {
                    bad_cursor = true; /* inside a record: start over */
                }
            }
        }
        s->nseg++;
    }

    if (bad_cursor) {
        head = 0;
        s->rd_off = 0;
        s->rd_rec = 0;
    } else if (!head_found) {
        head = s->nseg; /* every segment is older than the cursor: all done */
    }
    /* Segments before the head were acknowledged before a crash. */
    uint64_t off = s->rd_off, rec = s->rd_rec;
    for (size_t i = 0; i < head; i++)
        drop_head(s); /* resets the reader; restored below */
    s->rd_off = off;
    s->rd_rec = rec;
    s->next_id = (max_id > c_id ? max_id : c_id) + 1;
    if (s->nseg == 0) {
        if (add_segment(s) < 0)
            goto fail;
    } else {
        s->wr_fd = open_seg(s, s->seg[s->nseg - 1].id, O_WRONLY | O_APPEND);
        if (s->wr_fd < 0)
            goto fail;
    }
    advance_head(s);
    free(ids);
    free(buf);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(ids);
    free(buf);
    return -1;
}

/* ---------------------------------------------------------------- public */

/* Open (creating it and its parents, 0700, if needed) the spool in dir,
 * keeping and validating what a previous run left (see spool.h). The
 * directory is locked against a second opener. Returns NULL with a message
 * naming the path in errbuf, nothing left open or allocated. Close with
 * spool_close(). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char *errbuf, size_t errlen)
{
    if (errlen > 0)
        errbuf[0] = '\0';
    if (dir == NULL || dir[0] == '\0') {
        snprintf(errbuf, errlen, "spool directory not set");
        return NULL;
    }
    pthread_once(&crc_once, crc_init);
    if (mkdir_p(dir, errbuf, errlen) < 0)
        return NULL;

    struct spool *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(ENOMEM));
        return NULL;
    }
    s->dirfd = s->wr_fd = s->rd_fd = -1;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        snprintf(errbuf, errlen, "%s: cannot create mutex", dir);
        free(s);
        return NULL;
    }
    s->dir = strdup(dir);
    if (s->dir == NULL) {
        set_err(s, "%s: %s", dir, strerror(ENOMEM));
        goto fail;
    }
    s->max_bytes = max_bytes;
    s->seg_max = max_bytes / 4;
    if (s->seg_max > SEG_MAX)
        s->seg_max = SEG_MAX;
    if (s->seg_max < SEG_MIN)
        s->seg_max = SEG_MIN;

    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        set_err(s, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            set_err(s, "%s: spool in use by another process", dir);
        else
            set_err(s, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (load(s) < 0)
        goto fail;
    if (write_cursor(s, true) < 0)
        goto fail;
    s->err[0] = '\0';
    return s;
fail:
    snprintf(errbuf, errlen, "%s", s->err);
    if (s->wr_fd >= 0)
        close(s->wr_fd);
    if (s->rd_fd >= 0)
        close(s->rd_fd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    pthread_mutex_destroy(&s->mu);
    free(s->seg);
    free(s->dir);
    free(s);
    return NULL;
}

/* fsync every segment written since the last sync, then write and fsync
 * the cursor and the directory. Caller holds the mutex. */
static int sync_locked(struct spool *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->nseg; i++) {
        struct seg *g = &s->seg[i];
        if (!g->dirty)
            continue;
        if (i + 1 == s->nseg) {
            if (fsync(s->wr_fd) < 0) {
                set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, g->id, strerror(errno));
                rc = -1;
                continue;
            }
        } else {
            int fd = open_seg(s, g->id, O_RDONLY);
            if (fd < 0) {
                rc = -1;
                continue;
            }
            int r = fsync(fd);
            if (r < 0)
                set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, g->id, strerror(errno));
            close(fd);
            if (r < 0) {
                rc = -1;
                continue;
            }
        }
        g->dirty = false;
    }
    if (write_cursor(s, true) < 0)
        rc = -1;
    return rc;
}

/* Sync (as spool_sync()) and close; frees s. NULL is a no-op. What is
 * pending stays on disk for the next spool_open(). Errors while syncing
 * are not reported. */
void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    (void)sync_locked(s);
    pthread_mutex_unlock(&s->mu);
    if (s->wr_fd >= 0)
        close(s->wr_fd);
    if (s->rd_fd >= 0)
        close(s->rd_fd);
    close(s->dirfd); /* releases the flock */
    pthread_mutex_destroy(&s->mu);
    free(s->seg);
    free(s->dir);
    free(s);
}

/* Append one record with a single writev() of header and payload. Returns
 * 0 (written, not fsynced), -1 when it would take the spool past max_bytes
 * (counted in refused_full), -2 on an I/O error or a length outside
 * 1 .. SPOOL_RECORD_MAX (counted in write_errors). After a failure the
 * spool is as before: a partly written record is truncated away, or, when
 * that fails too, the next append starts a new segment. rec is only read. */
int spool_append(struct spool *s, const void *rec, size_t len)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (rec == NULL || len == 0 || len > SPOOL_RECORD_MAX) {
        s->st.write_errors++;
        rc = -2;
        goto out;
    }
    uint64_t need = HDR_LEN + (uint64_t)len;
    if (s->bytes + need > s->max_bytes) {
        s->st.refused_full++;
        rc = -1;
        goto out;
    }
    struct seg *g = &s->seg[s->nseg - 1];
    if (s->wr_broken || (g->size > 0 && g->size + need > s->seg_max)) {
        if (add_segment(s) < 0) {
            s->st.write_errors++;
            rc = -2;
            goto out;
        }
        advance_head(s); /* the old last segment may be fully acknowledged */
        g = &s->seg[s->nseg - 1];
    }

    uint8_t hdr[HDR_LEN];
    put_le32(hdr, (uint32_t)len);
    put_le32(hdr + 4, crc32c(rec, len));
    size_t done = 0;
    while (done < need) {
        struct iovec iov[2];
        int cnt = 0;
        if (done < HDR_LEN) {
            iov[cnt].iov_base = hdr + done;
            iov[cnt++].iov_len = HDR_LEN - done;
            iov[cnt].iov_base = (void *)(uintptr_t)rec;
            iov[cnt++].iov_len = len;
        } else {
            iov[cnt].iov_base = (uint8_t *)(uintptr_t)rec + (done - HDR_LEN);
            iov[cnt++].iov_len = (size_t)need - done;
        }
        ssize_t r = writev(s->wr_fd, iov, cnt);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : ENOSPC;
            set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, g->id, strerror(e));
            if (done > 0 && ftruncate(s->wr_fd, (off_t)g->size) < 0) {
                s->wr_broken = true; /* garbage at the end: never append after it */
                g->size += done;
                s->bytes += done;
            }
            s->st.write_errors++;
            rc = -2;
            goto out;
        }
        done += (size_t)r;
    }
    g->size += need;
    g->end += need;
    g->nrec++;
    g->dirty = true;
    s->bytes += need;
    s->st.appended++;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* fsync the segments written since the last sync, then replace and fsync
 * the cursor and the directory: what was appended and acknowledged so far
 * survives a crash. Appends wait meanwhile. Returns 0 or -1 (see
 * spool_last_error()); what could be synced was. */
int spool_sync(struct spool *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = sync_locked(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Copy the oldest pending record, verified against its CRC, into buf, at
 * most cap bytes; returns its length, 0 when nothing
 * is pending, -1 on an I/O error. A damaged record makes the reader skip
 * the rest of its segment (counted, see spool_skipped()) and go on with
 * the next. A record longer than cap is partly copied and can still be
 * acknowledged (dropped) with spool_ack(). */
long spool_peek(struct spool *s, void *buf, size_t cap)
{
    long rc;
    pthread_mutex_lock(&s->mu);
    s->peeked = false;
    for (;;) {
        advance_head(s);
        struct seg *h = &s->seg[0];
        if (s->rd_off >= h->end) {
            rc = 0; /* only the last segment can be here */
            goto out;
        }
        if (s->rd_fd < 0 || s->rd_id != h->id) {
            if (s->rd_fd >= 0)
                close(s->rd_fd);
            s->rd_fd = open_seg(s, h->id, O_RDONLY);
            if (s->rd_fd < 0) {
                rc = -1;
                goto out;
            }
            s->rd_id = h->id;
        }
        uint8_t hdr[HDR_LEN];
        ssize_t n = pread_full(s->rd_fd, hdr, HDR_LEN, s->rd_off);
        if (n < 0)
            goto io_error;
        uint32_t len = get_le32(hdr);
        if (n < HDR_LEN || len == 0 || len > SPOOL_RECORD_MAX ||
            s->rd_off + HDR_LEN + len > h->end) {
            skip_rest(s);
            continue;
        }
        /* Verify the whole record even when buf takes only part of it, so
         * a damaged record is found whatever the caller's buffer. */
        size_t want = len <= cap ? len : cap;
        uint32_t crc = 0;
        if (want > 0) {
            n = pread_full(s->rd_fd, buf, want, s->rd_off + HDR_LEN);
            if (n < 0)
                goto io_error;
            if ((size_t)n < want) {
                skip_rest(s);
                continue;
            }
            crc = crc32c_update(crc, buf, want);
        }
        for (size_t done = want; done < len;) {
            uint8_t chunk[4096];
            size_t k = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
            n = pread_full(s->rd_fd, chunk, k, s->rd_off + HDR_LEN + done);
            if (n < 0)
                goto io_error;
            if ((size_t)n < k)
                break; /* short: the CRC check below fails */
            crc = crc32c_update(crc, chunk, k);
            done += k;
        }
        if (crc != get_le32(hdr + 4)) {
            skip_rest(s);
            continue;
        }
        s->peeked = true;
        s->peek_len = len;
        rc = (long)len;
        goto out;
    }
io_error:
    set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, s->seg[0].id, strerror(errno));
    rc = -1;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Release the record the last spool_peek() returned. Every
 * SPOOL_CURSOR_EVERY acknowledgements the cursor is rewritten (not
 * fsynced; a failure there is kept for spool_last_error() and does not fail
 * the ack). A segment left behind is unlinked. Returns 0, or -1 when no
 * record was peeked since the last ack. */
int spool_ack(struct spool *s)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (!s->peeked) {
        rc = -1;
        goto out;
    }
    s->peeked = false;
    s->rd_off += HDR_LEN + (uint64_t)s->peek_len;
    s->rd_rec++;
    s->st.acked++;
    advance_head(s);
    if (++s->acks_since_cursor >= SPOOL_CURSOR_EVERY) {
        s->acks_since_cursor = 0; /* a failing disk is not retried on every ack */
        (void)write_cursor(s, false);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A snapshot of the counters into *out. Never fails. */
void spool_get_stats(struct spool *s, struct spool_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    uint64_t n = 0;
    for (size_t i = 0; i < s->nseg; i++)
        n += s->seg[i].nrec;
    out->pending = n - s->rd_rec;
    out->bytes = s->bytes;
    pthread_mutex_unlock(&s->mu);
}

/* See spool.h. */
uint64_t spool_skipped(struct spool *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->skipped;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* See spool.h. */
void spool_last_error(struct spool *s, char *buf, size_t len)
{
    pthread_mutex_lock(&s->mu);
    snprintf(buf, len, "%s", s->err);
    pthread_mutex_unlock(&s->mu);
}
