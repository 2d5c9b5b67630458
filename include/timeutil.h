#ifndef SEGEXPORT_TIMEUTIL_H
#define SEGEXPORT_TIMEUTIL_H
/* Time values are int64_t milliseconds since the Unix epoch, UTC. */
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Parses an RFC 3339 timestamp: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM).
 * Digits beyond milliseconds are dropped (truncated, not rounded).  Checks field
 * ranges (month, day of month incl. leap years, 00-23, 00-59, seconds 00-60).
 * Returns 0 and sets *ms, or -1 when s is not such a timestamp (the whole string
 * must match; nothing is written then). */
int se_time_parse(const char *s, int64_t *ms);

/* The same over s[0..n) (no terminator needed): the whole of it must match,
 * so a NUL byte inside is never accepted.  The canonical forms
 * (YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)) take a fast path; the others
 * the full grammar, with the same results. */
int se_time_parse_n(const char *s, size_t n, int64_t *ms);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (n >= 32 always suffices). */
void se_time_format(int64_t ms, char *buf, size_t n);

/* The job clock: SOURCE_DATE_EPOCH * 1000 when that variable holds a valid
 * non-negative integer, else the wall clock.  Every time the job reports comes
 * from here, so reproducible runs give identical JSON. */
int64_t se_now_ms(void);

/* 1 when SOURCE_DATE_EPOCH is set and valid, else 0. */
int se_reproducible(void);

/* A time held in JSON: an RFC 3339 string or an integer of epoch ms (as
 * lastQualificationTime and ingestTime may be).  0 and *ms, or -1. */
int se_time_from_json(json_object *v, int64_t *ms);

/* The proleptic Gregorian calendar (H. Hinnant's algorithms), for date
 * arithmetic: days since 1970-01-01 of y-m-d (m 1..12, d 1..31), its
 * inverse, and the length of a month. */
int64_t se_days_from_civil(int64_t y, unsigned m, unsigned d);
void se_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
unsigned se_days_in_month(int64_t y, unsigned m);

#endif
