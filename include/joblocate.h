#ifndef SEGEXPORT_JOBLOCATE_H
#define SEGEXPORT_JOBLOCATE_H
/* Where in a JSON document a message belongs, for messages that name the
 * file and line ("job.json:3: filter.segments[0].status[0]: ...").  Pure
 * functions over the document's text; nothing prints. */
#include <stddef.h>

/* The 1-based line of the value at path ("filter.segments[1].status[0]";
 * "" is the root) in the JSON text[0..len), or of the deepest part of the
 * path that exists (a missing key: its object).  0 when not even the root
 * can be found (the text is not JSON). */
size_t se_json_path_line(const char *text, size_t len, const char *path);

/* Rewrites a job-definition error from se_job_parse (or another parser of a
 * JSON file that words its errors the same way: "malformed JSON at line L:
 * why" or "json.path: why") as "NAME:LINE: ..." into out. */
void se_json_locate_error(const char *name, const char *text, size_t len, const char *err,
                          char *out, size_t outlen);

/* Rewrites "NAME: why" from the parser of a JSON file's text[0..len)
 * (--merge-policies, --segment-definitions: se_mp_registry_parse,
 * se_segdefs_parse) as "NAME:LINE: why" into out: the line of the JSON path
 * that starts why, of the line a malformed-JSON error names, or, for
 * 'segment "ID": ...', of that segment's expression.  Unchanged when the line
 * cannot be found. */
void se_json_locate_defs_error(const char *name, const char *text, size_t len, const char *err,
                               char *out, size_t outlen);

/* For an unknown key of a job definition (its full path, "destination.dataSetId"),
 * the known key it was probably meant to be, as a full path
 * ("destination.datasetId"), into buf; NULL when none is near. */
const char *se_job_key_suggest(const char *path, char *buf, size_t buflen);

#endif
