/* Unit tests: profile filters (SPEC §5) and the event window (SPEC §6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "filter.h"

#define T0 INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define DAY INT64_C(86400000)

/* A profile built by hand: merged object plus flags. */
static se_profile mkprof(const char *merged, bool has_fragment, bool has_updated,
                         int64_t updated)
{
    se_profile p;
    memset(&p, 0, sizeof p);
    p.merged = json_tokener_parse(merged);
    assert_non_null(p.merged);
    p.has_fragment = has_fragment;
    p.has_updated = has_updated;
    p.updated_ms = updated;
    return p;
}

static void freeprof(se_profile *p)
{
    json_object_put(p->merged);
    p->merged = NULL;
}

static se_job mkjob(void)
{
    se_job j;
    memset(&j, 0, sizeof j);
    return j;
}

static se_segment seg(char *ns, char *id, unsigned mask)
{
    se_segment s = { .segment_id = id, .segment_ns = ns, .status_mask = mask };
    return s;
}

#define RX (SE_ST_REALIZED | SE_ST_EXISTING)

static const char *MEMB =
    "{\"identityMap\":{},\"segmentMembership\":{"
    "\"ups\":{"
    "\"real\":{\"status\":\"realized\",\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
    "\"exist\":{\"status\":\"existing\",\"lastQualificationTime\":\"2024-01-02T00:00:00.000+00:00\"},"
    "\"exit\":{\"status\":\"exited\",\"lastQualificationTime\":1704067200000},"
    "\"nostatus\":{\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"},"
    "\"nolqt\":{\"status\":\"realized\"},"
    "\"badlqt\":{\"status\":\"realized\",\"lastQualificationTime\":\"yesterday\"},"
    "\"odd\":{\"status\":\"Realized\"},"
    "\"notobj\":\"realized\","
    "\"S1\":{\"status\":\"realized\"}},"
    "\"UPS\":{\"s2\":{\"status\":\"realized\"}}}}";

static void test_empty_profiles(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_profile p = mkprof("{\"identityMap\":{}}", false, true, 5);
    assert_false(se_filter_profile(&j, &p, NULL));
    j.empty_profiles = true;
    assert_true(se_filter_profile(&j, &p, NULL));
    p.has_fragment = true;
    j.empty_profiles = false;
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);
}

static void test_from_ingest(void **state)
{
    (void)state;
    se_job j = mkjob();
    j.has_from_ingest = true;
    j.from_ingest_ms = 1000;
    se_profile p = mkprof("{}", true, true, 1000);
    assert_false(se_filter_profile(&j, &p, NULL)); /* equal: not strictly greater */
    p.updated_ms = 1001;
    assert_true(se_filter_profile(&j, &p, NULL));
    p.updated_ms = 999;
    assert_false(se_filter_profile(&j, &p, NULL));
    p.has_updated = false;
    p.updated_ms = 5000;
    assert_false(se_filter_profile(&j, &p, NULL)); /* no ingest time fails */
    freeprof(&p);
}

static void test_order_empty_before_segments(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_segment s[] = { seg("ups", "real", RX) };
    j.segs = s;
    j.nsegs = 1;
    bool q[1] = { false };
    se_profile p = mkprof(MEMB, false, true, 5);
    /* Qualifies for the segment, but has no fragment. */
    assert_false(se_filter_profile(&j, &p, q));
    assert_true(q[0]);
    freeprof(&p);
}

