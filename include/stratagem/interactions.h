/* interactions.h -- implicit-feedback interactions: a user x item CSR with id dictionaries.
 *
 * Built from a table with a user column, an item column and optionally a rating
 * column with a threshold (rows rated below it are dropped: Mult-VAE's "ratings
 * >= 3.5 are positives").  Feedback is binary: a (user, item) pair seen twice is
 * one interaction.  Users and items get dense indices in order of first
 * appearance in the table; each row of the CSR lists a user's items sorted by
 * index, without duplicates.  Labels are the cells' text (numbers as "%.15g").
 *
 * An existing interactions object may serve as a vocabulary when building
 * another: its items fix the item indices (unknown items are dropped and
 * counted), and its users fix the first user indices (new users are appended).
 * That is how fold-in and held-out files of the same users line up, and how
 * they map onto a model's items.
 *
 * The strong-generalisation split (Liang et al. 2018) divides USERS into
 * training, validation and test users; a validation or test user's items are
 * split again into fold-in (given to the model) and held-out (to be found).
 * See LICENSE for copyright. */
#ifndef SG_INTERACTIONS_H
#define SG_INTERACTIONS_H

#include <stdint.h>

#include "error.h"
#include "table.h"

typedef struct sg_interactions sg_interactions;

typedef struct sg_interactions_opts {
    const char *user_col;     /* required */
    const char *item_col;     /* required */
    const char *rating_col;   /* NULL: every row is a positive */
    double min_rating;        /* with rating_col: keep rows with rating >= min_rating */
    /* With 'item_vocab', item indices are the vocabulary's and rows with other items
     * are dropped; NULL builds a new item dictionary.  Borrowed during the call. */
    const sg_interactions *item_vocab;
    /* With 'user_vocab', its users keep their indices (and appear as rows, empty when
     * absent here) and new users are appended after them.  Borrowed during the call. */
    const sg_interactions *user_vocab;
} sg_interactions_opts;

/* What building dropped, for messages. */
typedef struct sg_interactions_stats {
    int64_t n_rows;             /* table rows read */
    int64_t n_below_rating;     /* rating missing or below min_rating */
    int64_t n_missing_id;       /* user or item missing */
    int64_t n_unknown_item;     /* item not in item_vocab */
    int64_t n_duplicate;        /* (user, item) pairs seen before */
} sg_interactions_stats;

void sg_interactions_opts_default(sg_interactions_opts *o);

/* Build the interactions of table 't'.  *out is owned by the caller
 * (sg_interactions_free); 'st' (NULL allowed) receives the counts.  Errors:
 * SG_ENOTFOUND (a named column is missing), SG_EINVAL (the rating column is not
 * numeric, bad options, more than 2^31-1 users or items), SG_ENOMEM. */
int sg_interactions_from_table(sg_interactions **out, const sg_table *t,
                               const sg_interactions_opts *o, sg_interactions_stats *st,
                               sg_error *err);

/* Build from raw CSR rows: n_users rows row_ptr (n_users+1, row_ptr[0] may be > 0)
 * / col_idx in [0, n_items).  Items are those of 'item_vocab' (n_items is then
 * ignored), or with 'item_vocab' NULL, n_items items labelled "0".."n_items-1"
 * (column roles "user" and "item").  User labels 'user_labels' (n_users
 * strings), or NULL for "0".."n_users-1".  Columns are sorted and
 * de-duplicated.  SG_EINVAL for a bad column, size or duplicate label; SG_ENOMEM. */
int sg_interactions_from_csr(sg_interactions **out, const sg_interactions *item_vocab,
                             int n_items, int n_users, const int64_t *row_ptr,
                             const int32_t *col_idx, const char *const *user_labels,
                             sg_error *err);

/* A deep copy (owned by the caller).  SG_ENOMEM. */
int sg_interactions_copy(sg_interactions **out, const sg_interactions *x, sg_error *err);

void sg_interactions_free(sg_interactions *x);   /* NULL is a no-op */

int sg_interactions_n_users(const sg_interactions *x);
int sg_interactions_n_items(const sg_interactions *x);
int64_t sg_interactions_nnz(const sg_interactions *x);
/* The CSR (borrowed): row_ptr (n_users+1, from 0) and col_idx (nnz), values all one. */
const int64_t *sg_interactions_row_ptr(const sg_interactions *x);
const int32_t *sg_interactions_col_idx(const sg_interactions *x);
/* Labels (borrowed; NULL for an index out of range) and look-ups (-1 when absent). */
const char *sg_interactions_user_label(const sg_interactions *x, int u);
const char *sg_interactions_item_label(const sg_interactions *x, int i);
int sg_interactions_find_user(const sg_interactions *x, const char *label);
int sg_interactions_find_item(const sg_interactions *x, const char *label);
/* Column roles it was built with (borrowed; rating NULL when none), the threshold. */
const char *sg_interactions_user_col(const sg_interactions *x);
const char *sg_interactions_item_col(const sg_interactions *x);
const char *sg_interactions_rating_col(const sg_interactions *x);
double sg_interactions_min_rating(const sg_interactions *x);
/* Users per item (n_items, [out] counts). */
void sg_interactions_item_counts(const sg_interactions *x, int64_t *counts);

/* ---------------------------------------------------------------------------
 * strong-generalisation split */

typedef struct sg_split_opts {
    double test_users;        /* share of eligible users held out for test (default 0.1) */
    double val_users;         /* share held out for validation (default 0.1) */
    double heldout;           /* share of a held-out user's items to predict (default 0.2) */
    int min_items;            /* users with fewer items stay training users (default 5) */
    uint64_t seed;            /* default SG_DEFAULT_SEED */
} sg_split_opts;

/* Every object has the input's item dictionary (all items, same indices).
 * 'train' holds the training users with all their items.  The validation and
 * test users' items are restricted to items some training user has (Liang's
 * protocol: the others cannot be predicted), then split: of n items, n -
 * floor((1 - heldout) n) go to *_heldout (so at least one) and the rest to
 * *_foldin.  *_heldout has the same users, in the same order, as *_foldin.  A
 * user left with no item after the restriction is dropped (counted). */
typedef struct sg_user_split {
    sg_interactions *train;
    sg_interactions *val_foldin, *val_heldout;
    sg_interactions *test_foldin, *test_heldout;
    int n_dropped_users;      /* held-out users without any training item */
} sg_user_split;

void sg_split_opts_default(sg_split_opts *o);

/* Users with at least 'min_items' items are eligible; they are shuffled with
 * 'seed' and the first round(test_users * n_eligible) become test users, the
 * next round(val_users * n_eligible) validation users; everybody else trains.
 * Deterministic for a seed.  The split is owned by the caller
 * (sg_user_split_deinit); on error it is left empty.  SG_EINVAL (shares outside
 * [0,1), test + val >= 1, heldout outside (0,1)), SG_ENOMEM. */
int sg_interactions_split(sg_user_split *out, const sg_interactions *x, const sg_split_opts *o,
                          sg_error *err);
void sg_user_split_deinit(sg_user_split *s);

#endif
