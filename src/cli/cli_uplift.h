/* cli_uplift.h -- the uplift commands of the stratagem program (cmd_uplift.c, cmd_plan.c).
 *
 * Each returns the process exit code (cli.h).  argv starts after the command
 * word ("train uplift": after "uplift"; the others: after the command name). */
#ifndef SG_CLI_UPLIFT_H
#define SG_CLI_UPLIFT_H

#include <stdint.h>

#include "stratagem/table.h"

/* stratagem train uplift --data LOG --treatment COL --control LABEL --outcome COL ... */
int cli_train_uplift(int argc, char **argv);
/* stratagem predict --model UPLIFT_MODEL ...: per customer and arm: outcome, effect, se */
int cli_predict_uplift(int argc, char **argv);
/* stratagem evaluate --model UPLIFT_MODEL --data LOG: held-out Qini / AUUC / uplift@k */
int cli_evaluate_uplift(int argc, char **argv);
/* stratagem evaluate --plan FILE --data LOG ...: IPS, SNIPS and DR value of a plan */
int cli_evaluate_plan(int argc, char **argv);
/* stratagem plan --model UPLIFT_MODEL --budget B --cost ARM=C,...: called by cmd_plan */
int cli_plan_uplift(int argc, char **argv);

/* 1 if argv holds '--model FILE' / '-m FILE' / '--model=FILE' naming a readable
 * uplift model file, else 0 (other tasks, unreadable files: the caller's own
 * error path reports them). */
int cli_model_is_uplift(int argc, char **argv);
/* 1 if argv holds the option '--NAME' (with or without '=value'). */
int cli_has_option(int argc, char **argv, const char *name);

/* Parse "ARM=V,ARM=V" against the arm labels (arm 0 = control, which may not
 * be named).  Values go to out[a] (double) for the named arms; 'seen[a]' (A)
 * marks them.  Prints a usage error naming the bad part and returns EXIT_USAGE,
 * or 0. */
int cli_parse_arm_values(const char *cmd, const char *opt, const char *spec, char **labels, int A,
                         double *out, uint8_t *seen);

/* Help texts: "train" (train uplift), "plan", "predict", "evaluate"; NULL otherwise. */
const char *cli_uplift_help(const char *topic);

#endif
