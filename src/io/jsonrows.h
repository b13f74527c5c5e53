/* jsonrows.h -- JSON records read as CSV records (internal to the CSV reader).
 *
 * sg_csv_open / sg_csv_open_mem read a source whose name ends in .json, .jsonl
 * or .ndjson (any case) with this reader instead of the CSV parser, so that
 * every reader of a table (sg_table_load_*, the workspace import, feedback
 * files) takes JSON with the same checks and messages.  See csv.h for the
 * record interface; jsonrows.c for the accepted input. */
#ifndef SG_JSONROWS_H
#define SG_JSONROWS_H

#include <stddef.h>
#include <stdint.h>

#include "../internal.h"
#include "stratagem/csv.h"

typedef struct sg_jsonrows sg_jsonrows;

/* 1 if 'name' ends in .json, .jsonl or .ndjson (case-insensitive). */
SG_INTERNAL int sg_jsonrows_is_json(const char *name);

/* Open a file ('fd' open for reading, owned by the reader when this succeeds)
 * or memory ('data', borrowed; 'fd' < 0).  The keys are collected here, so
 * syntax errors are reported here, with FILE:LINE:COL. */
SG_INTERNAL int sg_jsonrows_open(sg_jsonrows **out, const char *name, int fd, const char *data,
                                 size_t len, sg_error *err);
/* As sg_csv_next: the header (the keys) first, then one record per object. */
SG_INTERNAL int sg_jsonrows_next(sg_jsonrows *j, const sg_csv_field **fields, int *n_fields,
                                 sg_error *err);
SG_INTERNAL int64_t sg_jsonrows_line(const sg_jsonrows *j);
SG_INTERNAL int64_t sg_jsonrows_bytes_read(const sg_jsonrows *j);
SG_INTERNAL int64_t sg_jsonrows_size(const sg_jsonrows *j);
SG_INTERNAL void sg_jsonrows_free(sg_jsonrows *j);

/* The UTF-8 check of the CSV reader (csv.c): the length of the valid sequence at
 * 's' (lead byte >= 0x80; 'avail' bytes readable), or 0 and the reason in 'why'. */
SG_INTERNAL int sg_utf8_check(const unsigned char *s, size_t avail, char *why, size_t cap);

#endif
