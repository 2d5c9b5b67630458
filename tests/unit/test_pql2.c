/* Unit tests for PQL beyond the first subset (issue 12): aggregations,
 * filters on any array with ^, relative time, date functions, arithmetic,
 * array/set/map functions, lambdas and $1, forall, let, regular expressions,
 * case-insensitive comparison beyond Latin-1, chain sequences.  Each test
 * names the reference page (/work/shared/reference/pql/) whose example it
 * uses; now is fixed (Friday 2024-03-15 12:00 UTC). */
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

static int64_t ts(const char *s)
{
    int64_t t;
    assert_int_equal(se_time_parse(s, &t), 0);
    return t;
}

#define NOW ts("2024-03-15T12:00:00.000Z")

/* Compiles expr (must succeed) and evaluates it on profile/events at now. */
static bool eval_at(const char *expr, const char *profile, const char *events, int64_t now)
{
    char err[256] = "";
    se_pql *q = NULL;
    json_object *p = json_tokener_parse(profile), *ev = json_tokener_parse(events ? events : "[]");
    if (!p || !ev)
        fail_msg("test JSON does not parse: %s / %s", profile, events);
    size_t n = json_object_array_length(ev);
    json_object **arr = calloc(n + 1, sizeof *arr);
    bool m = true;
    assert_non_null(arr);
    for (size_t i = 0; i < n; i++)
        arr[i] = json_object_array_get_idx(ev, i);
    if (se_pql_compile(expr, &q, err, sizeof err) != 0)
        fail_msg("compile failed: %s: %s", expr, err);
    assert_int_equal(se_pql_eval(q, p, arr, n, now, &m), 0);
    se_pql_free(q);
    free(arr);
    json_object_put(p);
    json_object_put(ev);
    return m;
}

static void check(const char *expr, const char *profile, const char *events, bool want)
{
    bool got = eval_at(expr, profile, events, NOW);
    if (got != want)
        fail_msg("%s on %s / %s: expected %s, got %s", expr, profile, events ? events : "[]",
                 want ? "true" : "false", got ? "true" : "false");
}

#define YES(e, p, ev) check(e, p, ev, true)
#define NO(e, p, ev) check(e, p, ev, false)

static const char *ORDERS =
    "[{\"timestamp\":\"2024-03-14T10:00:00Z\",\"eventType\":\"transaction\",\"category\":\"sporting goods\","
    "\"commerce\":{\"order\":{\"priceTotal\":60,\"currencyCode\":\"USD\"}},"
    "\"productListItems\":[{\"SKU\":\"PS\"},{\"SKU\":\"XB\"}]},"
    "{\"timestamp\":\"2024-03-12T10:00:00Z\",\"eventType\":\"transaction\",\"category\":\"sporting goods\","
    "\"commerce\":{\"order\":{\"priceTotal\":50.5,\"currencyCode\":\"USD\"}},\"productListItems\":[{\"SKU\":\"XB\"}]},"
    "{\"timestamp\":\"2024-02-01T10:00:00Z\",\"eventType\":\"transaction\",\"category\":\"sporting goods\","
    "\"commerce\":{\"order\":{\"priceTotal\":1000,\"currencyCode\":\"EUR\"}}},"
    "{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"download\",\"contentType\":\"image\"}]";

/* aggregation-functions.md, computed-attributes.expressions.md (as conditions),
 * misc-functions.md (let), kirby_docs.unified_profile_pql.md (sum .. over). */
