/* term.c -- lines and tables laid out for the terminal (term.h). */
#include "term.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TERM_MIN 40
#define TERM_DEFAULT 100
#define LABEL_COL 14 /* "  label       " */

unsigned term_width(FILE *fp)
{
    struct winsize ws;
    unsigned w = 0;
    if (isatty(fileno(fp)) && ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0)
        w = ws.ws_col;
    if (w == 0) {
        const char *c = getenv("COLUMNS");
        w = c != NULL ? (unsigned)strtoul(c, NULL, 10) : 0;
    }
    if (w == 0)
        w = TERM_DEFAULT;
    return w < TERM_MIN ? TERM_MIN : w;
}

const char *term_duration(double s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    if (s < 1.0)
        snprintf(buf, len, "%.0f ms", s * 1e3);
    else if (s < 60.0)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 3600.0)
        snprintf(buf, len, "%ld min %ld s", (long)(s + 0.5) / 60, (long)(s + 0.5) % 60);
    else if (s < 86400.0)
        snprintf(buf, len, "%ld h %ld min", (long)(s / 3600), (long)(s / 60) % 60);
    else if (s < 2 * 365.25 * 86400.0)
        snprintf(buf, len, "%ld %s %ld h", (long)(s / 86400), (long)(s / 86400) == 1 ? "day" : "days",
                 (long)(s / 3600) % 24);
    else
        snprintf(buf, len, "%.1f years", s / (365.25 * 86400.0));
    return buf;
}

