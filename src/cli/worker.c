/* One job run in this process, with signals turned into a cancellation.
 *
 * SIGINT and SIGTERM are blocked in every thread and taken by a small signal
 * thread (sigwait).  It raises the engine's cancel flag; the engine sees it at
 * the next record and ends the job FAILED, cleanly.  When the engine does not
 * finish within CANCEL_GRACE_MS (blocked in a read of an idle FIFO, say), the
 * signal thread finishes the job itself: it removes the batches' temporary
 * files, records FAILED with the cancellation error and ends the process.  A
 * mutex makes sure exactly one of the two writes the final record. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "batch.h"
#include "commands.h"
#include "errcodes.h"
#include "export.h"
#include "fsutil.h"
#include "msg.h"
#include "progress.h"
#include "stitch.h"
#include "timeutil.h"
#include "worker.h"

#define CANCEL_GRACE_MS 500

static volatile sig_atomic_t cancel_flag;
static volatile sig_atomic_t committing;   /* the engine is putting archives in place */
static const char *cancel_reason = "job cancelled";
static volatile sig_atomic_t cancel_sig;   /* the signal that cancelled the job, or 0 */
static se_pview *pview;
static pthread_mutex_t final_mu = PTHREAD_MUTEX_INITIALIZER;
static bool finalized;

struct sigctx {
    const se_worker_job *w;
    bool print;
    sigset_t set;
};

/* A batch id from a job record names files: only 32 lowercase hex digits do. */
/* The engine's warnings, on stderr (it never prints itself). */
static void show_warning(void *ud, const char *msg)
{
    (void)ud;
    se_warn("%s", msg);
}

static void show_info(void *ud, const char *msg)
{
    (void)ud;
    se_info("%s", msg);
}


/* A dataset id from a job record names a directory under the output root:
 * only what a job definition accepts (SPEC §2), never "..". */
static bool dataset_ok(const char *id)
{
    return id && *id && strlen(id) <= 128 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(id) &&
           strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

void se_worker_cleanup(const char *output_root, json_object *job_json)
{
    json_object *dest, *ds, *v, *batches;
    char *dir = NULL;

    if (!output_root || !json_object_object_get_ex(job_json, "destination", &dest) ||
        !json_object_object_get_ex(dest, "datasetId", &ds) || !dataset_ok(json_object_get_string(ds)) ||
        asprintf(&dir, "%s/%s", output_root, json_object_get_string(ds)) < 0)
        return;
    if (json_object_object_get_ex(dest, "batchId", &v) && se_batch_id_valid(json_object_get_string(v)))
        se_batch_remove_temps(dir, json_object_get_string(v));
    if (json_object_object_get_ex(dest, "batches", &batches) && json_object_is_type(batches, json_type_array))
        for (size_t i = 0; i < json_object_array_length(batches); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(batches, i), "batchId", &v) &&
                se_batch_id_valid(json_object_get_string(v)))
                se_batch_remove_temps(dir, json_object_get_string(v));
    free(dir);
}


static void remove_final(const char *dir, const char *batch_id)
{
    static const se_format fmts[] = {SE_FMT_TAR_GZ, SE_FMT_TAR_ZST, SE_FMT_TAR_XZ, SE_FMT_TAR, SE_FMT_ZIP};
    char *name;
    int dfd;
    if (!se_batch_id_valid(batch_id))
        return;
    /* never through a link planted in place of the dataset directory */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return;
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        if (asprintf(&name, "%s.%s", batch_id, se_format_ext(fmts[i])) < 0)
            break;
        unlinkat(dfd, name, 0);
        free(name);
    }
    close(dfd);
}

void se_worker_remove_archives(const char *output_root, json_object *job_json)
{
    json_object *dest, *ds, *v, *batches;
    const char *id;
    char *dir = NULL;

    if (!output_root || !json_object_object_get_ex(job_json, "destination", &dest) ||
        !json_object_object_get_ex(dest, "datasetId", &ds) || !(id = json_object_get_string(ds)) ||
        !dataset_ok(id) || asprintf(&dir, "%s/%s", output_root, id) < 0)
        return;
    if (json_object_object_get_ex(dest, "batchId", &v))
        remove_final(dir, json_object_get_string(v));
    if (json_object_object_get_ex(dest, "batches", &batches) && json_object_is_type(batches, json_type_array))
        for (size_t i = 0; i < json_object_array_length(batches); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(batches, i), "batchId", &v))
                remove_final(dir, json_object_get_string(v));
    free(dir);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* The forced end of a job whose engine is stuck: built from the job's
 * PROCESSING state (never from the engine's live state, which the blocked
 * thread owns). */
static void force_cancel(const se_worker_job *w, bool print)
{
    se_jobstate js = *w->js; /* ids, times, scope: fixed since the start */
    json_object *out;
    char err[512];

    js.errors = json_object_new_array();
    js.ns_counter = json_object_new_object();
    js.errors_dropped = 0;
    js.status = "FAILED";
    js.finished = true;
    js.export_start_ms = js.creation_ms;
    js.export_end_ms = js.update_ms = se_now_ms();
    se_jobstate_error(&js, SE_EC_CANCELLED, cancel_reason, "segexport");
    /* No thread of this process makes another temporary file from here on,
     * so the sweep sees all of them. */
    se_tmp_freeze();
    se_worker_cleanup(w->output_root, (out = se_jobstate_json(&js, w->job)));
    /* The engine may have begun renaming archives into place just as this
     * began: those it renamed go too, and no other after the freeze. */
    se_tmp_remove_committed();
    if (out && se_store_put_ex(w->st, js.id, 0, w->output_root, out, err, sizeof err))
        se_error("%s", err);
    se_error("job %lld FAILED: %s", (long long)js.id, cancel_reason);
    if (print && out)
        se_print_json(out);
    fflush(stdout);
    _exit(128 + cancel_sig);
}

