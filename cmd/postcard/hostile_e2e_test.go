package main

// End-to-end tests of the postcard binary against what is not meant to
// happen: hostile servers, files that never end, signals while blocked,
// account files others could write, two logins at once, no session bus.
// They bound memory and time (the child's peak RSS as /usr/bin/time sees
// it, the time from a signal to its exit) rather than measure speed.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/sys/unix"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
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

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// A body that never ends, from a device, a pipe or a file too large, is
// refused past the 20 MB limit (exit 65, naming where it came from), with
// the memory that limit costs and no more.
func TestE2E_BodyFileBounded(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	big := filepath.Join(env.home, "big.txt")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 25_000_000); err != nil { // sparse
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		file  string
		stdin io.Reader
		names string
	}{
		{"/dev/zero", "/dev/zero", nil, "/dev/zero"},
		{"endless stdin", "-", endless{}, "standard input"},
		{"25 MB file", big, nil, "big.txt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := env.start(t, startOpts{stdin: tt.stdin, measure: true}, "send", "--json", "--to", "ann@example.org", "--subject", "big", "--body-file", tt.file)
			r, rss := p.wait(t, 60*time.Second)
			t.Logf("took %s", time.Since(p.started).Round(time.Millisecond))
			m := r.wantFailure(t, exitDataErr, mailer.KindTooLarge, mailer.StageValidate)
			if !strings.Contains(m["error"].(string), tt.names) {
				t.Errorf("error %q does not name %s", m["error"], tt.names)
			}
			// The 20 MB read, and what growing a buffer to it costs.
			wantRSS(t, rss, 120)
		})
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("server saw %d sessions", n)
	}
}

// The first SIGTERM or Ctrl+C ends the command at once, also while it is
// blocked opening a FIFO nobody writes to or reading a pipe that is slow.
func TestE2E_SignalWhileReadingBody(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	fifo := filepath.Join(env.home, "body.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	for _, tt := range []struct {
		name   string
		sig    os.Signal
		file   string
		wchans []string
	}{
		{"SIGTERM, FIFO without a writer", syscall.SIGTERM, fifo, []string{"partner", "fifo"}},
		{"SIGINT, FIFO without a writer", os.Interrupt, fifo, []string{"partner", "fifo"}},
		{"SIGTERM, slow pipe", syscall.SIGTERM, "-", []string{"pipe_read", "pipe_wait"}},
		{"SIGINT, slow pipe", os.Interrupt, "-", []string{"pipe_read", "pipe_wait"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			pw.WriteString("the first line, and nothing more for now\n")
			p := env.start(t, startOpts{stdin: pr}, "send", "--json", "--to", "ann@example.org", "--subject", "slow", "--body-file", tt.file)
			pr.Close()
			if !blockedIn(p.cmd.Process.Pid, tt.wchans...) {
				t.Log("the kernel does not say where postcard waits; signalling anyway")
			}
			sent := time.Now()
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			r, _ := p.wait(t, 10*time.Second)
			took := time.Since(sent)
			t.Logf("exited %s after the signal", took.Round(time.Millisecond))
			m := r.wantFailure(t, exitTempFail, mailer.KindCancelled, mailer.StageValidate)
			if !strings.Contains(m["error"].(string), "reading") {
				t.Errorf("error %q", m["error"])
			}
			if took > 2*time.Second {
				t.Errorf("took %s to exit after the first signal", took)
			}
		})
	}
}

// pty opens a pseudo-terminal: the master, and the slave to give postcard
// as its terminal.
func pty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	// Whatever postcard writes to the terminal is read and dropped.
	go io.Copy(io.Discard, m)
	return m, s
}

