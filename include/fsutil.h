#ifndef SEGEXPORT_FSUTIL_H
#define SEGEXPORT_FSUTIL_H
/* File-system steps that the writers of durable files (archives, job records)
 * share.  Messages are "PATH: reason", written into err; nothing prints. */
#include <stddef.h>
#include <sys/types.h>

/* vasprintf that returns the string, or NULL on out of memory. */
char *se_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mkdir -p with mode 0755.  0, or -1 with err naming the component that failed. */
int se_mkdir_p(const char *dir, char *err, size_t errlen);

/* fsync of a directory, so a rename in it survives a crash.  Filesystems that
 * refuse fsync on directories (EINVAL) count as done.  0 or -1 with err. */
int se_fsync_dir(const char *dir, char *err, size_t errlen);

/* write() until all n bytes are out, retrying EINTR.  0, or -1 with errno. */
int se_write_all(int fd, const char *p, size_t n);

/* The whole of path ("-" = stdin, never closed) in a malloc'd NUL-terminated
 * buffer of *len bytes; files over max bytes fail with EFBIG.  NULL with errno
 * set on failure. */
char *se_slurp(const char *path, size_t max, size_t *len);
/* The same from an open descriptor (read to its end; not closed). */
char *se_slurp_fd(int fd, size_t max, size_t *len);

/* Creates a new file from tmpl, whose last six characters are "XXXXXX" and are
 * replaced (in tmpl) by random letters and digits: open(O_CREAT | O_EXCL |
 * O_NOFOLLOW | O_CLOEXEC | flags, mode), retried under another name while one
 * exists.  Never opens an existing file or follows a link planted at the name.
 * The fd, or -1 with errno. */
int se_create_unique(char *tmpl, int flags, mode_t mode);

/* As se_create_unique, tmpl relative to the directory open on dfd (AT_FDCWD:
 * the working directory). */
int se_create_unique_at(int dfd, char *tmpl, int flags, mode_t mode);

/* Temporary files of a job's batches are created between se_tmp_lock() and
 * se_tmp_unlock() (creation and, for a spool, its unlink).  se_tmp_freeze()
 * takes the lock for good: after it, no thread of this process creates another
 * temporary file, so a sweep that follows sees every name there will be (the
 * forced end of a cancelled job, which then exits). */
void se_tmp_lock(void);
void se_tmp_unlock(void);
void se_tmp_freeze(void);

/* The archives this process put in place (se_batch_commit notes each, with
 * the lock held, as it renames it).  se_tmp_remove_committed unlinks exactly
 * those: a cancel that wins after the commit takes back only this job's
 * archives, never another's of the same name. */
void se_tmp_note_committed(const char *path);
void se_tmp_remove_committed(void);

#endif
