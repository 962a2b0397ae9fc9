package mailer_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

func startSMTPHostile(t *testing.T, cfg smtptest.HostileConfig) *smtptest.Hostile {
	t.Helper()
	if cfg.Mode != smtptest.NoTLS && len(cfg.Cert.Certificate) == 0 {
		cfg.Cert = goodCrt
	}
	h, err := smtptest.StartHostile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// hostileSend sends simpleMessage through h with c and returns the error,
// the stages reported and how long it took.
func hostileSend(t *testing.T, c *mailer.Client, h *smtptest.Hostile, sec mailer.Security, m mailer.Message) (error, []mailer.StageResult, time.Duration) {
	t.Helper()
	var stages []mailer.StageResult
	c.OnStage = func(r mailer.StageResult) { stages = append(stages, r) }
	start := time.Now()
	_, err := sendMessage(c, context.Background(), accountFor(h, sec), testPass, m)
	return err, stages, time.Since(start)
}

// The stage each hostile stage fails the session at.
var hostileStages = []struct {
	at    string
	stage mailer.Stage
}{
	{"greeting", mailer.StageGreeting},
	{"ehlo", mailer.StageGreeting}, // in the clear on 587
	{"starttls", mailer.StageTLS},
	{"ehlo-tls", mailer.StageTLS},
	{"auth", mailer.StageLogin},
	{"mail", mailer.StageSender},
	{"rcpt", mailer.StageRcpt},
	{"data", mailer.StageData},
	{"dot", mailer.StageAccepted},
}

// A server, or anything on the path before TLS, that sends without end
// costs a bounded amount of memory and ends in a protocol error long before
// the reply's deadline, at every stage, with one endless line or endless
// continuation lines, in the clear or in TLS.
func TestSend_HostileFloodBounded(t *testing.T) {
	type run struct {
		name  string
		mode  smtptest.Mode
		sec   mailer.Security
		at    string
		stage mailer.Stage
		flood smtptest.Flood
	}
	var runs []run
	for _, hs := range hostileStages {
		for _, f := range []struct {
			name  string
			flood smtptest.Flood
		}{{"line", smtptest.FloodLine}, {"lines", smtptest.FloodLines}} {
			runs = append(runs, run{hs.at + "/" + f.name, smtptest.StartTLS, mailer.StartTLS, hs.at, hs.stage, f.flood})
		}
	}
	runs = append(runs,
		run{"greeting in TLS/line", smtptest.ImplicitTLS, mailer.ImplicitTLS, "greeting", mailer.StageGreeting, smtptest.FloodLine},
		run{"greeting in TLS/lines", smtptest.ImplicitTLS, mailer.ImplicitTLS, "greeting", mailer.StageGreeting, smtptest.FloodLines},
		run{"dot in TLS/lines", smtptest.ImplicitTLS, mailer.ImplicitTLS, "dot", mailer.StageAccepted, smtptest.FloodLines},
	)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			h := startSMTPHostile(t, smtptest.HostileConfig{Mode: r.mode, At: map[string]smtptest.Act{r.at: {Flood: r.flood}}})
			c := &mailer.Client{ConnectTimeout: 5 * time.Second, ReplyTimeout: 10 * time.Second}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err, _, took := hostileSend(t, c, h, r.sec, simpleMessage())
			runtime.ReadMemStats(&after)
			e := assertKind(t, err, mailer.KindProtocol, r.stage)
			if e != nil && !strings.Contains(e.Error(), "longer than") {
				t.Errorf("error %q does not say the reply was too long", e)
			}
			// Everything allocated meanwhile, freed or not, bounds the
			// peak; it includes the server's side of the test.
			grew := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB, took %s", grew>>10, took.Round(time.Millisecond))
			if grew > 4<<20 {
				t.Errorf("allocated %d MiB while flooded", grew>>20)
			}
			if took > c.ReplyTimeout/2 {
				t.Errorf("took %s: the size, not the deadline, must end a flood", took)
			}
			if h.Messages() != 0 {
				t.Error("a message was taken")
			}
		})
	}
}

// A server that drips its reply a byte at a time, or stalls, is ended by
// the deadline of the stage it is at, whatever that stage.
func TestSend_HostileDripAndStallBoundedByDeadline(t *testing.T) {
	// Long enough that a loaded machine still answers the stages before in
	// time, short enough for 19 runs.
	const reply = 600 * time.Millisecond
	for _, hs := range hostileStages {
		for _, act := range []struct {
			name string
			act  smtptest.Act
		}{
			{"drip", smtptest.Act{Drip: 40 * time.Millisecond, Flood: smtptest.FloodLines}},
			{"stall", smtptest.Act{Stall: true}},
		} {
			t.Run(hs.at+"/"+act.name, func(t *testing.T) {
				h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{hs.at: act.act}})
				c := &mailer.Client{ConnectTimeout: time.Second, ReplyTimeout: reply}
				err, _, took := hostileSend(t, c, h, mailer.StartTLS, simpleMessage())
				kind := mailer.KindTimeout
				if hs.at == "greeting" && act.name == "stall" {
					kind = mailer.KindTLSMode // not a byte: the sign of an implicit-TLS port
				}
				assertKind(t, err, kind, hs.stage)
				t.Logf("took %s", took.Round(time.Millisecond))
				// The deadline, plus what the stages before took.
				if took > reply+3*time.Second {
					t.Errorf("took %s with a reply timeout of %s", took, reply)
				}
			})
		}
	}
	t.Run("tls handshake stalls", func(t *testing.T) {
		h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{"tls": {Stall: true}}})
		c := &mailer.Client{ConnectTimeout: time.Second, ReplyTimeout: reply}
		err, _, took := hostileSend(t, c, h, mailer.StartTLS, simpleMessage())
		assertKind(t, err, mailer.KindTimeout, mailer.StageTLS)
		if took > reply+3*time.Second {
			t.Errorf("took %s", took)
		}
	})
}

