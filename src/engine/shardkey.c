/* --shard's quick key: see shardkey.h.
 *
 * Everything here may assume the record is valid JSON: for a record the full
 * parser refuses, any answer will do as long as it depends on the bytes
 * alone (the shard it names reports the record).  So strings are not
 * checked for control characters, numbers and literals are not read, and
 * an unescaped quote followed by identityMap" is known to be that string. */
#include <string.h>
/* SSE2 (every x86-64) with AVX2 for pass 1 when the CPU has it; plain C
 * elsewhere or with -DSE_NO_SIMD (the tests build that too). */
#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__)) && !defined(SE_NO_SIMD)
#include <immintrin.h>
#define SK_X86 1
#endif
#include "record.h"
#include "shardkey.h"

enum { MAX_CANDS = 16, MAX_NS = 32 };

/* Where a string "identityMap" (spelling 0) or "xdm:identityMap" (1)
 * starts: its opening quote. */
typedef struct cand { size_t at; int spelling; } cand;

typedef struct scan {
    const char *s;
    size_t n;
    cand c[MAX_CANDS];
    int nc;
    bool decline;
} scan;

/* ---- pass 1: the names and the escapes ---------------------------------- */

static bool escaped_at(const char *s, size_t q)
{
    size_t k = 0;
    while (k < q && s[q - 1 - k] == '\\')
        k++;
    return k & 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A backslash at i: a \u escape spelling a character of "xdm:identityMap"
 * or "primary" could hide one of the names the rule reads (at the top
 * level, or an item's id or primary): decline.  Any other escape leaves a
 * name that is none of them, so names with escapes are passed over as
 * others (a namespace is declined where it is read: it is part of the key).
 * "\\u0069" is taken for an escape too: only ever declining more. */
static void on_backslash(scan *sc, size_t i)
{
    const char *s = sc->s;
    if (i + 5 >= sc->n || s[i + 1] != 'u')
        return;
    int a = hexval(s[i + 2]), b = hexval(s[i + 3]), c = hexval(s[i + 4]), d = hexval(s[i + 5]);
    if (a != 0 || b != 0 || c < 0 || d < 0)
        return; /* not ASCII (or not JSON) */
    int ch = c * 16 + d;
    if (ch && strchr("xdm:identityMaprimary", ch))
        sc->decline = true;
}

/* An 'M' at i with a quote at i + 3: the end of "identityMap"? */
static void on_m(scan *sc, size_t i)
{
    const char *s = sc->s;
    if (i < 9 || memcmp(s + i - 8, "identityMap\"", 12) != 0)
        return;
    size_t q = i - 9;
    int sp;
    if (s[q] == '"' && !escaped_at(s, q))
        sp = 0;
    else if (q >= 4 && !memcmp(s + q - 4, "\"xdm:", 5) && !escaped_at(s, q - 4))
        q -= 4, sp = 1;
    else
        return; /* a longer string */
    if (sc->nc == MAX_CANDS) {
        sc->decline = true;
        return;
    }
    sc->c[sc->nc].at = q;
    sc->c[sc->nc++].spelling = sp;
}

static void on_bits(scan *sc, size_t base, uint64_t m)
{
    for (; m; m &= m - 1) {
        size_t i = base + (size_t)__builtin_ctzll(m);
        if (sc->s[i] == '\\')
            on_backslash(sc, i);
        else
            on_m(sc, i);
    }
}

/* The bits of bytes b[0..64): a backslash, or an M with a quote 3 bytes on
 * (b must be readable to b[66]). */
#ifdef SK_X86
static uint64_t marks_sse2(const char *b)
{
    const __m128i M = _mm_set1_epi8('M'), Q = _mm_set1_epi8('"'), B = _mm_set1_epi8('\\');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
        __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k + 3));
        __m128i x = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(v, M), _mm_cmpeq_epi8(v3, Q)),
                                 _mm_cmpeq_epi8(v, B));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(x) << (16 * k);
    }
    return m;
}

