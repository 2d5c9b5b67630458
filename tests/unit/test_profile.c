/* Unit tests: profile assembly and merge policies (SPEC §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "profile.h"

/* A record described by hand, so the tests do not depend on the parser. */
typedef struct rspec {
    const char *json;
    uint64_t seq;
    bool ev;
    bool hi; int64_t ingest;
    bool hu; int64_t upd;
    bool hts; int64_t ts;
    const char *ds;
} rspec;

static void add_rec(se_profile *p, rspec s)
{
    se_record r;
    memset(&r, 0, sizeof r);
    r.kind = s.ev ? SE_REC_EVENT : SE_REC_PROFILE;
    r.obj = json_tokener_parse(s.json);
    assert_non_null(r.obj);
    r.key = strdup("ECID:1");
    assert_non_null(r.key);
    r.has_ingest = s.hi;
    r.ingest_ms = s.ingest;
    r.has_updated = s.hu;
    r.updated_ms = s.upd;
    r.has_ts = s.hts;
    r.ts_ms = s.ts;
    r.seq = s.seq;
    if (s.ds) {
        r.dataset_id = strdup(s.ds);
        assert_non_null(r.dataset_id);
    }
    assert_int_equal(se_profile_add(p, &r), 0);
    /* The record moved: the caller keeps nothing. */
    assert_null(r.obj);
    assert_null(r.key);
    assert_null(r.dataset_id);
}

#define ADD(p, ...) add_rec((p), (rspec){ __VA_ARGS__ })

