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

/* A byte buffer for unescaped strings: short ones stay in `in`. */
typedef struct sbuf {
    char *p;        /* in or heap */
    size_t n;
    char *heap;     /* owned; free with sbuf_free */
    size_t cap;     /* heap's size */
    char in[64];
} sbuf;

static int sbuf_set_tok(sbuf *b, const se_tape *tp, uint32_t i)
{
    size_t need = se_tape_tok(tp, i)->len + 1;
    if (need <= sizeof b->in) {
        b->p = b->in;
    } else {
        if (need > b->cap) {
            char *np = realloc(b->heap, need);
            if (!np)
                return -1;
            b->heap = np;
            b->cap = need;
        }
        b->p = b->heap;
    }
    b->n = se_tape_unescape(tp, i, b->p);
    b->p[b->n] = '\0';
    return 0;
}

static void sbuf_free(sbuf *b)
{
    free(b->heap);
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
    uint32_t ns, id;     /* the best so far: its namespace key and id tokens */
    bool have, primary, oom;
} keysearch;

/* A member of object o read as json-c would: the last "key", else the last
 * "xdm:key" (record.c's se_json_get_either). */
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

static bool raw_is(const se_tape *tp, uint32_t k, const char *s, size_t n)
{
    return !memcmp(tp->s + tp->t[k].off, s, n); /* n constant: inlined */
}

static bool word_nul(uint64_t v)
{
    return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
}

/* Whether p[0..n) holds a NUL byte: memchr's answer, inline for the short
 * strings here (eight bytes at a time, the last word overlapping). */
static bool has_nul(const char *p, size_t n)
{
    uint64_t v;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (p[i] == '\0')
                return true;
        return false;
    }
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&v, p + i, 8);
        if (word_nul(v))
            return true;
    }
    memcpy(&v, p + n - 8, 8);
    return word_nul(v);
}

/* An item's id and primary members, as get_either reads them, in one pass
 * over its members when no key has an escape. */
static void item_members(const se_tape *tp, uint32_t e, uint32_t *id, uint32_t *pv)
{
    uint32_t i = 0, xi = 0, p = 0, xp = 0;
    SE_TAPE_EACH_MEMBER(tp, e, k) {
        const se_tok *t = &tp->t[k];
        if (t->flags & SE_TF_ESC) {
            *id = get_either(tp, e, "id", 2);
            *pv = get_either(tp, e, "primary", 7);
            return;
        }
        switch (t->len) {
        case 2: if (raw_is(tp, k, "id", 2)) i = k + 1; break;
        case 6: if (raw_is(tp, k, "xdm:id", 6)) xi = k + 1; break;
        case 7: if (raw_is(tp, k, "primary", 7)) p = k + 1; break;
        case 11: if (raw_is(tp, k, "xdm:primary", 11)) xp = k + 1; break;
        }
    }
    *id = i ? i : xi;
    *pv = p ? p : xp;
}

/* Compares strings a and b (tokens) by their unescaped bytes, like
 * cmp_bytes; *oom on out of memory. */
static int tok_cmp(const se_tape *tp, uint32_t a, uint32_t b, bool *oom)
{
    const se_tok *ta = &tp->t[a], *tb = &tp->t[b];
    if (!((ta->flags | tb->flags) & SE_TF_ESC))
        return cmp_bytes(tp->s + ta->off, ta->len, tp->s + tb->off, tb->len);
    char *x = malloc(ta->len + 1), *y = malloc(tb->len + 1);
    int c = 0;
    if (!x || !y)
        *oom = true;
    else
        c = cmp_bytes(x, se_tape_unescape(tp, a, x), y, se_tape_unescape(tp, b, y));
    free(x);
    free(y);
    return c;
}

