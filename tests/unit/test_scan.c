/* Unit tests for src/scan.c: the fast pre-parse must never claim "sure" for a
 * line that se_record_parse would judge differently.  Hand-written cases, then
 * a deterministic mutation fuzz against se_record_parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "scan.h"

/* When the scan is sure, the full parse must succeed with the same key and kind. */
static void check_line(se_rparser *rp, const char *line, size_t len)
{
    se_scan sc;
    se_record rec;
    char err[256];
    if (!se_scan_record(line, len, &sc))
        return;
    int r = se_record_parse(rp, line, len, &rec, err, sizeof err);
    if (r != 0)
        fail_msg("scan sure but parse says \"%s\": %.*s", err, (int)len, line);
    char key[1024];
    snprintf(key, sizeof key, "%.*s:%.*s", (int)sc.ns_len, line + sc.ns_off, (int)sc.id_len,
             line + sc.id_off);
    if (strcmp(key, rec.key) != 0)
        fail_msg("key %s, parse %s: %.*s", key, rec.key, (int)len, line);
    assert_int_equal(sc.event, rec.kind == SE_REC_EVENT);
    se_record_clear(&rec);
}

static int sure(const char *line)
{
    se_scan sc;
    return se_scan_record(line, strlen(line), &sc);
}

static void test_cases(void **state)
{
    (void)state;
    se_rparser *rp = se_rparser_new();
    static const char *const ok[] = {
        "{\"identityMap\":{\"Email\":[{\"id\":\"a@b\",\"primary\":true}]}}",
        "{\"identityMap\":{\"B\":[{\"id\":\"2\"}],\"A\":[{\"id\":\"9\"},{\"id\":\"1\"}]},\"x\":[1,-2.5e-3,true,false,null,\"\\u00e9\\n\"]}",
        " {\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"timestamp\":\"2020-01-01T00:00:00Z\",\"_acp_system_metadata\":{\"ingestTime\":123}} ",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\",\"primary\":false},{\"id\":\"w\",\"primary\":true},{\"id\":\"a\",\"primary\":true}]},\"p\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"}",
    };
    static const char *const unsure[] = {
        "{\"identityMap\":{}}",                                   /* no identity */
        "{\"identityMap\":{\"E\":[{\"id\":\"\"}]}}",
        "[1]",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]}} x",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":01}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\xc3\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\xed\xa0\x80\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\\ud83d\\ude00\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\\u0000\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\t\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"timestamp\":\"yesterday\"}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"timestamp\":1.5}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"_acp_system_metadata\":{\"ingestTime\":\"x\"}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":12345678901234567890}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":1e400}",
        "{\"xdm:identityMap\":{\"E\":[{\"id\":\"x\"}]}}",
        "{\"identityMap\":{\"E\":[{\"xdm:id\":\"x\"}]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"identityMap\":{\"E\":[{\"id\":\"y\"}]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}],\"E\":[{\"id\":\"y\"}]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\",\"id\":\"y\"}]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\\ty\"}]}}",
        "{\"ident\\u0069tyMap\":{\"E\":[{\"id\":\"x\"}]}}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":tru}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":[1,]}",
        "{\"identityMap\":{\"E\":[{\"id\":\"x\"}]},\"a\":\"\\x\"}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!sure(ok[i]))
            fail_msg("not sure: %s", ok[i]);
        check_line(rp, ok[i], strlen(ok[i]));
    }
    for (size_t i = 0; i < sizeof unsure / sizeof unsure[0]; i++)
        if (sure(unsure[i]))
            fail_msg("sure: %s", unsure[i]);
    se_scan sc;
    assert_true(se_scan_record(ok[3], strlen(ok[3]), &sc));
    assert_memory_equal(ok[3] + sc.id_off, "w", 1);
    se_rparser_free(rp);
}

static uint64_t rs = 42;
static unsigned rn(unsigned n)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rs >> 33) % n);
}

/* Random single-byte edits, insertions and deletions of realistic records. */
static void test_fuzz(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"123\",\"authenticatedState\":\"ambiguous\",\"primary\":false}],"
        "\"Email\":[{\"id\":\"a@b.example\",\"primary\":true}]},\"person\":{\"name\":{\"firstName\":\"Zo\xc3\xab\"},"
        "\"age\":-12,\"score\":1.5e3},\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
        "\"lastQualificationTime\":\"2020-01-01T00:00:00Z\"}}},\"_acp_system_metadata\":{\"ingestTime\":1600000000000,"
        "\"datasetId\":\"d1\"},\"tags\":[\"x\",null,true,[],{}]}",
        "{\"_id\":\"e1\",\"timestamp\":\"2020-01-02T03:04:05.678+01:00\",\"identityMap\":{\"ECID\":[{\"id\":\"9\"}]},"
        "\"web\":{\"url\":\"https://x.example/\\u00e9?a=1\\/2\"},\"_acp_system_metadata\":{\"ingestTime\":\"2020-01-02T03:04:05Z\"}}",
    };
    static const char alphabet[] = "{}[]\":,\\ 0123456789.eE+-tfnulrsaxyz\t\n\x01\x7f\xc3\xab\xed\xf4\x90";
    se_rparser *rp = se_rparser_new();
    char buf[2048];
    for (int iter = 0; iter < 200000; iter++) {
        const char *s = seeds[rn(2)];
        size_t len = strlen(s);
        memcpy(buf, s, len);
        int edits = 1 + (int)rn(3);
        for (int e = 0; e < edits; e++) {
            size_t at = rn((unsigned)len);
            char c = alphabet[rn(sizeof alphabet - 1)];
            switch (rn(3)) {
            case 0: buf[at] = c; break;
            case 1:
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default:
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            }
        }
        check_line(rp, buf, len);
    }
    se_rparser_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
