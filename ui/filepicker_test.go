package ui

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// pickerTest is a filePicker shown on a test window, on a clock the test
// moves, with what done received. The test's goroutine is the picker's UI
// goroutine: what the picker hands to do waits in ui until settle runs it.
type pickerTest struct {
	t     *testing.T
	p     *filePicker
	win   fyne.Window
	clock time.Time
	got   [][]string
	ui    chan func()
}

// newPickerTest shows a picker on dir, made by makeTree.
func newPickerTest(t *testing.T, dir string) *pickerTest {
	t.Helper()
	test.NewTempApp(t)
	pt := &pickerTest{t: t, win: test.NewTempWindow(t, widget.NewLabel("compose")), ui: make(chan func(), 16)}
	pt.win.Resize(fyne.NewSize(800, 600))
	pt.p = showFilePicker(pt.win, dir, func(f func()) { pt.ui <- f }, func(paths []string) { pt.got = append(pt.got, paths) })
	pt.settle()
	// Well after the folder opened, so the first tap counts.
	pt.clock = time.Now().Add(time.Hour)
	pt.p.now = func() time.Time { return pt.clock }
	return pt
}

// settle runs what the picker's folder reads hand back, until none is
// left unanswered.
func (pt *pickerTest) settle() {
	pt.t.Helper()
	for pt.p.reading > 0 {
		select {
		case f := <-pt.ui:
			f()
		case <-time.After(10 * time.Second):
			pt.t.Fatal("a folder read did not come back")
		}
	}
}

// tap taps the row named name, a second after the last tap.
func (pt *pickerTest) tap(name string) {
	pt.t.Helper()
	pt.clock = pt.clock.Add(time.Second)
	pt.p.list.Select(pt.row(name))
	pt.settle()
}

func (pt *pickerTest) row(name string) widget.ListItemID {
	pt.t.Helper()
	for i, r := range pt.p.rows {
		if r.name == name {
			return i
		}
	}
	pt.t.Fatalf("no row %q in %s", name, pt.p.dir)
	return -1
}

func (pt *pickerTest) names() []string {
	var names []string
	for _, r := range pt.p.rows {
		names = append(names, r.name)
	}
	return names
}

// makeTree makes dir/A.txt, b.txt, .hidden, docs/c.txt, link -> docs,
// broken -> nowhere and a socket.
func makeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"b.txt", "A.txt", ".hidden", "docs/c.txt", "docs/d.txt"} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "docs"), filepath.Join(dir, "link")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	if l, err := net.Listen("unix", filepath.Join(dir, "sock")); err == nil {
		t.Cleanup(func() { l.Close() })
	}
	return dir
}

func TestFilePicker_ListsFoldersFirstWithoutHiddenOrSpecialFiles(t *testing.T) {
	dir := makeTree(t)
	pt := newPickerTest(t, dir)
	if want := []string{"docs", "link", "A.txt", "b.txt"}; !slices.Equal(pt.names(), want) {
		t.Errorf("rows %q, want %q", pt.names(), want)
	}
	if pt.p.folder.Text != dir {
		t.Errorf("folder shown %q, want %q", pt.p.folder.Text, dir)
	}
	if !pt.p.attach.Disabled() {
		t.Error("Attach is enabled with nothing ticked")
	}
	if pt.win.Canvas().Focused() != pt.p.list {
		t.Errorf("focus on %T, want the list", pt.win.Canvas().Focused())
	}
}

