#!/bin/sh
# Replays every fuzz target's corpus (tests/fuzz/corpus/<target>/) through its
# replay build in DIR (DIR/fuzz_<target>, made by `make fuzz-replay`).
set -u
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for bin in "$dir"/fuzz_*; do
    [ -x "$bin" ] || continue
    t=${bin##*/fuzz_}
    [ -d "$here/corpus/$t" ] || { echo "FAIL: fuzz $t: no corpus"; fail=$((fail + 1)); continue; }
    if out=$("$bin" "$here/corpus/$t" 2>&1); then
        pass=$((pass + 1)); echo "fuzz-replay: $t: $out"
    else
        fail=$((fail + 1)); echo "FAIL: fuzz-replay $t"; echo "$out" | tail -30
    fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ $fail -eq 0 ]
