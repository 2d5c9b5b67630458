#ifndef SEGEXPORT_KEYED_H
#define SEGEXPORT_KEYED_H
/* The keyed stream's bad-record line (SPEC §9: `key` passes bad records on).
 *
 * `segexport key` prints a bad input record not as KEY<TAB>RECORD but as
 *
 *   <TAB>{"segexport:badRecord":{"seq":"00000000000000000007","input":"dump.json","line":7,"reason":"no identity"}}
 *
 * - the key is empty, which no record's key is (a key always holds a ':'), so
 *   bytewise sorting puts every bad-record line first, before any profile:
 *   it never splits a group, and `run --keyed` reports them before the rows;
 * - seq is the record's ordinal in key's input, 20 digits, so that even a sort
 *   that is not stable (no -s: the whole line breaks ties) keeps them in
 *   input order, and errors[] lists them in the order a plain run does;
 * - input, line and reason are what a plain run reports: errors[] then says
 *   "dump.json:7: no identity" in both.
 * `run --keyed` counts each such line as one input record and one bad record. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SE_KEYED_BAD "segexport:badRecord"

/* Writes the line (with its newline) to f.  0, or -1 on a write error or out of memory. */
int se_keyed_bad_write(FILE *f, uint64_t seq, const char *input, uint64_t line, const char *reason);

/* Reads RECORD (the text after the empty key and its TAB, len bytes).  True
 * when it is such a line: then "INPUT:LINE: REASON" is in msg (truncated to
 * msglen).  False when it is anything else. */
bool se_keyed_bad_read(const char *rec, size_t len, char *msg, size_t msglen);

#endif
