/* pql_eval.c -- evaluation of a compiled PQL tree (pql_ast.h) over one
 * merged profile and its ExperienceEvents (se_pql_eval): values, paths
 * (with ^ and variables), comparisons, boolean logic, quantifiers and
 * aggregations.  Functions and methods are in pql_func.c, time in
 * pql_time.c.  docs/pql.md is the contract; keep the two in step.
 *
 * Values are borrowed from the profile/event tapes (pql_val.c); lists
 * built while evaluating live in a per-evaluation arena, released as soon
 * as a condition no longer needs them.  Null rules (kirby PQL reference): a
 * comparison, string function, in/notIn, like or occurs with a null operand
 * is false; a null in boolean position is false. */
#include "pql_ast.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct arena_chunk {
    arena_chunk *prev;
    size_t cap, used;
    max_align_t data[];
};

void *pql_alloc(ectx *c, size_t n)
{
    arena_chunk *a = c->arena;
    n = (n + 15) & ~(size_t)15;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) {
            c->oom = 1;
            return NULL;
        }
        nc->prev = a;
        nc->cap = cap;
        nc->used = 0;
        c->arena = a = nc;
    }
    void *r = (char *)a->data + a->used;
    a->used += n;
    return r;
}

amark pql_mark(ectx *c)
{
    amark m = {c->arena, c->arena ? c->arena->used : 0};
    return m;
}

void pql_release(ectx *c, amark m)
{
    while (c->arena && c->arena != m.c) {
        arena_chunk *prev = c->arena->prev;
        free(c->arena);
        c->arena = prev;
    }
    if (c->arena)
        c->arena->used = m.used;
}

static int is_num(const val *v) { return v->k == V_INT || v->k == V_DBL; }
static double num_d(const val *v) { return v->k == V_INT ? (double)v->i : v->d; }

/* ---------------------------------------------------------------- lists */

typedef struct { val *v; size_t n, cap; } vec;

static int vec_push(ectx *c, vec *x, val v)
{
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 16;
        val *nv = pql_alloc(c, nc * sizeof *nv);
        if (!nv)
            return -1;
        if (x->n)
            memcpy(nv, x->v, x->n * sizeof *nv);
        x->v = nv;
        x->cap = nc;
    }
    x->v[x->n++] = v;
    return 0;
}

static val vec_val(const vec *x, bool proj)
{
    val v;
    memset(&v, 0, sizeof v);
    v.k = V_LIST;
    v.items = x->v;
    v.n = x->n;
    v.proj = proj;
    return v;
}

/* ---------------------------------------------------------------- paths */

/* json-c's lookup, with "xdm:timestamp" read for an absent "timestamp". */
static uint32_t get_key(const ectx *c, const se_tape *tp, uint32_t o, const char *k)
{
    size_t kn = strlen(k);
    uint32_t v = pql_obj_get(c, tp, o, k, kn);
    if (!v && kn == 9 && memcmp(k, "timestamp", 9) == 0)
        v = pql_obj_get(c, tp, o, "xdm:timestamp", 13);
    return v;
}

static int collect(ectx *c, const val *base, char *const *segs, size_t nsegs, vec *out);

/* base.segs: objects are walked; an array (or list) met on the way is
 * crossed, giving the list of what each item yields (a projection). */
static int walk(ectx *c, val base, char *const *segs, size_t nsegs, val *out)
{
    size_t i = 0;
    if (base.k == V_OBJ) {
        const se_tape *tp = base.tp;
        uint32_t o = (uint32_t)base.n;
        for (; i < nsegs; i++) {
            uint32_t next;
            if (tp->t[o].kind != SE_TK_OBJ)
                break;
            if (!(next = get_key(c, tp, o, segs[i]))) {
                memset(out, 0, sizeof *out);
                return 0;
            }
            o = next;
        }
        base = pql_val_tok(c, tp, o);
    }
    if (i == nsegs) {
        *out = base;
        return 0;
    }
    memset(out, 0, sizeof *out);
    if (base.k != V_ARR && base.k != V_LIST)
        return 0;
    vec x = {0};
    if (collect(c, &base, segs + i, nsegs - i, &x))
        return -1;
    *out = vec_val(&x, true);
    return 0;
}

