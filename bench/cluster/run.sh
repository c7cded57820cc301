#!/bin/bash
# Cluster benchmark (bench/README.md, "Cluster"): perfdhcp DORA exchanges/s
# at <= 2.5 % drops against one instance on the write-ahead log, one and
# two instances on a one-member etcd and two on a three-member etcd, all on
# this machine, in one run; then the takeover time after kill -9, five
# times. Everything runs in network namespaces that testdata/lab/cluster.sh
# makes and removes (root).
#
#   bench/cluster/run.sh
#   LADDER="500 1000" STEP_SECONDS=10 CLIENTS=60000 MAX_DROP=2.5 SETUPS="wal etcd1" bench/cluster/run.sh
source "$(dirname "$0")/../../testdata/lab/cluster.sh"
LOG_LEVEL=${LOG_LEVEL:-warn} # as bench/dhcp: no log line per exchange

bench() {
	command -v perfdhcp >/dev/null || die "perfdhcp missing (apt-get install kea-admin)"
	local ladder=${LADDER:-"500 1000 2000 3000 4000 6000 8000"} secs=${STEP_SECONDS:-10} max=${MAX_DROP:-2.5}
	up
	node a 10.97.0.1
	node b 10.97.0.2
	node p 10.97.0.4
	# The setups take turns at each rate, so that the load other work puts
	# on the machine meanwhile falls on all of them alike; a setup leaves
	# the ladder at its first step over MAX_DROP.
	local setup rate got drop n
	local -A best=() out=()
	local setups=${SETUPS:-wal etcd1-single etcd1 etcd3}
	echo "| store | instances | offered/s | ACKs/s | drops % |"
	echo "|---|---:|---:|---:|---:|"
	for rate in $ladder; do
		for setup in $setups; do
			[ "${out[$setup]:-}" = 1 ] && continue
			n=2
			case $setup in
			wal) n=1; rm -rf "$WORK/a"; inventory a 10.97.0.1 ""; start a ;;
			etcd1-single) n=1; etcd_up 1; rm -rf "$WORK/a"; inventory a 10.97.0.1 "$ETCD_URL"; start a ;;
			etcd*) etcd_up "${setup#etcd}"; rm -rf "$WORK/a" "$WORK/b"
				inventory a 10.97.0.1 "$ETCD_URL"; inventory b 10.97.0.2 "$ETCD_URL"; start a; start b ;;
			esac
			read -r got drop < <(perf p "$rate" "$secs")
			stop a; stop b; etcd_down
			echo "| $setup | $n | $rate | $got | $drop |"
			if awk -v d="$drop" -v m="$max" 'BEGIN{exit !(d <= m)}'; then best[$setup]=$got; else out[$setup]=1; fi
		done
	done 2> >(grep -v '^\[cluster\] etcd:' >&2)
	echo
	echo "| store | highest ACKs/s with ≤ ${max} % drops |"
	echo "|---|---:|"
	for setup in $setups; do echo "| $setup | ${best[$setup]:-0} |"; done
	# Takeover after kill -9, five times.
	local i killed_at took
	for i in 1 2 3 4 5; do
		etcd_up 1
		rm -rf "$WORK/a" "$WORK/b"
		inventory a 10.97.0.1 "$ETCD_URL"; inventory b 10.97.0.2 "$ETCD_URL"
		start a; start b
		sleep 1
		killed_at=$(date +%s.%N)
		stop a KILL
		took=timeout
		for t in $(seq 1 400); do
			if [ "$(buckets b)" = 256 ]; then took=$(awk -v a="$(date +%s.%N)" -v b="$killed_at" 'BEGIN{printf "%.2f", a-b}'); break; fi
			sleep 0.02
		done
		echo "takeover $i: ${took}s (cluster.takeover ${TAKEOVER}s)"
		if [ "$took" = timeout ]; then
			ip netns exec "$NS-b" curl -s "http://127.0.0.1:8080/api/v1/status" >&2
			tail -20 "$WORK/b/rackboot.log" >&2
		fi
		stop b; etcd_down
	done
	echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r); date: $(date -u +%F)"
	LAB_FAILED=0
}


bench
