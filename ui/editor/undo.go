package editor

import (
	"strings"
	"unicode"
)

// maxUndo bounds the history; the oldest steps are forgotten first.
const maxUndo = 1000

// edit is one undoable step: at start, old was replaced by new.
type edit struct {
	start    pos
	old, new string
	// typing marks a step that later keystrokes may extend, so that undo
	// takes back a word at a time rather than a letter.
	typing bool
}

// history is the undo stack; steps[:index] can be undone and steps[index:]
// redone.
type history struct {
	steps []edit
	index int
}

func (h *history) clear() {
	h.steps = h.steps[:0]
	h.index = 0
}

// add records a step, merging it into the previous one when both are plain
// typing (or plain deleting) of one word next to each other, as Fyne's Entry
// does.
func (h *history) add(e edit) {
	h.steps = h.steps[:h.index]
	if e.typing && h.index > 0 && h.merge(&h.steps[h.index-1], e) {
		return
	}
	if len(h.steps) == maxUndo {
		h.steps = append(h.steps[:0], h.steps[1:]...)
	}
	h.steps = append(h.steps, e)
	h.index = len(h.steps)
}

func (h *history) merge(last *edit, e edit) bool {
	if !last.typing || hasWordSeparator(e.new) || hasWordSeparator(e.old) {
		return false
	}
	switch {
	case e.old == "" && last.old == "" && e.start == advance(last.start, last.new):
		last.new += e.new // typed after the previous letters
		return true
	case e.new == "" && last.new == "" && advance(e.start, e.old) == last.start:
		last.start, last.old = e.start, e.old+last.old // Backspace
		return true
	case e.new == "" && last.new == "" && e.start == last.start:
		last.old += e.old // Delete
		return true
	}
	return false
}

func (h *history) undo() (edit, bool) {
	if h.index == 0 {
		return edit{}, false
	}
	h.index--
	h.steps[h.index].typing = false // a word undone is not typed into again
	return h.steps[h.index], true
}

func (h *history) redo() (edit, bool) {
	if h.index == len(h.steps) {
		return edit{}, false
	}
	h.index++
	return h.steps[h.index-1], true
}

func (h *history) canUndo() bool { return h.index > 0 }
func (h *history) canRedo() bool { return h.index < len(h.steps) }

// isWordSeparator is Fyne's Entry's rule for where words end.
func isWordSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?", r)
}

func hasWordSeparator(s string) bool {
	return strings.IndexFunc(s, isWordSeparator) >= 0
}
