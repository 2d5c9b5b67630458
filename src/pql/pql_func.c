/* pql_func.c -- PQL functions and methods (pql_call): aggregations,
 * array/list/set functions, map functions, date getters, and the string
 * functions with their regular expressions (PCRE2, UTF-8 mode: matches,
 * regexGroup, and the case-insensitive forms of equals/contains/...).
 * docs/pql.md is the contract. */
#include "pql_ast.h"
#include "timeutil.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- regex */

/* kind 0: a regular expression (matches, regexGroup: kind 1); kind 2: the
 * literal text of a case-insensitive string function, anchored as it needs. */
static pcre2_code *re_make(const char *s, size_t n, int kind, int strfn, int *errcode,
                           size_t *erroff)
{
    uint32_t opt = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (kind == 2) {
        opt |= PCRE2_LITERAL | PCRE2_CASELESS;
        if (strfn == SF_EQUALS || strfn == SF_NOTEQUALTO)
            opt |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
        else if (strfn == SF_STARTSWITH || strfn == SF_DOESNOTSTARTWITH)
            opt |= PCRE2_ANCHORED;
        else if (strfn == SF_ENDSWITH || strfn == SF_DOESNOTENDWITH)
            opt |= PCRE2_ENDANCHORED;
    }
    return pcre2_compile((PCRE2_SPTR)s, n, opt, errcode, erroff, NULL);
}

int pql_regex_compile(parser *p, node *n, const node *pat, int kind)
{
    int ec;
    size_t off;
    if (pat->k != N_LIT || pat->lit.k != V_STR)
        return 0; /* compiled when evaluated */
    if (!(n->re = re_make(pat->lit.s, pat->lit.n, kind, n->op, &ec, &off))) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof msg);
        if (kind == 2)
            pql_perr(&p->e, pat->pos, "invalid UTF-8 in the string");
        else
            pql_perr(&p->e, pat->pos, "invalid regular expression: %s (at offset %zu)",
                     (const char *)msg, off);
        return -1;
    }
    if (kind == 1) {
        const node *g = n->items[2];
        uint32_t ncap = 0;
        pcre2_pattern_info(n->re, PCRE2_INFO_CAPTURECOUNT, &ncap);
        if (g->k == N_LIT && (g->lit.k != V_INT || g->lit.i < 0 || g->lit.i > (int64_t)ncap)) {
            pql_perr(&p->e, g->pos, "the regular expression has no such group (it has %u)",
                     ncap);
            return -1;
        }
    }
    return 0;
}

void pql_regex_free(void *re)
{
    pcre2_code_free(re);
}

/* Matches subject against n's pattern (compiled, or b compiled now).  1 match
 * (*ov the offsets, *md to free), 0 none, -1 no pattern / out of memory. */