static void test_segments_status(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_segment s[] = {
        seg("ups", "real", RX),            /* 0 realized */
        seg("ups", "exist", RX),           /* 1 realized matches existing */
        seg("ups", "exit", RX),            /* 2 exited vs realized: no */
        seg("ups", "exit", SE_ST_EXITED),  /* 3 exited: yes */
        seg("ups", "real", SE_ST_EXITED),  /* 4 realized vs exited: no */
        seg("ups", "nostatus", RX),        /* 5 missing status = realized */
        seg("ups", "odd", RX | SE_ST_EXITED), /* 6 unknown status: no */
        seg("ups", "notobj", RX),          /* 7 not an object: no */
        seg("ups", "s1", RX),              /* 8 case-sensitive id: no */
        seg("ups", "S1", RX),              /* 9 yes */
        seg("ups", "s2", RX),              /* 10 case-sensitive ns: no */
        seg("UPS", "s2", RX),              /* 11 yes */
        seg("ups", "missing", RX),         /* 12 no */
        seg("other", "real", RX),          /* 13 no */
        seg("ups", "exist", SE_ST_EXISTING), /* 14 yes */
        seg("ups", "nostatus", SE_ST_EXISTING), /* 15 missing is realized, not existing */
    };
    static const bool want[] = { true, true, false, true, false, true, false, false,
                                 false, true, false, true, false, false, true, false };
    bool q[16];
    memset(q, 0, sizeof q);
    j.segs = s;
    j.nsegs = 16;
    se_profile p = mkprof(MEMB, true, true, 5);
    assert_true(se_filter_profile(&j, &p, q));
    for (size_t i = 0; i < 16; i++) {
        if (q[i] != want[i])
            fail_msg("entry %zu: got %d", i, (int)q[i]);
    }
    freeprof(&p);
}

static void test_segments_none_qualify(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_segment s[] = { seg("ups", "exit", RX), seg("ups", "missing", SE_ST_EXITED) };
    bool q[2] = { true, true };
    j.segs = s;
    j.nsegs = 2;
    se_profile p = mkprof(MEMB, true, true, 5);
    assert_false(se_filter_profile(&j, &p, q));
    assert_false(q[0]);
    assert_false(q[1]);
    freeprof(&p);

    /* No segmentMembership at all. */
    p = mkprof("{\"a\":1}", true, true, 5);
    assert_false(se_filter_profile(&j, &p, q));
    freeprof(&p);
}

static void test_window_bounds(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_segment s[] = {
        seg("ups", "real", RX),    /* lqt T0 */
        seg("ups", "exist", RX),   /* lqt T0 + DAY */
        seg("ups", "exit", SE_ST_EXITED), /* lqt T0 as integer */
        seg("ups", "nolqt", RX),
        seg("ups", "badlqt", RX),
    };
    bool q[5];
    j.segs = s;
    j.nsegs = 5;
    j.has_sqt = true;
    se_profile p = mkprof(MEMB, true, true, 5);

    /* start inclusive, end exclusive: [T0, T0 + DAY). */
    j.has_start = true;
    j.start_ms = T0;
    j.has_end = true;
    j.end_ms = T0 + DAY;
    assert_true(se_filter_profile(&j, &p, q));
    assert_true(q[0]);
    assert_false(q[1]);
    assert_true(q[2]);
    assert_false(q[3]); /* no lqt with a window fails */
    assert_false(q[4]);

    /* Just past the start; end one ms after the second entry. */
    j.start_ms = T0 + 1;
    j.end_ms = T0 + DAY + 1;
    assert_true(se_filter_profile(&j, &p, q));
    assert_false(q[0]);
    assert_true(q[1]);
    assert_false(q[2]);
    assert_false(q[3]);

    /* Only a start. */
    j.has_end = false;
    j.start_ms = T0 + DAY;
    assert_true(se_filter_profile(&j, &p, q));
    assert_false(q[0]);
    assert_true(q[1]);
    assert_false(q[3]);

    /* Only an end. */
    j.has_start = false;
    j.has_end = true;
    j.end_ms = T0;
    assert_false(se_filter_profile(&j, &p, q));
    assert_false(q[0]);
    assert_false(q[3]);
    j.end_ms = T0 + 1;
    assert_true(se_filter_profile(&j, &p, q));
    assert_true(q[0]);
    assert_false(q[1]);
    assert_true(q[2]);
    assert_false(q[3]);

    /* {}: no window, no lqt needed. */
    j.has_start = false;
    j.has_end = false;
    assert_true(se_filter_profile(&j, &p, q));
    assert_true(q[0]);
    assert_true(q[1]);
    assert_true(q[3]);
    assert_true(q[4]);
    freeprof(&p);
}

