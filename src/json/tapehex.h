#ifndef SEGEXPORT_TAPEHEX_H
#define SEGEXPORT_TAPEHEX_H
/* Private to src/json/tape.c (the parser) and tape_read.c (the readers): the
 * 4 hex digits of a \u escape. */

static inline int se_tape_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at s[0..4) (in bounds: checked by the caller), or -1. */
static inline int se_tape_hex4(const unsigned char *s)
{
    int a = se_tape_hexval(s[0]), b = se_tape_hexval(s[1]), c = se_tape_hexval(s[2]),
        d = se_tape_hexval(s[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return a << 12 | b << 8 | c << 4 | d;
}

#endif
