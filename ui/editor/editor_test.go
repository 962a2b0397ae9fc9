package editor

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

var wide = fyne.NewSize(600, 300)

func TestEditor_Typing(t *testing.T) {
	e, w := newTestEditor(t, "", wide)
	changes := 0
	e.OnChanged = func() { changes++ }
	typeText(t, w, "Grüße, é")
	if got := e.Text(); got != "Grüße, é" {
		t.Errorf("Text() = %q", got)
	}
	if e.CursorRow() != 0 || e.CursorColumn() != 8 {
		t.Errorf("cursor at %d:%d, want 0:8", e.CursorRow(), e.CursorColumn())
	}
	if changes != 8 {
		t.Errorf("OnChanged called %d times, want 8", changes)
	}
}

func TestEditor_Keys(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		row, col int // cursor before
		keys     []key
		want     string
		wantRow  int
		wantCol  int
		selected string
	}{
		{"Enter splits a paragraph", "hello world", 0, 5, []key{k(fyne.KeyReturn)}, "hello\n world", 1, 0, ""},
		{"keypad Enter too", "ab", 0, 1, []key{k(fyne.KeyEnter)}, "a\nb", 1, 0, ""},
		{"Backspace joins paragraphs", "one\ntwo", 1, 0, []key{k(fyne.KeyBackspace)}, "onetwo", 0, 3, ""},
		{"Backspace at the start does nothing", "one", 0, 0, []key{k(fyne.KeyBackspace)}, "one", 0, 0, ""},
		{"Delete joins paragraphs", "one\ntwo", 0, 3, []key{k(fyne.KeyDelete)}, "onetwo", 0, 3, ""},
		{"Delete at the end does nothing", "one", 0, 3, []key{k(fyne.KeyDelete)}, "one", 0, 3, ""},
		{"Left crosses paragraphs", "ab\ncd", 1, 0, []key{k(fyne.KeyLeft)}, "ab\ncd", 0, 2, ""},
		{"Right crosses paragraphs", "ab\ncd", 0, 2, []key{k(fyne.KeyRight)}, "ab\ncd", 1, 0, ""},
		{"Up keeps the column", "abcdef\nxy\nabcdef", 2, 4, []key{k(fyne.KeyUp), k(fyne.KeyUp)}, "abcdef\nxy\nabcdef", 0, 4, ""},
		{"Up on the first line goes to the start", "abc", 0, 2, []key{k(fyne.KeyUp)}, "abc", 0, 0, ""},
		{"Down on the last line goes to the end", "abc", 0, 1, []key{k(fyne.KeyDown)}, "abc", 0, 3, ""},
		{"Home and End", "hello", 0, 2, []key{k(fyne.KeyEnd)}, "hello", 0, 5, ""},
		{"Home", "hello", 0, 2, []key{k(fyne.KeyHome)}, "hello", 0, 0, ""},
		{"Ctrl+Right to the end of the word", "one two three", 0, 0, []key{with(ctrl, fyne.KeyRight), with(ctrl, fyne.KeyRight)}, "one two three", 0, 7, ""},
		{"Ctrl+Left to the start of the word", "one two three", 0, 13, []key{with(ctrl, fyne.KeyLeft)}, "one two three", 0, 8, ""},
		{"Ctrl+Left crosses paragraphs", "one\ntwo", 1, 0, []key{with(ctrl, fyne.KeyLeft)}, "one\ntwo", 0, 3, ""},
		{"Ctrl+Home", "a\nb\nc", 2, 1, []key{with(ctrl, fyne.KeyHome)}, "a\nb\nc", 0, 0, ""},
		{"Ctrl+End", "a\nb\nc", 0, 0, []key{with(ctrl, fyne.KeyEnd)}, "a\nb\nc", 2, 1, ""},
		{"Shift+Right selects", "hello", 0, 1, []key{with(shift, fyne.KeyRight), with(shift, fyne.KeyRight)}, "hello", 0, 3, "el"},
		{"Shift+Left selects across paragraphs", "ab\ncd", 1, 1, []key{with(shift, fyne.KeyLeft), with(shift, fyne.KeyLeft)}, "ab\ncd", 0, 2, "\nc"},
		{"Shift+Down selects", "ab\ncd", 0, 1, []key{with(shift, fyne.KeyDown)}, "ab\ncd", 1, 1, "b\nc"},
		{"Shift+End selects", "hello", 0, 2, []key{with(shift, fyne.KeyEnd)}, "hello", 0, 5, "llo"},
		{"Shift+Home selects", "hello", 0, 2, []key{with(shift, fyne.KeyHome)}, "hello", 0, 0, "he"},
		{"Ctrl+Shift+Right selects a word", "one two", 0, 0, []key{with(ctrl|shift, fyne.KeyRight)}, "one two", 0, 3, "one"},
		{"Ctrl+Shift+End selects to the end", "a\nbc", 0, 1, []key{with(ctrl|shift, fyne.KeyEnd)}, "a\nbc", 1, 2, "\nbc"},
		{"Ctrl+A selects all", "a\nbc", 0, 1, []key{with(ctrl, fyne.KeyA)}, "a\nbc", 1, 2, "a\nbc"},
		{"Left collapses a selection to its start", "hello", 0, 1, []key{with(shift, fyne.KeyRight), with(shift, fyne.KeyRight), k(fyne.KeyLeft)}, "hello", 0, 1, ""},
		{"Right collapses a selection to its end", "hello", 0, 3, []key{with(shift, fyne.KeyLeft), with(shift, fyne.KeyLeft), k(fyne.KeyRight)}, "hello", 0, 3, ""},
		{"Backspace deletes the selection", "hello", 0, 1, []key{with(shift, fyne.KeyEnd), k(fyne.KeyBackspace)}, "h", 0, 1, ""},
		{"Delete deletes a selection across paragraphs", "ab\ncd", 0, 1, []key{with(shift, fyne.KeyDown), k(fyne.KeyDelete)}, "ad", 0, 1, ""},
		{"Enter replaces the selection", "hello", 0, 1, []key{with(shift, fyne.KeyRight), k(fyne.KeyReturn)}, "h\nllo", 1, 0, ""},
		{"Ctrl+Backspace deletes a word", "one two", 0, 7, []key{with(ctrl, fyne.KeyBackspace)}, "one ", 0, 4, ""},
		{"Ctrl+Delete deletes a word", "one two", 0, 0, []key{with(ctrl, fyne.KeyDelete)}, " two", 0, 0, ""},
		{"Tab inserts a tab", "ab", 0, 1, []key{k(fyne.KeyTab)}, "a\tb", 0, 2, ""},
		{"Ctrl+Enter is not typed", "ab", 0, 1, []key{with(ctrl, fyne.KeyReturn)}, "ab", 0, 1, ""},
		{"unknown keys are ignored", "ab", 0, 1, []key{k(fyne.KeyF5), k(fyne.KeyEscape), with(ctrl, fyne.KeyQ)}, "ab", 0, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, w := newTestEditor(t, tc.text, wide)
			e.SetCursor(tc.row, tc.col)
			press(t, w, tc.keys...)
			if got := e.Text(); got != tc.want {
				t.Errorf("Text() = %q, want %q", got, tc.want)
			}
			if e.CursorRow() != tc.wantRow || e.CursorColumn() != tc.wantCol {
				t.Errorf("cursor at %d:%d, want %d:%d", e.CursorRow(), e.CursorColumn(), tc.wantRow, tc.wantCol)
			}
			if got := e.SelectedText(); got != tc.selected {
				t.Errorf("SelectedText() = %q, want %q", got, tc.selected)
			}
		})
	}
}

