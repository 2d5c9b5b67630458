/* `segexport merge`: combines shard runs into one job (SPEC §9). */
#include "commands.h"
#include "msg.h"

int se_cmd_merge(const se_opts *o)
{
    (void)o;
    se_error("merge: not implemented yet");
    return SE_EXIT_USAGE;
}
