/* Unit tests for suggest.c: the edit distance and the nearest-word choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(se_edit_distance("", ""), 0);
    assert_int_equal(se_edit_distance("list", "list"), 0);
    assert_int_equal(se_edit_distance("RUN", "run"), 0);           /* case ignored */
    assert_int_equal(se_edit_distance("lst", "list"), 1);          /* insertion */
    assert_int_equal(se_edit_distance("lisst", "list"), 1);        /* deletion */
    assert_int_equal(se_edit_distance("lest", "list"), 1);         /* substitution */
    assert_int_equal(se_edit_distance("lsit", "list"), 1);         /* transposition */
    assert_int_equal(se_edit_distance("ouptut", "output"), 1);
    assert_int_equal(se_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(se_edit_distance("", "abc"), 3);
    assert_int_equal(se_edit_distance("ca", "abc"), 3);            /* OSA, not Damerau: 3 */
    char big[SE_SUGGEST_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_true(se_edit_distance(big, "a") == SIZE_MAX);
}

static void test_suggest(void **state)
{
    (void)state;
    const char *cmds[] = { "run", "create", NULL, "list", "cat", "verify" };
    size_t n = sizeof cmds / sizeof cmds[0];
    assert_string_equal(se_suggest("lst", cmds, n), "list");
    assert_string_equal(se_suggest("RUN", cmds, n), "run");
    assert_string_equal(se_suggest("craete", cmds, n), "create");
    assert_string_equal(se_suggest("verfy", cmds, n), "verify");
    assert_null(se_suggest("frobnicate", cmds, n));
    assert_null(se_suggest("xy", cmds, n));      /* two letters: only a case slip */
    assert_null(se_suggest("rxx", cmds, n));     /* short words: one edit at most */
    const char *keys[] = { "datasetId", "segmentPerBatch" };
    assert_string_equal(se_suggest("dataSetId", keys, 2), "datasetId");
    assert_string_equal(se_suggest("dataset_Id", keys, 2), "datasetId");
    assert_string_equal(se_suggest("dataset", keys, 2), "datasetId");
    assert_null(se_suggest("data", keys, 2));
    const char *tie[] = { "cat", "cap" };
    assert_string_equal(se_suggest("caz", tie, 2), "cat"); /* ties: the first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
