package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

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
	h.shortcut(ctrlEnter)
	h.wait(eventSend)

	sends := h.mailer.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends, want 1", len(sends))
	}
	got := sends[0]
	if got.Password != testPassword || got.Account.Username != testUser {
		t.Errorf("sent as %q with password %q", got.Account.Username, got.Password)
	}
	want := mailer.Message{To: []string{d.To}, Cc: []string{d.Cc}, Subject: d.Subject, Body: d.Body}
	if !slices.Equal(got.Message.To, want.To) || !slices.Equal(got.Message.Cc, want.Cc) ||
		got.Message.Bcc != nil || got.Message.Subject != want.Subject || got.Message.Body != want.Body {
		t.Errorf("sent %+v, want %+v", got.Message, want)
	}
	if !p.draft().IsEmpty() {
		t.Errorf("fields not cleared after the send: %+v", p.draft())
	}
	if !strings.Contains(p.status.Text, `Sent to Ann <ann@example.com>, bob@example.org at 14:02.`) || !strings.Contains(p.status.Text, "14:02") {
		t.Errorf("confirmation %q does not name the recipients and time", p.status.Text)
	}
	if h.w.win.Canvas().Focused() != p.to {
		t.Error("focus should be back in To for the next message")
	}
	if p.busy || p.send.Disabled() || p.cancel.Visible() {
		t.Error("the pane should be ready for the next send")
	}
	// The saved draft goes too.
	h.wait(eventDraft)
	if _, err := os.Stat(filepath.Join(h.dir, DraftFile)); !os.IsNotExist(err) {
		t.Errorf("draft file still there after a send: %v", err)
	}
}

func TestCompose_KeypadEnterSends(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "s", Body: "b"})
	h.shortcut(ctrlKeypadEnter)
	h.wait(eventSend)
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
	test.Type(p.to, "ann@example.com, bob@")
	if !p.toErr.Visible() || !strings.Contains(p.toErr.Text, `"bob@"`) {
		t.Fatalf("error label %q (visible %v) should name bob@", p.toErr.Text, p.toErr.Visible())
	}
	test.Type(p.to, "example.org")
	if p.toErr.Visible() {
		t.Fatalf("error %q still shown for a good list", p.toErr.Text)
	}
	test.Type(p.bcc, "not an address")
	if !p.bccErr.Visible() || !strings.Contains(p.bccErr.Text, "not an address") {
		t.Fatalf("Bcc error %q", p.bccErr.Text)
	}
	// Send refuses it without touching the network.
	h.shortcut(ctrlEnter)
	if p.busy || len(h.mailer.Sends()) != 0 || !p.failure.box.Visible() {
		t.Fatal("a bad address should stop the send with a hint")
	}
	if !strings.Contains(p.failure.hint.Text, "Bcc") {
		t.Errorf("failure text %q should name the field", p.failure.hint.Text)
	}
}

// failAndFix sends a message that fails with err, checks that the draft is
// kept and which fixes are offered, and returns the harness.
func failWith(t *testing.T, a *mailer.Account, err error) (*harness, Draft) {
	t.Helper()
	h := newHarness(t, setup{account: a, password: testPassword, mailer: &fakeMailer{sendErrs: []error{err}}})
	d := Draft{To: "ann@example.com", Subject: "Report", Body: "Numbers below."}
	h.typeDraft(d)
	h.shortcut(ctrlEnter)
	h.wait(eventSend)
	p := h.w.compose
	if got := p.draft(); !got.Equal(d) {
		t.Fatalf("draft changed by a failed send: %+v, want %+v", got, d)
	}
	if !p.failure.box.Visible() {
		t.Fatal("no failure hint in the compose pane")
	}
	if !strings.HasSuffix(p.failure.hint.Text, mailer.HintFor(mailer.KindOf(err)).Text) && mailer.KindOf(err) != mailer.KindConnectionLost {
		t.Errorf("hint %q, want the %s hint", p.failure.hint.Text, mailer.KindOf(err))
	}
	return h, d
}

// fixes lists the fix buttons shown.
func fixes(p *composePane) []string {
	var out []string
	for _, b := range []*widget.Button{p.openSettings, p.createPassword, p.switchTo465, p.switchTLS, p.retry} {
		if b.Visible() {
			out = append(out, b.Text)
		}
	}
	return out
}

