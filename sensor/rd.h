/* rd.h -- bounds-checked reader for packet bytes.
 *
 * Every read of untrusted bytes goes through a struct rd. A read past the end
 * returns 0 and sets r->err; the error is sticky, so a parser may do a run of
 * reads and check r->err once before acting on any of the values. */
#ifndef RD_H
#define RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p; /* borrowed: valid for the duration of one packet */
    size_t len;
    size_t off;
    bool err;
};

static inline void rd_init(struct rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->err = false;
}

/* Bytes left to read; 0 once an error occurred. */
static inline size_t rd_left(const struct rd *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* True when n more bytes can be read; sets err otherwise. */
static inline bool rd_need(struct rd *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return false;
    }
    return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    return r->p[r->off++];
}

static inline uint16_t rd_be16(struct rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return v;
}

static inline uint16_t rd_le16(struct rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->p[r->off + 1] << 8 | r->p[r->off]);
    r->off += 2;
    return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *q = r->p + r->off;
    r->off += 4;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static inline uint32_t rd_le32(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *q = r->p + r->off;
    r->off += 4;
    return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

/* Skip n bytes. */
static inline void rd_skip(struct rd *r, size_t n)
{
    if (rd_need(r, n))
        r->off += n;
}

/* Copy n bytes into dst (dst is zeroed on error). */
static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
    if (!rd_need(r, n)) {
        for (size_t i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = r->p[r->off + i];
    r->off += n;
}

/* Pointer to the current position (valid for rd_left() bytes). */
static inline const uint8_t *rd_ptr(const struct rd *r)
{
    return r->p + r->off;
}

#endif