func TestEditor_Typing_replacesSelection(t *testing.T) {
	e, w := newTestEditor(t, "hello world", wide)
	e.SetCursor(0, 6)
	press(t, w, with(ctrl|shift, fyne.KeyRight))
	typeText(t, w, "there")
	if got := e.Text(); got != "hello there" {
		t.Errorf("Text() = %q", got)
	}
}

func TestEditor_Clipboard(t *testing.T) {
	e, w := newTestEditor(t, "one two\nthree", wide)
	clip := fyne.CurrentApp().Clipboard()

	e.SetCursor(0, 4)
	press(t, w, with(ctrl|shift, fyne.KeyEnd), with(ctrl, fyne.KeyC))
	if got := clip.Content(); got != "two\nthree" {
		t.Fatalf("copied %q", got)
	}
	if e.Text() != "one two\nthree" {
		t.Fatalf("copy changed the text to %q", e.Text())
	}

	press(t, w, with(ctrl, fyne.KeyX))
	if got := e.Text(); got != "one " {
		t.Errorf("after cut Text() = %q", got)
	}

	press(t, w, with(ctrl, fyne.KeyHome), with(ctrl, fyne.KeyV))
	if got := e.Text(); got != "two\nthreeone " {
		t.Errorf("after paste Text() = %q", got)
	}
	if e.CursorRow() != 1 || e.CursorColumn() != 5 {
		t.Errorf("cursor after paste at %d:%d, want 1:5", e.CursorRow(), e.CursorColumn())
	}

	clip.SetContent("a\r\nb\rc")
	press(t, w, with(ctrl, fyne.KeyV))
	if got := e.Text(); got != "two\nthreea\nb\ncone " {
		t.Errorf("pasting CR LF and CR: Text() = %q", got)
	}

	clip.SetContent("kept")
	press(t, w, with(ctrl, fyne.KeyC), with(ctrl, fyne.KeyX)) // nothing selected
	if clip.Content() != "kept" {
		t.Errorf("copy without a selection set the clipboard to %q", clip.Content())
	}
}

