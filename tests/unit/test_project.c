/* Unit tests: field projection (SPEC §6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "project.h"

/* Projects src (JSON text) by fields and checks the plain JSON result. */
static void check(const char *fields, const char *src, const char *want)
{
    se_proj *pj = NULL;
    json_object *in = json_tokener_parse(src);
    assert_non_null(in);
    assert_int_equal(se_proj_compile(fields, &pj), 0);
    json_object *out = se_proj_apply(pj, in);
    assert_non_null(out);
    const char *got = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
    if (strcmp(got, want) != 0)
        fail_msg("fields \"%s\":\n got  %s\n want %s", fields ? fields : "(null)", got, want);
    json_object_put(out);
    se_proj_free(pj);
    /* The source is untouched. */
    json_object *again = json_tokener_parse(src);
    assert_true(json_object_equal(in, again));
    json_object_put(again);
    json_object_put(in);
}

static const char *PERSON =
    "{\"identities\":[{\"id\":\"1\",\"ns\":\"ECID\"},{\"ns\":\"X\"},{\"id\":\"2\"}],"
    "\"personalEmail\":{\"address\":\"a@b.c\",\"status\":\"active\"},"
    "\"person\":{\"name\":{\"firstName\":\"A\",\"lastName\":\"B\"}},\"n\":null,\"z\":0}";

static void test_whole_record(void **state)
{
    (void)state;
    static const char *const whole[] = { NULL, "", "  ", " , ,\t,", ".", " . , .. " };
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        se_proj *pj = (se_proj *)1;
        assert_int_equal(se_proj_compile(whole[i], &pj), 0);
        assert_null(pj);
    }
    json_object *in = json_tokener_parse(PERSON);
    json_object *out = se_proj_apply(NULL, in);
    assert_ptr_equal(out, in); /* a new reference to src */
    json_object_put(out);
    json_object_put(in);
    se_proj_free(NULL);
}

static void test_spec_example(void **state)
{
    (void)state;
    check("identities.id,personalEmail.address", PERSON,
          "{\"identities\":[{\"id\":\"1\"},{\"id\":\"2\"}],"
          "\"personalEmail\":{\"address\":\"a@b.c\"}}");
}

static void test_blanks_and_empty_items(void **state)
{
    (void)state;
    check("  personalEmail.address ,\t,, z\t", PERSON,
          "{\"personalEmail\":{\"address\":\"a@b.c\"},\"z\":0}");
}

static void test_source_key_order(void **state)
{
    (void)state;
    check("z,person.name.lastName,identities", PERSON,
          "{\"identities\":[{\"id\":\"1\",\"ns\":\"ECID\"},{\"ns\":\"X\"},{\"id\":\"2\"}],"
          "\"person\":{\"name\":{\"lastName\":\"B\"}},\"z\":0}");
}

static void test_prefix_wins(void **state)
{
    (void)state;
    const char *want = "{\"person\":{\"name\":{\"firstName\":\"A\",\"lastName\":\"B\"}}}";
    check("person,person.name.firstName", PERSON, want);
    check("person.name.firstName,person", PERSON, want);
    check("person.name,person.name.firstName,person.name.lastName.x", PERSON,
          "{\"person\":{\"name\":{\"firstName\":\"A\",\"lastName\":\"B\"}}}");
    check("a.b,a", "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1,\"c\":2}}");
    check("a,a.b", "{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1,\"c\":2}}");
}

static void test_missing_and_empty(void **state)
{
    (void)state;
    /* Nothing selected: the top level is {}. */
    check("nope", PERSON, "{}");
    check("nope.deeper", PERSON, "{}");
    /* A path through a scalar selects nothing. */
    check("z.x,personalEmail.address.x", PERSON, "{}");
    /* Containers without the path are dropped, never left empty. */
    check("person.name.middle", PERSON, "{}");
    check("identities.nothing", PERSON, "{}");
    check("a.b.c", "{\"a\":{\"b\":{}},\"c\":[]}", "{}");
    /* A selected empty container is the value itself, kept as is. */
    check("a.b,c", "{\"a\":{\"b\":{}},\"c\":[]}", "{\"a\":{\"b\":{}},\"c\":[]}");
    /* null is a value. */
    check("n,person.name.firstName", PERSON,
          "{\"person\":{\"name\":{\"firstName\":\"A\"}},\"n\":null}");
    check("n.x", PERSON, "{}");
}

