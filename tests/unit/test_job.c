/* Unit tests for job.c: the job definition's validation, defaults and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "job.h"

/* A registry with the built-in plus a dataSetPrecedence and a pdg policy. */
static se_mp_registry *reg;

/* Unknown-key warnings, as "path;path;" */
static char warned[1024];

static void on_warn(const char *path, void *ctx)
{
    int *count = ctx;
    (*count)++;
    strncat(warned, path, sizeof warned - strlen(warned) - 2);
    strcat(warned, ";");
}

static int setup(void **state)
{
    (void)state;
    char path[] = "/tmp/test_job.XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    const char *text =
        "[{\"id\":\"dsp-mp\",\"version\":2,\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"a\",\"b\"]}},"
        " {\"id\":\"pdg-mp\",\"identityGraph\":{\"type\":\"pdg\"}},"
        " {\"id\":\"dsp-mp\",\"version\":3,\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"b\"]}},"
        " {\"id\":\"dsp-mp\",\"version\":1,\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"c\"]}}]";
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return -1;
    close(fd);
    reg = se_mp_registry_new();
    int rc = reg ? se_mp_registry_load(reg, path, err, sizeof err) : -1;
    unlink(path);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    se_mp_registry_free(reg);
    return 0;
}

static se_job *parse_ok(const char *text)
{
    se_job *job = NULL;
    char err[512] = "";
    int count = 0;
    warned[0] = '\0';
    if (se_job_parse(text, strlen(text), reg, &job, on_warn, &count, err, sizeof err) != 0)
        fail_msg("rejected: %s", err);
    assert_non_null(job);
    return job;
}

static void assert_reject(const char *text, const char *want)
{
    se_job *job = (se_job *)0x1;
    char err[512] = "unset";
    int count = 0;
    warned[0] = '\0';
    assert_int_equal(se_job_parse(text, strlen(text), reg, &job, on_warn, &count, err, sizeof err), -1);
    assert_ptr_equal(job, (se_job *)0x1); /* *out untouched on failure */
    assert_string_equal(err, want);
}

static const char *plain(const se_job *job)
{
    return json_object_to_json_string_ext(job->def, JSON_C_TO_STRING_PLAIN);
}

/* The minimal valid body, with extra members spliced in front of it. */
#define MIN_TAIL "\"destination\":{\"datasetId\":\"ds1\"},\"schema\":{\"name\":\"_xdm.context.profile\"}"
#define MIN_DEF_TAIL "\"destination\":{\"datasetId\":\"ds1\",\"segmentPerBatch\":false},\"schema\":{\"name\":\"_xdm.context.profile\"}"
#define DEFAULT_MP "\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":1}"

static void assert_def(const char *text, const char *want)
{
    se_job *job = parse_ok(text);
    assert_string_equal(plain(job), want);
    se_job_free(job);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    se_job *job = parse_ok("{" MIN_TAIL "}");
    assert_string_equal(plain(job), "{" MIN_DEF_TAIL "," DEFAULT_MP ",\"filter\":{\"emptyProfiles\":false}}");
    assert_string_equal(job->dataset_id, "ds1");
    assert_string_equal(job->schema_name, "_xdm.context.profile");
    assert_null(job->fields);
    assert_false(job->segment_per_batch);
    assert_int_equal(job->nsegs, 0);
    assert_null(job->segs);
    assert_false(job->has_sqt);
    assert_false(job->has_start);
    assert_false(job->has_end);
    assert_false(job->has_from_ingest);
    assert_false(job->empty_profiles);
    assert_false(job->has_event_list);
    assert_null(job->event_fields);
    assert_false(job->eval_segmentation);
    assert_non_null(job->policy);
    assert_string_equal(job->policy->id, "timestampOrdered-none-mp");
    assert_int_equal(job->policy->version, 1);
    assert_string_equal(warned, "");
    se_job_free(job);
    se_job_free(NULL);
}

