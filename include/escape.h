#ifndef SEGEXPORT_ESCAPE_H
#define SEGEXPORT_ESCAPE_H
/* Input bytes made safe for one line of a terminal or a log: what every
 * message and errors[].msg goes through. */
#include <stddef.h>

/* Escapes s[0..n) into out (at most outlen bytes with the NUL; outlen 0: only
 * measure): newline as \n, tab as \t, ESC and every other control byte, C1
 * controls and bytes of invalid UTF-8 as \xNN, and, when backslash is set,
 * backslash as \\.  Valid printable UTF-8 passes.  Returns the escaped length
 * (without the NUL), whether or not it fitted. */
size_t se_escape_bytes(char *out, size_t outlen, const char *s, size_t n, int backslash);

/* se_escape_bytes of a whole string, backslashes escaped: malloc'd, or NULL. */
char *se_escape_str(const char *s);

#endif
