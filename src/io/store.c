/* The job store (SPEC §10).
 *
 *   STORE/jobs/<id>.json   one record per job, replaced atomically: written to
 *                          STORE/jobs/.<id>.json.tmp-XXXXXX (mkstemp), fsynced, renamed
 *                          over the old one, directory fsynced.  Readers thus
 *                          see the old or the new record, never a mix.
 *   STORE/counter          the last id issued, decimal text + "\n".
 *   STORE/counter.lock     flock(LOCK_EX) here serialises id allocation.
 *
 * Here: opening the store, writing, reading and removing records, signalling
 * their workers.  Ids (the counter, the records present) are store_ids.c's,
 * the lock and the workers' identity store_proc.c's, a record's text
 * store_record.c's.
 *
 * A store may be shared (README, "A store shared between users"): every file
 * made here is created new (O_CREAT|O_EXCL|O_NOFOLLOW) under an unpredictable
 * name and renamed into place; an existing store file is opened with
 * O_NOFOLLOW|O_NONBLOCK and used only when it is a regular file, so a link or
 * FIFO planted at a store name is neither written through nor waited on.  The
 * lock is waited for at most SEGEXPORT_LOCK_TIMEOUT seconds (default 30).
 *
 * Scope: a record names its org and sandbox first ({"format":1,"org":...,
 * "sandbox":...,...}), so even a damaged one (truncated) tells whose it is and
 * is reported to that scope only.  One whose scope cannot be read (empty,
 * garbage, a link) belongs to no scope: it is "not found" everywhere and only
 * removed by hand. */
#include "store.h"
#include "fsutil.h"
#include "jsonscan.h"
#include "store_int.h"

#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_FORMAT 1
#define MAX_RECORD (64u << 20) /* a job record is small; a bigger file is not one */

/* Writes text to path atomically: a new file under the unpredictable name
 * tmpl (ending in XXXXXX), fsync, rename, fsync dir.  With noreplace, an
 * existing path is never replaced: 1 then (err says so). */
int se_store_replace_file(const char *path, char *tmpl, const char *dir,
                          const char *text, size_t len, int noreplace, char *err, size_t errlen)
{
    int fd, rc = -1;

    fd = se_create_unique(tmpl, O_WRONLY, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmpl, strerror(errno));
        return -1;
    }
    if (se_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmpl, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmpl, strerror(errno));
        goto out;
    }
    if (noreplace) {
        int r = renameat2(AT_FDCWD, tmpl, AT_FDCWD, path, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* no renameat2 here: link() refuses an existing name just as well */
            if ((r = link(tmpl, path)) == 0)
                unlink(tmpl);
        }
        if (r != 0) {
            if (errno == EEXIST) {
                snprintf(err, errlen, "%s: a job record with this id exists already", path);
                rc = 1;
            } else {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
            }
            goto out;
        }
    } else if (rename(tmpl, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = se_fsync_dir(dir, err, errlen);
    return rc;
out:
    unlink(tmpl);
    return rc;
}

/* Opens an existing store file for reading (or, with O_WRONLY in flags, the
 * lock): never through a symbolic link, never blocking on a FIFO, and only a
 * regular file.  fd, or -1 with errno (ELOOP for a link, EINVAL for another
 * kind of file). */
int se_store_open_file(const char *path, int flags, int create_mode)
{
    struct stat sb;
    int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create_mode ? O_CREAT : 0),
                  (mode_t)create_mode);

    if (fd < 0) {
        if (errno == ENXIO) /* a FIFO without a reader, opened for writing */
            errno = EINVAL;
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        close(fd);
        errno = S_ISREG(sb.st_mode) ? e : EINVAL;
        return -1;
    }
    /* back to blocking reads: a regular file never blocks anyway */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

const char *se_store_open_why(int e)
{
    return e == ELOOP ? "a symbolic link, not followed"
         : e == EINVAL ? "not a regular file"
         : strerror(e);
}

