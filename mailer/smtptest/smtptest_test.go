package smtptest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer/smtptest"
)

const (
	user = "jane@icloud.com"
	pass = "abcd-efgh-ijkl-mnop"
	body = "Subject: hello\r\n\r\nHi there.\r\n"
)

var users = map[string]string{user: pass}

// start starts a server with cfg (adding a certificate for TLS modes) and
// returns it with a client TLS config that trusts it.
func start(t *testing.T, cfg smtptest.Config) (*smtptest.Server, *tls.Config) {
	t.Helper()
	ca, err := smtptest.NewCA("smtptest test CA")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != smtptest.NoTLS {
		if cfg.Cert, err = ca.ServerCert("127.0.0.1", "localhost"); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := smtptest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	if host, _, _ := net.SplitHostPort(srv.Addr()); host != "127.0.0.1" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:PORT", srv.Addr())
	}
	return srv, &tls.Config{RootCAs: ca.Pool()}
}

// dial connects to srv the way its mode asks for.
func dial(t *testing.T, srv *smtptest.Server, mode smtptest.Mode, tlsConfig *tls.Config) (*smtp.Client, error) {
	t.Helper()
	var c *smtp.Client
	var err error
	switch mode {
	case smtptest.StartTLS:
		c, err = smtp.DialStartTLS(srv.Addr(), tlsConfig)
	case smtptest.ImplicitTLS:
		c, err = smtp.DialTLS(srv.Addr(), tlsConfig)
	default:
		c, err = smtp.Dial(srv.Addr())
	}
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// send logs in (if auth is not nil) and sends one message, returning the
// step that failed: "auth", "mail", "rcpt" or "data".
func send(c *smtp.Client, auth sasl.Client, to ...string) (string, error) {
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return "auth", err
		}
	}
	if err := c.Mail(user, nil); err != nil {
		return "mail", err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return "rcpt", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "data", err
	}
	if _, err := io.WriteString(w, body); err != nil {
		return "data", err
	}
	if err := w.Close(); err != nil {
		return "data", err
	}
	return "", nil
}

// loginClient is AUTH LOGIN without an initial response, checking the
// server's challenges; go-sasl's LOGIN client sends the user name at once.
type loginClient struct{ user, pass string }

func (a *loginClient) Start() (string, []byte, error) { return sasl.Login, nil, nil }

func (a *loginClient) Next(challenge []byte) ([]byte, error) {
	switch string(challenge) {
	case "Username:":
		return []byte(a.user), nil
	case "Password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected challenge %q", challenge)
}

func waitOne(t *testing.T, srv *smtptest.Server) smtptest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

func TestStart_StartTLSPlain(t *testing.T) {
	srv, tlsConfig := start(t, smtptest.Config{Users: users})

	// Before STARTTLS, AUTH is not offered.
	plain, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	plain.Quit()

	c, err := dial(t, srv, smtptest.StartTLS, tlsConfig)
	if err != nil {
		t.Fatal(err)
	}
	if step, err := send(c, sasl.NewPlainClient("", user, pass), "a@example.com", "b@example.com"); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	got := waitOne(t, srv)
	want := smtptest.Message{
		From: user, To: []string{"a@example.com", "b@example.com"},
		Data: []byte(body), Size: int64(len(body)), TLS: true, AuthUser: user,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("message = %+v, want %+v", got, want)
	}
	wantAuth := []smtptest.AuthAttempt{{Mech: "PLAIN", User: user, TLS: true, OK: true}}
	if got := srv.AuthAttempts(); !reflect.DeepEqual(got, wantAuth) {
		t.Errorf("AuthAttempts() = %+v, want %+v", got, wantAuth)
	}
	if n := srv.Sessions(); n != 2 {
		t.Errorf("Sessions() = %d, want 2", n)
	}
}

