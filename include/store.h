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

/* STORE/datasets, the default output root, is the store's own as
 * STORE/jobs is: a symbolic link planted there would send every job's
 * archives elsewhere, so it is refused (the user's own place for archives is
 * --output).  0 when it is a directory or missing, -1 with err. */
int se_store_check_datasets(const char *dir, char *err, size_t errlen);

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

/* 1 when process pid is alive and started at start (0 when start is 0: a pid
 * alone may be anybody's). */
int se_store_worker_alive(pid_t pid, uint64_t start);

/* After se_store_next_id: a notice to show the user (the counter was behind
 * the records and was repaired), or NULL. */
const char *se_store_notice(const se_store *st);

/* Sends sig to job id's worker, only when its pid, start time and boot all
 * match the record (through a pidfd, so not to a process that took the pid
 * meanwhile) and it runs this same program (a record written by hand may
 * name any process: that is refused, -1).  0 sent, 1 no live worker (or no
 * record in scope), -1 with err. */
int se_store_signal(se_store *st, int64_t id, int sig, char *err, size_t errlen);

/* Creates STORE/jobs/<id>.log for a new job's worker (O_EXCL|O_NOFOLLOW; a
 * file or link already at that name is removed first, never written
 * through).  fd open for appending, or -1 with err. */
int se_store_open_log(se_store *st, int64_t id, char *err, size_t errlen);

/* Reads job id.  Returns 0 with *job (new reference) and *pid, 1 when there is
 * no such job in this scope, 2 when its record is damaged so that no scope can
 * be read from it (no scope's job; err says which file and why), -1 when it is
 * a damaged record of this scope or unreadable (err says which file and why). */
int se_store_get(se_store *st, int64_t id, json_object **job, pid_t *pid, char *err, size_t errlen);

/* As se_store_get; *pid is 0 when the recorded worker is no longer alive;
 * *output_dir (when not NULL) gets a malloc'd copy of the recorded output
 * directory or NULL. */
int se_store_get_ex(se_store *st, int64_t id, json_object **job, pid_t *pid, char **output_dir,
                    char *err, size_t errlen);

/* Removes job id's record (and its worker log).  0, 1 when not found in
 * scope, 2 when damaged with no readable scope (left alone), -1 on error. */
int se_store_remove(se_store *st, int64_t id, char *err, size_t errlen);

/* Calls fn for every job id in the store (any scope), ascending.  Stops and
 * returns fn's value when it is non-zero; returns 0 at the end, -1 when the
 * directory cannot be read. */
int se_store_each_id(se_store *st, int (*fn)(int64_t id, void *ctx), void *ctx);

#endif
