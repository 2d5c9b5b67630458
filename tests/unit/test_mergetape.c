/* Unit tests for src/engine/mergetape.c: the merged profile written from the
 * records' tapes equals, byte for byte, the tree path (se_record_parse,
 * se_profile_add, se_profile_assemble, json-c's printing), on hand cases
 * for each merge rule and on a few thousand generated groups; and "not
 * sure" stays rare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mergetape.h"
#include "profile.h"
#include "recfacts.h"
#include "record.h"
#include "tape.h"

static char *order_ab[] = {"a", "b"};
static const se_mpolicy ts_pol = {"timestampOrdered-none-mp", 1, SE_ATTR_TIMESTAMP_ORDERED, NULL, 0, SE_GRAPH_NONE};
static const se_mpolicy dsp_pol = {"dsp", 1, SE_ATTR_DATASET_PRECEDENCE, order_ab, 2, SE_GRAPH_NONE};

/* The group of lines through both paths.  Returns se_merge_tape's answer;
 * when 1, fails unless its bytes equal json-c's; *out (when given) gets the
 * tape bytes (malloc'd).  Lines that are bad records are left out of both. */
static int merge_both(const se_mpolicy *pol, const char *const *lines, size_t nlines, char **out)
{
    se_grec *fr = calloc(nlines + 1, sizeof *fr), *ev = calloc(nlines + 1, sizeof *ev);
    size_t nf = 0, ne = 0;
    se_rparser *rp = se_rparser_new();
    se_profile p;
    char err[256], *buf = NULL;
    size_t n = 0, cap = 0, wl;
    bool any = false;
    assert_non_null(fr);
    assert_non_null(ev);
    assert_non_null(rp);
    se_profile_init(&p);
    for (size_t i = 0; i < nlines; i++) {
        se_record rec;
        se_grec g;
        memset(&g, 0, sizeof g);
        if (se_record_parse(rp, lines[i], strlen(lines[i]), &rec, err, sizeof err) != 0)
            continue;
        if (!any && se_profile_begin(&p, rec.key) != 0)
            fail();
        any = true;
        rec.seq = i;
        assert_int_equal(se_profile_add(&p, &rec), 0);
        se_tape_init(&g.tape);
        assert_int_equal(se_tape_parse(&g.tape, lines[i], strlen(lines[i])), SE_TAPE_OK);
        assert_int_equal(se_tape_facts(&g.tape, &g.f, err, sizeof err), 0);
        g.f.seq = i;
        if (g.f.kind == SE_REC_EVENT)
            ev[ne++] = g;
        else
            fr[nf++] = g;
    }
    if (!any)
        assert_int_equal(se_profile_begin(&p, "k"), 0);
    /* Something before: the writer appends. */
    buf = malloc(4);
    cap = 4;
    memcpy(buf, "XY", 2);
    n = 2;
    int r = se_merge_tape(fr, nf, ev, ne, pol, NULL, &buf, &n, &cap);
    assert_true(r >= 0);
    assert_int_equal(se_profile_assemble(&p, pol), 0);
    const char *want = json_object_to_json_string_length(
        p.merged, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wl);
    if (r == 1 && (n - 2 != wl || memcmp(buf, "XY", 2) != 0 || memcmp(want, buf + 2, wl) != 0)) {
        fprintf(stderr, "group (%s):\n", pol && pol->attr == SE_ATTR_DATASET_PRECEDENCE ? "dsp" : "ts");
        for (size_t i = 0; i < nlines; i++)
            fprintf(stderr, "  %s\n", lines[i]);
        fail_msg("\n tape:   %.*s\n json-c: %s", (int)(n - 2), buf + 2, want);
    }
    if (r == 0)
        assert_int_equal(n, 2);
    if (r == 1) {
        /* Only some top-level members kept: json-c's merged object with
         * the others deleted ("ab" also arrives as "a\u0062"). */
        static const char *const names[] = { "ab", "a", "identityMap", "segmentMembership" };
        static const size_t lens[] = { 2, 1, 11, 17 };
        const se_mt_keep keep = { names, lens, 4 };
        char *kb = NULL;
        size_t kn = 0, kcap = 0, nd = 0;
        char *del[64];
        assert_int_equal(se_merge_tape(fr, nf, ev, ne, pol, &keep, &kb, &kn, &kcap), 1);
        json_object_object_foreach(p.merged, k, v) {
            (void)v;
            bool keepit = false;
            for (size_t i = 0; i < 4; i++)
                keepit = keepit || strcmp(k, names[i]) == 0;
            if (!keepit && nd < 64)
                del[nd++] = strdup(k);
        }
        assert_true(nd < 64);
        for (size_t i = 0; i < nd; i++) {
            json_object_object_del(p.merged, del[i]);
            free(del[i]);
        }
        want = json_object_to_json_string_length(p.merged, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wl);
        if (kn != wl || memcmp(kb, want, wl) != 0)
            fail_msg("\n kept:   %.*s\n json-c: %s", (int)kn, kb, want);
        free(kb);
    }
    if (out) {
        *out = r == 1 ? strndup(buf + 2, n - 2) : NULL;
    }
    for (size_t i = 0; i < nf; i++) {
        se_record_clear(&fr[i].f);
        se_tape_free(&fr[i].tape);
    }
    for (size_t i = 0; i < ne; i++) {
        se_record_clear(&ev[i].f);
        se_tape_free(&ev[i].tape);
    }
    free(fr);
    free(ev);
    free(buf);
    se_profile_clear(&p);
    se_rparser_free(rp);
    return r;
}

