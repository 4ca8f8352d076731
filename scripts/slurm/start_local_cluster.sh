#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, without systemd, for testing the
# workflow profile in workflow/profiles/slurm.
#
#   scripts/slurm/start_local_cluster.sh [STATE_DIR] [--no-accounting] [--no-install]
#
# STATE_DIR (default: $EARLYPHASE_SLURM_DIR, else .slurm-local/ in the repository) receives
# slurm.conf, gres.conf, spool/state folders, logs, the MariaDB data folder and the file
# `pids` listing every daemon this script started (stop_local_cluster.sh stops exactly those).
#
# The node is called `localhost`, has CPUs = nproc, RealMemory = MemTotal minus a margin (or
# EARLYPHASE_SLURM_MIN_MEM_MB, if larger), and advertises fake GPUs (EARLYPHASE_SLURM_GPUS,
# 1 to 5, default 1; Gres=gpu:N backed by /dev/null, /dev/zero, ...), so jobs that ask for a GPU are scheduled and
# see CUDA_VISIBLE_DEVICES (0, 1, ...). Ports: EARLYPHASE_SLURM_PORT_BASE (default 6817) and
# the next three (slurmd, slurmdbd, MariaDB).
#
# Accounting (default on): MariaDB + slurmdbd, so `sacct` works and the executor plugin can
# use its default status command, as on a real cluster. With --no-accounting (or
# EARLYPHASE_SLURM_ACCOUNTING=0) only munged, slurmctld and slurmd run; MinJobAge=300 then
# lets the plugin use `squeue` for job status (pass --slurm-status-command squeue and keep
# --slurm-init-seconds-before-status-checks at most 100).
#
# Needs root (the daemons run as root; munged as the munge user). Installs the Debian
# packages with apt-get if they are missing. After it returns:
#   source STATE_DIR/env.sh      # SLURM_CONF (and an srun shim on PATH) for sinfo, sbatch, ...
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=""
ACCOUNTING=${EARLYPHASE_SLURM_ACCOUNTING:-1}
INSTALL=1
for arg in "$@"; do
    case "$arg" in
        --no-accounting) ACCOUNTING=0 ;;
        --accounting) ACCOUNTING=1 ;;
        --no-install) INSTALL=0 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $arg" >&2; exit 2 ;;
        *) STATE=$arg ;;
    esac
done
STATE=${STATE:-${EARLYPHASE_SLURM_DIR:-$REPO/.slurm-local}}
PORT_BASE=${EARLYPHASE_SLURM_PORT_BASE:-6817}
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))
WAIT_S=${EARLYPHASE_SLURM_WAIT_S:-60}
GPUS=${EARLYPHASE_SLURM_GPUS:-1}
[[ $GPUS =~ ^[1-5]$ ]] || { echo "EARLYPHASE_SLURM_GPUS must be 1 to 5" >&2; exit 2; }

log() { printf '[start_local_cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (slurmd and munged need it)"
T0=$(date +%s.%N)

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
PIDS=$STATE/pids
CONF=$STATE/slurm.conf

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# Already running? (every recorded daemon alive) -> nothing to do.
if [[ -s $PIDS ]]; then
    all_alive=1
    while read -r _ pid; do alive "$pid" || all_alive=0; done <"$PIDS"
    if ((all_alive)) && SLURM_CONF=$CONF sinfo -h -o %t 2>/dev/null | grep -qx idle; then
        log "cluster in $STATE is already running"
        echo "source $STATE/env.sh"
        exit 0
    fi
    die "$PIDS exists but the cluster is not healthy; run scripts/slurm/stop_local_cluster.sh $STATE first"
fi

# ---------------------------------------------------------------------------------------
# 1. packages
pkgs=(slurm-wlm slurmctld slurmd slurm-client munge)
need=(slurmctld slurmd sbatch sinfo munged)
if ((ACCOUNTING)); then
    pkgs+=(mariadb-server slurmdbd)
    need+=(mariadbd mariadb-install-db slurmdbd)
fi
missing=0
for c in "${need[@]}"; do
    command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c ]] || missing=1
