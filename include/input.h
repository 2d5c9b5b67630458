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
#include <string.h>
#include <sys/types.h>

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

/* Block reading, the pipeline's way (not mixed with se_input_next on one
 * reader): the caller cuts lines itself, with the rules below.
 * se_input_stream moves to the next stream of lines (a plain INPUT or an
 * archive member): 1 with its name in se_input_name, 0 when none is left, -1
 * on error.  se_input_read puts up to cap (> 0) bytes of the current stream
 * into buf: straight from the file with read() for a plain regular file,
 * else copied from libarchive's decompressed blocks.  It returns how many, 0
 * at the stream's end, -1 on a read/decompression error (the same messages
 * as se_input_next).  Both may block and are cancellation points. */
int se_input_stream(se_input *in);
const char *se_input_name(const se_input *in);
ssize_t se_input_read(se_input *in, char *buf, size_t cap);

/* The line rules (SPEC §3), shared by se_input_next and the pipeline.  A
 * physical line is the bytes before an LF (or the end of a stream), numbered
 * from 1 in each stream.  se_line_hold: how many bytes of an unfinished line
 * may be held before it is known to be too long (the limit, plus a CR that
 * will be stripped, plus a BOM on line 1).  se_line_trim strips the BOM (line
 * 1) and a trailing CR; it returns 1 for a line (*d, *n updated), 0 for a
 * blank one (only spaces, tabs, CRs: not handed out), 2 for a too-long one. */
static inline size_t se_line_hold(uint64_t lineno, size_t max)
{
    size_t extra = lineno == 1 ? 4 : 1;
    return max > SIZE_MAX - extra ? SIZE_MAX : max + extra;
}

static inline int se_line_trim(const char **d, size_t *n, uint64_t lineno, size_t max)
{
    const char *p = *d;
    size_t len = *n;
    if (lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    if (len > 0 && p[len - 1] == '\r')
        len--;
    if (len > max)
        return 2;
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    if (i == len)
        return 0;
    *d = p;
    *n = len;
    return 1;
}

#endif
