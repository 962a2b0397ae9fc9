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
// loses at most that much. The UI hands it snapshots (plain data), so the
// timer goroutine never touches a widget; writes are serialised and always
// write the newest snapshot, so an older draft never overwrites a newer one.
// Each autosaver writes one draft, held by its handle.
type autosaver struct {
	st    *store.Store
	h     *store.Handle
	delay time.Duration
	// saved, if set, is called after each write with its error, on the
	// writing goroutine.
	saved func(error)

	mu        sync.Mutex
	pending   *Draft
	scheduled bool
	stopped   bool
	timer     *time.Timer

	writeMu sync.Mutex
}

func newAutosaver(st *store.Store, h *store.Handle, delay time.Duration, saved func(error)) *autosaver {
	return &autosaver{st: st, h: h, delay: delay, saved: saved}
}

// Changed schedules d to be saved, replacing any snapshot not written yet.
func (s *autosaver) Changed(d Draft) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.pending = &d
	if s.scheduled {
		return
	}
	s.scheduled = true
	if s.timer == nil {
		s.timer = time.AfterFunc(s.delay, s.Flush)
	} else {
		s.timer.Reset(s.delay)
	}
}

// Flush writes the pending snapshot now, if there is one, and returns when
// it is on disk.
func (s *autosaver) Flush() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	d := s.pending
	s.pending = nil
	s.scheduled = false
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
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
	}
	s.scheduled = false
	s.mu.Unlock()
	s.writeMu.Lock()
	s.writeMu.Unlock() //nolint:staticcheck // waits for a write under way
}

// Close stops the timer, writes what is pending and releases the draft's
// lock: the window is closing or the pane moves to another draft.
func (s *autosaver) Close() {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.scheduled = false
	s.mu.Unlock()
	s.Flush()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.h.Release()
}
