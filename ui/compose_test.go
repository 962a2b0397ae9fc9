package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// sendAndWait presses Ctrl+Enter and waits until the message was queued
// and tried once.
func (h *harness) sendAndWait() {
	h.t.Helper()
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	h.wait(eventAttempt)
}

func TestCompose_WholeFlow(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	if h.w.tabs.Selected() != h.w.composeItem {
		t.Fatal("with an account and a stored password the window should open on Compose")
	}
	if h.w.win.Canvas().Focused() != p.to {
		t.Fatalf("focus is on %T, want the To field", h.w.win.Canvas().Focused())
	}

	d := Draft{To: "Ann <ann@example.com>", Cc: "bob@example.org", Subject: "Hello", Body: "Hi Ann,\nsee you soon."}
	h.typeDraft(d)
	if h.w.win.Title() != "Postcard · Hello" {
		t.Errorf("title %q", h.w.win.Title())
	}
	h.sendAndWait()

	sends := h.mailer.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends, want 1", len(sends))
	}
	got := sends[0]
	if got.Password != testPassword || got.Account.Username != testUser {
		t.Errorf("sent as %q with password %q", got.Account.Username, got.Password)
	}
	hdr, body := got.message(t)
	if got.subject(t) != d.Subject || strings.TrimSuffix(body, "\n") != d.Body || !strings.Contains(hdr.Get("To"), "ann@example.com") ||
		hdr.Get("Cc") != "<bob@example.org>" || !slices.Equal(got.To, []string{"ann@example.com", "bob@example.org"}) {
		t.Errorf("sent %v / %q to %v", hdr, body, got.To)
	}
	if !p.draft().IsEmpty() {
		t.Errorf("fields not cleared after the send: %+v", p.draft())
	}
	if want := "Sent “Hello” to Ann and bob@example.org at 14:02."; p.tracker.line.Text != want {
		t.Errorf("confirmation %q, want %q", p.tracker.line.Text, want)
	}
	if h.w.win.Canvas().Focused() != p.to {
		t.Error("focus should be back in To for the next message")
	}
	if p.busy || p.send.Disabled() {
		t.Error("the pane should be ready for the next send")
	}
	// The message is in Sent, and in no other place.
	if drafts, _ := h.st.Drafts(); len(drafts) != 0 {
		t.Errorf("drafts after the send: %+v", drafts)
	}
	sent, _ := h.st.Sent()
	if len(sent) != 1 || sent[0].Subject != "Hello" {
		t.Fatalf("Sent = %+v", sent)
	}
	h.until("the Sent list", func() bool { return len(h.w.sent.items) == 1 })

	// A second Ctrl+Enter on the empty pane (a double press) says so
	// calmly, and the confirmation stays.
	h.shortcut(ctrlEnter)
	if !p.note.Visible() || p.note.Importance == widget.DangerImportance || p.failure.box.Visible() {
		t.Errorf("note %q (importance %v), failure shown %v", p.note.Text, p.note.Importance, p.failure.box.Visible())
	}
	if !strings.HasPrefix(p.tracker.line.Text, "Sent “Hello”") || !p.tracker.line.Visible() {
		t.Errorf("the confirmation went: %q", p.tracker.line.Text)
	}
	if n := len(h.mailer.Sends()); n != 1 {
		t.Errorf("%d sends", n)
	}
	// It stays until the next message is started.
	test.Type(p.to, "x")
	if p.tracker.box.Visible() {
		t.Error("the confirmation stays after the next message was started")
	}
}

func TestCompose_KeypadEnterSends(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "s", Body: "b"})
	h.shortcut(ctrlKeypadEnter)
	h.wait(eventAttempt)
	if n := len(h.mailer.Sends()); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
}

func TestCompose_CtrlEnterOnSettingsDoesNothing(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "s", Body: "b"})
	h.w.showSettings(nil)
	h.shortcut(ctrlEnter)
	if h.w.compose.busy || len(h.mailer.Sends()) != 0 {
		t.Fatal("Ctrl+Enter on the settings pane started a send")
	}
}

