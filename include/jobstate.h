#ifndef SEGEXPORT_JOBSTATE_H
#define SEGEXPORT_JOBSTATE_H
/* What a job is at one moment — status, times, ids, errors, metrics — and its
 * rendering as the API's job JSON (GET /export/jobs/{id}), keys in the API's
 * order.  The definition half comes from se_job->def. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "job.h"

#define SE_ERRORS_KEPT 100  /* errors[] entries kept; the rest are only counted */

typedef struct se_jobstate {
    int64_t id;
    const char *org;
    const char *status;            /* "NEW", "PROCESSING", "SUCCEEDED", "FAILED" (static) */
    int64_t creation_ms, update_ms;
    char request_id[37];
    char gateway_id[37];           /* computeGatewayJobId.exportJob; "" until the job runs */
    char (*batch_ids)[33];         /* one per batch; owned */
    size_t nbatches;
    json_object *errors;           /* array of {code,msg,callStack}; owned */
    uint64_t errors_dropped;       /* beyond SE_ERRORS_KEPT */
    bool started;                  /* metrics.totalTime.startTimeInMs known */
    bool finished;                 /* end times and counters known */
    int64_t export_start_ms, export_end_ms;
    uint64_t exported;             /* totalExportedProfileCounter */
    json_object *ns_counter;       /* exportedProfileByNamespaceCounter; owned */
    uint64_t input_records, bad_records, profiles; /* extra metrics */
    uint64_t shard_k, shard_n;     /* run --shard K/N (shard_n 0: not a shard run):
                                      metrics.shard {"index":K,"count":N}, for merge */
    /* A shard reports only the bad records it owns (docs/scale-out.md); for
     * merge, metrics.shard also says --max-errors and, for each bad record
     * listed in errors[], its ordinal in the input ("badRecordSeq"). */
    uint64_t max_errors;
    uint64_t *bad_seq;             /* owned; at most SE_ERRORS_KEPT + 1 */
    size_t nbad_seq;
    /* metrics.totalTime normally spans creation_ms..update_ms.  A job made of
     * others (`merge`: the shard runs) spans theirs instead: when total_set,
     * totalTime is total_start_ms..total_end_ms.  memset/init leave it unset. */
    bool total_set;
    int64_t total_start_ms, total_end_ms;
} se_jobstate;

/* Sets up a NEW job: ids derive from seed when reproducible (SOURCE_DATE_EPOCH),
 * else from the system's random source.  Returns 0 or -1 (ENOMEM). */
int se_jobstate_init(se_jobstate *js, const se_job *job, int64_t id, const char *org,
                     int64_t creation_ms, const char *seed);
void se_jobstate_clear(se_jobstate *js);

/* Generates a fresh UUID into buf[37] (same rules as the ids above). */
void se_jobstate_new_uuid(se_jobstate *js, char buf[37]);

/* Appends an errors[] entry.  Per-record ones (bad records, oversized graphs)
 * beyond SE_ERRORS_KEPT are only counted; job-ending ones are always kept and
 * rendered after the "N more errors not listed" entry. */
void se_jobstate_error(se_jobstate *js, const char *code, const char *msg, const char *call_stack);

/* A job's first failure: formats the message into why[whylen], adds it as an
 * error (call stack "segexport") and sets *failed; does nothing once *failed
 * is set.  For the engine's and stitching's fail helpers. */
void se_jobstate_failv(se_jobstate *js, bool *failed, char *why, size_t whylen, const char *code,
                       const char *fmt, va_list ap);

/* Adds one row's namespaces to the namespace counter. */
void se_jobstate_count_row(se_jobstate *js, json_object *identity_map);

/* The job JSON.  new reference; NULL on ENOMEM. */
json_object *se_jobstate_json(const se_jobstate *js, const se_job *job);

/* The segments array of batch i ({segmentId, segmentNs, status} objects), new reference. */
json_object *se_jobstate_batch_segments(const se_job *job, size_t i);

#endif
