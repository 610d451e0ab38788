/* assets.c -- the asset inventory, one bounded record per internal host. */
#include "assets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "lru-map.h"
#include "output-json-flow.h"
#include "output-json.h"
#include "signature.h"
#include "term.h"
#include "util.h"

static const struct ctr_desc assets_desc[] = {ASSETS_COUNTERS(CTR_DESC, struct assets_stats)};
const struct ctr_table assets_counters = {assets_desc, ARRAY_SIZE(assets_desc)};

struct host_key {
    uint8_t af;
    uint8_t pad[3];
    uint8_t addr[16];
};

/* Evidence values are kept to this many bytes (a certificate name, a
 * server name, a fingerprint: enough to read what it was). */
#define ASSETS_EVIDENCE_MAX 80

struct product_rec {
    char vendor[SIG_VENDOR_MAX + 1];
    char product[SIG_PRODUCT_MAX + 1];
    uint8_t categories; /* bit per enum sig_category */
    uint8_t relation;   /* enum sig_relation: the strongest seen */
    uint8_t ev_kind;    /* enum sig_ev_kind of the first evidence */
    uint8_t n_countries;
    char ev_value[ASSETS_EVIDENCE_MAX];
    char countries[ASSETS_MAX_COUNTRIES][2];
    uint64_t flows, bytes_out;
    uint64_t first_us, last_us;
};

struct host_rec {
    uint64_t first_us, last_us;
    uint64_t flows, bytes_out, alerts;
    struct dev_info dev; /* what the evidence told about the device */
    uint8_t n_products, n_countries;
    char countries[ASSETS_MAX_COUNTRIES][2];
    struct product_rec products[ASSETS_MAX_PRODUCTS];
};

struct assets {
    struct lru_map *hosts;
    struct assets_stats st;
};

