/* Batch archives (SPEC §7): rows are spooled to an unlinked temporary file,
 * then written as manifest.json + part-NNNNN.json entries into an archive under
 * a temporary name, which se_batch_commit renames into place.
 *
 * Why a spool: the manifest must come first in the archive but it lists every
 * part's size and CRC, which are known only once all rows are in.  The spool is
 * unlinked right after creation so a crash or kill never leaves it behind.
 * For tar.gz, tar.zst, tar.xz and zip the spool holds the rows already
 * compressed, in independent segments, by background threads while the job
 * runs (gzspool.c); finish then only assembles (gzspool.c, zipspool.c).  Plain
 * tar spools raw rows and writes them in finish, through libarchive.
 *
 * Reproducibility: entries carry fixed metadata (mode 0644, uid/gid 0, no
 * user/group names, mtime = the caller's mtime_s), gzip omits its timestamp,
 * and the last block is not padded, so identical inputs give identical bytes
 * (zip's MS-DOS times are UTC: zipspool.c converts with gmtime_r). */
#include "batch.h"
#include "fsutil.h"
#include "gzspool.h"
#include "zipspool.h"
#include "jsonscan.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#define SPOOL_BUF (1u << 20) /* 1 MiB: few syscalls, bounded memory */

/* Format defaults, matching libarchive's own defaults for these filters
 * (gzip 6, zstd 3, xz 6); zip uses zlib's default (6). */
#define DEF_GZIP 6
#define DEF_ZSTD 3
#define DEF_XZ   6
#define DEF_ZIP  6

typedef struct part {
    uint64_t off;     /* start offset in the spool */
    uint64_t bytes;   /* including newlines */
    uint64_t records;
    uint32_t crc;     /* zlib crc32 of those bytes */
} part;

struct se_batch {
    char *dir;
    char *batch_id, *dataset_id, *schema_name;
    int64_t job_id;
    json_object *segments;   /* deep copy, owned */
    se_format fmt;
    int level;               /* resolved: never -1 */
    uint64_t rows_per_file;
    int64_t mtime_s;

    int spool_fd;
    se_gzs *gz;              /* tar.gz: rows compressed while they come (gzspool.h) */
    char *buf;               /* SPOOL_BUF bytes, pending writes to the spool (not for gz) */
    size_t buf_len;
    uint64_t spool_size;     /* bytes handed to the spool (flushed or buffered) */

    part *parts;
    size_t nparts, cap_parts;
    uint64_t records;

    int sealed;              /* the last part came compressed (se_batch_add_deflated): rows start a new one */

    char *tmp_path;          /* archive under its temporary name */
    char *final_path;
    /* The dataset directory, held open from the start: every name below is
     * made, renamed and removed relative to it, so a link swapped in for the
     * directory while the job runs is never gone through. */
    int dfd;
    const char *tmp_name, *final_name; /* the last components of tmp_path, final_path */
    int tmp_exists;          /* tmp_path is on disk and ours to remove */
    int finished, committed;
};

static const char *const fmt_ext[] = { "tar.gz", "tar.zst", "tar.xz", "tar", "zip" };

int se_format_parse(const char *s, se_format *fmt)
{
    for (size_t i = 0; i < sizeof fmt_ext / sizeof fmt_ext[0]; i++) {
        if (s && strcmp(s, fmt_ext[i]) == 0) {
            *fmt = (se_format)i;
            return 0;
        }
    }
    return -1;
}

const char *se_format_ext(se_format fmt)
{
    if ((unsigned)fmt >= sizeof fmt_ext / sizeof fmt_ext[0])
        return "?";
    return fmt_ext[fmt];
}

/* -1 is "the format's default" and is accepted for every format, so callers may
 * pass an unset level through unchanged. */
int se_format_check_level(se_format fmt, int level, char *err, size_t errlen)
{
    int lo, hi;

    if (level == -1)
        return 0;
    switch (fmt) {
    case SE_FMT_TAR:
        snprintf(err, errlen, "--level %d: tar takes no compression level", level);
        return -1;
    case SE_FMT_TAR_ZST: lo = 1; hi = 19; break;
    case SE_FMT_TAR_GZ: case SE_FMT_TAR_XZ: case SE_FMT_ZIP: lo = 0; hi = 9; break;
    default:
        snprintf(err, errlen, "unknown archive format");
        return -1;
    }
    if (level < lo || level > hi) {
        snprintf(err, errlen, "--level %d: %s takes %d-%d", level, se_format_ext(fmt), lo, hi);
        return -1;
    }
    return 0;
}