static const char *js(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static const se_mpolicy tso = {
    .id = "timestampOrdered-none-mp", .version = 1,
    .attr = SE_ATTR_TIMESTAMP_ORDERED, .graph = SE_GRAPH_NONE,
};

static char *dsp_order[] = { "dsA", "dsB" };
static const se_mpolicy dsp = {
    .id = "dsp", .version = 1, .attr = SE_ATTR_DATASET_PRECEDENCE,
    .order = dsp_order, .norder = 2, .graph = SE_GRAPH_NONE,
};

static int setup(void **state)
{
    se_profile *p = malloc(sizeof *p);
    if (!p)
        return -1;
    se_profile_init(p);
    if (se_profile_begin(p, "ECID:1") != 0)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    se_profile *p = *state;
    se_profile_clear(p);
    free(p);
    return 0;
}

static void test_leaf_array_conflict_deep_order(void **state)
{
    se_profile *p = *state;
    /* Input order is the reverse of time order: time decides. */
    ADD(p, .seq = 1, .hu = true, .upd = 200,
        .json = "{\"z\":0,\"arr\":[9],\"t\":\"str\",\"d\":{\"p\":{\"q\":5,\"n\":3}},\"a\":2,"
                "\"o\":{\"k\":1}}");
    ADD(p, .seq = 2, .hu = true, .upd = 100,
        .json = "{\"a\":1,\"arr\":[1,2,3],\"t\":{\"x\":1},\"d\":{\"p\":{\"q\":1,\"r\":2}},"
                "\"s\":\"old\",\"o\":[1]}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_true(p->has_fragment);
    assert_string_equal(js(p->merged),
        "{\"a\":2,\"arr\":[9],\"t\":\"str\",\"d\":{\"p\":{\"q\":5,\"r\":2,\"n\":3}},"
        "\"s\":\"old\",\"o\":{\"k\":1},\"z\":0}");
}

static void test_null_never_overrides(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .hu = true, .upd = 100,
        .json = "{\"n\":1,\"m\":null,\"o\":{\"k\":null,\"j\":1},\"v\":null,\"w\":{\"x\":1}}");
    ADD(p, .seq = 2, .hu = true, .upd = 200,
        .json = "{\"n\":null,\"m\":null,\"o\":{\"k\":null,\"j\":null},\"v\":5,\"w\":null,"
                "\"k2\":null}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"n\":1,\"m\":null,\"o\":{\"k\":null,\"j\":1},\"v\":5,\"w\":{\"x\":1},\"k2\":null}");
}

static void test_tie_later_seq_wins(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 5, .hu = true, .upd = 100, .json = "{\"a\":\"five\",\"b\":1}");
    ADD(p, .seq = 3, .hu = true, .upd = 100, .json = "{\"a\":\"three\",\"c\":1}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    /* seq 3 is older, so its keys come first. */
    assert_string_equal(js(p->merged), "{\"a\":\"five\",\"c\":1,\"b\":1}");
}

static void test_no_time_tie_input_order(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .json = "{\"a\":1}");
    ADD(p, .seq = 2, .json = "{\"a\":2}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged), "{\"a\":2}");
    assert_false(p->has_updated);
}

static void test_updated_date_before_ingest(void **state)
{
    se_profile *p = *state;
    /* A: lastUpdatedDate 100 (its ingest 500 is not its time).  B: ingest 200.
     * C: no time at all = oldest. */
    ADD(p, .seq = 1, .hu = true, .upd = 100, .hi = true, .ingest = 500, .json = "{\"a\":\"A\"}");
    ADD(p, .seq = 2, .hi = true, .ingest = 200, .json = "{\"a\":\"B\"}");
    ADD(p, .seq = 3, .json = "{\"a\":\"C\",\"c\":1}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged), "{\"a\":\"B\",\"c\":1}");
    assert_true(p->has_updated);
    assert_int_equal(p->updated_ms, 500);
}

static void test_identity_union(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .hu = true, .upd = 100,
        .json = "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true},{\"id\":\"2\"}],"
                "\"Email\":[{\"id\":\"a@x\"}]}}");
    ADD(p, .seq = 2, .hu = true, .upd = 200,
        .json = "{\"identityMap\":{\"Phone\":[{\"id\":\"5\"}],"
                "\"ECID\":[{\"id\":\"2\",\"authenticatedState\":\"authenticated\"},{\"id\":\"3\"},"
                "{\"id\":\"3\",\"primary\":false}],\"Email\":null}}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true},"
        "{\"id\":\"2\",\"authenticatedState\":\"authenticated\"},"
        "{\"id\":\"3\",\"primary\":false}],\"Email\":[{\"id\":\"a@x\"}],"
        "\"Phone\":[{\"id\":\"5\"}]}}");
}

static void test_identity_priority_older_in_time(void **state)
{
    se_profile *p = *state;
    /* Newer by time wins the item's other fields, whatever the input order. */
    ADD(p, .seq = 1, .hu = true, .upd = 300,
        .json = "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true}]}}");
    ADD(p, .seq = 2, .hu = true, .upd = 100,
        .json = "{\"identityMap\":{\"ECID\":[{\"id\":\"0\"},{\"id\":\"1\",\"primary\":false}]}}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"identityMap\":{\"ECID\":[{\"id\":\"0\"},{\"id\":\"1\",\"primary\":true}]}}");
}

static void test_membership_latest_wins(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .hu = true, .upd = 100,
        .json = "{\"segmentMembership\":{\"ups\":{"
                "\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-02T00:00:00Z\"},"
                "\"s2\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s3\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s4\":{\"status\":\"realized\"},"
                "\"s6\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s7\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}}");
    ADD(p, .seq = 2, .hu = true, .upd = 200,
        .json = "{\"segmentMembership\":{\"ups\":{"
                "\"s1\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s2\":{\"status\":\"exited\",\"lastQualificationTime\":1704153600000},"
                "\"s3\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-01-01T00:00:00.000+00:00\"},"
                "\"s4\":{\"status\":\"exited\"},"
                "\"s5\":{\"status\":\"existing\"},"
                "\"s6\":{\"status\":\"exited\"},"
                "\"s7\":{\"status\":\"exited\",\"lastQualificationTime\":\"garbage\"}},"
                "\"other\":{\"x\":{\"status\":\"realized\"}}}}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"segmentMembership\":{\"ups\":{"
        "\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-02T00:00:00Z\"},"
        "\"s2\":{\"status\":\"exited\",\"lastQualificationTime\":1704153600000},"
        "\"s3\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-01-01T00:00:00.000+00:00\"},"
        "\"s4\":{\"status\":\"exited\"},"
        "\"s6\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
        "\"s7\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
        "\"s5\":{\"status\":\"existing\"}},"
        "\"other\":{\"x\":{\"status\":\"realized\"}}}}");
}