done
if ((missing)); then
    ((INSTALL)) || die "SLURM packages missing and --no-install given: ${pkgs[*]}"
    log "installing ${pkgs[*]} (apt-get, --no-install-recommends)"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d (exit 101) keeps package scripts from starting daemons we did not ask for.
    made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$STATE/apt.log" 2>&1; then
        apt-get update -q >>"$STATE/apt.log" 2>&1
        apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>"$STATE/apt.log" 2>&1 ||
            { ((made_policy)) && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed, see $STATE/apt.log"; }
    fi
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
fi
export PATH=$PATH:/usr/sbin:/sbin
T_INSTALL=$(date +%s.%N)

# ---------------------------------------------------------------------------------------
# 2. configuration
mkdir -p "$STATE"/{spool/ctld,spool/d,log,run}
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
MARGIN=$((MEM_MB / 10 > 1024 ? MEM_MB / 10 : 1024))
REAL_MEM=$((MEM_MB - MARGIN))
((REAL_MEM > 256)) || REAL_MEM=256
# Optionally declare more memory than the machine has, so that rules asking for more than a
# small CI machine holds are still scheduled (memory is not a consumable resource here,
# CR_Core); config_overrides stops slurmd from draining the node for "low RealMemory".
MIN_MEM=${EARLYPHASE_SLURM_MIN_MEM_MB:-0}
slurmd_params=""
if ((MIN_MEM > REAL_MEM)); then
    log "declaring RealMemory=${MIN_MEM}MB (physical: ${MEM_MB}MB; EARLYPHASE_SLURM_MIN_MEM_MB)"
    REAL_MEM=$MIN_MEM
    slurmd_params="SlurmdParameters=config_overrides"
fi

acct_lines="AccountingStorageType=accounting_storage/none"
if ((ACCOUNTING)); then
    acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT"
fi

cat >"$CONF" <<EOF
# Written by scripts/slurm/start_local_cluster.sh -- single-node test cluster.
ClusterName=earlyphase
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Finished jobs stay visible to squeue for 300 s: lets the executor plugin use
# squeue for status when there is no accounting (needs MinJobAge >= 3 x init seconds).
MinJobAge=300
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
JobAcctGatherType=jobacct_gather/none
$slurmd_params
$acct_lines
GresTypes=gpu
NodeName=localhost CPUs=$CPUS RealMemory=$REAL_MEM Gres=gpu:$GPUS State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# Fake GPUs: without File= the node would be INVAL. Each GPU needs its own character
# device; nothing opens them (no cgroup device confinement), so harmless ones serve.
fake_devices=(/dev/null /dev/zero /dev/full /dev/urandom /dev/random)
gpu_files=$(IFS=,; echo "${fake_devices[*]:0:GPUS}")
cat >"$STATE/gres.conf" <<EOF
AutoDetect=off
NodeName=localhost Name=gpu File=$gpu_files
EOF

# The slurm-jobstep executor (inside each job) removes every SLURM_* variable, SLURM_CONF
# included, before its nested `srun`; real clusters keep slurm.conf in /etc/slurm, this one
# does not. A shim first on PATH puts SLURM_CONF back, so nothing outside STATE is written.
mkdir -p "$STATE/bin"
cat >"$STATE/bin/srun" <<EOF
#!/bin/sh
# Written by scripts/slurm/start_local_cluster.sh: restore SLURM_CONF for nested srun calls.
SLURM_CONF=\${SLURM_CONF:-$CONF}
export SLURM_CONF
exec $(command -v srun) "\$@"
EOF
chmod +x "$STATE/bin/srun"

cat >"$STATE/env.sh" <<EOF
# source this file to talk to the local test cluster
export SLURM_CONF=$CONF
case ":\$PATH:" in *":$STATE/bin:"*) ;; *) export PATH="$STATE/bin:\$PATH" ;; esac
EOF
echo "$ACCOUNTING" >"$STATE/accounting"
export SLURM_CONF=$CONF
: >"$PIDS"
record() { echo "$1 $2" >>"$PIDS"; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 4; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "timed out after ${limit}s waiting for $what"
}

