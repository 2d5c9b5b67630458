#ifndef SEGEXPORT_SEGDEFS_H
#define SEGEXPORT_SEGDEFS_H
/* Segment definitions (--segment-definitions FILE) and their evaluation on a
 * merged profile (SPEC §8).  FILE holds a JSON array of AEP segment
 * definitions {id, name?, namespace?, expression:{type:"PQL",
 * format:"pql/text", value}}, or the API's list {"segments":[...], ...}.
 * Every expression is compiled when the file is loaded (docs/pql.md), so an
 * unsupported one is an invalid definitions file (exit 3), never evaluated. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "tape.h"

typedef struct se_segdefs se_segdefs;

/* Loads FILE ("-" = stdin).  0 and *out, or -1 with a one-line message in err
 * naming the file and the JSON path, e.g.
 * "defs.json: segment \"gold-buyers\": pql: unsupported function 'median' at column 32"
 * or "defs.json: malformed JSON at line 3: ...". */
int se_segdefs_load(const char *path, se_segdefs **out, char *err, size_t errlen);

/* As se_segdefs_load, from text[0..len); name prefixes the messages. */
int se_segdefs_parse(const char *text, size_t len, const char *name, se_segdefs **out,
                     char *err, size_t errlen);

void se_segdefs_free(se_segdefs *d); /* accepts NULL */

size_t se_segdefs_count(const se_segdefs *d);
/* Definition i (< count), in file order: its id, its namespace ("ups" when the
 * definition has none), its name ("" when it has none). */
const char *se_segdefs_id(const se_segdefs *d, size_t i);
const char *se_segdefs_ns(const se_segdefs *d, size_t i);
const char *se_segdefs_name(const se_segdefs *d, size_t i);
/* The index of the definition of (ns, id), or -1. */
long se_segdefs_find(const se_segdefs *d, const char *ns, const char *id);

/* Evaluates every definition on a profile and its events given as tapes
 * (include/tape.h): match[i] (d has count entries) for definition i.
 * profile is the merged profile's tape (token 0 an object): a text printed
 * from the normalized merged profile, or the raw record tape of a profile
 * of one fragment; events are raw ExperienceEvent record tapes in (timestamp,
 * seq) order (NULL entries skipped).  Raw tapes are read in their normalized
 * meaning (include/record.h: se_record_parse): top-level
 * _acp_system_metadata hidden, duplicate keys the last value.
 * Returns 1 evaluated; 0 "not sure", for shapes too rare to read here (a
 * top-level xdm:identityMap/xdm:segmentMembership/xdm:timestamp, xdm: keys
 * inside identityMap items or segmentMembership entries, a profile that is
 * not an object): the caller evaluates the json-c trees (se_segdefs_apply);
 * -1 out of memory, with a message in err.  An answer of 1 is always the
 * tree path's answer.  Nothing is changed: see se_segdefs_edit. */
int se_segdefs_eval_tape(const se_segdefs *d, const se_tape *profile,
                         const se_tape *const *events, size_t nevents, int64_t now_ms,
                         bool *match, char *err, size_t errlen);

/* Whether se_segdefs_edit(d, tree of profile, match, ...) would change the
 * profile at all (profile as in se_segdefs_eval_tape, normalized meaning).
 * False only when it surely would not: every matching definition's entry is
 * already {"status":"realized"} with a non-null lastQualificationTime, and no
 * other definition has an entry.  When unsure, true. */
bool se_segdefs_edit_changes(const se_segdefs *d, const se_tape *profile, const bool *match);

/* Rewrites profile's segmentMembership from match[i] (definition i matched),
 * evaluated before on the stored memberships (so inSegment() sees the
 * input's memberships, whatever the file order):
 *   match, stored status realized/existing -> status "realized", the stored
 *          lastQualificationTime kept (now when it has none);
 *   match, otherwise                        -> {"status":"realized",
 *          "lastQualificationTime": now};
 *   no match, stored realized/existing      -> status "exited",
 *          lastQualificationTime now;
 *   no match, otherwise                     -> the entry is removed.
 * Other keys of a kept entry are kept.  Entries without a definition are left
 * alone.  A namespace object (and segmentMembership itself) emptied by a
 * removal is removed; missing or non-object containers are created (replaced)
 * when an entry must be written.  now_ms is the job's creation time.
 * 0, or -1 with a message in err (profile not an object, out of memory). */
int se_segdefs_edit(const se_segdefs *d, json_object *profile, const bool *match, int64_t now_ms,
                    char *err, size_t errlen);

/* Recomputes profile's segmentMembership for every definition (SPEC §8):
 * all definitions evaluated on the tree (printed into tapes: a fallback and
 * test path), then se_segdefs_edit.  0, or -1 with a message in err. */
int se_segdefs_apply(const se_segdefs *d, json_object *profile, json_object *const *events,
                     size_t nevents, int64_t now_ms, char *err, size_t errlen);

#endif
