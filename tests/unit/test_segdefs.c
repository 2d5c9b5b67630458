/* Unit tests for segdefs.c: loading --segment-definitions files and SPEC §8's
 * recomputation of segmentMembership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "segdefs.h"
#include "timeutil.h"

#define NOW_TXT "2024-03-15T12:00:00.000Z"

static char tmpdir[64];
static char tmpfile_path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_segdefs.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(tmpfile_path, sizeof tmpfile_path, "%s/defs.json", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(tmpfile_path);
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *text)
{
    FILE *f = fopen(tmpfile_path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(se_time_parse(NOW_TXT, &t), 0);
    return t;
}

static se_segdefs *load_ok(const char *text)
{
    char err[512] = "";
    se_segdefs *d = NULL;
    write_file(text);
    if (se_segdefs_load(tmpfile_path, &d, err, sizeof err) != 0)
        fail_msg("load failed: %s", err);
    assert_non_null(d);
    return d;
}

/* Loading text must fail with "<file>: " + want (NULL: any message). */
static void load_bad(const char *text, const char *want)
{
    char err[512] = "", full[600];
    se_segdefs *d = (se_segdefs *)1;
    write_file(text);
    if (se_segdefs_load(tmpfile_path, &d, err, sizeof err) == 0)
        fail_msg("accepted: %s", text);
    assert_null(d);
    snprintf(full, sizeof full, "%s: %s", tmpfile_path, want ? want : "");
    if (want ? strcmp(err, full) != 0 : strncmp(err, full, strlen(full)) != 0 || !err[strlen(full)])
        fail_msg("expected \"%s\", got \"%s\"", full, err);
}

#define DEF(id, value) "{\"id\":\"" id "\",\"name\":\"n\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"" value "\"}}"

static void test_load_array(void **state)
{
    (void)state;
    se_segdefs *d = load_ok("[" DEF("s1", "person.gender = \\\"male\\\"") ","
                            "{\"id\":\"s2\",\"namespace\":\"other\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"homeAddress\"}}]");
    assert_int_equal(se_segdefs_count(d), 2);
    assert_string_equal(se_segdefs_id(d, 0), "s1");
    assert_string_equal(se_segdefs_ns(d, 0), "ups");
    assert_string_equal(se_segdefs_name(d, 0), "n");
    assert_string_equal(se_segdefs_id(d, 1), "s2");
    assert_string_equal(se_segdefs_ns(d, 1), "other");
    assert_string_equal(se_segdefs_name(d, 1), "");
    assert_int_equal(se_segdefs_find(d, "ups", "s1"), 0);
    assert_int_equal(se_segdefs_find(d, "other", "s2"), 1);
    assert_int_equal(se_segdefs_find(d, "ups", "s2"), -1);
    assert_int_equal(se_segdefs_find(d, "other", "s1"), -1);
    se_segdefs_free(d);
    se_segdefs_free(NULL);
    assert_int_equal(se_segdefs_count(NULL), 0);

    d = load_ok("[]");
    assert_int_equal(se_segdefs_count(d), 0);
    se_segdefs_free(d);
}

static void test_load_list_shape(void **state)
{
    (void)state;
    /* the API's GET /segment/definitions response, trimmed */
    se_segdefs *d = load_ok(
        "{\"segments\":[{\"id\":\"3da8bad9-29fb-40e0-b39e-f80322e964de\",\"schema\":{\"name\":\"_xdm.context.profile\"},"
        "\"ttlInDays\":30,\"imsOrgId\":\"{ORG_ID}\",\"name\":\"segment\",\"description\":\"\","
        "\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"workAddress.country = \\\"US\\\"\"},"
        "\"evaluationInfo\":{\"batch\":{\"enabled\":true}},\"creationTime\":1573253640000}],"
        "\"page\":{\"totalCount\":1,\"totalPages\":1,\"pageSize\":1},\"link\":{}}");
    assert_int_equal(se_segdefs_count(d), 1);
    assert_string_equal(se_segdefs_id(d, 0), "3da8bad9-29fb-40e0-b39e-f80322e964de");
    assert_string_equal(se_segdefs_name(d, 0), "segment");
    se_segdefs_free(d);
}

