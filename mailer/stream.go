package mailer

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	gomail "github.com/wneessen/go-mail"
)

// go-mail lays out the message (headers, encodings, MIME parts, boundaries,
// file names) but encodes each attachment whole in memory before writing
// it: a 10 MiB file costs some 50 MB of allocations per pass. So Prepare
// lets go-mail write the message once with a small random marker in place
// of each file, keeps that skeleton, and WriteTo streams each file's base64
// into the marker's place, formatted exactly as go-mail would (76-character
// lines, each ended by CRLF). The size is then known by arithmetic, and a
// send reads each file once, in fixed-size pieces.

// b64LineLen is go-mail's line length for base64 bodies (MaxBodyLength).
const b64LineLen = 76

// attachedFile is an attachment as Prepare measured it.
type attachedFile struct {
	path string
	size int64
}

// encode renders msg with markers for the files and records the skeleton
// and the exact encoded size.
func (p *Prepared) encode(msg *gomail.Msg, paths []string, sizes []int64) error {
	markers := make([][]byte, len(paths))
	for i, path := range paths {
		// 48 random bytes encode to 64 characters: one line, no padding,
		// and never found in a message by chance.
		raw := make([]byte, 48)
		_, _ = rand.Read(raw)
		markers[i] = []byte(base64.StdEncoding.EncodeToString(raw) + "\r\n")
		if err := msg.AttachReader(filepath.Base(path), bytes.NewReader(raw), gomail.WithFileName(filepath.Base(path))); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return err
	}
	rest := buf.Bytes()
	p.parts, p.files, p.Size = nil, nil, 0
	for i, mk := range markers {
		at := bytes.Index(rest, mk)
		if at < 0 {
			return errors.New("attachment marker not found in the encoded message")
		}
		p.parts = append(p.parts, rest[:at])
		p.files = append(p.files, attachedFile{path: paths[i], size: sizes[i]})
		p.Size += int64(at) + base64Size(sizes[i])
		rest = rest[at+len(mk):]
	}
	// A message ends with a line break: the wire adds one before the final
	// dot anyway, and the copy kept in Sent must be the bytes that went.
	if !bytes.HasSuffix(rest, []byte("\r\n")) {
		rest = append(rest[:len(rest):len(rest)], '\r', '\n')
	}
	p.parts = append(p.parts, rest)
	p.Size += int64(len(rest))
	return nil
}

// base64Size is the length of n bytes in base64 as go-mail writes it.
func base64Size(n int64) int64 {
	enc := (n + 2) / 3 * 4
	lines := (enc + b64LineLen - 1) / b64LineLen
	return enc + 2*lines
}

