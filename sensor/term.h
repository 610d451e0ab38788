/* term.h -- text a person reads on a terminal: lines wrapped at words to
 * its width, tables laid out from their content, durations and counts in
 * words.
 *
 * Nothing here is on the packet path: it formats the end-of-run summary
 * and the inventory table, and may allocate. Widths count bytes (the
 * summary's text is ASCII but for the names in the data). */
#ifndef TERM_H
#define TERM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Columns to lay text out in: the terminal's when fp is one, else the
 * COLUMNS variable's, else 100; at least 40. */
unsigned term_width(FILE *fp);

/* A duration in words: "850 ms", "4.2 s", "3 min 5 s", "2 h 14 min",
 * "3 days 4 h", "4.7 years". Returns buf. */
const char *term_duration(double seconds, char *buf, size_t len);

/* "1 flow", "2 flows": n and the word for it. Returns buf. */
const char *term_count(uint64_t n, const char *one, const char *many, char *buf, size_t len);

/* One labelled line of the summary, "  label       text", the text
 * wrapped at spaces to width, its continuation lines under its start. A
 * word longer than the room left is written whole. */
void term_line(FILE *fp, unsigned width, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A table: columns with a header and a kind: 'w' text (left-aligned, may
 * wrap), 'l' left-aligned and 'r' right-aligned (never wrapped: addresses,
 * numbers). Its widths come from the content; when the table is wider
 * than the terminal, the widest text columns are narrowed and their cells
 * wrapped at spaces, never inside a word; when even that is too wide, the
 * table is as wide as whole words make it. */
struct term_table;
struct term_table *term_table_new(unsigned ncols, const char *const *headers, const char *align);
/* Append a row of ncols cells (copied). Returns 0, or -1 out of memory. */
int term_table_add(struct term_table *t, const char *const *cells);
/* Print with indent spaces before each line, in width columns. */
void term_table_print(const struct term_table *t, FILE *fp, unsigned width, unsigned indent);
void term_table_free(struct term_table *t);

#endif
