/* A finished group becomes rows (SPEC §4-§6, §8): merge, evaluation,
 * filters, projection, events - on the records' tapes.
 *
 * The merged profile is a tape: the lone fragment's own (when it reads as
 * its normalized record) or the tape of the merged text se_merge_tape
 * writes.  Filters read it, the row is printed from it (projtape.c), the
 * events' entries from theirs.  What the tapes leave to json-c trees - the
 * rare shapes a writer is not sure of (xdm: spellings the normalization
 * renames, identity items folded by deep equality), and segment evaluation
 * - goes through tree_profile, the same steps on trees built from the same
 * tapes (tapedom.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errcodes.h"
#include "export_int.h"
#include "filter.h"
#include "segdefs.h"
#include "tapedom.h"
#include "timeutil.h"

enum { DONE = 0, UNSURE = 1 };

/* ---- the tree path -------------------------------------------------------- */

/* A record's normalized tree, as se_record_tree builds it. */
static json_object *record_tree(const se_tape *tp, bool *oom)
{
    json_object *obj = se_tape_to_json(tp, 0, oom);
    if (*oom || se_record_normalize(&obj) != 0) {
        json_object_put(obj);
        *oom = true;
        return NULL;
    }
    json_object_object_del(obj, "_acp_system_metadata");
    return obj;
}

static int tree_add(ctx *c, const se_grec *g)
{
    se_record r = g->f;
    bool oom = false;
    r.key = NULL;
    r.dataset_id = NULL;
    if (g->f.dataset_id && !(r.dataset_id = strdup(g->f.dataset_id)))
        return -1;
    r.obj = record_tree(&g->tape, &oom);
    if (oom || se_profile_add(&c->tprof, &r) != 0) {
        se_record_clear(&r);
        return -1;
    }
    return 0;
}

/* SPEC §8: the definitions recompute the merged profile's segmentMembership,
 * with its events, at the job's creation time, before the filters. */
static int evaluate(ctx *c, se_profile *p)
{
    char err[512];

    if (p->nevents > c->evcap) {
        json_object **n = realloc(c->evobjs, p->nevents * sizeof *n);
        if (!n) {
            se_x_oom(c);
            return -1;
        }
        c->evobjs = n;
        c->evcap = p->nevents;
    }
    for (size_t i = 0; i < p->nevents; i++)
        c->evobjs[i] = p->events[i].obj;
    if (se_segdefs_apply(c->ep->segdefs, p->merged, c->evobjs, p->nevents, c->js->creation_ms,
                         err, sizeof err) != 0) {
        se_x_fail(c, SE_EC_JOB_FAILED, "Error in Export Job: segment evaluation: %s", err);
        return -1;
    }
    return 0;
}

static void tree_profile(ctx *c)
{
    const se_job *job = c->job;
    se_profile *p = &c->tprof;
    json_object *row = NULL, *idmap = NULL;
    const char *s;
    size_t len;

    if (se_profile_begin(p, c->key) != 0)
        goto oom;
    for (size_t i = 0; i < c->nfrags; i++)
        if (tree_add(c, &c->frags[i]) != 0)
            goto oom;
    for (size_t i = 0; i < c->nevents; i++)
        if (tree_add(c, &c->events[i]) != 0)
            goto oom;
    if (se_profile_assemble(p, job->policy))
        goto oom;
    c->js->profiles++;
    if (c->eval && evaluate(c, p) != 0)
        return;
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
        if (se_x_write_row(c, b, s, len))
            break;
        c->js->exported++;
        se_jobstate_count_row(c->js, idmap);
    }
    json_object_put(row);
    return;
oom:
    json_object_put(row);
    se_x_oom(c);
}

/* ---- filters on the merged tape (filter.c's rules) ---------------------- */

/* The value of member key of object o, or 0 when o is not an object, the
 * member is absent or JSON null (json-c's "no value").  o is a value's index,
 * or 0 for the top-level object when top (else 0 means "no value"). */
static uint32_t get_in(const se_tape *tp, uint32_t o, bool top, const char *key)
{
    if ((!o && !top) || tp->t[o].kind != SE_TK_OBJ)
        return 0;
    uint32_t v = se_tape_get(tp, o, key, strlen(key));
    return v && tp->t[v].kind != SE_TK_NULL ? v : 0;
}

static uint32_t member(const se_tape *tp, uint32_t o, const char *key)
{
    return get_in(tp, o, false, key);
}

static uint32_t top_member(const se_tape *tp, const char *key)
{
    return get_in(tp, 0, true, key);
}

