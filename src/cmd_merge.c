/* `segexport merge RESULT.json...`: combines the results of shard runs of one
 * job definition (`run --shard K/N`) into one job (SPEC §9).
 *
 * The results are read and checked first (exit 5 unreadable, 3 malformed or of
 * different definitions), the shards' archives located (exit 5 when one is
 * missing); then a new job is recorded in the store, PROCESSING, and each batch
 * is rewritten: batch i of the merged job holds batch i of every shard, shards
 * in command-line order, rows in each shard's part order, re-cut into parts of
 * --rows-per-file in --format/--level, under a new batch id, compressed on
 * every core (se_batch_set_threads: most of a merge's time).  Archives are
 * written under temporary names and committed only when every one is complete
 * (se_batch_*): all or nothing, as in run.  A shard that did not succeed makes
 * the merged job FAILED without reading or writing any archive. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "batch.h"
#include "commands.h"
#include "fsutil.h"
#include "errcodes.h"
#include "jobstate.h"
#include "msg.h"
#include "store.h"
#include "timeutil.h"

#define RESULT_MAX_BYTES (64u << 20)  /* a job result is small; refuse absurd ones */
#define MANIFEST_MAX_BYTES (64u << 20)
#define CHUNK 65536

static const char *const exts[] = { "tar.gz", "tar.zst", "tar.xz", "tar", "zip" };

/* The parts of a job result that make its definition (SPEC §2); the number of
 * batches is compared too. */
static const char *const def_keys[] = {
    "fields", "schema", "filter", "additionalFields", "mergePolicy", "evaluationInfo",
};

typedef struct shard {
    const char *name;            /* the RESULT.json operand ("stdin" for -) */
    json_object *res;            /* the parsed job result */
    json_object *def;            /* its definition part (what se_job_parse reads) */
    const char *status;
    char (*batch_ids)[33];
    size_t nbatches;
    char **paths;                /* per batch: its archive, once located */
    uint64_t rows;               /* rows read from its archives */
} shard;

typedef struct merge {
    const se_opts *o;
    shard *sh;
    size_t nsh;
    se_mp_registry *reg;
    se_job *job;
    se_store *st;
    se_jobstate js;
    char *output_root, *dir, *seed;
    se_batch **batches;
    size_t nbatches;
    bool sharded;                /* the results are run --shard K/N results (metrics.shard) */
    char *chunk, *line;          /* archive read buffer; a row split across reads */
    size_t line_len, line_cap;
    bool failed;
    char why[1024];
} merge;

