package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

var testAccount = mailer.Account{Host: "127.0.0.1", Port: 587, Security: mailer.StartTLS, Username: "ann@icloud.example", DisplayName: "Ann"}

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testDraft(t *testing.T) Draft {
	t.Helper()
	att := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(att, []byte("attached notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Draft{To: "Bob <bob@example.org>", Cc: "carol@example.net", Bcc: "Dan <dan@example.com>, eve@example.com",
		Subject: "Lunch on Friday", Body: "Hi,\nsee attached.\n", Attachments: []string{att}}
}

// queue saves d as a new draft and queues it.
func queue(t *testing.T, s *Store, d Draft, hold time.Duration) Entry {
	t.Helper()
	h, err := s.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if err := s.SaveDraft(h, d); err != nil {
		t.Fatal(err)
	}
	p, err := mailer.Prepare(testAccount, d.Message())
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Queue(h, d, p, hold)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// wire is a fake server: it takes the bytes and counts deliveries by
// Message-ID. fail, when set, decides the outcome of each send instead.
type wire struct {
	mu        sync.Mutex
	delivered map[string]int
	got       map[string][]byte
	fail      func(out *mailer.Outgoing) error
}

func newWire() *wire { return &wire{delivered: map[string]int{}, got: map[string][]byte{}} }

func (w *wire) send(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
	var buf bytes.Buffer
	if _, err := out.Content.WriteTo(&buf); err != nil {
		return nil, err
	}
	if w.fail != nil {
		if err := w.fail(out); err != nil {
			return nil, err
		}
	}
	if out.BeforeDot != nil {
		if err := out.BeforeDot(); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.delivered[out.MessageID]++
	w.got[out.MessageID] = buf.Bytes()
	return &mailer.Result{MessageID: out.MessageID, Recipients: out.Recipients, Size: out.Size}, nil
}

func TestQueueDeliver_ToSentWithBcc(t *testing.T) {
	s := openStore(t, t.TempDir())
	d := testDraft(t)
	e := queue(t, s, d, 0)
	if e.State != StateWaiting || len(e.Envelope) != 4 {
		t.Fatalf("queued %+v", e)
	}
	if drafts, _ := s.Drafts(); len(drafts) != 0 {
		t.Fatalf("drafts after queue: %+v", drafts)
	}
	// Changing the attachment afterwards does not change what is sent.
	if err := os.WriteFile(d.Attachments[0], []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWire()
	got, res, err := s.Deliver(context.Background(), e.ID, Due, w.send)
	if err != nil || res == nil || got.State != "" {
		t.Fatalf("Deliver = %+v, %v, %v", got, res, err)
	}
	wireBytes := w.got[e.MessageID]
	if bytes.Contains(wireBytes, []byte("Bcc:")) || bytes.Contains(wireBytes, []byte("dan@example.com")) {
		t.Errorf("the message sent names the Bcc recipients")
	}
	if !bytes.Contains(wireBytes, []byte("YXR0YWNoZWQgbm90ZXMK")) { // "attached notes\n"
		t.Errorf("the attachment as it was at Send is not in the message")
	}
	if ob, _ := s.Outbox(); len(ob) != 0 {
		t.Fatalf("outbox after send: %+v", ob)
	}
	sent, err := s.Sent()
	if err != nil || len(sent) != 1 {
		t.Fatalf("Sent = %+v, %v", sent, err)
	}
	it := sent[0]
	if it.Subject != d.Subject || it.MessageID != e.MessageID || len(it.Bcc) != 2 || it.Bcc[0] != "Dan <dan@example.com>" {
		t.Errorf("Sent item %+v", it)
	}
	file, _ := os.ReadFile(it.Path)
	if !bytes.HasSuffix(file, wireBytes) || !bytes.HasPrefix(file, []byte("Bcc: ")) {
		t.Errorf("the Sent record is not the Bcc header followed by the bytes sent")
	}
	if !strings.HasSuffix(it.Path, ":2,S") || filepath.Base(filepath.Dir(it.Path)) != "cur" {
		t.Errorf("Sent file %s is not a seen message in a Maildir's cur/", it.Path)
	}
}

func TestDeliver_FailureStates(t *testing.T) {
	lost := &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}
	for _, tc := range []struct {
		name string
		err  error
		want State
	}{
		{"dns", &mailer.Error{Kind: mailer.KindDNS, Stage: mailer.StageResolve}, StateWaiting},
		{"refused", &mailer.Error{Kind: mailer.KindConnectRefused, Stage: mailer.StageConnect}, StateWaiting},
		{"connect timeout", &mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect}, StateWaiting},
		{"4xx", &mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageSender, Reply: &mailer.Reply{Code: 451}}, StateWaiting},
		{"rate 4xx", &mailer.Error{Kind: mailer.KindRateLimited, Stage: mailer.StageSender, Reply: &mailer.Reply{Code: 421}}, StateWaiting},
		{"rate 5xx", &mailer.Error{Kind: mailer.KindRateLimited, Stage: mailer.StageAccepted, Reply: &mailer.Reply{Code: 550}}, StateNeedsAttention},
		{"lost mid-upload", &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageData}, StateWaiting},
		{"timeout mid-upload", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageData}, StateWaiting},
		{"auth", &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin, Reply: &mailer.Reply{Code: 535}}, StateNeedsAttention},
		{"tls", &mailer.Error{Kind: mailer.KindTLSCertificate, Stage: mailer.StageTLS}, StateNeedsAttention},
		{"sender", &mailer.Error{Kind: mailer.KindSenderRejected, Stage: mailer.StageSender, Reply: &mailer.Reply{Code: 550}}, StateNeedsAttention},
		{"recipient", &mailer.Error{Kind: mailer.KindRecipientRejected, Stage: mailer.StageRcpt, Reply: &mailer.Reply{Code: 550}, Rejected: []string{"bob@example.org"}}, StateNeedsAttention},
		{"too large", &mailer.Error{Kind: mailer.KindTooLarge, Stage: mailer.StageAccepted, Reply: &mailer.Reply{Code: 552}}, StateNeedsAttention},
		{"policy", &mailer.Error{Kind: mailer.KindPolicyRejected, Stage: mailer.StageAccepted, Reply: &mailer.Reply{Code: 554}}, StateNeedsAttention},
		{"keychain", &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain}, StateNeedsAttention},
		{"lost after dot", lost, StateUnconfirmed},
		{"timeout after dot", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageAccepted}, StateUnconfirmed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			e := queue(t, s, testDraft(t), 0)
			w := newWire()
			w.fail = func(*mailer.Outgoing) error { return tc.err }
			got, _, err := s.Deliver(context.Background(), e.ID, Due, w.send)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v", err)
			}
			if got.State != tc.want || got.Attempts != 1 || got.Last == nil || got.Last.Kind != tc.err.(*mailer.Error).Kind {
				t.Fatalf("entry %+v, want state %s", got, tc.want)
			}
			again, _ := s.Entry(e.ID)
			if again.State != tc.want {
				t.Fatalf("stored state %s, want %s", again.State, tc.want)
			}
			if tc.want == StateWaiting && !again.NextTry.After(time.Now().Add(20*time.Second)) {
				t.Errorf("next try %v: no pause after the failure", again.NextTry)
			}
			// Only a waiting message is sent again on its own, and only
			// when due.
			if _, _, err := s.Deliver(context.Background(), e.ID, Due, w.send); !errors.Is(err, ErrNotDue) {
				t.Errorf("second Deliver(Due) = %v, want ErrNotDue", err)
			}
		})
	}
}

