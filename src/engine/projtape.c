/* Rows straight from a record's tape (see se_proj_tape_row in project.h):
 * the bytes json-c prints for the projection of the profile made of this one
 * fragment, without building a tree.
 *
 * The view written is the record as se_record_parse normalizes it and as
 * se_profile_assemble merges a lone fragment: every object's members in
 * first-appearance order with their last value (json-c's duplicate rule);
 * _acp_system_metadata left out; in the top-level identityMap, each
 * namespace's items folded by string id (a later item replaces an earlier
 * one where it stands).  What needs more than that - the xdm: spellings the
 * normalization renames, two items without a string id in one namespace
 * (folded by deep equality) - is left to the tree ("not sure"). */
#include "project.h"
#include "project_int.h"
#include "tapeout.h"

#include <stdlib.h>
#include <string.h>

typedef struct tw {
    const se_tape *tp;
    se_tout o;     /* the row; o.oom: out of memory */
    bool unsure;
    bool event;    /* an event's row: identity items written as they are */
    const char *okey;   /* a top-level member written as otext instead (NULL: none) */
    const char *otext;  /* its value's text, or NULL: the member left out */
    size_t olen;
    bool olast;         /* otext goes last even when the member exists */
    bool odone;
} tw;

enum { CTX_NONE, CTX_TOP, CTX_IDMAP, CTX_IDARR };

static void putc1(tw *w, char c)
{
    se_tout_putc(&w->o, c);
}

static void put(tw *w, const char *s, size_t n)
{
    se_tout_put(&w->o, s, n);
}

static void put_string(tw *w, uint32_t i)
{
    se_tout_string(&w->o, w->tp, i);
}

static void put_number(tw *w, uint32_t i)
{
    se_tout_number(&w->o, w->tp, i);
}

/* ---- the view ------------------------------------------------------------ */

/* Whether object o has two members of one name. */
static bool has_dups(const se_tape *tp, uint32_t o)
{
    SE_TAPE_EACH_MEMBER(tp, o, k)
        if (!se_tape_first_key(tp, o, k))
            return true;
    return false;
}

/* Member iteration with json-c's duplicate rule: calls visit for each name
 * once, at its first place, with its last value. */
#define EACH_VIEW_MEMBER(tp, o, k, v, body)                                    \
    do {                                                                       \
        bool dups_ = has_dups(tp, o);                                          \
        SE_TAPE_EACH_MEMBER(tp, o, k) {                                        \
            uint32_t v = k + 1;                                                \
            if (dups_) {                                                       \
                if (!se_tape_first_key(tp, o, k))                              \
                    continue;                                                  \
                v = se_tape_last_value(tp, o, k);                              \
            }                                                                  \
            body                                                               \
        }                                                                      \
    } while (0)

static bool key_is(const se_tape *tp, uint32_t k, const char *name)
{
    return se_tape_str_eq(tp, k, name, strlen(name));
}

/* The items of an identityMap namespace array a, folded by string id, into
 * *items (n of them).  Sets w->unsure for what the tree must do. */
static uint32_t *id_items(tw *w, uint32_t a, size_t *n)
{
    const se_tape *tp = w->tp;
    size_t m = se_tape_tok(tp, a)->len, cnt = 0, noid = 0;
    uint32_t *it = malloc((m ? m : 1) * 2 * sizeof *it); /* [item, id] pairs */
    if (!it) {
        w->o.oom = true;
        return NULL;
    }
    SE_TAPE_EACH_ELEM(tp, a, e) {
        uint32_t id = 0;
        if (se_tape_tok(tp, e)->kind == SE_TK_OBJ) {
            SE_TAPE_EACH_MEMBER(tp, e, k)
                if (key_is(tp, k, "xdm:id") || key_is(tp, k, "xdm:primary") ||
                    key_is(tp, k, "xdm:authenticatedState"))
                    w->unsure = true;
            id = se_tape_get(tp, e, "id", 2);
            if (id && se_tape_tok(tp, id)->kind != SE_TK_STR)
                id = 0;
        }
        if (!id && ++noid > 1)
            w->unsure = true;
        size_t j = cnt;
        if (id) {
            const se_tok *ti = se_tape_tok(tp, id);
            for (j = 0; j < cnt; j++) {
                uint32_t oid = it[2 * j + 1];
                if (!oid)
                    continue;
                const se_tok *to = se_tape_tok(tp, oid);
                if (!((ti->flags | to->flags) & SE_TF_ESC)
                        ? ti->len == to->len && memcmp(se_tape_raw(tp, id), se_tape_raw(tp, oid), ti->len) == 0
                        : (!(to->flags & SE_TF_ESC)
                               ? se_tape_str_eq(tp, id, se_tape_raw(tp, oid), to->len)
                               : ((w->unsure = true), false)))
                    break;
            }
        }
        it[2 * j] = e;
        it[2 * j + 1] = id;
        if (j == cnt)
            cnt++;
    }
    *n = cnt;
    return it;
}

static void write_whole(tw *w, uint32_t v, int ctx);

