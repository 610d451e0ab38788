/* spool.h -- durable on-disk spool of records waiting for delivery.
 *
 * When Redis cannot take an alert (down, slow, out of memory, refusing
 * auth, answering an error) the record goes here and is replayed, in order,
 * once Redis accepts writes again -- or at the next start if the sensor
 * stopped first. Records are opaque byte strings (one alert's JSON line).
 *
 * On disk: a directory holding numbered segment files
 * (spool-0000000001.log, ...), append-only, each record framed as
 *     u32 length (little-endian) | u32 CRC-32C of the payload | payload
 * plus a small cursor file naming the segment and offset of the first
 * record not yet acknowledged. A torn record at the end of the last segment
 * (power loss mid-write) is detected by its length/CRC, counted and cut
 * off at open; everything before it is kept. Fully acknowledged segments
 * are deleted.
 *
 * Bounded: at most max_bytes on disk. When a new record does not fit, the
 * policy is SPOOL_DROP_NEWEST (the record is refused and counted; what is
 * already spooled, the oldest evidence, is kept). The caller counts and
 * reports refusals; nothing is dropped silently.
 *
 * Thread-safe: appends (from the packet thread when the queue is full, or
 * from the output thread) and replay (output thread) may interleave.
 *
 * Segments: a new segment starts when the current one would pass
 * max_bytes / 4, clamped to 64 KiB .. 16 MiB (a record larger than that
 * gets a segment of its own). Segment ids only grow; a segment whose
 * records are all acknowledged is unlinked once the reader leaves it.
 *
 * Delivery is at least once. The cursor (spool.cursor: magic "SPC1", u64
 * segment id, u64 offset, u32 CRC-32C of the 20 bytes before, all
 * little-endian) is replaced atomically (temporary file + rename) at open,
 * every SPOOL_CURSOR_EVERY acknowledgements, by spool_sync() and at close;
 * only spool_sync(), open and close fsync it. After a crash, up to
 * SPOOL_CURSOR_EVERY records acknowledged since the last cursor write are
 * replayed at the next start (more if the cursor write itself was lost).
 * Consumers de-duplicate by alert_id. After spool_sync(), nothing
 * acknowledged before it is replayed.
 *
 * Open validates every record. A damaged tail of the last segment (bad
 * length, short, CRC mismatch) is cut off with ftruncate() and counted once
 * in `torn`. Damage in an older segment cannot be cut without losing what
 * follows it in that segment, so the reader skips from the damage to the
 * next segment; spool_skipped() counts those skips (and damage found later
 * by spool_peek(), handled the same way). A missing or damaged cursor, or
 * one not on a record boundary, means "replay from the first record of the
 * oldest segment". A cursor past the end of its segment (the tail was lost
 * with power after the cursor was written) means that segment is done:
 * every record in it lay before the cursor. Segments older than the
 * cursor's are done and unlinked. Files in the directory that are not named
 * like a segment are ignored and left alone. Two processes cannot open the
 * same spool (flock on the directory).
 *
 * Files are created 0600, directories 0700. */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_stats {
    uint64_t appended;     /* records written */
    uint64_t acked;        /* records delivered and released */
    uint64_t refused_full; /* records refused: max_bytes reached */
    uint64_t write_errors; /* records refused: I/O error (disk full...) */
    uint64_t torn;         /* damaged tail records cut off at open */
    uint64_t pending;      /* records on disk not yet acknowledged */
    uint64_t bytes;        /* bytes on disk */
};

/* Open (creating it and its parents if needed) the spool in dir, keeping
 * what a previous run left. Returns NULL with a message naming the path in
 * errbuf. Close with spool_close(). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char *errbuf, size_t errlen);

/* Flush and close. NULL is a no-op. What is pending stays on disk. */
void spool_close(struct spool *s);

/* Append one record (len > 0, at most 1 MiB). Returns 0, -1 when refused
 * because the spool is full, -2 on an I/O error (counted). The record is on
 * disk (written, not necessarily fsynced: spool_sync() for that) when 0 is
 * returned. */
int spool_append(struct spool *s, const void *rec, size_t len);

/* fsync the current segment and the cursor. Returns 0 or -1. */
int spool_sync(struct spool *s);

/* Peek at the oldest pending record: copies up to cap bytes into buf and
 * returns its length (> cap means the buffer was too small, nothing
 * consumed), 0 when nothing is pending, -1 on an I/O error. Repeated peeks
 * without an ack return the same record. */
long spool_peek(struct spool *s, void *buf, size_t cap);

/* Release the record last returned by spool_peek() (it was delivered).
 * Returns 0 or -1. */
int spool_ack(struct spool *s);

/* Counters (a snapshot). */
void spool_get_stats(struct spool *s, struct spool_stats *out);

/* Largest record spool_append() takes. A record of length 0 or above it
 * (or a NULL record) is refused with -2 and counted in write_errors: it
 * could never be written. */
#define SPOOL_RECORD_MAX (1u << 20)

/* Acknowledgements between two cursor writes (the replay window after a
 * crash). */
#define SPOOL_CURSOR_EVERY 256

/* Times the reader skipped the rest of a damaged segment (at open, for a
 * segment older than the last; or in spool_peek()). Never fails. */
uint64_t spool_skipped(struct spool *s);

/* Copy into buf (NUL-terminated, truncated to len) the message of the last
 * I/O error after open, naming the path and the system error; "" when there
 * was none. Never fails. */
void spool_last_error(struct spool *s, char *buf, size_t len);

#endif
