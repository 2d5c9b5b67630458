/* The strict tape parser (see tape.h): one pass, no allocation but the token
 * array, which is kept from line to line.
 *
 * Speed (docs/record-path.md, "Parser speed"): most bytes of a record are
 * inside strings, so a string body is scanned 16 bytes at a time (SSE2; 8 at
 * a time with SWAR elsewhere) for the only bytes that need a look: '"', '\\',
 * NUL and bytes >= 0x80.  Plain integers and decimals take a short path; the
 * token array is reserved once per line, so pushing a token is a store. */
#include "tape.h"

#include "jsonscan.h"
#include "tapehex.h"
#include "tape_index.h"
#include "tape_num.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define COLD __attribute__((cold, noinline))
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#define COLD
#define NOINLINE
#define ALWAYS_INLINE inline
#endif

void se_tape_init(se_tape *tp)
{
    memset(tp, 0, sizeof *tp);
}

void se_tape_free(se_tape *tp)
{
    free(tp->t);
    memset(tp, 0, sizeof *tp);
}

/* Bytes a string scan stops at: '"', '\\', NUL (refused: json-c ends its
 * input there) and >= 0x80 (UTF-8, checked for its structure as json-c does).
 * Other control bytes are taken raw, as json-c takes them. */
static const unsigned char str_stop_byte[256] = {
    [0] = 1, ['"'] = 1, ['\\'] = 1,
    [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Where a number ends when it is a plain one: the bytes that may follow a
 * value inside a container (anything else takes scan_number's long way). */
static const unsigned char num_delim[256] = {
    [','] = 1, [']'] = 1, ['}'] = 1, [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10;
}

/* The first byte at or after q that is no digit, or end; eight at a time
 * where eight are left (ids and times have 10-20 digits).  A byte is a
 * digit when its high nibble is 3 and stays 3 with 6 added: the bytes
 * where that fails are marked, the first one counted from the low end
 * (little-endian; a byte >= 0xfa that carries into the next is marked
 * itself, so the carry never matters).  Staged, a byte that is no digit
 * comes before the end (parse's bounds). */
static ALWAYS_INLINE const unsigned char *skip_digits(const unsigned char *q,
                                                      const unsigned char *end,
                                                      const bool staged)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t hi = 0xf0f0f0f0f0f0f0f0u, three = 0x3030303030303030u;
    while (end - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        const uint64_t no = ((x & hi) ^ three) | (((x + 0x0606060606060606u) & hi) ^ three);
        if (no)
            return q + (unsigned)__builtin_ctzll(no) / 8;
        q += 8;
    }
#endif
    while ((staged || q < end) && is_digit(*q))
        q++;
    return q;
}

/* Skips JSON whitespace; compact records have none, so one test is the
 * common cost. */
static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && *p <= ' ' && is_ws(*p))
        p++;
    return p;
}

#ifdef __SSE2__
/* Bit k set when p[k] (k < 16) is a stop byte: '"', '\\', or at most 0 as a
 * signed byte (NUL, >= 0x80). */
static ALWAYS_INLINE unsigned stop_mask16(const unsigned char *p)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                   _mm_cmpgt_epi8(_mm_set1_epi8(1), v));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* The first stop byte (str_stop_byte) in p[0..end), or end.  s is the start
 * of the text: no load ever leaves s[0..end). */
static ALWAYS_INLINE const unsigned char *str_stop(const unsigned char *p,
                                                   const unsigned char *s,
                                                   const unsigned char *end)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        unsigned bits = stop_mask16(p);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
    if (p < end && end - s >= 16) {
        /* Fewer than 16 bytes left: the text's last 16, the ones before p
         * shifted out. */
        const unsigned char *b = end - 16;
        unsigned bits = stop_mask16(b) >> (p - b);
        return bits ? p + __builtin_ctz(bits) : end;
    }
