package imaptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/postcard-mail/postcard/mailer/smtptest"

	"github.com/postcard-mail/postcard/mailer/internal/testkit"
)

// HostileConfig describes a Hostile server. Its zero value is a well-behaved
// implicit-TLS server holding iCloud's folders for DefaultUser.
type HostileConfig struct {
	// CA signs the server's certificate; nil means a new one, in
	// Hostile.CA.
	CA *smtptest.CA
	// StartTLS serves plaintext and offers STARTTLS (port 143 style)
	// instead of TLS from the first byte.
	StartTLS bool
	// NoSTARTTLS, with StartTLS, offers no STARTTLS but does accept LOGIN in
	// plaintext, as behind a middlebox that strips STARTTLS: Logins shows
	// whether a client sent its password anyway.
	NoSTARTTLS bool
	// Users maps logins to passwords; nil means DefaultUser with
	// DefaultPassword.
	Users map[string]string
	// Mailboxes every user has; nil means ICloudMailboxes(). LIST shows
	// these (and no folder created later), each with its SpecialUse
	// attribute; one with SpecialUse makes the server advertise SPECIAL-USE.
	Mailboxes []Mailbox

	// LoginError, if set, is the answer to every LOGIN, right password or
	// not, e.g. NO [UNAVAILABLE]. A wrong password gets NO
	// [AUTHENTICATIONFAILED] anyway.
	LoginError *imap.Error
	// AppendError, if set, is the answer to every APPEND, after the server
	// has read the whole message, e.g. NO [OVERQUOTA].
	AppendError *imap.Error

	// Drop resets the TCP connection (no reply, no TLS close_notify) when
	// the session reaches a stage:
	//
	//	"login"   on LOGIN, before checking the password
	//	"list"    on LIST
	//	"append"  in the middle of an APPEND: after the first bytes of the
	//	          message, before the rest
	Drop string
	// Stall stops answering at a stage, holding the connection open until
	// the test ends:
	//
	//	"greeting"     after the TLS handshake (with StartTLS: on accept),
	//	               before the greeting
	//	"login"        on LOGIN
	//	"list"         on LIST
	//	"select"       on SELECT or EXAMINE
	//	"search"       on SEARCH
	//	"append"       after reading the whole message, before the reply
	//	"append-body"  after the first bytes of the message: the server
	//	               stops reading, so the client's upload blocks
	Stall string
	// Flood answers LIST with more than any client should read:
	//
	//	"line"     one response line that never ends
	//	"literal"  a mailbox name sent as a literal announced as 1 GiB,
	//	           whose bytes keep coming
	//
	// The server stops writing when the client closes the connection (or
	// after 1 GiB).
	Flood string
}

// floodLimit is where a Flood stops if the client never closes.
const floodLimit = 1 << 30

// Hostile is go-imap's own in-memory server (imapserver and imapmemserver)
// on 127.0.0.1, for the failure paths a real server cannot easily be made to
// take: a refused login, NO [OVERQUOTA] on APPEND, a connection reset in the
// middle of an upload, a server that stops answering, a flood of data, and a
// folder other than "Sent Messages" marked \Sent.
type Hostile struct {
	Host     string // "127.0.0.1"
	Port     int
	StartTLS bool // Port speaks plaintext until STARTTLS
	// CA signed the server's certificate; clients trust it through
	// CA.Pool().
	CA *smtptest.CA

	cfg       HostileConfig
	users     map[string]string
	mailboxes []Mailbox
	srv       *imapserver.Server
	stop      chan struct{} // closed at the end of the test: releases stalls

	mu     sync.Mutex
	logins []LoginAttempt
	stages testkit.Stages
	log    bytes.Buffer
}

// LoginAttempt is a LOGIN the server received. The password is not kept.
type LoginAttempt struct {
	User string
	TLS  bool // whether the connection was encrypted
	OK   bool
}

