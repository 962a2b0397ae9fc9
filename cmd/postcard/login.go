package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

const loginSynopsis = "postcard login [--host H] [--port N] [--security starttls|ssl] [--username U] [--from A] [--name DISPLAYNAME] [--imap-host H] [--imap-port N] [--imap-security ssl|starttls] [--no-sent-copy | --sent-copy] [--contacts-url URL] [--no-contacts | --contacts] [--password-stdin] [--no-verify] [--json]"

type loginOptions struct {
	server        serverFlags
	username      *string // nil: not given, keep the saved value
	from          *string
	name          *string
	imap          imapFlags
	contacts      contactsFlags
	passwordStdin bool
	noVerify      bool
	json          bool
}

func parseLogin(args []string) (loginOptions, error) {
	var o loginOptions
	fs := newFlagSet("login")
	o.server.register(fs)
	username := fs.String("username", "", "login `address`: your full iCloud address, like name@icloud.com")
	from := fs.String("from", "", "sender `address` when it is not the username: an alias or custom-domain address (\"\" to clear)")
	name := fs.String("name", "", "display `name` shown to recipients (\"\" to clear)")
	o.imap.register(fs)
	o.contacts.register(fs)
	fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the app-specific password from the first line of standard input")
	fs.BoolVar(&o.noVerify, "no-verify", false, "save without signing in to the server first")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == "password" {
			// Never as an argument: it would end up in the shell history
			// and in every process listing.
			return o, usageErrorf("login", "login: the password is never given as an argument; type it at the prompt or pipe it in with --password-stdin")
		}
	}
	if err := parseFlags(fs, loginSynopsis, args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "username":
			o.username = username
		case "from":
			o.from = from
		case "name":
			o.name = name
		}
	})
	return o, nil
}

// account returns base with the options given.
func (o loginOptions) account(base mailer.Account) mailer.Account {
	a := o.server.apply(base)
	if o.username != nil {
		a.Username = strings.TrimSpace(*o.username)
	}
	if o.from != nil {
		a.From = strings.TrimSpace(*o.from)
	}
	if o.name != nil {
		a.DisplayName = strings.TrimSpace(*o.name)
	}
	return o.contacts.apply(o.imap.apply(a))
}

func (c *command) login(ctx context.Context, args []string) int {
	opts, err := parseLogin(args)
	out := newOutput(c, opts.json || hasJSONFlag(args))
	if err != nil {
		return c.parseFailed(out, err)
	}
	// The saved account prefills what the flags leave out.
	saved, dir, err := c.loadAccount()
	hadSaved := err == nil
	var ce *cmdError
	switch {
	case errors.As(err, &ce) && ce.kind == "config":
		out.warn(err.Error() + "; starting from iCloud's settings")
		saved = mailer.DefaultAccount()
	case err != nil && err != errNoAccount:
		return out.fail(err)
	}
	a := opts.account(saved)

	in := bufio.NewReaderSize(c.stdin, maxLine)
	if a.Username == "" {
		if opts.passwordStdin || !c.stdinIsTerm() {
			return out.fail(usageErrorf("login", "login: --username is required: your full iCloud address, like name@icloud.com"))
		}
		fmt.Fprint(c.stderr, "iCloud address (name@icloud.com): ")
		line, err := untilDone(ctx, func() (string, error) { return readLine(in) })
		if err != nil {
			return out.fail(loginReadFailed(ctx, "no username given", err))
		}
		a.Username = strings.TrimSpace(line)
	}
	if err := a.Validate(); err != nil {
		return out.fail(err)
	}
	password, err := c.password(ctx, in, a.Username, opts.passwordStdin)
	if err != nil {
		return out.fail(err)
	}

	var stages []mailer.StageResult
	if !opts.noVerify {
		client := c.client
		client.OnStage = out.stage
		stages, err = client.Check(ctx, a, mailer.Password(password))
		if err != nil {
			// Nothing is saved: a password that failed to log in is not
			// worth keeping, and the old settings may still be the good ones.
			return out.fail(err, stages...)
		}
		// The copy in the Sent folder is checked too; a failure there
		// does not stop the login, which is about sending.
		if im, ok := a.SentCopy(); ok {
			ic := c.imap
			ic.OnStage = out.imapStage
			if _, err := ic.Check(ctx, im, mailer.Password(password)); err != nil {
				out.warn("copies of the messages sent cannot be saved in the Sent folder: " + err.Error() + "\nhint: " + hintOf(err) + " (postcard login --no-sent-copy turns them off)")
			}
		}
	}

	// Another login may be saving at the same time: one at a time, and
	// from the account as it is once the lock is ours, or each could
	// delete the password the other just stored.
	unlock, err := c.lockAccount(ctx, dir)
	if err != nil {
		return out.fail(err, stages...)
	}
	defer unlock()
	saved, err = mailer.LoadAccount(dir)
	hadSaved = err == nil
	if err := c.keychain.SetFor(ctx, a, password); err != nil {
		return out.fail(err, stages...)
	}
	if err := mailer.SaveAccount(dir, a); err != nil {
		if !hadSaved || saved.Username != a.Username {
			// Best effort, so no password stays behind for an account
			// that was not saved.
			_ = c.keychain.Delete(ctx, a.Username)
		}
		return out.fail(saveFailed(dir, err), stages...)
	}
	if hadSaved && saved.Username != "" && saved.Username != a.Username {
		// The password of the old username would be an orphan, unless the
		// account file names it again (written by something that does not
		// take the lock): look before deleting.
		if now, err := mailer.LoadAccount(dir); err == nil && now.Username != saved.Username {
			err := c.keychain.Delete(ctx, saved.Username)
			if err != nil && !errors.Is(err, mailer.ErrPasswordNotFound) {
				out.warn(fmt.Sprintf("the password of the previous username %s could not be removed from the keychain: %v", saved.Username, err))
			}
		}
	}

	msg := fmt.Sprintf("Saved. The account is in %s; the password is stored in the keychain.", filepath.Join(dir, mailer.AccountFile))
	if opts.noVerify {
		msg += " It was not checked: run postcard check to try it."
	}
	return out.done(msg, result{Message: msg, Stages: stages})
}

