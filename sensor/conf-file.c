/* conf-file.c -- shared helpers of the libconfig readers. */
#include "conf-file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ASCII only: the files are not locale dependent. */
static int cf_is_alpha(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int cf_is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char cf_upper(char ch)
{
    return (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
}

static void cf_vmsg(char *errbuf, size_t errlen, const char *file, unsigned line, const char *fmt,
                    va_list ap) __attribute__((format(printf, 5, 0)));

static void cf_vmsg(char *errbuf, size_t errlen, const char *file, unsigned line, const char *fmt,
                    va_list ap)
{
    int n;

    if (errbuf == NULL || errlen == 0)
        return;
    if (line > 0)
        n = snprintf(errbuf, errlen, "%s:%u: ", file, line);
    else
        n = snprintf(errbuf, errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= errlen)
        return;
    vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
}

int cf_msg(char *errbuf, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cf_vmsg(errbuf, errlen, file, line, fmt, ap);
    va_end(ap);
    return -1;
}

int cf_setting_err(char *errbuf, size_t errlen, const char *fallback_file,
                   const config_setting_t *s, const char *fmt, ...)
{
    const char *file = config_setting_source_file(s);
    va_list ap;

    va_start(ap, fmt);
    cf_vmsg(errbuf, errlen, file != NULL ? file : fallback_file, config_setting_source_line(s), fmt,
            ap);
    va_end(ap);
    return -1;
}

const char *cf_type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "an unknown type";
    }
}

unsigned cf_distance(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned d[3][64]; /* rows i-2, i-1, i, indexed modulo 3 */
    size_t i, j;

    if (la > 63 || lb > 63)
        return UINT_MAX;
    for (j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (i = 1; i <= la; i++) {
        unsigned *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

        cur[0] = (unsigned)i;
        for (j = 1; j <= lb; j++) {
            unsigned cost = cf_upper(a[i - 1]) == cf_upper(b[j - 1]) ? 0 : 1;
            unsigned best = prev[j - 1] + cost;

            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && cf_upper(a[i - 1]) == cf_upper(b[j - 2]) &&
                cf_upper(a[i - 2]) == cf_upper(b[j - 1]) && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return d[la % 3][lb];
}

/* The whole file into a NUL-terminated heap buffer the caller frees.
 * Only a regular file is read: a FIFO or a device would block the reader
 * or never end, so it is refused before it is read ("not a regular
 * file"). A NUL byte would hide the rest of the text from the parser, so
 * it is an error naming its line. Returns 0, or -1 with "FILE: cannot
 * open: ..." (or not a regular file, too large, a NUL byte, a read error)
 * in errbuf. */
static int cf_read_text(const char *path, char **out, char *errbuf, size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;

    *out = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer before fstat() could tell what it is. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return cf_msg(errbuf, errlen, path, 0, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        cf_msg(errbuf, errlen, path, 0, "cannot open: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct stat null;
    if (S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev) {
        close(fd); /* -c /dev/null: no settings, the idiom for "the defaults" */
        *out = calloc(1, 1);
        return *out != NULL ? 0 : cf_msg(errbuf, errlen, path, 0, "out of memory");
    }
    if (!S_ISREG(st.st_mode)) {
        cf_msg(errbuf, errlen, path, 0, "%s",
               S_ISDIR(st.st_mode) ? "cannot open: Is a directory" : "not a regular file");
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || (f = fdopen(fd, "r")) == NULL) {
        cf_msg(errbuf, errlen, path, 0, "cannot open: %s", strerror(errno));
        close(fd);
        return -1;
    }
    for (;;) {
        size_t got;

        if (cap - len < 4096) {
            char *nb;

            if (cap >= CF_FILE_MAX) {
                cf_msg(errbuf, errlen, path, 0, "larger than %u bytes", CF_FILE_MAX);
                goto fail;
            }
            cap = cap == 0 ? 16384 : cap * 2;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                cf_msg(errbuf, errlen, path, 0, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cf_msg(errbuf, errlen, path, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    const char *nul = memchr(buf, '\0', len);
    if (nul != NULL) {
        unsigned line = 1;
        for (const char *p = buf; p < nul; p++)
            line += *p == '\n';
        cf_msg(errbuf, errlen, path, line, "a NUL byte: this is not a text file");
        goto fail;
    }
    buf[len] = '\0';
    fclose(f);
    *out = buf;
    return 0;

fail:
    free(buf);
    fclose(f);
    return -1;
}

int cf_parse_file(const char *path, config_t *lc, char **text, char *errbuf, size_t errlen)
{
    if (cf_read_text(path, text, errbuf, errlen) < 0)
        return -1;
    config_init(lc);
    if (config_read_string(lc, *text) == CONFIG_TRUE)
        return 0;
    const char *efile = config_error_file(lc);
    int eline = config_error_line(lc);
    cf_msg(errbuf, errlen, efile != NULL ? efile : path, eline > 0 ? (unsigned)eline : 0, "%s",
           config_error_text(lc) != NULL ? config_error_text(lc) : "parse error");
    config_destroy(lc);
    free(*text);
    *text = NULL;
    return -1;
}

int cf_int_literal(const char *p, const char *end, unsigned long long *value, int *negative)
{
    unsigned long long v = 0;
    int neg = 0, hex = 0;
    const char *q;

    for (q = p; q < end; q++)
        if (*q == '.' || *q == 'L' || *q == 'l')
            return 0; /* a float, or a 64-bit integer */
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        hex = 1;
        p += 2;
    }
    for (q = p; q < end; q++)
        if (!hex && (*q == 'e' || *q == 'E'))
            return 0; /* a float: 1e9 */
    if (p == end)
        return 0;
    for (; p < end; p++) {
        unsigned digit;

        if (cf_is_digit(*p))
            digit = (unsigned)(*p - '0');
        else if (hex && cf_upper(*p) >= 'A' && cf_upper(*p) <= 'F')
            digit = (unsigned)(cf_upper(*p) - 'A' + 10);
        else
            return 0; /* not a number libconfig would have accepted */
        if (v < (1ull << 59))
            v = v * (hex ? 16 : 10) + digit;
        else
            v = 1ull << 63;
    }
    *value = v;
    *negative = neg;
    return 1;
}

int cf_find_int(const char *text, int (*bad)(const char *p, const char *end), unsigned *line_out,
                const char **start_out, size_t *len_out)
{
    const char *p = text;
    unsigned line = 1;

    while (*p != '\0') {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p == '\n')
                    line++;
            if (*p != '\0')
                p += 2;
        } else if (*p == '"') {
            for (p++; *p != '\0' && *p != '"'; p++) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                if (*p == '\n')
                    line++;
            }
            if (*p != '\0')
                p++;
        } else if (cf_is_alpha(*p) || *p == '*') { /* a name, or true/false */
            while (cf_is_alpha(*p) || cf_is_digit(*p) || *p == '_' || *p == '-' || *p == '*')
                p++;
        } else if (cf_is_digit(*p) || *p == '.' ||
                   ((*p == '-' || *p == '+') && (cf_is_digit(p[1]) || p[1] == '.'))) {
            const char *start = p++;

            while (cf_is_alpha(*p) || cf_is_digit(*p) || *p == '.' ||
                   ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
                p++;
            if (bad(start, p)) {
                *line_out = line;
                *start_out = start;
                *len_out = (size_t)(p - start);
                return 1;
            }
        } else {
            p++;
        }
    }
    return 0;
}
