#!/bin/sh
# make demo: a real export of testdata/demo with the freshly built binary.
set -eu
bin=${1:-./segexport}
store=build/demo-store
rm -rf "$store"
echo "\$ segexport run --store $store testdata/demo/job.json testdata/demo/profiles.ndjson.gz" >&2
"$bin" run --store "$store" testdata/demo/job.json testdata/demo/profiles.ndjson.gz
for a in "$store"/datasets/*/*.tar.gz; do
    echo "--- $a" >&2
    tar -tzvf "$a" >&2
    tar -xzOf "$a" manifest.json >&2
    tar -xzOf "$a" part-00000.json | head -3 >&2
done
