/* store.h -- the workspace: imported tables, the prediction ledger and feedback.
 *
 * A workspace is a SQLite database file (the default: nothing to start) or a
 * PostgreSQL database named by a "postgresql://..." (or "postgres://...") URI,
 * reached through libpq.  Both hold the same schema and behave the same; the
 * backend is chosen from the workspace string alone.
 *
 * Schema (version SG_STORE_SCHEMA_VERSION, kept in the 'meta' table):
 *   meta           key/value: application = stratagem, schema_version, created
 *   imports        one row per import or feedback file: kind, plan_id (feedback),
 *                  source path, sha256 of the bytes, size, rows, inserted, updated, time
 *   table_columns  (kind, pos, name): the columns of each data table, in the order
 *                  they first appeared; a later import may add columns at the end
 *   table_roles    (kind, role, val): the id column of each data table and the
 *                  roles of the campaign log (treatment, control, outcome,
 *                  propensity, value) as given at import
 *   customers, products, events, campaigns, spend
 *                  (seq, row_key, cells, import_id): one row per record; 'cells' is
 *                  a JSON object {"column": "text as in the file", ...} with null
 *                  for a missing value; 'seq' keeps the order rows first arrived
 *   models         (id, path, sha256, created) of every model a plan used
 *   plans          model, input data and its sha256, plan file and its sha256,
 *                  objective, units, control label, the forecast (effect, cost,
 *                  net, each with its interval), the summary JSON as given, and
 *                  the latest feedback: realised effect, its interval, coverage
 *   plan_rows      (plan_id, customer, arm, planned_arm, propensity,
 *                  expected_effect, predicted_effect, se, cost, cells,
 *                  planned_effect): one row
 *                  per customer of a plan; 'cells' is a snapshot of the
 *                  customer's features when the plan was made
 *   outcomes       every row of every feedback file: plan, customer, status
 *                  (ok, duplicate, outside, unknown, no_outcome), executed arm,
 *                  propensity, the compared outcome, all values of the row
 *
 * Values are stored as the text of the file, so reading a table back
 * (sg_store_load_table) gives exactly the types a CSV with the same rows would
 * give: the rows are written out as CSV in memory and read by
 * sg_table_load_mem with the caller's options.
 *
 * Imports (sg_store_import_csv) are atomic: the file is first read and checked
 * in full with sg_table_load_csv (any bad row fails the import with SG_EPARSE
 * and nothing is written), then written in ONE transaction: a crash, a kill -9,
 * a full disk or an allocation failure leaves the workspace as it was.  A file
 * whose SHA-256 was already imported as the same kind is not imported again
 * ('skipped' in the result).
 *
 * Upsert rule.  The key of a row is the text of its id column.  A row whose key
 * is new is appended.  A row whose key is already stored is MERGED column by
 * column: every column of the new file replaces the stored value (a missing
 * value in the new file clears it), and columns the new file does not have
 * keep their stored values.  The row keeps its place in the table.  Within one
 * file, duplicate ids follow the load options ('dedup': an error by default).
 * Events and spend may be imported without an id: their rows are then only
 * appended, keyed by import and line.
 *
 * SQLite settings: journal_mode=WAL (readers do not block the writer, and a
 * crashed writer leaves only uncommitted frames that are ignored on the next
 * open) and synchronous=FULL (a committed import survives a power cut: an
 * import commits once, so the extra fsync costs nothing noticeable);
 * foreign_keys=ON; busy_timeout 10 s.  PostgreSQL: rows are sent with COPY
 * into a temporary table and merged with one INSERT ... ON CONFLICT.
 *
 * Every function returns SG_OK or a negative code and fills 'err' (NULL
 * allowed): SG_EIO for database errors (message "WS: ..." with the backend's
 * text), SG_EPARSE for bad input files (FILE:LINE: ...), SG_EINVAL for bad
 * arguments, SG_ENOTFOUND for a missing workspace, plan or table, SG_ENOMEM.
 * See LICENSE for copyright. */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stdint.h>

#include "error.h"
#include "table.h"

typedef struct sg_store sg_store;

#define SG_STORE_SCHEMA_VERSION 3
#define SG_STORE_NAME_MAX 256    /* longest column name kept in the fixed-size records below */

/* The data tables of a workspace. */
enum {
    SG_STORE_CUSTOMERS = 0,
    SG_STORE_PRODUCTS = 1,
    SG_STORE_EVENTS = 2,
    SG_STORE_CAMPAIGNS = 3,
    SG_STORE_SPEND = 4,
    SG_STORE_N_KINDS = 5,
};

