/* The export engine (SPEC §3-§7): one streaming pass, all or nothing.
 *
 * One record path (docs/record-path.md): the pipeline's prep parses every
 * line once into a tape and reads its facts (kind, key, times) on whichever
 * core is free; this thread groups the records by key, keeping each as its
 * text, tape and facts; assemble.c turns a finished group into rows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "errcodes.h"
#include "export_int.h"
#include "input.h"
#include "keyed.h"
#include "pipeline.h"
#include "recfacts.h"
#include "shardkey.h"
#include "tapedom.h"
#include "timeutil.h"

#define KEY_SLACK 65536 /* --keyed: room for KEY<TAB> beyond --max-record-bytes */
#define WARN_LIMIT 20 /* bad-record warnings passed to on_warning; all go to errors[] */

enum { PL_TAPE = 1, PL_SKIP = 2, PL_QKEY = 4 };

void se_x_fail(ctx *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    se_jobstate_failv(c->js, &c->failed, c->why, sizeof c->why, code, fmt, ap);
    va_end(ap);
}

void se_x_oom(ctx *c)
{
    se_x_fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
}

int se_x_write_row(ctx *c, size_t b, const char *s, size_t len)
{
    char err[1024];
    if (se_batch_add(c->batches[b], s, len, err, sizeof err)) {
        se_x_fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
        return -1;
    }
    return 0;
}

static const char *cancel_text(const se_export_params *ep)
{
    return ep->cancel_reason && *ep->cancel_reason ? *ep->cancel_reason : "job cancelled";
}

/* msg: "NAME:LINE: reason" */
static void bad_record_msg(ctx *c, const char *msg)
{
    se_jobstate *js = c->js;
    if (c->not_mine)
        return; /* another shard's to report */
    if (js->shard_n && js->nbad_seq <= SE_ERRORS_KEPT) {
        uint64_t *n = realloc(js->bad_seq, (js->nbad_seq + 1) * sizeof *n);
        if (n) {
            js->bad_seq = n;
            js->bad_seq[js->nbad_seq++] = js->input_records;
        }
    }
    c->js->bad_records++;
    se_jobstate_error(c->js, SE_EC_BAD_RECORD, msg, "segexport.input");
    if (c->js->bad_records <= WARN_LIMIT && c->ep->on_warning)
        c->ep->on_warning(c->ep->warning_ud, msg);
    if (c->js->bad_records > c->ep->o.max_errors)
        se_x_fail(c, SE_EC_JOB_FAILED,
                  "Error in Export Job: %llu bad input records, more than --max-errors %llu",
                  (unsigned long long)c->js->bad_records, (unsigned long long)c->ep->o.max_errors);
}

static void bad_record(ctx *c, const char *name, uint64_t line, const char *reason)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:%llu: %s", name, (unsigned long long)line, reason);
    bad_record_msg(c, msg);
}

/* ---- the group ---------------------------------------------------------- */

static void grec_free(se_grec *r, bool own)
{
    se_record_clear(&r->f);
    if (own) {
        free((char *)r->tape.s);
        free(r->tape.t);
    }
    memset(r, 0, sizeof *r);
}

static void group_drop(ctx *c)
{
    for (size_t i = 0; i < c->nfrags; i++)
        grec_free(&c->frags[i], c->frag_own[i]);
    for (size_t i = 0; i < c->nevents; i++)
        grec_free(&c->events[i], c->event_own[i]);
    c->nfrags = c->nevents = 0;
}

/* Copies a record's text and tokens out of the chunk (or parser) they
 * point into.  -1 on out of memory. */
static int grec_own(se_grec *r)
{
    if (se_record_own(&r->f) != 0)
        return -1;
    char *s = malloc(r->tape.len ? r->tape.len : 1);
    se_tok *t = malloc((r->tape.n ? r->tape.n : 1) * sizeof *t);
    if (!s || !t) {
        free(s);
        free(t);
        return -1;
    }
    memcpy(s, r->tape.s, r->tape.len);
    memcpy(t, r->tape.t, r->tape.n * sizeof *t);
    r->tape.s = s;
    r->tape.t = t;
    r->tape.cap = r->tape.n;
    return 0;
}

