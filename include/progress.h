#ifndef SEGEXPORT_PROGRESS_H
#define SEGEXPORT_PROGRESS_H
/* The progress display of a job run in this process: the engine reports
 * through se_pview_update (an se_export_progress_fn), this module decides what
 * stderr shows.
 *
 *   terminal (stderr a tty, or --progress on one): one line redrawn in place
 *     (CR, text, erase to end of line) at most 4 times a second; the last
 *     state stays on screen as one final line.
 *   --progress on a pipe or file: a plain line about once a second, and one
 *     final line.
 *   (SEGEXPORT_PROGRESS_MS sets the least time between two reading states.)
 *   Hadoop Streaming (environment mapreduce_task_partition set):
 *     "reporter:status:..." lines and "reporter:counter:segexport,NAME,N"
 *     increments, which the framework reads from stderr.
 *   -q: nothing, unless --progress was given explicitly; --no-progress: nothing.
 *
 * The final line says "done" only when se_pview_end is told the job
 * SUCCEEDED.  -v adds a line per archive written (path, rows, bytes), in any
 * mode.  Thread-safe: the signal thread may call se_pview_interrupt while the
 * engine's thread draws. */
#include <stdbool.h>
#include <stdint.h>
#include "export.h"
#include "opts.h"

typedef struct se_pview se_pview;

/* inputs as the job reads them (n == 0: stdin); their total size is known
 * when every one is a regular file (stdin too, when redirected from one).
 * o->cmd SE_CMD_MERGE: a job that reads nothing.  NULL only when out of memory. */
se_pview *se_pview_new(const se_opts *o, int64_t job_id, char *const *inputs, size_t n);
void se_pview_update(void *pview, const se_export_progress *p);
/* The job's final counts (its record's), for the final line: the engine's
 * last report may predate them (a job that fails stops without one). */
void se_pview_counts(se_pview *v, uint64_t records, uint64_t profiles, uint64_t rows);
/* The job is over: the final line ("done" when succeeded, else "FAILED"). */
void se_pview_end(se_pview *v, bool succeeded);
/* SIGINT arrived: the terminal echoed ^C on the current line; start a new one. */
void se_pview_interrupt(se_pview *v);
void se_pview_free(se_pview *v); /* accepts NULL */

/* "12.3 MB", "980 kB", "512 B" (decimal units) into buf. */
const char *se_human_bytes(uint64_t n, char *buf, size_t len);

#endif
