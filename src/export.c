/* The export engine (SPEC §3-§7): one streaming pass, all or nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "batch.h"
#include "errcodes.h"
#include "export.h"
#include "filter.h"
#include "segdefs.h"
#include "groupcheck.h"
#include "idgraph.h"
#include "input.h"
#include "keyed.h"
#include "nscount.h"
#include "pipeline.h"
#include "profile.h"
#include "project.h"
#include "record.h"
#include "scan.h"
#include "shardkey.h"
#include "tape.h"
#include "timeutil.h"

#define KEY_SLACK 65536 /* --keyed: room for KEY<TAB> beyond --max-record-bytes */
#define WARN_LIMIT 20 /* bad-record warnings passed to on_warning; all go to errors[] */

/* Top-level member names a record kind needs (no escapes: see scan.h). */
typedef struct names {
    bool all;
    const char **v;
    size_t *len, n;
} names;

typedef struct ctx {
    const se_export_params *ep;
    json_object **evobjs;            /* segment evaluation: the profile's events */
    size_t evcap;
    uint64_t in_bytes;               /* input bytes read, for progress */
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
    bool not_mine;                   /* --shard: the current line's bad record is another shard's */
    bool failed;
    char why[1024];

    /* The fast path (see scan.h): records the pre-parse is sure of are parsed
     * from a smaller text holding only the top-level members the job reads. */
    bool fast;
    names keep_frag, keep_event;     /* .all: keep every member */
    /* Segment pre-filter: a profile none of whose fragments' segmentMembership
     * bytes hold a wanted segment id (or any backslash) cannot qualify, so its
     * records are only checked, never parsed.  Until one may qualify, the
     * group's record texts wait in pend. */
    bool prefilter;
    bool group_live;                 /* the current group is parsed as it comes */
    char *pend;                      /* record texts of the current group, back to back */
    size_t pend_len, pend_cap;
    /* A record text still in the current chunk is only pointed to (ptr); it
     * is copied into pend (off) before that chunk goes away (pend_own). */
    struct pend_rec { const char *ptr; size_t off, len; uint64_t seq; } *pend_recs;
    size_t npend, cap_pend;
    /* Raw rows (full exports without segment or time filters): when every
     * fragment of a profile was pre-parsed surely and had its row built from
     * its tape by prep (se_proj_tape_row), and at most one of them holds any of
     * the projection's top-level names, the merged profile's projection is
     * that fragment's (the others add no projected key, and the merge copies
     * a key found in one fragment as it is).  With more than one fragment the
     * namespace counts must not depend on the merge order: every namespace of
     * every fragment a non-empty array, all already in the counter.  The
     * group's records wait in pend (as with the pre-filter) until that is
     * known, else they are parsed and merged as usual. */
    bool rawrow;
    bool defer;                      /* prefilter || rawrow */
    names heads;                     /* the projection's top-level names */
    size_t raw_frags;                /* fragments waiting in pend */
    bool raw_head;                   /* raw holds the row of the fragment with heads */
    bool raw_clean;                  /* every waiting fragment's namespaces are all counted */
    char *raw;                       /* the row */
    size_t raw_len, raw_cap;
    char *sig, *sig2;                /* the fragments' counted namespaces, '\n'-separated */
    size_t sig_len, sig_cap, sig2_cap;
    se_nscount *nsc;                 /* namespace counts of raw rows */
    char *key;                       /* the scanned key */
    size_t key_cap;
    se_rparser *rp;
    bool pdg;                        /* identityGraph pdg, groups not checked yet: count identities */
    se_idguard guard;                /* its distinct identities, up to the limit */
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

/* msg: "NAME:LINE: reason" */
static void bad_record_msg(ctx *c, const char *msg)
{
    se_jobstate *js = c->js;
    if (c->not_mine)
        return; /* another shard's to report */
    if (js->shard_n && js->nbad_seq <= SE_ERRORS_KEPT) {
        uint64_t *n = realloc(js->bad_seq, (js->nbad_seq + 1) * sizeof *n);
        if (n) {
            js->bad_seq = n;
            js->bad_seq[js->nbad_seq++] = js->input_records;
        }
    }
    c->js->bad_records++;
    se_jobstate_error(c->js, SE_EC_BAD_RECORD, msg, "segexport.input");
    if (c->js->bad_records <= WARN_LIMIT && c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
    if (c->js->bad_records > c->ep->o->max_errors)
        fail(c, SE_EC_JOB_FAILED,
             "Error in Export Job: %llu bad input records, more than --max-errors %llu",
             (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o->max_errors);
}

static void bad_record(ctx *c, const char *name, uint64_t line, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:%llu: %s", name, (unsigned long long)line, reason);
    bad_record_msg(c, msg);
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

static int go_live(ctx *c);

/* The finished group's row is the one prep built from its fragment's bytes
 * (see rawrow above); sig: its namespaces to count. */
static void raw_finish(ctx *c, const char *sig, size_t sig_len)
{
    c->npend = 0;
    c->pend_len = 0;
    c->js->profiles++;
    for (size_t b = 0; b < c->nbatches; b++) {
        if (write_row(c, b, c->raw, c->raw_len))
            break;
        c->js->exported++;
        if (se_nscount_row(c->nsc, c->js, sig, sig_len) != 0) {
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
            break;
        }
    }
}

/* SPEC §8: the definitions recompute the merged profile's segmentMembership,
 * with its events, at the job's creation time, before the filters. */
static int evaluate(ctx *c, se_profile *p)
{
    char err[512];

    if (p->nevents > c->evcap) {
        json_object **n = realloc(c->evobjs, p->nevents * sizeof *n);
        if (!n) {
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
            return -1;
        }
        c->evobjs = n;
        c->evcap = p->nevents;
    }
    for (size_t i = 0; i < p->nevents; i++)
        c->evobjs[i] = p->events[i].obj;
    if (se_segdefs_apply(c->ep->segdefs, p->merged, c->evobjs, p->nevents, c->js->creation_ms,
                         err, sizeof err) != 0) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: segment evaluation: %s", err);
        return -1;
    }
    return 0;
}

/* SPEC §4: a stitched profile of more than 50 identities is left out, as AEP
 * does; reported, not a bad record (no --max-errors). */
static void graph_too_big(ctx *c)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "profile \"%s\" left out: its identity graph holds more than %d identities",
             c->prof.key, SE_GRAPH_MAX_IDENTITIES);
    se_jobstate_error(c->js, SE_EC_GRAPH_TOO_BIG, msg, "segexport.graph");
    if (c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
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
    if (c->pdg && c->guard.over) {
        graph_too_big(c);
        return;
    }
    if (c->prefilter && !c->group_live) {
        /* No fragment names a wanted segment: it cannot qualify (SPEC §5.3). */
        c->npend = 0;
        c->pend_len = 0;
        c->js->profiles++;
        return;
    }
    if (c->rawrow && !c->group_live) {
        if (c->raw_frags == 1) {
            raw_finish(c, c->sig, c->sig_len);
            return;
        }
        size_t n;
        if (c->raw_frags > 1 && c->raw_clean &&
            se_nscount_known(c->js, c->sig, c->sig_len, &c->sig2, &c->sig2_cap, &n)) {
            raw_finish(c, c->sig2, n);
            return;
        }
        if (go_live(c) != 0)
            return;
    }
    if (se_profile_assemble(p, job->policy)) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    c->js->profiles++;
    if (job->eval_segmentation && c->ep->segdefs && evaluate(c, p) != 0)
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

/* Starts or continues the group of key (h: its se_fnv1a64); checks the
 * grouping rule. */
static int group(ctx *c, const char *key, uint64_t h, const se_line *ln)
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
        int r = se_groupcheck_add_hash(c->seen, h, ln->name, ln->lineno, &pname, &pline);
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
    se_idguard_reset(&c->guard);
    c->in_group = true;
    c->group_live = false;
    c->npend = 0;
    c->pend_len = 0;
    c->raw_frags = 0;
    c->raw_head = false;
    c->raw_clean = true;
    c->sig_len = 0;
    return 0;
oom:
    fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    return -1;
}

/* ---- the fast path ---------------------------------------------------- */

static int grow_to(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need)
        nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = nc;
    return 0;
}

static int names_add(names *n, const char *s, size_t len)
{
    for (size_t i = 0; i < n->n; i++)
        if (n->len[i] == len && !memcmp(n->v[i], s, len))
            return 0;
    const char **v = realloc(n->v, (n->n + 1) * sizeof *v);
    if (!v)
        return -1;
    n->v = v;
    size_t *l = realloc(n->len, (n->n + 1) * sizeof *l);
    if (!l)
        return -1;
    n->len = l;
    if (!(n->v[n->n] = strndup(s, len)))
        return -1;
    n->len[n->n++] = len;
    return 0;
}

static void names_free(names *n)
{
    for (size_t i = 0; i < n->n; i++)
        free((char *)n->v[i]);
    free(n->v);
    free(n->len);
    memset(n, 0, sizeof *n);
}

static bool names_has(const names *n, const char *s, size_t len)
{
    for (size_t i = 0; i < n->n; i++)
        if (n->len[i] == len && !memcmp(n->v[i], s, len))
            return true;
    return false;
}

/* The first component of every path in fields, read as se_proj_compile reads
 * them (blanks around commas ignored, empty components skipped). */
static int add_heads(names *n, const char *fields)
{
    for (const char *p = fields; p && *p;) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        while (a < b && *a == '.')
            a++;
        const char *h = a;
        while (h < b && *h != '.')
            h++;
        if (h > a && names_add(n, a, (size_t)(h - a)) != 0)
            return -1;
        p = *e ? e + 1 : e;
    }
    return 0;
}

