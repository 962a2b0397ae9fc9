package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// entryView shows an Outbox message that did not go (waiting after a
// failure, needing attention, or unconfirmed): what happened, the hint, and
// the fixes that fit, "Send now" one click away after them. The compose
// pane's tracker and the Outbox list both use one.
type entryView struct {
	w     *window
	box   *fyne.Container
	fail  *failureView
	entry store.Entry

	sendNow, sendAgain, moveToSent, edit, remove *widget.Button
	openSettings, createPassword                 *widget.Button
	switchTo465, switchTLS                       *widget.Button
}

func newEntryView(w *window) *entryView {
	v := &entryView{w: w}
	v.sendNow = widget.NewButtonWithIcon("Send now", theme.MailSendIcon(), func() { w.sendNow(v.entry.ID) })
	v.sendNow.Importance = widget.HighImportance
	v.sendAgain = widget.NewButtonWithIcon("Send again…", theme.MailSendIcon(), func() { w.sendAgain(v.entry) })
	v.moveToSent = widget.NewButtonWithIcon("Move to Sent", theme.ConfirmIcon(), func() { w.moveToSent(v.entry.ID) })
	v.edit = widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() { w.editEntry(v.entry.ID) })
	v.remove = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), func() { w.deleteEntry(v.entry) })
	v.openSettings = widget.NewButtonWithIcon("Open Settings", theme.SettingsIcon(), func() { w.showSettingsFor(v.entry.Last.Error()) })
	v.createPassword = widget.NewButtonWithIcon("Create app-specific password", theme.ComputerIcon(), w.openAppleID)
	v.switchTo465 = widget.NewButtonWithIcon("Switch to 465 (SSL/TLS) and send now", theme.MailSendIcon(), func() {
		a, _ := w.acct.get()
		a.Port, a.Security = mailer.ImplicitTLSPort, mailer.ImplicitTLS
		w.switchAndSend(v.entry.ID, a)
	})
	v.switchTLS = widget.NewButtonWithIcon("Switch encryption and send now", theme.MailSendIcon(), func() {
		a, _ := w.acct.get()
		if a.Security == mailer.StartTLS {
			a.Security = mailer.ImplicitTLS
		} else {
			a.Security = mailer.StartTLS
		}
		w.switchAndSend(v.entry.ID, a)
	})
	v.fail = newFailureView(w, v.openSettings, v.createPassword, v.switchTo465, v.switchTLS,
		v.sendNow, v.sendAgain, v.moveToSent, v.edit, v.remove)
	v.box = v.fail.box
	return v
}

// show shows e, which failed at least once or needs a decision.
func (v *entryView) show(e store.Entry) {
	v.entry = e
	err := e.Last.Error()
	if err == nil {
		err = &mailer.Error{Kind: mailer.KindUnknown, Detail: "not sent yet"}
	}
	kind := err.Kind
	a, _ := v.w.acct.get()
	waiting := e.State == store.StateWaiting
	attention := e.State == store.StateNeedsAttention
	unconfirmed := e.State == store.StateUnconfirmed
	setVisible(v.sendNow, waiting || attention)
	setVisible(v.sendAgain, unconfirmed)
	setVisible(v.moveToSent, unconfirmed)
	setVisible(v.edit, waiting || attention)
	setVisible(v.remove, e.State != store.StateSending)
	setVisible(v.openSettings, !unconfirmed && err.Fix() != "")
	setVisible(v.createPassword, kind == mailer.KindAuth)
	setVisible(v.switchTo465, kind == mailer.KindConnectTimeout && a.Port == mailer.StartTLSPort)
	setVisible(v.switchTLS, kind == mailer.KindTLSMode)
	outcome := "Not sent"
	switch {
	case unconfirmed:
		outcome = "Perhaps sent"
	case waiting:
		outcome = "Not sent yet"
	}
	v.fail.Show(outcome, err)
	if unconfirmed {
		hint := v.fail.hint.Text
		switch ch := e.Checked; {
		case ch != nil && ch.Err != nil:
			hint += "\nPostcard could not look for it in your Sent folder: " + ch.Err.Error().Hint()
		case ch != nil:
			hint = sentence(err.Detail) + "\n" + mailer.HintNotFoundInSent
		case v.w.d.SentFolder != nil && a.NoSentCopy == false:
			hint += "\nPostcard looks for it in your Sent folder in a moment."
		}
		v.fail.hint.SetText(hint)
	}
	if waiting && !e.NextTry.IsZero() {
		v.fail.hint.SetText(v.fail.hint.Text + "\n" + fmt.Sprintf("Postcard tries again at %s, or now with Send now.", clock(e.NextTry)))
	}
}

