#!/usr/bin/env bash
# One-node Slurm on this machine (Debian 12, root, no systemd): munged + slurmctld + slurmd as plain daemons, so that
# `srun --mpi=pmix -n 2 ./tgpt train ...` can be tested (app's DataParallelTest; CI runs this first). MpiDefault stays
# none, so a plain `srun -n 2` starts tasks without PMIx, which tgpt must refuse. Idempotent: safe to run again;
# starts only what is not running.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "slurm-setup: run as root" >&2; exit 2; }

# Slurm's mpi/pmix plugin dlopens libpmix.so, the unversioned name that only libpmix-dev ships (libopenmpi-dev brings
# it too; a slurmd started without it cannot launch PMIx steps until restarted).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! dpkg -s libpmix-dev >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge libpmix-dev >/dev/null
fi

HOST=$(hostname -s)
CPUS=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
CPUS=${CPUS:-$(nproc)}

# munge: a key (the package makes one; make it if missing) and its run directory
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then mungekey --create --force; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 20); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi
munge -n </dev/null | unmunge >/dev/null

# slurm.conf: rewritten only when it differs, so a second run changes nothing
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
CONF=$(cat <<EOF
# one-node test cluster, written by tgpt's .ci/slurm-setup.sh
ClusterName=local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=5
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
)
if [ ! -f /etc/slurm/slurm.conf ] || [ "$(cat /etc/slurm/slurm.conf)" != "$CONF" ]; then
  printf '%s\n' "$CONF" >/etc/slurm/slurm.conf
  CHANGED=1
fi

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! running /run/slurmctld.pid; then
  slurmctld          # daemonises; -i would ignore old state, not needed
elif [ -n "${CHANGED:-}" ]; then
  scontrol reconfigure
fi
if ! running /run/slurmd.pid; then
  slurmd
fi

# wait for the node to be usable, then bring it back if an earlier run left it down/drained
for _ in $(seq 30); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  case "$state" in idle*|mixed*|allocated*) break ;; down*|drain*) scontrol update NodeName="$HOST" State=RESUME || true ;; esac
  sleep 1
done
sinfo
timeout 60 srun -n 2 hostname
# a PMIx step, as tgpt's ranks are started. One that fails (a slurmd that came up before libpmix.so was there, a job
# left completing by a failed launch) gets one recovery: slurmd restarted, the node taken down and resumed.
if ! timeout 60 srun --mpi=pmix -n 1 true; then
  echo "slurm-setup: srun --mpi=pmix failed; restarting slurmd and resuming the node" >&2
  kill "$(cat /run/slurmd.pid)" 2>/dev/null || true
  sleep 2
  slurmd
  # (a node that is not completing refuses DOWN or RESUME: nothing to undo then)
  scontrol update NodeName="$HOST" State=DOWN Reason=slurm-setup 2>/dev/null || true
  scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true
  sleep 3
  timeout 60 srun --mpi=pmix -n 1 true || { echo "slurm-setup: srun --mpi=pmix does not work; see /var/log/slurm/slurmd.log" >&2; exit 1; }
fi
echo "slurm-setup: ok (srun --mpi=list: $(srun --mpi=list 2>&1 | tr -s '\n ' ' '))"
