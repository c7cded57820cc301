package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Opcodes (RFC 1350 section 5, RFC 2347 for OACK).
const (
	opRRQ   uint16 = 1
	opWRQ   uint16 = 2
	opDATA  uint16 = 3
	opACK   uint16 = 4
	opERROR uint16 = 5
	opOACK  uint16 = 6
)

// Error codes (RFC 1350 appendix; 8 from RFC 2347).
const (
	ErrCodeUndefined      uint16 = 0 // "not defined, see error message"
	ErrCodeNotFound       uint16 = 1
	ErrCodeAccess         uint16 = 2
	ErrCodeIllegal        uint16 = 4
	ErrCodeUnknownID      uint16 = 5
	ErrCodeOptionsRefused uint16 = 8
)

// maxPacket is the largest TFTP packet: a DATA packet of the largest
// blksize (RFC 2348: 65464) plus its 4-byte header.
const maxPacket = 65464 + 4

// request is a parsed RRQ or WRQ (RFC 1350 section 5, RFC 2347 section 2).
type request struct {
	op       uint16
	filename string
	mode     string   // lower-case: "octet", "netascii" or "mail"
	opts     []option // in the client's order, names lower-case
}

// option is one name/value pair of a request or an OACK.
type option struct{ name, value string }

// errMalformed is wrapped by parseRequest's errors.
var errMalformed = errors.New("malformed request")

// parseRequest parses a read or write request: opcode, then NUL-terminated
// filename, mode and option name/value pairs. Option names are case-
// insensitive (RFC 2347); a repeated option keeps its first value.
func parseRequest(b []byte) (request, error) {
	if len(b) < 2 {
		return request{}, fmt.Errorf("%w: %d bytes", errMalformed, len(b))
	}
	r := request{op: binary.BigEndian.Uint16(b)}
	if r.op != opRRQ && r.op != opWRQ {
		return request{}, fmt.Errorf("%w: opcode %d is not RRQ or WRQ", errMalformed, r.op)
	}
	fields, err := splitFields(b[2:])
	if err != nil {
		return request{}, err
	}
	if len(fields) < 2 || len(fields)%2 != 0 {
		return request{}, fmt.Errorf("%w: %d fields, want filename, mode and option pairs", errMalformed, len(fields))
	}
	r.filename, r.mode = fields[0], strings.ToLower(fields[1])
	seen := map[string]bool{}
	for i := 2; i < len(fields); i += 2 {
		name := strings.ToLower(fields[i])
		if !seen[name] {
			seen[name] = true
			r.opts = append(r.opts, option{name, fields[i+1]})
		}
	}
	return r, nil
}

// splitFields splits NUL-terminated strings; the last must be terminated.
func splitFields(b []byte) ([]string, error) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, fmt.Errorf("%w: not NUL-terminated", errMalformed)
	}
	parts := bytes.Split(b[:len(b)-1], []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out, nil
}

// appendOACK builds an option acknowledgment (RFC 2347 section 2).
func appendOACK(dst []byte, opts []option) []byte {
	dst = binary.BigEndian.AppendUint16(dst, opOACK)
	for _, o := range opts {
		dst = append(dst, o.name...)
		dst = append(dst, 0)
		dst = append(dst, o.value...)
		dst = append(dst, 0)
	}
	return dst
}

// appendError builds an ERROR packet (RFC 1350 section 5).
func appendError(dst []byte, code uint16, msg string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, opERROR)
	dst = binary.BigEndian.AppendUint16(dst, code)
	dst = append(dst, strings.ReplaceAll(msg, "\x00", "")...)
	return append(dst, 0)
}

// putDataHeader writes a DATA header for block into b[:4].
func putDataHeader(b []byte, block uint16) {
	binary.BigEndian.PutUint16(b, opDATA)
	binary.BigEndian.PutUint16(b[2:], block)
}

// reply is what a client sent during a transfer.
type reply struct {
	op    uint16
	block uint16 // ACK
	code  uint16 // ERROR
	msg   string // ERROR
}

// parseReply parses an ACK or ERROR; anything else is an error.
func parseReply(b []byte) (reply, error) {
	if len(b) < 4 {
		return reply{}, fmt.Errorf("%w: %d bytes", errMalformed, len(b))
	}
	r := reply{op: binary.BigEndian.Uint16(b)}
	switch r.op {
	case opACK:
		r.block = binary.BigEndian.Uint16(b[2:])
	case opERROR:
		r.code = binary.BigEndian.Uint16(b[2:])
		r.msg = string(bytes.TrimRight(b[4:], "\x00"))
	default:
		return reply{}, fmt.Errorf("%w: opcode %d during a read transfer", errMalformed, r.op)
	}
	return r, nil
}