/* An event's identity items are not folded (only a profile's merge folds
 * them): true, after checking that none needs a renamed key. */
static bool plain_items(tw *w, uint32_t a)
{
    const se_tape *tp = w->tp;
    if (!w->event)
        return false;
    SE_TAPE_EACH_ELEM(tp, a, e) {
        if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
            continue;
        SE_TAPE_EACH_MEMBER(tp, e, k)
            if (key_is(tp, k, "xdm:id") || key_is(tp, k, "xdm:primary") ||
                key_is(tp, k, "xdm:authenticatedState"))
                w->unsure = true;
    }
    return true;
}

static void write_object(tw *w, uint32_t o, int ctx)
{
    const se_tape *tp = w->tp;
    bool first = true;
    putc1(w, '{');
    EACH_VIEW_MEMBER(tp, o, k, v, {
        int vctx = CTX_NONE;
        if (ctx == CTX_TOP) {
            if (key_is(tp, k, "_acp_system_metadata"))
                continue;
            if (key_is(tp, k, "identityMap") && se_tape_tok(tp, v)->kind == SE_TK_OBJ)
                vctx = CTX_IDMAP;
            if (w->okey && key_is(tp, k, w->okey)) {
                w->odone = !w->olast;
                if (!w->otext || w->olast)
                    continue;
                if (!first)
                    putc1(w, ',');
                first = false;
                put_string(w, k);
                putc1(w, ':');
                put(w, w->otext, w->olen);
                continue;
            }
        } else if (ctx == CTX_IDMAP && se_tape_tok(tp, v)->kind == SE_TK_ARR) {
            vctx = CTX_IDARR;
        }
        if (!first)
            putc1(w, ',');
        first = false;
        put_string(w, k);
        putc1(w, ':');
        write_whole(w, v, vctx);
    });
    if (ctx == CTX_TOP && w->okey && w->otext && !w->odone) {
        /* json-c adds a new member last. */
        if (!first)
            putc1(w, ',');
        putc1(w, '"');
        put(w, w->okey, strlen(w->okey));
        put(w, "\":", 2);
        put(w, w->otext, w->olen);
    }
    putc1(w, '}');
}

static void write_whole(tw *w, uint32_t v, int ctx)
{
    const se_tape *tp = w->tp;
    const se_tok *t = se_tape_tok(tp, v);
    switch (t->kind) {
    case SE_TK_OBJ:
        write_object(w, v, ctx);
        return;
    case SE_TK_ARR:
        putc1(w, '[');
        if (ctx == CTX_IDARR && !plain_items(w, v)) {
            size_t n;
            uint32_t *it = id_items(w, v, &n);
            for (size_t i = 0; it && i < n; i++) {
                if (i)
                    putc1(w, ',');
                write_whole(w, it[2 * i], CTX_NONE);
            }
            free(it);
        } else {
            bool first = true;
            SE_TAPE_EACH_ELEM(tp, v, e) {
                if (!first)
                    putc1(w, ',');
                first = false;
                write_whole(w, e, CTX_NONE);
            }
        }
        putc1(w, ']');
        return;
    case SE_TK_STR:
        put_string(w, v);
        return;
    case SE_TK_NUM:
        put_number(w, v);
        return;
    case SE_TK_TRUE:
        put(w, "true", 4);
        return;
    case SE_TK_FALSE:
        put(w, "false", 5);
        return;
    default:
        put(w, "null", 4);
        return;
    }
}

/* ---- projection ------------------------------------------------------------ */

static const pnode *find_kid(tw *w, const pnode *n, uint32_t k)
{
    for (size_t i = 0; i < n->nkids; i++)
        if (se_tape_str_eq(w->tp, k, n->kids[i].name, strlen(n->kids[i].name)))
            return &n->kids[i];
    return NULL;
}

/* Projects non-terminal node n onto value v: false (and nothing written)
 * when nothing is selected. */
static bool proj_value(tw *w, const pnode *n, uint32_t v, int ctx);

static bool proj_object(tw *w, const pnode *n, uint32_t o, int ctx, bool keep_empty)
{
    const se_tape *tp = w->tp;
    size_t mark = *w->o.n;
    bool any = false;
    putc1(w, '{');
    EACH_VIEW_MEMBER(tp, o, k, v, {
        int vctx = CTX_NONE;
        if (ctx == CTX_TOP) {
            if (key_is(tp, k, "_acp_system_metadata"))
                continue;
            if (key_is(tp, k, "identityMap") && se_tape_tok(tp, v)->kind == SE_TK_OBJ)
                vctx = CTX_IDMAP;
        } else if (ctx == CTX_IDMAP && se_tape_tok(tp, v)->kind == SE_TK_ARR) {
            vctx = CTX_IDARR;
        }
        const pnode *kid = find_kid(w, n, k);
        if (!kid)
            continue;
        size_t m = *w->o.n;
        if (any)
            putc1(w, ',');
        put_string(w, k);
        putc1(w, ':');
        if (kid->terminal) {
            write_whole(w, v, vctx);
        } else if (!proj_value(w, kid, v, vctx)) {
            *w->o.n = m;
            continue;
        }
        any = true;
    });
    if (!any && !keep_empty) {
        *w->o.n = mark;
        return false;
    }
    putc1(w, '}');
    return true;
}