static void test_aggregations(void **state)
{
    (void)state;
    const char *P = "{\"orders\":[{\"order\":{\"price\":10}},{\"order\":{\"price\":2.5}},{\"order\":{}}]}";
    YES("orders.count() = 3", P, NULL);
    YES("orders.sum(order.price) = 12.5", P, NULL);
    YES("orders.average(order.price) = 6.25", P, NULL); /* no price: left out */
    YES("orders.min(order.price) = 2.5", P, NULL);
    YES("orders.max(order.price) = 10", P, NULL);
    NO("orders.max(order.price) > 10", P, NULL);
    /* empty: sum 0, average/min/max null (false in any comparison) */
    YES("nothing.sum(x) = 0", "{\"nothing\":[]}", NULL);
    NO("nothing.average(x) = 0", "{\"nothing\":[]}", NULL);
    NO("nothing.min(x) != 0", "{\"nothing\":[]}", NULL);
    YES("n.sum() = 6 and n.max() = 3 and n.min() = 1", "{\"n\":[1,2,3]}", NULL);
    /* computed-attributes.expressions.md #44-#46, #52, compared */
    YES("xEvent[(timestamp occurs < 7 days before now) and eventType=\"download\" and contentType = \"image\"].count() = 1", "{}", ORDERS);
    YES("xEvent[(timestamp occurs < 7 days before now) and eventType=\"transaction\" and category = \"sporting goods\"].sum(commerce.order.priceTotal) = 110.5", "{}", ORDERS);
    YES("xEvent[(timestamp occurs < 7 days before now) and eventType=\"transaction\" and category = \"sporting goods\"].min(commerce.order.priceTotal) = 50.5", "{}", ORDERS);
    YES("xEvent[eventType = \"transaction\"].sum(commerce.order.priceTotal) > 100", "{}", ORDERS);
    NO("xEvent[eventType = \"transaction\"].sum(commerce.order.priceTotal) > 2000", "{}", ORDERS);
    YES("xEvent.sum(commerce.order.priceTotal) = 1110.5", "{}", ORDERS);
    YES("xEvent.average(commerce.order.priceTotal) = 370.1666666666667 or xEvent.average(commerce.order.priceTotal) > 370", "{}", ORDERS);
    YES("xEvent[eventType = \"download\"].count() = 1 and xEvent.count() = 4", "{}", ORDERS);
    /* misc-functions.md: let with sum .. over */
    YES("let S = (sum X.commerce.order.priceTotal over X from xEvent where X.commerce.order.currencyCode = \"USD\") in (S > 100 and S < 1000)", "{}", ORDERS);
    NO("let S = (sum X.commerce.order.priceTotal over X from xEvent where X.commerce.order.currencyCode = \"EUR\") in (S > 100 and S < 1000)", "{}", ORDERS);
    YES("(sum X from n where X > 1) = 5", "{\"n\":[1,2,3]}", NULL);
    YES("(average X.commerce.order.priceTotal over X from xEvent where X.commerce.order.currencyCode = \"USD\") = 55.25", "{}", ORDERS);
    YES("(min X.commerce.order.priceTotal over X from xEvent) = 50.5 and (max X.commerce.order.priceTotal over X from xEvent) = 1000", "{}", ORDERS);
    NO("(average X.a over X from xEvent where X.a > 1) = 0", "{}", ORDERS); /* no tuple: null */
    /* kirby (two variables): pairs of orders within 2 weeks */
    YES("(sum X.commerce.order.priceTotal + Y.commerce.order.priceTotal over X from xEvent where X.commerce.order, Y from xEvent where Y.commerce.order and Y.timestamp occurs < 2 weeks after X.timestamp) = 110.5", "{}", ORDERS);
    /* let, several bindings */
    YES("let a = person.age, b = a * 2 in b = 84", "{\"person\":{\"age\":42}}", NULL);
}

/* arithmetic-functions.md; kirby: division by zero is null. */
static void test_arithmetic(void **state)
{
    (void)state;
    const char *P = "{\"product1\":{\"price\":7},\"product2\":{\"price\":2.5},\"product\":{\"inventory\":4,\"price\":2.5},"
                    "\"totalProduct\":{\"price\":10,\"sold\":4},\"person\":{\"age\":45},\"zero\":0}";
    YES("product1.price + product2.price = 9.5", P, NULL);
    YES("product.inventory * product.price = 10", P, NULL);
    YES("product1.price - product2.price = 4.5", P, NULL);
    YES("totalProduct.price / totalProduct.sold = 2.5", P, NULL);  /* / is real division */
    YES("person.age % 5 = 0", P, NULL);
    NO("person.age % 7 = 0", P, NULL);
    NO("person.age / zero > 0", P, NULL);         /* null */
    NO("not (person.age / zero <= 0) and false", P, NULL);
    YES("not (person.age / zero <= 0)", P, NULL);
    NO("person.age % zero = 0", P, NULL);
    YES("-person.age = -45 and 2 + 3 * 4 = 14 and (2 + 3) * 4 = 20 and 7 - 2 - 1 = 4", P, NULL);
    YES("9223372036854775807 * 2 > 1.8E19", P, NULL); /* overflow: double */
    NO("person.name + 1 = 1", P, NULL);
}

/* filter-functions.md: filters on any array, nested, ^ */
static void test_filters(void **state)
{
    (void)state;
    const char *M = "{\"person\":{\"gender\":\"male\"}}", *F = "{\"person\":{\"gender\":\"female\"}}";
    const char *PS = "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"productListItems\":[{\"SKU\":\"XB\"},{\"SKU\":\"PS\"}]}]";
    const char *XB = "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"productListItems\":[{\"SKU\":\"XB\"}]}]";
    YES("xEvent[productListItems[SKU=\"PS\"]]", M, PS);
    NO("xEvent[productListItems[SKU=\"PS\"]]", M, XB);
    YES("xEvent[productListItems[SKU=\"PS\" or ^^.person.gender=\"female\"]]", F, XB);
    NO("xEvent[productListItems[SKU=\"PS\" or ^^.person.gender=\"female\"]]", M, XB);
    YES("xEvent[productListItems[SKU=\"XB\" and ^.timestamp occurs before today]]", M, XB);
    YES("xEvent[productListItems[^^person.gender = \"male\"]]", M, XB); /* ^ without a dot */
    YES("tags[1 = 1].count() = 2", "{\"tags\":[\"a\",\"b\"]}", NULL);
    YES("orders[price > 5].count() = 1", "{\"orders\":[{\"price\":10},{\"price\":2}]}", NULL);
    NO("orders[price > 50]", "{\"orders\":[{\"price\":10},{\"price\":2}]}", NULL);
    NO("orders[price > 5]", "{\"orders\":{\"price\":10}}", NULL); /* not an array */
    YES("select X from xEvent[productListItems[SKU = \"PS\"]]", M, PS);
}

