package ui

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/godbus/dbus/v5"
)

// within bounds every wait of these tests, so that a bug fails them
// instead of hanging them.
const within = 10 * time.Second

func TestChooseFiles_NoSessionBusShowsPicker(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	test.NewTempApp(t)
	win := test.NewTempWindow(t, widget.NewLabel("compose"))
	win.Resize(fyne.NewSize(800, 600))

	var got [][]string
	// The picker's folder read comes back through do: left waiting, as
	// this test is about the picker being shown and answered.
	ui := make(chan func(), 4)
	chooseFiles(win, func(f func()) { ui <- f }, func(paths []string) { got = append(got, paths) })
	if win.Canvas().Overlays().Top() == nil {
		t.Fatal("no dialog shown on the window")
	}
	list, ok := win.Canvas().Focused().(*pickerList)
	if !ok {
		t.Fatalf("focus is on %T, want the picker's list", win.Canvas().Focused())
	}
	if len(got) != 0 {
		t.Fatalf("done ran before the user answered: %v", got)
	}
	list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(got) != 1 || got[0] != nil {
		t.Errorf("done got %v after Escape, want one nil", got)
	}
	if win.Canvas().Overlays().Top() != nil {
		t.Error("the dialog is still shown after Escape")
	}
}

func TestChooseFiles_Portal(t *testing.T) {
	bus := startBus(t)
	fp := startFakePortal(t, bus, nil)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	test.NewTempApp(t)
	win := test.NewTempWindow(t, widget.NewLabel("compose"))

	got := make(chan []string, 1)
	chooseFiles(win, func(f func()) { f() }, func(paths []string) { got <- paths })
	call := fp.nextCall(t)
	if win.Canvas().Overlays().Top() != nil {
		t.Error("Postcard's picker is shown as well as the desktop's")
	}
	fp.respond(t, call, 0, "file:///home/ann/a.pdf", "file:///home/ann/b.pdf")
	select {
	case paths := <-got:
		if want := []string{"/home/ann/a.pdf", "/home/ann/b.pdf"}; !slices.Equal(paths, want) {
			t.Errorf("done got %q, want %q", paths, want)
		}
	case <-time.After(within):
		t.Fatal("done never ran")
	}
}

func TestChooseFiles_NoPortalOnTheBusShowsPicker(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t))
	test.NewTempApp(t)
	win := test.NewTempWindow(t, widget.NewLabel("compose"))

	shown := make(chan bool, 1)
	var first sync.Once
	chooseFiles(win, func(f func()) {
		// The portal's failure; then the picker's folder read, left out.
		first.Do(func() {
			f()
			shown <- win.Canvas().Overlays().Top() != nil
		})
	}, func([]string) { t.Error("done ran without an answer") })
	select {
	case ok := <-shown:
		if !ok {
			t.Error("no dialog shown after the portal failed")
		}
	case <-time.After(within):
		t.Fatal("chooseFiles never came back to the UI goroutine")
	}
}

func TestPortalOpenFiles_Answers(t *testing.T) {
	bus := startBus(t)
	fp := startFakePortal(t, bus, nil)
	for _, tc := range []struct {
		name    string
		status  uint32
		uris    []string
		want    []string
		wantErr string
	}{
		{name: "two files", uris: []string{"file:///home/ann/a%20b.pdf", "file:///home/ann/c+d%2B.txt"},
			want: []string{"/home/ann/a b.pdf", "/home/ann/c+d+.txt"}},
		{name: "cancelled", status: 1},
		{name: "closed", status: 2}, // Escape in xdg-desktop-portal-gtk
		{name: "unknown status", status: 3, wantErr: "status 3"},
		{name: "not a local file", uris: []string{"sftp://host/a.pdf"}, wantErr: "not a local file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := openFilesAsync(context.Background(), bus, "x11:2a", within)
			call := fp.nextCall(t)
			if call.parent != "x11:2a" || call.title != "Attach files" {
				t.Errorf("parent %q, title %q", call.parent, call.title)
			}
			for _, opt := range []string{"multiple", "modal"} {
				if v, _ := call.options[opt].Value().(bool); !v {
					t.Errorf("option %s = %v, want true", opt, call.options[opt])
				}
			}
			if token, _ := call.options["handle_token"].Value().(string); call.handle != requestPath(string(call.sender), token) {
				t.Errorf("handle_token %q does not name the request", token)
			}
			// An answer to another request must not be taken for this one's.
			fp.respondAt(t, call.sender, call.handle+"_other", 0, "file:///etc/passwd")
			fp.respond(t, call, tc.status, tc.uris...)
			r := res.wait(t)
			if tc.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one about %q", r.err, tc.wantErr)
				}
				return
			}
			if r.err != nil || !slices.Equal(r.paths, tc.want) {
				t.Errorf("got %q, %v; want %q", r.paths, r.err, tc.want)
			}
		})
	}
}

