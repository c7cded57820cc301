// Package e2e holds the end-to-end tests: they boot virtual machines from a
// real rackboot binary inside a private network namespace (see
// testdata/lab/lab.sh) and check that each reaches the test payload with the
// kernel command line its profile names.
//
// The tests need root, QEMU, OVMF (for UEFI) and a built bin/rackboot; they
// skip with the reason when something is missing. `make e2e` provides the
// binary and the payload; CI (.ci/run) provides the rest.
package e2e