#define EVT(t) "[{\"timestamp\":\"" t "\"}]"
#define T(expr, t, want) check("xEvent[timestamp " expr "]", "{}", EVT(t), want)

/* datetime-functions.md and kirby occurs: this/last/next periods, = / !=,
 * from, between with periods and date arithmetic; now is Fri 2024-03-15 12:00. */
static void test_relative_time(void **state)
{
    (void)state;
    /* last month = February 2024 (kirby: a complete calendar month) */
    T("occurs last month", "2024-02-01T00:00:00Z", true);
    T("occurs last month", "2024-02-29T23:59:59.999Z", true);
    T("occurs last month", "2024-03-01T00:00:00Z", false);
    T("occurs last month", "2024-01-31T23:59:59.999Z", false);
    T("occurs this month", "2024-03-01T00:00:00Z", true);
    T("occurs this month", "2024-03-31T23:59:59Z", true);
    T("occurs this month", "2024-04-01T00:00:00Z", false);
    T("occurs next month", "2024-04-30T00:00:00Z", true);
    /* weeks start on Monday: this week is 2024-03-11 .. 03-17 */
    T("occurs last week", "2024-03-04T00:00:00Z", true);
    T("occurs last week", "2024-03-10T23:59:59Z", true);
    T("occurs last week", "2024-03-11T00:00:00Z", false);
    T("occurs this week", "2024-03-17T23:59:59Z", true);
    T("occurs this year", "2024-01-01T00:00:00Z", true);
    T("occurs last year", "2023-12-31T23:59:59Z", true);
    T("occurs last year", "2024-01-01T00:00:00Z", false);
    T("occurs this decade", "2020-01-01T00:00:00Z", true);
    T("occurs last decade", "2019-06-01T00:00:00Z", true);
    T("occurs this hour", "2024-03-15T12:59:59Z", true);
    T("occurs last hour", "2024-03-15T11:00:00Z", true);
    T("occurs last hour", "2024-03-15T12:00:00Z", false);
    T("occurs this day", "2024-03-15T00:00:00Z", true);
    /* between periods (kirby: "between last month and last week") */
    T("occurs between last month and last week", "2024-02-01T00:00:00Z", true);
    T("occurs between last month and last week", "2024-03-10T23:00:00Z", true);
    T("occurs between last month and last week", "2024-03-11T00:00:00Z", false);
    T("occurs before this month", "2024-02-29T00:00:00Z", true);
    T("occurs after last month", "2024-03-01T00:00:00Z", true);
    /* datetime-functions.md: = N units before now/today: the calendar unit
       holding that instant (3 hours before now = the 09:00 hour) */
    T("occurs = 3 hours before now", "2024-03-15T09:00:00Z", true);
    T("occurs = 3 hours before now", "2024-03-15T09:59:59.999Z", true);
    T("occurs = 3 hours before now", "2024-03-15T10:00:00Z", false);
    T("occurs = 3 hours before now", "2024-03-15T08:59:59Z", false);
    T("occurs = 3 days before today", "2024-03-12T00:00:00Z", true);
    T("occurs = 3 days before today", "2024-03-12T23:59:59Z", true);
    T("occurs = 3 days before today", "2024-03-13T00:00:00Z", false);
    T("occurs != 3 days before today", "2024-03-13T00:00:00Z", true);
    T("occurs != 3 days before today", "2024-03-12T08:00:00Z", false);
    T("occurs = 1 month before today", "2024-02-10T00:00:00Z", true); /* = last month */
    T("occurs = 3 months after today", "2024-06-30T00:00:00Z", true);
    T("occurs = 3 minutes after now", "2024-03-15T12:03:30Z", true);
    T("occurs = 300 seconds after now", "2024-03-15T12:05:00.500Z", true);
    T("occurs = 3 years before today", "2021-12-31T00:00:00Z", true);
    /* from is after: 3 days from now */
    T("occurs < 3 days from now", "2024-03-17T00:00:00Z", true);
    T("occurs < 3 days from now", "2024-03-15T12:00:00Z", false);
    /* after a day: from the end of that day */
    T("occurs < 3 days after today", "2024-03-16T00:00:00Z", true);
    T("occurs < 3 days after today", "2024-03-18T23:59:59Z", true);
    T("occurs < 3 days after today", "2024-03-19T00:00:00Z", false);
    T("occurs < 3 days after today", "2024-03-15T23:00:00Z", false);
    T("occurs > 3 weeks after date(2017, 10, 1)", "2017-10-23T00:00:01Z", true);
    T("occurs > 3 weeks after date(2017, 10, 1)", "2017-10-22T00:00:00Z", false);
    /* on an instant: its UTC day */
    T("occurs now", "2024-03-15T00:00:00Z", true);
    T("occurs on now", "2024-03-14T23:59:59Z", false);
    /* kirby: date(currentYear() - 1, 10, 1) .. date(currentYear() - 1, 12, 31) */
    T("occurs between date(currentYear() - 1, 10, 1) and date(currentYear() - 1, 12, 31)", "2023-12-31T23:59:59Z", true);
    T("occurs between date(currentYear() - 1, 10, 1) and date(currentYear() - 1, 12, 31)", "2023-10-01T00:00:00Z", true);
    T("occurs between date(currentYear() - 1, 10, 1) and date(currentYear() - 1, 12, 31)", "2024-01-01T00:00:00Z", false);
    T("occurs on date(currentYear() - 1, 10, 1)", "2023-10-01T10:00:00Z", true);
    T("occurs on date(currentYear(), 2, 30)", "2024-03-01T10:00:00Z", false); /* invalid: null */
    /* datetime-functions.md: between dates */
    check("product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
          "{\"product\":{\"saleDate\":\"2017-07-01T23:00:00Z\"}}", NULL, true);
    check("product.saleDate occurs between date(2015, 1, 8) and date(2017, 7, 1)",
          "{\"product\":{\"saleDate\":\"2015-01-07T23:00:00Z\"}}", NULL, false);
    check("product.saleDate occurs last week", "{\"product\":{\"saleDate\":\"2024-03-08\"}}", NULL, true);
    check("person.birthday occurs = 3 days before today", "{\"person\":{\"birthday\":\"2024-03-12\"}}", NULL, true);
    /* kirby occurs table: X.ts_flight occurs = 3 hours after now */
    check("select X from xEvent where X.type = \"FLIGHT\" and X.ts_flight occurs = 3 hours after now", "{}",
          "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"type\":\"FLIGHT\",\"ts_flight\":\"2024-03-15T15:30:00Z\"}]", true);
    /* fixed now moves the windows: the same event is last month in April */
    assert_true(eval_at("xEvent[timestamp occurs last month]", "{}", EVT("2024-03-20T00:00:00Z"),
                        ts("2024-04-02T00:00:00Z")));
    assert_false(eval_at("xEvent[timestamp occurs last month]", "{}", EVT("2024-03-20T00:00:00Z"), NOW));
}