#else
    /* SWAR, 8 bytes at a time: a byte's top bit set in hit when it is zero
     * (after xor with '"' or '\\': when it is one of those) or >= 0x80.  The
     * lowest set bit is exact (borrows only run upwards), the byte order is
     * the machine's, so the byte is found by looking. */
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    (void)s;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t xq = x ^ (ones * '"'), xb = x ^ (ones * '\\');
        uint64_t hit = ((x - ones) & ~x) | ((xq - ones) & ~xq) | ((xb - ones) & ~xb) | x;
        if (hit & high)
            break;
        p += 8;
    }
#endif
    while (p < end && !str_stop_byte[*p])
        p++;
    return p;
}

static COLD int bad(se_tape *tp, const char *why, size_t off)
{
    tp->why = why;
    tp->err_off = off;
    return SE_TAPE_BAD;
}

/* Room for at least want tokens. */
static int grow(se_tape *tp, size_t want)
{
    size_t nc = tp->cap ? tp->cap : 256;
    while (nc < want)
        nc *= 2;
    if (nc > UINT32_MAX)
        return SE_TAPE_NOMEM;
    se_tok *nt = realloc(tp->t, nc * sizeof *nt);
    if (!nt)
        return SE_TAPE_NOMEM;
    tp->t = nt;
    tp->cap = (uint32_t)nc;
    return SE_TAPE_OK;
}

static COLD const unsigned char *fail(se_tape *tp, const char *why, const unsigned char *s,
                                      const unsigned char *at)
{
    bad(tp, why, (size_t)(at - s));
    return NULL;
}

/* The rest of the string token tk at p, a stop byte other than its closing
 * quote: scans on to the closing quote and returns just past it, or NULL
 * (tp->why set).  Adds SE_TF_ESC to tk->flags; refuses a key (SE_TF_KEY)
 * holding \u0000 once the whole string is known good, as json-c's reader did. */
static const unsigned char *string_slow(se_tape *tp, const unsigned char *s,
                                        const unsigned char *end, const unsigned char *p,
                                        se_tok *tk)
{
    bool nul = false;
    for (;;) {
        if (p >= end)
            return fail(tp, "malformed JSON", s, p);
        unsigned char c = *p;
        if (c == '"') {
            if (nul && (tk->flags & SE_TF_KEY))
                return fail(tp, "NUL character in an object key", s, s + tk->off - 1);
            return p + 1;
        }
        if (c >= 0x80) {
            size_t n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
            if (n == 0)
                return fail(tp, "invalid utf-8 string", s, p);
            for (size_t k = 1; k <= n; k++)
                if ((size_t)(end - p) <= k || (p[k] & 0xc0) != 0x80)
                    return fail(tp, "invalid utf-8 string", s, p);
            p += n + 1;
        } else if (c == 0) {
            return fail(tp, "malformed JSON", s, p);
        } else { /* a backslash */
            size_t left = (size_t)(end - p);
            tk->flags |= SE_TF_ESC;
            if (left < 2)
                return fail(tp, "malformed JSON", s, p);
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u': {
                int u = left >= 6 ? se_tape_hex4(p + 2) : -1;
                if (u < 0)
                    return fail(tp, "malformed JSON", s, p);
                if (u == 0)
                    nul = true;
                if (u >= 0xd800 && u <= 0xdbff) {
                    /* A high surrogate must be followed by a low one. */
                    int lo = left >= 12 && p[6] == '\\' && p[7] == 'u' ? se_tape_hex4(p + 8) : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return fail(tp, SE_JSON_LONE_SURROGATE, s, p);
                    p += 12;
                } else if (u >= 0xdc00 && u <= 0xdfff) {
                    return fail(tp, SE_JSON_LONE_SURROGATE, s, p);
                } else {
                    p += 6;
                }
                break;
            }
            default:
                return fail(tp, "malformed JSON", s, p);
            }
        }
        p = str_stop(p, s, end);
    }
}

static COLD void note_notjson(se_tape *tp, se_tok *tk, uint32_t idx)
{
    tk->flags |= SE_TF_NOTJSON;
    if (!tp->notjson)
        tp->notjson = idx + 1;
}

/* An integer's checks (tape_num.h) at s[start..start + n); tp->why when
 * refused. */
static int int_checks(se_tape *tp, const unsigned char *s, size_t start, size_t n)
{
    const char *why = se_tape_int_checks(s + start, n);
    return why ? bad(tp, why, start) : SE_TAPE_OK;
}

