/* Unit tests for joblocate.c: the line of a JSON path, the located error
 * message, and the suggestions for unknown job keys; and progress.c's sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "joblocate.h"
#include "progress.h"

static const char doc[] =
    "{\n"
    "  \"destination\": {\"datasetId\": \"ds1\"},\n"
    "  \"filter\": {\n"
    "    \"segments\": [\n"
    "      {\"segmentId\": \"a\", \"s\\\"x\": \"}]\"},\n"
    "      {\"segmentId\": \"b\",\n"
    "       \"status\": [\"realized\",\n"
    "                  \"exiting\"]}\n"
    "    ]\n"
    "  }\n"
    "}\n";

static void test_path_line(void **state)
{
    size_t n = strlen(doc);
    (void)state;
    assert_int_equal(se_json_path_line(doc, n, ""), 1);
    assert_int_equal(se_json_path_line(doc, n, "destination.datasetId"), 2);
    assert_int_equal(se_json_path_line(doc, n, "filter"), 3);
    assert_int_equal(se_json_path_line(doc, n, "filter.segments[0].segmentId"), 5);
    assert_int_equal(se_json_path_line(doc, n, "filter.segments[1].segmentId"), 6);
    assert_int_equal(se_json_path_line(doc, n, "filter.segments[1].status[1]"), 8);
    /* missing parts: the deepest that exists */
    assert_int_equal(se_json_path_line(doc, n, "filter.segments[1].segmentNs"), 6);
    assert_int_equal(se_json_path_line(doc, n, "schema.name"), 1);
    assert_int_equal(se_json_path_line(doc, n, "filter.segments[7]"), 4);
    assert_int_equal(se_json_path_line("", 0, "x"), 0);
    assert_int_equal(se_json_path_line("\n\n  [1]", 7, ""), 3);
}

static void test_locate(void **state)
{
    char out[256];
    size_t n = strlen(doc);
    (void)state;
    se_json_locate_error("job.json", doc, n, "malformed JSON at line 7: unexpected character", out, sizeof out);
    assert_string_equal(out, "job.json:7: malformed JSON: unexpected character");
    se_json_locate_error("job.json", doc, n,
                         "filter.segments[1].status[1]: \"exiting\" is not one of realized, existing, exited",
                         out, sizeof out);
    assert_string_equal(out, "job.json:8: filter.segments[1].status[1]: \"exiting\" is not one of "
                             "realized, existing, exited");
    se_json_locate_error("stdin", "\n[]", 3, "not a JSON object (x)", out, sizeof out);
    assert_string_equal(out, "stdin:2: not a JSON object (x)");
    se_json_locate_error("job.json", doc, n, "out of memory", out, sizeof out);
    assert_string_equal(out, "job.json: out of memory");
}

static void test_key_suggest(void **state)
{
    char buf[128];
    (void)state;
    assert_string_equal(se_job_key_suggest("destination.dataSetId", buf, sizeof buf), "destination.datasetId");
    assert_string_equal(se_job_key_suggest("dataSetId", buf, sizeof buf), "destination.datasetId");
    assert_string_equal(se_job_key_suggest("filter.segments[3].segmentNS", buf, sizeof buf),
                        "filter.segments[3].segmentNs");
    assert_string_equal(se_job_key_suggest("fitler", buf, sizeof buf), "filter");
    assert_string_equal(se_job_key_suggest("additionalFields.eventList.filter.toIngestTimestmp", buf, sizeof buf),
                        "additionalFields.eventList.filter.toIngestTimestamp");
    assert_null(se_job_key_suggest("description", buf, sizeof buf));
    assert_null(se_job_key_suggest("schema.version", buf, sizeof buf));
    assert_null(se_job_key_suggest("mergePolicy.name", buf, sizeof buf));
}

static void test_human_bytes(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(se_human_bytes(0, b, sizeof b), "0 B");
    assert_string_equal(se_human_bytes(999, b, sizeof b), "999 B");
    assert_string_equal(se_human_bytes(1000, b, sizeof b), "1.0 kB");
    assert_string_equal(se_human_bytes(15066, b, sizeof b), "15.1 kB");
    assert_string_equal(se_human_bytes(999999, b, sizeof b), "1.0 MB");
    assert_string_equal(se_human_bytes(10200000, b, sizeof b), "10.2 MB");
    assert_string_equal(se_human_bytes(3000000000000ull, b, sizeof b), "3.0 TB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_line),
        cmocka_unit_test(test_locate),
        cmocka_unit_test(test_key_suggest),
        cmocka_unit_test(test_human_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
