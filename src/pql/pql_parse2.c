/* pql_parse2.c -- PQL constructs with their own syntax: select / exists /
 * forall / let / sum..over, function and method calls (type-checked from a
 * table), occurs specifications with their anchors, date(...), and
 * chain(...) sequences.  The expression grammar is in pql_parse.c.
 * docs/pql.md is the contract. */
#include "pql_ast.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OCC_N 1000000    /* largest N in "occurs < N units ..." */

#define cur pql_cur
#define peek pql_peek
#define tok_is pql_tok_is
#define perr pql_perr
#define mk pql_mk
#define expect pql_expect
#define unexpected pql_unexpected

static void pop_scope(parser *p, int scope0)
{
    while (p->nscope > scope0)
        free((void *)p->scope[--p->nscope]);
}

static int parse_uint(parser *p, int64_t max, int64_t *out, const char *what)
{
    const token *t = cur(p);
    if (t->k != TK_INT || t->i < 0) {
        unexpected(p, what);
        return -1;
    }
    if (t->i > max) {
        perr(&p->e, t->pos, "%s %" PRId64 " is too large (at most %" PRId64 ")", what, t->i, max);
        return -1;
    }
    *out = t->i;
    p->i++;
    return 0;
}

/* V from ARR [where COND | : COND] {, V from ARR ...}; the variables stay in
 * scope (the caller pops them). */
static int parse_clauses(parser *p, node *n, bool colon)
{
    for (;;) {
        const token *v = cur(p);
        clause c = {0, NULL, NULL};
        int slot;
        if (!tok_is(p, peek(p, 1), "from")) {
            if (v->k == TK_IDENT && !pql_is_reserved(p, v))
                p->i++;
            unexpected(p, "from");
            return -1;
        }
        if ((slot = pql_declare(p, v)) < 0)
            return -1;
        p->i += 2;
        /* The array is read before its own variable exists.  A quantifier
         * inside it declares its variables from this slot on (they are done
         * with before this variable takes a value) and frees their names:
         * this variable's name is put back after. */
        const char *name = p->scope[--p->nscope];
        c.arr = pql_parse_add(p);
        p->scope[p->nscope] = name;
        p->scope_ty[p->nscope] = TY_ANY;
        p->nscope++;
        if (!c.arr)
            return -1;
        if (c.arr->ty != TY_SET && c.arr->ty != TY_ANY && c.arr->ty != TY_LIST) {
            perr(&p->e, c.arr->pos, "from needs an array");
            pql_node_free(c.arr);
            return -1;
        }
        c.slot = slot;
        if (tok_is(p, cur(p), "where") || (colon && cur(p)->k == TK_COLON)) {
            p->i++;
            if (!(c.cond = pql_parse_expr(p)) || pql_need_cond(p, c.cond)) {
                pql_node_free(c.arr);
                pql_node_free(c.cond);
                return -1;
            }
        }
        if ((n->ncl & (n->ncl - 1)) == 0) {
            clause *ncl = realloc(n->cl, (n->ncl ? n->ncl * 2 : 1) * sizeof *ncl);
            if (!ncl) {
                pql_node_free(c.arr);
                pql_node_free(c.cond);
                perr(&p->e, v->pos, "out of memory");
                return -1;
            }
            n->cl = ncl;
        }
        n->cl[n->ncl++] = c;
        if (cur(p)->k == TK_COMMA && peek(p, 1)->k == TK_IDENT && tok_is(p, peek(p, 2), "from")) {
            p->i++;
            continue;
        }
        return 0;
    }
}

