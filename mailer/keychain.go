package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeychainService is the service name Postcard's passwords are stored under
// in the OS keychain; changing it would orphan every stored password.
const KeychainService = "postcard"

// DefaultKeychainTimeout is how long a keychain call may take before Postcard
// gives up: long enough for a slow D-Bus, short enough that an unlock prompt
// nobody answers does not hang a send forever.
const DefaultKeychainTimeout = 10 * time.Second

// The keychain failures callers branch on with errors.Is; each comes wrapped
// in an *Error, never bare.
var (
	// ErrPasswordNotFound means no password is stored for the user, so the
	// user has to sign in (again) rather than fix the keychain.
	ErrPasswordNotFound = errors.New("mailer: no password is stored in the keychain")
	// ErrKeychainUnavailable means there is no usable keychain (no D-Bus, no
	// Secret Service) or it is locked; go-keyring's Linux errors are not
	// sentinels, so every failure it reports other than "not found" lands here.
	ErrKeychainUnavailable = errors.New("mailer: no keychain is available or it is locked")
	// ErrKeychainTimeout means the keychain did not answer in time, typically
	// because it shows an unlock prompt that nobody answers.
	ErrKeychainTimeout = errors.New("mailer: the keychain did not answer in time")
	// ErrPasswordOtherServer means a password is stored, but not for every
	// server the account now sends it to (see GetFor): the account file
	// names another server than the one the password was saved for. It
	// also matches ErrPasswordNotFound, since the way out is the same:
	// sign in again.
	ErrPasswordOtherServer = errors.New("mailer: the password stored was saved for another server")
)

// SecretStore is the keychain backend Keychain talks to; tests swap in a
// fake so they need neither D-Bus nor a real keyring.
type SecretStore interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// Keychain keeps the app-specific password in the OS keychain, one entry per
// username, so it never sits in a config file; the zero value is ready to use.
//
// Errors are *Error: KindKeychain at StageKeychain matching one of the
// sentinels above, KindCancelled when ctx is cancelled, or KindInvalidAccount
// at StageValidate for an empty username or password. None contains the
// password.
type Keychain struct {
	// Service is the keychain service name; "" means KeychainService.
	Service string
	// Timeout bounds each store call; 0 or less means DefaultKeychainTimeout.
	Timeout time.Duration
	// Store is the backend; nil means the OS keychain through go-keyring.
	Store SecretStore
}

// osStore is the OS keychain through go-keyring: the Secret Service over
// D-Bus on Linux, the security tool on macOS, Credential Manager on Windows.
type osStore struct{}

// Each call first makes sure a D-Bus session exists where go-keyring needs
// one: without it, godbus would start one with dbus-launch, leaving a
// dbus-daemon and a gnome-keyring-daemon behind after every run.
func (osStore) Get(service, user string) (string, error) {
	if !sessionBus() {
		return "", errNoSessionBus
	}
	return keyring.Get(service, user)
}

func (osStore) Set(service, user, password string) error {
	if !sessionBus() {
		return errNoSessionBus
	}
	return keyring.Set(service, user, password)
}

func (osStore) Delete(service, user string) error {
	if !sessionBus() {
		return errNoSessionBus
	}
	return keyring.Delete(service, user)
}

// errNoSessionBus is osStore's error where the keychain is reached over
// D-Bus and there is no session bus to reach it by.
var errNoSessionBus = errors.New("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)")

func (k Keychain) service() string {
	if k.Service == "" {
		return KeychainService
	}
	return k.Service
}

func (k Keychain) timeout() time.Duration {
	if k.Timeout <= 0 {
		return DefaultKeychainTimeout
	}
	return k.Timeout
}

func (k Keychain) store() SecretStore {
	if k.Store == nil {
		return osStore{}
	}
	return k.Store
}

// Get returns the password stored for user, whatever servers it was saved
// for: a caller about to send it to a server uses GetFor.
func (k Keychain) Get(ctx context.Context, user string) (string, error) {
	if err := checkUser(user); err != nil {
		return "", err
	}
	v, err := k.getRaw(ctx, user)
	if err != nil {
		return "", err
	}
	pw, _, _ := unbind(v)
	return pw, nil
}

