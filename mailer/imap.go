package mailer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// The iCloud Mail IMAP defaults.
const (
	ICloudIMAPHost      = "imap.mail.me.com"
	IMAPImplicitTLSPort = 993
	IMAPStartTLSPort    = 143
)

// IMAPAccount is where the copy of a sent message is filed. It holds no
// password: the one of the sending account is used. Zero Port and Security
// mean iCloud's: port 993 with TLS from the first byte (143 for StartTLS).
type IMAPAccount struct {
	Host     string   `json:"host"`
	Port     int      `json:"port,omitempty"`
	Security Security `json:"security,omitempty"`
	// Username is the login, for iCloud the full address, as for sending.
	Username string `json:"username"`
}

// DefaultIMAP returns iCloud's settings: imap.mail.me.com, 993, SSL/TLS.
func DefaultIMAP() IMAPAccount {
	return IMAPAccount{Host: ICloudIMAPHost, Port: IMAPImplicitTLSPort, Security: ImplicitTLS}
}

// withDefaults fills in a zero Security and Port.
func (a IMAPAccount) withDefaults() IMAPAccount {
	if a.Security == "" {
		a.Security = ImplicitTLS
	}
	if a.Port == 0 {
		a.Port = a.Security.UsualIMAPPort()
	}
	return a
}

// Addr is host:port, with the default port if Port is zero.
func (a IMAPAccount) Addr() string {
	a = a.withDefaults()
	return netJoin(strings.TrimSpace(a.Host), a.Port)
}

// Validate checks every field and names the first bad one. Its errors are
// *Error of KindInvalidAccount. An empty host is an error, not iCloud's:
// the password must never go to a server the user did not choose.
func (a IMAPAccount) Validate() error {
	bad := func(format string, args ...any) error {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Detail: "imap " + fmt.Sprintf(format, args...)}
	}
	a = a.withDefaults()
	host := strings.TrimSpace(a.Host)
	switch {
	case host == "":
		return bad("host is empty (iCloud's is %s)", ICloudIMAPHost)
	case strings.ContainsAny(host, " \t\r\n/@"):
		return bad("host %q is not a host name", host)
	}
	if a.Port < 1 || a.Port > 65535 {
		return bad("port %d is not between 1 and 65535", a.Port)
	}
	if a.Security != StartTLS && a.Security != ImplicitTLS {
		return bad("security %q is not starttls or ssl", a.Security)
	}
	switch {
	case strings.TrimSpace(a.Username) == "":
		return bad("username is empty: use your full iCloud address, like name@icloud.com")
	case hasCRLF(a.Username):
		return bad("username contains a line break")
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), ICloudIMAPHost) {
		if _, err := parseBareAddress(a.Username); err != nil {
			return bad("username %q is not a full email address: iCloud needs the whole address, like name@icloud.com", a.Username)
		}
	}
	return nil
}

// CopyOutcome says what filing a sent message's copy did.
type CopyOutcome string

const (
	// CopyFiled: the copy was appended to the Sent folder.
	CopyFiled CopyOutcome = "filed"
	// CopyAlreadyThere: the Sent folder already held a message with that
	// Message-ID (the server filed its own copy, or an earlier attempt
	// did), so nothing was appended.
	CopyAlreadyThere CopyOutcome = "already-there"
)

// IMAPClient files copies of sent messages in the Sent folder and checks
// IMAP logins. The zero value is ready to use; the fields exist so tests
// and callers can shorten the waits.
//
// Like Client, it has no setting to skip certificate verification or to
// log in without TLS, and it never creates a folder.
type IMAPClient struct {
	// ConnectTimeout bounds resolving the host and opening the TCP
	// connection; zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ReplyTimeout bounds the TLS handshake and each command's reply; zero
	// means DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// MinUploadRate sets the deadline of an APPEND: ReplyTimeout plus the
	// size divided by this many bytes per second; zero means
	// DefaultMinUploadRate.
	MinUploadRate int64
	// RootCAs, if set, are the only authorities trusted for the server's
	// certificate; nil means the system's (TrustedRoots). For tests.
	RootCAs *x509.CertPool
	// OnStage, if set, is called (on the calling goroutine) each time a
	// stage ends, successfully or not.
	OnStage func(StageResult)
}

