/* inputs.c -- -r arguments expanded into the captures to read (inputs.h). */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Folders nested deeper than this are not entered (a loop of bind mounts
 * must not exhaust the stack). */
#define INPUTS_MAX_DEPTH 64

struct found {
    char *path;
    uint64_t size;
};

struct walk {
    struct found *v;
    size_t n, cap;
    unsigned skipped;
    char *err;
    size_t errlen;
};

static int push(struct walk *w, const char *path, uint64_t size)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct found *v = realloc(w->v, cap * sizeof(*v));
        if (v == NULL)
            goto oom;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n].path = strdup(path);
    if (w->v[w->n].path == NULL)
        goto oom;
    w->v[w->n++].size = size;
    return 0;
oom:
    snprintf(w->err, w->errlen, "out of memory listing the inputs");
    return -1;
}

/* Whether the file at path begins with a pcap or pcapng magic number; a
 * file that cannot be read counts as one (reading it will say why). */
static bool is_capture(const char *path)
{
    static const uint32_t magic[] = {0xa1b2c3d4u, 0xd4c3b2a1u, 0xa1b23c4du, 0x4d3cb2a1u,
                                     0x0a0d0d0au};
    uint8_t b[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return true;
    ssize_t r = read(fd, b, sizeof(b));
    close(fd);
    if (r != (ssize_t)sizeof(b))
        return r < 0;
    uint32_t m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
        if (m == magic[i])
            return true;
    return false;
}

/* Every capture under dir (a path of len bytes in buf, PATH_MAX long). */
static int walk_dir(struct walk *w, char *buf, size_t len, size_t cap, int depth)
{
    DIR *d = opendir(buf);
    if (d == NULL) {
        snprintf(w->err, w->errlen, "%s: %s", buf, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.') { /* ".", "..", hidden files */
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                w->skipped++;
            continue;
        }
        size_t n = strlen(e->d_name);
        if (len + 1 + n + 1 > cap) {
            snprintf(w->err, w->errlen, "%s/%s: path too long", buf, e->d_name);
            rc = -1;
            break;
        }
        buf[len] = '/';
        memcpy(buf + len + 1, e->d_name, n + 1);
        if (lstat(buf, &st) < 0) {
            rc = push(w, buf, 0); /* reading it will say why */
        } else if (S_ISDIR(st.st_mode)) {
            if (depth >= INPUTS_MAX_DEPTH)
                w->skipped++;
            else
                rc = walk_dir(w, buf, len + 1 + n, cap, depth + 1);
        } else if (S_ISLNK(st.st_mode) && (stat(buf, &st) < 0 || S_ISDIR(st.st_mode))) {
            w->skipped++; /* a link to a folder (or to nothing) */
        } else if (S_ISREG(st.st_mode) && is_capture(buf)) {
            rc = push(w, buf, (uint64_t)st.st_size);
        } else {
            w->skipped++;
        }
        buf[len] = '\0';
    }
    if (rc == 0 && errno != 0) {
        snprintf(w->err, w->errlen, "%s: %s", buf, strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct found *)a)->path, ((const struct found *)b)->path);
}

/* One argument: a folder's captures (sorted), or the name itself. */
static int expand_one(struct walk *w, const char *arg)
{
    struct stat st;
    if (strcmp(arg, "-") == 0 || stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
        return push(w, arg,
                    strcmp(arg, "-") != 0 && stat(arg, &st) == 0 ? (uint64_t)st.st_size : 0);
    char buf[4096];
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/')
        len--;
    if (len + 1 > sizeof(buf)) {
        snprintf(w->err, w->errlen, "%.64s...: path too long", arg);
        return -1;
    }
    memcpy(buf, arg, len);
    buf[len] = '\0';
    size_t first = w->n;
    if (walk_dir(w, buf, len, sizeof(buf), 1) < 0)
        return -1;
    if (w->n == first) {
        snprintf(w->err, w->errlen, "%s: no pcap or pcapng capture in this folder", arg);
        return -1;
    }
    qsort(w->v + first, w->n - first, sizeof(w->v[0]), by_path);
    return 0;
}

int inputs_expand(const char *const *args, unsigned n, struct input_list *out, char *errbuf,
                  size_t errlen)
{
    struct walk w = {.err = errbuf, .errlen = errlen};
    bool stdin_seen = false;
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(args[i], "-") == 0) {
            if (stdin_seen) {
                snprintf(errbuf, errlen, "-r -: standard input can be read only once");
                goto fail;
            }
            stdin_seen = true;
        }
        if (expand_one(&w, args[i]) < 0)
            goto fail;
    }
    out->paths = calloc(w.n ? w.n : 1, sizeof(*out->paths));
    out->sizes = calloc(w.n ? w.n : 1, sizeof(*out->sizes));
    if (out->paths == NULL || out->sizes == NULL) {
        snprintf(errbuf, errlen, "out of memory listing the inputs");
        goto fail;
    }
    for (size_t i = 0; i < w.n; i++) {
        out->paths[i] = w.v[i].path;
        out->sizes[i] = w.v[i].size;
        out->total_size += w.v[i].size;
    }
    out->n = (unsigned)w.n;
    out->skipped = w.skipped;
    free(w.v);
    return 0;
fail:
    for (size_t i = 0; i < w.n; i++)
        free(w.v[i].path);
    free(w.v);
    inputs_free(out);
    return -1;
}

void inputs_free(struct input_list *l)
{
    if (l->paths != NULL && l->n > 0)
        for (unsigned i = 0; i < l->n; i++)
            free(l->paths[i]);
    free(l->paths);
    free(l->sizes);
    memset(l, 0, sizeof(*l));
}