static int add_list(names *n, const char *const *v)
{
    for (; *v; v++)
        if (names_add(n, *v, strlen(*v)) != 0)
            return -1;
    return 0;
}

/* Decides what the fast path may do for this job.  -1 on out of memory. */
static int fast_setup(ctx *c)
{
    const se_job *job = c->job;
    static const char *const frag_base[] = {
        "identityMap", "_acp_system_metadata", "extSourceSystemAudit", "xdm:extSourceSystemAudit", NULL };
    static const char *const event_base[] = { "identityMap", "timestamp", "_acp_system_metadata", NULL };

    /* Segment evaluation and identity graphs read whole records. */
    /* Segment evaluation reads whole records.  An unchecked pdg group (stitched
     * input is --keyed) is parsed record by record, for its identity count. */
    c->fast = !job->eval_segmentation && (!c->pdg || c->ep->o->keyed);
    if (!c->fast)
        return 0;
    if (!c->proj) {
        c->keep_frag.all = true;
    } else {
        if (add_list(&c->keep_frag, frag_base) != 0 || add_heads(&c->keep_frag, job->fields) != 0)
            return -1;
        if ((job->nsegs > 0 || job->has_sqt) &&
            names_add(&c->keep_frag, "segmentMembership", strlen("segmentMembership")) != 0)
            return -1;
    }
    if (job->has_event_list && !c->evproj) {
        c->keep_event.all = true;
    } else {
        if (add_list(&c->keep_event, event_base) != 0)
            return -1;
        if (job->has_event_list && add_heads(&c->keep_event, job->event_fields) != 0)
            return -1;
    }
    c->rawrow = !c->pdg && !job->has_event_list && job->nsegs == 0 && !job->has_sqt &&
                !job->has_from_ingest && c->js->nbatches == 1 &&
                (!job->policy || job->policy->attr == SE_ATTR_TIMESTAMP_ORDERED) && !c->ep->no_rawrow;
    if (c->rawrow && ((c->proj && add_heads(&c->heads, job->fields) != 0) || !(c->nsc = se_nscount_new())))
        return -1;
    /* An id that JSON must escape ('"', '\\', control characters) cannot be
     * found as raw bytes: no pre-filter then. */
    c->prefilter = job->nsegs > 0 && !c->pdg;
    for (size_t i = 0; i < job->nsegs && c->prefilter; i++) {
        const unsigned char *id = (const unsigned char *)job->segs[i].segment_id;
        if (!id || !*id)
            c->prefilter = false;
        for (; id && *id; id++)
            if (*id < 0x20 || *id == '"' || *id == '\\')
                c->prefilter = false;
    }
    c->defer = c->prefilter || c->rawrow;
    return 0;
}

