/* The merge of a profile's records written straight from their tapes (see
 * mergetape.h): the bytes json-c prints for se_profile_assemble's merged
 * tree, without building a tree.
 *
 * The merge is done on a small skeleton instead: nodes that are either a
 * record's value left whole (a leaf: record, token, and the normalization
 * context it is printed in) or a merged object / identity array whose
 * members are kept in index lists.  A leaf object is expanded into members
 * only when a later fragment merges into it, so most values are never
 * looked at twice: they are copied to the output from their tape at the end.
 *
 * The record normalization (record.h) is applied as the values are read:
 * the top-level xdm: spellings are renamed in the top-level view, and the
 * identity items' and membership entries' xdm: keys when they are printed
 * (a leaf remembers that context).  Duplicate keys get json-c's meaning in
 * every view: the first place, the last value.
 *
 * "Not sure" (0) is answered for a top-level key given in both spellings
 * (xdm: and not), which the normalization merges. */
#include "mergetape_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "timeutil.h"

/* ---- the skeleton -------------------------------------------------------- */

static uint32_t new_node(mctx *c, uint8_t kind, uint8_t ctx, uint32_t rec, uint32_t tok)
{
    if (c->oom)
        return NONE;
    if (c->nn == c->ncap) {
        uint32_t nc = c->ncap ? c->ncap * 2 : 64;
        mnode *nn = realloc(c->nodes, (size_t)nc * sizeof *nn);
        if (!nn) {
            c->oom = true;
            return NONE;
        }
        c->nodes = nn;
        c->ncap = nc;
    }
    c->nodes[c->nn] = (mnode){ .kind = kind, .ctx = ctx, .rec = rec, .tok = tok,
                               .head = NONE, .tail = NONE, .cursor = NONE };
    return c->nn++;
}

static uint32_t leaf(mctx *c, uint32_t r, uint32_t tok, uint8_t ctx)
{
    return new_node(c, N_LEAF, ctx, r, tok);
}

static uint32_t append_mem(mctx *c, uint32_t node, const char *kp, uint32_t kn, uint32_t h, uint32_t val)
{
    if (c->oom)
        return NONE;
    if (c->nm == c->mcap) {
        uint32_t nc = c->mcap ? c->mcap * 2 : 128;
        mmem *nm = realloc(c->mems, (size_t)nc * sizeof *nm);
        if (!nm) {
            c->oom = true;
            return NONE;
        }
        c->mems = nm;
        c->mcap = nc;
    }
    uint32_t m = c->nm++;
    c->mems[m] = (mmem){ .next = NONE, .val = val, .kn = kn, .h = h, .kp = kp };
    mnode *nd = &c->nodes[node];
    if (nd->tail == NONE)
        nd->head = m;
    else
        c->mems[nd->tail].next = m;
    nd->tail = m;
    return m;
}

/* The member of merged object node named kp, or NONE.  The search starts
 * after the last match: fragments mostly list their keys in one order. */
static uint32_t obj_find(mctx *c, uint32_t node, const char *kp, uint32_t kn, uint32_t h)
{
    mnode *nd = &c->nodes[node];
    uint32_t start = nd->cursor != NONE ? nd->cursor : nd->head, m;
    for (m = start; m != NONE; m = c->mems[m].next)
        if (same_key(c->mems[m].kp, c->mems[m].kn, c->mems[m].h, kp, kn, h))
            goto found;
    for (m = nd->head; m != start; m = c->mems[m].next)
        if (same_key(c->mems[m].kp, c->mems[m].kn, c->mems[m].h, kp, kn, h))
            goto found;
    return NONE;
found:
    nd->cursor = c->mems[m].next;
    return m;
}

/* dst[key] = val: in place when the member exists (json-c keeps the
 * entry's place), else appended. */
static void set_mem(mctx *c, uint32_t node, uint32_t m, const char *kp, uint32_t kn, uint32_t h, uint32_t val)
{
    if (val == NONE)
        return;
    if (m != NONE)
        c->mems[m].val = val;
    else
        append_mem(c, node, kp, kn, h, val);
}

