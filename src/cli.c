/* Command-line parsing: fills se_opts from argv, GNU style (options and
 * operands mix, --opt=value and --opt value, "--" ends options).  The option
 * table is data; the parser prints usage errors and never exits. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "msg.h"
#include "opts.h"

#ifndef SEGEXPORT_VERSION
#define SEGEXPORT_VERSION "0.1.0"
#endif

enum opt_id {
    O_STORE, O_ORG, O_SANDBOX, O_OUTPUT, O_FORMAT, O_LEVEL, O_MERGE_POLICIES,
    O_SEGDEFS, O_MAX_ERRORS, O_MAX_RECORD_BYTES, O_ROWS_PER_FILE, O_KEYED,
    O_SHARD, O_PROGRESS, O_NO_PROGRESS, O_QUIET, O_VERBOSE, O_HELP, O_VERSION,
    O_LIMIT, O_OFFSET, O_STATUS
};

/* Which commands take an option: bit per se_command. */
#define C(x) (1u << (x))
#define C_EXPORT (C(SE_CMD_RUN) | C(SE_CMD_CREATE) | C(SE_CMD_WORKER))
#define C_STORE (C_EXPORT | C(SE_CMD_GET) | C(SE_CMD_LIST) | C(SE_CMD_CANCEL) | C(SE_CMD_MERGE))
#define C_ALL 0xffffu

static const struct opt {
    const char *name;
    char short_name;
    int id;
    int has_arg;
    unsigned cmds;
} opts_table[] = {
    { "store", 0, O_STORE, 1, C_STORE },
    { "org", 0, O_ORG, 1, C_STORE },
    { "sandbox", 0, O_SANDBOX, 1, C_STORE },
    { "output", 0, O_OUTPUT, 1, C_EXPORT | C(SE_CMD_MERGE) },
    { "format", 0, O_FORMAT, 1, C_EXPORT | C(SE_CMD_MERGE) },
    { "level", 0, O_LEVEL, 1, C_EXPORT | C(SE_CMD_MERGE) },
    { "merge-policies", 0, O_MERGE_POLICIES, 1, C_EXPORT | C(SE_CMD_KEY) | C(SE_CMD_MERGE) },
    { "segment-definitions", 0, O_SEGDEFS, 1, C_EXPORT | C(SE_CMD_MERGE) },
    { "max-errors", 0, O_MAX_ERRORS, 1, C_EXPORT | C(SE_CMD_KEY) },
    { "max-record-bytes", 0, O_MAX_RECORD_BYTES, 1, C_EXPORT | C(SE_CMD_KEY) },
    { "rows-per-file", 0, O_ROWS_PER_FILE, 1, C_EXPORT | C(SE_CMD_MERGE) },
    { "keyed", 0, O_KEYED, 0, C_EXPORT },
    { "shard", 0, O_SHARD, 1, C_EXPORT },
    { "progress", 0, O_PROGRESS, 0, C_ALL },
    { "no-progress", 0, O_NO_PROGRESS, 0, C_ALL },
    { "quiet", 'q', O_QUIET, 0, C_ALL },
    { "verbose", 'v', O_VERBOSE, 0, C_ALL },
    { "help", 'h', O_HELP, 0, C_ALL },
    { "version", 0, O_VERSION, 0, C_ALL },
    { "limit", 0, O_LIMIT, 1, C(SE_CMD_LIST) },
    { "offset", 0, O_OFFSET, 1, C(SE_CMD_LIST) },
    { "status", 0, O_STATUS, 1, C(SE_CMD_LIST) },
};

static const struct cmd {
    const char *name;
    se_command cmd;
    const char *usage;
} cmds_table[] = {
    { "run", SE_CMD_RUN, "run [OPTIONS] JOB [INPUT...]\n"
      "  Create the job, execute it in this process, print the final job JSON.\n" },
    { "create", SE_CMD_CREATE, "create [OPTIONS] JOB [INPUT...]\n"
      "  Validate, record the job as NEW, start a detached worker, print the NEW job JSON.\n" },
    { "get", SE_CMD_GET, "get [OPTIONS] ID\n  Print the job JSON.\n" },
    { "list", SE_CMD_LIST, "list [OPTIONS] [--limit N] [--offset TOKEN] [--status S]\n"
      "  Print {records, page, link}, newest first.\n" },
    { "cancel", SE_CMD_CANCEL, "cancel [OPTIONS] ID\n"
      "  Cancel a running job, or delete a finished job's record.\n" },
    { "delete", SE_CMD_CANCEL, "delete [OPTIONS] ID\n  Same as cancel.\n" },
    { "key", SE_CMD_KEY, "key [OPTIONS] [INPUT...]\n"
      "  Print KEY<TAB>RECORD for every input record (scale-out mapper).\n" },
    { "merge", SE_CMD_MERGE, "merge [OPTIONS] RESULT.json...\n"
      "  Combine the results of shard runs of one job into one job.\n" },
    { "__worker", SE_CMD_WORKER, NULL },
};