static void test_load_errors(void **state)
{
    (void)state;
    load_bad("[\n" DEF("a", "x") ",\n" DEF("b", "x") ",\n"
             "{\"id\":\"gold-buyers\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"xEvent.sum(commerce.order.priceTotal).median() > 1\"}}]",
             "segment \"gold-buyers\": pql: unsupported function 'median' at column 39");
    load_bad("{\"segments\":[" DEF("a", "x") "," DEF("b", "a.b.regexGroup(\\\"x\\\")") "]}",
             "segment \"b\" (\"n\"): pql: 'regexGroup' takes 2 to 2 arguments at column 5");
    load_bad("[" DEF("a", "xEvent[a = 1].sum(b)") "]",
             "segment \"a\" (\"n\"): pql: the expression computes a number (a computed attribute or ranking formula), not a segment condition at column 15");
    load_bad("[\n{\"id\": \"a\",,}\n]", "malformed JSON at line 2: quoted object property name expected");
    load_bad("", NULL);
    load_bad("{\"children\":[]}", "(root): expected an array of segment definitions or an object with \"segments\"");
    load_bad("null", "(root): expected an array of segment definitions or an object with \"segments\"");
    load_bad("{\"segments\":{}}", "segments: expected an array");
    load_bad("[1]", "[0]: expected a segment definition object");
    load_bad("[{\"expression\":{}}]", "[0].id: required");
    load_bad("[{\"id\":null,\"expression\":{}}]", "[0].id: required");
    load_bad("[{\"id\":\"\",\"expression\":{}}]", "[0].id: must not be empty");
    load_bad("[{\"id\":7,\"expression\":{}}]", "[0].id: expected a string");
    load_bad("[{\"id\":\"a\",\"namespace\":\"\",\"expression\":{}}]", "[0].namespace: must not be empty");
    load_bad("[{\"id\":\"a\",\"namespace\":1,\"expression\":{}}]", "[0].namespace: expected a string");
    load_bad("[{\"id\":\"a\",\"name\":[],\"expression\":{}}]", "[0].name: expected a string");
    load_bad("[{\"id\":\"a\"}]", "[0].expression: required");
    load_bad("[{\"id\":\"a\",\"expression\":\"x = 1\"}]", "[0].expression: expected an object");
    load_bad("[{\"id\":\"a\",\"expression\":{\"format\":\"pql/text\",\"value\":\"x\"}}]", "[0].expression.type: required");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"SQL\",\"format\":\"pql/text\",\"value\":\"x\"}}]",
             "[0].expression.type: \"SQL\" is not PQL");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"value\":\"x\"}}]", "[0].expression.format: required");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/json\",\"value\":\"{}\"}}]",
             "[0].expression.format: \"pql/json\" is not supported (only pql/text)");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\"}}]", "[0].expression.value: required");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":5}}]",
             "[0].expression.value: expected a string");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"\"}}]",
             "segment \"a\": pql: empty expression at column 1");
    load_bad("[{\"id\":\"a\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"a\\u0000b\"}}]",
             "[0].expression.value: NUL character in the expression");
    load_bad("[" DEF("a", "x") "," DEF("b", "x") "," DEF("a", "y") "]",
             "[2].id: segment \"a\" in namespace \"ups\" is already defined at [0]");
    /* the same id in two namespaces is fine */
    se_segdefs *d = load_ok("[" DEF("a", "x") ",{\"id\":\"a\",\"namespace\":\"o\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"x\"}}]");
    assert_int_equal(se_segdefs_count(d), 2);
    se_segdefs_free(d);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    char err[256];
    se_segdefs *d = (se_segdefs *)1;
    assert_int_equal(se_segdefs_load("/nonexistent/defs.json", &d, err, sizeof err), -1);
    assert_null(d);
    assert_string_equal(err, "/nonexistent/defs.json: No such file or directory");
}

