/* The job store (SPEC §10).
 *
 *   STORE/jobs/<id>.json   one record per job, replaced atomically: written to
 *                          STORE/jobs/.<id>.json.tmp-<pid>, fsynced, renamed
 *                          over the old one, directory fsynced.  Readers thus
 *                          see the old or the new record, never a mix.
 *   STORE/counter          the last id issued, decimal text + "\n".
 *   STORE/counter.lock     flock(LOCK_EX) here serialises id allocation.
 *
 * The counter is replaced by temp+fsync+rename while the lock is held rather
 * than rewritten in place: an in-place write torn by a crash would leave a
 * short or empty counter and ids could repeat.  The lock lives on its own file
 * because rename gives the counter a new inode, and a lock on the old inode
 * would not exclude a process that opened the new one.
 *
 * A missing counter (first use, or deleted by hand) restarts after the highest
 * record id present, so ids of existing jobs are never handed out again. */
#include "store.h"
#include "fsutil.h"
#include "jsonscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_FORMAT 1
#define MAX_RECORD (64u << 20) /* a job record is small; a bigger file is not one */
/* json-c's default depth (32) is what a job definition is parsed with; the
 * record wraps the job one level deeper, so allow well beyond that. */
#define MAX_DEPTH 128

struct se_store {
    char *dir;
    char *jobs;     /* dir/jobs */
    char *org;
    char *sandbox;
};

/* Writes text to path atomically: tmp, fsync, rename, fsync dir. */
static int replace_file(const char *path, const char *tmp, const char *dir,
                        const char *text, size_t len, char *err, size_t errlen)
{
    int fd, rc = -1;

    /* O_TRUNC, not O_EXCL: a stale temp file of a dead process whose pid we
     * now have must not block us forever. */
    fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    if (se_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = se_fsync_dir(dir, err, errlen);
    return rc;
out:
    unlink(tmp);
    return rc;
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
    return st;
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

/* Record ids under DIR/jobs, unsorted.  0, or -1 with errno set. */
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
        if (record_name_id(de->d_name, &id) != 0)
            continue;
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
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

int se_store_next_id(se_store *st, int64_t *id, char *err, size_t errlen)
{
    char *lock = se_asprintf("%s/counter.lock", st->dir);
    char *path = se_asprintf("%s/counter", st->dir);
    char *tmp = se_asprintf("%s/.counter.tmp-%ld", st->dir, (long)getpid());
    char text[32];
    int64_t last = 0;
    int fd = -1, rc = -1, r;

    if (!lock || !path || !tmp) {
        snprintf(err, errlen, "%s: %s", st->dir, strerror(ENOMEM));
        goto out;
    }
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", lock, strerror(errno));
        goto out;
    }
    while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    if (r != 0) {
        snprintf(err, errlen, "%s: %s", lock, strerror(errno));
        goto out;
    }
    r = read_counter(path, &last, err, errlen);
    if (r < 0)
        goto out;
    if (r == 1) {
        id_vec ids;
        if (collect_ids(st, &ids) != 0) {
            snprintf(err, errlen, "%s: %s", st->jobs, strerror(errno));
            goto out;
        }
        last = 0;
        for (size_t i = 0; i < ids.n; i++)
            if (ids.v[i] > last)
                last = ids.v[i];
        free(ids.v);
    }
    if (last == INT64_MAX) {
        snprintf(err, errlen, "%s: job ids exhausted", path);
        goto out;
    }
    snprintf(text, sizeof text, "%" PRId64 "\n", last + 1);
    if (replace_file(path, tmp, st->dir, text, strlen(text), err, errlen) != 0)
        goto out;
    *id = last + 1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd); /* releases the lock */
    free(lock);
    free(path);
    free(tmp);
    return rc;
}

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot), or 0 when it cannot be read.  A pid with the same start time is
 * the same process: this is what tells a live worker from a reused pid. */
static uint64_t proc_start(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long v = 0;
    ssize_t n;
    int fd;
    const char *p;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields restart after the last ')'. */
    if (!(p = strrchr(buf, ')')))
        return 0;
    p++;
    /* A zombie has finished: nobody may have reaped it yet (an init that
     * does not reap in a container), but it works on no job any more. */
    if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
        return 0;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p || sscanf(p, " %llu", &v) != 1)
        return 0;
    return (uint64_t)v;
}

int se_store_worker_alive(pid_t pid, uint64_t start)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    uint64_t now = proc_start(pid);
    if (now == 0) /* a zombie; or no /proc to ask, and then kill() has the last word */
        return access("/proc/self/stat", R_OK) != 0;
    return start == 0 || now == start;
}

/* This boot's id (36 characters), or "" when it cannot be read.  Start times
 * count from boot, so after a restart another process may have the pid and
 * start time a worker had: a record made under another boot has no worker. */
static void boot_id(char out[40])
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, 39) : -1;

    if (fd >= 0)
        close(fd);
    if (n < 36) {
        out[0] = '\0';
        return;
    }
    out[36] = '\0';
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
        boot_id(now);
        if (now[0] && strcmp(now, json_object_get_string(v)) != 0)
            return 0;
    }
    /* Older records have no pidStart: trust the pid alone then. */
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
    char *tmp = se_asprintf("%s/.%" PRId64 ".json.tmp-%ld", st->jobs, id, (long)getpid());
    char *text = NULL;
    json_object *rec = NULL;
    char boot[40] = "";
    int rc = -1;

    if (pid > 0)
        boot_id(boot);
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
        se_json_add(rec, "pidStart", json_object_new_int64(pid > 0 ? (int64_t)proc_start(pid) : 0)) != 0 ||
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
    rc = replace_file(path, tmp, st->jobs, text, strlen(text), err, errlen);
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
 * -1 with err. */
