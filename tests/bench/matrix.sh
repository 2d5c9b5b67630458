#!/bin/sh
# segexport benchmark matrix (make bench).  Never fails CI: every problem is
# reported and the script still exits 0.  Not part of make check.
#
#   sh tests/bench/matrix.sh ./segexport
#
# A dump with a real store's variety (tests/bench/genmix.c: 1-3 fragments per
# profile, a second dataset with an extra identity, 0-6 ExperienceEvents for
# half the profiles, some event-only profiles) and seven job shapes.  Each
# shape is timed by hyperfine side by side with a jq pipeline doing the same
# selection and projection record by record (into gzip), and DuckDB (2
# threads: read_ndjson_objects, selection, projection, COPY to gzip); `jq -c .`
# over the dump is the common floor.  Wall (median) and CPU (user + system,
# mean) from hyperfine's JSON, peak RSS from /usr/bin/time -v.  Neither jq nor
# DuckDB groups records into profiles or merges fragments: they do less.
#
# Environment: BENCH_MB (dump size, default 150), BENCH_SEL (0.03),
# BENCH_SEED (1), BENCH_RUNS (hyperfine runs, 3), BENCH_SHAPES (subset of
# "whole fields events segs3 ingest selective full"), BENCH_DUCKDB=0 (no
# DuckDB), BENCH_JQ=0 (no jq pipelines).  Data and results in
# build/bench/matrix/ (the table: matrix.md).  DuckDB comes from npm
# (@duckdb/node-api, installed into build/bench/duckdb/); without node/npm or
# network its columns say "n/a" and a note says why.
BIN=${1:-./segexport}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
TOP=$(pwd)
D=$TOP/build/bench/matrix
DUCKDIR=$TOP/build/bench/duckdb
MB=${BENCH_MB:-150}
SEL=${BENCH_SEL:-0.03}
SEED=${BENCH_SEED:-1}
RUNS=${BENCH_RUNS:-3}
SHAPES=${BENCH_SHAPES:-"whole fields events segs3 ingest selective full"}
TARGET=9f1c6ad2-5b4e-4d8a-b3c7-0e2f4a6b8c01
SEG_A=a0000000-0000-4000-8000-00000000000a
SEG_B=b0000000-0000-4000-8000-00000000000b
SEG_C=c0000000-0000-4000-8000-00000000000c
# Windows inside the generator's 90 days of ingest (from 2023-11-14T22:13:20Z).
EV_FROM=2023-12-15T00:00:00Z EV_FROM_MS=1702598400000
EV_TO=2024-01-15T00:00:00Z EV_TO_MS=1705276800000
Q_START=2023-11-01T00:00:00Z Q_END=2024-01-01T00:00:00Z
ING_FROM=2024-01-20T00:00:00Z ING_FROM_MS=1705708800000

say() { echo "bench: $*" >&2; }

# job SHAPE: the job definition.
job() {
    dst='"destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}'
    case $1 in
    whole) echo "{$dst}" ;;
    fields) echo "{\"fields\":\"identityMap,person.name,loyalty.programs.name,loyalty.programs.points,subscriptions.list\",$dst}" ;;
    events) echo "{\"fields\":\"identityMap,person.name\",$dst,\"additionalFields\":{\"eventList\":{\"fields\":\"timestamp,eventType,web.webPageDetails.name,productListItems.SKU\",\"filter\":{\"fromIngestTimestamp\":\"$EV_FROM\",\"toIngestTimestamp\":\"$EV_TO\"}}}}" ;;
    segs3) echo "{\"fields\":\"identityMap,person.name,homeAddress.city\",$dst,\"filter\":{\"segments\":[{\"segmentId\":\"$SEG_A\"},{\"segmentId\":\"$SEG_B\"},{\"segmentId\":\"$SEG_C\"}],\"segmentPerBatch\":true,\"segmentQualificationTime\":{\"startTime\":\"$Q_START\",\"endTime\":\"$Q_END\"}}}" ;;
    ingest) echo "{$dst,\"filter\":{\"fromIngestTimestamp\":\"$ING_FROM\",\"emptyProfiles\":true}}" ;;
    selective) echo "{\"fields\":\"person.name,personalEmail.address,homeAddress.city\",$dst,\"filter\":{\"segments\":[{\"segmentId\":\"$TARGET\"}]}}" ;;
    full) echo "{\"fields\":\"identityMap,personalEmail.address,person.name\",$dst}" ;;
    esac
}

