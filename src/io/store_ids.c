/* Job ids (store.h): the counter that issues them under the id lock, and the
 * ids of the records present (listing, and the counter's repair).
 *
 * The counter is replaced by temp+fsync+rename while the lock is held rather
 * than rewritten in place: an in-place write torn by a crash would leave a
 * short or empty counter and ids could repeat.  The lock lives on its own file
 * because rename gives the counter a new inode, and a lock on the old inode
 * would not exclude a process that opened the new one.
 *
 * A missing counter (first use, or deleted by hand) restarts after the highest
 * record id present, so ids of existing jobs are never handed out again; so
 * does a counter that is behind (its next id has a record: restored from a
 * backup, edited by hand), with a notice.  The first record of a new id is
 * put in place with RENAME_NOREPLACE: it never replaces another job's.
 *
 * Listing removes what processes killed mid-write left: a record's temporary
 * older than a minute; the counter's temporaries under the lock. */
#include "store.h"
#include "fsutil.h"
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parses a canonical positive decimal (no sign, no leading zero) of exactly
 * len bytes into *v.  0 or -1. */
static int parse_id(const char *s, size_t len, int64_t *v)
{
    int64_t n = 0;

    if (len == 0 || s[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (n > (INT64_MAX - (s[i] - '0')) / 10)
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    *v = n;
    return 0;
}

/* "<digits>.json" with a canonical id: the names of job records. */
static int record_name_id(const char *name, int64_t *id)
{
    size_t n = strlen(name);

    if (n <= 5 || strcmp(name + n - 5, ".json") != 0)
        return -1;
    return parse_id(name, n - 5, id);
}

typedef struct id_vec {
    int64_t *v;
    size_t n, cap;
} id_vec;

/* A record's temporary file (.<id>.json.tmp-XXXXXX) lives for the moments
 * between its creation and its rename; one older than a minute was left by a
 * process that died there (kill -9) and is removed. */
#define STALE_TEMP_S 60
static void stale_temp(DIR *d, const char *name)
{
    struct stat sb;
    const char *t = strstr(name, ".json.tmp-");

    if (name[0] != '.' || !t || strlen(t) != 16)
        return;
    if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        sb.st_mtime < time(NULL) - STALE_TEMP_S)
        unlinkat(dirfd(d), name, 0);
}

/* Record ids under DIR/jobs, unsorted (stale temporary files of records are
 * removed on the way).  0, or -1 with errno set. */
static int collect_ids(const se_store *st, id_vec *out)
{
    DIR *d = opendir(st->jobs);
    struct dirent *de;
    int64_t id;

    out->v = NULL;
    out->n = out->cap = 0;
    if (!d)
        return -1;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        if (record_name_id(de->d_name, &id) != 0) {
            stale_temp(d, de->d_name);
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            int64_t *nv = realloc(out->v, cap * sizeof *nv);
            if (!nv) {
                errno = ENOMEM;
                break;
            }
            out->v = nv;
            out->cap = cap;
        }
        out->v[out->n++] = id;
    }
    if (errno != 0) {
        int e = errno;
        closedir(d);
        free(out->v);
        out->v = NULL;
        out->n = 0;
        errno = e;
        return -1;
    }
    closedir(d);
    return 0;
}

/* Reads the counter file: 0 with *last, 1 when missing, -1 with err. */
static int read_counter(const char *path, int64_t *last, char *err, size_t errlen)
{
    char buf[32];
    size_t len = 0;
    int fd = se_store_open_file(path, O_RDONLY, 0);

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, se_store_open_why(errno));
        return -1;
    }
    while (len < sizeof buf) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len >= sizeof buf - 1 || parse_id(buf, len, last) != 0) {
        snprintf(err, errlen, "%s: damaged id counter (not a positive decimal number)", path);
        return -1;
    }
    return 0;
}

/* What a process that died holding the lock left: .counter.tmp-* (only the
 * lock's holder makes one, so under the lock every one is stale). */
