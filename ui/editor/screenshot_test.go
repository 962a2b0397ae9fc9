package editor

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// variantTheme is Fyne's default theme held to one variant.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

const screenshotText = "Dear Ann,\n\nthank you for the photos of the trip. The one of the lighthouse at dusk, with the fishing boats coming home, is my favourite.\n\tIndented with a tab.\nSupercalifragilisticexpialidocious-words-are-broken-where-they-reach-the-edge.\n\nBest wishes,\nBob"

// TestScreenshots writes PNGs of the editor next to Fyne's Entry with the
// same text, selection and cursor, in the light and dark theme at scale 1
// and 1.5, for a person to compare. Set EDITOR_SCREENSHOTS to a directory.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("EDITOR_SCREENSHOTS")
	if dir == "" {
		t.Skip("set EDITOR_SCREENSHOTS=dir to write screenshots")
	}
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		for _, scale := range []float32{1, 1.5} {
			t.Run(fmt.Sprintf("%s-%v", v.name, scale), func(t *testing.T) {
				app := test.NewTempApp(t)
				app.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.variant})
				size := fyne.NewSize(340, 330)

				e := New()
				e.SetText(screenshotText)
				ew := test.NewTempWindow(t, e)
				ew.Resize(size)
				setScale(ew, scale)
				ew.Canvas().Focus(e)
				e.SetCursor(2, 20)
				press(t, ew, with(shift, fyne.KeyDown), with(shift, fyne.KeyDown))
				edImg := ew.Canvas().Capture()

				en := widget.NewMultiLineEntry()
				en.Wrapping = fyne.TextWrapWord
				en.SetText(screenshotText)
				nw := test.NewTempWindow(t, en)
				nw.Resize(size)
				setScale(nw, scale)
				nw.Canvas().Focus(en)
				en.CursorRow, en.CursorColumn = 2, 20
				en.Refresh()
				press(t, nw, with(shift, fyne.KeyDown), with(shift, fyne.KeyDown))
				enImg := nw.Canvas().Capture()

				name := filepath.Join(dir, fmt.Sprintf("editor-%s-%v.png", v.name, scale))
				writeSideBySide(t, name, edImg, enImg)

				// A long text scrolled to its middle, and the placeholder.
				e.SetText(lines(300))
				e.SetCursor(150, 30)
				press(t, ew, with(shift, fyne.KeyRight), with(shift, fyne.KeyRight))
				en.SetText(lines(300))
				en.CursorRow, en.CursorColumn = 300, 30
				en.Refresh()
				press(t, nw, with(shift, fyne.KeyRight), with(shift, fyne.KeyRight))
				name = filepath.Join(dir, fmt.Sprintf("editor-%s-%v-long.png", v.name, scale))
				writeSideBySide(t, name, ew.Canvas().Capture(), nw.Canvas().Capture())

				e.SetText("")
				e.SetPlaceHolder("Write your message. Ctrl+Enter sends it.")
				ew.Canvas().Unfocus()
				en.SetText("")
				en.SetPlaceHolder("Write your message. Ctrl+Enter sends it.")
				nw.Canvas().Unfocus()
				name = filepath.Join(dir, fmt.Sprintf("editor-%s-%v-empty.png", v.name, scale))
				writeSideBySide(t, name, ew.Canvas().Capture(), nw.Canvas().Capture())
			})
		}
	}
}

// writeSideBySide writes a PNG of the editor (left) and the Entry (right).
func writeSideBySide(t *testing.T, name string, edImg, enImg image.Image) {
	b := edImg.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, 2*b.Dx()+10, b.Dy()))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.NRGBA{0xff, 0, 0xff, 0xff}), image.Point{}, draw.Src)
	draw.Draw(out, b, edImg, image.Point{}, draw.Src)
	draw.Draw(out, b.Add(image.Pt(b.Dx()+10, 0)), enImg, image.Point{}, draw.Src)
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (left: Editor, right: Entry)", name)
}

func setScale(w fyne.Window, scale float32) {
	if c, ok := w.Canvas().(interface{ SetScale(float32) }); ok {
		c.SetScale(scale)
	}
}
