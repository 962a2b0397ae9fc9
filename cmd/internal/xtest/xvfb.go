// Package xtest runs programs on a private Xvfb and drives them as a user
// would, for the window's end-to-end test and the benchmark: it starts the
// server, binds keysyms for the characters to be typed, finds and waits for
// windows, focuses them, types with xdotool and takes screenshots with
// ImageMagick's import.
//
// What driving a GLFW window with xdotool under Xvfb takes, found by trying:
//
//   - Keys go through XTEST to the window that has the input focus: focus
//     the window (Focus, a plain XSetInputFocus) and type without --window.
//     windowactivate needs a window manager, and there is none. (--window,
//     that is XSendEvent, happens to work with GLFW as well, but XTEST is
//     what a real keyboard looks like.)
//   - xdotool types a character the keymap lacks (é, ✓) by binding it to a
//     spare keycode, pressing that and unbinding it straight away. The app
//     looks the keycode up when it gets to the event, in whatever mapping
//     holds by then: é arrived as ✓, or not at all, depending on timing. So
//     before the app starts, each non-ASCII character to be typed gets a
//     keycode of its own (Server.BindKeysyms), and xdotool then presses
//     those like any other key.
//   - Xvfb runs with -noreset: by default it resets, keymap included, each
//     time its last client disconnects, which undid that binding.
//   - xdotool and the app run in a UTF-8 locale (UTF8Locale): in the C
//     locale xdotool refuses "✓" ("Invalid multi-byte sequence"), and GLFW's
//     text input needs one for anything outside ASCII.
//   - Polling `xdotool search` is a poor clock: every run is a new X client,
//     and Xvfb takes about 24 ms to accept a client that connects right
//     after another one left. To time a window's appearance, keep one
//     connection open and wait for its MapNotify (Conn.WaitMapped).
package xtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// UTF8Locale is a UTF-8 locale that glibc (2.35 and later) always has.
const UTF8Locale = "C.UTF-8"

// Server is a private Xvfb on a display of its own.
type Server struct {
	Num     int    // the display number
	Display string // ":Num", for DISPLAY

	cmd    *exec.Cmd
	stderr bytes.Buffer  // read only once done is closed
	done   chan struct{} // closed when Xvfb has exited
}

// Start starts Xvfb (1280×800, 24 bits, -noreset) on the first free
// display from first to last and returns once it accepts connections. A
// display is free when it has neither a lock file nor a socket and Xvfb
// then starts on it (it takes the lock itself, so two callers cannot share
// one). Stop it with Stop.
func Start(first, last int) (*Server, error) {
	var errs []string
	for n := first; n <= last; n++ {
		if exists(fmt.Sprintf("/tmp/.X%d-lock", n)) || exists(fmt.Sprintf("/tmp/.X11-unix/X%d", n)) {
			continue // another server's
		}
		s, err := tryStart(n)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err.Error())
	}
	if len(errs) == 0 {
		errs = append(errs, "all are taken")
	}
	return nil, fmt.Errorf("no display from :%d to :%d could be started:\n%s", first, last, strings.Join(errs, "\n"))
}