const char *term_count(uint64_t n, const char *one, const char *many, char *buf, size_t len)
{
    snprintf(buf, len, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
    return buf;
}

/* The length of the next line of text s that fits in room, breaking at a
 * space (a word longer than room is taken whole); *next: where the line
 * after it begins. */
static size_t fit(const char *s, size_t room, const char **next)
{
    size_t n = strlen(s);
    if (n <= room) {
        *next = s + n;
        return n;
    }
    size_t cut = room;
    /* at a space, but not before a lone "/" ("FortiGate / FortiManager") */
    while (cut > 0 && (s[cut] != ' ' || (s[cut + 1] == '/' && s[cut + 2] == ' ')))
        cut--;
    if (cut == 0) { /* one long word: whole */
        cut = strcspn(s, " ");
    }
    const char *p = s + cut;
    while (*p == ' ')
        p++;
    *next = p;
    while (cut > 0 && s[cut - 1] == ' ')
        cut--;
    return cut;
}

void term_line(FILE *fp, unsigned width, const char *label, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t room = width > LABEL_COL + 10 ? width - LABEL_COL : 10;
    const char *s = text, *next;
    bool first = true;
    do {
        size_t n = fit(s, room, &next);
        fprintf(fp, "  %-*s%.*s\n", LABEL_COL - 2, first ? label : "", (int)n, s);
        first = false;
        s = next;
    } while (*s != '\0');
}

/* ---------------------------------------------------------------- tables */

struct term_table {
    unsigned ncols;
    char **headers;
    char *align;
    char **cells; /* rows x ncols */
    size_t nrows, cap;
};

struct term_table *term_table_new(unsigned ncols, const char *const *headers, const char *align)
{
    struct term_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->headers = calloc(ncols, sizeof(*t->headers));
    t->align = strdup(align);
    if (t->headers == NULL || t->align == NULL) {
        term_table_free(t);
        return NULL;
    }
    for (unsigned c = 0; c < ncols; c++)
        if ((t->headers[c] = strdup(headers[c])) == NULL) {
            term_table_free(t);
            return NULL;
        }
    return t;
}

int term_table_add(struct term_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));
        if (v == NULL)
            return -1;
        t->cells = v;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (unsigned c = 0; c < t->ncols; c++) {
        row[c] = strdup(cells[c] != NULL ? cells[c] : "");
        if (row[c] == NULL) {
            while (c-- > 0)
                free(row[c]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

void term_table_free(struct term_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (unsigned c = 0; t->headers != NULL && c < t->ncols; c++)
        free(t->headers[c]);
    free(t->cells);
    free(t->headers);
    free(t->align);
    free(t);
}

static size_t longest_word(const char *s)
{
    size_t best = 0;
    while (*s != '\0') {
        size_t n = strcspn(s, " ");
        if (n > best)
            best = n;
        s += n;
        while (*s == ' ')
            s++;
    }
    return best;
}

/* One row (header when cells is the header array) in widths w[]. */
static void print_row(const struct term_table *t, char *const *cells, const size_t *w, FILE *fp,
                      unsigned indent)
{
    const char *at[64];
    unsigned n = t->ncols < 64 ? t->ncols : 64;
    bool more = true;
    for (unsigned c = 0; c < n; c++)
        at[c] = cells[c];
    while (more) {
        char line[2048];
        size_t used = 0, end = 0;
        more = false;
        for (unsigned c = 0; c < n; c++) {
            const char *next;
            size_t len = fit(at[c], w[c], &next);
            size_t pad = len < w[c] ? w[c] - len : 0;
            int k = t->align[c] == 'r'
                        ? snprintf(line + used, sizeof(line) - used, "%s%*s%.*s", c ? "  " : "",
                                   (int)pad, "", (int)len, at[c])
                        : snprintf(line + used, sizeof(line) - used, "%s%.*s%*s", c ? "  " : "",
                                   (int)len, at[c], (int)pad, "");
            if (k > 0 && used + (size_t)k < sizeof(line))
                used += (size_t)k;
            if (len > 0)
                end = used - (t->align[c] == 'r' ? 0 : pad);
            at[c] = next;
            more |= *next != '\0';
        }
        fprintf(fp, "%*s%.*s\n", (int)indent, "", (int)end, line);
    }
}

void term_table_print(const struct term_table *t, FILE *fp, unsigned width, unsigned indent)
{
    size_t nat[64], min[64], w[64];
    unsigned n = t->ncols < 64 ? t->ncols : 64;
    size_t total = indent + 2u * (n ? n - 1 : 0);
    for (unsigned c = 0; c < n; c++) {
        nat[c] = strlen(t->headers[c]);
        min[c] = longest_word(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t l = strlen(s), lw = longest_word(s);
            if (l > nat[c])
                nat[c] = l;
            if (lw > min[c])
                min[c] = lw;
        }
        if (t->align[c] != 'w') /* only text columns wrap */
            min[c] = nat[c];
        w[c] = nat[c];
        total += w[c];
    }
    /* narrow the widest text column that still can, one at a time */
    while (total > width) {
        unsigned best = n;
        for (unsigned c = 0; c < n; c++)
            if (w[c] > min[c] && (best == n || w[c] > w[best]))
                best = c;
        if (best == n)
            break; /* as narrow as whole words allow */
        w[best]--;
        total--;
    }
    /* Too narrow for a table that reads well (a text column cut to less
     * than 40% of its width, or whole words do not fit): one record per
     * row instead, its first cell as a heading, the others as
     * "header: value" wrapped to the width. */
    bool records = total > width;
    for (unsigned c = 0; c < n; c++)
        records |= t->align[c] == 'w' && w[c] * 5 < nat[c] * 2;
    if (!records) {
        print_row(t, t->headers, w, fp, indent);
        for (size_t r = 0; r < t->nrows; r++)
            print_row(t, t->cells + r * t->ncols, w, fp, indent);
        return;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        char *const *row = t->cells + r * t->ncols;
        char text[4096];
        size_t k = 0;
        if (row[0][0] != '\0')
            fprintf(fp, "%*s%s %s\n", (int)indent, "", t->headers[0], row[0]);
        for (unsigned c = 1; c < n && k < sizeof(text); c++)
            k += (size_t)snprintf(text + k, sizeof(text) - k, "%s%s: %s", c > 1 ? "; " : "",
                                  t->headers[c], row[c][0] ? row[c] : "-");
        const char *p = text, *next;
        size_t room = width > indent + 12 ? width - indent - 2 : 10;
        do {
            size_t len = fit(p, room, &next);
            fprintf(fp, "%*s%.*s\n", (int)indent + 2, "", (int)len, p);
            p = next;
        } while (*p != '\0');
    }
}