// maxIMAPReply bounds what the server may send in answer to one command:
// LIST of an account with ten thousand folders fits. go-imap's client
// (v2.0.0-beta.8) reads response lines and literals into memory without a
// limit of its own, so the connection under it counts the bytes read since
// the last command and fails past this many.
const maxIMAPReply = 1 << 20

// sentNames are the names the Sent folder goes by, in the order they are
// looked for when no folder is marked \Sent. iCloud's is the first.
var sentNames = []string{"Sent Messages", "Sent", "Sent Items", "Sent Mail"}

// FileSentCopy files raw, the size bytes of a message that was sent, in the
// account's Sent folder, flagged \Seen with date as its internal date
// (zero: the server's clock). It finds the Sent folder (see Check), then
// searches it for messageID (with or without its angle brackets) and
// appends the copy only if no message there has that Message-ID, so that
// calling it again, or after a server that files its own copy, makes no
// duplicate. It never creates a folder.
//
// raw is read while uploading, so it should be a file or a buffer: a read
// that blocks cannot be cancelled. Cancelling ctx stops it at any stage,
// in the middle of the upload included. Every error is an *Error, except
// pw's, which is returned as it is; none contains the password.
func (c *IMAPClient) FileSentCopy(ctx context.Context, a IMAPAccount, pw PasswordFunc, messageID string, date time.Time, raw io.Reader, size int64) (_ CopyOutcome, err error) {
	defer markIMAP(&err, true)
	id, err := c.validate(a, messageID)
	if err != nil {
		return "", err
	}
	if raw == nil || size <= 0 {
		return "", &Error{Kind: KindInvalidMessage, Stage: StageValidate, Detail: fmt.Sprintf("the copy to file is empty (%d bytes)", size)}
	}
	s, err := c.open(ctx, a, pw)
	if err != nil {
		return "", err
	}
	defer s.close()
	folder, err := s.findSent()
	if err != nil {
		return "", err
	}
	found, err := s.search(folder, id)
	if err != nil {
		return "", err
	}
	if found {
		s.logout()
		return CopyAlreadyThere, nil
	}
	if err := s.append(folder, date, raw, size); err != nil {
		return "", err
	}
	s.logout()
	return CopyFiled, nil
}

// FindSent reports whether the account's Sent folder holds a message with
// messageID: whether a server that files its own copies has the message,
// when the send's outcome is unknown. Errors are as for FileSentCopy.
func (c *IMAPClient) FindSent(ctx context.Context, a IMAPAccount, pw PasswordFunc, messageID string) (_ bool, err error) {
	defer markIMAP(&err, false)
	id, err := c.validate(a, messageID)
	if err != nil {
		return false, err
	}
	s, err := c.open(ctx, a, pw)
	if err != nil {
		return false, err
	}
	defer s.close()
	folder, err := s.findSent()
	if err != nil {
		return false, err
	}
	found, err := s.search(folder, id)
	if err != nil {
		return false, err
	}
	s.logout()
	return found, nil
}

// Check resolves the host, connects, secures the connection, reads the
// greeting, logs in and finds the Sent folder: the one marked \Sent if the
// server marks one, else the first of "Sent Messages", "Sent", "Sent
// Items" and "Sent Mail" (any case, also under INBOX). It returns every
// stage it went through, the failed one last; the error, if any, is an
// *Error (or pw's own).
func (c *IMAPClient) Check(ctx context.Context, a IMAPAccount, pw PasswordFunc) (_ []StageResult, err error) {
	defer markIMAP(&err, false)
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
	s, err := cc.open(ctx, a, pw)
	if err != nil {
		return stages, err
	}
	defer s.close()
	if _, err := s.findSent(); err != nil {
		return stages, err
	}
	s.logout()
	return stages, nil
}

// markIMAP marks an *Error as the IMAP side's, for its hint and fix, and
// as one filing the copy of a message sent when afterSend.
func markIMAP(err *error, afterSend bool) {
	var e *Error
	if *err != nil && errors.As(*err, &e) && e.Protocol == "" {
		c := *e
		c.Protocol, c.AfterSend = ProtocolIMAP, afterSend
		*err = &c
	}
}

