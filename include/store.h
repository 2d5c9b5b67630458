#ifndef SEGEXPORT_STORE_H
#define SEGEXPORT_STORE_H
/* The job store (SPEC §10): STORE/jobs/<id>.json records, replaced atomically
 * (temporary file, fsync, rename), ids from STORE/counter under an flock so
 * concurrent processes never share one.  A record file is
 *   {"format":1,"org":...,"sandbox":...,"pid":N,"pidStart":T,"bootId":B,
 *    "output":DIR,"job":{...the job JSON...}}
 * (pidStart, bootId: the worker's start time and the kernel's boot id, so a
 * pid reused by another process or after a restart is not taken for it).
 * Jobs are scoped by org and sandbox: another scope's job is "not found". */
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

typedef struct se_store se_store;

/* Opens (creating DIR and DIR/jobs when missing).  NULL with "DIR: reason" in err. */
se_store *se_store_open(const char *dir, const char *org, const char *sandbox,
                        char *err, size_t errlen);
void se_store_free(se_store *st); /* accepts NULL */
const char *se_store_dir(const se_store *st);

/* Next job id (1, 2, ...), unique across processes sharing the store. 0 or -1. */
int se_store_next_id(se_store *st, int64_t *id, char *err, size_t errlen);

/* Writes (or atomically replaces) the record of job id in this store's scope.
 * pid is the process working on the job (0 when none). 0 or -1. */
int se_store_put(se_store *st, int64_t id, pid_t pid, json_object *job, char *err, size_t errlen);

/* As se_store_put, also recording output_dir (may be NULL): where the job's
 * archives (and, while it runs, their temporary files) go.  The worker's start
 * time is recorded beside its pid so a reused pid is not taken for it. */
int se_store_put_ex(se_store *st, int64_t id, pid_t pid, const char *output_dir,
                    json_object *job, char *err, size_t errlen);

/* 1 when process pid is alive and (start != 0) started at start. */
int se_store_worker_alive(pid_t pid, uint64_t start);

/* Reads job id.  Returns 0 with *job (new reference) and *pid, 1 when there is
 * no such job in this scope, -1 when the record is damaged or unreadable (err
 * says which file and why). */
int se_store_get(se_store *st, int64_t id, json_object **job, pid_t *pid, char *err, size_t errlen);

/* As se_store_get; *pid is 0 when the recorded worker is no longer alive;
 * *output_dir (when not NULL) gets a malloc'd copy of the recorded output
 * directory or NULL. */
int se_store_get_ex(se_store *st, int64_t id, json_object **job, pid_t *pid, char **output_dir,
                    char *err, size_t errlen);

/* Removes job id's record.  0, 1 when not found in scope, -1 on error. */
int se_store_remove(se_store *st, int64_t id, char *err, size_t errlen);

/* Calls fn for every job id in the store (any scope), ascending.  Stops and
 * returns fn's value when it is non-zero; returns 0 at the end, -1 when the
 * directory cannot be read. */
int se_store_each_id(se_store *st, int (*fn)(int64_t id, void *ctx), void *ctx);

#endif
