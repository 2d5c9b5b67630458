/* See jsonscan.h.  One pass over well-formed JSON text, no allocation. */
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include "jsonscan.h"

#include <stdbool.h>
#include <string.h>

/* Is the decimal integer token s[0..n) (optional '-', digits) outside
 * [INT64_MIN, UINT64_MAX]?  Leading zeros cannot occur in valid JSON. */
static bool int_out_of_range(const char *s, size_t n)
{
    static const char umax[] = "18446744073709551615"; /* UINT64_MAX, 20 digits */
    static const char imin[] = "9223372036854775808";  /* -INT64_MIN, 19 digits */
    bool neg = n > 0 && s[0] == '-';
    const char *d = neg ? s + 1 : s;
    size_t nd = neg ? n - 1 : n;
    const char *lim = neg ? imin : umax;
    size_t nl = neg ? sizeof imin - 1 : sizeof umax - 1;
    if (nd != nl)
        return nd > nl;
    return memcmp(d, lim, nl) > 0;
}

/* The value of the 4 hex digits at text[at..at+4), or -1. */
static int hex4(const char *text, size_t len, size_t at)
{
    int v = 0;
    if (at + 4 > len)
        return -1;
    for (size_t k = at; k < at + 4; k++) {
        char c = text[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

int se_json_hazard(const char *text, size_t len, const char **why, size_t *off)
{
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == '"') {
            size_t start = i++;
            bool nul = false;
            while (i < len) {
                /* Strings are most of a record: skip to the next quote with
                 * memchr, then look for escapes before it. */
                const char *q = memchr(text + i, '"', len - i);
                size_t qi = q ? (size_t)(q - text) : len;
                const char *b = memchr(text + i, '\\', qi - i);
                if (!b) {
                    i = qi;
                    break;
                }
                i = (size_t)(b - text);
                if (i + 1 < len && text[i + 1] == 'u') {
                    int u = hex4(text, len, i + 2);
                    if (u == 0)
                        nul = true;
                    /* json-c turns a lone or reversed surrogate into U+FFFD:
                     * two different ids would become one.  A high surrogate
                     * must be followed by a low one; a low one alone is lone. */
                    if (u >= 0xd800 && u <= 0xdbff) {
                        int lo = i + 7 < len && text[i + 6] == '\\' && text[i + 7] == 'u'
                                     ? hex4(text, len, i + 8) : -1;
                        if (lo < 0xdc00 || lo > 0xdfff) {
                            *why = SE_JSON_LONE_SURROGATE;
                            *off = i;
                            return -1;
                        }
                        i += 6;
                    } else if (u >= 0xdc00 && u <= 0xdfff) {
                        *why = SE_JSON_LONE_SURROGATE;
                        *off = i;
                        return -1;
                    }
                    i += 6;
                } else {
                    i += 2;
                }
            }
            i++; /* the closing quote */
            if (nul) {
                size_t j = i;
                while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n'))
                    j++;
                if (j < len && text[j] == ':') {
                    *why = "NUL character in an object key";
                    *off = start;
                    return -1;
                }
            }
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i++;
            bool integer = true;
            while (i < len) {
                char d = text[i];
                if (d >= '0' && d <= '9') {
                    i++;
                } else if (d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-') {
                    integer = false;
                    i++;
                } else {
                    break;
                }
            }
            /* Only a long token can be out of range: 19 digits at the least. */
            if (integer && i - start >= 19 && int_out_of_range(text + start, i - start)) {
                *why = "integer out of range";
                *off = start;
                return -1;
            }
            continue;
        }
        i++;
    }
    return 0;
}

/* ---- whole documents (job definitions, definition files) --------------- */

static int doc_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int doc_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 when text[0..end) is the JSON literal null, with optional whitespace. */
static int is_json_null(const char *text, size_t end)
{
    size_t i = 0;
    while (i < end && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    return end - i >= 4 && memcmp(text + i, "null", 4) == 0;
}

static size_t line_at(const char *text, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

/* Parses text[0..len) as exactly one JSON value (whitespace around it allowed)
 * into *out (NULL for the JSON text "null").  -1 with err set ("malformed JSON
 * at line L: ...") on failure. */
int se_json_parse_document(const char *text, size_t len, json_object **out, char *err, size_t errlen)
{
    struct json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;
    size_t off;

    if (len > INT_MAX)
        return doc_fail(err, errlen, "malformed JSON at line 1: document larger than %d bytes", INT_MAX);
    if (!(tok = json_tokener_new()))
        return doc_fail(err, errlen, "out of memory");
    /* We check what follows the value ourselves, for a clearer message. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                    JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    off = json_tokener_get_parse_end(tok);
    if (!o && jerr == json_tokener_continue) {
        /* Input ended inside a value; a value such as a bare number ends only at
         * a delimiter, so hand the tokener an explicit end (a NUL). */
        o = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        off = len;
    }
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(o); /* none expected; be safe */
        return doc_fail(err, errlen, "malformed JSON at line %zu: %s", line_at(text, off),
                    json_tokener_error_desc(jerr));
    }
    /* json-c reports a failed allocation as success with no value, just as it
     * reports the text "null": tell them apart by what was consumed. */
    if (!o && !is_json_null(text, off))
        return doc_fail(err, errlen, "out of memory");
    while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' ||
                         text[off] == '\r'))
        off++;
    if (off < len) {
        json_object_put(o);
        return doc_fail(err, errlen, "malformed JSON at line %zu: trailing content after the JSON value",
                    line_at(text, off));
    }
    {
        /* json-c clamps integers beyond 64 bits and cuts keys at \u0000. */
        const char *hazard;
        size_t hoff;
        if (se_json_hazard(text, len, &hazard, &hoff) != 0) {
            json_object_put(o);
            return doc_fail(err, errlen, "malformed JSON at line %zu: %s", line_at(text, hoff), hazard);
        }
    }
    *out = o;
    return 0;
}


int se_json_add(json_object *o, const char *key, json_object *v)
{
    if (!v)
        return -1;
    if (json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}
