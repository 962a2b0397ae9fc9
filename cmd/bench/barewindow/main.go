//go:build bench

// Command barewindow is the anchor for Postcard's start-up benchmark: a bare
// Fyne window titled "Bare" with a label, an entry and a button, built with
// the same toolchain and Fyne version as postcard.
//
// BAREWINDOW_SIZE=WIDTHxHEIGHT opens it at that size instead of the least
// its content needs, so that it can also be compared with a window of the
// same size as Postcard's.
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
	entry := widget.NewEntry()
	entry.SetPlaceHolder("Type here")
	w.SetContent(container.NewVBox(
		widget.NewLabel("A bare Fyne window"),
		entry,
		widget.NewButton("Button", func() {}),
	))
	var width, height float32
	if _, err := fmt.Sscanf(os.Getenv("BAREWINDOW_SIZE"), "%fx%f", &width, &height); err == nil {
		w.Resize(fyne.NewSize(width, height))
	}
	w.ShowAndRun()
}