/* The documentation's example, minus evaluationInfo.segmentation true. */
static const char *example =
    "{\n"
    "    \"fields\": \"identities.id,personalEmail.address\",\n"
    "    \"mergePolicy\": {\"id\": \"timestampOrdered-none-mp\", \"version\": 1},\n"
    "    \"filter\": {\n"
    "        \"segments\": [{\"segmentId\": \"52c26d0d-45f2-47a2-ab30-ed06abc981ff\",\n"
    "                      \"segmentNs\": \"ups\", \"status\": [\"realized\"]}],\n"
    "        \"segmentQualificationTime\": {\"startTime\": \"2018-01-01T00:00:00Z\",\n"
    "                                     \"endTime\": \"2018-02-01T00:00:00Z\"},\n"
    "        \"fromIngestTimestamp\": \"2018-01-01T00:00:00Z\",\n"
    "        \"emptyProfiles\": true\n"
    "    },\n"
    "    \"additionalFields\": {\"eventList\": {\"fields\": \"string\",\n"
    "        \"filter\": {\"fromIngestTimestamp\": \"2018-01-01T00:00:00Z\",\n"
    "                   \"toIngestTimestamp\": \"2020-01-01T00:00:00Z\"}}},\n"
    "    \"destination\": {\"datasetId\": \"5b7c86968f7b6501e21ba9df\", \"segmentPerBatch\": false},\n"
    "    \"schema\": {\"name\": \"_xdm.context.profile\"},\n"
    "    \"evaluationInfo\": {\"segmentation\": false}\n"
    "}\n";

static void test_full_example(void **state)
{
    (void)state;
    se_job *job = parse_ok(example);
    assert_string_equal(plain(job),
        "{\"fields\":\"identities.id,personalEmail.address\","
        "\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":1},"
        "\"filter\":{\"segments\":[{\"segmentId\":\"52c26d0d-45f2-47a2-ab30-ed06abc981ff\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]}],"
        "\"segmentQualificationTime\":{\"startTime\":\"2018-01-01T00:00:00Z\",\"endTime\":\"2018-02-01T00:00:00Z\"},"
        "\"fromIngestTimestamp\":\"2018-01-01T00:00:00Z\",\"emptyProfiles\":true},"
        "\"additionalFields\":{\"eventList\":{\"fields\":\"string\",\"filter\":{\"fromIngestTimestamp\":\"2018-01-01T00:00:00Z\",\"toIngestTimestamp\":\"2020-01-01T00:00:00Z\"}}},"
        "\"destination\":{\"datasetId\":\"5b7c86968f7b6501e21ba9df\",\"segmentPerBatch\":false},"
        "\"schema\":{\"name\":\"_xdm.context.profile\"},"
        "\"evaluationInfo\":{\"segmentation\":false}}");
    assert_string_equal(job->fields, "identities.id,personalEmail.address");
    assert_int_equal(job->nsegs, 1);
    assert_string_equal(job->segs[0].segment_id, "52c26d0d-45f2-47a2-ab30-ed06abc981ff");
    assert_string_equal(job->segs[0].segment_ns, "ups");
    assert_int_equal(job->segs[0].status_mask, SE_ST_REALIZED | SE_ST_EXISTING);
    assert_true(job->has_sqt);
    assert_true(job->has_start);
    assert_int_equal(job->start_ms, 1514764800000LL);
    assert_true(job->has_end);
    assert_int_equal(job->end_ms, 1517443200000LL);
    assert_true(job->has_from_ingest);
    assert_int_equal(job->from_ingest_ms, 1514764800000LL);
    assert_true(job->empty_profiles);
    assert_true(job->has_event_list);
    assert_string_equal(job->event_fields, "string");
    assert_true(job->has_ev_from);
    assert_int_equal(job->ev_from_ms, 1514764800000LL);
    assert_true(job->has_ev_to);
    assert_int_equal(job->ev_to_ms, 1577836800000LL);
    assert_string_equal(job->dataset_id, "5b7c86968f7b6501e21ba9df");
    assert_false(job->segment_per_batch);
    assert_false(job->eval_segmentation);
    assert_string_equal(job->policy->id, "timestampOrdered-none-mp");
    se_job_free(job);
}

