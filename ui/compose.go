package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

// composePane is where a message is written and sent. Only the widgets that
// later code reads are fields.
type composePane struct {
	w *window

	from                 *widget.Label
	to, cc, bcc          *widget.Entry
	toErr, ccErr, bccErr *widget.Label
	subject, body        *widget.Entry

	addFile       *widget.Button
	attachList    *fyne.Container
	removeButtons []*widget.Button // one per attachment, in order
	total         *widget.Label

	failure                       *failureView
	openSettings, createPassword  *widget.Button
	switchTo465, switchTLS, retry *widget.Button
	status                        *widget.Label
	activity                      *widget.Activity
	send, cancel                  *widget.Button
	question                      *question // the open "send anyway?" question, if any

	content fyne.CanvasObject

	attachments []attachment
	// busy is set while a send is being confirmed or is under way: Send
	// does nothing then, so a message is never sent twice. Only the UI
	// goroutine reads or writes it.
	busy bool
	stop context.CancelFunc
	// loading is set while the fields are filled from a draft, which is
	// not a change to save.
	loading bool
}

// attachment is one file to send; size is read when it is added.
type attachment struct {
	path    string
	size    int64
	err     error // why the file cannot be sent, if it cannot
	pending bool  // not looked at yet (see statLater)
}

func newComposePane(w *window) *composePane {
	p := &composePane{w: w}

	p.from = widget.NewLabel("")
	p.from.Truncation = fyne.TextTruncateEllipsis
	p.to, p.toErr = p.addressField("Ann <ann@example.com>, bob@example.org")
	p.cc, p.ccErr = p.addressField("")
	p.bcc, p.bccErr = p.addressField("")
	p.subject = widget.NewEntry()
	p.subject.OnChanged = func(string) { p.changed() }
	p.body = widget.NewMultiLineEntry()
	p.body.Wrapping = fyne.TextWrapWord
	p.body.SetPlaceHolder("Write your message. Ctrl+Enter sends it.")
	p.body.OnChanged = func(string) { p.changed() }

	// The header is built in Tab order: To, Cc, Bcc, Subject, then Body.
	header := container.New(layout.NewFormLayout(),
		fieldLabel("From"), p.from,
		fieldLabel("To"), container.NewVBox(p.to, p.toErr),
		fieldLabel("Cc"), container.NewVBox(p.cc, p.ccErr),
		fieldLabel("Bcc"), container.NewVBox(p.bcc, p.bccErr),
		fieldLabel("Subject"), p.subject,
	)

	p.addFile = widget.NewButtonWithIcon("Attach files…", theme.MailAttachmentIcon(), p.chooseFiles)
	p.total = widget.NewLabel("")
	p.attachList = container.NewVBox()
	p.openSettings = widget.NewButtonWithIcon("Open Settings", theme.SettingsIcon(), func() { w.showSettings(w.settings.password) })
	p.createPassword = widget.NewButtonWithIcon("Create app-specific password", theme.ComputerIcon(), w.openAppleID)
	p.switchTo465 = widget.NewButtonWithIcon("Switch to 465 (SSL/TLS) and retry", theme.MailSendIcon(), func() {
		a := w.account
		a.Port, a.Security = mailer.ImplicitTLSPort, mailer.ImplicitTLS
		p.retryWith(&a)
	})
	p.switchTLS = widget.NewButtonWithIcon("Switch encryption and retry", theme.MailSendIcon(), func() {
		a := w.account
		if a.Security == mailer.StartTLS {
			a.Security = mailer.ImplicitTLS
		} else {
			a.Security = mailer.StartTLS
		}
		p.retryWith(&a)
	})
	p.retry = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { p.retryWith(nil) })
	p.failure = newFailureView(w, p.openSettings, p.createPassword, p.switchTo465, p.switchTLS, p.retry)

	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	p.activity = widget.NewActivity()
	p.activity.Hide()
	p.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), p.Cancel)
	p.cancel.Hide()
	p.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), p.Send)
	p.send.Importance = widget.HighImportance
	actions := container.NewBorder(nil, nil, container.NewHBox(p.addFile, p.total), container.NewHBox(p.activity, p.cancel, p.send))

	footer := container.NewVBox(p.attachList, p.failure.box, p.status, actions)
	// A border layout given its objects in this order keeps the focus chain
	// header, body, footer while the body takes the free space.
	p.content = container.NewPadded(container.New(layout.NewBorderLayout(header, footer, nil, nil), header, p.body, footer))

	p.showFrom()
	p.refreshAttachments()
	return p
}

// fieldLabel is the name of a field in a form, aligned with the field.
func fieldLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Alignment = fyne.TextAlignTrailing
	return l
}

