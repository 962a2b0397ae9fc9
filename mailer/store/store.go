// Package store keeps every message in exactly one of three places (Drafts,
// the Outbox and Sent), each message in its own files, so that a crash at
// any instant leaves every message whole in one place, and several Postcard
// processes can share the store without overwriting each other's messages.
//
// The layout under the store's folder (mailer.DataDir):
//
//	drafts/ID/draft.json        a draft (and files/ for attachments it owns)
//	outbox/ID/message.eml       the frozen message: the Sent record's bytes
//	outbox/ID/meta.json         envelope, state, attempts, last failure, and
//	                            the draft as it was when sent, for Undo
//	outbox/ID/dot               "1" once the final dot may have gone out
//	sent/{tmp,new,cur}/ID:2,S   a Maildir of the messages the server accepted
//	sent-copy/ID.json           the state of its copy in the server's Sent folder
//	locks/ID                    the message's lock (flock)
//
// A message moves between places by one rename: a draft becomes an Outbox
// message when its folder is renamed from drafts/ to outbox/ (after the
// frozen files were written and synced inside it), and an Outbox message
// becomes a Sent one when its message.eml is renamed into sent/cur/. What is
// left behind by a crash between two steps (frozen files in a draft, an
// outbox folder without message.eml) is recognised and tidied by Open.
//
// Every write is atomic (a temporary file renamed into place), so a
// process killed at any instant leaves each message whole in one place. A
// power cut can take back writes that were not synced; the store syncs
// where that could lose a message or send one twice: the frozen message
// before it leaves Drafts, the dot record before the final dot, Undo, and
// the outcomes that need the user.
//
// A message is changed or sent by one process at a time: each holds the
// message's lock (flock, released by the kernel when a process dies) while
// it edits, sends, moves or deletes it.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// The store's errors that callers branch on.
var (
	// ErrBusy means another Postcard window or command holds the message:
	// it is being edited or sent there.
	ErrBusy = errors.New("store: the message is open in another Postcard window or command")
	// ErrNotFound means the message is no longer where it was looked for:
	// sent, deleted or moved by another process meanwhile.
	ErrNotFound = errors.New("store: the message is no longer there")
)

// The folders and files of the layout.
const (
	draftsDir = "drafts"
	outboxDir = "outbox"
	sentDir   = "sent"
	locksDir  = "locks"
	trashDir  = "trash"

	draftFile   = "draft.json"
	messageFile = "message.eml"
	metaFile    = "meta.json"
	dotFile     = "dot"
	filesDir    = "files"
)

// maildirInfo ends a Sent file's name: Maildir's "seen" flag. Windows does
// not allow ':' in names; mail programs there use '!'.
var maildirInfo = func() string {
	if runtime.GOOS == "windows" {
		return "!2,S"
	}
	return ":2,S"
}()

// Store is the message store in one folder. Its methods are safe for use
// by several goroutines, and several processes may open the same folder.
type Store struct {
	dir string
	now func() time.Time

	// fault, when set (by tests), is called before each step that changes
	// the disk; an error stops the operation there, as a crash would.
	fault func(step string) error

	mu       sync.Mutex
	sentInfo map[string]SentItem // parsed Sent headers, by file name
}

// Open opens (and creates) the store in dir, then tidies what an earlier
// crash left half-done, skipping messages another process holds.
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir, now: time.Now, sentInfo: map[string]SentItem{}}
	for _, d := range []string{"", draftsDir, outboxDir, locksDir, trashDir,
		filepath.Join(sentDir, "tmp"), filepath.Join(sentDir, "new"), filepath.Join(sentDir, "cur")} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if err := s.Recover(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the store's folder.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// step reports a step that changes the disk to the fault hook.
func (s *Store) step(name string) error {
	if s.fault != nil {
		return s.fault(name)
	}
	return nil
}

// NewID returns a new message id: sortable by creation time and unique
// across processes.
func NewID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b[:])
}