/* "customers", ...; NULL when out of range.  Static. */
const char *sg_store_kind_name(int kind);
/* The kind named 'name', or -1. */
int sg_store_kind_parse(const char *name);
/* 1 if 'ws' names a PostgreSQL workspace (a postgresql:// or postgres:// URI). */
int sg_store_is_pg(const char *ws);

/* ---------------------------------------------------------------- opening */

enum { SG_STORE_OPEN = 0, SG_STORE_CREATE = 1 };

/* Open the workspace 'ws' (a file path or a PostgreSQL URI).  'mode'
 * SG_STORE_CREATE creates the schema when the database is new or empty (a
 * SQLite file is created) and opens it as is when it already is a workspace;
 * SG_STORE_OPEN requires an existing workspace (SG_ENOTFOUND: "no workspace
 * at WS").  An older schema is migrated in one transaction; a newer one is
 * refused (SG_EIO, naming both versions); a database that is not a workspace
 * (tables but no stratagem meta, or not a SQLite file) is refused (SG_EIO).
 * *out is owned by the caller (sg_store_close) and unchanged on failure. */
int sg_store_open(sg_store **out, const char *ws, int mode, sg_error *err);
void sg_store_close(sg_store *s);   /* NULL is a no-op */

const char *sg_store_backend(const sg_store *s);   /* "sqlite" or "postgresql"; static */
/* The 'ws' given, with a PostgreSQL password replaced by "***" (as in every
 * message); borrowed. */
const char *sg_store_path(const sg_store *s);
/* Schema version found on open before any migration (SG_STORE_SCHEMA_VERSION
 * for a new or current workspace). */
int sg_store_found_version(const sg_store *s);
/* 1 if sg_store_open created the schema. */
int sg_store_created(const sg_store *s);

/* Use a fixed clock (seconds since 1970, UTC) for every time written from now
 * on; t < 0 returns to the real clock.  For reproducible tests. */
void sg_store_set_time(sg_store *s, int64_t t);

/* SHA-256 of a file's bytes as 64 lowercase hex digits + NUL into 'hex';
 * *bytes (NULL allowed) gets its size.  SG_EIO if it cannot be read. */
int sg_store_sha256_file(const char *path, char hex[65], int64_t *bytes, sg_error *err);

/* ---------------------------------------------------------------- imports */

typedef struct sg_import_opts {
    int kind;                 /* SG_STORE_CUSTOMERS, ... */
    sg_load_opts load;        /* validation: load.id_col is the key column (required
                                 for the first import of customers, products and
                                 campaigns; later imports default to the stored one
                                 and may not name another), dedup, forced types,
                                 on_error; on_progress is called in both passes */
    /* campaign log roles (campaigns only; NULL = keep what is stored): the columns
       must exist in the file; they are stored for 'feedback' */
    const char *treatment, *control, *outcome, *propensity, *value;
} sg_import_opts;

void sg_import_opts_default(sg_import_opts *o);

typedef struct sg_import_result {
    int64_t import_id;        /* this import, or the earlier one when skipped */
    int skipped;              /* 1: the same bytes were imported before as this kind */
    int64_t rows;             /* rows in the file (after dedup) */
    int64_t inserted, updated;/* new keys, merged keys */
    int n_new_cols;           /* columns added to the table */
    int64_t bytes;
    char sha256[65];
    char time[32];            /* of this import (or the earlier one), ISO 8601 UTC */
} sg_import_result;

/* Import the CSV file 'path' as 'o->kind' (see the header comment).  'res' is
 * filled on success (also when skipped).  Errors: SG_EPARSE (bad data: every
 * message went to o->load.on_error, the summary is in 'err'), SG_EINVAL (no id
 * column for a keyed table, an id column other than the stored one, a role
 * column that does not exist in the file, a non-campaign kind with roles),
 * SG_EIO, SG_ENOMEM.  On any error the workspace is unchanged. */
int sg_store_import_csv(sg_store *s, const char *path, const sg_import_opts *o,
                        sg_import_result *res, sg_error *err);

/* Read data table 'kind' back as a table (rows in the order they first
 * arrived), with the options 'o' (NULL: defaults).  When o->id_col is NULL the
 * stored id column is used.  The table is named "WS:KIND" and its line numbers
 * are 1 + the row position.  SG_ENOTFOUND if nothing was ever imported into
 * it.  *out is owned by the caller (sg_table_free). */
int sg_store_load_table(sg_store *s, int kind, const sg_load_opts *o, sg_table **out,
                        sg_error *err);

/* Stored role 'role' ("id", "treatment", "control", "outcome", "propensity",
 * "value") of table 'kind' into buf ("" when none).  Returns SG_OK or SG_EIO. */
