package mailer_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/imaptest"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// A message as Postcard sends it: CRLF line ends, a Message-ID and a Date.
func sentMessage(id string, body string) []byte {
	return []byte("Date: Sat, 28 Nov 2026 10:00:00 +0100\r\nFrom: Ann Example <" + testUser + ">\r\n" +
		"To: bob@example.org\r\nBcc: secret@example.com\r\nSubject: Hello\r\nMessage-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body)
}

var sentDate = time.Date(2026, 11, 28, 10, 0, 0, 0, time.FixedZone("", 3600))

func startDovecot(t *testing.T, mailboxes ...imaptest.Mailbox) *imaptest.Dovecot {
	t.Helper()
	cfg := imaptest.DovecotConfig{CA: testCA}
	if len(mailboxes) > 0 {
		cfg.Mailboxes = mailboxes
	}
	return imaptest.StartDovecot(t, cfg)
}

func startHostile(t *testing.T, cfg imaptest.HostileConfig) *imaptest.Hostile {
	t.Helper()
	cfg.CA = testCA
	return imaptest.NewHostile(t, cfg)
}

func imapAccount(port int, sec mailer.Security) mailer.IMAPAccount {
	return mailer.IMAPAccount{Host: "127.0.0.1", Port: port, Security: sec, Username: testUser}
}

// imapClient trusts only the test CA and keeps failure tests short.
func imapClient() *mailer.IMAPClient {
	return &mailer.IMAPClient{ConnectTimeout: 2 * time.Second, ReplyTimeout: 2 * time.Second, RootCAs: testCA.Pool()}
}

func password(pw string) mailer.PasswordFunc {
	return func(context.Context) (string, error) { return pw, nil }
}

// fileCopy files raw with id through c, recording the stages.
func fileCopy(t *testing.T, c *mailer.IMAPClient, a mailer.IMAPAccount, pw, id string, raw []byte) (mailer.CopyOutcome, []mailer.StageResult, error) {
	t.Helper()
	var stages []mailer.StageResult
	c.OnStage = func(r mailer.StageResult) { stages = append(stages, r) }
	out, err := c.FileSentCopy(context.Background(), a, password(pw), id, sentDate, bytes.NewReader(raw), int64(len(raw)))
	assertNoPassword(t, err, stages)
	return out, stages, err
}

// assertNoPassword fails t if the password shows in err or the stages.
func assertNoPassword(t *testing.T, err error, stages []mailer.StageResult) {
	t.Helper()
	var texts []string
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		var e *mailer.Error
		if errors.As(err, &e) {
			texts = append(texts, e.Hint(), e.Detail)
			if e.Err != nil {
				texts = append(texts, e.Err.Error())
			}
		}
	}
	for _, s := range stages {
		texts = append(texts, s.Detail)
	}
	plain := base64.RawStdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPass))
	for _, s := range texts {
		if strings.Contains(s, testPass) || strings.Contains(s, plain) {
			t.Errorf("the password shows in %q", s)
		}
	}
}

