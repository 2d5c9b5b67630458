/* Unit tests for src/engine/shardkey.c: --shard's quick key against the full
 * parser's (the tape and se_tape_facts, what a shard uses for the records
 * the quick key leaves alone).  Whenever the quick key answers for a record
 * the full parser accepts, it must name the same key; it must answer for the
 * shapes real dumps have (identityMap anywhere, xdm: prefixes, escapes
 * elsewhere); and it must never read outside the line (ASan: the line is a
 * malloc'd copy of exactly its length).  Handwritten records first, then
 * generated ones built to mislead it, then mutations of those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recfacts.h"
#include "record.h"
#include "shardkey.h"
#include "tape.h"

static se_tape tp;

/* The full parser's key of s (malloc'd), or NULL for a bad record. */
static char *full_key(const char *s, size_t n)
{
    if (se_tape_parse(&tp, s, n) != SE_TAPE_OK || tp.t[0].kind != SE_TK_OBJ || tp.notjson)
        return NULL;
    se_record r;
    char err[256];
    memset(&r, 0, sizeof r);
    if (se_tape_facts(&tp, &r, err, sizeof err) != 0) {
        se_record_clear(&r);
        return NULL;
    }
    char *k = r.key;
    r.key = NULL;
    se_record_clear(&r);
    return k;
}

typedef struct verdict {
    bool quick, good;
} verdict;

/* Checks s: if both answer, the same key.  Fails the test on a mismatch. */
static verdict check_n(const char *s0, size_t n)
{
    char *s = malloc(n ? n : 1); /* exactly the line: reads past it are ASan's */
    assert_non_null(s);
    memcpy(s, s0, n);
    uint64_t h = 0, h2 = 0;
    char qk[4096];
    size_t qn = 0;
    verdict v;
    v.quick = se_shardkey_text(s, n, &h, qk, sizeof qk, &qn);
    assert_int_equal(se_shardkey_hash(s, n, &h2), v.quick);
    char *fk = full_key(s, n);
    v.good = fk != NULL;
    if (v.quick) {
        assert_int_equal(h, h2);
        assert_true(qn <= sizeof qk);
    }
    if (v.quick && fk) {
        if (qn != strlen(fk) || memcmp(qk, fk, qn) != 0 || h != se_fnv1a64(fk, strlen(fk)))
            fail_msg("quick key \"%.*s\", full parser's \"%s\" for: %.*s", (int)qn, qk, fk, (int)n, s);
    }
    free(fk);
    free(s);
    return v;
}

static verdict check(const char *s)
{
    return check_n(s, strlen(s));
}

/* Answers, with key want. */
static void quick(const char *s, const char *want)
{
    uint64_t h;
    char k[512];
    size_t kn;
    verdict v = check(s);
    if (!v.quick)
        fail_msg("no quick key for: %s", s);
    assert_true(se_shardkey_text(s, strlen(s), &h, k, sizeof k, &kn));
    if (kn != strlen(want) || memcmp(k, want, kn))
        fail_msg("key \"%.*s\", want \"%s\" for: %s", (int)kn, k, want, s);
}

/* Declines (the full parse decides). */
static void declines(const char *s)
{
    verdict v = check(s);
    if (v.quick)
        fail_msg("quick key given for: %s", s);
}

