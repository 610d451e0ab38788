/* conf-file.h -- what the two libconfig readers (sensor configuration and
 * signature pack) share: reading a file, "FILE:LINE: message" errors, type
 * names, near-miss suggestions, and the scan for integer literals that
 * libconfig 1.5 would silently wrap. */
#ifndef CONF_FILE_H
#define CONF_FILE_H

#include <stddef.h>

#include <libconfig.h>

/* Files larger than this are refused. */
#define CF_FILE_MAX (16u << 20)

/* "FILE:LINE: message" (or "FILE: message" for line 0) into errbuf (may be
 * NULL). Returns -1, so that callers can write return cf_msg(...). */
int cf_msg(char *errbuf, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The same about setting s, at the file and line libconfig recorded for it
 * (fallback_file when it recorded none). Returns -1. */
int cf_setting_err(char *errbuf, size_t errlen, const char *fallback_file,
                   const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "an integer", "a string", "a group", ... */
const char *cf_type_name(const config_setting_t *s);

/* Case-insensitive edit distance counting a swap of two neighbours as one
 * edit ("tpc" -> "tcp" is 1). Names longer than 63 bytes are never close
 * (UINT_MAX). */
unsigned cf_distance(const char *a, size_t la, const char *b, size_t lb);

/* Read path (the whole file, bounded in size) and parse it into lc, which this initialises.
 * Returns 0 with *text holding the file (for checks of the raw text); the
 * caller config_destroy()s lc and frees *text. Returns -1 with
 * "FILE:LINE: message" in errbuf, lc destroyed and nothing to free. */
int cf_parse_file(const char *path, config_t *lc, char **text, char *errbuf, size_t errlen);

/* An integer literal as libconfig would read it, for range checks that
 * libconfig 1.5 skips. Returns 1 and fills *value (magnitude) and
 * *negative for a plain (32-bit, not L-suffixed) decimal or hex integer;
 * 0 for anything else (a float, a 64-bit literal, not a number). The
 * magnitude saturates at 2^63. */
int cf_int_literal(const char *p, const char *end, unsigned long long *value, int *negative);

/* Find the first number literal outside comments and strings for which
 * bad(start, end) is true. Returns 1 with its line, start and length, or 0
 * when there is none. Meant for text libconfig has already parsed. */
int cf_find_int(const char *text, int (*bad)(const char *p, const char *end), unsigned *line,
                const char **start, size_t *len);

#endif
