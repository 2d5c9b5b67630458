#!/bin/sh
# Segment evaluation: the definitions (PQL) are evaluated on every merged
# profile and its events at the job's creation time (here fixed with
# SOURCE_DATE_EPOCH), before the filters.  The job exports the profiles that
# realize recent-visitors: only Ada visited in the last 7 days.  Her row
# carries the recomputed memberships: gold-members realized (her tier is gold),
# recent-visitors realized.  Cato is gold but did not visit: not exported.
set -eu
export SOURCE_DATE_EPOCH=1767744000         # 2026-01-07T00:00:00Z
segexport run --segment-definitions defs.json --output out job.json dump.ndjson > result.json
batch=$(jq -r .destination.batchId result.json)
segexport cat --output out "$batch" | jq -c '{who: .identityMap.Email[0].id, segments: (.segmentMembership.ups | map_values(.status))}' | tee rows.txt
[ "$(jq -r .status result.json)" = SUCCEEDED ]
[ "$(wc -l < rows.txt)" = 1 ]
grep -q '"who":"ada@example.com"' rows.txt
grep -q '"recent-visitors":"realized"' rows.txt
