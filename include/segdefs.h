#ifndef SEGEXPORT_SEGDEFS_H
#define SEGEXPORT_SEGDEFS_H
/* Segment definitions (--segment-definitions FILE) and their evaluation on a
 * merged profile (SPEC §8).  FILE holds a JSON array of AEP segment
 * definitions {id, name?, namespace?, expression:{type:"PQL",
 * format:"pql/text", value}}, or the API's list {"segments":[...], ...}.
 * Every expression is compiled when the file is loaded (docs/pql.md), so an
 * unsupported one is an invalid definitions file (exit 3), never evaluated. */
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

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

/* Recomputes profile's segmentMembership for every definition (SPEC §8).
 * All definitions are evaluated first, on the stored memberships (so
 * inSegment() sees the input's memberships, whatever the file order), then:
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
int se_segdefs_apply(const se_segdefs *d, json_object *profile, json_object *const *events,
                     size_t nevents, int64_t now_ms, char *err, size_t errlen);

#endif
