/* `segexport get`, `list`, `cancel`/`delete`: the job store's read side and
 * cancellation (SPEC §10). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "commands.h"
#include "errcodes.h"
#include "msg.h"
#include "store.h"
#include "timeutil.h"
#include "worker.h"

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static const char *job_status(json_object *job)
{
    json_object *v;
    return json_object_object_get_ex(job, "status", &v) ? json_object_get_string(v) : "";
}

static int64_t job_int(json_object *job, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(job, key, &v) ? json_object_get_int64(v) : 0;
}

/* A job still NEW/PROCESSING whose worker is gone died (killed, machine
 * stopped): record it FAILED so every reader sees the same thing. */
static void detect_dead(se_store *st, int64_t id, json_object *job, pid_t pid, const char *output_dir)
{
    const char *s = job_status(job);
    json_object *errs;
    char msg[160];

    if (strcmp(s, "NEW") && strcmp(s, "PROCESSING"))
        return;
    if (pid > 0) /* se_store_get_ex already said 0 for a worker that is gone */
        return;
    se_worker_cleanup(output_dir, job);
    /* It may have died after renaming archives into place: a FAILED job has none. */
    se_worker_remove_archives(output_dir, job);
    snprintf(msg, sizeof msg, "the worker process died before the job finished");
    if (!json_object_object_get_ex(job, "errors", &errs)) {
        errs = json_object_new_array();
        json_object_object_add(job, "errors", errs);
    }
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(SE_EC_WORKER_DIED));
    json_object_object_add(e, "msg", json_object_new_string(msg));
    json_object_object_add(e, "callStack", json_object_new_string("segexport"));
    json_object_array_add(errs, e);
    json_object_object_add(job, "status", json_object_new_string("FAILED"));
    json_object_object_add(job, "updateTime", json_object_new_int64(se_now_ms()));
    char err[512];
    if (se_store_put(st, id, 0, job, err, sizeof err))
        se_warn("%s", err);
}

/* The read side never creates a store: a store that does not exist holds no
 * job (a mistyped --store must not leave directories behind).  *st stays
 * NULL then, with 0 returned. */
static int open_store(const se_opts *o, se_store **st)
{
    char err[1024];
    struct stat sb;

    *st = NULL;
    if (stat(o->store_dir, &sb) != 0 && errno == ENOENT)
        return 0;
    if (!(*st = se_store_open(o->store_dir, o->org, o->sandbox, err, sizeof err))) {
        se_error("%s", err);
        return SE_EXIT_SYSTEM;
    }
    return 0;
}

/* The job named by get's and cancel's one operand. */
struct one_job {
    se_store *st;
    int64_t id;
    json_object *job;            /* NULL when the record is damaged */
    pid_t pid;                   /* its live worker, or 0 */
    char *outdir;
    char err[1024];              /* why the record is damaged */
};

/* Finds the job of o's operand.  Returns an exit status: 0 with the job (or,
 * *damaged set, its damaged record: j->err says why), or usage / store /
 * not-found, already reported. */
static int fetch_one(const se_opts *o, struct one_job *j, bool *damaged)
{
    int rc, r;

    memset(j, 0, sizeof *j);
    *damaged = false;
    if (o->noperands != 1) {
        se_error("%s: expected one job ID (usage: segexport %s [OPTIONS] ID)", o->cmd_name, o->cmd_name);
        return SE_EXIT_USAGE;
    }
    if (parse_id(o->operands[0], &j->id)) {
        /* (se_error escapes the operand's bytes) */
        se_error("%s: '%s' is not a job ID: a job ID is a positive integer, as 'segexport list' shows them",
                 o->cmd_name, o->operands[0]);
        return SE_EXIT_USAGE;
    }
    if ((rc = open_store(o, &j->st)))
        return rc;
    r = j->st ? se_store_get_ex(j->st, j->id, &j->job, &j->pid, &j->outdir, j->err, sizeof j->err) : 1;
    if (r == 1) {
        se_error("job %lld not found", (long long)j->id);
        return SE_EXIT_NOT_FOUND;
    }
    if (r == 2) {
        /* Nobody's record: not shown to, nor removable by, any scope. */
        se_error("job %lld not found (%s, whose scope cannot be read: only removed by hand)",
                 (long long)j->id, j->err);
        return SE_EXIT_NOT_FOUND;
    }
    if (r < 0)
        *damaged = true;
    else
        detect_dead(j->st, j->id, j->job, j->pid, j->outdir);
    return 0;
}

