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
#include "suggest.h"

#ifndef SEGEXPORT_VERSION
#define SEGEXPORT_VERSION "0.1.0"
#endif

enum opt_id {
    O_STORE, O_ORG, O_SANDBOX, O_OUTPUT, O_FORMAT, O_LEVEL, O_MERGE_POLICIES,
    O_SEGDEFS, O_MAX_ERRORS, O_MAX_RECORD_BYTES, O_ROWS_PER_FILE, O_KEYED,
    O_SHARD, O_PROGRESS, O_NO_PROGRESS, O_QUIET, O_VERBOSE, O_HELP, O_VERSION,
    O_LIMIT, O_OFFSET, O_STATUS, O_GRAPH
};

/* Which commands take an option: bit per se_command. */
#define C(x) (1u << (x))
#define C_EXPORT (C(SE_CMD_RUN) | C(SE_CMD_CREATE) | C(SE_CMD_WORKER))
#define C_INSPECT (C(SE_CMD_FILES) | C(SE_CMD_CAT) | C(SE_CMD_VERIFY))
#define C_STORE (C_EXPORT | C(SE_CMD_GET) | C(SE_CMD_LIST) | C(SE_CMD_CANCEL) | C(SE_CMD_MERGE))
#define C_ALL 0xffffu

/* The option table: the parser, every --help text and the suggestions follow
 * it (the man page and the completion file list the same options). */
static const struct opt {
    const char *name;
    char short_name;
    int id;
    const char *arg;              /* the value's name; NULL: a flag */
    unsigned cmds;
    const char *help;             /* one line, with the default */
} opts_table[] = {
    { "store", 0, O_STORE, "DIR", C_STORE | C_INSPECT,
      "job records and default datasets (env SEGEXPORT_STORE; default ./.segexport)" },
    { "org", 0, O_ORG, "ID", C_STORE,
      "IMS org of the jobs (env SEGEXPORT_ORG; default local@AdobeOrg)" },
    { "sandbox", 0, O_SANDBOX, "NAME", C_STORE,
      "sandbox of the jobs (env SEGEXPORT_SANDBOX; default prod)" },
    { "output", 0, O_OUTPUT, "DIR", C_EXPORT | C(SE_CMD_MERGE) | C_INSPECT,
      "batch archives are in DIR/<datasetId>/ (default STORE/datasets)" },
    { "format", 0, O_FORMAT, "F", C_EXPORT | C(SE_CMD_MERGE),
      "tar.gz (default), tar.zst, tar.xz, tar or zip" },
    { "level", 0, O_LEVEL, "N", C_EXPORT | C(SE_CMD_MERGE),
      "compression level (default: the format's own)" },
    { "merge-policies", 0, O_MERGE_POLICIES, "FILE", C_EXPORT | C(SE_CMD_KEY) | C(SE_CMD_MERGE),
      "merge policy definitions (default: built-ins only)" },
    /* (not merge: the shards evaluated the segments; it would ignore them) */
    { "segment-definitions", 0, O_SEGDEFS, "FILE", C_EXPORT,
      "segment definitions for evaluationInfo.segmentation (default none)" },
    { "max-errors", 0, O_MAX_ERRORS, "N", C_EXPORT,
      "bad input records tolerated before the job fails (default 0)" },
    { "max-record-bytes", 0, O_MAX_RECORD_BYTES, "N", C_EXPORT | C(SE_CMD_KEY),
      "longest input line accepted (default 16777216)" },
    { "rows-per-file", 0, O_ROWS_PER_FILE, "N", C_EXPORT | C(SE_CMD_MERGE),
      "rows per part file in a batch archive (default 100000)" },
    { "keyed", 0, O_KEYED, NULL, C_EXPORT,
      "input is KEY<TAB>RECORD lines sorted by KEY (default off)" },
    { "graph", 0, O_GRAPH, NULL, C(SE_CMD_KEY),
      "key each record by its stitched profile (identityGraph pdg; files only; default off)" },
    { "shard", 0, O_SHARD, "K/N", C_EXPORT,
      "only profiles whose key hashes to shard K of N (default off)" },
    { "progress", 0, O_PROGRESS, NULL, C_EXPORT | C(SE_CMD_MERGE),
      "progress on stderr (default: when stderr is a terminal)" },
    { "no-progress", 0, O_NO_PROGRESS, NULL, C_EXPORT | C(SE_CMD_MERGE), "no progress display" },
    { "limit", 0, O_LIMIT, "N", C(SE_CMD_LIST), "jobs per page (default 20)" },
    { "offset", 0, O_OFFSET, "TOKEN", C(SE_CMD_LIST),
      "the page after TOKEN, from the previous page's link.next (default: first page)" },
    { "status", 0, O_STATUS, "S", C(SE_CMD_LIST),
      "only jobs in status NEW, PROCESSING, SUCCEEDED or FAILED (default all)" },
    { "quiet", 'q', O_QUIET, NULL, C_ALL, "errors only: no warnings, no progress" },
    { "verbose", 'v', O_VERBOSE, NULL, C_ALL,
      "more messages: where each archive went, its rows and size" },
    { "help", 'h', O_HELP, NULL, C_ALL, "this help" },
    { "version", 0, O_VERSION, NULL, C_ALL, "print the version" },
};
#define NOPTS (sizeof opts_table / sizeof opts_table[0])

