/* Fuzz target: profile assembly.  Every parsable line of the input is one
 * record of one profile (keys are not compared); the first byte picks the
 * merge policy (timestampOrdered, or dataSetPrecedence over datasets "a","b");
 * then se_profile_assemble, the job's filters and the row projection. */
#include "fuzz_common.h"
#include "filter.h"
#include "profile.h"
#include "project.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_rparser *rp;
    static char *order[] = {"a", "b"};
    static const se_mpolicy ts = {"timestampOrdered-none-mp", 1, SE_ATTR_TIMESTAMP_ORDERED, NULL, 0, SE_GRAPH_NONE};
    static const se_mpolicy dsp = {"dsp", 1, SE_ATTR_DATASET_PRECEDENCE, order, 2, SE_GRAPH_NONE};
    static se_segment segs[] = {{"s1", "ups", SE_ST_REALIZED | SE_ST_EXISTING}, {"s2", "ups", SE_ST_EXITED}};
    char err[512];
    se_profile p;
    se_record rec;
    uint64_t seq = 0;
    bool qual[2];

    if (!rp && !(rp = se_rparser_new()))
        abort();
    if (size == 0)
        return 0;
    const se_mpolicy *pol = data[0] & 1 ? &dsp : &ts;
    se_job job;
    memset(&job, 0, sizeof job);
    job.segs = segs;
    job.nsegs = data[0] & 2 ? 2 : 0;
    job.has_sqt = data[0] & 4;
    job.has_start = data[0] & 8;
    job.start_ms = 1000;
    job.has_end = data[0] & 4;
    job.end_ms = 1538611200000;
    job.has_from_ingest = data[0] & 16;
    job.from_ingest_ms = 5;
    job.empty_profiles = data[0] & 32;
    job.has_event_list = true;
    job.policy = pol;

    se_profile_init(&p);
    if (se_profile_begin(&p, "k") != 0)
        abort();
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (se_record_parse(rp, s, n, &rec, err, sizeof err) == 0) {
            rec.seq = seq++;
            if (se_profile_add(&p, &rec) != 0)
                abort();
            se_record_clear(&rec);
        }
        s += n + 1;
    }
    if (se_profile_assemble(&p, pol) != 0)
        abort();
    if (!p.merged)
        abort();
    se_filter_profile(&job, &p, qual);
    se_proj *pj = NULL;
    if (se_proj_compile("identityMap, segmentMembership.ups, a.b", &pj) != 0)
        abort();
    json_object *row = se_proj_apply(pj, p.merged);
    json_object_to_json_string_ext(p.merged, JSON_C_TO_STRING_PLAIN);
    json_object_put(row);
    se_proj_free(pj);
    for (size_t i = 0; i < p.nevents; i++)
        se_filter_event(&job, &p.events[i]);
    se_profile_clear(&p);
    return 0;
}