# jqprog SHAPE: a jq program doing the shape's selection and projection per
# record (no grouping, no merge).
jqprog() {
    prof='select(.timestamp == null)'
    ing='(._acp_system_metadata.ingestTime | if type == "number" then . else (sub("[.][0-9]+Z$"; "Z") | fromdateiso8601 * 1000) end)'
    case $1 in
    whole) echo "$prof" ;;
    fields) echo "$prof | {identityMap, person: {name: .person.name}, loyalty: {programs: [.loyalty.programs[]? | {name, points}]}, subscriptions: [.subscriptions[]? | {list}]}" ;;
    events) echo "select(.timestamp != null and $ing > $EV_FROM_MS and $ing < $EV_TO_MS) | {timestamp, eventType, web: {webPageDetails: {name: .web.webPageDetails.name}}, productListItems: [.productListItems[]? | {SKU}]}" ;;
    segs3) echo "$prof | select(.segmentMembership.ups as \$m | any(\"$SEG_A\", \"$SEG_B\", \"$SEG_C\"; \$m[.] as \$e | \$e != null and (\$e.status == \"realized\" or \$e.status == \"existing\") and (\$e.lastQualificationTime // \"\") >= \"$Q_START\" and (\$e.lastQualificationTime // \"~\") < \"$Q_END\")) | {identityMap, person: {name: .person.name}, homeAddress: {city: .homeAddress.city}}" ;;
    ingest) echo "select($ing > $ING_FROM_MS)" ;;
    selective) echo "select(.segmentMembership.ups[\"$TARGET\"].status == \"realized\") | {person: {name: .person.name}, personalEmail: {address: .personalEmail.address}, homeAddress: {city: .homeAddress.city}}" ;;
    full) echo "$prof | {identityMap, personalEmail: {address: .personalEmail.address}, person: {name: .person.name}}" ;;
    esac
}

# duckq SHAPE: the same in DuckDB SQL (a SELECT producing one JSON column).
duckq() {
    src="read_ndjson_objects('$data')"
    prof="json_extract(json, '\$.timestamp') IS NULL"
    ing="coalesce(try_cast(json_extract_string(json, '\$._acp_system_metadata.ingestTime') AS BIGINT), epoch_ms(try_cast(json_extract_string(json, '\$._acp_system_metadata.ingestTime') AS TIMESTAMPTZ)))"
    mem() { echo "(json_extract_string(json, '\$.segmentMembership.ups.\"$1\".status') IN ('realized', 'existing') AND json_extract_string(json, '\$.segmentMembership.ups.\"$1\".lastQualificationTime') >= '$Q_START' AND json_extract_string(json, '\$.segmentMembership.ups.\"$1\".lastQualificationTime') < '$Q_END')"; }
    case $1 in
    whole) echo "SELECT json FROM $src WHERE $prof" ;;
    fields) echo "SELECT json_object('identityMap', json->'identityMap', 'person', json_object('name', json->'\$.person.name'), 'loyalty', json_object('programs', list_transform(json_extract(json, '\$.loyalty.programs[*]'), x -> json_object('name', x->'name', 'points', x->'points'))), 'subscriptions', list_transform(json_extract(json, '\$.subscriptions[*]'), x -> json_object('list', x->'list'))) AS row FROM $src WHERE $prof" ;;
    events) echo "SELECT json_object('timestamp', json->'timestamp', 'eventType', json->'eventType', 'web', json_object('webPageDetails', json_object('name', json->'\$.web.webPageDetails.name')), 'productListItems', list_transform(json_extract(json, '\$.productListItems[*]'), x -> json_object('SKU', x->'SKU'))) AS row FROM $src WHERE json_extract(json, '\$.timestamp') IS NOT NULL AND $ing > $EV_FROM_MS AND $ing < $EV_TO_MS" ;;
    segs3) echo "SELECT json_object('identityMap', json->'identityMap', 'person', json_object('name', json->'\$.person.name'), 'homeAddress', json_object('city', json->'\$.homeAddress.city')) AS row FROM $src WHERE $prof AND ($(mem $SEG_A) OR $(mem $SEG_B) OR $(mem $SEG_C))" ;;
    ingest) echo "SELECT json FROM $src WHERE $ing > $ING_FROM_MS" ;;
    selective) echo "SELECT json_object('person', json_object('name', json->'\$.person.name'), 'personalEmail', json_object('address', json->'\$.personalEmail.address'), 'homeAddress', json_object('city', json->'\$.homeAddress.city')) AS row FROM $src WHERE json_extract_string(json, '\$.segmentMembership.ups.\"$TARGET\".status') = 'realized'" ;;
    full) echo "SELECT json_object('identityMap', json->'identityMap', 'personalEmail', json_object('address', json->'\$.personalEmail.address'), 'person', json_object('name', json->'\$.person.name')) AS row FROM $src WHERE $prof" ;;
    esac
}