static const char options_help[] =
    "Options:\n"
    "  --store DIR              job store (env SEGEXPORT_STORE, default ./.segexport)\n"
    "  --org ID                 IMS org (env SEGEXPORT_ORG, default local@AdobeOrg)\n"
    "  --sandbox NAME           sandbox (env SEGEXPORT_SANDBOX, default prod)\n"
    "  --output DIR             batch archives go to DIR/<datasetId>/ (default STORE/datasets)\n"
    "  --format F               tar.gz (default), tar.zst, tar.xz, tar, zip\n"
    "  --level N                compression level (format default)\n"
    "  --merge-policies FILE    merge policy definitions\n"
    "  --segment-definitions FILE  segment definitions\n"
    "  --max-errors N           bad input records tolerated (default 0)\n"
    "  --max-record-bytes N     longest input line accepted (default 16777216)\n"
    "  --rows-per-file N        rows per part file (default 100000)\n"
    "  --keyed                  input is KEY<TAB>RECORD lines sorted by KEY\n"
    "  --shard K/N              only profiles whose key hashes to shard K of N\n"
    "  --progress, --no-progress  progress on stderr (default: when stderr is a terminal)\n"
    "  -q, --quiet              no warnings    -v, --verbose  more messages\n"
    "  -h, --help               this help      --version      print the version\n";

static void print_help(const struct cmd *c)
{
    if (c) {
        printf("Usage: segexport %s\n%s", c->usage, options_help);
        return;
    }
    printf("Usage: segexport COMMAND [OPTIONS] [ARGS]\n\n"
           "Offline Adobe Experience Platform segment export jobs.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof cmds_table / sizeof cmds_table[0]; i++)
        if (cmds_table[i].usage)
            printf("  %s", cmds_table[i].usage);
    printf("\n%s\nRun 'segexport COMMAND --help' for one command.\n", options_help);
}

/* strtoull with every check: digits only, no sign, no overflow, >= min. */
static int parse_u64(const char *name, const char *s, uint64_t min, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9')
        goto bad;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min)
        goto bad;
    *out = v;
    return 0;
bad:
    se_error("--%s: '%s' is not an integer >= %llu", name, s, (unsigned long long)min);
    return -1;
}

static int parse_shard(const char *s, se_opts *o)
{
    const char *slash = strchr(s, '/');
    char kbuf[32];
    if (!slash || (size_t)(slash - s) >= sizeof kbuf || slash == s)
        goto bad;
    memcpy(kbuf, s, (size_t)(slash - s));
    kbuf[slash - s] = '\0';
    if (parse_u64("shard", kbuf, 0, &o->shard_k) || parse_u64("shard", slash + 1, 1, &o->shard_n))
        return -1;
    if (o->shard_k >= o->shard_n)
        goto bad;
    o->shard = true;
    return 0;
bad:
    se_error("--shard: '%s' is not K/N with 0 <= K < N", s);
    return -1;
}