static void test_window_without_segments(void **state)
{
    (void)state;
    se_job j = mkjob();
    j.has_sqt = true;
    j.has_start = true;
    j.start_ms = T0 + 1;
    j.has_end = true;
    j.end_ms = T0 + 2;
    se_profile p = mkprof(MEMB, true, true, 5);
    /* Nothing in [T0+1, T0+2). */
    assert_false(se_filter_profile(&j, &p, NULL));
    j.start_ms = T0;
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);

    /* Only an exited membership in the window: fails. */
    p = mkprof("{\"segmentMembership\":{\"ups\":{\"x\":{\"status\":\"exited\","
               "\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}}", true, true, 5);
    assert_false(se_filter_profile(&j, &p, NULL));
    freeprof(&p);

    /* existing, another namespace, in window. */
    p = mkprof("{\"segmentMembership\":{\"ups\":{\"x\":{\"status\":\"exited\","
               "\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}},"
               "\"aam\":{\"y\":{\"status\":\"existing\",\"lastQualificationTime\":1704067200000}}}}",
               true, true, 5);
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);

    /* Missing status counts as realized. */
    p = mkprof("{\"segmentMembership\":{\"ups\":{\"x\":"
               "{\"lastQualificationTime\":\"2024-01-01T00:00:00Z\"}}}}", true, true, 5);
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);

    /* {} window: any realized membership, no lqt needed; none at all fails. */
    j.has_start = false;
    j.has_end = false;
    p = mkprof("{\"segmentMembership\":{\"ups\":{\"x\":{\"status\":\"realized\"}}}}",
               true, true, 5);
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);
    p = mkprof("{\"segmentMembership\":{\"ups\":{}}}", true, true, 5);
    assert_false(se_filter_profile(&j, &p, NULL));
    freeprof(&p);
    p = mkprof("{\"a\":1}", true, true, 5);
    assert_false(se_filter_profile(&j, &p, NULL));
    freeprof(&p);
}

static void test_no_segments_no_window(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_profile p = mkprof("{\"a\":1}", true, false, 0);
    assert_true(se_filter_profile(&j, &p, NULL));
    freeprof(&p);
}

static se_record mkev(bool has_ingest, int64_t ingest)
{
    se_record r;
    memset(&r, 0, sizeof r);
    r.kind = SE_REC_EVENT;
    r.has_ingest = has_ingest;
    r.ingest_ms = ingest;
    return r;
}

static void test_event_window(void **state)
{
    (void)state;
    se_job j = mkjob();
    se_record none = mkev(false, 0);
    assert_true(se_filter_event(&j, &none)); /* no bounds: every event */
    assert_true(se_filter_event(&j, &(se_record){ .has_ingest = true, .ingest_ms = 1 }));

    j.has_from_ingest = true;
    j.from_ingest_ms = 100;
    assert_false(se_filter_event(&j, &none));
    se_record e = mkev(true, 100);
    assert_false(se_filter_event(&j, &e));
    e.ingest_ms = 101;
    assert_true(se_filter_event(&j, &e));

    j.has_ev_from = true;
    j.ev_from_ms = 200;
    assert_false(se_filter_event(&j, &e));
    e.ingest_ms = 200;
    assert_false(se_filter_event(&j, &e));
    e.ingest_ms = 201;
    assert_true(se_filter_event(&j, &e));

    j.has_ev_to = true;
    j.ev_to_ms = 300;
    e.ingest_ms = 300;
    assert_false(se_filter_event(&j, &e));
    e.ingest_ms = 299;
    assert_true(se_filter_event(&j, &e));

    /* eventList bounds alone. */
    j.has_from_ingest = false;
    j.has_ev_from = false;
    assert_false(se_filter_event(&j, &none));
    e.ingest_ms = -5;
    assert_true(se_filter_event(&j, &e));

    /* filter.fromIngestTimestamp larger than eventList's: both apply. */
    j.has_ev_to = false;
    j.has_from_ingest = true;
    j.from_ingest_ms = 500;
    j.has_ev_from = true;
    j.ev_from_ms = 100;
    e.ingest_ms = 400;
    assert_false(se_filter_event(&j, &e));
    e.ingest_ms = 501;
    assert_true(se_filter_event(&j, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_profiles),
        cmocka_unit_test(test_from_ingest),
        cmocka_unit_test(test_order_empty_before_segments),
        cmocka_unit_test(test_segments_status),
        cmocka_unit_test(test_segments_none_qualify),
        cmocka_unit_test(test_window_bounds),
        cmocka_unit_test(test_window_without_segments),
        cmocka_unit_test(test_no_segments_no_window),
        cmocka_unit_test(test_event_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