static void test_segment_defaults_and_order(void **state)
{
    (void)state;
    se_job *job = parse_ok(
        "{\"filter\":{\"segments\":[{\"status\":[\"exited\",\"existing\"],\"segmentNs\":\"AAM\",\"segmentId\":\"s1\"},"
        "{\"segmentId\":\"s2\"},{\"segmentId\":\"s3\",\"segmentNs\":null,\"status\":null},"
        "{\"segmentId\":\"s4\",\"status\":[\"realized\",\"realized\",\"exited\"]},"
        "{\"segmentId\":\"s5\",\"status\":[\"existing\"]}],\"emptyProfiles\":null}," MIN_TAIL "}");
    assert_string_equal(plain(job),
        "{\"filter\":{\"segments\":["
        "{\"segmentId\":\"s1\",\"segmentNs\":\"AAM\",\"status\":[\"exited\",\"existing\"]},"
        "{\"segmentId\":\"s2\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]},"
        "{\"segmentId\":\"s3\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]},"
        "{\"segmentId\":\"s4\",\"segmentNs\":\"ups\",\"status\":[\"realized\",\"realized\",\"exited\"]},"
        "{\"segmentId\":\"s5\",\"segmentNs\":\"ups\",\"status\":[\"existing\"]}"
        "],\"emptyProfiles\":false}," MIN_DEF_TAIL "," DEFAULT_MP "}");
    assert_int_equal(job->nsegs, 5);
    assert_string_equal(job->segs[0].segment_ns, "AAM");
    assert_int_equal(job->segs[0].status_mask, SE_ST_EXITED | SE_ST_EXISTING);
    assert_string_equal(job->segs[1].segment_ns, "ups");
    assert_int_equal(job->segs[1].status_mask, SE_ST_REALIZED | SE_ST_EXISTING);
    assert_int_equal(job->segs[2].status_mask, SE_ST_REALIZED | SE_ST_EXISTING);
    assert_int_equal(job->segs[3].status_mask, SE_ST_REALIZED | SE_ST_EXISTING | SE_ST_EXITED);
    assert_int_equal(job->segs[4].status_mask, SE_ST_EXISTING);
    assert_string_equal(job->segs[4].segment_id, "s5");
    se_job_free(job);
}

static void test_empty_and_null_segments(void **state)
{
    (void)state;
    se_job *job = parse_ok("{\"filter\":{\"segments\":[]}," MIN_TAIL "}");
    assert_int_equal(job->nsegs, 0);
    assert_string_equal(plain(job), "{\"filter\":{\"segments\":[],\"emptyProfiles\":false}," MIN_DEF_TAIL "," DEFAULT_MP "}");
    se_job_free(job);
    job = parse_ok("{\"filter\":{\"segments\":null,\"segmentQualificationTime\":{}}," MIN_TAIL "}");
    assert_int_equal(job->nsegs, 0);
    assert_true(job->has_sqt);
    assert_false(job->has_start);
    assert_false(job->has_end);
    assert_string_equal(plain(job), "{\"filter\":{\"segmentQualificationTime\":{},\"emptyProfiles\":false}," MIN_DEF_TAIL "," DEFAULT_MP "}");
    se_job_free(job);
}

static void test_nulls_are_absent(void **state)
{
    (void)state;
    se_job *job = parse_ok(
        "{\"fields\":null,\"mergePolicy\":null,\"filter\":null,\"additionalFields\":null,"
        "\"evaluationInfo\":null,\"destination\":{\"datasetId\":\"ds1\",\"segmentPerBatch\":null},"
        "\"schema\":{\"name\":\"n\"}}");
    assert_string_equal(plain(job),
        "{\"destination\":{\"datasetId\":\"ds1\",\"segmentPerBatch\":false},\"schema\":{\"name\":\"n\"},"
        DEFAULT_MP ",\"filter\":{\"emptyProfiles\":false}}");
    assert_null(job->fields);
    assert_false(job->has_event_list);
    se_job_free(job);

    job = parse_ok("{\"filter\":{\"segmentQualificationTime\":null,\"fromIngestTimestamp\":null},"
                   "\"additionalFields\":{\"eventList\":null},\"evaluationInfo\":{\"segmentation\":null}," MIN_TAIL "}");
    assert_false(job->has_sqt);
    assert_false(job->has_from_ingest);
    assert_false(job->has_event_list);
    assert_string_equal(plain(job),
        "{\"filter\":{\"emptyProfiles\":false},\"additionalFields\":{},\"evaluationInfo\":{\"segmentation\":false},"
        MIN_DEF_TAIL "," DEFAULT_MP "}");
    se_job_free(job);

    job = parse_ok("{\"additionalFields\":{\"eventList\":{\"fields\":null,\"filter\":{\"fromIngestTimestamp\":null}}}," MIN_TAIL "}");
    assert_true(job->has_event_list);
    assert_null(job->event_fields);
    assert_false(job->has_ev_from);
    assert_false(job->has_ev_to);
    assert_string_equal(plain(job),
        "{\"additionalFields\":{\"eventList\":{\"filter\":{}}}," MIN_DEF_TAIL "," DEFAULT_MP ",\"filter\":{\"emptyProfiles\":false}}");
    se_job_free(job);
}

