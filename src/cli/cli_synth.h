/* cli_synth.h -- the synthetic-data and simulator commands of the stratagem program
 * (cmd_synth.c).
 *
 * Each returns the process exit code (cli.h).  argv starts after the task word for
 * "train synth" / "train simulate" (after "synth" / "simulate"), after the command
 * name for the others. */
#ifndef SG_CLI_SYNTH_H
#define SG_CLI_SYNTH_H

/* stratagem train synth --data FILE [--id COL] [--target COL] [--model gan|tvae] --out MODEL */
int cli_train_synth(int argc, char **argv);
/* stratagem train simulate --data LOG --treatment COL --control LABEL --outcome COL[,COL]
 *                          --out MODEL */
int cli_train_simulate(int argc, char **argv);
/* stratagem synth --model MODEL --rows N --out FILE [--report FILE.json] */
int cmd_synth(int argc, char **argv);
/* stratagem simulate --model MODEL --plan plan.csv --data CUSTOMERS */
int cmd_simulate(int argc, char **argv);

/* Help texts: "synth", "simulate", "train synth", "train simulate"; NULL otherwise. */
const char *cli_synth_help(const char *cmd);

#endif
