/* `segexport merge`: writing the merged batches.
 *
 * Batch i of the merged job holds batch i of every shard, shards in
 * command-line order, each shard's parts in order.  Three ways, per shard
 * archive:
 *
 * - copied through (--format tar.gz or zip, no --level, a shard tar.gz or
 *   zip as segexport writes them): its parts go into the merged archive as
 *   they are, their deflate data copied, renumbered (cmd_merge_scan.c finds
 *   and checks them; batch.c's se_batch_add_deflated takes them).  Nothing
 *   is deflated again but the tar headers and the manifest.
 * - deflated anew (--format tar.gz or zip, any other shard archive, or
 *   --level given): its parts are deflated on the scan threads
 *   (cmd_merge_deflate.c), then copied in the same way: every core compresses.
 * - row by row (--format tar, tar.zst, tar.xz; a part longer than
 *   --rows-per-file; an archive the others cannot take, which this way also
 *   says what is wrong with it): every row is read and written again, re-cut
 *   into parts of --rows-per-file, compressed beside the reading on
 *   gzspool's threads (one per core).
 *
 * The first two keep the shards' parts as parts (each at most
 * --rows-per-file rows).  Their work runs on every core, one archive per
 * thread, ahead of the writing, which takes the archives in order.
 *
 * Archives are written under temporary names and committed only when every one
 * is complete (se_batch_*): all or nothing, as in run. */
#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "cmd_merge.h"
#include "errcodes.h"
#include "msg.h"

#define MANIFEST_MAX_BYTES (64u << 20)
#define CHUNK 65536

/* Appends n bytes to the line buffer.  0, or -1 when out of memory (or past
 * limit, for a manifest). */
static int append(merge *m, const char *p, size_t n, size_t limit)
{
    if (m->line_len + n + 1 > m->line_cap) {
        size_t cap = (m->line_len + n + 1) * 2;
        char *nb;
        if (cap > limit * 2 || !(nb = realloc(m->line, cap)))
            return -1;
        m->line = nb;
        m->line_cap = cap;
    }
    memcpy(m->line + m->line_len, p, n);
    m->line_len += n;
    m->line[m->line_len] = '\0';
    return 0;
}

/* Reads the current entry (the manifest) whole into the line buffer; parses it. */
static json_object *read_manifest(merge *m, struct archive *a)
{
    la_ssize_t r;

    m->line_len = 0;
    while ((r = archive_read_data(a, m->chunk, CHUNK)) > 0)
        if (append(m, m->chunk, (size_t)r, MANIFEST_MAX_BYTES))
            return NULL;
    return r < 0 || !m->line ? NULL : json_tokener_parse(m->line);
}

/* Streams a part's rows (lines; blank ones are not rows) into batch bi; *crc
 * gets the part's CRC-32.  0, or -1: the job failed, or (message not set yet)
 * the archive could not be read. */
static int copy_part(merge *m, struct archive *a, size_t bi, uint64_t *rows, uLong *crc)
{
    char err[1024];
    la_ssize_t r = 1;

    m->line_len = 0;
    *crc = crc32(0L, Z_NULL, 0);
    while (r > 0 && (r = archive_read_data(a, m->chunk, CHUNK)) >= 0) {
        const char *p = m->chunk, *end = p + r, *nl, *row;
        if (mg_cancelled(m)) {
            mg_fail(m, SE_EC_CANCELLED, "%s", mg_cancel_reason(m));
            return -1;
        }
        *crc = crc32(*crc, (const Bytef *)p, (uInt)r);
        while (p < end || (r == 0 && m->line_len)) {
            size_t n;
            if (!(nl = memchr(p, '\n', (size_t)(end - p))) && r > 0) {
                if (append(m, p, (size_t)(end - p), SIZE_MAX / 4))
                    goto oom;
                break; /* the row goes on in the next chunk */
            }
            n = nl ? (size_t)(nl - p) : 0;
            row = p;
            if (m->line_len) { /* the end of a row begun in an earlier chunk */
                if (append(m, p, n, SIZE_MAX / 4))
                    goto oom;
                row = m->line;
                n = m->line_len;
                m->line_len = 0;
            }
            if (n && se_batch_add(m->batches[bi], row, n, err, sizeof err)) {
                mg_fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
                return -1;
            }
            *rows += n > 0;
            p = nl ? nl + 1 : end;
        }
    }
    return r < 0 ? -1 : 0;
oom:
    mg_fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    return -1;
}

