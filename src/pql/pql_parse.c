/* pql_parse.c -- PQL (pql/text) expressions: operators, paths, filters,
 * method calls, lambdas, and the compile entry points (se_pql_compile,
 * se_pql_free, se_pql_text).  Quantifiers, aggregations, let, occurs and
 * chain are in pql_parse2.c; the lexer and helpers in pql_lex.c; evaluation
 * in pql_eval.c.  docs/pql.md is the contract; keep the two in step.
 *
 * Literals belong to the compiled tree; values met during evaluation are
 * borrowed from the profile/event JSON (never copied). */
#include "pql_ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 150        /* nesting of parentheses/selects/operators */

#define cur pql_cur
#define peek pql_peek
#define tok_is pql_tok_is
#define perr pql_perr
#define mk pql_mk
#define expect pql_expect
#define unexpected pql_unexpected

static node *parse_postfix(parser *p);
static node *parse_unary(parser *p);

static int enter(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        perr(&p->e, cur(p)->pos, "expression nested too deeply");
        return -1;
    }
    return 0;
}

/* n can be compared with = / != (a value, a list, a set). */
static int need_value(parser *p, const node *n)
{
    if (n->ty == TY_COND || n->ty == TY_VAL) {
        perr(&p->e, n->pos, "%s cannot be compared here",
             n->ty == TY_COND ? "a condition" : "a value");
        return -1;
    }
    return 0;
}

/* n can be an operand of < <= > >= + - * / % (a number or a field). */
static int need_num(parser *p, const node *n, const token *op)
{
    if (n->ty != TY_NUM && n->ty != TY_ANY) {
        static const char *const what[] = {"a condition", "a number", "a string", "a boolean",
                                           "a value", "a set of items", "a list", "a date",
                                           "a value"};
        perr(&p->e, n->pos, "'%.*s' needs numbers, not %s", (int)op->len, p->e.text + op->pos,
             what[n->ty]);
        return -1;
    }
    return 0;
}

static int push_seg(parser *p, node *n, const token *t)
{
    if ((n->nsegs & (n->nsegs - 1)) == 0) {
        char **ns = realloc(n->segs, (n->nsegs ? n->nsegs * 2 : 1) * sizeof *ns);
        if (!ns)
            goto oom;
        n->segs = ns;
    }
    if (!(n->segs[n->nsegs] = strndup(p->e.text + t->pos, t->len)))
        goto oom;
    n->nsegs++;
    return 0;
oom:
    perr(&p->e, t->pos, "out of memory");
    return -1;
}

/* Continues a path with '.' IDENT segments, stopping before '.' IDENT '(' (a
 * method call). */
static int more_segs(parser *p, node *n)
{
    while (cur(p)->k == TK_DOT && peek(p, 1)->k == TK_IDENT && peek(p, 2)->k != TK_LP) {
        p->i++;
        if (push_seg(p, n, cur(p)))
            return -1;
        p->i++;
    }
    return 0;
}

/* A field path starting at the current identifier: IDENT ('.' IDENT)*.  The
 * first segment may name a variable. */
node *pql_parse_path(parser *p)
{
    const token *t = cur(p);
    node *n;

    if (t->k != TK_IDENT || pql_is_reserved(p, t)) {
        unexpected(p, "a field path");
        return NULL;
    }
    if (!(n = mk(p, N_PATH, TY_ANY, t->pos)))
        return NULL;
    for (int v = p->nscope - 1; v >= 0; v--) {
        if (strlen(p->scope[v]) == t->len && memcmp(p->scope[v], p->e.text + t->pos, t->len) == 0) {
            n->var = v;
            break;
        }
    }
    if (n->var >= 0) {
        p->i++;
    } else if (push_seg(p, n, t)) {
        pql_node_free(n);
        return NULL;
    } else {
        p->i++;
    }
    if (more_segs(p, n)) {
        pql_node_free(n);
        return NULL;
    }
    if (n->var >= 0 && n->nsegs == 0)
        n->ty = p->scope_ty[n->var]; /* a let variable has its value's type */
    return n;
}

