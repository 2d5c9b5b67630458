#ifndef SEGEXPORT_PIPELINE_H
#define SEGEXPORT_PIPELINE_H
/* A reader thread in front of the export: it reads the INPUTs (libarchive:
 * decompression, archive members) and cuts lines into chunks of about 128 KiB,
 * which the caller takes in input order.  Each chunk is also "prepared" once
 * (the caller's prep callback, e.g. the pre-parse of scan.h) by whichever
 * thread gets to it first: the reader while it would otherwise wait for the
 * caller, the caller otherwise; so both cores work on plain input and the
 * reader decompresses while the caller works on compressed input.
 *
 * Memory: at most SE_PIPE_CHUNKS chunks are in flight, each about 128 KiB of
 * line bytes plus what prep adds (a chunk grows to hold one longer line).
 *
 * Ownership: chunks belong to the pipeline; a chunk returned by se_pipe_next is
 * valid until the next se_pipe_next or se_pipe_free.  Failures: read errors
 * arrive, in order, as the chunk with status -1 after the last good line;
 * out of memory in the reader also ends the stream with status -1. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SE_PIPE_CHUNKS = 8 };

/* One line and what prep made of it. */
typedef struct se_pline {
    uint32_t off, len;         /* the line's bytes in chunk->data */
    uint64_t lineno;
    bool too_long;
    /* For prep: */
    uint16_t flags;
    uint32_t a, b, c, d;       /* e.g. offsets of the key parts, relative to the line */
    uint32_t text_off, text_len; /* prep's text in chunk->arena */
    uint64_t h;                /* e.g. a hash of the line's key */
    uint32_t row_off, row_len, sig_len; /* prep's second text (e.g. a row and its
                                 namespaces, sig_len bytes right after it) */
} se_pline;

typedef struct se_chunk {
    int status;                /* 1: lines; 0: end of input; -1: error (message in err) */
    char *name;                /* the lines' input name (one name a chunk), owned */
    char *data;
    size_t data_len, data_cap;
    se_pline *lines;
    size_t nlines, cap_lines;
    char *arena;               /* prep's output bytes */
    size_t arena_len, arena_cap;
    void *ext;                 /* prep's per-line extras (e.g. parsed records), owned by prep/drop */
    size_t ext_cap;
    char err[1024];
    int prepared;              /* internal: 0 no, 1 in progress, 2 done */
    uint64_t in_pos;           /* input bytes consumed (compressed) once this chunk was cut */
} se_chunk;

/* prep must be safe to run on either thread (it only reads shared state) and
 * may grow chunk->arena with se_chunk_arena.  It returns 0, or -1 on out of
 * memory (the chunk then fails with status -1). */
typedef int (*se_prep_fn)(void *ud, se_chunk *ch);

/* Releases what prep left in a chunk (ext's contents and ext itself may be
 * kept for reuse or freed; free_ext tells: true when the chunk goes away). */
typedef void (*se_drop_fn)(void *ud, se_chunk *ch, bool free_ext);

/* Reserves n more bytes in ch->arena; returns a pointer to them or NULL. */
char *se_chunk_arena(se_chunk *ch, size_t n);

typedef struct se_pipe se_pipe;

/* Starts the reader thread on paths (borrowed; see se_input_open).  NULL on
 * failure (out of memory, thread creation). */
se_pipe *se_pipe_start(char *const *paths, size_t n, size_t max_record_bytes,
                       se_prep_fn prep, se_drop_fn drop, void *ud);

/* The next chunk in input order, prepared.  Never NULL. */
se_chunk *se_pipe_next(se_pipe *p);

/* Compressed bytes read so far. */
uint64_t se_pipe_bytes(se_pipe *p);

/* Stops the reader (it may be mid-input), joins it, frees everything.  NULL ok. */
void se_pipe_free(se_pipe *p);

/* The size of a chunk's line bytes (128 KiB), read by se_pipe_start: tests
 * make it small to put chunk boundaries everywhere. */
extern size_t se_pipe_chunk_bytes;

#endif
