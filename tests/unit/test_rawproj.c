/* Differential tests for the rows written without a tree (se_proj_tape_row in
 * src/engine/projtape.c): whenever it claims a result, it must be byte for byte what
 * the straightforward path gives - se_record_parse, se_profile_assemble of
 * the one fragment, se_proj_apply, json-c's printer.  Generated records
 * (nesting, arrays of objects, escapes, odd numbers, duplicates, whitespace,
 * nulls) against generated field lists. */
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

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

typedef struct buf {
    char s[16384];
    size_t n;
    bool ws;   /* sprinkle whitespace */
} buf;

static void put(buf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l < sizeof b->s) {
        memcpy(b->s + b->n, s, l);
        b->n += l;
    }
    b->s[b->n] = '\0';
}

static void maybe_ws(buf *b)
{
    if (b->ws && rnd(8) == 0)
        put(b, " ");
}

static const char *const keys[] = { "name", "city", "a", "b", "x", "firstName", "id", "list", "person", "xdm:id" };
static const char *const strs[] = { "\"Emma\"", "\"a/b\"", "\"Zo\xc3\xab\"", "\"\"", "\"l\\n\"", "\"\\u00e9\"",
                                    "\"\\/\"", "\"x\x7fy\"", "\"q\\\"q\"", "\"\xe2\x82\xac 5\"" };
static const char *const nums[] = { "0", "-0", "1", "-12", "1.0", "-0.0", "1e5", "2.50", "1E+2",
                                    "123456789012345678", "-123456789012345678", "1234567890123456789",
                                    "9223372036854775807", "0.1e-3" };

static void gen_value(buf *b, int depth);

static void gen_object(buf *b, int depth)
{
    unsigned n = rnd(4);
    put(b, "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        maybe_ws(b);
        put(b, "\"");
        put(b, keys[rnd(sizeof keys / sizeof *keys)]);
        put(b, "\":");
        maybe_ws(b);
        gen_value(b, depth + 1);
    }
    put(b, "}");
}

static void gen_value(buf *b, int depth)
{
    unsigned k = rnd(depth > 3 ? 4 : 7);
    switch (k) {
    case 0: put(b, strs[rnd(sizeof strs / sizeof *strs)]); break;
    case 1: put(b, nums[rnd(sizeof nums / sizeof *nums)]); break;
    case 2: put(b, rnd(3) == 0 ? "null" : rnd(2) ? "true" : "false"); break;
    case 3: put(b, strs[rnd(3)]); break;
    case 4: case 5: gen_object(b, depth); break;
    default: {
        unsigned n = rnd(4);
        put(b, "[");
        for (unsigned i = 0; i < n; i++) {
            if (i)
                put(b, ",");
            if (rnd(3))
                gen_object(b, depth + 1);
            else
                gen_value(b, depth + 1);
        }
        put(b, "]");
    }
    }
}

static void gen_record(buf *b)
{
    static const char *const tops[] = { "person", "homeAddress", "a", "list", "xdm:person", "name", "b" };
    static const char *const nss[] = { "ECID", "Email", "Phone", "E\\u0041", "x" };
    b->n = 0;
    b->ws = rnd(6) == 0;
    put(b, "{\"identityMap\":{");
    unsigned nn = 1 + rnd(3);
    for (unsigned i = 0; i < nn; i++) {
        if (i)
            put(b, ",");
        put(b, "\"");
        put(b, nss[rnd(sizeof nss / sizeof *nss)]);
        put(b, "\":");
        unsigned v = rnd(10);
        if (v == 0)
            put(b, "[]");
        else if (v == 1)
            put(b, "null");
        else if (v == 2)
            put(b, "{}");
        else if (v == 3)
            put(b, "[{\"id\":\"k\"},{\"id\":\"k\",\"primary\":true}]");
        else
            put(b, rnd(2) ? "[{\"id\":\"u1\"}]" : "[{\"id\":\"u2\",\"primary\":false},{\"id\":\"u3\"}]");
    }
    put(b, "}");
    unsigned nt = rnd(6);
    for (unsigned i = 0; i < nt; i++) {
        put(b, ",\"");
        put(b, tops[rnd(sizeof tops / sizeof *tops)]);
        put(b, "\":");
        maybe_ws(b);
        gen_value(b, 0);
    }
    if (rnd(3) == 0)
        put(b, ",\"_acp_system_metadata\":{\"ingestTime\":1700000000000}");
    put(b, "}");
}

