# Shared waits for the shell tests (tests/cli cases get its path as $TESTLIB,
# tests/faults/run.sh sources it).  Never a fixed sleep for something to
# happen: poll the condition, with a generous deadline (WAIT_SECONDS, default
# 60: the machine may be busy).  A process counts as gone once it has exited,
# reaped or not: a zombie is gone (a non-reaping parent, such as a CI runner
# that is a child subreaper, may keep it for a while).

WAIT_SECONDS=${WAIT_SECONDS:-60}

# wait_until CMD [ARG...]: runs CMD until it succeeds; 1 after WAIT_SECONDS.
wait_until() {
    _wu_end=$(( $(date +%s) + WAIT_SECONDS ))
    while ! "$@"; do
        [ "$(date +%s)" -le "$_wu_end" ] || return 1
        sleep 0.05
    done
    return 0
}

# proc_gone PID: true when no process PID runs any more (none, or a zombie);
# the state is the field after the last ")" of /proc/PID/stat.
proc_gone() {
    _pg_st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    case $_pg_st in ''|Z|X|x) return 0;; esac
    return 1
}
proc_alive() { ! proc_gone "$1"; }

# wait_gone PID: polls until PID is gone; 1 after WAIT_SECONDS.
wait_gone() { wait_until proc_gone "$1"; }

# job_status ID [OPTION...]: the job's status as `get` prints it ("" if none).
job_status() { "$SEGEXPORT" get "$@" 2>/dev/null | jq -r .status 2>/dev/null; }
_status_in() { # ID WANTED [OPTION...]: WANTED is a |-separated list
    _si_id=$1 _si_want=$2; shift 2
    case "|$_si_want|" in *"|$(job_status "$_si_id" "$@")|"*) return 0;; esac
    return 1
}

# wait_status ID STATUS[|STATUS...] [OPTION...]: polls `get` until the job has
# (one of) the status(es); else says what it has and returns 1.
wait_status() {
    _ws_id=$1 _ws_want=$2; shift 2
    wait_until _status_in "$_ws_id" "$_ws_want" "$@" && return 0
    echo "job $_ws_id: still $(job_status "$_ws_id" "$@"), not $_ws_want, after $WAIT_SECONDS s"
    return 1
}