// NewHostile starts a Hostile server and stops it when t ends.
func NewHostile(t testing.TB, cfg HostileConfig) *Hostile {
	t.Helper()
	if err := cfg.validate(); err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	h := &Hostile{
		Host:     "127.0.0.1",
		StartTLS: cfg.StartTLS,
		CA:       cfg.CA,
		cfg:      cfg,
		users:    maps.Clone(cfg.Users),
		stop:     make(chan struct{}),
	}
	if h.users == nil {
		h.users = map[string]string{DefaultUser: DefaultPassword}
	}
	if h.CA == nil {
		var err error
		if h.CA, err = smtptest.NewCA("imaptest CA"); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := h.CA.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	mem := imapmemserver.New()
	h.mailboxes = cfg.Mailboxes
	if h.mailboxes == nil {
		h.mailboxes = ICloudMailboxes()
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapListExtended: {}, imap.CapUIDPlus: {}}
	for name, pw := range h.users {
		u := imapmemserver.NewUser(name, pw)
		for _, m := range h.mailboxes {
			if m.SpecialUse != "" {
				caps[imap.CapSpecialUse] = struct{}{}
			}
			if err := u.Create(m.Name, nil); err != nil {
				t.Fatalf("imaptest: creating %q: %v", m.Name, err)
			}
			if err := u.Subscribe(m.Name); err != nil {
				t.Fatalf("imaptest: subscribing %q: %v", m.Name, err)
			}
		}
		mem.AddUser(u)
	}

	opts := &imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return h.newSession(c, mem.NewSession())
		},
		Caps:   caps,
		Logger: h,
	}
	if cfg.StartTLS {
		if cfg.NoSTARTTLS {
			opts.InsecureAuth = true
		} else {
			opts.TLSConfig = tlsConfig
		}
	}
	h.srv = imapserver.New(opts)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	h.Port = ln.Addr().(*net.TCPAddr).Port
	served := ln
	if !cfg.StartTLS {
		served = tls.NewListener(ln, tlsConfig)
	}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		h.srv.Serve(served) // returns when Close closes ln
	}()
	t.Cleanup(func() {
		close(h.stop)
		h.srv.Close()
		<-serveDone
		if t.Failed() {
			h.mu.Lock()
			t.Logf("imaptest: hostile server's log:\n%s", h.log.String())
			h.mu.Unlock()
		}
	})
	return h
}

func (cfg *HostileConfig) validate() error {
	if cfg.NoSTARTTLS && !cfg.StartTLS {
		return errors.New("NoSTARTTLS needs StartTLS")
	}
	switch cfg.Drop {
	case "", "login", "list", "append":
	default:
		return fmt.Errorf("unknown Drop stage %q", cfg.Drop)
	}
	switch cfg.Stall {
	case "", "greeting", "login", "list", "select", "search", "append", "append-body":
	default:
		return fmt.Errorf("unknown Stall stage %q", cfg.Stall)
	}
	switch cfg.Flood {
	case "", "line", "literal":
	default:
		return fmt.Errorf("unknown Flood %q", cfg.Flood)
	}
	return nil
}

// Addr is the server's address, "127.0.0.1:PORT".
func (h *Hostile) Addr() string { return net.JoinHostPort(h.Host, strconv.Itoa(h.Port)) }

// TLSConfig trusts the server's certificate and nothing else.
func (h *Hostile) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: h.CA.Pool(), ServerName: h.Host, MinVersion: tls.VersionTLS12}
}

// Logins returns every LOGIN received so far.
func (h *Hostile) Logins() []LoginAttempt {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]LoginAttempt(nil), h.logins...)
}

// Reached returns a channel closed once a session has reached stage (one
// of the stages of Drop and Stall), so that a test can act at that moment
// without sleeping.
func (h *Hostile) Reached(stage string) <-chan struct{} { return h.stages.Reached(stage) }

func (h *Hostile) reach(stage string) { h.stages.Reach(stage) }

// Messages returns every message in user's mailbox, oldest first. The
// server must be well-behaved enough for a session to read them.
func (h *Hostile) Messages(t testing.TB, user, mailbox string) []Message {
	t.Helper()
	return h.endpoint(t).messages(t, user, h.password(t, user), mailbox)
}

// Folders returns user's mailboxes as LIST shows them, sorted by name.
func (h *Hostile) Folders(t testing.TB, user string) []Folder {
	t.Helper()
	return h.endpoint(t).folders(t, user, h.password(t, user))
}

func (h *Hostile) endpoint(t testing.TB) endpoint {
	t.Helper()
	if h.cfg.NoSTARTTLS {
		t.Fatal("imaptest: the helpers never log in without TLS")
	}
	return endpoint{addr: h.Addr(), tls: h.TLSConfig(), startTLS: h.StartTLS}
}

func (h *Hostile) password(t testing.TB, user string) string {
	t.Helper()
	pw, ok := h.users[user]
	if !ok {
		t.Fatalf("imaptest: no user %q on this server", user)
	}
	return pw
}

