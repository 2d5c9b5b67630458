#ifndef SEGEXPORT_ZIPSPOOL_H
#define SEGEXPORT_ZIPSPOOL_H
/* A zip batch from a gzspool stream (gzspool.h): the rows are deflated while
 * the job runs, as for tar.gz; this assembles the zip at the end - manifest.json
 * (deflated here) first, then part-00000.json ... (their spooled segments
 * closed with an empty final block), the central directory.  Bytes depend only
 * on the rows, never on the thread. */
#include "gzspool.h"

/* Writes the whole zip to out_fd (level: the manifest's deflate level, the
 * stream's own).  0, or -1 with err: "spool: reason" when the spool failed
 * (*spool_failed set), else why writing out_fd failed. */
int se_zip_write_archive(se_gzs *s, int level, int out_fd, const char *mtext, size_t mlen,
                         const se_gz_part *parts, size_t nparts, int64_t mtime_s,
                         int *spool_failed, char *err, size_t errlen);

/* Tests: nonzero writes zip64 fields on every entry and the end record. */
extern int se_zip_force64;

#endif