// validID guards every path built from an id against ids from outside
// (the command line, a folder listing).
func validID(id string) bool {
	if id == "" || len(id) > 100 || strings.HasPrefix(id, ".") {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// Handle is a message's lock, held while a process edits, sends, moves or
// deletes it. Release it when done; a crash releases it too.
type Handle struct {
	ID string

	s    *Store
	f    *os.File
	mu   sync.Mutex // serialises this process's writes to the message
	gone bool       // the message left the store: its lock file goes too
	// moved is set once the draft went to the Outbox: a late autosave
	// must not bring it back as a draft.
	moved bool
}

// Moved reports whether the draft held by h was sent to the Outbox.
func (h *Handle) Moved() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.moved
}

// lock takes the lock of message id without waiting; ErrBusy if another
// process (or another Handle in this one) holds it.
func (s *Store) lock(id string) (*Handle, error) {
	if !validID(id) {
		return nil, fmt.Errorf("store: %q is not a message id", id)
	}
	path := s.path(locksDir, id)
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, ErrBusy) {
				return nil, ErrBusy
			}
			return nil, fmt.Errorf("store: locking %s: %w", id, err)
		}
		// The file may have been removed by its last holder between our
		// open and our lock: then it locks nothing, and we try again.
		if sameFile(f, path) {
			return &Handle{ID: id, s: s, f: f}, nil
		}
		f.Close()
	}
	return nil, ErrBusy
}

// Release gives the lock back. It is safe to call more than once.
func (h *Handle) Release() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f != nil {
		if h.gone {
			// The message is gone from the store: its lock file goes too,
			// while still held, so nobody locks a file being removed.
			os.Remove(h.s.path(locksDir, h.ID))
		}
		h.f.Close()
		h.f = nil
	}
}

// Recover tidies what a crash left half-done: frozen files inside a draft
// (a send that did not reach the Outbox), an Outbox folder whose message
// already moved to Sent, a message left "sending" by a process that died
// (back to waiting, or unconfirmed when the final dot may have gone out),
// half-written temporary files and deletions. Messages another process
// holds are left alone. Open calls it; the window calls it again at times.
func (s *Store) Recover() error {
	var errs []error
	ids, err := s.list(draftsDir)
	errs = append(errs, err)
	for _, id := range ids {
		errs = append(errs, s.withLock(id, func(h *Handle) error { return s.recoverDraft(id) }))
	}
	ids, err = s.list(outboxDir)
	errs = append(errs, err)
	for _, id := range ids {
		errs = append(errs, s.withLock(id, func(h *Handle) error { return s.recoverOutbox(h) }))
	}
	errs = append(errs, s.recoverSentTmp(), s.emptyTrash())
	return errors.Join(errs...)
}

// withLock runs fn with id's lock held; a message held elsewhere is skipped.
func (s *Store) withLock(id string, fn func(*Handle) error) error {
	h, err := s.lock(id)
	if errors.Is(err, ErrBusy) {
		return nil
	}
	if err != nil {
		return err
	}
	defer h.Release()
	return fn(h)
}

func (s *Store) recoverDraft(id string) error {
	dir := s.path(draftsDir, id)
	// A dot record written in a draft's folder: the move to the Outbox
	// was taken back by a power cut after the message may have been
	// delivered. It goes (back) to the Outbox, where recoverOutbox makes
	// it unconfirmed: it never comes back as a draft.
	if _, err := os.Stat(filepath.Join(dir, messageFile)); err == nil && dotWritten(dir) {
		return s.rename("recover:outbox", dir, s.path(outboxDir, id), durable)
	}
	// The frozen message's snapshot of the draft is the newest: a send
	// that stopped before the rename to outbox/, or an Undo before it
	// wrote the draft back.
	var m Entry
	if err := readJSON(filepath.Join(dir, metaFile), &m); err == nil && m.Draft != nil {
		if err := s.writeDraft("recover:draft", dir, *m.Draft); err != nil {
			return err
		}
	}
	// Frozen files of a send that stopped before the rename to outbox/.
	for _, name := range []string{messageFile, metaFile, dotFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
	}
	removeTemps(dir)
	if _, err := os.Stat(filepath.Join(dir, draftFile)); errors.Is(err, fs.ErrNotExist) {
		// A folder made for a draft whose first save never happened.
		return os.RemoveAll(dir)
	}
	return nil
}

func (s *Store) recoverOutbox(h *Handle) error {
	dir := s.path(outboxDir, h.ID)
	removeTemps(dir)
	if _, err := os.Stat(filepath.Join(dir, messageFile)); errors.Is(err, fs.ErrNotExist) {
		// Its message moved to Sent (or it was being deleted); a send
		// that stopped right after the move left the state of its copy
		// to record. Should that fail, the folder stays for the next
		// Recover: it is inert (the Outbox lists a folder only with its
		// message), and the store opens all the same.
		if err := s.recordPlannedCopy(h.ID); err != nil {
			return nil
		}
		h.gone = true
		return os.RemoveAll(dir)
	}
	m, err := s.readMeta(h.ID)
	if err != nil {
		// The meta is written without a sync: a power cut may take it.
		// The frozen message has all it needs to be sent.
		if m, err = metaFromEML(filepath.Join(dir, messageFile)); err != nil {
			return err
		}
		m.ID, m.State, m.NextTry = h.ID, StateWaiting, s.now().UTC()
	}
	dot := dotWritten(dir)
	// A power cut may take back the volatile "sending" but never the
	// synced dot record: a message with it may have been delivered.
	if m.State != StateSending && !(dot && m.State == StateWaiting) {
		return nil
	}
	// The process that was sending it is gone (it held the lock).
	if dot {
		m.State = StateUnconfirmed
		m.Last = &Failure{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted, At: s.now().UTC(),
			Detail: "Postcard stopped after the whole message was uploaded, before the server confirmed it"}
	} else {
		m.State = StateWaiting
		m.NextTry = s.now()
		m.Last = &Failure{Kind: mailer.KindConnectionLost, Stage: mailer.StageData, At: s.now().UTC(),
			Detail: "Postcard stopped before the message was fully sent; it was not delivered"}
	}
	return s.writeMeta(h.ID, m, durable)
}

