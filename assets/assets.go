// Package assets holds the files bundled into Postcard: the application
// icon, and the name, ID and version from FyneApp.toml.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:generate go run -tags generate ./internal/fyneappgen ../FyneApp.toml metadata.go

// icon.png is icon.svg rendered at 512 px (make icons); FyneApp.toml points
// the fyne tool at the same file.
//
//go:embed icon.png
var iconPNG []byte

// Icon returns the application icon, a 512×512 PNG, for the window and the
// app (fyne.App.SetIcon). Builds made by the fyne tool carry it in their
// metadata too; a plain go build has only this.
func Icon() fyne.Resource {
	return fyne.NewStaticResource("postcard.png", iconPNG)
}
