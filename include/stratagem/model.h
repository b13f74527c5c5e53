/* model.h -- the model file container shared by every task.
 *
 * A model file is: the magic "SGM1", a format version (uint32), the task
 * (uint32), the payload length (uint64), the payload written by the task's own
 * save function, and a CRC-32 of everything before it.  Reading checks each of
 * these and says what is wrong: not a model file, a newer format version, a
 * model of another task, a truncated or corrupt file.  Writing is atomic: the
 * file is written under a temporary name, flushed and renamed, so a crash never
 * leaves half a model behind. */
#ifndef SG_MODEL_H
#define SG_MODEL_H

#include <stddef.h>

#include "error.h"

#define SG_MODEL_FORMAT_VERSION 1

typedef enum sg_task {
    SG_TASK_RESPONSE = 1,   /* conversion / value prediction (response.h) */
    SG_TASK_UPLIFT = 2,
    SG_TASK_RECOMMEND = 3,
    SG_TASK_SYNTH = 4,
    SG_TASK_CREATIVE = 5,
    SG_TASK_SIMULATE = 6,
    SG_TASK_PROMO = 7,      /* price and promotion response (promo.h) */
    SG_TASK_BUDGET = 8,     /* media mix: channel spends and an outcome (budget.h) */
} sg_task;

/* "response", "uplift", ...; "unknown" otherwise. Static. */
const char *sg_task_name(int task);

/* Write 'payload' (len bytes) as a model file of 'task' at 'path', atomically. */
int sg_modelfile_write(const char *path, int task, const unsigned char *payload, size_t len,
                       sg_error *err);

/* Read a model file: *task and *payload (owned by caller, sg_free) with *len.
 * 'want_task' > 0 makes a model of another task an error (SG_EINVAL) naming both. */
int sg_modelfile_read(const char *path, int want_task, int *task, unsigned char **payload,
                      size_t *len, sg_error *err);

/* The task of model file 'path' from its header alone (the file is not checked
 * further); 0 when 'path' is NULL, not a regular file (a FIFO is not waited on)
 * or not a model file. */
int sg_modelfile_task(const char *path);

#endif
