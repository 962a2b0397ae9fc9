// Package smtptest runs real SMTP servers on 127.0.0.1 for tests: STARTTLS,
// implicit TLS or plaintext, AUTH PLAIN and LOGIN, scripted replies, dropped
// and stalled connections, and listeners that never answer or never connect.
package smtptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// ioTimeout bounds every read and write of the server, so that a test that
// forgets a connection cannot hang for ever.
const ioTimeout = 30 * time.Second

// closeTimeout bounds how long Close waits for sessions to end; only a hook
// that never returns can make it wait that long.
const closeTimeout = 10 * time.Second

// Mode is how a Server offers TLS.
type Mode int

const (
	// StartTLS serves plaintext, offers STARTTLS and offers AUTH only after
	// it (port 587 style).
	StartTLS Mode = iota
	// ImplicitTLS serves TLS from the first byte (port 465 style).
	ImplicitTLS
	// NoTLS serves plaintext and never offers STARTTLS, like a server behind
	// a STARTTLS-stripping middlebox, but still offers AUTH, so that
	// AuthAttempts shows whether a client sent its password in the clear.
	NoTLS
)

// Config describes a Server. Its zero value is a STARTTLS server without
// AUTH that still needs a Cert.
//
// The server always advertises PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES,
// CHUNKING and SIZE (go-smtp does),
// and every 2xx, 4xx and 5xx reply carries an enhanced code: a hook's error
// whose EnhancedCode is zero is sent as X.0.0, one with smtp.NoEnhancedCode
// is sent without.
//
// Hooks are called from the connections' goroutines, so they must be safe
// for concurrent use. A hook returning a non-nil error makes the server reply
// with exactly that code, enhanced code and message.
type Config struct {
	Mode Mode
	// Cert is the server certificate, required unless Mode is NoTLS; see
	// CA.ServerCert.
	Cert tls.Certificate
	// Users maps user names to the passwords that AUTH PLAIN and AUTH LOGIN
	// accept. If it is empty, AUTH is not offered and anyone may send;
	// otherwise MAIL before a successful AUTH gets 530 5.7.0.
	Users map[string]string
	// Mechanisms, if set, are the AUTH mechanisms offered and accepted
	// instead of PLAIN and LOGIN (e.g. []string{"LOGIN"}).
	Mechanisms []string
	// Domain is the name in the greeting and the EHLO reply; default
	// "localhost".
	Domain string
	// MaxMessageBytes, if positive, is advertised with SIZE; a larger
	// message (declared in MAIL or sent in DATA) gets 552 5.3.4.
	MaxMessageBytes int64

	// OnAuth is called once the client has sent user name and password,
	// before the password is checked.
	OnAuth func(user string) *smtp.SMTPError
	// OnMail is called for MAIL FROM, after the login check.
	OnMail func(from string) *smtp.SMTPError
	// OnRcpt is called for each RCPT TO.
	OnRcpt func(to string) *smtp.SMTPError
	// OnData is called with the whole message after the final dot; its
	// error is the reply to the dot, and the message is then not recorded.
	OnData func(msg []byte) *smtp.SMTPError

	// Drop, if set, resets the TCP connection (RST: no reply, no TLS
	// close_notify) in every session when it reaches a stage:
	//
	//	"greeting"   on accept, before the greeting (and before the TLS
	//	             handshake with ImplicitTLS); on loopback the client
	//	             often sees the reset from connect itself
	//	"tls"        on the client's TLS ClientHello
	//	"ehlo"       on the first EHLO or HELO (before STARTTLS)
	//	"auth"       on AUTH, before any challenge
	//	"mail"       on MAIL FROM
	//	"rcpt"       on RCPT TO
	//	"data"       in the middle of the message: after its first byte
	//	"after-data" after the final dot, before the reply
	//	"after-accept" after the final dot and OnData, once the message
	//	             is recorded as delivered, before the reply: the
	//	             client cannot tell whether it arrived
	//
	// Drop and Stall act before any hook (but "after-accept"). A dropped message is not
	// recorded.
	Drop string
	// Stall, if set, makes the server stop answering at a stage, holding
	// the connection open until Close. The stages are those of Drop, except
	// that "data" stalls after the final dot (the reply never comes),
	// "data-body" stops reading after the first byte of the message, and
	// "after-data" does not exist.
	Stall string

	// DiscardData, if set, keeps only the size of accepted messages, not
	// their bytes: for benchmarks. OnData then gets nil.
	DiscardData bool

	// Debug, if set, receives a raw trace of every connection, including
	// AUTH exchanges, and the server's internal errors. It must be safe for
	// concurrent use.
	Debug io.Writer
}