/* The long way for a number at p (tape_num.h): its end, or NULL (tp->why
 * set). */
static COLD const unsigned char *scan_number(se_tape *tp, const unsigned char *s, size_t len,
                                             const unsigned char *p, bool nested, uint8_t *flags)
{
    const char *why;
    size_t at;
    const unsigned char *e = se_tape_scan_number(s, len, p, nested, flags, &why, &at);
    return e ? e : fail(tp, why, s, s + at);
}

static ALWAYS_INLINE uint16_t load16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* '"' then ':' as load16 reads them (a constant once folded). */
#define QUOTE_COLON load16("\":")

/* What the first byte of a value makes it (strings and containers are told
 * apart before this is asked). */
enum { V_BAD, V_NUM, V_TRUE, V_FALSE, V_NULL, V_NAN, V_INF };
static const unsigned char value_class[256] = {
    ['-'] = V_NUM, ['0'] = V_NUM, V_NUM, V_NUM, V_NUM, V_NUM, V_NUM, V_NUM, V_NUM, V_NUM, V_NUM,
    ['t'] = V_TRUE, ['f'] = V_FALSE, ['n'] = V_NULL, ['N'] = V_NAN, ['I'] = V_INF,
};

/* The string whose opening quote is at p, as token idx (tk) with flags fl
 * (0 or SE_TF_KEY): returns just past its closing quote, or NULL.  With the
 * first stage's stops (tape_index.h), its first stop comes from there: a
 * closing quote, a backslash or the end (the text has no NUL and only good
 * UTF-8). */
static ALWAYS_INLINE const unsigned char *string_tok(se_tape *tp, const unsigned char *s,
                                                    const unsigned char *end,
                                                    const unsigned char *p, se_tok *tk,
                                                    uint32_t idx, uint8_t fl,
                                                    const bool staged, const uint64_t *stop)
{
    const unsigned char *b = p + 1;
    if (staged) {
        /* The stop is a closing quote or a backslash before the end
         * (parse's bounds, below). */
        const size_t off = (size_t)(b - s), q = se_tix_stop(stop, off);
        if (LIKELY(s[q] == '"')) {
            *tk = (se_tok){ (uint32_t)off, (uint32_t)(q - off), idx + 1, SE_TK_STR, fl };
            return s + q + 1;
        }
        p = s + q;
    } else {
        p = str_stop(b, s, end);
    }
    if (LIKELY(!staged && p < end && *p == '"')) {
        *tk = (se_tok){ (uint32_t)(b - s), (uint32_t)(p - b), idx + 1, SE_TK_STR, fl };
        return p + 1;
    }
    tk->off = (uint32_t)(b - s);
    tk->flags = fl;
    if (!(p = string_slow(tp, s, end, p, tk)))
        return NULL;
    *tk = (se_tok){ (uint32_t)(b - s), (uint32_t)(p - 1 - b), idx + 1, SE_TK_STR, tk->flags };
    return p;
}

/* A number or a literal at p (inside a container when nested) as token idx (tk):
 * returns its end, or NULL.  Staged, a byte that is no digit comes before
 * the end (parse's bounds, below). */
