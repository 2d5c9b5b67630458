#ifndef SEGEXPORT_MERGETAPE_H
#define SEGEXPORT_MERGETAPE_H
/* A profile's records on their tapes, and their merge written as text
 * (issue 10: one record path).  The engine keeps each record of the current
 * group as its text, its tape and its facts; the merged profile is written
 * straight from the tapes, with no json-c tree. */
#include <stdbool.h>
#include <stddef.h>
#include "mergepolicy.h"
#include "record.h"
#include "tape.h"

/* One record of a group: f holds its facts (se_tape_facts: kind, key, times,
 * dataset_id; f.seq its input order; f.obj NULL), tape its tokens, tape.s its
 * text (valid while the group is). */
typedef struct se_grec {
    se_record f;
    se_tape tape;
} se_grec;

/* The top-level members a job reads from the merged profile (names as the
 * merged profile spells them, unescaped): only these are merged and
 * written, the others left out as if deleted from json-c's merged object
 * (the rest keep their order).  NULL in se_merge_tape keeps every member. */
typedef struct se_mt_keep {
    const char *const *names;
    const size_t *lens;
    size_t n;
} se_mt_keep;

/* Appends to *buf (length *len, capacity *cap, grown with realloc) exactly
 * the bytes json_object_to_json_string_ext(merged, JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE) gives for se_profile_assemble's merged
 * profile of these records under pol (NULL: timestampOrdered), the records
 * normalized as se_record_parse normalizes them.  frags: the group's
 * fragments, events: its events, each in input order.  Returns 1; 0 when not
 * sure (a case left to the trees; *len unchanged); -1 on out of memory.
 * keep (may be NULL): the members written (se_mt_keep). */
int se_merge_tape(const se_grec *frags, size_t nfrags, const se_grec *events, size_t nevents,
                  const se_mpolicy *pol, const se_mt_keep *keep, char **buf, size_t *len,
                  size_t *cap);

#endif
