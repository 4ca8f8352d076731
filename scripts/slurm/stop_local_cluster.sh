#!/usr/bin/env bash
# Stop the daemons that scripts/slurm/start_local_cluster.sh started, by the PIDs it
# recorded in STATE_DIR/pids -- nothing else on the machine is touched.
#
#   scripts/slurm/stop_local_cluster.sh [STATE_DIR] [--purge]
#
# STATE_DIR defaults as in start_local_cluster.sh. --purge also deletes STATE_DIR.
# Jobs still queued or running on the test cluster are cancelled first.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=""
PURGE=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $arg" >&2; exit 2 ;;
        *) STATE=$arg ;;
    esac
done
STATE=${STATE:-${EARLYPHASE_SLURM_DIR:-$REPO/.slurm-local}}
PIDS=$STATE/pids
log() { printf '[stop_local_cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
export PATH=$PATH:/usr/sbin:/sbin

if [[ ! -s $PIDS ]]; then
    log "nothing recorded in $PIDS; nothing to stop"
else
    if [[ -f $STATE/slurm.conf ]] && command -v scancel >/dev/null; then
        SLURM_CONF=$STATE/slurm.conf timeout 10 scancel --full --quiet --partition=local \
            2>/dev/null || true
    fi
    # reverse start order: slurmd, slurmctld, slurmdbd, mariadbd, munged
    mapfile -t entries < <(tac "$PIDS")
    for entry in "${entries[@]}"; do
        read -r name pid <<<"$entry"
        [[ $pid =~ ^[0-9]+$ ]] || continue
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name ($pid) already gone"
            continue
        fi
        # guard against PID reuse: the process must still be the program we started
        comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
        if [[ $comm != "$name"* ]]; then
            log "PID $pid is now '$comm', not $name; leaving it alone"
            continue
        fi
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 80; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name ($pid) ignored SIGTERM for 20 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name ($pid)"
    done
    rm -f "$PIDS"
fi

if ((PURGE)) && [[ -d $STATE ]]; then
    rm -rf -- "$STATE"
    log "removed $STATE"
fi