func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// The first Ctrl+C at the password prompt ends the login at once, with the
// terminal's echo back on.
func TestE2E_PasswordPromptCtrlC(t *testing.T) {
	env := newE2E(t)
	master, slave := pty(t)
	if !echoOn(t, slave) {
		t.Fatal("the new terminal has no echo")
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e2e.bin, "login", "--host", "127.0.0.1", "--port", "1", "--username", env.user, "--no-verify")
	cmd.Env, cmd.Dir = env.environ(), env.home
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderrW.Close()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var stderr bytes.Buffer
	prompted := make(chan struct{})
	go func() {
		br := bufio.NewReader(stderrR)
		var once sync.Once
		for {
			b, err := br.ReadByte()
			if err != nil {
				return
			}
			stderr.WriteByte(b)
			if strings.Contains(stderr.String(), "App-specific password") {
				once.Do(func() { close(prompted) })
			}
		}
	}()
	select {
	case <-prompted:
	case <-time.After(30 * time.Second):
		t.Fatal("no password prompt")
	}
	// The prompt is written just before the echo goes off.
	for deadline := time.Now().Add(10 * time.Second); echoOn(t, slave); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the echo never went off")
		}
	}
	sent := time.Now()
	master.Write([]byte{3}) // Ctrl+C: the terminal sends SIGINT
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the first Ctrl+C did not end the login")
	}
	took := time.Since(sent)
	t.Logf("exited %s after Ctrl+C with code %d", took.Round(time.Millisecond), cmd.ProcessState.ExitCode())
	if took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	if !echoOn(t, slave) {
		t.Error("the terminal was left with echo off")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitTempFail {
		t.Errorf("exit code %d, want %d", code, exitTempFail)
	}
	if _, err := os.Stat(env.accountFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an account was saved: %v", err)
	}
}

// An account file or folder another user could have written is not used:
// exit 78 naming the file, the fix in the hint, and no connection made.
func TestE2E_AccountFileUnsafe(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	file := env.accountFile()
	dir := filepath.Dir(file)
	for _, tt := range []struct {
		name      string
		break_    func() error
		repair    func() error
		fix, root string
	}{
		{"file writable by all", func() error { return os.Chmod(file, 0o666) }, func() error { return os.Chmod(file, 0o600) }, "chmod 600", ""},
		{"folder writable by group", func() error { return os.Chmod(dir, 0o770) }, func() error { return os.Chmod(dir, 0o700) }, "chmod 700", ""},
		{"file owned by another user", func() error { return os.Chown(file, 65534, -1) }, func() error { return os.Chown(file, os.Getuid(), -1) }, "chown", "root"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root != "" && os.Getuid() != 0 {
				t.Skip("only root can give a file to another user")
			}
			if err := tt.break_(); err != nil {
				t.Fatal(err)
			}
			defer tt.repair()
			for _, args := range [][]string{{"check", "--json"}, {"send", "--json", "--to", "ann@example.org", "--subject", "x", "--body", "x"}} {
				r := env.run(t, "", args...)
				r.wantCode(t, exitConfig)
				m := r.json(t)
				if m["kind"] != "config" || !strings.Contains(m["error"].(string), file) || !strings.Contains(m["hint"].(string), tt.fix) {
					t.Errorf("%s: %v, want config naming %s with %q in the hint", args[0], m, file, tt.fix)
				}
			}
		})
	}
	env.run(t, "", "check").wantCode(t, 0)
	if n := srv.Sessions(); n != 1 {
		t.Errorf("server saw %d sessions, want only the last check's", n)
	}
}

// A password saved for one server is not sent to another that the account
// file names later: the user is asked to sign in again.
func TestE2E_PasswordTiedToItsServer(t *testing.T) {
	env := newE2E(t)
	cert, err := e2e.ca.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, Cert: cert})
	env.login(t, srv)
	data, err := os.ReadFile(env.accountFile())
	if err != nil {
		t.Fatal(err)
	}
	// The same server by another name stands for another user's server.
	moved := bytes.Replace(data, []byte(`"host": "127.0.0.1"`), []byte(`"host": "localhost"`), 1)
	if bytes.Equal(moved, data) {
		t.Fatalf("no host in %s", data)
	}
	if err := os.WriteFile(env.accountFile(), moved, 0o600); err != nil {
		t.Fatal(err)
	}
	r := env.run(t, "", "check", "--json")
	m := r.wantFailure(t, exitConfig, mailer.KindKeychain, mailer.StageKeychain)
	if e := m["error"].(string); !strings.Contains(e, "saved for 127.0.0.1") || !strings.Contains(e, "not for localhost") {
		t.Errorf("error %q", e)
	}
	if !strings.Contains(m["hint"].(string), "postcard login") {
		t.Errorf("hint %q", m["hint"])
	}
	if at := srv.AuthAttempts(); len(at) != 1 {
		t.Errorf("logins %+v: the password went to the server named later", at)
	}
	// Signing in to the new name ties the password to it.
	env.run(t, env.password+"\n", "login", "--host", "localhost", "--password-stdin").wantCode(t, 0)
	env.run(t, "", "check").wantCode(t, 0)
}

