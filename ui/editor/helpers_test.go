package editor

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

const (
	ctrl  = fyne.KeyModifierShortcutDefault
	shift = fyne.KeyModifierShift
)

// newTestEditor shows an editor holding text in a window of the given size
// and focuses it.
func newTestEditor(t testing.TB, text string, size fyne.Size) (*Editor, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	e := New()
	e.SetText(text)
	w := test.NewTempWindow(t, e)
	w.SetPadded(false)
	w.Resize(size)
	w.Canvas().Focus(e)
	return e, w
}

// key is one key press, with modifiers.
type key struct {
	mods fyne.KeyModifier
	name fyne.KeyName
}

func k(name fyne.KeyName) key                           { return key{0, name} }
func with(mods fyne.KeyModifier, name fyne.KeyName) key { return key{mods, name} }

// press delivers key presses to the focused widget of w's canvas the way
// Fyne's GLFW driver does (internal/driver/glfw/window.go): Shift goes down
// and up as a key of its own, Tab moves the focus unless the widget accepts
// tabs, Ctrl with Z, Y, C, X, V, A becomes the standard shortcut, any other
// modifier but Shift makes a desktop.CustomShortcut, and the rest is a
// TypedKey.
func press(t testing.TB, w fyne.Window, keys ...key) {
	t.Helper()
	c := w.Canvas()
	for _, kp := range keys {
		f := c.Focused()
		if f == nil {
			t.Fatalf("no focused widget for %v", kp)
		}
		keyable, _ := f.(desktop.Keyable)
		if kp.mods&shift != 0 && keyable != nil {
			keyable.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
		}
		other := kp.mods &^ shift
		var sc fyne.Shortcut
		if kp.mods == ctrl {
			switch kp.name {
			case fyne.KeyZ:
				sc = &fyne.ShortcutUndo{}
			case fyne.KeyY:
				sc = &fyne.ShortcutRedo{}
			case fyne.KeyV:
				sc = &fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()}
			case fyne.KeyC:
				sc = &fyne.ShortcutCopy{Clipboard: fyne.CurrentApp().Clipboard()}
			case fyne.KeyX:
				sc = &fyne.ShortcutCut{Clipboard: fyne.CurrentApp().Clipboard()}
			case fyne.KeyA:
				sc = &fyne.ShortcutSelectAll{}
			}
		}
		if sc == nil && other != 0 {
			sc = &desktop.CustomShortcut{KeyName: kp.name, Modifier: kp.mods}
		}
		tab, _ := f.(fyne.Tabbable)
		switch {
		case kp.name == fyne.KeyTab && other == 0 && (tab == nil || !tab.AcceptsTab()):
			if kp.mods == 0 {
				c.FocusNext()
			} else {
				c.FocusPrevious()
			}
		case sc != nil:
			if s, ok := f.(fyne.Shortcutable); ok {
				s.TypedShortcut(sc)
			}
		default:
			f.TypedKey(&fyne.KeyEvent{Name: kp.name})
		}
		if kp.mods&shift != 0 && keyable != nil {
			keyable.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
		}
	}
}

// lines makes a text of n numbered paragraphs of about 85 characters, 425 KB
// for 5,000.
func lines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "Line %d: the quick brown fox jumps over the lazy dog, again and again and again.", i)
	}
	return b.String()
}

// visualLines returns the text of each visual line of paragraph para.
func visualLines(e *Editor, para int) []string {
	return append([]string(nil), e.layout().ensure(para).lines...)
}

// typeText sends characters to the focused widget, as the GLFW driver does
// with what the keyboard (or a dead key, or an input method) produced.
func typeText(t testing.TB, w fyne.Window, s string) {
	t.Helper()
	f := w.Canvas().Focused()
	if f == nil {
		t.Fatal("no focused widget to type into")
	}
	for _, r := range s {
		f.TypedRune(r)
	}
}
