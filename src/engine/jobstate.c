/* The job's state and its JSON rendering in the API's shape and key order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "errcodes.h"
#include "jobstate.h"
#include "escape.h"
#include "record.h"
#include "timeutil.h"

/* Ids: with SOURCE_DATE_EPOCH they come from a splitmix64 stream seeded by a
 * hash of the job (so reruns give identical JSON and archives); otherwise from
 * getrandom(), falling back to the stream seeded by time and pid. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_state;
static int rng_seeded, rng_reproducible;

static void random_bytes(unsigned char *buf, size_t n)
{
    if (!rng_reproducible && getrandom(buf, n, 0) == (ssize_t)n)
        return;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = splitmix64(&rng_state);
        size_t k = n - i < 8 ? n - i : 8;
        memcpy(buf + i, &v, k);
    }
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void se_jobstate_new_uuid(se_jobstate *js, char buf[37])
{
    unsigned char b[16];
    char h[33];
    (void)js;
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    hex(b, 16, h);
    snprintf(buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int se_jobstate_init(se_jobstate *js, const se_job *job, int64_t id, const char *org,
                     int64_t creation_ms, const char *seed)
{
    memset(js, 0, sizeof *js);
    rng_reproducible = se_reproducible();
    if (rng_reproducible || !rng_seeded) {
        rng_state = rng_reproducible ? se_fnv1a64(seed, strlen(seed))
                                     : (uint64_t)creation_ms * 1000003u ^ (uint64_t)id;
        rng_seeded = 1;
    }
    js->id = id;
    js->org = org;
    js->status = "NEW";
    js->creation_ms = js->update_ms = creation_ms;
    js->nbatches = job->segment_per_batch && job->nsegs > 0 ? job->nsegs : 1;
    js->batch_ids = calloc(js->nbatches, sizeof *js->batch_ids);
    js->errors = json_object_new_array();
    js->ns_counter = json_object_new_object();
    if (!js->batch_ids || !js->errors || !js->ns_counter) {
        se_jobstate_clear(js);
        return -1;
    }
    for (size_t i = 0; i < js->nbatches; i++) {
        unsigned char b[16];
        random_bytes(b, sizeof b);
        hex(b, 16, js->batch_ids[i]);
    }
    se_jobstate_new_uuid(js, js->request_id);
    return 0;
}

void se_jobstate_clear(se_jobstate *js)
{
    if (!js)
        return;
    free(js->bad_seq);
    free(js->batch_ids);
    json_object_put(js->errors);
    json_object_put(js->ns_counter);
    memset(js, 0, sizeof *js);
}

/* Per-record errors can be countless and are capped; an error that ends the job
 * (there are few) is always kept, or a FAILED job could not say why. */
static bool per_record(const char *code)
{
    return !strcmp(code, SE_EC_BAD_RECORD) || !strcmp(code, SE_EC_GRAPH_TOO_BIG);
}

void se_jobstate_error(se_jobstate *js, const char *code, const char *msg, const char *call_stack)
{
    json_object *e;
    char buf[1024], *esc = buf;
    size_t n, need;
    if (json_object_array_length(js->errors) >= SE_ERRORS_KEPT && per_record(code)) {
        js->errors_dropped++;
        return;
    }
    e = json_object_new_object();
    if (!e)
        return;
    /* The same escaping as the CLI's messages: input bytes in a message
     * (ids, member names) leave it valid UTF-8 and free of control bytes, and
     * errors[].msg reads as the printed line does. */
    n = strlen(msg);
    need = se_escape_bytes(NULL, 0, msg, n, 0);
    if (need >= sizeof buf && !(esc = malloc(need + 1)))
        esc = buf;
    se_escape_bytes(esc, esc == buf ? sizeof buf : need + 1, msg, n, 0);
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "msg", json_object_new_string(esc));
    if (esc != buf)
        free(esc);
    json_object_object_add(e, "callStack", json_object_new_string(call_stack));
    json_object_array_add(js->errors, e);
}