static uint8_t node_type(const mctx *c, uint32_t n)
{
    const mnode *nd = &c->nodes[n];
    if (nd->kind == N_OBJ)
        return SE_TK_OBJ;
    if (nd->kind == N_ARR)
        return SE_TK_ARR;
    return se_tape_tok(c->tp[nd->rec], nd->tok)->kind;
}

/* An identity item's string id (normalized: "id", else "xdm:id"). */
static void item_id(mctx *c, uint32_t r, uint32_t e, const char **kp, uint32_t *kn, uint32_t *h)
{
    const se_tape *tp = c->tp[r];
    *kp = NULL;
    *kn = 0;
    *h = 0;
    if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
        return;
    uint32_t id = se_mt_norm_get(tp, e, "id", "xdm:id");
    if (!id || se_tape_tok(tp, id)->kind != SE_TK_STR)
        return;
    *kp = lasting_bytes(c, tp, id, kn);
    *h = key_hash(*kp, *kn);
}

/* Turns a leaf object or array into a merged node in place (its members
 * leaves), so a later fragment can merge into it. */
static void expand(mctx *c, uint32_t n)
{
    if (c->nodes[n].kind != N_LEAF || c->oom)
        return;
    uint32_t r = c->nodes[n].rec, t = c->nodes[n].tok;
    uint8_t ctx = c->nodes[n].ctx;
    const se_tape *tp = c->tp[r];
    if (se_tape_tok(tp, t)->kind == SE_TK_OBJ) {
        c->nodes[n].kind = N_OBJ;
        uint32_t cnt, base = se_mt_view(c, r, t, &cnt);
        for (uint32_t i = 0; i < cnt && !c->oom; i++) {
            vmem vm = c->vs[base + i];
            uint32_t l = leaf(c, r, vm.v, child_ctx(ctx, se_tape_tok(tp, vm.v)->kind));
            append_mem(c, n, vm.kp, vm.kn, vm.h, l);
        }
        c->nv = base;
    } else {
        /* An identity array copied whole earlier: its items unfolded. */
        c->nodes[n].kind = N_ARR;
        SE_TAPE_EACH_ELEM(tp, t, e) {
            const char *kp;
            uint32_t kn, h;
            item_id(c, r, e, &kp, &kn, &h);
            uint32_t l = leaf(c, r, e, child_ctx(ctx, se_tape_tok(tp, e)->kind));
            append_mem(c, n, kp, kn, h, l);
        }
    }
}

/* ---- merging (profile.c's rules) ----------------------------------------- */

/* Adds array a's items to identity array dst: an item of the same string id
 * is replaced where it stands, a new one appended. */
static void union_items(mctx *c, uint32_t dst, uint32_t r, uint32_t a)
{
    const se_tape *tp = c->tp[r];
    SE_TAPE_EACH_ELEM(tp, a, e) {
        if (c->oom || c->unsure)
            return;
        const char *kp;
        uint32_t kn, h, m;
        item_id(c, r, e, &kp, &kn, &h);
        for (m = c->nodes[dst].head; m != NONE; m = c->mems[m].next) {
            const mmem *mm = &c->mems[m];
            if (kp && mm->kp) {
                if (same_key(mm->kp, mm->kn, mm->h, kp, kn, h))
                    break;
            } else if (!kp && !mm->kp) {
                const mnode *od = &c->nodes[mm->val];
                if (se_mt_deep_equal(c, od->rec, od->tok, od->ctx, r, e,
                               child_ctx(C_IDARR, se_tape_tok(tp, e)->kind), 0))
                    break;
            }
        }
        uint32_t l = leaf(c, r, e, child_ctx(C_IDARR, se_tape_tok(tp, e)->kind));
        if (m != NONE)
            c->mems[m].val = l;
        else
            append_mem(c, dst, kp, kn, h, l);
    }
}

