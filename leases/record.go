package leases

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/netip"
	"time"
)

// A record on disk is a header of the payload's length and CRC-32C (both
// big-endian uint32) followed by the payload:
//
//	version(1) state(1) ip(4) expiry-unix-seconds(8)
//	len(1) MAC, len(1) client id, len(1) hostname
const (
	recordVersion = 1
	headerLen     = 8
	// maxPayload bounds a record: three strings of at most 255 bytes.
	maxPayload = 14 + 3*(1+255)
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks the end of the valid part of a log: a record cut short by a
// crash, or damaged.
var errTorn = errors.New("torn or damaged record")

// appendRecord encodes l onto b. Strings longer than 255 bytes are cut.
func appendRecord(b []byte, l Lease) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, recordVersion, byte(l.State))
	ip := l.IP.As4()
	b = append(b, ip[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(l.Expiry.Unix()))
	b = appendShort(b, l.MAC)
	b = appendShort(b, l.ClientID)
	b = appendShort(b, []byte(l.Hostname))
	payload := b[start+headerLen:]
	binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, crcTable))
	return b
}

func appendShort(b, s []byte) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	return append(append(b, byte(len(s))), s...)
}

// decodePayload reads one record's payload.
func decodePayload(p []byte) (Lease, error) {
	if len(p) < 17 || p[0] != recordVersion {
		return Lease{}, fmt.Errorf("record of %d bytes, version %d: %w", len(p), p[0], errTorn)
	}
	l := Lease{State: State(p[1]), IP: netip.AddrFrom4([4]byte(p[2:6]))}
	l.Expiry = time.Unix(int64(binary.BigEndian.Uint64(p[6:14])), 0)
	rest := p[14:]
	var fields [3][]byte
	for i := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return Lease{}, fmt.Errorf("record field %d runs past its end: %w", i, errTorn)
		}
		n := int(rest[0])
		fields[i] = append([]byte(nil), rest[1:1+n]...)
		rest = rest[1+n:]
	}
	if len(fields[0]) > 0 {
		l.MAC = net.HardwareAddr(fields[0])
	}
	if len(fields[1]) > 0 {
		l.ClientID = fields[1]
	}
	l.Hostname = string(fields[2])
	return l, nil
}

// readRecords calls fn for each valid record of r and returns the number
// of bytes they span; it stops without error at the first torn or damaged
// record (what a crash in the middle of a write leaves).
func readRecords(r io.Reader, fn func(Lease)) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	var hdr [headerLen]byte
	buf := make([]byte, maxPayload)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return off, err
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n > maxPayload {
			return off, nil
		}
		p := buf[:n]
		if _, err := io.ReadFull(br, p); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return off, err
		}
		if crc32.Checksum(p, crcTable) != binary.BigEndian.Uint32(hdr[4:8]) {
			return off, nil
		}
		l, err := decodePayload(p)
		if err != nil {
			return off, nil
		}
		fn(l)
		off += headerLen + int64(n)
	}
}
