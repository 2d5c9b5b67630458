/* Diagnostics on stderr, "segexport: " first.  The only module that prints them.
 *
 * Every message is one line and never a terminal sequence, whatever bytes the
 * input, a file name, an archive member name or an argument put into it: the
 * formatted text goes through se_escape_bytes before it is written (newline as
 * \n, tab as \t, ESC as \x1b, every other control byte, C1 control and invalid
 * UTF-8 byte as \xNN).  Doing it here, once, covers every call site, including
 * those that interpolate untrusted bytes with a plain %s.  A backslash already
 * in the text is left alone (messages quote "\u" escapes literally); an input
 * that holds the four characters \x1b therefore reads like one that holds ESC,
 * which is harmless.  se_escape_str gives the same escaping, plus backslash as
 * \\, for text that must read back unambiguously. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "msg.h"

int se_verbosity = 0;
static void (*prelude)(void);

void se_msg_set_prelude(void (*fn)(void))
{
    prelude = fn;
}


static void vsay(const char *tag, const char *fmt, va_list ap)
{
    char buf[2048], *text = buf, *esc;
    va_list aq;
    int n;

    va_copy(aq, ap);
    n = vsnprintf(buf, sizeof buf, fmt, aq);
    va_end(aq);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf && vasprintf(&text, fmt, ap) < 0)
        text = buf; /* out of memory: the message is cut, still escaped */
    size_t len = strlen(text), need = se_escape_bytes(NULL, 0, text, len, 0);
    if (need == len) {
        esc = text; /* the usual case: nothing to escape */
    } else if (!(esc = malloc(need + 1))) {
        esc = text;
        for (char *q = esc; *q; q++) /* out of memory: blunter, still safe */
            if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
                *q = '?';
    } else {
        se_escape_bytes(esc, need + 1, text, len, 0);
    }
    if (prelude)
        prelude();
    fputs("segexport: ", stderr);
    if (tag)
        fputs(tag, stderr);
    fputs(esc, stderr);
    fputc('\n', stderr);
    if (esc != text)
        free(esc);
    if (text != buf)
        free(text);
}

void se_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(NULL, fmt, ap);
    va_end(ap);
}

void se_warn(const char *fmt, ...)
{
    va_list ap;
    if (se_verbosity < 0)
        return;
    va_start(ap, fmt);
    vsay("warning: ", fmt, ap);
    va_end(ap);
}

void se_info(const char *fmt, ...)
{
    va_list ap;
    if (se_verbosity < 1)
        return;
    va_start(ap, fmt);
    vsay(NULL, fmt, ap);
    va_end(ap);
}