func TestCompose_FocusOrder(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	c := h.w.win.Canvas()
	want := []fyne.Focusable{p.to, p.cc, p.bcc, p.subject, p.body}
	if c.Focused() != want[0] {
		t.Fatalf("focus starts on %T, want To", c.Focused())
	}
	names := []string{"To", "Cc", "Bcc", "Subject", "Body"}
	for i := 1; i < len(want); i++ {
		test.FocusNext(c)
		if c.Focused() != want[i] {
			t.Fatalf("Tab after %s focused %T, want %s", names[i-1], c.Focused(), names[i])
		}
	}
}

func TestCompose_AddressCheckedAsTyped(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	c := h.w.win.Canvas()
	test.Type(p.to, "ann@example.com, bob@")
	if p.toErr.Visible() {
		t.Fatalf("error %q while the address is being typed", p.toErr.Text)
	}
	// Leaving the field checks it.
	c.Focus(p.cc)
	if !p.toErr.Visible() || !strings.Contains(p.toErr.Text, `"bob@"`) {
		t.Fatalf("error label %q (visible %v) should name bob@", p.toErr.Text, p.toErr.Visible())
	}
	// Fixing it takes the error away at once.
	c.Focus(p.to)
	test.Type(p.to, "example.org")
	if p.toErr.Visible() {
		t.Fatalf("error %q still shown for a good list", p.toErr.Text)
	}
	// A pause in the typing checks it too.
	test.Type(p.bcc, "not an address")
	h.until("the Bcc error after a pause", p.bccErr.Visible)
	if !strings.Contains(p.bccErr.Text, "not an address") {
		t.Fatalf("Bcc error %q", p.bccErr.Text)
	}
	// Send refuses it without touching the Outbox.
	h.shortcut(ctrlEnter)
	if p.busy || len(h.mailer.Sends()) != 0 || !p.failure.box.Visible() {
		t.Fatal("a bad address should stop the send with a hint")
	}
	if !strings.Contains(p.failure.hint.Text, "Bcc") {
		t.Errorf("failure text %q should name the field", p.failure.hint.Text)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Errorf("queued a message with a bad address: %+v", ob)
	}
}

// failWith sends a message whose first attempt fails with err, checks that
// it is kept in the Outbox with the hint shown where the user is, and
// returns the harness.
func failWith(t *testing.T, a *mailer.Account, err error, want store.State) (*harness, Draft) {
	t.Helper()
	h := newHarness(t, setup{account: a, password: testPassword, mailer: &fakeMailer{sendErrs: []error{err}}})
	d := Draft{To: "ann@example.com", Subject: "Report", Body: "Numbers below."}
	h.typeDraft(d)
	h.sendAndWait()
	p := h.w.compose
	ob, _ := h.st.Outbox()
	if len(ob) != 1 || ob[0].State != want || ob[0].Subject != d.Subject {
		t.Fatalf("outbox after the failure: %+v, want one %s", ob, want)
	}
	v := p.tracker.view
	if !v.box.Visible() {
		t.Fatal("no failure hint in the compose pane")
	}
	var me *mailer.Error
	errors.As(err, &me)
	if !strings.Contains(v.fail.hint.Text, me.Hint()) && !mailer.MaybeDelivered(err) {
		t.Errorf("hint %q, want the %s hint", v.fail.hint.Text, mailer.KindOf(err))
	}
	return h, d
}

// fixes lists the fix buttons the tracker shows.
func fixes(p *composePane) []string {
	v := p.tracker.view
	var out []string
	for _, b := range []*widget.Button{v.openSettings, v.createPassword, v.switchTo465, v.switchTLS, v.sendNow, v.sendAgain, v.moveToSent, v.edit} {
		if b.Visible() {
			out = append(out, b.Text)
		}
	}
	return out
}

