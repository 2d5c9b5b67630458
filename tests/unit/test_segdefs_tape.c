/* Unit tests of segment evaluation over tapes (include/segdefs.h):
 * se_segdefs_eval_tape's answers (1, and 0 "not sure" for the shapes it
 * leaves to the json-c path) and se_segdefs_edit_changes against what
 * se_segdefs_edit really does to the normalized tree. */
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

#include "record.h"
#include "segdefs.h"
#include "tape.h"

#define NOW INT64_C(1710504000000) /* 2024-03-15T12:00:00Z */

static const char DEFS[] =
    "[{\"id\":\"s1\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\","
    "\"value\":\"homeAddress.countryCode = \\\"US\\\"\"}},"
    "{\"id\":\"s2\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\","
    "\"value\":\"xEvent[eventType = \\\"commerce.purchases\\\"].sum(commerce.order.priceTotal) > 100\"}},"
    "{\"id\":\"s3\",\"namespace\":\"other\",\"expression\":{\"type\":\"PQL\",\"format\":\"pql/text\","
    "\"value\":\"inSegment(\\\"s1\\\")\"}}]";

static se_segdefs *defs(void)
{
    char err[256];
    se_segdefs *d = NULL;
    if (se_segdefs_parse(DEFS, strlen(DEFS), "defs.json", &d, err, sizeof err))
        fail_msg("%s", err);
    return d;
}

/* se_segdefs_eval_tape on raw texts: its return, and match as "101". */
static int eval(const se_segdefs *d, const char *p, const char *const *evs, size_t nev,
                char *got)
{
    se_tape pt, et[4];
    const se_tape *ep[4];
    bool match[3] = {true, true, true};
    char err[256];
    se_tape_init(&pt);
    assert_int_equal(se_tape_parse(&pt, p, strlen(p)), SE_TAPE_OK);
    for (size_t i = 0; i < nev; i++) {
        se_tape_init(&et[i]);
        assert_int_equal(se_tape_parse(&et[i], evs[i], strlen(evs[i])), SE_TAPE_OK);
        ep[i] = &et[i];
    }
    int rc = se_segdefs_eval_tape(d, &pt, ep, nev, NOW, match, err, sizeof err);
    for (size_t i = 0; i < 3; i++)
        got[i] = match[i] ? '1' : '0';
    got[3] = '\0';
    for (size_t i = 0; i < nev; i++)
        se_tape_free(&et[i]);
    se_tape_free(&pt);
    return rc;
}

static const char *const EVS[] = {
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2024-03-14T10:00:00Z\","
    "\"eventType\":\"commerce.purchases\",\"commerce\":{\"order\":{\"priceTotal\":60}}}",
    "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2024-03-14T11:00:00Z\","
    "\"eventType\":\"commerce.purchase\\u0073\",\"commerce\":{\"order\":{\"priceTotal\":50.5},"
    "\"order\":{\"priceTotal\":40.5}},\"_acp_system_metadata\":{\"ingestTime\":1}}",
};

static void test_eval_tape(void **state)
{
    se_segdefs *d = defs();
    char got[4];
    (void)state;
    /* raw fragment: duplicate keys (the last wins), escapes, stored membership */
    assert_int_equal(eval(d, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                             "\"homeAddress\":{\"countryCode\":\"CA\",\"countryCode\":\"\\u0055S\"},"
                             "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"existing\"}}},"
                             "\"_acp_system_metadata\":{\"ingestTime\":5}}", EVS, 2, got), 1);
    assert_string_equal(got, "111"); /* 60 + 40.5 (the last order) > 100; s3 reads the stored s1 */
    assert_int_equal(eval(d, "{\"homeAddress\":{\"countryCode\":\"US\",\"countryCode\":\"CA\"}}",
                          EVS, 1, got), 1);
    assert_string_equal(got, "000");
    /* not sure: the json-c path decides */
    assert_int_equal(eval(d, "{\"xdm:identityMap\":{\"E\":[{\"id\":\"a\"}]}}", EVS, 2, got), 0);
    assert_int_equal(eval(d, "{\"segmentMembership\":{\"ups\":{\"s1\":{\"xdm:status\":\"realized\"}}}}",
                          NULL, 0, got), 0);
    assert_int_equal(eval(d, "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"xdm:primary\":true}]}}",
                          NULL, 0, got), 0);
    const char *xts[] = {"{\"xdm:timestamp\":\"2024-03-14T10:00:00Z\"}"};
    assert_int_equal(eval(d, "{}", xts, 1, got), 0);
    assert_int_equal(eval(d, "[{}]", NULL, 0, got), 0);
    /* an xdm: key nowhere special reads literally */
    assert_int_equal(eval(d, "{\"xdm:foo\":1,\"identityMap\":{\"E\":[{\"xdm:foo\":1}]}}", NULL, 0,
                          got), 1);
    assert_string_equal(got, "000");
    se_segdefs_free(d);

    se_segdefs *none = NULL;
    char err[64];
    assert_int_equal(se_segdefs_parse("[]", 2, "d", &none, err, sizeof err), 0);
    assert_int_equal(eval(none, "[1]", NULL, 0, got), 1);
    se_segdefs_free(none);
}

/* Checks se_segdefs_edit_changes(p, match) against se_segdefs_edit on the
 * normalized tree; exact when exact, else only "false means unchanged".
 * Returns edit_changes' answer. */
