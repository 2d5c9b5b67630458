/* Unit tests for src/json/tape.c: what it accepts and refuses (and why),
 * the tape's shape, skipping, lazy unescaping, lookups with duplicate keys;
 * then a deterministic mutation fuzz against json-c (tests/fuzz/tape_oracle.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/tape_oracle.h"

static se_tape tp;

static int parse(const char *s)
{
    return se_tape_parse(&tp, s, strlen(s));
}

static void refused(const char *s, const char *why)
{
    if (parse(s) != SE_TAPE_BAD)
        fail_msg("accepted: %s", s);
    if (strcmp(tp.why, why) != 0)
        fail_msg("%s: why \"%s\", want \"%s\"", s, tp.why, why);
}

static void agree(const char *s, size_t len)
{
    const char *diff = tape_vs_jsonc(&tp, s, len);
    if (diff)
        fail_msg("%s: %.*s", diff, (int)len, s);
}

static void test_accepts_as_json_c(void **state)
{
    (void)state;
    /* json-c 0.16's strict mode takes these; so has the record reader. */
    const char *ok[] = {
        "{}", " { } ", "[-01]", "[1.]", "[-.1]", "[1.e1]", "[01.5]", "[00]", "[-0]", "[NaN]",
        "[Infinity]", "[-Infinity]", "[\"\x01\t\"]", "[\"\xc0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
        "[18446744073709551615]", "[-9223372036854775808]", "[1e400]", "{\"a\":1,\"a\":2}",
        "[\"\\ud83d\\ude00\"]", "[\"\\u0000\"]",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (parse(ok[i]) != SE_TAPE_OK)
            fail_msg("refused (%s): %s", tp.why, ok[i]);
        agree(ok[i], strlen(ok[i]));
    }
}

static void test_refuses(void **state)
{
    (void)state;
    refused("", "malformed JSON");
    refused("[01]", "malformed JSON");
    refused("[1e]", "malformed JSON");
    refused("[.5]", "malformed JSON");
    refused("[1.2.3]", "malformed JSON");
    refused("[1,]", "malformed JSON");
    refused("{\"a\":1,}", "malformed JSON");
    refused("{}x", "malformed JSON");
    refused("{a:1}", "malformed JSON");
    refused("[nan]", "malformed JSON");
    refused("[-infinity]", "malformed JSON");
    refused("[True]", "malformed JSON");
    refused("[\"\\a\"]", "malformed JSON");
    refused("[\"\\u00zz\"]", "malformed JSON");
    refused("{\"a\x00\":1}", "malformed JSON"); /* strlen stops: unterminated */
    refused("[\"\xc3\"]", "invalid utf-8 string");
    refused("[\"\x80\"]", "invalid utf-8 string");
    refused("[\"\xf8\x80\x80\x80\x80\"]", "invalid utf-8 string");
    refused("[18446744073709551616]", "integer out of range");
    refused("[-9223372036854775809]", "integer out of range");
    refused("[-00000000000000000001]", "integer out of range");
    refused("{\"k\\u0000\":1}", "NUL character in an object key");
    refused("[\"\\ud800\"]", SE_JSON_LONE_SURROGATE);
    refused("[\"\\udc00\\ud800\"]", SE_JSON_LONE_SURROGATE);
    refused("{\"\\ud800x\":1}", SE_JSON_LONE_SURROGATE);
    /* A NUL byte anywhere is refused (json-c: end of data or trailing data). */
    assert_int_equal(se_tape_parse(&tp, "{}\0", 3), SE_TAPE_BAD);
    assert_int_equal(se_tape_parse(&tp, "[\"a\0\"]", 6), SE_TAPE_BAD);
    agree("{}\0", 3);
    agree("[\"a\0\"]", 6);
}

static void test_depth(void **state)
{
    (void)state;
    /* A value's depth (the top one at 0) stays below 512, as in json-c. */
    char buf[2100];
    size_t n = 0;
    for (int i = 0; i < 512; i++)
        buf[n++] = '[';
    for (int i = 0; i < 512; i++)
        buf[n++] = ']';
    assert_int_equal(se_tape_parse(&tp, buf, n), SE_TAPE_OK);
    agree(buf, n);
    n = 0;
    for (int i = 0; i < 512; i++)
        buf[n++] = '[';
    buf[n++] = '1';
    for (int i = 0; i < 512; i++)
        buf[n++] = ']';
    assert_int_equal(se_tape_parse(&tp, buf, n), SE_TAPE_BAD);
    assert_string_equal(tp.why, "nesting too deep");
    agree(buf, n);
}

