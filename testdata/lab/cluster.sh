#!/bin/bash
# cluster.sh runs several rackboot instances on one segment sharing an etcd
# store (docs/cluster.md), entirely inside network namespaces it creates and
# removes: a bridge namespace (br0 10.97.0.254/16, etcd members on its
# address, a tap device for a VM) and one namespace per instance, per test
# client and per load generator, each joined to br0 by a veth pair.
#
# Usage (as root):
#   cluster.sh e2e      two instances (a, b) and a one-member etcd; perfdhcp
#                       DORA against both (broadcast through a relay) and the
#                       e2e test client (RB_DHCP_HELPER, the e2e test binary)
#                       for checked exchanges; kill -9 of a mid-run; then:
#                       no address ACKed to two MACs, every ACKed lease bound
#                       in etcd, b owns every bucket within cluster.takeover,
#                       then etcd frozen (SIGSTOP): b renews held leases,
#                       gives no new client an address and reports degraded;
#                       SIGCONT: b resumes by itself; and a BIOS VM (whose
#                       bucket was a's) boots from b.
#
# bench/cluster/run.sh sources this file for the benchmarks.
#
# Environment: RACKBOOT_BIN, RACKBOOT_PAYLOAD_DIR, RB_DHCP_HELPER (e2e),
# LAB_KEEP=1.
set -uo pipefail

# The checks read rackboot's text log lines (msg="…"); to a file it would
# otherwise log JSON (--log-format, docs/observe.md).
export RACKBOOT_LOG_FORMAT=text
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LAB_DIR/../.." && pwd)
RACKBOOT_BIN=${RACKBOOT_BIN:-$REPO_ROOT/bin/rackboot}
PAYLOAD_DIR=${RACKBOOT_PAYLOAD_DIR:-/var/cache/rackboot-lab}
MARKER=RACKBOOT-E2E-MARKER
VM_MAC=52:54:00:12:34:56 # RFC 3074 bucket 156: member a's of {a, b}
BR_IP=10.97.0.254
TAKEOVER=5
CHECKED=1500 # test clients of the e2e run

ID=$$
NS=rbk-$ID
WORK=""
PIDS=()
NSES=()
LAB_FAILED=1

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

