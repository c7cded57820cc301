#!/bin/bash
# bench/tftp/run.sh compares rackboot's TFTP server with tftpd-hpa and
# dnsmasq, all in one run, with the same client (curl), inside a private
# network namespace that has only a loopback interface: nothing is sent on
# the machine's real interfaces. Run by hand, as root, after `make build`:
#
#   bench/tftp/run.sh            # prints a Markdown table for bench/README.md
#
# What it measures:
#   1. one 30 MB file at blksize 512, 1468 and 8192 (curl --tftp-blksize),
#      best of RUNS fetches per server and size;
#   2. 200 clients fetching undionly.kpxe at once (curl, blksize 1468):
#      wall time for all 200 and the number that failed;
#   3. rackboot with RFC 7440 windowsize 1, 8 and 32 (bench/tftp/tftpget,
#      as neither curl nor tftp-hpa asks for windowsize).
#
# tftpd-hpa is not installed: its Debian package is unpacked into a cache
# folder (apt-get download), so no system service is started. dnsmasq is
# Debian's dnsmasq-base (apt-get install dnsmasq-base).
#
# Environment: RACKBOOT_BIN (default bin/rackboot), RUNS (default 3),
# SIZES (default "512 1468 8192"), FILE_MB (default 30), ONLY_FILE=1 (just
# test 1: `FILE_MB=50 SIZES=1024 ONLY_FILE=1` is GRUB's case, lock-step
# blksize 1024 with tsize, as GRUB asks),
# CLIENTS (default 200), BENCH_CACHE (default /var/cache/rackboot-bench).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RACKBOOT_BIN=${RACKBOOT_BIN:-$REPO/bin/rackboot}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-200}
CACHE=${BENCH_CACHE:-/var/cache/rackboot-bench}
FILE_MB=${FILE_MB:-30}
RB_PORT=1069 HPA_PORT=2069 DNSMASQ_PORT=69

NS="" WORK="" PIDS=()
log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local rc=$? pid
	set +e
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.3
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}

in_ns() { ip netns exec "$NS" "$@"; }

