//go:build bench

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/postcard-mail/postcard/cmd/internal/xtest"
)

// A window's CPU time is how the typing part measures its work and tells
// work from rest: under the private Xvfb, Mesa draws in software, so laying
// out and drawing a frame are CPU time of the window's own process.

const (
	// quietFor is how long a window must be idle to count as settled;
	// cpuPoll is how often its CPU time is read, and busyShare the share of
	// a core above which it is at work (see settle).
	quietFor  = 500 * time.Millisecond
	cpuPoll   = 5 * time.Millisecond
	busyShare = 0.5
	// settleLimit bounds each wait for a window to settle.
	settleLimit = 3 * time.Minute
)

// winProc is a program with its window mapped.
type winProc struct {
	label  string
	cmd    *exec.Cmd
	pid    int
	id     uint32 // the window
	win    string // the window id, for xdotool
	start  time.Time
	mapped time.Time
	// mapCPU is its CPU time when the driver learnt of the MapNotify.
	mapCPU cpuSample
	exited chan struct{}
	log    string

	mu      sync.Mutex
	samples []cpuSample // its CPU time every cpuPoll from its start on
}

// launchWindow starts bin with env, its output going to the file log, and
// waits for its window titled title, which x (after WatchMaps) sees mapped.
func launchWindow(x *xtest.Conn, label, bin, title string, env []string, log string) (*winProc, error) {
	p := &winProc{label: label, exited: make(chan struct{}), log: log}
	logf, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	x.Drain()
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	p.pid = p.cmd.Process.Pid
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	go p.record()
	m, err := x.WaitMapped(title, p.exited, 2*time.Minute)
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w%s", label, err, logTail(log))
	}
	p.mapped, p.id = m.At, m.Window
	p.win = strconv.FormatUint(uint64(m.Window), 10)
	if p.mapCPU, err = readCPU(p.pid); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// stop ends the program (SIGTERM, so that the bare window writes its text)
// and lets Xvfb finish with it before the next one connects.
func (p *winProc) stop() {
	xtest.StopProcess(p.cmd.Process, p.exited, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
}

// cpuSample is a process's CPU time (user and system, all its threads,
// those that ended included) at a moment.
type cpuSample struct {
	at  time.Time
	cpu time.Duration
}

// readCPU reads the CPU time of process pid from its CPU-time clock
// (clock_getcpuclockid(3)), to the nanosecond. /proc/PID/stat has the same
// sum but cut to 10 ms ticks, too coarse here: an idle window's 1 or 2%
// then shows as a whole tick now and then, which looks like work.
func readCPU(pid int) (cpuSample, error) {
	// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) of the kernel's
	// posix-timers.h, what clock_getcpuclockid(3) returns.
	clock := int32(^uint32(pid)<<3) | 2
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	at := time.Now()
	if errno != 0 {
		return cpuSample{}, fmt.Errorf("the CPU-time clock of process %d: %w", pid, errno)
	}
	return cpuSample{at: at, cpu: time.Duration(ts.Nano())}, nil
}

// record reads p's CPU time every cpuPoll until p exits.
func (p *winProc) record() {
	for {
		s, err := readCPU(p.pid)
		if err != nil {
			return // it exited
		}
		p.mu.Lock()
		p.samples = append(p.samples, s)
		p.mu.Unlock()
		select {
		case <-p.exited:
			return
		case <-time.After(cpuPoll):
		}
	}
}

// settle waits until p has been idle for quietFor after since and returns
// the sample that ended its last busy interval after since: when its work
// ended, to cpuPoll. An interval between two samples is busy when p used
// more than busyShare of a core in it; an idle Fyne window wakes up for a
// fraction of a millisecond now and then (1 to 2% of a core in all), a
// window at work keeps a core busy. If no interval after since is busy,
// settle returns the first sample after it.
func (p *winProc) settle(since time.Time) (cpuSample, error) {
	for {
		p.mu.Lock()
		var last, latest cpuSample
		for i, s := range p.samples {
			if s.at.Before(since) {
				continue
			}
			if last.at.IsZero() {
				last = s
			}
			if i > 0 {
				prev := p.samples[i-1]
				if float64(s.cpu-prev.cpu) > busyShare*float64(s.at.Sub(prev.at)) {
					last = s
				}
			}
			latest = s
		}
		p.mu.Unlock()
		if !last.at.IsZero() && latest.at.Sub(last.at) >= quietFor {
			return last, nil
		}
		if time.Since(since) > settleLimit {
			return last, fmt.Errorf("%s: still busy after %s", p.label, settleLimit)
		}
		select {
		case <-p.exited:
			return last, fmt.Errorf("%s exited%s", p.label, logTail(p.log))
		case <-time.After(quietFor / 5):
		}
	}
}

// settleNow waits for p to settle from now.
func (p *winProc) settleNow() (cpuSample, error) { return p.settle(time.Now()) }

// idleRate is p's CPU time per second over d, once settled.
func (p *winProc) idleRate(d time.Duration) (float64, error) {
	a, err := readCPU(p.pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b, err := readCPU(p.pid)
	if err != nil {
		return 0, err
	}
	return float64(b.cpu-a.cpu) / float64(b.at.Sub(a.at)), nil
}
