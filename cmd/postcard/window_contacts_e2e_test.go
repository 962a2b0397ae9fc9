package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/carddavtest"
	"github.com/postcard-mail/postcard/mailer/smtptest"
	"github.com/postcard-mail/postcard/ui"
)

// The window suggests a contact: the real binary syncs a real Radicale
// (behind a redirecting front, as iCloud redirects) at start; the test types
// the start of the contact's address, accepts the suggestion with Enter,
// sends, and checks the envelope.
func TestWindow_ContactSuggestion(t *testing.T) {
	env := newE2E(t)
	shots := shotsDir(t, "window-suggestion.png", "window-contacts-failure.png")
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	rad := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{CA: e2e.ca, User: env.user, Password: env.password})
	front := carddavtest.NewRedirector(t, rad)
	env.run(t, env.password+"\n", "login", "--password-stdin", "--username", env.user,
		"--host", "127.0.0.1", "--port", strconv.Itoa(srv.Port()), "--security", "starttls", "--contacts-url", front.URL).wantCode(t, 0)

	x := startXvfb(t)
	app := x.startPostcard(t, env)
	win := app.waitWindow(t)
	t.Cleanup(func() {
		if t.Failed() {
			x.screenshot(t, win, filepath.Join(shots, "window-contacts-failure.png"), false)
		}
	})
	x.must(t, x.Focus(win))
	// The sync at start fills the cache, then the index is built from it.
	cache := filepath.Join(env.home, ".local", "share", "postcard", "contacts.json")
	if err := poll(30*time.Second, app.done, func() bool { return fileExists(cache) }); err != nil {
		t.Fatalf("the window did not sync the contacts: %v", err)
	}

	// "jue" starts a word of juergen.mueller@example.de only.
	x.typeText(t, "jue")
	// The keys have landed once the draft holds them; the list shows then.
	app.waitDraft(t, "typing jue", func(d ui.Draft) bool { return d.To == "jue" }, ui.Draft{To: "jue"})
	x.settledScreenshot(t, win, filepath.Join(shots, "window-suggestion.png"))
	x.key(t, "Return")
	app.waitDraft(t, "accepting the suggestion", func(d ui.Draft) bool {
		return d.To == "Jürgen Müller <juergen.mueller@example.de>, "
	}, ui.Draft{To: "Jürgen Müller <juergen.mueller@example.de>, "})
	for range 3 {
		x.key(t, "Tab")
	}
	x.typeText(t, "Contacts")
	x.key(t, "Tab")
	x.typeText(t, "Suggested.")
	x.key(t, "ctrl+Return")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatalf("after Ctrl+Enter: %v", err)
	}
	if !slices.Equal(msgs[0].To, []string{"juergen.mueller@example.de"}) {
		t.Errorf("envelope to %v", msgs[0].To)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
