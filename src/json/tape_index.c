/* The tape parser's first stage (see tape_index.h): 64 bytes at a time,
 * byte classes as 64-bit masks, then the same bit arithmetic on every path.
 *
 * Only the classification differs between the paths: AVX2 (two 32-byte
 * loads), SSE2 (four 16-byte loads) and a byte loop.  A block with a byte
 * <= 0 as a signed char (NUL, or >= 0x80) also gets the UTF-8 check: from
 * bits 7..3 of every byte as masks (SSE2, bytes), or in the vectors, with
 * the 32 bytes before the block (AVX2).  The strings' extent is the prefix xor of the quotes
 * not escaped (a carry-less multiply by all ones on the AVX2 path, six
 * shifts elsewhere). */
#include "tape_index.h"

#include "tape.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TIX_X86 1
#endif

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ALWAYS_INLINE inline
#define NOINLINE
#define UNLIKELY(x) (x)
#endif

/* One block's byte classes, bit k for byte k. */
typedef struct blk {
    uint64_t quote, bslash;
    uint64_t low; /* NUL or >= 0x80 (<= 0 as a signed char) */
} blk;

/* A block's UTF-8 check, once it has a byte of low: continuation bytes owed
 * from the block before (carry, bits 0-2) in, those owed to the next out, or
 * UTF8_BAD. */
#define UTF8_BAD UINT64_MAX

/* The check from the bytes' masks: NUL, and bits 7..3 of each byte.  Leads
 * 11xxxxxx owe one continuation byte 10xxxxxx, 111xxxxx two, 1111xxxx
 * three; 11111xxx is no lead.  Exactly the bytes owed must be continuation
 * bytes. */
static ALWAYS_INLINE uint64_t utf8_step(uint64_t nul, uint64_t b7, uint64_t b6, uint64_t b5,
                                        uint64_t b4, uint64_t b3, uint64_t carry)
{
    const uint64_t cont = b7 & ~b6, lead1 = b7 & b6, lead2 = lead1 & b5, lead3 = lead2 & b4,
                   bad = lead3 & b3;
    const uint64_t owed = lead1 << 1 | lead2 << 2 | lead3 << 3 | carry;
    if (nul | (owed ^ cont) | bad)
        return UTF8_BAD;
    return lead1 >> 63 | lead2 >> 62 | lead3 >> 61;
}

/* ---- classification: the byte loop ------------------------------------- */

static ALWAYS_INLINE void classify_bytes(const unsigned char *p, blk *b)
{
    uint64_t quote = 0, bslash = 0, low = 0;
    for (unsigned k = 0; k < 64; k++) {
        const unsigned c = p[k];
        const uint64_t bit = (uint64_t)1 << k;
        quote |= c == '"' ? bit : 0;
        bslash |= c == '\\' ? bit : 0;
        low |= c == 0 || c >= 0x80 ? bit : 0;
    }
    *b = (blk){ quote, bslash, low };
}

static NOINLINE uint64_t utf8_bytes(const unsigned char *p, const unsigned char *prev,
                                    uint64_t carry)
{
    (void)prev;
    uint64_t m[6] = { 0 };
    for (unsigned k = 0; k < 64; k++) {
        const uint64_t bit = (uint64_t)1 << k;
        m[0] |= p[k] == 0 ? bit : 0;
        for (unsigned j = 1; j < 6; j++)
            m[j] |= p[k] & (0x100 >> j) ? bit : 0;
    }
    return utf8_step(m[0], m[1], m[2], m[3], m[4], m[5], carry);
}

/* x's prefix xor: bit k is the xor of bits 0..k. */
static ALWAYS_INLINE uint64_t prefix_xor_shifts(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* ---- classification: SSE2 ---------------------------------------------- */

#if defined(TIX_X86) && defined(__SSE2__)
static ALWAYS_INLINE uint64_t mask16(__m128i m, unsigned k)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
}

static ALWAYS_INLINE void classify_sse2(const unsigned char *p, blk *b)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), one = _mm_set1_epi8(1);
    uint64_t quote = 0, bslash = 0, low = 0;
    for (unsigned k = 0; k < 4; k++) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        quote |= mask16(_mm_cmpeq_epi8(v, q), k);
        bslash |= mask16(_mm_cmpeq_epi8(v, bs), k);
        low |= mask16(_mm_cmpgt_epi8(one, v), k);
    }
    *b = (blk){ quote, bslash, low };
}

