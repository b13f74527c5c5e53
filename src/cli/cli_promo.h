/* cli_promo.h -- the promo commands of the stratagem program (cmd_promo.c).
 *
 * Each returns the process exit code (cli.h).  argv starts after the command
 * word ("train promo" and "plan promo": after "promo"; the others: after the
 * command name). */
#ifndef SG_CLI_PROMO_H
#define SG_CLI_PROMO_H

/* stratagem train promo --data PANEL --store COL --product COL --week COL ... */
int cli_train_promo(int argc, char **argv);
/* stratagem plan [promo] --model PROMO_MODEL --data ITEMS --out PLAN.csv ... */
int cli_plan_promo(int argc, char **argv);
/* stratagem evaluate --model PROMO_MODEL --data PANEL */
int cli_evaluate_promo(int argc, char **argv);
/* stratagem predict --model PROMO_MODEL --data PANEL --out FILE */
int cli_predict_promo(int argc, char **argv);
/* Help texts: "train", "plan", "evaluate", "predict"; NULL otherwise. */
const char *cli_promo_help(const char *topic);

#endif
