/* Unit tests for the PQL compiler and evaluator (src/pql_*.c): the supported PQL subset (docs/pql.md), its null rules,
 * the occurs time windows at their boundaries, rejection messages, and the
 * published examples of /work/shared/reference/pql/EXAMPLES.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pql.h"
#include "timeutil.h"

#include "pql_examples.inc"

#define NOW_TXT "2024-03-15T12:00:00.000Z"

static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(se_time_parse(NOW_TXT, &t), 0);
    return t;
}

static int64_t ts(const char *s)
{
    int64_t t;
    assert_int_equal(se_time_parse(s, &t), 0);
    return t;
}

/* The default profile and events (NOW is Friday 2024-03-15 12:00 UTC). */
static const char *P =
    "{\"person\":{\"name\":{\"firstName\":\"John\",\"lastName\":null},\"gender\":\"male\","
    "\"birthYear\":1985,\"birthMonth\":3,\"isVip\":true,\"isTest\":false,\"tags\":[\"a\",\"b\"],"
    "\"birthDate\":\"1985-03-12\"},"
    "\"homeAddress\":{\"country\":\"Canada\",\"countryCode\":\"US\",\"countryISO\":\"US\","
    "\"stateProvinceISO\":\"CA\",\"city\":\"Zürich\"},"
    "\"workAddress\":{\"country\":\"US\",\"countryISO\":\"US\"},"
    "\"workEmail\":{\"address\":\"joe.lean@work.edu\"},"
    "\"personalEmail\":{\"address\":\"x@TestXDMmail.com\"},"
    "\"_tenant\":{\"score\":4.5,\"ids\":[1,2,3],\"empty\":[],\"zero\":0,\"str5\":\"5\","
    "\"created\":\"2024-03-10T00:00:00Z\",\"createdMs\":1710028800000,\"bad\":\"yesterday\","
    "\"obj\":{\"k\":1},\"arr\":[{\"k\":1}]},"
    "\"_repo\":{\"lastModifiedDate\":\"2024-03-15T11:45:00Z\",\"modifyDate\":\"2019-04-02T00:00:00Z\"},"
    "\"segmentMembership\":{\"ups\":{\"seg-a\":{\"status\":\"realized\"},"
    "\"seg-b\":{\"status\":\"existing\"},\"seg-c\":{\"status\":\"exited\"}},"
    "\"other\":{\"seg-d\":{\"status\":\"realized\"}}}}";

static const char *E =
    "[{\"timestamp\":\"2024-03-15T08:00:00Z\",\"eventType\":\"commerce.checkouts\","
    "\"commerce\":{\"order\":{\"purchaseId\":\"p1\",\"priceTotal\":20}},"
    "\"productListItems\":[{\"SKU\":\"PS\"},{\"SKU\":\"X\"}]},"
    "{\"timestamp\":\"2024-03-14T12:00:00Z\",\"eventType\":\"addToCart\","
    "\"metrics\":{\"commerce\":{\"abandons\":{\"value\":1}}}},"
    "{\"timestamp\":\"2024-03-01T00:00:00Z\",\"eventType\":\"homePageView\"}]";

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    if (!o)
        fail_msg("test JSON does not parse: %s", s);
    return o;
}

/* Compiles expr (must succeed) and evaluates it on profile/events at NOW. */
static bool eval_at(const char *expr, const char *profile, const char *events, int64_t now)
{
    char err[256] = "";
    se_pql *q = NULL;
    json_object *p = parse(profile), *ev = parse(events ? events : "[]");
    size_t n = json_object_array_length(ev);
    json_object **arr = calloc(n + 1, sizeof *arr);
    bool m = true;

    assert_non_null(arr);
    for (size_t i = 0; i < n; i++)
        arr[i] = json_object_array_get_idx(ev, i);
    if (se_pql_compile(expr, &q, err, sizeof err) != 0)
        fail_msg("compile failed: %s: %s", expr, err);
    assert_string_equal(se_pql_text(q), expr);
    assert_int_equal(se_pql_eval(q, p, arr, n, now, &m), 0);
    se_pql_free(q);
    free(arr);
    json_object_put(p);
    json_object_put(ev);
    return m;
}

static bool ev(const char *expr, const char *profile, const char *events)
{
    return eval_at(expr, profile, events, now_ms());
}

static void expect(const char *expr, bool want)
{
    bool got = ev(expr, P, E);
    if (got != want)
        fail_msg("%s: expected %s, got %s", expr, want ? "true" : "false", got ? "true" : "false");
}