// Printf logs the server's own errors, shown if the test fails.
func (h *Hostile) Printf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(&h.log, format+"\n", args...)
}

// stall blocks until the test ends.
func (h *Hostile) stall() error {
	<-h.stop
	return errors.New("imaptest: server stopped")
}

// session wraps imapmemserver's session with the configured failures.
type session struct {
	imapserver.Session
	h    *Hostile
	conn *imapserver.Conn
}

func (h *Hostile) newSession(c *imapserver.Conn, inner imapserver.Session) (imapserver.Session, *imapserver.GreetingData, error) {
	if h.cfg.Stall == "greeting" {
		if tc, ok := c.NetConn().(*tls.Conn); ok {
			_ = tc.Handshake() // TLS works; only the greeting never comes
		}
		h.reach("greeting")
		return nil, nil, h.stall()
	}
	return &session{Session: inner, h: h, conn: c}, nil, nil
}

// at applies Drop and Stall for stage.
func (s *session) at(stage string) error {
	s.h.reach(stage)
	switch stage {
	case s.h.cfg.Drop:
		s.reset()
		return errors.New("imaptest: connection dropped")
	case s.h.cfg.Stall:
		return s.h.stall()
	}
	return nil
}

// reset closes the TCP connection with RST, under any TLS.
func (s *session) reset() {
	c := s.conn.NetConn()
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}

func (s *session) Login(username, password string) error {
	if err := s.at("login"); err != nil {
		return err
	}
	err := s.Session.Login(username, password)
	if err == nil && s.h.cfg.LoginError != nil {
		err = s.h.cfg.LoginError
	}
	_, isTLS := s.conn.NetConn().(*tls.Conn)
	s.h.mu.Lock()
	s.h.logins = append(s.h.logins, LoginAttempt{User: username, TLS: isTLS, OK: err == nil})
	s.h.mu.Unlock()
	return err
}

func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if err := s.at("list"); err != nil {
		return err
	}
	switch s.h.cfg.Flood {
	case "line":
		return s.flood("* OK [ALERT] ")
	case "literal":
		return s.flood(fmt.Sprintf("* LIST () \"/\" {%d}\r\n", floodLimit))
	}
	// imapmemserver (v2.0.0-beta.8) drops the special-use attributes given
	// to Create, so the configured mailboxes are listed here, with their
	// attributes whether or not the client asked for them.
	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	for _, m := range s.h.mailboxes {
		if !slices.ContainsFunc(patterns, func(p string) bool { return imapserver.MatchList(m.Name, delim, ref, p) }) {
			continue
		}
		data := &imap.ListData{Mailbox: m.Name, Delim: delim}
		if m.SpecialUse != "" {
			data.Attrs = []imap.MailboxAttr{imap.MailboxAttr(m.SpecialUse)}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// delim is imapmemserver's hierarchy delimiter.
const delim = '/'

// flood writes head, then bytes without a line end until the client goes
// away, straight to the connection.
func (s *session) flood(head string) error {
	c := s.conn.NetConn()
	if _, err := io.WriteString(c, head); err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	for n := 0; n < floodLimit; n += len(chunk) {
		select {
		case <-s.h.stop:
			return errors.New("imaptest: server stopped")
		default:
		}
		if _, err := c.Write(chunk); err != nil {
			return err
		}
	}
	return errors.New("imaptest: flood finished")
}

func (s *session) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if err := s.at("select"); err != nil {
		return nil, err
	}
	return s.Session.Select(mailbox, options)
}

func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if err := s.at("search"); err != nil {
		return nil, err
	}
	return s.Session.Search(kind, criteria, options)
}

func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	// Read a first piece, so that "in the middle" is after the upload began.
	first := make([]byte, 1024)
	n, err := io.ReadFull(r, first)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	first = first[:n]
	s.h.reach("append-body")
	switch {
	case s.h.cfg.Drop == "append":
		s.h.reach("append")
		s.reset()
		return nil, errors.New("imaptest: connection dropped")
	case s.h.cfg.Stall == "append-body":
		return nil, s.h.stall()
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := s.at("append"); err != nil {
		return nil, err
	}
	if s.h.cfg.AppendError != nil {
		return nil, s.h.cfg.AppendError
	}
	all := append(first, rest...)
	return s.Session.Append(mailbox, literal{bytes.NewReader(all)}, options)
}

// literal is an imap.LiteralReader over bytes already read.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }
