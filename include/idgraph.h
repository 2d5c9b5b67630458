#ifndef SEGEXPORT_IDGRAPH_H
#define SEGEXPORT_IDGRAPH_H
/* The identity graph of merge policies with identityGraph "pdg" (SPEC §4):
 * records that share an identity (namespace, id), transitively, are one
 * profile, keyed by the smallest SPEC §3 key among its records.
 *
 * A union-find over 64-bit identity hashes (se_ident_hash).  Memory, per
 * distinct identity: its hash (8 bytes) and parent link (4) in arrays grown by
 * a quarter (12-15 bytes), and a 4-byte slot of an open-addressing index at
 * most 4/5 full, grown by a quarter (5-6.3 bytes).  Per component (a stitched
 * profile, whatever its size): an 8-byte arena offset and a size byte, and its
 * key (a 4-byte owner, 1-2 length bytes, the namespace and id bytes) in an
 * arena compacted in place when an eighth of it is stale.  Measured: 37.3
 * bytes per identity on make bench's stitching dump (937 thousand identities,
 * 3.3 per profile, 30-43 byte keys), 35.1 in test_idgraph.
 * se_idgraph_bytes() tells the total.  A giant component costs nothing more
 * than its identities: its size saturates at 254.
 *
 * Two identities sharing a 64-bit hash would be one: the odds for n
 * identities are about n^2 / 2^65 (3 * 10^-8 at a million).  At most
 * 2^31 - 1 distinct identities (more fails as out of memory). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* AEP leaves out a profile whose graph holds more identities than this. */
#define SE_GRAPH_MAX_IDENTITIES 50

/* One identity of a record: raw bytes (not escaped), borrowed. */
typedef struct se_ident {
    const char *ns, *id;
    size_t nslen, idlen;
} se_ident;

/* The hash of (namespace, id): FNV-1a over ns, a 0 byte, id. */
uint64_t se_ident_hash(const char *ns, size_t nslen, const char *id, size_t idlen);

/* The identities of an identityMap (normalized or not: "xdm:id" and
 * "xdm:primary" are read too), in document order: every item that is an
 * object with a non-empty string id without NUL (the items SPEC §3 reads).
 * *v grows as needed (*cap its size; free(*v) when done); the strings point
 * into identity_map.  *key gets the index of the SPEC §3 key: the first
 * primary item, else the smallest (namespace, id).  Returns the count (0:
 * no identity), or -1 on out of memory. */
long se_ident_collect(json_object *identity_map, se_ident **v, size_t *cap, size_t *key);

/* (ns, id) pairs compared as SPEC §3 does: namespace bytes, then id bytes. */
int se_ident_cmp(const se_ident *a, const se_ident *b);

/* The key text of an identity: "NS:ID" with TAB LF CR backslash escaped
 * (\t \n \r \\), as se_identity_key writes it, into *buf (grown; *cap its
 * size), NUL-terminated.  Returns the length, or -1 on out of memory. */
long se_ident_key_text(const se_ident *k, char **buf, size_t *cap);

typedef struct se_idgraph se_idgraph;

se_idgraph *se_idgraph_new(void);   /* NULL on out of memory */
void se_idgraph_free(se_idgraph *g); /* accepts NULL */

/* Adds a record's identities (ids[0..n), n >= 1) and its key ids[key]: all of
 * them become one component, whose key is the smaller of its key and this
 * one.  0, or -1 on out of memory (the graph is then unusable). */
int se_idgraph_add(se_idgraph *g, const se_ident *ids, size_t n, size_t key);

/* se_idgraph_add with the identities' hashes (se_ident_hash) given in hs. */
int se_idgraph_add_hashed(se_idgraph *g, const se_ident *ids, const uint64_t *hs, size_t n, size_t key);

/* A hint that h is looked up (or added) soon: its index slot is fetched into
 * the cache meanwhile (a lookup is a cache miss or two in a big graph). */
void se_idgraph_prefetch(const se_idgraph *g, uint64_t h);

/* The component of the identity with hash h: its key (pointing into the
 * graph, valid until the next se_idgraph_add) and its number of distinct
 * identities (saturated at 254).  false when h is not in the graph. */
bool se_idgraph_find(se_idgraph *g, uint64_t h, se_ident *key, unsigned *size);

/* For a component past SE_GRAPH_MAX_IDENTITIES: true the first time it is
 * asked about (the caller reports it once), false after; false for others. */
bool se_idgraph_report_once(se_idgraph *g, uint64_t h);

size_t se_idgraph_identities(const se_idgraph *g); /* distinct identities */
size_t se_idgraph_components(const se_idgraph *g);
size_t se_idgraph_bytes(const se_idgraph *g);      /* memory held now */
size_t se_idgraph_peak_bytes(const se_idgraph *g); /* the most it ever held */

/* The guardrail for one profile's records, as they come (the engine's
 * group): distinct identities counted up to SE_GRAPH_MAX_IDENTITIES + 1, in
 * fixed memory.  Zero it (or se_idguard_reset) to start a profile. */
typedef struct se_idguard {
    uint64_t h[SE_GRAPH_MAX_IDENTITIES + 1];
    size_t n;
    bool over;   /* more than SE_GRAPH_MAX_IDENTITIES: the profile is left out */
} se_idguard;

void se_idguard_reset(se_idguard *g);
/* Counts the identities of a record's identityMap.  Returns false once the
 * profile holds more than SE_GRAPH_MAX_IDENTITIES (then and after). */
bool se_idguard_add(se_idguard *g, json_object *identity_map);
/* Counts one identity; the same return. */
bool se_idguard_add_one(se_idguard *g, const se_ident *k);

#endif
