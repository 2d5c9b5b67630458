/* `segexport merge RESULT.json...`: combines the results of shard runs of one
 * job definition (`run --shard K/N`) into one job (SPEC §9).
 *
 * The results are read and checked first (exit 5 unreadable, 3 malformed or of
 * different definitions), the shards' archives located (exit 5 when one is
 * missing); then a new job is recorded in the store and run through the same
 * life as `run`'s (worker.c: PROCESSING, then SUCCEEDED or FAILED; SIGINT and
 * SIGTERM cancel it cleanly, exit 130/143): its counters summed
 * (cmd_merge_sum.c), its batches written (cmd_merge_write.c: shard parts
 * copied through where the format allows, else deflated anew on every core,
 * else rows rewritten).  A shard
 * that did not succeed makes the merged job FAILED without reading or writing
 * any archive. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd_merge.h"
#include "joblocate.h"
#include "commands.h"
#include "fsutil.h"
#include "jsonscan.h"
#include "errcodes.h"
#include "msg.h"
#include "optfiles.h"
#include "timeutil.h"
#include "worker.h"

#define RESULT_MAX_BYTES (64u << 20)  /* a job result is small; refuse absurd ones */


/* The parts of a job result that make its definition (SPEC §2); the number of
 * batches is compared too. */
static const char *const def_keys[] = {
    "fields", "schema", "filter", "additionalFields", "mergePolicy", "evaluationInfo",
};

void mg_fail(merge *m, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (m->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof m->why, fmt, ap);
    va_end(ap);
    se_jobstate_error(&m->js, code, m->why, "segexport.merge");
    m->failed = true;
}

bool mg_cancelled(const merge *m)
{
    return m->ep && m->ep->cancel && *m->ep->cancel;
}

const char *mg_cancel_reason(const merge *m)
{
    return m->ep && m->ep->cancel_reason && *m->ep->cancel_reason ? *m->ep->cancel_reason
                                                                  : "job cancelled";
}