static void test_parse_text(void **state)
{
    (void)state;
    char err[256];
    se_segdefs *d = NULL;
    const char *t = "[" DEF("a", "x") "]";
    assert_int_equal(se_segdefs_parse(t, strlen(t), "mem", &d, err, sizeof err), 0);
    assert_int_equal(se_segdefs_count(d), 1);
    se_segdefs_free(d);
    assert_int_equal(se_segdefs_parse("[1]", 3, "mem", &d, err, sizeof err), -1);
    assert_string_equal(err, "mem: [0]: expected a segment definition object");
}

/* Applies defs to profile (with events) at NOW; returns the profile's JSON (static buffer). */
static const char *apply(const char *defs, const char *profile, const char *events)
{
    static char out[4096];
    char err[256];
    se_segdefs *d = NULL;
    json_object *p = json_tokener_parse(profile), *ev = json_tokener_parse(events ? events : "[]");
    assert_non_null(p);
    assert_non_null(ev);
    size_t n = json_object_array_length(ev);
    json_object **arr = calloc(n + 1, sizeof *arr);
    assert_non_null(arr);
    for (size_t i = 0; i < n; i++)
        arr[i] = json_object_array_get_idx(ev, i);
    if (se_segdefs_parse(defs, strlen(defs), "defs", &d, err, sizeof err))
        fail_msg("%s", err);
    if (se_segdefs_apply(d, p, arr, n, now_ms(), err, sizeof err))
        fail_msg("%s", err);
    snprintf(out, sizeof out, "%s", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
    se_segdefs_free(d);
    free(arr);
    json_object_put(p);
    json_object_put(ev);
    return out;
}

#define M(st, t) "{\"status\":\"" st "\",\"lastQualificationTime\":\"" t "\"}"
#define OLD "2020-01-01T00:00:00Z"
#define NOWF "2024-03-15T12:00:00.000Z"

static void test_apply_transitions(void **state)
{
    (void)state;
    const char *male = "[" DEF("s", "person.gender = \\\"male\\\"") "]";
    /* match, no stored membership -> realized now (containers created) */
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", NOWF) "}}}");
    /* match, stored realized -> time kept */
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", OLD) "}}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", OLD) "}}}");
    /* match, stored existing -> realized, time kept */
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("existing", OLD) "}}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", OLD) "}}}");
    /* match, stored realized without a time -> now */
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"}}}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", NOWF) "}}}");
    /* match, stored exited -> realized now */
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("exited", OLD) "}}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", NOWF) "}}}");
    /* no match, stored realized / existing -> exited now */
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":" M("realized", OLD) "}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"s\":" M("exited", NOWF) "}}}");
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"existing\"}}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"s\":" M("exited", NOWF) "}}}");
    /* no match, stored exited -> removed, emptied containers too */
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":" M("exited", OLD) "}}}", NULL), "{}");
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":" M("exited", OLD) "},\"o\":{}}}", NULL),
                        "{\"segmentMembership\":{\"o\":{}}}");
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":" M("exited", OLD) ",\"t\":" M("realized", OLD) "}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"t\":" M("realized", OLD) "}}}");
    /* no match, nothing stored -> nothing written */
    assert_string_equal(apply(male, "{}", NULL), "{}");
    assert_string_equal(apply(male, "{\"segmentMembership\":null}", NULL), "{\"segmentMembership\":null}");
    /* a malformed stored entry: removed on no match, replaced on match */
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":\"realized\"}}}", NULL), "{}");
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":1}}}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", NOWF) "}}}");
    assert_string_equal(apply(male, "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":null}", NULL),
                        "{\"person\":{\"gender\":\"male\"},\"segmentMembership\":{\"ups\":{\"s\":" M("realized", NOWF) "}}}");
    /* other keys of an entry are kept */
    assert_string_equal(apply(male, "{\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\",\"version\":3,\"lastQualificationTime\":\"" OLD "\"}}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"exited\",\"version\":3,\"lastQualificationTime\":\"" NOWF "\"}}}}");
}