// Two logins at once, one changing the username, never leave the account
// file naming a username whose password is gone.
func TestE2E_ConcurrentLogins(t *testing.T) {
	env := newE2E(t)
	other := "other-" + env.user
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = (mailer.Keychain{}).Delete(ctx, other)
	})
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	const rounds = 10
	for i := range rounds {
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for j, user := range []string{env.user, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := env.start(t, startOpts{stdin: strings.NewReader(env.password + "\n")}, "login", "--username", user, "--password-stdin", "--no-verify")
				r, _ := p.wait(t, 60*time.Second)
				codes[j] = r.code
			}()
		}
		wg.Wait()
		if codes[0] != 0 || codes[1] != 0 {
			t.Fatalf("round %d: exit codes %v", i, codes)
		}
		a, err := mailer.LoadAccount(filepath.Dir(env.accountFile()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		pw, err := (mailer.Keychain{}).GetFor(ctx, a)
		cancel()
		if err != nil || pw != env.password {
			t.Fatalf("round %d: the account names %s, whose password is %q (%v)", i, a.Username, pw, err)
		}
	}
}

// Without a session bus, postcard says there is no keychain and starts
// nothing: no dbus-daemon, no gnome-keyring-daemon left behind.
func TestE2E_NoSessionBus(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			t.Skipf("%s exists: this machine has a session bus without the variable", filepath.Join(run, name))
		}
	}
	var noBus []string
	for _, kv := range env.environ() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			noBus = append(noBus, kv)
		}
	}
	before := daemons(t)
	for _, args := range [][]string{{"check", "--json"}, {"logout"}, {"login", "--password-stdin", "--no-verify"}} {
		p := env.start(t, startOpts{env: noBus, stdin: strings.NewReader(env.password + "\n")}, args...)
		r, _ := p.wait(t, 30*time.Second)
		r.wantCode(t, exitConfig)
		if !strings.Contains(r.stdout+r.stderr, "no keychain (no D-Bus session)") {
			t.Errorf("postcard %s does not say there is no session bus", args[0])
		}
	}
	for pid, name := range daemons(t) {
		if _, ok := before[pid]; !ok {
			t.Errorf("%s (pid %d) was started", name, pid)
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill() // started by this test
			}
		}
	}
}

// daemons returns the running D-Bus and keyring daemons by pid.
func daemons(t *testing.T) map[int]string {
	t.Helper()
	out := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if strings.HasPrefix(name, "dbus-daemon") || strings.HasPrefix(name, "dbus-launch") || strings.HasPrefix(name, "gnome-keyring") {
			pid, _ := strconv.Atoi(filepath.Base(d))
			out[pid] = name
		}
	}
	return out
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

