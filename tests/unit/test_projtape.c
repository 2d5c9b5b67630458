/* Unit tests for src/engine/projtape.c: rows from a record's tape equal, byte for
 * byte, the json-c path (parse, one-fragment profile, projection, print),
 * and the cases left to the tree say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "project.h"
#include "record.h"
#include "tape.h"

/* 1 when the tape row was made and equals the json-c row, 0 when not sure. */
static int same_row(const char *fields, const char *line)
{
    se_rparser *rp = se_rparser_new();
    se_proj *pj = NULL;
    se_record rec;
    se_profile p;
    se_tape tp;
    char err[256], *buf = NULL;
    size_t n = 0, cap = 0, wl;
    assert_non_null(rp);
    assert_int_equal(se_proj_compile(fields, &pj), 0);
    if (se_record_parse(rp, line, strlen(line), &rec, err, sizeof err) != 0)
        fail_msg("parse: %s: %s", err, line);
    se_tape_init(&tp);
    assert_int_equal(se_tape_parse(&tp, line, strlen(line)), SE_TAPE_OK);
    int r = se_proj_tape_row(pj, &tp, &buf, &n, &cap);
    assert_true(r >= 0);
    se_profile_init(&p);
    assert_int_equal(se_profile_begin(&p, rec.key), 0);
    assert_int_equal(se_profile_add(&p, &rec), 0);
    assert_int_equal(se_profile_assemble(&p, NULL), 0);
    json_object *row = se_proj_apply(pj, p.merged);
    const char *want = json_object_to_json_string_length(row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wl);
    if (r == 1 && (wl != n || memcmp(want, buf, n) != 0))
        fail_msg("fields %s\n tape:   %.*s\n json-c: %s", fields ? fields : "(all)", (int)n, buf, want);
    json_object_put(row);
    se_profile_clear(&p);
    se_tape_free(&tp);
    se_proj_free(pj);
    se_rparser_free(rp);
    free(buf);
    return r;
}

static void test_whole(void **state)
{
    (void)state;
    const char *lines[] = {
        "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"person\":{\"name\":\"Ann\"},\"_acp_system_metadata\":{\"ingestTime\":1}}",
        " { \"identityMap\" : { \"E\" : [ { \"id\" : \"a\" } , {\"id\":\"b\"} ] } , \"n\" : [ -0 , -1 , 0 , 1.50 , -0.0 , 1e5 , 2.5E-3 , 18446744073709551615 ] } ",
        "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"primary\":true},{\"id\":\"b\"},{\"id\":\"a\",\"x\":1}]},\"s\":\"\\u00e9\\/\\n\\u0001\x01\x1f\x7f \\\"q\\\" \\\\\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"a\"}],\"F\":null,\"G\":5,\"H\":[]},\"a\":1,\"b\":2,\"a\":{\"c\":3,\"c\":[4]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":\"\\u0061\"},7]},\"k\\u00e9y\":{\"\\t\":true,\"x\":false,\"y\":null}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\"}}},\"e\":{},\"f\":[]}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        if (same_row(NULL, lines[i]) != 1)
            fail_msg("not sure: %s", lines[i]);
}

static void test_projected(void **state)
{
    (void)state;
    const char *line =
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true},{\"id\":\"2\"},{\"id\":\"1\",\"authenticatedState\":\"x\"}],\"Email\":[{\"id\":\"e\"}]},"
        "\"person\":{\"name\":{\"first\":\"A\",\"last\":\"B\"},\"tags\":[{\"a\":1},{\"b\":2},3,[{\"a\":[5]}]]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"}}},\"nul\":null,\"_acp_system_metadata\":{\"datasetId\":\"d\"}}";
    const char *fields[] = {
        "identityMap", "identityMap.ECID.id", "identityMap.ECID", "person.name.first,identityMap.Email",
        "person.tags.a", "person.tags.b,person.name", "nothing", "nul", "nul.x", "person.name.first.x",
        "segmentMembership.ups", "_acp_system_metadata", "person,person.name", "person.tags",
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (same_row(fields[i], line) != 1)
            fail_msg("not sure: %s", fields[i]);
}

static void test_left_to_the_tree(void **state)
{
    (void)state;
    assert_int_equal(same_row(NULL, "{\"xdm:identityMap\":{\"E\":[{\"id\":\"a\"}]}}"), 0);
    assert_int_equal(same_row(NULL, "{\"identityMap\":{\"E\":[{\"xdm:id\":\"a\"}]}}"), 0);
    assert_int_equal(same_row(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"},1,2]}}"), 0);
    assert_int_equal(same_row("segmentMembership",
                              "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"segmentMembership\":{\"ups\":{\"s\":{\"xdm:status\":\"realized\"}}}}"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_projected),
        cmocka_unit_test(test_left_to_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