/* datetime-functions.md: currentMonth, getMonth, currentYear, getYear,
 * currentDayOfMonth, getDayOfMonth (UTC). */
static void test_date_functions(void **state)
{
    (void)state;
    YES("person.birthMonth = currentMonth()", "{\"person\":{\"birthMonth\":3}}", NULL);
    NO("person.birthMonth = currentMonth()", "{\"person\":{\"birthMonth\":4}}", NULL);
    YES("person.birthdate.getMonth() = 6", "{\"person\":{\"birthdate\":\"1990-06-30T20:30:00-02:00\"}}", NULL);
    YES("person.birthdate.getMonth() = 7", "{\"person\":{\"birthdate\":\"1990-06-30T23:30:00-02:00\"}}", NULL); /* UTC */
    YES("product.saleYear = currentYear()", "{\"product\":{\"saleYear\":2024}}", NULL);
    YES("person.birthday.getYear() in [1991, 1992, 1993, 1994, 1995]", "{\"person\":{\"birthday\":\"1993-02-01\"}}", NULL);
    NO("person.birthday.getYear() in [1991, 1992, 1993, 1994, 1995]", "{\"person\":{\"birthday\":\"1996-02-01\"}}", NULL);
    YES("person.birthDay = currentDayOfMonth()", "{\"person\":{\"birthDay\":15}}", NULL);
    YES("product.sale.getDayOfMonth() <= 15", "{\"product\":{\"sale\":1710028800000}}", NULL); /* epoch ms: 03-10 */
    NO("product.sale.getDayOfMonth() <= 15", "{\"product\":{\"sale\":\"2024-03-16T00:00:00Z\"}}", NULL);
    YES("currentMonth() in [3, 4, 5] and currentYear() in [2015, 2024]", "{}", NULL);
    YES("select X from xEvent where X.timestamp.getYear() = currentYear()", "{}", EVT("2024-01-01T00:00:00Z"));
    NO("person.x.getYear() = 2024", "{\"person\":{\"x\":\"soon\"}}", NULL);
    YES("date(2024, 2, 29).getDayOfMonth() = 29", "{}", NULL);
}

