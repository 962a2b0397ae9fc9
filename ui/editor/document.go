package editor

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// pos is a place in the text: a paragraph (the text between two '\n') and a
// rune offset within it. The '\n' between paragraph i and i+1 sits at
// pos{i, len(paragraph i)}.
type pos struct{ para, col int }

func (a pos) before(b pos) bool {
	return a.para < b.para || (a.para == b.para && a.col < b.col)
}

// ordered returns a and b with the earlier first.
func ordered(a, b pos) (pos, pos) {
	if b.before(a) {
		return b, a
	}
	return a, b
}

// paragraph is one line of the text as the user sees it when nothing wraps.
// Its runes are made from src on first use, so that setting or pasting a
// long text only splits it: paragraphs nobody looks at stay as slices of the
// original string.
type paragraph struct {
	src   string
	runes []rune
	split bool // runes holds the text and src is no longer used

	// The wrap cache: starts and lines as wrapped at width wrapW (-1 for
	// none). stale marks a cache made before the text last changed; the
	// layout then wraps again only the lines around the change.
	wrapW  float32
	stale  bool
	starts []int    // rune offset of each visual line; starts[0] == 0
	lines  []string // the text of each visual line, as drawn

	// count is the number of visual lines: exact when wrapW is the current
	// wrap width, an estimate otherwise.
	count int
}

func (p *paragraph) text() []rune {
	if !p.split {
		p.runes = []rune(p.src)
		p.src = ""
		p.split = true
	}
	return p.runes
}

// approxLen is the rune count, guessed from the byte length if the paragraph
// has not been split into runes yet.
func (p *paragraph) approxLen(runesPerByte float32) int {
	if p.split {
		return len(p.runes)
	}
	return int(float32(len(p.src))*runesPerByte + 0.5)
}

func (p *paragraph) appendTo(b *strings.Builder) {
	if !p.split {
		b.WriteString(p.src)
		return
	}
	for _, r := range p.runes {
		b.WriteRune(r)
	}
}

func (p *paragraph) byteLen() int {
	if !p.split {
		return len(p.src)
	}
	n := 0
	for _, r := range p.runes {
		n += utf8.RuneLen(r)
	}
	return n
}

// invalidate marks the wrap cache stale after the text changed.
func (p *paragraph) invalidate() { p.stale = true }

// document is the text as a slice of paragraphs. It knows nothing of Fyne.
type document struct {
	paras []*paragraph
	// runesPerByte is sampled from the text when it is set, for estimating
	// the length of paragraphs not yet split into runes.
	runesPerByte float32
}

func newDocument(text string) *document {
	d := &document{}
	d.set(text)
	return d
}

func (d *document) set(text string) {
	text = normalizeNewlines(text)
	d.runesPerByte = sampleRunesPerByte(text)
	d.paras = splitParagraphs(text, d.paras[:0])
}

// splitParagraphs appends the paragraphs of text to into. The paragraphs
// are allocated together, one allocation for a whole pasted text.
func splitParagraphs(text string, into []*paragraph) []*paragraph {
	chunk := make([]paragraph, strings.Count(text, "\n")+1)
	into = slices.Grow(into, len(chunk))
	for i := range chunk {
		p := &chunk[i]
		end := strings.IndexByte(text, '\n')
		if end < 0 {
			end = len(text)
		}
		p.src, p.wrapW, p.count = text[:end], -1, 1
		into = append(into, p)
		text = text[min(end+1, len(text)):]
	}
	return into
}

// sampleRunesPerByte looks at the start of the text only, so that setting a
// long text costs the same as a short one.
func sampleRunesPerByte(text string) float32 {
	const sample = 4096
	if len(text) > sample {
		text = text[:sample]
	}
	if len(text) == 0 {
		return 1
	}
	return float32(utf8.RuneCountInString(text)) / float32(len(text))
}

// normalizeNewlines turns CRLF and lone CR into LF, as pasted text from other
// systems may carry them.
func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func (d *document) end() pos {
	last := len(d.paras) - 1
	return pos{last, len(d.paras[last].text())}
}

