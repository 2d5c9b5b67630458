/* The tape parser's rarer number checks (tape.c's long way for numbers). */
#include "tape_num.h"

#include "tape.h"

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

/* An integer's checks once its text d[0..n) (-?D+) is known: a non-negative
 * one with a leading zero must be 0 (json-c takes "00" and "-01"), and it
 * must fit [INT64_MIN, UINT64_MAX]. */
const char *se_tape_int_checks(const unsigned char *d, size_t n)
{
    if (d[0] == '0')
        for (size_t k = 1; k < n; k++)
            if (d[k] != '0')
                return "malformed JSON";
    if (n >= 19 && se_tape_int_out_of_range(d, n))
        return "integer out of range";
    return NULL;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A number at p, as json-c 0.16 reads one: it takes the longest run of
 * number characters (digits; one 'e'/'E'; '-' first or after '.'/'e'; '+'
 * after '.'/'e'; one '.' before any 'e'), then inside a container demands a
 * delimiter, then converts: an integer with strtoll/strtoull (a non-negative
 * one with a leading zero must be 0), a double with strtod, whole. */
const unsigned char *se_tape_scan_number(const unsigned char *s, size_t len,
                                         const unsigned char *p, bool nested, uint8_t *flags,
                                         const char **why, size_t *at)
{
    size_t start = (size_t)(p - s), i = start;
    bool neg_ok = true, pos_ok = false, dbl = false, exp = false;
    *why = "malformed JSON";
    while (i < len) {
        unsigned char c = s[i];
        if (is_digit(c)) {
            neg_ok = pos_ok = false;
        } else if ((c == 'e' || c == 'E') && !exp) {
            exp = dbl = true;
            neg_ok = pos_ok = true;
        } else if ((c == '-' && neg_ok) || (c == '+' && pos_ok)) {
            neg_ok = pos_ok = false;
        } else if (c == '.' && !dbl) {
            dbl = true;
            neg_ok = pos_ok = true;
        } else {
            break;
        }
        i++;
    }
    size_t n = i - start;
    if (i < len && nested) {
        unsigned char c = s[i];
        if (c != ',' && c != ']' && c != '}' && c != '/' && c != 'I' && c != 'i' && !is_ws(c)) {
            *at = i;
            return NULL;
        }
    }
    if (n == 1 && s[start] == '-' && i < len && (s[i] == 'I' || s[i] == 'i')) {
        if (len - i < 8 || memcmp(s + i, "Infinity", 8) != 0) {
            *at = i;
            return NULL;
        }
        *flags = SE_TF_DBL | SE_TF_INF;
        return s + i + 8;
    }
    *at = start;
    if (dbl) {
        if (!se_tape_double_ok(s + start, n))
            return NULL;
        *flags = SE_TF_DBL;
    } else {
        if (n == 1 && s[start] == '-')
            return NULL;
        if ((*why = se_tape_int_checks(s + start, n)) != NULL)
            return NULL;
        *flags = 0;
    }
    return s + i;
}