/* let V = e {, V = e} in body */
static node *parse_let(parser *p, node *n)
{
    n->slot = p->nscope;
    do {
        const token *v;
        node *e;
        p->i++; /* let or ',' */
        v = cur(p);
        if (v->k != TK_IDENT || pql_is_reserved(p, v) || peek(p, 1)->k != TK_EQ) {
            unexpected(p, v->k == TK_IDENT ? "'='" : "a variable name");
            return NULL;
        }
        p->i += 2;
        int slot;
        if (!(e = pql_parse_add(p)) || pql_add_item(p, n, e))
            return NULL;
        if ((slot = pql_declare(p, v)) < 0)
            return NULL;
        p->scope_ty[slot] = e->ty;
    } while (cur(p)->k == TK_COMMA);
    if (!tok_is(p, cur(p), "in")) {
        unexpected(p, "in");
        return NULL;
    }
    p->i++;
    if (!(n->a = pql_parse_expr(p)))
        return NULL;
    n->ty = n->a->ty;
    return n;
}

/* select / exists / forall clauses; sum|average|min|max [EXPR over] clauses;
 * let ... in. */
node *pql_parse_quant(parser *p, enum nk kind)
{
    const token *t = cur(p);
    node *n = mk(p, kind, kind == N_SELECT ? TY_SET : kind == N_AGG ? TY_NUM : TY_COND, t->pos);
    int scope0 = p->nscope;

    if (!n)
        return NULL;
    if (kind == N_LET) {
        if (!parse_let(p, n))
            goto fail;
        pop_scope(p, scope0);
        return n;
    }
    if (kind == N_AGG) {
        n->op = tok_is(p, t, "sum") ? F_SUM : tok_is(p, t, "average") ? F_AVERAGE
              : tok_is(p, t, "min") ? F_MIN : F_MAX;
    }
    p->i++;
    if (kind == N_AGG && !tok_is(p, peek(p, 1), "from")) {
        /* EXPR over clauses: the expression uses variables declared after it. */
        size_t start = p->i, over, end;
        int depth = 0;
        for (over = p->i; p->t[over].k != TK_EOF; over++) {
            enum tk k = p->t[over].k;
            if (k == TK_LP || k == TK_LB)
                depth++;
            else if ((k == TK_RP || k == TK_RB) && --depth < 0)
                break;
            else if (depth == 0 && tok_is(p, &p->t[over], "over"))
                break;
        }
        if (!tok_is(p, &p->t[over], "over")) {
            p->i = over;
            unexpected(p, "over");
            goto fail;
        }
        p->i = over + 1;
        if (parse_clauses(p, n, false))
            goto fail;
        end = p->i;
        p->i = start;
        if (!(n->a = pql_parse_add(p)))
            goto fail;
        if (p->i != over) {
            unexpected(p, "over");
            goto fail;
        }
        if (n->a->ty != TY_NUM && n->a->ty != TY_ANY) {
            perr(&p->e, n->a->pos, "%s needs a number", pql_tok_txt(p, t, (char[64]){0}, 64));
            goto fail;
        }
        p->i = end;
    } else if (parse_clauses(p, n, kind != N_SELECT)) {
        goto fail;
    }
    if (kind == N_AGG && !n->a && n->ncl != 1) {
        perr(&p->e, t->pos, "%s over several variables needs an expression (sum E over ...)",
             pql_tok_txt(p, t, (char[64]){0}, 64));
        goto fail;
    }
    pop_scope(p, scope0);
    return n;
fail:
    pop_scope(p, scope0);
    pql_node_free(n);
    return NULL;
}

/* ---------------------------------------------------------------- calls */

enum { M_FN, M_METHOD };

