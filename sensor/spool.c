/* spool.c -- durable on-disk spool: numbered append-only segments and a
 * cursor, behind one mutex.
 *
 * In memory: `seg` lists the segments on disk, oldest first. seg[0] is the
 * head, the segment the acknowledged part ends in (rd_off is the offset of
 * the first record not acknowledged, rd_rec the number of records before
 * it); the last entry is the segment appends go to, when it is format 2
 * and nothing broke it (wr_ok). The list may be empty (nothing spooled, or
 * all of it delivered and unlinked): the next append creates a segment. For each segment, `end` is
 * the end of its last intact frame, `nrec` the number of intact records, and `holes` the damaged
 * regions before `end` (sorted); `size` is its length on disk. The reader
 * never reads past `end` and jumps over holes.
 *
 * Reading ahead: (ra_id, ra_off) is where the next spool_read() looks; the
 * records read and not yet acknowledged are a FIFO of (segment, end of the
 * record), which spool_ack() pops to move the acknowledged position.
 * spool_rewind() puts the reader back at the acknowledged position.
 *
 * Every function takes the mutex for its whole run, so appends from
 * several threads land whole and in some order, and the reader sees a
 * record only once its write() has returned. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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

#define MAGIC "\xffSR2"                 /* format 2 frame magic (spool.h) */
#define SEG_MIN (64u * 1024)            /* smallest segment size */
#define SEG_MAX (16u * 1024 * 1024)     /* largest segment size */
#define SEG_ID_MAX UINT64_C(9999999999) /* ten digits in the file name */
#define SEG_NAME_LEN 20                 /* "spool-" 10 digits ".log" */
#define WIN_MIN (256u * 1024)           /* reader window; grows to hold a whole frame */
#define SCAN_CHUNK (64u * 1024)         /* bytes searched at a time when resynchronising */
#define CURSOR_NAME "spool.cursor"
#define CURSOR_TMP "spool.cursor.tmp"
#define CURSOR_LEN 24 /* "SPC1" u64 id u64 off u32 crc */

/* A damaged region [off, end) of a segment, and the records lost in it. */
struct hole {
    uint64_t off, end, lost;
};

struct seg {
    uint64_t id;
    uint64_t size; /* bytes on disk */
    uint64_t end;  /* end of the last intact frame */
    uint64_t nrec; /* intact records */
    int fmt;       /* frame format, 1 or 2 */
    bool dirty;    /* written since the last fsync */
    struct hole *holes;
    size_t nholes, capholes;
};

/* A window on one segment file: bytes [base, base + len) of it. */
struct win {
    int fd;
    uint64_t id; /* the segment */
    uint8_t *buf;
    size_t cap, len;
    uint64_t base;
    bool ioerr; /* the last win_get() failed on a read error (errno set) */
};

/* A record read and not yet acknowledged. */
struct readrec {
    uint64_t id, end;
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
    int wr_fd;        /* the last segment, O_APPEND, or -1 (opened by the next append) */
    bool wr_ok;       /* appends may go to the last segment */
    uint64_t rd_off, rd_rec;
    uint64_t ra_id, ra_off; /* the reader */
    struct readrec *rq;     /* FIFO of records read, not acknowledged */
    size_t rq_head, rq_n, rq_cap;
    struct win w; /* the reader's window */
    uint32_t acks_since_cursor;
    struct spool_stats st; /* all but pending and bytes */
    struct spool_damage dmg[SPOOL_DAMAGE_KEEP];
    char err[SPOOL_ERROR_LEN];
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

int spool_check(const char *dir, char *errbuf, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    if (dir == NULL || dir[0] == '\0') {
        snprintf(errbuf, errlen, "spool directory not set");
        return -1;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path)) {
        snprintf(errbuf, errlen, "%.64s...: path too long", dir);
        return -1;
    }
    /* the folder itself, else its nearest existing parent */
    bool missing = false;
    while (stat(path, &st) < 0) {
        char *slash = strrchr(path, '/');
        if (errno != ENOENT) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        missing = true;
        while (slash != NULL && slash > path && slash[1] == '\0') { /* "a/b/" */
            *slash = '\0';
            slash = strrchr(path, '/');
        }
        if (slash == NULL)
            snprintf(path, sizeof(path), ".");
        else if (slash == path)
            path[1] = '\0';
        else
            *slash = '\0';
    }
    int need = missing ? W_OK | X_OK : R_OK | W_OK | X_OK;
    if (!S_ISDIR(st.st_mode))
        snprintf(errbuf, errlen, "%s: not a directory", path);
    else if (access(path, need) < 0)
        snprintf(errbuf, errlen, "%s: %s%s", path, strerror(errno),
                 missing ? " (the spool folder would be created in it)" : "");
    else
        return 0;
    return -1;
}