static void fail(merge *m, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(merge *m, const char *code, const char *fmt, ...)
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


static json_object *get(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A string member, "" when absent or not a string. */
static const char *str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static bool is_batch_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 32;
}

/* A non-negative integer metric of the result (0 when absent). */
static uint64_t metric(json_object *res, const char *key)
{
    json_object *v = get(get(res, "metrics"), key);
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
    dest = get(s->res, "destination");
    if (!json_object_is_type(s->res, json_type_object))
        what = "not an object";
    else if (!json_object_is_type(get(s->res, "status"), json_type_string))
        what = "status: missing";
    else if (!json_object_is_type(dest, json_type_object))
        what = "destination: missing";
    else if (!json_object_is_type(get(s->res, "metrics"), json_type_object))
        what = "metrics: missing";
    else if ((batches = get(dest, "batches")) &&
             (!json_object_is_type(batches, json_type_array) || !json_object_array_length(batches)))
        what = "destination.batches: not a non-empty array";
    if (what) {
        se_error("%s: not a job result: %s", s->name, what);
        goto out;
    }
    s->status = json_object_get_string(get(s->res, "status"));
    s->nbatches = batches ? json_object_array_length(batches) : 1;
    if (!(s->batch_ids = calloc(s->nbatches, sizeof *s->batch_ids)) ||
        !(s->paths = calloc(s->nbatches, sizeof *s->paths)) ||
        !(s->def = json_object_new_object())) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    for (size_t i = 0; i < s->nbatches; i++) {
        v = batches ? get(json_object_array_get_idx(batches, i), "batchId") : get(dest, "batchId");
        if (!json_object_is_type(v, json_type_string) || !is_batch_id(json_object_get_string(v))) {
            se_error("%s: not a job result: destination.%s: not 32 lowercase hex digits",
                     s->name, batches ? "batches[].batchId" : "batchId");
            goto out;
        }
        snprintf(s->batch_ids[i], sizeof s->batch_ids[i], "%s", json_object_get_string(v));
    }
    /* The definition part: the request with its defaults, as run filled them. */
    for (size_t k = 0; k < sizeof def_keys / sizeof def_keys[0]; k++)
        if ((v = get(s->res, def_keys[k])))
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
    json_object *da = get(a->def, "destination"), *db = get(b->def, "destination");
    for (size_t k = 0; k < sizeof def_keys / sizeof def_keys[0]; k++)
        if (!json_object_equal(get(a->def, def_keys[k]), get(b->def, def_keys[k])))
            return def_keys[k];
    if (!json_object_equal(get(da, "datasetId"), get(db, "datasetId")))
        return "destination.datasetId";
    if (!json_object_equal(get(da, "segmentPerBatch"), get(db, "segmentPerBatch")))
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
    json_object *sh = get(get(m->sh[i].res, "metrics"), "shard");
    json_object *vk = get(sh, "index"), *vn = get(sh, "count");
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
    if (m->o->merge_policies && se_mp_registry_load(m->reg, m->o->merge_policies, err, sizeof err)) {
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
            for (size_t e = 0; e < sizeof exts / sizeof exts[0] && !s->paths[b]; e++) {
                char *p;
                if (asprintf(&p, "%s/%s.%s", m->dir, s->batch_ids[b], exts[e]) < 0) {
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

/* A bad record a shard reported, with its ordinal in the input. */
typedef struct badrec {
    uint64_t seq;
    const char *msg, *cs;
} badrec;

static int badrec_cmp(const void *a, const void *b)
{
    const badrec *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* metrics.shard.badRecordSeq of result i (NULL: an older shard run, whose
 * bad records every shard reported alike). */
static json_object *bad_seqs(const merge *m, size_t i)
{
    json_object *a = get(get(get(m->sh[i].res, "metrics"), "shard"), "badRecordSeq");
    return json_object_is_type(a, json_type_array) ? a : NULL;
}

/* Sums the shards' counters, combines their errors[], and spans their times.
 *
 * Shard runs report each bad record once over all shards (the shard that owns
 * it: docs/scale-out.md), with its ordinal in the input: their bad records are
 * summed and listed in input order, and --max-errors (metrics.shard.maxErrors)
 * is applied to the sum, as the single run would: beyond it the merged job
 * fails with the single run's errors[] (the first maxErrors + 1 bad records,
 * then the failure).  Returns true then.  Other errors follow in shard order. */
static bool combine(merge *m)
{
    se_jobstate *js = &m->js;
    bool owned = m->sharded;       /* every shard reports only its own bad records */
    badrec *bad = NULL;
    size_t nbad = 0, cap = 0;
    uint64_t max_errors = UINT64_MAX, more_bad = 0;
    bool over = false;

    for (size_t i = 0; owned && i < m->nsh; i++)
        owned = bad_seqs(m, i) != NULL;
    for (size_t i = 0; owned && i < m->nsh; i++) {
        /* The shards should agree; if not, the strictest holds. */
        json_object *me = get(get(get(m->sh[i].res, "metrics"), "shard"), "maxErrors");
        if (json_object_is_type(me, json_type_int) && json_object_get_int64(me) >= 0 &&
            (uint64_t)json_object_get_int64(me) < max_errors)
            max_errors = (uint64_t)json_object_get_int64(me);
    }
    for (size_t i = 0; i < m->nsh; i++) {
        json_object *res = m->sh[i].res, *mt = get(res, "metrics"), *tt = get(mt, "totalTime");
        json_object *ns = get(mt, "exportedProfileByNamespaceCounter"), *errs = get(res, "errors");
        json_object *st = get(tt, "startTimeInMs"), *en = get(tt, "endTimeInMs");
        json_object *seqs = owned ? bad_seqs(m, i) : NULL;
        int64_t t0 = st ? json_object_get_int64(st) : js->creation_ms;
        int64_t t1 = en ? json_object_get_int64(en) : t0;
        size_t nb = 0;

        if (i == 0 || t0 < js->total_start_ms)
            js->total_start_ms = t0;
        if (i == 0 || t1 > js->total_end_ms)
            js->total_end_ms = t1;
        /* Every shard reads the whole input: take its record count once (the
         * largest: a shard that stopped early read less). */
        if (m->sharded) {
            if (metric(res, "inputRecordCounter") > js->input_records)
                js->input_records = metric(res, "inputRecordCounter");
        } else {
            js->input_records += metric(res, "inputRecordCounter");
        }
        /* Older shard runs all reported every bad record: take them once. */
        bool once = m->sharded && !owned && i > 0;
        if (!once)
            js->bad_records += metric(res, "badRecordCounter");
        js->profiles += metric(res, "profileCounter");
        if (json_object_is_type(ns, json_type_object)) {
            json_object_object_foreach(ns, k, v) {
                json_object *c;
                int64_t n = json_object_get_int64(v);
                if (json_object_object_get_ex(js->ns_counter, k, &c))
                    json_object_set_int64(c, json_object_get_int64(c) + n);
                else
                    json_object_object_add(js->ns_counter, k, json_object_new_int64(n));
            }
        }
        for (size_t k = 0; json_object_is_type(errs, json_type_array) &&
                           k < json_object_array_length(errs); k++) {
            json_object *e = json_object_array_get_idx(errs, k);
            const char *code = json_object_get_string(get(e, "code"));
            const char *msg = json_object_get_string(get(e, "msg"));
            const char *cs = json_object_get_string(get(e, "callStack"));
            unsigned long long more, nn, mx;
            char tail;
            if (owned && code && !strcmp(code, SE_EC_BAD_RECORD)) {
                json_object *sq = json_object_array_get_idx(seqs, nb++);
                if (nbad == cap) {
                    size_t nc = cap ? 2 * cap : 64;
                    badrec *nbr = realloc(bad, nc * sizeof *nbr);
                    if (!nbr)
                        continue;
                    bad = nbr;
                    cap = nc;
                }
                bad[nbad++] = (badrec){ sq ? (uint64_t)json_object_get_int64(sq) : UINT64_MAX,
                                        msg ? msg : "", cs ? cs : "" };
                continue;
            }
            if (once && code && !strcmp(code, SE_EC_BAD_RECORD))
                continue;
            /* A shard's "N more errors not listed" adds to ours. */
            if (code && msg && !strcmp(code, SE_EC_JOB_FAILED) &&
                sscanf(msg, "%llu more errors not listed%c", &more, &tail) == 1) {
                if (owned)
                    more_bad += more;
                else if (!once)
                    js->errors_dropped += more;
                continue;
            }
            /* A shard that failed on its own share of bad records: the sum
             * decides below. */
            if (owned && code && msg && !strcmp(code, SE_EC_JOB_FAILED) &&
                sscanf(msg, "Error in Export Job: %llu bad input records, more than --max-errors %llu%c",
                       &nn, &mx, &tail) == 2)
                continue;
            se_jobstate_error(js, code ? code : SE_EC_JOB_FAILED, msg ? msg : "", cs ? cs : "");
        }
    }
    if (owned) {
        /* The bad records first, in input order, as the single run lists them. */
        json_object *rest = js->errors;
        uint64_t dropped = js->errors_dropped;
        js->errors = json_object_new_array();
        js->errors_dropped = 0;
        if (nbad) /* qsort takes no NULL, even for nothing */
            qsort(bad, nbad, sizeof *bad, badrec_cmp);
        over = js->bad_records > max_errors;
        size_t list = over && max_errors < nbad ? (size_t)max_errors + 1 : nbad;
        for (size_t i = 0; i < list; i++)
            se_jobstate_error(js, SE_EC_BAD_RECORD, bad[i].msg, bad[i].cs);
        if (over) {
            /* The single run stops at the bad record past the limit. */
            js->bad_records = max_errors + 1;
            if (list > 0 && bad[list - 1].seq != UINT64_MAX)
                js->input_records = bad[list - 1].seq;
            snprintf(m->why, sizeof m->why,
                     "Error in Export Job: %llu bad input records, more than --max-errors %llu",
                     (unsigned long long)js->bad_records, (unsigned long long)max_errors);
            se_jobstate_error(js, SE_EC_JOB_FAILED, m->why, "segexport");
            m->failed = true;
            json_object_put(rest);
        } else {
            js->errors_dropped += more_bad;
            for (size_t k = 0; k < json_object_array_length(rest); k++) {
                json_object *e = json_object_array_get_idx(rest, k);
                se_jobstate_error(js, json_object_get_string(get(e, "code")),
                                  json_object_get_string(get(e, "msg")),
                                  json_object_get_string(get(e, "callStack")));
            }
            js->errors_dropped += dropped;
            json_object_put(rest);
        }
    }
    free(bad);
    js->total_set = true;
    return over;
}

/* Appends n bytes to the line buffer.  0, or -1 when out of memory (or past
 * limit, for a manifest). */
static int append(merge *m, const char *p, size_t n, size_t limit)
{
    if (m->line_len + n + 1 > m->line_cap) {
        size_t cap = (m->line_len + n + 1) * 2;
        char *nb;
        if (cap > limit * 2 || !(nb = realloc(m->line, cap)))
            return -1;
        m->line = nb;
        m->line_cap = cap;
    }
    memcpy(m->line + m->line_len, p, n);
    m->line_len += n;
    m->line[m->line_len] = '\0';
    return 0;
}

/* Reads the current entry (the manifest) whole into the line buffer; parses it. */
static json_object *read_manifest(merge *m, struct archive *a)
{
    la_ssize_t r;

    m->line_len = 0;
    while ((r = archive_read_data(a, m->chunk, CHUNK)) > 0)
        if (append(m, m->chunk, (size_t)r, MANIFEST_MAX_BYTES))
            return NULL;
    return r < 0 || !m->line ? NULL : json_tokener_parse(m->line);
}

/* Streams a part's rows (lines; blank ones are not rows) into batch bi; *crc
 * gets the part's CRC-32.  0, or -1: the job failed, or (message not set yet)
 * the archive could not be read. */
static int copy_part(merge *m, struct archive *a, size_t bi, uint64_t *rows, uLong *crc)
{
    char err[1024];
    la_ssize_t r = 1;

    m->line_len = 0;
    *crc = crc32(0L, Z_NULL, 0);
    while (r > 0 && (r = archive_read_data(a, m->chunk, CHUNK)) >= 0) {
        const char *p = m->chunk, *end = p + r, *nl, *row;
        *crc = crc32(*crc, (const Bytef *)p, (uInt)r);
        while (p < end || (r == 0 && m->line_len)) {
            size_t n;
            if (!(nl = memchr(p, '\n', (size_t)(end - p))) && r > 0) {
                if (append(m, p, (size_t)(end - p), SIZE_MAX / 4))
                    goto oom;
                break; /* the row goes on in the next chunk */
            }
            n = nl ? (size_t)(nl - p) : 0;
            row = p;
            if (m->line_len) { /* the end of a row begun in an earlier chunk */
                if (append(m, p, n, SIZE_MAX / 4))
                    goto oom;
                row = m->line;
                n = m->line_len;
                m->line_len = 0;
            }
            if (n && se_batch_add(m->batches[bi], row, n, err, sizeof err)) {
                fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
                return -1;
            }
            *rows += n > 0;
            p = nl ? nl + 1 : end;
        }
    }
    return r < 0 ? -1 : 0;
oom:
    fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    return -1;
}

/* Copies the rows of shard s's batch bi into the merged batch bi, checking the
 * archive against its manifest: the batch id, each part's name, row count and
 * CRC-32, and the total row count. */
static void copy_batch(merge *m, shard *s, size_t bi)
{
    const char *path = s->paths[bi];
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    json_object *man = NULL, *files = NULL;
    uint64_t total = 0;
    size_t nparts = 0;
    int r = ARCHIVE_FATAL;

    if (!a) {
        fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, CHUNK) != ARCHIVE_OK)
        goto bad;
    while (!m->failed && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        json_object *f;
        uint64_t rows = 0;
        uLong crc;
        char hex[9];

        if (!man) {
            man = strcmp(name, "manifest.json") ? NULL : read_manifest(m, a);
            files = get(man, "files");
            if (!json_object_is_type(files, json_type_array) ||
                strcmp(str(man, "batchId"), s->batch_ids[bi])) {
                fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: no manifest.json of batch %s first",
                     s->name, path, s->batch_ids[bi]);
                break;
            }
            continue;
        }
        f = json_object_array_get_idx(files, nparts++);
        if (!f || strcmp(name, str(f, "name"))) {
            fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: entry %s is not in its manifest",
                 s->name, path, name);
            break;
        }
        if (copy_part(m, a, bi, &rows, &crc)) {
            r = ARCHIVE_FATAL;
            break;
        }
        snprintf(hex, sizeof hex, "%08lx", (unsigned long)crc);
        if (rows != (uint64_t)json_object_get_int64(get(f, "records")) ||
            strcmp(hex, str(f, "crc32"))) {
            fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: %s does not match its manifest",
                 s->name, path, name);
            break;
        }
        total += rows;
    }
    if (!m->failed && r == ARCHIVE_EOF) {
        if (!man || nparts != json_object_array_length(files) ||
            total != (uint64_t)json_object_get_int64(get(man, "recordCount")))
            fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: rows do not match its manifest",
                 s->name, path);
        s->rows += total;
        goto done;
    }
bad:
    if (!m->failed)
        fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: %s", s->name, path,
             archive_error_string(a) ? archive_error_string(a) : "unreadable archive");
done:
    json_object_put(man);
    archive_read_free(a);
}

