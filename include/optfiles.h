#ifndef SEGEXPORT_OPTFILES_H
#define SEGEXPORT_OPTFILES_H
/* The JSON files options name (--merge-policies, --segment-definitions):
 * FILE, or "-" for standard input, named "stdin" in messages as JOB is.
 * Standard input can be read once per command: se_stdin_once refuses a second
 * reader before anything is read. */
#include <stdbool.h>
#include <stddef.h>
#include "mergepolicy.h"
#include "segdefs.h"

/* Adds the policies of path to reg: 0, or -1 with the message to print in
 * msg ("NAME:LINE: why"). */
int se_opt_load_merge_policies(se_mp_registry *reg, const char *path, char *msg, size_t msglen);

/* Loads the segment definitions of path: 0 with *out, or -1 as above. */
int se_opt_load_segdefs(const char *path, se_segdefs **out, char *msg, size_t msglen);

/* who[i] reads standard input when uses[i]: 0 when at most one does, else -1
 * with "CMD: WHO and WHO cannot both be stdin" (the first two) in msg. */
int se_stdin_once(const char *cmd, const char *const *who, const bool *uses, size_t n,
                  char *msg, size_t msglen);

#endif
