#ifndef SEGEXPORT_PQL_AST_H
#define SEGEXPORT_PQL_AST_H
/* pql_ast.h -- PRIVATE to src/pql_*.c; not part of the library's interface
 * (include/pql.h is).  The compiled tree that the parser (pql_lex.c,
 * pql_parse.c, pql_parse2.c) builds and the evaluator (pql_eval.c,
 * pql_func.c, pql_time.c) walks, the runtime values, and the few helpers
 * the halves share.  docs/pql.md is the contract. */
#include "pql.h"
#include "tape.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define MAX_VARS 32          /* select/exists/let/lambda variables in scope at once */
#define MAX_UP 16            /* nesting of filters [..] (the ^ stack) */
#define DAY_MS INT64_C(86400000)

/* Token kinds (lexer, pql_lex.c); N_CMP, N_ARITH and occurs specs keep one as op. */
enum tk {
    TK_EOF, TK_IDENT, TK_STR, TK_INT, TK_DBL, TK_LP, TK_RP, TK_LB, TK_RB,
    TK_COMMA, TK_DOT, TK_COLON, TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE, TK_BANG,
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PCT, TK_CARET, TK_PARAM, TK_ARROW
};

/* Runtime values.  JSON arrays and objects are references into a record's
 * tape (tp, token index n); strings point into the record's text or the
 * compiled tree, and only a string holding escapes is unescaped, into the
 * evaluation's arena, when a value is made of it.  Such strings (and those
 * PQL computes) end with a NUL; strings read straight from a text do not.
 * V_LIST items live in the arena.  V_DATE is a UTC day (i = its first
 * millisecond). */
typedef enum { V_NULL, V_BOOL, V_INT, V_DBL, V_STR, V_ARR, V_OBJ, V_LIST, V_DATE } vkind;

typedef struct val {
    unsigned char k;     /* vkind */
    bool proj;           /* V_LIST made by a path through arrays: compares per item */
    size_t n;            /* V_STR bytes, V_LIST items, V_ARR/V_OBJ the token index */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
        const se_tape *tp;   /* V_ARR, V_OBJ */
        struct val *items;
    };
} val;

/* Static types, checked at compile time. */
enum ty {
    TY_COND,   /* a condition (boolean) */
    TY_NUM, TY_STR, TY_BLIT, /* number, string, boolean literal */
    TY_ANY,    /* a field: any JSON value, coerced in boolean position */
    TY_SET,    /* an array/list of items (xEvent, filters, select): non-empty = true */
    TY_LIST,   /* a list literal */
    TY_DATE,   /* date(...) */
    TY_VAL     /* if(...) with value branches, groupBy: a value, never a condition */
};

enum nk {
    N_LIT, N_LIST, N_PATH, N_AND, N_OR, N_NOT, N_CMP, N_IN, N_LIKE, N_MATCHES, N_STRFN,
    N_ISNULL, N_INSEG, N_OCCURS, N_SELECT, N_EXISTS, N_FORALL, N_AGG, N_XEVENT, N_FILTER,
    N_FIELD, N_ARITH, N_NEG, N_IF, N_LET, N_CALL, N_CHAIN, N_LAMBDA, N_DATE
};

enum strfn { SF_EQUALS, SF_NOTEQUALTO, SF_CONTAINS, SF_DOESNOTCONTAIN, SF_STARTSWITH,
             SF_DOESNOTSTARTWITH, SF_ENDSWITH, SF_DOESNOTENDWITH };

/* Functions and methods (N_CALL); items[0] is the receiver of a method. */
enum fn {
    F_COUNT, F_SUM, F_AVERAGE, F_MIN, F_MAX, F_DISTINCT, F_INTERSECTS, F_INTERSECTION,
    F_SUBSETOF, F_SUPERSETOF, F_INCLUDES, F_HEAD, F_TOPN, F_BOTTOMN, F_FILTER, F_MAP,
    F_EXISTS, F_GET, F_KEYS, F_VALUES, F_REGEXGROUP, F_GETYEAR, F_GETMONTH,
    F_GETDAYOFMONTH, F_CURYEAR, F_CURMONTH, F_CURDAY
};

