/* Unit tests for the tape parser's paths (tape.h's se_tape_path): the first
 * stage (src/json/tape_index.c) with AVX2, SSE2 and a byte loop, each held
 * to the byte parser (REF) by tests/fuzz/tape_oracle.h's tape_paths_agree:
 * the same verdict, reason, offset and tape, token for token.  The texts
 * put what the first stage tracks across 64-byte blocks (quotes, runs of
 * backslashes, UTF-8 sequences, NUL bytes, the text's end) at every place
 * of a block; every text is parsed from a heap block of exactly its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/tape_oracle.h"

static void same(const char *s, size_t len)
{
    const char *diff = tape_paths_agree(s, len);
    if (diff)
        fail_msg("%s: %.*s", diff, (int)(len < 300 ? len : 300), s);
}

/* Text "pre" + pad x's + "mid" + "post", then checked on every path. */
static void padded(const char *pre, size_t pad, const char *mid, size_t midlen, const char *post)
{
    char buf[512];
    size_t n = 0, lp = strlen(pre), lq = strlen(post);
    assert_true(lp + pad + midlen + lq <= sizeof buf);
    memcpy(buf, pre, lp);
    n += lp;
    memset(buf + n, 'x', pad);
    n += pad;
    memcpy(buf + n, mid, midlen);
    n += midlen;
    memcpy(buf + n, post, lq);
    n += lq;
    same(buf, n);
}

static void test_paths_exist(void **state)
{
    (void)state;
    /* The byte loop is everywhere; AUTO and REF always. */
    assert_int_equal(se_tape_set_path(SE_TAPE_PATH_SCALAR), 0);
    assert_int_equal(se_tape_set_path(SE_TAPE_PATH_REF), 0);
    assert_int_equal(se_tape_set_path(SE_TAPE_PATH_AUTO), 0);
#if defined(__x86_64__) && defined(__SSE2__)
    assert_int_equal(se_tape_set_path(SE_TAPE_PATH_SSE2), 0);
    se_tape_set_path(SE_TAPE_PATH_AUTO);
#endif
}

/* Quotes and backslashes at every place of a block and across the next
 * block's start: escaped quotes after odd and even runs of backslashes. */
static void test_escapes_everywhere(void **state)
{
    (void)state;
    static const char *const mids[] = {
        "\\\"", "\\\\", "\\\\\\\"", "\\\\\\\\", "\\\\\\\\\\\"", "\\/", "\\n", "\\u0041",
        "\\ud83d\\ude00", "\\u0000", "\\ud800", "\\udc00", "\\x", "\\", "\\u12", "\\\"\\\"",
        "\"", "\"\"", "\\\\\"", "\\\\\\",
    };
    for (size_t m = 0; m < sizeof mids / sizeof *mids; m++) {
        size_t ml = strlen(mids[m]);
        for (size_t pad = 0; pad < 140; pad++) {
            padded("[\"", pad, mids[m], ml, "\"]");
            padded("{\"", pad, mids[m], ml, "\":1}");
            padded("{\"k\":\"", pad, mids[m], ml, "\",\"z\":[\"\\\\\",\"a\"]}");
            padded("[\"", pad, mids[m], ml, ""); /* the text ends in the string */
            padded("[1,", pad, mids[m], ml, "]"); /* outside strings */
        }
    }
}

/* UTF-8 sequences, good and bad, at every place of a block, inside and
 * outside strings, and cut by the text's end. */
static void test_utf8_everywhere(void **state)
{
    (void)state;
    static const char *const seqs[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc0\x80", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", /* json-c checks structure only */
        "\x80", "\xbf", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\xc3\xa9", "\xe2\x28\xa1",
        "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff", "\xc3\"", "\xe2\x82\"",
        "\xf0\x9f\x98\x80\x80", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
    };
    for (size_t q = 0; q < sizeof seqs / sizeof *seqs; q++) {
        size_t ql = strlen(seqs[q]);
        for (size_t pad = 0; pad < 140; pad++) {
            padded("[\"", pad, seqs[q], ql, "\"]");
            padded("{\"", pad, seqs[q], ql, "\":[\"\xc3\xa9\"]}");
            padded("[\"", pad, seqs[q], ql, "");
            padded("[1,", pad, seqs[q], ql, "]");
            padded("[\"", pad, seqs[q], ql, "\\\"\xc3\xa9\"]");
        }
    }
}