func TestCompose_FailureAuth(t *testing.T) {
	authErr := &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin,
		Reply: &mailer.Reply{Code: 535, Enhanced: "5.7.8", Text: "Error: authentication failed"}}
	h, _ := failWith(t, icloudAccount(), authErr)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings", "Create app-specific password"}) {
		t.Fatalf("fixes %q", got)
	}
	// The server's reply is under Details and can be copied.
	if !strings.Contains(p.failure.reply.Text, "535 5.7.8 Error: authentication failed") {
		t.Errorf("details %q lack the reply", p.failure.reply.Text)
	}
	test.Tap(p.failure.copy)
	if got := h.app.Clipboard().Content(); !strings.Contains(got, "535 5.7.8") {
		t.Errorf("clipboard %q lacks the reply", got)
	}

	test.Tap(p.createPassword)
	if got := h.openedURLs(); !slices.Equal(got, []string{appleIDURL}) {
		t.Errorf("opened %q, want the Apple ID page", got)
	}
	test.Tap(p.openSettings)
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("Open Settings did not open the settings pane")
	}
	if h.w.win.Canvas().Focused() != h.w.settings.password {
		t.Errorf("focus on %T, want the password", h.w.win.Canvas().Focused())
	}
}

func TestCompose_FailureConnectTimeoutSwitchesTo465(t *testing.T) {
	err := &mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect, Detail: "no answer from smtp.mail.me.com port 587 within 15s"}
	h, d := failWith(t, icloudAccount(), err)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Switch to 465 (SSL/TLS) and retry"}) {
		t.Fatalf("fixes %q", got)
	}
	test.Tap(p.switchTo465)
	h.wait(eventSend)
	sends := h.mailer.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2", len(sends))
	}
	if a := sends[1].Account; a.Port != 465 || a.Security != mailer.ImplicitTLS {
		t.Errorf("retried on %d/%s, want 465/ssl", a.Port, a.Security)
	}
	if sends[1].Message.Subject != d.Subject {
		t.Errorf("retried a different message: %+v", sends[1].Message)
	}
	saved, lerr := mailer.LoadAccount(h.dir)
	if lerr != nil || saved.Port != 465 || saved.Security != mailer.ImplicitTLS {
		t.Errorf("account file has %d/%s (%v), want 465/ssl", saved.Port, saved.Security, lerr)
	}
	if h.w.settings.port.Text != "465" || h.w.settings.security.Selected != choiceSSL {
		t.Errorf("settings show %s / %s", h.w.settings.port.Text, h.w.settings.security.Selected)
	}
}

func TestCompose_FailureConnectTimeoutOn465HasNoSwitch(t *testing.T) {
	a := icloudAccount()
	a.Port, a.Security = 465, mailer.ImplicitTLS
	h, _ := failWith(t, a, &mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect})
	if got := fixes(h.w.compose); len(got) != 0 {
		t.Fatalf("fixes %q, want none", got)
	}
}

func TestCompose_FailureTLSModeSwitchesEncryption(t *testing.T) {
	a := icloudAccount()
	a.Security = mailer.ImplicitTLS // 587 with SSL/TLS: the classic mismatch
	err := &mailer.Error{Kind: mailer.KindTLSMode, Stage: mailer.StageTLS, Detail: "the server on port 587 did not answer in TLS; it expects STARTTLS"}
	h, _ := failWith(t, a, err)
	p := h.w.compose
	if got := fixes(p); !slices.Equal(got, []string{"Switch encryption and retry"}) {
		t.Fatalf("fixes %q", got)
	}
	test.Tap(p.switchTLS)
	h.wait(eventSend)
	sends := h.mailer.Sends()
	if len(sends) != 2 || sends[1].Account.Security != mailer.StartTLS || sends[1].Account.Port != 587 {
		t.Fatalf("retry: %+v", sends)
	}
	if saved, _ := mailer.LoadAccount(h.dir); saved.Security != mailer.StartTLS {
		t.Errorf("account file security %s, want starttls", saved.Security)
	}
}