/* ^^.a.b (parent references) and $N (parameters). */
static node *parse_ref(parser *p)
{
    const token *t = cur(p);
    node *n = mk(p, N_PATH, TY_ANY, t->pos);
    if (!n)
        return NULL;
    if (t->k == TK_PARAM) {
        if (p->lambda_slot < 0) {
            if (t->i != 1) {
                perr(&p->e, t->pos, "only $1 (%s) is defined here",
                     p->lambda_slot == -1 ? "the profile" : "the item");
                goto fail;
            }
            n->up = p->lambda_slot == -1 ? -1 : 0; /* the profile, or the item */
        } else {
            n->var = p->lambda_slot + (int)t->i - 1;
            if (n->var >= p->nscope) {
                perr(&p->e, t->pos, "the lambda has no parameter $%d", (int)t->i);
                goto fail;
            }
        }
        p->i++;
    } else {
        while (cur(p)->k == TK_CARET) {
            n->up++;
            p->i++;
        }
        if (n->up > p->filters) {
            perr(&p->e, t->pos, "'^' climbs above the outermost filter [...]");
            goto fail;
        }
        if (cur(p)->k == TK_DOT)
            p->i++;
        if (cur(p)->k != TK_IDENT) {
            unexpected(p, "a field name");
            goto fail;
        }
        if (push_seg(p, n, cur(p)))
            goto fail;
        p->i++;
    }
    if (more_segs(p, n))
        goto fail;
    return n;
fail:
    pql_node_free(n);
    return NULL;
}