static void test_blank_fields(void **state)
{
    (void)state;
    se_job *job = parse_ok("{\"fields\":\"  \\t \",\"additionalFields\":{\"eventList\":{\"fields\":\"\"}}," MIN_TAIL "}");
    assert_null(job->fields);
    assert_null(job->event_fields);
    assert_true(job->has_event_list);
    assert_string_equal(plain(job),
        "{\"fields\":\"  \\t \",\"additionalFields\":{\"eventList\":{\"fields\":\"\"}}," MIN_DEF_TAIL "," DEFAULT_MP
        ",\"filter\":{\"emptyProfiles\":false}}");
    se_job_free(job);
    job = parse_ok("{\"fields\":\" a, b \"," MIN_TAIL "}");
    assert_string_equal(job->fields, " a, b ");
    se_job_free(job);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    int count = 0;
    se_job *job = NULL;
    char err[256];
    const char *text =
        "{\"foo\":1,\"filter\":{\"bar\":[1],\"segments\":[{\"segmentId\":\"s\",\"baz\":null}],"
        "\"segmentQualificationTime\":{\"startTime\":\"2018-01-01T00:00:00Z\",\"x\":1}},"
        "\"additionalFields\":{\"profileList\":{},\"eventList\":{\"y\":2,\"filter\":{\"z\":3}}},"
        "\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"name\":\"n\"},"
        "\"destination\":{\"datasetId\":\"d\",\"batchId\":\"b\"},\"schema\":{\"name\":\"s\",\"v\":1},"
        "\"evaluationInfo\":{\"segmentation\":false,\"w\":0},\"a\\nb\":0}";
    warned[0] = '\0';
    assert_int_equal(se_job_parse(text, strlen(text), reg, &job, on_warn, &count, err, sizeof err), 0);
    assert_string_equal(warned,
        "foo;filter.bar;filter.segments[0].baz;filter.segmentQualificationTime.x;"
        "additionalFields.profileList;additionalFields.eventList.y;additionalFields.eventList.filter.z;"
        "mergePolicy.name;destination.batchId;schema.v;evaluationInfo.w;a\\nb;");
    assert_int_equal(count, 12);
    assert_string_equal(plain(job),
        "{\"filter\":{\"segments\":[{\"segmentId\":\"s\",\"segmentNs\":\"ups\",\"status\":[\"realized\"]}],"
        "\"segmentQualificationTime\":{\"startTime\":\"2018-01-01T00:00:00Z\"},\"emptyProfiles\":false},"
        "\"additionalFields\":{\"eventList\":{\"filter\":{}}},"
        "\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":1},"
        "\"destination\":{\"datasetId\":\"d\",\"segmentPerBatch\":false},\"schema\":{\"name\":\"s\"},"
        "\"evaluationInfo\":{\"segmentation\":false}}");
    se_job_free(job);

    /* A NULL callback is allowed. */
    job = NULL;
    assert_int_equal(se_job_parse(text, strlen(text), reg, &job, NULL, NULL, err, sizeof err), 0);
    se_job_free(job);
}