static void reject(const char *expr, const char *msg)
{
    char err[256] = "";
    se_pql *q = (se_pql *)1;
    if (se_pql_compile(expr, &q, err, sizeof err) == 0)
        fail_msg("accepted but should be rejected: %s", expr);
    assert_null(q);
    if (strncmp(err, "pql: ", 5) != 0 || !strstr(err, "column "))
        fail_msg("message without position for %s: %s", expr, err);
    if (msg && strcmp(err, msg) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", expr, msg, err);
}

/* ------------------------------------------------------------ comparisons */

static void test_equality(void **state)
{
    (void)state;
    expect("person.gender = \"male\"", true);
    expect("person.gender = \"Male\"", false);           /* case-sensitive */
    expect("person.gender != \"Male\"", true);
    expect("person.gender != \"male\"", false);
    expect("\"male\" = person.gender", true);
    expect("person.birthYear = 1985", true);
    expect("person.birthYear = 1985.0", true);           /* int and double compare numerically */
    expect("_tenant.score = 4.5", true);
    expect("_tenant.score != 4", true);
    expect("person.isVip = true", true);
    expect("person.isTest = false", true);
    expect("person.isTest != true", true);
    expect("homeAddress.countryISO = workAddress.countryISO", true);
    expect("homeAddress.country != workAddress.country", true);
    expect("_tenant.obj = _tenant.obj", true);            /* objects: deep equality */
    /* different types never compare: both = and != are false */
    expect("_tenant.str5 = 5", false);
    expect("_tenant.str5 != 5", false);
    expect("person.isVip = \"true\"", false);
    expect("person.isVip != \"true\"", false);
    /* null rules: absent, JSON null */
    expect("person.nickname = \"x\"", false);
    expect("person.nickname != \"x\"", false);
    expect("person.name.lastName = \"x\"", false);
    expect("person.name.lastName != \"x\"", false);
    expect("not(person.nickname = \"x\")", true);
    expect("not(person.nickname != \"x\")", true);
    /* a path through an array is null */
    /* a path through an array is the list of what its items hold (a
       projection): compared with one value, some item must compare */
    expect("_tenant.arr.k = 1", true);
    expect("_tenant.arr.k != 1", false);
    expect("person.gender.x = 1", false);                 /* through a string */
}

static void test_ordering(void **state)
{
    (void)state;
    expect("person.birthYear > 1980", true);
    expect("person.birthYear > 1985", false);
    expect("person.birthYear >= 1985", true);
    expect("person.birthYear < 1986", true);
    expect("person.birthYear <= 1984", false);
    expect("person.birthMonth < 3", false);
    expect("person.birthMonth <= 3", true);
    expect("_tenant.score > 4", true);
    expect("_tenant.score < 4.6", true);
    expect("_tenant.zero >= -1", true);
    expect("-1 < _tenant.zero", true);
    expect("person.isVip and -1 < _tenant.zero", true);
    expect("_tenant.zero in [-1, 0]", true);
    expect("not -1 > _tenant.zero", true);
    expect("_tenant.score > .45", true);
    expect("_tenant.score < 2.02E12", true);
    expect("person.birthYear > _tenant.score", true);
    /* non-numbers and nulls: false both ways */
    expect("_tenant.str5 > 1", false);
    expect("_tenant.str5 <= 10", false);
    expect("person.nickname < 1", false);
    expect("person.nickname >= 1", false);
    expect("person.isVip > 0", false);
}

static void test_boolean_ops(void **state)
{
    (void)state;
    expect("person.gender = \"male\" and person.birthYear = 1985", true);
    expect("person.gender = \"male\" and person.birthYear = 1984", false);
    expect("person.gender = \"x\" or person.birthYear = 1985", true);
    expect("person.gender = \"x\" or person.birthYear = 1984", false);
    expect("not (person.gender = \"x\")", true);
    expect("not(person.gender = \"male\")", false);
    expect("!(person.gender = \"male\")", false);
    expect("not person.gender = \"x\"", true);             /* not binds looser than = */
    expect("not not person.isVip", true);
    /* and binds tighter than or */
    expect("person.gender = \"x\" and person.birthYear = 1985 or person.isVip", true);
    expect("person.gender = \"x\" and (person.birthYear = 1985 or person.isVip)", false);
    expect("person.isVip or person.gender = \"x\" and person.isTest", true);
    expect("true", true);
    expect("false", false);
    expect("not false and true", true);
}

static void test_truthiness(void **state)
{
    (void)state;
    expect("homeAddress", true);
    expect("person.nickname", false);
    expect("person.name.lastName", false);               /* JSON null */
    expect("person.isVip", true);
    expect("person.isTest", false);                      /* a boolean is its value */
    expect("_tenant.ids", true);
    expect("_tenant.empty", false);                      /* an empty array is false */
    expect("_tenant.zero", true);                        /* defined */
    expect("not homeAddress", false);
    expect("not person.nickname", true);
}

static void test_in(void **state)
{
    (void)state;
    expect("homeAddress.stateProvinceISO in [\"CA\", \"OR\"]", true);
    expect("homeAddress.stateProvinceISO in [\"ca\", \"OR\"]", false);
    expect("homeAddress.stateProvinceISO notIn [\"CA\", \"OR\"]", false);
    expect("homeAddress.stateProvinceISO notIn [\"ca\", \"or\"]", true);
    expect("person.birthMonth in [3, 4, 6]", true);
    expect("person.birthMonth in [4, 6]", false);
    expect("person.birthMonth notIn [4, 6]", true);
    expect("_tenant.score in [4.5]", true);
    expect("person.birthMonth in [3.0]", true);
    expect("person.isVip in [true]", true);
    expect("person.birthMonth in []", false);
    expect("person.birthMonth notIn []", true);
    /* null: false for both */
    expect("person.nickname in [\"a\"]", false);
    expect("person.nickname notIn [\"a\"]", false);
    expect("person.name.lastName notIn [\"a\"]", false);
    /* a non-scalar left side: false for both */
    expect("_tenant.ids in [1]", false);
    expect("_tenant.ids notIn [1]", false);
    /* an array field on the right */
    expect("\"a\" in person.tags", true);
    expect("\"A\" in person.tags", false);
    expect("\"c\" notIn person.tags", true);
    expect("2 in _tenant.ids", true);
    expect("person.birthMonth in _tenant.ids", true);
    expect("person.birthMonth in person.nickname", false);
    expect("person.birthMonth notIn person.nickname", false);
    expect("person.birthMonth notIn person.gender", false);  /* not an array */
}

static void test_string_functions(void **state)
{
    (void)state;
    expect("person.name.firstName.equals(\"John\")", true);
    expect("person.name.firstName.equals(\"john\")", false);
    expect("person.name.firstName.equals(\"john\", true)", false);
    expect("person.name.firstName.equals(\"john\", false)", true);
    expect("person.name.firstName.equals(\"Johnny\", false)", false);
    expect("person.name.firstName.notEqualTo(\"john\")", true);
    expect("person.name.firstName.notEqualTo(\"john\", false)", false);
    expect("person.name.firstName.notEqualTo(\"Johnny\", false)", true);
    expect("workEmail.address.startsWith(\"joe\")", true);
    expect("workEmail.address.startsWith(\"JOE\")", false);
    expect("workEmail.address.startsWith(\"JOE\", false)", true);
    expect("workEmail.address.doesNotStartWith(\"JOE\")", true);
    expect("workEmail.address.doesNotStartWith(\"JOE\", false)", false);
    expect("workEmail.address.endsWith(\".edu\")", true);
    expect("workEmail.address.endsWith(\".EDU\")", false);
    expect("workEmail.address.endsWith(\".EDU\", false)", true);
    expect("workEmail.address.doesNotEndWith(\".com\")", true);
    expect("workEmail.address.contains(\"lean@\")", true);
    expect("workEmail.address.contains(\"LEAN\")", false);
    expect("workEmail.address.contains(\"LEAN\", false)", true);
    expect("workEmail.address.doesNotContain(\"yahoo\")", true);
    expect("workEmail.address.doesNotContain(\"work\")", false);
    expect("workEmail.address.contains(\"\")", true);
    expect("workEmail.address.endsWith(\"x@joe.lean@work.edu\")", false);
    /* Latin-1 letters fold too; other bytes compare exactly */
    expect("homeAddress.city.equals(\"ZÜRICH\", false)", true);
    expect("homeAddress.city.equals(\"ZÜRICH\")", false);
    /* a field as the argument */
    expect("homeAddress.countryISO.equals(workAddress.countryISO)", true);
    expect("\"US\".equals(homeAddress.countryCode)", true);
    /* null and non-strings: false, also for the negative forms */
    expect("person.nickname.contains(\"a\")", false);
    expect("person.nickname.doesNotContain(\"a\")", false);
    expect("person.name.lastName.notEqualTo(\"a\")", false);
    expect("workEmail.address.doesNotContain(person.nickname)", false);
    expect("person.birthYear.equals(\"1985\")", false);
    expect("person.birthYear.notEqualTo(\"1985\")", false);
}

static void test_like(void **state)
{
    (void)state;
    expect("workEmail.address like \"%.edu\"", true);
    expect("workEmail.address like \"%.EDU\"", false);    /* case-sensitive */
    expect("workEmail.address like \"joe%\"", true);
    expect("workEmail.address like \"%lean%\"", true);
    expect("workEmail.address like \"joe\"", false);
    expect("person.name.firstName like \"J_hn\"", true);
    expect("person.name.firstName like \"J_n\"", false);
    expect("person.name.firstName like \"%\"", true);
    expect("person.name.firstName like \"John%\"", true);   /* % matches nothing */
    expect("person.name.firstName like \"%J%o%h%n%\"", true);
    expect("person.name.firstName like \"_ohn_\"", false);
    expect("homeAddress.city like \"Z_rich\"", true);      /* _ is one character, not one byte */
    expect("person.nickname like \"%\"", false);
    expect("person.birthYear like \"1985\"", false);
}

static void test_isnull(void **state)
{
    (void)state;
    expect("person.nickname.isNull()", true);
    expect("person.name.lastName.isNull()", true);
    expect("person.name.firstName.isNull()", false);
    expect("person.isTest.isNull()", false);
    expect("person.nickname.isNotNull()", false);
    expect("person.name.lastName.isNotNull()", false);
    expect("homeAddress.isNotNull()", true);
    expect("_tenant.arr.k.isNull()", false);     /* a projection: [1] */
    expect("_tenant.arr.nope.isNull()", false);  /* an empty projection is a list */
}

static void test_insegment(void **state)
{
    (void)state;
    expect("inSegment(\"seg-a\")", true);
    expect("inSegment(\"seg-b\")", true);                  /* existing = realized */
    expect("inSegment(\"seg-c\")", false);                 /* exited */
    expect("inSegment(\"seg-x\")", false);
    expect("inSegment(\"seg-d\")", false);                 /* only the ups namespace */
    expect("inSegment(\"SEG-A\")", false);
    expect("not inSegment(\"seg-c\")", true);
    assert_false(ev("inSegment(\"seg-a\")", "{}", NULL));
    assert_false(ev("inSegment(\"seg-a\")", "{\"segmentMembership\":{\"ups\":{\"seg-a\":{}}}}", NULL));
    assert_false(ev("inSegment(\"seg-a\")", "{\"segmentMembership\":{\"ups\":[]}}", NULL));
}

/* ------------------------------------------------------------ occurs */

static bool occ(const char *expr, const char *t)
{
    char prof[256];
    snprintf(prof, sizeof prof, "{\"t\":\"%s\"}", t);
    return ev(expr, prof, NULL);
}

static void test_occurs_n_before_now(void **state)
{
    (void)state;
    /* < 7 days before now: (now - 7d, now) */
    assert_false(occ("t occurs < 7 days before now", "2024-03-08T12:00:00.000Z"));
    assert_true(occ("t occurs < 7 days before now", "2024-03-08T12:00:00.001Z"));
    assert_true(occ("t occurs < 7 days before now", "2024-03-15T11:59:59.999Z"));
    assert_false(occ("t occurs < 7 days before now", NOW_TXT));
    assert_false(occ("t occurs < 7 days before now", "2024-03-16T00:00:00Z"));
    /* <= includes the far boundary */
    assert_true(occ("t occurs <= 7 days before now", "2024-03-08T12:00:00.000Z"));
    assert_false(occ("t occurs <= 7 days before now", "2024-03-08T11:59:59.999Z"));
    /* > and >=: further back than the boundary */
    assert_true(occ("t occurs > 7 days before now", "2024-03-08T11:59:59.999Z"));
    assert_false(occ("t occurs > 7 days before now", "2024-03-08T12:00:00.000Z"));
    assert_true(occ("t occurs >= 7 days before now", "2024-03-08T12:00:00.000Z"));
    assert_false(occ("t occurs >= 7 days before now", "2024-03-09T00:00:00Z"));
    /* other units */
    assert_true(occ("t occurs <= 24 hours before now", "2024-03-14T12:00:00Z"));
    assert_false(occ("t occurs < 24 hours before now", "2024-03-14T12:00:00Z"));
    assert_true(occ("t occurs < 30 minutes before now", "2024-03-15T11:45:00Z"));
    assert_false(occ("t occurs < 30 minutes before now", "2024-03-15T11:29:59Z"));
    assert_true(occ("t occurs < 90 seconds before now", "2024-03-15T11:58:31Z"));
    assert_true(occ("t occurs < 1 week before now", "2024-03-08T12:00:01Z"));
    assert_false(occ("t occurs < 2 weeks before now", "2024-03-01T12:00:00Z"));
    assert_true(occ("t occurs < 1000 milliseconds before now", "2024-03-15T11:59:59.001Z"));
    assert_false(occ("t occurs < 0 days before now", "2024-03-15T11:59:59Z"));
    /* offsets and epoch milliseconds */
    assert_true(occ("t occurs < 1 hour before now", "2024-03-15T12:30:00+01:00"));
    assert_false(occ("t occurs < 1 hour before now", "2024-03-15T13:30:00+01:00"));
    assert_true(ev("_tenant.createdMs occurs < 6 days before now", P, NULL));
    assert_false(ev("_tenant.createdMs occurs < 5 days before now", P, NULL));
    /* not a timestamp, or null: false */
    assert_false(ev("_tenant.bad occurs < 7 days before now", P, NULL));
    assert_false(ev("_tenant.bad occurs > 7 days before now", P, NULL));
    assert_false(ev("_tenant.none occurs before now", P, NULL));
    assert_false(ev("_tenant.score occurs before now", P, NULL));
}

static void test_occurs_calendar(void **state)
{
    (void)state;
    /* <= 1 month before today: [2024-02-15, 2024-03-15) */
    assert_true(occ("t occurs <= 1 month before today", "2024-02-15T00:00:00Z"));
    assert_false(occ("t occurs <= 1 month before today", "2024-02-14T23:59:59.999Z"));
    assert_true(occ("t occurs <= 1 month before today", "2024-03-14T23:59:59.999Z"));
    assert_false(occ("t occurs <= 1 month before today", "2024-03-15T00:00:00Z"));
    assert_true(occ("t occurs < 1 year before now", "2023-03-15T12:00:01Z"));
    assert_false(occ("t occurs < 1 year before now", "2023-03-15T12:00:00Z"));
    assert_true(occ("t occurs < 1 decade before now", "2014-03-16T00:00:00Z"));
    assert_false(occ("t occurs < 1 century before now", "1924-03-15T00:00:00Z"));
    /* month arithmetic clamps the day: one month before 2024-03-31 is 2024-02-29 */
    int64_t now = ts("2024-03-31T10:00:00Z");
    assert_true(eval_at("t occurs <= 1 month before now", "{\"t\":\"2024-02-29T10:00:00Z\"}", NULL, now));
    assert_false(eval_at("t occurs <= 1 month before now", "{\"t\":\"2024-02-29T09:59:59Z\"}", NULL, now));
    assert_true(eval_at("t occurs <= 13 months before now", "{\"t\":\"2023-02-28T10:00:00Z\"}", NULL, now));
    assert_false(eval_at("t occurs <= 13 months before now", "{\"t\":\"2023-02-28T09:00:00Z\"}", NULL, now));
}

static void test_occurs_after(void **state)
{
    (void)state;
    /* < 3 hours after now: (now, now + 3h) */
    assert_true(occ("t occurs < 3 hours after now", "2024-03-15T14:59:59Z"));
    assert_false(occ("t occurs < 3 hours after now", "2024-03-15T15:00:00Z"));
    assert_true(occ("t occurs <= 3 hours after now", "2024-03-15T15:00:00Z"));
    assert_false(occ("t occurs <= 3 hours after now", NOW_TXT));
    assert_true(occ("t occurs > 3 hours after now", "2024-03-15T15:00:00.001Z"));
    assert_false(occ("t occurs > 3 hours after now", "2024-03-15T15:00:00Z"));
    assert_true(occ("t occurs >= 3 hours after now", "2024-03-15T15:00:00Z"));
    /* relative to another timestamp */
    assert_true(ev("_repo.lastModifiedDate occurs < 6 days after _tenant.created", P, NULL));
    assert_false(ev("_repo.lastModifiedDate occurs < 5 days after _tenant.created", P, NULL));
    assert_true(ev("_tenant.created occurs > 5 days before _repo.lastModifiedDate", P, NULL));
    assert_false(ev("_repo.lastModifiedDate occurs < 6 days after _tenant.none", P, NULL));
}

static void test_occurs_days(void **state)
{
    (void)state;
    /* today = [2024-03-15T00:00Z, 2024-03-16T00:00Z) */
    assert_true(occ("t occurs today", "2024-03-15T00:00:00Z"));
    assert_true(occ("t occurs on today", "2024-03-15T23:59:59.999Z"));
    assert_false(occ("t occurs today", "2024-03-16T00:00:00Z"));
    assert_false(occ("t occurs today", "2024-03-14T23:59:59.999Z"));
    assert_true(occ("t occurs yesterday", "2024-03-14T00:00:00Z"));
    assert_false(occ("t occurs yesterday", "2024-03-15T00:00:00Z"));
    assert_true(occ("t occurs tomorrow", "2024-03-16T12:00:00Z"));
    assert_true(occ("t occurs before today", "2024-03-14T23:59:59.999Z"));
    assert_false(occ("t occurs before today", "2024-03-15T00:00:00Z"));
    assert_true(occ("t occurs after today", "2024-03-16T00:00:00Z"));
    assert_false(occ("t occurs after today", "2024-03-15T23:59:59.999Z"));
    assert_true(occ("t occurs before now", "2024-03-15T11:59:59.999Z"));
    assert_false(occ("t occurs before now", NOW_TXT));
    assert_true(occ("t occurs after now", "2024-03-15T12:00:00.001Z"));
    assert_false(occ("t occurs after now", NOW_TXT));
    /* date(...) is the whole UTC day */
    assert_true(occ("t occurs on date(2017, 10, 1)", "2017-10-01T23:59:59Z"));
    assert_false(occ("t occurs on date(2017, 10, 1)", "2017-10-02T00:00:00Z"));
    assert_true(occ("t occurs after date(2019, 4, 1)", "2019-04-02T00:00:00Z"));
    assert_false(occ("t occurs after date(2019, 4, 1)", "2019-04-01T23:00:00Z"));
    assert_true(occ("t occurs before date(2019, 4, 1)", "2019-03-31T23:59:59.999Z"));
    assert_false(occ("t occurs before date(2019, 4, 1)", "2019-04-01T00:00:00Z"));
    assert_true(occ("t occurs between date(2017, 10, 1) and date(2017, 12, 31)", "2017-10-01T00:00:00Z"));
    assert_true(occ("t occurs between date(2017, 10, 1) and date(2017, 12, 31)", "2017-12-31T23:59:59.999Z"));
    assert_false(occ("t occurs between date(2017, 10, 1) and date(2017, 12, 31)", "2018-01-01T00:00:00Z"));
    assert_false(occ("t occurs between date(2017, 10, 1) and date(2017, 12, 31)", "2017-09-30T23:59:59Z"));
    assert_true(occ("t occurs between yesterday and today", "2024-03-14T00:00:00Z"));
    assert_true(occ("t occurs < 3 days before date(2020, 3, 1)", "2020-02-28T00:00:00Z"));
    assert_false(occ("t occurs < 3 days before date(2020, 3, 1)", "2020-02-27T00:00:00Z"));
    /* date-only values are midnight UTC */
    assert_true(ev("person.birthDate occurs on date(1985, 3, 12)", P, NULL));
    assert_true(ev("person.birthDate occurs before date(1985, 3, 13)", P, NULL));
    assert_false(ev("person.birthDate occurs after date(1985, 3, 12)", P, NULL));
    /* today is the UTC day of now, also just after midnight and before 1970 */
    int64_t now = ts("2024-03-15T00:00:00.000Z");
    assert_true(eval_at("t occurs today", "{\"t\":\"2024-03-15T00:00:00Z\"}", NULL, now));
    now = ts("1969-12-31T23:00:00Z");
    assert_true(eval_at("t occurs today", "{\"t\":\"1969-12-31T00:00:00Z\"}", NULL, now));
    assert_false(eval_at("t occurs today", "{\"t\":\"1970-01-01T00:00:00Z\"}", NULL, now));
}

/* ------------------------------------------------------------ events */

static void test_select_exists(void **state)
{
    (void)state;
    expect("select X from xEvent where X.eventType = \"addToCart\"", true);
    expect("select X from xEvent where X.eventType = \"purchase\"", false);
    expect("select X from xEvent", true);
    assert_false(ev("select X from xEvent", P, "[]"));
    expect("exists X from xEvent where X.eventType = \"addToCart\"", true);
    expect("exists X from xEvent : X.eventType = \"homePageView\"", true);
    expect("exists X from xEvent where X.eventType = \"nope\"", false);
    /* the where condition takes the rest (and/or included) */
    expect("select X from xEvent where X.eventType = \"addToCart\" and X.timestamp occurs today", false);
    expect("select X from xEvent where X.eventType = \"commerce.checkouts\" and X.timestamp occurs today", true);
    /* bare paths in a select stay on the profile */
    expect("select X from xEvent where person.gender = \"male\"", true);
    expect("select X from xEvent where eventType = \"addToCart\"", false);
    /* nested and multi-variable */
    expect("select X from xEvent where (select I from X.productListItems where I.SKU = \"PS\")", true);
    expect("select X from xEvent where X.eventType = \"addToCart\" and (select I from X.productListItems where I.SKU = \"PS\")", false);
    expect("select O from xEvent where O.commerce.order, I from O.productListItems where I.SKU = \"X\"", true);
    expect("select O from xEvent where O.commerce.order, I from O.productListItems where I.SKU = \"Y\"", false);
    expect("exists A from xEvent where A.eventType = \"addToCart\", B from xEvent where B.timestamp occurs < 1 day after A.timestamp", true);
    expect("exists A from xEvent where A.eventType = \"addToCart\", B from xEvent where B.timestamp occurs < 1 hour after A.timestamp", false);
    /* counts */
    expect("(select X from xEvent).count() = 3", true);
    expect("(select X from xEvent where X.timestamp occurs < 2 days before now).count() = 2", true);
    expect("(select X from xEvent where X.timestamp occurs < 2 days before now).count() > 2", false);
    expect("(select X from xEvent, Y from xEvent).count() = 9", true);
    expect("(select X from xEvent where X.productListItems.count() > 1).count() = 1", true);
    expect("(select X from xEvent where X.productListItems.count() > 2).count() > 0", false);
    expect("person.tags.count() = 2", true);
    expect("person.nickname.count() = 0", false);            /* null */
    expect("select T from person.tags where T = \"b\"", true);
    expect("select T from person.tags where T = \"c\"", false);
    expect("select T from person.nickname", false);
    /* variables shadow nothing: X is the event, Y the item */
    expect("select X from xEvent where X.eventType like \"commerce%\"", true);
}

static void test_filter_chain(void **state)
{
    (void)state;
    expect("xEvent[eventType = \"addToCart\"]", true);
    expect("xEvent[eventType = \"nope\"]", false);
    expect("xEvent[eventType = \"commerce.checkouts\" and timestamp occurs < 7 days before now].count() > 0", true);
    expect("xEvent[timestamp occurs < 7 days before now].count() = 2", true);
    expect("xEvent[timestamp occurs < 7 days before now].count() >= 3", false);
    expect("xEvent.count() = 3", true);
    expect("xEvent", true);
    assert_false(ev("xEvent", P, "[]"));
    assert_false(ev("xEvent[eventType = \"addToCart\"]", P, "[]"));
    /* chain: one step, WHAT, WHEN, COUNT */
    expect("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\")])", true);
    expect("chain(xEvent, timestamp, [A: WHAT(eventType = \"nope\")])", false);
    expect("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(< 1 day before now)])", false);
    expect("chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHEN(<= 1 day before now)])", true);
    expect("CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"COMMERCE.checkouts\", false)) WHEN(today)])", true);
    expect("CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"COMMERCE.checkouts\")) WHEN(today)])", false);
    expect("chain(xEvent, timestamp, [A: WHAT(timestamp occurs < 30 days before now) COUNT(3)])", true);
    expect("chain(xEvent, timestamp, [A: WHAT(timestamp occurs < 3 days before now) COUNT(3)])", false);
    expect("chain(xEvent, timestamp, [A: WHAT(true) WHEN(< 3 days before now) COUNT(2)])", true);
    expect("not(chain(xEvent, timestamp, [A: WHAT(eventType = \"homePageView\")]))", false);
    /* a chain on another timestamp field */
    assert_true(ev("chain(xEvent, when, [A: WHAT(true) WHEN(today)])", "{}", "[{\"timestamp\":\"2020-01-01T00:00:00Z\",\"when\":\"2024-03-15T01:00:00Z\"}]"));
    assert_false(ev("chain(xEvent, timestamp, [A: WHAT(true) WHEN(today)])", "{}", "[{\"timestamp\":\"2020-01-01T00:00:00Z\",\"when\":\"2024-03-15T01:00:00Z\"}]"));
    /* events may spell it xdm:timestamp (SPEC §3) */
    assert_true(ev("chain(xEvent, timestamp, [A: WHAT(true) WHEN(today)])", "{}", "[{\"xdm:timestamp\":\"2024-03-15T01:00:00Z\"}]"));
    assert_true(ev("select X from xEvent where X.timestamp occurs today", "{}", "[{\"xdm:timestamp\":\"2024-03-15T01:00:00Z\"}]"));
    assert_false(ev("xEvent[timestamp occurs today]", "{}", "[{\"timestamp\":\"2024-03-14T01:00:00Z\",\"xdm:timestamp\":\"2024-03-15T01:00:00Z\"}]"));
    /* an event without a usable timestamp never satisfies WHEN */
    assert_false(ev("chain(xEvent, timestamp, [A: WHAT(true) WHEN(today)])", "{}", "[{\"timestamp\":\"soon\"}]"));
    /* inSegment inside an event context still reads the profile */
    expect("xEvent[inSegment(\"seg-a\")].count() = 3", true);
}

static void test_null_events(void **state)
{
    (void)state;
    char err[128];
    se_pql *q;
    json_object *p = parse("{}"), *e = parse("{\"eventType\":\"a\",\"timestamp\":\"2024-03-15T01:00:00Z\"}");
    json_object *evs[3] = {NULL, e, NULL};
    bool m = false;
    assert_int_equal(se_pql_compile("xEvent[eventType = \"a\"].count() = 1", &q, err, sizeof err), 0);
    assert_int_equal(se_pql_eval(q, p, evs, 3, now_ms(), &m), 0);
    assert_true(m);
    se_pql_free(q);
    assert_int_equal(se_pql_compile("select X from xEvent where X.eventType = \"a\"", &q, err, sizeof err), 0);
    assert_int_equal(se_pql_eval(q, p, NULL, 0, now_ms(), &m), 0);
    assert_false(m);
    se_pql_free(q);
    se_pql_free(NULL);
    json_object_put(p);
    json_object_put(e);
}

/* ------------------------------------------------------------ rejection */

static void test_reject_messages(void **state)
{
    (void)state;
    reject("", "pql: empty expression at column 1");
    reject("   ", "pql: empty expression at column 4");
    reject("person.name = \"x", "pql: unterminated string at column 15");
    reject("a = 1 and", "pql: unexpected end of expression at column 10");
    reject("a = = 1", "pql: unexpected '=' at column 5");
    reject("(a = 1", "pql: expected ')', found end of expression at column 7");
    reject("a = 1)", "pql: unexpected ')' at column 6");
    reject("a = 1 b = 2", "pql: unexpected 'b' at column 7");
    reject("a.isNull(", "pql: unexpected end of expression at column 10");
    reject("a = 1 AND b = 2", "pql: unexpected 'AND' at column 7");
    reject("a = 1 and 2", "pql: a number is not a condition at column 11");
    reject("not 3", "pql: a number is not a condition at column 5");
    reject("a < \"x\"", "pql: '<' needs numbers, not a string at column 5");
    reject("a >= true", "pql: '>=' needs numbers, not a boolean at column 6");
    reject("a + \"x\" > 1", "pql: '+' needs numbers, not a string at column 5");
    reject("-\"x\" = 1", "pql: '-' needs numbers, not a string at column 2");
    reject("a in 3", "pql: in / notIn needs a list or an array at column 6");
    reject("(a = 1) = true", "pql: a condition cannot be compared here at column 4");
    reject("a.b.equals(\"x\", 1)", "pql: expected true or false (case sensitivity) at column 17");
    reject("a.isNull().isNull()", "pql: a condition cannot be the receiver of 'isNull' at column 3");
    reject("a.count().x", "pql: a field of a condition, number or string at column 11");
    reject("a.count()[b]", "pql: a filter [...] needs an array at column 10");
    reject("chain(xEvent, timestamp, [A: WHAT(a = 1) COUNT(0)])", "pql: COUNT must be at least 1 at column 42");
    reject("chain(xEvent, timestamp, [A: WHAT(a = 1) WHAT(b = 1)])",
           "pql: unsupported or repeated chain clause 'WHAT' at column 42");
    reject("chain(xEvent, timestamp, [A: WHEN(today)])", "pql: expected WHAT(...), found ']' at column 41");
    reject("chain(xEvent, timestamp, [WHAT(a = 1)])",
           "pql: expected a step label (L: WHAT(...)), found 'WHAT' at column 27");
    reject("exists X from xEvent where chain(xEvent, X.ts, [A: WHAT(a = 1)])", "pql: chain's timestamp must be a field of the event at column 42");
    reject("t occurs < 3 fortnights before now", "pql: expected a time unit, found 'fortnights' at column 14");
    reject("t occurs < 2000000 days before now", "pql: a count of time units 2000000 is too large (at most 1000000) at column 12");
    reject("t occurs < 3 days around now", "pql: expected before, after or from, found 'around' at column 19");
    reject("t occurs this fortnight", "pql: expected a time unit, found 'fortnight' at column 15");
    reject("t occurs on date(2023, 2, 29)", "pql: date(2023, 2, 29) is not a valid date at column 13");
    reject("t occurs on date(2023, 13, 1)", "pql: date(2023, 13, 1) is not a valid date at column 13");
    reject("t occurs on date(2023, 1)", "pql: date(...) takes 3 arguments (year, month, day) at column 13");
    reject("t occurs on date(2023, 1, \"x\")", "pql: date(...) needs integers at column 27");
    reject("t occurs on \"x\"", "pql: expected now, today, yesterday, tomorrow, this/last/next, date(...) or a timestamp, found '\"x\"' at column 13");
    reject("a.b occurs between today", "pql: expected and, found end of expression at column 25");
    reject("a.b.equals(\"x\") occurs today", "pql: occurs needs a timestamp at column 5");
    reject("select X from xEvent where X.a = 1, X from xEvent", "pql: variable 'X' is already declared at column 37");
    reject("select from xEvent", "pql: expected from, found 'from' at column 8");
    reject("select X in xEvent", "pql: expected from, found 'in' at column 10");
    reject("select X from 3", "pql: from needs an array at column 15");
    reject("select X from xEvent where 3", "pql: a number is not a condition at column 28");
    reject("inSegment(abc)", "pql: expected a segment id string, found 'abc' at column 11");
    reject("a = \"\\x\"", "pql: unsupported escape in string at column 6");
    reject("a = 1 ; b", "pql: unexpected character ';' at column 7");
    reject("a = \xe2\x80\x9c" "CA\"", "pql: unexpected character (byte 0xe2) at column 5");
    reject("a.b = 1\nand c = ^", "pql: '^' climbs above the outermost filter [...] at line 2 column 9");
    reject("a = 12abc", "pql: malformed number at column 5");
    reject("a = 99999999999999999999", "pql: number out of range at column 5");
    reject("now = 1", "pql: unexpected 'now' at column 1");
    reject("a = null", "pql: unexpected 'null' at column 5");
    /* functions and methods (array-functions.md, string-functions.md, ...) */
    reject("xEvent[a = 1].median(b) > 1", "pql: unsupported function 'median' at column 15");
    reject("person.name.like(\"J%\", true)", "pql: 'like' takes 1 argument at column 13");
    reject("a.count(1) > 1", "pql: 'count' takes 0 to 0 arguments at column 3");
    reject("a.b.equals()", "pql: 'equals' takes 1 or 2 arguments at column 5");
    reject("a.isNull(1)", "pql: 'isNull' takes no arguments at column 3");
    reject("equals(\"a\")", "pql: 'equals' is a method: write x.equals(...) at column 1");
    reject("x.currentYear() = 1", "pql: 'currentYear' is a function, not a method at column 3");
    reject("x.date(1, 2, 3)", "pql: 'date' is a function, not a method at column 3");
    reject("\"a\".count() > 1", "pql: 'count' needs an array at column 5");
    reject("(a = 1).count() > 1", "pql: a condition cannot be the receiver of 'count' at column 4");
    reject("x.includes(a = 1)", "pql: expected a value, not a condition at column 14");
    reject("x.filter(3).count() > 0", "pql: a number is not a condition at column 10");
    reject("if(a = 1, 2) = 2", "pql: if(...) takes 3 arguments at column 1");
    reject("if(3, 1, 2) = 2", "pql: a number is not a condition at column 4");
    reject("x.matches(\"(\")", "pql: invalid regular expression: missing closing parenthesis (at offset 1) at column 11");
    reject("x matches \"[a\"", "pql: invalid regular expression: missing terminating ] for character class (at offset 2) at column 11");
    reject("x.regexGroup(\"a(b)\", 2) = \"b\"", "pql: the regular expression has no such group (it has 1) at column 22");
    reject("x.contains(\"\xff\", false)", "pql: invalid UTF-8 in the string at column 12");
    reject("xEvent.groupBy(a).count() > 1", "pql: 'groupBy(...)' builds a map: it belongs to computed attributes, not segment conditions at column 8");
    /* ^, $N, lambdas, let, aggregations (filter-functions.md, overview.md, misc-functions.md) */
    reject("^a = 1", "pql: '^' climbs above the outermost filter [...] at column 1");
    reject("xEvent[^^a = 1]", "pql: '^' climbs above the outermost filter [...] at column 8");
    reject("xEvent[^ = 1]", "pql: expected a field name, found '=' at column 10");
    reject("$2.a = 1", "pql: only $1 (the profile) is defined here at column 1");
    reject("x.filter(Y => $2.a = 1)", "pql: the lambda has no parameter $2 at column 15");
    reject("xEvent[$2 = 1]", "pql: only $1 (the item) is defined here at column 8");
    reject("$0 = 1", "pql: expected a parameter number after '$' at column 1");
    reject("(A, B) => A.x = 1", "pql: a query lambda takes one parameter (the profile) at column 1");
    reject("(A, A) => A.x = 1", "pql: variable 'A' is already declared at column 5");
    reject("let S = 1, S = 2 in S > 0", "pql: variable 'S' is already declared at column 12");
    reject("let S = 1 S > 0", "pql: expected in, found 'S' at column 11");
    reject("let 3 = 1 in 1 > 0", "pql: expected a variable name, found '3' at column 5");
    reject("(sum X.a X from xEvent) > 1", "pql: expected over, found ')' at column 23");
    reject("(sum X.a + 1 Y over X from xEvent) > 1", "pql: expected over, found 'Y' at column 14");
    reject("(sum \"x\" over X from xEvent) > 1", "pql: 'sum' needs a number at column 6");
    reject("(sum over X from xEvent, Y from xEvent) > 1", "pql: unexpected 'over' at column 6");
    reject("(sum X from xEvent, Y from xEvent) > 1",
           "pql: 'sum' over several variables needs an expression (sum E over ...) at column 2");
    reject("t occurs before (a = 1)", "pql: expected a timestamp or date(...) at column 20");
    reject("$99.a = 1", "pql: parameter number too large at column 1");
    reject("if(a = 1, b, c) = 1", "pql: a value cannot be compared here at column 1");
    reject("a = 1000000000000000000000000000000000000000000000000000000000000000000000",
           "pql: number too long at column 5");
    /* computed attributes and ranking formulas are not segment conditions */
    reject("let S = 1 in S", "pql: the expression computes a number (a computed attribute or ranking formula), not a segment condition at column 1");
    reject("\"x\"", "pql: the expression computes a string (a computed attribute or ranking formula), not a segment condition at column 1");
    reject("42", "pql: the expression computes a number (a computed attribute or ranking formula), not a segment condition at column 1");
    reject("person.tags.count()", "pql: the expression computes a number (a computed attribute or ranking formula), not a segment condition at column 13");
    reject("[1, 2]", "pql: the expression computes a list (a computed attribute or ranking formula), not a segment condition at column 1");
    reject("date(2020, 1, 1)", "pql: the expression computes a date (a computed attribute or ranking formula), not a segment condition at column 1");
    reject("if(a = 1, b, c)", "pql: the expression computes a value (a computed attribute or ranking formula), not a segment condition at column 1");
}

static void test_reject_depth(void **state)
{
    (void)state;
    char buf[2048];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        buf[n++] = '(';
    strcpy(buf + n, "a");
    reject(buf, "pql: expression nested too deeply at column 51");
    n = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(buf + n, "not ", 4);
        n += 4;
    }
    strcpy(buf + n, "a");
    reject(buf, NULL);
    /* 17 filter levels ([..] and per-item arguments share the ^ stack) */
    n = 0;
    for (int i = 0; i < 17; i++) {
        memcpy(buf + n, "a[", 2);
        n += 2;
    }
    strcpy(buf + n, "b");
    reject(buf, "pql: filters nested too deeply at column 34");
    /* 33 variables in scope */
    n = (size_t)snprintf(buf, sizeof buf, "select V0 from xEvent");
    for (int i = 1; i < 33; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, ", V%d from xEvent", i);
    reject(buf, "pql: too many variables at column 542");
}