// addressField is an entry checked as typed, and the label under it that
// names the item that is not an address.
func (p *composePane) addressField(placeholder string) (*widget.Entry, *widget.Label) {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.Validator = func(s string) error {
		_, err := mailer.ParseAddressList(s)
		return err
	}
	msg := errorLabel()
	e.OnChanged = func(s string) {
		showError(msg, e.Validator(s))
		p.changed()
	}
	return e, msg
}

// errorLabel is a hidden label for a field's problem, shown by showError.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func showError(l *widget.Label, err error) {
	if err == nil {
		l.Hide()
		l.SetText("")
		return
	}
	l.SetText(capitalize(err.Error()))
	l.Show()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// showFrom shows the account's sender address.
func (p *composePane) showFrom() {
	a := p.w.account
	switch {
	case !p.w.hasAccount:
		p.from.SetText("No account yet: set it up in Settings")
	case a.DisplayName != "":
		p.from.SetText(fmt.Sprintf("%s <%s>", a.DisplayName, a.FromAddress()))
	default:
		p.from.SetText(a.FromAddress())
	}
}

// draft is what the fields hold now.
func (p *composePane) draft() Draft {
	d := Draft{To: p.to.Text, Cc: p.cc.Text, Bcc: p.bcc.Text, Subject: p.subject.Text, Body: p.body.Text}
	for _, a := range p.attachments {
		d.Attachments = append(d.Attachments, a.path)
	}
	return d
}

// setDraft fills the fields from d without treating it as a change.
func (p *composePane) setDraft(d Draft) {
	p.loading = true
	defer func() { p.loading = false }()
	p.to.SetText(d.To)
	p.cc.SetText(d.Cc)
	p.bcc.SetText(d.Bcc)
	p.subject.SetText(d.Subject)
	p.body.SetText(d.Body)
	p.attachments = nil
	for _, path := range d.Attachments {
		p.attachments = append(p.attachments, attachment{path: path, pending: true})
	}
	// Their sizes are looked up when the window starts (window.start).
	p.refreshAttachments()
}

// changed hands the draft to the autosaver after each edit.
func (p *composePane) changed() {
	if p.loading {
		return
	}
	p.w.drafts.Changed(p.draft())
	// The last confirmation belongs to the message before this one.
	if p.status.Importance == widget.SuccessImportance {
		say(p.status, widget.MediumImportance, "")
	}
}

func (p *composePane) focus() {
	p.w.win.Canvas().Focus(p.to)
}

func statAttachment(path string) attachment {
	a := attachment{path: path}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		a.err = errors.New("cannot be read")
	case fi.IsDir():
		a.err = errors.New("is a folder")
	default:
		a.size = fi.Size()
	}
	return a
}

// addAttachments attaches files, skipping ones already attached.
func (p *composePane) addAttachments(paths []string) {
	var added []string
	for _, path := range paths {
		dup := false
		for _, a := range p.attachments {
			dup = dup || a.path == path
		}
		if !dup {
			p.attachments = append(p.attachments, attachment{path: path, pending: true})
			added = append(added, path)
		}
	}
	p.refreshAttachments()
	p.changed()
	p.statLater(added)
}

// statLater looks at the files off the UI goroutine (a file on a network
// mount that hangs must not freeze the window) and fills in their sizes.
func (p *composePane) statLater(paths []string) {
	if len(paths) == 0 {
		return
	}
	go func() {
		found := statAttachments(paths)
		fyne.Do(func() {
			p.applyStats(found)
			p.w.note(eventAttachments)
		})
	}()
}

// pendingPaths are the attachments whose files have not been looked at.
func (p *composePane) pendingPaths() []string {
	var out []string
	for _, a := range p.attachments {
		if a.pending {
			out = append(out, a.path)
		}
	}
	return out
}

func statAttachments(paths []string) []attachment {
	found := make([]attachment, len(paths))
	for i, path := range paths {
		found[i] = statAttachment(path)
	}
	return found
}

// applyStats shows what statAttachments found, for the attachments still
// listed and not looked at yet.
func (p *composePane) applyStats(found []attachment) {
	for _, f := range found {
		for i := range p.attachments {
			if p.attachments[i].path == f.path && p.attachments[i].pending {
				p.attachments[i] = f
			}
		}
	}
	p.refreshAttachments()
}

func (p *composePane) removeAttachment(i int) {
	p.attachments = append(p.attachments[:i:i], p.attachments[i+1:]...)
	p.refreshAttachments()
	p.changed()
}

func (p *composePane) chooseFiles() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		p.addAttachments([]string{path})
	}, p.w.win)
	d.Show()
	// Its default size shows a handful of files; use most of the window.
	size := p.w.win.Canvas().Size()
	d.Resize(fyne.NewSize(size.Width*0.9, size.Height*0.85))
}

