package mailer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// The test CA is trusted through SSL_CERT_FILE, exactly as a user would add
// a root: the mailer has no other way to trust a certificate.
var (
	testCA  *smtptest.CA
	goodCrt tls.Certificate
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mailer-ca")
	if err != nil {
		panic(err)
	}
	testCA, err = smtptest.NewCA("Postcard Test CA")
	if err != nil {
		panic(err)
	}
	caFile, err := testCA.WriteFile(dir)
	if err != nil {
		panic(err)
	}
	os.Setenv("SSL_CERT_FILE", caFile)
	os.Setenv("SSL_CERT_DIR", dir)
	goodCrt, err = testCA.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testUser = "ann@icloud.example"
	testPass = "abcd-efgh-ijkl-mnop"
)

func startServer(t *testing.T, cfg smtptest.Config) *smtptest.Server {
	t.Helper()
	if cfg.Cert.Certificate == nil && cfg.Mode != smtptest.NoTLS {
		cfg.Cert = goodCrt
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{testUser: testPass}
	}
	s, err := smtptest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func accountFor(s interface{ Port() int }, sec mailer.Security) mailer.Account {
	return mailer.Account{Host: "127.0.0.1", Port: s.Port(), Security: sec, Username: testUser, DisplayName: "Ann Example"}
}

// fastClient keeps failure tests short; the defaults are for real networks.
func fastClient() *mailer.Client {
	return &mailer.Client{ConnectTimeout: 2 * time.Second, ReplyTimeout: 2 * time.Second}
}

// sendMessage prepares m and sends it, as the command line does.
func sendMessage(c *mailer.Client, ctx context.Context, a mailer.Account, password string, m mailer.Message) (*mailer.Result, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	p, err := mailer.Prepare(a, m)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx, a, mailer.Password(password), p.Outgoing())
}

func simpleMessage() mailer.Message {
	return mailer.Message{To: []string{"bob@example.org"}, Subject: "Hello", Body: "Hi Bob,\nsee you.\n"}
}

