#ifndef SEGEXPORT_TAPE_H
#define SEGEXPORT_TAPE_H
/* The record parser: one pass over one JSON text writes a tape, an array of
 * tokens that point into the text (simdjson's idea, in scalar C).  Nothing is
 * copied: strings stay in the text and are unescaped only when a reader asks.
 *
 * The tape accepts exactly the texts the record reader has always accepted:
 * what json-c 0.16 parses with JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8
 * and a depth of 512 (which takes "-01", "1.", "NaN", "-Infinity" and raw
 * control characters in strings, and validates UTF-8 only for its structure),
 * followed by nothing but JSON whitespace, and free of what json-c would
 * silently change (jsonscan.h: integers outside [INT64_MIN, UINT64_MAX], \u0000
 * in an object key, lone surrogate escapes).  tests/fuzz/fuzz_tape.c holds it
 * to that against json-c itself, values included.
 *
 * Layout: token 0 is the top-level value.  A container's members follow it;
 * an object's members are key, value, key, value ...  Every token's `end` is
 * the index just past its value (for a container: past its last descendant),
 * so a reader skips any value in O(1).  Object keys are SE_TK_STR tokens with
 * SE_TF_KEY.  Duplicate keys are kept on the tape; readers give them json-c's
 * meaning (the last value wins, at the first one's place). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SE_TAPE_MAX_DEPTH = 512 }; /* json-c's depth: a value's depth (top = 0) stays below it */

typedef enum {
    SE_TK_OBJ = 1, SE_TK_ARR, SE_TK_STR, SE_TK_NUM, SE_TK_TRUE, SE_TK_FALSE, SE_TK_NULL
} se_tkind;

enum {
    SE_TF_ESC = 1,  /* string: holds a backslash escape (else its bytes are its value) */
    SE_TF_KEY = 2,  /* string: an object key */
    SE_TF_DBL = 4,  /* number: a double for json-c ('.', 'e', "NaN", "Infinity") */
    SE_TF_NAN = 8,  /* number: NaN */
    SE_TF_INF = 16, /* number: Infinity or -Infinity */
    SE_TF_NOTJSON = 32, /* number: json-c takes it, RFC 8259 does not (NaN, Infinity,
                         * a leading zero as in -01, a bare dot as in 1. or .5) */
};

typedef struct se_tok {
    uint32_t off;   /* STR: first byte after the opening quote; others: first byte */
    uint32_t len;   /* STR: raw bytes between the quotes; NUM: text length;
                     * OBJ: members; ARR: elements; literals: text length */
    uint32_t end;   /* index just past this value's tokens */
    uint8_t kind;   /* se_tkind */
    uint8_t flags;  /* SE_TF_* */
} se_tok;

typedef struct se_tape {
    const char *s;  /* the text parsed last (not owned) */
    size_t len;
    se_tok *t;      /* tokens, owned */
    uint32_t n, cap;
    const char *why; /* after a failure: static reason */
    size_t err_off;  /* after a failure: where */
    uint32_t notjson; /* 1 + the index of the first SE_TF_NOTJSON number, or 0 */
} se_tape;

/* An empty tape; reuse it for line after line (its token array is kept). */
void se_tape_init(se_tape *tp);
void se_tape_free(se_tape *tp); /* releases the tokens; accepts a zeroed tape */

enum { SE_TAPE_OK = 0, SE_TAPE_BAD = -1, SE_TAPE_NOMEM = -2 };

/* The most tokens a text of len bytes can make.  A tape whose cap holds that
 * many (and at most SE_TAPE_RESERVE_MAX) is never grown by se_tape_parse: a
 * caller may point tp->t at its own buffer of cap tokens (tp->cap = cap) and
 * parse into it, e.g. straight into a chunk's arena; a line needing more
 * grows the tape as it goes (tp->t must then be the tape's own). */
#define SE_TAPE_TOKENS_MAX(len) ((len) / 2 + SE_TAPE_MAX_DEPTH / 2 + 2)
enum { SE_TAPE_RESERVE_MAX = 1 << 16 };

