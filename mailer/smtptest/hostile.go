package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer/internal/testkit"
)

// Flood is how a Hostile server sends without end.
type Flood int

const (
	// NoFlood sends the reply and stops.
	NoFlood Flood = iota
	// FloodLine sends one reply line that never ends: "250 xxxx…".
	FloodLine
	// FloodLines sends continuation lines that never end: "250-xxx\r\n"
	// again and again, never the last line.
	FloodLines
)

// Act is what a Hostile server does at one stage instead of its normal
// reply.
type Act struct {
	// Reply, if set, is sent instead of the normal reply, exactly as given:
	// end each line with "\r\n". Control characters and escape sequences
	// go here.
	Reply string
	// Flood, if set, sends without end, with the stage's code (220 for the
	// greeting and STARTTLS, 250 for EHLO, MAIL, RCPT and after the dot,
	// 535 for AUTH, 354 for DATA), until the client closes the connection,
	// Close is called, or 1 GiB has gone.
	Flood Flood
	// Drip, if positive, sends the reply (or the flood) one byte at a
	// time, this long apart.
	Drip time.Duration
	// Stall never answers: the connection is held open until Close.
	Stall bool
	// Echo, at "auth", answers the login with a 535 that repeats every
	// line the client sent for it, credentials included, as some servers
	// do.
	Echo bool
}

// HostileConfig scripts a Hostile server. Its zero value is a well-behaved
// STARTTLS server that still needs a Cert.
type HostileConfig struct {
	Mode Mode
	// Cert is the server's certificate, required unless Mode is NoTLS.
	Cert tls.Certificate
	// MaxTLSVersion, if set, is the newest version of TLS the server
	// speaks: tls.VersionTLS11 makes a server too old to be safe.
	MaxTLSVersion uint16
	// Mechanisms are the AUTH mechanisms offered; nil means PLAIN and
	// LOGIN.
	Mechanisms []string
	// At maps a stage to what the server does there instead of its normal
	// reply. The stages, in order:
	//
	//	"greeting"  the 220 on connect (after the handshake with ImplicitTLS)
	//	"ehlo"      the reply to the first EHLO: in the clear with StartTLS
	//	"starttls"  the reply to STARTTLS
	//	"tls"       the handshake after STARTTLS (only Stall applies)
	//	"ehlo-tls"  the reply to the EHLO after STARTTLS
	//	"auth"      the reply to the login, once the credentials came
	//	"mail"      the reply to MAIL FROM
	//	"rcpt"      the reply to each RCPT TO
	//	"data"      the reply to DATA
	//	"dot"       the reply after the final dot
	At map[string]Act
}

// floodMax is where a flood stops if the client never closes.
const floodMax = 1 << 30

// Hostile is an SMTP server on 127.0.0.1 written on a raw connection, for
// what a real server will not do: reply lines that never end, endless
// continuation lines, replies dripped a byte at a time, control characters
// and escape sequences in replies, the credentials echoed back, a stall at
// any stage, and TLS older than 1.2. Elsewhere it behaves: it offers
// STARTTLS (or speaks TLS from the first byte), AUTH PLAIN and LOGIN with
// any password, and takes every message.
type Hostile struct {
	cfg  HostileConfig
	ln   net.Listener
	stop chan struct{} // closed by Close: ends floods and stalls
	wg   sync.WaitGroup
	once sync.Once

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	sessions int
	commands []string
	messages int
	stages   testkit.Stages
}

// StartHostile starts a Hostile server on a free port. Call Close when done.
func StartHostile(cfg HostileConfig) (*Hostile, error) {
	if cfg.Mode != NoTLS && len(cfg.Cert.Certificate) == 0 {
		return nil, errors.New("smtptest: TLS needs HostileConfig.Cert")
	}
	for stage := range cfg.At {
		switch stage {
		case "greeting", "ehlo", "starttls", "tls", "ehlo-tls", "auth", "mail", "rcpt", "data", "dot":
		default:
			return nil, fmt.Errorf("smtptest: unknown hostile stage %q", stage)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtptest: %w", err)
	}
	h := &Hostile{cfg: cfg, ln: ln, stop: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	h.wg.Add(1)
	go h.accept()
	return h, nil
}

// Addr returns the server's address, "127.0.0.1:PORT".
func (h *Hostile) Addr() string { return h.ln.Addr().String() }

// Port returns the server's port.
func (h *Hostile) Port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server, ends every flood and stall, and waits for the
// connections to end.
func (h *Hostile) Close() error {
	h.once.Do(func() {
		close(h.stop)
		h.ln.Close()
		h.mu.Lock()
		for c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	return nil
}

// Sessions returns the number of connections accepted so far.
func (h *Hostile) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions
}

// Commands returns the command lines received so far, in order, across
// sessions. The credentials of a login are kept out: what follows AUTH
// PLAIN or LOGIN, and the lines answering its challenges, read "[auth]".
func (h *Hostile) Commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.commands...)
}

// Messages returns the number of messages taken (replied to after the dot
// with the normal 250).
func (h *Hostile) Messages() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.messages
}

