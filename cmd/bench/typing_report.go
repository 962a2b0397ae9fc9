//go:build bench

package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

func (r keyRun) perKeyCPU() time.Duration          { return r.perKey }
func (r pasteRun) shownAfter() time.Duration       { return r.shown }
func (r startRunLong) mappedAfter() time.Duration  { return r.mapped }
func (r startRunLong) cpuAtMap() time.Duration     { return r.mapCPU }
func (r startRunLong) settledAfter() time.Duration { return r.settled }

// The cases' labels, as the typing part keys its runs.
const (
	keysPostcardShort  = "postcard 10"
	keysPostcardLong   = "postcard 5000"
	keysEntryShort     = "entry 10"
	keysEntryLong      = "entry 1000"
	pastePostcard      = "postcard 5000"
	pasteEntry         = "entry 1000"
	startBare          = "bare window"
	startPostcardLong  = "postcard 5000"
	startPostcardShort = "postcard 10"
)

// caseName is how the report names a case.
var caseName = map[string]string{
	"postcard 10":   "Postcard, 10 lines",
	"postcard 5000": fmt.Sprintf("Postcard, %d lines", longLines),
	"entry 10":      "Fyne Entry, 10 lines",
	"entry 1000":    fmt.Sprintf("Fyne Entry, %d lines", entryLines),
	"bare window":   "bare window",
}

// report adds the typing part's rows and its section with every run.
func (t *typingEnv) report(keys map[string][]keyRun, pastes map[string][]pasteRun, starts map[string][]startRunLong) {
	rep := t.b.rep
	perKey := func(label string) time.Duration { return median(pluck(keys[label], keyRun.perKeyCPU)) }
	pc10, pcLong := perKey(keysPostcardShort), perKey(keysPostcardLong)
	e10, eLong := perKey(keysEntryShort), perKey(keysEntryLong)
	rep.add(row{figure: "CPU per keystroke, 10-line body", postcard: ms(pc10), anchor: ms(e10) + " Fyne Entry",
		ratio: fmt.Sprintf("%.2f×", float64(pc10)/float64(e10)), goal: "(information)", noGoal: true})
	rep.add(row{figure: "CPU per keystroke, 5,000-line body", postcard: ms(pcLong),
		anchor: ms(eLong) + fmt.Sprintf(" Fyne Entry at %d lines", entryLines),
		ratio:  fmt.Sprintf("%.2f×", float64(pcLong)/float64(eLong)), goal: "(information)", noGoal: true})
	ratio := float64(pcLong) / float64(pc10)
	rep.add(row{figure: "CPU per keystroke, 5,000 lines against 10", postcard: fmt.Sprintf("%.2f×", ratio),
		anchor: fmt.Sprintf("%.1f× Fyne Entry (%d lines against 10)", float64(eLong)/float64(e10), entryLines),
		ratio:  ratioText(ratio, 2), goal: "≤ 2×", met: ratio <= 2})

	pp := median(pluck(pastes[pastePostcard], pasteRun.shownAfter))
	pe := median(pluck(pastes[pasteEntry], pasteRun.shownAfter))
	rep.add(row{figure: fmt.Sprintf("Paste of 5,000 lines (%d KB) until drawn", len(bodyText(longLines))/1000), postcard: ms(pp),
		anchor: ms(pe) + fmt.Sprintf(" Fyne Entry, %d lines", entryLines),
		ratio:  fmt.Sprintf("%.2f×", float64(pp)/float64(pe)), goal: "≤ 500 ms", met: pp <= 500*time.Millisecond})

	med := func(label string, f func(startRunLong) time.Duration) time.Duration {
		return median(pluck(starts[label], f))
	}
	sb, sl := med(startBare, startRunLong.mappedAfter), med(startPostcardLong, startRunLong.mappedAfter)
	ratio = float64(sl) / float64(sb)
	rep.add(row{figure: "Start-up to visible window, 5,000-line draft", postcard: ms(sl), anchor: ms(sb) + " bare window",
		ratio: ratioText(ratio, 1.25), goal: "≤ 1.25×", met: ratio <= 1.25})
	cb, cl := med(startBare, startRunLong.cpuAtMap), med(startPostcardLong, startRunLong.cpuAtMap)
	rep.add(row{figure: "CPU time until the window is visible, 5,000-line draft", postcard: ms(cl), anchor: ms(cb) + " bare window",
		ratio: fmt.Sprintf("%.2f×", float64(cl)/float64(cb)), goal: "(information)", noGoal: true})
	ss, sp := med(startBare, startRunLong.settledAfter), med(startPostcardLong, startRunLong.settledAfter)
	rep.add(row{figure: "Start-up until the window's work ended (first frames drawn), 5,000-line draft", postcard: ms(sp),
		anchor: ms(ss) + " bare window", ratio: fmt.Sprintf("%.2f×", float64(sp)/float64(ss)), goal: "(information)", noGoal: true})

	rep.section("Long text: typing, paste and start-up", t.markdown(keys, pastes, starts))
}