static unsigned status_bit(const se_tape *tp, uint32_t m)
{
    uint32_t s = member(tp, m, "status");
    if (!s)
        return SE_ST_REALIZED;
    if (tp->t[s].kind != SE_TK_STR)
        return 0;
    if (se_tape_str_eq(tp, s, "realized", 8))
        return SE_ST_REALIZED;
    if (se_tape_str_eq(tp, s, "existing", 8))
        return SE_ST_EXISTING;
    if (se_tape_str_eq(tp, s, "exited", 6))
        return SE_ST_EXITED;
    return 0;
}

/* se_time_from_json on a tape value. */
/* String token i unescaped and NUL-terminated in c->sbuf; NULL (the job
 * failed) on out of memory. */
static const char *sbuf_str(ctx *c, const se_tape *tp, uint32_t i)
{
    size_t need = tp->t[i].len + 1;
    if (need > c->sbuf_cap) {
        char *nb = realloc(c->sbuf, 2 * need);
        if (!nb) {
            se_x_oom(c);
            return NULL;
        }
        c->sbuf = nb;
        c->sbuf_cap = 2 * need;
    }
    c->sbuf[se_tape_unescape(tp, i, c->sbuf)] = '\0';
    return c->sbuf;
}

static bool tape_time(ctx *c, const se_tape *tp, uint32_t v, int64_t *ms)
{
    const se_tok *t = &tp->t[v];
    if (t->kind == SE_TK_NUM && !(t->flags & SE_TF_DBL)) {
        bool big;
        uint64_t u;
        int64_t i = se_tape_int(tp, v, &big, &u);
        *ms = big ? INT64_MAX : i; /* json-c's int64 of a larger integer */
        return true;
    }
    const char *str = t->kind == SE_TK_STR ? sbuf_str(c, tp, v) : NULL;
    return str && se_time_parse(str, ms) == 0;
}

static bool in_window(ctx *c, const se_tape *tp, uint32_t m)
{
    const se_job *job = c->job;
    int64_t t;
    if (!job->has_sqt || (!job->has_start && !job->has_end))
        return true;
    uint32_t v = member(tp, m, "lastQualificationTime");
    if (!v || !tape_time(c, tp, v, &t))
        return false;
    if (job->has_start && t < job->start_ms)
        return false;
    if (job->has_end && t >= job->end_ms)
        return false;
    return true;
}

static bool qualifies(ctx *c, const se_tape *tp, uint32_t sm, const se_segment *seg)
{
    uint32_t m = member(tp, member(tp, sm, seg->segment_ns), seg->segment_id);
    if (!m || tp->t[m].kind != SE_TK_OBJ)
        return false;
    if (!(status_bit(tp, m) & seg->status_mask))
        return false;
    return in_window(c, tp, m);
}

static bool any_in_window(ctx *c, const se_tape *tp, uint32_t sm)
{
    if (!sm || tp->t[sm].kind != SE_TK_OBJ)
        return false;
    SE_TAPE_EACH_MEMBER(tp, sm, k) {
        if (!se_tape_first_key(tp, sm, k))
            continue;
        uint32_t segs = se_tape_last_value(tp, sm, k);
        if (tp->t[segs].kind != SE_TK_OBJ)
            continue;
        SE_TAPE_EACH_MEMBER(tp, segs, sk) {
            if (!se_tape_first_key(tp, segs, sk))
                continue;
            uint32_t m = se_tape_last_value(tp, segs, sk);
            if (tp->t[m].kind == SE_TK_OBJ &&
                (status_bit(tp, m) & (SE_ST_REALIZED | SE_ST_EXISTING)) && in_window(c, tp, m))
                return true;
        }
    }
    return false;
}

typedef struct gfacts {
    bool has_fragment, has_updated;
    int64_t updated_ms;
} gfacts;

static bool filter_profile(ctx *c, const se_tape *tp, const gfacts *g)
{
    const se_job *job = c->job;
    uint32_t sm = top_member(tp, "segmentMembership");
    bool any = false;

    for (size_t i = 0; i < job->nsegs; i++) {
        c->qual[i] = qualifies(c, tp, sm, &job->segs[i]);
        any = any || c->qual[i];
    }
    if (!g->has_fragment && !job->empty_profiles)
        return false;
    if (job->has_from_ingest && (!g->has_updated || g->updated_ms <= job->from_ingest_ms))
        return false;
    if (job->nsegs > 0)
        return any;
    if (job->has_sqt)
        return any_in_window(c, tp, sm);
    return true;
}

