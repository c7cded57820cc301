#!/bin/bash
# lab6.sh boots OVMF virtual machines from rackboot over IPv6 inside a
# private network namespace, reusing lab.sh's functions: a bridge br0 with
# 2001:db8:1::1/64 and no IPv4 (dual: 192.0.2.1/24 too), radvd sending
# router advertisements with the M and O flags, and a tap device for the
# guest. Nothing is sent on the host's interfaces; everything goes away on
# exit.
#
# Usage (as root):
#   lab6.sh e2e pxe6        rackboot full mode, OVMF PXE over IPv6 only:
#                           DHCPv6 -> ipxe.efi over TFTP -> iPXE's DHCPv6 ->
#                           HTTP script -> kernel and initrd, to the marker
#   lab6.sh e2e httpboot6   OVMF HTTP Boot over IPv6 only (its PXE off)
#   lab6.sh e2e proxy-pxe6  rackboot proxy mode beside dnsmasq handing out
#                           IPv6 addresses only (in a namespace of its own):
#                           OVMF takes the address from dnsmasq and ipxe.efi
#                           from rackboot (proxy Advertise, Request on port
#                           4011, TFTP). iPXE then ignores every Advertise
#                           without an address (its dhcpv6.c), so it cannot
#                           get its script from a proxy: the check ends at
#                           iPXE's own DHCPv6 (docs/ipv6.md)
#   lab6.sh e2e proxy-ipxe6 the same, with dnsmasq also sending iPXE (user
#                           class iPXE) the script URL as docs/ipv6.md tells:
#                           the whole chain to the marker
#   lab6.sh e2e dual        dual stack: one IPv4 and one IPv6 subnet; the
#                           VM (OVMF, PXE over both stacks) boots over the
#                           stack its firmware tries first (IPv4)
#
# Environment: as lab.sh (RACKBOOT_BIN, RACKBOOT_PAYLOAD_DIR,
# LAB_BOOT_TIMEOUT, LAB_KEEP).

LAB6_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab.sh
. "$LAB6_DIR/lab.sh"

SERVER_IP6=2001:db8:1::1
# The checks read rackboot's text log lines (msg="…"); to a file it would
# otherwise log JSON (--log-format, docs/observe.md).
export RACKBOOT_LOG_FORMAT=text
VM_UUID=00112233-4455-6677-8899-aabbccddeeff

# lab_up6 MODE makes the namespace with an IPv6 bridge (and IPv4 for
# dual), and starts radvd on it.
lab_up6() {
	local mode=$1
	[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tap devices)"
	command -v radvd >/dev/null || die "radvd missing (apt-get install radvd)"
	WORK=$(mktemp -d /tmp/rackboot-lab6.XXXXXX)
	NS=rb6-$$
	trap lab_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	ip netns add "$NS" || die "ip netns add $NS failed"
	in_ns ip link set lo up
	in_ns sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns ip link add br0 type bridge forward_delay 0 mcast_snooping 0
	in_ns ip addr add "$SERVER_IP6/64" dev br0 nodad
	[ "$mode" = dual ] && in_ns ip addr add "$SERVER_IP/24" dev br0
	in_ns ip link set br0 up
	in_ns ip tuntap add tap0 mode tap
	in_ns ip link set tap0 master br0
	in_ns ip link set tap0 up
	cat >"$WORK/radvd.conf" <<EOF
interface br0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 6;
	AdvManagedFlag on;
	AdvOtherConfigFlag on;
	prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous off; };
};
EOF
	in_ns radvd -n -C "$WORK/radvd.conf" -p "$WORK/radvd.pid" -m logfile -l "$WORK/radvd.log" </dev/null >/dev/null 2>&1 &
	PIDS+=("$!")
	[ "$mode" = dual ] || SERVER_IP=$SERVER_IP6 # wait_http and curl reach this
	log "namespace $NS: br0 $SERVER_IP6/64$([ "$mode" = dual ] && echo " and 192.0.2.1/24"), radvd (M and O flags, pid $!); work folder $WORK"
}

