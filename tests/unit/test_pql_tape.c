/* Differential tests of PQL evaluation over raw record tapes (issue 12 with
 * issue 10): se_segdefs_eval_tape / se_pql_eval_tape on the raw texts must
 * give the answer of the tree path (se_record_parse's normalized json-c
 * trees, se_pql_eval) whenever the tape path answers; and
 * se_segdefs_edit_changes must say whether se_segdefs_edit changes the
 * profile.  Records: handwritten and generated (seeded) from fragments with
 * xdm: spellings, duplicate keys, escapes, big and odd numbers (NaN, Infinity,
 * -01 are bad records now: not JSON numbers).
 * Expressions: the published examples (EXAMPLES.md) and ones aimed at the
 * fragments.  now is fixed (Friday 2024-03-15 12:00 UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pql.h"
#include "record.h"
#include "segdefs.h"
#include "tape.h"
#include "timeutil.h"

#include "pql_examples.inc"

static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(se_time_parse("2024-03-15T12:00:00.000Z", &t), 0);
    return t;
}

/* Expressions aimed at the fragments below (paths through xdm: keys,
 * duplicates, escapes, numbers, object equality, map functions). */
static const char *const EXPRS[] = {
    "homeAddress.countryCode = \"US\"",
    "homeAddress.countryCode.equals(\"us\", false)",
    "homeAddress.city.contains(\"ü\")",
    "homeAddress.city = \"Zürich\"",
    "person.birthYear < 1990",
    "person.birthYear > 9223372036854775806",
    "person.birthYear = 1000",
    "person.birthYear >= 0 and person.birthYear <= 0",
    "person.birthYear != person.birthYear",
    "person.name = person.alias",
    "person.name != person.alias",
    "person.tags = [\"a\", \"b\"]",
    "person.tags.includes(\"b\")",
    "person.keys().count() = 2",
    "person.keys().includes(\"name\")",
    "person.values().count() > 1",
    "person.get(\"birthYear\") = 1985",
    "loyalty.points.sum() > 3",
    "loyalty.points.count() = 3",
    "loyalty.points.max() = 2.5",
    "loyalty.points.distinct().count() = 3",
    "inSegment(\"s1\")",
    "inSegment(\"s2\")",
    "segmentMembership.ups.s1.status = \"realized\"",
    "segmentMembership.ups.s1.keys().count() = 1",
    "identityMap.ECID.id = \"a\"",
    "identityMap.ECID.primary = true",
    "identityMap.keys().count() = 2",
    "identityMap.ECID[id = \"a\"]",
    "_acp_system_metadata.ingestTime > 0",
    "_acp_system_metadata",
    "$1.keys().count() > 3",
    "$1.keys().includes(\"_acp_system_metadata\")",
    "xEvent[eventType = \"commerce.purchases\"].sum(commerce.order.priceTotal) > 100",
    "xEvent[eventType = \"commerce.purchases\"].count() = 2",
    "xEvent[timestamp occurs < 8 days before now].count() > 1",
    "xEvent.timestamp.count() = 2",
    "xEvent[_acp_system_metadata.ingestTime > 0]",
    "xEvent[identityMap.ECID.id = \"a\"].count() > 0",
    "xEvent[$1.keys().includes(\"_acp_system_metadata\")]",
    "xEvent[productListItems[SKU = \"PS\"]]",
    "select X from xEvent where X.commerce.order.priceTotal > 55",
    "select X from xEvent where X.commerce.order = X.commerce.order",
    "select A from xEvent where A.commerce, B from xEvent where B.commerce = A.commerce and "
    "B.timestamp != A.timestamp",
    "chain(xEvent, timestamp, [A: WHAT(eventType = \"addToCart\"), B: WHAT(eventType = "
    "\"commerce.purchases\")])",
    "xEvent.max(commerce.order.priceTotal) = 9223372036854775807",
    "homeAddress.countryCode = \"US\" and person.birthYear < 1990 and "
    "xEvent[eventType = \"commerce.purchases\"].sum(commerce.order.priceTotal) > 100",
};

/* ---------------------------------------------------------------- records */