# tftpd_hpa unpacks tftpd-hpa and libwrap0 into the cache, once.
tftpd_hpa() {
	if [ ! -x "$CACHE/root/usr/sbin/in.tftpd" ]; then
		mkdir -p "$CACHE/debs" "$CACHE/root"
		(cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root tftpd-hpa libwrap0 >&2)
		for d in "$CACHE"/debs/*.deb; do dpkg-deb -x "$d" "$CACHE/root"; done
	fi
	HPA=("env" "LD_LIBRARY_PATH=$CACHE/root/lib/x86_64-linux-gnu:$CACHE/root/usr/lib/x86_64-linux-gnu" "$CACHE/root/usr/sbin/in.tftpd")
}

setup() {
	[ "$(id -u)" = 0 ] || die "run as root (network namespace)"
	[ -x "$RACKBOOT_BIN" ] || die "$RACKBOOT_BIN missing: make build"
	for t in curl dnsmasq ip go; do command -v "$t" >/dev/null || die "$t missing"; done
	tftpd_hpa
	WORK=$(mktemp -d /tmp/rackboot-bench.XXXXXX)
	NS=rbbench-$$
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	ip netns add "$NS"
	in_ns ip link set lo up
	# tftpd-hpa resolves its bind address with AI_ADDRCONFIG, which wants a
	# non-loopback IPv4 address: a veth pair whose both ends stay in here.
	in_ns ip link add v0 type veth peer name v1
	in_ns ip addr add 198.51.100.1/24 dev v0
	in_ns ip link set v0 up
	mkdir -p "$WORK/root"
	head -c $((FILE_MB * 1024 * 1024)) /dev/urandom >"$WORK/root/big.bin"
	cp "$REPO/assets/boot/undionly.kpxe" "$WORK/root/" 2>/dev/null || cp /usr/lib/ipxe/undionly.kpxe "$WORK/root/" ||
		die "no undionly.kpxe: make assets"
	chmod -R a+rX "$WORK"
	(cd "$REPO" && go build -o "$WORK/tftpget" ./bench/tftp/tftpget)
}

# start_servers starts the three servers in the namespace. They are started
# with `ip netns exec ... &`, not through in_ns: a backgrounded shell
# function is a subshell, and $! would be its pid, not the server's, so
# cleanup would leave the servers running.
start_servers() {
	cat >"$WORK/rackboot.yaml" <<EOF
server:
  interface: lo
  address: 127.0.0.1
  http_port: 18080
  tftp_port: $RB_PORT
  assets: $WORK/root
  data_dir: $WORK/data
dhcp:
  mode: off
EOF
	mkdir -p "$WORK/data"
	ip netns exec "$NS" "$RACKBOOT_BIN" serve --config "$WORK/rackboot.yaml" --interface lo --log-level warn \
		>"$WORK/rackboot.log" 2>&1 &
	PIDS+=($!)
	ip netns exec "$NS" "${HPA[@]}" -4 --foreground --listen --secure --user root --address 127.0.0.1:$HPA_PORT "$WORK/root" \
		>"$WORK/hpa.log" 2>&1 &
	PIDS+=($!)
	ip netns exec "$NS" dnsmasq --keep-in-foreground --port=0 --enable-tftp --tftp-root="$WORK/root" \
		--tftp-max=1000 --user=root --group=root --pid-file="$WORK/dnsmasq.pid" \
		--log-facility="$WORK/dnsmasq.log" --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces &
	PIDS+=($!)
	sleep 1
	for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { tail -n 5 "$WORK"/*.log >&2; die "a server did not start (pid $p)"; }; done
}

# best_mbps PORT BLKSIZE: best throughput of RUNS curl fetches of big.bin.
best_mbps() {
	local port=$1 blk=$2 i s best=0
	for i in $(seq "$RUNS"); do
		s=$(in_ns curl -sS --max-time 120 --tftp-blksize "$blk" -o /dev/null -w '%{speed_download}' \
			"tftp://127.0.0.1:$port/big.bin") || { echo "fail"; return; }
		best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a>b)?a:b}')
	done
	awk -v b="$best" 'BEGIN{printf "%.1f", b/1e6}'
}

# crowd PORT: CLIENTS curl fetches of undionly.kpxe at once; "seconds failed".
crowd() {
	local port=$1 start end fails
	start=$(date +%s.%N)
	fails=$(seq "$CLIENTS" | in_ns xargs -P "$CLIENTS" -I{} sh -c \
		"curl -sS --max-time 60 --tftp-blksize 1468 -o /dev/null tftp://127.0.0.1:$port/undionly.kpxe || echo FAIL" 2>/dev/null |
		grep -c FAIL || true)
	end=$(date +%s.%N)
	awk -v a="$end" -v b="$start" -v f="$fails" 'BEGIN{printf "%.2f s, %d failed", a-b, f}'
}

# check_same fetches big.bin once from each server and compares it with
# the file: a fast wrong answer is no answer.
check_same() {
	local port want got
	want=$(sha256sum <"$WORK/root/big.bin" | cut -d' ' -f1)
	for port in $RB_PORT $HPA_PORT $DNSMASQ_PORT; do
		got=$(in_ns curl -sS --max-time 300 --tftp-blksize 1024 "tftp://127.0.0.1:$port/big.bin" | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] || die "port $port served a different big.bin"
	done
	log "all three servers sent big.bin byte for byte"
}

main() {
	setup
	start_servers
	local blk
	echo "| Test | rackboot | tftpd-hpa 5.2 | dnsmasq $(dnsmasq --version | awk 'NR==1{print $3}') |"
	echo "|---|---|---|---|"
	for blk in ${SIZES:-512 1468 8192}; do
		log "$FILE_MB MB at blksize $blk"
		echo "| $FILE_MB MB, blksize $blk (MB/s, best of $RUNS) | $(best_mbps $RB_PORT "$blk") | $(best_mbps $HPA_PORT "$blk") | $(best_mbps $DNSMASQ_PORT "$blk") |"
	done
	if [ "${ONLY_FILE:-0}" = 1 ]; then
		check_same
		echo
		echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r); $(date -u +%Y-%m-%d)"
		return
	fi
	log "$CLIENTS clients at once"
	echo "| $CLIENTS clients fetch undionly.kpxe at once (wall time) | $(crowd $RB_PORT) | $(crowd $HPA_PORT) | $(crowd $DNSMASQ_PORT) |"
	echo
	echo "| rackboot, 30 MB, blksize 1468, tftpget | MB/s |"
	echo "|---|---|"
	local w
	for w in 1 8 32; do
		log "windowsize $w"
		echo "| windowsize $w | $(in_ns "$WORK/tftpget" -addr 127.0.0.1:$RB_PORT -file big.bin -blksize 1468 -windowsize "$w" -n "$RUNS" | awk '{print $1}') |"
	done
	echo "| dnsmasq, windowsize 32 asked (ignored) | $(in_ns "$WORK/tftpget" -addr 127.0.0.1:$DNSMASQ_PORT -file big.bin -blksize 1468 -windowsize 32 -n "$RUNS" | awk '{print $1}') |"
	echo
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r); $(date -u +%Y-%m-%d)"
}

main "$@"
