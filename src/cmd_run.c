/* `segexport run` and `segexport key`: the export in this process, and the
 * scale-out mapper. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "export.h"
#include "input.h"
#include "jobstate.h"
#include "msg.h"
#include "record.h"
#include "store.h"
#include "timeutil.h"

#define JOB_MAX_BYTES (64u << 20) /* a job definition is small; refuse absurd ones */

static volatile sig_atomic_t cancel_flag;
static const char *cancel_reason = "job cancelled";

static void on_signal(int sig)
{
    cancel_flag = 1;
    cancel_reason = sig == SIGINT ? "job cancelled (SIGINT)" : "job cancelled (SIGTERM)";
}

int se_print_json(json_object *obj)
{
    const char *s = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s || fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF)
        return -1;
    return 0;
}

/* Reads the whole of path ("-" = stdin) into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (fd < 0)
        return NULL;
    for (;;) {
        ssize_t r;
        if (cap - n < 65536) {
            char *nb;
            if (cap >= JOB_MAX_BYTES) {
                errno = EFBIG;
                goto fail;
            }
            nb = realloc(buf, cap ? cap * 2 : 65536 + 1);
            if (!nb)
                goto fail;
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (fd != 0)
        close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
fail: {
        int e = errno;
        if (fd > 0)
            close(fd);
        free(buf);
        errno = e;
        return NULL;
    }
}

static void warn_unknown(const char *path, void *ctx)
{
    (void)ctx;
    se_warn("job: unknown key \"%s\" ignored", path);
}

/* Loads the registry and the job.  Returns an exit status (0 = go on). */
static int load_job(const se_opts *o, const char *path, se_mp_registry **reg, se_job **job,
                    char **text_out)
{
    char err[1024];
    size_t len;
    char *text = slurp(path, &len);

    if (!text) {
        se_error("%s: %s", strcmp(path, "-") ? path : "stdin", strerror(errno));
        return SE_EXIT_SYSTEM;
    }
    if (!(*reg = se_mp_registry_new())) {
        free(text);
        se_error("out of memory");
        return SE_EXIT_SYSTEM;
    }
    if (o->merge_policies && se_mp_registry_load(*reg, o->merge_policies, err, sizeof err)) {
        free(text);
        se_error("%s", err);
        return SE_EXIT_INVALID;
    }
    if (se_job_parse(text, len, *reg, job, warn_unknown, NULL, err, sizeof err)) {
        free(text);
        se_error("job: %s", err);
        return SE_EXIT_INVALID;
    }
    *text_out = text;
    return 0;
}

