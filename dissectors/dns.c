/* dns.c -- DNS response parser: (question name, address, TTL) bindings.
 *
 * Format: RFC 1035 section 4 (message, section 4.1.4 name compression),
 * RFC 3596 (AAAA), RFC 9619 (QDCOUNT is 1 for QUERY).
 *
 *   +---------------------+
 *   | header (12 bytes)   |  id, flags, qdcount, ancount, nscount, arcount
 *   | question(s)         |  name, qtype, qclass
 *   | answer RRs          |  name, type, class, ttl, rdlength, rdata
 *   | authority RRs       |
 *   | additional RRs      |
 *   +---------------------+
 *
 * What is accepted, and the bounds on the work done per message:
 *
 *  - Only responses (QR=1) to standard queries (OPCODE=0) are parsed; a
 *    query or another opcode is DNS_NOT_RESPONSE. A response with an RCODE
 *    other than NOERROR is checked for structure and reports nothing.
 *  - The first question's name is the name bindings are reported under.
 *  - At most DNS_MAX_RECORDS resource records (questions included) are
 *    walked; records past that are ignored, not reported as truncation.
 *  - Names: at most DNS_MAX_JUMPS compression pointers; every pointer must
 *    point strictly before the start of the label run that contains it and
 *    past the header, which makes loops impossible and keeps every target
 *    inside the bytes already seen. The encoded name is at most 255 bytes.
 *    Label types 01 and 10 (extended labels, deprecated by RFC 6891
 *    section 5, and reserved) are invalid.
 *  - Label bytes other than letters, digits, '-' and '_' do not make the
 *    message invalid, but such a name never takes part in a binding.
 *  - CNAME chains: starting at the question name, a CNAME record in the
 *    answer section whose owner is the current end of the chain extends it
 *    with its target, at most DNS_MAX_CHAIN steps (a repeated name ends the
 *    chain). Every A or AAAA record of class IN whose owner is on the chain
 *    is a binding of the question name, with that record's own TTL.
 *  - Bindings are reported only once the whole message up to the record
 *    bound has parsed: a truncated or invalid message reports none.
 *
 * All reads of message bytes go through struct rd (rd.h). */
#include "dns.h"

#include <stdbool.h>
#include <string.h>

#include "rd.h"

#define DNS_HDR_LEN 12
#define DNS_MAX_RECORDS 64 /* questions + resource records walked per message */
#define DNS_MAX_CHAIN 16   /* CNAME steps followed from the question name */
#define DNS_MAX_JUMPS 32   /* compression pointers followed per name */
#define DNS_WIRE_MAX 255   /* RFC 1035 2.3.4: encoded name, length octets included */

#define DNS_FLAG_QR 0x8000u
#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

enum name_status {
    NAME_OK = 0,
    NAME_BAD_CHARS, /* well formed, but a label byte is outside [A-Za-z0-9_-] */
    NAME_TRUNCATED, /* the message ends inside the name */
    NAME_INVALID,   /* bad pointer, loop, too long, reserved label type */
};

/* A decoded name: lower-case text without the trailing dot, its length
 * and a hash of the text (to compare names without decoding them again). */
struct dname {
    char text[DNS_NAME_MAX];
    size_t len;
    uint64_t hash;
};

/* What one answer record left after the first pass. Offsets into msg. */
struct rr {
    uint16_t type, cls;
    uint32_t ttl;
    size_t owner_off; /* where the owner name starts */
    size_t rd_off;    /* where the rdata starts */
    uint16_t rdlen;
    uint8_t owner_st;  /* enum name_status of the owner */
    uint8_t target_st; /* CNAME only: enum name_status of the target */
    size_t owner_len, target_len;
    uint64_t owner_hash, target_hash;
};

