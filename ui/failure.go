package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

// failureView shows a failure where the user is looking: what happened, the
// hint, the fixes its owner made visible, and the technical details (the
// server's reply) under an expander, selectable and copyable.
type failureView struct {
	w *window

	box     *fyne.Container // hidden while there is no failure
	title   *widget.Label
	hint    *widget.Label // what went wrong, then what to do
	reply   *widget.Label
	details *widget.Accordion
	copy    *widget.Button

	// report is what Copy puts on the clipboard.
	report string
}

// newFailureView builds a hidden failure view; actions are the owner's fix
// buttons, which the owner shows or hides for each failure.
func newFailureView(w *window, actions ...fyne.CanvasObject) *failureView {
	f := &failureView{w: w}
	f.title = widget.NewLabel("")
	f.title.TextStyle.Bold = true
	f.title.Importance = widget.DangerImportance
	f.title.Wrapping = fyne.TextWrapWord
	f.hint = widget.NewLabel("")
	f.hint.Wrapping = fyne.TextWrapWord

	f.reply = widget.NewLabel("")
	f.reply.Selectable = true
	f.reply.Wrapping = fyne.TextWrapWord
	f.reply.TextStyle.Monospace = true
	f.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.d.App.Clipboard().SetContent(f.report)
	})
	f.details = widget.NewAccordion(widget.NewAccordionItem("Details",
		container.NewBorder(nil, nil, nil, container.NewVBox(f.copy), f.reply)))

	icon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	body := container.NewVBox(f.title, f.hint, container.NewHBox(actions...), f.details)
	f.box = container.NewVBox(widget.NewCard("", "", container.NewBorder(nil, nil, container.NewVBox(icon), nil, body)))
	f.box.Hide()
	return f
}

// Show shows err after outcome ("Not sent"): its title and hint when it is
// an *mailer.Error, its text otherwise.
func (f *failureView) Show(outcome string, err error) {
	var e *mailer.Error
	if !errors.As(err, &e) {
		e = &mailer.Error{Kind: mailer.KindUnknown, Err: err}
	}
	f.title.SetText(outcome + ": " + lowerFirst(mailer.HintFor(e.Kind).Title))
	hint := e.Hint()
	if e.Detail != "" {
		// One label, two lines: tighter than two labels.
		hint = sentence(e.Detail) + "\n" + hint
	}
	f.hint.SetText(hint)
	f.report = failureReport(e, err)
	// The server's own words when there are some; Copy takes everything.
	if e.Reply != nil {
		f.reply.SetText(e.Reply.String())
	} else {
		f.reply.SetText(err.Error())
	}
	f.details.CloseAll()
	// A message or account that failed its own checks has nothing more
	// to tell than the line above.
	setVisible(f.details, e.Stage != mailer.StageValidate)
	f.box.Show()
}

// Hide hides the view and its text.
func (f *failureView) Hide() {
	f.box.Hide()
	f.report = ""
}

// failureReport is the text under Details: what a bug report or a support
// question needs, never the password (a *mailer.Error never holds it).
func failureReport(e *mailer.Error, err error) string {
	var b strings.Builder
	if e.Reply != nil {
		fmt.Fprintf(&b, "Server reply: %s\n", e.Reply)
	}
	if e.Stage != "" {
		fmt.Fprintf(&b, "Stage: %s\n", e.Stage)
	}
	fmt.Fprintf(&b, "Kind: %s\n", e.Kind)
	fmt.Fprintf(&b, "Error: %s", err)
	return b.String()
}

// question is a modal yes/no question whose buttons are fields, so tests
// can tap them. The safe answer (the one that changes nothing that cannot
// be changed back) is the default: highlighted and focused, so Space and
// Enter give it, and Escape gives it from either button. Once answered,
// the focus goes back where it was, unless the answer put it elsewhere.
type question struct {
	d       *dialog.CustomDialog
	win     fyne.Window
	yes, no *button
}

// newQuestion shows a question over win; answer gets true for yes. safe is
// the safe answer. answer is called once, after the dialog is hidden.
func newQuestion(win fyne.Window, title, message, yes, no string, safe bool, answer func(bool)) *question {
	q := &question{win: win}
	msg := widget.NewLabel(message)
	msg.Wrapping = fyne.TextWrapWord
	q.d = dialog.NewCustomWithoutButtons(title, msg, win)
	prev := win.Canvas().Focused()
	answered := false
	reply := func(ok bool) {
		// A button pressed with Space also sends a typed space, which
		// would land in the field focused once the dialog is gone. On the
		// UI goroutine fyne.Do runs after the pending input, so the space
		// goes to the button, which ignores it.
		fyne.Do(func() {
			if answered {
				return
			}
			answered = true
			q.d.Hide()
			if prev != nil {
				win.Canvas().Focus(prev)
			}
			answer(ok)
		})
	}
	q.no = newButton(no, theme.NavigateBackIcon(), func() { reply(false) })
	q.yes = newButton(yes, theme.ConfirmIcon(), func() { reply(true) })
	q.yes.onEscape = func() { reply(safe) }
	q.no.onEscape = q.yes.onEscape
	def := q.no
	if safe {
		def = q.yes
	}
	def.Importance = widget.HighImportance
	q.d.SetButtons([]fyne.CanvasObject{q.no, q.yes})
	// Wide enough for the message to wrap into a few lines, not one word
	// a line.
	q.d.Resize(fyne.NewSize(min(520, win.Canvas().Size().Width*0.9), 0))
	q.d.Show()
	win.Canvas().Focus(def)
	return q
}

// say shows text in a status line with the importance given; an empty text
// hides the line so it leaves no gap.
func say(l *widget.Label, importance widget.Importance, text string) {
	l.Importance = importance
	l.Text = text
	l.Refresh()
	setVisible(l, text != "")
}

// sentence makes a lowercase detail such as mailer's Error.Detail read as a
// sentence: capitalised, with a full stop.
func sentence(s string) string {
	s = capitalize(strings.TrimSpace(s))
	if s != "" && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// lowerFirst lowers the first letter of a title to follow "Not sent: ",
// leaving names such as "iCloud" alone.
func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z') {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}