static int default_level(se_format fmt)
{
    switch (fmt) {
    case SE_FMT_TAR_GZ: return DEF_GZIP;
    case SE_FMT_TAR_ZST: return DEF_ZSTD;
    case SE_FMT_TAR_XZ: return DEF_XZ;
    case SE_FMT_ZIP: return DEF_ZIP;
    default: return -1;
    }
}

bool se_batch_id_valid(const char *s)
{
    size_t n = 0;

    if (!s)
        return false;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 32;
}

/* Formats whose rows are compressed while the job runs (gzspool.h): all but
 * plain tar. */
static int streamed(se_format fmt)
{
    return fmt != SE_FMT_TAR;
}

static se_gz_codec codec_of(se_format fmt)
{
    return fmt == SE_FMT_TAR_ZST ? SE_GZC_ZSTD : fmt == SE_FMT_TAR_XZ ? SE_GZC_XZ : SE_GZC_DEFLATE;
}

se_batch *se_batch_new(const char *dir, const se_batch_info *info, se_format fmt,
                       int level, uint64_t rows_per_file, int64_t mtime_s,
                       char *err, size_t errlen)
{
    se_batch *b = NULL;
    char *spool = NULL;
    const char *ext = se_format_ext(fmt);

    if (!dir || !*dir || !info || !info->dataset_id || !info->schema_name) {
        snprintf(err, errlen, "batch: missing directory or batch information");
        return NULL;
    }
    /* The batch id becomes a file name: refuse anything that could escape dir. */
    if (!se_batch_id_valid(info->batch_id)) {
        snprintf(err, errlen, "batch: invalid batchId (want 32 lowercase hex digits)");
        return NULL;
    }
    if (se_format_check_level(fmt, level, err, errlen) != 0)
        return NULL;
    if (rows_per_file == 0) {
        snprintf(err, errlen, "batch: rows per file must be at least 1");
        return NULL;
    }
    if (info->segments && !json_object_is_type(info->segments, json_type_array)) {
        snprintf(err, errlen, "batch: segments is not an array");
        return NULL;
    }
    if (se_mkdir_p(dir, err, errlen) != 0)
        return NULL;

    b = calloc(1, sizeof *b);
    if (!b)
        goto nomem;
    b->spool_fd = -1;
    /* dir's last component is OUTPUT/<datasetId>, named by the job: it must
     * be a real directory, so archives never land elsewhere through a link
     * planted there (OUTPUT itself may be a link: the user's choice). */
    b->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (b->dfd < 0) {
        struct stat lst;
        int e = errno;
        snprintf(err, errlen, "%s: %s", dir,
                 lstat(dir, &lst) == 0 && S_ISLNK(lst.st_mode)
                 ? "is a symbolic link (a dataset directory must be a real directory)" : strerror(e));
        goto fail;
    }
    b->fmt = fmt;
    b->level = level == -1 ? default_level(fmt) : level;
    b->rows_per_file = rows_per_file;
    b->mtime_s = mtime_s;
    b->job_id = info->job_id;
    b->dir = strdup(dir);
    b->batch_id = strdup(info->batch_id);
    b->dataset_id = strdup(info->dataset_id);
    b->schema_name = strdup(info->schema_name);
    b->buf = streamed(fmt) ? NULL : malloc(SPOOL_BUF);
    b->tmp_path = se_asprintf("%s/.%s.%s.tmp-XXXXXX", dir, info->batch_id, ext);
    b->final_path = se_asprintf("%s/%s.%s", dir, info->batch_id, ext);
    spool = se_asprintf("%s/.%s.spool-XXXXXX", dir, info->batch_id);
    if (!b->dir || !b->batch_id || !b->dataset_id || !b->schema_name || (!b->buf && !streamed(fmt)) ||
        !b->tmp_path || !b->final_path || !spool)
        goto nomem;
    b->tmp_name = strrchr(b->tmp_path, '/') + 1;
    b->final_name = strrchr(b->final_path, '/') + 1;
    if (info->segments) {
        if (json_object_deep_copy(info->segments, &b->segments, NULL) != 0)
            goto nomem;
    } else if (!(b->segments = json_object_new_array())) {
        goto nomem;
    }

    /* Unlinked at once, under the temporary-file lock, so the forced end of
     * a cancelled job (se_tmp_freeze, then a sweep) never comes between the
     * two: the spool lives only as long as the descriptor. */
    se_tmp_lock();
    b->spool_fd = se_create_unique_at(b->dfd, strrchr(spool, '/') + 1, O_RDWR, 0600);
    if (b->spool_fd < 0 || unlinkat(b->dfd, strrchr(spool, '/') + 1, 0) != 0) {
        snprintf(err, errlen, "%s: %s", spool, strerror(errno));
        se_tmp_unlock();
        goto fail;
    }
    se_tmp_unlock();
    if (streamed(fmt) && !(b->gz = se_gzs_new(b->spool_fd, codec_of(fmt), b->level)))
        goto nomem;
    free(spool);
    return b;

nomem:
    snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
fail:
    free(spool);
    se_batch_free(b);
    return NULL;
}

