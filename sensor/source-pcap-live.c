/* source-pcap-live.c -- live capture: several interfaces, one thread, one pipeline.
 *
 * Each interface is a libpcap handle created with pcap_create() and
 * activated with our snap length, promiscuous mode, kernel buffer and a
 * 100 ms timeout (immediate mode off). On Linux, libpcap (1.5 and later)
 * captures through a TPACKET_V3 memory-mapped ring by default: the kernel
 * fills blocks of packets and hands a block over when it is full or when
 * the timeout expires, so a quiet link still delivers within 100 ms. The
 * buffer size is the size of that ring.
 *
 * The handles are non-blocking; one poll() over their selectable
 * descriptors wakes the loop, and pcap_dispatch() reads at most
 * DISPATCH_BATCH packets per interface per round so one busy interface
 * cannot starve the others, the clock or a stop request.
 *
 * Time. Flows are keyed to packet time (pipeline.c). On a live link packet
 * time follows the wall clock, so once a second the loop calls
 * pipeline_tick() with the wall clock, which ends idle flows on a quiet
 * link. The tick lags the clock by TICK_LAG_US (packets may wait in a ring
 * block that long before we see them), is never earlier than a packet
 * already seen, and is only taken from the wall clock when the rings were
 * drained in the last round: under a backlog, packet time drives expiry. */
#include "source-pcap-live.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include "decode.h"
#include "pipeline.h"
#include "util.h"

static const struct ctr_desc capture_desc[] = {
    CAPTURE_COUNTERS(CTR_DESC, struct source_live_stats)};
const struct ctr_table capture_counters = {capture_desc, ARRAY_SIZE(capture_desc)};

#define READ_TIMEOUT_MS 100
#define POLL_TIMEOUT_MS 250
#define DISPATCH_BATCH 1024
#define TICK_US 1000000u
#define TICK_LAG_US 1000000u
#define ERR_POLLS_MAX 10 /* error reported by poll() but not by libpcap */
#define MIN_TIMER_MS 20  /* floor for libpcap's required select timeout */

struct live_if {
    char name[64];
    pcap_t *p; /* NULL once lost */
    int fd;
    int dlt;
    int pending;   /* last dispatch filled its batch: more may be waiting */
    int timer;     /* libpcap wants a call every round (required select timeout) */
    int down;      /* reported as down */
    int err_polls; /* consecutive POLLERR rounds that read nothing */
    struct pipeline *pl;
    uint64_t packets, bytes;
    struct pcap_stat last;              /* latest pcap_stats(): 32-bit, may wrap */
    uint64_t received, drops, if_drops; /* summed deltas of last */
};

struct source_live {
    struct live_if *ifs;
    unsigned n;
    unsigned lost;
    source_live_log_cb log;
    void *ud;
};

