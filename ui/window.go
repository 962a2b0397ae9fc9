package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
	"github.com/postcard-mail/postcard/mailer/store"
)

// The preferences that remember the window's size and the undo delay.
const (
	prefWidth     = "window.width"
	prefHeight    = "window.height"
	prefUndoDelay = "send.undo_seconds"
)

// The undo delays Settings offers, in seconds; DefaultUndoDelay is the one
// used until the user picks another.
var undoDelays = []int{0, 5, 10, 20, 30}

// DefaultUndoDelay is how long a sent message waits in the Outbox, with
// Undo offered, before it goes.
const DefaultUndoDelay = 5 * time.Second

// The window's size the first time it opens.
const (
	defaultWidth  = 780
	defaultHeight = 680
)

// The events note reports when background work has landed on the UI, so
// tests know when they may look.
const (
	eventLookup      = "lookup"      // the startup keychain lookup
	eventQueued      = "queued"      // a message frozen into the Outbox (or refused)
	eventAttempt     = "attempt"     // an Outbox message was tried
	eventLists       = "lists"       // the Drafts, Outbox and Sent lists were refreshed
	eventUndo        = "undo"        // a message came back from the Outbox
	eventCheck       = "check"       // a login check (Save or Test connection)
	eventSave        = "save"        // storing the password and the account
	eventTestEmail   = "test-email"  // the test email to myself
	eventForget      = "forget"      // removing the password
	eventDraft       = "draft"       // a draft write (on the writing goroutine)
	eventAttachments = "attachments" // attachment sizes looked up
	eventQuit        = "quit"        // the window closed itself after a send
	eventResolved    = "resolved"    // an unconfirmed message was looked for in the Sent folder
	eventCopy        = "copy"        // a copy in the Sent folder was tried
	eventIndex       = "index"       // the suggestions' index was rebuilt
	eventChosen      = "chosen"      // the file chooser closed
	eventContacts    = "contacts"    // a contacts sync ended
	eventAppleID     = "apple-id"    // the Apple ID page could not be opened: its address is shown
)

// window is the one Postcard window: Compose, the lists of Drafts, the
// Outbox and Sent, and Settings. The account has one owner (acct) and the
// messages another (the store, sent by the runner); the panes receive them.
// Everything but the runner and drafts is touched on the UI goroutine only.
type window struct {
	d    Deps
	win  fyne.Window
	acct *account

	tabs                                     *container.AppTabs
	composeItem, draftsItem, outboxItem      *container.TabItem
	sentItem, settingsItem                   *container.TabItem
	unshown                                  map[*container.TabItem]fyne.CanvasObject // panes not shown yet
	compose                                  *composePane
	drafts                                   *draftsPane
	outbox                                   *outboxPane
	sent                                     *sentPane
	settings                                 *settingsPane
	sendItem, sendKeypad                     *fyne.MenuItem
	draftErrShown                            atomic.Bool
	runner                                   *store.Runner
	runStop                                  context.CancelCauseFunc
	runDone                                  chan struct{}
	entries                                  []store.Entry   // the Outbox as last listed
	sending                                  map[string]bool // Message-IDs being sent by this window
	refreshing, refreshAgain, quitting, gone bool
	quitWhenDone                             bool
	inFront                                  atomic.Bool // the window is in the foreground
	// sendCtx is the context of the sends made outside the runner's Run
	// ("Send now", a message sent over the session opened while it was
	// frozen): quitting cancels it, as it does Run's, and waits for sends.
	sendCtx  context.Context
	sendStop context.CancelCauseFunc
	sends    sync.WaitGroup

	// index is what address suggestions come from; contacts says how the
	// contacts stand.
	index    atomic.Pointer[contacts.Index]
	contacts contactsState

	// event, if set, is told each time background work has landed.
	event func(string)
}