/* The scanned key "NS:ID" (raw bytes need no escaping, see scan.h). */
static const char *scan_key(ctx *c, const char *data, const se_scan *sc)
{
    if (grow_to(&c->key, &c->key_cap, (size_t)sc->ns_len + sc->id_len + 2) != 0)
        return NULL;
    memcpy(c->key, data + sc->ns_off, sc->ns_len);
    c->key[sc->ns_len] = ':';
    memcpy(c->key + sc->ns_len + 1, data + sc->id_off, sc->id_len);
    c->key[sc->ns_len + 1 + sc->id_len] = '\0';
    return c->key;
}

/* The members of this record the job reads: n_kept of them, *size bytes as
 * an object.  Returns false when that is the whole record. */
static bool reduced_size(const ctx *c, const char *data, const se_scan *sc, size_t *size)
{
    const names *keep = sc->event ? &c->keep_event : &c->keep_frag;
    size_t n = 1, kept = 0;

    if (keep->all || !sc->members_ok)
        return false;
    for (size_t i = 0; i < sc->nmembers; i++) {
        const se_scan_member *m = &sc->members[i];
        if (names_has(keep, data + m->name_off, m->name_len)) {
            n += m->len + 1;
            kept++;
        }
    }
    *size = n + (kept == 0);
    return kept < sc->nmembers;
}

