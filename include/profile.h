#ifndef SEGEXPORT_PROFILE_H
#define SEGEXPORT_PROFILE_H
/* Profile assembly (SPEC §4): the records of one key, merged by a policy. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "record.h"
#include "mergepolicy.h"

typedef struct se_profile {
    char *key;                 /* owned copy of the group's key */
    size_t key_cap;            /* key's buffer size */
    se_record *frags;          /* profile fragments, input order */
    size_t nfrags, capfrags;
    se_record *events;         /* events; input order until assembled, then by (ts_ms, seq) */
    size_t nevents, capevents;

    /* Set by se_profile_assemble: */
    json_object *merged;       /* owned.  The merged fragments; with no fragment taking
                                  part: {"identityMap": union of the events' identityMaps} */
    bool has_fragment;         /* at least one fragment took part in the merge */
    bool has_updated;          /* updated time known */
    int64_t updated_ms;        /* greatest ingest time over the records taking part
                                  (fragments kept by the policy, and every event) */
} se_profile;

void se_profile_init(se_profile *p);

/* Drops every record and result and starts the group of key (copied). 0 or -1 (ENOMEM). */
int se_profile_begin(se_profile *p, const char *key);

/* Moves rec into the profile (rec is zeroed; the caller keeps nothing). 0 or -1 (ENOMEM). */
int se_profile_add(se_profile *p, se_record *rec);

/* Merges the fragments by pol and sorts the events.
 * timestampOrdered: fragment time = updated_ms if has_updated, else ingest_ms if
 * has_ingest, else oldest; ties: later seq is newer.  Objects merge key by key,
 * recursively; at a leaf, an array or a type conflict the newer value wins; JSON
 * null never overrides (a key whose values are all null stays null).  Key order:
 * first appearance, oldest fragment first.
 * dataSetPrecedence: priority by the fragment's dataset_id position in pol->order
 * (first = highest), same dataset ordered as timestampOrdered; fragments whose
 * dataset is not in order (or have none) take no part at all.
 * identityMap: union of items by (namespace, id), the higher-priority fragment's
 * item wins on other fields; namespaces and items in first-appearance order.
 * segmentMembership: per (namespace, segmentId) the entry with the latest
 * lastQualificationTime (RFC 3339 string or epoch-ms integer; absent or invalid =
 * oldest); a tie goes to the higher-priority fragment.
 * Returns 0 or -1 (ENOMEM). */
int se_profile_assemble(se_profile *p, const se_mpolicy *pol);

/* A fragment's place in the merge (SPEC §4), shared by the tree merge and
 * the tape merge (mergetape.c): dataSetPrecedence rank (0 = highest), then
 * its time (update time, else ingest time, else oldest), then input order. */
typedef struct se_frag_order {
    size_t rank;
    bool has_t;
    int64_t t;
    uint64_t seq;
} se_frag_order;

/* Fills *o for fragment r under pol (NULL: timestampOrdered); false when r
 * takes no part (dataSetPrecedence and its dataset not listed, or none). */
bool se_frag_order_of(const se_mpolicy *pol, const se_record *r, se_frag_order *o);

/* Lowest priority first (<0 when a merges before b): folding in this order
 * lets the higher priority win. */
int se_frag_order_cmp(const se_frag_order *a, const se_frag_order *b);

/* Frees everything; p can be reused after se_profile_init. */
void se_profile_clear(se_profile *p);

#endif