func TestEditor_UndoRedo(t *testing.T) {
	e, w := newTestEditor(t, "", wide)
	changes := 0
	e.OnChanged = func() { changes++ }
	typeText(t, w, "hello big world")

	steps := []struct {
		key  key
		want string
	}{
		{with(ctrl, fyne.KeyZ), "hello big"},
		{with(ctrl, fyne.KeyZ), "hello"},
		{with(ctrl, fyne.KeyZ), ""},
		{with(ctrl, fyne.KeyZ), ""},
		{with(ctrl, fyne.KeyY), "hello"},
		{with(ctrl|shift, fyne.KeyZ), "hello big"},
		{with(ctrl, fyne.KeyY), "hello big world"},
		{with(ctrl, fyne.KeyY), "hello big world"},
	}
	for i, s := range steps {
		press(t, w, s.key)
		if got := e.Text(); got != s.want {
			t.Fatalf("step %d: Text() = %q, want %q", i, got, s.want)
		}
	}
	if changes != 15+6 {
		t.Errorf("OnChanged called %d times, want %d", changes, 15+6)
	}
}

func TestEditor_UndoRedo_paragraphs(t *testing.T) {
	e, w := newTestEditor(t, "first\nsecond", wide)
	e.SetCursor(1, 0)
	press(t, w, k(fyne.KeyBackspace), k(fyne.KeyReturn), k(fyne.KeyReturn))
	if got := e.Text(); got != "first\n\nsecond" {
		t.Fatalf("Text() = %q", got)
	}
	fyne.CurrentApp().Clipboard().SetContent("x\ny")
	press(t, w, with(ctrl, fyne.KeyV))
	for _, want := range []string{"first\n\nx\nysecond", "first\n\nsecond", "first\nsecond", "firstsecond", "first\nsecond"} {
		if got := e.Text(); got != want {
			t.Fatalf("Text() = %q, want %q", got, want)
		}
		press(t, w, with(ctrl, fyne.KeyZ))
	}
	press(t, w, with(ctrl, fyne.KeyY), with(ctrl, fyne.KeyY), with(ctrl, fyne.KeyY))
	if got := e.Text(); got != "first\n\nsecond" {
		t.Errorf("after redo Text() = %q", got)
	}
}

func TestEditor_SetText(t *testing.T) {
	e, w := newTestEditor(t, "", wide)
	called := false
	e.OnChanged = func() { called = true }
	e.SetText("a\r\nb")
	if called {
		t.Error("SetText called OnChanged")
	}
	if got := e.Text(); got != "a\nb" {
		t.Errorf("Text() = %q", got)
	}
	press(t, w, with(ctrl, fyne.KeyZ))
	if got := e.Text(); got != "a\nb" {
		t.Errorf("undo went past SetText: %q", got)
	}
}