/* The group merges surely, to exactly want (and to json-c's bytes). */
static void expect(const se_mpolicy *pol, const char *want, size_t nlines, ...)
{
    const char *lines[16];
    va_list ap;
    va_start(ap, nlines);
    for (size_t i = 0; i < nlines; i++)
        lines[i] = va_arg(ap, const char *);
    va_end(ap);
    char *got = NULL;
    if (merge_both(pol, lines, nlines, &got) != 1)
        fail_msg("not sure: %s", lines[0]);
    if (strcmp(got, want) != 0)
        fail_msg("\n got:  %s\n want: %s", got, want);
    free(got);
}

#define ID(x) "\"identityMap\":{\"E\":[{\"id\":\"" x "\"}]}"
#define META(ds, t) "\"_acp_system_metadata\":{\"datasetId\":\"" ds "\",\"ingestTime\":" #t "}"

static void test_objects(void **state)
{
    (void)state;
    /* Key by key, recursively; newer wins at leaves, arrays and type
     * conflicts; key order of first appearance, oldest first. */
    expect(NULL, "{\"q\":2,\"p\":{\"y\":{\"z\":1,\"w\":4},\"v\":5,\"x\":1},\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"arr\":[1,2],\"t\":{\"o\":1}}", 2,
           "{" ID("a") ",\"p\":{\"x\":1,\"y\":{\"z\":1}},\"arr\":[1,2],\"t\":{\"o\":1}," META("d", 2) "}",
           "{\"q\":2,\"p\":{\"y\":{\"z\":3,\"w\":4},\"v\":5}," ID("a") ",\"arr\":[3],\"t\":\"s\"," META("d", 1) "}");
    /* The same records, the other way round in time. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"p\":{\"x\":1,\"y\":{\"z\":3,\"w\":4},\"v\":5},\"arr\":[3],\"t\":\"s\",\"q\":2}", 2,
           "{" ID("a") ",\"p\":{\"x\":1,\"y\":{\"z\":1}},\"arr\":[1,2],\"t\":{\"o\":1}," META("d", 1) "}",
           "{\"q\":2,\"p\":{\"y\":{\"z\":3,\"w\":4},\"v\":5}," ID("a") ",\"arr\":[3],\"t\":\"s\"," META("d", 2) "}");
    /* lastUpdatedDate before ingestTime; equal times: later input newer. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":1,\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"2020-01-02T00:00:00Z\"}}", 2,
           "{" ID("a") ",\"v\":1,\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"2020-01-02T00:00:00Z\"}," META("d", 1) "}",
           "{" ID("a") ",\"v\":2,\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"2020-01-01T00:00:00Z\"}," META("d", 9) "}");
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":2}", 2,
           "{" ID("a") ",\"v\":1," META("d", 5) "}", "{" ID("a") ",\"v\":2," META("d", 5) "}");
    /* No time at all is oldest. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":1}", 2,
           "{" ID("a") ",\"v\":1," META("d", 5) "}", "{" ID("a") ",\"v\":2}");
}

static void test_nulls(void **state)
{
    (void)state;
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"a\":1,\"b\":null,\"c\":{\"d\":2,\"e\":null},\"f\":[null]}", 3,
           "{" ID("a") ",\"a\":1,\"b\":null,\"c\":{\"d\":2}," META("d", 1) "}",
           "{" ID("a") ",\"a\":null,\"c\":{\"d\":null,\"e\":null},\"f\":null," META("d", 2) "}",
           "{" ID("a") ",\"b\":null,\"c\":null,\"f\":[null]," META("d", 3) "}");
    /* A null first, then a value: the value replaces the null in place. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"x\":{\"y\":1},\"z\":2}", 2,
           "{" ID("a") ",\"x\":null,\"z\":2," META("d", 1) "}",
           "{\"x\":{\"y\":1}," ID("a") "," META("d", 2) "}");
}

static void test_duplicates(void **state)
{
    (void)state;
    /* Last value at the first place, in every object of a record. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"a\":{\"c\":[4]},\"b\":2}", 1,
           "{" ID("a") ",\"a\":1,\"b\":2,\"a\":{\"c\":3,\"c\":[4]}}");
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"a\":{\"x\":1,\"y\":2},\"b\":5}", 2,
           "{" ID("a") ",\"a\":{\"x\":1,\"y\":2},\"b\":1," META("d", 1) "}",
           "{" ID("a") ",\"b\":7,\"a\":{\"x\":9,\"z\":3},\"b\":5,\"a\":null," META("d", 2) "}");
    /* A duplicate spelled with an escape is the same name. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"ab\":2}", 1,
           "{" ID("a") ",\"ab\":1,\"a\\u0062\":2}");
}

static void test_identity_map(void **state)
{
    (void)state;
    /* Union by string id, higher priority in place; duplicates in one
     * fragment folded; namespaces in first-appearance order. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"primary\":false},{\"id\":\"b\",\"x\":2},{\"id\":\"c\"}],\"F\":[{\"id\":\"f\"}],\"G\":[{\"id\":\"g\"}]}}", 2,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"primary\":true},{\"id\":\"b\",\"x\":1},{\"id\":\"b\",\"x\":2}],\"F\":[{\"id\":\"f\"}]}," META("d", 1) "}",
           "{\"identityMap\":{\"G\":[{\"id\":\"g\"}],\"E\":[{\"id\":\"c\"},{\"id\":\"a\",\"primary\":false}]}," META("d", 2) "}");
    /* xdm: spellings renamed (top level and in items); a twin wins. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"primary\":true,\"authenticatedState\":\"x\"},{\"id\":\"b\",\"xdm:q\":2,\"q\":1}]},\"k\":1}", 2,
           "{\"xdm:identityMap\":{\"E\":[{\"xdm:id\":\"a\",\"xdm:primary\":true,\"xdm:authenticatedState\":\"x\"}]},\"k\":1," META("d", 1) "}",
           "{\"identityMap\":{\"E\":[{\"xdm:id\":\"b\",\"id\":\"b\",\"xdm:q\":2,\"q\":1}]}," META("d", 2) "}");
    /* Not arrays: the newer value wins; null never overrides; an array
     * after a non-array is copied whole (its duplicates kept). */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"n\":2},{\"id\":\"a\",\"n\":1}],\"F\":7,\"G\":[{\"id\":\"g\"}]}}", 3,
           "{\"identityMap\":{\"E\":\"s\",\"F\":[{\"id\":\"f\"}],\"G\":null}," META("d", 1) "}",
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":\"a\",\"n\":1}],\"F\":7}," META("d", 2) "}",
           "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"n\":2}],\"F\":null,\"G\":[{\"id\":\"g\"}]}," META("d", 3) "}");
    /* One item without a string id is kept; two are left to the trees. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\",\"n\":1},{\"id\":5},{\"id\":\"b\"}]}}", 2,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":5}]}," META("d", 1) "}",
           "{\"identityMap\":{\"E\":[{\"id\":\"b\"},{\"id\":\"a\",\"n\":1}]}," META("d", 2) "}");
    /* Items without a string id: folded by deep equality (key order aside,
     * doubles by value, ints by value, normalized names). */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"m\":[1,\"s\"],\"id\":5,\"n\":1.5},null,\"s\",{\"x\":2.50},{\"x\":1},{\"x\":1.0},[1]],\"F\":[{\"id\":\"k\"}]}}", 2,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":5,\"n\":1.50,\"m\":[1,\"s\"]},null,\"\\u0073\",{\"x\":2.5}]}," META("d", 1) "}",
           "{\"identityMap\":{\"E\":[{\"m\":[1,\"s\"],\"xdm:id\":5,\"n\":1.5},null,\"s\",{\"x\":2.50},{\"x\":1},{\"x\":1.0},{\"x\":1},[1],[1]],\"F\":[{\"id\":\"k\"}]}," META("d", 2) "}");
    expect(NULL, "{\"identityMap\":{\"E\":[{\"p\":{\"q\":[null,true]},\"id\":5},{\"id\":5,\"p\":{\"q\":[null,false]}},{\"id\":18446744073709551615},{\"id\":-1},\"s\",\"t\",{\"id\":5},{\"id\":6}],\"F\":[{\"id\":\"k\"}]}}", 1,
           "{\"identityMap\":{\"E\":[{\"id\":5,\"p\":{\"q\":[null,true]}},{\"id\":5,\"p\":{\"q\":[null,false]}},{\"id\":18446744073709551615},{\"id\":-1},{\"id\":-1},{\"id\":18446744073709551615},{\"p\":{\"q\":[null,true]},\"id\":5},\"s\",\"t\",\"s\",{\"id\":5},{\"id\":6}],\"F\":[{\"id\":\"k\"}]}}");
    /* Both spellings of the top-level key: left to the trees. */
    const char *both[] = {"{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"xdm:identityMap\":{\"F\":[{\"id\":\"b\"}]}}"};
    assert_int_equal(merge_both(NULL, both, 1, NULL), 0);
}

