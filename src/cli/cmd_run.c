/* `segexport run` and `segexport create`: the export in this process or in a
 * detached worker.  (`key` is in cmd_key.c.) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "export.h"
#include "fsutil.h"
#include "segdefs.h"
#include "input.h"
#include "joblocate.h"
#include "jobstate.h"
#include "msg.h"
#include "optfiles.h"
#include "record.h"
#include "stitch.h"
#include "store.h"
#include "timeutil.h"
#include "worker.h"
#include <sys/wait.h>

#define JOB_MAX_BYTES (64u << 20) /* a job definition is small; refuse absurd ones */

/* json-c prints an empty object over two lines ("{", "}"); print it "{}".
 * A raw newline cannot occur inside a JSON string, so "{" followed by a
 * newline, blanks and "}" is always an empty object. */
int se_print_json(json_object *obj)
{
    const char *s = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!s)
        return -1;
    for (const char *p; (p = strstr(s, "{\n"));) {
        size_t k = 2;
        while (p[k] == ' ')
            k++;
        if (fwrite(s, 1, (size_t)(p - s) + 1, stdout) != (size_t)(p - s) + 1)
            return -1;
        s = p[k] == '}' ? p + k : p + 1;
    }
    if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF)
        return -1;
    return 0;
}

/* The job file, for messages that name it and the line. */
struct jobsrc {
    const char *name;
    const char *text;
    size_t len;
};

static void warn_unknown(const char *path, void *ctx)
{
    const struct jobsrc *js = ctx;
    char buf[512];
    const char *s = se_job_key_suggest(path, buf, sizeof buf);

    se_warn("%s:%zu: unknown key \"%s\" ignored%s%s%s", js->name,
            se_json_path_line(js->text, js->len, path), path, s ? " (did you mean \"" : "",
            s ? s : "", s ? "\"?)" : "");
}

/* Loads the registry and the job.  Returns an exit status (0 = go on). */
static int load_job(const se_opts *o, const char *path, se_mp_registry **reg, se_job **job,
                    char **text_out)
{
    char err[1024];
    size_t len;
    char *text = se_slurp(path, JOB_MAX_BYTES, &len);

    if (!text) {
        se_error("%s: %s", strcmp(path, "-") ? path : "stdin", strerror(errno));
        return SE_EXIT_SYSTEM;
    }
    if (!(*reg = se_mp_registry_new())) {
        free(text);
        se_error("out of memory");
        return SE_EXIT_SYSTEM;
    }
    if (o->merge_policies && se_opt_load_merge_policies(*reg, o->merge_policies, err, sizeof err)) {
        free(text);
        se_error("%s", err);
        return SE_EXIT_INVALID;
    }
    struct jobsrc src = { strcmp(path, "-") ? path : "stdin", text, len };
    if (se_job_parse(text, len, *reg, job, warn_unknown, &src, err, sizeof err)) {
        char msg[1200];
        se_json_locate_error(src.name, text, len, err, msg, sizeof msg);
        free(text);
        se_error("%s", msg);
        return SE_EXIT_INVALID;
    }
    *text_out = text;
    return 0;
}

/* Everything run and create share: the job validated, the inputs checked,
 * an id taken, the NEW state made.  Returns an exit status (0 = go on). */
struct prepared {
    se_mp_registry *reg;
    se_segdefs *defs;
    se_job *job;
    se_store *st;
    se_jobstate js;
    char *text, *output_root, *seed;
    char *const *inputs;
    size_t ninputs;
};

static void prepared_free(struct prepared *p)
{
    se_jobstate_clear(&p->js);
    se_segdefs_free(p->defs);
    se_store_free(p->st);
    se_job_free(p->job);
    se_mp_registry_free(p->reg);
    free(p->text);
    free(p->output_root);
    free(p->seed);
}

