//go:build bench

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/cmd/internal/xtest"
)

// idleDelay is how long after its window is visible a program's RSS is read.
const idleDelay = 2 * time.Second

// windowApp is a program that opens one window.
type windowApp struct {
	label string // in the report
	bin   string
	title string // the window's title, exactly
	env   []string
}

// startRun is one start of a windowApp.
type startRun struct {
	startup       time.Duration // from exec to the window's MapNotify
	rssKiB        int64         // VmRSS idleDelay after that
	width, height int           // the window's size
	xdotoolFound  bool          // whether xdotool search --onlyvisible found the same window
}

// startOnce starts a, waits for its window, reads its RSS idleDelay later,
// then kills it. x is a connection to xv that watches for mapped windows.
func startOnce(xv *xtest.Server, x *xtest.Conn, a windowApp, logPath string) (startRun, error) {
	var r startRun
	x.Drain()
	logf, err := os.Create(logPath)
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.Command(a.bin)
	cmd.Env = a.env
	cmd.Stdout, cmd.Stderr = logf, logf
	exited := make(chan struct{})
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		// Xvfb is slow to accept a client right after another has left:
		// let it finish with this one before the next run connects.
		time.Sleep(300 * time.Millisecond)
	}()

	m, err := x.WaitMapped(a.title, exited, 30*time.Second)
	if err != nil {
		return r, fmt.Errorf("%s: %w%s", a.label, err, logTail(logPath))
	}
	r.startup = m.At.Sub(t0)
	r.width, r.height, _ = x.Geometry(m.Window)
	r.xdotoolFound = xdotoolFinds(xv, a.title, m.Window)

	select {
	case <-exited:
		return r, fmt.Errorf("%s exited while idle%s", a.label, logTail(logPath))
	case <-time.After(time.Until(m.At.Add(idleDelay))):
	}
	r.rssKiB, err = vmRSS(cmd.Process.Pid)
	return r, err
}

// xdotoolFinds reports whether `xdotool search --onlyvisible --name` finds
// window w, the criterion the issue names for "visible".
func xdotoolFinds(xv *xtest.Server, title string, w uint32) bool {
	ids, _ := xv.FindWindows(title)
	for _, f := range ids {
		if id, err := strconv.ParseUint(f, 10, 32); err == nil && uint32(id) == w {
			return true
		}
	}
	return false
}

// xdotoolPollCost times n back-to-back `xdotool search` runs that find
// nothing, the resolution a polling loop would have, and returns the median
// and the slowest.
func xdotoolPollCost(xv *xtest.Server, n int) (med, slowest time.Duration) {
	var ds []time.Duration
	for range n {
		t := time.Now()
		_, _ = xv.FindWindows("no such window")
		d := time.Since(t)
		ds = append(ds, d)
		slowest = max(slowest, d)
	}
	return median(ds), slowest
}

// vmRSS reads VmRSS of pid, in KiB.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

// logTail returns the last lines of the log at path, for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n  " + filepath.Base(path) + ":\n    " + strings.Join(lines, "\n    ")
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// xvfbDisplays is how many display numbers from -display on are tried.
const xvfbDisplays = 20

