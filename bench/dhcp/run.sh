#!/bin/bash
# DHCP throughput benchmark (bench/README.md, "DHCP"): perfdhcp in a
# namespace of its own, acting as a relay, against the benchmark's stateless
# responder (the limit of the measurement), rackboot (durable leases),
# dnsmasq (lease file on, --no-ping) and Kea (memfile, persisted), with the
# same pool, in one run. Root only; everything runs inside two namespaces
# joined by a veth pair, removed on exit.
#
#   bench/dhcp/run.sh [SERVERS...]      (default: responder rackboot kea dnsmasq)
#   STEP_SECONDS=10 LADDER="1000 2000" CLIENTS=60000 bench/dhcp/run.sh rackboot
#   bench/dhcp/run.sh rackboot-notimeline rackboot    (timeline off, then on)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STEP_SECONDS=${STEP_SECONDS:-10}
CLIENTS=${CLIENTS:-60000}
LADDER=${LADDER:-"250 500 1000 2000 4000 6000 8000 9000 10000 11000 12000 14000"}
MAX_DROP=${MAX_DROP:-2.5}
SERVERS=${*:-responder rackboot kea dnsmasq}
NS_S=rbbench-s-$$ NS_C=rbbench-c-$$
SRV=10.64.0.1 CLI=10.64.0.2
POOL_FIRST=10.65.0.1 POOL_LAST=10.66.255.254
WORK=$(mktemp -d /tmp/rbbench.XXXXXX)
PID=

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)"; exit 1; }
for t in perfdhcp ip go; do command -v $t >/dev/null || { echo "run.sh: $t missing (perfdhcp: apt-get install kea-admin)"; exit 1; }; done

stop_server() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; fi
}
cleanup() {
	stop_server
	ip netns del $NS_S 2>/dev/null || true
	ip netns del $NS_C 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add $NS_S
ip netns add $NS_C
# The pair is made inside the namespaces: no name ever appears among the
# host's interfaces, and two runs at once do not collide.
ip -n $NS_S link add rbb-s type veth peer name rbb-c netns $NS_C
ip -n $NS_S addr add $SRV/12 dev rbb-s
ip -n $NS_C addr add $CLI/12 dev rbb-c
for ns in $NS_S $NS_C; do ip -n $ns link set lo up; done
ip -n $NS_S link set rbb-s up
ip -n $NS_C link set rbb-c up

go build -o "$WORK/responder" ./bench/dhcp/responder
# rackboot as the tree builds it, unless RACKBOOT_BIN names a binary.
RACKBOOT=${RACKBOOT_BIN:-$WORK/rackboot}
[ -n "${RACKBOOT_BIN:-}" ] || go build -o "$RACKBOOT" ./cmd/rackboot

# start_server NAME DIR: starts one server in the server namespace, fresh.
start_server() {
	local name=$1 dir=$2
	mkdir -p "$dir"
	case $name in
	responder)
		ip netns exec $NS_S "$WORK/responder" -server-id $SRV >"$dir/log" 2>&1 &
		;;
	rackboot|rackboot-probe|rackboot-notimeline)
		local cd=false; [ $name = rackboot-probe ] && cd=true
		local tl=true; [ $name = rackboot-notimeline ] && tl=false
		cat >"$dir/rackboot.yaml" <<YAML
server:
  interface: rbb-s
  address: $SRV
  data_dir: $dir/data
  http_port: 18080
  tftp_port: 16969
dhcp:
  mode: full
  conflict_detection: $cd
  subnets:
    - cidr: 10.64.0.0/12
      range: $POOL_FIRST-$POOL_LAST
      lease_time: 1h
timeline:
  enabled: $tl
profiles:
  local: {local: true}