func stageNames(stages []mailer.StageResult) string {
	var names []string
	for _, s := range stages {
		n := string(s.Stage)
		if !s.OK {
			n += "!"
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

// assertOneCopy checks that folder holds exactly raw, once, \Seen, with the
// message's date as its internal date.
func assertOneCopy(t *testing.T, msgs []imaptest.Message, raw []byte) {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("the folder holds %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !bytes.Equal(m.Raw, raw) {
		t.Errorf("stored bytes differ from those sent:\n got %q\nwant %q", m.Raw, raw)
	}
	if !m.HasFlag(`\Seen`) {
		t.Errorf("flags %v, want \\Seen", m.Flags)
	}
	if !m.InternalDate.Equal(sentDate) {
		t.Errorf("internal date %v, want %v", m.InternalDate, sentDate)
	}
}

func TestIMAP_FileSentCopy_FiledOnce(t *testing.T) {
	d := startDovecot(t)
	raw := sentMessage("filed-once@icloud.example", "Hi Bob,\r\nsee you.\r\n")
	a := imapAccount(d.Port, mailer.ImplicitTLS)

	out, stages, err := fileCopy(t, imapClient(), a, testPass, "filed-once@icloud.example", raw)
	if err != nil || out != mailer.CopyFiled {
		t.Fatalf("FileSentCopy = %q, %v; want filed", out, err)
	}
	if got, want := stageNames(stages), "resolve connect tls greeting login folder search append"; got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
	if f := stages[5]; f.Detail != "Sent Messages" {
		t.Errorf("folder stage says %q, want Sent Messages", f.Detail)
	}
	assertOneCopy(t, d.Messages(t, testUser, "Sent Messages"), raw)

	// Again, as a retry would: found, not filed twice.
	out, _, err = fileCopy(t, imapClient(), a, testPass, "<filed-once@icloud.example>", raw)
	if err != nil || out != mailer.CopyAlreadyThere {
		t.Fatalf("second FileSentCopy = %q, %v; want already-there", out, err)
	}
	assertOneCopy(t, d.Messages(t, testUser, "Sent Messages"), raw)
	if n := len(d.Messages(t, testUser, "INBOX")); n != 0 {
		t.Errorf("INBOX holds %d messages", n)
	}
}

// A server that files its own copy of what was sent over SMTP: the copy
// is found by its Message-ID and not filed again.
func TestIMAP_FileSentCopy_AlreadyFiledByServer(t *testing.T) {
	d := startDovecot(t)
	raw := sentMessage("by-server@icloud.example", "Hi.\r\n")
	d.Append(t, testUser, "Sent Messages", raw)
	// Another message whose ID contains this one's must not count.
	d.Append(t, testUser, "Sent Messages", sentMessage("x.by-server@icloud.example.org", "Other.\r\n"))

	out, stages, err := fileCopy(t, imapClient(), imapAccount(d.Port, mailer.ImplicitTLS), testPass, "by-server@icloud.example", raw)
	if err != nil || out != mailer.CopyAlreadyThere {
		t.Fatalf("FileSentCopy = %q, %v; want already-there", out, err)
	}
	if got := stageNames(stages); strings.Contains(got, "append") {
		t.Errorf("stages %q include an append", got)
	}
	if n := len(d.Messages(t, testUser, "Sent Messages")); n != 2 {
		t.Errorf("Sent Messages holds %d messages, want the 2 placed before", n)
	}

	out, _, err = fileCopy(t, imapClient(), imapAccount(d.Port, mailer.ImplicitTLS), testPass, "by-server@icloud", raw)
	if err != nil || out != mailer.CopyFiled {
		t.Errorf("a Message-ID that is a prefix of a filed one: %q, %v; want filed", out, err)
	}
}

func TestIMAP_FileSentCopy_SentFolderByName(t *testing.T) {
	tests := []struct {
		name      string
		mailboxes []imaptest.Mailbox
		want      string
	}{
		{"Sent Items", []imaptest.Mailbox{{Name: "INBOX"}, {Name: "Drafts"}, {Name: "Sent Items"}}, "Sent Items"},
		{"any case", []imaptest.Mailbox{{Name: "INBOX"}, {Name: "sent mail"}}, "sent mail"},
		{"iCloud's name first", []imaptest.Mailbox{{Name: "INBOX"}, {Name: "Sent"}, {Name: "Sent Messages"}}, "Sent Messages"},
		{"under INBOX", []imaptest.Mailbox{{Name: "INBOX"}, {Name: "INBOX/Sent"}}, "INBOX/Sent"},
		{"marked \\Sent", []imaptest.Mailbox{{Name: "INBOX"}, {Name: "Sent Messages"}, {Name: "Outbox copies", SpecialUse: `\Sent`}}, "Outbox copies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := startDovecot(t, tt.mailboxes...)
			raw := sentMessage("by-name@icloud.example", "Hi.\r\n")
			out, stages, err := fileCopy(t, imapClient(), imapAccount(d.Port, mailer.ImplicitTLS), testPass, "by-name@icloud.example", raw)
			if err != nil || out != mailer.CopyFiled {
				t.Fatalf("FileSentCopy = %q, %v (stages %q)", out, err, stageNames(stages))
			}
			assertOneCopy(t, d.Messages(t, testUser, tt.want), raw)
		})
	}
}

func TestIMAP_FileSentCopy_NoSentFolderCreatesNothing(t *testing.T) {
	d := startDovecot(t, imaptest.Mailbox{Name: "INBOX"}, imaptest.Mailbox{Name: "Drafts"}, imaptest.Mailbox{Name: "Archive"})
	before := d.Folders(t, testUser)
	_, stages, err := fileCopy(t, imapClient(), imapAccount(d.Port, mailer.ImplicitTLS), testPass, "nowhere@icloud.example", sentMessage("nowhere@icloud.example", "x\r\n"))
	wantKind(t, err, mailer.KindSentFolderMissing, mailer.StageFolder)
	if !strings.Contains(err.Error(), "Drafts") {
		t.Errorf("error %q does not list the folders there are", err)
	}
	if got := stageNames(stages); got != "resolve connect tls greeting login folder!" {
		t.Errorf("stages %q", got)
	}
	if after := d.Folders(t, testUser); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("folders changed from %v to %v", before, after)
	}
	for _, f := range []string{"INBOX", "Drafts", "Archive"} {
		if n := len(d.Messages(t, testUser, f)); n != 0 {
			t.Errorf("%s holds %d messages", f, n)
		}
	}
}

func TestIMAP_FileSentCopy_StartTLS(t *testing.T) {
	d := startDovecot(t)
	raw := sentMessage("starttls@icloud.example", "Hi.\r\n")
	out, stages, err := fileCopy(t, imapClient(), imapAccount(d.StartTLSPort, mailer.StartTLS), testPass, "starttls@icloud.example", raw)
	if err != nil || out != mailer.CopyFiled {
		t.Fatalf("FileSentCopy = %q, %v", out, err)
	}
	if got, want := stageNames(stages), "resolve connect greeting tls login folder search append"; got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
	assertOneCopy(t, d.Messages(t, testUser, "Sent Messages"), raw)
}

// A server that offers no STARTTLS, or refuses it, never gets LOGIN.
func TestIMAP_StartTLSMissingSendsNoPassword(t *testing.T) {
	for _, cfg := range []imaptest.HostileConfig{
		{StartTLS: true, NoSTARTTLS: true},
	} {
		h := startHostile(t, cfg)
		_, _, err := fileCopy(t, imapClient(), imapAccount(h.Port, mailer.StartTLS), testPass, "x@icloud.example", []byte("x"))
		wantKind(t, err, mailer.KindTLSUnavailable, mailer.StageTLS)
		if l := h.Logins(); len(l) != 0 {
			t.Errorf("logins %+v, want none", l)
		}
	}
}

// scripted serves one connection on 127.0.0.1 with script, for what
// neither Dovecot nor go-imap's server can be made to do, and returns the
// port.
func scripted(t *testing.T, script func(c net.Conn, r *bufio.Reader)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		script(c, bufio.NewReader(c))
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// expectLine reads a command and fails t unless it ends with want.
func expectLine(t *testing.T, r *bufio.Reader, want string) {
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasSuffix(strings.TrimRight(line, "\r\n"), want) {
		t.Errorf("client sent %q (%v), want %q", line, err, want)
	}
}

// A server that repeats the login in its refusal, control characters and
// all, gets neither the password nor its base64 into the error.
func TestIMAP_LoginEchoScrubbed(t *testing.T) {
	cert, err := testCA.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	port := scripted(t, func(c net.Conn, _ *bufio.Reader) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		r := bufio.NewReader(tc)
		io.WriteString(tc, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED] ready\r\n")
		var said []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			said = append(said, line)
			tag, rest, _ := strings.Cut(line, " ")
			switch {
			case strings.HasPrefix(strings.ToUpper(rest), "CAPABILITY"):
				io.WriteString(tc, "* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED\r\n"+tag+" OK done\r\n")
				said = nil
			case strings.EqualFold(rest, "AUTHENTICATE PLAIN"):
				io.WriteString(tc, "+ \r\n")
				line, _ := r.ReadString('\n')
				said = append(said, strings.TrimRight(line, "\r\n"))
				fallthrough
			case strings.HasPrefix(strings.ToUpper(rest), "AUTHENTICATE PLAIN "):
				io.WriteString(tc, tag+" NO [AUTHENTICATIONFAILED] \x1b[2J you said: "+strings.Join(said, " | ")+"\r\n")
				return
			default:
				io.WriteString(tc, tag+" BAD what\r\n")
			}
		}
	})
	_, _, err = fileCopy(t, imapClient(), imapAccount(port, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindAuth, mailer.StageLogin)
	if err != nil && (!strings.Contains(err.Error(), "********") || strings.Contains(err.Error(), "\x1b")) {
		t.Errorf("error %q: want the echo scrubbed and escaped", err)
	}
}

func TestIMAP_PlaintextStage(t *testing.T) {
	cert, err := testCA.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		script func(t *testing.T, c net.Conn, r *bufio.Reader)
		kind   mailer.Kind
		stage  mailer.Stage
		stages string
	}{
		{"capabilities asked for, then TLS", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* OK ready\r\n")
			expectLine(t, r, "CAPABILITY")
			io.WriteString(c, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nP1 OK done\r\n")
			expectLine(t, r, "STARTTLS")
			io.WriteString(c, "P2 OK begin\r\n")
			tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
		}, mailer.KindConnectionLost, mailer.StageLogin, "resolve connect greeting tls login!"},
		{"data injected after STARTTLS", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
			expectLine(t, r, "STARTTLS")
			io.WriteString(c, "P2 OK begin\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n")
		}, mailer.KindTLSUnavailable, mailer.StageTLS, "resolve connect greeting tls!"},
		{"STARTTLS refused", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
			expectLine(t, r, "STARTTLS")
			io.WriteString(c, "P2 NO [UNAVAILABLE] not now\r\n")
		}, mailer.KindTLSUnavailable, mailer.StageTLS, "resolve connect greeting tls!"},
		{"logged in before TLS", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n")
		}, mailer.KindTLSUnavailable, mailer.StageGreeting, "resolve connect greeting!"},
		{"an SMTP server", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "220 smtp.example.org ESMTP ready\r\n")
		}, mailer.KindUnknown, mailer.StageGreeting, "resolve connect greeting!"},
		{"busy", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* BYE Too many connections, try later\r\n")
		}, mailer.KindTemporary, mailer.StageGreeting, "resolve connect greeting!"},
		{"endless greeting", func(t *testing.T, c net.Conn, r *bufio.Reader) {
			io.WriteString(c, "* OK "+strings.Repeat("x", 64<<10))
		}, mailer.KindUnknown, mailer.StageGreeting, "resolve connect greeting!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := scripted(t, func(c net.Conn, r *bufio.Reader) { tt.script(t, c, r) })
			_, stages, err := fileCopy(t, imapClient(), imapAccount(port, mailer.StartTLS), testPass, "x@icloud.example", []byte("x"))
			wantKind(t, err, tt.kind, tt.stage)
			if got := stageNames(stages); got != tt.stages {
				t.Errorf("stages %q, want %q", got, tt.stages)
			}
		})
	}
}