// rawTotal is the size of the attached files before encoding.
func (p *composePane) rawTotal() int64 {
	var n int64
	for _, a := range p.attachments {
		n += a.size
	}
	return n
}

// refreshAttachments rebuilds the list and the running total against
// iCloud's 20 MB limit, counted after encoding as iCloud counts it.
func (p *composePane) refreshAttachments() {
	p.attachList.RemoveAll()
	p.removeButtons = p.removeButtons[:0]
	for i, a := range p.attachments {
		name := widget.NewLabel(filepath.Base(a.path))
		name.Truncation = fyne.TextTruncateEllipsis
		size := widget.NewLabel(mailer.FormatSize(a.size))
		if a.pending {
			size.SetText("…")
		}
		if a.err != nil {
			size.SetText(a.err.Error())
			size.Importance = widget.DangerImportance
		}
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { p.removeAttachment(i) })
		remove.Importance = widget.LowImportance
		p.removeButtons = append(p.removeButtons, remove)
		p.attachList.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), container.NewHBox(size, remove), name))
	}
	if len(p.attachments) == 0 {
		p.total.SetText("")
		p.total.Importance = widget.MediumImportance
		p.total.Refresh()
		return
	}
	est := mailer.EstimateEncodedSize(p.rawTotal())
	text := fmt.Sprintf("%s of 20 MB, as sent", mailer.FormatSize(est))
	p.total.Importance = widget.MediumImportance
	if est > mailer.MaxMessageBytes {
		text += ": too large for iCloud"
		p.total.Importance = widget.DangerImportance
	}
	p.total.SetText(text)
}

// clear empties the pane for the next message.
func (p *composePane) clear() {
	p.setDraft(Draft{})
	for _, l := range []*widget.Label{p.toErr, p.ccErr, p.bccErr} {
		showError(l, nil)
	}
}

// Send asks about a missing attachment or an empty subject, then sends the
// draft in the background. While a send is being confirmed or is under way
// it does nothing.
func (p *composePane) Send() {
	if p.busy {
		return
	}
	d := p.draft()
	if err := d.Validate(); err != nil {
		p.showResult(err)
		return
	}
	var asks []func(next func())
	if d.MentionsAttachment() && len(d.Attachments) == 0 {
		asks = append(asks, func(next func()) {
			p.ask("Send without an attachment?",
				"The message mentions an attachment, but no file is attached.",
				p.addFile, next)
		})
	}
	if strings.TrimSpace(d.Subject) == "" {
		asks = append(asks, func(next func()) {
			p.ask("Send without a subject?", "The subject is empty.", p.subject, next)
		})
	}
	p.busy = true
	var step func(i int)
	step = func(i int) {
		if i == len(asks) {
			p.start(d, nil)
			return
		}
		asks[i](func() { step(i + 1) })
	}
	step(0)
}

// ask shows a question; "Send anyway" runs next, "Go back" ends the send
// and focuses back.
func (p *composePane) ask(title, message string, back fyne.Focusable, next func()) {
	p.question = newQuestion(p.w.win, title, message, "Send anyway", "Go back", func(ok bool) {
		p.question = nil
		if ok {
			next()
			return
		}
		p.busy = false
		p.w.win.Canvas().Focus(back)
	})
}

// retryWith sends the current draft again without the questions, after
// switching the account to a when a is not nil.
func (p *composePane) retryWith(a *mailer.Account) {
	if p.busy {
		return
	}
	d := p.draft()
	if err := d.Validate(); err != nil {
		p.showResult(err)
		return
	}
	if a != nil {
		p.w.setAccount(*a)
	}
	p.busy = true
	p.start(d, a)
}

