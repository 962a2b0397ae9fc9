//go:build bench

// Command barewindow is the anchor for Postcard's benchmarks, built with the
// same toolchain and Fyne version as postcard. By default it is a bare Fyne
// window titled "Bare" with a label, an entry and a button, the anchor for
// start-up.
//
// BAREWINDOW_SIZE=WIDTHxHEIGHT opens it at that size instead of the least
// its content needs, so that it can also be compared with a window of the
// same size as Postcard's.
//
// BAREWINDOW_TEXT=FILE makes it the anchor for typing and pasting into a long
// body instead: the window holds only Fyne's multi-line Entry with word
// wrap, focused, holding the text of FILE (which may be empty), as the
// compose pane's body was before Postcard had its own editor. When it quits
// (Fyne quits on SIGTERM) it writes the Entry's text to FILE.out, so that the
// benchmark can check where its keys and pastes landed.
package main

import (
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.github.postcard-mail.postcard.bench.bare")
	w := a.NewWindow("Bare")
	file, withText := os.LookupEnv("BAREWINDOW_TEXT")
	var body *widget.Entry
	if withText {
		text, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "barewindow:", err)
			os.Exit(1)
		}
		body = widget.NewMultiLineEntry()
		body.Wrapping = fyne.TextWrapWord
		body.SetText(string(text))
		w.SetContent(body)
		w.Canvas().Focus(body)
	} else {
		entry := widget.NewEntry()
		entry.SetPlaceHolder("Type here")
		w.SetContent(container.NewVBox(
			widget.NewLabel("A bare Fyne window"),
			entry,
			widget.NewButton("Button", func() {}),
		))
	}
	var width, height float32
	if _, err := fmt.Sscanf(os.Getenv("BAREWINDOW_SIZE"), "%fx%f", &width, &height); err == nil {
		w.Resize(fyne.NewSize(width, height))
	}
	// Fyne's driver quits on SIGTERM, and ShowAndRun then returns on the
	// main goroutine, where the Entry may be read.
	w.ShowAndRun()
	if withText {
		if err := os.WriteFile(file+".out", []byte(body.Text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "barewindow:", err)
			os.Exit(1)
		}
	}
}
