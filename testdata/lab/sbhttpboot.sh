#!/bin/bash
# sbhttpboot.sh shows why UEFI HTTP Boot gets no Secure Boot chain from
# rackboot (docs/secure-boot.md, "UEFI HTTP Boot: blocked with Debian's
# signed GRUB"). In a lab namespace (lab.sh), dnsmasq answers OVMF's HTTP
# Boot (Secure Boot build, Microsoft's keys, PXE off) with Shim's URL,
# next-server and option 66; rackboot (dhcp.mode: off, loader: grub)
# serves HTTP and TFTP. At GRUB's prompt the script types what the doc
# quotes: GRUB's prefix and root, a fresh net_bootp, then the prefix set
# to TFTP by hand, after which the VM boots to the payload. It prints the
# console from GRUB on and exits 0 when GRUB stopped at its prompt with an
# (http,…) prefix and booted once pointed at TFTP by hand.
#
# Usage (as root, after make assets build payload): testdata/lab/sbhttpboot.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

ensure_payload
lab_up
write_inventory off-secureboot
in_ns dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts \
	--dhcp-vendorclass=set:http,HTTPClient --dhcp-option-force=tag:http,60,HTTPClient \
	--dhcp-boot=tag:http,http://$SERVER_IP:$HTTP_PORT/assets/secureboot/shimx64.efi,,$SERVER_IP \
	--dhcp-option=tag:http,66,$SERVER_IP \
	--interface=br0 --bind-interfaces --dhcp-range=192.0.2.100,192.0.2.200,1h \
	--dhcp-option=option:router,$SERVER_IP --dhcp-leasefile="$WORK/dnsmasq.leases" \
	--pid-file= --log-dhcp --log-facility="$WORK/dnsmasq.log" </dev/null >/dev/null 2>&1 &
PIDS+=("$!")
start_server
cp "$OVMF_SB_VARS" "$WORK/OVMF_VARS.fd"
mkfifo "$WORK/in"
exec 3<>"$WORK/in" # GRUB's keyboard: OVMF reads the serial console
in_ns timeout --kill-after=5 300 qemu-system-x86_64 -accel tcg -m 1024 -nographic -no-reboot \
	-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_SB_CODE" \
	-drive "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd" \
	-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n -fw_cfg name=opt/org.tianocore/IPv6Support,string=n \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,mac=$VM_MAC,romfile=" -boot n \
	<&3 >"$WORK/console.log" 2>"$WORK/qemu.err" &
VM_PID=$!
PIDS+=("$VM_PID")
for i in $(seq 240); do
	grep -q 'grub>' "$WORK/console.log" && break
	kill -0 "$VM_PID" 2>/dev/null || die "the VM ended before GRUB's prompt"
	sleep 1
done
log "GRUB's prompt after ${i}s; TFTP requests so far: $(grep -c 'msg="tftp' "$WORK/rackboot.log" || true)"
type_line() { printf '%s\r' "$1" >&3; sleep "${2:-3}"; }
type_line 'echo PREFIX=$prefix ROOT=$root CMDPATH=$cmdpath'
type_line 'insmod http'
type_line 'net_bootp' 15
type_line 'set'
type_line 'set root=tftp,192.0.2.1'
type_line 'set prefix=(tftp,192.0.2.1)/grub'
type_line 'configfile $prefix/grub.cfg' 1
for i in $(seq 240); do
	grep -q "$MARKER" "$WORK/console.log" && break
	kill -0 "$VM_PID" 2>/dev/null || break
	sleep 1
done
tr -d '\r' <"$WORK/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | sed -n '/Welcome to GRUB/,/EFI stub/p' |
	grep -v '^\(feature_\|color_\)' >&2
grep -a -m1 -o 'secureboot: Secure boot enabled' "$WORK/console.log" >&2 || true
grep -q 'PREFIX=(http,' "$WORK/console.log" || die "GRUB's prefix was not (http,…)"
grep -q 'Secure boot enabled' "$WORK/console.log" || die "no boot after pointing GRUB at TFTP by hand"
log "GRUB started by HTTP Boot had an (http,…) prefix and read nothing; pointed at TFTP by hand it booted"
LAB_FAILED=0