static void test_merge_policy(void **state)
{
    (void)state;
    se_job *job = parse_ok("{\"mergePolicy\":{\"version\":2,\"id\":\"dsp-mp\"}," MIN_TAIL "}");
    assert_string_equal(job->policy->id, "dsp-mp");
    assert_int_equal(job->policy->attr, SE_ATTR_DATASET_PRECEDENCE);
    assert_string_equal(plain(job),
        "{\"mergePolicy\":{\"version\":2,\"id\":\"dsp-mp\"}," MIN_DEF_TAIL ",\"filter\":{\"emptyProfiles\":false}}");
    se_job_free(job);

    /* version defaults to 1 and is added to def */
    assert_def("{\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\"}," MIN_TAIL "}",
               "{" DEFAULT_MP "," MIN_DEF_TAIL ",\"filter\":{\"emptyProfiles\":false}}");
    assert_def("{\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":null}," MIN_TAIL "}",
               "{" DEFAULT_MP "," MIN_DEF_TAIL ",\"filter\":{\"emptyProfiles\":false}}");

    assert_reject("{\"mergePolicy\":{\"id\":\"x\",\"version\":2}," MIN_TAIL "}",
                  "mergePolicy: unknown merge policy \"x\" version 2");
    /* SPEC §4: without a version, the highest version with that id, written into def */
    job = parse_ok("{\"mergePolicy\":{\"id\":\"dsp-mp\"}," MIN_TAIL "}");
    assert_int_equal(job->policy->version, 3);
    assert_string_equal(job->policy->order[0], "b");
    assert_string_equal(plain(job),
        "{\"mergePolicy\":{\"id\":\"dsp-mp\",\"version\":3}," MIN_DEF_TAIL ",\"filter\":{\"emptyProfiles\":false}}");
    se_job_free(job);
    job = parse_ok("{\"mergePolicy\":{\"id\":\"dsp-mp\",\"version\":1}," MIN_TAIL "}");
    assert_string_equal(job->policy->order[0], "c");
    se_job_free(job);
    assert_reject("{\"mergePolicy\":{\"id\":\"nope\"}," MIN_TAIL "}",
                  "mergePolicy: unknown merge policy \"nope\"");
    assert_reject("{\"mergePolicy\":{\"id\":\"dsp-mp\",\"version\":4}," MIN_TAIL "}",
                  "mergePolicy: unknown merge policy \"dsp-mp\" version 4");
    assert_reject("{\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":4294967297}," MIN_TAIL "}",
                  "mergePolicy: unknown merge policy \"timestampOrdered-none-mp\" version 4294967297");
    /* identityGraph pdg is accepted */
    job = parse_ok("{\"mergePolicy\":{\"id\":\"pdg-mp\",\"version\":1}," MIN_TAIL "}");
    assert_int_equal(job->policy->graph, SE_GRAPH_PDG);
    se_job_free(job);
    assert_reject("{\"mergePolicy\":{\"version\":1}," MIN_TAIL "}", "mergePolicy.id: required");
    assert_reject("{\"mergePolicy\":{}," MIN_TAIL "}", "mergePolicy.id: required");
    assert_reject("{\"mergePolicy\":{\"id\":\"\"}," MIN_TAIL "}", "mergePolicy.id: required");
    assert_reject("{\"mergePolicy\":{\"id\":null}," MIN_TAIL "}", "mergePolicy.id: required");
    assert_reject("{\"mergePolicy\":{\"id\":1}," MIN_TAIL "}", "mergePolicy.id: expected a string");
    assert_reject("{\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":\"1\"}," MIN_TAIL "}",
                  "mergePolicy.version: expected an integer");
    assert_reject("{\"mergePolicy\":{\"id\":\"timestampOrdered-none-mp\",\"version\":1.0}," MIN_TAIL "}",
                  "mergePolicy.version: expected an integer");
    assert_reject("{\"mergePolicy\":\"timestampOrdered-none-mp\"," MIN_TAIL "}", "mergePolicy: expected an object");

    /* Without a registry only the built-in exists. */
    se_job *j2 = NULL;
    char err[256];
    const char *t = "{" MIN_TAIL "}";
    assert_int_equal(se_job_parse(t, strlen(t), NULL, &j2, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(j2->policy->id, "timestampOrdered-none-mp");
    se_job_free(j2);
}

static void test_required(void **state)
{
    (void)state;
    assert_reject("{\"schema\":{\"name\":\"s\"}}", "destination.datasetId: required");
    assert_reject("{\"destination\":null,\"schema\":{\"name\":\"s\"}}", "destination.datasetId: required");
    assert_reject("{\"destination\":{},\"schema\":{\"name\":\"s\"}}", "destination.datasetId: required");
    assert_reject("{\"destination\":{\"datasetId\":null},\"schema\":{\"name\":\"s\"}}", "destination.datasetId: required");
    assert_reject("{\"destination\":{\"datasetId\":\"\"},\"schema\":{\"name\":\"s\"}}", "destination.datasetId: required");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"}}", "schema.name: required");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"},\"schema\":{}}", "schema.name: required");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"},\"schema\":{\"name\":\"\"}}", "schema.name: required");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"},\"schema\":null}", "schema.name: required");
    assert_reject("{}", "destination.datasetId: required");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\"},{\"segmentNs\":\"ups\"}]}," MIN_TAIL "}",
                  "filter.segments[1].segmentId: required");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"\"}]}," MIN_TAIL "}",
                  "filter.segments[0].segmentId: required");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":null}]}," MIN_TAIL "}",
                  "filter.segments[0].segmentId: required");
}