static int spool_flush(se_batch *b, char *err, size_t errlen)
{
    if (b->buf_len && se_write_all(b->spool_fd, b->buf, b->buf_len) != 0) {
        snprintf(err, errlen, "%s: spool: %s", b->dir, strerror(errno));
        return -1;
    }
    b->buf_len = 0;
    return 0;
}

static int spool_put(se_batch *b, const char *p, size_t n, char *err, size_t errlen)
{
    if (b->gz) {
        char why[256];
        if (se_gzs_write(b->gz, p, n, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: %s", b->dir, why);
            return -1;
        }
        b->spool_size += n;
        return 0;
    }
    if (b->buf_len + n > SPOOL_BUF) {
        if (spool_flush(b, err, errlen) != 0)
            return -1;
        /* Larger than the buffer: write through. */
        if (n > SPOOL_BUF) {
            if (se_write_all(b->spool_fd, p, n) != 0) {
                snprintf(err, errlen, "%s: spool: %s", b->dir, strerror(errno));
                return -1;
            }
            b->spool_size += n;
            return 0;
        }
    }
    memcpy(b->buf + b->buf_len, p, n);
    b->buf_len += n;
    b->spool_size += n;
    return 0;
}

static int se_gz_part_begin(se_batch *b, char *err, size_t errlen)
{
    char why[256];

    if (se_gzs_part(b->gz, b->nparts, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", b->dir, why);
        return -1;
    }
    return 0;
}

int se_batch_add(se_batch *b, const char *row, size_t len, char *err, size_t errlen)
{
    part *pt;

    if (b->finished) {
        snprintf(err, errlen, "%s: batch already finished", b->final_path);
        return -1;
    }
    if (b->nparts == 0 || b->parts[b->nparts - 1].records >= b->rows_per_file || b->sealed) {
        b->sealed = 0;
        if (b->nparts == b->cap_parts) {
            size_t cap = b->cap_parts ? b->cap_parts * 2 : 16;
            part *np = realloc(b->parts, cap * sizeof *np);
            if (!np) {
                snprintf(err, errlen, "%s: %s", b->final_path, strerror(ENOMEM));
                return -1;
            }
            b->parts = np;
            b->cap_parts = cap;
        }
        if (b->gz && se_gz_part_begin(b, err, errlen) != 0)
            return -1;
        pt = &b->parts[b->nparts++];
        pt->off = b->spool_size;
        pt->bytes = 0;
        pt->records = 0;
        pt->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    }
    pt = &b->parts[b->nparts - 1];
    /* Account only after both writes succeed, so a failed add is not counted. */
    if (spool_put(b, row, len, err, errlen) != 0 || spool_put(b, "\n", 1, err, errlen) != 0)
        return -1;
    /* zlib's crc32 takes uInt lengths: feed big rows in slices. */
    for (size_t done = 0; done < len;) {
        size_t n = len - done > 0x40000000u ? 0x40000000u : len - done;
        pt->crc = (uint32_t)crc32(pt->crc, (const Bytef *)row + done, (uInt)n);
        done += n;
    }
    pt->crc = (uint32_t)crc32(pt->crc, (const Bytef *)"\n", 1);
    pt->bytes += len + 1;
    pt->records++;
    b->records++;
    return 0;
}

int se_batch_add_deflated(se_batch *b, const void *data, size_t clen, uint64_t bytes,
                          uint32_t crc, uint64_t records, char *err, size_t errlen)
{
    char why[256];

    if (b->finished || !b->gz || b->fmt == SE_FMT_TAR_ZST || b->fmt == SE_FMT_TAR_XZ || !clen || !bytes || !records || records > b->rows_per_file) {
        snprintf(err, errlen, "%s: %s", b->final_path,
                 b->finished ? "batch already finished" : "batch: not a compressed part it can take");
        return -1;
    }
    if (b->nparts == b->cap_parts) {
        size_t cap = b->cap_parts ? b->cap_parts * 2 : 16;
        part *np = realloc(b->parts, cap * sizeof *np);
        if (!np) {
            snprintf(err, errlen, "%s: %s", b->final_path, strerror(ENOMEM));
            return -1;
        }
        b->parts = np;
        b->cap_parts = cap;
    }
    if (se_gz_part_begin(b, err, errlen) != 0)
        return -1;
    if (se_gzs_put_deflated(b->gz, b->nparts, data, clen, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", b->dir, why);
        return -1;
    }
    b->parts[b->nparts++] = (part){ b->spool_size, bytes, records, crc };
    b->spool_size += bytes;
    b->records += records;
    b->sealed = 1;
    return 0;
}

uint64_t se_batch_records(const se_batch *b)
{
    return b->records;
}

const char *se_batch_final_path(const se_batch *b)
{
    return b->final_path;
}

json_object *se_batch_manifest(const se_batch *b)
{
    json_object *m = json_object_new_object(), *schema = NULL, *files = NULL, *segs = NULL;
    char name[32], crc[9];

    if (!m)
        return NULL;
    if (se_json_add(m, "batchId", json_object_new_string(b->batch_id)) != 0 ||
        se_json_add(m, "datasetId", json_object_new_string(b->dataset_id)) != 0 ||
        se_json_add(m, "jobId", json_object_new_int64(b->job_id)) != 0)
        goto fail;
    if (se_json_add(m, "schema", schema = json_object_new_object()) != 0 ||
        se_json_add(schema, "name", json_object_new_string(b->schema_name)) != 0)
        goto fail;
    if (json_object_deep_copy(b->segments, &segs, NULL) != 0 || se_json_add(m, "segments", segs) != 0)
        goto fail;
    if (se_json_add(m, "recordCount", json_object_new_int64((int64_t)b->records)) != 0 ||
        se_json_add(m, "files", files = json_object_new_array()) != 0)
        goto fail;
    for (size_t i = 0; i < b->nparts; i++) {
        json_object *f = json_object_new_object();
        if (!f || json_object_array_add(files, f) != 0) {
            json_object_put(f);
            goto fail;
        }
        snprintf(name, sizeof name, "part-%05zu.json", i);
        snprintf(crc, sizeof crc, "%08" PRIx32, b->parts[i].crc);
        if (se_json_add(f, "name", json_object_new_string(name)) != 0 ||
            se_json_add(f, "records", json_object_new_int64((int64_t)b->parts[i].records)) != 0 ||
            se_json_add(f, "bytes", json_object_new_int64((int64_t)b->parts[i].bytes)) != 0 ||
            se_json_add(f, "crc32", json_object_new_string(crc)) != 0)
            goto fail;
    }
    return m;
fail:
    json_object_put(m);
    return NULL;
}

/* Sets up the plain tar format; returns 0 or -1 (message in the archive).
 * (The compressed formats never come here: see write_gz.) */
static int setup_archive(struct archive *a)
{
    /* pax_restricted writes plain ustar headers unless an entry needs more. */
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK)
        return -1;
    return archive_write_add_filter_none(a) != ARCHIVE_OK ? -1 : 0;
}

static struct archive_entry *make_entry(const se_batch *b, const char *name, uint64_t size)
{
    struct archive_entry *e = archive_entry_new();

    if (!e)
        return NULL;
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, (time_t)b->mtime_s, 0);
    return e;
}

static int write_data(struct archive *a, const char *p, size_t n)
{
    while (n > 0) {
        la_ssize_t w = archive_write_data(a, p, n);
        if (w < 0 || (w == 0 && n > 0))
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes one entry; *ioerr is set when the spool (not libarchive) failed. */
static int write_entry(se_batch *b, struct archive *a, const char *name, const char *mem,
                       uint64_t off, uint64_t size, int *ioerr)
{
    struct archive_entry *e = make_entry(b, name, size);
    int rc = -1;

    if (!e || archive_write_header(a, e) != ARCHIVE_OK)
        goto out;
    if (mem) {
        if (write_data(a, mem, (size_t)size) != 0)
            goto out;
    } else {
        /* Copy from the spool through the (now idle) spool buffer. */
        for (uint64_t done = 0; done < size;) {
            size_t want = size - done > SPOOL_BUF ? SPOOL_BUF : (size_t)(size - done);
            ssize_t r = pread(b->spool_fd, b->buf, want, (off_t)(off + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r == 0)
                    errno = EIO; /* spool shorter than recorded: should not happen */
                *ioerr = errno;
                goto out;
            }
            if (write_data(a, b->buf, (size_t)r) != 0)
                goto out;
            done += (uint64_t)r;
        }
    }
    if (archive_write_finish_entry(a) != ARCHIVE_OK)
        goto out;
    rc = 0;
out:
    archive_entry_free(e);
    return rc;
}

/* tar.gz, tar.zst, tar.xz, zip: the rows are compressed already (or being
 * compressed): assemble. */
static int write_gz(se_batch *b, int fd, const char *mtext, char *err, size_t errlen)
{
    se_gz_part *gp = calloc(b->nparts ? b->nparts : 1, sizeof *gp);
    char why[256];
    int spool_failed = 0, rc;

    if (!gp) {
        snprintf(err, errlen, "%s: %s", b->tmp_path, strerror(ENOMEM));
        return -1;
    }
    for (size_t i = 0; i < b->nparts; i++) {
        gp[i].bytes = b->parts[i].bytes;
        gp[i].crc = b->parts[i].crc;
    }
    if (b->fmt == SE_FMT_ZIP)
        rc = se_zip_write_archive(b->gz, b->level, fd, mtext, strlen(mtext), gp, b->nparts,
                                  b->mtime_s, &spool_failed, why, sizeof why);
    else
        rc = se_gzs_write_archive(b->gz, fd, mtext, strlen(mtext), gp, b->nparts, b->mtime_s,
                                  &spool_failed, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", spool_failed ? b->dir : b->tmp_path, why);
    free(gp);
    return rc;
}

int se_batch_finish(se_batch *b, char *err, size_t errlen)
{
    struct archive *a = NULL;
    json_object *m = NULL;
    char *mtext = NULL;
    int fd = -1, rc = -1, ioerr = 0;
    char name[32];

    if (b->finished) {
        snprintf(err, errlen, "%s: batch already finished", b->final_path);
        return -1;
    }
    if (spool_flush(b, err, errlen) != 0)
        return -1;

    m = se_batch_manifest(b);
    if (!m)
        goto nomem;
    {
        const char *s = json_object_to_json_string_ext(
            m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || !(mtext = se_asprintf("%s\n", s)))
            goto nomem;
    }

    /* An unpredictable new name (O_EXCL, O_NOFOLLOW): nothing planted in the
     * dataset directory is written through. */
    se_tmp_lock();
    fd = se_create_unique_at(b->dfd, (char *)b->tmp_name, O_WRONLY, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", b->tmp_path, strerror(errno));
        se_tmp_unlock();
        goto out;
    }
    b->tmp_exists = 1;
    se_tmp_unlock();

    if (b->gz) {
        if (write_gz(b, fd, mtext, err, errlen) != 0)
            goto out;
        goto written;
    }
    a = archive_write_new();
    if (!a)
        goto nomem;
    /* No padding to a full block: smaller output and no trailing zero blocks
     * that depend on libarchive's block size. */
    if (setup_archive(a) != 0 || archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK)
        goto arcerr;
    if (write_entry(b, a, "manifest.json", mtext, 0, strlen(mtext), &ioerr) != 0)
        goto arcerr;
    for (size_t i = 0; i < b->nparts; i++) {
        snprintf(name, sizeof name, "part-%05zu.json", i);
        if (write_entry(b, a, name, NULL, b->parts[i].off, b->parts[i].bytes, &ioerr) != 0)
            goto arcerr;
    }
    /* close flushes the compressor and the trailer: its failure is a write failure. */
    if (archive_write_close(a) != ARCHIVE_OK)
        goto arcerr;
written:
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", b->tmp_path, strerror(errno));
        goto out;
    }
    {
        int cfd = fd;
        fd = -1;
        if (close(cfd) != 0) {
            snprintf(err, errlen, "%s: %s", b->tmp_path, strerror(errno));
            goto out;
        }
    }
    b->finished = 1;
    rc = 0;
    goto out;

arcerr:
    if (ioerr) {
        snprintf(err, errlen, "%s: spool: %s", b->dir, strerror(ioerr));
    } else {
        const char *why = a ? archive_error_string(a) : NULL;
        int e = a ? archive_errno(a) : 0;
        /* libarchive's "Write error" alone hides why (disk full, I/O error). */
        if (why && e > 0 && !strstr(why, strerror(e)))
            snprintf(err, errlen, "%s: %s: %s", b->tmp_path, why, strerror(e));
        else
            snprintf(err, errlen, "%s: %s", b->tmp_path,
                     why ? why : e > 0 ? strerror(e) : "archive write failed");
    }
    goto out;
nomem:
    snprintf(err, errlen, "%s: %s", b->tmp_path, strerror(ENOMEM));
out:
    if (a)
        archive_write_free(a); /* after a failed close this only releases memory */
    if (fd >= 0)
        close(fd);
    if (rc != 0 && b->tmp_exists) {
        /* A partial archive must not linger, even if the caller never frees. */
        unlinkat(b->dfd, b->tmp_name, 0);
        b->tmp_exists = 0;
    }
    free(mtext);
    json_object_put(m);
    return rc;
}

/* Never clobbers an existing archive: renameat2(RENAME_NOREPLACE) is atomic;
 * on filesystems without it (EINVAL/ENOSYS) link()+unlink() gives the same
 * no-clobber guarantee (link fails with EEXIST), at the cost of a moment where
 * both names exist. */
static int commit_locked(se_batch *b, char *err, size_t errlen);

/* The dataset directory's entries made durable (as se_fsync_dir). */
static int fsync_dfd(se_batch *b, char *err, size_t errlen)
{
    if (fsync(b->dfd) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "%s: %s", b->dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The rename happens under the temporary-file lock and is noted, so the
 * forced end of a cancelled job knows exactly which archives to take back. */
int se_batch_commit(se_batch *b, char *err, size_t errlen)
{
    int rc;
    se_tmp_lock();
    rc = commit_locked(b, err, errlen);
    if (b->committed)
        se_tmp_note_committed(b->final_path);
    se_tmp_unlock();
    return rc;
}

static int commit_locked(se_batch *b, char *err, size_t errlen)
{
    if (b->committed) {
        snprintf(err, errlen, "%s: batch already committed", b->final_path);
        return -1;
    }
    if (!b->finished || !b->tmp_exists) {
        snprintf(err, errlen, "%s: batch not finished", b->final_path);
        return -1;
    }
    if (renameat2(b->dfd, b->tmp_name, b->dfd, b->final_name, RENAME_NOREPLACE) != 0) {
        if (errno != EINVAL && errno != ENOSYS) {
            snprintf(err, errlen, "%s: %s", b->final_path, strerror(errno));
            return -1;
        }
        if (linkat(b->dfd, b->tmp_name, b->dfd, b->final_name, 0) != 0) {
            snprintf(err, errlen, "%s: %s", b->final_path, strerror(errno));
            return -1;
        }
        /* The archive is in place; a temporary name that refuses to go is
         * retried by se_batch_free rather than failing the commit. */
        if (unlinkat(b->dfd, b->tmp_name, 0) == 0)
            b->tmp_exists = 0;
    } else {
        b->tmp_exists = 0;
    }
    b->committed = 1;
    return fsync_dfd(b, err, errlen);
}

int se_batch_rollback(se_batch *b, char *err, size_t errlen)
{
    if (!b->committed)
        return 0;
    if (unlinkat(b->dfd, b->final_name, 0) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", b->final_path, strerror(errno));
        return -1;
    }
    b->committed = 0;
    return fsync_dfd(b, err, errlen);
}

void se_batch_free(se_batch *b)
{
    if (!b)
        return;
    /* Uncommitted: the partial or unwanted archive goes.  Committed: only a
     * leftover second name from the link()+unlink() fallback can remain. */
    if (b->tmp_exists)
        unlinkat(b->dfd, b->tmp_name, 0);
    se_gzs_free(b->gz); /* before the spool it writes to */
    if (b->spool_fd >= 0)
        close(b->spool_fd);
    if (b->dfd >= 0)
        close(b->dfd);
    json_object_put(b->segments);
    free(b->parts);
    free(b->buf);
    free(b->tmp_path);
    free(b->final_path);
    free(b->dir);
    free(b->batch_id);
    free(b->dataset_id);
    free(b->schema_name);
    free(b);
}

int se_batch_remove_temps(const char *dir, const char *batch_id)
{
    char prefix[64];
    struct dirent *de;
    int n = 0;
    /* never through a link planted in place of the dataset directory */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    snprintf(prefix, sizeof prefix, ".%s.", batch_id);
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