// getRaw returns the value stored for user, with the servers it was saved
// for if it records them.
func (k Keychain) getRaw(ctx context.Context, user string) (string, error) {
	var raw string
	err := k.call(ctx, "reading the password for "+user, func(s SecretStore, service string) error {
		v, err := s.Get(service, user)
		if err != nil {
			// macOS's decoder can fail with a piece of the value in its
			// message, so scrub whatever came back before keeping the text.
			pw, _, _ := unbind(v)
			return scrub(scrub(err, v), pw)
		}
		raw = v
		return nil
	})
	if err != nil {
		return "", k.classify(err, user)
	}
	return raw, nil
}

// SetFor stores password for a.Username, recording the servers a sends it
// to (Account.PasswordHosts), so that GetFor gives it to no other server.
// It replaces any password stored before for that username.
func (k Keychain) SetFor(ctx context.Context, a Account, password string) error {
	if password == "" {
		return k.Set(ctx, a.Username, password) // its error
	}
	return k.setRaw(ctx, a.Username, bind(a.PasswordHosts(), password), password)
}

// GetFor returns the password stored for a.Username if it was saved for
// every server a sends it to. An account file that now names another
// server (changed by mistake, or by someone else) gets an *Error matching
// ErrPasswordOtherServer and ErrPasswordNotFound instead of the password:
// the user signs in again rather than the password going elsewhere. A
// password stored without its servers (by Set, or by Postcard before it
// recorded them) is given only to iCloud's servers.
func (k Keychain) GetFor(ctx context.Context, a Account) (string, error) {
	user := a.Username
	v, err := k.getRaw(ctx, user)
	if err != nil {
		return "", err
	}
	pw, saved, bound := unbind(v)
	var other []string
	for _, h := range a.PasswordHosts() {
		if bound && !slices.Contains(saved, h) || !bound && !iCloudHosts[h] {
			other = append(other, h)
		}
	}
	if len(other) == 0 {
		return pw, nil
	}
	detail := fmt.Sprintf("the password stored for %s was saved for %s, not for %s: Postcard does not send it to another server",
		user, strings.Join(saved, " and "), strings.Join(other, " and "))
	if !bound {
		detail = fmt.Sprintf("the password stored for %s was saved before Postcard recorded its server, so it goes to iCloud only, not to %s",
			user, strings.Join(other, " and "))
	}
	return "", &Error{Kind: KindKeychain, Stage: StageKeychain, Detail: detail,
		Err: fmt.Errorf("%w: %w", ErrPasswordOtherServer, ErrPasswordNotFound)}
}

// iCloudHosts are the servers a password stored without its servers may
// go to: iCloud's own, where every such password was checked before.
var iCloudHosts = map[string]bool{ICloudHost: true, ICloudIMAPHost: true, "contacts.icloud.com": true}

// boundPrefix starts a stored value that records its servers:
// "postcard-password:1 HOST HOST\nPASSWORD". A password is one line, and
// app-specific ones are letters and dashes, so none starts so.
const boundPrefix = "postcard-password:1 "

func bind(hosts []string, password string) string {
	return boundPrefix + strings.Join(hosts, " ") + "\n" + password
}

// unbind splits a stored value into the password and the servers it was
// saved for; bound is false for a bare password.
func unbind(v string) (password string, hosts []string, bound bool) {
	rest, ok := strings.CutPrefix(v, boundPrefix)
	if !ok {
		return v, nil, false
	}
	line, pw, ok := strings.Cut(rest, "\n")
	if !ok {
		return v, nil, false
	}
	return pw, strings.Fields(line), true
}

// Set stores password for user, replacing any password stored before.
func (k Keychain) Set(ctx context.Context, user, password string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if password == "" {
		// An empty entry would only turn a clear "not signed in" into a
		// confusing authentication failure at the server later.
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Detail: "the password is empty"}
	}
	return k.setRaw(ctx, user, password, password)
}