static const struct cmd {
    const char *name;
    se_command cmd;
    const char *synopsis;         /* NULL: internal, not listed */
    const char *summary;
    const char *example;
} cmds_table[] = {
    { "run", SE_CMD_RUN, "JOB [INPUT...]",
      "Create the job, execute it in this process, print the final job JSON.",
      "segexport run job.json profiles.ndjson.gz > result.json" },
    { "create", SE_CMD_CREATE, "JOB [INPUT...]",
      "Validate, record the job as NEW, start a detached worker, print the NEW job JSON.",
      "segexport create job.json profiles.ndjson.gz | jq .id" },
    { "get", SE_CMD_GET, "ID", "Print the job JSON.", "segexport get 12" },
    { "list", SE_CMD_LIST, "",
      "Print {records, page, link} of the jobs, newest first.",
      "segexport list --status FAILED --limit 5" },
    { "cancel", SE_CMD_CANCEL, "ID",
      "Cancel a running job, or delete a finished job's record.", "segexport cancel 12" },
    { "delete", SE_CMD_CANCEL, "ID", "Same as cancel.", "segexport delete 12" },
    { "key", SE_CMD_KEY, "[INPUT...]",
      "Print KEY<TAB>RECORD for every input record (scale-out mapper); bad ones too.",
      "segexport key dump.json.gz | LC_ALL=C sort -t \"$(printf '\\t')\" -k1,1 -s | "
      "segexport run --keyed job.json" },
    { "merge", SE_CMD_MERGE, "RESULT.json...",
      "Combine the results of shard runs of one job into one job.",
      "segexport merge shard0.json shard1.json > result.json" },
    { "files", SE_CMD_FILES, "BATCH_ID",
      "List a batch's files from its manifest: name, records, bytes, crc32 (JSON).",
      "segexport files 5e0cf9a3a2b44a47b29f2a5c8d1e7f60" },
    { "cat", SE_CMD_CAT, "BATCH_ID [FILE]",
      "Print a batch's rows (or one part file's) as NDJSON, in order.",
      "segexport cat 5e0cf9a3a2b44a47b29f2a5c8d1e7f60 | jq -c .identityMap" },
    { "verify", SE_CMD_VERIFY, "ARCHIVE|BATCH_ID...",
      "Check archives against their manifests after a transfer; a line per archive.",
      "segexport verify /media/usb/ds1/*.tar.gz" },
    { "__worker", SE_CMD_WORKER, NULL, NULL, NULL },
};
#define NCMDS (sizeof cmds_table / sizeof cmds_table[0])

/* -q and -v say what they change for this command. */
static const char *help_of(const struct opt *op, se_command cmd)
{
    bool writes = C(cmd) & (C_EXPORT | C(SE_CMD_MERGE));
    if (op->id == O_QUIET && cmd == SE_CMD_VERIFY)
        return "errors only: no OK lines, only the archives that fail";
    if (op->id == O_QUIET && !writes)
        return "errors only: no warnings";
    if (op->id == O_VERBOSE && cmd == SE_CMD_KEY)
        return "more messages: a warning for each bad record passed on";
    if (op->id == O_VERBOSE && !writes)
        return "more messages (this command has none more to say)";
    return op->help;
}

static void print_help(const struct cmd *c)
{
    if (c) {
        printf("Usage: segexport %s [OPTIONS]%s%s\n\n%s\n\nOptions:\n", c->name,
               *c->synopsis ? " " : "", c->synopsis, c->summary);
        for (size_t i = 0; i < NOPTS; i++) {
            const struct opt *op = &opts_table[i];
            char left[64];
            if (!(op->cmds & C(c->cmd)))
                continue;
            if (op->short_name)
                snprintf(left, sizeof left, "-%c, --%s", op->short_name, op->name);
            else
                snprintf(left, sizeof left, "--%s%s%s", op->name, op->arg ? " " : "",
                         op->arg ? op->arg : "");
            printf("  %-27s %s\n", left, help_of(op, c->cmd));
        }
        printf("\nExample:\n  %s\n", c->example);
        return;
    }
    printf("Usage: segexport COMMAND [OPTIONS] [ARGS]\n\n"
           "Offline Adobe Experience Platform segment export jobs.\n\nCommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        if (cmds_table[i].synopsis)
            printf("  %-8s %s\n", cmds_table[i].name, cmds_table[i].summary);
    printf("\nRun 'segexport COMMAND --help' for a command's options, defaults and an example,\n"
           "'man segexport' for the reference; 'segexport --version' prints the version.\n");
}

/* A command a user can give (__worker is no longer one: create forks). */
static const struct cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (cmds_table[i].synopsis && !strcmp(name, cmds_table[i].name))
            return &cmds_table[i];
    return NULL;
}

