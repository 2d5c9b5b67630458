/* The export engine (SPEC §3-§7): one streaming pass, all or nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "batch.h"
#include "errcodes.h"
#include "export.h"
#include "filter.h"
#include "groupcheck.h"
#include "input.h"
#include "msg.h"
#include "profile.h"
#include "project.h"
#include "record.h"
#include "timeutil.h"

#define WARN_LIMIT 20 /* bad-record warnings printed on stderr; all go to errors[] */

typedef struct ctx {
    const se_export_params *ep;
    const se_job *job;
    se_jobstate *js;
    se_batch **batches;
    size_t nbatches;
    se_proj *proj, *evproj;
    se_profile prof;
    bool in_group;
    bool *qual;
    se_groupcheck *seen;
    char *prev_key;                  /* keyed: the previous group's key */
    bool failed;
    char why[1024];
} ctx;

static void fail(ctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(ctx *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (c->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    se_jobstate_error(c->js, code, c->why, "segexport");
    c->failed = true;
}

static const char *cancel_text(const se_export_params *ep)
{
    return ep->cancel_reason && *ep->cancel_reason ? *ep->cancel_reason : "job cancelled";
}

static void bad_record(ctx *c, const char *name, uint64_t line, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:%llu: %s", name, (unsigned long long)line, reason);
    c->js->bad_records++;
    se_jobstate_error(c->js, SE_EC_BAD_RECORD, msg, "segexport.input");
    if (c->js->bad_records <= WARN_LIMIT)
        se_warn("%s", msg);
    if (c->js->bad_records > c->ep->o->max_errors)
        fail(c, SE_EC_JOB_FAILED,
             "Error in Export Job: %llu bad input records, more than --max-errors %llu",
             (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o->max_errors);
}

static int write_row(ctx *c, size_t b, const char *s, size_t len)
{
    char err[1024];
    if (se_batch_add(c->batches[b], s, len, err, sizeof err)) {
        fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        return -1;
    }
    return 0;
}

/* Assembles the finished group, filters it and writes its row(s). */
static void finish_profile(ctx *c)
{
    const se_job *job = c->job;
    se_profile *p = &c->prof;
    json_object *row = NULL, *idmap = NULL;
    const char *s;
    size_t len;

    if (!c->in_group)
        return;
    c->in_group = false;
    if (se_profile_assemble(p, job->policy)) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    c->js->profiles++;
    if (!se_filter_profile(job, p, c->qual))
        return;
    if (!(row = se_proj_apply(c->proj, p->merged)))
        goto oom;
    if (job->has_event_list) {
        json_object *evs = json_object_new_array();
        if (!evs)
            goto oom;
        for (size_t i = 0; i < p->nevents; i++) {
            json_object *e;
            if (!se_filter_event(job, &p->events[i]))
                continue;
            if (!(e = se_proj_apply(c->evproj, p->events[i].obj))) {
                json_object_put(evs);
                goto oom;
            }
            json_object_array_add(evs, e);
        }
        /* A projection without fields returns merged itself: copy the top
         * level before adding, so merged stays the merged profile. */
        if (row == p->merged) {
            json_object *top = json_object_new_object();
            json_object_object_foreach(row, k, v)
                json_object_object_add(top, k, json_object_get(v));
            json_object_put(row);
            row = top;
        }
        json_object_object_add(row, "timeSeriesEvents", evs);
    }
    s = json_object_to_json_string_length(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!s)
        goto oom;
    json_object_object_get_ex(p->merged, "identityMap", &idmap);
    for (size_t b = 0; b < c->nbatches; b++) {
        if (c->nbatches > 1 && !c->qual[b])
            continue;
        if (write_row(c, b, s, len))
            break;
        c->js->exported++;
        se_jobstate_count_row(c->js, idmap);
    }
    json_object_put(row);
    return;
oom:
    json_object_put(row);
    fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
}

/* Starts or continues the group of key; checks the grouping rule. */
static int group(ctx *c, const char *key, const se_line *ln)
{
    if (c->in_group && !strcmp(key, c->prof.key))
        return 0;
    finish_profile(c);
    if (c->failed)
        return -1;
    if (c->ep->o->keyed) {
        if (c->prev_key && strcmp(key, c->prev_key) < 0) {
            fail(c, SE_EC_KEY_ORDER, "%s:%llu: input not sorted by key: \"%s\" comes after \"%s\"",
                 ln->name, (unsigned long long)ln->lineno, key, c->prev_key);
            return -1;
        }
        free(c->prev_key);
        if (!(c->prev_key = strdup(key)))
            goto oom;
    } else {
        const char *pname;
        uint64_t pline;
        int r = se_groupcheck_add(c->seen, key, ln->name, ln->lineno, &pname, &pline);
        if (r < 0)
            goto oom;
        if (r > 0) {
            fail(c, SE_EC_NOT_GROUPED,
                 "input not grouped: key \"%s\" at %s:%llu already appeared at %s:%llu",
                 key, ln->name, (unsigned long long)ln->lineno, pname, (unsigned long long)pline);
            return -1;
        }
    }
    if (se_profile_begin(&c->prof, key))
        goto oom;
    c->in_group = true;
    return 0;
oom:
    fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    return -1;
}

static void read_all(ctx *c)
{
    const se_opts *o = c->ep->o;
    se_input *in = se_input_open(c->ep->inputs, c->ep->ninputs, (size_t)o->max_record_bytes);
    se_rparser *rp = se_rparser_new();
    se_line ln;
    se_record rec;
    uint64_t seq = 0;
    char err[512];
    int r = 0;

    memset(&rec, 0, sizeof rec);
    if (!in || !rp) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    while (!c->failed && (r = se_input_next(in, &ln)) > 0) {
        const char *data = ln.data, *key;
        size_t len = ln.len;

        if (c->ep->cancel && *c->ep->cancel) {
            fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
            break;
        }
        c->js->input_records++;
        if (ln.too_long) {
            snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                     (unsigned long long)o->max_record_bytes);
            bad_record(c, ln.name, ln.lineno, err);
            continue;
        }
        if (o->keyed) {
            const char *tab = memchr(data, '\t', len);
            if (!tab) {
                bad_record(c, ln.name, ln.lineno, "keyed line without a TAB after the key");
                continue;
            }
            data = tab + 1;
            len -= (size_t)(tab + 1 - ln.data);
        }
        if (se_record_parse(rp, data, len, &rec, err, sizeof err)) {
            bad_record(c, ln.name, ln.lineno, err);
            continue;
        }
        rec.seq = seq++;
        key = rec.key;
        char *given = NULL;
        if (o->keyed) {
            given = strndup(ln.data, (size_t)(data - 1 - ln.data));
            if (!given) {
                se_record_clear(&rec);
                fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                break;
            }
            key = given;
        }
        if (o->shard && se_fnv1a64(key, strlen(key)) % o->shard_n != o->shard_k) {
            free(given);
            se_record_clear(&rec);
            continue;
        }
        if (group(c, key, &ln) == 0 && se_profile_add(&c->prof, &rec))
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        free(given);
        se_record_clear(&rec);
    }
    if (!c->failed && r < 0)
        fail(c, SE_EC_INPUT_READ, "Error reading input: %s", se_input_error(in));
    if (!c->failed)
        finish_profile(c);
out:
    se_record_clear(&rec);
    se_rparser_free(rp);
    se_input_free(in);
}

static int open_batches(ctx *c)
{
    const se_export_params *ep = c->ep;
    char *dir = NULL, err[1024];
    int rc = -1;

    if (asprintf(&dir, "%s/%s", ep->output_root, c->job->dataset_id) < 0) {
        dir = NULL;
        goto out;
    }
    c->nbatches = c->js->nbatches;
    c->batches = calloc(c->nbatches, sizeof *c->batches);
    if (!c->batches)
        goto out;
    for (size_t i = 0; i < c->nbatches; i++) {
        json_object *segs = se_jobstate_batch_segments(c->job, i);
        se_batch_info bi = {
            .batch_id = c->js->batch_ids[i],
            .dataset_id = c->job->dataset_id,
            .job_id = c->js->id,
            .schema_name = c->job->schema_name,
            .segments = segs,
        };
        c->batches[i] = se_batch_new(dir, &bi, ep->o->format, ep->o->level, ep->o->rows_per_file,
                                     c->js->creation_ms / 1000, err, sizeof err);
        json_object_put(segs);
        if (!c->batches[i]) {
            fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            goto out;
        }
    }
    rc = 0;
out:
    if (rc && !c->failed)
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    free(dir);
    return rc;
}

static void finish_batches(ctx *c)
{
    char err[1024];
    for (size_t i = 0; i < c->nbatches && !c->failed; i++)
        if (se_batch_finish(c->batches[i], err, sizeof err))
            fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    if (c->ep->cancel && *c->ep->cancel)
        fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
    /* Commit only when every archive is complete: all or nothing. */
    for (size_t i = 0; i < c->nbatches && !c->failed; i++)
        if (se_batch_commit(c->batches[i], err, sizeof err))
            fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    /* A later batch failed to commit: take back the ones already in place
     * (only those this job renamed there), so a failed job leaves none. */
    for (size_t i = 0; i < c->nbatches && c->failed; i++)
        if (se_batch_rollback(c->batches[i], err, sizeof err))
            se_warn("%s", err);
}

int se_export_execute(const se_export_params *ep, char *why, size_t whylen)
{
    ctx c;
    int rc;

    memset(&c, 0, sizeof c);
    c.ep = ep;
    c.job = ep->job;
    c.js = ep->js;
    se_profile_init(&c.prof);
    c.js->export_start_ms = se_now_ms();

    if (se_proj_compile(c.job->fields, &c.proj) ||
        se_proj_compile(c.job->event_fields, &c.evproj) ||
        !(c.qual = calloc(c.job->nsegs + 1, sizeof *c.qual)) ||
        (!ep->o->keyed && !(c.seen = se_groupcheck_new()))) {
        fail(&c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    if (open_batches(&c))
        goto out;
    read_all(&c);
    if (!c.failed)
        finish_batches(&c);
out:
    for (size_t i = 0; i < c.nbatches; i++)
        se_batch_free(c.batches[i]); /* removes temporaries of uncommitted batches */
    free(c.batches);
    se_profile_clear(&c.prof);
    se_proj_free(c.proj);
    se_proj_free(c.evproj);
    se_groupcheck_free(c.seen);
    free(c.qual);
    free(c.prev_key);
    c.js->export_end_ms = c.js->update_ms = se_now_ms();
    c.js->finished = true;
    c.js->status = c.failed ? "FAILED" : "SUCCEEDED";
    rc = c.failed ? 1 : 0;
    if (why)
        snprintf(why, whylen, "%s", c.failed ? c.why : "");
    return rc;
}
