#!/bin/sh
# segexport benchmark (make bench).  Never fails CI: every problem is reported
# and the script still exits 0.  Not part of make check.
#
#   sh tests/bench/run.sh ./segexport
#
# Environment: BENCH_PROFILES (default 200000), BENCH_SEL (0.03), BENCH_SEED (1),
# BENCH_RUNS (hyperfine runs, 7), BENCH_LARGE (profiles of the large RSS input,
# default 1500000 = about 2.1 GB), BENCH_SMALL (15000, about 20 MB),
# BENCH_SIZES (profile counts of the throughput-vs-size series),
# BENCH_QUICK=1 skips the RSS and size series; BENCH_SCALEOUT=0 skips the
# scale-out bench (tests/bench/scaleout.sh: shards + merge against one run).
# BENCH_PDG_PROFILES (default 312500: about a million distinct identities) sizes
# the identity-stitching dump (gen ... STITCH 0.1); BENCH_PDG=0 skips that part,
# BENCH_MAIN=0 runs only that part; BENCH_PDG_BASE=OTHER_BINARY runs its two
# jobs too, side by side (e.g. main's build, to compare a change).
# Data and results go to build/bench/ (gitignored).
BIN=${1:-./segexport}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
D=$(pwd)/build/bench
N=${BENCH_PROFILES:-200000}
SEL=${BENCH_SEL:-0.03}
SEED=${BENCH_SEED:-1}
RUNS=${BENCH_RUNS:-7}
LARGE=${BENCH_LARGE:-1500000}
SMALL=${BENCH_SMALL:-15000}
SIZES=${BENCH_SIZES:-"10000 30000 100000 300000"}
SEG=9f1c6ad2-5b4e-4d8a-b3c7-0e2f4a6b8c01
FIELDS=person.name,personalEmail.address,homeAddress.city

