package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"github.com/godbus/dbus/v5"
)

// portalAnswerWithin bounds how long the portal may take to accept the
// request. Only the request: once it is accepted the dialog is the user's
// and may stay open as long as they like.
const portalAnswerWithin = 5 * time.Second

// chooseFiles asks the user for files to attach, several at a time: with
// the desktop's own file chooser where there is one (the XDG desktop
// portal, over D-Bus), otherwise with filePicker on win, which is also
// shown when the portal fails or does not answer within
// portalAnswerWithin. It is called on the UI goroutine and returns at
// once: the portal is asked on a goroutine of its own, whose answer comes
// back through do. done runs later on the UI goroutine with the chosen
// paths, or nil when the user cancelled.
func chooseFiles(win fyne.Window, do func(func()), done func(paths []string)) {
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" || runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		// No session bus, no portal. (godbus's own search for a bus would
		// start one with dbus-launch and leave it running.)
		showFilePicker(win, "", do, done)
		return
	}
	parent := portalParent(win)
	go func() {
		paths, err := portalOpenFiles(context.Background(), bus, parent, portalAnswerWithin)
		do(func() {
			if err != nil {
				fyne.LogError("the desktop's file chooser, using Postcard's", err)
				showFilePicker(win, "", do, done)
				return
			}
			done(paths)
		})
	}()
}

// portalParent is the portal's name for win, so that its dialog sits on
// top of win: "x11:" and the window id in hex on X11. On Wayland the
// handle would need the xdg-foreign protocol, which neither Fyne nor GLFW
// exposes, so it stays empty and the dialog is not tied to the window.
func portalParent(win fyne.Window) string {
	native, ok := win.(driver.NativeWindow)
	if !ok {
		return ""
	}
	var parent string
	native.RunNative(func(c any) {
		if x11, ok := c.(driver.X11WindowContext); ok && x11.WindowHandle != 0 {
			parent = "x11:" + strconv.FormatUint(uint64(x11.WindowHandle), 16)
		}
	})
	return parent
}

const (
	portalName      = "org.freedesktop.portal.Desktop"
	portalPath      = "/org/freedesktop/portal/desktop"
	portalOpenFile  = "org.freedesktop.portal.FileChooser.OpenFile"
	portalRequest   = "org.freedesktop.portal.Request"
	portalResponse  = portalRequest + ".Response"
	busOwnerChanged = "org.freedesktop.DBus.NameOwnerChanged"
)

