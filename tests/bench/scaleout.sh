#!/bin/sh
# Scale-out benchmark (make bench runs it; BENCH_SCALEOUT=0 skips it).
#   sh tests/bench/scaleout.sh ./segexport
# On a dump of about 100 MB (BENCH_SO_PROFILES, default 70000 profiles) and
# two jobs (three projected fields; the whole profile):
#   - one run: wall and CPU time;
#   - two shards side by side, then merge: wall time (target: >= 1.6x faster
#     than one run), with the shards writing tar.gz and writing plain tar
#     (merge then compresses once, on every core);
#   - four shards one after another: their total CPU time (target: within
#     1.3x of one run's);
#   - what bounds both (docs/performance.md, "Session 5"): a run that skips
#     every record (--shard 7/1000000) and a run on empty input (CPU: what
#     every extra shard adds, and what it would with free reading and
#     skipping), and one run's CPU per wall second (the cores it already
#     keeps busy: meaningful on a quiet machine only);
#   - the cost of a record another shard owns, in instructions (callgrind,
#     when valgrind is installed, on a 10000-profile dump).
# Medians of BENCH_SO_RUNS (3).  Never fails; data in build/bench/.
BIN=${1:-./segexport}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
D=$(pwd)/build/bench
N=${BENCH_SO_PROFILES:-70000}
RUNS=${BENCH_SO_RUNS:-3}
say() { echo "bench: $*" >&2; }
main() {
    mkdir -p "$D" || return 0
    [ -x /usr/bin/time ] || { say "/usr/bin/time missing, skipping the scale-out bench"; return 0; }
    ${CC:-cc} -O2 -o "$D/gen" tests/bench/gen.c || return 0
    data="$D/dump-$N-0.03-1.ndjson"
    [ -s "$data" ] || { say "generating $N profiles"; "$D/gen" "$N" 0.03 1 > "$data.tmp" && mv "$data.tmp" "$data"; }
    cat > "$D/so-fields.json" <<'JOB'
{"fields":"person.name,personalEmail.address,homeAddress.city","destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    cat > "$D/so-whole.json" <<'JOB'
{"destination":{"datasetId":"bench"},"schema":{"name":"_xdm.context.profile"}}
JOB
    S="$D/so"
    t() { /usr/bin/time -f "%e %U %S" -a -o "$S/t" "$@"; }
    med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    echo "scale-out: $(wc -c < "$data") bytes, $N profiles, medians of $RUNS" | tee -a "$D/summary.txt"
    for job in fields whole; do
        J="$D/so-$job.json"
        : > "$S.single"; : > "$S.two-tar.gz"; : > "$S.two-tar"; : > "$S.four"; : > "$S.singlecpu"
        : > "$S.skipall"; : > "$S.empty"
        : > "$D/empty.ndjson"
        r=0
        while [ $r -lt "$RUNS" ]; do
            r=$((r + 1))
            rm -rf "$S"; mkdir -p "$S"
            t "$BIN" run -q --store "$S/st" --output "$S/o" "$J" "$data" > "$S/r.json"
            awk '{ print $1 }' "$S/t" >> "$S.single"; awk '{ print $2 + $3 }' "$S/t" >> "$S.singlecpu"
            for f in tar.gz tar; do
                rm -rf "$S"; mkdir -p "$S"
                a=$(date +%s.%N)
                "$BIN" run -q --store "$S/st" --output "$S/o" --format $f --shard 0/2 "$J" "$data" > "$S/r0.json" &
                "$BIN" run -q --store "$S/st" --output "$S/o" --format $f --shard 1/2 "$J" "$data" > "$S/r1.json" &
                wait
                "$BIN" merge -q --store "$S/st" --output "$S/o" "$S/r0.json" "$S/r1.json" > "$S/m.json"
                b=$(date +%s.%N)
                echo "$a $b" | awk '{ print $2 - $1 }' >> "$S.two-$f"
            done
            rm -rf "$S"; mkdir -p "$S"
            for k in 0 1 2 3; do
                t "$BIN" run -q --store "$S/st" --output "$S/o" --shard $k/4 "$J" "$data" > "$S/r$k.json"
            done
            awk '{ c += $2 + $3 } END { print c }' "$S/t" >> "$S.four"
            rm -rf "$S"; mkdir -p "$S"
            t "$BIN" run -q --store "$S/st" --output "$S/o" --shard 7/1000000 "$J" "$data" > "$S/r.json"
            awk '{ print $2 + $3 }' "$S/t" >> "$S.skipall"
            rm -rf "$S"; mkdir -p "$S"
            t "$BIN" run -q --store "$S/st" --output "$S/o" --shard 7/1000000 "$J" "$D/empty.ndjson" > "$S/r.json"
            awk '{ print $2 + $3 }' "$S/t" >> "$S.empty"
        done
        one=$(med < "$S.single"); onecpu=$(med < "$S.singlecpu"); four=$(med < "$S.four")
        two=$(med < "$S.two-tar.gz"); twot=$(med < "$S.two-tar")
        skipall=$(med < "$S.skipall"); empty=$(med < "$S.empty")
        echo "$job $one $onecpu $two $twot $four $skipall $empty" | awk '{
            printf "scale-out %s job: one run %.3f s wall (%.2f s CPU)\n", $1, $2, $3
            printf "  2 shards side by side + merge: %.3f s wall, %.2fx faster; shards writing --format tar (merge compresses on every core): %.3f s, %.2fx (target >= 1.6)\n", $4, $2 / $4, $5, $2 / $5
            printf "  4 shards: %.2f s CPU in all, %.2fx one run (target <= 1.3)\n", $6, $6 / $3
            printf "  bounds: one run keeps %.2f cores busy (CPU/wall), so 2 shards on 2 cores gain at most 2/%.2f = %.2fx with free skips and merge;\n", $3 / $2, $3 / $2, 2 * $2 / $3
            printf "    a shard skipping every record: %.3f s CPU, on empty input %.3f s: 4 shards cost about one run + 3 x the first, %.2fx (%.2fx if reading and skipping were free)\n", $7, $8, ($3 + 3 * $7) / $3, ($3 + 3 * $8) / $3 }' | tee -a "$D/summary.txt"
    done
    if command -v valgrind >/dev/null 2>&1; then
        small="$D/dump-10000-0.03-1.ndjson"
        [ -s "$small" ] || "$D/gen" 10000 0.03 1 > "$small"
        : > "$D/empty.ndjson"
        ir() {
            rm -rf "$S"; mkdir -p "$S"
            valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" run -q --store "$S/st" --output "$S/o" "$@" 2>&1 >/dev/null |
                sed -n 's/.*Collected : *//p'
        }
        n=$(wc -l < "$small")
        base=$(ir --shard 7/1000000 "$D/so-fields.json" "$D/empty.ndjson")
        skip=$(ir --shard 7/1000000 "$D/so-fields.json" "$small")
        full=$(ir "$D/so-fields.json" "$small")
        echo "$n $base $skip $full $(wc -c < "$small")" | awk '{
            printf "shard skip cost: %.0f instructions per record another shard owns (%.1f per byte), against %.0f per record processed (fields job; callgrind, %d records)\n",
                   ($3 - $2) / $1, ($3 - $2) / $5, ($4 - $2) / $1, $1 }' | tee -a "$D/summary.txt"
    fi
    rm -rf "$S"
}
main
exit 0