// Message is a message the server accepted.
type Message struct {
	From     string
	To       []string
	Data     []byte // as received (CRLF line ends, dot-stuffing removed); nil with DiscardData
	Size     int64  // len(Data), also with DiscardData
	TLS      bool   // whether the connection was TLS when the message was sent
	AuthUser string // the user that logged in, or ""
}

// AuthAttempt is an AUTH exchange that reached the password check (or
// OnAuth). The password is never kept.
type AuthAttempt struct {
	Mech string // "PLAIN" or "LOGIN"
	User string
	TLS  bool // whether the connection was TLS
	OK   bool // whether the login succeeded
}

// Server is a running SMTP server on 127.0.0.1. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	smtp *smtp.Server
	ln   net.Listener // the TCP listener under any TLS

	serveDone chan struct{} // closed when smtp.Serve has returned
	stop      chan struct{} // closed by Close, releases stalled sessions
	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	conns     map[*trackedConn]struct{}
	sessions  int
	messages  []Message
	attempts  []AuthAttempt
	delivered chan struct{} // closed and replaced on every delivery
}

// Start starts a server on 127.0.0.1 on a free port. Call Close when done.
func Start(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	cfg.Users = maps.Clone(cfg.Users)

	s := &Server{
		cfg:       cfg,
		serveDone: make(chan struct{}),
		stop:      make(chan struct{}),
		conns:     make(map[*trackedConn]struct{}),
		delivered: make(chan struct{}),
	}
	s.smtp = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.smtp.Domain = cfg.Domain
	s.smtp.MaxMessageBytes = cfg.MaxMessageBytes
	s.smtp.ReadTimeout = ioTimeout
	s.smtp.WriteTimeout = ioTimeout
	s.smtp.Debug = cfg.Debug
	s.smtp.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.Debug != nil {
		s.smtp.ErrorLog = log.New(cfg.Debug, "smtptest: ", 0)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtptest: %w", err)
	}
	s.ln = ln
	var served net.Listener = &listener{Listener: ln, s: s}
	switch cfg.Mode {
	case StartTLS:
		s.smtp.TLSConfig = s.tlsConfig()
	case ImplicitTLS:
		served = tls.NewListener(served, s.tlsConfig())
	case NoTLS:
		s.smtp.AllowInsecureAuth = true
	}
	go func() {
		defer close(s.serveDone)
		s.smtp.Serve(served) // returns when Close closes ln
	}()
	return s, nil
}

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{s.cfg.Cert},
		MinVersion:         tls.VersionTLS12,
		GetConfigForClient: s.clientHello,
	}
}

func (cfg *Config) validate() error {
	switch cfg.Mode {
	case StartTLS, ImplicitTLS:
		if len(cfg.Cert.Certificate) == 0 {
			return errors.New("smtptest: TLS needs Config.Cert")
		}
	case NoTLS:
		if cfg.Drop == "tls" || cfg.Stall == "tls" {
			return errors.New(`smtptest: stage "tls" needs TLS`)
		}
	default:
		return fmt.Errorf("smtptest: unknown mode %d", cfg.Mode)
	}
	if cfg.Drop != "" && cfg.Drop == cfg.Stall {
		return errors.New("smtptest: Drop and Stall at the same stage")
	}
	for _, st := range []struct {
		field, stage string
	}{{"Drop", cfg.Drop}, {"Stall", cfg.Stall}} {
		switch st.stage {
		case "", "greeting", "tls", "ehlo", "auth", "mail", "rcpt", "data":
		case "data-body":
			if st.field == "Drop" {
				return errors.New(`smtptest: Drop has no stage "data-body", "data" drops mid-message`)
			}
		case "after-data", "after-accept":
			if st.field == "Stall" {
				return fmt.Errorf(`smtptest: Stall has no stage %q, "data" stalls after the final dot`, st.stage)
			}
		default:
			return fmt.Errorf("smtptest: unknown %s stage %q", st.field, st.stage)
		}
	}
	return nil
}

