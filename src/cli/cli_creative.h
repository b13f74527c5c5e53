/* cli_creative.h -- the creative task (product images) in the stratagem program.
 *
 * Entry points called by main.c and cmd_train.c:
 *   stratagem creative ...            cmd_creative (also 'creative score ...')
 *   stratagem train creative ...      cli_train_creative, argv after the task word
 * Each returns a process exit code (cli.h). */
#ifndef SG_CLI_CREATIVE_H
#define SG_CLI_CREATIVE_H

int cmd_creative(int argc, char **argv);
int cli_train_creative(int argc, char **argv);

/* Help text for 'topic': "creative" (the command and 'creative score') or "train"
 * (train creative); NULL for anything else.  Static. */
const char *cli_creative_help(const char *topic);

#endif
