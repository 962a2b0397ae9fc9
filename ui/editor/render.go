package editor

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// CreateRenderer is called by Fyne to draw the editor.
func (e *Editor) CreateRenderer() fyne.WidgetRenderer {
	e.ExtendBaseWidget(e)
	r := &editorRenderer{
		e:      e,
		box:    canvas.NewRectangle(color.Transparent),
		border: canvas.NewRectangle(color.Transparent),
		cursor: canvas.NewRectangle(color.Transparent),
	}
	r.view = &view{e: e, r: r}
	r.view.ExtendBaseWidget(r.view)
	r.bar = newScrollBar(e)
	r.objects = []fyne.CanvasObject{r.box, r.border, r.view, r.bar}
	r.viewObjects = []fyne.CanvasObject{r.cursor}
	e.r = r
	r.Refresh()
	return r
}

// editorRenderer draws the editor like Fyne's Entry: a rounded box with a
// border in the focus colour, the text inset by the inner padding. Only the
// visual lines in view have canvas objects, reused from frame to frame: a
// line keeps its canvas.Text (and the driver its texture) while it only
// moves.
type editorRenderer struct {
	e           *Editor
	box, border *canvas.Rectangle
	view        *view
	bar         *scrollBar
	objects     []fyne.CanvasObject

	texts       []*canvas.Text // the visual lines in view
	holder      []*canvas.Text // the placeholder's lines
	sels        []*canvas.Rectangle
	cursor      *canvas.Rectangle
	viewObjects []fyne.CanvasObject
	objectsOK   bool

	// scratch space for update, kept to spare the garbage collector
	want  []lineItem
	slot  []int
	taken []bool

	fg, selColor, cursorColor color.Color
	textSize                  float32
}

type lineItem struct {
	text string
	y    float32
}

func (r *editorRenderer) Destroy() {
	if r.e.r == r {
		r.e.r = nil
	}
}

func (r *editorRenderer) Objects() []fyne.CanvasObject { return r.objects }

// MinSize is that of Fyne's multi-line Entry: three lines of one character.
func (r *editorRenderer) MinSize() fyne.Size {
	th := r.e.Theme()
	pad := th.Size(theme.SizeNameInnerPadding)
	char := fyne.MeasureText("M", th.Size(theme.SizeNameText), fyne.TextStyle{})
	return fyne.NewSize(char.Width+3*pad, 3*char.Height+2*pad)
}

func (r *editorRenderer) Layout(size fyne.Size) {
	th := r.e.Theme()
	b := th.Size(theme.SizeNameInputBorder)
	pad := th.Size(theme.SizeNameInnerPadding)

	// As Entry: 0.5 off so the trailing edge rounds down on low DPI.
	r.border.Resize(fyne.NewSize(size.Width-b-.5, size.Height-b-.5))
	r.border.Move(fyne.NewSquareOffsetPos(b / 2))
	r.box.Resize(size.Subtract(fyne.NewSquareSize(2 * b)))
	r.box.Move(fyne.NewSquareOffsetPos(b))

	viewSize := size.Subtract(fyne.NewSquareSize(2 * b))
	r.view.Move(fyne.NewSquareOffsetPos(b))
	r.view.Resize(viewSize)
	r.e.layout().setSize(max(size.Width-2*pad, 1), viewSize.Height, pad-b)
	r.update()
}

// Refresh applies the theme (colours, text size, focus and disabled state)
// and redraws.
func (r *editorRenderer) Refresh() {
	e := r.e
	th := e.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()

	if size := th.Size(theme.SizeNameText); size != r.textSize {
		r.textSize = size
		if e.lay != nil && e.lay.m.size != size {
			e.lay.setMeasurer(e.newMeasurer())
		}
		for _, t := range append(r.texts, r.holder...) {
			t.TextSize = size
			canvas.Refresh(t)
		}
	}

	r.box.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.box.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.border.CornerRadius = r.box.CornerRadius
	r.border.StrokeWidth = th.Size(theme.SizeNameInputBorder)
	switch {
	case e.Disabled():
		r.border.StrokeColor = th.Color(theme.ColorNameDisabled, v)
	case e.focused:
		r.border.StrokeColor = th.Color(theme.ColorNamePrimary, v)
	default:
		r.border.StrokeColor = th.Color(theme.ColorNameInputBorder, v)
	}

	fg := th.Color(theme.ColorNameForeground, v)
	holder := th.Color(theme.ColorNamePlaceHolder, v)
	if e.Disabled() {
		fg, holder = th.Color(theme.ColorNameDisabled, v), th.Color(theme.ColorNameDisabled, v)
	}
	if fg != r.fg {
		r.fg = fg
		for _, t := range r.texts {
			t.Color = fg
			canvas.Refresh(t)
		}
	}
	for _, t := range r.holder {
		if t.Color != holder {
			t.Color = holder
			canvas.Refresh(t)
		}
	}
	r.selColor = th.Color(theme.ColorNameSelection, v)
	for _, s := range r.sels {
		s.FillColor = r.selColor
	}
	r.cursorColor = th.Color(theme.ColorNamePrimary, v)
	r.cursor.FillColor = r.cursorColor

	r.bar.Refresh()
	canvas.Refresh(r.box)
	canvas.Refresh(r.border)
	r.Layout(e.Size())
}

