/* log.h -- the sensor's log lines: standard error, or syslog.
 *
 * One line per call: "egress-sensor: [warning: ]message" on standard
 * error, or the message at its priority to syslog (facility daemon, tagged
 * with the program name and pid) once log_use_syslog() is called. Not for
 * the packet path: it formats. Thread-safe (one write per line). */
#ifndef LOG_H
#define LOG_H

#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO */

/* Send every later line to syslog (--syslog). */
void log_use_syslog(void);

/* Close the syslog connection, if open. */
void log_close(void);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same, in the shape of the capture source's log callback
 * (source_live_open()); ud is unused. */
void log_source(void *ud, int prio, const char *msg);

#endif
