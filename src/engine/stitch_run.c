/* Identity stitching: `run` with a pdg policy over files (stitch.h):
 * pass 1 (stitch.c) builds the graph and the verdicts, pass 2 keys each good
 * record into the sort, whose merge streams into the keyed engine. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "errcodes.h"
#include "extsort.h"
#include "fsutil.h"
#include "pipeline.h"
#include "stitch_int.h"
#include "timeutil.h"

#define SORT_MEMORY ((size_t)16 << 20) /* the sort's two half-buffers (extsort.h): more runs on disk
                                       * cost less than more pages to fault in */
#define WARN_LIMIT 20                  /* as the engine: bad-record warnings passed to on_warning */

/* ---- run ------------------------------------------------------------- */

/* Where a pdg job's time goes (the -v note): wall and CPU seconds (both
 * threads) of each phase, from a monotonic clock and getrusage. */
typedef struct phclock {
    double wall, cpu;
} phclock;

static phclock ph_now(void)
{
    struct timespec ts;
    struct rusage ru;
    phclock p = { 0, 0 };
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        p.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        p.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return p;
}

/* Appends " NAME W s (CPU C s)" for the phase since *t, and restarts *t. */
static void ph_lap(char *buf, size_t cap, const char *name, phclock *t)
{
    phclock n = ph_now();
    size_t len = strlen(buf);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s %s %.2f s (CPU %.2f s)", len ? "," : "", name,
                 n.wall - t->wall, n.cpu - t->cpu);
    *t = n;
}

typedef struct sctx {
    const se_export_params *ep;
    se_jobstate *js;
    bool failed;
    char why[1024];
    char **giants;             /* keys of the components left out, reported at the end of pass 2 */
    size_t ngiants, cap_giants;
} sctx;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SPEC §4: the left-out profiles, after the bad records and in key order, as
 * the keyed path reports them (bad-record lines sort first, then groups). */
static void report_giants(sctx *c)
{
    if (c->ngiants > 1)
        qsort(c->giants, c->ngiants, sizeof *c->giants, cmp_str);
    for (size_t i = 0; i < c->ngiants; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg, "profile \"%s\" left out: its identity graph holds more than %d identities",
                 c->giants[i], SE_GRAPH_MAX_IDENTITIES);
        se_jobstate_error(c->js, SE_EC_GRAPH_TOO_BIG, msg, "segexport.graph");
        if (c->ep->on_warning)
            c->ep->on_warning(c->ep->warning_ud, msg);
    }
}