func TestStart_ImplicitTLSLogin(t *testing.T) {
	tests := []struct {
		name   string
		auth   sasl.Client
		wantOK bool
	}{
		{"challenge for user name", &loginClient{user, pass}, true},
		{"initial response", sasl.NewLoginClient(user, pass), true},
		{"wrong password", &loginClient{user, "wrong"}, false},
		{"unknown user", &loginClient{"john@icloud.com", pass}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tlsConfig := start(t, smtptest.Config{Mode: smtptest.ImplicitTLS, Users: users})
			c, err := dial(t, srv, smtptest.ImplicitTLS, tlsConfig)
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := c.Extension("STARTTLS"); ok {
				t.Error("STARTTLS offered on implicit TLS")
			}
			step, err := send(c, tt.auth, "a@example.com")
			if !tt.wantOK {
				var se *smtp.SMTPError
				if step != "auth" || !errors.As(err, &se) || se.Code != 535 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 8}) {
					t.Fatalf("%s: %v, want 535 5.7.8 at auth", step, err)
				}
				if msgs := srv.Messages(); len(msgs) != 0 {
					t.Errorf("Messages() = %+v, want none", msgs)
				}
			} else if err != nil {
				t.Fatalf("%s: %v", step, err)
			} else if m := waitOne(t, srv); !m.TLS || m.AuthUser != user {
				t.Errorf("message TLS=%v AuthUser=%q, want true %q", m.TLS, m.AuthUser, user)
			}
			attempts := srv.AuthAttempts()
			if len(attempts) != 1 || attempts[0].Mech != "LOGIN" || !attempts[0].TLS || attempts[0].OK != tt.wantOK {
				t.Errorf("AuthAttempts() = %+v, want one TLS LOGIN with OK %v", attempts, tt.wantOK)
			}
		})
	}
}

// TestStart_LoginWire checks AUTH LOGIN on the wire, as clients such as
// go-mail expect it.
func TestStart_LoginWire(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, Users: users})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	text := textproto.NewConn(conn)
	b64 := base64.StdEncoding.EncodeToString
	for _, step := range []struct {
		send string // "" for none
		code int
		want string
	}{
		{"", 220, ""},
		{"EHLO client.test", 250, ""},
		{"AUTH LOGIN", 334, "VXNlcm5hbWU6"},
		{b64([]byte(user)), 334, "UGFzc3dvcmQ6"},
		{b64([]byte(pass)), 235, ""},
	} {
		if step.send != "" {
			if err := text.PrintfLine("%s", step.send); err != nil {
				t.Fatal(err)
			}
		}
		_, msg, err := text.ReadResponse(step.code)
		if err != nil || step.want != "" && msg != step.want {
			t.Fatalf("after %q: %q, %v; want %d %s", step.send, msg, err, step.code, step.want)
		}
	}
	if a := srv.AuthAttempts(); len(a) != 1 || !a[0].OK || a[0].TLS {
		t.Errorf("AuthAttempts() = %+v, want one successful attempt without TLS", a)
	}
}

func TestStart_NoTLS(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, Users: users})
	c, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered")
	}
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "PLAIN LOGIN" {
		t.Errorf("AUTH %q offered: %v, want PLAIN LOGIN", mechs, ok)
	}
	// A client that refuses to log in without TLS cannot send either.
	var se *smtp.SMTPError
	if step, err := send(c, nil, "a@example.com"); step != "mail" || !errors.As(err, &se) || se.Code != 530 {
		t.Errorf("%s: %v, want 530 at mail", step, err)
	}
	if a := srv.AuthAttempts(); len(a) != 0 {
		t.Errorf("AuthAttempts() = %+v, want none", a)
	}
}

func TestConfig_Hooks(t *testing.T) {
	reply := &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "[CS01] Message rejected due to local policy"}
	tests := []struct {
		step string
		set  func(*smtptest.Config, func(string))
	}{
		{"auth", func(c *smtptest.Config, seen func(string)) {
			c.OnAuth = func(u string) *smtp.SMTPError { seen(u); return reply }
		}},
		{"mail", func(c *smtptest.Config, seen func(string)) {
			c.OnMail = func(from string) *smtp.SMTPError { seen(from); return reply }
		}},
		{"rcpt", func(c *smtptest.Config, seen func(string)) {
			c.OnRcpt = func(to string) *smtp.SMTPError { seen(to); return reply }
		}},
		{"data", func(c *smtptest.Config, seen func(string)) {
			c.OnData = func(msg []byte) *smtp.SMTPError { seen(string(msg)); return reply }
		}},
	}
	wantSeen := map[string]string{"auth": user, "mail": user, "rcpt": "a@example.com", "data": body}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			seen := make(chan string, 1)
			cfg := smtptest.Config{Users: users}
			tt.set(&cfg, func(s string) { seen <- s })
			srv, tlsConfig := start(t, cfg)
			c, err := dial(t, srv, smtptest.StartTLS, tlsConfig)
			if err != nil {
				t.Fatal(err)
			}
			step, err := send(c, sasl.NewPlainClient("", user, pass), "a@example.com")
			var se *smtp.SMTPError
			if step != tt.step || !errors.As(err, &se) || !reflect.DeepEqual(se, reply) {
				t.Fatalf("%s: %#v, want %#v at %s", step, err, reply, tt.step)
			}
			if got := <-seen; got != wantSeen[tt.step] {
				t.Errorf("hook saw %q, want %q", got, wantSeen[tt.step])
			}
			if msgs := srv.Messages(); len(msgs) != 0 {
				t.Errorf("Messages() = %+v, want none", msgs)
			}
		})
	}
}