/* Parses s[0..len) (one JSON value, JSON whitespace around it allowed).
 * SE_TAPE_OK; SE_TAPE_BAD with tp->why ("malformed JSON", "nesting too deep",
 * "invalid utf-8 string", "integer out of range", "NUL character in an object
 * key", SE_JSON_LONE_SURROGATE, "record too long") and tp->err_off; or
 * SE_TAPE_NOMEM.  The tape points into s: s must outlive its use. */
int se_tape_parse(se_tape *tp, const char *s, size_t len);

/* How se_tape_parse reads a text (docs/record-path.md, "Parser speed").
 * AVX2, SSE2 and SCALAR: a first stage finds where each string ends, 64
 * bytes at a time, checking UTF-8 and NUL bytes as it goes, with AVX2, SSE2
 * or a byte loop; the grammar then writes the tape taking string ends from
 * it.  A text the first stage refuses (a NUL, bad UTF-8) is parsed byte by
 * byte to name the reason.  REF: byte by byte only (strings scanned 16 bytes
 * at a time).  AUTO, the default: AVX2 when the CPU has it (chosen at the
 * first parse), else REF.  Every path writes the same tape and the same
 * verdict, reason and offset for every text; texts of 64 KiB or more, and
 * texts whose last byte but whitespace is not '}' or ']', are always parsed
 * byte by byte. */
typedef enum {
    SE_TAPE_PATH_AUTO = 0, SE_TAPE_PATH_AVX2, SE_TAPE_PATH_SSE2, SE_TAPE_PATH_SCALAR,
    SE_TAPE_PATH_REF
} se_tape_path;

/* For tests and benchmarks: parse every later text (in every thread) by path
 * p.  0, or -1 when this machine or build lacks it (nothing changed). */
int se_tape_set_path(se_tape_path p);

/* ---- reading ------------------------------------------------------------ */

static inline const se_tok *se_tape_tok(const se_tape *tp, uint32_t i) { return &tp->t[i]; }
static inline const char *se_tape_raw(const se_tape *tp, uint32_t i) { return tp->s + tp->t[i].off; }

/* The first member's key index of object o (o + 1); the next key after key k
 * is tp->t[k + 1].end; the end is tp->t[o].end. */
#define SE_TAPE_EACH_MEMBER(tp, o, k) \
    for (uint32_t k = (o) + 1; k < (tp)->t[o].end; k = (tp)->t[k + 1].end)
#define SE_TAPE_EACH_ELEM(tp, a, e) \
    for (uint32_t e = (a) + 1; e < (tp)->t[a].end; e = (tp)->t[e].end)

/* The unescaped bytes of string token i written to out (room for at least
 * tp->t[i].len bytes: unescaping never lengthens).  Returns their number. */
size_t se_tape_unescape(const se_tape *tp, uint32_t i, char *out);

/* Whether string token i equals k[0..kn) once unescaped. */
bool se_tape_str_eq(const se_tape *tp, uint32_t i, const char *k, size_t kn);

/* Compares the unescaped string i with k[0..kn) by bytes (memcmp order, the
 * shorter first): <0, 0, >0. */
int se_tape_str_cmp(const se_tape *tp, uint32_t i, const char *k, size_t kn);

/* The value of member key of object o as json-c sees it (the last of
 * duplicates), or 0 when absent (0 is never a member's index). */
uint32_t se_tape_get(const se_tape *tp, uint32_t o, const char *key, size_t keylen);

/* Whether key token k is the first of its name in its object o (a reader
 * walking members in json-c's order visits only these, with
 * se_tape_get's value). */
bool se_tape_first_key(const se_tape *tp, uint32_t o, uint32_t k);

/* The value of member k's name (k a key of object o) as json-c sees it: the
 * value of the last member of that name. */
uint32_t se_tape_last_value(const se_tape *tp, uint32_t o, uint32_t k);

/* An integer token (NUM without SE_TF_DBL) as json-c holds it: the int64 when
 * it fits (*big false), else *big true and *u the uint64 (above INT64_MAX).
 * *u is the magnitude in both cases. */
int64_t se_tape_int(const se_tape *tp, uint32_t i, bool *big, uint64_t *u);

#endif
