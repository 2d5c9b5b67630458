/* The tape merge writer's views of the records' objects (json-c's
 * meaning of duplicate keys, the normalization's renaming), the deep
 * equality identity items are folded by, and the printing of the merged
 * skeleton (see mergetape.c). */
#include "mergetape_int.h"

#include <stdlib.h>

const char *se_mt_unescaped_copy(mctx *c, const se_tape *tp, uint32_t k, uint32_t *kn)
{
    const se_tok *t = se_tape_tok(tp, k);
    kblock *b = c->kb;
    if (!b || b->cap - b->used < t->len) {
        size_t cap = t->len > 4096 ? t->len : 4096;
        b = malloc(sizeof *b + cap);
        if (!b) {
            c->oom = true;
            *kn = 0;
            return "";
        }
        b->next = c->kb;
        b->used = 0;
        b->cap = cap;
        c->kb = b;
    }
    char *o = b->data + b->used;
    *kn = (uint32_t)se_tape_unescape(tp, k, o);
    b->used += *kn;
    return o;
}

/* se_mt_view of an object of many members (a segment namespace of hundreds
 * of segments): duplicates found through an open-addressing table. */
static uint32_t view_large(mctx *c, uint32_t r, uint32_t o, uint32_t base, uint32_t *cnt)
{
    const se_tape *tp = c->tp[r];
    uint32_t want = se_tape_tok(tp, o)->len, m = 0, cap = 128;
    while (cap < 2 * want)
        cap *= 2;
    if (cap > c->htcap) {
        uint32_t *nt = realloc(c->ht, (size_t)cap * sizeof *nt);
        if (!nt) {
            c->oom = true;
            return base;
        }
        c->ht = nt;
        c->htcap = cap;
    }
    uint32_t *ht = c->ht; /* 0: empty, else view index + 1 */
    memset(ht, 0, (size_t)cap * sizeof *ht);
    vmem *vs = c->vs + base;
    SE_TAPE_EACH_MEMBER(tp, o, k) {
        uint32_t kn;
        const char *kp = lasting_bytes(c, tp, k, &kn);
        uint32_t h = key_hash(kp, kn), s = h & (cap - 1);
        while (ht[s] && !same_key(vs[ht[s] - 1].kp, vs[ht[s] - 1].kn, vs[ht[s] - 1].h, kp, kn, h))
            s = (s + 1) & (cap - 1);
        if (ht[s]) { /* a duplicate: the last value at the first place */
            vs[ht[s] - 1].v = k + 1;
            continue;
        }
        ht[s] = m + 1;
        vs[m++] = (vmem){ .k = k, .v = k + 1, .kn = kn, .h = h, .kp = kp };
    }
    c->nv = base + m;
    *cnt = m;
    return base;
}

uint32_t se_mt_view(mctx *c, uint32_t r, uint32_t o, uint32_t *cnt)
{
    const se_tape *tp = c->tp[r];
    uint32_t base = c->nv, m = 0, want = se_tape_tok(tp, o)->len;
    *cnt = 0;
    if (c->nv + want > c->vcap) {
        uint32_t nc = c->vcap ? c->vcap : 256;
        while (nc < c->nv + want)
            nc *= 2;
        vmem *nv = realloc(c->vs, (size_t)nc * sizeof *nv);
        if (!nv) {
            c->oom = true;
            return base;
        }
        c->vs = nv;
        c->vcap = nc;
    }
    vmem *vs = c->vs + base;
    if (want > 64)
        return view_large(c, r, o, base, cnt);
    /* Duplicates are rare: a bloom filter of the hashes sends only its
     * hits to a search. */
    uint64_t bloom[4] = {0, 0, 0, 0};
    SE_TAPE_EACH_MEMBER(tp, o, k) {
        uint32_t kn;
        const char *kp = lasting_bytes(c, tp, k, &kn);
        uint32_t h = key_hash(kp, kn), bit = h & 255;
        if (bloom[bit >> 6] & (1ULL << (bit & 63))) {
            uint32_t j;
            for (j = 0; j < m; j++)
                if (same_key(vs[j].kp, vs[j].kn, vs[j].h, kp, kn, h))
                    break;
            if (j < m) { /* a duplicate: the last value at the first place */
                vs[j].v = k + 1;
                continue;
            }
        }
        bloom[bit >> 6] |= 1ULL << (bit & 63);
        vs[m++] = (vmem){ .k = k, .v = k + 1, .kn = kn, .h = h, .kp = kp };
    }
    c->nv = base + m;
    *cnt = m;
    return base;
}

