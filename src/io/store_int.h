#ifndef SEGEXPORT_STORE_INT_H
#define SEGEXPORT_STORE_INT_H
/* Inside the store: store.c (records), store_ids.c (ids: the counter, the
 * records present), store_proc.c (the lock, the workers' identity) and
 * store_record.c (a record's text). */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct se_store {
    char *dir;
    char *jobs;     /* dir/jobs */
    char *org;
    char *sandbox;
    int64_t fresh_id;   /* issued by se_store_next_id to this process, no record yet */
    pid_t fresh_pid;    /* ... to this process: a fork does not inherit the claim */
    char notice[512];   /* se_store_take_notice */
};

/* Writes text to path atomically: a new file under the unpredictable name
 * tmpl (ending in XXXXXX), fsync, rename, fsync dir.  With noreplace, an
 * existing path is never replaced: 1 then (err says so).  0, or -1 with err. */
int se_store_replace_file(const char *path, char *tmpl, const char *dir,
                          const char *text, size_t len, int noreplace, char *err, size_t errlen);

/* Opens an existing store file for reading (or, with O_WRONLY in flags, the
 * lock, created with create_mode when not 0): never through a symbolic link,
 * never blocking on a FIFO, and only a regular file.  fd, or -1 with errno
 * (ELOOP for a link, EINVAL for another kind of file). */
int se_store_open_file(const char *path, int flags, int create_mode);

/* What se_store_open_file's errno means, for a message. */
const char *se_store_open_why(int e);

/* Takes the exclusive lock on fd (the lock file path) within
 * SEGEXPORT_LOCK_TIMEOUT seconds (default 30): 0, or -1 with err naming the
 * lock and its holder. */
int se_store_lock_bounded(int fd, const char *path, char *err, size_t errlen);

/* Process pid's start time (clock ticks since boot), 0 when unknown. */
uint64_t se_store_proc_start(pid_t pid);

/* 1 when process pid runs the same program file as this process, 0 when
 * another one, -1 when that cannot be told (no /proc, another user's). */
int se_store_same_program(pid_t pid);

/* This boot's id (36 characters), "" when unknown. */
void se_store_boot_id(char out[40]);

struct json_object;

/* Parses a record file's text: 0 with *rec, or -1 with *why. */
int se_store_parse_record(const char *text, size_t len, struct json_object **rec, const char **why);

/* The org and sandbox of a record's text read from its first bytes, even
 * when the rest is damaged: 0 with both set (malloc'd), -1 when unreadable. */
int se_store_text_scope(const char *text, size_t len, char **org, char **sandbox);

#endif
