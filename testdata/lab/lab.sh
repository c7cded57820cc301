#!/bin/bash
# lab.sh boots virtual machines from rackboot inside a private network
# namespace: a bridge br0 (192.0.2.1/24) with a tap device for a QEMU guest.
# Nothing is ever sent on the host's own interfaces. Everything it creates
# (the namespace, the processes it starts, a work folder) goes away on exit,
# including on failure and Ctrl-C.
#
# Usage (as root):
#   lab.sh e2e MODE        boot one VM; exit 0 only when its console shows the
#                          payload's marker and the profile's kernel command line.
#                          MODE is FIRMWARE (bios or uefi) with rackboot as the
#                          DHCP server, proxy-FIRMWARE (dnsmasq hands out
#                          addresses on br0, rackboot serve in proxy mode),
#                          proxy-peer-FIRMWARE (the same with dnsmasq in a
#                          namespace of its own on the bridge), or off-FIRMWARE
#                          (dhcp.mode: off; dnsmasq points machines at rackboot).
#                          FIRMWARE is bios (SeaBIOS + QEMU's iPXE ROM), uefi
#                          (OVMF firmware PXE, no ROM), httpboot (OVMF UEFI HTTP
#                          Boot, its PXE switched off) or uefiipxe (OVMF + QEMU's
#                          iPXE EFI ROM),
#                          or pxelinux (a BIOS VM whose profile has loader:
#                          pxelinux: pxelinux.0, generated pxelinux.cfg, kernel
#                          and initrd over TFTP, all in rackboot's TFTP log).
#                          Secure Boot (OVMF's Secure Boot build, loader: grub):
#                          secureboot (firmware PXE), httpboot-secureboot (UEFI
#                          HTTP Boot of rackboot's disk image), each also with
#                          proxy-; sbipxe and sbauto (iPXE refused, see
#                          cmd_refused)
#   lab.sh e2e6 MODE       IPv6 boots: see lab6.sh (pxe6, httpboot6, proxy-pxe6, dual)
#   lab.sh demo            boot one BIOS VM and narrate every step live
#
# Environment:
#   RACKBOOT_BIN          rackboot binary (default: <repo>/bin/rackboot)
#   RACKBOOT_PAYLOAD_DIR  kernel + initramfs (default: /var/cache/rackboot-lab;
#                         built by payload.sh when missing)
#   LAB_BOOT_TIMEOUT      seconds a VM may take (default: 240)
#   LAB_KEEP=1            keep the work folder (logs, console, inventory)
#   LAB_UNPRIVILEGED=1    run rackboot as nobody with exactly the capabilities
#                         deploy/systemd/rackboot.service grants (setpriv), and
#                         check /proc that it runs so
#
# The file can also be sourced to reuse its functions.