// NewWindow builds the window, opens the last draft and starts the
// keychain lookup and the Outbox; the caller shows it. It opens on the
// compose pane when an account is saved, and switches to settings if no
// password turns out to be stored.
func NewWindow(d Deps) fyne.Window {
	w := newWindow(d)
	w.start()
	return w.win
}

// newWindow builds the window without starting any background work.
func newWindow(d Deps) *window {
	if d.ConfigDir == "" {
		dir, err := mailer.ConfigDir()
		if err != nil {
			dir = filepath.Join(os.TempDir(), "postcard")
		}
		d.ConfigDir = dir
	}
	if d.OpenURL == nil {
		d.OpenURL = d.App.OpenURL
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.DraftDelay <= 0 {
		d.DraftDelay = DefaultDraftDelay
	}
	a, err := mailer.LoadAccount(d.ConfigDir)
	w := &window{d: d, acct: newAccount(d.Secrets, a, err == nil), runDone: make(chan struct{})}

	w.win = d.App.NewWindow("Postcard")
	w.compose = newComposePane(w)
	w.drafts = newDraftsPane(w)
	w.outbox = newOutboxPane(w)
	w.sent = newSentPane(w)
	w.settings = newSettingsPane(w)
	if err != nil && !errors.Is(err, mailer.ErrNoAccount) {
		msg := "The account file could not be read: " + err.Error()
		var ue *mailer.UnsafeError
		if errors.As(err, &ue) {
			msg = "The account file is not used: " + ue.Error() + ", so another user could have changed it. Fix it with: " + ue.Fix
		}
		say(w.settings.status, widget.DangerImportance, msg)
	}
	w.acct.onChange(func() {
		w.compose.showFrom()
		w.settings.showKeychain()
	})

	// A pane joins the window when its tab is first shown: the tabs' minimum
	// size would otherwise lay out and measure every pane before the first
	// frame, which is most of the start-up Postcard adds to Fyne's.
	w.unshown = map[*container.TabItem]fyne.CanvasObject{}
	tab := func(title string, icon fyne.Resource, content fyne.CanvasObject) *container.TabItem {
		t := container.NewTabItemWithIcon(title, icon, container.NewStack())
		w.unshown[t] = content
		return t
	}
	w.composeItem = tab("Compose", theme.MailComposeIcon(), w.compose.content)
	w.draftsItem = tab("Drafts", theme.DocumentIcon(), w.drafts.content)
	w.outboxItem = tab("Outbox", theme.UploadIcon(), w.outbox.content)
	w.sentItem = tab("Sent", theme.MailSendIcon(), w.sent.content)
	w.settingsItem = tab("Settings", theme.SettingsIcon(), w.settings.content)
	w.tabs = container.NewAppTabs(w.composeItem, w.draftsItem, w.outboxItem, w.sentItem, w.settingsItem)
	w.tabs.OnSelected = func(t *container.TabItem) {
		w.fillTab(t)
		if t == w.composeItem {
			w.compose.focus()
		}
	}

	// Menu shortcuts are checked before the focused Entry sees the key, so
	// Ctrl+Enter sends from any field. Enter on the keypad is another key.
	w.sendItem = fyne.NewMenuItem("Send", w.sendShortcut)
	w.sendItem.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	w.sendKeypad = fyne.NewMenuItem("Send (keypad Enter)", w.sendShortcut)
	w.sendKeypad.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault}
	w.win.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("Message",
		w.sendItem, w.sendKeypad,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Compose", w.showCompose),
		fyne.NewMenuItem("Drafts", func() { w.tabs.Select(w.draftsItem) }),
		fyne.NewMenuItem("Outbox", func() { w.tabs.Select(w.outboxItem) }),
		fyne.NewMenuItem("Sent", func() { w.tabs.Select(w.sentItem) }),
		fyne.NewMenuItem("Settings", func() { w.showSettings(nil) }),
	)))

	_, has := w.acct.get()
	if has {
		w.fillTab(w.composeItem)
	} else {
		w.tabs.Select(w.settingsItem)
	}
	w.win.SetContent(w.tabs)
	prefs := d.App.Preferences()
	w.win.Resize(fyne.NewSize(
		float32(prefs.FloatWithFallback(prefWidth, defaultWidth)),
		float32(prefs.FloatWithFallback(prefHeight, defaultHeight))))
	w.inFront.Store(true)
	lc := d.App.Lifecycle()
	lc.SetOnEnteredForeground(func() { w.inFront.Store(true) })
	lc.SetOnExitedForeground(func() { w.inFront.Store(false) })
	w.win.SetOnDropped(w.dropped)
	w.win.SetCloseIntercept(w.closeRequested)
	w.win.SetOnClosed(w.closed)

	w.openLastDraft()
	w.newRunner()
	if has {
		w.compose.focus()
	} else {
		w.showSettings(w.settings.username)
	}
	return w
}