func TestEditor_Placeholder(t *testing.T) {
	e, w := newTestEditor(t, "", wide)
	e.SetPlaceHolder("Write your message")
	shown := func() string {
		for _, t := range e.r.holder {
			if t.Visible() {
				return t.Text
			}
		}
		return ""
	}
	if got := shown(); got != "Write your message" {
		t.Errorf("placeholder shows %q", got)
	}
	typeText(t, w, "x")
	if got := shown(); got != "" {
		t.Errorf("placeholder %q still shown with text", got)
	}
	press(t, w, k(fyne.KeyBackspace))
	if got := shown(); got != "Write your message" {
		t.Errorf("placeholder after deleting the text shows %q", got)
	}
}

// TestEditor_Focus checks Tab, Shift+Tab and Ctrl+Tab between an editor and
// the entries around it.
func TestEditor_Focus(t *testing.T) {
	test.NewTempApp(t)
	before, after := widget.NewEntry(), widget.NewEntry()
	e := New()
	w := test.NewTempWindow(t, container.NewVBox(before, e, after))
	w.Resize(fyne.NewSize(400, 400))
	c := w.Canvas()

	c.Focus(before)
	press(t, w, k(fyne.KeyTab))
	if c.Focused() != e {
		t.Fatalf("Tab from the entry before focused %T", c.Focused())
	}
	press(t, w, k(fyne.KeyTab))
	if c.Focused() != e || e.Text() != "\t" {
		t.Fatalf("Tab in the editor: focused %T, text %q", c.Focused(), e.Text())
	}
	press(t, w, with(shift, fyne.KeyTab))
	if c.Focused() != before {
		t.Errorf("Shift+Tab focused %T, want the entry before", c.Focused())
	}
	c.Focus(e)
	press(t, w, with(fyne.KeyModifierControl, fyne.KeyTab))
	if c.Focused() != after {
		t.Errorf("Ctrl+Tab focused %T, want the entry after", c.Focused())
	}
	c.Focus(e)
	press(t, w, with(fyne.KeyModifierControl|shift, fyne.KeyTab))
	if c.Focused() != before {
		t.Errorf("Ctrl+Shift+Tab focused %T, want the entry before", c.Focused())
	}
	if e.Text() != "\t" {
		t.Errorf("moving the focus typed: %q", e.Text())
	}
}

func TestEditor_FocusShowsCursorAndBorder(t *testing.T) {
	e, w := newTestEditor(t, "text", wide)
	if !e.r.cursor.Visible() {
		t.Error("no cursor when focused")
	}
	focusedBorder := e.r.border.StrokeColor
	w.Canvas().Unfocus()
	if e.r.cursor.Visible() {
		t.Error("cursor shown without focus")
	}
	if e.r.border.StrokeColor == focusedBorder {
		t.Error("the border looks the same with and without focus")
	}
}

func TestEditor_Disabled(t *testing.T) {
	e, w := newTestEditor(t, "text", wide)
	e.Disable()
	typeText(t, w, "x")
	press(t, w, k(fyne.KeyBackspace), k(fyne.KeyReturn), with(ctrl, fyne.KeyA), with(ctrl, fyne.KeyX))
	if got := e.Text(); got != "text" {
		t.Errorf("disabled editor changed to %q", got)
	}
	press(t, w, with(ctrl, fyne.KeyC))
	if got := fyne.CurrentApp().Clipboard().Content(); got != "text" {
		t.Errorf("copy from a disabled editor gave %q", got)
	}
}

