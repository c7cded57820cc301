#!/bin/bash
# payload.sh builds the end-to-end test payload: Debian's kernel as vmlinuz and
# a busybox initramfs as initrd.gz whose /init prints a marker and the kernel
# command line on the console, then powers the machine off. When the command
# line carries rackboot.report=URL (docs/observe.md), /init first loads the
# virtio network driver (modules of the same kernel, in the initramfs), gets
# an address with udhcpc and reports "booted" to URL?mac=...&state=booted.
#
# Usage: payload.sh [DIR]   (default $RACKBOOT_PAYLOAD_DIR or /var/cache/rackboot-lab)
# Idempotent: files already present are kept. Needs apt-get, dpkg-deb, cpio,
# gzip and busybox-static; needs no root except to write the default DIR.
set -euo pipefail

dir=${1:-${RACKBOOT_PAYLOAD_DIR:-/var/cache/rackboot-lab}}
marker=RACKBOOT-E2E-MARKER
# format of initrd.gz; a cached one of another format is rebuilt.
format=2
mkdir -p "$dir"

work=$(mktemp -d)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

# fetch_kernel PKG unpacks a kernel package into $work/kernel.
fetch_kernel() {
	local pkg=$1
	[ -d "$work/kernel/boot" ] && return 0
	echo "payload: fetching $pkg" >&2
	(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
	dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
}

build_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "payload: apt-cache depends linux-image-amd64 names no kernel package (apt-get update?)" >&2
		exit 1
	fi
	fetch_kernel "$pkg"
	local vmlinuz
	vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n1)
	local tmp; tmp=$(mktemp "$dir/.vmlinuz.XXXXXX")
	cp "$vmlinuz" "$tmp"
	chmod 0644 "$tmp"
	mv "$tmp" "$dir/vmlinuz"
}

# kernel_version prints the version of $dir/vmlinuz (6.1.0-48-amd64).
kernel_version() {
	LC_ALL=C grep -a -o -m1 -E '[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-amd64 \(debian-kernel' "$dir/vmlinuz" | cut -d' ' -f1
}

# The virtio network driver and what it needs, in load order.
MODULES="virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev virtio/virtio_pci
../net/core/failover net/net_failover net/virtio_net"

# add_modules ROOT copies the network modules of vmlinuz's kernel into ROOT.
add_modules() {
	local root=$1 ver m
	ver=$(kernel_version)
	[ -n "$ver" ] || { echo "payload: cannot read the kernel version of $dir/vmlinuz" >&2; exit 1; }
	fetch_kernel "linux-image-$ver"
	mkdir -p "$root/lib/modules"
	for m in $MODULES; do
		cp "$work/kernel/lib/modules/$ver/kernel/drivers/$m.ko" "$root/lib/modules/" ||
			{ echo "payload: $m.ko missing from linux-image-$ver" >&2; exit 1; }
	done
}

build_initrd() {
	local bb=/bin/busybox root=$work/initrd
	if [ ! -x "$bb" ] || ! file_is_static "$bb"; then
		echo "payload: needs a static $bb (apt-get install busybox-static)" >&2
		exit 1
	fi
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
	cp "$bb" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	add_modules "$root"
	cat >"$root/init" <<'INIT'
#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
echo "MARKER"
echo "cmdline: $($bb cat /proc/cmdline)"
report=
for w in $($bb cat /proc/cmdline); do
	case $w in rackboot.report=*) report=${w#rackboot.report=} ;; esac
done
if [ -n "$report" ]; then
	$bb mount -t sysfs sysfs /sys
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
		$bb insmod /lib/modules/$m.ko
	done
	$bb ip link set lo up
	$bb ip link set eth0 up
	if $bb udhcpc -i eth0 -s /bin/udhcpc.script -q -n -t 5 -T 2 >/dev/null 2>&1; then
		mac=$($bb cat /sys/class/net/eth0/address)
		up=$($bb cut -d' ' -f1 /proc/uptime)
		if $bb wget -q -O /dev/null "$report?mac=$mac&state=booted&detail=payload+up+after+${up}s"; then
			echo "report: booted sent to $report for $mac"
		else
			echo "report: sending to $report failed"
		fi
	else
		echo "report: no DHCP address, nothing sent"
	fi
fi
$bb poweroff -f
INIT
	sed -i "s/^echo \"MARKER\"/echo \"$marker\"/" "$root/init"
	cat >"$root/bin/udhcpc.script" <<'SCRIPT'
#!/bin/busybox sh
case $1 in bound | renew) /bin/busybox ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" ;; esac
exit 0
SCRIPT
	chmod 0755 "$root/init" "$root/bin/udhcpc.script"
	local tmp; tmp=$(mktemp "$dir/.initrd.XXXXXX")
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$tmp"
	chmod 0644 "$tmp"
	mv "$tmp" "$dir/initrd.gz"
	echo $format >"$dir/initrd.format"
}

# file_is_static reports whether the ELF file $1 names no program
# interpreter (the dynamic busybox package would leave the initramfs unable to
# run /init). Without readelf (binutils) it trusts the file.
file_is_static() {
	command -v readelf >/dev/null || return 0
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'
}

[ -s "$dir/vmlinuz" ] || build_kernel
[ -s "$dir/initrd.gz" ] && [ "$(cat "$dir/initrd.format" 2>/dev/null)" = $format ] || build_initrd
ls -l "$dir/vmlinuz" "$dir/initrd.gz" >&2
