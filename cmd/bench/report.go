//go:build bench

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is what the benchmark found: one row per figure, then sections
// with the individual runs and notes.
type report struct {
	machine   [][2]string
	loadStart string
	started   time.Time
	finished  time.Time
	rows      []row
	sections  [][2]string // title, markdown
}

// row is one figure with its anchor and goal.
type row struct {
	figure   string
	postcard string
	anchor   string
	ratio    string // the ratio or difference the goal is about
	goal     string
	met      bool
	noGoal   bool // a figure reported for information
}

func (r *report) add(x row) { r.rows = append(r.rows, x) }

func (r *report) section(title, md string) {
	r.sections = append(r.sections, [2]string{title, md})
}

func (x row) verdict() string {
	switch {
	case x.noGoal:
		return "–"
	case x.met:
		return "met"
	}
	return "**missed**"
}

func (r *report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tPOSTCARD\tANCHOR\tRATIO\tGOAL\tMET")
	for _, x := range r.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.figure, x.postcard, x.anchor, x.ratio, x.goal,
			strings.Trim(x.verdict(), "*"))
	}
	tw.Flush()
}

func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (`cmd/bench`); do not edit by hand. Each figure is the median of its runs, and its anchor was run alternately with it (A B A B …) in the same session.\n\n")
	fmt.Fprintf(&b, "Measured %s, in %.0f s; 1-minute load average at the start: %s.\n\n",
		r.started.Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Seconds(), r.loadStart)
	b.WriteString("| | |\n|---|---|\n")
	for _, kv := range r.machine {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], strings.ReplaceAll(kv[1], "|", `\|`))
	}
	b.WriteString("\n## Results\n\n| figure | Postcard | anchor | ratio | goal | goal met |\n|---|---|---|---|---|---|\n")
	for _, x := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", x.figure, x.postcard, x.anchor, x.ratio, x.goal, x.verdict())
	}
	for _, s := range r.sections {
		fmt.Fprintf(&b, "\n## %s\n\n%s", s[0], s[1])
		if !strings.HasSuffix(s[1], "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// machineInfo describes this machine and toolchain.
func machineInfo() [][2]string {
	var info [][2]string
	if out, err := exec.Command("uname", "-a").Output(); err == nil {
		info = append(info, [2]string{"machine", strings.TrimSpace(string(out))})
	}
	info = append(info, [2]string{"CPU", cpuModel()})
	info = append(info, [2]string{"cores", strconv.Itoa(runtime.NumCPU())})
	info = append(info, [2]string{"memory", memTotal()})
	if out, err := exec.Command("go", "version").Output(); err == nil {
		info = append(info, [2]string{"Go", strings.TrimSpace(string(out))})
	}
	info = append(info, [2]string{"Fyne", moduleVersion("fyne.io/fyne/v2")})
	info = append(info, [2]string{"go-mail", moduleVersion("github.com/wneessen/go-mail")})
	for _, t := range []struct{ name, cmd, arg string }{
		{"curl", "curl", "--version"},
		{"Xvfb", "Xvfb", "-version"},
	} {
		if out, err := exec.Command(t.cmd, t.arg).CombinedOutput(); err == nil {
			info = append(info, [2]string{t.name, firstMatching(string(out), t.name)})
		}
	}
	return info
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			f := strings.Fields(rest)
			if kib, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
			}
		}
	}
	return "unknown"
}

// moduleVersion is the version of mod that go.mod selects.
func moduleVersion(mod string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", mod).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func firstMatching(out, word string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(l), strings.ToLower(word)) {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
}

// loadAvg returns the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// waitQuiet waits, polling every 30 s, up to max for the 1-minute load
// average to be at most limit, and describes the load it started with.
func waitQuiet(limit float64, max time.Duration) string {
	start := time.Now()
	for {
		l := loadAvg()
		if l <= limit {
			waited := time.Since(start)
			if waited < time.Second {
				return fmt.Sprintf("%.2f", l)
			}
			return fmt.Sprintf("%.2f (after waiting %.0f s for it to fall to %.2f)", l, waited.Seconds(), limit)
		}
		if time.Since(start) >= max {
			return fmt.Sprintf("%.2f (**above %.2f**: other work was running on this machine; waited %.0f s)", l, limit, max.Seconds())
		}
		fmt.Printf("load average %.2f > %.2f: waiting for the machine to be quiet (%.0f s so far)\n", l, limit, time.Since(start).Seconds())
		time.Sleep(min(30*time.Second, max-time.Since(start)+time.Second))
	}
}

// median is the middle value, or the mean of the two middle ones.
func median[T ~int64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pluck is one field of each run.
func pluck[R, V any](rs []R, field func(R) V) []V {
	out := make([]V, len(rs))
	for i, r := range rs {
		out[i] = field(r)
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func mib(kib int64) float64 { return float64(kib) / 1024 }

// ratioText shows ratio r to two decimals, or to three when two would put
// it on the wrong side of goal to the reader (1.3004× shown as "1.30×"
// next to "≤ 1.3×" and "missed").
func ratioText(r, goal float64) string {
	s := fmt.Sprintf("%.2f×", r)
	var shown float64
	fmt.Sscanf(s, "%g", &shown)
	if (shown <= goal) != (r <= goal) {
		s = fmt.Sprintf("%.3f×", r)
	}
	return s
}
