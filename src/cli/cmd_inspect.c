/* `segexport files`, `cat` and `verify` (SPEC §1): look into a batch archive
 * without knowing its layout, and check one after a transfer.
 *
 * A batch is found by its id under the output root (--output, default
 * STORE/datasets), as ROOT/<datasetId>/<batchId>.<ext>.  An archive holds
 * manifest.json first, then part-00000.json ... in the manifest's order
 * (SPEC §7).  verify reads every member to its end and the compressed stream
 * to its end (so a damaged trailer is caught too), and compares each part's
 * records (newlines), bytes and CRC-32 with the manifest.
 *
 * Exit statuses: files/cat 0, 2 usage (not a batch id), 4 batch or file not
 * found, 1 the archive is damaged (cat may have written rows before it
 * noticed), 5 unreadable; verify 0 when every archive matches, else 1. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <json-c/json.h>
#include "batch.h"
#include "commands.h"
#include "fsutil.h"
#include "jsonscan.h"
#include "msg.h"

#define MANIFEST_MAX (64u << 20)
#define BLOCK (64u << 10)


static char *output_root(const se_opts *o)
{
    return o->output_dir ? se_asprintf("%s", o->output_dir) : se_asprintf("%s/datasets", o->store_dir);
}

/* Finds ROOT/<dataset>/<id>.<ext>.  Returns 0 with *path (malloc'd), or an
 * exit status after printing why. */
static int find_batch(const se_opts *o, const char *id, char **path)
{
    static const se_format fmts[] = { SE_FMT_TAR_GZ, SE_FMT_TAR_ZST, SE_FMT_TAR_XZ, SE_FMT_TAR, SE_FMT_ZIP };
    char *root = output_root(o), *found = NULL;
    DIR *d = NULL;
    struct dirent *de;
    int rc = SE_EXIT_NOT_FOUND, nfound = 0;

    *path = NULL;
    if (!se_batch_id_valid(id)) {
        se_error("%s: '%s' is not a batch id (32 lowercase hex digits)", o->cmd_name, id);
        rc = SE_EXIT_USAGE;
        goto out;
    }
    if (!root) {
        se_error("out of memory");
        rc = SE_EXIT_SYSTEM;
        goto out;
    }
    if (!(d = opendir(root))) {
        se_error("batch %s: not found (%s: %s)", id, root, strerror(errno));
        goto out;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
            struct stat st;
            char *p = se_asprintf("%s/%s/%s.%s", root, de->d_name, id, se_format_ext(fmts[i]));
            if (!p) {
                se_error("out of memory");
                rc = SE_EXIT_SYSTEM;
                goto out;
            }
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                nfound++;
                if (!found || strcmp(p, found) < 0) {
                    free(found);
                    found = p;
                    continue;
                }
            }
            free(p);
        }
    }
    if (nfound == 0) {
        se_error("batch %s: not found under %s", id, root);
    } else if (nfound > 1) {
        se_error("batch %s: %d archives under %s have that id", id, nfound, root);
        rc = SE_EXIT_FAILED;
    } else {
        *path = found;
        found = NULL;
        rc = 0;
    }
out:
    if (d)
        closedir(d);
    free(found);
    free(root);
    return rc;
}

/* ---- reading an archive ------------------------------------------------ */

typedef struct part {
    char *name;
    int64_t records, bytes;
    char crc[9];
} part;

typedef struct arc {
    const char *path;
    struct archive *a;
    json_object *manifest;
    part *parts;
    size_t nparts;
    int64_t record_count;
    char why[1024];           /* what is wrong, naming the member */
} arc;

static void arc_close(arc *r)
{
    if (r->a)
        archive_read_free(r->a);
    json_object_put(r->manifest);
    for (size_t i = 0; i < r->nparts; i++)
        free(r->parts[i].name);
    free(r->parts);
    memset(r, 0, sizeof *r);
}

static int why(arc *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why(arc *r, const char *fmt, ...)
{
    /* One line, whatever the archive's names or libarchive's message hold
     * (libarchive ends some of its messages with a newline). */
    char raw[sizeof r->why];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t n = strlen(raw);
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' '))
        n--;
    se_escape_bytes(r->why, sizeof r->why, raw, n, 0);
    return -1;
}