static ALWAYS_INLINE const unsigned char *scalar_tok(se_tape *tp, const unsigned char *s,
                                                    const unsigned char *end,
                                                    const unsigned char *p, se_tok *tk,
                                                    uint32_t idx, bool nested, const bool staged)
{
    unsigned char c = *p;
#define LITERAL(word, kind, flags) \
    do { \
        if ((size_t)(end - p) < sizeof word - 1) \
            return fail(tp, "malformed JSON", s, p); \
        for (size_t k_ = 1; k_ < sizeof word - 1; k_++) \
            if (p[k_] != (unsigned char)word[k_]) \
                return fail(tp, "malformed JSON", s, p); \
        *tk = (se_tok){ (uint32_t)(p - s), sizeof word - 1, idx + 1, kind, flags }; \
        return p + sizeof word - 1; \
    } while (0)
    switch (value_class[c]) {
    case V_NUM: {
        /* Plain integers and decimals here; the rest the long way. */
        const unsigned char *d = p + (c == '-'), *q = d, *e;
        uint8_t fl = 0;
        bool slow = false;
        q = skip_digits(q, end, staged);
        if (LIKELY(q > d && ((!staged && q == end) || num_delim[*q]))) {
            if (UNLIKELY((*p == '0' && q - p > 1) || q - p >= 19) &&
                int_checks(tp, s, (size_t)(p - s), (size_t)(q - p)) != SE_TAPE_OK)
                return NULL;
            e = q;
        } else {
            const unsigned char *f = q + 1;
            if (q > d && (staged || q < end) && *q == '.')
                f = skip_digits(f, end, staged);
            if (f > q + 1 && ((!staged && f == end) || num_delim[*f])) {
                fl = SE_TF_DBL;
                e = f;
            } else {
                if (!(e = scan_number(tp, s, (size_t)(end - s), p, nested, &tk->flags)))
                    return NULL;
                fl = tk->flags;
                slow = true;
            }
        }
        *tk = (se_tok){ (uint32_t)(p - s), (uint32_t)(e - p), idx + 1, SE_TK_NUM, fl };
        /* A leading zero (-01, 00.5) or the long way's forms: is it JSON? */
        if (UNLIKELY((*d == '0' && q - d > 1) || slow) && !se_tape_rfc_number(p, (size_t)(e - p)))
            note_notjson(tp, tk, idx);
        return e;
    }
    case V_TRUE:
        LITERAL("true", SE_TK_TRUE, 0);
    case V_FALSE:
        LITERAL("false", SE_TK_FALSE, 0);
    case V_NULL:
        LITERAL("null", SE_TK_NULL, 0);
    case V_NAN:
        tp->notjson = tp->notjson ? tp->notjson : idx + 1;
        LITERAL("NaN", SE_TK_NUM, SE_TF_DBL | SE_TF_NAN | SE_TF_NOTJSON);
    case V_INF:
        tp->notjson = tp->notjson ? tp->notjson : idx + 1;
        LITERAL("Infinity", SE_TK_NUM, SE_TF_DBL | SE_TF_INF | SE_TF_NOTJSON);
    default:
        if (c >= 0x80 && (c & 0xe0) != 0xc0 && (c & 0xf0) != 0xe0 && (c & 0xf8) != 0xf0)
            return fail(tp, "invalid utf-8 string", s, p);
        return fail(tp, "malformed JSON", s, p);
    }
#undef LITERAL
}

/* parse_staged's answer for a text it leaves to the byte parser. */
enum { PARSE_AGAIN = 1 };

/* The parser proper, made three times: `checked` false when the tape already
 * has room for TOKENS_MAX(len) tokens (a push is then a store), true for a
 * line long enough to grow the tape as it goes; `staged` with the first
 * stage's stops.  Values inside objects and inside arrays (and the top-level
 * one, at depth 0) are read at two places, so each place's branches learn
 * their own context's habits, and what follows a value needs no test of the
 * container's kind.
 *
 * Staged, the text ends in '}' or ']' (then whitespace), at lim - 1, and
 * not inside a string (the first stage refuses that), so no read needs a
 * test of the end: a string the grammar opens is one the first stage saw,
 * closed before lim - 1; digits, whitespace and the rest stop at the closer
 * at the latest; literals test their length as before; only closing a
 * container can move p to lim, which close tests.  Anything refused, and
 * nesting at the limit, is left to the byte parser (PARSE_AGAIN): its
 * reasons and offsets are the ones reported. */
