/* See tapeout.h. */
#include "tapeout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

bool se_tout_grow(se_tout *o, size_t more)
{
    if (o->oom)
        return false;
    size_t nc = *o->cap ? *o->cap : 1024;
    while (nc < *o->n + more)
        nc *= 2;
    char *nb = realloc(*o->b, nc);
    if (!nb) {
        o->oom = true;
        return false;
    }
    *o->b = nb;
    *o->cap = nc;
    return true;
}

void se_tout_done(se_tout *o)
{
    free(o->scratch);
    o->scratch = NULL;
    o->scap = 0;
}

/* The length of s's leading run that json-c prints as it is: no byte below
 * 0x20, no '"', no backslash.  Eight bytes at a time (the tail padded with
 * a plain byte): most strings have nothing to escape. */
static size_t plain_run(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t k = 0;
    for (;;) {
        uint64_t x = ones * 'a';
        memcpy(&x, s + k, n - k < 8 ? n - k : 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b);
        if (hit & highs)
            break;
        if (n - k <= 8)
            return n;
        k += 8;
    }
    while (k < n && s[k] >= 0x20 && s[k] != '"' && s[k] != '\\')
        k++;
    return k;
}

void se_tout_esc(se_tout *o, const char *sp, size_t n)
{
    const unsigned char *s = (const unsigned char *)sp;
    size_t k = plain_run(s, n);
    if (!se_tout_reserve(o, k == n ? n + 2 : 6 * n + 2))
        return;
    char *w = *o->b + *o->n, *start = w;
    *w++ = '"';
    memcpy(w, s, k);
    w += k;
    for (; k < n; k++) {
        unsigned char c = s[k];
        switch (c) {
        case '\b': *w++ = '\\'; *w++ = 'b'; break;
        case '\n': *w++ = '\\'; *w++ = 'n'; break;
        case '\r': *w++ = '\\'; *w++ = 'r'; break;
        case '\t': *w++ = '\\'; *w++ = 't'; break;
        case '\f': *w++ = '\\'; *w++ = 'f'; break;
        case '"': *w++ = '\\'; *w++ = '"'; break;
        case '\\': *w++ = '\\'; *w++ = '\\'; break;
        default:
            if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                memcpy(w, "\\u00", 4);
                w[4] = hex[c >> 4];
                w[5] = hex[c & 0xf];
                w += 6;
            } else {
                *w++ = (char)c;
            }
        }
    }
    *w++ = '"';
    *o->n += (size_t)(w - start);
}

const char *se_tout_str_bytes(se_tout *o, const se_tape *tp, uint32_t i, size_t *len)
{
    const se_tok *t = se_tape_tok(tp, i);
    if (!(t->flags & SE_TF_ESC)) {
        *len = t->len;
        return se_tape_raw(tp, i);
    }
    if (t->len + 1 > o->scap) {
        char *ns = realloc(o->scratch, t->len + 1);
        if (!ns) {
            o->oom = true;
            *len = 0;
            return "";
        }
        o->scratch = ns;
        o->scap = t->len + 1;
    }
    *len = se_tape_unescape(tp, i, o->scratch);
    return o->scratch;
}

void se_tout_string(se_tout *o, const se_tape *tp, uint32_t i)
{
    size_t n;
    const char *s = se_tout_str_bytes(o, tp, i, &n);
    se_tout_esc(o, s, n);
}

void se_tout_number(se_tout *o, const se_tape *tp, uint32_t i)
{
    const se_tok *t = se_tape_tok(tp, i);
    const char *r = se_tape_raw(tp, i);
    if (t->flags & SE_TF_NAN) {
        se_tout_put(o, "NaN", 3);
        return;
    }
    if (t->flags & SE_TF_INF) {
        if (r[0] == '-')
            se_tout_put(o, "-Infinity", 9);
        else
            se_tout_put(o, "Infinity", 8);
        return;
    }
    /* A parsed double keeps its text (json-c's deep copies keep it too); an
     * integer is printed from its value, which is its text unless that has
     * a leading zero or is "-0". */
    if ((t->flags & SE_TF_DBL) || (r[0] != '-' && (r[0] != '0' || t->len == 1)) ||
        (r[0] == '-' && r[1] != '0')) {
        se_tout_put(o, r, t->len);
        return;
    }
    bool big;
    uint64_t u;
    int64_t v = se_tape_int(tp, i, &big, &u);
    char buf[32];
    int n = big ? snprintf(buf, sizeof buf, "%" PRIu64, u) : snprintf(buf, sizeof buf, "%" PRId64, v);
    se_tout_put(o, buf, (size_t)n);
}