// fillTab puts t's pane in it the first time it is shown.
func (w *window) fillTab(t *container.TabItem) {
	content, ok := w.unshown[t]
	if !ok {
		return
	}
	delete(w.unshown, t)
	box := t.Content.(*fyne.Container)
	box.Add(content)
}

// openLastDraft puts the last saved draft that no other window has open in
// the compose pane, or a new one. Drafts are small files, read before the
// window shows: it must know what to show.
func (w *window) openLastDraft() {
	st := w.d.Store
	drafts, err := st.Drafts()
	if err != nil {
		say(w.compose.status, widget.DangerImportance, "The drafts could not be read: "+err.Error())
	}
	for _, d := range drafts {
		h, d, err := st.EditDraft(d.ID)
		if err == nil {
			w.compose.edit(h, d)
			return
		}
	}
	h, err := st.NewDraft()
	if err != nil {
		say(w.compose.status, widget.DangerImportance, "A new draft could not be started: "+err.Error())
		return
	}
	w.compose.edit(h, Draft{})
}

// newRunner makes the Outbox's runner, which start runs: a Send pressed
// before then wakes it, and it sends once it runs.
func (w *window) newRunner() {
	w.sendCtx, w.sendStop = context.WithCancelCause(context.Background())
	w.runner = &store.Runner{
		Store:     w.d.Store,
		Send:      w.sendOutgoing,
		Poll:      w.d.Poll,
		OnAttempt: func(a store.Attempt) { w.do(func() { w.attempted(a) }) },
		OnChange:  func() { w.do(w.outboxChanged) },
	}
	if w.d.SentFolder != nil {
		cp := &store.Copier{Store: w.d.Store, Client: w.d.SentFolder, Account: w.acct.sendWith, Wait: w.d.CopyWait}
		cp.Setup(w.runner)
		w.runner.OnCopy = func(string, store.Copy, error) {
			w.do(func() {
				w.outboxChanged()
				w.note(eventCopy)
			})
		}
		w.runner.OnResolve = func(e store.Entry, found bool, err error) {
			w.do(func() { w.resolved(e, found) })
		}
	}
}

