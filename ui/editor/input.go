package editor

import (
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

var (
	_ fyne.Focusable         = (*Editor)(nil)
	_ fyne.Tabbable          = (*Editor)(nil)
	_ fyne.Shortcutable      = (*Editor)(nil)
	_ fyne.Disableable       = (*Editor)(nil)
	_ fyne.Tappable          = (*Editor)(nil)
	_ fyne.DoubleTappable    = (*Editor)(nil)
	_ fyne.SecondaryTappable = (*Editor)(nil)
	_ fyne.Draggable         = (*Editor)(nil)
	_ desktop.Keyable        = (*Editor)(nil)
	_ desktop.Mouseable      = (*Editor)(nil)
	_ desktop.Cursorable     = (*Editor)(nil)
)

// TypedRune inserts a character typed (or composed with dead keys) by the
// user, replacing the selection.
func (e *Editor) TypedRune(r rune) {
	if e.Disabled() || (r < ' ' && r != '\t' && r != '\n') || r == 0x7f {
		return
	}
	e.replaceSelection(string(r), true)
}

// KeyDown tracks Shift, which extends the selection with the movement keys.
func (e *Editor) KeyDown(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		e.shiftDown = true
	}
}

// KeyUp tracks Shift.
func (e *Editor) KeyUp(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		e.shiftDown = false
	}
}

// shift reports whether Shift is held, from the key events seen and, on a
// desktop driver, from the driver (Shift may have gone down before the
// editor had the focus).
func (e *Editor) shift() bool {
	if e.shiftDown {
		return true
	}
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()&fyne.KeyModifierShift != 0
	}
	return false
}