func TestCompose_FailureAuth(t *testing.T) {
	authErr := &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin,
		Reply: &mailer.Reply{Code: 535, Enhanced: "5.7.8", Text: "Error: authentication failed"}}
	h, _ := failWith(t, icloudAccount(), authErr, store.StateNeedsAttention)
	p := h.w.compose
	v := p.tracker.view
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings", "Create app-specific password", "Send now", "Edit"}) {
		t.Fatalf("fixes %q", got)
	}
	if !strings.HasPrefix(v.fail.title.Text, "Not sent: ") {
		t.Errorf("title %q", v.fail.title.Text)
	}
	// The server's reply is under Details and can be copied.
	if !strings.Contains(v.fail.reply.Text, "535 5.7.8 Error: authentication failed") {
		t.Errorf("details %q lack the reply", v.fail.reply.Text)
	}
	test.Tap(v.fail.copy)
	if got := h.app.Clipboard().Content(); !strings.Contains(got, "535 5.7.8") {
		t.Errorf("clipboard %q lacks the reply", got)
	}
	test.Tap(v.createPassword)
	if got := h.openedURLs(); !slices.Equal(got, []string{appleIDURL}) {
		t.Errorf("opened %q, want the Apple ID page", got)
	}
	test.Tap(v.openSettings)
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("Open Settings did not open the settings pane")
	}
	if h.w.win.Canvas().Focused() != h.w.settings.password {
		t.Errorf("focus on %T, want the password", h.w.win.Canvas().Focused())
	}
	// Never retried on its own; "Send now" after the fix sends it.
	if n := len(h.mailer.Sends()); n != 1 {
		t.Fatalf("%d sends", n)
	}
	h.w.showCompose()
	test.Tap(v.sendNow)
	h.wait(eventAttempt)
	if n := len(h.mailer.Sends()); n != 2 {
		t.Fatalf("%d sends after Send now", n)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Errorf("outbox after Send now: %+v", ob)
	}
	if !strings.HasPrefix(p.tracker.line.Text, "Sent “Report”") {
		t.Errorf("tracker %q", p.tracker.line.Text)
	}
}

func TestCompose_FailureConnectTimeoutSwitchesTo465(t *testing.T) {
	err := &mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect, Detail: "no answer from smtp.mail.me.com port 587 within 15s"}
	h, d := failWith(t, icloudAccount(), err, store.StateWaiting)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings", "Switch to 465 (SSL/TLS) and send now", "Send now", "Edit"}) {
		t.Fatalf("fixes %q", got)
	}
	if !strings.Contains(p.tracker.view.fail.hint.Text, "Postcard tries again at") {
		t.Errorf("hint %q does not say when it is tried again", p.tracker.view.fail.hint.Text)
	}
	test.Tap(p.tracker.view.switchTo465)
	h.wait(eventAttempt)
	sends := h.mailer.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2", len(sends))
	}
	if a := sends[1].Account; a.Port != 465 || a.Security != mailer.ImplicitTLS {
		t.Errorf("retried on %d/%s, want 465/ssl", a.Port, a.Security)
	}
	if sends[1].subject(t) != d.Subject || string(sends[1].Raw) != string(sends[0].Raw) {
		t.Errorf("retried a different message")
	}
	saved, lerr := mailer.LoadAccount(h.dir)
	if lerr != nil || saved.Port != 465 || saved.Security != mailer.ImplicitTLS {
		t.Errorf("account file has %d/%s (%v), want 465/ssl", saved.Port, saved.Security, lerr)
	}
	if h.w.settings.port.Text != "465" || h.w.settings.security.Selected != mailer.ImplicitTLS.Choice() {
		t.Errorf("settings show %s / %s", h.w.settings.port.Text, h.w.settings.security.Selected)
	}
}

func TestCompose_FailureTLSModeSwitchesEncryption(t *testing.T) {
	a := icloudAccount()
	a.Security = mailer.ImplicitTLS // 587 with SSL/TLS: the classic mismatch
	err := &mailer.Error{Kind: mailer.KindTLSMode, Stage: mailer.StageTLS, Detail: "the server on port 587 did not answer in TLS; it expects STARTTLS"}
	h, _ := failWith(t, a, err, store.StateNeedsAttention)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings", "Switch encryption and send now", "Send now", "Edit"}) {
		t.Fatalf("fixes %q", got)
	}
	test.Tap(p.tracker.view.switchTLS)
	h.wait(eventAttempt)
	sends := h.mailer.Sends()
	if len(sends) != 2 || sends[1].Account.Security != mailer.StartTLS || sends[1].Account.Port != 587 {
		t.Fatalf("retry: %+v", sends)
	}
	if saved, _ := mailer.LoadAccount(h.dir); saved.Security != mailer.StartTLS {
		t.Errorf("account file security %s, want starttls", saved.Security)
	}
}

