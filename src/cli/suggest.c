/* Nearest-word suggestions for mistyped commands, options and job keys. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include "suggest.h"

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t se_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* Three rows of the dynamic-programming table: two back for transpositions. */
    size_t r0[SE_SUGGEST_MAX + 1], r1[SE_SUGGEST_MAX + 1], r2[SE_SUGGEST_MAX + 1];
    size_t *pp = r0, *p = r1, *cur = r2;

    if (la > SE_SUGGEST_MAX || lb > SE_SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        int ca = tolower((unsigned char)a[i - 1]);
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca != cb;
            cur[j] = min3(p[j] + 1, cur[j - 1] + 1, p[j - 1] + cost);
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < cur[j])
                cur[j] = pp[j - 2] + 1;
        }
        size_t *t = pp;
        pp = p;
        p = cur;
        cur = t;
    }
    return p[lb];
}

const char *se_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word), limit = len <= 2 ? 0 : len <= 5 ? 1 : 2, best = SIZE_MAX;
    const char *found = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t d = se_edit_distance(word, cands[i]);
        if (d <= limit && d < best) {
            best = d;
            found = cands[i];
        }
    }
    return found;
}