/* array-functions.md (and kirby intersects/intersection), map-functions.md */
static void test_array_functions(void **state)
{
    (void)state;
    const char *P = "{\"person\":{\"birthMonth\":6,\"favoriteColors\":[\"orange\",\"blue\",\"brown\"],"
        "\"favoriteCities\":[\"Paris\",\"Rome\"],\"visitedCities\":[\"Rome\",\"Oslo\",\"Paris\"],"
        "\"eatenFoods\":[\"pizza\",\"sushi\",\"taco\"],"
        "\"orders\":[{\"storeId\":\"s1\",\"price\":5},{\"storeId\":\"s2\",\"price\":9},{\"storeId\":\"s1\",\"price\":7}]},"
        "\"person1\":{\"favoriteColors\":[\"red\",\"blue\",\"green\",\"pink\"]},"
        "\"person2\":{\"favoriteColors\":[\"green\",\"red\",\"blue\"]},"
        "\"identityMap\":{\"example@example.com\":[{\"id\":\"1\"}],\"ECID\":[{\"id\":\"2\"}]}}";
    YES("person.birthMonth in [3, 6, 9]", P, NULL);
    NO("person.birthMonth notIn [3, 6, 9]", P, NULL);
    NO("person.missing notIn [3, 6, 9]", P, NULL);
    YES("person.favoriteColors.intersects([\"red\", \"blue\", \"green\"])", P, NULL);
    NO("person.favoriteColors.intersects([\"yellow\", \"violet\"])", P, NULL);
    NO("not(person.visitedCities.intersects(person.favoriteCities))", P, NULL);
    YES("person1.favoriteColors.intersection(person2.favoriteColors) = [\"red\", \"blue\", \"green\"]", P, NULL);
    NO("person.favoriteColors.intersection([\"yellow\"]).isNotNull()", P, NULL); /* none: null */
    YES("person.favoriteCities.subsetOf(person.visitedCities)", P, NULL);
    NO("person.visitedCities.subsetOf(person.favoriteCities)", P, NULL);
    YES("person.eatenFoods.supersetOf([\"sushi\", \"pizza\"])", P, NULL);
    NO("person.eatenFoods.supersetOf([\"sushi\", \"burger\"])", P, NULL);
    YES("person.favoriteColors.includes(\"blue\")", P, NULL);
    NO("person.favoriteColors.includes(\"red\")", P, NULL);
    YES("person.orders.storeId.distinct().count() > 1", P, NULL);
    NO("person.orders.storeId.distinct().count() > 2", P, NULL);
    YES("[1, 1, 2].distinct() = [1, 2]", P, NULL);
    YES("person.orders.topN(price, 2).head().price = 9", P, NULL);
    YES("person.orders.bottomN(price, 2).head().price = 5", P, NULL);
    YES("person.orders.topN(price, 5).count() = 3", P, NULL);
    YES("person.orders.head().storeId = \"s1\"", P, NULL);
    YES("person.orders.filter(price >= 7).count() = 2", P, NULL);
    YES("person.orders.map(price * 2).sum() = 42", P, NULL);
    YES("person.orders.exists(storeId = \"s2\")", P, NULL);
    NO("person.orders.exists(storeId = \"s3\")", P, NULL);
    YES("person.orders.count() = 3 and person.favoriteColors.count() = 3", P, NULL);
    YES("\"Rome\" in person.visitedCities", P, NULL);
    YES("person.orders.storeId = \"s2\"", P, NULL);        /* a projection: some item */
    YES("person.orders.storeId in [\"s2\", \"s9\"] and person.orders.storeId notIn [\"s1\"]", P, NULL);
    NO("person.orders.storeId in [\"s9\"]", P, NULL);
    YES("person.orders.storeId.startsWith(\"S\", false) and person.orders.storeId like \"s_\" and person.orders.storeId matches \"2$\"", P, NULL);
    NO("person.orders.storeId.endsWith(\"3\")", P, NULL);
    /* kirby "Operation on a Set": a field of a select's result */
    YES("(select X from xEvent where X.type = \"FLIGHT\").homeAddress.countryISO = \"US\"", P,
        "[{\"type\":\"FLIGHT\",\"homeAddress\":{\"countryISO\":\"US\"}},{\"type\":\"BUS\"}]");
    NO("(select X from xEvent where X.type = \"LOST_BAG\").homeAddress.countryISO = \"US\"", P,
        "[{\"type\":\"FLIGHT\",\"homeAddress\":{\"countryISO\":\"US\"}}]");
    /* kirby Example 2: two variables, F1 != F2 compares the events */
    YES("select F1 from xEvent where F1.type = \"FLIGHT\", F2 from xEvent where F2.type = \"FLIGHT\" and F1 != F2 and F2.ts_flight occurs <= 30 days after F1.ts_flight", P,
        "[{\"type\":\"FLIGHT\",\"ts_flight\":\"2024-01-01T00:00:00Z\"},{\"type\":\"FLIGHT\",\"ts_flight\":\"2024-01-20T00:00:00Z\"}]");
    NO("select F1 from xEvent where F1.type = \"FLIGHT\", F2 from xEvent where F2.type = \"FLIGHT\" and F1 != F2 and F2.ts_flight occurs <= 30 days after F1.ts_flight", P,
        "[{\"type\":\"FLIGHT\",\"ts_flight\":\"2024-01-01T00:00:00Z\"},{\"type\":\"FLIGHT\",\"ts_flight\":\"2024-03-20T00:00:00Z\"}]");
    /* map-functions.md */
    YES("identityMap.get(\"example@example.com\")", P, NULL);
    NO("identityMap.get(\"other\")", P, NULL);
    YES("identityMap.keys().includes(\"ECID\") and identityMap.keys().count() = 2", P, NULL);
    YES("identityMap.values().count() = 2", P, NULL);
    /* EXAMPLES.md #26's method: values().exists(cond) */
    YES("m.values().exists(stringProperty = \"active\")", "{\"m\":{\"a\":{\"stringProperty\":\"active\"}}}", NULL);
    /* not arrays: false / null */
    NO("person.birthMonth.intersects([6])", P, NULL);
    NO("person.birthMonth.includes(6)", P, NULL);
    NO("person.birthMonth.count() = 1", P, NULL);
}