/* ---- rows ------------------------------------------------------------------ */

/* se_jobstate_count_row for the merged tape's identityMap. */
static int count_namespaces(ctx *c, const se_tape *tp)
{
    uint32_t map = top_member(tp, "identityMap");
    if (!map || tp->t[map].kind != SE_TK_OBJ)
        return 0;
    SE_TAPE_EACH_MEMBER(tp, map, k) {
        if (!se_tape_first_key(tp, map, k))
            continue;
        uint32_t items = se_tape_last_value(tp, map, k);
        if (tp->t[items].kind != SE_TK_ARR || tp->t[items].len == 0)
            continue;
        const char *ns = sbuf_str(c, tp, k);
        json_object *n;
        if (!ns)
            return -1;
        if (json_object_object_get_ex(c->js->ns_counter, ns, &n))
            json_object_set_int64(n, json_object_get_int64(n) + 1);
        else if (json_object_object_add(c->js->ns_counter, ns, json_object_new_int64(1)) != 0)
            return -1;
    }
    return 0;
}

static int cmp_event(const void *pa, const void *pb, void *ud)
{
    const se_grec *ev = ud;
    const se_record *a = &ev[*(const uint32_t *)pa].f, *b = &ev[*(const uint32_t *)pb].f;
    if (a->has_ts != b->has_ts)
        return a->has_ts ? 1 : -1;
    if (a->has_ts && a->ts_ms != b->ts_ms)
        return a->ts_ms < b->ts_ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

/* c->order: the events in (timestamp, seq) order.  -1 on out of memory. */
static int order_events(ctx *c)
{
    if (c->nevents > c->order_cap) {
        uint32_t *o = realloc(c->order, c->nevents * sizeof *o);
        if (!o)
            return -1;
        c->order = o;
        c->order_cap = c->nevents;
    }
    for (size_t i = 0; i < c->nevents; i++)
        c->order[i] = (uint32_t)i;
    if (c->nevents > 1)
        qsort_r(c->order, c->nevents, sizeof *c->order, cmp_event, c->events);
    return 0;
}

/* Appends ,"timeSeriesEvents":[...] to the row (json-c adds the key last),
 * the events in c->order.  DONE, UNSURE or -1. */
static int add_events(ctx *c)
{
    const se_job *job = c->job;
    c->evrow_len = 0;
    bool first = true;
    for (size_t i = 0; i < c->nevents; i++) {
        const se_grec *e = &c->events[c->order[i]];
        if (!se_filter_event(job, &e->f))
            continue;
        if (!first && c->evrow_len + 1 > c->evrow_cap) {
            char *nb = realloc(c->evrow, 2 * c->evrow_cap + 64);
            if (!nb)
                return -1;
            c->evrow = nb;
            c->evrow_cap = 2 * c->evrow_cap + 64;
        }
        if (!first)
            c->evrow[c->evrow_len++] = ',';
        int r = se_proj_tape_event_row(c->evproj, &e->tape, &c->evrow, &c->evrow_len, &c->evrow_cap);
        if (r <= 0)
            return r < 0 ? -1 : UNSURE;
        first = false;
    }
    static const char head[] = "\"timeSeriesEvents\":[";
    size_t need = c->row_len + sizeof head + c->evrow_len + 3;
    if (need > c->row_cap) {
        char *nb = realloc(c->row, need);
        if (!nb)
            return -1;
        c->row = nb;
        c->row_cap = need;
    }
    /* The row ends with '}': the events go in before it. */
    size_t at = c->row_len - 1;
    if (c->row_len > 2)
        c->row[at++] = ',';
    memcpy(c->row + at, head, sizeof head - 1);
    at += sizeof head - 1;
    if (c->evrow_len) /* (no event: evrow may be NULL) */
        memcpy(c->row + at, c->evrow, c->evrow_len);
    at += c->evrow_len;
    c->row[at++] = ']';
    c->row[at++] = '}';
    c->row_len = at;
    return DONE;
}

/* The profile whose merged profile is tape tp: DONE (written, or filtered
 * out), UNSURE (nothing done: take the tree path) or -1 (out of memory). */
static int tape_profile(ctx *c, const se_tape *tp, const gfacts *g)
{
    const se_job *job = c->job;
    if (!filter_profile(c, tp, g)) {
        c->js->profiles++;
        return DONE;
    }
    c->row_len = 0;
    int r = se_proj_tape_row(c->proj, tp, &c->row, &c->row_len, &c->row_cap);
    if (r <= 0)
        return r < 0 ? -1 : UNSURE;
    if (job->has_event_list) {
        /* json-c would put a timeSeriesEvents of the profile's in place. */
        if (se_tape_get(tp, 0, "timeSeriesEvents", 16))
            return UNSURE;
        if (order_events(c) != 0)
            return -1;
        if ((r = add_events(c)) != DONE)
            return r;
    }
    c->js->profiles++;
    for (size_t b = 0; b < c->nbatches; b++) {
        if (c->nbatches > 1 && !c->qual[b])
            continue;
        if (se_x_write_row(c, b, c->row, c->row_len))
            return DONE;
        c->js->exported++;
        if (count_namespaces(c, tp) != 0)
            return -1;
    }
    return DONE;
}

/* SPEC §4: a stitched profile of more than 50 identities is left out, as AEP
 * does; reported, not a bad record (no --max-errors). */
static void graph_too_big(ctx *c)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "profile \"%s\" left out: its identity graph holds more than %d identities",
             c->key, SE_GRAPH_MAX_IDENTITIES);
    se_jobstate_error(c->js, SE_EC_GRAPH_TOO_BIG, msg, "segexport.graph");
    if (c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
}

