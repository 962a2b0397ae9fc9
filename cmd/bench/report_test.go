//go:build bench

package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseBenchLine(t *testing.T) {
	tests := []struct {
		line string
		want benchLine
		ok   bool
	}{
		{line: "BenchmarkPrepare_10MiBAttachment-2   	      50	  21763414 ns/op	 481.81 MB/s	50382124 B/op	     539 allocs/op",
			want: benchLine{name: "BenchmarkPrepare_10MiBAttachment", nsPerOp: 21763414, mbPerS: 481.81, bPerOp: 50382124, allocs: 539}, ok: true},
		{line: "BenchmarkWriteTo_10MiBAttachment-2   	      58	  19856145 ns/op	 528.09 MB/s	  14349733 msg-bytes	50363885 B/op	     114 allocs/op",
			want: benchLine{name: "BenchmarkWriteTo_10MiBAttachment", nsPerOp: 19856145, mbPerS: 528.09, bPerOp: 50363885, allocs: 114, msgBytes: 14349733}, ok: true},
		{line: "cpu: AMD EPYC"},
		{line: "PASS"},
		{line: "BenchmarkX-2 --- FAIL: something"},
	}
	for _, tt := range tests {
		got, ok := parseBenchLine(tt.line)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseBenchLine(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{9, 1, 5, 7}, 6},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	in := []int64{3, 1, 2}
	median(in)
	if in[0] != 3 {
		t.Errorf("median sorted its argument: %v", in)
	}
}

func TestReport_Markdown(t *testing.T) {
	r := &report{machine: [][2]string{{"CPU", "a|b"}}, loadStart: "0.50"}
	r.add(row{figure: "Start-up", postcard: "300 ms", anchor: "250 ms bare", ratio: "1.20×", goal: "≤ 1.25×", met: true})
	r.add(row{figure: "Peak RSS", postcard: "118 MiB", anchor: "12 MiB curl", ratio: "9.6×", goal: "≤ 64 MiB"})
	r.add(row{figure: "Info", noGoal: true})
	r.section("Notes", "text")
	md := r.markdown()
	for _, want := range []string{
		"| CPU | a\\|b |",
		"| Start-up | 300 ms | 250 ms bare | 1.20× | ≤ 1.25× | met |",
		"| Peak RSS | 118 MiB | 12 MiB curl | 9.6× | ≤ 64 MiB | **missed** |",
		"| Info |  |  |  |  | – |",
		"## Notes\n\ntext\n",
		"load average at the start: 0.50",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestRatioText(t *testing.T) {
	tests := []struct {
		r, goal float64
		want    string
	}{
		{1.2987, 1.3, "1.30×"},
		{1.3004, 1.3, "1.300×"}, // "1.30×" would read as met
		{1.2951, 1.3, "1.30×"},
		{1.45, 1.2, "1.45×"},
		{1.2049, 1.2, "1.205×"},
		{0.97, 1.1, "0.97×"},
	}
	for _, tt := range tests {
		if got := ratioText(tt.r, tt.goal); got != tt.want {
			t.Errorf("ratioText(%v, %v) = %q; want %q", tt.r, tt.goal, got, tt.want)
		}
	}
}