func TestEditor_Mouse(t *testing.T) {
	e, w := newTestEditor(t, "alpha beta gamma\nsecond line", wide)
	l := e.layout()
	lh := l.lineH()
	at := func(para, col int) fyne.Position {
		x := l.x(para, 0, col) + e.Theme().Size(theme.SizeNameInnerPadding)
		top, _ := l.paraTop(para, 1000)
		return fyne.NewPos(x+1, top+lh/2+e.Theme().Size(theme.SizeNameInputBorder))
	}

	w.Canvas().Unfocus()
	e.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at(0, 6)}, Button: desktop.MouseButtonPrimary})
	if w.Canvas().Focused() != e {
		t.Error("a click did not focus the editor")
	}
	if e.CursorRow() != 0 || e.CursorColumn() != 6 {
		t.Errorf("click put the cursor at %d:%d, want 0:6", e.CursorRow(), e.CursorColumn())
	}

	to := at(1, 6)
	e.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.NewDelta(to.X-at(0, 6).X, to.Y-at(0, 6).Y)})
	e.DragEnd()
	if got := e.SelectedText(); got != "beta gamma\nsecond" {
		t.Errorf("drag selected %q", got)
	}

	e.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at(1, 3)}, Button: desktop.MouseButtonPrimary, Modifier: shift})
	if got := e.SelectedText(); got != "beta gamma\nsec" {
		t.Errorf("Shift+click changed the selection to %q", got)
	}

	e.DoubleTapped(&fyne.PointEvent{Position: at(0, 13)})
	if got := e.SelectedText(); got != "gamma" {
		t.Errorf("double click selected %q", got)
	}
	e.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: at(0, 13)}, Button: desktop.MouseButtonPrimary})
	if got := e.SelectedText(); got != "alpha beta gamma" {
		t.Errorf("triple click selected %q", got)
	}
}

// textWidth is the size of a window whose editor wraps text at width.
func textWidth(width float32) fyne.Size {
	return fyne.NewSize(width+2*theme.Current().Size(theme.SizeNameInnerPadding), 300)
}

