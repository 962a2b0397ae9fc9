package mailer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// connectAhead connects for m, as the Outbox does before it freezes the
// message, and returns the connection and the message ready to send.
// loggedIn is closed once the session has logged in.
func connectAhead(t *testing.T, c *mailer.Client, a mailer.Account, pw mailer.PasswordFunc, m mailer.Message) (*mailer.Connection, *mailer.Outgoing, <-chan struct{}) {
	t.Helper()
	p, err := mailer.Prepare(a, m)
	if err != nil {
		t.Fatal(err)
	}
	loggedIn := make(chan struct{})
	var once sync.Once
	c.OnStage = func(r mailer.StageResult) {
		if r.Stage == mailer.StageLogin && r.OK {
			once.Do(func() { close(loggedIn) })
		}
	}
	cn := c.Connect(context.Background(), a, pw, p.Size, len(p.Recipients))
	t.Cleanup(cn.Close)
	return cn, p.Outgoing(), loggedIn
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("never %s", what)
	}
}

// A connection opened ahead logs in and sends nothing of the message until
// Send, which then delivers it once over that same session.
func TestConnect_NothingOfTheMessageBeforeSend(t *testing.T) {
	var mails atomic.Int32
	s := startServer(t, smtptest.Config{OnMail: func(string) *smtp.SMTPError { mails.Add(1); return nil }})
	a := accountFor(s, mailer.StartTLS)
	cn, out, loggedIn := connectAhead(t, fastClient(), a, mailer.Password(testPass), simpleMessage())
	waitFor(t, loggedIn, "logged in")
	if n := mails.Load(); n != 0 {
		t.Fatalf("%d MAIL FROM before Send", n)
	}
	if at := s.AuthAttempts(); len(at) != 1 || !at[0].OK {
		t.Fatalf("auth attempts before Send = %+v, want one that succeeded", at)
	}
	res, err := cn.Send(context.Background(), out)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].AuthUser != testUser || !msgs[0].TLS {
		t.Fatalf("server got %+v, want the one message over the logged-in TLS session", msgs)
	}
	if res.MessageID != out.MessageID || res.Size != out.Size {
		t.Errorf("result %+v does not describe the message sent", res)
	}
	if n := s.Sessions(); n != 1 {
		t.Errorf("%d sessions, want the one opened ahead", n)
	}
	// One message per connection.
	if _, err := cn.Send(context.Background(), out); err == nil {
		t.Error("a second Send on the same connection was accepted")
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages after a second Send, want 1", n)
	}
}

