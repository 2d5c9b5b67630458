/* pql_parse.c -- a documented subset of PQL (pql/text): lexer and parser
 * with compile-time checks, building the tree of pql_ast.h
 * (se_pql_compile, se_pql_free, se_pql_text); pql_eval.c evaluates it.
 * docs/pql.md is the contract; keep the two in step.
 *
 * Literals belong to the compiled tree; values met during evaluation are
 * borrowed from the profile/event JSON (never copied). */
#include "pql_ast.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 100        /* nesting of parentheses/selects/operators */
#define MAX_OCC_N 1000000    /* largest N in "occurs < N units ..." */

/* ---------------------------------------------------------------- lexer */

typedef struct {
    enum tk k;
    size_t pos, len;  /* byte offset and length in the text */
    char *s;          /* TK_STR: decoded value (NUL-terminated), slen bytes */
    size_t slen;
    int64_t i;
    double d;
} token;

typedef struct {
    const char *text;
    char *err;
    size_t errlen;
    int failed;
} perr_ctx;

static void pos_linecol(const char *text, size_t pos, int *line, int *col, int *multi)
{
    int l = 1, c = 1;
    *multi = strchr(text, '\n') != NULL;
    for (size_t i = 0; i < pos && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

__attribute__((format(printf, 3, 4)))
static void perr(perr_ctx *e, size_t pos, const char *fmt, ...)
{
    char msg[256];
    int line, col, multi;
    va_list ap;

    if (e->failed)
        return;
    e->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pos_linecol(e->text, pos, &line, &col, &multi);
    if (!e->err || !e->errlen)
        return;
    if (multi)
        snprintf(e->err, e->errlen, "pql: %s at line %d column %d", msg, line, col);
    else
        snprintf(e->err, e->errlen, "pql: %s at column %d", msg, col);
}

static int is_id0(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_id(int c) { return is_id0(c) || (c >= '0' && c <= '9'); }

static void free_tokens(token *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++)
        free(t[i].s);
    free(t);
}

/* An operand ends here: '-' after it is subtraction, not a sign. */
static int ends_operand(const char *text, const token *t, size_t n)
{
    static const char *const ops[] = {"and", "or", "not", "in", "notIn", "like", "where", NULL};
    if (n == 0)
        return 0;
    switch (t[n - 1].k) {
    case TK_IDENT:
        for (size_t i = 0; ops[i]; i++)
            if (t[n - 1].len == strlen(ops[i]) &&
                memcmp(text + t[n - 1].pos, ops[i], t[n - 1].len) == 0)
                return 0;
        return 1;
    case TK_STR: case TK_INT: case TK_DBL: case TK_RP: case TK_RB:
        return 1;
    default:
        return 0;
    }
}

static int lex_number(perr_ctx *e, const char *text, size_t *pp, token *t)
{
    size_t p = *pp, start = p;
    int isdbl = 0;
    char buf[64];

    if (text[p] == '-')
        p++;
    while (is_dig(text[p]))
        p++;
    if (text[p] == '.' && is_dig(text[p + 1])) {
        isdbl = 1;
        p++;
        while (is_dig(text[p]))
            p++;
    }
    if ((text[p] == 'e' || text[p] == 'E') &&
        (is_dig(text[p + 1]) ||
         ((text[p + 1] == '+' || text[p + 1] == '-') && is_dig(text[p + 2])))) {
        isdbl = 1;
        p += 2;
        while (is_dig(text[p]))
            p++;
    }
    if (is_id0(text[p])) {
        perr(e, start, "malformed number");
        return -1;
    }
    if (p - start >= sizeof buf) {
        perr(e, start, "number too long");
        return -1;
    }
    memcpy(buf, text + start, p - start);
    buf[p - start] = '\0';
    errno = 0;
    if (isdbl) {
        t->k = TK_DBL;
        t->d = strtod(buf, NULL);
        if (errno == ERANGE) {
            perr(e, start, "number out of range");
            return -1;
        }
    } else {
        t->k = TK_INT;
        t->i = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            perr(e, start, "number out of range");
            return -1;
        }
    }
    t->pos = start;
    t->len = p - start;
    *pp = p;
    return 0;
}

static int lex_string(perr_ctx *e, const char *text, size_t *pp, token *t)
{
    size_t p = *pp + 1, n = 0, start = *pp;
    char *out;

    /* First pass: find the end and check the escapes. */
    for (size_t q = p;; q++) {
        if (text[q] == '\0') {
            perr(e, start, "unterminated string");
            return -1;
        }
        if (text[q] == '"')
            break;
        if (text[q] == '\\') {
            char c = text[q + 1];
            if (c != '"' && c != '\\' && c != '/' && c != 'n' && c != 't' && c != 'r') {
                perr(e, q, "unsupported escape in string");
                return -1;
            }
            q++;
        }
        n++;
    }
    if (!(out = malloc(n + 1))) {
        perr(e, start, "out of memory");
        return -1;
    }
    n = 0;
    for (; text[p] != '"'; p++) {
        char c = text[p];
        if (c == '\\') {
            c = text[++p];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    t->k = TK_STR;
    t->s = out;
    t->slen = n;
    t->pos = start;
    t->len = p + 1 - start;
    *pp = p + 1;
    return 0;
}

static int lex(perr_ctx *e, const char *text, token **out, size_t *nout)
{
    token *t = NULL;
    size_t n = 0, cap = 0, p = 0;

    for (;;) {
        token tk;
        memset(&tk, 0, sizeof tk);
        while (text[p] == ' ' || text[p] == '\t' || text[p] == '\n' || text[p] == '\r')
            p++;
        if (n + 1 >= cap) {
            size_t nc = cap ? cap * 2 : 32;
            token *nt = realloc(t, nc * sizeof *t);
            if (!nt) {
                perr(e, p, "out of memory");
                goto fail;
            }
            t = nt;
            cap = nc;
        }
        tk.pos = p;
        tk.len = 1;
        unsigned char c = (unsigned char)text[p];
        if (c == '\0') {
            tk.k = TK_EOF;
            tk.len = 0;
            t[n++] = tk;
            break;
        }
        if (is_id0(c)) {
            while (is_id(text[p]))
                p++;
            tk.k = TK_IDENT;
            tk.len = p - tk.pos;
        } else if (is_dig(c) || (c == '.' && is_dig(text[p + 1]) && !ends_operand(text, t, n)) ||
                   (c == '-' && !ends_operand(text, t, n) &&
                    (is_dig(text[p + 1]) || (text[p + 1] == '.' && is_dig(text[p + 2]))))) {
            if (lex_number(e, text, &p, &tk))
                goto fail;
        } else if (c == '"') {
            if (lex_string(e, text, &p, &tk))
                goto fail;
        } else {
            p++;
            switch (c) {
            case '(': tk.k = TK_LP; break;
            case ')': tk.k = TK_RP; break;
            case '[': tk.k = TK_LB; break;
            case ']': tk.k = TK_RB; break;
            case ',': tk.k = TK_COMMA; break;
            case '.': tk.k = TK_DOT; break;
            case ':': tk.k = TK_COLON; break;
            case '=':
                if (text[p] == '>') {
                    perr(e, tk.pos, "unsupported lambda '=>'");
                    goto fail;
                }
                tk.k = TK_EQ;
                break;
            case '!':
                if (text[p] == '=') {
                    p++;
                    tk.k = TK_NE;
                    tk.len = 2;
                } else {
                    tk.k = TK_BANG;
                }
                break;
            case '<':
                if (text[p] == '=') {
                    p++;
                    tk.k = TK_LE;
                    tk.len = 2;
                } else {
                    tk.k = TK_LT;
                }
                break;
            case '>':
                if (text[p] == '=') {
                    p++;
                    tk.k = TK_GE;
                    tk.len = 2;
                } else {
                    tk.k = TK_GT;
                }
                break;
            case '+': case '-': case '*': case '/': case '%':
                perr(e, tk.pos, "unsupported arithmetic operator '%c'", c);
                goto fail;
            case '^':
                perr(e, tk.pos, "unsupported parent reference '^'");
                goto fail;
            case '$':
                perr(e, tk.pos, "unsupported parameter reference '$'");
                goto fail;
            default:
                if (c >= 0x20 && c < 0x7f)
                    perr(e, tk.pos, "unexpected character '%c'", c);
                else
                    perr(e, tk.pos, "unexpected character (byte 0x%02x)", c);
                goto fail;
            }
        }
        t[n++] = tk;
    }
    *out = t;
    *nout = n;
    return 0;
fail:
    free_tokens(t, n);
    return -1;
}

static void node_free(node *n);

static void anchor_free(anchor *a)
{
    node_free(a->path);
}

static void node_free(node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    free(n->owned);
    for (size_t i = 0; i < n->nitems; i++)
        node_free(n->items[i]);
    free(n->items);
    for (size_t i = 0; i < n->nsegs; i++)
        free(n->segs[i]);
    free(n->segs);
    for (size_t i = 0; i < n->ncl; i++) {
        node_free(n->cl[i].arr);
        node_free(n->cl[i].cond);
    }
    free(n->cl);
    anchor_free(&n->oc.a1);
    anchor_free(&n->oc.a2);
    free(n);
}

/* ---------------------------------------------------------------- parser */

typedef struct {
    perr_ctx e;
    token *t;
    size_t n, i;
    int depth;
    const char *scope[MAX_VARS];
    int nscope;
} parser;

static const token *cur(parser *p) { return &p->t[p->i]; }
static const token *peek(parser *p, size_t k)
{
    return p->i + k < p->n ? &p->t[p->i + k] : &p->t[p->n - 1];
}

static int tok_is(const parser *p, const token *t, const char *word)
{
    size_t l = strlen(word);
    return t->k == TK_IDENT && t->len == l && memcmp(p->e.text + t->pos, word, l) == 0;
}

static int tok_is_ci(const parser *p, const token *t, const char *word)
{
    size_t l = strlen(word);
    return t->k == TK_IDENT && t->len == l && strncasecmp(p->e.text + t->pos, word, l) == 0;
}

/* Words that cannot start a field path. */
static const char *const reserved[] = {
    "and", "or", "not", "in", "notIn", "like", "matches", "occurs", "select", "from",
    "where", "exists", "forall", "xEvent", "true", "false", "null", "now", "today",
    "yesterday", "tomorrow", "before", "after", "between", "on", "this", "last", "next",
    "let", "if", "over", "sum", "average", "min", "max", NULL
};

static int is_reserved(const parser *p, const token *t)
{
    for (size_t i = 0; reserved[i]; i++)
        if (tok_is(p, t, reserved[i]))
            return 1;
    return 0;
}

/* The token as text, for messages (at most 40 bytes). */
static const char *tok_txt(const parser *p, const token *t, char *buf, size_t n)
{
    if (t->k == TK_EOF)
        return "end of expression";
    size_t l = t->len < 40 ? t->len : 40;
    snprintf(buf, n, "'%.*s'", (int)l, p->e.text + t->pos);
    return buf;
}

static void unexpected(parser *p, const char *want)
{
    char b[64];
    const token *t = cur(p);
    if (want)
        perr(&p->e, t->pos, "expected %s, found %s", want, tok_txt(p, t, b, sizeof b));
    else
        perr(&p->e, t->pos, "unexpected %s", tok_txt(p, t, b, sizeof b));
}

static int expect(parser *p, enum tk k, const char *what)
{
    if (cur(p)->k != k) {
        unexpected(p, what);
        return -1;
    }
    p->i++;
    return 0;
}

static node *mk(parser *p, enum nk k, enum ty ty, size_t pos)
{
    node *n = calloc(1, sizeof *n);
    if (!n) {
        perr(&p->e, pos, "out of memory");
        return NULL;
    }
    n->k = k;
    n->ty = ty;
    n->pos = pos;
    n->var = -1;
    return n;
}

static const char *ty_name(enum ty t)
{
    switch (t) {
    case TY_NUM: return "a number";
    case TY_STR: return "a string";
    case TY_LIST: return "a list";
    case TY_SET: return "a set of items";
    case TY_COND: return "a condition";
    default: return "a value";
    }
}

/* n is usable in boolean position. */
static int need_cond(parser *p, const node *n)
{
    if (n->ty == TY_NUM || n->ty == TY_STR || n->ty == TY_LIST) {
        perr(&p->e, n->pos, "%s is not a condition", ty_name(n->ty));
        return -1;
    }
    return 0;
}

/* n is usable as a scalar operand (comparison, string function, in). */
static int need_scalar(parser *p, const node *n)
{
    if (n->ty == TY_COND || n->ty == TY_SET || n->ty == TY_LIST) {
        perr(&p->e, n->pos, "%s cannot be compared here", ty_name(n->ty));
        return -1;
    }
    return 0;
}

static node *parse_expr(parser *p);
static node *parse_postfix(parser *p);

static int enter(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        perr(&p->e, cur(p)->pos, "expression nested too deeply");
        return -1;
    }
    return 0;
}

/* A field path starting at the current identifier: IDENT ('.' IDENT)*, stopping
 * before '.' IDENT '(' (a method call).  The first segment may name a variable. */
static node *parse_path(parser *p)
{
    const token *t = cur(p);
    node *n;
    size_t cap = 0;

    if (t->k != TK_IDENT) {
        unexpected(p, "a field path");
        return NULL;
    }
    if (is_reserved(p, t)) {
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
    for (;;) {
        t = cur(p);
        if (n->nsegs == cap) {
            size_t nc = cap ? cap * 2 : 4;
            char **ns = realloc(n->segs, nc * sizeof *ns);
            if (!ns)
                goto oom;
            n->segs = ns;
            cap = nc;
        }
        if (!(n->segs[n->nsegs] = strndup(p->e.text + t->pos, t->len)))
            goto oom;
        n->nsegs++;
        p->i++;
        if (cur(p)->k == TK_DOT && peek(p, 1)->k == TK_IDENT && peek(p, 2)->k != TK_LP) {
            p->i++;
            continue;
        }
        break;
    }
    return n;
oom:
    perr(&p->e, t->pos, "out of memory");
    node_free(n);
    return NULL;
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

/* anchor := now | today | yesterday | tomorrow | date(Y, M, D) | path */
static int parse_anchor(parser *p, anchor *a)
{
    const token *t = cur(p);
    if (tok_is(p, t, "now")) {
        a->k = A_NOW;
    } else if (tok_is(p, t, "today")) {
        a->k = A_TODAY;
    } else if (tok_is(p, t, "yesterday")) {
        a->k = A_YESTERDAY;
    } else if (tok_is(p, t, "tomorrow")) {
        a->k = A_TOMORROW;
    } else if (tok_is(p, t, "date") && peek(p, 1)->k == TK_LP) {
        int64_t y, m, d;
        size_t pos = t->pos;
        p->i += 2;
        if (parse_uint(p, 9999, &y, "a year") || expect(p, TK_COMMA, "','") ||
            parse_uint(p, 12, &m, "a month") || expect(p, TK_COMMA, "','") ||
            parse_uint(p, 31, &d, "a day of month") || expect(p, TK_RP, "')'"))
            return -1;
        if (y < 1 || m < 1 || d < 1 || (unsigned)d > se_days_in_month(y, (unsigned)m)) {
            perr(&p->e, pos, "date(%" PRId64 ", %" PRId64 ", %" PRId64 ") is not a valid date",
                 y, m, d);
            return -1;
        }
        a->k = A_DATE;
        a->day_ms = se_days_from_civil(y, (unsigned)m, (unsigned)d) * DAY_MS;
        return 0;
    } else if (tok_is(p, t, "this") || tok_is(p, t, "last") || tok_is(p, t, "next")) {
        char b[64];
        perr(&p->e, t->pos, "unsupported relative time %s", tok_txt(p, t, b, sizeof b));
        return -1;
    } else if (t->k == TK_IDENT && !is_reserved(p, t)) {
        a->k = A_PATH;
        return (a->path = parse_path(p)) ? 0 : -1;
    } else {
        unexpected(p, "now, today, yesterday, tomorrow, date(...) or a timestamp field");
        return -1;
    }
    p->i++;
    return 0;
}

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

/* What follows `occurs` (or is inside chain's WHEN(...)). */
static int parse_occurs_spec(parser *p, occspec *o)
{
    const token *t = cur(p);
    enum tk k = t->k;

    if (k == TK_EQ || k == TK_NE) {
        perr(&p->e, t->pos, "occurs with '%s' is not supported", k == TK_EQ ? "=" : "!=");
        return -1;
    }
    if (k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE) {
        p->i++;
        o->cmp = k;
        if (parse_uint(p, MAX_OCC_N, &o->n, "a count of time units") || parse_unit(p, &o->unit))
            return -1;
        t = cur(p);
        if (tok_is(p, t, "before")) {
            o->form = OC_NBEFORE;
        } else if (tok_is(p, t, "after")) {
            o->form = OC_NAFTER;
        } else if (tok_is(p, t, "from")) {
            perr(&p->e, t->pos, "occurs ... from is not supported");
            return -1;
        } else {
            unexpected(p, "before or after");
            return -1;
        }
        p->i++;
        size_t apos = cur(p)->pos;
        if (parse_anchor(p, &o->a1))
            return -1;
        if (o->form == OC_NAFTER && o->a1.k != A_NOW && o->a1.k != A_PATH) {
            perr(&p->e, apos,
                 "occurs ... after a day (today, yesterday, tomorrow, date) is not supported");
            return -1;
        }
        return 0;
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
    size_t apos = cur(p)->pos;
    if (parse_anchor(p, &o->a1))
        return -1;
    if (o->a1.k == A_NOW || o->a1.k == A_PATH) {
        perr(&p->e, apos, "occurs on a single instant is not supported "
                          "(use a day: today, yesterday, tomorrow, date(...))");
        return -1;
    }
    return 0;
}

/* [lit, lit, ...] after in/notIn. */
static node *parse_list(parser *p)
{
    node *n = mk(p, N_LIST, TY_LIST, cur(p)->pos);
    size_t cap = 0;
    if (!n)
        return NULL;
    p->i++; /* '[' */
    if (cur(p)->k == TK_RB) {
        p->i++;
        return n;
    }
    for (;;) {
        node *it;
        if (cur(p)->k != TK_STR && cur(p)->k != TK_INT && cur(p)->k != TK_DBL &&
            !tok_is(p, cur(p), "true") && !tok_is(p, cur(p), "false")) {
            unexpected(p, "a string, number or boolean literal");
            goto fail;
        }
        if (!(it = parse_postfix(p)))
            goto fail;
        if (it->k != N_LIT) {
            perr(&p->e, it->pos, "list items must be literals");
            node_free(it);
            goto fail;
        }
        if (n->nitems == cap) {
            size_t nc = cap ? cap * 2 : 8;
            node **ni = realloc(n->items, nc * sizeof *ni);
            if (!ni) {
                node_free(it);
                perr(&p->e, cur(p)->pos, "out of memory");
                goto fail;
            }
            n->items = ni;
            cap = nc;
        }
        n->items[n->nitems++] = it;
        if (cur(p)->k == TK_COMMA) {
            p->i++;
            continue;
        }
        if (expect(p, TK_RB, "',' or ']'"))
            goto fail;
        return n;
    }
fail:
    node_free(n);
    return NULL;
}

/* select/exists: V from ARR [where COND | : COND] (, V from ARR ...)* */
static node *parse_quant(parser *p, enum nk kind)
{
    node *n = mk(p, kind, kind == N_SELECT ? TY_SET : TY_COND, cur(p)->pos);
    int scope0 = p->nscope;
    size_t cap = 0;

    if (!n)
        return NULL;
    p->i++; /* select / exists */
    for (;;) {
        const token *v = cur(p);
        clause c = {0, NULL, NULL};
        if (v->k != TK_IDENT || is_reserved(p, v)) {
            unexpected(p, "a variable name");
            goto fail;
        }
        for (int i = 0; i < p->nscope; i++) {
            if (strlen(p->scope[i]) == v->len &&
                memcmp(p->scope[i], p->e.text + v->pos, v->len) == 0) {
                perr(&p->e, v->pos, "variable '%.*s' is already declared", (int)v->len,
                     p->e.text + v->pos);
                goto fail;
            }
        }
        if (p->nscope == MAX_VARS) {
            perr(&p->e, v->pos, "too many variables");
            goto fail;
        }
        p->i++;
        if (!tok_is(p, cur(p), "from")) {
            unexpected(p, "from");
            goto fail;
        }
        p->i++;
        if (tok_is(p, cur(p), "xEvent")) {
            if (!(c.arr = mk(p, N_XEVENT, TY_SET, cur(p)->pos)))
                goto fail;
            p->i++;
            if (cur(p)->k == TK_LB || cur(p)->k == TK_DOT) {
                node_free(c.arr);
                unexpected(p, "where");
                goto fail;
            }
        } else if (!(c.arr = parse_path(p))) {
            goto fail;
        }
        if (!(p->scope[p->nscope] = strndup(p->e.text + v->pos, v->len))) {
            node_free(c.arr);
            perr(&p->e, v->pos, "out of memory");
            goto fail;
        }
        c.slot = p->nscope++;
        if (tok_is(p, cur(p), "where") || (kind == N_EXISTS && cur(p)->k == TK_COLON)) {
            p->i++;
            if (!(c.cond = parse_expr(p)) || need_cond(p, c.cond)) {
                node_free(c.arr);
                node_free(c.cond);
                goto fail;
            }
        }
        if (n->ncl == cap) {
            size_t nc = cap ? cap * 2 : 2;
            clause *ncl = realloc(n->cl, nc * sizeof *ncl);
            if (!ncl) {
                node_free(c.arr);
                node_free(c.cond);
                perr(&p->e, v->pos, "out of memory");
                goto fail;
            }
            n->cl = ncl;
            cap = nc;
        }
        n->cl[n->ncl++] = c;
        if (cur(p)->k == TK_COMMA && peek(p, 1)->k == TK_IDENT && tok_is(p, peek(p, 2), "from")) {
            p->i++;
            continue;
        }
        break;
    }
    while (p->nscope > scope0)
        free((void *)p->scope[--p->nscope]);
    return n;
fail:
    while (p->nscope > scope0)
        free((void *)p->scope[--p->nscope]);
    node_free(n);
    return NULL;
}

/* chain(xEvent, TS, [L: WHAT(cond) [WHEN(occurs-spec)] [COUNT(n)]]) -- one step only. */
static node *parse_chain(parser *p)
{
    node *n = mk(p, N_CHAIN, TY_COND, cur(p)->pos);
    if (!n)
        return NULL;
    n->count = 1;
    p->i++;
    if (expect(p, TK_LP, "'('"))
        goto fail;
    if (!tok_is(p, cur(p), "xEvent")) {
        unexpected(p, "xEvent");
        goto fail;
    }
    p->i++;
    if (expect(p, TK_COMMA, "','"))
        goto fail;
    if (!(n->a = parse_path(p)))
        goto fail;
    if (n->a->var >= 0) {
        perr(&p->e, n->a->pos, "chain's timestamp must be a field of the event");
        goto fail;
    }
    if (expect(p, TK_COMMA, "','") || expect(p, TK_LB, "'['"))
        goto fail;
    if (cur(p)->k != TK_IDENT) {
        unexpected(p, "a step label");
        goto fail;
    }
    p->i++;
    if (expect(p, TK_COLON, "':'"))
        goto fail;
    if (!tok_is_ci(p, cur(p), "WHAT") || peek(p, 1)->k != TK_LP) {
        unexpected(p, "WHAT(...)");
        goto fail;
    }
    p->i += 2;
    if (!(n->b = parse_expr(p)) || need_cond(p, n->b) || expect(p, TK_RP, "')'"))
        goto fail;
    for (;;) {
        const token *t = cur(p);
        if (tok_is_ci(p, t, "WHEN") && peek(p, 1)->k == TK_LP && !n->has_when) {
            p->i += 2;
            if (parse_occurs_spec(p, &n->oc) || expect(p, TK_RP, "')'"))
                goto fail;
            n->has_when = true;
        } else if (tok_is_ci(p, t, "COUNT") && peek(p, 1)->k == TK_LP && n->count == 1) {
            p->i += 2;
            if (parse_uint(p, INT32_MAX, &n->count, "a count") || expect(p, TK_RP, "')'"))
                goto fail;
            if (n->count < 1) {
                perr(&p->e, t->pos, "COUNT must be at least 1");
                goto fail;
            }
        } else if (t->k == TK_IDENT && peek(p, 1)->k == TK_LP) {
            perr(&p->e, t->pos, "unsupported chain clause '%.*s'", (int)t->len, p->e.text + t->pos);
            goto fail;
        } else {
            break;
        }
    }
    if (cur(p)->k == TK_COMMA) {
        perr(&p->e, cur(p)->pos, "chain with more than one step is not supported");
        goto fail;
    }
    if (expect(p, TK_RB, "']'") || expect(p, TK_RP, "')'"))
        goto fail;
    return n;
fail:
    node_free(n);
    return NULL;
}

static node *parse_primary(parser *p)
{
    const token *t = cur(p);
    node *n;
    char b[64];

    switch (t->k) {
    case TK_STR:
        if (!(n = mk(p, N_LIT, TY_STR, t->pos)))
            return NULL;
        n->owned = t->s;
        p->t[p->i].s = NULL;
        n->lit.k = V_STR;
        n->lit.s = n->owned;
        n->lit.n = t->slen;
        p->i++;
        return n;
    case TK_INT:
    case TK_DBL:
        if (!(n = mk(p, N_LIT, TY_NUM, t->pos)))
            return NULL;
        n->lit.k = t->k == TK_INT ? V_INT : V_DBL;
        n->lit.i = t->i;
        n->lit.d = t->d;
        p->i++;
        return n;
    case TK_LP:
        p->i++;
        if (!(n = parse_expr(p)))
            return NULL;
        if (expect(p, TK_RP, "')'")) {
            node_free(n);
            return NULL;
        }
        return n;
    case TK_LB:
        perr(&p->e, t->pos, "a list literal is only supported after in / notIn");
        return NULL;
    case TK_IDENT:
        break;
    default:
        unexpected(p, NULL);
        return NULL;
    }

    if (tok_is(p, t, "true") || tok_is(p, t, "false")) {
        if (!(n = mk(p, N_LIT, TY_BLIT, t->pos)))
            return NULL;
        n->lit.k = V_BOOL;
        n->lit.b = tok_is(p, t, "true");
        p->i++;
        return n;
    }
    if (tok_is(p, t, "select"))
        return parse_quant(p, N_SELECT);
    if (tok_is(p, t, "exists"))
        return parse_quant(p, N_EXISTS);
    if (tok_is(p, t, "forall") || tok_is(p, t, "let") || tok_is(p, t, "sum") ||
        tok_is(p, t, "average") || tok_is(p, t, "min") || tok_is(p, t, "max")) {
        if (peek(p, 1)->k == TK_LP)
            perr(&p->e, t->pos, "unsupported function %s", tok_txt(p, t, b, sizeof b));
        else
            perr(&p->e, t->pos, "unsupported construct %s", tok_txt(p, t, b, sizeof b));
        return NULL;
    }
    if (tok_is(p, t, "xEvent")) {
        size_t pos = t->pos;
        p->i++;
        if (cur(p)->k == TK_LB) {
            p->i++;
            if (!(n = mk(p, N_FILTER, TY_SET, pos)))
                return NULL;
            /* Inside [..] bare paths are relative to the event. */
            if (!(n->a = parse_expr(p)) || need_cond(p, n->a) || expect(p, TK_RB, "']'")) {
                node_free(n);
                return NULL;
            }
            return n;
        }
        if (cur(p)->k == TK_DOT && peek(p, 1)->k == TK_IDENT && peek(p, 2)->k != TK_LP) {
            perr(&p->e, pos,
                 "a path through xEvent is not supported (use select X from xEvent where X...)");
            return NULL;
        }
        return mk(p, N_XEVENT, TY_SET, pos);
    }
    if (peek(p, 1)->k == TK_LP) {
        if (tok_is(p, t, "inSegment")) {
            if (!(n = mk(p, N_INSEG, TY_COND, t->pos)))
                return NULL;
            p->i += 2;
            if (cur(p)->k != TK_STR) {
                unexpected(p, "a segment id string");
                node_free(n);
                return NULL;
            }
            n->owned = cur(p)->s;
            p->t[p->i].s = NULL;
            n->lit.n = cur(p)->slen;
            p->i++;
            if (expect(p, TK_RP, "')'")) {
                node_free(n);
                return NULL;
            }
            return n;
        }
        if (tok_is_ci(p, t, "chain"))
            return parse_chain(p);
        if (tok_is(p, t, "date")) {
            perr(&p->e, t->pos, "date(...) is only supported after occurs");
            return NULL;
        }
        perr(&p->e, t->pos, "unsupported function %s", tok_txt(p, t, b, sizeof b));
        return NULL;
    }
    if (is_reserved(p, t)) {
        unexpected(p, NULL);
        return NULL;
    }
    return parse_path(p);
}

static const struct { const char *name; int fn; } strfns[] = {
    {"equals", SF_EQUALS}, {"notEqualTo", SF_NOTEQUALTO}, {"contains", SF_CONTAINS},
    {"doesNotContain", SF_DOESNOTCONTAIN}, {"startsWith", SF_STARTSWITH},
    {"doesNotStartWith", SF_DOESNOTSTARTWITH}, {"endsWith", SF_ENDSWITH},
    {"doesNotEndWith", SF_DOESNOTENDWITH},
};

static node *parse_postfix(parser *p)
{
    node *n = parse_primary(p), *m = NULL;
    char b[64];

    while (n && (cur(p)->k == TK_DOT || cur(p)->k == TK_LB)) {
        const token *t = cur(p);
        if (t->k == TK_LB) {
            perr(&p->e, t->pos, "a filter [...] is only supported on xEvent");
            goto fail;
        }
        const token *name = peek(p, 1);
        if (name->k != TK_IDENT) {
            p->i++;
            unexpected(p, "a function name");
            goto fail;
        }
        if (peek(p, 2)->k != TK_LP) {
            perr(&p->e, name->pos, "a field of %s is not supported", ty_name(n->ty));
            goto fail;
        }
        size_t npos = name->pos;
        if (tok_is(p, name, "count")) {
            if (n->ty != TY_SET && n->ty != TY_ANY) {
                perr(&p->e, npos, "count() needs an array");
                goto fail;
            }
            p->i += 3;
            if (expect(p, TK_RP, "')'") || !(m = mk(p, N_COUNT, TY_NUM, npos)))
                goto fail;
        } else if (tok_is(p, name, "isNull") || tok_is(p, name, "isNotNull")) {
            if (n->k != N_PATH) {
                perr(&p->e, npos, "%s() needs a field path",
                     tok_is(p, name, "isNull") ? "isNull" : "isNotNull");
                goto fail;
            }
            int neg = tok_is(p, name, "isNotNull");
            p->i += 3;
            if (expect(p, TK_RP, "')'") || !(m = mk(p, N_ISNULL, TY_COND, npos)))
                goto fail;
            m->op = neg;
        } else {
            size_t i;
            for (i = 0; i < sizeof strfns / sizeof strfns[0]; i++)
                if (tok_is(p, name, strfns[i].name))
                    break;
            if (i == sizeof strfns / sizeof strfns[0]) {
                perr(&p->e, npos, "unsupported function %s", tok_txt(p, name, b, sizeof b));
                goto fail;
            }
            if (need_scalar(p, n))
                goto fail;
            p->i += 3;
            if (!(m = mk(p, N_STRFN, TY_COND, npos)))
                goto fail;
            m->op = strfns[i].fn;
            if (!(m->b = parse_postfix(p)) || need_scalar(p, m->b))
                goto fail;
            if (cur(p)->k == TK_COMMA) {
                p->i++;
                if (tok_is(p, cur(p), "true") || tok_is(p, cur(p), "false")) {
                    m->ci = tok_is(p, cur(p), "false");
                    p->i++;
                } else {
                    unexpected(p, "true or false (case sensitivity)");
                    goto fail;
                }
            }
            if (expect(p, TK_RP, "')'"))
                goto fail;
        }
        m->a = n;
        n = m;
        m = NULL;
    }
    return n;
fail:
    node_free(m);
    node_free(n);
    return NULL;
}

static node *parse_cmp(parser *p)
{
    node *a, *n = NULL;
    const token *t;

    if (enter(p))
        return NULL;
    if (!(a = parse_postfix(p)))
        goto out;
    t = cur(p);
    switch (t->k) {
    case TK_EQ: case TK_NE: case TK_LT: case TK_LE: case TK_GT: case TK_GE: {
        int ordering = t->k != TK_EQ && t->k != TK_NE;
        if (!(n = mk(p, N_CMP, TY_COND, t->pos)))
            goto fail;
        n->op = t->k;
        n->a = a;
        a = NULL;
        p->i++;
        if (!(n->b = parse_postfix(p)))
            goto fail;
        for (int side = 0; side < 2; side++) {
            node *o = side ? n->b : n->a;
            if (need_scalar(p, o))
                goto fail;
            if (ordering && o->ty != TY_NUM && o->ty != TY_ANY) {
                perr(&p->e, o->pos, "'%.*s' compares numbers, not %s", (int)t->len,
                     p->e.text + t->pos, ty_name(o->ty == TY_BLIT ? TY_ANY : o->ty));
                goto fail;
            }
        }
        break;
    }
    case TK_IDENT:
        if (tok_is(p, t, "in") || tok_is(p, t, "notIn")) {
            if (need_scalar(p, a) || !(n = mk(p, N_IN, TY_COND, t->pos)))
                goto fail;
            n->op = tok_is(p, t, "notIn");
            n->a = a;
            a = NULL;
            p->i++;
            if (cur(p)->k == TK_LB)
                n->b = parse_list(p);
            else if (cur(p)->k == TK_IDENT && !is_reserved(p, cur(p)))
                n->b = parse_path(p);
            else
                unexpected(p, "a list [...] or an array field");
            if (!n->b)
                goto fail;
        } else if (tok_is(p, t, "like")) {
            if (need_scalar(p, a) || !(n = mk(p, N_LIKE, TY_COND, t->pos)))
                goto fail;
            n->a = a;
            a = NULL;
            p->i++;
            if (!(n->b = parse_postfix(p)) || need_scalar(p, n->b))
                goto fail;
        } else if (tok_is(p, t, "occurs")) {
            if (a->k != N_PATH) {
                perr(&p->e, a->pos, "occurs needs a timestamp field");
                goto fail;
            }
            if (!(n = mk(p, N_OCCURS, TY_COND, t->pos)))
                goto fail;
            n->a = a;
            a = NULL;
            p->i++;
            if (parse_occurs_spec(p, &n->oc))
                goto fail;
        } else if (tok_is(p, t, "matches")) {
            perr(&p->e, t->pos, "unsupported function 'matches'");
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
out:
    p->depth--;
    return n;
fail:
    node_free(a);
    node_free(n);
    p->depth--;
    return NULL;
}

static node *parse_unary(parser *p)
{
    const token *t = cur(p);
    if (tok_is(p, t, "not") || t->k == TK_BANG) {
        node *n, *c;
        if (enter(p))
            return NULL;
        p->i++;
        c = parse_unary(p);
        p->depth--;
        if (!c)
            return NULL;
        if (need_cond(p, c) || !(n = mk(p, N_NOT, TY_COND, t->pos))) {
            node_free(c);
            return NULL;
        }
        n->a = c;
        return n;
    }
    return parse_cmp(p);
}

/* and / or chains become one n-ary node (items), so that a long chain costs
 * no recursion depth when evaluated or freed. */
static node *parse_bin(parser *p, int level)
{
    const char *word = level ? "and" : "or";
    node *a = level ? parse_unary(p) : parse_bin(p, 1), *n = NULL;
    size_t cap = 0;

    while ((a || n) && tok_is(p, cur(p), word)) {
        node *b;
        if (!n) {
            if (need_cond(p, a) || !(n = mk(p, level ? N_AND : N_OR, TY_COND, cur(p)->pos)))
                goto fail;
            if (!(n->items = malloc(4 * sizeof *n->items))) {
                perr(&p->e, cur(p)->pos, "out of memory");
                goto fail;
            }
            cap = 4;
            n->items[n->nitems++] = a;
            a = NULL;
        }
        p->i++;
        if (!(b = level ? parse_unary(p) : parse_bin(p, 1)))
            goto fail;
        if (need_cond(p, b)) {
            node_free(b);
            goto fail;
        }
        if (n->nitems == cap) {
            node **ni = realloc(n->items, cap * 2 * sizeof *ni);
            if (!ni) {
                node_free(b);
                perr(&p->e, cur(p)->pos, "out of memory");
                goto fail;
            }
            n->items = ni;
            cap *= 2;
        }
        n->items[n->nitems++] = b;
    }
    return n ? n : a;
fail:
    node_free(a);
    node_free(n);
    return NULL;
}

static node *parse_expr(parser *p)
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
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (lex(&p.e, text, &p.t, &p.n))
        return -1;
    if (p.t[0].k == TK_EOF) {
        perr(&p.e, p.t[0].pos, "empty expression");
        goto out;
    }
    if (!(root = parse_expr(&p)))
        goto out;
    if (cur(&p)->k != TK_EOF) {
        unexpected(&p, NULL);
        goto out;
    }
    if (need_cond(&p, root))
        goto out;
    if (!(q = calloc(1, sizeof *q)) || !(q->text = strdup(text))) {
        perr(&p.e, 0, "out of memory");
        free(q);
        q = NULL;
        goto out;
    }
    q->root = root;
    root = NULL;
    *out = q;
    rc = 0;
out:
    node_free(root);
    free_tokens(p.t, p.n);
    return rc;
}

void se_pql_free(se_pql *q)
{
    if (!q)
        return;
    node_free(q->root);
    free(q->text);
    free(q);
}

const char *se_pql_text(const se_pql *q)
{
    return q->text;
}