func TestSend_StartTLSPlain(t *testing.T) {
	s := startServer(t, smtptest.Config{Mode: smtptest.StartTLS})
	res, err := sendMessage(fastClient(), context.Background(), accountFor(s, mailer.StartTLS), testPass, simpleMessage())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.AuthUser != testUser || got.From != testUser {
		t.Errorf("message TLS=%v auth=%q from=%q", got.TLS, got.AuthUser, got.From)
	}
	if at := s.AuthAttempts(); len(at) != 1 || at[0].Mech != "PLAIN" || !at[0].TLS {
		t.Errorf("auth attempts = %+v, want one PLAIN over TLS", at)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if id := parsed.Header.Get("Message-Id"); id != "<"+res.MessageID+">" {
		t.Errorf("Message-ID header %q, want <%s>\n%s", id, res.MessageID, headerBlock(got.Data))
	}
	if !strings.HasSuffix(res.MessageID, "@icloud.example") {
		t.Errorf("Message-ID %q is not in the sender's domain", res.MessageID)
	}
	hdr := headerBlock(got.Data)
	for _, h := range []string{"X-Mailer:", "User-Agent:"} {
		if strings.Contains(strings.ToLower(hdr), strings.ToLower(h)) {
			t.Errorf("header %s present:\n%s", h, hdr)
		}
	}
}

func TestSend_ImplicitTLS(t *testing.T) {
	s := startServer(t, smtptest.Config{Mode: smtptest.ImplicitTLS})
	if _, err := sendMessage(fastClient(), context.Background(), accountFor(s, mailer.ImplicitTLS), testPass, simpleMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msgs := s.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("server got %+v, want one message over TLS", msgs)
	}
}

func TestSend_LoginMechanism(t *testing.T) {
	for _, mode := range []smtptest.Mode{smtptest.StartTLS, smtptest.ImplicitTLS} {
		s := startServer(t, smtptest.Config{Mode: mode, Mechanisms: []string{"LOGIN"}})
		sec := mailer.StartTLS
		if mode == smtptest.ImplicitTLS {
			sec = mailer.ImplicitTLS
		}
		if _, err := sendMessage(fastClient(), context.Background(), accountFor(s, sec), testPass, simpleMessage()); err != nil {
			t.Fatalf("mode %v: Send: %v", mode, err)
		}
		if at := s.AuthAttempts(); len(at) != 1 || at[0].Mech != "LOGIN" || !at[0].OK {
			t.Errorf("mode %v: auth attempts = %+v, want one good LOGIN", mode, at)
		}
	}
}

// A server that does not offer STARTTLS (as after a stripping middlebox)
// must not get the password: the client stops before AUTH.
func TestSend_StrippedSTARTTLSSendsNoPassword(t *testing.T) {
	s := startServer(t, smtptest.Config{Mode: smtptest.NoTLS})
	_, err := sendMessage(fastClient(), context.Background(), accountFor(s, mailer.StartTLS), testPass, simpleMessage())
	assertKind(t, err, mailer.KindTLSUnavailable, mailer.StageTLS)
	if at := s.AuthAttempts(); len(at) != 0 {
		t.Fatalf("client sent AUTH to a server without TLS: %+v", at)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("server got %d messages", n)
	}
}

func TestSend_Delivery(t *testing.T) {
	s := startServer(t, smtptest.Config{Mode: smtptest.StartTLS})
	dir := t.TempDir()
	bin := make([]byte, 300_000)
	for i := range bin {
		bin[i] = byte(i * 7 % 251)
	}
	pdf := filepath.Join(dir, "report.pdf")
	txt := filepath.Join(dir, "notes ü.txt")
	os.WriteFile(pdf, bin, 0o600)
	os.WriteFile(txt, []byte("plain text\r\nline two\n"), 0o600)

	a := accountFor(s, mailer.StartTLS)
	a.DisplayName = "Zoë Ödegaard"
	m := mailer.Message{
		To:          []string{`"Doe, Jane" <jane@example.org>; bob@example.org`},
		Cc:          []string{"Carl Çelik <carl@example.net>"},
		Bcc:         []string{"secret@example.com"},
		ReplyTo:     "replies@example.com",
		Subject:     "Grüße aus Köln – ✉",
		Body:        "Hallo,\nanbei der Bericht.\n.\nEnde\n",
		Attachments: []string{pdf, txt},
	}
	res, err := sendMessage(fastClient(), context.Background(), a, testPass, m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	got := msgs[0]
	wantRcpt := []string{"jane@example.org", "bob@example.org", "carl@example.net", "secret@example.com"}
	if strings.Join(got.To, ",") != strings.Join(wantRcpt, ",") || strings.Join(res.Recipients, ",") != strings.Join(wantRcpt, ",") {
		t.Errorf("envelope recipients = %v (result %v), want %v", got.To, res.Recipients, wantRcpt)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(parsed.Header.Get("Subject"))
	if subj != m.Subject {
		t.Errorf("subject = %q, want %q", subj, m.Subject)
	}
	from, err := parsed.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Zoë Ödegaard" || from[0].Address != testUser {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, _ := parsed.Header.AddressList("To")
	if len(to) != 2 || to[0].Name != "Doe, Jane" || to[1].Address != "bob@example.org" {
		t.Errorf("To = %v", to)
	}
	cc, _ := parsed.Header.AddressList("Cc")
	if len(cc) != 1 || cc[0].Name != "Carl Çelik" {
		t.Errorf("Cc = %v", cc)
	}
	if rt := parsed.Header.Get("Reply-To"); !strings.Contains(rt, "replies@example.com") {
		t.Errorf("Reply-To = %q", rt)
	}
	if strings.Contains(strings.ToLower(headerBlock(got.Data)), "secret@example.com") ||
		strings.Contains(strings.ToLower(headerBlock(got.Data)), "bcc:") {
		t.Errorf("Bcc visible in headers:\n%s", headerBlock(got.Data))
	}

	// Walk the MIME parts: the body text, then both files, byte for byte.
	_, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	files := map[string][]byte{}
	var body string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		switch p.Header.Get("Content-Transfer-Encoding") {
		case "base64":
			data, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
		}
		if name := p.FileName(); name != "" {
			name, _ = dec.DecodeHeader(name)
			files[name] = data
		} else {
			body = string(data) // multipart.Reader undoes quoted-printable
		}
	}
	if !strings.Contains(body, "anbei der Bericht.") || !strings.Contains(body, "\r\n.\r\nEnde") {
		t.Errorf("body = %q", body)
	}
	if !bytes.Equal(files["report.pdf"], bin) {
		t.Errorf("report.pdf: got %d bytes, differ from the %d sent", len(files["report.pdf"]), len(bin))
	}
	if string(files["notes ü.txt"]) != "plain text\r\nline two\n" {
		t.Errorf("notes ü.txt = %q (files %v)", files["notes ü.txt"], keys(files))
	}
}

// Header injection attempts are refused before anything is sent.
func TestSend_HeaderInjectionRefused(t *testing.T) {
	s := startServer(t, smtptest.Config{Mode: smtptest.StartTLS})
	a := accountFor(s, mailer.StartTLS)
	for name, m := range map[string]mailer.Message{
		"subject":  {To: []string{"bob@example.org"}, Subject: "hi\r\nBcc: evil@example.com"},
		"subj-lf":  {To: []string{"bob@example.org"}, Subject: "hi\nX-Evil: 1"},
		"to":       {To: []string{"bob@example.org\r\nBcc: evil@example.com"}, Subject: "x"},
		"reply-to": {To: []string{"bob@example.org"}, ReplyTo: "a@example.org\nX-Evil: 1", Subject: "x"},
	} {
		_, err := sendMessage(fastClient(), context.Background(), a, testPass, m)
		assertKind(t, err, mailer.KindInvalidMessage, mailer.StageValidate)
		if !strings.Contains(err.Error(), "line break") {
			t.Errorf("%s: error %q does not say why", name, err)
		}
	}
	a.DisplayName = "Ann\r\nBcc: evil@example.com"
	_, err := sendMessage(fastClient(), context.Background(), a, testPass, simpleMessage())
	assertKind(t, err, mailer.KindInvalidAccount, mailer.StageValidate)
	if n := s.Sessions(); n != 0 {
		t.Fatalf("server saw %d connections; validation must come first", n)
	}
}

func smtpErr(code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// One real server per kind of failure.
func TestSend_FailureKinds(t *testing.T) {
	untrustedCA, err := smtptest.NewCA("Interceptor CA")
	if err != nil {
		t.Fatal(err)
	}
	untrusted, _ := untrustedCA.ServerCert("127.0.0.1", "localhost")
	otherName, _ := testCA.ServerCert("mail.example.net")

	tests := []struct {
		name      string
		cfg       smtptest.Config
		sec       mailer.Security
		pass      string
		msg       func(*mailer.Message)
		kind      mailer.Kind
		stage     mailer.Stage
		replyCode int
		hintHas   string
	}{
		{name: "auth/wrong password", cfg: smtptest.Config{}, pass: "my-apple-id-password",
			kind: mailer.KindAuth, stage: mailer.StageLogin, replyCode: 535, hintHas: "app-specific password"},
		{name: "auth/534 from hook", cfg: smtptest.Config{OnAuth: func(string) *smtp.SMTPError {
			return smtpErr(534, smtp.EnhancedCode{5, 7, 9}, "Application-specific password required")
		}}, kind: mailer.KindAuth, stage: mailer.StageLogin, replyCode: 534},
		{name: "tls-mode/ssl to starttls port", cfg: smtptest.Config{Mode: smtptest.StartTLS}, sec: mailer.ImplicitTLS,
			kind: mailer.KindTLSMode, stage: mailer.StageTLS, hintHas: "587 uses STARTTLS"},
		{name: "tls-mode/starttls to ssl port", cfg: smtptest.Config{Mode: smtptest.ImplicitTLS}, sec: mailer.StartTLS,
			kind: mailer.KindTLSMode, stage: mailer.StageGreeting, hintHas: "465 uses SSL/TLS"},
		{name: "tls-certificate/unknown authority", cfg: smtptest.Config{Cert: untrusted},
			kind: mailer.KindTLSCertificate, stage: mailer.StageTLS},
		{name: "tls-certificate/unknown authority ssl", cfg: smtptest.Config{Mode: smtptest.ImplicitTLS, Cert: untrusted}, sec: mailer.ImplicitTLS,
			kind: mailer.KindTLSCertificate, stage: mailer.StageTLS},
		{name: "tls-certificate/other host", cfg: smtptest.Config{Cert: otherName},
			kind: mailer.KindTLSCertificate, stage: mailer.StageTLS},
		{name: "tls-unavailable", cfg: smtptest.Config{Mode: smtptest.NoTLS},
			kind: mailer.KindTLSUnavailable, stage: mailer.StageTLS},
		{name: "sender-rejected", cfg: smtptest.Config{OnMail: func(string) *smtp.SMTPError {
			return smtpErr(550, smtp.EnhancedCode{5, 7, 0}, "From address is not one of your addresses")
		}}, kind: mailer.KindSenderRejected, stage: mailer.StageSender, replyCode: 550},
		{name: "sender-rejected at rcpt", cfg: smtptest.Config{OnRcpt: func(string) *smtp.SMTPError {
			return smtpErr(553, smtp.EnhancedCode{5, 7, 1}, "<ann@icloud.example>: Sender address rejected: not owned by user ann@icloud.example")
		}}, kind: mailer.KindSenderRejected, stage: mailer.StageRcpt, replyCode: 553},
		{name: "rate-limited/daily limit after data", cfg: smtptest.Config{OnData: func([]byte) *smtp.SMTPError {
			return smtpErr(550, smtp.EnhancedCode{5, 7, 1}, "Message rejected. You have exceeded your daily sending limit")
		}}, kind: mailer.KindRateLimited, stage: mailer.StageAccepted, replyCode: 550},
		{name: "rate-limited/volume at mail", cfg: smtptest.Config{OnMail: func(string) *smtp.SMTPError {
			return smtpErr(421, smtp.EnhancedCode{4, 7, 1}, "Message deferred due to excessive volume")
		}}, kind: mailer.KindRateLimited, stage: mailer.StageSender, replyCode: 421},
		{name: "policy-rejected", cfg: smtptest.Config{OnData: func([]byte) *smtp.SMTPError {
			return smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "[CS01] Message rejected due to local policy")
		}}, kind: mailer.KindPolicyRejected, stage: mailer.StageAccepted, replyCode: 554},
		{name: "too-large/server size limit", cfg: smtptest.Config{MaxMessageBytes: 2000},
			msg:  func(m *mailer.Message) { m.Body = strings.Repeat("long line of text\n", 500) },
			kind: mailer.KindTooLarge, replyCode: 552, hintHas: "20 MB"},
		{name: "temporary", cfg: smtptest.Config{OnMail: func(string) *smtp.SMTPError {
			return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary server error. Please try again later")
		}}, kind: mailer.KindTemporary, stage: mailer.StageSender, replyCode: 451},
		{name: "connection-lost/at mail", cfg: smtptest.Config{Drop: "mail"},
			kind: mailer.KindConnectionLost, stage: mailer.StageSender, hintHas: "safe to try again"},
		{name: "connection-lost/mid upload", cfg: smtptest.Config{Drop: "data"},
			// More than loopback socket buffers hold, so the reset hits a write.
			msg:  func(m *mailer.Message) { m.Body = strings.Repeat("0123456789abcdef\n", 1<<20) },
			kind: mailer.KindConnectionLost, stage: mailer.StageData, hintHas: "safe to try again"},
		{name: "connection-lost/after upload", cfg: smtptest.Config{Drop: "after-data"},
			kind: mailer.KindConnectionLost, stage: mailer.StageAccepted, hintHas: "may or may not"},
		{name: "connection-lost/before greeting", cfg: smtptest.Config{Drop: "greeting"},
			// On loopback the reset may already fail the connect.
			kind: mailer.KindConnectionLost},
		{name: "timeout/no reply after upload", cfg: smtptest.Config{Stall: "data"},
			kind: mailer.KindTimeout, stage: mailer.StageAccepted, hintHas: "may or may not"},
		{name: "timeout/login stalls", cfg: smtptest.Config{Stall: "auth"},
			kind: mailer.KindTimeout, stage: mailer.StageLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg)
			sec := tt.sec
			if sec == "" {
				sec = mailer.StartTLS
				if tt.cfg.Mode == smtptest.ImplicitTLS {
					sec = mailer.ImplicitTLS
				}
			}
			pass := tt.pass
			if pass == "" {
				pass = testPass
			}
			m := simpleMessage()
			if tt.msg != nil {
				tt.msg(&m)
			}
			a := accountFor(s, sec)
			_, err := sendMessage(fastClient(), context.Background(), a, pass, m)
			e := assertKind(t, err, tt.kind, tt.stage)
			if e == nil {
				return
			}
			if tt.replyCode != 0 && (e.Reply == nil || e.Reply.Code != tt.replyCode) {
				t.Errorf("reply = %v, want code %d", e.Reply, tt.replyCode)
			}
			if tt.hintHas != "" && !strings.Contains(e.Hint(), tt.hintHas) {
				t.Errorf("hint %q does not contain %q", e.Hint(), tt.hintHas)
			}
			if strings.Contains(err.Error(), pass) || strings.Contains(e.Hint(), pass) {
				t.Errorf("error text contains the password: %v", err)
			}
			if n := len(s.Messages()); n != 0 {
				t.Errorf("server recorded %d messages after a failure", n)
			}
			if n := s.Sessions(); n > 1 {
				t.Errorf("client connected %d times; there is no retry", n)
			}
		})
	}
}