# DuckDB through npm's @duckdb/node-api, in a bench-local folder.  Sets duck
# to the command prefix, or duck_note to why not.
setup_duckdb() {
    duck="" duck_note=""
    [ "${BENCH_DUCKDB:-1}" = 0 ] && { duck_note="DuckDB skipped (BENCH_DUCKDB=0)"; return; }
    command -v node >/dev/null 2>&1 || { duck_note="DuckDB skipped: no node"; return; }
    mkdir -p "$DUCKDIR"
    if [ ! -d "$DUCKDIR/node_modules/@duckdb/node-api" ]; then
        command -v npm >/dev/null 2>&1 || { duck_note="DuckDB skipped: no npm"; return; }
        say "installing @duckdb/node-api into $DUCKDIR"
        (cd "$DUCKDIR" && npm install --no-audit --no-fund --loglevel=error @duckdb/node-api) \
            >"$D/npm.log" 2>&1 || { duck_note="DuckDB skipped: npm install failed (see $D/npm.log)"; return; }
    fi
    cat > "$DUCKDIR/duck.mjs" <<'JS'
// node duck.mjs FILE.sql: runs the SQL on DuckDB with 2 threads.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const sql = readFileSync(process.argv[2], 'utf8');
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run(sql);
JS
    echo "COPY (SELECT 1 AS x) TO '$D/duck-probe.json.gz' (FORMAT JSON, COMPRESSION GZIP);" > "$D/duck-probe.sql"
    if ! node "$DUCKDIR/duck.mjs" "$D/duck-probe.sql" >"$D/duck-probe.log" 2>&1; then
        duck_note="DuckDB skipped: it does not run here (see $D/duck-probe.log)"; return
    fi
    duck="node $DUCKDIR/duck.mjs"
    v=$(cd "$DUCKDIR" && node -e 'console.log(require("@duckdb/node-api/package.json").version)' 2>/dev/null)
    duck_note="DuckDB: @duckdb/node-api ${v:-?}, 2 threads"
}

# rss CMD...: peak RSS in MB of one run (GNU time), or "n/a".
rss() {
    [ -x /usr/bin/time ] || { echo n/a; return; }
    rm -rf "$D/store" "$D/out"
    /usr/bin/time -v "$@" >/dev/null 2>"$D/time.log" || { echo n/a; return; }
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.log")
    [ -n "$kb" ] && echo $((kb / 1024)) || echo n/a
}

