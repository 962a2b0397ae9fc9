package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// State is where an Outbox message stands.
type State string

// The states of an Outbox message. Their values are part of the command
// line's output.
const (
	// StateWaiting: to be sent when its time comes (after the undo delay,
	// or the pause after a failure that may pass by itself).
	StateWaiting State = "waiting"
	// StateSending: a process is sending it now.
	StateSending State = "sending"
	// StateNeedsAttention: it failed in a way that needs the user (the
	// password, a refused address, ...); never retried automatically.
	StateNeedsAttention State = "needs-attention"
	// StateUnconfirmed: the connection was lost after the final dot, so
	// the server may or may not have it; never retried automatically.
	StateUnconfirmed State = "unconfirmed"
)

// Failure is the last failure of an Outbox message, kept as data.
type Failure struct {
	Kind     mailer.Kind    `json:"kind"`
	Stage    mailer.Stage   `json:"stage,omitempty"`
	Reply    *mailer.Reply  `json:"reply,omitempty"`
	Rejected []string       `json:"rejected,omitempty"`
	Setting  mailer.Setting `json:"setting,omitempty"`
	Detail   string         `json:"detail,omitempty"`
	At       time.Time      `json:"at,omitzero"`
}

// failureOf keeps what the window and the command line show of err.
func failureOf(err error, at time.Time) *Failure {
	var e *mailer.Error
	if !errors.As(err, &e) {
		return &Failure{Kind: mailer.KindUnknown, Detail: err.Error(), At: at}
	}
	f := &Failure{Kind: e.Kind, Stage: e.Stage, Reply: e.Reply, Rejected: e.Rejected, Setting: e.Setting, Detail: e.Detail, At: at}
	if f.Detail == "" && e.Reply == nil && e.Err != nil {
		f.Detail = e.Err.Error()
	}
	return f
}

// Error is f as the *mailer.Error it was, for its hint and fixes.
func (f *Failure) Error() *mailer.Error {
	if f == nil {
		return nil
	}
	return &mailer.Error{Kind: f.Kind, Stage: f.Stage, Reply: f.Reply, Rejected: f.Rejected, Setting: f.Setting, Detail: f.Detail}
}

// Entry is one Outbox message: what it is, and where it stands.
type Entry struct {
	ID    string `json:"id"`
	State State  `json:"state"`

	// What the user sees of it.
	Subject    string    `json:"subject"`
	Recipients []string  `json:"recipients"` // as typed: "Bob <bob@example.org>"
	MessageID  string    `json:"message_id"`
	Date       time.Time `json:"date"`

	// The envelope, fixed when the message was frozen.
	From     string   `json:"envelope_from"`
	Envelope []string `json:"envelope_recipients"`
	// Size is the number of bytes sent; the Sent record (message.eml)
	// starts with WireOffset bytes of Bcc header that are not sent.
	Size       int64 `json:"size"`
	WireOffset int64 `json:"wire_offset"`

	Queued time.Time `json:"queued"`
	// HoldUntil is the end of the undo delay: not sent before.
	HoldUntil time.Time `json:"hold_until,omitzero"`
	// NextTry is when a waiting message is tried next.
	NextTry  time.Time `json:"next_try,omitzero"`
	Attempts int       `json:"attempts"`
	// Last is the last failure, if any.
	Last *Failure `json:"last_error,omitempty"`
	// Checked is what looking for an unconfirmed message in the server's
	// Sent folder found, once it was looked for.
	Checked *Check `json:"checked,omitempty"`
	// Draft is the draft as it was when sent, for Undo and Edit.
	Draft *Draft `json:"draft,omitempty"`
	// CopyPlan is what becomes of its copy in the server's Sent folder
	// once it is sent (CopyPending or CopyOff), recorded when a Runner's
	// send starts: should Postcard stop between the move to Sent and the
	// record of the copy, Recover records it from here.
	CopyPlan CopyStatus `json:"copy_plan,omitempty"`
}

func (s *Store) readMeta(id string) (Entry, error) {
	var e Entry
	err := readJSON(s.path(outboxDir, id, metaFile), &e)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	e.ID = id
	return e, nil
}

func (s *Store) writeMeta(id string, e Entry, d durability) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFileAtomic("meta:"+string(e.State), s.path(outboxDir, id, metaFile), append(data, '\n'), d)
}

