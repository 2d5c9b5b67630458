/* The input reader (SPEC §3): every INPUT goes through one libarchive reader
 * that detects compression and tar/zip by content; each regular archive member
 * goes through a second, nested reader so that members may themselves be
 * compressed.  Lines are handed out as pointers into libarchive's own blocks
 * whenever they are contiguous; only a line that spans two blocks is copied,
 * and never more than max_record_bytes of it (a longer line is skipped). */
#include "input.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read size for files and stdin: big enough that syscalls and per-block work
 * vanish next to decompression and parsing. */
enum { SE_INPUT_BLOCK = 1 << 20 };

/* The same for a regular file read by blocks: a plain one is read by us
 * after libarchive's first block (which only tells its format), and a
 * compressed one gains nothing from bigger reads; a smaller buffer is fewer
 * pages to fault in (a quarter of the reader's page faults on a plain
 * dump). */
enum { SE_INPUT_BLOCK_OWN = 1 << 17 };

struct se_input {
    char *const *paths;
    size_t npaths;          /* 0: stdin */
    size_t max;             /* max_record_bytes */
    size_t next_path;       /* index of the next INPUT to open */
    bool stdin_done;        /* npaths == 0: stdin was opened already */

    struct archive *outer;  /* the current INPUT */
    struct archive *inner;  /* the current archive member, or NULL */
    struct archive *src;    /* where lines come from: outer (raw) or inner */
    const char *path_name;  /* the current INPUT's name: path or "stdin" */
    const char *path;       /* the current INPUT's path, or "-" */
    int64_t src_size;       /* compressed size of src when known (regular file, member), else -1 */
    char *member_name;      /* "path:member", owned */
    const char *name;       /* the name of src */
    bool src_eof;           /* src is exhausted; move on at the next call */

    const char *blk;        /* the current data block (owned by libarchive) */
    size_t blk_len, blk_pos;
    char *acc;              /* the start of a line that spans blocks */
    size_t acc_len, acc_cap;
    bool skipping;          /* inside a too-long line, up to its LF */
    uint64_t lineno;        /* number of the line being assembled */

    /* Block reading (se_input_read) of a plain regular file goes around
     * libarchive once it has said "raw, no filter": read() straight into the
     * caller's buffer, no copy.  own_fd is our own descriptor of the current
     * INPUT (fd 0 for stdin), opened before libarchive's and checked to be
     * the same file; own_start is where the stream starts in it. */
    bool blocks;            /* se_input_stream was called: block reading */
    int own_fd;             /* -1: none */
    dev_t own_dev;
    ino_t own_ino;
    off_t own_start;
    bool direct;            /* src is read from own_fd */
    uint64_t direct_pos;    /* bytes of src read so far */

    uint64_t bytes_done;    /* compressed bytes of INPUTs already closed */
    bool failed;
    char err[1024];
};

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}

int se_input_check_paths(char *const *paths, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(paths[i], "-") == 0)
            continue;
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
            return -1;
        }
        struct stat st;
        int e = 0;
        if (fstat(fd, &st) != 0)
            e = errno;
        else if (S_ISDIR(st.st_mode))
            e = EISDIR;
        close(fd);
        if (e != 0) {
            snprintf(err, errlen, "%s: %s", paths[i], strerror(e));
            return -1;
        }
    }
    return 0;
}

se_input *se_input_open(char *const *paths, size_t n, size_t max_record_bytes)
{
    se_input *in = calloc(1, sizeof *in);
    if (in == NULL)
        return NULL;
    in->paths = paths;
    in->npaths = n;
    in->max = max_record_bytes;
    in->own_fd = -1;
    return in;
}

static void close_member(se_input *in)
{
    if (in->inner != NULL) {
        archive_read_free(in->inner);
        in->inner = NULL;
    }
    free(in->member_name);
    in->member_name = NULL;
}

