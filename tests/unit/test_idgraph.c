/* Unit tests: the identity graph (idgraph), the stitcher's two passes
 * (stitch) and the external sort (extsort) behind identityGraph pdg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "extsort.h"
#include "idgraph.h"
#include "stitch.h"

#define ID(n, i) ((se_ident){ n, i, sizeof(n) - 1, sizeof(i) - 1 })

static uint64_t hs(const char *ns, const char *id)
{
    return se_ident_hash(ns, strlen(ns), id, strlen(id));
}

/* The key text of the component of (ns, id); "" when not in the graph. */
static const char *key_of(se_idgraph *g, const char *ns, const char *id, unsigned *size)
{
    static char *buf;
    static size_t cap;
    se_ident k;
    if (!se_idgraph_find(g, hs(ns, id), &k, size))
        return "";
    assert_true(se_ident_key_text(&k, &buf, &cap) >= 0);
    return buf;
}

static void test_chain(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    unsigned size;
    assert_non_null(g);
    se_ident r1[] = { ID("ECID", "e1"), ID("Email", "a@x") };     /* A-B */
    se_ident r2[] = { ID("Email", "a@x"), ID("Phone", "555") };   /* B-C */
    se_ident r3[] = { ID("CRM", "c7") };                          /* alone */
    assert_int_equal(se_idgraph_add(g, r1, 2, 0), 0);
    assert_int_equal(se_idgraph_add(g, r3, 1, 0), 0);
    assert_string_equal(key_of(g, "Email", "a@x", &size), "ECID:e1");
    assert_string_equal(key_of(g, "Phone", "555", &size), "");
    assert_int_equal(se_idgraph_add(g, r2, 2, 1), 0);
    /* A-C through B; the key is the smallest record key: ECID:e1 < Phone:555 */
    assert_string_equal(key_of(g, "Phone", "555", &size), "ECID:e1");
    assert_int_equal(size, 3);
    assert_string_equal(key_of(g, "ECID", "e1", NULL), "ECID:e1");
    assert_string_equal(key_of(g, "CRM", "c7", &size), "CRM:c7");
    assert_int_equal(size, 1);
    assert_int_equal(se_idgraph_identities(g), 4);
    assert_int_equal(se_idgraph_components(g), 2);
    assert_false(se_idgraph_report_once(g, hs("ECID", "e1")));
    assert_false(se_idgraph_report_once(g, hs("Nope", "x")));
    se_idgraph_free(g);
}

static void test_key_is_smallest_record_key(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    /* The component key is the smallest key among the records' keys, not the
     * smallest identity: AAA:1 is never a record's key here. */
    se_ident r1[] = { ID("AAA", "1"), ID("Email", "b") };
    se_ident r2[] = { ID("Email", "b"), ID("Email", "a") };
    assert_int_equal(se_idgraph_add(g, r1, 2, 1), 0);
    assert_string_equal(key_of(g, "AAA", "1", NULL), "Email:b");
    assert_int_equal(se_idgraph_add(g, r2, 2, 1), 0);
    assert_string_equal(key_of(g, "AAA", "1", NULL), "Email:a");
    /* (namespace, id) pairs, namespace first: "a.b" < "a:" as text, but "a" < "a.b" */
    se_ident r3[] = { ID("a.b", "x"), ID("q", "1") };
    se_ident r4[] = { ID("q", "1"), ID("a", "z") };
    assert_int_equal(se_idgraph_add(g, r3, 2, 0), 0);
    assert_int_equal(se_idgraph_add(g, r4, 2, 1), 0);
    assert_string_equal(key_of(g, "q", "1", NULL), "a:z");
    se_idgraph_free(g);
}