/* Merges identityMap object m of record r into merged object dst. */
static void merge_identity_map(mctx *c, uint32_t dst, uint32_t r, uint32_t mo)
{
    const se_tape *tp = c->tp[r];
    uint32_t cnt, base = se_mt_view(c, r, mo, &cnt);
    for (uint32_t i = 0; i < cnt && !c->oom && !c->unsure; i++) {
        vmem vm = c->vs[base + i];
        uint8_t ik = se_tape_tok(tp, vm.v)->kind;
        uint32_t m = obj_find(c, dst, vm.kp, vm.kn, vm.h);
        uint32_t old = m != NONE ? c->mems[m].val : NONE;
        uint8_t ot = old != NONE ? node_type(c, old) : 0;
        if (m != NONE && ik == SE_TK_NULL)
            continue; /* null never overrides */
        if (ik == SE_TK_ARR && (m == NONE || ot == SE_TK_NULL || ot == SE_TK_ARR)) {
            if (ot != SE_TK_ARR) {
                old = new_node(c, N_ARR, C_NONE, 0, 0);
                set_mem(c, dst, m, vm.kp, vm.kn, vm.h, old);
            } else {
                expand(c, old);
            }
            if (old != NONE)
                union_items(c, old, r, vm.v);
            continue;
        }
        set_mem(c, dst, m, vm.kp, vm.kn, vm.h, leaf(c, r, vm.v, child_ctx(C_IDMAP, ik)));
    }
    c->nv = base;
}

/* A membership entry's lastQualificationTime: RFC 3339 string or integer. */
static bool entry_lqt(mctx *c, uint32_t r, uint32_t e, int64_t *ms)
{
    const se_tape *tp = c->tp[r];
    if (se_tape_tok(tp, e)->kind != SE_TK_OBJ)
        return false;
    uint32_t t = se_mt_norm_get(tp, e, "lastQualificationTime", "xdm:lastQualificationTime");
    if (!t)
        return false;
    const se_tok *tk = se_tape_tok(tp, t);
    if (tk->kind == SE_TK_NUM && !(tk->flags & SE_TF_DBL)) {
        bool big;
        uint64_t u;
        int64_t v = se_tape_int(tp, t, &big, &u);
        *ms = big ? INT64_MAX : v; /* json_object_get_int64 clamps */
        return true;
    }
    if (tk->kind != SE_TK_STR)
        return false;
    /* As a C string, as json-c hands it to se_time_parse (an embedded NUL
     * ends it). */
    if (tk->len + 1 > c->tcap) {
        char *ns = realloc(c->tbuf, tk->len + 1);
        if (!ns) {
            c->oom = true;
            return false;
        }
        c->tbuf = ns;
        c->tcap = tk->len + 1;
    }
    char *buf = c->tbuf;
    buf[se_tape_unescape(tp, t, buf)] = '\0';
    return se_time_parse(buf, ms) == 0;
}

static bool entry_wins(mctx *c, uint32_t r, uint32_t ne, uint32_t old)
{
    int64_t tn = 0, to = 0;
    const mnode *od = &c->nodes[old];
    bool hn = entry_lqt(c, r, ne, &tn), ho = entry_lqt(c, od->rec, od->tok, &to);
    if (hn != ho)
        return hn;
    return !hn || tn >= to;
}

/* Merges segmentMembership object s of record r into merged object dst. */
static void merge_membership(mctx *c, uint32_t dst, uint32_t r, uint32_t s)
{
    const se_tape *tp = c->tp[r];
    uint32_t cnt, base = se_mt_view(c, r, s, &cnt);
    for (uint32_t i = 0; i < cnt && !c->oom; i++) {
        vmem vm = c->vs[base + i];
        uint8_t sk = se_tape_tok(tp, vm.v)->kind;
        uint32_t m = obj_find(c, dst, vm.kp, vm.kn, vm.h);
        uint32_t old = m != NONE ? c->mems[m].val : NONE;
        if (m != NONE && sk == SE_TK_NULL)
            continue;
        if (m == NONE || node_type(c, old) != SE_TK_OBJ || sk != SE_TK_OBJ) {
            set_mem(c, dst, m, vm.kp, vm.kn, vm.h, leaf(c, r, vm.v, child_ctx(C_SM, sk)));
            continue;
        }
        expand(c, old);
        uint32_t scnt, sbase = se_mt_view(c, r, vm.v, &scnt);
        for (uint32_t j = 0; j < scnt && !c->oom; j++) {
            vmem em = c->vs[sbase + j];
            uint8_t ek = se_tape_tok(tp, em.v)->kind;
            uint32_t m2 = obj_find(c, old, em.kp, em.kn, em.h);
            uint32_t oe = m2 != NONE ? c->mems[m2].val : NONE;
            if (m2 != NONE && ek == SE_TK_NULL)
                continue;
            if (m2 == NONE || node_type(c, oe) == SE_TK_NULL || entry_wins(c, r, em.v, oe))
                set_mem(c, old, m2, em.kp, em.kn, em.h, leaf(c, r, em.v, child_ctx(C_SMNS, ek)));
        }
        c->nv = sbase;
    }
    c->nv = base;
}

