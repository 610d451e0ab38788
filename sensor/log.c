/* log.c -- the sensor's log lines: standard error, or syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_to_syslog; /* set once, before any thread starts */

void log_use_syslog(void)
{
    openlog("egress-sensor", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_to_syslog = 1;
}

void log_close(void)
{
    if (log_to_syslog)
        closelog();
    log_to_syslog = 0;
}

/* Control characters (a newline or an escape sequence in a file name,
 * say) would forge or garble log lines: written as \xNN. In place, cut to
 * len. */
static void log_escape(char *msg, size_t len)
{
    char out[1536];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof(out); p++) {
        if (*p < 0x20 || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    snprintf(msg, len, "%s", out);
}

void log_msg(int prio, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_escape(msg, sizeof(msg));
    if (log_to_syslog)
        syslog(prio, "%s", msg);
    else
        fprintf(stderr, "egress-sensor: %s%s\n", prio == LOG_WARNING ? "warning: " : "", msg);
}

void log_source(void *ud, int prio, const char *msg)
{
    (void)ud;
    log_msg(prio, "%s", msg);
}