# dhcp_section6 MODE prints the inventory's dhcp: block.
dhcp_section6() {
	local v6='    - cidr: 2001:db8:1::/64
      range: 2001:db8:1::100-2001:db8:1::1ff
      dns: [2001:db8:1::1]'
	case $1 in
	proxy-*) printf 'dhcp:\n  mode: proxy\n' ;;
	dual) printf 'dhcp:\n  mode: full\n  subnets:\n    - cidr: 192.0.2.0/24\n      range: 192.0.2.100-192.0.2.200\n%s\n' "$v6" ;;
	*) printf 'dhcp:\n  mode: full\n  subnets:\n%s\n' "$v6" ;;
	esac
}

write_inventory6() {
	local mode=$1 addr="address: $SERVER_IP6"
	[ "$mode" = dual ] && addr="address: 192.0.2.1
  address6: $SERVER_IP6"
	cat >"$WORK/rackboot.yaml" <<EOF
server:
  interface: br0
  $addr
  http_port: $HTTP_PORT
  assets: $PAYLOAD_DIR
  data_dir: $WORK/data
$(dhcp_section6 "$mode")
profiles:
  demo:
    kernel: vmlinuz
    initrd: [initrd.gz]
    cmdline: "console=ttyS0 panic=-1 rackboot.e2e=$mode"
machines:
  - mac: "$VM_MAC"
    uuid: $VM_UUID
    hostname: node1
$([[ $mode == proxy-* ]] || echo "    ipv6: 2001:db8:1::50")
    profile: demo
default_profile: demo
EOF
	mkdir -p "$WORK/data"
}

# start_address_server6 runs dnsmasq as the network's DHCPv6 server in a
# namespace of its own on the bridge: addresses only, no boot options.
start_address_server6() {
	command -v dnsmasq >/dev/null || die "dnsmasq missing (apt-get install dnsmasq-base)"
	PEER_NS=$NS-dhcp
	ip netns add "$PEER_NS" || die "ip netns add $PEER_NS failed"
	in_ns ip link add veth-br type veth peer name veth-dhcp netns "$PEER_NS"
	in_ns ip link set veth-br master br0
	in_ns ip link set veth-br up
	ip netns exec "$PEER_NS" ip link set lo up
	ip netns exec "$PEER_NS" ip addr add 2001:db8:1::2/64 dev veth-dhcp nodad
	ip netns exec "$PEER_NS" ip link set veth-dhcp up
	local -a ipxe=()
	[ "${1:-}" = proxy-ipxe6 ] && ipxe=(--dhcp-userclass=set:ipxe6,iPXE
		"--dhcp-option=tag:ipxe6,option6:bootfile-url,http://[$SERVER_IP6]:$HTTP_PORT/boot.ipxe")
	ip netns exec "$PEER_NS" dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts "${ipxe[@]}" \
		--interface=veth-dhcp --bind-interfaces --dhcp-range=2001:db8:1::100,2001:db8:1::1ff,64,1h \
		--dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file= --log-dhcp --log-facility="$WORK/dnsmasq.log" \
		</dev/null >/dev/null 2>&1 &
	PIDS+=("$!")
	log "address-only DHCPv6 server: dnsmasq on veth-dhcp (2001:db8:1::2) in namespace $PEER_NS (pid $!)"
}

