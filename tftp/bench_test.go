package tftp

import (
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"testing"
)

// BenchmarkTransfer fetches a 4 MiB file over 127.0.0.1 with the package's
// own client, lock-step (no windowsize) and with windowsize 8, at the block
// sizes of bench/tftp/run.sh, with each kind of transfer socket. The client runs in the same process, so a CPU
// profile holds both ends; the figures that count are bench/tftp/run.sh's,
// against the peer servers. Run with
//
//	go test -run '^$' -bench Transfer -cpuprofile cpu.out ./tftp
func BenchmarkTransfer(b *testing.B) {
	const size = 4 << 20
	dir := b.TempDir()
	want := randBytes(rand.New(rand.NewSource(3)), size)
	write(b, filepath.Join(dir, "big"), want)
	for _, kind := range socketKinds {
		_, addr := startServer(b, dir, Options{BlockingTransfers: kind.blocking})
		for _, win := range []int{0, 8} {
			for _, blk := range []int{512, 1468, 8192} {
				b.Run(fmt.Sprintf("%s/blksize=%d/windowsize=%d", kind.name, blk, win), func(b *testing.B) {
					b.SetBytes(size)
					for b.Loop() {
						res, err := Fetch(addr, "big", ClientOptions{BlockSize: blk, WindowSize: win}, io.Discard)
						if err != nil {
							b.Fatal(err)
						}
						if res.Bytes != size {
							b.Fatalf("got %d bytes, want %d", res.Bytes, size)
						}
					}
				})
			}
		}
	}
}
