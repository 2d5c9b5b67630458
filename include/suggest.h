#ifndef SEGEXPORT_SUGGEST_H
#define SEGEXPORT_SUGGEST_H
/* "Did you mean ...?": the nearest of a list of known words to a mistyped
 * one.  Pure functions, no allocation, no output. */
#include <stddef.h>

/* Optimal-string-alignment distance between a and b (insertions, deletions,
 * substitutions and transpositions of adjacent characters, each 1), ASCII
 * case ignored.  Words longer than SE_SUGGEST_MAX bytes count as far apart
 * (SIZE_MAX). */
#define SE_SUGGEST_MAX 64
size_t se_edit_distance(const char *a, const char *b);

/* The candidate nearest to word, or NULL when none is near enough to be a
 * typo of it: distance 0 (a case slip) always, else at most 1 for words of
 * 3-5 bytes and 2 for longer ones.  Ties go to the earlier candidate.  NULL
 * entries in cands are skipped. */
const char *se_suggest(const char *word, const char *const *cands, size_t n);

#endif