static void test_membership(void **state)
{
    (void)state;
    /* Per namespace and segment: the latest lastQualificationTime (string
     * or epoch ms; absent or invalid is oldest); a tie to the higher
     * priority; entries whole; xdm: keys of entries renamed. */
    expect(NULL,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"segmentMembership\":{\"ups\":{"
           "\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":\"2020-01-02T00:00:00Z\"},"
           "\"s2\":{\"status\":\"exited\",\"lastQualificationTime\":1577836800001},"
           "\"s3\":{\"status\":\"a\",\"lastQualificationTime\":\"2020-01-01T00:00:00Z\"},"
           "\"s4\":{\"status\":\"a\",\"lastQualificationTime\":\"bad\"},\"s5\":{\"status\":\"new\"}},\"x\":5}}", 2,
           "{" ID("a") ",\"segmentMembership\":{\"ups\":{"
           "\"s1\":{\"status\":\"realized\",\"xdm:lastQualificationTime\":\"2020-01-02T00:00:00Z\"},"
           "\"s2\":{\"status\":\"old\",\"lastQualificationTime\":\"2020-01-01T00:00:00Z\",\"x\":1},"
           "\"s3\":{\"status\":\"a\",\"lastQualificationTime\":\"2020-01-01T00:00:00Z\"},"
           "\"s4\":{\"status\":\"a\",\"lastQualificationTime\":\"bad\"}},\"x\":5}," META("d", 2) "}",
           "{" ID("a") ",\"xdm:segmentMembership\":{\"ups\":{"
           "\"s1\":{\"xdm:status\":\"exited\",\"lastQualificationTime\":\"2020-01-01T00:00:00Z\"},"
           "\"s2\":{\"xdm:status\":\"exited\",\"xdm:lastQualificationTime\":1577836800001},"
           "\"s3\":{\"status\":\"b\",\"lastQualificationTime\":\"2020-01-01T00:00:00.000Z\"},"
           "\"s4\":{\"status\":\"b\"},\"s5\":{\"status\":\"new\"},\"s1\":{\"status\":\"realized\"}},"
           "\"x\":{\"s\":{\"status\":\"q\"}}}," META("d", 1) "}");
    /* Higher priority (dataSetPrecedence) wins a tie; null never overrides. */
    expect(&dsp_pol,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"A\"},\"s2\":{\"status\":\"B\"}}}}", 2,
           "{" ID("a") ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"A\"},\"s2\":null}}," META("a", 1) "}",
           "{" ID("a") ",\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"B\"},\"s2\":{\"status\":\"B\"}}}," META("b", 2) "}");
}

