package store

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
)

// maxParts bounds the parts of a Sent message read back by UseAsNew.
const maxParts = 200

// UseAsNew makes a new draft from the Sent message id: the same recipients,
// subject, body and attachments (copied into the draft's own folder, so the
// draft does not depend on the original files still being there). The new
// draft gets a new Message-ID when it is sent, like any other. Its lock is
// held for the caller.
func (s *Store) UseAsNew(id string) (*Handle, Draft, error) {
	it, err := s.SentByID(id)
	if err != nil {
		return nil, Draft{}, err
	}
	h, err := s.NewDraft()
	if err != nil {
		return nil, Draft{}, err
	}
	d, err := s.draftFromEML(h, it)
	if err == nil {
		err = s.SaveDraft(h, d)
	}
	if err != nil {
		s.removeDir(s.path(draftsDir, h.ID))
		h.Release()
		return nil, Draft{}, err
	}
	d.ID = h.ID
	return h, d, nil
}

func (s *Store) draftFromEML(h *Handle, it SentItem) (Draft, error) {
	f, err := os.Open(it.Path)
	if err != nil {
		return Draft{}, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		return Draft{}, fmt.Errorf("store: reading %s: %w", it.Path, err)
	}
	d := Draft{
		To:      strings.Join(it.To, ", "),
		Cc:      strings.Join(it.Cc, ", "),
		Bcc:     strings.Join(it.Bcc, ", "),
		Subject: it.Subject,
	}
	files := s.path(draftsDir, h.ID, filesDir)
	n := 0
	var walk func(header textHeader, body io.Reader) error
	walk = func(header textHeader, body io.Reader) error {
		if n++; n > maxParts {
			return fmt.Errorf("store: %s has more than %d parts", it.Path, maxParts)
		}
		mt, params, err := mime.ParseMediaType(header.Get("Content-Type"))
		if err != nil {
			mt, params = "text/plain", map[string]string{}
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("store: reading %s: %w", it.Path, err)
				}
				if err := walk(p.Header, p); err != nil {
					return err
				}
			}
		}
		content := decodeTransfer(header.Get("Content-Transfer-Encoding"), body)
		disp, dparams, _ := mime.ParseMediaType(header.Get("Content-Disposition"))
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if mt == "text/plain" && disp != "attachment" && d.Body == "" && name == "" {
			b, err := io.ReadAll(io.LimitReader(content, maxSmallFile))
			if err != nil {
				return fmt.Errorf("store: reading %s: %w", it.Path, err)
			}
			d.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
			return nil
		}
		if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
			name = dec
		}
		name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
		if name == "" || name == "." || name == "/" || strings.HasPrefix(name, ".") {
			name = fmt.Sprintf("attachment-%d", n)
		}
		if err := os.MkdirAll(files, 0o700); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		path := uniquePath(filepath.Join(files, name))
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		_, err = io.Copy(out, content)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("store: copying %s: %w", name, err)
		}
		d.Attachments = append(d.Attachments, path)
		return nil
	}
	if err := walk(msg.Header, msg.Body); err != nil {
		return Draft{}, err
	}
	return d, nil
}

type textHeader interface{ Get(string) string }

func decodeTransfer(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &skipSpace{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// skipSpace drops the line breaks base64 bodies are cut into.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// uniquePath adds " (2)", " (3)"... before the extension while path exists.
func uniquePath(path string) string {
	if _, err := os.Lstat(path); err != nil {
		return path
	}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	for i := 2; ; i++ {
		p := fmt.Sprintf("%s (%d)%s", base, i, ext)
		if _, err := os.Lstat(p); err != nil {
			return p
		}
	}
}