// markdown describes the typing part's method and lists every run.
func (t *typingEnv) markdown(keys map[string][]keyRun, pastes map[string][]pasteRun, starts map[string][]startRunLong) string {
	var md strings.Builder
	fmt.Fprintf(&md, "Postcard's body is its own editor (ui/editor); the anchor is Fyne's multi-line `Entry` with word wrap, alone and focused in the bare window (`BAREWINDOW_TEXT`) at Postcard's window size (%s), with the same text: lines of about 83 bytes (5,000 lines are %d KB). **The Entry is measured at %d lines, not 5,000**: at 5,000 lines a keystroke costs it about 4 s of CPU without drawing (ui/editor's Go benchmarks) and a paste took 10 to 70 s to show (issue 11), minutes a run. Both run on the private Xvfb with Mesa's software GL, so laying out and drawing are CPU time of the window's own process, and both with Fyne's animations off (`no_animations` in Fyne's settings file, in the part's own config folder): a focused Entry's blinking cursor redraws the window about a dozen times a second, idle CPU that is no keystroke's cost (Postcard's editor does not blink). %d runs, each going through every case in turn, the Entry beside Postcard, after one unmeasured run of Postcard, the bare window and the Entry.\n\n",
		t.size, len(bodyText(longLines))/1000, entryLines, t.b.opts.runs)

	fmt.Fprintf(&md, "**CPU time** is read from the process's CPU-time clock (`clock_getcpuclockid`: user and system time of all its threads, to the nanosecond), the sum /proc/PID/stat has as utime+stime in 10 ms ticks. A window is *settled* once it has been idle for %d ms: no %d ms interval between two reads in which it used more than %.0f%% of a core (an idle Fyne window wakes up for a fraction of a millisecond now and then, 1 to 2%% of a core in all); its work *ended* at the last busy interval.\n\n",
		quietFor/time.Millisecond, cpuPoll/time.Millisecond, 100*busyShare)
	fmt.Fprintf(&md, "**Keystrokes.** The window opens with the text saved (Postcard: a draft in its message store, as the window saves it; the Entry: the text of a file), the body gets the focus (Postcard: Tab from To through Cc, Bcc and Subject; the Entry has it) and the window settles; then xdotool types %d characters (letters and spaces) %d ms apart, with the X server's key repeat off (`xset r off`: on a busy machine it repeated a key now and then for the slow Entry). CPU per keystroke is the CPU time from before the first key until the work ended after the last, divided by %d; the idle CPU before typing (below) is not subtracted. For Postcard that span includes the autosave, due 2 s after a change: the run waits until the saved draft holds the typed text, which also proves that the keys landed in the body; the bare window writes its text to a file when it quits, which shows the same for the Entry.\n\n",
		typedKeys, keyDelay/time.Millisecond, typedKeys)
	md.WriteString("| case | CPU per key, each run (ms) | idle CPU before typing, each run (%) | first key to work ended, each run (s) |\n|---|---|---|---|\n")
	for _, label := range []string{keysPostcardShort, keysPostcardLong, keysEntryShort, keysEntryLong} {
		var a, b, c []string
		for _, r := range keys[label] {
			a = append(a, fmt.Sprintf("%.2f", float64(r.perKey)/1e6))
			b = append(b, fmt.Sprintf("%.1f", 100*r.idle))
			c = append(c, fmt.Sprintf("%.1f", r.wall.Seconds()))
		}
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", caseName[label], strings.Join(a, " "), strings.Join(b, " "), strings.Join(c, " "))
	}

	md.WriteString("\n**Paste.** xclip holds the text on the CLIPBOARD; the window opens empty (Postcard: no draft, so a new one), the body gets the focus as above, the window settles, and xdotool presses Ctrl+V. The paste counts as shown when the window's work ended: laying out and drawing the frame that shows the text are that process's own CPU time, so the frame is drawn by then, to 5 ms. The key is pressed by a new xdotool process, whose start (about 10 ms, the same for both) is counted, and so is the transfer from xclip, as for a user. To check that nothing was drawn after that moment, a screenshot taken once the window settled is compared with one taken a second later (\"final\" below). Postcard's saved draft and the Entry's text when it quits are then checked to hold exactly the pasted text.\n\n")
	md.WriteString("| case | shown after, each run (ms) | CPU meanwhile, each run (ms) | final |\n|---|---|---|---|\n")
	for _, label := range []string{pastePostcard, pasteEntry} {
		var a, b []string
		final := 0
		for _, r := range pastes[label] {
			a = append(a, fmt.Sprintf("%.0f", float64(r.shown)/1e6))
			b = append(b, fmt.Sprintf("%.0f", float64(r.cpu)/1e6))
			if r.final {
				final++
			}
		}
		fmt.Fprintf(&md, "| %s | %s | %s | %d of %d |\n", caseName[label], strings.Join(a, " "), strings.Join(b, " "), final, len(pastes[label]))
	}

	md.WriteString("\n**Start-up with a long draft.** As in the start-up part: exec to the window's MapNotify, Postcard with the account saved (compose pane) and a draft saved, against the bare window as it is (label, entry and button at the least size they need). Postcard reads the draft and fills the body before it shows the window, so the window is mapped with the text in it. For information: the window's CPU time when the MapNotify arrived, which the machine's load stretches less than wall time, and the time from exec until its work ended, which includes drawing the first frames.\n\n")
	md.WriteString("| program | visible after, each run (ms) | CPU by then, each run (ms) | work ended after, each run (ms) |\n|---|---|---|---|\n")
	for _, label := range []string{startBare, startPostcardLong, startPostcardShort} {
		var a, b, c []string
		for _, r := range starts[label] {
			a = append(a, fmt.Sprintf("%.0f", float64(r.mapped)/1e6))
			b = append(b, fmt.Sprintf("%.0f", float64(r.mapCPU)/1e6))
			c = append(c, fmt.Sprintf("%.0f", float64(r.settled)/1e6))
		}
		name := caseName[label]
		if label != startBare {
			name = strings.Replace(name, " lines", "-line draft", 1)
		}
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", name, strings.Join(a, " "), strings.Join(b, " "), strings.Join(c, " "))
	}

	lo, hi := -1.0, -1.0
	for _, rs := range keys {
		for _, r := range rs {
			if lo < 0 || r.load < lo {
				lo = r.load
			}
			hi = max(hi, r.load)
		}
	}
	fmt.Fprintf(&md, "\nThe 1-minute load average at the start of the runs ranged from %.2f to %.2f on %d cores; other work stretches wall times (paste, start-up) more than CPU times (keystrokes).\n", lo, hi, runtime.NumCPU())
	if len(t.shots) > 0 {
		fmt.Fprintf(&md, "\nScreenshots of the first run (kept with -keep): %s.\n", strings.Join(t.shots, ", "))
	}
	return md.String()
}