# The checks read rackboot's text log lines (msg="…"); to a file it would
# otherwise log JSON (--log-format, docs/observe.md).
export RACKBOOT_LOG_FORMAT=text
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LAB_DIR/../.." && pwd)
RACKBOOT_BIN=${RACKBOOT_BIN:-$REPO_ROOT/bin/rackboot}
PAYLOAD_DIR=${RACKBOOT_PAYLOAD_DIR:-/var/cache/rackboot-lab}
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-240}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
# Secure Boot: OVMF's SMM build with Microsoft's keys enrolled (lab.md).
OVMF_SB_CODE=${OVMF_SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
OVMF_SB_VARS=${OVMF_SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd}

MARKER=RACKBOOT-E2E-MARKER
VM_MAC=52:54:00:12:34:56
SERVER_IP=192.0.2.1
HTTP_PORT=8080

NS=""          # the namespace this run created
PEER_NS=""     # a second namespace for a DHCP server of its own (proxy-peer-*)
WORK=""        # this run's work folder
PIDS=()        # processes this run started
EXTRA_FW=()    # more QEMU arguments (cmd_refused)
LAB_FAILED=1   # cleared on success; keeps WORK for inspection on failure

log() { printf '[lab] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# in_ns runs a command inside this run's namespace.
in_ns() { ip netns exec "$NS" "$@"; }

# lab_up creates the namespace, the bridge and the tap device.
lab_up() {
	[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tap devices)"
	WORK=$(mktemp -d /tmp/rackboot-lab.XXXXXX)
	NS=rb-$$
	trap lab_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	ip netns add "$NS" || die "ip netns add $NS failed"
	in_ns ip link set lo up
	in_ns ip link add br0 type bridge forward_delay 0
	in_ns ip addr add "$SERVER_IP/24" dev br0
	in_ns ip link set br0 up
	in_ns ip tuntap add tap0 mode tap
	in_ns ip link set tap0 master br0
	in_ns ip link set tap0 up
	log "namespace $NS: br0 $SERVER_IP/24, tap0; work folder $WORK"
}

# lab_down ends the processes this run started (by pid), then anything still
# inside its own namespace (which only this run's processes can be in), then
# removes the namespace.
lab_down() {
	local rc=$? pid
	set +e
	trap - EXIT INT TERM HUP
	if [ "$rc" -ge 128 ] && [ -n "$WORK" ]; then
		log "interrupted (exit $rc); tearing the lab down"
		server_log_tail
		console_tail
	fi
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	if [ -n "$NS" ] && ip netns list | grep -qw "^$NS"; then
		for pid in $(ip netns pids "$NS" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null
		done
		sleep 0.5
		for pid in "${PIDS[@]}" $(ip netns pids "$NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		wait 2>/dev/null
		ip netns del "$NS" || log "could not delete namespace $NS"
	fi
	if [ -n "$PEER_NS" ] && ip netns list | grep -qw "^$PEER_NS"; then
		for pid in $(ip netns pids "$PEER_NS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$PEER_NS" || log "could not delete namespace $PEER_NS"
	fi
	if [ -n "$WORK" ]; then
		if [ "$LAB_FAILED" = 0 ] && [ "${LAB_KEEP:-0}" != 1 ]; then
			rm -rf "$WORK"
		else
			log "kept work folder $WORK"
		fi
	fi
	exit "$rc"
}

# ensure_payload builds the kernel and initramfs when they are missing.
ensure_payload() {
	if [ ! -s "$PAYLOAD_DIR/vmlinuz" ] || [ ! -s "$PAYLOAD_DIR/initrd.gz" ] || [ "$(cat "$PAYLOAD_DIR/initrd.format" 2>/dev/null)" != 2 ]; then
		"$LAB_DIR/payload.sh" "$PAYLOAD_DIR" || die "payload.sh failed"
	fi
}

# dhcp_section MODE prints the inventory's dhcp: block: rackboot's own
# DHCP server, or proxyDHCP beside another server (modes proxy-*).
dhcp_section() {
	case $1 in
	proxy-*) printf 'dhcp:\n  mode: proxy\n' ;;
	off-*) printf 'dhcp:\n  mode: off\n' ;;
	*) printf 'dhcp:\n  mode: full\n  subnets:\n    - cidr: 192.0.2.0/24\n      range: 192.0.2.100-192.0.2.200\n      router: %s\n' "$SERVER_IP" ;;
	esac
}

# write_inventory MODE writes the inventory rackboot serves from.
write_inventory() {
	local mode=$1
	cat >"$WORK/rackboot.yaml" <<EOF
server:
  interface: br0
  address: $SERVER_IP
  http_port: $HTTP_PORT
  assets: $PAYLOAD_DIR
  data_dir: $WORK/data
$(dhcp_section "$mode")
profiles:
  demo:
    kernel: vmlinuz
    initrd: [initrd.gz]
    cmdline: "console=ttyS0 panic=-1 rackboot.e2e=$mode rackboot.host={{.Machine.Hostname}}$(report_arg)"
$([ "$mode" = pxelinux ] && echo '    loader: pxelinux')
$(case $mode in *secureboot) echo '    loader: grub' ;; *sbipxe) echo '    loader: ipxe' ;; *sbauto) echo '    loader: auto' ;; esac)
$([[ $mode == adopt-* ]] || printf 'machines:\n  - mac: "%s"\n    hostname: node1\n    profile: demo\ndefault_profile: demo\n' "$VM_MAC")
EOF
	# adopt-*: no rule gives the VM a profile; it is held in the
	# no-profile retry loop until the admin API adopts it.
	if [[ $mode == adopt-* ]]; then
		printf 'lab-admin-token-%s\n' "$$" >"$WORK/admin-token"
		sed -i "s#^server:\$#server:\n  discover_hold: true\n  admin_token_file: $WORK/admin-token#" "$WORK/rackboot.yaml"
	fi
	mkdir -p "$WORK/data"
}

# report_arg is the kernel argument that makes the payload report to the
# timeline (LAB_REPORT=1; docs/observe.md), else nothing.
report_arg() {
	[ "${LAB_REPORT:-0}" = 1 ] && printf ' rackboot.report=http://%s:%s/api/v1/report' "$SERVER_IP" "$HTTP_PORT"
	return 0
}

# handshake STEP: with LAB_READY_FILE set (the dashboard e2e test), tell
# the test that STEP is reached (the namespace name in LAB_READY_FILE.STEP)
# and wait up to 5 minutes for it to create LAB_READY_FILE.STEP.go.
handshake() {
	[ -n "${LAB_READY_FILE:-}" ] || return 0
	local f=$LAB_READY_FILE.$1 i
	echo "$NS" >"$f.tmp" && mv "$f.tmp" "$f"
	log "handshake: $1 reached, waiting for $f.go"
	for i in $(seq 600); do
		[ -e "$f.go" ] && return 0
		sleep 0.5
	done
	die "handshake: $f.go did not appear within 5 minutes"
}

# report_ok checks that the payload's report reached the timeline: the
# VM's machine is "booted" in /api/v1/machines/MAC.
report_ok() {
	[ "${LAB_REPORT:-0}" = 1 ] || return 0
	in_ns curl -sf "http://$SERVER_IP:$HTTP_PORT/api/v1/machines/$VM_MAC" >"$WORK/machine.json" ||
		{ log "FAIL: GET /api/v1/machines/$VM_MAC failed"; return 1; }
	if ! grep -q '"state": "booted"' "$WORK/machine.json"; then
		log "FAIL: the payload's report did not reach the timeline:"
		cat "$WORK/machine.json" >&2
		return 1
	fi
	log "timeline: $VM_MAC booted ($(grep -o '"boot_seconds": [0-9.]*' "$WORK/machine.json"))"
}

# start_server starts rackboot in the namespace and waits until its HTTP
# server answers. Its log goes to $WORK/rackboot.log.
start_server() {
	[ -x "$RACKBOOT_BIN" ] || die "$RACKBOOT_BIN is not built (make build)"
	in_ns "$RACKBOOT_BIN" check --config "$WORK/rackboot.yaml" >"$WORK/check.log" 2>&1 ||
		{ cat "$WORK/check.log" >&2; die "rackboot check rejected the lab inventory"; }
	local -a as=()
	[ "${LAB_UNPRIVILEGED:-0}" = 1 ] && unprivileged as
	# Not through in_ns: a function run in the background is a subshell,
	# and SERVER_PID must be rackboot itself (ip and setpriv exec it).
	ip netns exec "$NS" "${as[@]}" "$RACKBOOT_BIN" serve --config "$WORK/rackboot.yaml" --interface br0 \
		--log-level debug </dev/null >"$WORK/rackboot.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_http "$SERVER_PID" rackboot
	[ "${LAB_UNPRIVILEGED:-0}" = 1 ] && privileges_ok "$SERVER_PID"
	return 0
}

