/* Profile assembly (SPEC §4): the records of one key, merged by a merge policy. */
#include "profile.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

void se_profile_init(se_profile *p)
{
    memset(p, 0, sizeof *p);
}

/* Frees the records and the result but keeps the arrays' capacity, since the
 * next group usually needs about as much. */
static void drop_records(se_profile *p)
{
    for (size_t i = 0; i < p->nfrags; i++)
        se_record_clear(&p->frags[i]);
    for (size_t i = 0; i < p->nevents; i++)
        se_record_clear(&p->events[i]);
    p->nfrags = 0;
    p->nevents = 0;
    json_object_put(p->merged);
    p->merged = NULL;
    p->has_fragment = false;
    p->has_updated = false;
    p->updated_ms = 0;
}

int se_profile_begin(se_profile *p, const char *key)
{
    /* The key buffer is kept for the next group (one allocation a job, not
     * one a profile). */
    if (key) {
        size_t n = strlen(key) + 1;
        if (n > p->key_cap) {
            size_t nc = n < 64 ? 64 : n;
            char *k = realloc(p->key, nc);
            if (!k) {
                errno = ENOMEM;
                return -1;
            }
            p->key = k;
            p->key_cap = nc;
        }
        drop_records(p);
        memcpy(p->key, key, n);
        return 0;
    }
    drop_records(p);
    free(p->key);
    p->key = NULL;
    p->key_cap = 0;
    return 0;
}

static int grow(se_record **arr, size_t *cap, size_t n)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    if (nc > SIZE_MAX / sizeof **arr) {
        errno = ENOMEM;
        return -1;
    }
    se_record *na = realloc(*arr, nc * sizeof *na);
    if (!na) {
        errno = ENOMEM;
        return -1;
    }
    *arr = na;
    *cap = nc;
    return 0;
}

int se_profile_add(se_profile *p, se_record *rec)
{
    if (rec->kind == SE_REC_EVENT) {
        if (grow(&p->events, &p->capevents, p->nevents) != 0)
            return -1;
        memcpy(&p->events[p->nevents++], rec, sizeof *rec);
    } else {
        if (grow(&p->frags, &p->capfrags, p->nfrags) != 0)
            return -1;
        memcpy(&p->frags[p->nfrags++], rec, sizeof *rec);
    }
    memset(rec, 0, sizeof *rec);
    return 0;
}

void se_profile_clear(se_profile *p)
{
    drop_records(p);
    free(p->frags);
    free(p->events);
    free(p->key);
    memset(p, 0, sizeof *p);
}

/* ---- merging ---------------------------------------------------------- */

static bool is_obj(json_object *o)
{
    return o && json_object_get_type(o) == json_type_object;
}

static bool is_arr(json_object *o)
{
    return o && json_object_get_type(o) == json_type_array;
}

static json_object *obj_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (is_obj(o))
        json_object_object_get_ex(o, key, &v);
    return v;
}

/* A value for the result.  Containers are deep-copied because later merges
 * mutate the result in place and must never reach into a record's objects;
 * scalars are immutable, so sharing them is safe.  JSON null gives NULL. */
static int dup_value(json_object *v, json_object **out)
{
    *out = NULL;
    if (!v)
        return 0;
    json_type t = json_object_get_type(v);
    if (t == json_type_object || t == json_type_array)
        return json_object_deep_copy(v, out, NULL) == 0 ? 0 : -1;
    *out = json_object_get(v);
    return 0;
}

/* Sets dst[key] to a copy of v (in place when the key exists: json-c keeps the
 * entry's position, which gives first-appearance key order). */
static int put_copy(json_object *dst, const char *key, json_object *v)
{
    json_object *c;
    if (dup_value(v, &c) != 0)
        return -1;
    if (json_object_object_add(dst, key, c) != 0) {
        json_object_put(c);
        return -1;
    }
    return 0;
}

/* Identity items are the same when their string ids are equal (the namespace is
 * the array they sit in); items without a string id only when identical. */
static bool same_identity(json_object *a, json_object *b)
{
    json_object *ia = obj_get(a, "id"), *ib = obj_get(b, "id");
    bool sa = ia && json_object_get_type(ia) == json_type_string;
    bool sb = ib && json_object_get_type(ib) == json_type_string;
    if (sa && sb)
        return json_object_get_string_len(ia) == json_object_get_string_len(ib) &&
               memcmp(json_object_get_string(ia), json_object_get_string(ib),
                      (size_t)json_object_get_string_len(ia)) == 0;
    if (sa || sb)
        return false;
    return json_object_equal(a, b) != 0;
}

/* Adds src's items to dst: an item already there is replaced where it stands
 * (src is the higher priority), a new one is appended. */
