package editor

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The benchmarks show the widget in a test window of 800×680, the size
// measured in FACTS.md, and send events through the window's canvas to the
// focused widget as the GLFW driver does, so each operation includes the
// widget's refresh and layout. Painting is left out except in the Frame
// benchmarks: the test driver paints in software, 40 to 60 ms a frame at
// this size, where the GL driver redraws only the text that changed.
//
// A keystroke alternates typing a letter and Backspace in the middle of the
// first line, so the text keeps its length.
//
// Fyne's Entry at 5,000 lines takes ten minutes to set up; set
// EDITOR_BENCH_ENTRY_5000=1 to include it.
//
// Measured on 2 cores (Xeon, Go 1.26.8, Fyne 2.8.1), ns/op:
//
//	                          Editor          Entry (word wrap)
//	Keystroke lines=10          3,910           107,099
//	Keystroke lines=400             -        24,845,371
//	Keystroke lines=1000        5,150       143,266,788
//	Keystroke lines=5000        5,153     4,159,262,495
//	Typing (uncached) 10       25,493
//	Typing (uncached) 5000     26,234
//	Enter lines=10              4,411
//	Enter lines=5000            6,700
//	One 425 KB paragraph      322,517
//	Paste 5,000 lines         380,460
//	SetText 10 lines           13,475            66,824
//	SetText 5,000 lines       277,102     8,051,952,089
//	Keystroke+frame 10     39,328,857        43,713,901
//	Keystroke+frame 400             -       227,488,065
//	Keystroke+frame 5000   56,724,425
//	Paste 5,000 + frame    51,472,729

var benchSize = fyne.NewSize(800, 680)

func BenchmarkKeystroke(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e, w := newTestEditor(b, lines(n), benchSize)
			e.SetCursor(0, 10)
			keystrokes(b, w, false)
		})
	}
}

// BenchmarkTyping types prose, new words each time (so no measurement is
// cached), pressing Enter every 70 characters, near the top of the text.
func BenchmarkTyping(b *testing.B) {
	for _, n := range []int{10, 5000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e, w := newTestEditor(b, lines(n), benchSize)
			e.SetCursor(1, 0)
			f := w.Canvas().Focused()
			prose := []rune(fmt.Sprint(rand.Perm(b.N + 100)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%70 == 69 {
					f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
					continue
				}
				f.TypedRune(prose[i])
			}
		})
	}
}

// BenchmarkKeystrokeLongParagraph types into one paragraph of 425 KB (5,000
// lines joined by spaces): the edit moves the paragraph's runes, and only
// the visual lines around it are wrapped again.
func BenchmarkKeystrokeLongParagraph(b *testing.B) {
	e, w := newTestEditor(b, strings.ReplaceAll(lines(5000), "\n", " "), benchSize)
	e.SetCursor(0, 10)
	keystrokes(b, w, false)
}

// BenchmarkEnter splits a paragraph and joins it again (Enter, Backspace):
// paragraphs are added and removed, which costs a pass over the line counts.
func BenchmarkEnter(b *testing.B) {
	for _, n := range []int{10, 5000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e, w := newTestEditor(b, lines(n), benchSize)
			e.SetCursor(0, 10)
			f := w.Canvas().Focused()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				name := fyne.KeyReturn
				if i%2 == 1 {
					name = fyne.KeyBackspace
				}
				f.TypedKey(&fyne.KeyEvent{Name: name})
			}
		})
	}
}

func BenchmarkEntryKeystroke(b *testing.B) {
	for _, n := range entryLines() {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			_, w := newTestEntry(b, lines(n))
			keystrokes(b, w, false)
		})
	}
}

// BenchmarkKeystrokeFrame adds painting a frame with the test driver's
// software painter to each keystroke.
func BenchmarkKeystrokeFrame(b *testing.B) {
	for _, n := range []int{10, 5000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e, w := newTestEditor(b, lines(n), benchSize)
			e.SetCursor(0, 10)
			keystrokes(b, w, true)
		})
	}
}

func BenchmarkEntryKeystrokeFrame(b *testing.B) {
	for _, n := range []int{10, 400} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			_, w := newTestEntry(b, lines(n))
			keystrokes(b, w, true)
		})
	}
}

func keystrokes(b *testing.B, w fyne.Window, paint bool) {
	c := w.Canvas()
	f := c.Focused()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			f.TypedRune('x')
		} else {
			f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		}
		if paint {
			c.Capture()
		}
	}
}

// BenchmarkPaste5000Lines pastes 5,000 lines (425 KB) into an empty editor.
func BenchmarkPaste5000Lines(b *testing.B) {
	e, w := newTestEditor(b, "", benchSize)
	text := lines(5000)
	paste := &fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()}
	paste.Clipboard.SetContent(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.SetText("")
		b.StartTimer()
		w.Canvas().Focused().(fyne.Shortcutable).TypedShortcut(paste)
	}
	b.StopTimer()
	if e.CursorRow() != 4999 {
		b.Fatalf("pasted %d lines", e.CursorRow()+1)
	}
}

// BenchmarkPaste5000LinesFrame is the paste and the first frame painted.
func BenchmarkPaste5000LinesFrame(b *testing.B) {
	e, w := newTestEditor(b, "", benchSize)
	paste := &fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()}
	paste.Clipboard.SetContent(lines(5000))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.SetText("")
		b.StartTimer()
		w.Canvas().Focused().(fyne.Shortcutable).TypedShortcut(paste)
		w.Canvas().Capture()
	}
}

func BenchmarkSetText10Lines(b *testing.B)   { benchSetText(b, 10) }
func BenchmarkSetText5000Lines(b *testing.B) { benchSetText(b, 5000) }

// benchSetText sets a text into a shown editor; the layout of what is in view
// is part of SetText.
func benchSetText(b *testing.B, n int) {
	e, _ := newTestEditor(b, "", benchSize)
	texts := [2]string{lines(n), "Re: " + lines(n)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.SetText(texts[i%2])
	}
}

func BenchmarkEntrySetText(b *testing.B) {
	for _, n := range entryLines() {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e, _ := newTestEntry(b, "")
			texts := [2]string{lines(n), "Re: " + lines(n)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.SetText(texts[i%2])
			}
		})
	}
}

func entryLines() []int {
	if os.Getenv("EDITOR_BENCH_ENTRY_5000") != "" {
		return []int{10, 400, 1000, 5000}
	}
	return []int{10, 400, 1000}
}

// newTestEntry is the widget Editor replaces: Fyne's multi-line Entry with
// word wrap, the cursor in the middle of the first line.
func newTestEntry(b *testing.B, text string) (*widget.Entry, fyne.Window) {
	test.NewTempApp(b)
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	e.SetText(text)
	w := test.NewTempWindow(b, e)
	w.SetPadded(false)
	w.Resize(benchSize)
	w.Canvas().Focus(e)
	e.CursorRow, e.CursorColumn = 0, 10
	e.Refresh()
	return e, w
}