// portalOpenFiles shows the portal's file chooser with several files
// allowed and waits for the user's answer: the paths chosen, or nil when
// they cancelled. It fails when the bus at address has no portal, when
// the portal does not accept the request within answerWithin, and when
// the portal goes away before answering. Cancelling ctx closes the dialog.
//
// It talks to the bus itself rather than through rymdport/portal's
// filechooser.OpenFile (v0.4.2), whose call cannot be bounded, which takes
// the first signal of any kind on Fyne's shared connection as the answer
// (Fyne's own theme watcher receives signals there), never unsubscribes,
// and unescapes the URIs as a query, turning "+" into a space.
func portalOpenFiles(ctx context.Context, address, parent string, answerWithin time.Duration) ([]string, error) {
	// The connection lives until the answer (or ctx's end) so that the
	// dialog can still be closed; closing it ends every call on it. Until
	// the portal has accepted the request, a timer closes it too.
	life, closeConn := context.WithCancel(context.Background())
	defer closeConn()
	accepted := time.AfterFunc(answerWithin, closeConn)
	defer accepted.Stop()
	unanswered := func(err error) error {
		if !accepted.Stop() {
			return fmt.Errorf("the portal did not answer within %v", answerWithin)
		}
		return err
	}
	// A private connection: the signals it gets are this request's alone,
	// and closing it leaves nothing behind.
	conn, err := dbus.Connect(address, dbus.WithContext(life))
	if err != nil {
		return nil, unanswered(fmt.Errorf("connecting to the session bus: %w", err))
	}
	defer conn.Close()

	token, err := portalToken()
	if err != nil {
		return nil, err
	}
	handle := requestPath(conn.Names()[0], token)
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	// Subscribe before asking, as the portal's documentation says, so
	// that no answer can come before anyone listens.
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchObjectPath(handle),
		dbus.WithMatchInterface(portalRequest), dbus.WithMatchMember("Response")); err != nil {
		return nil, unanswered(err)
	}
	// If the portal dies or the session ends, no answer will ever come.
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, portalName)); err != nil {
		return nil, unanswered(err)
	}

	options := map[string]dbus.Variant{
		"handle_token": dbus.MakeVariant(token),
		"multiple":     dbus.MakeVariant(true),
		"modal":        dbus.MakeVariant(true),
		"accept_label": dbus.MakeVariant("_Attach"),
	}
	var got dbus.ObjectPath
	err = conn.Object(portalName, portalPath).CallWithContext(ctx, portalOpenFile, 0, parent, "Attach files", options).Store(&got)
	if err != nil {
		if isNoReply(err) {
			return nil, unanswered(errPortalQuit)
		}
		if ctx.Err() != nil {
			// The portal may have opened the dialog all the same.
			closeRequest(conn, handle)
		}
		return nil, unanswered(err)
	}
	if !accepted.Stop() {
		return nil, unanswered(nil)
	}
	if got != handle {
		// A portal older than 0.9 ignores handle_token and picks its own.
		handle = got
		if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchObjectPath(handle),
			dbus.WithMatchInterface(portalRequest), dbus.WithMatchMember("Response")); err != nil {
			closeRequest(conn, handle)
			return nil, err
		}
	}

	for {
		select {
		case <-ctx.Done():
			closeRequest(conn, handle)
			return nil, ctx.Err()
		case s, ok := <-signals:
			if !ok {
				return nil, errors.New("the session bus closed the connection")
			}
			switch {
			case s.Name == portalResponse && s.Path == handle:
				return portalPaths(s.Body)
			case s.Name == busOwnerChanged && len(s.Body) == 3 && s.Body[0] == portalName && s.Body[2] == "":
				return nil, errPortalQuit
			}
		}
	}
}

var errPortalQuit = errors.New("the portal quit before answering")

// isNoReply reports whether err is the bus saying that the portal went away
// without replying to the call.
func isNoReply(err error) bool {
	const noReply = "org.freedesktop.DBus.Error.NoReply"
	var de dbus.Error
	var dp *dbus.Error
	return errors.As(err, &de) && de.Name == noReply || errors.As(err, &dp) && dp != nil && dp.Name == noReply
}

// closeRequest asks the portal to close the dialog of the request at
// handle; the connection may be closing already, so it is best effort.
func closeRequest(conn *dbus.Conn, handle dbus.ObjectPath) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Object(portalName, handle).CallWithContext(ctx, portalRequest+".Close", 0)
}

// requestPath is where the portal puts the request made by the
// connection named sender with token.
func requestPath(sender, token string) dbus.ObjectPath {
	sender = strings.ReplaceAll(strings.TrimPrefix(sender, ":"), ".", "_")
	return dbus.ObjectPath(portalPath + "/request/" + sender + "/" + token)
}

func portalToken() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "postcard_" + hex.EncodeToString(b[:]), nil
}

// portalPaths reads the body of a Response signal (a status and a map of
// results): the local paths of the files chosen, nil if the user
// cancelled or closed the dialog.
func portalPaths(body []any) ([]string, error) {
	if len(body) != 2 {
		return nil, fmt.Errorf("the portal answered %d values, want 2", len(body))
	}
	status, ok := body[0].(uint32)
	if !ok {
		return nil, fmt.Errorf("the portal answered a status of type %T", body[0])
	}
	switch status {
	case 0:
	case 1, 2:
		// 2 is "ended some other way": xdg-desktop-portal-gtk answers it
		// when the dialog is closed with Escape or by its window's close
		// button, so it is the user's cancel too.
		return nil, nil
	default:
		return nil, fmt.Errorf("the file chooser ended without an answer (status %d)", status)
	}
	results, _ := body[1].(map[string]dbus.Variant)
	var uris []string
	if v, ok := results["uris"]; ok {
		if err := v.Store(&uris); err != nil {
			return nil, fmt.Errorf("the portal's uris: %w", err)
		}
	}
	var paths []string
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "file" || u.Path == "" {
			return nil, fmt.Errorf("the portal chose %q, which is not a local file", s)
		}
		paths = append(paths, u.Path)
	}
	return paths, nil
}
