/* Unit tests for mergepolicy.c: the built-in policy and --merge-policies files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mergepolicy.h"

static char tmpdir[64];
static char tmpfile_path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_mergepolicy.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(tmpfile_path, sizeof tmpfile_path, "%s/policies.json", tmpdir);
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
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Loads text into a fresh registry; returns the registry (load must succeed). */
static se_mp_registry *load_ok(const char *text)
{
    char err[512] = "unset";
    se_mp_registry *reg = se_mp_registry_new();
    assert_non_null(reg);
    write_file(text);
    if (se_mp_registry_load(reg, tmpfile_path, err, sizeof err) != 0)
        fail_msg("load failed: %s", err);
    return reg;
}

/* Expects the load to fail with "FILE: " + want; the registry must be unchanged. */
static void load_fails(const char *text, const char *want)
{
    char err[512] = "", full[640];
    se_mp_registry *reg = se_mp_registry_new();
    assert_non_null(reg);
    write_file(text);
    assert_int_equal(se_mp_registry_load(reg, tmpfile_path, err, sizeof err), -1);
    snprintf(full, sizeof full, "%s: %s", tmpfile_path, want);
    assert_string_equal(err, full);
    /* nothing of a bad file is kept; the built-in is still there */
    assert_non_null(se_mp_find(reg, "timestampOrdered-none-mp", 1));
    assert_null(se_mp_find(reg, "good", 1));
    se_mp_registry_free(reg);
}

static void test_builtin(void **state)
{
    (void)state;
    se_mp_registry *reg = se_mp_registry_new();
    assert_non_null(reg);
    const se_mpolicy *p = se_mp_find(reg, "timestampOrdered-none-mp", 1);
    assert_non_null(p);
    assert_string_equal(p->id, "timestampOrdered-none-mp");
    assert_int_equal(p->version, 1);
    assert_int_equal(p->attr, SE_ATTR_TIMESTAMP_ORDERED);
    assert_int_equal(p->graph, SE_GRAPH_NONE);
    assert_int_equal(p->norder, 0);
    assert_null(se_mp_find(reg, "timestampOrdered-none-mp", 2));
    assert_null(se_mp_find(reg, "TimestampOrdered-none-mp", 1));
    assert_null(se_mp_find(reg, "nope", 1));
    assert_null(se_mp_find(reg, NULL, 1));
    se_mp_registry_free(reg);
    se_mp_registry_free(NULL);

    /* No registry at all: the built-in alone. */
    p = se_mp_find(NULL, "timestampOrdered-none-mp", 1);
    assert_non_null(p);
    assert_int_equal(p->attr, SE_ATTR_TIMESTAMP_ORDERED);
    assert_null(se_mp_find(NULL, "x", 1));
}

static void test_load_array(void **state)
{
    (void)state;
    se_mp_registry *reg = load_ok(
        "[\n"
        "  {\"id\":\"a\",\"name\":\"A\",\"imsOrgId\":\"x@AdobeOrg\",\"schema\":{\"name\":\"_xdm.context.profile\"},\n"
        "   \"version\":1,\"identityGraph\":{\"type\":\"none\"},\n"
        "   \"attributeMerge\":{\"type\":\"timestampOrdered\"},\"default\":false,\"isActiveOnEdge\":false},\n"
        "  {\"id\":\"b\",\"version\":3,\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"ds2\",\"ds1\"]},\n"
        "   \"identityGraph\":{\"type\":\"pdg\"}},\n"
        "  {\"id\":\"c\"}\n"
        "]\n");
    const se_mpolicy *a = se_mp_find(reg, "a", 1), *b = se_mp_find(reg, "b", 3), *c = se_mp_find(reg, "c", 1);
    assert_non_null(a);
    assert_int_equal(a->attr, SE_ATTR_TIMESTAMP_ORDERED);
    assert_int_equal(a->graph, SE_GRAPH_NONE);
    assert_non_null(b);
    assert_null(se_mp_find(reg, "b", 1));
    assert_int_equal(b->attr, SE_ATTR_DATASET_PRECEDENCE);
    assert_int_equal(b->graph, SE_GRAPH_PDG);
    assert_int_equal(b->norder, 2);
    assert_string_equal(b->order[0], "ds2");
    assert_string_equal(b->order[1], "ds1");
    assert_non_null(c); /* defaults: version 1, timestampOrdered, none */
    assert_int_equal(c->version, 1);
    assert_int_equal(c->attr, SE_ATTR_TIMESTAMP_ORDERED);
    assert_int_equal(c->graph, SE_GRAPH_NONE);
    assert_non_null(se_mp_find(reg, "timestampOrdered-none-mp", 1));
    se_mp_registry_free(reg);
}

