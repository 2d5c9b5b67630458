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
        python3 - "$job" "$work/job.json" "$out" > "$work/got" 2>>"$work/err" <<'PY' || rc=98
import json, os, sys, tarfile
job = json.load(open(sys.argv[1]))
res = json.load(open(sys.argv[2]), object_pairs_hook=lambda kv: kv)
res = dict(res)
segs = [s["segmentId"] for s in job.get("filter", {}).get("segments", [])]
rows = []
for d, _, files in os.walk(sys.argv[3]):
    for f in files:
        with tarfile.open(os.path.join(d, f)) as t:
            man = json.load(t.extractfile("manifest.json"))
            b = segs.index(man["segments"][0]["segmentId"]) if len(man["segments"]) == 1 and len(segs) > 1 else 0
            for m in sorted(t.getnames()):
                if m.startswith("part-"):
                    for line in t.extractfile(m).read().decode("utf-8").splitlines():
                        rows.append((b, line))
rows.sort(key=lambda r: r[0])  # stable: a batch's rows keep their order
for b, line in rows:
    print("%d\t%s" % (b, line))
m = dict(res["metrics"])
print("profiles %d" % m["profileCounter"])
print("rows %d" % m["totalExportedProfileCounter"])
print("bad %d" % m["badRecordCounter"])
for ns, c in m.get("exportedProfileByNamespaceCounter", []):
    print("namespace %s %d" % (ns, c))
PY
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
echo "diff: $pass passed, $fail failed"
[ $fail -eq 0 ]
