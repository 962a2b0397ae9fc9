package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// Attempt is the outcome of one Deliver by a Runner.
type Attempt struct {
	Entry  Entry          // as it now stands; State "" once in Sent
	Result *mailer.Result // when the server accepted it
	Err    error          // the send's error, if it failed
}

// Sent reports whether the attempt delivered the message.
func (a Attempt) Sent() bool { return a.Err == nil && a.Result != nil }

// Runner sends the Outbox: the waiting messages when their time comes, and
// any message at once when asked. The window runs one in the background;
// the command line uses Pass. Several runners (in several processes) may
// share a store: each message is sent by the one that holds its lock.
type Runner struct {
	Store *Store
	// Send sends with the account's settings at the time of sending.
	Send SendFunc
	// OnAttempt, if set, is called after each attempt, on the goroutine
	// that made it.
	OnAttempt func(Attempt)
	// OnChange, if set, is called after each pass over the Outbox (the
	// window refreshes its lists then).
	OnChange func()
	// Poll is how often the Outbox is looked at even when nothing is due,
	// to see messages queued by other processes; 0 means 10 s.
	Poll time.Duration

	// Copy, if set, files the copy of each message sent in the server's
	// Sent folder, CopyDelay() after the send (a server that files its own
	// copy may take a moment: the copy looks for it first). Without Copy,
	// copies are recorded as off.
	Copy      CopyFunc
	CopyDelay func() time.Duration
	// OnCopy, if set, is called after each try of a copy.
	OnCopy func(id string, c Copy, err error)
	// Find, if set, looks for unconfirmed messages in the server's Sent
	// folder CopyDelay() after they became unconfirmed (see Resolve).
	Find FindFunc
	// OnResolve, if set, is called after each such look.
	OnResolve func(e Entry, found bool, err error)

	mu       sync.Mutex
	wake     chan struct{}
	inflight map[string]context.CancelCauseFunc
}

// ErrCancelled is the cause of a send the user cancelled.
var ErrCancelled = errors.New("store: cancelled")

func (r *Runner) init() {
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
		r.inflight = map[string]context.CancelCauseFunc{}
	}
}

// Wake makes a running Run look at the Outbox now.
func (r *Runner) Wake() {
	r.mu.Lock()
	r.init()
	w := r.wake
	r.mu.Unlock()
	select {
	case w <- struct{}{}:
	default:
	}
}

// Run sends the Outbox until ctx ends: first every waiting message (the
// next start after a failure or a quit), then each when it is due. Cancel
// ctx with cause ErrQuit to leave the message being sent waiting for the
// next start.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	r.init()
	wake := r.wake
	r.mu.Unlock()
	poll := r.Poll
	if poll <= 0 {
		poll = 10 * time.Second
	}
	mode := Now
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
		}
		_ = r.Store.Recover()
		r.Pass(ctx, mode)
		r.Later(ctx)
		mode = Due
		next := poll
		if at, ok := r.nextDue(); ok {
			next = min(next, max(time.Until(at), 10*time.Millisecond))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// nextDue is when the next waiting message is due.
func (r *Runner) nextDue() (time.Time, bool) {
	entries, err := r.Store.Outbox()
	if err != nil {
		return time.Time{}, false
	}
	var at time.Time
	found := false
	earliest := func(t time.Time) {
		if !t.IsZero() && (!found || t.Before(at)) {
			at, found = t, true
		}
	}
	delay := sync.OnceValue(r.copyDelay)
	for _, e := range entries {
		switch {
		case e.State == StateWaiting:
			t := e.NextTry
			if e.HoldUntil.After(t) {
				t = e.HoldUntil
			}
			earliest(t)
		case r.Find != nil && awaitsFind(e):
			earliest(e.Last.At.Add(delay()))
		}
	}
	if r.Copy != nil {
		due, next := r.Store.CopiesDue(time.Now())
		if len(due) > 0 {
			earliest(time.Now())
		}
		earliest(next)
	}
	return at, found
}

// Pass tries every Outbox message that mode allows once, the oldest first,
// and returns the attempts made.
func (r *Runner) Pass(ctx context.Context, mode Mode) []Attempt {
	entries, _ := r.Store.Outbox()
	var out []Attempt
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if mode == Force || e.State != StateWaiting {
			continue // Force is for one message the user chose
		}
		if a, ok := r.deliver(ctx, e.ID, mode, r.Send); ok {
			out = append(out, a)
		}
	}
	if r.OnChange != nil {
		r.OnChange()
	}
	return out
}

// SendNow sends the message id at once, whatever its schedule ("Send now",
// "Send again"), and returns the attempt; ErrBusy in Err when another
// process is sending it.
func (r *Runner) SendNow(ctx context.Context, id string) Attempt {
	a, _ := r.deliverOutsideRun(ctx, id, Force, r.Send)
	return a
}

// deliverOutsideRun is deliver for SendNow and SendOver. When nothing was
// attempted (ok false) the attempt is the entry as it stands, with
// ErrBusy. Then Run plans again (the copy to file, an unconfirmed message
// to look for, the next try), and the window refreshes.
func (r *Runner) deliverOutsideRun(ctx context.Context, id string, mode Mode, send SendFunc) (Attempt, bool) {
	a, ok := r.deliver(ctx, id, mode, send)
	if !ok {
		e, _ := r.Store.Entry(id)
		a = Attempt{Entry: e, Err: ErrBusy}
	}
	r.attemptedOutsideRun()
	return a, ok
}