// Any refused recipient stops the whole message, and the error names exactly
// the refused ones.
func TestSend_RecipientRejected(t *testing.T) {
	s := startServer(t, smtptest.Config{OnRcpt: func(to string) *smtp.SMTPError {
		if strings.HasPrefix(to, "nobody") || strings.HasPrefix(to, "ghost") {
			return smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "<"+to+">: Recipient address rejected: User unknown in virtual mailbox table")
		}
		return nil
	}})
	m := mailer.Message{To: []string{"bob@example.org, nobody@example.org"}, Bcc: []string{"ghost@example.net"}, Subject: "x"}
	_, err := sendMessage(fastClient(), context.Background(), accountFor(s, mailer.StartTLS), testPass, m)
	e := assertKind(t, err, mailer.KindRecipientRejected, mailer.StageRcpt)
	if e == nil {
		return
	}
	if strings.Join(e.Rejected, ",") != "nobody@example.org,ghost@example.net" {
		t.Errorf("Rejected = %v", e.Rejected)
	}
	if h := e.Hint(); !strings.Contains(h, "nobody@example.org") || !strings.Contains(h, "Nothing was sent") {
		t.Errorf("hint = %q", h)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages delivered; nobody may get it", n)
	}
}

func TestSend_ConnectRefused(t *testing.T) {
	addr, err := smtptest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	a := mailer.Account{Host: "127.0.0.1", Port: portOf(t, addr), Security: mailer.StartTLS, Username: testUser}
	_, err = sendMessage(fastClient(), context.Background(), a, testPass, simpleMessage())
	assertKind(t, err, mailer.KindConnectRefused, mailer.StageConnect)
}