/* The chunk is about to go away: the group's records become its own. */
static int group_own(ctx *c)
{
    for (size_t i = 0; i < c->nfrags; i++)
        if (!c->frag_own[i]) {
            if (grec_own(&c->frags[i]) != 0)
                goto oom;
            c->frag_own[i] = true;
        }
    for (size_t i = 0; i < c->nevents; i++)
        if (!c->event_own[i]) {
            if (grec_own(&c->events[i]) != 0)
                goto oom;
            c->event_own[i] = true;
        }
    return 0;
oom:
    se_x_oom(c);
    return -1;
}

static int grow_recs(se_grec **v, bool **own, size_t *cap, size_t n)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? 2 * *cap : 8;
    se_grec *nv = realloc(*v, nc * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    bool *no = realloc(*own, nc * sizeof *no);
    if (!no)
        return -1;
    *own = no;
    *cap = nc;
    return 0;
}

/* Moves rec (its facts; its tape points into the chunk, or must be copied
 * now when copy) into the group. */
static int group_add(ctx *c, se_record *f, const se_tape *tape, bool copy)
{
    bool ev = f->kind == SE_REC_EVENT;
    se_grec **v = ev ? &c->events : &c->frags;
    bool **own = ev ? &c->event_own : &c->frag_own;
    size_t *n = ev ? &c->nevents : &c->nfrags;
    if (grow_recs(v, own, ev ? &c->cap_events : &c->cap_frags, *n) != 0)
        goto oom;
    se_grec *r = &(*v)[*n];
    r->f = *f;
    r->tape = *tape;
    if (copy && grec_own(r) != 0) {
        memset(r, 0, sizeof *r);
        goto oom;
    }
    (*own)[*n] = copy;
    (*n)++;
    memset(f, 0, sizeof *f);
    return 0;
oom:
    se_x_oom(c);
    return -1;
}

static void finish_profile(ctx *c)
{
    if (!c->in_group)
        return;
    c->in_group = false;
    se_x_assemble(c);
    group_drop(c);
}

/* A key's hash for grouping: with --shard the shard's (se_fnv1a64, SPEC
 * §9), else the cheaper se_hash64; one of them throughout a run. */
static uint64_t key_hash(const se_export_limits *o, const char *k, size_t n)
{
    return o->shard ? se_fnv1a64(k, n) : se_hash64(k, n);
}

/* Starts or continues the group of key (h: its key_hash); checks the
 * grouping rule. */
static int group(ctx *c, const char *key, uint64_t h, const se_line *ln)
{
    /* h is the key's key_hash: another hash is another key, known
     * without reading the key's bytes (written on the other core). */
    if (c->in_group && h == c->key_h && !strcmp(key, c->key))
        return 0;
    finish_profile(c);
    if (c->failed)
        return -1;
    if (c->ep->o.keyed) {
        if (c->prev_key && strcmp(key, c->prev_key) < 0) {
            se_x_fail(c, SE_EC_KEY_ORDER, "%s:%llu: input not sorted by key: \"%s\" comes after \"%s\"",
                      ln->name, (unsigned long long)ln->lineno, key, c->prev_key);
            return -1;
        }
        free(c->prev_key);
        if (!(c->prev_key = strdup(key)))
            goto oom;
    } else {
        const char *pname;
        uint64_t pline;
        int r = se_groupcheck_add_hash(c->seen, h, ln->name, ln->lineno, &pname, &pline);
        if (r < 0)
            goto oom;
        if (r > 0) {
            se_x_fail(c, SE_EC_NOT_GROUPED,
                      "input not grouped: key \"%s\" at %s:%llu already appeared at %s:%llu",
                      key, ln->name, (unsigned long long)ln->lineno, pname, (unsigned long long)pline);
            return -1;
        }
    }
    size_t n = strlen(key) + 1;
    if (n > c->key_cap) {
        char *k = realloc(c->key, n < 64 ? 64 : n);
        if (!k)
            goto oom;
        c->key = k;
        c->key_cap = n < 64 ? 64 : n;
    }
    memcpy(c->key, key, n);
    c->key_h = h;
    se_idguard_reset(&c->guard);
    c->in_group = true;
    return 0;
oom:
    se_x_oom(c);
    return -1;
}