/* Writes that object (same members, same order) to o. */
static void reduced_write(const ctx *c, const char *data, const se_scan *sc, char *o)
{
    const names *keep = sc->event ? &c->keep_event : &c->keep_frag;
    char *start = o;

    *o++ = '{';
    for (size_t i = 0; i < sc->nmembers; i++) {
        const se_scan_member *m = &sc->members[i];
        if (!names_has(keep, data + m->name_off, m->name_len))
            continue;
        if (o > start + 1)
            *o++ = ',';
        memcpy(o, data + m->off, m->len);
        o += m->len;
    }
    *o = '}';
}

/* False when this record cannot make its profile qualify: it is an event, or
 * no segmentMembership member holds a wanted id's bytes or a backslash. */
static bool may_qualify(const ctx *c, const char *data, const se_scan *sc)
{
    if (sc->event)
        return false;
    if (!sc->members_ok)
        return true;
    for (size_t i = 0; i < sc->nmembers; i++) {
        const se_scan_member *m = &sc->members[i];
        if (m->name_len != 17 || memcmp(data + m->name_off, "segmentMembership", 17) != 0)
            continue;
        const char *v = data + m->off;
        if (memchr(v, '\\', m->len))
            return true;
        for (size_t j = 0; j < c->job->nsegs; j++)
            if (se_find_bytes(v, m->len, c->job->segs[j].segment_id, strlen(c->job->segs[j].segment_id)))
                return true;
    }
    return false;
}

/* pdg: false once the group holds more than 50 identities (then it is left
 * out, and nothing more of it is kept). */
static bool guard_keep(ctx *c, const se_record *rec)
{
    json_object *idmap = NULL;
    return !c->pdg || !json_object_object_get_ex(rec->obj, "identityMap", &idmap) ||
           se_idguard_add(&c->guard, idmap);
}

/* Parses a text the pre-parse was sure of and adds it to the profile. */
static int parse_add(ctx *c, const char *text, size_t len, uint64_t seq)
{
    se_record rec;
    char err[512];
    if (se_record_parse(c->rp, text, len, &rec, err, sizeof err) != 0) {
        /* Only out of memory can get here: the text was checked. */
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s", err);
        return -1;
    }
    rec.seq = seq;
    if (!guard_keep(c, &rec)) {
        se_record_clear(&rec);
        return 0;
    }
    if (se_profile_add(&c->prof, &rec) != 0) {
        se_record_clear(&rec);
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return -1;
    }
    return 0;
}

static int stash(ctx *c, const char *text, size_t len, uint64_t seq)
{
    if (c->npend == c->cap_pend) {
        size_t nc = c->cap_pend ? 2 * c->cap_pend : 16;
        struct pend_rec *np = realloc(c->pend_recs, nc * sizeof *np);
        if (!np)
            goto oom;
        c->pend_recs = np;
        c->cap_pend = nc;
    }
    c->pend_recs[c->npend++] = (struct pend_rec){ text, 0, len, seq };
    return 0;
oom:
    fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    return -1;
}

/* Copies the waiting texts that still point into the current chunk, which is
 * about to go away.  -1 on out of memory. */
static int pend_own(ctx *c)
{
    for (size_t i = 0; i < c->npend; i++) {
        struct pend_rec *r = &c->pend_recs[i];
        if (!r->ptr)
            continue;
        if (grow_to(&c->pend, &c->pend_cap, c->pend_len + r->len) != 0) {
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
            return -1;
        }
        memcpy(c->pend + c->pend_len, r->ptr, r->len);
        r->off = c->pend_len;
        r->ptr = NULL;
        c->pend_len += r->len;
    }
    return 0;
}