static void test_policies(void **state)
{
    (void)state;
    /* dataSetPrecedence: by the order, whatever the times; fragments of
     * other datasets (or none) take no part. */
    expect(&dsp_pol, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":\"A\",\"w\":\"B\"}", 4,
           "{" ID("a") ",\"v\":\"A\"," META("a", 1) "}",
           "{" ID("a") ",\"v\":\"B\",\"w\":\"B\"," META("b", 9) "}",
           "{" ID("a") ",\"v\":\"C\",\"c\":1," META("c", 9) "}",
           "{" ID("a") ",\"v\":\"N\",\"n\":1}");
    expect(&ts_pol, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":\"B\",\"w\":\"B\"}", 2,
           "{" ID("a") ",\"v\":\"A\"," META("a", 1) "}",
           "{" ID("a") ",\"v\":\"B\",\"w\":\"B\"," META("b", 9) "}");
    /* No fragment of a listed dataset: the events' identities. */
    expect(&dsp_pol, "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":\"e\"}],\"F\":[{\"id\":\"f\"}]}}", 3,
           "{" ID("a") ",\"v\":\"C\"," META("c", 9) "}",
           "{" ID("a") ",\"timestamp\":\"2020-01-01T00:00:00Z\"}",
           "{\"xdm:identityMap\":{\"E\":[{\"xdm:id\":\"e\"}],\"F\":[{\"id\":\"f\"}]},\"xdm:timestamp\":\"2020-01-01T00:00:00Z\"}");
}