/* ---- identityGraph pdg: the group's identities, counted ------------------ */

/* se_idguard_add over a record's tape (every identity SPEC §3 reads, as
 * se_tape_idents collects them); false once the group is over the limit. */
static bool guard_keep(ctx *c, const se_tape *tp)
{
    size_t key;
    if (!c->pdg || c->guard.over)
        return !c->guard.over;
    long n = se_tape_idents(tp, &c->ids, &c->ids_cap, &key, &c->sbuf, &c->sbuf_cap);
    if (n == -2) {
        /* Both spellings of identityMap: the tree merges them. */
        bool oom = false;
        json_object *o = se_tape_to_json(tp, 0, &oom), *m = NULL;
        if (!oom && se_record_normalize(&o) == 0 && json_object_object_get_ex(o, "identityMap", &m))
            se_idguard_add(&c->guard, m);
        json_object_put(o);
        if (oom)
            se_x_oom(c);
        return !c->guard.over;
    }
    if (n < 0) {
        se_x_oom(c);
        return false;
    }
    for (long i = 0; i < n; i++)
        if (!se_idguard_add_one(&c->guard, &c->ids[i]))
            return false;
    return true;
}

/* ---- reading ------------------------------------------------------------ */

/* The record bytes of a line (after the key and TAB with --keyed); NULL when
 * a keyed line has no TAB. */
static const char *record_of(const ctx *c, const char *line, size_t len, size_t *rlen)
{
    if (!c->ep->o.keyed) {
        *rlen = len;
        return line;
    }
    const char *tab = memchr(line, '\t', len);
    if (!tab)
        return NULL;
    *rlen = len - (size_t)(tab + 1 - line);
    return tab + 1;
}

/* prep's facts of the chunk's lines: ch->ext holds ch->ext_cap records,
 * then KEY_ROOM bytes a record for their keys (se_keyspace: a key that
 * does not fit there is malloc'd), one block kept from chunk to chunk. */
enum { KEY_ROOM = 128 };

static se_record *chunk_facts(se_chunk *ch, se_keyspace *ks)
{
    if (ch->ext_cap < ch->nlines) {
        free(ch->ext);
        ch->ext = calloc(ch->nlines, sizeof(se_record) + KEY_ROOM);
        ch->ext_cap = ch->ext ? ch->nlines : 0;
    }
    *ks = (se_keyspace){ .p = (char *)ch->ext + ch->ext_cap * sizeof(se_record),
                         .cap = ch->ext_cap * KEY_ROOM };
    return ch->ext;
}

static void drop_chunk(void *ud, se_chunk *ch, bool free_ext)
{
    (void)ud;
    se_record *f = ch->ext;
    /* Only a line with a tape has facts (prep clears the others'): a chunk
     * of skipped lines costs nothing here. */
    for (size_t i = 0; f && i < ch->nlines && i < ch->ext_cap; i++)
        if (ch->lines[i].flags & PL_TAPE)
            se_record_clear(&f[i]);
    if (free_ext) {
        free(ch->ext);
        ch->ext = NULL;
        ch->ext_cap = 0;
    }
}

