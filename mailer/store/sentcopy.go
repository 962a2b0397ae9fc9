package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// CopyStatus is where the copy of a Sent message in the server's Sent
// folder (over IMAP) stands.
type CopyStatus string

// The states of a Sent message's copy. Their values are part of the
// command line's output ("sent_copy").
const (
	CopyPending      CopyStatus = "pending"       // to be filed when its time comes
	CopyFiled        CopyStatus = "filed"         // appended by Postcard
	CopyAlreadyThere CopyStatus = "already-there" // the server had filed it itself
	CopyFailed       CopyStatus = "failed"        // not saved; see Last
	CopyOff          CopyStatus = "off"           // no copy is kept for this account
)

// Copy is the state of a Sent message's copy in the server's Sent folder.
// A failed copy never changes the message: it was sent.
type Copy struct {
	Status   CopyStatus `json:"status"`
	Attempts int        `json:"attempts,omitempty"`
	// NextTry is when a pending copy, or a failed one that may pass by
	// itself, is tried next; zero for a failed one that needs the user.
	NextTry time.Time `json:"next_try,omitzero"`
	Last    *Failure  `json:"last_error,omitempty"`
	At      time.Time `json:"at,omitzero"` // when it was filed or found
}

const copyDir = "sent-copy"

func (s *Store) copyPath(id string) string { return s.path(copyDir, id+".json") }

// CopyOf returns the state of the copy of Sent message id; ok is false when
// none was recorded (a message sent before copies were kept).
func (s *Store) CopyOf(id string) (c Copy, ok bool) {
	if !validID(id) {
		return Copy{}, false
	}
	if err := readJSON(s.copyPath(id), &c); err != nil {
		return Copy{}, false
	}
	return c, true
}

