// Command tftpget fetches one file over TFTP with rackboot's test client
// (tftp.Fetch), which, unlike curl and tftp-hpa, can ask for RFC 7440
// windowsize. It prints the throughput of the best of -n runs. For the
// benchmark in bench/tftp/run.sh; on 127.0.0.1 or inside a namespace only.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rackboot/rackboot/tftp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:69", "server host:port")
	file := flag.String("file", "", "file to fetch")
	blksize := flag.Int("blksize", 1468, "blksize option (0: none)")
	window := flag.Int("windowsize", 0, "windowsize option (0: none)")
	runs := flag.Int("n", 3, "runs; the best is printed")
	flag.Parse()
	best := time.Duration(0)
	var size int64
	var oack map[string]string
	for i := 0; i < *runs; i++ {
		start := time.Now()
		res, err := tftp.Fetch(*addr, *file, tftp.ClientOptions{BlockSize: *blksize, WindowSize: *window, TSize: true}, io.Discard)
		d := time.Since(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tftpget: %s: %v\n", *file, err)
			os.Exit(1)
		}
		if best == 0 || d < best {
			best = d
		}
		size, oack = res.Bytes, res.OACK
	}
	fmt.Printf("%.1f MB/s (%d bytes in %s, OACK %v)\n", float64(size)/best.Seconds()/1e6, size, best.Round(time.Millisecond), oack)
}
