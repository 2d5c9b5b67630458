/* timeutil.c -- RFC 3339 timestamps and the job clock.
 *
 * Calendar arithmetic is done here (days-from-civil and back, proleptic
 * Gregorian) rather than with timegm()/gmtime_r(): those depend on the C
 * library's notion of time zones and leap seconds, and the job must give the
 * same instants on every machine. */
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31).
 * H. Hinnant's algorithm; exact for any year representable here. */
int64_t se_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
void se_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned se_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n ASCII digits at *p, before e (isdigit() is
 * locale-dependent; this is not). */
static int digits(const char **p, const char *e, int n, unsigned *out)
{
    unsigned v = 0;
    if (e - *p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* The byte at p, or '\0' at the end e (no field accepts '\0', so a NUL in
 * the text fails the parse wherever it stands, as the end would). */
static char at(const char *p, const char *e)
{
    return p < e ? *p : '\0';
}

/* Days since 1970-01-01 of y-m-d for 0 <= y <= 9999 (four digits) and
 * m 1..12: se_days_from_civil's arithmetic, inline, for the parser.  Its
 * era and year-of-era split adds up to y * 365 + y / 4 - y / 100 + y / 400
 * for a March-based year y >= 0; 400 years (146097 days) more keep year 0's
 * January and February (March-based year -1) non-negative. */
static inline __attribute__((always_inline)) int64_t days_4digit(unsigned y, unsigned m, unsigned d)
{
    /* Days from March 1 to the first of month m: (153 * mp + 2) / 5. */
    static const uint16_t before[13] = {0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275};
    unsigned yy = y + 400 - (m <= 2);
    unsigned days = yy * 365 + yy / 4 - yy / 100 + yy / 400 + before[m] + d - 1;
    return (int64_t)days - 719468 - 146097;
}

/* Checks the fields' ranges and writes the instant (shared by both paths;
 * year has four digits).  Inlined: the fast path's constant zone folds. */
static inline __attribute__((always_inline)) int finish(unsigned year, unsigned mon, unsigned day, unsigned hh, unsigned mm,
                  unsigned ss, unsigned frac, int sign, unsigned oh, unsigned om, int64_t *ms)
{
    if (mon < 1 || mon > 12 || day < 1 || hh > 23 || mm > 59 || ss > 60 || oh > 23 || om > 59)
        return -1;
    if (day > 28 && day > se_days_in_month(year, mon))
        return -1;

    /* A leap second (:60) is taken as :59 plus one second, i.e. the first
     * instant of the next minute: we keep no leap-second table. */
    int64_t secs = days_4digit(year, mon, day) * 86400 + (int64_t)hh * 3600 +
                   (int64_t)mm * 60 + ss;
    secs -= (int64_t)sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    *ms = secs * 1000 + frac;
    return 0;
}

/* The full grammar (timeutil.h), over s[0..n). */
static int parse_full(const char *s, size_t n, int64_t *ms)
{
    unsigned year, mon, day, hh, mm, ss, frac = 0, oh = 0, om = 0;
    int sign = 0;
    const char *p = s, *e = s + n;

    if (digits(&p, e, 4, &year) || at(p++, e) != '-' || digits(&p, e, 2, &mon) ||
        at(p++, e) != '-' || digits(&p, e, 2, &day))
        return -1;
    char c = at(p, e);
    if (c != 'T' && c != 't' && c != ' ')
        return -1;
    p++;
    if (digits(&p, e, 2, &hh) || at(p++, e) != ':' || digits(&p, e, 2, &mm) ||
        at(p++, e) != ':' || digits(&p, e, 2, &ss))
        return -1;
    if (at(p, e) == '.') {
        /* Any number of digits, at least one; keep the first three. */
        int nd = 0;
        p++;
        while (p < e && *p >= '0' && *p <= '9') {
            if (nd < 3)
                frac = frac * 10 + (unsigned)(*p - '0');
            nd++;
            p++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    c = at(p, e);
    if (c == 'Z' || c == 'z') {
        p++;
    } else if (c == '+' || c == '-') {
        sign = c == '-' ? -1 : 1;
        p++;
        if (digits(&p, e, 2, &oh))
            return -1;
        if (at(p, e) == ':')
            p++;
        if (digits(&p, e, 2, &om))
            return -1;
    } else {
        return -1;
    }
    if (p != e)
        return -1;
    return finish(year, mon, day, hh, mm, ss, frac, sign, oh, om, ms);
}

/* The canonical forms, YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM) (20, 24,
 * 25 or 29 bytes: what writers emit), read at fixed places: 0 and *ms, -1
 * not valid, 1 not one of these shapes (ask parse_full, which reads them
 * alike). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Byte i of x * 10 + byte i + 1 (both digits), in byte i. */
static uint64_t pairs(uint64_t x)
{
    return x * 10 + (x >> 8);
}

/* YYYY-MM-DDTHH:MM:SSZ and YYYY-MM-DDTHH:MM:SS.fffZ (by far the most
 * common), a word at a time: 0 and *ms, -1 not valid, 1 not that shape.
 * The three words are checked together (one branch): a byte with a high
 * nibble is caught by the first test, so a carry it sends into the next
 * byte's + 6 changes nothing. */
static inline __attribute__((always_inline)) int parse_z(const char *s, size_t n, int64_t *ms)
{
    const uint64_t d = 0x3030303030303030ULL, hi = 0xf0f0f0f0f0f0f0f0ULL,
                   six = 0x0606060606060606ULL, b4 = 0x1010101010101010ULL;
    const uint64_t m0 = 0x00ffff00ffffffffULL, m1 = 0xffff00ffff00ffffULL;
    uint64_t w0, w1, w2;
    memcpy(&w0, s, 8);      /* YYYY-MM- */
    memcpy(&w1, s + 8, 8);  /* DDTHH:MM */
    memcpy(&w2, s + n - 8, 8);
    /* :SS.fffZ or H:MM:SSZ */
    uint64_t m2 = n == 24 ? 0x00ffffff00ffff00ULL : 0x00ffff00ffff00ffULL;
    uint64_t sep2 = n == 24 ? 0x5a0000002e00003aULL : 0x5a00003a00003a00ULL;
    uint64_t t0 = (w0 ^ d) & m0, t1 = (w1 ^ d) & m1, t2 = (w2 ^ d) & m2;
    uint64_t x = t0 | t1 | t2;
    uint64_t bad = ((w0 & ~m0) ^ 0x2d00002d00000000ULL) | ((w1 & ~m1) ^ 0x00003a0000540000ULL) |
                   ((w2 & ~m2) ^ sep2) | (x & hi) | (((t0 + six) | (t1 + six) | (t2 + six)) & b4);
    if (bad)
        return 1;
    unsigned ss, frac = 0;
    if (n == 24) {
        uint64_t p2 = pairs(t2);
        ss = (unsigned)(p2 >> 8) & 0xff;
        frac = ((unsigned)(p2 >> 32) & 0xff) * 10 + ((unsigned)(t2 >> 48) & 0xff);
    } else {
        ss = (unsigned)(pairs(t2) >> 40) & 0xff;
    }
    uint64_t p0 = pairs(t0), p1 = pairs(t1);
    unsigned year = (unsigned)(p0 & 0xff) * 100 + (unsigned)(p0 >> 16 & 0xff);
    return finish(year, (unsigned)(p0 >> 40 & 0xff), (unsigned)(p1 & 0xff),
                  (unsigned)(p1 >> 24 & 0xff), (unsigned)(p1 >> 48 & 0xff), ss, frac, 0, 0, 0, ms);
}
#endif

static int parse_canonical(const char *s, size_t n, int64_t *ms)
{
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return 1;
    /* Byte minus '0', modulo 256: a digit's is below 10, any other byte's
     * 10..255, and v + 6 then 16..261: bad stays below 16 for digits only. */
    unsigned bad = 0;
#define DIG(i) (v = (unsigned char)((unsigned char)s[i] - '0'), bad |= v + 6, v)
    unsigned v, frac = 0, oh = 0, om = 0;
    int sign = 0;
    size_t z = 19; /* the zone */
    if (s[z] == '.') {
        if (n < 24)
            return 1;
        frac = DIG(20) * 100;
        frac += DIG(21) * 10;
        frac += DIG(22);
        z = 23;
    }
    if (n - z == 1 && s[z] == 'Z') {
        ;
    } else if (n - z == 6 && (s[z] == '+' || s[z] == '-') && s[z + 3] == ':') {
        sign = s[z] == '-' ? -1 : 1;
        oh = DIG(z + 1) * 10;
        oh += DIG(z + 2);
        om = DIG(z + 4) * 10;
        om += DIG(z + 5);
    } else {
        return 1;
    }
    unsigned year = DIG(0) * 1000;
    year += DIG(1) * 100;
    year += DIG(2) * 10;
    year += DIG(3);
    unsigned mon = DIG(5) * 10;
    mon += DIG(6);
    unsigned day = DIG(8) * 10;
    day += DIG(9);
    unsigned hh = DIG(11) * 10;
    hh += DIG(12);
    unsigned mm = DIG(14) * 10;
    mm += DIG(15);
    unsigned ss = DIG(17) * 10;
    ss += DIG(18);
#undef DIG
    if (bad >= 16)
        return 1;
    return finish(year, mon, day, hh, mm, ss, frac, sign, oh, om, ms);
}

/* The other shapes, out of line: the fast path above then needs few
 * registers. */
static __attribute__((noinline)) int parse_slow(const char *s, size_t n, int64_t *ms)
{
    int r = parse_canonical(s, n, ms);
    return r <= 0 ? r : parse_full(s, n, ms);
}

int se_time_parse_n(const char *s, size_t n, int64_t *ms)
{
    int r;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The most common shapes first, with no other work before them. */
    if ((n == 20 || n == 24) && s[n - 1] == 'Z' && (r = parse_z(s, n, ms)) <= 0)
        return r;
#endif
    return parse_slow(s, n, ms);
}

int se_time_parse(const char *s, int64_t *ms)
{
    if (!s)
        return -1;
    return se_time_parse_n(s, strlen(s), ms);
}

void se_time_format(int64_t ms, char *buf, size_t n)
{
    /* Floor division throughout, so instants before 1970 format as the
     * calendar reads them (-1 ms is 1969-12-31T23:59:59.999Z). */
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    se_civil_from_days(days, &y, &m, &d);
    if (n == 0)
        return;
    snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m, d,
             (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
             (unsigned)rem);
}

/* Reads SOURCE_DATE_EPOCH.  Returns 0 and sets *ms when it holds digits only
 * whose value in milliseconds fits int64_t; -1 otherwise (unset, empty, signed,
 * junk, overflow) -- the reproducible-builds convention is to ignore a bad value. */
static int source_date_epoch(int64_t *ms)
{
    const char *v = getenv("SOURCE_DATE_EPOCH");
    if (!v || !*v)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    errno = 0;
    char *end;
    long long secs = strtoll(v, &end, 10);
    if (errno == ERANGE || *end != '\0' || secs < 0 || secs > INT64_MAX / 1000)
        return -1;
    *ms = (int64_t)secs * 1000;
    return 0;
}

int64_t se_now_ms(void)
{
    int64_t ms;
    if (source_date_epoch(&ms) == 0)
        return ms;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL) * 1000; /* cannot fail on Linux; be safe anyway */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int se_reproducible(void)
{
    int64_t ms;
    return source_date_epoch(&ms) == 0;
}

int se_time_from_json(json_object *v, int64_t *ms)
{
    if (json_object_get_type(v) == json_type_int) {
        *ms = json_object_get_int64(v);
        return 0;
    }
    if (json_object_get_type(v) == json_type_string)
        return se_time_parse(json_object_get_string(v), ms);
    return -1;
}
