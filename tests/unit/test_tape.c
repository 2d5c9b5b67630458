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

/* The text in a heap block of exactly len bytes (ASan sees any read past
 * it), held to json-c; returns what se_tape_parse returned. */
static int agree_exact(const char *s, size_t len)
{
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);
    agree(b, len);
    int r = se_tape_parse(&tp, b, len);
    free(b);
    return r;
}

/* The string scanner reads 16 bytes at a time: a byte that needs a look
 * (quote, backslash, control, NUL, non-ASCII, valid or not) at each place of
 * the first two blocks, in strings that end before, at and after 16- and
 * 32-byte boundaries, as values, as keys, unterminated, and ending at the
 * very end of the text. */
static void test_string_edges(void **state)
{
    (void)state;
    static const struct { const char *b; size_t n; } special[] = {
        { "\"", 1 }, { "\\n", 2 }, { "\\\\", 2 }, { "\\u00e9", 6 }, { "\\ud83d\\ude00", 12 },
        { "\\u0000", 6 }, { "\\ud800", 6 }, { "\\x", 2 }, { "\\", 1 }, { "\x01", 1 },
        { "\x1f", 1 }, { "\x7f", 1 }, { "\0", 1 }, { "\xc3\xa9", 2 }, { "\xe2\x82\xac", 3 },
        { "\xf0\x9f\x98\x80", 4 }, { "\x80", 1 }, { "\xc3", 1 }, { "\xe2\x82", 2 }, { "\xff", 1 },
        { "\xf8\x88\x80\x80\x80", 5 },
    };
    static const size_t lens[] = { 1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49 };
    char body[64], text[128];
    for (size_t si = 0; si < sizeof special / sizeof *special; si++) {
        for (size_t k = 0; k < 32; k++) {
            for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
                size_t bl = lens[li] > k + special[si].n ? lens[li] : k + special[si].n;
                memset(body, 'a', bl);
                memcpy(body + k, special[si].b, special[si].n);
                size_t n = 0;
                /* A top-level string: its closing quote is the text's last byte. */
                text[n++] = '"';
                memcpy(text + n, body, bl);
                n += bl;
                text[n++] = '"';
                int r = agree_exact(text, n);
                if (r == SE_TAPE_OK)
                    assert_true(tp.n == 1 && tp.t[0].len == bl);
                /* Cut before its closing quote: refused (unless the special
                 * byte was a quote ending it). */
                r = agree_exact(text, n - 1);
                if (special[si].b[0] != '"')
                    assert_int_equal(r, SE_TAPE_BAD);
                /* An array element, then a key. */
                n = 0;
                text[n++] = '[';
                text[n++] = '"';
                memcpy(text + n, body, bl);
                n += bl;
                memcpy(text + n, "\",1]", 4);
                agree_exact(text, n + 4);
                n = 0;
                memcpy(text + n, "{\"", 2);
                n += 2;
                memcpy(text + n, body, bl);
                n += bl;
                memcpy(text + n, "\":\"", 3);
                n += 3;
                memcpy(text + n, body, bl);
                n += bl;
                memcpy(text + n, "\"}", 2);
                agree_exact(text, n + 2);
            }
        }
    }
    /* What the fast loop skips is plain ASCII, control bytes included. */
    assert_int_equal(parse("[\"0123456789abcdef\x01\x02\x1f 0123456789abcdef0123\"]"), SE_TAPE_OK);
    assert_int_equal(tp.t[1].len, 40);
    assert_false(tp.t[1].flags & SE_TF_ESC);
}