// start looks for the stored password in the background (the keychain may
// be slow or show an unlock prompt, and the window must appear at once),
// and starts sending the Outbox. Run calls it once the window is on
// screen, so that none of this competes with drawing the first frame.
func (w *window) start() {
	if w.quitting || w.gone {
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	w.runStop = cancel
	go func() {
		defer close(w.runDone)
		w.runner.Run(ctx)
	}()
	w.outboxChanged()
	w.rebuildIndex()

	a, has := w.acct.get()
	if !has {
		return
	}
	w.syncContacts()
	secrets, user := w.d.Secrets, a.Username
	go func() {
		_, err := secrets.GetFor(context.Background(), a)
		w.do(func() {
			w.lookedUp(user, err)
			w.note(eventLookup)
		})
	}()
}

// lookedUp records what the keychain said about user's password and opens
// the settings when there is nothing to send with.
func (w *window) lookedUp(user string, err error) {
	if !w.acct.lookedUp(user, err) {
		return // the settings changed the account meanwhile
	}
	if !w.acct.hasPassword() && w.tabs.Selected() == w.composeItem && !w.compose.busy {
		w.showSettings(w.settings.password)
	}
}

// sendOutgoing is how the Outbox sends: with the account and password as
// they are at the time of sending, progress shown by the tracker.
func (w *window) sendOutgoing(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
	a, pw := w.acct.sendWith()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	id := out.MessageID
	w.do(func() { w.sendingStarted(id) })
	return w.d.Mailer.Send(ctx, a, pw, out, func(r mailer.StageResult) {
		w.do(func() { w.progress(id, a, r) })
	})
}

// connect opens the session for the prepared message p ahead of it, with
// the account and password as they are now, the time of sending: the
// message is sent over it once frozen (see composePane.queue), so that
// connecting and logging in need not wait for the disk. Safe on any
// goroutine.
func (w *window) connect(p *mailer.Prepared) Connection {
	a, pw := w.acct.sendWith()
	id := p.MessageID
	return w.d.Mailer.Connect(w.sendCtx, a, pw, p.Size, len(p.Recipients), func(r mailer.StageResult) {
		w.do(func() { w.progress(id, a, r) })
	})
}

// sendOver is the Outbox's SendFunc for a message going over conn, its
// progress shown by the tracker as for sendOutgoing.
func (w *window) sendOver(conn Connection) store.SendFunc {
	return func(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
		id := out.MessageID
		w.do(func() { w.sendingStarted(id) })
		return conn.Send(ctx, out)
	}
}

// goSend runs f, a send outside the runner's Run, on a goroutine of its
// own (see beginSend). It runs on the UI goroutine.
func (w *window) goSend(f func(ctx context.Context)) {
	if ctx, done, ok := w.beginSend(); ok {
		go func() {
			defer done()
			f(ctx)
		}()
	}
}

// beginSend counts a send outside the runner's Run among those quitting
// waits for, and gives it the context quitting cancels (cause
// store.ErrQuit); done ends it. ok is false once quitting: nothing new
// starts then. It runs on the UI goroutine.
func (w *window) beginSend() (ctx context.Context, done func(), ok bool) {
	if w.quitting {
		return nil, nil, false
	}
	w.sends.Add(1)
	return w.sendCtx, w.sends.Done, true
}

// sendingStarted marks the message with Message-ID id as being sent.
func (w *window) sendingStarted(id string) {
	if w.sending == nil {
		w.sending = map[string]bool{}
	}
	w.sending[id] = true
	if t := w.compose.tracker; t.tracking && t.entry.MessageID == id {
		t.sending = true
		t.render()
	}
	w.outbox.sendingChanged(w.sending)
}

func (w *window) progress(id string, a mailer.Account, r mailer.StageResult) {
	t := w.compose.tracker
	if !t.tracking || t.entry.MessageID != id || !t.sending {
		return
	}
	if s := progressText(r, a); s != "" {
		t.line.SetText(fmt.Sprintf("Sending %s: %s", quoteSubject(t.entry.Subject), s))
	}
}

// attempted shows how an Outbox message's attempt went.
func (w *window) attempted(a store.Attempt) {
	// Only this message's send ended: others may still be on their way
	// (one from Run, one sent at once, "Send now").
	delete(w.sending, a.Entry.MessageID)
	w.outbox.sendingChanged(w.sending)
	if t := w.compose.tracker; t.is(a.Entry.ID) {
		t.sending = false
		t.entry.State, t.entry.Last, t.entry.NextTry = a.Entry.State, a.Entry.Last, a.Entry.NextTry
		if a.Sent() {
			t.entry.State = ""
			t.sentAt = w.d.Now()
		}
		t.render()
	}
	w.notifyAttempt(a)
	w.outboxChanged()
	if a.Sent() {
		w.rebuildIndex() // who was written to ranks first now
	}
	w.note(eventAttempt)
	w.maybeQuit()
}

// resolved shows what looking for an unconfirmed message in the Sent
// folder found: there, it was delivered.
func (w *window) resolved(e store.Entry, found bool) {
	if t := w.compose.tracker; t.is(e.ID) && found {
		t.sending = false
		t.entry.State, t.entry.Last = "", nil
		t.sentAt = w.d.Now()
		t.render()
		t.line.SetText(t.line.Text + " The connection was lost after the upload, but the message is in your Sent folder: it was delivered.")
	}
	w.outboxChanged()
	w.note(eventResolved)
}

// notifyAttempt tells the desktop about a message sent or needing the
// user while the window is not in front.
func (w *window) notifyAttempt(a store.Attempt) {
	if w.focused() {
		return
	}
	switch {
	case a.Sent():
		w.d.App.SendNotification(fyne.NewNotification("Sent", fmt.Sprintf("%s to %s", quoteSubject(a.Entry.Subject), recipientsSummary(a.Entry.Recipients))))
	case a.Entry.State == store.StateNeedsAttention || a.Entry.State == store.StateUnconfirmed:
		title := "A message needs your attention"
		if a.Entry.State == store.StateUnconfirmed {
			title = "A message may not have been sent"
		}
		w.d.App.SendNotification(fyne.NewNotification(title, quoteSubject(a.Entry.Subject)+": "+mailer.HintFor(a.Entry.Last.Kind).Title))
	}
}

// focused reports whether the window is in front (the app's lifecycle
// says when it enters and leaves the foreground).
func (w *window) focused() bool {
	return w.inFront.Load()
}

// outboxChanged reloads the lists in the background, at most one reload at
// a time (and one more if asked meanwhile).
func (w *window) outboxChanged() {
	if w.refreshing {
		w.refreshAgain = true
		return
	}
	w.refreshing = true
	st := w.d.Store
	go func() {
		entries, _ := st.Outbox()
		sent, _ := st.Sent()
		drafts, _ := st.Drafts()
		w.do(func() {
			w.refreshing = false
			w.entries = entries
			w.outbox.show(entries)
			w.sent.show(sent)
			w.drafts.show(drafts)
			w.showBadge()
			if t := w.compose.tracker; t.tracking && !t.sending && t.entry.State != "" {
				for _, e := range entries {
					if e.ID == t.entry.ID && e.State != store.StateSending {
						t.entry = e
						t.render()
					}
				}
			}
			w.note(eventLists)
			if w.refreshAgain {
				w.refreshAgain = false
				w.outboxChanged()
			}
			w.maybeQuit()
		})
	}()
}

// showBadge puts the number of Outbox messages in its tab's title.
func (w *window) showBadge() {
	title := "Outbox"
	if n := len(w.entries); n > 0 {
		title = fmt.Sprintf("Outbox (%d)", n)
	}
	if w.outboxItem.Text != title {
		w.outboxItem.Text = title
		w.tabs.Refresh()
	}
}

// undoDelay is the undo delay Settings holds.
func (w *window) undoDelay() time.Duration {
	s := w.d.App.Preferences().IntWithFallback(prefUndoDelay, int(DefaultUndoDelay/time.Second))
	return time.Duration(s) * time.Second
}

// undoSend takes the message id back from the Outbox into the compose pane,
// exactly as it was; too late when it is being sent.
func (w *window) undoSend(id string) {
	st := w.d.Store
	go func() {
		h, d, err := st.Undo(id)
		w.do(func() {
			defer w.note(eventUndo)
			if err != nil {
				msg := "It could not be undone: " + err.Error()
				if errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrNotFound) {
					msg = "Too late to undo: the message is being sent or was sent."
				}
				say(w.compose.note, widget.WarningImportance, msg)
				return
			}
			if t := w.compose.tracker; t.is(id) {
				t.tracking = false
				t.render()
			}
			kept := !w.compose.draft().IsEmpty()
			w.compose.edit(h, d)
			w.showCompose()
			if kept {
				say(w.compose.note, widget.MediumImportance, "The message is back. The one you had started is kept in Drafts.")
			} else {
				say(w.compose.note, widget.MediumImportance, "The message is back: nothing was sent.")
			}
			w.outboxChanged()
		})
	}()
}

