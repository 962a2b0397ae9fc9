package xtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Conn is a connection to the X server that speaks just enough of the core
// X11 protocol for what xdotool cannot do well: binding keysyms to spare
// keycodes (BindKeysyms) and learning the moment a window is mapped
// (WatchMaps, WaitMapped). It uses no authorization: it is meant for the
// private Xvfb of Start, which asks for none.
//
// A reader goroutine sorts what the server sends into events, stamped the
// moment they arrive, and replies, matched to requests by sequence number.
type Conn struct {
	conn    net.Conn
	root    uint32
	minCode int // the keycodes the server has, minCode to maxCode
	maxCode int

	events  chan event
	replies chan reply

	mu  sync.Mutex // serialises requests, so that seq numbers them
	seq uint16     // of the last request sent

	errMu sync.Mutex
	err   error // why the reader stopped
}

type event struct {
	at   time.Time
	raw  [32]byte
	kind byte // the event code without the "sent" bit
}

// reply is a reply or an error, with the sequence number of its request.
type reply struct {
	seq  uint16
	data []byte
	err  error
}

const (
	xMapNotify = 19

	xAtomWMName = 39 // the predefined atom WM_NAME

	xSubstructureNotifyMask = 1 << 19
	xCWEventMask            = 1 << 11

	// requestTimeout bounds the wait for each reply.
	requestTimeout = 5 * time.Second
)

var le = binary.LittleEndian

// Dial connects to display number n through its Unix socket.
func Dial(n int) (*Conn, error) {
	conn, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n), 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &Conn{conn: conn, events: make(chan event, 4096), replies: make(chan reply, 16)}
	if err := c.setup(); err != nil {
		conn.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

func (c *Conn) setup() error {
	_ = c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.conn.SetDeadline(time.Time{})
	// Little-endian, protocol 11.0, no authorization.
	if _, err := c.conn.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c.conn, head); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	rest := make([]byte, 4*int(le.Uint16(head[6:])))
	if _, err := io.ReadFull(c.conn, rest); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	if head[0] != 1 {
		return fmt.Errorf("the X server refused the connection: %q", rest[:min(len(rest), int(head[1]))])
	}
	// The fixed part is 32 bytes (after the 8 of head), with the keycode
	// range at 26 and 27; then the vendor string padded to 4, the pixmap
	// formats (8 bytes each), then the screens, each starting with its
	// root window.
	if len(rest) < 32 {
		return errors.New("X setup: reply too short")
	}
	c.minCode, c.maxCode = int(rest[26]), int(rest[27])
	vendor := int(le.Uint16(rest[16:]))
	formats := int(rest[21])
	off := 32 + (vendor+3)/4*4 + 8*formats
	if len(rest) < off+4 {
		return errors.New("X setup: reply too short")
	}
	c.root = le.Uint32(rest[off:])
	return nil
}

// read sorts what the server sends into events and replies until the
// connection closes.
func (c *Conn) read() {
	defer close(c.events)
	defer close(c.replies)
	for {
		var b [32]byte
		if _, err := io.ReadFull(c.conn, b[:]); err != nil {
			c.errMu.Lock()
			c.err = err
			c.errMu.Unlock()
			return
		}
		at := time.Now()
		seq := le.Uint16(b[2:])
		switch b[0] {
		case 0:
			c.replies <- reply{seq: seq, err: fmt.Errorf("X error %d for request %d", b[1], b[10])}
		case 1:
			data := b[:]
			if extra := le.Uint32(b[4:]); extra > 0 {
				more := make([]byte, 4*int(extra))
				if _, err := io.ReadFull(c.conn, more); err != nil {
					c.errMu.Lock()
					c.err = err
					c.errMu.Unlock()
					return
				}
				data = append(data, more...)
			}
			c.replies <- reply{seq: seq, data: data}
		default:
			// MappingNotify and the like arrive whether selected or not;
			// whoever waits for events skips the kinds it does not want.
			select {
			case c.events <- event{at: at, raw: b, kind: b[0] &^ 0x80}:
			default: // nobody reads them: drop rather than stall replies
			}
		}
	}
}