static void test_dataset_precedence(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .ds = "dsB", .hu = true, .upd = 300, .hi = true, .ingest = 10,
        .json = "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":false}]},\"a\":\"B\",\"b\":\"B\","
                "\"segmentMembership\":{\"ups\":{"
                "\"s1\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s2\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-03-01T00:00:00Z\"}}}}");
    ADD(p, .seq = 2, .ds = "dsA", .hu = true, .upd = 100, .hi = true, .ingest = 20,
        .json = "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true}]},\"a\":\"A\","
                "\"segmentMembership\":{\"ups\":{"
                "\"s1\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
                "\"s2\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-02-01T00:00:00Z\"}}}}");
    ADD(p, .seq = 3, .ds = "dsC", .hu = true, .upd = 400, .hi = true, .ingest = 9999,
        .json = "{\"identityMap\":{\"X\":[{\"id\":\"9\"}]},\"a\":\"C\",\"c\":1,"
                "\"segmentMembership\":{\"ups\":{\"s9\":{\"status\":\"realized\"}}}}");
    ADD(p, .seq = 4, .hi = true, .ingest = 8888, .json = "{\"d\":1}");
    ADD(p, .seq = 5, .ds = "dsA", .hu = true, .upd = 50, .hi = true, .ingest = 5,
        .json = "{\"a\":\"A-old\",\"e\":1}");
    ADD(p, .seq = 6, .ev = true, .hi = true, .ingest = 15, .hts = true, .ts = 1,
        .json = "{\"timestamp\":\"2024-01-01T00:00:00Z\"}");
    assert_int_equal(se_profile_assemble(p, &dsp), 0);
    assert_true(p->has_fragment);
    /* dsB first (lowest), then dsA by time: seq 5 then seq 2. */
    assert_string_equal(js(p->merged),
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true}]},\"a\":\"A\",\"b\":\"B\","
        "\"segmentMembership\":{\"ups\":{"
        "\"s1\":{\"status\":\"exited\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
        "\"s2\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-03-01T00:00:00Z\"}}},"
        "\"e\":1}");
    assert_true(p->has_updated);
    assert_int_equal(p->updated_ms, 20);
}

static void test_dataset_precedence_all_excluded(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .ds = "dsZ", .hi = true, .ingest = 9999,
        .json = "{\"identityMap\":{\"Z\":[{\"id\":\"z\"}]},\"a\":1}");
    /* Later ts but earlier input: the union follows input order. */
    ADD(p, .seq = 2, .ev = true, .hts = true, .ts = 200, .hi = true, .ingest = 7,
        .json = "{\"timestamp\":\"x\",\"identityMap\":{\"ECID\":[{\"id\":\"1\"}]}}");
    ADD(p, .seq = 3, .ev = true, .hts = true, .ts = 100, .hi = true, .ingest = 3,
        .json = "{\"timestamp\":\"y\",\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true}],"
                "\"Email\":[{\"id\":\"e\"}]}}");
    ADD(p, .seq = 4, .ds = NULL, .json = "{\"b\":1}");
    assert_int_equal(se_profile_assemble(p, &dsp), 0);
    assert_false(p->has_fragment);
    assert_string_equal(js(p->merged),
        "{\"identityMap\":{\"ECID\":[{\"id\":\"1\",\"primary\":true}],\"Email\":[{\"id\":\"e\"}]}}");
    assert_true(p->has_updated);
    assert_int_equal(p->updated_ms, 7);
    assert_int_equal(p->events[0].seq, 3);
    assert_int_equal(p->events[1].seq, 2);
}

static void test_events_only_no_identity(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .ev = true, .json = "{\"timestamp\":\"x\"}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_false(p->has_fragment);
    assert_false(p->has_updated);
    assert_string_equal(js(p->merged), "{\"identityMap\":{}}");
}

static void test_no_records(void **state)
{
    se_profile *p = *state;
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_false(p->has_fragment);
    assert_false(p->has_updated);
    assert_string_equal(js(p->merged), "{\"identityMap\":{}}");
}