// Closing a connection that was never used ends its session with nothing
// sent; closing one still connecting stops it at once.
func TestConnect_CloseUnused(t *testing.T) {
	var mails atomic.Int32
	s := startServer(t, smtptest.Config{OnMail: func(string) *smtp.SMTPError { mails.Add(1); return nil }})
	cn, out, loggedIn := connectAhead(t, fastClient(), accountFor(s, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
	waitFor(t, loggedIn, "logged in")
	cn.Close()
	cn.Close() // twice is fine
	if _, err := cn.Send(context.Background(), out); err == nil {
		t.Error("Send after Close was accepted")
	}
	if n, m := mails.Load(), len(s.Messages()); n != 0 || m != 0 {
		t.Errorf("%d MAIL FROM and %d messages from a connection closed unused", n, m)
	}

	stalled := startServer(t, smtptest.Config{Stall: "greeting"})
	c := &mailer.Client{ConnectTimeout: time.Minute, ReplyTimeout: time.Minute}
	cn, _, _ = connectAhead(t, c, accountFor(stalled, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
	for stalled.Sessions() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cn.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closing a connection waiting for its greeting took %v", d)
	}
}

// What goes wrong while connecting ahead is Send's error, as Client.Send
// would have returned it: the wire's kind and stage, or the password's
// error.
func TestConnect_FailuresComeFromSend(t *testing.T) {
	addr, err := smtptest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	refused := mailer.Account{Host: "127.0.0.1", Port: portOf(t, addr), Security: mailer.StartTLS, Username: testUser}
	cn, out, _ := connectAhead(t, fastClient(), refused, mailer.Password(testPass), simpleMessage())
	_, err = cn.Send(context.Background(), out)
	assertKind(t, err, mailer.KindConnectRefused, mailer.StageConnect)

	s := startServer(t, smtptest.Config{})
	keychainErr := &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "no password is stored", Err: mailer.ErrPasswordNotFound}
	failing := func(context.Context) (string, error) { return "", keychainErr }
	cn, out, _ = connectAhead(t, fastClient(), accountFor(s, mailer.StartTLS), failing, simpleMessage())
	if _, err := cn.Send(context.Background(), out); !errors.Is(err, mailer.ErrPasswordNotFound) {
		t.Fatalf("Send without a password: %v, want the keychain's error", err)
	}
	if at := s.AuthAttempts(); len(at) != 0 {
		t.Errorf("auth attempts %+v without a password", at)
	}

	bad := accountFor(s, mailer.StartTLS)
	bad.Username = "not an address"
	cn = fastClient().Connect(context.Background(), bad, mailer.Password(testPass), out.Size, len(out.Recipients))
	defer cn.Close()
	if _, err := cn.Send(context.Background(), out); mailer.KindOf(err) != mailer.KindInvalidAccount {
		t.Errorf("Send with an invalid account: %v, want %s", err, mailer.KindInvalidAccount)
	}
}

// Send's context reaches the session opened ahead whatever it is doing: a
// cancel is "cancelled" and a deadline is a timeout, at the stage reached,
// and both end it at once.
func TestConnect_SendContextEndsTheSession(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func() (context.Context, context.CancelFunc)
		kind mailer.Kind
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, mailer.KindCancelled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, mailer.KindTimeout},
	} {
		for _, st := range []struct {
			stall string
			stage mailer.Stage
		}{{"greeting", mailer.StageGreeting}, {"data", mailer.StageAccepted}} {
			t.Run(tt.name+"/"+st.stall, func(t *testing.T) {
				s := startServer(t, smtptest.Config{Stall: st.stall})
				c := &mailer.Client{ConnectTimeout: time.Minute, ReplyTimeout: time.Minute}
				cn, out, _ := connectAhead(t, c, accountFor(s, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
				ctx, cancel := tt.end()
				defer cancel()
				start := time.Now()
				_, err := cn.Send(ctx, out)
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("Send took %v after its context ended", d)
				}
				e := assertKind(t, err, tt.kind, st.stage)
				if e != nil && st.stage == mailer.StageAccepted && !strings.Contains(e.Hint(), "may or may not") {
					t.Errorf("an end after the upload must not claim the message was not sent: %q", e.Hint())
				}
			})
		}
	}
}

// A message larger, or to more recipients, than the connection was opened
// for gets a session of its own, whose deadlines fit it; it is sent once.
func TestConnect_LargerMessageGetsItsOwnSession(t *testing.T) {
	s := startServer(t, smtptest.Config{})
	a := accountFor(s, mailer.StartTLS)
	cn, _, loggedIn := connectAhead(t, fastClient(), a, mailer.Password(testPass), simpleMessage())
	waitFor(t, loggedIn, "logged in")
	m := simpleMessage()
	m.Body = strings.Repeat("a longer message\n", 1000)
	m.Cc = []string{"carol@example.org"}
	p, err := mailer.Prepare(a, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cn.Send(context.Background(), p.Outgoing()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 2 {
		t.Fatalf("server got %d messages (%+v), want the larger one once", len(msgs), msgs)
	}
	if n := s.Sessions(); n != 2 {
		t.Errorf("%d sessions, want 2: the one opened ahead, ended, and the message's own", n)
	}
}

// A session opened ahead that was lost before the server took the sender
// (dropped while idle, or closed with 421) is replaced by a session of its
// own, once: nothing of the message had gone out.
func TestConnect_LostWhileIdleGoesOverANewSession(t *testing.T) {
	t.Run("dropped", func(t *testing.T) {
		s := startServer(t, smtptest.Config{})
		px := startCutter(t, s.Addr())
		a := accountFor(px, mailer.StartTLS)
		cn, out, loggedIn := connectAhead(t, fastClient(), a, mailer.Password(testPass), simpleMessage())
		waitFor(t, loggedIn, "logged in")
		px.cut() // the server, or a router, dropped the idle session
		if _, err := cn.Send(context.Background(), out); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if n, m := s.Sessions(), len(s.Messages()); n != 2 || m != 1 {
			t.Errorf("%d sessions and %d messages, want 2 and 1", n, m)
		}
	})
	t.Run("421", func(t *testing.T) {
		var mails atomic.Int32
		s := startServer(t, smtptest.Config{OnMail: func(string) *smtp.SMTPError {
			if mails.Add(1) == 1 {
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Idle too long, closing"}
			}
			return nil
		}})
		cn, out, _ := connectAhead(t, fastClient(), accountFor(s, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
		if _, err := cn.Send(context.Background(), out); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if n, m := s.Sessions(), len(s.Messages()); n != 2 || m != 1 {
			t.Errorf("%d sessions and %d messages, want 2 and 1", n, m)
		}
	})
	t.Run("a new session failing too tells the first failure", func(t *testing.T) {
		var mails, logins atomic.Int32
		s := startServer(t, smtptest.Config{
			OnMail: func(string) *smtp.SMTPError {
				if mails.Add(1) == 1 {
					return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Idle too long, closing"}
				}
				return nil
			},
			OnAuth: func(string) *smtp.SMTPError {
				if logins.Add(1) > 1 {
					return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Try again later"}
				}
				return nil
			},
		})
		cn, out, _ := connectAhead(t, fastClient(), accountFor(s, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
		_, err := cn.Send(context.Background(), out)
		e := assertKind(t, err, mailer.KindOf(err), mailer.StageSender)
		if e != nil && (e.Reply == nil || e.Reply.Code != 421) {
			t.Errorf("error %v, want the first session's 421", err)
		}
		if n, m := s.Sessions(), len(s.Messages()); n != 2 || m != 0 {
			t.Errorf("%d sessions and %d messages, want 2 and 0", n, m)
		}
	})
	// The server's answer to the sender, not a lost session: told as it is.
	for _, tt := range []struct {
		name  string
		reply *smtp.SMTPError
		kind  mailer.Kind
	}{
		{"421 slow down is not retried", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages, rate limited"}, mailer.KindRateLimited},
		{"refused sender is not retried", &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address rejected"}, mailer.KindSenderRejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, smtptest.Config{OnMail: func(string) *smtp.SMTPError { return tt.reply }})
			cn, out, _ := connectAhead(t, fastClient(), accountFor(s, mailer.StartTLS), mailer.Password(testPass), simpleMessage())
			_, err := cn.Send(context.Background(), out)
			assertKind(t, err, tt.kind, mailer.StageSender)
			if n := s.Sessions(); n != 1 {
				t.Errorf("%d sessions, want 1", n)
			}
		})
	}
}

// A Send whose context ended while the session opened sends no command:
// it is cancelled at the sender, every time.
func TestConnect_SendAlreadyCancelledSendsNothing(t *testing.T) {
	var mails atomic.Int32
	s := startServer(t, smtptest.Config{OnMail: func(string) *smtp.SMTPError { mails.Add(1); return nil }})
	a := accountFor(s, mailer.StartTLS)
	for i := 0; i < 20; i++ {
		cn, out, loggedIn := connectAhead(t, fastClient(), a, mailer.Password(testPass), simpleMessage())
		waitFor(t, loggedIn, "logged in")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := cn.Send(ctx, out)
		if assertKind(t, err, mailer.KindCancelled, mailer.StageSender) == nil {
			return
		}
	}
	if n, m := mails.Load(), len(s.Messages()); n != 0 || m != 0 {
		t.Errorf("%d MAIL FROM and %d messages after sends already cancelled", n, m)
	}
}

// Connections let go of their context once done, sent or not: none stays
// tied to Connect's context, which in the window lives as long as it.
func TestConnect_LetsGoOfItsContext(t *testing.T) {
	s := startServer(t, smtptest.Config{})
	a := accountFor(s, mailer.StartTLS)
	// A context of a type of its own: each context still tied to it holds
	// a goroutine, which the count shows.
	parent := &ownContext{Context: context.Background(), done: make(chan struct{})}
	defer close(parent.done)
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		cn, out, _ := connectAhead(t, fastClient(), a, mailer.Password(testPass), simpleMessage())
		cn.Close()
		p, _ := mailer.Prepare(a, simpleMessage())
		cn = fastClient().Connect(parent, a, mailer.Password(testPass), p.Size, len(p.Recipients))
		if _, err := cn.Send(context.Background(), out); err != nil {
			t.Fatal(err)
		}
		cn = fastClient().Connect(parent, a, mailer.Password("wrong"), p.Size, len(p.Recipients))
		if _, err := cn.Send(context.Background(), out); mailer.KindOf(err) != mailer.KindAuth {
			t.Fatalf("wrong password: %v", err)
		}
		cn = fastClient().Connect(parent, a, mailer.Password(testPass), p.Size, len(p.Recipients))
		cn.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the connections, %d before", n, before)
	}
}

type ownContext struct {
	context.Context
	done chan struct{}
}

func (c *ownContext) Done() <-chan struct{} { return c.done }

// cutter is a TCP relay whose connections can all be cut at once.
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startCutter(t *testing.T, addr string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); c.cut() })
	return c
}

func (c *cutter) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}
