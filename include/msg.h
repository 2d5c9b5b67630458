#ifndef SEGEXPORT_MSG_H
#define SEGEXPORT_MSG_H
/* The one place that prints diagnostics: "segexport: ..." lines on stderr.
 * Lower layers never print; they return a status and keep a message, and the
 * CLI layer calls these.  Each message is escaped (se_escape_bytes) before it
 * is written: one line, no terminal sequence, whatever bytes %s brought in. */
#include <stddef.h>

extern int se_verbosity; /* -1 quiet, 0 normal, 1 verbose */

void se_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void se_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* suppressed by -q */
void se_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* only with -v */

/* fn (or NULL) runs before each message is printed: the progress display
 * clears its redrawn line there, so that a message never lands inside it. */
void se_msg_set_prelude(void (*fn)(void));

/* Escapes s[0..n) into out (at most outlen bytes with the NUL; outlen 0: only
 * measure): newline as \n, tab as \t, ESC and every other control byte, C1
 * controls and bytes of invalid UTF-8 as \xNN, and, when backslash is set,
 * backslash as \\.  Valid printable UTF-8 passes.  Returns the escaped length
 * (without the NUL), whether or not it fitted. */
size_t se_escape_bytes(char *out, size_t outlen, const char *s, size_t n, int backslash);

/* se_escape_bytes of a whole string, backslashes escaped: malloc'd, or NULL. */
char *se_escape_str(const char *s);

#endif
