// Package editor is a multi-line text editor widget for Fyne that stays fast
// with long texts, for writing the body of a message.
package editor

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Editor is a multi-line, word-wrapping text editor. Unlike Fyne's multi-line
// Entry, which wraps the whole text again on every change, it wraps only the
// paragraph being edited and the lines in view, so a keystroke in a text of
// 5,000 lines costs about what it costs in one of 10 (about 5 us against
// Entry's 4 s; see bench_test.go).
//
// It looks and behaves like a focused multi-line Entry with word wrap: the
// keys, selection, clipboard, undo by words, placeholder and scroll bar.
// Tab types a tab; Shift+Tab and Ctrl+Tab (Ctrl+Shift+Tab) move the focus
// to the previous and next widget of the canvas the driver reports for the
// editor. Shortcuts it does not use, Ctrl+Enter for one, go on to the
// canvas. What it lacks: Fyne's GLFW driver has no input-method pre-edit
// (composed characters arrive whole, as with the Entry), the cursor does not
// blink, text is laid out left to right only, and there is no data binding,
// validation or password mode.
//
// Only the main goroutine may use it (use fyne.Do from others), as with every
// Fyne widget since 2.6.
type Editor struct {
	widget.DisableableWidget

	// OnChanged is called after every change the user makes (typing,
	// deleting, cutting, pasting, undo, redo), not after SetText. It carries
	// no text, since joining a long text on every keystroke is itself a cost:
	// call Text when the text is needed.
	OnChanged func()

	// OnCursorChanged is called when the cursor moved.
	OnCursorChanged func()

	doc     *document
	lay     *textLayout // nil until first needed: measuring needs the app
	history history

	cursor    pos
	atEnd     bool    // at a wrap point, show the cursor at the end of the upper line
	anchor    pos     // the other end of the selection, when selecting
	selecting bool    // anchor is set; the selection may still be empty
	wantX     float32 // the x that Up and Down keep to; negative if none

	placeholder string
	focused     bool
	shiftDown   bool
	dragStart   pos
	dragging    bool
	lastDouble  int64 // when the last double click was, for triple clicks

	text   string // cache of Text
	textOK bool

	r *editorRenderer // nil until the widget is first shown
}

// New returns an empty editor.
func New() *Editor {
	e := &Editor{doc: newDocument(""), wantX: -1, textOK: true}
	e.ExtendBaseWidget(e)
	return e
}

// Text returns the whole text, paragraphs joined by '\n'. It is cached until
// the next change; building it costs time in proportion to the text.
func (e *Editor) Text() string {
	if !e.textOK {
		e.text, e.textOK = e.doc.String(), true
	}
	return e.text
}

// Empty reports whether there is no text, without building it.
func (e *Editor) Empty() bool { return e.doc.isEmpty() }

// SetText replaces the text, clears the undo history, puts the cursor at the
// start and scrolls to the top. It does not call OnChanged. CR LF and CR
// become LF.
func (e *Editor) SetText(text string) {
	e.doc.set(text)
	e.text, e.textOK = normalizeNewlines(text), true
	e.history.clear()
	e.cursor, e.atEnd, e.selecting, e.wantX = pos{}, false, false, -1
	if e.lay != nil {
		e.lay.reset()
	}
	e.update(false)
	e.cursorMoved()
}

// SetPlaceHolder sets the text shown while the editor is empty.
func (e *Editor) SetPlaceHolder(text string) {
	e.placeholder = text
	e.update(false)
}

// PlaceHolder returns the text shown while the editor is empty.
func (e *Editor) PlaceHolder() string { return e.placeholder }

// CursorRow is the paragraph the cursor is in, counted from 0: the line
// number if the text did not wrap.
func (e *Editor) CursorRow() int { return e.cursor.para }

// CursorColumn is the cursor's offset in runes from the start of its
// paragraph.
func (e *Editor) CursorColumn() int { return e.cursor.col }

// SetCursor moves the cursor to a paragraph and rune offset (clamped to the
// text), clears the selection and scrolls the cursor into view.
func (e *Editor) SetCursor(row, column int) {
	e.moveTo(e.doc.clamp(pos{row, column}), false, false)
}

// SelectedText returns the selected text, or "" when nothing is selected.
func (e *Editor) SelectedText() string {
	a, b, ok := e.selection()
	if !ok {
		return ""
	}
	return e.doc.slice(a, b)
}

