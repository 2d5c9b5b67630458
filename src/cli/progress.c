/* The progress display (see progress.h): what the engine reports, drawn for a
 * terminal, a log or Hadoop Streaming.  The engine never prints progress. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "msg.h"
#include "progress.h"

enum mode { M_OFF, M_TTY, M_LINES, M_HADOOP };

struct se_pview {
    enum mode mode;
    bool tty;                  /* stderr is a terminal */
    int64_t job_id;
    const char *ext;           /* archive format, for the write phase */
    bool compressed;
    bool reads;                /* the job reads input (merge reads none) */
    uint64_t total;            /* input size; 0 when unknown */
    int64_t every_ms;          /* least time between two reading states */
    int64_t start_ms, last_ms;
    se_export_progress last;   /* the latest report */
    bool have_last;
    bool drawn;                /* a redrawn line is on screen, cursor at its end */
    uint64_t sent[4];          /* Hadoop counters already reported */
    pthread_mutex_t mu;
};

/* The one display msg.c clears before it prints a message. */
static se_pview *active;

/* The size of input path, or (uint64_t)-1 when it is not known in advance:
 * stdin counts when it is a regular file (`run job.json < dump`), from where
 * it stands. */
static uint64_t input_size(const char *path)
{
    struct stat st;
    if (strcmp(path, "-")) {
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            return (uint64_t)-1;
        return (uint64_t)st.st_size;
    }
    off_t at = lseek(0, 0, SEEK_CUR);
    if (fstat(0, &st) || !S_ISREG(st.st_mode) || at < 0 || at > st.st_size)
        return (uint64_t)-1;
    return (uint64_t)(st.st_size - at);
}

/* SEGEXPORT_PROGRESS_MS: the least time between two reading states (a log
 * may want one a minute; 0 shows every one the engine reports); else 250 ms
 * for the redrawn line, 1 s for lines that stay (a log, Hadoop). */
static int64_t interval_ms(bool tty)
{
    const char *e = getenv("SEGEXPORT_PROGRESS_MS");
    char *end;
    long long v;
    if (e && *e >= '0' && *e <= '9') {
        v = strtoll(e, &end, 10);
        if (!*end && v >= 0)
            return v;
    }
    return tty ? 250 : 1000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *se_human_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *units[] = { "kB", "MB", "GB", "TB", "PB" };
    double v = (double)n;
    size_t u = 0;

    if (n < 1000) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return buf;
    }
    v /= 1000;
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

static void fmt_duration(int64_t s, char *buf, size_t len)
{
    if (s >= 3600)
        snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* Ends the redrawn line so that a message can take a line of its own. */
static void clear_line_locked(se_pview *v)
{
    if (v->drawn) {
        fputs("\r\033[K", stderr);
        v->drawn = false;
    }
}

static void clear_hook(void)
{
    se_pview *v = active;
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    clear_line_locked(v);
    pthread_mutex_unlock(&v->mu);
}

se_pview *se_pview_new(const se_opts *o, int64_t job_id, char *const *inputs, size_t n)
{
    se_pview *v = calloc(1, sizeof *v);
    const char *hp = getenv("mapreduce_task_partition");

    if (!v)
        return NULL;
    pthread_mutex_init(&v->mu, NULL);
    v->tty = isatty(2);
    v->job_id = job_id;
    v->ext = se_format_ext(o->format);
    v->compressed = o->format != SE_FMT_TAR;
    v->start_ms = v->last_ms = mono_ms();
    if (o->progress == 0)
        v->mode = M_OFF;
    else if (hp && (o->progress > 0 || se_verbosity >= 0))
        v->mode = M_HADOOP;
    else if (o->progress > 0)
        v->mode = v->tty ? M_TTY : M_LINES;
    else /* automatic: a terminal, and not -q */
        v->mode = v->tty && se_verbosity >= 0 ? M_TTY : M_OFF;
    v->every_ms = interval_ms(v->mode == M_TTY);
    v->reads = o->cmd != SE_CMD_MERGE;
    /* The size is known when every input is a regular file (no INPUT: stdin). */
    for (size_t i = 0; i < (n ? n : 1) && v->reads; i++) {
        uint64_t sz = input_size(n ? inputs[i] : "-");
        if (sz == (uint64_t)-1) {
            v->total = 0;
            break;
        }
        v->total += sz;
    }
    if (v->mode == M_TTY) {
        active = v;
        se_msg_set_prelude(clear_hook);
    }
    return v;
}

/* The text of the current state, without "segexport: ". */
static void describe(se_pview *v, const se_export_progress *p, int64_t now, bool final,
                     char *buf, size_t len)
{
    char a[32], b[32], rate[48] = "", pct[64] = "";
    size_t k;

    if (!final && p->phase == SE_PROG_WRITE) {
        k = (size_t)snprintf(buf, len, "job %lld: %s archive %zu of %zu (%s)",
                             (long long)v->job_id, v->compressed ? "compressing" : "writing",
                             p->batch + 1, p->nbatches, v->ext);
        /* (a merge knows its rows only once they are written) */
        if (v->reads && k < len)
            snprintf(buf + k, len - k, ", %llu rows", (unsigned long long)p->rows);
        return;
    }
    if (!final && p->phase == SE_PROG_COMMIT) {
        snprintf(buf, len, "job %lld: committing %zu archive%s, %llu rows", (long long)v->job_id,
                 p->nbatches, p->nbatches == 1 ? "" : "s", (unsigned long long)p->rows);
        return;
    }
    if (!v->reads) { /* a merge: nothing read, only rows written */
        snprintf(buf, len, "job %lld: %llu rows", (long long)v->job_id, (unsigned long long)p->rows);
        return;
    }
    se_human_bytes(p->in_bytes, a, sizeof a);
    if (!final && now > v->start_ms) {
        double bps = (double)p->in_bytes * 1000.0 / (double)(now - v->start_ms);
        se_human_bytes((uint64_t)bps, b, sizeof b);
        snprintf(rate, sizeof rate, ", %s/s", b);
        if (v->total && p->in_bytes <= v->total) {
            char eta[32] = "";
            if (bps > 0)
                fmt_duration((int64_t)((double)(v->total - p->in_bytes) / bps + 0.5), eta, sizeof eta);
            snprintf(pct, sizeof pct, " (%d%%%s%s)",
                     (int)((double)p->in_bytes * 100.0 / (double)v->total),
                     *eta ? ", ETA " : "", eta);
        }
    }
    if (!final && v->total) {
        se_human_bytes(v->total, b, sizeof b);
        k = (size_t)snprintf(buf, len, "job %lld: %s of %s%s", (long long)v->job_id, a, b, pct);
    } else {
        k = (size_t)snprintf(buf, len, "job %lld: %s read", (long long)v->job_id, a);
    }
    if (k < len)
        snprintf(buf + k, len - k, ", %llu records, %llu profiles, %llu rows%s",
                 (unsigned long long)p->records, (unsigned long long)p->profiles,
                 (unsigned long long)p->rows, rate);
}

static void draw_tty_locked(se_pview *v, const char *text, bool final)
{
    struct winsize ws;
    int width = 0;

    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 12)
        width = ws.ws_col - 1 - (int)strlen("segexport: ");
    /* A line longer than the terminal would wrap, and CR would then redraw
     * only its last row: cut it to the width. */
    fprintf(stderr, "\rsegexport: %.*s\033[K%s", width > 0 ? width : (int)strlen(text), text,
            final ? "\n" : "");
    fflush(stderr);
    v->drawn = !final;
}

