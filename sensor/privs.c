/* privs.c -- switch to an unprivileged user after opening the interfaces. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int privs_lookup(const char *name, struct privs_user *u, char *errbuf, size_t errlen)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    memset(u, 0, sizeof(*u));
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(u->name)) {
        snprintf(errbuf, errlen, "--user: a user name is needed");
        return -1;
    }
    errno = 0;
    int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
    if (res == NULL) {
        char *end;
        unsigned long id = strtoul(name, &end, 10);
        if (*end == '\0' && end != name)
            rc = getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res);
    }
    if (res == NULL) {
        snprintf(errbuf, errlen, "--user %s: %s", name, rc != 0 ? strerror(rc) : "no such user");
        return -1;
    }
    if (pw.pw_uid == 0) {
        snprintf(errbuf, errlen,
                 "--user %s: that is root, which keeps every privilege; name an unprivileged "
                 "user (egress-sensor, nobody)",
                 name);
        return -1;
    }
    snprintf(u->name, sizeof(u->name), "%s", name);
    u->uid = pw.pw_uid;
    u->gid = pw.pw_gid;
    return 0;
}

int privs_drop(const struct privs_user *u, char *errbuf, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0 && ru == u->uid &&
        eu == u->uid && su == u->uid && rg == u->gid && eg == u->gid && sg == u->gid && u->uid != 0)
        return 0; /* already there (started as that user) */
    if (setgroups(0, NULL) < 0) {
        snprintf(errbuf, errlen, "--user %s: setgroups: %s", u->name, strerror(errno));
        return -1;
    }
    if (setgid(u->gid) < 0) {
        snprintf(errbuf, errlen, "--user %s: setgid(%u): %s", u->name, (unsigned)u->gid,
                 strerror(errno));
        return -1;
    }
    if (setuid(u->uid) < 0) {
        snprintf(errbuf, errlen, "--user %s: setuid(%u): %s", u->name, (unsigned)u->uid,
                 strerror(errno));
        return -1;
    }
    if (u->uid == 0)
        return 0; /* asked to stay root: nothing to verify */

    /* Verify: every id is the user's, no group left, root is gone. */
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != u->uid ||
        eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid || sg != u->gid) {
        snprintf(errbuf, errlen, "--user %s: user or group ids not all changed", u->name);
        return -1;
    }
    if (getgroups(0, NULL) != 0) {
        snprintf(errbuf, errlen, "--user %s: supplementary groups still set", u->name);
        return -1;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        snprintf(errbuf, errlen, "--user %s: root could be regained after the switch", u->name);
        return -1;
    }
    if (u->gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
        snprintf(errbuf, errlen, "--user %s: group 0 could be regained after the switch", u->name);
        return -1;
    }
    return 0;
}

int privs_running_as_root(void)
{
    return geteuid() == 0;
}
