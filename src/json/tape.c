/* The strict tape parser (see tape.h): one pass, no allocation but the token
 * array, which is kept from line to line. */
#include "tape.h"

#include "jsonscan.h"

#include <stdlib.h>
#include <string.h>

void se_tape_init(se_tape *tp)
{
    memset(tp, 0, sizeof *tp);
}

void se_tape_free(se_tape *tp)
{
    free(tp->t);
    memset(tp, 0, sizeof *tp);
}

/* Byte classes inside a string: 0 an ordinary byte; 1 '"'; 2 '\\'; 3 NUL;
 * 4 a byte >= 0x80 (UTF-8, checked for its structure as json-c does). */
static const unsigned char str_class[256] = {
    [0] = 3, ['"'] = 1, ['\\'] = 2,
    [0x80] = 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at s[i..i+4) (i + 4 <= len checked by the caller), or -1. */
static int hex4(const unsigned char *s)
{
    int a = hexval(s[0]), b = hexval(s[1]), c = hexval(s[2]), d = hexval(s[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return a << 12 | b << 8 | c << 4 | d;
}

typedef struct pstate {
    se_tape *tp;
    const unsigned char *s;
    size_t len;
} pstate;

static int bad(se_tape *tp, const char *why, size_t off)
{
    tp->why = why;
    tp->err_off = off;
    return SE_TAPE_BAD;
}

static int grow(se_tape *tp)
{
    uint32_t nc = tp->cap ? tp->cap * 2 : 256;
    if (nc < tp->cap)
        return SE_TAPE_NOMEM;
    se_tok *nt = realloc(tp->t, (size_t)nc * sizeof *nt);
    if (!nt)
        return SE_TAPE_NOMEM;
    tp->t = nt;
    tp->cap = nc;
    return SE_TAPE_OK;
}

/* A string whose opening quote is at s[*ip - 1]: scans to the closing quote
 * (*ip then just past it).  Fills *flags (SE_TF_ESC) and *nul (a \u0000). */
static int scan_string(pstate *ps, size_t *ip, uint8_t *flags, bool *nul)
{
    const unsigned char *s = ps->s;
    size_t len = ps->len, i = *ip;
    for (;;) {
        while (i < len && str_class[s[i]] == 0)
            i++;
        if (i >= len)
            return bad(ps->tp, "malformed JSON", i);
        switch (str_class[s[i]]) {
        case 1:
            *ip = i + 1;
            return SE_TAPE_OK;
        case 3:
            return bad(ps->tp, "malformed JSON", i);
        case 4: {
            unsigned char c = s[i];
            size_t n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
            if (n == 0)
                return bad(ps->tp, "invalid utf-8 string", i);
            for (size_t k = 1; k <= n; k++)
                if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                    return bad(ps->tp, "invalid utf-8 string", i);
            i += n + 1;
            break;
        }
        default: /* a backslash */
            *flags |= SE_TF_ESC;
            if (i + 1 >= len)
                return bad(ps->tp, "malformed JSON", i);
            switch (s[i + 1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                i += 2;
                break;
            case 'u': {
                int u = i + 6 <= len ? hex4(s + i + 2) : -1;
                if (u < 0)
                    return bad(ps->tp, "malformed JSON", i);
                if (u == 0)
                    *nul = true;
                if (u >= 0xd800 && u <= 0xdbff) {
                    /* A high surrogate must be followed by a low one. */
                    int lo = i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return bad(ps->tp, SE_JSON_LONE_SURROGATE, i);
                    i += 12;
                } else if (u >= 0xdc00 && u <= 0xdfff) {
                    return bad(ps->tp, SE_JSON_LONE_SURROGATE, i);
                } else {
                    i += 6;
                }
                break;
            }
            default:
                return bad(ps->tp, "malformed JSON", i);
            }
            break;
        }
    }
}

/* Is the integer text s[0..n) (optional '-', digits) outside
 * [INT64_MIN, UINT64_MAX]?  Leading zeros count, as in jsonscan.c. */
static bool int_out_of_range(const unsigned char *s, size_t n)
{
    static const char umax[] = "18446744073709551615";
    static const char imin[] = "9223372036854775808";
    bool neg = n > 0 && s[0] == '-';
    const unsigned char *d = neg ? s + 1 : s;
    size_t nd = neg ? n - 1 : n;
    const char *lim = neg ? imin : umax;
    size_t nl = neg ? sizeof imin - 1 : sizeof umax - 1;
    if (nd != nl)
        return nd > nl;
    return memcmp(d, lim, nl) > 0;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Whether s[0..n) is what strtod reads whole: -?(D+(.D*)?|.D+)([eE][+-]?D+)? */
static bool double_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && s[i] == '-')
        i++;
    while (i < n && is_digit(s[i]))
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < n && is_digit(s[i]))
            i++, e++;
        if (e == 0)
            return false;
    }
    return i == n;
}

/* A number at s[*ip], as json-c 0.16 reads one: it takes the longest run of
 * number characters (digits; one 'e'/'E'; '-' first or after '.'/'e'; '+'
 * after '.'/'e'; one '.' before any 'e'), then inside a container demands a
 * delimiter, then converts: an integer with strtoll/strtoull (a non-negative
 * one with a leading zero must be 0), a double with strtod, whole. */
static int scan_number(pstate *ps, size_t *ip, int depth, uint8_t *flags)
{
    const unsigned char *s = ps->s;
    size_t len = ps->len, start = *ip, i = start;
    bool neg_ok = true, pos_ok = false, dbl = false, exp = false;
    while (i < len) {
        unsigned char c = s[i];
        if (is_digit(c)) {
            neg_ok = pos_ok = false;
        } else if ((c == 'e' || c == 'E') && !exp) {
            exp = dbl = true;
            neg_ok = pos_ok = true;
        } else if ((c == '-' && neg_ok) || (c == '+' && pos_ok)) {
            neg_ok = pos_ok = false;
        } else if (c == '.' && !dbl) {
            dbl = true;
            neg_ok = pos_ok = true;
        } else {
            break;
        }
        i++;
    }
    size_t n = i - start;
    if (i < len && depth > 0) {
        unsigned char c = s[i];
        if (c != ',' && c != ']' && c != '}' && c != '/' && c != 'I' && c != 'i' && !is_ws(c))
            return bad(ps->tp, "malformed JSON", i);
    }
    if (n == 1 && s[start] == '-' && i < len && (s[i] == 'I' || s[i] == 'i')) {
        if (len - i < 8 || memcmp(s + i, "Infinity", 8) != 0)
            return bad(ps->tp, "malformed JSON", i);
        *flags = SE_TF_DBL | SE_TF_INF;
        *ip = i + 8;
        return SE_TAPE_OK;
    }
    if (dbl) {
        if (!double_ok(s + start, n))
            return bad(ps->tp, "malformed JSON", start);
        *flags = SE_TF_DBL;
    } else {
        if (s[start] == '-') {
            if (n == 1)
                return bad(ps->tp, "malformed JSON", start);
        } else if (s[start] == '0') {
            for (size_t k = start + 1; k < i; k++)
                if (s[k] != '0')
                    return bad(ps->tp, "malformed JSON", start);
        }
        if (n >= 19 && int_out_of_range(s + start, n))
            return bad(ps->tp, "integer out of range", start);
        *flags = 0;
    }
    *ip = i;
    return SE_TAPE_OK;
}

static size_t skip_ws(const unsigned char *s, size_t len, size_t i)
{
    while (i < len && is_ws(s[i]))
        i++;
    return i;
}

int se_tape_parse(se_tape *tp, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    pstate ps = { tp, s, len };
    uint32_t stack[SE_TAPE_MAX_DEPTH];
    uint32_t count[SE_TAPE_MAX_DEPTH];
    int depth = 0, r;
    size_t i;

    tp->s = text;
    tp->len = len;
    tp->n = 0;
    tp->why = NULL;
    tp->err_off = 0;
    if (len >= UINT32_MAX)
        return bad(tp, "record too long", 0);
    i = skip_ws(s, len, 0);

value:
    /* A value at depth `depth` (the top-level one at 0). */
    if (depth >= SE_TAPE_MAX_DEPTH)
        return bad(tp, "nesting too deep", i);
    if (i >= len)
        return bad(tp, "malformed JSON", i);
    if (tp->n == tp->cap && (r = grow(tp)) != SE_TAPE_OK)
        return r;
    {
        se_tok *t = &tp->t[tp->n];
        uint32_t idx = tp->n++;
        unsigned char c = s[i];
        t->off = (uint32_t)i;
        t->flags = 0;
        switch (c) {
        case '{':
        case '[':
            t->kind = c == '{' ? SE_TK_OBJ : SE_TK_ARR;
            stack[depth] = idx;
            count[depth] = 0;
            depth++;
            i = skip_ws(s, len, i + 1);
            if (i < len && s[i] == (c == '{' ? '}' : ']'))
                goto close;
            if (c == '[')
                goto value;
            goto key;
        case '"': {
            bool nul = false;
            i++;
            if ((r = scan_string(&ps, &i, &t->flags, &nul)) != SE_TAPE_OK)
                return r;
            t->kind = SE_TK_STR;
            t->off = (uint32_t)(tp->t[idx].off + 1);
            t->len = (uint32_t)(i - 1 - t->off);
            t->end = idx + 1;
            break;
        }
        case 't': case 'f': case 'n': case 'N': case 'I': {
            static const struct { const char *w; uint8_t kind, flags; } lit[] = {
                { "true", SE_TK_TRUE, 0 }, { "false", SE_TK_FALSE, 0 }, { "null", SE_TK_NULL, 0 },
                { "NaN", SE_TK_NUM, SE_TF_DBL | SE_TF_NAN }, { "Infinity", SE_TK_NUM, SE_TF_DBL | SE_TF_INF },
            };
            int k = c == 't' ? 0 : c == 'f' ? 1 : c == 'n' ? 2 : c == 'N' ? 3 : 4;
            size_t wl = strlen(lit[k].w);
            if (len - i < wl || memcmp(s + i, lit[k].w, wl) != 0)
                return bad(tp, "malformed JSON", i);
            t->kind = lit[k].kind;
            t->flags = lit[k].flags;
            t->len = (uint32_t)wl;
            t->end = idx + 1;
            i += wl;
            break;
        }
        default:
            if (c == '-' || is_digit(c)) {
                size_t st = i;
                uint8_t fl;
                if ((r = scan_number(&ps, &i, depth, &fl)) != SE_TAPE_OK)
                    return r;
                t->kind = SE_TK_NUM;
                t->flags = fl;
                t->len = (uint32_t)(i - st);
                t->end = idx + 1;
                break;
            }
            if (c >= 0x80 && (c & 0xe0) != 0xc0 && (c & 0xf0) != 0xe0 && (c & 0xf8) != 0xf0)
                return bad(tp, "invalid utf-8 string", i);
            return bad(tp, "malformed JSON", i);
        }
    }

after:
    /* A value just ended. */
    if (depth == 0) {
        i = skip_ws(s, len, i);
        if (i < len)
            return bad(tp, "malformed JSON", i);
        return SE_TAPE_OK;
    }
    count[depth - 1]++;
    i = skip_ws(s, len, i);
    if (i >= len)
        return bad(tp, "malformed JSON", i);
    if (tp->t[stack[depth - 1]].kind == SE_TK_OBJ) {
        if (s[i] == '}')
            goto close;
        if (s[i] != ',')
            return bad(tp, "malformed JSON", i);
        i = skip_ws(s, len, i + 1);
        goto key;
    }
    if (s[i] == ']')
        goto close;
    if (s[i] != ',')
        return bad(tp, "malformed JSON", i);
    i = skip_ws(s, len, i + 1);
    goto value;

key:
    /* An object member's key at s[i] (whitespace skipped). */
    if (i >= len || s[i] != '"')
        return bad(tp, "malformed JSON", i);
    if (tp->n == tp->cap && (r = grow(tp)) != SE_TAPE_OK)
        return r;
    {
        se_tok *t = &tp->t[tp->n];
        uint32_t idx = tp->n++;
        bool nul = false;
        size_t q = i;
        t->flags = SE_TF_KEY;
        i++;
        if ((r = scan_string(&ps, &i, &t->flags, &nul)) != SE_TAPE_OK)
            return r;
        if (nul)
            return bad(tp, "NUL character in an object key", q);
        t->kind = SE_TK_STR;
        t->off = (uint32_t)(q + 1);
        t->len = (uint32_t)(i - 1 - t->off);
        t->end = idx + 1;
    }
    i = skip_ws(s, len, i);
    if (i >= len || s[i] != ':')
        return bad(tp, "malformed JSON", i);
    i = skip_ws(s, len, i + 1);
    goto value;

close:
    /* s[i] closes the innermost container. */
    depth--;
    tp->t[stack[depth]].end = tp->n;
    tp->t[stack[depth]].len = count[depth];
    i++;
    goto after;
}

/* ---- reading ------------------------------------------------------------ */

/* Decodes one escape at raw[*ip] (a backslash) into out; returns the bytes
 * written (1-4) and moves *ip past it.  The tape checked it. */
static size_t unescape_one(const unsigned char *raw, size_t *ip, unsigned char *out)
{
    size_t i = *ip;
    unsigned char c = raw[i + 1];
    switch (c) {
    case 'b': *out = '\b'; break;
    case 'f': *out = '\f'; break;
    case 'n': *out = '\n'; break;
    case 'r': *out = '\r'; break;
    case 't': *out = '\t'; break;
    case 'u': {
        unsigned u = (unsigned)hex4(raw + i + 2);
        if (u >= 0xd800 && u <= 0xdbff) {
            unsigned lo = (unsigned)hex4(raw + i + 8);
            u = ((u & 0x3ff) << 10) + (lo & 0x3ff) + 0x10000;
            *ip = i + 12;
            out[0] = (unsigned char)(0xf0 | (u >> 18));
            out[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
            out[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
            out[3] = (unsigned char)(0x80 | (u & 0x3f));
            return 4;
        }
        *ip = i + 6;
        if (u < 0x80) {
            out[0] = (unsigned char)u;
            return 1;
        }
        if (u < 0x800) {
            out[0] = (unsigned char)(0xc0 | (u >> 6));
            out[1] = (unsigned char)(0x80 | (u & 0x3f));
            return 2;
        }
        out[0] = (unsigned char)(0xe0 | (u >> 12));
        out[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (u & 0x3f));
        return 3;
    }
    default: *out = c; break; /* " \ / */
    }
    *ip = i + 2;
    return 1;
}

size_t se_tape_unescape(const se_tape *tp, uint32_t i, char *out)
{
    const se_tok *t = &tp->t[i];
    const unsigned char *raw = (const unsigned char *)tp->s + t->off;
    size_t n = t->len, o = 0, k = 0;
    if (!(t->flags & SE_TF_ESC)) {
        memcpy(out, raw, n);
        return n;
    }
    while (k < n) {
        const unsigned char *b = memchr(raw + k, '\\', n - k);
        size_t run = b ? (size_t)(b - (raw + k)) : n - k;
        memcpy(out + o, raw + k, run);
        o += run;
        k += run;
        if (k < n)
            o += unescape_one(raw, &k, (unsigned char *)out + o);
    }
    return o;
}

int se_tape_str_cmp(const se_tape *tp, uint32_t i, const char *key, size_t kn)
{
    const se_tok *t = &tp->t[i];
    const unsigned char *raw = (const unsigned char *)tp->s + t->off;
    const unsigned char *k = (const unsigned char *)key;
    size_t n = t->len;
    if (!(t->flags & SE_TF_ESC)) {
        int c = memcmp(raw, k, n < kn ? n : kn);
        if (c != 0)
            return c;
        return n < kn ? -1 : n > kn;
    }
    size_t r = 0, j = 0;
    while (r < n) {
        unsigned char buf[4];
        size_t bn;
        if (raw[r] == '\\') {
            bn = unescape_one(raw, &r, buf);
        } else {
            buf[0] = raw[r++];
            bn = 1;
        }
        for (size_t b = 0; b < bn; b++, j++) {
            if (j >= kn)
                return 1;
            if (buf[b] != k[j])
                return buf[b] < k[j] ? -1 : 1;
        }
    }
    return j < kn ? -1 : 0;
}

bool se_tape_str_eq(const se_tape *tp, uint32_t i, const char *k, size_t kn)
{
    const se_tok *t = &tp->t[i];
    if (!(t->flags & SE_TF_ESC))
        return t->len == kn && memcmp(tp->s + t->off, k, kn) == 0;
    if (kn > t->len)
        return false;
    return se_tape_str_cmp(tp, i, k, kn) == 0;
}

/* Whether key tokens a and b name the same member. */
static bool keys_same(const se_tape *tp, uint32_t a, uint32_t b)
{
    const se_tok *ta = &tp->t[a], *tb = &tp->t[b];
    if (!((ta->flags | tb->flags) & SE_TF_ESC))
        return ta->len == tb->len && memcmp(tp->s + ta->off, tp->s + tb->off, ta->len) == 0;
    if (!(tb->flags & SE_TF_ESC))
        return se_tape_str_eq(tp, a, tp->s + tb->off, tb->len);
    if (!(ta->flags & SE_TF_ESC))
        return se_tape_str_eq(tp, b, tp->s + ta->off, ta->len);
    char *x = malloc(ta->len + 1), *y = malloc(tb->len + 1);
    bool same = false;
    if (x && y) {
        size_t xn = se_tape_unescape(tp, a, x), yn = se_tape_unescape(tp, b, y);
        same = xn == yn && memcmp(x, y, xn) == 0;
    }
    free(x);
    free(y);
    return same;
}

uint32_t se_tape_get(const se_tape *tp, uint32_t o, const char *key, size_t keylen)
{
    uint32_t found = 0;
    if (tp->t[o].kind != SE_TK_OBJ)
        return 0;
    SE_TAPE_EACH_MEMBER(tp, o, k)
        if (se_tape_str_eq(tp, k, key, keylen))
            found = k + 1;
    return found;
}

bool se_tape_first_key(const se_tape *tp, uint32_t o, uint32_t k)
{
    SE_TAPE_EACH_MEMBER(tp, o, p) {
        if (p == k)
            return true;
        if (keys_same(tp, p, k))
            return false;
    }
    return true;
}

/* The last member with key k's name in object o: its value's index. */
uint32_t se_tape_last_value(const se_tape *tp, uint32_t o, uint32_t k)
{
    uint32_t v = k + 1;
    for (uint32_t p = tp->t[k + 1].end; p < tp->t[o].end; p = tp->t[p + 1].end)
        if (keys_same(tp, p, k))
            v = p + 1;
    return v;
}

int64_t se_tape_int(const se_tape *tp, uint32_t i, bool *big, uint64_t *u)
{
    const se_tok *t = &tp->t[i];
    const char *s = tp->s + t->off;
    size_t n = t->len, k = 0;
    bool neg = s[0] == '-';
    uint64_t v = 0;
    if (neg)
        k = 1;
    for (; k < n; k++)
        v = v * 10 + (uint64_t)(s[k] - '0'); /* in range: the tape checked it */
    *big = false;
    *u = v;
    if (neg)
        return v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    if (v > (uint64_t)INT64_MAX) {
        *big = true;
        return INT64_MAX;
    }
    return (int64_t)v;
}