// hostile starts an smtptest.Hostile with the e2e CA's certificate.
func hostile(t *testing.T, cfg smtptest.HostileConfig) *smtptest.Hostile {
	t.Helper()
	if cfg.Mode != smtptest.NoTLS {
		cert, err := e2e.ca.ServerCert("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Cert = cert
	}
	h, err := smtptest.StartHostile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Nothing a server or a file name holds reaches the terminal raw: ESC, BEL,
// OSC, CSI and C1 come out escaped on stderr and in --json.
func TestE2E_ControlCharactersEscaped(t *testing.T) {
	env := newE2E(t)
	evil := "\x1b]0;owned\x07\x1b[2J\u009b31m\x7f\u202e"
	evilAddr := "ann\x1b[2Jowned\u009b31m\x7f\u202e@example.org" // no ';', which splits a list
	h := hostile(t, smtptest.HostileConfig{At: map[string]smtptest.Act{
		"mail": {Reply: "550 5.7.0 " + evil + " not yours\r\n"},
	}})
	env.run(t, env.password+"\n", "login", "--host", "127.0.0.1", "--port", strconv.Itoa(h.Port()),
		"--username", env.user, "--password-stdin", "--no-verify").wantCode(t, 0)
	raw := func(s string) bool {
		return strings.ContainsAny(s, "\x1b\x07\x7f\u009b\u202e")
	}
	for _, args := range [][]string{
		{"send", "--to", "ann@example.org", "--subject", "x", "--body", "x"},
		{"send", "--json", "--to", "ann@example.org", "--subject", "x", "--body", "x"},
		{"send", "--to", "ann@example.org", "--subject", "x", "--body", "x", "--attach", filepath.Join(env.home, "a"+evil+".pdf")},
		{"send", "--json", "--to", "ann@example.org", "--subject", "x", "--body", "x", "--attach", filepath.Join(env.home, "a"+evil+".pdf")},
		{"send", "--json", "--to", evilAddr, "--subject", "x", "--body", "x"},
		{"send", "--to", evilAddr, "--subject", "x", "--body", "x"},
	} {
		r := env.run(t, "", args...)
		if r.code == 0 {
			t.Errorf("postcard %v succeeded", args)
		}
		if raw(r.stdout) || raw(r.stderr) {
			t.Errorf("postcard %v printed control characters raw:\nstdout %q\nstderr %q", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, "owned") {
			t.Errorf("postcard %v: the text is missing, escaped or not", args)
		}
	}
}

// An attachment that changes between the check and the upload stops the
// send as invalid-message (65), naming the file; nothing is delivered.
func TestE2E_AttachmentChangesWhileSending(t *testing.T) {
	for _, change := range []string{"grows", "shrinks"} {
		t.Run(change, func(t *testing.T) {
			env := newE2E(t)
			att := filepath.Join(env.home, "report.pdf")
			if err := os.WriteFile(att, bytes.Repeat([]byte("r"), 100_000), 0o600); err != nil {
				t.Fatal(err)
			}
			srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, OnRcpt: func(string) *smtp.SMTPError {
				// The message is checked and encoded; the upload comes next.
				if change == "grows" {
					f, _ := os.OpenFile(att, os.O_APPEND|os.O_WRONLY, 0)
					f.WriteString("more")
					f.Close()
				} else {
					os.Truncate(att, 10)
				}
				return nil
			}})
			env.login(t, srv, "--no-verify")
			r := env.run(t, "", "send", "--json", "--to", "ann@example.org", "--subject", "x", "--body", "x", "--attach", att)
			m := r.wantFailure(t, exitDataErr, mailer.KindInvalidMessage, mailer.StageData)
			if !strings.Contains(m["error"].(string), "report.pdf") {
				t.Errorf("error %q does not name the file", m["error"])
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages delivered", n)
			}
		})
	}
}

// Old TLS and a refused STARTTLS are TLS failures (76), a flood of a reply
// a protocol one (76), all with the password unsent.
func TestE2E_HostileServers(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  smtptest.HostileConfig
		kind mailer.Kind
	}{
		{"TLS 1.1 only", smtptest.HostileConfig{MaxTLSVersion: 0x0302}, mailer.KindTLSVersion},
		{"STARTTLS answered 454", smtptest.HostileConfig{At: map[string]smtptest.Act{"starttls": {Reply: "454 4.7.0 TLS not available\r\n"}}}, mailer.KindTLSUnavailable},
		{"STARTTLS answered 500", smtptest.HostileConfig{At: map[string]smtptest.Act{"starttls": {Reply: "500 5.5.1 unknown\r\n"}}}, mailer.KindTLSUnavailable},
		{"endless greeting", smtptest.HostileConfig{At: map[string]smtptest.Act{"greeting": {Flood: smtptest.FloodLine}}}, mailer.KindProtocol},
		{"endless EHLO in the clear", smtptest.HostileConfig{At: map[string]smtptest.Act{"ehlo": {Flood: smtptest.FloodLines}}}, mailer.KindProtocol},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newE2E(t)
			h := hostile(t, tt.cfg)
			p := env.start(t, startOpts{stdin: strings.NewReader(env.password + "\n"), measure: true}, "login", "--json", "--host", "127.0.0.1",
				"--port", strconv.Itoa(h.Port()), "--username", env.user, "--password-stdin")
			r, rss := p.wait(t, 60*time.Second)
			t.Logf("took %s", time.Since(p.started).Round(time.Millisecond))
			r.wantCode(t, exitProtocol)
			if m := r.json(t); m["kind"] != string(tt.kind) {
				t.Errorf("kind %v, want %s", m["kind"], tt.kind)
			}
			wantRSS(t, rss, 40)
			for _, c := range h.Commands() {
				if strings.HasPrefix(c, "AUTH") {
					t.Errorf("the password was sent: %v", h.Commands())
				}
			}
		})
	}
}