static void src_log(struct source_live *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void src_log(struct source_live *s, int prio, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (s->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log(s->ud, prio, msg);
}

/* The message for a pcap_activate() error, naming the interface. */
static void activate_error(const char *name, int rc, pcap_t *p, char *errbuf, size_t errlen)
{
    const char *detail = pcap_geterr(p);
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(errbuf, errlen, "%s: no such device", name);
        break;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(errbuf, errlen,
                 "%s: permission denied: live capture needs root or CAP_NET_RAW (%s)", name,
                 detail);
        break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(errbuf, errlen, "%s: permission denied to enter promiscuous mode", name);
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(errbuf, errlen, "%s: interface is down", name);
        break;
    default:
        snprintf(errbuf, errlen, "%s: cannot capture: %s", name,
                 detail[0] ? detail : pcap_statustostr(rc));
        break;
    }
}

/* Create and activate one interface; on failure errbuf names it. */
static int open_one(struct source_live *s, struct live_if *li, const struct source_live_config *cfg,
                    unsigned index, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(li->name, perr);
    if (p == NULL) {
        snprintf(errbuf, errlen, "%s: cannot capture: %s", li->name, perr);
        return -1;
    }
    if (pcap_set_snaplen(p, cfg->snaplen) != 0 || pcap_set_promisc(p, 1) != 0 ||
        pcap_set_buffer_size(p, (int)(cfg->buffer_mb * 1024u * 1024u)) != 0 ||
        pcap_set_timeout(p, READ_TIMEOUT_MS) != 0 || pcap_set_immediate_mode(p, 0) != 0 ||
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
        snprintf(errbuf, errlen, "%s: cannot set capture parameters", li->name);
        goto fail;
    }
    int rc = pcap_activate(p);
    if (rc < 0) {
        activate_error(li->name, rc, p, errbuf, errlen);
        goto fail;
    }
    if (rc > 0) /* a warning: capture works, perhaps not as asked */
        src_log(s, LOG_WARNING, "%s: %s%s%s", li->name, pcap_statustostr(rc),
                pcap_geterr(p)[0] ? ": " : "", pcap_geterr(p));
    if (cfg->fanout_group != 0) {
        /* One group per interface: the kernel hashes each packet's flow
         * (both directions alike) to one socket of the group, so a flow
         * always reaches the same worker. Not PACKET_FANOUT_FLAG_DEFRAG:
         * it hands over reassembled datagrams and silently loses the
         * fragments it cannot complete. IP fragments carry no ports, so the
         * kernel hashes them by address pair: a flow's fragmented datagrams
         * may reach another worker than its other packets. */
        unsigned id = (cfg->fanout_group + index) & 0xffffu;
        int arg = (int)(id | (unsigned)PACKET_FANOUT_HASH << 16);
        if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
            snprintf(errbuf, errlen, "%s: cannot join fanout group %u: %s", li->name, id,
                     strerror(errno));
            goto fail;
        }
    }
    li->dlt = pcap_datalink(p);
    if (!decode_link_supported(li->dlt)) {
        const char *dn = pcap_datalink_val_to_name(li->dlt);
        snprintf(errbuf, errlen, "%s: unsupported link type %d (%s)", li->name, li->dlt,
                 dn ? dn : "unknown");
        goto fail;
    }
    if (cfg->bpf != NULL && cfg->bpf[0] != '\0') {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, cfg->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(errbuf, errlen, "%s: filter \"%s\": %s", li->name, cfg->bpf, pcap_geterr(p));
            goto fail;
        }
        int r = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (r < 0) {
            snprintf(errbuf, errlen, "%s: filter \"%s\": %s", li->name, cfg->bpf, pcap_geterr(p));
            goto fail;
        }
    }
    if (pcap_setnonblock(p, 1, perr) < 0) {
        snprintf(errbuf, errlen, "%s: cannot make non-blocking: %s", li->name, perr);
        goto fail;
    }
    li->fd = pcap_get_selectable_fd(p);
    if (li->fd < 0) {
        snprintf(errbuf, errlen, "%s: no selectable descriptor for this device", li->name);
        goto fail;
    }
    li->p = p;
    return 0;

fail:
    pcap_close(p);
    return -1;
}

struct source_live *source_live_open(const struct source_live_config *cfg, source_live_log_cb log,
                                     void *ud, char *errbuf, size_t errlen)
{
    if (cfg->n_ifaces == 0 || cfg->n_ifaces > SRC_LIVE_MAX_IFACES) {
        snprintf(errbuf, errlen, "between 1 and %d interfaces", SRC_LIVE_MAX_IFACES);
        return NULL;
    }
    struct source_live *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->ifs = calloc(cfg->n_ifaces, sizeof(*s->ifs))) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        free(s);
        return NULL;
    }
    s->log = log;
    s->ud = ud;
    for (unsigned i = 0; i < cfg->n_ifaces; i++) {
        struct live_if *li = &s->ifs[i];
        if (strlen(cfg->ifaces[i]) >= sizeof(li->name)) {
            snprintf(errbuf, errlen, "%.64s...: interface name too long", cfg->ifaces[i]);
            goto fail;
        }
        snprintf(li->name, sizeof(li->name), "%s", cfg->ifaces[i]);
        li->fd = -1;
        s->n = i + 1;
        if (open_one(s, li, cfg, i, errbuf, errlen) < 0)
            goto fail;
    }
    return s;

fail:
    source_live_free(s);
    return NULL;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct live_if *li = (struct live_if *)user;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    pipeline_packet(li->pl, li->dlt, ts, data, h->caplen, h->len);
    li->packets++;
    li->bytes += h->len;
}

/* Fold the latest pcap_stats() into 64-bit totals (libpcap's counters are
 * u_int and wrap on a busy link; a difference of unsigned values survives
 * one wrap between two reads). */
static void read_stats(struct live_if *li)
{
    struct pcap_stat ps;
    if (li->p == NULL || pcap_stats(li->p, &ps) != 0)
        return;
    li->received += (u_int)(ps.ps_recv - li->last.ps_recv);
    li->drops += (u_int)(ps.ps_drop - li->last.ps_drop);
    li->if_drops += (u_int)(ps.ps_ifdrop - li->last.ps_ifdrop);
    li->last = ps;
}

/* Take li out of the loop after a read error; its counters are kept. */
static void lose(struct source_live *s, struct live_if *li, const char *why)
{
    src_log(s, LOG_ERR, "%s: capture stopped: %s; %u of %u interfaces left", li->name, why,
            s->n - s->lost - 1, s->n);
    read_stats(li);
    pcap_close(li->p);
    li->p = NULL;
    li->fd = -1;
    s->lost++;
}