static void close_outer(se_input *in)
{
    close_member(in);
    if (in->outer != NULL) {
        int64_t b = archive_filter_bytes(in->outer, -1);
        if (in->direct)
            in->bytes_done += in->direct_pos;
        else if (b > 0)
            in->bytes_done += (uint64_t)b;
        archive_read_free(in->outer); /* the fd reader leaves fd 0 open */
        in->outer = NULL;
    }
    if (in->own_fd > 0)
        close(in->own_fd);
    in->own_fd = -1;
    in->direct = false;
    in->src = NULL;
}

void se_input_free(se_input *in)
{
    if (in == NULL)
        return;
    close_outer(in);
    free(in->acc);
    free(in);
}

const char *se_input_error(const se_input *in)
{
    return in->err;
}

uint64_t se_input_bytes(const se_input *in)
{
    uint64_t b = in->bytes_done;
    if (in->direct)
        return b + in->direct_pos;
    if (in->outer != NULL) {
        int64_t cur = archive_filter_bytes(in->outer, -1);
        if (cur > 0)
            b += (uint64_t)cur;
    }
    return b;
}

static int fail(se_input *in, const char *name, struct archive *a)
{
    const char *msg = a != NULL ? archive_error_string(a) : NULL;
    snprintf(in->err, sizeof in->err, "%s: %s", name,
             msg != NULL ? msg : "read error");
    in->failed = true;
    return -1;
}

/* The nested reader's input: the current member's bytes, straight from the
 * outer reader's buffers (valid until the next call, as libarchive requires).
 * Sparse-file holes are not materialized: an NDJSON dump has none. */
static la_ssize_t member_read(struct archive *a, void *ud, const void **buf)
{
    se_input *in = ud;
    size_t size = 0;
    la_int64_t off = 0;
    int r = archive_read_data_block(in->outer, buf, &size, &off);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN) {
        const char *msg = archive_error_string(in->outer);
        archive_set_error(a, archive_errno(in->outer), "%s",
                          msg != NULL ? msg : "read error");
        return -1;
    }
    return (la_ssize_t)size;
}

/* Block reading: our own descriptor of a regular file, opened before
 * libarchive opens its own (see se_input).  Nothing when it is not one. */
static void open_own(se_input *in, const char *path, bool is_stdin)
{
    struct stat st;
    in->own_fd = -1;
    if (is_stdin) {
        off_t at;
        if (fstat(0, &st) != 0 || !S_ISREG(st.st_mode) || (at = lseek(0, 0, SEEK_CUR)) < 0)
            return;
        in->own_fd = 0;
        in->own_start = at;
    } else {
        /* Never open a FIFO here (that would wait for a writer). */
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            return;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return;
        }
        in->own_fd = fd;
        in->own_start = 0;
    }
    in->own_dev = st.st_dev;
    in->own_ino = st.st_ino;
}

/* A failed read of the current INPUT, in libarchive's words. */
static int read_failed(se_input *in, const char *name)
{
    if (strcmp(in->path, "-") == 0)
        snprintf(in->err, sizeof in->err, "%s: Error reading fd 0", name);
    else
        snprintf(in->err, sizeof in->err, "%s: Error reading '%s'", name, in->path);
    in->failed = true;
    return -1;
}

/* Opens the next INPUT.  0 when there is none left, -1 on error. */
static int open_outer(se_input *in)
{
    const char *path;
    if (in->npaths == 0) {
        if (in->stdin_done)
            return 0;
        in->stdin_done = true;
        path = "-";
    } else {
        if (in->next_path >= in->npaths)
            return 0;
        path = in->paths[in->next_path++];
    }
    bool is_stdin = strcmp(path, "-") == 0;
    in->path = path;
    in->path_name = display_name(path);

    struct archive *a = archive_read_new();
    if (a == NULL) {
        snprintf(in->err, sizeof in->err, "%s: out of memory", in->path_name);
        in->failed = true;
        return -1;
    }
    in->outer = a;
    if (in->blocks)
        open_own(in, path, is_stdin);
    /* Not format_all: mtree and friends would claim plain text. */
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (is_stdin)
        archive_read_support_format_zip_streamable(a);
    else
        /* Both zip readers: the seekable one (preferred, it trusts the central
         * directory) for regular files, the streaming one for FIFOs. */
        archive_read_support_format_zip(a);
    archive_read_support_format_raw(a);
    archive_read_support_format_empty(a);

    size_t block = in->own_fd >= 0 ? SE_INPUT_BLOCK_OWN : SE_INPUT_BLOCK;
    int r = is_stdin ? archive_read_open_fd(a, 0, block)
                     : archive_read_open_filename(a, path, block);
    if (r != ARCHIVE_OK) {
        /* "x: No such file or directory" reads better than libarchive's
         * "Failed to open 'x'", and matches se_input_check_paths. */
        if (archive_errno(a) > 0) {
            snprintf(in->err, sizeof in->err, "%s: %s", in->path_name,
                     strerror(archive_errno(a)));
            in->failed = true;
            return -1;
        }
        return fail(in, in->path_name, a);
    }
    return 1;
}

