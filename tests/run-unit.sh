#!/bin/sh
# Runs every cmocka unit-test program given; prints a closing tally.
pass=0; fail=0
for t in "$@"; do
    if "$t" >"$t.log" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t"; cat "$t.log"; fi
    grep -E '^\[  (PASSED|FAILED) \]' "$t.log" | sed "s|^|$(basename "$t"): |"
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
