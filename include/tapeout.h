#ifndef SEGEXPORT_TAPEOUT_H
#define SEGEXPORT_TAPEOUT_H
/* Writing JSON text from tapes as json-c 0.16 prints its values
 * (json_object_to_json_string_ext with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE): the printing shared by the writers that
 * build rows straight from tapes (projtape.c, mergetape.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tape.h"

/* Appends to the caller's *b (length *n, capacity *cap, grown with realloc).
 * oom is set on the first failed allocation; everything after it is a no-op. */
typedef struct se_tout {
    char **b;
    size_t *n, *cap;
    char *scratch;   /* unescaped strings; freed by se_tout_done */
    size_t scap;
    bool oom;
} se_tout;

bool se_tout_grow(se_tout *o, size_t more);
void se_tout_done(se_tout *o); /* frees the scratch */

static inline bool se_tout_reserve(se_tout *o, size_t more)
{
    return *o->n + more <= *o->cap ? !o->oom : se_tout_grow(o, more);
}

static inline void se_tout_put(se_tout *o, const char *s, size_t n)
{
    if (!se_tout_reserve(o, n))
        return;
    memcpy(*o->b + *o->n, s, n);
    *o->n += n;
}

static inline void se_tout_putc(se_tout *o, char c)
{
    if (!se_tout_reserve(o, 1))
        return;
    (*o->b)[(*o->n)++] = c;
}

/* Bytes s[0..n) as a JSON string, escaped as json-c escapes them. */
void se_tout_esc(se_tout *o, const char *s, size_t n);

/* The unescaped bytes of string token i (in o->scratch unless raw; valid
 * until the next call). */
const char *se_tout_str_bytes(se_tout *o, const se_tape *tp, uint32_t i, size_t *len);

/* String token i as json-c prints the string. */
void se_tout_string(se_tout *o, const se_tape *tp, uint32_t i);

/* Number token i as json-c prints it once parsed: a double its text
 * (NaN, Infinity, -Infinity as json-c spells them), an integer its value. */
void se_tout_number(se_tout *o, const se_tape *tp, uint32_t i);

#endif