// A server that answers every RCPT just before its deadline cannot hold a
// send for (recipients × reply timeout): the session's own deadline ends
// it, and it grows with the recipients.
func TestSend_SessionDeadline(t *testing.T) {
	h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{
		// 22 bytes, 10 ms apart: some 220 ms a reply, well under the 1.5 s allowed.
		"rcpt": {Drip: 10 * time.Millisecond},
	}})
	var to []string
	for i := range 40 {
		to = append(to, fmt.Sprintf("r%d@example.org", i))
	}
	m := simpleMessage()
	m.To = to
	c := &mailer.Client{ConnectTimeout: time.Second, ReplyTimeout: 1500 * time.Millisecond,
		SessionTimeout: 500 * time.Millisecond, SessionPerRecipient: 10 * time.Millisecond}
	// 1 s + 0.5 s + 40 × 10 ms = 1.9 s, where 40 replies take 9 s.
	err, _, took := hostileSend(t, c, h, mailer.StartTLS, m)
	e := assertKind(t, err, mailer.KindTimeout, mailer.StageRcpt)
	if e != nil && !strings.Contains(e.Error(), "allowed for this message") {
		t.Errorf("error %q does not name the session's deadline", e)
	}
	t.Logf("took %s", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("took %s, the session's deadline is 1.9 s", took)
	}

	// The same slow server within a session's deadline is no failure.
	m.To = to[:3]
	c.OnStage = nil
	c.SessionTimeout = 10 * time.Second
	if _, err := sendMessage(c, context.Background(), accountFor(h, mailer.StartTLS), testPass, m); err != nil {
		t.Errorf("3 recipients: %v", err)
	}
}

// Control characters and escape sequences in what the server says reach
// neither the error, nor the reply kept, nor the stages reported.
func TestSend_HostileControlCharactersEscaped(t *testing.T) {
	evil := "\x1b]0;owned\x07\x1b[2J\x9b31m\u009b1;1H\r\x7f\u202e"
	for _, tt := range []struct {
		at    string
		reply string
		kind  mailer.Kind
		stage mailer.Stage
	}{
		{"greeting", "554 5.7.1 hostile " + evil + "\r\n", mailer.KindPolicyRejected, mailer.StageGreeting},
		{"ehlo", "250-hostile " + evil + "\r\n250 STARTTLS\r\n", "", ""},
		{"mail", "550 5.7.0 " + evil + " not yours\r\n", mailer.KindSenderRejected, mailer.StageSender},
		{"rcpt", "550-5.1.1 " + evil + "\r\n550 5.1.1 unknown\r\n", mailer.KindRecipientRejected, mailer.StageRcpt},
		{"dot", "554 5.7.1 " + evil + "\r\n", mailer.KindPolicyRejected, mailer.StageAccepted},
		{"starttls", "454 4.7.0 " + evil + "\r\n", mailer.KindTLSUnavailable, mailer.StageTLS},
	} {
		t.Run(tt.at, func(t *testing.T) {
			h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{tt.at: {Reply: tt.reply}}})
			err, stages, _ := hostileSend(t, fastClient(), h, mailer.StartTLS, simpleMessage())
			var texts []string
			for _, st := range stages {
				texts = append(texts, st.Detail)
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if e := assertKind(t, err, tt.kind, tt.stage); e != nil {
				texts = append(texts, e.Error(), e.Reply.String())
			}
			for _, s := range texts {
				if mailer.Printable(s) != s {
					t.Errorf("%q holds control characters", s)
				}
			}
			if !strings.Contains(strings.Join(texts, "\n"), `\x1b]0;owned\x07`) {
				t.Errorf("the escaped text is missing from %q", texts)
			}
		})
	}
}

