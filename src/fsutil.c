/* Durable-file steps shared by the archive writer and the job store. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fsutil.h"

char *se_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

int se_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char *p = strdup(dir);
    int rc = -1;
    struct stat st;

    if (!p) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        /* Skip "a//b" and a trailing '/' (empty component). */
        if (s[-1] != '/' && mkdir(p, 0755) != 0) {
            int e = errno;
            if (e != EEXIST) {
                snprintf(err, errlen, "%s: %s", p, strerror(e));
                goto out;
            }
            if (stat(p, &st) != 0) {
                snprintf(err, errlen, "%s: %s", p, strerror(errno));
                goto out;
            }
            if (!S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "%s: %s", p, strerror(ENOTDIR));
                goto out;
            }
        }
        *s = c;
        if (c == '\0')
            break;
    }
    rc = 0;
out:
    free(p);
    return rc;
}

int se_fsync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int se_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

char *se_slurp(const char *path, size_t max, size_t *len)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int e = 0;

    if (fd < 0)
        return NULL;
    for (;;) {
        ssize_t r;
        if (cap - n < 65536) {
            size_t nc = cap ? cap * 2 : 65536;
            char *nb;
            if (cap >= max + 1) {
                e = EFBIG;
                goto fail;
            }
            if (!(nb = realloc(buf, nc + 1))) {
                e = ENOMEM;
                goto fail;
            }
            buf = nb;
            cap = nc;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        e = EFBIG;
        goto fail;
    }
    if (fd != 0)
        close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    if (fd != 0)
        close(fd);
    free(buf);
    errno = e;
    return NULL;
}
