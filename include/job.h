#ifndef SEGEXPORT_JOB_H
#define SEGEXPORT_JOB_H
/* The job definition: the exact POST /export/jobs body, parsed and validated
 * (SPEC §2).  Rejections name the JSON path:
 *   filter.segments[1].status[0]: "exiting" is not one of realized, existing, exited */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "mergepolicy.h"

/* Membership status bits. */
#define SE_ST_REALIZED 1u
#define SE_ST_EXISTING 2u
#define SE_ST_EXITED   4u

typedef struct se_segment {
    char *segment_id;
    char *segment_ns;     /* default "ups" */
    unsigned status_mask; /* SE_ST_*; "realized" in the filter sets REALIZED|EXISTING */
} se_segment;

typedef struct se_job {
    json_object *def;      /* normalized definition, defaults filled (see below); owned */

    char *fields;          /* NULL when absent or only blanks */
    char *dataset_id;
    char *schema_name;
    bool segment_per_batch;

    se_segment *segs;      /* filter.segments, in order */
    size_t nsegs;

    bool has_sqt;          /* filter.segmentQualificationTime present (even {}) */
    bool has_start; int64_t start_ms;
    bool has_end;   int64_t end_ms;
    bool has_from_ingest; int64_t from_ingest_ms;   /* filter.fromIngestTimestamp */
    bool empty_profiles;

    bool has_event_list;   /* additionalFields.eventList present */
    char *event_fields;    /* eventList.fields, NULL when absent or blank */
    bool has_ev_from; int64_t ev_from_ms;           /* eventList.filter.fromIngestTimestamp */
    bool has_ev_to;   int64_t ev_to_ms;             /* eventList.filter.toIngestTimestamp */

    bool eval_segmentation;                          /* evaluationInfo.segmentation */
    const se_mpolicy *policy;                        /* resolved from mergePolicy; owned by the registry */
} se_job;

/* Called once per unknown key with its JSON path (e.g. "filter.foo"). */
typedef void (*se_job_warn_fn)(const char *path, void *ctx);

/* Parses and validates a job definition held in text[0..len).  On success returns
 * 0 and *out (free with se_job_free).  On failure returns -1 and writes a
 * one-line message into err: "<json path>: <reason>" or, for malformed JSON,
 * "malformed JSON at line L: <reason>".  Nothing is allocated then.
 *
 * Checks (each a rejection): required destination.datasetId, schema.name and
 * filter.segments[i].segmentId present and non-empty strings; every field of the
 * right type; status values realized/existing/exited; RFC 3339 timestamps;
 * startTime <= endTime... (startTime after endTime rejected); datasetId 1-128 chars of
 * [A-Za-z0-9._-] and not "." or ".."; mergePolicy {id,version} known to reg.
 *
 * def is the input object with defaults filled in, key order kept: segmentNs
 * "ups" and status ["realized"] in each segment, filter.emptyProfiles false,
 * destination.segmentPerBatch false, mergePolicy {"id":"timestampOrdered-none-mp",
 * "version":1}, evaluationInfo.segmentation false when evaluationInfo given. */
int se_job_parse(const char *text, size_t len, const se_mp_registry *reg,
                 se_job **out, se_job_warn_fn warn, void *warn_ctx,
                 char *err, size_t errlen);

void se_job_free(se_job *job); /* accepts NULL */

#endif