uint32_t se_mt_view_find(const mctx *c, uint32_t base, uint32_t cnt, const char *s, size_t n)
{
    uint32_t h = key_hash(s, n);
    for (uint32_t i = base; i < base + cnt; i++)
        if (same_key(c->vs[i].kp, c->vs[i].kn, c->vs[i].h, s, (uint32_t)n, h))
            return i;
    return NONE;
}

bool se_mt_strips(uint8_t ctx, const char *kp, uint32_t kn)
{
    if (kn < 4 || memcmp(kp, "xdm:", 4) != 0)
        return false;
    if (ctx == C_SMENTRY)
        return true;
    return is_lit(kp, kn, "xdm:id", 6) || is_lit(kp, kn, "xdm:primary", 11) ||
           is_lit(kp, kn, "xdm:authenticatedState", 22);
}

uint32_t se_mt_norm_get(const se_tape *tp, uint32_t o, const char *name, const char *xname)
{
    uint32_t v = se_tape_get(tp, o, name, strlen(name));
    return v ? v : se_tape_get(tp, o, xname, strlen(xname));
}

/* ---- deep equality ------------------------------------------------------ */

uint32_t se_mt_norm_view(mctx *c, uint32_t r, uint32_t o, uint8_t ctx, uint32_t *cnt)
{
    uint32_t base = se_mt_view(c, r, o, cnt), m = 0;
    if (ctx != C_IDITEM)
        return base;
    for (uint32_t i = 0; i < *cnt; i++) {
        vmem vm = c->vs[base + i];
        if (se_mt_strips(ctx, vm.kp, vm.kn)) {
            if (se_mt_view_find(c, base, *cnt, vm.kp + 4, vm.kn - 4) != NONE)
                continue;
            vm.kp += 4;
            vm.kn -= 4;
            vm.h = key_hash(vm.kp, vm.kn);
        }
        c->vs[base + m++] = vm;
    }
    *cnt = m;
    c->nv = base + m;
    return base;
}

/* A double token's value, as json-c's parser holds it. */
static double dbl_value(mctx *c, const se_tape *tp, uint32_t t)
{
    const se_tok *tk = se_tape_tok(tp, t);
    if (tk->len + 1 > c->tcap) {
        char *ns = realloc(c->tbuf, tk->len + 1);
        if (!ns) {
            c->oom = true;
            return 0;
        }
        c->tbuf = ns;
        c->tcap = tk->len + 1;
    }
    memcpy(c->tbuf, se_tape_raw(tp, t), tk->len);
    c->tbuf[tk->len] = '\0';
    return strtod(c->tbuf, NULL);
}

