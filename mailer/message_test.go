package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func testAccount() Account {
	a := DefaultAccount()
	a.Username = "ann@icloud.com"
	a.DisplayName = "Ann Example"
	return a
}

// writeFile creates a file of n bytes in dir. The bytes are zeros: base64
// makes any n bytes the same length, so the content does not matter.
func writeFile(t *testing.T, dir, name string, n int64) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(n); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantError checks that err is an *Error of kind whose text contains every
// string in want.
func wantError(t *testing.T, err error, kind Kind, want ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want an *Error", err, err)
	}
	if e.Kind != kind {
		t.Errorf("Kind = %s, want %s (error: %v)", e.Kind, kind, err)
	}
	if e.Stage != StageValidate {
		t.Errorf("Stage = %s, want %s", e.Stage, StageValidate)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
	return e
}

// addresses returns n distinct addresses.
func addresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%03d@example.com", i)
	}
	return out
}

func TestPrepare_Invalid(t *testing.T) {
	tests := []struct {
		name    string
		account func(*Account)
		// msg gets a fresh folder for the files it needs.
		msg  func(t *testing.T, dir string) Message
		want []string
	}{
		{"no recipient", nil,
			func(*testing.T, string) Message { return Message{Subject: "hi"} },
			[]string{"no recipients"}},
		{"only separators", nil,
			func(*testing.T, string) Message { return Message{To: []string{" ; , "}, Subject: "hi"} },
			[]string{"no recipients"}},
		{"invalid To", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"ann@x.com; bob@"}, Subject: "hi"}
			},
			[]string{"To", `"bob@"`}},
		{"invalid Cc", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"ann@x.com"}, Cc: []string{"carol"}, Subject: "hi"}
			},
			[]string{"Cc", `"carol"`}},
		{"invalid Bcc", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"ann@x.com"}, Bcc: []string{"dave@localhost"}, Subject: "hi"}
			},
			[]string{"Bcc", `"dave@localhost"`}},
		{"invalid Reply-To", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"ann@x.com"}, ReplyTo: "replies at x.com", Subject: "hi"}
			},
			[]string{"Reply-To", `"replies at x.com"`}},
		{"invalid From", nil,
			func(*testing.T, string) Message {
				return Message{From: "Ann <ann@icloud.com>", To: []string{"bob@y.org"}, Subject: "hi"}
			},
			[]string{"from address", `"Ann <ann@icloud.com>"`}},
		{"CRLF in subject", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"bob@y.org"}, Subject: "hi\r\nBcc: evil@x.com"}
			},
			[]string{"subject", "line break"}},
		{"LF in subject", nil,
			func(*testing.T, string) Message { return Message{To: []string{"bob@y.org"}, Subject: "hi\nX: y"} },
			[]string{"subject", "line break"}},
		{"CR in subject", nil,
			func(*testing.T, string) Message { return Message{To: []string{"bob@y.org"}, Subject: "hi\rX: y"} },
			[]string{"subject", "line break"}},
		{"CRLF in To", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"bob@y.org\r\nBcc: evil@x.com"}, Subject: "hi"}
			},
			[]string{"To", "line break"}},
		{"LF in Cc display name", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"bob@y.org"}, Cc: []string{"\"Carol\nX: y\" <carol@y.org>"}, Subject: "hi"}
			},
			[]string{"Cc", "line break"}},
		{"CRLF in Reply-To", nil,
			func(*testing.T, string) Message {
				return Message{To: []string{"bob@y.org"}, ReplyTo: "r@x.com\r\nBcc: evil@x.com", Subject: "hi"}
			},
			[]string{"Reply-To", "line break"}},
		{"CRLF in From", nil,
			func(*testing.T, string) Message {
				return Message{From: "ann@icloud.com\r\nBcc: evil@x.com", To: []string{"bob@y.org"}, Subject: "hi"}
			},
			[]string{"from address"}},
		{"LF in display name", func(a *Account) { a.DisplayName = "Ann\nBcc: evil@x.com" },
			func(*testing.T, string) Message { return Message{To: []string{"bob@y.org"}, Subject: "hi"} },
			[]string{"display name", "line break"}},
		{"missing attachment", nil,
			func(t *testing.T, dir string) Message {
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{filepath.Join(dir, "report.pdf")}}
			},
			[]string{"report.pdf", "does not exist"}},
		{"second attachment missing", nil,
			func(t *testing.T, dir string) Message {
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{
					writeFile(t, dir, "ok.txt", 10), filepath.Join(dir, "gone.txt")}}
			},
			[]string{"gone.txt", "does not exist"}},
		{"empty attachment path", nil,
			func(t *testing.T, dir string) Message {
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{" "}}
			},
			[]string{"attachment path is empty"}},
		{"attachment is a folder", nil,
			func(t *testing.T, dir string) Message {
				sub := filepath.Join(dir, "photos")
				if err := os.Mkdir(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{sub}}
			},
			[]string{"photos", "folder"}},
		{"attachment without read permission", nil,
			func(t *testing.T, dir string) Message {
				if runtime.GOOS == "windows" {
					t.Skip("file modes do not stop reading on Windows")
				}
				if os.Geteuid() == 0 {
					t.Skip("root reads a file whatever its mode, so chmod 000 cannot make it unreadable; the /proc/self/mem row covers an unreadable file as root")
				}
				path := writeFile(t, dir, "secret.txt", 10)
				if err := os.Chmod(path, 0); err != nil {
					t.Fatal(err)
				}
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{path}}
			},
			[]string{"secret.txt", "permission denied"}},
		// A regular file that opens but whose first read fails (EIO: address
		// 0 is never mapped), even for root.
		{"attachment that fails to read", nil,
			func(t *testing.T, dir string) Message {
				if runtime.GOOS != "linux" {
					t.Skip("/proc/self/mem is Linux's")
				}
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{"/proc/self/mem"}}
			},
			[]string{"/proc/self/mem", "cannot be read"}},
		{"attachment is a device", nil,
			func(t *testing.T, dir string) Message {
				if runtime.GOOS == "windows" {
					t.Skip("no /dev/null on Windows")
				}
				return Message{To: []string{"bob@y.org"}, Subject: "hi", Attachments: []string{"/dev/null"}}
			},
			[]string{"/dev/null", "not a regular file"}},
		{"501 recipients", nil,
			func(*testing.T, string) Message {
				return Message{To: addresses(501), Subject: "hi"}
			},
			[]string{"501 recipients", "500"}},
		{"501 recipients with duplicates", nil,
			func(*testing.T, string) Message {
				all := addresses(501)
				return Message{To: all[:300], Cc: all[200:], Bcc: all[:10], Subject: "hi"}
			},
			[]string{"501 recipients"}},
		{"501 recipients in one list", nil,
			func(*testing.T, string) Message {
				return Message{Bcc: []string{strings.Join(addresses(501), "; ")}, Subject: "hi"}
			},
			[]string{"501 recipients"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testAccount()
			if tt.account != nil {
				tt.account(&a)
			}
			m := tt.msg(t, t.TempDir())
			p, err := Prepare(a, m)
			if err == nil {
				t.Fatalf("Prepare succeeded with %d recipients, want an error naming %q", len(p.Recipients), tt.want)
			}
			wantError(t, err, KindInvalidMessage, tt.want...)
		})
	}
}