static void test_common_shapes(void **state)
{
    (void)state;
    /* identityMap first, anywhere, after nested members, pretty-printed. */
    quick("{\"identityMap\":{\"ECID\":[{\"id\":\"1\"}]},\"a\":1}", "ECID:1");
    quick("{\"_id\":\"x\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"identityMap\":{\"E\":[{\"id\":\"e\"}]}}",
          "E:e");
    quick("{\"person\":{\"name\":{\"a\":[1,{\"b\":\"}]\\\"{\"}]}},\"n\":-1.5e3,\"t\":true,\"z\":null,"
          "\"identityMap\":{\"E\":[{\"id\":\"e\"}]},\"after\":{\"x\":[]}}",
          "E:e");
    quick(" \t{ \"identityMap\" : { \"B\" : [ { \"id\" : \"2\" } , { \"id\" : \"1\" } ] , \"A\" : [ ] } } ",
          "B:1");
    /* The rule: the first primary, else the smallest (namespace, id). */
    quick("{\"identityMap\":{\"B\":[{\"id\":\"b\"}],\"A\":[{\"id\":\"z\"},{\"id\":\"y\"}]}}", "A:y");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"a\"}],\"B\":[{\"id\":\"b\",\"primary\":true}],"
          "\"C\":[{\"id\":\"c\",\"primary\":true}]}}",
          "B:b");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"a\"}],\"B\":[{\"id\":\"b\",\"primary\":\"true\"}]}}", "A:a");
    quick("{\"identityMap\":{\"AB\":[{\"id\":\"a\"}],\"A\":[{\"id\":\"b\"}]}}", "A:b");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"ab\"},{\"id\":\"a\"}]}}", "A:a");
    /* xdm: prefixes, duplicates: the last, the unprefixed spelling first. */
    quick("{\"xdm:identityMap\":{\"E\":[{\"xdm:id\":\"e\",\"xdm:primary\":true}],\"A\":[{\"id\":\"a\"}]}}",
          "E:e");
    quick("{\"identityMap\":{\"A\":[{\"xdm:id\":\"x\",\"id\":\"i\"}]}}", "A:i");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"i\",\"id\":\"j\"}]}}", "A:j");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"i\",\"primary\":false,\"xdm:primary\":true}],"
          "\"B\":[{\"id\":\"a\",\"primary\":true}]}}",
          "B:a");
    quick("{\"identityMap\":{\"A\":[{\"id\":\"a\",\"xdm:primary\":true}],\"B\":[{\"id\":\"0\"}]}}", "A:a");
    quick("{\"identityMap\":{\"X\":[{\"id\":\"x\"}]},\"identityMap\":{\"Y\":[{\"id\":\"y\"}]}}", "Y:y");
    quick("{\"xdm:identityMap\":[],\"identityMap\":{\"Y\":[{\"id\":\"y\"}]}}", "Y:y");
    /* Items and namespaces the rule skips. */
    quick("{\"identityMap\":{\"A\":[1,\"s\",[],{\"id\":5},{\"id\":\"\"},{\"id\":\"k\",\"id\":7},"
          "{\"xdm:id\":\"m\"}],\"B\":{\"id\":\"b\"},\"C\":\"c\"}}",
          "A:m");
    quick("{\"identityMap\":{\"A\":[{\"id\":7,\"xdm:id\":\"x\"},{\"id\":\"q\",\"primary\":{\"a\":1}}]}}",
          "A:q");
    /* Escapes and decoys elsewhere. */
    quick("{\"name\":\"Jos\\u00e9 \\\"identityMap\\\" \\\\\",\"identityMap\":{\"E\":[{\"id\":\"e\"}]},"
          "\"u\":\"http:\\/\\/x\"}",
          "E:e");
    quick("{\"a\":{\"identityMap\":{\"Z\":[{\"id\":\"0\"}]}},\"identityMap\":{\"E\":[{\"id\":\"e\"}]},"
          "\"b\":[\"identityMap\",{\"xdm:identityMap\":1}],\"c\":\"identityMap\"}",
          "E:e");
    quick("{\"myidentityMap\":{\"Z\":[{\"id\":\"0\"}]},\"identityMap\":{\"E\":[{\"id\":\"e\"}]}}", "E:e");
    quick("{\"identityMap\":{\"E\":[{\"id\":\"e\",\"authenticatedState\":\"a\\\"b\\\\\"}]}}", "E:e");
}

