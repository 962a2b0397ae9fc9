package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

const sendSynopsis = "postcard send --to ADDRESSES [--cc ADDRESSES] [--bcc ADDRESSES] [--reply-to A] [--subject S] [--body TEXT | --body-file F] [--attach F]... [--from A] [--queue] [--no-sent-copy] [--host H] [--port N] [--security starttls|ssl] [--json]"

type sendOptions struct {
	server     serverFlags
	to         stringList
	cc         stringList
	bcc        stringList
	attach     stringList
	replyTo    string
	subject    string
	body       string
	bodyFile   string
	from       string
	queue      bool
	noSentCopy bool
	json       bool
}

func parseSend(args []string) (sendOptions, error) {
	var o sendOptions
	fs := newFlagSet("send")
	fs.Var(&o.to, "to", "recipient `addresses`, separated by commas or semicolons; may be repeated")
	fs.Var(&o.cc, "cc", "copy `addresses`; may be repeated")
	fs.Var(&o.bcc, "bcc", "blind copy `addresses`, in no header; may be repeated")
	fs.StringVar(&o.replyTo, "reply-to", "", "`address` replies should go to")
	fs.StringVar(&o.subject, "subject", "", "the `subject`")
	fs.StringVar(&o.body, "body", "", "the message `text`")
	fs.StringVar(&o.bodyFile, "body-file", "", "read the message text from `file` (- for standard input)")
	fs.Var(&o.attach, "attach", "attach `file`; may be repeated")
	fs.StringVar(&o.from, "from", "", "send from this `address` (an alias of the account) instead of the saved one")
	fs.BoolVar(&o.noSentCopy, "no-sent-copy", false, "do not file a copy of this message in the Sent folder")
	fs.BoolVar(&o.queue, "queue", false, "hand the message to the Outbox and try it at once; if the network is away it waits there (see postcard outbox)")
	o.server.register(fs)
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	if err := parseFlags(fs, sendSynopsis, args); err != nil {
		return o, err
	}
	if o.queue && o.server.any() {
		return o, usageErrorf("send", "send: --queue takes no --host, --port or --security: queued messages are sent with the saved account's settings at the time of sending")
	}
	bodySet := false
	fs.Visit(func(f *flag.Flag) { bodySet = bodySet || f.Name == "body" })
	if bodySet && o.bodyFile != "" {
		return o, usageErrorf("send", "send: use either --body or --body-file, not both")
	}
	return o, nil
}

// message builds the message; the body comes from --body, or from
// --body-file (see readBody).
func (o sendOptions) message(ctx context.Context, stdin io.Reader) (mailer.Message, error) {
	m := mailer.Message{
		From:        o.from,
		To:          o.to,
		Cc:          o.cc,
		Bcc:         o.bcc,
		ReplyTo:     o.replyTo,
		Subject:     o.subject,
		Body:        o.body,
		Attachments: o.attach,
	}
	if o.bodyFile == "" {
		return m, nil
	}
	body, err := readBody(ctx, o.bodyFile, stdin)
	if err != nil {
		return m, err
	}
	m.Body = body
	return m, nil
}

// readBody reads the message text from name: a file, a FIFO, or standard
// input for "-". No more than iCloud's limit for a whole message is read
// (--body-file /dev/zero or an endless pipe grew until killed): past it,
// the body is refused as too large, naming the file. Opening a FIFO with
// no writer and reading a slow pipe block where nothing can interrupt
// them, so the first Ctrl+C or SIGTERM (which ends ctx) returns at once.
func readBody(ctx context.Context, name string, stdin io.Reader) (string, error) {
	what := fmt.Sprintf("body file %q", name)
	if name == "-" {
		what = "the body from standard input"
	}
	tooLarge := func() error {
		return &mailer.Error{Kind: mailer.KindTooLarge, Stage: mailer.StageValidate,
			Detail: fmt.Sprintf("%s is larger than the %s iCloud takes for a whole message", what, mailer.FormatSize(mailer.MaxMessageBytes))}
	}
	b, err := untilDone(ctx, func() ([]byte, error) {
		r := stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > mailer.MaxMessageBytes {
				return nil, tooLarge()
			}
			r = f
		}
		return io.ReadAll(io.LimitReader(r, mailer.MaxMessageBytes+1))
	})
	var me *mailer.Error
	switch {
	case ctx.Err() != nil:
		return "", &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageValidate,
			Detail: "cancelled while reading " + what, Err: ctx.Err()}
	case errors.As(err, &me):
		return "", err
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("body file %q does not exist", name)
	case err != nil:
		err = fmt.Errorf("%s cannot be read: %v", what, unwrapPath(err))
	case len(b) > mailer.MaxMessageBytes:
		return "", tooLarge()
	}
	if err != nil {
		return "", &mailer.Error{Kind: mailer.KindInvalidMessage, Stage: mailer.StageValidate, Detail: err.Error(), Err: err}
	}
	return string(b), nil
}