// A failure that may pass by itself leaves the message waiting: tried again
// on its own later, or at once with Send now.
func TestCompose_FailureWaits(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *mailer.Error
	}{
		{"temporary", &mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageSender, Reply: &mailer.Reply{Code: 451, Enhanced: "4.7.1", Text: "Service unavailable - try again later"}}},
		{"connection-lost", &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageData, Detail: "the server closed the connection"}},
		{"timeout", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageRcpt, Detail: "no answer from the server within 30s"}},
		{"dns", &mailer.Error{Kind: mailer.KindDNS, Stage: mailer.StageResolve, Detail: `host "smtp.mail.me.com" not found`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, d := failWith(t, icloudAccount(), tc.err, store.StateWaiting)
			p := h.w.compose
			if !strings.HasPrefix(p.tracker.view.fail.title.Text, "Not sent yet") {
				t.Errorf("title %q", p.tracker.view.fail.title.Text)
			}
			test.Tap(p.tracker.view.sendNow)
			h.wait(eventAttempt)
			sends := h.mailer.Sends()
			if len(sends) != 2 || sends[1].subject(t) != d.Subject {
				t.Fatalf("Send now sent %d", len(sends))
			}
			if p.tracker.view.box.Visible() || !strings.HasPrefix(p.tracker.line.Text, "Sent") {
				t.Error("a successful Send now should show the confirmation")
			}
		})
	}
}

func TestCompose_LostAfterUploadIsUnconfirmed(t *testing.T) {
	err := &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}
	h, _ := failWith(t, icloudAccount(), err, store.StateUnconfirmed)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Send again…", "Move to Sent"}) {
		t.Fatalf("fixes %q: a message the server may have is not resent with one click", got)
	}
	if !strings.HasPrefix(p.tracker.view.fail.title.Text, "Perhaps sent") {
		t.Errorf("title %q", p.tracker.view.fail.title.Text)
	}
	// Send again asks first, and "Don't send" is the answer offered.
	test.Tap(p.tracker.view.sendAgain)
	q := h.w.win.Canvas().Focused()
	if b, ok := q.(*button); !ok || b.Text != "Don't send" {
		t.Fatalf("focus on %v, want Don't send", q)
	}
	test.Tap(q.(*button))
	if n := len(h.mailer.Sends()); n != 1 {
		t.Fatalf("sent again without saying yes: %d", n)
	}
	test.Tap(p.tracker.view.moveToSent)
	h.until("the move to Sent", func() bool { ob, _ := h.st.Outbox(); return len(ob) == 0 })
	// With no Sent folder set, its copy is recorded as off, as a send's.
	h.until("the copy state", func() bool { sent, _ := h.st.Sent(); return len(sent) == 1 && sent[0].Copy != nil })
	if sent, _ := h.st.Sent(); len(sent) != 1 || sent[0].Copy.Status != store.CopyOff {
		t.Errorf("Sent after Move to Sent: %+v", sent)
	}
}

func TestCompose_DoubleSendGuard(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, progress func(mailer.StageResult)) error {
		progress(mailer.StageResult{Stage: mailer.StageResolve, OK: true})
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	p := h.w.compose
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Once", Body: "only once"})
	h.shortcut(ctrlEnter)
	h.shortcut(ctrlEnter)
	h.shortcut(ctrlKeypadEnter)
	test.Tap(p.send)
	p.Send()
	h.wait(eventQueued)
	<-started
	h.shortcut(ctrlEnter)
	close(release)
	h.wait(eventAttempt)
	if n := len(h.mailer.Sends()); n != 1 {
		t.Fatalf("%d sends, want exactly 1", n)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Fatalf("outbox: %+v", ob)
	}
}

