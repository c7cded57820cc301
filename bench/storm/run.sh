#!/bin/bash
# Boot storm benchmark (bench/README.md, "Boot storm"): bench/storm plays N
# machines powering on at once against rackboot (DHCP + TFTP + HTTP in one
# process) and against dnsmasq (DHCP + TFTP) + nginx (HTTP) configured the
# same way, in one run. Root only; everything runs inside two network
# namespaces joined by a veth pair, removed on exit.
#
#   bench/storm/run.sh                       storms, N from $SIZES, every server in $SERVERS
#   SIZES="100" SERVERS="rackboot peers" bench/storm/run.sh
#   MODE=download bench/storm/run.sh         200 parallel 20 MB downloads, alone and under DHCP/TFTP load
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZES=${SIZES:-"100 500 1000"}
SERVERS=${SERVERS:-"rackboot peers"}
MODE=${MODE:-storm}
SPREAD=${SPREAD:-1s}
PARALLEL=${PARALLEL:-200}
LOAD_RATE=${LOAD_RATE:-2000}
LOAD_MACHINES=${LOAD_MACHINES:-100}
NS_S=storm13s-$$ NS_C=storm13c-$$ IF_S=st$$s IF_C=st$$c
SRV=10.64.0.1 CLI=10.64.0.2 PERF=10.64.0.3
POOL_FIRST=10.65.0.1 POOL_LAST=10.66.255.254
WORK=$(mktemp -d /tmp/rbstorm.XXXXXX)
PIDS=()

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)"; exit 1; }
for t in ip go dnsmasq nginx curl; do command -v $t >/dev/null || { echo "run.sh: $t missing (apt-get install dnsmasq-base nginx curl)"; exit 1; }; done
[ -s assets/boot/undionly.kpxe ] && [ -s assets/boot/ipxe.efi ] || { echo "run.sh: run make assets first"; exit 1; }