static int slurp(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t n = 0, cap;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: damaged job record (not a regular file)", path);
        goto out;
    }
    if ((uint64_t)sb.st_size > MAX_RECORD) {
        snprintf(err, errlen, "%s: damaged job record (larger than %u bytes)", path, MAX_RECORD);
        goto out;
    }
    /* Read to EOF rather than trusting st_size: the file may change under us. */
    cap = (size_t)sb.st_size + 1;
    if (!(buf = malloc(cap + 1)))
        goto nomem;
    for (;;) {
        if (n == cap) {
            char *nb;
            if (cap > MAX_RECORD) {
                snprintf(err, errlen, "%s: damaged job record (larger than %u bytes)", path, MAX_RECORD);
                goto out;
            }
            if (!(nb = realloc(buf, cap * 2 + 1)))
                goto nomem;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    buf = NULL;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
out:
    free(buf);
    close(fd);
    return rc;
}

/* Parses a record file's text.  0 with *rec, or -1 with *why. */
static int parse_record(const char *text, size_t len, json_object **rec, const char **why)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error je;
    size_t end;

    *rec = NULL;
    if (len == 0) {
        *why = "empty file";
        return -1;
    }
    if (strlen(text) != len) {
        *why = "contains a NUL byte";
        return -1;
    }
    if (len > INT_MAX) {
        *why = "too large";
        return -1;
    }
    if (!(tok = json_tokener_new_ex(MAX_DEPTH))) {
        *why = strerror(ENOMEM);
        return -1;
    }
    o = json_tokener_parse_ex(tok, text, (int)len);
    je = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o) {
        *why = je == json_tokener_continue ? "truncated" : json_tokener_error_desc(je);
        return -1;
    }
    for (; end < len; end++) {
        if (!strchr(" \t\r\n", text[end])) {
            json_object_put(o);
            *why = "trailing data after the record";
            return -1;
        }
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        *why = "not a JSON object";
        return -1;
    }
    *rec = o;
    return 0;
}

/* Loads and checks DIR/jobs/<id>.json.  0 with *rec when in scope, 1 when
 * missing or out of scope, -1 with err; *damaged then says whether the file
 * was read but is not a usable record of any version. */
static int load(se_store *st, int64_t id, json_object **rec, int *damaged, char *err, size_t errlen)
{
    char *path = NULL, *text = NULL;
    size_t len = 0;
    json_object *o = NULL, *v;
    const char *why = NULL;
    int rc = -1, r;

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
        rc = r;
        goto out;
    }
    if (parse_record(text, len, &o, &why) != 0)
        goto damaged;
    if (!json_object_object_get_ex(o, "format", &v) || !json_object_is_type(v, json_type_int)) {
        why = "no format number";
        goto damaged;
    }
    if (json_object_get_int64(v) != RECORD_FORMAT) {
        snprintf(err, errlen,
                 "%s: job record written by an unsupported segexport version (format %" PRId64 ")",
                 path, json_object_get_int64(v));
        goto out;
    }
    if (!json_object_object_get_ex(o, "org", &v) || !json_object_is_type(v, json_type_string) ||
        !json_object_object_get_ex(o, "sandbox", &v) || !json_object_is_type(v, json_type_string)) {
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
    json_object_object_get_ex(o, "org", &v);
    if (strcmp(json_object_get_string(v), st->org) != 0) {
        rc = 1;
        goto out;
    }
    json_object_object_get_ex(o, "sandbox", &v);
    if (strcmp(json_object_get_string(v), st->sandbox) != 0) {
        rc = 1;
        goto out;
    }
    *rec = o;
    o = NULL;
    rc = 0;
    goto out;
damaged:
    snprintf(err, errlen, "%s: damaged job record (%s)", path, why);
    *damaged = 1;
out:
    json_object_put(o);
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

/* A damaged record (unreadable as JSON or missing its fields) belongs to no
 * scope we can tell and can never be used again, so it is removed: that is how
 * `cancel` clears one.  A record of an unsupported format is kept: a newer
 * segexport may read it, and it may belong to another scope. */
int se_store_remove(se_store *st, int64_t id, char *err, size_t errlen)
{
    json_object *rec;
    char *path;
    int damaged;
    int r = load(st, id, &rec, &damaged, err, errlen);

    if (r != 0 && !(r < 0 && damaged))
        return r;
    json_object_put(rec);
    path = se_asprintf("%s/%" PRId64 ".json", st->jobs, id);
    if (!path) {
        snprintf(err, errlen, "%s: %s", st->jobs, strerror(ENOMEM));
        return -1;
    }
    if (unlink(path) != 0) {
        r = errno == ENOENT ? 1 : -1; /* removed meanwhile by another process */
        if (r < 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
        return r;
    }
    free(path);
    return se_fsync_dir(st->jobs, err, errlen);
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
