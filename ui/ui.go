// Package ui is Postcard's window: compose, the message lists (Drafts,
// Outbox, Sent) and the settings, over the same account file, keychain entry
// and message store as the command line.
package ui

import (
	"context"
	"net/url"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/postcard-mail/postcard/assets"
	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// AppID is the application ID the window registers with, so its preferences
// and desktop entry stay the same whether it is built with go build or
// packaged; FyneApp.toml must carry the same value.
const AppID = "io.github.postcard-mail.postcard"

// Mailer sends messages and checks logins, reading the password from pw
// while it connects. progress, when not nil, is called on the sending
// goroutine each time a stage ends. *mailer.Client does the real work (see
// Run); tests hand in fakes.
type Mailer interface {
	Send(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, out *mailer.Outgoing, progress func(mailer.StageResult)) (*mailer.Result, error)
	// Connect opens the session for a message of size bytes to
	// recipients recipients ahead of it, as mailer.Client.Connect does.
	Connect(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, size int64, recipients int, progress func(mailer.StageResult)) Connection
	Check(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error)
}

// Connection is a session opened ahead of its message, which Send sends
// once; Close ends it, used or not (see mailer.Connection).
type Connection interface {
	Send(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error)
	Close()
}

// SentFolder files the copy of each message sent in the Sent folder over
// IMAP, finds messages there and checks the IMAP login, as
// *mailer.IMAPClient does (see Run); tests hand in fakes.
type SentFolder interface {
	store.SentFolder
	Check(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error)
}

// Secrets keeps the app-specific password per username, as mailer.Keychain
// does. Its errors are *mailer.Error matching mailer.ErrPasswordNotFound,
// mailer.ErrKeychainUnavailable or mailer.ErrKeychainTimeout.
//
// GetFor gives the password only to the servers it was saved for (SetFor
// records them): an account that now names another server gets an error
// matching mailer.ErrPasswordNotFound, and the user signs in again.
type Secrets interface {
	GetFor(ctx context.Context, a mailer.Account) (string, error)
	SetFor(ctx context.Context, a mailer.Account, password string) error
	Delete(ctx context.Context, user string) error
	Move(ctx context.Context, oldUser, newUser string) error
}

// Deps is everything the window needs from outside. App, Mailer, Secrets
// and Store are required; the zero value of every other field works.
type Deps struct {
	App     fyne.App
	Mailer  Mailer
	Secrets Secrets
	// SentFolder files the copies in the Sent folder; nil means none are
	// filed (and Test connection does not check IMAP).
	SentFolder SentFolder
	// Contacts reads the contacts for suggestions; nil means only the
	// Sent record and imported contacts are suggested.
	Contacts Contacts
	// Store holds the messages: Drafts, the Outbox and Sent.
	Store *store.Store
	// ConfigDir holds the account file; "" means mailer.ConfigDir().
	ConfigDir string
	// OpenURL opens a web page or a file; nil means App.OpenURL.
	OpenURL func(*url.URL) error
	// Now is the clock for the "sent at" confirmation; nil means time.Now.
	Now func() time.Time
	// DraftDelay is how long after the first unsaved change the draft is
	// saved; 0 means DefaultDraftDelay.
	DraftDelay time.Duration
	// Poll is how often the Outbox is looked at for messages queued by
	// other processes; 0 means the runner's default.
	Poll time.Duration
	// CopyWait is how long after a send its copy in the Sent folder waits
	// while it is not known whether the server files its own; 0 means
	// store.DefaultCopyWait.
	CopyWait time.Duration

	// do, if set, replaces fyne.Do for work that comes back from the
	// background: tests run it on their own goroutine, one at a time, as
	// the desktop driver runs the UI goroutine.
	do func(func())
}

// DefaultDraftDelay bounds what a crash mid-composition can lose.
const DefaultDraftDelay = 2 * time.Second

// Options configures Run. The zero value works.
type Options struct {
	// ConfigDir is where the account file lives; "" means
	// mailer.ConfigDir().
	ConfigDir string
	// DataDir is where the messages live (Drafts, Outbox, Sent); "" means
	// mailer.DataDir().
	DataDir string
	// Client sends and checks; its OnStage is ignored (the window sets its
	// own per call).
	Client mailer.Client
	// IMAP files the copies in the Sent folder; its OnStage is ignored.
	IMAP mailer.IMAPClient
	// Secrets keeps the password; nil means the OS keychain
	// (mailer.Keychain{}).
	Secrets Secrets
}

// Run opens the window and returns when it is closed.
func Run(opts Options) error {
	dir := opts.ConfigDir
	if dir == "" {
		var err error
		if dir, err = mailer.ConfigDir(); err != nil {
			return err
		}
	}
	data := opts.DataDir
	if data == "" {
		var err error
		if data, err = mailer.DataDir(); err != nil {
			return err
		}
	}
	st, err := store.Open(data)
	if err != nil {
		return err
	}
	// The single draft file of the first versions becomes one of Drafts.
	if err := st.MigrateDraft(filepath.Join(dir, LegacyDraftFile)); err != nil {
		fyne.LogError("moving the old draft into Drafts", err)
	}
	secrets := opts.Secrets
	if secrets == nil {
		secrets = mailer.Keychain{}
	}
	a := app.NewWithID(AppID)
	a.SetIcon(assets.Icon())
	a.Settings().SetTheme(newReadableTheme())
	w := newWindow(Deps{
		App:        a,
		Mailer:     mailerAdapter{client: opts.Client},
		SentFolder: &imapAdapter{IMAPClient: opts.IMAP},
		Contacts:   contactsAdapter{},
		Secrets:    secrets,
		Store:      st,
		ConfigDir:  dir,
	})
	// The background work (keychain, Outbox, lists, contacts) starts once
	// the first frame is drawn.
	a.Lifecycle().SetOnStarted(func() {
		fitToScreen(w.win)
		w.start()
	})
	w.win.ShowAndRun()
	return nil
}

// LegacyDraftFile is the draft file of Postcard's first versions, in the
// config folder; Run moves it into Drafts.
const LegacyDraftFile = "draft.json"

// mailerAdapter is the real Mailer. Client.OnStage is a field, so each call
// works on its own copy of the Client: two calls at once never share it.
type mailerAdapter struct {
	client mailer.Client
}

func (m mailerAdapter) Send(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, out *mailer.Outgoing, progress func(mailer.StageResult)) (*mailer.Result, error) {
	c := m.client
	c.OnStage = progress
	return c.Send(ctx, a, pw, out)
}

func (m mailerAdapter) Connect(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, size int64, recipients int, progress func(mailer.StageResult)) Connection {
	c := m.client
	c.OnStage = progress
	return c.Connect(ctx, a, pw, size, recipients)
}

// imapAdapter is the real SentFolder.
type imapAdapter struct {
	mailer.IMAPClient
}

func (m *imapAdapter) Check(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error) {
	c := m.IMAPClient
	c.OnStage = progress
	return c.Check(ctx, a, pw)
}

func (m mailerAdapter) Check(ctx context.Context, a mailer.Account, pw mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error) {
	c := m.client
	c.OnStage = progress
	return c.Check(ctx, a, pw)
}
