package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// button is a widget.Button whose focus shows on every importance: Fyne
// marks a focused button by blending its focus colour into the background,
// which on a blue (primary) button is blue on blue. This one also draws a
// ring around itself while it has the focus. Escape, when onEscape is set,
// answers for it (a question's safe answer).
type button struct {
	widget.Button
	focused  bool
	onEscape func()
}

func newButton(label string, icon fyne.Resource, tapped func()) *button {
	b := &button{}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *button) FocusGained() {
	b.focused = true
	b.Button.FocusGained()
}

func (b *button) FocusLost() {
	b.focused = false
	b.Button.FocusLost()
}

// TypedKey answers Space (as any button) and Enter, and Escape when the
// button has an onEscape.
func (b *button) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if b.onEscape != nil {
			b.onEscape()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	default:
		b.Button.TypedKey(ev)
	}
}

func (b *button) CreateRenderer() fyne.WidgetRenderer {
	ring := canvas.NewRectangle(color.Transparent)
	return &ringRenderer{WidgetRenderer: b.Button.CreateRenderer(), b: b, ring: ring}
}

// ringRenderer is a button's renderer with the focus ring on top.
type ringRenderer struct {
	fyne.WidgetRenderer
	b    *button
	ring *canvas.Rectangle
}

func (r *ringRenderer) Objects() []fyne.CanvasObject {
	return append(r.WidgetRenderer.Objects(), r.ring)
}

func (r *ringRenderer) Layout(s fyne.Size) {
	r.WidgetRenderer.Layout(s)
	r.ring.Resize(s)
	r.ring.Move(fyne.NewPos(0, 0))
}

func (r *ringRenderer) Refresh() {
	r.WidgetRenderer.Refresh()
	th := r.b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.ring.FillColor = color.Transparent
	r.ring.CornerRadius = th.Size(theme.SizeNameButtonRadius)
	if r.b.focused && !r.b.Disabled() {
		// The foreground colour stands out on every background the
		// button may have: blue, grey or the window's.
		r.ring.StrokeColor = th.Color(theme.ColorNameForeground, v)
		r.ring.StrokeWidth = 2
	} else {
		r.ring.StrokeColor = color.Transparent
		r.ring.StrokeWidth = 0
	}
	r.ring.Refresh()
}

// capped holds content whose height may vary (attachments, failure cards,
// notes) in a scroll container whose minimum height is at most max: it
// takes the room it needs when there is room, and never raises the
// window's minimum size beyond max.
func capped(content fyne.CanvasObject, max float32) fyne.CanvasObject {
	s := container.NewVScroll(content)
	return container.New(&capLayout{content: content, max: max}, s)
}

type capLayout struct {
	content fyne.CanvasObject
	max     float32
}

func (l *capLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	if !l.content.Visible() {
		return fyne.NewSize(0, 0)
	}
	m := l.content.MinSize()
	return fyne.NewSize(m.Width, min(m.Height, l.max))
}

func (l *capLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}
