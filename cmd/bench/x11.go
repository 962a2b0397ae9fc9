package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// xWatch is one long-lived connection to the X server that is told about
// every top-level window being mapped, and stamps each event the moment it
// arrives.
//
// It replaces polling `xdotool search --onlyvisible`: every xdotool run is a
// new X client, and Xvfb takes about 24 ms to accept a client that connects
// right after another one left, so back-to-back polls have a resolution of
// about 25 ms and delay the connection of the very program being timed.
// xdotool still checks each result once (see checkWithXdotool).
//
// It speaks just enough of the X11 protocol (setup, ChangeWindowAttributes,
// GetProperty, GetGeometry) for that, with no authorization: it is meant for
// the private Xvfb that the benchmark starts.
type xWatch struct {
	conn net.Conn
	root uint32

	events  chan xEvent
	replies chan xReply

	mu sync.Mutex // serialises requests, so replies come back in order

	errMu sync.Mutex
	err   error // why the reader stopped
}

// xEvent is an X event with the time it was read.
type xEvent struct {
	at   time.Time
	raw  [32]byte
	kind byte // the event code without the "sent" bit
}

type xReply struct {
	data []byte
	err  error
}

const (
	xMapNotify = 19

	xAtomWMName = 39 // the predefined atom WM_NAME

	xSubstructureNotifyMask = 1 << 19
	xCWEventMask            = 1 << 11
)