// startup measures the time from exec to a visible window and the RSS
// idleDelay later, for the bare window (A) and postcard (B) without and with
// a saved account, alternating A B A B.
func (b *bench) startup() error {
	xv, err := xtest.Start(b.opts.display, b.opts.display+xvfbDisplays-1)
	if err != nil {
		return err
	}
	defer xv.Stop()
	// One connection, kept open, learns the moment each window is mapped
	// (see xtest: polling xdotool would be a coarse clock).
	x, err := xv.Dial()
	if err != nil {
		return err
	}
	defer x.Close()
	if err := x.WatchMaps(); err != nil {
		return err
	}
	fmt.Printf("Xvfb on %s\n", xv.Display)

	base := []string{"DISPLAY=" + xv.Display, "FYNE_THEME=light", "SSL_CERT_DIR=" + b.caDir}
	bare := windowApp{label: "bare window", bin: b.bare, title: "Bare",
		env: env(append(base, "XDG_CONFIG_HOME="+b.cfgEmpty)...)}
	noAccount := windowApp{label: "postcard, no account", bin: b.postcard, title: "Postcard",
		env: env(append(base, "XDG_CONFIG_HOME="+b.cfgEmpty)...)}
	account := windowApp{label: "postcard, account saved", bin: b.postcard, title: "Postcard",
		env: env(append(base, "XDG_CONFIG_HOME="+b.cfgAccount)...)}

	pollCost, pollMax := xdotoolPollCost(xv, 20)
	fmt.Printf("a back-to-back `xdotool search` takes %s (median of 20; slowest %s)\n", ms(pollCost), ms(pollMax))

	results := map[string][]startRun{}
	logPath := func(a windowApp) string {
		return filepath.Join(b.work, strings.ReplaceAll(strings.ReplaceAll(a.label, ",", ""), " ", "-")+".log")
	}
	// One unmeasured start of each warms the page cache and Mesa's shader
	// cache, and tells Postcard's window size.
	var size startRun
	for _, a := range []windowApp{bare, noAccount, account} {
		r, err := startOnce(xv, x, a, logPath(a))
		if err != nil {
			return err
		}
		if a.label == noAccount.label {
			size = r
		}
	}
	// The bare window at Postcard's size: the same number of pixels for
	// Mesa's software renderer to draw. For information; the goals are
	// against the bare window as it is.
	bareSized := windowApp{label: "bare window, Postcard's size", bin: b.bare, title: "Bare",
		env: env(append(base, "XDG_CONFIG_HOME="+b.cfgEmpty, fmt.Sprintf("BAREWINDOW_SIZE=%dx%d", size.width, size.height))...)}
	if _, err := startOnce(xv, x, bareSized, logPath(bareSized)); err != nil {
		return err
	}
	if exists(filepath.Join(b.cfgEmpty, "postcard", "account.json")) {
		return errors.New("postcard saved an account while idle: the no-account runs would not be")
	}
	order := []windowApp{bare, noAccount, bareSized, account}
	for i := range b.opts.runs {
		for _, a := range order {
			r, err := startOnce(xv, x, a, logPath(a))
			if err != nil {
				return err
			}
			results[a.label] = append(results[a.label], r)
			fmt.Printf("run %d  %-28s  visible after %7s  RSS %6.1f MiB  %dx%d\n",
				i+1, a.label, ms(r.startup), mib(r.rssKiB), r.width, r.height)
		}
	}

	A := results[bare.label]
	aStart := median(pluck(A, startRun.startupTime))
	aRSS := median(pluck(A, startRun.idleRSS))
	for _, v := range []struct {
		app  windowApp
		pane string
	}{{noAccount, "no account: settings pane"}, {account, "account saved: compose pane"}} {
		B := results[v.app.label]
		bStart := median(pluck(B, startRun.startupTime))
		ratio := float64(bStart) / float64(aStart)
		b.rep.add(row{
			figure:   "Start-up to visible window (" + v.pane + ")",
			postcard: ms(bStart), anchor: ms(aStart) + " bare window",
			ratio: ratioText(ratio, 1.25), goal: "≤ 1.25×", met: ratio <= 1.25,
		})
		bRSS := median(pluck(B, startRun.idleRSS))
		diff := mib(bRSS) - mib(aRSS)
		b.rep.add(row{
			figure:   "Idle RSS 2 s after visible (" + v.pane + ")",
			postcard: fmt.Sprintf("%.1f MiB", mib(bRSS)), anchor: fmt.Sprintf("%.1f MiB bare window", mib(aRSS)),
			ratio: fmt.Sprintf("%+.1f MiB", diff), goal: "≤ bare + 30 MiB", met: diff <= 30,
		})
	}

	S := results[bareSized.label]
	sStart, sRSS := median(pluck(S, startRun.startupTime)), median(pluck(S, startRun.idleRSS))
	for _, v := range []struct {
		app  windowApp
		pane string
	}{{noAccount, "no account"}, {account, "account saved"}} {
		B := results[v.app.label]
		b.rep.add(row{
			figure:   "Start-up, against a bare window of Postcard's size (" + v.pane + ")",
			postcard: ms(median(pluck(B, startRun.startupTime))), anchor: ms(sStart) + " bare window, same size",
			ratio: fmt.Sprintf("%.2f×", float64(median(pluck(B, startRun.startupTime)))/float64(sStart)), goal: "(information)", noGoal: true,
		})
		b.rep.add(row{
			figure:   "Idle RSS, against a bare window of Postcard's size (" + v.pane + ")",
			postcard: fmt.Sprintf("%.1f MiB", mib(median(pluck(B, startRun.idleRSS)))), anchor: fmt.Sprintf("%.1f MiB bare window, same size", mib(sRSS)),
			ratio: fmt.Sprintf("%+.1f MiB", mib(median(pluck(B, startRun.idleRSS)))-mib(sRSS)), goal: "(information)", noGoal: true,
		})
	}

	var samples strings.Builder
	fmt.Fprintf(&samples, "Runs in order %s; %s; %s; %s, repeated %d times, after one unmeasured run of each; each figure is the median.\n\n",
		bare.label, noAccount.label, bareSized.label, account.label, b.opts.runs)
	samples.WriteString("| program | start-up, each run (ms) | idle RSS, each run (MiB) | window | found by xdotool |\n|---|---|---|---|---|\n")
	for _, a := range []windowApp{bare, bareSized, noAccount, account} {
		rs := results[a.label]
		found := 0
		for _, r := range rs {
			if r.xdotoolFound {
				found++
			}
		}
		var st, rss []string
		for _, r := range rs {
			st = append(st, fmt.Sprintf("%.0f", float64(r.startup)/1e6))
			rss = append(rss, fmt.Sprintf("%.1f", mib(r.rssKiB)))
		}
		fmt.Fprintf(&samples, "| %s | %s | %s | %d×%d | %d of %d |\n", a.label, strings.Join(st, " "),
			strings.Join(rss, " "), rs[0].width, rs[0].height, found, len(rs))
	}
	fmt.Fprintf(&samples, "\n\"Visible\" is the moment the X server reported the window mapped: a MapNotify on the root window, read on one connection the driver keeps open and stamped on arrival. Right after each, `xdotool search --onlyvisible --name '^TITLE$'` confirmed it finds that same window (last column). The driver does not time by polling xdotool: a back-to-back `xdotool search` took %s here (median of 20, slowest %s), and each is a new X client, which Xvfb can be slow to accept right after another has left; a polling loop would have that resolution and would compete with the measured program's own connection to the X server.\n\nThe bare window opens at the least size its content needs, Postcard's much larger; the rows \"against a bare window of Postcard's size\" compare with the bare window opened at Postcard's size (`BAREWINDOW_SIZE`), since Mesa's software renderer draws every pixel.\n", ms(pollCost), ms(pollMax))
	b.rep.section("Start-up and idle memory", samples.String())
	return nil
}

func (r startRun) startupTime() time.Duration { return r.startup }
func (r startRun) idleRSS() int64             { return r.rssKiB }