/* After the 64-byte steps, bytes i.. (fewer than 67): a last step ending at
 * the line's end, over bytes already seen too (their bits dropped), or a
 * zeroed copy of a short line (a zero byte marks nothing).  (A mark in the
 * last 3 bytes cannot matter: neither an M with a quote 3 bytes on nor a
 * whole \uXXXX fits there.) */
#define PASS1_TAIL(sc, i, marks)                                            \
    do {                                                                    \
        size_t n_ = (sc)->n;                                                \
        if (n_ >= 67) {                                                     \
            size_t b_ = n_ - 67;                                            \
            if ((i) - b_ < 64)                                              \
                on_bits(sc, b_, marks((sc)->s + b_) & (~0ULL << ((i) - b_))); \
        } else if ((i) < n_) {                                              \
            char buf_[64 + 16] = { 0 };                                     \
            memcpy(buf_, (sc)->s + (i), n_ - (i));                          \
            on_bits(sc, i, marks(buf_));                                    \
            if (n_ - (i) > 64 && !(sc)->decline) {                          \
                memset(buf_, 0, sizeof buf_);                               \
                memcpy(buf_, (sc)->s + (i) + 64, n_ - (i) - 64);            \
                on_bits(sc, (i) + 64, marks(buf_));                         \
            }                                                               \
        }                                                                   \
    } while (0)

static void pass1_sse2(scan *sc)
{
    size_t i = 0;
    for (; i + 67 <= sc->n && !sc->decline; i += 64) {
        uint64_t m = marks_sse2(sc->s + i);
        if (m)
            on_bits(sc, i, m);
    }
    if (!sc->decline)
        PASS1_TAIL(sc, i, marks_sse2);
}

__attribute__((target("avx2"))) static inline uint64_t marks_avx2(const char *p)
{
    const __m256i M = _mm256_set1_epi8('M'), Q = _mm256_set1_epi8('"'), B = _mm256_set1_epi8('\\');
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    __m256i a3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 3));
    __m256i b3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 35));
    __m256i x = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi8(a, M), _mm256_cmpeq_epi8(a3, Q)),
                                _mm256_cmpeq_epi8(a, B));
    __m256i y = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi8(b, M), _mm256_cmpeq_epi8(b3, Q)),
                                _mm256_cmpeq_epi8(b, B));
    __m256i z = _mm256_or_si256(x, y);
    if (_mm256_testz_si256(z, z))
        return 0;
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(x) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(y) << 32;
}

__attribute__((target("avx2"))) static void pass1_avx2(scan *sc)
{
    size_t i = 0;
    for (; i + 67 <= sc->n; i += 64) {
        uint64_t m = marks_avx2(sc->s + i);
        if (m) {
            on_bits(sc, i, m);
            if (sc->decline)
                return;
        }
    }
    if (sc->n >= 67)
        PASS1_TAIL(sc, i, marks_avx2);
    else
        PASS1_TAIL(sc, i, marks_sse2); /* (the zeroed copy: any width) */
}
#endif

static void pass1(scan *sc)
{
#ifdef SK_X86
    static int avx2 = -1;
    int a = __atomic_load_n(&avx2, __ATOMIC_RELAXED);
    if (a < 0) {
        __builtin_cpu_init();
        a = __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&avx2, a, __ATOMIC_RELAXED);
    }
    if (a)
        pass1_avx2(sc);
    else
        pass1_sse2(sc);
#else
    for (size_t i = 0; i < sc->n && !sc->decline; i++)
        if (sc->s[i] == '\\' || (sc->s[i] == 'M' && i + 3 < sc->n && sc->s[i + 3] == '"'))
            on_bits(sc, i, 1);
#endif
}

/* ---- skipping values ------------------------------------------------------ */

/* Past JSON whitespace (and any other byte below '!': not JSON there). */
static inline size_t ws(const char *s, size_t i, size_t n)
{
    while (i < n && (unsigned char)s[i] <= ' ')
        i++;
    return i;
}

/* The byte at the first non-blank index from *i (*i moved there), or 0 at
 * the end. */
static inline char tok(const char *s, size_t *i, size_t n)
{
    size_t j = *i;
    if (j < n && (unsigned char)s[j] > ' ')
        return s[j];
    *i = j = ws(s, j, n);
    return j < n ? s[j] : 0;
}