/* NUL bytes anywhere, raw control bytes in strings (taken, as json-c does). */
static void test_nul_and_controls(void **state)
{
    (void)state;
    const char base[] = "{\"a\":[\"x\\\"y\",12,true,{\"b\":\"\xc3\xa9\"}],\"c\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}";
    char buf[sizeof base];
    size_t n = sizeof base - 1;
    for (size_t at = 0; at < n; at++) {
        memcpy(buf, base, n);
        buf[at] = '\0';
        same(buf, n);
        buf[at] = '\x01';
        same(buf, n);
        buf[at] = '\x1f';
        same(buf, n);
        buf[at] = ' ';
        same(buf, n);
    }
    for (size_t cut = 0; cut <= n; cut++)
        same(base, cut); /* every prefix: mid-string, mid-escape, mid-UTF-8 */
}

/* Texts of every length around block sizes, ending with a string, a number
 * or whitespace; texts as long as the first stage takes and one byte more. */
static void test_lengths(void **state)
{
    (void)state;
    for (size_t pad = 0; pad < 200; pad++) {
        padded("[\"", pad, "", 0, "\"]");
        padded("[\"", pad, "", 0, "\"]   \n\t");
        padded("[", pad, "1", 1, "]");
        padded("\"", pad, "", 0, "\"");
        padded("  \"", pad, "", 0, "\"  ");
        padded("[\"a\",\"", pad, "\\\\", 2, "\"]");
    }
    static const size_t lens[] = { 65534, 65535, 65536, 65537, 200000 };
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t n = lens[k];
        char *b = malloc(n);
        assert_non_null(b);
        /* ["xx...x\"...\u00e9...", 1] with the string filling the text */
        memset(b, 'x', n);
        memcpy(b, "[\"", 2);
        memcpy(b + n / 2, "\\\"\xc3\xa9\\u00e9", 11);
        memcpy(b + n - 5, "\", 1]", 5);
        same(b, n);
        b[n / 3] = '\xc3'; /* a lead byte with no continuation */
        same(b, n);
        b[n / 3] = '\0';
        same(b, n);
        free(b);
    }
}

static void test_nesting(void **state)
{
    (void)state;
    char buf[4096];
    for (int depth = 510; depth <= 514; depth++) {
        /* {"k":[{"k":[ ... "\"" ... ]}]} with depth containers */
        size_t n = 0;
        for (int i = 0; i < depth; i++) {
            if (i % 2) {
                buf[n++] = '[';
            } else {
                memcpy(buf + n, "{\"k\":", 5);
                n += 5;
            }
        }
        buf[n++] = '"';
        buf[n++] = '\\';
        buf[n++] = '"';
        buf[n++] = '"';
        for (int i = depth - 1; i >= 0; i--)
            buf[n++] = i % 2 ? ']' : '}';
        same(buf, n);
        same(buf, n - 1);
        /* The innermost container empty: [[...[]...]] and {"k":{"k":...{}...}},
         * then with its opener of the other kind (refused). */
        for (int shape = 0; shape < 2; shape++) {
            size_t inner = 0;
            n = 0;
            for (int i = 0; i < depth; i++) {
                inner = n;
                if (shape && i + 1 < depth) {
                    memcpy(buf + n, "{\"k\":", 5);
                    n += 5;
                } else {
                    buf[n++] = shape ? '{' : '[';
                }
            }
            for (int i = 0; i < depth; i++)
                buf[n++] = shape ? '}' : ']';
            same(buf, n);
            buf[inner] = shape ? '[' : '{';
            same(buf, n);
        }
    }
}

/* The staged parse reads without end tests when the text ends in '}' or ']'
 * (then whitespace): every prefix of records, closed by one or two closers
 * whatever came before (unbalanced, mid-string, mid-number, mid-literal),
 * each from a heap block of exactly its size. */
static void test_closer_ends(void **state)
{
    (void)state;
    static const char *const base[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"4955\",\"primary\":false}]},\"n\":[12345678901234,"
        "-2.5,0,true,false,null],\"s\":\"a\\\"b\\\\\",\"e\":{},\"a\":[],\"z\":\"\xc3\xa9\"}",
        "[[[1]],{\"a\":{\"b\":[{}]}},\"x\",-0.125,1e5,NaN,-Infinity,[[]],{\"\":\"\"}]",
        "{ \"a\" : [ 1 , { } , [ ] ] , \"b\" : \"c\" }\n",
    };
    static const char *const ends[] = { "}", "]", "}}", "]]", "} \n", "]\t", "\"}", "\"]" };
    char buf[256];
    for (size_t k = 0; k < sizeof base / sizeof *base; k++) {
        size_t n = strlen(base[k]);
        for (size_t cut = 0; cut <= n; cut++) {
            for (size_t e = 0; e < sizeof ends / sizeof *ends; e++) {
                size_t el = strlen(ends[e]);
                assert_true(cut + el <= sizeof buf);
                memcpy(buf, base[k], cut);
                memcpy(buf + cut, ends[e], el);
                same(buf, cut + el);
            }
        }
    }
}

