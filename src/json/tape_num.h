#ifndef SEGEXPORT_TAPE_NUM_H
#define SEGEXPORT_TAPE_NUM_H
/* Private to src/json/tape.c: the number checks its long way needs
 * (tape_num.c). */
#include <stdbool.h>
#include <stddef.h>

/* Is the integer text s[0..n) (optional '-', digits) outside
 * [INT64_MIN, UINT64_MAX]?  Leading zeros count. */
bool se_tape_int_out_of_range(const unsigned char *s, size_t n);
/* Whether s[0..n) is what strtod reads whole. */
bool se_tape_double_ok(const unsigned char *s, size_t n);
/* Whether s[0..n) is an RFC 8259 number. */
bool se_tape_rfc_number(const unsigned char *s, size_t n);

#endif
