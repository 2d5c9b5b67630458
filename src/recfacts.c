/* See recfacts.h.  The rules are record.c's, over the tape: a member is the
 * last of its name (json-c's duplicate rule); "identityMap" and
 * "xdm:identityMap" together are read as the normalization merges them (the
 * unprefixed map's namespaces first, in their order, each followed by the
 * prefixed map's items for it when both are arrays; then the prefixed map's
 * other namespaces). */
#include "recfacts.h"

#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte buffer for unescaped strings. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_set_tok(sbuf *b, const se_tape *tp, uint32_t i)
{
    size_t need = se_tape_tok(tp, i)->len + 1;
    if (need > b->cap) {
        char *np = realloc(b->p, need);
        if (!np)
            return -1;
        b->p = np;
        b->cap = need;
    }
    b->n = se_tape_unescape(tp, i, b->p);
    b->p[b->n] = '\0';
    return 0;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

typedef struct keysearch {
    const se_tape *tp;
    sbuf ns, id;         /* the best so far, unescaped */
    sbuf cns, cid;       /* the candidate */
    bool have, primary, oom;
} keysearch;

/* A member of object o read as json-c would: the last "key", else the last
 * "xdm:key" (record.c's get_either). */
static uint32_t get_either(const se_tape *tp, uint32_t o, const char *key, size_t kn)
{
    char x[32];
    uint32_t v = se_tape_get(tp, o, key, kn);
    if (v || kn + 4 > sizeof x)
        return v;
    memcpy(x, "xdm:", 4);
    memcpy(x + 4, key, kn);
    return se_tape_get(tp, o, x, kn + 4);
}

/* The items (an array) of namespace token nsk, in order. */
static void visit_items(keysearch *ks, uint32_t nsk, uint32_t items)
{
    const se_tape *tp = ks->tp;
    bool ns_read = false;
    SE_TAPE_EACH_ELEM(tp, items, e) {
        if (ks->primary || ks->oom)
            return;
        if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
            continue;
        uint32_t id = get_either(tp, e, "id", 2);
        if (!id || se_tape_tok(tp, id)->kind != SE_TK_STR)
            continue;
        if (sbuf_set_tok(&ks->cid, tp, id) != 0) {
            ks->oom = true;
            return;
        }
        if (ks->cid.n == 0 || memchr(ks->cid.p, '\0', ks->cid.n))
            continue;
        if (!ns_read) {
            if (sbuf_set_tok(&ks->cns, tp, nsk) != 0) {
                ks->oom = true;
                return;
            }
            ns_read = true;
        }
        uint32_t pv = get_either(tp, e, "primary", 7);
        bool is_primary = pv && se_tape_tok(tp, pv)->kind == SE_TK_TRUE;
        int c = ks->have ? cmp_bytes(ks->cns.p, ks->cns.n, ks->ns.p, ks->ns.n) : 0;
        if (is_primary || !ks->have || c < 0 ||
            (c == 0 && cmp_bytes(ks->cid.p, ks->cid.n, ks->id.p, ks->id.n) < 0)) {
            sbuf t = ks->ns;
            ks->ns = ks->cns;
            ks->cns = t;
            t = ks->id;
            ks->id = ks->cid;
            ks->cid = t;
            ks->have = true;
            ns_read = false; /* cns now holds the old best */
        }
        if (is_primary)
            ks->primary = true;
    }
}

/* The value of the member of object o named like key token k (of another
 * object), or 0. */
static uint32_t get_like(keysearch *ks, uint32_t o, uint32_t k)
{
    const se_tape *tp = ks->tp;
    const se_tok *t = se_tape_tok(tp, k);
    if (!(t->flags & SE_TF_ESC))
        return se_tape_get(tp, o, se_tape_raw(tp, k), t->len);
    sbuf b = { 0 };
    uint32_t v = 0;
    if (sbuf_set_tok(&b, tp, k) != 0)
        ks->oom = true;
    else
        v = se_tape_get(tp, o, b.p, b.n);
    free(b.p);
    return v;
}

/* The profile key (record.c's se_identity_key over the normalized map):
 * 1 with *key set, 0 for no identity, -1 out of memory. */
static int tape_key(const se_tape *tp, char **key)
{
    keysearch ks = { .tp = tp };
    uint32_t u = se_tape_get(tp, 0, "identityMap", 11);
    uint32_t p = se_tape_get(tp, 0, "xdm:identityMap", 15);
    int rc = 0;

    if (!u) {
        u = p;
        p = 0;
    }
    if (!u || se_tape_tok(tp, u)->kind != SE_TK_OBJ)
        goto out;
    if (p && se_tape_tok(tp, p)->kind != SE_TK_OBJ)
        p = 0;
    SE_TAPE_EACH_MEMBER(tp, u, k) {
        if (ks.primary || ks.oom)
            break;
        if (!se_tape_first_key(tp, u, k))
            continue;
        uint32_t v = se_tape_last_value(tp, u, k);
        if (se_tape_tok(tp, v)->kind != SE_TK_ARR)
            continue;
        visit_items(&ks, k, v);
        uint32_t pv = p && !ks.primary ? get_like(&ks, p, k) : 0;
        if (pv && se_tape_tok(tp, pv)->kind == SE_TK_ARR)
            visit_items(&ks, k, pv);
    }
    if (p) {
        SE_TAPE_EACH_MEMBER(tp, p, k) {
            if (ks.primary || ks.oom)
                break;
            if (!se_tape_first_key(tp, p, k) || get_like(&ks, u, k))
                continue;
            uint32_t v = se_tape_last_value(tp, p, k);
            if (se_tape_tok(tp, v)->kind == SE_TK_ARR)
                visit_items(&ks, k, v);
        }
    }
    if (ks.oom) {
        rc = -1;
        goto out;
    }
    if (ks.have) {
        if (!(*key = se_key_join(ks.ns.p, ks.ns.n, ks.id.p, ks.id.n))) {
            rc = -1;
            goto out;
        }
        rc = 1;
    }
out:
    free(ks.ns.p);
    free(ks.id.p);
    free(ks.cns.p);
    free(ks.cid.p);
    return rc;
}

/* A string without NUL, unescaped into b: true, else false. */
static bool clean_string(const se_tape *tp, uint32_t v, sbuf *b, bool *oom)
{
    if (!v || se_tape_tok(tp, v)->kind != SE_TK_STR)
        return false;
    if (sbuf_set_tok(b, tp, v) != 0) {
        *oom = true;
        return false;
    }
    return memchr(b->p, '\0', b->n) == NULL;
}

/* Epoch ms from an integer (int64) or an RFC 3339 string. */
static bool get_ms(const se_tape *tp, uint32_t v, int64_t *ms, sbuf *b, bool *oom)
{
    const se_tok *t = se_tape_tok(tp, v);
    if (t->kind == SE_TK_NUM && !(t->flags & SE_TF_DBL)) {
        bool big;
        uint64_t u;
        *ms = se_tape_int(tp, v, &big, &u);
        return !big;
    }
    return clean_string(tp, v, b, oom) && se_time_parse(b->p, ms) == 0;
}

int se_tape_facts(const se_tape *tp, se_record *rec, char *err, size_t errlen)
{
    sbuf b = { 0 };
    bool oom = false;
    int rc = -1;
    uint32_t v;

    int k = tape_key(tp, &rec->key);
    if (k < 0)
        goto nomem;
    if (k == 0) {
        snprintf(err, errlen, "no identity");
        goto out;
    }
    uint32_t meta = se_tape_get(tp, 0, "_acp_system_metadata", 20);
    if (meta && se_tape_tok(tp, meta)->kind == SE_TK_OBJ) {
        if ((v = se_tape_get(tp, meta, "ingestTime", 10))) {
            if (!get_ms(tp, v, &rec->ingest_ms, &b, &oom)) {
                if (oom)
                    goto nomem;
                snprintf(err, errlen, "invalid _acp_system_metadata.ingestTime");
                goto out;
            }
            rec->has_ingest = true;
        }
        if (clean_string(tp, se_tape_get(tp, meta, "datasetId", 9), &b, &oom)) {
            if (!(rec->dataset_id = strdup(b.p)))
                goto nomem;
        } else if (oom) {
            goto nomem;
        }
    }
    if ((v = get_either(tp, 0, "timestamp", 9))) {
        rec->kind = SE_REC_EVENT;
        if (!get_ms(tp, v, &rec->ts_ms, &b, &oom)) {
            if (oom)
                goto nomem;
            snprintf(err, errlen, "invalid timestamp");
            goto out;
        }
        rec->has_ts = true;
    } else {
        rec->kind = SE_REC_PROFILE;
    }
    /* A missing or unreadable update time only loses a merge tie-breaker. */
    uint32_t audit = se_tape_get(tp, 0, "extSourceSystemAudit", 20);
    if (audit && se_tape_tok(tp, audit)->kind == SE_TK_OBJ &&
        clean_string(tp, se_tape_get(tp, audit, "lastUpdatedDate", 15), &b, &oom) &&
        se_time_parse(b.p, &rec->updated_ms) == 0)
        rec->has_updated = true;
    if (oom)
        goto nomem;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    free(b.p);
    return rc;
}