static int union_items(json_object *dst, json_object *src)
{
    size_t ns = json_object_array_length(src);
    for (size_t i = 0; i < ns; i++) {
        json_object *item = json_object_array_get_idx(src, i);
        size_t nd = json_object_array_length(dst), j;
        for (j = 0; j < nd; j++)
            if (same_identity(json_object_array_get_idx(dst, j), item))
                break;
        json_object *c;
        if (dup_value(item, &c) != 0)
            return -1;
        int rc = j < nd ? json_object_array_put_idx(dst, j, c)
                        : json_object_array_add(dst, c);
        if (rc != 0) {
            json_object_put(c);
            return -1;
        }
    }
    return 0;
}

/* Merges identityMap src (newer / higher priority) into dst, both objects. */
static int merge_identity_map(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, ns, items) {
        json_object *old = NULL;
        bool have = json_object_object_get_ex(dst, ns, &old);
        if (have && !items)
            continue; /* null never overrides */
        if (is_arr(items) && (!have || !old || is_arr(old))) {
            if (!is_arr(old)) {
                /* A fresh array filled through union_items, so duplicates
                 * inside one fragment are folded too. */
                old = json_object_new_array();
                if (!old)
                    return -1;
                if (json_object_object_add(dst, ns, old) != 0) {
                    json_object_put(old);
                    return -1;
                }
            }
            if (union_items(old, items) != 0)
                return -1;
            continue;
        }
        /* Not arrays: the general rule, newer value wins. */
        if (put_copy(dst, ns, items) != 0)
            return -1;
    }
    return 0;
}

/* lastQualificationTime of a membership entry: RFC 3339 string or epoch ms. */
static bool entry_lqt(json_object *e, int64_t *ms)
{
    json_object *t = obj_get(e, "lastQualificationTime");
    if (!t)
        return false;
    return se_time_from_json(t, ms) == 0;
}

/* True when entry ne (from the higher-priority fragment) beats oe: a later
 * qualification time, or the same (both absent included). */
static bool entry_wins(json_object *ne, json_object *oe)
{
    int64_t tn = 0, to = 0;
    bool hn = entry_lqt(ne, &tn), ho = entry_lqt(oe, &to);
    if (hn != ho)
        return hn;
    return !hn || tn >= to;
}

/* Merges segmentMembership src into dst, both objects: per (ns, segmentId) the
 * latest entry wins as a whole. */