func TestFilePicker_TicksAcrossFoldersAttachedInOrder(t *testing.T) {
	dir := makeTree(t)
	pt := newPickerTest(t, dir)
	pt.tap("b.txt")
	pt.tap("A.txt")
	pt.tap("b.txt") // unticks
	pt.tap("b.txt")
	if got := pt.p.icon(pt.p.rows[pt.row("A.txt")]); got != theme.CheckButtonCheckedIcon() {
		t.Errorf("A.txt shows %v, want a ticked box", got.Name())
	}
	pt.tap("docs")
	if pt.p.dir != filepath.Join(dir, "docs") {
		t.Fatalf("in %s after tapping docs", pt.p.dir)
	}
	pt.tap("c.txt")
	if pt.p.status.Text != "3 files ticked" || pt.p.attach.Text != "Attach 3 files" || pt.p.attach.Disabled() {
		t.Errorf("status %q, button %q (disabled %v)", pt.p.status.Text, pt.p.attach.Text, pt.p.attach.Disabled())
	}
	test.Tap(pt.p.attach)
	want := []string{filepath.Join(dir, "A.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "docs", "c.txt")}
	if len(pt.got) != 1 || !slices.Equal(pt.got[0], want) {
		t.Errorf("done got %q, want [%q]", pt.got, want)
	}
	if pt.win.Canvas().Overlays().Top() != nil {
		t.Error("the picker is still shown after Attach")
	}
}

func TestFilePicker_SecondClickOfADoubleClickTicksNothing(t *testing.T) {
	pt := newPickerTest(t, makeTree(t))
	pt.tap("docs")
	// The second click lands at once on whatever row is now under it.
	pt.clock = pt.clock.Add(openGuard / 2)
	pt.p.list.Select(pt.row("c.txt"))
	if len(pt.p.chosen) != 0 {
		t.Fatalf("ticked %q by the double-click that opened the folder", pt.p.chosen)
	}
	pt.tap("c.txt")
	if len(pt.p.chosen) != 1 {
		t.Errorf("a tap after the guard ticked %q", pt.p.chosen)
	}
}

func TestFilePicker_Keys(t *testing.T) {
	key := func(pt *pickerTest, name fyne.KeyName) {
		pt.clock = pt.clock.Add(time.Second)
		pt.p.list.TypedKey(&fyne.KeyEvent{Name: name})
		pt.settle()
	}
	t.Run("space ticks, Return attaches", func(t *testing.T) {
		dir := makeTree(t)
		pt := newPickerTest(t, dir)
		key(pt, fyne.KeyReturn) // nothing ticked: nothing happens
		if len(pt.got) != 0 {
			t.Fatalf("Return with nothing ticked ended the picker: %q", pt.got)
		}
		for range pt.row("A.txt") {
			key(pt, fyne.KeyDown)
		}
		key(pt, fyne.KeySpace)
		key(pt, fyne.KeyReturn)
		if want := [][]string{{filepath.Join(dir, "A.txt")}}; len(pt.got) != 1 || !slices.Equal(pt.got[0], want[0]) {
			t.Errorf("done got %q, want %q", pt.got, want)
		}
	})
	t.Run("Escape cancels", func(t *testing.T) {
		pt := newPickerTest(t, makeTree(t))
		pt.tap("A.txt")
		key(pt, fyne.KeyEscape)
		key(pt, fyne.KeyEscape)
		if len(pt.got) != 1 || pt.got[0] != nil {
			t.Errorf("done got %q, want one nil", pt.got)
		}
	})
	t.Run("Backspace goes up", func(t *testing.T) {
		dir := makeTree(t)
		pt := newPickerTest(t, filepath.Join(dir, "docs"))
		key(pt, fyne.KeyBackspace)
		if pt.p.dir != dir {
			t.Errorf("in %s after Backspace, want %s", pt.p.dir, dir)
		}
	})
}

func TestFilePicker_Cancel(t *testing.T) {
	pt := newPickerTest(t, makeTree(t))
	pt.tap("A.txt")
	test.Tap(pt.p.cancel)
	if len(pt.got) != 1 || pt.got[0] != nil {
		t.Errorf("done got %q, want one nil", pt.got)
	}
}

func TestFilePicker_Up(t *testing.T) {
	dir := makeTree(t)
	pt := newPickerTest(t, filepath.Join(dir, "docs"))
	test.Tap(pt.p.up)
	pt.settle()
	if pt.p.dir != dir {
		t.Errorf("in %s after Up, want %s", pt.p.dir, dir)
	}
	if root := rootFolder(); root != "" {
		pt.p.open(root, nil)
		pt.settle()
		if !pt.p.up.Disabled() {
			t.Errorf("Up is enabled at %s", root)
		}
	}
}

func TestFilePicker_FolderGoneStaysAndSaysSo(t *testing.T) {
	dir := makeTree(t)
	pt := newPickerTest(t, dir)
	if err := os.RemoveAll(filepath.Join(dir, "docs")); err != nil {
		t.Fatal(err)
	}
	pt.tap("docs")
	if pt.p.dir != dir {
		t.Errorf("moved to %s", pt.p.dir)
	}
	if pt.p.status.Importance != widget.DangerImportance || pt.p.status.Text == "" {
		t.Errorf("status %q (%v), want the reason", pt.p.status.Text, pt.p.status.Importance)
	}
	pt.tap("A.txt")
	if pt.p.status.Text != "1 file ticked" {
		t.Errorf("status %q after a tick", pt.p.status.Text)
	}
}

func TestFilePicker_StartsInAnotherFolderIfStartIsGone(t *testing.T) {
	pt := newPickerTest(t, filepath.Join(t.TempDir(), "gone"))
	if pt.p.dir != rootFolder() {
		t.Errorf("in %q, want %q", pt.p.dir, rootFolder())
	}
}

// A folder that takes long to read does not stop the window: open returns
// at once, the folder shown stays with a word on what is being opened, and
// the answer of a read asked before another is dropped.
func TestFilePicker_SlowFolderDoesNotStopTheWindow(t *testing.T) {
	dir := makeTree(t)
	pt := newPickerTest(t, dir)
	release := make(chan struct{})
	slow := filepath.Join(dir, "docs")
	pt.p.read = func(d string) ([]pickerRow, error) {
		if d == slow {
			<-release
		}
		return readFolder(d)
	}
	pt.p.open(slow, nil) // a hung network folder, say
	if pt.p.dir != dir || pt.p.status.Text != "Opening "+slow+"…" {
		t.Fatalf("while reading: in %s, status %q", pt.p.dir, pt.p.status.Text)
	}
	pt.clock = pt.clock.Add(time.Second) // the window still answers
	pt.p.list.Select(pt.row("A.txt"))
	if len(pt.p.chosen) != 1 {
		t.Fatalf("ticked %q while a folder was read", pt.p.chosen)
	}
	if want := "Opening " + slow + "… · 1 file ticked"; pt.p.status.Text != want {
		t.Errorf("status %q, want %q", pt.p.status.Text, want)
	}
	// Up while the folder is read goes up from it, not from the one shown.
	pt.p.key(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if pt.p.target != dir {
		t.Errorf("Backspace while %s is read asks for %s, want %s", slow, pt.p.target, dir)
	}
	// The user goes elsewhere before the slow folder answers.
	other := filepath.Join(dir, "link")
	pt.p.open(other, nil)
	close(release)
	pt.settle()
	if pt.p.dir != other {
		t.Errorf("in %s, want %s: the slow folder's late answer was shown", pt.p.dir, other)
	}
}
