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

#include "tape.h"

typedef struct se_pql se_pql;

/* Compiles text (NUL-terminated).  0 and *out (free with se_pql_free), or -1
 * with a one-line message in err starting "pql: " and naming the column (and
 * the line, when the text has several) of the offending token. */
int se_pql_compile(const char *text, se_pql **out, char *err, size_t errlen);

void se_pql_free(se_pql *q); /* accepts NULL */

/* Evaluates q on profile (the merged profile's tape, token 0) and its events
 * (ExperienceEvent tapes; NULL entries are skipped), with now_ms the job's
 * creation time (PQL's `now`; `today` is the start of its UTC day).  raw
 * false: the tapes are normalized texts (se_record_parse's normalization,
 * include/record.h), read literally.  raw true: they are raw records that
 * se_pql_tape_plain accepted, read in their normalized meaning (each
 * top-level _acp_system_metadata hidden).  0 and *match, or -1 on out of
 * memory (*match false).  The one evaluator: se_pql_eval comes here. */
int se_pql_eval_tape(const se_pql *q, const se_tape *profile, const se_tape *const *events,
                     size_t nevents, int64_t now_ms, bool raw, bool *match);

/* Whether raw record tape tp reads as its normalization but for its
 * top-level _acp_system_metadata: no top-level xdm:identityMap,
 * xdm:segmentMembership or xdm:timestamp, no xdm:id/xdm:primary/
 * xdm:authenticatedState in an identityMap item, no "xdm:" key in a
 * segmentMembership entry (keys written with escapes there count as such). */
bool se_pql_tape_plain(const se_tape *tp);

/* se_pql_eval_tape on json-c trees (normalized records), printed and parsed
 * into tapes first: a fallback and test path. */
int se_pql_eval(const se_pql *q, json_object *profile, json_object *const *events,
                size_t nevents, int64_t now_ms, bool *match);

/* A tree as a tape: *text (malloc'd, free it after the tape) printed from j
 * and parsed into tp (initialized by the caller).  0, or -1 (out of memory,
 * or a tree no record could give). */
int se_pql_tape_of(json_object *j, se_tape *tp, char **text);

/* The text q was compiled from. */
const char *se_pql_text(const se_pql *q);

#endif