static int prepare(const se_opts *o, struct prepared *p)
{
    char err[1024];
    int64_t id, now;
    int rc;

    memset(p, 0, sizeof *p);
    if (o->noperands < 1) {
        se_error("%s: missing JOB (usage: segexport %s [OPTIONS] JOB [INPUT...])", o->cmd_name, o->cmd_name);
        return SE_EXIT_USAGE;
    }
    p->inputs = o->operands + 1;
    p->ninputs = o->noperands - 1;
    {
        /* One reader of stdin ("-"; no INPUT is stdin too), refused before
         * any reads it: a second would get the rest of the first's. */
        static const char *const who[] = { "JOB", "--merge-policies", "--segment-definitions",
                                           "an INPUT" };
        bool uses[] = { !strcmp(o->operands[0], "-"),
                        o->merge_policies && !strcmp(o->merge_policies, "-"),
                        o->segment_definitions && !strcmp(o->segment_definitions, "-"),
                        p->ninputs == 0 };
        for (size_t i = 0; i < p->ninputs; i++)
            uses[3] |= !strcmp(p->inputs[i], "-");
        if (se_stdin_once(o->cmd_name, who, uses, 4, err, sizeof err)) {
            se_error("%s", err);
            return SE_EXIT_USAGE;
        }
    }
    if ((rc = load_job(o, o->operands[0], &p->reg, &p->job, &p->text)))
        return rc;
    if (o->segment_definitions &&
        se_opt_load_segdefs(o->segment_definitions, &p->defs, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_INVALID;
    }
    if (p->job->eval_segmentation && !p->defs)
        se_warn("%s:%zu: evaluationInfo.segmentation is true but no --segment-definitions "
                "were given: stored memberships are used",
                strcmp(o->operands[0], "-") ? o->operands[0] : "stdin",
                se_json_path_line(p->text, strlen(p->text), "evaluationInfo.segmentation"));
    if (se_input_check_paths(p->inputs, p->ninputs, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_SYSTEM;
    }
    if (p->job->policy->graph == SE_GRAPH_PDG && !o->keyed &&
        se_stitch_check_inputs(p->inputs, p->ninputs, err, sizeof err)) {
        se_error("%s: %s", o->cmd_name, err);
        return SE_EXIT_USAGE;
    }
    if ((!o->output_dir && se_store_check_datasets(o->store_dir, err, sizeof err)) ||
        !(p->st = se_store_open(o->store_dir, o->org, o->sandbox, err, sizeof err)) ||
        se_store_next_id(p->st, &id, err, sizeof err)) {
        se_error("%s", err);
        return SE_EXIT_SYSTEM;
    }
    if (se_store_notice(p->st))
        se_warn("%s", se_store_notice(p->st));
    if (o->output_dir)
        p->output_root = strdup(o->output_dir);
    else if (asprintf(&p->output_root, "%s/datasets", o->store_dir) < 0)
        p->output_root = NULL;
    now = se_now_ms();
    /* Reproducible ids derive from the definition, the scope, the job id and the epoch. */
    if (!p->output_root ||
        asprintf(&p->seed, "%s\n%s\n%s\n%lld\n%lld",
                 json_object_to_json_string_ext(p->job->def, JSON_C_TO_STRING_PLAIN), o->org,
                 o->sandbox, (long long)id, (long long)now) < 0 ||
        se_jobstate_init(&p->js, p->job, id, o->org, now, p->seed)) {
        se_error("out of memory");
        return SE_EXIT_SYSTEM;
    }
    if (o->shard) {
        p->js.shard_k = o->shard_k;
        p->js.shard_n = o->shard_n;
        p->js.max_errors = o->max_errors;
    }
    return 0;
}

int se_cmd_run(const se_opts *o)
{
    struct prepared p;
    int rc = prepare(o, &p);

    if (rc == 0) {
        se_worker_job w = {
            .o = o, .job = p.job, .st = p.st, .js = &p.js, .inputs = p.inputs,
            .ninputs = p.ninputs, .output_root = p.output_root, .segdefs = p.defs,
        };
        rc = se_worker_run(&w, true);
    }
    prepared_free(&p);
    return rc;
}

/* The detached worker: waits for the go pipe to close (the NEW record is then
 * written), sends its stdout to /dev/null and its messages to
 * STORE/jobs/<id>.log, runs the job and exits. */
static void run_worker(const se_opts *o, struct prepared *p, int go_fd, int log_fd)
{
    char buf[1];
    int fd, rc;

    while (read(go_fd, buf, 1) < 0 && errno == EINTR)
        ;
    close(go_fd);
    /* The log (made by create: new, never through a link) becomes stderr. */
    dup2(log_fd, 2);
    close(log_fd);
    /* Let go of every descriptor the caller had open but stdin: a worker that
     * kept the write end of a caller's pipe or FIFO (exec 3>fifo; a CI
     * runner's output pipe) would keep that reader waiting until the job ends,
     * and would itself never see EOF on a FIFO it reads. */
    if (close_range(3, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long i = 3; i < (max > 0 && max < 65536 ? max : 65536); i++)
            close((int)i);
    }
    if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
        dup2(fd, 1);
        close(fd);
    }
    se_worker_job w = {
        .o = o, .job = p->job, .st = p->st, .js = &p->js, .inputs = p->inputs,
        .ninputs = p->ninputs, .output_root = p->output_root, .segdefs = p->defs,
    };
    rc = se_worker_run(&w, false);
    fflush(NULL);
    _exit(rc);
}

/* create: the worker is a fork of this process (it inherits the parsed job and
 * stdin), detached in its own session by a double fork.  The NEW record names
 * the worker's pid before the worker may touch the record: the worker waits
 * until the parent closes the go pipe. */
int se_cmd_create(const se_opts *o)
{
    struct prepared p;
    json_object *out = NULL;
    int pidpipe[2] = { -1, -1 }, gopipe[2] = { -1, -1 };
    char err[1024];
    pid_t mid, worker = 0;
    int log_fd = -1;
    int rc = prepare(o, &p);

    if (rc)
        goto out;
    if ((log_fd = se_store_open_log(p.st, p.js.id, err, sizeof err)) < 0) {
        se_error("%s", err);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (pipe(pidpipe) || pipe(gopipe)) {
        se_error("cannot start a worker: %s", strerror(errno));
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    fflush(NULL);
    mid = fork();
    if (mid < 0) {
        se_error("cannot start a worker: %s", strerror(errno));
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (mid == 0) {
        /* intermediate: new session, then the worker, then gone */
        pid_t wp;
        close(pidpipe[0]);
        close(gopipe[1]);
        /* a cancel that comes before the worker is ready is kept pending, not fatal */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, NULL);
        setsid();
        wp = fork();
        if (wp != 0) {
            ssize_t n = write(pidpipe[1], &wp, sizeof wp);
            _exit(n == (ssize_t)sizeof wp && wp > 0 ? 0 : 1);
        }
        close(pidpipe[1]);
        run_worker(o, &p, gopipe[0], log_fd); /* does not return */
    }
    close(pidpipe[1]);
    close(gopipe[0]);
    pidpipe[1] = gopipe[0] = -1;
    if (read(pidpipe[0], &worker, sizeof worker) != (ssize_t)sizeof worker || worker <= 0) {
        se_error("cannot start a worker");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
    out = se_jobstate_json(&p.js, p.job);
    if (!out || se_store_put_ex(p.st, p.js.id, worker, p.output_root, out, err, sizeof err)) {
        se_error("%s", out ? err : "out of memory");
        kill(worker, SIGKILL);
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    rc = se_print_json(out) ? SE_EXIT_SYSTEM : SE_EXIT_OK;
out:
    if (log_fd >= 0)
        close(log_fd);
    /* closing the go pipe lets the worker start */
    for (int i = 0; i < 2; i++) {
        if (pidpipe[i] >= 0)
            close(pidpipe[i]);
        if (gopipe[i] >= 0)
            close(gopipe[i]);
    }
    json_object_put(out);
    prepared_free(&p);
    return rc;
}
