/* spool.h -- durable on-disk spool of records waiting for delivery.
 *
 * When Redis cannot take an alert (down, slow, out of memory, refusing
 * auth, answering an error) the record goes here and is replayed, in order,
 * once Redis accepts writes again -- or at the next start if the sensor
 * stopped first. Records are opaque byte strings (an alert record as
 * output-redis.h encodes it).
 *
 * On disk: a directory holding numbered segment files
 * (spool-0000000001.log, ...), append-only, and a small cursor file naming
 * the segment and offset of the first record not yet acknowledged. Files
 * are created 0600, directories 0700.
 *
 * Frames, format 2 (every segment this version writes), 16-byte header:
 *     magic "\xffSR2" | u32 length | u32 CRC-32C of the payload
 *     | u32 CRC-32C of the 12 header bytes before it | payload
 * all little-endian, length 1 .. SPOOL_RECORD_MAX. The magic and the header
 * CRC let a reader find the next intact frame after damage without trusting
 * any length it read.
 * Format 1 (segments of earlier versions), 8-byte header:
 *     u32 length | u32 CRC-32C of the payload | payload
 * A segment is format 1 when it does not start with a format 2 frame and no
 * format 2 frame is found in it (a format 2 length field can never read as
 * a format 1 length: the magic is above SPOOL_RECORD_MAX as a u32). Format
 * 1 segments are read, and resynchronised, as before; appends never go to
 * one: after an upgrade the first append starts a new, format 2, segment,
 * and the old segments are deleted as they are replayed. That is the
 * migration.
 *
 * Damage. Open validates every frame of every segment. Where a frame is
 * damaged (bad header, bad length, CRC mismatch, cut short), the reader
 * resynchronises: it scans forward for the next position where an intact
 * frame starts (format 2: magic, header CRC, length within the segment,
 * payload CRC; format 1: a plausible length and a matching CRC) and goes on
 * from there, so every intact record is delivered. The damaged region is
 * lost: counted in `damaged` (records: the frames whose header survived in
 * it, at least one per region), `damaged_bytes` and `damaged_regions`, and
 * described (segment, offset, bytes, records) by spool_damage(). Damage
 * found at open is counted at open, by every open while the segment is on
 * disk; damage that appears under an open spool is counted when the reader
 * meets it. A damaged region that runs to the end of the last segment is a
 * torn tail (power lost mid-write): cut off with ftruncate() and counted in
 * `torn` instead. Nothing is dropped silently.
 *
 * Bounded: at most max_bytes on disk. When a new record does not fit, it is
 * refused (SPOOL_FULL) and counted; what is already spooled, the oldest
 * evidence, is kept. A file system that is full is not the spool being
 * full: that append fails with SPOOL_NOSPACE, counted in `no_space`, with
 * the path and the system error in spool_last_error().
 *
 * A full file system does not stop a spool from opening: open writes
 * nothing it cannot do without (the cursor is rewritten at open only when
 * it can be; a new segment is created only by the first append), so a
 * sensor starting on a full disk delivers the spool and frees the space.
 *
 * Segments: a new segment starts when the current one would pass
 * max_bytes / 4, clamped to 64 KiB .. 16 MiB (a record larger than that
 * gets a segment of its own). Segment ids only grow; a segment whose
 * records are all acknowledged is unlinked once the reader leaves it, the
 * last one too once it is all read: a drained spool holds no segment.
 *
 * Reading. spool_read() returns the records in order, each once, without
 * releasing them, so a caller can send a batch; spool_ack() releases the
 * oldest record read and not yet released; spool_rewind() makes the reader
 * start again at the oldest unreleased record (after a failed send).
 *
 * Delivery is at least once. The cursor (spool.cursor: magic "SPC1", u64
 * segment id, u64 offset, u32 CRC-32C of the 20 bytes before, all
 * little-endian) is replaced atomically (temporary file + rename) at open,
 * every SPOOL_CURSOR_EVERY acknowledgements, by spool_sync() and at close;
 * only spool_sync(), open and close fsync it. After a crash, up to
 * SPOOL_CURSOR_EVERY records acknowledged since the last cursor write are
 * replayed at the next start (more if the cursor write itself was lost).
 * Consumers de-duplicate by alert_id. After spool_sync(), nothing
 * acknowledged before it is replayed. A missing or damaged cursor, or one
 * not on a record boundary, means "replay from the first record of the
 * oldest segment". A cursor past the end of its segment (the tail was lost
 * with power after the cursor was written) means that segment is done.
 * Segments older than the cursor's are done and unlinked. Files in the
 * directory that are not named like a segment are ignored and left alone.
 * Two processes cannot open the same spool (flock on the directory).
 *
 * Thread-safe: appends (from the packet thread when the queue is full, or
 * from the output thread) and reading (output thread) may interleave. */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_stats {
    uint64_t appended;        /* records written */
    uint64_t acked;           /* records delivered and released */
    uint64_t refused_full;    /* appends refused: max_bytes reached */
    uint64_t no_space;        /* appends refused: the file system is full */
    uint64_t write_errors;    /* appends refused: another I/O error, or a bad length */
    uint64_t torn;            /* damaged tail records cut off at open */
    uint64_t damaged;         /* records lost to damage (at least one per region) */
    uint64_t damaged_bytes;   /* bytes of the damaged regions skipped */
    uint64_t damaged_regions; /* damaged regions found */
    uint64_t pending;         /* records on disk not yet acknowledged */
    uint64_t bytes;           /* bytes on disk */
};

