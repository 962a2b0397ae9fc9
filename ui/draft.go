package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// Draft is the message being written, as plain data: what the compose pane
// shows and what is saved between runs. Address fields hold what the user
// typed (lists separated by commas or semicolons).
type Draft struct {
	To          string   `json:"to,omitempty"`
	Cc          string   `json:"cc,omitempty"`
	Bcc         string   `json:"bcc,omitempty"`
	Subject     string   `json:"subject,omitempty"`
	Body        string   `json:"body,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
}

// IsEmpty reports whether there is nothing worth keeping in d.
func (d Draft) IsEmpty() bool {
	return strings.TrimSpace(d.To+d.Cc+d.Bcc+d.Subject+d.Body) == "" && len(d.Attachments) == 0
}

// Equal reports whether d and o hold the same text and attachments.
func (d Draft) Equal(o Draft) bool {
	return d.To == o.To && d.Cc == o.Cc && d.Bcc == o.Bcc && d.Subject == o.Subject &&
		d.Body == o.Body && slices.Equal(d.Attachments, o.Attachments)
}

// Validate checks the address fields and that there is someone to send to.
// Its errors are *mailer.Error of KindInvalidMessage naming the field and the
// bad item; attachments and size are left to mailer.Prepare.
func (d Draft) Validate() error {
	n := 0
	for _, f := range []struct{ name, value string }{{"To", d.To}, {"Cc", d.Cc}, {"Bcc", d.Bcc}} {
		addrs, err := mailer.ParseAddressList(f.value)
		if err != nil {
			return &mailer.Error{Kind: mailer.KindInvalidMessage, Stage: mailer.StageValidate, Detail: f.name + ": " + err.Error()}
		}
		n += len(addrs)
	}
	if n == 0 {
		return &mailer.Error{Kind: mailer.KindInvalidMessage, Stage: mailer.StageValidate, Detail: "no recipients: add an address in To, Cc or Bcc"}
	}
	return nil
}

// Message is d as the mailer takes it.
func (d Draft) Message() mailer.Message {
	m := mailer.Message{Subject: d.Subject, Body: d.Body, Attachments: slices.Clone(d.Attachments)}
	for _, f := range []struct {
		dst *[]string
		v   string
	}{{&m.To, d.To}, {&m.Cc, d.Cc}, {&m.Bcc, d.Bcc}} {
		if strings.TrimSpace(f.v) != "" {
			*f.dst = []string{f.v}
		}
	}
	return m
}

// Recipients lists every address of To, Cc and Bcc as typed, display names
// included, for the confirmation after a send. Unparsable fields are skipped.
func (d Draft) Recipients() []string {
	var out []string
	for _, v := range []string{d.To, d.Cc, d.Bcc} {
		addrs, _ := mailer.ParseAddressList(v)
		for _, a := range addrs {
			if a.Name != "" {
				out = append(out, a.Name+" <"+a.Address+">")
			} else {
				out = append(out, a.Address)
			}
		}
	}
	return out
}

var attachWordRE = regexp.MustCompile(`(?i)\b(attach\w*|enclosed)\b`)

// MentionsAttachment reports whether the body talks about an attachment
// ("attached", "enclosed", ...) outside quoted ">" lines, where the words
// are someone else's.
func (d Draft) MentionsAttachment() bool {
	for _, line := range strings.Split(d.Body, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		if attachWordRE.MatchString(line) {
			return true
		}
	}
	return false
}

// DraftFile is the name of the draft file inside the config folder.
const DraftFile = "draft.json"

// draftStore reads and writes the draft file. Writes are atomic, so a crash
// leaves either the previous draft or the new one.
type draftStore struct {
	path string
}

func newDraftStore(configDir string) draftStore {
	return draftStore{path: filepath.Join(configDir, DraftFile)}
}

// Load returns the saved draft; no file is an empty draft, not an error.
func (s draftStore) Load() (Draft, error) {
	var d Draft
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("ui: reading the draft: %w", err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return Draft{}, fmt.Errorf("ui: reading the draft %s: %w", s.path, err)
	}
	return d, nil
}

// Save writes d, or removes the file when d is empty.
func (s draftStore) Save(d Draft) error {
	if d.IsEmpty() {
		return s.Remove()
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return mailer.WriteFileAtomic(s.path, append(data, '\n'))
}

// Remove deletes the draft file; a missing file is fine.
func (s draftStore) Remove() error {
	err := os.Remove(s.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ui: removing the draft: %w", err)
	}
	return nil
}

// autosaver saves the draft at most a fixed delay after a change, off the
// UI goroutine: the first unsaved change starts the clock and later ones do
// not push it back, so steady typing is saved every delay too and a crash
// loses at most that much. The UI hands it snapshots (plain data), so the
// timer goroutine never touches a widget; writes are serialised and always
// write the newest snapshot, so an older draft never overwrites a newer one.
type autosaver struct {
	store draftStore
	delay time.Duration
	// saved, if set, is called after each write with its error, on the
	// writing goroutine.
	saved func(error)

	mu        sync.Mutex
	pending   *Draft
	scheduled bool
	timer     *time.Timer

	writeMu sync.Mutex
}

// Changed schedules d to be saved, replacing any snapshot not written yet.
func (s *autosaver) Changed(d Draft) {
	s.mu.Lock()
	defer s.mu.Unlock()
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

// Discard forgets the draft: the pending snapshot and the file, in the
// background.
func (s *autosaver) Discard() {
	s.mu.Lock()
	s.pending = &Draft{}
	s.stopTimer()
	s.mu.Unlock()
	go s.Flush()
}

// stopTimer must be called with mu held.
func (s *autosaver) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.scheduled = false
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
	err := s.store.Save(*d)
	if s.saved != nil {
		s.saved(err)
	}
}

// Close stops the timer and writes what is pending, for when the window
// closes.
func (s *autosaver) Close() {
	s.mu.Lock()
	s.stopTimer()
	s.mu.Unlock()
	s.Flush()
}