static void sfail(sctx *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sfail(sctx *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    se_jobstate_failv(c->js, &c->failed, c->why, sizeof c->why, code, fmt, ap);
    va_end(ap);
}

static const char *cancel_text(const se_export_params *ep)
{
    return ep->cancel_reason && *ep->cancel_reason ? *ep->cancel_reason : "job cancelled";
}

static bool cancelled(sctx *c)
{
    if (c->ep->cancel && *c->ep->cancel) {
        sfail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
        return true;
    }
    return false;
}

static void bad_record(sctx *c, const char *name, uint64_t line, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:%llu: %s", name, (unsigned long long)line, reason);
    c->js->input_records++;
    c->js->bad_records++;
    se_jobstate_error(c->js, SE_EC_BAD_RECORD, msg, "segexport.input");
    if (c->js->bad_records <= WARN_LIMIT && c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
    if (c->js->bad_records > c->ep->o.max_errors)
        sfail(c, SE_EC_JOB_FAILED,
              "Error in Export Job: %llu bad input records, more than --max-errors %llu",
              (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o.max_errors);
}

/* Pass 2's prep: nothing; pass 1's verdicts tell what each line is. */
static int prep_none(void *ud, se_chunk *ch)
{
    (void)ud;
    for (size_t i = 0; i < ch->nlines; i++)
        ch->lines[i].flags = 0;
    return 0;
}

/* The engine's view of the job while the sort streams to it: its cancel
 * flag is the job's (passed on once a chunk, from its progress callback) or
 * the merge thread's failure, set before the stream shows its end, so the
 * engine never commits a cut stream. */
typedef struct feed {
    const se_export_params *ep;
    volatile sig_atomic_t stop;
    const char *reason;
    char why[600];
} feed;

static void feed_stop(feed *f, const char *reason)
{
    if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&f->reason, reason, __ATOMIC_RELEASE);
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
}

static void feed_fail(void *ud, const char *err)
{
    feed *f = ud;
    snprintf(f->why, sizeof f->why, "Error writing profiles to output path: %s", err);
    feed_stop(f, f->why);
}

static void feed_progress(void *ud, const se_export_progress *p)
{
    feed *f = ud;
    if (f->ep->cancel && *f->ep->cancel)
        feed_stop(f, cancel_text(f->ep));
    if (f->ep->on_progress)
        f->ep->on_progress(f->ep->progress_ud, p);
}

/* Pass 2: every good record's line, keyed by its component, into the sort. */
static void spool(sctx *c, se_stitcher *st, vspool *vs, se_extsort *xs)
{
    const se_export_limits *o = &c->ep->o;
    se_pipe *pipe = se_pipe_start(c->ep->inputs, c->ep->ninputs, (size_t)o->max_record_bytes,
                                  prep_none, NULL, st);
    char err[1024];
    verdict v;

    if (!pipe) {
        sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    while (!c->failed) {
        se_chunk *ch = se_pipe_next(pipe);
        if (ch->status < 0) {
            sfail(c, SE_EC_INPUT_READ, "Error reading input: %s", ch->err);
            break;
        }
        if (ch->status == 0 || cancelled(c))
            break;
        for (size_t i = 0; i < ch->nlines && !c->failed; i++) {
            const se_pline *pl = &ch->lines[i];
            const char *key;
            size_t klen;
            unsigned size;
            int k;
            if (pl->too_long) {
                snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                         (unsigned long long)o->max_record_bytes);
                bad_record(c, ch->name, pl->lineno, err);
                continue;
            }
            const char *data = ch->data + pl->off;
            if (vs->pos + PREFETCH < vs->n && vs->v[vs->pos + PREFETCH].good)
                se_idgraph_prefetch(se_stitcher_graph(st), vs->v[vs->pos + PREFETCH].h);
            int r = se_st_vs_get(vs, &v);
            if (r < 0) {
                sfail(c, SE_EC_WRITE, "Error writing profiles to output path: temporary file: %s",
                      strerror(errno));
                break;
            }
            if (r == 0 || v.len != pl->len) {
                sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s:%llu: the input changed while it was read",
                      ch->name, (unsigned long long)pl->lineno);
                break;
            }
            if (v.good)
                k = se_st_key_of_hash(st, v.h, &key, &klen, &size, err, sizeof err);
            else
                k = se_stitcher_key(st, data, pl->len, &key, &klen, &size, err, sizeof err);
            if (k == 0) {
                bad_record(c, ch->name, pl->lineno, err);
            } else if (k > 0 && size > SE_GRAPH_MAX_IDENTITIES) {
                /* SPEC §4: left out, reported once, not a bad record. */
                c->js->input_records++;
                if (se_stitcher_report_once(st)) {
                    if (c->ngiants == c->cap_giants) {
                        size_t nc = c->cap_giants ? 2 * c->cap_giants : 8;
                        char **ng = realloc(c->giants, nc * sizeof *ng);
                        if (!ng) {
                            sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                            break;
                        }
                        c->giants = ng;
                        c->cap_giants = nc;
                    }
                    if (!(c->giants[c->ngiants] = strndup(key, klen))) {
                        sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                        break;
                    }
                    c->ngiants++;
                }
            } else if (k < 0) {
                sfail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s:%llu: %s", ch->name,
                      (unsigned long long)pl->lineno, err);
            } else if (se_extsort_add(xs, key, klen, data, pl->len, err, sizeof err) != 0) {
                sfail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            }
        }
    }
    se_pipe_free(pipe);
}