func TestConfig_MaxMessageBytes(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, MaxMessageBytes: 10})
	c, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if size, ok := c.MaxMessageSize(); !ok || size != 10 {
		t.Errorf("SIZE = %d, %v; want 10", size, ok)
	}
	var se *smtp.SMTPError
	if step, err := send(c, nil, "a@example.com"); step != "data" || !errors.As(err, &se) ||
		se.Code != 552 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
		t.Errorf("%s: %v, want 552 5.3.4 at data", step, err)
	}
}

func TestConfig_DiscardData(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, DiscardData: true})
	c, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if step, err := send(c, nil, "a@example.com"); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if m := waitOne(t, srv); m.Data != nil || m.Size != int64(len(body)) {
		t.Errorf("message Data=%q Size=%d, want nil %d", m.Data, m.Size, len(body))
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConfig_Debug(t *testing.T) {
	var trace syncBuffer
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, Debug: &trace})
	c, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if step, err := send(c, nil, "a@example.com"); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	// The trace of a reply is written after the reply itself: Close waits
	// for the sessions to finish.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := trace.String(); !strings.Contains(got, "RCPT TO:<a@example.com>") || !strings.Contains(got, "250 2.0.0 OK: queued") {
		t.Errorf("trace lacks the RCPT command or the final reply:\n%s", got)
	}
}

// isDropped reports whether err is a dead connection rather than a reply.
func isDropped(err error) bool {
	var se *smtp.SMTPError
	return err != nil && !errors.As(err, &se)
}

func TestConfig_Drop(t *testing.T) {
	tests := []struct {
		stage, failsAt string
	}{
		{"greeting", "dial"},
		{"tls", "auth"}, // go-smtp's client shakes hands on its first command after STARTTLS
		{"ehlo", "dial"},
		{"auth", "auth"},
		{"mail", "mail"},
		{"rcpt", "rcpt"},
		{"data", "data"},
		{"after-data", "data"},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			t.Parallel()
			srv, tlsConfig := start(t, smtptest.Config{Users: users, Drop: tt.stage})
			step := "dial"
			c, err := dial(t, srv, smtptest.StartTLS, tlsConfig)
			if err == nil {
				step, err = send(c, sasl.NewPlainClient("", user, pass), "a@example.com")
			}
			if step != tt.failsAt || !isDropped(err) {
				t.Fatalf("%s: %v, want a dead connection at %s", step, err, tt.failsAt)
			}
			t.Logf("client saw: %v", err)
			if msgs := srv.Messages(); len(msgs) != 0 {
				t.Errorf("Messages() = %+v, want none", msgs)
			}
		})
	}
}

