package ui

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
)

func TestDraftStore_SaveLoadRemove(t *testing.T) {
	dir := t.TempDir()
	s := newDraftStore(dir)
	if d, err := s.Load(); err != nil || !d.IsEmpty() {
		t.Fatalf("Load with no file = %+v, %v", d, err)
	}
	want := Draft{To: "Ann <ann@example.com>", Subject: "Hi", Body: "line 1\nline 2 ✓", Attachments: []string{"/tmp/a.pdf"}}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || !got.Equal(want) {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, want)
	}
	fi, err := os.Stat(filepath.Join(dir, DraftFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("draft file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DraftFile)); !os.IsNotExist(err) {
		t.Fatalf("file still there: %v", err)
	}
}

func TestDraftStore_EmptyDraftRemovesFile(t *testing.T) {
	s := newDraftStore(t.TempDir())
	if err := s.Save(Draft{Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(Draft{To: "  "}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path); !os.IsNotExist(err) {
		t.Fatalf("an empty draft should leave no file: %v", err)
	}
}

// TestDraftStore_Atomic overwrites the draft many times while reading it:
// every read sees one whole draft, and no temporary file is left behind.
func TestDraftStore_Atomic(t *testing.T) {
	dir := t.TempDir()
	s := newDraftStore(dir)
	big := strings.Repeat("x", 200_000)
	if err := s.Save(Draft{Subject: "0", Body: big}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 50; i++ {
			if err := s.Save(Draft{Subject: strings.Repeat("y", i), Body: big}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		d, err := s.Load()
		if err != nil {
			t.Fatalf("read %d saw a broken draft: %v", i, err)
		}
		if d.Body != big {
			t.Fatalf("read %d saw a partial body (%d bytes)", i, len(d.Body))
		}
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != DraftFile {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only %s", names, DraftFile)
	}
}

func TestDraftStore_CorruptFile(t *testing.T) {
	s := newDraftStore(t.TempDir())
	if err := os.WriteFile(s.path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.HasPrefix(err.Error(), "ui: ") {
		t.Fatalf("Load of a corrupt file = %v", err)
	}
}

func TestAutosaver_WritesNewestAfterDelay(t *testing.T) {
	dir := t.TempDir()
	saved := make(chan error, 16)
	s := &autosaver{store: newDraftStore(dir), delay: 10 * time.Millisecond, saved: func(err error) { saved <- err }}
	s.Changed(Draft{Body: "a"})
	s.Changed(Draft{Body: "ab"})
	s.Changed(Draft{Body: "abc"})
	for {
		if err := <-saved; err != nil {
			t.Fatal(err)
		}
		d, _ := s.store.Load()
		if d.Body == "abc" {
			break
		}
	}
	s.Discard()
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.store.path); !os.IsNotExist(err) {
		t.Fatalf("Discard left the file: %v", err)
	}
}

// TestAutosaver_SteadyTypingIsSaved changes the draft more often than the
// delay for longer than the delay: it must be written meanwhile, not only
// after the typing stops.
func TestAutosaver_SteadyTypingIsSaved(t *testing.T) {
	saved := make(chan error, 16)
	s := &autosaver{store: newDraftStore(t.TempDir()), delay: 20 * time.Millisecond, saved: func(err error) { saved <- err }}
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
	s := &autosaver{store: newDraftStore(t.TempDir()), delay: time.Hour}
	s.Changed(Draft{Subject: "before quitting"})
	s.Close()
	if d, err := s.store.Load(); err != nil || d.Subject != "before quitting" {
		t.Fatalf("after Close: %+v, %v", d, err)
	}
}

func TestDraft_SavedAndRestored(t *testing.T) {
	dir := t.TempDir()
	attachment := filepath.Join(t.TempDir(), "plan.pdf")
	if err := os.WriteFile(attachment, []byte("%PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, draftDelay: 10 * time.Millisecond})
	want := Draft{To: "ann@example.com", Cc: "bob@example.org", Subject: "Plan", Body: "Hello,\nthe plan.", Attachments: []string{attachment}}
	h.w.compose.addAttachments(want.Attachments)
	h.wait(eventAttachments)
	h.typeDraft(want)
	store := newDraftStore(dir)
	for {
		h.wait(eventDraft)
		if d, _ := store.Load(); d.Equal(want) {
			break
		}
	}
	h.close()

	// A new window restores it exactly, without writing it again.
	h2 := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, draftDelay: 10 * time.Millisecond})
	p := h2.w.compose
	if got := p.draft(); !got.Equal(want) {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	if p.total.Text == "" || len(p.removeButtons) != 1 {
		t.Errorf("attachment not shown after restore: %q", p.total.Text)
	}

	// Typing more saves again; a send removes the file.
	test.Type(p.body, "More. ")
	want = p.draft()
	if !strings.Contains(want.Body, "More. ") {
		t.Fatalf("body %q", want.Body)
	}
	for {
		h2.wait(eventDraft)
		if d, _ := store.Load(); d.Equal(want) {
			break
		}
	}
	h2.shortcut(ctrlEnter)
	h2.wait(eventSend)
	h2.wait(eventDraft)
	if _, err := os.Stat(store.path); !os.IsNotExist(err) {
		t.Fatalf("draft still saved after the send: %v", err)
	}
}

func TestDraft_FailedSendKeepsDraftFile(t *testing.T) {
	dir := t.TempDir()
	m := &fakeMailer{sendErrs: []error{&mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageSender}}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, dir: dir, mailer: m})
	d := Draft{To: "ann@example.com", Subject: "s", Body: "b"}
	h.typeDraft(d)
	h.shortcut(ctrlEnter)
	h.wait(eventSend)
	h.close() // writes what is pending at once
	if got, err := newDraftStore(dir).Load(); err != nil || !got.Equal(d) {
		t.Fatalf("draft after a failed send and close: %+v, %v", got, err)
	}
}

func TestDraft_MentionsAttachment(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"I attached the file", true},
		{"See the attachment.", true},
		{"Attachments below", true},
		{"Please find the invoice enclosed.", true},
		{"> see attached\nthanks", false},
		{"   > attach\n", false},
		{"This is unattached text", false},
		{"nothing here", false},
	} {
		if got := (Draft{Body: tc.body}).MentionsAttachment(); got != tc.want {
			t.Errorf("MentionsAttachment(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestDraft_Validate(t *testing.T) {
	for _, tc := range []struct {
		d       Draft
		wantErr string
	}{
		{Draft{To: "a@example.com"}, ""},
		{Draft{Bcc: "Ann <a@example.com>; b@example.org"}, ""},
		{Draft{}, "no recipients"},
		{Draft{To: "a@example.com", Cc: "bob@"}, `Cc: "bob@"`},
	} {
		err := tc.d.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("Validate(%+v) = %v", tc.d, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("Validate(%+v) = %v, want %q", tc.d, err, tc.wantErr)
		case err != nil && mailer.KindOf(err) != mailer.KindInvalidMessage:
			t.Errorf("kind %s", mailer.KindOf(err))
		}
	}
}