// dialX connects to display number n through its Unix socket and selects
// SubstructureNotify on the root window.
func dialX(n int) (*xWatch, error) {
	conn, err := net.Dial("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n))
	if err != nil {
		return nil, err
	}
	x := &xWatch{conn: conn, events: make(chan xEvent, 4096), replies: make(chan xReply, 1)}
	if err := x.setup(); err != nil {
		conn.Close()
		return nil, err
	}
	go x.read()
	// ChangeWindowAttributes(root, event-mask = SubstructureNotify); it has
	// no reply, and an error would arrive on the replies channel.
	req := make([]byte, 16)
	req[0] = 2
	binary.LittleEndian.PutUint16(req[2:], 4)
	binary.LittleEndian.PutUint32(req[4:], x.root)
	binary.LittleEndian.PutUint32(req[8:], xCWEventMask)
	binary.LittleEndian.PutUint32(req[12:], xSubstructureNotifyMask)
	if _, err := conn.Write(req); err != nil {
		conn.Close()
		return nil, err
	}
	// A GetGeometry round trip proves the mask was taken (an error would
	// come first) before anything is launched.
	if _, _, err := x.geometry(x.root); err != nil {
		conn.Close()
		return nil, fmt.Errorf("selecting events on the root window: %w", err)
	}
	return x, nil
}

func (x *xWatch) setup() error {
	_ = x.conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer x.conn.SetDeadline(time.Time{})
	req := make([]byte, 12)
	req[0] = 'l' // little-endian
	binary.LittleEndian.PutUint16(req[2:], 11)
	if _, err := x.conn.Write(req); err != nil {
		return err
	}
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(x.conn, hdr); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	rest := make([]byte, int(binary.LittleEndian.Uint16(hdr[6:]))*4)
	if _, err := io.ReadFull(x.conn, rest); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	if hdr[0] != 1 {
		reason := rest
		if int(hdr[1]) <= len(rest) {
			reason = rest[:hdr[1]]
		}
		return fmt.Errorf("X server refused the connection: %q", reason)
	}
	// The fixed part is 32 bytes (after the 8 of hdr); then the vendor
	// string padded to 4, the pixmap formats (8 bytes each), then the
	// screens, each starting with its root window.
	if len(rest) < 32 {
		return errors.New("X setup: reply too short")
	}
	vendor := int(binary.LittleEndian.Uint16(rest[16:]))
	formats := int(rest[21])
	off := 32 + (vendor+3)/4*4 + 8*formats
	if len(rest) < off+4 {
		return errors.New("X setup: reply too short")
	}
	x.root = binary.LittleEndian.Uint32(rest[off:])
	return nil
}

// read sorts what the server sends into events and replies until the
// connection closes.
func (x *xWatch) read() {
	defer close(x.events)
	for {
		var b [32]byte
		if _, err := io.ReadFull(x.conn, b[:]); err != nil {
			x.errMu.Lock()
			x.err = err
			x.errMu.Unlock()
			select {
			case x.replies <- xReply{err: err}:
			default:
			}
			return
		}
		at := time.Now()
		switch b[0] {
		case 0:
			x.replies <- xReply{err: fmt.Errorf("X error %d (major opcode %d)", b[1], b[10])}
		case 1:
			data := b[:]
			if extra := binary.LittleEndian.Uint32(b[4:]); extra > 0 {
				more := make([]byte, extra*4)
				if _, err := io.ReadFull(x.conn, more); err != nil {
					x.replies <- xReply{err: err}
					continue
				}
				data = append(data, more...)
			}
			x.replies <- xReply{data: data}
		default:
			x.events <- xEvent{at: at, raw: b, kind: b[0] &^ 0x80}
		}
	}
}

// request sends req and waits for its reply.
func (x *xWatch) request(req []byte) ([]byte, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.readErr(); err != nil {
		return nil, err
	}
	if _, err := x.conn.Write(req); err != nil {
		return nil, err
	}
	select {
	case r := <-x.replies:
		return r.data, r.err
	case <-time.After(5 * time.Second):
		return nil, errors.New("X server did not reply within 5 s")
	}
}

// name returns the WM_NAME of window w.
func (x *xWatch) name(w uint32) (string, error) {
	req := make([]byte, 24)
	req[0] = 20 // GetProperty, delete = false
	binary.LittleEndian.PutUint16(req[2:], 6)
	binary.LittleEndian.PutUint32(req[4:], w)
	binary.LittleEndian.PutUint32(req[8:], xAtomWMName)
	binary.LittleEndian.PutUint32(req[12:], 0) // any type
	binary.LittleEndian.PutUint32(req[16:], 0)
	binary.LittleEndian.PutUint32(req[20:], 256)
	r, err := x.request(req)
	if err != nil {
		return "", err
	}
	format := int(r[1])
	n := int(binary.LittleEndian.Uint32(r[16:])) * format / 8
	if 32+n > len(r) {
		return "", errors.New("GetProperty: reply too short")
	}
	return string(r[32 : 32+n]), nil
}

// geometry returns the size of window w.
func (x *xWatch) geometry(w uint32) (width, height int, err error) {
	req := make([]byte, 8)
	req[0] = 14 // GetGeometry
	binary.LittleEndian.PutUint16(req[2:], 2)
	binary.LittleEndian.PutUint32(req[4:], w)
	r, err := x.request(req)
	if err != nil {
		return 0, 0, err
	}
	return int(binary.LittleEndian.Uint16(r[16:])), int(binary.LittleEndian.Uint16(r[18:])), nil
}

// drain discards the events received so far.
func (x *xWatch) drain() {
	for {
		select {
		case _, ok := <-x.events:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// mapped is a top-level window that became visible.
type mapped struct {
	at     time.Time
	window uint32
}

// waitMapped waits for a top-level window titled title to be mapped and
// returns when its MapNotify arrived. It gives up when exited is closed or
// after timeout.
func (x *xWatch) waitMapped(title string, exited <-chan struct{}, timeout time.Duration) (mapped, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var others []string
	for {
		select {
		case ev, ok := <-x.events:
			if !ok {
				return mapped{}, fmt.Errorf("X connection closed: %v", x.readErr())
			}
			if ev.kind != xMapNotify {
				continue
			}
			w := binary.LittleEndian.Uint32(ev.raw[8:])
			name, err := x.name(w)
			if err != nil {
				// Gone already, or never named: not the window we want.
				others = append(others, fmt.Sprintf("0x%x (%v)", w, err))
				continue
			}
			if name == title {
				return mapped{at: ev.at, window: w}, nil
			}
			others = append(others, fmt.Sprintf("0x%x %q", w, name))
		case <-exited:
			return mapped{}, fmt.Errorf("the program exited before a window titled %q was mapped", title)
		case <-timer.C:
			return mapped{}, fmt.Errorf("no window titled %q was mapped within %s (mapped: %v)", title, timeout, others)
		}
	}
}

func (x *xWatch) readErr() error {
	x.errMu.Lock()
	defer x.errMu.Unlock()
	return x.err
}

func (x *xWatch) Close() error { return x.conn.Close() }