/* Whitespace after an opener (left to the key or value after it when
 * staged), empty containers with whitespace inside. */
static void test_open_whitespace(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{ }", "[ ]", "{\n}", "[\t]", "{\"a\":{ },\"b\":[ ]}", "[ [ ] , { } ]", "{ \"a\" :1}",
        "[ 1]", "{\"a\":[\t1 ]}", "{\"a\":[\r\"x\"\n]}", "[ {\"a\":1} ]", "{\n\"a\":{\n\"b\":[\n]\n}\n}",
        "[ ,1]", "{ ,\"a\":1}", "{ :1}", "[ }", "{ ]", "[ \"a\" ] ", "{ \"a\" } ", "{\"a\":{ } }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        same(texts[i], strlen(texts[i]));
}

/* Numbers: runs of 1-24 digits at every place of an 8-byte step (the digits
 * are skipped eight at a time), followed by every byte, inside arrays and
 * objects and at the very end of the text; fractions likewise. */
static void test_digits(void **state)
{
    (void)state;
    char buf[96];
    for (size_t nd = 1; nd <= 24; nd++) {
        for (size_t pad = 0; pad < 8; pad++) {
            for (unsigned after = 1; after < 256; after++) {
                size_t n = 0;
                buf[n++] = '[';
                memset(buf + n, ' ', pad);
                n += pad;
                for (size_t d = 0; d < nd; d++)
                    buf[n++] = (char)('1' + (d + pad) % 9);
                buf[n++] = (char)after;
                buf[n++] = ']';
                same(buf, n);
                same(buf, n - 1);     /* the byte ends the text */
                same(buf, n - 2);     /* the digits end the text */
                same(buf + 1, n - 3); /* a top-level number */
                /* A fraction: 0.ddd then the byte, in an object. */
                memcpy(buf, "{\"a\":0.", 7);
                memset(buf + 7, '5', pad);
                n = 7 + pad;
                for (size_t d = 0; d < nd; d++)
                    buf[n++] = (char)('0' + d % 10);
                buf[n++] = (char)after;
                buf[n++] = '}';
                same(buf, n);
            }
        }
    }
}

/* Strings whose end is one to six 64-bit stop words past their start. */
static void test_long_strings(void **state)
{
    (void)state;
    static const char *const mids[] = { "", "\\\\\\\"", "\\u00e9", "\xc3\xa9" };
    for (size_t m = 0; m < sizeof mids / sizeof *mids; m++) {
        for (size_t pad = 60; pad < 420; pad += 7) {
            padded("{\"", pad, mids[m], strlen(mids[m]), "\":1}");
            padded("[\"", pad, mids[m], strlen(mids[m]), "\",\"a\"]");
            padded("{\"a\":\"", 420 - pad, mids[m], strlen(mids[m]), "\"}");
        }
    }
}

/* Deterministic mutations of records full of what the first stage tracks. */
static void test_mutations(void **state)
{
    (void)state;
    static const char *const base[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\\u00e9\\\\\",\"primary\":true}]},\"person\":{\"name\":"
        "{\"firstName\":\"Zo\xc3\xab\",\"lastName\":\"\xe6\x97\xa5\xe6\x9c\xac\"}},\"n\":[1,-2.5e3,"
        "true,null,NaN,-01],\"s\":\"\\ud83d\\ude00 \\\"q\\\" \xf0\x9f\x98\x80\"}",
        "[\"0123456789012345678901234567890123456789012345678901234\\\\\",\"\\\"\",{\"\":\"\"}]",
    };
    static const char alphabet[] = "{}[],:\"\\\\\\u0-1.eE \x80\xc3\xa9\xe2\xf0\x01";
    char buf[512];
    uint32_t x = 4242;
    for (int round = 0; round < 30000; round++) {
        const char *b = base[round % 2];
        size_t len = strlen(b);
        memcpy(buf, b, len);
        int edits = 1 + round % 4;
        for (int k = 0; k < edits && len > 1; k++) {
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
        same(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_exist),
        cmocka_unit_test(test_escapes_everywhere),
        cmocka_unit_test(test_utf8_everywhere),
        cmocka_unit_test(test_nul_and_controls),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_closer_ends),
        cmocka_unit_test(test_open_whitespace),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
