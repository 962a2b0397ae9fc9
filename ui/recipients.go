package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
)

// maxSuggestions is how many suggestions the list under a field shows.
const maxSuggestions = 6

// suggester completes the address being typed in one recipient field from
// the window's index (everyone written to, and the contacts): the list
// opens under the field from the second character of the address being
// typed; Down and Up choose, Enter or Tab accept ("Name <address>, "),
// Escape closes, and the mouse works too. It sits in the form, under the
// field, rather than in a pop-up, so the keys stay with the field; while
// it is closed the field's Tab order is the pane's.
type suggester struct {
	w     *window
	field *addressEntry
	box   *fyne.Container
	rows  []*suggestionRow
	items []contacts.Suggestion
	sel   int
	// closing closes the list a moment after the field lost the focus,
	// unless a row was tapped meanwhile (a tap takes the focus first).
	closing *time.Timer
}

func newSuggester(w *window, field *addressEntry) *suggester {
	s := &suggester{w: w, field: field, box: container.NewVBox()}
	for i := range maxSuggestions {
		r := newSuggestionRow(func() { s.accept(i) })
		s.rows = append(s.rows, r)
		s.box.Add(r)
	}
	s.box.Hide()
	return s
}

// open reports whether the list shows.
func (s *suggester) open() bool { return s.box.Visible() }

// typed looks up the address being typed, the text after the last
// separator.
func (s *suggester) typed(text string) {
	query := strings.TrimSpace(text[lastSeparator(text)+1:])
	idx := s.w.index.Load()
	if idx == nil || len([]rune(query)) < contacts.MinQuery {
		s.close()
		return
	}
	s.items = idx.Suggest(query, maxSuggestions)
	// Not what is already typed in full.
	if len(s.items) == 1 && strings.EqualFold(s.items[0].Text, query) {
		s.items = nil
	}
	if len(s.items) == 0 {
		s.close()
		return
	}
	s.sel = 0
	s.render()
	s.box.Show()
}

// lastSeparator is the index of the last comma or semicolon outside quotes
// and angle brackets, or -1.
func lastSeparator(text string) int {
	last, quoted, angle := -1, false, 0
	for i, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '<':
			angle++
		case r == '>' && angle > 0:
			angle--
		case (r == ',' || r == ';') && angle == 0:
			last = i
		}
	}
	return last
}

func (s *suggester) render() {
	for i, r := range s.rows {
		if i >= len(s.items) {
			r.Hide()
			continue
		}
		it := s.items[i]
		text := it.Text
		if it.Sent > 0 {
			text += fmt.Sprintf("   · written to %d×", it.Sent)
		}
		r.set(text, i == s.sel)
		r.Show()
	}
	s.box.Refresh()
}

func (s *suggester) close() {
	if s.closing != nil {
		s.closing.Stop()
		s.closing = nil
	}
	s.items = nil
	s.box.Hide()
}

// key handles the keys of the field while the list is open; it reports
// whether it took the key.
func (s *suggester) key(ev *fyne.KeyEvent) bool {
	if !s.open() {
		return false
	}
	switch ev.Name {
	case fyne.KeyDown:
		s.sel = (s.sel + 1) % len(s.items)
		s.render()
	case fyne.KeyUp:
		s.sel = (s.sel + len(s.items) - 1) % len(s.items)
		s.render()
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeyTab:
		s.accept(s.sel)
	case fyne.KeyEscape:
		s.close()
	default:
		return false
	}
	return true
}

// accept puts suggestion i in place of the address being typed, followed
// by the separator, and closes the list.
func (s *suggester) accept(i int) {
	if i < 0 || i >= len(s.items) {
		return
	}
	chosen := s.items[i]
	text := s.field.Text
	keep := text[:lastSeparator(text)+1]
	if keep != "" {
		keep = strings.TrimRight(keep, " ") + " "
	}
	s.close()
	s.field.SetText(keep + chosen.Text + ", ")
	s.field.CursorColumn = len([]rune(s.field.Text))
	s.field.Refresh()
	// A tapped row took the focus first; it comes back after the tap.
	fyne.Do(func() { s.w.win.Canvas().Focus(s.field) })
}

// left runs when the field lost the focus: the list closes, a moment
// later in case the focus went to a row being tapped.
func (s *suggester) left() {
	if !s.open() {
		return
	}
	if s.closing != nil {
		s.closing.Stop()
	}
	s.closing = time.AfterFunc(400*time.Millisecond, func() {
		s.w.do(func() {
			if s.w.win.Canvas().Focused() != fyne.Focusable(s.field) {
				s.close()
				if s.field.onLeft != nil {
					s.field.onLeft() // the check skipped while the list showed
				}
			}
		})
	})
}

// suggestionRow is one suggestion: a line to tap, highlighted when chosen.
type suggestionRow struct {
	widget.BaseWidget
	label *widget.Label
	bg    *canvas.Rectangle
	onTap func()
}

func newSuggestionRow(onTap func()) *suggestionRow {
	r := &suggestionRow{label: widget.NewLabel(""), bg: canvas.NewRectangle(color.Transparent), onTap: onTap}
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *suggestionRow) set(text string, chosen bool) {
	r.label.SetText(text)
	if chosen {
		r.bg.FillColor = theme.Color(theme.ColorNameSelection)
		r.label.TextStyle.Bold = true
	} else {
		r.bg.FillColor = color.Transparent
		r.label.TextStyle.Bold = false
	}
	r.bg.Refresh()
	r.label.Refresh()
}

func (r *suggestionRow) Tapped(*fyne.PointEvent) { r.onTap() }

func (r *suggestionRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(r.bg, r.label))
}

// countLabel says how many addresses a recipient field holds, when there
// are more than fit in it.
func countText(list string, field fyne.CanvasObject) string {
	addrs, err := mailer.ParseAddressList(list)
	n := len(addrs)
	if err != nil {
		n = strings.Count(list, ",") + strings.Count(list, ";") + 1
	}
	if n < 2 {
		return ""
	}
	width := fyne.MeasureText(list, theme.TextSize(), fyne.TextStyle{}).Width
	if width+4*theme.Padding() < field.Size().Width {
		return ""
	}
	return fmt.Sprintf("%d addresses", n)
}