static void test_load_children(void **state)
{
    (void)state;
    se_mp_registry *reg = load_ok(
        "{\"_page\":{\"totalCount\":2,\"pageSize\":2},\n"
        " \"children\":[{\"id\":\"x\",\"version\":2,\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"d\"]}},\n"
        "              {\"id\":\"y\",\"version\":null,\"attributeMerge\":null,\"identityGraph\":null}],\n"
        " \"_links\":{\"next\":{\"href\":\"\"}}}");
    const se_mpolicy *x = se_mp_find(reg, "x", 2), *y = se_mp_find(reg, "y", 1);
    assert_non_null(x);
    assert_int_equal(x->attr, SE_ATTR_DATASET_PRECEDENCE);
    assert_int_equal(x->norder, 1);
    assert_string_equal(x->order[0], "d");
    assert_non_null(y);
    assert_int_equal(y->attr, SE_ATTR_TIMESTAMP_ORDERED);
    se_mp_registry_free(reg);
}

static void test_replace_and_reload(void **state)
{
    (void)state;
    char err[256];
    /* A later policy with the same id+version replaces the earlier one, also across loads. */
    se_mp_registry *reg = load_ok(
        "[{\"id\":\"p\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"a\"]}},"
        " {\"id\":\"p\",\"version\":1,\"identityGraph\":{\"type\":\"pdg\"}},"
        " {\"id\":\"p\",\"version\":2}]");
    const se_mpolicy *p = se_mp_find(reg, "p", 1);
    assert_non_null(p);
    assert_int_equal(p->attr, SE_ATTR_TIMESTAMP_ORDERED);
    assert_int_equal(p->graph, SE_GRAPH_PDG);
    assert_non_null(se_mp_find(reg, "p", 2));

    write_file("[{\"id\":\"p\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"z\",\"y\"]}},"
               " {\"id\":\"timestampOrdered-none-mp\",\"identityGraph\":{\"type\":\"pdg\"}},"
               " {\"id\":\"q\"}]");
    assert_int_equal(se_mp_registry_load(reg, tmpfile_path, err, sizeof err), 0);
    p = se_mp_find(reg, "p", 1);
    assert_int_equal(p->attr, SE_ATTR_DATASET_PRECEDENCE);
    assert_int_equal(p->graph, SE_GRAPH_NONE);
    assert_int_equal(p->norder, 2);
    assert_string_equal(p->order[1], "y");
    assert_non_null(se_mp_find(reg, "p", 2));
    assert_non_null(se_mp_find(reg, "q", 1));
    assert_int_equal(se_mp_find(reg, "timestampOrdered-none-mp", 1)->graph, SE_GRAPH_PDG);

    /* A failing second load leaves the first load's policies alone. */
    write_file("[{\"id\":\"r\"},{\"id\":\"p\",\"version\":\"1\"}]");
    assert_int_equal(se_mp_registry_load(reg, tmpfile_path, err, sizeof err), -1);
    assert_null(se_mp_find(reg, "r", 1));
    assert_int_equal(se_mp_find(reg, "p", 1)->norder, 2);
    se_mp_registry_free(reg);
}

static void test_empty_lists(void **state)
{
    (void)state;
    se_mp_registry_free(load_ok("[]"));
    se_mp_registry_free(load_ok("{\"children\":[]}\n\n"));
}

