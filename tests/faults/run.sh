#!/bin/sh
# Fault tests: sh tests/faults/run.sh BIN BUILD
#   a full disk and an I/O error while writing an archive or its spool (an
#   LD_PRELOAD shim built from failio.c), a read error mid-input, SIGINT and
#   SIGTERM mid-job, and kill -9 at random moments (KILL_RUNS times, default
#   100).  In every case the job ends FAILED (or is detected dead by `get`),
#   stderr says why, and no temporary file or partial archive is left visible.
set -u
bin=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
runs=${KILL_RUNS:-100}
pass=0 fail=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/faults"
shim=$(cd "$build/faults" && pwd)/failio.so
if [ ! -f "$shim" ] || [ "$here/failio.c" -nt "$shim" ]; then
    ${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -o "$shim" "$here/failio.c" -ldl || exit 1
fi
# A sanitized binary insists on its runtime coming first; the shim only wraps libc calls.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export SOURCE_DATE_EPOCH=1538611200 SEGEXPORT_ORG= SEGEXPORT_SANDBOX=

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: faults: $*"; }

# The shared waits (wait_status, wait_gone ...): polls, never a fixed sleep.
SEGEXPORT=$bin
. "$here/../lib/wait.sh"

cd "$scratch" || exit 1
printf '{"destination":{"datasetId":"ds"},"schema":{"name":"s"}}\n' > job.json
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"identityMap\":{\"E\":[{\"id\":\"%06d\"}]},\"n\":%d,\"pad\":\"abcdefghijklmnopqrstuvwxyz%d\"}\n", i, i, i * 7919 }' > dump.ndjson

# nothing_left DIR: the dataset directory holds no entry at all.
nothing_left() { [ ! -d "$1" ] || [ -z "$(ls -A "$1")" ]; }

# expect_failed NAME RESULT ERR CODE TEXT: a FAILED job JSON with error CODE,
# and TEXT in both its message and stderr.
expect_failed() {
    n=$1 r=$2 e=$3 code=$4 text=$5
    if [ "$(jq -r .status "$r" 2>/dev/null)" != FAILED ]; then bad "$n: status $(jq -r .status "$r" 2>/dev/null), want FAILED"; return 1; fi
    if ! jq -e --arg c "$code" --arg t "$text" 'any(.errors[]; .code == $c and (.msg | contains($t)))' "$r" >/dev/null; then
        bad "$n: no error $code with \"$text\": $(jq -c .errors "$r")"; return 1; fi
    if ! grep -q -- "$text" "$e"; then bad "$n: stderr does not say \"$text\": $(cat "$e")"; return 1; fi
    return 0
}

# 1. Disk full / I/O error while writing the archive, for each format, and
#    while spooling rows; the error must name the cause.  (The spool holds
#    compressed segments, all but tar's: xz makes the rows' 2.4 MB about
#    66 kB, so the spool fails after 20000 bytes, within the first segments.)
for fmt in tar.gz tar.zst tar.xz tar zip; do
    for spec in "ENOSPC:No space left on device:.$fmt.tmp-:3000" "EIO:Input/output error:.$fmt.tmp-:0" \
                "ENOSPC:No space left on device:.spool-:20000" "EDQUOT:Disk quota exceeded:.spool-:0"; do
        err=${spec%%:*} rest=${spec#*:}; text=${rest%%:*}; rest=${rest#*:}; pat=${rest%%:*}; after=${rest#*:}
        n="write $err $pat after $after ($fmt)"
        rm -rf st
        FAILIO_WRITE_PATTERN=$pat FAILIO_WRITE_AFTER=$after FAILIO_WRITE_ERRNO=$err LD_PRELOAD=$shim \
            "$bin" run --store st --format "$fmt" job.json dump.ndjson > r.json 2> e.txt
        rc=$?
        [ $rc = 1 ] || { bad "$n: exit $rc, want 1"; continue; }
        expect_failed "$n" r.json e.txt 0090000009 "$text" || continue
        nothing_left st/datasets/ds || { bad "$n: left $(ls -A st/datasets/ds)"; continue; }
        [ "$("$bin" get --store st 1 | jq -r .status)" = FAILED ] || { bad "$n: get does not say FAILED"; continue; }
        ok
    done
done

# 2. A read error in the middle of an INPUT (plain and gzip).  Through a
#    decompressor libarchive reports the failed read as a truncated stream
#    (it drops the errno): the job still FAILS, naming the input.
gzip -c dump.ndjson > dump.gz
for f in dump.ndjson dump.gz; do
    n="read EIO mid-input ($f)"
    case $f in *.gz) text="dump.gz: truncated gzip input";; *) text="Input/output error";; esac
    rm -rf st
    FAILIO_READ_PATTERN=$f FAILIO_READ_AFTER=65536 LD_PRELOAD=$shim \
        "$bin" run --store st job.json "$f" > r.json 2> e.txt
    rc=$?
    [ $rc = 1 ] || { bad "$n: exit $rc, want 1"; continue; }
    expect_failed "$n" r.json e.txt 0100000011 "$text" || continue
    nothing_left st/datasets/ds || { bad "$n: left $(ls -A st/datasets/ds)"; continue; }
    ok