static int re_run(ectx *c, const node *n, int kind, const val *a, const val *b,
                  pcre2_match_data **md)
{
    pcre2_code *re = n->re, *own = NULL;
    int ec, rc;
    size_t off;
    *md = NULL;
    if (!re && !(re = own = re_make(b->s, b->n, kind, n->op, &ec, &off)))
        return -1;
    if (!(*md = pcre2_match_data_create_from_pattern(re, NULL))) {
        pcre2_code_free(own);
        c->oom = 1;
        return -1;
    }
    rc = pcre2_match(re, (PCRE2_SPTR)a->s, a->n, 0, 0, *md, NULL);
    pcre2_code_free(own);
    return rc >= 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- strings */

static size_t u8len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    return (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
}

static size_t u8step(const char *s, size_t i, size_t n)
{
    size_t l = u8len((unsigned char)s[i]);
    return i + l > n ? n : i + l;
}

/* SQL LIKE: '%' any run of characters, '_' exactly one character; no escape. */
static bool like_match(const char *s, size_t sn, const char *p, size_t pn)
{
    size_t si = 0, pi = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '_') {
            si = u8step(s, si, sn);
            pi++;
        } else if (pi < pn && p[pi] == '%') {
            star = pi++;
            mark = si;
        } else if (pi < pn && p[pi] == s[si]) {
            si++;
            pi++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            mark = u8step(s, mark, sn);
            si = mark;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

int pql_matches(ectx *c, const node *n, const val *a, const val *b, bool *out)
{
    pcre2_match_data *md;
    *out = false;
    if (a->k != V_STR || b->k != V_STR)
        return 0;
    if (n->k == N_LIKE) {
        *out = like_match(a->s, a->n, b->s, b->n);
        return 0;
    }
    int r = re_run(c, n, 0, a, b, &md);
    pcre2_match_data_free(md);
    *out = r == 1;
    return c->oom ? -1 : 0;
}

int pql_strfn(ectx *c, const node *n, const val *a, const val *b, bool *out)
{
    const char *s = a->s, *t = b->s;
    size_t sn = a->n, tn = b->n;
    int fn = n->op;
    bool r;

    *out = false;
    if (a->k != V_STR || b->k != V_STR)
        return 0;
    if (n->ci) {
        pcre2_match_data *md;
        int m = re_run(c, n, 2, a, b, &md);
        pcre2_match_data_free(md);
        if (m < 0)
            return c->oom ? -1 : 0;
        r = m == 1;
    } else {
        switch (fn) {
        case SF_EQUALS: case SF_NOTEQUALTO:
            r = sn == tn && memcmp(s, t, sn) == 0;
            break;
        case SF_CONTAINS: case SF_DOESNOTCONTAIN:
            r = tn == 0 || (tn <= sn && memmem(s, sn, t, tn) != NULL);
            break;
        case SF_STARTSWITH: case SF_DOESNOTSTARTWITH:
            r = tn <= sn && memcmp(s, t, tn) == 0;
            break;
        default:
            r = tn <= sn && memcmp(s + sn - tn, t, tn) == 0;
            break;
        }
    }
    if (fn == SF_NOTEQUALTO || fn == SF_DOESNOTCONTAIN || fn == SF_DOESNOTSTARTWITH ||
        fn == SF_DOESNOTENDWITH)
        r = !r;
    *out = r;
    return 0;
}

static int regex_group(ectx *c, const node *n, const val *a, val *out)
{
    val b, g;
    pcre2_match_data *md;
    memset(out, 0, sizeof *out);
    if (pql_ev(c, n->items[1], &b) || pql_ev(c, n->items[2], &g))
        return -1;
    if (a->k != V_STR || b.k != V_STR || g.k != V_INT || g.i < 0)
        return 0;
    if (re_run(c, n, 1, a, &b, &md) == 1 && g.i < (int64_t)pcre2_get_ovector_count(md)) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[2 * g.i], e = ov[2 * g.i + 1];
        char *copy;
        if (s != PCRE2_UNSET && e >= s && (copy = pql_alloc(c, e - s + 1))) {
            memcpy(copy, a->s + s, e - s);
            copy[e - s] = '\0';
            out->k = V_STR;
            out->s = copy;
            out->n = e - s;
        }
    }
    pcre2_match_data_free(md);
    return c->oom ? -1 : 0;
}

/* ---------------------------------------------------------------- aggregation */

void pql_agg_add(ectx *c, aggst *a, const val *v)
{
    if (v->k != V_INT && v->k != V_DBL)
        return; /* a tuple without a number is left out */
    a->cnt++;
    if (v->k == V_INT && !a->dbl) {
        if (!__builtin_add_overflow(a->isum, v->i, &a->isum))
            goto best;
        a->dsum = (double)a->isum;
        a->dbl = true;
        a->dsum += (double)v->i;
        goto best;
    }
    if (!a->dbl) {
        a->dsum = (double)a->isum;
        a->dbl = true;
    }
    a->dsum += v->k == V_INT ? (double)v->i : v->d;
best:
    if (a->cnt == 1) {
        a->best = *v;
    } else {
        int r = pql_vcmp(c, v, &a->best);
        if ((a->fn == F_MIN && r == -1) || (a->fn == F_MAX && r == 1))
            a->best = *v;
    }
}

int pql_agg_result(const aggst *a, val *out)
{
    memset(out, 0, sizeof *out);
    switch (a->fn) {
    case F_SUM:
        if (a->dbl) {
            out->k = V_DBL;
            out->d = a->dsum;
        } else {
            out->k = V_INT;
            out->i = a->isum;
        }
        break;
    case F_AVERAGE:
        if (a->cnt) {
            out->k = V_DBL;
            out->d = (a->dbl ? a->dsum : (double)a->isum) / (double)a->cnt;
        }
        break;
    case F_COUNT:
        out->k = V_INT;
        out->i = a->cnt;
        break;
    default:
        if (a->cnt)
            *out = a->best;
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------- per item */

typedef struct {
    const node *n;       /* the call */
    aggst agg;
    bool any;
    val *keys;
    struct { val *v; size_t n, cap; } out;
} itemst;

static int keep(ectx *c, itemst *s, val v)
{
    if (s->out.n == s->out.cap) {
        size_t nc = s->out.cap ? s->out.cap * 2 : 16;
        val *nv = pql_alloc(c, nc * sizeof *nv);
        if (!nv)
            return -1;
        if (s->out.n)
            memcpy(nv, s->out.v, s->out.n * sizeof *nv);
        s->out.v = nv;
        s->out.cap = nc;
    }
    s->out.v[s->out.n++] = v;
    return 0;
}

/* The argument of a per-item method, evaluated on the item. */
static int on_item(ectx *c, const node *arg, const val *it, val *out, bool *b)
{
    int rc;
    c->ctx[++c->sp] = *it;
    if (arg->k == N_LAMBDA)
        c->vars[arg->slot] = *it;
    if (b)
        rc = pql_ev_bool(c, arg->k == N_LAMBDA ? arg->a : arg, b);
    else
        rc = pql_ev(c, arg->k == N_LAMBDA ? arg->a : arg, out);
    c->sp--;
    return rc;
}

static int item_cb(ectx *c, const val *it, void *st, bool *stop)
{
    itemst *s = st;
    const node *n = s->n, *arg = n->nitems > 1 ? n->items[1] : NULL;
    val v = *it;
    bool ok;
    switch (n->op) {
    case F_COUNT:
        s->agg.cnt++;
        return 0;
    case F_FILTER: case F_EXISTS:
        if (on_item(c, arg, it, NULL, &ok))
            return -1;
        if (ok && n->op == F_EXISTS) {
            s->any = true;
            *stop = true;
        }
        return ok && n->op == F_FILTER ? keep(c, s, *it) : 0;
    case F_MAP:
        if (on_item(c, arg, it, &v, NULL))
            return -1;
        return v.k == V_NULL ? 0 : keep(c, s, v);
    case F_TOPN: case F_BOTTOMN:
        if (on_item(c, arg, it, &v, NULL))
            return -1;
        if (v.k != V_INT && v.k != V_DBL)
            return 0;
        if (keep(c, s, v) || keep(c, s, *it))
            return -1;
        return 0;
    default: /* sum, average, min, max */
        if (arg && on_item(c, arg, it, &v, NULL))
            return -1;
        pql_agg_add(c, &s->agg, &v);
        return 0;
    }
}

static val list_of(val *v, size_t n)
{
    val r;
    memset(&r, 0, sizeof r);
    r.k = V_LIST;
    r.items = v;
    r.n = n;
    return r;
}

static bool member(ectx *c, const val *x, const val *seq)
{
    seqit si = {0};
    val it;
    while (pql_seq_next(c, seq, &si, &it))
        if (pql_vcmp(c, x, &it) == 0)
            return true;
    return false;
}

/* topN / bottomN: pairs (key, item) sorted by key (stable insertion sort). */
static void rank(ectx *c, val *pairs, size_t n, bool desc)
{
    for (size_t i = 1; i < n; i++) {
        val k = pairs[2 * i], it = pairs[2 * i + 1];
        size_t j = i;
        while (j > 0) {
            int r = pql_vcmp(c, &pairs[2 * (j - 1)], &k);
            if (desc ? r != -1 : r != 1)
                break;
            pairs[2 * j] = pairs[2 * (j - 1)];
            pairs[2 * j + 1] = pairs[2 * (j - 1) + 1];
            j--;
        }
        pairs[2 * j] = k;
        pairs[2 * j + 1] = it;
    }
}

static int time_parts(ectx *c, const val *v, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t t;
    if (v->k == V_DATE)
        t = v->i;
    else if (pql_val_time(c, v, &t))
        return -1;
    se_civil_from_days(pql_floordiv(t, DAY_MS), y, m, d);
    return 0;
}

int pql_call(ectx *c, const node *n, val *out)
{
    val a, b;
    itemst s;
    bool stop = false;
    int64_t y;
    unsigned mo, d;

    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    s.n = n;
    s.agg.fn = n->op;
    switch (n->op) {
    case F_CURYEAR: case F_CURMONTH: case F_CURDAY:
        se_civil_from_days(pql_floordiv(c->now, DAY_MS), &y, &mo, &d);
        out->k = V_INT;
        out->i = n->op == F_CURYEAR ? y : n->op == F_CURMONTH ? mo : d;
        return 0;
    case F_COUNT:
        if (n->items[0]->ty != TY_SET) {
            if (pql_ev(c, n->items[0], &a))
                return -1;
            if (a.k == V_ARR || a.k == V_LIST) {
                out->k = V_INT;
                out->i = (int64_t)pql_seq_len(&a);
            }
            return 0;
        }
        __attribute__((fallthrough)); /* xEvent, filters, select */
    case F_SUM: case F_AVERAGE: case F_MIN: case F_MAX: case F_FILTER: case F_EXISTS:
    case F_MAP: case F_TOPN: case F_BOTTOMN:
        if (pql_each(c, n->items[0], item_cb, &s, &stop))
            return -1;
        if (n->op == F_EXISTS) {
            out->k = V_BOOL;
            out->b = s.any;
        } else if (n->op == F_FILTER || n->op == F_MAP) {
            *out = list_of(s.out.v, s.out.n);
        } else if (n->op == F_TOPN || n->op == F_BOTTOMN) {
            if (pql_ev(c, n->items[2], &b))
                return -1;
            if (b.k != V_INT || b.i < 0)
                return 0;
            size_t k = s.out.n / 2, want = (size_t)b.i < k ? (size_t)b.i : k;
            rank(c, s.out.v, k, n->op == F_TOPN);
            for (size_t i = 0; i < want; i++)
                s.out.v[i] = s.out.v[2 * i + 1];
            *out = list_of(s.out.v, want);
        } else {
            return pql_agg_result(&s.agg, out);
        }
        return 0;
    default:
        break;
    }
    if (pql_ev(c, n->items[0], &a))
        return -1;
    if (n->nitems > 1 && n->op != F_REGEXGROUP && pql_ev(c, n->items[1], &b))
        return -1;
    bool la = a.k == V_ARR || a.k == V_LIST;
    bool lb = n->nitems > 1 && (b.k == V_ARR || b.k == V_LIST);
    seqit si = {0};
    val it;
    switch (n->op) {
    case F_DISTINCT:
        if (!la)
            return 0;
        while (pql_seq_next(c, &a, &si, &it)) {
            val sofar = list_of(s.out.v, s.out.n);
            if (it.k != V_NULL && !member(c, &it, &sofar) && keep(c, &s, it))
                return -1;
        }
        *out = list_of(s.out.v, s.out.n);
        return 0;
    case F_INTERSECTS: case F_SUBSETOF: case F_SUPERSETOF: case F_INCLUDES: {
        bool r;
        if (!la || (n->op != F_INCLUDES && !lb))
            return 0;
        if (n->op == F_INCLUDES) {
            r = b.k != V_NULL && member(c, &b, &a);
        } else {
            const val *x = n->op == F_SUPERSETOF ? &b : &a, *yv = n->op == F_SUPERSETOF ? &a : &b;
            r = n->op != F_INTERSECTS;
            while (pql_seq_next(c, x, &si, &it)) {
                bool m = member(c, &it, yv);
                if (n->op == F_INTERSECTS ? m : !m) {
                    r = !r;
                    break;
                }
            }
        }
        out->k = V_BOOL;
        out->b = r;
        return 0;
    }
    case F_INTERSECTION:
        if (!la || !lb)
            return 0;
        while (pql_seq_next(c, &a, &si, &it)) {
            val sofar = list_of(s.out.v, s.out.n);
            if (member(c, &it, &b) && !member(c, &it, &sofar) && keep(c, &s, it))
                return -1;
        }
        if (s.out.n)
            *out = list_of(s.out.v, s.out.n);
        return 0;
    case F_HEAD:
        *out = pql_seq_first(c, &a);
        return 0;
    case F_GET:
        if (a.k == V_OBJ && b.k == V_STR && !memchr(b.s, '\0', b.n)) {
            uint32_t o = pql_obj_get(c, a.tp, (uint32_t)a.n, b.s, b.n);
            if (o)
                *out = pql_val_tok(c, a.tp, o);
        }
        return 0;
    case F_KEYS: case F_VALUES: {
        if (a.k != V_OBJ)
            return 0;
        const se_tape *tp = a.tp;
        uint32_t o = (uint32_t)a.n;
        /* json-c's order: each name at its first place, with its last value */
        SE_TAPE_EACH_MEMBER(tp, o, k) {
            if (!pql_key_visible(c, tp, o, k))
                continue;
            val v = pql_val_tok(c, tp, n->op == F_KEYS ? k : se_tape_last_value(tp, o, k));
            if (c->oom || keep(c, &s, v))
                return -1;
        }
        *out = list_of(s.out.v, s.out.n);
        return 0;
    }
    case F_REGEXGROUP:
        return regex_group(c, n, &a, out);
    case F_GETYEAR: case F_GETMONTH: case F_GETDAYOFMONTH:
        if (time_parts(c, &a, &y, &mo, &d))
            return 0;
        out->k = V_INT;
        out->i = n->op == F_GETYEAR ? y : n->op == F_GETMONTH ? mo : d;
        return 0;
    default:
        return 0;
    }
}
