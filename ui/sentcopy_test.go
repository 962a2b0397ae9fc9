package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// The copy in the Sent folder comes after the confirmation, in the
// background; its state shows in the Sent list, and a failed one has Try
// again. It never changes the message: it was sent.
func TestSentCopy_AfterTheConfirmation(t *testing.T) {
	full := &mailer.Error{Kind: mailer.KindMailboxFull, Stage: mailer.StageAppend, Protocol: mailer.ProtocolIMAP,
		Detail: "the server said: NO [OVERQUOTA] Quota exceeded"}
	folder := newFakeSentFolder()
	folder.fileErrs = []error{full}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, sentFolder: folder})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Copy me", Body: "x"})
	h.sendAndWait()
	p := h.w.compose
	if !strings.HasPrefix(p.tracker.line.Text, "Sent “Copy me”") {
		t.Fatalf("tracker %q", p.tracker.line.Text)
	}
	h.wait(eventCopy)
	h.until("the Sent list", func() bool {
		return len(h.w.sent.items) == 1 && h.w.sent.items[0].Copy != nil && h.w.sent.items[0].Copy.Status == store.CopyFailed
	})
	if !strings.HasPrefix(p.tracker.line.Text, "Sent “Copy me”") {
		t.Errorf("a failed copy changed the confirmation: %q", p.tracker.line.Text)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Fatalf("a failed copy put the message back: %+v", ob)
	}
	sp := h.w.sent
	sp.list.Select(0)
	if !sp.retryCopy.Visible() || !strings.Contains(sp.copyNote.Text, "iCloud storage is full") {
		t.Fatalf("note %q, Try again shown %v", sp.copyNote.Text, sp.retryCopy.Visible())
	}
	test.Tap(sp.retryCopy)
	h.wait(eventCopy)
	h.until("the copy filed", func() bool {
		return len(sp.items) == 1 && sp.items[0].Copy != nil && sp.items[0].Copy.Status == store.CopyFiled
	})
	if folder.Filed() != 1 || len(h.mailer.Sends()) != 1 {
		t.Errorf("filed %d copies, sent %d times", folder.Filed(), len(h.mailer.Sends()))
	}
	if sp.retryCopy.Visible() {
		t.Error("Try again still shown")
	}
}

// An unconfirmed message found in the Sent folder was delivered: it moves
// to Sent and the tracker says so.
func TestSentCopy_UnconfirmedFound(t *testing.T) {
	folder := newFakeSentFolder()
	folder.found = true
	m := &fakeMailer{sendErrs: []error{&mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, sentFolder: folder, mailer: m})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Lost", Body: "x"})
	h.sendAndWait()
	h.wait(eventResolved)
	p := h.w.compose
	if !strings.Contains(p.tracker.line.Text, "it was delivered") {
		t.Errorf("tracker %q", p.tracker.line.Text)
	}
	if ob, _ := h.st.Outbox(); len(ob) != 0 {
		t.Errorf("outbox %+v", ob)
	}
	if sent, _ := h.st.Sent(); len(sent) != 1 || sent[0].Copy == nil || sent[0].Copy.Status != store.CopyAlreadyThere {
		t.Errorf("Sent %+v", sent)
	}
}

func TestSentCopy_UnconfirmedNotFoundCannotBeKnown(t *testing.T) {
	folder := newFakeSentFolder()
	m := &fakeMailer{sendErrs: []error{&mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageAccepted}}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, sentFolder: folder, mailer: m})
	h.typeDraft(Draft{To: "ann@example.com", Subject: "Lost", Body: "x"})
	h.sendAndWait()
	h.wait(eventResolved)
	p := h.w.compose
	h.until("the hint", func() bool { return strings.Contains(p.tracker.view.fail.hint.Text, mailer.HintNotFoundInSent) })
	if ob, _ := h.st.Outbox(); len(ob) != 1 || ob[0].State != store.StateUnconfirmed {
		t.Errorf("outbox %+v", ob)
	}
}

func TestSettings_TestConnectionChecksTheSentFolder(t *testing.T) {
	folder := newFakeSentFolder()
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, sentFolder: folder})
	p := h.w.settings
	test.Tap(p.test)
	h.wait(eventCheck)
	h.wait(eventCheck)
	if folder.checks != 1 || !p.imapChecklist.box.Visible() {
		t.Fatalf("IMAP checked %d times, rows shown %v", folder.checks, p.imapChecklist.box.Visible())
	}
	for _, r := range p.imapChecklist.rows {
		if r.state != rowOK {
			t.Errorf("row %q: %v", r.name, r.state)
		}
	}
	if !strings.Contains(p.imapChecklist.rows[0].name, "imap.mail.me.com:993") {
		t.Errorf("row %q", p.imapChecklist.rows[0].name)
	}
	// A missing Sent folder is a crossed row with its hint.
	folder.checkErr = &mailer.Error{Kind: mailer.KindSentFolderMissing, Stage: mailer.StageFolder, Protocol: mailer.ProtocolIMAP}
	test.Tap(p.test)
	h.wait(eventCheck)
	h.wait(eventCheck)
	if r := p.imapChecklist.rows[1]; r.state != rowFailed || !strings.Contains(r.hint.Text, "never creates folders") {
		t.Errorf("folder row %v %q", r.state, r.hint.Text)
	}
	if !strings.Contains(p.status.Text, "Sending works") {
		t.Errorf("status %q", p.status.Text)
	}
	// Turning the copy off saves it and hides the IMAP settings.
	p.sentCopy.SetChecked(false)
	if p.imapBox.Visible() || !p.settings().Account.NoSentCopy {
		t.Error("the copy is still on")
	}
}