func TestEditor_WordWrap(t *testing.T) {
	test.NewTempApp(t)
	// In Fyne's font at 14, "The quick brown fox " is 136 wide,
	// "The quick brown fox jumps" 177 and "jumps over the lazy dog" 157.
	const maxW = 150
	e, w := newTestEditor(t, "", textWidth(maxW))
	e.SetText("The quick brown fox jumps over the lazy dog\nSupercalifragilisticexpialidocious-and-more-and-more\n\tTabbed\n\nend  ")
	if got := e.layout().wrapW; got != maxW {
		t.Fatalf("wrap width %v, want %v", got, maxW)
	}
	for _, tc := range []struct {
		para int
		want []string
	}{
		{0, []string{"The quick brown fox ", "jumps over the lazy ", "dog"}},
		{1, nil}, // one long word: broken wherever it reaches the edge
		{2, []string{"\tTabbed"}},
		{3, []string{""}},
		{4, []string{"end  "}},
	} {
		got := visualLines(e, tc.para)
		for i, s := range got {
			if w := e.layout().m.width(strings.TrimRight(s, " ")); w > maxW {
				t.Errorf("paragraph %d line %d %q is %v wide, more than %v", tc.para, i, s, w, maxW)
			}
		}
		if strings.Join(got, "") != strings.Split(e.Text(), "\n")[tc.para] {
			t.Errorf("paragraph %d wraps as %q, which is not its text", tc.para, got)
		}
		if tc.want == nil {
			if len(got) < 2 {
				t.Errorf("paragraph %d not broken: %q", tc.para, got)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("paragraph %d wraps as %q, want %q", tc.para, got, tc.want)
		}
	}

	w.Resize(textWidth(400))
	if got := visualLines(e, 0); len(got) != 1 {
		t.Errorf("after widening, paragraph 0 wraps as %q", got)
	}
	w.Resize(textWidth(maxW))
	if got := visualLines(e, 0); len(got) != 3 {
		t.Errorf("after narrowing again, paragraph 0 wraps as %q", got)
	}
}

func TestEditor_WordWrap_cursorMovesByVisualLine(t *testing.T) {
	test.NewTempApp(t)
	e, w := newTestEditor(t, "The quick brown fox jumps over the lazy dog", textWidth(150))
	press(t, w, k(fyne.KeyDown))
	// Down lands on the second visual line, "jumps over the lazy ".
	if e.CursorRow() != 0 || e.CursorColumn() != 20 {
		t.Errorf("Down went to %d:%d, want 0:20", e.CursorRow(), e.CursorColumn())
	}
	press(t, w, k(fyne.KeyEnd))
	if e.CursorColumn() != 40 || !e.atEnd {
		t.Errorf("End went to column %d (at end %v), want 40 at the end of the visual line", e.CursorColumn(), e.atEnd)
	}
	if got := e.layout().lineIndex(e.cursor, e.atEnd); got != 1 {
		t.Errorf("cursor shown on visual line %d, want 1", got)
	}
	press(t, w, k(fyne.KeyHome))
	if e.CursorColumn() != 20 {
		t.Errorf("Home went to column %d, want 20", e.CursorColumn())
	}
	typeText(t, w, "X")
	if got := visualLines(e, 0); !slices.Equal(got, []string{"The quick brown fox ", "Xjumps over the lazy ", "dog"}) {
		t.Errorf("after typing, the paragraph wraps as %q", got)
	}
}

func TestEditor_ScrollKeepsCursorVisible(t *testing.T) {
	e, w := newTestEditor(t, lines(300), fyne.NewSize(600, 300))
	inView := func() bool {
		c := e.r.cursor
		return c.Visible() && c.Position().Y >= 0 && c.Position().Y+c.Size().Height <= e.layout().viewH
	}
	for _, step := range []struct {
		name string
		do   func()
	}{
		{"Ctrl+End", func() { press(t, w, with(ctrl, fyne.KeyEnd)) }},
		{"typing at the end", func() { typeText(t, w, "more") }},
		{"PageUp", func() { press(t, w, k(fyne.KeyPageUp), k(fyne.KeyPageUp)) }},
		{"Up", func() { press(t, w, k(fyne.KeyUp)) }},
		{"Ctrl+Home", func() { press(t, w, with(ctrl, fyne.KeyHome)) }},
		{"PageDown", func() { press(t, w, k(fyne.KeyPageDown)) }},
		{"Down many", func() {
			for range 40 {
				press(t, w, k(fyne.KeyDown))
			}
		}},
		{"Enter many", func() {
			for range 30 {
				press(t, w, k(fyne.KeyReturn))
			}
		}},
	} {
		step.do()
		if !inView() {
			t.Errorf("after %s the cursor (%d:%d) is out of view at %v", step.name, e.CursorRow(), e.CursorColumn(), e.r.cursor.Position())
		}
	}
	if e.CursorRow() < 290 && e.layout().topPara == 0 {
		t.Error("the view did not scroll")
	}
}

func TestEditor_Scrolled(t *testing.T) {
	e, w := newTestEditor(t, lines(300), fyne.NewSize(600, 300))
	test.Scroll(w.Canvas(), fyne.NewPos(100, 100), 0, -200)
	l := e.layout()
	if l.scrollTop() < 199 || l.scrollTop() > 201 {
		t.Errorf("wheel scrolled to %v, want 200", l.scrollTop())
	}
	if e.CursorRow() != 0 || e.CursorColumn() != 0 {
		t.Error("the wheel moved the cursor")
	}
	if e.r.cursor.Visible() {
		t.Error("cursor scrolled out of view still drawn")
	}
	if !e.r.bar.Visible() {
		t.Error("no scroll bar")
	}
	test.Scroll(w.Canvas(), fyne.NewPos(100, 100), 0, 1e6)
	if l.scrollTop() != 0 {
		t.Errorf("scrolled past the top to %v", l.scrollTop())
	}
	test.Scroll(w.Canvas(), fyne.NewPos(100, 100), 0, -1e7)
	if max := l.contentHeight() - l.viewH; l.scrollTop() < max-1 || l.scrollTop() > max+1 {
		t.Errorf("scrolled to %v, want the end at %v", l.scrollTop(), max)
	}
}

func TestEditor_MinSize(t *testing.T) {
	e, _ := newTestEditor(t, "", wide)
	small := e.MinSize()
	e.SetText(lines(500))
	if got := e.MinSize(); got != small {
		t.Errorf("MinSize grew with the text from %v to %v", small, got)
	}
	if small.Width > 60 || small.Height > 100 {
		t.Errorf("MinSize %v is not small", small)
	}
}

func TestEditor_ContextMenu(t *testing.T) {
	e, w := newTestEditor(t, "one two", wide)
	test.TapSecondary(e)
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("right click showed no menu")
	}
	items := map[string]*fyne.MenuItem{}
	for _, it := range e.contextMenu().Items {
		items[it.Label] = it
	}
	if it := items["Copy"]; it == nil || !it.Disabled {
		t.Errorf("Copy without a selection: %+v", it)
	}
	items["Select all"].Action()
	if got := e.SelectedText(); got != "one two" {
		t.Errorf("Select all selected %q", got)
	}
}