// password reads the password from the first line of in (--password-stdin)
// or from the terminal without echo. It is never an argument. Ctrl+C ends
// the wait at once.
func (c *command) password(ctx context.Context, in *bufio.Reader, username string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := untilDone(ctx, func() (string, error) { return readLine(in) })
		if err != nil && !errors.Is(err, io.EOF) {
			return "", loginReadFailed(ctx, "reading the password from standard input", err)
		}
		if line == "" {
			return "", usageErrorf("login", "login: --password-stdin: standard input holds no password")
		}
		return line, nil
	}
	if !c.stdinIsTerm() {
		return "", usageErrorf("login", "login: standard input is not a terminal, so the password cannot be asked for: pipe it in with --password-stdin")
	}
	fmt.Fprintf(c.stderr, "App-specific password for %s (not your Apple ID password): ", username)
	b, err := c.readPassword(ctx)
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", loginReadFailed(ctx, "reading the password", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", usageErrorf("login", "login: no password given")
	}
	return pw, nil
}

// maxLine bounds a line read from standard input, a username or a
// password: the reader given to readLine is this large.
const maxLine = 4096

// readLine reads one line, without its line ending, from r, a reader of
// maxLine bytes: a longer line is an error, not read on. A last line
// without a line ending is returned with a nil error.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("the line is longer than %d bytes", maxLine)
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// loginReadFailed is the error of a prompt or a read of standard input
// that failed or was cancelled.
func loginReadFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return &cmdError{kind: "cancelled", code: exitTempFail, msg: "login: cancelled; nothing was saved",
			hint: "Nothing was saved. Run postcard login again when you are ready."}
	}
	return usageErrorf("login", "login: %s: %v", what, err)
}

// lockAccount takes the account's lock for a change of the account file
// and the keychain together, waiting a while for another postcard.
func (c *command) lockAccount(ctx context.Context, dir string) (func(), error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	unlock, err := mailer.LockAccount(lctx, dir)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // cancelled: the mailer's error says so
		}
		if lctx.Err() == nil {
			// The lock file could not be made: a read-only folder or a
			// full disk, not another postcard.
			return nil, saveFailed(dir, err)
		}
		return nil, &cmdError{kind: "config", code: exitConfig, msg: err.Error(),
			hint: fmt.Sprintf("Another postcard is changing the account. Wait for it to finish and try again; if none is running, make sure %s is a folder you can write.", dir)}
	}
	return unlock, nil
}

// saveFailed is the error of an account that could not be saved in dir:
// the folder, a read-only one or a full disk, is what to fix.
func saveFailed(dir string, err error) error {
	hint := fmt.Sprintf("Postcard keeps the account in %s: make sure that folder is yours and writable and the disk is not full, then try again.", dir)
	var ue *mailer.UnsafeError
	if errors.As(err, &ue) {
		hint = fmt.Sprintf("Postcard does not keep the account where another user could change it. Run: %s", ue.Fix)
	}
	return &cmdError{kind: "config", code: exitConfig, msg: err.Error(), hint: hint}
}