say() { echo "bench: $*" >&2; }
main() {
    mkdir -p "$D" || return 0
    if [ "$(id -u)" = 0 ]; then
        miss=""
        for t in jq:jq hyperfine:hyperfine gnuplot:gnuplot-nox /usr/bin/time:time; do
            command -v "${t%%:*}" >/dev/null 2>&1 || miss="$miss ${t#*:}"
        done
        [ -n "$miss" ] && { say "installing$miss"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $miss >/dev/null 2>&1 || apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $miss >/dev/null 2>&1; }
    fi
    for t in jq hyperfine; do
        command -v $t >/dev/null 2>&1 || { say "$t missing, skipping the benchmark"; return 0; }
    done
    ${CC:-cc} -O2 -o "$D/gen" tests/bench/gen.c || { say "cannot build the generator"; return 0; }
    [ "${BENCH_MAIN:-1}" = 0 ] && return 0

    data="$D/dump-$N-$SEL-$SEED.ndjson"
    [ -s "$data" ] || { say "generating $N profiles"; "$D/gen" "$N" "$SEL" "$SEED" > "$data.tmp" && mv "$data.tmp" "$data"; }
    [ -s "$data.gz" ] || gzip -6 -c "$data" > "$data.gz"
    bytes=$(wc -c < "$data")

    cat > "$D/job-sel.json" <<JOB
{"fields":"$FIELDS","filter":{"segments":[{"segmentId":"$SEG","segmentNs":"ups","status":["realized"]}]},
 "destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    cat > "$D/job-all.json" <<JOB
{"fields":"$FIELDS","destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    # Segment evaluation (docs/pql.md): a typical 3-clause segment with one
    # event aggregation, evaluated on every profile of the full job.
    cat > "$D/job-seg.json" <<JOB
{"fields":"$FIELDS","evaluationInfo":{"segmentation":true},"destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    cat > "$D/defs.json" <<'DEFS'
[{"id":"recent-buyers","name":"NL loyal buyers","expression":{"type":"PQL","format":"pql/text",
  "value":"homeAddress.countryCode = \"NL\" and loyalty.points > 1000 and xEvent[eventType = \"commerce.purchases\" and timestamp occurs <= 30 days before now].count() > 0"}}]
DEFS
    proj='{person:{name:.person.name},personalEmail:{address:.personalEmail.address},homeAddress:{city:.homeAddress.city}}'
    jsel="select(.segmentMembership.ups[\"$SEG\"].status == \"realized\") | $proj"
    run="$BIN run -q --store $D/store --output $D/out"
    clean="rm -rf $D/store $D/out"

    say "input: $N profiles, $bytes bytes; $RUNS runs per command"
    hyperfine -N --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" \
        --export-json "$D/hf.json" \
        -n "segexport selective" "$run $D/job-sel.json $data" \
        -n "segexport full" "$run $D/job-all.json $data" \
        -n "segexport full segmentation" "$run --segment-definitions $D/defs.json $D/job-seg.json $data" \
        -n "segexport selective gz-input" "$run $D/job-sel.json $data.gz" \
        -n "jq selective" "sh -c 'jq -c '\''$jsel'\'' $data | gzip > $D/jq.gz'" \
        -n "jq full" "sh -c 'jq -c '\''$proj'\'' $data | gzip > $D/jq.gz'" \
        -n "cat" "sh -c 'cat $data > /dev/null'" \
        -n "zcat" "sh -c 'zcat $data.gz > /dev/null'" \
        >"$D/hf.log" 2>&1 || { say "hyperfine failed:"; tail -20 "$D/hf.log" >&2; return 0; }
    python3 - "$D/hf.json" "$bytes" <<'PY' | tee "$D/summary.txt"
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b = int(sys.argv[2])
med = {k: v["median"] for k, v in r.items()}
print("%-30s %9s %10s" % ("command", "median s", "MB/s in"))
for k, v in med.items():
    print("%-30s %9.3f %10.0f" % (k, v, b / v / 1e6))
def ratio(a, c): return med[c] / med[a]
print()
print("selective: %.1fx jq (target >= 15), %.2f GB/s (target >= 0.5)" % (ratio("segexport selective", "jq selective"), b / med["segexport selective"] / 1e9))
print("full:      %.1fx jq (target >= 3)" % ratio("segexport full", "jq full"))
print("gz input:  %.2fx zcat (target <= 1.5)" % (med["segexport selective gz-input"] / med["zcat"]))
print("segmentation: %.2fx the same job without it (target <= 1.5)" % ratio("segexport full", "segexport full segmentation"))
PY
    [ "${BENCH_SCALEOUT:-1}" = 0 ] || sh tests/bench/scaleout.sh "$BIN"
    [ -n "$BENCH_QUICK" ] && return 0

    # Peak RSS for a small and a large input (GNU time).
    if [ -x /usr/bin/time ]; then
        for n in $SMALL $LARGE; do
            f="$D/dump-$n-$SEL-$SEED.ndjson"
            [ -s "$f" ] || { say "generating $n profiles"; "$D/gen" "$n" "$SEL" "$SEED" > "$f.tmp" && mv "$f.tmp" "$f"; }
            for j in sel all; do
                $clean
                /usr/bin/time -v $run "$D/job-$j.json" "$f" 2>"$D/time.log" >/dev/null
                rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.log")
                el=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$D/time.log")
                echo "peak RSS: $n profiles ($(wc -c < "$f") bytes), job $j: ${rss} KiB, ${el} wall" | tee -a "$D/summary.txt"
            done
        done
    fi

    # Throughput against input size, for the chart.
    : > "$D/sizes.dat"
    for n in $SIZES; do
        f="$D/dump-$n-$SEL-$SEED.ndjson"
        [ -s "$f" ] || "$D/gen" "$n" "$SEL" "$SEED" > "$f"
        hyperfine -N --style none --runs 3 --prepare "$clean" --export-json "$D/hs.json" \
            "$run $D/job-sel.json $f" "$run $D/job-all.json $f" >/dev/null 2>&1 || continue
        python3 - "$D/hs.json" "$(wc -c < "$f")" >> "$D/sizes.dat" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]; b = int(sys.argv[2])
print(b / 1e6, b / r[0]["median"] / 1e6, b / r[1]["median"] / 1e6)
PY
    done
    cat "$D/sizes.dat"
    if command -v gnuplot >/dev/null 2>&1; then
        gnuplot <<GP && say "chart: $D/throughput.png"
set terminal pngcairo size 800,480
set output "$D/throughput.png"
set logscale x
set xlabel "input size (MB)"
set ylabel "throughput (MB/s of input)"
set key top left
set grid
set yrange [0:*]
plot "$D/sizes.dat" using 1:2 with linespoints title "selective (3% segment, 3 fields, tar.gz)", \
     "$D/sizes.dat" using 1:3 with linespoints title "full (3 fields, tar.gz)"
GP
    fi
    $clean
}
# Identity stitching (identityGraph pdg): the same job with and without pdg
# on one dump (grouped by key, so both can run it), its speed, peak RSS and the
# graph's bytes per distinct identity.  Targets: pdg at least half the speed,
# graph under 40 bytes per identity.
pdg() {
    [ "${BENCH_PDG:-1}" = 0 ] && return 0
    command -v hyperfine >/dev/null 2>&1 && [ -x "$D/gen" ] || return 0
    P=${BENCH_PDG_PROFILES:-312500}
    f="$D/dump-pdg-$P-$SEED.ndjson"
    [ -s "$f" ] || { say "generating $P profiles to stitch"; "$D/gen" "$P" "$SEL" "$SEED" 0.1 > "$f.tmp" && mv "$f.tmp" "$f"; }
    cat > "$D/policies-pdg.json" <<JSON
[{"id":"stitched","attributeMerge":{"type":"timestampOrdered"},"identityGraph":{"type":"pdg"}}]
JSON
    cat > "$D/job-all.json" <<JOB
{"fields":"$FIELDS","destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    cat > "$D/job-pdg.json" <<JOB
{"fields":"$FIELDS","destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"},
 "mergePolicy":{"id":"stitched"}}
JOB
    run="$BIN run -q --store $D/store --output $D/out --merge-policies $D/policies-pdg.json"
    clean="rm -rf $D/store $D/out"
    bytes=$(wc -c < "$f")
    say "pdg: $P profiles, $bytes bytes"
    set -- -n "full, identityGraph none" "$run $D/job-all.json $f" \
           -n "full, identityGraph pdg" "$run $D/job-pdg.json $f"
    if [ -n "$BENCH_PDG_BASE" ]; then
        base="$BENCH_PDG_BASE run -q --store $D/store --output $D/out --merge-policies $D/policies-pdg.json"
        set -- "$@" -n "base: full, identityGraph none" "$base $D/job-all.json $f" \
                    -n "base: full, identityGraph pdg" "$base $D/job-pdg.json $f"
    fi
    hyperfine -N --style basic --runs "${BENCH_PDG_RUNS:-3}" --warmup 1 --prepare "$clean" \
        --export-json "$D/hf-pdg.json" "$@" \
        >"$D/hf-pdg.log" 2>&1 || { say "hyperfine failed:"; tail -20 "$D/hf-pdg.log" >&2; return 0; }
    $clean
    $BIN run -v --store $D/store --output $D/out --merge-policies $D/policies-pdg.json \
        "$D/job-pdg.json" "$f" 2>"$D/pdg-graph.log" >/dev/null
    graph=$(sed -n 's/.*identity graph: //p' "$D/pdg-graph.log")
    phases=$(sed -n 's/.*pdg phases: //p' "$D/pdg-graph.log")
    rss_none="" rss_pdg=""
    if [ -x /usr/bin/time ]; then
        $clean; /usr/bin/time -v $run "$D/job-all.json" "$f" 2>"$D/time.log" >/dev/null
        rss_none=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.log")
        $clean; /usr/bin/time -v $run "$D/job-pdg.json" "$f" 2>"$D/time.log" >/dev/null
        rss_pdg=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.log")
        if [ -n "$BENCH_PDG_BASE" ]; then
            $clean; /usr/bin/time -v $base "$D/job-pdg.json" "$f" 2>"$D/time.log" >/dev/null
            rss_pdg="$rss_pdg KiB, base pdg $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.log")"
        fi
    fi
    $clean
    python3 - "$D/hf-pdg.json" "$bytes" "$graph" "$rss_none" "$rss_pdg" "$phases" <<'PY' | tee -a "$D/summary.txt"
import json, sys
res = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
r = {k: v["median"] for k, v in res.items()}
cpu = {k: v["user"] + v["system"] for k, v in res.items()}
b = int(sys.argv[2])
print()
for p in ("", "base: "):
    if p + "full, identityGraph pdg" not in r:
        continue
    none, pdg = r[p + "full, identityGraph none"], r[p + "full, identityGraph pdg"]
    print("pdg: %snone %.3f s (%.0f MB/s, CPU %.2f s), pdg %.3f s (%.0f MB/s, CPU %.2f s): %.2f of the speed (target >= 0.5)"
          % (p, none, b / none / 1e6, cpu[p + "full, identityGraph none"], pdg, b / pdg / 1e6,
             cpu[p + "full, identityGraph pdg"], none / pdg))
print("pdg: graph %s (target < 40 bytes per identity)" % sys.argv[3])
print("pdg: phases %s" % sys.argv[6])
if sys.argv[4]:
    print("pdg: peak RSS none %s KiB, pdg %s KiB" % (sys.argv[4], sys.argv[5]))
PY
}

main
pdg
exit 0