const char *se_store_notice(const se_store *st)
{
    return st && st->notice[0] ? st->notice : NULL;
}

se_store *se_store_open(const char *dir, const char *org, const char *sandbox,
                        char *err, size_t errlen)
{
    se_store *st;

    if (!dir || !*dir || !org || !sandbox) {
        snprintf(err, errlen, "store: missing directory, org or sandbox");
        return NULL;
    }
    st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir)) || !(st->org = strdup(org)) ||
        !(st->sandbox = strdup(sandbox)) || !(st->jobs = se_asprintf("%s/jobs", dir))) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
        se_store_free(st);
        return NULL;
    }
    /* mkdir_p also rejects a DIR (or DIR/jobs) that exists but is no directory. */
    if (se_mkdir_p(st->jobs, err, errlen) != 0) {
        se_store_free(st);
        return NULL;
    }
    {
        /* DIR is the user's choice (it may be a link); DIR/jobs is ours: a
         * link planted there would send records elsewhere. */
        struct stat lsb;
        int bad = lstat(st->jobs, &lsb) != 0 ? errno : S_ISDIR(lsb.st_mode) ? 0 : ELOOP;
        if (bad) {
            snprintf(err, errlen, "%s: %s", st->jobs,
                     bad == ELOOP ? "a symbolic link, not followed" : strerror(bad));
            se_store_free(st);
            return NULL;
        }
    }
    return st;
}

int se_store_check_datasets(const char *dir, char *err, size_t errlen)
{
    char *path = se_asprintf("%s/datasets", dir);
    struct stat lsb;
    int rc = 0;

    if (!path) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
        return -1;
    }
    if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
        snprintf(err, errlen, "%s: a symbolic link, not followed (--output DIR puts archives elsewhere)", path);
        rc = -1;
    }
    free(path);
    return rc;
}

void se_store_free(se_store *st)
{
    if (!st)
        return;
    free(st->dir);
    free(st->jobs);
    free(st->org);
    free(st->sandbox);
    free(st);
}

const char *se_store_dir(const se_store *st)
{
    return st->dir;
}


/* The live worker a record names, or 0. */
static pid_t record_worker(json_object *rec)
{
    json_object *v;
    pid_t pid = json_object_object_get_ex(rec, "pid", &v) ? (pid_t)json_object_get_int64(v) : 0;
    char now[40];

    if (pid <= 0)
        return 0;
    if (json_object_object_get_ex(rec, "bootId", &v) && json_object_is_type(v, json_type_string)) {
        se_store_boot_id(now);
        if (now[0] && strcmp(now, json_object_get_string(v)) != 0)
            return 0;
    }
    /* A record without pidStart (older, or made by hand) names no worker one
     * can trust: the pid alone may be anybody's now. */
    return se_store_worker_alive(pid, json_object_object_get_ex(rec, "pidStart", &v)
                                          ? (uint64_t)json_object_get_int64(v) : 0)
               ? pid : 0;
}

int se_store_put(se_store *st, int64_t id, pid_t pid, json_object *job, char *err, size_t errlen)
{
    return se_store_put_ex(st, id, pid, NULL, job, err, errlen);
}

