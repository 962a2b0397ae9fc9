package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// Draft is a message being written, as plain data: what the compose pane
// shows and what is saved between runs. Address fields hold what the user
// typed (lists separated by commas or semicolons).
type Draft struct {
	// ID is the message's id in the store; "" for a draft never saved.
	ID string `json:"-"`
	// From is the sender address when it is not the account's own.
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Cc          string   `json:"cc,omitempty"`
	Bcc         string   `json:"bcc,omitempty"`
	Subject     string   `json:"subject,omitempty"`
	Body        string   `json:"body,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
	// Saved is when the draft was last written.
	Saved time.Time `json:"saved,omitzero"`
}

// IsEmpty reports whether there is nothing worth keeping in d.
func (d Draft) IsEmpty() bool {
	return strings.TrimSpace(d.To+d.Cc+d.Bcc+d.Subject+d.Body) == "" && len(d.Attachments) == 0
}

// Equal reports whether d and o hold the same message (ids and save times
// aside).
func (d Draft) Equal(o Draft) bool {
	return d.From == o.From && d.To == o.To && d.Cc == o.Cc && d.Bcc == o.Bcc && d.Subject == o.Subject &&
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
	m := mailer.Message{From: d.From, Subject: d.Subject, Body: d.Body, Attachments: slices.Clone(d.Attachments)}
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
// included. Unparsable fields are skipped.
func (d Draft) Recipients() []string {
	var out []string
	for _, v := range []string{d.To, d.Cc, d.Bcc} {
		out = append(out, displayAddresses(v)...)
	}
	return out
}

func displayAddresses(list string) []string {
	addrs, _ := mailer.ParseAddressList(list)
	var out []string
	for _, a := range addrs {
		if a.Name != "" {
			out = append(out, a.Name+" <"+a.Address+">")
		} else {
			out = append(out, a.Address)
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

// NewDraft starts a new draft: it takes a fresh id and its lock. Nothing is
// written until the first SaveDraft.
func (s *Store) NewDraft() (*Handle, error) {
	return s.lock(NewID())
}

// EditDraft opens the draft id for editing: it takes the draft's lock
// (ErrBusy when another window has it open) and reads it.
func (s *Store) EditDraft(id string) (*Handle, Draft, error) {
	h, err := s.lock(id)
	if err != nil {
		return nil, Draft{}, err
	}
	d, err := s.readDraft(draftsDir, id)
	if err != nil {
		h.Release()
		return nil, Draft{}, err
	}
	return h, d, nil
}

func (s *Store) readDraft(place, id string) (Draft, error) {
	var d Draft
	err := readJSON(s.path(place, id, draftFile), &d)
	if errors.Is(err, fs.ErrNotExist) {
		return Draft{}, ErrNotFound
	}
	if err != nil {
		return Draft{}, err
	}
	d.ID = id
	return d, nil
}

// SaveDraft writes d as the draft held by h, atomically; an empty d removes
// the draft.
func (s *Store) SaveDraft(h *Handle, d Draft) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return errors.New("store: the draft's lock was released")
	}
	if h.moved {
		return ErrNotFound
	}
	dir := s.path(draftsDir, h.ID)
	if d.IsEmpty() {
		// Attachments the draft owned (files/) go with it.
		return s.removeDir(dir)
	}
	if err := s.step("draft:mkdir"); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	d.Saved = s.now().UTC()
	return s.writeDraft("draft:write", dir, d)
}

// writeDraft writes d, without its ID (the folder's name), as the draft
// file of the folder dir, synced.
func (s *Store) writeDraft(step, dir string, d Draft) error {
	d.ID = ""
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return s.writeFileAtomic(step, filepath.Join(dir, draftFile), append(data, '\n'), durable)
}

// DeleteDraft removes the draft held by h.
func (s *Store) DeleteDraft(h *Handle) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	err := s.removeDir(s.path(draftsDir, h.ID))
	if err == nil {
		h.gone = true
	}
	return err
}

// removeDir removes a message's folder by first renaming it into the
// trash, so that it disappears from its place at once and whole.
func (s *Store) removeDir(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	trash := s.path(trashDir, filepath.Base(dir)+"."+NewID())
	if err := s.rename("remove:rename", dir, trash, durable); err != nil {
		return err
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Drafts lists the drafts, the last saved first. A draft that cannot be
// read is skipped.
func (s *Store) Drafts() ([]Draft, error) {
	ids, err := s.list(draftsDir)
	if err != nil {
		return nil, err
	}
	var out []Draft
	for _, id := range ids {
		d, err := s.readDraft(draftsDir, id)
		if err != nil {
			continue
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Saved.After(out[j].Saved) })
	return out, nil
}

// MigrateDraft moves the single draft file of Postcard's first versions
// (legacy, usually ConfigDir/draft.json) into Drafts; a missing file is
// nothing to do. Only one process moves it, however many start at once.
func (s *Store) MigrateDraft(legacy string) error {
	if _, err := os.Stat(legacy); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	g, err := s.lock("migrate")
	if errors.Is(err, ErrBusy) {
		return nil // another process is moving it
	}
	if err != nil {
		return err
	}
	defer g.Release()
	data, err := os.ReadFile(legacy)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // moved meanwhile
	}
	var d Draft
	if err == nil && len(data) > maxSmallFile {
		err = fmt.Errorf("it is larger than %d bytes", maxSmallFile)
	}
	if err == nil {
		err = json.Unmarshal(data, &d)
	}
	if err != nil {
		return fmt.Errorf("store: the draft of the previous version (%s) cannot be read: %w", legacy, err)
	}
	if !d.IsEmpty() {
		// The id comes from the content, so a crash after the save and
		// before the removal below does not make a second copy next time.
		sum := sha256.Sum256(data)
		h, err := s.lock("legacy-" + hex.EncodeToString(sum[:8]))
		if err != nil {
			return err
		}
		defer h.Release()
		if err := s.SaveDraft(h, d); err != nil {
			return err
		}
	}
	if err := os.Remove(legacy); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
