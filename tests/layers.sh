#!/bin/sh
# Layering check (make check): engine code never prints, never reads the
# environment, never includes the CLI's headers.  It covers the files moved
# onto the engine's rules so far (ENGINE below); the list grows as export.c
# and friends report through callbacks instead of msg.h.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
ENGINE="src/json/*.c src/recfacts.c src/record.c include/tape.h include/tapedom.h include/recfacts.h include/record.h"
bad=$(grep -nE '\b(printf|fprintf|puts|fputs|putchar|perror|vfprintf|getenv|secure_getenv|se_warn|se_error|se_progress|se_info)\s*\(|\b(stdout|stderr)\b|#include\s*"(msg|opts|commands|suggest)\.h"' $ENGINE)
if [ -n "$bad" ]; then
    echo "FAIL: layers: engine code prints, reads the environment or includes a CLI header:"
    echo "$bad"
    exit 1
fi
echo "layers: ok ($(echo $ENGINE | wc -w) files)"
