package main

import (
	"context"
	"fmt"
)

const checkSynopsis = "postcard check [--host H] [--port N] [--security starttls|ssl] [--json]"

type checkOptions struct {
	server serverFlags
	json   bool
}

func parseCheck(args []string) (checkOptions, error) {
	var o checkOptions
	fs := newFlagSet("check")
	o.server.register(fs)
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	return o, parseFlags(fs, checkSynopsis, args)
}

func (c *command) check(ctx context.Context, args []string) int {
	opts, err := parseCheck(args)
	out := newOutput(c, opts.json || hasJSONFlag(args))
	if err != nil {
		return c.parseFailed(out, err)
	}
	a, err := c.savedAccount(opts.server)
	if err != nil {
		return out.fail(err)
	}
	client := c.client
	client.OnStage = out.stage
	// Read once for the two servers.
	pw := keepPassword(c.storedPassword(a))
	stages, err := client.Check(ctx, a, pw)
	if err != nil {
		return out.fail(err, stages...)
	}
	msg := fmt.Sprintf("Signed in to %s as %s (%s); nothing was sent.", a.Addr(), a.Username, a.Security.Label())
	r := result{Message: msg, Stages: stages}
	// The copy in the Sent folder: the IMAP login and the folder.
	if im, ok := a.SentCopy(); ok {
		ic := c.imap
		ic.OnStage = out.imapStage
		imapStages, err := ic.Check(ctx, im, pw)
		r.IMAPStages = imapStages
		if err != nil {
			return out.failWith(err, r)
		}
		msg += fmt.Sprintf("\nSigned in to %s too; copies of the messages sent go in its Sent folder.", im.Addr())
	} else {
		msg += "\nNo copy of the messages sent is kept in a Sent folder (postcard login --imap-host sets the IMAP server)."
	}
	r.Message = msg
	return out.done(msg, r)
}