static const struct fdef {
    const char *name;
    int fn;
    int kind;            /* M_FN: no receiver; M_METHOD: a receiver */
    int min, max;        /* arguments */
    bool peritem;        /* argument 1 is evaluated on each item */
    enum ty ty;          /* result */
} fdefs[] = {
    {"count", F_COUNT, M_METHOD, 0, 0, false, TY_NUM},
    {"sum", F_SUM, M_METHOD, 0, 1, true, TY_NUM},
    {"average", F_AVERAGE, M_METHOD, 0, 1, true, TY_NUM},
    {"min", F_MIN, M_METHOD, 0, 1, true, TY_NUM},
    {"max", F_MAX, M_METHOD, 0, 1, true, TY_NUM},
    {"distinct", F_DISTINCT, M_METHOD, 0, 0, false, TY_SET},
    {"intersects", F_INTERSECTS, M_METHOD, 1, 1, false, TY_COND},
    {"intersection", F_INTERSECTION, M_METHOD, 1, 1, false, TY_SET},
    {"subsetOf", F_SUBSETOF, M_METHOD, 1, 1, false, TY_COND},
    {"supersetOf", F_SUPERSETOF, M_METHOD, 1, 1, false, TY_COND},
    {"includes", F_INCLUDES, M_METHOD, 1, 1, false, TY_COND},
    {"head", F_HEAD, M_METHOD, 0, 0, false, TY_ANY},
    {"topN", F_TOPN, M_METHOD, 2, 2, true, TY_SET},
    {"bottomN", F_BOTTOMN, M_METHOD, 2, 2, true, TY_SET},
    {"filter", F_FILTER, M_METHOD, 1, 1, true, TY_SET},
    {"map", F_MAP, M_METHOD, 1, 1, true, TY_SET},
    {"exists", F_EXISTS, M_METHOD, 1, 1, true, TY_COND},
    {"get", F_GET, M_METHOD, 1, 1, false, TY_ANY},
    {"keys", F_KEYS, M_METHOD, 0, 0, false, TY_SET},
    {"values", F_VALUES, M_METHOD, 0, 0, false, TY_SET},
    {"regexGroup", F_REGEXGROUP, M_METHOD, 2, 2, false, TY_STR},
    {"getYear", F_GETYEAR, M_METHOD, 0, 0, false, TY_NUM},
    {"getMonth", F_GETMONTH, M_METHOD, 0, 0, false, TY_NUM},
    {"getDayOfMonth", F_GETDAYOFMONTH, M_METHOD, 0, 0, false, TY_NUM},
    {"currentYear", F_CURYEAR, M_FN, 0, 0, false, TY_NUM},
    {"currentMonth", F_CURMONTH, M_FN, 0, 0, false, TY_NUM},
    {"currentDayOfMonth", F_CURDAY, M_FN, 0, 0, false, TY_NUM},
};

static const struct { const char *name; int fn; } strfns[] = {
    {"equals", SF_EQUALS}, {"notEqualTo", SF_NOTEQUALTO}, {"contains", SF_CONTAINS},
    {"doesNotContain", SF_DOESNOTCONTAIN}, {"startsWith", SF_STARTSWITH},
    {"doesNotStartWith", SF_DOESNOTSTARTWITH}, {"endsWith", SF_ENDSWITH},
    {"doesNotEndWith", SF_DOESNOTENDWITH},
};

/* Arguments up to ')': each an expression; per-item ones see the item. */
static int parse_args(parser *p, node *n, bool peritem)
{
    p->i++; /* '(' */
    if (cur(p)->k == TK_RP) {
        p->i++;
        return 0;
    }
    for (;;) {
        node *a;
        bool item = peritem && n->nitems == 1;
        if (item && p->filters >= MAX_UP) {
            pql_perr(&p->e, cur(p)->pos, "filters nested too deeply");
            return -1;
        }
        int lam0 = p->lambda_slot;
        p->filters += item;
        if (item)
            p->lambda_slot = -2; /* $1: the item */
        a = pql_parse_expr(p);
        p->lambda_slot = lam0;
        p->filters -= item;
        if (!a || pql_add_item(p, n, a))
            return -1;
        if (cur(p)->k == TK_COMMA) {
            p->i++;
            continue;
        }
        return expect(p, TK_RP, "',' or ')'");
    }
}

static int check_arg(parser *p, const node *a, bool cond, bool value)
{
    if (cond && pql_need_cond(p, a))
        return -1;
    if (value && (a->ty == TY_COND || a->ty == TY_VAL)) {
        perr(&p->e, a->pos, "expected a value, not a condition");
        return -1;
    }
    return 0;
}