# unprivileged VAR sets the array VAR to the setpriv command that runs
# rackboot as nobody with exactly the AmbientCapabilities of the systemd
# unit, and hands the files it writes to nobody.
unprivileged() {
	local -n cmd=$1
	local unit=$REPO_ROOT/deploy/systemd/rackboot.service c list=""
	command -v setpriv >/dev/null || die "setpriv missing (apt-get install util-linux)"
	for c in $(sed -n 's/^AmbientCapabilities=//p' "$unit"); do
		list+=",+$(tr 'A-Z' 'a-z' <<<"${c#CAP_}")"
	done
	[ -n "$list" ] || die "no AmbientCapabilities= in $unit"
	UNPRIV_CAPS=${list#,}
	chmod 0755 "$WORK"
	chown nobody:nogroup "$WORK/data"
	cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs
		"--inh-caps=-all$list" "--ambient-caps=-all$list" "--bounding-set=-all$list")
	log "rackboot runs as nobody with capabilities ${UNPRIV_CAPS//+/} only"
}

# privileges_ok PID checks that the server runs as nobody and that its
# effective, permitted and bounding capability sets hold exactly the
# unit's capabilities.
privileges_ok() {
	local pid=$1 want=0 c bit
	for c in ${UNPRIV_CAPS//,/ }; do
		case ${c#+} in
		net_bind_service) bit=10 ;;
		net_raw) bit=13 ;;
		*) die "privileges_ok knows no capability $c" ;;
		esac
		want=$((want | 1 << bit))
	done
	want=$(printf '%016x' "$want")
	local comm uid eff prm bnd
	comm=$(cat "/proc/$pid/comm")
	uid=$(awk '/^Uid:/ {print $2 "/" $3}' "/proc/$pid/status")
	eff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
	prm=$(awk '/^CapPrm:/ {print $2}' "/proc/$pid/status")
	bnd=$(awk '/^CapBnd:/ {print $2}' "/proc/$pid/status")
	if [ "$comm" != rackboot ] || [ "$uid" != "$(id -u nobody)/$(id -u nobody)" ] ||
		[ "$eff" != "$want" ] || [ "$prm" != "$want" ] || [ "$bnd" != "$want" ]; then
		die "FAIL: pid $pid ($comm) runs as uid $uid with CapEff $eff CapPrm $prm CapBnd $bnd, want nobody with $want"
	fi
	log "privileges: $comm (pid $pid) uid $uid, CapEff=CapPrm=CapBnd=$eff"
}

# wait_http PID NAME waits up to 15 s for the HTTP port to accept a
# connection (no request is sent, so none shows in the server's log).
wait_http() {
	local pid=$1 name=$2 i
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || { server_log_tail; die "$name exited during start-up"; }
		if in_ns timeout 1 bash -c "exec 3<>/dev/tcp/$SERVER_IP/$HTTP_PORT" 2>/dev/null; then
			log "$name is up (pid $pid)"
			return 0
		fi
		sleep 0.1
	done
	server_log_tail
	die "$name's HTTP server did not answer on $SERVER_IP:$HTTP_PORT within 15 s"
}

server_log_tail() {
	[ -f "$WORK/rackboot.log" ] || return 0
	echo "----- server log (last 60 lines): $WORK/rackboot.log" >&2
	tail -n 60 "$WORK/rackboot.log" >&2
}

console_tail() {
	[ -f "$WORK/console.log" ] || return 0
	echo "----- VM console (last 60 lines): $WORK/console.log" >&2
	tail -n 60 "$WORK/console.log" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >&2
	echo >&2 # the console rarely ends with a newline
}

# start_vm MODE boots the guest in the background; console to $WORK/console.log.
start_vm() {
	local mode=$1 nic=virtio-net-pci,netdev=n0,mac=$VM_MAC mem=512
	local -a fw=()
	case ${mode##*-} in
	bios | pxelinux) ;;
	# Secure Boot firmware PXE (no iPXE ROM); secureboot: loader grub,
	# sbipxe: loader ipxe (refused), sbauto: loader auto (refused, then
	# the signed chain)
	secureboot | sbipxe | sbauto)
		[ -f "$OVMF_SB_CODE" ] || die "$OVMF_SB_CODE missing (apt-get install ovmf)"
		cp "$OVMF_SB_VARS" "$WORK/OVMF_VARS.fd"
		# TCG runs Shim, GRUB and lock-step TFTP slowly: 2-3 minutes here
		mem=1024 nic+=,romfile= BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-480}
		fw=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_SB_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd")
		# httpboot-secureboot: UEFI HTTP Boot over IPv4 alone (PXE and
		# IPv6 off); rackboot hands it its Secure Boot disk image
		[[ $mode == *httpboot-secureboot ]] && fw+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
			-fw_cfg name=opt/org.tianocore/IPv6Support,string=n)
		;;
	uefi | httpboot | uefiipxe)
		[ -f "$OVMF_CODE" ] || die "$OVMF_CODE missing (apt-get install ovmf)"
		cp "$OVMF_VARS" "$WORK/OVMF_VARS.fd"
		fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd")
		case ${mode##*-} in
		# no iPXE ROM: the firmware's own PXE loads ipxe.efi over TFTP
		uefi) nic+=,romfile= ;;
		# UEFI HTTP Boot alone: OVMF's PXE switched off, no iPXE ROM
		httpboot)
			nic+=,romfile=
			fw+=(-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
				-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n)
			;;
		esac # uefiipxe: QEMU's iPXE EFI ROM on the NIC does the network boot
		;;
	*) die "unknown firmware in mode $mode (bios, uefi, httpboot or uefiipxe)" ;;
	esac
	VM_START=$(date +%s.%N)
	in_ns timeout --kill-after=5 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-accel tcg -m "$mem" -nographic -no-reboot "${fw[@]}" "${EXTRA_FW[@]}" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device "$nic" -boot n \
		</dev/null >"$WORK/console.log" 2>"$WORK/qemu.err" &
	VM_PID=$!
	PIDS+=("$VM_PID")
	log "booting $mode VM (pid $VM_PID, up to $BOOT_TIMEOUT s)"
}

