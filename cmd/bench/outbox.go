//go:build bench

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/imaptest"
	"github.com/postcard-mail/postcard/mailer/store"
)

// outbox measures what the Outbox and the copy in the Sent folder cost:
//
//   - in one process, the time from Send to "Sent" for a small message
//     sent straight (Prepare, Client.Send: the window before the Outbox),
//     through the Outbox (Prepare, Connect while Queue freezes the
//     message, SendOver, the move to Sent) and through the Outbox with the
//     copy in the Sent folder on (the copy is left for later, as the
//     window leaves it);
//   - postcard send --queue of the 10 MiB attachment against curl;
//   - postcard send of the 10 MiB attachment with its copy filed in a real
//     Dovecot's Sent folder, against curl sending it and then appending it
//     with curl -T, the same two steps.
func (b *bench) outbox() error {
	var md strings.Builder
	if err := b.outboxInProcess(&md); err != nil {
		return err
	}
	attach := filepath.Join(b.work, "random-10MiB.bin")
	if _, err := os.Stat(attach); err != nil {
		if err := writeRandomFile(attach, attachmentSize); err != nil {
			return err
		}
	}
	big := mailer.Message{To: []string{b.rcpt}, Subject: "Benchmark: a 10 MiB attachment", Body: benchBody, Attachments: []string{attach}}
	c := sendCase{name: "10 MiB attachment through the Outbox", goal: 1.3, timeout: 2 * time.Minute, msg: big}
	pc, curl, _, err := b.sendCaseArgs(c, []string{"--queue"}, b.cfgAccount)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	b.ratioRow("Send --queue, 10 MiB attachment: wall time", pc, curl, "curl", c.goal)
	fmt.Fprintf(&md, "\n`postcard send --queue` freezes the message into the Outbox (the whole encoded message written and synced), sends it from there and moves it to Sent; curl sends the same bytes. Wall times (ms), postcard: %s; curl: %s.\n",
		walls(pc), walls(curl))

	if err := b.sendWithCopy(&md, big); err != nil {
		return err
	}
	b.rep.section("The Outbox and the copy in the Sent folder", md.String())
	return nil
}

// ratioRow adds a row comparing the median wall times of two sets of runs.
func (b *bench) ratioRow(figure string, pc, anchor []procRun, anchorName string, goal float64) {
	pw, aw := median(pluck(pc, procRun.wallTime)), median(pluck(anchor, procRun.wallTime))
	ratio := float64(pw) / float64(aw)
	b.rep.add(row{figure: figure, postcard: ms(pw), anchor: ms(aw) + " " + anchorName,
		ratio: ratioText(ratio, goal), goal: fmt.Sprintf("≤ %.3g×", goal), met: ratio <= goal})
}

func walls(rs []procRun) string {
	var w []string
	for _, r := range rs {
		w = append(w, fmt.Sprintf("%.1f", float64(r.wall)/1e6))
	}
	return strings.Join(w, " ")
}

