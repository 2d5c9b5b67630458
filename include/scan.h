#ifndef SEGEXPORT_SCAN_H
#define SEGEXPORT_SCAN_H
/* A fast pre-parse of one NDJSON record, straight from its bytes (no
 * allocation, no tree).  It validates the JSON, finds the profile key, the
 * kind and checks the times exactly as se_record_parse would - or says it is
 * not sure, and the caller must parse the line the ordinary way.  "Sure" is
 * only ever claimed for a subset of what json-c accepts (strict, UTF-8
 * validated), so every bad record, and every unusual one (escapes in keys or
 * ids, "xdm:" spellings of the keys read here, duplicate keys read here,
 * long numbers, deep nesting, lone surrogates, \u0000 ...), goes through
 * se_record_parse and gets its usual verdict and message.
 *
 * It also records the top-level members' byte ranges, so that a caller that
 * needs only some of them can hand json-c a smaller object (same members, same
 * order: the parse of that text equals the full parse restricted to them). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SE_SCAN_MAX_MEMBERS = 64 };

typedef struct se_scan_member {
    uint32_t off, len;         /* the member "name":value within the line */
    uint32_t name_off, name_len; /* the name's bytes (no escapes), within the line */
} se_scan_member;

typedef struct se_scan {
    bool event;                /* a top-level "timestamp" exists */
    /* The key is NS ":" ID, both raw (no escapes, no control characters, so
     * they need none of the key text's escaping). */
    uint32_t ns_off, ns_len, id_off, id_len;
    bool members_ok;           /* members[] lists every top-level member */
    size_t nmembers;
    se_scan_member members[SE_SCAN_MAX_MEMBERS];
} se_scan;

/* 1 when the line is a valid record whose key, kind and times are as filled in
 * (nothing allocated, nothing to free); 0 when not sure (invalid, or outside
 * the fast subset): parse it with se_record_parse. */
int se_scan_record(const char *data, size_t len, se_scan *out);

/* For a record se_scan_record was sure of: the names of its identityMap
 * namespaces whose value is a non-empty array, '\n'-separated, in document
 * order - the namespaces se_jobstate_count_row counts for a profile made of
 * this one fragment.  Writes at most the identityMap member's length to out.
 * *all tells whether every namespace's value is a non-empty array (then any
 * merge of such maps counts exactly the union of the names).
 * false when not sure (escapes or whitespace in identityMap, a duplicate
 * namespace, more than 64 namespaces). */
bool se_scan_id_namespaces(const char *data, const se_scan *sc, char *out, size_t *outlen,
                           bool *all);

/* memmem as a yes/no: whether n[0..nl) occurs in h[0..hl). */
bool se_find_bytes(const char *h, size_t hl, const char *n, size_t nl);

#endif