func TestCompose_FailureRetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *mailer.Error
	}{
		{"temporary", &mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageSender, Reply: &mailer.Reply{Code: 451, Enhanced: "4.7.1", Text: "Service unavailable - try again later"}}},
		{"connection-lost", &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageData, Detail: "the server closed the connection"}},
		{"timeout", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageRcpt, Detail: "no answer from the server within 30s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, d := failWith(t, icloudAccount(), tc.err)
			p := h.w.compose
			if got := fixes(p); !slices.Equal(got, []string{"Retry"}) {
				t.Fatalf("fixes %q", got)
			}
			test.Tap(p.retry)
			h.wait(eventSend)
			sends := h.mailer.Sends()
			if len(sends) != 2 || sends[1].Message.Body != d.Body || sends[1].Account != sends[0].Account {
				t.Fatalf("retry sent %+v", sends)
			}
			if !p.draft().IsEmpty() || p.failure.box.Visible() {
				t.Error("a successful retry should clear the pane and the hint")
			}
		})
	}
}

func TestCompose_LostAfterUploadOffersNoRetry(t *testing.T) {
	err := &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}
	h, _ := failWith(t, icloudAccount(), err)
	if got := fixes(h.w.compose); len(got) != 0 {
		t.Fatalf("fixes %q: a message the server may have must not be resent with one click", got)
	}
	if !strings.Contains(h.w.compose.failure.hint.Text, "Sent folder") {
		t.Errorf("hint %q", h.w.compose.failure.hint.Text)
	}
}

func TestCompose_DoubleSendGuard(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	m := &fakeMailer{sendHook: func(ctx context.Context, progress func(mailer.StageResult)) error {
		progress(mailer.StageResult{Stage: mailer.StageResolve, OK: true})
		close(started)
		<-release
		return nil
	}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	p := h.w.compose
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Once", Body: "only once"})
	h.shortcut(ctrlEnter)
	<-started
	if !p.send.Disabled() || !p.cancel.Visible() {
		t.Error("while sending, Send should be disabled and Cancel shown")
	}
	if !strings.Contains(p.status.Text, "Connecting to smtp.mail.me.com port 587") {
		t.Errorf("progress %q", p.status.Text)
	}
	h.shortcut(ctrlEnter)
	h.shortcut(ctrlKeypadEnter)
	test.Tap(p.send)
	p.Send()
	p.retryWith(nil)
	close(release)
	h.wait(eventSend)
	if n := len(h.mailer.Sends()); n != 1 {
		t.Fatalf("%d sends, want exactly 1", n)
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
	<-started
	test.Tap(p.cancel)
	h.wait(eventSend)
	if !strings.Contains(p.status.Text, "Cancelled") {
		t.Errorf("status %q", p.status.Text)
	}
	if got := p.draft(); !got.Equal(d) {
		t.Errorf("draft changed by cancel: %+v", got)
	}
	if p.busy || p.send.Disabled() || p.failure.box.Visible() {
		t.Error("after cancel the pane should be ready, without a failure card")
	}
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
			h.wait(eventSend)
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
	if err := os.WriteFile(small, make([]byte, 3000), 0o600); err != nil {
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
	h.shortcut(ctrlEnter) // an attachment is there: no question
	h.wait(eventSend)
	if s := h.mailer.Sends(); len(s) != 1 || !slices.Equal(s[0].Message.Attachments, []string{small}) {
		t.Fatalf("sent %+v", s)
	}
	if len(p.attachments) != 0 || p.total.Text != "" {
		t.Error("attachments not cleared after the send")
	}
}

func TestCompose_NoPasswordGoesToKeychainError(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount()}) // no password stored
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("without a stored password the window should switch to Settings")
	}
	h.w.showCompose()
	p := h.w.compose
	h.typeDraft(Draft{To: "a@example.com", Subject: "s", Body: "b"})
	h.shortcut(ctrlEnter)
	h.wait(eventSend)
	if len(h.mailer.Sends()) != 0 {
		t.Fatal("sent without a password")
	}
	if got := fixes(p); !slices.Equal(got, []string{"Open Settings"}) {
		t.Errorf("fixes %q", got)
	}
}