static bool proj_value(tw *w, const pnode *n, uint32_t v, int ctx)
{
    const se_tape *tp = w->tp;
    const se_tok *t = se_tape_tok(tp, v);
    if (t->kind == SE_TK_OBJ)
        return proj_object(w, n, v, ctx, false);
    if (t->kind != SE_TK_ARR)
        return false; /* the path continues past a scalar */
    size_t mark = *w->o.n;
    bool any = false;
    putc1(w, '[');
    if (ctx == CTX_IDARR && !plain_items(w, v)) {
        size_t cnt;
        uint32_t *it = id_items(w, v, &cnt);
        for (size_t i = 0; it && i < cnt; i++) {
            size_t m = *w->o.n;
            if (any)
                putc1(w, ',');
            if (proj_value(w, n, it[2 * i], CTX_NONE))
                any = true;
            else
                *w->o.n = m;
        }
        free(it);
    } else {
        SE_TAPE_EACH_ELEM(tp, v, e) {
            size_t m = *w->o.n;
            if (any)
                putc1(w, ',');
            if (proj_value(w, n, e, CTX_NONE))
                any = true;
            else
                *w->o.n = m;
        }
    }
    if (!any) {
        *w->o.n = mark;
        return false;
    }
    putc1(w, ']');
    return true;
}

/* What the normalization would rename: left to the tree. */
static bool needs_normalizing(const se_tape *tp)
{
    if (se_tape_get(tp, 0, "xdm:identityMap", 15) || se_tape_get(tp, 0, "xdm:segmentMembership", 21) ||
        se_tape_get(tp, 0, "xdm:timestamp", 13))
        return true;
    uint32_t sm = se_tape_get(tp, 0, "segmentMembership", 17);
    if (!sm || se_tape_tok(tp, sm)->kind != SE_TK_OBJ)
        return false;
    SE_TAPE_EACH_MEMBER(tp, sm, ns) {
        uint32_t segs = ns + 1;
        if (se_tape_tok(tp, segs)->kind != SE_TK_OBJ)
            continue;
        SE_TAPE_EACH_MEMBER(tp, segs, sk) {
            uint32_t e = sk + 1;
            if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
                continue;
            SE_TAPE_EACH_MEMBER(tp, e, ek) {
                const se_tok *t = se_tape_tok(tp, ek);
                if (t->len >= 4 && memcmp(se_tape_raw(tp, ek), "xdm:", 4) == 0)
                    return true;
                if ((t->flags & SE_TF_ESC) && se_tape_str_cmp(tp, ek, "xdm:", 4) >= 0) {
                    /* An escaped key could spell "xdm:...": look closer. */
                    char *b = malloc(t->len ? t->len : 1);
                    bool x = !b || (se_tape_unescape(tp, ek, b) >= 4 && memcmp(b, "xdm:", 4) == 0);
                    free(b);
                    if (x)
                        return true;
                }
            }
        }
    }
    return false;
}

bool se_proj_tape_normal(const se_tape *tp)
{
    return se_tape_tok(tp, 0)->kind == SE_TK_OBJ && !needs_normalizing(tp);
}

/* Writes w's row (projected by pj, or whole) and gives the callers'
 * answer: 1, 0 (not sure: nothing written) or -1. */
static int tape_row(tw *w, const se_proj *pj)
{
    size_t start = *w->o.n;
    if (se_tape_tok(w->tp, 0)->kind != SE_TK_OBJ || needs_normalizing(w->tp))
        return 0;
    if (!pj)
        write_object(w, 0, CTX_TOP);
    else
        proj_object(w, &pj->root, 0, CTX_TOP, true);
    se_tout_done(&w->o);
    if (w->o.oom)
        return -1;
    if (w->unsure) {
        *w->o.n = start;
        return 0;
    }
    return 1;
}

int se_proj_tape_row(const se_proj *pj, const se_tape *tp, char **buf, size_t *len, size_t *cap)
{
    tw w = { .tp = tp, .o = { .b = buf, .n = len, .cap = cap } };
    return tape_row(&w, pj);
}

int se_proj_tape_whole_with(const se_tape *tp, const char *key, const char *vtext, size_t vlen,
                            bool last, char **buf, size_t *len, size_t *cap)
{
    tw w = { .tp = tp, .o = { .b = buf, .n = len, .cap = cap },
             .okey = key, .otext = vtext, .olen = vlen, .olast = last };
    return tape_row(&w, NULL);
}

int se_proj_tape_event_row(const se_proj *pj, const se_tape *tp, char **buf, size_t *len, size_t *cap)
{
    tw w = { .tp = tp, .o = { .b = buf, .n = len, .cap = cap }, .event = true };
    return tape_row(&w, pj);
}
