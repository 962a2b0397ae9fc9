package editor

import (
	"math"
	"slices"
	"sort"
)

// textLayout places the document's visual lines in a viewport. It wraps only
// the paragraphs it is asked about (the ones in view, the one being edited)
// and estimates the height of the rest, so no keystroke costs the whole text.
//
// The scroll position is kept as an anchor, the paragraph at the top of the
// viewport and how far into it the viewport starts, rather than as a pixel
// offset from the top of the text: correcting the estimated height of a
// paragraph above the viewport then never moves what the user sees.
type textLayout struct {
	doc *document
	m   *measurer

	wrapW float32 // width lines wrap at; 0 before the first layout (no wrap)
	viewH float32 // height of the viewport
	pad   float32 // space above the first line and below the last

	counts   lineCounts // visual line count of each paragraph, for positions
	countsOK bool       // false when counts must be built again

	topPara int
	topOff  float32 // negative only in paragraph 0: the padding is in view

	scratch []int
}

func newTextLayout(doc *document, m *measurer) *textLayout {
	return &textLayout{doc: doc, m: m}
}

func (l *textLayout) lineH() float32 { return l.m.lineH }

// setMeasurer switches to another text size or style: every wrap is stale.
func (l *textLayout) setMeasurer(m *measurer) {
	l.m = m
	for _, p := range l.doc.paras {
		p.wrapW = -1
	}
	l.reestimate()
}

// setSize changes the viewport. A new width makes every wrap stale; the
// paragraphs are re-wrapped when they come into view.
func (l *textLayout) setSize(w, h, pad float32) {
	if l.topPara == 0 && l.topOff <= -l.pad {
		l.topOff = -pad // at the top: keep the top padding in view
	}
	l.viewH, l.pad = h, pad
	if w != l.wrapW {
		l.wrapW = w
		l.reestimate()
	}
	l.clamp()
}

// reestimate guesses every paragraph's line count at the current width,
// keeping the exact count of those already wrapped at it.
func (l *textLayout) reestimate() {
	for _, p := range l.doc.paras {
		if p.wrapW == l.wrapW && !p.stale {
			p.count = len(p.starts)
		} else {
			p.count = l.estimate(p)
		}
	}
	l.countsOK = false
}

func (l *textLayout) estimate(p *paragraph) int {
	if l.wrapW <= 0 {
		return 1
	}
	return l.m.estimate(p.approxLen(l.doc.runesPerByte), l.wrapW)
}

// edited updates the layout after document.replace.
func (l *textLayout) edited(c change) {
	if c.removed == 1 && c.added == 1 {
		l.rewrap(c) // one paragraph changed: update its count in place
		return
	}
	added := l.scratch[:0]
	for _, p := range l.doc.paras[c.from : c.from+c.added] {
		p.count = l.estimate(p)
		added = append(added, p.count)
	}
	l.scratch = added
	if l.countsOK && !l.counts.splice(c.from, c.removed, added) {
		l.countsOK = false
	}
	switch {
	case l.topPara >= c.from+c.removed:
		l.topPara += c.added - c.removed
	case l.topPara > c.from:
		l.topPara, l.topOff = c.from, 0
	}
}

// reset scrolls to the top after the whole text was replaced.
func (l *textLayout) reset() {
	l.reestimate()
	l.topPara, l.topOff = 0, -l.pad
}

// ensure wraps paragraph i at the current width if it is not already.
func (l *textLayout) ensure(i int) *paragraph {
	p := l.doc.paras[i]
	if p.wrapW == l.wrapW && !p.stale {
		return p
	}
	text := p.text()
	p.starts = l.m.wrap(text, l.maxW(), p.starts)
	p.lines = p.lines[:0]
	for k := range p.starts {
		p.lines = append(p.lines, lineText(text, p.starts, k))
	}
	l.wrapped(i, p)
	return p
}

func (l *textLayout) maxW() float32 {
	if l.wrapW <= 0 {
		return math.MaxFloat32
	}
	return l.wrapW
}

func lineText(text []rune, starts []int, k int) string {
	end := len(text)
	if k+1 < len(starts) {
		end = starts[k+1]
	}
	return string(text[starts[k]:end])
}

// wrapped records that paragraph i's wrap cache is current.
func (l *textLayout) wrapped(i int, p *paragraph) {
	p.wrapW, p.stale = l.wrapW, false
	if n := len(p.starts); n != p.count {
		if l.countsOK {
			l.counts.add(i, n-p.count)
		}
		p.count = n
	}
}