stop_servers() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}
cleanup() {
	stop_servers
	ip netns del $NS_S 2>/dev/null || true
	ip netns del $NS_C 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add $NS_S
ip netns add $NS_C
ip link add $IF_S type veth peer name $IF_C
ip link set $IF_S netns $NS_S
ip link set $IF_C netns $NS_C
ip -n $NS_S addr add $SRV/12 dev $IF_S
ip -n $NS_C addr add $CLI/12 dev $IF_C
ip -n $NS_C addr add $PERF/12 dev $IF_C
for ns in $NS_S $NS_C; do ip -n $ns link set lo up; done
ip -n $NS_S link set $IF_S up
ip -n $NS_C link set $IF_C up

# The payload every server serves, readable by nginx's www-data workers.
chmod 0755 "$WORK"
WWW=$WORK/www
mkdir -p "$WWW"
head -c $((10 << 20)) /dev/urandom >"$WWW/vmlinuz"
head -c $((50 << 20)) /dev/urandom >"$WWW/initrd.img"
head -c $((20 << 20)) /dev/urandom >"$WWW/dl20.img"
cp assets/boot/undionly.kpxe assets/boot/ipxe.efi "$WWW/"
cat >"$WWW/boot.ipxe" <<IPXE
#!ipxe
kernel http://$SRV:8080/vmlinuz console=ttyS0 panic=-1
initrd http://$SRV:8080/initrd.img
boot
IPXE
chmod -R a+rX "$WWW"

go build -o "$WORK/storm" ./bench/storm
RACKBOOT=${RACKBOOT_BIN:-$WORK/rackboot}
[ -n "${RACKBOOT_BIN:-}" ] || go build -o "$RACKBOOT" ./cmd/rackboot

# nginx_conf DIR PORT: nginx serving $WWW on $SRV:PORT, defaults otherwise
# (sendfile, workers = cores), config in DIR/nginx.conf.
nginx_conf() {
	cat >"$1/nginx.conf" <<NGINX
worker_processes auto;
pid $1/nginx.pid;
error_log $1/nginx-error.log warn;
events { worker_connections 8192; }
http {
  include /etc/nginx/mime.types;
  sendfile on; tcp_nopush on; access_log off;
  server { listen $SRV:$2; root $WWW; }
}
NGINX
}

# start NAME DIR: starts a server stack fresh in the server namespace;
# STACK_PIDS names its processes.
start() {
	local name=$1 dir=$2
	mkdir -p "$dir"
	STACK_PIDS=
	case $name in
	rackboot|rackboot-probe)
		local cd=false; [ $name = rackboot-probe ] && cd=true
		cat >"$dir/rackboot.yaml" <<YAML
server:
  interface: $IF_S
  address: $SRV
  data_dir: $dir/data
  http_port: 8080
  tftp_port: 69
  assets: $WWW
dhcp:
  mode: full
  conflict_detection: $cd
  subnets:
    - cidr: 10.64.0.0/12
      range: $POOL_FIRST-$POOL_LAST
      lease_time: 1h
profiles:
  storm:
    kernel: vmlinuz
    initrd: [initrd.img]
    cmdline: console=ttyS0 panic=-1
default_profile: storm
YAML
		ip netns exec $NS_S "$RACKBOOT" serve --config "$dir/rackboot.yaml" --log-level warn >"$dir/log" 2>&1 &
		PIDS+=($!)
		;;
	peers)
		ip netns exec $NS_S dnsmasq -k --port=0 --interface=$IF_S --bind-interfaces \
			--dhcp-range=$POOL_FIRST,$POOL_LAST,255.240.0.0,1h --dhcp-leasefile="$dir/dnsmasq.leases" \
			--no-ping --dhcp-lease-max=200000 --no-resolv --pid-file="$dir/dnsmasq.pid" --log-facility="$dir/dnsmasq.log" \
			--enable-tftp --tftp-root="$WWW" --tftp-max=2000 \
			--dhcp-userclass=set:ipxe,iPXE --dhcp-match=set:efi64,option:client-arch,7 \
			--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,$SRV --dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,$SRV \
			--dhcp-boot=tag:ipxe,http://$SRV:8080/boot.ipxe >"$dir/log" 2>&1 &
		PIDS+=($!)
		nginx_conf "$dir" 8080
		ip netns exec $NS_S nginx -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/nginx.log" 2>&1 &
		PIDS+=($!)
		;;
	esac
	sleep 1.5
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || { echo "run.sh: $name did not start:"; cat "$dir"/*log 2>/dev/null; exit 1; }
	done
	STACK_PIDS=$(IFS=,; echo "${PIDS[*]}")
}

# url NAME FILE: where a stack serves FILE over HTTP.
url() { if [ "$1" = peers ]; then echo "http://$SRV:8080/$2"; else echo "http://$SRV:8080/assets/$2"; fi; }

# check NAME: every peer's answers are what the storm expects (status 200,
# the right number of bytes), so that a fast wrong answer cannot pass.
check() {
	local f want got
	for f in vmlinuz initrd.img dl20.img; do
		want=$(stat -c %s "$WWW/$f")
		got=$(ip netns exec $NS_C curl -s -o /dev/null -w '%{http_code} %{size_download}' "$(url "$1" $f)")
		[ "$got" = "200 $want" ] || { echo "run.sh: $1 answered $f with '$got', want '200 $want'"; exit 1; }
	done
	got=$(ip netns exec $NS_C curl -s -o /dev/null -w '%{http_code}' "http://$SRV:8080/boot.ipxe")
	[ "$got" = 200 ] || { echo "run.sh: $1 answered boot.ipxe with $got"; exit 1; }
}

machine_line() {
	echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r); date: $(date -u '+%F %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

srv_udp() { ip netns exec $NS_S awk '/^Udp:/ {if (!h) {for (i=2;i<=NF;i++) n[$i]=i; h=1} else print $n["InDatagrams"], $n["InErrors"], $n["RcvbufErrors"]}' /proc/net/snmp; }

# storm_mode: for each N, ROUNDS rounds; each round runs every server of
# SERVERS, in reverse order every other round, so that load from other
# work falls on all of them alike.
storm_mode() {
	local order
	for n in $SIZES; do
	for round in $(seq "${ROUNDS:-1}"); do
		order=$SERVERS
		[ $((round % 2)) = 0 ] && order=$(echo $SERVERS | tr ' ' '\n' | tac | tr '\n' ' ')
		for name in $order; do
			local dir=$WORK/$name-$n
			start "$name" "$dir"
			check "$name"
			echo "# $(cut -d' ' -f1-3 /proc/loadavg) load before $name n=$n"
			local u0; u0=$(srv_udp)
			ip netns exec $NS_C "$WORK/storm" -iface $IF_C -n "$n" -spread "$SPREAD" -pids "$STACK_PIDS" -label "$name" ${STEPS:+-steps "$STEPS"} || true
			echo "  server ns UDP (InDatagrams InErrors RcvbufErrors): $u0 -> $(srv_udp)"
			[ "$name" = peers ] || ip netns exec $NS_S curl -s "http://$SRV:8080/metrics" |
				grep -E '^rackboot_(dhcp_(received|dropped|offers|acks|naks|offers_ready|offers_probed|probe_busy)|tftp_(transfers|failed|busy))_total' | tr '\n' ' ' | sed 's/^/  /; s/rackboot_//g; s/_total//g'; echo
			stop_servers
		done
	done
	done
}

# download_mode: PARALLEL downloads of the 20 MB file from each HTTP
# server, alone and then while perfdhcp (LOAD_RATE exchanges/s with PXE
# options) and LOAD_MACHINES storm machines (DHCP, TFTP, iPXE DHCP) load
# rackboot's DHCP and TFTP. nginx is measured beside a running rackboot,
# which takes the same background load.
download_mode() {
	command -v perfdhcp >/dev/null || { echo "run.sh: perfdhcp missing (apt-get install kea-admin)"; exit 1; }
	local dir=$WORK/dl
	start rackboot "$dir/rb"
	mkdir -p "$dir"
	local rb_pids=$STACK_PIDS
	nginx_conf "$dir" 8081
	ip netns exec $NS_S nginx -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/nginx.log" 2>&1 &
	local ng=$!
	PIDS+=($ng)
	sleep 1
	for u in "http://$SRV:8080/assets/dl20.img" "http://$SRV:8081/dl20.img"; do
		got=$(ip netns exec $NS_C curl -s -o /dev/null -w '%{http_code} %{size_download}' "$u")
		[ "$got" = "200 $((20 << 20))" ] || { echo "run.sh: $u answered '$got'"; exit 1; }
	done
	local round
	for round in 1 2 3; do
		echo "# round $round alone, load $(cut -d' ' -f1-3 /proc/loadavg)"
		ip netns exec $NS_C "$WORK/storm" -http "http://$SRV:8080/assets/dl20.img" -parallel "$PARALLEL" -pids "$rb_pids" -label rackboot-alone || true
		ip netns exec $NS_C "$WORK/storm" -http "http://$SRV:8081/dl20.img" -parallel "$PARALLEL" -pids "$ng" -label nginx-alone || true
		for who in rackboot nginx; do
			local u=http://$SRV:8080/assets/dl20.img p=$rb_pids
			[ $who = nginx ] && u=http://$SRV:8081/dl20.img p=$ng
			echo "# round $round $who under load, load $(cut -d' ' -f1-3 /proc/loadavg)"
			snap "$dir/before-$who-$round"
			ip netns exec $NS_C timeout 30 perfdhcp -4 -l $IF_C -r "$LOAD_RATE" -R 60000 -p 8 \
				-o 60,505845436c69656e743a417263683a30303030303a554e44493a303032303031 -o 93,0000 $SRV \
				>"$dir/perfdhcp-$who-$round" 2>&1 &
			local perf=$!
			ip netns exec $NS_C "$WORK/storm" -iface $IF_C -n "$LOAD_MACHINES" -spread 2s -steps dhcp,tftp,dhcp-ipxe -label "load-$who" >"$dir/load-$who-$round" 2>&1 &
			local load=$!
			sleep 1
			ip netns exec $NS_C "$WORK/storm" -http "$u" -parallel "$PARALLEL" -pids "$p" -label "$who-under-load" || true
			wait $load || true
			wait $perf || true
			snap "$dir/after-$who-$round"
			sed 's/^/  /' "$dir/load-$who-$round" | head -3
			drops "$dir/perfdhcp-$who-$round" "$dir/before-$who-$round" "$dir/after-$who-$round"
		done
	done
}

# snap FILE: the counters that say where DHCP datagrams were lost.
snap() {
	{
		ip netns exec $NS_S cat /proc/net/snmp | awk '/^Udp:/' | sed 's/^/srv /'
		ip netns exec $NS_C cat /proc/net/snmp | awk '/^Udp:/' | sed 's/^/cli /'
		ip netns exec $NS_S curl -s "http://$SRV:8080/metrics" | grep -E '^rackboot_dhcp_(received|dropped|replied|send_error|offers|acks)_total' | sed 's/^/met /'
		ip -n $NS_S -s link show $IF_S | sed 's/^/lnk /'
	} >"$1"
}

# drops PERFDHCP_OUT BEFORE AFTER: perfdhcp's own figures and the counter
# deltas at each place a datagram can be lost.
drops() {
	awk '/Statistics for: DISCOVER-OFFER/ {s="do"} /Statistics for: REQUEST-ACK/ {s="ra"}
		/^sent packets:/ {sent[s]=$3} /^received packets:/ {recv[s]=$3} /^drops:/ {d[s]=$2}
		END {printf "  perfdhcp: DISCOVER sent %d, OFFER received %d; REQUEST sent %d, ACK received %d; drops %.2f %%\n",
			sent["do"], recv["do"], sent["ra"], recv["ra"], sent["do"] ? 100*(1-recv["ra"]/sent["do"]) : 0}' "$1"
	paste <(udpcols "$2" srv) <(udpcols "$3" srv) | awk '{printf "  server ns UDP %s +%d\n", $1, $4-$2}'
	paste <(udpcols "$2" cli) <(udpcols "$3" cli) | awk '{printf "  client ns UDP %s +%d\n", $1, $4-$2}'
	join <(grep '^met' "$2" | awk '{print $2, $3}' | sort) <(grep '^met' "$3" | awk '{print $2, $3}' | sort) | awk '{printf "  %s +%d\n", $1, $3-$2}'
}
udpcols() { grep "^$2 Udp:" "$1" | awk 'NR==1{for(i=3;i<=NF;i++)n[i]=$i} NR==2{for(i=3;i<=NF;i++) if(n[i] ~ /InDatagrams|InErrors|RcvbufErrors|NoPorts|SndbufErrors/) print n[i], $i}'; }

machine_line
case $MODE in
storm) storm_mode ;;
download) download_mode ;;
*) echo "run.sh: MODE is storm or download"; exit 2 ;;
esac
machine_line