func TestCompose_Cancel(t *testing.T) {
	started := make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, _ func(mailer.StageResult)) error {
		close(started)
		<-ctx.Done()
		return &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageData, Detail: "cancelled", Err: ctx.Err()}
	}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	p := h.w.compose
	d := Draft{To: "ann@example.com", Subject: "Wait", Body: "no"}
	h.typeDraft(d)
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	<-started
	// The tracker shows the send under way, with Cancel.
	h.until("Cancel shown", p.tracker.cancel.Visible)
	test.Tap(p.tracker.cancel)
	h.wait(eventAttempt)
	ob, _ := h.st.Outbox()
	if len(ob) != 1 || ob[0].State != store.StateNeedsAttention {
		t.Fatalf("outbox after cancel: %+v", ob)
	}
	// Edit brings it back exactly.
	test.Tap(p.tracker.view.edit)
	h.wait(eventUndo)
	if got := p.draft(); !got.Equal(d) {
		t.Errorf("draft after Edit: %+v, want %+v", got, d)
	}
}

func TestCompose_UndoPutsTheMessageBack(t *testing.T) {
	dir := t.TempDir()
	att := filepath.Join(dir, "plan.pdf")
	if err := os.WriteFile(att, []byte("%PDF"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, undo: 5 * time.Second})
	p := h.w.compose
	d := Draft{To: "ann@example.com", Cc: "bob@example.org", Bcc: "carol@example.net", Subject: "Plan", Body: "The plan, attached.", Attachments: []string{att}}
	p.addAttachments(d.Attachments)
	h.wait(eventAttachments)
	h.typeDraft(d)
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	if !p.draft().IsEmpty() {
		t.Fatal("the pane is not free for the next message")
	}
	if !strings.HasPrefix(p.tracker.line.Text, "Sending “Plan” in ") || !p.tracker.undo.Visible() {
		t.Fatalf("tracker %q, undo shown %v", p.tracker.line.Text, p.tracker.undo.Visible())
	}
	test.Type(p.subject, "Next one")
	test.Tap(p.tracker.undo)
	h.wait(eventUndo)
	got := p.draft()
	got.ID = ""
	if !got.Equal(d) {
		t.Fatalf("after Undo: %+v, want %+v", got, d)
	}
	if n := len(h.mailer.Sends()); n != 0 {
		t.Fatalf("%d sends after Undo", n)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Errorf("outbox after Undo: %+v", ob)
	}
	// The message that had been started is kept in Drafts.
	h.until("the message started meanwhile in Drafts", func() bool {
		drafts, _ := h.st.Drafts()
		for _, dr := range drafts {
			if dr.Subject == "Next one" {
				return true
			}
		}
		return false
	})
}

func TestCompose_QuitDuringUndoDelayKeepsItWaiting(t *testing.T) {
	data := t.TempDir()
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, undo: 30 * time.Second, data: data})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Later", Body: "x"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	h.until("the Outbox listed", func() bool { _, held := h.w.pending(); return held == 1 })
	h.w.closeRequested()
	focused, ok := h.w.win.Canvas().Focused().(*button)
	if !ok || focused.Text != "Wait" {
		t.Fatalf("the close question does not offer Wait first: %v", h.w.win.Canvas().Focused())
	}
	quit := findButton(t, h.w.win, "Quit, it goes at the next start")
	test.Tap(quit)
	<-h.w.runDone
	if n := len(h.mailer.Sends()); n != 0 {
		t.Fatalf("sent on quit: %d", n)
	}
	st, _ := store.Open(data)
	ob, _ := st.Outbox()
	if len(ob) != 1 || ob[0].State != store.StateWaiting {
		t.Fatalf("outbox after quit: %+v", ob)
	}
	if drafts, _ := st.Drafts(); len(drafts) != 0 {
		t.Errorf("the message came back as a draft: %+v", drafts)
	}
}

