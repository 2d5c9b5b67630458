#ifndef SEGEXPORT_INPUT_H
#define SEGEXPORT_INPUT_H
/* One reader over a list of INPUTs, read in order as one stream of lines
 * (SPEC §3).  Each INPUT is a path or "-" (stdin).  Content decides the
 * format: plain, gzip, zstd, xz, bzip2, lz4, or a tar/zip archive whose regular
 * members are such streams (read in archive order, never extracted).
 * The reader owns its buffer and knows the current name and line. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct se_line {
    const char *data;   /* the line without its LF, CR or leading BOM; valid until the next call */
    size_t len;
    const char *name;   /* "dump.json", "stdin", or "dump.tar:member.json"; valid until the next call */
    uint64_t lineno;    /* 1-based, per file or archive member */
    bool too_long;      /* longer than max_record_bytes: data/len are empty, the line was skipped */
} se_line;

typedef struct se_input se_input;

/* Checks that every path can be opened (stat/open) so the CLI can fail with exit
 * 5 before a job exists.  Returns 0, or -1 with "PATH: strerror" in err. */
int se_input_check_paths(char *const *paths, size_t n, char *err, size_t errlen);

/* paths are borrowed and must outlive the reader; n == 0 means stdin. */
se_input *se_input_open(char *const *paths, size_t n, size_t max_record_bytes);
void se_input_free(se_input *in); /* accepts NULL; never closes fd 0 */

/* Next non-blank line.  Returns 1 with *line filled, 0 at the end of the last
 * input, -1 on a read/decompression error (message via se_input_error, naming
 * the input; reading cannot go on after that). */
int se_input_next(se_input *in, se_line *line);

const char *se_input_error(const se_input *in);

/* Bytes consumed from the inputs so far (compressed size), for progress. */
uint64_t se_input_bytes(const se_input *in);

#endif
