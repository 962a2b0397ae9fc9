package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

const outboxSynopsis = `postcard outbox [--json]           list the Outbox
  postcard outbox send [--json]      send every waiting message now
  postcard outbox delete ID [--json] remove a message from the Outbox`

// outboxItem is one Outbox message as postcard outbox --json prints it.
type outboxItem struct {
	ID         string    `json:"id"`
	State      string    `json:"state"`
	Subject    string    `json:"subject"`
	Recipients []string  `json:"recipients"`
	MessageID  string    `json:"message_id"`
	Attempts   int       `json:"attempts"`
	NextTry    time.Time `json:"next_try,omitzero"`
	Kind       string    `json:"kind,omitempty"`
	Hint       string    `json:"hint,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func itemOf(e store.Entry) outboxItem {
	it := outboxItem{ID: e.ID, State: string(e.State), Subject: e.Subject, Recipients: e.Recipients,
		MessageID: e.MessageID, Attempts: e.Attempts}
	if e.State == store.StateWaiting {
		it.NextTry = e.NextTry
		if e.HoldUntil.After(it.NextTry) {
			it.NextTry = e.HoldUntil
		}
	}
	if e.Last != nil {
		me := e.Last.Error()
		it.Kind, it.Hint, it.Error = string(me.Kind), me.Hint(), me.Error()
	}
	return it
}

func (c *command) outbox(ctx context.Context, args []string) int {
	jsonOut := hasJSONFlag(args)
	out := newOutput(c, jsonOut)
	var rest []string
	for _, a := range args {
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
		case "-h", "-help", "--help":
			fmt.Fprintf(c.stdout, "Usage:\n  %s\n\nThe window sends the Outbox while it is open; these commands work without it.\nStates: waiting (sent when its time comes), sending, needs-attention (fix what\nthe hint says, then send it from the window), unconfirmed (the connection was\nlost after the message was uploaded: it may have been delivered).\nExit codes of outbox send: 0 nothing left waiting, 75 some still wait,\n70 some need attention or are unconfirmed.\n", outboxSynopsis)
			return exitOK
		default:
			if strings.HasPrefix(a, "-") {
				return out.fail(usageErrorf("outbox", "outbox: unknown flag %s", a))
			}
			rest = append(rest, a)
		}
	}
	st, err := c.openStore()
	if err != nil {
		return out.fail(err)
	}
	switch {
	case len(rest) == 0:
		return c.outboxList(out, st)
	case rest[0] == "send" && len(rest) == 1:
		return c.outboxSend(ctx, out, st)
	case rest[0] == "delete" && len(rest) == 2:
		err := st.Delete(rest[1])
		switch {
		case errors.Is(err, store.ErrNotFound):
			return out.fail(&cmdError{kind: "not-found", code: exitDataErr, msg: fmt.Sprintf("no message %s in the Outbox", rest[1]),
				hint: "Run postcard outbox to see the ids; it may have been sent meanwhile."})
		case errors.Is(err, store.ErrBusy):
			return out.fail(&cmdError{kind: "busy", code: exitTempFail, msg: fmt.Sprintf("message %s is being sent right now", rest[1]),
				hint: "Wait for the send to end, then look at postcard outbox again."})
		case err != nil:
			return out.fail(err)
		}
		msg := "Removed " + rest[1] + " from the Outbox; it was not sent."
		return out.done(msg, result{ID: rest[1], Message: msg})
	}
	return out.fail(usageErrorf("outbox", "outbox: unknown arguments %q", strings.Join(rest, " ")))
}

func (c *command) outboxList(out output, st *store.Store) int {
	entries, err := st.Outbox()
	if err != nil {
		return out.fail(err)
	}
	items := make([]outboxItem, len(entries))
	for i, e := range entries {
		items[i] = itemOf(e)
	}
	if out.json {
		r := result{Outbox: items}
		if r.Outbox == nil {
			r.Outbox = []outboxItem{}
		}
		return out.doneJSON(r)
	}
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, "The Outbox is empty.")
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTRIES\tSUBJECT\tTO")
	for _, it := range items {
		state := it.State
		if !it.NextTry.IsZero() {
			state += " until " + it.NextTry.Local().Format("15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", it.ID, state, it.Attempts, printable(it.Subject), printable(strings.Join(it.Recipients, ", ")))
	}
	tw.Flush()
	for _, it := range items {
		if it.Hint != "" && it.State != string(store.StateSending) {
			fmt.Fprintf(c.stdout, "\n%s: %s\n  %s\n", it.ID, printable(it.Error), it.Hint)
		}
	}
	return exitOK
}

// outboxSend sends every waiting message now: 0 when none is left waiting,
// 75 when some still wait, 70 when some need attention or are unconfirmed.
func (c *command) outboxSend(ctx context.Context, out output, st *store.Store) int {
	r := c.runner(st)
	attempts := r.Pass(ctx, store.Now)
	// Then the copies in the Sent folder, once the server has had its
	// moment to file its own, and the look for unconfirmed messages.
	if d := r.CopyDelay(); d > 0 && len(attempts) > 0 {
		sleepCtx(ctx, d)
	}
	r.OnCopy = func(id string, cs store.Copy, err error) {
		if err != nil && !out.json {
			fmt.Fprintf(c.stderr, "the copy of %s in the Sent folder was not saved: %s\nhint: %s\n", id, printable(err.Error()), hintOf(err))
		}
	}
	r.Later(ctx)
	entries, err := st.Outbox()
	if err != nil {
		return out.fail(err)
	}
	sent := 0
	for _, a := range attempts {
		if a.Sent() {
			sent++
			if !out.json {
				fmt.Fprintf(c.stderr, "sent %s: %s\n", a.Entry.ID, printable(a.Entry.Subject))
			}
		}
	}
	items := make([]outboxItem, len(entries))
	waiting, stuck := 0, 0
	for i, e := range entries {
		items[i] = itemOf(e)
		switch e.State {
		case store.StateWaiting, store.StateSending:
			waiting++
		default:
			stuck++
		}
	}
	code := exitOK
	switch {
	case stuck > 0:
		code = exitSoftware
	case waiting > 0:
		code = exitTempFail
	}
	msg := fmt.Sprintf("Sent %d; %d still waiting; %d need attention or are unconfirmed.", sent, waiting, stuck)
	if out.json {
		r := result{OK: code == exitOK, Message: msg, Outbox: items}
		if r.Outbox == nil {
			r.Outbox = []outboxItem{}
		}
		out.writeJSON(r)
		return code
	}
	fmt.Fprintln(c.stdout, msg)
	if code != exitOK {
		fmt.Fprintln(c.stdout, "Run postcard outbox to see why.")
	}
	return code
}

// runner sends the Outbox with the saved account as it is now, the
// password read from the keychain while connecting.
func (c *command) runner(st *store.Store) *store.Runner {
	r := c.sendRunner(st)
	c.copier(st).Setup(r)
	return r
}

func (c *command) sendRunner(st *store.Store) *store.Runner {
	return &store.Runner{Store: st, Send: func(ctx context.Context, o *mailer.Outgoing) (*mailer.Result, error) {
		a, _, err := c.loadAccount()
		if err == nil {
			err = a.Validate()
		}
		if err != nil {
			return nil, &mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate, Detail: err.Error(), Err: err}
		}
		client := c.client
		return client.Send(ctx, a, c.storedPassword(a), o)
	}}
}

const sentSynopsis = "postcard sent [--json]"

func (c *command) sent(args []string) int {
	var o struct{ json bool }
	fs := newFlagSet("sent")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	out := newOutput(c, hasJSONFlag(args))
	if err := parseFlags(fs, sentSynopsis, args); err != nil {
		return c.parseFailed(out, err)
	}
	st, err := c.openStore()
	if err != nil {
		return out.fail(err)
	}
	items, err := st.Sent()
	if err != nil {
		return out.fail(err)
	}
	if out.json {
		r := result{Sent: items}
		if r.Sent == nil {
			r.Sent = []store.SentItem{}
		}
		return out.doneJSON(r)
	}
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, "Nothing sent yet.")
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tSIZE\tSUBJECT\tTO")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Date.Local().Format("2006-01-02 15:04"), mailer.FormatSize(it.Size),
			printable(it.Subject), printable(strings.Join(it.Recipients(), ", ")))
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "\nThe messages are in %s (a Maildir: any mail program opens them).\n", st.Dir()+"/sent")
	return exitOK
}

// printable replaces control characters in text that came from outside, so
// it cannot move the cursor or retitle the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '�'
		}
		return r
	}, s)
}