/* "unknown command 'lst' (did you mean 'list'?)"; an option where the
 * command belongs: a mistyped --help or --version is answered as such, any
 * other option is pointed after the command. */
static void unknown_command(const char *name)
{
    const char *cands[NCMDS];
    const char *s;

    if (name[0] == '-' && name[1]) {
        static const char *const top[] = { "help", "version" };
        char want[SE_SUGGEST_MAX + 1];
        size_t n = strcspn(name + 2, "=");
        if (name[1] == '-') {
            snprintf(want, sizeof want, "%.*s", (int)(n < SE_SUGGEST_MAX ? n : SE_SUGGEST_MAX), name + 2);
            if ((s = se_suggest(want, top, 2)) && strcmp(s, want)) {
                se_error("unknown option '--%s' (did you mean '--%s'?)", want, s);
                return;
            }
            for (size_t i = 0; i < NOPTS; i++)
                if (strlen(opts_table[i].name) == n && !strncmp(opts_table[i].name, name + 2, n)) {
                    se_error("'%s' goes after the command: segexport COMMAND %s ... "
                             "(try 'segexport --help')", name, name);
                    return;
                }
        } else if (!name[2]) {
            for (size_t i = 0; i < NOPTS; i++)
                if (opts_table[i].short_name == name[1]) {
                    se_error("'%s' goes after the command: segexport COMMAND %s ... "
                             "(try 'segexport --help')", name, name);
                    return;
                }
        }
        se_error("unknown option '%s' before the command (try 'segexport --help')", name);
        return;
    }
    for (size_t i = 0; i < NCMDS; i++)
        cands[i] = cmds_table[i].synopsis ? cmds_table[i].name : NULL;
    if ((s = se_suggest(name, cands, NCMDS)))
        se_error("unknown command '%s' (did you mean '%s'?)", name, s);
    else
        se_error("unknown command '%s' (try 'segexport --help')", name);
}

/* An option this command does not take: when another command takes it, say
 * so; else the nearest one this command takes, if any is near. */
static void unknown_option(const struct cmd *c, const char *arg, const struct opt *other)
{
    const char *cands[NOPTS];
    char want[SE_SUGGEST_MAX + 1];
    const char *s;

    if (other) {
        se_error("%s: option '%s' is not one of this command's (try 'segexport %s --help')",
                 c->name, arg, c->name);
        return;
    }
    if (arg[1] == '-') {
        size_t n = strcspn(arg + 2, "=");
        snprintf(want, sizeof want, "%.*s", (int)(n < SE_SUGGEST_MAX ? n : SE_SUGGEST_MAX), arg + 2);
        for (size_t i = 0; i < NOPTS; i++)
            cands[i] = opts_table[i].cmds & C(c->cmd) ? opts_table[i].name : NULL;
        if ((s = se_suggest(want, cands, NOPTS))) {
            se_error("%s: unknown option '--%s' (did you mean '--%s'?)", c->name, want, s);
            return;
        }
    }
    se_error("%s: unknown option '%s' (try 'segexport %s --help')", c->name, arg, c->name);
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

/* "--format: 'zpi' is not one of tar.gz, ..., zip (did you mean 'zip'?)" */
static void bad_value(const char *name, const char *val, const char *const *vals, size_t n)
{
    char list[128] = "";
    const char *s = se_suggest(val, vals, n);
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", vals[i]);
    se_error("--%s: '%s' is not one of %s%s%s%s", name, val, list, s ? " (did you mean '" : "",
             s ? s : "", s ? "'?)" : "");
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
            static const char *const fmts[] = { "tar.gz", "tar.zst", "tar.xz", "tar", "zip" };
            bad_value("format", val, fmts, 5);
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
    case O_GRAPH: o->graph = true; break;
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
            static const char *const sts[] = { "NEW", "PROCESSING", "SUCCEEDED", "FAILED" };
            bad_value("status", val, sts, 4);
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
        if (argc > 2) {
            c = find_cmd(argv[2]);
            if (!c) {
                unknown_command(argv[2]);
                return -1;
            }
        }
        print_help(c);
        return 1;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("segexport %s\n", SEGEXPORT_VERSION);
        return 1;
    }
    if (!(c = find_cmd(argv[1]))) {
        unknown_command(argv[1]);
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
            for (size_t k = 0; k < NOPTS; k++)
                if (strlen(opts_table[k].name) == nlen && !strncmp(opts_table[k].name, name, nlen))
                    op = &opts_table[k];
            if (op && eq && (op->cmds & C(c->cmd))) {
                if (!op->arg) {
                    se_error("option '--%s' takes no value", op->name);
                    goto out;
                }
                val = eq + 1;
            }
        } else if (arg[2] == '\0') {
            for (size_t k = 0; k < NOPTS; k++)
                if (opts_table[k].short_name == arg[1])
                    op = &opts_table[k];
        }
        if (!op || !(op->cmds & C(c->cmd))) {
            unknown_option(c, arg, op);
            goto out;
        }
        if (op->arg && !val) {
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
            print_help(c->synopsis ? c : NULL);
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
