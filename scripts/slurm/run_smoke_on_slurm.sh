#!/usr/bin/env bash
# Run a workflow target through SLURM on a local single-node cluster and check that it
# produces the same tables as a plain local run.
#
#   scripts/slurm/run_smoke_on_slurm.sh [options] [TARGET ...]
#
#   TARGET            default: figures/table1.tex (with --selftest: the toy workflow's `all`)
#   --selftest        run the 3-job toy workflow in scripts/slurm/selftest/ instead of the
#                     main Snakefile (no config file); checks that the gpu=1 job saw
#                     CUDA_VISIBLE_DEVICES
#   --configfile F    default: config/smoke.yaml (main workflow only)
#   --no-local        skip the local run and the comparison
#   --sequential      run the local run after the SLURM run (default: both at once; the SLURM
#                     run mostly waits on polling, so this roughly halves the wall time)
#   --keep            keep the working copies (they are kept anyway when something fails)
#
# Environment: EARLYPHASE_SLURM_DIR (cluster state folder, default .slurm-local/),
# EARLYPHASE_SLURM_WORK (folder for the two working copies, default: a new folder in /tmp),
# EARLYPHASE_SMOKE_CORES (cores of the local run and thread cap of the SLURM run, default 2),
# EARLYPHASE_COMPARE_GLOBS (extra space-separated globs of files that must be identical).
#
# Each run gets its own copy of the repository (tracked and untracked, non-ignored files:
# uncommitted work included), so neither clashes with results/ in the checkout. The cluster
# is started if it is not running, and then stopped again by PID on exit, failure included;
# a cluster that was already running is left running.
#
# Compared: the targets, and every *.csv, *.tsv, *.tex and *.parquet file under figures/,
# results/tables/ and results/selftest/ -- byte for byte, parquet by content (pandas).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELFTEST=0 LOCAL=1 SEQUENTIAL=0 KEEP=0
CONFIGFILE=config/smoke.yaml
TARGETS=()
while (($#)); do
    case "$1" in
        --selftest) SELFTEST=1 ;;
        --no-local) LOCAL=0 ;;
        --sequential) SEQUENTIAL=1 ;;
        --keep) KEEP=1 ;;
        --configfile) CONFIGFILE=$2; shift ;;
        --configfile=*) CONFIGFILE=${1#*=} ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) TARGETS+=("$1") ;;
    esac
    shift
done
STATE=${EARLYPHASE_SLURM_DIR:-$REPO/.slurm-local}
CORES=${EARLYPHASE_SMOKE_CORES:-2}

log() { printf '[run_smoke_on_slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [[ -z ${VIRTUAL_ENV:-} && -f $REPO/.venv/bin/activate ]]; then
    # shellcheck disable=SC1091
    . "$REPO/.venv/bin/activate"
fi
command -v snakemake >/dev/null || { log "snakemake not found (activate the venv)"; exit 1; }

if ((SELFTEST)); then
    SMK_ARGS=(-s scripts/slurm/selftest/Snakefile)
    ((${#TARGETS[@]})) || TARGETS=(all)
else
    SMK_ARGS=(--configfile "$CONFIGFILE") # after the targets: --configfile takes several values
    ((${#TARGETS[@]})) || TARGETS=(figures/table1.tex)
    [[ -f $REPO/Snakefile || -f $REPO/workflow/Snakefile ]] ||
        { log "no Snakefile in $REPO yet; try --selftest"; exit 1; }
fi

WORK=${EARLYPHASE_SLURM_WORK:-$(mktemp -d /tmp/earlyphase-slurm.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
STARTED_CLUSTER=0
STATUS=1

local_pid="" slurm_pid=""
kill_tree() { # kill_tree PID: the process and all its descendants, children first
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
    kill -TERM "$1" 2>/dev/null
}
cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in $slurm_pid $local_pid; do # runs interrupted by a signal
        kill -0 "$pid" 2>/dev/null && kill_tree "$pid"
    done
    ((${#slurm_pid} + ${#local_pid})) && sleep 5 # let Snakemake cancel its SLURM jobs
    if ((STARTED_CLUSTER)); then
        "$REPO/scripts/slurm/stop_local_cluster.sh" "$STATE" || log "stopping the cluster failed"
    fi
    if ((STATUS == 0 && !KEEP)); then
        rm -rf -- "$WORK"
    else
        log "working copies kept in $WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$(now)
# ---------------------------------------------------------------------------------------
# cluster
if [[ -s $STATE/pids ]] && SLURM_CONF=$STATE/slurm.conf sinfo -h -o %t 2>/dev/null | grep -qx idle; then
    log "using the running cluster in $STATE (it stays up afterwards)"
else
    STARTED_CLUSTER=1
    # rules may ask for more memory (mem_mb) than a small CI machine has; the test node so that every job is scheduled (memory is not enforced there)
    # declares at least 64 GB so that every job is scheduled (memory is not enforced there),
    # and one fake GPU per core (at most 5) so GPU jobs run side by side as in the local run
    gpus=$(nproc); ((gpus <= 5)) || gpus=5
    EARLYPHASE_SLURM_MIN_MEM_MB=${EARLYPHASE_SLURM_MIN_MEM_MB:-65536} \
        EARLYPHASE_SLURM_GPUS=${EARLYPHASE_SLURM_GPUS:-$gpus} \
        "$REPO/scripts/slurm/start_local_cluster.sh" "$STATE" >/dev/null
fi
# shellcheck disable=SC1091
. "$STATE/env.sh"
T_CLUSTER=$(now)

# ---------------------------------------------------------------------------------------
# two working copies of the checkout (without the cluster state)
state_rel=$(realpath -m --relative-to="$REPO" "$STATE")
copy_tree() {
    mkdir -p "$1"
    git -C "$REPO" ls-files -z --cached --others --exclude-standard |
        grep -zv -e '^\.slurm-local/' -e "^${state_rel//./\\.}/" |
        (cd "$REPO" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        tar -C "$REPO" --null -T - -cf - | tar -C "$1" -xf -
}
copy_tree "$WORK/slurm"
((LOCAL)) && copy_tree "$WORK/local"

SLURM_ARGS=(--workflow-profile workflow/profiles/slurm --max-threads "$CORES"
    --slurm-init-seconds-before-status-checks 5)
if [[ $(cat "$STATE/accounting" 2>/dev/null) == 0 ]]; then
    SLURM_ARGS+=(--slurm-status-command squeue) # no slurmdbd: sacct cannot answer
fi

# PYTHONPATH: each copy imports its own src/, not the checkout's editable install
run_slurm() (
    cd "$WORK/slurm" && PYTHONPATH="$WORK/slurm/src${PYTHONPATH:+:$PYTHONPATH}" \
        snakemake "${SLURM_ARGS[@]}" "${TARGETS[@]}" "${SMK_ARGS[@]}" >"$WORK/slurm.log" 2>&1
)
run_local() (
    cd "$WORK/local" && PYTHONPATH="$WORK/local/src${PYTHONPATH:+:$PYTHONPATH}" \
        snakemake --cores "$CORES" "${TARGETS[@]}" "${SMK_ARGS[@]}" >"$WORK/local.log" 2>&1
)
timed() { # timed NAME FUNCTION: runs it, writes seconds to $WORK/NAME.seconds and returns its status
    local t rc=0
    t=$(now)
    "$2" || rc=$?
    secs "$t" "$(now)" >"$WORK/$1.seconds"
    return "$rc"
}

log "targets: ${TARGETS[*]} ($( ((SELFTEST)) && echo selftest workflow || echo "main workflow, $CONFIGFILE"))"
log "SLURM run in $WORK/slurm (log: $WORK/slurm.log)"
# Both runs go to the background and the script waits for them, so that a signal reaches
# the traps at once (bash defers traps while a foreground child runs).
rc_slurm=0 rc_local=0
timed slurm run_slurm &
slurm_pid=$!
if ((LOCAL && !SEQUENTIAL)); then
    log "local run in $WORK/local at the same time (log: $WORK/local.log)"
    timed local run_local &
    local_pid=$!
fi
wait "$slurm_pid" || rc_slurm=$?
slurm_pid=""
if ((LOCAL && SEQUENTIAL)); then
    log "local run in $WORK/local (log: $WORK/local.log)"
    timed local run_local &
    local_pid=$!
fi
if [[ -n $local_pid ]]; then
    wait "$local_pid" || rc_local=$?
    local_pid=""
fi
((rc_slurm == 0)) || { tail -n 40 "$WORK/slurm.log" >&2; log "SLURM run FAILED (rc=$rc_slurm)"; }
((rc_local == 0)) || { tail -n 40 "$WORK/local.log" >&2; log "local run FAILED (rc=$rc_local)"; }
((rc_slurm == 0 && rc_local == 0)) || exit 1

# ---------------------------------------------------------------------------------------
# checks
if ((SELFTEST)); then
    env_file=$WORK/slurm/results/selftest/gpu_env.txt
    if ! grep -q '^SLURM_JOB_ID=[0-9]' "$env_file" || ! grep -q '^CUDA_VISIBLE_DEVICES=.' "$env_file"; then
        cat "$env_file" >&2
        log "the gpu=1 job did not run as a SLURM job with CUDA_VISIBLE_DEVICES set"
        exit 1
    fi
    log "gpu job: $(tr '\n' ' ' <"$env_file")"
fi

if ((LOCAL)); then
    log "comparing outputs"
    python - "$WORK/slurm" "$WORK/local" "${TARGETS[@]}" <<'PYEOF'
import fnmatch
import os
import sys
from pathlib import Path

slurm, local, targets = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
roots = ["figures", "results/tables", "results/selftest"]
suffixes = {".csv", ".tsv", ".tex", ".parquet"}
extra = os.environ.get("EARLYPHASE_COMPARE_GLOBS", "").split()


def collect(base):
    found = set()
    for root in roots:
        if (base / root).is_dir():
            for p in (base / root).rglob("*"):
                if p.is_file() and p.suffix in suffixes:
                    found.add(p.relative_to(base).as_posix())
    for p in base.rglob("*"):
        rel = p.relative_to(base).as_posix()
        if p.is_file() and not rel.startswith(".snakemake/"):
            if any(fnmatch.fnmatch(rel, g) for g in extra):
                found.add(rel)
    return found


files = collect(slurm) | collect(local)
files |= {t for t in targets if (slurm / t).is_file() or (local / t).is_file()}
bad = []
for rel in sorted(files):
    a, b = slurm / rel, local / rel
    if not (a.is_file() and b.is_file()):
        bad.append(f"{rel}: only in the {'SLURM' if a.is_file() else 'local'} run")
    elif rel.endswith(".parquet"):
        import pandas as pd

        try:
            pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)
        except AssertionError as e:
            bad.append(f"{rel}: tables differ: {str(e).splitlines()[0]}")
    elif a.read_bytes() != b.read_bytes():
        bad.append(f"{rel}: contents differ")
if not files:
    bad.append("nothing to compare: no target or table was produced")
for rel in sorted(files):
    print(f"  {'DIFF' if any(x.startswith(rel + ':') for x in bad) else 'same'}  {rel}")
for line in bad:
    print(f"  ERROR {line}", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
fi

T_END=$(now)
STATUS=0
{
    echo "cluster start (incl. install if needed): $(secs "$T0" "$T_CLUSTER") s"
    echo "SLURM run: $(cat "$WORK/slurm.seconds") s"
    ((LOCAL)) && echo "local run (--cores $CORES$( ((SEQUENTIAL)) || echo ', concurrent')): $(cat "$WORK/local.seconds") s"
    echo "total (before stopping the cluster): $(secs "$T0" "$T_END") s"
} | sed 's/^/  /' | tee "$WORK/timings.txt" >&2
log "OK: SLURM and local runs agree"
