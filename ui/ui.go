// Package ui is Postcard's window: a compose pane and a settings pane over
// the same account file and keychain entry as the command line.
package ui

import (
	"context"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/postcard-mail/postcard/assets"
	"github.com/postcard-mail/postcard/mailer"
)

// AppID is the application ID the window registers with, so its preferences
// and desktop entry stay the same whether it is built with go build or
// packaged; FyneApp.toml must carry the same value.
const AppID = "io.github.postcard-mail.postcard"

// Mailer sends messages and checks logins. progress, when not nil, is called
// on the sending goroutine each time a stage ends. *mailer.Client does the
// real work (see Run); tests hand in fakes.
type Mailer interface {
	Send(ctx context.Context, a mailer.Account, password string, m mailer.Message, progress func(mailer.StageResult)) (*mailer.Result, error)
	Check(ctx context.Context, a mailer.Account, password string, progress func(mailer.StageResult)) ([]mailer.StageResult, error)
}

// Secrets keeps the app-specific password per username, as mailer.Keychain
// does. Its errors are *mailer.Error matching mailer.ErrPasswordNotFound,
// mailer.ErrKeychainUnavailable or mailer.ErrKeychainTimeout.
type Secrets interface {
	Get(ctx context.Context, user string) (string, error)
	Set(ctx context.Context, user, password string) error
	Delete(ctx context.Context, user string) error
	Move(ctx context.Context, oldUser, newUser string) error
}

// Deps is everything the window needs from outside. App, Mailer and Secrets
// are required; the zero value of every other field works.
type Deps struct {
	App     fyne.App
	Mailer  Mailer
	Secrets Secrets
	// ConfigDir holds the account file and the draft; "" means
	// mailer.ConfigDir().
	ConfigDir string
	// OpenURL opens a web page; nil means App.OpenURL.
	OpenURL func(*url.URL) error
	// Now is the clock for the "sent at" confirmation; nil means time.Now.
	Now func() time.Time
	// DraftDelay is how long after the last change the draft is saved;
	// 0 means DefaultDraftDelay.
	DraftDelay time.Duration
}

// DefaultDraftDelay bounds what a crash mid-composition can lose.
const DefaultDraftDelay = 2 * time.Second

// Options configures Run. The zero value works.
type Options struct {
	// ConfigDir is where the account file and the draft live; "" means
	// mailer.ConfigDir().
	ConfigDir string
	// DataDir is where the messages live (Drafts, Outbox, Sent); "" means
	// mailer.DataDir().
	DataDir string
	// Client sends and checks; its OnStage is ignored (the window sets its
	// own per call).
	Client mailer.Client
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
	secrets := opts.Secrets
	if secrets == nil {
		secrets = mailer.Keychain{}
	}
	a := app.NewWithID(AppID)
	a.SetIcon(assets.Icon())
	a.Settings().SetTheme(newReadableTheme())
	w := NewWindow(Deps{
		App:       a,
		Mailer:    mailerAdapter{client: opts.Client},
		Secrets:   secrets,
		ConfigDir: dir,
	})
	w.ShowAndRun()
	return nil
}

// mailerAdapter is the real Mailer. Client.OnStage is a field, so each call
// works on its own copy of the Client: two calls at once never share it.
type mailerAdapter struct {
	client mailer.Client
}

func (m mailerAdapter) Send(ctx context.Context, a mailer.Account, password string, msg mailer.Message, progress func(mailer.StageResult)) (*mailer.Result, error) {
	c := m.client
	c.OnStage = progress
	if err := a.Validate(); err != nil {
		return nil, err
	}
	p, err := mailer.Prepare(a, msg)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx, a, mailer.Password(password), p.Outgoing())
}

func (m mailerAdapter) Check(ctx context.Context, a mailer.Account, password string, progress func(mailer.StageResult)) ([]mailer.StageResult, error) {
	c := m.client
	c.OnStage = progress
	return c.Check(ctx, a, mailer.Password(password))
}