func TestCompose_QuitDuringUploadGoesAtNextStart(t *testing.T) {
	data := t.TempDir()
	started := make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, _ func(mailer.StageResult)) error {
		close(started)
		<-ctx.Done()
		return &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageData, Detail: "cancelled", Err: ctx.Err()}
	}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m, data: data})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Big", Body: "x"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	<-started
	h.until("the send under way", func() bool { s, _ := h.w.pending(); return s > 0 })
	h.w.closeRequested()
	test.Tap(findButton(t, h.w.win, "Quit, it goes at the next start"))
	<-h.w.sendingStopped()
	st, _ := store.Open(data)
	ob, _ := st.Outbox()
	if len(ob) != 1 || ob[0].State != store.StateWaiting {
		t.Fatalf("outbox after quitting mid-upload: %+v", ob)
	}

	// The next start sends it, once.
	m2 := &fakeMailer{}
	h2 := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m2, data: data})
	h2.until("the send at the next start", func() bool { return len(m2.Sends()) > 0 })
	h2.wait(eventAttempt)
	if n := len(m2.Sends()); n != 1 || m2.Sends()[0].subject(t) != "Big" {
		t.Fatalf("next start sent %d", n)
	}
}

func TestCompose_WaitClosesOnceSent(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, _ func(mailer.StageResult)) error {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Wait for me", Body: "x"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	<-started
	h.until("the send under way", func() bool { s, _ := h.w.pending(); return s > 0 })
	h.w.closeRequested()
	test.Tap(findButton(t, h.w.win, "Wait"))
	close(release)
	h.wait(eventQuit)
	h.closed = true // the window closed itself
	if sent, _ := h.st.Sent(); len(sent) != 1 {
		t.Fatalf("Sent after Wait: %+v", sent)
	}
}

// findButton finds the button labelled text in the window's overlays (a
// dialog) or content.
func findButton(t *testing.T, win fyne.Window, text string) fyne.Tappable {
	t.Helper()
	var found fyne.Tappable
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found != nil {
			return
		}
		if bt, ok := o.(*widget.Button); ok && bt.Text == text {
			found = bt
			return
		}
		if bt, ok := o.(*button); ok && bt.Text == text {
			found = bt
			return
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, ch := range c.Objects {
				walk(ch)
			}
			return
		}
		if w, ok := o.(fyne.Widget); ok {
			r := test.WidgetRenderer(w)
			for _, ch := range r.Objects() {
				walk(ch)
			}
		}
	}
	for _, o := range win.Canvas().Overlays().List() {
		walk(o)
	}
	if found == nil {
		t.Fatalf("no button %q on screen", text)
	}
	return found
}

func TestCompose_QuestionsBeforeSending(t *testing.T) {
	for _, tc := range []struct {
		name      string
		draft     Draft
		questions int
	}{
		{"attachment mentioned", Draft{To: "a@example.com", Subject: "Report", Body: "The report is attached."}, 1},
		{"enclosed", Draft{To: "a@example.com", Subject: "Report", Body: "Please find enclosed"}, 1},
		{"quoted mention only", Draft{To: "a@example.com", Subject: "Re: report", Body: "Thanks!\n> I attached the report"}, 0},
		{"empty subject", Draft{To: "a@example.com", Body: "hi"}, 1},
		{"both", Draft{To: "a@example.com", Body: "see attachment"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
			p := h.w.compose
			h.typeDraft(tc.draft)
			h.shortcut(ctrlEnter)
			for i := 0; i < tc.questions; i++ {
				if p.question == nil {
					t.Fatalf("question %d not asked", i+1)
				}
				h.shortcut(ctrlEnter) // pressed again while asked: nothing
				test.Tap(p.question.yes)
			}
			if p.question != nil {
				t.Fatalf("unexpected question")
			}
			h.wait(eventAttempt)
			if n := len(h.mailer.Sends()); n != 1 {
				t.Fatalf("%d sends, want 1", n)
			}
		})
	}
}

func TestCompose_QuestionGoBack(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	h.typeDraft(Draft{To: "a@example.com", Body: "hello"})
	h.shortcut(ctrlEnter)
	if p.question == nil {
		t.Fatal("empty subject not asked about")
	}
	test.Tap(p.question.no)
	if p.busy || len(h.mailer.Sends()) != 0 {
		t.Fatal("Go back should not send")
	}
	if h.w.win.Canvas().Focused() != p.subject {
		t.Error("Go back should focus the subject")
	}
}

