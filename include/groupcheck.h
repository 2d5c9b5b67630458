#ifndef SEGEXPORT_GROUPCHECK_H
#define SEGEXPORT_GROUPCHECK_H
/* The grouping check (SPEC §3): a profile key that reappears after another key
 * is an error.  Every finished group's key is remembered as a 64-bit hash
 * (the engine's key_hash: se_hash64, or FNV-1a with --shard) with the
 * place where the group began, in an open-addressing table: 24 bytes an
 * entry, at most half full, so 48-96 bytes per distinct profile key; while
 * the table doubles, old and new exist together, so the peak is up to 144
 * bytes per key (e.g. 1 million profiles: 48-96 MB, 144 MB at a doubling).
 * Two different keys sharing a 64-bit hash would be reported as a regrouping; the odds for n keys are about
 * n^2 / 2^65 (10^-8 at a million keys).  --keyed input needs none of this: the
 * order check there keeps only the previous key. */
#include <stdint.h>
#include <stddef.h>

typedef struct se_groupcheck se_groupcheck;

se_groupcheck *se_groupcheck_new(void);
void se_groupcheck_free(se_groupcheck *g); /* accepts NULL */

/* Records that the group of key began at name:line.  Returns 0 when the key is
 * new; 1 when it was seen before (then *prev_name and *prev_line say where that
 * earlier group began; prev_name is owned by g); -1 on out of memory. */
int se_groupcheck_add(se_groupcheck *g, const char *key, const char *name, uint64_t line,
                      const char **prev_name, uint64_t *prev_line);

/* The same, given the key's hash (e.g. computed on another thread); one
 * hash function throughout a table's life.  se_groupcheck_add hashes with
 * se_fnv1a64. */
int se_groupcheck_add_hash(se_groupcheck *g, uint64_t hash, const char *name, uint64_t line,
                           const char **prev_name, uint64_t *prev_line);

/* A hint: the slot a key of that hash would take is fetched into the cache
 * (taking lines a few ahead hides the table's cache misses). */
void se_groupcheck_prefetch(const se_groupcheck *g, uint64_t hash);

#endif