enum unit {
    U_MS, U_S, U_MIN, U_H, U_DAY, U_WEEK,                   /* fixed durations */
    U_MONTH, U_YEAR, U_DECADE, U_CENTURY, U_MILLENNIUM      /* calendar months */
};
enum anchor_k { A_NOW, A_TODAY, A_YESTERDAY, A_TOMORROW, A_DATE, A_EXPR, A_THIS, A_LAST,
                A_NEXT };
enum occ_form { OC_BEFORE, OC_AFTER, OC_ON, OC_BETWEEN, OC_NBEFORE, OC_NAFTER };

struct node;

typedef struct {
    enum anchor_k k;
    enum unit unit;      /* A_THIS, A_LAST, A_NEXT: the period */
    struct node *e;      /* A_DATE: the date(...) node; A_EXPR: a timestamp expression */
} anchor;

typedef struct {
    enum occ_form form;
    enum tk cmp;         /* N-unit forms: TK_LT, TK_LE, TK_GT, TK_GE, TK_EQ, TK_NE */
    int64_t n;
    enum unit unit;
    anchor a1, a2;
} occspec;

typedef struct {
    int slot;
    struct node *arr;    /* the array expression */
    struct node *cond;   /* may be NULL */
} clause;

typedef struct chainstep {
    struct node *what, *where; /* where may be NULL */
    bool has_when;
    occspec oc;
    int64_t count;       /* at least this many events (default 1) */
} chainstep;

typedef struct node {
    unsigned char k;     /* enum nk */
    unsigned char ty;    /* enum ty */
    size_t pos;
    struct node *a, *b, *c;
    /* N_LIT: the value (owned: its string) */
    val lit;
    char *owned;
    void *re;            /* N_MATCHES, N_CALL regexGroup, N_STRFN ci: compiled pcre2 code */
    /* N_LIST items; N_AND, N_OR operands; N_CALL arguments (receiver first) */
    struct node **items;
    size_t nitems;
    /* N_PATH, N_FIELD: segments */
    char **segs;
    size_t nsegs;
    int var;             /* N_PATH: slot, or -1: relative to the context (up levels above) */
    int up;              /* N_PATH: number of ^ */
    int op;              /* N_CMP/N_ARITH: tk; N_IN: neg; N_STRFN: strfn; N_ISNULL: neg;
                            N_CALL: fn; N_AGG: fn; N_SELECT.. none */
    bool ci;             /* N_STRFN: case-insensitive */
    bool peritem;        /* N_CALL: argument 1 is evaluated on each item (sum(path)) */
    int slot;            /* N_LET, N_LAMBDA: first variable slot */
    /* N_SELECT, N_EXISTS, N_FORALL, N_AGG: clauses */
    clause *cl;
    size_t ncl;
    /* N_OCCURS */
    occspec oc;
    /* N_CHAIN */
    chainstep *steps;
    size_t nsteps;
} node;

struct se_pql {
    char *text;
    node *root;
    int nslots;
};

/* ---------------------------------------------------------------- parser (shared) */

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

typedef struct {
    perr_ctx e;
    token *t;
    size_t n, i;
    int depth;
    const char *scope[MAX_VARS];
    unsigned char scope_ty[MAX_VARS]; /* a let variable's type; TY_ANY otherwise */
    int nscope, maxslots;
    int filters;         /* filter [..] levels open around the current point */
    int lambda_slot;     /* the innermost lambda's first slot; -1: $1 is the profile, -2: the item */
} parser;

__attribute__((format(printf, 3, 4)))
void pql_perr(perr_ctx *e, size_t pos, const char *fmt, ...);
int pql_lex(perr_ctx *e, const char *text, token **out, size_t *nout);
void pql_free_tokens(token *t, size_t n);

