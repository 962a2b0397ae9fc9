package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// Exit codes, from sysexits.h, as sendmail and msmtp use them.
const (
	exitOK          = 0
	exitUsage       = 64 // EX_USAGE: bad command line
	exitDataErr     = 65 // EX_DATAERR: the message cannot be sent as it is
	exitNoHost      = 68 // EX_NOHOST: host name not found
	exitUnavailable = 69 // EX_UNAVAILABLE: nothing answered
	exitSoftware    = 70 // EX_SOFTWARE: refused by the server, or anything else
	exitTempFail    = 75 // EX_TEMPFAIL: trying again later may work
	exitProtocol    = 76 // EX_PROTOCOL: the connection could not be secured, or the server broke the protocol
	exitNoPerm      = 77 // EX_NOPERM: the login was refused
	exitConfig      = 78 // EX_CONFIG: the account or the keychain needs fixing
)

// exitCode is the one place that turns a failure into an exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *cmdError
	if errors.As(err, &ce) {
		return ce.code
	}
	var e *mailer.Error
	if !errors.As(err, &e) {
		return exitSoftware
	}
	// Uploaded but never confirmed, whatever broke (a lost connection, a
	// timeout, a flood of reply lines): it may have been delivered, which
	// is 70 whatever the kind, so that no script retries it.
	if e.MaybeDelivered() {
		return exitSoftware
	}
	switch e.Kind {
	case mailer.KindInvalidMessage:
		return exitDataErr
	case mailer.KindTooLarge:
		// Too large before sending is the message's fault; a server
		// refusing the size is a refusal like any other.
		if e.Stage == mailer.StageValidate {
			return exitDataErr
		}
		return exitSoftware
	case mailer.KindDNS:
		return exitNoHost
	case mailer.KindConnectRefused, mailer.KindConnectTimeout:
		return exitUnavailable
	case mailer.KindTemporary, mailer.KindConnectionLost, mailer.KindTimeout, mailer.KindRateLimited:
		// Temporary is false for a 5xx limit and for a connection lost
		// after the upload, when the server may have the message: a script
		// retrying on 75 would then deliver it twice.
		if e.Temporary() {
			return exitTempFail
		}
		return exitSoftware
	case mailer.KindCancelled:
		// Nothing was sent, so running the same command again is the way
		// forward, which is what 75 means; unless the message had been
		// uploaded already.
		if e.Stage == mailer.StageAccepted {
			return exitSoftware
		}
		return exitTempFail
	case mailer.KindTLSMode, mailer.KindTLSCertificate, mailer.KindTLSUnavailable, mailer.KindTLSVersion, mailer.KindProtocol:
		return exitProtocol
	case mailer.KindAuth:
		return exitNoPerm
	case mailer.KindInvalidAccount, mailer.KindKeychain:
		return exitConfig
	}
	// recipient-rejected, sender-rejected, policy-rejected, unknown.
	return exitSoftware
}

// cmdError is a failure of the command line itself (bad usage, no account
// saved) rather than of the mailer, which has its own *mailer.Error.
type cmdError struct {
	kind string // as printed: "usage", "no-account", "config"
	code int
	msg  string
	hint string
}

func (e *cmdError) Error() string { return e.msg }

func usageErrorf(cmd, format string, args ...any) error {
	hint := `Run "postcard help" to see the commands.`
	if cmd != "" {
		hint = fmt.Sprintf(`Run "postcard %s --help" to see its options.`, cmd)
	}
	return &cmdError{kind: "usage", code: exitUsage, msg: fmt.Sprintf(format, args...), hint: hint}
}

var errNoAccount = &cmdError{
	kind: "no-account",
	code: exitConfig,
	msg:  "no account is saved yet",
	hint: "Run postcard login first: it saves your iCloud address and stores an app-specific password in the keychain.",
}

// hintedError gives err advice only the command line can give, such as
// which command to run; everything else about err stays as it is.
type hintedError struct {
	error
	hint string
}

func (e *hintedError) Unwrap() error { return e.error }

// result is the one JSON object --json prints, for success and failure.
type result struct {
	OK bool `json:"ok"`

	Kind     string   `json:"kind,omitempty"`
	Stage    string   `json:"stage,omitempty"`
	Hint     string   `json:"hint,omitempty"`
	Reply    string   `json:"reply,omitempty"`
	Rejected []string `json:"rejected,omitempty"`
	Error    string   `json:"error,omitempty"`

	ID         string               `json:"id,omitempty"`
	State      string               `json:"state,omitempty"`
	MessageID  string               `json:"message_id,omitempty"`
	Recipients []string             `json:"recipients,omitempty"`
	Warnings   []string             `json:"warnings,omitempty"`
	Message    string               `json:"message,omitempty"`
	Stages     []mailer.StageResult `json:"stages,omitempty"`

	// SentCopy says what became of the copy in the Sent folder:
	// "filed", "already-there", "failed" (with kind and hint in
	// SentCopyError) or "off".
	SentCopy      string               `json:"sent_copy,omitempty"`
	SentCopyError *copyFailure         `json:"sent_copy_error,omitempty"`
	IMAPStages    []mailer.StageResult `json:"imap_stages,omitempty"`

	Outbox []outboxItem     `json:"outbox,omitempty"`
	Sent   []store.SentItem `json:"sent,omitempty"`
}

