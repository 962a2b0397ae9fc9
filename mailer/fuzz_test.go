package mailer

import (
	"errors"
	"net/mail"
	"slices"
	"strings"
	"testing"
)

// Injection attempts and odd inputs, used as seeds by both targets.
var fuzzSeeds = []string{
	"",
	"ann@x.com",
	"Ann <ann@x.com>; bob@y.org",
	`"Doe, Jane" <j@x.org>, k@z.io`,
	"x\r\nBcc: evil@x.com",
	"x\nBcc: evil@x.com",
	"x\rBcc: evil@x.com",
	"x\r\n\r\nbody injected",
	"=?utf-8?q?a?=\nX: y",
	"=?utf-8?q?a=0D=0ABcc:_evil@x.com?=",
	"=?utf-8?b?YQ0KQmNjOiBldmlsQHguY29t?=",
	"\"Ann\r\nBcc: evil@x.com\" <ann@x.com>",
	"ann@x.com (comment\r\nBcc: evil@x.com)",
	"Zoë Ångström <zoe@x.se>",
	"ann@x.com\x00Bcc: evil@x.com",
	"ann@x.com\u2028Bcc: evil@x.com",
	"ann@x.com\u0085Bcc: evil@x.com",
	"<ann@x.com>\tBcc: evil@x.com",
	"\"a\\\"b\" <c@d.ef>",
	"a@b.c;;;,,,",
	"(((",
	"\"",
	"\xff\xfe invalid utf-8 <a@b.cd>",
	strings.Repeat("a", 300) + "@example.com",
}

func FuzzParseAddressList(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addrs, err := ParseAddressList(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error %q has a line break", err)
			}
			return
		}
		for _, a := range addrs {
			if strings.ContainsAny(a.Name, "\r\n") || strings.ContainsAny(a.Address, "\r\n") {
				t.Fatalf("ParseAddressList(%q) returned %q with a line break", s, a)
			}
			at := strings.LastIndexByte(a.Address, '@')
			if at < 1 || !strings.Contains(a.Address[at+1:], ".") {
				t.Errorf("ParseAddressList(%q) returned %q without a full domain", s, a.Address)
			}
			again, err := mail.ParseAddress(a.String())
			if err != nil {
				t.Fatalf("ParseAddressList(%q) returned %q, which net/mail cannot re-parse: %v", s, a.String(), err)
			}
			if again.Address != a.Address {
				t.Errorf("%q re-parses to address %q, want %q", a.String(), again.Address, a.Address)
			}
		}
	})
}

// FuzzHeaderValues sends fuzzed subjects, display names and address lists
// through Prepare. Whatever it accepts must encode to exactly the header
// fields of a benign message: nothing typed into a field becomes a header.
func FuzzHeaderValues(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "Ann", "cc@example.com")
		f.Add("Hello", s, "")
		f.Add("Hello", "Ann", s)
	}
	f.Add("Grüße 👋", "Zoë", `"Doe, Jane" <j@x.org>`)
	f.Add(strings.Repeat("long subject ", 40), strings.Repeat("Long Name ", 20), strings.Repeat("a@b.cd, ", 30))

	benign := map[bool][]string{} // header names, by whether there is a Cc
	for _, cc := range []bool{false, true} {
		m := Message{To: []string{"rcpt@example.com"}, Subject: "Hello", Body: "body"}
		if cc {
			m.Cc = []string{"cc@example.com"}
		}
		p, err := Prepare(testAccount(), m)
		if err != nil {
			f.Fatal(err)
		}
		header, _ := encodeForFuzz(f, p)
		benign[cc] = sortedNames(header)
	}

	f.Fuzz(func(t *testing.T, subject, displayName, list string) {
		a := testAccount()
		a.DisplayName = displayName
		m := Message{To: []string{"rcpt@example.com"}, Cc: []string{list}, Subject: subject, Body: "body"}
		p, err := Prepare(a, m)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalidMessage {
				t.Fatalf("Prepare error = %v (%T), want an *Error of kind %s", err, err, KindInvalidMessage)
			}
			return
		}
		header, body := encodeForFuzz(t, p)
		if i := strings.IndexAny(strings.ReplaceAll(header, "\r\n", ""), "\r\n"); i >= 0 {
			t.Fatalf("header block has a bare CR or LF:\n%q", header)
		}
		cc, _ := ParseAddressList(list)
		want := benign[len(cc) > 0]
		if got := sortedNames(header); !slices.Equal(got, want) {
			t.Fatalf("header fields = %q, want %q\nsubject %q, display name %q, list %q\n%s",
				got, want, subject, displayName, list, header)
		}
		if _, err := mail.ReadMessage(strings.NewReader(header + "\r\n" + body)); err != nil {
			t.Fatalf("net/mail cannot read the message: %v\n%s", err, header)
		}
	})
}

func encodeForFuzz(tb testing.TB, p *Prepared) (header, body string) {
	var b strings.Builder
	if _, err := p.WriteTo(&b); err != nil {
		tb.Fatal(err)
	}
	header, body, ok := strings.Cut(b.String(), "\r\n\r\n")
	if !ok {
		tb.Fatalf("no end of headers:\n%q", b.String())
	}
	return header + "\r\n", body
}

func sortedNames(header string) []string {
	names := headerNames(header)
	slices.Sort(names)
	return names
}