func TestBackoff_GrowsToHalfAnHour(t *testing.T) {
	prev := time.Duration(0)
	for i := 1; i <= 12; i++ {
		d := Backoff(i)
		if d < prev*3/2 && d < 27*time.Minute {
			t.Errorf("Backoff(%d) = %v after %v: not growing", i, d, prev)
		}
		if d < 27*time.Second || d > 33*time.Minute {
			t.Errorf("Backoff(%d) = %v out of 30 s .. 30 min", i, d)
		}
		prev = d
	}
}

func TestUndo_BackToDraftExactly(t *testing.T) {
	s := openStore(t, t.TempDir())
	d := testDraft(t)
	e := queue(t, s, d, 5*time.Second)
	w := newWire()
	if _, _, err := s.Deliver(context.Background(), e.ID, Now, w.send); !errors.Is(err, ErrNotDue) {
		t.Fatalf("sent during the undo delay: %v", err)
	}
	h, back, err := s.Undo(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if !back.Equal(d) || back.ID != e.ID {
		t.Fatalf("undo gave %+v, want %+v", back, d)
	}
	if ob, _ := s.Outbox(); len(ob) != 0 {
		t.Fatalf("outbox after undo: %+v", ob)
	}
	drafts, _ := s.Drafts()
	if len(drafts) != 1 || !drafts[0].Equal(d) {
		t.Fatalf("drafts after undo: %+v", drafts)
	}
	for _, f := range []string{messageFile, metaFile} {
		if _, err := os.Stat(s.path(draftsDir, e.ID, f)); err == nil {
			t.Errorf("%s left in the draft", f)
		}
	}
	if len(w.delivered) != 0 {
		t.Errorf("delivered %v", w.delivered)
	}
}

func TestLocks_OneHolderAtATime(t *testing.T) {
	dir := t.TempDir()
	a, b := openStore(t, dir), openStore(t, dir)
	h, err := a.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SaveDraft(h, Draft{To: "bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.EditDraft(h.ID); !errors.Is(err, ErrBusy) {
		t.Fatalf("second editor: %v, want ErrBusy", err)
	}
	h.Release()
	h2, d, err := b.EditDraft(h.ID)
	if err != nil || d.To != "bob@example.org" {
		t.Fatalf("EditDraft after release: %+v, %v", d, err)
	}
	h2.Release()

	// A message being sent can be neither undone nor deleted elsewhere.
	e := queue(t, a, testDraft(t), 0)
	inSend := make(chan struct{})
	release := make(chan struct{})
	w := newWire()
	w.fail = func(*mailer.Outgoing) error { close(inSend); <-release; return nil }
	done := make(chan error)
	go func() { _, _, err := a.Deliver(context.Background(), e.ID, Now, w.send); done <- err }()
	<-inSend
	if _, _, err := b.Undo(e.ID); !errors.Is(err, ErrBusy) {
		t.Errorf("Undo while sending: %v", err)
	}
	if err := b.Delete(e.ID); !errors.Is(err, ErrBusy) {
		t.Errorf("Delete while sending: %v", err)
	}
	if _, _, err := b.Deliver(context.Background(), e.ID, Force, w.send); !errors.Is(err, ErrBusy) {
		t.Errorf("second Deliver while sending: %v", err)
	}
	if st, _ := b.Entry(e.ID); st.State != StateSending {
		t.Errorf("state seen elsewhere while sending: %s", st.State)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.delivered[e.MessageID] != 1 {
		t.Errorf("delivered %d times", w.delivered[e.MessageID])
	}
}

// Two stores on one folder (as two processes) send the same Outbox at once:
// each message goes exactly once.
func TestRunners_TwoProcessesSendEachOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := openStore(t, dir), openStore(t, dir)
	var ids []string
	for range 30 {
		ids = append(ids, queue(t, a, Draft{To: "bob@example.org", Subject: "x", Body: "y"}, 0).MessageID)
	}
	w := newWire()
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		r := &Runner{Store: s, Send: w.send}
		wg.Go(func() { r.Pass(context.Background(), Now) })
	}
	wg.Wait()
	for _, id := range ids {
		if n := w.delivered[id]; n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if sent, _ := a.Sent(); len(sent) != 30 {
		t.Errorf("%d in Sent, want 30", len(sent))
	}
}

func TestMigrateDraft(t *testing.T) {
	cfg := t.TempDir()
	legacy := filepath.Join(cfg, "draft.json")
	if err := os.WriteFile(legacy, []byte(`{"to":"bob@example.org","subject":"old","body":"kept"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(dir)
			if err == nil {
				err = s.MigrateDraft(legacy)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s := openStore(t, dir)
	if err := s.MigrateDraft(legacy); err != nil {
		t.Fatal(err)
	}
	drafts, _ := s.Drafts()
	if len(drafts) != 1 || drafts[0].Subject != "old" || drafts[0].Body != "kept" {
		t.Fatalf("drafts = %+v", drafts)
	}
	if _, err := os.Stat(legacy); err == nil {
		t.Error("the old draft file is still there")
	}
}

func TestUseAsNew_CopiesAttachments(t *testing.T) {
	s := openStore(t, t.TempDir())
	d := testDraft(t)
	e := queue(t, s, d, 0)
	if _, _, err := s.Deliver(context.Background(), e.ID, Due, newWire().send); err != nil {
		t.Fatal(err)
	}
	os.Remove(d.Attachments[0])
	h, nd, err := s.UseAsNew(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	if nd.To != d.To || nd.Cc != d.Cc || nd.Bcc != d.Bcc || nd.Subject != d.Subject || nd.Body != d.Body {
		t.Errorf("new draft %+v from %+v", nd, d)
	}
	if len(nd.Attachments) != 1 || filepath.Base(nd.Attachments[0]) != "notes.txt" {
		t.Fatalf("attachments %v", nd.Attachments)
	}
	if b, _ := os.ReadFile(nd.Attachments[0]); string(b) != "attached notes\n" {
		t.Errorf("attachment content %q", b)
	}
	if nd.ID == e.ID {
		t.Error("the new draft has the sent message's id")
	}
}

func TestSendAndRecord(t *testing.T) {
	s := openStore(t, t.TempDir())
	d := testDraft(t)
	p, err := mailer.Prepare(testAccount, d.Message())
	if err != nil {
		t.Fatal(err)
	}
	w := newWire()
	r, err := s.SendAndRecord(context.Background(), p.Outgoing(), RecordOptions{Bcc: d.Bcc}, w.send)
	if err != nil || r.RecordErr != nil || r.ID == "" {
		t.Fatalf("SendAndRecord = %+v, %v", r, err)
	}
	it, err := s.SentByID(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(it.Path)
	if !bytes.HasSuffix(file, w.got[p.MessageID]) || len(it.Bcc) != 2 {
		t.Errorf("record %+v does not hold what was sent", it)
	}
	// A failed send records nothing.
	w.fail = func(*mailer.Outgoing) error { return &mailer.Error{Kind: mailer.KindAuth} }
	if _, err := s.SendAndRecord(context.Background(), p.Outgoing(), RecordOptions{}, w.send); mailer.KindOf(err) != mailer.KindAuth {
		t.Fatalf("err = %v", err)
	}
	if sent, _ := s.Sent(); len(sent) != 1 {
		t.Errorf("%d in Sent after a failed send", len(sent))
	}
	if tmp, _ := os.ReadDir(s.path(sentDir, "tmp")); len(tmp) != 0 {
		t.Errorf("tmp left: %v", tmp)
	}
}

// errCrash stops an operation at a step, as a crash would.
var errCrash = errors.New("crash")

// place says where message id is, checking it is whole there and nowhere
// else: "draft", "outbox", "sent" or "" (nowhere, e.g. deleted).
func place(t *testing.T, s *Store, id string, want Draft) string {
	t.Helper()
	var where []string
	if _, err := os.Stat(s.path(draftsDir, id, draftFile)); err == nil {
		d, err := s.readDraft(draftsDir, id)
		if err != nil || !d.Equal(want) {
			t.Errorf("draft %s is not whole: %+v, %v", id, d, err)
		}
		where = append(where, "draft")
	}
	if e, err := s.Entry(id); err == nil {
		fi, err := os.Stat(s.path(outboxDir, id, messageFile))
		if err != nil || fi.Size() != e.WireOffset+e.Size {
			t.Errorf("outbox message %s is not whole", id)
		}
		if e.State == StateSending {
			t.Errorf("outbox message %s still sending after recovery", id)
		}
		where = append(where, "outbox")
	}
	if it, err := s.SentByID(id); err == nil {
		if it.Subject != want.Subject {
			t.Errorf("sent message %s is not whole: %+v", id, it)
		}
		where = append(where, "sent")
	}
	if len(where) > 1 {
		t.Errorf("message %s is in %v at once", id, where)
	}
	if len(where) == 0 {
		return ""
	}
	return where[0]
}

// Every operation, stopped at each of its steps, leaves the message whole
// in exactly one place once the store is opened again.
func TestFaults_EveryStepLeavesOnePlace(t *testing.T) {
	d := testDraft(t)
	type op struct {
		name string
		// setup brings a message to where the operation starts and
		// returns its id.
		setup func(t *testing.T, s *Store) string
		run   func(s *Store, id string) error
		// allowed are the places the message may be in after a crash.
		allowed []string
	}
	draftOnly := func(t *testing.T, s *Store) string {
		h, _ := s.NewDraft()
		defer h.Release()
		if err := s.SaveDraft(h, d); err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	queued := func(hold time.Duration) func(t *testing.T, s *Store) string {
		return func(t *testing.T, s *Store) string { return queue(t, s, d, hold).ID }
	}
	deliverWith := func(fail error) func(s *Store, id string) error {
		return func(s *Store, id string) error {
			w := newWire()
			w.fail = func(out *mailer.Outgoing) error {
				if err := s.step("wire:upload"); err != nil {
					return err
				}
				return fail
			}
			_, _, err := s.Deliver(context.Background(), id, Force, w.send)
			return err
		}
	}
	ops := []op{
		{"save draft", func(t *testing.T, s *Store) string { return NewID() }, func(s *Store, id string) error {
			h, err := s.lock(id)
			if err != nil {
				return err
			}
			defer h.Release()
			return s.SaveDraft(h, d)
		}, []string{"", "draft"}},
		{"queue", draftOnly, func(s *Store, id string) error {
			h, _, err := s.EditDraft(id)
			if err != nil {
				return err
			}
			defer h.Release()
			p, err := mailer.Prepare(testAccount, d.Message())
			if err != nil {
				return err
			}
			_, err = s.Queue(h, d, p, 0)
			return err
		}, []string{"draft", "outbox"}},
		{"deliver ok", queued(0), deliverWith(nil), []string{"outbox", "sent"}},
		{"deliver waiting", queued(0), deliverWith(&mailer.Error{Kind: mailer.KindDNS}), []string{"outbox"}},
		{"deliver unconfirmed", queued(0), deliverWith(&mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}), []string{"outbox"}},
		{"undo", queued(time.Minute), func(s *Store, id string) error {
			h, _, err := s.Undo(id)
			h.Release()
			return err
		}, []string{"outbox", "draft"}},
		{"delete", queued(0), func(s *Store, id string) error { return s.Delete(id) }, []string{"outbox", ""}},
		{"delete draft", draftOnly, func(s *Store, id string) error {
			h, _, err := s.EditDraft(id)
			if err != nil {
				return err
			}
			defer h.Release()
			return s.DeleteDraft(h)
		}, []string{"draft", ""}},
		{"move to sent", queued(0), func(s *Store, id string) error { return s.MoveToSent(id) }, []string{"outbox", "sent"}},
		{"reschedule", queued(time.Minute), func(s *Store, id string) error { _, err := s.Reschedule(id); return err }, []string{"outbox"}},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			// Learn the steps of a run that does not fail.
			s := openStore(t, t.TempDir())
			id := o.setup(t, s)
			var steps []string
			s.fault = func(step string) error { steps = append(steps, step); return nil }
			if err := o.run(s, id); err != nil && !errors.Is(err, errors.ErrUnsupported) {
				// The failing delivers return the send's error.
				var me *mailer.Error
				if !errors.As(err, &me) {
					t.Fatalf("clean run: %v", err)
				}
			}
			if len(steps) == 0 {
				t.Fatal("no steps recorded")
			}
			for i, stepName := range steps {
				dir := t.TempDir()
				s := openStore(t, dir)
				id := o.setup(t, s)
				n := 0
				s.fault = func(string) error {
					if n == i {
						return errCrash
					}
					n++
					return nil
				}
				if err := o.run(s, id); !errors.Is(err, errCrash) {
					t.Fatalf("step %d (%s): run ended with %v, not the crash", i, stepName, err)
				}
				after := openStore(t, dir) // recovery, as at the next start
				where := place(t, after, id, d)
				ok := false
				for _, a := range o.allowed {
					ok = ok || a == where
				}
				if !ok {
					t.Errorf("crash at step %d (%s): message in %q, want one of %q", i, stepName, where, o.allowed)
				}
				if ents, _ := os.ReadDir(after.path(trashDir)); len(ents) != 0 {
					t.Errorf("crash at step %d (%s): trash not emptied", i, stepName)
				}
			}
			t.Logf("%d steps, each crashed once", len(steps))
		})
	}
}

func TestRecover_SendingWithoutDotGoesBackToWaiting(t *testing.T) {
	for _, dot := range []bool{false, true} {
		dir := t.TempDir()
		s := openStore(t, dir)
		e := queue(t, s, testDraft(t), 0)
		e.State = StateSending
		if err := s.writeMeta(e.ID, e, durable); err != nil {
			t.Fatal(err)
		}
		if dot {
			if err := s.recordDot(s.path(outboxDir, e.ID)); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := openStore(t, dir).Entry(e.ID)
		want := StateWaiting
		if dot {
			want = StateUnconfirmed
		}
		if got.State != want {
			t.Errorf("dot=%v: recovered as %s, want %s", dot, got.State, want)
		}
	}
}

func TestRunner_QuitLeavesWaiting(t *testing.T) {
	s := openStore(t, t.TempDir())
	e := queue(t, s, testDraft(t), 0)
	inSend := make(chan struct{})
	send := func(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
		close(inSend)
		<-ctx.Done()
		return nil, &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageData, Err: ctx.Err()}
	}
	r := &Runner{Store: s, Send: send}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan []Attempt)
	go func() { done <- r.Pass(ctx, Now) }()
	<-inSend
	cancel(ErrQuit)
	<-done
	got, _ := s.Entry(e.ID)
	if got.State != StateWaiting || got.NextTry.After(time.Now()) {
		t.Fatalf("after quit: %+v", got)
	}

	// The user's Cancel needs the user.
	inSend = make(chan struct{})
	go func() { done <- r.Pass(context.Background(), Now) }()
	<-inSend
	if !r.Cancel(e.ID, ErrCancelled) {
		t.Fatal("nothing to cancel")
	}
	<-done
	got, _ = s.Entry(e.ID)
	if got.State != StateNeedsAttention {
		t.Fatalf("after cancel: %+v", got)
	}
}

func TestSent_IgnoresJunkAndBoundsReads(t *testing.T) {
	s := openStore(t, t.TempDir())
	huge := bytes.Repeat([]byte("X-Junk: "+strings.Repeat("a", 900)+"\r\n"), 2000)
	os.WriteFile(s.path(sentDir, "cur", "junk:2,S"), huge, 0o600)
	os.WriteFile(s.path(sentDir, "cur", ".hidden"), []byte("x"), 0o600)
	sent, err := s.Sent()
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) > 1 {
		t.Errorf("Sent = %+v", sent)
	}
	_ = io.Discard
	_ = fmt.Sprint
}

// A late autosave of a draft already sent never brings it back.
func TestQueue_LateSaveDoesNotResurrect(t *testing.T) {
	s := openStore(t, t.TempDir())
	d := testDraft(t)
	h, _ := s.NewDraft()
	defer h.Release()
	p, err := mailer.Prepare(testAccount, d.Message())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Queue(h, d, p, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDraft(h, d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SaveDraft after Queue = %v", err)
	}
	if drafts, _ := s.Drafts(); len(drafts) != 0 {
		t.Fatalf("drafts: %+v", drafts)
	}
}

func TestFileCopy_States(t *testing.T) {
	s := openStore(t, t.TempDir())
	e := queue(t, s, testDraft(t), 0)
	r := &Runner{Store: s, Send: newWire().send, CopyDelay: func() time.Duration { return 0 }}
	var got []byte
	var fail error
	r.Copy = func(ctx context.Context, it SentItem, raw io.Reader, sentAt time.Time) (mailer.CopyOutcome, error) {
		if fail != nil {
			return "", fail
		}
		got, _ = io.ReadAll(raw)
		return mailer.CopyFiled, nil
	}
	r.Pass(context.Background(), Now)
	if c, ok := s.CopyOf(e.ID); !ok || c.Status != CopyPending {
		t.Fatalf("copy after the send: %+v", c)
	}
	// A failure of the network is tried again later; one that needs the
	// user is not.
	fail = &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAppend, Protocol: mailer.ProtocolIMAP}
	r.Later(context.Background())
	c, _ := s.CopyOf(e.ID)
	if c.Status != CopyFailed || c.NextTry.IsZero() || c.Last.Kind != mailer.KindConnectionLost {
		t.Fatalf("after a lost connection: %+v", c)
	}
	fail = &mailer.Error{Kind: mailer.KindMailboxFull, Stage: mailer.StageAppend, Protocol: mailer.ProtocolIMAP}
	if c, _ = r.CopyNow(context.Background(), e.ID); c.Status != CopyFailed || !c.NextTry.IsZero() {
		t.Fatalf("after a full mailbox: %+v", c)
	}
	if due, _ := s.CopiesDue(time.Now().Add(time.Hour)); len(due) != 0 {
		t.Errorf("a copy that needs the user is due: %v", due)
	}
	fail = nil
	if c, _ = r.CopyNow(context.Background(), e.ID); c.Status != CopyFiled || c.Attempts != 3 {
		t.Fatalf("Try again: %+v", c)
	}
	it, _ := s.SentByID(e.ID)
	file, _ := os.ReadFile(it.Path)
	if !bytes.Equal(got, file) || it.Copy == nil || it.Copy.Status != CopyFiled {
		t.Errorf("the copy is not the Sent record (%d vs %d bytes), state %+v", len(got), len(file), it.Copy)
	}
	// Filed is final: nothing tries it again.
	if c, err := s.FileCopy(context.Background(), e.ID, true, r.Copy); err != nil || c.Attempts != 3 {
		t.Errorf("filed again: %+v, %v", c, err)
	}
}

func TestResolve_Unconfirmed(t *testing.T) {
	for _, found := range []bool{true, false} {
		s := openStore(t, t.TempDir())
		e := queue(t, s, testDraft(t), 0)
		w := newWire()
		w.fail = func(*mailer.Outgoing) error {
			return &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageAccepted}
		}
		if _, _, err := s.Deliver(context.Background(), e.ID, Now, w.send); err == nil {
			t.Fatal("no failure")
		}
		var asked string
		got, err := s.Resolve(context.Background(), e.ID, func(ctx context.Context, id string) (bool, error) { asked = id; return found, nil })
		if err != nil || got != found || asked != e.MessageID {
			t.Fatalf("Resolve = %v, %v (asked for %q)", got, err, asked)
		}
		if found {
			if it, err := s.SentByID(e.ID); err != nil || it.Copy == nil || it.Copy.Status != CopyAlreadyThere {
				t.Errorf("found: not in Sent with its copy already there: %+v, %v", it, err)
			}
			continue
		}
		after, _ := s.Entry(e.ID)
		if after.State != StateUnconfirmed || after.Checked == nil || after.Checked.Found {
			t.Errorf("not found: %+v", after)
		}
	}
}

// SendOver sends a message just queued over the session given, once, and
// reports it the moment it is in Sent, before the Outbox folder is tidied;
// a message held elsewhere, or in its undo delay, is not attempted.
func TestRunner_SendOver(t *testing.T) {
	s := openStore(t, t.TempDir())
	e := queue(t, s, testDraft(t), 0)
	w := newWire()
	var inSentWhenReported, outboxLeftWhenReported bool
	r := &Runner{Store: s, Send: func(context.Context, *mailer.Outgoing) (*mailer.Result, error) {
		t.Error("the runner's own Send was used")
		return nil, errors.New("not this one")
	}, OnAttempt: func(a Attempt) {
		_, err := os.Stat(s.path(sentDir, "cur", e.ID+maildirInfo))
		inSentWhenReported = err == nil && a.Sent()
		_, err = os.Stat(s.path(outboxDir, e.ID))
		outboxLeftWhenReported = err == nil
	}}
	a, ok := r.SendOver(context.Background(), e.ID, w.send)
	if !ok || !a.Sent() || w.delivered[e.MessageID] != 1 {
		t.Fatalf("SendOver: ok=%v %+v, delivered %d times", ok, a, w.delivered[e.MessageID])
	}
	if !inSentWhenReported || !outboxLeftWhenReported {
		t.Errorf("reported: in Sent %v, before the tidying %v; want both", inSentWhenReported, outboxLeftWhenReported)
	}
	if _, err := os.Stat(s.path(outboxDir, e.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Outbox folder left after SendOver: %v", err)
	}
	if c, ok := s.CopyOf(e.ID); !ok || c.Status != CopyOff {
		t.Errorf("copy state %+v %v, want off", c, ok)
	}

	// Held by another process: nothing attempted, nothing sent.
	e = queue(t, s, testDraft(t), 0)
	h, err := openStore(t, s.dir).lock(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.SendOver(context.Background(), e.ID, w.send); ok || w.delivered[e.MessageID] != 0 {
		t.Errorf("SendOver of a message another process holds: ok=%v, delivered %d", ok, w.delivered[e.MessageID])
	}
	h.Release()

	// In its undo delay: not sent.
	e = queue(t, s, testDraft(t), time.Minute)
	if _, ok := r.SendOver(context.Background(), e.ID, w.send); ok || w.delivered[e.MessageID] != 0 {
		t.Errorf("SendOver in the undo delay: ok=%v, delivered %d", ok, w.delivered[e.MessageID])
	}
}

// The dot record is one byte from Queue on, written over in place: "0"
// until the final dot may go out, "1" from just before it, "0" again after
// a failure that did not reach it.
func TestDotRecord_OneByteInPlace(t *testing.T) {
	s := openStore(t, t.TempDir())
	e := queue(t, s, testDraft(t), 0)
	dot := s.path(outboxDir, e.ID, dotFile)
	read := func() string {
		b, err := os.ReadFile(dot)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read(); got != "0" {
		t.Fatalf("dot record after Queue = %q, want \"0\"", got)
	}
	var atDot string
	send := func(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
		if err := out.BeforeDot(); err != nil {
			return nil, err
		}
		atDot = read()
		return nil, &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageData}
	}
	// A failure reported at the upload, after BeforeDot ran (the dot not
	// written after all): back to waiting, the record cleared.
	got, _, _ := s.Deliver(context.Background(), e.ID, Force, send)
	if atDot != "1" {
		t.Errorf("dot record at the dot = %q, want \"1\"", atDot)
	}
	if got.State != StateWaiting || read() != "0" {
		t.Errorf("after a failure before the dot: state %s, record %q; want waiting, \"0\"", got.State, read())
	}
	// An empty record (as an older version left it) is "not yet".
	if err := os.WriteFile(dot, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if dotWritten(s.path(outboxDir, e.ID)) {
		t.Error("an empty dot record reads as written")
	}
}

// A send that stops between the move to Sent and the record of its copy
// (the process killed there) leaves the plan in the Outbox folder's meta,
// and the next start records it: the copy is filed all the same, or
// recorded as off.
func TestRunner_CopyStateSurvivesAStopAfterTheMove(t *testing.T) {
	for _, withCopy := range []bool{false, true} {
		for _, rename := range []bool{false, true} {
			dir := t.TempDir()
			s := openStore(t, dir)
			e := queue(t, s, testDraft(t), 0)
			want := CopyOff
			r := &Runner{Store: s}
			if withCopy {
				want = CopyPending
				r.Copy = func(context.Context, SentItem, io.Reader, time.Time) (mailer.CopyOutcome, error) {
					return mailer.CopyFiled, nil
				}
			}
			// The record's write, or its rename into place.
			step := "copy:" + string(want)
			if rename {
				step += ":rename"
			}
			s.fault = func(name string) error {
				if name == step {
					return errCrash
				}
				return nil
			}
			if a, _ := r.SendOver(context.Background(), e.ID, newWire().send); !a.Sent() {
				t.Fatalf("copy %v, stop at %s: %+v", withCopy, step, a)
			}
			if _, ok := s.CopyOf(e.ID); ok {
				t.Fatalf("copy %v, stop at %s: the copy state was recorded before the stop", withCopy, step)
			}
			after := openStore(t, dir) // the next start
			c, ok := after.CopyOf(e.ID)
			if !ok || c.Status != want {
				t.Errorf("copy %v, stop at %s: after the next start the copy is %+v (%v), want %s", withCopy, step, c, ok, want)
			}
			if _, err := os.Stat(after.path(outboxDir, e.ID)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("copy %v, stop at %s: Outbox folder left: %v", withCopy, step, err)
			}
		}
	}
}

// A copy state that cannot be written leaves the message sent, and the
// store still opens: what is left of the Outbox folder waits, inert, for a
// later Recover. A message moved to Sent by hand, or found in the server's
// Sent folder, gets no planned state from an earlier attempt.
func TestRecover_PlannedCopyNeverBlocksOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	e := queue(t, s, testDraft(t), 0)
	if err := os.WriteFile(s.path(copyDir), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Store: s}
	if a, _ := r.SendOver(context.Background(), e.ID, newWire().send); !a.Sent() {
		t.Fatalf("not sent: %+v", a)
	}
	after, err := Open(dir)
	if err != nil {
		t.Fatalf("the store does not open: %v", err)
	}
	if ob, _ := after.Outbox(); len(ob) != 0 {
		t.Errorf("outbox %+v", ob)
	}
	if sent, _ := after.Sent(); len(sent) != 1 {
		t.Errorf("Sent %+v", sent)
	}
	// Once the state can be written, the next Recover records it.
	if err := os.Remove(s.path(copyDir)); err != nil {
		t.Fatal(err)
	}
	if err := after.Recover(); err != nil {
		t.Fatal(err)
	}
	if c, ok := after.CopyOf(e.ID); !ok || c.Status != CopyOff {
		t.Errorf("copy %+v %v, want off", c, ok)
	}

	// Unconfirmed (its meta keeps the plan of the attempt), then moved to
	// Sent by hand, stopping before the tidying: no state is made up.
	e = queue(t, s, testDraft(t), 0)
	lost := func(context.Context, *mailer.Outgoing) (*mailer.Result, error) {
		return nil, &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}
	}
	if a, _ := r.SendOver(context.Background(), e.ID, lost); a.Entry.State != StateUnconfirmed {
		t.Fatalf("after a lost verdict: %+v", a.Entry)
	}
	s.fault = func(step string) error {
		if step == "sent:cleanup" {
			return errCrash
		}
		return nil
	}
	if err := s.MoveToSent(e.ID); !errors.Is(err, errCrash) {
		t.Fatalf("MoveToSent: %v", err)
	}
	if c, ok := openStore(t, dir).CopyOf(e.ID); ok {
		t.Errorf("a message moved to Sent by hand got the copy state %+v", c)
	}
}

// "Move to Sent" records the copy as a send does: pending when copies are
// filed (the copy looks for the message in the server's Sent folder first),
// off when not.
func TestRunner_MoveToSentRecordsTheCopy(t *testing.T) {
	s := openStore(t, t.TempDir())
	lost := func(context.Context, *mailer.Outgoing) (*mailer.Result, error) {
		return nil, &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}
	}
	for _, withCopy := range []bool{false, true} {
		r := &Runner{Store: s}
		want := CopyOff
		if withCopy {
			want = CopyPending
			r.Copy = func(context.Context, SentItem, io.Reader, time.Time) (mailer.CopyOutcome, error) {
				return mailer.CopyFiled, nil
			}
		}
		e := queue(t, s, testDraft(t), 0)
		if a, _ := r.SendOver(context.Background(), e.ID, lost); a.Entry.State != StateUnconfirmed {
			t.Fatalf("after a lost verdict: %+v", a.Entry)
		}
		if err := r.MoveToSent(e.ID); err != nil {
			t.Fatal(err)
		}
		if c, ok := s.CopyOf(e.ID); !ok || c.Status != want {
			t.Errorf("copy %v: state %+v (%v), want %s", withCopy, c, ok, want)
		}
	}
}
