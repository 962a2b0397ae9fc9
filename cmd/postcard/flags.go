package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postcard-mail/postcard/mailer"
)

// stringList is a flag that may be repeated; each value is kept as given, so
// an address flag may also hold a list ("a@x.org, b@y.org").
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// serverFlags are --host, --port and --security. Zero values mean "not
// given": keep the saved account's.
type serverFlags struct {
	host     string
	port     int
	security mailer.Security
}

// any reports whether any server flag was given.
func (s serverFlags) any() bool { return s.host != "" || s.port != 0 || s.security != "" }

func (s *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.host, "host", "", "SMTP server `host` (iCloud: smtp.mail.me.com)")
	fs.Func("port", "SMTP server `port` (iCloud: 587 with starttls, 465 with ssl)", portFlag(&s.port))
	fs.Func("security", "`mode` of encryption: starttls or ssl", func(v string) error {
		sec, err := mailer.ParseSecurity(v)
		if err != nil {
			return errors.New("want starttls or ssl")
		}
		s.security = sec
		return nil
	})
}

// apply returns a with the flags given. Choosing the encryption without a
// port also picks its usual port on iCloud, or on any server where the old
// port was the usual one of the old encryption: 587 with ssl is never right.
func (s serverFlags) apply(a mailer.Account) mailer.Account {
	if s.host != "" {
		a.Host = s.host
	}
	if s.security != "" {
		if s.port == 0 && (a.IsICloud() || a.Port == a.Security.UsualPort()) {
			a.Port = s.security.UsualPort()
		}
		a.Security = s.security
	}
	if s.port != 0 {
		a.Port = s.port
	}
	return a
}

// imapFlags are the options of the copy in the Sent folder, over IMAP.
type imapFlags struct {
	host     *string
	port     int
	security mailer.Security
	off, on  bool
}

func (f *imapFlags) register(fs *flag.FlagSet) {
	fs.Func("imap-host", "IMAP server `host` where the copy of each message sent is filed (iCloud: imap.mail.me.com, the default when sending through iCloud)", func(v string) error {
		v = strings.TrimSpace(v)
		f.host = &v
		return nil
	})
	fs.Func("imap-port", "IMAP server `port` (993 with ssl, 143 with starttls)", portFlag(&f.port))
	fs.Func("imap-security", "`mode` of encryption of the IMAP server: ssl (993) or starttls (143)", func(v string) error {
		sec, err := mailer.ParseSecurity(v)
		if err != nil {
			return errors.New("not starttls or ssl")
		}
		f.security = sec
		return nil
	})
	fs.BoolVar(&f.off, "no-sent-copy", false, "do not keep a copy of each message sent in the Sent folder")
	fs.BoolVar(&f.on, "sent-copy", false, "keep a copy of each message sent in the Sent folder again (the default)")
}

// apply returns a with the IMAP options given.
func (f imapFlags) apply(a mailer.Account) mailer.Account {
	if f.host != nil {
		a.IMAPHost = *f.host
	}
	if f.security != "" {
		a.IMAPSecurity = f.security
		if f.port == 0 {
			a.IMAPPort = f.security.UsualIMAPPort()
		}
	}
	if f.port != 0 {
		a.IMAPPort = f.port
	}
	switch {
	case f.off:
		a.NoSentCopy = true
	case f.on:
		a.NoSentCopy = false
	}
	return a
}

// helpRequest is what parsing returns for --help: the usage text to print
// on stdout, with exit code 0.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// newFlagSet returns a flag set for a subcommand whose usage starts with
// synopsis. Parse errors are reported by parseFlags, not printed by flag.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args into fs. It returns a *helpRequest for --help and a
// usage *cmdError for anything flag refuses or for a stray argument.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		var b strings.Builder
		fmt.Fprintf(&b, "Usage: %s\n", synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			b.WriteString("\nOptions (-x and --x are the same):\n")
			fs.SetOutput(&b)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		return &helpRequest{text: b.String()}
	}
	if err != nil {
		return usageErrorf(fs.Name(), "%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErrorf(fs.Name(), "%s: unexpected argument %q (options start with --)", fs.Name(), fs.Arg(0))
	}
	return nil
}

// hasJSONFlag reports whether args ask for --json, so that even a usage
// error is reported as JSON when parsing stopped before reaching it.
func hasJSONFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		if !hasVal {
			return true
		}
		b, err := strconv.ParseBool(val)
		return err == nil && b
	}
	return false
}

// parseFailed reports what parseFlags returned: help on stdout (exit 0) or
// a usage error.
func (c *command) parseFailed(o output, err error) int {
	var h *helpRequest
	if errors.As(err, &h) {
		fmt.Fprint(c.stdout, h.text)
		return exitOK
	}
	return o.fail(err)
}

// savedAccount is the saved account with the --host/--port/--security
// overrides of this run applied, checked.
func (c *command) savedAccount(over serverFlags) (mailer.Account, error) {
	a, _, err := c.loadAccount()
	if err != nil {
		return a, err
	}
	a = over.apply(a)
	if err := a.Validate(); err != nil {
		return a, err
	}
	return a, nil
}

// portFlag parses a port flag into *port.
func portFlag(port *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("not a port between 1 and 65535")
		}
		*port = n
		return nil
	}
}