enum { K_OTHER, K_IDMAP, K_SM };

/* Merges object o of record r (newer) into merged object dst; top: the
 * record itself, read in its normalized view. */
static bool kept(const se_mt_keep *k, const char *s, size_t n)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->lens[i] == n && !memcmp(k->names[i], s, n))
            return true;
    return false;
}

static void merge_object(mctx *c, uint32_t dst, uint32_t r, uint32_t o, bool top)
{
    const se_tape *tp = c->tp[r];
    uint32_t cnt, base = se_mt_view(c, r, o, &cnt);
    for (uint32_t i = 0; i < cnt && !c->oom && !c->unsure; i++) {
        vmem vm = c->vs[base + i];
        int special = K_OTHER;
        if (top) {
            if (vm.kn >= 9 && vm.kn <= 21) {
                static const struct { const char *x, *u; int sp; } ren[] = {
                    {"xdm:identityMap", "identityMap", K_IDMAP},
                    {"xdm:segmentMembership", "segmentMembership", K_SM},
                    {"xdm:timestamp", "timestamp", K_OTHER},
                };
                if (is_lit(vm.kp, vm.kn, "_acp_system_metadata", 20))
                    continue;
                for (size_t j = 0; j < 3; j++) {
                    size_t un = strlen(ren[j].u);
                    if (is_lit(vm.kp, vm.kn, ren[j].u, un)) {
                        special = ren[j].sp;
                    } else if (is_lit(vm.kp, vm.kn, ren[j].x, un + 4)) {
                        if (se_mt_view_find(c, base, cnt, ren[j].u, un) != NONE) {
                            c->unsure = true; /* both spellings: merged by the normalization */
                            break;
                        }
                        vm.kp = ren[j].u;
                        vm.kn = (uint32_t)un;
                        vm.h = key_hash(vm.kp, vm.kn);
                        special = ren[j].sp;
                    }
                }
                if (c->unsure)
                    break;
            }
            if (c->keep && !kept(c->keep, vm.kp, vm.kn))
                continue; /* (after the spelling check: "not sure" stays as it was) */
        }
        uint8_t nk = se_tape_tok(tp, vm.v)->kind;
        uint32_t m = obj_find(c, dst, vm.kp, vm.kn, vm.h);
        uint32_t ov = m != NONE ? c->mems[m].val : NONE;
        uint8_t ot = ov != NONE ? node_type(c, ov) : 0;
        if (m != NONE && nk == SE_TK_NULL)
            continue; /* null never overrides */
        if (special && nk == SE_TK_OBJ && (m == NONE || ot == SE_TK_NULL || ot == SE_TK_OBJ)) {
            if (ot != SE_TK_OBJ) {
                /* Start empty and merge, so the rules apply inside the
                 * first fragment too. */
                ov = new_node(c, N_OBJ, C_NONE, 0, 0);
                set_mem(c, dst, m, vm.kp, vm.kn, vm.h, ov);
            } else {
                expand(c, ov);
            }
            if (ov == NONE)
                break;
            if (special == K_IDMAP)
                merge_identity_map(c, ov, r, vm.v);
            else
                merge_membership(c, ov, r, vm.v);
            continue;
        }
        if (m != NONE && ot == SE_TK_OBJ && nk == SE_TK_OBJ) {
            expand(c, ov);
            merge_object(c, ov, r, vm.v, false);
            continue;
        }
        uint8_t ctx = C_NONE;
        if (nk == SE_TK_OBJ) /* a top-level map copied whole: normalized inside */
            ctx = special == K_IDMAP ? C_IDMAP : special == K_SM ? C_SM : C_NONE;
        set_mem(c, dst, m, vm.kp, vm.kn, vm.h, leaf(c, r, vm.v, ctx));
    }
    c->nv = base;
}