// TypedKey handles editing and movement keys. Keys it does not know are
// ignored.
func (e *Editor) TypedKey(ev *fyne.KeyEvent) {
	shift := e.shift()
	switch ev.Name {
	case fyne.KeyTab:
		if shift {
			e.focusMove(false) // Shift+Tab: the field before
		} else {
			e.TypedRune('\t')
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if !e.Disabled() {
			e.replaceSelection("\n", true)
		}
	case fyne.KeyBackspace:
		e.deleteBack(e.prevPos)
	case fyne.KeyDelete:
		e.deleteForward(e.nextPos)
	case fyne.KeyLeft:
		if a, _, ok := e.selection(); ok && !shift {
			e.moveTo(a, false, false)
			break
		}
		e.moveTo(e.prevPos(e.cursor), false, shift)
	case fyne.KeyRight:
		if _, b, ok := e.selection(); ok && !shift {
			e.moveTo(b, false, false)
			break
		}
		e.moveTo(e.nextPos(e.cursor), false, shift)
	case fyne.KeyUp:
		e.moveLines(-1, shift)
	case fyne.KeyDown:
		e.moveLines(1, shift)
	case fyne.KeyPageUp:
		e.movePage(-1, shift)
	case fyne.KeyPageDown:
		e.movePage(1, shift)
	case fyne.KeyHome:
		l := e.layout()
		start, _ := l.lineRange(e.cursor.para, l.lineIndex(e.cursor, e.atEnd))
		e.moveTo(pos{e.cursor.para, start}, false, shift)
	case fyne.KeyEnd:
		l := e.layout()
		line := l.lineIndex(e.cursor, e.atEnd)
		_, end := l.lineRange(e.cursor.para, line)
		wrapped := line+1 < len(l.ensure(e.cursor.para).starts)
		e.moveTo(pos{e.cursor.para, end}, wrapped, shift)
	}
}

// TypedShortcut handles the clipboard, undo, select all, moving by word and
// to the ends of the text, and Ctrl+Tab. Any other shortcut (Ctrl+Enter, for
// one) goes on to the shortcuts registered on the canvas, so the editor
// swallows nothing it does not use; shortcuts of the window's main menu
// never reach it, Fyne checks those first.
func (e *Editor) TypedShortcut(s fyne.Shortcut) {
	switch s := s.(type) {
	case *fyne.ShortcutCopy:
		if text := e.SelectedText(); text != "" {
			clipboardOf(s.Clipboard).SetContent(text)
		}
	case *fyne.ShortcutCut:
		if text := e.SelectedText(); text != "" && !e.Disabled() {
			clipboardOf(s.Clipboard).SetContent(text)
			e.replaceSelection("", false)
		}
	case *fyne.ShortcutPaste:
		if !e.Disabled() {
			e.paste(clipboardOf(s.Clipboard).Content())
		}
	case *fyne.ShortcutSelectAll:
		e.selectAll()
	case *fyne.ShortcutUndo:
		if !e.Disabled() {
			e.Undo()
		}
	case *fyne.ShortcutRedo:
		if !e.Disabled() {
			e.Redo()
		}
	case *desktop.CustomShortcut:
		if !e.customShortcut(s) {
			e.passOn(s)
		}
	default:
		e.passOn(s)
	}
}

// clipboardOf is the clipboard a shortcut carries; Fyne's drivers always
// set it, a caller that builds a shortcut by hand may not.
func clipboardOf(c fyne.Clipboard) fyne.Clipboard {
	if c != nil {
		return c
	}
	return fyne.CurrentApp().Clipboard()
}

// passOn gives a shortcut the editor does not use to the canvas' own
// shortcuts (canvas.AddShortcut), which a focused widget would otherwise hide.
func (e *Editor) passOn(s fyne.Shortcut) {
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if sc, ok := c.(fyne.Shortcutable); ok {
		sc.TypedShortcut(s)
	}
}

// wordModifier moves by word with the arrows: Ctrl, or Alt on macOS.
var wordModifier = func() fyne.KeyModifier {
	if runtime.GOOS == "darwin" {
		return fyne.KeyModifierAlt
	}
	return fyne.KeyModifierShortcutDefault
}()

func (e *Editor) customShortcut(s *desktop.CustomShortcut) bool {
	extend := s.Modifier&fyne.KeyModifierShift != 0
	mod := s.Modifier &^ fyne.KeyModifierShift
	ctrl := fyne.KeyModifierShortcutDefault
	switch {
	case s.KeyName == fyne.KeyTab && mod == fyne.KeyModifierControl:
		e.focusMove(!extend) // Ctrl+Tab and Ctrl+Shift+Tab
	case s.KeyName == fyne.KeyZ && mod == ctrl && extend:
		if !e.Disabled() {
			e.Redo()
		}
	case (s.KeyName == fyne.KeyLeft || s.KeyName == fyne.KeyRight) && mod == wordModifier:
		if s.KeyName == fyne.KeyLeft {
			e.moveTo(e.wordStart(e.cursor), false, extend)
		} else {
			e.moveTo(e.wordEnd(e.cursor), false, extend)
		}
	case (s.KeyName == fyne.KeyBackspace || s.KeyName == fyne.KeyDelete) && mod == wordModifier && !extend:
		if s.KeyName == fyne.KeyBackspace {
			e.deleteBack(e.wordStart)
		} else {
			e.deleteForward(e.wordEnd)
		}
	case (s.KeyName == fyne.KeyHome || s.KeyName == fyne.KeyUp && runtime.GOOS == "darwin") && mod == ctrl:
		e.moveTo(pos{}, false, extend)
	case (s.KeyName == fyne.KeyEnd || s.KeyName == fyne.KeyDown && runtime.GOOS == "darwin") && mod == ctrl:
		e.moveTo(e.doc.end(), false, extend)
	case runtime.GOOS == "darwin" && mod == fyne.KeyModifierSuper && (s.KeyName == fyne.KeyLeft || s.KeyName == fyne.KeyRight):
		if extend {
			e.shiftDown = true // Cmd+Shift+arrow arrives as a shortcut
			defer func() { e.shiftDown = false }()
		}
		if s.KeyName == fyne.KeyLeft {
			e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
		} else {
			e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
		}
	default:
		return false
	}
	return true
}

// focusMove moves the keyboard focus to the next (or previous) widget of
// the editor's canvas, found through the app's driver.
func (e *Editor) focusMove(next bool) {
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if c == nil {
		return
	}
	if next {
		c.FocusNext()
	} else {
		c.FocusPrevious()
	}
}

func (e *Editor) paste(text string) {
	text = normalizeNewlines(text)
	if text == "" {
		return
	}
	e.replaceSelection(text, false)
}

func (e *Editor) selectAll() {
	e.anchor, e.selecting = pos{}, true
	e.cursor, e.atEnd, e.wantX = e.doc.end(), false, -1
	e.update(false) // like most editors, and unlike Entry, stay where the view is
	e.cursorMoved()
}

// deleteBack deletes the selection, or from where to(cursor) is to the cursor.
func (e *Editor) deleteBack(to func(pos) pos) {
	if e.Disabled() {
		return
	}
	if a, b, ok := e.selection(); ok {
		e.replace(a, b, "", false)
		return
	}
	e.replace(to(e.cursor), e.cursor, "", true)
}

func (e *Editor) deleteForward(to func(pos) pos) {
	if e.Disabled() {
		return
	}
	if a, b, ok := e.selection(); ok {
		e.replace(a, b, "", false)
		return
	}
	e.replace(e.cursor, to(e.cursor), "", true)
}

// prevPos is one character left of p; the start of the text stays.
func (e *Editor) prevPos(p pos) pos {
	switch {
	case p.col > 0:
		return pos{p.para, p.col - 1}
	case p.para > 0:
		return pos{p.para - 1, e.doc.paraLen(p.para - 1)}
	}
	return p
}

// nextPos is one character right of p; the end of the text stays.
func (e *Editor) nextPos(p pos) pos {
	switch {
	case p.col < e.doc.paraLen(p.para):
		return pos{p.para, p.col + 1}
	case p.para < len(e.doc.paras)-1:
		return pos{p.para + 1, 0}
	}
	return p
}

// wordStart is the start of the word left of p, or the end of the previous
// paragraph from a paragraph's start.
func (e *Editor) wordStart(p pos) pos {
	if p.col == 0 {
		return e.prevPos(p)
	}
	r := e.doc.paras[p.para].text()
	i := p.col
	for i > 0 && isWordSeparator(r[i-1]) {
		i--
	}
	for i > 0 && !isWordSeparator(r[i-1]) {
		i--
	}
	return pos{p.para, i}
}

// wordEnd is the end of the word right of p, or the start of the next
// paragraph from a paragraph's end.
func (e *Editor) wordEnd(p pos) pos {
	r := e.doc.paras[p.para].text()
	if p.col == len(r) {
		return e.nextPos(p)
	}
	i := p.col
	for i < len(r) && isWordSeparator(r[i]) {
		i++
	}
	for i < len(r) && !isWordSeparator(r[i]) {
		i++
	}
	return pos{p.para, i}
}

// moveLines moves the cursor n visual lines up (negative) or down, keeping
// to the column the cursor was at before it first moved up or down.
func (e *Editor) moveLines(n int, extend bool) {
	if !extend && e.selecting {
		e.selecting = false
	}
	l := e.layout()
	para, line := e.cursor.para, l.lineIndex(e.cursor, e.atEnd)
	if e.wantX < 0 {
		e.wantX = l.x(para, line, e.cursor.col)
	}
	want := e.wantX
	for ; n < 0; n++ {
		switch {
		case line > 0:
			line--
		case para > 0:
			para--
			line = l.ensure(para).count - 1
		default:
			e.moveTo(pos{}, false, extend)
			e.wantX = want
			return
		}
	}
	for ; n > 0; n-- {
		switch {
		case line < l.ensure(para).count-1:
			line++
		case para < len(e.doc.paras)-1:
			para, line = para+1, 0
		default:
			e.moveTo(e.doc.end(), false, extend)
			e.wantX = want
			return
		}
	}
	col, atEnd := l.hit(para, line, want)
	e.moveTo(pos{para, col}, atEnd, extend)
	e.wantX = want
}

// movePage scrolls a page and moves the cursor by as many lines.
func (e *Editor) movePage(dir int, extend bool) {
	l := e.layout()
	lines := max(1, int(l.viewH/l.lineH())-1)
	l.scrollBy(float32(dir*lines) * l.lineH())
	e.moveLines(dir*lines, extend)
}

// scrolled scrolls the text with the mouse wheel or touchpad. The editor is
// not itself Scrollable (Fyne would clip its border to its bounds); its
// view is, and passes the event here.
func (e *Editor) scrolled(ev *fyne.ScrollEvent) {
	if e.r == nil {
		return
	}
	e.layout().scrollBy(-ev.Scrolled.DY)
	e.update(false)
}

// Cursor is the mouse pointer shape over the editor.
func (e *Editor) Cursor() desktop.Cursor { return desktop.TextCursor }

// posAt is the text position under a point in the editor's coordinates.
func (e *Editor) posAt(p fyne.Position) (pos, bool) {
	th := e.Theme()
	l := e.layout()
	pl := l.at(p.Y - th.Size(theme.SizeNameInputBorder))
	col, atEnd := l.hit(pl.para, pl.line, p.X-th.Size(theme.SizeNameInnerPadding))
	return pos{pl.para, col}, atEnd
}

// MouseDown puts the cursor where the user clicked (Shift extends the
// selection; a third click selects the paragraph) and takes the focus.
func (e *Editor) MouseDown(ev *desktop.MouseEvent) {
	e.requestFocus()
	if ev.Button != desktop.MouseButtonPrimary || e.r == nil {
		return
	}
	if time.Now().UnixMilli()-e.lastDouble <= fyne.CurrentApp().Driver().DoubleTapDelay().Milliseconds() {
		e.lastDouble = 0
		e.selectParagraph(e.cursor.para)
		return
	}
	p, atEnd := e.posAt(ev.Position)
	extend := ev.Modifier&fyne.KeyModifierShift != 0 || e.shiftDown
	e.moveTo(p, atEnd, extend)
	e.dragStart = p
	if !extend {
		e.anchor = p
	}
}

// MouseUp ends a click.
func (e *Editor) MouseUp(*desktop.MouseEvent) {}

// Tapped is handled by MouseDown.
func (e *Editor) Tapped(*fyne.PointEvent) {}

// Dragged selects from where the mouse went down to where it is, scrolling
// when it is dragged past the top or bottom.
func (e *Editor) Dragged(ev *fyne.DragEvent) {
	if e.r == nil {
		return
	}
	if !e.dragging {
		e.dragging = true
		if !e.selecting {
			e.anchor, e.selecting = e.dragStart, true
		}
	}
	l := e.layout()
	border := e.Theme().Size(theme.SizeNameInputBorder)
	if y := ev.Position.Y - border; y < 0 {
		l.scrollBy(max(y, -l.lineH()))
	} else if y > l.viewH {
		l.scrollBy(min(y-l.viewH, l.lineH()))
	}
	p, atEnd := e.posAt(ev.Position)
	e.cursor, e.atEnd, e.wantX = p, atEnd, -1
	e.update(false)
	e.cursorMoved()
}

// DragEnd ends a selection by mouse.
func (e *Editor) DragEnd() {
	e.dragging = false
}

// DoubleTapped selects the word (or the run of spaces or punctuation) under
// the pointer.
func (e *Editor) DoubleTapped(ev *fyne.PointEvent) {
	if e.r == nil {
		return
	}
	e.lastDouble = time.Now().UnixMilli()
	p, _ := e.posAt(ev.Position)
	r := e.doc.paras[p.para].text()
	if len(r) == 0 {
		return
	}
	i := min(p.col, len(r)-1)
	class := charClass(r[i])
	start, end := i, i+1
	for start > 0 && charClass(r[start-1]) == class {
		start--
	}
	for end < len(r) && charClass(r[end]) == class {
		end++
	}
	e.anchor, e.selecting = pos{p.para, start}, true
	e.cursor, e.atEnd, e.wantX = pos{p.para, end}, false, -1
	e.update(true)
	e.cursorMoved()
}

func (e *Editor) selectParagraph(para int) {
	e.anchor, e.selecting = pos{para, 0}, true
	e.cursor, e.atEnd, e.wantX = pos{para, e.doc.paraLen(para)}, false, -1
	e.update(true)
	e.cursorMoved()
}

func charClass(r rune) int {
	switch {
	case breaksLine(r):
		return 0
	case isWordSeparator(r):
		return 1
	}
	return 2
}

// TappedSecondary opens the context menu.
func (e *Editor) TappedSecondary(ev *fyne.PointEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if c == nil {
		return
	}
	e.requestFocus()
	widget.ShowPopUpMenuAtPosition(e.contextMenu(), c, ev.AbsolutePosition)
}

// contextMenu offers undo, redo, cut, copy, paste and select all. Its
// clipboard is the app's, as in Fyne's Entry.
func (e *Editor) contextMenu() *fyne.Menu {
	clip := fyne.CurrentApp().Clipboard()
	enabled := !e.Disabled()
	hasSel := e.SelectedText() != ""
	item := func(label string, on bool, do func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, do)
		it.Disabled = !on
		return it
	}
	return fyne.NewMenu("",
		item("Undo", enabled && e.history.canUndo(), e.Undo),
		item("Redo", enabled && e.history.canRedo(), e.Redo),
		fyne.NewMenuItemSeparator(),
		item("Cut", enabled && hasSel, func() { e.TypedShortcut(&fyne.ShortcutCut{Clipboard: clip}) }),
		item("Copy", hasSel, func() { e.TypedShortcut(&fyne.ShortcutCopy{Clipboard: clip}) }),
		item("Paste", enabled, func() { e.TypedShortcut(&fyne.ShortcutPaste{Clipboard: clip}) }),
		item("Select all", true, e.selectAll),
	)
}
