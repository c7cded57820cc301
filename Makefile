# rackboot build, tests and lab. `make help` lists the targets.

GO          ?= go
BIN         := bin/rackboot
VERSION     := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
BOOT_DIR    := assets/boot
BOOT_FILES  := $(BOOT_DIR)/undionly.kpxe $(BOOT_DIR)/ipxe.efi $(BOOT_DIR)/snponly.efi
PXELINUX_FILES := $(BOOT_DIR)/pxelinux.0 $(BOOT_DIR)/lpxelinux.0 $(BOOT_DIR)/ldlinux.c32
# The Secure Boot chain, under the names it is served as (assets.SecureBootDir).
SECBOOT_FILES := $(BOOT_DIR)/secureboot/shimx64.efi $(BOOT_DIR)/secureboot/grubx64.efi
# Kernel + initramfs the lab boots; shared by payload.sh, lab.sh and the e2e tests.
export RACKBOOT_PAYLOAD_DIR ?= /var/cache/rackboot-lab
FUZZTIME    ?= 15s
UNIT_PKGS    = $(shell $(GO) list ./... | grep -v '/e2e$$')

PREFIX      ?= /usr/local
DESTDIR     ?=

.PHONY: help build assets unit e2e test payload lab fuzz clean distclean install

help:
	@echo 'build    bin/rackboot (embeds assets/boot/*; run `make assets` first)'
	@echo 'assets   iPXE, PXELINUX, Shim and GRUB boot programs from Debian packages into assets/boot/'
	@echo 'unit     go vet + unit tests (no root needed)'
	@echo 'e2e      boot BIOS and UEFI VMs in a network namespace (root, QEMU, OVMF)'
	@echo 'test     unit, then e2e'
	@echo 'payload  kernel + busybox initramfs into $$RACKBOOT_PAYLOAD_DIR'
	@echo 'lab      boot one VM and narrate every step (root)'
	@echo 'fuzz     run each fuzz target for $$FUZZTIME'
	@echo 'clean    remove bin/ and the fetched boot programs'
	@echo 'install  the binary, the systemd unit, a sample /etc/rackboot/rackboot.yaml and the rackboot user (root)'

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rackboot

assets: $(BOOT_FILES) $(PXELINUX_FILES) $(SECBOOT_FILES)

# Secure Boot: Debian's shim-signed (Microsoft-signed shim) and
# grub-efi-amd64-signed (Debian-signed GRUB network image, served as the
# grubx64.efi Shim loads from its own folder), without installing them.
$(SECBOOT_FILES) &:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 0755 "$$tmp"; \
	(cd "$$tmp" && apt-get download -q -o APT::Sandbox::User=root shim-signed grub-efi-amd64-signed); \
	for d in "$$tmp"/*.deb; do dpkg-deb -x "$$d" "$$tmp/x"; done; \
	mkdir -p $(BOOT_DIR)/secureboot; \
	install -m 0644 "$$tmp/x/usr/lib/shim/shimx64.efi.signed" $(BOOT_DIR)/secureboot/shimx64.efi; \
	install -m 0644 "$$tmp/x/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" $(BOOT_DIR)/secureboot/grubx64.efi; \
	echo "assets: $(SECBOOT_FILES)"

# PXELINUX (pxelinux.0, lpxelinux.0) and its ldlinux.c32 module, from
# Debian's pxelinux and syslinux-common packages, also without installing.
$(PXELINUX_FILES) &:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 0755 "$$tmp"; \
	(cd "$$tmp" && apt-get download -q -o APT::Sandbox::User=root pxelinux syslinux-common); \
	for d in "$$tmp"/*.deb; do dpkg-deb -x "$$d" "$$tmp/x"; done; \
	for f in PXELINUX/pxelinux.0 PXELINUX/lpxelinux.0 syslinux/modules/bios/ldlinux.c32; do \
		install -m 0644 "$$tmp/x/usr/lib/$$f" $(BOOT_DIR)/$${f##*/}; \
		echo "assets: $(BOOT_DIR)/$${f##*/}"; \
	done

# Fetch Debian's ipxe package without installing it. Its ipxe.efi is an
# absolute symlink into /boot, resolved inside the extracted tree.
$(BOOT_FILES) &:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 0755 "$$tmp"; \
	(cd "$$tmp" && apt-get download -q -o APT::Sandbox::User=root ipxe); \
	dpkg-deb -x "$$tmp"/ipxe_*.deb "$$tmp/x"; \
	for f in undionly.kpxe ipxe.efi snponly.efi; do \
		src="$$tmp/x/usr/lib/ipxe/$$f"; \
		if [ -L "$$src" ]; then \
			l=$$(readlink "$$src"); \
			case $$l in /*) src="$$tmp/x$$l" ;; *) src="$$tmp/x/usr/lib/ipxe/$$l" ;; esac; \
		fi; \
		install -m 0644 "$$src" $(BOOT_DIR)/$$f; \
		echo "assets: $(BOOT_DIR)/$$f"; \
	done

unit:
	$(GO) vet ./...
	$(GO) test -count=1 $(UNIT_PKGS)

# E2E_OUT keeps what the end-to-end tests save (the dashboard screenshots).
E2E_OUT ?= $(CURDIR)/bin/e2e-out
e2e: assets build payload
	mkdir -p $(E2E_OUT)
	$(GO) test -v -count=1 -parallel 2 -timeout 28m -artifacts -outputdir $(E2E_OUT) ./e2e

test: unit e2e

payload:
	testdata/lab/payload.sh "$(RACKBOOT_PAYLOAD_DIR)"

lab: assets build payload
	testdata/lab/lab.sh demo

# Runs every Fuzz* target of every package for FUZZTIME each.
fuzz:
	@set -e; for pkg in $(UNIT_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz: $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf bin
	rm -f $(BOOT_FILES) $(PXELINUX_FILES) $(SECBOOT_FILES)

# Also drops the lab payload cache (a 70 MB kernel download to rebuild).
distclean: clean
	rm -rf "$(RACKBOOT_PAYLOAD_DIR)"

# Installs rackboot as a service (docs/operations.md): the binary, the
# systemd unit, /etc/rackboot/rackboot.yaml unless one exists, and the
# system user the unit runs as. It neither enables nor starts the unit.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/rackboot
	install -D -m 0644 deploy/systemd/rackboot.service $(DESTDIR)/etc/systemd/system/rackboot.service
	sed -i 's#/usr/local/bin/rackboot#$(PREFIX)/bin/rackboot#g' $(DESTDIR)/etc/systemd/system/rackboot.service
	install -d -m 0750 $(DESTDIR)/etc/rackboot
	[ -e $(DESTDIR)/etc/rackboot/rackboot.yaml ] || install -m 0640 deploy/rackboot.yaml $(DESTDIR)/etc/rackboot/rackboot.yaml
	if [ -z "$(DESTDIR)" ]; then \
		getent passwd rackboot >/dev/null || useradd --system --user-group --home-dir /var/lib/rackboot --no-create-home --shell /usr/sbin/nologin rackboot; \
		chgrp rackboot /etc/rackboot /etc/rackboot/rackboot.yaml; \
		systemctl daemon-reload 2>/dev/null || true; \
		echo 'installed; edit /etc/rackboot/rackboot.yaml, then: systemctl enable --now rackboot'; \
	fi