// editEntry is Undo for a message that did not go: back to the compose
// pane to change it.
func (w *window) editEntry(id string) { w.undoSend(id) }

// sendNow sends the Outbox message id at once, whatever its schedule.
func (w *window) sendNow(id string) {
	r := w.runner
	w.goSend(func(ctx context.Context) { r.SendNow(ctx, id) })
}

// sendAgain sends an unconfirmed message again, after saying that it may
// then arrive twice.
func (w *window) sendAgain(e store.Entry) {
	newQuestion(w.win, "Send it again?",
		"The server may already have this message: the connection was lost after it was uploaded.\n"+
			"If it was delivered, sending it again delivers it twice. Look in the recipients' or iCloud's Sent folder first if you can.",
		"Send again", "Don't send", false, func(ok bool) {
			if ok {
				w.sendNow(e.ID)
			}
		})
}

// moveToSent files an unconfirmed message in Sent.
func (w *window) moveToSent(id string) {
	r := w.runner
	go func() {
		err := r.MoveToSent(id)
		w.do(func() {
			if err != nil {
				say(w.outbox.status, widget.DangerImportance, "It could not be moved to Sent: "+err.Error())
			}
			if t := w.compose.tracker; t.is(id) && err == nil {
				t.tracking = false
				t.render()
			}
			w.outboxChanged()
		})
	}()
}