// rewrap wraps a paragraph edited in place again, from shortly before the
// edit until a line starts where it started before; the lines before and
// after keep their breaks and strings. Typing in a paragraph of thousands of
// lines so costs a few lines.
func (l *textLayout) rewrap(c change) {
	p := l.doc.paras[c.from]
	if p.wrapW != l.wrapW || len(p.starts) == 0 {
		l.ensure(c.from)
		return
	}
	text := p.text()
	old, oldLines := p.starts, p.lines
	delta := c.newEnd - c.oldEnd
	// Where a line breaks depends on the text up to the first character
	// that did not fit, which can be the first of the line after next: so
	// the two lines before the edit's may change too.
	from := max(0, sort.SearchInts(old, c.col+1)-3)

	starts := append(make([]int, 0, len(old)+4), old[:from+1]...)
	resync := -1 // index in old of the line the new wrap met again
	j := from + 1
	l.m.wrapFrom(text, l.maxW(), old[from], func(s int) bool {
		if s >= c.newEnd {
			for j < len(old) && old[j]+delta < s {
				j++
			}
			if j < len(old) && old[j] >= c.oldEnd && old[j]+delta == s {
				resync = j
				return false
			}
		}
		starts = append(starts, s)
		return true
	})
	fresh := len(starts)
	lines := append(make([]string, 0, len(old)+4), oldLines[:from]...)
	if resync >= 0 {
		for _, s := range old[resync:] {
			starts = append(starts, s+delta)
		}
	}
	for k := from; k < fresh; k++ {
		lines = append(lines, lineText(text, starts, k))
	}
	if resync >= 0 {
		lines = append(lines, oldLines[resync:]...)
	}
	p.starts, p.lines = starts, lines
	l.wrapped(c.from, p)
}

func (l *textLayout) syncCounts() {
	if l.countsOK {
		return
	}
	l.counts.build(l.doc.paras)
	l.countsOK = true
}

// lineOf is the number of visual lines above paragraph i (some estimated).
func (l *textLayout) lineOf(i int) int {
	l.syncCounts()
	return l.counts.prefix(i)
}

func (l *textLayout) totalLines() int {
	l.syncCounts()
	return l.counts.total
}

// contentHeight is the height of the whole text with its padding, estimated
// where paragraphs have not been wrapped yet.
func (l *textLayout) contentHeight() float32 {
	return float32(l.totalLines())*l.lineH() + 2*l.pad
}

// scrollTop is the distance from the top of the content to the top of the
// viewport (estimated, for the scroll bar).
func (l *textLayout) scrollTop() float32 {
	return l.pad + float32(l.lineOf(l.topPara))*l.lineH() + l.topOff
}

func (l *textLayout) height(i int) float32 {
	return float32(l.ensure(i).count) * l.lineH()
}

// scrollBy moves the viewport dy down (up if negative), walking from the
// anchor so that every pixel moved is a pixel of wrapped text.
func (l *textLayout) scrollBy(dy float32) {
	if dy < 0 {
		l.walkUp(-dy)
	} else {
		l.walkDown(dy)
	}
	l.clamp()
}

func (l *textLayout) walkUp(d float32) {
	l.topOff -= d
	for l.topOff < 0 && l.topPara > 0 {
		l.topPara--
		l.topOff += l.height(l.topPara)
	}
	if l.topPara == 0 && l.topOff < -l.pad {
		l.topOff = -l.pad
	}
}

func (l *textLayout) walkDown(d float32) {
	l.topOff += d
	last := len(l.doc.paras) - 1
	for l.topPara < last {
		h := l.height(l.topPara)
		if l.topOff < h {
			break
		}
		l.topOff -= h
		l.topPara++
	}
}

// scrollTo jumps so that the viewport starts y below the top of the content,
// using estimated heights: for the scroll bar, where a jump is expected.
func (l *textLayout) scrollTo(y float32) {
	y = max(0, min(y, l.contentHeight()-l.viewH))
	line := int((y - l.pad) / l.lineH())
	if y < l.pad || line <= 0 {
		l.topPara, l.topOff = 0, y-l.pad
		l.clamp()
		return
	}
	l.syncCounts()
	p := l.counts.find(line)
	l.topPara = p
	l.topOff = y - l.pad - float32(l.counts.prefix(p))*l.lineH()
	l.ensure(p)
	l.walkDown(0)
	l.clamp()
}