/* overview.md: lambdas and $1; logical-quantifiers.md: exists, forall;
 * boolean-functions.md: if. */
static void test_lambdas_quantifiers(void **state)
{
    (void)state;
    const char *SAME = "{\"homeAddress\":{\"stateProvince\":\"CA\"},\"workAddress\":{\"stateProvince\":\"CA\"}}";
    const char *DIFF = "{\"homeAddress\":{\"stateProvince\":\"CA\"},\"workAddress\":{\"stateProvince\":\"OR\"}}";
    YES("(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince", SAME, NULL);
    NO("(Profile) => Profile.homeAddress.stateProvince = Profile.workAddress.stateProvince", DIFF, NULL);
    YES("$1.homeAddress.stateProvince = $1.homeAddress.stateProvince", DIFF, NULL);
    NO("$1.homeAddress.stateProvince = $1.workAddress.stateProvince", DIFF, NULL);
    YES("Profile => Profile.homeAddress.stateProvince = \"CA\"", DIFF, NULL);
    YES("n.filter(x => x > 1).count() = 2 and n.map(x => $1 * 10).sum() = 60", "{\"n\":[1,2,3]}", NULL);
    /* in a filter or a per-item argument, $1 is the item */
    YES("n.filter($1 > 1).count() = 2 and n.map($1 * 10).sum() = 60 and n[$1 = 2]", "{\"n\":[1,2,3]}", NULL);
    YES("xEvent[$1.eventType = \"view\"] and xEvent.exists($1.eventType = \"view\")", "{}", "[{\"eventType\":\"view\"}]");
    NO("n[$1 > 3]", "{\"n\":[1,2,3]}", NULL);
    const char *E2 = "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"item\":{\"price\":60}},\"productListItems\":[{\"SKU\":\"PS\"}]},"
                     "{\"timestamp\":\"2024-03-02T00:00:00Z\",\"commerce\":{\"item\":{\"price\":70}},\"productListItems\":[{\"SKU\":\"PS\"},{\"SKU\":\"PS\"}]}]";
    const char *E3 = "[{\"timestamp\":\"2024-03-01T00:00:00Z\",\"commerce\":{\"item\":{\"price\":60}},\"productListItems\":[{\"SKU\":\"PS\"}]},"
                     "{\"timestamp\":\"2024-03-02T00:00:00Z\",\"commerce\":{\"item\":{\"price\":70}},\"productListItems\":[{\"SKU\":\"XB\"}]}]";
    const char *Q = "exists E from xEvent where (E.commerce.item.price > 50), I from E.productListItems where I.SKU = \"PS\"";
    const char *A = "forall E from xEvent where (E.commerce.item.price > 50), I from E.productListItems where I.SKU = \"PS\"";
    YES(Q, "{}", E3);
    YES(A, "{}", E2);
    NO(A, "{}", E3);
    YES(A, "{}", "[]"); /* no events: vacuously true */
    YES("exists X from n : X > 2", "{\"n\":[1,3]}", NULL);
    YES("forall X from n : X > 0", "{\"n\":[1,3]}", NULL);
    NO("forall X from n : X > 1", "{\"n\":[1,3]}", NULL);
    /* a quantifier inside a clause's array: its variables take this clause's
     * slot while the array is read (found by fuzz_pql: the outer name was freed) */
    const char *NEST = "exists A from (select B from xEvent where B.commerce.item.price > 65) where "
                       "A.productListItems.count() = 2 and A.commerce.item.price > 65";
    YES(NEST, "{}", E2);
    NO(NEST, "{}", E3);
    /* boolean-functions.md: if as a value inside a condition */
    YES("if (homeAddress.countryISO = \"CA\", 1, 2) = 1", "{\"homeAddress\":{\"countryISO\":\"CA\"}}", NULL);
    YES("if (homeAddress.countryISO = \"CA\", 1, 2) = 2", "{\"homeAddress\":{\"countryISO\":\"US\"}}", NULL);
    YES("if(a = 1, b = 2, c = 3)", "{\"a\":2,\"c\":3}", NULL);
}

