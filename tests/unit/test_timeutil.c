/* Unit tests for timeutil.c: RFC 3339 parsing, formatting, the job clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timeutil.h"

static int64_t must_parse(const char *s)
{
    int64_t ms = -42;
    if (se_time_parse(s, &ms) != 0)
        fail_msg("se_time_parse(\"%s\") rejected a valid timestamp", s);
    return ms;
}

static void assert_rejected(const char *s)
{
    int64_t ms = 777;
    if (se_time_parse(s, &ms) != -1)
        fail_msg("se_time_parse(\"%s\") accepted an invalid timestamp", s);
    assert_int_equal(ms, 777); /* nothing written on failure */
}

static void test_parse_basic(void **state)
{
    (void)state;
    assert_int_equal(must_parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(must_parse("2018-01-01T00:00:00Z"), 1514764800000LL);
    assert_int_equal(must_parse("2018-02-01T00:00:00Z"), 1517443200000LL);
    assert_int_equal(must_parse("2020-01-01T00:00:00Z"), 1577836800000LL);
    assert_int_equal(must_parse("2000-02-29T12:34:56Z"), 951827696000LL);
    assert_int_equal(must_parse("9999-12-31T23:59:59Z"), 253402300799000LL);
    assert_int_equal(must_parse("0000-01-01T00:00:00Z"), -62167219200000LL);
    assert_int_equal(must_parse("1969-12-31T23:59:59.999Z"), -1);
}

static void test_parse_separators_and_zones(void **state)
{
    (void)state;
    int64_t base = 1514764800000LL;
    assert_int_equal(must_parse("2018-01-01t00:00:00z"), base);
    assert_int_equal(must_parse("2018-01-01 00:00:00Z"), base);
    assert_int_equal(must_parse("2018-01-01T00:00:00+00:00"), base);
    assert_int_equal(must_parse("2018-01-01T00:00:00+0000"), base);
    assert_int_equal(must_parse("2018-01-01T00:00:00-00:00"), base);
    /* -05:00: local midnight is 05:00 UTC */
    assert_int_equal(must_parse("2018-01-01T00:00:00-05:00"), base + 5 * 3600000LL);
    assert_int_equal(must_parse("2018-01-01T00:00:00-0500"), base + 5 * 3600000LL);
    assert_int_equal(must_parse("2018-01-01T05:30:00+05:30"), base);
    assert_int_equal(must_parse("2018-10-25T13:22:04-07:00"), 1540498924000LL);
    assert_int_equal(must_parse("2018-01-01T00:00:00+23:59"), base - (23 * 60 + 59) * 60000LL);
}

static void test_parse_fraction(void **state)
{
    (void)state;
    int64_t base = 1514764800000LL;
    assert_int_equal(must_parse("2018-01-01T00:00:00.1Z"), base + 100);
    assert_int_equal(must_parse("2018-01-01T00:00:00.12Z"), base + 120);
    assert_int_equal(must_parse("2018-01-01T00:00:00.123Z"), base + 123);
    assert_int_equal(must_parse("2018-01-01T00:00:00.123456789Z"), base + 123); /* truncated */
    assert_int_equal(must_parse("2018-01-01T00:00:00.9999999999999999999999Z"), base + 999);
    assert_int_equal(must_parse("2018-01-01T00:00:00.000+00:00"), base);
    assert_int_equal(must_parse("1969-12-31T23:59:59.5Z"), -500);
}

static void test_parse_leap(void **state)
{
    (void)state;
    assert_int_equal(must_parse("2016-02-29T00:00:00Z"), 1456704000000LL);
    assert_int_equal(must_parse("2000-02-29T00:00:00Z"), 951782400000LL);
    assert_rejected("2018-02-29T00:00:00Z");
    assert_rejected("1900-02-29T00:00:00Z");
    assert_rejected("2100-02-29T00:00:00Z");
    /* leap second: 59 + 1 s */
    assert_int_equal(must_parse("2016-12-31T23:59:60Z"), must_parse("2017-01-01T00:00:00Z"));
    assert_int_equal(must_parse("2016-12-31T23:59:60.5Z"), must_parse("2017-01-01T00:00:00.5Z"));
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "2018-01-01", "2018-13-01", "2018-02-30T00:00:00Z", "2018-04-31T00:00:00Z",
        "2018-00-10T00:00:00Z", "2018-01-00T00:00:00Z", "2018-01-32T00:00:00Z",
        "2018-01-01T25:00:00Z", "2018-01-01T24:00:00Z", "2018-01-01T00:60:00Z",
        "2018-01-01T00:00:61Z", "2018-01-01T00:00:00", "2018-01-01T00:00:00Zjunk",
        "2018-01-01T00:00:00Z ", " 2018-01-01T00:00:00Z", "2018-01-01X00:00:00Z",
        "2018-01-01T00:00Z", "2018-1-01T00:00:00Z", "18-01-01T00:00:00Z",
        "2018-01-01T00:00:00.Z", "2018-01-01T00:00:00,5Z", "2018-01-01T00:00:00+5:00",
        "2018-01-01T00:00:00+05", "2018-01-01T00:00:00+05:0", "2018-01-01T00:00:00+24:00",
        "2018-01-01T00:00:00+05:60", "2018-01-01T00:00:00+05:00:00", "2018-01-01T00:00:00UTC",
        "+2018-01-01T00:00:00Z", "2018-01-01T00:00:00+-5:00", "２018-01-01T00:00:00Z",
        "2018-01-01T00:00:00.1a2Z", "2018-01-01T00:00:00zz", "2018/01/01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i]);
    assert_int_equal(se_time_parse(NULL, &(int64_t){0}), -1);
}

static void assert_format(int64_t ms, const char *want)
{
    char buf[32];
    se_time_format(ms, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    (void)state;
    assert_format(0, "1970-01-01T00:00:00.000Z");
    assert_format(1514764800000LL, "2018-01-01T00:00:00.000Z");
    assert_format(1514764800123LL, "2018-01-01T00:00:00.123Z");
    assert_format(951827696007LL, "2000-02-29T12:34:56.007Z");
    assert_format(-1, "1969-12-31T23:59:59.999Z");
    assert_format(-1000, "1969-12-31T23:59:59.000Z");
    assert_format(-86400000LL, "1969-12-31T00:00:00.000Z");
    assert_format(-62167219200000LL, "0000-01-01T00:00:00.000Z");
    assert_format(253402300799999LL, "9999-12-31T23:59:59.999Z");

    /* Extremes must not crash or overflow the buffer. */
    char buf[32];
    se_time_format(INT64_MIN, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    se_time_format(INT64_MAX, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);

    /* A short buffer is truncated, still terminated. */
    char small[8];
    se_time_format(0, small, sizeof small);
    assert_string_equal(small, "1970-01");
}

static void test_round_trip(void **state)
{
    (void)state;
    /* Every day from 1899 to 2101 at a few times of day: parse(format(x)) == x. */
    for (int64_t day = -25567; day <= 48213; day += 1) {
        int64_t ms = day * 86400000LL + (day % 7) * 3723001LL;
        char buf[32];
        se_time_format(ms, buf, sizeof buf);
        assert_int_equal(must_parse(buf), ms);
    }
}

static void test_now_source_date_epoch(void **state)
{
    (void)state;
    setenv("SOURCE_DATE_EPOCH", "1514764800", 1);
    assert_int_equal(se_now_ms(), 1514764800000LL);
    assert_int_equal(se_reproducible(), 1);

    setenv("SOURCE_DATE_EPOCH", "0", 1);
    assert_int_equal(se_now_ms(), 0);
    assert_int_equal(se_reproducible(), 1);

    setenv("SOURCE_DATE_EPOCH", "9223372036854775", 1); /* INT64_MAX / 1000 */
    assert_int_equal(se_now_ms(), 9223372036854775000LL);
    assert_int_equal(se_reproducible(), 1);

    static const char *bad[] = {"", "-1", "+5", " 5", "5 ", "12abc", "1.5", "0x10",
                                "9223372036854776", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("SOURCE_DATE_EPOCH", bad[i], 1);
        if (se_reproducible() != 0)
            fail_msg("SOURCE_DATE_EPOCH=\"%s\" was accepted", bad[i]);
        int64_t now = se_now_ms();
        assert_true(now > 1514764800000LL); /* the wall clock, not the junk */
    }
    unsetenv("SOURCE_DATE_EPOCH");
}

static void test_now_wall_clock(void **state)
{
    (void)state;
    unsetenv("SOURCE_DATE_EPOCH");
    assert_int_equal(se_reproducible(), 0);
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = se_now_ms();
    int64_t after = ((int64_t)time(NULL) + 1) * 1000;
    assert_in_range(now, before, after);
}

/* ---- the parser against its former self -------------------------------- */

/* se_time_parse as it was before its fast paths (a copy, the oracle): the
 * same grammar read one field at a time from a C string. */
static int ref_digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
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

static int ref_parse(const char *s, int64_t *ms)
{
    unsigned year, mon, day, hh, mm, ss, frac = 0, oh = 0, om = 0;
    int sign = 0;
    const char *p = s;
    if (ref_digits(&p, 4, &year) || *p++ != '-' || ref_digits(&p, 2, &mon) || *p++ != '-' ||
        ref_digits(&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (ref_digits(&p, 2, &hh) || *p++ != ':' || ref_digits(&p, 2, &mm) || *p++ != ':' ||
        ref_digits(&p, 2, &ss))
        return -1;
    if (*p == '.') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac = frac * 10 + (unsigned)(*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (ref_digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (ref_digits(&p, 2, &om))
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > se_days_in_month(year, mon) || hh > 23 ||
        mm > 59 || ss > 60 || oh > 23 || om > 59)
        return -1;
    int64_t secs = se_days_from_civil(year, mon, day) * 86400 + (int64_t)hh * 3600 +
                   (int64_t)mm * 60 + ss;
    secs -= (int64_t)sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    *ms = secs * 1000 + frac;
    return 0;
}

/* se_time_parse and se_time_parse_n (over a copy with no terminator after
 * it) agree with the oracle on s. */
static void assert_as_ref(const char *s, size_t n)
{
    int64_t want = 777, got = 777, got_n = 777;
    char c[80];
    int rw = ref_parse(s, &want), rg = se_time_parse(s, &got);
    if (rw != rg || want != got)
        fail_msg("se_time_parse(\"%s\"): %d %lld, was %d %lld", s, rg, (long long)got, rw,
                 (long long)want);
    assert_true(n + 8 <= sizeof c);
    memcpy(c, s, n);
    memcpy(c + n, "0123456Z", 8); /* must not be read */
    int rn = se_time_parse_n(c, n, &got_n);
    if (rw != rn || want != got_n)
        fail_msg("se_time_parse_n(\"%s\"): %d %lld, was %d %lld", s, rn, (long long)got_n, rw,
                 (long long)want);
}

static void test_parse_shapes_vs_ref(void **state)
{
    (void)state;
    /* Every shape: Z/z, T/t/space, fractions of 0-10 digits, offsets with
     * and without a colon, leap days and seconds, the edges of each field. */
    static const char *forms[] = {
        "2018-01-01T00:00:00Z", "2018-01-01t00:00:00z", "2018-01-01 00:00:00Z",
        "2018-01-01T00:00:00.Z", "2018-01-01T00:00:00.1Z", "2018-01-01T00:00:00.12Z",
        "2018-01-01T00:00:00.123Z", "2018-01-01T00:00:00.1234Z", "2018-01-01T00:00:00.12345Z",
        "2018-01-01T00:00:00.123456Z", "2018-01-01T00:00:00.1234567Z",
        "2018-01-01T00:00:00.12345678Z", "2018-01-01T00:00:00.123456789Z",
        "2018-01-01T00:00:00.1234567890Z", "2018-01-01T00:00:00.999z",
        "2018-01-01T00:00:00+05:30", "2018-01-01T00:00:00-05:30", "2018-01-01T00:00:00+0530",
        "2018-01-01T00:00:00.5+05:30", "2018-01-01T00:00:00.123-23:59",
        "2018-01-01T00:00:00.123+0000", "2018-01-01T00:00:00.123456-07:00",
        "2016-02-29T23:59:60.999Z", "2016-12-31T23:59:60Z", "2017-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2000-02-29T00:00:00.001Z", "2400-02-29T12:00:00+12:00",
        "0000-01-01T00:00:00Z", "0000-02-29T00:00:00.000Z", "0000-03-01T00:00:00Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:60.999-23:59",
        "2018-04-31T00:00:00Z", "2018-04-30T24:00:00Z", "2018-13-01T00:00:00.000Z",
        "2018-00-01T00:00:00Z", "2018-01-00T00:00:00Z", "2018-01-01T00:60:00Z",
        "2018-01-01T00:00:61.000Z", "2018-01-01T00:00:00+24:00", "2018-01-01T00:00:00-00:60",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        assert_as_ref(forms[i], strlen(forms[i]));

    /* Every byte of the fast paths' shapes replaced by each of these. */
    static const char *seeds[] = {
        "2018-10-25T13:22:04Z", "2018-10-25T13:22:04.123Z", "2018-10-25T13:22:04+07:00",
        "2018-10-25T13:22:04.123-07:00",
    };
    static const char subs[] = {'0', '5', '9', '/', ':', '-', '+', '.', 'T', 't', ' ',
                                'Z', 'z', 'a', '\x80', '\xff', '\x2a', '\x3f',
                                /* ^ '0' is 0xfa..0xff: + 6 carries into the next byte */
                                '\xca', '\xcf', '\x00'};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t n = strlen(seeds[i]);
        char m[40];
        for (size_t k = 0; k < n; k++)
            for (size_t j = 0; j < sizeof subs; j++) {
                memcpy(m, seeds[i], n + 1);
                m[k] = subs[j];
                assert_as_ref(m, n);
            }
    }

    /* The day count on every month's first and last day of every year. */
    for (unsigned y = 0; y <= 9999; y++)
        for (unsigned mo = 1; mo <= 12; mo++) {
            char b[32];
            snprintf(b, sizeof b, "%04u-%02u-01T00:00:00Z", y, mo);
            assert_as_ref(b, strlen(b));
            snprintf(b, sizeof b, "%04u-%02u-%02uT23:59:59.999Z", y, mo, se_days_in_month(y, mo));
            assert_as_ref(b, strlen(b));
        }
}

static void test_parse_n_bounds(void **state)
{
    (void)state;
    int64_t ms = 777;
    /* The length, not a terminator, ends the text; a NUL inside is never
     * accepted (json-c's reader refused such strings). */
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00Zjunk", 20, &ms), 0);
    assert_int_equal(ms, 1514764800000LL);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00.1239Z", 24, &ms), -1);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00.123Z", 23, &ms), -1);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00Z", 19, &ms), -1);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00+05:00", 24, &ms), -1); /* +05:0 */
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00+0500:", 24, &ms), 0);
    assert_int_equal(ms, 1514764800000LL - 5 * 3600000LL);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00Z\0", 21, &ms), -1);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00\0Z", 21, &ms), -1);
    assert_int_equal(se_time_parse_n("2018-01-01T00:00:00.1\0Z", 23, &ms), -1);
    assert_int_equal(se_time_parse_n("", 0, &ms), -1);
    assert_int_equal(ms, 1514764800000LL - 5 * 3600000LL); /* nothing written on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_separators_and_zones),
        cmocka_unit_test(test_parse_fraction),
        cmocka_unit_test(test_parse_leap),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_now_source_date_epoch),
        cmocka_unit_test(test_now_wall_clock),
        cmocka_unit_test(test_parse_shapes_vs_ref),
        cmocka_unit_test(test_parse_n_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