int sg_store_role(sg_store *s, int kind, const char *role, char *buf, size_t cap, sg_error *err);

/* ---------------------------------------------------------------- status */

typedef struct sg_store_info {
    int schema_version;
    int64_t rows[SG_STORE_N_KINDS];
    int n_cols[SG_STORE_N_KINDS];
    char id_col[SG_STORE_N_KINDS][SG_STORE_NAME_MAX];   /* "" when none */
    int64_t n_imports, n_models, n_plans, n_plan_rows, n_outcomes;
} sg_store_info;

int sg_store_info_get(sg_store *s, sg_store_info *out, sg_error *err);

typedef struct sg_import_record {
    int64_t id, plan_id;       /* plan_id: the plan of a feedback file, else 0 */
    const char *kind, *source, *sha256, *time;   /* borrowed during the callback */
    int64_t bytes, rows, inserted, updated;
} sg_import_record;

/* Call fn for every import, oldest first; a non-zero return from fn stops and
 * is returned. */
int sg_store_imports(sg_store *s, int (*fn)(void *ud, const sg_import_record *r), void *ud,
                     sg_error *err);

/* ---------------------------------------------------------------- ledger */

typedef struct sg_forecast_in {
    double effect, effect_lo, effect_hi;   /* incremental outcome (or conversions) */
    double cost, net, net_lo, net_hi;      /* net = effect - cost */
    double level;                          /* of the intervals, e.g. 0.9 */
} sg_forecast_in;

typedef struct sg_plan_input {
    const char *plan_path;         /* the plan CSV: ID,action,expected_effect,cost[,
                                      predicted_effect][,se][,propensity][,planned_action]
                                      [,planned_effect]:
                                      the first column is the customer id; 'action' the
                                      arm to execute (the control label for nobody);
                                      'propensity' the probability the plan's policy
                                      chose that action (default 1); 'planned_action'
                                      the action before exploration (default 'action');
                                      'planned_effect' the expected effect of that action
                                      (default expected_effect), which orders the groups */
    const char *model_path;        /* recorded with its sha256 (NULL: none) */
    const char *data;              /* the customer data given to the planner (a path or
                                      WS:TABLE), recorded as text, with 'data_sha256' */
    const char *data_sha256;
    const char *summary;           /* the plan's JSON summary (text, stored as is) or NULL */
    const char *objective;         /* "value" or "conversions" */
    const char *units;             /* the outcome column for "value" */
    const char *control;           /* the control label (required) */
    sg_forecast_in forecast;
    const sg_table *features;      /* the customer data (NULL: no snapshot): the row of
                                      each customer is stored with the plan, so feedback
                                      can add it to the campaign log */
    const char *features_id;       /* its id column; NULL: plan ids are 1-based row numbers */
} sg_plan_input;

/* Store a plan in one transaction and set *plan_id.  SG_EPARSE for a bad plan
 * file (FILE:LINE: a missing column, a duplicate customer, an empty action, a
 * propensity outside (0, 1]), SG_EINVAL for a missing control label or a
 * customer absent from 'features' (the message names the first and the count),
 * SG_EIO, SG_ENOMEM.  Nothing is stored on failure. */
int sg_store_plan_add(sg_store *s, const sg_plan_input *p, int64_t *plan_id, sg_error *err);

typedef struct sg_plan_record {
    int64_t id, model_id;
    const char *time, *model, *model_sha256, *data, *data_sha256;   /* borrowed in fn */
    const char *plan_path, *plan_sha256, *objective, *units, *control, *summary;
    int64_t customers, treated, n_outcomes;
    sg_forecast_in forecast;
    int has_realised;              /* 1 once feedback could estimate the realised effect */
    double realised, realised_lo, realised_hi;
} sg_plan_record;

/* Call fn for plan 'plan_id' (0: every plan, oldest first).  SG_ENOTFOUND when
 * a given plan does not exist. */
int sg_store_plans(sg_store *s, int64_t plan_id, int (*fn)(void *ud, const sg_plan_record *r),
                   void *ud, sg_error *err);

/* ---------------------------------------------------------------- feedback */

#define SG_FEEDBACK_MAX_GROUPS 10

typedef struct sg_feedback_opts {
    const char *outcome;       /* results column compared with the predictions; NULL:
                                  the plan's units column if present, else the campaign
                                  log's outcome role, else the first outcome column */
    int n_groups;              /* groups of predicted effect (deciles: 10, the default) */
    int max_listed;            /* problem ids passed to on_problem per status (10) */
    void (*on_problem)(void *ud, const char *msg);   /* "FILE:LINE: id 'X': ..." */
    void *ud;
} sg_feedback_opts;