// outboxInProcess times the three ways to "Sent" in this process,
// alternately, against the same loopback server.
func (b *bench) outboxInProcess(md *strings.Builder) error {
	// The mailer trusts the system's roots, which honour SSL_CERT_DIR as
	// for the postcard binary; they are read once, at the first TLS.
	os.Setenv("SSL_CERT_DIR", b.caDir)
	st, err := store.Open(filepath.Join(b.work, "store-inprocess"))
	if err != nil {
		return err
	}
	account := mailer.Account{Host: "127.0.0.1", Port: b.sendSrv.Port(), Security: mailer.StartTLS, Username: b.user}
	msg := mailer.Message{To: []string{b.rcpt}, Subject: "Benchmark: Outbox", Body: benchBody}
	client := &mailer.Client{}
	// The password comes from the (private) keychain, as in the window:
	// before the Outbox the window read it first and then connected; the
	// Outbox's sends read it while connecting.
	kc := mailer.Keychain{}
	pw := func(ctx context.Context) (string, error) { return kc.Get(ctx, b.user) }
	send := func(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
		return client.Send(ctx, account, pw, out)
	}
	// The copy is never filed here (its wait is an hour): the point is
	// that it is not on the way to "Sent".
	copier := &store.Copier{Store: st, Client: noFolder{}, Wait: time.Hour,
		Account: func() (mailer.Account, mailer.PasswordFunc) {
			a := account
			a.IMAPHost = "127.0.0.1"
			return a, pw
		}}
	// "Sent" shows in the window when the runner reports the attempt.
	var reported time.Time
	onAttempt := func(store.Attempt) { reported = time.Now() }
	plain := &store.Runner{Store: st, Send: send, OnAttempt: onAttempt}
	withCopy := &store.Runner{Store: st, Send: send, OnAttempt: onAttempt}
	copier.Setup(withCopy)

	direct := func() (time.Time, error) {
		password, err := kc.Get(context.Background(), b.user)
		if err != nil {
			return time.Time{}, err
		}
		p, err := mailer.Prepare(account, msg)
		if err != nil {
			return time.Time{}, err
		}
		_, err = client.Send(context.Background(), account, mailer.Password(password), p.Outgoing())
		return time.Now(), err
	}
	viaOutbox := func(r *store.Runner) func() (time.Time, error) {
		return func() (time.Time, error) {
			p, err := mailer.Prepare(account, msg)
			if err != nil {
				return time.Time{}, err
			}
			// As the window does with no undo delay: the session opens
			// while the message is frozen.
			conn := client.Connect(context.Background(), account, pw, p.Size, len(p.Recipients))
			defer conn.Close()
			h, err := st.NewDraft()
			if err != nil {
				return time.Time{}, err
			}
			d := store.Draft{To: b.rcpt, Subject: msg.Subject, Body: msg.Body}
			e, err := st.Queue(h, d, p, 0)
			h.Release()
			if err != nil {
				return time.Time{}, err
			}
			a, ok := r.SendOver(context.Background(), e.ID, conn.Send)
			if !ok {
				return time.Time{}, fmt.Errorf("message %s was not sent", e.ID)
			}
			if !a.Sent() {
				return time.Time{}, fmt.Errorf("not sent: %v", a.Err)
			}
			return reported, nil
		}
	}
	sides := []struct {
		name string
		fn   func() (time.Time, error)
		runs []time.Duration
	}{
		{name: "straight", fn: direct},
		{name: "Outbox", fn: viaOutbox(plain)},
		{name: "Outbox, copy on", fn: viaOutbox(withCopy)},
	}
	runs := b.opts.runs * 3
	for i := -2; i < runs; i++ {
		for j := range sides {
			start := time.Now()
			end, err := sides[j].fn()
			if err != nil {
				return fmt.Errorf("%s: %w", sides[j].name, err)
			}
			if i >= 0 {
				sides[j].runs = append(sides[j].runs, end.Sub(start))
			}
		}
	}
	med := func(i int) time.Duration { return median(sides[i].runs) }
	r1 := float64(med(1)) / float64(med(0))
	b.rep.add(row{figure: "Send to \"Sent\", small message, undo delay 0 (in process)", postcard: ms(med(1)) + " Outbox",
		anchor: ms(med(0)) + " straight", ratio: ratioText(r1, 1.2), goal: "≤ 1.2×", met: r1 <= 1.2})
	r2 := float64(med(2)) / float64(med(1))
	b.rep.add(row{figure: "… with the copy in the Sent folder on", postcard: ms(med(2)), anchor: ms(med(1)) + " copy off",
		ratio: ratioText(r2, 1.1), goal: "≤ 1.1× (adds nothing)", met: r2 <= 1.1})
	fmt.Fprintf(md, "In one process, alternately, %d runs each after 2 unmeasured, to one loopback go-smtp server (STARTTLS, AUTH PLAIN): *straight* is what the window did before the Outbox: the password read from the (private) keychain, then `mailer.Prepare` and `Client.Send`; *Outbox* is what it does now with no undo delay: `mailer.Prepare`, then `Client.Connect` (the session connects, secures itself and logs in, the password read from the keychain meanwhile, nothing of the message sent) while the draft's lock is taken and `Store.Queue` freezes the message (written, its content synced, the folder renamed into the Outbox), then `Runner.SendOver` over that session (the state written, the dot record synced before the final dot, the rename into Sent), timed until the runner reports the attempt, which is when the window shows \"Sent\"; *copy on* is the same with the copy in the Sent folder configured, which the window files after the confirmation. Medians: straight %s, Outbox %s, copy on %s.\n",
		runs, ms(med(0)), ms(med(1)), ms(med(2)))
	return nil
}