static int prep_lines(const ctx *c, se_chunk *ch, se_tape *tp, se_record *facts, se_keyspace *ks)
{
    const se_export_limits *o = &c->ep->o;
    char err[512];
    for (size_t i = 0; i < ch->nlines; i++) {
        se_pline *pl = &ch->lines[i];
        size_t len;
        pl->flags = 0;
        if (pl->too_long)
            continue;
        const char *line = ch->data + pl->off;
        const char *data = record_of(c, line, pl->len, &len);
        if (!data || (o->keyed && (data == line + 1 || len > o->max_record_bytes)))
            continue;
        if (o->shard) {
            /* Decided from the key alone (shardkey.h): another shard's record
             * is neither parsed nor validated here; its owner does that. */
            uint64_t qh;
            bool q = o->keyed ? true : se_shardkey_hash(data, len, &qh);
            if (o->keyed)
                qh = se_fnv1a64(line, (size_t)(data - 1 - line));
            if (q && qh % o->shard_n != o->shard_k) {
                pl->flags = PL_SKIP;
                continue;
            }
            pl->flags = q ? PL_QKEY : 0;
        }
        /* The tokens go straight to the arena (8-byte aligned) when the
         * line's bound fits there; a longer line's are copied. */
        size_t pad = (8 - ch->arena_len % 8) % 8, base = ch->arena_len;
        size_t need = SE_TAPE_TOKENS_MAX(len);
        se_tape *pt = tp, direct;
        if (need <= SE_TAPE_RESERVE_MAX) {
            if (!se_chunk_arena(ch, pad + need * sizeof(se_tok)))
                return -1;
            direct = (se_tape){ .t = (se_tok *)(void *)(ch->arena + base + pad), .cap = (uint32_t)need };
            pt = &direct;
        }
        int r = se_tape_parse(pt, data, len);
        ch->arena_len = base; /* taken again below, for the tokens made */
        if (r == SE_TAPE_NOMEM)
            return -1;
        if (r != SE_TAPE_OK || pt->t[0].kind != SE_TK_OBJ || pt->notjson)
            continue; /* a bad record: worded on the cold path */
        se_record *f = &facts[i];
        if (se_tape_facts_in(pt, f, ks, err, sizeof err) != 0) {
            se_record_clear(f);
            continue;
        }
        if (c->seg_prefilter && f->kind == SE_REC_PROFILE)
            f->seghint = se_x_frag_mentions(c, pt, f->segm) ? SE_SEGHINT_YES : SE_SEGHINT_NO;
        pl->h = o->keyed ? key_hash(o, line, (size_t)(data - 1 - line)) : key_hash(o, f->key, f->key_len);
        if (o->shard && pl->h % o->shard_n != o->shard_k) {
            se_record_clear(f);
            pl->flags |= PL_SKIP;
            continue;
        }
        if (!se_chunk_arena(ch, pad + (size_t)pt->n * sizeof(se_tok))) {
            se_record_clear(f);
            return -1; /* (the arena was big enough for a direct parse) */
        }
        if (pt == tp)
            memcpy(ch->arena + base + pad, tp->t, (size_t)tp->n * sizeof(se_tok));
        pl->text_off = (uint32_t)(base + pad);
        pl->text_len = pt->n;
        pl->flags |= PL_TAPE;
    }
    return 0;
}

/* The pipeline's prep, on either thread: parses every line of the chunk
 * (reads c, writes only the chunk). */
static int prep_chunk(void *ud, se_chunk *ch)
{
    const ctx *c = ud;
    se_keyspace ks;
    se_record *facts = chunk_facts(ch, &ks);
    if (!facts && ch->nlines)
        return -1;
    se_tape tp;
    se_tape_init(&tp); /* per call: prep may run on either thread */
    int rc = prep_lines(c, ch, &tp, facts, &ks);
    se_tape_free(&tp);
    return rc;
}