func TestEditor_ScrollBar(t *testing.T) {
	e, _ := newTestEditor(t, lines(300), fyne.NewSize(600, 300))
	l, bar := e.layout(), e.r.bar
	if !bar.Visible() || bar.thumbLen <= 0 || bar.thumbLen >= bar.Size().Height {
		t.Fatalf("scroll bar visible %v, thumb %v of %v", bar.Visible(), bar.thumbLen, bar.Size().Height)
	}
	bar.Dragged(&fyne.DragEvent{Dragged: fyne.NewDelta(0, (bar.Size().Height-bar.thumbLen)/2)})
	bar.DragEnd()
	half := (l.contentHeight() - l.viewH) / 2
	if got := l.scrollTop(); got < half*0.8 || got > half*1.2 {
		t.Errorf("dragging the thumb half way scrolled to %v, want about %v", got, half)
	}
	if top := bar.thumbTop; top < (bar.Size().Height-bar.thumbLen)*0.4 {
		t.Errorf("thumb at %v after the drag", top)
	}
	bar.Tapped(&fyne.PointEvent{Position: fyne.NewPos(1, bar.Size().Height-1)})
	if got, end := l.scrollTop(), l.contentHeight()-l.viewH; got < end-1 {
		t.Errorf("clicking the bottom of the track scrolled to %v, want the end %v", got, end)
	}
}

// bigText is the default theme with a larger text size.
type bigText struct{ fyne.Theme }

func (bigText) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return 28
	}
	return theme.DefaultTheme().Size(n)
}

func TestEditor_ThemeTextSize(t *testing.T) {
	e, _ := newTestEditor(t, "The quick brown fox jumps over the lazy dog", textWidth(300))
	if n := len(visualLines(e, 0)); n != 1 {
		t.Fatalf("%d lines at the default size", n)
	}
	lh := e.layout().lineH()
	fyne.CurrentApp().Settings().SetTheme(bigText{theme.DefaultTheme()})
	e.Refresh()
	if got := e.layout().lineH(); got <= lh*1.5 {
		t.Errorf("line height %v at text size 28, was %v", got, lh)
	}
	if n := len(visualLines(e, 0)); n < 2 {
		t.Errorf("the text did not wrap again at size 28: %d line", n)
	}
	if got := e.r.texts[0].TextSize; got != 28 {
		t.Errorf("text drawn at size %v", got)
	}
}

// TestEditor_BorderAtScale draws the focused editor at scale 1.5 and looks
// for the focus border along its bottom edge (Fyne clips a Scrollable to its
// bounds, which once cut that edge off).
func TestEditor_BorderAtScale(t *testing.T) {
	test.NewTempApp(t).Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	e := New()
	w := test.NewTempWindow(t, e)
	w.Resize(fyne.NewSize(340, 330))
	w.Canvas().Focus(e)
	setScale(w, 1.5)
	img := w.Canvas().Capture()
	wr, wg, wb, _ := e.r.border.StrokeColor.RGBA()
	bottom := int((e.Position().Y + e.Size().Height) * 1.5)
	found := false
	for y := bottom - 4; y <= bottom; y++ {
		r, g, b, _ := img.At(img.Bounds().Dx()/2, y).RGBA()
		if r>>8 == wr>>8 && g>>8 == wg>>8 && b>>8 == wb>>8 {
			found = true
		}
	}
	if !found {
		t.Error("no focus border along the bottom edge at scale 1.5")
	}
}