static void test_arrays_of_objects(void **state)
{
    (void)state;
    const char *src =
        "{\"items\":[{\"sku\":\"a\",\"qty\":1,\"meta\":{\"c\":\"x\",\"d\":1}},"
        "{\"qty\":2},7,null,\"s\",{\"sku\":\"b\",\"meta\":{\"d\":2}},[{\"sku\":\"c\"}]]}";
    check("items.sku", src,
          "{\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"},[{\"sku\":\"c\"}]]}");
    check("items.meta.c", src, "{\"items\":[{\"meta\":{\"c\":\"x\"}}]}");
    check("items.sku,items.qty", src,
          "{\"items\":[{\"sku\":\"a\",\"qty\":1},{\"qty\":2},{\"sku\":\"b\"},[{\"sku\":\"c\"}]]}");
    check("items.none", src, "{}");
    /* The whole array when the path ends on it, scalars included. */
    check("items", "{\"items\":[1,{\"a\":1}]}", "{\"items\":[1,{\"a\":1}]}");
}

static void test_nested_arrays(void **state)
{
    (void)state;
    const char *src =
        "{\"m\":[[{\"a\":1,\"b\":2},{\"b\":3}],[],[[{\"a\":4}]],[5,[6]],{\"a\":7}]}";
    check("m.a", src, "{\"m\":[[{\"a\":1}],[[{\"a\":4}]],{\"a\":7}]}");
    check("m.b", src, "{\"m\":[[{\"b\":2},{\"b\":3}]]}");
    check("m.c", src, "{}");
}

static void test_literal_keys(void **state)
{
    (void)state;
    /* "xdm:" keys are literal; key matching is case-sensitive. */
    check("xdm:person.name,Person", "{\"xdm:person\":{\"name\":\"n\",\"age\":3},\"person\":1}",
          "{\"xdm:person\":{\"name\":\"n\"}}");
    /* Blanks inside an item are part of the key. */
    check(" first name ", "{\"first name\":1,\"first\":2}", "{\"first name\":1}");
}

static void test_shares_subtrees(void **state)
{
    (void)state;
    se_proj *pj = NULL;
    json_object *in = json_tokener_parse("{\"a\":{\"b\":[1,2]},\"c\":3}");
    assert_int_equal(se_proj_compile("a", &pj), 0);
    json_object *out = se_proj_apply(pj, in);
    json_object *ia = NULL, *oa = NULL;
    assert_true(json_object_object_get_ex(in, "a", &ia));
    assert_true(json_object_object_get_ex(out, "a", &oa));
    assert_ptr_equal(ia, oa);
    /* out holds its own reference: dropping src leaves it valid. */
    json_object_put(in);
    assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                        "{\"a\":{\"b\":[1,2]}}");
    json_object_put(out);
    se_proj_free(pj);
}

static void test_non_object_source(void **state)
{
    (void)state;
    se_proj *pj = NULL;
    assert_int_equal(se_proj_compile("a", &pj), 0);
    json_object *in = json_tokener_parse("[{\"a\":1}]");
    json_object *out = se_proj_apply(pj, in);
    assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN), "{}");
    json_object_put(out);
    json_object_put(in);
    se_proj_free(pj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_record),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_blanks_and_empty_items),
        cmocka_unit_test(test_source_key_order),
        cmocka_unit_test(test_prefix_wins),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_arrays_of_objects),
        cmocka_unit_test(test_nested_arrays),
        cmocka_unit_test(test_literal_keys),
        cmocka_unit_test(test_shares_subtrees),
        cmocka_unit_test(test_non_object_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
