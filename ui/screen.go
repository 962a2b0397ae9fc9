package ui

import (
	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.4/glfw"
)

// fitToScreen shrinks the window to the screen's work area when its size,
// saved at another scale or on a larger screen, does not fit: the window
// must never open larger than the screen, its buttons out of reach. It
// must run on the main goroutine once the app has started (GLFW is then
// initialised).
func fitToScreen(w fyne.Window) {
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return
	}
	_, _, wpx, hpx := m.GetWorkarea()
	scale := w.Canvas().Scale()
	if wpx <= 0 || hpx <= 0 || scale <= 0 {
		return
	}
	maxW, maxH := float32(wpx)/scale*0.95, float32(hpx)/scale*0.92
	cur := w.Canvas().Size()
	if cur.Width <= maxW && cur.Height <= maxH {
		return
	}
	w.Resize(fyne.NewSize(min(cur.Width, maxW), min(cur.Height, maxH)))
}