// deleteEntry removes an Outbox message after asking.
func (w *window) deleteEntry(e store.Entry) {
	newQuestion(w.win, "Delete this message?", fmt.Sprintf("%s to %s will not be sent, and is gone.", quoteSubject(e.Subject), recipientsSummary(e.Recipients)),
		"Delete", "Keep", false, func(ok bool) {
			if !ok {
				return
			}
			st := w.d.Store
			go func() {
				err := st.Delete(e.ID)
				w.do(func() {
					if err != nil {
						say(w.outbox.status, widget.DangerImportance, "It could not be deleted: "+err.Error())
					}
					if t := w.compose.tracker; t.is(e.ID) && err == nil {
						t.tracking = false
						t.render()
					}
					w.outboxChanged()
				})
			}()
		})
}

// cancelSend stops the send of message id under way: it then needs the
// user (it was not delivered, unless the upload had ended).
func (w *window) cancelSend(id string) {
	w.runner.Cancel(id, store.ErrCancelled)
}

// switchAndSend saves a (another port or encryption) as the account, then
// sends the message id at once.
func (w *window) switchAndSend(id string, a mailer.Account) {
	dir := w.d.ConfigDir
	w.acct.set(a)
	w.settings.showAccount(a)
	go func() {
		unlock, err := mailer.LockAccount(context.Background(), dir)
		if err == nil {
			err = mailer.SaveAccount(dir, a)
			unlock()
		}
		w.do(func() {
			if err != nil {
				say(w.compose.note, widget.WarningImportance, "The new setting is used, but it could not be saved: "+err.Error())
			}
			w.sendNow(id)
		})
	}()
}

// showCompose opens the compose pane with the focus in To.
func (w *window) showCompose() {
	w.tabs.Select(w.composeItem)
	w.compose.focus()
}

// showSettings opens the settings pane, with focus in f when f is not nil.
func (w *window) showSettings(f fyne.Focusable) {
	w.tabs.Select(w.settingsItem)
	if f != nil {
		w.focusAfterInput(f)
	}
}