func TestSend_ConnectTimeout(t *testing.T) {
	fq, err := smtptest.StartFullQueue()
	if err != nil {
		t.Fatal(err)
	}
	defer fq.Close()
	a := mailer.Account{Host: "127.0.0.1", Port: portOf(t, fq.Addr()), Security: mailer.StartTLS, Username: testUser}
	c := &mailer.Client{ConnectTimeout: 300 * time.Millisecond, ReplyTimeout: time.Second}
	_, err = sendMessage(c, context.Background(), a, testPass, simpleMessage())
	e := assertKind(t, err, mailer.KindConnectTimeout, mailer.StageConnect)
	if e != nil && !strings.Contains(e.Hint(), "465") {
		t.Errorf("hint %q does not suggest port 465", e.Hint())
	}
}

func TestSend_SilentServer(t *testing.T) {
	sl, err := smtptest.StartSilent()
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	c := &mailer.Client{ConnectTimeout: time.Second, ReplyTimeout: 300 * time.Millisecond}
	a := mailer.Account{Host: "127.0.0.1", Port: portOf(t, sl.Addr()), Security: mailer.StartTLS, Username: testUser}
	// STARTTLS waits for a greeting that never comes: the implicit-TLS sign.
	_, err = sendMessage(c, context.Background(), a, testPass, simpleMessage())
	assertKind(t, err, mailer.KindTLSMode, mailer.StageGreeting)
	// SSL/TLS waits for a handshake that never comes: a plain timeout.
	a.Security = mailer.ImplicitTLS
	_, err = sendMessage(c, context.Background(), a, testPass, simpleMessage())
	assertKind(t, err, mailer.KindTimeout, mailer.StageTLS)
}