// setRaw stores value, which holds password, for user.
func (k Keychain) setRaw(ctx context.Context, user, value, password string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	err := k.call(ctx, "storing the password for "+user, func(s SecretStore, service string) error {
		// The library's text is kept in Detail; make sure it can never
		// carry the secret, whatever backend produced it.
		return scrub(scrub(s.Set(service, user, value), value), password)
	})
	if err != nil {
		return k.classify(err, user)
	}
	return nil
}

// Delete removes the password stored for user; when there is none the error
// wraps ErrPasswordNotFound, so callers can ignore exactly that case.
func (k Keychain) Delete(ctx context.Context, user string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	err := k.call(ctx, "removing the password for "+user, func(s SecretStore, service string) error {
		return s.Delete(service, user)
	})
	if err != nil {
		return k.classify(err, user)
	}
	return nil
}

// Move re-files the password of oldUser under newUser when the account's
// username changes, storing the new entry before deleting the old one so a
// failure half-way never loses the only copy (same user: nothing to do; no
// old entry: ErrPasswordNotFound).
func (k Keychain) Move(ctx context.Context, oldUser, newUser string) error {
	if err := checkUser(oldUser); err != nil {
		return err
	}
	if err := checkUser(newUser); err != nil {
		return err
	}
	if oldUser == newUser {
		return nil
	}
	// The value as stored, so that the servers it was saved for move too.
	v, err := k.getRaw(ctx, oldUser)
	if err != nil {
		return err
	}
	pw, _, _ := unbind(v)
	if err := k.setRaw(ctx, newUser, v, pw); err != nil {
		return err
	}
	err = k.Delete(ctx, oldUser)
	if err == nil || errors.Is(err, ErrPasswordNotFound) {
		// Gone already (removed by someone else meanwhile): the move is done.
		return nil
	}
	// No rollback of the new entry: after a timeout the delete of the old one
	// may still complete in the background, and removing the new one too
	// would lose the password altogether. A spare copy is harmless; a lost
	// one means creating a new app-specific password.
	var e *Error
	if errors.As(err, &e) {
		return &Error{
			Kind:   e.Kind,
			Stage:  e.Stage,
			Detail: fmt.Sprintf("the password was copied to %s but could not be removed for %s: %s", newUser, oldUser, e.Detail),
			Err:    e.Err,
		}
	}
	return err
}

// checkUser rejects an empty username, which would file the password under
// an entry nobody can look up on purpose.
func checkUser(user string) error {
	if strings.TrimSpace(user) == "" {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Detail: "username is empty: the keychain stores the password under your full iCloud address"}
	}
	return nil
}

// callError is how call reports that the store never answered, as opposed
// to an error the store returned.
type callError struct {
	kind   Kind
	detail string
	err    error
}

func (e *callError) Error() string { return e.detail }

// call runs fn against the store in its own goroutine and waits for it, the
// timeout or ctx, whichever comes first.
//
// go-keyring cannot be interrupted: a D-Bus call waiting on an unlock prompt
// blocks until someone answers it. So on timeout or cancel the goroutine is
// left running and its result is dropped (the channel is buffered, so it
// never blocks on send); a Set or Delete abandoned this way may still take
// effect later. A goroutine per stuck call is the price of never hanging the
// caller.
func (k Keychain) call(ctx context.Context, what string, fn func(SecretStore, string) error) error {
	if err := ctx.Err(); err != nil {
		// Do not start a write the caller no longer wants.
		return cancelled(ctx, what)
	}
	store, service, timeout := k.store(), k.service(), k.timeout()
	done := make(chan error, 1)
	go func() { done <- fn(store, service) }()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return &callError{
			kind:   KindKeychain,
			detail: fmt.Sprintf("the keychain did not answer within %v while %s; it may be waiting for you to unlock it", timeout, what),
			err:    ErrKeychainTimeout,
		}
	case <-ctx.Done():
		return cancelled(ctx, what)
	}
}

