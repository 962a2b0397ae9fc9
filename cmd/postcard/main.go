// Command postcard sends one-off emails through iCloud Mail: with no
// arguments it opens the window, with a subcommand it works from the shell.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/postcard-mail/postcard/assets"
	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
	"github.com/postcard-mail/postcard/ui"
)

func main() {
	// The password passes through this process's memory: keep it out of
	// core dumps and out of reach of the user's other processes.
	_ = mailer.NoCoreDumps()
	// The first Ctrl+C (or SIGTERM) cancels what the command is waiting on,
	// a send mid-upload, the body from a pipe or the password prompt
	// included; once it has, the signal is handed back so a second one
	// kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	c := &command{
		stdin:        os.Stdin,
		stdout:       os.Stdout,
		stderr:       os.Stderr,
		stdinIsTerm:  func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		readPassword: readPasswordTerminal,
		configDir:    mailer.ConfigDir,
		dataDir:      mailer.DataDir,
		openWindow:   openWindowOnDisplay,
	}
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// command is one run of postcard: its streams and the few things tests
// replace (the terminal, the config folder, the keychain backend, the window).
type command struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinIsTerm    func() bool
	readPassword   func(context.Context) ([]byte, error) // without echo, from the terminal
	configDir      func() (string, error)
	dataDir        func() (string, error) // the message store's folder
	keychain       mailer.Keychain
	client         mailer.Client
	imap           mailer.IMAPClient
	openWindow     func(ui.Options) error
}

const usage = `Postcard sends one-off emails through iCloud Mail.

Usage:
  postcard                 open the window
  postcard login           save the account and store the password in the keychain
  postcard check           sign in to the server without sending anything
  postcard send            send a message (--queue: through the Outbox)
  postcard outbox          list the Outbox; outbox send, outbox delete ID
  postcard sent            list the messages sent
  postcard contacts QUERY  search the contacts; contacts sync, contacts import FILE.vcf
  postcard logout          remove the password from the keychain
  postcard version         print the version
  postcard help [command]  show help for a command

Run "postcard <command> --help" for the options of a command.
Exit codes follow sysexits: 0 ok, 64 usage, 65 invalid message, 68 host not
found, 69 refused or unreachable, 70 refused by the server (or sent with no
confirmation: look in Sent before retrying), 75 temporary, trying again may
work, 76 TLS or a server breaking the protocol, 77 authentication, 78
configuration or keychain.
`

// run runs postcard with args (without the program name) and returns the
// exit code.
func (c *command) run(ctx context.Context, args []string) int {
	// Whatever is printed may hold text from outside: escape its controls.
	c.stdout, c.stderr = escapeControls(c.stdout), escapeControls(c.stderr)
	if len(args) == 0 {
		return c.window()
	}
	name, rest := args[0], args[1:]
	switch name {
	case "login":
		return c.login(ctx, rest)
	case "check":
		return c.check(ctx, rest)
	case "send":
		return c.send(ctx, rest)
	case "logout":
		return c.logout(ctx, rest)
	case "outbox":
		return c.outbox(ctx, rest)
	case "sent":
		return c.sent(rest)
	case "contacts":
		return c.contactsCmd(ctx, rest)
	case "help", "-h", "-help", "--help":
		return c.help(rest)
	case "version", "-version", "--version":
		return c.version(rest)
	}
	out := newOutput(c, hasJSONFlag(rest))
	code := out.fail(usageErrorf("", "unknown command %q", name))
	if !out.json {
		fmt.Fprint(c.stderr, "\n"+usage)
	}
	return code
}

func (c *command) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	switch args[0] {
	case "login", "check", "send", "logout", "version", "outbox", "sent", "contacts":
		return c.run(context.Background(), []string{args[0], "--help"})
	}
	return newOutput(c, false).fail(usageErrorf("", "unknown command %q", args[0]))
}

// version prints the version and build from FyneApp.toml (through
// assets), the same in a go build and in a package.
func (c *command) version(args []string) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(c.stdout, "Usage: postcard version\n\nPrints the version of postcard and its build number.\n")
		return exitOK
	}
	if len(args) > 0 {
		return newOutput(c, false).fail(usageErrorf("version", "version takes no arguments"))
	}
	fmt.Fprintf(c.stdout, "postcard %s (build %d)\n", assets.Version, assets.Build)
	return exitOK
}

func (c *command) window() int {
	dir, err := c.configDir()
	if err != nil {
		return newOutput(c, false).fail(err)
	}
	data, err := c.dataDir()
	if err != nil {
		return newOutput(c, false).fail(err)
	}
	if err := c.openWindow(ui.Options{ConfigDir: dir, DataDir: data}); err != nil {
		return newOutput(c, false).fail(err)
	}
	return exitOK
}

// loadAccount reads the saved account; a missing one is errNoAccount.
func (c *command) loadAccount() (mailer.Account, string, error) {
	dir, err := c.configDir()
	if err != nil {
		return mailer.Account{}, "", err
	}
	a, err := mailer.LoadAccount(dir)
	switch {
	case errors.Is(err, mailer.ErrNoAccount):
		return a, dir, errNoAccount
	case err != nil:
		hint := "Run postcard login to write the account settings again."
		var ue *mailer.UnsafeError
		if errors.As(err, &ue) {
			hint = fmt.Sprintf("Postcard does not use an account file another user could have changed. If it is yours as it is, run: %s (or delete it and run postcard login).", ue.Fix)
		}
		return a, dir, &cmdError{kind: "config", code: exitConfig, msg: err.Error(), hint: hint}
	}
	return a, dir, nil
}

// openStore opens the message store (Drafts, Outbox, Sent).
func (c *command) openStore() (*store.Store, error) {
	dir, err := c.dataDir()
	if err != nil {
		return nil, &cmdError{kind: "config", code: exitConfig, msg: err.Error(), hint: "Set HOME (or XDG_DATA_HOME) to a folder Postcard can write."}
	}
	s, err := store.Open(dir)
	if err != nil {
		return nil, &cmdError{kind: "config", code: exitConfig, msg: err.Error(),
			hint: fmt.Sprintf("Postcard keeps its messages in %s: make sure it is a folder you can write.", dir)}
	}
	return s, nil
}

// keepPassword returns pw that, once it has given the password, gives it
// again without reading the keychain: for a command that signs in to more
// than one server.
func keepPassword(pw mailer.PasswordFunc) mailer.PasswordFunc {
	var (
		mu   sync.Mutex
		kept string
		ok   bool
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if ok {
			return kept, nil
		}
		p, err := pw(ctx)
		if err == nil {
			kept, ok = p, true
		}
		return p, err
	}
}

// storedPassword reads the password of a from the keychain when the mailer
// asks, which it does while it connects: only if it was saved for every
// server a sends it to.
func (c *command) storedPassword(a mailer.Account) mailer.PasswordFunc {
	return func(ctx context.Context) (string, error) {
		pw, err := c.keychain.GetFor(ctx, a)
		if errors.Is(err, mailer.ErrPasswordOtherServer) {
			return "", &hintedError{err, fmt.Sprintf("Postcard sends the password only to the servers it was saved for. If you changed the server on purpose, run postcard login to sign in to it; if not, check %s.", mailer.AccountFile)}
		}
		if errors.Is(err, mailer.ErrPasswordNotFound) {
			return "", &hintedError{err, fmt.Sprintf("No password is stored for %s. Run postcard login to store one.", a.Username)}
		}
		return pw, err
	}
}