/* Top-level fragments of a profile, one picked per group (or none). */
static const char *const F_IDENT[] = {
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\",\"primary\":true}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\"}],\"Email\":[{\"id\":\"b\"}]}",
    "\"xdm:identityMap\":{\"ECID\":[{\"xdm:id\":\"a\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"b\"}]},\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\",\"xdm:primary\":true}]}",
    "\"identity\\u004dap\":{\"ECID\":[{\"id\":\"\\u0061\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\",\"xdm:other\":1}],\"ECID\":[{\"id\":\"c\"}]}",
};
static const char *const F_HOME[] = {
    "\"homeAddress\":{\"countryCode\":\"US\"}",
    "\"homeAddress\":{\"countryCode\":\"\\u0055S\",\"city\":\"Z\\u00fcrich\"}",
    "\"homeAddress\":{\"countryCode\":\"CA\",\"countryCode\":\"US\"}",
    "\"homeAddress\":{\"countryCode\":\"US\",\"countryCode\":\"CA\"}",
    "\"homeAddress\":{\"city\":\"Zürich\",\"countryCode\":\"US\\u0000\"}",
    "\"home\\u0041ddress\":{\"countryCode\":\"US\"}",
    "\"homeAddress\":null",
    "\"homeAddress\":[{\"countryCode\":\"US\"},{\"countryCode\":\"CA\"}]",
};
static const char *const F_PERSON[] = {
    "\"person\":{\"birthYear\":1985}",
    "\"person\":{\"birthYear\":1985.0,\"tags\":[\"a\",\"b\"]}",
    "\"person\":{\"birthYear\":9223372036854775807}",
    "\"person\":{\"birthYear\":18446744073709551615}",
    "\"person\":{\"birthYear\":-0}",
    "\"person\":{\"birthYear\":1e3,\"birthYear\":1985}",
    "\"person\":{\"birthYear\":1.985e3}",
    "\"person\":{\"birthYear\":-1.5E+308}",
    "\"person\":{\"birthYear\":\"1985\"}",
    "\"person\":{\"name\":{\"a\":1,\"b\":[1,2]},\"alias\":{\"b\":[1,2],\"a\":1}}",
    "\"person\":{\"name\":{\"a\":1,\"a\":2},\"alias\":{\"a\":2}}",
    "\"person\":{\"name\":{\"a\":1.0},\"alias\":{\"a\":1}}",
    "\"person\":{\"name\":{\"a\":2.5},\"alias\":{\"a\":25e-1}}",
    "\"person\":{\"name\":{\"\\u0061\":\"x\\ty\"},\"alias\":{\"a\":\"x\\u0009y\"},\"tags\":[\"\\u0061\",\"b\"]}",
    "\"person\":{\"name\":{\"a\":1},\"alias\":{\"a\":1,\"b\":null}}",
};
static const char *const F_LOYALTY[] = {
    "\"loyalty\":{\"points\":[1,2.5,\"3\"]}",
    "\"loyalty\":{\"points\":[1,2.5,2.5,0.5]}",
    "\"loyalty\":{\"points\":[9223372036854775807,1,-1]}",
    "\"loyalty\":{\"points\":[]}",
};
static const char *const F_SEG[] = {
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\","
    "\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"xdm:status\":\"realized\"}}}",
    "\"xdm:segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"existing\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\\u0000x\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"exited\"},\"s2\":{\"status\":\"existing\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"exited\"},\"s1\":{\"status\":\"realized\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":null}},"
    "\"other\":{\"s3\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}",
    "\"segmentMembership\":{\"ups\":{\"s1\":{\"st\\u0061tus\":\"realized\"}}}",
    "\"segmentMembership\":{\"ups\":[]}",
};
static const char *const F_ACP[] = {
    "\"_acp_system_metadata\":{\"ingestTime\":1700000000000}",
    "\"_acp_system_metadata\":{\"ingestTime\":1},\"x\":1",
    "\"_acp_system_\\u006detadata\":{\"ingestTime\":1700000000000}",
};
static const char *const F_MISC[] = {
    "\"xdm:foo\":1",
    "\"loyalty\":{\"points\":[2]},\"loyalty\":{\"points\":[3,4]}",
    "\"extra\":{\"timestamp\":\"x\",\"xdm:timestamp\":\"y\"}",
};