static void *signal_thread(void *arg)
{
    struct sigctx *sc = arg;
    int sig;

    for (;;) {
        if (sigwait(&sc->set, &sig) != 0)
            continue;
        if (sig == SIGUSR1) /* the job is over: quit */
            return NULL;
        cancel_reason = sig == SIGINT ? "job cancelled (SIGINT)" : "job cancelled";
        if (sig == SIGINT)
            se_pview_interrupt(pview); /* the terminal's ^C is on the current line */
        cancel_sig = sig;
        cancel_flag = 1;
        for (int waited = 0; waited < CANCEL_GRACE_MS; waited += 50) {
            sleep_ms(50);
            pthread_mutex_lock(&final_mu);
            bool done = finalized;
            pthread_mutex_unlock(&final_mu);
            if (done)
                return NULL;
        }
        /* Archives going into place: the engine finishes (and records) the
         * job itself, soon; forcing now could leave a committed archive
         * under a FAILED job. */
        while (committing) {
            pthread_mutex_lock(&final_mu);
            bool done = finalized;
            pthread_mutex_unlock(&final_mu);
            if (done)
                return NULL;
            sleep_ms(50);
        }
        pthread_mutex_lock(&final_mu);
        if (finalized) {
            pthread_mutex_unlock(&final_mu);
            return NULL;
        }
        force_cancel(sc->w, sc->print); /* does not return */
    }
}

int se_worker_run(const se_worker_job *w, bool print)
{
    struct sigctx sc = { .w = w, .print = print };
    pthread_t thr;
    bool have_thr = false;
    json_object *out = NULL;
    char err[1024], why[1024];
    int rc;

    sigemptyset(&sc.set);
    sigaddset(&sc.set, SIGINT);
    sigaddset(&sc.set, SIGTERM);
    sigaddset(&sc.set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
    pview = se_pview_new(w->o, w->js->id, w->inputs, w->ninputs);
    have_thr = pthread_create(&thr, NULL, signal_thread, &sc) == 0;

    w->js->status = "PROCESSING";
    w->js->started = true;
    se_jobstate_new_uuid(w->js, w->js->gateway_id);
    out = se_jobstate_json(w->js, w->job);
    if (!out || se_store_put_ex(w->st, w->js->id, getpid(), w->output_root, out, err, sizeof err))
        se_warn("%s", out ? err : "out of memory");
    json_object_put(out);

    se_export_params ep = {
        .o = se_export_limits_of(w->o), .job = w->job, .js = w->js, .inputs = w->inputs, .ninputs = w->ninputs,
        .output_root = w->output_root, .cancel = &cancel_flag, .cancel_reason = &cancel_reason,
        .on_progress = se_pview_update, .progress_ud = pview,
        .segdefs = w->segdefs, .committing = &committing,
        .on_warning = show_warning, .on_info = show_info,
        /* SEGEXPORT_TREE_PATH=1: every profile through json-c trees. */
        .tree_path = getenv("SEGEXPORT_TREE_PATH") && *getenv("SEGEXPORT_TREE_PATH"),
    };
    /* identityGraph pdg over files: stitched first (--keyed input is already). */
    bool stitch = w->job->policy && w->job->policy->graph == SE_GRAPH_PDG && !w->o->keyed;
    *why = '\0';
    rc = (w->execute ? w->execute(&ep, w->execute_ud, why, sizeof why)
          : stitch ? se_stitch_execute(&ep, why, sizeof why) : se_export_execute(&ep, why, sizeof why))
         ? SE_EXIT_FAILED : SE_EXIT_OK;

    pthread_mutex_lock(&final_mu);
    /* The final record decides.  A cancel that came before it wins, even
     * while the archives went into place: they are taken back and the job
     * ends FAILED.  One that comes after finds the job finished (cancel then
     * treats it as a finished job: SPEC §10). */
    finalized = true;
    if (!rc && cancel_flag) {
        se_tmp_remove_committed(); /* exactly the archives this job put in place */
        w->js->status = "FAILED";
        se_jobstate_error(w->js, SE_EC_CANCELLED, cancel_reason, "segexport");
        snprintf(why, sizeof why, "%s", cancel_reason);
        rc = SE_EXIT_FAILED;
    }
    if (rc && cancel_flag && cancel_sig)
        rc = 128 + cancel_sig; /* SPEC §11: 130 for SIGINT, 143 for SIGTERM */
    out = se_jobstate_json(w->js, w->job);
    /* Whatever a stopped batch left under a temporary name goes. */
    se_worker_cleanup(w->output_root, out);
    if (!out || se_store_put_ex(w->st, w->js->id, 0, w->output_root, out, err, sizeof err)) {
        /* The archives may be in place, but the store cannot say so: not a success. */
        se_error("job %lld: its final record could not be written: %s", (long long)w->js->id,
                 out ? err : "out of memory");
        rc = SE_EXIT_FAILED;
    }
    pthread_mutex_unlock(&final_mu);

    if (have_thr) {
        pthread_kill(thr, SIGUSR1);
        pthread_join(thr, NULL);
    }
    /* "done" only now: the archives are in place and the record says so. */
    se_pview_counts(pview, w->js->input_records, w->js->profiles, w->js->exported);
    se_pview_end(pview, rc == SE_EXIT_OK);
    if (rc && *why)
        se_error("job %lld FAILED: %s", (long long)w->js->id, why);
    se_pview_free(pview);
    pview = NULL;
    if (print && out && se_print_json(out))
        rc = rc ? rc : SE_EXIT_SYSTEM;
    json_object_put(out);
    return rc;
}