/* The current group may qualify: parse what waited, then parse as it comes. */
static int go_live(ctx *c)
{
    c->group_live = true;
    for (size_t i = 0; i < c->npend; i++)
        if (parse_add(c, c->pend_recs[i].ptr ? c->pend_recs[i].ptr : c->pend + c->pend_recs[i].off,
                      c->pend_recs[i].len, c->pend_recs[i].seq) != 0)
            return -1;
    c->npend = 0;
    c->pend_len = 0;
    return 0;
}

enum { PL_SURE = 1, PL_EVENT = 2, PL_MAYQ = 4, PL_WHOLE = 8, PL_RAW = 16, PL_HEADS = 32,
       PL_NSALL = 64, PL_SKIP = 128, PL_QKEY = 256 };

/* The record bytes of a line (after the key and TAB with --keyed); NULL when
 * a keyed line has no TAB. */
static const char *record_of(const ctx *c, const char *line, size_t len, size_t *rlen)
{
    if (!c->ep->o->keyed) {
        *rlen = len;
        return line;
    }
    const char *tab = memchr(line, '\t', len);
    if (!tab)
        return NULL;
    *rlen = len - (size_t)(tab + 1 - line);
    return tab + 1;
}

/* The pipeline's prep, on either thread: pre-parses every line of the chunk
 * (reads c, writes only the chunk). */
static int prep_lines(const ctx *c, se_chunk *ch, se_tape *tp, char **row, size_t *row_cap);

static int prep_chunk(void *ud, se_chunk *ch)
{
    const ctx *c = ud;
    se_tape tp;
    char *row = NULL;
    size_t row_cap = 0;
    if (!c->fast)
        return 0;
    /* Per call: prep may run on either thread. */
    se_tape_init(&tp);
    int rc = prep_lines(c, ch, &tp, &row, &row_cap);
    se_tape_free(&tp);
    free(row);
    return rc;
}