// unwrapPath drops the "open <path>:" of a *fs.PathError, which the message
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *command) send(ctx context.Context, args []string) int {
	// Loaded while the account, the message and the store are read.
	mailer.WarmRoots()
	opts, err := parseSend(args)
	out := newOutput(c, opts.json || hasJSONFlag(args))
	if err != nil {
		return c.parseFailed(out, err)
	}
	a, err := c.savedAccount(opts.server)
	if err != nil {
		return out.fail(err)
	}
	if opts.bodyFile == "-" && c.stdinIsTerm() {
		fmt.Fprintln(c.stderr, "postcard: type the message, then Ctrl+D on a line of its own")
	}
	m, err := opts.message(ctx, c.stdin)
	if err != nil {
		return out.fail(err)
	}
	// Check the message before the keychain or the network is touched.
	p, err := mailer.Prepare(a, m)
	if err != nil {
		return out.fail(err)
	}
	for _, w := range p.Warnings {
		out.warn(w)
	}
	st, err := c.openStore()
	if err != nil {
		return out.fail(err)
	}
	if opts.queue {
		return c.sendQueued(ctx, out, st, opts, a, m, p)
	}
	client := c.client
	send := func(ctx context.Context, o *mailer.Outgoing) (*mailer.Result, error) {
		return client.Send(ctx, a, c.storedPassword(a), o)
	}
	ro := store.RecordOptions{Bcc: strings.Join(opts.bcc, ", ")}
	cp := c.copier(st)
	if cp.On() {
		ro.Find, ro.FindAfter = cp.Find, cp.Delay()
	}
	rec, err := st.SendAndRecord(ctx, p.Outgoing(), ro, send)
	if err != nil {
		return out.fail(checkedError(err, rec.Checked))
	}
	if rec.Checked != nil && rec.Checked.Found {
		out.warn("the connection was lost after the upload, but the message is in your Sent folder: it was delivered")
		r := result{ID: rec.ID, State: "sent", MessageID: rec.MessageID, Recipients: rec.Recipients, Warnings: p.Warnings, SentCopy: string(store.CopyAlreadyThere)}
		return out.done(fmt.Sprintf("Sent to %s (Message-ID <%s>); found in the Sent folder.", strings.Join(rec.Recipients, ", "), rec.MessageID), r)
	}
	r := result{ID: rec.ID, State: "sent", MessageID: rec.MessageID, Recipients: rec.Recipients, Warnings: p.Warnings}
	msg := fmt.Sprintf("Sent to %s (Message-ID <%s>)", strings.Join(rec.Recipients, ", "), rec.MessageID)
	if rec.RecordErr != nil {
		out.warn("the message was sent, but it could not be recorded in Sent: " + rec.RecordErr.Error())
		r.SentCopy = "failed"
		r.SentCopyError = &copyFailure{Kind: string(mailer.KindUnknown), Error: rec.RecordErr.Error(),
			Hint: "The message was sent, but Postcard could not keep its record, so no copy was filed in the Sent folder."}
	} else {
		c.fileCopy(ctx, cp, st, opts.noSentCopy, rec.ID, &r)
	}
	return out.done(msg+copyLine(r), r)
}

// fileCopy files the copy of Sent message id in the server's Sent folder
// and says in r how it went; a failure never changes the send's outcome.
func (c *command) fileCopy(ctx context.Context, cp *store.Copier, st *store.Store, off bool, id string, r *result) {
	if off || !cp.On() {
		_ = st.SetCopy(id, store.Copy{Status: store.CopyOff})
		r.SentCopy = string(store.CopyOff)
		return
	}
	// A server that files its own copy may take a moment; the copy looks
	// for it first. Once the server is known, there is no wait.
	sleepCtx(ctx, cp.Delay())
	_ = st.SetCopy(id, store.Copy{Status: store.CopyPending, NextTry: time.Now().UTC()})
	cs, err := st.FileCopy(ctx, id, true, cp.Copy)
	r.SentCopy = string(cs.Status)
	if err != nil {
		d := describe(err)
		r.SentCopy = string(store.CopyFailed)
		r.SentCopyError = &copyFailure{Kind: d.Kind, Stage: d.Stage, Hint: d.Hint, Error: d.Error}
	}
}

// copyLine says, for people, what became of the copy in the Sent folder.
func copyLine(r result) string {
	switch r.SentCopy {
	case string(store.CopyFiled):
		return "\nA copy is in the Sent folder."
	case string(store.CopyAlreadyThere):
		return "\nThe server had already filed it in the Sent folder."
	case string(store.CopyFailed):
		return "\nIts copy could not be saved in the Sent folder: " + r.SentCopyError.Error + "\nhint: " + r.SentCopyError.Hint
	}
	return ""
}