// noFolder is a Sent folder that is never reached in the in-process part.
type noFolder struct{}

func (noFolder) FileSentCopy(context.Context, mailer.IMAPAccount, mailer.PasswordFunc, string, time.Time, io.Reader, int64) (mailer.CopyOutcome, error) {
	return "", fmt.Errorf("not used")
}

func (noFolder) FindSent(context.Context, mailer.IMAPAccount, mailer.PasswordFunc, string) (bool, error) {
	return false, nil
}

// sendWithCopy times postcard send with its copy filed in a real Dovecot
// against curl doing the same two steps.
func (b *bench) sendWithCopy(md *strings.Builder, msg mailer.Message) error {
	tb := &benchTB{work: b.work}
	defer tb.cleanup()
	var d *imaptest.Dovecot
	if err := tb.do(func() {
		d = imaptest.StartDovecot(tb, imaptest.DovecotConfig{CA: b.ca, Users: map[string]string{b.user: b.password}})
	}); err != nil {
		return fmt.Errorf("starting Dovecot: %w", err)
	}
	cfg := filepath.Join(b.work, "config-imap")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		return err
	}
	if err := b.loginWith(cfg, b.sendSrv.Port(), "--imap-host", "127.0.0.1", "--imap-port", fmt.Sprint(d.Port), "--imap-security", "ssl"); err != nil {
		return err
	}
	c := sendCase{name: "10 MiB attachment with its copy in Sent", goal: 1.3, timeout: 2 * time.Minute, msg: msg}
	appendURL := fmt.Sprintf("imaps://127.0.0.1:%d/Sent%%20Messages", d.Port)
	pc, curl, _, err := b.sendCaseThen(c, nil, cfg, func(eml string) []string {
		return []string{"--silent", "--show-error", "--cacert", b.caFile, "--user", b.user + ":" + b.password, "-T", eml, appendURL}
	})
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	b.ratioRow("Send and file the copy, 10 MiB attachment: wall time", pc, curl, "curl + curl -T", c.goal)
	n := 0
	_ = tb.do(func() { n = len(d.Messages(tb, b.user, "Sent Messages")) })
	fmt.Fprintf(md, "\n`postcard send --json` with the copy on (the server's Dovecot on loopback, iCloud's folder names; after the unmeasured first run Postcard knows this server files no copies of its own, so it does not wait) against `curl` sending the same bytes and then `curl -T msg.eml imaps://…/Sent%%20Messages` appending them, the same two steps. Postcard lists the folders and searches the Sent folder for the Message-ID before it appends; curl only appends. Wall times (ms), postcard: %s; curl + curl -T: %s. The Sent folder held %d messages at the end.\n",
		walls(pc), walls(curl), n)
	return nil
}

// benchTB is the little of testing.TB the test servers use, for a program:
// Fatal stops the call in do with the message as its error.
type benchTB struct {
	testing.TB
	work     string
	cleanups []func()
}

type tbFatal struct{ msg string }

func (t *benchTB) do(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(tbFatal); ok {
				err = fmt.Errorf("%s", f.msg)
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

func (t *benchTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func (t *benchTB) Helper()                           {}
func (t *benchTB) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *benchTB) Failed() bool                      { return false }
func (t *benchTB) Logf(format string, args ...any)   {}
func (t *benchTB) Errorf(format string, args ...any) { fmt.Printf("dovecot: "+format+"\n", args...) }
func (t *benchTB) Error(args ...any)                 { fmt.Println(append([]any{"dovecot:"}, args...)...) }
func (t *benchTB) Fatalf(format string, args ...any) { panic(tbFatal{fmt.Sprintf(format, args...)}) }
func (t *benchTB) Fatal(args ...any)                 { panic(tbFatal{fmt.Sprint(args...)}) }
func (t *benchTB) Name() string                      { return "bench" }
func (t *benchTB) TempDir() string {
	d, err := os.MkdirTemp(t.work, "dovecot-")
	if err != nil {
		panic(tbFatal{err.Error()})
	}
	return d
}
