#ifndef SEGEXPORT_STITCH_H
#define SEGEXPORT_STITCH_H
/* Identity stitching (identityGraph "pdg", SPEC §4) as a layer around the
 * keyed path:
 *   pass 1  reads every INPUT and builds the identity graph (idgraph.h);
 *   pass 2  reads them again and gives each record its component's key:
 *           `key --graph` prints KEY<TAB>RECORD lines; `run` sorts them
 *           (extsort.h, bounded memory, unlinked temporary files) and streams
 *           the sorted lines into the ordinary engine as --keyed input.
 * So `run` over files and `key --graph | sort | run --keyed` are one path.
 * In `run`, pass 1 also leaves a verdict per line (16 bytes in an unlinked
 * temporary file: its length and, for a good record, its key identity's
 * hash), so pass 2 neither parses nor validates a good record again; a bad
 * one is read again there and reported with its input name and line.
 * Both passes read the INPUTs, hence files only: stdin and FIFOs cannot be
 * read twice (se_stitch_check_inputs says what to do instead). */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "export.h"
#include "idgraph.h"

/* 0 when every INPUT can be read twice (a regular file or a block device);
 * -1 with a one-line message in err naming the first that cannot, and what to
 * do instead.  n == 0 means stdin. */
int se_stitch_check_inputs(char *const *paths, size_t n, char *err, size_t errlen);

typedef struct se_stitcher se_stitcher;

se_stitcher *se_stitcher_new(void);         /* NULL on out of memory */
void se_stitcher_free(se_stitcher *st);     /* accepts NULL */
se_idgraph *se_stitcher_graph(se_stitcher *st);

/* Pass 1, one input line: adds a good record's identities to the graph (a
 * bad record adds nothing).  0, or -1 on out of memory. */
int se_stitcher_learn(se_stitcher *st, const char *data, size_t len);

/* Pass 2, one input line: 1 with its component's key text in *key (escaped
 * "NS:ID", valid until the next call), *klen its length, *size the
 * component's distinct identities (saturated at 255); 0 for a bad record
 * (err: the reason, as se_record_parse words it); -1 on out of memory or
 * when the record is not in the graph (the input changed between the
 * passes), with err. */
int se_stitcher_key(se_stitcher *st, const char *data, size_t len, const char **key,
                    size_t *klen, unsigned *size, char *err, size_t errlen);

/* After se_stitcher_key gave a component past SE_GRAPH_MAX_IDENTITIES:
 * true the first time for that component (report it), false after. */
bool se_stitcher_report_once(se_stitcher *st);

/* Pass 1 over INPUTs (paths borrowed; n >= 1).  0, or -1 with err (a read
 * error naming the input, out of memory, or "cancelled" when *cancel). */
int se_stitcher_read(se_stitcher *st, char *const *paths, size_t n, size_t max_record_bytes,
                     volatile sig_atomic_t *cancel, char *err, size_t errlen);

/* `run` with a pdg policy over files (stitch_run.c): both passes, the
 * sort, then se_export_execute on the sorted lines (a pipe the sort's merge
 * thread fills) as --keyed input.  Same contract as se_export_execute: 0
 * SUCCEEDED, 1 FAILED (js says why), nothing left behind.  Bad records are
 * reported from pass 2 with their input name and line, and counted against
 * --max-errors as always.  A line whose length differs from pass 1's, or a
 * line more or fewer, fails the job: the input changed between the passes.
 * With on_info, a note of each phase's wall and CPU time. */
int se_stitch_execute(const se_export_params *ep, char *why, size_t whylen);

#endif