/* Opens the nested reader on the outer reader's current member.  0 when the
 * member is empty, -1 on error. */
static int open_member(se_input *in, struct archive_entry *e)
{
    const char *mname = archive_entry_pathname(e);
    if (mname == NULL)
        mname = "?";
    size_t len = strlen(in->path_name) + 1 + strlen(mname) + 1;
    in->member_name = malloc(len);
    if (in->member_name == NULL) {
        snprintf(in->err, sizeof in->err, "%s: out of memory", in->path_name);
        in->failed = true;
        return -1;
    }
    snprintf(in->member_name, len, "%s:%s", in->path_name, mname);

    struct archive *a = archive_read_new();
    if (a == NULL) {
        snprintf(in->err, sizeof in->err, "%s: out of memory", in->member_name);
        in->failed = true;
        return -1;
    }
    in->inner = a;
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    archive_read_support_format_empty(a);
    if (archive_read_open(a, in, NULL, member_read, NULL) != ARCHIVE_OK)
        return fail(in, in->member_name, a);
    struct archive_entry *ie;
    int r = archive_read_next_header(a, &ie);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN)
        return fail(in, in->member_name, a);
    return 1;
}

/* Moves to the next stream of lines (a plain INPUT or an archive member).
 * 1 when src is set, 0 at the end of all INPUTs, -1 on error. */
