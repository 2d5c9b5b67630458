#!/bin/sh
# A shell pipeline: the dump arrives compressed on stdin; the result JSON goes
# to a file, the rows are read back with `segexport cat`.
set -eu
gzip -c dump.ndjson > dump.ndjson.gz        # (a store dump usually arrives like this)

zcat dump.ndjson.gz | segexport run --output out job.json - > result.json

status=$(jq -r .status result.json)
rows=$(jq .metrics.totalExportedProfileCounter result.json)
batch=$(jq -r .destination.batchId result.json)
echo "status $status, $rows rows in batch $batch"
segexport files --output out "$batch" | jq -c '.files[] | {name, records}'
names=$(segexport cat --output out "$batch" | jq -r .person.name.firstName | tr '\n' ' ')
echo "rows: $names"

# checks
[ "$status" = SUCCEEDED ] && [ "$rows" = 2 ] && [ "$names" = "Ada Cato " ]
