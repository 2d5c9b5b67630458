/* `segexport merge`: the merged job's counters, errors[] and times from the
 * shards' results (SPEC §9; docs/scale-out.md says how bad records are
 * counted once over the shards). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_merge.h"
#include "errcodes.h"

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
    json_object *a = mg_get(mg_get(mg_get(m->sh[i].res, "metrics"), "shard"), "badRecordSeq");
    return json_object_is_type(a, json_type_array) ? a : NULL;
}

/* Sums the shards' counters, combines their errors[], and spans their times.
 *
 * Shard runs report each bad record once over all shards (the shard that owns
 * it: docs/scale-out.md), with its ordinal in the input: their bad records are
 * summed and listed in input order, and --max-errors (metrics.shard.maxErrors)
 * is applied to the sum, as the single run would: beyond it the merged job
 * fails with the single run's errors[] (the first maxErrors + 1 bad records,
 * then the failure): m->bad_over then.  Other errors follow in shard order. */
void mg_combine(merge *m)
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
        json_object *me = mg_get(mg_get(mg_get(m->sh[i].res, "metrics"), "shard"), "maxErrors");
        if (json_object_is_type(me, json_type_int) && json_object_get_int64(me) >= 0 &&
            (uint64_t)json_object_get_int64(me) < max_errors)
            max_errors = (uint64_t)json_object_get_int64(me);
    }
    for (size_t i = 0; i < m->nsh; i++) {
        json_object *res = m->sh[i].res, *mt = mg_get(res, "metrics"), *tt = mg_get(mt, "totalTime");
        json_object *ns = mg_get(mt, "exportedProfileByNamespaceCounter"), *errs = mg_get(res, "errors");
        json_object *st = mg_get(tt, "startTimeInMs"), *en = mg_get(tt, "endTimeInMs");
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
            if (mg_metric(res, "inputRecordCounter") > js->input_records)
                js->input_records = mg_metric(res, "inputRecordCounter");
        } else {
            js->input_records += mg_metric(res, "inputRecordCounter");
        }
        /* Older shard runs all reported every bad record: take them once. */
        bool once = m->sharded && !owned && i > 0;
        if (!once)
            js->bad_records += mg_metric(res, "badRecordCounter");
        js->profiles += mg_metric(res, "profileCounter");
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
            const char *code = json_object_get_string(mg_get(e, "code"));
            const char *msg = json_object_get_string(mg_get(e, "msg"));
            const char *cs = json_object_get_string(mg_get(e, "callStack"));
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
        if (nbad > 1) /* qsort(NULL, 0, ...) is undefined */
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
                se_jobstate_error(js, json_object_get_string(mg_get(e, "code")),
                                  json_object_get_string(mg_get(e, "msg")),
                                  json_object_get_string(mg_get(e, "callStack")));
            }
            js->errors_dropped += dropped;
            json_object_put(rest);
        }
    }
    free(bad);
    js->total_set = true;
    m->bad_over = over;
}
