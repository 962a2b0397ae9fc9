package editor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// TestRewrap_matchesFullWrap edits one long paragraph at random and checks
// that re-wrapping only around each edit gives the lines a full wrap gives.
func TestRewrap_matchesFullWrap(t *testing.T) {
	words := []string{"a", "mail", "to", "Supercalifragilisticexpialidocious", "\t", "the", "lighthouse,", "  ", "é", "日本語",
		"i", "W", "WWWWWWWWWWWWWWWWWWWWWWWWWWW", "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii", "l.l"}
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 400 {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	e, w := newTestEditor(t, b.String(), textWidth(90))
	l := e.layout()
	for i := range 2000 {
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

func TestLineCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var counts []int
	paras := func() []*paragraph {
		ps := make([]*paragraph, len(counts))
		for i, n := range counts {
			ps[i] = &paragraph{count: n}
		}
		return ps
	}
	for range 300 {
		counts = append(counts, 1+rng.IntN(4))
	}
	var c lineCounts
	c.build(paras())
	check := func(step string) {
		t.Helper()
		sum := 0
		for i, n := range counts {
			if got := c.prefix(i); got != sum {
				t.Fatalf("%s: prefix(%d) = %d, want %d", step, i, got, sum)
			}
			for line := sum; line < sum+n; line++ {
				if got := c.find(line); got != i {
					t.Fatalf("%s: find(%d) = %d, want %d", step, line, got, i)
				}
			}
			sum += n
		}
		if c.total != sum || c.prefix(len(counts)) != sum {
			t.Fatalf("%s: total %d, prefix(end) %d, want %d", step, c.total, c.prefix(len(counts)), sum)
		}
		if got := c.find(sum + 10); got != len(counts)-1 {
			t.Fatalf("%s: find past the end = %d, want the last paragraph", step, got)
		}
	}
	check("build")
	for i := range 500 {
		at := rng.IntN(len(counts))
		removed := 1 + rng.IntN(min(3, len(counts)-at))
		added := make([]int, 1+rng.IntN(3))
		if i%50 == 0 {
			added = make([]int, 300) // a paste
		}
		for j := range added {
			added[j] = 1 + rng.IntN(5)
		}
		if !c.splice(at, removed, added) {
			counts = slices.Replace(counts, at, at+removed, added...)
			c.build(paras())
		} else {
			counts = slices.Replace(counts, at, at+removed, added...)
		}
		if p := rng.IntN(len(counts)); true {
			counts[p]++
			c.add(p, 1)
		}
		check(fmt.Sprintf("splice %d", i))
	}
}

// TestResize_keepsExactCounts resizes back and forth: paragraphs wrapped at a
// width keep their exact line counts when the width comes back.
func TestResize_keepsExactCounts(t *testing.T) {
	e, w := newTestEditor(t, lines(50), textWidth(150))
	l := e.layout()
	want := l.ensure(0).count
	if want < 3 {
		t.Fatalf("paragraph 0 has %d lines at 150", want)
	}
	w.Resize(textWidth(700))
	w.Resize(textWidth(150))
	if got := l.doc.paras[0].count; got != want {
		t.Errorf("paragraph 0 counts %d lines after resizing back, want %d", got, want)
	}
	if got := l.lineOf(1); got != want {
		t.Errorf("lines above paragraph 1: %d, want %d", got, want)
	}
}
