package mailer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxAccountFile bounds the account file. Most are a few hundred bytes;
// the longest real one, with the most aliases each with the longest
// signature (100 × 4 KiB), is about half of this. A larger one is not read
// at all.
const maxAccountFile = 1 << 20

// maxAliases is the most aliases an account may have (as Validate says).
const maxAliases = 100

// The longest values a setting can have: a host name (RFC 1035), an
// address (RFC 5321's path, less its angle brackets), a display name, a
// URL. Longer values come from a damaged or hostile file, or a typo.
const (
	maxHostLen        = 253
	maxAddressLen     = 254
	maxDisplayNameLen = 512
	maxURLLen         = 2048
)

// ErrAccountUnsafe is matched by LoadAccount's and SaveAccount's errors
// for an account file, or its folder, that another user could have
// written; the *UnsafeError in the chain says how to fix it.
var ErrAccountUnsafe = errors.New("mailer: another user could have changed the account file")

// UnsafeError says why the account file or its folder cannot be trusted,
// and how to fix it.
type UnsafeError struct {
	Path    string // the file or folder at fault
	Problem string // "is writable by group or others (mode 0666)", "is owned by user 1001, not by you (1000)"
	Fix     string // a command that fixes it, e.g. "chmod go-w /home/ann/.config/postcard"
}

func (e *UnsafeError) Error() string { return e.Path + " " + e.Problem }
func (e *UnsafeError) Unwrap() error { return ErrAccountUnsafe }

func loadAccount(dir string) (Account, error) {
	path := filepath.Join(dir, AccountFile)
	bad := func(setting Setting, err error, format string, args ...any) (Account, error) {
		return DefaultAccount(), &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: setting,
			Detail: fmt.Sprintf("the account file %s ", path) + fmt.Sprintf(format, args...), Err: err}
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DefaultAccount(), ErrNoAccount
	case err != nil:
		return bad("", err, "cannot be read: %v", unwrapPathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return bad("", err, "cannot be read: %v", unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return bad("", nil, "is not a regular file")
	}
	if err := checkOwnFolder(dir); err != nil {
		return bad("", err, "is in a folder that %s, so Postcard does not use it", err.(*UnsafeError).Problem)
	}
	if err := checkOwnFile(path, fi); err != nil {
		return bad("", err, "%s, so Postcard does not use it", err.(*UnsafeError).Problem)
	}
	if fi.Size() > maxAccountFile {
		return bad("", nil, "is %d bytes; an account takes less than %d", fi.Size(), maxAccountFile)
	}
	// The size may change after the Stat: read no more than the limit.
	data, err := io.ReadAll(io.LimitReader(f, maxAccountFile+1))
	if err != nil {
		return bad("", err, "cannot be read: %v", unwrapPathError(err))
	}
	if len(data) > maxAccountFile {
		return bad("", nil, "is larger than %d bytes; an account takes less", maxAccountFile)
	}
	a := DefaultAccount()
	if err := json.Unmarshal(data, &a); err != nil {
		return bad("", err, "is not valid: %v", err)
	}
	if s, err := a.checkLengths(); err != nil {
		return bad(s, nil, "%v", err)
	}
	return a, nil
}

func saveAccount(dir string, a Account) error {
	bad := func(err error, format string, args ...any) error {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate,
			Detail: fmt.Sprintf("the account cannot be saved in %s: ", dir) + fmt.Sprintf(format, args...), Err: err}
	}
	if s, err := a.checkLengths(); err != nil {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: s, Detail: err.Error()}
	}
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return bad(err, "%v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		if err := checkOwnFolder(dir); err != nil {
			return bad(err, "it %s", err.(*UnsafeError).Problem)
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, AccountFile), append(data, '\n')); err != nil {
		return bad(err, "%v", rootCause(err))
	}
	return nil
}

// checkLengths names the first setting longer than any real one.
func (a Account) checkLengths() (Setting, error) {
	for _, s := range []Setting{SettingHost, SettingUsername, SettingFrom, SettingDisplayName, SettingIMAPHost, SettingContactsURL} {
		if err := a.checkLength(s); err != nil {
			return s, err
		}
	}
	if len(a.Signature) > MaxSignature {
		return SettingDisplayName, fmt.Errorf("the signature is %d bytes; at most %d", len(a.Signature), MaxSignature)
	}
	if len(a.Aliases) > maxAliases {
		return SettingAliases, fmt.Errorf("%d aliases; at most %d", len(a.Aliases), maxAliases)
	}
	for i, id := range a.Aliases {
		if len(id.Address) > maxAddressLen || len(id.Name) > maxDisplayNameLen || len(id.Signature) > MaxSignature {
			return SettingAliases, fmt.Errorf("alias %d is longer than any real one (address %d bytes, name %d, signature %d; at most %d, %d, %d)",
				i+1, len(id.Address), len(id.Name), len(id.Signature), maxAddressLen, maxDisplayNameLen, MaxSignature)
		}
	}
	return "", nil
}

// checkLength refuses a value of setting s longer than any real one.
func (a Account) checkLength(s Setting) error {
	var (
		v   string
		max int
	)
	switch s {
	case SettingHost:
		v, max = a.Host, maxHostLen
	case SettingUsername:
		v, max = a.Username, maxAddressLen
	case SettingFrom:
		v, max = a.From, maxAddressLen
	case SettingDisplayName:
		v, max = a.DisplayName, maxDisplayNameLen
	case SettingIMAPHost:
		v, max = a.IMAPHost, maxHostLen
	case SettingContactsURL:
		v, max = a.ContactsURL, maxURLLen
	default:
		return nil
	}
	if len(v) > max {
		return fmt.Errorf("%s is %d bytes long; the longest Postcard takes is %d", s, len(v), max)
	}
	return nil
}

// unwrapPathError drops the "open <path>:" of a *fs.PathError, which the
// message already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// rootCause is the innermost error: "read-only file system", "no space
// left on device".
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// accountLockFile is the file LockAccount locks, beside the account file.
const accountLockFile = "account.lock"

// LockAccount takes the lock that serialises changes to the account file
// and the keychain entries it names, waiting for it until ctx ends, and
// returns the function that releases it. Two logins at once, one of them
// changing the username, could otherwise each store a password and then
// delete the other's, leaving the keychain empty. The lock is an flock on
// a file in dir (LockFileEx on Windows), released by the system however
// the process ends; dir is created if need be.
func LockAccount(ctx context.Context, dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &Error{Kind: KindInvalidAccount, Stage: StageValidate,
			Detail: fmt.Sprintf("the folder %s cannot be made: %v", dir, unwrapPathError(err)), Err: err}
	}
	path := filepath.Join(dir, accountLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &Error{Kind: KindInvalidAccount, Stage: StageValidate,
			Detail: fmt.Sprintf("the lock %s cannot be opened: %v", path, unwrapPathError(err)), Err: err}
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		err := lockFile(f)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, errLockBusy) {
			f.Close()
			return nil, &Error{Kind: KindInvalidAccount, Stage: StageValidate,
				Detail: fmt.Sprintf("the lock %s cannot be taken: %v", path, err), Err: err}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, &Error{Kind: KindCancelled, Stage: StageValidate,
				Detail: fmt.Sprintf("another Postcard kept the account locked (%s)", path), Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// errLockBusy is lockFile's error when another process holds the lock.
var errLockBusy = errors.New("mailer: locked by another process")

// shellQuote quotes path for a shell, for the command a fix names.
func shellQuote(path string) string {
	if path != "" && strings.Trim(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@:,") == "" {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
