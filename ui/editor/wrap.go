package editor

import (
	"math"
	"unicode"

	"fyne.io/fyne/v2"
)

// measurer measures text the way canvas.Text draws it, for one text size and
// style. Wrapping sums cached advances of single runes, which is cheap and
// close to the shaped width (kerning only makes text narrower); the cursor,
// the selection and mouse hits use the shaped width of the real prefix, so
// they line up with the drawn glyphs.
type measurer struct {
	size  float32
	style fyne.TextStyle

	advances map[rune]float32
	tabW     float32 // distance between tab stops
	lineH    float32 // height of a visual line
	avgW     float32 // average advance in ordinary prose, for estimates
}

func newMeasurer(size float32, style fyne.TextStyle) *measurer {
	m := &measurer{size: size, style: style, advances: make(map[rune]float32)}
	m.tabW = fyne.MeasureText("\t", size, style).Width
	if m.tabW <= 0 {
		m.tabW = 4 * m.advance(' ')
	}
	const prose = "The quick brown fox jumps over the lazy dog, then sleeps. "
	probe := fyne.MeasureText(prose, size, style)
	m.lineH = probe.Height
	m.avgW = probe.Width / float32(len(prose))
	return m
}

func (m *measurer) advance(r rune) float32 {
	if w, ok := m.advances[r]; ok {
		return w
	}
	w := fyne.MeasureText(string(r), m.size, m.style).Width
	m.advances[r] = w
	return w
}

// tabStop is where a tab starting at x ends, as Fyne's painter computes it.
func (m *measurer) tabStop(x float32) float32 {
	return float32(math.Floor(float64((x+m.tabW)/m.tabW))) * m.tabW
}

// width is the shaped width of s as canvas.Text draws it.
func (m *measurer) width(s string) float32 {
	if s == "" {
		return 0
	}
	return fyne.MeasureText(s, m.size, m.style).Width
}

// step advances x over r.
func (m *measurer) step(x float32, r rune) float32 {
	if r == '\t' {
		return m.tabStop(x)
	}
	return x + m.advance(r)
}

// wrap breaks text into visual lines no wider than maxW, at spaces where it
// can (TextWrapWord), inside a word where a word alone is too wide. Spaces at
// the end of a line may hang past maxW, as in most editors. It returns the
// rune offset where each line starts, reusing starts.
func (m *measurer) wrap(text []rune, maxW float32, starts []int) []int {
	starts = append(starts[:0], 0)
	m.wrapFrom(text, maxW, 0, func(start int) bool {
		starts = append(starts, start)
		return true
	})
	return starts
}

// wrapFrom wraps text from a line starting at lineStart, calling next with
// the start of each following line until it returns false. Where a line
// breaks depends only on where it starts, which lets an edit re-wrap only
// until a line starts where it started before.
func (m *measurer) wrapFrom(text []rune, maxW float32, lineStart int, next func(start int) bool) {
	lastBreak := -1
	x := float32(0)
	for i := lineStart; i < len(text); i++ {
		r := text[i]
		if breaksLine(r) {
			x = m.step(x, r)
			lastBreak = i + 1
			continue
		}
		nx := m.step(x, r)
		if nx <= maxW || i == lineStart {
			x = nx
			continue
		}
		brk := i
		if lastBreak > lineStart {
			brk = lastBreak
		}
		if !next(brk) {
			return
		}
		lineStart, lastBreak = brk, -1
		x = 0
		for j := brk; j <= i; j++ {
			x = m.step(x, text[j])
		}
		if x > maxW && i > brk {
			// The word's start was narrower than what came before it
			// on the line: the rest of the word starts a line of its own.
			if !next(i) {
				return
			}
			lineStart = i
			x = m.step(0, r)
		}
	}
}

// breaksLine reports whether a line may wrap after r. No-break spaces don't.
func breaksLine(r rune) bool {
	switch r {
	case ' ', '\t':
		return true
	case '\u00a0', '\u2007', '\u202f':
		return false
	}
	return unicode.IsSpace(r)
}

// estimate guesses how many visual lines n runes of prose take at maxW,
// without measuring them.
func (m *measurer) estimate(n int, maxW float32) int {
	if n == 0 || maxW <= 0 {
		return 1
	}
	// Word wrap leaves part of each line empty; 0.9 is typical for prose.
	return max(1, int(math.Ceil(float64(float32(n)*m.avgW/(maxW*0.9)))))
}