// tryStart starts Xvfb on display n. Xvfb writes the display number to the
// -displayfd pipe once it accepts connections, or exits (the display is
// taken, say), which closes the pipe: both are waited for, nothing is
// polled.
func tryStart(n int) (*Server, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &Server{Num: n, Display: ":" + strconv.Itoa(n), done: make(chan struct{})}
	// -noreset keeps the keymap BindKeysyms sets (see the package comment).
	s.cmd = exec.Command("Xvfb", s.Display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset", "-displayfd", "3")
	s.cmd.ExtraFiles = []*os.File{w}
	s.cmd.Stderr = &s.stderr
	err = s.cmd.Start()
	w.Close()
	if err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := r.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		s.Stop()
		return nil, err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err == nil && strings.TrimSpace(line) == strconv.Itoa(n) {
		return s, nil
	}
	s.Stop()
	return nil, fmt.Errorf("Xvfb %s: %q, %v; stderr:\n%s", s.Display, line, err, lastLines(s.stderr.String(), 5))
}

// Stop ends Xvfb: SIGTERM, then SIGKILL after 5 seconds. It says whether
// Xvfb had to be killed.
func (s *Server) Stop() (killed bool) {
	return StopProcess(s.cmd.Process, s.done, 5*time.Second)
}

// StopProcess ends a process: SIGTERM, then SIGKILL if it is still running
// after grace. done must be closed once Wait has returned; StopProcess
// returns after that, and says whether the process had to be killed.
func StopProcess(p *os.Process, done <-chan struct{}, grace time.Duration) (killed bool) {
	select {
	case <-done:
		return false
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return false
	case <-time.After(grace):
	}
	_ = p.Kill()
	<-done
	return true
}

// Dial opens a protocol connection to the server (see Conn).
func (s *Server) Dial() (*Conn, error) { return Dial(s.Num) }

// BindKeysyms gives each character of text outside ASCII a keycode of its
// own, so that xdotool can type it reliably, and says which (see
// Conn.BindKeysyms). Call it before the program to be typed into starts.
func (s *Server) BindKeysyms(text string) (bound string, err error) {
	c, err := s.Dial()
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.BindKeysyms(text)
}

// Command runs an X client on the display, for at most limit, in a UTF-8
// locale with nothing else of this process's environment but PATH, and
// returns its standard output. The client is also stopped when abort, if
// not nil, is closed.
func (s *Server) Command(limit time.Duration, abort <-chan struct{}, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if abort != nil {
		go func() {
			select {
			case <-abort:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// xdotool type reads its text as multi-byte characters of the locale.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DISPLAY=" + s.Display, "LC_ALL=" + UTF8Locale}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// CommandLimit bounds each xdotool run but the waiting ones and typing.
const CommandLimit = 20 * time.Second

// WaitWindow waits, for at most limit, until windows titled exactly title
// are visible, and returns their ids. It gives up early when abort, if not
// nil, is closed (the program that should open the window ended).
func (s *Server) WaitWindow(title string, limit time.Duration, abort <-chan struct{}) ([]string, error) {
	out, err := s.Command(limit, abort, "xdotool", "search", "--sync", "--onlyvisible", "--name", TitlePattern(title))
	return strings.Fields(out), err
}

// FindWindows returns the ids of the visible windows titled exactly title,
// now: none is not an error.
func (s *Server) FindWindows(title string) ([]string, error) {
	out, err := s.Command(CommandLimit, nil, "xdotool", "search", "--onlyvisible", "--name", TitlePattern(title))
	var ee *exec.ExitError
	if errors.As(err, &ee) && strings.TrimSpace(out) == "" {
		return nil, nil // xdotool search exits 1 when it finds nothing
	}
	return strings.Fields(out), err
}

// TitlePattern is the xdotool search pattern that matches title exactly.
func TitlePattern(title string) string {
	return "^" + regexp.QuoteMeta(title) + "$"
}

// Focus gives window win the input focus, which Type and Key type into.
func (s *Server) Focus(win string) error {
	_, err := s.Command(CommandLimit, nil, "xdotool", "windowfocus", "--sync", win)
	return err
}

// Type types text on the keyboard into the focused window, 20 ms a key.
func (s *Server) Type(text string) error {
	_, err := s.Command(CommandLimit, nil, "xdotool", "type", "--delay", "20", "--", text)
	return err
}

// Key presses key (an X keysym name, or a combination such as
// ctrl+Return) in the focused window.
func (s *Server) Key(key string) error {
	_, err := s.Command(CommandLimit, nil, "xdotool", "key", "--delay", "20", key)
	return err
}

// Screenshot saves window win as a PNG at path.
func (s *Server) Screenshot(win, path string) error {
	// -strip leaves out ImageMagick's time stamps.
	_, err := s.Command(CommandLimit, nil, "import", "-window", win, "-strip", path)
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