static node *date_node(parser *p, node *n)
{
    int64_t v[3];
    n->k = N_DATE;
    n->ty = TY_DATE;
    if (n->nitems != 3) {
        perr(&p->e, n->pos, "date(...) takes 3 arguments (year, month, day)");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (n->items[i]->ty != TY_NUM && n->items[i]->ty != TY_ANY) {
            perr(&p->e, n->items[i]->pos, "date(...) needs integers");
            return NULL;
        }
        if (n->items[i]->k != N_LIT)
            return n;
        if (n->items[i]->lit.k != V_INT) {
            perr(&p->e, n->items[i]->pos, "date(...) needs integers");
            return NULL;
        }
        v[i] = n->items[i]->lit.i;
    }
    if (v[0] < 1 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
        v[2] > se_days_in_month(v[0], (unsigned)v[1])) {
        perr(&p->e, n->pos, "date(%" PRId64 ", %" PRId64 ", %" PRId64 ") is not a valid date",
             v[0], v[1], v[2]);
        return NULL;
    }
    n->lit.k = V_DATE;
    n->lit.i = se_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * DAY_MS;
    return n;
}

/* name( at cur; recv the receiver of a method (NULL for a function).  The
 * receiver belongs to the result (freed on failure). */
node *pql_parse_call(parser *p, node *recv, const token *name)
{
    char b[64];
    const struct fdef *f = NULL;
    node *n = mk(p, N_CALL, TY_ANY, name->pos);
    int sf = -1;

    if (!n) {
        pql_node_free(recv);
        return NULL;
    }
    if (recv && pql_add_item(p, n, recv))
        goto fail;
    for (size_t i = 0; i < sizeof fdefs / sizeof fdefs[0] && !f; i++)
        if (tok_is(p, name, fdefs[i].name))
            f = &fdefs[i];
    for (size_t i = 0; i < sizeof strfns / sizeof strfns[0]; i++)
        if (tok_is(p, name, strfns[i].name))
            sf = strfns[i].fn;
    p->i++; /* name */
    if (tok_is(p, name, "groupBy") || tok_is(p, name, "mapEntry")) {
        perr(&p->e, name->pos, "'%.*s(...)' builds a map: it belongs to computed attributes, "
             "not segment conditions", (int)name->len, p->e.text + name->pos);
        goto fail;
    }
    bool method = recv != NULL;
    bool fnonly = f ? f->kind == M_FN : (tok_is(p, name, "date") || tok_is(p, name, "if"));
    bool known = f || sf >= 0 || tok_is(p, name, "isNull") || tok_is(p, name, "isNotNull") ||
                 tok_is(p, name, "matches") || tok_is(p, name, "like") ||
                 tok_is(p, name, "date") || tok_is(p, name, "if");
    if (!known) {
        perr(&p->e, name->pos, "unsupported function %s", pql_tok_txt(p, name, b, sizeof b));
        goto fail;
    }
    if (parse_args(p, n, f && f->peritem))
        goto fail;
    size_t nargs = n->nitems - method;
    if (!method && (tok_is(p, name, "date") || tok_is(p, name, "if"))) {
        if (tok_is(p, name, "date"))
            return date_node(p, n) ? n : (pql_node_free(n), NULL);
        if (nargs != 3) {
            perr(&p->e, name->pos, "if(...) takes 3 arguments");
            goto fail;
        }
        n->k = N_IF;
        if (pql_need_cond(p, n->items[0]) || check_arg(p, n->items[1], false, false) ||
            check_arg(p, n->items[2], false, false))
            goto fail;
        enum ty t1 = n->items[1]->ty, t2 = n->items[2]->ty;
        bool c1 = t1 == TY_COND || t1 == TY_BLIT, c2 = t2 == TY_COND || t2 == TY_BLIT;
        if (c1 && c2)
            n->ty = TY_COND;
        else if ((t1 == TY_NUM || t1 == TY_STR) && (t2 == t1 || t2 == TY_ANY))
            n->ty = t1;
        else if ((t2 == TY_NUM || t2 == TY_STR) && t1 == TY_ANY)
            n->ty = t2;
        else
            n->ty = TY_VAL;
        return n;
    }
    if (method == fnonly) {
        perr(&p->e, name->pos, method ? "%s is a function, not a method"
                                      : "%s is a method: write x.%.*s(...)",
             pql_tok_txt(p, name, b, sizeof b), (int)name->len, p->e.text + name->pos);
        goto fail;
    }
    node *r = method ? n->items[0] : NULL;
    if (r && (r->ty == TY_COND || r->ty == TY_VAL)) {
        perr(&p->e, r->pos, "%s cannot be the receiver of %s",
             r->ty == TY_COND ? "a condition" : "a value", pql_tok_txt(p, name, b, sizeof b));
        goto fail;
    }
    if (f) {
        if ((int)nargs < f->min || (int)nargs > f->max) {
            perr(&p->e, name->pos, "%s takes %d to %d arguments", pql_tok_txt(p, name, b, sizeof b),
                 f->min, f->max);
            goto fail;
        }
        n->op = f->fn;
        n->ty = f->ty;
        n->peritem = f->peritem;
        if (r && f->fn <= F_INCLUDES && r->ty != TY_SET && r->ty != TY_ANY && r->ty != TY_LIST) {
            perr(&p->e, name->pos, "%s needs an array", pql_tok_txt(p, name, b, sizeof b));
            goto fail;
        }
        for (size_t i = 1; i < n->nitems; i++)
            if (check_arg(p, n->items[i], (f->fn == F_FILTER || f->fn == F_EXISTS),
                          !(f->fn == F_FILTER || f->fn == F_EXISTS)))
                goto fail;
        if (f->fn == F_REGEXGROUP && pql_regex_compile(p, n, n->items[1], 1))
            goto fail;
        return n;
    }
    /* string functions, matches, like, isNull */
    if (tok_is(p, name, "isNull") || tok_is(p, name, "isNotNull")) {
        if (nargs) {
            perr(&p->e, name->pos, "%s takes no arguments", pql_tok_txt(p, name, b, sizeof b));
            goto fail;
        }
        n->k = N_ISNULL;
        n->ty = TY_COND;
        n->op = tok_is(p, name, "isNotNull");
    } else {
        size_t maxa = sf >= 0 ? 2 : 1;
        if (nargs < 1 || nargs > maxa) {
            perr(&p->e, name->pos, "%s takes %s", pql_tok_txt(p, name, b, sizeof b),
                 maxa == 2 ? "1 or 2 arguments" : "1 argument");
            goto fail;
        }
        if (check_arg(p, r, false, true) || check_arg(p, n->items[1], false, true))
            goto fail;
        n->ty = TY_COND;
        if (nargs == 2) {
            if (n->items[2]->k != N_LIT || n->items[2]->lit.k != V_BOOL) {
                perr(&p->e, n->items[2]->pos, "expected true or false (case sensitivity)");
                goto fail;
            }
            n->ci = !n->items[2]->lit.b;
        }
        if (sf >= 0) {
            n->k = N_STRFN;
            n->op = sf;
            if (n->ci && pql_regex_compile(p, n, n->items[1], 2))
                goto fail;
        } else {
            n->k = tok_is(p, name, "like") ? N_LIKE : N_MATCHES;
            if (n->k == N_MATCHES && pql_regex_compile(p, n, n->items[1], 0))
                goto fail;
        }
    }
    /* these keep their operands in a, b (as the infix forms) */
    n->a = n->items[0];
    n->b = n->nitems > 1 ? n->items[1] : NULL;
    for (size_t i = 2; i < n->nitems; i++)
        pql_node_free(n->items[i]);
    n->nitems = 0;
    return n;
fail:
    pql_node_free(n);
    return NULL;
}