static void test_wrong_types(void **state)
{
    (void)state;
    assert_reject("{\"fields\":[\"a\"]," MIN_TAIL "}", "fields: expected a string");
    assert_reject("{\"filter\":[]," MIN_TAIL "}", "filter: expected an object");
    assert_reject("{\"filter\":{\"segments\":{}}," MIN_TAIL "}", "filter.segments: expected an array");
    assert_reject("{\"filter\":{\"segments\":[\"s\"]}," MIN_TAIL "}", "filter.segments[0]: expected an object");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":5}]}," MIN_TAIL "}",
                  "filter.segments[0].segmentId: expected a string");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"segmentNs\":true}]}," MIN_TAIL "}",
                  "filter.segments[0].segmentNs: expected a string");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"segmentNs\":\"\"}]}," MIN_TAIL "}",
                  "filter.segments[0].segmentNs: must not be empty");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":\"realized\"}]}," MIN_TAIL "}",
                  "filter.segments[0].status: expected an array");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":[]}]}," MIN_TAIL "}",
                  "filter.segments[0].status: must not be empty");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":[\"realized\",1]}]}," MIN_TAIL "}",
                  "filter.segments[0].status[1]: expected a string");
    assert_reject("{\"filter\":{\"segmentQualificationTime\":\"x\"}," MIN_TAIL "}",
                  "filter.segmentQualificationTime: expected an object");
    assert_reject("{\"filter\":{\"segmentQualificationTime\":{\"startTime\":1514764800000}}," MIN_TAIL "}",
                  "filter.segmentQualificationTime.startTime: expected a string");
    assert_reject("{\"filter\":{\"fromIngestTimestamp\":0}," MIN_TAIL "}", "filter.fromIngestTimestamp: expected a string");
    assert_reject("{\"filter\":{\"emptyProfiles\":\"true\"}," MIN_TAIL "}", "filter.emptyProfiles: expected a boolean");
    assert_reject("{\"filter\":{\"emptyProfiles\":1}," MIN_TAIL "}", "filter.emptyProfiles: expected a boolean");
    assert_reject("{\"additionalFields\":[]," MIN_TAIL "}", "additionalFields: expected an object");
    assert_reject("{\"additionalFields\":{\"eventList\":true}," MIN_TAIL "}", "additionalFields.eventList: expected an object");
    assert_reject("{\"additionalFields\":{\"eventList\":{\"fields\":1}}," MIN_TAIL "}",
                  "additionalFields.eventList.fields: expected a string");
    assert_reject("{\"additionalFields\":{\"eventList\":{\"filter\":[]}}," MIN_TAIL "}",
                  "additionalFields.eventList.filter: expected an object");
    assert_reject("{\"additionalFields\":{\"eventList\":{\"filter\":{\"toIngestTimestamp\":false}}}," MIN_TAIL "}",
                  "additionalFields.eventList.filter.toIngestTimestamp: expected a string");
    assert_reject("{\"destination\":\"d\",\"schema\":{\"name\":\"s\"}}", "destination: expected an object");
    assert_reject("{\"destination\":{\"datasetId\":12},\"schema\":{\"name\":\"s\"}}", "destination.datasetId: expected a string");
    assert_reject("{\"destination\":{\"datasetId\":\"d\",\"segmentPerBatch\":\"no\"},\"schema\":{\"name\":\"s\"}}",
                  "destination.segmentPerBatch: expected a boolean");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"},\"schema\":\"s\"}", "schema: expected an object");
    assert_reject("{\"destination\":{\"datasetId\":\"d\"},\"schema\":{\"name\":[]}}", "schema.name: expected a string");
    assert_reject("{\"evaluationInfo\":[]," MIN_TAIL "}", "evaluationInfo: expected an object");
    assert_reject("{\"evaluationInfo\":{\"segmentation\":0}," MIN_TAIL "}", "evaluationInfo.segmentation: expected a boolean");
}