static int collect(ectx *c, const val *base, char *const *segs, size_t nsegs, vec *out)
{
    seqit si = {0};
    val it, r;
    while (pql_seq_next(c, base, &si, &it)) {
        if (it.k == V_ARR || it.k == V_LIST) {
            if (collect(c, &it, segs, nsegs, out))
                return -1;
            continue;
        }
        if (walk(c, it, segs, nsegs, &r))
            return -1;
        if (r.k == V_LIST && r.proj) {
            for (size_t j = 0; j < r.n; j++)
                if (vec_push(c, out, r.items[j]))
                    return -1;
        } else if (r.k != V_NULL && vec_push(c, out, r)) {
            return -1;
        }
    }
    return 0;
}

static int ev_path(ectx *c, const node *n, val *out)
{
    val base;
    if (n->var >= 0)
        base = c->vars[n->var];
    else if (n->up < 0)
        base = c->ctx[0];
    else
        base = c->ctx[c->sp - n->up];
    if (base.k == V_OBJ && n->nsegs == 1) { /* the common case, inlined */
        memset(out, 0, sizeof *out);
        uint32_t o = get_key(c, base.tp, (uint32_t)base.n, n->segs[0]);
        if (o)
            *out = pql_val_tok(c, base.tp, o);
        return 0;
    }
    return walk(c, base, n->segs, n->nsegs, out);
}

/* ---------------------------------------------------------------- items */

static int events_list(ectx *c, val *out)
{
    vec x = {0};
    for (size_t i = 0; i < c->nevents; i++)
        if (c->events[i] && vec_push(c, &x, pql_val_tok(c, c->events[i], 0)))
            return -1;
    *out = vec_val(&x, false);
    return 0;
}


typedef struct {
    ectx *c;
    const node *cond;
    int (*fn)(ectx *, const val *, void *, bool *);
    void *st;
} filt;

static int filter_item(ectx *c, const val *it, void *st, bool *stop)
{
    filt *f = st;
    bool ok = false;
    amark m = pql_mark(c);
    c->ctx[++c->sp] = *it;
    int rc = pql_ev_bool(c, f->cond, &ok);
    c->sp--;
    pql_release(c, m);
    if (rc)
        return -1;
    return ok ? f->fn(c, it, f->st, stop) : 0;
}

/* Calls fn on each item of the set n (xEvent, a filter, any array), without
 * building the set; fn sets *stop to end early. */
int pql_each(ectx *c, const node *n, int (*fn)(ectx *, const val *, void *, bool *),
             void *st, bool *stop)
{
    if (n->k == N_XEVENT) {
        for (size_t i = 0; i < c->nevents && !*stop; i++) {
            if (!c->events[i])
                continue;
            val v = pql_val_tok(c, c->events[i], 0);
            if (fn(c, &v, st, stop))
                return -1;
        }
        return 0;
    }
    if (n->k == N_FILTER) {
        filt f = {c, n->b, fn, st};
        return pql_each(c, n->a, filter_item, &f, stop);
    }
    val s, it;
    seqit si = {0};
    if (pql_ev(c, n, &s))
        return -1;
    while (!*stop && pql_seq_next(c, &s, &si, &it))
        if (fn(c, &it, st, stop))
            return -1;
    return 0;
}

static int push_item(ectx *c, const val *it, void *st, bool *stop)
{
    (void)stop;
    return vec_push(c, st, *it);
}

/* The set n as a list value. */
int pql_items(ectx *c, const node *n, val *out)
{
    vec x = {0};
    bool stop = false;
    if (pql_each(c, n, push_item, &x, &stop))
        return -1;
    *out = vec_val(&x, false);
    return 0;
}

/* ---------------------------------------------------------------- quantifiers */

typedef int (*tuple_fn)(ectx *c, const node *n, void *st, bool *stop);

/* Every tuple of the clauses from k on (each clause's condition holding).
 * What the arrays needed is released at the end, unless fn keeps values
 * (keep: select's list is built in the same arena). */
static int tuples(ectx *c, const node *n, size_t k, tuple_fn fn, void *st, bool *stop, bool keep)
{
    val arr, it;
    seqit si = {0};
    int rc = 0;
    if (k == n->ncl)
        return fn(c, n, st, stop);
    amark m = pql_mark(c);
    if (n->cl[k].arr->k == N_XEVENT) {
        if (events_list(c, &arr))
            return -1;
    } else if (pql_ev(c, n->cl[k].arr, &arr)) {
        return -1;
    }
    while (!*stop && rc == 0 && pql_seq_next(c, &arr, &si, &it)) {
        bool ok = true;
        c->vars[n->cl[k].slot] = it;
        if (n->cl[k].cond && pql_ev_bool(c, n->cl[k].cond, &ok))
            rc = -1;
        else if (ok)
            rc = tuples(c, n, k + 1, fn, st, stop, keep);
    }
    if (!keep)
        pql_release(c, m);
    return rc;
}

