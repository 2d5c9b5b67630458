#!/bin/sh
# Runs every example (examples/*/run.sh) with the given segexport binary, each
# in a scratch copy of its directory; an example checks its own results and
# exits non-zero when one is wrong.  make check runs this.
set -u
bin=$1
# (each example runs in a scratch directory: a relative path would not reach it)
case $bin in /*) ;; *) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin");; esac
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
pass=0 fail=0
for dir in "$here"/*/; do
    name=$(basename "$dir")
    [ -n "${EXAMPLES:-}" ] && ! echo "$name" | grep -Eq "$EXAMPLES" && continue
    mkdir -p "$scratch/$name/bin"
    cp -R "$dir". "$scratch/$name/"
    ln -s "$bin" "$scratch/$name/bin/segexport"
    if ( cd "$scratch/$name" && PATH="$scratch/$name/bin:$PATH" SEGEXPORT_STORE= sh ./run.sh ) \
        >"$scratch/$name.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: example $name"
        tail -20 "$scratch/$name.log"
    fi
done
echo "examples: $pass passed, $fail failed"
[ $fail -eq 0 ]
