#ifndef SEGEXPORT_EXPORT_H
#define SEGEXPORT_EXPORT_H
/* The export engine: one streaming pass over the inputs (SPEC §3-§7).  Reads
 * records, groups them by profile key, assembles, filters, projects and writes
 * rows into the job's batches; on success renames every archive into place. */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "job.h"
#include "batch.h"
#include "jobstate.h"

/* What the engine reports while it works; the CLI decides what to show. */
typedef enum {
    SE_PROG_READ,      /* reading input (about once a chunk of ~128 KiB, and at its end) */
    SE_PROG_WRITE,     /* writing (compressing) archive `batch` of `nbatches` */
    SE_PROG_COMMIT,    /* putting the archives into place */
    SE_PROG_ARCHIVE    /* archive `path` is in place: archive_rows rows, archive_bytes bytes */
} se_prog_phase;

typedef struct se_export_progress {
    se_prog_phase phase;
    uint64_t in_bytes;               /* input bytes consumed (compressed size) */
    uint64_t records, profiles, rows;
    size_t batch, nbatches;
    const char *path;
    uint64_t archive_rows, archive_bytes;
} se_export_progress;

/* Called on the engine's thread; must not call back into the engine. */
typedef void (*se_export_progress_fn)(void *ud, const se_export_progress *p);

/* How the pass reads and writes (the CLI fills it from its options). */
typedef struct se_export_limits {
    se_format format;                /* archive format */
    int level;                       /* compression level, -1 = the format's default */
    uint64_t rows_per_file;          /* rows per part file */
    uint64_t max_errors;             /* bad records tolerated */
    uint64_t max_record_bytes;       /* a longer record is a bad record */
    bool keyed;                      /* input lines are KEY<TAB>RECORD, sorted by KEY */
    bool shard;                      /* only the profiles whose key hash % shard_n == shard_k */
    uint64_t shard_k, shard_n;
} se_export_limits;

typedef struct se_export_params {
    se_export_limits o;
    const se_job *job;
    se_jobstate *js;                 /* status, errors and metrics are filled in */
    char *const *inputs;             /* INPUT paths ("-" = stdin); n == 0 means stdin */
    size_t ninputs;
    const char *output_root;         /* batches go to output_root/<datasetId>/ */
    volatile sig_atomic_t *cancel;   /* non-zero: stop, clean up, FAILED (may be NULL) */
    const char *const *cancel_reason; /* message for a cancellation, read when it happens (may be NULL) */
    se_export_progress_fn on_progress; /* may be NULL */
    void *progress_ud;
    volatile sig_atomic_t *committing; /* set to 1 once the archives start going into place:
                                        * from then on a cancellation waits for the end (may be NULL) */
    const struct se_segdefs *segdefs; /* evaluationInfo.segmentation: the definitions (may be NULL) */
    /* Warnings (the first bad records, a failed rollback), one line each;
     * the engine itself never prints.  NULL: not shown (errors[] has them). */
    void (*on_warning)(void *ud, const char *msg);
    void *warning_ud;
    /* Notes for -v (e.g. the identity graph's size), with warning_ud.  May be NULL. */
    void (*on_info)(void *ud, const char *msg);
    bool tree_path;                  /* every profile through json-c trees (assemble.c), the
                                      * engine's own reference (SEGEXPORT_TREE_PATH=1) */
    bool graph_checked;              /* identityGraph pdg: the (--keyed) groups come from
                                      * se_stitch_execute, which left out those past the
                                      * identity limit: no count per group */
} se_export_params;

/* Runs the job.  Returns 0 when it SUCCEEDED, 1 when it FAILED (js->status,
 * js->errors say why; *why, when not NULL, gets a one-line reason valid until
 * js is cleared... it is a static or js-owned string).  Never leaves a
 * temporary file or a partial archive behind. */
int se_export_execute(const se_export_params *ep, char *why, size_t whylen);

#endif