static bool get_int(json_object *o, const char *k, int64_t *v)
{
    json_object *x;
    if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_int) ||
        json_object_get_int64(x) < 0)
        return false;
    *v = json_object_get_int64(x);
    return true;
}

/* Reads the manifest's file list into r->parts. */
static int load_manifest(arc *r, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *files, *f, *x;
    const char *hz;
    size_t hoff;

    if (!tok)
        return why(r, "out of memory");
    /* What json-c accepts but changes (a lone surrogate made U+FFFD, an
     * integer clamped): a manifest naming "p\udc00" must not vouch for a
     * member named U+FFFD.  segexport never writes either. */
    if (se_json_hazard(text, len, &hz, &hoff)) {
        json_tokener_free(tok);
        return why(r, "manifest.json: malformed JSON: %s", hz);
    }
    r->manifest = json_tokener_parse_ex(tok, text, (int)len);
    json_tokener_free(tok);
    if (!r->manifest || !json_object_is_type(r->manifest, json_type_object))
        return why(r, "manifest.json: not a JSON object");
    if (!get_int(r->manifest, "recordCount", &r->record_count))
        return why(r, "manifest.json: recordCount missing or not a count");
    if (!json_object_object_get_ex(r->manifest, "files", &files) ||
        !json_object_is_type(files, json_type_array))
        return why(r, "manifest.json: files missing or not an array");
    r->nparts = 0;
    if (!(r->parts = calloc(json_object_array_length(files) + 1, sizeof *r->parts)))
        return why(r, "out of memory");
    for (size_t i = 0; i < json_object_array_length(files); i++) {
        part *p = &r->parts[r->nparts];
        const char *s;
        f = json_object_array_get_idx(files, i);
        if (!json_object_is_type(f, json_type_object) ||
            !json_object_object_get_ex(f, "name", &x) || !json_object_is_type(x, json_type_string) ||
            !get_int(f, "records", &p->records) || !get_int(f, "bytes", &p->bytes) ||
            !json_object_object_get_ex(f, "crc32", &f) || !json_object_is_type(f, json_type_string) ||
            strlen(s = json_object_get_string(f)) != 8)
            return why(r, "manifest.json: files[%zu] is not {name, records, bytes, crc32}", i);
        snprintf(p->crc, sizeof p->crc, "%s", s);
        if (!(p->name = strdup(json_object_get_string(x))))
            return why(r, "out of memory");
        r->nparts++;
    }
    return 0;
}

/* libarchive leaves some failures (a cut gzip trailer) without a message. */
/* libarchive's message, on one line: some end with a newline (its zip
 * reader's "wrong size"), which goes; other control bytes are escaped. */
static const char *aerr(struct archive *a)
{
    static char buf[512];
    const char *m = archive_error_string(a);
    size_t n = m ? strlen(m) : 0;

    while (n && (m[n - 1] == '\n' || m[n - 1] == '\r' || m[n - 1] == ' '))
        n--;
    if (!n)
        return "the data ends early or does not match its checksum";
    se_escape_bytes(buf, sizeof buf, m, n, 0);
    return buf;
}

static struct archive *open_reader(const char *path, bool raw)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    archive_read_support_filter_all(a);
    if (raw) {
        archive_read_support_format_raw(a);
    } else {
        archive_read_support_format_tar(a);
        archive_read_support_format_zip(a);
    }
    if (archive_read_open_filename(a, path, BLOCK) != ARCHIVE_OK)
        return a; /* the caller reads the error from a */
    return a;
}

/* Opens path and reads manifest.json, which must come first.  0, or -1 with
 * r->why. */
