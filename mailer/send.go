package mailer

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for Client.
const (
	DefaultConnectTimeout = 15 * time.Second
	DefaultReplyTimeout   = 30 * time.Second
	// DefaultMinUploadRate is the slowest upload, in bytes per second, that
	// the upload deadline allows for: 20 MB gets about 13 minutes.
	DefaultMinUploadRate = 25_000
	// DefaultSessionTimeout and DefaultSessionPerRecipient bound a whole
	// session (see Client.SessionTimeout): a message to 500 recipients
	// gets about 19 minutes besides its upload.
	DefaultSessionTimeout      = 2 * time.Minute
	DefaultSessionPerRecipient = 2 * time.Second
)

// Client sends messages and checks logins. The zero value is ready to use;
// the fields exist so tests and callers can shorten the waits.
//
// Every stage has a deadline of its own: the connect, the greeting, the TLS
// handshake, each reply (EHLO, each exchange of the login, MAIL, each RCPT,
// DATA, the verdict after the final dot), and the upload one that grows
// with the message's size. The session as a whole has one more, so that a
// server answering each command just in time cannot hold a send for hours.
//
// There is no setting to skip certificate verification, to allow a
// plaintext connection, or to retry: a send is attempted once. (A session
// opened ahead with Connect and found gone at MAIL FROM, before anything
// of the message went out, is replaced once; see Connection.Send.)
type Client struct {
	// ConnectTimeout bounds resolving the host and opening the TCP
	// connection.
	ConnectTimeout time.Duration
	// ReplyTimeout bounds the TLS handshake and the wait for each reply.
	ReplyTimeout time.Duration
	// MinUploadRate sets the upload deadline: ReplyTimeout plus the
	// message size divided by this many bytes per second.
	MinUploadRate int64
	// SessionTimeout bounds the whole session, from connect to the
	// server's verdict, together with ConnectTimeout, the upload's
	// allowance (the size divided by MinUploadRate) and
	// SessionPerRecipient for each recipient.
	SessionTimeout time.Duration
	// SessionPerRecipient is what each recipient adds to the session's
	// deadline.
	SessionPerRecipient time.Duration
	// OnStage, if set, is called each time a stage ends, successfully or
	// not, one call at a time, on the sending goroutine (with Connect, up
	// to the login on the goroutine that connects).
	OnStage func(StageResult)
}