# forget_pid drops a reaped process from PIDS so that cleanup never signals a
# pid the system may have handed to someone else.
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# wait_vm waits for the guest to power off; sets VM_RC and VM_SECONDS.
wait_vm() {
	VM_RC=0
	wait "$VM_PID" || VM_RC=$?
	forget_pid "$VM_PID"
	VM_SECONDS=$(awk -v a="$(date +%s.%N)" -v b="$VM_START" 'BEGIN{printf "%.1f", a-b}')
}

# console_ok MODE reports whether the console shows the marker and then the
# kernel command line the profile asked for. The kernel's own "Command line:"
# line does not count: only the payload's /init prints "cmdline: ".
console_ok() {
	local mode=$1 clean
	clean=$(tr -d '\r' <"$WORK/console.log")
	grep -qx "$MARKER" <<<"$clean" &&
		grep -E "^cmdline: " <<<"$clean" | grep -qw "rackboot.e2e=$mode"
}

# summarize prints what rackboot logged, one count per message.
summarize() {
	[ -f "$WORK/rackboot.log" ] || return 0
	log "rackboot events: $(grep -o 'msg="[^"]*"' "$WORK/rackboot.log" | sort | uniq -c |
		awk '{c=$1; $1=""; sub(/^ msg=/, ""); printf "%s%s x%d", sep, $0, c; sep=", "}' || true)"
}

# start_plain_dhcp MODE runs dnsmasq as the network's own DHCP server, with
# no boot options at all: on br0 beside rackboot (proxy-bios, proxy-uefi),
# or in a namespace of its own joined to the bridge by a veth pair
# (proxy-peer-*). Its log goes to $WORK/dnsmasq.log.
start_plain_dhcp() {
	local mode=$1 ns=$NS dev=br0 addr=$SERVER_IP
	command -v dnsmasq >/dev/null || die "dnsmasq missing (apt-get install dnsmasq-base)"
	if [[ $mode == proxy-peer-* || $mode == doctor-* ]]; then
		PEER_NS=$NS-dhcp ns=$PEER_NS dev=veth-dhcp addr=192.0.2.2
		ip netns add "$PEER_NS" || die "ip netns add $PEER_NS failed"
		in_ns ip link add veth-br type veth peer name veth-dhcp netns "$PEER_NS"
		in_ns ip link set veth-br master br0
		in_ns ip link set veth-br up
		ip netns exec "$PEER_NS" ip addr add "$addr/24" dev "$dev"
		ip netns exec "$PEER_NS" ip link set "$dev" up
	fi
	local -a boot=()
	# off-*: the DHCP server itself points machines at rackboot, with the
	# user-class test that keeps iPXE from loading iPXE again (README).
	[[ $mode == off-* || $mode == doctor-pxe ]] && boot=(--dhcp-userclass=set:ipxe,iPXE
		--dhcp-match=set:efi64,option:client-arch,7
		--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,$SERVER_IP
		--dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,$SERVER_IP
		--dhcp-boot=tag:ipxe,http://$SERVER_IP:$HTTP_PORT/boot.ipxe)
	ip netns exec "$ns" dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts "${boot[@]}" \
		--interface="$dev" --bind-interfaces --dhcp-range=192.0.2.100,192.0.2.200,1h \
		--dhcp-option=option:router,$SERVER_IP --dhcp-leasefile="$WORK/dnsmasq.leases" \
		--pid-file= --log-dhcp --log-facility="$WORK/dnsmasq.log" </dev/null >/dev/null 2>&1 &
	PIDS+=("$!")
	log "plain DHCP server: dnsmasq on $dev ($addr) in namespace $ns (pid $!)"
}

# metrics_ok MODE checks that /metrics counted the boot: DHCP acks in full
# mode, proxy offers in proxy mode, and HTTP never failing to answer.
metrics_ok() {
	local want
	case $1 in
	proxy-*) want=rackboot_proxydhcp_offers_total ;;
	off-*) return 0 ;;
	*) want=rackboot_dhcp_acks_total ;;
	esac
	in_ns curl -sf "http://$SERVER_IP:$HTTP_PORT/metrics" >"$WORK/metrics.txt" ||
		{ log "FAIL: GET /metrics failed"; return 1; }
	if ! awk -v m="$want" '$1 == m && $2 > 0 { found = 1 } END { exit !found }' "$WORK/metrics.txt"; then
		log "FAIL: /metrics shows no $want"
		cat "$WORK/metrics.txt" >&2
		return 1
	fi
	log "metrics: $(grep -v '^#' "$WORK/metrics.txt" | awk '$2 > 0' | tr '\n' ' ')"
}