static void test_events_only(void **state)
{
    (void)state;
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"b\",\"n\":2},{\"id\":\"a\"}],\"F\":null}}", 3,
           "{\"identityMap\":{\"E\":[{\"id\":\"b\",\"n\":1}],\"F\":null},\"timestamp\":3,\"x\":1}",
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"},{\"id\":\"b\",\"n\":2}]},\"timestamp\":1}",
           "{\"identityMap\":{\"F\":null},\"timestamp\":2}");
    /* Events beside fragments add nothing to the merge. */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"v\":1}", 2,
           "{" ID("a") ",\"v\":1}", "{\"identityMap\":{\"E\":[{\"id\":\"z\"}]},\"timestamp\":1}");
}

static void test_printing(void **state)
{
    (void)state;
    /* json-c's string escapes (no slash escape), integers from their
     * value, doubles from their text.  (NaN, Infinity, -01 and 00 are bad
     * records: not JSON numbers.) */
    expect(NULL,
           "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"s\":\"\xc3\xa9\xc3\xa9/\\n\\u0001\\u0001\\u001f\x7f \\\"q\\\" \\\\\\b\\f\\t\\r\","
           "\"n\":[0,-1,0,1.50,-0.0,1e5,18446744073709551615,-9223372036854775808,2.5E-3],\"k\xc3\xa9\\ty\":true}", 2,
           "{" ID("a") ",\"s\":\"\\u00e9\xc3\xa9\\/\\n\\u0001\x01\x1f\x7f \\\"q\\\" \\\\\\b\\f\\t\\r\"," META("d", 1) "}",
           "{" ID("a") ",\"n\":[-0,-1,0,1.50,-0.0,1e5,18446744073709551615,-9223372036854775808,2.5E-3],\"k\\u00e9\\ty\":true," META("d", 2) "}");
    /* Specials after the first eight bytes (the writer scans by words). */
    expect(NULL, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"long-key-with-a\\\"quote\":\"0123456789abcdef\\\"0123456\\n\\u0001x\\\\\",\"k\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\x7f\\u001f\"}", 1,
           "{" ID("a") ",\"long-key-with-a\\\"quote\":\"0123456789abcdef\\\"0123456\\n\x01x\\\\\",\"k\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\x7f\x1f\"}");
}