func TestPortalOpenFiles_OldPortalIgnoresToken(t *testing.T) {
	bus := startBus(t)
	fp := startFakePortal(t, bus, &fakePortal{ownHandles: true})
	res := openFilesAsync(context.Background(), bus, "", within)
	call := fp.nextCall(t)
	fp.respond(t, call, 0, "file:///tmp/x")
	if r := res.wait(t); r.err != nil || !slices.Equal(r.paths, []string{"/tmp/x"}) {
		t.Errorf("got %q, %v", r.paths, r.err)
	}
}

func TestPortalOpenFiles_Failures(t *testing.T) {
	t.Run("no portal", func(t *testing.T) {
		bus := startBus(t)
		r := openFilesAsync(context.Background(), bus, "", within).wait(t)
		if r.err == nil {
			t.Fatal("no error from a bus without a portal")
		}
	})
	t.Run("no bus", func(t *testing.T) {
		r := openFilesAsync(context.Background(), "unix:path="+filepath.Join(t.TempDir(), "none"), "", within).wait(t)
		if r.err == nil {
			t.Fatal("no error without a bus")
		}
	})
	t.Run("the portal does not answer", func(t *testing.T) {
		bus := startBus(t)
		hang := make(chan struct{})
		startFakePortal(t, bus, &fakePortal{hang: hang})
		t.Cleanup(func() { close(hang) })
		start := time.Now()
		res := openFilesAsync(context.Background(), bus, "", 200*time.Millisecond)
		r := res.wait(t)
		if r.err == nil || !strings.Contains(r.err.Error(), "did not answer within 200ms") {
			t.Errorf("error %v, want one saying the portal did not answer", r.err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("gave up after %v", d)
		}
	})
	t.Run("the portal quits", func(t *testing.T) {
		bus := startBus(t)
		fp := startFakePortal(t, bus, nil)
		res := openFilesAsync(context.Background(), bus, "", within)
		fp.nextCall(t)
		// Closed right after the call: the reply may or may not have left.
		fp.conn.Close()
		r := res.wait(t)
		if r.err == nil || !strings.Contains(r.err.Error(), "quit") {
			t.Errorf("error %v, want one saying the portal quit", r.err)
		}
	})
	t.Run("the portal quits before replying", func(t *testing.T) {
		bus := startBus(t)
		quit := make(chan struct{})
		fp := startFakePortal(t, bus, &fakePortal{hang: quit})
		res := openFilesAsync(context.Background(), bus, "", within)
		fp.nextCall(t)
		fp.conn.Close()
		close(quit)
		r := res.wait(t)
		if r.err == nil || !strings.Contains(r.err.Error(), "quit") {
			t.Errorf("error %v, want one saying the portal quit", r.err)
		}
	})
	t.Run("cancelled by the caller", func(t *testing.T) {
		bus := startBus(t)
		fp := startFakePortal(t, bus, nil)
		ctx, cancel := context.WithCancel(context.Background())
		res := openFilesAsync(ctx, bus, "", within)
		call := fp.nextCall(t)
		cancel()
		r := res.wait(t)
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", r.err)
		}
		select {
		case closed := <-fp.closed:
			if closed != call.handle {
				t.Errorf("closed %s, want %s", closed, call.handle)
			}
		case <-time.After(within):
			t.Error("the portal's dialog was not closed")
		}
	})
}

type openResult struct {
	paths []string
	err   error
}

type pendingOpen chan openResult

