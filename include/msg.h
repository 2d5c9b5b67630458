#ifndef SEGEXPORT_MSG_H
#define SEGEXPORT_MSG_H
/* The one place that prints diagnostics: "segexport: ..." lines on stderr.
 * Lower layers never print; they return a status and keep a message, and the
 * CLI layer calls these.  Each message is escaped (se_escape_bytes) before it
 * is written: one line, no terminal sequence, whatever bytes %s brought in. */
#include "escape.h"
#include <stddef.h>

extern int se_verbosity; /* -1 quiet, 0 normal, 1 verbose */

void se_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void se_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* suppressed by -q */
void se_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* only with -v */

/* fn (or NULL) runs before each message is printed: the progress display
 * clears its redrawn line there, so that a message never lands inside it. */
void se_msg_set_prelude(void (*fn)(void));


#endif