/* Objects of many members (views past the small-object filter): hundreds
 * of segments, keys in other orders, duplicates. */
static void test_large(void **state)
{
    (void)state;
    char *l[2];
    for (int f = 0; f < 2; f++) {
        size_t cap = 65536, n = 0;
        char *b = malloc(cap);
        assert_non_null(b);
        n += (size_t)snprintf(b + n, cap - n, "{" ID("a") ",\"segmentMembership\":{\"ups\":{");
        for (int i = 0; i < 300; i++) {
            int seg = f ? 299 - i : (i * 7) % 300;
            n += (size_t)snprintf(b + n, cap - n, "%s\"seg-%d\":{\"status\":\"%s\",\"lastQualificationTime\":%d}",
                                  i ? "," : "", seg, f ? "exited" : "realized", seg % 3 == 0 ? f : 1 - f);
        }
        n += (size_t)snprintf(b + n, cap - n, ",\"seg-7\":{\"status\":\"dup%d\"}}},\"big\":{", f);
        for (int i = 0; i < 100; i++)
            n += (size_t)snprintf(b + n, cap - n, "%s\"k%d\":%d", i ? "," : "", f ? (i * 13) % 100 : i, i + 100 * f);
        n += (size_t)snprintf(b + n, cap - n, ",\"k5\":null,\"k6\":\"last\"}," META("d", %d) "}", f + 1);
        l[f] = b;
    }
    const char *const lines[] = {l[0], l[1]};
    assert_int_equal(merge_both(NULL, lines, 2, NULL), 1);
    const char *const rev[] = {l[1], l[0]};
    assert_int_equal(merge_both(NULL, rev, 2, NULL), 1);
    free(l[0]);
    free(l[1]);
}