/* One line, in input order. */
static void take_line(ctx *c, se_chunk *ch, size_t li, uint64_t *seq)
{
    const se_export_limits *o = &c->ep->o;
    const se_pline *pl = &ch->lines[li];
    /* A chunk holding only too-long lines has no data buffer at all. */
    se_line ln = { .data = ch->data ? ch->data + pl->off : "", .len = pl->len, .name = ch->name,
                   .lineno = pl->lineno, .too_long = pl->too_long };
    se_record rec;
    se_tape tape;
    const char *data, *key;
    size_t len;
    char err[512], bm[1024];
    char *given = NULL;

    memset(&rec, 0, sizeof rec);
    c->js->input_records++;
    /* --shard: a bad record belongs to the shard of its quick key (shardkey.h)
     * or, without one, to the shard of its ordinal: reported once over all
     * shards, and merge puts them back in input order. */
    c->not_mine = o->shard && !(pl->flags & PL_QKEY) &&
                  c->js->input_records % o->shard_n != o->shard_k;
    if (ln.too_long) {
        snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                 (unsigned long long)o->max_record_bytes);
        bad_record(c, ln.name, ln.lineno, err);
        return;
    }
    if (!(data = record_of(c, ln.data, ln.len, &len))) {
        bad_record(c, ln.name, ln.lineno, "keyed line without a TAB after the key");
        return;
    }
    if (o->keyed && data == ln.data + 1) {
        /* An empty key: a bad record `key` passed on (keyed.h), reported
         * with its original input name and line. */
        if (se_keyed_bad_read(data, len, bm, sizeof bm))
            bad_record_msg(c, bm);
        else
            bad_record(c, ln.name, ln.lineno, "keyed line with an empty key");
        return;
    }
    if (o->keyed && len > o->max_record_bytes) {
        /* The line may hold the key too; the limit is the record's. */
        snprintf(err, sizeof err, "record longer than --max-record-bytes %llu",
                 (unsigned long long)o->max_record_bytes);
        bad_record(c, ln.name, ln.lineno, err);
        return;
    }
    bool copy = false;
    uint64_t h;
    if (pl->flags & PL_TAPE) {
        se_record *f = &((se_record *)ch->ext)[li];
        rec = *f;
        memset(f, 0, sizeof *f);
        tape = (se_tape){ .s = data, .len = len, .t = (se_tok *)(void *)(ch->arena + pl->text_off),
                          .n = pl->text_len, .cap = pl->text_len };
        h = pl->h;
    } else {
        /* prep refused it: the reason, worded as always. */
        if (se_record_facts(c->rp, data, len, &rec, err, sizeof err)) {
            bad_record(c, ln.name, ln.lineno, err);
            return;
        }
        tape = *se_rparser_tape(c->rp); /* reused for the next line: copied */
        copy = true;
        h = 0;
    }
    rec.seq = (*seq)++;
    key = rec.key;
    if (o->keyed) {
        if (!(given = strndup(ln.data, (size_t)(data - 1 - ln.data)))) {
            se_x_oom(c);
            goto out;
        }
        key = given;
    }
    if (!(pl->flags & PL_TAPE)) {
        h = key_hash(o, key, strlen(key));
        if (o->shard && h % o->shard_n != o->shard_k)
            goto out;
    }
    if (group(c, key, h, &ln) != 0)
        goto out;
    if (!guard_keep(c, &tape))
        goto out; /* the profile is left out: keep nothing more of it */
    group_add(c, &rec, &tape, copy);
out:
    free(given);
    se_record_clear(&rec);
}

/* Progress goes to the caller's callback once a chunk (about 128 KiB), so it
 * costs nothing per record; the caller rate-limits and draws. */
static void progress(ctx *c, const se_chunk *ch, se_prog_phase phase, size_t batch)
{
    se_export_progress p = {
        .phase = phase, .in_bytes = ch ? ch->in_pos : c->in_bytes,
        .records = c->js->input_records, .profiles = c->js->profiles, .rows = c->js->exported,
        .batch = batch, .nbatches = c->nbatches,
    };
    c->in_bytes = p.in_bytes;
    if (c->ep->on_progress)
        c->ep->on_progress(c->ep->progress_ud, &p);
}