func (c *IMAPClient) validate(a IMAPAccount, messageID string) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	id, err := searchableMessageID(messageID)
	if err != nil {
		return "", &Error{Kind: KindInvalidMessage, Stage: StageValidate, Detail: err.Error()}
	}
	return id, nil
}

// searchableMessageID returns id in angle brackets, the form the header
// holds, so that the search (a substring match) cannot find a longer ID.
func searchableMessageID(id string) (string, error) {
	bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if bare == "" {
		return "", errors.New("the Message-ID is empty")
	}
	for _, r := range bare {
		if r <= ' ' || r > '~' || r == '<' || r == '>' {
			return "", fmt.Errorf("the Message-ID %q is not a valid message ID", id)
		}
	}
	return "<" + bare + ">", nil
}

func (c *IMAPClient) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (c *IMAPClient) replyTimeout() time.Duration {
	if c.ReplyTimeout > 0 {
		return c.ReplyTimeout
	}
	return DefaultReplyTimeout
}

func (c *IMAPClient) uploadTimeout(size int64) time.Duration {
	rate := c.MinUploadRate
	if rate <= 0 {
		rate = DefaultMinUploadRate
	}
	return c.replyTimeout() + time.Duration(size/rate)*time.Second
}

// imapSession is one IMAP connection, from dial to close.
type imapSession struct {
	c       *IMAPClient
	ctx     context.Context
	cancel  context.CancelFunc
	a       IMAPAccount // with defaults
	host    string
	conn    *imapConn
	client  *imapclient.Client
	stop    func() bool // stops closing the connection when ctx ends
	stage   Stage
	started time.Time

	// pw is the password, read while the session connects.
	pw *pendingPassword
}

// open connects, secures the connection, reads the greeting and logs in.
func (c *IMAPClient) open(parent context.Context, a IMAPAccount, pwf PasswordFunc) (_ *imapSession, err error) {
	if pwf == nil {
		return nil, &Error{Kind: KindKeychain, Stage: StageKeychain, Detail: "no password was given"}
	}
	ctx, cancel := context.WithCancel(parent)
	a = a.withDefaults()
	s := &imapSession{
		c: c, ctx: ctx, cancel: cancel, a: a,
		host: strings.TrimSuffix(strings.TrimSpace(a.Host), "."),
	}
	if c.RootCAs == nil {
		WarmRoots()
	}
	s.pw = startPassword(ctx, pwf, cancel)
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	raw, err := connect(ctx, s.host, a.Port, c.connectTimeout(), s.begin, s.ok)
	if err != nil {
		return nil, s.fail(err)
	}
	s.conn = &imapConn{Conn: raw}
	// Cancelling ctx closes the connection, which unblocks whatever the
	// session waits on: go-imap's client has no context of its own.
	s.stop = context.AfterFunc(ctx, func() { raw.Close() })
	s.ok(raw.RemoteAddr().String())

	tlsConfig := ClientTLS(s.host, c.RootCAs)
	rt := c.replyTimeout()
	var (
		conn   net.Conn
		prefix []byte // what imapclient reads first: the greeting
	)
	if a.Security == ImplicitTLS {
		s.begin(StageTLS)
		tc, err := s.handshake(tlsConfig)
		if err != nil {
			return nil, s.fail(err)
		}
		s.begin(StageGreeting)
		s.conn.arm(rt)
		br := bufio.NewReaderSize(tc, maxGreeting)
		g, err := readGreeting(br)
		if err != nil {
			return nil, s.fail(err)
		}
		s.ok(g.text)
		// Give imapclient the greeting and whatever came after it.
		rest, _ := br.Peek(br.Buffered())
		conn, prefix = tc, append([]byte(g.line), rest...)
	} else {
		s.begin(StageGreeting)
		s.conn.arm(rt)
		br := bufio.NewReaderSize(s.conn, maxGreeting)
		g, err := readGreeting(br)
		if err != nil {
			return nil, s.fail(err)
		}
		if g.status == "PREAUTH" {
			// Logged in before encryption: nothing sent now could be kept
			// from an eavesdropper.
			return nil, s.fail(fmt.Errorf("%w (it logged the session in before encryption)", errNoSTARTTLS))
		}
		s.ok(g.text)

		s.begin(StageTLS)
		if err := startTLS(s.conn, br, g.caps, rt); err != nil {
			return nil, s.fail(err)
		}
		tc, err := s.handshake(tlsConfig)
		if err != nil {
			return nil, s.fail(err)
		}
		// No greeting follows STARTTLS; imapclient waits for one, and then
		// asks for the capabilities again, as it must after TLS.
		conn, prefix = tc, []byte("* OK TLS is up\r\n")
	}
	s.client = imapclient.New(&prefixConn{Conn: conn, r: io.MultiReader(bytes.NewReader(prefix), conn), raw: s.conn}, nil)

	s.begin(StageLogin)
	s.conn.arm(rt)
	if err := s.client.WaitGreeting(); err != nil {
		return nil, s.fail(err)
	}
	if s.client.State() == imap.ConnStateAuthenticated {
		s.ok("logged in by the server (PREAUTH)")
		return s, nil
	}
	caps, err := s.caps()
	if err != nil {
		return nil, s.fail(err)
	}
	password, known, err := s.pw.wait(s.ctx)
	switch {
	case err != nil && !known:
		return nil, s.fail(err) // the session ended while waiting
	case err != nil:
		return nil, s.passwordFailed(err)
	}
	s.conn.arm(rt)
	switch {
	case !caps.Has(imap.CapLoginDisabled):
		err = s.client.Login(a.Username, password).Wait()
	case caps.Has(imap.Cap("AUTH=PLAIN")):
		err = s.client.Authenticate(sasl.NewPlainClient("", a.Username, password))
	default:
		err = errors.New("the server offers neither LOGIN nor AUTHENTICATE PLAIN")
	}
	if err != nil {
		return nil, s.fail(err)
	}
	s.ok("logged in as " + a.Username)
	return s, nil
}