struct assets *assets_new(uint32_t max_hosts)
{
    struct assets *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->hosts = lru_map_new(max_hosts, sizeof(struct host_key), sizeof(struct host_rec));
    if (a->hosts == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

void assets_free(struct assets *a)
{
    if (a == NULL)
        return;
    lru_map_free(a->hosts);
    free(a);
}

static void host_key(struct host_key *k, int af, const uint8_t *addr)
{
    memset(k, 0, sizeof(*k));
    k->af = (uint8_t)af;
    memcpy(k->addr, addr, af == 6 ? 16 : 4);
}

static struct host_rec *host_get(struct assets *a, int af, const uint8_t *addr, int create)
{
    struct host_key k;
    host_key(&k, af, addr);
    if (!create)
        return lru_map_get(a->hosts, &k);
    bool created, evicted;
    struct host_rec *h = lru_map_put(a->hosts, &k, &created, &evicted);
    if (evicted)
        a->st.hosts_evicted++;
    a->st.hosts = lru_map_count(a->hosts);
    return h;
}

static struct product_rec *product_get(struct assets *a, struct host_rec *h,
                                       const struct signature *sig, int create)
{
    for (unsigned i = 0; i < h->n_products; i++) {
        struct product_rec *p = &h->products[i];
        if (strncmp(p->vendor, sig->vendor, sizeof(p->vendor) - 1) == 0 &&
            strncmp(p->product, sig->product, sizeof(p->product) - 1) == 0)
            return p;
    }
    if (!create)
        return NULL;
    if (h->n_products == ASSETS_MAX_PRODUCTS) {
        a->st.products_dropped++;
        return NULL;
    }
    struct product_rec *p = &h->products[h->n_products++];
    snprintf(p->vendor, sizeof(p->vendor), "%s", sig->vendor);
    snprintf(p->product, sizeof(p->product), "%s", sig->product);
    p->relation = SIG_REL_MAX; /* none yet */
    return p;
}

/* Add country cc to a small set (ignored when unknown or the set is full). */
static void add_country(char (*set)[2], uint8_t *n, const char *cc)
{
    if (cc == NULL || !cc[0] || !cc[1])
        return;
    for (unsigned i = 0; i < *n; i++)
        if (set[i][0] == cc[0] && set[i][1] == cc[1])
            return;
    if (*n < ASSETS_MAX_COUNTRIES) {
        set[*n][0] = cc[0];
        set[*n][1] = cc[1];
        (*n)++;
    }
}

/* Fill what dst does not know yet from src. */
static void dev_merge(struct dev_info *dst, const struct dev_info *src)
{
    if (!dst->serial[0] && src->serial[0])
        memcpy(dst->serial, src->serial, sizeof(dst->serial));
    if (!dst->model[0] && src->model[0])
        memcpy(dst->model, src->model, sizeof(dst->model));
    if (!dst->name[0] && src->name[0])
        memcpy(dst->name, src->name, sizeof(dst->name));
    if (!dst->vlan)
        dst->vlan = src->vlan;
    dst->by_network |= src->by_network;
}

/* The stronger of two relations: is, then runs, then uses. */
static uint8_t stronger(uint8_t a, uint8_t b)
{
    return a < b ? a : b; /* enum order, SIG_REL_MAX for none */
}

int assets_identify(struct assets *a, const struct assets_ident *id)
{
    struct host_rec *h = host_get(a, id->af, id->host, 1);
    if (h->first_us == 0 || id->ts_us < h->first_us)
        h->first_us = id->ts_us;
    if (id->ts_us > h->last_us)
        h->last_us = id->ts_us;
    if (id->first_of_flow)
        h->flows++;
    add_country(h->countries, &h->n_countries, id->peer_cc);
    if (id->dev != NULL)
        dev_merge(&h->dev, id->dev);
    unsigned before = h->n_products;
    struct product_rec *p = product_get(a, h, id->sig, 1);
    if (p == NULL)
        return -1;
    int created = h->n_products != before;
    if (created && id->ev != NULL) {
        p->ev_kind = id->ev->kind;
        snprintf(p->ev_value, sizeof(p->ev_value), "%s", id->ev->value);
    }
    p->relation = stronger(p->relation, id->sig->relation);
    add_country(p->countries, &p->n_countries, id->peer_cc);
    p->categories |= (uint8_t)(1u << id->sig->category);
    p->flows++;
    if (p->first_us == 0 || id->ts_us < p->first_us)
        p->first_us = id->ts_us;
    if (id->ts_us > p->last_us)
        p->last_us = id->ts_us;
    return created;
}

void assets_add_bytes(struct assets *a, int af, const uint8_t *host, const struct signature *sig,
                      uint64_t bytes)
{
    struct host_rec *h = host_get(a, af, host, 0);
    if (h == NULL)
        return;
    h->bytes_out += bytes;
    struct product_rec *p = product_get(a, h, sig, 0);
    if (p != NULL)
        p->bytes_out += bytes;
}

void assets_note_alert(struct assets *a, int af, const uint8_t *host)
{
    struct host_rec *h = host_get(a, af, host, 0);
    if (h != NULL)
        h->alerts++;
}

const struct assets_stats *assets_stats(const struct assets *a)
{
    return &a->st;
}

/* Hosts in address order, for stable output. */
struct host_ref {
    const struct host_key *k;
    const struct host_rec *h;
};

struct collect {
    struct host_ref *v;
    size_t n;
};

static void collect_cb(const void *key, void *val, void *ud)
{
    struct collect *c = ud;
    c->v[c->n].k = key;
    c->v[c->n].h = val;
    c->n++;
}

static int host_cmp(const void *a, const void *b)
{
    const struct host_ref *x = a, *y = b;
    if (x->k->af != y->k->af)
        return (int)x->k->af - (int)y->k->af;
    return memcmp(x->k->addr, y->k->addr, 16);
}

static struct host_ref *sorted_hosts(const struct assets *a, size_t *n)
{
    struct collect c = {calloc(lru_map_count(a->hosts) + 1, sizeof(struct host_ref)), 0};
    if (c.v == NULL)
        return NULL;
    lru_map_foreach(a->hosts, collect_cb, &c);
    qsort(c.v, c.n, sizeof(c.v[0]), host_cmp);
    *n = c.n;
    return c.v;
}

static void addr_text(const struct host_key *k, char *buf, size_t len)
{
    inet_ntop(k->af == 6 ? AF_INET6 : AF_INET, k->addr, buf, (socklen_t)len);
}

void assets_device_json(struct jw *w, const struct dev_info *d)
{
    if (!d->serial[0] && !d->model[0] && !d->name[0])
        return;
    jw_object(w, "device");
    if (d->serial[0])
        jw_str(w, "serial", d->serial);
    if (d->model[0])
        jw_str(w, "model", d->model);
    if (d->name[0])
        jw_str(w, "name", d->name);
    if (d->vlan)
        jw_u64(w, "vlan", d->vlan);
    if (d->by_network) /* ClusterXL from 0.0.0.0: the address is the cluster's network */
        jw_str(w, "named_by", "network");
    jw_end_object(w);
}

static void categories_json(struct jw *w, uint8_t mask)
{
    jw_array(w, "categories");
    for (int c = 0; c < SIG_CAT_MAX; c++)
        if (mask & (1u << c))
            jw_str(w, NULL, sig_category_name(c));
    jw_end_array(w);
}

/* One host's record as a JSON line into buf; returns its length or 0. */
static size_t format_host(const struct host_key *k, const struct host_rec *h, char *buf, size_t cap)
{
    struct jw w;
    char addr[64];
    addr_text(k, addr, sizeof(addr));
    jw_init(&w, buf, cap);
    jw_object(&w, NULL);
    jw_str(&w, "host", addr);
    jw_time(&w, "first_seen", h->first_us);
    jw_time(&w, "last_seen", h->last_us);
    jw_u64(&w, "flows", h->flows);
    jw_u64(&w, "bytes_out", h->bytes_out);
    jw_u64(&w, "alerts", h->alerts);
    assets_device_json(&w, &h->dev);
    jw_array(&w, "countries");
    for (unsigned c = 0; c < h->n_countries; c++) {
        char cc[3] = {h->countries[c][0], h->countries[c][1], 0};
        jw_str(&w, NULL, cc);
    }
    jw_end_array(&w);
    jw_array(&w, "products");
    for (unsigned p = 0; p < h->n_products; p++) {
        const struct product_rec *pr = &h->products[p];
        jw_object(&w, NULL);
        jw_str(&w, "vendor", pr->vendor);
        jw_str(&w, "product", pr->product);
        jw_str(&w, "relation", sig_relation_name(pr->relation));
        jw_object(&w, "evidence");
        jw_str(&w, "kind", sig_evidence_name(pr->ev_kind));
        jw_str(&w, "value", pr->ev_value);
        jw_end_object(&w);
        categories_json(&w, pr->categories);
        jw_array(&w, "countries");
        for (unsigned c = 0; c < pr->n_countries; c++) {
            char cc[3] = {pr->countries[c][0], pr->countries[c][1], 0};
            jw_str(&w, NULL, cc);
        }
        jw_end_array(&w);
        jw_u64(&w, "flows", pr->flows);
        jw_u64(&w, "bytes_out", pr->bytes_out);
        jw_time(&w, "first_seen", pr->first_us);
        jw_time(&w, "last_seen", pr->last_us);
        jw_end_object(&w);
    }
    jw_end_array(&w);
    jw_end_object(&w);
    return jw_finish(&w);
}

int assets_host_json(struct assets *a, int af, const uint8_t *host, char *buf, size_t cap,
                     char *addr, size_t addrlen)
{
    struct host_key k;
    host_key(&k, af, host);
    const struct host_rec *h = lru_map_get(a->hosts, &k);
    if (h == NULL)
        return 0;
    addr_text(&k, addr, addrlen);
    size_t n = format_host(&k, h, buf, cap);
    if (n > 0)
        buf[--n] = '\0'; /* no newline */
    return (int)n;
}

int assets_write_json(const struct assets *a, const char *sensor, const char *path, char *errbuf,
                      size_t errlen)
{
    size_t n = 0;
    struct host_ref *v = sorted_hosts(a, &n);
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (v == NULL || fp == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, fp == NULL ? strerror(errno) : "out of memory");
        free(v);
        if (fp != NULL && fp != stdout)
            fclose(fp);
        return -1;
    }
    /* one host per line inside the document: small buffers, readable diffs */
    int rc = 0;
    fprintf(fp, "{\"schema_version\":%d,\"sensor\":", OUT_SCHEMA_INVENTORY);
    char buf[8192];
    struct jw w;
    jw_init(&w, buf, sizeof(buf));
    jw_str(&w, NULL, sensor); /* a bare string value: "name"\n */
    size_t len = jw_finish(&w);
    fprintf(fp, "%.*s,\"hosts\":[\n", len ? (int)(len - 1) : 2, len ? buf : "\"\"");
    for (size_t i = 0; i < n; i++) {
        len = format_host(v[i].k, v[i].h, buf, sizeof(buf));
        if (len == 0) {
            rc = -1;
            continue;
        }
        buf[len - 1] = '\0'; /* drop the newline: the separator adds it */
        fprintf(fp, "%s%s\n", buf, i + 1 < n ? "," : "");
    }
    fprintf(fp, "]}\n");
    free(v);
    if (fp == stdout ? fflush(fp) != 0 : fclose(fp) != 0)
        rc = -1;
    if (rc < 0)
        snprintf(errbuf, errlen, "%s: write failed: %s", path, strerror(errno));
    return rc;
}

int assets_foreach(const struct assets *a, void (*cb)(const struct assets_host_view *h, void *ud),
                   void *ud)
{
    size_t n = 0;
    struct host_ref *v = sorted_hosts(a, &n);
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct host_rec *h = v[i].h;
        struct assets_host_view hv;
        memset(&hv, 0, sizeof(hv));
        hv.af = v[i].k->af;
        hv.addr = v[i].k->addr;
        hv.first_us = h->first_us;
        hv.last_us = h->last_us;
        hv.flows = h->flows;
        hv.bytes_out = h->bytes_out;
        hv.alerts = h->alerts;
        hv.dev = &h->dev;
        hv.countries = h->countries;
        hv.n_countries = h->n_countries;
        hv.n_products = h->n_products;
        for (unsigned p = 0; p < h->n_products; p++) {
            const struct product_rec *pr = &h->products[p];
            struct assets_product_view *pv = &hv.products[p];
            pv->vendor = pr->vendor;
            pv->product = pr->product;
            pv->relation = pr->relation;
            pv->ev_kind = pr->ev_kind;
            pv->ev_value = pr->ev_value;
            pv->categories = pr->categories;
            pv->countries = pr->countries;
            pv->n_countries = pr->n_countries;
            pv->flows = pr->flows;
            pv->bytes_out = pr->bytes_out;
            pv->first_us = pr->first_us;
            pv->last_us = pr->last_us;
        }
        cb(&hv, ud);
    }
    free(v);
    return 0;
}

