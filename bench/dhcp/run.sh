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
#   PIN=1 INTERLEAVE=1 DIAG=1 bench/dhcp/run.sh responder rackboot kea
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STEP_SECONDS=${STEP_SECONDS:-10}
CLIENTS=${CLIENTS:-60000}
LADDER=${LADDER:-"1000 2000 4000 6000 8000 10000 11000 12000 13000 14000 15000 16000 18000 20000"}
MAX_DROP=${MAX_DROP:-2.5}
SERVERS=${*:-responder rackboot kea dnsmasq}
NS_S=rbbench-s-$$ NS_C=rbbench-c-$$
SRV=10.64.0.1 CLI=10.64.0.2
POOL_FIRST=10.65.0.1 POOL_LAST=10.66.255.254
WORK=$(mktemp -d /tmp/rbbench.XXXXXX)
PID=
# PIN=1 gives the server the first core and perfdhcp the second (taskset),
# as when the clients are other machines: unpinned, perfdhcp and the
# server share both cores and a server that spends more CPU starves the
# generator (bench/README.md, "where the drops go").
SRV_PIN=() GEN_PIN=()
if [ "${PIN:-0}" = 1 ]; then SRV_PIN=(taskset -c 0) GEN_PIN=(taskset -c 1); fi
# GEN_RCVBUF=1 (the default) gives perfdhcp's sockets a 4 MiB receive
# buffer (rcvbuf.c, preloaded): perfdhcp asks for none and gets
# net.core.rmem_default, a host-wide setting the bench leaves alone, which
# a burst of replies overflows, and the replies lost there would count as
# the server's drops (bench/README.md). GEN_RCVBUF=0 measures without it.
GEN_RCVBUF=${GEN_RCVBUF:-1}
GEN_ENV=()

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
if [ "$GEN_RCVBUF" = 1 ]; then
	command -v cc >/dev/null || { echo "run.sh: GEN_RCVBUF=1 needs a C compiler (apt-get install gcc), or set GEN_RCVBUF=0"; exit 1; }
	cc -O2 -shared -fPIC -o "$WORK/rcvbuf.so" bench/dhcp/rcvbuf.c -ldl
	GEN_ENV=(env LD_PRELOAD="$WORK/rcvbuf.so")
fi
# rackboot as the tree builds it, unless RACKBOOT_BIN names a binary.
RACKBOOT=${RACKBOOT_BIN:-$WORK/rackboot}
[ -n "${RACKBOOT_BIN:-}" ] || go build -o "$RACKBOOT" ./cmd/rackboot

# start_server NAME DIR: starts one server in the server namespace, fresh.
start_server() {
	local name=$1 dir=$2
	mkdir -p "$dir"
	case $name in
	responder)
		ip netns exec $NS_S "${SRV_PIN[@]}" "$WORK/responder" -server-id $SRV >"$dir/log" 2>&1 &
		;;
	rackboot|rackboot-probe|rackboot-notimeline|rackboot-before)
		# rackboot-before: the binary BEFORE_BIN names (an older build to
		# compare with, in the same run), without the timeline key.
		local cd=false; [ $name = rackboot-probe ] && cd=true
		local tl=${TIMELINE:-true}; [ $name = rackboot-notimeline ] && tl=false
		local bin=$RACKBOOT; [ $name = rackboot-before ] && bin=${BEFORE_BIN:?BEFORE_BIN names the older build} tl=omit
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
$( [ "$tl" = omit ] || printf 'timeline:\n  enabled: %s\n' "$tl")
profiles:
  local: {local: true}
default_profile: local
YAML
		ip netns exec $NS_S "${SRV_PIN[@]}" "$bin" serve --config "$dir/rackboot.yaml" --log-level warn >"$dir/log" 2>&1 &
		;;
	kea|kea-mt)
		# kea: raw socket, single-threaded (Kea 2.2's defaults), the faster
		# here; kea-mt: UDP socket and two threads.
		local sock=raw mt='"enable-multi-threading": false'
		[ $name = kea-mt ] && sock=udp mt='"enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64'
		cat >"$dir/kea.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": ["rbb-s"], "dhcp-socket-type": "$sock" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$dir/kea-leases4.csv", "lfc-interval": 0 },
  "multi-threading": { $mt },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.64.0.0/12", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$dir/kea.log" } ] } ]
} }
JSON
		KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir ip netns exec $NS_S "${SRV_PIN[@]}" kea-dhcp4 -c "$dir/kea.json" >"$dir/log" 2>&1 &
		;;
	dnsmasq)
		ip netns exec $NS_S "${SRV_PIN[@]}" dnsmasq -k --port=0 --interface=rbb-s --bind-interfaces \
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