/* string-functions.md and kirby string functions: like, matches (PCRE2),
 * regexGroup, case-insensitive comparison beyond Latin-1. */
static void test_strings(void **state)
{
    (void)state;
#define NAME(v) "{\"person\":{\"firstName\":\"" v "\",\"name\":\"" v "\"},\"firstName\":\"" v "\",\"city\":\"" v "\"}"
    /* kirby like: John% / %John / J_hn */
    YES("person.firstName like \"John%\"", NAME("Johnny"), NULL);
    NO("person.firstName like \"John%\"", NAME("UpJohn"), NULL);
    YES("person.firstName like \"%John\"", NAME("UpJohn"), NULL);
    NO("person.firstName like \"%John\"", NAME("Johnny"), NULL);
    YES("person.firstName like \"J_hn\"", NAME("Jahn"), NULL);
    NO("person.firstName like \"J_hn\"", NAME("UpJohn"), NULL);
    YES("city like \"%es%\"", NAME("Los Angeles"), NULL);
    YES("person.firstName.like(\"J%\")", NAME("John"), NULL); /* method form */
    /* kirby matches: a match anywhere (Java find) */
    YES("firstName matches \"John\"", NAME("UpJohn"), NULL);
    YES("person.firstName matches \"^John\"", NAME("Johnny"), NULL);
    NO("person.firstName matches \"^John\"", NAME("UpJohn"), NULL);
    NO("person.firstName matches \"^John\"", NAME("JOHN"), NULL);
    YES("person.firstName matches \"John$\"", NAME("UpJohn"), NULL);
    NO("person.firstName matches \"John$\"", NAME("Johnny"), NULL);
    YES("person.firstName matches \"J.hn\"", NAME("Jahn"), NULL);
    NO("person.firstName matches \"J.hn\"", NAME("JOHN"), NULL);
    YES("person.firstName matches \"^J.*n$\"", NAME("Jonathan"), NULL);
    NO("person.firstName matches \"^J.*n$\"", NAME("Johnny"), NULL);
    YES("person.firstName matches \"(?i)john\"", NAME("JOHN"), NULL);
    /* string-functions.md: matches("(?i)^John") */
    YES("person.name.matches(\"(?i)^John\")", NAME("jOHN smith"), NULL);
    NO("person.name.matches(\"(?i)^John\")", NAME("Mr John"), NULL);
    YES("person.name.matches(\"\\\\w+ \\\\d{2}\")", NAME("abc 12"), NULL);
    YES("person.name matches person.firstName", NAME("x.y"), NULL); /* a pattern from the data */
    NO("person.name matches person.missing", NAME("x"), NULL);
    /* string-functions.md: regexGroup (its example, then compared) */
    YES("emailAddress.regexGroup(\"@(\\\\w+)\", 1) = \"example\"", "{\"emailAddress\":\"joe@example.com\"}", NULL);
    YES("emailAddress.regexGroup(\"@(\\\\w+)\", 0) = \"@example\"", "{\"emailAddress\":\"joe@example.com\"}", NULL);
    NO("emailAddress.regexGroup(\"@(\\\\w+)\", 1).isNotNull()", "{\"emailAddress\":\"joe.example.com\"}", NULL);
    /* case-insensitive beyond Latin-1: Greek, Cyrillic, Turkish dotless i stays distinct */
    YES("n.equals(\"ΣΟΦΊΑ\", false)", "{\"n\":\"σοφία\"}", NULL);
    YES("n.equals(\"МОСКВА\", false)", "{\"n\":\"москва\"}", NULL);
    NO("n.equals(\"МОСКВА\")", "{\"n\":\"москва\"}", NULL);
    YES("n.startsWith(\"ÉCO\", false) and n.endsWith(\"LE\", false) and n.contains(\"OL\", false)", "{\"n\":\"école\"}", NULL);
    NO("n.doesNotContain(\"ÖL\", false)", "{\"n\":\"xöly\"}", NULL);
    NO("n.equals(\"STRASSE\", false)", "{\"n\":\"straße\"}", NULL); /* simple case folding only */
    YES("n.equals(m, false)", "{\"n\":\"Ärger\",\"m\":\"äRGER\"}", NULL); /* from the data */
    NO("n.equals(m, false)", "{\"n\":\"Ärger\"}", NULL);
}

/* streaming-segmentation.md, api.edge-segmentation.md: chain sequences
 * (EXAMPLES.md #4: C0 then C1, strictly ordered in time), COUNT, WHERE. */
