#ifndef SEGEXPORT_JSONSCAN_H
#define SEGEXPORT_JSONSCAN_H
/* What json-c 0.16 accepts but silently changes: an integer outside
 * [INT64_MIN, UINT64_MAX] is clamped to the nearest bound, and an object key
 * holding the escape \u0000 is cut at the NUL.  se_json_hazard scans the text
 * of a document json-c has just accepted (so it is well-formed JSON) for
 * either; the callers treat a hit as an error rather than export changed data. */
#include <stddef.h>
#include <json-c/json.h>

/* ... and a lone or reversed surrogate escape (\ud800 alone, \udc00 first) is
 * turned into U+FFFD, so distinct ids would merge: that is a hazard too. */
#define SE_JSON_LONE_SURROGATE "invalid \\u escape: lone surrogate"

/* 0 when text[0..len) holds none; else -1 with *why ("integer out of range",
 * "NUL character in an object key" or SE_JSON_LONE_SURROGATE, static) and
 * *off the hazard's offset. */
int se_json_hazard(const char *text, size_t len, const char **why, size_t *off);

/* Parses text[0..len) — a whole job definition or definitions file — as
 * exactly one JSON value, whitespace around it allowed, into *out (a new
 * reference; NULL for the text "null").  Strict JSON, valid UTF-8, and
 * se_json_hazard's checks.  -1 with a one-line message in err:
 * "malformed JSON at line L: <reason>" or "out of memory". */
int se_json_parse_document(const char *text, size_t len, json_object **out, char *err, size_t errlen);

/* json_object_object_add that takes a value just made (NULL when its
 * allocation failed) and releases it on failure: 0, or -1 (out of memory).
 * So building an object is one chain of calls with one failure path. */
int se_json_add(json_object *o, const char *key, json_object *v);

#endif