// update places the visible lines, the selection, the cursor and the scroll
// bar after the text, the cursor or the scroll position changed. It touches
// canvas objects only where something changed.
func (r *editorRenderer) update() {
	e := r.e
	l := e.layout()
	th := e.Theme()
	textX := th.Size(theme.SizeNameInnerPadding) - th.Size(theme.SizeNameInputBorder)

	r.want = r.want[:0]
	if !e.doc.isEmpty() {
		l.visible(func(pl place) {
			if s := e.doc.paras[pl.para].lines[pl.line]; s != "" {
				r.want = append(r.want, lineItem{s, pl.y})
			}
		})
	}
	r.texts = r.placeLines(r.texts, r.want, textX, r.fg)
	r.want = r.want[:0]
	if e.doc.isEmpty() && e.placeholder != "" {
		y := -l.topOff
		for _, s := range r.placeholderLines() {
			r.want = append(r.want, lineItem{s, y})
			y += l.lineH()
		}
	}
	holder := th.Color(theme.ColorNamePlaceHolder, fyne.CurrentApp().Settings().ThemeVariant())
	if e.Disabled() {
		holder = r.fg
	}
	r.holder = r.placeLines(r.holder, r.want, textX, holder)

	r.placeSelection(textX)
	r.placeCursor(textX)
	r.placeBar()
	if !r.objectsOK {
		r.rebuildObjects()
	}
	// Moving objects does not tell the driver to draw a frame; this does,
	// without throwing away any text texture.
	canvas.Refresh(r.cursor)
}

// placeLines shows want with the canvas.Text objects in pool. A line whose
// text is already on an object keeps that object, so scrolling by a line
// changes the text of one object rather than all.
func (r *editorRenderer) placeLines(pool []*canvas.Text, want []lineItem, x float32, col color.Color) []*canvas.Text {
	r.taken = r.taken[:0]
	for range pool {
		r.taken = append(r.taken, false)
	}
	r.slot = r.slot[:0]
	for _, it := range want {
		slot := -1
		for j, t := range pool {
			if !r.taken[j] && t.Text == it.text {
				slot = j
				r.taken[j] = true
				break
			}
		}
		r.slot = append(r.slot, slot)
	}
	free := 0
	for i, it := range want {
		j := r.slot[i]
		if j < 0 {
			for free < len(pool) && r.taken[free] {
				free++
			}
			if free == len(pool) {
				t := canvas.NewText("", col)
				t.TextSize = r.textSize
				pool = append(pool, t)
				r.taken = append(r.taken, false)
				r.objectsOK = false
			}
			j = free
			r.taken[j] = true
			t := pool[j]
			t.Text, t.Color = it.text, col
			canvas.Refresh(t)
		}
		t := pool[j]
		if t.Color != col {
			t.Color = col
			canvas.Refresh(t)
		}
		t.Move(fyne.NewPos(x, it.y))
		t.Resize(fyne.NewSize(r.e.lay.wrapW, r.e.lay.lineH()))
		t.Show()
	}
	for j, t := range pool {
		if !r.taken[j] {
			t.Hide()
		}
	}
	return pool
}

func (r *editorRenderer) placeholderLines() []string {
	l := r.e.lay
	text := []rune(r.e.placeholder)
	maxW := l.wrapW
	starts := l.m.wrap(text, maxW, nil)
	lines := make([]string, len(starts))
	for k, s := range starts {
		end := len(text)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		lines[k] = string(text[s:end])
	}
	return lines
}

