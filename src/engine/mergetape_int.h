/* Private to src/mergetape*.c: the tape merge writer's skeleton, views and
 * output (see mergetape.c). */
#ifndef SEGEXPORT_MERGETAPE_INT_H
#define SEGEXPORT_MERGETAPE_INT_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mergetape.h"
#include "tapeout.h"

#define NONE UINT32_MAX

/* Normalization contexts: how a leaf's value is printed (and read). */
enum {
    C_NONE,    /* as it is (json-c's view of duplicates) */
    C_IDMAP,   /* the top-level identityMap object: its arrays are C_IDARR */
    C_IDARR,   /* a namespace's items: objects are C_IDITEM */
    C_IDITEM,  /* an identity item: xdm:id, xdm:primary, xdm:authenticatedState renamed */
    C_SM,      /* the top-level segmentMembership: its objects are C_SMNS */
    C_SMNS,    /* a namespace's segments: objects are C_SMENTRY */
    C_SMENTRY, /* a membership entry: every xdm: key renamed */
};

enum { N_LEAF, N_OBJ, N_ARR };

typedef struct mnode {
    uint8_t kind;   /* N_* */
    uint8_t ctx;    /* leaf: C_* */
    uint32_t rec;   /* leaf: record */
    uint32_t tok;   /* leaf: token */
    uint32_t head, tail, cursor; /* N_OBJ, N_ARR: members (mmem indices) */
} mnode;

/* A member of a merged object (key bytes, unescaped) or an item of an
 * identity array (kp: its string id, NULL when it has none). */
typedef struct mmem {
    uint32_t next;
    uint32_t val;   /* node */
    uint32_t kn, h;
    const char *kp;
} mmem;

/* A member of one object's view. */
typedef struct vmem {
    uint32_t k, v;
    uint32_t kn, h;
    const char *kp;
} vmem;

/* Unescaped key bytes: blocks that never move while the merge runs. */
typedef struct kblock {
    struct kblock *next;
    size_t used, cap;
    char data[];
} kblock;

typedef struct mctx {
    const se_tape **tp;        /* records: fragments, then events */
    mnode *nodes;
    uint32_t nn, ncap;
    mmem *mems;
    uint32_t nm, mcap;
    vmem *vs;                  /* a stack of views */
    uint32_t nv, vcap;
    uint32_t *ht;              /* the duplicate search of large views */
    uint32_t htcap;
    kblock *kb;
    char *tbuf;                /* a time as a C string */
    size_t tcap;
    se_tout o;                 /* the output */
    const se_mt_keep *keep;    /* the top-level members written, or NULL: all */
    bool oom, unsure;          /* oom: also o.oom */
} mctx;

static inline void put(mctx *c, const char *s, size_t n) { se_tout_put(&c->o, s, n); }
static inline void putc1(mctx *c, char ch) { se_tout_putc(&c->o, ch); }
static inline void put_esc(mctx *c, const char *s, size_t n) { se_tout_esc(&c->o, s, n); }

/* A cheap hash of key bytes (the first and last eight and the length): it
 * only spares most memcmp calls, equal keys are still compared. */
static inline uint32_t key_hash(const char *s, size_t n)
{
    uint64_t a = 0, b = 0;
    memcpy(&a, s, n < 8 ? n : 8);
    if (n > 8)
        memcpy(&b, s + n - (n < 16 ? n - 8 : 8), n < 16 ? n - 8 : 8);
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ n;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* lasting_bytes of an escaped string: unescaped into the key blocks. */
const char *se_mt_unescaped_copy(mctx *c, const se_tape *tp, uint32_t k, uint32_t *kn);

/* The unescaped bytes of key (or string) token k, lasting the whole merge. */
static inline const char *lasting_bytes(mctx *c, const se_tape *tp, uint32_t k, uint32_t *kn)
{
    const se_tok *t = se_tape_tok(tp, k);
    if (!(t->flags & SE_TF_ESC)) {
        *kn = t->len;
        return se_tape_raw(tp, k);
    }
    return se_mt_unescaped_copy(c, tp, k, kn);
}

static inline bool same_key(const char *a, uint32_t an, uint32_t ah, const char *b, uint32_t bn, uint32_t bh)
{
    return ah == bh && an == bn && memcmp(a, b, an) == 0;
}

static inline bool is_lit(const char *kp, uint32_t kn, const char *lit, size_t ln)
{
    return kn == ln && memcmp(kp, lit, ln) == 0;
}

static inline uint8_t child_ctx(uint8_t ctx, uint8_t kind)
{
    switch (ctx) {
    case C_IDMAP: return kind == SE_TK_ARR ? C_IDARR : C_NONE;
    case C_IDARR: return kind == SE_TK_OBJ ? C_IDITEM : C_NONE;
    case C_SM: return kind == SE_TK_OBJ ? C_SMNS : C_NONE;
    case C_SMNS: return kind == SE_TK_OBJ ? C_SMENTRY : C_NONE;
    default: return C_NONE;
    }
}

/* Pushes the members of object o of record r, as json-c holds them (a name
 * once, at its first place, with its last value), onto the view stack.
 * Returns the view's base; *cnt its size.  The caller pops it (c->nv = base). */
uint32_t se_mt_view(mctx *c, uint32_t r, uint32_t o, uint32_t *cnt);
/* The view member named s in view [base, base+cnt), or NONE. */
uint32_t se_mt_view_find(const mctx *c, uint32_t base, uint32_t cnt, const char *s, size_t n);
/* The object view of o in ctx with an identity item's renaming done. */
uint32_t se_mt_norm_view(mctx *c, uint32_t r, uint32_t o, uint8_t ctx, uint32_t *cnt);
/* Whether a key of an item (C_IDITEM) or entry (C_SMENTRY) loses "xdm:". */
bool se_mt_strips(uint8_t ctx, const char *kp, uint32_t kn);
/* The value of name in a normalized item or entry o: name, else xname. */
uint32_t se_mt_norm_get(const se_tape *tp, uint32_t o, const char *name, const char *xname);
/* json_object_equal of two normalized values (token, record, context). */
bool se_mt_deep_equal(mctx *c, uint32_t ra, uint32_t ta, uint8_t ca, uint32_t rb, uint32_t tb,
                      uint8_t cb, int depth);
/* Writes node n of the skeleton as json-c prints it. */
void se_mt_print_node(mctx *c, uint32_t n);

#endif
