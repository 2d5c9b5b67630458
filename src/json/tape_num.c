/* The tape parser's rarer number checks (tape.c's long way for numbers). */
#include "tape_num.h"

#include <string.h>

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10;
}

/* Is the integer text s[0..n) (optional '-', digits) outside
 * [INT64_MIN, UINT64_MAX]?  Leading zeros count, as in jsonscan.c. */
bool se_tape_int_out_of_range(const unsigned char *s, size_t n)
{
    static const char umax[] = "18446744073709551615";
    static const char imin[] = "9223372036854775808";
    bool neg = n > 0 && s[0] == '-';
    const unsigned char *d = neg ? s + 1 : s;
    size_t nd = neg ? n - 1 : n;
    const char *lim = neg ? imin : umax;
    size_t nl = neg ? sizeof imin - 1 : sizeof umax - 1;
    if (nd != nl)
        return nd > nl;
    return memcmp(d, lim, nl) > 0;
}

/* Whether s[0..n) is what strtod reads whole: -?(D+(.D*)?|.D+)([eE][+-]?D+)? */
bool se_tape_double_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && s[i] == '-')
        i++;
    while (i < n && is_digit(s[i]))
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < n && is_digit(s[i]))
            i++, e++;
        if (e == 0)
            return false;
    }
    return i == n;
}

/* Whether s[0..n) is an RFC 8259 number: -?(0|[1-9]D*)(.D+)?([eE][+-]?D+)? */
bool se_tape_rfc_number(const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return false;
    if (s[i] == '0' && i + 1 < n && is_digit(s[i + 1]))
        return false;
    while (i < n && is_digit(s[i]))
        i++;
    if (i < n && s[i] == '.') {
        if (++i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}
