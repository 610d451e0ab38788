/* match-domain.h -- case-insensitive domain matching on label boundaries.
 *
 * Patterns are exact names ("update.fortiguard.net"), suffix patterns
 * ("*.fortiguard.net", matching "fortiguard.net" itself and every name that
 * ends in ".fortiguard.net"), or label-prefix patterns
 * ("dc-*.traps.paloaltonetworks.com", matching a name of exactly one more
 * label that starts with "dc-", e.g. "dc-acme.traps.paloaltonetworks.com"). Compiled once; a lookup
 * walks the name's labels from the right, so its cost depends on the name, not on the number of
 * patterns. Trailing dots are ignored on both sides. */
#ifndef MATCH_DOMAIN_H
#define MATCH_DOMAIN_H

#include <stddef.h>

struct domain_matcher;

/* Create an empty matcher. NULL on allocation failure. */
struct domain_matcher *dm_new(void);

/* Free it. NULL is a no-op. */
void dm_free(struct domain_matcher *m);

/* Add a pattern with a caller value (not NULL). Returns 0, or -1 with a
 * message in errbuf for an invalid pattern (empty label, bad character,
 * '*' anywhere but a leading "*." or the end of a leading "prefix*.",
 * longer than 253 bytes) or ENOMEM.
 * Adding the same pattern again returns 1 and keeps the first value. */
int dm_add(struct domain_matcher *m, const char *pattern, void *value, char *errbuf, size_t errlen);

/* Look name up. Calls cb(value, pattern, ud) for every pattern that matches,
 * most specific first (an exact name, then label-prefix patterns, then
 * suffixes, longer before shorter), and returns how many matched. Never allocates. */
typedef void (*dm_cb)(void *value, const char *pattern, void *ud);
size_t dm_match(const struct domain_matcher *m, const char *name, dm_cb cb, void *ud);

/* Whether the text is a valid pattern (see dm_add). */
int dm_valid(const char *pattern);

/* The value added with pattern (compared as dm_add normalises it: case and a
 * trailing dot do not matter), or NULL when it was never added or is not a
 * valid pattern. Never allocates, cannot fail. */
void *dm_get(const struct domain_matcher *m, const char *pattern);

#endif
