/* Fuzz target: the job-definition parser and validator (se_job_parse), then
 * what is done with an accepted definition: the NEW job JSON and the field
 * projections' compilation. */
#include "fuzz_common.h"
#include "job.h"
#include "jobstate.h"
#include "mergepolicy.h"
#include "project.h"

static se_mp_registry *reg;

static void warn_cb(const char *path, void *ctx)
{
    (void)path;
    (*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024], path[300];
    se_job *job = NULL;
    int warnings = 0;

    if (!reg) {
        static const char pol[] =
            "[{\"id\":\"dsp\",\"version\":1,\"attributeMerge\":{\"type\":\"dataSetPrecedence\","
            "\"order\":[\"a\",\"b\"]},\"identityGraph\":{\"type\":\"none\"}}]";
        snprintf(path, sizeof path, "%s/policies.json", fz_scratch());
        fz_write_file(path, (const uint8_t *)pol, sizeof pol - 1);
        if (!(reg = se_mp_registry_new()) || se_mp_registry_load(reg, path, err, sizeof err))
            abort();
    }
    if (se_job_parse((const char *)data, size, reg, &job, warn_cb, &warnings, err, sizeof err) != 0) {
        if (job != NULL || err[0] == '\0' || memchr(err, '\n', strlen(err)))
            abort(); /* a rejection: no job, one line of message */
        return 0;
    }
    se_jobstate js;
    if (se_jobstate_init(&js, job, 1, "o@AdobeOrg", 1538611200000, "seed") == 0) {
        json_object *out = se_jobstate_json(&js, job);
        if (out)
            json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY);
        json_object_put(out);
        se_jobstate_clear(&js);
    }
    se_proj *p1 = NULL, *p2 = NULL;
    se_proj_compile(job->fields, &p1);
    se_proj_compile(job->event_fields, &p2);
    se_proj_free(p1);
    se_proj_free(p2);
    se_job_free(job);
    return 0;
}
