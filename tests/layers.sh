#!/bin/sh
# Layering check (make check): engine code never prints and never reads the
# environment; what it reports leaves through callbacks (export.h:
# on_progress, on_warning).  STRICT files also never include the CLI's
# headers (the engine gets its share of the options as se_export_limits).
# And no source file grows past MAX_LINES (issue 10): split it by purpose.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
STRICT="src/engine/*.c src/engine/*.h src/json/*.c src/json/*.h include/export.h include/mergetape.h include/tape.h include/tapedom.h include/recfacts.h include/record.h"
NOPRINT="$STRICT"
fail=0
bad=$(grep -nE '\b(printf|fprintf|puts|fputs|putchar|perror|vfprintf|getenv|secure_getenv|se_warn|se_error|se_progress|se_info)\s*\(|\b(stdout|stderr)\b' $NOPRINT)
if [ -n "$bad" ]; then
    echo "FAIL: layers: engine code prints or reads the environment:"
    echo "$bad"
    fail=1
fi
bad=$(grep -nE '#include\s*"(msg|opts|commands|suggest|cli)\.h"' $STRICT)
if [ -n "$bad" ]; then
    echo "FAIL: layers: engine code includes a CLI header:"
    echo "$bad"
    fail=1
fi
MAX_LINES=800
bad=$(wc -l src/*/*.c src/*/*.h include/*.h | awk -v m=$MAX_LINES '$2 != "total" && $1 > m')
if [ -n "$bad" ]; then
    echo "FAIL: layers: files over $MAX_LINES lines (split them by purpose):"
    echo "$bad"
    fail=1
fi
[ $fail -eq 0 ] && echo "layers: ok ($(echo $NOPRINT | wc -w) files)"
exit $fail
