/* table.h -- a column-oriented table loaded from CSV, with types and roles.
 *
 * Loading streams the file once (sg_csv) and stores each column compactly:
 * numbers as double (NaN = missing), categories and ids as int32 codes into a
 * per-column dictionary of distinct strings (-1 = missing).  Memory is
 * proportional to the table, not to the file: the text of a repeated category
 * is stored once.
 *
 * Types are inferred per column, unless forced by the options:
 *   number    every non-missing value parses as a finite decimal number
 *   date      every non-missing value is an ISO date YYYY-MM-DD (optionally
 *             followed by 'T' or ' ' and HH:MM[:SS]); stored as days since
 *             1970-01-01 (fractional for times)
 *   id        the column named by 'id_col' (stored as text codes); every value
 *             must be present ("expected an id")
 *   category  anything else
 * The first non-missing value decides; a number (or date) column that later
 * meets text becomes a category whose earlier labels are re-created from the
 * parsed values with "%.15g" ("1.50" -> "1.5"; dates as YYYY-MM-DD[ HH:MM]);
 * force such columns with 'categorical' to keep their text.  A non-finite
 * number ("inf", "nan", "1e999") in a number column is an error.  A column with
 * no value at all is a number column of missing values.  Blanks around numbers
 * and dates are ignored; labels keep their text exactly.
 * Missing values are "", NA, NULL (unquoted or quoted: "" as a quoted field is
 * still missing) and stay missing; they are never read as zero.
 *
 * Errors are collected, not just the first: each bad cell or row produces a
 * message "FILE:LINE: column 'NAME': expected ..., got "VALUE"" (the value
 * escaped, cut after 40 bytes with "...") passed to the 'on_error' callback for
 * the first 'max_errors' of them; the load then fails with SG_EPARSE and the
 * message of the only error, or "N errors; first: MESSAGE".  A CSV syntax
 * error ends the load and counts as one more.  Nothing is returned on failure
 * (*out is unchanged) and nothing is leaked. */
#ifndef SG_TABLE_H
#define SG_TABLE_H

#include <stdint.h>

#include "error.h"

typedef struct sg_table sg_table;

typedef enum sg_coltype {
    SG_COL_NUMBER = 0,
    SG_COL_CATEGORY = 1,
    SG_COL_ID = 2,
    SG_COL_DATE = 3,
} sg_coltype;

enum { SG_DEDUP_ERROR = 0, SG_DEDUP_FIRST = 1, SG_DEDUP_LAST = 2 };

typedef struct sg_load_opts {
    const char *id_col;             /* key column or NULL; duplicates handled by 'dedup' */
    int dedup;                      /* SG_DEDUP_ERROR (default), _FIRST or _LAST: keep
                                       the first / last row of an id, where it stands;
                                       dropped rows are still checked */
    const char *const *categorical; /* columns forced to category (NULL-terminated
                                       list or NULL) */
    const char *const *numeric;     /* columns forced to number: a non-number is then
                                       an error */
    const char *const *required;    /* columns that must exist (roles): missing one is
                                       an error; so is a missing 'id_col' or a name
                                       in 'categorical'/'numeric' */
    int max_errors;                 /* messages passed to on_error before counting
                                       only; default 10 */
    void (*on_error)(void *ud, const char *msg);  /* NULL: messages are only counted */
    void (*on_progress)(void *ud, int64_t bytes_done, int64_t bytes_total, int64_t rows);
    void *ud;                       /* passed to the callbacks */
} sg_load_opts;

void sg_load_opts_default(sg_load_opts *o);

/* Load a CSV file with a header row ('o' NULL: the defaults).  *out is owned
 * by the caller (sg_table_free).  Errors: SG_EIO (cannot open/read), SG_EPARSE
 * (bad data: empty file, duplicate or empty header names, ragged rows, invalid
 * UTF-8, unterminated quote, a required column missing, a non-number in a
 * numeric column, non-finite numbers, duplicate or missing ids under
 * SG_DEDUP_ERROR), SG_EINVAL (a column forced both numeric and categorical, or
 * the id forced numeric; a bad 'dedup' or 'max_errors'), SG_ENOMEM.
 * 'on_progress' is called about every 16 MiB of input and once at the end. */
int sg_table_load_csv(sg_table **out, const char *path, const sg_load_opts *o, sg_error *err);

/* Same, from a memory buffer (borrowed during the call); 'name' is used in messages. */
int sg_table_load_mem(sg_table **out, const char *name, const char *data, size_t len,
                      const sg_load_opts *o, sg_error *err);

void sg_table_free(sg_table *t);   /* NULL is a no-op */

int64_t sg_table_n_rows(const sg_table *t);
int sg_table_n_cols(const sg_table *t);
const char *sg_table_name(const sg_table *t);            /* source name (path); borrowed */
const char *sg_table_col_name(const sg_table *t, int j); /* borrowed */
sg_coltype sg_table_col_type(const sg_table *t, int j);
const char *sg_coltype_name(sg_coltype type);            /* "number", ...; static */
/* Index of the column named 'name', or -1. */
int sg_table_find(const sg_table *t, const char *name);
/* Missing values in column j. */
int64_t sg_table_n_missing(const sg_table *t, int j);
/* Number of rows dropped as duplicates (SG_DEDUP_FIRST/LAST). */
int64_t sg_table_n_duplicates(const sg_table *t);
/* The 1-based source line of row i (for messages); 0 if i is out of range. */
int64_t sg_table_row_line(const sg_table *t, int64_t i);

/* Values of a NUMBER or DATE column (n_rows), NaN = missing; NULL for other types. Borrowed. */
const double *sg_table_num(const sg_table *t, int j);
/* Codes of a CATEGORY or ID column (n_rows), -1 = missing; NULL for other types. Borrowed. */
const int32_t *sg_table_codes(const sg_table *t, int j);
/* Number of distinct labels and the label of a code (borrowed; NULL if out of range). */
int32_t sg_table_n_labels(const sg_table *t, int j);
const char *sg_table_label(const sg_table *t, int j, int32_t code);
/* The text of cell (i, j) whatever the type, formatted into buf (numbers with
 * %.15g, dates as YYYY-MM-DD plus the time when not midnight); "" when missing
 * or out of range.  Returns buf. */
const char *sg_table_cell(const sg_table *t, int64_t i, int j, char *buf, size_t cap);

#endif