/* Copies the rows of shard s's batch bi into the merged batch bi, checking the
 * archive against its manifest: the batch id, each part's name, row count and
 * CRC-32, and the total row count. */
static void copy_batch(merge *m, shard *s, size_t bi)
{
    const char *path = s->paths[bi];
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    json_object *man = NULL, *files = NULL;
    uint64_t total = 0;
    size_t nparts = 0;
    int r = ARCHIVE_FATAL;

    if (!a) {
        mg_fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, CHUNK) != ARCHIVE_OK)
        goto bad;
    while (!m->failed && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        json_object *f;
        uint64_t rows = 0;
        uLong crc;
        char hex[9];

        if (!man) {
            man = strcmp(name, "manifest.json") ? NULL : read_manifest(m, a);
            files = mg_get(man, "files");
            if (!json_object_is_type(files, json_type_array) ||
                strcmp(mg_str(man, "batchId"), s->batch_ids[bi])) {
                mg_fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: no manifest.json of batch %s first",
                     s->name, path, s->batch_ids[bi]);
                break;
            }
            continue;
        }
        f = json_object_array_get_idx(files, nparts++);
        if (!f || strcmp(name, mg_str(f, "name"))) {
            mg_fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: entry %s is not in its manifest",
                 s->name, path, name);
            break;
        }
        if (copy_part(m, a, bi, &rows, &crc)) {
            r = ARCHIVE_FATAL;
            break;
        }
        snprintf(hex, sizeof hex, "%08lx", (unsigned long)crc);
        if (rows != (uint64_t)json_object_get_int64(mg_get(f, "records")) ||
            strcmp(hex, mg_str(f, "crc32"))) {
            mg_fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: %s does not match its manifest",
                 s->name, path, name);
            break;
        }
        total += rows;
    }
    if (!m->failed && r == ARCHIVE_EOF) {
        if (!man || nparts != json_object_array_length(files) ||
            total != (uint64_t)json_object_get_int64(mg_get(man, "recordCount")))
            mg_fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: rows do not match its manifest",
                 s->name, path);
        s->rows += total;
        goto done;
    }
bad:
    if (!m->failed)
        mg_fail(m, SE_EC_INPUT_READ, "Error reading shard %s: %s: %s", s->name, path,
             archive_error_string(a) ? archive_error_string(a) : "unreadable archive");
done:
    json_object_put(man);
    archive_read_free(a);
}

/* The merged archives are compressed on every core (at least two, at most
 * eight): a merge's work is mostly compression. */
static int compress_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 8 ? 8 : (int)n;
}

/* ---- the scans, on every core, ahead of the writing ---- */

typedef struct scanpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mg_scan *items;              /* batch-major: items[b * nsh + s] */
    bool *done;
    size_t n, next;
    pthread_t th[8];
    int nth;
    volatile sig_atomic_t stop;  /* the merge failed: no more scans */
} scanpool;

/* Copied through when it can be, else deflated here when it can be. */
static void scan_one(mg_scan *sc)
{
    sc->status = MG_SCAN_ROWS;
    if (sc->try_scan)
        mg_scan_run(sc);
    if (sc->status == MG_SCAN_ROWS && sc->try_deflate)
        mg_scan_deflate(sc);
}