// copier files copies with the saved account, read when first needed and
// kept for the command, the password read from the keychain while
// connecting, once.
func (c *command) copier(st *store.Store) *store.Copier {
	client := c.imap
	return &store.Copier{Store: st, Client: &client, Account: sync.OnceValues(func() (mailer.Account, mailer.PasswordFunc) {
		a, _, _ := c.loadAccount()
		return a, keepPassword(c.storedPassword(a))
	})}
}

// sendQueued hands the message to the Outbox and tries it at once: exit 0
// when it was sent or waits for the network, the failure's code otherwise.
// The session connects and logs in, with the saved account a, while the
// message is frozen; nothing of the message goes out before.
func (c *command) sendQueued(ctx context.Context, out output, st *store.Store, opts sendOptions, a mailer.Account, m mailer.Message, p *mailer.Prepared) int {
	client := c.client
	conn := client.Connect(ctx, a, c.storedPassword(a), p.Size, len(p.Recipients))
	defer conn.Close()
	h, err := st.NewDraft()
	if err != nil {
		return out.fail(err)
	}
	d := store.Draft{From: m.From, To: strings.Join(opts.to, ", "), Cc: strings.Join(opts.cc, ", "),
		Bcc: strings.Join(opts.bcc, ", "), Subject: m.Subject, Body: m.Body, Attachments: m.Attachments}
	e, err := st.Queue(h, d, p, 0)
	h.Release()
	if err != nil {
		return out.fail(err)
	}
	// --no-sent-copy: the copy is planned off from the start, so that no
	// copy is filed should this process stop before it says so.
	r := c.runner(st)
	if opts.noSentCopy {
		r = c.sendRunner(st)
	}
	// Should another process take it first (postcard outbox send, a
	// window), the attempt says so; it sends it over a session of its own.
	at, _ := r.SendOver(ctx, e.ID, conn.Send)
	return c.reportAttempt(ctx, out, st, opts.noSentCopy, at, p.Warnings)
}

// reportAttempt prints how an Outbox message's attempt went.
func (c *command) reportAttempt(ctx context.Context, out output, st *store.Store, noCopy bool, a store.Attempt, warnings []string) int {
	e := a.Entry
	cp := c.copier(st)
	switch {
	case a.Sent():
		msg := fmt.Sprintf("Sent to %s (Message-ID <%s>)", strings.Join(a.Result.Recipients, ", "), a.Result.MessageID)
		r := result{ID: e.ID, State: "sent", MessageID: e.MessageID, Recipients: e.Envelope, Warnings: warnings}
		c.fileCopy(ctx, cp, st, noCopy, e.ID, &r)
		return out.done(msg+copyLine(r), r)
	case e.State == store.StateWaiting:
		hint := ""
		if e.Last != nil {
			hint = e.Last.Error().Hint()
		}
		msg := fmt.Sprintf("Not sent yet: it waits in the Outbox as %s and is tried again from %s (postcard outbox send tries it now).\n%s",
			e.ID, e.NextTry.Local().Format("15:04:05"), hint)
		r := result{ID: e.ID, State: string(e.State), MessageID: e.MessageID, Recipients: e.Envelope, Warnings: warnings, Hint: hint}
		if e.Last != nil {
			r.Kind = string(e.Last.Kind)
		}
		return out.done(msg, r)
	}
	err := a.Err
	if err == nil {
		err = errors.New("the message was not sent")
	}
	if e.State == store.StateUnconfirmed {
		// The server may have it: look in the Sent folder.
		if cp.On() && sleepCtx(ctx, cp.Delay()) {
			found, _ := st.Resolve(ctx, e.ID, cp.Find)
			if found {
				out.warn("the connection was lost after the upload, but the message is in your Sent folder: it was delivered")
				msg := fmt.Sprintf("Sent to %s (Message-ID <%s>); found in the Sent folder.", strings.Join(e.Envelope, ", "), e.MessageID)
				return out.done(msg, result{ID: e.ID, State: "sent", MessageID: e.MessageID, Recipients: e.Envelope, Warnings: warnings, SentCopy: string(store.CopyAlreadyThere)})
			}
			if after, err := st.Entry(e.ID); err == nil {
				e = after
			}
		}
		err = checkedError(err, e.Checked)
	}
	return out.failWith(err, result{ID: e.ID, State: string(e.State), MessageID: e.MessageID})
}

// checkedError gives a send whose outcome is unknown the hint of what
// looking in the Sent folder found.
func checkedError(err error, ch *store.Check) error {
	switch {
	case ch == nil || ch.Found:
		return err
	case ch.Err != nil:
		return &hintedError{err, "Postcard could not look for it in your Sent folder (" + ch.Err.Error().Error() + "). " + mailer.HintFor(mailer.KindConnectionLost).Title + ": it may or may not have been delivered; ask a recipient before you send it again."}
	}
	return &hintedError{err, mailer.HintNotFoundInSent}
}

// sleepCtx waits d, or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