func TestSend_DNS(t *testing.T) {
	a := mailer.Account{Host: "postcard-test.invalid", Port: 587, Security: mailer.StartTLS, Username: testUser}
	_, err := sendMessage(fastClient(), context.Background(), a, testPass, simpleMessage())
	e := assertKind(t, err, mailer.KindDNS, mailer.StageResolve)
	if e != nil && !strings.Contains(err.Error(), "postcard-test.invalid") {
		t.Errorf("error %q does not name the host", err)
	}
}

// Cancelling stops the send at once wherever it is waiting.
func TestSend_CancelStages(t *testing.T) {
	for _, tt := range []struct {
		stall string
		stage mailer.Stage
		big   bool
	}{
		{"greeting", mailer.StageGreeting, false},
		{"auth", mailer.StageLogin, false},
		{"rcpt", mailer.StageRcpt, false},
		{"data-body", mailer.StageData, true}, // the server stops reading mid-upload
		{"data", mailer.StageAccepted, false},
	} {
		t.Run(tt.stall, func(t *testing.T) {
			s := startServer(t, smtptest.Config{Stall: tt.stall})
			ctx, cancel := context.WithCancel(context.Background())
			c := &mailer.Client{ConnectTimeout: time.Minute, ReplyTimeout: time.Minute}
			reached := make(chan struct{})
			c.OnStage = func(r mailer.StageResult) {
				if r.OK && nextStage(r.Stage) == tt.stage {
					close(reached)
				}
			}
			m := simpleMessage()
			if tt.big {
				m.Body = strings.Repeat("0123456789abcdef\n", 1<<20) // 17 MB: more than socket buffers hold
			}
			errc := make(chan error, 1)
			go func() {
				_, err := sendMessage(c, ctx, accountFor(s, mailer.StartTLS), testPass, m)
				errc <- err
			}()
			select {
			case <-reached:
			case err := <-errc:
				t.Fatalf("send ended before reaching %s: %v", tt.stage, err)
			case <-time.After(20 * time.Second):
				t.Fatalf("never reached %s", tt.stage)
			}
			cancel()
			select {
			case err := <-errc:
				e := assertKind(t, err, mailer.KindCancelled, tt.stage)
				if e != nil && tt.stage == mailer.StageAccepted && !strings.Contains(e.Hint(), "may or may not") {
					t.Errorf("cancel after upload must not claim the message was not sent: %q", e.Hint())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("cancel did not stop the send")
			}
		})
	}
}

// nextStage is the stage a STARTTLS send goes to after st.
func nextStage(st mailer.Stage) mailer.Stage {
	order := []mailer.Stage{mailer.StageResolve, mailer.StageConnect, mailer.StageGreeting, mailer.StageTLS,
		mailer.StageLogin, mailer.StageSender, mailer.StageRcpt, mailer.StageData, mailer.StageAccepted}
	for i, s := range order[:len(order)-1] {
		if s == st {
			return order[i+1]
		}
	}
	return ""
}

func TestCheck_Stages(t *testing.T) {
	for _, sec := range []mailer.Security{mailer.StartTLS, mailer.ImplicitTLS} {
		mode := smtptest.StartTLS
		want := "resolve,connect,greeting,tls,login"
		if sec == mailer.ImplicitTLS {
			mode = smtptest.ImplicitTLS
			want = "resolve,connect,tls,greeting,login"
		}
		s := startServer(t, smtptest.Config{Mode: mode})
		stages, err := fastClient().Check(context.Background(), accountFor(s, sec), mailer.Password(testPass))
		if err != nil {
			t.Fatalf("%s: Check: %v", sec, err)
		}
		var names []string
		for _, st := range stages {
			names = append(names, string(st.Stage))
			if !st.OK {
				t.Errorf("%s: stage %s not OK", sec, st.Stage)
			}
		}
		if strings.Join(names, ",") != want {
			t.Errorf("%s: stages %v, want %s", sec, names, want)
		}
		if n := len(s.Messages()); n != 0 {
			t.Errorf("Check sent %d messages", n)
		}
		if at := s.AuthAttempts(); len(at) != 1 || !at[0].OK {
			t.Errorf("auth attempts %+v", at)
		}
	}

	s := startServer(t, smtptest.Config{})
	stages, err := fastClient().Check(context.Background(), accountFor(s, mailer.StartTLS), mailer.Password("wrong"))
	assertKind(t, err, mailer.KindAuth, mailer.StageLogin)
	if len(stages) == 0 || stages[len(stages)-1].OK || stages[len(stages)-1].Stage != mailer.StageLogin {
		t.Errorf("stages %+v: want the failed login last", stages)
	}
}

func assertKind(t *testing.T, err error, kind mailer.Kind, stage mailer.Stage) *mailer.Error {
	t.Helper()
	var e *mailer.Error
	if !errors.As(err, &e) {
		t.Errorf("error = %v (%T), want *mailer.Error of kind %s", err, err, kind)
		return nil
	}
	if e.Kind != kind || (stage != "" && e.Stage != stage) {
		t.Errorf("got kind %s at %s (%v), want %s at %s", e.Kind, e.Stage, err, kind, stage)
	}
	if e.Hint() == "" {
		t.Errorf("no hint for %v", err)
	}
	return e
}

func headerBlock(data []byte) string {
	h, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	return string(h)
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	var p int
	if _, err := fmt.Sscanf(addr[strings.LastIndexByte(addr, ':')+1:], "%d", &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// The password is read while the connection is made; when it cannot be had,
// its own error comes back and no login is attempted.
func TestSend_PasswordFunc(t *testing.T) {
	s := startServer(t, smtptest.Config{})
	a := accountFor(s, mailer.StartTLS)
	p, err := mailer.Prepare(a, simpleMessage())
	if err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	slow := func(ctx context.Context) (string, error) {
		select {
		case <-release:
			return testPass, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c := fastClient()
	c.OnStage = func(r mailer.StageResult) {
		if r.Stage == mailer.StageTLS && r.OK {
			close(release) // the session got this far without the password
		}
	}
	if _, err := c.Send(context.Background(), a, slow, p.Outgoing()); err != nil {
		t.Fatalf("send with a slow password: %v", err)
	}

	keychainErr := &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "no password is stored", Err: mailer.ErrPasswordNotFound}
	failing := func(context.Context) (string, error) { return "", keychainErr }
	_, err = fastClient().Send(context.Background(), a, failing, p.Outgoing())
	if !errors.Is(err, mailer.ErrPasswordNotFound) {
		t.Fatalf("send without a password: %v, want the keychain's error", err)
	}
	_, err = fastClient().Check(context.Background(), a, failing)
	if !errors.Is(err, mailer.ErrPasswordNotFound) {
		t.Fatalf("check without a password: %v, want the keychain's error", err)
	}
	if at := s.AuthAttempts(); len(at) != 1 {
		t.Errorf("auth attempts = %+v, want only the first send's", at)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages delivered, want 1", n)
	}
}

// A failure on the wire stays that failure even though closing the session
// cancels a password lookup still under way (whose error then says
// "cancelled"): the lookup is not the reason.
func TestSend_WireErrorWinsOverCancelledPassword(t *testing.T) {
	untrustedCA, err := smtptest.NewCA("Interceptor CA")
	if err != nil {
		t.Fatal(err)
	}
	crt, _ := untrustedCA.ServerCert("127.0.0.1")
	s := startServer(t, smtptest.Config{Cert: crt})
	hanging := func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageKeychain, Detail: "cancelled while reading the password", Err: ctx.Err()}
	}
	for i := 0; i < 50; i++ {
		_, err := fastClient().Check(context.Background(), accountFor(s, mailer.StartTLS), hanging)
		if mailer.KindOf(err) != mailer.KindTLSCertificate {
			t.Fatalf("run %d: %v, want the certificate error", i, err)
		}
	}
}

// When the password fails at the login, the keychain is the failed stage.
func TestCheck_PasswordFailsAtLogin(t *testing.T) {
	s := startServer(t, smtptest.Config{})
	release := make(chan struct{})
	c := fastClient()
	c.OnStage = func(r mailer.StageResult) {
		if r.Stage == mailer.StageTLS && r.OK {
			close(release)
		}
	}
	late := func(context.Context) (string, error) {
		<-release
		return "", &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "locked", Err: mailer.ErrKeychainUnavailable}
	}
	stages, err := c.Check(context.Background(), accountFor(s, mailer.StartTLS), late)
	if !errors.Is(err, mailer.ErrKeychainUnavailable) {
		t.Fatalf("err = %v, want the keychain's", err)
	}
	if last := stages[len(stages)-1]; last.Stage != mailer.StageKeychain || last.OK {
		t.Errorf("last stage %+v, want the keychain failed", last)
	}
	if at := s.AuthAttempts(); len(at) != 0 {
		t.Errorf("auth attempts %+v without a password", at)
	}
}