void se_jobstate_count_row(se_jobstate *js, json_object *identity_map)
{
    if (!json_object_is_type(identity_map, json_type_object))
        return;
    json_object_object_foreach(identity_map, ns, items) {
        json_object *c;
        if (!json_object_is_type(items, json_type_array) || json_object_array_length(items) == 0)
            continue;
        if (json_object_object_get_ex(js->ns_counter, ns, &c))
            json_object_set_int64(c, json_object_get_int64(c) + 1);
        else
            json_object_object_add(js->ns_counter, ns, json_object_new_int64(1));
    }
}

static json_object *copy_of(json_object *def, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(def, key, &v))
        return NULL;
    return json_object_get(v);
}

static json_object *time_block(int64_t start, int64_t end, bool with_end)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "startTimeInMs", json_object_new_int64(start));
    if (with_end) {
        json_object_object_add(o, "endTimeInMs", json_object_new_int64(end));
        json_object_object_add(o, "totalTimeInMs", json_object_new_int64(end - start));
    }
    return o;
}

json_object *se_jobstate_batch_segments(const se_job *job, size_t i)
{
    json_object *segs, *arr = json_object_new_array(), *all;
    if (!arr || !json_object_object_get_ex(job->def, "filter", &all) ||
        !json_object_object_get_ex(all, "segments", &segs) ||
        !json_object_is_type(segs, json_type_array))
        return arr;
    for (size_t k = 0; k < json_object_array_length(segs); k++) {
        json_object *s = json_object_array_get_idx(segs, k), *o, *v;
        if (job->segment_per_batch && k != i)
            continue;
        o = json_object_new_object();
        if (json_object_object_get_ex(s, "segmentId", &v))
            json_object_object_add(o, "segmentId", json_object_get(v));
        if (json_object_object_get_ex(s, "segmentNs", &v))
            json_object_object_add(o, "segmentNs", json_object_get(v));
        if (json_object_object_get_ex(s, "status", &v))
            json_object_object_add(o, "status", json_object_get(v));
        json_object_array_add(arr, o);
    }
    return arr;
}