main() {
    mkdir -p "$D" || return 0
    if [ "$(id -u)" = 0 ]; then
        miss=""
        for t in jq:jq hyperfine:hyperfine /usr/bin/time:time; do
            command -v "${t%%:*}" >/dev/null 2>&1 || miss="$miss ${t#*:}"
        done
        [ -n "$miss" ] && { say "installing$miss"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $miss >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $miss >/dev/null 2>&1; }; }
    fi
    for t in jq hyperfine python3; do
        command -v $t >/dev/null 2>&1 || { say "$t missing, skipping the benchmark"; return 0; }
    done
    ${CC:-cc} -O2 -o "$D/genmix" tests/bench/genmix.c || { say "cannot build the generator"; return 0; }
    bytes_want=$((MB * 1000000))
    data="$D/mix-$MB-$SEL-$SEED.ndjson"
    [ -s "$data" ] || { say "generating about $MB MB"; "$D/genmix" "$bytes_want" "$SEL" "$SEED" > "$data.tmp" && mv "$data.tmp" "$data"; } || return 0
    bytes=$(wc -c < "$data")
    sample="$D/sample.ndjson"   # the other tools' check runs
    head -n 5000 "$data" > "$sample"
    setup_duckdb
    [ -n "$duck_note" ] && say "$duck_note"

    run="$BIN run -q --store $D/store --output $D/out"
    clean="rm -rf $D/store $D/out $D/jq.gz $D/duck.json.gz"
    say "input: $bytes bytes, $(wc -l < "$data") records; $RUNS runs per command"

    # The common floor: jq -c . over the dump.
    hyperfine -N --style basic --runs "$RUNS" --warmup 1 --export-json "$D/hf-jq.json" \
        -n "jq -c ." "sh -c 'jq -c . $data > /dev/null'" >"$D/hf-jq.log" 2>&1 ||
        { say "hyperfine (jq -c .) failed:"; tail -20 "$D/hf-jq.log" >&2; return 0; }
    jq_rss=$(rss jq -c . "$data")

    : > "$D/rows.tsv"
    for s in $SHAPES; do
        job "$s" > "$D/job-$s.json"
        jqprog "$s" > "$D/jq-$s.jq"
        # A check run of each first (jq and DuckDB on a sample): a failing
        # command is reported, not timed.
        rm -rf "$D/store" "$D/out"
        $run "$D/job-$s.json" "$data" > "$D/result-$s.json" 2>"$D/err-$s.txt" ||
            { say "$s: segexport failed: $(head -3 "$D/err-$s.txt")"; continue; }
        msg="$s: segexport $(jq -c '{status, rows: .metrics.totalExportedProfileCounter}' "$D/result-$s.json")"
        set -- -n "segexport" "$run $D/job-$s.json $data"
        if [ "${BENCH_JQ:-1}" != 0 ]; then
            if n=$(jq -c -f "$D/jq-$s.jq" "$sample" 2>"$D/err-$s.txt" | wc -l) && [ ! -s "$D/err-$s.txt" ]; then
                msg="$msg; on the first 5000 records: jq $n rows"
                set -- "$@" -n "jq pipeline" "sh -c 'jq -c -f $D/jq-$s.jq $data | gzip > $D/jq.gz'"
            else
                say "$s: the jq pipeline failed, not timed: $(head -c 300 "$D/err-$s.txt")"
            fi
        fi
        if [ -n "$duck" ]; then
            echo "COPY ($(data=$sample duckq "$s")) TO '$D/duck.json.gz' (FORMAT JSON, COMPRESSION GZIP);" > "$D/duck-$s.sql"
            if $duck "$D/duck-$s.sql" >"$D/err-$s.txt" 2>&1; then
                msg="$msg, DuckDB $(gzip -dc "$D/duck.json.gz" | wc -l) rows"
                echo "COPY ($(duckq "$s")) TO '$D/duck.json.gz' (FORMAT JSON, COMPRESSION GZIP);" > "$D/duck-$s.sql"
                set -- "$@" -n "duckdb" "$duck $D/duck-$s.sql"
            else
                say "$s: DuckDB failed, not timed: $(head -c 300 "$D/err-$s.txt")"
            fi
        fi
        say "$msg"
        hyperfine -N --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" \
            --export-json "$D/hf-$s.json" "$@" >"$D/hf-$s.log" 2>&1 ||
            { say "$s: hyperfine failed:"; tail -20 "$D/hf-$s.log" >&2; continue; }
        se_rss=$(rss $run "$D/job-$s.json" "$data")
        dk_rss=n/a
        [ -n "$duck" ] && dk_rss=$(rss $duck "$D/duck-$s.sql")
        printf '%s\t%s\t%s\n' "$s" "$se_rss" "$dk_rss" >> "$D/rows.tsv"
    done
    # Segment evaluation (issue 12): the full shape with and without a
    # 3-clause definition holding an event aggregation, side by side.
    rm -f "$D/hf-eval.json"
    if [ -s "$D/result-full.json" ]; then
        cat > "$D/defs.json" <<'EOF'
{"segments": [{"id": "d313f26a-93ef-42df-8471-ffd46e5c4b08", "name": "NL silver viewers",
  "expression": {"type": "PQL", "format": "pql/text",
   "value": "homeAddress.countryCode = \"NL\" and loyalty.tier = \"silver\" and xEvent[eventType = \"commerce.productViews\"].sum(commerce.order.priceTotal) > 100"}}]}
EOF
        jq -c '. + {evaluationInfo: {segmentation: true}}' "$D/job-full.json" > "$D/job-eval.json"
        hyperfine -N --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" --export-json "$D/hf-eval.json" \
            -n "full" "$run $D/job-full.json $data" \
            -n "full + evaluation" "$run --segment-definitions $D/defs.json $D/job-eval.json $data" \
            >"$D/hf-eval.log" 2>&1 || { say "evaluation: hyperfine failed:"; tail -20 "$D/hf-eval.log" >&2; rm -f "$D/hf-eval.json"; }
    fi
    rm -rf "$D/store" "$D/out" "$D/jq.gz" "$D/duck.json.gz"

    python3 - "$D" "$bytes" "$jq_rss" "$duck_note" <<'PY' | tee "$D/matrix.md"