func openFilesAsync(ctx context.Context, bus, parent string, answerWithin time.Duration) pendingOpen {
	res := make(pendingOpen, 1)
	go func() {
		paths, err := portalOpenFiles(ctx, bus, parent, answerWithin)
		res <- openResult{paths, err}
	}()
	return res
}

func (p pendingOpen) wait(t *testing.T) openResult {
	t.Helper()
	select {
	case r := <-p:
		return r
	case <-time.After(within):
		t.Fatal("portalOpenFiles never returned")
		return openResult{}
	}
}

// startBus starts a private D-Bus bus daemon that starts no services of
// its own (so never the real portal) and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed (Debian package dbus)")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(config, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+config, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	address, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(address)
}

// fakePortal owns org.freedesktop.portal.Desktop on a test bus and
// implements FileChooser.OpenFile and Request.Close as the real portal
// does, answering when the test says so.
type fakePortal struct {
	conn       *dbus.Conn
	calls      chan portalCall
	closed     chan dbus.ObjectPath
	hang       chan struct{} // if set, OpenFile answers only once it is closed
	ownHandles bool          // ignore handle_token, as portals before 0.9 did
}

// portalCall is one call of OpenFile.
type portalCall struct {
	sender        dbus.Sender
	parent, title string
	options       map[string]dbus.Variant
	handle        dbus.ObjectPath
}

// startFakePortal starts a fakePortal on bus, with fp's hang and
// ownHandles if fp is not nil.
func startFakePortal(t *testing.T, bus string, fp *fakePortal) *fakePortal {
	t.Helper()
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if fp == nil {
		fp = &fakePortal{}
	}
	fp.conn, fp.calls, fp.closed = conn, make(chan portalCall, 4), make(chan dbus.ObjectPath, 4)
	if err := conn.Export(fakeFileChooser{fp}, portalPath, "org.freedesktop.portal.FileChooser"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(portalName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v, %v", portalName, reply, err)
	}
	return fp
}

type fakeFileChooser struct{ fp *fakePortal }

func (f fakeFileChooser) OpenFile(sender dbus.Sender, parent, title string, options map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	if f.fp.hang != nil {
		f.fp.calls <- portalCall{sender: sender}
		<-f.fp.hang
		return "", dbus.MakeFailedError(errors.New("too late"))
	}
	token, _ := options["handle_token"].Value().(string)
	if f.fp.ownHandles {
		token = "old_portal_1"
	}
	handle := requestPath(string(sender), token)
	if err := f.fp.conn.Export(fakeRequest{f.fp, handle}, handle, portalRequest); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	f.fp.calls <- portalCall{sender: sender, parent: parent, title: title, options: options, handle: handle}
	return handle, nil
}

type fakeRequest struct {
	fp     *fakePortal
	handle dbus.ObjectPath
}

func (r fakeRequest) Close() *dbus.Error {
	r.fp.closed <- r.handle
	return nil
}

func (fp *fakePortal) nextCall(t *testing.T) portalCall {
	t.Helper()
	select {
	case c := <-fp.calls:
		return c
	case <-time.After(within):
		t.Fatal("the portal was never asked")
		return portalCall{}
	}
}

func (fp *fakePortal) respond(t *testing.T, c portalCall, status uint32, uris ...string) {
	t.Helper()
	fp.respondAt(t, c.sender, c.handle, status, uris...)
}

// respondAt sends a Response signal to sender alone, as the real portal
// does, so it arrives whatever the sender's match rules.
func (fp *fakePortal) respondAt(t *testing.T, sender dbus.Sender, handle dbus.ObjectPath, status uint32, uris ...string) {
	t.Helper()
	results := map[string]dbus.Variant{}
	if uris != nil {
		results["uris"] = dbus.MakeVariant(uris)
	}
	msg := &dbus.Message{
		Type: dbus.TypeSignal,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath:        dbus.MakeVariant(handle),
			dbus.FieldInterface:   dbus.MakeVariant(portalRequest),
			dbus.FieldMember:      dbus.MakeVariant("Response"),
			dbus.FieldDestination: dbus.MakeVariant(string(sender)),
			dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf(status, results)),
		},
		Body: []any{status, results},
	}
	if call := fp.conn.Send(msg, nil); call.Err != nil {
		t.Fatal(call.Err)
	}
}