func TestCompose_Attachments(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	dir := t.TempDir()
	small := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(small, []byte(strings.Repeat("n", 3000)), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "video.mov")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16_000_000); err != nil { // 16 MB raw is over 20 MB encoded
		t.Fatal(err)
	}
	f.Close()

	h.w.dropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(small)})
	h.wait(eventAttachments)
	if want := mailer.FormatSize(mailer.EstimateEncodedSize(3000)) + " of 20 MB, as sent"; p.total.Text != want {
		t.Errorf("total %q, want %q", p.total.Text, want)
	}
	p.addAttachments([]string{big, small}) // small again: not twice
	h.wait(eventAttachments)
	if len(p.attachments) != 2 || len(p.removeButtons) != 2 {
		t.Fatalf("%d attachments", len(p.attachments))
	}
	if p.total.Importance != widget.DangerImportance || !strings.Contains(p.total.Text, "too large") {
		t.Errorf("over the limit: %q (importance %v)", p.total.Text, p.total.Importance)
	}
	test.Tap(p.removeButtons[1])
	if len(p.attachments) != 1 || p.attachments[0].path != small || p.total.Importance == widget.DangerImportance {
		t.Fatalf("after removing: %+v, %q", p.attachments, p.total.Text)
	}

	h.typeDraft(Draft{To: "a@example.com", Subject: "Notes", Body: "attached"})
	h.sendAndWait() // an attachment is there: no question
	s := h.mailer.Sends()
	if len(s) != 1 || !strings.Contains(string(s[0].Raw), `filename="notes.txt"`) {
		t.Fatalf("sent %d, without notes.txt", len(s))
	}
	if len(p.attachments) != 0 || p.total.Text != "" {
		t.Error("attachments not cleared after the send")
	}
}

func TestCompose_NoPasswordNeedsAttention(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount()}) // no password stored
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("without a stored password the window should switch to Settings")
	}
	h.w.showCompose()
	p := h.w.compose
	h.typeDraft(Draft{To: "a@example.com", Subject: "s", Body: "b"})
	h.sendAndWait()
	if len(h.mailer.Sends()) != 0 {
		t.Fatal("sent without a password")
	}
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings", "Send now", "Edit"}) {
		t.Errorf("fixes %q", got)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 1 || ob[0].State != store.StateNeedsAttention {
		t.Errorf("outbox %+v", ob)
	}
}

// Two windows (as two processes) on one store never edit the same draft.
func TestCompose_TwoWindowsOnOneStore(t *testing.T) {
	data := t.TempDir()
	h1 := newHarness(t, setup{account: icloudAccount(), password: testPassword, data: data, draftDelay: 5 * time.Millisecond})
	h1.typeDraft(Draft{To: "ann@example.com", Subject: "From window one"})
	h1.wait(eventDraft)

	h2 := newHarness(t, setup{account: icloudAccount(), password: testPassword, data: data})
	if !h2.w.compose.draft().IsEmpty() {
		t.Fatalf("the second window opened the first one's draft: %+v", h2.w.compose.draft())
	}
	h2.w.outboxChanged()
	h2.until("the draft listed", func() bool { return len(h2.w.drafts.drafts) == 1 })
	h2.w.drafts.list.Select(0)
	test.Tap(h2.w.drafts.open)
	h2.until("the status", h2.w.drafts.status.Visible)
	if !strings.Contains(h2.w.drafts.status.Text, "open in another Postcard window") {
		t.Errorf("status %q", h2.w.drafts.status.Text)
	}
	// Once the first window closes, the second may open it.
	h1.close()
	test.Tap(h2.w.drafts.open)
	h2.until("the draft opened", func() bool { return h2.w.compose.draft().Subject == "From window one" })
}

