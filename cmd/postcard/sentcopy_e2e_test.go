package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/imaptest"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// The copy in the Sent folder, end to end: the real binary, a real
// Dovecot with iCloud's folder names (none marked \Sent) and the SMTP
// server, on loopback with the test CA.
func TestE2E_SentCopy(t *testing.T) {
	env := newE2E(t)
	d := imaptest.StartDovecot(t, imaptest.DovecotConfig{CA: e2e.ca, Users: map[string]string{env.user: env.password}})
	sent := func() []imaptest.Message { return d.Messages(t, env.user, "Sent Messages") }
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	imapFlags := []string{"--imap-host", "127.0.0.1", "--imap-port", fmt.Sprint(d.Port), "--imap-security", "ssl"}
	r := env.run(t, env.password+"\n", append([]string{"login", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin"}, imapFlags...)...)
	r.wantCode(t, 0)
	if !strings.Contains(r.stderr, "imap folder") {
		t.Errorf("login did not check the Sent folder:\n%s", r.stderr)
	}

	// The first send waits a moment (is this a server that files its own
	// copies?), then files the copy: the bytes sent plus the Bcc header.
	start := time.Now()
	r = env.run(t, "", "send", "--json", "--to", "bob@example.org", "--bcc", "Dan <dan@example.com>", "--subject", "copy me", "--body", "hi")
	r.wantCode(t, 0)
	m := r.json(t)
	if m["sent_copy"] != "filed" {
		t.Fatalf("sent_copy = %v", m)
	}
	if time.Since(start) < 3*time.Second {
		t.Errorf("the first copy did not wait for the server to file its own")
	}
	got := sent()
	if len(got) != 1 || !got[0].HasFlag(`\Seen`) {
		t.Fatalf("Sent Messages holds %d messages (%+v)", len(got), got)
	}
	record, _ := filepath.Glob(filepath.Join(env.home, ".local", "share", "postcard", "sent", "cur", "*"))
	if len(record) != 1 {
		t.Fatalf("Sent records: %v", record)
	}
	want, _ := os.ReadFile(record[0])
	if !bytes.Equal(got[0].Raw, want) || !bytes.HasPrefix(want, []byte("Bcc: ")) {
		t.Errorf("the copy is not the Sent record with its Bcc header")
	}
	wire := srv.Messages()[0].Data
	if !bytes.HasSuffix(want, wire) {
		t.Errorf("the copy does not hold the bytes sent:\n%q\n%q", want[len(want)-min(len(want), 200):], wire[len(wire)-min(len(wire), 200):])
	}

	// Known now: the next copies go at once.
	start = time.Now()
	r = env.run(t, "", "send", "--json", "--to", "bob@example.org", "--subject", "quick", "--body", "hi")
	if m := r.json(t); m["sent_copy"] != "filed" || time.Since(start) > 3*time.Second {
		t.Errorf("second send: %v after %v", m, time.Since(start))
	}
	r = env.run(t, "", "send", "--json", "--no-sent-copy", "--to", "bob@example.org", "--subject", "no copy", "--body", "hi")
	if m := r.json(t); m["sent_copy"] != "off" || len(sent()) != 2 {
		t.Errorf("--no-sent-copy: %v, %d in Sent", m, len(sent()))
	}

	// A server that files its own copy: still exactly one.
	own := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, OnData: func(data []byte) *smtp.SMTPError {
		d.Append(t, env.user, "Sent Messages", data)
		return nil
	}})
	env.run(t, env.password+"\n", append([]string{"login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(own.Port()),
		"--username", env.user, "--password-stdin"}, imapFlags...)...).wantCode(t, 0)
	r = env.run(t, "", "send", "--json", "--to", "bob@example.org", "--subject", "filed by the server", "--body", "hi")
	if m := r.json(t); m["sent_copy"] != "already-there" || len(sent()) != 3 {
		t.Errorf("server's own copy: %v, %d in Sent", m, len(sent()))
	}

	// The copy fails: the send is still a send, exit 0, nothing twice.
	env.run(t, env.password+"\n", "login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin", "--imap-host", "127.0.0.1", "--imap-port", "1", "--imap-security", "ssl").wantCode(t, 0)
	before := len(srv.Messages())
	r = env.run(t, "", "send", "--json", "--to", "bob@example.org", "--subject", "copy fails", "--body", "hi")
	r.wantCode(t, 0)
	m = r.json(t)
	ce, _ := m["sent_copy_error"].(map[string]any)
	if m["ok"] != true || m["sent_copy"] != "failed" || ce["kind"] != string(mailer.KindConnectRefused) || ce["hint"] == "" {
		t.Errorf("failed copy: %v", m)
	}
	if n := len(srv.Messages()); n != before+1 {
		t.Errorf("%d messages delivered, want exactly one more", n-before)
	}

	// Unconfirmed, both ways: the connection is lost after the server
	// accepted the message. Found in the Sent folder, it was sent.
	lost := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, Drop: "after-accept", OnData: func(data []byte) *smtp.SMTPError {
		d.Append(t, env.user, "Sent Messages", data)
		return nil
	}})
	env.run(t, env.password+"\n", append([]string{"login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(lost.Port()),
		"--username", env.user, "--password-stdin"}, imapFlags...)...).wantCode(t, 0)
	r = env.run(t, "", "send", "--queue", "--json", "--to", "bob@example.org", "--subject", "lost but filed", "--body", "hi")
	r.wantCode(t, 0)
	if m := r.json(t); m["state"] != "sent" || m["sent_copy"] != "already-there" {
		t.Errorf("unconfirmed but found: %v", m)
	}
	// Not found (this server files nothing): it cannot be known.
	lostQuiet := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, Drop: "after-accept"})
	env.run(t, env.password+"\n", append([]string{"login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(lostQuiet.Port()),
		"--username", env.user, "--password-stdin"}, imapFlags...)...).wantCode(t, 0)
	r = env.run(t, "", "send", "--json", "--to", "bob@example.org", "--subject", "lost", "--body", "hi")
	r.wantCode(t, exitSoftware)
	if m := r.json(t); m["kind"] != string(mailer.KindConnectionLost) || m["hint"] != mailer.HintNotFoundInSent {
		t.Errorf("unconfirmed, not found: %v", m)
	}
	if n := len(lostQuiet.Messages()); n != 1 {
		t.Errorf("delivered %d", n)
	}
	env.run(t, "", "check").wantCode(t, 0)
	env.wantPasswordInNoFile(t)
}
