#ifndef SEGEXPORT_RECORD_H
#define SEGEXPORT_RECORD_H
/* One XDM record (one NDJSON line): its kind, profile key, times (SPEC §3). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

typedef enum { SE_REC_PROFILE, SE_REC_EVENT } se_kind;

#define SE_SEGM_UNSURE UINT32_MAX

typedef struct se_record {
    se_kind kind;          /* EVENT when a top-level "timestamp" or "xdm:timestamp" exists */
    json_object *obj;      /* normalized record, owned (see se_record_parse) */
    char *key;             /* escaped "NAMESPACE:ID", owned */
    bool has_ingest; int64_t ingest_ms;    /* _acp_system_metadata.ingestTime */
    bool has_updated; int64_t updated_ms;  /* extSourceSystemAudit.lastUpdatedDate (profiles) */
    char *dataset_id;      /* _acp_system_metadata.datasetId or NULL, owned */
    bool has_ts; int64_t ts_ms;            /* events: timestamp */
    uint64_t seq;          /* input order; set by the caller */
    bool key_borrowed;     /* key (and a dataset_id in its block) live in a
                            * caller's space (se_keyspace, recfacts.h), not
                            * owned: se_record_own makes them owned */
    uint8_t seghint;       /* the engine's: SE_SEGHINT_* (export_int.h) */
    uint32_t key_len;      /* strlen(key), from se_tape_facts */
    uint32_t segm;         /* se_tape_facts: the top-level segmentMembership's
                            * value token (the last of the name), 0 none, or
                            * SE_SEGM_UNSURE (an xdm: spelling, or a top-level
                            * key with an escape) */
} se_record;

/* A record whose key is borrowed gets its own copy of key and dataset_id
 * (one block, as se_tape_facts makes them); 0, or -1 out of memory (rec
 * unchanged). */
int se_record_own(se_record *rec);

/* The value of key in obj, or of xkey ("xdm:"key) when key is absent (how
 * the normalization reads identity items' members), or NULL. */
json_object *se_json_get_either(json_object *obj, const char *key, const char *xkey);

/* A reusable parser (it keeps a json_tokener).  NULL on out of memory. */
typedef struct se_rparser se_rparser;
se_rparser *se_rparser_new(void);
void se_rparser_free(se_rparser *p); /* accepts NULL */

/* Parses one line.  On success returns 0 and fills *rec.  obj is normalized:
 *  - top-level "xdm:identityMap", "xdm:segmentMembership", "xdm:timestamp" are
 *    renamed without the prefix (when both spellings exist the unprefixed one is
 *    kept and the other merged into it: identityMap namespaces/items appended,
 *    segmentMembership namespaces/segments added when missing);
 *  - inside identityMap items, "xdm:id", "xdm:primary", "xdm:authenticatedState"
 *    lose the prefix; inside segmentMembership entries every "xdm:" key does;
 *  - "_acp_system_metadata" is removed.
 * Other keys are literal.
 * Returns -1 for a bad record with a reason in err (no file/line: the caller adds
 * them): "malformed JSON: ...", "not a JSON object", "no identity", "invalid
 * _acp_system_metadata.ingestTime", "invalid timestamp".  rec is left empty then. */
int se_record_parse(se_rparser *p, const char *data, size_t len, se_record *rec,
                    char *err, size_t errlen);

/* se_record_parse in two steps.  se_record_facts reads the line's tape and
 * fills in everything but obj (same verdicts and reasons); se_record_tree
 * then builds obj for the line p read last (the line must not have changed).
 * Both -1 with err set on failure (rec then cleared by the caller with
 * se_record_clear; se_record_facts clears it itself). */
int se_record_facts(se_rparser *p, const char *data, size_t len, se_record *rec,
                    char *err, size_t errlen);
int se_record_tree(se_rparser *p, se_record *rec, char *err, size_t errlen);

/* The tape of the line p read last (valid until p reads another). */
struct se_tape;
const struct se_tape *se_rparser_tape(const se_rparser *p);

/* The normalization se_record_parse applies to a record's tree (above), in
 * place (*objp may be replaced), _acp_system_metadata kept.  -1 on out of
 * memory.  For tests/fuzz/ref_record.h, the reference record reader. */
int se_record_normalize(json_object **objp);

/* Profile key of an identityMap (normalized or not: "xdm:id"/"xdm:primary" are
 * read too): the first item with "primary": true in document order, else the
 * smallest (namespace, id) by bytes.  Items need a string id.  Returns a malloc'd
 * escaped "NS:ID" (TAB LF CR backslash -> \t \n \r \\), or NULL when there is no
 * identity. */
char *se_identity_key(json_object *identity_map);

/* The key text "NS:ID" of an identity (SPEC §3), with tab, newline, carriage
 * return and backslash in either part escaped as \t \n \r \\: malloc'd, or
 * NULL when out of memory. */
char *se_key_join(const char *ns, size_t nsn, const char *id, size_t idn);

/* Frees what rec owns and zeroes it.  Accepts an already cleared record. */
void se_record_clear(se_record *rec);

/* FNV-1a 64-bit over bytes (the --shard hash); the only copy of it.
 * se_fnv1a64_more goes on from h over more bytes (h = SE_FNV1A64_INIT to
 * start): the hash of pieces in turn equals the hash of their concatenation. */
#define SE_FNV1A64_INIT 14695981039346656037ULL
uint64_t se_fnv1a64(const char *s, size_t n);
uint64_t se_fnv1a64_more(uint64_t h, const char *s, size_t n);

/* A 64-bit hash of bytes eight at a time (multiply-xorshift, a splitmix64
 * finish): for tables that only need a good spread, not FNV's values.  The
 * grouping check uses it (FNV-1a's byte-serial multiplies cost ~4 cycles a
 * byte of every key). */
uint64_t se_hash64(const char *s, size_t n);

#endif