static void one_job_free(struct one_job *j)
{
    free(j->outdir);
    json_object_put(j->job);
    se_store_free(j->st);
}

int se_cmd_get(const se_opts *o)
{
    struct one_job j;
    bool damaged;
    int rc = fetch_one(o, &j, &damaged);

    if (rc == 0 && damaged) {
        se_error("%s", j.err);
        rc = SE_EXIT_SYSTEM;
    } else if (rc == 0) {
        rc = se_print_json(j.job) ? SE_EXIT_SYSTEM : SE_EXIT_OK;
    }
    one_job_free(&j);
    return rc;
}

struct listing {
    se_store *st;
    json_object **jobs;
    size_t n, cap;
    int rc;
};

static int collect(int64_t id, void *vctx)
{
    struct listing *l = vctx;
    json_object *job = NULL;
    pid_t pid;
    char err[1024], *outdir = NULL;
    int r = se_store_get_ex(l->st, id, &job, &pid, &outdir, err, sizeof err);

    if (r == 1 || r == 2) /* another scope's, or nobody's */
        return 0;
    if (r < 0) {
        se_warn("%s", err); /* one damaged record must not hide the others */
        return 0;
    }
    detect_dead(l->st, id, job, pid, outdir);
    free(outdir);
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        json_object **nj = realloc(l->jobs, nc * sizeof *nj);
        if (!nj) {
            json_object_put(job);
            return -1;
        }
        l->jobs = nj;
        l->cap = nc;
    }
    l->jobs[l->n++] = job;
    return 0;
}

/* Newest first: creationTime, then id, both descending. */
static int newest_first(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    int64_t cx = job_int(x, "creationTime"), cy = job_int(y, "creationTime");
    int64_t ix = job_int(x, "id"), iy = job_int(y, "id");
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return ix < iy ? 1 : ix > iy ? -1 : 0;
}