static void test_merge_of_two_components(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    unsigned size;
    se_ident a[] = { ID("N", "a1"), ID("N", "a2"), ID("N", "a3") };
    se_ident b[] = { ID("M", "b1"), ID("M", "b2") };
    se_ident bridge[] = { ID("X", "ev"), ID("N", "a3"), ID("M", "b2") }; /* e.g. an event */
    assert_int_equal(se_idgraph_add(g, a, 3, 2), 0);
    assert_int_equal(se_idgraph_add(g, b, 2, 1), 0);
    assert_string_equal(key_of(g, "N", "a1", NULL), "N:a3");
    assert_string_equal(key_of(g, "M", "b1", NULL), "M:b2");
    assert_int_equal(se_idgraph_add(g, bridge, 3, 0), 0);
    assert_string_equal(key_of(g, "N", "a1", &size), "M:b2");
    assert_int_equal(size, 6);
    assert_string_equal(key_of(g, "X", "ev", NULL), "M:b2");
    assert_int_equal(se_idgraph_components(g), 1);
    se_idgraph_free(g);
}

static void test_giant_saturates(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    unsigned size;
    char id[32], prev[32] = "0";
    /* a chain of 300 identities: one component, size saturated at 254 */
    for (int i = 1; i < 300; i++) {
        snprintf(id, sizeof id, "%d", i);
        se_ident r[] = { { "N", prev, 1, strlen(prev) }, { "N", id, 1, strlen(id) } };
        assert_int_equal(se_idgraph_add(g, r, 2, 0), 0);
        memcpy(prev, id, sizeof id);
    }
    assert_string_equal(key_of(g, "N", "150", &size), "N:0");
    assert_int_equal(size, 254);
    assert_true(se_idgraph_report_once(g, hs("N", "7")));
    assert_false(se_idgraph_report_once(g, hs("N", "299")));
    assert_string_equal(key_of(g, "N", "150", &size), "N:0");
    assert_int_equal(size, 254);
    assert_int_equal(se_idgraph_components(g), 1);
    se_idgraph_free(g);
}

/* Keys replaced and components merged many times: the arena is compacted in
 * place over and over; every key must stay right. */
static void test_compaction(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    char a[32], b[32], want[64];
    const int n = 60000;
    for (int i = 0; i < n; i++) {       /* keys "Z:<i>" */
        snprintf(a, sizeof a, "%08d", i);
        se_ident r[] = { { "Z", a, 1, strlen(a) } };
        assert_int_equal(se_idgraph_add(g, r, 1, 0), 0);
    }
    for (int i = 0; i < n; i++) {       /* smaller keys "M:<i>": the old ones go stale */
        snprintf(a, sizeof a, "%08d", i);
        snprintf(b, sizeof b, "m%07d", i);
        se_ident r[] = { { "Z", a, 1, strlen(a) }, { "M", b, 1, strlen(b) } };
        assert_int_equal(se_idgraph_add(g, r, 2, 1), 0);
    }
    for (int i = 0; i + 1 < n; i += 2) { /* pairs merged by a record keyed by neither */
        snprintf(a, sizeof a, "%08d", i);
        snprintf(b, sizeof b, "%08d", i + 1);
        se_ident r[] = { { "Z", a, 1, strlen(a) }, { "Z", b, 1, strlen(b) } };
        assert_int_equal(se_idgraph_add(g, r, 2, 1), 0);
    }
    assert_int_equal(se_idgraph_components(g), n / 2);
    for (int i = 0; i < n; i++) {
        unsigned size;
        snprintf(a, sizeof a, "%08d", i);
        snprintf(want, sizeof want, "M:m%07d", i - i % 2);
        assert_string_equal(key_of(g, "Z", a, &size), want);
        assert_int_equal(size, 4);
    }
    print_message("compaction: %zu bytes for %zu identities\n", se_idgraph_bytes(g), se_idgraph_identities(g));
    se_idgraph_free(g);
}

