package ui

import (
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer/store"
)

// Draft is the message being written, as plain data (see store.Draft).
type Draft = store.Draft

// autosaver saves the draft at most a fixed delay after a change, off the
// UI goroutine: the first unsaved change starts the clock and later ones do
// not push it back, so steady typing is saved every delay too and a crash
// loses at most that much. A change costs nothing but a flag: when the
// delay is over, the snapshot of the draft (plain data) is taken on the UI
// goroutine through take, and written on the autosaver's own goroutine, so
// a long body is copied once per save, not once per keystroke. Writes are
// serialised and always write the newest snapshot, so an older draft never
// overwrites a newer one. Each autosaver writes one draft, held by its
// handle.
type autosaver struct {
	st    *store.Store
	h     *store.Handle
	delay time.Duration
	// take returns the draft as it is now; it runs on the UI goroutine,
	// through do.
	take func() Draft
	do   func(func())
	// saved, if set, is called after each write with its error, on the
	// writing goroutine.
	saved func(error)

	mu        sync.Mutex
	pending   *Draft // a snapshot handed in, to write
	dirty     bool   // changed since the last snapshot
	scheduled bool
	stopped   bool
	timer     *time.Timer

	writeMu sync.Mutex
}

func newAutosaver(st *store.Store, h *store.Handle, delay time.Duration, take func() Draft, do func(func()), saved func(error)) *autosaver {
	return &autosaver{st: st, h: h, delay: delay, take: take, do: do, saved: saved}
}

// Touch says the draft changed; it is saved within the delay.
func (s *autosaver) Touch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.dirty = true
	s.schedule()
}

// Changed schedules d to be saved, replacing any snapshot not written yet.
func (s *autosaver) Changed(d Draft) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.pending, s.dirty = &d, false
	s.schedule()
}

// schedule must be called with mu held.
func (s *autosaver) schedule() {
	if s.scheduled {
		return
	}
	s.scheduled = true
	if s.timer == nil {
		s.timer = time.AfterFunc(s.delay, s.due)
	} else {
		s.timer.Reset(s.delay)
	}
}

// due runs when the delay is over: it has the snapshot taken on the UI
// goroutine if the draft changed, and writes it.
func (s *autosaver) due() {
	s.mu.Lock()
	s.scheduled = false // the timer fired: a change from now on sets it again
	dirty, stopped := s.dirty, s.stopped
	s.mu.Unlock()
	if stopped {
		return
	}
	if !dirty || s.take == nil {
		s.Flush()
		return
	}
	s.do(func() {
		d := s.take()
		s.mu.Lock()
		if !s.stopped && s.dirty {
			s.pending, s.dirty = &d, false
		}
		s.mu.Unlock()
		go s.Flush()
	})
}

// Flush writes the pending snapshot now, if there is one, and returns when
// it is on disk.
func (s *autosaver) Flush() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	d := s.pending
	s.pending = nil
	s.mu.Unlock()
	if d == nil {
		return
	}
	err := s.st.SaveDraft(s.h, *d)
	if s.saved != nil {
		s.saved(err)
	}
}

// Stop ends the autosaver without writing what is pending, and waits for a
// write under way: the draft is about to be sent or replaced. Changes after
// it are ignored.
func (s *autosaver) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.pending, s.dirty = nil, false
	if s.timer != nil {
		s.timer.Stop()
	}
	s.scheduled = false
	s.mu.Unlock()
	s.writeMu.Lock()
	s.writeMu.Unlock() //nolint:staticcheck // waits for a write under way
}

// Close stops the timer, writes what is pending and releases the draft's
// lock: the window is closing or the pane moves to another draft. The
// caller hands the last snapshot in with Changed first.
func (s *autosaver) Close() {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.scheduled, s.dirty = false, false
	s.mu.Unlock()
	s.Flush()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.h.Release()
}
