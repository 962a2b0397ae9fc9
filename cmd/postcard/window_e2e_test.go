package main

// The window end to end: the real postcard binary opens its window on a
// private Xvfb display, xdotool writes a message with the keyboard only and
// sends it with Ctrl+Enter, and the in-process SMTP server shows what
// arrived. Like the other end-to-end tests it runs only with
// POSTCARD_TEST_KEYRING=1 (make test); then it fails, rather than skips,
// when Xvfb, xdotool or ImageMagick's import is missing.
//
// Driving a GLFW window with xdotool under Xvfb takes a few things found by
// trying (a focused window and XTEST rather than windowactivate, each
// non-ASCII character bound to a keycode of its own before the app starts,
// Xvfb with -noreset, a UTF-8 locale): the package comment of
// cmd/internal/xtest, which does the X side here and for the benchmark,
// says why each.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/cmd/internal/xtest"
	"github.com/postcard-mail/postcard/mailer/smtptest"
	"github.com/postcard-mail/postcard/ui"
)

// The screenshots the window test keeps, in shotsDir.
const (
	shotCompose   = "window-compose.png"    // the message typed, before Ctrl+Enter
	shotUndo      = "window-undo.png"       // just after Ctrl+Enter: the undo bar
	shotAfterSend = "window-after-send.png" // after the server has it
	shotFailure   = "window-failure.png"    // the window when the test failed
	// With no undo delay.
	shotNoUndoAfterSend = "window-no-undo-after-send.png"
	shotNoUndoFailure   = "window-no-undo-failure.png"
)

// The whole window as a user drives it from the keyboard, with the
// default undo delay: the message waits out the undo bar in the Outbox.
func TestWindow_KeyboardSend(t *testing.T) { keyboardSend(t, false) }

// With no undo delay the window opens the session while it freezes the
// message, and sends it over that session, to the same server, once.
func TestWindow_KeyboardSendNoUndoDelay(t *testing.T) { keyboardSend(t, true) }

