#ifndef SEGEXPORT_EXTSORT_H
#define SEGEXPORT_EXTSORT_H
/* An external sort of KEY<TAB>RECORD lines by KEY (bytes, as LC_ALL=C sort
 * compares them), stable: lines of one key keep the order they were added in.
 * Lines are gathered in memory up to a bound; each full buffer is sorted and
 * written as a run to an unlinked temporary file in dir; at the end the runs
 * are merged (a heap over one buffered reader per run) into one more unlinked
 * file.  Memory: the bound, plus 64 KiB and the longest line per run while
 * merging.  Disk: twice the lines.  Temporary files are unlinked as soon as
 * they are made, so nothing is left behind whatever happens to the process. */
#include <stddef.h>

typedef struct se_extsort se_extsort;

/* dir: where the temporary files go; mem: the in-memory bound in bytes.
 * NULL on out of memory. */
se_extsort *se_extsort_new(const char *dir, size_t mem);

/* Adds the line key[0..klen) TAB rec[0..rlen) (key holds no TAB or LF).
 * 0, or -1 with "reason" in err (out of memory, a write error). */
int se_extsort_add(se_extsort *s, const char *key, size_t klen, const char *rec, size_t rlen,
                   char *err, size_t errlen);

/* Sorts what was added into an unlinked temporary file whose descriptor it
 * returns (offset 0; the caller closes it), or -1 with err. */
int se_extsort_finish(se_extsort *s, char *err, size_t errlen);

/* Lines added so far, and runs written. */
size_t se_extsort_lines(const se_extsort *s);
size_t se_extsort_runs(const se_extsort *s);

void se_extsort_free(se_extsort *s); /* accepts NULL; closes every temporary file */

#endif
