/* Diagnostics on stderr, "segexport: " first.  The only module that prints them. */
#include <stdarg.h>
#include <stdio.h>
#include "msg.h"

int se_verbosity = 0;

static void vsay(const char *tag, const char *fmt, va_list ap)
{
    fputs("segexport: ", stderr);
    if (tag)
        fputs(tag, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
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

void se_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(NULL, fmt, ap);
    va_end(ap);
}