// showSettingsFor opens the settings at the field err is about: the
// password for a refused login, the host for a name not found, and so on.
func (w *window) showSettingsFor(err error) {
	w.settings.clearResults()
	var e *mailer.Error
	if !errors.As(err, &e) {
		w.showSettings(nil)
		return
	}
	f := w.settings.field(e.Fix())
	w.showSettings(f)
	if o, ok := f.(fyne.CanvasObject); ok {
		w.do(func() { w.settings.scrollTo(o) })
	}
	// Say what the user came to fix, next to the field.
	w.settings.showFix(e)
}

// focusAfterInput focuses f once the input being handled is done: a button
// pressed with Space also sends a typed space, which must not land in f.
// On the UI goroutine fyne.Do runs after the pending input.
func (w *window) focusAfterInput(f fyne.Focusable) {
	fyne.Do(func() { w.win.Canvas().Focus(f) })
}

// sendShortcut is Ctrl+Enter: it sends when the compose pane is open.
func (w *window) sendShortcut() {
	if w.tabs.Selected() == w.composeItem {
		w.compose.Send()
	}
}

// setTitle shows the subject of the message being written in the title.
func (w *window) setTitle(subject string) {
	title := "Postcard"
	if s := strings.TrimSpace(subject); s != "" {
		title += " · " + s
	}
	if w.win.Title() != title {
		w.win.SetTitle(title)
	}
}

// openAppleID opens the page where app-specific passwords are made; when
// no browser can be opened, it shows the address with a Copy button.
func (w *window) openAppleID() {
	u, _ := url.Parse(appleIDURL)
	if err := w.d.OpenURL(u); err != nil {
		addr := widget.NewLabel(appleIDURL)
		addr.Selectable = true
		msg := widget.NewLabel("No web browser could be opened (" + err.Error() + "). Open this address on any device, sign in with your Apple ID and, under Sign-In and Security, create an app-specific password:")
		msg.Wrapping = fyne.TextWrapWord
		var d dialog.Dialog
		copyButton := newButton("Copy the address", theme.ContentCopyIcon(), func() {
			w.d.App.Clipboard().SetContent(appleIDURL)
		})
		copyButton.Importance = widget.HighImportance
		closeButton := newButton("Close", theme.CancelIcon(), func() { d.Hide() })
		copyButton.onEscape = func() { d.Hide() }
		closeButton.onEscape = copyButton.onEscape
		d = dialog.NewCustomWithoutButtons("Create an app-specific password", container.NewVBox(msg, addr), w.win)
		d.(*dialog.CustomDialog).SetButtons([]fyne.CanvasObject{closeButton, copyButton})
		d.Resize(fyne.NewSize(min(520, w.win.Canvas().Size().Width*0.9), 0))
		d.Show()
		w.win.Canvas().Focus(copyButton)
		w.note(eventAppleID)
	}
}

// dropped attaches the files dropped anywhere on the window.
func (w *window) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) == 0 {
		return
	}
	w.showCompose()
	w.compose.addAttachments(paths)
}

// pending counts the messages this window would leave on their way if it
// closed now: being sent, or waiting out their undo delay.
func (w *window) pending() (sending, held int) {
	sending = len(w.sending)
	now := time.Now()
	for _, e := range w.entries {
		if e.State == store.StateWaiting && now.Before(e.HoldUntil) {
			held++
		}
	}
	return sending, held
}

// closeRequested is the window's close button: with a message on its way
// it asks whether to wait for it or to quit and send it at the next start.
func (w *window) closeRequested() {
	sending, held := w.pending()
	if sending+held == 0 {
		w.quit()
		return
	}
	n := sending + held
	title := "1 message is being sent"
	if n > 1 {
		title = fmt.Sprintf("%d messages are being sent", n)
	}
	msg := "Wait, and Postcard closes once it is sent; or quit now: it was not sent yet, and goes the next time Postcard starts."
	if held > 0 && sending == 0 {
		msg = "It is waiting out the undo delay. Wait, and Postcard closes once it is sent; or quit now: it goes the next time Postcard starts."
	}
	newQuestion(w.win, title, msg, "Wait", "Quit, it goes at the next start", true, func(wait bool) {
		if !wait {
			w.quit()
			return
		}
		w.quitWhenDone = true
		say(w.compose.note, widget.MediumImportance, "Postcard closes once the message is sent.")
		// A message waiting out its undo delay goes now.
		for _, e := range w.entries {
			if e.State == store.StateWaiting && time.Now().Before(e.HoldUntil) {
				w.sendNow(e.ID)
			}
		}
	})
}