// clock is a time as the window shows it: the hour and minute, with the
// day when it is not today.
func clock(t time.Time) string {
	t = t.Local()
	now := time.Now()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("Jan 2, 15:04")
}

// recipientsSummary names the recipients for a confirmation: the first two
// by name, then how many more.
func recipientsSummary(rs []string) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		if j := strings.Index(r, " <"); j > 0 {
			r = r[:j]
		}
		names[i] = strings.Trim(r, `"`)
	}
	switch n := len(names); {
	case n == 0:
		return "nobody"
	case n == 1:
		return names[0]
	case n == 2:
		return names[0] + " and " + names[1]
	default:
		return fmt.Sprintf("%s, %s and %d more", names[0], names[1], n-2)
	}
}

// tracker follows the message sent last from the compose pane: the undo
// delay with its countdown, the upload, and then either the confirmation,
// which stays until the next message is started, or the failure with its
// fixes.
type tracker struct {
	w    *window
	box  *fyne.Container
	line *widget.Label
	undo *widget.Button
	// now sends at once, skipping the rest of the undo delay.
	now    *widget.Button
	cancel *widget.Button
	view   *entryView

	entry    store.Entry
	tracking bool
	sending  bool
	sentAt   time.Time
	tick     *time.Timer
}

func newTracker(w *window) *tracker {
	t := &tracker{w: w}
	t.line = widget.NewLabel("")
	t.line.Wrapping = fyne.TextWrapWord
	t.undo = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), func() { w.undoSend(t.entry.ID) })
	t.now = widget.NewButtonWithIcon("Send now", theme.MailSendIcon(), func() { w.sendNow(t.entry.ID) })
	t.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { w.cancelSend(t.entry.ID) })
	t.view = newEntryView(w)
	t.box = container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(t.undo, t.now, t.cancel), t.line), t.view.box)
	t.hideAll()
	return t
}

func (t *tracker) hideAll() {
	t.box.Hide()
	t.view.box.Hide()
	t.undo.Hide()
	t.now.Hide()
	t.cancel.Hide()
	t.stopTick()
}

func (t *tracker) stopTick() {
	if t.tick != nil {
		t.tick.Stop()
		t.tick = nil
	}
}

// track follows e, just queued.
func (t *tracker) track(e store.Entry) {
	t.entry, t.tracking, t.sending = e, true, false
	t.render()
}

// is reports whether the tracker follows the message id.
func (t *tracker) is(id string) bool { return t.tracking && t.entry.ID == id }

// render shows the tracked message as it stands.
func (t *tracker) render() {
	t.hideAll()
	if !t.tracking {
		return
	}
	e := t.entry
	t.box.Show()
	t.line.Importance = widget.MediumImportance
	subject := quoteSubject(e.Subject)
	switch {
	case t.sending:
		t.line.Text = fmt.Sprintf("Sending %s to %s…", subject, recipientsSummary(e.Recipients))
		t.cancel.Show()
	case e.State == store.StateWaiting && e.Last == nil && time.Now().Before(e.HoldUntil):
		left := time.Until(e.HoldUntil).Round(time.Second)
		t.line.Text = fmt.Sprintf("Sending %s in %d s", subject, int(left.Seconds()))
		t.undo.Show()
		t.now.Show()
		t.stopTick()
		t.tick = time.AfterFunc(time.Second, func() { t.w.do(t.render) })
	case e.State == store.StateWaiting && e.Last == nil:
		t.line.Text = fmt.Sprintf("Sending %s…", subject)
	case e.State == "":
		t.line.Importance = widget.SuccessImportance
		who := recipientsSummary(e.Recipients)
		if n := len(e.Recipients); n > 2 {
			who += fmt.Sprintf(" (%d recipients)", n)
		}
		t.line.Text = fmt.Sprintf("Sent %s to %s at %s.", subject, who, t.sentAt.Format("15:04"))
	default:
		t.line.Text = ""
		t.view.show(e)
	}
	t.line.Refresh()
	setVisible(t.line, t.line.Text != "")
}

// messageStarted hides a confirmation once the next message is begun; a
// message still on its way stays in view.
func (t *tracker) messageStarted() {
	if t.confirming() {
		t.tracking = false
		t.render()
	}
}

// confirming reports whether the tracker shows the confirmation of the
// message sent last, which the next message's first change takes away.
func (t *tracker) confirming() bool {
	return t.tracking && t.entry.State == "" && !t.sending
}

// quoteSubject is a subject as a confirmation names it.
func quoteSubject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "the message without subject"
	}
	return "“" + s + "”"
}
