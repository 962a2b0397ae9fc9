package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
	"github.com/postcard-mail/postcard/mailer/store"
	"github.com/postcard-mail/postcard/ui"
)

// The window at length and size, by keyboard only: a draft with a body of
// 2,000 lines and 15 attachments opens in a window that fits the screen;
// Shift+Tab goes from the body back to the subject and Ctrl+Tab on out of
// it; a paste of the whole body (Ctrl+A, Ctrl+C, Ctrl+End, Ctrl+V) lands.
func TestWindow_LongDraftByKeyboard(t *testing.T) {
	env := newE2E(t)
	shots := shotsDir(t, "window-long.png", "window-long-failure.png")
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.run(t, env.password+"\n", "login", "--password-stdin", "--username", env.user,
		"--host", "127.0.0.1", "--port", strconv.Itoa(srv.Port()), "--security", "starttls").wantCode(t, 0)

	// The draft, saved as the window saves drafts.
	st, err := store.Open(filepath.Join(env.home, ".local", "share", "postcard"))
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&body, "Line %d: the quick brown fox jumps over the lazy dog.\n", i+1)
	}
	files := filepath.Join(env.home, "files")
	if err := os.MkdirAll(files, 0o700); err != nil {
		t.Fatal(err)
	}
	draft := ui.Draft{To: "bob@example.org", Subject: "Long", Body: body.String()}
	for i := range 15 {
		f := filepath.Join(files, fmt.Sprintf("photo-%02d.jpg", i+1))
		if err := os.WriteFile(f, []byte("jpeg"), 0o600); err != nil {
			t.Fatal(err)
		}
		draft.Attachments = append(draft.Attachments, f)
	}
	h, err := st.NewDraft()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDraft(h, draft); err != nil {
		t.Fatal(err)
	}
	h.Release()

	x := startXvfb(t)
	x.bindKeysyms(t, "Long!")
	app := x.startPostcard(t, env)
	win := app.waitWindow(t)
	t.Cleanup(func() {
		if t.Failed() {
			x.screenshot(t, win, filepath.Join(shots, "window-long-failure.png"), false)
		}
	})
	x.must(t, x.Focus(win))

	// The window fits the screen (1280×800) with all of that in it.
	geo, err := x.Command(10*time.Second, app.done, "xdotool", "getwindowgeometry", "--shell", win)
	if err != nil {
		t.Fatal(err)
	}
	height := 0
	for _, line := range strings.Fields(geo) {
		if v, ok := strings.CutPrefix(line, "HEIGHT="); ok {
			height, _ = strconv.Atoi(v)
		}
	}
	if height <= 0 || height > 800 {
		t.Fatalf("the window is %d pixels high on an 800-pixel screen:\n%s", height, geo)
	}

	// The focus starts in To: Tab to the body, Shift+Tab back to the
	// subject, where "!" lands.
	for range 4 {
		x.key(t, "Tab")
	}
	x.key(t, "shift+Tab")
	x.typeText(t, "!")
	app.waitDraft(t, "Shift+Tab from the body", func(d ui.Draft) bool { return strings.Contains(d.Subject, "!") }, ui.Draft{Subject: "Long with a !"})

	// Into the body again, copy it all and paste it at the end: 4,000
	// lines.
	x.key(t, "Tab")
	x.key(t, "ctrl+a")
	x.key(t, "ctrl+c")
	x.key(t, "ctrl+End")
	x.key(t, "ctrl+v")
	start := time.Now()
	app.waitDraft(t, "the paste", func(d ui.Draft) bool { return strings.Count(d.Body, "\n") == 4000 }, ui.Draft{Body: "4,000 lines"})
	t.Logf("the pasted body was saved %v after Ctrl+V (the autosave waits up to %v)", time.Since(start).Round(time.Millisecond), ui.DefaultDraftDelay)

	// Ctrl+Tab leaves the body: the first attachment's remove button is
	// next, and Space on it removes the attachment.
	x.key(t, "ctrl+Tab")
	x.key(t, "space")
	app.waitDraft(t, "Ctrl+Tab and Space", func(d ui.Draft) bool { return len(d.Attachments) == 14 }, ui.Draft{Attachments: draft.Attachments[1:]})
	x.settledScreenshot(t, win, filepath.Join(shots, "window-long.png"))
	_ = mailer.KindAuth
}