# start_vm6 MODE boots the OVMF guest: IPv6 only (its IPv4 stack off) but
# for dual; HTTP Boot alone for httpboot6.
start_vm6() {
	local mode=$1
	[ -f "$OVMF_CODE" ] || die "$OVMF_CODE missing (apt-get install ovmf)"
	cp "$OVMF_VARS" "$WORK/OVMF_VARS.fd"
	local -a fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd" -uuid "$VM_UUID")
	case $mode in
	pxe6 | proxy-*) fw+=(-fw_cfg name=opt/org.tianocore/IPv4Support,string=n) ;;
	httpboot6)
		# Without the boot menu's pause OVMF's HTTPv6 starts before DAD
		# ends and fails at once (lab.md).
		fw+=(-fw_cfg name=opt/org.tianocore/IPv4Support,string=n
			-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n -boot menu=on,splash-time=4000)
		;;
	dual) ;;
	esac
	VM_START=$(date +%s.%N)
	in_ns timeout --kill-after=5 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-accel tcg -m 512 -nographic -no-reboot "${fw[@]}" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,romfile=" -boot n \
		</dev/null >"$WORK/console.log" 2>"$WORK/qemu.err" &
	VM_PID=$!
	PIDS+=("$VM_PID")
	log "booting $mode VM (pid $VM_PID, up to $BOOT_TIMEOUT s)"
}

# watch_shell ends the VM when OVMF gives up and drops to its EFI shell,
# which waits forever (lab.md).
watch_shell() {
	local i
	for i in $(seq 1 "$BOOT_TIMEOUT"); do
		kill -0 "$VM_PID" 2>/dev/null || return 0
		if tr -d '\r' <"$WORK/console.log" | grep -q -e 'Shell>' -e 'No more network devices'; then
			log "OVMF dropped to the EFI shell, or iPXE found nothing to boot: ending the VM"
			kill -TERM "$VM_PID" 2>/dev/null
			return 0
		fi
		sleep 1
	done
}

# ipv6_ok MODE checks from rackboot's log that the boot went over IPv6
# (dual: over IPv4): DHCPv6 replies with boot file URLs, TFTP and HTTP to
# IPv6 clients, and the iPXE script's URLs bracketed.
ipv6_ok() {
	local mode=$1 l=$WORK/rackboot.log
	if [ "$mode" = dual ]; then
		grep -q 'msg="dhcp ack"' "$l" || { log "FAIL: dual: no DHCPv4 ack"; return 1; }
		grep -q 'dhcp6: listening' "$l" || { log "FAIL: dual: the DHCPv6 server did not start"; return 1; }
		log "dual: booted over IPv4 (the firmware's first try); DHCPv6 served beside it"
		return 0
	fi
	grep 'msg=dhcp6' "$l" | grep -q 'boot_file_url=' || { log "FAIL: $mode: no DHCPv6 reply with a boot file URL"; return 1; }
	grep 'msg=dhcp6' "$l" | grep 'class=ipxe' | grep -q 'boot_file_url="\?http://\[2001:db8:1::1\]:8080/boot.ipxe' ||
		{ log "FAIL: $mode: iPXE got no bracketed script URL over DHCPv6"; return 1; }
	grep 'msg="http request"' "$l" | grep -q 'path=/ipxe' || { log "FAIL: $mode: no /ipxe request"; return 1; }
	case $mode in
	pxe6 | proxy-ipxe6)
		grep 'msg="tftp transfer"' "$l" | grep -q 'client="\?\[' ||
			{ log "FAIL: $mode: ipxe.efi did not go over TFTP to an IPv6 client"; return 1; }
		;;
	httpboot6)
		grep 'msg=dhcp6' "$l" | grep -q 'class=httpboot' || { log "FAIL: httpboot6: no HTTP Boot request over DHCPv6"; return 1; }
		;;
	esac
	if [ "$mode" = proxy-ipxe6 ]; then
		grep 'msg=dhcp6' "$l" | grep -q ' ip=' && { log "FAIL: $mode: rackboot handed out an address"; return 1; }
		grep -q 'DHCPREPLY.*2001:db8:1::1[0-9a-f][0-9a-f]' "$WORK/dnsmasq.log" || { log "FAIL: $mode: dnsmasq gave no address"; return 1; }
	fi
	log "$mode: $(grep 'msg=dhcp6' "$l" | grep -o 'boot_file_url=[^ ]*' | sort -u | tr '\n' ' ')"
}

