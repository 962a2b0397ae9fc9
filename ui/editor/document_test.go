package editor

import "testing"

func TestDocument_Replace(t *testing.T) {
	for _, tc := range []struct {
		name       string
		text       string
		a, b       pos
		insert     string
		want       string
		wantEnd    pos
		wantChange change
	}{
		{"type into a paragraph", "hello", pos{0, 2}, pos{0, 2}, "XY", "heXYllo", pos{0, 4}, change{0, 1, 1, 2, 2, 4}},
		{"delete in a paragraph", "hello", pos{0, 1}, pos{0, 4}, "", "ho", pos{0, 1}, change{0, 1, 1, 1, 4, 1}},
		{"split a paragraph", "hello", pos{0, 2}, pos{0, 2}, "\n", "he\nllo", pos{1, 0}, change{from: 0, removed: 1, added: 2}},
		{"join paragraphs", "one\ntwo", pos{0, 3}, pos{1, 0}, "", "onetwo", pos{0, 3}, change{from: 0, removed: 2, added: 1}},
		{"delete across three", "one\ntwo\nthree\nfour", pos{0, 1}, pos{2, 2}, "", "oree\nfour", pos{0, 1}, change{from: 0, removed: 3, added: 1}},
		{"paste lines in the middle", "a\nbc\nd", pos{1, 1}, pos{1, 1}, "1\n2\n3", "a\nb1\n2\n3c\nd", pos{3, 1}, change{from: 1, removed: 1, added: 3}},
		{"replace across with lines", "ab\ncd", pos{0, 1}, pos{1, 1}, "X\nY", "aX\nYd", pos{1, 1}, change{from: 0, removed: 2, added: 2}},
		{"at the very end", "ab\n", pos{1, 0}, pos{1, 0}, "c", "ab\nc", pos{1, 1}, change{1, 1, 1, 0, 0, 1}},
		{"multibyte", "Grüße", pos{0, 2}, pos{0, 4}, "ß", "Grße", pos{0, 3}, change{0, 1, 1, 2, 4, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDocument(tc.text)
			removed := d.slice(tc.a, tc.b)
			end, c := d.replace(tc.a, tc.b, tc.insert)
			if got := d.String(); got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
			if end != tc.wantEnd || c != tc.wantChange {
				t.Errorf("end %v change %+v, want %v %+v", end, c, tc.wantEnd, tc.wantChange)
			}
			// Undoing is replacing the inserted text with what was removed.
			d.replace(tc.a, end, removed)
			if got := d.String(); got != tc.text {
				t.Errorf("undone: %q, want %q", got, tc.text)
			}
		})
	}
}

func TestDocument_Set(t *testing.T) {
	d := newDocument("a\r\nb\rc\n")
	if got := d.String(); got != "a\nb\nc\n" {
		t.Errorf("String() = %q", got)
	}
	if len(d.paras) != 4 || d.end() != (pos{3, 0}) {
		t.Errorf("%d paragraphs, end %v", len(d.paras), d.end())
	}
	if d.isEmpty() {
		t.Error("not empty")
	}
	d.set("")
	if !d.isEmpty() || len(d.paras) != 1 {
		t.Errorf("empty text: %d paragraphs, empty %v", len(d.paras), d.isEmpty())
	}
}