// maxGreeting bounds the lines read before imapclient takes over: the
// greeting and the answers to CAPABILITY and STARTTLS.
const maxGreeting = 8 << 10

func (s *imapSession) handshake(cfg *tls.Config) (*tls.Conn, error) {
	s.conn.arm(s.c.replyTimeout())
	tc := tls.Client(s.conn, cfg)
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return nil, err
	}
	s.ok(tlsDetail(tc.ConnectionState()))
	return tc, nil
}

// greeting is the server's first line.
type greeting struct {
	line   string // as received, with CRLF
	status string // OK, PREAUTH or BYE
	text   string // the human-readable part, for the stage's detail
	caps   imap.CapSet
}

// errNotIMAP is a greeting from another protocol (often SMTP's port).
var errNotIMAP = errors.New("the server is not an IMAP server")

func readGreeting(br *bufio.Reader) (greeting, error) {
	line, err := readLine(br)
	if err != nil {
		return greeting{}, err
	}
	g := greeting{line: line}
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "* ")
	if !ok {
		return g, fmt.Errorf("%w (it said %q)", errNotIMAP, firstLine(line))
	}
	g.status, rest, _ = strings.Cut(rest, " ")
	g.status = strings.ToUpper(g.status)
	g.caps, g.text = respCode(rest)
	switch g.status {
	case "OK", "PREAUTH":
		return g, nil
	case "BYE":
		return g, &imap.Error{Type: imap.StatusResponseTypeBye, Text: g.text}
	}
	return g, fmt.Errorf("%w (it said %q)", errNotIMAP, firstLine(line))
}

// respCode splits "[CAPABILITY ...] text" into the capabilities and text.
func respCode(s string) (imap.CapSet, string) {
	if !strings.HasPrefix(s, "[") {
		return nil, s
	}
	code, text, ok := strings.Cut(s[1:], "]")
	if !ok {
		return nil, s
	}
	text = strings.TrimSpace(text)
	words := strings.Fields(code)
	if len(words) == 0 || !strings.EqualFold(words[0], "CAPABILITY") {
		return nil, text
	}
	caps := imap.CapSet{}
	for _, w := range words[1:] {
		caps[imap.Cap(strings.ToUpper(w))] = struct{}{}
	}
	return caps, text
}

