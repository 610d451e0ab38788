/* redis-url.c -- the Redis URL forms the sensor accepts: parsed, checked,
 * and described without credentials. */
#include "redis-url.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#define REDIS_DEFAULT_PORT 6379

static int fail_msg(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_msg(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* See redis-url.h. */
int redis_url_hostport(const char *s, size_t n, char *host, size_t hostcap, int *port, char *msg,
                       size_t msglen)
{
    const char *h = s, *rest;
    size_t hlen;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return fail_msg(msg, msglen, "unterminated IPv6 address (missing ']')");
        h = s + 1;
        hlen = (size_t)(close - h);
        rest = close + 1;
        for (size_t i = 0; i < hlen; i++) {
            char ch = h[i];
            bool zone = memchr(h, '%', i) != NULL;
            if (!(ch == ':' || ch == '.' || ch == '%' || (ch >= '0' && ch <= '9') ||
                  (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
                  (zone && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                            ch == '-'))))
                return fail_msg(msg, msglen, "bad character '%c' in IPv6 address", ch);
        }
        if (hlen > 0 && memchr(h, ':', hlen) == NULL)
            return fail_msg(msg, msglen, "'[%.*s]' is not an IPv6 address", (int)hlen, h);
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon ? (size_t)(colon - s) : n;
        rest = s + hlen;
        if (colon != NULL && memchr(colon + 1, ':', n - hlen - 1) != NULL)
            return fail_msg(msg, msglen, "an IPv6 address must be in brackets, [addr]:port");
        for (size_t i = 0; i < hlen; i++) {
            char ch = h[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'))
                return fail_msg(msg, msglen, "bad character '%c' in host name", ch);
        }
    }
    if (hlen == 0)
        return fail_msg(msg, msglen, "empty host");
    if (hlen >= hostcap)
        return fail_msg(msg, msglen, "host name longer than %zu bytes", hostcap - 1);
    memcpy(host, h, hlen);
    host[hlen] = '\0';

    size_t rlen = n - (size_t)(rest - s);
    if (rlen == 0)
        return 0; /* the default port */
    if (rest[0] != ':')
        return fail_msg(msg, msglen, "unexpected \"%.*s\" after the host", (int)rlen, rest);
    rest++, rlen--;
    if (rlen == 0)
        return fail_msg(msg, msglen, "empty port");
    if (!is_digits(rest, rlen))
        return fail_msg(msg, msglen, "port \"%.*s\" is not a number", (int)(rlen > 20 ? 20 : rlen),
                        rest);
    long p = rlen > 6 ? 100000 : strtol(rest, NULL, 10);
    if (p < 1 || p > 65535)
        return fail_msg(msg, msglen, "port %.*s out of range (1-65535)",
                        (int)(rlen > 20 ? 20 : rlen), rest);
    *port = (int)p;
    return 0;
}

/* Percent-decode n bytes of s into out (cap bytes with the NUL). */
static int pct_decode(const char *s, size_t n, char *out, size_t cap, const char *what, char *msg,
                      size_t msglen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            unsigned v = 0;
            for (size_t k = 1; k <= 2; k++) {
                char d = i + k < n ? s[i + k] : '\0';
                int x = d >= '0' && d <= '9'   ? d - '0'
                        : d >= 'a' && d <= 'f' ? d - 'a' + 10
                        : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                               : -1;
                if (x < 0)
                    return fail_msg(msg, msglen, "bad %%-escape in the %s", what);
                v = v * 16 + (unsigned)x;
            }
            if (v == 0)
                return fail_msg(msg, msglen, "%%00 in the %s", what);
            ch = (char)v;
            i += 2;
        }
        if (o + 1 >= cap)
            return fail_msg(msg, msglen, "%s longer than %zu bytes", what, cap - 1);
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

static int parse_db(const char *s, size_t n, int *db, char *msg, size_t msglen)
{
    if (!is_digits(s, n) || n > 9)
        return fail_msg(msg, msglen, "bad database number \"%.*s\" (expected 0, 1, ...)",
                        (int)(n > 20 ? 20 : n), s);
    *db = (int)strtol(s, NULL, 10);
    return 0;
}

/* ?db=N[&...] (s up to the end of the URL). */
static int parse_query(const char *s, struct redis_url *u, bool have_db, char *msg, size_t msglen)
{
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n > 3 && strncmp(s, "db=", 3) == 0) {
            if (have_db)
                return fail_msg(msg, msglen, "database given twice (path and ?db=)");
            if (parse_db(s + 3, n - 3, &u->db, msg, msglen) < 0)
                return -1;
            have_db = true;
        } else if (n > 0) {
            return fail_msg(msg, msglen, "unknown option \"%.*s\" (only db=N is supported)",
                            (int)(n > 40 ? 40 : n), s);
        }
        s += n;
        if (*s == '&')
            s++;
    }
    return 0;
}

static void url_defaults(struct redis_url *u)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->host, sizeof(u->host), "127.0.0.1");
    u->port = REDIS_DEFAULT_PORT;
}