/* ---- the randomized differential loop ------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void add(sb *b, const char *s)
{
    size_t k = strlen(s);
    if (b->n + k + 1 > b->cap) {
        b->cap = (b->n + k + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, k + 1);
    b->n += k;
}

static void gen_value(sb *b, int depth);

static const char *const keys[] = {"a", "b", "c", "a\\u0062", "ab", "x:y", "xdm:a", "d\\n"};

static void gen_object(sb *b, int depth, const char *const *ks, size_t nk)
{
    unsigned n = rnd(4);
    add(b, "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            add(b, ",");
        add(b, "\"");
        add(b, ks[rnd((unsigned)nk)]);
        add(b, "\":");
        gen_value(b, depth + 1);
    }
    add(b, "}");
}

static void gen_value(sb *b, int depth)
{
    static const char *const scalars[] = {
        "null", "null", "1", "-0", "7", "1.50", "-0.0", "2e3", "\"s\"", "\"\\u00e9/\\t\"",
        "true", "false", "18446744073709551615", "2.5e-3", "\"q\\\"\"", "-9223372036854775808",
    };
    unsigned k = rnd(depth > 2 ? 4 : 10);
    if (k == 0) {
        gen_object(b, depth, keys, sizeof keys / sizeof *keys);
    } else if (k == 1) {
        unsigned n = rnd(3);
        add(b, "[");
        for (unsigned i = 0; i < n; i++) {
            if (i)
                add(b, ",");
            gen_value(b, depth + 1);
        }
        add(b, "]");
    } else {
        add(b, scalars[rnd(sizeof scalars / sizeof *scalars)]);
    }
}

static void gen_item(sb *b)
{
    static const char *const ids[] = {"\"a\"", "\"b\"", "\"\\u0061\"", "\"c\"", "5", "null"};
    static const char *const ikeys[] = {"id", "xdm:id", "primary", "xdm:primary", "authenticatedState",
                                        "xdm:authenticatedState", "n", "xdm:n"};
    unsigned r = rnd(20);
    if (r == 0) {
        add(b, r & 1 ? "null" : "\"s\"");
        return;
    }
    unsigned n = 1 + rnd(3);
    add(b, "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            add(b, ",");
        unsigned k = i == 0 ? rnd(2) : rnd(8);
        add(b, "\"");
        add(b, ikeys[k]);
        add(b, "\":");
        if (k < 2)
            add(b, rnd(10) ? ids[rnd(4)] : ids[rnd(6)]);
        else
            gen_value(b, 3);
    }
    add(b, "}");
}

static void gen_idmap(sb *b)
{
    static const char *const ns[] = {"E", "F", "G"};
    unsigned n = 1 + rnd(2);
    add(b, "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            add(b, ",");
        add(b, "\"");
        add(b, ns[rnd(3)]);
        add(b, "\":");
        unsigned r = rnd(12);
        if (r == 0) {
            add(b, "null");
        } else if (r == 1) {
            add(b, "\"str\"");
        } else {
            unsigned m = rnd(4);
            add(b, "[");
            for (unsigned j = 0; j < m; j++) {
                if (j)
                    add(b, ",");
                gen_item(b);
            }
            add(b, "]");
        }
    }
    add(b, "}");
}

static void gen_membership(sb *b)
{
    static const char *const times[] = {
        "\"2020-01-01T00:00:00Z\"", "\"2020-01-02T00:00:00Z\"", "\"2020-01-01T00:00:00.000+00:00\"",
        "1577836800000", "\"bad\"", "1.5", "null", "1577923200000"};
    static const char *const ekeys[] = {"status", "xdm:status", "lastQualificationTime",
                                        "xdm:lastQualificationTime", "v"};
    unsigned n = 1 + rnd(2);
    add(b, "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            add(b, ",");
        add(b, rnd(2) ? "\"ups\":" : "\"xdm:ns\":");
        if (rnd(10) == 0) {
            add(b, rnd(2) ? "null" : "3");
            continue;
        }
        unsigned m = rnd(4);
        add(b, "{");
        for (unsigned j = 0; j < m; j++) {
            if (j)
                add(b, ",");
            static const char *const sids[] = {"\"s1\":", "\"s2\":", "\"s3\":"};
            add(b, sids[rnd(3)]);
            unsigned r = rnd(12);
            if (r == 0) {
                add(b, "null");
                continue;
            }
            if (r == 1) {
                add(b, "\"x\"");
                continue;
            }
            unsigned e = rnd(4);
            add(b, "{");
            for (unsigned q = 0; q < e; q++) {
                if (q)
                    add(b, ",");
                unsigned k = rnd(5);
                add(b, "\"");
                add(b, ekeys[k]);
                add(b, "\":");
                if (k == 2 || k == 3)
                    add(b, times[rnd(8)]);
                else
                    gen_value(b, 3);
            }
            add(b, "}");
        }
        add(b, "}");
    }
    add(b, "}");
}

/* One record: a fragment, or (event) an event. */
static char *gen_record(bool event)
{
    sb b = {0};
    static const char *const top[] = {"a", "b", "c", "person", "ab", "a\\u0062"};
    bool first = true;
    add(&b, "{");
    /* An identity the record is sure to have (else it is a bad record). */
    unsigned order = rnd(3);
    for (unsigned part = 0; part < 7; part++) {
        char tmp[160];
        tmp[0] = '\0';
        if (!first)
            add(&b, ",");
        first = false;
        switch ((part + order) % 7) {
        case 0:
            if (rnd(40) == 0) /* both spellings: left to the trees */
                add(&b, "\"xdm:identityMap\":{\"Z\":[{\"id\":\"z\"}]},");
            add(&b, rnd(4) ? "\"identityMap\":" : "\"xdm:identityMap\":");
            add(&b, "{\"K\":[{\"id\":\"k\"}]");
            if (rnd(3)) {
                sb m = {0};
                gen_idmap(&m);
                m.p[m.n - 1] = '\0';
                add(&b, ",");
                add(&b, m.p + 1);
                free(m.p);
            }
            add(&b, "}");
            break;
        case 1:
            if (event || rnd(4) == 0) {
                add(&b, rnd(3) ? "\"x\":1" : "\"y\":2");
                break;
            }
            add(&b, rnd(3) ? "\"segmentMembership\":" : "\"xdm:segmentMembership\":");
            if (rnd(8) == 0)
                add(&b, rnd(2) ? "null" : "[1]");
            else
                gen_membership(&b);
            break;
        case 2: {
            static const char *const ds[] = {"a", "b", "c"};
            add(&b, "\"_acp_system_metadata\":{");
            unsigned r = rnd(4);
            if (r)
                snprintf(tmp, sizeof tmp, "\"datasetId\":\"%s\"%s", ds[r - 1], rnd(3) ? "," : "");
            add(&b, tmp);
            if (!r || tmp[strlen(tmp) - 1] == ',') {
                snprintf(tmp, sizeof tmp, "\"ingestTime\":%u", rnd(4));
                add(&b, tmp);
            }
            add(&b, "}");
            break;
        }
        case 3:
            if (event) {
                add(&b, rnd(2) ? "\"timestamp\":\"2020-01-01T00:00:00Z\"" : "\"xdm:timestamp\":5");
            } else if (rnd(3) == 0) {
                snprintf(tmp, sizeof tmp, "\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"2020-01-0%uT00:00:00Z\"}",
                         1 + rnd(3));
                add(&b, tmp);
            } else {
                add(&b, "\"z\":0");
            }
            break;
        default: {
            add(&b, "\"");
            add(&b, top[rnd(sizeof top / sizeof *top)]);
            add(&b, "\":");
            if (rnd(3) == 0)
                gen_object(&b, 0, top, sizeof top / sizeof *top);
            else
                gen_value(&b, 0);
            break;
        }
        }
    }
    add(&b, "}");
    return b.p;
}