static void test_events_sorted(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .ev = true, .hts = true, .ts = 300, .json = "{\"n\":1}");
    ADD(p, .seq = 4, .ev = true, .hts = true, .ts = 300, .json = "{\"n\":4}");
    ADD(p, .seq = 2, .ev = true, .json = "{\"n\":2}");
    ADD(p, .seq = 5, .ev = true, .hts = true, .ts = 100, .json = "{\"n\":5}");
    ADD(p, .seq = 3, .ev = true, .hts = true, .ts = 100, .json = "{\"n\":3}");
    ADD(p, .seq = 6, .ev = true, .hts = true, .ts = -5, .json = "{\"n\":6}");
    ADD(p, .seq = 0, .hi = true, .ingest = 1, .json = "{\"f\":1}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    static const uint64_t want[] = { 2, 6, 3, 5, 1, 4 };
    assert_int_equal(p->nevents, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(p->events[i].seq, want[i]);
    /* Events keep their objects. */
    assert_string_equal(js(p->events[0].obj), "{\"n\":2}");
    assert_int_equal(p->nfrags, 1);
}

static void test_updated_time(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .hi = true, .ingest = 50, .hu = true, .upd = 1000, .json = "{\"a\":1}");
    ADD(p, .seq = 2, .json = "{\"a\":2}");
    ADD(p, .seq = 3, .ev = true, .hi = true, .ingest = 70, .json = "{\"timestamp\":\"t\"}");
    ADD(p, .seq = 4, .ev = true, .json = "{\"timestamp\":\"t\"}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_true(p->has_updated);
    /* Ingest times only; lastUpdatedDate is not an ingest time. */
    assert_int_equal(p->updated_ms, 70);
}

static void test_records_not_mutated(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .json = "{\"o\":{\"a\":1},\"identityMap\":{\"E\":[{\"id\":\"1\"}]},"
                             "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"}}}}");
    ADD(p, .seq = 2, .json = "{\"o\":{\"b\":2},\"identityMap\":{\"E\":[{\"id\":\"2\"}]},"
                             "\"segmentMembership\":{\"ups\":{\"t\":{\"status\":\"realized\"}}}}");
    ADD(p, .seq = 3, .json = "{\"o\":{\"c\":3},\"identityMap\":{\"E\":[{\"id\":\"3\"}]}}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"o\":{\"a\":1,\"b\":2,\"c\":3},"
        "\"identityMap\":{\"E\":[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"},"
        "\"t\":{\"status\":\"realized\"}}}}");
    assert_string_equal(js(p->frags[0].obj),
        "{\"o\":{\"a\":1},\"identityMap\":{\"E\":[{\"id\":\"1\"}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"}}}}");
    assert_string_equal(js(p->frags[1].obj),
        "{\"o\":{\"b\":2},\"identityMap\":{\"E\":[{\"id\":\"2\"}]},"
        "\"segmentMembership\":{\"ups\":{\"t\":{\"status\":\"realized\"}}}}");
    /* Assembling again gives the same result. */
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"o\":{\"a\":1,\"b\":2,\"c\":3},"
        "\"identityMap\":{\"E\":[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{\"status\":\"realized\"},"
        "\"t\":{\"status\":\"realized\"}}}}");
}

static void test_begin_resets(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .hi = true, .ingest = 5, .json = "{\"a\":1}");
    ADD(p, .seq = 2, .ev = true, .json = "{\"timestamp\":\"t\"}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_int_equal(se_profile_begin(p, "ECID:2"), 0);
    assert_string_equal(p->key, "ECID:2");
    assert_int_equal(p->nfrags, 0);
    assert_int_equal(p->nevents, 0);
    assert_null(p->merged);
    assert_false(p->has_fragment);
    assert_false(p->has_updated);
    ADD(p, .seq = 3, .json = "{\"b\":1}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged), "{\"b\":1}");
}

static void test_identity_map_null_then_object(void **state)
{
    se_profile *p = *state;
    ADD(p, .seq = 1, .json = "{\"identityMap\":null,\"segmentMembership\":null}");
    ADD(p, .seq = 2, .json = "{\"identityMap\":{\"E\":[{\"id\":\"1\"},{\"id\":\"1\",\"primary\":true}]},"
                             "\"segmentMembership\":{\"ups\":{\"s\":{}}}}");
    ADD(p, .seq = 3, .json = "{\"identityMap\":null,\"segmentMembership\":{\"ups\":null}}");
    assert_int_equal(se_profile_assemble(p, &tso), 0);
    assert_string_equal(js(p->merged),
        "{\"identityMap\":{\"E\":[{\"id\":\"1\",\"primary\":true}]},"
        "\"segmentMembership\":{\"ups\":{\"s\":{}}}}");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_leaf_array_conflict_deep_order),
        T(test_null_never_overrides),
        T(test_tie_later_seq_wins),
        T(test_no_time_tie_input_order),
        T(test_updated_date_before_ingest),
        T(test_identity_union),
        T(test_identity_priority_older_in_time),
        T(test_membership_latest_wins),
        T(test_dataset_precedence),
        T(test_dataset_precedence_all_excluded),
        T(test_events_only_no_identity),
        T(test_no_records),
        T(test_events_sorted),
        T(test_updated_time),
        T(test_records_not_mutated),
        T(test_begin_resets),
        T(test_identity_map_null_then_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