static bool takes_part(const se_mpolicy *pol, const se_record *f)
{
    se_frag_order o;
    return se_frag_order_of(pol, f, &o);
}

static void note_updated(gfacts *g, const se_record *r)
{
    if (r->has_ingest && (!g->has_updated || r->ingest_ms > g->updated_ms)) {
        g->has_updated = true;
        g->updated_ms = r->ingest_ms;
    }
}

/* SPEC §8 on tapes: the definitions evaluated over the merged profile *tp
 * and the events; when that changes the memberships, *tp becomes the tape
 * of the profile with its new segmentMembership (c->etape).  DONE, UNSURE
 * (take the tree path) or -1 (failed: c->failed set). */
static int evaluate_tape(ctx *c, const se_tape **tp)
{
    const se_segdefs *d = c->ep->segdefs;
    size_t nd = se_segdefs_count(d);
    char err[512];

    if (!c->match && !(c->match = calloc(nd ? nd : 1, sizeof *c->match)))
        goto oom;
    if (c->nevents > c->evtapes_cap) {
        const se_tape **e = realloc(c->evtapes, c->nevents * sizeof *e);
        if (!e)
            goto oom;
        c->evtapes = e;
        c->evtapes_cap = c->nevents;
    }
    if (order_events(c) != 0)
        goto oom;
    for (size_t i = 0; i < c->nevents; i++)
        c->evtapes[i] = &c->events[c->order[i]].tape;
    int r = se_segdefs_eval_tape(d, *tp, c->evtapes, c->nevents, c->js->creation_ms, c->match, err,
                                 sizeof err);
    if (r < 0) {
        se_x_fail(c, SE_EC_JOB_FAILED, "Error in Export Job: segment evaluation: %s", err);
        return -1;
    }
    if (r == 0)
        return UNSURE;
    if (!se_segdefs_edit_changes(d, *tp, c->match))
        return DONE;
    /* The new memberships: the profile's segmentMembership as a tree,
     * edited, printed in its place - or last: an object left empty is
     * removed, and made again json-c puts it last (a non-object replaced
     * stays in place).  The reference on the old object keeps its address
     * from being reused by the new one. */
    json_object *wrap = json_object_new_object(), *sm = NULL, *before = NULL;
    uint32_t v = se_tape_get(*tp, 0, "segmentMembership", 17);
    bool oom = false, last = false;
    const char *text = NULL;
    size_t tlen = 0;
    if (!wrap)
        goto oom;
    if (v) {
        sm = se_tape_to_json(*tp, v, &oom);
        if (oom || json_object_object_add(wrap, "segmentMembership", sm) != 0) {
            json_object_put(sm);
            json_object_put(wrap);
            goto oom;
        }
        if (json_object_is_type(sm, json_type_object))
            before = json_object_get(sm);
    }
    if (se_segdefs_edit(d, wrap, c->match, c->js->creation_ms, err, sizeof err) != 0) {
        json_object_put(before);
        json_object_put(wrap);
        se_x_fail(c, SE_EC_JOB_FAILED, "Error in Export Job: segment evaluation: %s", err);
        return -1;
    }
    if (json_object_object_get_ex(wrap, "segmentMembership", &sm)) {
        last = before && sm != before;
        text = sm ? json_object_to_json_string_length(sm, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE, &tlen)
                  : "null";
        if (!sm)
            tlen = 4;
    }
    json_object_put(before);
    if (sm && !text) {
        json_object_put(wrap);
        goto oom;
    }
    c->elen = 0;
    r = se_proj_tape_whole_with(*tp, "segmentMembership", text, tlen, last, &c->etext, &c->elen,
                                &c->ecap);
    json_object_put(wrap);
    if (r <= 0)
        return r < 0 ? (se_x_oom(c), -1) : UNSURE;
    r = se_tape_parse(&c->etape, c->etext, c->elen);
    if (r == SE_TAPE_NOMEM)
        goto oom;
    if (r != SE_TAPE_OK)
        return UNSURE;
    *tp = &c->etape;
    return DONE;
oom:
    se_x_oom(c);
    return -1;
}