static void test_random(void **state)
{
    (void)state;
    enum { GROUPS = 4000 };
    size_t sure = 0, unsure = 0;
    for (int g = 0; g < GROUPS; g++) {
        char *lines[6];
        size_t n = 1 + rnd(4), ne = rnd(3) == 0 ? rnd(3) : 0;
        if (rnd(20) == 0)
            n = 0, ne = 1 + rnd(2);
        for (size_t i = 0; i < n + ne; i++)
            lines[i] = gen_record(i >= n);
        /* Events mixed in among the fragments. */
        if (ne && n) {
            char *t = lines[0];
            lines[0] = lines[n];
            lines[n] = t;
        }
        const se_mpolicy *pol = g % 3 == 0 ? &dsp_pol : g % 3 == 1 ? &ts_pol : NULL;
        int r = merge_both(pol, (const char *const *)lines, n + ne, NULL);
        if (r == 1)
            sure++;
        else
            unsure++;
        for (size_t i = 0; i < n + ne; i++)
            free(lines[i]);
    }
    printf("mergetape random: %zu groups sure, %zu not sure\n", sure, unsure);
    /* Not sure comes only from a top-level key in both spellings, which the
     * generator writes into one record in 40 (a group has up to 6). */
    assert_true(unsure > 0);
    assert_true(unsure * 10 < GROUPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_identity_map),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_events_only),
        cmocka_unit_test(test_printing),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
