/* The reference export for the differential test (tests/diff/run.sh): the
 * straightforward path, one record at a time - json-c parses each line
 * (tests/fuzz/ref_record.h, the reader the engine had before the tape), the
 * records of a key are grouped, assembled by the policy, filtered, projected
 * and printed by json-c.  No pre-parse, no raw rows, no pre-filter.
 *
 *   refexport JOB DUMP [MERGE-POLICIES]
 *
 * Prints every row as "BATCH<TAB>ROW", batch by batch, then "profiles N", "rows N",
 * "bad N" and "namespace NS N" lines (first-appearance order), which run.sh
 * compares with the archives and the job JSON of `segexport run`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "filter.h"
#include "fsutil.h"
#include "job.h"
#include "mergepolicy.h"
#include "profile.h"
#include "project.h"
#include "record.h"
#include "../fuzz/ref_record.h"

static json_object *ns_counts;
static json_object **batch_rows; /* per batch: an array of the rows' text */
static unsigned long long nprofiles, nrows;

static void die(const char *what)
{
    fprintf(stderr, "refexport: %s\n", what);
    exit(2);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    if (!f)
        die(path);
    do {
        if (n + 65536 > cap && !(buf = realloc(buf, cap = 2 * cap + 65536)))
            die("out of memory");
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

static void count_ns(json_object *idmap)
{
    if (!json_object_is_type(idmap, json_type_object))
        return;
    json_object_object_foreach(idmap, ns, items) {
        json_object *c;
        if (!json_object_is_type(items, json_type_array) || json_object_array_length(items) == 0)
            continue;
        if (json_object_object_get_ex(ns_counts, ns, &c))
            json_object_set_int64(c, json_object_get_int64(c) + 1);
        else
            json_object_object_add(ns_counts, ns, json_object_new_int64(1));
    }
}

static void finish(const se_job *job, se_profile *p, const se_proj *pj, const se_proj *evpj, bool *qual,
                   size_t nbatches)
{
    if (se_profile_assemble(p, job->policy) != 0)
        die("out of memory");
    nprofiles++;
    if (!se_filter_profile(job, p, qual))
        return;
    json_object *row = se_proj_apply(pj, p->merged);
    if (job->has_event_list) {
        json_object *top = json_object_new_object(), *evs = json_object_new_array();
        json_object_object_foreach(row, k, v)
            json_object_object_add(top, k, json_object_get(v));
        json_object_put(row);
        row = top;
        for (size_t i = 0; i < p->nevents; i++)
            if (se_filter_event(job, &p->events[i]))
                json_object_array_add(evs, se_proj_apply(evpj, p->events[i].obj));
        json_object_object_add(row, "timeSeriesEvents", evs);
    }
    const char *s = json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    json_object *idmap = NULL;
    json_object_object_get_ex(p->merged, "identityMap", &idmap);
    for (size_t b = 0; b < nbatches; b++) {
        if (nbatches > 1 && !qual[b])
            continue;
        json_object_array_add(batch_rows[b], json_object_new_string(s));
        nrows++;
        count_ns(idmap);
    }
    json_object_put(row);
}

int main(int argc, char **argv)
{
    size_t jlen, dlen;
    char err[1024];
    se_job *job = NULL;
    se_proj *pj = NULL, *evpj = NULL;
    se_profile p;
    unsigned long long bad = 0;
    bool in_group = false;

    if (argc < 3)
        die("usage: refexport JOB DUMP [MERGE-POLICIES]");
    se_mp_registry *reg = se_mp_registry_new();
    if (!reg || (argc > 3 && se_mp_registry_load(reg, argv[3], err, sizeof err) != 0))
        die("merge policies");
    char *jt = slurp(argv[1], &jlen);
    if (se_job_parse(jt, jlen, reg, &job, NULL, NULL, err, sizeof err) != 0)
        die(err);
    if (se_proj_compile(job->fields, &pj) != 0 || se_proj_compile(job->event_fields, &evpj) != 0)
        die("out of memory");
    size_t nbatches = job->segment_per_batch && job->nsegs > 0 ? job->nsegs : 1;
    bool *qual = calloc(job->nsegs + 1, sizeof *qual);
    ns_counts = json_object_new_object();
    batch_rows = calloc(nbatches, sizeof *batch_rows);
    for (size_t b = 0; b < nbatches; b++)
        batch_rows[b] = json_object_new_array();
    se_profile_init(&p);
    char *d = slurp(argv[2], &dlen);
    uint64_t seq = 0;
    for (size_t at = 0; at < dlen;) {
        char *nl = memchr(d + at, '\n', dlen - at);
        size_t len = nl ? (size_t)(nl - (d + at)) : dlen - at;
        const char *line = d + at;
        at += len + 1;
        if (len && line[len - 1] == '\r')
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len)
            continue;
        se_record rec;
        if (ref_record_parse(line, len, &rec, err, sizeof err) != 0) {
            bad++;
            continue;
        }
        rec.seq = seq++;
        if (!in_group || strcmp(rec.key, p.key) != 0) {
            if (in_group)
                finish(job, &p, pj, evpj, qual, nbatches);
            if (se_profile_begin(&p, rec.key) != 0)
                die("out of memory");
            in_group = true;
        }
        if (se_profile_add(&p, &rec) != 0)
            die("out of memory");
    }
    if (in_group)
        finish(job, &p, pj, evpj, qual, nbatches);
    for (size_t b = 0; b < nbatches; b++) {
        for (size_t i = 0; i < json_object_array_length(batch_rows[b]); i++)
            printf("%zu\t%s\n", b, json_object_get_string(json_object_array_get_idx(batch_rows[b], i)));
        json_object_put(batch_rows[b]);
    }
    free(batch_rows);
    printf("profiles %llu\nrows %llu\nbad %llu\n", nprofiles, nrows, bad);
    json_object_object_foreach(ns_counts, ns, c)
        printf("namespace %s %lld\n", ns, (long long)json_object_get_int64(c));
    se_profile_clear(&p);
    json_object_put(ns_counts);
    se_proj_free(pj);
    se_proj_free(evpj);
    se_job_free(job);
    se_mp_registry_free(reg);
    free(qual);
    free(jt);
    free(d);
    return 0;
}