static ALWAYS_INLINE int parse(se_tape *tp, const unsigned char *s, size_t len, const bool checked,
                               const bool staged, const uint64_t *stop, const unsigned char *lim)
{
    const unsigned char *end = s + len, *p = s;
    /* The open containers, outermost first, after an unused one for depth
     * 0: f is the innermost (depth f - frame).  Their state lives here, not
     * in registers, which hold p, n and the tape. */
    struct frame {
        uint32_t tok; /* the container's token */
        uint32_t cnt; /* its members so far */
        uint32_t obj; /* whether it is an object */
    } frame[SE_TAPE_MAX_DEPTH + 1], *f = frame;
    uint32_t n = 0;
    se_tok *t = tp->t, *tk = t; /* tk: &t[n], kept beside n */
    unsigned char c;

#define FAIL(why, at) \
    do { \
        if (staged) \
            goto failed; \
        tp->n = n; \
        return bad(tp, why, (size_t)((at) - s)); \
    } while (0)
#define PUSH() \
    do { \
        if (checked && UNLIKELY(n >= tp->cap)) { \
            int r_; \
            tp->n = n; \
            if ((r_ = grow(tp, (size_t)n + 1)) != SE_TAPE_OK) \
                return r_; \
            t = tp->t; \
            tk = t + n; \
        } \
    } while (0)
/* A value at p, perhaps after whitespace, of depth f - frame; then on to
 * label `next`, or `again` after whitespace. */
#define VALUE(again, next) \
    do { \
        if (!staged && UNLIKELY(f >= frame + SE_TAPE_MAX_DEPTH)) \
            FAIL("nesting too deep", skip_ws(p, end)); \
        if (!staged && UNLIKELY(p >= end)) \
            FAIL("malformed JSON", p); \
        PUSH(); \
        c = *p; \
        if (c == '"') { \
            if (!(p = string_tok(tp, s, end, p, tk, n, 0, staged, stop))) \
                goto failed; \
            n++, tk++; \
            goto next; \
        } \
        if (c == '{') \
            goto open_obj; \
        if (c == '[') \
            goto open_arr; \
        if (UNLIKELY(is_ws(c))) { \
            p = skip_ws(p, end); \
            goto again; \
        } \
        if (!(p = scalar_tok(tp, s, end, p, tk, n, f != frame, staged))) \
            goto failed; \
        n++, tk++; \
        goto next; \
    } while (0)

arr_value:
    /* An array's element, or the top-level value (depth 0). */
    VALUE(arr_value, arr_after);

arr_after:
    /* An element (or the top-level value) just ended at p. */
    if (UNLIKELY(f == frame))
        goto top;
    f->cnt++;
arr_after_ws:
    if (!staged && UNLIKELY(p >= end))
        FAIL("malformed JSON", p);
    c = *p;
    if (LIKELY(c == ','))
        goto arr_value_next;
    if (c == ']')
        goto close;
    if (is_ws(c)) {
        p = skip_ws(p + 1, end);
        goto arr_after_ws;
    }
    FAIL("malformed JSON", p);
arr_value_next:
    p++;
    goto arr_value;

obj_value:
    /* A member's value (after the key's ':'). */
    VALUE(obj_value, obj_after);

obj_after:
    /* A member just ended at p. */
    f->cnt++;
obj_after_ws:
    if (!staged && UNLIKELY(p >= end))
        FAIL("malformed JSON", p);
    c = *p;
    if (LIKELY(c == ',')) {
        p++;
        goto key;
    }
    if (c == '}')
        goto close;
    if (is_ws(c)) {
        p = skip_ws(p + 1, end);
        goto obj_after_ws;
    }
    FAIL("malformed JSON", p);

key:
    /* An object member's key at p, perhaps after whitespace. */
    if (UNLIKELY((!staged && p >= end) || *p != '"')) {
        if ((staged || p < end) && is_ws(*p)) {
            p = skip_ws(p, end);
            goto key;
        }
        FAIL("malformed JSON", p);
    }
    PUSH();
    if (staged) {
        /* Mostly a plain key and its ':': the closing quote and the colon
         * in one two-byte compare (the quote comes before the text's last
         * byte); else the way below. */
        const size_t off = (size_t)(p + 1 - s), q = se_tix_stop(stop, off);
        if (LIKELY(load16(s + q) == QUOTE_COLON)) {
            *tk = (se_tok){ (uint32_t)off, (uint32_t)(q - off), n + 1, SE_TK_STR, SE_TF_KEY };
            n++, tk++;
            p = s + q + 2;
            goto obj_value;
        }
    }
    if (!(p = string_tok(tp, s, end, p, tk, n, SE_TF_KEY, staged, stop)))
        goto failed;
    n++, tk++;
    if (LIKELY((staged || p < end) && *p == ':')) {
        p++;
    } else {
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            FAIL("malformed JSON", p);
        p++;
    }
    goto obj_value;

/* The container at p (its token pushed) opened as kind (obj: whether an
 * object).  Staged, the depth is checked here, once per container, not at
 * every value: one this deep is left to the byte parser; and whitespace is
 * left to the key or value that follows, which skip it (an empty container
 * with whitespace inside, "{ }", is then refused and left to the byte
 * parser too). */
#define OPEN(kind, obj) \
    do { \
        *tk++ = (se_tok){ (uint32_t)(p - s), 0, 0, kind, 0 }; \
        *++f = (struct frame){ n++, 0, obj }; \
        p++; \
        if (staged && UNLIKELY(f >= frame + SE_TAPE_MAX_DEPTH)) \
            goto failed; \
        if (!staged && UNLIKELY(p < end && *p <= ' ')) \
            p = skip_ws(p, end); \
    } while (0)

open_obj:
    OPEN(SE_TK_OBJ, 1);
    if ((staged || p < end) && *p == '}')
        goto close;
    goto key;

open_arr:
    OPEN(SE_TK_ARR, 0);
    if ((staged || p < end) && *p == ']')
        goto close;
    goto arr_value;
#undef OPEN

close:
    /* *p closes the innermost container. */
    {
        se_tok *cur = &t[f->tok];
        cur->end = n;
        cur->len = f->cnt;
        f--;
    }
    p++;
    if (f == frame)
        goto top;
    /* Staged, only a closer can reach the last one (parse's bounds). */
    if (staged && UNLIKELY(p >= lim))
        goto failed;
    if (f->obj)
        goto obj_after;
    goto arr_after;

top:
    /* The top-level value ended: only whitespace may follow. */
    p = skip_ws(p, end);
    if (p < end)
        FAIL("malformed JSON", p);
    tp->n = n;
    return SE_TAPE_OK;

failed:
    /* A helper refused the text (tp->why set); staged, anything refused is
     * parsed again by the byte parser, which names the reason and place. */
    if (staged)
        return PARSE_AGAIN;
    tp->n = n;
    return SE_TAPE_BAD;
#undef FAIL
#undef PUSH
#undef VALUE
}