// A config folder that is read-only or on a full disk: the login fails with
// exit 78 naming the folder, and leaves no password behind.
func TestE2E_ConfigFolderReadOnlyOrFull(t *testing.T) {
	for _, tt := range []struct {
		name, mount string
		fill        bool
	}{
		{"read-only", "ro,mode=0700", false},
		{"full", "size=64k,mode=0700", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newE2E(t)
			dir := filepath.Dir(env.accountFile())
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			args := []string{"login", "--json", "--host", "127.0.0.1", "--port", "1", "--username", env.user, "--password-stdin", "--no-verify"}
			o := startOpts{stdin: strings.NewReader(env.password + "\n")}
			want := "permission denied"
			switch {
			case os.Getuid() == 0:
				// Root writes anywhere: give the folder a file system of
				// its own, in a mount namespace that ends with postcard.
				unshare, err := exec.LookPath("unshare")
				if err != nil {
					t.Skip("no unshare(1)")
				}
				fill := "no"
				if tt.fill {
					fill = "fill"
				}
				script := `mount -t tmpfs -o "$1" postcard-test "$2" || exit 99
[ "$3" = fill ] && head -c 1000000 /dev/zero > "$2/fill" 2>/dev/null
shift 3
exec "$@"`
				o.bin = unshare
				args = append([]string{"-m", "sh", "-c", script, "sh", tt.mount, dir, fill, e2e.bin}, args...)
				want = "read-only file system"
				if tt.fill {
					want = "no space left on device"
				}
			case tt.fill:
				t.Skip("a full disk needs a file system of its own: root only")
			default:
				if err := os.Chmod(dir, 0o500); err != nil {
					t.Fatal(err)
				}
				defer os.Chmod(dir, 0o700)
			}
			p := env.start(t, o, args...)
			r, _ := p.wait(t, 60*time.Second)
			if r.code == 99 {
				t.Skipf("no tmpfs in a mount namespace here: %s", r.stderr)
			}
			r.wantCode(t, exitConfig)
			m := r.json(t)
			if e, _ := m["error"].(string); m["kind"] != "config" || !strings.Contains(e, dir) || !strings.Contains(e, want) {
				t.Errorf("result %v, want config naming %s and saying %q", m, dir, want)
			}
			// The folder is what to fix, not another postcard.
			if h, _ := m["hint"].(string); !strings.Contains(h, "the disk is not full") || strings.Contains(h, "Another postcard") {
				t.Errorf("hint %q, want one about the folder and the disk", h)
			}
			if pw := env.storedPassword(t); pw != "" {
				t.Error("a password was left in the keychain for an account not saved")
			}
		})
	}
}
