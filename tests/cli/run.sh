#!/bin/sh
# CLI tests: every directory under tests/cli/cases is one case.
#   cmd     shell commands, run in a scratch copy of the case directory with
#           $SEGEXPORT, $TESTDATA and $SHARED set, SOURCE_DATE_EPOCH fixed and
#           SEGEXPORT_STORE=store (so job JSON and archives are reproducible),
#           and SE_SANITIZE (the SANITIZE of make check: set in a sanitized build);
#           a case that waits for something sources "$TESTLIB" (tests/lib/wait.sh:
#           wait_until, wait_status, wait_gone, proc_gone) -- never a fixed sleep
#   exit    expected exit status of cmd (default 0)
#   stderr  expected stderr, exactly (absent: stderr must be empty)
#   stdout  expected stdout, exactly (absent: not compared)
#   archives  expected output of tests/tools/dumparchives.py store/datasets
#           (it also checks every manifest's counts, sizes and CRC-32s)
# A case whose cmd prints "SKIP: reason" as its only stdout line is skipped.
# UPDATE=1 writes the actual results as the expected ones (review the diff!).
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
shared=$(cd "$top/../shared" 2>/dev/null && pwd || echo "$top/../shared")
pass=0 fail=0 skip=0
filter=${CASES:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for dir in "$here"/cases/*/; do
    name=$(basename "$dir")
    if [ -n "$filter" ] && ! echo "$name" | grep -Eq "$filter"; then continue; fi
    work="$scratch/$name"
    mkdir -p "$work"
    cp -R "$dir". "$work/"
    ( cd "$work" && SEGEXPORT="$bin" TESTDATA="$top/testdata" SHARED="$shared" TOOLS="$top/tests/tools" \
        TESTLIB="$top/tests/lib/wait.sh" \
        SOURCE_DATE_EPOCH=1538611200 SEGEXPORT_STORE=store SEGEXPORT_ORG= SEGEXPORT_SANDBOX= \
        sh ./cmd >"$work/.out" 2>"$work/.err" </dev/null; echo $? >"$work/.rc" )
    case "$(head -n1 "$work/.out")" in SKIP:*)
        skip=$((skip + 1)); echo "skip: $name ($(head -n1 "$work/.out"))"; continue;;
    esac
    if [ -d "$work/store/datasets" ]; then
        python3 "$top/tests/tools/dumparchives.py" "$work/store/datasets" >"$work/.arch" 2>&1
    else
        echo "(no archives)" >"$work/.arch"
    fi
    if [ -n "${UPDATE:-}" ]; then
        cat "$work/.rc" >"$dir/exit"
        if [ -s "$work/.err" ]; then cp "$work/.err" "$dir/stderr"; else rm -f "$dir/stderr"; fi
        [ -f "$dir/stdout" ] || [ -n "${UPDATE_STDOUT:-}" ] && cp "$work/.out" "$dir/stdout"
        [ -f "$dir/archives" ] || [ -n "${UPDATE_ARCHIVES:-}" ] && cp "$work/.arch" "$dir/archives"
    fi
    ok=1 why=""
    want_rc=$(cat "$dir/exit" 2>/dev/null || echo 0)
    [ "$(cat "$work/.rc")" = "$want_rc" ] || { ok=0; why="$why exit $(cat "$work/.rc") != $want_rc;"; }
    if [ -f "$dir/stderr" ]; then
        cmp -s "$dir/stderr" "$work/.err" || { ok=0; why="$why stderr differs;"; }
    elif [ -s "$work/.err" ]; then ok=0; why="$why unexpected stderr;"; fi
    if [ -f "$dir/stdout" ]; then
        cmp -s "$dir/stdout" "$work/.out" || { ok=0; why="$why stdout differs;"; }
    fi
    if [ -f "$dir/archives" ]; then
        cmp -s "$dir/archives" "$work/.arch" || { ok=0; why="$why archives differ;"; }
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name:$why"
        [ -f "$dir/stderr" ] && diff "$dir/stderr" "$work/.err" | head -10
        [ -f "$dir/stderr" ] || head -5 "$work/.err"
        [ -f "$dir/stdout" ] && diff "$dir/stdout" "$work/.out" | head -20
        [ -f "$dir/archives" ] && diff "$dir/archives" "$work/.arch" | head -20
    fi
done
echo "cli: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