static void test_declines(void **state)
{
    (void)state;
    declines("{\"identityMap\":{\"A\":[{\"id\":\"a\"}]},\"xdm:identityMap\":{\"B\":[{\"id\":\"b\"}]}}");
    declines("{\"identityMap\":1,\"xdm:identityMap\":{\"B\":[{\"id\":\"b\"}]}}");
    declines("{\"\\u0069dentityMap\":{\"A\":[{\"id\":\"a\"}]}}");
    declines("{\"identityMap\":{\"A\":[{\"id\":\"a\"}]},\"identity\\u004dap\":{\"B\":[{\"id\":\"0\"}]}}");
    declines("{\"identityMap\":{\"A\":[{\"id\":\"a\\/b\"}]}}");
    declines("{\"identityMap\":{\"A\\u0041\":[{\"id\":\"a\"}]}}");
    declines("{\"identityMap\":{\"A\":[{\"i\\u0064\":\"a\"}]}}");
    declines("{\"identityMap\":{\"A\":[{\"id\":\"b\"}],\"A\":[{\"id\":\"a\"}]}}");
    declines("{\"identityMap\":{}}");
    declines("{\"identityMap\":[]}");
    declines("{\"identityMap\":{\"A\":[{\"id\":\"\"}]}}");
    declines("{\"a\":{\"identityMap\":{\"A\":[{\"id\":\"a\"}]}}}");
    declines("{\"a\":1}");
    declines("[{\"identityMap\":{\"A\":[{\"id\":\"a\"}]}}]");
    declines("");
    declines("{");
    declines("{\"identityMap\"");
    declines("{\"identityMap\":{\"A\":[{\"id\":\"a\"");
}

/* Quote runs, backslash runs and brackets across the 64-byte steps: a
 * member with k bytes of filler, then identityMap. */
static void test_block_edges(void **state)
{
    (void)state;
    const char *fill[] = { "\\\\", "\\\"", "x", "{[", "\\\\\\\"]}" };
    char s[1200], f[512];
    for (size_t fi = 0; fi < sizeof fill / sizeof *fill; fi++)
        for (int k = 0; k < 140; k++) {
            size_t n = 0, fl = strlen(fill[fi]);
            while (n + fl < (size_t)k + 1)
                memcpy(f + n, fill[fi], fl), n += fl;
            f[n] = '\0';
            if (fi == 3) /* brackets inside a string, and a real nested value */
                snprintf(s, sizeof s, "{\"a\":[\"%s\",{\"b\":\"%s\"}],\"identityMap\":{\"E\":[{\"id\":\"%d\"}]}}",
                         f, f, k);
            else
                snprintf(s, sizeof s, "{\"a\":{\"b\":\"%s\"},\"identityMap\":{\"E\":[{\"id\":\"%d\"}]}}", f, k);
            verdict v = check(s);
            if (v.good && !v.quick)
                fail_msg("no quick key for: %s", s);
        }
}

/* ---- generated records -------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

typedef struct buf { char s[8192]; size_t n; } buf;

static void put(buf *b, const char *t)
{
    size_t n = strlen(t);
    if (b->n + n < sizeof b->s) {
        memcpy(b->s + b->n, t, n);
        b->n += n;
    }
}

static void sp(buf *b)
{
    static const char *w[] = { "", "", "", " ", "\t", "\r\n ", "  " };
    put(b, w[rnd(7)]);
}

/* String contents (escaped as JSON), many of them meant to mislead. */
static const char *strs[] = {
    "identityMap", "xdm:identityMap", "Map", "id", "primary", "xdm:id", "xdm:primary", "true",
    "a", "b", "A", "B", "ECID", "Email", "", "x\\\"identityMap\\\"", "\\\"identityMap",
    "identityMap\\\\", "\\\\", "\\\\\\\"", "\\u00e9t\\u00e9", "\\/",
    "Jos\\u00e9", "{[\\\"]}", "}]", "user@example.com", "\\n", "a\\tb", "id\\u0000",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234",
    "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\",
    /* (tame records stop here) */
    "\\u0069dentityMap", "\\\\u0069",
};
enum { NSTRS = sizeof strs / sizeof *strs, TSTRS = NSTRS - 2 };