static void test_collect_and_key_text(void **state)
{
    (void)state;
    json_object *m = json_tokener_parse(
        "{\"Email\":[{\"id\":\"b\"},{\"id\":\"\"},{\"id\":7},\"x\",{\"xdm:id\":\"a\\tb\"}],"
        " \"ECID\":[{\"id\":\"z\",\"primary\":true}], \"AAA\":[{\"id\":\"q\"}], \"bad\":{}}");
    se_ident *v = NULL;
    size_t cap = 0, key;
    char *buf = NULL;
    size_t bcap = 0;
    assert_non_null(m);
    assert_int_equal(se_ident_collect(m, &v, &cap, &key), 4);
    assert_int_equal(key, 2); /* the primary, though AAA:q is smaller */
    assert_string_equal(v[1].id, "a\tb");
    assert_int_equal(se_ident_key_text(&v[1], &buf, &bcap), 10);
    assert_string_equal(buf, "Email:a\\tb");
    json_object_put(m);
    m = json_tokener_parse("{\"B\":[{\"id\":\"2\"}],\"A\":[{\"id\":\"9\"}],\"A \":[{\"id\":\"1\"}]}");
    assert_int_equal(se_ident_collect(m, &v, &cap, &key), 3);
    assert_int_equal(key, 1); /* no primary: the smallest pair */
    json_object_put(m);
    m = json_tokener_parse("{\"A\":[]}");
    assert_int_equal(se_ident_collect(m, &v, &cap, &key), 0);
    assert_int_equal(se_ident_collect(NULL, &v, &cap, &key), 0);
    json_object_put(m);
    free(v);
    free(buf);
}

/* Memory per distinct identity at a store-dump shape: profiles of three
 * identities (ECID, Email, Phone), keyed by Email. */
static void test_memory_per_identity(void **state)
{
    (void)state;
    se_idgraph *g = se_idgraph_new();
    char e[64], m[64], p[32];
    const size_t profiles = 200000;
    for (size_t i = 0; i < profiles; i++) {
        snprintf(e, sizeof e, "%038zu", i * 7919);
        snprintf(m, sizeof m, "person.%zu@example.com", i);
        snprintf(p, sizeof p, "+31 6 %08zu", i);
        se_ident r[] = { { "ECID", e, 4, strlen(e) }, { "Email", m, 5, strlen(m) }, { "Phone", p, 5, strlen(p) } };
        assert_int_equal(se_idgraph_add(g, r, 3, 1), 0);
    }
    size_t n = se_idgraph_identities(g);
    assert_int_equal(n, 3 * profiles);
    double per = (double)se_idgraph_peak_bytes(g) / (double)n;
    print_message("idgraph: %zu identities, %zu bytes now, peak %zu: %.1f bytes per identity\n",
                  n, se_idgraph_bytes(g), se_idgraph_peak_bytes(g), per);
    assert_true(per < 40.0);
    se_idgraph_free(g);
}

static void test_guard(void **state)
{
    (void)state;
    se_idguard gd;
    char buf[128];
    se_idguard_reset(&gd);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof buf, "{\"N\":[{\"id\":\"%d\"},{\"id\":\"0\"}]}", i);
        json_object *m = json_tokener_parse(buf);
        assert_true(se_idguard_add(&gd, m));
        json_object_put(m);
    }
    json_object *m = json_tokener_parse("{\"N\":[{\"id\":\"49\"}]}");
    assert_true(se_idguard_add(&gd, m)); /* 50 distinct: still in */
    json_object_put(m);
    m = json_tokener_parse("{\"M\":[{\"id\":\"49\"}]}");
    assert_false(se_idguard_add(&gd, m)); /* the 51st */
    assert_true(gd.over);
    json_object_put(m);
    se_idguard_reset(&gd);
    assert_false(gd.over);
}