done

# 2b. identityGraph pdg: a read error in its unlinked temporary files (their
#     /proc/self/fd target ends in "(deleted)"; the batch spools come later).
#     First the verdicts pass 1 leaves for pass 2; then, past the verdicts'
#     bytes (16 a line), a run of the sort while its merge streams into the
#     engine: the engine must stop before it sees a cut stream's end.  Both
#     FAIL naming the temporary file and leave nothing.
printf '[{"id":"p","attributeMerge":{"type":"timestampOrdered"},"identityGraph":{"type":"pdg"}}]\n' > pol.json
printf '{"destination":{"datasetId":"ds"},"schema":{"name":"s"},"mergePolicy":{"id":"p"}}\n' > pjob.json
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "{\"identityMap\":{\"E\":[{\"id\":\"%06d\"}],\"C\":[{\"id\":\"c%06d\"}]},\"pad\":\"%0300d\"}\n", i, int(i / 2), i }' > big.ndjson
for spec in "verdicts:0:0090000009" "sort run:640001:0100000013"; do
    what=${spec%%:*} rest=${spec#*:}; after=${rest%%:*}; code=${rest#*:}
    n="pdg: read EIO in the $what"
    rm -rf st
    FAILIO_READ_PATTERN="(deleted)" FAILIO_READ_AFTER=$after LD_PRELOAD=$shim \
        "$bin" run --store st --merge-policies pol.json pjob.json big.ndjson > r.json 2> e.txt
    rc=$?
    [ $rc = 1 ] || { bad "$n: exit $rc, want 1"; continue; }
    expect_failed "$n" r.json e.txt "$code" "temporary file: Input/output error" || continue
    nothing_left st/datasets/ds || { bad "$n: left $(ls -A st/datasets/ds)"; continue; }
    ok
done

# 2c. identityGraph pdg on a file system without nameless files (O_TMPFILE
#     refused): the sort's temporary is named, then unlinked; a kill -9
#     between the two leaves it, among the batch's names, so `get` (which
#     finds the worker dead) sweeps it with the job's other temporaries.  The
#     same run unkilled SUCCEEDS and leaves only its archive.
n="pdg without O_TMPFILE: kill -9 between a sort file's creation and unlink"
rm -rf st
head -n 2000 big.ndjson > pdg.ndjson
FAILIO_NO_TMPFILE=1 FAILIO_KILL_UNLINK=sort- LD_PRELOAD=$shim \
    "$bin" run --store st --merge-policies pol.json pjob.json pdg.ndjson > r.json 2> e.txt
rc=$?
left=$(ls -A st/datasets/ds 2>/dev/null | grep -c 'sort-')
if [ $rc != 137 ]; then bad "$n: exit $rc, want 137 (killed)"
elif [ "$left" != 1 ]; then bad "$n: $left sort files before get, want 1 (the kill came elsewhere)"
elif [ "$("$bin" get --store st 1 | jq -r .status)" != FAILED ]; then bad "$n: get does not say FAILED"
elif ! nothing_left st/datasets/ds; then bad "$n: left $(ls -A st/datasets/ds)"
else ok; fi
n="pdg without O_TMPFILE: a whole run"
rm -rf st
FAILIO_NO_TMPFILE=1 LD_PRELOAD=$shim \
    "$bin" run --store st --merge-policies pol.json pjob.json pdg.ndjson > r.json 2> e.txt
rc=$?
if [ $rc != 0 ] || [ "$(jq -r .status r.json)" != SUCCEEDED ]; then bad "$n: exit $rc: $(cat e.txt)"
elif [ "$(ls -A st/datasets/ds)" != "$(jq -r '.destination.batchId' r.json).tar.gz" ]; then
    bad "$n: left $(ls -A st/datasets/ds)"
else ok; fi

# 2d. A read error while libarchive guesses the format (its zip reader reads
#     the end of a big file): libarchive takes the INPUT for an empty one;
#     the job must FAIL, not succeed with no record.
n="read EIO while the format is guessed"
rm -rf st
FAILIO_READ_PATTERN=big.ndjson FAILIO_READ_AFTER=131072 LD_PRELOAD=$shim \
    "$bin" run --store st job.json big.ndjson > r.json 2> e.txt
rc=$?
if [ $rc != 1 ]; then bad "$n: exit $rc, want 1"
elif expect_failed "$n" r.json e.txt 0100000011 "Error reading 'big.ndjson'"; then ok; fi

# 3. SIGINT and SIGTERM mid-job: the input is a FIFO that we keep open after
#    feeding half of the records, so the job is surely mid-way.
for sig in INT TERM; do
    n="SIG$sig mid-job"
    rm -rf st fifo; mkfifo fifo
    "$bin" run --store st job.json fifo > r.json 2> e.txt &
    pid=$!
    exec 3> fifo
    head -n 10000 dump.ndjson >&3
    # PROCESSING with its FIFO still open: surely mid-job, whatever it has read.
    wait_status 1 PROCESSING --store st >/dev/null || { bad "$n: never PROCESSING"; kill -KILL $pid; wait $pid; exec 3>&-; continue; }
    kill -$sig $pid
    wait $pid; rc=$?
    exec 3>&-
    want=$([ $sig = INT ] && echo 130 || echo 143) # SPEC §11: 128 + the signal
    [ $rc = $want ] || { bad "$n: exit $rc, want $want"; continue; }
    expect_failed "$n" r.json e.txt 0100000013 "cancelled" || continue
    nothing_left st/datasets/ds || { bad "$n: left $(ls -A st/datasets/ds)"; continue; }
    [ "$("$bin" get --store st 1 | jq -r .status)" = FAILED ] || { bad "$n: get does not say FAILED"; continue; }
    ok
done

# 3b. The store is full when the job's record is written: the job cannot be
#     recorded, so `run` must not claim success (exit 1, stderr says why).
n="store full at the final record"
rm -rf st
FAILIO_WRITE_PATTERN=/jobs/.1.json.tmp- FAILIO_WRITE_AFTER=0 FAILIO_WRITE_ERRNO=ENOSPC LD_PRELOAD=$shim \
    "$bin" run --store st job.json dump.ndjson > r.json 2> e.txt
rc=$?
if [ $rc != 1 ]; then bad "$n: exit $rc, want 1"
elif ! grep -q "job 1: its final record could not be written: .*No space left on device" e.txt; then
    bad "$n: stderr: $(cat e.txt)"
else ok; fi

# 4. kill -9 at a random moment (0-50 ms into a run of 4,000 records), many
#    times over one store: after each, `get` reports the job FAILED (worker
#    died) or finished; no "."-file is left in the dataset directory once `get`
#    has seen the job; every visible archive belongs to a SUCCEEDED job, is
#    complete, and the archives of earlier jobs stay intact.
rm -rf st
head -n 4000 dump.ndjson > small.ndjson
"$bin" run --store st job.json small.ndjson > /dev/null 2>&1 || bad "kill -9: a first, untouched run failed"
sums=$(cd st/datasets/ds && sha256sum -- *)
k=0 killed=0 died=0 finished=0 problems=0 start=$(date +%s)
while [ $k -lt "$runs" ]; do
    k=$((k + 1))
    "$bin" run --store st job.json small.ndjson > /dev/null 2>&1 &
    pid=$!
    # A random moment to kill at (not a wait for anything: any moment is right).
    sleep "0.0$(awk -v s="$k$$" 'BEGIN { srand(s); printf "%02d", int(rand() * 51) }')" 2>/dev/null
    kill -9 $pid 2>/dev/null && killed=$((killed + 1))
    wait $pid 2>/dev/null
    last=$("$bin" list --store st --limit 1 2>/dev/null | jq -r '.records[0].id // empty')
    [ -n "$last" ] || continue
    st=$("$bin" get --store st "$last" 2>/dev/null | jq -r '[.status, ([.errors[]?.code] | join(","))] | join(" ")')
    case $st in
        "FAILED 0100000014") died=$((died + 1)) ;;
        "SUCCEEDED "*) finished=$((finished + 1)) ;;
        *) problems=$((problems + 1)); bad "kill -9 run $k: job $last is \"$st\"" ;;
    esac
    if ls -A st/datasets/ds | grep -q '^\.'; then
        problems=$((problems + 1)); bad "kill -9 run $k: temporary files left: $(ls -A st/datasets/ds | grep '^\.' | head -3)"
        rm -f st/datasets/ds/.*.tmp-* 2>/dev/null
    fi
