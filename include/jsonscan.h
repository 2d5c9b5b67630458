#ifndef SEGEXPORT_JSONSCAN_H
#define SEGEXPORT_JSONSCAN_H
/* What json-c 0.16 accepts but silently changes: an integer outside
 * [INT64_MIN, UINT64_MAX] is clamped to the nearest bound, and an object key
 * holding the escape \u0000 is cut at the NUL.  se_json_hazard scans the text
 * of a document json-c has just accepted (so it is well-formed JSON) for
 * either; the callers treat a hit as an error rather than export changed data. */
#include <stddef.h>

/* 0 when text[0..len) holds neither; else -1 with *why ("integer out of range"
 * or "NUL character in an object key", static) and *off the hazard's offset. */
int se_json_hazard(const char *text, size_t len, const char **why, size_t *off);

#endif