// readLine reads one line of at most maxGreeting bytes.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("%w: a line longer than %d bytes", errReplyTooLarge, maxGreeting)
	}
	return string(line), err
}

// startTLS asks for TLS on a plaintext connection whose greeting has been
// read: it checks that STARTTLS is offered (asking for the capabilities if
// the greeting did not list them), sends it and reads the answer. It reads
// through br and fails if anything follows the answer: bytes sent before the
// handshake could be an attacker's, injected in plaintext.
func startTLS(conn *imapConn, br *bufio.Reader, caps imap.CapSet, timeout time.Duration) error {
	command := func(tag, name string) error {
		conn.arm(timeout)
		if _, err := io.WriteString(conn, tag+" "+name+"\r\n"); err != nil {
			return err
		}
		for {
			line, err := readLine(br)
			if err != nil {
				return err
			}
			line = strings.TrimRight(line, "\r\n")
			if rest, ok := strings.CutPrefix(line, "* "); ok {
				if word, list, _ := strings.Cut(rest, " "); strings.EqualFold(word, "CAPABILITY") {
					caps = imap.CapSet{}
					for _, w := range strings.Fields(list) {
						caps[imap.Cap(strings.ToUpper(w))] = struct{}{}
					}
				}
				continue
			}
			rest, ok := strings.CutPrefix(line, tag+" ")
			if !ok {
				return fmt.Errorf("%w (it answered %s with %q)", errNotIMAP, name, line)
			}
			status, text, _ := strings.Cut(rest, " ")
			if !strings.EqualFold(status, "OK") {
				_, text = respCode(text)
				return fmt.Errorf("%w (it answered %s with %s %s)", errNoSTARTTLS, name, strings.ToUpper(status), text)
			}
			return nil
		}
	}
	if caps == nil {
		if err := command("P1", "CAPABILITY"); err != nil {
			return err
		}
	}
	if !caps.Has(imap.CapStartTLS) {
		return errNoSTARTTLS
	}
	if err := command("P2", "STARTTLS"); err != nil {
		return err
	}
	if br.Buffered() > 0 {
		return fmt.Errorf("%w (it sent data before the TLS handshake)", errNoSTARTTLS)
	}
	return nil
}

// caps returns the server's capabilities, asking for them if need be.
func (s *imapSession) caps() (imap.CapSet, error) {
	s.conn.arm(s.c.replyTimeout())
	caps := s.client.Caps()
	if caps == nil {
		if err := s.conn.firstErr(); err != nil {
			return nil, err
		}
		return nil, errNoCapabilities
	}
	return caps, nil
}

var errNoCapabilities = errors.New("the server did not list its capabilities")

