#!/bin/bash
# payload.sh builds the end-to-end test payload: Debian's kernel as vmlinuz and
# a busybox initramfs as initrd.gz whose /init prints a marker and the kernel
# command line on the console, then powers the machine off.
#
# Usage: payload.sh [DIR]   (default $RACKBOOT_PAYLOAD_DIR or /var/cache/rackboot-lab)
# Idempotent: files already present are kept. Needs apt-get, dpkg-deb, cpio,
# gzip and busybox-static; needs no root except to write the default DIR.
set -euo pipefail

dir=${1:-${RACKBOOT_PAYLOAD_DIR:-/var/cache/rackboot-lab}}
marker=RACKBOOT-E2E-MARKER
mkdir -p "$dir"

work=$(mktemp -d)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

build_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "payload: apt-cache depends linux-image-amd64 names no kernel package (apt-get update?)" >&2
		exit 1
	fi
	echo "payload: fetching $pkg" >&2
	(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
	dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
	local vmlinuz
	vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n1)
	cp "$vmlinuz" "$dir/vmlinuz.tmp"
	mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
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
	cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "$marker"
echo "cmdline: \$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
	chmod 0755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$dir/initrd.gz.tmp"
	mv "$dir/initrd.gz.tmp" "$dir/initrd.gz"
}

# file_is_static reports whether the ELF file $1 names no program
# interpreter (the dynamic busybox package would leave the initramfs unable to
# run /init). Without readelf (binutils) it trusts the file.
file_is_static() {
	command -v readelf >/dev/null || return 0
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'
}

[ -s "$dir/vmlinuz" ] || build_kernel
[ -s "$dir/initrd.gz" ] || build_initrd
ls -l "$dir/vmlinuz" "$dir/initrd.gz" >&2