static int merge_membership(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, ns, segs) {
        json_object *old = NULL;
        bool have = json_object_object_get_ex(dst, ns, &old);
        if (have && !segs)
            continue;
        if (!have || !is_obj(old) || !is_obj(segs)) {
            if (put_copy(dst, ns, segs) != 0)
                return -1;
            continue;
        }
        json_object_object_foreach(segs, sid, ne) {
            json_object *oe = NULL;
            bool had = json_object_object_get_ex(old, sid, &oe);
            if (had && !ne)
                continue;
            if (!had || !oe || entry_wins(ne, oe)) {
                if (put_copy(old, sid, ne) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* Merges object src (newer) into dst.  top selects the special handling of the
 * top-level identityMap and segmentMembership. */
static int merge_object(json_object *dst, json_object *src, bool top)
{
    json_object_object_foreach(src, key, nv) {
        json_object *ov = NULL;
        bool have = json_object_object_get_ex(dst, key, &ov);
        if (have && !nv)
            continue; /* null never overrides */
        if (top && is_obj(nv) && (!have || !ov || is_obj(ov))) {
            int special = strcmp(key, "identityMap") == 0 ? 1
                        : strcmp(key, "segmentMembership") == 0 ? 2 : 0;
            if (special) {
                if (!ov) {
                    /* Start empty and merge, so the special rules also apply
                     * inside the first fragment. */
                    ov = json_object_new_object();
                    if (!ov)
                        return -1;
                    if (json_object_object_add(dst, key, ov) != 0) {
                        json_object_put(ov);
                        return -1;
                    }
                }
                int rc = special == 1 ? merge_identity_map(ov, nv)
                                      : merge_membership(ov, nv);
                if (rc != 0)
                    return -1;
                continue;
            }
        }
        if (have && is_obj(ov) && is_obj(nv)) {
            if (merge_object(ov, nv, false) != 0)
                return -1;
            continue;
        }
        if (put_copy(dst, key, nv) != 0)
            return -1;
    }
    return 0;
}

/* merge_object(dst, src, true) for an empty dst, sharing src's values. */
static int single(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, key, v) {
        if (is_obj(v) && strcmp(key, "identityMap") == 0) {
            json_object *m = json_object_new_object();
            if (!m)
                return -1;
            if (json_object_object_add(dst, key, m) != 0) {
                json_object_put(m);
                return -1;
            }
            if (merge_identity_map(m, v) != 0)
                return -1;
            continue;
        }
        json_object *c = json_object_get(v);
        if (json_object_object_add(dst, key, c) != 0) {
            json_object_put(c);
            return -1;
        }
    }
    return 0;
}

/* ---- ordering --------------------------------------------------------- */

typedef struct frag_ref {
    const se_record *r;
    se_frag_order o;
} frag_ref;

int se_frag_order_cmp(const se_frag_order *a, const se_frag_order *b)
{
    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    if (a->has_t != b->has_t)
        return a->has_t ? 1 : -1;
    if (a->has_t && a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

static int cmp_frag(const void *pa, const void *pb)
{
    return se_frag_order_cmp(&((const frag_ref *)pa)->o, &((const frag_ref *)pb)->o);
}

static int cmp_event(const void *pa, const void *pb)
{
    const se_record *a = pa, *b = pb;
    if (a->has_ts != b->has_ts)
        return a->has_ts ? 1 : -1;
    if (a->has_ts && a->ts_ms != b->ts_ms)
        return a->ts_ms < b->ts_ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

bool se_frag_order_of(const se_mpolicy *pol, const se_record *r, se_frag_order *o)
{
    *o = (se_frag_order){ .seq = r->seq };
    if (pol && pol->attr == SE_ATTR_DATASET_PRECEDENCE) {
        size_t i = 0;
        for (; r->dataset_id && i < pol->norder; i++)
            if (pol->order[i] && strcmp(pol->order[i], r->dataset_id) == 0)
                break;
        if (!r->dataset_id || i == pol->norder)
            return false;
        o->rank = i;
    }
    if (r->has_updated) {
        o->has_t = true;
        o->t = r->updated_ms;
    } else if (r->has_ingest) {
        o->has_t = true;
        o->t = r->ingest_ms;
    }
    return true;
}

static void note_updated(se_profile *p, const se_record *r)
{
    if (!r->has_ingest)
        return;
    if (!p->has_updated || r->ingest_ms > p->updated_ms) {
        p->has_updated = true;
        p->updated_ms = r->ingest_ms;
    }
}

/* {"identityMap": union of the events' identityMaps, input order}. */
static json_object *events_only(const se_profile *p)
{
    json_object *res = json_object_new_object();
    json_object *map = json_object_new_object();

    if (!res || !map)
        goto fail;
    for (size_t i = 0; i < p->nevents; i++) {
        json_object *m = obj_get(p->events[i].obj, "identityMap");
        if (is_obj(m) && merge_identity_map(map, m) != 0)
            goto fail;
    }
    if (json_object_object_add(res, "identityMap", map) != 0)
        goto fail;
    return res;
fail:
    json_object_put(map);
    json_object_put(res);
    return NULL;
}

int se_profile_assemble(se_profile *p, const se_mpolicy *pol)
{
    int rc = -1;
    frag_ref *refs = NULL;
    json_object *res = NULL;
    size_t n = 0;

    json_object_put(p->merged);
    p->merged = NULL;
    p->has_fragment = false;
    p->has_updated = false;
    p->updated_ms = 0;

    if (p->nfrags) {
        refs = malloc(p->nfrags * sizeof *refs);
        if (!refs)
            goto out;
    }
    for (size_t i = 0; i < p->nfrags; i++) {
        const se_record *r = &p->frags[i];
        frag_ref f = { .r = r };
        if (!se_frag_order_of(pol, r, &f.o))
            continue;
        refs[n++] = f;
        note_updated(p, r);
    }
    for (size_t i = 0; i < p->nevents; i++)
        note_updated(p, &p->events[i]);

    if (n == 1 && is_obj(refs[0].r->obj)) {
        /* One fragment: the merge of it alone is the fragment, but for its
         * identityMap's duplicate items, which merge_identity_map folds.
         * Everything else is shared, not copied: no later merge mutates
         * the result, and the record outlives it (both go with the group). */
        res = json_object_new_object();
        if (!res || single(res, refs[0].r->obj) != 0)
            goto out;
    } else if (n) {
        qsort(refs, n, sizeof *refs, cmp_frag);
        res = json_object_new_object();
        if (!res)
            goto out;
        for (size_t i = 0; i < n; i++) {
            if (is_obj(refs[i].r->obj) && merge_object(res, refs[i].r->obj, true) != 0)
                goto out;
        }
    } else {
        /* Before the events are sorted: the union follows input order. */
        res = events_only(p);
        if (!res)
            goto out;
    }

    if (p->nevents > 1)
        qsort(p->events, p->nevents, sizeof *p->events, cmp_event);

    p->merged = res;
    res = NULL;
    p->has_fragment = n > 0;
    rc = 0;
out:
    if (rc != 0) {
        errno = ENOMEM;
        p->has_updated = false;
        p->updated_ms = 0;
    }
    json_object_put(res);
    free(refs);
    return rc;
}