done
# Every job, every archive.
ids=$("$bin" list --store st --limit 1000 | jq -r '.records[].id')
nsucc=0
for id in $ids; do
    s=$("$bin" get --store st "$id" | jq -r '.status + " " + (.destination.batchId // "")')
    case $s in
        "SUCCEEDED "*) nsucc=$((nsucc + 1))
            f=st/datasets/ds/${s#SUCCEEDED }.tar.gz
            if [ ! -f "$f" ] || ! tar -tzf "$f" > /dev/null 2>&1; then problems=$((problems + 1)); bad "kill -9: job $id's archive missing or damaged"; fi ;;
        "FAILED "*) [ ! -e "st/datasets/ds/${s#FAILED }.tar.gz" ] || { problems=$((problems + 1)); bad "kill -9: FAILED job $id has an archive"; } ;;
        *) problems=$((problems + 1)); bad "kill -9: job $id is $s" ;;
    esac
done
narch=$(ls st/datasets/ds | wc -l)
[ "$narch" = "$nsucc" ] || { problems=$((problems + 1)); bad "kill -9: $narch archives for $nsucc SUCCEEDED jobs"; }
(cd st/datasets/ds && echo "$sums" | sha256sum -c --quiet -) || { problems=$((problems + 1)); bad "kill -9: the first job's archive changed"; }
echo "faults: kill -9: $k runs in $(( $(date +%s) - start )) s, $killed killed, $died detected dead, $finished finished, $narch archives"
[ $problems = 0 ] && ok

echo "faults: $pass passed, $fail failed"
[ $fail = 0 ]
