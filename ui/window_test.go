package ui

import (
	"context"
	"image/color"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/postcard-mail/postcard/mailer"
)

func TestWindow_KeychainLookupDoesNotBlockTheWindow(t *testing.T) {
	release := make(chan struct{})
	secrets := newFakeSecrets()
	secrets.getHook = func() { <-release }
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, secrets: secrets, noWait: true})
	// newWindow and start have returned although the keychain has not
	// answered: the window can be shown now.
	if h.w.tabs.Selected() != h.w.composeItem || h.w.win.Canvas().Focused() != h.w.compose.to {
		t.Fatal("the compose pane should be open and focused while the keychain is asked")
	}
	if h.w.settings.keychain.Text != "Looking for a stored password…" {
		t.Errorf("keychain status %q", h.w.settings.keychain.Text)
	}
	close(release)
	h.wait(eventLookup)
	if st, _, _ := h.w.acct.state(); st != passwordStored || h.w.tabs.Selected() != h.w.composeItem {
		t.Fatalf("after the lookup: state %v", st)
	}
	if h.w.settings.keychain.Text != "Password stored in the keychain." {
		t.Errorf("keychain status %q", h.w.settings.keychain.Text)
	}
}

func TestWindow_RemembersSize(t *testing.T) {
	h := newHarness(t, setup{})
	if s := h.w.win.Canvas().Size(); s != fyne.NewSize(defaultWidth, defaultHeight) {
		t.Fatalf("first size %v", s)
	}
	h.w.win.Resize(fyne.NewSize(900, 720))
	h.close()
	prefs := h.app.Preferences()
	if prefs.Float(prefWidth) != 900 || prefs.Float(prefHeight) != 720 {
		t.Fatalf("saved %v x %v", prefs.Float(prefWidth), prefs.Float(prefHeight))
	}
	w2 := newWindow(Deps{App: h.app, Mailer: h.mailer, Secrets: h.secrets, ConfigDir: h.dir, Store: h.st})
	t.Cleanup(w2.win.Close)
	if s := w2.win.Canvas().Size(); s != fyne.NewSize(900, 720) {
		t.Fatalf("reopened at %v", s)
	}
}

func TestWindow_TabsAndMenu(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	menu := h.w.win.MainMenu()
	if menu == nil || len(menu.Items) == 0 {
		t.Fatal("no main menu")
	}
	h.w.showSettings(nil)
	h.w.tabs.Select(h.w.composeItem)
	if h.w.win.Canvas().Focused() != h.w.compose.to {
		t.Error("opening the compose pane should focus To")
	}
	test.Tap(h.w.compose.openSettings)
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Error("Open Settings did not switch")
	}
}

func TestMailerAdapter_ReportsStages(t *testing.T) {
	// A cancelled context fails at the first stage without any network.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got []mailer.StageResult
	_, err := mailerAdapter{}.Check(ctx, *icloudAccount(), mailer.Password(testPassword), func(r mailer.StageResult) { got = append(got, r) })
	if mailer.KindOf(err) != mailer.KindCancelled {
		t.Fatalf("Check = %v", err)
	}
	if len(got) != 1 || got[0].Stage != mailer.StageResolve || got[0].OK {
		t.Fatalf("progress got %+v", got)
	}
	got = nil
	p, err := mailer.Prepare(*icloudAccount(), mailer.Message{To: []string{"a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mailerAdapter{}.Send(ctx, *icloudAccount(), mailer.Password(testPassword), p.Outgoing(), func(r mailer.StageResult) { got = append(got, r) })
	if mailer.KindOf(err) != mailer.KindCancelled || len(got) != 1 {
		t.Fatalf("Send = %v, progress %+v", err, got)
	}
}

// Status texts must be readable on the light background (WCAG AA, 4.5:1).
func TestReadableTheme_LightStatusContrast(t *testing.T) {
	th := newReadableTheme()
	bg := th.Color(theme.ColorNameBackground, theme.VariantLight)
	for _, n := range []fyne.ThemeColorName{theme.ColorNameSuccess, theme.ColorNameWarning, theme.ColorNameError} {
		if r := contrast(th.Color(n, theme.VariantLight), bg); r < 4.5 {
			t.Errorf("%s on the light background: contrast %.1f:1, want at least 4.5:1", n, r)
		}
	}
	// The dark variant is Fyne's own.
	if got, want := th.Color(theme.ColorNameSuccess, theme.VariantDark), theme.DefaultTheme().Color(theme.ColorNameSuccess, theme.VariantDark); got != want {
		t.Errorf("dark success colour changed: %v, want %v", got, want)
	}
}

func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contains reports whether o is c or inside it.
func contains(c fyne.CanvasObject, o fyne.CanvasObject) bool {
	if c == o {
		return true
	}
	if box, ok := c.(*fyne.Container); ok {
		for _, child := range box.Objects {
			if contains(child, o) {
				return true
			}
		}
	}
	return false
}

func TestWindow_PanesJoinWhenFirstShown(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	if !contains(h.w.composeItem.Content, h.w.compose.content) {
		t.Fatal("the compose pane is not in its tab at start")
	}
	for _, it := range []struct {
		item    *container.TabItem
		content fyne.CanvasObject
	}{
		{h.w.draftsItem, h.w.drafts.content},
		{h.w.outboxItem, h.w.outbox.content},
		{h.w.sentItem, h.w.sent.content},
		{h.w.settingsItem, h.w.settings.content},
	} {
		if contains(it.item.Content, it.content) {
			t.Errorf("%s: its pane was laid out before it was shown", it.item.Text)
		}
		h.w.tabs.Select(it.item)
		if !contains(it.item.Content, it.content) {
			t.Errorf("%s: shown without its pane", it.item.Text)
		}
	}
	h.w.tabs.Select(h.w.composeItem)
	h.w.tabs.Select(h.w.settingsItem)
	if n := len(h.w.settingsItem.Content.(*fyne.Container).Objects); n != 1 {
		t.Errorf("the settings tab holds %d panes after a second visit", n)
	}
}

func TestWindow_NoAccountOpensOnSettingsWithItsPane(t *testing.T) {
	h := newHarness(t, setup{})
	if h.w.tabs.Selected() != h.w.settingsItem || !contains(h.w.settingsItem.Content, h.w.settings.content) {
		t.Fatal("without an account the window should open on the settings pane")
	}
	if h.w.win.Canvas().Focused() != h.w.settings.username {
		t.Errorf("focused %v, want the username", h.w.win.Canvas().Focused())
	}
}

// Closing the window before its background work has started (Run starts
// it after the first frame) keeps the draft and does not wait for an
// Outbox that never ran.
func TestWindow_QuitBeforeStart(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, noStart: true})
	h.w.compose.subject.SetText("Typed before the first frame")
	begun := time.Now()
	h.w.closeRequested()
	h.until("the window to close", func() bool { return h.w.gone })
	h.closed = true
	if d := time.Since(begun); d > 5*time.Second {
		t.Errorf("closing took %s", d)
	}
	drafts, err := h.st.Drafts()
	if err != nil || len(drafts) != 1 || drafts[0].Subject != "Typed before the first frame" {
		t.Fatalf("drafts after quitting: %+v, %v", drafts, err)
	}
	// start after the window is gone does nothing.
	h.w.start()
	if h.w.runStop != nil {
		t.Error("the Outbox started after the window closed")
	}
}