/* Whether string token i, unescaped, is non-empty and free of NUL. */
static bool good_id(const se_tape *tp, uint32_t i, bool *oom)
{
    const se_tok *t = &tp->t[i];
    if (!(t->flags & SE_TF_ESC))
        return t->len > 0 && !memchr(tp->s + t->off, '\0', t->len); /* ids run long */
    char *x = malloc(t->len + 1);
    if (!x) {
        *oom = true;
        return false;
    }
    size_t n = se_tape_unescape(tp, i, x);
    bool ok = n > 0 && !memchr(x, '\0', n);
    free(x);
    return ok;
}

/* The items (an array) of namespace token nsk, in order. */
static void visit_items(keysearch *ks, uint32_t nsk, uint32_t items)
{
    const se_tape *tp = ks->tp;
    SE_TAPE_EACH_ELEM(tp, items, e) {
        if (ks->primary || ks->oom)
            return;
        if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
            continue;
        uint32_t id, pv;
        item_members(tp, e, &id, &pv);
        if (!id || se_tape_tok(tp, id)->kind != SE_TK_STR || !good_id(tp, id, &ks->oom))
            continue;
        bool is_primary = pv && se_tape_tok(tp, pv)->kind == SE_TK_TRUE;
        int c = ks->have ? tok_cmp(tp, nsk, ks->ns, &ks->oom) : 0;
        if (is_primary || !ks->have || c < 0 || (c == 0 && tok_cmp(tp, id, ks->id, &ks->oom) < 0)) {
            ks->ns = nsk;
            ks->id = id;
            ks->have = true;
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
    sbuf_free(&b);
    return v;
}

/* The top-level members the facts read (each the last of its name). */
typedef struct tops {
    uint32_t idmap, xidmap, meta, ts, xts, audit, segm;
} tops;

static void find_tops(const se_tape *tp, tops *t)
{
    memset(t, 0, sizeof *t);
    SE_TAPE_EACH_MEMBER(tp, 0, k) {
        const se_tok *kt = &tp->t[k];
        if (kt->flags & SE_TF_ESC) {
            /* An escape could spell any of them: ask by name. */
            t->idmap = se_tape_get(tp, 0, "identityMap", 11);
            t->xidmap = se_tape_get(tp, 0, "xdm:identityMap", 15);
            t->meta = se_tape_get(tp, 0, "_acp_system_metadata", 20);
            t->ts = se_tape_get(tp, 0, "timestamp", 9);
            t->xts = se_tape_get(tp, 0, "xdm:timestamp", 13);
            t->audit = se_tape_get(tp, 0, "extSourceSystemAudit", 20);
            t->segm = SE_SEGM_UNSURE;
            return;
        }
        switch (kt->len) {
        case 9: if (raw_is(tp, k, "timestamp", 9)) t->ts = k + 1; break;
        case 11: if (raw_is(tp, k, "identityMap", 11)) t->idmap = k + 1; break;
        case 13: if (raw_is(tp, k, "xdm:timestamp", 13)) t->xts = k + 1; break;
        case 15: if (raw_is(tp, k, "xdm:identityMap", 15)) t->xidmap = k + 1; break;
        case 17: if (raw_is(tp, k, "segmentMembership", 17) && t->segm != SE_SEGM_UNSURE) t->segm = k + 1; break;
        case 21: if (raw_is(tp, k, "xdm:segmentMembership", 21)) t->segm = SE_SEGM_UNSURE; break;
        case 20:
            if (raw_is(tp, k, "_acp_system_metadata", 20))
                t->meta = k + 1;
            else if (raw_is(tp, k, "extSourceSystemAudit", 20))
                t->audit = k + 1;
            break;
        }
    }
}

/* Whether object o's keys are distinct and free of escapes, for a small o:
 * then every key is the first of its name and its own value is json-c's,
 * so the first_key / last_value scans (quadratic) can be skipped.  False
 * means "not sure": the caller scans. */
static bool uniq_keys(const se_tape *tp, uint32_t o)
{
    uint32_t seen[16];
    size_t n = 0;
    SE_TAPE_EACH_MEMBER(tp, o, k) {
        const se_tok *t = &tp->t[k];
        if ((t->flags & SE_TF_ESC) || n == sizeof seen / sizeof *seen)
            return false;
        for (size_t j = 0; j < n; j++) {
            const se_tok *u = &tp->t[seen[j]];
            if (u->len == t->len && !memcmp(tp->s + u->off, tp->s + t->off, t->len))
                return false;
        }
        seen[n++] = k;
    }
    return true;
}

/* The profile key (record.c's se_identity_key over the normalized map):
 * 1 with *key set (se_key_join_room's, with room bytes spare; *len its
 * length), 0 for no identity, -1 out of memory. */
static int tape_key(const se_tape *tp, const tops *tt, se_keyspace *space, size_t room, char **key,
                    size_t *len, bool *borrowed)
{
    keysearch ks = { .tp = tp };
    uint32_t u = tt->idmap, p = tt->xidmap;

    if (!u) {
        u = p;
        p = 0;
    }
    if (!u || se_tape_tok(tp, u)->kind != SE_TK_OBJ)
        return 0;
    if (p && se_tape_tok(tp, p)->kind != SE_TK_OBJ)
        p = 0;
    bool uniq = uniq_keys(tp, u);
    SE_TAPE_EACH_MEMBER(tp, u, k) {
        if (ks.primary || ks.oom)
            break;
        if (!uniq && !se_tape_first_key(tp, u, k))
            continue;
        uint32_t v = uniq ? k + 1 : se_tape_last_value(tp, u, k);
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
    if (ks.oom)
        return -1;
    if (!ks.have)
        return 0;
    const se_tok *tn = &tp->t[ks.ns], *ti = &tp->t[ks.id];
    if (!((tn->flags | ti->flags) & SE_TF_ESC)) {
        *key = se_key_join_room(space, tp->s + tn->off, tn->len, tp->s + ti->off, ti->len, room, len,
                                borrowed);
        return *key ? 1 : -1;
    }
    sbuf a = { 0 }, b = { 0 };
    int rc = -1;
    if (sbuf_set_tok(&a, tp, ks.ns) == 0 && sbuf_set_tok(&b, tp, ks.id) == 0 &&
        (*key = se_key_join_room(space, a.p, a.n, b.p, b.n, room, len, borrowed)))
        rc = 1;
    sbuf_free(&a);
    sbuf_free(&b);
    return rc;
}

/* Epoch ms from string token v (se_time_parse_n, which never accepts a NUL:
 * json-c's reader refused such strings too), unescaped into b only when it
 * has an escape. */
static bool str_ms(const se_tape *tp, uint32_t v, int64_t *ms, sbuf *b, bool *oom)
{
    const se_tok *t = se_tape_tok(tp, v);
    if (!v || t->kind != SE_TK_STR)
        return false;
    if (!(t->flags & SE_TF_ESC))
        return se_time_parse_n(tp->s + t->off, t->len, ms) == 0;
    if (sbuf_set_tok(b, tp, v) != 0) {
        *oom = true;
        return false;
    }
    return se_time_parse_n(b->p, b->n, ms) == 0;
}

/* The value of n <= 18 ASCII digits (the tape checked them: an integer
 * token without a sign), eight at a time where the byte order allows. */
static int64_t small_int(const char *s, size_t n)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        w -= 0x3030303030303030ULL;
        w = w * 10 + (w >> 8); /* pairs */
        w = ((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
             ((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >> 32;
        v = v * 100000000 + w;
    }
#endif
    for (; n > 0; s++, n--)
        v = v * 10 + (uint64_t)(*s - '0');
    return (int64_t)v;
}

/* Epoch ms from an integer (int64) or an RFC 3339 string. */
static bool get_ms(const se_tape *tp, uint32_t v, int64_t *ms, sbuf *b, bool *oom)
{
    const se_tok *t = se_tape_tok(tp, v);
    if (t->kind == SE_TK_NUM && !(t->flags & SE_TF_DBL)) {
        const char *s = tp->s + t->off;
        if (t->len <= 18 && s[0] != '-') { /* below 10^18: se_tape_int's, never big */
            *ms = small_int(s, t->len);
            return true;
        }
        bool big;
        uint64_t u;
        *ms = se_tape_int(tp, v, &big, &u);
        return !big;
    }
    return str_ms(tp, v, ms, b, oom);
}

/* String token v, unescaped, as a malloc'd C string in *out when it is one
 * without NUL (else *out stays NULL); -1 out of memory. */
static int dup_string(const se_tape *tp, uint32_t v, char **out, sbuf *b)
{
    const se_tok *t = se_tape_tok(tp, v);
    if (!v || t->kind != SE_TK_STR)
        return 0;
    const char *p = tp->s + t->off;
    size_t n = t->len;
    if (t->flags & SE_TF_ESC) {
        if (sbuf_set_tok(b, tp, v) != 0)
            return -1;
        p = b->p;
        n = b->n;
    }
    if (has_nul(p, n))
        return 0;
    if (!(*out = malloc(n + 1)))
        return -1;
    memcpy(*out, p, n);
    (*out)[n] = '\0';
    return 0;
}

/* The members of _acp_system_metadata object m the facts read (each the
 * last of its name), in one pass when no key has an escape. */
static void meta_members(const se_tape *tp, uint32_t m, uint32_t *ingest, uint32_t *ds)
{
    uint32_t it = 0, d = 0;
    SE_TAPE_EACH_MEMBER(tp, m, k) {
        const se_tok *t = &tp->t[k];
        if (t->flags & SE_TF_ESC) {
            *ingest = se_tape_get(tp, m, "ingestTime", 10);
            *ds = se_tape_get(tp, m, "datasetId", 9);
            return;
        }
        if (t->len == 10 && raw_is(tp, k, "ingestTime", 10))
            it = k + 1;
        else if (t->len == 9 && raw_is(tp, k, "datasetId", 9))
            d = k + 1;
    }
    *ingest = it;
    *ds = d;
}

/* se_tape_get(tp, o, key, kn), inline (no call per member) when no key of
 * o has an escape. */
static uint32_t get_one(const se_tape *tp, uint32_t o, const char *key, size_t kn)
{
    uint32_t v = 0;
    SE_TAPE_EACH_MEMBER(tp, o, k) {
        const se_tok *t = &tp->t[k];
        if (t->flags & SE_TF_ESC)
            return se_tape_get(tp, o, key, kn);
        if (t->len == kn && raw_is(tp, k, key, kn))
            v = k + 1;
    }
    return v;
}

int se_tape_facts(const se_tape *tp, se_record *rec, char *err, size_t errlen)
{
    return se_tape_facts_in(tp, rec, NULL, err, errlen);
}

int se_tape_facts_in(const se_tape *tp, se_record *rec, se_keyspace *space, char *err,
                     size_t errlen)
{
    sbuf b = { 0 };
    bool oom = false;
    int rc = -1;
    uint32_t v;

    tops tt;
    find_tops(tp, &tt);
    rec->segm = tt.segm;
    uint32_t meta = tt.meta, ingest = 0, ds = 0;
    bool has_meta = meta && se_tape_tok(tp, meta)->kind == SE_TK_OBJ;
    if (has_meta)
        meta_members(tp, meta, &ingest, &ds);
    /* A datasetId that needs no unescaping is kept in the key's block (one
     * allocation a record); another is copied as before, in its turn. */
    const se_tok *dt = se_tape_tok(tp, ds);
    bool ds_inline = ds && dt->kind == SE_TK_STR && !(dt->flags & SE_TF_ESC) &&
                     !has_nul(tp->s + dt->off, dt->len);
    size_t keylen;
    int k = tape_key(tp, &tt, space, ds_inline ? dt->len + 1 : 0, &rec->key, &keylen,
                     &rec->key_borrowed);
    if (k < 0)
        goto nomem;
    if (k == 0) {
        snprintf(err, errlen, "no identity");
        goto out;
    }
    rec->key_len = (uint32_t)keylen;
    if (ds_inline) {
        rec->dataset_id = rec->key + keylen + 1;
        memcpy(rec->dataset_id, tp->s + dt->off, dt->len);
        rec->dataset_id[dt->len] = '\0';
    }
    if (has_meta) {
        if ((v = ingest)) {
            if (!get_ms(tp, v, &rec->ingest_ms, &b, &oom)) {
                if (oom)
                    goto nomem;
                snprintf(err, errlen, "invalid _acp_system_metadata.ingestTime");
                goto out;
            }
            rec->has_ingest = true;
        }
        if (!ds_inline && dup_string(tp, ds, &rec->dataset_id, &b) != 0)
            goto nomem;
    }
    if ((v = tt.ts ? tt.ts : tt.xts)) {
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
    uint32_t audit = tt.audit;
    if (audit && se_tape_tok(tp, audit)->kind == SE_TK_OBJ &&
        str_ms(tp, get_one(tp, audit, "lastUpdatedDate", 15), &rec->updated_ms, &b, &oom))
        rec->has_updated = true;
    if (oom)
        goto nomem;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    sbuf_free(&b);
    return rc;
}

/* ---- identities ----------------------------------------------------------- */

/* String token i as (bytes, length): in the text when it has no escape, else
 * unescaped at *o (advanced). */
static void str_view(const se_tape *tp, uint32_t i, char **o, const char **p, size_t *n)
{
    const se_tok *t = &tp->t[i];
    if (!(t->flags & SE_TF_ESC)) {
        *p = tp->s + t->off;
        *n = t->len;
        return;
    }
    *p = *o;
    *n = se_tape_unescape(tp, i, *o);
    *o += *n;
}

long se_tape_idents(const se_tape *tp, se_ident **v, size_t *cap, size_t *key, char **buf,
                    size_t *bufcap)
{
    tops tt;
    find_tops(tp, &tt);
    if (tt.idmap && tt.xidmap)
        return -2; /* both spellings: the normalization merges them */
    uint32_t map = tt.idmap ? tt.idmap : tt.xidmap;
    size_t n = 0;
    bool primary = false;
    *key = 0;
    if (!map || tp->t[map].kind != SE_TK_OBJ)
        return 0;
    /* Unescaped strings are never longer than their text: the line's
     * length is room for all of them. */
    if (*bufcap < tp->len + 1) {
        char *nb = realloc(*buf, tp->len + 1);
        if (!nb)
            return -1;
        *buf = nb;
        *bufcap = tp->len + 1;
    }
    char *o = *buf;
    SE_TAPE_EACH_MEMBER(tp, map, k) {
        if (!se_tape_first_key(tp, map, k))
            continue;
        uint32_t items = se_tape_last_value(tp, map, k);
        if (tp->t[items].kind != SE_TK_ARR)
            continue;
        const char *ns = NULL;
        size_t nsn = 0;
        SE_TAPE_EACH_ELEM(tp, items, e) {
            if (tp->t[e].kind != SE_TK_OBJ)
                continue;
            uint32_t id, pv;
            item_members(tp, e, &id, &pv);
            if (!id || tp->t[id].kind != SE_TK_STR)
                continue;
            se_ident one;
            str_view(tp, id, &o, &one.id, &one.idlen);
            if (one.idlen == 0 || memchr(one.id, '\0', one.idlen))
                continue;
            if (!ns)
                str_view(tp, k, &o, &ns, &nsn);
            one.ns = ns;
            one.nslen = nsn;
            if (n == *cap) {
                size_t nc = *cap ? 2 * *cap : 8;
                se_ident *nv = realloc(*v, nc * sizeof *nv);
                if (!nv)
                    return -1;
                *v = nv;
                *cap = nc;
            }
            (*v)[n] = one;
            /* SPEC §3: the first primary one, else the smallest. */
            bool is_primary = pv && tp->t[pv].kind == SE_TK_TRUE;
            if (!primary && (is_primary || n == 0 || se_ident_cmp(&one, &(*v)[*key]) < 0)) {
                *key = n;
                primary = is_primary;
            }
            n++;
        }
    }
    return (long)n;
}
