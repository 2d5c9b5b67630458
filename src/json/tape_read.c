/* The tape's readers (see tape.h): lookups, lazy unescaping, comparisons,
 * integers.  The parser is in tape.c. */
#include "tape.h"

#include "tapehex.h"

#include <stdlib.h>
#include <string.h>

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
        unsigned u = (unsigned)se_tape_hex4(raw + i + 2);
        if (u >= 0xd800 && u <= 0xdbff) {
            unsigned lo = (unsigned)se_tape_hex4(raw + i + 8);
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