/* ---------------------------------------------------------------- occurs */

static int parse_unit(parser *p, enum unit *u)
{
    static const struct { const char *w; enum unit u; } units[] = {
        {"millisecond", U_MS}, {"milliseconds", U_MS}, {"second", U_S}, {"seconds", U_S},
        {"minute", U_MIN}, {"minutes", U_MIN}, {"hour", U_H}, {"hours", U_H},
        {"day", U_DAY}, {"days", U_DAY}, {"week", U_WEEK}, {"weeks", U_WEEK},
        {"month", U_MONTH}, {"months", U_MONTH}, {"year", U_YEAR}, {"years", U_YEAR},
        {"decade", U_DECADE}, {"decades", U_DECADE}, {"century", U_CENTURY},
        {"centuries", U_CENTURY}, {"millennium", U_MILLENNIUM}, {"millenium", U_MILLENNIUM},
        {"millennia", U_MILLENNIUM},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (tok_is(p, cur(p), units[i].w)) {
            *u = units[i].u;
            p->i++;
            return 0;
        }
    }
    unexpected(p, "a time unit");
    return -1;
}

/* anchor := now | today | yesterday | tomorrow | (this|last|next) unit
 *         | date(Y, M, D) | a timestamp expression */
static int parse_anchor(parser *p, anchor *a)
{
    static const char *const words[] = {"now", "today", "yesterday", "tomorrow"};
    const token *t = cur(p);
    for (int i = 0; i < 4; i++) {
        if (tok_is(p, t, words[i])) {
            a->k = (enum anchor_k)(A_NOW + i);
            p->i++;
            return 0;
        }
    }
    if (tok_is(p, t, "this") || tok_is(p, t, "last") || tok_is(p, t, "next")) {
        a->k = tok_is(p, t, "this") ? A_THIS : tok_is(p, t, "last") ? A_LAST : A_NEXT;
        p->i++;
        return parse_unit(p, &a->unit);
    }
    if (t->k != TK_IDENT && t->k != TK_CARET && t->k != TK_PARAM && t->k != TK_LP) {
        unexpected(p, "now, today, yesterday, tomorrow, this/last/next, date(...) or a timestamp");
        return -1;
    }
    if (!(a->e = pql_parse_add(p)))
        return -1;
    if (a->e->k == N_DATE) {
        a->k = A_DATE;
        return 0;
    }
    if (a->e->ty != TY_ANY && a->e->ty != TY_NUM) {
        perr(&p->e, a->e->pos, "expected a timestamp or date(...)");
        return -1;
    }
    a->k = A_EXPR;
    return 0;
}