static int parse_reserved(se_tape *tp, const unsigned char *s, size_t len)
{
    return parse(tp, s, len, false, false, NULL, NULL);
}

static int parse_checked(se_tape *tp, const unsigned char *s, size_t len)
{
    return parse(tp, s, len, true, false, NULL, NULL);
}

/* With the first stage's stops (tape_index.h), kept on this function's
 * stack (no register holds their address); lim is just past the text's
 * last byte that is not whitespace, a '}' or ']' outside strings.
 * PARSE_AGAIN when either stage refuses the text. */
#define PARSE_STAGED_BODY \
    { \
        uint64_t stop[SE_TIX_WORDS]; \
        if (!stage(s, len, stop)) \
            return PARSE_AGAIN; \
        return parse(tp, s, len, false, true, stop, lim); \
    }
static NOINLINE int parse_staged(se_tape *tp, const unsigned char *s, size_t len, se_tix_fn stage,
                                 const unsigned char *lim)
PARSE_STAGED_BODY

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* The same for CPUs with BMI2 (every one with AVX2 so far): shifts by a
 * register without moving the count to %cl, tzcnt without its xor: some
 * 2 % fewer instructions. */
__attribute__((target("bmi,bmi2"))) static NOINLINE int
parse_staged_bmi2(se_tape *tp, const unsigned char *s, size_t len, se_tix_fn stage,
                  const unsigned char *lim)
PARSE_STAGED_BODY
#define HAVE_BMI2_PARSE 1
#endif
#undef PARSE_STAGED_BODY

/* The most tokens a text of len bytes can put on the tape, even when it is
 * refused part way: every token but the first has an introducer of its own
 * ('[', '{', ',' or ':'), and every scalar its first byte, every closed
 * container its closer besides; only the open containers (fewer than
 * SE_TAPE_MAX_DEPTH) lack that second byte.  So 2n - 1 - open <= len. */