/* The first quote or backslash at or after i, or n. */
static size_t str_stop(const char *s, size_t i, size_t n)
{
#ifdef SK_X86
    const __m128i Q = _mm_set1_epi8('"'), B = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, Q), _mm_cmpeq_epi8(v, B)));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    while (i < n && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* i just after an opening quote: the index after the closing one, or 0. */
static size_t skip_str(const char *s, size_t i, size_t n)
{
    for (;;) {
        i = str_stop(s, i, n);
        if (i >= n)
            return 0;
        if (s[i] == '"')
            return i + 1;
        i += 2;
    }
}

/* Quotes, backslashes, opening and closing brackets of b[0..64). */
typedef struct blk { uint64_t q, bs, op, cl; } blk;

static void classify(const char *b, blk *o)
{
#ifdef SK_X86
    const __m128i Q = _mm_set1_epi8('"'), B = _mm_set1_epi8('\\'), L = _mm_set1_epi8(0x20);
    const __m128i O = _mm_set1_epi8('{'), C = _mm_set1_epi8('}');
    memset(o, 0, sizeof *o);
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
        __m128i f = _mm_or_si128(v, L); /* [ -> {, ] -> } */
        o->q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, Q)) << (16 * k);
        o->bs |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, B)) << (16 * k);
        o->op |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(f, O)) << (16 * k);
        o->cl |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(f, C)) << (16 * k);
    }
#else
    memset(o, 0, sizeof *o);
    for (int k = 0; k < 64; k++) {
        uint64_t bit = 1ULL << k;
        char c = b[k];
        o->q |= c == '"' ? bit : 0;
        o->bs |= c == '\\' ? bit : 0;
        o->op |= c == '{' || c == '[' ? bit : 0;
        o->cl |= c == '}' || c == ']' ? bit : 0;
    }
#endif
}

/* The characters escaped by a backslash (simdjson's branchless rule: a run
 * of backslashes escapes every other one and the byte after an odd run);
 * *prev: the block before ended inside an escape. */
static uint64_t escaped_bits(uint64_t bs, uint64_t *prev)
{
    const uint64_t even = 0x5555555555555555ULL;
    uint64_t seq_even;
    bs &= ~*prev;
    uint64_t follows = bs << 1 | *prev;
    uint64_t odd_starts = bs & ~even & ~follows;
    *prev = __builtin_add_overflow(odd_starts, bs, &seq_even);
    return (even ^ (seq_even << 1)) & follows;
}

static uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* i at an opening bracket: the index after its closing one, or 0. */
static size_t skip_nested(const char *s, size_t i, size_t n)
{
    uint64_t prev_esc = 0, prev_in = 0;
    long depth = 0;
    for (; i < n; i += 64) {
        blk b;
        if (n - i >= 64) {
            classify(s + i, &b);
        } else {
            char buf[64] = { 0 };
            memcpy(buf, s + i, n - i);
            classify(buf, &b);
        }
        uint64_t q = b.q & ~escaped_bits(b.bs, &prev_esc);
        uint64_t in = prefix_xor(q) ^ prev_in;
        prev_in = (uint64_t)((int64_t)in >> 63);
        for (uint64_t br = (b.op | b.cl) & ~in; br; br &= br - 1) {
            int j = __builtin_ctzll(br);
            if (b.op >> j & 1)
                depth++;
            else if (--depth == 0)
                return i + (size_t)j + 1;
        }
    }
    return 0;
}

/* The index after the value at i, or 0. */
static size_t skip_value(const char *s, size_t i, size_t n)
{
    if (i >= n)
        return 0;
    if (s[i] == '"')
        return skip_str(s, i + 1, n);
    if (s[i] == '{' || s[i] == '[')
        return skip_nested(s, i, n);
    /* A literal (not checked: see the top) or a number. */
    size_t j = i + (s[i] == 't' || s[i] == 'n' ? 4 : s[i] == 'f' ? 5 : 0);
    if (j > i)
        return j <= n ? j : 0;
    while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '-' || s[j] == '+' || s[j] == '.' ||
                     s[j] == 'e' || s[j] == 'E'))
        j++;
    return j > i ? j : 0;
}