// copyFailure is why the copy in the Sent folder was not saved.
type copyFailure struct {
	Kind  string `json:"kind"`
	Stage string `json:"stage,omitempty"`
	Hint  string `json:"hint"`
	Error string `json:"error"`
}

// describe fills in the failure fields of a result.
func describe(err error) result {
	r := result{OK: false, Error: err.Error(), Kind: string(mailer.KindUnknown), Hint: mailer.HintFor(mailer.KindUnknown).Text}
	var ce *cmdError
	var e *mailer.Error
	switch {
	case errors.As(err, &ce):
		r.Kind, r.Hint = ce.kind, ce.hint
	case errors.As(err, &e):
		r.Kind, r.Stage, r.Hint, r.Rejected = string(e.Kind), string(e.Stage), e.Hint(), e.Rejected
		if e.Reply != nil {
			r.Reply = e.Reply.String()
		}
	}
	var he *hintedError
	if errors.As(err, &he) {
		r.Hint = he.hint
	}
	return r
}

// output writes what a subcommand has to say: for people on stderr (and
// the outcome on stdout), or as exactly one JSON object on stdout.
type output struct {
	c    *command
	json bool
}

func newOutput(c *command, json bool) output { return output{c: c, json: json} }

// stage prints one line of the checklist to stderr, also in JSON mode,
// where stdout holds only the result.
func (o output) stage(r mailer.StageResult) {
	if !r.OK {
		// The error printed next says why.
		fmt.Fprintf(o.c.stderr, "✗ %s\n", r.Stage)
		return
	}
	fmt.Fprintf(o.c.stderr, "✓ %-10s %s\n", r.Stage, r.Detail)
}

// imapStage prints one line of the IMAP checklist, marked as such.
func (o output) imapStage(r mailer.StageResult) {
	r.Stage = "imap " + r.Stage
	o.stage(r)
}

// hintOf is the hint of err, or "".
func hintOf(err error) string {
	return describe(err).Hint
}

func (o output) warn(msg string) {
	fmt.Fprintf(o.c.stderr, "postcard: warning: %s\n", msg)
}

// done reports success: human text on stdout, or r as JSON.
func (o output) done(human string, r result) int {
	if o.json {
		r.OK = true
		o.writeJSON(r)
		return exitOK
	}
	fmt.Fprintln(o.c.stdout, human)
	return exitOK
}

// doneJSON reports success with r, which has no human form of its own
// (a listing): as JSON only. Callers print the human form themselves.
func (o output) doneJSON(r result) int {
	r.OK = true
	o.writeJSON(r)
	return exitOK
}

// fail reports err and returns its exit code. stages, if any, go into the
// JSON object.
func (o output) fail(err error, stages ...mailer.StageResult) int {
	return o.failWith(err, result{Stages: stages})
}

// failWith is fail with more fields for the JSON object (an Outbox
// message's id and state).
func (o output) failWith(err error, extra result) int {
	r := describe(err)
	if o.json {
		r.Stages, r.ID, r.State, r.MessageID, r.IMAPStages = extra.Stages, extra.ID, extra.State, extra.MessageID, extra.IMAPStages
		o.writeJSON(r)
		return exitCode(err)
	}
	if extra.ID != "" && extra.State != "" {
		defer fmt.Fprintf(o.c.stderr, "The message stays in the Outbox as %s (%s): postcard outbox shows it.\n", extra.ID, extra.State)
	}
	w := o.c.stderr
	fmt.Fprintf(w, "postcard: %s\n", r.Error)
	if r.Hint != "" {
		fmt.Fprintf(w, "hint: %s\n", r.Hint)
	}
	if r.Reply != "" && !strings.Contains(r.Error, r.Reply) {
		fmt.Fprintf(w, "server said: %s\n", r.Reply)
	}
	return exitCode(err)
}

func (o output) writeJSON(r result) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		fmt.Fprintf(o.c.stderr, "postcard: writing the result: %v\n", err)
		return
	}
	o.c.stdout.Write(jsonEscapeControls(b.Bytes()))
}

// jsonEscapeControls escapes in encoded JSON what encoding/json leaves
// raw but a terminal acts on: DEL, the C1 controls (U+0080 to U+009F, CSI
// U+009B among them) and the bidirectional overrides, as \u00XX. Outside
// strings JSON is ASCII, so this touches only strings, and a decoder reads
// them back unchanged. encoding/json already escapes C0 and ESC.
func jsonEscapeControls(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
}

// printableWriter escapes control characters in everything written to a
// terminal or a file (see mailer.Printable): what came from outside, a
// server's reply, a file name, an address, cannot act on the terminal. Each
// write must be whole lines or whole characters, as fmt's are.
type printableWriter struct{ w io.Writer }

func (p printableWriter) Write(b []byte) (int, error) {
	s := mailer.Printable(string(b))
	if _, err := io.WriteString(p.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}

// escapeControls wraps w in a printableWriter, once.
func escapeControls(w io.Writer) io.Writer {
	if _, ok := w.(printableWriter); ok {
		return w
	}
	return printableWriter{w}
}