static const char *const F_TS[] = {
    "\"timestamp\":\"2024-03-14T10:00:00Z\"",
    "\"timestamp\":\"2024-03-15T11:00:00Z\"",
    "\"timestamp\":\"2024-03-10T10:00:00+02:00\"",
    "\"timestamp\":\"2024-03-14T10:00:00Z\"",
    "\"xdm:timestamp\":\"2024-03-13T10:00:00Z\"",
    "\"timestamp\":\"2024-03-1\\u0034T10:00:00Z\"",
    "\"timestamp\":\"2024-02-01T10:00:00.123456789Z\"",
};
static const char *const F_TYPE[] = {
    "\"eventType\":\"commerce.purchases\"",
    "\"eventType\":\"commerce.purchase\\u0073\"",
    "\"eventType\":\"addToCart\"",
    "\"eventType\":\"addToCart\",\"eventType\":\"commerce.purchases\"",
};
static const char *const F_ORDER[] = {
    "\"commerce\":{\"order\":{\"priceTotal\":60}}",
    "\"commerce\":{\"order\":{\"priceTotal\":50.5}}",
    "\"commerce\":{\"order\":{\"priceTotal\":1e2}}",
    "\"commerce\":{\"order\":{\"priceTotal\":\"70\"}}",
    "\"commerce\":{\"order\":{\"priceTotal\":9223372036854775807}}",
    "\"commerce\":{\"order\":{\"priceTotal\":60},\"order\":{\"priceTotal\":61}}",
    "\"productListItems\":[{\"SKU\":\"PS\"},{\"SKU\":\"X\"}]",
    "\"productListItems\":[{\"S\\u004bU\":\"PS\"}]",
};
static const char *const F_EV_IDENT[] = {
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"b\"}]}",
    "\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]}",
    "\"identityMap\":{\"ECID\":[{\"xdm:id\":\"a\"}]}",
};

#define PICK(arr) ((arr)[rnd() % (sizeof(arr) / sizeof((arr)[0]))])

static uint64_t seed;
static uint32_t rnd(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(seed >> 33);
}

/* A record: the picked fragments in a random order, some left out. */
static void gen(char *buf, size_t n, const char *const *frags, size_t nf)
{
    const char *order[16];
    size_t k = 0, len;
    for (size_t i = 0; i < nf; i++)
        if (i == 0 || rnd() % 4 != 0)
            order[k++] = frags[i];
    for (size_t i = k; i > 1; i--) {
        size_t j = rnd() % i;
        const char *t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    len = (size_t)snprintf(buf, n, "{");
    for (size_t i = 0; i < k; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "", order[i]);
    snprintf(buf + len, n - len, "}");
}

static void gen_profile(char *buf, size_t n)
{
    const char *f[] = {PICK(F_IDENT), PICK(F_HOME), PICK(F_PERSON), PICK(F_LOYALTY),
                       PICK(F_SEG), PICK(F_ACP), PICK(F_MISC)};
    gen(buf, n, f, rnd() % 3 ? 6 : 7);
}

static void gen_event(char *buf, size_t n)
{
    const char *f[] = {PICK(F_EV_IDENT), PICK(F_TS), PICK(F_TYPE), PICK(F_ORDER), PICK(F_ORDER),
                       PICK(F_ACP)};
    /* the identity and the timestamp always: records need them */
    const char *g[] = {f[0], f[1]};
    char tail[900];
    gen(tail, sizeof tail, f + 2, 4);
    snprintf(buf, n, "{%s,%s%s%s", g[0], g[1], strlen(tail) > 2 ? "," : "", tail + 1);
}

/* ---------------------------------------------------------------- the check */

typedef struct {
    se_pql *q[200];
    size_t nq;
    size_t compared, unsure, records, bad;
} suite;

static void compile_all(suite *s)
{
    char err[256];
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sizeof EXPRS / sizeof EXPRS[0]; i++) {
        if (se_pql_compile(EXPRS[i], &s->q[s->nq], err, sizeof err))
            fail_msg("compile failed: %s: %s", EXPRS[i], err);
        s->nq++;
    }
    for (size_t i = 1; i < sizeof pql_examples / sizeof pql_examples[0]; i++)
        if (se_pql_compile(pql_examples[i], &s->q[s->nq], err, sizeof err) == 0)
            s->nq++;
}

static void free_all(suite *s)
{
    for (size_t i = 0; i < s->nq; i++)
        se_pql_free(s->q[i]);
}

