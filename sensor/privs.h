/* privs.h -- give up root once the capture devices are open.
 *
 * The order is OpenBSD tcpdump's: open every interface (needs CAP_NET_RAW),
 * then switch to an unprivileged user, then read the first packet. The
 * switch applies to every thread of the process (glibc changes the ids of
 * all threads), so a thread started earlier would be covered too. */
#ifndef PRIVS_H
#define PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct privs_user {
    char name[64];
    uid_t uid;
    gid_t gid; /* the user's primary group */
};

/* Look name up in the user database (a name or a numeric uid). Returns 0,
 * or -1 with a message naming the user in errbuf: no such user, or root
 * (switching to uid 0 would drop nothing). */
int privs_lookup(const char *name, struct privs_user *u, char *errbuf, size_t errlen);

/* Switch the process to u for good: setgroups(0), setgid, setuid, then
 * verify that the real, effective and saved ids are u's, that no
 * supplementary group is left and that setuid(0)/setgid(0) now fail.
 * A process already running as u succeeds without a change. Returns 0, or
 * -1 with a message in errbuf; after a failure the ids may be half changed
 * and the caller must exit. */
int privs_drop(const struct privs_user *u, char *errbuf, size_t errlen);

/* Non-zero when the effective user is root. Cannot fail. */
int privs_running_as_root(void);

#endif
