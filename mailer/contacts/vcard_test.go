package contacts

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer/carddavtest"
)

func TestReadVCF_DefaultCards(t *testing.T) {
	var all strings.Builder
	for _, c := range carddavtest.DefaultCards() {
		all.WriteString(c.VCard)
	}
	got, cards, err := ReadVCF(strings.NewReader(all.String()), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Contact{
		{"Zoë Ångström", "zoe@example.org"},
		{"Zoë Ångström", "zoe.home@example.net"},
		{"Zoë Ångström", "zoe.angstrom@icloud.example"},
		{"Jürgen Müller", "juergen.mueller@example.de"},
		{"Łukasz Brzęczyszczykiewicz", "lukasz@example.pl"},
		{"Jane Doe", "jane.doe@example.com"},
		{"ACME Support", "support@acme.example"},
	}
	if !slices.Equal(got, want) || cards != 7 {
		t.Errorf("ReadVCF = %q from %d cards,\nwant %q from 7", got, cards, want)
	}
}

func TestReadVCF_Cases(t *testing.T) {
	tests := []struct {
		name, vcf string
		want      []Contact
	}{
		{"vCard 4.0, LF line ends, lower-case names", "begin:vcard\nversion:4.0\nfn:Ann Example\nemail;type=work:ann@example.org\nend:vcard\n",
			[]Contact{{"Ann Example", "ann@example.org"}}},
		{"folded name and address", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bartholomew\r\n  Example\r\nEMAIL:bart@exa\r\n mple.org\r\nEND:VCARD\r\n",
			[]Contact{{"Bartholomew Example", "bart@example.org"}}},
		{"N only, with prefix and suffix", "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Curie;Marie;Salomea;Dr.;PhD\r\nEMAIL:marie@example.org\r\nEND:VCARD\r\n",
			[]Contact{{"Dr. Marie Salomea Curie PhD", "marie@example.org"}}},
		{"no name at all", "BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:anon@example.org\r\nEND:VCARD\r\n",
			[]Contact{{"", "anon@example.org"}}},
		{"escapes", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Doe\\, Jane \\; Co\r\nEMAIL:jane@example.org\r\nEND:VCARD\r\n",
			[]Contact{{"Doe, Jane ; Co", "jane@example.org"}}},
		{"vCard 2.1 quoted-printable with a soft break", "BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=89milie Du=\r\nrand\r\nEMAIL;INTERNET:emilie@example.fr\r\nEND:VCARD\r\n",
			[]Contact{{"Émilie Durand", "emilie@example.fr"}}},
		{"vCard 2.1 bare parameters, a quoted parameter with ; and :", "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8:Lee;Kim\r\nEMAIL;HOME;INTERNET:kim@example.org\r\nEMAIL;X-LABEL=\"a;b:c\";PREF:kim2@example.org\r\nEND:VCARD\r\n",
			[]Contact{{"Kim Lee", "kim@example.org"}, {"Kim Lee", "kim2@example.org"}}},
		{"mailto, a display name, duplicates and junk", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Max\r\nEMAIL:mailto:max@example.org\r\nEMAIL:MAX@example.org\r\nEMAIL:Max <max2@example.org>\r\nEMAIL:not an address\r\nEMAIL:\r\nEND:VCARD\r\n",
			[]Contact{{"Max", "max@example.org"}, {"Max", "max2@example.org"}}},
		{"control characters in the name", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eve\x1b[31m Red\\nLine\r\nEMAIL:eve@example.org\r\nEND:VCARD\r\n",
			[]Contact{{"Eve[31m Red Line", "eve@example.org"}}},
		{"a property outside any card, and a card without END", "FN:Stray\r\nEMAIL:stray@example.org\r\nBEGIN:VCARD\r\nFN:Ok\r\nEMAIL:ok@example.org\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Cut\r\nEMAIL:cut@example.org\r\n",
			[]Contact{{"Ok", "ok@example.org"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := ReadVCF(strings.NewReader(tt.vcf), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadVCF_NoCards(t *testing.T) {
	for _, in := range []string{"", "hello\r\n", "BEGIN:VCARD\r\nFN:Pat\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n"} {
		if _, _, err := ReadVCF(strings.NewReader(in), 0); !errors.Is(err, ErrNoCards) {
			t.Errorf("ReadVCF(%q) = %v, want ErrNoCards", in, err)
		}
	}
}

// endless repeats a prefix, then fill without end.
type endless struct {
	prefix string
	fill   byte
	read   int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.prefix)
	e.prefix = e.prefix[n:]
	for i := n; i < len(p); i++ {
		p[i] = e.fill
	}
	e.read += int64(len(p))
	return len(p), nil
}

// A line without end (an unfolded PHOTO, or junk) is skipped as it is
// read, never held.
func TestReadCards_HugeLinesAreNotHeld(t *testing.T) {
	photo := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Photo\r\nEMAIL:photo@example.org\r\nPHOTO:data:image/png;base64," +
		strings.Repeat("A", 20<<20) + "\r\n  " + strings.Repeat("B", 1<<20) + "\r\nEND:VCARD\r\n"
	got, _, err := ReadVCF(strings.NewReader(photo), 0)
	if err != nil || !slices.Equal(got, []Contact{{"Photo", "photo@example.org"}}) {
		t.Fatalf("ReadVCF = %q, %v", got, err)
	}
	// A wanted property that grows without end is dropped, not held.
	long := "BEGIN:VCARD\r\nFN:" + strings.Repeat("n", maxPropBytes+10) + "\r\nEMAIL:long@example.org\r\nEND:VCARD\r\n"
	if got, _, err := ReadVCF(strings.NewReader(long), 0); err != nil || !slices.Equal(got, []Contact{{"", "long@example.org"}}) {
		t.Fatalf("ReadVCF = %q, %v", got, err)
	}
}

func TestReadVCF_Bounded(t *testing.T) {
	e := &endless{prefix: "BEGIN:VCARD\r\nFN:x\r\nNOTE:", fill: 'x'}
	_, _, err := readVCF(e, 0, 4<<20)
	if !errors.Is(err, ErrVCFTooLarge) || !strings.Contains(err.Error(), "larger than 4 MB") || e.read > 5<<20 {
		t.Fatalf("err %v after %d bytes", err, e.read)
	}
	var many strings.Builder
	for range 20 {
		many.WriteString("BEGIN:VCARD\r\nFN:A\r\nEMAIL:a@example.org\r\nEND:VCARD\r\n")
	}
	if _, _, err := ReadVCF(strings.NewReader(many.String()), 10); !errors.Is(err, ErrVCFTooLarge) || !strings.Contains(err.Error(), "more than 10 addresses") {
		t.Errorf("err = %v", err)
	}
}

func FuzzReadVCF(f *testing.F) {
	for _, c := range carddavtest.DefaultCards() {
		f.Add(c.VCard)
	}
	f.Add("BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE:=C3=\n=89\nEMAIL:a@b.c\nEND:VCARD")
	f.Fuzz(func(t *testing.T, s string) {
		cs, _, err := ReadVCF(strings.NewReader(s), 0)
		if err != nil && !errors.Is(err, ErrNoCards) {
			t.Fatal(err)
		}
		for _, c := range cs {
			if strings.ContainsAny(c.Name+c.Email, "\r\n") || !strings.Contains(c.Email, "@") {
				t.Fatalf("contact %q", c)
			}
		}
	})
}

var _ io.Reader = (*endless)(nil)
