//go:build bench

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/cmd/internal/xtest"
	"github.com/postcard-mail/postcard/mailer/store"
)

// The typing part measures the body of the compose pane with long texts, in
// the real window under the private Xvfb (Mesa's software GL, so drawing is
// CPU time of the window's own process), against Fyne's multi-line Entry
// with word wrap in the bare window (BAREWINDOW_TEXT), the body Postcard had
// before its own editor:
//
//   - CPU per keystroke: the window opens a saved draft of N lines, the body
//     is focused with Tab from To, typedKeys characters are typed with
//     xdotool keyDelay apart, and the process's CPU time is read before the
//     first key and once its work has ended after the last (for Postcard,
//     after the autosave has written the keys to the draft, so the save is
//     counted too);
//   - a paste of 5,000 lines: xclip holds the text on the CLIPBOARD, the
//     empty body is focused, Ctrl+V is pressed, and the paste is shown when
//     the window's work has ended: with software GL its drawing is its own
//     CPU time, so the frame with the text is drawn by then;
//   - start-up with a 5,000-line draft saved: exec to the window's
//     MapNotify, as in the startup part, against the bare window.
const (
	// typedKeys is how many characters are typed per run, keyDelay apart:
	// 10 keys a second, a fast typist, so that each key gets its own frame.
	typedKeys = 40
	keyDelay  = 100 * time.Millisecond

	shortLines = 10
	longLines  = 5000
	// entryLines caps the Entry's long text. At 5,000 lines a keystroke
	// costs it about 4 s of CPU without drawing (ui/editor's Go
	// benchmarks) and a paste took 10 to 70 s to show (issue 11): minutes
	// a run, for a figure only there to compare with.
	entryLines = 1000
)

// typedText is what each run types: letters and spaces, no Enter.
var typedText = func() string {
	s := strings.Repeat("the quick brown fox jumps over the lazy dog ", 2)
	return s[:typedKeys]
}()

// bodyText is a body of n lines of about 83 bytes each (5,000 lines are
// about 414 KB), the text of ui/editor's benchmarks.
func bodyText(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "Line %d: the quick brown fox jumps over the lazy dog, again and again and again.", i)
	}
	return b.String()
}

// typingEnv is what the typing part's runs share.
type typingEnv struct {
	b  *bench
	xv *xtest.Server
	x  *xtest.Conn
	// cfg is an XDG_CONFIG_HOME with the account saved and Fyne's
	// animations off, for both programs: a focused Entry's cursor blinks by
	// redrawing the window a dozen times a second, idle CPU that is not the
	// cost of a keystroke. Postcard's editor does not blink.
	cfg   string
	texts map[int]string // line count → file holding bodyText
	seq   int            // numbers the data folders and logs
	size  string         // Postcard's window size, WxH, for the bare Entry
	shots []string       // screenshots taken, for the report
}