json_object *se_jobstate_json(const se_jobstate *js, const se_job *job)
{
    json_object *o = json_object_new_object(), *v, *dest, *metrics, *gw;
    bool succeeded = !strcmp(js->status, "SUCCEEDED");

    if (!o)
        return NULL;
    json_object_object_add(o, "id", json_object_new_int64(js->id));
    json_object_object_add(o, "jobType", json_object_new_string("BATCH"));

    /* destination: the request's, plus batchId or batches[] */
    dest = json_object_new_object();
    if (json_object_object_get_ex(job->def, "destination", &v)) {
        json_object_object_foreach(v, dk, dv)
            json_object_object_add(dest, dk, json_object_get(dv));
    }
    if (job->segment_per_batch && job->nsegs > 0) {
        json_object *batches = json_object_new_array();
        for (size_t i = 0; i < js->nbatches; i++) {
            json_object *b = json_object_new_object();
            json_object *segs = se_jobstate_batch_segments(job, i);
            json_object *s0 = json_object_array_get_idx(segs, 0);
            {
                json_object_object_foreach(s0, sk, sv)
                    json_object_object_add(b, sk, json_object_get(sv));
            }
            json_object_put(segs);
            json_object_object_add(b, "batchId", json_object_new_string(js->batch_ids[i]));
            json_object_array_add(batches, b);
        }
        json_object_object_add(dest, "batches", batches);
    } else {
        json_object_object_add(dest, "batchId", json_object_new_string(js->batch_ids[0]));
    }
    json_object_object_add(o, "destination", dest);

    if ((v = copy_of(job->def, "fields")))
        json_object_object_add(o, "fields", v);
    if ((v = copy_of(job->def, "schema")))
        json_object_object_add(o, "schema", v);
    json_object_object_add(o, "imsOrgId", json_object_new_string(js->org));
    json_object_object_add(o, "status", json_object_new_string(js->status));
    if ((v = copy_of(job->def, "filter")))
        json_object_object_add(o, "filter", v);
    if ((v = copy_of(job->def, "additionalFields")))
        json_object_object_add(o, "additionalFields", v);
    if ((v = copy_of(job->def, "evaluationInfo")))
        json_object_object_add(o, "evaluationInfo", v);
    if ((v = copy_of(job->def, "mergePolicy")))
        json_object_object_add(o, "mergePolicy", v);
    json_object_object_add(o, "profileInstanceId", json_object_new_string("ups"));

    if (json_object_array_length(js->errors) > 0 || js->errors_dropped) {
        json_object *errs = json_object_new_array();
        size_t n = json_object_array_length(js->errors);
        for (size_t i = 0; i < n && i < SE_ERRORS_KEPT; i++)
            json_object_array_add(errs, json_object_get(json_object_array_get_idx(js->errors, i)));
        if (js->errors_dropped) {
            char msg[128];
            json_object *e = json_object_new_object();
            snprintf(msg, sizeof msg, "%llu more errors not listed",
                     (unsigned long long)js->errors_dropped);
            json_object_object_add(e, "code", json_object_new_string("0100000003"));
            json_object_object_add(e, "msg", json_object_new_string(msg));
            json_object_object_add(e, "callStack", json_object_new_string("segexport"));
            json_object_array_add(errs, e);
        }
        /* Job-ending errors kept beyond the cap come after the count, last. */
        for (size_t i = SE_ERRORS_KEPT; i < n; i++)
            json_object_array_add(errs, json_object_get(json_object_array_get_idx(js->errors, i)));
        json_object_object_add(o, "errors", errs);
    }

    metrics = json_object_new_object();
    json_object_object_add(metrics, "totalTime",
                           js->total_set
                               ? time_block(js->total_start_ms, js->total_end_ms, js->finished)
                               : time_block(js->creation_ms, js->update_ms, js->finished));
    if (js->finished) {
        json_object_object_add(metrics, "profileExportTime",
                               time_block(js->export_start_ms, js->export_end_ms, true));
        if (succeeded) {
            json_object_object_add(metrics, "totalExportedProfileCounter",
                                   json_object_new_int64((int64_t)js->exported));
            json_object_object_add(metrics, "exportedProfileByNamespaceCounter",
                                   json_object_get(js->ns_counter));
        }
        json_object_object_add(metrics, "inputRecordCounter",
                               json_object_new_int64((int64_t)js->input_records));
        json_object_object_add(metrics, "badRecordCounter",
                               json_object_new_int64((int64_t)js->bad_records));
        json_object_object_add(metrics, "profileCounter",
                               json_object_new_int64((int64_t)js->profiles));
    }
    if (js->shard_n) {
        json_object *sh = json_object_new_object();
        json_object_object_add(sh, "index", json_object_new_int64((int64_t)js->shard_k));
        json_object_object_add(sh, "count", json_object_new_int64((int64_t)js->shard_n));
        json_object_object_add(sh, "maxErrors", json_object_new_int64((int64_t)js->max_errors));
        json_object *seqs = json_object_new_array();
        for (size_t i = 0; seqs && i < js->nbad_seq; i++)
            json_object_array_add(seqs, json_object_new_int64((int64_t)js->bad_seq[i]));
        json_object_object_add(sh, "badRecordSeq", seqs);
        json_object_object_add(metrics, "shard", sh);
    }
    json_object_object_add(o, "metrics", metrics);

    gw = json_object_new_object();
    json_object_object_add(gw, "exportJob", json_object_new_string(js->gateway_id));
    json_object_object_add(o, "computeGatewayJobId", gw);
    json_object_object_add(o, "creationTime", json_object_new_int64(js->creation_ms));
    json_object_object_add(o, "updateTime", json_object_new_int64(js->update_ms));
    json_object_object_add(o, "requestId", json_object_new_string(js->request_id));
    return o;
}

void se_jobstate_failv(se_jobstate *js, bool *failed, char *why, size_t whylen, const char *code,
                       const char *fmt, va_list ap)
{
    if (*failed)
        return;
    vsnprintf(why, whylen, fmt, ap);
    se_jobstate_error(js, code, why, "segexport");
    *failed = true;
}
