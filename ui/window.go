package ui

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

// The preferences that remember the window's size.
const (
	prefWidth  = "window.width"
	prefHeight = "window.height"
)

// The window's size the first time it opens.
const (
	defaultWidth  = 780
	defaultHeight = 680
)

// The events note reports when background work has landed on the UI, so
// tests know when they may look.
const (
	eventLookup      = "lookup"      // the startup keychain lookup
	eventSend        = "send"        // a send from the compose pane
	eventCheck       = "check"       // a login check (Save or Test connection)
	eventSave        = "save"        // storing the password and the account
	eventTestEmail   = "test-email"  // the test email to myself
	eventForget      = "forget"      // removing the password
	eventDraft       = "draft"       // a draft write (on the writing goroutine)
	eventAttachments = "attachments" // attachment sizes looked up
)

// window is the one Postcard window: the compose and settings panes in
// tabs, and the account state they share. Everything but drafts is touched
// on the UI goroutine only.
type window struct {
	d   Deps
	win fyne.Window

	tabs                      *container.AppTabs
	composeItem, settingsItem *container.TabItem
	compose                   *composePane
	settings                  *settingsPane
	sendItem, sendKeypad      *fyne.MenuItem

	drafts        *autosaver
	draftErrShown atomic.Bool

	// account is the saved account, or iCloud's defaults when hasAccount
	// is false.
	account    mailer.Account
	hasAccount bool
	// keychainState says whether the keychain holds account's password;
	// keychainErr is why it is unavailable.
	keychainState passwordState
	keychainErr   error
	// sessionPassword is the password kept in memory only, when the
	// keychain cannot hold it.
	sessionPassword string

	// event, if set, is told each time background work has landed.
	event func(string)
}

// NewWindow builds the window, restores the draft and starts looking for the
// stored password; the caller shows it. It opens on the compose pane when an
// account is saved, and switches to settings if no password turns out to be
// stored.
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
	w := &window{d: d}
	a, err := mailer.LoadAccount(d.ConfigDir)
	w.account, w.hasAccount = a, err == nil

	w.win = d.App.NewWindow("Postcard")
	w.drafts = &autosaver{store: newDraftStore(d.ConfigDir), delay: d.DraftDelay, saved: w.draftSaved}
	w.compose = newComposePane(w)
	w.settings = newSettingsPane(w)
	if err != nil && !errors.Is(err, mailer.ErrNoAccount) {
		say(w.settings.status, widget.DangerImportance, "The account file could not be read: "+err.Error())
	}

	w.composeItem = container.NewTabItemWithIcon("Compose", theme.MailComposeIcon(), w.compose.content)
	w.settingsItem = container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), w.settings.content)
	w.tabs = container.NewAppTabs(w.composeItem, w.settingsItem)
	w.tabs.OnSelected = func(t *container.TabItem) {
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
		fyne.NewMenuItem("Settings", func() { w.showSettings(nil) }),
	)))

	w.win.SetContent(w.tabs)
	prefs := d.App.Preferences()
	w.win.Resize(fyne.NewSize(
		float32(prefs.FloatWithFallback(prefWidth, defaultWidth)),
		float32(prefs.FloatWithFallback(prefHeight, defaultHeight))))
	w.win.SetOnDropped(w.dropped)
	w.win.SetOnClosed(w.closed)

	if draft, err := w.drafts.store.Load(); err != nil {
		say(w.compose.status, widget.DangerImportance, "The saved draft could not be read: "+err.Error())
	} else {
		w.compose.setDraft(draft)
	}
	if w.hasAccount {
		w.compose.focus()
	} else {
		w.showSettings(w.settings.username)
	}
	return w
}

// start looks for the stored password in the background: the keychain may
// be slow or show an unlock prompt, and the window must appear at once.
func (w *window) start() {
	pending := w.compose.pendingPaths()
	if !w.hasAccount && len(pending) == 0 {
		return
	}
	hasAccount, user := w.hasAccount, w.account.Username
	secrets := w.d.Secrets
	// One goroutine and one trip back to the UI for both: the keychain
	// lookup and the sizes of a restored draft's attachments, each of
	// which can hang (an unlock prompt, a network mount).
	go func() {
		var (
			err   error
			found []attachment
			wg    sync.WaitGroup
		)
		wg.Go(func() { found = statAttachments(pending) })
		if hasAccount {
			_, err = secrets.Get(context.Background(), user)
		}
		wg.Wait()
		fyne.Do(func() {
			w.compose.applyStats(found)
			if hasAccount {
				w.lookedUp(user, err)
				w.note(eventLookup)
			}
		})
	}()
}

// lookedUp records what the keychain said about user's password and opens
// the settings when there is nothing to send with.
func (w *window) lookedUp(user string, err error) {
	if user != w.account.Username || w.keychainState != passwordUnknown {
		return // the settings changed the account meanwhile
	}
	switch {
	case err == nil:
		w.keychainState = passwordStored
	case errors.Is(err, mailer.ErrPasswordNotFound):
		w.keychainState = passwordMissing
	default:
		w.keychainState, w.keychainErr = passwordUnavailable, err
	}
	w.settings.showKeychain()
	if w.keychainState != passwordStored && w.sessionPassword == "" &&
		w.tabs.Selected() == w.composeItem && !w.compose.busy {
		w.showSettings(w.settings.password)
	}
}

// setAccount makes a the account both panes use.
func (w *window) setAccount(a mailer.Account) {
	w.account, w.hasAccount = a, true
	w.compose.showFrom()
	w.settings.showAccount(a)
}

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

func (w *window) openAppleID() {
	u, _ := url.Parse(appleIDURL)
	if err := w.d.OpenURL(u); err != nil {
		fyne.LogError("opening "+appleIDURL, err)
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

// closed remembers the size and writes the draft at once rather than after
// the delay.
func (w *window) closed() {
	if s := w.win.Canvas().Size(); s.Width > 0 && s.Height > 0 {
		prefs := w.d.App.Preferences()
		prefs.SetFloat(prefWidth, float64(s.Width))
		prefs.SetFloat(prefHeight, float64(s.Height))
	}
	if w.compose.stop != nil {
		w.compose.stop()
	}
	if w.settings.stop != nil {
		w.settings.stop()
	}
	w.drafts.Close()
}

// draftSaved runs on the writing goroutine after each draft write; a
// failure (or the end of one) is shown in the compose pane.
func (w *window) draftSaved(err error) {
	if err != nil || w.draftErrShown.Load() {
		fyne.Do(func() {
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

func (w *window) note(event string) {
	if w.event != nil {
		w.event(event)
	}
}
