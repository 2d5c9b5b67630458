#!/bin/sh
# CI fixtures: with SOURCE_DATE_EPOCH set, every time and id (but the job id)
# derives from the inputs and the epoch, so two runs into fresh stores give
# byte-identical archives and job JSON.  Check fixtures in once; regenerate
# them in CI and compare.
set -eu
export SOURCE_DATE_EPOCH=1767225600         # 2026-01-01T00:00:00Z

for run in a b; do
    segexport run --store "store-$run" --format tar.zst job.json dump.ndjson > "result-$run.json"
done

jq -r .creationTime result-a.json          # the epoch x 1000
cmp result-a.json result-b.json
for f in store-a/datasets/*/*; do
    cmp "$f" "store-b/${f#store-a/}"
    echo "identical: ${f#store-a/datasets/}"
done
[ "$(jq .creationTime result-a.json)" = 1767225600000 ]
