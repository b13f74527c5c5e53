/* cli_recommend.h -- the recommend task in the stratagem program (cmd_recommend.c).
 *
 * Entry points called by main.c and the generic commands:
 *   stratagem recommend ...            cmd_recommend (also 'recommend split ...')
 *   stratagem train recommend ...      cli_train_recommend, argv after the task word
 *   stratagem evaluate --foldin F ...  cli_evaluate_recommend, the evaluate arguments
 *   stratagem predict --model REC ...  cli_predict_recommend when cli_is_recommend_model
 * Each returns a process exit code (cli.h). */
#ifndef SG_CLI_RECOMMEND_H
#define SG_CLI_RECOMMEND_H

int cmd_recommend(int argc, char **argv);
int cli_train_recommend(int argc, char **argv);
int cli_evaluate_recommend(int argc, char **argv);
int cli_predict_recommend(int argc, char **argv);

/* 1 when the file at 'path' is a stratagem model file of the recommend task
 * (reads only its 12-byte header, as documented in model.h), else 0. */
int cli_is_recommend_model(const char *path);

/* Help text for 'topic': "recommend" (the command and 'recommend split'),
 * "train" (train recommend), "evaluate" (--foldin/--heldout), "predict"
 * (embeddings); NULL for anything else.  Static. */
const char *cli_recommend_help(const char *topic);

#endif