json_object *mg_get(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A string member, "" when absent or not a string. */
const char *mg_str(json_object *o, const char *key)
{
    json_object *v = mg_get(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}


/* A non-negative integer metric of the result (0 when absent). */
uint64_t mg_metric(json_object *res, const char *key)
{
    json_object *v = mg_get(mg_get(res, "metrics"), key);
    int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    return n > 0 ? (uint64_t)n : 0;
}

/* Reads and checks one result; fills s.  Returns an exit status (0 = go on). */
static int load_result(shard *s, const char *path)
{
    json_tokener *tok = NULL;
    json_object *dest, *batches = NULL, *v;
    const char *what = NULL;
    size_t len, end;
    char *text;
    int rc = SE_EXIT_INVALID;

    s->name = strcmp(path, "-") ? path : "stdin";
    if (!(text = se_slurp(path, RESULT_MAX_BYTES, &len))) {
        se_error("%s: %s", s->name, strerror(errno));
        return SE_EXIT_SYSTEM;
    }
    if (!(tok = json_tokener_new())) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    s->res = json_tokener_parse_ex(tok, text, (int)len);
    end = json_tokener_get_parse_end(tok);
    while (s->res && end < len && text[end] && strchr(" \t\r\n", text[end]))
        end++; /* trailing blanks are fine, anything else is not */
    if (!s->res || end < len) {
        enum json_tokener_error je = json_tokener_get_error(tok);
        se_error("%s: malformed JSON: %s", s->name,
                 s->res ? "text after the JSON value"
                 : je == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(je));
        goto out;
    }
    /* What json-c accepts but changes (a lone surrogate made U+FFFD, an
     * integer clamped): two results that differ only there would read as the
     * same job definition.  segexport never writes either. */
    {
        const char *why;
        size_t off;
        if (se_json_hazard(text, len, &why, &off)) {
            se_error("%s: malformed JSON: %s", s->name, why);
            goto out;
        }
    }
    dest = mg_get(s->res, "destination");
    if (!json_object_is_type(s->res, json_type_object))
        what = "not an object";
    else if (!json_object_is_type(mg_get(s->res, "status"), json_type_string))
        what = "status: missing";
    else if (!json_object_is_type(dest, json_type_object))
        what = "destination: missing";
    else if (!json_object_is_type(mg_get(s->res, "metrics"), json_type_object))
        what = "metrics: missing";
    else if ((batches = mg_get(dest, "batches")) &&
             (!json_object_is_type(batches, json_type_array) || !json_object_array_length(batches)))
        what = "destination.batches: not a non-empty array";
    if (what) {
        se_error("%s: not a job result: %s", s->name, what);
        goto out;
    }
    s->status = json_object_get_string(mg_get(s->res, "status"));
    s->nbatches = batches ? json_object_array_length(batches) : 1;
    if (!(s->batch_ids = calloc(s->nbatches, sizeof *s->batch_ids)) ||
        !(s->paths = calloc(s->nbatches, sizeof *s->paths)) ||
        !(s->def = json_object_new_object())) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    for (size_t i = 0; i < s->nbatches; i++) {
        v = batches ? mg_get(json_object_array_get_idx(batches, i), "batchId") : mg_get(dest, "batchId");
        if (!json_object_is_type(v, json_type_string) || !se_batch_id_valid(json_object_get_string(v))) {
            se_error("%s: not a job result: destination.%s: not 32 lowercase hex digits",
                     s->name, batches ? "batches[].batchId" : "batchId");
            goto out;
        }
        snprintf(s->batch_ids[i], sizeof s->batch_ids[i], "%s", json_object_get_string(v));
    }
    /* The definition part: the request with its defaults, as run filled them. */
    for (size_t k = 0; k < sizeof def_keys / sizeof def_keys[0]; k++)
        if ((v = mg_get(s->res, def_keys[k])))
            json_object_object_add(s->def, def_keys[k], json_object_get(v));
    v = json_object_new_object();
    json_object_object_add(s->def, "destination", v);
    {
        json_object_object_foreach(dest, dk, dv)
            if (strcmp(dk, "batchId") && strcmp(dk, "batches"))
                json_object_object_add(v, dk, json_object_get(dv));
    }
    rc = 0;
out:
    json_tokener_free(tok);
    free(text);
    return rc;
}

/* The part in which two definitions differ, or NULL when they are the same. */
static const char *def_differs(const shard *a, const shard *b)
{
    json_object *da = mg_get(a->def, "destination"), *db = mg_get(b->def, "destination");
    for (size_t k = 0; k < sizeof def_keys / sizeof def_keys[0]; k++)
        if (!json_object_equal(mg_get(a->def, def_keys[k]), mg_get(b->def, def_keys[k])))
            return def_keys[k];
    if (!json_object_equal(mg_get(da, "datasetId"), mg_get(db, "datasetId")))
        return "destination.datasetId";
    if (!json_object_equal(mg_get(da, "segmentPerBatch"), mg_get(db, "segmentPerBatch")))
        return "destination.segmentPerBatch";
    if (a->nbatches != b->nbatches)
        return "number of batches";
    return NULL;
}

static void warn_unknown(const char *path, void *ctx)
{
    se_warn("%s: unknown key \"%s\" ignored", (const char *)ctx, path);
}

/* metrics.shard of result i: 1 with its index and count, 0 when it has none. */
static int shard_of(const merge *m, size_t i, int64_t *k, int64_t *n)
{
    json_object *sh = mg_get(mg_get(m->sh[i].res, "metrics"), "shard");
    json_object *vk = mg_get(sh, "index"), *vn = mg_get(sh, "count");
    if (!json_object_is_type(vk, json_type_int) || !json_object_is_type(vn, json_type_int))
        return 0;
    *k = json_object_get_int64(vk);
    *n = json_object_get_int64(vn);
    return 1;
}

/* Results of `run --shard K/N` say so in metrics.shard: then every shard of
 * the N must be there exactly once — a missing one would silently lose its
 * profiles.  Results without it (plain runs) are merged as they are. */
static int check_shards(merge *m)
{
    int64_t k, n, n0 = 0;
    size_t with = 0;
    bool *seen = NULL;
    int rc = -1;

    for (size_t i = 0; i < m->nsh; i++)
        with += (size_t)shard_of(m, i, &k, &n);
    m->sharded = with > 0;
    if (with == 0)
        return 0;
    for (size_t i = 0; i < m->nsh; i++) {
        if (!shard_of(m, i, &k, &n)) {
            se_error("%s: not a shard run (no metrics.shard), unlike the others", m->sh[i].name);
            goto out;
        }
        if (i == 0) {
            n0 = n;
            if (n < 1 || n > 1000000 || !(seen = calloc((size_t)n, sizeof *seen))) {
                se_error("%s: metrics.shard.count %lld is not usable", m->sh[i].name, (long long)n);
                goto out;
            }
        }
        if (n != n0 || k < 0 || k >= n) {
            se_error("%s: shard %lld/%lld does not fit shards of %lld", m->sh[i].name,
                     (long long)k, (long long)n, (long long)n0);
            goto out;
        }
        if (seen[k]) {
            se_error("%s: shard %lld/%lld is given twice", m->sh[i].name, (long long)k, (long long)n);
            goto out;
        }
        seen[k] = true;
    }
    for (int64_t s = 0; s < n0; s++)
        if (!seen[s]) {
            se_error("shard %lld/%lld is missing: merge needs every shard's result",
                     (long long)s, (long long)n0);
            goto out;
        }
    rc = 0;
out:
    free(seen);
    return rc;
}

/* The job: the first result's definition; every other result must have the
 * same.  A result given twice (a batch id seen before) would double its rows.
 * Returns an exit status (0 = go on). */
static int load_job(merge *m)
{
    char err[1024];
    const char *text, *diff;

    if (!(m->reg = se_mp_registry_new())) {
        se_error("out of memory");
        return SE_EXIT_SYSTEM;
    }
    if (m->o->merge_policies &&
        se_opt_load_merge_policies(m->reg, m->o->merge_policies, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_INVALID;
    }
    text = json_object_to_json_string_ext(m->sh[0].def, JSON_C_TO_STRING_PLAIN);
    if (se_job_parse(text, strlen(text), m->reg, &m->job, warn_unknown, (void *)m->sh[0].name,
                     err, sizeof err)) {
        se_error("%s: %s", m->sh[0].name, err);
        return SE_EXIT_INVALID;
    }
    m->nbatches = m->job->segment_per_batch && m->job->nsegs > 0 ? m->job->nsegs : 1;
    if (m->sh[0].nbatches != m->nbatches) {
        se_error("%s: not a job result: %zu batches where its definition makes %zu",
                 m->sh[0].name, m->sh[0].nbatches, m->nbatches);
        return SE_EXIT_INVALID;
    }
    for (size_t i = 1; i < m->nsh; i++) {
        if ((diff = def_differs(&m->sh[0], &m->sh[i]))) {
            se_error("%s: not the same job definition as %s (%s differs)", m->sh[i].name,
                     m->sh[0].name, diff);
            return SE_EXIT_INVALID;
        }
        for (size_t j = 0; j < i; j++)
            for (size_t b = 0; b < m->nbatches; b++)
                if (!strcmp(m->sh[i].batch_ids[b], m->sh[j].batch_ids[b])) {
                    se_error("%s: the same shard result as %s (batch %s)", m->sh[i].name,
                             m->sh[j].name, m->sh[i].batch_ids[b]);
                    return SE_EXIT_INVALID;
                }
    }
    if (check_shards(m))
        return SE_EXIT_INVALID;
    return 0;
}

/* Finds every shard archive: OUTPUT/<datasetId>/<batchId>.<ext>, trying each
 * format's extension.  Returns an exit status (0 = go on). */
static int locate_archives(merge *m)
{
    struct stat st;

    for (size_t i = 0; i < m->nsh; i++) {
        shard *s = &m->sh[i];
        for (size_t b = 0; b < s->nbatches; b++) {
            for (int e = SE_FMT_TAR_GZ; e <= SE_FMT_ZIP && !s->paths[b]; e++) {
                char *p;
                if (asprintf(&p, "%s/%s.%s", m->dir, s->batch_ids[b], se_format_ext((se_format)e)) < 0) {
                    se_error("out of memory");
                    return SE_EXIT_SYSTEM;
                }
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                    s->paths[b] = p;
                else
                    free(p);
            }
            if (!s->paths[b]) {
                se_error("%s: no archive %s/%s.{tar.gz,tar.zst,tar.xz,tar,zip}", s->name, m->dir,
                         s->batch_ids[b]);
                return SE_EXIT_SYSTEM;
            }
        }
    }
    return 0;
}

/* Reproducible ids derive from the definition, the scope, the job id, the
 * epoch and the shards' batch ids (so they never repeat a shard's). */
static char *make_seed(const merge *m, int64_t id, int64_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fprintf(f, "merge\n%s\n%s\n%s\n%lld\n%lld",
            json_object_to_json_string_ext(m->job->def, JSON_C_TO_STRING_PLAIN), m->o->org,
            m->o->sandbox, (long long)id, (long long)now);
    for (size_t i = 0; i < m->nsh; i++)
        for (size_t b = 0; b < m->sh[i].nbatches; b++)
            fprintf(f, "\n%s", m->sh[i].batch_ids[b]);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The job's work, run by se_worker_run (worker.c) between the PROCESSING
 * record and the final one, with its cancel flag. */
static int execute(const se_export_params *ep, void *ud, char *why, size_t whylen)
{
    merge *m = ud;

    m->ep = ep;
    m->js.export_start_ms = se_now_ms();
    if (m->bad_over)
        m->failed = true; /* as the single run would: more bad records than --max-errors */
    else if (m->nfailed)
        mg_fail(m, SE_EC_JOB_FAILED, "Error in Export Job: not every shard succeeded: %s%s",
                m->failed_names, m->nfailed > 8 ? ", ..." : "");
    else
        mg_write_batches(m);
    for (size_t i = 0; i < m->nbatches && m->batches; i++)
        se_batch_free(m->batches[i]); /* removes temporaries of uncommitted batches */
    free(m->batches);
    m->batches = NULL;
    m->js.export_end_ms = m->js.update_ms = se_now_ms();
    if (m->js.update_ms > m->js.total_end_ms)
        m->js.total_end_ms = m->js.update_ms; /* the merge itself is part of the job */
    m->js.finished = true;
    m->js.status = m->failed ? "FAILED" : "SUCCEEDED";
    snprintf(why, whylen, "%s", m->failed ? m->why : "");
    m->ep = NULL;
    return m->failed ? 1 : 0;
}

int se_cmd_merge(const se_opts *o)
{
    merge mm, *m = &mm;
    char err[1024];
    size_t stdin_uses = 0;
    int64_t id, now;
    int rc = SE_EXIT_OK;

    memset(m, 0, sizeof *m);
    m->o = o;
    if (o->noperands < 1) {
        se_error("merge: missing RESULT.json (usage: segexport merge [OPTIONS] RESULT.json...)");
        rc = SE_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < o->noperands; i++)
        stdin_uses += !strcmp(o->operands[i], "-");
    if (stdin_uses > 1) {
        se_error("merge: stdin (-) can be given only once");
        rc = SE_EXIT_USAGE;
        goto out;
    }
    {
        static const char *const who[] = { "--merge-policies", "a RESULT" };
        bool uses[] = { o->merge_policies && !strcmp(o->merge_policies, "-"), stdin_uses > 0 };
        if (se_stdin_once("merge", who, uses, 2, err, sizeof err)) {
            se_error("%s", err);
            rc = SE_EXIT_USAGE;
            goto out;
        }
    }
    if (!(m->sh = calloc(o->noperands, sizeof *m->sh))) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    for (m->nsh = 0; m->nsh < o->noperands; m->nsh++)
        if ((rc = load_result(&m->sh[m->nsh], o->operands[m->nsh]))) {
            m->nsh++;
            goto out;
        }
    if ((rc = load_job(m)))
        goto out;
    if (!o->output_dir && se_store_check_datasets(o->store_dir, err, sizeof err)) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (o->output_dir)
        m->output_root = strdup(o->output_dir);
    else if (asprintf(&m->output_root, "%s/datasets", o->store_dir) < 0)
        m->output_root = NULL;
    if (!m->output_root || asprintf(&m->dir, "%s/%s", m->output_root, m->job->dataset_id) < 0) {
        m->dir = NULL;
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    for (size_t i = 0; i < m->nsh; i++)
        if (strcmp(m->sh[i].status, "SUCCEEDED") && m->nfailed++ < 8)
            snprintf(m->failed_names + strlen(m->failed_names),
                     sizeof m->failed_names - strlen(m->failed_names),
                     "%s%s (job %lld %s)", m->nfailed > 1 ? ", " : "", m->sh[i].name,
                     (long long)json_object_get_int64(mg_get(m->sh[i].res, "id")), m->sh[i].status);
    if (!m->nfailed && (rc = locate_archives(m)))
        goto out;

    if (!(m->st = se_store_open(o->store_dir, o->org, o->sandbox, err, sizeof err)) ||
        se_store_next_id(m->st, &id, err, sizeof err)) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (se_store_notice(m->st))
        se_warn("%s", se_store_notice(m->st));
    now = se_now_ms();
    if (!(m->seed = make_seed(m, id, now)) ||
        se_jobstate_init(&m->js, m->job, id, o->org, now, m->seed)) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    mg_combine(m);
    m->failed = false; /* (again in execute: the record is PROCESSING first) */
    se_worker_job w = {
        .o = o, .job = m->job, .st = m->st, .js = &m->js, .output_root = m->output_root,
        .execute = execute, .execute_ud = m,
    };
    rc = se_worker_run(&w, true);
out:
    for (size_t i = 0; i < m->nsh; i++) {
        for (size_t b = 0; b < m->sh[i].nbatches && m->sh[i].paths; b++)
            free(m->sh[i].paths[b]);
        free(m->sh[i].paths);
        free(m->sh[i].batch_ids);
        json_object_put(m->sh[i].res);
        json_object_put(m->sh[i].def);
    }
    free(m->sh);
    se_jobstate_clear(&m->js);
    se_store_free(m->st);
    se_job_free(m->job);
    se_mp_registry_free(m->reg);
    free(m->output_root);
    free(m->dir);
    free(m->seed);
    free(m->chunk);
    free(m->line);
    return rc;
}