const token *pql_cur(parser *p);
const token *pql_peek(parser *p, size_t k);
int pql_tok_is(const parser *p, const token *t, const char *word);
int pql_tok_is_ci(const parser *p, const token *t, const char *word);
int pql_is_reserved(const parser *p, const token *t);
const char *pql_tok_txt(const parser *p, const token *t, char *buf, size_t n);
void pql_unexpected(parser *p, const char *want);
int pql_expect(parser *p, enum tk k, const char *what);
node *pql_mk(parser *p, enum nk k, enum ty ty, size_t pos);
void pql_node_free(node *n);
int pql_need_cond(parser *p, const node *n);
int pql_add_item(parser *p, node *n, node *it);
int pql_declare(parser *p, const token *v);
node *pql_parse_expr(parser *p);
node *pql_parse_add(parser *p);
node *pql_parse_path(parser *p);
int pql_parse_occurs_spec(parser *p, occspec *o);
node *pql_parse_chain(parser *p);
node *pql_parse_quant(parser *p, enum nk kind);
node *pql_parse_call(parser *p, node *recv, const token *name);
int pql_regex_compile(parser *p, node *n, const node *pat, int kind);
void pql_regex_free(void *re);

/* ---------------------------------------------------------------- evaluator (shared) */

typedef struct arena_chunk arena_chunk;

typedef struct {
    const se_tape *profile;
    const se_tape *const *events;
    size_t nevents;
    bool raw;                      /* raw records: each top-level _acp_system_metadata is hidden */
    int64_t now, today;
    val ctx[MAX_UP + 2];           /* ctx[0] the profile; one more per open filter (the item) */
    int sp;
    val vars[MAX_VARS];
    arena_chunk *arena;
    int oom;
} ectx;

typedef struct { arena_chunk *c; size_t used; } amark;

void *pql_alloc(ectx *c, size_t n);
amark pql_mark(ectx *c);
void pql_release(ectx *c, amark m);
int pql_ev(ectx *c, const node *n, val *out);
int pql_ev_bool(ectx *c, const node *n, bool *out);

/* Values over tapes (pql_val.c).  A value read from a tape: json-c's meaning
 * (integers as json_object_get_int64 gives them, doubles, duplicate keys: the
 * last value wins). */
val pql_val_tok(ectx *c, const se_tape *tp, uint32_t i);
/* The value index of key k[0..kn) in object token o (json-c's lookup), 0 when
 * absent or hidden (a raw record's top-level _acp_system_metadata). */
uint32_t pql_obj_get(const ectx *c, const se_tape *tp, uint32_t o, const char *k, size_t kn);
/* Whether key token k of object o is one json-c's iteration visits (the first
 * of its name, not hidden). */
bool pql_key_visible(const ectx *c, const se_tape *tp, uint32_t o, uint32_t k);
/* -1 a<b, 0 equal, 1 a>b, 3 different, 2 not comparable (null, or types). */
int pql_vcmp(ectx *c, const val *a, const val *b);
bool pql_truthy(const val *v);
size_t pql_seq_len(const val *v);
/* Iterating an array or a list: seqit it = {0}; while (pql_seq_next(c, &s, &it, &v)) */
typedef struct { size_t i; uint32_t e; } seqit;
bool pql_seq_next(ectx *c, const val *v, seqit *it, val *out);
val pql_seq_first(ectx *c, const val *v);
/* A string value's bytes as a NUL-terminated C string when they hold no NUL
 * (a copy in the arena when needed), else NULL. */
const char *pql_cstr(ectx *c, const val *v);
int pql_items(ectx *c, const node *n, val *out);
int pql_each(ectx *c, const node *n, int (*fn)(ectx *, const val *, void *, bool *),
             void *st, bool *stop);
typedef struct { int fn; int64_t cnt, isum; double dsum; bool dbl; val best; } aggst;
void pql_agg_add(ectx *c, aggst *a, const val *v);
int pql_agg_result(const aggst *a, val *out);
int pql_date(int64_t y, int64_t m, int64_t d, int64_t *ms);
int pql_call(ectx *c, const node *n, val *out);
int pql_strfn(ectx *c, const node *n, const val *a, const val *b, bool *out);
int pql_matches(ectx *c, const node *n, const val *a, const val *b, bool *out);
int pql_val_time(ectx *c, const val *v, int64_t *ms);
int pql_occurs(ectx *c, const occspec *o, int64_t t, bool *out);
int pql_chain(ectx *c, const node *n, bool *out);
int64_t pql_floordiv(int64_t a, int64_t b);

static inline int is_dig(int c) { return c >= '0' && c <= '9'; }

#endif