int se_cmd_run(const se_opts *o)
{
    se_mp_registry *reg = NULL;
    se_job *job = NULL;
    se_store *st = NULL;
    se_jobstate js;
    json_object *out = NULL;
    char *text = NULL, *output_root = NULL, *seed = NULL, err[1024], why[1024];
    char *const *inputs;
    size_t ninputs;
    int64_t id;
    int rc;

    memset(&js, 0, sizeof js);
    if (o->noperands < 1) {
        se_error("run: missing JOB (usage: segexport run [OPTIONS] JOB [INPUT...])");
        return SE_EXIT_USAGE;
    }
    inputs = o->operands + 1;
    ninputs = o->noperands - 1;
    if (!strcmp(o->operands[0], "-")) {
        bool stdin_twice = ninputs == 0;
        for (size_t i = 0; i < ninputs; i++)
            stdin_twice |= !strcmp(inputs[i], "-");
        if (stdin_twice) {
            se_error("run: JOB and an INPUT cannot both be stdin");
            return SE_EXIT_USAGE;
        }
    }
    if ((rc = load_job(o, o->operands[0], &reg, &job, &text)))
        goto out;
    if (se_input_check_paths(inputs, ninputs, err, sizeof err)) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (!(st = se_store_open(o->store_dir, o->org, o->sandbox, err, sizeof err)) ||
        se_store_next_id(st, &id, err, sizeof err)) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (o->output_dir)
        output_root = strdup(o->output_dir);
    else if (asprintf(&output_root, "%s/datasets", o->store_dir) < 0)
        output_root = NULL;
    /* Reproducible ids derive from the definition, the scope, the job id and the epoch. */
    if (!output_root ||
        asprintf(&seed, "%s\n%s\n%s\n%lld\n%lld", json_object_to_json_string_ext(job->def, JSON_C_TO_STRING_PLAIN),
                 o->org, o->sandbox, (long long)id, (long long)se_now_ms()) < 0 ||
        se_jobstate_init(&js, job, id, o->org, se_now_ms(), seed)) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    js.status = "PROCESSING";
    js.started = true;
    se_jobstate_new_uuid(&js, js.gateway_id);
    out = se_jobstate_json(&js, job);
    if (!out || se_store_put(st, id, getpid(), out, err, sizeof err)) {
        se_error("%s", out ? err : "out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    json_object_put(out);
    out = NULL;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    se_export_params ep = {
        .o = o, .job = job, .js = &js, .inputs = inputs, .ninputs = ninputs,
        .output_root = output_root, .cancel = &cancel_flag, .cancel_reason = NULL,
    };
    rc = se_export_execute(&ep, why, sizeof why) ? SE_EXIT_FAILED : SE_EXIT_OK;
    if (rc)
        se_error("job %lld FAILED: %s", (long long)id, why);
    out = se_jobstate_json(&js, job);
    if (!out || se_store_put(st, id, 0, out, err, sizeof err))
        se_error("%s", out ? err : "out of memory");
    if (out && se_print_json(out))
        rc = rc ? rc : SE_EXIT_SYSTEM;
out:
    json_object_put(out);
    se_jobstate_clear(&js);
    se_store_free(st);
    se_job_free(job);
    se_mp_registry_free(reg);
    free(text);
    free(output_root);
    free(seed);
    return rc;
}

/* key: KEY<TAB>RECORD per good record; bad records are reported and, beyond
 * --max-errors, make the exit status 1 (the sort that follows would otherwise
 * silently lose them). */
int se_cmd_key(const se_opts *o)
{
    char *const *inputs = o->operands;
    size_t ninputs = o->noperands;
    se_input *in = NULL;
    se_rparser *rp = NULL;
    se_line ln;
    se_record rec;
    uint64_t bad = 0;
    char err[1024];
    int r, rc = SE_EXIT_OK;

    memset(&rec, 0, sizeof rec);
    if (se_input_check_paths(inputs, ninputs, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_SYSTEM;
    }
    in = se_input_open(inputs, ninputs, (size_t)o->max_record_bytes);
    rp = se_rparser_new();
    if (!in || !rp) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    while ((r = se_input_next(in, &ln)) > 0) {
        if (ln.too_long) {
            snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                     (unsigned long long)o->max_record_bytes);
        } else if (se_record_parse(rp, ln.data, ln.len, &rec, err, sizeof err) == 0) {
            if (fputs(rec.key, stdout) == EOF || putchar('\t') == EOF ||
                fwrite(ln.data, 1, ln.len, stdout) != ln.len || putchar('\n') == EOF) {
                se_error("error writing to standard output");
                rc = SE_EXIT_SYSTEM;
                goto out;
            }
            se_record_clear(&rec);
            continue;
        }
        se_error("%s:%llu: %s", ln.name, (unsigned long long)ln.lineno, err);
        if (++bad > o->max_errors) {
            se_error("%llu bad input records, more than --max-errors %llu",
                     (unsigned long long)bad, (unsigned long long)o->max_errors);
            rc = SE_EXIT_FAILED;
            goto out;
        }
    }
    if (r < 0) {
        se_error("%s", se_input_error(in));
        rc = SE_EXIT_FAILED;
    }
out:
    se_record_clear(&rec);
    se_rparser_free(rp);
    se_input_free(in);
    return rc;
}
