#!/bin/sh
# An air-gapped export: one archive per segment entry, tar.xz, written to an
# outbox; the archives are carried across (here a copy to "inbox/"), and the
# far side checks them with `segexport verify` before it trusts them: every
# part's records, bytes and CRC-32 against the manifest, the archive read to
# its end.  A damaged copy fails, naming the member, and verify exits 1.
set -eu
segexport run --format tar.xz --output outbox job.json dump.ndjson > result.json
jq -c '[.destination.batches[] | {segmentId, status: .status[0], batchId}]' result.json

# ... the transfer ...
mkdir inbox
cp outbox/offline-transfer/*.tar.xz inbox/

# the far side: by path, or by batch id under --output
segexport verify inbox/*.tar.xz
segexport verify --output outbox $(jq -r '.destination.batches[].batchId' result.json)

# a transfer that went wrong: the last kilobyte lost
first=$(ls inbox/*.tar.xz | head -n1)
size=$(wc -c < "$first")
head -c $((size - 1024 > 0 ? size - 1024 : size / 2)) "$first" > damaged.tar.xz
if segexport verify damaged.tar.xz; then
    echo "a damaged archive passed verify"; exit 1
fi
echo "damaged copy caught"
