/* Input bytes made safe for one line of a terminal or a log (escape.h). */
#include "escape.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n) (2-4), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not) or it
 * encodes a C1 control (U+0080-U+009F, which some terminals obey). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
        return 0;
    return len;
}

size_t se_escape_bytes(char *out, size_t outlen, const char *s, size_t n, int backslash)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        char e[4];
        size_t k = 0, seq = 0;
        unsigned c = p[i];

        if (c == '\n') {
            e[0] = '\\'; e[1] = 'n'; k = 2;
        } else if (c == '\t') {
            e[0] = '\\'; e[1] = 't'; k = 2;
        } else if (c == '\\' && backslash) {
            e[0] = '\\'; e[1] = '\\'; k = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            e[0] = (char)c; k = 1;
        } else if (c >= 0x80 && (seq = utf8_seq(p + i, n - i)) > 0) {
            if (outlen && o + seq < outlen)
                memcpy(out + o, p + i, seq);
            o += seq;
            i += seq;
            continue;
        } else {
            e[0] = '\\'; e[1] = 'x'; e[2] = hex[c >> 4]; e[3] = hex[c & 15]; k = 4;
        }
        for (size_t j = 0; j < k; j++, o++)
            if (outlen && o + 1 < outlen)
                out[o] = e[j];
        i++;
    }
    if (outlen)
        out[o < outlen ? o : outlen - 1] = '\0';
    return o;
}

char *se_escape_str(const char *s)
{
    size_t n = strlen(s), need = se_escape_bytes(NULL, 0, s, n, 1);
    char *out = malloc(need + 1);

    if (out)
        se_escape_bytes(out, need + 1, s, n, 1);
    return out;
}
