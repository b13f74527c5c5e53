/* csv.h -- streaming RFC 4180 CSV reader.
 *
 * Reads one record at a time from a file (or a memory buffer) through a fixed
 * read buffer, so memory is bounded by the longest record, not the file.
 * Handles quoted fields with embedded commas, doubled quotes and newlines, LF,
 * CRLF and lone CR line ends, a UTF-8 byte-order mark, and validates UTF-8.
 * Field values are unescaped and NUL-terminated.  A quote inside an unquoted
 * field is kept as data (a"b is the 3 bytes a"b).
 *
 * Errors (unterminated quote, text after a closing quote, invalid UTF-8, a NUL
 * byte) are SG_EPARSE with "FILE:LINE:COL: ..." in the message, COL being the
 * 1-based byte column (a BOM is not counted); an unterminated quote is reported
 * where it opened.  The reader cannot continue after an error: later calls
 * return it again.  Record-width checks (ragged rows) are the caller's:
 * sg_csv_next returns whatever the record holds.
 *
 * A path (or, for memory input, a name) ending in .json, .jsonl or .ndjson is
 * read as JSON instead (src/io/jsonrows.c): JSON lines or an array of objects,
 * presented as records of the same interface, the keys as the header, so that
 * every reader of tables takes JSON as it takes CSV.  Such input is read whole
 * (its bytes) rather than streamed, and its syntax is checked at open. */
#ifndef SG_CSV_H
#define SG_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sg_csv sg_csv;

typedef struct sg_csv_field {
    const char *ptr;   /* unescaped, NUL-terminated; borrowed until the next sg_csv_next */
    size_t len;        /* bytes, without the NUL */
    int quoted;        /* 1 if the field was quoted in the file ("" is then an
                          empty string, not missing) */
} sg_csv_field;

/* Open 'path' for reading ("-" reads standard input, named "<stdin>" in
 * messages).  *out is owned by the caller (sg_csv_free).  SG_EIO if it cannot
 * be opened or read, SG_ENOMEM.  On failure *out is unchanged. */
int sg_csv_open(sg_csv **out, const char *path, sg_error *err);

/* Read from a memory buffer (borrowed: must outlive the reader); 'name' is used in messages. */
int sg_csv_open_mem(sg_csv **out, const char *name, const char *data, size_t len, sg_error *err);

/* Read the next record.  Returns 1 and sets *fields / *n_fields (borrowed until
 * the next call) when a record was read, 0 at end of input, or a negative code
 * (SG_EPARSE, SG_EIO, SG_ENOMEM).  Blank lines at the very end of the file are
 * not records; a blank line elsewhere is a record with one empty field. */
int sg_csv_next(sg_csv *c, const sg_csv_field **fields, int *n_fields, sg_error *err);

/* 1-based line number where the last record returned started (records with
 * quoted line ends span several lines). */
int64_t sg_csv_line(const sg_csv *c);
/* The name given at open (the path). Borrowed. */
const char *sg_csv_name(const sg_csv *c);
/* Bytes consumed so far, and the total size (-1 when unknown, e.g. a pipe): for progress. */
int64_t sg_csv_bytes_read(const sg_csv *c);
int64_t sg_csv_size(const sg_csv *c);

void sg_csv_free(sg_csv *c);   /* NULL is a no-op */

#endif