// start sends d in the background; saveAccount, when set, is written to the
// account file first. It must run with busy set.
func (p *composePane) start(d Draft, saveAccount *mailer.Account) {
	a := p.w.account
	if err := a.Validate(); err != nil {
		p.busy = false
		p.showResult(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.failure.Hide()
	say(p.status, widget.MediumImportance, "Connecting to "+a.Host+"…")
	p.activity.Show()
	p.activity.Start()
	p.send.Disable()
	p.cancel.Enable()
	p.cancel.Show()

	password := p.w.sessionPassword
	secrets, m, dir := p.w.d.Secrets, p.w.d.Mailer, p.w.d.ConfigDir
	progress := func(r mailer.StageResult) {
		fyne.Do(func() {
			// Nothing overwrites "Cancelling…" or the outcome.
			if t := progressText(r, a); t != "" && p.stop != nil && !p.cancel.Disabled() {
				say(p.status, widget.MediumImportance, t)
			}
		})
	}
	go func() {
		var saveErr error
		if saveAccount != nil {
			saveErr = mailer.SaveAccount(dir, *saveAccount)
		}
		var (
			res *mailer.Result
			err error
		)
		if password == "" {
			password, err = secrets.Get(ctx, a.Username)
		}
		if err == nil {
			res, err = m.Send(ctx, a, password, d.Message(), progress)
		}
		fyne.Do(func() {
			p.finished(d, res, err, saveErr)
			p.w.note(eventSend)
		})
	}()
}

// Cancel stops the send under way. The widgets are updated before the
// context is cancelled, so nothing here runs after the send has returned.
func (p *composePane) Cancel() {
	if p.stop == nil {
		return
	}
	say(p.status, widget.MediumImportance, "Cancelling…")
	p.cancel.Disable()
	p.stop()
}

// finished shows how the send of d went.
func (p *composePane) finished(d Draft, res *mailer.Result, err, saveErr error) {
	p.stop = nil
	p.busy = false
	p.activity.Stop()
	p.activity.Hide()
	p.cancel.Hide()
	p.send.Enable()
	if err != nil {
		p.showResult(err)
		return
	}
	who := d.Recipients()
	if len(who) == 0 && res != nil {
		who = res.Recipients
	}
	msg := fmt.Sprintf("Sent to %s at %s.", strings.Join(who, ", "), p.w.d.Now().Format("15:04"))
	if saveErr != nil {
		msg += " The new port could not be saved in the account file: " + saveErr.Error()
	}
	// Whatever was typed while the message was on its way is kept.
	if p.draft().Equal(d) {
		p.clear()
		p.w.drafts.Discard()
		p.focus()
	}
	say(p.status, widget.SuccessImportance, msg)
}

// showResult shows a failed send in the pane, with the fixes that fit it.
// The draft is left exactly as it is.
func (p *composePane) showResult(err error) {
	var e *mailer.Error
	errors.As(err, &e)
	if mailer.KindOf(err) == mailer.KindCancelled {
		p.failure.Hide()
		if e != nil && e.Stage == mailer.StageAccepted {
			say(p.status, widget.WarningImportance, "Cancelled after the upload: the server may have the message. Look in the Sent folder before you send it again.")
		} else {
			say(p.status, widget.MediumImportance, "Cancelled. The message was not sent.")
		}
		return
	}
	say(p.status, widget.MediumImportance, "")
	kind := mailer.KindOf(err)
	setVisible(p.openSettings, kind == mailer.KindAuth || kind == mailer.KindKeychain ||
		kind == mailer.KindInvalidAccount || kind == mailer.KindSenderRejected ||
		kind == mailer.KindDNS || kind == mailer.KindConnectRefused || kind == mailer.KindTLSUnavailable)
	setVisible(p.createPassword, kind == mailer.KindAuth)
	setVisible(p.switchTo465, kind == mailer.KindConnectTimeout && p.w.account.Port == mailer.StartTLSPort)
	setVisible(p.switchTLS, kind == mailer.KindTLSMode)
	// A send that may have reached the server is not retried with one
	// click: the message would arrive twice.
	setVisible(p.retry, (kind == mailer.KindTemporary || kind == mailer.KindConnectionLost || kind == mailer.KindTimeout) &&
		(e == nil || e.Stage != mailer.StageAccepted))
	outcome := "Not sent"
	if e != nil && e.Stage == mailer.StageAccepted {
		outcome = "Perhaps sent"
	}
	p.failure.Show(outcome, err)
}

func setVisible(o fyne.CanvasObject, v bool) {
	if v {
		o.Show()
	} else {
		o.Hide()
	}
}

// progressText says, after stage r of a session with a ended well, what
// happens next, in the user's words.
func progressText(r mailer.StageResult, a mailer.Account) string {
	if !r.OK {
		return ""
	}
	starttls := a.Security == mailer.StartTLS
	switch r.Stage {
	case mailer.StageResolve:
		return fmt.Sprintf("Connecting to %s port %d…", a.Host, a.Port)
	case mailer.StageConnect:
		if starttls {
			return "Waiting for the server's greeting…"
		}
		return "Securing the connection (SSL/TLS)…"
	case mailer.StageGreeting:
		if starttls {
			return "Securing the connection (STARTTLS)…"
		}
		return "Signing in as " + a.Username + "…"
	case mailer.StageTLS:
		if starttls {
			return "Signing in as " + a.Username + "…"
		}
		return "Waiting for the server's greeting…"
	case mailer.StageLogin:
		return "Signed in. Sending…"
	case mailer.StageSender, mailer.StageRcpt:
		return "Uploading the message…"
	case mailer.StageData:
		return "Waiting for the server to accept the message…"
	}
	return ""
}