static void test_status_values(void **state)
{
    (void)state;
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\"},{\"segmentId\":\"b\",\"status\":[\"exiting\"]}]}," MIN_TAIL "}",
                  "filter.segments[1].status[0]: \"exiting\" is not one of realized, existing, exited");
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":[\"exited\",\"Realized\"]}]}," MIN_TAIL "}",
                  "filter.segments[0].status[1]: \"Realized\" is not one of realized, existing, exited");
    /* values are echoed escaped and shortened */
    assert_reject("{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":[\"a\\\"b\\n\"]}]}," MIN_TAIL "}",
                  "filter.segments[0].status[0]: \"a\\\"b\\n\" is not one of realized, existing, exited");
    char text[512], want[256];
    snprintf(text, sizeof text, "{\"filter\":{\"segments\":[{\"segmentId\":\"a\",\"status\":[\"%0100d\"]}]}," MIN_TAIL "}", 0);
    snprintf(want, sizeof want, "filter.segments[0].status[0]: \"%064d\"... is not one of realized, existing, exited", 0);
    assert_reject(text, want);
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_reject("{\"filter\":{\"fromIngestTimestamp\":\"2018-13-01\"}," MIN_TAIL "}",
                  "filter.fromIngestTimestamp: \"2018-13-01\" is not an RFC 3339 timestamp");
    assert_reject("{\"filter\":{\"segmentQualificationTime\":{\"startTime\":\"2018-02-30T00:00:00Z\"}}," MIN_TAIL "}",
                  "filter.segmentQualificationTime.startTime: \"2018-02-30T00:00:00Z\" is not an RFC 3339 timestamp");
    assert_reject("{\"filter\":{\"segmentQualificationTime\":{\"endTime\":\"2018-01-01\"}}," MIN_TAIL "}",
                  "filter.segmentQualificationTime.endTime: \"2018-01-01\" is not an RFC 3339 timestamp");
    assert_reject("{\"additionalFields\":{\"eventList\":{\"filter\":{\"fromIngestTimestamp\":\"yesterday\"}}}," MIN_TAIL "}",
                  "additionalFields.eventList.filter.fromIngestTimestamp: \"yesterday\" is not an RFC 3339 timestamp");
    assert_reject("{\"filter\":{\"segmentQualificationTime\":{\"startTime\":\"2018-02-01T00:00:00Z\","
                  "\"endTime\":\"2018-01-01T00:00:00Z\"}}," MIN_TAIL "}",
                  "filter.segmentQualificationTime: startTime is after endTime");
    /* compared as instants: 00:00-05:00 is after 04:00Z */
    assert_reject("{\"filter\":{\"segmentQualificationTime\":{\"endTime\":\"2018-01-01T04:00:00Z\","
                  "\"startTime\":\"2018-01-01T00:00:00-05:00\"}}," MIN_TAIL "}",
                  "filter.segmentQualificationTime: startTime is after endTime");

    /* equal bounds are fine; offsets and fractions accepted */
    se_job *job = parse_ok("{\"filter\":{\"segmentQualificationTime\":{\"startTime\":\"2018-01-01T00:00:00.123456Z\","
                           "\"endTime\":\"2018-01-01T00:00:00.123+00:00\"},\"fromIngestTimestamp\":\"2018-01-01T00:00:00+0000\"},"
                           "\"additionalFields\":{\"eventList\":{\"filter\":{\"fromIngestTimestamp\":\"2018-10-25T13:22:04-07:00\"}}},"
                           MIN_TAIL "}");
    assert_int_equal(job->start_ms, 1514764800123LL);
    assert_int_equal(job->end_ms, 1514764800123LL);
    assert_int_equal(job->from_ingest_ms, 1514764800000LL);
    assert_true(job->has_ev_from);
    assert_int_equal(job->ev_from_ms, 1540498924000LL);
    assert_false(job->has_ev_to);
    se_job_free(job);
}

static void test_dataset_id(void **state)
{
    (void)state;
    static const char *bad[] = {"../x", ".", "..", "a/b", "a b", "é", "a\\\\b"};
    static const char *shown[] = {"../x", ".", "..", "a/b", "a b", "é", "a\\\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], want[256];
        snprintf(text, sizeof text, "{\"destination\":{\"datasetId\":\"%s\"},\"schema\":{\"name\":\"s\"}}", bad[i]);
        snprintf(want, sizeof want, "destination.datasetId: \"%s\" is not 1-128 characters of [A-Za-z0-9._-]", shown[i]);
        assert_reject(text, want);
    }
    char id[130], text[400], want[256];
    memset(id, 'a', 129);
    id[129] = '\0';
    snprintf(text, sizeof text, "{\"destination\":{\"datasetId\":\"%s\"},\"schema\":{\"name\":\"s\"}}", id);
    snprintf(want, sizeof want, "destination.datasetId: \"%.64s\"... is not 1-128 characters of [A-Za-z0-9._-]", id);
    assert_reject(text, want);

    id[128] = '\0'; /* 128 is fine */
    snprintf(text, sizeof text, "{\"destination\":{\"datasetId\":\"%s\"},\"schema\":{\"name\":\"s\"}}", id);
    se_job *job = parse_ok(text);
    assert_string_equal(job->dataset_id, id);
    se_job_free(job);
    job = parse_ok("{\"destination\":{\"datasetId\":\"A.z_0-9...\",\"segmentPerBatch\":true},\"schema\":{\"name\":\"s\"}}");
    assert_string_equal(job->dataset_id, "A.z_0-9...");
    assert_true(job->segment_per_batch);
    se_job_free(job);
}