/* Long and/or chains are flat: no nesting limit, no deep recursion. */
static void test_long_chains(void **state)
{
    (void)state;
    size_t n = 20000, len = n * 24 + 64, k = 0;
    char *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, len - k, "%sperson.isVip", i ? " and " : "");
    expect(buf, true);
    k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, len - k, "%sperson.isTest", i ? " or " : "");
    k += (size_t)snprintf(buf + k, len - k, " or person.birthYear = 1985");
    expect(buf, true);
    free(buf);
    expect("person.isTest or person.isVip and person.isTest or not person.isTest", true);
    expect("person.isVip and (person.isTest or person.isTest) and person.isVip", false);
}

/* Every prefix of every published expression compiles or is rejected with a
 * positioned message (no crash, no leak: run under ASan). */
static void test_prefixes(void **state)
{
    (void)state;
    char buf[1024];
    for (int k = 1; k < 80; k++) {
        size_t len = strlen(pql_examples[k]);
        assert_true(len < sizeof buf);
        for (size_t i = 0; i <= len; i++) {
            char err[256] = "";
            se_pql *q = NULL;
            memcpy(buf, pql_examples[k], i);
            buf[i] = '\0';
            if (se_pql_compile(buf, &q, err, sizeof err) == 0) {
                json_object *p = parse(P), *e = parse(E);
                json_object *evs[3] = {json_object_array_get_idx(e, 0), json_object_array_get_idx(e, 1),
                                       json_object_array_get_idx(e, 2)};
                bool m;
                assert_int_equal(se_pql_eval(q, p, evs, 3, now_ms(), &m), 0);
                json_object_put(p);
                json_object_put(e);
                se_pql_free(q);
            } else if (strncmp(err, "pql: ", 5) != 0 || !strstr(err, "column ")) {
                fail_msg("bad message for prefix %zu of #%d: %s", i, k, err);
            }
        }
    }
}