/* What follows `occurs` (or is inside chain's WHEN(...)). */
int pql_parse_occurs_spec(parser *p, occspec *o)
{
    const token *t = cur(p);
    enum tk k = t->k;

    if (k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE || k == TK_EQ || k == TK_NE) {
        p->i++;
        o->cmp = k;
        if (parse_uint(p, MAX_OCC_N, &o->n, "a count of time units") || parse_unit(p, &o->unit))
            return -1;
        t = cur(p);
        if (tok_is(p, t, "before")) {
            o->form = OC_NBEFORE;
        } else if (tok_is(p, t, "after") || tok_is(p, t, "from")) {
            o->form = OC_NAFTER;
        } else {
            unexpected(p, "before, after or from");
            return -1;
        }
        p->i++;
        return parse_anchor(p, &o->a1);
    }
    if (tok_is(p, t, "before") || tok_is(p, t, "after")) {
        o->form = tok_is(p, t, "before") ? OC_BEFORE : OC_AFTER;
        p->i++;
        return parse_anchor(p, &o->a1);
    }
    if (tok_is(p, t, "between")) {
        o->form = OC_BETWEEN;
        p->i++;
        if (parse_anchor(p, &o->a1))
            return -1;
        if (!tok_is(p, cur(p), "and")) {
            unexpected(p, "and");
            return -1;
        }
        p->i++;
        return parse_anchor(p, &o->a2);
    }
    if (tok_is(p, t, "on"))
        p->i++;
    o->form = OC_ON;
    return parse_anchor(p, &o->a1);
}