static void test_errors(void **state)
{
    (void)state;
    load_fails("[{\"id\":\"good\"},{\"id\":\"b\",\"attributeMerge\":{\"type\":\"newest\"}}]",
               "[1].attributeMerge.type: \"newest\" is not one of timestampOrdered, dataSetPrecedence");
    load_fails("{\"children\":[{\"id\":\"good\"},{\"id\":\"a\"},{\"id\":\"b\",\"attributeMerge\":{\"type\":\"x\"}}]}",
               "children[2].attributeMerge.type: \"x\" is not one of timestampOrdered, dataSetPrecedence");
    load_fails("[\n{\"id\":\"good\"},\n{\"id\": tru}\n]",
               "malformed JSON at line 3: boolean expected");
    load_fails("[{\"id\":\"good\"}", "malformed JSON at line 1: unexpected end of data");
    load_fails("", "malformed JSON at line 1: unexpected end of data");
    load_fails("[{\"id\":\"good\"}]\n\n x", "malformed JSON at line 3: trailing content after the JSON value");
    load_fails("{\"id\":\"good\"}",
               "(root): expected an array of merge policies or an object with \"children\"");
    load_fails("\"x\"", "(root): expected an array of merge policies or an object with \"children\"");
    load_fails("null", "(root): expected an array of merge policies or an object with \"children\"");
    load_fails("7", "(root): expected an array of merge policies or an object with \"children\"");
    load_fails("{\"children\":{}}", "children: expected an array");
    load_fails("[{\"id\":\"good\"},3]", "[1]: expected an object");
    load_fails("[{\"id\":\"good\"},{}]", "[1].id: required");
    load_fails("[{\"id\":\"good\"},{\"id\":null}]", "[1].id: required");
    load_fails("[{\"id\":\"\"}]", "[0].id: required");
    load_fails("[{\"id\":7}]", "[0].id: expected a string");
    load_fails("[{\"id\":\"a\",\"version\":\"1\"}]", "[0].version: expected an integer");
    load_fails("[{\"id\":\"a\",\"version\":1.5}]", "[0].version: expected an integer");
    load_fails("[{\"id\":\"a\",\"version\":0}]", "[0].version: must be an integer from 1 to 2147483647");
    load_fails("[{\"id\":\"a\",\"version\":4294967296}]",
               "[0].version: must be an integer from 1 to 2147483647");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":\"timestampOrdered\"}]",
               "[0].attributeMerge: expected an object");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":1}}]", "[0].attributeMerge.type: expected a string");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\"}}]",
               "[0].attributeMerge.order: required");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":\"d\"}}]",
               "[0].attributeMerge.order: expected an array");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[]}}]",
               "[0].attributeMerge.order: must not be empty");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"d\",2]}}]",
               "[0].attributeMerge.order[1]: expected a string");
    load_fails("[{\"id\":\"a\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"d\",\"\"]}}]",
               "[0].attributeMerge.order[1]: must not be empty");
    load_fails("[{\"id\":\"a\",\"identityGraph\":[]}]", "[0].identityGraph: expected an object");
    load_fails("[{\"id\":\"a\",\"identityGraph\":{\"type\":\"full\"}}]",
               "[0].identityGraph.type: \"full\" is not one of none, pdg");
    load_fails("[{\"id\":\"a\",\"identityGraph\":{\"type\":false}}]",
               "[0].identityGraph.type: expected a string");
}

static void test_unreadable(void **state)
{
    (void)state;
    char err[256], want[300];
    se_mp_registry *reg = se_mp_registry_new();
    assert_non_null(reg);
    assert_int_equal(se_mp_registry_load(reg, "/nonexistent/policies.json", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/policies.json: No such file or directory");
    /* a directory opens but cannot be read */
    assert_int_equal(se_mp_registry_load(reg, tmpdir, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: Is a directory", tmpdir);
    assert_string_equal(err, want);
    /* a tiny err buffer is never overrun */
    char tiny[5];
    assert_int_equal(se_mp_registry_load(reg, "/nonexistent/x", tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "/non");
    assert_int_equal(se_mp_registry_load(reg, "/nonexistent/x", NULL, 0), -1);
    se_mp_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_load_array),
        cmocka_unit_test(test_load_children),
        cmocka_unit_test(test_replace_and_reload),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
