/* Unit tests for src/engine/record.c: kinds, profile key rule, times, normalization,
 * bad records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static char *key_of(const char *map_json)
{
    json_object *m = json_tokener_parse(map_json);
    assert_non_null(m);
    char *k = se_identity_key(m);
    json_object_put(m);
    return k;
}

static void assert_key(const char *map_json, const char *want)
{
    char *k = key_of(map_json);
    if (want == NULL) {
        assert_null(k);
        return;
    }
    assert_non_null(k);
    assert_string_equal(k, want);
    free(k);
}

/* Parses s; returns the parse result, with err filled. */
static int parse(const char *s, se_record *rec, char *err, size_t errlen)
{
    se_rparser *p = se_rparser_new();
    assert_non_null(p);
    err[0] = '\0';
    int r = se_record_parse(p, s, strlen(s), rec, err, errlen);
    se_rparser_free(p);
    return r;
}

static void assert_bad(const char *s, const char *want)
{
    se_record rec;
    char err[256];
    assert_int_equal(parse(s, &rec, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_null(rec.obj);
    assert_null(rec.key);
    assert_null(rec.dataset_id);
}

static void assert_normalized(const char *in, const char *want)
{
    se_record rec;
    char err[256];
    assert_int_equal(parse(in, &rec, err, sizeof err), 0);
    assert_string_equal(json_object_to_json_string_ext(rec.obj, JSON_C_TO_STRING_PLAIN), want);
    se_record_clear(&rec);
}

static void test_fnv(void **state)
{
    (void)state;
    assert_true(se_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(se_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(se_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

/* se_hash64: every byte and the length count - the strings of 0-24 bytes
 * made by flipping one byte (or dropping/adding a NUL at the end) of one
 * another all hash apart, and the hash reads no byte past n. */
static void test_hash64(void **state)
{
    (void)state;
    char buf[64], *heap;
    uint64_t seen[25 * 26];
    size_t ns = 0;
    memset(buf, 'k', sizeof buf);
    for (size_t n = 0; n <= 24; n++) {
        seen[ns++] = se_hash64(buf, n);
        for (size_t i = 0; i < n; i++) {
            buf[i] ^= 1;
            seen[ns++] = se_hash64(buf, n);
            buf[i] ^= 1;
        }
    }
    for (size_t i = 0; i < ns; i++)
        for (size_t j = i + 1; j < ns; j++)
            assert_true(seen[i] != seen[j]);
    assert_true(se_hash64("ab", 2) != se_hash64("ab\0", 3));
    /* Exactly n bytes on the heap: ASan catches a read past them. */
    for (size_t n = 1; n <= 17; n++) {
        assert_non_null(heap = malloc(n));
        memset(heap, 'k', n);
        assert_true(se_hash64(heap, n) == se_hash64(buf, n));
        free(heap);
    }
}

static void test_key_primary(void **state)
{
    (void)state;
    /* the primary item wins even in a later namespace */
    assert_key("{\"A\":[{\"id\":\"z\"}],\"B\":[{\"id\":\"y\",\"primary\":true}]}", "B:y");
    /* the first primary in document order wins */
    assert_key("{\"Z\":[{\"id\":\"2\",\"primary\":false},{\"id\":\"9\",\"primary\":true}],"
               "\"A\":[{\"id\":\"1\",\"primary\":true}]}", "Z:9");
    /* only JSON true counts */
    assert_key("{\"B\":[{\"id\":\"z\",\"primary\":\"true\"}],\"A\":[{\"id\":\"a\",\"primary\":1}]}",
               "A:a");
    /* a primary without a usable id is ignored */
    assert_key("{\"B\":[{\"primary\":true},{\"id\":\"\",\"primary\":true}],\"A\":[{\"id\":\"a\"}]}",
               "A:a");
}

static void test_key_smallest(void **state)
{
    (void)state;
    /* bytes: "CRMID" < "ECID" < "Email" */
    assert_key("{\"Email\":[{\"id\":\"a\"}],\"ECID\":[{\"id\":\"2\"}],\"CRMID\":[{\"id\":\"x\"}]}",
               "CRMID:x");
    /* a namespace that is a prefix of another is smaller */
    assert_key("{\"EM\":[{\"id\":\"a\"}],\"E\":[{\"id\":\"z\"}]}", "E:z");
    /* namespace tie broken by id */
    assert_key("{\"E\":[{\"id\":\"b\"},{\"id\":\"ab\"},{\"id\":\"a\"}]}", "E:a");
    /* bytes, not locale: uppercase before lowercase, UTF-8 after ASCII */
    assert_key("{\"N\":[{\"id\":\"\xc3\xa9\"},{\"id\":\"b\"},{\"id\":\"B\"}]}", "N:B");
}

static void test_key_escape(void **state)
{
    (void)state;
    assert_key("{\"N\\\\s\":[{\"id\":\"a\\tb\\nc\\rd\\\\e:f\"}]}", "N\\\\s:a\\tb\\nc\\rd\\\\e:f");
}

static void test_key_xdm(void **state)
{
    (void)state;
    assert_key("{\"A\":[{\"xdm:id\":\"1\"}],\"B\":[{\"xdm:id\":\"2\",\"xdm:primary\":true}]}", "B:2");
    /* the unprefixed spelling is preferred when both are there */
    assert_key("{\"A\":[{\"id\":\"u\",\"xdm:id\":\"p\"}]}", "A:u");
}

static void test_key_ignored_items(void **state)
{
    (void)state;
    assert_key("{\"A\":[{\"id\":1,\"primary\":true},{\"id\":\"\"},{\"id\":null},5,\"s\"],"
               "\"B\":[{\"id\":\"x\"}]}", "B:x");
    assert_key("{\"A\":{\"id\":\"x\"},\"B\":[{\"id\":\"a\\u0000b\"}],\"C\":[{\"id\":\"c\"}]}", "C:c");
    assert_key("{}", NULL);
    assert_key("{\"A\":[]}", NULL);
    assert_key("{\"A\":[{\"id\":7}]}", NULL);
    assert_key("[1]", NULL);
    assert_null(se_identity_key(NULL));
}

static void test_kinds(void **state)
{
    (void)state;
    se_record rec;
    char err[256];

    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"person\":{}}", &rec, err, sizeof err), 0);
    assert_int_equal(rec.kind, SE_REC_PROFILE);
    assert_false(rec.has_ts);
    assert_false(rec.has_ingest);
    assert_false(rec.has_updated);
    assert_null(rec.dataset_id);
    assert_string_equal(rec.key, "E:a");
    se_record_clear(&rec);

    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2019-03-03T15:42:00+00:00\"}",
                           &rec, err, sizeof err), 0);
    assert_int_equal(rec.kind, SE_REC_EVENT);
    assert_true(rec.has_ts);
    assert_true(rec.ts_ms == 1551627720000LL);
    se_record_clear(&rec);

    assert_int_equal(parse("{\"xdm:identityMap\":{\"E\":[{\"xdm:id\":\"a\"}]},\"xdm:timestamp\":1234}",
                           &rec, err, sizeof err), 0);
    assert_int_equal(rec.kind, SE_REC_EVENT);
    assert_true(rec.ts_ms == 1234);
    assert_string_equal(rec.key, "E:a");
    se_record_clear(&rec);
    se_record_clear(&rec); /* clearing twice is fine */
}

static void test_times(void **state)
{
    (void)state;
    se_record rec;
    char err[256];

    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                           "\"_acp_system_metadata\":{\"ingestTime\":1700000000123,\"datasetId\":\"ds1\"}}",
                           &rec, err, sizeof err), 0);
    assert_true(rec.has_ingest);
    assert_true(rec.ingest_ms == 1700000000123LL);
    assert_string_equal(rec.dataset_id, "ds1");
    assert_false(json_object_object_get_ex(rec.obj, "_acp_system_metadata", NULL));
    se_record_clear(&rec);

    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                           "\"_acp_system_metadata\":{\"ingestTime\":\"1970-01-01T00:00:01.500Z\",\"datasetId\":7},"
                           "\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"1970-01-01T00:00:02Z\"}}",
                           &rec, err, sizeof err), 0);
    assert_true(rec.has_ingest);
    assert_true(rec.ingest_ms == 1500);
    assert_null(rec.dataset_id);
    assert_true(rec.has_updated);
    assert_true(rec.updated_ms == 2000);
    se_record_clear(&rec);

    /* the xdm: spelling of the audit block is a literal key (SPEC §3), not
     * the update time; a bad update time is only ignored */
    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                           "\"xdm:extSourceSystemAudit\":{\"xdm:lastUpdatedDate\":\"1970-01-01T00:00:03Z\"}}",
                           &rec, err, sizeof err), 0);
    assert_false(rec.has_updated);
    se_record_clear(&rec);
    assert_int_equal(parse("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                           "\"extSourceSystemAudit\":{\"lastUpdatedDate\":\"yesterday\"}}",
                           &rec, err, sizeof err), 0);
    assert_false(rec.has_updated);
    se_record_clear(&rec);
}

