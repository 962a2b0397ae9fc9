package mailer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func TestReadReply(t *testing.T) {
	long := strings.Repeat("x", maxReplyLine)
	manyLines := strings.Repeat("250-"+strings.Repeat("y", 100)+"\r\n", maxReplyBytes/104+1) + "250 end\r\n"
	tests := []struct {
		name     string
		wire     string
		code     int
		text     string
		protocol bool  // a *protocolError
		err      error // or this error
	}{
		{"one line", "250 ok\r\n", 250, "ok", false, nil},
		{"continuation", "250-a\r\n250-b\r\n250 c\r\n", 250, "a\nb\nc", false, nil},
		{"longest line", "250 " + long[:maxReplyLine-6] + "\r\n", 250, long[:maxReplyLine-6], false, nil},
		{"line too long", "250 " + long + "\r\n", 0, "", true, nil},
		{"endless line", "220 " + long + long + long, 0, "", true, nil},
		{"reply too long", manyLines, 0, "", true, nil},
		{"codes differ", "250-a\r\n251 b\r\n", 0, "", true, nil},
		{"1xx", "150 wait\r\n", 0, "", true, nil},
		{"6xx", "600 no\r\n", 0, "", true, nil},
		{"no separator", "250ok\r\n", 0, "", true, nil},
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n", 0, "", true, nil},
		{"cut short", "250-a\r\n250 b", 0, "", false, io.ErrUnexpectedEOF},
		{"nothing", "", 0, "", false, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text, err := readReply(bufio.NewReaderSize(strings.NewReader(tt.wire), maxReplyLine))
			var pe *protocolError
			switch {
			case tt.protocol && !errors.As(err, &pe):
				t.Fatalf("err = %v, want a protocol error", err)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("err = %v, want %v", err, tt.err)
			case !tt.protocol && tt.err == nil && err != nil:
				t.Fatalf("err = %v", err)
			}
			if code != tt.code || text != tt.text {
				t.Errorf("got %d %q, want %d %q", code, text, tt.code, tt.text)
			}
		})
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzReply reads fuzzed bytes as a server's reply: whatever they are, the
// reader reads a bounded amount, and a reply it accepts has a 2xx to 5xx
// code, bounded lines, and text that is safe to print once parsed.
func FuzzReply(f *testing.F) {
	for _, s := range []string{
		"250 ok\r\n",
		"250-hostile.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
		"535 5.7.8 Error: authentication failed\r\n",
		"550-5.1.1 a\r\n550-5.1.1 b\r\n550 5.1.1 c\r\n",
		"250-a\r\n251 b\r\n",
		"220 \x1b]0;title\x07\x9b\xc2\x9b\r\n",
		"250\n",
		"250 " + strings.Repeat("x", 5000) + "\r\n",
		"HTTP/1.1 200 OK\r\n",
		"",
		"2",
		"999 x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		cr := &countingReader{r: bytes.NewReader(wire)}
		code, text, err := readReply(bufio.NewReaderSize(cr, maxReplyLine))
		if cr.n > maxReplyBytes+maxReplyLine {
			t.Fatalf("read %d bytes for one reply", cr.n)
		}
		if err != nil {
			if code != 0 || text != "" {
				t.Fatalf("error %v with a reply %d %q", err, code, text)
			}
			return
		}
		if code < 200 || code > 599 {
			t.Fatalf("code %d accepted", code)
		}
		if len(text) > maxReplyBytes {
			t.Fatalf("text of %d bytes", len(text))
		}
		for _, line := range strings.Split(text, "\n") {
			if len(line) > maxReplyLine {
				t.Fatalf("a line of %d bytes", len(line))
			}
		}
		r := parseReply(&textproto.Error{Code: code, Msg: text})
		if r.Code != code || Printable(r.Text) != r.Text || strings.ContainsAny(r.Text, "\r\n") {
			t.Fatalf("parseReply(%d %q) = %+v: not safe to print on one line", code, text, r)
		}
	})
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, with ümlauts ✓":   "plain text, with ümlauts ✓",
		"tab\tand\nnewline":            "tab\tand\nnewline",
		"\x1b[2J\x1b]0;t\x07":          `\x1b[2J\x1b]0;t\x07`,
		"cr\rdel\x7f nul\x00":          `cr\x0ddel\u007f nul\x00`,
		"csi \u009b31m nel \u0085":     `csi \u009b31m nel \u0085`,
		"bad \xff\xc2 utf8":            `bad \xff\xc2 utf8`,
		"rlo \u202egnp.exe":            `rlo \u202egnp.exe`,
		`back\slash \x1b kept as text`: `back\slash \x1b kept as text`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if got := Printable(want); got != want {
			t.Errorf("Printable is not idempotent on %q: %q", want, got)
		}
	}
}

func TestEnvelopeAddress(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com":            "ann@example.com",
		"a.b+c@example.com":          "a.b+c@example.com",
		"john doe@example.com":       `"john doe"@example.com`,
		`a"b\c@example.org`:          `"a\"b\\c"@example.org`,
		".dot@example.org":           `".dot"@example.org`,
		"a..b@example.org":           `"a..b"@example.org`,
		"zoë@example.org":            "zoë@example.org",
		"weird(comment)@example.org": `"weird(comment)"@example.org`,
		// Already quoted: as it is.
		`"john doe"@example.com`: `"john doe"@example.com`,
		`"a\"b\\c"@example.org`:  `"a\"b\\c"@example.org`,
		// Not a whole quoted-string: quoted, escaped.
		`"a"b"@example.org`: `"\"a\"b\""@example.org`,
	} {
		if got := EnvelopeAddress(in); got != want {
			t.Errorf("EnvelopeAddress(%q) = %s, want %s", in, got, want)
		}
	}
}

// The session's deadline grows with the recipients and the size.
func TestClient_SessionTimeout(t *testing.T) {
	var c Client
	if got, want := c.sessionTimeout(0, 0), DefaultConnectTimeout+DefaultSessionTimeout; got != want {
		t.Errorf("check: %s, want %s", got, want)
	}
	// 500 recipients and 20 MB: 15 s + 2 min + 500 × 2 s + 800 s.
	if got, want := c.sessionTimeout(MaxMessageBytes, MaxRecipients), 15*time.Second+2*time.Minute+1000*time.Second+800*time.Second; got != want {
		t.Errorf("500 recipients, 20 MB: %s, want %s", got, want)
	}
}
