package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// SentItem is one message of Sent, as the Sent list shows it.
type SentItem struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"` // the .eml file in the Maildir
	Date      time.Time `json:"date"`
	Subject   string    `json:"subject"`
	From      string    `json:"from"`
	To        []string  `json:"to,omitempty"`
	Cc        []string  `json:"cc,omitempty"`
	Bcc       []string  `json:"bcc,omitempty"`
	MessageID string    `json:"message_id"`
	Size      int64     `json:"size"` // of the file, Bcc header included
	// Copy is the state of its copy in the server's Sent folder; nil when
	// none was recorded.
	Copy *Copy `json:"sent_copy,omitempty"`
}

// Recipients is To, Cc and Bcc together.
func (it SentItem) Recipients() []string {
	return append(append(append([]string(nil), it.To...), it.Cc...), it.Bcc...)
}

// sentID is the id in a Sent file's name ("ID:2,S").
func sentID(name string) string {
	if i := strings.IndexAny(name, ":!;"); i >= 0 {
		return name[:i]
	}
	return name
}

// Sent lists the messages in Sent, the newest first. Each file's headers are
// read once and remembered (a Sent file never changes).
func (s *Store) Sent() ([]SentItem, error) {
	var out []SentItem
	for _, sub := range []string{"cur", "new"} {
		dir := s.path(sentDir, sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		for _, de := range ents {
			if !de.Type().IsRegular() || strings.HasPrefix(de.Name(), ".") {
				continue
			}
			path := filepath.Join(dir, de.Name())
			s.mu.Lock()
			it, ok := s.sentInfo[path]
			s.mu.Unlock()
			if !ok {
				it, err = readSentItem(path)
				if err != nil {
					continue
				}
				s.mu.Lock()
				s.sentInfo[path] = it
				s.mu.Unlock()
			}
			if c, ok := s.CopyOf(it.ID); ok {
				it.Copy = &c
			}
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out, nil
}

// SentByID returns the Sent message id, with its copy's state.
func (s *Store) SentByID(id string) (SentItem, error) {
	it, err := s.sentItem(id)
	if c, ok := s.CopyOf(id); ok && err == nil {
		it.Copy = &c
	}
	return it, err
}

// sentItem returns the Sent message id without its copy's state.
func (s *Store) sentItem(id string) (SentItem, error) {
	if !validID(id) {
		return SentItem{}, ErrNotFound
	}
	for _, sub := range []string{"cur", "new"} {
		matches, _ := filepath.Glob(filepath.Join(s.path(sentDir, sub), id+"*"))
		for _, m := range matches {
			if sentID(filepath.Base(m)) == id {
				return readSentItem(m)
			}
		}
	}
	return SentItem{}, ErrNotFound
}

// maxHeader bounds how much of a Sent file is read for its headers.
const maxHeader = 256 << 10

func readSentItem(path string) (SentItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return SentItem{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return SentItem{}, err
	}
	msg, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(f, maxHeader)))
	if err != nil {
		return SentItem{}, fmt.Errorf("store: %s: %w", path, err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	decode := func(v string) string {
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	list := func(name string) []string {
		addrs, err := h.AddressList(name)
		if err != nil {
			if v := strings.TrimSpace(h.Get(name)); v != "" {
				return []string{decode(v)}
			}
			return nil
		}
		out := make([]string, len(addrs))
		for i, a := range addrs {
			if a.Name != "" {
				out[i] = a.Name + " <" + a.Address + ">"
			} else {
				out[i] = a.Address
			}
		}
		return out
	}
	it := SentItem{
		ID:        sentID(filepath.Base(path)),
		Path:      path,
		Subject:   decode(h.Get("Subject")),
		From:      strings.Join(list("From"), ", "),
		To:        list("To"),
		Cc:        list("Cc"),
		Bcc:       list("Bcc"),
		MessageID: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"),
		Size:      fi.Size(),
	}
	if d, err := h.Date(); err == nil {
		it.Date = d
	} else {
		it.Date = fi.ModTime()
	}
	return it, nil
}

// Recorded is a message SendAndRecord sent.
type Recorded struct {
	*mailer.Result
	// ID is its id in Sent; "" when it could not be filed there.
	ID string
	// RecordErr says why it could not be filed in Sent: it was sent all
	// the same.
	RecordErr error
	// Checked is what looking for the message in the server's Sent
	// folder found, when the send's outcome was unknown; Found means it
	// was delivered after all.
	Checked *Check
}

// RecordOptions says what SendAndRecord keeps and checks.
type RecordOptions struct {
	// Bcc is the Bcc field as typed, recorded in the copy kept (never in
	// the message sent).
	Bcc string
	// Find, if set, looks for the message in the server's Sent folder,
	// FindAfter after a send whose outcome is unknown (the connection was
	// lost after the final dot): found, it was delivered.
	Find      FindFunc
	FindAfter time.Duration
}

// SendAndRecord sends a message at once, outside the Outbox (the command
// line's "postcard send"), and files what was sent in Sent when the server
// accepted it: the bytes are copied to Sent's tmp/ as they go out, and moved
// into cur/ after the server's yes (or after the message was found in the
// server's Sent folder, see RecordOptions.Find). A failure to file the
// record does not undo the send: it comes back in Recorded.RecordErr. The
// error is the send's.
func (s *Store) SendAndRecord(ctx context.Context, out *mailer.Outgoing, opts RecordOptions, send SendFunc) (Recorded, error) {
	id := NewID()
	h, err := s.lock(id)
	if err != nil {
		res, serr := send(ctx, out)
		return Recorded{Result: res, RecordErr: err}, serr
	}
	defer h.Release()
	h.gone = true
	tmp := s.path(sentDir, "tmp", id)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		res, serr := send(ctx, out)
		return Recorded{Result: res, RecordErr: fmt.Errorf("store: %w", err)}, serr
	}
	defer func() {
		f.Close()
		os.Remove(tmp) // after the rename below, nothing to remove
	}()
	// The record is written out to the disk as the message goes out, so
	// that the sync after the server's yes has little left to do.
	rec := &recorder{w: &flushingWriter{f: f}}
	io.WriteString(rec, bccHeader(opts.Bcc))
	tee := *out
	tee.Content = &teeWriterTo{src: out.Content, rec: rec}
	res, err := send(ctx, &tee)
	recErr := rec.err
	var r Recorded
	if err != nil {
		if !mailer.MaybeDelivered(err) || opts.Find == nil {
			return Recorded{}, err
		}
		if !sleep(ctx, opts.FindAfter) {
			return Recorded{}, err
		}
		found, ferr := opts.Find(ctx, out.MessageID)
		r.Checked = &Check{At: s.now().UTC(), Found: found}
		if ferr != nil {
			r.Checked.Err = failureOf(ferr, r.Checked.At)
		}
		if !found {
			return r, err
		}
		res = &mailer.Result{MessageID: out.MessageID, Recipients: out.Recipients, Size: out.Size}
	}
	r.Result = res
	if recErr == nil {
		recErr = f.Sync()
	}
	if recErr == nil {
		recErr = f.Close()
	}
	if recErr != nil {
		r.RecordErr = fmt.Errorf("store: recording the sent message: %w", recErr)
		return r, nil
	}
	// The record's content is synced; its name in Sent need not be on
	// the way to the exit: a power cut right after may lose the record,
	// never change what was sent.
	if err := s.rename("record:move", tmp, s.path(sentDir, "cur", id+maildirInfo), volatile); err != nil {
		r.RecordErr = err
		return r, nil
	}
	r.ID = id
	if r.Checked != nil {
		_ = s.SetCopy(id, Copy{Status: CopyAlreadyThere, At: r.Checked.At})
	}
	return r, nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recorder keeps a copy of what is written, remembering its first error
// rather than failing the send with it.
type recorder struct {
	w   *flushingWriter // writes to the record's file
	err error
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.err == nil {
		_, r.err = r.w.Write(p)
	}
	return len(p), nil
}

type teeWriterTo struct {
	src io.WriterTo
	rec *recorder
}

func (t *teeWriterTo) WriteTo(w io.Writer) (int64, error) {
	return t.src.WriteTo(io.MultiWriter(w, t.rec))
}

// DeleteSent removes the Sent message id.
func (s *Store) DeleteSent(id string) error {
	it, err := s.SentByID(id)
	if err != nil {
		return err
	}
	if err := os.Remove(it.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	os.Remove(s.copyPath(id))
	s.mu.Lock()
	delete(s.sentInfo, it.Path)
	s.mu.Unlock()
	return nil
}
