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

void log_msg(int prio, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
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
