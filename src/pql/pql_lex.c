/* pql_lex.c -- PQL (pql/text) lexer, positioned error messages, and the
 * parser's token and node helpers shared by pql_parse.c and pql_parse2.c.
 * docs/pql.md is the contract. */
#include "pql_ast.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- lexer */

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
void pql_perr(perr_ctx *e, size_t pos, const char *fmt, ...)
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

void pql_free_tokens(token *t, size_t n)
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
    static const char *const ops[] = {"and", "or", "not", "in", "notIn", "like", "matches", "where",
                                      "in", "over", "then", "before", "after", "from", NULL};
    if (n == 0)
        return 0;
    switch (t[n - 1].k) {
    case TK_IDENT:
        for (size_t i = 0; ops[i]; i++)
            if (t[n - 1].len == strlen(ops[i]) &&
                memcmp(text + t[n - 1].pos, ops[i], t[n - 1].len) == 0)
                return 0;
        return 1;
    case TK_STR: case TK_INT: case TK_DBL: case TK_RP: case TK_RB: case TK_PARAM:
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
        pql_perr(e, start, "malformed number");
        return -1;
    }
    if (p - start >= sizeof buf) {
        pql_perr(e, start, "number too long");
        return -1;
    }
    memcpy(buf, text + start, p - start);
    buf[p - start] = '\0';
    errno = 0;
    if (isdbl) {
        t->k = TK_DBL;
        t->d = strtod(buf, NULL);
        if (errno == ERANGE) {
            pql_perr(e, start, "number out of range");
            return -1;
        }
    } else {
        t->k = TK_INT;
        t->i = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            pql_perr(e, start, "number out of range");
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
            pql_perr(e, start, "unterminated string");
            return -1;
        }
        if (text[q] == '"')
            break;
        if (text[q] == '\\') {
            char c = text[q + 1];
            if (c != '"' && c != '\\' && c != '/' && c != 'n' && c != 't' && c != 'r') {
                pql_perr(e, q, "unsupported escape in string");
                return -1;
            }
            q++;
        }
        n++;
    }
    if (!(out = malloc(n + 1))) {
        pql_perr(e, start, "out of memory");
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

int pql_lex(perr_ctx *e, const char *text, token **out, size_t *nout)
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
                pql_perr(e, p, "out of memory");
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
                    p++;
                    tk.k = TK_ARROW;
                    tk.len = 2;
                } else {
                    tk.k = TK_EQ;
                }
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
            case '+': tk.k = TK_PLUS; break;
            case '-': tk.k = TK_MINUS; break;
            case '*': tk.k = TK_STAR; break;
            case '/': tk.k = TK_SLASH; break;
            case '%': tk.k = TK_PCT; break;
            case '^': tk.k = TK_CARET; break;
            case '$':
                if (!is_dig(text[p]) || text[p] == '0') {
                    pql_perr(e, tk.pos, "expected a parameter number after '$'");
                    goto fail;
                }
                tk.k = TK_PARAM;
                while (is_dig(text[p]) && tk.i < 1000)
                    tk.i = tk.i * 10 + (text[p++] - '0');
                if (is_dig(text[p]) || tk.i > MAX_VARS) {
                    pql_perr(e, tk.pos, "parameter number too large");
                    goto fail;
                }
                tk.len = p - tk.pos;
                break;
            default:
                if (c >= 0x20 && c < 0x7f)
                    pql_perr(e, tk.pos, "unexpected character '%c'", c);
                else
                    pql_perr(e, tk.pos, "unexpected character (byte 0x%02x)", c);
                goto fail;
            }
        }
        t[n++] = tk;
    }
    *out = t;
    *nout = n;
    return 0;
fail:
    pql_free_tokens(t, n);
    return -1;
}


/* ---------------------------------------------------------------- parser helpers */

const token *pql_cur(parser *p) { return &p->t[p->i]; }

const token *pql_peek(parser *p, size_t k)
{
    return p->i + k < p->n ? &p->t[p->i + k] : &p->t[p->n - 1];
}

int pql_tok_is(const parser *p, const token *t, const char *word)
{
    size_t l = strlen(word);
    return t->k == TK_IDENT && t->len == l && memcmp(p->e.text + t->pos, word, l) == 0;
}

int pql_tok_is_ci(const parser *p, const token *t, const char *word)
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

int pql_is_reserved(const parser *p, const token *t)
{
    for (size_t i = 0; reserved[i]; i++)
        if (pql_tok_is(p, t, reserved[i]))
            return 1;
    return 0;
}

/* The token as text, for messages (at most 40 bytes). */
const char *pql_tok_txt(const parser *p, const token *t, char *buf, size_t n)
{
    if (t->k == TK_EOF)
        return "end of expression";
    size_t l = t->len < 40 ? t->len : 40;
    snprintf(buf, n, "'%.*s'", (int)l, p->e.text + t->pos);
    return buf;
}