# switches: context switches, voluntary and not, of all the server's
# threads so far (DIAG=1 prints them per exchange).
switches() { cat /proc/"$PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }

# step NAME RATE: one perfdhcp run; prints "rate acks_per_s drop_pct
# cpu_us_per_exchange offer_delay_ms ack_delay_ms" (perfdhcp's average
# DISCOVER-OFFER and REQUEST-ACK delays). PXE=1 adds a PXE ROM's options
# 60 and 93; PROFILE=1 records a CPU profile of the server with perf.
step() {
	local name=$1 rate=$2 dir=$WORK/$1-$2
	start_server "$name" "$dir"
	local t0 c0 s0; c0=$(cpu_ticks) s0=$(switches)
	local pxe=()
	[ "${PXE:-0}" = 1 ] && pxe=(-o 60,505845436c69656e743a417263683a30303030303a554e44493a303032303031 -o 93,0000)
	local perf=
	if [ "${PROFILE:-0}" = 1 ]; then
		perf record -F 999 -g -p "$PID" -o "$dir/perf.data" >/dev/null 2>&1 & perf=$!
	fi
	ip netns exec $NS_C "${GEN_PIN[@]}" "${GEN_ENV[@]}" timeout $((STEP_SECONDS + 20)) perfdhcp -4 -l rbb-c -r "$rate" -R "$CLIENTS" "${pxe[@]}" \
		-p "$STEP_SECONDS" $SRV >"$dir/perfdhcp.out" 2>&1 || true
	if [ -n "$perf" ]; then
		kill -INT $perf; wait $perf 2>/dev/null || true
		[ -z "${PROFILE_KEEP:-}" ] || cp "$dir/perf.data" "$PROFILE_KEEP/perf-$name-$rate.data"
		{
			perf report -i "$dir/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8
			echo
			perf report -i "$dir/perf.data" ${PROFILE_MODE:---children} --sort sym --percent-limit ${PROFILE_LIMIT:-2} --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -${PROFILE_LINES:-60}
		} >"$WORK/profile-$name-$rate.txt" || true
		sed 's/^/profile: /' "$WORK/profile-$name-$rate.txt" >&2
	fi
	local c1 s1; c1=$(cpu_ticks) s1=$(switches)
	# Where the lost exchanges went (DIAG=1, to stderr): the server's own
	# counters (dropped: shed by its full queue), the client namespace's
	# UDP receive-buffer errors (perfdhcp's socket overflowed) and the
	# server namespace's (rackboot reads through its raw socket; its UDP
	# socket drops every request by filter, counted as InErrors).
	if [ "${DIAG:-0}" = 1 ]; then
		{
			printf 'diag %s %s: ' "$name" "$rate"
			case $name in rackboot*) ip netns exec $NS_S curl -s "http://$SRV:18080/metrics" |
				awk '/^rackboot_dhcp_(received|dropped|replied|send_error)_total /{sub("rackboot_dhcp_","",$1); sub("_total","",$1); printf "%s=%s ", $1, $2}' ;; esac
			ip netns exec $NS_C awk '/^Udp:/ {if (!h) {for (i=2;i<=NF;i++) n[$i]=i; h=1} else printf "client_rcvbuf_errors=%s ", $n["RcvbufErrors"]}' /proc/net/snmp
			ip netns exec $NS_S awk '/^Udp:/ {if (!h) {for (i=2;i<=NF;i++) n[$i]=i; h=1} else printf "server_udp_rcvbuf_errors=%s ", $n["RcvbufErrors"]}' /proc/net/snmp
			printf 'server_context_switches=%s ' $((s1 - s0))
			echo
		} >&2
	fi
	stop_server
	awk -v rate="$rate" -v secs="$STEP_SECONDS" -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
		/Statistics for: DISCOVER-OFFER/ {sec="do"} /Statistics for: REQUEST-ACK/ {sec="ra"}
		/^sent packets:/ {sent[sec]=$3} /^received packets:/ {recv[sec]=$3}
		/^avg delay:/ {delay[sec]=$3}
		END {
			d = sent["do"] ? 100 * (1 - recv["ra"] / sent["do"]) : 100
			cpu = recv["ra"] ? ticks / hz * 1e6 / recv["ra"] : 0
			printf "%d %.0f %.2f %.1f %.3f %.3f\n", rate, recv["ra"] / secs, d, cpu, delay["do"], delay["ra"]
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

# flood FIRST LAST: rackboot with the pool FIRST-LAST (conflict detection
# on) takes 100,000 DISCOVERs from distinct random MACs that never REQUEST
# (perfdhcp -i, 5,000/s for 20 s); prints its peak resident memory, its
# counters, and whether clients asking afterwards (perfdhcp, full DORA, 20
# clients) get addresses.
flood() {
	local dir=$WORK/flood-$1 saved_first=$POOL_FIRST saved_last=$POOL_LAST
	POOL_FIRST=$1 POOL_LAST=$2
	start_server rackboot-probe "$dir"
	POOL_FIRST=$saved_first POOL_LAST=$saved_last
	local rss0 peak=0 r
	rss0=$(awk '/VmRSS/{print $2}' /proc/"$PID"/status)
	ip netns exec $NS_C timeout 40 perfdhcp -4 -l rbb-c -i -r 5000 -R 16000000 -p 20 $SRV >"$dir/flood.out" 2>&1 &
	local fl=$!
	while kill -0 $fl 2>/dev/null; do
		r=$(awk '/VmRSS/{print $2}' /proc/"$PID"/status); [ "$r" -gt "$peak" ] && peak=$r
		sleep 0.2
	done
	wait $fl || true
	awk '/Statistics for: DISCOVER-OFFER/ {s=1} s && /^sent packets:/ {sent=$3} s && /^received packets:/ {print "flood: DISCOVERs sent " sent ", OFFERs received " $3; exit}' "$dir/flood.out"
	echo "flood pool $1-$2: resident memory $((rss0 / 1024)) MiB before, peak $((peak / 1024)) MiB during, $(( $(awk '/VmRSS/{print $2}' /proc/"$PID"/status) / 1024 )) MiB after"
	ip netns exec $NS_S curl -s "http://$SRV:18080/metrics" | grep -E '^rackboot_dhcp_(offers|acks|pool_exhausted|dropped|probe_busy|offers_ready|offers_probed)_total' | tr '\n' ' '; echo
	ip netns exec $NS_C timeout 20 perfdhcp -4 -l rbb-c -r 20 -R 20 -n 20 -p 5 $SRV >"$dir/after.out" 2>&1 || true
	awk '/Statistics for: REQUEST-ACK/ {s=1} s && /^received packets:/ {print "after the flood: " $3 " of 20 new clients got an ACK"; exit}' "$dir/after.out"
	stop_server
}

RESULTS=$WORK/results
: >"$RESULTS"
if [ "${RESTART:-1}" = 1 ]; then restart_memory; fi
if [ "${FLOOD:-0}" = 1 ]; then
	flood 10.65.0.1 10.65.3.254
	flood $POOL_FIRST $POOL_LAST
	exit 0
fi
if [ "${INTERLEAVE:-0}" = 1 ]; then
	# Every server at each rate before the next rate, so that load from
	# other work on a shared machine falls on all of them alike; the
	# whole ladder runs, and "best" is the highest step within MAX_DROP.
	for rate in $LADDER; do
		for name in $SERVERS; do
			read -r r got drop cpu odelay adelay < <(step "$name" "$rate")
			echo "$name $r $got $drop $cpu $odelay $adelay ($(cut -d' ' -f1 /proc/loadavg))" | tee -a "$RESULTS"
		done
	done
	for name in $SERVERS; do
		awk -v n="$name" -v m="$MAX_DROP" '$1 == n && $4 <= m && $3 > b {b = $3} END {print n, "best", b + 0}' "$RESULTS"
	done | tee -a "$RESULTS"
else
for name in $SERVERS; do
	best=0
	echo "== $name"
	for rate in $LADDER; do
		read -r r got drop cpu odelay adelay < <(step "$name" "$rate")
		echo "$name $r $got $drop $cpu $odelay $adelay" | tee -a "$RESULTS"
		if awk -v d="$drop" -v m="$MAX_DROP" 'BEGIN{exit !(d <= m)}'; then best=$got; else break; fi
	done
	echo "$name best $best" | tee -a "$RESULTS"
done
fi

echo
echo "| server | offered/s | ACKs/s | drops % | server CPU µs/exchange | avg OFFER delay ms | avg ACK delay ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk '$2 != "best" {printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$RESULTS"
echo
echo "| server | highest ACKs/s with ≤${MAX_DROP}% drops |"
echo "|---|---:|"
awk '$2 == "best" {printf "| %s | %s |\n", $1, $3}' "$RESULTS"
echo
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r); date: $(date -u +%F)"