int se_store_put_ex(se_store *st, int64_t id, pid_t pid, const char *output_dir,
                    json_object *job, char *err, size_t errlen)
{
    char *path = se_asprintf("%s/%" PRId64 ".json", st->jobs, id);
    char *tmp = se_asprintf("%s/.%" PRId64 ".json.tmp-XXXXXX", st->jobs, id);
    char *text = NULL;
    json_object *rec = NULL;
    char boot[40] = "";
    int rc = -1;

    if (pid > 0)
        se_store_boot_id(boot);
    if (!path || !tmp)
        goto nomem;
    if (id <= 0 || !json_object_is_type(job, json_type_object)) {
        snprintf(err, errlen, "%s: invalid job id or job", path);
        goto out;
    }
    rec = json_object_new_object();
    if (!rec || se_json_add(rec, "format", json_object_new_int(RECORD_FORMAT)) != 0 ||
        se_json_add(rec, "org", json_object_new_string(st->org)) != 0 ||
        se_json_add(rec, "sandbox", json_object_new_string(st->sandbox)) != 0 ||
        se_json_add(rec, "pid", json_object_new_int64((int64_t)pid)) != 0 ||
        se_json_add(rec, "pidStart", json_object_new_int64(pid > 0 ? (int64_t)se_store_proc_start(pid) : 0)) != 0 ||
        (boot[0] && se_json_add(rec, "bootId", json_object_new_string(boot)) != 0) ||
        (output_dir && se_json_add(rec, "output", json_object_new_string(output_dir)) != 0) ||
        se_json_add(rec, "job", json_object_get(job)) != 0)
        goto nomem;
    {
        const char *s = json_object_to_json_string_ext(
            rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || !(text = se_asprintf("%s\n", s)))
            goto nomem;
    }
    {
        /* The first record of an id this process was given never replaces
         * one that is there (a counter behind, another process's job). */
        int fresh = id == st->fresh_id && getpid() == st->fresh_pid;
        rc = se_store_replace_file(path, tmp, st->jobs, text, strlen(text), fresh, err, errlen);
        if (rc == 1)
            rc = -1;
        if (fresh && rc == 0)
            st->fresh_id = 0;
    }
    goto out;
nomem:
    snprintf(err, errlen, "%s: %s", path ? path : st->jobs, strerror(ENOMEM));
out:
    json_object_put(rec);
    free(text);
    free(path);
    free(tmp);
    return rc;
}

/* Reads the whole file: 0 with *text (NUL-terminated) and *len, 1 when missing,
 * 2 when it is no regular file (a link, a FIFO: err says so), -1 with err. */