// With no undo delay the message goes over a session opened while it was
// being frozen, with the account and password of that moment, and that
// session is closed once used; with an undo delay nothing connects ahead.
func TestCompose_NoUndoDelaySendsOverTheSessionOpenedAhead(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "At once", Body: "x"})
	h.sendAndWait()
	conns := h.mailer.Connections()
	if len(conns) != 1 {
		t.Fatalf("%d sessions opened ahead, want 1", len(conns))
	}
	h.until("the session closed", func() bool { _, closed := conns[0].state(); return closed })
	if sent, _ := conns[0].state(); !sent {
		t.Error("the message did not go over the session opened ahead")
	}
	sends := h.mailer.Sends()
	if len(sends) != 1 || sends[0].subject(t) != "At once" || sends[0].Password != testPassword || sends[0].Account.Username != icloudAccount().Username {
		t.Fatalf("sends %+v", sends)
	}
	if !strings.HasPrefix(h.w.compose.tracker.line.Text, "Sent “At once”") {
		t.Errorf("tracker %q", h.w.compose.tracker.line.Text)
	}
	if sent, _ := h.st.Sent(); len(sent) != 1 {
		t.Errorf("Sent %+v", sent)
	}

	delayed := newHarness(t, setup{account: icloudAccount(), password: testPassword, undo: 5 * time.Second})
	delayed.typeDraft(Draft{To: "ann@example.com", Subject: "Later", Body: "x"})
	delayed.shortcut(ctrlEnter)
	delayed.wait(eventQueued)
	if n := len(delayed.mailer.Connections()); n != 0 {
		t.Errorf("%d sessions opened ahead of a message in its undo delay", n)
	}
}

// A message whose freezing fails is not sent, and the session opened for
// it is closed unused.
func TestCompose_FreezeFailsClosesTheSessionUnused(t *testing.T) {
	att := filepath.Join(t.TempDir(), "gone.txt")
	if err := os.WriteFile(att, []byte("soon gone"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The attachment changes after the message was prepared, while the
	// session connects: freezing it fails.
	m := &fakeMailer{connectHook: func() { os.WriteFile(att, []byte("changed meanwhile"), 0o600) }}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	p := h.w.compose
	p.addAttachments([]string{att})
	h.wait(eventAttachments)
	h.typeDraft(Draft{To: "ann@example.com", Subject: "With a file", Body: "see attached"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	conns := h.mailer.Connections()
	if len(conns) != 1 {
		t.Fatalf("%d sessions opened ahead, want 1", len(conns))
	}
	h.until("the session closed", func() bool { _, closed := conns[0].state(); return closed })
	if sent, _ := conns[0].state(); sent || len(h.mailer.Sends()) != 0 {
		t.Errorf("a message that was not frozen was sent (%d sends)", len(h.mailer.Sends()))
	}
	if !p.failure.box.Visible() || p.draft().Subject != "With a file" {
		t.Errorf("failure shown %v, pane holds %q; want the failure and the message kept", p.failure.box.Visible(), p.draft().Subject)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Errorf("outbox %+v", ob)
	}
}

// Two messages on their way at once (no undo delay: each goes as soon as it
// is frozen): the end of one leaves the other counted as being sent, so
// closing the window still asks.
func TestCompose_TwoSendsAtOnceBothCount(t *testing.T) {
	data := t.TempDir()
	var calls atomic.Int32
	release := make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, _ func(mailer.StageResult)) error {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageData, Detail: "cancelled", Err: ctx.Err()}
			}
		}
		return nil
	}}
	defer close(release)
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m, data: data})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "First, big", Body: "x"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	h.until("the first send under way", func() bool { s, _ := h.w.pending(); return s == 1 })
	h.typeDraft(Draft{To: "bob@example.com", Subject: "Second, small", Body: "y"})
	h.shortcut(ctrlEnter)
	h.wait(eventQueued)
	h.wait(eventAttempt)
	if sent, _ := h.st.Sent(); len(sent) != 1 || sent[0].Subject != "Second, small" {
		t.Fatalf("Sent %+v, want the second message", sent)
	}
	if s, _ := h.w.pending(); s != 1 {
		t.Fatalf("%d messages counted on their way while the first is still being sent, want 1", s)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 1 || !h.w.outbox.sending[ob[0].MessageID] {
		t.Errorf("the Outbox list does not show the first message as being sent (outbox %+v)", ob)
	}
	h.w.closeRequested()
	test.Tap(findButton(t, h.w.win, "Quit, it goes at the next start"))
	<-h.w.sendingStopped()
	st, _ := store.Open(data)
	if ob, _ := st.Outbox(); len(ob) != 1 || ob[0].Subject != "First, big" || ob[0].State != store.StateWaiting {
		t.Fatalf("outbox after quitting: %+v", ob)
	}
}
