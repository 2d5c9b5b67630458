#!/bin/sh
# make install / make uninstall into a scratch DESTDIR: install puts the
# binary, the man page and the bash completion (and nothing else) under
# PREFIX; the man page renders without a warning and names every command and
# every option of every command's --help; the completion file, sourced in
# bash, completes commands, options and values; uninstall removes exactly the
# installed files.
set -eu
make=${1:-make}
top=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d)
w=$(mktemp -d)
trap 'rm -rf "$d" "$w"' EXIT
fail() { echo "install: FAIL: $*"; exit 1; }

$make -s -C "$top" install DESTDIR="$d" PREFIX=/opt/se >/dev/null
got=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
want="./opt/se/bin/segexport ./opt/se/share/bash-completion/completions/segexport ./opt/se/share/man/man1/segexport.1 "
[ "$got" = "$want" ] || fail "installed files: $got"
bin=$d/opt/se/bin/segexport
"$bin" --version | grep -q '^segexport ' || fail "installed binary does not run"

# The man page: no warning at any width, every command and option named.
man_src=$d/opt/se/share/man/man1/segexport.1
for w in 60 80 132; do
    warn=$(MANWIDTH=$w man --warnings -l "$man_src" 2>&1 >/dev/null) || fail "man exits non-zero"
    [ -z "$warn" ] || fail "man warnings at width $w: $warn"
done
page=$(MANWIDTH=200 man -l "$man_src" 2>/dev/null)
cmds="run create get list cancel delete key merge files cat verify"
for c in $cmds; do
    echo "$page" | grep -Eq "^       segexport $c( |$)" || fail "man page synopsis lacks $c"
    for o in $("$bin" $c --help | sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\).*/\2/p'); do
        echo "$page" | grep -q -- "$o" || fail "man page does not name $o (of $c)"
    done
done
# Every environment variable the binary reads is in ENVIRONMENT, but the two
# test hooks (SEGEXPORT_MERGE_HOLD holds a merge for a signal test,
# SEGEXPORT_TREE_PATH runs the engine's reference path).
envs=$(grep -ao 'SEGEXPORT_[A-Z_]*\|SOURCE_DATE_EPOCH\|mapreduce_task_partition' "$bin" | sort -u |
       grep -v '^SEGEXPORT_MERGE_HOLD$\|^SEGEXPORT_TREE_PATH$')
[ "$(echo "$envs" | wc -l)" -ge 7 ] || fail "too few environment variables found in the binary: $envs"
envsec=$(echo "$page" | sed -n '/^ENVIRONMENT/,/^EXIT STATUS/p')
for e in $envs; do
    echo "$envsec" | grep -q -- "$e" || fail "man page ENVIRONMENT does not name $e"
done
"$bin" --help | sed -n 's/^  \([a-z]*\) .*/\1/p' | while read -r c; do
    echo "$cmds" | grep -qw "$c" || { echo "install: FAIL: --help lists $c, the man check does not"; exit 1; }
done

# The completion, sourced in bash.
comp=$d/opt/se/share/bash-completion/completions/segexport
# batch ids for files, cat and verify: the archives under STORE/datasets or --output
mkdir -p "$w/.segexport/datasets/ds1" "$w/out/ds2"
: > "$w/.segexport/datasets/ds1/0123456789abcdef0123456789abcdef.tar.gz"
: > "$w/out/ds2/fedcba9876543210fedcba9876543210.zip"
: > "$w/copy.tar.gz"
out=$(cd "$w" && PATH="$d/opt/se/bin:$PATH" bash -c '
    . "$1"
    t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _segexport; echo "${COMPREPLY[*]}"; }
    complete -p segexport
    t segexport ver
    t segexport li
    t segexport run --out
    t segexport get --s
    t segexport run --format tar.
    t segexport list --status S
    t segexport he
    t segexport help ca
    t segexport files 0
    t segexport cat --output out f
    t segexport cat 0123456789abcdef0123456789abcdef p
    t segexport verify c
    t segexport verify --output=out f
' bash "$comp")
want='complete -o bashdefault -o filenames -F _segexport segexport
verify
list
--output
--store --sandbox
tar.gz tar.zst tar.xz
SUCCEEDED
help
cancel cat
0123456789abcdef0123456789abcdef
fedcba9876543210fedcba9876543210

copy.tar.gz
fedcba9876543210fedcba9876543210'
[ "$out" = "$want" ] || fail "completion gave:
$out"

$make -s -C "$top" uninstall DESTDIR="$d" PREFIX=/opt/se >/dev/null
left=$(cd "$d" && find . -type f)
[ -z "$left" ] || fail "uninstall left: $left"
echo "install: install, man page, completion, uninstall: ok"