static void gen_fields(char *out, size_t cap)
{
    static const char *const comp[] = { "person", "homeAddress", "a", "list", "name", "b", "city", "x",
                                        "firstName", "id", "xdm:person", "identityMap", "E",
                                        "segmentMembership", "_acp_system_metadata" };
    size_t n = 0;
    unsigned np = 1 + rnd(4);
    out[0] = '\0';
    if (rnd(10) == 0)
        return; /* the whole profile */
    for (unsigned i = 0; i < np; i++) {
        unsigned depth = 1 + rnd(3);
        if (i)
            n += (size_t)snprintf(out + n, cap - n, rnd(2) ? "," : " , ");
        for (unsigned d = 0; d < depth; d++)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", d ? "." : "",
                                  comp[rnd(sizeof comp / sizeof *comp)]);
    }
}

/* The straightforward row and namespaces of a one-fragment profile. */
static void slow(se_rparser *rp, const char *line, size_t len, const se_proj *pj, char **row,
                 char **nsl)
{
    se_record rec;
    se_profile p;
    char err[256];
    if (se_record_parse(rp, line, len, &rec, err, sizeof err) != 0)
        fail_msg("parse failed (%s): %s", err, line);
    se_profile_init(&p);
    assert_int_equal(se_profile_begin(&p, rec.key), 0);
    assert_int_equal(se_profile_add(&p, &rec), 0);
    assert_int_equal(se_profile_assemble(&p, NULL), 0);
    json_object *r = se_proj_apply(pj, p.merged);
    assert_non_null(r);
    *row = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(r);
    char tmp[4096];
    size_t n = 0;
    json_object *map = NULL;
    tmp[0] = '\0';
    if (json_object_object_get_ex(p.merged, "identityMap", &map) && json_object_is_type(map, json_type_object)) {
        json_object_object_foreach(map, ns, items) {
            if (!json_object_is_type(items, json_type_array) || json_object_array_length(items) == 0)
                continue;
            n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%s%s", n ? "\n" : "", ns);
        }
    }
    *nsl = strdup(tmp);
    se_profile_clear(&p);
}

static void check(se_rparser *rp, const char *line, const char *fields, unsigned *raw_rows)
{
    se_record rec;
    se_proj *pj;
    se_tape tp;
    size_t len = strlen(line);
    char *out = NULL, err[256];
    size_t olen = 0, ocap = 0;

    se_tape_init(&tp);
    assert_int_equal(se_proj_compile(fields, &pj), 0);
    if (se_record_facts(rp, line, len, &rec, err, sizeof err) != 0)
        goto done; /* a bad record */
    bool event = rec.kind == SE_REC_EVENT;
    se_record_clear(&rec);
    if (event)
        goto done;
    assert_int_equal(se_tape_parse(&tp, line, len), SE_TAPE_OK);
    int r = se_proj_tape_row(pj, &tp, &out, &olen, &ocap);
    assert_true(r >= 0);
    if (r) {
        char *row, *nsl;
        slow(rp, line, len, pj, &row, &nsl);
        if (olen != strlen(row) || memcmp(out, row, olen) != 0)
            fail_msg("fields %s\nline %s\nraw  %.*s\nslow %s", fields, line, (int)olen, out, row);
        (*raw_rows)++;
        free(row);
        free(nsl);
    }
done:
    se_tape_free(&tp);
    se_proj_free(pj);
    free(out);
}

static void test_cases(void **state)
{
    (void)state;
    se_rparser *rp = se_rparser_new();
    unsigned a = 0;
    static const char *const lines[] = {
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"person\":{\"name\":{\"f\":\"A\"},\"g\":1},\"homeAddress\":{\"city\":\"P\"}}",
        "{\"person\":[{\"name\":1},{\"x\":2},3,[{\"name\":null}]],\"identityMap\":{\"E\":[{\"id\":\"x\"}],\"F\":[]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"person\":{\"name\":{}},\"a\":{\"b\":{\"c\":[]}}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"person\":{\"name\":-0.0,\"x\":1e5},\"b\":null}",
    };
    static const char *const fl[] = { "person.name,homeAddress.city", "person.name", "a.b.c,person",
                                      "person.name, person, b", "b" };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        for (size_t j = 0; j < sizeof fl / sizeof *fl; j++)
            check(rp, lines[i], fl[j], &a);
    assert_true(a > 10);
    se_rparser_free(rp);
}

static void test_generated(void **state)
{
    (void)state;
    se_rparser *rp = se_rparser_new();
    static buf b;
    char fields[256];
    unsigned rows = 0;
    for (int i = 0; i < 60000; i++) {
        gen_record(&b);
        gen_fields(fields, sizeof fields);
        check(rp, b.s, fields, &rows);
    }
    print_message("raw rows %u of 60000\n", rows);
    /* The generator must reach the raw path often, or this proves nothing. */
    assert_true(rows > 5000);
    se_rparser_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