static void test_normalize(void **state)
{
    (void)state;
    /* renamed in place; other xdm: keys stay literal; system data removed */
    assert_normalized(
        "{\"xdm:identityMap\":{\"ECID\":[{\"xdm:id\":\"1\",\"xdm:primary\":true,"
        "\"xdm:authenticatedState\":\"ambiguous\",\"xdm:other\":1}]},"
        "\"xdm:person\":{\"xdm:name\":1},"
        "\"xdm:segmentMembership\":{\"ups\":{\"s1\":{\"xdm:status\":\"realized\","
        "\"xdm:lastQualificationTime\":\"2020-01-01T00:00:00Z\",\"x\":{\"xdm:y\":1}}}},"
        "\"_acp_system_metadata\":{\"ingestTime\":5},"
        "\"xdm:timestamp\":\"2020-01-01T00:00:00Z\"}",
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true,"
        "\"authenticatedState\":\"ambiguous\",\"xdm:other\":1}]},"
        "\"xdm:person\":{\"xdm:name\":1},"
        "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
        "\"lastQualificationTime\":\"2020-01-01T00:00:00Z\",\"x\":{\"xdm:y\":1}}}},"
        "\"timestamp\":\"2020-01-01T00:00:00Z\"}");

    /* both spellings: the unprefixed one is kept, the other merged into it */
    assert_normalized(
        "{\"identityMap\":{\"A\":[{\"id\":\"1\"}]},"
        "\"xdm:identityMap\":{\"A\":[{\"xdm:id\":\"2\"}],\"B\":[{\"id\":\"3\"}]},"
        "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\"}}},"
        "\"xdm:segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"exited\"},\"s2\":{\"xdm:status\":\"existing\"}},"
        "\"aam\":{\"s3\":{}}},"
        "\"xdm:timestamp\":2,\"timestamp\":1}",
        "{\"identityMap\":{\"A\":[{\"id\":\"1\"},{\"id\":\"2\"}],\"B\":[{\"id\":\"3\"}]},"
        "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\"},\"s2\":{\"status\":\"existing\"}},"
        "\"aam\":{\"s3\":{}}},"
        "\"timestamp\":1}");

    /* inside one item or entry, too */
    assert_normalized(
        "{\"identityMap\":{\"A\":[{\"xdm:id\":\"p\",\"id\":\"u\",\"primary\":false,\"xdm:primary\":true}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"xdm:status\":\"exited\",\"status\":\"realized\"}}}}",
        "{\"identityMap\":{\"A\":[{\"id\":\"u\",\"primary\":false}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"}}}}");

    /* already normalized records come out unchanged */
    assert_normalized("{\"a\":[1,{\"b\":null}],\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"z\":\"\\u00e9\"}",
                      "{\"a\":[1,{\"b\":null}],\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"z\":\"\xc3\xa9\"}");
}