// Reached returns a channel closed once a session has reached stage, so
// that a test can act at that moment without sleeping.
func (h *Hostile) Reached(stage string) <-chan struct{} { return h.stages.Reached(stage) }

func (h *Hostile) reach(stage string) { h.stages.Reach(stage) }

func (h *Hostile) record(line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.commands = append(h.commands, line)
}

func (h *Hostile) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.sessions++
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer func() {
				h.mu.Lock()
				delete(h.conns, c)
				h.mu.Unlock()
				c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			h.serve(c)
		}()
	}
}

func (h *Hostile) tlsConfig() *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{h.cfg.Cert}, MinVersion: tls.VersionTLS12}
	if v := h.cfg.MaxTLSVersion; v != 0 {
		cfg.MaxVersion = v
		if v < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS10
		}
	}
	return cfg
}

// hostileConn is one session's connection and where it is.
type hostileConn struct {
	h   *Hostile
	c   net.Conn
	r   *bufio.Reader
	tls bool
}

// maxCommandLine bounds what the server reads as one line from a client.
const maxCommandLine = 64 << 10

func (h *Hostile) serve(raw net.Conn) {
	s := &hostileConn{h: h, c: raw, r: bufio.NewReaderSize(raw, maxCommandLine)}
	if h.cfg.Mode == ImplicitTLS {
		tc := tls.Server(raw, h.tlsConfig())
		if tc.Handshake() != nil {
			return
		}
		s.c, s.r, s.tls = tc, bufio.NewReaderSize(tc, maxCommandLine), true
	}
	if !s.reply("greeting", 220, "220 hostile.test ESMTP ready\r\n") {
		return
	}
	ehlos := 0
	for {
		line, err := s.readLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if verb != "AUTH" {
			h.record(line)
		}
		var ok bool
		switch verb {
		case "EHLO", "HELO":
			stage := "ehlo"
			if ehlos > 0 && s.tls {
				stage = "ehlo-tls"
			}
			ehlos++
			ok = s.reply(stage, 250, s.ehloReply())
		case "STARTTLS":
			if h.cfg.Mode != StartTLS || s.tls {
				ok = s.write("502 5.5.1 not now\r\n")
				break
			}
			if !s.reply("starttls", 220, "220 2.0.0 ready for TLS\r\n") {
				return
			}
			if act := h.cfg.At["starttls"]; act.Reply != "" && !strings.HasPrefix(act.Reply, "220") {
				ok = true // refused: the session goes on in the clear
				break
			}
			if act := h.cfg.At["tls"]; act.Stall {
				h.reach("tls")
				<-h.stop
				return
			}
			tc := tls.Server(s.c, h.tlsConfig())
			if tc.Handshake() != nil {
				return
			}
			s.c, s.r, s.tls = tc, bufio.NewReaderSize(tc, maxCommandLine), true
			ok = true
		case "AUTH":
			ok = s.auth(line, arg)
		case "MAIL":
			ok = s.reply("mail", 250, "250 2.1.0 sender ok\r\n")
		case "RCPT":
			ok = s.reply("rcpt", 250, "250 2.1.5 recipient ok\r\n")
		case "DATA":
			if !s.reply("data", 354, "354 end with <CRLF>.<CRLF>\r\n") {
				return
			}
			if !s.readData() {
				return
			}
			if _, scripted := h.cfg.At["dot"]; !scripted {
				h.mu.Lock()
				h.messages++
				h.mu.Unlock()
			}
			ok = s.reply("dot", 250, "250 2.0.0 queued as HOSTILE\r\n")
		case "RSET", "NOOP":
			ok = s.write("250 2.0.0 ok\r\n")
		case "QUIT":
			s.write("221 2.0.0 bye\r\n")
			return
		default:
			ok = s.write("502 5.5.2 unknown command\r\n")
		}
		if !ok {
			return
		}
	}
}