static int t_any(ectx *c, const node *n, void *st, bool *stop)
{
    (void)c;
    (void)n;
    *(bool *)st = true;
    *stop = true;
    return 0;
}

static int t_select(ectx *c, const node *n, void *st, bool *stop)
{
    (void)stop;
    if (n->ncl == 1)
        return vec_push(c, st, c->vars[n->cl[0].slot]);
    vec t = {0};
    for (size_t i = 0; i < n->ncl; i++)
        if (vec_push(c, &t, c->vars[n->cl[i].slot]))
            return -1;
    return vec_push(c, st, vec_val(&t, false));
}


static int t_agg(ectx *c, const node *n, void *st, bool *stop)
{
    val v;
    (void)stop;
    amark m = pql_mark(c);
    if (n->a) {
        if (pql_ev(c, n->a, &v))
            return -1;
    } else {
        v = c->vars[n->cl[0].slot];
    }
    pql_agg_add(c, st, &v);
    pql_release(c, m);
    return 0;
}

/* forall: every item of each clause satisfies its condition. */
static int forall(ectx *c, const node *n, size_t k, bool *out)
{
    val arr, it;
    seqit si = {0};
    int rc = 0;
    *out = true;
    if (k == n->ncl)
        return 0;
    amark m = pql_mark(c);
    if (n->cl[k].arr->k == N_XEVENT ? events_list(c, &arr) : pql_ev(c, n->cl[k].arr, &arr))
        return -1;
    while (*out && rc == 0 && pql_seq_next(c, &arr, &si, &it)) {
        c->vars[n->cl[k].slot] = it;
        if (n->cl[k].cond && pql_ev_bool(c, n->cl[k].cond, out))
            rc = -1;
        else if (*out)
            rc = forall(c, n, k + 1, out);
    }
    pql_release(c, m);
    return rc;
}

/* ---------------------------------------------------------------- arithmetic */

static int arith(int op, const val *a, const val *b, val *out)
{
    memset(out, 0, sizeof *out);
    if (!is_num(a) || !is_num(b))
        return 0;
    if (a->k == V_INT && b->k == V_INT && op != TK_SLASH) {
        int64_t r;
        bool ovf;
        switch (op) {
        case TK_PLUS: ovf = __builtin_add_overflow(a->i, b->i, &r); break;
        case TK_MINUS: ovf = __builtin_sub_overflow(a->i, b->i, &r); break;
        case TK_STAR: ovf = __builtin_mul_overflow(a->i, b->i, &r); break;
        default:
            if (b->i == 0)
                return 0;
            ovf = b->i == -1;
            r = ovf ? 0 : a->i % b->i;
            break;
        }
        if (!ovf) {
            out->k = V_INT;
            out->i = r;
            return 0;
        }
    }
    double x = num_d(a), y = num_d(b), r;
    switch (op) {
    case TK_PLUS: r = x + y; break;
    case TK_MINUS: r = x - y; break;
    case TK_STAR: r = x * y; break;
    case TK_SLASH:
        if (y == 0)
            return 0;
        r = x / y;
        break;
    default:
        if (y == 0)
            return 0;
        r = x - y * (double)(int64_t)(x / y);
        break;
    }
    if (r != r)
        return 0;
    out->k = V_DBL;
    out->d = r;
    return 0;
}

/* ---------------------------------------------------------------- evaluation */