// placeSelection draws a rectangle behind the selected part of each visual
// line in view; a selected line break shows as a space's width.
func (r *editorRenderer) placeSelection(textX float32) {
	e, l := r.e, r.e.lay
	n := 0
	if a, b, ok := e.selection(); ok && e.focused {
		nl := l.m.advance(' ')
		l.visible(func(pl place) {
			if pl.para < a.para || pl.para > b.para {
				return
			}
			start, end := l.lineRange(pl.para, pl.line)
			lo, hi := start, end
			if pl.para == a.para {
				lo = max(lo, a.col)
			}
			if pl.para == b.para {
				hi = min(hi, b.col)
			}
			lastLine := pl.line == l.ensure(pl.para).count-1
			extra := float32(0)
			if pl.para < b.para && lastLine {
				extra = nl
			}
			if lo > hi || (lo == hi && extra == 0) {
				return
			}
			x1 := l.x(pl.para, pl.line, lo)
			x2 := l.x(pl.para, pl.line, hi) + extra
			if n == len(r.sels) {
				r.sels = append(r.sels, canvas.NewRectangle(r.selColor))
				r.objectsOK = false
			}
			s := r.sels[n]
			n++
			// One unit wider on the left, as Entry draws it.
			s.Move(fyne.NewPos(textX+x1-1, pl.y))
			s.Resize(fyne.NewSize(x2-x1+1, l.lineH()))
			s.Show()
			canvas.Refresh(s)
		})
	}
	for _, s := range r.sels[n:] {
		if s.Visible() {
			s.Hide()
			canvas.Refresh(s)
		}
	}
}

func (r *editorRenderer) placeCursor(textX float32) {
	e, l := r.e, r.e.lay
	lh := l.lineH()
	show := e.focused && !e.Disabled()
	if show {
		line := l.lineIndex(e.cursor, e.atEnd)
		top, near := l.paraTop(e.cursor.para, l.viewH+lh)
		y := top + float32(line)*lh
		show = near && y+lh > 0 && y < l.viewH
		if show {
			w := e.Theme().Size(theme.SizeNameInputBorder)
			x := l.x(e.cursor.para, line, e.cursor.col)
			r.cursor.Move(fyne.NewPos(textX+x-w/2, y))
			r.cursor.Resize(fyne.NewSize(w, lh))
		}
	}
	r.cursor.Hidden = !show
}

func (r *editorRenderer) placeBar() {
	e, l := r.e, r.e.lay
	th := e.Theme()
	b := th.Size(theme.SizeNameInputBorder)
	size := e.Size()
	total, viewH := l.contentHeight(), l.viewH
	if total <= viewH+0.5 || viewH <= 0 {
		r.bar.Hide()
		return
	}
	length := max(viewH*viewH/total, th.Size(theme.SizeNameScrollBar))
	offset := (viewH - length) * min(1, max(0, l.scrollTop()/(total-viewH)))
	width := r.bar.width()
	r.bar.Move(fyne.NewPos(size.Width-b-width, b))
	r.bar.Resize(fyne.NewSize(width, viewH))
	r.bar.setThumb(offset, length)
	r.bar.Show()
}

func (r *editorRenderer) rebuildObjects() {
	r.viewObjects = r.viewObjects[:0]
	for _, s := range r.sels {
		r.viewObjects = append(r.viewObjects, s)
	}
	for _, t := range r.holder {
		r.viewObjects = append(r.viewObjects, t)
	}
	for _, t := range r.texts {
		r.viewObjects = append(r.viewObjects, t)
	}
	r.viewObjects = append(r.viewObjects, r.cursor)
	r.objectsOK = true
}

// view holds the text's canvas objects. It is a fyne.Scrollable, which
// makes Fyne clip what it draws to the inside of the border, and gets the
// mouse wheel.
var _ fyne.Scrollable = (*view)(nil)

type view struct {
	widget.BaseWidget
	e *Editor
	r *editorRenderer
}

func (v *view) CreateRenderer() fyne.WidgetRenderer { return &viewRenderer{v.r} }

func (v *view) Scrolled(ev *fyne.ScrollEvent) { v.e.scrolled(ev) }

type viewRenderer struct{ r *editorRenderer }

func (vr *viewRenderer) Destroy()                     {}
func (vr *viewRenderer) Layout(fyne.Size)             {}
func (vr *viewRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (vr *viewRenderer) Objects() []fyne.CanvasObject { return vr.r.viewObjects }
func (vr *viewRenderer) Refresh()                     {}
