/* See jsonscan.h.  One pass over well-formed JSON text, no allocation. */
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
                    if (i + 6 <= len && memcmp(text + i + 2, "0000", 4) == 0)
                        nul = true;
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
