#!/bin/bash
# bench/tftp/ab.sh compares rackboot builds with each other and with
# tftpd-hpa, lock-step (curl), alternating the servers fetch by fetch so
# that load from other work on the machine falls on all of them alike. It
# runs inside a private network namespace (loopback and a veth pair whose
# both ends stay inside): nothing is sent on the machine's interfaces. Root;
# tftpd-hpa must have been unpacked by bench/tftp/run.sh once.
#
#   bench/tftp/ab.sh BLKSIZE ROUNDS NAME=BINARY[:VAR=VALUE] ...
#   bench/tftp/ab.sh 512 5 old=/tmp/rackboot-old new=bin/rackboot
#   bench/tftp/ab.sh 512 5 on=bin/rackboot off=bin/rackboot:TIMELINE=off
#
# TIMELINE=off runs that server with timeline.enabled: false (no events).
# Each round prints MB/s for one 30 MB fetch from every server, in order;
# each fetched file is compared with the original (WRONG when it differs).
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BLKSIZE ROUNDS NAME=BINARY[:VAR=VALUE] ..." >&2; exit 2; }
BLK=$1; ROUNDS=$2; shift 2
CACHE=${BENCH_CACHE:-/var/cache/rackboot-bench}
[ -x "$CACHE/root/usr/sbin/in.tftpd" ] || { echo "no tftpd-hpa in $CACHE: run bench/tftp/run.sh once" >&2; exit 1; }
NS=rbab-$$; W=$(mktemp -d /tmp/rbab.XXXXXX); PIDS=()
cleanup(){ set +e; for p in "${PIDS[@]}"; do kill -KILL $p 2>/dev/null; done; wait 2>/dev/null; ip netns del $NS; rm -rf $W; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
ip netns add $NS; ip netns exec $NS ip link set lo up
ip netns exec $NS ip link add v0 type veth peer name v1; ip netns exec $NS ip addr add 198.51.100.1/24 dev v0; ip netns exec $NS ip link set v0 up
mkdir -p $W/root; head -c $((30*1024*1024)) /dev/urandom > $W/root/big.bin; chmod -R a+rX $W
declare -A PORT PID
port=1100
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; bin=${rest%%:*}; envv=""; [ "$rest" != "$bin" ] && envv=${rest#*:}
  port=$((port+1)); mkdir -p $W/d$port
  cat > $W/$port.yaml <<Y
server:
  interface: lo
  address: 127.0.0.1
  http_port: $((port+17000))
  tftp_port: $port
  assets: $W/root
  data_dir: $W/d$port
dhcp:
  mode: off
Y
  case $envv in *TIMELINE=off*) echo "timeline: {enabled: false}" >> $W/$port.yaml ;; esac
  ip netns exec $NS env $envv $bin serve --config $W/$port.yaml --interface lo --log-level warn > $W/$port.log 2>&1 & PIDS+=($!); PORT[$name]=$port; PID[$name]=$!
done
ip netns exec $NS env LD_LIBRARY_PATH=$CACHE/root/lib/x86_64-linux-gnu:$CACHE/root/usr/lib/x86_64-linux-gnu $CACHE/root/usr/sbin/in.tftpd -4 --foreground --listen --secure --user root --address 127.0.0.1:2069 $W/root > $W/hpa.log 2>&1 & PIDS+=($!)
PORT[hpa]=2069; PID[hpa]=$!
sleep 1.5
names=("$@"); names=("${names[@]%%=*}" hpa)
for r in $(seq $ROUNDS); do
  line="round $r blk $BLK:"
  # Each round starts one server later than the one before, so that no
  # server always fetches first (the first fetch of a round ran slower).
  k=$(( (r - 1) % ${#names[@]} )); order=("${names[@]:k}" "${names[@]:0:k}")
  for n in "${order[@]}"; do
    pid=${PID[$n]}; [ $n = hpa ] && pid=$(pgrep -P $pid -x in.tftpd || echo $pid)
    read -r s size < <(ip netns exec $NS curl -sS --max-time 60 --tftp-blksize $BLK -o $W/got -w '%{speed_download} %{size_download}\n' tftp://127.0.0.1:${PORT[$n]}/big.bin)
    # Every answer is checked: a short or wrong file is no figure.
    if [ "${size:-0}" != $((30*1024*1024)) ] || ! cmp -s $W/got $W/root/big.bin; then line="$line  $n WRONG(${size:-0} bytes)"; continue; fi
    line="$line  $n $(awk -v s=$s 'BEGIN{printf "%.1f", s/1e6}')"
  done
  echo "$line"
done