/* ------------------------------------------------------------ EXAMPLES.md */

/* Published expressions outside the subset: every one must be rejected. */
static const int unsupported_examples[] = {
    8,  /* unterminated string (typo as published) */
    44, 45, 46, 52, /* computed attributes: count / sum / min of events, numbers */
    48, /* computed attribute: groupBy(...).map(...) builds a map */
    49, 51, /* computed attributes: if(...) giving a number / a string */
    74, /* regexGroup(...) alone gives a string */
    77, 78, 79, /* ranking formulas (offer decisioning): numbers */
};

static void test_examples_rejected(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof unsupported_examples / sizeof unsupported_examples[0]; i++)
        reject(pql_examples[unsupported_examples[i]], NULL);
}

/* Every other published expression compiles. */
static void test_examples_accepted(void **state)
{
    (void)state;
    for (int k = 1; k < 80; k++) {
        int skip = 0;
        char err[256];
        se_pql *q = NULL;
        for (size_t i = 0; i < sizeof unsupported_examples / sizeof unsupported_examples[0]; i++)
            skip |= unsupported_examples[i] == k;
        if (skip)
            continue;
        if (se_pql_compile(pql_examples[k], &q, err, sizeof err) != 0)
            fail_msg("EXAMPLES.md #%d rejected: %s", k, err);
        se_pql_free(q);
    }
}