// A server that repeats the login's lines in its reply, as some do, gets
// the password and its encodings cut out of everything kept.
func TestSend_HostileEchoScrubbed(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			h := startSMTPHostile(t, smtptest.HostileConfig{Mechanisms: []string{mech}, At: map[string]smtptest.Act{"auth": {Echo: true}}})
			c := fastClient()
			var details []string
			c.OnStage = func(r mailer.StageResult) { details = append(details, r.Detail) }
			a := accountFor(h, mailer.StartTLS)
			p, err := mailer.Prepare(a, simpleMessage())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Send(context.Background(), a, mailer.Password(testPass), p.Outgoing())
			e := assertKind(t, err, mailer.KindAuth, mailer.StageLogin)
			if e == nil {
				return
			}
			kept := strings.Join(append(details, e.Error(), e.Reply.String(), e.Hint(), fmt.Sprint(e.Err)), "\n")
			b64 := base64.StdEncoding.EncodeToString
			for _, secret := range []string{testPass, b64([]byte(testPass)), smtptest.AuthPlain(a.Username, testPass),
				strings.TrimRight(b64([]byte(testPass)), "=")} {
				if strings.Contains(kept, secret) {
					t.Errorf("%q is kept in:\n%s", secret, kept)
				}
			}
			if !strings.Contains(kept, "[redacted]") {
				t.Errorf("nothing redacted: the echo did not come back?\n%s", kept)
			}
		})
	}
}

// Replies that are not SMTP at all are protocol errors too.
func TestSend_HostileNotSMTP(t *testing.T) {
	for _, tt := range []struct {
		name, at, reply string
		stage           mailer.Stage
	}{
		{"HTTP server", "greeting", "HTTP/1.1 400 Bad Request\r\n\r\n", mailer.StageGreeting},
		{"code changes mid-reply", "ehlo", "250-hostile\r\n550 STARTTLS\r\n", mailer.StageGreeting},
		{"1xx code", "mail", "150 wait\r\n", mailer.StageSender},
		{"no separator", "rcpt", "250ok\r\n", mailer.StageRcpt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{tt.at: {Reply: tt.reply}}})
			err, _, _ := hostileSend(t, fastClient(), h, mailer.StartTLS, simpleMessage())
			assertKind(t, err, mailer.KindProtocol, tt.stage)
		})
	}
}

// STARTTLS offered and then refused, or answered with cleartext injected
// after the 220, never logs in: tls-unavailable.
func TestSend_HostileSTARTTLSRefused(t *testing.T) {
	for _, reply := range []string{"500 5.5.1 unknown command\r\n", "454 4.7.0 TLS not available due to temporary reason\r\n",
		"220 go ahead\r\n250 injected\r\n"} {
		t.Run(reply[:3], func(t *testing.T) {
			h := startSMTPHostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{"starttls": {Reply: reply}}})
			err, _, _ := hostileSend(t, fastClient(), h, mailer.StartTLS, simpleMessage())
			assertKind(t, err, mailer.KindTLSUnavailable, mailer.StageTLS)
			for _, cmd := range h.Commands() {
				if strings.HasPrefix(cmd, "AUTH") {
					t.Errorf("logged in after a failed STARTTLS: %v", h.Commands())
				}
			}
		})
	}
}

// A server that speaks only TLS 1.0 or 1.1 is refused before the password
// goes, with a kind of its own.
func TestSend_HostileOldTLS(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		for _, mode := range []smtptest.Mode{smtptest.StartTLS, smtptest.ImplicitTLS} {
			sec := mailer.StartTLS
			if mode == smtptest.ImplicitTLS {
				sec = mailer.ImplicitTLS
			}
			t.Run(fmt.Sprintf("%s/%s", tls.VersionName(v), sec), func(t *testing.T) {
				h := startSMTPHostile(t, smtptest.HostileConfig{Mode: mode, MaxTLSVersion: v})
				err, _, _ := hostileSend(t, fastClient(), h, sec, simpleMessage())
				e := assertKind(t, err, mailer.KindTLSVersion, mailer.StageTLS)
				if e != nil && !strings.Contains(e.Hint(), "no longer safe") {
					t.Errorf("hint %q", e.Hint())
				}
			})
		}
	}
}

// Quoted local parts stay quoted on the wire (RFC 5321 section 4.1.2).
func TestSend_QuotedLocalPartOnTheWire(t *testing.T) {
	h := startSMTPHostile(t, smtptest.HostileConfig{})
	m := simpleMessage()
	m.To = []string{`"john doe"@example.com, "a\"b\\c"@example.org, plain.name+tag@example.net`}
	a := accountFor(h, mailer.StartTLS)
	res, err := sendMessage(fastClient(), context.Background(), a, testPass, m)
	if err != nil {
		t.Fatal(err)
	}
	// What is reported (postcard send's recipients, the Sent record) is
	// what went on the wire.
	if want := []string{`"john doe"@example.com`, `"a\"b\\c"@example.org`, "plain.name+tag@example.net"}; !slices.Equal(res.Recipients, want) {
		t.Errorf("recipients %q, want %q", res.Recipients, want)
	}
	got := strings.Join(h.Commands(), "\n")
	for _, want := range []string{
		`RCPT TO:<"john doe"@example.com>`,
		`RCPT TO:<"a\"b\\c"@example.org>`,
		`RCPT TO:<plain.name+tag@example.net>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the wire lacks %s:\n%s", want, got)
		}
	}
}