# proxy6_ok checks the proxy boot as far as it goes with iPXE: OVMF's
# PXEv6 got its address from dnsmasq and ipxe.efi from rackboot (proxy
# Advertise, Reply on port 4011, TFTP over IPv6), iPXE started, and
# rackboot answered iPXE's Solicit with the script URL but no address.
proxy6_ok() {
	local l=$WORK/rackboot.log clean
	clean=$(tr -d '\r' <"$WORK/console.log")
	grep -q 'NBP file downloaded successfully' <<<"$clean" || { log "FAIL: proxy-pxe6: OVMF did not load the boot program"; console_tail; server_log_tail; return 1; }
	grep -q 'iPXE initialising devices' <<<"$clean" || { log "FAIL: proxy-pxe6: iPXE did not start"; console_tail; return 1; }
	grep 'msg=dhcp6' "$l" | grep 'class=pxe' | grep -q 'reply=ADVERTISE' || { log "FAIL: proxy-pxe6: no proxy Advertise to OVMF"; server_log_tail; return 1; }
	grep 'msg=dhcp6' "$l" | grep 'class=pxe' | grep -q 'type=REQUEST' || { log "FAIL: proxy-pxe6: no Reply to OVMF's Request on port 4011"; server_log_tail; return 1; }
	grep 'msg="tftp transfer"' "$l" | grep -q 'file=ipxe.efi' || { log "FAIL: proxy-pxe6: ipxe.efi not sent over TFTP"; server_log_tail; return 1; }
	grep 'msg=dhcp6' "$l" | grep 'class=ipxe' | grep -q 'boot_file_url="\?http://\[2001:db8:1::1\]:8080/boot.ipxe' || { log "FAIL: proxy-pxe6: iPXE's Solicit got no script URL"; server_log_tail; return 1; }
	grep 'msg=dhcp6' "$l" | grep -q ' ip=' && { log "FAIL: proxy-pxe6: rackboot handed out an address"; return 1; }
	grep -q 'DHCPREPLY.*2001:db8:1::1[0-9a-f][0-9a-f]' "$WORK/dnsmasq.log" || { log "FAIL: proxy-pxe6: dnsmasq gave no address"; return 1; }
	log "PASS: proxy-pxe6: address from dnsmasq ($(grep -o 'DHCPREPLY[^ ]* 2001:db8:1::[0-9a-f]*' "$WORK/dnsmasq.log" | head -1 | awk '{print $2}')), ipxe.efi from rackboot over TFTP after ${VM_SECONDS}s; iPXE: $(grep -o -m1 'Nothing to boot[^(]*' <<<"$clean" || echo 'still configuring')"
}

cmd_e2e6() {
	local mode=${1:-}
	case $mode in
	pxe6 | httpboot6 | proxy-pxe6 | proxy-ipxe6 | dual) ;;
	*) die "usage: lab6.sh e2e pxe6|httpboot6|proxy-pxe6|proxy-ipxe6|dual" ;;
	esac
	ensure_payload
	lab_up6 "$mode"
	write_inventory6 "$mode"
	[[ $mode == proxy-* ]] && start_address_server6 "$mode"
	start_server
	start_vm6 "$mode"
	watch_shell
	wait_vm
	summarize
	if [ "$mode" = proxy-pxe6 ]; then
		proxy6_ok && LAB_FAILED=0
		return
	fi
	if ! console_ok "$mode"; then
		log "FAIL: $mode boot: no '$MARKER' with rackboot.e2e=$mode after ${VM_SECONDS}s (qemu exit $VM_RC)"
		[ -s "$WORK/qemu.err" ] && { echo "----- qemu stderr" >&2; cat "$WORK/qemu.err" >&2; }
		server_log_tail
		console_tail
		exit 1
	fi
	if ! ipv6_ok "$mode"; then
		server_log_tail
		exit 1
	fi
	log "PASS: $mode boot reached the payload in ${VM_SECONDS}s"
	LAB_FAILED=0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	e2e) shift; cmd_e2e6 "$@" ;;
	*) echo "usage: $0 e2e pxe6|httpboot6|proxy-pxe6|proxy-ipxe6|dual" >&2; exit 2 ;;
	esac
fi