bool se_mt_deep_equal(mctx *c, uint32_t ra, uint32_t ta, uint8_t ca, uint32_t rb, uint32_t tb,
                       uint8_t cb, int depth)
{
    const se_tape *pa = c->tp[ra], *pb = c->tp[rb];
    const se_tok *a = se_tape_tok(pa, ta), *b = se_tape_tok(pb, tb);
    bool adbl = a->kind == SE_TK_NUM && (a->flags & SE_TF_DBL);
    bool bdbl = b->kind == SE_TK_NUM && (b->flags & SE_TF_DBL);
    if (a->kind != b->kind || adbl != bdbl || c->oom || depth > SE_TAPE_MAX_DEPTH)
        return false;
    switch (a->kind) {
    case SE_TK_NUM:
        if (adbl)
            return dbl_value(c, pa, ta) == dbl_value(c, pb, tb);
        else {
            bool ba, bb;
            uint64_t ua, ub;
            int64_t va = se_tape_int(pa, ta, &ba, &ua), vb = se_tape_int(pb, tb, &bb, &ub);
            return ba == bb && (ba ? ua == ub : va == vb);
        }
    case SE_TK_STR: {
        uint32_t an, bn;
        const char *as = lasting_bytes(c, pa, ta, &an), *bs = lasting_bytes(c, pb, tb, &bn);
        return an == bn && memcmp(as, bs, an) == 0;
    }
    case SE_TK_ARR: {
        if (a->len != b->len)
            return false;
        uint32_t eb = tb + 1;
        SE_TAPE_EACH_ELEM(pa, ta, ea) {
            if (!se_mt_deep_equal(c, ra, ea, child_ctx(ca, se_tape_tok(pa, ea)->kind), rb, eb,
                            child_ctx(cb, se_tape_tok(pb, eb)->kind), depth + 1))
                return false;
            eb = se_tape_tok(pb, eb)->end;
        }
        return true;
    }
    case SE_TK_OBJ: {
        /* The same names, and equal values under each. */
        uint32_t na, nb, ba = se_mt_norm_view(c, ra, ta, ca, &na);
        uint32_t bbase = se_mt_norm_view(c, rb, tb, cb, &nb);
        bool eq = na == nb;
        for (uint32_t i = 0; eq && i < na; i++) {
            vmem va = c->vs[ba + i];
            uint32_t j = se_mt_view_find(c, bbase, nb, va.kp, va.kn);
            if (j == NONE) {
                eq = false;
                break;
            }
            vmem vb = c->vs[j];
            eq = se_mt_deep_equal(c, ra, va.v, child_ctx(ca, se_tape_tok(pa, va.v)->kind), rb, vb.v,
                            child_ctx(cb, se_tape_tok(pb, vb.v)->kind), depth + 1);
        }
        c->nv = ba;
        return eq;
    }
    default: /* null, true, false: the same kind */
        return true;
    }
}

/* ---- printing the skeleton ----------------------------------------------- */

static void print_tok(mctx *c, uint32_t r, uint32_t t, uint8_t ctx)
{
    const se_tape *tp = c->tp[r];
    const se_tok *tk = se_tape_tok(tp, t);
    switch (tk->kind) {
    case SE_TK_OBJ: {
        uint32_t cnt, base = se_mt_view(c, r, t, &cnt);
        bool first = true;
        putc1(c, '{');
        for (uint32_t i = 0; i < cnt && !c->oom; i++) {
            vmem vm = c->vs[base + i];
            if ((ctx == C_IDITEM || ctx == C_SMENTRY) && se_mt_strips(ctx, vm.kp, vm.kn)) {
                /* Renamed, or dropped when the unprefixed twin exists. */
                if (se_mt_view_find(c, base, cnt, vm.kp + 4, vm.kn - 4) != NONE)
                    continue;
                vm.kp += 4;
                vm.kn -= 4;
            }
            if (!first)
                putc1(c, ',');
            first = false;
            put_esc(c, vm.kp, vm.kn);
            putc1(c, ':');
            print_tok(c, r, vm.v, child_ctx(ctx, se_tape_tok(tp, vm.v)->kind));
        }
        putc1(c, '}');
        c->nv = base;
        return;
    }
    case SE_TK_ARR: {
        bool first = true;
        putc1(c, '[');
        SE_TAPE_EACH_ELEM(tp, t, e) {
            if (!first)
                putc1(c, ',');
            first = false;
            print_tok(c, r, e, child_ctx(ctx, se_tape_tok(tp, e)->kind));
        }
        putc1(c, ']');
        return;
    }
    case SE_TK_STR:
        se_tout_string(&c->o, tp, t);
        return;
    case SE_TK_NUM:
        se_tout_number(&c->o, tp, t);
        return;
    case SE_TK_TRUE:
        put(c, "true", 4);
        return;
    case SE_TK_FALSE:
        put(c, "false", 5);
        return;
    default:
        put(c, "null", 4);
        return;
    }
}

void se_mt_print_node(mctx *c, uint32_t n)
{
    const mnode *nd = &c->nodes[n];
    if (nd->kind == N_LEAF) {
        print_tok(c, nd->rec, nd->tok, nd->ctx);
        return;
    }
    bool obj = nd->kind == N_OBJ;
    putc1(c, obj ? '{' : '[');
    for (uint32_t m = nd->head; m != NONE && !c->oom; m = c->mems[m].next) {
        if (m != nd->head)
            putc1(c, ',');
        if (obj) {
            put_esc(c, c->mems[m].kp, c->mems[m].kn);
            putc1(c, ':');
        }
        se_mt_print_node(c, c->mems[m].val);
    }
    putc1(c, obj ? '}' : ']');
}
