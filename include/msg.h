#ifndef SEGEXPORT_MSG_H
#define SEGEXPORT_MSG_H
/* The one place that prints diagnostics: "segexport: ..." lines on stderr.
 * Lower layers never print; they return a status and keep a message, and the
 * CLI layer calls these. */

extern int se_verbosity; /* -1 quiet, 0 normal, 1 verbose */

void se_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void se_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* suppressed by -q */
void se_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* only with -v */
void se_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* --progress lines, even with -q */

#endif