/* A record with an array nested levels deep. */
static char *deep_record(size_t levels)
{
    const char *head = "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"d\":";
    size_t hl = strlen(head);
    char *s = malloc(hl + 2 * levels + 2);
    assert_non_null(s);
    memcpy(s, head, hl);
    memset(s + hl, '[', levels);
    memset(s + hl + levels, ']', levels);
    strcpy(s + hl + 2 * levels, "}");
    return s;
}

static void test_bad_records(void **state)
{
    (void)state;
    assert_bad("{\"a\":1} x", "malformed JSON: unexpected character");
    assert_bad("{\"a\":1}{}", "malformed JSON: unexpected character");
    assert_bad("{\"a\":", "malformed JSON: unexpected end of input");
    assert_bad("", "malformed JSON: unexpected end of input");
    assert_bad("{\"a\":tru}", "malformed JSON: boolean expected");
    assert_bad("{\"a\":[1,]}", "malformed JSON: unexpected character");
    assert_bad("{\"a\":\"\xff\"}", "malformed JSON: invalid utf-8 string");
    assert_bad("[1]", "not a JSON object");
    assert_bad("123", "not a JSON object");
    assert_bad("\"x\"", "not a JSON object");
    assert_bad("{\"a\":1}", "no identity");
    assert_bad("{\"identityMap\":{}}", "no identity");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":1}]},\"timestamp\":1}", "no identity");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{\"ingestTime\":\"x\"}}",
               "invalid _acp_system_metadata.ingestTime");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{\"ingestTime\":1.5}}",
               "invalid _acp_system_metadata.ingestTime");
    /* Above INT64_MAX but a uint64: json-c keeps it, it is no epoch-ms time. */
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{\"ingestTime\":18446744073709551615}}",
               "invalid _acp_system_metadata.ingestTime");
    /* Beyond 64 bits json-c would clamp it: the record is refused, wherever it is. */
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{\"ingestTime\":99999999999999999999}}",
               "integer out of range");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"n\":[1,-9223372036854775809]}",
               "integer out of range");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"k\\u0000x\":1}",
               "NUL character in an object key");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":\"2020-13-01T00:00:00Z\"}",
               "invalid timestamp");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"xdm:timestamp\":true}", "invalid timestamp");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"timestamp\":null}", "invalid timestamp");

    /* nesting: 500 levels parse, 600 do not */
    char *deep = deep_record(600);
    assert_bad(deep, "malformed JSON: nesting too deep");
    free(deep);
    deep = deep_record(500);
    se_record rec;
    char err[256];
    assert_int_equal(parse(deep, &rec, err, sizeof err), 0);
    se_record_clear(&rec);
    free(deep);
}