default_profile: local
YAML
		ip netns exec $NS_S "$RACKBOOT" serve --config "$dir/rackboot.yaml" --log-level warn >"$dir/log" 2>&1 &
		;;
	kea)
		cat >"$dir/kea.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": ["rbb-s"], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$dir/kea-leases4.csv", "lfc-interval": 0 },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.64.0.0/12", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$dir/kea.log" } ] } ]
} }
JSON
		KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir ip netns exec $NS_S kea-dhcp4 -c "$dir/kea.json" >"$dir/log" 2>&1 &
		;;
	dnsmasq)
		ip netns exec $NS_S dnsmasq -k --port=0 --interface=rbb-s --bind-interfaces \
			--dhcp-range=$POOL_FIRST,$POOL_LAST,255.240.0.0,1h --dhcp-leasefile="$dir/dnsmasq.leases" \
			--no-ping --dhcp-lease-max=200000 --no-resolv --pid-file="$dir/pid" --log-facility="$dir/dnsmasq.log" >"$dir/log" 2>&1 &
		;;
	esac
	PID=$!
	sleep 1.5
	kill -0 "$PID" 2>/dev/null || { echo "run.sh: $name did not start:"; cat "$dir"/log "$dir"/*.log 2>/dev/null; exit 1; }
}

# cpu_ticks: user+system clock ticks of the server process tree's leader
# (ip netns exec replaces itself with the server).
cpu_ticks() { awk '{print $14+$15}' /proc/"$PID"/stat; }

# step NAME RATE: one perfdhcp run; prints "rate acks_per_s drop_pct cpu_us_per_exchange".
step() {
	local name=$1 rate=$2 dir=$WORK/$1-$2
	start_server "$name" "$dir"
	local t0 c0; c0=$(cpu_ticks)
	ip netns exec $NS_C timeout $((STEP_SECONDS + 20)) perfdhcp -4 -l rbb-c -r "$rate" -R "$CLIENTS" \
		-p "$STEP_SECONDS" $SRV >"$dir/perfdhcp.out" 2>&1 || true
	local c1; c1=$(cpu_ticks)
	stop_server
	awk -v rate="$rate" -v secs="$STEP_SECONDS" -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
		/Statistics for: DISCOVER-OFFER/ {sec="do"} /Statistics for: REQUEST-ACK/ {sec="ra"}
		/^sent packets:/ {sent[sec]=$3} /^received packets:/ {recv[sec]=$3}
		END {
			d = sent["do"] ? 100 * (1 - recv["ra"] / sent["do"]) : 100
			cpu = recv["ra"] ? ticks / hz * 1e6 / recv["ra"] : 0
			printf "%d %.0f %.2f %.1f\n", rate, recv["ra"] / secs, d, cpu
		}' "$dir/perfdhcp.out"
}

# restart_memory: 100,000 leases in the store (genleases), then rackboot's
# start-up time until it serves with them and its resident memory.
restart_memory() {
	local dir=$WORK/restart
	go build -o "$WORK/genleases" ./bench/dhcp/genleases
	"$WORK/genleases" -dir "$dir/data" -n 100000 -first $POOL_FIRST | sed 's/^/store: /'
	start_server rackboot "$dir" >/dev/null 2>&1 || true
	stop_server
	local t0 t1 rss
	t0=$(date +%s%N)
	ip netns exec $NS_S "$RACKBOOT" serve --config "$dir/rackboot.yaml" --log-level info >"$dir/log2" 2>&1 &
	PID=$!
	until grep -q "dhcp: leases restored" "$dir/log2"; do sleep 0.005; done
	t1=$(date +%s%N)
	sleep 1
	rss=$(awk '/VmRSS/{print $2}' /proc/"$PID"/status)
	grep -o 'leases=[0-9]*' "$dir/log2" | head -1 | sed 's/^/restored /'
	echo "restart with 100000 leases: $(( (t1 - t0) / 1000000 )) ms to serving; resident memory $((rss / 1024)) MiB"
	stop_server
}

RESULTS=$WORK/results
: >"$RESULTS"
if [ "${RESTART:-1}" = 1 ]; then restart_memory; fi
for name in $SERVERS; do
	best=0
	echo "== $name"
	for rate in $LADDER; do
		read -r r got drop cpu < <(step "$name" "$rate")
		echo "$name $r $got $drop $cpu" | tee -a "$RESULTS"
		if awk -v d="$drop" -v m="$MAX_DROP" 'BEGIN{exit !(d <= m)}'; then best=$got; else break; fi
	done
	echo "$name best $best" | tee -a "$RESULTS"
done

echo
echo "| server | offered/s | ACKs/s | drops % | server CPU µs/exchange |"
echo "|---|---:|---:|---:|---:|"
awk '$2 != "best" {printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}' "$RESULTS"
echo
echo "| server | highest ACKs/s with ≤${MAX_DROP}% drops |"
echo "|---|---:|"
awk '$2 == "best" {printf "| %s | %s |\n", $1, $3}' "$RESULTS"
echo
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r); date: $(date -u +%F)"