// Queue freezes the draft d, prepared for sending as p, into the Outbox: the
// exact bytes that will go out (attachments copied in, Message-ID and Date
// fixed) are written and synced inside the draft's folder, then the folder
// moves to the Outbox in one rename, so the message is at every instant in
// Drafts or in the Outbox, whole. h is the draft's lock; the caller keeps
// it, and releases it when done. hold is the undo delay.
func (s *Store) Queue(h *Handle, d Draft, p *mailer.Prepared, hold time.Duration) (Entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return Entry{}, errors.New("store: the draft's lock was released")
	}
	if h.moved {
		return Entry{}, ErrNotFound
	}
	now := s.now()
	bcc := bccHeader(d.Bcc)
	e := Entry{
		ID:         h.ID,
		State:      StateWaiting,
		Subject:    d.Subject,
		Recipients: d.Recipients(),
		MessageID:  p.MessageID,
		Date:       p.Date,
		From:       p.EnvelopeFrom,
		Envelope:   p.Recipients,
		Size:       p.Size,
		WireOffset: int64(len(bcc)),
		Queued:     now.UTC(),
		NextTry:    now.UTC(),
	}
	if hold > 0 {
		e.HoldUntil = now.Add(hold).UTC()
		e.NextTry = e.HoldUntil
	}
	dir := s.path(draftsDir, h.ID)
	if err := s.step("queue:mkdir"); err != nil {
		return Entry{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	d.ID, d.Saved = "", now.UTC()
	e.Draft = &d
	// The dot record exists from the start, one byte saying "not yet":
	// recording the dot before the final dot is then that byte written
	// over in place, and a sync of its data (see recordDot).
	if err := s.step("queue:dot"); err != nil {
		return Entry{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, dotFile), dotClear, 0o600); err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	// One sync: the message's content, before it can leave Drafts. The
	// meta can be rebuilt from the message (see metaFromEML), and the
	// rename need not be synced: if a power cut takes it back, the message
	// is in Drafts again, whole, and if it had been sent by then, its
	// synced dot record brings it back to the Outbox (see Recover). On a
	// journalling file system the names created in the folder are
	// committed no later than the rename. The draft.json an autosave left
	// in the folder goes along unchanged; the draft as sent is in the meta.
	err := s.writeAtomic("queue:message", filepath.Join(dir, messageFile), contentDurable, func(w io.Writer) error {
		if _, err := io.WriteString(w, bcc); err != nil {
			return err
		}
		n, err := p.WriteTo(w)
		if err == nil && n != p.Size {
			err = fmt.Errorf("wrote %d bytes, not the %d prepared", n, p.Size)
		}
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	if err := s.writeFileAtomic("queue:meta", filepath.Join(dir, metaFile), append(meta, '\n'), volatile); err != nil {
		return Entry{}, err
	}
	// The one step that moves the message from Drafts to the Outbox.
	if err := s.rename("queue:move", dir, s.path(outboxDir, h.ID), volatile); err != nil {
		return Entry{}, err
	}
	h.moved = true
	return e, nil
}

// bccHeader is the Bcc header the Sent record keeps (the message sent never
// has one), one address a line so no line grows past the limit; "" when
// there are none.
func bccHeader(list string) string {
	addrs, _ := mailer.ParseAddressList(list)
	if len(addrs) == 0 {
		return ""
	}
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = a.String()
	}
	return "Bcc: " + strings.Join(parts, ",\r\n ") + "\r\n"
}

// Outbox lists the Outbox messages, the oldest first.
func (s *Store) Outbox() ([]Entry, error) {
	ids, err := s.list(outboxDir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, id := range ids {
		if _, err := os.Stat(s.path(outboxDir, id, messageFile)); err != nil {
			continue // moved to Sent a moment ago
		}
		e, err := s.readMeta(id)
		if err != nil {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Queued.Before(out[j].Queued) })
	return out, nil
}

// Entry returns the Outbox message id.
func (s *Store) Entry(id string) (Entry, error) {
	if !validID(id) {
		return Entry{}, ErrNotFound
	}
	if _, err := os.Stat(s.path(outboxDir, id, messageFile)); err != nil {
		return Entry{}, ErrNotFound
	}
	return s.readMeta(id)
}

// Undo takes the Outbox message id back to Drafts, exactly as it was when
// sent (the frozen copy is dropped), and returns the draft with its lock
// held for the caller, who edits it. ErrBusy when it is being sent.
func (s *Store) Undo(id string) (*Handle, Draft, error) {
	h, err := s.lock(id)
	if err != nil {
		return nil, Draft{}, err
	}
	d, err := s.undo(h)
	if err != nil {
		h.Release()
		return nil, Draft{}, err
	}
	return h, d, nil
}

func (s *Store) undo(h *Handle) (Draft, error) {
	e, err := s.Entry(h.ID)
	if err != nil {
		return Draft{}, err
	}
	if e.Draft == nil {
		return Draft{}, fmt.Errorf("store: message %s has no draft to go back to", h.ID)
	}
	d := *e.Draft
	d.ID = h.ID
	dir := s.path(draftsDir, h.ID)
	// Synced: a power cut must not send a message the user took back.
	if err := s.rename("undo:move", s.path(outboxDir, h.ID), dir, durable); err != nil {
		return Draft{}, err
	}
	// The draft as it was sent becomes the draft; Recover does the same
	// from the meta if this stops half-way.
	if err := s.writeDraft("undo:draft", dir, *e.Draft); err != nil {
		return Draft{}, err
	}
	// What is left of the frozen message is tidied by Recover if this
	// stops half-way.
	for _, name := range []string{messageFile, metaFile, dotFile} {
		if err := s.step("undo:remove"); err != nil {
			return Draft{}, err
		}
		os.Remove(filepath.Join(dir, name))
	}
	return d, nil
}

// Delete removes the Outbox message id. ErrBusy when it is being sent.
func (s *Store) Delete(id string) error {
	h, err := s.lock(id)
	if err != nil {
		return err
	}
	defer h.Release()
	if _, err := s.Entry(id); err != nil {
		return err
	}
	if err := s.removeDir(s.path(outboxDir, id)); err != nil {
		return err
	}
	h.gone = true
	return nil
}

// Reschedule makes a waiting or needs-attention message id due now (after
// the user's fix: "Send now"), ending any undo delay. Unconfirmed messages
// are left alone: sending them again is Deliver with Force.
func (s *Store) Reschedule(id string) (Entry, error) {
	h, err := s.lock(id)
	if err != nil {
		return Entry{}, err
	}
	defer h.Release()
	e, err := s.Entry(id)
	if err != nil {
		return Entry{}, err
	}
	if e.State != StateWaiting && e.State != StateNeedsAttention {
		return e, nil
	}
	e.State, e.NextTry, e.HoldUntil = StateWaiting, s.now().UTC(), time.Time{}
	return e, s.writeMeta(id, e, durable)
}

// MoveToSent files an unconfirmed message id in Sent, when the user knows
// (or the server's Sent folder shows) that it was delivered.
func (s *Store) MoveToSent(id string) error {
	h, err := s.lock(id)
	if err != nil {
		return err
	}
	defer h.Release()
	e, err := s.Entry(id)
	if err != nil {
		return err
	}
	return s.moveToSent(h, e)
}

// moveToSent files the frozen message in Sent, then removes what is left
// of its Outbox folder.
func (s *Store) moveToSent(h *Handle, e Entry) error {
	if err := s.fileSent(h); err != nil {
		return err
	}
	return s.tidySent(h)
}

// fileSent renames the frozen message into the Sent Maildir: the one step
// that makes it sent. What is left of its Outbox folder (the meta, the dot
// record) is inert from then on: the Outbox lists a folder only with its
// message in it.
func (s *Store) fileSent(h *Handle) error {
	// Not synced: if a power cut takes the move back, the synced dot
	// record makes the message unconfirmed, never sent again on its own.
	if err := s.rename("sent:move", s.path(outboxDir, h.ID, messageFile), s.path(sentDir, "cur", h.ID+maildirInfo), volatile); err != nil {
		return err
	}
	h.gone = true
	return nil
}

// tidySent removes what fileSent left of the Outbox folder; Recover
// finishes it if this stops half-way. It fails only where the fault hook
// stops it.
func (s *Store) tidySent(h *Handle) error {
	if err := s.step("sent:cleanup"); err != nil {
		return err
	}
	os.RemoveAll(s.path(outboxDir, h.ID))
	return nil
}

// How Deliver treats a message's schedule.
type Mode int

const (
	// Due sends a waiting message whose time has come.
	Due Mode = iota
	// Now sends a waiting message at once, unless the user may still undo
	// it ("postcard outbox send", the start of the window).
	Now
	// Force sends a message in any state but sending, undo delay or not:
	// "Send now" after a fix, "Send again" for an unconfirmed one.
	Force
)

// ErrNotDue is returned by Deliver for a message that is not to be sent in
// the mode asked.
var ErrNotDue = errors.New("store: the message is not due")

// ErrQuit is the cause to cancel a Deliver with when Postcard quits: the
// message goes back to waiting (unless it may have been delivered), to be
// sent at the next start.
var ErrQuit = errors.New("store: Postcard is quitting")

// SendFunc sends a message with the account's settings as they are at the
// time of sending; the Outbox's deliveries go through it.
type SendFunc func(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error)

// Deliver sends the Outbox message id once, if mode allows, and moves it
// where the outcome says: to Sent when the server accepted it; back to
// waiting, with a growing pause, after a failure that may pass by itself;
// to needs-attention after one that needs the user; to unconfirmed when the
// final dot may have gone out and no verdict came. Before the dot is
// written, Deliver records durably that it is about to be, so that a crash
// at any instant never makes a delivered message look unsent.
//
// It returns the entry as it now stands and the send's error (or ErrBusy,
// ErrNotFound, ErrNotDue). Cancelling ctx with cause ErrQuit leaves the
// message waiting; any other cancel (the user's Cancel) makes it need
// attention.
func (s *Store) Deliver(ctx context.Context, id string, mode Mode, send SendFunc) (Entry, *mailer.Result, error) {
	return s.deliver(ctx, id, mode, send, nil, nil)
}

// deliver is Deliver. Once the message is in Sent, sent, if set, runs
// first (the Runner reports the attempt there, so that "Sent" shows without
// waiting for the disk), then the state of its copy is recorded as plan
// says, if set, then the rest of its Outbox folder, which holds the plan
// until then, is tidied away.
func (s *Store) deliver(ctx context.Context, id string, mode Mode, send SendFunc, plan *copyPlan, sent func(Entry, *mailer.Result)) (Entry, *mailer.Result, error) {
	h, err := s.lock(id)
	if err != nil {
		return Entry{}, nil, err
	}
	defer h.Release()
	e, err := s.Entry(id)
	if err != nil {
		return Entry{}, nil, err
	}
	now := s.now()
	switch {
	case e.State == StateSending:
		// Its sender died (it held no lock): Recover decides.
		return e, nil, ErrNotDue
	case mode == Force:
	case e.State != StateWaiting:
		return e, nil, ErrNotDue
	case now.Before(e.HoldUntil):
		return e, nil, ErrNotDue
	case mode == Due && now.Before(e.NextTry):
		return e, nil, ErrNotDue
	}

	dir := s.path(outboxDir, id)
	// A dot recorded by an earlier attempt is not this one's.
	if err := s.step("deliver:undot"); err != nil {
		return e, nil, err
	}
	if err := clearDot(dir); err != nil {
		return e, nil, fmt.Errorf("store: %w", err)
	}
	e.State, e.HoldUntil, e.Checked = StateSending, time.Time{}, nil
	e.Attempts++
	if plan != nil {
		e.CopyPlan = plan.status
	}
	// Not synced: after a power cut, "sending" without the dot record is
	// "waiting" again, which is what the state said before.
	if err := s.writeMeta(id, e, volatile); err != nil {
		return e, nil, err
	}

	f, err := os.Open(filepath.Join(dir, messageFile))
	if err != nil {
		return s.failed(h, e, fmt.Errorf("store: the frozen message cannot be read: %w", err), now)
	}
	defer f.Close()
	out := &mailer.Outgoing{
		From:       e.From,
		Recipients: e.Envelope,
		MessageID:  e.MessageID,
		Size:       e.Size,
		Content:    &sectionWriterTo{r: io.NewSectionReader(f, e.WireOffset, e.Size)},
		BeforeDot:  func() error { return s.recordDot(dir) },
	}
	res, err := send(ctx, out)
	if err != nil {
		if context.Cause(ctx) == ErrQuit && !mailer.MaybeDelivered(err) {
			// Not delivered: it goes at the next start, as the window said.
			e.State, e.NextTry = StateWaiting, s.now().UTC()
			e.Last = failureOf(err, s.now().UTC())
			e.Last.Detail = "Postcard was closed while sending; it was not delivered and goes at the next start"
			return e, nil, errors.Join(err, s.writeMeta(id, e, durable))
		}
		return s.failed(h, e, err, s.now())
	}
	if err := s.fileSent(h); err != nil {
		// Delivered, but not filed: never to be sent again on its own.
		e.State = StateUnconfirmed
		e.Last = &Failure{Kind: mailer.KindUnknown, Stage: mailer.StageAccepted, At: s.now().UTC(),
			Detail: "the server accepted the message, but it could not be moved to Sent: " + err.Error()}
		return e, res, errors.Join(err, s.writeMeta(id, e, durable))
	}
	e.State, e.Last = "", nil
	if sent != nil {
		sent(e, res)
	}
	if plan != nil {
		if err := s.SetCopy(id, plan.copy(s.now())); err != nil {
			// Sent all the same; the plan stays in what is left of the
			// Outbox folder, for Recover to record.
			return e, res, nil
		}
	}
	return e, res, s.tidySent(h)
}

// failed records a failed attempt and decides what comes next.
func (s *Store) failed(h *Handle, e Entry, err error, now time.Time) (Entry, *mailer.Result, error) {
	e.Last = failureOf(err, now.UTC())
	switch {
	case mailer.MaybeDelivered(err):
		e.State = StateUnconfirmed
	case mailer.MayPass(err):
		e.State = StateWaiting
		e.NextTry = now.Add(Backoff(e.Attempts)).UTC()
	default:
		e.State = StateNeedsAttention
	}
	if e.State != StateUnconfirmed {
		clearDot(s.path(outboxDir, h.ID))
	}
	return e, nil, errors.Join(err, s.writeMeta(h.ID, e, durable))
}

// The dot record's byte: dotSet once the final dot may have gone out,
// anything else (dotClear, or an empty file from an older version) before.
var (
	dotClear = []byte{'0'}
	dotSet   = []byte{'1'}
)

// clearDot makes the dot record of the message in dir say "not yet",
// written over in place (not truncated): the record keeps its one byte, so
// recordDot changes data only. A missing record is made anew.
func clearDot(dir string) error {
	path := filepath.Join(dir, dotFile)
	err := overwrite(path, dotClear, false)
	if errors.Is(err, fs.ErrNotExist) {
		return os.WriteFile(path, dotClear, 0o600)
	}
	return err
}

// recordDot writes, and syncs, the record that the final dot is about to
// be written: from here on the message may be delivered. The record file
// exists from Queue on with its one byte, so this writes that byte over in
// place and syncs its data (fdatasync where there is one): no name and no
// size change to commit, only, the first time, the byte's place on the
// disk if the kernel has not written it out yet.
func (s *Store) recordDot(dir string) error {
	err := s.step("deliver:dot")
	if err == nil {
		err = overwrite(filepath.Join(dir, dotFile), dotSet, true)
	}
	if err != nil {
		return &mailer.Error{Kind: mailer.KindUnknown, Stage: mailer.StageData,
			Detail: "the outbox could not record the send, so it was stopped before the end; nothing was delivered", Err: err}
	}
	return nil
}

// overwrite writes data at the start of the existing file path, in place,
// and if sync is set syncs its content (and whatever metadata reading it
// back needs, should its size have changed).
func overwrite(path string, data []byte, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := syncData(f); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// dotWritten reports whether the dot record of the message in dir says the
// final dot may have gone out.
func dotWritten(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, dotFile))
	return err == nil && len(b) > 0 && b[0] == dotSet[0]
}

// Backoff is the pause before the next try of a message that failed for
// the attempts-th time in a way that may pass by itself: 30 s, doubling,
// up to 30 min, each give or take a tenth so that many messages do not
// retry in step.
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	jitter := time.Duration(rand.Int64N(int64(d/5))) - d/10
	return d + jitter
}

// sectionWriterTo writes a section of the frozen message.
type sectionWriterTo struct{ r *io.SectionReader }

func (w *sectionWriterTo) WriteTo(dst io.Writer) (int64, error) {
	buf := make([]byte, 64<<10)
	return io.CopyBuffer(dst, w.r, buf)
}