// StageResult says how one stage of a session went.
type StageResult struct {
	Stage   Stage         `json:"stage"`
	OK      bool          `json:"ok"`
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Result describes a message the server accepted.
type Result struct {
	MessageID  string
	Recipients []string
	// Reply is the server's reply to the end of the message.
	Reply string
	Size  int64
}

// Outgoing is a message ready for the wire: its envelope and its exact
// bytes. Prepare makes one from a Message (Prepared.Outgoing); the outbox
// makes one from a message frozen on disk.
type Outgoing struct {
	// From is the bare address given in MAIL FROM.
	From string
	// Recipients are the bare addresses given in RCPT TO.
	Recipients []string
	// MessageID is the Message-ID header, without angle brackets.
	MessageID string
	// Size is the number of bytes Content writes (before dot-stuffing).
	Size int64
	// Content writes the message: headers and body, CRLF line endings.
	Content io.WriterTo
	// BeforeDot, if set, runs once the whole message has been uploaded,
	// just before the final dot that lets the server accept it. If it
	// fails, the session stops without the dot: nothing is delivered.
	// The outbox records there, durably, that the message may be
	// delivered from now on.
	BeforeDot func() error
}

// PasswordFunc supplies the password for the login, for example from the
// keychain. Its error is returned as it is.
type PasswordFunc func(ctx context.Context) (string, error)

// Password is a PasswordFunc for a password already known.
func Password(pw string) PasswordFunc {
	return func(context.Context) (string, error) { return pw, nil }
}

// Send connects to a's server, secures the connection, logs in with the
// password from pw and sends out, once. pw runs while the connection is
// being made: reading a keychain takes a few D-Bus round trips that need not
// wait for the network, nor the network for them; if it fails, the send
// stops and returns pw's error. Cancelling ctx stops the send at any stage,
// in the middle of the upload included. Every other error is an *Error.
//
// Send is Connect and Connection.Send at once, on the caller's goroutine;
// the Outbox connects first, while it freezes the message.
func (c *Client) Send(ctx context.Context, a Account, pw PasswordFunc, out *Outgoing) (*Result, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	s, err := c.open(ctx, a, pw, c.sessionTimeout(out.Size, len(out.Recipients)))
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.send(out)
}

// Check resolves the host, connects, secures the connection, reads the
// greeting and logs in with the password from pw (read while connecting,
// as for Send), then says goodbye without sending anything. It returns
// every stage it went through, the failed one last; the error, if any, is
// an *Error or pw's.
func (c *Client) Check(ctx context.Context, a Account, pw PasswordFunc) ([]StageResult, error) {
	var stages []StageResult
	cc := *c
	cc.OnStage = func(r StageResult) {
		stages = append(stages, r)
		if c.OnStage != nil {
			c.OnStage(r)
		}
	}
	if err := a.Validate(); err != nil {
		return stages, err
	}
	s, err := cc.open(ctx, a, pw, cc.sessionTimeout(0, 0))
	if err != nil {
		return stages, err
	}
	s.quit()
	s.close()
	return stages, nil
}

func (c *Client) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (c *Client) replyTimeout() time.Duration {
	if c.ReplyTimeout > 0 {
		return c.ReplyTimeout
	}
	return DefaultReplyTimeout
}

func (c *Client) minUploadRate() int64 {
	if c.MinUploadRate > 0 {
		return c.MinUploadRate
	}
	return DefaultMinUploadRate
}

func (c *Client) uploadTimeout(size int64) time.Duration {
	return c.replyTimeout() + time.Duration(size/c.minUploadRate())*time.Second
}

// sessionTimeout is the deadline of a whole session for a message of size
// bytes to n recipients (0 and 0 for a check).
func (c *Client) sessionTimeout(size int64, n int) time.Duration {
	base, per := c.SessionTimeout, c.SessionPerRecipient
	if base <= 0 {
		base = DefaultSessionTimeout
	}
	if per <= 0 {
		per = DefaultSessionPerRecipient
	}
	return c.connectTimeout() + base + time.Duration(n)*per + time.Duration(size/c.minUploadRate())*time.Second
}

// errSessionTimeout is the cause of a session's context when its overall
// deadline passed.
var errSessionTimeout = errors.New("mailer: the session's deadline passed")

// session is one connection, from dial to close.
type session struct {
	c       *Client
	ctx     context.Context
	a       Account
	conn    *watchedConn
	smtp    *smtpConn
	stop    func() bool // stops closing the connection when ctx ends
	stage   Stage
	started time.Time
	// limit is the session's overall deadline, for the message that says
	// it passed.
	limit time.Duration

	// pw is the password, read while the session connects; cancel stops
	// the connecting when it cannot be had. pwFailed is the password's
	// error once the session has stopped because of it: only then does
	// open return it instead of what went wrong on the wire.
	pw       *pendingPassword
	pwFailed error
	cancel   context.CancelFunc
	// secrets are the password and its encodings as they go on the wire,
	// cut out of every reply kept: some servers repeat the AUTH line.
	secrets []string
}

// passwordFailed ends the session because the password could not be had,
// reporting the keychain as the stage that failed.
func (s *session) passwordFailed(err error) {
	s.pwFailed = err
	if s.c.OnStage != nil {
		s.c.OnStage(StageResult{Stage: StageKeychain, OK: false, Detail: err.Error(), Elapsed: time.Since(s.started)})
	}
	s.close()
}

func (s *session) begin(st Stage) {
	s.stage = st
	s.started = time.Now()
}

func (s *session) ok(detail string) {
	if s.c.OnStage != nil {
		s.c.OnStage(StageResult{Stage: s.stage, OK: true, Detail: detail, Elapsed: time.Since(s.started)})
	}
}

// arm gives the next exchange d to complete; the session's own deadline,
// which closes the connection, may come first.
func (s *session) arm(d time.Duration) {
	_ = s.conn.SetDeadline(time.Now().Add(d))
}

// fail turns err at the current stage into an *Error and reports the stage.
func (s *session) fail(err error) *Error {
	e := s.diagnose(err)
	// Checked before close: after it, the password's own goroutine may
	// report the cancel that close causes, which is not the reason.
	if perr := s.pw.failed(); perr != nil {
		// Connecting stopped because the password could not be had; open
		// returns that error.
		s.passwordFailed(perr)
		return e
	}
	if s.c.OnStage != nil {
		detail := e.Detail
		switch {
		case detail == "" && e.Reply != nil:
			detail = e.Reply.String()
		case detail == "" && e.Err != nil:
			detail = e.Err.Error()
		}
		s.c.OnStage(StageResult{Stage: s.stage, OK: false, Detail: detail, Elapsed: time.Since(s.started)})
	}
	if s.smtp != nil || s.conn != nil {
		s.close()
	}
	return e
}

// visible is text from the server made fit to keep and show: without the
// password and with control characters escaped.
func (s *session) visible(text string) string {
	return Printable(s.scrub(text))
}

// scrub cuts the password, in every form it went on the wire, out of text.
func (s *session) scrub(text string) string {
	for _, sec := range s.secrets {
		text = strings.ReplaceAll(text, sec, "[redacted]")
	}
	return text
}

// secretForms are the password and its encodings as AUTH PLAIN and AUTH
// LOGIN send them, each also without base64's padding, which a server
// repeating them may drop.
func secretForms(user, password string) []string {
	if password == "" {
		return nil
	}
	enc := func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
	forms := []string{
		enc("\x00" + user + "\x00" + password), // AUTH PLAIN
		enc(password),                          // AUTH LOGIN
		"\x00" + user + "\x00" + password,
		password,
	}
	// Longest first, so that no form is cut in half by a shorter one.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return forms
}

func (c *Client) open(parent context.Context, a Account, pwf PasswordFunc, limit time.Duration) (_ *session, err error) {
	lctx, lcancel := context.WithTimeoutCause(parent, limit, errSessionTimeout)
	ctx, cancel := context.WithCancel(lctx)
	s := &session{c: c, ctx: ctx, a: a, limit: limit, cancel: func() { cancel(); lcancel() }}
	WarmRoots()
	s.pw = startPassword(ctx, pwf, cancel)
	defer func() {
		if err != nil && s.pwFailed != nil {
			err = s.pwFailed
		}
		if err != nil {
			s.cancel()
		}
	}()
	host := strings.TrimSuffix(strings.TrimSpace(a.Host), ".")
	raw, err := connect(ctx, host, a.Port, c.connectTimeout(), s.begin, s.ok)
	if err != nil {
		return nil, s.fail(err)
	}
	s.conn = &watchedConn{Conn: raw}
	// Cancelling ctx, or its deadline, closes the connection, which
	// unblocks whatever the session is waiting on, the upload included.
	s.stop = context.AfterFunc(ctx, func() { raw.Close() })
	s.ok(raw.RemoteAddr().String())

	rt := c.replyTimeout()
	tlsConfig := ClientTLS(host, nil)
	var conn net.Conn = s.conn
	if a.Security == ImplicitTLS {
		s.begin(StageTLS)
		tc := tls.Client(s.conn, tlsConfig)
		s.arm(rt)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, s.fail(err)
		}
		s.ok(tlsDetail(tc.ConnectionState()))
		conn = tc
	}

	s.begin(StageGreeting)
	s.arm(rt)
	sc, err := newSMTPConn(conn)
	if err != nil {
		return nil, s.fail(err)
	}
	s.smtp = sc
	s.arm(rt)
	if err := sc.helloAs("localhost"); err != nil {
		return nil, s.fail(err)
	}
	s.ok(s.visible(sc.hello))

	secured := a.Security == ImplicitTLS
	if a.Security == StartTLS {
		s.begin(StageTLS)
		if ok, _ := sc.extension("STARTTLS"); !ok {
			return nil, s.fail(errNoSTARTTLS)
		}
		s.arm(rt)
		tc, err := sc.startTLS(tlsConfig)
		if err != nil {
			return nil, s.fail(err)
		}
		s.arm(rt)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, s.fail(err)
		}
		s.arm(rt)
		if err := sc.secured(tc, "localhost"); err != nil {
			return nil, s.fail(err)
		}
		s.ok(tlsDetail(tc.ConnectionState()))
		secured = true
	}

	s.begin(StageLogin)
	if tc, ok := sc.conn.(*tls.Conn); !secured || !ok || !tc.ConnectionState().HandshakeComplete {
		// Never reached: both paths above end on TLS. Kept so that no future
		// change can send the password in the clear.
		return nil, s.fail(errNoSTARTTLS)
	}
	ok, mechs := sc.extension("AUTH")
	if !ok {
		return nil, s.fail(errNoAuth)
	}
	password, known, err := s.pw.wait(s.ctx)
	switch {
	case err != nil && !known:
		return nil, s.fail(err) // the session ended while waiting
	case err != nil:
		s.passwordFailed(err)
		return nil, err
	}
	s.secrets = secretForms(a.Username, password)
	s.arm(rt)
	switch {
	case hasWord(mechs, "PLAIN"):
		err = sc.authPlain(a.Username, password)
	case hasWord(mechs, "LOGIN"):
		// Each exchange gets the reply timeout.
		err = sc.authLogin(a.Username, password)
	default:
		return nil, s.fail(fmt.Errorf("%w (it offers %s)", errNoAuth, s.visible(mechs)))
	}
	if err != nil {
		return nil, s.fail(err)
	}
	s.ok("logged in as " + a.Username)
	return s, nil
}