/* Evaluates every expression both ways on profile text p and event texts. */
static void differ(suite *s, const char *p, const char *const *evs, size_t nev)
{
    char err[256];
    se_rparser *rp = se_rparser_new();
    se_record pr, er[8];
    se_tape pt, et[8];
    const se_tape *ep[8];
    json_object *eo[8];
    bool plain;

    assert_non_null(rp);
    assert_true(nev <= 8);
    memset(&pr, 0, sizeof pr);
    memset(er, 0, sizeof er);
    if (se_record_parse(rp, p, strlen(p), &pr, err, sizeof err) || pr.kind != SE_REC_PROFILE) {
        s->bad++;
        se_record_clear(&pr);
        se_rparser_free(rp);
        return;
    }
    se_tape_init(&pt);
    assert_int_equal(se_tape_parse(&pt, p, strlen(p)), SE_TAPE_OK);
    plain = se_pql_tape_plain(&pt);
    for (size_t i = 0; i < nev; i++) {
        if (se_record_parse(rp, evs[i], strlen(evs[i]), &er[i], err, sizeof err))
            fail_msg("event does not parse: %s: %s", evs[i], err);
        eo[i] = er[i].obj;
        se_tape_init(&et[i]);
        assert_int_equal(se_tape_parse(&et[i], evs[i], strlen(evs[i])), SE_TAPE_OK);
        ep[i] = &et[i];
        plain = plain && se_pql_tape_plain(&et[i]);
    }
    s->records++;
    for (size_t k = 0; k < s->nq; k++) {
        bool tree = false, tape = false;
        assert_int_equal(se_pql_eval(s->q[k], pr.obj, eo, nev, now_ms(), &tree), 0);
        if (!plain) {
            s->unsure++;
            continue;
        }
        assert_int_equal(se_pql_eval_tape(s->q[k], &pt, ep, nev, now_ms(), true, &tape), 0);
        if (tree != tape)
            fail_msg("%s\non %s\nwith %zu events (first %s):\ntree %d, tape %d", se_pql_text(s->q[k]),
                     p, nev, nev ? evs[0] : "-", tree, tape);
        s->compared++;
    }
    for (size_t i = 0; i < nev; i++) {
        se_tape_free(&et[i]);
        se_record_clear(&er[i]);
    }
    se_tape_free(&pt);
    se_record_clear(&pr);
    se_rparser_free(rp);
}

static void test_handwritten(void **state)
{
    suite s;
    (void)state;
    compile_all(&s);
    const char *ev3[] = {
        "{\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]},\"timestamp\":\"2024-03-14T10:00:00Z\","
        "\"eventType\":\"commerce.purchases\",\"commerce\":{\"order\":{\"priceTotal\":60}},"
        "\"_acp_system_metadata\":{\"ingestTime\":1}}",
        "{\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]},\"timestamp\":\"2024-03-14T11:00:00Z\","
        "\"eventType\":\"commerce.purchase\\u0073\",\"commerce\":{\"order\":{\"priceTotal\":50.5}},"
        "\"productListItems\":[{\"SKU\":\"PS\"}]}",
        "{\"identityMap\":{\"ECID\":[{\"id\":\"a\"}]},\"timestamp\":\"2024-03-01T00:00:00Z\","
        "\"eventType\":\"addToCart\"}",
    };
    /* every fragment of each group once, with the first of the others */
    const char *const *groups[] = {F_IDENT, F_HOME, F_PERSON, F_LOYALTY, F_SEG, F_ACP, F_MISC};
    const size_t sizes[] = {sizeof F_IDENT / sizeof *F_IDENT, sizeof F_HOME / sizeof *F_HOME,
                            sizeof F_PERSON / sizeof *F_PERSON, sizeof F_LOYALTY / sizeof *F_LOYALTY,
                            sizeof F_SEG / sizeof *F_SEG, sizeof F_ACP / sizeof *F_ACP,
                            sizeof F_MISC / sizeof *F_MISC};
    for (size_t g = 0; g < 7; g++) {
        for (size_t i = 0; i < sizes[g]; i++) {
            char p[2048];
            size_t len = (size_t)snprintf(p, sizeof p, "{");
            for (size_t h = 0; h < 6; h++)
                len += (size_t)snprintf(p + len, sizeof p - len, "%s%s", h ? "," : "",
                                        groups[h][h == g ? i : 0]);
            if (g == 6)
                len += (size_t)snprintf(p + len, sizeof p - len, ",%s", F_MISC[i]);
            snprintf(p + len, sizeof p - len, "}");
            differ(&s, p, ev3, 3);
            differ(&s, p, ev3 + 1, 1);
            differ(&s, p, NULL, 0);
        }
    }
    /* exact figures: the fragments that read plainly, and all compared */
    assert_int_equal(s.bad, 0);
    assert_true(s.compared > 100 * s.nq / 2);
    assert_true(s.unsure > 0);
    free_all(&s);
}

static void test_generated(void **state)
{
    suite s;
    (void)state;
    compile_all(&s);
    seed = 12;
    for (int r = 0; r < 1000; r++) {
        char p[2048], eb[6][1024];
        const char *evs[6];
        size_t nev = rnd() % 5;
        gen_profile(p, sizeof p);
        for (size_t i = 0; i < nev; i++) {
            gen_event(eb[i], sizeof eb[i]);
            evs[i] = eb[i];
        }
        differ(&s, p, evs, nev);
    }
    assert_true(s.records > 900);
    assert_true(s.compared > 250 * s.nq);
    assert_true(s.unsure > 0);
    free_all(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handwritten),
        cmocka_unit_test(test_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