static void test_chain(void **state)
{
    (void)state;
    const char *C = "chain(xEvent, timestamp, [A: WHAT(eventType = \"view\"), B: WHAT(eventType = \"cart\"), C: WHAT(eventType = \"buy\")])";
#define E3(a, b, c) "[{\"timestamp\":\"2024-03-15T0" a ":00:00Z\",\"eventType\":\"view\"},{\"timestamp\":\"2024-03-15T0" b ":00:00Z\",\"eventType\":\"cart\"},{\"timestamp\":\"2024-03-15T0" c ":00:00Z\",\"eventType\":\"buy\"}]"
    YES(C, "{}", E3("1", "2", "3"));
    YES(C, "{}", "[{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"buy\"},"
                 "{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"view\"},"
                 "{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"cart\"}]"); /* any input order */
    NO(C, "{}", E3("1", "3", "2"));
    NO(C, "{}", E3("1", "2", "2"));      /* strict: the same instant is not after */
    NO(C, "{}", E3("2", "1", "3"));
    /* EXAMPLES.md #4 as published */
    const char *X4 = "workAddress.country.equals(\"US\", false) and CHAIN(xEvent, timestamp, [C0: WHAT(eventType.equals(\"directMarketing.emailClicked\", false)) WHEN(today), C1: WHAT(eventType.equals(\"commerce.checkouts\", false)) WHEN(today)])";
    YES(X4, "{\"workAddress\":{\"country\":\"us\"}}", "[{\"timestamp\":\"2024-03-15T08:00:00Z\",\"eventType\":\"directMarketing.emailClicked\"},"
        "{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"Commerce.Checkouts\"}]");
    NO(X4, "{\"workAddress\":{\"country\":\"us\"}}", "[{\"timestamp\":\"2024-03-15T10:00:00Z\",\"eventType\":\"directMarketing.emailClicked\"},"
        "{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"Commerce.Checkouts\"}]");
    NO(X4, "{\"workAddress\":{\"country\":\"us\"}}", "[{\"timestamp\":\"2024-03-14T08:00:00Z\",\"eventType\":\"directMarketing.emailClicked\"},"
        "{\"timestamp\":\"2024-03-15T09:00:00Z\",\"eventType\":\"Commerce.Checkouts\"}]");
    /* COUNT per step: two views, then a buy after the second */
    const char *C2 = "chain(xEvent, timestamp, [A: WHAT(eventType = \"view\") COUNT(2), B: WHAT(eventType = \"buy\")])";
    YES(C2, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"view\"},{\"timestamp\":\"2024-03-15T02:00:00Z\",\"eventType\":\"view\"},"
                  "{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"buy\"}]");
    NO(C2, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"view\"},{\"timestamp\":\"2024-03-15T04:00:00Z\",\"eventType\":\"view\"},"
                 "{\"timestamp\":\"2024-03-15T03:00:00Z\",\"eventType\":\"buy\"}]");
    /* WHERE: a further condition on the step's event (EXAMPLES.md #26) */
    const char *X26 = "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\") WHERE(externalSegmentMapProperty.values().exists(stringProperty=\"active\"))])";
    YES(X26, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"addToCart\",\"externalSegmentMapProperty\":{\"s\":{\"stringProperty\":\"active\"}}}]");
    NO(X26, "{}", "[{\"timestamp\":\"2024-03-15T01:00:00Z\",\"eventType\":\"addToCart\",\"externalSegmentMapProperty\":{\"s\":{\"stringProperty\":\"gone\"}}}]");
    /* ^ in a step reaches the profile */
    YES("chain(xEvent, timestamp, [A: WHAT(eventType = ^.fav)])", "{\"fav\":\"view\"}", E3("1", "2", "3"));
}

/* Realized / exited transitions through time: the same profile and event at
 * successive nows (the event ages out of the window). */
static void test_windows_over_time(void **state)
{
    (void)state;
    const char *q = "xEvent[eventType = \"buy\" and timestamp occurs <= 7 days before now].sum(commerce.order.priceTotal) >= 100";
    const char *ev = "[{\"timestamp\":\"2024-03-10T12:00:00Z\",\"eventType\":\"buy\",\"commerce\":{\"order\":{\"priceTotal\":120}}}]";
    assert_false(eval_at(q, "{}", ev, ts("2024-03-10T11:59:59Z")));  /* not yet */
    assert_true(eval_at(q, "{}", ev, ts("2024-03-10T12:00:00.001Z"))); /* realized */
    assert_true(eval_at(q, "{}", ev, ts("2024-03-17T12:00:00Z")));   /* 7 days: still in */
    assert_false(eval_at(q, "{}", ev, ts("2024-03-17T12:00:00.001Z"))); /* exited */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregations),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_relative_time),
        cmocka_unit_test(test_date_functions),
        cmocka_unit_test(test_array_functions),
        cmocka_unit_test(test_lambdas_quantifiers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_windows_over_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