static void sweep_counter_temps(const se_store *st)
{
    DIR *d = opendir(st->dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL)
        if (!strncmp(de->d_name, ".counter.tmp-", 13))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

/* The highest record id present (0 when none).  0, or -1 with err. */
static int highest_id(const se_store *st, int64_t *max, char *err, size_t errlen)
{
    id_vec ids;

    if (collect_ids(st, &ids) != 0) {
        snprintf(err, errlen, "%s: %s", st->jobs, strerror(errno));
        return -1;
    }
    *max = 0;
    for (size_t i = 0; i < ids.n; i++)
        if (ids.v[i] > *max)
            *max = ids.v[i];
    free(ids.v);
    return 0;
}

int se_store_next_id(se_store *st, int64_t *id, char *err, size_t errlen)
{
    char *lock = se_asprintf("%s/counter.lock", st->dir);
    char *path = se_asprintf("%s/counter", st->dir);
    char *tmp = se_asprintf("%s/.counter.tmp-XXXXXX", st->dir);
    char *next = NULL;
    char text[32];
    int64_t last = 0, max;
    int fd = -1, rc = -1, r;
    struct stat sb;

    st->notice[0] = '\0';
    if (!lock || !path || !tmp) {
        snprintf(err, errlen, "%s: %s", st->dir, strerror(ENOMEM));
        goto out;
    }
    /* flock needs an open file, in any mode: a reader could hold the lock.
     * So it is opened for writing only and made 0620 (less the umask): those
     * who may write it (the store's group, when the store is shared) take
     * ids; one who may only read the store cannot open it, so cannot hold it. */
    fd = se_store_open_file(lock, O_WRONLY, 0620);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", lock, se_store_open_why(errno));
        goto out;
    }
    /* A lock made by an older segexport is 0644 or 0660 (less the umask):
     * readable, so lockable, by readers.  Its owner takes that back. */
    if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 0777 & ~0620))
        fchmod(fd, sb.st_mode & 0620);
    if (se_store_lock_bounded(fd, lock, err, errlen) != 0)
        goto out;
    sweep_counter_temps(st);
    r = read_counter(path, &last, err, errlen);
    if (r < 0)
        goto out;
    if (r == 1) {
        if (highest_id(st, &last, err, errlen) != 0)
            goto out;
    } else if (last < INT64_MAX) {
        /* A counter behind the records would hand out an id that is taken. */
        if (!(next = se_asprintf("%s/%" PRId64 ".json", st->jobs, last + 1))) {
            snprintf(err, errlen, "%s: %s", st->dir, strerror(ENOMEM));
            goto out;
        }
        if (lstat(next, &sb) == 0) {
            if (highest_id(st, &max, err, errlen) != 0)
                goto out;
            snprintf(st->notice, sizeof st->notice,
                     "%s: said %" PRId64 ", behind the job records (the highest id is %" PRId64
                     "): repaired", path, last, max);
            last = max;
        }
    }
    if (last == INT64_MAX) {
        snprintf(err, errlen, "%s: job ids exhausted", path);
        goto out;
    }
    snprintf(text, sizeof text, "%" PRId64 "\n", last + 1);
    if (se_store_replace_file(path, tmp, st->dir, text, strlen(text), 0, err, errlen) != 0)
        goto out;
    *id = last + 1;
    st->fresh_id = *id;
    st->fresh_pid = getpid();
    rc = 0;
out:
    if (fd >= 0)
        close(fd); /* releases the lock */
    free(lock);
    free(path);
    free(tmp);
    free(next);
    return rc;
}
static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Only canonical names ("7.json", not "007.json") count: those are the files
 * se_store_get looks for.  On -1, errno says why the directory was unreadable. */
int se_store_each_id(se_store *st, int (*fn)(int64_t id, void *ctx), void *ctx)
{
    id_vec ids;
    int rc = 0;

    if (collect_ids(st, &ids) != 0)
        return -1;
    if (ids.n > 1)
        qsort(ids.v, ids.n, sizeof ids.v[0], cmp_id);
    for (size_t i = 0; i < ids.n && rc == 0; i++)
        rc = fn(ids.v[i], ctx);
    free(ids.v);
    return rc;
}