/* ---- the map -------------------------------------------------------------- */

typedef struct span { const char *p; size_t n; } span;

/* A name at i (its opening quote), without escapes: its bytes in *sp and
 * the index after its closing quote, or 0. */
static size_t name_at(const char *s, size_t i, size_t n, span *sp)
{
    if (i >= n || s[i] != '"')
        return 0;
    size_t e = str_stop(s, i + 1, n);
    if (e >= n || s[e] != '"')
        return 0;
    sp->p = s + i + 1;
    sp->n = e - i - 1;
    return e + 1;
}

static int cmp(span a, span b)
{
    int r = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return r ? r : (a.n > b.n) - (a.n < b.n);
}

typedef struct best { span ns, id; bool have, primary; } best;

static inline bool eq4(const char *p, const char *lit)
{
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, lit, 4);
    return a == b;
}

/* Which of the four names an item's member name is: 0 id, 1 xdm:id,
 * 2 primary, 3 xdm:primary, -1 another. */
static int item_name(const char *p, size_t n)
{
    switch (n) {
    case 2: return p[0] == 'i' && p[1] == 'd' ? 0 : -1;
    case 6: return eq4(p, "xdm:") && p[4] == 'i' && p[5] == 'd' ? 1 : -1;
    case 7: return eq4(p, "prim") && eq4(p + 3, "mary") ? 2 : -1;
    case 11: return eq4(p, "xdm:") && eq4(p + 4, "prim") && eq4(p + 7, "mary") ? 3 : -1;
    default: return -1;
    }
}

/* The item object at i: the index after it, or 0; bs updated.  What its
 * members say is recfacts.c's item_members: the last "id", else the last
 * "xdm:id"; the same for primary. */
static size_t item(const char *s, size_t i, size_t n, span ns, best *bs)
{
    span id[2];
    signed char idk[2] = { -1, -1 }, pk[2] = { -1, -1 }; /* -1 absent, 0 no, 1 string / true */
    i++;
    if (tok(s, &i, n) == '}') {
        i++;
    } else {
        for (;;) {
            if (tok(s, &i, n) != '"')
                return 0;
            size_t e = str_stop(s, i + 1, n);
            int w = -1;
            if (e < n && s[e] == '"')
                w = item_name(s + i + 1, e - i - 1), i = e + 1;
            else if (!(i = skip_str(s, i + 1, n)))
                return 0; /* (an escaped name is none of the four: on_backslash) */
            if (tok(s, &i, n) != ':')
                return 0;
            i++;
            char c = tok(s, &i, n);
            if (w >= 0 && w < 2 && c == '"') {
                e = str_stop(s, i + 1, n);
                if (e >= n || s[e] != '"')
                    return 0; /* an id with an escape: declined */
                id[w].p = s + i + 1;
                id[w].n = e - i - 1;
                idk[w] = 1;
                i = e + 1;
            } else {
                if (w >= 2)
                    pk[w - 2] = n - i >= 4 && eq4(s + i, "true");
                else if (w >= 0)
                    idk[w] = 0;
                if (!(i = skip_value(s, i, n)))
                    return 0;
            }
            c = tok(s, &i, n);
            i++;
            if (c == ',')
                continue;
            if (c == '}')
                break;
            return 0;
        }
    }
    int w = idk[0] >= 0 ? 0 : 1;
    if (bs->primary || idk[w] != 1 || id[w].n == 0)
        return i;
    bool prim = (pk[0] >= 0 ? pk[0] : pk[1]) == 1;
    int c = bs->have ? cmp(ns, bs->ns) : 0;
    if (prim || !bs->have || c < 0 || (c == 0 && cmp(id[w], bs->id) < 0)) {
        bs->ns = ns;
        bs->id = id[w];
        bs->have = true;
        bs->primary = prim;
    }
    return i;
}

