#ifndef SEGEXPORT_TAPEDOM_H
#define SEGEXPORT_TAPEDOM_H
/* A json-c tree from a tape: the very tree json-c's own parser builds from
 * the same text (same values, same key order, duplicates resolved alike;
 * doubles keep their text).  For the consumers that still read json-c trees. */
#include <json-c/json.h>
#include "tape.h"

/* The value of token i as a new json-c object (NULL for JSON null).  On out of
 * memory returns NULL and sets *oom (left alone otherwise). */
json_object *se_tape_to_json(const se_tape *tp, uint32_t i, bool *oom);

#endif
