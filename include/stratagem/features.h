/* features.h -- customer features from an event history (prep: RFM, windows,
 * affinity).
 *
 * An event table holds one row per event (an order, a visit, a rating): the
 * customer, when it happened, and optionally an amount (money) and a category
 * (department, genre, channel).  sg_features_build turns it into one row per
 * customer as of a cut-off time, using only the events at or before it:
 *
 *   recency_days        cut-off minus the last event
 *   tenure_days         cut-off minus the first event
 *   frequency           events
 *   mean_gap_days       (last - first) / (events - 1); missing with one event
 *   events_<W>d         events in the W days up to the cut-off, (cut-off - W,
 *                       cut-off], for each window W
 *   amount_total, amount_mean, amount_<W>d      with an amount column (events
 *                       with a missing amount are left out of these)
 *   share_<label>       with a category column: the share of the customer's
 *                       events in each of the 'top_categories' most frequent
 *                       categories, and share_other for the rest
 *
 * With label_days > 0 it also gives what happened after the cut-off, as
 * targets for a model (never as features): active_next_<D>d (1 if the
 * customer had an event in the D days after it, else 0) and, with an amount,
 * amount_next_<D>d.  A customer whose first event comes after the cut-off is
 * not a row (unknown at the cut-off).  One pass over the events; memory is
 * customers x features. */
#ifndef SG_FEATURES_H
#define SG_FEATURES_H

#include <stdint.h>

#include "error.h"
#include "table.h"

enum { SG_TIME_UNSET = 0, SG_TIME_DAYS = 1, SG_TIME_SECONDS = 2 };

typedef struct sg_features_opts {
    const char *customer;       /* customer column, category or id (required) */
    const char *time;           /* time column (required): a date, or numbers in 'time_unit' */
    const char *amount;         /* money per event, or NULL */
    const char *category;       /* category per event, or NULL */
    int time_unit;              /* for a number time column: SG_TIME_DAYS or SG_TIME_SECONDS
                                   (Unix time); required there, never guessed */
    double as_of;               /* cut-off in days since 1970-01-01; NaN: the last event */
    const int *windows;         /* window lengths in days (> 0), or NULL: 30, 90, 365 */
    int n_windows;
    int top_categories;         /* categories given a share column (default 10, 0..1000) */
    int label_days;             /* > 0: targets of the D days after the cut-off */
} sg_features_opts;

void sg_features_opts_default(sg_features_opts *o);

typedef struct sg_features {
    int64_t n;                  /* customers (rows) */
    char **ids;                 /* (n) customer labels, owned */
    int n_cols;                 /* features and targets */
    char **names;               /* (n_cols) column names, owned */
    int n_targets;              /* the last n_targets columns are targets */
    double *x;                  /* (n, n_cols) row-major, NaN = missing */
    double as_of;               /* the cut-off used (days since 1970-01-01) */
    int64_t n_used;             /* events at or before the cut-off */
    int64_t n_after;            /* events after it (targets only) */
    int64_t n_no_customer;      /* events without a customer, skipped */
} sg_features;

/* Build the features of 'events'.  Errors: SG_ENOTFOUND (a column), SG_EINVAL
 * (bad options: a customer column that is not a category or id, a number
 * time column without a unit, targets (label_days) without a cut-off, bad
 * windows or top_categories),
 * SG_EPARSE (an event without a time, naming file and line), SG_ENOMEM.
 * 'out' is filled on success (sg_features_deinit), untouched on failure. */
int sg_features_build(const sg_table *events, const sg_features_opts *o, sg_features *out,
                      sg_error *err);
void sg_features_deinit(sg_features *f);

#endif
