package imaptest_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postcard-mail/postcard/mailer/imaptest"
)

func message(id string) []byte {
	return []byte("From: Ann <ann@icloud.example>\r\nTo: bob@example.org\r\nSubject: Hello\r\n" +
		"Message-ID: <" + id + ">\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nHi Bob.\r\n")
}

// dial logs in with go-imap's client over implicit TLS, trusting only cfg.
func dial(t *testing.T, addr string, cfg *tls.Config) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: cfg})
	if err != nil {
		t.Fatalf("DialTLS: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(imaptest.DefaultUser, imaptest.DefaultPassword).Wait(); err != nil {
		t.Fatalf("Login: %v", err)
	}
	return c
}

func TestDovecot_ICloudFoldersAppendSearch(t *testing.T) {
	start := time.Now()
	d := imaptest.StartDovecot(t, imaptest.DovecotConfig{})
	t.Logf("Dovecot started and greeting on both ports in %s", time.Since(start).Round(time.Millisecond))

	c := dial(t, d.Addr(), d.TLSConfig())
	if !c.Caps().Has(imap.CapSpecialUse) {
		t.Errorf("Dovecot does not advertise SPECIAL-USE: %v", c.Caps())
	}
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
		for _, a := range l.Attrs {
			if a == imap.MailboxAttrSent {
				t.Errorf("%q is marked \\Sent; iCloud marks no folder", l.Mailbox)
			}
		}
	}
	for _, want := range imaptest.ICloudMailboxes() {
		if !strings.Contains(strings.Join(names, "\n")+"\n", want.Name+"\n") {
			t.Errorf("LIST %q has no %q", names, want.Name)
		}
	}

	raw := message("one@icloud.example")
	date := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cmd := c.Append("Sent Messages", int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: date})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	if _, err := c.Select("Sent Messages", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"<one@icloud.example>": 1, "<two@icloud.example>": 0} {
		res, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
		if err != nil {
			t.Fatalf("SEARCH: %v", err)
		}
		if got := len(res.AllUIDs()); got != want {
			t.Errorf("SEARCH HEADER Message-ID %s found %d, want %d", id, got, want)
		}
	}

	msgs := d.Messages(t, imaptest.DefaultUser, "Sent Messages")
	if len(msgs) != 1 {
		t.Fatalf("Messages: %d, want 1", len(msgs))
	}
	m := msgs[0]
	if !bytes.Equal(m.Raw, raw) || !m.HasFlag(`\Seen`) || !m.InternalDate.Equal(date) {
		t.Errorf("stored %q flags %v date %v; want the bytes sent, \\Seen, %v", m.Raw, m.Flags, m.InternalDate, date)
	}
}