// findSent finds the Sent folder and returns its name.
func (s *imapSession) findSent() (string, error) {
	s.begin(StageFolder)
	caps, err := s.caps()
	if err != nil {
		return "", s.fail(err)
	}
	var opts *imap.ListOptions
	if caps.Has(imap.CapSpecialUse) && (caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	s.conn.arm(s.c.replyTimeout())
	list, err := s.client.List("", "*", opts).Collect()
	if err != nil {
		return "", s.fail(err)
	}
	name, marked := pickSent(list)
	if name == "" {
		var names []string
		for _, l := range list {
			names = append(names, l.Mailbox)
		}
		if len(names) > 20 {
			names = append(names[:20], "…")
		}
		return "", s.fail(&Error{Kind: KindSentFolderMissing, Detail: fmt.Sprintf(
			"no folder is marked \\Sent or named %s (the server has %s)", strings.Join(sentNames, ", "), strings.Join(names, ", "))})
	}
	if marked {
		s.ok(name + ` (marked \Sent)`)
	} else {
		s.ok(name)
	}
	return name, nil
}

// pickSent chooses the Sent folder from a LIST: the first one marked \Sent,
// else the first name of sentNames found, at the top level or under INBOX,
// ignoring case. Folders that cannot be selected do not count.
func pickSent(list []*imap.ListData) (name string, marked bool) {
	var usable []*imap.ListData
	for _, l := range list {
		if !hasAttr(l.Attrs, imap.MailboxAttrNoSelect) && !hasAttr(l.Attrs, imap.MailboxAttrNonExistent) {
			usable = append(usable, l)
		}
	}
	for _, l := range usable {
		if hasAttr(l.Attrs, imap.MailboxAttrSent) {
			return l.Mailbox, true
		}
	}
	for _, want := range sentNames {
		for _, l := range usable {
			if strings.EqualFold(l.Mailbox, want) {
				return l.Mailbox, false
			}
		}
		for _, l := range usable {
			if l.Delim != 0 && strings.EqualFold(l.Mailbox, "INBOX"+string(l.Delim)+want) {
				return l.Mailbox, false
			}
		}
	}
	return "", false
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

// search selects folder read-only and reports whether a message in it has
// the Message-ID id.
func (s *imapSession) search(folder, id string) (bool, error) {
	s.begin(StageSearch)
	s.conn.arm(s.c.replyTimeout())
	if _, err := s.client.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return false, s.fail(err)
	}
	s.conn.arm(s.c.replyTimeout())
	data, err := s.client.UIDSearch(&imap.SearchCriteria{
		Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}},
	}, nil).Wait()
	if err != nil {
		return false, s.fail(err)
	}
	if n := len(data.AllUIDs()); n > 0 {
		s.ok(fmt.Sprintf("%s is already in %s", id, folder))
		return true, nil
	}
	s.ok(fmt.Sprintf("%s is not in %s yet", id, folder))
	return false, nil
}

// append uploads the copy.
func (s *imapSession) append(folder string, date time.Time, raw io.Reader, size int64) error {
	s.begin(StageAppend)
	s.conn.arm(s.c.uploadTimeout(size))
	opts := &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}}
	if !date.IsZero() {
		opts.Time = date
	}
	cmd := s.client.Append(folder, size, opts)
	src := &sourceReader{r: raw}
	n, err := io.CopyN(cmd, src, size)
	var bad *Error // the message, not the connection, is at fault
	switch {
	case n < size && src.err != nil && !errors.Is(src.err, io.EOF):
		bad = &Error{Kind: KindUnknown, Detail: "reading the message: " + src.err.Error(), Err: src.err}
	case n < size && src.err != nil:
		bad = &Error{Kind: KindInvalidMessage, Detail: fmt.Sprintf("the message is shorter than its size of %d bytes", size)}
	case n == size && src.err == nil:
		// A byte more means the size is wrong: the server must not keep a
		// truncated copy.
		var one [1]byte
		if k, _ := io.ReadFull(raw, one[:]); k > 0 {
			bad = &Error{Kind: KindInvalidMessage, Detail: fmt.Sprintf("the message is longer than its size of %d bytes", size)}
		}
	}
	if bad != nil {
		// Close the connection before the command ends, so the server drops
		// the incomplete APPEND; then let go of imapclient's encoder.
		s.close()
		_ = cmd.Close()
		return s.fail(bad)
	}
	if err != nil {
		_ = cmd.Close()
		return s.fail(err)
	}
	if err := cmd.Close(); err != nil {
		return s.fail(err)
	}
	s.conn.arm(s.c.replyTimeout())
	data, err := cmd.Wait()
	if err != nil {
		return s.fail(err)
	}
	detail := fmt.Sprintf("%s filed in %s", FormatSize(size), folder)
	if data != nil && data.UID != 0 {
		detail += fmt.Sprintf(" (UID %d)", data.UID)
	}
	s.ok(detail)
	return nil
}

// sourceReader keeps the error of reading the message, to tell it from a
// failure of the connection.
type sourceReader struct {
	r   io.Reader
	err error
}

