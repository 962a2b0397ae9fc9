package main

// End-to-end tests of the postcard binary against what is not meant to
// happen: hostile servers, files that never end, signals while blocked,
// account files others could write, two logins at once, no session bus.
// They bound memory and time (the child's peak RSS as /usr/bin/time sees
// it, the time from a signal to its exit) rather than measure speed.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a postcard started by start, not yet waited for.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	started        time.Time
	rssFile        string // where /usr/bin/time writes the peak RSS
}

// startOpts says how to start postcard beyond env's defaults.
type startOpts struct {
	stdin io.Reader // default: empty
	env   []string  // default: env.environ()
	attr  *syscall.SysProcAttr
	bin   string // default: e2e.bin
	dir   string // default: env.home
	// measure runs postcard under /usr/bin/time, when there is one, for
	// its peak RSS: the rusage of a child of the test binary starts from
	// the test binary's own, as vfork shares it until the exec.
	measure bool
}

func (env *e2eEnv) start(t *testing.T, o startOpts, args ...string) *proc {
	t.Helper()
	bin := o.bin
	if bin == "" {
		bin = e2e.bin
	}
	p := &proc{}
	if o.measure {
		if timeBin, err := exec.LookPath("/usr/bin/time"); err == nil {
			p.rssFile = filepath.Join(t.TempDir(), "maxrss")
			args = append([]string{"-f", "%M", "-o", p.rssFile, bin}, args...)
			bin = timeBin
		}
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = o.env
	if p.cmd.Env == nil {
		p.cmd.Env = env.environ()
	}
	p.cmd.Dir = o.dir
	if p.cmd.Dir == "" {
		p.cmd.Dir = env.home
	}
	p.cmd.Stdin = o.stdin
	if p.cmd.Stdin == nil {
		p.cmd.Stdin = strings.NewReader("")
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = o.attr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("postcard %s: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// wait waits for p at most limit, killing it after, and returns how it
// ended and, if it was started to measure it, its peak RSS in KiB (-1 when
// it cannot be known).
func (p *proc) wait(t *testing.T, limit time.Duration) (runResult, int64) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("postcard %s: still running after %s\nstderr:\n%s", strings.Join(p.cmd.Args[1:], " "), limit, p.stderr.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	r := runResult{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
	t.Logf("$ postcard %s\n# exit %d\n# stdout:\n%s# stderr:\n%s", strings.Join(p.cmd.Args[1:], " "), r.code, r.stdout, r.stderr)
	rss := int64(-1)
	if p.rssFile != "" {
		b, _ := os.ReadFile(p.rssFile)
		if n, err := strconv.ParseInt(strings.TrimSpace(lastLine(string(b))), 10, 64); err == nil {
			rss = n
		}
	}
	return r, rss
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// wantRSS checks a peak RSS in KiB against max MiB, when it is known.
func wantRSS(t *testing.T, rss, max int64) {
	t.Helper()
	if rss < 0 {
		t.Log("peak RSS unknown: no /usr/bin/time")
		return
	}
	t.Logf("peak RSS %.1f MiB", float64(rss)/1024)
	if rss > max<<10 {
		t.Errorf("peak RSS %d MiB, more than %d MiB", rss>>10, max)
	}
}

// blockedIn waits until a thread of pid sleeps in a kernel function whose
// name holds one of names (as /proc/PID/task/*/wchan shows it), so that a
// signal is sent while postcard is blocked, not before it got there. It
// reports false if the kernel does not say within 10 s.
func blockedIn(pid int, names ...string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, n := range names {
				if strings.Contains(string(b), n) {
					return true
				}
			}
		}
		time.Sleep(10 * time.Millisecond) // polling the kernel's view; nothing to wait on
	}
	return false
}

// The process holding the password cannot be dumped: /proc/PID/mem and the
// like belong to root however it runs (PR_SET_DUMPABLE 0, so other
// processes of the user cannot read its memory) and its core size limit
// is 0.
func TestE2E_NonDumpable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_DUMPABLE is Linux's")
	}
	env := newE2E(t)
	o := startOpts{}
	if os.Getuid() == 0 {
		// Root's process is root's either way: run as nobody, from a
		// folder nobody can read.
		dir, err := os.MkdirTemp("", "postcard-nodump-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o755)
		bin := filepath.Join(dir, "postcard")
		data, err := os.ReadFile(e2e.bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		o.bin = bin
		o.attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		o.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
		o.dir = dir
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	o.stdin = pr
	p := env.start(t, o, "login", "--host", "127.0.0.1", "--username", env.user, "--password-stdin", "--no-verify")
	pr.Close()
	pid := p.cmd.Process.Pid
	if !blockedIn(pid, "pipe_read", "pipe_wait") {
		t.Log("the kernel does not say where postcard waits")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/mem", pid), &st); err != nil {
		t.Fatal(err)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	limits, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	p.cmd.Process.Kill()
	t.Logf("/proc/%d/mem owned by %d; %s", pid, st.Uid, firstLineWith(string(status), "Uid:"))
	if st.Uid != 0 {
		t.Errorf("/proc/%d/mem belongs to uid %d: the process is dumpable", pid, st.Uid)
	}
	if l := firstLineWith(string(limits), "Max core file size"); !strings.Contains(l, " 0 ") {
		t.Errorf("core size limit: %q", l)
	}
}

func firstLineWith(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