static bool label_byte_ok(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* FNV-1a, 64 bit: the names compared here are from one message, so a
 * plain hash is enough; equal hashes are confirmed on the text. */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv_byte(uint64_t h, uint8_t c)
{
    return (h ^ c) * FNV_PRIME;
}

/* Decode the name starting at r->off into out (which may be NULL when only
 * its structure, length and hash are wanted). On success r->off is moved
 * past the name's bytes at that place: up to the terminating zero or the
 * first compression pointer. On failure r is left where it was. */
static int read_name(struct rd *r, struct dname *out)
{
    struct rd w = *r;
    size_t seg_start = w.off; /* start of the label run being read */
    size_t resume = 0;        /* r->off after the name, once a pointer was taken */
    bool jumped = false, bad = false;
    unsigned jumps = 0;
    size_t wire = 1; /* the terminating zero octet */
    size_t n = 0;
    uint64_t h = FNV_OFFSET;

    for (;;) {
        uint8_t c = rd_u8(&w);
        if (w.err)
            return NAME_TRUNCATED;
        if (c == 0)
            break;
        if ((c & 0xC0) == 0xC0) {
            uint8_t lo = rd_u8(&w);
            if (w.err)
                return NAME_TRUNCATED;
            size_t target = (size_t)(c & 0x3F) << 8 | lo;
            /* strictly backwards of this run, never into the header: the
             * next run starts earlier than this one, so no loop is possible */
            if (target >= seg_start || target < DNS_HDR_LEN)
                return NAME_INVALID;
            if (++jumps > DNS_MAX_JUMPS)
                return NAME_INVALID;
            if (!jumped) {
                resume = w.off;
                jumped = true;
            }
            w.off = target;
            seg_start = target;
            continue;
        }
        if (c & 0xC0)
            return NAME_INVALID; /* 0x40 / 0x80: extended label types */
        wire += 1 + (size_t)c;
        if (wire > DNS_WIRE_MAX)
            return NAME_INVALID;
        if (!rd_need(&w, c))
            return NAME_TRUNCATED;
        if (n > 0) {
            if (out != NULL)
                out->text[n] = '.';
            h = fnv_byte(h, '.');
            n++;
        }
        for (uint8_t i = 0; i < c; i++) {
            uint8_t b = rd_u8(&w);
            if (!label_byte_ok(b))
                bad = true;
            if (b >= 'A' && b <= 'Z')
                b = (uint8_t)(b - 'A' + 'a');
            if (out != NULL)
                out->text[n] = (char)b;
            h = fnv_byte(h, b);
            n++;
        }
    }
    /* wire <= 255 bounds the text to 253 bytes: it fits with its NUL */
    if (out != NULL) {
        out->text[n] = '\0';
        out->len = n;
        out->hash = h;
    }
    r->off = jumped ? resume : w.off;
    return bad ? NAME_BAD_CHARS : NAME_OK;
}

/* Like read_name() but also hands back the length and hash without the
 * text (for records whose names are only compared, not kept). */
static int scan_name(struct rd *r, size_t *len, uint64_t *hash)
{
    struct dname d;
    int st = read_name(r, &d);
    if (st == NAME_OK || st == NAME_BAD_CHARS) {
        *len = d.len;
        *hash = d.hash;
    }
    return st;
}

static int name_error(int st)
{
    return st == NAME_TRUNCATED ? DNS_TRUNCATED : DNS_INVALID;
}

/* Decode the name at off in msg into out; 0 when it is a usable name. */
static int name_at(const uint8_t *msg, size_t len, size_t off, struct dname *out)
{
    struct rd r;
    rd_init(&r, msg, len);
    r.off = off;
    return read_name(&r, out) == NAME_OK ? 0 : -1;
}

/* The chain of names that lead from the question: chain[0] is the
 * question name, chain[i + 1] the CNAME target of chain[i]. */
struct chain {
    struct dname name[DNS_MAX_CHAIN + 1];
    size_t n;
};

static bool chain_has(const struct chain *ch, size_t len, uint64_t hash, const char *text)
{
    for (size_t i = 0; i < ch->n; i++)
        if (ch->name[i].len == len && ch->name[i].hash == hash &&
            (text == NULL || memcmp(ch->name[i].text, text, len) == 0))
            return true;
    return false;
}

/* Whether the owner of rr is on the chain (hash first, text to confirm). */
static bool owner_on_chain(const uint8_t *msg, size_t len, const struct chain *ch,
                           const struct rr *rr)
{
    if (rr->owner_st != NAME_OK || !chain_has(ch, rr->owner_len, rr->owner_hash, NULL))
        return false;
    struct dname d;
    if (name_at(msg, len, rr->owner_off, &d) != 0)
        return false;
    return chain_has(ch, d.len, d.hash, d.text);
}

/* Whether the owner of rr is exactly the last name of the chain. */
static bool owner_is_last(const uint8_t *msg, size_t len, const struct chain *ch,
                          const struct rr *rr)
{
    const struct dname *last = &ch->name[ch->n - 1];
    if (rr->owner_st != NAME_OK || rr->owner_len != last->len || rr->owner_hash != last->hash)
        return false;
    struct dname d;
    if (name_at(msg, len, rr->owner_off, &d) != 0)
        return false;
    return d.len == last->len && memcmp(d.text, last->text, d.len) == 0;
}

static void follow_cnames(const uint8_t *msg, size_t len, const struct rr *rrs, size_t nrr,
                          struct chain *ch)
{
    while (ch->n <= DNS_MAX_CHAIN) {
        bool moved = false;
        for (size_t i = 0; i < nrr && !moved; i++) {
            const struct rr *rr = &rrs[i];
            if (rr->type != DNS_TYPE_CNAME || rr->cls != DNS_CLASS_IN || rr->target_st != NAME_OK ||
                !owner_is_last(msg, len, ch, rr))
                continue;
            struct dname *next = &ch->name[ch->n];
            if (name_at(msg, len, rr->rd_off, next) != 0 || next->len == 0)
                return;
            if (chain_has(ch, next->len, next->hash, next->text))
                return; /* a CNAME loop: the chain so far stands */
            ch->n++;
            moved = true;
        }
        if (!moved)
            return;
    }
}

/* Skip one resource record's fixed part and rdata (authority, additional). */
static int skip_rr(struct rd *r)
{
    int st = read_name(r, NULL);
    if (st == NAME_TRUNCATED || st == NAME_INVALID)
        return name_error(st);
    rd_skip(r, 8); /* type, class, ttl */
    uint16_t rdlen = rd_be16(r);
    rd_skip(r, rdlen);
    return r->err ? DNS_TRUNCATED : DNS_OK;
}

/* Parse a DNS response and call cb (when not NULL) once per binding, in
 * answer order, after the whole message parsed: a message that ends up
 * DNS_TRUNCATED or DNS_INVALID reports none. The name and addr handed to cb
 * live on this function's stack: cb copies what it keeps. msg is only
 * read, nothing is allocated. */
int dis_dns_parse_response(const uint8_t *msg, size_t len, dns_binding_cb cb, void *ud)
{
    struct rd r;
    rd_init(&r, msg, len);
    rd_skip(&r, 2); /* id */
    uint16_t flags = rd_be16(&r);
    uint16_t qdcount = rd_be16(&r);
    uint16_t ancount = rd_be16(&r);
    uint16_t nscount = rd_be16(&r);
    uint16_t arcount = rd_be16(&r);
    if (r.err)
        return DNS_TRUNCATED;
    if (!(flags & DNS_FLAG_QR) || ((flags >> 11) & 0xF) != 0)
        return DNS_NOT_RESPONSE;
    unsigned budget = DNS_MAX_RECORDS;

    /* question section: the first name is kept, the rest only walked */
    struct chain ch;
    ch.n = 0;
    int qst = NAME_INVALID;
    for (unsigned i = 0; i < qdcount && budget > 0; i++, budget--) {
        int st = read_name(&r, i == 0 ? &ch.name[0] : NULL);
        if (st == NAME_TRUNCATED || st == NAME_INVALID)
            return name_error(st);
        if (i == 0)
            qst = st;
        rd_skip(&r, 4); /* qtype, qclass */
        if (r.err)
            return DNS_TRUNCATED;
    }

    /* answer section: first pass, structure only */
    struct rr rrs[DNS_MAX_RECORDS];
    size_t nrr = 0;
    for (unsigned i = 0; i < ancount && budget > 0; i++, budget--) {
        struct rr *rr = &rrs[nrr];
        memset(rr, 0, sizeof(*rr));
        rr->target_st = NAME_INVALID;
        rr->owner_off = r.off;
        int st = scan_name(&r, &rr->owner_len, &rr->owner_hash);
        if (st == NAME_TRUNCATED || st == NAME_INVALID)
            return name_error(st);
        rr->owner_st = (uint8_t)st;
        rr->type = rd_be16(&r);
        rr->cls = rd_be16(&r);
        rr->ttl = rd_be32(&r);
        rr->rdlen = rd_be16(&r);
        rr->rd_off = r.off;
        if (!rd_need(&r, rr->rdlen))
            return DNS_TRUNCATED;
        if (rr->cls == DNS_CLASS_IN) {
            if ((rr->type == DNS_TYPE_A && rr->rdlen != 4) ||
                (rr->type == DNS_TYPE_AAAA && rr->rdlen != 16))
                return DNS_INVALID;
            if (rr->type == DNS_TYPE_CNAME) {
                struct rd t = r;
                st = scan_name(&t, &rr->target_len, &rr->target_hash);
                if (st == NAME_TRUNCATED || st == NAME_INVALID)
                    return DNS_INVALID; /* the rdata is all there: it is bad */
                if (t.off != rr->rd_off + rr->rdlen)
                    return DNS_INVALID; /* the name does not fill the rdata */
                rr->target_st = (uint8_t)st;
            }
        }
        rd_skip(&r, rr->rdlen);
        nrr++;
    }

    /* authority and additional: walked for structure, within the budget */
    unsigned rest = (unsigned)nscount + arcount;
    for (unsigned i = 0; i < rest && budget > 0; i++, budget--) {
        int rc = skip_rr(&r);
        if (rc != DNS_OK)
            return rc;
    }

    if ((flags & 0xF) != 0 || qdcount == 0 || qst != NAME_OK || ch.name[0].len == 0)
        return DNS_OK; /* an error answer, or no usable question name */
    ch.n = 1;
    follow_cnames(msg, len, rrs, nrr, &ch);

    for (size_t i = 0; i < nrr; i++) {
        const struct rr *rr = &rrs[i];
        if (rr->cls != DNS_CLASS_IN || (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA))
            continue;
        if (!owner_on_chain(msg, len, &ch, rr))
            continue;
        uint8_t addr[16];
        struct rd a;
        rd_init(&a, msg, len);
        a.off = rr->rd_off;
        rd_copy(&a, addr, rr->rdlen);
        if (a.err)
            continue;
        if (cb != NULL)
            cb(ch.name[0].text, rr->type == DNS_TYPE_A ? 4 : 6, addr, rr->ttl, ud);
    }
    return DNS_OK;
}

/* Opcodes in use (IANA "DNS OpCodes"): QUERY, IQUERY, STATUS, NOTIFY,
 * UPDATE, DSO. 3 and 7-15 are unassigned. */
static bool opcode_known(unsigned op)
{
    return op <= 6 && op != 3;
}

/* Classes a unicast DNS question carries: IN, CH, HS, NONE, ANY. The top
 * bit is mDNS's unicast-response flag (RFC 6762 5.4). */
static bool qclass_known(uint16_t cls)
{
    cls &= 0x7FFF;
    return cls == 1 || cls == 3 || cls == 4 || cls == 254 || cls == 255;
}

/* 1 when msg has a DNS header with a known opcode and exactly one
 * question whose name, type and class parse (label bytes are not judged
 * here: odd names are still DNS), 0 otherwise. Never fails. */
int dis_dns_looks_like_dns(const uint8_t *msg, size_t len)
{
    struct rd r;
    rd_init(&r, msg, len);
    rd_skip(&r, 2); /* id */
    uint16_t flags = rd_be16(&r);
    uint16_t qdcount = rd_be16(&r);
    rd_skip(&r, 6); /* ancount, nscount, arcount */
    if (r.err || !opcode_known((flags >> 11) & 0xF) || qdcount != 1)
        return 0;
    int st = read_name(&r, NULL);
    if (st != NAME_OK && st != NAME_BAD_CHARS)
        return 0;
    uint16_t qtype = rd_be16(&r);
    uint16_t qclass = rd_be16(&r);
    if (r.err || qtype == 0 || !qclass_known(qclass))
        return 0;
    return 1;
}