# proxy_ok MODE checks that rackboot only proxied (proxy-*) or stayed out of
# DHCP (off-*), and that the address came from dnsmasq.
proxy_ok() {
	if [[ $1 == proxy-* ]] && ! grep -q 'msg="proxydhcp offer"' "$WORK/rackboot.log"; then
		log "FAIL: rackboot logged no proxydhcp offer"
		return 1
	fi
	if [[ $1 == off-* ]] && grep -q 'msg="proxydhcp' "$WORK/rackboot.log"; then
		log "FAIL: rackboot answered DHCP with dhcp.mode: off"
		return 1
	fi
	if grep -q 'msg="dhcp offer"' "$WORK/rackboot.log"; then
		log "FAIL: rackboot handed out an address in proxy mode"
		return 1
	fi
	grep -qi "DHCPACK.*$VM_MAC" "$WORK/dnsmasq.log" || { log "FAIL: dnsmasq acked no address to $VM_MAC"; return 1; }
	log "$1: address from dnsmasq ($(grep -i "DHCPACK.*$VM_MAC" "$WORK/dnsmasq.log" | tail -1 | grep -o '192\.0\.2\.[0-9]*' | head -1)), boot information from rackboot"
}

# pxelinux_ok checks that the boot went through PXELINUX: rackboot's log
# shows pxelinux.0, ldlinux.c32, a generated pxelinux.cfg file and the
# kernel sent over TFTP (the console's PXELINUX banner is reported).
pxelinux_ok() {
	local f
	# Only PXELINUX asks for ldlinux.c32 and pxelinux.cfg/ names: the TFTP
	# log below proves it ran. Its banner reaches the serial console only
	# through SeaBIOS's screen-to-serial redraws; on a machine loaded with
	# other VMs it once did not come through although the boot went through
	# PXELINUX. So the banner (cursor sequences stripped) is only reported.
	local banner
	banner=$(tr -d '\r' <"$WORK/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | grep -o 'PXELINUX [0-9][^ ]*' | head -1)
	[ -n "$banner" ] || log "pxelinux: the PXELINUX banner did not come through on the serial console"
	for f in pxelinux.0 ldlinux.c32 'pxelinux.cfg/[^ "]*' vmlinuz initrd.gz; do
		if ! grep 'msg="tftp transfer"' "$WORK/rackboot.log" | grep -q "file=\"\?/\?$f"; then
			log "FAIL: pxelinux: rackboot did not send $f over TFTP"
			return 1
		fi
	done
	log "pxelinux: ${banner:-banner not seen}; TFTP: $(grep 'msg="tftp' "$WORK/rackboot.log" | grep -o 'file="\?[^ "]*' | sed 's/file="\?//' | tr '\n' ' ')"
}

# secureboot_ok checks that the boot went through the signed chain under
# Secure Boot: the kernel says Secure Boot is on, and rackboot's log shows
# Shim, GRUB, a generated grub.cfg, the kernel and the initrd sent over TFTP.
# With UEFI HTTP Boot (httpboot-secureboot, and sbauto, whose attempt after
# the refused PXE one is HTTP Boot) Shim and GRUB come inside the disk
# image over HTTP instead.
secureboot_ok() {
	local f clean files=(secureboot/shimx64.efi secureboot/grubx64.efi)
	clean=$(tr -d '\r' <"$WORK/console.log")
	if ! grep -q 'Secure boot enabled' <<<"$clean"; then
		log "FAIL: secureboot: the kernel did not report 'Secure boot enabled'"
		return 1
	fi
	if [[ ${1:-} == *httpboot-secureboot || ${1:-} == sbauto ]]; then
		files=()
		if ! grep 'msg="http request"' "$WORK/rackboot.log" | grep 'method=GET' | grep -q 'path=/assets/secureboot/httpboot.img .*status=200'; then
			log "FAIL: secureboot: rackboot did not send secureboot/httpboot.img over HTTP"
			return 1
		fi
	fi
	for f in "${files[@]}" '[a-z]*/grub.cfg[^ "]*' vmlinuz initrd.gz; do
		if ! grep 'msg="tftp transfer"' "$WORK/rackboot.log" | grep -q "file=\"\?/\?$f"; then
			log "FAIL: secureboot: rackboot did not send $f over TFTP"
			return 1
		fi
	done
	log "secureboot: $(grep -o -m1 'EFI stub: UEFI Secure Boot is enabled.' <<<"$clean"); TFTP: $(grep 'msg="tftp' "$WORK/rackboot.log" | grep -o 'file="\?[^ "]*' | sed 's/file="\?//' | tr '\n' ' ')"
}