static void test_shape(void **state)
{
    (void)state;
    const char *s = "{\"a\":[1,{\"b\":null},\"x\"],\"c\":true,\"d\":{}}";
    assert_int_equal(parse(s), SE_TAPE_OK);
    /* 0 {  1 "a"  2 [  3 1  4 {  5 "b"  6 null  7 "x"  8 "c"  9 true  10 "d"  11 {} */
    assert_int_equal(tp.n, 12);
    assert_int_equal(tp.t[0].kind, SE_TK_OBJ);
    assert_int_equal(tp.t[0].len, 3);
    assert_int_equal(tp.t[0].end, 12);
    assert_int_equal(tp.t[2].kind, SE_TK_ARR);
    assert_int_equal(tp.t[2].len, 3);
    assert_int_equal(tp.t[2].end, 8);
    assert_int_equal(tp.t[4].end, 7);
    assert_int_equal(tp.t[11].kind, SE_TK_OBJ);
    assert_int_equal(tp.t[11].len, 0);
    assert_int_equal(tp.t[11].end, 12);
    assert_true(tp.t[1].flags & SE_TF_KEY);
    assert_false(tp.t[7].flags & SE_TF_KEY);
    /* Members in order, each value skipped in O(1). */
    const char *names[] = { "a", "c", "d" };
    size_t m = 0;
    SE_TAPE_EACH_MEMBER(&tp, 0, k)
        assert_true(se_tape_str_eq(&tp, k, names[m], 1) && ++m);
    assert_int_equal(m, 3);
    assert_int_equal(se_tape_get(&tp, 0, "c", 1), 9);
    assert_int_equal(se_tape_get(&tp, 0, "z", 1), 0);
    assert_int_equal(se_tape_get(&tp, 2, "a", 1), 0); /* not an object */
    size_t e = 0;
    SE_TAPE_EACH_ELEM(&tp, 2, x)
        e++;
    assert_int_equal(e, 3);
}

static void test_strings(void **state)
{
    (void)state;
    const char *s = "{\"k\\u00e9\\n\":\"a\\\"b\\\\c\\/\\ud83d\\ude00\",\"plain\":\"\"}";
    char out[64];
    assert_int_equal(parse(s), SE_TAPE_OK);
    assert_true(tp.t[1].flags & SE_TF_ESC);
    size_t n = se_tape_unescape(&tp, 1, out);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "k\xc3\xa9\n", 4);
    n = se_tape_unescape(&tp, 2, out);
    assert_int_equal(n, 10);
    assert_memory_equal(out, "a\"b\\c/\xf0\x9f\x98\x80", 10);
    assert_true(se_tape_str_eq(&tp, 1, "k\xc3\xa9\n", 4));
    assert_false(se_tape_str_eq(&tp, 1, "k\xc3\xa9", 3));
    assert_true(se_tape_get(&tp, 0, "k\xc3\xa9\n", 4) == 2);
    assert_true(se_tape_str_cmp(&tp, 1, "k", 1) > 0);
    assert_true(se_tape_str_cmp(&tp, 1, "k\xc3\xa9\n!", 5) < 0);
    assert_true(se_tape_str_cmp(&tp, 1, "l", 1) < 0);
    assert_int_equal(se_tape_unescape(&tp, 4, out), 0);
    assert_false(tp.t[4].flags & SE_TF_ESC);
}

static void test_duplicates(void **state)
{
    (void)state;
    /* json-c: the last value wins, at the first one's place. */
    const char *s = "{\"a\":1,\"b\":2,\"\\u0061\":3}";
    assert_int_equal(parse(s), SE_TAPE_OK);
    assert_int_equal(se_tape_get(&tp, 0, "a", 1), 6);
    assert_true(se_tape_first_key(&tp, 0, 1));
    assert_true(se_tape_first_key(&tp, 0, 3));
    assert_false(se_tape_first_key(&tp, 0, 5));
    assert_int_equal(se_tape_last_value(&tp, 0, 1), 6);
    agree(s, strlen(s));
}

static void test_integers(void **state)
{
    (void)state;
    bool big;
    uint64_t u;
    assert_int_equal(parse("[-9223372036854775808,18446744073709551615,-01,0]"), SE_TAPE_OK);
    assert_true(se_tape_int(&tp, 1, &big, &u) == INT64_MIN && !big);
    se_tape_int(&tp, 2, &big, &u);
    assert_true(big && u == UINT64_MAX);
    assert_true(se_tape_int(&tp, 3, &big, &u) == -1 && !big);
    assert_true(se_tape_int(&tp, 4, &big, &u) == 0 && !big);
}

/* Mutations of a few records against json-c (deterministic). */
static void test_mutations(void **state)
{
    (void)state;
    static const char *const base[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\\u00e9\",\"primary\":true}]},\"n\":[1,-2.5e3,true,null],\"s\":\"\\ud83d\\ude00\"}",
        "{\"a\":{\"b\":[[],{}]},\"c\":-0.0,\"d\":\"x\\\\y\",\"e\":NaN,\"f\":-Infinity}",
        "[18446744073709551615,-9223372036854775808,01.5,1.]",
    };
    static const char alphabet[] = "{}[],:\"\\u0-1.eE+NaIfy \x80\xc3\xe2\xf0\x01";
    char buf[512];
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        const char *b = base[round % 3];
        size_t len = strlen(b);
        memcpy(buf, b, len);
        int edits = 1 + round % 3;
        for (int k = 0; k < edits; k++) {
            x = x * 1103515245 + 12345;
            size_t at = (x >> 8) % len;
            char ch = alphabet[(x >> 20) % (sizeof alphabet - 1)];
            switch ((x >> 4) % 3) {
            case 0: buf[at] = ch; break;
            case 1:
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = ch;
                    len++;
                }
                break;
            default:
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        agree(buf, len);
    }
}

static int teardown(void **state)
{
    (void)state;
    se_tape_free(&tp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_as_json_c),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