#define TODAY_CHECKOUT "[{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"Commerce.Checkouts\"}]"
#define OLD_CHECKOUT "[{\"timestamp\":\"2024-03-14T09:00:00Z\",\"eventType\":\"commerce.checkouts\"}]"
#define EV1(ts, rest) "[{\"timestamp\":\"" ts "\"," rest "}]"

typedef struct {
    int no;
    const char *yes_profile, *yes_events, *no_profile, *no_events;
} excase;

static const excase excases[] = {
    {1, "{}", "[{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"Commerce.Checkouts\"}]",
        "{}", "[{\"timestamp\":\"2024-03-14T09:00:00Z\",\"eventType\":\"commerce.checkouts\"}]"},
    {2, "{\"homeAddress\":{\"country\":\"CANADA\"}}", NULL, "{\"homeAddress\":{\"country\":\"US\"}}", NULL},
    {3, "{\"workAddress\":{\"country\":\"canada\"}}", TODAY_CHECKOUT, "{\"workAddress\":{\"country\":\"canada\"}}", OLD_CHECKOUT},
    {10, "{\"workAddress\":{\"country\":\"us\"}}", TODAY_CHECKOUT, "{\"workAddress\":{\"country\":\"CA\"}}", TODAY_CHECKOUT},
    {11, "{\"segmentMembership\":{\"ups\":{\"a730ed3f-119c-415b-a4ac-27c396ae2dff\":{\"status\":\"realized\"},"
         "\"8fbbe169-2da6-4c9d-a332-b6a6ecf559b9\":{\"status\":\"existing\"}}}}", NULL,
         "{\"segmentMembership\":{\"ups\":{\"a730ed3f-119c-415b-a4ac-27c396ae2dff\":{\"status\":\"realized\"},"
         "\"8fbbe169-2da6-4c9d-a332-b6a6ecf559b9\":{\"status\":\"exited\"}}}}", NULL},
    {14, "{\"homeAddress\":{\"countryCode\":\"US\"}}", NULL, "{\"homeAddress\":{\"countryCode\":[\"US\"]}}", NULL},
    {18, "{\"homeAddress\":{\"countryCode\":\"US\"}}", EV1("2024-03-10T00:00:00Z", "\"eventType\":\"addToCart\""),
         "{\"homeAddress\":{\"countryCode\":\"US\"}}", EV1("2024-03-07T00:00:00Z", "\"eventType\":\"addToCart\"")},
    {22, "{}", EV1("2024-03-15T00:00:00Z", "\"eventType\":\"homePageView\""),
         "{}", "[" "{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T04:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T05:00:00Z\",\"eventType\":\"homePageView\"}]"},
    {29, "{}", EV1("2024-03-15T01:00:00Z", "\"_experience\":{\"analytics\":{\"endUser\":{\"firstWeb\":{\"webPageDetails\":{\"isHomePage\":true}}}}}"),
         "{}", EV1("2024-03-15T01:00:00Z", "\"_experience\":{\"analytics\":{\"endUser\":{\"firstWeb\":{\"webPageDetails\":{\"isHomePage\":\"true\"}}}}}")},
    {32, "{}", "[{\"id\":\"a\",\"timestamp\":\"2024-03-10T00:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":1}}}},"
               "{\"id\":\"b\",\"timestamp\":\"2024-03-11T23:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":1}}}}]",
         "{}", "[{\"id\":\"a\",\"timestamp\":\"2024-03-10T00:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":1}}}},"
               "{\"id\":\"b\",\"timestamp\":\"2024-03-12T00:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":1}}}}]"},
    {35, "{}", EV1("2024-03-10T00:00:00Z", "\"commerce\":{\"order\":{}},\"productListItems\":[{\"SKU\":\"PS\"}]"),
         "{}", EV1("2024-03-10T00:00:00Z", "\"productListItems\":[{\"SKU\":\"PS\"}]")},
    {37, "{\"homeAddress\":{\"countryISO\":\"US\"}}",
         "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"order\":{}}},{\"timestamp\":\"2024-03-02T00:00:00Z\",\"commerce\":{\"order\":{}}}]",
         "{\"homeAddress\":{\"countryISO\":\"CA\"}}",
         "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"order\":{}}},{\"timestamp\":\"2024-03-02T00:00:00Z\",\"commerce\":{\"order\":{}}}]"},
    {54, "{\"workAddress\":{\"country\":\"US\"}}", NULL, "{}", NULL},
    {5, "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"realized\"}}}}",
        "[{\"timestamp\":\"2024-03-14T12:00:00Z\",\"eventType\":\"commerce.checkouts\"}]",
        "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"realized\"}}}}",
        "[{\"timestamp\":\"2024-03-14T11:59:59Z\",\"eventType\":\"commerce.checkouts\"}]"},
    {6, "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"existing\"}}}}",
        "[{\"timestamp\":\"2024-03-15T11:00:00Z\",\"eventType\":\"commerce.checkouts\"}]",
        "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"exited\"}}}}",
        "[{\"timestamp\":\"2024-03-15T11:00:00Z\",\"eventType\":\"commerce.checkouts\"}]"},
    {7, "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"realized\"},"
        "\"9e1646bb-57ff-4309-ba59-17d6c5bab6a1\":{\"status\":\"realized\"}}}}", NULL,
        "{\"segmentMembership\":{\"ups\":{\"e3be6d7f-1727-401f-a41e-c296b45f607a\":{\"status\":\"realized\"}}}}", NULL},
    {9, "{\"homeAddress\":{\"country\":\"us\"}}", NULL, "{\"homeAddress\":{\"country\":\"USA\"}}", NULL},
    {12, "{\"homeAddress\":{\"country\":\"US\"}}", NULL, "{\"homeAddress\":{\"country\":\"us\"}}", NULL},
    {13, "{}", "[{\"timestamp\":\"2001-01-01T00:00:00Z\",\"eventType\":\"addToCart\"}]",
         "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"eventType\":\"addtocart\"}]"},
    {15, "{\"homeAddress\":{\"countryCode\":\"US\"}}", "[{\"timestamp\":\"2001-01-01T00:00:00Z\",\"eventType\":\"addToCart\"}]",
         "{\"homeAddress\":{\"countryCode\":\"CA\"}}", "[{\"timestamp\":\"2001-01-01T00:00:00Z\",\"eventType\":\"addToCart\"}]"},
    {16, "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"eventType\":\"addToCart\"}]",
         "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"eventType\":\"homePageView\"}]"},
    {17, "{}", "[{\"timestamp\":\"2024-03-07T12:00:00.001Z\",\"eventType\":\"addToCart\"}]",
         "{}", "[{\"timestamp\":\"2024-03-07T12:00:00Z\",\"eventType\":\"addToCart\"}]"},
    {19, "{\"homeAddress\":{\"countryCode\":\"US\"}}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"eventType\":\"addToCart\"}]",
         "{\"homeAddress\":{\"countryCode\":\"US\"}}", "[{\"timestamp\":\"2024-03-10T00:00:00Z\",\"eventType\":\"addToCart\"}]"},
    {20, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T04:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-14T12:00:01Z\",\"eventType\":\"homePageView\"}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-15T04:00:00Z\",\"eventType\":\"homePageView\"},"
               "{\"timestamp\":\"2024-03-14T12:00:00Z\",\"eventType\":\"homePageView\"}]"},
    {24, "{\"homeAddress\":{\"countryCode\":\"US\"}}",
         "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"homePageView\"},"
         "{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"checkoutPageView\"}]",
         "{\"homeAddress\":{\"countryCode\":\"US\"}}",
         "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"homePageView\"}]"},
    {25, "{\"homeAddress\":{\"countryCode\":\"US\"},\"segmentMembership\":{\"ups\":{\"existing segment\":{\"status\":\"realized\"}}}}", NULL,
         "{\"homeAddress\":{\"countryCode\":\"US\"}}", NULL},
    {28, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"_experience\":{\"analytics\":{\"endUser\":{\"firstWeb\":{\"webPageDetails\":{\"isHomePage\":false}}}}}}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"_experience\":{\"analytics\":{\"endUser\":{\"firstWeb\":{\"webPageDetails\":{\"isHomePage\":true}}}}}}]"},
    {30, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"metrics\":{\"commerce\":{\"productListViews\":{\"value\":2}}},\"productListItems\":[{\"SKU\":\"X\"},{\"SKU\":\"PS\"}]}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"metrics\":{\"commerce\":{\"productListViews\":{\"value\":0}}},\"productListItems\":[{\"SKU\":\"PS\"}]},"
               "{\"timestamp\":\"2024-03-15T01:00:00Z\",\"metrics\":{\"commerce\":{\"productListViews\":{\"value\":3}}},\"productListItems\":[{\"SKU\":\"ps\"}]}]"},
    {31, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":0.5}}}}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"metrics\":{\"commerce\":{\"abandons\":{\"value\":0}}}}]"},
    {33, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"commerce\":{\"order\":{}}}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"commerce\":{\"order\":null}}]"},
    {34, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"commerce\":{\"order\":{\"purchaseId\":\"p\"}}}]",
         "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"commerce\":{\"order\":{\"purchaseId\":\"\"}}},{\"timestamp\":\"2024-03-15T01:00:00Z\",\"commerce\":{\"order\":{}}}]"},
    {36, "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"order\":{}}},{\"timestamp\":\"2024-03-14T23:59:59Z\",\"commerce\":{\"order\":{}}}]",
         "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"order\":{}}},{\"timestamp\":\"2024-03-15T00:00:00Z\",\"commerce\":{\"order\":{}}}]"},
    {38, "{}", "[{\"timestamp\":\"2024-03-14T23:59:59Z\"}]", "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\"}]"},
    {39, "{}", "[{\"timestamp\":\"2024-03-14T23:59:59Z\",\"productListItems\":[{\"SKU\":\"PS\"}]}]",
         "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"productListItems\":[{\"SKU\":\"PS\"}]},{\"timestamp\":\"2024-03-14T00:00:00Z\",\"productListItems\":[{\"SKU\":\"P\"}]}]"},
    {41, "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"type\":\"FLIGHT\"},{\"timestamp\":\"2024-03-15T00:00:00Z\",\"type\":\"FLIGHT\"},{\"timestamp\":\"2024-03-15T00:00:00Z\",\"type\":\"LOST_BAG\"}]",
         "{}", "[{\"timestamp\":\"2024-03-15T00:00:00Z\",\"type\":\"FLIGHT\"},{\"timestamp\":\"2024-03-15T00:00:00Z\",\"type\":\"LOST_BAG\"}]"},
    {42, "{\"stateProvinceISO\":\"MO\"}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"ts_flight\":\"2024-02-15T00:00:00Z\"}]",
         "{\"stateProvinceISO\":\"MO\"}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"ts_flight\":\"2024-02-14T23:59:59Z\"}]"},
    {43, "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"type\":\"FLIGHT\",\"destination\":\"DAL\"}]",
         "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"type\":\"FLIGHT\",\"destination\":\"LAX\"},{\"timestamp\":\"2024-03-01T00:00:00Z\",\"type\":\"BUS\",\"destination\":\"SJC\"}]"},
    {47, "{}", "[{\"timestamp\":\"2024-03-09T00:00:00Z\",\"eventType\":\"transaction\"}]",
         "{}", "[{\"timestamp\":\"2024-03-08T00:00:00Z\",\"eventType\":\"transaction\"}]"},
    {50, "{\"person\":{\"birthYear\":2000}}", NULL, "{\"person\":{\"birthYear\":\"2001\"}}", NULL},
    {55, "{\"homeAddress\":{\"countryISO\":\"US\",\"stateProvinceISO\":\"OR\"}}", NULL,
         "{\"homeAddress\":{\"countryISO\":\"US\",\"stateProvinceISO\":\"or\"}}", NULL},
    {56, "{\"homeAddress\":{}}", NULL, "{\"homeAddress\":null}", NULL},
    {57, "{\"homeAddress\":{\"countryISO\":\"US\"},\"workAddress\":{\"countryISO\":\"US\"}}", NULL,
         "{\"homeAddress\":{\"countryISO\":\"US\"}}", NULL},
    {58, "{\"workEmail\":{\"address\":\"a@b.edu\"}}", NULL, "{\"workEmail\":{\"address\":\"a@b.edu.au\"}}", NULL},
    {59, "{\"_repo\":{\"modifyDate\":\"2019-04-02T00:00:00Z\"}}", NULL, "{\"_repo\":{\"modifyDate\":\"2019-04-01T23:59:59Z\"}}", NULL},
    {60, "{\"_repo\":{\"lastModifiedDate\":\"2024-03-15T11:30:00Z\"}}", NULL,
         "{\"_repo\":{\"lastModifiedDate\":\"2024-03-15T11:29:59.999Z\"}}", NULL},
    {61, "{\"personalEmail\":{\"address\":\"a@TESTXDMMAIL.COM\"}}", NULL, "{\"personalEmail\":{\"address\":\"a@testxdmmail.co\"}}", NULL},
    {62, "{\"person\":{\"gender\":\"male\"}}", NULL, "{\"person\":{\"gender\":\"female\"}}", NULL},
    {65, "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"item\":{\"price\":51}},\"productListItems\":[{\"SKU\":\"PS\"}]}]",
         "{}", "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"item\":{\"price\":50}},\"productListItems\":[{\"SKU\":\"PS\"}]}]"},
    {68, "{\"product\":{\"saleDate\":\"2017-07-01T23:00:00Z\"}}", NULL, "{\"product\":{\"saleDate\":\"2017-07-02T00:00:00Z\"}}", NULL},
};

