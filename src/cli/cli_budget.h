/* cli_budget.h -- the budget (media-mix) commands of the stratagem program
 * (cmd_budget.c).
 *
 * Each returns the process exit code (cli.h).  argv starts after the command
 * word ("train budget" and "plan budget": after "budget"; the others: after
 * the command name; world: after "budget" or "budget-score"). */
#ifndef SG_CLI_BUDGET_H
#define SG_CLI_BUDGET_H

/* stratagem train budget --data SERIES --period COL --outcome COL --channels ... */
int cli_train_budget(int argc, char **argv);
/* stratagem plan [budget] --model BUDGET_MODEL --budget B ... */
int cli_plan_budget(int argc, char **argv);
/* stratagem evaluate --model BUDGET_MODEL --data SERIES */
int cli_evaluate_budget(int argc, char **argv);
/* stratagem predict --model BUDGET_MODEL --data SERIES --out FILE */
int cli_predict_budget(int argc, char **argv);
/* stratagem world budget ... | world budget-score ... ('sub' names which) */
int cli_world_budget(const char *sub, int argc, char **argv);
/* Help texts: "train", "plan", "evaluate", "predict", "world"; NULL otherwise. */
const char *cli_budget_help(const char *topic);

#endif
