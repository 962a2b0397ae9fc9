package mailer

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// The streamed message must be byte for byte what go-mail itself writes
// with AttachFile, for files of every length modulo a base64 line.
func TestPrepared_WriteToMatchesGoMail(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var paths []string
	for i, n := range []int{0, 1, 2, 3, 56, 57, 58, 114, 76 * 57, b64Chunk - 1, b64Chunk, b64Chunk + 1, 300_001} {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		name := filepath.Join(dir, strings.Repeat("f", i%3+1)+"-ü-"+string(rune('a'+i))+".bin")
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, name)
	}
	a := Account{Host: ICloudHost, Port: 587, Security: StartTLS, Username: "ann@icloud.com", DisplayName: "Ann Ödegaard"}
	m := Message{To: []string{"Bob <bob@example.org>"}, Cc: []string{"carol@example.net"}, Subject: "Grüße ✉", Body: "Hi\n.\nBye\n", Attachments: paths}
	p, err := Prepare(a, m)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	n, err := p.WriteTo(&got)
	if err != nil {
		t.Fatal(err)
	}
	if n != p.Size || int64(got.Len()) != p.Size {
		t.Fatalf("WriteTo wrote %d (returned %d), Size says %d", got.Len(), n, p.Size)
	}

	// go-mail's own rendering of the same message, with the same boundary,
	// date and Message-ID.
	parsed, err := mail.ReadMessage(bytes.NewReader(got.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	date, err := time.Parse(time.RFC1123Z, parsed.Header.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	ref := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithBoundary(params["boundary"]))
	if err := ref.FromFormat(a.DisplayName, a.Username); err != nil {
		t.Fatal(err)
	}
	to, _ := ParseAddressList(m.To[0])
	cc, _ := ParseAddressList(m.Cc[0])
	ref.ToMailAddress(to...)
	ref.CcMailAddress(cc...)
	ref.Subject(m.Subject)
	ref.SetDateWithValue(date)
	ref.SetMessageIDWithValue(p.MessageID)
	ref.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, path := range paths {
		ref.AttachFile(path, gomail.WithFileName(filepath.Base(path)))
	}
	var want bytes.Buffer
	if _, err := ref.WriteTo(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, w := got.String(), want.String()
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Fatalf("streamed message differs from go-mail's at byte %d of %d/%d:\ngot  %q\nwant %q",
			i, len(g), len(w), g[max(0, i-80):min(len(g), i+80)], w[max(0, i-80):min(len(w), i+80)])
	}
}

// A file changed between Prepare and the send is an error, not a
// different message than the one checked.
func TestPrepared_WriteToChangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(path, []byte("hello"), 0o600)
	p, err := Prepare(Account{Host: ICloudHost, Port: 587, Security: StartTLS, Username: "ann@icloud.com"},
		Message{To: []string{"bob@example.org"}, Subject: "x", Attachments: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("hello, longer now"), 0o600)
	if _, err := p.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "changed since it was checked") {
		t.Fatalf("WriteTo after the file changed: %v", err)
	}
}

func TestDotWriter(t *testing.T) {
	for _, tt := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"empty", nil, ".\r\n"},
		{"plain", []string{"a\r\nb\r\n"}, "a\r\nb\r\n.\r\n"},
		{"no final newline", []string{"a\r\nb"}, "a\r\nb\r\n.\r\n"},
		{"leading dots", []string{".a\r\n..b\r\nc.\r\n"}, "..a\r\n...b\r\nc.\r\n.\r\n"},
		{"bare LF", []string{"a\nb\n"}, "a\r\nb\r\n.\r\n"},
		{"CRLF split across writes", []string{"a\r", "\n.b\r", "\n"}, "a\r\n..b\r\n.\r\n"},
		{"dot after split", []string{"a\r\n", ".", "b"}, "a\r\n..b\r\n.\r\n"},
		{"ends in CR", []string{"a\r"}, "a\r\n.\r\n"},
		{"lone dot line", []string{"x\r\n.\r\ny\r\n"}, "x\r\n..\r\ny\r\n.\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			d := newDotWriter(&out)
			for _, c := range tt.chunks {
				if n, err := d.Write([]byte(c)); err != nil || n != len(c) {
					t.Fatalf("Write(%q) = %d, %v", c, n, err)
				}
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}
