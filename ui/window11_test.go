package ui

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// Escape answers every question with its safe answer, the default one.
func TestQuestion_EscapeGivesTheSafeAnswer(t *testing.T) {
	for _, safe := range []bool{false, true} {
		h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
		var got []bool
		q := newQuestion(h.w.win, "Sure?", "Really?", "Yes", "No", safe, func(ok bool) { got = append(got, ok) })
		def := q.no
		if safe {
			def = q.yes
		}
		if h.w.win.Canvas().Focused() != def {
			t.Fatalf("safe %v: the focus is not on the safe answer", safe)
		}
		// Escape from the other button too.
		h.w.win.Canvas().Focus(q.yes)
		h.w.win.Canvas().Focus(q.no)
		other := q.yes
		if safe {
			other = q.no
		}
		h.w.win.Canvas().Focus(other)
		other.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if len(got) != 1 || got[0] != safe {
			t.Fatalf("safe %v: Escape answered %v", safe, got)
		}
	}
}

// The quit question's safe answer is Wait; "send without a subject?"'s is
// Go back.
func TestQuestion_SafeAnswers(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	h.typeDraft(Draft{To: "a@example.com", Body: "x"})
	h.shortcut(ctrlEnter)
	if h.w.win.Canvas().Focused() != p.question.no || p.question.no.Text != "Go back" {
		t.Fatal("Go back is not the default")
	}
	p.question.no.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(h.mailer.Sends()) != 0 || p.busy {
		t.Fatal("Escape sent the message")
	}
}

// Every button shows that it has the focus, the blue ones included.
func TestButton_FocusRing(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	send := h.w.compose.send
	r := test.WidgetRenderer(send).(*ringRenderer)
	if r.ring.StrokeWidth != 0 {
		t.Fatal("a ring before the focus")
	}
	h.w.win.Canvas().Focus(send)
	if r.ring.StrokeWidth == 0 {
		t.Fatal("no ring on the focused Send button")
	}
	if got := r.ring.StrokeColor; got == h.app.Settings().Theme().Color("primary", h.app.Settings().ThemeVariant()) {
		t.Error("the ring is the colour of the button")
	}
}

// Open Settings lands on the field the failure is about, and clears what
// earlier results said.
func TestFix_LandsOnTheField(t *testing.T) {
	for _, tc := range []struct {
		err  *mailer.Error
		want func(p *settingsPane) fyne.Focusable
	}{
		{&mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin}, func(p *settingsPane) fyne.Focusable { return p.password }},
		{&mailer.Error{Kind: mailer.KindDNS, Stage: mailer.StageResolve}, func(p *settingsPane) fyne.Focusable { return p.host }},
		{&mailer.Error{Kind: mailer.KindConnectRefused, Stage: mailer.StageConnect}, func(p *settingsPane) fyne.Focusable { return p.host }},
		{&mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect}, func(p *settingsPane) fyne.Focusable { return p.port }},
		{&mailer.Error{Kind: mailer.KindTLSMode, Stage: mailer.StageTLS}, func(p *settingsPane) fyne.Focusable { return p.port }},
		{&mailer.Error{Kind: mailer.KindSenderRejected, Stage: mailer.StageSender}, func(p *settingsPane) fyne.Focusable { return p.from }},
		{&mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate, Setting: mailer.SettingUsername}, func(p *settingsPane) fyne.Focusable { return p.username }},
		{&mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin, Protocol: mailer.ProtocolIMAP}, func(p *settingsPane) fyne.Focusable { return p.password }},
		{&mailer.Error{Kind: mailer.KindDNS, Stage: mailer.StageResolve, Protocol: mailer.ProtocolIMAP}, func(p *settingsPane) fyne.Focusable { return p.imapHost }},
	} {
		t.Run(string(tc.err.Protocol)+string(tc.err.Kind), func(t *testing.T) {
			h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
			p := h.w.settings
			// An old success, still on screen.
			test.Tap(p.test)
			h.wait(eventCheck)
			if !p.checklist.box.Visible() {
				t.Fatal("no checklist to go stale")
			}
			h.w.showCompose()
			h.w.showSettingsFor(tc.err)
			h.pump()
			if got := h.w.win.Canvas().Focused(); got != tc.want(p) {
				t.Errorf("focus on %T", got)
			}
			if p.checklist.box.Visible() || strings.Contains(p.status.Text, "works") {
				t.Error("the old results still show")
			}
			if !p.status.Visible() || !strings.Contains(p.status.Text, tc.err.Hint()) {
				t.Errorf("status %q does not say what to fix", p.status.Text)
			}
		})
	}
}