static int parse_url(const char *url, struct redis_url *u, char *msg, size_t msglen)
{
    const char *p, *end, *at;
    bool is_unix;
    bool have_db = false;

    if (strncasecmp(url, "redis://", 8) == 0) {
        p = url + 8;
        is_unix = false;
    } else if (strncasecmp(url, "unix://", 7) == 0) {
        p = url + 7;
        is_unix = true;
    } else if (strncasecmp(url, "rediss://", 9) == 0) {
        return fail_msg(msg, msglen, "rediss:// (TLS) is not supported; use redis:// or unix://");
    } else {
        const char *sep = strstr(url, "://");
        if (sep != NULL && sep - url <= 16)
            return fail_msg(msg, msglen,
                            "unknown scheme \"%.*s\" (expected redis://host:port/db or "
                            "unix:///path/to/socket)",
                            (int)(sep - url), url);
        return fail_msg(msg, msglen, "expected redis://host:port/db or unix:///path/to/socket");
    }
    if (strchr(url, '#') != NULL)
        return fail_msg(msg, msglen, "unexpected '#' (escape it as %%23 in a password)");

    /* [user][:password]@ before the host (or before the socket path) */
    end = p + strcspn(p, "/?");
    at = memrchr(p, '@', (size_t)(end - p));
    if (at != NULL) {
        /* user@ alone: the password comes from elsewhere (redis-url.h) */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon != NULL ? colon : at;
        if (pct_decode(p, (size_t)(uend - p), u->user, sizeof(u->user), "user name", msg, msglen) <
            0)
            return -1;
        if (colon != NULL && pct_decode(colon + 1, (size_t)(at - colon - 1), u->password,
                                        sizeof(u->password), "password", msg, msglen) < 0)
            return -1;
        p = at + 1;
    }

    if (is_unix) {
        if (p != end)
            return fail_msg(msg, msglen,
                            "expected unix:///path/to/socket (an absolute path "
                            "after unix://, no host)");
        size_t plen = strcspn(end, "?");
        if (plen == 0 || end[0] != '/')
            return fail_msg(msg, msglen, "unix:// needs an absolute socket path");
        if (plen >= sizeof(((struct sockaddr_un *)0)->sun_path) || plen >= sizeof(u->path))
            return fail_msg(msg, msglen, "socket path longer than %zu bytes",
                            sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        memcpy(u->path, end, plen);
        u->path[plen] = '\0';
        snprintf(u->host, sizeof(u->host), "localhost");
        u->port = 0;
        p = end + plen;
    } else {
        if (redis_url_hostport(p, (size_t)(end - p), u->host, sizeof(u->host), &u->port, msg,
                               msglen) < 0)
            return -1;
        p = end;
        if (*p == '/') {
            size_t n = strcspn(p + 1, "?");
            if (n > 0) {
                if (parse_db(p + 1, n, &u->db, msg, msglen) < 0)
                    return -1;
                have_db = true;
            }
            p += 1 + n;
        }
    }
    if (*p == '?')
        return parse_query(p + 1, u, have_db, msg, msglen);
    return 0;
}

/* Parse url into *u (see redis-url.h for the forms). NULL or "" gives
 * the defaults, redis://127.0.0.1:6379/0. On error returns -1 with a message
 * in errbuf (it never repeats the password) and *u holding the defaults. */
int redis_url_parse(const char *url, struct redis_url *u, char *errbuf, size_t errlen)
{
    char msg[200];
    url_defaults(u);
    if (url == NULL || url[0] == '\0')
        return 0;
    if (strlen(url) > 2048) {
        snprintf(errbuf, errlen, "redis URL: longer than 2048 bytes");
        return -1;
    }
    if (parse_url(url, u, msg, sizeof(msg)) < 0) {
        url_defaults(u);
        snprintf(errbuf, errlen, "redis URL: %s", msg);
        return -1;
    }
    return 0;
}

/* See redis-url.h. */
void redis_url_peer(char *buf, size_t len, const char *host, int port, const char *path)
{
    if (path != NULL && path[0])
        snprintf(buf, len, "%s", path);
    else if (strchr(host, ':') != NULL)
        snprintf(buf, len, "[%s]:%d", host, port);
    else
        snprintf(buf, len, "%s:%d", host, port);
}

/* See redis-url.h. */
void redis_url_describe(const struct redis_url *u, char *buf, size_t len)
{
    char peer[REDIS_URL_PEER_LEN];
    if (u->path[0]) {
        snprintf(buf, len, "unix://%s?db=%d", u->path, u->db);
    } else {
        redis_url_peer(peer, sizeof(peer), u->host, u->port, NULL);
        snprintf(buf, len, "redis://%s/%d", peer, u->db);
    }
}

/* See redis-url.h. */
int redis_url_password_span(const char *url, size_t *off, size_t *len)
{
    const char *sep = url != NULL ? strstr(url, "://") : NULL;
    if (sep == NULL)
        return -1;
    const char *p = sep + 3, *end = p + strcspn(p, "/?");
    const char *at = memrchr(p, '@', (size_t)(end - p));
    const char *colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
    if (colon == NULL || at == colon + 1)
        return -1;
    *off = (size_t)(colon + 1 - url);
    *len = (size_t)(at - colon - 1);
    return 0;
}

/* See redis-url.h. */
void redis_url_describe_sentinels(char *buf, size_t len, const char *master,
                                  const struct redis_url *sentinels, size_t n)
{
    char peer[REDIS_URL_PEER_LEN];
    if (len == 0)
        return;
    int w = snprintf(buf, len, "Sentinel master %s via ", master);
    size_t off = w > 0 ? (size_t)w : 0;
    for (size_t i = 0; i < n && off < len; i++) {
        redis_url_peer(peer, sizeof(peer), sentinels[i].host, sentinels[i].port, NULL);
        w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", peer);
        off += w > 0 ? (size_t)w : 0;
    }
}