// clamp keeps the viewport within the text: no gap above the first line's
// padding, none below the last line's.
func (l *textLayout) clamp() {
	l.walkDown(0)
	if l.topPara == 0 && l.topOff < -l.pad {
		l.topOff = -l.pad
	}
	if l.topPara > 0 && l.topOff < 0 {
		l.walkUp(0)
	}
	y := -l.topOff
	for p := l.topPara; p < len(l.doc.paras); p++ {
		y += l.height(p)
		if y+l.pad >= l.viewH {
			return
		}
	}
	if gap := l.viewH - (y + l.pad); gap > 0 {
		l.walkUp(gap)
	}
}

// lineIndex is the visual line of paragraph p.para that holds the cursor at
// p. At a wrap point the cursor belongs to the next line unless atEnd.
func (l *textLayout) lineIndex(p pos, atEnd bool) int {
	starts := l.ensure(p.para).starts
	k := sort.SearchInts(starts, p.col+1) - 1
	if atEnd && k > 0 && starts[k] == p.col {
		k--
	}
	return max(k, 0)
}

func (l *textLayout) lineRange(para, line int) (start, end int) {
	p := l.ensure(para)
	start = p.starts[line]
	if line+1 < len(p.starts) {
		return start, p.starts[line+1]
	}
	return start, len(p.text())
}

// x is the left edge of column col on a visual line, relative to the text.
func (l *textLayout) x(para, line, col int) float32 {
	p := l.ensure(para)
	s := p.lines[line]
	n := col - p.starts[line]
	if n <= 0 {
		return 0
	}
	return l.m.width(s[:runeOffset(s, n)])
}

