#ifndef SEGEXPORT_WORKER_H
#define SEGEXPORT_WORKER_H
/* Running one job in this process, as `run` does in the foreground and
 * `create`'s detached worker does in the background: the record goes
 * PROCESSING, then SUCCEEDED or FAILED; SIGINT and SIGTERM (what `cancel`
 * sends) become a clean cancellation within a second, even when the input
 * blocks (an idle FIFO): no archive and no temporary file is left. */
#include <stdbool.h>
#include <stddef.h>
#include "job.h"
#include "jobstate.h"
#include "opts.h"
#include "store.h"

struct se_export_params;

typedef struct se_worker_job {
    const se_opts *o;
    const se_job *job;
    se_store *st;
    se_jobstate *js;             /* NEW; ids and creation time set */
    char *const *inputs;
    size_t ninputs;
    const char *output_root;     /* archives go to output_root/<datasetId>/ */
    const struct se_segdefs *segdefs; /* for evaluationInfo.segmentation; may be NULL */
    /* The job's work when it is not an export (merge): called as
     * se_export_execute is, with the cancel flag, the committing flag and the
     * progress of this run; it fills js (status, times, errors) and returns
     * 0 SUCCEEDED or 1 FAILED with why.  NULL: the export. */
    int (*execute)(const struct se_export_params *ep, void *ud, char *why, size_t whylen);
    void *execute_ud;
} se_worker_job;

/* Runs the job; prints the final job JSON on stdout when print is true.
 * Returns the exit status: 0 SUCCEEDED, 1 FAILED. */
int se_worker_run(const se_worker_job *w, bool print);

/* Removes the temporary files of job's batches under output_root (what a
 * killed worker leaves). */
void se_worker_cleanup(const char *output_root, json_object *job_json);

/* Removes the archives job's batches put in place under output_root (any
 * format): for a worker that died between renaming its archives into place
 * and recording SUCCEEDED - the job is reported FAILED, so none may stay. */
void se_worker_remove_archives(const char *output_root, json_object *job_json);

#endif