// cancelled reports the end of ctx. A deadline of the caller's is still the
// keychain not answering in time, so it also matches ErrKeychainTimeout.
func cancelled(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &callError{
			kind:   KindKeychain,
			detail: "the keychain did not answer before the deadline while " + what + "; it may be waiting for you to unlock it",
			err:    fmt.Errorf("%w: %w", ErrKeychainTimeout, ctx.Err()),
		}
	}
	return &callError{
		kind:   KindCancelled,
		detail: "cancelled while " + what,
		err:    ctx.Err(),
	}
}

// classify turns what call returned into the package's *Error.
func (k Keychain) classify(err error, user string) error {
	var ce *callError
	if errors.As(err, &ce) {
		return &Error{Kind: ce.kind, Stage: StageKeychain, Detail: ce.detail, Err: ce.err}
	}
	e := &Error{Kind: KindKeychain, Stage: StageKeychain}
	switch {
	case errors.Is(err, keyring.ErrNotFound), errors.Is(err, ErrPasswordNotFound):
		e.Detail = "no password is stored for " + user
		e.Err = wrapSentinel(ErrPasswordNotFound, err)
	case errors.Is(err, ErrKeychainTimeout):
		// Only a SecretStore of the caller's own can say this.
		e.Detail = withCause("the keychain did not answer in time; it may be waiting for you to unlock it", err)
		e.Err = wrapSentinel(ErrKeychainTimeout, err)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		e.Detail = "the keychain refused the password for " + user + " because it is too long"
		e.Err = wrapSentinel(ErrKeychainUnavailable, err)
	case errors.Is(err, errNoSessionBus):
		e.Detail = "no keychain (no D-Bus session): DBUS_SESSION_BUS_ADDRESS is not set, so the Secret Service cannot be reached"
		e.Err = wrapSentinel(ErrKeychainUnavailable, err)
	default:
		// On Linux, no bus, no Secret Service and a locked collection all
		// come back as plain errors, so they cannot be told apart reliably.
		e.Detail = withCause("no keychain is available or it is locked", err)
		e.Err = wrapSentinel(ErrKeychainUnavailable, err)
	}
	return e
}

// withCause appends the store's own words to detail, since they often name
// the actual problem (no bus, no Secret Service, which collection is
// locked), unless err is just one of our sentinels repeating detail.
func withCause(detail string, err error) string {
	switch err {
	case ErrKeychainTimeout, ErrKeychainUnavailable:
		return detail
	}
	return detail + ": " + err.Error()
}

// wrapSentinel makes err match sentinel with errors.Is while keeping err
// itself reachable for callers who want the library's error.
func wrapSentinel(sentinel, err error) error {
	if err == sentinel {
		return sentinel
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// sentinels are the errors a redacted error must still match, so that
// scrubbing a secret out of a message does not change how it is classified.
var sentinels = []error{keyring.ErrNotFound, keyring.ErrSetDataTooBig, ErrPasswordNotFound, ErrKeychainUnavailable, ErrKeychainTimeout}

// redactedError replaces an error whose text contained a secret.
type redactedError struct {
	msg  string
	kind error // the sentinel the original matched, or nil
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.kind }

// scrub returns err unless its text contains secret; then it returns an
// error with the secret cut out of the text. The original is dropped on
// purpose: keeping it in the chain would keep the secret reachable.
func scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	r := &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "[redacted]")}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			r.kind = s
			break
		}
	}
	return r
}

// PasswordHosts returns the servers a sends its password to: the SMTP
// host, the IMAP host when a copy of each message sent is filed, and the
// contacts server's host when the contacts are read. Names are lower case,
// without a trailing dot, sorted, each once. Keychain.SetFor records them
// with the password, and Keychain.GetFor gives the password only to an
// account that sends it nowhere else.
func (a Account) PasswordHosts() []string {
	hosts := []string{normalHost(a.Host)}
	if im, ok := a.SentCopy(); ok {
		hosts = append(hosts, normalHost(im.Host))
	}
	if c, ok := a.Contacts(); ok {
		if u, err := url.Parse(strings.TrimSpace(c.URL)); err == nil && u.Hostname() != "" {
			hosts = append(hosts, normalHost(u.Hostname()))
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

func normalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}