/* ---------------------------------------------------------------- chain */

static int step_clause(parser *p, chainstep *s, const token *t)
{
    char b[64];
    p->i += 2;
    if (pql_tok_is_ci(p, t, "WHAT") && !s->what) {
        if (!(s->what = pql_parse_expr(p)) || pql_need_cond(p, s->what))
            return -1;
    } else if (pql_tok_is_ci(p, t, "WHERE") && !s->where) {
        if (!(s->where = pql_parse_expr(p)) || pql_need_cond(p, s->where))
            return -1;
    } else if (pql_tok_is_ci(p, t, "WHEN") && !s->has_when) {
        s->has_when = true;
        if (pql_parse_occurs_spec(p, &s->oc))
            return -1;
    } else if (pql_tok_is_ci(p, t, "COUNT") && s->count == 0) {
        if (parse_uint(p, INT32_MAX, &s->count, "a count"))
            return -1;
        if (s->count < 1) {
            perr(&p->e, t->pos, "COUNT must be at least 1");
            return -1;
        }
    } else {
        perr(&p->e, t->pos, "unsupported or repeated chain clause %s",
             pql_tok_txt(p, t, b, sizeof b));
        return -1;
    }
    return expect(p, TK_RP, "')'");
}

/* chain(xEvent, TS, [L: WHAT(c) [WHEN(o)] [WHERE(c)] [COUNT(n)], L2: ...]) */
node *pql_parse_chain(parser *p)
{
    node *n = mk(p, N_CHAIN, TY_COND, cur(p)->pos);
    if (!n)
        return NULL;
    p->i += 2;
    if (!tok_is(p, cur(p), "xEvent")) {
        unexpected(p, "xEvent");
        goto fail;
    }
    p->i++;
    if (expect(p, TK_COMMA, "','"))
        goto fail;
    if (cur(p)->k != TK_IDENT || pql_is_reserved(p, cur(p))) {
        unexpected(p, "the event's timestamp field");
        goto fail;
    }
    if (p->filters >= MAX_UP) {
        perr(&p->e, n->pos, "filters nested too deeply");
        goto fail;
    }
    p->filters++;
    n->a = pql_parse_path(p);
    p->filters--;
    if (!n->a)
        goto fail;
    if (n->a->var >= 0) {
        perr(&p->e, n->a->pos, "chain's timestamp must be a field of the event");
        goto fail;
    }
    if (expect(p, TK_COMMA, "','") || expect(p, TK_LB, "'['"))
        goto fail;
    for (;;) {
        chainstep *s;
        if (cur(p)->k != TK_IDENT || peek(p, 1)->k != TK_COLON) {
            unexpected(p, "a step label (L: WHAT(...))");
            goto fail;
        }
        p->i += 2;
        if ((n->nsteps & (n->nsteps - 1)) == 0) {
            chainstep *ns = realloc(n->steps, (n->nsteps ? n->nsteps * 2 : 1) * sizeof *ns);
            if (!ns) {
                perr(&p->e, n->pos, "out of memory");
                goto fail;
            }
            n->steps = ns;
        }
        s = &n->steps[n->nsteps++];
        memset(s, 0, sizeof *s);
        int lam0 = p->lambda_slot;
        p->filters++;
        p->lambda_slot = -2; /* $1: the event */
        while (cur(p)->k == TK_IDENT && peek(p, 1)->k == TK_LP) {
            if (step_clause(p, s, cur(p))) {
                p->filters--;
                p->lambda_slot = lam0;
                goto fail;
            }
        }
        p->lambda_slot = lam0;
        p->filters--;
        if (!s->what) {
            unexpected(p, "WHAT(...)");
            goto fail;
        }
        if (s->count == 0)
            s->count = 1;
        if (cur(p)->k != TK_COMMA)
            break;
        p->i++;
    }
    if (expect(p, TK_RB, "']'") || expect(p, TK_RP, "')'"))
        goto fail;
    return n;
fail:
    pql_node_free(n);
    return NULL;
}
