/* output-json.c -- compact JSON records; string values encoded by jansson. */
#include "output-json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <jansson.h>

void jw_init(struct jw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->depth = 0;
    w->first[0] = true;
    w->overflow = cap < 2;
}

static void put(struct jw *w, const char *s, size_t n)
{
    if (w->overflow || n > w->cap - w->len - 2) { /* keep room for "\n\0" */
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc1(struct jw *w, char c)
{
    put(w, &c, 1);
}

/* Separator and key (our own constant: plain ASCII, no escaping needed). */
static void member(struct jw *w, const char *key)
{
    if (!w->first[w->depth])
        putc1(w, ',');
    w->first[w->depth] = false;
    if (key != NULL) {
        putc1(w, '"');
        put(w, key, strlen(key));
        put(w, "\":", 2);
    }
}

static void open_(struct jw *w, const char *key, char c)
{
    if (w->depth > 0 || key != NULL)
        member(w, key);
    putc1(w, c);
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    w->first[++w->depth] = true;
}

static void close_(struct jw *w, char c)
{
    if (w->depth <= 0) {
        w->overflow = true;
        return;
    }
    w->depth--;
    putc1(w, c);
}

void jw_object(struct jw *w, const char *key)
{
    open_(w, key, '{');
}

void jw_array(struct jw *w, const char *key)
{
    open_(w, key, '[');
}

void jw_end_object(struct jw *w)
{
    close_(w, '}');
}

void jw_end_array(struct jw *w)
{
    close_(w, ']');
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    member(w, key);
    put(w, tmp + i, sizeof(tmp) - i);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    member(w, key);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. s is
 * NUL-terminated, so a cut-off sequence stops at the terminator. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((c & 0xe0) == 0xc0)
        n = 2, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

struct json_t *jw_json_string(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i, n;
    for (i = 0; i < len && (n = utf8_seq(u + i)) != 0; i += n)
        ;
    json_t *js;
    if (i == len) {
        js = json_stringn_nocheck(s, len);
    } else {
        char *fix = malloc(len * 2 + 1);
        if (fix == NULL)
            return NULL;
        size_t o = 0;
        for (i = 0; i < len;) {
            n = utf8_seq(u + i);
            if (n == 0) { /* carry the byte as U+0080..U+00FF */
                fix[o++] = (char)(0xc0 | (u[i] >> 6));
                fix[o++] = (char)(0x80 | (u[i] & 0x3f));
                i++;
            } else {
                memcpy(fix + o, u + i, n);
                o += n;
                i += n;
            }
        }
        js = json_stringn_nocheck(fix, o);
        free(fix);
    }
    return js;
}

void jw_str(struct jw *w, const char *key, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t len;
    /* Printable ASCII other than '"' and '\\' encodes as itself: copy it.
     * Anything else is left to the library. */
    for (len = 0; u[len] >= 0x20 && u[len] < 0x7f && u[len] != '"' && u[len] != '\\'; len++)
        ;
    if (u[len] == '\0') {
        member(w, key);
        putc1(w, '"');
        put(w, s, len);
        putc1(w, '"');
        return;
    }
    json_t *js = jw_json_string(s);
    if (js == NULL) {
        w->overflow = true;
        return;
    }
    member(w, key);
    if (!w->overflow) {
        size_t room = w->cap - w->len - 2;
        size_t m = json_dumpb(js, w->buf + w->len, room, JSON_ENCODE_ANY);
        if (m == 0 || m > room)
            w->overflow = true;
        else
            w->len += m;
    }
    json_decref(js);
}

void jw_strn(struct jw *w, const char *key, const char *s, size_t len)
{
    char buf[256];
    if (s == NULL || len == 0)
        return;
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    jw_str(w, key, buf);
}

size_t jw_finish(struct jw *w)
{
    if (w->overflow || w->depth != 0)
        return 0;
    w->buf[w->len++] = '\n';
    w->buf[w->len] = '\0';
    return w->len;
}

static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

void jw_format_time(uint64_t us, char *buf, size_t len)
{
    if (len < 32) {
        if (len)
            buf[0] = '\0';
        return;
    }
    /* Proleptic Gregorian date from days since 1970-01-01 (the "civil from
     * days" algorithm): formatting without gmtime/strftime keeps it cheap. */
    uint64_t sec = us / 1000000u;
    int64_t z = (int64_t)(sec / 86400u) + 719468;
    unsigned sod = (unsigned)(sec % 86400u);
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    unsigned y = (unsigned)(yoe + era * 400 + (m <= 2));
    char *p = buf;
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)(us % 1000000u), 6);
    memcpy(p, "+0000", 6);
}

void jw_ip(struct jw *w, const char *key, int ipver, const uint8_t *a)
{
    char s[INET6_ADDRSTRLEN];
    if (ipver == 6) {
        inet_ntop(AF_INET6, a, s, sizeof(s));
    } else { /* dotted quad without sprintf */
        char *p = s;
        for (int i = 0; i < 4; i++) {
            unsigned v = a[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
    }
    jw_str(w, key, s);
}

void jw_time(struct jw *w, const char *key, uint64_t us)
{
    char t[40];
    jw_format_time(us, t, sizeof(t));
    jw_str(w, key, t);
}

FILE *out_lines_open(const char *path, bool truncate, char *errbuf, size_t errlen)
{
    FILE *fp = fopen(path, truncate ? "w" : "a");
    if (fp == NULL) {
        snprintf(errbuf, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
        return NULL;
    }
    int fl = fcntl(fileno(fp), F_GETFL);
    if (fl >= 0)
        fcntl(fileno(fp), F_SETFL, fl | O_APPEND);
    return fp;
}

int out_lines_reopen(FILE **fp, const char *path, char *errbuf, size_t errlen)
{
    FILE *nfp = fopen(path, "a");
    if (nfp == NULL) {
        snprintf(errbuf, errlen, "%s: cannot reopen: %s; still writing to the file it was", path,
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    if (fflush(*fp) != 0) {
        snprintf(errbuf, errlen, "%s: records before the reopen not written: %s", path,
                 strerror(errno));
        rc = -1;
    }
    fclose(*fp);
    *fp = nfp;
    return rc;
}