int se_stitch_execute(const se_export_params *ep, char *why, size_t whylen)
{
    sctx c = { .ep = ep, .js = ep->js };
    se_stitcher *st = se_stitcher_new();
    se_extsort *xs = NULL;
    vspool *vs = NULL;
    char err[1024], *dir = NULL, path[64], phases[256] = "";
    int fd = -1, rc = 1;
    int64_t start = se_now_ms();
    phclock t = ph_now();

    ep->js->export_start_ms = start;
    if (!st) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    /* The sort's and the verdicts' temporary files go where the batches' do, and
     * a named one (no O_TMPFILE) carries the first batch's id: its sweeps take it. */
    if (!(dir = se_asprintf("%s/%s", ep->output_root, ep->job->dataset_id)) ||
        !(xs = se_extsort_new(dir, ep->js->batch_ids[0], SORT_MEMORY)) || !(vs = malloc(sizeof *vs))) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    vs->n = vs->pos = 0;
    vs->fd = -1;
    if (se_mkdir_p(dir, err, sizeof err) != 0 || (vs->fd = se_extsort_tempfile(dir, ep->js->batch_ids[0], err, sizeof err)) < 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    if (se_st_read_graph(st, ep->inputs, ep->ninputs, (size_t)ep->o.max_record_bytes, ep->cancel, vs,
                   err, sizeof err) != 0) {
        if (ep->cancel && *ep->cancel)
            cancelled(&c);
        else if (!strcmp(err, "out of memory"))
            sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        else if (!strncmp(err, "temporary file: ", 16))
            sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s: %s", dir, err);
        else
            sfail(&c, SE_EC_INPUT_READ, "Error reading input: %s", err);
        goto out;
    }
    if (lseek(vs->fd, 0, SEEK_SET) != 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s: temporary file: %s", dir,
              strerror(errno));
        goto out;
    }
    ph_lap(phases, sizeof phases, "graph", &t);
    size_t ids = se_idgraph_identities(se_stitcher_graph(st)), peak = se_idgraph_peak_bytes(se_stitcher_graph(st));
    if (ep->on_info) {
        char note[256];
        snprintf(note, sizeof note,
                 "job %lld: identity graph: %zu identities, %zu stitched profiles, %zu bytes (peak %zu, %.1f per identity)",
                 (long long)ep->js->id, ids, se_idgraph_components(se_stitcher_graph(st)), se_idgraph_bytes(se_stitcher_graph(st)), peak,
                 ids ? (double)peak / (double)ids : 0.0);
        ep->on_info(ep->warning_ud, note);
    }
    spool(&c, st, vs, xs);
    if (c.failed)
        goto out;
    if (se_st_vs_get(vs, &(verdict){ 0 }) != 0) {
        sfail(&c, SE_EC_JOB_FAILED, "Error in Export Job: the input changed while it was read");
        goto out;
    }
    close(vs->fd);
    free(vs);
    vs = NULL;
    ph_lap(phases, sizeof phases, "keying", &t);
    report_giants(&c);
    se_stitcher_free(st); /* the graph is not needed past here */
    st = NULL;
    /* The sorted lines are the engine's --keyed input, streamed to it by
     * the sort's merge thread through a pipe: the merge runs beside the
     * engine and the merged lines never go to disk. */
    feed f = { .ep = ep };
    if ((fd = se_extsort_stream(xs, feed_fail, &f, err, sizeof err)) < 0) {
        sfail(&c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        goto out;
    }
    if (cancelled(&c))
        goto out;

    /* Keys make the lines longer than the records. */
    se_export_limits o = ep->o;
    o.keyed = true;
    o.max_record_bytes = ep->o.max_record_bytes > UINT64_MAX / 4 ? UINT64_MAX
                         : 3 * ep->o.max_record_bytes + 16;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *inputs[1] = { path };
    se_export_params kp = *ep;
    kp.o = o;
    kp.inputs = inputs;
    kp.ninputs = 1;
    kp.graph_checked = true;
    kp.cancel = &f.stop;
    kp.cancel_reason = &f.reason;
    kp.on_progress = feed_progress;
    kp.progress_ud = &f;
    rc = se_export_execute(&kp, why, whylen);
    close(fd); /* before the merge thread is waited for: it may wait for room */
    fd = -1;
    (void)se_extsort_stream_end(xs, err, sizeof err); /* (on_fail failed the export) */
    ep->js->export_start_ms = start;
    ph_lap(phases, sizeof phases, "sort merge and export", &t);
    if (ep->on_info) {
        char note[400];
        snprintf(note, sizeof note, "job %lld: pdg phases:%s", (long long)ep->js->id, phases);
        ep->on_info(ep->warning_ud, note);
    }
    goto done;
out:
    ep->js->export_end_ms = ep->js->update_ms = se_now_ms();
    ep->js->finished = true;
    ep->js->status = "FAILED";
    if (why)
        snprintf(why, whylen, "%s", c.why);
    rc = 1;
done:
    if (vs) {
        if (vs->fd >= 0)
            close(vs->fd);
        free(vs);
    }
    if (fd >= 0)
        close(fd);
    se_extsort_free(xs);
    se_stitcher_free(st);
    free(dir);
    for (size_t i = 0; i < c.ngiants; i++)
        free(c.giants[i]);
    free(c.giants);
    return rc;
}