func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// hit returns the column on a visual line nearest to x. A hit past the end
// of a wrapped line gives the wrap point with atEnd set.
func (l *textLayout) hit(para, line int, x float32) (col int, atEnd bool) {
	start, end := l.lineRange(para, line)
	wrapped := line+1 < len(l.ensure(para).starts)
	// The first column whose left edge is right of x.
	lo, hi := start, end+1
	for lo < hi {
		mid := (lo + hi) / 2
		if l.x(para, line, mid) > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == start {
		return start, false
	}
	col = lo - 1
	if lo <= end && x-l.x(para, line, col) > l.x(para, line, lo)-x {
		col = lo
	}
	return col, wrapped && col == end
}

// place is a visual line in the viewport.
type place struct {
	para, line int
	y          float32 // top of the line in viewport coordinates
}

// paraTop is the viewport y of paragraph i's top, walking from the anchor
// with exact heights; ok is false if it is more than limit away.
func (l *textLayout) paraTop(i int, limit float32) (y float32, ok bool) {
	y = -l.topOff
	for p := l.topPara; p < i; p++ {
		y += l.height(p)
		if y > limit {
			return y, false
		}
	}
	for p := l.topPara - 1; p >= i; p-- {
		y -= l.height(p)
		if y < -limit {
			return y, false
		}
	}
	return y, true
}

// at finds the visual line under viewport y; above the text it is the first
// line, below it the last.
func (l *textLayout) at(y float32) place {
	p, top := l.topPara, -l.topOff
	for y < top && p > 0 {
		p--
		top -= l.height(p)
	}
	last := len(l.doc.paras) - 1
	for p < last && y >= top+l.height(p) {
		top += l.height(p)
		p++
	}
	n := l.ensure(p).count
	line := int(math.Floor(float64((y - top) / l.lineH())))
	line = max(0, min(line, n-1))
	return place{p, line, top + float32(line)*l.lineH()}
}

// visible calls f for every visual line in the viewport, top to bottom.
func (l *textLayout) visible(f func(place)) {
	lh := l.lineH()
	top := -l.topOff
	for p := l.topPara; p < len(l.doc.paras) && top < l.viewH; p++ {
		n := l.ensure(p).count
		k := 0
		if top < 0 { // skip the lines above the viewport in a long paragraph
			k = min(n, int(-top/lh))
		}
		for ; k < n; k++ {
			y := top + float32(k)*lh
			if y >= l.viewH {
				break
			}
			if y+lh > 0 {
				f(place{p, k, y})
			}
		}
		top += float32(n) * lh
	}
}

// show scrolls as little as possible so that visual line `line` of paragraph
// para is in view, with the padding's width of space above or below it
// where the text goes on.
func (l *textLayout) show(para, line int) {
	lh := l.lineH()
	margin := max(0, min(l.pad, (l.viewH-lh)/2))
	top, near := l.paraTop(para, l.viewH+lh)
	if near {
		y := top + float32(line)*lh
		switch {
		case y < margin:
			l.walkUp(margin - y)
		case y+lh > l.viewH-margin:
			l.walkDown(y + lh - (l.viewH - margin))
		default:
			return
		}
		l.clamp()
		return
	}
	// Far away: put the line near the top or bottom edge and lay out only
	// the paragraphs that the viewport then shows.
	l.topPara = para
	if top < 0 {
		l.topOff = float32(line)*lh - margin
	} else {
		l.topOff = float32(line+1)*lh + margin - l.viewH
	}
	l.walkUp(0)
	l.clamp()
}

// countBlock is the number of paragraphs whose line counts are summed
// together in lineCounts.
const countBlock = 64

// lineCounts holds the visual line count of every paragraph, in blocks of
// about countBlock paragraphs with their sums. The lines above a paragraph
// and the paragraph holding a line are found by walking the blocks (80 for
// 5,000 paragraphs), and adding or removing a paragraph, as Enter and
// Backspace do, touches one block rather than every count after it.
type lineCounts struct {
	blocks []countsBlock
	total  int
}

type countsBlock struct {
	counts []int
	sum    int
}

func (c *lineCounts) build(paras []*paragraph) {
	c.blocks, c.total = c.blocks[:0], 0
	for i := 0; i < len(paras); i += countBlock {
		b := countsBlock{counts: make([]int, 0, 2*countBlock)}
		for _, p := range paras[i:min(i+countBlock, len(paras))] {
			b.counts = append(b.counts, p.count)
			b.sum += p.count
		}
		c.blocks = append(c.blocks, b)
		c.total += b.sum
	}
}

// locate returns the block holding paragraph i and i's place in it.
func (c *lineCounts) locate(i int) (block, at int) {
	for k := range c.blocks {
		if n := len(c.blocks[k].counts); i < n {
			return k, i
		} else {
			i -= n
		}
	}
	return -1, 0
}

func (c *lineCounts) add(i, delta int) {
	k, at := c.locate(i)
	c.blocks[k].counts[at] += delta
	c.blocks[k].sum += delta
	c.total += delta
}

// prefix is the sum of the counts of paragraphs [0, i).
func (c *lineCounts) prefix(i int) int {
	sum := 0
	for k := range c.blocks {
		b := &c.blocks[k]
		if i < len(b.counts) {
			for _, n := range b.counts[:i] {
				sum += n
			}
			return sum
		}
		i -= len(b.counts)
		sum += b.sum
	}
	return sum
}

// find returns the paragraph holding visual line `line` (counted from 0),
// or the last paragraph for a line past the end.
func (c *lineCounts) find(line int) int {
	i := 0
	for k := range c.blocks {
		b := &c.blocks[k]
		if line < b.sum {
			for j, n := range b.counts {
				if line < n {
					return i + j
				}
				line -= n
			}
		}
		line -= b.sum
		i += len(b.counts)
	}
	return i - 1
}

// splice replaces the counts of paragraphs [at, at+removed) with added. It
// reports false, changing nothing, when the paragraphs removed span blocks;
// the caller then builds the counts again.
func (c *lineCounts) splice(at, removed int, added []int) bool {
	k, o := c.locate(at)
	if k < 0 || o+removed > len(c.blocks[k].counts) {
		return false
	}
	b := &c.blocks[k]
	for _, n := range b.counts[o : o+removed] {
		b.sum -= n
		c.total -= n
	}
	b.counts = slices.Replace(b.counts, o, o+removed, added...)
	for _, n := range added {
		b.sum += n
		c.total += n
	}
	switch {
	case len(b.counts) > 2*countBlock:
		c.blocks = slices.Replace(c.blocks, k, k+1, rechunk(b.counts)...)
	case len(b.counts) == 0 && len(c.blocks) > 1:
		c.blocks = slices.Delete(c.blocks, k, k+1)
	}
	return true
}

// rechunk cuts an overgrown block into blocks of countBlock.
func rechunk(counts []int) []countsBlock {
	var out []countsBlock
	for i := 0; i < len(counts); i += countBlock {
		b := countsBlock{counts: append(make([]int, 0, 2*countBlock), counts[i:min(i+countBlock, len(counts))]...)}
		for _, n := range b.counts {
			b.sum += n
		}
		out = append(out, b)
	}
	return out
}