cmd_e2e() {
	local mode=${1:-}
	case $mode in
	bios | uefi | httpboot | uefiipxe | pxelinux | secureboot | proxy-secureboot) ;;
	httpboot-secureboot | proxy-httpboot-secureboot) ;;
	sbipxe | sbauto) cmd_refused "$mode"; return ;;
	proxy-bios | proxy-uefi | proxy-httpboot | proxy-uefiipxe | proxy-peer-bios | proxy-peer-uefi | off-bios | off-uefi) ;;
	*) die "usage: lab.sh e2e bios|uefi|httpboot|uefiipxe|pxelinux|secureboot|httpboot-secureboot|sbipxe|sbauto|proxy-bios|proxy-uefi|proxy-httpboot|proxy-uefiipxe|proxy-secureboot|proxy-httpboot-secureboot|proxy-peer-bios|proxy-peer-uefi|off-bios|off-uefi" ;;
	esac
	ensure_payload
	lab_up
	write_inventory "$mode"
	[[ $mode == proxy-* || $mode == off-* ]] && start_plain_dhcp "$mode"
	start_server
	handshake server
	start_vm "$mode"
	wait_vm
	local cmdline
	cmdline=$(tr -d '\r' <"$WORK/console.log" | grep -m1 -E '^cmdline: ' || true)
	summarize
	if ! console_ok "$mode"; then
		log "FAIL: $mode boot: no '$MARKER' with rackboot.e2e=$mode after ${VM_SECONDS}s (qemu exit $VM_RC)"
		[ -s "$WORK/qemu.err" ] && { echo "----- qemu stderr" >&2; cat "$WORK/qemu.err" >&2; }
		server_log_tail
		console_tail
		exit 1
	fi
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		server_log_tail
		die "FAIL: the VM booted but rackboot exited during the run"
	fi
	# The profile's cmdline is a template (docs/inventory.md), for iPXE
	# scripts and generated pxelinux.cfg files alike.
	if [[ $cmdline != *"rackboot.host=node1"* ]]; then
		server_log_tail
		die "FAIL: the kernel command line was not rendered as a template (want rackboot.host=node1): $cmdline"
	fi
	if ! metrics_ok "$mode"; then
		server_log_tail
		exit 1
	fi
	if ! report_ok; then
		server_log_tail
		console_tail
		exit 1
	fi
	handshake booted
	if [[ $mode == proxy-* || $mode == off-* ]] && ! proxy_ok "$mode"; then
		server_log_tail
		exit 1
	fi
	if [ "$mode" = pxelinux ] && ! pxelinux_ok; then
		server_log_tail
		console_tail
		exit 1
	fi
	if [[ $mode == *secureboot ]] && ! secureboot_ok "$mode"; then
		server_log_tail
		console_tail
		exit 1
	fi
	log "PASS: $mode boot reached the payload in ${VM_SECONDS}s; $cmdline"
	LAB_FAILED=0
}

