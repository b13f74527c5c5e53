/* cli_workspace.h -- the workspace commands of the stratagem program (cmd_workspace.c):
 * init, import, status, plans, feedback; reading a workspace table as --data;
 * storing a plan in the ledger.
 *
 * Each cmd_* returns the process exit code (cli.h); argv starts after the
 * command name.
 *
 * A workspace table as --data is written WS:TABLE, where TABLE is one of
 * customers, products, events, campaigns, spend and WS a workspace file or a
 * postgresql:// URI, split at the LAST ':' ("ws.db:campaigns",
 * "postgresql://u@host:5432/db:campaigns").  A file whose whole name is the
 * spec is always read as a CSV; so is anything whose WS part is neither a URI
 * nor an existing file. */
#ifndef SG_CLI_WORKSPACE_H
#define SG_CLI_WORKSPACE_H

#include <jansson.h>
#include <stdint.h>

#include "cli.h"

int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_plans(int argc, char **argv);
int cmd_feedback(int argc, char **argv);

/* Help text of "init", "import", "status", "plans", "feedback" (NULL otherwise). */
const char *cli_workspace_help(const char *cmd);

/* 1 if 'spec' names a workspace table (WS:TABLE as above), else 0. */
int cli_is_ws_table(const char *spec);

/* Load workspace table 'spec' with the options 'o' (id, dedup, types, required
 * as for a CSV; without an id the table's stored id column is used), printing
 * errors and the row count as cli_load_table does.  Returns an exit code;
 * *out (owned by the caller, sg_table_free) is set on success. */
int cli_load_ws_table(const char *spec, const cli_data_opts *o, sg_table **out);

/* Store an uplift plan in the ledger of workspace 'ws' (plan --workspace WS):
 * the plan CSV 'plan_csv' (id, action, expected_effect, cost[, ...]), the
 * forecast and objective from 'summary' (the JSON written as --summary: reads
 * "forecast" {effect, effect_lo, effect_hi, cost, net, net_lo, net_hi, level},
 * "objective", "units" and, when present, "control"; else the control label
 * is read from the model), the model file (its sha256 is recorded) and the
 * customer data 'data' (a CSV path or WS:TABLE: its sha256, or the import it
 * reflects, is recorded, and each planned customer's row is snapshotted so
 * feedback can extend the campaign log).  Sets "plan_id" in 'summary' and
 * *plan_id.  Call it after plan.csv is written and before the summary is.
 * Prints only errors (the caller says "stored plan N").  Returns an exit code. */
int cli_ledger_store_plan(const char *ws, const char *plan_csv, json_t *summary,
                          const char *model_path, const char *data, int64_t *plan_id);

#endif