func (d *document) paraLen(i int) int { return len(d.paras[i].text()) }

// clamp moves p into the text.
func (d *document) clamp(p pos) pos {
	if p.para < 0 {
		return pos{}
	}
	if p.para >= len(d.paras) {
		return d.end()
	}
	p.col = max(0, min(p.col, d.paraLen(p.para)))
	return p
}

func (d *document) isEmpty() bool {
	return len(d.paras) == 1 && (d.paras[0].split && len(d.paras[0].runes) == 0 || !d.paras[0].split && d.paras[0].src == "")
}

// String joins the paragraphs; it is the one place that costs the whole text.
func (d *document) String() string {
	n := len(d.paras) - 1
	for _, p := range d.paras {
		n += p.byteLen()
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range d.paras {
		if i > 0 {
			b.WriteByte('\n')
		}
		p.appendTo(&b)
	}
	return b.String()
}

// slice returns the text between a and b (a before or at b).
func (d *document) slice(a, b pos) string {
	if a.para == b.para {
		return string(d.paras[a.para].text()[a.col:b.col])
	}
	var s strings.Builder
	s.WriteString(string(d.paras[a.para].text()[a.col:]))
	for i := a.para + 1; i < b.para; i++ {
		s.WriteByte('\n')
		d.paras[i].appendTo(&s)
	}
	s.WriteByte('\n')
	s.WriteString(string(d.paras[b.para].text()[:b.col]))
	return s.String()
}

// advance returns where text inserted at p ends.
func advance(p pos, text string) pos {
	nl := strings.Count(text, "\n")
	if nl == 0 {
		return pos{p.para, p.col + utf8.RuneCountInString(text)}
	}
	return pos{p.para + nl, utf8.RuneCountInString(text[strings.LastIndexByte(text, '\n')+1:])}
}

// change describes what replace did to the paragraph slice, so the layout
// can update only what moved: paragraphs [from, from+removed) were replaced
// by [from, from+added). When one paragraph was edited in place, its runes
// [col, oldEnd) became [col, newEnd).
type change struct {
	from, removed, added int
	col, oldEnd, newEnd  int
}

// replace deletes the text between a and b (a before or at b) and inserts
// text there. It returns where the inserted text ends.
func (d *document) replace(a, b pos, text string) (end pos, c change) {
	end = advance(a, text)
	if a.para == b.para && strings.IndexByte(text, '\n') < 0 {
		// The common case, typing: edit the one paragraph in place.
		p := d.paras[a.para]
		p.runes = slices.Replace(p.text(), a.col, b.col, []rune(text)...)
		p.invalidate()
		return end, change{a.para, 1, 1, a.col, b.col, end.col}
	}

	head := d.paras[a.para].text()[:a.col]
	tail := d.paras[b.para].text()[b.col:]
	parts := splitParagraphs(text, nil)
	first, last := parts[0], parts[len(parts)-1]
	firstRunes := append(slices.Clip(head), first.text()...)
	if len(parts) == 1 {
		first.runes = append(firstRunes, tail...)
	} else {
		first.runes = firstRunes
		last.runes = append(last.text(), tail...)
		last.split = true
	}
	first.split = true

	removed := b.para - a.para + 1
	d.paras = spliceParas(d.paras, a.para, removed, parts)
	return end, change{from: a.para, removed: removed, added: len(parts)}
}

func spliceParas(s []*paragraph, at, remove int, insert []*paragraph) []*paragraph {
	n := len(s) - remove + len(insert)
	if n > cap(s) {
		grown := make([]*paragraph, n, n+n/4)
		copy(grown, s[:at])
		copy(grown[at+len(insert):], s[at+remove:])
		copy(grown[at:], insert)
		return grown
	}
	old := len(s)
	s = s[:max(old, n)]
	copy(s[at+len(insert):], s[at+remove:old])
	copy(s[at:], insert)
	clear(s[n:])
	return s[:n]
}