// Addr returns the server's address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server: it closes the listener and every connection,
// releases stalled sessions and waits for them to end. Messages and
// AuthAttempts still work afterwards.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.ln.Close()
		<-s.serveDone // no connection is accepted, hence tracked, after this

		s.mu.Lock()
		conns := slices.Collect(maps.Keys(s.conns))
		s.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		close(s.stop)

		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if serr := s.smtp.Shutdown(ctx); serr != nil && !errors.Is(serr, net.ErrClosed) {
			err = serr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("smtptest: close: %w", err)
		}
	})
	return s.closeErr
}

// Messages returns copies of the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMessages(s.messages)
}

// WaitMessages waits until at least n messages have been accepted and
// returns them. If ctx ends or the server is closed first, it returns the
// messages so far and an error.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		if len(s.messages) >= n {
			defer s.mu.Unlock()
			return copyMessages(s.messages), nil
		}
		delivered := s.delivered
		s.mu.Unlock()

		var err error
		select {
		case <-delivered:
			continue
		case <-ctx.Done():
			err = ctx.Err()
		case <-s.stop:
			err = errors.New("server closed")
		}
		msgs := s.Messages()
		return msgs, fmt.Errorf("smtptest: %d of %d messages: %w", len(msgs), n, err)
	}
}

// AuthAttempts returns every AUTH exchange that reached the password check
// (or OnAuth), oldest first.
func (s *Server) AuthAttempts() []AuthAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// Sessions returns the number of connections accepted so far, including
// dropped and stalled ones.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func copyMessages(msgs []Message) []Message {
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		m.To = slices.Clone(m.To)
		m.Data = slices.Clone(m.Data)
		out[i] = m
	}
	return out
}

func (s *Server) deliver(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.delivered)
	s.delivered = make(chan struct{})
}

func (s *Server) recordAuth(a AuthAttempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, a)
}

// errInterrupted is the reply to a dropped or stalled command; nobody
// reads it, as the connection is closed by then.
var errInterrupted = &smtp.SMTPError{
	Code:         421,
	EnhancedCode: smtp.EnhancedCode{4, 3, 2},
	Message:      "smtptest: connection interrupted",
}

// interrupt drops or stalls conn if the config says so for stage, and then
// returns errInterrupted.
func (s *Server) interrupt(conn net.Conn, stage string) error {
	switch stage {
	case s.cfg.Drop:
		reset(conn)
	case s.cfg.Stall:
		<-s.stop
	default:
		return nil
	}
	return errInterrupted
}

// reset closes conn with a TCP RST, bypassing any TLS close_notify, so
// that the client sees the connection die rather than end.
func reset(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if tc, ok := conn.(*trackedConn); ok {
		if tcp, ok := tc.Conn.(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
	}
	conn.Close()
}

func (s *Server) clientHello(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	return nil, s.interrupt(hello.Conn, "tls")
}

// listener counts and tracks accepted connections, and drops or stalls
// them at "greeting".
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, s: l.s}
		l.s.mu.Lock()
		l.s.sessions++
		l.s.conns[tc] = struct{}{}
		l.s.mu.Unlock()
		switch {
		case l.s.cfg.Drop == "greeting":
			reset(tc)
		case l.s.cfg.Stall == "greeting":
			// Held open and never served until Close closes it.
		default:
			return tc, nil
		}
	}
}

// trackedConn is an accepted connection that Close will close.
type trackedConn struct {
	net.Conn
	s *Server
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}
