/* encode.h -- the learned mapping from table columns to a float feature matrix.
 *
 * A schema is fitted on training rows only (so nothing about held-out rows
 * leaks into the model) and saved inside every model file.  It records which
 * columns are features, their types, the category labels seen in training and
 * the numeric means and standard deviations.  At prediction time columns are
 * matched by name, so a file with columns in another order, or extra columns,
 * works; a missing feature column is an error naming it.
 *
 * Two encodings:
 *   SG_ENC_TREE    one feature per column: numbers and dates as they are,
 *                  categories as the code of their label (categorical split
 *                  in the trees), missing as NaN.  Labels beyond the 254 most
 *                  frequent in training, and labels unseen in training, are
 *                  coded as one shared "other" code.
 *   SG_ENC_LINEAR  numbers standardised ((x - mean) / sd) with missing set to
 *                  0 plus a 0/1 "is missing" column when training had missing
 *                  values; categories one-hot over labels seen at least
 *                  'min_count' times in training (others, unseen and missing
 *                  labels are all-zero). */
#ifndef SG_ENCODE_H
#define SG_ENCODE_H

#include <stdint.h>

#include "error.h"
#include "table.h"

typedef struct sg_schema sg_schema;

enum { SG_ENC_TREE = 0, SG_ENC_LINEAR = 1 };

/* Fit on rows[0..n) of t (rows NULL = all rows).  Feature columns are all
 * columns except the id column, the columns named in 'exclude' (target,
 * treatment, ignored; NULL-terminated, NULL = none) and columns of type id.
 * *out owned by the caller (sg_schema_free). */
int sg_schema_fit(sg_schema **out, const sg_table *t, const int64_t *rows, int64_t n, int encoding,
                  const char *const *exclude, sg_error *err);
void sg_schema_free(sg_schema *s);

/* Derived number columns, each the sum of table columns, appended to a fitted
 * schema (fitted on the same rows[0..n) of t): 'spec' is a comma-separated
 * list of NAME=FIRST..LAST (the columns from FIRST to LAST in t's order) or
 * NAME=COL+COL+...; NULL or "" adds none.  A sum is a feature like any number
 * (mean and sd fitted on those rows), missing where a source value is; the
 * schema keeps the source names, so every table it later transforms must hold
 * them as numbers.  Errors name the item and the column: a name that is
 * already a column, a source that is missing, not numeric or in 'exclude'
 * (the list given to sg_schema_fit: a sum of an outcome would leak it), a
 * range given backwards. */
int sg_schema_add_sums(sg_schema *s, const sg_table *t, const int64_t *rows, int64_t n,
                       const char *spec, const char *const *exclude, sg_error *err);

int sg_schema_encoding(const sg_schema *s);
/* Width of the encoded matrix. */
int sg_schema_n_features(const sg_schema *s);
/* Name of encoded feature k ("age", "city=Paris", "income:missing"). Borrowed. */
const char *sg_schema_feature_name(const sg_schema *s, int k);
/* Source columns used (their names), for messages and docs. */
int sg_schema_n_columns(const sg_schema *s);
const char *sg_schema_column_name(const sg_schema *s, int c);
/* For SG_ENC_TREE: 1 where feature k is categorical (n_features entries). Borrowed. */
const uint8_t *sg_schema_is_cat(const sg_schema *s);

/* Encode rows[0..n) of t (rows NULL = all) into X (n, n_features), row-major.
 * t may be another table than the one fitted: columns are found by name.
 * Errors: SG_ENOTFOUND when a feature column is absent (message names it and
 * the file), SG_EPARSE when a column has an incompatible type (a number column
 * that is now text).  'n_unseen' (NULL allowed) receives the number of
 * category cells whose label was not seen in training. */
int sg_schema_transform(const sg_schema *s, const sg_table *t, const int64_t *rows, int64_t n,
                        float *X, int64_t *n_unseen, sg_error *err);

/* Serialise / parse (used by model files). */
int sg_schema_save(const sg_schema *s, unsigned char **buf, size_t *len, sg_error *err);
int sg_schema_load(sg_schema **out, const unsigned char *buf, size_t len, sg_error *err);

#endif