/* ---- ordering (profile.h: se_frag_order) --------------------------------- */

typedef struct fref {
    uint32_t i;    /* index in frags */
    se_frag_order o;
} fref;

/* The record's top-level identityMap, normalized; 0 when absent; sets
 * c->unsure when both spellings are there. */
static uint32_t top_identity_map(mctx *c, uint32_t r)
{
    const se_tape *tp = c->tp[r];
    uint32_t u = se_tape_get(tp, 0, "identityMap", 11), x = se_tape_get(tp, 0, "xdm:identityMap", 15);
    if (u && x)
        c->unsure = true;
    return u ? u : x;
}

int se_merge_tape(const se_grec *frags, size_t nfrags, const se_grec *events, size_t nevents,
                  const se_mpolicy *pol, const se_mt_keep *keep, char **buf, size_t *len,
                  size_t *cap)
{
    enum { STACK_FREFS = 16 };
    const se_tape *tps_stack[STACK_FREFS * 2];
    fref refs_stack[STACK_FREFS];
    mctx c = { .o = { .b = buf, .n = len, .cap = cap }, .keep = keep };
    fref *refs = refs_stack;
    size_t start = *len, n = 0;
    int rc = -1;

    if (nfrags + nevents > UINT32_MAX / 2)
        return 0;
    c.tp = tps_stack;
    if (nfrags + nevents > STACK_FREFS * 2 && !(c.tp = malloc((nfrags + nevents) * sizeof *c.tp)))
        return -1;
    if (nfrags > STACK_FREFS && !(refs = malloc(nfrags * sizeof *refs)))
        goto out;
    for (size_t i = 0; i < nfrags; i++) {
        const se_record *r = &frags[i].f;
        c.tp[i] = &frags[i].tape;
        fref f = { .i = (uint32_t)i };
        if (!se_frag_order_of(pol, r, &f.o))
            continue;
        /* Insertion sort: stable, as glibc's qsort is for the tree path. */
        size_t j = n++;
        while (j > 0 && se_frag_order_cmp(&refs[j - 1].o, &f.o) > 0) {
            refs[j] = refs[j - 1];
            j--;
        }
        refs[j] = f;
    }
    for (size_t i = 0; i < nevents; i++)
        c.tp[nfrags + i] = &events[i].tape;

    uint32_t root = new_node(&c, N_OBJ, C_NONE, 0, 0);
    if (n) {
        for (size_t i = 0; i < n && !c.oom && !c.unsure; i++) {
            uint32_t r = refs[i].i;
            if (se_tape_tok(c.tp[r], 0)->kind == SE_TK_OBJ)
                merge_object(&c, root, r, 0, true);
        }
    } else {
        /* {"identityMap": union of the events' identityMaps, input order} */
        uint32_t map = new_node(&c, N_OBJ, C_NONE, 0, 0);
        for (size_t i = 0; i < nevents && !c.oom && !c.unsure; i++) {
            uint32_t r = (uint32_t)(nfrags + i);
            if (se_tape_tok(c.tp[r], 0)->kind != SE_TK_OBJ)
                continue;
            uint32_t m = top_identity_map(&c, r);
            if (m && se_tape_tok(c.tp[r], m)->kind == SE_TK_OBJ)
                merge_identity_map(&c, map, r, m);
        }
        if (!keep || kept(keep, "identityMap", 11))
            append_mem(&c, root, "identityMap", 11, key_hash("identityMap", 11), map);
    }
    if (!c.oom && !c.unsure && root != NONE)
        se_mt_print_node(&c, root);
    rc = c.oom || c.o.oom ? -1 : c.unsure ? 0 : 1;
out:
    if (rc != 1)
        *len = start;
    while (c.kb) {
        kblock *next = c.kb->next;
        free(c.kb);
        c.kb = next;
    }
    free(c.nodes);
    free(c.mems);
    free(c.vs);
    free(c.ht);
    free(c.tbuf);
    se_tout_done(&c.o);
    if (refs != refs_stack)
        free(refs);
    if (c.tp != tps_stack)
        free((void *)c.tp);
    return rc;
}
