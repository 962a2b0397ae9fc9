package store

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"strings"

	"github.com/postcard-mail/postcard/mailer"
)

// metaFromEML rebuilds an Outbox message's meta from its frozen message,
// which starts with the Bcc header the Sent record keeps (if any) and
// holds everything the envelope needs: From, To, Cc and Bcc. The draft for
// Undo is not in it.
func metaFromEML(path string) (Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	head := make([]byte, min(fi.Size(), maxHeader))
	if _, err := io.ReadFull(f, head); err != nil {
		return Entry{}, fmt.Errorf("store: %w", err)
	}
	// The Bcc header and its folded lines come first, and are not sent.
	var offset int64
	if bytes.HasPrefix(head, []byte("Bcc:")) {
		rest := head
		for first := true; ; first = false {
			i := bytes.Index(rest, []byte("\r\n"))
			if i < 0 || (!first && len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t') {
				break
			}
			offset += int64(i + 2)
			rest = rest[i+2:]
		}
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return Entry{}, fmt.Errorf("store: the frozen message %s: %w", path, err)
	}
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return Entry{}, fmt.Errorf("store: the frozen message %s has no From", path)
	}
	e := Entry{From: from[0].Address, WireOffset: offset, Size: fi.Size() - offset,
		MessageID: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")}
	e.Subject, _ = new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if d, err := h.Date(); err == nil {
		e.Date, e.Queued = d, d
	}
	seen := map[string]bool{}
	for _, name := range []string{"To", "Cc", "Bcc"} {
		list, _ := h.AddressList(name)
		for _, a := range list {
			if !seen[strings.ToLower(a.Address)] {
				seen[strings.ToLower(a.Address)] = true
				e.Envelope = append(e.Envelope, mailer.EnvelopeAddress(a.Address))
			}
			if a.Name != "" {
				e.Recipients = append(e.Recipients, a.Name+" <"+a.Address+">")
			} else {
				e.Recipients = append(e.Recipients, a.Address)
			}
		}
	}
	if len(e.Envelope) == 0 || e.MessageID == "" {
		return Entry{}, fmt.Errorf("store: the frozen message %s has no recipient or Message-ID", path)
	}
	return e, nil
}