// WriteTo writes the encoded message (headers and body, CRLF line endings),
// exactly Size bytes. Attachments are read from their files as it goes, in
// fixed-size pieces; a file whose size changed since Prepare is an error
// rather than a different message than the one checked.
func (p *Prepared) WriteTo(w io.Writer) (int64, error) {
	for _, f := range p.files {
		fi, err := os.Stat(f.path)
		if err != nil {
			return 0, attachmentChanged(f.path, err.Error())
		}
		if fi.Size() != f.size {
			return 0, attachmentChanged(f.path, fmt.Sprintf("it changed since it was checked (%d bytes, now %d)", f.size, fi.Size()))
		}
	}
	var total int64
	for i, part := range p.parts {
		n, err := w.Write(part)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if i < len(p.files) {
			n, err := writeFileBase64(w, p.files[i])
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// attachmentChanged is the error for a file that could not be sent as it
// was checked: the message is abandoned before its final dot, so nothing
// half-written is delivered.
func attachmentChanged(path, why string) error {
	return &Error{Kind: KindInvalidMessage, Detail: fmt.Sprintf("attachment %q cannot be sent: %s; nothing was sent", path, why)}
}

// b64Chunk is how much of a file is read at a time: a whole number of
// 57-byte groups, each of which is one 76-character line.
const b64Chunk = 57 * 1024

// writeFileBase64 writes f's content in base64, 76 characters and CRLF a
// line.
func writeFileBase64(w io.Writer, f attachedFile) (int64, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return 0, attachmentChanged(f.path, err.Error())
	}
	defer file.Close()
	// A goroutine reads and encodes the next piece while this one is
	// written: on two cores the encoding is then mostly hidden behind the
	// TLS encryption or the disk write.
	type piece struct {
		b   []byte
		err error // after b: the read failed or the size changed
	}
	const depth = 2
	pieces := make(chan piece, depth)
	free := make(chan []byte, depth+1)
	for range depth + 1 {
		free <- make([]byte, 0, b64Chunk/57*(b64LineLen+2))
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(pieces)
		in := make([]byte, b64Chunk)
		var read int64
		for {
			n, err := io.ReadFull(file, in)
			read += int64(n)
			var perr error
			switch {
			case read > f.size:
				perr = attachmentChanged(f.path, "it grew while it was being sent")
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				if read != f.size {
					perr = attachmentChanged(f.path, "it shrank while it was being sent")
				}
			case err != nil:
				perr = attachmentChanged(f.path, err.Error())
			}
			var out []byte
			if n > 0 && perr == nil {
				select {
				case out = <-free:
				case <-stop:
					return
				}
				out = appendBase64Lines(out[:0], in[:n])
			}
			last := perr != nil || err != nil
			select {
			case pieces <- piece{out, perr}:
			case <-stop:
				return
			}
			if last {
				return
			}
		}
	}()
	var written int64
	for p := range pieces {
		if len(p.b) > 0 {
			m, werr := w.Write(p.b)
			written += int64(m)
			if werr != nil {
				return written, werr
			}
			free <- p.b
		}
		if p.err != nil {
			return written, p.err
		}
	}
	return written, nil
}

// appendBase64Lines appends src in base64, broken into lines. src must be a
// whole number of 57-byte groups, except for the last piece of a file.
func appendBase64Lines(dst, src []byte) []byte {
	// Whole 57-byte groups are encoded in one call, then cut into lines:
	// one call per line costs more than the encoding.
	whole := len(src) / 57 * 57
	if whole > 0 {
		enc := base64.StdEncoding.EncodedLen(whole)
		start := len(dst)
		dst = slices.Grow(dst, enc+enc/b64LineLen*2+b64LineLen+4)
		dst = dst[:start+enc]
		base64.StdEncoding.Encode(dst[start:], src[:whole])
		// Spread the lines out from the end, adding CRLFs, in place.
		lines := enc / b64LineLen
		dst = dst[:start+enc+2*lines]
		for i := lines - 1; i >= 0; i-- {
			from := start + i*b64LineLen
			to := start + i*(b64LineLen+2)
			copy(dst[to:to+b64LineLen], dst[from:from+b64LineLen])
			dst[to+b64LineLen], dst[to+b64LineLen+1] = '\r', '\n'
		}
		src = src[whole:]
	}
	if len(src) > 0 {
		var line [b64LineLen]byte
		n := base64.StdEncoding.EncodedLen(len(src))
		base64.StdEncoding.Encode(line[:n], src)
		dst = append(dst, line[:n]...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// dotWriter writes a message body for DATA: a dot doubled at the start of
// each line, bare LF made CRLF, and the final ".\r\n" on Close. It replaces
// net/textproto's DotWriter, which goes byte by byte through a 4 KiB buffer
// (3,500 writes and some 60 ms of CPU for a 10 MiB attachment).
type dotWriter struct {
	w      *bufio.Writer
	bol    bool // at the beginning of a line
	lastCR bool // the last byte written was '\r'
}

func newDotWriter(w io.Writer) *dotWriter {
	return &dotWriter{w: bufio.NewWriterSize(w, 64<<10), bol: true}
}

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.bol && p[0] == '.' {
			d.w.WriteByte('.')
		}
		d.bol = false
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.w.Write(p)
			d.lastCR = p[len(p)-1] == '\r'
			break
		}
		crlf := (i > 0 && p[i-1] == '\r') || (i == 0 && d.lastCR)
		d.w.Write(p[:i])
		if !crlf {
			d.w.WriteByte('\r')
		}
		d.w.WriteByte('\n')
		d.bol, d.lastCR = true, false
		p = p[i+1:]
	}
	// bufio.Writer's error is sticky: the first one is reported by every
	// call after it.
	if _, err := d.w.Write(nil); err != nil {
		return 0, err
	}
	return n, nil
}

// Close ends the body with CRLF if needed and the lone dot, and flushes.
func (d *dotWriter) Close() error {
	switch {
	case d.bol:
	case d.lastCR:
		d.w.WriteByte('\n')
	default:
		d.w.WriteString("\r\n")
	}
	d.w.WriteString(".\r\n")
	return d.w.Flush()
}
