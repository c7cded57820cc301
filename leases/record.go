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
//
// Version 1 records hold IPv4 leases. Version 2 records, the same with a
// 16-byte ip, hold IPv6 ones (DHCPv6, where the client id is the DUID and
// IAID); only leases6.wal has them, so leases.wal is what it always was.
const (
	recordVersion  = 1
	recordVersion6 = 2
	headerLen      = 8
	// maxPayload bounds a record: three strings of at most 255 bytes.
	maxPayload = 26 + 3*(1+255)
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks the end of the valid part of a log: a record cut short by a
// crash, or damaged.
var errTorn = errors.New("torn or damaged record")

// appendRecord encodes l onto b. Strings longer than 255 bytes are cut.
func appendRecord(b []byte, l Lease) []byte {
	start := len(b)
	if l.IP.Is6() {
		ip := l.IP.As16()
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, recordVersion6, byte(l.State))
		b = append(b, ip[:]...)
	} else {
		ip := l.IP.As4()
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, recordVersion, byte(l.State))
		b = append(b, ip[:]...)
	}
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
	ipLen := 4
	if len(p) > 0 && p[0] == recordVersion6 {
		ipLen = 16
	}
	if len(p) < 13+ipLen || (p[0] != recordVersion && p[0] != recordVersion6) {
		return Lease{}, fmt.Errorf("record of %d bytes, version %d: %w", len(p), p[0], errTorn)
	}
	l := Lease{State: State(p[1])}
	if ipLen == 16 {
		l.IP = netip.AddrFrom16([16]byte(p[2:18]))
	} else {
		l.IP = netip.AddrFrom4([4]byte(p[2:6]))
	}
	l.Expiry = time.Unix(int64(binary.BigEndian.Uint64(p[2+ipLen:10+ipLen])), 0)
	rest := p[10+ipLen:]
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