func keyboardSend(t *testing.T, noUndo bool) {
	env := newE2E(t)
	failureShot, own := shotFailure, []string{shotCompose, shotUndo, shotAfterSend, shotFailure}
	if noUndo {
		failureShot, own = shotNoUndoFailure, []string{shotNoUndoAfterSend, shotNoUndoFailure}
		// Settings → Undo send → "Off", as Fyne keeps it.
		prefs := filepath.Join(env.configDir(), "fyne", ui.AppID, "preferences.json")
		if err := os.MkdirAll(filepath.Dir(prefs), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(prefs, []byte(`{"send.undo_seconds":0}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	shots := shotsDir(t, own...)
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the window test needs %s: install xvfb, xdotool and imagemagick (make deps does)", tool)
		}
	}
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.run(t, env.password+"\n", "login", "--password-stdin", "--username", env.user, "--name", "Ann Example",
		"--host", "127.0.0.1", "--port", strconv.Itoa(srv.Port()), "--security", "starttls").wantCode(t, 0)

	want := ui.Draft{
		To:      "Bob <bob@example.org>",
		Cc:      "carol@example.net",
		Bcc:     "dan@example.com",
		Subject: "Hello from the window ✓",
		Body:    "Typed into the window with xdotool.\nSecond line: déjà vu.",
	}
	// With an empty subject, or a body that mentions an attachment, the
	// window asks before sending and waits for an answer. Neither applies,
	// so a message that reaches the server with no key pressed after
	// Ctrl+Enter is the proof that no question was asked.
	if want.MentionsAttachment() || strings.TrimSpace(want.Subject) == "" {
		t.Fatal("the test message would make the window ask before sending")
	}

	sessions, logins := srv.Sessions(), len(srv.AuthAttempts())
	x := startXvfb(t)
	x.bindKeysyms(t, want.To+want.Cc+want.Bcc+want.Subject+want.Body)
	app := x.startPostcard(t, env)
	win := app.waitWindow(t)
	t.Cleanup(func() {
		// Runs before the window is stopped (cleanups run last first).
		if t.Failed() {
			x.screenshot(t, win, filepath.Join(shots, failureShot), false)
		}
	})
	x.must(t, x.Focus(win))

	// The window opens on Compose with the focus in To because an account
	// is saved; it would switch to Settings only if the keychain lookup,
	// which runs in the background, found no password. Nothing on the
	// screen tells from outside when the window is ready for keys, but the
	// draft does: the window saves it at most two seconds after a change.
	// So To is typed first, and the draft must hold exactly that before
	// anything else is typed: the keys reached the window, on Compose, in
	// To. A window that lost keys or had the focus elsewhere fails here,
	// with the draft to show what it got.
	x.typeText(t, want.To)
	app.waitDraft(t, "typing To", func(d ui.Draft) bool { return d.Equal(ui.Draft{To: want.To}) }, ui.Draft{To: want.To})
	for _, field := range []string{want.Cc, want.Bcc, want.Subject} {
		x.key(t, "Tab")
		x.typeText(t, field)
	}
	x.key(t, "Tab")
	for i, line := range strings.Split(want.Body, "\n") {
		if i > 0 {
			x.key(t, "Return")
		}
		x.typeText(t, line)
	}
	// Tab went To → Cc → Bcc → Subject → Body if each text is in its field.
	app.waitDraft(t, "typing every field", want.Equal, want)
	if !noUndo {
		x.screenshot(t, win, filepath.Join(shots, shotCompose), true)
	}

	// Ctrl+Enter freezes the message into the Outbox (the draft leaves
	// Drafts in the same step) and the pane shows the undo bar for the
	// default 5 s before the Outbox sends it; with no undo delay it goes
	// at once.
	x.key(t, "ctrl+Return")
	app.waitNoDraft(t)
	if !noUndo {
		x.screenshot(t, win, filepath.Join(shots, shotUndo), true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := srv.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatalf("after Ctrl+Enter: %v (%s shows whether the window asked something or shows a failure)", err, failureShot)
	}
	checkSent(t, msgs[0], env.user, want)

	// The message is filed in Sent once the server took it; the screenshot
	// shows the confirmation.
	if err := poll(10*time.Second, app.done, func() bool {
		m, _ := filepath.Glob(filepath.Join(app.data, "sent", "cur", "*"))
		return len(m) == 1
	}); err != nil {
		t.Fatalf("the message sent is not in Sent: %v", err)
	}
	// The confirmation lands on the UI goroutine a frame later.
	afterSend := shotAfterSend
	if noUndo {
		afterSend = shotNoUndoAfterSend
	}
	x.settledScreenshot(t, win, filepath.Join(shots, afterSend))
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the server got %d messages, want 1", n)
	}
	// One session, one login (besides postcard login's): with no undo
	// delay the one opened while the message was frozen.
	if n, at := srv.Sessions()-sessions, len(srv.AuthAttempts())-logins; n != 1 || at != 1 {
		t.Errorf("the window opened %d sessions and logged in %d times, want 1 of each", n, at)
	}
}

// checkSent checks the message the window sent for want, from user.
func checkSent(t *testing.T, m smtptest.Message, user string, want ui.Draft) {
	t.Helper()
	rcpts := slices.Sorted(slices.Values(m.To))
	if m.From != user || !slices.Equal(rcpts, []string{"bob@example.org", "carol@example.net", "dan@example.com"}) ||
		!m.TLS || m.AuthUser != user {
		t.Errorf("envelope from %s to %v (TLS %v, logged in as %q), want from %s to Bob, Carol and Dan over TLS",
			m.From, m.To, m.TLS, m.AuthUser, user)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("reading the message: %v\n%s", err, m.Data)
	}
	h := msg.Header
	if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Name != "Ann Example" || from.Address != user {
		t.Errorf("From: %q (%v), want Ann Example <%s>", h.Get("From"), err, user)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != "Bob" || to[0].Address != "bob@example.org" {
		t.Errorf("To: %q (%v), want Bob <bob@example.org>", h.Get("To"), err)
	}
	if cc, err := h.AddressList("Cc"); err != nil || len(cc) != 1 || cc[0].Address != "carol@example.net" {
		t.Errorf("Cc: %q (%v), want carol@example.net", h.Get("Cc"), err)
	}
	if _, ok := h["Bcc"]; ok || bytes.Contains(m.Data, []byte("dan@example.com")) {
		t.Errorf("the Bcc address is in the message:\n%s", m.Data)
	}
	if subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || subject != want.Subject {
		t.Errorf("Subject: %q decodes to %q (%v), want %q", h.Get("Subject"), subject, err, want.Subject)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Fatalf("Content-Type: %q (%v), want text/plain in UTF-8 (no attachment)", h.Get("Content-Type"), err)
	}
	var body io.Reader = msg.Body
	switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decoding the body: %v", err)
	}
	if text := strings.ReplaceAll(string(b), "\r\n", "\n"); !strings.Contains(text, want.Body) {
		t.Errorf("body %q, want both lines typed: %q", text, want.Body)
	}
}

// shotsDir is where the screenshots go: $POSTCARD_E2E_SHOTS (relative to
// the repository root, where make runs, if relative) or bin/e2e-shots. It
// removes the screenshots named, the calling test's of an earlier run, so
// that nothing stale stands in for this one's (and no other test's).
func shotsDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := os.Getenv("POSTCARD_E2E_SHOTS")
	if dir == "" {
		dir = filepath.Join("bin", "e2e-shots")
	}
	if !filepath.IsAbs(dir) {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return dir
}

// repoRoot is the folder holding go.mod, above the package's.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// poll calls cond every 100 ms until it holds, for at most limit. It gives
// up early, with errExited, once exited is closed and cond still fails.
func poll(limit time.Duration, exited <-chan struct{}, cond func() bool) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-exited:
			if cond() {
				return nil
			}
			return errExited
		case <-deadline.C:
			return fmt.Errorf("still not so after %v", limit)
		}
	}
	return nil
}

var errExited = errors.New("the process ended")

// xvfb is the private X server of one test, with what it does failing the
// test.
type xvfb struct {
	*xtest.Server
}

// startXvfb starts Xvfb on the first free display from :90 to :120 and
// returns once it accepts connections. It is stopped when t ends.
func startXvfb(t *testing.T) *xvfb {
	t.Helper()
	s, err := xtest.Start(90, 120)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Stop() {
			t.Errorf("Xvfb %s ignored SIGTERM and was killed", s.Display)
		}
	})
	return &xvfb{s}
}

func (x *xvfb) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// typeText types s on the keyboard into the focused window.
func (x *xvfb) typeText(t *testing.T, s string) {
	t.Helper()
	x.must(t, x.Type(s))
}

// key presses key (an X keysym name, or a combination such as ctrl+Return)
// in the focused window.
func (x *xvfb) key(t *testing.T, key string) {
	t.Helper()
	x.must(t, x.Key(key))
}

// screenshot saves window win as a PNG at path. A failure to take it fails
// t if must, and is only logged otherwise.
func (x *xvfb) screenshot(t *testing.T, win, path string, must bool) {
	t.Helper()
	if err := x.Screenshot(win, path); err != nil {
		if must {
			t.Fatalf("screenshot: %v", err)
		}
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the window: %s", path)
}

// settledScreenshot takes screenshots of win until two in a row are the
// same (the window has drawn what it had to draw), at most for 3 s, and
// keeps the last.
func (x *xvfb) settledScreenshot(t *testing.T, win, path string) {
	t.Helper()
	var prev []byte
	deadline := time.Now().Add(3 * time.Second)
	for {
		x.screenshot(t, win, path, true)
		cur, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(cur, prev) || time.Now().After(deadline) {
			return
		}
		prev = cur
	}
}

// bindKeysyms gives each non-ASCII character of text a keycode of its own
// in the display's keymap, so that xdotool finds it there rather than
// binding it on the fly (see xtest). It must run before the app connects,
// which then reads the keymap with the characters in it.
func (x *xvfb) bindKeysyms(t *testing.T, text string) {
	t.Helper()
	bound, err := x.BindKeysyms(text)
	if err != nil {
		t.Fatalf("binding the characters outside ASCII to keycodes on %s: %v", x.Display, err)
	}
	if bound != "" {
		t.Logf("keycodes for the characters outside ASCII: %s", bound)
	}
}

// windowApp is postcard running with no arguments: the window.
type windowApp struct {
	x    *xvfb
	cmd  *exec.Cmd
	out  bytes.Buffer  // stdout and stderr; read only once done is closed
	done chan struct{} // closed when postcard has exited
	data string        // the message store's folder
}

// startPostcard opens the window on x, with env's HOME, config folder and
// keyring. It is stopped when t ends.
func (x *xvfb) startPostcard(t *testing.T, env *e2eEnv) *windowApp {
	t.Helper()
	a := &windowApp{
		x:    x,
		done: make(chan struct{}),
		data: filepath.Join(env.home, ".local", "share", "postcard"),
	}
	// What a desktop session has and Fyne, GLFW and Mesa look for: a cache
	// folder, a private runtime folder and a UTF-8 locale (GLFW's text
	// input through XIM needs one for anything outside ASCII).
	runtimeDir := filepath.Join(env.home, "run")
	for _, dir := range []string{filepath.Join(env.home, ".cache"), runtimeDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	a.cmd = exec.Command(e2e.bin)
	// Light theme: dark text on light fields reads best in screenshots.
	a.cmd.Env = append(env.environ(), "DISPLAY="+x.Display, "FYNE_THEME=light",
		"XDG_RUNTIME_DIR="+runtimeDir, "LC_ALL="+xtest.UTF8Locale)
	a.cmd.Dir = env.home
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting postcard: %v", err)
	}
	var exit error
	go func() {
		exit = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
			t.Errorf("the window quit before the test closed it: %v", exit)
		default:
			if xtest.StopProcess(a.cmd.Process, a.done, 10*time.Second) {
				t.Errorf("the window ignored SIGTERM for 10 s and was killed")
			} else if exit != nil {
				t.Errorf("the window exited with %v after SIGTERM", exit)
			}
		}
		if s := strings.TrimSpace(a.out.String()); s != "" {
			t.Logf("postcard (the window) said:\n%s", s)
		}
	})
	return a
}

// waitWindow waits for the window titled Postcard to be mapped and
// returns its id.
func (a *windowApp) waitWindow(t *testing.T) string {
	t.Helper()
	start := time.Now()
	// The title is "Postcard", or "Postcard · Subject" with a draft open.
	out, err := a.x.Command(30*time.Second, a.done, "xdotool", "search", "--sync", "--onlyvisible", "--name", `^Postcard( · .*)?$`)
	ids := strings.Fields(out)
	if err != nil {
		t.Fatalf("waiting for the window: %v", err)
	}
	if len(ids) != 1 {
		t.Fatalf("windows named Postcard: %q, want one", ids)
	}
	t.Logf("window %s visible after %v", ids[0], time.Since(start).Round(time.Millisecond))
	return ids[0]
}

// readDraft returns the window's saved draft; ok is false while there is no
// draft. There must never be more than one: the window edits one at a time.
func (a *windowApp) readDraft(t *testing.T) (d ui.Draft, ok bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(a.data, "drafts", "*", "draft.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		return d, false
	}
	if len(files) > 1 {
		t.Fatalf("%d drafts saved, want one: %q", len(files), files)
	}
	b, err := os.ReadFile(files[0])
	if errors.Is(err, os.ErrNotExist) {
		return d, false // sent or moved a moment ago
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("draft file: %v\n%s", err, b)
	}
	return d, true
}

// waitDraft waits for the saved draft to satisfy ok; the window saves it at
// most ui.DefaultDraftDelay after a change. want is what it should hold,
// for the failure message.
func (a *windowApp) waitDraft(t *testing.T, after string, ok func(ui.Draft) bool, want ui.Draft) {
	t.Helper()
	var last ui.Draft
	err := poll(ui.DefaultDraftDelay+8*time.Second, a.done, func() bool {
		d, found := a.readDraft(t)
		last = d
		return found && ok(d)
	})
	if err != nil {
		t.Fatalf("after %s the window's draft is\n%s\nwant\n%s\n(%v)", after, draftJSON(last), draftJSON(want), err)
	}
}

// waitNoDraft waits for the window to remove the draft, as it does after a
// successful send.
func (a *windowApp) waitNoDraft(t *testing.T) {
	t.Helper()
	var last ui.Draft
	err := poll(10*time.Second, a.done, func() bool {
		d, found := a.readDraft(t)
		last = d
		return !found
	})
	if err != nil {
		t.Fatalf("the draft is still saved after the send: %v\n%s", err, draftJSON(last))
	}
}

func draftJSON(d ui.Draft) string {
	if len(d.Body) > 400 {
		d.Body = fmt.Sprintf("%s… (%d bytes, %d lines)", d.Body[:300], len(d.Body), strings.Count(d.Body, "\n"))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // show <bob@example.org> as typed
	enc.SetIndent("", "  ")
	_ = enc.Encode(d)
	return strings.TrimSuffix(b.String(), "\n")
}
