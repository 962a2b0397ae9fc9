package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

func newTestSaver(t *testing.T, delay time.Duration, saved func(error)) (*store.Store, *autosaver) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	return st, newAutosaver(st, h, delay, nil, func(f func()) { f() }, saved)
}

func lastDraft(st *store.Store) Draft {
	d, _ := st.Drafts()
	if len(d) == 0 {
		return Draft{}
	}
	return d[0]
}

func TestAutosaver_WritesNewestAfterDelay(t *testing.T) {
	saved := make(chan error, 16)
	st, s := newTestSaver(t, 10*time.Millisecond, func(err error) { saved <- err })
	defer s.Close()
	s.Changed(Draft{Body: "a"})
	s.Changed(Draft{Body: "ab"})
	s.Changed(Draft{Body: "abc"})
	for {
		if err := <-saved; err != nil {
			t.Fatal(err)
		}
		if lastDraft(st).Body == "abc" {
			break
		}
	}
}

// TestAutosaver_SteadyTypingIsSaved changes the draft more often than the
// delay for longer than the delay: it must be written meanwhile, not only
// after the typing stops.
func TestAutosaver_SteadyTypingIsSaved(t *testing.T) {
	saved := make(chan error, 16)
	_, s := newTestSaver(t, 20*time.Millisecond, func(err error) { saved <- err })
	defer s.Close()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for i := 0; ; i++ {
		select {
		case err := <-saved:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-tick.C:
			s.Changed(Draft{Body: strings.Repeat("x", i+1)})
		case <-deadline:
			t.Fatal("nothing saved while the draft kept changing")
		}
	}
}

func TestAutosaver_CloseWritesPendingAtOnce(t *testing.T) {
	st, s := newTestSaver(t, time.Hour, nil)
	s.Changed(Draft{Subject: "before quitting"})
	s.Close()
	if d := lastDraft(st); d.Subject != "before quitting" {
		t.Fatalf("after Close: %+v", d)
	}
	// Its lock is released: another window may open it.
	h, _, err := st.EditDraft(s.h.ID)
	if err != nil {
		t.Fatalf("the draft is still locked after Close: %v", err)
	}
	h.Release()
}

// Touch only marks the draft changed; the snapshot is taken when the save
// is due, once, however many changes came.
func TestAutosaver_TouchTakesOneSnapshot(t *testing.T) {
	saved := make(chan error, 16)
	st, s := newTestSaver(t, 10*time.Millisecond, func(err error) { saved <- err })
	defer s.Close()
	takes := 0
	s.take = func() Draft { takes++; return Draft{Body: "typed"} }
	for range 100 {
		s.Touch()
	}
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	if takes != 1 || lastDraft(st).Body != "typed" {
		t.Fatalf("%d snapshots, saved %+v", takes, lastDraft(st))
	}
}

func TestAutosaver_StopDropsPending(t *testing.T) {
	st, s := newTestSaver(t, time.Hour, nil)
	s.Changed(Draft{Subject: "about to be sent"})
	s.Stop()
	s.Changed(Draft{Subject: "too late"})
	s.Flush()
	if d := lastDraft(st); !d.IsEmpty() {
		t.Fatalf("saved after Stop: %+v", d)
	}
}

func TestDraft_SavedAndRestored(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	attachment := filepath.Join(t.TempDir(), "plan.pdf")
	if err := os.WriteFile(attachment, []byte("%PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, data: data, draftDelay: 10 * time.Millisecond})
	want := Draft{To: "ann@example.com", Cc: "bob@example.org", Subject: "Plan", Body: "Hello,\nthe plan.", Attachments: []string{attachment}}
	h.w.compose.addAttachments(want.Attachments)
	h.wait(eventAttachments)
	h.typeDraft(want)
	for {
		h.wait(eventDraft)
		if d := lastDraft(h.st); d.Equal(want) {
			break
		}
	}
	h.close()

	// A new window restores it exactly.
	h2 := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, data: data, draftDelay: 10 * time.Millisecond})
	p := h2.w.compose
	if got := p.draft(); !got.Equal(want) {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	h2.wait(eventAttachments)
	if p.total.Text == "" || len(p.removeButtons) != 1 {
		t.Errorf("attachment not shown after restore: %q", p.total.Text)
	}

	// Typing more saves again; a send takes it out of Drafts for good.
	test.Type(p.body, "More. ")
	want = p.draft()
	for {
		h2.wait(eventDraft)
		if d := lastDraft(h2.st); d.Equal(want) {
			break
		}
	}
	h2.sendAndWait()
	if drafts, _ := h2.st.Drafts(); len(drafts) != 0 {
		t.Fatalf("drafts after the send: %+v", drafts)
	}
	h2.close()
	h3 := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, data: data})
	if d := h3.w.compose.draft(); !d.IsEmpty() {
		t.Fatalf("a sent message came back as a draft: %+v", d)
	}
}

func TestDraft_LegacyFileMigrated(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LegacyDraftFile), []byte(`{"to":"ann@example.com","subject":"old"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateDraft(filepath.Join(dir, LegacyDraftFile)); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, data: data})
	if d := h.w.compose.draft(); d.Subject != "old" || d.To != "ann@example.com" {
		t.Fatalf("the old draft is not in the pane: %+v", d)
	}
	_ = mailer.KindAuth
}