/* Scalars cut by the end of the text, and numbers' short and long ways. */
static void test_text_end(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "0", "-", "-0", "00", "-01", "01", "1.", "1.5", "-1.5", ".5", "1e5", "1e", "1e+", "1E-2",
        "1.5e3", "-Infinity", "-Inf", "Infinity", "Infinit", "NaN", "Na", "true", "tru", "false",
        "fals", "null", "nul", "18446744073709551615", "18446744073709551616",
        "-9223372036854775808", "-9223372036854775809", "12345678901234567890123",
        "0000000000000000000000", "[1", "[1.5", "[1.", "[-", "[0", "[01", "[true", "{\"a\":1",
        "{\"a\":-2.5", "{\"a\":1}", "[1,2.5,-3,0.0,1e2,-0,NaN,-Infinity]", "[1 ,2\t]",
        "[1/]", "[1I]", "[-i]", "[1-]", "[1+]", "[1.5.]", "[1x]", "{\"a\":1x}", "{\"a\" : 1 }",
        " [ ] ", "[ 1 , \"x\" ]", "{ }", "{ \"a\" : [ ] , \"b\" : { } }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        agree_exact(texts[i], strlen(texts[i]));
}

/* Digits are skipped eight at a time: runs of 1-24 at every place of an
 * 8-byte step, then every byte, held to json-c, the run at the text's end
 * too. */
static void test_digit_runs(void **state)
{
    (void)state;
    char buf[64];
    for (size_t nd = 1; nd <= 24; nd++) {
        for (size_t pad = 0; pad < 8; pad++) {
            for (unsigned after = 1; after < 256; after++) {
                size_t n = 0;
                buf[n++] = '[';
                memset(buf + n, '0' + (char)pad, pad ? 1 : 0); /* 1-9 first, or none */
                n += pad ? 1 : 0;
                memset(buf + n, '7', nd);
                n += nd;
                buf[n++] = (char)after;
                buf[n++] = ']';
                agree_exact(buf, n);
                agree_exact(buf, n - 2);
            }
        }
    }
}

/* A line past the size for which the tape is reserved whole grows it token
 * by token, from an empty tape and from a used one; and the bound the
 * reserved way relies on holds for the densest texts. */
static void test_long_line(void **state)
{
    (void)state;
    size_t cap = 600000, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    b[n++] = '[';
    for (int i = 0; i < 70000; i++) {
        memcpy(b + n, i % 2 ? "1," : "{\"k\":\"v\"},", i % 2 ? 2 : 10);
        n += i % 2 ? 2 : 10;
    }
    b[n - 1] = ']';
    se_tape fresh;
    se_tape_init(&fresh);
    assert_int_equal(se_tape_parse(&fresh, b, n), SE_TAPE_OK);
    assert_int_equal(fresh.n, 1 + 35000 * 3 + 35000);
    assert_int_equal(fresh.t[0].len, 70000);
    assert_int_equal(fresh.t[0].end, fresh.n);
    se_tape_free(&fresh);
    agree(b, n);
    assert_int_equal(parse("[1]"), SE_TAPE_OK);
    assert_int_equal(tp.n, 2);
    /* Refused at the very end, long. */
    b[n - 1] = ',';
    agree(b, n);

    /* Densest texts: 511 open arrays then "0,0,...", "{"":0,...}". */
    for (int shape = 0; shape < 3; shape++) {
        n = 0;
        for (int i = 0; i < 511; i++)
            b[n++] = '[';
        for (int i = 0; i < 1000; i++) {
            const char *m = shape == 0 ? "0," : shape == 1 ? "{\"\":0}," : "[],";
            memcpy(b + n, m, strlen(m));
            n += strlen(m);
        }
        for (size_t cut = n - 1; cut < n + 511; cut++) {
            if (cut >= n)
                b[cut] = ']';
            size_t len = cut == n - 1 ? n - 1 : cut + 1;
            se_tape_init(&fresh);
            int r = se_tape_parse(&fresh, b, len);
            assert_true(r == SE_TAPE_OK || r == SE_TAPE_BAD);
            assert_true(fresh.n <= len / 2 + SE_TAPE_MAX_DEPTH / 2 + 2);
            se_tape_free(&fresh);
        }
        agree(b, n + 511);
    }
    free(b);
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
        /* The tape never outgrows what a text of len bytes can need. */
        assert_true(tp.n <= len / 2 + SE_TAPE_MAX_DEPTH / 2 + 2);
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
        cmocka_unit_test(test_string_edges),
        cmocka_unit_test(test_text_end),
        cmocka_unit_test(test_digit_runs),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
