#ifndef SEGEXPORT_PQL_AST_H
#define SEGEXPORT_PQL_AST_H
/* pql_ast.h -- PRIVATE to src/pql_parse.c and src/pql_eval.c; not part of
 * the library's interface (include/pql.h is).  Holds the compiled tree that
 * the parser builds and the evaluator walks, the token kinds the tree keeps
 * (comparison operators), and the few helpers both halves share.  Nothing
 * outside src/pql_*.c should include it. */
#include "pql.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define MAX_VARS 16          /* select/exists variables in scope at once */
#define DAY_MS INT64_C(86400000)

/* Token kinds (lexer, pql_parse.c); N_CMP and occurs specs keep one as op. */
enum tk {
    TK_EOF, TK_IDENT, TK_STR, TK_INT, TK_DBL, TK_LP, TK_RP, TK_LB, TK_RB,
    TK_COMMA, TK_DOT, TK_COLON, TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE, TK_BANG
};

typedef enum { V_NULL, V_BOOL, V_INT, V_DBL, V_STR, V_ARR, V_OBJ } vkind;

typedef struct {
    vkind k;
    bool b;
    int64_t i;
    double d;
    const char *s;
    size_t n;
    json_object *j;
} val;

/* Static types, checked at compile time. */
enum ty { TY_COND, TY_NUM, TY_STR, TY_BLIT, TY_ANY, TY_SET, TY_LIST };

enum nk {
    N_LIT, N_LIST, N_PATH, N_AND, N_OR, N_NOT, N_CMP, N_IN, N_LIKE, N_STRFN,
    N_ISNULL, N_INSEG, N_OCCURS, N_SELECT, N_EXISTS, N_XEVENT, N_FILTER, N_COUNT, N_CHAIN
};

enum strfn { SF_EQUALS, SF_NOTEQUALTO, SF_CONTAINS, SF_DOESNOTCONTAIN, SF_STARTSWITH,
             SF_DOESNOTSTARTWITH, SF_ENDSWITH, SF_DOESNOTENDWITH };

enum unit {
    U_MS, U_S, U_MIN, U_H, U_DAY, U_WEEK,                   /* fixed durations */
    U_MONTH, U_YEAR, U_DECADE, U_CENTURY, U_MILLENNIUM      /* calendar months */
};
enum anchor_k { A_NOW, A_TODAY, A_YESTERDAY, A_TOMORROW, A_DATE, A_PATH };
enum occ_form { OC_BEFORE, OC_AFTER, OC_ON, OC_BETWEEN, OC_NBEFORE, OC_NAFTER };

struct node;

typedef struct {
    enum anchor_k k;
    int64_t day_ms;      /* A_DATE: start of that UTC day */
    struct node *path;   /* A_PATH */
} anchor;

typedef struct {
    enum occ_form form;
    enum tk cmp;         /* N-unit forms: TK_LT, TK_LE, TK_GT, TK_GE */
    int64_t n;
    enum unit unit;
    anchor a1, a2;
} occspec;

typedef struct {
    int slot;
    struct node *arr;    /* N_XEVENT or N_PATH */
    struct node *cond;   /* may be NULL */
} clause;

typedef struct node {
    enum nk k;
    enum ty ty;
    size_t pos;
    struct node *a, *b;
    /* N_LIT */
    val lit;
    char *owned;
    /* N_LIST: literals; N_AND, N_OR: operands */
    struct node **items;
    size_t nitems;
    /* N_PATH */
    char **segs;
    size_t nsegs;
    int var;             /* slot, or -1: relative to the context root */
    /* N_CMP: op; N_IN: neg; N_STRFN: fn, ci; N_ISNULL: neg */
    int op;
    bool ci;
    /* N_SELECT, N_EXISTS */
    clause *cl;
    size_t ncl;
    /* N_OCCURS, N_CHAIN */
    occspec oc;
    bool has_when;
    int64_t count;       /* N_CHAIN: at least this many events */
} node;

struct se_pql {
    char *text;
    node *root;
};

/* ---------------------------------------------------------------- shared helpers */

static inline int is_dig(int c) { return c >= '0' && c <= '9'; }

/* The calendar (se_days_from_civil, se_days_in_month, ...) is timeutil.h's. */

#endif
