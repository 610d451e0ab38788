/* reload.h -- SIGHUP: a new configuration and signature pack for a running
 * sensor, without losing flow state.
 *
 * The thread that takes the signal calls reloader_load(): it re-reads the
 * configuration file the sensor started with and the signature pack it
 * names. Nothing changes unless both load cleanly: a bad file is refused
 * with its message and the running configuration and pack stay. A good
 * pair is published as a new generation, and each worker switches to it
 * at its next tick (reloader_apply(), on the worker's own thread, so the
 * packet path takes no lock). The previous generation is freed once every
 * worker has moved on (reloader_collect()).
 *
 * What a running sensor takes from a reload: the signature pack, home_net,
 * home_countries and alerts.suppress_window. Every other key (table sizes,
 * outputs, Redis, geo databases, the sensor name) sizes or opens something
 * at start: a changed value is reported as waiting for the next start. */
#ifndef RELOAD_H
#define RELOAD_H

#include <stddef.h>

struct sensor_config;
struct sig_pack;
struct pipeline;
struct alert_sink;
struct reloader;

enum { RELOAD_DONE = 0, RELOAD_REFUSED = -1, RELOAD_BUSY = -2 };

/* For n workers running with cfg (the caller's, kept until the reloader is
 * freed) and pack (taken over: the reloader frees it, possibly early once
 * a reload replaces it; NULL = detection off). Returns NULL when out of
 * memory. */
struct reloader *reloader_new(const struct sensor_config *cfg, struct sig_pack *pack, unsigned n);

/* Free the reloader and the packs and configurations it holds. Every
 * pipeline and the sink that used them must be gone. NULL is a no-op. */
void reloader_free(struct reloader *r);

/* Re-read the configuration file (cfg->source; "" = built-in defaults)
 * and the signature pack.
 *   RELOAD_DONE: published, and the sink reconfigured; msg says what runs
 *     once every worker has taken it (reloader_collect()), restart lists
 *     the keys whose new value waits for the next start ("" none).
 *   RELOAD_REFUSED: msg gives the file, line and reason; nothing changed.
 *   RELOAD_BUSY: a worker has not yet taken the previous reload; try
 *     again after its next tick. */
int reloader_load(struct reloader *r, struct alert_sink *sink, char *msg, size_t msg_len,
                  char *restart, size_t restart_len);

/* On worker i's thread: switch pl to the newest generation if it has not
 * yet. Costs one atomic load when there is nothing new. */
void reloader_apply(struct reloader *r, unsigned i, struct pipeline *pl);

/* On the thread that calls reloader_load(): the newest generation's
 * configuration and signature pack (NULL: detection off), borrowed until
 * that thread's next reloader_load() or reloader_free(). For what reads
 * them beside the workers (the live report). Cannot fail. */
void reloader_current(const struct reloader *r, const struct sensor_config **cfg,
                      const struct sig_pack **pack);

/* Free the previous generation if every worker has left it. Returns 1
 * the first time it finds a reload taken by every worker (then it is in
 * effect everywhere), else 0. */
int reloader_collect(struct reloader *r);

#endif