static int prep_lines(const ctx *c, se_chunk *ch, se_tape *tp, char **row, size_t *row_cap)
{
    se_scan sc;
    for (size_t i = 0; i < ch->nlines; i++) {
        se_pline *pl = &ch->lines[i];
        size_t len, size;
        if (pl->too_long)
            continue;
        const char *line = ch->data + pl->off;
        const char *data = record_of(c, line, pl->len, &len);
        if (!data)
            continue;
        if (c->ep->o->shard) {
            /* Decided from the key alone (shardkey.h): another shard's record
             * is neither parsed nor validated here; its owner does that. */
            uint64_t qh;
            bool q = c->ep->o->keyed ? data > line + 1 : se_shardkey_hash(data, len, &qh);
            if (q && c->ep->o->keyed)
                qh = se_fnv1a64(line, (size_t)(data - 1 - line));
            if (q && qh % c->ep->o->shard_n != c->ep->o->shard_k) {
                pl->flags = PL_SKIP;
                continue;
            }
            pl->flags = q ? PL_QKEY : 0;
        }
        if (!se_scan_record(data, len, &sc))
            continue;
        pl->flags |= PL_SURE | (sc.event ? PL_EVENT : 0);
        if (!c->ep->o->keyed) {
            /* se_fnv1a64 of the key NS ":" ID, here on either thread. */
            uint64_t h = 14695981039346656037ULL;
            for (uint32_t k = 0; k < sc.ns_len; k++)
                h = (h ^ (unsigned char)data[sc.ns_off + k]) * 1099511628211ULL;
            h = (h ^ (unsigned char)':') * 1099511628211ULL;
            for (uint32_t k = 0; k < sc.id_len; k++)
                h = (h ^ (unsigned char)data[sc.id_off + k]) * 1099511628211ULL;
            pl->h = h;
        } else {
            pl->h = se_fnv1a64(line, (size_t)(data - 1 - line));
        }
        /* --shard: another shard's record, sure to be good, costs this scan
         * only (docs/performance.md); it is counted and dropped. */
        if (c->ep->o->shard && pl->h % c->ep->o->shard_n != c->ep->o->shard_k) {
            pl->flags |= PL_SKIP;
            continue;
        }
        pl->a = sc.ns_off;
        pl->b = sc.ns_len;
        pl->c = sc.id_off;
        pl->d = sc.id_len;
        if (c->prefilter && may_qualify(c, data, &sc))
            pl->flags |= PL_MAYQ;
        /* Seldom parsed at all: parsed whole if ever (the same profile and
         * row: the job reads only the members the reduced text keeps). */
        if (c->prefilter && !(pl->flags & PL_MAYQ)) {
            pl->flags |= PL_WHOLE;
            continue;
        }
        /* A projection's rows need every member's name (PL_HEADS). */
        if (c->rawrow && !sc.event && (!c->proj || sc.members_ok)) {
            /* The row of a profile of this fragment alone, from its tape. */
            size_t rl = 0, sl;
            bool all;
            int r = se_tape_parse(tp, data, len);
            if (r == SE_TAPE_NOMEM)
                return -1;
            r = r == SE_TAPE_OK ? se_proj_tape_row(c->proj, tp, row, &rl, row_cap) : 0;
            if (r < 0)
                return -1;
            char *o = r ? se_chunk_arena(ch, rl + len) : NULL;
            if (r && !o)
                return -1;
            if (r && se_scan_id_namespaces(data, &sc, o + rl, &sl, &all)) {
                memcpy(o, *row, rl);
                pl->flags |= PL_RAW | (all ? PL_NSALL : 0);
                if (!c->proj)
                    pl->flags |= PL_HEADS; /* a whole row: every member */
                for (size_t mi = 0; c->proj && mi < sc.nmembers; mi++)
                    if (names_has(&c->heads, data + sc.members[mi].name_off, sc.members[mi].name_len))
                        pl->flags |= PL_HEADS;
                pl->row_off = (uint32_t)(o - ch->arena);
                pl->row_len = (uint32_t)rl;
                pl->sig_len = (uint32_t)sl;
                ch->arena_len -= len - sl;
            } else if (r) {
                ch->arena_len -= rl + len;
            }
        }
        if (!reduced_size(c, data, &sc, &size)) {
            pl->flags |= PL_WHOLE;
            continue;
        }
        char *o = se_chunk_arena(ch, size);
        if (!o)
            return -1;
        reduced_write(c, data, &sc, o);
        pl->text_off = (uint32_t)(o - ch->arena);
        pl->text_len = (uint32_t)size;
    }
    return 0;
}