/* One parser over many lines: the tokener is reset between them. */
static void test_reuse(void **state)
{
    (void)state;
    se_rparser *p = se_rparser_new();
    assert_non_null(p);
    se_record rec;
    char err[128];
    const char *lines[] = {
        "{\"identityMap\":{\"E\":[{\"id\":\"1\"}]}}",
        "{\"identityMap\":",
        "{\"identityMap\":{\"E\":[{\"id\":\"2\"}]}}  \r",
        "nope",
        "{\"identityMap\":{\"E\":[{\"id\":\"3\"}]}}",
    };
    const int want[] = {0, -1, 0, -1, 0};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        assert_int_equal(se_record_parse(p, lines[i], strlen(lines[i]), &rec, err, sizeof err), want[i]);
        se_record_clear(&rec);
    }
    /* only len bytes are parsed, not up to a NUL */
    const char *s = "{\"identityMap\":{\"E\":[{\"id\":\"4\"}]}}garbage";
    assert_int_equal(se_record_parse(p, s, strlen(s) - 7, &rec, err, sizeof err), 0);
    assert_string_equal(rec.key, "E:4");
    se_record_clear(&rec);
    se_rparser_free(p);
    se_rparser_free(NULL);
}

/* Adobe's own examples and sample data parse, when the reference tree is there. */
static void test_reference_examples(void **state)
{
    (void)state;
    const char *path = "/work/shared/reference/xdm/components/classes/profile.example.1.json";
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        skip();
        return;
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    se_record rec;
    char err[256];
    se_rparser *p = se_rparser_new();
    assert_non_null(p);
    assert_int_equal(se_record_parse(p, buf, n, &rec, err, sizeof err), 0);
    assert_int_equal(rec.kind, SE_REC_PROFILE);
    assert_string_equal(rec.key, "ECID:92312748749128");
    assert_true(json_object_object_get_ex(rec.obj, "identityMap", NULL));
    assert_true(json_object_object_get_ex(rec.obj, "xdm:person", NULL));
    se_record_clear(&rec);

    f = fopen("/work/shared/reference/sample-data/Profile_CRM_Data_Sample.jsonl", "rb");
    if (f != NULL) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int count = 0;
        while ((len = getline(&line, &cap, f)) > 0) {
            assert_int_equal(se_record_parse(p, line, (size_t)len, &rec, err, sizeof err), 0);
            assert_int_equal(strncmp(rec.key, "EMAIL:", 6), 0);
            se_record_clear(&rec);
            count++;
        }
        free(line);
        fclose(f);
        assert_true(count > 0);
    }
    se_rparser_free(p);
}

