/* The store's lock and the processes behind its records (store.h):
 * bounded waits for the id lock, naming its holder; a worker's identity by
 * pid, start time and boot id (so a reused pid is never taken for it). */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* Seconds to wait for the id lock: SEGEXPORT_LOCK_TIMEOUT (a decimal, may
 * have a fraction), default 30. */
static double lock_timeout(void)
{
    const char *e = getenv("SEGEXPORT_LOCK_TIMEOUT");
    char *end;
    double v;

    if (!e || !*e)
        return 30;
    v = strtod(e, &end);
    return *end || !(v >= 0) || v > 86400 ? 30 : v;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Who holds a lock on the file fd is open on: " by process PID (user NAME)",
 * from /proc/locks, or "" when it cannot be told. */
static void lock_holder(int fd, char *out, size_t outlen)
{
    struct stat sb;
    char line[256];
    FILE *f;

    out[0] = '\0';
    if (fstat(fd, &sb) != 0 || !(f = fopen("/proc/locks", "re")))
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned maj, min;
        unsigned long long ino;
        long pid;
        char kind[16];
        /* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters have "->" */
        if (strstr(line, "->") ||
            sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &pid, &maj, &min, &ino) != 5)
            continue;
        if (ino != (unsigned long long)sb.st_ino || maj != major(sb.st_dev) || min != minor(sb.st_dev) ||
            pid == (long)getpid())
            continue;
        {
            char proc[64], name[64] = "";
            struct stat ps;
            struct passwd pw, *pwp = NULL;
            char pwbuf[1024];
            snprintf(proc, sizeof proc, "/proc/%ld", pid);
            if (stat(proc, &ps) == 0) {
                if (getpwuid_r(ps.st_uid, &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
                    snprintf(name, sizeof name, "%s", pw.pw_name);
                else
                    snprintf(name, sizeof name, "uid %lu", (unsigned long)ps.st_uid);
            }
            if (pid > 0 && name[0])
                snprintf(out, outlen, " by process %ld (user %s)", pid, name);
            else if (pid > 0)
                snprintf(out, outlen, " by process %ld", pid);
        }
        break;
    }
    fclose(f);
}

/* flock(LOCK_EX) with a deadline.  0, or -1 with err naming the lock and,
 * when it can be told, who holds it. */
int se_store_lock_bounded(int fd, const char *path, char *err, size_t errlen)
{
    double limit = lock_timeout(), t0 = mono_now();
    long pause_us = 1000;

    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (mono_now() - t0 >= limit) {
            char who[160];
            lock_holder(fd, who, sizeof who);
            snprintf(err, errlen,
                     "%s: still locked%s after %g s; no job id could be taken "
                     "(SEGEXPORT_LOCK_TIMEOUT sets the wait)", path, who, limit);
            return -1;
        }
        {
            struct timespec ts = { 0, pause_us * 1000 };
            nanosleep(&ts, NULL);
        }
        if (pause_us < 50000)
            pause_us *= 2;
    }
}

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot), or 0 when it cannot be read.  A pid with the same start time is
 * the same process: this is what tells a live worker from a reused pid. */
uint64_t se_store_proc_start(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long v = 0;
    ssize_t n;
    int fd;
    const char *p;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields restart after the last ')'. */
    if (!(p = strrchr(buf, ')')))
        return 0;
    p++;
    /* A zombie has finished: nobody may have reaped it yet (an init that
     * does not reap in a container), but it works on no job any more. */
    if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
        return 0;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p || sscanf(p, " %llu", &v) != 1)
        return 0;
    return (uint64_t)v;
}

int se_store_same_program(pid_t pid)
{
    char path[64];
    struct stat self, other;

    snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
    if (stat("/proc/self/exe", &self) != 0 || stat(path, &other) != 0)
        return -1;
    return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

int se_store_worker_alive(pid_t pid, uint64_t start)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    uint64_t now = se_store_proc_start(pid);
    if (now == 0) /* a zombie; or no /proc to ask, and then kill() has the last word */
        return start != 0 && access("/proc/self/stat", R_OK) != 0;
    /* Without a start time a pid alone proves nothing: another process may
     * have it now.  Such a record has no worker. */
    return start != 0 && now == start;
}

/* This boot's id (36 characters), or "" when it cannot be read.  Start times
 * count from boot, so after a restart another process may have the pid and
 * start time a worker had: a record made under another boot has no worker. */
void se_store_boot_id(char out[40])
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, 39) : -1;

    if (fd >= 0)
        close(fd);
    if (n < 36) {
        out[0] = '\0';
        return;
    }
    out[36] = '\0';
}