// SetCopy records the state of the copy of Sent message id.
func (s *Store) SetCopy(id string, c Copy) error {
	if !validID(id) {
		return fmt.Errorf("store: %q is not a message id", id)
	}
	if err := os.MkdirAll(s.path(copyDir), 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	// Not synced: after a power cut the worst is a copy tried again,
	// which finds itself already filed.
	return s.writeFileAtomic("copy:"+string(c.Status), s.copyPath(id), data, volatile)
}

// copyPlan is what a Runner records of a message's copy once it is sent.
type copyPlan struct {
	status CopyStatus    // CopyPending or CopyOff
	delay  time.Duration // before a pending copy is first tried
}

func (p copyPlan) copy(now time.Time) Copy {
	if p.status == CopyPending {
		return Copy{Status: CopyPending, NextTry: now.Add(p.delay).UTC()}
	}
	return Copy{Status: CopyOff}
}

// recordPlannedCopy records the copy state that the meta of message id,
// moved to Sent by a send, planned, when the send stopped before recording
// it. A message moved by "Move to Sent" or found in the server's Sent
// folder (its meta not "sending") records its own state, or none.
func (s *Store) recordPlannedCopy(id string) error {
	m, err := s.readMeta(id)
	if err != nil || m.CopyPlan == "" || m.State != StateSending {
		return nil
	}
	h, err := s.lock("copy-" + id)
	if err != nil {
		return err // a copy being filed now: the next Recover looks again
	}
	defer h.Release()
	if _, ok := s.CopyOf(id); ok {
		return nil
	}
	if _, err := s.sentItem(id); err != nil {
		return nil // deleted, not sent
	}
	return s.SetCopy(id, copyPlan{status: m.CopyPlan}.copy(s.now()))
}

// CopiesDue lists the Sent messages whose copy is to be tried now, and
// when the next one is due after them (zero if none).
func (s *Store) CopiesDue(now time.Time) (due []string, next time.Time) {
	ents, err := os.ReadDir(s.path(copyDir))
	if err != nil {
		return nil, time.Time{}
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !validID(id) {
			continue
		}
		c, ok := s.CopyOf(id)
		if !ok || c.NextTry.IsZero() || (c.Status != CopyPending && c.Status != CopyFailed) {
			continue
		}
		if !c.NextTry.After(now) {
			due = append(due, id)
		} else if next.IsZero() || c.NextTry.Before(next) {
			next = c.NextTry
		}
	}
	sort.Strings(due)
	return due, next
}

// CopyFunc files the copy of the Sent message it (its bytes in raw, Bcc
// header included, as the Sent record keeps them) in the server's Sent
// folder. sentAt is when the server accepted the message.
type CopyFunc func(ctx context.Context, it SentItem, raw io.Reader, sentAt time.Time) (mailer.CopyOutcome, error)

// FileCopy files the copy of Sent message id once, unless it is filed
// already or, without force, not due. A failure is recorded with the pause
// before the next try when it may pass by itself (the network), or for the
// user's click otherwise. It returns the copy's state and copy's error.
func (s *Store) FileCopy(ctx context.Context, id string, force bool, copy CopyFunc) (Copy, error) {
	h, err := s.lock("copy-" + id)
	if err != nil {
		return Copy{}, err
	}
	defer h.Release()
	c, _ := s.CopyOf(id)
	now := s.now()
	switch {
	case c.Status == CopyFiled || c.Status == CopyAlreadyThere:
		return c, nil
	case force:
	case c.Status != CopyPending && c.Status != CopyFailed, c.NextTry.IsZero(), now.Before(c.NextTry):
		return c, ErrNotDue
	}
	it, err := s.sentItem(id)
	if err != nil {
		return c, err
	}
	f, err := os.Open(it.Path)
	if err != nil {
		return c, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return c, fmt.Errorf("store: %w", err)
	}
	outcome, cerr := copy(ctx, it, f, fi.ModTime())
	c.Attempts++
	now = s.now()
	if cerr != nil {
		c.Status, c.Last = CopyFailed, failureOf(cerr, now.UTC())
		c.NextTry = time.Time{}
		if mailer.MayPass(cerr) {
			c.NextTry = now.Add(Backoff(c.Attempts)).UTC()
		}
		return c, errors.Join(cerr, s.SetCopy(id, c))
	}
	c.Status, c.Last, c.NextTry, c.At = CopyStatus(outcome), nil, time.Time{}, now.UTC()
	return c, s.SetCopy(id, c)
}

// learnedFile remembers, per IMAP account, whether its server files the
// messages sent over SMTP in the Sent folder by itself.
const learnedFile = "sent-copy-servers.json"

// ServerFilesCopies says whether the server of account key (host and
// user) was seen filing its own copies; known is false until a copy was
// tried long enough after a send to tell.
func (s *Store) ServerFilesCopies(key string) (files, known bool) {
	var m map[string]bool
	if err := readJSON(s.path(learnedFile), &m); err != nil {
		return false, false
	}
	files, known = m[key]
	return files, known
}

// LearnServerFilesCopies records what a copy tried long enough after a
// send showed of account key's server.
func (s *Store) LearnServerFilesCopies(key string, files bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]bool{}
	if err := readJSON(s.path(learnedFile), &m); err != nil && !errors.Is(err, fs.ErrNotExist) {
		m = map[string]bool{}
	}
	if old, ok := m[key]; ok && old == files {
		return nil
	}
	m[key] = files
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.writeFileAtomic("learn", s.path(learnedFile), data, volatile)
}

// FindFunc reports whether the server's Sent folder holds a message with
// messageID.
type FindFunc func(ctx context.Context, messageID string) (bool, error)

// Resolve looks for the unconfirmed Outbox message id in the server's Sent
// folder. Found, it was delivered: it moves to Sent, its copy recorded as
// already there. Not found, it cannot be known (iCloud may not file
// messages sent over SMTP): the entry says it was looked for.
func (s *Store) Resolve(ctx context.Context, id string, find FindFunc) (found bool, err error) {
	h, err := s.lock(id)
	if err != nil {
		return false, err
	}
	defer h.Release()
	e, err := s.Entry(id)
	if err != nil {
		return false, err
	}
	if e.State != StateUnconfirmed {
		return false, ErrNotDue
	}
	found, ferr := find(ctx, e.MessageID)
	now := s.now().UTC()
	e.Checked = &Check{At: now, Found: found}
	if ferr != nil {
		e.Checked.Err = failureOf(ferr, now)
		return false, errors.Join(ferr, s.writeMeta(id, e, durable))
	}
	if !found {
		return false, s.writeMeta(id, e, durable)
	}
	if err := s.moveToSent(h, e); err != nil {
		return true, err
	}
	return true, s.SetCopy(id, Copy{Status: CopyAlreadyThere, At: now})
}

// Check is what looking for an unconfirmed message in the server's Sent
// folder found.
type Check struct {
	At    time.Time `json:"at"`
	Found bool      `json:"found"`
	Err   *Failure  `json:"error,omitempty"`
}