// newTypingEnv starts the Xvfb and writes the texts and the config.
func (b *bench) newTypingEnv() (*typingEnv, error) {
	t := &typingEnv{b: b, cfg: filepath.Join(b.work, "config-typing"), texts: map[int]string{}}
	for _, n := range []int{shortLines, entryLines, longLines} {
		t.texts[n] = filepath.Join(b.work, fmt.Sprintf("body-%d-lines.txt", n))
		if err := os.WriteFile(t.texts[n], []byte(bodyText(n)), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(t.cfg, "fyne"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(t.cfg, "fyne", "settings.json"), []byte(`{"no_animations": true}`+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := b.loginWith(t.cfg, b.sendSrv.Port()); err != nil {
		return nil, err
	}
	xv, err := xtest.Start(b.opts.display, b.opts.display+xvfbDisplays-1)
	if err != nil {
		return nil, err
	}
	x, err := xv.Dial()
	if err != nil {
		xv.Stop()
		return nil, err
	}
	if err := x.WatchMaps(); err != nil {
		x.Close()
		xv.Stop()
		return nil, err
	}
	t.xv, t.x = xv, x
	// The X server repeats a key it sees held for 660 ms; on a busy
	// machine it may see the release that late, and a slow window then
	// gets a key more than was typed.
	if _, err := xv.Command(xtest.CommandLimit, nil, "xset", "r", "off"); err != nil {
		t.close()
		return nil, err
	}
	fmt.Printf("Xvfb on %s\n", xv.Display)
	return t, nil
}

// launch starts a window for the part, with its log in the work folder.
func (t *typingEnv) launch(label, bin, title string, env []string) (*winProc, error) {
	t.seq++
	log := filepath.Join(t.b.work, fmt.Sprintf("typing-%03d-%s.log", t.seq, strings.ReplaceAll(label, " ", "-")))
	return launchWindow(t.x, label, bin, title, env, log)
}

func (t *typingEnv) close() {
	t.x.Close()
	t.xv.Stop()
}

// dataDir makes a new XDG_DATA_HOME whose message store holds one draft with
// a body of n lines (none if n is 0), as the window would have saved it.
func (t *typingEnv) dataDir(n int) (string, error) {
	t.seq++
	dir := filepath.Join(t.b.work, fmt.Sprintf("data-typing-%03d", t.seq))
	st, err := store.Open(filepath.Join(dir, "postcard"))
	if err != nil {
		return "", err
	}
	if n == 0 {
		return dir, nil
	}
	h, err := st.NewDraft()
	if err != nil {
		return "", err
	}
	defer h.Release()
	return dir, st.SaveDraft(h, store.Draft{To: t.b.rcpt, Body: bodyText(n)})
}

// postcardEnv is the environment of the window with its messages in data.
func (t *typingEnv) postcardEnv(data string) []string {
	return env("DISPLAY="+t.xv.Display, "FYNE_THEME=light", "LC_ALL="+xtest.UTF8Locale,
		"XDG_CONFIG_HOME="+t.cfg, "XDG_DATA_HOME="+data, "SSL_CERT_DIR="+t.b.caDir)
}

// entryEnv is the environment of the bare window with the Entry holding
// the text of file, at Postcard's window size.
func (t *typingEnv) entryEnv(file string) []string {
	return env("DISPLAY="+t.xv.Display, "FYNE_THEME=light", "LC_ALL="+xtest.UTF8Locale,
		"XDG_CONFIG_HOME="+t.cfg, "BAREWINDOW_TEXT="+file, "BAREWINDOW_SIZE="+t.size)
}

// readDraft reads the one draft in the store under data.
func readDraft(data string) (store.Draft, error) {
	files, _ := filepath.Glob(filepath.Join(data, "postcard", "drafts", "*", "draft.json"))
	if len(files) != 1 {
		return store.Draft{}, fmt.Errorf("%d drafts in %s, want 1", len(files), data)
	}
	var d store.Draft
	b, err := os.ReadFile(files[0])
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	return d, err
}

// waitDraft waits, at most limit, for the draft under data to satisfy ok.
func waitDraft(data string, limit time.Duration, ok func(store.Draft) bool) (store.Draft, error) {
	deadline := time.Now().Add(limit)
	for {
		d, err := readDraft(data)
		if err == nil && ok(d) {
			return d, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not what was typed")
			}
			return d, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyRun is one run of typing into a body.
type keyRun struct {
	perKey time.Duration // CPU time per key
	idle   float64       // CPU seconds per second before typing
	wall   time.Duration // from the first key until the work ended
	load   float64       // the 1-minute load average at the start
}

// focusBody gives the window the input focus and moves it into the body:
// Postcard opens with it in To, and Tab goes To, Cc, Bcc, Subject, Body;
// the bare window's Entry has it already.
func (t *typingEnv) focusBody(p *winProc, postcard bool) error {
	if err := t.xv.Focus(p.win); err != nil {
		return err
	}
	if postcard {
		if _, err := t.xv.Command(xtest.CommandLimit, nil, "xdotool", "key", "--delay", "100", "Tab", "Tab", "Tab", "Tab"); err != nil {
			return err
		}
	}
	_, err := p.settleNow()
	return err
}

// keystrokes runs one typing run: into Postcard's body with a draft of n
// lines, or into the bare window's Entry holding n lines.
func (t *typingEnv) keystrokes(postcard bool, n int, shot string) (keyRun, error) {
	r := keyRun{load: loadAvg()}
	var p *winProc
	var data string
	var err error
	label := fmt.Sprintf("entry %d lines", n)
	if postcard {
		label = fmt.Sprintf("postcard %d lines", n)
		if data, err = t.dataDir(n); err != nil {
			return r, err
		}
		p, err = t.launch(label, t.b.postcard, "Postcard", t.postcardEnv(data))
	} else {
		// A text left by an earlier run must not pass for this one's.
		if err := os.Remove(t.texts[n] + ".out"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return r, err
		}
		p, err = t.launch(label, t.b.bare, "Bare", t.entryEnv(t.texts[n]))
	}
	if err != nil {
		return r, err
	}
	defer p.stop()
	if _, err := p.settleNow(); err != nil {
		return r, err
	}
	if err := t.focusBody(p, postcard); err != nil {
		return r, err
	}
	if r.idle, err = p.idleRate(time.Second); err != nil {
		return r, err
	}
	if shot != "" {
		if err := t.shot(p, shot); err != nil {
			return r, err
		}
	}

	before, err := readCPU(p.pid)
	if err != nil {
		return r, err
	}
	// xdotool type --delay D types a key every D/2 ms (timed here: 10
	// keys with --delay 100 take 0.5 s).
	delay := strconv.Itoa(int(2 * keyDelay / time.Millisecond))
	if _, err := t.xv.Command(2*time.Minute, p.exited, "xdotool", "type", "--delay", delay, "--", typedText); err != nil {
		return r, err
	}
	want := bodyText(n)
	landed := func(body string) bool {
		return len(body) == len(want)+len(typedText) && strings.Contains(body, typedText)
	}
	if postcard {
		// The keys are in once the autosave has written them.
		if d, err := waitDraft(data, 30*time.Second, func(d store.Draft) bool { return landed(d.Body) }); err != nil {
			return r, fmt.Errorf("%s: the typed text did not reach the body's saved draft (To %q, Subject %q, body %d bytes, want %d): %v",
				label, d.To, d.Subject, len(d.Body), len(want)+len(typedText), err)
		}
	}
	after, err := p.settle(before.at)
	if err != nil {
		return r, err
	}
	r.wall = after.at.Sub(before.at)
	r.perKey = (after.cpu - before.cpu) / typedKeys
	if !postcard {
		p.stop()
		got, err := os.ReadFile(t.texts[n] + ".out")
		if err != nil {
			return r, fmt.Errorf("%s: %w%s", label, err, logTail(p.log))
		}
		if !landed(string(got)) {
			return r, fmt.Errorf("%s: the Entry holds %d bytes, want %d with the typed text", label, len(got), len(want)+len(typedText))
		}
	}
	return r, nil
}

// pasteRun is one paste into an empty body.
type pasteRun struct {
	shown time.Duration // from Ctrl+V until the work ended
	cpu   time.Duration // CPU time spent meanwhile
	// final: a screenshot taken once settled equals one taken a second
	// later, so the window had drawn all it would.
	final bool
	load  float64
}

// paste runs one paste of n lines into Postcard's empty body or the bare
// window's empty Entry.
func (t *typingEnv) paste(postcard bool, n int, shot string) (pasteRun, error) {
	r := pasteRun{load: loadAvg()}
	var p *winProc
	var data, empty string
	var err error
	label := "entry paste"
	if postcard {
		label = "postcard paste"
		if data, err = t.dataDir(0); err != nil {
			return r, err
		}
		p, err = t.launch(label, t.b.postcard, "Postcard", t.postcardEnv(data))
	} else {
		t.seq++
		empty = filepath.Join(t.b.work, fmt.Sprintf("entry-paste-%03d.txt", t.seq))
		if err := os.WriteFile(empty, nil, 0o644); err != nil {
			return r, err
		}
		p, err = t.launch(label, t.b.bare, "Bare", t.entryEnv(empty))
	}
	if err != nil {
		return r, err
	}
	defer p.stop()

	// xclip -quiet stays in the foreground and serves the CLIPBOARD until
	// it is stopped.
	clip := exec.Command("xclip", "-quiet", "-selection", "clipboard", "-in", t.texts[n])
	clip.Env = env("DISPLAY=" + t.xv.Display)
	clipDone := make(chan struct{})
	if err := clip.Start(); err != nil {
		return r, err
	}
	go func() { _ = clip.Wait(); close(clipDone) }()
	defer xtest.StopProcess(clip.Process, clipDone, 5*time.Second)

	if _, err := p.settleNow(); err != nil {
		return r, err
	}
	if err := t.focusBody(p, postcard); err != nil {
		return r, err
	}
	before, err := readCPU(p.pid)
	if err != nil {
		return r, err
	}
	// The key is pressed by a new xdotool process, whose own start (about
	// 10 ms, the same for both sides) is counted in the time. p's CPU time
	// is recorded meanwhile, and settle looks back to before the key.
	if _, err := t.xv.Command(xtest.CommandLimit, p.exited, "xdotool", "key", "ctrl+v"); err != nil {
		return r, err
	}
	after, err := p.settle(before.at)
	if err != nil {
		return r, err
	}
	r.shown = after.at.Sub(before.at)
	r.cpu = after.cpu - before.cpu
	if r.cpu < 10*time.Millisecond {
		return r, fmt.Errorf("%s: the window did no work after Ctrl+V (%s of CPU)", label, r.cpu)
	}
	if r.final, err = t.drawnBy(p, shot); err != nil {
		return r, err
	}
	want := bodyText(n)
	if postcard {
		if d, err := waitDraft(data, 30*time.Second, func(d store.Draft) bool { return d.Body == want }); err != nil {
			return r, fmt.Errorf("%s: the pasted text did not reach the saved draft (body %d bytes, want %d): %v", label, len(d.Body), len(want), err)
		}
	} else {
		p.stop()
		got, err := os.ReadFile(empty + ".out")
		if err != nil {
			return r, fmt.Errorf("%s: %w%s", label, err, logTail(p.log))
		}
		if string(got) != want {
			return r, fmt.Errorf("%s: the Entry holds %d bytes after the paste, want %d", label, len(got), len(want))
		}
	}
	return r, nil
}

// startRunLong is one start of a window with a body.
type startRunLong struct {
	mapped  time.Duration // exec to MapNotify
	mapCPU  time.Duration // CPU time by then
	settled time.Duration // exec to the work ending
	load    float64
}

// start starts the bare window (n < 0) or Postcard with a draft of n lines
// saved in data, and times it.
func (t *typingEnv) start(n int, data, shot string) (startRunLong, error) {
	r := startRunLong{load: loadAvg()}
	var p *winProc
	var err error
	if n < 0 {
		p, err = t.launch("bare window", t.b.bare, "Bare", env("DISPLAY="+t.xv.Display, "FYNE_THEME=light", "LC_ALL="+xtest.UTF8Locale, "XDG_CONFIG_HOME="+t.cfg))
	} else {
		p, err = t.launch(fmt.Sprintf("postcard %d-line draft", n), t.b.postcard, "Postcard", t.postcardEnv(data))
	}
	if err != nil {
		return r, err
	}
	defer p.stop()
	settled, err := p.settle(p.start)
	if err != nil {
		return r, err
	}
	r.mapped = p.mapped.Sub(p.start)
	r.mapCPU = p.mapCPU.cpu
	r.settled = settled.at.Sub(p.start)
	if shot != "" {
		if err := t.shot(p, shot); err != nil {
			return r, err
		}
	}
	return r, nil
}

// drawnBy takes a screenshot of p's window, and another a second later,
// and says whether they are the same. Taken once p has settled, equal
// screenshots show that the window drew nothing after its work ended: with
// software GL drawing is the window's own work, and it was idle in the
// quietFor before the first. The first is kept as name if name is not "".
func (t *typingEnv) drawnBy(p *winProc, name string) (bool, error) {
	a, b := filepath.Join(t.b.work, "check-a.png"), filepath.Join(t.b.work, "check-b.png")
	if err := t.xv.Screenshot(p.win, a); err != nil {
		return false, err
	}
	time.Sleep(time.Second)
	if err := t.xv.Screenshot(p.win, b); err != nil {
		return false, err
	}
	pa, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	pb, err := os.ReadFile(b)
	if err != nil {
		return false, err
	}
	if name != "" {
		path := filepath.Join(t.b.work, name)
		if err := os.Rename(a, path); err != nil {
			return false, err
		}
		t.shots = append(t.shots, path)
	}
	return bytes.Equal(pa, pb), nil
}

// shot saves a screenshot of p's window in the work folder.
func (t *typingEnv) shot(p *winProc, name string) error {
	path := filepath.Join(t.b.work, name)
	if err := t.xv.Screenshot(p.win, path); err != nil {
		return err
	}
	t.shots = append(t.shots, path)
	return nil
}

// typing is the part: Postcard, the bare window and the Entry once
// unmeasured, then each run goes through every case in turn, each anchor
// beside its Postcard case.
func (b *bench) typing() error {
	t, err := b.newTypingEnv()
	if err != nil {
		return err
	}
	defer t.close()

	longData, err := t.dataDir(longLines)
	if err != nil {
		return err
	}
	shortData, err := t.dataDir(shortLines)
	if err != nil {
		return err
	}
	// Unmeasured: warms the page cache and Mesa's shader cache, and tells
	// Postcard's window size, which the Entry's window then takes.
	p, err := t.launch("postcard warm-up", b.postcard, "Postcard", t.postcardEnv(shortData))
	if err != nil {
		return err
	}
	w, h, err := t.x.Geometry(p.id)
	p.stop()
	if err != nil {
		return err
	}
	t.size = fmt.Sprintf("%dx%d", w, h)
	if _, err := t.start(-1, "", ""); err != nil {
		return err
	}
	if _, err := t.keystrokes(false, shortLines, ""); err != nil {
		return err
	}

	keys := map[string][]keyRun{}
	pastes := map[string][]pasteRun{}
	starts := map[string][]startRunLong{}
	for i := range b.opts.runs {
		first := i == 0
		shotIf := func(name string) string {
			if first {
				return name
			}
			return ""
		}
		for _, c := range []struct {
			label    string
			postcard bool
			n        int
			shot     string
		}{
			{keysEntryShort, false, shortLines, ""},
			{keysPostcardShort, true, shortLines, ""},
			{keysEntryLong, false, entryLines, shotIf("typing-entry-1000-lines.png")},
			{keysPostcardLong, true, longLines, shotIf("typing-postcard-5000-lines.png")},
		} {
			r, err := t.keystrokes(c.postcard, c.n, c.shot)
			if err != nil {
				return err
			}
			keys[c.label] = append(keys[c.label], r)
			fmt.Printf("run %d  keys  %-16s  %6.2f ms CPU a key  (idle before %4.1f%% CPU; %s until the work ended; load %.2f)\n",
				i+1, c.label, float64(r.perKey)/1e6, 100*r.idle, ms(r.wall), r.load)
		}
		for _, c := range []struct {
			label    string
			postcard bool
			n        int
			shot     string
		}{
			{pasteEntry, false, entryLines, ""},
			{pastePostcard, true, longLines, shotIf("paste-postcard-5000-lines.png")},
		} {
			r, err := t.paste(c.postcard, c.n, c.shot)
			if err != nil {
				return err
			}
			pastes[c.label] = append(pastes[c.label], r)
			fmt.Printf("run %d  paste %-16s  shown after %s  (%s CPU; nothing drawn after: %t; load %.2f)\n", i+1, c.label, ms(r.shown), ms(r.cpu), r.final, r.load)
		}
		for _, c := range []struct {
			label string
			n     int
			data  string
			shot  string
		}{
			{startBare, -1, "", ""},
			{startPostcardLong, longLines, longData, shotIf("start-postcard-5000-lines.png")},
			{startPostcardShort, shortLines, shortData, ""},
		} {
			r, err := t.start(c.n, c.data, c.shot)
			if err != nil {
				return err
			}
			starts[c.label] = append(starts[c.label], r)
			fmt.Printf("run %d  start %-16s  visible after %s (%s CPU), work ended after %s  (load %.2f)\n", i+1, c.label, ms(r.mapped), ms(r.mapCPU), ms(r.settled), r.load)
		}
	}
	t.report(keys, pastes, starts)
	return nil
}