void pql_unexpected(parser *p, const char *want)
{
    char b[64];
    const token *t = pql_cur(p);
    if (want)
        pql_perr(&p->e, t->pos, "expected %s, found %s", want, pql_tok_txt(p, t, b, sizeof b));
    else
        pql_perr(&p->e, t->pos, "unexpected %s", pql_tok_txt(p, t, b, sizeof b));
}

int pql_expect(parser *p, enum tk k, const char *what)
{
    if (pql_cur(p)->k != k) {
        pql_unexpected(p, what);
        return -1;
    }
    p->i++;
    return 0;
}

node *pql_mk(parser *p, enum nk k, enum ty ty, size_t pos)
{
    node *n = calloc(1, sizeof *n);
    if (!n) {
        pql_perr(&p->e, pos, "out of memory");
        return NULL;
    }
    n->k = (unsigned char)k;
    n->ty = (unsigned char)ty;
    n->pos = pos;
    n->var = -1;
    return n;
}

static void occ_free(occspec *o)
{
    pql_node_free(o->a1.e);
    pql_node_free(o->a2.e);
}

void pql_node_free(node *n)
{
    if (!n)
        return;
    pql_node_free(n->a);
    pql_node_free(n->b);
    pql_node_free(n->c);
    free(n->owned);
    pql_regex_free(n->re);
    for (size_t i = 0; i < n->nitems; i++)
        pql_node_free(n->items[i]);
    free(n->items);
    for (size_t i = 0; i < n->nsegs; i++)
        free(n->segs[i]);
    free(n->segs);
    for (size_t i = 0; i < n->ncl; i++) {
        pql_node_free(n->cl[i].arr);
        pql_node_free(n->cl[i].cond);
    }
    free(n->cl);
    occ_free(&n->oc);
    for (size_t i = 0; i < n->nsteps; i++) {
        pql_node_free(n->steps[i].what);
        pql_node_free(n->steps[i].where);
        occ_free(&n->steps[i].oc);
    }
    free(n->steps);
    free(n);
}

static const char *ty_name(enum ty t)
{
    switch (t) {
    case TY_NUM: return "a number";
    case TY_STR: return "a string";
    case TY_LIST: return "a list";
    case TY_DATE: return "a date";
    case TY_VAL: return "a value";
    default: return "a value";
    }
}

/* n is usable in boolean position.  At the top (depth 0) a value is a
 * computed attribute or a ranking formula, not a segment condition. */
int pql_need_cond(parser *p, const node *n)
{
    if (n->ty == TY_NUM || n->ty == TY_STR || n->ty == TY_LIST || n->ty == TY_DATE ||
        n->ty == TY_VAL) {
        if (p->depth == 0)
            pql_perr(&p->e, n->pos, "the expression computes %s (a computed attribute or "
                     "ranking formula), not a segment condition", ty_name(n->ty));
        else
            pql_perr(&p->e, n->pos, "%s is not a condition", ty_name(n->ty));
        return -1;
    }
    return 0;
}

int pql_add_item(parser *p, node *n, node *it)
{
    if ((n->nitems & (n->nitems - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t nc = n->nitems ? n->nitems * 2 : 1;
        node **ni = realloc(n->items, nc * sizeof *ni);
        if (!ni) {
            pql_perr(&p->e, it->pos, "out of memory");
            pql_node_free(it);
            return -1;
        }
        n->items = ni;
    }
    n->items[n->nitems++] = it;
    return 0;
}

/* Declares variable v (select/exists/forall/sum/let/lambda): its slot, or -1. */
int pql_declare(parser *p, const token *v)
{
    if (v->k != TK_IDENT || pql_is_reserved(p, v)) {
        pql_unexpected(p, "a variable name");
        return -1;
    }
    for (int i = 0; i < p->nscope; i++) {
        if (strlen(p->scope[i]) == v->len && memcmp(p->scope[i], p->e.text + v->pos, v->len) == 0) {
            pql_perr(&p->e, v->pos, "variable '%.*s' is already declared", (int)v->len,
                     p->e.text + v->pos);
            return -1;
        }
    }
    if (p->nscope == MAX_VARS) {
        pql_perr(&p->e, v->pos, "too many variables");
        return -1;
    }
    if (!(p->scope[p->nscope] = strndup(p->e.text + v->pos, v->len))) {
        pql_perr(&p->e, v->pos, "out of memory");
        return -1;
    }
    if (p->nscope + 1 > p->maxslots)
        p->maxslots = p->nscope + 1;
    p->scope_ty[p->nscope] = TY_ANY;
    return p->nscope++;
}