/* "2023-11-14 22:13:21" of a record's time. */
static const char *table_time(uint64_t us, char *buf, size_t len)
{
    jw_format_time(us, buf, len);
    if (strlen(buf) > 19) {
        buf[19] = '\0'; /* to the second */
        buf[10] = ' ';
    }
    return buf;
}

void assets_print_table(const struct assets *a, FILE *fp)
{
    static const char *const head[] = {"host",     "vendor",     "product",
                                       "relation", "categories", "countries",
                                       "flows",    "bytes out",  "seen (UTC)"};
    size_t n = 0;
    struct host_ref *v = sorted_hosts(a, &n);
    fprintf(fp, "\n  foreign security products found\n");
    if (v == NULL || n == 0) {
        fprintf(fp, "    (none)\n");
        free(v);
        return;
    }
    struct term_table *t = term_table_new(ARRAY_SIZE(head), head, "lwwlwwrrw");
    for (size_t i = 0; t != NULL && i < n; i++) {
        const struct host_rec *h = v[i].h;
        char addr[64];
        addr_text(v[i].k, addr, sizeof(addr));
        for (unsigned p = 0; p < h->n_products; p++) {
            const struct product_rec *pr = &h->products[p];
            char cats[128] = "", t1[40], t2[40], seen[96], flows[24], bytes[24];
            char cc[4 * ASSETS_MAX_COUNTRIES + 1] = "";
            for (unsigned c = 0; c < pr->n_countries; c++) {
                size_t l = strlen(cc);
                snprintf(cc + l, sizeof(cc) - l, "%s%c%c", c ? ", " : "", pr->countries[c][0],
                         pr->countries[c][1]);
            }
            for (int c = 0; c < SIG_CAT_MAX; c++)
                if (pr->categories & (1u << c)) {
                    size_t l = strlen(cats);
                    snprintf(cats + l, sizeof(cats) - l, "%s%s", l ? ", " : "",
                             sig_category_name(c));
                }
            snprintf(flows, sizeof(flows), "%llu", (unsigned long long)pr->flows);
            snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)pr->bytes_out);
            snprintf(seen, sizeof(seen), "%s .. %s", table_time(pr->first_us, t1, sizeof(t1)),
                     table_time(pr->last_us, t2, sizeof(t2)));
            const char *row[] = {p == 0 ? addr : "",
                                 pr->vendor,
                                 pr->product,
                                 sig_relation_name(pr->relation),
                                 cats,
                                 cc[0] ? cc : "-",
                                 flows,
                                 bytes,
                                 seen};
            term_table_add(t, row);
        }
    }
    if (t != NULL)
        term_table_print(t, fp, term_width(fp), 4);
    term_table_free(t);
    free(v);
}