func TestIMAP_WrongPassword(t *testing.T) {
	d := startDovecot(t)
	_, stages, err := fileCopy(t, imapClient(), imapAccount(d.Port, mailer.ImplicitTLS), "wrong-pass-word", "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindAuth, mailer.StageLogin)
	if !strings.Contains(err.Error(), "AUTHENTICATIONFAILED") {
		t.Errorf("error %q does not quote the server", err)
	}
	if got := stageNames(stages); got != "resolve connect tls greeting login!" {
		t.Errorf("stages %q", got)
	}
}

// The server's text is the server's: a hostile one may echo the password.
func TestIMAP_PasswordScrubbedFromServerText(t *testing.T) {
	h := startHostile(t, imaptest.HostileConfig{LoginError: &imap.Error{
		Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "bad password " + testPass,
	}})
	_, _, err := fileCopy(t, imapClient(), imapAccount(h.Port, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindAuth, mailer.StageLogin) // fileCopy checked the password is absent
	if !strings.Contains(err.Error(), "bad password ***") {
		t.Errorf("error %q", err)
	}
}

func TestIMAP_LoginUnavailableIsTemporary(t *testing.T) {
	h := startHostile(t, imaptest.HostileConfig{LoginError: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable, Text: "backend down"}})
	_, _, err := fileCopy(t, imapClient(), imapAccount(h.Port, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindTemporary, mailer.StageLogin)
}

func TestIMAP_UntrustedCertificate(t *testing.T) {
	d := startDovecot(t)
	other, err := smtptest.NewCA("Someone else")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []mailer.IMAPAccount{imapAccount(d.Port, mailer.ImplicitTLS), imapAccount(d.StartTLSPort, mailer.StartTLS)} {
		c := imapClient()
		c.RootCAs = other.Pool()
		_, _, err := fileCopy(t, c, a, testPass, "x@icloud.example", []byte("x"))
		wantKind(t, err, mailer.KindTLSCertificate, mailer.StageTLS)
	}
}

func TestIMAP_EncryptionDoesNotMatchPort(t *testing.T) {
	d := startDovecot(t)
	_, _, err := fileCopy(t, imapClient(), imapAccount(d.StartTLSPort, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindTLSMode, mailer.StageTLS)

	c := imapClient()
	c.ReplyTimeout = 300 * time.Millisecond
	start := time.Now()
	_, _, err = fileCopy(t, c, imapAccount(d.Port, mailer.StartTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindTLSMode, mailer.StageGreeting)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s with a reply timeout of 300ms", el)
	}
}

func TestIMAP_ConnectRefused(t *testing.T) {
	addr, err := smtptest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	_, _, err = fileCopy(t, imapClient(), imapAccount(p, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
	wantKind(t, err, mailer.KindConnectRefused, mailer.StageConnect)
}

func TestIMAP_FindSent(t *testing.T) {
	d := startDovecot(t)
	d.Append(t, testUser, "Sent Messages", sentMessage("there@icloud.example", "x\r\n"))
	a := imapAccount(d.Port, mailer.ImplicitTLS)
	for id, want := range map[string]bool{"there@icloud.example": true, "<there@icloud.example>": true, "elsewhere@icloud.example": false} {
		got, err := imapClient().FindSent(context.Background(), a, password(testPass), id)
		if err != nil || got != want {
			t.Errorf("FindSent(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
}

func TestIMAP_Check(t *testing.T) {
	d := startDovecot(t)
	stages, err := imapClient().Check(context.Background(), imapAccount(d.Port, mailer.ImplicitTLS), password(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stageNames(stages), "resolve connect tls greeting login folder"; got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
	stages, err = imapClient().Check(context.Background(), imapAccount(d.Port, mailer.ImplicitTLS), password("wrong"))
	wantKind(t, err, mailer.KindAuth, mailer.StageLogin)
	if n := len(stages); n == 0 || stages[n-1].OK {
		t.Errorf("stages %+v do not end with the failed login", stages)
	}
}

// The password is read while connecting; its failure is returned as it is.
func TestIMAP_PasswordFuncFails(t *testing.T) {
	d := startDovecot(t)
	keychainErr := &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "locked"}
	var stages []mailer.StageResult
	c := imapClient()
	c.OnStage = func(r mailer.StageResult) { stages = append(stages, r) }
	_, err := c.FileSentCopy(context.Background(), imapAccount(d.Port, mailer.ImplicitTLS),
		func(context.Context) (string, error) { return "", keychainErr }, "x@icloud.example", sentDate, strings.NewReader("x"), 1)
	var e *mailer.Error
	if !errors.As(err, &e) || e.Kind != mailer.KindKeychain || e.Detail != "locked" || e.Protocol != mailer.ProtocolIMAP {
		t.Fatalf("err = %#v, want the password function's own, marked as the copy's", err)
	}
	if n := len(stages); n == 0 || stages[n-1].Stage != mailer.StageKeychain || stages[n-1].OK {
		t.Errorf("stages %q do not end with the keychain", stageNames(stages))
	}
}

func TestIMAP_FileSentCopy_HostileFailures(t *testing.T) {
	quota := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeOverQuota, Text: "Mailbox is full"}
	limit := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit, Text: "Too many messages"}
	tests := []struct {
		name  string
		cfg   imaptest.HostileConfig
		kind  mailer.Kind
		stage mailer.Stage
	}{
		{"overquota", imaptest.HostileConfig{AppendError: quota}, mailer.KindMailboxFull, mailer.StageAppend},
		{"limit", imaptest.HostileConfig{AppendError: limit}, mailer.KindMailboxFull, mailer.StageAppend},
		{"drop mid-append", imaptest.HostileConfig{Drop: "append"}, mailer.KindConnectionLost, mailer.StageAppend},
		{"drop at login", imaptest.HostileConfig{Drop: "login"}, mailer.KindConnectionLost, mailer.StageLogin},
		{"stall greeting", imaptest.HostileConfig{Stall: "greeting"}, mailer.KindTimeout, mailer.StageGreeting},
		{"stall list", imaptest.HostileConfig{Stall: "list"}, mailer.KindTimeout, mailer.StageFolder},
		{"stall search", imaptest.HostileConfig{Stall: "search"}, mailer.KindTimeout, mailer.StageSearch},
		{"stall append reply", imaptest.HostileConfig{Stall: "append"}, mailer.KindTimeout, mailer.StageAppend},
		{"stall greeting starttls", imaptest.HostileConfig{StartTLS: true, Stall: "greeting"}, mailer.KindTLSMode, mailer.StageGreeting},
		{"no sent folder", imaptest.HostileConfig{Mailboxes: []imaptest.Mailbox{{Name: "INBOX"}}}, mailer.KindSentFolderMissing, mailer.StageFolder},
	}
	const replyTimeout = 300 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHostile(t, tt.cfg)
			sec := mailer.ImplicitTLS
			if tt.cfg.StartTLS {
				sec = mailer.StartTLS
			}
			c := imapClient()
			c.ReplyTimeout = replyTimeout
			raw := sentMessage("hostile@icloud.example", strings.Repeat("line of text\r\n", 20_000))
			start := time.Now()
			_, _, err := fileCopy(t, c, imapAccount(h.Port, sec), testPass, "hostile@icloud.example", raw)
			wantKind(t, err, tt.kind, tt.stage)
			if el := time.Since(start); el > replyTimeout+2*time.Second {
				t.Errorf("took %s with a reply timeout of %s", el, replyTimeout)
			}
			if tt.kind == mailer.KindMailboxFull {
				var e *mailer.Error
				errors.As(err, &e)
				if want := "Your iCloud storage is full; the message was sent, but its copy could not be saved in Sent."; !strings.HasPrefix(e.Hint(), want) {
					t.Errorf("hint %q, want it to start %q", e.Hint(), want)
				}
			}
		})
	}
}

func TestIMAP_FileSentCopy_SpecialUsePreferred(t *testing.T) {
	h := startHostile(t, imaptest.HostileConfig{Mailboxes: []imaptest.Mailbox{
		{Name: "INBOX"}, {Name: "Sent Messages"}, {Name: "Gesendet", SpecialUse: `\Sent`},
	}})
	raw := sentMessage("special@icloud.example", "Hi.\r\n")
	out, stages, err := fileCopy(t, imapClient(), imapAccount(h.Port, mailer.ImplicitTLS), testPass, "special@icloud.example", raw)
	if err != nil || out != mailer.CopyFiled {
		t.Fatalf("FileSentCopy = %q, %v", out, err)
	}
	if d := stages[5].Detail; d != `Gesendet (marked \Sent)` {
		t.Errorf("folder stage says %q", d)
	}
	if msgs := h.Messages(t, testUser, "Gesendet"); len(msgs) != 1 || !bytes.Equal(msgs[0].Raw, raw) {
		t.Errorf("Gesendet holds %d messages, want the copy", len(msgs))
	}
	if n := len(h.Messages(t, testUser, "Sent Messages")); n != 0 {
		t.Errorf("Sent Messages holds %d messages", n)
	}
}

// A server that sends without end must cost at most a few MiB and end in
// an error, whether it sends one endless line or a literal announced as
// 1 GiB.
func TestIMAP_HostileFloodBoundedMemory(t *testing.T) {
	for _, flood := range []string{"line", "literal"} {
		t.Run(flood, func(t *testing.T) {
			h := startHostile(t, imaptest.HostileConfig{Flood: flood})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := fileCopy(t, imapClient(), imapAccount(h.Port, mailer.ImplicitTLS), testPass, "x@icloud.example", []byte("x"))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "more than") {
				t.Errorf("error %q does not say the reply was too large", err)
			}
			// Everything allocated meanwhile, freed or not, bounds the peak;
			// it includes the server's side of the test.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Errorf("allocated %d MiB while flooded", grew>>20)
			}
		})
	}
}

// Cancelling while the upload is blocked (the server stopped reading)
// stops it at once.
func TestIMAP_CancelMidAppend(t *testing.T) {
	h := startHostile(t, imaptest.HostileConfig{Stall: "append-body"})
	raw := sentMessage("cancel@icloud.example", strings.Repeat("0123456789abcdef", 1<<20)) // 16 MiB: more than the socket buffers
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.Reached("append-body")
		cancel()
	}()
	c := imapClient()
	c.ReplyTimeout = time.Minute // only the cancel can end it in time
	start := time.Now()
	_, err := c.FileSentCopy(ctx, imapAccount(h.Port, mailer.ImplicitTLS), password(testPass), "cancel@icloud.example", sentDate, bytes.NewReader(raw), int64(len(raw)))
	wantKind(t, err, mailer.KindCancelled, mailer.StageAppend)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %s", el)
	}
}

