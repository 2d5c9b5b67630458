#!/bin/sh
# Differential check of the tape path (src/engine/assemble.c): runs
# full-export jobs over generated multi-fragment dumps on tapes and on json-c
# trees (SEGEXPORT_TREE_PATH=1) and compares archives and job JSON byte for
# byte.  Usage: sh tests/bench/rawdiff.sh ./segexport [SEEDS...]
BIN=${1:-./segexport}; shift
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
GEN=$(cd "$(dirname "$0")" && pwd)/rawdiff_gen.py
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
rc=0
cd "$W" || exit 1
for seed in ${*:-1 2 3}; do
    python3 "$GEN" "$seed" || exit 1
    for j in job*.json; do
        for m in slow fast; do
            rm -rf $m && mkdir $m
            if [ $m = slow ]; then NR=1; else NR=; fi
            SEGEXPORT_TREE_PATH=$NR SOURCE_DATE_EPOCH=1700000000 "$BIN" run -q --store $m/s --output $m/o $j dump.ndjson > $m/job.json
            (cd $m && find o -type f | sort | xargs md5sum && md5sum job.json) > $m.sums
        done
        if cmp -s slow.sums fast.sums; then echo "rawdiff: seed $seed $j same"; else echo "rawdiff: seed $seed $j DIFFERS"; rc=1; fi
    done
done
exit $rc
