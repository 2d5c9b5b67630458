#ifndef SEGEXPORT_SHARDKEY_H
#define SEGEXPORT_SHARDKEY_H
/* --shard's quick key: the profile key of a record (SPEC §3's rule) read from
 * its leading identityMap without parsing or validating the rest, so that a
 * shard drops another shard's records at little more than the cost of finding
 * their line (docs/performance.md).
 *
 * It answers only for the common shape: the record's first member is
 * "identityMap", an object of namespace -> array of flat item objects, no
 * backslash in it, and neither "identityMap" nor "xdm:identityMap" nor a \u
 * escape anywhere after it (so no other member can change the key).  Then the
 * key is exactly what a full parse computes, if the record is good at all.
 * Anything else: false, and the caller takes the full path. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True with *h = se_fnv1a64 of the key text (its escaping is the identity:
 * no backslash is accepted; a raw control character makes the record bad). */
bool se_shardkey_hash(const char *data, size_t len, uint64_t *h);

#endif
