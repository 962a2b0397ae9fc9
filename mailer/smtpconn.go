package mailer

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// What a server may send in one reply. RFC 5321 allows 512 octets a line;
// these are generous, but finite: a server (or anything on the path before
// TLS) that sends an endless line or endless continuation lines costs at
// most this much, then the session ends with KindProtocol.
const (
	maxReplyLine  = 4 << 10  // one line, CRLF included
	maxReplyBytes = 64 << 10 // one reply, all its lines
)

// protocolError is a server breaking the SMTP protocol: a reply too long,
// or something that is not a reply at all. Its text says which, in the
// user's words, and never quotes the server.
type protocolError struct{ what string }

func (e *protocolError) Error() string { return e.what }

func protocolErrorf(format string, args ...any) error {
	return &protocolError{what: fmt.Sprintf(format, args...)}
}

// readReply reads one reply: its code and the text of its lines joined by
// "\n", as net/textproto does. It never reads more than maxReplyLine bytes
// a line or maxReplyBytes a reply; r must be at least maxReplyLine bytes
// large, so a longer line is bufio.ErrBufferFull.
func readReply(r *bufio.Reader) (code int, text string, err error) {
	var (
		b     strings.Builder
		total int
	)
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		total += len(line)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return 0, "", protocolErrorf("the server sent a reply line longer than %d bytes", maxReplyLine)
		case err != nil && len(line) > 0 && errors.Is(err, io.EOF):
			return 0, "", io.ErrUnexpectedEOF
		case err != nil:
			return 0, "", err
		case total > maxReplyBytes:
			return 0, "", protocolErrorf("the server sent a reply longer than %d bytes", maxReplyBytes)
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		c, sep, rest, ok := splitReplyLine(line)
		if !ok {
			return 0, "", protocolErrorf("the server sent something that is not an SMTP reply")
		}
		if first {
			code = c
		} else {
			if c != code {
				return 0, "", protocolErrorf("the server sent a reply whose lines have different codes (%d, then %d)", code, c)
			}
			b.WriteByte('\n')
		}
		b.Write(rest)
		if sep != '-' {
			return code, b.String(), nil
		}
	}
}

// splitReplyLine splits "250-text" or "250 text" or "250": the code (2xx to
// 5xx, RFC 5321 section 4.2), '-' for a line that more follow, and the text.
func splitReplyLine(line []byte) (code int, sep byte, text []byte, ok bool) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' {
		return 0, 0, nil, false
	}
	code, _ = strconv.Atoi(string(line[:3]))
	if len(line) == 3 {
		return code, ' ', nil, true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, nil, false
	}
	return code, line[3], line[4:], true
}

// smtpConn is the client side of one SMTP connection: commands out, bounded
// replies in. It knows nothing of deadlines, which the session sets on the
// connection under it, nor of what a reply means.
type smtpConn struct {
	conn net.Conn // the TCP connection, or TLS over it after StartTLS
	r    *bufio.Reader
	w    *bufio.Writer
	ext  map[string]string // the EHLO keywords, upper case, with their parameters
	// hello is the first line of the EHLO (or HELO) reply.
	hello string
}

// newSMTPConn reads the greeting from conn.
func newSMTPConn(conn net.Conn) (*smtpConn, error) {
	c := &smtpConn{conn: conn, r: bufio.NewReaderSize(conn, maxReplyLine), w: bufio.NewWriter(conn)}
	if _, err := c.expect(220); err != nil {
		return nil, err
	}
	return c, nil
}

// expect reads a reply and returns its text if its code is want; any
// other code is a *textproto.Error. want may be a whole code (250), or its
// first one or two digits (2 for any 2xx, 25 for 250 to 259).
func (c *smtpConn) expect(want int) (string, error) {
	code, text, err := readReply(c.r)
	if err != nil {
		return "", err
	}
	if !codeIs(code, want) {
		return "", &textproto.Error{Code: code, Msg: text}
	}
	return text, nil
}

func codeIs(code, want int) bool {
	switch {
	case want < 10:
		return code/100 == want
	case want < 100:
		return code/10 == want
	}
	return code == want
}

// send writes one command line.
func (c *smtpConn) send(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("smtp: a command contains a line break")
	}
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