void sg_feedback_opts_default(sg_feedback_opts *o);

typedef struct sg_feedback_group {
    int64_t n;                 /* targeted customers in the group */
    int64_t n_obs;             /* of them with an outcome */
    int64_t n_followed;        /* ... that got the planned action */
    int64_t n_held_out;        /* ... that got the control action instead */
    double pred_lo, pred_hi;   /* range of predicted effect per customer */
    double predicted;          /* mean predicted effect per customer */
    double observed;           /* mean outcome of those that followed the plan */
    int has_actual;            /* 1 when both followed and held-out rows exist */
    double actual, actual_se;  /* realised effect per customer (SNIPS), its standard error */
} sg_feedback_group;

typedef struct sg_feedback_report {
    int64_t plan_id;
    int skipped;               /* 1: this results file was recorded for the plan before */
    /* this call's results file */
    int64_t n_results, n_ok, n_duplicate, n_outside, n_unknown, n_no_outcome;
    int64_t n_campaign_rows;   /* rows added to the campaign log */
    int64_t n_not_logged;      /* ok rows not added (no snapshot, no propensity, no log) */
    int no_log;                /* 1: no campaign log with a treatment role to add them to */
    char outcome[SG_STORE_NAME_MAX];   /* the compared outcome column */
    int conversions;           /* 1: compared as conversions (outcome > 0) */
    /* the plan, over every outcome recorded for it so far */
    int64_t n_customers, n_targeted, n_with_outcome, n_targeted_obs;
    int64_t n_followed, n_held_out;    /* targeted rows with outcomes, by executed action */
    sg_forecast_in forecast;
    double predicted;          /* sum of the expected effects of the targeted customers */
    int identifiable;          /* 1: some targeted customers were held out at random */
    double realised, realised_se, realised_lo, realised_hi;   /* total incremental effect */
    double realised_net;       /* realised - planned cost */
    int covered;               /* forecast interval covers 'realised' */
    int net_covered;           /* forecast net interval covers 'realised_net' */
    double ratio;              /* realised / forecast effect (NaN if forecast is 0) */
    double calib_slope, calib_intercept;   /* realised on predicted group means (NaN: n/a) */
    double observed_followed, observed_untargeted;   /* mean outcomes */
    int n_groups;
    sg_feedback_group group[SG_FEEDBACK_MAX_GROUPS];   /* highest predicted effect first */
    int executed;              /* 1: every customer's action was drawn at random (all
                                  propensities < 1, as after plan --explore): 'predicted',
                                  'realised' and 'realised_net' are then those of the plan
                                  as executed, over all its customers (see ledger.c) */
} sg_feedback_report;

/* Record the results file 'path' for plan 'plan_id' and report predicted vs
 * actual.  The file's first column is the customer id; every other column is
 * an outcome named as in the campaign log, or the log's treatment column (the
 * action really executed) or propensity column.  Each row gets a status, and
 * every row is stored in 'outcomes' whatever its status:
 *   ok          a customer of the plan, first outcome for it: used
 *   duplicate   the id occurs earlier in the file, or already has an outcome
 *   outside     not in the plan, but a customer (or campaign-log key) of the workspace
 *   unknown     not in the plan nor in the workspace
 *   no_outcome  the compared outcome is missing
 * All but 'ok' are passed to o->on_problem (the first o->max_listed of each)
 * and counted in 'rep'; none is silently dropped.  The ok rows, with the
 * customer's features from the plan snapshot, the executed action and its
 * propensity, become rows of the campaign log with key "ID@planN" (columns the
 * log does not have are left out); this needs a campaign log with a treatment
 * role.  Everything is written in one transaction; the realised effect is
 * then stored with the plan.  The same file (sha256) given again for the same
 * plan changes nothing ('skipped') and reports again.  Errors: SG_ENOTFOUND
 * (no such plan), SG_EPARSE (bad file: no id or outcome column, a column that
 * is not in the campaign log, a non-number outcome or propensity, a
 * propensity outside (0, 1], an unknown action label), SG_EIO, SG_ENOMEM. */
int sg_store_feedback(sg_store *s, int64_t plan_id, const char *path, const sg_feedback_opts *o,
                      sg_feedback_report *rep, sg_error *err);

/* The report of plan 'plan_id' from the outcomes recorded so far (no file). */
int sg_store_feedback_report(sg_store *s, int64_t plan_id, const sg_feedback_opts *o,
                             sg_feedback_report *rep, sg_error *err);

#endif
