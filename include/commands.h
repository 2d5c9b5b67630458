#ifndef SEGEXPORT_COMMANDS_H
#define SEGEXPORT_COMMANDS_H
/* The commands; each returns the process exit status (SPEC §11). */
#include "opts.h"

int se_cmd_run(const se_opts *o);
int se_cmd_create(const se_opts *o);
int se_cmd_key(const se_opts *o);
int se_cmd_get(const se_opts *o);
int se_cmd_list(const se_opts *o);
int se_cmd_cancel(const se_opts *o);
int se_cmd_merge(const se_opts *o);
int se_cmd_files(const se_opts *o);   /* cmd_inspect.c */
int se_cmd_cat(const se_opts *o);
int se_cmd_verify(const se_opts *o);

/* Prints obj as pretty JSON and a newline on stdout.  0, or -1 on a write error. */
int se_print_json(json_object *obj);

#endif
