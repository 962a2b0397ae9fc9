//go:build bench

package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// benchLine is one result line of go test -bench -benchmem.
type benchLine struct {
	name     string
	nsPerOp  float64
	mbPerS   float64
	bPerOp   float64
	allocs   float64
	msgBytes float64 // the custom msg-bytes metric, if reported
}

// parseBenchLine parses a line like
//
//	BenchmarkX-2   50   21763414 ns/op   481.81 MB/s   50382124 B/op   539 allocs/op
func parseBenchLine(line string) (benchLine, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return benchLine{}, false
	}
	l := benchLine{name: f[0]}
	if i := strings.LastIndexByte(l.name, '-'); i > 0 {
		l.name = l.name[:i]
	}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return benchLine{}, false
		}
		switch f[i+1] {
		case "ns/op":
			l.nsPerOp = v
		case "MB/s":
			l.mbPerS = v
		case "B/op":
			l.bPerOp = v
		case "allocs/op":
			l.allocs = v
		case "msg-bytes":
			l.msgBytes = v
		}
	}
	return l, l.nsPerOp > 0
}

// goBench runs the mailer's benchmarks for a message with a 10 MiB
// attachment.
func (b *bench) goBench() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"test", "-run", "^$", "-bench", "_10MiBAttachment$", "-benchmem", "-count", "1", "./mailer/"}
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	fmt.Print(string(out))
	var raw []string
	var msgBytes float64
	var lines []benchLine
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "cpu:") || strings.HasPrefix(line, "Benchmark") {
			raw = append(raw, strings.TrimSpace(line))
		}
		if l, ok := parseBenchLine(line); ok {
			lines = append(lines, l)
			if l.msgBytes > 0 {
				msgBytes = l.msgBytes
			}
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("no benchmark results in:\n%s", out)
	}
	for _, l := range lines {
		speed := ""
		if l.mbPerS > 0 {
			speed = fmt.Sprintf("%.0f MB/s, ", l.mbPerS)
		}
		r := row{
			figure:   "Go benchmark " + strings.TrimPrefix(l.name, "Benchmark"),
			postcard: fmt.Sprintf("%.2f ms/op, %s%.2f MB/op, %.0f allocs/op", l.nsPerOp/1e6, speed, l.bPerOp/1e6, l.allocs),
			anchor:   "–", ratio: "–", goal: "(none set)", noGoal: true,
		}
		if msgBytes > 0 {
			// The issue's "attachments are streamed, never held whole in
			// memory": then an operation allocates far less than the
			// message it writes.
			r.anchor = fmt.Sprintf("%.1f MB encoded message", msgBytes/1e6)
			r.ratio = fmt.Sprintf("%.1f× the message allocated", l.bPerOp/msgBytes)
			r.goal, r.noGoal = "< 1× (streamed)", false
			r.met = l.bPerOp < msgBytes
		}
		b.rep.add(r)
	}
	b.rep.section("Go benchmarks", fmt.Sprintf("`go %s` (MB/s counts the attachment's raw bytes; msg-bytes is the encoded message):\n\n```\n%s\n```\n",
		strings.Join(args, " "), strings.Join(raw, "\n")))
	return b.suggestBench()
}

// suggestBench runs the address suggestions' benchmark: each query over
// 10,000 contacts and 5,000 Sent recipients must take at most 1 ms.
func (b *bench) suggestBench() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkSuggest$", "-benchmem", "-count", "1", "./mailer/contacts/"}
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	fmt.Print(string(out))
	var raw []string
	worst := benchLine{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Benchmark") {
			raw = append(raw, strings.TrimSpace(line))
		}
		if l, ok := parseBenchLine(line); ok && l.nsPerOp > worst.nsPerOp {
			worst = l
		}
	}
	if worst.nsPerOp == 0 {
		return fmt.Errorf("no benchmark results in:\n%s", out)
	}
	b.rep.add(row{
		figure:   "Suggestions, slowest query over 10,000 contacts and 5,000 Sent recipients",
		postcard: fmt.Sprintf("%.1f µs/op (%s)", worst.nsPerOp/1e3, strings.TrimPrefix(worst.name, "BenchmarkSuggest/")),
		anchor:   "–", ratio: "–", goal: "≤ 1 ms", met: worst.nsPerOp <= 1e6,
	})
	b.rep.section("Address suggestions", fmt.Sprintf("`go %s`:\n\n```\n%s\n```\n", strings.Join(args, " "), strings.Join(raw, "\n")))
	return nil
}