func (s *session) send(p *Outgoing) (*Result, error) {
	sc := s.smtp
	rt := s.c.replyTimeout()

	s.begin(StageSender)
	if err := s.ctx.Err(); err != nil {
		// Ended between the login and now (a session opened ahead).
		return nil, s.fail(err)
	}
	mail := "MAIL FROM:<" + EnvelopeAddress(p.From) + ">"
	if ok, _ := sc.extension("8BITMIME"); ok {
		mail += " BODY=8BITMIME"
	}
	if ok, _ := sc.extension("SMTPUTF8"); ok && !isASCII(p.From, p.Recipients) {
		mail += " SMTPUTF8"
	}
	s.arm(rt)
	if _, err := sc.cmd(250, mail); err != nil {
		return nil, s.fail(err)
	}
	s.ok(p.From)

	s.begin(StageRcpt)
	var (
		rejected []string
		first    error
	)
	for _, r := range p.Recipients {
		s.arm(rt)
		if _, err := sc.cmd(25, "RCPT TO:<"+EnvelopeAddress(r)+">"); err != nil {
			var te *textproto.Error
			if !errors.As(err, &te) {
				return nil, s.fail(err) // the connection, not the recipient
			}
			rejected = append(rejected, r)
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		// Any refused recipient stops the whole message: nobody gets it.
		s.arm(rt)
		_, _ = sc.cmd(250, "RSET")
		e := s.fail(first)
		if e.Kind == KindRecipientRejected || e.Kind == KindTemporary || e.Kind == KindRateLimited {
			e.Rejected = rejected
			e.Detail = fmt.Sprintf("refused %s", strings.Join(rejected, ", "))
		}
		return nil, e
	}
	s.ok(fmt.Sprintf("%d recipients", len(p.Recipients)))

	s.begin(StageData)
	s.arm(rt)
	if _, err := sc.cmd(354, "DATA"); err != nil {
		return nil, s.fail(err)
	}
	s.arm(s.c.uploadTimeout(p.Size))
	w := newDotWriter(sc.w)
	n, err := p.Content.WriteTo(w)
	if err == nil && n != p.Size {
		err = &Error{Kind: KindInvalidMessage, Stage: StageData,
			Detail: fmt.Sprintf("the message was %d bytes, not the %d announced", n, p.Size)}
	}
	if err != nil {
		return nil, s.fail(err)
	}
	if p.BeforeDot != nil {
		if err := p.BeforeDot(); err != nil {
			return nil, s.fail(err)
		}
	}
	// The final dot goes out with the last piece of the message. Once that
	// write has begun the server may have the whole message, so a failure
	// from here on is reported as "may have been sent".
	s.ok(FormatSize(p.Size))
	s.begin(StageAccepted)
	if err := w.Close(); err != nil {
		return nil, s.fail(err)
	}
	if err := sc.w.Flush(); err != nil {
		return nil, s.fail(err)
	}

	// Nothing retries from here on, and a lost connection is reported as
	// "may have been sent".
	s.arm(rt)
	reply, err := sc.expect(250)
	if err != nil {
		return nil, s.fail(err)
	}
	reply = s.visible(firstLine(reply))
	s.ok(reply)
	s.quit()
	return &Result{MessageID: p.MessageID, Recipients: p.Recipients, Reply: "250 " + reply, Size: p.Size}, nil
}

func isASCII(from string, to []string) bool {
	for _, s := range append([]string{from}, to...) {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}

// quit says goodbye politely but briefly; its outcome does not matter.
func (s *session) quit() {
	if s.smtp != nil {
		s.arm(2 * time.Second)
		_, _ = s.smtp.cmd(221, "QUIT")
	}
}

func (s *session) close() {
	if s.stop != nil {
		s.stop()
	}
	if s.cancel != nil {
		s.cancel()
	}
	// The TCP connection alone: a TLS close_notify could wait on a server
	// that stopped reading.
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

var (
	errNoSTARTTLS = errors.New("the server does not offer STARTTLS")
	errNoAuth     = errors.New("the server does not offer login with PLAIN or LOGIN")
)

// diagnose classifies err, which happened at the current stage.
func (s *session) diagnose(err error) *Error {
	var own *Error
	if errors.As(err, &own) {
		// Already diagnosed where it happened (a file that changed while
		// it was being sent, the outbox failing to record the dot).
		e := *own
		if e.Stage == "" {
			e.Stage = s.stage
		}
		return &e
	}
	e := &Error{Stage: s.stage, Err: err}
	var (
		te  *textproto.Error
		pe  *protocolError
		str *startTLSRefused
	)
	switch {
	case s.ctx.Err() != nil && !errors.As(err, &te):
		e.Err = s.ctx.Err()
		switch {
		case errors.Is(context.Cause(s.ctx), errSessionTimeout):
			e.Kind, e.Detail = KindTimeout, fmt.Sprintf("the session took longer than the %s allowed for this message", s.limit.Round(time.Second))
		case errors.Is(s.ctx.Err(), context.DeadlineExceeded), errors.Is(context.Cause(s.ctx), context.DeadlineExceeded):
			// The caller's deadline, reaching a Connection's session as
			// the cause of a cancel.
			e.Kind, e.Detail = KindTimeout, "the time allowed for sending ran out"
		default:
			e.Kind, e.Detail = KindCancelled, "cancelled"
		}
		if s.stage == StageAccepted {
			e.Detail += " after the message was uploaded, before the server confirmed it"
		}
	case errors.As(err, &pe):
		e.Kind, e.Detail = KindProtocol, pe.Error()
	case errors.As(err, &str):
		te := s.scrubbed(str.reply)
		e.Kind, e.Reply, e.Err = KindTLSUnavailable, parseReply(te), te
		e.Detail = "the server offered STARTTLS, then refused it"
	case errors.Is(err, errCleartextAfterSTARTTLS):
		e.Kind, e.Detail = KindTLSUnavailable, err.Error()
	case errors.As(err, &te):
		te = s.scrubbed(te)
		e.Err = te
		e.Reply = parseReply(te)
		e.Kind = Classify(s.stage, *e.Reply)
	case errors.Is(err, errNoAuth):
		e.Kind, e.Detail = KindUnknown, err.Error()
	default:
		// A failure of the network or of TLS: the same for every protocol.
		var read int64
		if s.conn != nil {
			read = s.conn.read.Load()
		}
		kind, detail, ok := ClassifyNet(err, NetFailure{
			Stage: s.stage, Host: s.a.Host, Port: s.a.Port, StartTLS: s.a.Security == StartTLS,
			BytesRead: read, ConnectTimeout: s.c.connectTimeout(), ReplyTimeout: s.c.replyTimeout(),
		})
		if !ok {
			e.Kind = KindUnknown
			e.Err = errors.New(s.visible(err.Error()))
			break
		}
		e.Kind, e.Detail = kind, detail
		switch {
		case kind == KindTimeout && s.stage == StageData:
			e.Detail = "the upload did not finish in time"
		case kind == KindTimeout && s.stage == StageAccepted:
			e.Detail = "no answer after the message was uploaded"
		case kind == KindConnectionLost && s.stage == StageAccepted:
			e.Detail = "the server closed the connection after the message was uploaded, before confirming it"
		}
	}
	return e
}

// scrubbed is te as it may be kept: without the password, and printable.
func (s *session) scrubbed(te *textproto.Error) *textproto.Error {
	return &textproto.Error{Code: te.Code, Msg: s.visible(te.Msg)}
}

// isTLSVersionError reports whether err is a handshake that failed because
// the server speaks only a version of TLS older than 1.2. crypto/tls says so
// only in words.
func isTLSVersionError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol version") || strings.Contains(msg, "protocol version not supported")
}

func tlsDetail(st tls.ConnectionState) string {
	return tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// watchedConn counts the bytes read, to tell a silent server from a slow one.
type watchedConn struct {
	net.Conn
	read atomic.Int64
}

func (w *watchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.read.Add(int64(n))
	return n, err
}