/* The merged archives are compressed on every core (at least two, at most
 * eight): a merge's work is mostly compression (se_batch_set_threads). */
static int compress_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 8 ? 8 : (int)n;
}

/* Writes the merged batches; commits them only when all are complete. */
static void write_batches(merge *m)
{
    char err[1024];

    if (!(m->batches = calloc(m->nbatches, sizeof *m->batches)) || !(m->chunk = malloc(CHUNK))) {
        fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    for (size_t i = 0; i < m->nbatches && !m->failed; i++) {
        json_object *segs = se_jobstate_batch_segments(m->job, i);
        se_batch_info bi = {
            .batch_id = m->js.batch_ids[i], .dataset_id = m->job->dataset_id, .job_id = m->js.id,
            .schema_name = m->job->schema_name, .segments = segs,
        };
        m->batches[i] = se_batch_new(m->dir, &bi, m->o->format, m->o->level, m->o->rows_per_file,
                                     m->js.creation_ms / 1000, err, sizeof err);
        json_object_put(segs);
        if (!m->batches[i]) {
            fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            break;
        }
        se_batch_set_threads(m->batches[i], compress_threads());
        for (size_t s = 0; s < m->nsh && !m->failed; s++)
            copy_batch(m, &m->sh[s], i);
        m->js.exported += se_batch_records(m->batches[i]);
    }
    for (size_t s = 0; s < m->nsh && !m->failed; s++)
        if (m->sh[s].rows != metric(m->sh[s].res, "totalExportedProfileCounter"))
            fail(m, SE_EC_INPUT_READ,
                 "Error reading shard %s: its archives hold %llu rows, its totalExportedProfileCounter is %llu",
                 m->sh[s].name, (unsigned long long)m->sh[s].rows,
                 (unsigned long long)metric(m->sh[s].res, "totalExportedProfileCounter"));
    for (size_t i = 0; i < m->nbatches && !m->failed; i++)
        if (se_batch_finish(m->batches[i], err, sizeof err))
            fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    for (size_t i = 0; i < m->nbatches && !m->failed; i++)
        if (se_batch_commit(m->batches[i], err, sizeof err))
            fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    for (size_t i = 0; i < m->nbatches && m->failed; i++)
        if (m->batches[i] && se_batch_rollback(m->batches[i], err, sizeof err))
            se_warn("%s", err);
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

static void put_record(merge *m, pid_t pid, json_object *out)
{
    char err[1024];
    if (!out || se_store_put_ex(m->st, m->js.id, pid, m->output_root, out, err, sizeof err))
        se_error("%s", out ? err : "out of memory");
}

int se_cmd_merge(const se_opts *o)
{
    merge mm, *m = &mm;
    json_object *out = NULL;
    char err[1024], failed_names[768] = "";
    size_t nfailed = 0, stdin_uses = 0;
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
        if (strcmp(m->sh[i].status, "SUCCEEDED") && nfailed++ < 8)
            snprintf(failed_names + strlen(failed_names), sizeof failed_names - strlen(failed_names),
                     "%s%s (job %lld %s)", nfailed > 1 ? ", " : "", m->sh[i].name,
                     (long long)json_object_get_int64(get(m->sh[i].res, "id")), m->sh[i].status);
    if (!nfailed && (rc = locate_archives(m)))
        goto out;

    if (!(m->st = se_store_open(o->store_dir, o->org, o->sandbox, err, sizeof err)) ||
        se_store_next_id(m->st, &id, err, sizeof err)) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    now = se_now_ms();
    if (!(m->seed = make_seed(m, id, now)) ||
        se_jobstate_init(&m->js, m->job, id, o->org, now, m->seed)) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    bool bad_over = combine(m);
    m->failed = false; /* (set again below: the record is PROCESSING first) */
    m->js.status = "PROCESSING";
    m->js.started = true;
    se_jobstate_new_uuid(&m->js, m->js.gateway_id);
    put_record(m, getpid(), (out = se_jobstate_json(&m->js, m->job)));
    json_object_put(out);
    out = NULL;

    m->js.export_start_ms = se_now_ms();
    if (bad_over)
        ; /* failed as the single run would: more bad records than --max-errors */
    else if (nfailed)
        fail(m, SE_EC_JOB_FAILED, "Error in Export Job: not every shard succeeded: %s%s",
             failed_names, nfailed > 8 ? ", ..." : "");
    else
        write_batches(m);
    if (bad_over)
        m->failed = true;
    m->js.export_end_ms = m->js.update_ms = se_now_ms();
    if (m->js.update_ms > m->js.total_end_ms)
        m->js.total_end_ms = m->js.update_ms; /* the merge itself is part of the job */
    m->js.finished = true;
    m->js.status = m->failed ? "FAILED" : "SUCCEEDED";
    if (m->failed)
        se_error("job %lld FAILED: %s", (long long)id, m->why);
    put_record(m, 0, (out = se_jobstate_json(&m->js, m->job)));
    rc = m->failed ? SE_EXIT_FAILED : SE_EXIT_OK;
    if (!out || se_print_json(out))
        rc = rc ? rc : SE_EXIT_SYSTEM;
out:
    json_object_put(out);
    for (size_t i = 0; i < m->nbatches && m->batches; i++)
        se_batch_free(m->batches[i]); /* removes temporaries of uncommitted batches */
    free(m->batches);
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