/* ---------------------------------------------------------------- cursor */

/* Replace the cursor with the acknowledged position; durable adds fsync of
 * the file and the directory. Returns 0, or -1 (s->err set; a temporary
 * file left half written is removed, so a full disk gets its space back). */
static int write_cursor(struct spool *s, bool durable)
{
    uint8_t b[CURSOR_LEN];
    memcpy(b, "SPC1", 4);
    put_le64(b + 4, s->nseg > 0 ? s->seg[0].id : s->next_id);
    put_le64(b + 12, s->nseg > 0 ? s->rd_off : 0);
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
    (void)unlinkat(s->dirfd, CURSOR_TMP, 0);
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

/* ---------------------------------------------------------------- frames */

/* Bytes [off, off + n) of the window's file, n > 0: a pointer valid until
 * the next call, or NULL when the file ends first or a read fails
 * (w->ioerr, errno). */
static const uint8_t *win_get(struct win *w, uint64_t off, size_t n)
{
    w->ioerr = false;
    if (off >= w->base && n <= w->len && off - w->base <= w->len - n)
        return w->buf + (off - w->base);
    if (n > w->cap || w->buf == NULL) {
        size_t cap = n > WIN_MIN ? n : WIN_MIN;
        uint8_t *b = realloc(w->buf, cap);
        if (b == NULL) {
            errno = ENOMEM;
            w->ioerr = true;
            return NULL;
        }
        w->buf = b;
        w->cap = cap;
    }
    ssize_t r = pread_full(w->fd, w->buf, w->cap, off);
    w->base = off;
    w->len = r > 0 ? (size_t)r : 0;
    if (r < 0) {
        w->ioerr = true;
        return NULL;
    }
    return w->len >= n ? w->buf : NULL;
}

static void win_forget(struct win *w)
{
    w->len = 0;
}

static size_t hdr_len(int fmt)
{
    return fmt == 2 ? SPOOL_HDR_LEN : SPOOL_HDR_LEN_V1;
}

/* Whether a format 2 header at h (SPOOL_HDR_LEN bytes) is intact: magic
 * and header CRC. */
static bool hdr2_ok(const uint8_t *h)
{
    return memcmp(h, MAGIC, 4) == 0 && crc32c(h, 12) == get_le32(h + 12);
}

/* The intact frame of format fmt at off, ending at or before limit: its
 * whole length (header and payload) with *payload and *plen set (valid
 * until the next window call), 0 when there is none there, -1 on a read
 * error. */
static int64_t frame_at(struct win *w, int fmt, uint64_t off, uint64_t limit,
                        const uint8_t **payload, uint32_t *plen)
{
    size_t hl = hdr_len(fmt);
    if (off > limit || limit - off < hl)
        return 0;
    const uint8_t *h = win_get(w, off, hl);
    if (h == NULL)
        return w->ioerr ? -1 : 0;
    uint32_t len, crc;
    if (fmt == 2) {
        if (!hdr2_ok(h))
            return 0;
        len = get_le32(h + 4);
        crc = get_le32(h + 8);
    } else {
        len = get_le32(h);
        crc = get_le32(h + 4);
    }
    if (len == 0 || len > SPOOL_RECORD_MAX || limit - off - hl < len)
        return 0;
    const uint8_t *f = win_get(w, off, hl + len);
    if (f == NULL)
        return w->ioerr ? -1 : 0;
    if (crc32c(f + hl, len) != crc)
        return 0;
    *payload = f + hl;
    *plen = len;
    return (int64_t)(hl + len);
}

/* After damage at off: the offset of the next intact frame, below limit,
 * or limit when there is none; -1 on a read error. *lost is set to the
 * number of frames of the damaged region whose format 2 header is intact
 * (their payload is not), at least 1. Format 1 offers no magic: every
 * position is tried, but its text payloads make almost every length
 * implausible. */
static int64_t resync(struct win *w, int fmt, uint64_t off, uint64_t limit, uint64_t *lost)
{
    size_t hl = hdr_len(fmt);
    const uint8_t *pl, *h;
    uint32_t len;
    uint64_t n = 0;
    if (fmt == 2 && limit - off >= hl && (h = win_get(w, off, hl)) != NULL && hdr2_ok(h))
        n = 1; /* the damaged frame itself: its payload is bad */
    if (w->ioerr)
        return -1;
    uint64_t q = off + 1;
    while (q < limit && limit - q >= hl) {
        if (fmt == 2) { /* a frame starts with the magic's first byte */
            size_t k = limit - q < SCAN_CHUNK ? (size_t)(limit - q) : SCAN_CHUNK;
            const uint8_t *c = win_get(w, q, k);
            if (c == NULL)
                return w->ioerr ? -1 : (int64_t)limit;
            const uint8_t *m = memchr(c, 0xff, k);
            if (m == NULL) {
                q += k;
                continue;
            }
            q += (uint64_t)(m - c);
            if (limit - q < hl)
                break;
        }
        int64_t f = frame_at(w, fmt, q, limit, &pl, &len);
        if (f < 0)
            return -1;
        if (f > 0) {
            *lost = n > 0 ? n : 1;
            return (int64_t)q;
        }
        if (fmt == 2) {
            h = win_get(w, q, hl);
            if (h == NULL && w->ioerr)
                return -1;
            if (h != NULL && hdr2_ok(h))
                n++; /* a frame whose payload is damaged */
        }
        q++;
    }
    *lost = n > 0 ? n : 1;
    return (int64_t)limit;
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

static struct seg *find_seg(struct spool *s, uint64_t id)
{
    for (size_t i = 0; i < s->nseg; i++)
        if (s->seg[i].id == id)
            return &s->seg[i];
    return NULL;
}

/* Add the damaged region [off, end) to g (kept sorted). -1 when out of
 * memory (the region is then not remembered; the reader finds it again). */
static int add_hole(struct seg *g, uint64_t off, uint64_t end, uint64_t lost)
{
    if (g->nholes == g->capholes) {
        size_t cap = g->capholes ? g->capholes * 2 : 4;
        struct hole *h = realloc(g->holes, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        g->holes = h;
        g->capholes = cap;
    }
    size_t i = g->nholes;
    while (i > 0 && g->holes[i - 1].off > off) {
        g->holes[i] = g->holes[i - 1];
        i--;
    }
    g->holes[i] = (struct hole){off, end, lost};
    g->nholes++;
    return 0;
}

/* The known damaged region of g starting at off, or NULL. */
static const struct hole *hole_at(const struct seg *g, uint64_t off)
{
    for (size_t i = 0; i < g->nholes; i++)
        if (g->holes[i].off == off)
            return &g->holes[i];
    return NULL;
}

/* Count a damaged region and keep its description. */
static void note_damage(struct spool *s, uint64_t id, uint64_t off, uint64_t bytes, uint64_t lost)
{
    if (s->st.damaged_regions < SPOOL_DAMAGE_KEEP)
        s->dmg[s->st.damaged_regions] = (struct spool_damage){id, off, bytes, lost};
    s->st.damaged_regions++;
    s->st.damaged += lost;
    s->st.damaged_bytes += bytes;
}

/* The reader starts again at the acknowledged position. */
static void rewind_locked(struct spool *s)
{
    s->rq_head = s->rq_n = 0;
    s->ra_id = s->nseg > 0 ? s->seg[0].id : s->next_id;
    s->ra_off = s->nseg > 0 ? s->rd_off : 0;
    win_forget(&s->w);
}

/* Unlink seg[0] and drop it from the list. */
static void drop_head(struct spool *s)
{
    char name[32];
    struct seg *g = &s->seg[0];
    seg_name(name, sizeof(name), g->id);
    if (s->w.fd >= 0 && s->w.id == g->id) {
        close(s->w.fd);
        s->w.fd = -1;
        win_forget(&s->w);
    }
    if (s->nseg == 1 && s->wr_fd >= 0) {
        close(s->wr_fd);
        s->wr_fd = -1;
    }
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
        set_err(s, "%s/%s: %s", s->dir, name, strerror(errno));
    s->bytes -= g->size;
    free(g->holes);
    uint64_t id = g->id;
    memmove(&s->seg[0], &s->seg[1], (s->nseg - 1) * sizeof(s->seg[0]));
    s->nseg--;
    s->rd_off = 0;
    s->rd_rec = 0;
    if (s->ra_id == id) { /* the reader was at its end */
        s->ra_id = s->nseg > 0 ? s->seg[0].id : s->next_id;
        s->ra_off = 0;
    }
}

/* Unlink every head segment the reader is done with, the last one too
 * when all of it was read (the next append starts a new one): a drained
 * spool takes no space. A new, empty, last segment stays. */
static void advance_head(struct spool *s)
{
    while (s->nseg > 0 && s->rd_off >= s->seg[0].end &&
           (s->nseg > 1 || (s->seg[0].size > 0 && s->seg[0].end == s->seg[0].size)))
        drop_head(s);
}

/* Start a new last segment (id s->next_id), open for appends. Returns 0
 * or -1 with errno set (s->err set, nothing changed). */
static int add_segment(struct spool *s)
{
    uint64_t id = s->next_id;
    char name[32];
    seg_name(name, sizeof(name), id);
    if (id > SEG_ID_MAX) {
        set_err(s, "%s: segment ids exhausted", s->dir);
        errno = ERANGE;
        return -1;
    }
    if (seg_reserve(s, s->nseg + 1) < 0) {
        set_err(s, "%s/%s: %s", s->dir, name, strerror(ENOMEM));
        errno = ENOMEM;
        return -1;
    }
    int fd = open_seg(s, id, O_WRONLY | O_CREAT | O_EXCL | O_APPEND);
    if (fd < 0)
        return -1;
    if (s->wr_fd >= 0)
        close(s->wr_fd);
    s->wr_fd = fd;
    s->wr_ok = true;
    s->seg[s->nseg++] = (struct seg){.id = id, .fmt = 2, .dirty = true};
    s->next_id = id + 1;
    if (s->nseg == 1)
        rewind_locked(s); /* the reader waits at the start of the new head */
    return 0;
}

/* The frame format of a segment: 2 when it starts with a format 2 header
 * (intact or not: the magic is there) or, damaged at its start, when a
 * format 2 frame is found in it; else 1. An empty segment is 2. */
static int seg_format(struct win *w, uint64_t size, int *fmt)
{
    const uint8_t *pl, *h;
    uint32_t len;
    uint64_t lost;
    *fmt = 2;
    if (size == 0)
        return 0;
    if (size >= 4 && (h = win_get(w, 0, 4)) != NULL && memcmp(h, MAGIC, 4) == 0)
        return 0;
    if (w->ioerr)
        return -1;
    int64_t f = frame_at(w, 1, 0, size, &pl, &len);
    if (f != 0) {
        *fmt = 1;
        return f < 0 ? -1 : 0;
    }
    int64_t next = resync(w, 2, 0, size, &lost);
    if (next < 0)
        return -1;
    if ((uint64_t)next < size || frame_at(w, 2, 0, size, &pl, &len) > 0)
        return 0;
    *fmt = 1;
    return 0;
}

/* Validate segment g (open on w->fd): its format, intact records (nrec),
 * the end of the last one, and its damaged regions (holes; a damaged tail
 * is a hole up to the end of the file, which the caller cuts off when it
 * is the last segment). When mark is the offset of a record boundary,
 * *mark_ok is set and *mark_rec is the number of records before it.
 * Returns 0, or -1 on a read error (errno set). */
static int scan_segment(struct win *w, struct seg *g, uint64_t mark, bool *mark_ok,
                        uint64_t *mark_rec)
{
    const uint8_t *pl;
    uint32_t len;
    uint64_t off = 0, n = 0, lost;

    *mark_ok = false;
    if (seg_format(w, g->size, &g->fmt) < 0)
        return -1;
    g->end = 0;
    for (;;) {
        if (off == mark) {
            *mark_ok = true;
            *mark_rec = n;
        }
        if (off >= g->size)
            break;
        int64_t f = frame_at(w, g->fmt, off, g->size, &pl, &len);
        if (f < 0)
            return -1;
        if (f > 0) {
            off += (uint64_t)f;
            g->end = off;
            n++;
            continue;
        }
        int64_t next = resync(w, g->fmt, off, g->size, &lost);
        if (next < 0)
            return -1;
        if (add_hole(g, off, (uint64_t)next, lost) < 0) {
            errno = ENOMEM;
            return -1;
        }
        off = (uint64_t)next;
    }
    g->nrec = n;
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

/* Load and validate what the directory holds, cut a torn tail of the last
 * segment, place the reader from the cursor, and count the damage after
 * it. Returns 0 or -1 (s->err set). */
static int load(struct spool *s)
{
    uint64_t *ids = NULL;
    size_t nids = 0;
    uint64_t max_id = 0, c_id = 0, c_off = 0;
    struct win w = {.fd = -1};
    int fd = -1;
    bool torn = false;
    uint64_t torn_at = 0;

    bool c_ok = read_cursor(s, &c_id, &c_off) == 0;
    if (list_segments(s, &ids, &nids, &max_id) < 0)
        goto fail;
    if (seg_reserve(s, nids + 1) < 0) {
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
        s->nseg++; /* owns g->holes from here */
        w.fd = fd;
        win_forget(&w);
        if (fstat(fd, &st) < 0 ||
            (g->size = (uint64_t)st.st_size, scan_segment(&w, g, mark, &mark_ok, &mark_rec) < 0)) {
            set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, ids[i], strerror(errno));
            goto fail;
        }
        if (last && g->end < g->size) { /* a torn tail: cut it off */
            if (ftruncate(fd, (off_t)g->end) < 0) {
                set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, ids[i], strerror(errno));
                goto fail;
            }
            g->size = g->end;
            g->nholes--; /* the tail hole, the last one */
            torn = true;
            torn_at = g->end;
        }
        close(fd);
        fd = -1;
        s->bytes += g->size;

        if (!head_found && ids[i] >= c_id) {
            head_found = true;
            head = s->nseg - 1;
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
    }

    if (bad_cursor) {
        head = 0;
        s->rd_off = 0;
        s->rd_rec = 0;
    } else if (!head_found) {
        head = s->nseg; /* every segment is older than the cursor: all done */
    }
    /* A torn record after the cursor was an alert lost. */
    if (torn && head < s->nseg &&
        !(c_ok && !bad_cursor && ids[nids - 1] == c_id && c_off > torn_at))
        s->st.torn++;
    /* Segments before the head were acknowledged before a crash. */
    uint64_t off = s->rd_off, rec = s->rd_rec;
    for (size_t i = 0; i < head; i++)
        drop_head(s); /* resets the reader; restored below */
    s->rd_off = off;
    s->rd_rec = rec;
    s->next_id = (max_id > c_id ? max_id : c_id) + 1;
    /* The damage after the acknowledged position is lost. */
    for (size_t i = 0; i < s->nseg; i++)
        for (size_t k = 0; k < s->seg[i].nholes; k++) {
            const struct hole *h = &s->seg[i].holes[k];
            if (i > 0 || h->off >= s->rd_off)
                note_damage(s, s->seg[i].id, h->off, h->end - h->off, h->lost);
        }
    s->wr_ok = s->nseg > 0 && s->seg[s->nseg - 1].fmt == 2;
    advance_head(s);
    rewind_locked(s);
    free(ids);
    free(w.buf);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(ids);
    free(w.buf);
    return -1;
}

/* ---------------------------------------------------------------- public */

static void free_spool(struct spool *s)
{
    if (s->wr_fd >= 0)
        close(s->wr_fd);
    if (s->w.fd >= 0)
        close(s->w.fd);
    if (s->dirfd >= 0)
        close(s->dirfd); /* releases the flock */
    for (size_t i = 0; i < s->nseg; i++)
        free(s->seg[i].holes);
    pthread_mutex_destroy(&s->mu);
    free(s->seg);
    free(s->rq);
    free(s->w.buf);
    free(s->dir);
    free(s);
}

/* Open (creating it and its parents, 0700, if needed) the spool in dir,
 * keeping and validating what a previous run left (see spool.h). The
 * directory is locked against a second opener. The cursor is rewritten
 * when it can be: a failure there (a full disk) is kept for
 * spool_last_error() and does not fail the open. Returns NULL with a
 * message naming the path in errbuf, nothing left open or allocated. Close
 * with spool_close(). */
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
    s->dirfd = s->wr_fd = s->w.fd = -1;
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
    s->err[0] = '\0';
    (void)write_cursor(s, true); /* the old one stays valid when this fails */
    return s;
fail:
    snprintf(errbuf, errlen, "%s", s->err);
    free_spool(s);
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
        bool own = !(i + 1 == s->nseg && s->wr_fd >= 0);
        int fd = own ? open_seg(s, g->id, O_RDONLY) : s->wr_fd;
        if (fd < 0) {
            rc = -1;
            continue;
        }
        int r = fsync(fd);
        if (r < 0)
            set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, g->id, strerror(errno));
        if (own)
            close(fd);
        if (r < 0) {
            rc = -1;
            continue;
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
    free_spool(s);
}

/* Append one record with a single writev() of header and payload, to the
 * last segment or a new one (see spool.h). Returns SPOOL_OK (written, not
 * fsynced), SPOOL_FULL when it would take the spool past max_bytes
 * (refused_full), SPOOL_NOSPACE when the file system is full (no_space),
 * SPOOL_IO on another I/O error or a length outside 1 .. SPOOL_RECORD_MAX
 * (write_errors); the error names the file (spool_last_error()). After a
 * failure the spool is as before: a partly written record is truncated
 * away, or, when that fails too, the next append starts a new segment. rec
 * is only read. */
int spool_append(struct spool *s, const void *rec, size_t len)
{
    int rc = SPOOL_OK;
    pthread_mutex_lock(&s->mu);
    if (rec == NULL || len == 0 || len > SPOOL_RECORD_MAX) {
        s->st.write_errors++;
        rc = SPOOL_IO;
        goto out;
    }
    uint64_t need = SPOOL_HDR_LEN + (uint64_t)len;
    if (s->bytes + need > s->max_bytes) {
        s->st.refused_full++;
        rc = SPOOL_FULL;
        goto out;
    }
    struct seg *g = s->nseg > 0 ? &s->seg[s->nseg - 1] : NULL;
    if (g == NULL || !s->wr_ok || (g->size > 0 && g->size + need > s->seg_max)) {
        if (add_segment(s) < 0)
            goto io_error;
        advance_head(s); /* the old last segment may be fully acknowledged */
        g = &s->seg[s->nseg - 1];
    } else if (s->wr_fd < 0) {
        s->wr_fd = open_seg(s, g->id, O_WRONLY | O_APPEND);
        if (s->wr_fd < 0)
            goto io_error;
    }

    uint8_t hdr[SPOOL_HDR_LEN];
    memcpy(hdr, MAGIC, 4);
    put_le32(hdr + 4, (uint32_t)len);
    put_le32(hdr + 8, crc32c(rec, len));
    put_le32(hdr + 12, crc32c(hdr, 12));
    size_t done = 0;
    while (done < need) {
        struct iovec iov[2];
        int cnt = 0;
        if (done < SPOOL_HDR_LEN) {
            iov[cnt].iov_base = hdr + done;
            iov[cnt++].iov_len = SPOOL_HDR_LEN - done;
            iov[cnt].iov_base = (void *)(uintptr_t)rec;
            iov[cnt++].iov_len = len;
        } else {
            iov[cnt].iov_base = (uint8_t *)(uintptr_t)rec + (done - SPOOL_HDR_LEN);
            iov[cnt++].iov_len = (size_t)need - done;
        }
        ssize_t r = writev(s->wr_fd, iov, cnt);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : ENOSPC;
            set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, g->id, strerror(e));
            if (done > 0 && ftruncate(s->wr_fd, (off_t)g->size) < 0) {
                s->wr_ok = false; /* garbage at the end: never append after it */
                g->size += done;
                s->bytes += done;
            }
            errno = e;
            goto io_error;
        }
        done += (size_t)r;
    }
    g->size += need;
    g->end = g->size;
    g->nrec++;
    g->dirty = true;
    s->bytes += need;
    s->st.appended++;
    goto out;
io_error:
    if (errno == ENOSPC || errno == EDQUOT) {
        s->st.no_space++;
        rc = SPOOL_NOSPACE;
    } else {
        s->st.write_errors++;
        rc = SPOOL_IO;
    }
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

/* Remember a record read: it ends at end of segment id. -1 when out of
 * memory. */
static int rq_push(struct spool *s, uint64_t id, uint64_t end)
{
    if (s->rq_n == s->rq_cap) {
        size_t cap = s->rq_cap ? s->rq_cap * 2 : 64;
        struct readrec *q = malloc(cap * sizeof(*q));
        if (q == NULL)
            return -1;
        for (size_t i = 0; i < s->rq_n; i++)
            q[i] = s->rq[(s->rq_head + i) % s->rq_cap];
        free(s->rq);
        s->rq = q;
        s->rq_cap = cap;
        s->rq_head = 0;
    }
    s->rq[(s->rq_head + s->rq_n) % s->rq_cap] = (struct readrec){id, end};
    s->rq_n++;
    return 0;
}

/* spool_read() and spool_peek(); take_big: a record longer than cap is
 * taken as read (partly copied). The caller holds the mutex. */
static long read_locked(struct spool *s, void *buf, size_t cap, bool take_big)
{
    const uint8_t *pl;
    uint32_t len;
    for (;;) {
        struct seg *g = find_seg(s, s->ra_id);
        if (g == NULL)
            return 0; /* nothing, or only segments to come */
        const struct hole *h = hole_at(g, s->ra_off);
        if (h != NULL) {
            s->ra_off = h->end;
            continue;
        }
        if (s->ra_off >= g->end) {
            size_t i = (size_t)(g - s->seg);
            if (i + 1 >= s->nseg)
                return 0;
            s->ra_id = s->seg[i + 1].id;
            s->ra_off = 0;
            continue;
        }
        if (s->w.fd < 0 || s->w.id != g->id) {
            if (s->w.fd >= 0)
                close(s->w.fd);
            win_forget(&s->w);
            s->w.fd = open_seg(s, g->id, O_RDONLY);
            if (s->w.fd < 0)
                return -1;
            s->w.id = g->id;
        }
        int64_t f = frame_at(&s->w, g->fmt, s->ra_off, g->end, &pl, &len);
        if (f < 0)
            goto io_error;
        if (f == 0) { /* damaged since open: skip it, counted */
            uint64_t lost;
            int64_t next = resync(&s->w, g->fmt, s->ra_off, g->end, &lost);
            if (next < 0)
                goto io_error;
            (void)add_hole(g, s->ra_off, (uint64_t)next, lost);
            note_damage(s, g->id, s->ra_off, (uint64_t)next - s->ra_off, lost);
            g->nrec = g->nrec > lost ? g->nrec - lost : 0;
            s->ra_off = (uint64_t)next;
            continue;
        }
        if (len > cap && !take_big)
            return (long)len;
        if (rq_push(s, g->id, s->ra_off + (uint64_t)f) < 0) {
            set_err(s, "%s: %s", s->dir, strerror(ENOMEM));
            return -1;
        }
        if (cap > 0)
            memcpy(buf, pl, len < cap ? len : cap);
        s->ra_off += (uint64_t)f;
        return (long)len;
    }
io_error:
    set_err(s, "%s/spool-%010" PRIu64 ".log: %s", s->dir, s->ra_id, strerror(errno));
    return -1;
}

/* See spool.h. */
long spool_read(struct spool *s, void *buf, size_t cap)
{
    pthread_mutex_lock(&s->mu);
    long rc = read_locked(s, buf, cap, false);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* See spool.h. */
long spool_peek(struct spool *s, void *buf, size_t cap)
{
    pthread_mutex_lock(&s->mu);
    rewind_locked(s);
    long rc = read_locked(s, buf, cap, true);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* See spool.h. */
void spool_rewind(struct spool *s)
{
    pthread_mutex_lock(&s->mu);
    rewind_locked(s);
    pthread_mutex_unlock(&s->mu);
}

/* Release the oldest record read and not released. Every
 * SPOOL_CURSOR_EVERY acknowledgements the cursor is rewritten (not
 * fsynced; a failure there is kept for spool_last_error() and does not fail
 * the ack). A segment left behind is unlinked. Returns 0, or -1 when no
 * record was read since the last release. */
int spool_ack(struct spool *s)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->rq_n == 0) {
        rc = -1;
        goto out;
    }
    struct readrec e = s->rq[s->rq_head];
    s->rq_head = (s->rq_head + 1) % s->rq_cap;
    s->rq_n--;
    while (s->nseg > 1 && s->seg[0].id != e.id)
        drop_head(s); /* the reader left it: every record in it is acknowledged */
    s->rd_off = e.end;
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
    out->pending = n > s->rd_rec ? n - s->rd_rec : 0;
    out->bytes = s->bytes;
    pthread_mutex_unlock(&s->mu);
}

/* See spool.h. */
int spool_damage(struct spool *s, size_t i, struct spool_damage *out)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (i < s->st.damaged_regions && i < SPOOL_DAMAGE_KEEP) {
        *out = s->dmg[i];
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* See spool.h. */
void spool_last_error(struct spool *s, char *buf, size_t len)
{
    pthread_mutex_lock(&s->mu);
    snprintf(buf, len, "%s", s->err);
    pthread_mutex_unlock(&s->mu);
}