func TestPrepare_Recipients(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want []string
	}{
		{"exactly 500", Message{To: addresses(500)}, addresses(500)},
		{"500 with every one repeated", Message{To: addresses(500), Bcc: addresses(500)}, addresses(500)},
		{"duplicates across To, Cc and Bcc are sent once",
			Message{
				To:  []string{"Ann <ann@x.com>"},
				Cc:  []string{"ANN@x.com, bob@y.org"},
				Bcc: []string{"bob@y.org; carol@z.io", "ann@x.com"},
			},
			[]string{"ann@x.com", "bob@y.org", "carol@z.io"}},
		{"Bcc only", Message{Bcc: []string{"hidden@x.com"}}, []string{"hidden@x.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.Subject = "hi"
			p, err := Prepare(testAccount(), tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Recipients, tt.want) {
				t.Errorf("Recipients = %v, want %v", p.Recipients, tt.want)
			}
			if p.EnvelopeFrom != "ann@icloud.com" {
				t.Errorf("EnvelopeFrom = %q, want ann@icloud.com", p.EnvelopeFrom)
			}
		})
	}
}

func TestPrepare_EmptySubject(t *testing.T) {
	for _, subject := range []string{"", "   "} {
		p, err := Prepare(testAccount(), Message{To: []string{"bob@y.org"}, Subject: subject, Body: "hi"})
		if err != nil {
			t.Fatalf("subject %q: %v", subject, err)
		}
		if !slices.Contains(p.Warnings, WarnEmptySubject) {
			t.Errorf("subject %q: Warnings = %q, want %q", subject, p.Warnings, WarnEmptySubject)
		}
	}
	p, err := Prepare(testAccount(), Message{To: []string{"bob@y.org"}, Subject: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", p.Warnings)
	}
}

// encode writes p and returns its header block and body, split at the first
// empty line.
func encode(t *testing.T, p *Prepared) (header, body string) {
	t.Helper()
	var buf bytes.Buffer
	n, err := p.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
	}
	header, body, ok := strings.Cut(buf.String(), "\r\n\r\n")
	if !ok {
		t.Fatalf("no empty line after the headers:\n%s", buf.String())
	}
	return header + "\r\n", body
}