static void read_all(ctx *c)
{
    const se_export_limits *o = &c->ep->o;
    se_pipe *pipe = NULL;
    uint64_t seq = 0;

    /* --keyed: a line is KEY<TAB>RECORD; the limit is RECORD's (take_line). */
    size_t maxline = (size_t)o->max_record_bytes + (o->keyed ? KEY_SLACK : 0);
    if (!(c->rp = se_rparser_new()) ||
        !(pipe = se_pipe_start(c->ep->inputs, c->ep->ninputs, maxline, prep_chunk, drop_chunk, c))) {
        se_x_oom(c);
        goto out;
    }
    while (!c->failed) {
        if (group_own(c) != 0)
            break;
        se_chunk *ch = se_pipe_next(pipe);
        if (ch->status < 0) {
            se_x_fail(c, SE_EC_INPUT_READ, "Error reading input: %s", ch->err);
            break;
        }
        if (ch->status == 0) {
            finish_profile(c);
            progress(c, ch, SE_PROG_READ, 0);
            break;
        }
        progress(c, ch, SE_PROG_READ, 0);
        for (size_t i = 0; i < ch->nlines && !c->failed; i++) {
            if (c->ep->cancel && *c->ep->cancel) {
                se_x_fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
                break;
            }
            /* The grouping check's slot of a key a few lines on is fetched
             * while this line is taken: a cache miss a profile, overlapped. */
            if (c->seen && i + 4 < ch->nlines && (ch->lines[i + 4].flags & PL_TAPE))
                se_groupcheck_prefetch(c->seen, ch->lines[i + 4].h);
            if (ch->lines[i].flags & PL_SKIP) {
                c->js->input_records++; /* another shard's: only counted */
                continue;
            }
            take_line(c, ch, i, &seq);
        }
    }
out:
    group_drop(c); /* before the chunks its records may point into */
    se_pipe_free(pipe);
    se_rparser_free(c->rp);
    c->rp = NULL;
}

/* c->keep: with a projection (and no segment evaluation, whose PQL may read
 * any path), the merge writes only the members the row, the namespace
 * counter (identityMap), the segment filters (segmentMembership) and the
 * event list's check (timeSeriesEvents) read. */