/* Tame records hold none of the shapes the quick key declines: it must
 * answer for every one of them the full parser accepts. */
static bool tame;
#define PICK(n, t) rnd(tame ? (t) : (n))

static void str(buf *b, const char *t)
{
    put(b, "\"");
    put(b, t);
    put(b, "\"");
}

static void value(buf *b, int depth);

static void object(buf *b, int depth)
{
    put(b, "{");
    int n = (int)rnd(4);
    for (int i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        sp(b);
        str(b, strs[PICK(NSTRS, TSTRS)]);
        sp(b);
        put(b, ":");
        sp(b);
        value(b, depth + 1);
        sp(b);
    }
    put(b, "}");
}

static void value(buf *b, int depth)
{
    static const char *lits[] = { "true", "false", "null", "0", "-1.5e3", "12345678901234", "1" };
    unsigned k = rnd(depth > 4 ? 3 : 5);
    if (k == 0)
        put(b, lits[rnd(7)]);
    else if (k <= 2)
        str(b, strs[PICK(NSTRS, TSTRS)]);
    else if (k == 3)
        object(b, depth);
    else {
        put(b, "[");
        int n = (int)rnd(4);
        for (int i = 0; i < n; i++) {
            if (i)
                put(b, ",");
            sp(b);
            value(b, depth + 1);
        }
        put(b, "]");
    }
}

static void idmap(buf *b)
{
    static const char *nss[] = { "A", "B", "AB", "ECID", "Email", "", "xdm:A", "\\u0041", "A\\/" };
    static const char *ids[] = { "\"a\"", "\"b\"", "\"ab\"", "\"\"", "\"1\"", "7", "null",
                                 "\"x@y\"", "{}", "\"a\\\"b\"", "\"\\u00e9\"" };
    static const char *prims[] = { "true", "false", "\"true\"", "1", "null", "{\"a\":true}" };
    static const char *ikeys[] = { "id", "xdm:id", "primary", "xdm:primary", "authenticatedState",
                                   "other", "i\\u0064" };
    bool used[9] = { false };
    put(b, "{");
    int n = (int)rnd(4);
    for (int i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        sp(b);
        unsigned ns = PICK(9, 7);
        if (tame && used[ns])
            break;
        used[ns] = true;
        str(b, nss[ns]);
        put(b, ":");
        sp(b);
        if (!rnd(8)) {
            if (tame) /* (not an array: its objects would be items) */
                put(b, rnd(2) ? "{\"id\":\"\\n\"}" : "\"s\"");
            else
                value(b, 2);
            continue;
        }
        put(b, "[");
        int m = (int)rnd(4);
        for (int j = 0; j < m; j++) {
            if (j)
                put(b, ",");
            sp(b);
            if (!rnd(8)) {
                /* Not an item (a tame one: not an object, whose id could
                 * have an escape). */
                static const char *other[] = { "[{\"id\":\"a\\\"b\"}]", "\"s\\\"\"", "1", "null" };
                if (tame)
                    put(b, other[rnd(4)]);
                else
                    value(b, 3);
                continue;
            }
            put(b, "{");
            int q = (int)rnd(5);
            for (int l = 0; l < q; l++) {
                if (l)
                    put(b, ",");
                unsigned w = PICK(7, 6);
                str(b, ikeys[w]);
                sp(b);
                put(b, ":");
                if (w == 0 || w == 1 || w == 6)
                    put(b, ids[PICK(11, 9)]);
                else if (w == 2 || w == 3)
                    put(b, prims[rnd(6)]);
                else
                    value(b, 3);
            }
            put(b, "}");
        }
        put(b, "]");
        sp(b);
    }
    put(b, "}");
}

