/* `segexport merge`: what its files share (cmd_merge.c reads the results and
 * runs the job, cmd_merge_sum.c adds up the counters and errors,
 * cmd_merge_write.c writes the merged batches, cmd_merge_scan.c finds the
 * compressed parts in a shard archive, cmd_merge_deflate.c deflates those of
 * an archive that cannot be copied through). */
#ifndef SEGEXPORT_CMD_MERGE_H
#define SEGEXPORT_CMD_MERGE_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "batch.h"
#include "export.h"
#include "job.h"
#include "jobstate.h"
#include "mergepolicy.h"
#include "opts.h"
#include "store.h"

typedef struct shard {
    const char *name;            /* the RESULT.json operand ("stdin" for -) */
    json_object *res;            /* the parsed job result */
    json_object *def;            /* its definition part (what se_job_parse reads) */
    const char *status;
    char (*batch_ids)[33];
    size_t nbatches;
    char **paths;                /* per batch: its archive, once located */
    uint64_t rows;               /* rows read from its archives */
} shard;

typedef struct merge {
    const se_opts *o;
    shard *sh;
    size_t nsh;
    se_mp_registry *reg;
    se_job *job;
    se_store *st;
    se_jobstate js;
    char *output_root, *dir, *seed;
    se_batch **batches;
    size_t nbatches;
    bool sharded;                /* the results are run --shard K/N results (metrics.shard) */
    bool bad_over;               /* more bad records than --max-errors: FAILED as the single run */
    size_t nfailed;              /* shards that did not succeed */
    char failed_names[768];
    const se_export_params *ep;  /* cancel flag, progress: the worker's (worker.h) */
    char *chunk, *line;          /* archive read buffer; a row split across reads */
    size_t line_len, line_cap;
    bool failed;
    char why[1024];
} merge;

void mg_fail(merge *m, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
json_object *mg_get(json_object *o, const char *key);
const char *mg_str(json_object *o, const char *key);
uint64_t mg_metric(json_object *res, const char *key);
bool mg_cancelled(const merge *m);          /* SIGINT/SIGTERM came (worker.c) */
const char *mg_cancel_reason(const merge *m);

/* cmd_merge_sum.c: sums the counters, combines errors[], spans the times;
 * sets m->bad_over when the sum of bad records is past --max-errors. */
void mg_combine(merge *m);

/* cmd_merge_write.c: writes the merged batches; commits them only when all
 * are complete (else m->failed, nothing left behind). */
void mg_write_batches(merge *m);

/* cmd_merge_scan.c: one shard archive (tar.gz or zip as segexport writes
 * them) read for copy-through: each part's raw deflate data located in the
 * mapped file and checked against the manifest on the way (rows, bytes,
 * CRC-32, by inflating it from a reset state: the data stands on its own). */
typedef struct mg_part {
    uint64_t off, clen;          /* in map: byte-aligned, no final block */
    uint64_t bytes, records;
    uint32_t crc;
} mg_part;

enum { MG_SCAN_COPY, MG_SCAN_ROWS, MG_SCAN_CANCELLED };

typedef struct mg_scan {
    const char *path, *batch_id;           /* in */
    volatile sig_atomic_t *cancel, *stop;  /* in, may be NULL: give up when set */
    bool try_scan, try_deflate;            /* in: copy it through; else deflate it here */
    const char *dir, *tmp_id;              /* in (deflate): the temporary file's place and name */
    int level;                             /* in (deflate) */
    uint64_t rpf;                          /* in (deflate): --rows-per-file */
    int status;                            /* out: MG_SCAN_* (ROWS: read it row by row,
                                            * which also says what is wrong with it) */
    unsigned char *map;
    size_t maplen;
    mg_part *parts;
    size_t nparts;
    uint64_t rows;
    bool deflated;                         /* out: by mg_scan_deflate */
} mg_scan;

void mg_scan_run(mg_scan *sc);
void mg_scan_free(mg_scan *sc);

/* cmd_merge_deflate.c: the archive's parts deflated here (into an unlinked
 * temporary file, mapped) for one that cannot be copied through; status
 * MG_SCAN_COPY then, as after a scan. */
void mg_scan_deflate(mg_scan *sc);

#endif