func (s *hostileConn) ehloReply() string {
	lines := []string{"hostile.test greets you", "8BITMIME", "SMTPUTF8"}
	switch {
	case s.h.cfg.Mode == StartTLS && !s.tls:
		lines = append(lines, "STARTTLS")
	default:
		mechs := s.h.cfg.Mechanisms
		if mechs == nil {
			mechs = []string{"PLAIN", "LOGIN"}
		}
		lines = append(lines, "AUTH "+strings.Join(mechs, " "))
	}
	var b strings.Builder
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		b.WriteString("250" + sep + l + "\r\n")
	}
	return b.String()
}

// auth runs a login: any user name and password are taken, unless the
// script says otherwise at "auth".
func (s *hostileConn) auth(line, arg string) bool {
	mech, initial, _ := strings.Cut(arg, " ")
	s.h.record("AUTH " + strings.ToUpper(mech) + " [auth]")
	sent := []string{line}
	switch strings.ToUpper(mech) {
	case "PLAIN":
		if initial == "" {
			if !s.write("334 \r\n") {
				return false
			}
			resp, err := s.readLine()
			if err != nil {
				return false
			}
			s.h.record("[auth]")
			sent = append(sent, resp)
		}
	case "LOGIN":
		for _, challenge := range []string{"VXNlcm5hbWU6", "UGFzc3dvcmQ6"} {
			if !s.write("334 " + challenge + "\r\n") {
				return false
			}
			resp, err := s.readLine()
			if err != nil {
				return false
			}
			s.h.record("[auth]")
			sent = append(sent, resp)
		}
	default:
		return s.write("504 5.5.4 unrecognized authentication type\r\n")
	}
	if act := s.h.cfg.At["auth"]; act.Echo {
		s.h.reach("auth")
		var b strings.Builder
		for i, l := range sent {
			sep := "-"
			if i == len(sent)-1 {
				sep = " "
			}
			b.WriteString("535" + sep + "5.7.8 Authentication failed for: " + l + "\r\n")
		}
		return s.write(b.String())
	}
	return s.reply("auth", 535, "235 2.7.0 authentication successful\r\n")
}

// readData reads the message up to the final dot and drops it.
func (s *hostileConn) readData() bool {
	for {
		line, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return false
		}
		if bytes.Equal(line, []byte(".\r\n")) {
			return true
		}
	}
}

// readLine reads one command line, without its line end.
func (s *hostileConn) readLine() (string, error) {
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// reply answers at stage: normally with normal, or as the script says.
// It reports whether the session goes on.
func (s *hostileConn) reply(stage string, code int, normal string) bool {
	act, scripted := s.h.cfg.At[stage]
	s.h.reach(stage)
	if !scripted {
		return s.write(normal)
	}
	switch {
	case act.Stall:
		<-s.h.stop
		return false
	case act.Flood != NoFlood:
		s.flood(code, act)
		return false
	}
	text := normal
	if act.Reply != "" {
		text = act.Reply
	}
	if act.Drip > 0 {
		return s.drip([]byte(text), act.Drip)
	}
	return s.write(text)
}

func (s *hostileConn) write(text string) bool {
	_, err := io.WriteString(s.c, text)
	return err == nil
}

// drip writes b a byte at a time, every d.
func (s *hostileConn) drip(b []byte, d time.Duration) bool {
	t := time.NewTicker(d)
	defer t.Stop()
	for i := range b {
		select {
		case <-s.h.stop:
			return false
		case <-t.C:
		}
		if _, err := s.c.Write(b[i : i+1]); err != nil {
			return false
		}
	}
	return true
}

// flood writes without end, until the client goes, Close, or floodMax.
func (s *hostileConn) flood(code int, act Act) {
	var chunk []byte
	switch act.Flood {
	case FloodLine:
		if !s.write(fmt.Sprintf("%d ", code)) {
			return
		}
		chunk = bytes.Repeat([]byte("x"), 32<<10)
	case FloodLines:
		line := fmt.Sprintf("%d-%s\r\n", code, strings.Repeat("x", 60))
		chunk = bytes.Repeat([]byte(line), (32<<10)/len(line))
	}
	for n := 0; n < floodMax; n += len(chunk) {
		select {
		case <-s.h.stop:
			return
		default:
		}
		if act.Drip > 0 {
			if !s.drip(chunk, act.Drip) {
				return
			}
			continue
		}
		_ = s.c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := s.c.Write(chunk); err != nil {
			return
		}
	}
}

// AuthPlain is what AUTH PLAIN sends for user and password, base64 of
// "\x00user\x00password", for tests that look for it where it must not be.
func AuthPlain(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
}