static int apply(se_opts *o, const struct opt *op, const char *val)
{
    uint64_t u;
    /* An empty directory, scope or file name is a mistake, never a default:
     * --output= would otherwise put the archives under / . */
    switch (op->id) {
    case O_STORE: case O_ORG: case O_SANDBOX: case O_OUTPUT: case O_MERGE_POLICIES:
    case O_SEGDEFS:
        if (!*val) {
            se_error("--%s: must not be empty", op->name);
            return -1;
        }
        break;
    default: break;
    }
    switch (op->id) {
    case O_STORE: o->store_dir = val; break;
    case O_ORG: o->org = val; break;
    case O_SANDBOX: o->sandbox = val; break;
    case O_OUTPUT: o->output_dir = val; break;
    case O_FORMAT:
        if (se_format_parse(val, &o->format)) {
            se_error("--format: '%s' is not one of tar.gz, tar.zst, tar.xz, tar, zip", val);
            return -1;
        }
        break;
    case O_LEVEL:
        if (parse_u64("level", val, 0, &u))
            return -1;
        /* Kept as given (not clamped), so the range message names it. */
        if (u > INT_MAX) {
            se_error("--level %s: no format takes a level that high", val);
            return -1;
        }
        o->level = (int)u;
        break;
    case O_MERGE_POLICIES: o->merge_policies = val; break;
    case O_SEGDEFS: o->segment_definitions = val; break;
    case O_MAX_ERRORS: return parse_u64("max-errors", val, 0, &o->max_errors);
    case O_MAX_RECORD_BYTES: return parse_u64("max-record-bytes", val, 1, &o->max_record_bytes);
    case O_ROWS_PER_FILE: return parse_u64("rows-per-file", val, 1, &o->rows_per_file);
    case O_KEYED: o->keyed = true; break;
    case O_SHARD: return parse_shard(val, o);
    case O_PROGRESS: o->progress = 1; break;
    case O_NO_PROGRESS: o->progress = 0; break;
    case O_QUIET: se_verbosity = -1; break;
    case O_VERBOSE: se_verbosity = 1; break;
    case O_LIMIT: return parse_u64("limit", val, 1, &o->limit);
    case O_OFFSET: o->offset = *val ? val : NULL; break; /* "": the first page */
    case O_STATUS:
        if (strcmp(val, "NEW") && strcmp(val, "PROCESSING") && strcmp(val, "SUCCEEDED") &&
            strcmp(val, "FAILED")) {
            se_error("--status: '%s' is not one of NEW, PROCESSING, SUCCEEDED, FAILED", val);
            return -1;
        }
        o->status = val;
        break;
    default: break;
    }
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int se_cli_parse(int argc, char **argv, se_opts *o)
{
    const struct cmd *c = NULL;
    bool help = false, version = false, dashdash = false;
    char *lvl_err = NULL;
    int rc = -1;

    memset(o, 0, sizeof *o);
    o->format = SE_FMT_TAR_GZ;
    o->level = -1;
    o->max_record_bytes = 16777216;
    o->rows_per_file = 100000;
    o->progress = -1;
    o->limit = 20;
    o->store_dir = env_or("SEGEXPORT_STORE", "./.segexport");
    o->org = env_or("SEGEXPORT_ORG", "local@AdobeOrg");
    o->sandbox = env_or("SEGEXPORT_SANDBOX", "prod");

    if (argc < 2) {
        se_error("no command given (try 'segexport --help')");
        return -1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc > 2)
            for (size_t i = 0; i < sizeof cmds_table / sizeof cmds_table[0]; i++)
                if (!strcmp(argv[2], cmds_table[i].name) && cmds_table[i].usage)
                    c = &cmds_table[i];
        print_help(c);
        return 1;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("segexport %s\n", SEGEXPORT_VERSION);
        return 1;
    }
    for (size_t i = 0; i < sizeof cmds_table / sizeof cmds_table[0]; i++)
        if (!strcmp(argv[1], cmds_table[i].name))
            c = &cmds_table[i];
    if (!c) {
        se_error("unknown command '%s' (try 'segexport --help')", argv[1]);
        return -1;
    }
    o->cmd = c->cmd;
    o->cmd_name = c->name;
    o->operands = calloc((size_t)argc, sizeof *o->operands);
    if (!o->operands) {
        se_error("out of memory");
        return -1;
    }

    for (int i = 2; i < argc; i++) {
        char *arg = argv[i];
        const struct opt *op = NULL;
        const char *val = NULL;
        if (dashdash || arg[0] != '-' || !strcmp(arg, "-")) {
            o->operands[o->noperands++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            dashdash = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            for (size_t k = 0; k < sizeof opts_table / sizeof opts_table[0]; k++)
                if (strlen(opts_table[k].name) == nlen && !strncmp(opts_table[k].name, name, nlen))
                    op = &opts_table[k];
            if (op && eq) {
                if (!op->has_arg) {
                    se_error("option '--%s' takes no value", op->name);
                    goto out;
                }
                val = eq + 1;
            }
        } else if (arg[2] == '\0') {
            for (size_t k = 0; k < sizeof opts_table / sizeof opts_table[0]; k++)
                if (opts_table[k].short_name == arg[1])
                    op = &opts_table[k];
        }
        if (!op || !(op->cmds & C(c->cmd))) {
            se_error("%s: unknown option '%s' (try 'segexport %s --help')", c->name, arg, c->name);
            goto out;
        }
        if (op->has_arg && !val) {
            if (i + 1 >= argc) {
                se_error("option '--%s' needs a value", op->name);
                goto out;
            }
            val = argv[++i];
        }
        if (op->id == O_HELP) {
            help = true;
            continue;
        }
        if (op->id == O_VERSION) {
            version = true;
            continue;
        }
        if (apply(o, op, val))
            goto out;
    }
    if (help || version) {
        if (help)
            print_help(c->usage ? c : NULL);
        else
            printf("segexport %s\n", SEGEXPORT_VERSION);
        rc = 1;
        goto out;
    }
    if (o->level >= 0) {
        char err[256];
        if (se_format_check_level(o->format, o->level, err, sizeof err)) {
            se_error("%s", err);
            goto out;
        }
    }
    rc = 0;
out:
    free(lvl_err);
    return rc;
}

void se_cli_free(se_opts *o)
{
    if (!o)
        return;
    free(o->operands);
    o->operands = NULL;
}