static void record(buf *b)
{
    static const char *names[] = { "identityMap", "xdm:identityMap", "\\u0069dentityMap",
                                   "timestamp", "person", "_id", "myidentityMap", "identityMap " };
    unsigned spelling = rnd(2);
    b->n = 0;
    sp(b);
    put(b, "{");
    int n = 1 + (int)rnd(6);
    for (int i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        sp(b);
        unsigned w = rnd(12);
        if (tame && w <= 2)
            w = spelling;
        const char *k = w < 8 ? names[w] : strs[PICK(NSTRS, TSTRS)];
        if (tame && w >= 8 && (k == strs[0] || k == strs[1]))
            k = "x"; /* (a map with any namespaces) */
        str(b, k);
        sp(b);
        put(b, ":");
        sp(b);
        if (w <= 2 && (tame || rnd(6)))
            idmap(b);
        else
            value(b, 1);
    }
    put(b, "}");
    sp(b);
    b->s[b->n] = '\0';
}

static void test_generated(void **state)
{
    (void)state;
    buf b;
    long good = 0, answered = 0;
    for (int i = 0; i < 200000; i++) {
        record(&b);
        verdict v = check_n(b.s, b.n);
        good += v.good;
        answered += v.good && v.quick;
    }
    print_message("generated: %ld good records, %ld with a quick key\n", good, answered);
    assert_true(good > 20000);
    tame = true;
    good = 0;
    for (int i = 0; i < 200000; i++) {
        record(&b);
        verdict v = check_n(b.s, b.n);
        int names = 0; /* (over 16 strings named so: declined) */
        for (const char *p = b.s; (p = strstr(p, "identityMap\"")); p++)
            names++;
        if (v.good && !v.quick && names <= 16)
            fail_msg("no quick key for: %.*s", (int)b.n, b.s);
        good += v.good;
    }
    tame = false;
    print_message("tame: %ld good records, every one with a quick key\n", good);
    assert_true(good > 10000);
}

/* Byte edits of generated records: what still parses must still agree. */
static void test_mutated(void **state)
{
    (void)state;
    static const char ins[] = "\"\\{}[],: tu0e";
    buf b;
    long good = 0;
    for (int i = 0; i < 200000; i++) {
        record(&b);
        int edits = 1 + (int)rnd(3);
        for (int e = 0; e < edits && b.n > 0; e++) {
            size_t at = rnd((unsigned)b.n);
            switch (rnd(3)) {
            case 0: memmove(b.s + at, b.s + at + 1, b.n - at - 1); b.n--; break;
            case 1:
                if (b.n + 1 < sizeof b.s) {
                    memmove(b.s + at + 1, b.s + at, b.n - at);
                    b.s[at] = ins[rnd(sizeof ins - 1)];
                    b.n++;
                }
                break;
            default: b.s[at] = ins[rnd(sizeof ins - 1)]; break;
            }
        }
        verdict v = check_n(b.s, b.n);
        good += v.good;
    }
    print_message("mutated: %ld still good\n", good);
    assert_true(good > 1000);
}

/* Identity maps longer than the namespace table, long lines. */
static void test_sizes(void **state)
{
    (void)state;
    buf b;
    b.n = 0;
    put(&b, "{\"identityMap\":{");
    for (int i = 0; i < 40; i++) {
        char t[64];
        snprintf(t, sizeof t, "%s\"N%02d\":[{\"id\":\"%d\"}]", i ? "," : "", 39 - i, i);
        put(&b, t);
    }
    put(&b, "}}");
    b.s[b.n] = '\0';
    verdict v = check_n(b.s, b.n);
    assert_true(v.good); /* (declined or not: the same key when given) */
    size_t n = 1 << 20;
    char *big = malloc(n + 64);
    assert_non_null(big);
    int k = snprintf(big, 64, "{\"a\":\"");
    memset(big + k, 'M', n);
    snprintf(big + k + n, 64, "\",\"identityMap\":{\"E\":[{\"id\":\"e\"}]}}");
    quick(big, "E:e");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_shapes),
        cmocka_unit_test(test_declines),
        cmocka_unit_test(test_block_edges),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_mutated),
        cmocka_unit_test(test_sizes),
    };
    se_tape_init(&tp);
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    se_tape_free(&tp);
    return r;
}
