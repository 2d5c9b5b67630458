/* The job's profile filters (SPEC §5) and the event window (SPEC §6). */
#include "filter.h"

#include <string.h>

#include "timeutil.h"

static json_object *obj_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_get_type(o) == json_type_object)
        json_object_object_get_ex(o, key, &v);
    return v;
}

/* lastQualificationTime: RFC 3339 string or epoch-ms integer. */
static bool entry_lqt(json_object *m, int64_t *ms)
{
    json_object *t = obj_get(m, "lastQualificationTime");
    if (!t)
        return false;
    return se_time_from_json(t, ms) == 0;
}

/* The entry's status bit.  A missing (or null) status is "realized", the XDM
 * schema default; anything unknown matches no filter. */
static unsigned status_bit(json_object *m)
{
    json_object *s = obj_get(m, "status");
    if (!s)
        return SE_ST_REALIZED;
    if (json_object_get_type(s) != json_type_string)
        return 0;
    const char *v = json_object_get_string(s);
    if (strcmp(v, "realized") == 0)
        return SE_ST_REALIZED;
    if (strcmp(v, "existing") == 0)
        return SE_ST_EXISTING;
    if (strcmp(v, "exited") == 0)
        return SE_ST_EXITED;
    return 0;
}

/* start <= lqt < end.  With no bound ({} or no segmentQualificationTime) there
 * is no window, so no qualification time is needed. */
static bool in_window(const se_job *job, json_object *m)
{
    int64_t t;

    if (!job->has_sqt || (!job->has_start && !job->has_end))
        return true;
    if (!entry_lqt(m, &t))
        return false;
    if (job->has_start && t < job->start_ms)
        return false;
    if (job->has_end && t >= job->end_ms)
        return false;
    return true;
}

static bool is_entry(json_object *m)
{
    return m && json_object_get_type(m) == json_type_object;
}

static bool qualifies(const se_job *job, const se_segment *seg, json_object *sm)
{
    json_object *m = obj_get(obj_get(sm, seg->segment_ns), seg->segment_id);
    if (!is_entry(m))
        return false;
    if (!(status_bit(m) & seg->status_mask))
        return false;
    return in_window(job, m);
}

/* Rule 4: any realized/existing membership, any namespace, inside the window. */
static bool any_in_window(const se_job *job, json_object *sm)
{
    if (!sm || json_object_get_type(sm) != json_type_object)
        return false;
    json_object_object_foreach(sm, ns, segs) {
        (void)ns;
        if (!segs || json_object_get_type(segs) != json_type_object)
            continue;
        json_object_object_foreach(segs, sid, m) {
            (void)sid;
            if (is_entry(m) && (status_bit(m) & (SE_ST_REALIZED | SE_ST_EXISTING)) &&
                in_window(job, m))
                return true;
        }
    }
    return false;
}

bool se_filter_profile(const se_job *job, const se_profile *p, bool *qual)
{
    json_object *sm = obj_get(p->merged, "segmentMembership");
    bool any = false;

    /* Every entry is computed, without stopping at the first match: batches per
     * segment need each of them. */
    for (size_t i = 0; i < job->nsegs; i++) {
        qual[i] = qualifies(job, &job->segs[i], sm);
        any = any || qual[i];
    }

    if (!p->has_fragment && !job->empty_profiles)
        return false;
    if (job->has_from_ingest &&
        (!p->has_updated || p->updated_ms <= job->from_ingest_ms))
        return false;
    if (job->nsegs > 0)
        return any;
    if (job->has_sqt)
        return any_in_window(job, sm);
    return true;
}

bool se_filter_event(const se_job *job, const se_record *ev)
{
    bool bounded = job->has_from_ingest || job->has_ev_from || job->has_ev_to;

    if (!bounded)
        return true;
    if (!ev->has_ingest)
        return false;
    if (job->has_from_ingest && ev->ingest_ms <= job->from_ingest_ms)
        return false;
    if (job->has_ev_from && ev->ingest_ms <= job->ev_from_ms)
        return false;
    if (job->has_ev_to && ev->ingest_ms >= job->ev_to_ms)
        return false;
    return true;
}