func (r *sourceReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// logout says goodbye politely but briefly; its outcome does not matter.
func (s *imapSession) logout() {
	if s.client != nil {
		s.conn.arm(2 * time.Second)
		_ = s.client.Logout().Wait()
	}
}

func (s *imapSession) close() {
	if s.stop != nil {
		s.stop()
	}
	s.cancel()
	if s.client != nil {
		_ = s.client.Close() // closes the connection and waits for the reader
	} else if s.conn != nil {
		_ = s.conn.Close()
	}
}

// passwordFailed ends the session because the password could not be had,
// reporting the keychain as the stage that failed, and returns pw's error.
func (s *imapSession) passwordFailed(err error) error {
	if s.c.OnStage != nil {
		s.c.OnStage(StageResult{Stage: StageKeychain, OK: false, Detail: err.Error(), Elapsed: time.Since(s.started)})
	}
	s.close()
	return err
}

func (s *imapSession) begin(st Stage) {
	s.stage = st
	s.started = time.Now()
}

func (s *imapSession) ok(detail string) {
	if s.c.OnStage != nil {
		s.c.OnStage(StageResult{Stage: s.stage, OK: true, Detail: s.scrub(detail), Elapsed: time.Since(s.started)})
	}
}

// fail turns err at the current stage into an *Error, reports the stage
// and closes the session. If the password could not be had, its error is
// returned instead: connecting stopped because of it.
func (s *imapSession) fail(err error) error {
	e := s.diagnose(err)
	if perr := s.pw.failed(); perr != nil {
		return s.passwordFailed(perr)
	}
	if s.c.OnStage != nil {
		detail := e.Detail
		if detail == "" && e.Err != nil {
			detail = e.Err.Error()
		}
		s.c.OnStage(StageResult{Stage: s.stage, OK: false, Detail: detail, Elapsed: time.Since(s.started)})
	}
	s.close()
	return e
}

// diagnose classifies err, which happened at the current stage. Server
// text in the result is scrubbed of the password.
func (s *imapSession) diagnose(err error) *Error {
	var (
		ie *imap.Error
		me *Error
	)
	if errors.As(err, &me) {
		e := *me
		e.Stage = s.stage
		e.Detail = s.scrub(e.Detail)
		return &e
	}
	e := &Error{Stage: s.stage}
	switch {
	case s.ctx.Err() != nil && !errors.As(err, &ie):
		e.Err = s.ctx.Err()
		if errors.Is(s.ctx.Err(), context.DeadlineExceeded) {
			e.Kind, e.Detail = KindTimeout, "the time allowed ran out"
		} else {
			e.Kind, e.Detail = KindCancelled, "cancelled"
		}
		if s.stage == StageAppend {
			e.Detail += " while filing the copy"
		}
		return e
	case errors.As(err, &ie):
		scrubbed := *ie
		scrubbed.Text = s.scrub(ie.Text)
		e.Err = &scrubbed
		e.Kind = classifyIMAP(s.stage, &scrubbed)
		e.Detail = "the server said: " + statusString(&scrubbed)
		return e
	}
	// imapclient reports a failed read as text; the connection under it
	// kept the error itself.
	cause := err
	if ce := s.conn.firstErr(); ce != nil {
		cause = ce
	}
	if errors.Is(cause, errReplyTooLarge) {
		e.Kind, e.Err, e.Detail = KindUnknown, cause, cause.Error()
		if cause == errReplyTooLarge {
			e.Detail = fmt.Sprintf("the server sent more than %d bytes in answer to one command; the connection was closed", maxIMAPReply)
		}
		return e
	}
	var read int64
	if s.conn != nil {
		read = s.conn.read.Load()
	}
	kind, detail, ok := ClassifyNet(cause, NetFailure{
		Stage: s.stage, Host: s.host, Port: s.a.Port, StartTLS: s.a.Security == StartTLS,
		BytesRead: read, ConnectTimeout: s.c.connectTimeout(), ReplyTimeout: s.c.replyTimeout(),
	})
	if ok {
		e.Kind, e.Detail, e.Err = kind, detail, cause
		if s.stage == StageAppend && kind == KindTimeout {
			e.Detail = "the upload of the copy did not finish in time"
		}
		return e
	}
	// Anything else is text from imapclient or the server: keep it as
	// text, without the password.
	e.Kind = KindUnknown
	e.Detail = s.scrub(err.Error())
	if errors.Is(err, errNotIMAP) || errors.Is(err, errNoCapabilities) {
		e.Err = err
		if errors.Is(err, errNoCapabilities) {
			e.Kind = KindTimeout
		}
	} else {
		e.Err = errors.New(e.Detail)
	}
	return e
}

// classifyIMAP says what kind of failure a tagged NO or BAD (or a BYE
// greeting) is at a stage. Response codes decide (RFC 5530); the stage
// decides the rest: any refusal of LOGIN is a wrong login.
func classifyIMAP(stage Stage, e *imap.Error) Kind {
	switch e.Code {
	case imap.ResponseCodeOverQuota, imap.ResponseCodeLimit:
		return KindMailboxFull
	case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse:
		return KindTemporary
	case imap.ResponseCodeTryCreate, imap.ResponseCodeNonExistent:
		if stage == StageSearch || stage == StageAppend {
			return KindSentFolderMissing // it vanished between LIST and now
		}
	case imap.ResponseCodeTooBig:
		return KindTooLarge
	case imap.ResponseCodePrivacyRequired:
		return KindTLSUnavailable
	}
	switch {
	case e.Type == imap.StatusResponseTypeBye:
		return KindTemporary
	case stage == StageLogin:
		return KindAuth
	}
	return KindUnknown
}

func statusString(e *imap.Error) string {
	parts := []string{string(e.Type)}
	if e.Code != "" {
		parts = append(parts, "["+string(e.Code)+"]")
	}
	if e.Text != "" {
		parts = append(parts, e.Text)
	}
	return strings.Join(parts, " ")
}

// scrub removes the password, and its base64 as AUTHENTICATE PLAIN sends
// it, from text the server or imapclient wrote, and makes the rest
// Printable: a server may repeat the login in its answer.
func (s *imapSession) scrub(text string) string {
	if pw := s.pw.known(); pw != "" {
		for _, secret := range secretForms(s.a.Username, pw) {
			text = strings.ReplaceAll(text, secret, "********")
		}
	}
	return Printable(text)
}

// errReplyTooLarge is the failure of a read past maxIMAPReply.
var errReplyTooLarge = errors.New("the server's reply is too large")

// imapConn is the TCP connection under TLS and imapclient. It owns the
// deadlines (imapclient's own would wait without limit between responses,
// and give a whole upload five minutes), bounds what one command's answer
// may be, and keeps the first error of a read or write, which imapclient
// turns into text.
type imapConn struct {
	net.Conn
	budget atomic.Int64 // bytes the server may still send before the next command
	read   atomic.Int64 // bytes read in all

	mu     sync.Mutex
	err    error
	closed bool
}

// arm gives the next exchange d to complete and maxIMAPReply bytes.
func (c *imapConn) arm(d time.Duration) {
	c.budget.Store(maxIMAPReply)
	_ = c.Conn.SetDeadline(time.Now().Add(d))
}

func (c *imapConn) Read(p []byte) (int, error) {
	left := c.budget.Load()
	if left <= 0 {
		c.keep(errReplyTooLarge)
		return 0, errReplyTooLarge
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.budget.Add(-int64(n))
	c.read.Add(int64(n))
	if err != nil {
		c.keep(err)
	}
	return n, err
}

func (c *imapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.keep(err)
	}
	return n, err
}

// Deadlines are arm's alone.
func (c *imapConn) SetDeadline(time.Time) error      { return nil }
func (c *imapConn) SetReadDeadline(time.Time) error  { return nil }
func (c *imapConn) SetWriteDeadline(time.Time) error { return nil }

func (c *imapConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}

// keep records err if it is the first, and came before anyone closed the
// connection on purpose.
func (c *imapConn) keep(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.closed {
		c.err = err
	}
}

func (c *imapConn) firstErr() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// prefixConn is what imapclient reads: r (the greeting read before it took
// over, then the TLS connection). Closing it closes the TCP connection
// directly: a TLS close_notify could block on a server that stopped reading.
type prefixConn struct {
	net.Conn
	r   io.Reader
	raw *imapConn
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *prefixConn) Close() error               { return p.raw.Close() }