static void test_unsupported(void **state)
{
    (void)state;
    assert_def("{\"evaluationInfo\":{\"segmentation\":true}," MIN_TAIL "}",
               "{\"evaluationInfo\":{\"segmentation\":true}," MIN_DEF_TAIL "," DEFAULT_MP ",\"filter\":{\"emptyProfiles\":false}}");
    assert_def("{\"evaluationInfo\":{}," MIN_TAIL "}",
               "{\"evaluationInfo\":{\"segmentation\":false}," MIN_DEF_TAIL "," DEFAULT_MP ",\"filter\":{\"emptyProfiles\":false}}");
}

static void test_malformed(void **state)
{
    (void)state;
    assert_reject("", "malformed JSON at line 1: unexpected end of data");
    assert_reject("  \n ", "malformed JSON at line 2: unexpected end of data");
    assert_reject("{\n\"a\":\n tru}", "malformed JSON at line 3: boolean expected");
    assert_reject("{\"a\":1,}", "malformed JSON at line 1: unexpected character");
    assert_reject("{\n\"destination\":{", "malformed JSON at line 2: unexpected end of data");
    assert_reject("{" MIN_TAIL "}\n\n{}", "malformed JSON at line 3: trailing content after the JSON value");
    assert_reject("{" MIN_TAIL "} x", "malformed JSON at line 1: trailing content after the JSON value");
    assert_reject("[]", "not a JSON object (a job definition is the JSON object of a POST /export/jobs body)");
    assert_reject("\"x\"", "not a JSON object (a job definition is the JSON object of a POST /export/jobs body)");
    assert_reject("42", "not a JSON object (a job definition is the JSON object of a POST /export/jobs body)");
    assert_reject("null", "not a JSON object (a job definition is the JSON object of a POST /export/jobs body)");
    assert_reject("{\"a\":\"\xff\"}", "malformed JSON at line 1: invalid utf-8 string");

    /* trailing whitespace is fine; the text need not be NUL-terminated */
    char buf[256];
    const char *t = "{" MIN_TAIL "} \r\n\t";
    size_t n = strlen(t);
    memcpy(buf, t, n);
    buf[n] = 'X'; /* not part of the text */
    se_job *job = NULL;
    char err[256];
    assert_int_equal(se_job_parse(buf, n, reg, &job, NULL, NULL, err, sizeof err), 0);
    se_job_free(job);
    /* an embedded NUL is not whitespace */
    memcpy(buf, "{" MIN_TAIL "}\0 ", sizeof("{" MIN_TAIL "}\0 "));
    assert_int_equal(se_job_parse(buf, sizeof("{" MIN_TAIL "}\0 ") - 1, reg, &job, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "malformed JSON at line 1: trailing content after the JSON value");
}

/* A leading UTF-8 BOM is skipped; one anywhere else is still an error. */
static void test_bom(void **state)
{
    (void)state;
    se_job_free(parse_ok("\xEF\xBB\xBF{" MIN_TAIL "}"));
    assert_reject("\xEF\xBB\xBF", "malformed JSON at line 1: unexpected end of data");
    assert_reject("\xEF\xBB\xBF\n{\"a\":", "malformed JSON at line 2: unexpected end of data");
    assert_reject(" \xEF\xBB\xBF{" MIN_TAIL "}", "malformed JSON at line 1: invalid utf-8 string");
}

static void test_first_error_wins(void **state)
{
    (void)state;
    /* document order: the filter error comes before the missing schema */
    assert_reject("{\"filter\":{\"emptyProfiles\":3},\"destination\":{\"datasetId\":\"d\"}}",
                  "filter.emptyProfiles: expected a boolean");
    /* a tiny err buffer is never overrun */
    se_job *job = NULL;
    char tiny[6];
    assert_int_equal(se_job_parse("{}", 2, reg, &job, NULL, NULL, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "desti");
    assert_int_equal(se_job_parse("{}", 2, reg, &job, NULL, NULL, NULL, 0), -1);
    assert_null(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_segment_defaults_and_order),
        cmocka_unit_test(test_empty_and_null_segments),
        cmocka_unit_test(test_nulls_are_absent),
        cmocka_unit_test(test_blank_fields),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_merge_policy),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_status_values),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_dataset_id),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_first_error_wins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