/* Read what li has. Returns 1 when it may have more, 0 when drained. */
static int dispatch(struct source_live *s, struct live_if *li, short revents)
{
    int r = pcap_dispatch(li->p, DISPATCH_BATCH, on_packet, (u_char *)li);
    if (r < 0) {
        char why[PCAP_ERRBUF_SIZE + 32];
        snprintf(why, sizeof(why), "%s", r == PCAP_ERROR ? pcap_geterr(li->p) : "interrupted");
        lose(s, li, why[0] ? why : "read error");
        return 0;
    }
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        /* The socket reports an error that libpcap did not turn into a
         * failed read; give it a few rounds, then give up on it. */
        if (r == 0 && ++li->err_polls >= ERR_POLLS_MAX) {
            lose(s, li, revents & POLLNVAL ? "descriptor closed" : "error on the capture socket");
            return 0;
        }
    } else {
        li->err_polls = 0;
    }
    return r >= DISPATCH_BATCH;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int source_live_run(struct source_live *s, struct pipeline *pl, atomic_int *stop,
                    source_live_tick_cb tick, void *ud)
{
    struct pollfd pfd[SRC_LIVE_MAX_IFACES];
    struct live_if *polled[SRC_LIVE_MAX_IFACES];
    uint64_t next_tick = mono_us() + TICK_US, flow_clock = 0;
    int backlog = 0;

    for (unsigned i = 0; i < s->n; i++)
        s->ifs[i].pl = pl;
    while (!*stop && s->lost < s->n) {
        nfds_t n = 0;
        int timeout = POLL_TIMEOUT_MS;
        for (unsigned i = 0; i < s->n; i++) {
            struct live_if *li = &s->ifs[i];
            if (li->p == NULL)
                continue;
            if (li->pending)
                timeout = 0;
            /* libpcap asks to be called on a timer while it cannot tell
             * from the descriptor alone (Linux: after ENETDOWN, until the
             * interface is up again or known to be gone). */
            const struct timeval *tv = pcap_get_required_select_timeout(li->p);
            li->timer = tv != NULL;
            if (li->timer != li->down) {
                li->down = li->timer;
                src_log(s, li->down ? LOG_WARNING : LOG_NOTICE, "%s: %s", li->name,
                        li->down ? "interface went down; waiting for it" : "interface is up again");
            }
            if (tv != NULL) {
                long ms = (long)tv->tv_sec * 1000 + (long)tv->tv_usec / 1000;
                if (ms < MIN_TIMER_MS)
                    ms = MIN_TIMER_MS;
                if (ms < timeout)
                    timeout = (int)ms;
            }
            pfd[n].fd = li->fd;
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            polled[n++] = li;
        }
        int ready = poll(pfd, n, timeout);
        if (ready < 0 && errno != EINTR) {
            src_log(s, LOG_ERR, "poll: %s", strerror(errno));
            return SRC_LIVE_FAILED;
        }
        backlog = 0;
        for (nfds_t k = 0; ready >= 0 && k < n && !*stop; k++) {
            struct live_if *li = polled[k];
            if (pfd[k].revents == 0 && !li->pending && !li->timer)
                continue;
            li->pending = dispatch(s, li, pfd[k].revents);
            backlog |= li->pending;
        }

        uint64_t now = mono_us();
        if (now < next_tick)
            continue;
        next_tick = now + TICK_US;
        /* Never behind a packet already seen, never backwards. */
        uint64_t t = pipeline_stats(pl)->last_us;
        uint64_t wall = wall_us();
        if (!backlog && wall > TICK_LAG_US && wall - TICK_LAG_US > t)
            t = wall - TICK_LAG_US;
        if (t > flow_clock) {
            flow_clock = t;
            pipeline_tick(pl, flow_clock);
        }
        if (tick != NULL)
            tick(ud, wall);
    }
    return s->lost == s->n ? SRC_LIVE_ALL_LOST : SRC_LIVE_STOPPED;
}

void source_live_stats(struct source_live *s, struct source_live_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->ifaces = s->n;
    st->lost = s->lost;
    for (unsigned i = 0; i < s->n; i++) {
        struct live_if *li = &s->ifs[i];
        read_stats(li);
        st->packets += li->packets;
        st->bytes += li->bytes;
        st->received += li->received;
        st->drops += li->drops;
        st->if_drops += li->if_drops;
    }
}

void source_live_stop(struct source_live *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct live_if *li = &s->ifs[i];
        if (li->p == NULL)
            continue;
        read_stats(li);
        pcap_close(li->p);
        li->p = NULL;
        li->fd = -1;
    }
}

const char *source_live_names(const struct source_live *s, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (unsigned i = 0; i < s->n && off < len; i++) {
        int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", s->ifs[i].name);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return buf;
}

void source_live_free(struct source_live *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->n; i++)
        if (s->ifs[i].p != NULL)
            pcap_close(s->ifs[i].p);
    free(s->ifs);
    free(s);
}
