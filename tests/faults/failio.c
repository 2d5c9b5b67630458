/* LD_PRELOAD shim for the fault tests (tests/faults/run.sh): makes write()
 * (and writev/pwrite) fail with an errno once a number of bytes have been
 * written to files whose path contains a pattern, and read() likewise for
 * reads.  Configured by the environment:
 *   FAILIO_WRITE_PATTERN  substring of the path (/proc/self/fd/N's target)
 *   FAILIO_WRITE_AFTER    bytes that succeed first, summed over such files (0)
 *   FAILIO_WRITE_ERRNO    ENOSPC (default), EIO or EDQUOT
 *   FAILIO_READ_PATTERN, FAILIO_READ_AFTER, FAILIO_READ_ERRNO (default EIO)
 * A write that crosses the limit is short (the bytes up to it succeed), as on
 * a real full disk; the next one fails.  And, for temporary files:
 *   FAILIO_NO_TMPFILE=1   open(O_TMPFILE) fails with EOPNOTSUPP, as on a file
 *                         system without nameless files
 *   FAILIO_KILL_UNLINK    substring of a path: unlink() of such a path kills
 *                         the process (SIGKILL) instead, as a kill -9 just
 *                         between a temporary's creation and its unlink */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct rule {
    int init;
    const char *pattern;
    unsigned long long after, done;
    int err;
} rule;

static rule wr, rd;

static int parse_errno(const char *s, int dflt)
{
    if (!s || !*s) return dflt;
    if (!strcmp(s, "ENOSPC")) return ENOSPC;
    if (!strcmp(s, "EIO")) return EIO;
    if (!strcmp(s, "EDQUOT")) return EDQUOT;
    return atoi(s);
}

static void setup(rule *r, const char *pfx, int dflt)
{
    char name[64];
    if (r->init)
        return;
    snprintf(name, sizeof name, "FAILIO_%s_PATTERN", pfx);
    r->pattern = getenv(name);
    snprintf(name, sizeof name, "FAILIO_%s_AFTER", pfx);
    const char *a = getenv(name);
    r->after = a ? strtoull(a, NULL, 10) : 0;
    snprintf(name, sizeof name, "FAILIO_%s_ERRNO", pfx);
    r->err = parse_errno(getenv(name), dflt);
    r->init = 1;
}

static int matches(const rule *r, int fd)
{
    char link[64], target[4096];
    if (!r->pattern || !*r->pattern)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strstr(target, r->pattern) != NULL;
}

/* How many of want bytes may go through: want, fewer, or -1 (fail now). */
static long long allow(rule *r, int fd, size_t want)
{
    if (!matches(r, fd))
        return (long long)want;
    if (r->done >= r->after) {
        errno = r->err;
        return -1;
    }
    unsigned long long left = r->after - r->done;
    return (long long)(want < left ? want : left);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    setup(&wr, "WRITE", ENOSPC);
    long long ok = allow(&wr, fd, n);
    if (ok < 0)
        return -1;
    ssize_t r = real(fd, buf, (size_t)ok);
    if (r > 0 && matches(&wr, fd))
        wr.done += (unsigned long long)r;
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    setup(&wr, "WRITE", ENOSPC);
    long long ok = allow(&wr, fd, n);
    if (ok < 0)
        return -1;
    ssize_t r = real(fd, buf, (size_t)ok, off);
    if (r > 0 && matches(&wr, fd))
        wr.done += (unsigned long long)r;
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return pwrite(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        real = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    setup(&wr, "WRITE", ENOSPC);
    if (matches(&wr, fd)) {
        /* Simplest faithful model: one buffer at a time through write(). */
        ssize_t tot = 0;
        for (int i = 0; i < cnt; i++) {
            ssize_t r = write(fd, iov[i].iov_base, iov[i].iov_len);
            if (r < 0)
                return tot > 0 ? tot : -1;
            tot += r;
            if ((size_t)r < iov[i].iov_len)
                break;
        }
        return tot;
    }
    return real(fd, iov, cnt);
}

ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    setup(&rd, "READ", EIO);
    long long ok = allow(&rd, fd, n);
    if (ok < 0)
        return -1;
    ssize_t r = real(fd, buf, (size_t)ok);
    if (r > 0 && matches(&rd, fd))
        rd.done += (unsigned long long)r;
    return r;
}

/* open and open64 (one symbol or two, by libc): O_TMPFILE refused on demand. */
static int open_common(const char *sym, const char *path, int flags, mode_t mode)
{
    const char *no = getenv("FAILIO_NO_TMPFILE");
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
#ifdef O_TMPFILE
    if (no && *no == '1' && (flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
#endif
    return real(path, flags, mode);
}

/* The mode is there only with O_CREAT or O_TMPFILE. */
#define OPEN_WRAPPER(name)                                                    \
    int name(const char *path, int flags, ...)                                \
    {                                                                         \
        va_list ap;                                                           \
        va_start(ap, flags);                                                  \
        mode_t mode = flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0; \
        va_end(ap);                                                           \
        return open_common(#name, path, flags, mode);                         \
    }
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

int unlink(const char *path)
{
    static int (*real)(const char *);
    const char *pat = getenv("FAILIO_KILL_UNLINK");
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    if (pat && *pat && strstr(path, pat))
        raise(SIGKILL);
    return real(path);
}
