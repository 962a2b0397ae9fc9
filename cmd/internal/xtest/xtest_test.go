package xtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTitlePattern(t *testing.T) {
	if got, want := TitlePattern("Postcard (1.0)"), `^Postcard \(1\.0\)$`; got != want {
		t.Errorf("TitlePattern = %q, want %q", got, want)
	}
}

// TestServer drives xlogo (from x11-apps, which make deps installs) on a
// private Xvfb through everything the window test and the benchmark use.
// Like the window test it runs under make test (POSTCARD_TEST_KEYRING=1),
// and then fails, rather than skips, when a tool is missing.
func TestServer(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import", "xlogo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("POSTCARD_TEST_KEYRING") != "1" {
				t.Skipf("needs %s (make test runs this test)", tool)
			}
			t.Fatalf("needs %s: install xvfb, xdotool, imagemagick and x11-apps (make deps does)", tool)
		}
	}
	s, err := Start(121, 150)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Stop() {
			t.Errorf("Xvfb %s ignored SIGTERM and was killed", s.Display)
		}
	})

	bound, err := s.BindKeysyms("plain ASCII, déjà vu ✓")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(bound); len(got) != 3 || !strings.HasPrefix(got[0], "é=") ||
		!strings.HasPrefix(got[1], "à=") || !strings.HasPrefix(got[2], "✓=") {
		t.Errorf("BindKeysyms bound %q, want é, à and ✓ once each", bound)
	}
	// The binding outlives the connection that made it (-noreset).
	bound2, err := s.BindKeysyms("é")
	if err != nil {
		t.Fatal(err)
	}
	if bound2 == strings.Fields(bound)[0] {
		t.Errorf("é bound again to the same keycode (%s): the first binding was lost", bound2)
	}

	x, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.WatchMaps(); err != nil {
		t.Fatal(err)
	}
	const title = "xtest (logo)" // with characters special in a pattern
	cmd := exec.Command("xlogo", "-title", title, "-geometry", "200x150")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DISPLAY=" + s.Display}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		StopProcess(cmd.Process, done, 5*time.Second)
		if t.Failed() {
			t.Logf("xlogo said: %s", out.String())
		}
	}()

	m, err := x.WaitMapped(title, done, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if w, h, err := x.Geometry(m.Window); err != nil || w != 200 || h != 150 {
		t.Errorf("Geometry = %d×%d, %v; want 200×150", w, h, err)
	}
	win := strconv.FormatUint(uint64(m.Window), 10)
	ids, err := s.WaitWindow(title, 20*time.Second, done)
	if err != nil || len(ids) != 1 || ids[0] != win {
		t.Errorf("WaitWindow = %q, %v; want [%s]", ids, err, win)
	}
	if ids, err := s.FindWindows(title); err != nil || len(ids) != 1 || ids[0] != win {
		t.Errorf("FindWindows = %q, %v; want [%s]", ids, err, win)
	}
	if ids, err := s.FindWindows("no such window"); err != nil || len(ids) != 0 {
		t.Errorf("FindWindows of a missing window = %q, %v; want none and no error", ids, err)
	}
	if err := s.Focus(win); err != nil {
		t.Error(err)
	}
	shot := filepath.Join(t.TempDir(), "logo.png")
	if err := s.Screenshot(win, shot); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n")) {
		t.Errorf("the screenshot is not a PNG file (%v)", err)
	}
}
