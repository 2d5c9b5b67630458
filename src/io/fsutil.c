/* Durable-file steps shared by the archive writer and the job store. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <stdint.h>
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

char *se_slurp_fd(int fd, size_t max, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int e = 0;

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
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    errno = e;
    return NULL;
}

char *se_slurp(const char *path, size_t max, size_t *len)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (fd < 0)
        return NULL;
    char *buf = se_slurp_fd(fd, max, len);
    int e = errno;
    if (fd != 0)
        close(fd);
    errno = e;
    return buf;
}

int se_create_unique(char *tmpl, int flags, mode_t mode)
{
    return se_create_unique_at(AT_FDCWD, tmpl, flags, mode);
}

int se_create_unique_at(int dfd, char *tmpl, int flags, mode_t mode)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strlen(tmpl);
    static unsigned long long fallback;

    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return -1;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
        unsigned char r[6];
        int fd;
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            /* no entropy source: a counter mixed with the pid and address still
             * differs per call; O_EXCL keeps it safe, only less unpredictable */
            unsigned long long v = (++fallback * 0x9e3779b97f4a7c15ull) ^
                                   ((unsigned long long)getpid() << 17) ^ (unsigned long long)(uintptr_t)tmpl;
            for (size_t i = 0; i < sizeof r; i++, v >>= 8)
                r[i] = (unsigned char)v;
        }
        for (size_t i = 0; i < 6; i++)
            tmpl[n - 6 + i] = al[r[i] % (sizeof al - 1)];
        fd = openat(dfd, tmpl, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | flags, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static pthread_mutex_t tmp_mu = PTHREAD_MUTEX_INITIALIZER;

void se_tmp_lock(void)
{
    pthread_mutex_lock(&tmp_mu);
}

void se_tmp_unlock(void)
{
    pthread_mutex_unlock(&tmp_mu);
}

void se_tmp_freeze(void)
{
    pthread_mutex_lock(&tmp_mu); /* never unlocked: the process is ending */
}

static char **committed;
static size_t ncommitted, capcommitted;

void se_tmp_note_committed(const char *path)
{
    char *c;
    if (ncommitted == capcommitted) {
        size_t cap = capcommitted ? capcommitted * 2 : 16;
        char **nv = realloc(committed, cap * sizeof *nv);
        if (!nv)
            return;
        committed = nv;
        capcommitted = cap;
    }
    if ((c = strdup(path)))
        committed[ncommitted++] = c;
}

void se_tmp_remove_committed(void)
{
    for (size_t i = 0; i < ncommitted; i++) {
        unlink(committed[i]);
        free(committed[i]);
    }
    ncommitted = 0;
}