# cmd_refused MODE boots the Secure Boot VM with a profile whose loader
# hands it unsigned iPXE. sbipxe (loader ipxe): passes when the firmware
# refuses iPXE ("Access Denied" on the console), rackboot logs the refusal
# and its timeline (GET /api/v1/machines/MAC) shows it; the VM is then stopped (it would
# sit in the EFI shell). sbauto (loader auto): the same refusal, then the
# firmware's next attempt gets the signed chain and must reach the payload.
# OVMF's IPv6 is off (no PXE over IPv6, which would wait minutes for a
# DHCPv6 answer), so that its next attempt is HTTP Boot over IPv4: its
# DISCOVER shows the refusal, and (sbauto) it gets the Secure Boot disk
# image.
cmd_refused() {
	local mode=$1 i
	ensure_payload
	lab_up
	write_inventory "$mode"
	start_server
	EXTRA_FW=(-fw_cfg name=opt/org.tianocore/IPv6Support,string=n)
	start_vm "$mode"
	for i in $(seq 1 "$BOOT_TIMEOUT"); do
		grep -q 'msg="firmware refused iPXE' "$WORK/rackboot.log" && break
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 1
	done
	if ! grep -q 'msg="firmware refused iPXE' "$WORK/rackboot.log"; then
		log "FAIL: $mode: rackboot logged no refusal of iPXE"
		server_log_tail
		console_tail
		exit 1
	fi
	log "rackboot: $(grep -m1 'msg="firmware refused iPXE' "$WORK/rackboot.log")"
	if [ "$mode" = sbauto ]; then
		wait_vm
		summarize
		if ! console_ok "$mode" || ! secureboot_ok "$mode"; then
			log "FAIL: sbauto: no payload through the signed chain after the refusal (${VM_SECONDS}s)"
			server_log_tail
			console_tail
			exit 1
		fi
	else
		sleep 5
		kill -TERM "$VM_PID" 2>/dev/null
		wait_vm
		summarize
	fi
	if ! grep -q 'Access Denied' "$WORK/console.log"; then
		log "FAIL: $mode: the console shows no 'Access Denied' from the firmware"
		console_tail
		exit 1
	fi
	in_ns curl -sf "http://$SERVER_IP:$HTTP_PORT/api/v1/machines/$VM_MAC" >"$WORK/machine.json" ||
		{ log "FAIL: GET /api/v1/machines/$VM_MAC failed"; exit 1; }
	if ! grep -q 'firmware refused iPXE' "$WORK/machine.json"; then
		log "FAIL: the timeline at /api/v1/machines/$VM_MAC does not show the refusal"
		cat "$WORK/machine.json" >&2
		exit 1
	fi
	log "console: $(tr -d '\r' <"$WORK/console.log" | grep -m1 -o 'BdsDxe: failed to load.*Access Denied')"
	log "timeline: $(grep -o '"reason": *"firmware refused iPXE[^"]*"' "$WORK/machine.json" | head -1)"
	log "PASS: $mode: the firmware refused iPXE and rackboot reported it$([ "$mode" = sbauto ] && echo ", then booted it through the signed chain in ${VM_SECONDS}s")"
	LAB_FAILED=0
}

# narrate turns rackboot's logrus text lines into one human line per step,
# as they come (mawk needs -W interactive not to wait for a full buffer).
narrate() {
	local -a awk=(awk)
	awk -W version 2>&1 | grep -q mawk && awk+=(-W interactive)
	"${awk[@]}" '
	function parse(line,   rest, k, v, c, i) {
		split("", f)
		rest = line
		while (match(rest, /^ *[A-Za-z_.]+=/)) {
			k = substr(rest, RSTART, RLENGTH - 1); sub(/^ +/, "", k)
			rest = substr(rest, RSTART + RLENGTH)
			if (substr(rest, 1, 1) == "\"") {
				v = ""
				for (i = 2; i <= length(rest); i++) {
					c = substr(rest, i, 1)
					if (c == "\\") { v = v substr(rest, i + 1, 1); i++; continue }
					if (c == "\"") break
					v = v c
				}
				rest = substr(rest, i + 1)
			} else {
				match(rest, /^[^ ]*/); v = substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
			}
			f[k] = v
		}
	}
	function out(s) { print s; fflush() }
	{
		parse($0)
		m = f["msg"]
		if (m == "dhcp offer")         out("[dhcp] offer " f["ip"] " to " f["mac"] (f["bootfile"] != "" ? " boot " f["bootfile"] : ""))
		else if (m == "dhcp ack")      out("[dhcp] ack   " f["ip"] " to " f["mac"] (f["bootfile"] != "" ? " boot " f["bootfile"] : ""))
		else if (m == "tftp transfer") out("[tftp] sent " f["file"] " (" f["size"] " bytes) to " f["client"] " in " f["duration"])
		else if (m == "http request")  out("[http] " f["method"] " " f["path"] " -> " f["status"] (f["bytes"] != "" ? ", " f["bytes"] " bytes" : "") (f["mac"] != "" ? " (" f["mac"] ")" : ""))
		else if (f["level"] == "warning" || f["level"] == "error" || f["level"] == "fatal")
			out("[rackboot] " f["level"] ": " m)
	}'
}

cmd_demo() {
	ensure_payload
	lab_up
	write_inventory bios
	start_server
	log "rackboot serves $SERVER_IP on br0; log $WORK/rackboot.log"
	tail -n +1 -F "$WORK/rackboot.log" 2>/dev/null > >(narrate) &
	PIDS+=($!)
	start_vm bios
	wait_vm
	sleep 0.3 # let the narrator catch up
	local lines
	lines=$(tr -d '\r' <"$WORK/console.log" | grep -A1 -x "$MARKER" || true)
	if [ -n "$lines" ] && console_ok bios; then
		sed 's/^/[vm] /' <<<"$lines"
		log "the VM booted from rackboot and powered off after ${VM_SECONDS}s"
		LAB_FAILED=0
	else
		log "the VM did not reach the payload (${VM_SECONDS}s, qemu exit $VM_RC)"
		console_tail
		exit 1
	fi
}

# cmd_doctor MODE runs `rackboot doctor --interface br0` in the lab with
# no DHCP server (none), a plain dnsmasq (plain) or a dnsmasq that sends
# PXE boot options (pxe), both in a namespace of their own on the bridge,
# and checks what it found and recommended.
cmd_doctor() {
	local mode=${1:-} want answer
	case $mode in
	none) want="recommendation: full mode" answer="^  none$" ;;
	plain) want="recommendation: proxy mode" answer="^  192\.0\.2\.2: DHCP server, no boot options, offers 192\.0\.2\.[0-9]+( \(next-server 192\.0\.2\.2\))?$" ;;
	pxe) want="recommendation: off mode" answer="^  192\.0\.2\.2: DHCP server with boot options, offers 192\.0\.2\.[0-9]+ \(next-server 192\.0\.2\.1, boot file \"undionly\.kpxe\"\)$" ;;
	*) die "usage: lab.sh doctor none|plain|pxe" ;;
	esac
	[ -x "$RACKBOOT_BIN" ] || die "$RACKBOOT_BIN is not built (make build)"
	lab_up
	mkdir -p "$WORK/data"
	if [ "$mode" != none ]; then
		start_plain_dhcp "doctor-$mode"
		sleep 1 # dnsmasq binds its socket
	fi
	in_ns "$RACKBOOT_BIN" doctor --interface br0 --timeout 5s >"$WORK/doctor.txt" 2>&1 ||
		{ cat "$WORK/doctor.txt" >&2; die "FAIL: rackboot doctor exited $?"; }
	sed 's/^/[doctor] /' "$WORK/doctor.txt" >&2
	grep -qE "$answer" "$WORK/doctor.txt" || die "FAIL: doctor $mode: no line matching $answer"
	grep -qx "$want" "$WORK/doctor.txt" || die "FAIL: doctor $mode: no '$want'"
	grep -q '^  run: rackboot serve ' "$WORK/doctor.txt" || die "FAIL: doctor $mode: no command"
	grep -qE '^interface br0: up, mtu 1500, 192\.0\.2\.1/24$' "$WORK/doctor.txt" || die "FAIL: doctor $mode: interface line"
	for p in udp/67 udp/69 udp/4011 tcp/8080; do
		grep -qE "^  $p +.* free$" "$WORK/doctor.txt" || die "FAIL: doctor $mode: $p not reported free"
	done
	log "PASS: doctor $mode: $want"
	LAB_FAILED=0
}

