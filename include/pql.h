#ifndef SEGEXPORT_PQL_H
#define SEGEXPORT_PQL_H
/* PQL (pql/text) segment conditions: compiled once, evaluated on each merged
 * profile and its ExperienceEvents.  The language, its semantics and what is
 * rejected (computed attributes, ranking formulas, unknown functions) are
 * described in docs/pql.md.  A rejected expression fails se_pql_compile with
 * a message naming the position, e.g. "pql: unsupported function 'median' at
 * column 14"; it is never evaluated approximately. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

typedef struct se_pql se_pql;

/* Compiles text (NUL-terminated).  0 and *out (free with se_pql_free), or -1
 * with a one-line message in err starting "pql: " and naming the column (and
 * the line, when the text has several) of the offending token. */
int se_pql_compile(const char *text, se_pql **out, char *err, size_t errlen);

void se_pql_free(se_pql *q); /* accepts NULL */

/* Evaluates q on profile (the merged profile object, unprefixed keys) and its
 * events (ExperienceEvent objects; NULL entries are skipped), with now_ms the
 * job's creation time (PQL's `now`; `today` is the start of its UTC day).
 * 0 and *match, or -1 on out of memory (*match false). */
int se_pql_eval(const se_pql *q, json_object *profile, json_object *const *events,
                size_t nevents, int64_t now_ms, bool *match);

/* The text q was compiled from. */
const char *se_pql_text(const se_pql *q);

#endif
