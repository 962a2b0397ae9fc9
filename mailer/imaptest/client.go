package imaptest

import (
	"cmp"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// helperTimeout bounds each helper's whole IMAP session (Messages, Append,
// Folders), so that a broken server fails the test instead of hanging it.
const helperTimeout = 10 * time.Second

// Message is a message as the server stores it.
type Message struct {
	UID          uint32
	Raw          []byte   // the message's bytes, exactly as stored
	Flags        []string // e.g. `\Seen`
	InternalDate time.Time
}

// HasFlag reports whether m carries flag (case-insensitive, as in IMAP).
func (m Message) HasFlag(flag string) bool {
	return slices.ContainsFunc(m.Flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// endpoint is where and how the helpers reach a server: over implicit TLS,
// or over plaintext upgraded with STARTTLS.
type endpoint struct {
	addr     string
	tls      *tls.Config
	startTLS bool
}

// fixedDeadlineConn keeps the one deadline set on it at dial time:
// imapclient resets deadlines per response and waits without one between
// responses, which would let a stalled server hang a helper for ever.
type fixedDeadlineConn struct{ net.Conn }

func (fixedDeadlineConn) SetDeadline(time.Time) error      { return nil }
func (fixedDeadlineConn) SetReadDeadline(time.Time) error  { return nil }
func (fixedDeadlineConn) SetWriteDeadline(time.Time) error { return nil }

// login opens a session as user and fails t if it cannot.
func (e endpoint) login(t testing.TB, user, password string) *imapclient.Client {
	t.Helper()
	raw, err := net.DialTimeout("tcp", e.addr, helperTimeout)
	if err != nil {
		t.Fatalf("imaptest: connect to %s: %v", e.addr, err)
	}
	_ = raw.SetDeadline(time.Now().Add(helperTimeout))
	var c *imapclient.Client
	if e.startTLS {
		c, err = imapclient.NewStartTLS(fixedDeadlineConn{raw}, &imapclient.Options{TLSConfig: e.tls})
		if err != nil {
			raw.Close()
			t.Fatalf("imaptest: STARTTLS with %s: %v", e.addr, err)
		}
	} else {
		tc := tls.Client(fixedDeadlineConn{raw}, e.tls)
		if err := tc.Handshake(); err != nil {
			raw.Close()
			t.Fatalf("imaptest: TLS with %s: %v", e.addr, err)
		}
		c = imapclient.New(tc, nil)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		t.Fatalf("imaptest: login as %s: %v", user, err)
	}
	return c
}

func logout(c *imapclient.Client) {
	_ = c.Logout().Wait()
	_ = c.Close()
}

// messages reads every message of mailbox, oldest first.
func (e endpoint) messages(t testing.TB, user, password, mailbox string) []Message {
	t.Helper()
	c := e.login(t, user, password)
	defer logout(c)
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("imaptest: EXAMINE %q as %s: %v", mailbox, user, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	body := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(all, &imap.FetchOptions{
		UID:          true,
		Flags:        true,
		InternalDate: true,
		BodySection:  []*imap.FetchItemBodySection{body},
	}).Collect()
	if err != nil {
		t.Fatalf("imaptest: FETCH in %q as %s: %v", mailbox, user, err)
	}
	msgs := make([]Message, 0, len(bufs))
	for _, b := range bufs {
		m := Message{UID: uint32(b.UID), Raw: b.FindBodySection(body), InternalDate: b.InternalDate}
		for _, f := range b.Flags {
			m.Flags = append(m.Flags, string(f))
		}
		msgs = append(msgs, m)
	}
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.UID, b.UID) })
	return msgs
}

// appendMessage files raw in mailbox, flagged \Seen, as a server that keeps
// its own copy of sent mail would.
func (e endpoint) appendMessage(t testing.TB, user, password, mailbox string, raw []byte) {
	t.Helper()
	c := e.login(t, user, password)
	defer logout(c)
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		t.Fatalf("imaptest: APPEND to %q as %s: %v", mailbox, user, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("imaptest: APPEND to %q as %s: %v", mailbox, user, err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("imaptest: APPEND to %q as %s: %v", mailbox, user, err)
	}
}

// folders lists every mailbox of user, sorted, with its attributes.
func (e endpoint) folders(t testing.TB, user, password string) []Folder {
	t.Helper()
	c := e.login(t, user, password)
	defer logout(c)
	var opts *imap.ListOptions
	if c.Caps().Has(imap.CapSpecialUse) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		t.Fatalf("imaptest: LIST as %s: %v", user, err)
	}
	out := make([]Folder, 0, len(list))
	for _, l := range list {
		f := Folder{Name: l.Mailbox}
		for _, a := range l.Attrs {
			f.Attrs = append(f.Attrs, string(a))
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Folder) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Folder is a mailbox as LIST shows it.
type Folder struct {
	Name  string
	Attrs []string // e.g. `\HasNoChildren`, `\Sent`
}

// HasAttr reports whether f carries attr (case-insensitive).
func (f Folder) HasAttr(attr string) bool {
	return slices.ContainsFunc(f.Attrs, func(a string) bool { return strings.EqualFold(a, attr) })
}
