package mailer_test

// go generate scans _test.go files too (checked with go1.26).
//go:generate go run -tags generate ./internal/readmegen ../README.md

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/internal/readme"
)

// The README's troubleshooting section is rendered from mailer.Hints by the
// same function go generate uses, so a hint changed in one place only fails
// here.
func TestREADME_TroubleshootingMatchesHints(t *testing.T) {
	got, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := readme.Update(got, mailer.Hints())
	if err != nil {
		t.Fatalf("README.md: %v; restore the markers, then run go generate ./mailer", err)
	}
	if !bytes.Equal(got, want) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		n := 0
		for n < len(gotLines) && n < len(wantLines) && gotLines[n] == wantLines[n] {
			n++
		}
		t.Errorf("README.md's troubleshooting section does not match mailer.Hints(): run go generate ./mailer\n"+
			"first difference at line %d:\n README: %q\n  hints: %q", n+1, line(gotLines, n), line(wantLines, n))
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of file)"
}

func TestREADME_RenderListsEveryHintWithItsKind(t *testing.T) {
	section := readme.Render(mailer.Hints())
	for _, h := range mailer.Hints() {
		heading := "### " + h.Title + " (`" + string(h.Kind) + "`)\n"
		if !strings.Contains(section, heading) {
			t.Errorf("no heading %q", heading)
		}
	}
}

func TestREADME_Update(t *testing.T) {
	hints := []mailer.Hint{{Kind: mailer.KindDNS, Title: "Not found", Text: "Check the *host* name."}}
	const section = "### Not found (`dns`)\n\nCheck the \\*host\\* name.\n"
	tests := []struct {
		name, in, want, err string
	}{
		{
			name: "replaces only between the markers",
			in:   "# Top\n" + readme.Begin + "\nold text\n" + readme.End + "\nafter\n",
			want: "# Top\n" + readme.Begin + "\n\n" + section + "\n" + readme.End + "\nafter\n",
		},
		{
			name: "already up to date",
			in:   readme.Begin + "\n\n" + section + "\n" + readme.End + "\n",
			want: readme.Begin + "\n\n" + section + "\n" + readme.End + "\n",
		},
		{name: "no begin", in: "x\n" + readme.End + "\n", err: "not found"},
		{name: "no end", in: readme.Begin + "\nx\n", err: "not found"},
		{name: "twice", in: readme.Begin + "\n" + readme.End + "\n" + readme.Begin + "\n", err: "more than once"},
		{name: "end first", in: readme.End + "\n" + readme.Begin + "\n", err: "before"},
		{name: "not on its own line", in: "see " + readme.Begin + "\n" + readme.End + "\n", err: "line of its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readme.Update([]byte(tt.in), hints)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