bool se_x_frag_mentions(const ctx *c, const se_tape *tp, uint32_t segm)
{
    const se_job *job = c->job;
    /* segm (se_record.segm) is unsure when the top level spells
     * xdm:segmentMembership (or has an escaped key): the full path decides.
     * Only the top-level spelling matters: the normalization renames keys
     * inside entries, not the (namespace, id) they sit at. */
    if (segm == SE_SEGM_UNSURE)
        return true;
    for (size_t k = 0; segm && k < job->nsegs; k++)
        if (member(tp, member(tp, segm, job->segs[k].segment_ns), job->segs[k].segment_id))
            return true;
    return false;
}

/* Whether a fragment taking part in the merge holds an entry for a wanted
 * segment (prep's SE_SEGHINT, or read now). */
static bool may_qualify(ctx *c)
{
    for (size_t i = 0; i < c->nfrags; i++) {
        const se_grec *g = &c->frags[i];
        if (g->f.seghint == SE_SEGHINT_NO || !takes_part(c->job->policy, &g->f))
            continue;
        if (g->f.seghint == SE_SEGHINT_YES || se_x_frag_mentions(c, &g->tape, g->f.segm))
            return true;
    }
    return false;
}

void se_x_assemble(ctx *c)
{
    const se_job *job = c->job;
    bool eval = c->eval;
    gfacts g = { 0 };
    size_t npart = 0, lone = 0;

    if (c->pdg && c->guard.over) {
        graph_too_big(c);
        return;
    }
    for (size_t i = 0; i < c->nfrags; i++) {
        if (!takes_part(job->policy, &c->frags[i].f))
            continue;
        npart++;
        lone = i;
        note_updated(&g, &c->frags[i].f);
    }
    for (size_t i = 0; i < c->nevents; i++)
        note_updated(&g, &c->events[i].f);
    g.has_fragment = npart > 0;

    /* A profile none of whose fragments holds an entry for a wanted segment
     * cannot qualify (the merge only picks among entries): no merge, no row. */
    if (c->seg_prefilter && !may_qualify(c)) {
        c->js->profiles++;
        return;
    }
    const se_tape *tp = NULL;
    int r = UNSURE;
    if (c->ep->tree_path) {
        r = UNSURE;
    } else if (npart == 1 && se_proj_tape_normal(&c->frags[lone].tape)) {
        tp = &c->frags[lone].tape;
    } else {
        /* Several fragments (or none): their merge, written and read back. */
        c->mlen = 0;
        r = se_merge_tape(c->frags, c->nfrags, c->events, c->nevents, job->policy,
                          c->keep.n ? &c->keep : NULL, &c->mtext,
                          &c->mlen, &c->mcap);
        if (r > 0) {
            int pr = se_tape_parse(&c->mtape, c->mtext, c->mlen);
            if (pr == SE_TAPE_OK)
                tp = &c->mtape;
            r = pr == SE_TAPE_NOMEM ? -1 : UNSURE;
        } else if (r == 0) {
            r = UNSURE;
        }
    }
    if (tp && eval) {
        r = evaluate_tape(c, &tp);
        if (r < 0)
            return; /* failed */
        if (r == UNSURE)
            tp = NULL;
    }
    if (tp)
        r = tape_profile(c, tp, &g);
    if (r < 0)
        se_x_oom(c);
    else if (r == UNSURE)
        tree_profile(c);
}

void se_x_assemble_free(ctx *c)
{
    free(c->evtapes);
    free(c->match);
    free(c->etext);
    se_tape_free(&c->etape);
    se_profile_clear(&c->tprof);
    se_tape_free(&c->mtape);
    free(c->row);
    free(c->mtext);
    free(c->evrow);
    free(c->order);
    free(c->sbuf);
    free(c->evobjs);
}
