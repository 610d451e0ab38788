/* util.h -- small helpers every module may use; header only. */
#ifndef UTIL_H
#define UTIL_H

/* Elements in an array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
