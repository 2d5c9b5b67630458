#ifndef SEGEXPORT_PROJECT_H
#define SEGEXPORT_PROJECT_H
/* Field projection (SPEC §6): "a.b, c" onto a JSON object. */
#include <json-c/json.h>

typedef struct se_proj se_proj;

/* Compiles a comma-separated list of dot paths (blanks around commas ignored,
 * empty items skipped).  Sets *out to NULL when the list selects the whole
 * record (fields NULL, empty or only blanks/commas).  Returns 0, or -1 on out of
 * memory. */
int se_proj_compile(const char *fields, se_proj **out);
void se_proj_free(se_proj *pj); /* accepts NULL */

/* A new object holding the selected paths of src (an object).  A path through an
 * array applies to each element object (non-object elements and elements lacking
 * the path are left out); missing paths are omitted; a path and its prefix: the
 * prefix wins; never an empty container, except the top-level result, which can
 * be {}.  pj NULL returns a new reference to src.  NULL only on out of memory.
 * Subtrees may be shared with src (reference counted). */
json_object *se_proj_apply(const se_proj *pj, json_object *src);

#endif
