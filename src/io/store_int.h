#ifndef SEGEXPORT_STORE_INT_H
#define SEGEXPORT_STORE_INT_H
/* Inside the store: store.c (records, ids) and store_proc.c (the lock, the
 * workers' identity). */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
