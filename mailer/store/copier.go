package store

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// DefaultCopyWait is how long after a send the copy waits, until it is
// known whether the server files its own copies: one that does may do so a
// moment after its reply, and the copy looks for it first.
const DefaultCopyWait = 4 * time.Second

// CopyOff is what Copier.Copy returns when no copy is kept for the account.
const CopyOffOutcome mailer.CopyOutcome = "off"

// SentFolder files and finds messages in the Sent folder over IMAP, as
// *mailer.IMAPClient does.
type SentFolder interface {
	FileSentCopy(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, messageID string, date time.Time, raw io.Reader, size int64) (mailer.CopyOutcome, error)
	FindSent(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, messageID string) (bool, error)
}

// Copier files the copies of messages sent, over IMAP, with the account as
// it is at the time of filing; the window and the command line share it. It
// learns whether the server files its own copies (iCloud usually does not,
// one report says it does), so that a copy waits only where that matters.
type Copier struct {
	Store  *Store
	Client SentFolder
	// Account returns the account and its password as they are now.
	Account func() (mailer.Account, mailer.PasswordFunc)
	// Wait is how long after a send to look; 0 means DefaultCopyWait.
	Wait time.Duration
}

func (c *Copier) wait() time.Duration {
	if c.Wait > 0 {
		return c.Wait
	}
	return DefaultCopyWait
}

func serverKey(im mailer.IMAPAccount) string {
	return strings.ToLower(im.Addr() + "/" + im.Username)
}

// On reports whether a copy is kept for the account as it is now.
func (c *Copier) On() bool {
	a, _ := c.Account()
	_, ok := a.SentCopy()
	return ok
}

// Delay is how long after a send its copy is tried: nothing once the
// server is known not to file its own copies.
func (c *Copier) Delay() time.Duration {
	a, _ := c.Account()
	im, ok := a.SentCopy()
	if !ok {
		return 0
	}
	if files, known := c.Store.ServerFilesCopies(serverKey(im)); known && !files {
		return 0
	}
	return c.wait()
}

// Copy is a CopyFunc: it files it in the account's Sent folder (or finds it
// there), or returns CopyOffOutcome when copies are off.
func (c *Copier) Copy(ctx context.Context, it SentItem, raw io.Reader, sentAt time.Time) (mailer.CopyOutcome, error) {
	a, pw := c.Account()
	im, ok := a.SentCopy()
	if !ok {
		return CopyOffOutcome, nil
	}
	outcome, err := c.Client.FileSentCopy(ctx, im, pw, it.MessageID, it.Date, raw, it.Size)
	if err == nil && time.Since(sentAt) >= c.wait() {
		// Looked long enough after the send to tell.
		_ = c.Store.LearnServerFilesCopies(serverKey(im), outcome == mailer.CopyAlreadyThere)
	}
	return outcome, err
}

// Find is a FindFunc over the account's Sent folder.
func (c *Copier) Find(ctx context.Context, messageID string) (bool, error) {
	a, pw := c.Account()
	im, ok := a.SentCopy()
	if !ok {
		return false, &mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate, Setting: mailer.SettingIMAPHost,
			Detail: "no IMAP server is set to look in the Sent folder"}
	}
	return c.Client.FindSent(ctx, im, pw, messageID)
}

// Setup gives r the copies and the search for unconfirmed messages.
func (c *Copier) Setup(r *Runner) {
	r.Copy, r.CopyDelay, r.Find = c.Copy, c.Delay, c.Find
}