static int keep_members(ctx *c)
{
    size_t n = 0;
    if (!c->proj || c->eval)
        return 0;
    while (se_proj_top_name(c->proj, n))
        n++;
    const char **names = calloc(n + 3, sizeof *names);
    size_t *lens = calloc(n + 3, sizeof *lens);
    if (!names || !lens) {
        free(names);
        free(lens);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = se_proj_top_name(c->proj, i);
    names[n++] = "identityMap";
    if (c->job->nsegs > 0 || c->job->has_sqt)
        names[n++] = "segmentMembership";
    if (c->job->has_event_list)
        names[n++] = "timeSeriesEvents";
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(names[i]);
    c->keep = (se_mt_keep){ .names = names, .lens = lens, .n = n };
    return 0;
}

static int open_batches(ctx *c)
{
    const se_export_params *ep = c->ep;
    char *dir = NULL, err[1024];
    int rc = -1;

    if (asprintf(&dir, "%s/%s", ep->output_root, c->job->dataset_id) < 0) {
        dir = NULL;
        goto out;
    }
    c->nbatches = c->js->nbatches;
    c->batches = calloc(c->nbatches, sizeof *c->batches);
    if (!c->batches)
        goto out;
    for (size_t i = 0; i < c->nbatches; i++) {
        json_object *segs = se_jobstate_batch_segments(c->job, i);
        se_batch_info bi = {
            .batch_id = c->js->batch_ids[i],
            .dataset_id = c->job->dataset_id,
            .job_id = c->js->id,
            .schema_name = c->job->schema_name,
            .segments = segs,
        };
        c->batches[i] = se_batch_new(dir, &bi, ep->o.format, ep->o.level, ep->o.rows_per_file,
                                     c->js->creation_ms / 1000, err, sizeof err);
        json_object_put(segs);
        if (!c->batches[i]) {
            se_x_fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
            goto out;
        }
    }
    rc = 0;
out:
    if (rc && !c->failed)
        se_x_fail(c, SE_EC_JOB_FAILED, "Error in Export Job: out of memory");
    free(dir);
    return rc;
}

static void finish_batches(ctx *c)
{
    char err[1024];
    for (size_t i = 0; i < c->nbatches && !c->failed; i++) {
        progress(c, NULL, SE_PROG_WRITE, i);
        if (se_batch_finish(c->batches[i], err, sizeof err))
            se_x_fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    }
    if (!c->failed)
        progress(c, NULL, SE_PROG_COMMIT, 0);
    /* Past this point a cancellation is either seen here or too late: the
     * worker's forced cancel must not run while archives go into place. */
    if (c->ep->committing)
        *c->ep->committing = 1;
    if (c->ep->cancel && *c->ep->cancel)
        se_x_fail(c, SE_EC_CANCELLED, "%s", cancel_text(c->ep));
    /* Commit only when every archive is complete: all or nothing. */
    for (size_t i = 0; i < c->nbatches && !c->failed; i++)
        if (se_batch_commit(c->batches[i], err, sizeof err))
            se_x_fail(c, SE_EC_WRITE, "Error writing profiles to output path: %s", err);
    /* A later batch failed to commit: take back the ones already in place
     * (only those this job renamed there), so a failed job leaves none. */
    for (size_t i = 0; i < c->nbatches && c->failed; i++)
        if (se_batch_rollback(c->batches[i], err, sizeof err) && c->ep->on_warning)
            c->ep->on_warning(c->ep->warning_ud, err);
    for (size_t i = 0; i < c->nbatches && !c->failed && c->ep->on_progress; i++) {
        se_export_progress p = { .phase = SE_PROG_ARCHIVE, .batch = i, .nbatches = c->nbatches,
                                 .path = se_batch_final_path(c->batches[i]),
                                 .archive_rows = se_batch_records(c->batches[i]) };
        struct stat st;
        if (p.path && stat(p.path, &st) == 0)
            p.archive_bytes = (uint64_t)st.st_size;
        c->ep->on_progress(c->ep->progress_ud, &p);
    }
}

int se_export_execute(const se_export_params *ep, char *why, size_t whylen)
{
    ctx c;
    int rc;

    memset(&c, 0, sizeof c);
    c.ep = ep;
    c.job = ep->job;
    c.js = ep->js;
    c.eval = c.job->eval_segmentation && ep->segdefs;
    c.seg_prefilter = c.job->nsegs > 0 && !c.eval && !ep->tree_path;
    c.pdg = c.job->policy && c.job->policy->graph == SE_GRAPH_PDG && !ep->graph_checked;
    se_profile_init(&c.tprof);
    se_tape_init(&c.mtape);
    se_tape_init(&c.etape);
    c.js->export_start_ms = se_now_ms();

    if (se_proj_compile(c.job->fields, &c.proj) ||
        se_proj_compile(c.job->event_fields, &c.evproj) ||
        !(c.qual = calloc(c.job->nsegs + 1, sizeof *c.qual)) ||
        keep_members(&c) != 0 ||
        (!ep->o.keyed && !(c.seen = se_groupcheck_new()))) {
        se_x_oom(&c);
        goto out;
    }
    if (open_batches(&c))
        goto out;
    read_all(&c);
    if (!c.failed)
        finish_batches(&c);
out:
    for (size_t i = 0; i < c.nbatches; i++)
        se_batch_free(c.batches[i]); /* removes temporaries of uncommitted batches */
    free(c.batches);
    group_drop(&c);
    free(c.frags);
    free(c.events);
    free(c.frag_own);
    free(c.event_own);
    free(c.key);
    free(c.ids);
    se_x_assemble_free(&c);
    free((void *)c.keep.names);
    free((void *)c.keep.lens);
    se_proj_free(c.proj);
    se_proj_free(c.evproj);
    se_groupcheck_free(c.seen);
    free(c.qual);
    free(c.prev_key);
    c.js->export_end_ms = c.js->update_ms = se_now_ms();
    c.js->finished = true;
    c.js->status = c.failed ? "FAILED" : "SUCCEEDED";
    rc = c.failed ? 1 : 0;
    if (why)
        snprintf(why, whylen, "%s", c.failed ? c.why : "");
    return rc;
}
