#ifndef SEGEXPORT_EXTSORT_H
#define SEGEXPORT_EXTSORT_H
/* An external sort of KEY<TAB>RECORD lines by KEY (bytes, as LC_ALL=C sort
 * compares them), stable: lines of one key keep the order they were added in.
 * Lines are gathered in two buffers of half the bound each: when one is full
 * it is sorted and written as a run to an unlinked temporary file in dir on a
 * thread of its own while the other fills.  At the end the runs and the last
 * buffer (sorted in memory, never written) are merged by a heap over one
 * buffered reader per run, into one more unlinked file (se_extsort_finish)
 * or into a pipe by a thread (se_extsort_stream), so the merge runs beside
 * whatever reads it.  Memory: the bound, plus 64 KiB and the longest line per
 * run while merging.  Disk: the lines once (finish: twice); nothing when they
 * fit in half the bound and are streamed.  Temporary files are made
 * nameless (O_TMPFILE), so nothing is left behind whatever happens to the
 * process; where the file system cannot, named ".<owner>.sort-XXXXXX" and
 * unlinked at once: owner is a batch id of the job, whose sweeps
 * (se_batch_remove_temps) remove one a kill -9 left between the two. */
#include <stddef.h>

typedef struct se_extsort se_extsort;

/* dir: where the temporary files go (the batches' directory); owner: the
 * batch id their fallback names carry; mem: the in-memory bound in bytes.
 * NULL on out of memory. */
se_extsort *se_extsort_new(const char *dir, const char *owner, size_t mem);

/* Adds the line key[0..klen) TAB rec[0..rlen) (key holds no TAB or LF).
 * 0, or -1 with "reason" in err (out of memory, a write error). */
int se_extsort_add(se_extsort *s, const char *key, size_t klen, const char *rec, size_t rlen,
                   char *err, size_t errlen);

/* Sorts what was added into an unlinked temporary file whose descriptor it
 * returns (offset 0; the caller closes it), or -1 with err. */
int se_extsort_finish(se_extsort *s, char *err, size_t errlen);

/* The same order as se_extsort_finish, streamed: returns the read end of a
 * pipe (the caller closes it) that a thread fills, or -1 with err.  A failure
 * of the thread (a temporary file's read error) calls on_fail(ud, reason)
 * from the thread before the pipe shows its end, so the reader can tell a
 * complete stream from a cut one; a reader that closes its end early is no
 * failure.  Call se_extsort_stream_end once the reader is done or has
 * closed the read end (never before: the thread may wait for room). */
int se_extsort_stream(se_extsort *s, void (*on_fail)(void *ud, const char *err), void *ud,
                      char *err, size_t errlen);

/* Waits for the stream's thread: 0, or -1 with err when it failed. */
int se_extsort_stream_end(se_extsort *s, char *err, size_t errlen);

/* An unlinked temporary file in dir, as the sort makes its own (owner as
 * for se_extsort_new): the descriptor (read and write), or -1 with err. */
int se_extsort_tempfile(const char *dir, const char *owner, char *err, size_t errlen);

/* Lines added so far, and runs written. */
size_t se_extsort_lines(const se_extsort *s);
size_t se_extsort_runs(const se_extsort *s);

/* Accepts NULL; closes every temporary file (after a stream, the read end
 * must be closed first). */
void se_extsort_free(se_extsort *s);

#endif
