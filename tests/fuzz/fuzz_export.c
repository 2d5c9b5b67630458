/* Fuzz target: a whole job over arbitrary bytes, in process.  The first byte
 * picks the archive format, --keyed and one of a few job definitions; the rest
 * is written to a file that is the job's only INPUT (so compressed, tar and zip
 * inputs are reached too).  Whatever happens, the job must end SUCCEEDED or
 * FAILED, and the output directory must hold no temporary file afterwards, and
 * no archive at all when it FAILED. */
#include <dirent.h>
#include "fuzz_common.h"
#include "export.h"
#include "job.h"
#include "jobstate.h"
#include "mergepolicy.h"
#include "opts.h"

static const char *const jobs[] = {
    "{\"destination\":{\"datasetId\":\"ds\"},\"schema\":{\"name\":\"s\"}}",
    "{\"fields\":\"identityMap,a.b\",\"destination\":{\"datasetId\":\"ds\",\"segmentPerBatch\":true},"
    "\"schema\":{\"name\":\"s\"},\"filter\":{\"segments\":[{\"segmentId\":\"s1\"},"
    "{\"segmentId\":\"s2\",\"status\":[\"exited\",\"realized\"]}],\"emptyProfiles\":true},"
    "\"additionalFields\":{\"eventList\":{\"fields\":\"x\",\"filter\":{\"fromIngestTimestamp\":"
    "\"2018-01-01T00:00:00Z\"}}}}",
    "{\"destination\":{\"datasetId\":\"ds\"},\"schema\":{\"name\":\"s\"},\"mergePolicy\":{\"id\":\"dsp\"},"
    "\"filter\":{\"fromIngestTimestamp\":\"2018-01-01T00:00:00Z\",\"segmentQualificationTime\":"
    "{\"startTime\":\"2018-01-01T00:00:00Z\"}},\"additionalFields\":{\"eventList\":{}}}",
};
#define NJOBS (sizeof jobs / sizeof *jobs)

/* Counts entries of dir; removes them all. */
static int sweep(const char *dir, int *temps)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[700];
    int n = 0;
    *temps = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (e->d_name[0] == '.')
            ++*temps;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_mp_registry *reg;
    static se_job *job[NJOBS];
    static char input[300], out[300], dsdir[320];
    char err[1024], why[1024];

    if (!reg) {
        static const char pol[] =
            "[{\"id\":\"dsp\",\"attributeMerge\":{\"type\":\"dataSetPrecedence\",\"order\":[\"a\",\"b\"]}}]";
        char path[300];
        snprintf(path, sizeof path, "%s/policies.json", fz_scratch());
        fz_write_file(path, (const uint8_t *)pol, sizeof pol - 1);
        if (!(reg = se_mp_registry_new()) || se_mp_registry_load(reg, path, err, sizeof err))
            abort();
        for (size_t i = 0; i < NJOBS; i++)
            if (se_job_parse(jobs[i], strlen(jobs[i]), reg, &job[i], NULL, NULL, err, sizeof err)) {
                fprintf(stderr, "fuzz_export: job %zu: %s\n", i, err);
                abort();
            }
        snprintf(input, sizeof input, "%s/input", fz_scratch());
        snprintf(out, sizeof out, "%s/out", fz_scratch());
        snprintf(dsdir, sizeof dsdir, "%s/ds", out);
    }
    uint8_t sel = size ? data[0] : 0;
    if (size) {
        data++;
        size--;
    }
    fz_write_file(input, data, size);

    se_opts o;
    memset(&o, 0, sizeof o);
    o.cmd = SE_CMD_RUN;
    o.cmd_name = "run";
    o.org = "local@AdobeOrg";
    o.sandbox = "prod";
    static const se_format fmts[] = {SE_FMT_TAR, SE_FMT_TAR_GZ, SE_FMT_ZIP, SE_FMT_TAR, SE_FMT_TAR_ZST};
    o.format = fmts[sel % 5];
    o.level = o.format == SE_FMT_TAR ? -1 : 1;
    o.max_errors = sel & 0x80 ? 2 : 1000;
    o.max_record_bytes = 4096;
    o.rows_per_file = 2;
    o.keyed = (sel & 0x40) != 0;
    const se_job *jb = job[(sel >> 3) % NJOBS];

    se_jobstate js;
    if (se_jobstate_init(&js, jb, 7, o.org, 1538611200000, "seed") != 0)
        abort();
    char *inputs[] = {input};
    se_export_params ep = {
        .o = se_export_limits_of(&o), .job = jb, .js = &js, .inputs = inputs, .ninputs = 1, .output_root = out,
    };
    int rc = se_export_execute(&ep, why, sizeof why);
    if (rc != 0 && rc != 1)
        abort();
    if (strcmp(js.status, rc ? "FAILED" : "SUCCEEDED") != 0)
        abort();
    if (rc == 1 && (why[0] == '\0' || json_object_array_length(js.errors) == 0))
        abort(); /* a failed job says why */
    json_object *j = se_jobstate_json(&js, jb);
    if (!j)
        abort();
    json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
    json_object_put(j);
    int temps, n = sweep(dsdir, &temps);
    if (temps != 0 || (rc == 1 && n != 0) || (rc == 0 && (size_t)n != js.nbatches)) {
        fprintf(stderr, "fuzz_export: rc %d, %d entries, %d temporary in %s\n", rc, n, temps, dsdir);
        abort();
    }
    se_jobstate_clear(&js);
    return 0;
}