static int advance(se_input *in)
{
    /* A plain INPUT read directly is one stream: its libarchive reader was
     * left behind at its start. */
    if (in->direct)
        close_outer(in);
    close_member(in);
    in->src = NULL;
    in->src_eof = false;
    in->blk = NULL;
    in->blk_len = in->blk_pos = 0;
    in->acc_len = 0;
    in->skipping = false;
    in->lineno = 1;

    for (;;) {
        if (in->outer == NULL) {
            int r = open_outer(in);
            if (r <= 0)
                return r;
        }
        struct archive_entry *e;
        int r = archive_read_next_header(in->outer, &e);
        if (r == ARCHIVE_EOF) {
            /* libarchive takes a read error while it guesses the format
             * (its zip reader reads the end of the file) for an empty
             * input: an uncompressed regular file with bytes in it is not
             * one (a compressed one may hold nothing). */
            struct stat st;
            if (archive_format(in->outer) == ARCHIVE_FORMAT_EMPTY &&
                archive_filter_count(in->outer) == 1 &&
                (strcmp(in->path, "-") == 0 ? fstat(0, &st) : stat(in->path, &st)) == 0 &&
                S_ISREG(st.st_mode) && st.st_size > 0)
                return archive_error_string(in->outer) ? fail(in, in->path_name, in->outer)
                                                       : read_failed(in, in->path_name);
            /* Also the raw format's second call: one INPUT is one stream. */
            close_outer(in);
            continue;
        }
        if (r < ARCHIVE_WARN)
            return fail(in, in->path_name, in->outer);
        if (archive_format(in->outer) == ARCHIVE_FORMAT_RAW) {
            struct stat st;
            in->src = in->outer;
            in->name = in->path_name;
            in->src_size = -1;
            if ((strcmp(in->path, "-") == 0 ? fstat(0, &st) : stat(in->path, &st)) == 0 &&
                S_ISREG(st.st_mode)) {
                in->src_size = (int64_t)st.st_size;
                /* Plain, and the path still names the file we opened (the one
                 * libarchive opened in between): read it ourselves from where
                 * the stream starts. */
                if (in->own_fd >= 0 && archive_filter_count(in->outer) == 1 &&
                    archive_filter_code(in->outer, 0) == ARCHIVE_FILTER_NONE &&
                    st.st_dev == in->own_dev && st.st_ino == in->own_ino &&
                    lseek(in->own_fd, in->own_start, SEEK_SET) == in->own_start) {
                    in->direct = true;
                    in->direct_pos = 0;
                }
            }
            return 1;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue; /* directories, links, devices: nothing to read */
        in->src_size = archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1;
        r = open_member(in, e);
        if (r < 0)
            return -1;
        if (r == 0) {
            close_member(in);
            continue;
        }
        in->src = in->inner;
        in->name = in->member_name;
        return 1;
    }
}

/* At the end of a compressed src: libarchive checks neither gzip's CRC nor
 * what follows the last compressed stream, so a damaged stream can end early
 * and the rest of the input would be dropped in silence.  When src's size is
 * known, every byte of it must have been consumed.  0, or -1 with err. */
static int check_consumed(se_input *in)
{
    int n = archive_filter_count(in->src);
    if (n < 2 || in->src_size < 0)
        return 0;
    int64_t used = archive_filter_bytes(in->src, n - 1);
    if (used < 0 || used >= in->src_size)
        return 0;
    snprintf(in->err, sizeof in->err,
             "%s: %s data ends at byte %lld of %lld (damaged, or followed by other data)",
             in->name, archive_filter_name(in->src, 0), (long long)used, (long long)in->src_size);
    in->failed = true;
    return -1;
}

/* The calls that may block on a read (a quiet FIFO, a slow pipe) run with
 * cancellation enabled, so that the pipeline's reader thread, which keeps it
 * disabled otherwise, can be cancelled there (pipeline.c); once per block or
 * file, not per line (a cancel-state switch per line cost a quarter of a
 * skipping shard's time). */
static int cancellable_begin(void)
{
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    return old;
}

static void cancellable_end(int old)
{
    pthread_setcancelstate(old, &old);
}

/* Next data block of src.  1 with blk set, 0 at its end, -1 on error. */
static int fill(se_input *in)
{
    const void *buf;
    size_t size = 0;
    la_int64_t off = 0;
    int cs = cancellable_begin();
    int r = archive_read_data_block(in->src, &buf, &size, &off);
    cancellable_end(cs);
    if (r == ARCHIVE_EOF)
        return check_consumed(in);
    if (r < ARCHIVE_WARN)
        return fail(in, in->name, in->src);
    in->blk = buf;
    in->blk_len = size;
    in->blk_pos = 0;
    return 1;
}

static size_t hold_limit(const se_input *in)
{
    return se_line_hold(in->lineno, in->max);
}

static int acc_append(se_input *in, const char *p, size_t n)
{
    if (n > in->acc_cap - in->acc_len) {
        size_t cap = in->acc_cap != 0 ? in->acc_cap : 4096;
        while (cap - in->acc_len < n)
            cap = cap > SIZE_MAX / 2 ? in->acc_len + n : cap * 2;
        char *acc = realloc(in->acc, cap);
        if (acc == NULL) {
            snprintf(in->err, sizeof in->err, "%s: out of memory", in->name);
            in->failed = true;
            return -1;
        }
        in->acc = acc;
        in->acc_cap = cap;
    }
    memcpy(in->acc + in->acc_len, p, n);
    in->acc_len += n;
    return 0;
}

static void emit_too_long(const se_input *in, uint64_t lineno, se_line *line)
{
    line->data = "";
    line->len = 0;
    line->name = in->name;
    line->lineno = lineno;
    line->too_long = true;
}

/* Finishes one physical line (se_line_trim); false for a blank one. */
static bool finish_line(const se_input *in, const char *d, size_t n,
                        uint64_t lineno, se_line *line)
{
    int k = se_line_trim(&d, &n, lineno, in->max);
    if (k == 0)
        return false;
    if (k == 2) {
        emit_too_long(in, lineno, line);
        return true;
    }
    line->data = d;
    line->len = n;
    line->name = in->name;
    line->lineno = lineno;
    line->too_long = false;
    return true;
}

int se_input_next(se_input *in, se_line *line)
{
    if (in->failed)
        return -1;
    for (;;) {
        if (in->src == NULL || in->src_eof) {
            int cs = cancellable_begin();
            int r = advance(in);
            cancellable_end(cs);
            if (r <= 0)
                return r;
        }
        if (in->blk_pos == in->blk_len) {
            int r = fill(in);
            if (r < 0)
                return -1;
            if (r == 0) {
                /* A last line without LF still counts. */
                in->src_eof = true;
                bool pending = in->acc_len > 0 && !in->skipping;
                size_t n = in->acc_len;
                in->acc_len = 0;
                if (pending && finish_line(in, in->acc, n, in->lineno++, line))
                    return 1;
            }
            continue;
        }

        const char *p = in->blk + in->blk_pos;
        size_t rest = in->blk_len - in->blk_pos;
        const char *nl = memchr(p, '\n', rest);
        if (nl == NULL) {
            in->blk_pos = in->blk_len;
            if (in->skipping)
                continue;
            if (rest > hold_limit(in) - in->acc_len) {
                /* Report it now and drop the rest up to the LF unbuffered. */
                in->acc_len = 0;
                in->skipping = true;
                emit_too_long(in, in->lineno, line);
                return 1;
            }
            if (acc_append(in, p, rest) != 0)
                return -1;
            continue;
        }

        size_t seg = (size_t)(nl - p);
        size_t hold = hold_limit(in);
        in->blk_pos += seg + 1;
        uint64_t lineno = in->lineno++;
        if (in->skipping) {
            in->skipping = false;
            continue;
        }
        const char *d = p;
        size_t n = seg;
        if (in->acc_len > 0) {
            if (seg > hold - in->acc_len) {
                in->acc_len = 0;
                emit_too_long(in, lineno, line);
                return 1;
            }
            if (acc_append(in, p, seg) != 0)
                return -1;
            d = in->acc;
            n = in->acc_len;
            in->acc_len = 0; /* acc stays valid until the next call */
        }
        if (finish_line(in, d, n, lineno, line))
            return 1;
    }
}

/* ---- block reading (the pipeline's) -------------------------------------- */

int se_input_stream(se_input *in)
{
    if (in->failed)
        return -1;
    in->blocks = true;
    int cs = cancellable_begin();
    int r = advance(in);
    cancellable_end(cs);
    return r;
}

const char *se_input_name(const se_input *in)
{
    return in->name;
}

static ssize_t read_direct(se_input *in, char *buf, size_t cap)
{
    ssize_t r;
    int cs = cancellable_begin();
    do
        r = read(in->own_fd, buf, cap);
    while (r < 0 && errno == EINTR);
    cancellable_end(cs);
    if (r < 0)
        return read_failed(in, in->name);
    if (r == 0)
        in->src_eof = true;
    in->direct_pos += (uint64_t)r;
    return r;
}

ssize_t se_input_read(se_input *in, char *buf, size_t cap)
{
    if (in->failed)
        return -1;
    if (in->src == NULL || in->src_eof)
        return 0;
    if (in->direct)
        return read_direct(in, buf, cap);
    while (in->blk_pos == in->blk_len) {
        int r = fill(in);
        if (r < 0)
            return -1;
        if (r == 0) {
            in->src_eof = true;
            return 0;
        }
    }
    size_t n = in->blk_len - in->blk_pos;
    if (n > cap)
        n = cap;
    memcpy(buf, in->blk + in->blk_pos, n);
    in->blk_pos += n;
    return (ssize_t)n;
}