static int slurp(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t n = 0;
    int fd = se_store_open_file(path, O_RDONLY, 0), rc = -1;

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        if (errno == ELOOP || errno == EINVAL) {
            snprintf(err, errlen, "%s: damaged job record (%s)", path, se_store_open_why(errno));
            return 2;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if ((uint64_t)sb.st_size > MAX_RECORD) {
        snprintf(err, errlen, "%s: damaged job record (larger than %u bytes)", path, MAX_RECORD);
        goto out;
    }
    /* Read to EOF rather than trusting st_size: the file may change under us. */
    if (!(buf = se_slurp_fd(fd, MAX_RECORD, &n))) {
        if (errno == EFBIG)
            snprintf(err, errlen, "%s: damaged job record (larger than %u bytes)", path, MAX_RECORD);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    *text = buf;
    *len = n;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Loads and checks DIR/jobs/<id>.json.  0 with *rec when in scope; 1 when
 * missing or another scope's (damaged or not); 2 when damaged so that no
 * scope can be read from it (err says why: the record is nobody's to see or
 * remove); -1 with err: *damaged then says the file is a damaged record of
 * this scope (not one of an unsupported version, nor an I/O error). */
static int load(se_store *st, int64_t id, json_object **rec, int *damaged, char *err, size_t errlen)
{
    char *path = NULL, *text = NULL, *org = NULL, *sandbox = NULL;
    size_t len = 0;
    json_object *o = NULL, *v;
    const char *why = NULL;
    int rc = -1, r, unsupported = 0;
    int64_t format = 0;

    *rec = NULL;
    *damaged = 0;
    if (id <= 0)
        return 1; /* no record can have such an id */
    path = se_asprintf("%s/%" PRId64 ".json", st->jobs, id);
    if (!path) {
        snprintf(err, errlen, "%s: %s", st->jobs, strerror(ENOMEM));
        return -1;
    }
    r = slurp(path, &text, &len, err, errlen);
    if (r != 0) {
        rc = r; /* 1 missing, 2 a link or FIFO: no scope, -1 */
        goto out;
    }
    if (se_store_parse_record(text, len, &o, &why) != 0)
        goto damaged;
    /* Whose record is it?  Its org and sandbox, if they are there. */
    if (json_object_object_get_ex(o, "org", &v) && json_object_is_type(v, json_type_string) &&
        (org = strdup(json_object_get_string(v))) &&
        json_object_object_get_ex(o, "sandbox", &v) && json_object_is_type(v, json_type_string))
        sandbox = strdup(json_object_get_string(v));
    if (!json_object_object_get_ex(o, "format", &v) || !json_object_is_type(v, json_type_int)) {
        why = "no format number";
        goto damaged;
    }
    if ((format = json_object_get_int64(v)) != RECORD_FORMAT) {
        unsupported = 1;
        goto damaged;
    }
    if (!sandbox) {
        why = "no org or sandbox";
        goto damaged;
    }
    if (!json_object_object_get_ex(o, "pid", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0 || json_object_get_int64(v) > INT_MAX) {
        why = "no valid pid";
        goto damaged;
    }
    if (!json_object_object_get_ex(o, "job", &v) || !json_object_is_type(v, json_type_object)) {
        why = "no job object";
        goto damaged;
    }
    if (strcmp(org, st->org) != 0 || strcmp(sandbox, st->sandbox) != 0) {
        rc = 1;
        goto out;
    }
    *rec = o;
    o = NULL;
    rc = 0;
    goto out;
damaged:
    if (unsupported)
        snprintf(err, errlen,
                 "%s: job record written by an unsupported segexport version (format %" PRId64 ")",
                 path, format);
    else
        snprintf(err, errlen, "%s: damaged job record (%s)", path, why);
    if (!sandbox) {
        free(org);
        org = NULL;
        if (!o && se_store_text_scope(text, len, &org, &sandbox) != 0) {
            rc = 2;
            goto out;
        }
        if (!sandbox) {
            rc = 2;
            goto out;
        }
    }
    if (strcmp(org, st->org) != 0 || strcmp(sandbox, st->sandbox) != 0) {
        rc = 1;
        goto out;
    }
    *damaged = !unsupported;
out:
    json_object_put(o);
    free(org);
    free(sandbox);
    free(text);
    free(path);
    return rc;
}

int se_store_get(se_store *st, int64_t id, json_object **job, pid_t *pid, char *err, size_t errlen)
{
    return se_store_get_ex(st, id, job, pid, NULL, err, errlen);
}

int se_store_get_ex(se_store *st, int64_t id, json_object **job, pid_t *pid, char **output_dir,
                    char *err, size_t errlen)
{
    json_object *rec, *v;
    int damaged;
    int r = load(st, id, &rec, &damaged, err, errlen);

    if (r != 0)
        return r;
    if (pid) {
        *pid = record_worker(rec);
        if (*pid == 0 && json_object_object_get_ex(rec, "pid", &v) && json_object_get_int64(v) > 0) {
            /* The worker is gone now, but it may have replaced the record
             * after we read it (its last write, then exit): read it again, so
             * a job that has just ended is not taken for one whose worker
             * died.  A dead worker writes no more. */
            json_object_put(rec);
            if ((r = load(st, id, &rec, &damaged, err, errlen)) != 0)
                return r;
            *pid = record_worker(rec);
        }
    }
    if (output_dir) {
        *output_dir = NULL;
        if (json_object_object_get_ex(rec, "output", &v) && json_object_is_type(v, json_type_string))
            *output_dir = strdup(json_object_get_string(v));
    }
    json_object_object_get_ex(rec, "job", &v);
    *job = json_object_get(v);
    json_object_put(rec);
    return 0;
}

/* A damaged record of this scope (its scope still readable) can never be
 * used again, so it is removed: that is how `cancel` clears one.  One whose
 * scope cannot be read is nobody's to remove (2), and a record of an
 * unsupported format is kept: a newer segexport may read it.  The job's
 * worker log goes with its record. */
int se_store_remove(se_store *st, int64_t id, char *err, size_t errlen)
{
    json_object *rec;
    char *path, *log;
    int damaged;
    int r = load(st, id, &rec, &damaged, err, errlen);

    if (r != 0 && !(r < 0 && damaged))
        return r;
    json_object_put(rec);
    path = se_asprintf("%s/%" PRId64 ".json", st->jobs, id);
    log = se_asprintf("%s/%" PRId64 ".log", st->jobs, id);
    if (!path || !log) {
        snprintf(err, errlen, "%s: %s", st->jobs, strerror(ENOMEM));
        free(path);
        free(log);
        return -1;
    }
    if (unlink(path) != 0) {
        r = errno == ENOENT ? 1 : -1; /* removed meanwhile by another process */
        if (r < 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
        free(log);
        return r;
    }
    unlink(log);
    free(path);
    free(log);
    return se_fsync_dir(st->jobs, err, errlen);
}

int se_store_signal(se_store *st, int64_t id, int sig, char *err, size_t errlen)
{
    json_object *rec, *v;
    int damaged, r = load(st, id, &rec, &damaged, err, errlen);
    pid_t pid;
    uint64_t start;
    int pfd;

    if (r != 0)
        return r < 0 ? -1 : 1;
    pid = record_worker(rec); /* 0 unless pid, start time (and boot) all match */
    start = json_object_object_get_ex(rec, "pidStart", &v) ? (uint64_t)json_object_get_int64(v) : 0;
    json_object_put(rec);
    if (pid <= 0 || start == 0)
        return 1;
    /* Hold the process by a pidfd, then check its start time once more: the
     * signal goes to the process checked, never to one that took its pid. */
    pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) {
        if (errno == ESRCH)
            return 1;
        if (errno != ENOSYS && errno != EPERM) {
            snprintf(err, errlen, "job %" PRId64 ": cannot reach worker %d: %s", id, (int)pid,
                     strerror(errno));
            return -1;
        }
    }
    if (se_store_proc_start(pid) != start) {
        if (pfd >= 0)
            close(pfd);
        return 1;
    }
    /* A start time is no secret (/proc/PID/stat): a record written by hand
     * can name any process by pid and start time.  Only one that runs this
     * very program (workers are forks of create, run or merge) is signalled;
     * another is refused, not taken for a dead worker: it may be a job of
     * another segexport binary, still running. */
    if (se_store_same_program(pid) == 0) {
        if (pfd >= 0)
            close(pfd);
        snprintf(err, errlen,
                 "job %" PRId64 ": process %d named by its record runs another program than this "
                 "segexport: not signalled (if it is the job's worker, stop it with kill)",
                 id, (int)pid);
        return -1;
    }
    r = pfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) : kill(pid, sig);
    if (r != 0) {
        int e = errno;
        if (pfd >= 0)
            close(pfd);
        if (e == ESRCH)
            return 1;
        snprintf(err, errlen, "job %" PRId64 ": cannot signal worker %d: %s", id, (int)pid, strerror(e));
        return -1;
    }
    if (pfd >= 0)
        close(pfd);
    return 0;
}

int se_store_open_log(se_store *st, int64_t id, char *err, size_t errlen)
{
    char *path = se_asprintf("%s/%" PRId64 ".log", st->jobs, id);
    int fd = -1;

    if (!path) {
        snprintf(err, errlen, "%s: %s", st->jobs, strerror(ENOMEM));
        return -1;
    }
    /* The id is new, so is its log: whatever has the name (a link planted
     * there, a stale file) is no log of this job and is replaced, never
     * written through. */
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && (errno != EEXIST || attempt > 0 || unlink(path) != 0))
            break;
    }
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    free(path);
    return fd;
}