# up makes the bridge namespace.
up() {
	[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
	[ -x "$RACKBOOT_BIN" ] || die "$RACKBOOT_BIN is not built (make build)"
	command -v etcd >/dev/null || die "etcd missing (apt-get install etcd-server)"
	WORK=$(mktemp -d /tmp/rackboot-cluster.XXXXXX)
	chmod 0755 "$WORK"
	trap down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	ip netns add "$NS" || die "ip netns add $NS"
	NSES+=("$NS")
	in_ns ip link set lo up
	in_ns ip link add br0 type bridge forward_delay 0
	in_ns ip addr add "$BR_IP/16" dev br0
	in_ns ip link set br0 up
	log "namespace $NS: br0 $BR_IP/16; work folder $WORK"
}

# node NAME ADDR makes namespace $NS-NAME with rb0 = ADDR/16 on the bridge.
node() {
	local name=$1 addr=$2 ns=$NS-$1
	ip netns add "$ns" || die "ip netns add $ns"
	NSES+=("$ns")
	in_ns ip link add "v$name" type veth peer name rb0 netns "$ns"
	in_ns ip link set "v$name" master br0
	in_ns ip link set "v$name" up
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip addr add "$addr/16" dev rb0
	ip netns exec "$ns" ip link set rb0 up
}

# down ends every process this run started (by pid, then what is left in
# its own namespaces) and removes the namespaces.
down() {
	local rc=$? pid ns
	set +e
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.3
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || log "could not delete $ns"; done
	if [ -n "$WORK" ]; then
		if [ "$LAB_FAILED" = 0 ] && [ "${LAB_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else log "kept work folder $WORK"; fi
	fi
	exit "$rc"
}

# etcd_up N starts an N-member etcd on the bridge address (ports 2379+i,
# 2479+i), data in WORK; ETCD_URL is the store URL with a fresh prefix.
ETCD_PIDS=()
etcd_up() {
	local n=$1 i initial="" hosts=""
	ETCD_PIDS=()
	for ((i = 0; i < n; i++)); do
		initial+="${initial:+,}m$i=http://$BR_IP:$((2479 + i))"
		hosts+="${hosts:+,}$BR_IP:$((2379 + i))"
	done
	for ((i = 0; i < n; i++)); do
		rm -rf "$WORK/etcd$i"
		# ip netns exec execs etcd: $! is etcd itself (a function would
		# leave a subshell between, and signals would miss etcd).
		ip netns exec "$NS" etcd --name "m$i" --data-dir "$WORK/etcd$i" \
			--listen-client-urls "http://$BR_IP:$((2379 + i))" --advertise-client-urls "http://$BR_IP:$((2379 + i))" \
			--listen-peer-urls "http://$BR_IP:$((2479 + i))" --initial-advertise-peer-urls "http://$BR_IP:$((2479 + i))" \
			--initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token "rbk-$ID-$n" \
			--heartbeat-interval 50 --election-timeout 500 --log-outputs "$WORK/etcd$i.log" --logger zap &
		ETCD_PIDS+=("$!")
		PIDS+=("$!")
	done
	for ((i = 0; i < n; i++)); do
		local t
		for t in $(seq 1 100); do
			in_ns curl -sf "http://$BR_IP:$((2379 + i))/health" 2>/dev/null | grep -q '"health":"true"' && break
			sleep 0.1
		done
	done
	ETCD_URL="etcd://$hosts/run$ID-$RANDOM"
	log "etcd: $n member(s), store $ETCD_URL"
}

etcd_down() {
	local p
	for p in "${ETCD_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ETCD_PIDS=()
}

# inventory NAME ADDR STORE (STORE empty: the write-ahead log).
inventory() {
	local name=$1 addr=$2 store=$3
	mkdir -p "$WORK/$name"
	cat >"$WORK/$name/rackboot.yaml" <<EOF
server:
  interface: rb0
  address: $addr
  assets: $PAYLOAD_DIR
  data_dir: $WORK/$name/data
$([ -n "$store" ] && echo "  store: $store")
$([ -n "$store" ] && printf 'cluster:\n  member: %s\n  takeover: %ss\n' "$name" "$TAKEOVER")
dhcp:
  mode: full
  conflict_detection: false
  subnets:
    - cidr: 10.97.0.0/16
      range: 10.97.1.1-10.97.250.254
      router: $BR_IP
      lease_time: 1h
profiles:
  demo:
    kernel: vmlinuz
    initrd: [initrd.gz]
    cmdline: "console=ttyS0 panic=-1 rackboot.e2e=cluster"
machines:
  - mac: "$VM_MAC"
    hostname: node1
    profile: demo
default_profile: demo
EOF
}

# start NAME: runs instance NAME in its namespace; pid in PID_<NAME>.
start() {
	local name=$1 ns=$NS-$1
	ip netns exec "$ns" "$RACKBOOT_BIN" serve --config "$WORK/$name/rackboot.yaml" --log-level "${LOG_LEVEL:-info}" \
		</dev/null >>"$WORK/$name/rackboot.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	eval "PID_$name=$pid"
	local t
	for t in $(seq 1 100); do
		ip netns exec "$ns" curl -sf "http://127.0.0.1:8080/api/v1/status" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$name/rackboot.log" >&2; die "instance $name exited"; }
		sleep 0.1
	done
	tail -20 "$WORK/$name/rackboot.log" >&2
	die "instance $name did not start"
}

stop() { # stop NAME [SIGNAL]
	local pid
	eval "pid=\${PID_$1:-}"
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "PID_$1="
}

# buckets NAME: the buckets instance NAME answers now (its status page).
buckets() {
	ip netns exec "$NS-$1" curl -sf "http://127.0.0.1:8080/api/v1/status" | sed -n 's/.*"buckets": *\([0-9]*\).*/\1/p'
}

# perf NAME RATE SECONDS: perfdhcp from namespace $NS-NAME to every
# server (no server argument: perfdhcp broadcasts);
# prints "acks_per_s drop_pct".
perf() {
	local name=$1 rate=$2 secs=$3 out=$WORK/perf-$1-$2-$RANDOM.out
	ip netns exec "$NS-$name" timeout $((secs + 20)) perfdhcp -4 -l rb0 -r "$rate" -R "${CLIENTS:-60000}" \
		-p "$secs" >"$out" 2>&1
	awk -v secs="$secs" '
		/Statistics for: DISCOVER-OFFER/ {sec="do"} /Statistics for: REQUEST-ACK/ {sec="ra"}
		/^sent packets:/ {sent[sec]=$3} /^received packets:/ {recv[sec]=$3}
		END { d = sent["do"] ? 100 * (1 - recv["ra"] / sent["do"]) : 100; printf "%.0f %.2f\n", recv["ra"] / secs, d }' "$out"
}

# leases_json: every lease in the current etcd store, as JSON lines.
leases_json() { in_ns "$RACKBOOT_BIN" leases --store "$ETCD_URL" --json; }

cmd_e2e() {
	[ -n "${RB_DHCP_HELPER:-}" ] || die "RB_DHCP_HELPER must name the e2e test binary (go test ./e2e -run TestCluster does)"
	command -v perfdhcp >/dev/null || die "perfdhcp missing (apt-get install kea-admin)"
	[ -s "$PAYLOAD_DIR/vmlinuz" ] || "$LAB_DIR/payload.sh" "$PAYLOAD_DIR" || die "payload.sh failed"
	up
	node a 10.97.0.1
	node b 10.97.0.2
	node c 10.97.0.3 # the checked test client (a relay)
	node p 10.97.0.4 # perfdhcp (a relay too)
	in_ns ip tuntap add tap0 mode tap
	in_ns ip link set tap0 master br0
	in_ns ip link set tap0 up
	etcd_up 1
	inventory a 10.97.0.1 "$ETCD_URL"
	inventory b 10.97.0.2 "$ETCD_URL"
	start a
	start b
	local ba bb
	ba=$(buckets a) bb=$(buckets b)
	log "buckets: a $ba, b $bb"
	[ "$((ba + bb))" = 256 ] && [ "$ba" -gt 0 ] && [ "$bb" -gt 0 ] || die "buckets not split: a $ba, b $bb"

	# Load from perfdhcp and checked exchanges from the test client; a is
	# killed (SIGKILL) once the test client has 200 ACKs.
	perf p 300 10 >"$WORK/perf.txt" &
	local perf_pid=$!
	ip netns exec "$NS-c" "$RB_DHCP_HELPER" -dhcp-helper=dora -dhcp-helper-n=$CHECKED -dhcp-helper-for=40s \
		-dhcp-helper-server=10.97.255.255 -dhcp-helper-relay=10.97.0.3 -dhcp-helper-dev=rb0 >"$WORK/acks1.txt" 2>"$WORK/helper1.err" &
	local helper_pid=$!
	local t
	for t in $(seq 1 300); do
		[ "$(grep -c '^ACK ' "$WORK/acks1.txt")" -ge 200 ] && break
		sleep 0.02
	done
	local killed_at
	killed_at=$(date +%s.%N)
	stop a KILL
	log "kill -9 a at $(date -u +%T.%N | cut -c1-12)"
	local took=""
	for t in $(seq 1 200); do
		if [ "$(buckets b)" = 256 ]; then
			took=$(awk -v a="$(date +%s.%N)" -v b="$killed_at" 'BEGIN{printf "%.2f", a-b}')
			break
		fi
		sleep 0.05
	done
	[ -n "$took" ] || die "b never took over a's buckets"
	log "takeover: b owns all 256 buckets ${took}s after kill -9 (cluster.takeover ${TAKEOVER}s)"
	awk -v t="$took" -v m="$TAKEOVER" 'BEGIN{exit !(t < m)}' || die "takeover took ${took}s, over ${TAKEOVER}s"
	wait "$helper_pid"
	wait "$perf_pid"
	log "perfdhcp during the kill: $(cat "$WORK/perf.txt") (ACKs/s, drop %)"
	# A second pass after the takeover: every test client again, b alone.
	ip netns exec "$NS-c" "$RB_DHCP_HELPER" -dhcp-helper=dora -dhcp-helper-n=$CHECKED -dhcp-helper-for=40s \
		-dhcp-helper-server=10.97.255.255 -dhcp-helper-relay=10.97.0.3 -dhcp-helper-dev=rb0 >"$WORK/acks2.txt" 2>"$WORK/helper2.err"
	check_acks || exit 1
	partition || exit 1

	# A VM whose bucket was a's boots while a is dead.
	boot_vm || exit 1
	LAB_FAILED=0
	log "PASS"
}

# check_acks: no address ACKed to two MACs (among the test clients, in the
# store), every ACKed lease of the last pass bound in etcd to its MAC.
check_acks() {
	local n1 n2
	n1=$(grep -c '^ACK ' "$WORK/acks1.txt") n2=$(grep -c '^ACK ' "$WORK/acks2.txt")
	log "test client ACKs: $n1 of $CHECKED during the kill, $n2 of $CHECKED after the takeover"
	if grep -q '^ERROR' "$WORK/acks1.txt" "$WORK/acks2.txt"; then grep '^ERROR' "$WORK"/acks*.txt >&2; return 1; fi
	[ "$n2" = "$CHECKED" ] || { log "FAIL: after the takeover only $n2 of $CHECKED clients got an ACK"; return 1; }
	[ "$n1" -ge 200 ] && [ "$n1" -lt "$CHECKED" ] || { log "FAIL: $n1 ACKs during the first pass: the kill did not land mid-run"; return 1; }
	# The same client must keep its address across the two passes (it is
	# still bound), and no two clients may share one.
	local dup
	dup=$(cat "$WORK/acks1.txt" "$WORK/acks2.txt" | awk '$1=="ACK"{ if (($3 in by) && by[$3] != $2) print $3, by[$3], $2; by[$3]=$2 }')
	[ -z "$dup" ] || { log "FAIL: address ACKed to two MACs: $dup"; return 1; }
	local moved
	moved=$(cat "$WORK/acks1.txt" "$WORK/acks2.txt" | awk '$1=="ACK"{ if (($2 in ip) && ip[$2] != $3) print $2, ip[$2], $3; ip[$2]=$3 }')
	[ -z "$moved" ] || { log "FAIL: a bound client got a different address from the survivor: $moved"; return 1; }
	leases_json >"$WORK/leases.json" || { log "FAIL: rackboot leases --store"; return 1; }
	local missing
	missing=$(awk 'NR==FNR { if ($1=="ACK") want[$2]=$3; next }
		{ if (match($0, /"mac":"[^"]*"/)) m=substr($0, RSTART+7, RLENGTH-8); if (match($0, /"ip":"[^"]*"/)) i=substr($0, RSTART+6, RLENGTH-7)
		  if ($0 ~ /"state":"bound"/) got[m]=i }
		END { for (m in want) if (got[m] != want[m]) print m, want[m], got[m] }' "$WORK/acks2.txt" "$WORK/leases.json")
	[ -z "$missing" ] || { log "FAIL: ACKed leases not bound in etcd: $missing"; return 1; }
	local storedup
	storedup=$(awk '/"state":"bound"/ { match($0, /"mac":"[^"]*"/); m=substr($0, RSTART+7, RLENGTH-8); n[m]++ } END { for (m in n) if (n[m] > 1 && m != "") print m, n[m] }' "$WORK/leases.json")
	log "etcd: $(grep -c '"state":"bound"' "$WORK/leases.json") bound leases (perfdhcp's and the test client's); clients bound twice: ${storedup:-none}"
}

# helper MODE N FIRST OUT: the e2e test client in namespace $NS-c.
helper() {
	ip netns exec "$NS-c" "$RB_DHCP_HELPER" -dhcp-helper="$1" -dhcp-helper-n="$2" -dhcp-helper-first="$3" -dhcp-helper-for=30s \
		-dhcp-helper-server=10.97.255.255 -dhcp-helper-relay=10.97.0.3 -dhcp-helper-dev=rb0 >"$4" 2>"$4.err"
}

degraded() { # degraded NAME: true or false, from the status page
	ip netns exec "$NS-$1" curl -sf "http://127.0.0.1:8080/api/v1/status" | tr -d ' \n' | grep -o '"degraded":[a-z]*' | cut -d: -f2
}

# partition: etcd frozen (SIGSTOP): b renews the leases it holds
# (INIT-REBOOT of 50 bound clients: ACKed, same address) and gives no new
# client an address, and says it is degraded; etcd back (SIGCONT): b
# resumes by itself and the new clients get addresses.
partition() {
	awk '$1=="ACK"{print $2, $3}' "$WORK/acks2.txt" | head -50 >"$WORK/held.txt"
	kill -STOP "${ETCD_PIDS[0]}"
	log "etcd frozen (SIGSTOP)"
	helper reboot 1500 0 "$WORK/renew.txt" <"$WORK/held.txt"
	helper dora 20 5000 "$WORK/new-down.txt"
	local st renewed new_down
	st=$(degraded b)
	renewed=$(awk 'NR==FNR{want[$1]=$2; next} $1=="ACK" && want[$2]==$3' "$WORK/held.txt" "$WORK/renew.txt" | wc -l)
	new_down=$(grep -c '^ACK ' "$WORK/new-down.txt")
	log "while etcd is frozen: $renewed of 50 renewals ACKed with their address, $new_down of 20 new clients ACKed, status degraded=$st"
	grep -q 'etcd unreachable, degraded' "$WORK/b/rackboot.log" || { log "FAIL: b did not log the degraded mode"; return 1; }
	[ "$renewed" = 50 ] && [ "$new_down" = 0 ] && [ "$st" = true ] || { log "FAIL: degraded mode"; return 1; }
	kill -CONT "${ETCD_PIDS[0]}"
	local t
	for t in $(seq 1 100); do [ "$(degraded b)" = false ] && break; sleep 0.1; done
	[ "$(degraded b)" = false ] || { log "FAIL: b still degraded 10 s after etcd came back"; return 1; }
	helper dora 20 5000 "$WORK/new-up.txt"
	local new_up
	new_up=$(grep -c '^ACK ' "$WORK/new-up.txt")
	log "etcd back (SIGCONT): b resumed without a restart; $new_up of 20 new clients ACKed"
	[ "$new_up" = 20 ] || { log "FAIL: new clients after etcd came back"; return 1; }
}

boot_vm() {
	log "booting a BIOS VM ($VM_MAC, bucket of a) with a dead"
	local start
	start=$(date +%s)
	in_ns timeout --kill-after=5 240 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC" -boot n </dev/null >"$WORK/console.log" 2>"$WORK/qemu.err"
	local clean
	clean=$(tr -d '\r' <"$WORK/console.log")
	if ! grep -qx "$MARKER" <<<"$clean" || ! grep -E '^cmdline: ' <<<"$clean" | grep -qw 'rackboot.e2e=cluster'; then
		log "FAIL: the VM did not reach the payload; console:"
		tail -40 "$WORK/console.log" | tr -d '\r' >&2
		tail -30 "$WORK/b/rackboot.log" >&2
		return 1
	fi
	grep 'msg="dhcp ack"' "$WORK/b/rackboot.log" | grep "mac=\"$VM_MAC\"" | grep -q 'bootfile="http://10.97.0.2:8080/' ||
		{ log "FAIL: b's log shows no ACK to the VM with b's own address in the boot file"; return 1; }
	log "VM booted from b in $(($(date +%s) - start)) s: $(grep -E '^cmdline: ' <<<"$clean" | head -1)"
}

# Run as a command; bench/cluster/run.sh sources the file for its functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	e2e) cmd_e2e ;;
	*) die "usage: cluster.sh e2e (benchmarks: bench/cluster/run.sh)" ;;
	esac
fi
