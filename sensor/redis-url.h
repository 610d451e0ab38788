/* redis-url.h -- the Redis URL forms the sensor accepts.
 *
 *   redis://[[user]:password@]host[:port][/db][?db=N]
 *   unix://[[user]:password@]/path/to/socket[?db=N]
 *
 * host is a name, an IPv4 address or an IPv6 address in brackets; port
 * defaults to 6379, db to 0. The user name and password are
 * percent-decoded (%40 for '@', %3A for ':'). "user@" alone names an ACL
 * user whose password is given elsewhere (the output refuses a user left
 * without one). rediss:// (TLS) is refused with a message saying so.
 * Messages never repeat the password. */
#ifndef REDIS_URL_H
#define REDIS_URL_H

#include <stddef.h>

struct redis_url {
    char host[256];
    int port;
    char path[256]; /* unix socket path, "" for TCP */
    char user[128];
    char password[256];
    int db;
};

/* Parse url into *u. NULL or "" gives the defaults,
 * redis://127.0.0.1:6379/0. Returns 0, or -1 with "redis URL: ..." in
 * errbuf and *u holding the defaults (never half a URL). Never allocates. */
int redis_url_parse(const char *url, struct redis_url *u, char *errbuf, size_t errlen);

/* Parse "host", "host:port", "[v6]" or "[v6]:port" (n bytes at s) into host
 * (hostcap bytes with the NUL) and *port (left as it is when the text has
 * none). Returns 0, or -1 with a message in msg. */
int redis_url_hostport(const char *s, size_t n, char *host, size_t hostcap, int *port, char *msg,
                       size_t msglen);

/* Where the password is in url as written (percent-encoded): *off and
 * *len, bytes from the start of url. Returns 0, or -1 when url carries no
 * password. For scrubbing a command line; never fails otherwise. */
int redis_url_password_span(const char *url, size_t *off, size_t *len);

/* Room for what redis_url_peer() writes: a host, brackets, a port. */
#define REDIS_URL_PEER_LEN 300

/* A server's name for messages: the socket path when path is not empty,
 * else "host:port", or "[v6]:port" for an IPv6 address. Never fails
 * (truncates to len). */
void redis_url_peer(char *buf, size_t len, const char *host, int port, const char *path);

/* Where u points, for messages and reports, without user name or
 * password: "redis://127.0.0.1:6379/0", "redis://[::1]:6379/2" or
 * "unix:///run/redis.sock?db=0". Never fails (truncates to len). */
void redis_url_describe(const struct redis_url *u, char *buf, size_t len);

/* "Sentinel master NAME via HOST:PORT, ..." for the n sentinels (host and
 * port of each) into buf (len bytes, always terminated). */
void redis_url_describe_sentinels(char *buf, size_t len, const char *master,
                                  const struct redis_url *sentinels, size_t n);

#endif