import json, os, sys, statistics
d, size, jq_rss, note = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(p):
    return {r["command"]: r for r in json.load(open(p))["results"]}
jqr = load(os.path.join(d, "hf-jq.json"))["jq -c ."]
jq_s = jqr["median"]
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(d, "rows.tsv"))]
def f(x, fmt="%.2f"): return "n/a" if x is None else fmt % x
print("Input: %.0f MB (%d bytes); `jq -c . > /dev/null`: %.2f s wall, %.2f s CPU, %s MB peak RSS.  %s."
      % (size / 1e6, size, jq_s, jqr["user"] + jqr["system"], jq_rss, note or "DuckDB: n/a"))
print()
print("| shape | segexport s | MB/s | CPU s | RSS MB | vs `jq -c .` | jq pipeline s | vs jq pipeline | DuckDB s | DuckDB CPU s | DuckDB RSS MB | vs DuckDB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
res = {}
for shape, se_rss, dk_rss in rows:
    r = load(os.path.join(d, "hf-%s.json" % shape))
    se = r["segexport"]; jp = r.get("jq pipeline"); dk = r.get("duckdb")
    s = se["median"]
    res[shape] = dict(s=s, jq=jq_s / s, jp=jp and jp["median"] / s, dk=dk and dk["median"] / s,
                      rss=None if se_rss == "n/a" else int(se_rss))
    print("| %s | %.3f | %.0f | %.2f | %s | %.1fx | %s | %s | %s | %s | %s | %s |" % (
        shape, s, size / s / 1e6, se["user"] + se["system"], se_rss, jq_s / s,
        f(jp and jp["median"], "%.2f"), f(jp and jp["median"] / s, "%.1fx"),
        f(dk and dk["median"], "%.2f"), f(dk and dk["user"] + dk["system"], "%.2f"), dk_rss,
        f(dk and dk["median"] / s, "%.1fx")))
print()
def chk(ok, text): print("- %s %s" % ("met:" if ok else "NOT met:", text))
if res:
    print("Targets (issue 10):")
    worst = min(res, key=lambda k: res[k]["jq"])
    chk(res[worst]["jq"] >= 2.5, "every shape >= 2.5x `jq -c .` (slowest: %s, %.1fx)" % (worst, res[worst]["jq"]))
    med = statistics.median(v["jq"] for v in res.values())
    chk(med >= 5, "median shape >= 5x `jq -c .` (%.1fx)" % med)
    if "selective" in res:
        v = res["selective"]
        chk(size / v["s"] >= 1e9, "selective >= 1 GB/s (%.2f GB/s)" % (size / v["s"] / 1e9))
        if v["jp"]: chk(v["jp"] >= 20, "selective >= 20x the jq select pipeline (%.1fx)" % v["jp"])
        if v["dk"]: chk(v["dk"] >= 4, "selective >= 4x DuckDB (%.1fx)" % v["dk"])
    if "full" in res:
        v = res["full"]
        if v["jp"]: chk(v["jp"] >= 6, "full >= 6x jq (%.1fx)" % v["jp"])
        if v["dk"]: chk(v["dk"] >= 2, "full >= 2x DuckDB (%.1fx)" % v["dk"])
    rs = [v["rss"] for v in res.values() if v["rss"] is not None]
    if rs: chk(max(rs) < 64, "peak RSS < 64 MB on every shape (max %d MB at %.0f MB of input)" % (max(rs), size / 1e6))
ev = os.path.join(d, "hf-eval.json")
if os.path.exists(ev):
    r = load(ev); a = r["full"]; b = r["full + evaluation"]
    prof = json.load(open(os.path.join(d, "result-full.json")))["metrics"]["profileCounter"]
    ca = a["user"] + a["system"]; cb = b["user"] + b["system"]
    print()
    print("Segment evaluation (issue 12; a 3-clause definition with an event sum, the full shape): "
          "%.3f s wall / %.2f s CPU without, %.3f s / %.2f s with: %.2fx wall, %.2fx CPU; "
          "%.1f us of CPU per profile (%d profiles)."
          % (a["median"], ca, b["median"], cb, b["median"] / a["median"], cb / ca, (cb - ca) / prof * 1e6, prof))
    chk(b["median"] / a["median"] <= 1.5, "a job with segment evaluation within 1.5x of the same job without (%.2fx)" % (b["median"] / a["median"]))
PY
    say "table: $D/matrix.md"
}
main
exit 0