// TestConfig_DropDataMidBody shows that "data" drops while the client is
// still uploading: it cannot even finish writing a large message.
func TestConfig_DropDataMidBody(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, Drop: "data"})
	c, err := dial(t, srv, smtptest.NoTLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(user, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("a@example.com", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 998) + "\r\n"
	for i := 0; i < 64<<10; i++ { // up to 64 MiB, more than any socket buffer
		if _, err = io.WriteString(w, line); err != nil {
			break
		}
	}
	if !isDropped(err) {
		t.Fatalf("write: %v, want a dead connection", err)
	}
	t.Logf("client saw: %v", err)
}

func TestConfig_Stall(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, stage := range []string{"greeting", "ehlo", "auth", "mail", "rcpt", "data"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS, Users: users, Stall: stage})
			conn, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			c := smtp.NewClient(conn)
			defer c.Close()
			c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
			step, err := "ehlo", c.Hello("client.test")
			if err == nil {
				step, err = send(c, sasl.NewPlainClient("", user, pass), "a@example.com")
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("%s: %v, want a timeout", step, err)
			}
			if err := srv.Close(); err != nil { // must not hang on the stalled session
				t.Fatal(err)
			}
			if msgs := srv.Messages(); len(msgs) != 0 {
				t.Errorf("Messages() = %+v, want none", msgs)
			}
		})
	}
	t.Run("tls", func(t *testing.T) {
		t.Parallel()
		srv, tlsConfig := start(t, smtptest.Config{Mode: smtptest.ImplicitTLS, Stall: "tls"})
		_, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", srv.Addr(), tlsConfig)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("TLS handshake: %v, want a timeout", err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestServer_WaitMessages(t *testing.T) {
	srv, _ := start(t, smtptest.Config{Mode: smtptest.NoTLS})
	const n = 3
	errs := make(chan error, n)
	for i := range n {
		go func() {
			c, err := smtp.Dial(srv.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_, err = send(c, nil, fmt.Sprintf("r%d@example.com", i))
			errs <- err
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, n)
	if err != nil || len(msgs) != n {
		t.Fatalf("WaitMessages: %d messages, %v", len(msgs), err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	// Copies: changing them does not change the server's.
	msgs[0].Data[0] = 'X'
	if srv.Messages()[0].Data[0] == 'X' {
		t.Error("Messages() shares its data")
	}

	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if msgs, err := srv.WaitMessages(short, n+1); !errors.Is(err, context.DeadlineExceeded) || len(msgs) != n {
		t.Errorf("WaitMessages(n+1): %d messages, %v; want %d and deadline exceeded", len(msgs), err, n)
	}

	srv.Close()
	if _, err := srv.WaitMessages(context.Background(), n+1); err == nil {
		t.Error("WaitMessages after Close: no error")
	}
}

func TestStart_InvalidConfig(t *testing.T) {
	ca, err := smtptest.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]smtptest.Config{
		"no certificate":      {Mode: smtptest.StartTLS},
		"unknown mode":        {Mode: 7, Cert: cert},
		"unknown drop stage":  {Cert: cert, Drop: "quit"},
		"stall after-data":    {Cert: cert, Stall: "after-data"},
		"tls stage without":   {Mode: smtptest.NoTLS, Drop: "tls"},
		"drop and stall same": {Cert: cert, Drop: "mail", Stall: "mail"},
	}
	for name, cfg := range tests {
		if srv, err := smtptest.Start(cfg); err == nil {
			srv.Close()
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCA_WriteFile(t *testing.T) {
	ca, err := smtptest.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	path, err := ca.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != string(ca.PEM) || !strings.HasPrefix(string(data), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("ca.pem = %q, %v; want the CA's PEM", data, err)
	}
}

func TestStartSilent(t *testing.T) {
	s, err := smtptest.StartSilent()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := conn.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %d bytes, %v; want a timeout and nothing", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after Close: %v, want EOF", err)
	}
}

// isRefused reports whether err is a refused connection. Windows has its
// own error numbers, so there any failure other than a timeout counts.
func isRefused(err error) bool {
	var ne net.Error
	if runtime.GOOS == "windows" {
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func TestStartFullQueue(t *testing.T) {
	q, err := smtptest.StartFullQueue()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	start := time.Now()
	conn, err := net.DialTimeout("tcp", q.Addr(), 300*time.Millisecond)
	elapsed := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		if conn != nil {
			conn.Close()
		}
		t.Fatalf("connect: %v after %v, want a timeout", err, elapsed)
	}
	t.Logf("connect timed out after %v: %v", elapsed, err)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", q.Addr(), 5*time.Second); !isRefused(err) {
		t.Errorf("connect after Close: %v, want connection refused", err)
	}
}

func TestRefusedAddr(t *testing.T) {
	addr, err := smtptest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("RefusedAddr() = %q, want 127.0.0.1:PORT", addr)
	}
	if _, err := net.DialTimeout("tcp", addr, 5*time.Second); !isRefused(err) {
		t.Errorf("connect: %v, want connection refused", err)
	}
}
