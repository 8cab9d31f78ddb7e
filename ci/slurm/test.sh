#!/usr/bin/env bash
# A real Slurm test: a single-node cluster on 127.0.0.1 runs a small sweep as a job array
# (ci/slurm/sweep.sbatch, `sbatch --wait --array=0-3`); `biornn collect` must then hold every run
# exactly once and equal a single-process run of the same grid, byte for byte.
#
# Installs Debian's slurmctld, slurmd and slurm-client when missing. The cluster is throwaway:
# its config, state and logs live in a temporary folder, it uses auth/none and cred/none (fine for
# a loopback-only test cluster, never for a real one) and free ports, and the daemons this script
# started are stopped by their PIDs when it exits, whatever happens. About a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
source ci/setup.sh

ensure_packages slurmctld slurmd slurm-client
[ "$(id -u)" -eq 0 ] || { echo "slurm test: the test cluster's daemons run as root; run as root" >&2; exit 1; }

swift build -c release --product biornn >&2
biornn="$(swift build -c release --show-bin-path)/biornn"

work="$(mktemp -d /tmp/biornn-slurm.XXXXXX)"
pids=()
finish() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    echo "slurm test: FAILED; the cluster's logs:" >&2
    tail -n 20 "$work"/log/* >&2 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

# A port the kernel says is free (python3), else a random high one.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || shuf -i 20000-60999 -n 1
}
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$work/slurm.conf" <<CONF
ClusterName=biornntest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=biornn0 NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=biornn0 Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"

slurmctld -D -f "$SLURM_CONF" > "$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N biornn0 -f "$SLURM_CONF" > "$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = "idle" ] && break
  sleep 1
done
[ "$(sinfo -h -o %T 2>/dev/null)" = "idle" ] || { echo "slurm test: the node did not come up idle" >&2; exit 1; }
echo "slurm test: cluster up (slurmctld pid ${pids[0]}, slurmd pid ${pids[1]})"

# 2 gains × 2 rules × 2 seeds = 8 runs over 4 array tasks, 2 each.
cat > "$work/grid.json" <<'GRID'
{"tasks": ["delayed-xor"], "gains": [1, 2], "rules": ["bptt", "eprop"], "seeds": [1, 2],
 "iterations": 20, "units": 12, "batch_size": 4, "log_every": 10, "eval_trials": 16}
GRID
BIORNN="$biornn" timeout 600 sbatch --wait --array=0-3 --chdir="$work" --output="$work/task-%a.out" \
  ci/slurm/sweep.sbatch "$work/grid.json" "$work/cluster"
for i in 0 1 2 3; do echo "  task $i: $(tail -n 1 "$work/task-$i.out")"; done

"$biornn" collect "$work/cluster"
"$biornn" sweep "$work/grid.json" --out "$work/single" > /dev/null
"$biornn" collect "$work/single" > /dev/null

runs=$(tail -n +2 "$work/cluster/results.csv" | cut -d, -f1)
expected=$("$biornn" sweep "$work/grid.json" --out "$work/single" --list | wc -l)
[ "$(echo "$runs" | wc -l)" -eq "$expected" ] || { echo "slurm test: expected $expected runs, collect has $(echo "$runs" | wc -l)" >&2; exit 1; }
[ -z "$(echo "$runs" | sort | uniq -d)" ] || { echo "slurm test: duplicated runs: $(echo "$runs" | sort | uniq -d)" >&2; exit 1; }
cmp "$work/cluster/results.csv" "$work/single/results.csv" || { echo "slurm test: results.csv differs from the single-process run" >&2; exit 1; }
echo "slurm test: passed: $expected runs from 4 array tasks, each exactly once; results.csv equals a single process's"