func (c *Conn) readErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// send sends a request that has no reply. An error it causes is returned
// by the next request.
func (c *Conn) send(req []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.conn.Write(req); err != nil {
		return err
	}
	c.seq++
	return nil
}

// request sends req and waits for its reply. An error caused by a request
// sent before it comes first and is returned instead.
func (c *Conn) request(req []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.conn.Write(req); err != nil {
		return nil, err
	}
	c.seq++
	timer := time.NewTimer(requestTimeout)
	defer timer.Stop()
	var earlier error
	for {
		select {
		case r, ok := <-c.replies:
			if !ok {
				return nil, fmt.Errorf("X connection closed: %v", c.readErr())
			}
			if r.seq != c.seq {
				if r.err != nil && earlier == nil {
					earlier = r.err
				}
				continue
			}
			if earlier != nil {
				return nil, earlier
			}
			return r.data, r.err
		case <-timer.C:
			return nil, fmt.Errorf("the X server did not reply within %v", requestTimeout)
		}
	}
}

// keyboardMapping returns the keymap: perKey keysyms for each keycode from
// c.minCode to c.maxCode.
func (c *Conn) keyboardMapping() (syms []byte, perKey int, err error) {
	r, err := c.request([]byte{101, 0, 2, 0, byte(c.minCode), byte(c.maxCode - c.minCode + 1), 0, 0})
	if err != nil {
		return nil, 0, err
	}
	return r[32:], int(r[1]), nil
}

// keysym is the X keysym that types r: Latin-1 characters are their own
// keysym, others are 0x01000000 plus the code point.
func keysym(r rune) uint32 {
	if r >= 0xa0 && r <= 0xff {
		return uint32(r)
	}
	return 0x01000000 | uint32(r)
}

// BindKeysyms gives each character of text outside ASCII a keycode of its
// own, among the keycodes that have no keysym, and says which. xdotool then
// finds each in the keymap and presses it like any other key, rather than
// binding it to a scratch keycode for the one key press and unbinding it
// straight away, which a program that looks the keycode up later reads in
// whatever mapping holds by then. So it must run before the program to be
// typed into connects: that program reads the keymap with the characters
// already in it. The server must keep the keymap when its last client
// leaves, as Start's -noreset makes it.
//
// xmodmap would do this in one line but is not among the packages make deps
// installs; xkbcomp is, but it loads whole keymaps. This is
// GetKeyboardMapping to find keycodes without keysyms,
// ChangeKeyboardMapping for each character, then GetKeyboardMapping again
// to check that the server took them.
func (c *Conn) BindKeysyms(text string) (bound string, err error) {
	var runes []rune
	for _, r := range text {
		if r > '~' && !slices.Contains(runes, r) {
			runes = append(runes, r)
		}
	}
	if len(runes) == 0 {
		return "", nil
	}
	syms, perKey, err := c.keyboardMapping()
	if err != nil {
		return "", err
	}
	sym := func(syms []byte, perKey, code, i int) uint32 {
		return le.Uint32(syms[4*((code-c.minCode)*perKey+i):])
	}
	var free []int
	for code := c.maxCode; code >= c.minCode; code-- {
		empty := true
		for i := range perKey {
			empty = empty && sym(syms, perKey, code, i) == 0
		}
		if empty {
			free = append(free, code)
		}
	}
	// Keep one free keycode for xdotool's scratch space.
	if len(free) <= len(runes) {
		return "", fmt.Errorf("%d free keycodes for %d characters", len(free), len(runes))
	}
	var names []string
	for i, r := range runes {
		// ChangeKeyboardMapping of one keycode with two keysyms, without
		// and with Shift.
		req := make([]byte, 16)
		req[0], req[1] = 100, 1
		le.PutUint16(req[2:], 4)
		req[4], req[5] = byte(free[i]), 2
		le.PutUint32(req[8:], keysym(r))
		le.PutUint32(req[12:], keysym(r))
		if err := c.send(req); err != nil {
			return "", err
		}
		names = append(names, fmt.Sprintf("%c=%d", r, free[i]))
	}
	if syms, perKey, err = c.keyboardMapping(); err != nil {
		return "", err
	}
	for i, r := range runes {
		if got := sym(syms, perKey, free[i], 0); got != keysym(r) {
			return "", fmt.Errorf("keycode %d has keysym %#x, want %#x for %c", free[i], got, keysym(r), r)
		}
	}
	return strings.Join(names, " "), nil
}