# cmd_adopt boots a BIOS VM that no rule gives a profile (full mode,
# server.discover_hold), waits until GET /api/v1/machines?state=discovered
# lists it with its firmware facts, adopts it with `rackboot machines
# add`, and passes when the VM boots the profile on its next retry.
cmd_adopt() {
	local mode=adopt-bios i found=""
	ensure_payload
	lab_up
	write_inventory "$mode"
	start_server
	start_vm "$mode"
	for i in $(seq 1 180); do
		kill -0 "$VM_PID" 2>/dev/null || break
		if in_ns curl -sf "http://$SERVER_IP:$HTTP_PORT/api/v1/machines?state=discovered" >"$WORK/discovered.json" 2>/dev/null &&
			grep -q "\"mac\": \"$VM_MAC\"" "$WORK/discovered.json"; then
			found=1
			break
		fi
		sleep 1
	done
	[ -n "$found" ] || { server_log_tail; console_tail; die "FAIL: $VM_MAC never listed as discovered"; }
	grep -q '"vendor_class": "PXEClient' "$WORK/discovered.json" && grep -q '"first_seen"' "$WORK/discovered.json" ||
		{ cat "$WORK/discovered.json" >&2; die "FAIL: the discovered record lacks the vendor class or first_seen"; }
	log "discovered after ${i}s: $(tr -d ' \n' <"$WORK/discovered.json" | grep -o '"discovered":{[^}]*}' | head -1)"
	# Wait until it sits in the no-profile loop; nobody touches the VM.
	for i in $(seq 1 90); do
		grep -aq "has no boot profile" "$WORK/console.log" && break
		sleep 1
	done
	grep -aq "has no boot profile" "$WORK/console.log" ||
		{ server_log_tail; console_tail; die "FAIL: the VM is not in the no-profile retry loop"; }
	in_ns "$RACKBOOT_BIN" machines add "$VM_MAC" --profile demo --hostname adopted1 \
		--server "http://$SERVER_IP:$HTTP_PORT" --token-file "$WORK/admin-token" >"$WORK/adopt.log" 2>&1 ||
		{ cat "$WORK/adopt.log" >&2; die "FAIL: rackboot machines add failed"; }
	log "adopted $VM_MAC with profile demo; waiting for its next retry"
	wait_vm
	summarize
	console_ok "$mode" || { server_log_tail; console_tail; die "FAIL: the adopted VM did not boot its profile (${VM_SECONDS}s)"; }
	grep -aq "rackboot.host=adopted1" "$WORK/console.log" ||
		{ console_tail; die "FAIL: the kernel command line lacks the hostname given at adoption"; }
	log "PASS: adopted VM booted its profile in ${VM_SECONDS}s from power-on"
	LAB_FAILED=0
}

# cmd_flood floods full-mode rackboot (pool 192.0.2.100-200, conflict
# detection on, as by default) with 100,000 DISCOVERs from distinct random
# MACs that never REQUEST (perfdhcp -i, 5,000/s, acting as a relay from a
# namespace of its own on the bridge), sampling rackboot's resident
# memory, then boots a BIOS VM. Passes when the VM reaches the payload,
# the peak memory stayed under LAB_FLOOD_MAX_MIB (200) and no DISCOVER
# found the pool used up (issue 13: offers lapse; the oldest offer goes
# to the next client).
cmd_flood() {
	local mode=flood-bios rss peak=0 before sent got
	command -v perfdhcp >/dev/null || die "perfdhcp missing (apt-get install kea-admin)"
	ensure_payload
	lab_up
	write_inventory "$mode"
	start_server
	PEER_NS=$NS-flood
	ip netns add "$PEER_NS" || die "ip netns add $PEER_NS failed"
	in_ns ip link add vflood type veth peer name fl0 netns "$PEER_NS"
	in_ns ip link set vflood master br0
	in_ns ip link set vflood up
	ip -n "$PEER_NS" link set lo up
	ip -n "$PEER_NS" addr add 192.0.2.3/24 dev fl0
	ip -n "$PEER_NS" link set fl0 up
	before=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
	ip netns exec "$PEER_NS" timeout 60 perfdhcp -4 -l fl0 -i -r 5000 -R 16000000 -n 100000 -p 40 "$SERVER_IP" \
		>"$WORK/flood.out" 2>&1 &
	local fl=$!
	PIDS+=("$fl")
	while kill -0 "$fl" 2>/dev/null; do
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
		[ "${rss:-0}" -gt "$peak" ] && peak=$rss
		sleep 0.2
	done
	wait "$fl" || true
	sent=$(awk '/Statistics for: DISCOVER-OFFER/ {s=1} s && /^sent packets:/ {print $3; exit}' "$WORK/flood.out")
	got=$(awk '/Statistics for: DISCOVER-OFFER/ {s=1} s && /^received packets:/ {print $3; exit}' "$WORK/flood.out")
	log "flood: $sent DISCOVERs from distinct MACs, $got OFFERs; rackboot resident memory $((before / 1024)) MiB before, peak $((peak / 1024)) MiB"
	[ "${sent:-0}" -ge 90000 ] || { cat "$WORK/flood.out" >&2; die "FAIL: perfdhcp sent ${sent:-0} DISCOVERs, not a flood"; }
	[ $((peak / 1024)) -lt "${LAB_FLOOD_MAX_MIB:-200}" ] || die "FAIL: rackboot's memory peaked at $((peak / 1024)) MiB under the flood"
	local m
	m=$(in_ns curl -sf "http://$SERVER_IP:$HTTP_PORT/metrics")
	grep -q '^rackboot_dhcp_pool_exhausted_total 0$' <<<"$m" ||
		{ grep '^rackboot_dhcp_' <<<"$m" >&2; die "FAIL: a DISCOVER found the pool used up during the flood"; }
	start_vm "$mode"
	wait_vm
	summarize
	console_ok "$mode" || { server_log_tail; console_tail; die "FAIL: the VM did not boot after the flood (${VM_SECONDS}s)"; }
	log "PASS: after $sent DISCOVERs the VM got an address and booted in ${VM_SECONDS}s"
	LAB_FAILED=0
}

main() {
	case ${1:-} in
	e2e) shift; cmd_e2e "$@" ;;
	e2e6) shift; exec bash "$LAB_DIR/lab6.sh" e2e "$@" ;; # IPv6 (lab6.sh)
	adopt) cmd_adopt ;;
	flood) cmd_flood ;;
	doctor) shift; cmd_doctor "$@" ;;
	demo) cmd_demo ;;
	*) echo "usage: $0 e2e bios|uefi | demo" >&2; exit 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	main "$@"
fi