/* The identityMap object at i: true with the key in *bs. */
static bool read_map(const char *s, size_t i, size_t n, best *bs)
{
    span nss[MAX_NS];
    int nns = 0;
    if (i >= n || s[i] != '{')
        return false; /* not an object: no identity */
    i++;
    if (tok(s, &i, n) == '}')
        return false;
    for (;;) {
        span ns;
        tok(s, &i, n);
        if (!(i = name_at(s, i, n, &ns)) || nns == MAX_NS)
            return false;
        for (int k = 0; k < nns; k++)
            if (nss[k].n == ns.n && !memcmp(nss[k].p, ns.p, ns.n))
                return false; /* a repeated namespace: its last value counts, first place */
        nss[nns++] = ns;
        if (tok(s, &i, n) != ':')
            return false;
        i++;
        if (tok(s, &i, n) == '[') {
            i++;
            if (tok(s, &i, n) == ']') {
                i++;
            } else {
                for (;;) {
                    if (tok(s, &i, n) == '{')
                        i = item(s, i, n, ns, bs);
                    else
                        i = skip_value(s, i, n);
                    if (!i)
                        return false;
                    char c = tok(s, &i, n);
                    i++;
                    if (c == ',')
                        continue;
                    if (c == ']')
                        break;
                    return false;
                }
            }
        } else if (!(i = skip_value(s, i, n))) {
            return false;
        }
        char c = tok(s, &i, n);
        i++;
        if (c == ',')
            continue;
        return c == '}' && bs->have;
    }
}

/* ---- the record ----------------------------------------------------------- */

/* The value of the record's identityMap member (the last of its spelling),
 * or 0: walks the top-level members up to the last candidate. */
static size_t find_map(const scan *sc)
{
    const char *s = sc->s;
    size_t n = sc->n, val[2] = { 0, 0 };
    int ci = 0;
    size_t i = ws(s, 0, n);
    if (i >= n || s[i] != '{')
        return 0;
    i++;
    for (bool first = true;; first = false) {
        while (ci < sc->nc && sc->c[ci].at < i)
            ci++; /* inside a value passed over */
        if (ci == sc->nc)
            break;
        if (!first) {
            if (tok(s, &i, n) != ',')
                return 0;
            i++;
        }
        if (tok(s, &i, n) != '"')
            return 0;
        size_t k = i;
        if (!(i = skip_str(s, i + 1, n)) || tok(s, &i, n) != ':')
            return 0;
        i++;
        tok(s, &i, n);
        if (sc->c[ci].at == k) {
            val[sc->c[ci].spelling] = i;
            if (++ci == sc->nc)
                break;
        }
        if (!(i = skip_value(s, i, n)))
            return 0;
    }
    if (val[0] && val[1] && s[val[1]] == '{')
        return 0; /* two maps: the normalization merges them (a prefixed one
                   * that is no object is left out) */
    return val[0] ? val[0] : val[1];
}

bool se_shardkey_text(const char *data, size_t len, uint64_t *h, char *key, size_t keycap,
                      size_t *keylen)
{
    scan sc; /* (its candidates are written before they are read) */
    best bs = { .have = false };
    sc.s = data;
    sc.n = len;
    sc.nc = 0;
    sc.decline = false;
    pass1(&sc);
    if (sc.decline || sc.nc == 0)
        return false;
    size_t v = find_map(&sc);
    if (!v || !read_map(data, v, len, &bs))
        return false;
    uint64_t x = se_fnv1a64_more(SE_FNV1A64_INIT, bs.ns.p, bs.ns.n);
    *h = se_fnv1a64_more(se_fnv1a64_more(x, ":", 1), bs.id.p, bs.id.n);
    if (keylen) {
        *keylen = bs.ns.n + 1 + bs.id.n;
        if (key && *keylen <= keycap) {
            memcpy(key, bs.ns.p, bs.ns.n);
            key[bs.ns.n] = ':';
            memcpy(key + bs.ns.n + 1, bs.id.p, bs.id.n);
        }
    }
    return true;
}

bool se_shardkey_hash(const char *data, size_t len, uint64_t *h)
{
    return se_shardkey_text(data, len, h, NULL, 0, NULL);
}