// The STARTTLS port takes no password before TLS, and a client that trusts
// the CA can upgrade and log in. Dovecot counts a connection whose two ends
// have the same address as secure, so the plaintext login is tried from
// 127.0.0.2.
func TestDovecot_StartTLSPort(t *testing.T) {
	d := imaptest.StartDovecot(t, imaptest.DovecotConfig{})
	dialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	conn, err := dialer.Dial("tcp", d.StartTLSAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	greeting, _ := r.ReadString('\n')
	if !strings.Contains(greeting, "STARTTLS") || !strings.Contains(greeting, "LOGINDISABLED") {
		t.Errorf("greeting %q does not offer STARTTLS and refuse LOGIN", greeting)
	}
	fmt.Fprintf(conn, "a LOGIN %s %s\r\n", imaptest.DefaultUser, imaptest.DefaultPassword)
	reply, _ := r.ReadString('\n')
	for strings.HasPrefix(reply, "* ") { // Dovecot adds an ALERT
		reply, _ = r.ReadString('\n')
	}
	if !strings.HasPrefix(reply, "a NO") && !strings.HasPrefix(reply, "a BAD") {
		t.Errorf("plaintext LOGIN answered %q", reply)
	}

	c, err := imapclient.DialStartTLS(d.StartTLSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c.Close()
	if err := c.Login(imaptest.DefaultUser, imaptest.DefaultPassword).Wait(); err != nil {
		t.Fatalf("Login after STARTTLS: %v", err)
	}
}

func TestDovecot_ConfiguredFolders(t *testing.T) {
	d := imaptest.StartDovecot(t, imaptest.DovecotConfig{
		Users: map[string]string{"bob@example.org": "pw-of-bob"},
		Mailboxes: []imaptest.Mailbox{
			{Name: "INBOX"}, {Name: "Sent Items"}, {Name: "Outgoing", SpecialUse: `\Sent`},
		},
	})
	got := map[string]imaptest.Folder{}
	for _, f := range d.Folders(t, "bob@example.org") {
		got[f.Name] = f
	}
	if len(got) != 3 || !got["Outgoing"].HasAttr(`\Sent`) || got["Sent Items"].HasAttr(`\Sent`) {
		t.Errorf("folders %+v; want INBOX, Sent Items, Outgoing (\\Sent)", got)
	}
	d.Append(t, "bob@example.org", "Sent Items", message("x@example.org"))
	if n := len(d.Messages(t, "bob@example.org", "Sent Items")); n != 1 {
		t.Errorf("%d messages after Append, want 1", n)
	}
}

func TestDovecot_WrongPasswordRefused(t *testing.T) {
	d := imaptest.StartDovecot(t, imaptest.DovecotConfig{})
	c, err := imapclient.DialTLS(d.Addr(), &imapclient.Options{TLSConfig: d.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login(imaptest.DefaultUser, "wrong").Wait()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
		t.Fatalf("wrong password: %v, want NO [AUTHENTICATIONFAILED]", err)
	}
}

func TestHostile_SpecialUseAndAppend(t *testing.T) {
	h := imaptest.NewHostile(t, imaptest.HostileConfig{Mailboxes: []imaptest.Mailbox{
		{Name: "INBOX"}, {Name: "Sent Messages"}, {Name: "Gesendet", SpecialUse: `\Sent`},
	}})
	var sent []string
	for _, f := range h.Folders(t, imaptest.DefaultUser) {
		if f.HasAttr(`\Sent`) {
			sent = append(sent, f.Name)
		}
	}
	if len(sent) != 1 || sent[0] != "Gesendet" {
		t.Errorf("folders marked \\Sent: %q, want [Gesendet]", sent)
	}
	c := dial(t, h.Addr(), h.TLSConfig())
	raw := message("h@icloud.example")
	cmd := c.Append("Gesendet", int64(len(raw)), nil)
	cmd.Write(raw)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if msgs := h.Messages(t, imaptest.DefaultUser, "Gesendet"); len(msgs) != 1 || !bytes.Equal(msgs[0].Raw, raw) {
		t.Errorf("Gesendet holds %d messages", len(msgs))
	}
}

func TestHostile_Failures(t *testing.T) {
	big := bytes.Repeat([]byte("y"), 64<<10)
	appendBig := func(c *imapclient.Client) error {
		cmd := c.Append("Sent Messages", int64(len(big)), nil)
		_, werr := cmd.Write(big)
		cerr := cmd.Close()
		_, err := cmd.Wait()
		return errors.Join(werr, cerr, err)
	}
	tests := []struct {
		name  string
		cfg   imaptest.HostileConfig
		check func(t *testing.T, h *imaptest.Hostile)
	}{
		{"overquota", imaptest.HostileConfig{AppendError: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeOverQuota, Text: "Quota exceeded"}},
			func(t *testing.T, h *imaptest.Hostile) {
				var ie *imap.Error
				if err := appendBig(dial(t, h.Addr(), h.TLSConfig())); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeOverQuota {
					t.Errorf("APPEND: %v, want NO [OVERQUOTA]", err)
				}
			}},
		{"drop mid-append", imaptest.HostileConfig{Drop: "append"},
			func(t *testing.T, h *imaptest.Hostile) {
				if err := appendBig(dial(t, h.Addr(), h.TLSConfig())); err == nil {
					t.Error("APPEND succeeded over a dropped connection")
				}
				<-h.Reached("append")
			}},
		{"login refused", imaptest.HostileConfig{LoginError: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable, Text: "try later"}},
			func(t *testing.T, h *imaptest.Hostile) {
				c, err := imapclient.DialTLS(h.Addr(), &imapclient.Options{TLSConfig: h.TLSConfig()})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var ie *imap.Error
				if err := c.Login(imaptest.DefaultUser, imaptest.DefaultPassword).Wait(); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeUnavailable {
					t.Errorf("Login: %v", err)
				}
				if l := h.Logins(); len(l) != 1 || l[0].OK || !l[0].TLS {
					t.Errorf("logins %+v", l)
				}
			}},
		{"stall greeting", imaptest.HostileConfig{Stall: "greeting"},
			func(t *testing.T, h *imaptest.Hostile) {
				conn, err := tls.Dial("tcp", h.Addr(), h.TLSConfig()) // the handshake works
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				<-h.Reached("greeting")
				conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				var ne net.Error
				if n, err := conn.Read(make([]byte, 1)); n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("read %d bytes (%v), want a timeout", n, err)
				}
			}},
		{"flood line", imaptest.HostileConfig{Flood: "line"},
			func(t *testing.T, h *imaptest.Hostile) { checkFlood(t, h, "* OK [ALERT] xxx") }},
		{"flood literal", imaptest.HostileConfig{Flood: "literal"},
			func(t *testing.T, h *imaptest.Hostile) { checkFlood(t, h, "* LIST () \"/\" {1073741824}\r\nxxx") }},
		{"starttls without STARTTLS", imaptest.HostileConfig{StartTLS: true, NoSTARTTLS: true},
			func(t *testing.T, h *imaptest.Hostile) {
				c, err := imapclient.DialInsecure(h.Addr(), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if c.Caps().Has(imap.CapStartTLS) {
					t.Error("STARTTLS offered")
				}
				c.Login(imaptest.DefaultUser, imaptest.DefaultPassword).Wait()
				if l := h.Logins(); len(l) != 1 || l[0].TLS {
					t.Errorf("logins %+v, want one in plaintext", l)
				}
			}},
		{"starttls", imaptest.HostileConfig{StartTLS: true},
			func(t *testing.T, h *imaptest.Hostile) {
				if n := len(h.Folders(t, imaptest.DefaultUser)); n != len(imaptest.ICloudMailboxes()) {
					t.Errorf("%d folders over STARTTLS", n)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, imaptest.NewHostile(t, tt.cfg))
		})
	}
}

// checkFlood logs in by hand, sends LIST and reads the first bytes of the
// flood, then goes away: the server must notice and stop.
func checkFlood(t *testing.T, h *imaptest.Hostile, want string) {
	conn, err := tls.Dial("tcp", h.Addr(), h.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	r.ReadString('\n') // greeting
	fmt.Fprintf(conn, "a LOGIN %s %s\r\n", imaptest.DefaultUser, imaptest.DefaultPassword)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "a ") {
			break
		}
	}
	fmt.Fprintf(conn, "b LIST \"\" \"*\"\r\n")
	got := make([]byte, len(want)+64<<10)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), want) || strings.Contains(string(got[len(want):]), "\n") {
		t.Errorf("flood starts %q, want %q and no line end", got[:len(want)+3], want)
	}
}