// Undo takes back the last change (typing is taken back a word at a time).
func (e *Editor) Undo() {
	ed, ok := e.history.undo()
	if !ok {
		return
	}
	e.apply(ed.start, advance(ed.start, ed.new), ed.old)
}

// Redo makes the last undone change again.
func (e *Editor) Redo() {
	ed, ok := e.history.redo()
	if !ok {
		return
	}
	e.apply(ed.start, advance(ed.start, ed.old), ed.new)
}

// MinSize is small and independent of the text: three lines of a few
// characters, like Fyne's multi-line Entry, so the editor never makes its
// window grow.
func (e *Editor) MinSize() fyne.Size {
	e.ExtendBaseWidget(e)
	return e.BaseWidget.MinSize()
}

// layout returns the layout, creating it on first use.
func (e *Editor) layout() *textLayout {
	if e.lay == nil {
		e.lay = newTextLayout(e.doc, e.newMeasurer())
		e.lay.reset()
	}
	return e.lay
}

func (e *Editor) newMeasurer() *measurer {
	return newMeasurer(e.Theme().Size(theme.SizeNameText), fyne.TextStyle{})
}

// selection returns the selected range in order; ok is false if there is none.
func (e *Editor) selection() (a, b pos, ok bool) {
	if !e.selecting || e.anchor == e.cursor {
		return e.cursor, e.cursor, false
	}
	a, b = ordered(e.anchor, e.cursor)
	return a, b, true
}

// replace is the one way the user changes the text: it replaces a..b with
// text, records the step for undo and puts the cursor after the new text.
func (e *Editor) replace(a, b pos, text string, typing bool) {
	if a == b && text == "" {
		return
	}
	old := ""
	if a != b {
		old = e.doc.slice(a, b)
	}
	e.history.add(edit{start: a, old: old, new: text, typing: typing})
	e.apply(a, b, text)
}

// apply changes the text without recording it (undo and redo use it).
func (e *Editor) apply(a, b pos, text string) {
	end, c := e.doc.replace(a, b, text)
	if e.lay != nil {
		e.lay.edited(c)
	}
	e.textOK = false
	e.cursor, e.atEnd, e.selecting, e.wantX = end, false, false, -1
	e.update(true)
	e.cursorMoved()
	if e.OnChanged != nil {
		e.OnChanged()
	}
}

// replaceSelection replaces the selection, or inserts at the cursor.
func (e *Editor) replaceSelection(text string, typing bool) {
	a, b, _ := e.selection()
	e.replace(a, b, text, typing)
}

// moveTo moves the cursor; extend keeps (or starts) the selection from
// where the cursor was. Up and Down set wantX again after it.
func (e *Editor) moveTo(p pos, atEnd, extend bool) {
	e.wantX = -1
	if extend && !e.selecting {
		e.anchor, e.selecting = e.cursor, true
	}
	if !extend {
		e.selecting = false
	}
	changed := p != e.cursor || atEnd != e.atEnd
	e.cursor, e.atEnd = p, atEnd
	e.update(true)
	if changed {
		e.cursorMoved()
	}
}

func (e *Editor) cursorMoved() {
	if e.OnCursorChanged != nil {
		e.OnCursorChanged()
	}
}

// update redraws what changed; show scrolls the cursor into view first.
func (e *Editor) update(show bool) {
	if e.r == nil {
		return
	}
	if show {
		l := e.layout()
		l.show(e.cursor.para, l.lineIndex(e.cursor, e.atEnd))
	}
	e.r.update()
}

// requestFocus asks the editor's canvas for the keyboard focus.
func (e *Editor) requestFocus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil && c.Focused() != e {
		c.Focus(e)
	}
}

// FocusGained is called by Fyne when the editor gets the keyboard focus.
func (e *Editor) FocusGained() {
	e.focused = true
	e.shiftDown = false
	e.Refresh()
}

// FocusLost is called by Fyne when the editor loses the keyboard focus.
func (e *Editor) FocusLost() {
	e.focused = false
	e.shiftDown = false
	e.dragging = false
	e.Refresh()
}

// AcceptsTab tells Fyne that Tab types a tab here rather than moving the
// focus. Shift+Tab and Ctrl+Tab still move it (see TypedKey, TypedShortcut).
func (e *Editor) AcceptsTab() bool { return true }
