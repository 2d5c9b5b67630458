#ifndef SEGEXPORT_STITCH_INT_H
#define SEGEXPORT_STITCH_INT_H
/* Between stitch.c (the stitcher, pass 1 and its verdicts) and
 * stitch_run.c (a job: pass 2, the sort, the keyed engine). */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stitch.h"

#define PREFETCH 4 /* lines looked ahead for the graph's cache misses */

/* One line's verdict, in input order (too-long lines have none): its length
 * (a check that pass 2 reads the same line) and, for a good record, the hash
 * of its key identity, so pass 2 neither parses nor validates it again.  A
 * bad record (good 0) is read again by pass 2, which words the reason. */
typedef struct verdict {
    uint32_t len, good;
    uint64_t h;
} verdict;

/* Verdicts go through a buffer to an unlinked temporary file: 16 bytes a
 * line on disk, VBUF in memory. */
#define VBUF 4096
typedef struct vspool {
    int fd;
    verdict v[VBUF];
    size_t n, pos;             /* filled, and (reading) taken */
} vspool;

/* The next verdict: 1, 0 at the end, -1 on a read error. */
int se_st_vs_get(vspool *vs, verdict *out);

/* Pass 1 (se_stitcher_read); with vs, every line's verdict goes there. */
int se_st_read_graph(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                     volatile sig_atomic_t *cancel, vspool *vs, char *err, size_t errlen);

/* The key text of the component of the identity with hash h (as
 * se_stitcher_key gives it): 1, or -1 with err. */
int se_st_key_of_hash(se_stitcher *st, uint64_t h, const char **key, size_t *klen, unsigned *size,
                      char *err, size_t errlen);

#endif
