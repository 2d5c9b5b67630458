#ifndef SEGEXPORT_PROJECT_H
#define SEGEXPORT_PROJECT_H
/* Field projection (SPEC §6): "a.b, c" onto a JSON object. */
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "tape.h"

typedef struct se_proj se_proj;

/* Compiles a comma-separated list of dot paths (blanks around commas ignored,
 * empty items skipped).  Sets *out to NULL when the list selects the whole
 * record (fields NULL, empty or only blanks/commas).  Returns 0, or -1 on out of
 * memory. */
int se_proj_compile(const char *fields, se_proj **out);
void se_proj_free(se_proj *pj); /* accepts NULL */

/* The top-level names pj selects under, i from 0 (NULL past the last):
 * a row reads nothing else of the profile. */
const char *se_proj_top_name(const se_proj *pj, size_t i);

/* A new object holding the selected paths of src (an object).  A path through an
 * array applies to each element object (non-object elements and elements lacking
 * the path are left out); missing paths are omitted; a path and its prefix: the
 * prefix wins; never an empty container, except the top-level result, which can
 * be {}.  pj NULL returns a new reference to src.  NULL only on out of memory.
 * Subtrees may be shared with src (reference counted). */
json_object *se_proj_apply(const se_proj *pj, json_object *src);

/* The row of a profile made of one fragment, straight from the fragment's
 * tape tp (a record se_record_parse accepts): appends to *buf (length *len,
 * capacity *cap, grown with realloc) exactly the bytes json-c prints
 * (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE) for se_proj_apply(pj, merged),
 * merged being se_profile_assemble's profile of that fragment alone
 * (timestampOrdered).  pj NULL: the whole profile.  Returns 1; 0 when not
 * sure (an xdm: spelling the normalization renames, identity items it folds
 * by deep equality): *len unchanged, build the tree; -1 on out of memory. */
int se_proj_tape_row(const se_proj *pj, const se_tape *tp, char **buf, size_t *len, size_t *cap);

/* The same for an event's entry in timeSeriesEvents: se_proj_apply(pj,
 * event) for the event as se_record_parse normalizes it (identity items are
 * not folded).  Same returns. */
int se_proj_tape_event_row(const se_proj *pj, const se_tape *tp, char **buf, size_t *len, size_t *cap);

/* The whole profile's row (se_proj_tape_row with pj NULL) with top-level
 * member key's value written as vtext[0..vlen) (a JSON text as json-c
 * prints it): in its place when tp has the member and not last, else last
 * (where json-c adds a new member); vtext NULL leaves the member out.  key
 * needs no escaping.  Same returns. */
int se_proj_tape_whole_with(const se_tape *tp, const char *key, const char *vtext, size_t vlen,
                            bool last, char **buf, size_t *len, size_t *cap);

/* Whether a record's tape needs none of se_record_parse's renaming (no xdm:
 * spelling at the top level or in a segmentMembership entry): then its tape
 * reads as the normalized record (duplicate keys: the last value). */
bool se_proj_tape_normal(const se_tape *tp);

#endif