// cmd sends line and reads the reply, which must have the code want.
func (c *smtpConn) cmd(want int, line string) (string, error) {
	if err := c.send(line); err != nil {
		return "", err
	}
	return c.expect(want)
}

// helloAs says EHLO, or HELO to a server that does not know EHLO, and
// records the extensions offered.
func (c *smtpConn) helloAs(name string) error {
	if err := c.send("EHLO " + name); err != nil {
		return err
	}
	code, text, err := readReply(c.r)
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	switch {
	case code/100 == 2:
		lines := strings.Split(text, "\n")
		c.hello = lines[0]
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
			c.ext[strings.ToUpper(k)] = v
		}
		return nil
	case code == 500 || code == 502:
		// RFC 5321 section 3.2: a server that does not know EHLO.
		text, err := c.cmd(2, "HELO "+name)
		c.hello, _, _ = strings.Cut(text, "\n")
		return err
	}
	return &textproto.Error{Code: code, Msg: text}
}

// extension reports whether the server offered ext, and its parameters.
func (c *smtpConn) extension(ext string) (bool, string) {
	v, ok := c.ext[strings.ToUpper(ext)]
	return ok, v
}

// startTLSRefused is a server that offered STARTTLS and then refused it.
type startTLSRefused struct{ reply *textproto.Error }

func (e *startTLSRefused) Error() string { return "the server refused STARTTLS: " + e.reply.Error() }
func (e *startTLSRefused) Unwrap() error { return e.reply }

// errCleartextAfterSTARTTLS is a server (or something on the path) that
// sent more in the clear after agreeing to STARTTLS: what came would be
// read as if it had come encrypted (CVE-2011-0411 and its kin).
var errCleartextAfterSTARTTLS = errors.New("the server sent more in the clear after agreeing to STARTTLS; something on the network may be tampering with the connection")

// startTLS asks for STARTTLS and, once the server agrees, returns the TLS
// connection, not yet handshaken; the caller handshakes, then calls
// secured.
func (c *smtpConn) startTLS(config *tls.Config) (*tls.Conn, error) {
	if err := c.send("STARTTLS"); err != nil {
		return nil, err
	}
	code, text, err := readReply(c.r)
	if err != nil {
		return nil, err
	}
	if code != 220 {
		return nil, &startTLSRefused{&textproto.Error{Code: code, Msg: text}}
	}
	if c.r.Buffered() > 0 {
		return nil, errCleartextAfterSTARTTLS
	}
	return tls.Client(c.conn, config), nil
}

// secured switches to tc after its handshake and says EHLO again, as RFC
// 3207 requires: nothing learnt in the clear is kept.
func (c *smtpConn) secured(tc *tls.Conn, name string) error {
	c.conn = tc
	c.r.Reset(tc)
	c.w.Reset(tc)
	c.ext, c.hello = nil, ""
	return c.helloAs(name)
}

// errAuthMoreWanted is a server that keeps asking during a login.
var errAuthMoreWanted = protocolErrorf("the server kept asking for more during the login")

// authPlain logs in with AUTH PLAIN (RFC 4616), the response sent at once.
func (c *smtpConn) authPlain(user, password string) error {
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	if err := c.send("AUTH PLAIN " + resp); err != nil {
		return err
	}
	return c.authDone()
}

// authLogin logs in with AUTH LOGIN: the user name, then the password,
// each when the server asks.
func (c *smtpConn) authLogin(user, password string) error {
	if _, err := c.cmd(334, "AUTH LOGIN"); err != nil {
		return err
	}
	if _, err := c.cmd(334, base64.StdEncoding.EncodeToString([]byte(user))); err != nil {
		return err
	}
	if err := c.send(base64.StdEncoding.EncodeToString([]byte(password))); err != nil {
		return err
	}
	return c.authDone()
}

// authDone reads the verdict of a login; a server asking for more is
// answered with "*", which cancels the exchange (RFC 4954).
func (c *smtpConn) authDone() error {
	code, text, err := readReply(c.r)
	switch {
	case err != nil:
		return err
	case code == 235:
		return nil
	case code == 334:
		if _, err := c.cmd(0, "*"); err != nil && !isReply(err) {
			return err
		}
		return errAuthMoreWanted
	}
	return &textproto.Error{Code: code, Msg: text}
}

func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}