int se_cmd_list(const se_opts *o)
{
    struct listing l = { 0 };
    json_object *out = NULL, *recs, *page, *link;
    int64_t tok_ct = 0, tok_id = 0;
    bool has_tok = false;
    char next[256] = "";
    size_t shown = 0, i;
    int rc;

    if (o->noperands) {
        se_error("list: unexpected argument '%s'", o->operands[0]);
        return SE_EXIT_USAGE;
    }
    if (o->offset) {
        long long a, b;
        char tail;
        if (sscanf(o->offset, "%lld_%lld%c", &a, &b, &tail) != 2) {
            se_error("--offset: '%s' is not a {creationTime}_{id} token", o->offset);
            return SE_EXIT_USAGE;
        }
        tok_ct = a;
        tok_id = b;
        has_tok = true;
    }
    if ((rc = open_store(o, &l.st)))
        return rc;
    if (l.st && se_store_each_id(l.st, collect, &l) != 0) {
        se_error("%s/jobs: cannot list the job records", o->store_dir);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (l.n > 1)
        qsort(l.jobs, l.n, sizeof *l.jobs, newest_first);
    out = json_object_new_object();
    recs = json_object_new_array();
    for (i = 0; i < l.n; i++) {
        json_object *j = l.jobs[i];
        int64_t ct = job_int(j, "creationTime"), id = job_int(j, "id");
        if (has_tok && (ct > tok_ct || (ct == tok_ct && id >= tok_id)))
            continue;
        if (o->status && strcmp(job_status(j), o->status))
            continue;
        if (shown == o->limit) {
            /* another record exists past this page */
            json_object *last = json_object_array_get_idx(recs, shown - 1);
            snprintf(next, sizeof next, "/export/jobs/?limit=%llu&offset=%lld_%lld",
                     (unsigned long long)o->limit, (long long)job_int(last, "creationTime"),
                     (long long)job_int(last, "id"));
            break;
        }
        json_object_array_add(recs, json_object_get(j));
        shown++;
    }
    json_object_object_add(out, "records", recs);
    page = json_object_new_object();
    json_object_object_add(page, "sortField", json_object_new_string("createdTime"));
    json_object_object_add(page, "sort", json_object_new_string("desc"));
    json_object_object_add(page, "pageOffset", json_object_new_string(o->offset ? o->offset : ""));
    json_object_object_add(page, "pageSize", json_object_new_int64((int64_t)shown));
    json_object_object_add(out, "page", page);
    link = json_object_new_object();
    json_object_object_add(link, "next", json_object_new_string(next));
    json_object_object_add(out, "link", link);
    rc = se_print_json(out) ? SE_EXIT_SYSTEM : SE_EXIT_OK;
out:
    for (i = 0; i < l.n; i++)
        json_object_put(l.jobs[i]);
    free(l.jobs);
    json_object_put(out);
    se_store_free(l.st);
    return rc;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Ended by a cancel: the cancellation error, or - a process that does not
 * turn SIGTERM into a cancellation (a `merge`) - the death it caused. */
static bool was_cancelled(json_object *job)
{
    json_object *errs, *v;
    if (!json_object_object_get_ex(job, "errors", &errs) || !json_object_is_type(errs, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(errs); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(errs, i), "code", &v) &&
            (!strcmp(json_object_get_string(v), SE_EC_CANCELLED) ||
             !strcmp(json_object_get_string(v), SE_EC_WORKER_DIED)))
            return true;
    return false;
}

/* After the signal: waits until the job is over (its worker stops within a
 * second; CANCEL_WAIT_MS at most), so the answer is what happened.  The
 * worker's final record decides: a cancel that reached it first made the job
 * FAILED (cancelled), archives taken back even mid-commit.  A job that had
 * already finished is a finished job (SPEC §10): its record is removed, its
 * archives stay, and stderr says so - never "marked for cancelling" and then
 * SUCCEEDED.  Returns an exit status. */
#define CANCEL_WAIT_MS 60000
static int cancel_outcome(const se_opts *o, struct one_job *j)
{
    char err[1024];
    (void)o;
    for (int waited = 0; waited < CANCEL_WAIT_MS; waited += 20) {
        json_object *job = NULL;
        pid_t pid = 0;
        char *outdir = NULL;
        int r = se_store_get_ex(j->st, j->id, &job, &pid, &outdir, err, sizeof err);
        if (r != 0) { /* removed or damaged meanwhile: nothing left to cancel */
            free(outdir);
            return 0;
        }
        detect_dead(j->st, j->id, job, pid, outdir);
        free(outdir);
        const char *s = job_status(job);
        if (strcmp(s, "NEW") && strcmp(s, "PROCESSING")) {
            if (!was_cancelled(job)) {
                se_warn("job %lld had already finished (%s) when the cancel reached it: "
                        "its record is removed, its archives stay", (long long)j->id, s);
                json_object_put(job);
                if (se_store_remove(j->st, j->id, err, sizeof err) < 0) {
                    se_error("%s", err);
                    return SE_EXIT_SYSTEM;
                }
                return 0;
            }
            json_object_put(job);
            return 0;
        }
        json_object_put(job);
        pause_ms(20);
    }
    return 0; /* signalled; the worker ends it (its forced end needs no help) */
}

int se_cmd_cancel(const se_opts *o)
{
    struct one_job j;
    bool damaged;
    char err[1024];
    int rc = fetch_one(o, &j, &damaged);

    if (rc)
        goto out;
    if (damaged) {
        /* A damaged record can still be deleted. */
        if (se_store_remove(j.st, j.id, err, sizeof err) < 0) {
            se_error("%s", err);
            rc = SE_EXIT_SYSTEM;
            goto out;
        }
    } else {
        const char *s = job_status(j.job);
        int r = 1;
        if ((!strcmp(s, "NEW") || !strcmp(s, "PROCESSING")) && j.pid > 0) {
            /* The worker turns SIGTERM into a clean cancellation; only a
             * process with the recorded pid and start time gets it. */
            if ((r = se_store_signal(j.st, j.id, SIGTERM, err, sizeof err)) < 0) {
                se_error("%s", err);
                rc = SE_EXIT_SYSTEM;
                goto out;
            }
            if (r == 0 && (rc = cancel_outcome(o, &j)))
                goto out;
        }
        if (r != 0 && se_store_remove(j.st, j.id, err, sizeof err) < 0) {
            se_error("%s", err);
            rc = SE_EXIT_SYSTEM;
            goto out;
        }
    }
    /* The API's DELETE response, byte for byte. */
    if (puts("{\"status\":true,\"message\":\"Export job has been marked for cancelling\"}") == EOF)
        rc = SE_EXIT_SYSTEM;
out:
    one_job_free(&j);
    return rc;
}