/* One line, in input order. */
static void take_line(ctx *c, const se_chunk *ch, const se_pline *pl, uint64_t *seq)
{
    const se_opts *o = c->ep->o;
    /* A chunk holding only too-long lines has no data buffer at all. */
    se_line ln = { .data = ch->data ? ch->data + pl->off : "", .len = pl->len, .name = ch->name,
                   .lineno = pl->lineno, .too_long = pl->too_long };
    se_record rec;
    const char *data, *key;
    size_t len;
    uint64_t rseq;
    char err[512], bm[1024];

    memset(&rec, 0, sizeof rec);
    c->js->input_records++;
    if (pl->flags & PL_SKIP)
        return;
    /* --shard: a bad record belongs to the shard of its quick key (shardkey.h)
     * or, without one, to the shard of its ordinal: reported once over all
     * shards, and merge puts them back in input order. */
    c->not_mine = o->shard && !(pl->flags & PL_QKEY) &&
                  c->js->input_records % o->shard_n != o->shard_k;
    if (ln.too_long) {
        snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                 (unsigned long long)o->max_record_bytes);
        bad_record(c, ln.name, ln.lineno, err);
        return;
    }
    if (!(data = record_of(c, ln.data, ln.len, &len))) {
        bad_record(c, ln.name, ln.lineno, "keyed line without a TAB after the key");
        return;
    }
    if (o->keyed && data == ln.data + 1) {
        /* An empty key: a bad record `key` passed on (keyed.h), reported
         * with its original input name and line. */
        if (se_keyed_bad_read(data, len, bm, sizeof bm))
            bad_record_msg(c, bm);
        else
            bad_record(c, ln.name, ln.lineno, "keyed line with an empty key");
        return;
    }
    if (o->keyed && len > o->max_record_bytes) {
        /* The line may hold the key too; the limit is the record's. */
        snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                 (unsigned long long)o->max_record_bytes);
        bad_record(c, ln.name, ln.lineno, err);
        return;
    }
    /* The pre-parse decided what it is sure of; the rest, bad records
     * included, gets the full parse and its verdict. */
    bool sure = pl->flags & PL_SURE;
    if (sure) {
        rseq = (*seq)++;
        se_scan ks = { .ns_off = pl->a, .ns_len = pl->b, .id_off = pl->c, .id_len = pl->d };
        if (!(key = scan_key(c, data, &ks))) {
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
            return;
        }
    } else {
        /* The facts first: a record another shard takes needs no tree. */
        if (se_record_facts(c->rp, data, len, &rec, err, sizeof err)) {
            bad_record(c, ln.name, ln.lineno, err);
            return;
        }
        rec.seq = rseq = (*seq)++;
        key = rec.key;
    }
    char *given = NULL;
    if (o->keyed) {
        given = strndup(ln.data, (size_t)(data - 1 - ln.data));
        if (!given) {
            se_record_clear(&rec);
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
            return;
        }
        key = given;
    }
    /* The key's hash: from prep for a scanned line. */
    uint64_t h = sure ? pl->h : se_fnv1a64(key, strlen(key));
    if (o->shard && h % o->shard_n != o->shard_k)
        goto out;
    if (!sure && se_record_tree(c->rp, &rec, err, sizeof err) != 0) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: %s", err);
        goto out;
    }
    if (group(c, key, h, &ln) != 0)
        goto out;
    if (!sure) {
        if (!guard_keep(c, &rec))
            goto out; /* the profile is left out: keep nothing more of it */
        if (c->defer && !c->group_live)
            go_live(c);
        if (!c->failed && se_profile_add(&c->prof, &rec))
            fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    } else {
        const char *text = pl->flags & PL_WHOLE ? data : ch->arena + pl->text_off;
        size_t tlen = pl->flags & PL_WHOLE ? len : pl->text_len;
        bool wait = c->defer && !c->group_live;
        if (wait && c->rawrow && !(pl->flags & PL_EVENT)) {
            /* One without a raw row, or a second one with projected
             * names: parse the group. */
            bool heads = pl->flags & PL_HEADS;
            if (!(pl->flags & PL_RAW) || (heads && c->raw_head)) {
                wait = false;
            } else {
                if (grow_to(&c->raw, &c->raw_cap, pl->row_len) != 0 ||
                    grow_to(&c->sig, &c->sig_cap, c->sig_len + 1 + pl->sig_len) != 0) {
                    fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
                    goto out;
                }
                if (c->raw_frags == 0 || heads) {
                    memcpy(c->raw, ch->arena + pl->row_off, pl->row_len);
                    c->raw_len = pl->row_len;
                    c->raw_head = heads;
                }
                if (pl->sig_len) {
                    if (c->sig_len)
                        c->sig[c->sig_len++] = '\n';
                    memcpy(c->sig + c->sig_len, ch->arena + pl->row_off + pl->row_len, pl->sig_len);
                    c->sig_len += pl->sig_len;
                }
                c->raw_clean = c->raw_clean && (pl->flags & PL_NSALL);
                c->raw_frags++;
            }
        } else if (wait && c->prefilter && (pl->flags & PL_MAYQ)) {
            wait = false;
        }
        if (wait)
            stash(c, text, tlen, rseq);
        else if (!(c->defer && !c->group_live && go_live(c) != 0))
            parse_add(c, text, tlen, rseq);
    }
out:
    free(given);
    se_record_clear(&rec);
}

/* Progress goes to the caller's callback once a chunk (about 1 MiB), so it
 * costs nothing per record; the caller rate-limits and draws. */
static void progress(ctx *c, const se_chunk *ch, se_prog_phase phase, size_t batch)
{
    se_export_progress p = {
        .phase = phase, .in_bytes = ch ? ch->in_pos : c->in_bytes,
        .records = c->js->input_records, .profiles = c->js->profiles, .rows = c->js->exported,
        .batch = batch, .nbatches = c->nbatches,
    };
    c->in_bytes = p.in_bytes;
    if (c->ep->on_progress)
        c->ep->on_progress(c->ep->progress_ud, &p);
}