// maybeQuit closes the window once nothing is on its way, after "Wait".
func (w *window) maybeQuit() {
	if !w.quitWhenDone || w.quitting {
		return
	}
	if sending, held := w.pending(); sending+held == 0 {
		w.quit()
		w.note(eventQuit)
	}
}

// quit stops the Outbox (a send under way goes back to waiting unless it
// may have been delivered), saves the draft and closes the window.
func (w *window) quit() {
	if w.quitting {
		return
	}
	w.quitting = true
	w.rememberSize()
	w.stopSending()
	saver := w.compose.saver
	if saver != nil {
		saver.Changed(w.compose.draft())
	}
	stopped := w.sendingStopped()
	var wg sync.WaitGroup
	wg.Go(func() {
		if saver != nil {
			saver.Close()
		}
		// A send stops at once when cancelled (it closes its
		// connection); bounded all the same.
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
		}
	})
	go func() {
		wg.Wait()
		w.do(func() {
			if !w.gone {
				w.win.Close()
			}
		})
	}()
}

// stopSending stops the Outbox's sends: Run, and those made outside it. A
// message being sent goes back to waiting unless it may have been
// delivered.
func (w *window) stopSending() {
	if w.runStop != nil {
		w.runStop(store.ErrQuit)
	}
	if w.sendStop != nil {
		w.sendStop(store.ErrQuit)
	}
}

// sendingStopped is closed once Run (if it was started) and the sends
// made outside it have ended.
func (w *window) sendingStopped() <-chan struct{} {
	run := w.runDone
	if w.runStop == nil { // quit before start: Run never ran
		run = nil
	}
	c := make(chan struct{})
	go func() {
		if run != nil {
			<-run
		}
		w.sends.Wait()
		close(c)
	}()
	return c
}

func (w *window) rememberSize() {
	if s := w.win.Canvas().Size(); s.Width > 0 && s.Height > 0 {
		prefs := w.d.App.Preferences()
		prefs.SetFloat(prefWidth, float64(s.Width))
		prefs.SetFloat(prefHeight, float64(s.Height))
	}
}

// closed runs when the window is gone, however it closed: nothing may be
// left running.
func (w *window) closed() {
	w.gone = true
	if !w.quitting {
		w.quitting = true
		w.rememberSize()
		w.stopSending()
		if s := w.compose.saver; s != nil {
			s.Changed(w.compose.draft())
			s.Close()
		}
		select {
		case <-w.sendingStopped():
		case <-time.After(10 * time.Second):
		}
	}
	if w.settings.stop != nil {
		w.settings.stop()
	}
}

// draftSaved runs on the writing goroutine after each draft write; a
// failure (or the end of one) is shown in the compose pane.
func (w *window) draftSaved(err error) {
	if errors.Is(err, store.ErrNotFound) {
		err = nil // the draft was sent meanwhile
	}
	if err != nil || w.draftErrShown.Load() {
		w.do(func() {
			w.draftErrShown.Store(err != nil)
			if err != nil {
				say(w.compose.status, widget.WarningImportance, "The draft could not be saved: "+err.Error())
			} else {
				say(w.compose.status, widget.MediumImportance, "")
			}
		})
	}
	w.note(eventDraft)
}

// do runs f on the UI goroutine: work done in the background lands there.
func (w *window) do(f func()) {
	if w.d.do != nil {
		w.d.do(f)
		return
	}
	fyne.Do(f)
}

func (w *window) note(event string) {
	if w.event != nil {
		w.event(event)
	}
}