static void test_stitcher(void **state)
{
    (void)state;
    se_stitcher *st = se_stitcher_new();
    const char *key;
    size_t klen;
    unsigned size;
    char err[256];
    static const char *lines[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"e1\"}],\"Email\":[{\"id\":\"a@x\"}]},\"n\":1}",
        "{\"xdm:identityMap\":{\"Email\":[{\"xdm:id\":\"a@x\"}],\"CRM\":[{\"id\":\"c\\u0031\"}]}}",
        "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"identityMap\":{\"Web\":[{\"id\":\"w\"}],\"ECID\":[{\"id\":\"e1\"}]}}",
        "not json",
    };
    assert_non_null(st);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(se_stitcher_learn(st, lines[i], strlen(lines[i])), 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(se_stitcher_key(st, lines[i], strlen(lines[i]), &key, &klen, &size, err, sizeof err), 1);
        assert_string_equal(key, "CRM:c1");
        assert_int_equal(klen, 6);
        assert_int_equal(size, 4);
    }
    assert_int_equal(se_stitcher_key(st, lines[3], strlen(lines[3]), &key, &klen, &size, err, sizeof err), 0);
    assert_string_equal(err, "not JSON: 'not json' (input must be one JSON object per line)");
    const char *other = "{\"identityMap\":{\"New\":[{\"id\":\"1\"}]}}";
    assert_int_equal(se_stitcher_key(st, other, strlen(other), &key, &klen, &size, err, sizeof err), -1);
    assert_non_null(strstr(err, "the input changed"));
    se_stitcher_free(st);
}

/* Pass 1 reads identities straight from the bytes when it can: the graph it
 * builds must be the one json-c's reading gives (se_ident_collect). */
static void test_raw_identities_as_json_c(void **state)
{
    (void)state;
    static const char *maps[] = {
        "{\"A\":[{\"id\":\"1\"}],\"B\":[{\"id\":\"2\",\"primary\":true},{\"id\":\"3\"}]}",
        "{ \"A\" : [ { \"x\" : {\"id\":\"no\",\"k\":[1,{\"id\":\"no\"}]} , \"id\" : \"9\" , \"primary\" : false } ] , \"C\":[] }",
        "{\"A\":[{\"id\":\"2\"}],\"A\":[{\"id\":\"1\"}]}",
        "{\"B\":[],\"A\":[{\"id\":\"1\",\"primary\":true}],\"B\":[{\"id\":\"2\",\"primary\":true}]}",
        "{\"A\":[{\"id\":\"1\",\"id\":\"2\"}]}",
        "{\"A\":[{\"id\":\"1\",\"primary\":true,\"primary\":false},{\"id\":\"0\"}]}",
        "{\"A\":[{\"xdm:id\":\"7\"},{\"id\":\"8\"}]}",
        "{\"A\":[{\"id\":\"a\\\"b\"},{\"id\":\"\\u0041\"}]}",
        "{\"A\":[{\"id\":5},{\"id\":\"\"},\"s\",7,null,[{\"id\":\"no\"}],{\"id\":\"ok\"}],\"B\":{\"id\":\"no\"},\"C\":\"x\"}",
        "{\"Z\":[{\"id\":\"1\",\"primary\":\"true\"}],\"Y\":[{\"id\":\"2\",\"primary\":1}]}",
        "{\"A\":[{\"id\":\"x\",\"primary\":true}],\"B\":[{\"id\":\"y\",\"primary\":true}]}",
    };
    char line[1024], err[256], *kbuf = NULL;
    size_t kcap = 0;
    for (size_t t = 0; t < sizeof maps / sizeof maps[0]; t++) {
        snprintf(line, sizeof line, "{\"identityMap\":%s,\"n\":1}", maps[t]);
        json_object *m = json_tokener_parse(maps[t]);
        se_ident *v = NULL;
        size_t cap = 0, key;
        assert_non_null(m);
        long n = se_ident_collect(m, &v, &cap, &key);
        assert_true(n > 0);
        assert_true(se_ident_key_text(&v[key], &kbuf, &kcap) > 0);
        se_stitcher *st = se_stitcher_new();
        assert_int_equal(se_stitcher_learn(st, line, strlen(line)), 0);
        const char *k;
        size_t klen;
        unsigned size;
        assert_int_equal(se_stitcher_key(st, line, strlen(line), &k, &klen, &size, err, sizeof err), 1);
        print_message("%zu: %s -> %s (%ld identities)\n", t, maps[t], kbuf, n);
        assert_string_equal(k, kbuf);
        assert_int_equal(se_idgraph_identities(se_stitcher_graph(st)), (size_t)n);
        assert_int_equal(size, (unsigned)n);
        for (long i = 0; i < n; i++) {
            se_ident ck;
            assert_true(se_idgraph_find(se_stitcher_graph(st), se_ident_hash(v[i].ns, v[i].nslen, v[i].id, v[i].idlen),
                                        &ck, NULL));
        }
        se_stitcher_free(st);
        free(v);
        json_object_put(m);
    }
    free(kbuf);
}