int pql_ev(ectx *c, const node *n, val *out)
{
    val a, b;
    memset(out, 0, sizeof *out);
    switch (n->k) {
    case N_LIT:
        *out = n->lit;
        return 0;
    case N_PATH:
        return ev_path(c, n, out);
    case N_FIELD:
        if (pql_ev(c, n->a, &a))
            return -1;
        return walk(c, a, n->segs, n->nsegs, out);
    case N_LIST: {
        vec x = {0};
        if (n->lit.k == V_LIST) {
            *out = n->lit;
            return 0;
        }
        for (size_t i = 0; i < n->nitems; i++)
            if (pql_ev(c, n->items[i], &a) || vec_push(c, &x, a))
                return -1;
        *out = vec_val(&x, false);
        return 0;
    }
    case N_XEVENT:
    case N_FILTER:
        return pql_items(c, n, out);
    case N_SELECT: {
        vec x = {0};
        bool stop = false;
        if (tuples(c, n, 0, t_select, &x, &stop, true))
            return -1;
        *out = vec_val(&x, false);
        return 0;
    }
    case N_AGG: {
        aggst st;
        bool stop = false;
        memset(&st, 0, sizeof st);
        st.fn = n->op;
        if (tuples(c, n, 0, t_agg, &st, &stop, false))
            return -1;
        return pql_agg_result(&st, out);
    }
    case N_ARITH:
        if (pql_ev(c, n->a, &a) || pql_ev(c, n->b, &b))
            return -1;
        return arith(n->op, &a, &b, out);
    case N_NEG:
        if (pql_ev(c, n->a, &a))
            return -1;
        b.k = V_INT;
        b.i = 0;
        return arith(TK_MINUS, &b, &a, out);
    case N_IF: {
        bool t;
        if (pql_ev_bool(c, n->items[0], &t))
            return -1;
        return pql_ev(c, n->items[t ? 1 : 2], out);
    }
    case N_LET:
        for (size_t i = 0; i < n->nitems; i++)
            if (pql_ev(c, n->items[i], &c->vars[n->slot + (int)i]))
                return -1;
        return pql_ev(c, n->a, out);
    case N_LAMBDA:
        c->vars[n->slot] = c->ctx[c->sp];
        return pql_ev(c, n->a, out);
    case N_CALL:
        return pql_call(c, n, out);
    case N_DATE: {
        if (n->lit.k == V_DATE) {
            *out = n->lit;
            return 0;
        }
        int64_t v[3];
        for (int i = 0; i < 3; i++) {
            if (pql_ev(c, n->items[i], &a))
                return -1;
            if (a.k != V_INT)
                return 0;
            v[i] = a.i;
        }
        if (pql_date(v[0], v[1], v[2], &out->i) == 0)
            out->k = V_DATE;
        return 0;
    }
    default: {
        bool r;
        if (pql_ev_bool(c, n, &r))
            return -1;
        out->k = V_BOOL;
        out->b = r;
        return 0;
    }
    }
}

static bool cmp_holds(ectx *c, int op, const val *a, const val *b)
{
    int r = pql_vcmp(c, a, b);
    switch (op) {
    case TK_EQ: return r == 0;
    case TK_NE: return r == -1 || r == 1 || r == 3;
    case TK_LT: return is_num(a) && is_num(b) && r == -1;
    case TK_LE: return is_num(a) && is_num(b) && (r == -1 || r == 0);
    case TK_GT: return is_num(a) && is_num(b) && r == 1;
    default: return is_num(a) && is_num(b) && (r == 1 || r == 0);
    }
}

/* A projection (a path through arrays) compared with a single value: some
 * item compares. */
static bool compare(ectx *c, int op, const val *a, const val *b)
{
    bool la = a->k == V_LIST || a->k == V_ARR, lb = b->k == V_LIST || b->k == V_ARR;
    if ((a->k == V_LIST && a->proj && !lb) || (b->k == V_LIST && b->proj && !la)) {
        const val *l = a->k == V_LIST && a->proj ? a : b;
        for (size_t i = 0; i < l->n; i++)
            if (l == a ? cmp_holds(c, op, &l->items[i], b) : cmp_holds(c, op, a, &l->items[i]))
                return true;
        return false;
    }
    return cmp_holds(c, op, a, b);
}

static int any_item(ectx *c, const val *it, void *st, bool *stop)
{
    (void)c;
    (void)it;
    *(bool *)st = true;
    *stop = true;
    return 0;
}

/* in / notIn, like, matches, string functions on one left value. */
static int scalar_test(ectx *c, const node *n, const val *a, const val *b, bool *out)
{
    bool found = false;
    *out = false;
    switch (n->k) {
    case N_IN:
        if (a->k != V_STR && a->k != V_INT && a->k != V_DBL && a->k != V_BOOL)
            return 0;
        if (b->k != V_ARR && b->k != V_LIST)
            return 0;
        seqit si = {0};
        val it;
        while (!found && pql_seq_next(c, b, &si, &it))
            found = pql_vcmp(c, a, &it) == 0;
        *out = n->op ? !found : found;
        return 0;
    case N_STRFN:
        return pql_strfn(c, n, a, b, out);
    default:
        return pql_matches(c, n, a, b, out);
    }
}