#define TOKENS_MAX(len) SE_TAPE_TOKENS_MAX(len)
#define RESERVE_MAX SE_TAPE_RESERVE_MAX

/* The first stage for every later parse: set once (AUTO: the best path, at
 * the first parse), read by every thread.  REF: none. */
static bool stage_none(const unsigned char *s, size_t len, uint64_t *stop)
{
    (void)s, (void)len, (void)stop;
    return false;
}
static se_tix_fn chosen_stage;
static int chosen_bmi2; /* parse_staged_bmi2 after the AVX2 stage (never set without BMI2) */

/* Whether the AVX2 first stage's parse may use BMI2. */
static int bmi2_for(se_tape_path p)
{
#ifdef HAVE_BMI2_PARSE
    __builtin_cpu_init();
    return p == SE_TAPE_PATH_AVX2 && __builtin_cpu_supports("bmi2");
#else
    (void)p;
    return 0;
#endif
}

int se_tape_set_path(se_tape_path p)
{
    se_tix_fn f;
    if (p == SE_TAPE_PATH_REF)
        f = stage_none;
    else if (p == SE_TAPE_PATH_AUTO)
        f = NULL;
    else if (!(f = se_tix_for(p)))
        return -1;
    __atomic_store_n(&chosen_bmi2, bmi2_for(p), __ATOMIC_RELAXED);
    __atomic_store_n(&chosen_stage, f, __ATOMIC_RELAXED);
    return 0;
}

/* AUTO is AVX2 when the CPU has it, else REF: on records of short ASCII
 * strings the SSE2 and byte-loop first stages cost more than they save
 * (docs/record-path.md, "Parser speed"). */
static se_tix_fn stage_for_parse(void)
{
    se_tix_fn f = __atomic_load_n(&chosen_stage, __ATOMIC_RELAXED);
    if (LIKELY(f != NULL))
        return f;
    if (!(f = se_tix_for(SE_TAPE_PATH_AVX2)))
        f = stage_none;
    else
        __atomic_store_n(&chosen_bmi2, bmi2_for(SE_TAPE_PATH_AVX2), __ATOMIC_RELAXED);
    __atomic_store_n(&chosen_stage, f, __ATOMIC_RELAXED);
    return f;
}

int se_tape_parse(se_tape *tp, const char *text, size_t len)
{
    size_t need = TOKENS_MAX(len);
    tp->s = text;
    tp->len = len;
    tp->n = 0;
    tp->why = NULL;
    tp->err_off = 0;
    tp->notjson = 0;
    if (len >= UINT32_MAX)
        return bad(tp, "record too long", 0);
    if (need > tp->cap && need <= RESERVE_MAX) {
        int r = grow(tp, need);
        if (r != SE_TAPE_OK)
            return r;
    }
    if (tp->cap < need)
        return parse_checked(tp, (const unsigned char *)text, len);
    size_t last = len;
    while (last > 0 && UNLIKELY(is_ws((unsigned char)text[last - 1])))
        last--;
    if (len <= SE_TIX_MAX && last > 0 && (text[last - 1] == '}' || text[last - 1] == ']')) {
        /* The first stage's refusals, and the second's, are the byte
         * parser's to name. */
        const unsigned char *u = (const unsigned char *)text;
        const se_tix_fn stage = stage_for_parse();
        int r = PARSE_AGAIN;
#ifdef HAVE_BMI2_PARSE
        if (__atomic_load_n(&chosen_bmi2, __ATOMIC_RELAXED))
            r = parse_staged_bmi2(tp, u, len, stage, u + last);
        else
#endif
        if (stage != stage_none)
            r = parse_staged(tp, u, len, stage, u + last);
        if (r != PARSE_AGAIN)
            return SE_TAPE_OK;
        tp->n = 0;
        tp->notjson = 0;
        tp->why = NULL;
        tp->err_off = 0;
    }
    return parse_reserved(tp, (const unsigned char *)text, len);
}