static void test_apply_namespaces_and_undefined(void **state)
{
    (void)state;
    const char *defs = "[" DEF("s", "true") ",{\"id\":\"x\",\"namespace\":\"ext\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\",\"value\":\"false\"}}]";
    /* "s" into ups; ext/x exits; ups/u and ext/y (no definition) untouched; ups/x (different namespace) untouched */
    assert_string_equal(
        apply(defs, "{\"segmentMembership\":{\"ups\":{\"u\":" M("exited", OLD) ",\"x\":" M("realized", OLD) "},"
                    "\"ext\":{\"x\":" M("realized", OLD) ",\"y\":" M("existing", OLD) "}}}", NULL),
        "{\"segmentMembership\":{\"ups\":{\"u\":" M("exited", OLD) ",\"x\":" M("realized", OLD) ",\"s\":" M("realized", NOWF) "},"
        "\"ext\":{\"x\":" M("exited", NOWF) ",\"y\":" M("existing", OLD) "}}}");
}

static void test_apply_snapshot(void **state)
{
    (void)state;
    /* b depends on a; a exits in this run, but inSegment reads the stored memberships */
    const char *defs = "[" DEF("a", "false") "," DEF("b", "inSegment(\\\"a\\\")") "]";
    assert_string_equal(apply(defs, "{\"segmentMembership\":{\"ups\":{\"a\":" M("realized", OLD) "}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"a\":" M("exited", NOWF) ",\"b\":" M("realized", NOWF) "}}}");
    /* the same in the other file order */
    const char *defs2 = "[" DEF("b", "inSegment(\\\"a\\\")") "," DEF("a", "false") "]";
    assert_string_equal(apply(defs2, "{\"segmentMembership\":{\"ups\":{\"a\":" M("realized", OLD) "}}}", NULL),
                        "{\"segmentMembership\":{\"ups\":{\"a\":" M("exited", NOWF) ",\"b\":" M("realized", NOWF) "}}}");
}

static void test_apply_events(void **state)
{
    (void)state;
    const char *defs = "[" DEF("recent", "xEvent[eventType = \\\"commerce.purchases\\\" and timestamp occurs < 7 days before now].count() > 0") "]";
    assert_string_equal(apply(defs, "{}", "[{\"timestamp\":\"2024-03-10T00:00:00Z\",\"eventType\":\"commerce.purchases\"}]"),
                        "{\"segmentMembership\":{\"ups\":{\"recent\":" M("realized", NOWF) "}}}");
    assert_string_equal(apply(defs, "{}", "[{\"timestamp\":\"2024-03-08T12:00:00Z\",\"eventType\":\"commerce.purchases\"}]"), "{}");
}

static void test_apply_errors(void **state)
{
    (void)state;
    char err[256];
    se_segdefs *d = NULL;
    const char *t = "[" DEF("a", "true") "]";
    json_object *arr = json_object_new_array();
    assert_int_equal(se_segdefs_parse(t, strlen(t), "mem", &d, err, sizeof err), 0);
    assert_int_equal(se_segdefs_apply(d, arr, NULL, 0, now_ms(), err, sizeof err), -1);
    assert_string_equal(err, "segment evaluation: the profile is not an object");
    assert_int_equal(se_segdefs_apply(d, NULL, NULL, 0, now_ms(), err, sizeof err), -1);
    json_object_put(arr);
    se_segdefs_free(d);
    /* no definitions: nothing changes */
    json_object *p = json_tokener_parse("{\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"exited\"}}}}");
    assert_int_equal(se_segdefs_apply(NULL, p, NULL, 0, now_ms(), err, sizeof err), 0);
    assert_string_equal(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
                        "{\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"exited\"}}}}");
    json_object_put(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_list_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_apply_transitions),
        cmocka_unit_test(test_apply_namespaces_and_undefined),
        cmocka_unit_test(test_apply_snapshot),
        cmocka_unit_test(test_apply_events),
        cmocka_unit_test(test_apply_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