static void test_check_inputs(void **state)
{
    (void)state;
    char err[512];
    char *stdin_only[] = { "-" };
    char *fifo[] = { "/dev/null" };
    char *missing[] = { "/nonexistent/x" };
    assert_int_equal(se_stitch_check_inputs(NULL, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "stdin cannot be read twice"));
    assert_non_null(strstr(err, "key --graph"));
    assert_int_equal(se_stitch_check_inputs(stdin_only, 1, err, sizeof err), -1);
    assert_int_equal(se_stitch_check_inputs(fifo, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "/dev/null: identityGraph \"pdg\" reads the input twice and this is not a file"));
    assert_int_equal(se_stitch_check_inputs(missing, 1, err, sizeof err), -1);
}

static char *slurp_fd(int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    ssize_t n;
    while ((n = read(fd, b + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2)
            b = realloc(b, cap *= 2);
    }
    b[len] = '\0';
    return b;
}

/* Small memory bound: many runs; the merge must be sorted by key and stable. */
static void test_extsort(void **state)
{
    (void)state;
    char dir[] = "/tmp/segexport-extsort-XXXXXX", err[256], key[32], rec[64];
    assert_non_null(mkdtemp(dir));
    for (int pass = 0; pass < 2; pass++) {
        se_extsort *xs = se_extsort_new(dir, "0123456789abcdef0123456789abcdef", pass ? 4096 : 1 << 20);
        const int n = 3000;
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%03d", (i * 37) % 101);
            snprintf(rec, sizeof rec, "{\"seq\":%06d}", i);
            assert_int_equal(se_extsort_add(xs, key, strlen(key), rec, strlen(rec), err, sizeof err), 0);
        }
        if (pass)
            assert_true(se_extsort_runs(xs) > 10);
        else
            assert_int_equal(se_extsort_runs(xs), 0);
        int fd = se_extsort_finish(xs, err, sizeof err);
        assert_true(fd >= 0);
        char *all = slurp_fd(fd), *save = NULL, prevk[32] = "", prevr[64] = "";
        int lines = 0;
        for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *tab = strchr(l, '\t');
            assert_non_null(tab);
            *tab = '\0';
            int c = strcmp(prevk, l);
            assert_true(c <= 0);
            if (c == 0)
                assert_true(strcmp(prevr, tab + 1) < 0); /* stable: input order */
            snprintf(prevk, sizeof prevk, "%s", l);
            snprintf(prevr, sizeof prevr, "%s", tab + 1);
            lines++;
        }
        assert_int_equal(lines, n);
        free(all);
        close(fd);
        se_extsort_free(xs);
    }
    assert_int_equal(rmdir(dir), 0); /* nothing left behind */
}

static int fails;
static void count_fail(void *ud, const char *err)
{
    (void)ud;
    (void)err;
    fails++;
}

/* A line's key as the sort compares it: bytes, then length (LC_ALL=C). */
static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an < bn ? -1 : an > bn);
}

/* The stream gives what finish gives: keys that share their first 16 bytes
 * (the prefix each line carries), keys that begin others, bytes past 0x7f;
 * all in memory and over many runs (the last buffer merged from memory). */