static NOINLINE uint64_t utf8_sse2(const unsigned char *p, const unsigned char *prev,
                                   uint64_t carry)
{
    (void)prev;
    uint64_t m[6] = { 0 };
    for (unsigned k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        m[0] |= mask16(_mm_cmpeq_epi8(v, _mm_setzero_si128()), k);
        /* Bits 7..3 to the top in turn, by doubling each byte. */
        for (unsigned j = 1; j < 6; j++, v = _mm_add_epi8(v, v))
            m[j] |= mask16(v, k);
    }
    return utf8_step(m[0], m[1], m[2], m[3], m[4], m[5], carry);
}
#endif

/* ---- classification: AVX2 ---------------------------------------------- */

#if defined(TIX_X86) && defined(__GNUC__)
#define TARGET_AVX2 __attribute__((target("avx2,pclmul")))

TARGET_AVX2 static ALWAYS_INLINE uint64_t mask64(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

TARGET_AVX2 static ALWAYS_INLINE void classify_avx2(const unsigned char *p, blk *b)
{
    const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\'),
                  one = _mm256_set1_epi8(1);
    const __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    *b = (blk){ mask64(_mm256_cmpeq_epi8(v0, q), _mm256_cmpeq_epi8(v1, q)),
                mask64(_mm256_cmpeq_epi8(v0, bs), _mm256_cmpeq_epi8(v1, bs)),
                mask64(_mm256_cmpgt_epi8(one, v0), _mm256_cmpgt_epi8(one, v1)) };
}

/* utf8_step's rule on 32 bytes v, the 32 before them in `before`, in the
 * vectors themselves: the top bit of each byte of the result is set where
 * the byte breaks the rule.  A byte is owed as a continuation when the one
 * before it is >= 0xc0, the second before >= 0xe0 or the third before
 * >= 0xf0 (a saturating subtraction leaves the top bit set exactly then);
 * it must be 10xxxxxx exactly when owed, below 0xf8, and not NUL. */
TARGET_AVX2 static ALWAYS_INLINE __m256i utf8_bad32(__m256i v, __m256i before)
{
    const __m256i t = _mm256_permute2x128_si256(before, v, 0x21);
    const __m256i owed =
        _mm256_or_si256(_mm256_or_si256(_mm256_subs_epu8(_mm256_alignr_epi8(v, t, 15),
                                                         _mm256_set1_epi8(0x40)),
                                        _mm256_subs_epu8(_mm256_alignr_epi8(v, t, 14),
                                                         _mm256_set1_epi8(0x60))),
                        _mm256_subs_epu8(_mm256_alignr_epi8(v, t, 13), _mm256_set1_epi8(0x70)));
    const __m256i cont = _mm256_andnot_si256(_mm256_add_epi8(v, v), v); /* top: 10xxxxxx */
    return _mm256_or_si256(_mm256_or_si256(_mm256_xor_si256(owed, cont),
                                           _mm256_subs_epu8(v, _mm256_set1_epi8(0x78))),
                           _mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
}

/* The AVX2 check takes the bytes before the block (prev: the 32 before p)
 * rather than the carry, which says nothing more: the same rule.  Inline,
 * so that its constants stay in registers from block to block. */
TARGET_AVX2 static ALWAYS_INLINE uint64_t utf8_avx2(const unsigned char *p, const unsigned char *prev,
                                               uint64_t carry)
{
    (void)carry;
    const __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    const __m256i pv = _mm256_loadu_si256((const __m256i *)(const void *)prev);
    const __m256i bad = _mm256_or_si256(utf8_bad32(v0, pv), utf8_bad32(v1, v0));
    if (!_mm256_testz_si256(bad, _mm256_set1_epi8((char)0x80)))
        return UTF8_BAD;
    /* Whether the next block is owed bytes (only that is asked of it). */
    return (uint64_t)((p[63] >= 0xc0) | (p[62] >= 0xe0) | (p[61] >= 0xf0));
}

TARGET_AVX2 static ALWAYS_INLINE uint64_t prefix_xor_clmul(uint64_t x)
{
    const __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x),
                                           _mm_set1_epi8((char)0xff), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}
#endif

/* ---- the shared arithmetic --------------------------------------------- */

/* The bytes escaped by the backslashes in bs (the one after each backslash
 * that is not escaped itself), *carry in: whether the first byte is escaped;
 * out: whether the next block's is.  Backslashes are rare: a loop. */
static NOINLINE uint64_t escaped(uint64_t bs, uint64_t *carry)
{
    uint64_t esc = *carry, out = 0;
    bs &= ~esc;
    while (bs) {
        const uint64_t bit = bs & -bs;
        esc |= bit << 1;
        out |= bit >> 63;
        bs &= ~(bit | bit << 1);
    }
    *carry = out;
    return esc;
}

/* What runs from block to block: whether the next byte is escaped, is in a
 * string, is owed to a UTF-8 sequence. */
typedef struct carries {
    uint64_t esc, str, utf;
} carries;

/* One block p[0..64) (prev: the 32 bytes before it): its stops, or false
 * when refused. */
static ALWAYS_INLINE bool block(const unsigned char *p, const unsigned char *prev, carries *c,
                                uint64_t *stop, void (*classify)(const unsigned char *, blk *),
                                uint64_t (*utf8)(const unsigned char *, const unsigned char *,
                                                 uint64_t),
                                uint64_t (*pxor)(uint64_t))
{
    blk b;
    classify(p, &b);
    if (UNLIKELY(b.low | c->utf)) {
        if (!b.low || (c->utf = utf8(p, prev, c->utf)) == UTF8_BAD)
            return false;
    }
    uint64_t esc = 0;
    if (UNLIKELY(b.bslash | c->esc))
        esc = escaped(b.bslash, &c->esc);
    const uint64_t quote = b.quote & ~esc;
    const uint64_t inside = pxor(quote) ^ c->str;
    c->str = (uint64_t)((int64_t)inside >> 63);
    *stop = (quote & ~inside) | (b.bslash & inside);
    return true;
}

/* The first stage over s[0..len) (tape_index.h): per block, the quotes not
 * escaped; their prefix xor (with the carry) marks a string's opening quote
 * and body; the stops are the closing quotes and the backslashes inside.
 * The whole blocks in a loop of their own, then the rest. */
static ALWAYS_INLINE bool stops(const unsigned char *s, size_t len, uint64_t *stop,
                                void (*classify)(const unsigned char *, blk *),
                                uint64_t (*utf8)(const unsigned char *, const unsigned char *,
                                                 uint64_t),
                                uint64_t (*pxor)(uint64_t))
{
    /* The 32 bytes before the text, for the UTF-8 check: none. */
    static const unsigned char zeros[32];
    carries c = { 0, 0, 0 };
    size_t at = 0;
    for (; len - at >= 64; at += 64, stop++)
        if (!block(s + at, at ? s + at - 32 : zeros, &c, stop, classify, utf8, pxor))
            return false;
    /* The text's last bytes, in a block padded with blanks: no load leaves
     * the text.  (A UTF-8 sequence cut by the text's end owes bytes of the
     * blank padding: refused.) */
    unsigned char last[64];
    memset(last, ' ', sizeof last);
    memcpy(last, s + at, len - at);
    if (!block(last, at ? s + at - 32 : zeros, &c, stop, classify, utf8, pxor))
        return false;
    *stop |= (uint64_t)1 << (len - at);
    return !c.str;
}

static bool stops_bytes(const unsigned char *s, size_t len, uint64_t *stop)
{
    return stops(s, len, stop, classify_bytes, utf8_bytes, prefix_xor_shifts);
}

#if defined(TIX_X86) && defined(__SSE2__)
static bool stops_sse2(const unsigned char *s, size_t len, uint64_t *stop)
{
    return stops(s, len, stop, classify_sse2, utf8_sse2, prefix_xor_shifts);
}
#endif

#if defined(TIX_X86) && defined(__GNUC__)
TARGET_AVX2 static bool stops_avx2(const unsigned char *s, size_t len, uint64_t *stop)
{
    return stops(s, len, stop, classify_avx2, utf8_avx2, prefix_xor_clmul);
}
#endif

se_tix_fn se_tix_for(int path)
{
    switch (path) {
    case SE_TAPE_PATH_SCALAR:
        return stops_bytes;
#if defined(TIX_X86) && defined(__SSE2__)
    case SE_TAPE_PATH_SSE2:
        return stops_sse2;
#endif
#if defined(TIX_X86) && defined(__GNUC__)
    case SE_TAPE_PATH_AVX2:
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul"))
            return stops_avx2;
        return NULL;
#endif
    default:
        return NULL;
    }
}
