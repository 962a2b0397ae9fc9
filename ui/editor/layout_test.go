package editor

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// TestRewrap_matchesFullWrap edits one long paragraph at random and checks
// that re-wrapping only around each edit gives the lines a full wrap gives.
func TestRewrap_matchesFullWrap(t *testing.T) {
	words := []string{"a", "mail", "to", "Supercalifragilisticexpialidocious", "\t", "the", "lighthouse,", "  ", "é", "日本語"}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 400 {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	e, w := newTestEditor(t, b.String(), textWidth(150))
	l := e.layout()
	for i := range 300 {
		n := e.doc.paraLen(0)
		e.SetCursor(0, rng.IntN(n+1))
		switch rng.IntN(4) {
		case 0:
			press(t, w, k(fyne.KeyBackspace))
		case 1:
			press(t, w, k(fyne.KeyDelete))
		case 2:
			typeText(t, w, " ")
		default:
			typeText(t, w, words[rng.IntN(len(words))])
		}
		p := e.doc.paras[0]
		want := l.m.wrap(p.text(), l.wrapW, nil)
		if !slices.Equal(p.starts, want) {
			t.Fatalf("edit %d: starts %v, a full wrap gives %v", i, p.starts, want)
		}
		for k := range want {
			if got, want := p.lines[k], lineText(p.text(), want, k); got != want {
				t.Fatalf("edit %d: line %d is %q, want %q", i, k, got, want)
			}
		}
		if p.count != len(want) || l.lineOf(1) != len(want) {
			t.Fatalf("edit %d: count %d, lines above the end %d, want %d", i, p.count, l.lineOf(1), len(want))
		}
	}
}

func TestFenwick(t *testing.T) {
	counts := []int{1, 3, 1, 1, 5, 2, 1}
	paras := make([]*paragraph, len(counts))
	for i, c := range counts {
		paras[i] = &paragraph{count: c}
	}
	var f fenwick
	f.build(paras)
	f.add(4, -2) // paragraph 4 now has 3 lines
	counts[4] = 3
	sum := 0
	for i, c := range counts {
		if got := f.prefix(i); got != sum {
			t.Errorf("prefix(%d) = %d, want %d", i, got, sum)
		}
		for line := sum; line < sum+c; line++ {
			if got := f.find(line); got != i {
				t.Errorf("find(%d) = %d, want %d", line, got, i)
			}
		}
		sum += c
	}
	if got := f.find(sum + 10); got != len(counts)-1 {
		t.Errorf("find past the end = %d, want the last paragraph", got)
	}
}