/* Where damage was found (spool_damage()). */
struct spool_damage {
    uint64_t segment; /* id: spool-<id, 10 digits>.log */
    uint64_t offset;  /* of the first damaged byte in it */
    uint64_t bytes;   /* skipped */
    uint64_t records; /* lost (frames whose header survived; at least 1) */
};

/* Frame header sizes, formats 2 and 1 (above). */
#define SPOOL_HDR_LEN 16
#define SPOOL_HDR_LEN_V1 8

/* Largest record spool_append() takes. */
#define SPOOL_RECORD_MAX (1u << 20)

/* Acknowledgements between two cursor writes (the replay window after a
 * crash). */
#define SPOOL_CURSOR_EVERY 256

/* spool_last_error() messages fit in this many bytes. */
#define SPOOL_ERROR_LEN 320

/* Damage descriptions kept for spool_damage() (counters count them all). */
#define SPOOL_DAMAGE_KEEP 16

/* spool_append() results. */
enum {
    SPOOL_OK = 0,
    SPOOL_FULL = -1,    /* max_bytes reached (refused_full) */
    SPOOL_IO = -2,      /* an I/O error, or a length outside 1 .. SPOOL_RECORD_MAX */
    SPOOL_NOSPACE = -3, /* the file system is full (no_space) */
};

/* Open (creating it and its parents, 0700, if needed) the spool in dir,
 * keeping and validating what a previous run left. Returns NULL with a
 * message naming the path in errbuf, nothing left open or allocated. Close
 * with spool_close(). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char *errbuf, size_t errlen);

/* Whether spool_open() could use dir, checked without changing anything
 * and without taking the spool's lock (--check-config): an existing folder
 * this process may read, write and enter, or a missing one whose nearest
 * existing parent it may write into. Returns 0, or -1 with a message
 * naming the path in errbuf. */
int spool_check(const char *dir, char *errbuf, size_t errlen);

/* Sync (as spool_sync()) and close; frees s. NULL is a no-op. What is
 * pending stays on disk. Errors while syncing are not reported. */
void spool_close(struct spool *s);

/* Append one record (len 1 .. SPOOL_RECORD_MAX; rec is only read).
 * Returns SPOOL_OK when it is on disk (written, not necessarily fsynced:
 * spool_sync() for that), else SPOOL_FULL, SPOOL_NOSPACE or SPOOL_IO,
 * counted. After a failure the spool is as before: a partly written record
 * is truncated away, or, when that fails too, the next append starts a new
 * segment. */
int spool_append(struct spool *s, const void *rec, size_t len);

/* fsync the segments written since the last sync, then the cursor and the
 * directory. Returns 0, or -1 (spool_last_error()); what could be synced
 * was. */
int spool_sync(struct spool *s);

/* The next record after those read and not yet acknowledged, verified
 * against its CRC (damage is skipped, see above): copies it into buf and
 * returns its length; 0 when there is none; -1 on an I/O error. A record
 * longer than cap is not read: its length is returned (> cap) and the next
 * call returns it again. */
long spool_read(struct spool *s, void *buf, size_t cap);

/* Release the oldest record read and not yet released (it was delivered).
 * Every SPOOL_CURSOR_EVERY acknowledgements the cursor is rewritten (not
 * fsynced; a failure there is kept for spool_last_error() and does not fail
 * the ack). A segment left behind is unlinked. Returns 0, or -1 when no
 * record was read since the last release. */
int spool_ack(struct spool *s);

/* Forget the records read and not released: the next spool_read() starts
 * again at the oldest pending record. Never fails. */
void spool_rewind(struct spool *s);

/* spool_rewind(), then spool_read() of the oldest pending record, except
 * that a record longer than cap is taken as read anyway (partly copied), so
 * spool_ack() can drop it. Repeated peeks without an ack return the same
 * record. */
long spool_peek(struct spool *s, void *buf, size_t cap);

/* A snapshot of the counters. Never fails. */
void spool_get_stats(struct spool *s, struct spool_stats *out);

/* The i-th damage found (0 = the first), i < min(damaged_regions,
 * SPOOL_DAMAGE_KEEP). Returns 0, or -1 when there is no such entry. */
int spool_damage(struct spool *s, size_t i, struct spool_damage *out);

/* Copy into buf (NUL-terminated, truncated to len) the message of the last
 * I/O error, naming the path and the system error; "" when there was none.
 * Never fails. */
void spool_last_error(struct spool *s, char *buf, size_t len);

#endif