static int arc_open(arc *r, const char *path)
{
    struct archive_entry *e;
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    memset(r, 0, sizeof *r);
    r->path = path;
    if (!(r->a = open_reader(path, false)))
        return why(r, "out of memory");
    int h = archive_read_next_header(r->a, &e);
    if (h == ARCHIVE_EOF)
        return why(r, "empty archive: no manifest.json");
    if (h < ARCHIVE_WARN)
        return why(r, "damaged, truncated or not an archive (before its first member): %s",
                   aerr(r->a));
    if (strcmp(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", "manifest.json"))
        return why(r, "the first member is %s, not manifest.json",
                    archive_entry_pathname(e) ? archive_entry_pathname(e) : "(no name)");
    for (;;) {
        char buf[BLOCK];
        la_ssize_t n = archive_read_data(r->a, buf, sizeof buf);
        if (n < 0) {
            why(r, "manifest.json: %s", aerr(r->a));
            goto out;
        }
        if (n == 0)
            break;
        if (len + (size_t)n > MANIFEST_MAX) {
            why(r, "manifest.json: larger than %u bytes", MANIFEST_MAX);
            goto out;
        }
        char *t = realloc(text, len + (size_t)n + 1);
        if (!t) {
            why(r, "out of memory");
            goto out;
        }
        text = t;
        memcpy(text + len, buf, (size_t)n);
        len += (size_t)n;
    }
    if (!text) {
        why(r, "manifest.json: empty");
        goto out;
    }
    rc = load_manifest(r, text, len);
out:
    free(text);
    return rc;
}

/* Called with each part's bytes; nonzero stops. */
typedef int (*sink_fn)(const char *buf, size_t n);

/* Reads the next member after the manifest (1), or the end (0), or -1 with
 * r->why.  Its bytes go to sink when sink is not NULL and only is NULL or the
 * member's name; *records, *bytes, *crc are measured. */
static int arc_next(arc *r, const char **name, sink_fn sink, const char *only, int64_t *records,
                    int64_t *bytes, uint32_t *crc)
{
    struct archive_entry *e;
    char buf[BLOCK];
    int h = archive_read_next_header(r->a, &e);

    if (h == ARCHIVE_EOF)
        return 0;
    if (h < ARCHIVE_WARN)
        return why(r, "damaged or truncated archive after the last good member: %s",
                   aerr(r->a));
    *name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "(no name)";
    if (archive_entry_filetype(e) != AE_IFREG)
        return why(r, "%s: not a regular file", *name);
    if (sink && only && strcmp(*name, only))
        sink = NULL;
    *records = *bytes = 0;
    *crc = (uint32_t)crc32(0L, Z_NULL, 0);
    for (;;) {
        la_ssize_t n = archive_read_data(r->a, buf, sizeof buf);
        if (n < 0)
            return why(r, "%s: damaged or truncated: %s", *name, aerr(r->a));
        if (n == 0)
            break;
        *crc = (uint32_t)crc32(*crc, (const Bytef *)buf, (uInt)n);
        *bytes += n;
        for (la_ssize_t i = 0; i < n; i++)
            *records += buf[i] == '\n';
        if (sink && sink(buf, (size_t)n))
            return why(r, "error writing to standard output");
    }
    return 1;
}

/* ---- files ---------------------------------------------------------------- */

int se_cmd_files(const se_opts *o)
{
    char *path = NULL;
    arc r;
    json_object *out = NULL, *files, *v;
    int rc;

    memset(&r, 0, sizeof r);
    if (o->noperands != 1) {
        se_error("files: expected one BATCH_ID (usage: segexport files [OPTIONS] BATCH_ID)");
        return SE_EXIT_USAGE;
    }
    if ((rc = find_batch(o, o->operands[0], &path)))
        return rc;
    if (arc_open(&r, path)) {
        se_error("%s: %s", path, r.why);
        rc = SE_EXIT_FAILED;
        goto out;
    }
    /* The manifest's own fields, in its order, then where the archive is. */
    out = json_object_new_object();
    json_object_object_foreach(r.manifest, k, val) {
        if (strcmp(k, "files") && strcmp(k, "segments") && strcmp(k, "schema"))
            json_object_object_add(out, k, json_object_get(val));
    }
    json_object_object_add(out, "archive", json_object_new_string(path));
    json_object_object_get_ex(r.manifest, "files", &files);
    json_object_object_add(out, "files", json_object_get(files));
    (void)v;
    rc = se_print_json(out) ? SE_EXIT_SYSTEM : SE_EXIT_OK;
out:
    json_object_put(out);
    arc_close(&r);
    free(path);
    return rc;
}

/* ---- cat ------------------------------------------------------------------ */

static int to_stdout(const char *buf, size_t n)
{
    return fwrite(buf, 1, n, stdout) != n;
}

int se_cmd_cat(const se_opts *o)
{
    char *path = NULL;
    const char *want = o->noperands > 1 ? o->operands[1] : NULL, *name;
    arc r;
    int64_t records, bytes;
    uint32_t crc;
    bool listed = false;
    int rc, n;

    memset(&r, 0, sizeof r);
    if (o->noperands < 1 || o->noperands > 2) {
        se_error("cat: expected BATCH_ID [FILE] (usage: segexport cat [OPTIONS] BATCH_ID [FILE])");
        return SE_EXIT_USAGE;
    }
    if ((rc = find_batch(o, o->operands[0], &path)))
        return rc;
    if (arc_open(&r, path)) {
        se_error("%s: %s", path, r.why);
        rc = SE_EXIT_FAILED;
        goto out;
    }
    for (size_t i = 0; want && i < r.nparts; i++)
        listed |= !strcmp(r.parts[i].name, want);
    if (want && !listed) {
        se_error("batch %s has no file '%s' ('segexport files %s' lists them)", o->operands[0],
                 want, o->operands[0]);
        rc = SE_EXIT_NOT_FOUND;
        goto out;
    }
    /* Parts in archive order, which is the manifest's (verify checks that). */
    while ((n = arc_next(&r, &name, to_stdout, want, &records, &bytes, &crc)) > 0)
        if (want && !strcmp(name, want))
            break;
    if (n < 0) {
        se_error("%s: %s", path, r.why);
        rc = strcmp(r.why, "error writing to standard output") ? SE_EXIT_FAILED : SE_EXIT_SYSTEM;
        goto out;
    }
    rc = SE_EXIT_OK;
out:
    arc_close(&r);
    free(path);
    return rc;
}

/* ---- verify --------------------------------------------------------------- */

/* Reads the decompressed stream to its end, so that the compressor's own
 * checks (gzip's CRC and length, xz's and zstd's checksums) run and a
 * truncated tail is seen even where the tar reader stopped early. */
static int read_stream_to_end(arc *r, const char *path)
{
    struct archive *a = open_reader(path, true);
    struct archive_entry *e;
    char buf[BLOCK];
    la_ssize_t n;
    int rc = 0;

    if (!a)
        return why(r, "out of memory");
    if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
        rc = why(r, "compressed stream: %s", aerr(a));
        goto out;
    }
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
        ;
    if (n < 0)
        rc = why(r, "compressed stream damaged or truncated after the last member: %s",
                 aerr(a));
out:
    archive_read_free(a);
    return rc;
}

/* One archive against its manifest.  0 when everything matches, else -1
 * with r->why. */
static int verify_one(arc *r, const char *path, size_t *nfiles, int64_t *nrecords)
{
    const char *name, *base;
    int64_t records, bytes, total = 0;
    uint32_t crc;
    size_t k = 0;
    int n;
    bool compressed;
    json_object *bid;

    if (arc_open(r, path))
        return -1;
    compressed = archive_filter_count(r->a) > 1;
    while ((n = arc_next(r, &name, NULL, NULL, &records, &bytes, &crc)) > 0) {
        char hex[9];
        if (k >= r->nparts) {
            for (size_t i = 0; i < r->nparts; i++)
                if (!strcmp(r->parts[i].name, name))
                    return why(r, "%s: a second member of that name", name);
            return why(r, "%s: not listed in the manifest", name);
        }
        if (strcmp(r->parts[k].name, name)) {
            for (size_t i = k + 1; i < r->nparts; i++)
                if (!strcmp(r->parts[i].name, name))
                    return why(r, "%s: missing or out of place (the manifest lists it before %s)",
                               r->parts[k].name, name);
            return why(r, "%s: not listed in the manifest", name);
        }
        snprintf(hex, sizeof hex, "%08x", crc);
        if (bytes != r->parts[k].bytes)
            return why(r, "%s: %lld bytes, the manifest says %lld", name, (long long)bytes,
                       (long long)r->parts[k].bytes);
        if (records != r->parts[k].records)
            return why(r, "%s: %lld records, the manifest says %lld", name, (long long)records,
                       (long long)r->parts[k].records);
        if (strcmp(hex, r->parts[k].crc))
            return why(r, "%s: CRC-32 %s, the manifest says %s", name, hex, r->parts[k].crc);
        total += records;
        k++;
    }
    if (n < 0)
        return -1;
    if (k < r->nparts)
        return why(r, "%s: listed in the manifest, missing from the archive", r->parts[k].name);
    if (total != r->record_count)
        return why(r, "manifest.json: recordCount %lld, the parts hold %lld",
                   (long long)r->record_count, (long long)total);
    /* An archive renamed to another batch's id is not that batch. */
    base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (json_object_object_get_ex(r->manifest, "batchId", &bid) && strlen(base) > 33 &&
        base[32] == '.') {
        char stem[33];
        memcpy(stem, base, 32);
        stem[32] = '\0';
        if (se_batch_id_valid(stem) && strcmp(stem, json_object_get_string(bid)))
            return why(r, "manifest.json: batchId %s, the archive is named %s",
                        json_object_get_string(bid), base);
    }
    if (compressed && read_stream_to_end(r, path))
        return -1;
    *nfiles = r->nparts;
    *nrecords = total;
    return 0;
}

/* One result line on stdout: "PATH: OK: ..." or "PATH: FAILED: why".  Member
 * names and libarchive's messages come from the archive: escaped like every
 * message (one line, no terminal sequence). */
static void result_line(const char *path, const char *verdict, const char *detail)
{
    char *line = se_asprintf("%s: %s: %s", path, verdict, detail);
    size_t n, need;
    char *esc;

    if (!line)
        return;
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    need = se_escape_bytes(NULL, 0, line, n, 0);
    if ((esc = malloc(need + 1))) {
        se_escape_bytes(esc, need + 1, line, n, 0);
        printf("%s\n", esc);
        free(esc);
    }
    free(line);
}

int se_cmd_verify(const se_opts *o)
{
    int rc = SE_EXIT_OK;
    size_t bad = 0;

    if (o->noperands < 1) {
        se_error("verify: expected ARCHIVE or BATCH_ID (usage: segexport verify [OPTIONS] ARCHIVE|BATCH_ID...)");
        return SE_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->noperands; i++) {
        const char *arg = o->operands[i];
        char *path = NULL;
        struct stat st;
        size_t nfiles = 0;
        int64_t nrecords = 0;
        arc r;

        memset(&r, 0, sizeof r);
        if (stat(arg, &st) == 0 || !se_batch_id_valid(arg)) {
            if (!(path = strdup(arg))) {
                se_error("out of memory");
                return SE_EXIT_SYSTEM;
            }
        } else if (find_batch(o, arg, &path)) {
            result_line(arg, "FAILED", "batch not found");
            bad++;
            continue;
        }
        if (stat(path, &st) != 0) {
            result_line(path, "FAILED", strerror(errno));
            bad++;
        } else if (verify_one(&r, path, &nfiles, &nrecords)) {
            result_line(path, "FAILED", r.why);
            bad++;
        } else if (se_verbosity >= 0) {
            char detail[96];
            snprintf(detail, sizeof detail, "%zu file%s, %lld record%s", nfiles,
                     nfiles == 1 ? "" : "s", (long long)nrecords, nrecords == 1 ? "" : "s");
            result_line(path, "OK", detail);
        }
        fflush(stdout);
        arc_close(&r);
        free(path);
    }
    if (bad) {
        se_error("%zu of %zu archive%s FAILED verification", bad, o->noperands,
                 o->noperands == 1 ? "" : "s");
        rc = SE_EXIT_FAILED;
    }
    return rc;
}