static void test_extsort_stream(void **state)
{
    (void)state;
    char dir[] = "/tmp/segexport-extsort-XXXXXX", err[256], key[64], rec[64];
    static const char *const shapes[] = { "Email:someone.with.a.long.name.%03d@x", "Email:someone.with.a.long.name.%d",
                                          "Email:someone.wi%d", "E%d", "\xc3\xa9%d", "Email:someone.with" };
    assert_non_null(mkdtemp(dir));
    for (int pass = 0; pass < 2; pass++) {
        se_extsort *xs = se_extsort_new(dir, "0123456789abcdef0123456789abcdef", pass ? 8192 : 1 << 20);
        const int n = 4000;
        for (int i = 0; i < n; i++) {
            const char *shape = shapes[i % 6];
            if (shape[0] == '\\')
                snprintf(key, sizeof key, "\xc3\xa9%d", (i * 7) % 13);
            else
                snprintf(key, sizeof key, shape, (i * 37) % 101);
            snprintf(rec, sizeof rec, "{\"seq\":%06d}", i);
            assert_int_equal(se_extsort_add(xs, key, strlen(key), rec, strlen(rec), err, sizeof err), 0);
        }
        assert_true(pass ? se_extsort_runs(xs) > 10 : se_extsort_runs(xs) == 0);
        fails = 0;
        int fd = se_extsort_stream(xs, count_fail, NULL, err, sizeof err);
        assert_true(fd >= 0);
        char *all = slurp_fd(fd), *save = NULL, prevk[64] = "", prevr[64] = "";
        close(fd);
        assert_int_equal(se_extsort_stream_end(xs, err, sizeof err), 0);
        assert_int_equal(fails, 0);
        int lines = 0;
        for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *tab = strchr(l, '\t');
            assert_non_null(tab);
            *tab = '\0';
            int c = cmp_bytes(prevk, strlen(prevk), l, strlen(l));
            assert_true(c <= 0);
            if (c == 0 && lines)
                assert_true(strcmp(prevr, tab + 1) < 0); /* stable: input order */
            snprintf(prevk, sizeof prevk, "%s", l);
            snprintf(prevr, sizeof prevr, "%s", tab + 1);
            lines++;
        }
        assert_int_equal(lines, n);
        free(all);
        se_extsort_free(xs);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* A reader that stops early (a failed engine) closes its end: the merge
 * thread, blocked on a full pipe, ends without a failure and without
 * SIGPIPE taking the process. */
static void test_extsort_stream_reader_stops(void **state)
{
    (void)state;
    char dir[] = "/tmp/segexport-extsort-XXXXXX", err[256], key[32], rec[256];
    assert_non_null(mkdtemp(dir));
    se_extsort *xs = se_extsort_new(dir, "0123456789abcdef0123456789abcdef", 1 << 16);
    memset(rec, 'x', 200);
    rec[200] = '\0';
    for (int i = 0; i < 30000; i++) { /* 6 MB: more than the pipe holds */
        snprintf(key, sizeof key, "k%05d", i % 997);
        assert_int_equal(se_extsort_add(xs, key, strlen(key), rec, 200, err, sizeof err), 0);
    }
    fails = 0;
    int fd = se_extsort_stream(xs, count_fail, NULL, err, sizeof err);
    assert_true(fd >= 0);
    char head[100];
    assert_int_equal(read(fd, head, sizeof head), (ssize_t)sizeof head);
    assert_memory_equal(head, "k00000\t", 7);
    close(fd);
    assert_int_equal(se_extsort_stream_end(xs, err, sizeof err), 0);
    assert_int_equal(fails, 0);
    se_extsort_free(xs);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_key_is_smallest_record_key),
        cmocka_unit_test(test_merge_of_two_components),
        cmocka_unit_test(test_giant_saturates),
        cmocka_unit_test(test_compaction),
        cmocka_unit_test(test_collect_and_key_text),
        cmocka_unit_test(test_memory_per_identity),
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_stitcher),
        cmocka_unit_test(test_raw_identities_as_json_c),
        cmocka_unit_test(test_check_inputs),
        cmocka_unit_test(test_extsort),
        cmocka_unit_test(test_extsort_stream),
        cmocka_unit_test(test_extsort_stream_reader_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