static int ev_cond(ectx *c, const node *n, bool *out)
{
    val a, b;
    switch (n->k) {
    case N_CMP:
        if (pql_ev(c, n->a, &a) || pql_ev(c, n->b, &b))
            return -1;
        *out = compare(c, n->op, &a, &b);
        return 0;
    case N_IN: case N_LIKE: case N_MATCHES: case N_STRFN:
        if (pql_ev(c, n->a, &a) || pql_ev(c, n->b, &b))
            return -1;
        if (a.k == V_LIST && a.proj) { /* a projection: some item */
            for (size_t i = 0; i < a.n && !*out; i++)
                if (scalar_test(c, n, &a.items[i], &b, out))
                    return -1;
            return 0;
        }
        return scalar_test(c, n, &a, &b, out);
    case N_ISNULL:
        if (pql_ev(c, n->a, &a))
            return -1;
        *out = (a.k == V_NULL) != (n->op != 0);
        return 0;
    case N_OCCURS: {
        int64_t t;
        if (pql_ev(c, n->a, &a))
            return -1;
        if (pql_val_time(c, &a, &t))
            return 0;
        return pql_occurs(c, &n->oc, t, out);
    }
    case N_INSEG: {
        /* segmentMembership.ups.ID.status, compared as json-c's C string */
        const se_tape *tp = c->profile;
        const char *path[] = {"segmentMembership", "ups", n->owned, "status"};
        uint32_t o = 0;
        for (size_t i = 0; i < 4; i++)
            if (!(o = pql_obj_get(c, tp, o, path[i], strlen(path[i]))))
                return 0;
        if (tp->t[o].kind != SE_TK_STR)
            return 0;
        a = pql_val_tok(c, tp, o);
        const char *nul = a.k == V_STR ? memchr(a.s, '\0', a.n) : NULL;
        size_t len = nul ? (size_t)(nul - a.s) : a.n;
        *out = a.k == V_STR && len == 8 &&
               (memcmp(a.s, "realized", 8) == 0 || memcmp(a.s, "existing", 8) == 0);
        return 0;
    }
    case N_SELECT: case N_EXISTS: {
        bool stop = false;
        return tuples(c, n, 0, t_any, out, &stop, false);
    }
    case N_FORALL:
        return forall(c, n, 0, out);
    case N_XEVENT: case N_FILTER: {
        bool stop = false;
        return pql_each(c, n, any_item, out, &stop);
    }
    case N_CHAIN:
        return pql_chain(c, n, out);
    default:
        if (pql_ev(c, n, &a))
            return -1;
        *out = pql_truthy(&a);
        return 0;
    }
}

int pql_ev_bool(ectx *c, const node *n, bool *out)
{
    *out = false;
    switch (n->k) {
    case N_AND:
    case N_OR:
        /* short-circuit: and stops at the first false, or at the first true */
        for (size_t i = 0; i < n->nitems; i++) {
            if (pql_ev_bool(c, n->items[i], out))
                return -1;
            if (*out == (n->k == N_OR))
                return 0;
        }
        return 0;
    case N_NOT:
        if (pql_ev_bool(c, n->a, out))
            return -1;
        *out = !*out;
        return 0;
    default: {
        amark m = pql_mark(c);
        int rc = ev_cond(c, n, out);
        pql_release(c, m);
        if (c->oom)
            return -1;
        return rc;
    }
    }
}

int se_pql_eval_tape(const se_pql *q, const se_tape *profile, const se_tape *const *events,
                     size_t nevents, int64_t now_ms, bool raw, bool *match)
{
    ectx c;
    bool r = false;
    int rc;
    memset(&c, 0, sizeof c);
    c.profile = profile;
    c.raw = raw;
    c.ctx[0] = pql_val_tok(&c, profile, 0);
    c.events = events;
    c.nevents = events ? nevents : 0;
    c.now = now_ms;
    c.today = pql_floordiv(now_ms, DAY_MS) * DAY_MS;
    *match = false;
    rc = pql_ev_bool(&c, q->root, &r);
    pql_release(&c, (amark){NULL, 0});
    if (rc || c.oom)
        return -1;
    *match = r;
    return 0;
}