# ---------------------------------------------------------------------------------------
# 3. munge (shared by the whole machine: reuse a running munged, never record it)
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running; reusing it"
else
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        install -d -o munge -g munge -m 0700 /etc/munge
        runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    wait_for 10 "munged pid file" test -s /run/munge/munged.pid
    record munged "$(cat /run/munge/munged.pid)"
    wait_for 10 munged sh -c 'munge -n | unmunge'
fi

# ---------------------------------------------------------------------------------------
# 4. MariaDB + slurmdbd (accounting)
if ((ACCOUNTING)); then
    DB=$STATE/mysql
    if [[ ! -d $DB/data/mysql ]]; then
        log "initialising MariaDB data folder"
        install -d -o mysql -g mysql -m 0750 "$DB" "$DB/data"
        mariadb-install-db --user=mysql --datadir="$DB/data" --auth-root-authentication-method=socket \
            --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed, see $STATE/log/mariadb-install.log"
    fi
    chown mysql:mysql "$DB" "$DB/data"
    # own socket/pid/port, so an existing MariaDB on the machine is never touched
    mariadbd --no-defaults --user=mysql --datadir="$DB/data" --socket="$DB/mysqld.sock" \
        --pid-file="$DB/mysqld.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --skip-name-resolve --log-error="$STATE/log/mariadb.log" --innodb-buffer-pool-size=64M \
        >/dev/null 2>&1 &
    record mariadbd $!
    wait_for 60 MariaDB mariadb-admin --no-defaults --socket="$DB/mysqld.sock" ping
    DB_PASS=$(cat "$DB/slurm.pass" 2>/dev/null || true)
    if [[ -z $DB_PASS ]]; then
        DB_PASS=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
        (umask 077 && echo "$DB_PASS" >"$DB/slurm.pass")
    fi
    mariadb --no-defaults --socket="$DB/mysqld.sock" -u root <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
    (umask 077 && cat >"$STATE/slurmdbd.conf" <<EOF
# Written by scripts/slurm/start_local_cluster.sh
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
AuthType=auth/munge
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
LogFile=$STATE/log/slurmdbd.log
PidFile=$STATE/run/slurmdbd.pid
DebugLevel=info
EOF
    )
    rm -f "$STATE/run/slurmdbd.pid"
    # slurmdbd reads slurmdbd.conf from the folder of SLURM_CONF
    slurmdbd
    wait_for 30 "slurmdbd pid file" test -s "$STATE/run/slurmdbd.pid"
    record slurmdbd "$(cat "$STATE/run/slurmdbd.pid")"
    wait_for 30 slurmdbd sacctmgr -n list cluster
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx earlyphase; then
        sacctmgr -i add cluster earlyphase >/dev/null
    fi
fi

# ---------------------------------------------------------------------------------------
# 5. slurmctld and slurmd (daemonise; their pid files give the real PIDs)
rm -f "$STATE/run/slurmctld.pid" "$STATE/run/slurmd.pid"
slurmctld -f "$CONF"
wait_for 30 "slurmctld pid file" test -s "$STATE/run/slurmctld.pid"
record slurmctld "$(cat "$STATE/run/slurmctld.pid")"
slurmd -f "$CONF" -N localhost
wait_for 30 "slurmd pid file" test -s "$STATE/run/slurmd.pid"
record slurmd "$(cat "$STATE/run/slurmd.pid")"

node_idle() { [[ $(sinfo -h -n localhost -o %t 2>/dev/null) == idle ]]; }
idle=0
for ((i = 0; i < WAIT_S * 4; i++)); do
    if node_idle; then idle=1; break; fi
    sleep 0.25
done
if ((!idle)); then
    sinfo -N -l >&2 || true
    die "node did not become idle within ${WAIT_S}s; logs in $STATE/log/"
fi
T_END=$(date +%s.%N)

log "cluster up: node localhost, CPUs=$CPUS RealMemory=${REAL_MEM}MB gpu:$GPUS (fake), accounting=$ACCOUNTING"
log "$(awk -v a="$T0" -v b="$T_INSTALL" -v c="$T_END" \
    'BEGIN { printf "timings: install %.1fs, start %.1fs, total %.1fs", b - a, c - b, c - a }')"
log "daemons: $(tr '\n' ' ' <"$PIDS")"
echo "source $STATE/env.sh"