func TestIMAP_SizeMismatchFilesNothing(t *testing.T) {
	d := startDovecot(t)
	raw := sentMessage("size@icloud.example", "Hi.\r\n")
	a := imapAccount(d.Port, mailer.ImplicitTLS)
	for _, size := range []int64{int64(len(raw)) + 10, int64(len(raw)) - 10} {
		_, err := imapClient().FileSentCopy(context.Background(), a, password(testPass), "size@icloud.example", sentDate, bytes.NewReader(raw), size)
		wantKind(t, err, mailer.KindInvalidMessage, mailer.StageAppend)
	}
	if n := len(d.Messages(t, testUser, "Sent Messages")); n != 0 {
		t.Errorf("Sent Messages holds %d messages after failed uploads", n)
	}
}

func TestIMAPAccount_Validate(t *testing.T) {
	if err := mailer.DefaultIMAP().Validate(); err == nil || !strings.Contains(err.Error(), "username") {
		t.Errorf("default without username: %v", err)
	}
	a := mailer.IMAPAccount{Host: "imap.example.org", Username: "ann"}
	if err := a.Validate(); err != nil || a.Addr() != "imap.example.org:993" {
		t.Errorf("zero port and security: %v, addr %s", err, a.Addr())
	}
	a.Security = mailer.StartTLS
	if a.Addr() != "imap.example.org:143" {
		t.Errorf("StartTLS default addr %s", a.Addr())
	}
	tests := []struct {
		name string
		a    mailer.IMAPAccount
		want string
	}{
		{"no host", mailer.IMAPAccount{Username: "ann"}, "host is empty"},
		{"bad host", mailer.IMAPAccount{Host: "imap example", Username: "ann"}, "not a host name"},
		{"bad port", mailer.IMAPAccount{Host: "h", Port: 70000, Username: "ann"}, "port 70000"},
		{"bad security", mailer.IMAPAccount{Host: "h", Security: "none", Username: "ann"}, `security "none"`},
		{"line break", mailer.IMAPAccount{Host: "h", Username: "ann\r\nx"}, "line break"},
		{"iCloud needs the whole address", mailer.IMAPAccount{Host: "IMAP.mail.me.com", Username: "ann"}, "full email address"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		if mailer.KindOf(err) != mailer.KindInvalidAccount || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want invalid-account naming %q", tt.name, err, tt.want)
		}
	}
	_, err := imapClient().FileSentCopy(context.Background(), mailer.IMAPAccount{Host: "h", Username: "u"}, password("p"), "bad id@x", sentDate, strings.NewReader("x"), 1)
	if mailer.KindOf(err) != mailer.KindInvalidMessage {
		t.Errorf("bad Message-ID: %v", err)
	}
}

