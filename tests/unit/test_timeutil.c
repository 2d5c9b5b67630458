/* Unit tests for timeutil.c: RFC 3339 parsing, formatting, the job clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