static bool check_changes(const se_segdefs *d, const char *p, const bool *match, bool exact)
{
    char err[256];
    se_rparser *rp = se_rparser_new();
    se_record rec;
    se_tape pt;
    memset(&rec, 0, sizeof rec);
    assert_non_null(rp);
    if (se_record_parse(rp, p, strlen(p), &rec, err, sizeof err))
        fail_msg("%s: %s", p, err);
    se_tape_init(&pt);
    assert_int_equal(se_tape_parse(&pt, p, strlen(p)), SE_TAPE_OK);
    bool says = se_segdefs_edit_changes(d, &pt, match);
    char *before = strdup(json_object_to_json_string_ext(rec.obj, JSON_C_TO_STRING_PLAIN));
    assert_non_null(before);
    assert_int_equal(se_segdefs_edit(d, rec.obj, match, NOW, err, sizeof err), 0);
    bool changed = strcmp(before, json_object_to_json_string_ext(rec.obj, JSON_C_TO_STRING_PLAIN)) != 0;
    if (!says && changed)
        fail_msg("edit_changes false, but the edit changed %s (match %d%d%d)", p, match[0], match[1],
                 match[2]);
    if (exact && says != changed)
        fail_msg("edit_changes %d, the edit changed: %d on %s (match %d%d%d)", says, changed, p,
                 match[0], match[1], match[2]);
    free(before);
    se_tape_free(&pt);
    se_record_clear(&rec);
    se_rparser_free(rp);
    return says;
}

#define ID "\"identityMap\":{\"E\":[{\"id\":\"a\"}]}"
#define DONE "{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}"

static void test_edit_changes(void **state)
{
    se_segdefs *d = defs();
    const bool yyy[] = {true, true, true}, nnn[] = {false, false, false},
               ynn[] = {true, false, false}, yny[] = {true, false, true};
    (void)state;
    /* nothing stored, nothing matched: no change */
    assert_false(check_changes(d, "{" ID "}", nnn, true));
    assert_false(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"zz\":" DONE "}}}", nnn, true));
    /* a new qualification */
    assert_true(check_changes(d, "{" ID "}", ynn, true));
    /* all realized with a time, and matched again */
    assert_false(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE ",\"s2\":" DONE
                                  "},\"other\":{\"s3\":" DONE "}}}", yyy, true));
    /* ... the same, one duplicate key (the last value wins), an escape */
    assert_false(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"exited\"},"
                                  "\"s1\":{\"status\":\"re\\u0061lized\",\"lastQualificationTime\":1}},"
                                  "\"other\":{\"s3\":" DONE "}},\"_acp_system_metadata\":{}}", yny, true));
    /* existing becomes realized; a null time is replaced; exits; removals */
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"existing\","
                                 "\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}}", ynn, true));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
                                 "\"lastQualificationTime\":null}}}}", ynn, true));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE "}}}", nnn, true));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s2\":{\"status\":\"exited\"}}}}",
                              nnn, true));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\\u0000\","
                                 "\"lastQualificationTime\":1}}}}", ynn, true));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":\"realized\"}}}", ynn, true));
    /* raw spellings the normalization changes: a change, to be safe (here a real one) */
    assert_true(check_changes(d, "{" ID ",\"xdm:segmentMembership\":{\"ups\":{\"s1\":" DONE "}}}", ynn, false));
    assert_true(check_changes(d, "{" ID ",\"segmentMembership\":{\"ups\":{\"s1\":{\"xdm:status\":\"realized\","
                                 "\"lastQualificationTime\":1}}}}", ynn, false));
    se_segdefs_free(d);
}

static const char *const SEGS[] = {
    "", ",\"segmentMembership\":{}", ",\"segmentMembership\":[]",
    ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE "}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE ",\"s2\":{\"status\":\"existing\"}}}",
    ",\"segmentMembership\":{\"ups\":{\"s2\":" DONE "},\"other\":{\"s3\":" DONE "}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE ",\"s2\":" DONE "},\"other\":{\"s3\":" DONE "}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE ",\"s1\":{\"status\":\"exited\"}}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":{\"xdm:status\":\"realized\"}}}",
    ",\"xdm:segmentMembership\":{\"ups\":{\"s1\":" DONE "}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":" DONE "}},\"segmentMembership\":{\"ups\":{}}",
    ",\"segmentMembership\":{\"other\":{\"s3\":{\"status\":\"realized\",\"lastQualificationTime\":null}}}",
    ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":0,"
    "\"x\":1}},\"other\":null}",
};

static void test_edit_changes_all(void **state)
{
    se_segdefs *d = defs();
    size_t unchanged = 0;
    (void)state;
    for (size_t i = 0; i < sizeof SEGS / sizeof SEGS[0]; i++) {
        char p[1024];
        snprintf(p, sizeof p, "{" ID "%s}", SEGS[i]);
        for (int m = 0; m < 8; m++) {
            bool match[3] = {m & 1, m & 2, m & 4};
            bool plain = strstr(SEGS[i], "xdm:") == NULL;
            unchanged += !check_changes(d, p, match, plain);
        }
    }
    /* "", {}, [], s1 done, s2+s3 done, all done, the last segmentMembership
     * empty, s1 with time 0: each for the one match that fits it */
    assert_int_equal(unchanged, 8);
    se_segdefs_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_tape),
        cmocka_unit_test(test_edit_changes),
        cmocka_unit_test(test_edit_changes_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