func wantKind(t *testing.T, err error, kind mailer.Kind, stage mailer.Stage) {
	t.Helper()
	var e *mailer.Error
	switch {
	case !errors.As(err, &e):
		t.Errorf("error = %v (%T), want *mailer.Error of kind %s at %s", err, err, kind, stage)
	case e.Kind != kind || e.Stage != stage:
		t.Errorf("got kind %s at %s (%v), want %s at %s", e.Kind, e.Stage, err, kind, stage)
	case e.Hint() == "":
		t.Errorf("no hint for %v", err)
	}
}

// Only a failure filing the copy of a message sent says the message went:
// a check of the settings and a look for an unconfirmed message sent
// nothing.
func TestIMAP_HintSaysSentOnlyForTheCopy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing answers there
	a := imapAccount(port, mailer.ImplicitTLS)
	const sent = "The message was sent; only its copy in the Sent folder was not saved."
	ctx := context.Background()

	_, copyErr := imapClient().FileSentCopy(ctx, a, password(testPass), "x@icloud.example", sentDate, strings.NewReader("x"), 1)
	_, checkErr := imapClient().Check(ctx, a, password(testPass))
	_, findErr := imapClient().FindSent(ctx, a, password(testPass), "x@icloud.example")
	for _, tt := range []struct {
		name     string
		err      error
		sentSaid bool
	}{
		{"FileSentCopy", copyErr, true},
		{"Check", checkErr, false},
		{"FindSent", findErr, false},
	} {
		wantKind(t, tt.err, mailer.KindConnectRefused, mailer.StageConnect)
		var e *mailer.Error
		if !errors.As(tt.err, &e) {
			continue
		}
		if got := strings.HasPrefix(e.Hint(), sent); got != tt.sentSaid {
			t.Errorf("%s: hint %q; says the message was sent: %v, want %v", tt.name, e.Hint(), got, tt.sentSaid)
		}
		if e.Protocol != mailer.ProtocolIMAP || e.Fix() != mailer.SettingIMAPHost {
			t.Errorf("%s: protocol %q, fix %q", tt.name, e.Protocol, e.Fix())
		}
	}
}
