package ui

import (
	"context"
	"errors"
	"sync"

	"github.com/postcard-mail/postcard/mailer"
)

// passwordState is what the keychain said about the account's password.
type passwordState int

const (
	passwordUnknown     passwordState = iota // not looked up (yet)
	passwordStored                           // in the keychain
	passwordMissing                          // none stored
	passwordUnavailable                      // no keychain, or it did not answer
)

// account owns the account the window sends with and how its password is
// had: from the keychain, or kept in memory for this session only. The
// panes read and change it through its methods; the Outbox's sends read it
// from their own goroutine, so it is safe for concurrent use. Listeners are
// told of changes on the UI goroutine.
type account struct {
	secrets Secrets

	mu          sync.Mutex
	a           mailer.Account
	has         bool // a is saved (else iCloud's defaults)
	keychain    passwordState
	keychainErr error // why the keychain is unavailable
	session     string

	listeners []func() // on the UI goroutine
}

func newAccount(secrets Secrets, a mailer.Account, saved bool) *account {
	return &account{secrets: secrets, a: a, has: saved}
}

// get returns the account and whether it is saved.
func (c *account) get() (mailer.Account, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.a, c.has
}

// state returns what is known of the password: the keychain's state, why
// it is unavailable, and whether a session password is kept.
func (c *account) state() (passwordState, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keychain, c.keychainErr, c.session != ""
}

// sessionPassword is the password kept for this session only, or "".
func (c *account) sessionPassword() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// hasPassword reports whether there is a password to send with, as far as
// is known.
func (c *account) hasPassword() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session != "" || c.keychain == passwordStored
}

// password is how a send gets the password of the account as it is now:
// the session's, or the keychain's, read when the send asks.
func (c *account) password() mailer.PasswordFunc {
	c.mu.Lock()
	session, a := c.session, c.a
	c.mu.Unlock()
	if session != "" {
		return mailer.Password(session)
	}
	secrets := c.secrets
	return func(ctx context.Context) (string, error) { return secrets.GetFor(ctx, a) }
}

// sendWith returns the account and its password as they are now, for one
// send.
func (c *account) sendWith() (mailer.Account, mailer.PasswordFunc) {
	a, _ := c.get()
	return a, c.password()
}

// set makes a the saved account.
func (c *account) set(a mailer.Account) {
	c.mu.Lock()
	c.a, c.has = a, true
	c.mu.Unlock()
	c.changed()
}

// lookedUp records what the keychain said about user's password; it is
// ignored when the account changed meanwhile or the state is known.
func (c *account) lookedUp(user string, err error) bool {
	c.mu.Lock()
	if user != c.a.Username || c.keychain != passwordUnknown {
		c.mu.Unlock()
		return false
	}
	switch {
	case err == nil:
		c.keychain = passwordStored
	case errors.Is(err, mailer.ErrPasswordNotFound):
		c.keychain = passwordMissing
	default:
		c.keychain, c.keychainErr = passwordUnavailable, err
	}
	c.mu.Unlock()
	c.changed()
	return true
}

// setKeychain records the keychain's state after a store or removal.
func (c *account) setKeychain(s passwordState, err error) {
	c.mu.Lock()
	c.keychain, c.keychainErr = s, err
	c.mu.Unlock()
	c.changed()
}

// setSession keeps pw in memory for this session ("" forgets it).
func (c *account) setSession(pw string) {
	c.mu.Lock()
	c.session = pw
	c.mu.Unlock()
	c.changed()
}

// onChange registers f, called on the UI goroutine after each change.
func (c *account) onChange(f func()) { c.listeners = append(c.listeners, f) }

func (c *account) changed() {
	for _, f := range c.listeners {
		f()
	}
}
