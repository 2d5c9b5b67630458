#!/bin/sh
# Differential test (make check): generated dumps (gen.py) x job shapes
# (jobs/*.json): `segexport run` must give exactly the rows, batches and
# counters of the reference path (refexport, built from refexport.c: json-c
# parse, group, assemble, filter, project, print - none of the engine's own
# parsing or shortcuts).
#
#   sh tests/diff/run.sh SEGEXPORT REFEXPORT
set -u
bin=$1 ref=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
for seed in 1 2 3; do
    python3 "$here/gen.py" 400 $seed > "$work/dump$seed.ndjson" || { echo "FAIL: diff: gen.py"; exit 1; }
done
for seed in 1 2 3; do
    for job in "$here"/jobs/*.json; do
        name="$(basename "$job" .json)/seed$seed"
        out="$work/out" && rm -rf "$out" "$work/store"
        dump="$work/dump$seed.ndjson"
        SEGEXPORT_STORE="$work/store" SOURCE_DATE_EPOCH=1538611200 "$bin" run -q --max-errors 1000 \
            --merge-policies "$here/policies.json" --output "$out" "$job" "$dump" > "$work/job.json" 2>"$work/err"
        rc=$?
        "$ref" "$job" "$dump" "$here/policies.json" > "$work/want" 2>>"$work/err" || rc=99
        python3 "$here/rows.py" "$job" "$work/job.json" "$out" > "$work/got" 2>>"$work/err" || rc=98
        if [ $rc -eq 0 ] && cmp -s "$work/want" "$work/got"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL: diff $name (rc $rc)"
            head -5 "$work/err"
            diff "$work/want" "$work/got" | head -10
        fi
    done
done
# Segment evaluation (eval/): the tape path (PQL over tapes, memberships
# rewritten in the row's text) against the engine's own tree path
# (SEGEXPORT_TREE_PATH=1: json-c trees, se_segdefs_apply), rows and counters.
for seed in 1 2 3; do
    for job in "$here"/eval/*.json; do
        case $job in */defs.json) continue ;; esac
        name="eval/$(basename "$job" .json)/seed$seed"
        rc=0
        for path in tape tree; do
            rm -rf "$work/out" "$work/store"
            [ $path = tree ] && tree=1 || tree=
            SEGEXPORT_TREE_PATH=$tree SEGEXPORT_STORE="$work/store" SOURCE_DATE_EPOCH=1538611200 \
                "$bin" run -q --max-errors 1000 --merge-policies "$here/policies.json" \
                --segment-definitions "$here/eval/defs.json" --output "$work/out" "$job" \
                "$work/dump$seed.ndjson" > "$work/job.json" 2>"$work/err" || rc=$?
            python3 "$here/rows.py" "$job" "$work/job.json" "$work/out" > "$work/$path" 2>>"$work/err" || rc=98
        done
        if [ $rc -eq 0 ] && cmp -s "$work/tree" "$work/tape"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL: diff $name (rc $rc)"
            head -5 "$work/err"
            diff "$work/tree" "$work/tape" | head -10
        fi
    done
done
echo "diff: $pass passed, $fail failed"
[ $fail -eq 0 ]
