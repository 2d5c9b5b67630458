/* subreaper CMD [ARG...]: runs CMD as the only child of a process that is a
 * child subreaper (prctl PR_SET_CHILD_SUBREAPER) and reaps nothing but CMD
 * until CMD ends -- the parent a process supervisor, a container's init or a
 * CI runner may be.  Every process orphaned below it (a `create` worker, a
 * daemonized helper) is re-parented here and, once it exits, stays a zombie
 * until the end.  Then the zombies are reaped and counted on stderr, and the
 * exit status is CMD's.  `make check-subreaper` runs the whole suite so: a
 * test that took a zombie for a live process would fail.
 * Owner: tests (issue 14).  Failure: exit 125 when CMD cannot be started. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    pid_t child, w;
    int st = 0, rc = 125;
    unsigned long zombies = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: subreaper CMD [ARG...]\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        fprintf(stderr, "subreaper: prctl: %s\n", strerror(errno));
        return 125;
    }
    child = fork();
    if (child < 0) {
        fprintf(stderr, "subreaper: fork: %s\n", strerror(errno));
        return 125;
    }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "subreaper: %s: %s\n", argv[1], strerror(errno));
        _exit(125);
    }
    /* Only CMD: every other child stays unreaped meanwhile. */
    while ((w = waitpid(child, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w == child)
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    /* The end: reap the orphans that have exited; leave running ones be. */
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) != 0 || si.si_pid == 0)
            break;
        zombies++;
    }
    fprintf(stderr, "subreaper: %s exited %d; %lu orphan(s) were kept unreaped until the end\n",
            argv[1], rc, zombies);
    return rc;
}
