package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// readableTheme is Fyne's default theme, following the system's light or
// dark choice, with darker status colours in the light variant: the default
// success green on white is about 1.5:1 and the warning orange about 2:1,
// too faint for the hint and confirmation texts people must read. These
// reach 4.5:1 (WCAG AA) or better on the light background.
type readableTheme struct{ fyne.Theme }

func newReadableTheme() fyne.Theme { return readableTheme{theme.DefaultTheme()} }

var lightStatus = map[fyne.ThemeColorName]color.Color{
	theme.ColorNameSuccess: color.NRGBA{R: 0x1b, G: 0x6e, B: 0x2e, A: 0xff}, // 6.4:1 on white
	theme.ColorNameWarning: color.NRGBA{R: 0x9a, G: 0x4b, B: 0x00, A: 0xff}, // 6.0:1
	theme.ColorNameError:   color.NRGBA{R: 0xc0, G: 0x1f, B: 0x1f, A: 0xff}, // 6.0:1
}

func (t readableTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if v == theme.VariantLight {
		if c, ok := lightStatus[n]; ok {
			return c
		}
	}
	return t.Theme.Color(n, v)
}