// After the fix, Save offers to send what waits in the Outbox.
func TestFix_SaveOffersSendNow(t *testing.T) {
	m := &fakeMailer{sendErrs: []error{&mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin}}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	h.typeDraft(Draft{To: "a@example.com", Subject: "s", Body: "b"})
	h.sendAndWait()
	h.until("the Outbox listed", func() bool { return len(h.w.entries) == 1 })
	test.Tap(h.w.compose.tracker.view.openSettings)
	p := h.w.settings
	test.Type(p.password, "wxyz-wxyz-wxyz-wxyz")
	test.Tap(p.save)
	h.wait(eventCheck)
	h.wait(eventSave)
	if !p.sendWaiting.Visible() {
		t.Fatalf("no Send now after the fix (status %q)", p.status.Text)
	}
	test.Tap(p.sendWaiting)
	h.wait(eventAttempt)
	if s := h.mailer.Sends(); len(s) != 2 || s[1].Password != "wxyz-wxyz-wxyz-wxyz" {
		t.Fatalf("sends %+v", s)
	}
}

// Save anyway says the settings were saved unverified, not a green Saved.
func TestSettings_SaveAnywaySaysUnverified(t *testing.T) {
	m := &fakeMailer{checkErrs: []error{&mailer.Error{Kind: mailer.KindConnectRefused, Stage: mailer.StageConnect}}}
	h := newHarness(t, setup{mailer: m})
	p := h.w.settings
	test.Type(p.username, testUser)
	test.Type(p.password, testPassword)
	test.Tap(p.save)
	h.wait(eventCheck)
	test.Tap(p.saveAnyway)
	h.wait(eventSave)
	if p.status.Importance == 3 /* success */ || !strings.Contains(p.status.Text, "without signing in") {
		t.Errorf("status %q (importance %v)", p.status.Text, p.status.Importance)
	}
}

// With no browser, the Apple ID address is shown with a Copy button.
func TestSettings_NoBrowserShowsTheAddress(t *testing.T) {
	h := newHarness(t, setup{})
	h.w.d.OpenURL = func(*url.URL) error { return errors.New("no browser") }
	test.Tap(h.w.settings.createPassword)
	h.wait(eventAppleID)
	test.Tap(findButton(t, h.w.win, "Copy the address"))
	if got := h.app.Clipboard().Content(); got != appleIDURL {
		t.Errorf("clipboard %q", got)
	}
}

// Pasted line breaks in the subject become spaces, and the pane says so.
func TestCompose_SubjectIsOneLine(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	p.subject.SetText("Lunch\non Friday\r\n")
	if p.subject.Text != "Lunch on Friday" || !strings.Contains(p.note.Text, "line breaks became spaces") {
		t.Errorf("subject %q, note %q", p.subject.Text, p.note.Text)
	}
}

// Neither attachments nor cards raise the window's minimum size: it never
// outgrows the screen.
func TestCompose_MinSizeStaysBounded(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	before := h.w.win.Content().MinSize()
	dir := t.TempDir()
	var files []string
	for i := range 15 {
		f := filepath.Join(dir, fmt.Sprintf("file-%02d.txt", i))
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p.addAttachments(files)
	h.wait(eventAttachments)
	p.showFailure(&mailer.Error{Kind: mailer.KindInvalidMessage, Stage: mailer.StageValidate, Detail: strings.Repeat("a long detail ", 60)})
	after := h.w.win.Content().MinSize()
	if after.Height > before.Height+260 {
		t.Errorf("min height grew from %v to %v with 15 attachments and a card", before.Height, after.Height)
	}
	_ = store.StateWaiting
}