static void read_all(ctx *c)
{
    const se_opts *o = c->ep->o;
    se_rparser *rp = se_rparser_new();
    se_pipe *pipe = NULL;
    uint64_t seq = 0;

    c->rp = rp;
    /* --keyed: a line is KEY<TAB>RECORD; the limit is RECORD's (take_line). */
    size_t maxline = (size_t)o->max_record_bytes + (o->keyed ? KEY_SLACK : 0);
    if (!rp || !(pipe = se_pipe_start(c->ep->inputs, c->ep->ninputs, maxline,
                                      prep_chunk, NULL, c))) {
        fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        goto out;
    }
    while (!c->failed) {
        if (pend_own(c) != 0)
            break;
        se_chunk *ch = se_pipe_next(pipe);
        if (ch->status < 0) {
            fail(c, SE_EC_INPUT_READ, "Error reading input: %s", ch->err);
            break;
        }
        if (ch->status == 0) {
            finish_profile(c);
            progress(c, ch, SE_PROG_READ, 0);
            break;
        }
        progress(c, ch, SE_PROG_READ, 0);
        for (size_t i = 0; i < ch->nlines && !c->failed; i++) {
            if (c->ep->cancel && *c->ep->cancel) {
                fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
                break;
            }
            take_line(c, ch, &ch->lines[i], &seq);
        }
    }
out:
    c->rp = NULL;
    se_pipe_free(pipe);
    se_rparser_free(rp);
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
    for (size_t i = 0; i < c->nbatches && !c->failed; i++) {
        progress(c, NULL, SE_PROG_WRITE, i);
        if (se_batch_finish(c->batches[i], err, sizeof err))
            fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    }
    if (!c->failed)
        progress(c, NULL, SE_PROG_COMMIT, 0);
    /* Past this point a cancellation is either seen here or too late: the
     * worker's forced cancel must not run while archives go into place. */
    if (c->ep->committing)
        *c->ep->committing = 1;
    if (c->ep->cancel && *c->ep->cancel)
        fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
    /* Commit only when every archive is complete: all or nothing. */
    for (size_t i = 0; i < c->nbatches && !c->failed; i++)
        if (se_batch_commit(c->batches[i], err, sizeof err))
            fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    /* A later batch failed to commit: take back the ones already in place
     * (only those this job renamed there), so a failed job leaves none. */
    for (size_t i = 0; i < c->nbatches && c->failed; i++)
        if (se_batch_rollback(c->batches[i], err, sizeof err) && c->ep->on_warning)
            c->ep->on_warning(c->ep->warning_ud, err);
    for (size_t i = 0; i < c->nbatches && !c->failed && c->ep->on_progress; i++) {
        se_export_progress p = { .phase = SE_PROG_ARCHIVE, .batch = i, .nbatches = c->nbatches,
                                 .path = se_batch_final_path(c->batches[i]),
                                 .archive_rows = se_batch_records(c->batches[i]) };
        struct stat st;
        if (p.path && stat(p.path, &st) == 0)
            p.archive_bytes = (uint64_t)st.st_size;
        c->ep->on_progress(c->ep->progress_ud, &p);
    }
}

int se_export_execute(const se_export_params *ep, char *why, size_t whylen)
{
    ctx c;
    int rc;

    memset(&c, 0, sizeof c);
    c.ep = ep;
    c.job = ep->job;
    c.js = ep->js;
    c.pdg = c.job->policy && c.job->policy->graph == SE_GRAPH_PDG && !ep->graph_checked;
    se_profile_init(&c.prof);
    c.js->export_start_ms = se_now_ms();

    if (se_proj_compile(c.job->fields, &c.proj) ||
        se_proj_compile(c.job->event_fields, &c.evproj) ||
        !(c.qual = calloc(c.job->nsegs + 1, sizeof *c.qual)) ||
        (!ep->o->keyed && !(c.seen = se_groupcheck_new())) || fast_setup(&c) != 0) {
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
    free(c.evobjs);
    free(c.prev_key);
    names_free(&c.keep_frag);
    names_free(&c.keep_event);
    free(c.pend);
    free(c.pend_recs);
    free(c.key);
    free(c.raw);
    free(c.sig);
    free(c.sig2);
    names_free(&c.heads);
    se_nscount_free(c.nsc);
    c.js->export_end_ms = c.js->update_ms = se_now_ms();
    c.js->finished = true;
    c.js->status = c.failed ? "FAILED" : "SUCCEEDED";
    rc = c.failed ? 1 : 0;
    if (why)
        snprintf(why, whylen, "%s", c.failed ? c.why : "");
    return rc;
}