static void hadoop_counters(se_pview *v, const se_export_progress *p)
{
    static const char *names[4] = { "input_bytes", "records", "profiles", "rows" };
    uint64_t now[4] = { p->in_bytes, p->records, p->profiles, p->rows };
    for (int i = 0; i < 4; i++) {
        if (now[i] > v->sent[i])
            fprintf(stderr, "reporter:counter:segexport,%s,%llu\n", names[i],
                    (unsigned long long)(now[i] - v->sent[i]));
        v->sent[i] = now[i] > v->sent[i] ? now[i] : v->sent[i];
    }
}

void se_pview_update(void *pview, const se_export_progress *p)
{
    se_pview *v = pview;
    char text[512], a[32];
    int64_t now;

    if (!v)
        return;
    if (p->phase == SE_PROG_ARCHIVE) {
        /* -v: where the archive went; in every mode (msg.c clears the line). */
        se_info("wrote %s: %llu row%s, %s", p->path ? p->path : "?",
                (unsigned long long)p->archive_rows, p->archive_rows == 1 ? "" : "s",
                se_human_bytes(p->archive_bytes, a, sizeof a));
        return;
    }
    pthread_mutex_lock(&v->mu);
    v->last = *p;
    v->have_last = true;
    now = mono_ms();
    /* Phases other than reading are shown at once: they may last long. */
    if (v->mode == M_OFF || (p->phase == SE_PROG_READ && now - v->last_ms < v->every_ms))
        goto out;
    v->last_ms = now;
    describe(v, p, now, false, text, sizeof text);
    switch (v->mode) {
    case M_TTY: draw_tty_locked(v, text, false); break;
    case M_LINES: fprintf(stderr, "segexport: %s\n", text); break;
    case M_HADOOP:
        fprintf(stderr, "reporter:status:segexport %s\n", text);
        hadoop_counters(v, p);
        break;
    default: break;
    }
    fflush(stderr);
out:
    pthread_mutex_unlock(&v->mu);
}

void se_pview_counts(se_pview *v, uint64_t records, uint64_t profiles, uint64_t rows)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    if (v->have_last) {
        v->last.records = records;
        v->last.profiles = profiles;
        v->last.rows = rows;
    }
    pthread_mutex_unlock(&v->mu);
}

void se_pview_end(se_pview *v, bool succeeded)
{
    char text[512];
    size_t k;

    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    if (v->mode == M_OFF || !v->have_last)
        goto out;
    describe(v, &v->last, mono_ms(), true, text, sizeof text);
    k = strlen(text);
    snprintf(text + k, sizeof text - k, ", %s", succeeded ? "done" : "FAILED");
    switch (v->mode) {
    case M_TTY: draw_tty_locked(v, text, true); break;
    case M_LINES: fprintf(stderr, "segexport: %s\n", text); break;
    case M_HADOOP:
        fprintf(stderr, "reporter:status:segexport %s\n", text);
        hadoop_counters(v, &v->last);
        break;
    default: break;
    }
    fflush(stderr);
out:
    pthread_mutex_unlock(&v->mu);
}

void se_pview_interrupt(se_pview *v)
{
    if (!v || !v->tty)
        return;
    pthread_mutex_lock(&v->mu);
    /* After "^C" the line is the terminal's: the next draw starts afresh. */
    fputc('\n', stderr);
    fflush(stderr);
    v->drawn = false;
    pthread_mutex_unlock(&v->mu);
}

void se_pview_free(se_pview *v)
{
    if (!v)
        return;
    if (active == v) {
        se_msg_set_prelude(NULL);
        active = NULL;
    }
    pthread_mutex_destroy(&v->mu);
    free(v);
}
