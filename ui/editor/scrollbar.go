package editor

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

var (
	_ fyne.Draggable    = (*scrollBar)(nil)
	_ fyne.Tappable     = (*scrollBar)(nil)
	_ desktop.Hoverable = (*scrollBar)(nil)
	_ desktop.Mouseable = (*scrollBar)(nil)
)

// scrollBar shows where the view is in the text, like Fyne's own: a thin
// thumb that grows when the pointer is over it. Dragging the thumb or
// clicking the track scrolls, jumping by estimated heights.
type scrollBar struct {
	widget.BaseWidget
	e *Editor

	hovered, dragging  bool
	dragStart, dragged float32 // scrollTop when the drag began, distance since

	track, thumb *canvas.Rectangle
	thumbTop     float32
	thumbLen     float32
}

func newScrollBar(e *Editor) *scrollBar {
	b := &scrollBar{
		e:     e,
		track: canvas.NewRectangle(color.Transparent),
		thumb: canvas.NewRectangle(color.Transparent),
	}
	b.ExtendBaseWidget(b)
	return b
}

func (b *scrollBar) large() bool { return b.hovered || b.dragging }

// width is the width of the bar's area: the thumb and a margin, or the
// full scroll bar size while in use.
func (b *scrollBar) width() float32 {
	th := b.e.Theme()
	if b.large() {
		return th.Size(theme.SizeNameScrollBar)
	}
	return 2 * th.Size(theme.SizeNameScrollBarSmall)
}

func (b *scrollBar) setThumb(top, length float32) {
	b.thumbTop, b.thumbLen = top, length
	b.layout()
}

func (b *scrollBar) layout() {
	th := b.e.Theme()
	size := b.Size()
	w, x := th.Size(theme.SizeNameScrollBar), float32(0)
	if !b.large() {
		w = th.Size(theme.SizeNameScrollBarSmall)
		x = w
	}
	b.thumb.Move(fyne.NewPos(x, b.thumbTop))
	b.thumb.Resize(fyne.NewSize(w, b.thumbLen))
	b.track.Resize(size)
	b.track.Hidden = !b.large()
	canvas.Refresh(b.thumb)
}

func (b *scrollBar) CreateRenderer() fyne.WidgetRenderer {
	return &scrollBarRenderer{b: b, objects: []fyne.CanvasObject{b.track, b.thumb}}
}

func (b *scrollBar) MouseIn(*desktop.MouseEvent)    { b.setHovered(true) }
func (b *scrollBar) MouseMoved(*desktop.MouseEvent) {}
func (b *scrollBar) MouseOut()                      { b.setHovered(false) }

func (b *scrollBar) setHovered(h bool) {
	b.hovered = h
	b.e.update(false) // the bar's area changes width
	b.layout()
}

// MouseDown and MouseUp keep a click on the bar from moving the text cursor.
func (b *scrollBar) MouseDown(*desktop.MouseEvent) {}
func (b *scrollBar) MouseUp(*desktop.MouseEvent)   {}

// Tapped on the track centres the thumb where the track was clicked.
func (b *scrollBar) Tapped(ev *fyne.PointEvent) {
	if ev.Position.Y >= b.thumbTop && ev.Position.Y <= b.thumbTop+b.thumbLen {
		return
	}
	b.scrollThumbTo(ev.Position.Y - b.thumbLen/2)
}

func (b *scrollBar) Dragged(ev *fyne.DragEvent) {
	if !b.dragging {
		b.dragging = true
		b.dragStart, b.dragged = b.thumbTop, 0
	}
	b.dragged += ev.Dragged.DY
	b.scrollThumbTo(b.dragStart + b.dragged)
}

func (b *scrollBar) DragEnd() {
	b.dragging = false
	b.e.update(false)
	b.layout()
}

// scrollThumbTo scrolls so that the thumb's top is at y.
func (b *scrollBar) scrollThumbTo(y float32) {
	l := b.e.layout()
	travel := b.Size().Height - b.thumbLen
	if travel <= 0 {
		return
	}
	l.scrollTo(max(0, min(1, y/travel)) * (l.contentHeight() - l.viewH))
	b.e.update(false)
}

type scrollBarRenderer struct {
	b       *scrollBar
	objects []fyne.CanvasObject
}

func (r *scrollBarRenderer) Destroy()                     {}
func (r *scrollBarRenderer) Layout(fyne.Size)             { r.b.layout() }
func (r *scrollBarRenderer) MinSize() fyne.Size           { return fyne.Size{} }
func (r *scrollBarRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *scrollBarRenderer) Refresh() {
	th := r.b.e.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.b.thumb.FillColor = th.Color(theme.ColorNameScrollBar, v)
	r.b.thumb.CornerRadius = th.Size(theme.SizeNameScrollBarRadius)
	r.b.track.FillColor = th.Color(theme.ColorNameScrollBarBackground, v)
	r.b.layout()
	canvas.Refresh(r.b.track)
}
