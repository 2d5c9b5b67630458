#ifndef SEGEXPORT_TAPE_NUM_H
#define SEGEXPORT_TAPE_NUM_H
/* Private to src/json/tape.c: numbers' long way and the checks it needs
 * (tape_num.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is the integer text s[0..n) (optional '-', digits) outside
 * [INT64_MIN, UINT64_MAX]?  Leading zeros count. */
bool se_tape_int_out_of_range(const unsigned char *s, size_t n);
/* Whether s[0..n) is what strtod reads whole. */
bool se_tape_double_ok(const unsigned char *s, size_t n);
/* Whether s[0..n) is an RFC 8259 number. */
bool se_tape_rfc_number(const unsigned char *s, size_t n);

/* An integer's text d[0..n) (-?D+): NULL when json-c takes it whole, else
 * the reason ("malformed JSON": a leading zero on a non-zero one; "integer
 * out of range"). */
const char *se_tape_int_checks(const unsigned char *d, size_t n);

/* The number at p in s[0..len) (inside a container when nested) as json-c
 * 0.16 reads one, for what tape.c's short way does not take: its end and
 * *flags (tape.h's SE_TF_DBL, SE_TF_INF), or NULL with the reason in *why
 * and its offset in *at. */
const unsigned char *se_tape_scan_number(const unsigned char *s, size_t len,
                                         const unsigned char *p, bool nested, uint8_t *flags,
                                         const char **why, size_t *at);

#endif