static void *scanner(void *arg)
{
    scanpool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next < p->n && !p->stop ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (i == p->n)
            return NULL;
        scan_one(&p->items[i]);
        pthread_mutex_lock(&p->mu);
        p->done[i] = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Starts the scans of every shard archive.  false when out of memory (the
 * caller then reads every archive row by row). */
static bool pool_start(merge *m, scanpool *p)
{
    memset(p, 0, sizeof *p);
    p->n = m->nbatches * m->nsh;
    if (!(p->items = calloc(p->n, sizeof *p->items)) || !(p->done = calloc(p->n, sizeof *p->done))) {
        free(p->items);
        free(p->done);
        return false;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t b = 0; b < m->nbatches; b++)
        for (size_t s = 0; s < m->nsh; s++) {
            mg_scan *sc = &p->items[b * m->nsh + s];
            sc->path = m->sh[s].paths[b];
            sc->batch_id = m->sh[s].batch_ids[b];
            size_t len = strlen(sc->path);
            sc->cancel = m->ep ? m->ep->cancel : NULL;
            sc->stop = &p->stop;
            /* the shard's deflate data as it is, unless another level is asked for */
            sc->try_scan = m->o->level == -1 &&
                           ((len > 7 && !strcmp(sc->path + len - 7, ".tar.gz")) ||
                            (len > 4 && !strcmp(sc->path + len - 4, ".zip")));
            sc->try_deflate = true;
            sc->dir = m->dir;
            sc->tmp_id = m->js.batch_ids[b];
            sc->level = m->o->level == -1 ? 6 : m->o->level; /* gzip's and zip's default */
            sc->rpf = m->o->rows_per_file;
        }
    int want = compress_threads();
    for (; p->nth < want && (size_t)p->nth < p->n; p->nth++)
        if (pthread_create(&p->th[p->nth], NULL, scanner, p) != 0)
            break;
    if (p->nth == 0) /* no thread: scan here, each when its turn comes */
        p->next = p->n;
    return true;
}

/* The scan of item i, waited for (or done here when no thread took it). */
static mg_scan *pool_get(scanpool *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    while (!p->done[i] && p->nth)
        pthread_cond_wait(&p->cv, &p->mu);
    bool here = !p->done[i];
    pthread_mutex_unlock(&p->mu);
    if (here)
        scan_one(&p->items[i]);
    return &p->items[i];
}

static void pool_end(scanpool *p)
{
    p->stop = 1;
    for (int i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    for (size_t i = 0; i < p->n; i++)
        mg_scan_free(&p->items[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->items);
    free(p->done);
}

/* Copies a scanned archive's parts through; false when it must be read row
 * by row instead (a part longer than --rows-per-file, a scan that failed). */
static bool copy_through(merge *m, shard *s, size_t bi, const mg_scan *sc)
{
    char err[1024];

    if (sc->status != MG_SCAN_COPY)
        return false;
    for (size_t k = 0; k < sc->nparts; k++)
        if (sc->parts[k].records > m->o->rows_per_file)
            return false;
    for (size_t k = 0; k < sc->nparts && !m->failed; k++) {
        const mg_part *pt = &sc->parts[k];
        if (se_batch_add_deflated(m->batches[bi], sc->map + pt->off, (size_t)pt->clen, pt->bytes,
                                  pt->crc, pt->records, err, sizeof err))
            mg_fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    }
    s->rows += sc->rows;
    return true;
}

static void progress(merge *m, se_prog_phase phase, size_t batch)
{
    if (m->ep && m->ep->on_progress) {
        se_export_progress p = { .phase = phase, .batch = batch, .nbatches = m->nbatches,
                                 .rows = m->js.exported };
        m->ep->on_progress(m->ep->progress_ud, &p);
    }
}

/* Tests (tests/cli/cases/shardmerge-cancel): SEGEXPORT_MERGE_HOLD=FILE holds
 * the finished archives under their temporary names while FILE exists, so
 * that a signal finds the merge in the middle of its work. */
static void hold(merge *m)
{
    const char *f = getenv("SEGEXPORT_MERGE_HOLD");
    struct stat st;
    struct timespec ts = { 0, 10 * 1000000L };

    while (f && *f && !m->failed && !mg_cancelled(m) && stat(f, &st) == 0)
        nanosleep(&ts, NULL);
}

void mg_write_batches(merge *m)
{
    char err[1024];
    scanpool pool;
    bool copy = m->o->format == SE_FMT_TAR_GZ || m->o->format == SE_FMT_ZIP;

    if (!(m->batches = calloc(m->nbatches, sizeof *m->batches)) || !(m->chunk = malloc(CHUNK))) {
        mg_fail(m, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
        return;
    }
    if (copy)
        copy = pool_start(m, &pool);
    for (size_t i = 0; i < m->nbatches && !m->failed; i++) {
        json_object *segs = se_jobstate_batch_segments(m->job, i);
        se_batch_info bi = {
            .batch_id = m->js.batch_ids[i], .dataset_id = m->job->dataset_id, .job_id = m->js.id,
            .schema_name = m->job->schema_name, .segments = segs,
        };
        progress(m, SE_PROG_WRITE, i);
        m->batches[i] = se_batch_new(m->dir, &bi, m->o->format, m->o->level, m->o->rows_per_file,
                                     m->js.creation_ms / 1000, err, sizeof err);
        json_object_put(segs);
        if (!m->batches[i]) {
            mg_fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            break;
        }
        size_t n[2] = { 0, 0 }, parts[2] = { 0, 0 }; /* copied through, deflated here */
        for (size_t s = 0; s < m->nsh && !m->failed && !mg_cancelled(m); s++) {
            mg_scan *sc = copy ? pool_get(&pool, i * m->nsh + s) : NULL;
            if (sc && sc->status == MG_SCAN_CANCELLED) {
                mg_scan_free(sc);
                continue; /* (the loop ends: cancelled) */
            }
            if (sc && copy_through(m, &m->sh[s], i, sc)) {
                n[sc->deflated]++;
                parts[sc->deflated] += sc->nparts;
            } else {
                copy_batch(m, &m->sh[s], i);
            }
            if (sc)
                mg_scan_free(sc); /* its data is in the spool now */
        }
        if (!m->failed)
            se_info("batch %s: archives copied through %zu (%zu part%s), deflated anew %zu (%zu part%s), "
                    "read row by row %zu", m->js.batch_ids[i], n[0], parts[0], parts[0] == 1 ? "" : "s",
                    n[1], parts[1], parts[1] == 1 ? "" : "s", m->nsh - n[0] - n[1]);
        m->js.exported += se_batch_records(m->batches[i]);
    }
    if (copy)
        pool_end(&pool);
    if (!m->failed && mg_cancelled(m))
        mg_fail(m, SE_EC_CANCELLED, "%s", mg_cancel_reason(m));
    for (size_t s = 0; s < m->nsh && !m->failed; s++)
        if (m->sh[s].rows != mg_metric(m->sh[s].res, "totalExportedProfileCounter"))
            mg_fail(m, SE_EC_INPUT_READ,
                    "Error reading shard %s: its archives hold %llu rows, its totalExportedProfileCounter is %llu",
                    m->sh[s].name, (unsigned long long)m->sh[s].rows,
                    (unsigned long long)mg_metric(m->sh[s].res, "totalExportedProfileCounter"));
    for (size_t i = 0; i < m->nbatches && !m->failed; i++)
        if (se_batch_finish(m->batches[i], err, sizeof err))
            mg_fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    hold(m);
    /* From here a cancellation waits for the end (worker.c): the archives
     * go into place, or the job fails on its own. */
    if (m->ep && m->ep->committing)
        *m->ep->committing = 1;
    if (!m->failed && mg_cancelled(m))
        mg_fail(m, SE_EC_CANCELLED, "%s", mg_cancel_reason(m));
    if (!m->failed)
        progress(m, SE_PROG_COMMIT, 0);
    for (size_t i = 0; i < m->nbatches && !m->failed; i++)
        if (se_batch_commit(m->batches[i], err, sizeof err))
            mg_fail(m, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    for (size_t i = 0; i < m->nbatches && m->failed; i++)
        if (m->batches[i] && se_batch_rollback(m->batches[i], err, sizeof err))
            se_warn("%s", err);
    for (size_t i = 0; i < m->nbatches && !m->failed && m->ep && m->ep->on_progress; i++) {
        se_export_progress p = { .phase = SE_PROG_ARCHIVE, .batch = i, .nbatches = m->nbatches,
                                 .path = se_batch_final_path(m->batches[i]),
                                 .archive_rows = se_batch_records(m->batches[i]) };
        struct stat st;
        if (stat(p.path, &st) == 0)
            p.archive_bytes = (uint64_t)st.st_size;
        m->ep->on_progress(m->ep->progress_ud, &p);
    }
}
