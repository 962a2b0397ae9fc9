package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
	"github.com/postcard-mail/postcard/ui/editor"
)

// composePane is where a message is written and sent. Send freezes the
// message into the Outbox and frees the pane for the next one at once; the
// tracker under the fields follows the message sent last (undo, progress,
// the confirmation, a failure's fixes). Only the widgets that later code
// reads are fields.
type composePane struct {
	w *window

	// from is the From picker: the account's addresses, the default
	// first; fromNote stands in for it while there is no account.
	from                 *widget.Select
	fromNote             *widget.Label
	fromIDs              []mailer.Identity
	to, cc, bcc          *addressEntry
	toErr, ccErr, bccErr *widget.Label
	subject              *widget.Entry
	body                 *editor.Editor

	addFile       *widget.Button
	attachList    *fyne.Container
	removeButtons []*widget.Button // one per attachment, in order
	total         *widget.Label

	// failure shows why the message in the pane cannot be sent as it is
	// (a bad address, no account, a missing file): nothing was queued.
	failure      *failureView
	openSettings *widget.Button
	status       *widget.Label // the draft's own state (saving failed, ...)
	note         *widget.Label // calm notes, such as nothing to send
	activity     *widget.Activity
	send         *button
	question     *question // the open "send anyway?" question, if any
	tracker      *tracker

	content fyne.CanvasObject

	attachments []attachment
	// busy is set while a send is being confirmed or frozen into the
	// Outbox: Send does nothing then, so a message is never queued twice.
	// Only the UI goroutine reads or writes it.
	busy bool
	// loading is set while the fields are filled from a draft, which is
	// not a change to save.
	loading bool
	// saver writes the draft in the pane; it holds the draft's lock.
	saver *autosaver
	// lastErr is the failure shown, for the fix that lands on its field.
	lastErr error
	// signature is the signature in the body now (the chosen From's);
	// startBody is what a new message started with, so that a message
	// holding no more than its signature counts as empty.
	signature, startBody string
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

	p.from = widget.NewSelect(nil, func(string) { p.fromChanged() })
	p.fromNote = widget.NewLabel("")
	p.fromNote.Truncation = fyne.TextTruncateEllipsis
	p.to, p.toErr = p.addressField("Ann <ann@example.com>, bob@example.org")
	p.cc, p.ccErr = p.addressField("")
	p.bcc, p.bccErr = p.addressField("")
	p.subject = widget.NewEntry()
	p.subject.OnChanged = func(text string) {
		// A subject is one line: pasted line breaks become spaces, and
		// the pane says so.
		if strings.ContainsAny(text, "\r\n") {
			joined := strings.Join(strings.Fields(text), " ")
			p.subject.SetText(joined)
			say(p.note, widget.MediumImportance, "The subject is one line: its line breaks became spaces.")
			return
		}
		p.changed()
	}
	// The body is Postcard's own editor: Fyne's multi-line Entry lays out
	// the whole text on every key, which stops typing in long messages.
	p.body = editor.New()
	p.body.SetPlaceHolder("Write your message. Ctrl+Enter sends it; Shift+Tab goes back to the subject, Ctrl+Tab on to the buttons.")
	p.body.OnChanged = p.changed

	// The header is built in Tab order: To, Cc, Bcc, Subject, then Body.
	header := container.New(layout.NewFormLayout(),
		fieldLabel("From"), container.NewStack(p.from, p.fromNote),
		fieldLabel("To"), p.to.box(p.toErr),
		fieldLabel("Cc"), p.cc.box(p.ccErr),
		fieldLabel("Bcc"), p.bcc.box(p.bccErr),
		fieldLabel("Subject"), p.subject,
	)

	p.addFile = widget.NewButtonWithIcon("Attach files…", theme.MailAttachmentIcon(), p.chooseFiles)
	p.total = widget.NewLabel("")
	p.attachList = container.NewVBox()
	p.openSettings = widget.NewButtonWithIcon("Open Settings", theme.SettingsIcon(), func() { w.showSettingsFor(p.lastErr) })
	p.failure = newFailureView(w, p.openSettings)

	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	p.note = widget.NewLabel("")
	p.note.Wrapping = fyne.TextWrapWord
	p.note.Hide()
	p.activity = widget.NewActivity()
	p.activity.Hide()
	p.send = newButton("Send", theme.MailSendIcon(), p.Send)
	p.send.Importance = widget.HighImportance
	actions := container.NewBorder(nil, nil, container.NewHBox(p.addFile, p.total), container.NewHBox(p.activity, p.send))
	p.tracker = newTracker(w)

	// What comes and goes under the body (attachments, cards, notes) has
	// room of its own that scrolls: it never raises the window's minimum
	// size, so the window never outgrows the screen.
	attachments := capped(p.attachList, 3.5*p.addFile.MinSize().Height)
	messages := capped(container.NewVBox(p.failure.box, p.status, p.note, p.tracker.box), 190)
	footer := container.NewVBox(attachments, actions, messages)
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
func (p *composePane) addressField(placeholder string) (*addressEntry, *widget.Label) {
	e := newAddressEntry()
	e.SetPlaceHolder(placeholder)
	e.suggest = newSuggester(p.w, e)
	e.count = widget.NewLabel("")
	e.count.Importance = widget.LowImportance
	e.count.Hide()
	// Checked by hand, not as the Entry's Validator, whose tick and cross
	// would judge every keystroke.
	validate := func(s string) error {
		_, err := mailer.ParseAddressList(s)
		return err
	}
	msg := errorLabel()
	// An address is checked when the field is left, or after a pause in
	// the typing: "carol@" is not an error while it is being typed. An
	// error shown goes as soon as the list is right.
	var pause *time.Timer
	check := func() {
		if pause != nil {
			pause.Stop()
		}
		if e.suggest.open() {
			return // the address is being chosen
		}
		showError(msg, validate(e.Text))
	}
	e.onLeft = check
	e.OnChanged = func(s string) {
		if pause != nil {
			pause.Stop()
		}
		if !p.loading && p.w.win.Canvas().Focused() == fyne.Focusable(e) {
			e.suggest.typed(s)
		}
		n := countText(s, e)
		e.count.SetText(n)
		setVisible(e.count, n != "")
		if msg.Visible() && validate(s) == nil {
			showError(msg, nil)
		} else {
			pause = time.AfterFunc(addressPause, func() { p.w.do(check) })
		}
		p.changed()
	}
	return e, msg
}

// addressPause is how long typing in an address field stops before the
// field is checked.
const addressPause = 1500 * time.Millisecond

// addressEntry is a recipient field: an Entry that says when the focus
// leaves it, completes addresses (see suggester) and says how many it
// holds when they do not all show.
type addressEntry struct {
	widget.Entry
	onLeft  func()
	suggest *suggester
	count   *widget.Label
}

// box is the field as the form shows it: the entry with its count, the
// suggestions under it, then its error.
func (e *addressEntry) box(err *widget.Label) fyne.CanvasObject {
	return container.NewVBox(container.NewBorder(nil, nil, nil, e.count, e), e.suggest.box, err)
}

// TypedKey gives the keys to the suggestions while they show.
func (e *addressEntry) TypedKey(ev *fyne.KeyEvent) {
	if e.suggest != nil && e.suggest.key(ev) {
		return
	}
	e.Entry.TypedKey(ev)
}

// AcceptsTab: Tab accepts a suggestion while they show; otherwise it moves
// the focus, as in every field.
func (e *addressEntry) AcceptsTab() bool { return e.suggest != nil && e.suggest.open() }

func newAddressEntry() *addressEntry {
	e := &addressEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func (e *addressEntry) FocusLost() {
	e.Entry.FocusLost()
	if e.suggest != nil {
		e.suggest.left()
	}
	if e.onLeft != nil {
		e.onLeft()
	}
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
	a, has := p.w.acct.get()
	if !has {
		p.fromNote.SetText("No account yet: set it up in Settings")
		p.fromNote.Show()
		p.from.Hide()
		return
	}
	chosen := p.chosenFrom()
	p.fromIDs = a.Identities()
	opts := make([]string, len(p.fromIDs))
	for i, id := range p.fromIDs {
		opts[i] = id.String()
	}
	was := p.loading
	p.loading = true
	p.from.SetOptions(opts)
	p.from.SetSelected(a.Identity(chosen.Address).String())
	p.loading = was
	p.fromNote.Hide()
	p.from.Show()
}

// chosenFrom is the identity chosen in the From picker, or the account's
// default.
func (p *composePane) chosenFrom() mailer.Identity {
	for i, o := range p.from.Options {
		if o == p.from.Selected && i < len(p.fromIDs) {
			return p.fromIDs[i]
		}
	}
	a, _ := p.w.acct.get()
	return a.Identity("")
}

// fromChanged swaps the signature for the new From's.
func (p *composePane) fromChanged() {
	if p.loading {
		return
	}
	id := p.chosenFrom()
	if body, ok := swapSignature(p.body.Text(), p.signature, id.Signature); ok {
		p.body.SetText(body)
	}
	p.signature = id.Signature
	p.changed()
}

// draft is what the fields hold now.
func (p *composePane) draft() Draft {
	d := Draft{To: p.to.Text, Cc: p.cc.Text, Bcc: p.bcc.Text, Subject: p.subject.Text, Body: p.body.Text()}
	if a, has := p.w.acct.get(); has {
		if id := p.chosenFrom(); !strings.EqualFold(id.Address, a.FromAddress()) {
			d.From = id.Address
		}
	}
	if p.saver != nil {
		d.ID = p.saver.h.ID
	}
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
	a, _ := p.w.acct.get()
	id := a.Identity(d.From)
	p.from.SetSelected(id.String())
	p.signature = id.Signature
	body := d.Body
	if d.IsEmpty() && id.Signature != "" {
		// A new message starts with the signature under "-- ".
		body = "\n\n" + signatureBlock(id.Signature)
	}
	p.body.SetText(body)
	p.startBody = body
	p.attachments = nil
	for _, path := range d.Attachments {
		p.attachments = append(p.attachments, attachment{path: path, pending: true})
	}
	for _, l := range []*widget.Label{p.toErr, p.ccErr, p.bccErr} {
		showError(l, nil)
	}
	p.refreshAttachments()
}

// edit makes the draft held by h the one in the pane, saving and letting go
// of the one there before.
func (p *composePane) edit(h *store.Handle, d Draft) {
	if p.saver != nil {
		old := p.saver
		old.Changed(p.draft())
		go old.Close()
	}
	p.saver = p.newSaver(h)
	p.setDraft(d)
	p.w.setTitle(d.Subject)
	p.failure.Hide()
	say(p.note, widget.MediumImportance, "")
	p.statLater(p.pendingPaths())
}

// changed hands the draft to the autosaver after each edit.
func (p *composePane) changed() {
	if p.loading {
		return
	}
	// Only a flag per key: the draft is copied when it is saved.
	if p.saver != nil {
		p.saver.Touch()
	}
	say(p.note, widget.MediumImportance, "")
	// A card about the message as it was is wrong once it changed.
	if p.failure.box.Visible() && mailer.KindOf(p.lastErr) == mailer.KindInvalidMessage {
		p.failure.Hide()
	}
	// The confirmation of the message sent last stays until the next one
	// is started.
	if p.tracker.confirming() && !p.isEmpty() {
		p.tracker.messageStarted()
	}
	p.w.setTitle(p.subject.Text)
}

// isEmpty is draft().IsEmpty() without copying the body.
func (p *composePane) isEmpty() bool {
	if strings.TrimSpace(p.to.Text+p.cc.Text+p.bcc.Text+p.subject.Text) != "" || len(p.attachments) > 0 {
		return false
	}
	if p.body.Empty() {
		return true
	}
	b := p.body.Text()
	return strings.TrimSpace(b) == "" || b == p.startBody
}

// saved is the draft as the autosave writes it: a new message that holds
// no more than its signature is nothing to keep.
func (p *composePane) saved() Draft {
	d := p.draft()
	if d.Body == p.startBody && strings.TrimSpace(d.To+d.Cc+d.Bcc+d.Subject) == "" && len(d.Attachments) == 0 {
		return Draft{ID: d.ID}
	}
	return d
}

// newSaver is the autosaver of the draft held by h.
func (p *composePane) newSaver(h *store.Handle) *autosaver {
	return newAutosaver(p.w.d.Store, h, p.w.d.DraftDelay, p.saved, p.w.do, p.w.draftSaved)
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
		p.w.do(func() {
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

// chooseFiles lets the user pick files to attach, several at once: the
// desktop's own file chooser where there is one (the XDG portal), else
// Postcard's picker (see filechooser.go). The button waits meanwhile, so
// a second click does not open a second chooser.
func (p *composePane) chooseFiles() {
	p.addFile.Disable()
	chooseFiles(p.w.win, p.w.do, func(paths []string) {
		p.addFile.Enable()
		if len(paths) > 0 {
			p.addAttachments(paths)
		}
		p.w.note(eventChosen)
	})
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

// Send asks about a missing attachment or an empty subject, then freezes
// the message into the Outbox. While a send is being confirmed or frozen it
// does nothing, and on an empty pane it only says so: the confirmation of
// the message sent before stays.
func (p *composePane) Send() {
	if p.busy {
		return
	}
	d := p.draft()
	if p.isEmpty() {
		say(p.note, widget.MediumImportance, "Nothing to send: this message is empty.")
		return
	}
	if err := d.Validate(); err != nil {
		p.showFailure(err)
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
			p.queue(d)
			return
		}
		asks[i](func() { step(i + 1) })
	}
	step(0)
}

// ask shows a question; "Send anyway" runs next, "Go back" ends the send
// and focuses back.
func (p *composePane) ask(title, message string, back fyne.Focusable, next func()) {
	p.question = newQuestion(p.w.win, title, message, "Send anyway", "Go back", false, func(ok bool) {
		p.question = nil
		if ok {
			next()
			return
		}
		p.busy = false
		p.w.win.Canvas().Focus(back)
	})
}

// queue freezes d into the Outbox in the background: the message is
// checked and encoded with the account as it is now, attachments read, and
// the bytes written and synced before the draft leaves Drafts. The pane is
// then free for the next message, and the tracker follows this one. It must
// run with busy set.
func (p *composePane) queue(d Draft) {
	a, has := p.w.acct.get()
	if !has {
		p.busy = false
		p.showFailure(&mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate, Setting: mailer.SettingUsername,
			Detail: "no account is set up yet: fill in the settings first"})
		return
	}
	if err := a.Validate(); err != nil {
		p.busy = false
		p.showFailure(err)
		return
	}
	p.failure.Hide()
	say(p.note, widget.MediumImportance, "")
	p.activity.Show()
	p.activity.Start()
	p.send.Disable()
	saver := p.saver
	w, st, hold := p.w, p.w.d.Store, p.w.undoDelay()
	// With no undo delay the message goes at once, over a session opened
	// while it is frozen: a send outside Run, which quitting waits for.
	var (
		sendCtx context.Context
		sent    func()
		now     bool
	)
	if hold == 0 {
		sendCtx, sent, now = w.beginSend()
	}
	go func() {
		if now {
			defer sent()
		}
		// Nothing the autosaver still has may land after the draft left.
		saver.Stop()
		var (
			e    store.Entry
			next *store.Handle
			conn Connection
		)
		prepared, err := mailer.Prepare(a, d.Message())
		if err == nil && now {
			// Nothing of the message goes on the wire before it is
			// frozen: the session connects and logs in meanwhile.
			conn = w.connect(prepared)
			defer conn.Close()
		}
		if err == nil {
			e, err = st.Queue(saver.h, d, prepared, hold)
		}
		if err == nil {
			saver.h.Release()
			next, err = st.NewDraft()
			if err != nil {
				// Queued all the same; the pane gets a draft on the next
				// start of one.
				fyne.LogError("starting a new draft", err)
				err = nil
			}
		}
		sendNow := err == nil && conn != nil
		w.do(func() {
			p.queued(d, saver, e, next, err, sendNow)
			w.note(eventQueued)
		})
		if sendNow {
			// Were Run or another process to take it first, it goes over
			// a session of its own, and this one is closed unused.
			w.runner.SendOver(sendCtx, e.ID, w.sendOver(conn))
		}
	}()
}

// queued shows the outcome of queue; sendNow says that queue sends the
// message itself, so the runner need not be woken for it.
func (p *composePane) queued(d Draft, saver *autosaver, e store.Entry, next *store.Handle, err error, sendNow bool) {
	p.busy = false
	p.activity.Stop()
	p.activity.Hide()
	p.send.Enable()
	if err != nil {
		// The draft stays as it is; its autosaver goes on.
		p.saver = p.newSaver(saver.h)
		p.saver.Changed(p.draft())
		p.showFailure(err)
		return
	}
	if next != nil {
		p.saver = p.newSaver(next)
	}
	// Whatever was typed while the message was being frozen is kept, as
	// the next draft.
	if now := p.draft(); now.Equal(d) {
		p.setDraft(Draft{})
	} else if p.saver != nil {
		p.saver.Changed(now)
	}
	p.w.setTitle(p.subject.Text)
	p.tracker.track(e)
	if !sendNow {
		p.w.runner.Wake()
	}
	p.w.outboxChanged()
	p.focus()
}

// showFailure shows why the message in the pane was not queued.
func (p *composePane) showFailure(err error) {
	p.lastErr = err
	fix := ""
	var e *mailer.Error
	if errors.As(err, &e) {
		fix = string(e.Fix())
	}
	setVisible(p.openSettings, mailer.KindOf(err) == mailer.KindInvalidAccount || fix != "")
	p.failure.Show("Not sent", err)
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

// signatureBlock is a signature under the standard "-- " separator line.
func signatureBlock(sig string) string {
	return "-- \n" + strings.TrimRight(sig, "\n") + "\n"
}

// swapSignature replaces the signature old at the end of body by new (or
// removes it when new is empty), and adds new when body has no signature;
// a signature the user changed, or one in quoted text, stays as it is. It
// reports whether body changed.
func swapSignature(body, old, new string) (string, bool) {
	if old == new {
		return body, false
	}
	if old != "" {
		block := signatureBlock(old)
		trimmed := strings.TrimRight(body, "\n")
		if strings.HasSuffix(trimmed+"\n", block) && (len(trimmed)+1 == len(block) || trimmed[len(trimmed)+1-len(block)-1] == '\n') {
			rest := strings.TrimSuffix(trimmed+"\n", block)
			if new == "" {
				return strings.TrimRight(rest, "\n") + "\n", true
			}
			return rest + signatureBlock(new), true
		}
	}
	// A separator line of our own (not quoted) means a signature the user
	// changed: leave it.
	for _, line := range strings.Split(body, "\n") {
		if line == "-- " {
			return body, false
		}
	}
	if new == "" {
		return body, false
	}
	if !strings.HasSuffix(body, "\n") && body != "" {
		body += "\n"
	}
	return body + "\n" + signatureBlock(new), true
}
