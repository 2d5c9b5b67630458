#ifndef SEGEXPORT_SHARDKEY_H
#define SEGEXPORT_SHARDKEY_H
/* --shard's quick key: the profile key of a record (SPEC §3's rule) read
 * without parsing or validating the record, so that a shard drops another
 * shard's records at little more than the cost of finding their line
 * (docs/performance.md, "Scale-out").
 *
 * Exact for every record the full parser accepts: when it answers, the key
 * is the one se_tape_facts computes (the same hash), wherever identityMap
 * stands among the top-level members, with or without xdm: prefixes,
 * escapes elsewhere in the record, duplicate id/primary members (the last
 * wins, the unprefixed spelling first) and items or namespaces the rule
 * skips.  It declines (false: the caller parses the record) where reading
 * the key exactly would take a real parse: both spellings of identityMap at
 * the top level, an escape in a namespace, an id or an item's member name,
 * a \u escape that could spell one of the names the rule reads, a repeated
 * namespace, more than 32 namespaces or 16 strings "identityMap" or
 * "xdm:identityMap" (at any depth), a record with no identity.  A bad record may get a quick key
 * or not; the answer is a function of its bytes alone, so every shard
 * agrees on it.
 *
 * How: one SIMD pass over the line finds the places where the unescaped
 * strings "identityMap" and "xdm:identityMap" stand and every backslash;
 * then the top-level members are walked (skipping values: strings with a
 * vector search for the closing quote, nested values with a bitmask scan of
 * quotes and brackets, 64 bytes a step) only up to the last such place; then
 * the map's items are read. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True with *h = se_fnv1a64 of the key text. */
bool se_shardkey_hash(const char *data, size_t len, uint64_t *h);

/* The same, with the key text (NS ":" ID, no escapes to add: a key needing
 * them is declined) in key[0..*keylen) when it fits in keycap bytes (else
 * only *keylen).  For tests. */
bool se_shardkey_text(const char *data, size_t len, uint64_t *h, char *key, size_t keycap,
                      size_t *keylen);

#endif