// headerNames returns the lower-cased field names of a header block, in
// order; a line that is neither a field nor a folded continuation counts as
// "<garbage>".
func headerNames(header string) []string {
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(header, "\r\n"), "\r\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			name = "<garbage>"
		}
		names = append(names, strings.ToLower(name))
	}
	return names
}

func TestPrepare_Headers(t *testing.T) {
	const subject = "Grüße aus Köln 👋 und ein ziemlich langer Betreff, der umbrochen werden muss"
	a := testAccount()
	a.DisplayName = "Zoë Ångström"
	p, err := Prepare(a, Message{
		To:      []string{"Bob <bob@y.org>"},
		Cc:      []string{`"Doe, Jane" <jane@z.io>`},
		Bcc:     []string{"secret1@hidden.example; Hidden Person <secret2@hidden.example>"},
		ReplyTo: "replies@x.com",
		Subject: subject,
		Body:    "Hallo!\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	header, body := encode(t, p)

	for i := 0; i < len(header); i++ {
		if header[i] >= 0x80 {
			t.Fatalf("header block has a non-ASCII byte at %d:\n%s", i, header)
		}
	}
	if strings.Contains(strings.ReplaceAll(header, "\r\n", ""), "\r") || strings.Contains(strings.ReplaceAll(header, "\r\n", ""), "\n") {
		t.Errorf("header block has a bare CR or LF:\n%q", header)
	}
	for _, secret := range []string{"secret1@hidden.example", "secret2@hidden.example", "Hidden Person", "hidden.example"} {
		if strings.Contains(header, secret) || strings.Contains(body, secret) {
			t.Errorf("Bcc %q appears in the message:\n%s", secret, header)
		}
	}
	if !slices.Contains(p.Recipients, "secret2@hidden.example") {
		t.Errorf("Recipients = %v, want the Bcc addresses in the envelope", p.Recipients)
	}
	names := headerNames(header)
	for _, n := range names {
		switch n {
		case "bcc", "x-mailer", "user-agent", "<garbage>":
			t.Errorf("header has a %s field:\n%s", n, header)
		}
	}
	for _, want := range []string{"date", "from", "to", "cc", "reply-to", "subject", "message-id", "mime-version", "content-type"} {
		if !slices.Contains(names, want) {
			t.Errorf("header has no %s field:\n%s", want, header)
		}
	}

	msg, err := mail.ReadMessage(strings.NewReader(header + "\r\n" + body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msg.Header.Get("Message-Id"), "<"+p.MessageID+">"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if !strings.HasSuffix(msg.Header.Get("Message-Id"), "@icloud.com>") {
		t.Errorf("Message-ID %q is not in the sender's domain", msg.Header.Get("Message-Id"))
	}
	rawSubject := msg.Header.Get("Subject")
	if !strings.HasPrefix(strings.ToLower(rawSubject), "=?utf-8?") {
		t.Errorf("Subject %q is not RFC 2047 encoded", rawSubject)
	}
	var dec mime.WordDecoder
	if got, err := dec.DecodeHeader(rawSubject); err != nil || got != subject {
		t.Errorf("Subject decodes to %q (%v), want %q", got, err, subject)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Zoë Ångström" || from[0].Address != "ann@icloud.com" {
		t.Errorf("From = %v (%v), want Zoë Ångström <ann@icloud.com>", from, err)
	}
	cc, err := msg.Header.AddressList("Cc")
	if err != nil || len(cc) != 1 || cc[0].Name != "Doe, Jane" || cc[0].Address != "jane@z.io" {
		t.Errorf("Cc = %v (%v), want \"Doe, Jane\" <jane@z.io>", cc, err)
	}
	if got := msg.Header.Get("Reply-To"); !strings.Contains(got, "replies@x.com") {
		t.Errorf("Reply-To = %q, want replies@x.com", got)
	}
}

// A subject with a word too long to fold at its spaces (a long URL, or
// 100,000 characters without a space) is encoded and folded onto short
// lines, and decodes back to itself; what cannot be folded (an address
// longer than a line) is refused, naming the header.
func TestPrepare_LongHeaders(t *testing.T) {
	for _, subject := range []string{
		strings.Repeat("x", 100_000),
		"see https://example.org/" + strings.Repeat("a1b2", 30) + " today",
		strings.Repeat("Grüße", 5_000),
		strings.Repeat("👋", 1_000) + " and " + strings.Repeat("z", 200),
		// Bytes that start no character (invalid UTF-8, as from a
		// terminal in another encoding): folding once looped forever.
		strings.Repeat("\x8c", 1_863) + "Hello",
		"a" + strings.Repeat("\xe2\x82", 100),
	} {
		p, err := Prepare(testAccount(), Message{To: []string{"bob@y.org"}, Subject: subject, Body: "hi\n"})
		if err != nil {
			t.Fatalf("subject of %d bytes: %v", len(subject), err)
		}
		header, body := encode(t, p)
		for _, line := range strings.Split(header, "\r\n") {
			if len(line) > 78 {
				t.Fatalf("subject of %d bytes: a header line of %d characters: %.100q", len(subject), len(line), line)
			}
		}
		msg, err := mail.ReadMessage(strings.NewReader(header + "\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		var dec mime.WordDecoder
		if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
			t.Errorf("subject of %d bytes decodes to %d bytes (%v)", len(subject), len(got), err)
		}
	}

	long := strings.Repeat("a", 1_000) + "@example.org"
	for _, m := range []Message{
		{To: []string{long}, Subject: "hi"},
		{To: []string{"bob@y.org"}, Cc: []string{strings.Repeat("N", 1_200) + " <c@y.org>"}, Subject: "hi"},
	} {
		_, err := Prepare(testAccount(), m)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidMessage || !strings.Contains(e.Detail, "998") {
			t.Errorf("Prepare(%.40q…) = %v, want invalid-message naming the 998 limit", m.To[0], err)
		}
	}
}

func TestPrepare_MessageIDInFromDomain(t *testing.T) {
	tests := []struct {
		name    string
		account func(*Account)
		from    string
		want    string
	}{
		{"username", nil, "", "@icloud.com"},
		{"account From alias", func(a *Account) { a.From = "ann.alias@icloud.com" }, "", "@icloud.com"},
		{"account custom domain", func(a *Account) { a.From = "ann@custom.example" }, "", "@custom.example"},
		{"message From overrides", nil, "hello@shop.example", "@shop.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testAccount()
			if tt.account != nil {
				tt.account(&a)
			}
			p, err := Prepare(a, Message{From: tt.from, To: []string{"bob@y.org"}, Subject: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(p.MessageID, tt.want) {
				t.Errorf("MessageID = %q, want it to end in %q", p.MessageID, tt.want)
			}
			header, body := encode(t, p)
			msg, err := mail.ReadMessage(strings.NewReader(header + "\r\n" + body))
			if err != nil {
				t.Fatal(err)
			}
			if got := msg.Header.Get("Message-Id"); got != "<"+p.MessageID+">" {
				t.Errorf("Message-ID header = %q, want <%s>", got, p.MessageID)
			}
			if (tt.from != "" && p.EnvelopeFrom != tt.from) || !strings.HasSuffix(p.EnvelopeFrom, tt.want) {
				t.Errorf("EnvelopeFrom = %q, want an address ending in %q", p.EnvelopeFrom, tt.want)
			}
		})
	}
	p1, _ := Prepare(testAccount(), Message{To: []string{"bob@y.org"}})
	p2, _ := Prepare(testAccount(), Message{To: []string{"bob@y.org"}})
	if p1.MessageID == p2.MessageID {
		t.Errorf("two messages share the Message-ID %q", p1.MessageID)
	}
}

func TestPrepare_SizeMatchesWriteTo(t *testing.T) {
	dir := t.TempDir()
	p, err := Prepare(testAccount(), Message{
		To:          []string{"bob@y.org"},
		Subject:     "Grüße",
		Body:        strings.Repeat("Zeile mit Umlauten: äöü\n", 200),
		Attachments: []string{writeFile(t, dir, "a.bin", 123_457), writeFile(t, dir, "b.txt", 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if p.Size != int64(buf.Len()) {
		t.Errorf("Size = %d, WriteTo wrote %d bytes", p.Size, buf.Len())
	}
}

// TestPrepare_SizeLimit puts the encoded size a few bytes either side of
// iCloud's 20,000,000, with raw attachments well under it.
func TestPrepare_SizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes several 20 MB messages")
	}
	dir := t.TempDir()
	msg := func(path string) Message {
		return Message{To: []string{"bob@y.org"}, Subject: "big", Body: "see attachment", Attachments: []string{path}}
	}
	// Everything but the attachment's base64 is the same for any file of
	// the same name whose size leaves the same remainder on the last
	// 57-byte (76-character) line, so a small file measures it exactly.
	// The file name is in the headers, so the small file has the same one.
	const rem = 14_600_000 % 57
	if err := os.Mkdir(filepath.Join(dir, "small"), 0o755); err != nil {
		t.Fatal(err)
	}
	small := writeFile(t, filepath.Join(dir, "small"), "attachment.bin", 57*10+rem)
	p, err := Prepare(testAccount(), msg(small))
	if err != nil {
		t.Fatal(err)
	}
	overhead := p.Size - EstimateEncodedSize(57*10+rem)
	size := func(n int64) int64 { return EstimateEncodedSize(n) + overhead }
	// under is the largest file of that remainder that fits.
	under := (MaxMessageBytes-overhead)*57/78 - 57*2
	under -= (under - rem) % 57
	for size(under+57) <= MaxMessageBytes {
		under += 57
	}

	t.Run("just under", func(t *testing.T) {
		path := writeFile(t, dir, "attachment.bin", under)
		p, err := Prepare(testAccount(), msg(path))
		if err != nil {
			t.Fatalf("a %d-byte file: %v", under, err)
		}
		if p.Size != size(under) || p.Size > MaxMessageBytes || p.Size <= MaxMessageBytes-78 {
			t.Errorf("Size = %d, want %d, just under %d", p.Size, size(under), MaxMessageBytes)
		}
		var cw countingWriter
		if _, err := p.WriteTo(&cw); err != nil {
			t.Fatal(err)
		}
		if cw.n != p.Size {
			t.Errorf("Size = %d, WriteTo wrote %d bytes", p.Size, cw.n)
		}
	})
	t.Run("just over", func(t *testing.T) {
		// One more line of base64: 78 bytes more.
		path := writeFile(t, dir, "attachment.bin", under+57)
		_, err := Prepare(testAccount(), msg(path))
		e := wantError(t, err, KindTooLarge, "encoded", "20 MB")
		want := size(under + 57)
		if want <= MaxMessageBytes || want > MaxMessageBytes+78 {
			t.Fatalf("test arithmetic: %d bytes is not just over", want)
		}
		if !strings.Contains(e.Detail, fmt.Sprintf("(%d bytes)", want)) {
			t.Errorf("Detail %q does not give the size, %d bytes", e.Detail, want)
		}
	})
	t.Run("15.5 MB file", func(t *testing.T) {
		const raw = 15_500_000
		path := writeFile(t, dir, "video.mov", raw)
		_, err := Prepare(testAccount(), msg(path))
		e := wantError(t, err, KindTooLarge, "MB encoded")
		if !regexp.MustCompile(`\b2[01]\.\d MB encoded`).MatchString(e.Detail) {
			t.Errorf("Detail %q does not say the encoded size (about 21.2 MB)", e.Detail)
		}
	})
	t.Run("raw over the limit", func(t *testing.T) {
		path := writeFile(t, dir, "huge.iso", MaxMessageBytes+1)
		_, err := Prepare(testAccount(), msg(path))
		wantError(t, err, KindTooLarge, "before encoding")
	})
}

func TestParseAddressList(t *testing.T) {
	type addr struct{ name, address string }
	tests := []struct {
		name string
		in   string
		want []addr
	}{
		{"empty", "", nil},
		{"blank", "  \t ", nil},
		{"only separators", " ;, ;", nil},
		{"bare", "bob@y.org", []addr{{"", "bob@y.org"}}},
		{"semicolon with display name", "Ann <ann@x.com>; bob@y.org", []addr{{"Ann", "ann@x.com"}, {"", "bob@y.org"}}},
		{"quoted comma", `"Doe, Jane" <j@x.org>, k@z.io`, []addr{{"Doe, Jane", "j@x.org"}, {"", "k@z.io"}}},
		{"quoted semicolon", `"Team; Sales" <s@x.org>`, []addr{{"Team; Sales", "s@x.org"}}},
		{"escaped quote", `"Ann \"The Boss\", CEO" <ceo@x.org>; b@y.org`, []addr{{`Ann "The Boss", CEO`, "ceo@x.org"}, {"", "b@y.org"}}},
		{"trailing separators", "ann@x.com;, ", []addr{{"", "ann@x.com"}}},
		{"leading and doubled separators", ";;ann@x.com,,bob@y.org;", []addr{{"", "ann@x.com"}, {"", "bob@y.org"}}},
		{"spaces everywhere", "  Ann   <ann@x.com>  ,  bob@y.org  ", []addr{{"Ann", "ann@x.com"}, {"", "bob@y.org"}}},
		{"unicode display names", "Zoë Ångström <zoe@x.se>; 山田太郎 <taro@example.jp>", []addr{{"Zoë Ångström", "zoe@x.se"}, {"山田太郎", "taro@example.jp"}}},
		{"quoted unicode display name", `"Müller, Jürgen" <j@x.de>`, []addr{{"Müller, Jürgen", "j@x.de"}}},
		{"encoded word display name", "=?utf-8?q?Zo=C3=AB?= <zoe@x.se>", []addr{{"Zoë", "zoe@x.se"}}},
		{"angle brackets only", "<ann@x.com>", []addr{{"", "ann@x.com"}}},
		{"subdomain", "ops@mail.eu.example.com", []addr{{"", "ops@mail.eu.example.com"}}},
		{"comment with comma", "ann@x.com (Ann, Sales); bob@y.org", []addr{{"Ann, Sales", "ann@x.com"}, {"", "bob@y.org"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAddressList(tt.in)
			if err != nil {
				t.Fatalf("ParseAddressList(%q): %v", tt.in, err)
			}
			var gotAddrs []addr
			for _, a := range got {
				gotAddrs = append(gotAddrs, addr{a.Name, a.Address})
			}
			if !slices.Equal(gotAddrs, tt.want) {
				t.Errorf("ParseAddressList(%q) = %q, want %q", tt.in, gotAddrs, tt.want)
			}
		})
	}
}

func TestParseAddressList_Invalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the item the error must name
	}{
		{"no domain", "bob@", `"bob@"`},
		{"domain without dot", "ann@localhost", `"ann@localhost"`},
		{"bad item among good ones", "ann@x.com; bob@; carol@z.io", `"bob@"`},
		{"no at sign", "Carol", `"Carol"`},
		{"trailing dot", "ann@x.com.", `"ann@x.com."`},
		{"two addresses without separator", "ann@x.com bob@y.org", `"ann@x.com bob@y.org"`},
		{"unclosed angle bracket", "Ann <ann@x.com", `"Ann <ann@x.com"`},
		{"unclosed quote", `"Ann <ann@x.com>, bob@y.org`, `"Ann`},
		{"display name with bad address", "Bob <bob at y.org>", `"Bob <bob at y.org>"`},
		{"line break", "ann@x.com\r\nBcc: evil@x.com", "line break"},
		{"bare LF", "ann@x.com\nbob@y.org", "line break"},
		// net/mail would write these names as encoded-words no parser
		// reads back (found by FuzzParseAddressList).
		{"backslash in a non-ASCII name", `"Zoë \\ Team" <zoe@x.se>`, "remove the backslash"},
		{"backslash in a non-ASCII comment", "0@0.0(\\\\\x80)", "remove the backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAddressList(tt.in)
			if err == nil {
				t.Fatalf("ParseAddressList(%q) = %v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAddressList(%q) error %q does not name %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{999, "999 bytes"},
		{1000, "1 kB"},
		{20_000_000, "20.0 MB"},
		{21_245_000, "21.2 MB"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