// recoverSentTmp removes what a process that died left in sent/tmp: the
// record of an immediate send it never finished. One still being written
// is held by its writer.
func (s *Store) recoverSentTmp() error {
	ents, err := os.ReadDir(s.path(sentDir, "tmp"))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range ents {
		id := e.Name()
		if !validID(id) {
			continue
		}
		_ = s.withLock(id, func(h *Handle) error {
			return os.Remove(s.path(sentDir, "tmp", id))
		})
	}
	return nil
}

func (s *Store) emptyTrash() error {
	ents, err := os.ReadDir(s.path(trashDir))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(s.path(trashDir, e.Name())); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// removeTemps removes the temporary files of interrupted atomic writes.
func removeTemps(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// list returns the message ids in one of the places, oldest first.
func (s *Store) list(place string) ([]string, error) {
	ents, err := os.ReadDir(s.path(place))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// maxSmallFile bounds the JSON files the store reads (drafts and meta):
// a draft's body is limited far below this by what can be sent.
const maxSmallFile = 32 << 20

// readJSON reads a small JSON file, refusing one too large to be ours.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSmallFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxSmallFile {
		return fmt.Errorf("store: %s is larger than %d bytes", path, maxSmallFile)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: reading %s: %w", path, err)
	}
	return nil
}

// durability says what a write must have made durable (on disk, through
// a power cut) when it returns. Every write is atomic for other processes
// and survives the writing process being killed; only what a power cut may
// take back differs. The store syncs where losing a write could lose a
// message or send one twice, and nowhere else: each sync is a disk flush on
// the way from Send to "Sent".
type durability int

const (
	// durable: the file and its name are synced.
	durable durability = iota
	// contentDurable: the file's content is synced; its name becomes
	// durable with a later sync of its folder (the caller's).
	contentDurable
	// volatile: nothing is synced; a power cut may bring back the old
	// content, never a mix.
	volatile
)

// writeFileAtomic writes data to path by way of a temporary file and a
// rename, so a reader or a crash sees the old content or the new, never a
// mix; step names the write for the fault hook.
func (s *Store) writeFileAtomic(step, path string, data []byte, d durability) error {
	return s.writeAtomic(step, path, d, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic is writeFileAtomic with the content written by fill.
func (s *Store) writeAtomic(step, path string, d durability, fill func(io.Writer) error) error {
	if err := s.step(step); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	// Large content starts on its way to the disk while it is written, so
	// the sync at the end has little left to wait for.
	w := &flushingWriter{f: f}
	if err := fill(w); err != nil {
		return fmt.Errorf("store: writing %s: %w", path, err)
	}
	if d != volatile {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("store: writing %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: writing %s: %w", path, err)
	}
	if err := s.step(step + ":rename"); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	ok = true
	if d == durable {
		return syncDir(dir)
	}
	return nil
}

// flushingWriter writes to f and, every few MiB, asks the kernel to start
// writing what it has out to the disk (see startWriteback).
type flushingWriter struct {
	f        *os.File
	off, due int64
}

const writebackEvery = 4 << 20

func (w *flushingWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.due >= writebackEvery {
		startWriteback(w.f, w.due, w.off-w.due)
		w.due = w.off
	}
	return n, err
}

// rename moves a file or folder in one step; when d is durable it syncs
// the destination folder, which on a journalling file system commits the
// whole rename.
func (s *Store) rename(step, from, to string, d durability) error {
	if err := s.step(step); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if d == durable {
		return syncDir(filepath.Dir(to))
	}
	return nil
}

// syncDir makes the entries of dir durable. Windows cannot sync a folder;
// there a rename is durable once it returns.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: syncing %s: %w", dir, err)
	}
	return nil
}