static void test_examples_evaluated(void **state)
{
    (void)state;
    assert_true(sizeof excases / sizeof excases[0] >= 15);
    for (size_t i = 0; i < sizeof excases / sizeof excases[0]; i++) {
        const excase *c = &excases[i];
        const char *e = pql_examples[c->no];
        if (!ev(e, c->yes_profile, c->yes_events))
            fail_msg("EXAMPLES.md #%d should match its profile: %s", c->no, e);
        if (ev(e, c->no_profile, c->no_events))
            fail_msg("EXAMPLES.md #%d should not match its profile: %s", c->no, e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_boolean_ops),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_string_functions),
        cmocka_unit_test(test_like),
        cmocka_unit_test(test_isnull),
        cmocka_unit_test(test_insegment),
        cmocka_unit_test(test_occurs_n_before_now),
        cmocka_unit_test(test_occurs_calendar),
        cmocka_unit_test(test_occurs_after),
        cmocka_unit_test(test_occurs_days),
        cmocka_unit_test(test_select_exists),
        cmocka_unit_test(test_filter_chain),
        cmocka_unit_test(test_null_events),
        cmocka_unit_test(test_reject_messages),
        cmocka_unit_test(test_reject_depth),
        cmocka_unit_test(test_long_chains),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_examples_rejected),
        cmocka_unit_test(test_examples_accepted),
        cmocka_unit_test(test_examples_evaluated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