// attemptedOutsideRun follows an attempt made outside Run: Run plans
// again, and the window refreshes.
func (r *Runner) attemptedOutsideRun() {
	r.Wake()
	if r.OnChange != nil {
		r.OnChange()
	}
}

// SendOver sends the message id, just queued without an undo delay, at
// once over send instead of r.Send: a session opened while the message was
// being frozen (see mailer.Client.Connect), so that the connection and the
// login need not wait for the disk. ok is false when nothing was attempted:
// another runner or process had taken the message (it sends it over a
// session of its own), or it is not waiting; the attempt then holds the
// entry as it stands, with ErrBusy, as SendNow's. The caller closes the
// session it opened in any case.
func (r *Runner) SendOver(ctx context.Context, id string, send SendFunc) (Attempt, bool) {
	return r.deliverOutsideRun(ctx, id, Now, send)
}

// deliver is one Deliver over send; ok is false when nothing was attempted
// (not due, held by another process, gone).
func (r *Runner) deliver(parent context.Context, id string, mode Mode, send SendFunc) (Attempt, bool) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.mu.Lock()
	r.init()
	if _, busy := r.inflight[id]; busy {
		r.mu.Unlock()
		return Attempt{}, false
	}
	r.inflight[id] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.inflight, id)
		r.mu.Unlock()
	}()
	reported := false
	report := func(a Attempt) {
		if r.OnAttempt != nil {
			r.OnAttempt(a)
		}
		reported = true
	}
	plan := r.copyPlan(r.copyDelay())
	// A message sent is reported the moment it is in Sent: the record of
	// its copy and the tidying after it need not hold "Sent" up.
	e, res, err := r.Store.deliver(ctx, id, mode, send, &plan, func(e Entry, res *mailer.Result) {
		report(Attempt{Entry: e, Result: res})
	})
	if errors.Is(err, ErrNotDue) || errors.Is(err, ErrBusy) || errors.Is(err, ErrNotFound) {
		return Attempt{}, false
	}
	if err == nil && res != nil {
		r.Wake() // to file the copy
	}
	a := Attempt{Entry: e, Result: res, Err: err}
	if !reported {
		report(a)
	}
	return a, true
}

// awaitsFind reports whether e is an unconfirmed message not yet looked
// for in the server's Sent folder; it is due CopyDelay after its failure.
func awaitsFind(e Entry) bool {
	return e.State == StateUnconfirmed && e.Checked == nil && e.Last != nil
}

func (r *Runner) copyDelay() time.Duration {
	if r.CopyDelay == nil {
		return 0
	}
	return r.CopyDelay()
}

// Later does what follows a send: it files the copies that are due and
// looks for the unconfirmed messages in the server's Sent folder.
func (r *Runner) Later(ctx context.Context) {
	changed := false
	if r.Copy != nil {
		due, _ := r.Store.CopiesDue(time.Now())
		for _, id := range due {
			if ctx.Err() != nil {
				return
			}
			c, err := r.Store.FileCopy(ctx, id, false, r.Copy)
			if errors.Is(err, ErrNotDue) || errors.Is(err, ErrBusy) {
				continue
			}
			changed = true
			if r.OnCopy != nil {
				r.OnCopy(id, c, err)
			}
		}
	}
	if r.Find != nil {
		entries, _ := r.Store.Outbox()
		delay := sync.OnceValue(r.copyDelay)
		for _, e := range entries {
			if ctx.Err() != nil {
				return
			}
			if !awaitsFind(e) || time.Now().Before(e.Last.At.Add(delay())) {
				continue
			}
			found, err := r.Store.Resolve(ctx, e.ID, r.Find)
			if errors.Is(err, ErrNotDue) || errors.Is(err, ErrBusy) {
				continue
			}
			changed = true
			if r.OnResolve != nil {
				r.OnResolve(e, found, err)
			}
		}
	}
	if changed && r.OnChange != nil {
		r.OnChange()
	}
}

// CopyNow files the copy of Sent message id at once ("Try again").
func (r *Runner) CopyNow(ctx context.Context, id string) (Copy, error) {
	if r.Copy == nil {
		return Copy{Status: CopyOff}, nil
	}
	c, err := r.Store.FileCopy(ctx, id, true, r.Copy)
	if r.OnCopy != nil {
		r.OnCopy(id, c, err)
	}
	if r.OnChange != nil {
		r.OnChange()
	}
	return c, err
}

// copyPlan is what becomes of a sent message's copy: filed after delay
// when this runner files copies, off when not.
func (r *Runner) copyPlan(delay time.Duration) copyPlan {
	if r.Copy == nil {
		return copyPlan{status: CopyOff}
	}
	return copyPlan{status: CopyPending, delay: delay}
}

// MoveToSent files the unconfirmed message id in Sent, when the user knows
// it was delivered, and records its copy as a send does: pending (the
// copy looks for the message in the server's Sent folder before it files
// one), or off.
func (r *Runner) MoveToSent(id string) error {
	if err := r.Store.MoveToSent(id); err != nil {
		return err
	}
	err := r.Store.SetCopy(id, r.copyPlan(0).copy(time.Now()))
	r.attemptedOutsideRun()
	return err
}

// Cancel stops the send of message id under way, if any, with cause
// (ErrCancelled for the user's Cancel, ErrQuit when quitting).
func (r *Runner) Cancel(id string, cause error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.inflight[id]; ok {
		c(cause)
		return true
	}
	return false
}

// Sending lists the ids being sent by this runner now.
func (r *Runner) Sending() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id := range r.inflight {
		out = append(out, id)
	}
	return out
}