/* [expr, ...]: a list literal; all-literal lists are built once here. */
static node *parse_list(parser *p)
{
    node *n = mk(p, N_LIST, TY_LIST, cur(p)->pos);
    bool lits = true;
    if (!n)
        return NULL;
    p->i++; /* '[' */
    while (cur(p)->k != TK_RB) {
        node *it = pql_parse_add(p);
        if (!it)
            goto fail;
        if (need_value(p, it)) {
            pql_node_free(it);
            goto fail;
        }
        if (pql_add_item(p, n, it))
            goto fail;
        lits = lits && it->k == N_LIT;
        if (cur(p)->k == TK_COMMA) {
            p->i++;
            continue;
        }
        if (cur(p)->k != TK_RB) {
            unexpected(p, "',' or ']'");
            goto fail;
        }
    }
    p->i++;
    if (lits) {
        n->lit.k = V_LIST;
        n->lit.n = n->nitems;
        if (n->nitems && !(n->lit.items = calloc(n->nitems, sizeof(val)))) {
            perr(&p->e, n->pos, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n->nitems; i++)
            n->lit.items[i] = n->items[i]->lit;
        n->owned = (char *)n->lit.items;
    }
    return n;
fail:
    pql_node_free(n);
    return NULL;
}

/* (A, B) => body | A => body: the parameters take consecutive slots. */
static int is_lambda(parser *p)
{
    size_t k = 0;
    if (cur(p)->k == TK_IDENT)
        return peek(p, 1)->k == TK_ARROW;
    if (cur(p)->k != TK_LP)
        return 0;
    for (k = 1;; k += 2) {
        if (peek(p, k)->k != TK_IDENT)
            return 0;
        if (peek(p, k + 1)->k == TK_RP)
            return peek(p, k + 2)->k == TK_ARROW;
        if (peek(p, k + 1)->k != TK_COMMA)
            return 0;
    }
}

static node *parse_lambda(parser *p)
{
    node *n = mk(p, N_LAMBDA, TY_ANY, cur(p)->pos);
    int scope0 = p->nscope, lam0 = p->lambda_slot, paren = cur(p)->k == TK_LP;
    if (!n)
        return NULL;
    p->i += paren;
    n->slot = p->nscope;
    for (;;) {
        if (pql_declare(p, cur(p)) < 0)
            goto fail;
        n->op++;
        p->i++;
        if (cur(p)->k != TK_COMMA)
            break;
        p->i++;
    }
    p->i += paren + 1; /* ')' '=>' */
    p->lambda_slot = n->slot;
    n->a = pql_parse_expr(p);
    p->lambda_slot = lam0;
    if (!n->a)
        goto fail;
    n->ty = n->a->ty;
    while (p->nscope > scope0)
        free((void *)p->scope[--p->nscope]);
    return n;
fail:
    p->lambda_slot = lam0;
    while (p->nscope > scope0)
        free((void *)p->scope[--p->nscope]);
    pql_node_free(n);
    return NULL;
}

static node *literal(parser *p, const token *t)
{
    node *n;
    if (t->k == TK_STR) {
        if (!(n = mk(p, N_LIT, TY_STR, t->pos)))
            return NULL;
        n->owned = t->s;
        p->t[p->i].s = NULL;
        n->lit.k = V_STR;
        n->lit.s = n->owned;
        n->lit.n = t->slen;
    } else if (t->k == TK_IDENT) {
        if (!(n = mk(p, N_LIT, TY_BLIT, t->pos)))
            return NULL;
        n->lit.k = V_BOOL;
        n->lit.b = tok_is(p, t, "true");
    } else {
        if (!(n = mk(p, N_LIT, TY_NUM, t->pos)))
            return NULL;
        n->lit.k = t->k == TK_INT ? V_INT : V_DBL;
        if (t->k == TK_INT)
            n->lit.i = t->i;
        else
            n->lit.d = t->d;
    }
    p->i++;
    return n;
}

static node *parse_primary(parser *p)
{
    const token *t = cur(p);
    node *n;
    char b[64];

    switch (t->k) {
    case TK_STR: case TK_INT: case TK_DBL:
        return literal(p, t);
    case TK_LP:
        if (is_lambda(p))
            return parse_lambda(p);
        p->i++;
        if (!(n = pql_parse_expr(p)))
            return NULL;
        if (expect(p, TK_RP, "')'")) {
            pql_node_free(n);
            return NULL;
        }
        return n;
    case TK_LB:
        return parse_list(p);
    case TK_CARET: case TK_PARAM:
        return parse_ref(p);
    case TK_IDENT:
        break;
    default:
        unexpected(p, NULL);
        return NULL;
    }

    if (tok_is(p, t, "true") || tok_is(p, t, "false"))
        return literal(p, t);
    if (is_lambda(p))
        return parse_lambda(p);
    if (tok_is(p, t, "select"))
        return pql_parse_quant(p, N_SELECT);
    if (tok_is(p, t, "exists"))
        return pql_parse_quant(p, N_EXISTS);
    if (tok_is(p, t, "forall"))
        return pql_parse_quant(p, N_FORALL);
    if (tok_is(p, t, "let"))
        return pql_parse_quant(p, N_LET);
    if ((tok_is(p, t, "sum") || tok_is(p, t, "average") || tok_is(p, t, "min") ||
         tok_is(p, t, "max")) && peek(p, 1)->k != TK_LP)
        return pql_parse_quant(p, N_AGG);
    if (tok_is(p, t, "xEvent")) {
        p->i++;
        return mk(p, N_XEVENT, TY_SET, t->pos);
    }
    if (peek(p, 1)->k == TK_LP) {
        if (tok_is(p, t, "inSegment")) {
            if (!(n = mk(p, N_INSEG, TY_COND, t->pos)))
                return NULL;
            p->i += 2;
            if (cur(p)->k != TK_STR) {
                unexpected(p, "a segment id string");
                pql_node_free(n);
                return NULL;
            }
            n->owned = cur(p)->s;
            p->t[p->i].s = NULL;
            n->lit.n = cur(p)->slen;
            p->i++;
            if (expect(p, TK_RP, "')'")) {
                pql_node_free(n);
                return NULL;
            }
            return n;
        }
        if (pql_tok_is_ci(p, t, "chain"))
            return pql_parse_chain(p);
        return pql_parse_call(p, NULL, t);
    }
    if (pql_is_reserved(p, t)) {
        perr(&p->e, t->pos, "unexpected %s", pql_tok_txt(p, t, b, sizeof b));
        return NULL;
    }
    return pql_parse_path(p);
}

static node *parse_postfix(parser *p)
{
    node *n = parse_primary(p), *m = NULL;

    while (n && (cur(p)->k == TK_DOT || cur(p)->k == TK_LB)) {
        const token *t = cur(p);
        if (t->k == TK_LB) {
            if (n->ty != TY_SET && n->ty != TY_ANY && n->ty != TY_LIST) {
                perr(&p->e, t->pos, "a filter [...] needs an array");
                goto fail;
            }
            if (p->filters >= MAX_UP) {
                perr(&p->e, t->pos, "filters nested too deeply");
                goto fail;
            }
            p->i++;
            if (!(m = mk(p, N_FILTER, TY_SET, t->pos)))
                goto fail;
            int lam0 = p->lambda_slot;
            p->filters++;
            p->lambda_slot = -2; /* $1: the item */
            m->b = pql_parse_expr(p);
            p->lambda_slot = lam0;
            p->filters--;
            if (!m->b || pql_need_cond(p, m->b) || expect(p, TK_RB, "']'"))
                goto fail;
        } else {
            const token *name = peek(p, 1);
            if (name->k != TK_IDENT) {
                p->i++;
                unexpected(p, "a field or function name");
                goto fail;
            }
            if (peek(p, 2)->k == TK_LP) {
                p->i++;
                if (!(m = pql_parse_call(p, n, name))) {
                    n = NULL; /* freed by pql_parse_call */
                    goto fail;
                }
                n = m;
                m = NULL;
                continue;
            }
            if (n->ty == TY_COND || n->ty == TY_NUM || n->ty == TY_STR || n->ty == TY_BLIT) {
                perr(&p->e, name->pos, "a field of a condition, number or string");
                goto fail;
            }
            if (!(m = mk(p, N_FIELD, TY_ANY, name->pos)))
                goto fail;
            p->i++;
            if (push_seg(p, m, cur(p)))
                goto fail;
            p->i++;
            if (more_segs(p, m))
                goto fail;
        }
        m->a = n;
        n = m;
        m = NULL;
    }
    return n;
fail:
    pql_node_free(m);
    pql_node_free(n);
    return NULL;
}

static node *parse_neg(parser *p)
{
    const token *t = cur(p);
    if (t->k == TK_MINUS) {
        node *n, *a;
        if (enter(p))
            return NULL;
        p->i++;
        a = parse_neg(p);
        p->depth--;
        if (!a)
            return NULL;
        if (need_num(p, a, t) || !(n = mk(p, N_NEG, TY_NUM, t->pos))) {
            pql_node_free(a);
            return NULL;
        }
        n->a = a;
        return n;
    }
    return parse_postfix(p);
}

/* level 1: * / %; level 0: + - */
static node *parse_arith(parser *p, int level)
{
    node *a = level ? parse_neg(p) : parse_arith(p, 1);
    while (a) {
        const token *t = cur(p);
        node *n, *b;
        if (level ? (t->k != TK_STAR && t->k != TK_SLASH && t->k != TK_PCT)
                  : (t->k != TK_PLUS && t->k != TK_MINUS))
            break;
        if (need_num(p, a, t) || !(n = mk(p, N_ARITH, TY_NUM, t->pos))) {
            pql_node_free(a);
            return NULL;
        }
        n->op = t->k;
        n->a = a;
        a = n;
        p->i++;
        if (enter(p)) {
            pql_node_free(a);
            return NULL;
        }
        b = level ? parse_neg(p) : parse_arith(p, 1);
        p->depth--;
        if (!b || need_num(p, b, t)) {
            pql_node_free(b);
            pql_node_free(a);
            return NULL;
        }
        n->b = b;
    }
    return a;
}

node *pql_parse_add(parser *p)
{
    node *n;
    if (enter(p))
        return NULL;
    n = parse_arith(p, 0);
    p->depth--;
    return n;
}

static node *binop(parser *p, enum nk k, node *a, const token *t)
{
    node *n = mk(p, k, TY_COND, t->pos);
    if (!n) {
        pql_node_free(a);
        return NULL;
    }
    n->a = a;
    p->i++;
    return n;
}

static node *parse_cmp(parser *p)
{
    node *a, *n = NULL;
    const token *t;

    if (!(a = pql_parse_add(p)))
        return NULL;
    t = cur(p);
    switch (t->k) {
    case TK_EQ: case TK_NE: case TK_LT: case TK_LE: case TK_GT: case TK_GE: {
        int ordering = t->k != TK_EQ && t->k != TK_NE;
        if ((ordering ? need_num(p, a, t) : need_value(p, a)) || !(n = binop(p, N_CMP, a, t)))
            goto fail;
        a = NULL;
        n->op = t->k;
        if (!(n->b = pql_parse_add(p)) ||
            (ordering ? need_num(p, n->b, t) : need_value(p, n->b)))
            goto fail;
        break;
    }
    case TK_IDENT:
        if (tok_is(p, t, "in") || tok_is(p, t, "notIn")) {
            if (need_value(p, a) || !(n = binop(p, N_IN, a, t)))
                goto fail;
            a = NULL;
            n->op = tok_is(p, t, "notIn");
            if (!(n->b = pql_parse_add(p)) || need_value(p, n->b))
                goto fail;
            if (n->b->ty != TY_LIST && n->b->ty != TY_SET && n->b->ty != TY_ANY) {
                perr(&p->e, n->b->pos, "in / notIn needs a list or an array");
                goto fail;
            }
        } else if (tok_is(p, t, "like") || tok_is(p, t, "matches")) {
            int like = tok_is(p, t, "like");
            if (need_value(p, a) || !(n = binop(p, like ? N_LIKE : N_MATCHES, a, t)))
                goto fail;
            a = NULL;
            if (!(n->b = pql_parse_add(p)) || need_value(p, n->b) ||
                (!like && pql_regex_compile(p, n, n->b, 0)))
                goto fail;
        } else if (tok_is(p, t, "occurs")) {
            if (a->ty != TY_ANY && a->ty != TY_NUM) {
                perr(&p->e, a->pos, "occurs needs a timestamp");
                goto fail;
            }
            if (!(n = binop(p, N_OCCURS, a, t)))
                goto fail;
            a = NULL;
            if (pql_parse_occurs_spec(p, &n->oc))
                goto fail;
        } else {
            n = a;
            a = NULL;
        }
        break;
    default:
        n = a;
        a = NULL;
        break;
    }
    return n;
fail:
    pql_node_free(a);
    pql_node_free(n);
    return NULL;
}

static node *parse_unary(parser *p)
{
    const token *t = cur(p);
    node *n, *c;
    if (enter(p))
        return NULL;
    if (tok_is(p, t, "not") || t->k == TK_BANG) {
        p->i++;
        c = parse_unary(p);
        p->depth--;
        if (!c)
            return NULL;
        if (pql_need_cond(p, c) || !(n = mk(p, N_NOT, TY_COND, t->pos))) {
            pql_node_free(c);
            return NULL;
        }
        n->a = c;
        return n;
    }
    n = parse_cmp(p);
    p->depth--;
    return n;
}

/* and / or chains become one n-ary node (items), so that a long chain costs
 * no recursion depth when evaluated or freed. */
static node *parse_bin(parser *p, int level)
{
    const char *word = level ? "and" : "or";
    node *a = level ? parse_unary(p) : parse_bin(p, 1), *n;

    if (!a || !tok_is(p, cur(p), word))
        return a;
    if (pql_need_cond(p, a) || !(n = mk(p, level ? N_AND : N_OR, TY_COND, cur(p)->pos))) {
        pql_node_free(a);
        return NULL;
    }
    if (pql_add_item(p, n, a))
        goto fail;
    while (tok_is(p, cur(p), word)) {
        node *b;
        p->i++;
        if (!(b = level ? parse_unary(p) : parse_bin(p, 1)))
            goto fail;
        if (pql_need_cond(p, b)) {
            pql_node_free(b);
            goto fail;
        }
        if (pql_add_item(p, n, b))
            goto fail;
    }
    return n;
fail:
    pql_node_free(n);
    return NULL;
}

node *pql_parse_expr(parser *p)
{
    node *n;
    if (enter(p))
        return NULL;
    n = parse_bin(p, 0);
    p->depth--;
    return n;
}

int se_pql_compile(const char *text, se_pql **out, char *err, size_t errlen)
{
    parser p;
    se_pql *q = NULL;
    node *root = NULL;
    int rc = -1;

    memset(&p, 0, sizeof p);
    p.e.text = text;
    p.e.err = err;
    p.e.errlen = errlen;
    p.lambda_slot = -1;
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (pql_lex(&p.e, text, &p.t, &p.n))
        return -1;
    if (p.t[0].k == TK_EOF) {
        perr(&p.e, p.t[0].pos, "empty expression");
        goto out;
    }
    root = pql_parse_expr(&p);
    if (!root)
        goto out;
    if (cur(&p)->k != TK_EOF) {
        unexpected(&p, NULL);
        goto out;
    }
    if (root->k == N_LAMBDA && root->op != 1) {
        perr(&p.e, root->pos, "a query lambda takes one parameter (the profile)");
        goto out;
    }
    if (pql_need_cond(&p, root))
        goto out;
    if (!(q = calloc(1, sizeof *q)) || !(q->text = strdup(text))) {
        perr(&p.e, 0, "out of memory");
        free(q);
        q = NULL;
        goto out;
    }
    q->root = root;
    q->nslots = p.maxslots;
    root = NULL;
    *out = q;
    rc = 0;
out:
    while (p.nscope > 0)
        free((void *)p.scope[--p.nscope]);
    pql_node_free(root);
    pql_free_tokens(p.t, p.n);
    return rc;
}

void se_pql_free(se_pql *q)
{
    if (!q)
        return;
    pql_node_free(q->root);
    free(q->text);
    free(q);
}

const char *se_pql_text(const se_pql *q)
{
    return q->text;
}