// WatchMaps asks to be told about every top-level window being mapped,
// which WaitMapped then waits for.
func (c *Conn) WatchMaps() error {
	// ChangeWindowAttributes(root, event-mask = SubstructureNotify).
	req := make([]byte, 16)
	req[0] = 2
	le.PutUint16(req[2:], 4)
	le.PutUint32(req[4:], c.root)
	le.PutUint32(req[8:], xCWEventMask)
	le.PutUint32(req[12:], xSubstructureNotifyMask)
	if err := c.send(req); err != nil {
		return err
	}
	// A round trip proves the mask was taken (an error would come first)
	// before anything is launched.
	if _, _, err := c.Geometry(c.root); err != nil {
		return fmt.Errorf("selecting events on the root window: %w", err)
	}
	return nil
}

// Name returns the WM_NAME of window w.
func (c *Conn) Name(w uint32) (string, error) {
	req := make([]byte, 24)
	req[0] = 20 // GetProperty, delete = false
	le.PutUint16(req[2:], 6)
	le.PutUint32(req[4:], w)
	le.PutUint32(req[8:], xAtomWMName)
	le.PutUint32(req[12:], 0) // any type
	le.PutUint32(req[16:], 0)
	le.PutUint32(req[20:], 256)
	r, err := c.request(req)
	if err != nil {
		return "", err
	}
	format := int(r[1])
	n := int(le.Uint32(r[16:])) * format / 8
	if 32+n > len(r) {
		return "", errors.New("GetProperty: reply too short")
	}
	return string(r[32 : 32+n]), nil
}

// Geometry returns the size of window w.
func (c *Conn) Geometry(w uint32) (width, height int, err error) {
	req := make([]byte, 8)
	req[0] = 14 // GetGeometry
	le.PutUint16(req[2:], 2)
	le.PutUint32(req[4:], w)
	r, err := c.request(req)
	if err != nil {
		return 0, 0, err
	}
	return int(le.Uint16(r[16:])), int(le.Uint16(r[18:])), nil
}

// Drain discards the events received so far, so that the next WaitMapped
// sees only windows mapped from now on.
func (c *Conn) Drain() {
	for {
		select {
		case _, ok := <-c.events:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// Mapped is a top-level window that became visible.
type Mapped struct {
	At     time.Time // when its MapNotify arrived
	Window uint32
}

// WaitMapped waits for a top-level window titled title to be mapped, after
// WatchMaps. It gives up when exited is closed (the program that should
// open it ended) or after timeout.
func (c *Conn) WaitMapped(title string, exited <-chan struct{}, timeout time.Duration) (Mapped, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var others []string
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return Mapped{}, fmt.Errorf("X connection closed: %v", c.readErr())
			}
			if ev.kind != xMapNotify {
				continue
			}
			w := le.Uint32(ev.raw[8:])
			name, err := c.Name(w)
			if err != nil {
				// Gone already, or never named: not the window we want.
				others = append(others, fmt.Sprintf("0x%x (%v)", w, err))
				continue
			}
			if name == title {
				return Mapped{At: ev.at, Window: w}, nil
			}
			others = append(others, fmt.Sprintf("0x%x %q", w, name))
		case <-exited:
			return Mapped{}, fmt.Errorf("the program exited before a window titled %q was mapped", title)
		case <-timer.C:
			return Mapped{}, fmt.Errorf("no window titled %q was mapped within %s (mapped: %v)", title, timeout, others)
		}
	}
}
