#ifndef SEGEXPORT_OPTS_H
#define SEGEXPORT_OPTS_H
/* The options of one invocation.  The CLI fills it (cli.c); the engine gets
 * what it needs of it as se_export_limits (export.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "batch.h"
#include "export.h"

typedef enum {
    SE_CMD_NONE, SE_CMD_RUN, SE_CMD_CREATE, SE_CMD_GET, SE_CMD_LIST,
    SE_CMD_CANCEL, SE_CMD_KEY, SE_CMD_MERGE, SE_CMD_WORKER,
    SE_CMD_FILES, SE_CMD_CAT, SE_CMD_VERIFY
} se_command;

/* Exit statuses (SPEC §11). */
enum {
    SE_EXIT_OK = 0, SE_EXIT_FAILED = 1, SE_EXIT_USAGE = 2, SE_EXIT_INVALID = 3,
    SE_EXIT_NOT_FOUND = 4, SE_EXIT_SYSTEM = 5
};

typedef struct se_opts {
    se_command cmd;
    const char *cmd_name;
    const char *store_dir;          /* --store / SEGEXPORT_STORE / ./.segexport */
    const char *org;                /* --org / SEGEXPORT_ORG / local@AdobeOrg */
    const char *sandbox;            /* --sandbox / SEGEXPORT_SANDBOX / prod */
    const char *output_dir;         /* --output; NULL = STORE/datasets */
    se_format format;               /* --format, default tar.gz */
    int level;                      /* --level, -1 = format default */
    const char *merge_policies;     /* --merge-policies FILE or NULL */
    const char *segment_definitions;/* --segment-definitions FILE or NULL */
    uint64_t max_errors;            /* --max-errors, 0 */
    uint64_t max_record_bytes;      /* --max-record-bytes, 16 MiB */
    uint64_t rows_per_file;         /* --rows-per-file, 100000 */
    bool keyed;                     /* --keyed */
    bool graph;                     /* key --graph: identity stitching */
    bool shard;                     /* --shard K/N given */
    uint64_t shard_k, shard_n;
    int progress;                   /* 1 on, 0 off, -1 auto (stderr is a tty) */
    uint64_t limit;                 /* list --limit, 20 */
    const char *offset;             /* list --offset TOKEN */
    const char *status;             /* list --status */
    char **operands;                /* positional arguments after the command */
    size_t noperands;
} se_opts;

/* Fills o from argv.  Returns 0 to go on, 1 when --help/--version was printed
 * (exit 0), or -1 after printing a usage error (exit 2). */
int se_cli_parse(int argc, char **argv, se_opts *o);
void se_cli_free(se_opts *o);

/* The engine's share of the options. */
static inline se_export_limits se_export_limits_of(const se_opts *o)
{
    return (se_export_limits){
        .format = o->format, .level = o->level, .rows_per_file = o->rows_per_file,
        .max_errors = o->max_errors, .max_record_bytes = o->max_record_bytes,
        .keyed = o->keyed, .shard = o->shard, .shard_k = o->shard_k, .shard_n = o->shard_n,
    };
}

#endif
