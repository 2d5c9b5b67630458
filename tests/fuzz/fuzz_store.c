/* Fuzz target: the job store's record reader.  The input is written as
 * STORE/jobs/1.json and read back with se_store_get / se_store_get_ex, by its
 * scope and another one, and se_store_signal (signal 0) looks for its worker. */
#include "fuzz_common.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static se_store *st, *other;
    static char path[400];
    char err[1024], *outdir = NULL;
    json_object *job = NULL;
    pid_t pid = 0;

    if (!st) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/store", fz_scratch());
        if (!(st = se_store_open(dir, "local@AdobeOrg", "prod", err, sizeof err)))
            abort();
        snprintf(path, sizeof path, "%s/jobs/1.json", dir);
    }
    fz_write_file(path, data, size);
    int r = se_store_get(st, 1, &job, &pid, err, sizeof err);
    if (r == 0) {
        if (!job || !json_object_is_type(job, json_type_object))
            abort();
        json_object_to_json_string_ext(job, JSON_C_TO_STRING_PRETTY);
        json_object_put(job);
        job = NULL;
    } else if (job) {
        abort();
    }
    r = se_store_get_ex(st, 1, &job, &pid, &outdir, err, sizeof err);
    if (r == 0)
        json_object_put(job);
    free(outdir);
    /* Signal 0 only: checks which process a record names, harmlessly. */
    if (se_store_signal(st, 1, 0, err, sizeof err) < -1)
        abort();
    /* The same file as another scope reads it (damaged records too). */
    if (!other) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/store", fz_scratch());
        if (!(other = se_store_open(dir, "other@AdobeOrg", "prod", err, sizeof err)))
            abort();
    }
    r = se_store_get(other, 1, &job, &pid, err, sizeof err);
    if (r == 0)
        json_object_put(job);
    return 0;
}