/* Parses s, expecting success: key and dataset_id (NULL: none) as given. */
static void assert_facts(const char *s, const char *key, const char *ds, se_record *rec)
{
    char err[256];
    if (parse(s, rec, err, sizeof err) != 0)
        fail_msg("%s: %s", s, err);
    assert_string_equal(rec->key, key);
    if (ds == NULL)
        assert_null(rec->dataset_id);
    else
        assert_string_equal(rec->dataset_id, ds);
}

/* The tape reader's shortcuts (recfacts.c): datasetId kept in the key's
 * block, one pass over _acp_system_metadata and extSourceSystemAudit,
 * integers eight digits at a time, no duplicate scans for distinct keys -
 * each against the cases that take the long way. */
static void test_facts_paths(void **state)
{
    (void)state;
    se_record rec;
    char err[256], buf[512], id[64], ds[64];

    /* key and datasetId of many lengths share a block; clearing frees it */
    for (int l = 1; l <= 40; l += 3)
        for (int d = 0; d <= 30; d += 5) {
            memset(id, 'x', (size_t)l);
            id[l] = '\0';
            memset(ds, 'd', (size_t)d);
            ds[d] = '\0';
            snprintf(buf, sizeof buf, "{\"identityMap\":{\"N\":[{\"id\":\"%s\"}]},"
                     "\"_acp_system_metadata\":{\"datasetId\":\"%s\"}}", id, ds);
            char want[80];
            snprintf(want, sizeof want, "N:%s", id);
            assert_facts(buf, want, ds, &rec);
            se_record_clear(&rec);
            assert_null(rec.key);
        }
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\\tb\\\\\"}]},"
                 "\"_acp_system_metadata\":{\"datasetId\":\"ds\"}}", "E:a\\tb\\\\", "ds", &rec);
    se_record_clear(&rec);
    /* escaped, NUL-holding and non-string datasetIds */
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"_acp_system_metadata\":{\"datasetId\":\"d\\u0073\"}}", "E:a", "ds", &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"_acp_system_metadata\":{\"datasetId\":\"a\\u0000b\"}}", "E:a", NULL, &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"_acp_system_metadata\":{\"datasetId\":\"a\\\"b\"}}", "E:a", "a\"b", &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"_acp_system_metadata\":{\"datasetId\":[\"x\"]}}", "E:a", NULL, &rec);
    se_record_clear(&rec);

    /* duplicate and escaped member names: the last of a name wins */
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{"
                 "\"ingestTime\":1,\"datasetId\":\"a\",\"ingestTime\":\"1970-01-01T00:00:00.002Z\","
                 "\"datasetId\":\"b\"}}", "E:a", "b", &rec);
    assert_true(rec.has_ingest && rec.ingest_ms == 2);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"_acp_system_metadata\":{"
                 "\"ingestTime\":6,\"ingest\\u0054ime\":5,\"dataset\\u0049d\":\"q\"}}", "E:a", "q", &rec);
    assert_true(rec.has_ingest && rec.ingest_ms == 5);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"extSourceSystemAudit\":{"
                 "\"lastUpdatedDate\":\"x\",\"lastUpdatedDat\\u0065\":\"1970-01-01T00:00:03Z\"}}",
                 "E:a", NULL, &rec);
    assert_true(rec.has_updated && rec.updated_ms == 3000);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},\"extSourceSystemAudit\":{"
                 "\"lastUpdatedDate\":\"1970-01-01T00:00:03Z\",\"lastUpdatedDate\":\"bad\"}}",
                 "E:a", NULL, &rec);
    assert_false(rec.has_updated);
    se_record_clear(&rec);

    /* time strings with escapes, NULs, offsets */
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"timestamp\":\"\\u0031970-01-01T00:00:01Z\"}", "E:a", NULL, &rec);
    assert_true(rec.has_ts && rec.ts_ms == 1000);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"timestamp\":\"1970-01-01T00:00:01.5+01:00\"}", "E:a", NULL, &rec);
    assert_true(rec.has_ts && rec.ts_ms == -3598500);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"timestamp\":\"1970-01-01t00:00:01.123456789z\"}", "E:a", NULL, &rec);
    assert_true(rec.has_ts && rec.ts_ms == 1123);
    se_record_clear(&rec);
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
               "\"timestamp\":\"1970-01-01T00:00:01Z\\u0000\"}", "invalid timestamp");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
               "\"timestamp\":\"1970-02-29T00:00:01Z\"}", "invalid timestamp");

    /* integer times of every length, the edges of int64 */
    static const struct { const char *text; int64_t ms; } ints[] = {
        {"0", 0}, {"-5", -5}, {"12345678", 12345678}, {"123456789", 123456789},
        {"1234567890123456", 1234567890123456LL}, {"999999999999999999", 999999999999999999LL},
        {"1000000000000000000", 1000000000000000000LL}, {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN}, {"-123456789012345678", -123456789012345678LL},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(buf, sizeof buf, "{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
                 "\"_acp_system_metadata\":{\"ingestTime\":%s}}", ints[i].text);
        if (parse(buf, &rec, err, sizeof err) != 0)
            fail_msg("%s: %s", ints[i].text, err);
        if (!rec.has_ingest || rec.ingest_ms != ints[i].ms)
            fail_msg("%s: %lld", ints[i].text, (long long)rec.ingest_ms);
        se_record_clear(&rec);
    }
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
               "\"_acp_system_metadata\":{\"ingestTime\":9223372036854775808}}",
               "invalid _acp_system_metadata.ingestTime");
    assert_bad("{\"identityMap\":{\"E\":[{\"id\":\"a\"}]},"
               "\"_acp_system_metadata\":{\"ingestTime\":1.5}}",
               "invalid _acp_system_metadata.ingestTime");

    /* duplicate namespaces: the last value, at the first one's place */
    assert_facts("{\"identityMap\":{\"F\":[{\"id\":\"z\"}],\"E\":[{\"id\":\"b\",\"primary\":true}],"
                 "\"E\":[{\"id\":\"c\"}]}}", "E:c", NULL, &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"c\"}],\"F\":[{\"id\":\"z\",\"primary\":true}],"
                 "\"E\":[{\"id\":\"a\",\"primary\":true}]}}", "E:a", NULL, &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"\\u0045\":[{\"id\":\"b\"}],\"D\":[{\"id\":\"z\"}],"
                 "\"E\":[{\"id\":\"a\"}]}}", "D:z", NULL, &rec);
    se_record_clear(&rec);
    assert_facts("{\"identityMap\":{\"E\":[{\"id\":\"b\"}]},"
                 "\"xdm:identityMap\":{\"F\":[{\"id\":\"0\"}],\"E\":[{\"id\":\"a\"}]}}", "E:a", NULL, &rec);
    se_record_clear(&rec);
    /* more namespaces than the quick duplicate check takes, with and
     * without a duplicate */
    for (int dup = 0; dup <= 1; dup++) {
        size_t o = (size_t)snprintf(buf, sizeof buf, "{\"identityMap\":{");
        for (int i = 0; i < 17; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\"N%02d\":[{\"id\":\"v\"}],", i);
        snprintf(buf + o, sizeof buf - o, "\"%s\":[{\"id\":\"a\"}]}}", dup ? "N00" : "N99");
        assert_facts(buf, dup ? "N00:a" : "N00:v", NULL, &rec);
        se_record_clear(&rec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv),
        cmocka_unit_test(test_hash64),
        cmocka_unit_test(test_key_primary),
        cmocka_unit_test(test_key_smallest),
        cmocka_unit_test(test_key_escape),
        cmocka_unit_test(test_key_xdm),
        cmocka_unit_test(test_key_ignored_items),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_reference_examples),
        cmocka_unit_test(test_facts_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
